//! The routing policy: the `[policy]` section of `config/router.toml`, as serde types.
//!
//! Every table denies unknown keys, so a misspelt option is an error rather than a silently
//! ignored line. Values that serde cannot check on its own (ranges, orderings, cross references
//! to queues, skills and languages) are checked by [`RoutingPolicy::validate`] and
//! [`RoutingPolicy::validate_against`], which return every problem as a
//! `(dotted.field.path, message)` pair so the TOML loader can point at the offending line.
//!
//! Durations are written in seconds (fractions allowed) because that is how people think about
//! them; the core converts them once to whole milliseconds.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Channel, Language, Skill};

use super::protocol::Tier;
use super::Catalog;

/// How the core picks one agent among several eligible ones with free capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    /// The agent whose load or state changed longest ago (a classic "longest available").
    #[default]
    LongestIdle,
    /// The agent using the smallest share of its capacity, then longest idle.
    LeastOccupied,
    /// The agent with the highest proficiency in the required skill, then longest idle.
    HighestProficiency,
    /// The highest `idle_per_minute × idle minutes + free_capacity × free share +
    /// proficiency × level`, then longest idle.
    Weighted,
}

/// Weights of the `weighted` selection rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionWeights {
    pub idle_per_minute: f64,
    pub free_capacity: f64,
    pub proficiency: f64,
}

impl Default for SelectionWeights {
    fn default() -> Self {
        SelectionWeights {
            idle_per_minute: 1.0,
            free_capacity: 1.0,
            proficiency: 1.0,
        }
    }
}

/// What "urgency" means when ordering waiting contacts of the same priority class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Urgency {
    /// Age as a share of the queue's answer target: 60 s into a 90 s target beats 15 s into a
    /// 20 s target. Contacts of queues with equal targets are served oldest first.
    #[default]
    Sla,
    /// Plain age: oldest first across all queues.
    Age,
}

/// Order of waiting contacts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderingPolicy {
    pub urgency: Urgency,
    /// A waiting contact climbs one priority class every this many seconds, so low classes do
    /// not starve behind a steady stream of high ones; 0 turns aging off.
    pub priority_aging_seconds: f64,
}

impl Default for OrderingPolicy {
    fn default() -> Self {
        OrderingPolicy {
            urgency: Urgency::Sla,
            priority_aging_seconds: 0.0,
        }
    }
}

/// One bullseye ring: after a contact has waited `after_seconds`, agents matching this step
/// become eligible as well (until `expires_after_seconds`, if set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaxationStep {
    pub after_seconds: f64,
    /// Age at which this step's widening is withdrawn again; absent means never.
    #[serde(default)]
    pub expires_after_seconds: Option<f64>,
    /// Lowest proficiency accepted by this step; absent means the queue's base minimum.
    #[serde(default)]
    pub min_proficiency: Option<u8>,
    /// Overflow skills whose holders become eligible; empty means the queue's own skill.
    #[serde(default)]
    pub skills: Vec<Skill>,
    /// Fallback languages (e.g. English with translation support for a Japanese chat); empty
    /// means the contact's own language. Language is otherwise a hard requirement.
    #[serde(default)]
    pub languages: Vec<Language>,
}

/// A number per channel. Unset channels keep the default of the table they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PerChannel<T> {
    pub phone: Option<T>,
    pub chat: Option<T>,
    pub email: Option<T>,
    pub social: Option<T>,
    pub in_person: Option<T>,
}

impl<T: Copy> PerChannel<T> {
    pub fn get(&self, channel: Channel) -> Option<T> {
        match channel {
            Channel::Phone => self.phone,
            Channel::Chat => self.chat,
            Channel::Email => self.email,
            Channel::Social => self.social,
            Channel::InPerson => self.in_person,
        }
    }
}

/// Built-in capacity units a contact of each channel takes.
pub const DEFAULT_UNIT_COST: [u32; 5] = [6, 2, 3, 2, 6];
/// Built-in most contacts of each channel an agent holds at once.
pub const DEFAULT_MAX_PER_CHANNEL: [u32; 5] = [1, 3, 2, 3, 1];
/// Built-in wrap-up seconds after a contact of each channel.
pub const DEFAULT_WRAP_UP_SECONDS: [f64; 5] = [15.0, 0.0, 0.0, 0.0, 30.0];

/// Agent capacity in units: each contact takes its channel's cost, an agent holds contacts
/// while the sum stays within its units and each channel within its maximum. With the defaults
/// (6 units; phone 6, chat 2) an agent takes one call, or up to three chats, never both.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CapacityPolicy {
    /// Units of an agent who logs in without its own capacity.
    pub units: u32,
    /// Units one contact of the channel takes.
    pub cost: PerChannel<u32>,
    /// Most contacts of the channel an agent holds at once (0: never offered that channel),
    /// for agents who log in without their own limits.
    pub max: PerChannel<u32>,
}

impl Default for CapacityPolicy {
    fn default() -> Self {
        CapacityPolicy {
            units: 6,
            cost: PerChannel::default(),
            max: PerChannel::default(),
        }
    }
}

impl CapacityPolicy {
    pub fn cost_of(&self, channel: Channel) -> u32 {
        self.cost
            .get(channel)
            .unwrap_or(DEFAULT_UNIT_COST[channel_index(channel)])
    }

    pub fn max_of(&self, channel: Channel) -> u32 {
        self.max
            .get(channel)
            .unwrap_or(DEFAULT_MAX_PER_CHANNEL[channel_index(channel)])
    }
}

/// Offers to agents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfferPolicy {
    /// An offer not accepted within this time goes back to the queue at its original position
    /// and the agent turns not-responding.
    pub timeout_seconds: f64,
}

impl Default for OfferPolicy {
    fn default() -> Self {
        OfferPolicy {
            timeout_seconds: 20.0,
        }
    }
}

/// Sticky routing of returning customers. Absent table: off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StickyPolicy {
    /// A customer returns to the agent who last served them within this many seconds.
    pub window_seconds: f64,
    /// How long the contact waits for that agent to free up before anyone eligible may take it.
    pub wait_seconds: f64,
}

impl Default for StickyPolicy {
    fn default() -> Self {
        StickyPolicy {
            window_seconds: 24.0 * 3600.0,
            wait_seconds: 20.0,
        }
    }
}

/// Capacity kept back for privileged (VIP or high-priority) contacts. Absent table: off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReservePolicy {
    /// A standard contact never takes an idle agent when that would leave fewer than this many
    /// idle agents in the center.
    pub idle_agents: u32,
    /// A standard contact never takes capacity when that would leave fewer than this many free
    /// units across all available agents.
    pub free_units: u32,
    /// Contacts of this priority class or better (numerically lower) are privileged.
    pub max_priority: Option<u8>,
    /// Customer tiers that are privileged whatever their priority.
    pub tiers: Vec<Tier>,
}

impl Default for ReservePolicy {
    fn default() -> Self {
        ReservePolicy {
            idle_agents: 0,
            free_units: 0,
            max_priority: None,
            tiers: vec![Tier::Vip],
        }
    }
}

/// Escalation of contacts still waiting past their deadline. Absent table: off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    /// Agents holding this skill serve the supervisor queues.
    pub skill: Skill,
    /// Priority class of escalated contacts (never lower than they already had).
    #[serde(default)]
    pub priority: u8,
    /// Seconds past the contact's SLA deadline before it escalates.
    #[serde(default)]
    pub grace_seconds: f64,
    /// Answer target of the supervisor queues, for urgency ordering.
    #[serde(default = "default_escalation_answer")]
    pub answer_seconds: f64,
    /// Seconds after escalating at which the queue's own agents may take the contact again if
    /// no supervisor has; absent means only supervisors ever take escalated contacts.
    #[serde(default)]
    pub fallback_seconds: Option<f64>,
}

fn default_escalation_answer() -> f64 {
    60.0
}

/// Per-queue overrides, keyed by queue id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueOverride {
    pub min_proficiency: Option<u8>,
    /// Replaces the default relaxation steps for this queue (an empty list: none).
    pub relaxation: Option<Vec<RelaxationStep>>,
    /// `false` keeps this queue's contacts out of escalation.
    pub escalate: Option<bool>,
    pub wrap_up_seconds: Option<f64>,
    /// Replaces the policy's `short_abandon_seconds` for this queue.
    pub short_abandon_seconds: Option<f64>,
}

/// The routing policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingPolicy {
    pub selection: Selection,
    pub weights: SelectionWeights,
    /// Offer a contact to agents whose strongest skill it needs before cross-trained agents.
    pub prefer_specialists: bool,
    pub ordering: OrderingPolicy,
    /// Lowest proficiency in the required skill accepted before any relaxation.
    pub min_proficiency: u8,
    /// Default relaxation steps of every queue, in order of `after_seconds`.
    pub relaxation: Vec<RelaxationStep>,
    pub capacity: CapacityPolicy,
    pub offer: OfferPolicy,
    /// Wrap-up seconds after completing a contact of each channel.
    pub wrap_up: PerChannel<f64>,
    pub sticky: Option<StickyPolicy>,
    pub reserve: Option<ReservePolicy>,
    pub escalation: Option<EscalationPolicy>,
    /// Contacts abandoned within this many seconds of arrival count as short abandons (see
    /// [`super::QueueFacts::short_abandon_ms`]); 0: none do.
    pub short_abandon_seconds: f64,
    pub queues: BTreeMap<String, QueueOverride>,
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        RoutingPolicy {
            selection: Selection::LongestIdle,
            weights: SelectionWeights::default(),
            prefer_specialists: true,
            ordering: OrderingPolicy::default(),
            min_proficiency: 1,
            relaxation: Vec::new(),
            capacity: CapacityPolicy::default(),
            offer: OfferPolicy::default(),
            wrap_up: PerChannel::default(),
            sticky: None,
            reserve: None,
            escalation: None,
            short_abandon_seconds: 0.0,
            queues: BTreeMap::new(),
        }
    }
}

/// Longest duration accepted anywhere in the policy: a year, far beyond any real setting, so a
/// typo such as an extra zero block is caught while any plausible value passes.
const MAX_SECONDS: f64 = 366.0 * 24.0 * 3600.0;
/// Largest capacity in units an agent may have.
pub const MAX_UNITS: u32 = 10_000;

impl RoutingPolicy {
    /// Wrap-up seconds for a channel, before per-queue overrides.
    pub fn wrap_up_of(&self, channel: Channel) -> f64 {
        self.wrap_up
            .get(channel)
            .unwrap_or(DEFAULT_WRAP_UP_SECONDS[channel_index(channel)])
    }

    /// Every problem that needs no knowledge of the queues, with paths relative to the policy
    /// table (`relaxation[1].after_seconds`).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Problems::default();
        if self.selection == Selection::Weighted {
            let w = &self.weights;
            for (name, v) in [
                ("idle_per_minute", w.idle_per_minute),
                ("free_capacity", w.free_capacity),
                ("proficiency", w.proficiency),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    out.push(
                        format!("weights.{name}"),
                        format!("expected a finite weight of 0 or more, found {v}"),
                    );
                }
            }
            if w.idle_per_minute + w.free_capacity + w.proficiency == 0.0 {
                out.push(
                    "weights".into(),
                    "the weighted rule needs at least one positive weight".into(),
                );
            }
        }
        out.seconds(
            "ordering.priority_aging_seconds",
            self.ordering.priority_aging_seconds,
            true,
        );
        out.proficiency("min_proficiency", self.min_proficiency);
        check_steps(&mut out, "relaxation", &self.relaxation);

        let cap = &self.capacity;
        if cap.units == 0 || cap.units > MAX_UNITS {
            out.push(
                "capacity.units".into(),
                format!("expected 1 to {MAX_UNITS} units, found {}", cap.units),
            );
        }
        for ch in Channel::ALL {
            let key = ch.as_str();
            if let Some(c) = cap.cost.get(ch) {
                if c == 0 || c > MAX_UNITS {
                    out.push(
                        format!("capacity.cost.{key}"),
                        format!("expected 1 to {MAX_UNITS} units per contact, found {c}"),
                    );
                }
            }
            if let Some(m) = cap.max.get(ch) {
                if m > 255 {
                    out.push(
                        format!("capacity.max.{key}"),
                        format!("expected 0 to 255 contacts at once, found {m}"),
                    );
                }
            }
            if let Some(w) = self.wrap_up.get(ch) {
                out.seconds(&format!("wrap_up.{key}"), w, true);
            }
        }
        if !(self.offer.timeout_seconds.is_finite() && self.offer.timeout_seconds >= 0.001) {
            out.push(
                "offer.timeout_seconds".into(),
                format!(
                    "expected a positive number of seconds (at least 0.001), found {}",
                    self.offer.timeout_seconds
                ),
            );
        } else {
            out.seconds("offer.timeout_seconds", self.offer.timeout_seconds, false);
        }
        if let Some(s) = &self.sticky {
            out.seconds("sticky.window_seconds", s.window_seconds, false);
            out.seconds("sticky.wait_seconds", s.wait_seconds, true);
        }
        if let Some(r) = &self.reserve {
            if let Some(p) = r.max_priority {
                out.priority("reserve.max_priority", p);
            }
            if r.idle_agents == 0 && r.free_units == 0 {
                out.push(
                    "reserve".into(),
                    "a reserve keeps nothing back: set idle_agents or free_units above 0, or remove the table".into(),
                );
            }
            if r.max_priority.is_none() && r.tiers.is_empty() {
                out.push(
                    "reserve".into(),
                    "no contact could use the reserve: set max_priority or tiers".into(),
                );
            }
        }
        if let Some(e) = &self.escalation {
            if e.skill.as_str().is_empty() {
                out.push(
                    "escalation.skill".into(),
                    "expected the supervisors' skill, found an empty name".into(),
                );
            }
            out.priority("escalation.priority", e.priority);
            out.seconds("escalation.grace_seconds", e.grace_seconds, true);
            out.seconds("escalation.answer_seconds", e.answer_seconds, false);
            if let Some(f) = e.fallback_seconds {
                out.seconds("escalation.fallback_seconds", f, true);
            }
        }
        out.seconds("short_abandon_seconds", self.short_abandon_seconds, true);
        for (id, q) in &self.queues {
            let at = format!("queues.{}", key_path(id));
            if let Some(p) = q.min_proficiency {
                out.proficiency(&format!("{at}.min_proficiency"), p);
            }
            if let Some(steps) = &q.relaxation {
                check_steps(&mut out, &format!("{at}.relaxation"), steps);
            }
            if let Some(w) = q.wrap_up_seconds {
                out.seconds(&format!("{at}.wrap_up_seconds"), w, true);
            }
            if let Some(s) = q.short_abandon_seconds {
                out.seconds(&format!("{at}.short_abandon_seconds"), s, true);
            }
            if q.escalate == Some(true) && self.escalation.is_none() {
                out.push(
                    format!("{at}.escalate"),
                    "escalation is not configured: add a [policy.escalation] table".into(),
                );
            }
        }
        out.0
    }

    /// Cross-reference problems against the queues, skills and languages the router will run
    /// with: unknown queue ids in overrides, unknown overflow skills or fallback languages.
    /// Paths are relative to the policy table, like [`RoutingPolicy::validate`].
    pub fn validate_against(&self, catalog: &Catalog) -> Vec<(String, String)> {
        let mut out = Problems::default();
        let skill_known = |s: &Skill| {
            catalog.skills.contains(s)
                || catalog.queues.iter().any(|q| &q.skill == s)
                || self.escalation.as_ref().is_some_and(|e| &e.skill == s)
        };
        let language_known = |l: &Language| {
            catalog.languages.contains(l) || catalog.queues.iter().any(|q| &q.language == l)
        };
        let check_refs = |out: &mut Problems, at: &str, steps: &[RelaxationStep]| {
            for (i, step) in steps.iter().enumerate() {
                for (j, s) in step.skills.iter().enumerate() {
                    if !skill_known(s) {
                        out.push(
                            format!("{at}[{i}].skills[{j}]"),
                            format!("unknown skill `{s}`: no queue or declared skill has it"),
                        );
                    }
                }
                for (j, l) in step.languages.iter().enumerate() {
                    if !language_known(l) {
                        out.push(
                            format!("{at}[{i}].languages[{j}]"),
                            format!("unknown language `{l}`: no queue or declared language has it"),
                        );
                    }
                }
            }
        };
        check_refs(&mut out, "relaxation", &self.relaxation);
        let escalation_names: Vec<String> = if self.escalation.is_some() {
            catalog
                .queues
                .iter()
                .map(|q| escalation_queue_name(&q.id))
                .collect()
        } else {
            Vec::new()
        };
        for (id, q) in &self.queues {
            let at = format!("queues.{}", key_path(id));
            let known =
                catalog.queues.iter().any(|cq| &cq.id == id) || escalation_names.contains(id);
            if !known {
                let mut names: Vec<&str> = catalog.queues.iter().map(|q| q.id.as_str()).collect();
                names.extend(escalation_names.iter().map(String::as_str));
                out.push(
                    at.clone(),
                    format!("unknown queue `{id}`, expected one of {}", names.join(", ")),
                );
            }
            if let Some(steps) = &q.relaxation {
                check_refs(&mut out, &format!("{at}.relaxation"), steps);
            }
        }
        for (i, q) in catalog.queues.iter().enumerate() {
            if escalation_names.contains(&q.id) {
                out.push(
                    format!("queues.{}", key_path(&q.id)),
                    format!("queue {i} (`{}`) has the name the router gives its supervisor queue; rename it", q.id),
                );
            }
            if q.priority > 9 {
                out.push(
                    format!("queues.{}", key_path(&q.id)),
                    format!(
                        "queue `{}` has priority {}, expected 0 to 9",
                        q.id, q.priority
                    ),
                );
            }
        }
        out.0
    }
}

/// The name of the supervisor queue the escalated contacts of queue `id` go to.
pub fn escalation_queue_name(id: &str) -> String {
    format!("{id}/escalated")
}

pub(crate) fn channel_index(channel: Channel) -> usize {
    match channel {
        Channel::Phone => 0,
        Channel::Chat => 1,
        Channel::Email => 2,
        Channel::Social => 3,
        Channel::InPerson => 4,
    }
}

fn check_steps(out: &mut Problems, at: &str, steps: &[RelaxationStep]) {
    let mut previous = 0.0;
    for (i, step) in steps.iter().enumerate() {
        let here = format!("{at}[{i}]");
        let after_ok = out.seconds(&format!("{here}.after_seconds"), step.after_seconds, true);
        if after_ok && step.after_seconds < previous {
            out.push(
                format!("{here}.after_seconds"),
                format!(
                    "steps must be in order of after_seconds: {} comes after a step at {previous}",
                    step.after_seconds
                ),
            );
        }
        if after_ok {
            previous = step.after_seconds;
        }
        if let Some(e) = step.expires_after_seconds {
            if out.seconds(&format!("{here}.expires_after_seconds"), e, false)
                && after_ok
                && e <= step.after_seconds
            {
                out.push(
                    format!("{here}.expires_after_seconds"),
                    format!(
                        "expected an age after after_seconds ({}), found {e}",
                        step.after_seconds
                    ),
                );
            }
        }
        if let Some(p) = step.min_proficiency {
            out.proficiency(&format!("{here}.min_proficiency"), p);
        }
        if step.min_proficiency.is_none() && step.skills.is_empty() && step.languages.is_empty() {
            out.push(
                here.clone(),
                "this step widens nothing: give min_proficiency, skills or languages".into(),
            );
        }
    }
}

#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn push(&mut self, path: String, message: String) {
        self.0.push((path, message));
    }

    /// Checks a duration; returns whether it is usable.
    fn seconds(&mut self, path: &str, v: f64, zero_ok: bool) -> bool {
        let ok = v.is_finite() && (v > 0.0 || (zero_ok && v == 0.0)) && v <= MAX_SECONDS;
        if !ok {
            let floor = if zero_ok { "0 or more" } else { "more than 0" };
            self.push(
                path.to_string(),
                format!("expected {floor} seconds, at most {MAX_SECONDS} (a year), found {v}"),
            );
        }
        ok
    }

    fn proficiency(&mut self, path: &str, p: u8) {
        if !(1..=5).contains(&p) {
            self.push(
                path.to_string(),
                format!("expected a proficiency from 1 to 5, found {p}"),
            );
        }
    }

    fn priority(&mut self, path: &str, p: u8) {
        if p > 9 {
            self.push(
                path.to_string(),
                format!("expected a priority class from 0 to 9, found {p}"),
            );
        }
    }
}

/// A table key as it appears in a dotted path: bare when TOML allows, else quoted.
fn key_path(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// Every problem of a policy that cannot be built, as `(path, message)` pairs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct PolicyErrors {
    pub problems: Vec<(String, String)>,
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (path, message)) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{path}: {message}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policy_is_valid_and_has_defaults() {
        let policy: RoutingPolicy = toml::from_str("").unwrap();
        assert!(policy.validate().is_empty());
        assert_eq!(policy.capacity.cost_of(Channel::Phone), 6);
        assert_eq!(policy.capacity.max_of(Channel::Chat), 3);
        assert_eq!(policy.wrap_up_of(Channel::Phone), 15.0);
        assert_eq!(policy.offer.timeout_seconds, 20.0);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = toml::from_str::<RoutingPolicy>("selektion = \"weighted\"\n").unwrap_err();
        assert!(e.message().contains("unknown field `selektion`"), "{e}");
        let e = toml::from_str::<RoutingPolicy>("[capacity.cost]\nfax = 1\n").unwrap_err();
        assert!(e.message().contains("unknown field `fax`"), "{e}");
    }

    #[test]
    fn validate_reports_every_problem_with_its_path() {
        let text = r#"
min_proficiency = 7
[[relaxation]]
after_seconds = 60
min_proficiency = 2
[[relaxation]]
after_seconds = 30
expires_after_seconds = 10
skills = ["general"]
[[relaxation]]
after_seconds = 90
[offer]
timeout_seconds = 0
[reserve]
max_priority = 12
[queues."zh-hotline"]
escalate = true
"#;
        let policy: RoutingPolicy = toml::from_str(text).unwrap();
        let problems = policy.validate();
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "min_proficiency",
                "relaxation[1].after_seconds",
                "relaxation[1].expires_after_seconds",
                "relaxation[2]",
                "offer.timeout_seconds",
                "reserve.max_priority",
                "reserve",
                "queues.zh-hotline.escalate",
            ],
            "{problems:#?}"
        );
    }

    #[test]
    fn short_abandon_seconds_are_read_and_checked() {
        let text = r#"
short_abandon_seconds = 5
[queues.a]
short_abandon_seconds = 2.5
[queues.b]
short_abandon_seconds = -1
"#;
        let policy: RoutingPolicy = toml::from_str(text).unwrap();
        assert_eq!(policy.short_abandon_seconds, 5.0);
        assert_eq!(policy.queues["a"].short_abandon_seconds, Some(2.5));
        let paths: Vec<String> = policy.validate().into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["queues.b.short_abandon_seconds"]);
        let bad = RoutingPolicy {
            short_abandon_seconds: f64::NAN,
            ..RoutingPolicy::default()
        };
        let paths: Vec<String> = bad.validate().into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["short_abandon_seconds"]);
        assert_eq!(RoutingPolicy::default().short_abandon_seconds, 0.0);
    }
}
