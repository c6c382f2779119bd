//! What a simulation is given ([`ArrivalRate`], [`RosterShift`], [`SimOptions`]) and its
//! compilation into the engine's dense form ([`Model`]): times in milliseconds from one origin,
//! rates per queue and interval, one timeline of roster actions per agent, agents grouped into
//! profiles (same skills and languages) for occupancy.
//!
//! All checks on user data happen here, once, with errors that name the row, agent or option;
//! the engine then trusts the model.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use peakcrew_core::model::{Channel, Language, SkillLevel, SlaTarget};
use peakcrew_core::routing::{AgentCapacity, Catalog, Millis, PolicyErrors, Router, RoutingPolicy};
use peakcrew_core::tally::Thresholds;

/// Expected arrivals of one queue in one interval: the part of a forecast row the simulator
/// needs (`forecast::ForecastRow` maps onto it field by field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrivalRate {
    pub queue: String,
    /// Interval start.
    pub start: DateTime<FixedOffset>,
    /// Interval length; the same for every row of a simulation.
    pub minutes: u32,
    /// Expected contacts arriving in the interval (≥ 0).
    pub contacts: f64,
    /// Mean handle time of those contacts, seconds (> 0).
    pub aht_seconds: f64,
}

/// A time span `(start, end)`.
pub type Span = (DateTime<FixedOffset>, DateTime<FixedOffset>);

/// Sorted skills with levels, and sorted languages: agents with equal keys share a profile.
type ProfileKey = (Vec<(String, u8)>, Vec<String>);

impl From<&peakcrew_plan::forecast::ForecastRow> for ArrivalRate {
    fn from(r: &peakcrew_plan::forecast::ForecastRow) -> Self {
        ArrivalRate {
            queue: r.queue.clone(),
            start: r.start,
            minutes: r.interval_minutes,
            contacts: r.contacts,
            aht_seconds: r.aht_seconds,
        }
    }
}

/// One agent on one shift. An agent may have several shifts (a week); they must not overlap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterShift {
    pub agent: String,
    /// The scenario group the agent belongs to (what-if variations address agents by group).
    pub group: String,
    pub skills: Vec<SkillLevel>,
    pub languages: Vec<Language>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// Breaks inside the shift, `(start, end)`.
    pub breaks: Vec<Span>,
}

/// Handle-time distribution; the mean is the interval's AHT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HandleTimeDistribution {
    Lognormal,
    Gamma,
    /// Coefficient of variation 1 whatever `handle_cv` says (M/M/c checks).
    Exponential,
}

/// Patience distribution; the mean is the queue's `patience_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatienceDistribution {
    /// Erlang A's assumption.
    Exponential,
    Lognormal,
}

/// How long a chat lasts when agents hold several at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChatDuration {
    /// Staffing's model: an agent is k servers for a queue of concurrency k, and every chat of
    /// that queue lasts `AHT × chat_stretch(k)` whatever the agent holds at the moment. The
    /// simulation then checks a plan under the assumptions it was sized with.
    QueueConcurrency,
    /// A chat accepted while the agent holds j chats (this one included) lasts
    /// `AHT × chat_stretch(j)`: a lone chat runs at focused speed, so a lightly loaded center
    /// finishes chats sooner than staffing assumes.
    ChatsHeld,
}

/// How to simulate. [`SimOptions::default`] is the planning default: 10 replications,
/// lognormal handle times with CV 1, exponential patience, Poisson arrivals, agents accepting
/// after 2 s on average, staffing's chat-concurrency model, no shrinkage, no faults.
/// [`SimOptions::for_scenario`] takes the chat stretch and shrinkage from a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimOptions {
    pub replications: u32,
    pub seed: u64,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    pub handle_time: HandleTimeDistribution,
    /// Coefficient of variation (sd / mean) of handle times; 0 makes them constant.
    pub handle_cv: f64,
    pub patience: PatienceDistribution,
    /// Coefficient of variation of lognormal patience.
    pub patience_cv: f64,
    /// Variance of the gamma multiplier of each queue-interval rate; 0 is plain Poisson.
    pub overdispersion: f64,
    /// Mean delay between an offer and the agent's accept, seconds (exponential); 0 accepts at
    /// once.
    pub accept_delay_seconds: f64,
    /// Chance that an agent ignores an offer (the router's offer timeout then requeues it).
    pub no_response_probability: f64,
    /// How long a not-responding agent takes to set itself available again, seconds.
    pub not_responding_seconds: f64,
    /// Chance that an agent misses a whole shift (a fault, on top of `shrinkage`).
    pub absence_probability: f64,
    /// Share of rostered time agents are not available beyond their scheduled breaks
    /// (absence, training, coaching: the scenario's `staffing.shrinkage`, which staffing adds
    /// on top of the Erlang requirement). Realised as whole shifts missed with this
    /// probability, so each instant sees the expected share of the roster unavailable.
    pub shrinkage: f64,
    /// Chance, per accepted contact, that the agent's connection drops during it.
    pub disconnect_probability: f64,
    /// How long a disconnected agent takes to log back in, seconds.
    pub reconnect_seconds: f64,
    /// Duration stretch per extra concurrent chat (the scenario's `staffing.chat_stretch`).
    pub chat_stretch: f64,
    /// Which concurrency a chat's stretch is taken at.
    pub chat_duration: ChatDuration,
    /// Leading intervals left out of queue and overall figures (steady-state runs).
    pub warmup_intervals: u32,
    /// Run the router's brute-force invariant check after every command (slow; for tests).
    pub check_invariants: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            replications: 10,
            seed: 1,
            threads: 0,
            handle_time: HandleTimeDistribution::Lognormal,
            handle_cv: 1.0,
            patience: PatienceDistribution::Exponential,
            patience_cv: 1.0,
            overdispersion: 0.0,
            accept_delay_seconds: 2.0,
            no_response_probability: 0.0,
            not_responding_seconds: 30.0,
            absence_probability: 0.0,
            shrinkage: 0.0,
            disconnect_probability: 0.0,
            reconnect_seconds: 60.0,
            chat_stretch: peakcrew_core::model::DEFAULT_CHAT_STRETCH,
            chat_duration: ChatDuration::QueueConcurrency,
            warmup_intervals: 0,
            check_invariants: false,
        }
    }
}

/// Longest duration accepted for an option, seconds (a year).
const MAX_SECONDS: f64 = 366.0 * 24.0 * 3600.0;

impl SimOptions {
    /// The defaults with the scenario's chat stretch and shrinkage: the assumptions its
    /// staffing requirements were sized with.
    pub fn for_scenario(scenario: &peakcrew_plan::scenario::Scenario) -> SimOptions {
        SimOptions {
            chat_stretch: scenario.staffing.chat_stretch,
            shrinkage: scenario.staffing.shrinkage,
            ..SimOptions::default()
        }
    }

    /// Chance that an agent misses a shift: an absence fault or shrinkage, drawn together.
    pub fn missed_shift_probability(&self) -> f64 {
        1.0 - (1.0 - self.absence_probability) * (1.0 - self.shrinkage)
    }

    /// Every option within its range, or the first that is not.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |field: &'static str, expected: &str, value: f64| {
            Err(SimError::Option {
                field,
                message: format!("expected {expected}, found {value}"),
            })
        };
        if self.replications == 0 || self.replications > 100_000 {
            return bad("replications", "1 to 100000", f64::from(self.replications));
        }
        let cv_ok = |v: f64| v.is_finite() && (0.0..=10.0).contains(&v);
        let p_ok = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        let s_ok = |v: f64| v.is_finite() && (0.0..=MAX_SECONDS).contains(&v);
        let checks: [(&'static str, f64, bool, &str); 12] = [
            (
                "handle_cv",
                self.handle_cv,
                cv_ok(self.handle_cv),
                "0 to 10",
            ),
            (
                "patience_cv",
                self.patience_cv,
                self.patience_cv > 0.0 && cv_ok(self.patience_cv),
                "more than 0, at most 10",
            ),
            (
                "overdispersion",
                self.overdispersion,
                cv_ok(self.overdispersion),
                "0 to 10",
            ),
            (
                "accept_delay_seconds",
                self.accept_delay_seconds,
                s_ok(self.accept_delay_seconds),
                "0 seconds to a year",
            ),
            (
                "no_response_probability",
                self.no_response_probability,
                p_ok(self.no_response_probability),
                "a probability from 0 to 1",
            ),
            (
                "not_responding_seconds",
                self.not_responding_seconds,
                s_ok(self.not_responding_seconds),
                "0 seconds to a year",
            ),
            (
                "absence_probability",
                self.absence_probability,
                p_ok(self.absence_probability),
                "a probability from 0 to 1",
            ),
            (
                "shrinkage",
                self.shrinkage,
                self.shrinkage.is_finite() && (0.0..1.0).contains(&self.shrinkage),
                "a share from 0 to less than 1",
            ),
            (
                "disconnect_probability",
                self.disconnect_probability,
                p_ok(self.disconnect_probability),
                "a probability from 0 to 1",
            ),
            (
                "reconnect_seconds",
                self.reconnect_seconds,
                s_ok(self.reconnect_seconds),
                "0 seconds to a year",
            ),
            (
                "chat_stretch",
                self.chat_stretch,
                cv_ok(self.chat_stretch),
                "0 to 10",
            ),
            (
                "warmup_intervals",
                f64::from(self.warmup_intervals),
                true,
                "",
            ),
        ];
        for (field, value, ok, expected) in checks {
            if !ok {
                return bad(field, expected, value);
            }
        }
        Ok(())
    }
}

/// Why a simulation cannot run. Messages name the row, agent, option or variation at fault.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("option {field}: {message}")]
    Option {
        field: &'static str,
        message: String,
    },
    #[error("routing policy:\n{0}")]
    Policy(#[from] PolicyErrors),
    #[error("arrival row {row} (queue `{queue}`, start {start}): {message}")]
    Rate {
        row: usize,
        queue: String,
        start: String,
        message: String,
    },
    #[error("no arrival rows: a simulation needs at least one queue-interval")]
    NoRates,
    #[error("roster: agent `{agent}`, shift starting {start}: {message}")]
    Shift {
        agent: String,
        start: String,
        message: String,
    },
    #[error("what-if `{text}`: {message}")]
    Variation { text: String, message: String },
    #[error("variant `{variant}`: {source}")]
    Variant {
        variant: String,
        #[source]
        source: Box<SimError>,
    },
    #[error("replication {replication}: the router broke an invariant at {at} ms: {message}")]
    Invariant {
        replication: u32,
        at: Millis,
        message: String,
    },
    #[error("the simulation is too large: {0}")]
    TooLarge(String),
}

/// A queue as the engine needs it. Index = the router's queue index (catalog order).
#[derive(Debug, Clone)]
pub(super) struct QueueInfo {
    pub name: String,
    pub channel: Channel,
    pub is_chat: bool,
    /// Chats an agent holds at once for this queue (1 for other channels).
    pub concurrency: u32,
    /// Units a contact takes (the policy's cost for the channel).
    pub cost: u32,
    /// The answer target (ms, rounded as the router rounds it) and short-abandon threshold
    /// the tally judges this queue's waits by.
    pub thresholds: Thresholds,
    pub answer_seconds: f64,
    /// Target share for service-level and abandon-cap promises.
    pub target_fraction: Option<f64>,
    pub patience_ms: Option<f64>,
}

/// Roster actions, in the order they apply within a shift when they fall on the same
/// millisecond: the shift starts before a break that starts with it, a break ends before the
/// next one starts and before the shift ends. (Shifts of an agent never overlap, and each
/// shift's actions come after the previous shift's.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Action {
    ShiftStart,
    BreakEnd,
    BreakStart,
    ShiftEnd,
}

/// A distinct (skills, languages) combination; agents log in with their profile's command.
#[derive(Debug, Clone)]
pub(super) struct Profile {
    pub skills: Vec<SkillLevel>,
    pub languages: Vec<Language>,
    pub capacity: AgentCapacity,
    pub units: u32,
}

#[derive(Debug, Clone)]
pub(super) struct AgentInfo {
    pub profile: u16,
    /// A stable hash of the agent's id: its missed shifts are drawn from it (see the engine).
    pub key: u64,
    /// This agent's actions: `timeline[first..last]`.
    pub first: u32,
    pub last: u32,
}

/// The interval grid of the arrival rows, in ms from the model's origin.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    pub start: Millis,
    pub interval: Millis,
    pub n: u32,
}

impl Grid {
    /// The interval holding `t`: `None` before the grid, `Some(n)` from its end on.
    pub fn index(&self, t: Millis) -> Option<u32> {
        if t < self.start {
            return None;
        }
        Some((((t - self.start) / self.interval) as u32).min(self.n))
    }

    pub fn end(&self) -> Millis {
        self.start + self.interval * Millis::from(self.n)
    }
}

/// Everything one variant's replications share, read-only.
#[derive(Debug, Clone)]
pub(super) struct Model {
    pub queues: Vec<QueueInfo>,
    pub grid: Grid,
    /// Expected arrivals per ms, `q * n + k`.
    pub rate: Vec<f64>,
    /// Mean handle time in ms, `q * n + k`.
    pub aht_ms: Vec<f64>,
    pub interval_starts: Vec<DateTime<FixedOffset>>,
    pub agents: Vec<AgentInfo>,
    pub timeline: Vec<(Millis, Action)>,
    pub profiles: Vec<Profile>,
    /// Per queue, the profiles holding its skill and language (for occupancy).
    pub eligible: Vec<Vec<u16>>,
}

/// FNV-1a, 64 bits: a hash of an id that does not change between runs or platforms.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn ms_between(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> i64 {
    (to - from).num_milliseconds()
}

impl Model {
    pub fn compile(
        catalog: &Catalog,
        policy: &RoutingPolicy,
        router: &Router,
        rates: &[ArrivalRate],
        roster: &[RosterShift],
    ) -> Result<Model, SimError> {
        // The router's own view of each queue (catalog queues come first): the same cost,
        // target and short-abandon threshold the daemon counts with.
        let facts = router.queue_facts();
        let queues: Vec<QueueInfo> = catalog
            .queues
            .iter()
            .zip(facts)
            .map(|(q, f)| QueueInfo {
                name: q.id.clone(),
                channel: q.channel,
                is_chat: q.channel == Channel::Chat,
                concurrency: q.concurrency.max(1),
                cost: f.unit_cost,
                thresholds: f.thresholds(),
                answer_seconds: q.sla.answer_seconds(),
                target_fraction: match q.sla {
                    SlaTarget::ServiceLevel { fraction, .. }
                    | SlaTarget::AbandonCap { fraction, .. } => Some(fraction),
                    SlaTarget::Asa { .. } | SlaTarget::Deadline { .. } => None,
                },
                patience_ms: q.patience_seconds.map(|p| p * 1000.0),
            })
            .collect();
        for (i, q) in catalog.queues.iter().enumerate() {
            if let Some(p) = q.patience_seconds {
                if !(p.is_finite() && p > 0.0) {
                    return Err(SimError::Option {
                        field: "patience_seconds",
                        message: format!(
                            "queue `{}` (#{i}): expected more than 0 seconds, found {p}",
                            q.id
                        ),
                    });
                }
            }
        }
        let queue_ix: BTreeMap<&str, usize> = queues
            .iter()
            .enumerate()
            .map(|(i, q)| (q.name.as_str(), i))
            .collect();

        // ---- the arrival grid
        let first = rates.first().ok_or(SimError::NoRates)?;
        let minutes = first.minutes;
        let rate_err = |row: usize, r: &ArrivalRate, message: String| SimError::Rate {
            row: row + 1,
            queue: r.queue.clone(),
            start: r.start.to_rfc3339(),
            message,
        };
        if minutes == 0 || minutes > 24 * 60 {
            return Err(rate_err(
                0,
                first,
                format!("expected an interval of 1 to 1440 minutes, found {minutes}"),
            ));
        }
        let interval = Millis::from(minutes) * 60_000;
        let grid_origin = rates.iter().map(|r| r.start).min().unwrap_or(first.start);
        let mut cells: BTreeMap<(usize, u64), usize> = BTreeMap::new();
        let mut n: u64 = 0;
        for (i, r) in rates.iter().enumerate() {
            if r.minutes != minutes {
                return Err(rate_err(i, r, format!("interval of {} minutes, but the first row has {minutes}: every row must have the same interval", r.minutes)));
            }
            let Some(&q) = queue_ix.get(r.queue.as_str()) else {
                return Err(rate_err(i, r, "no such queue in the scenario".into()));
            };
            if !(r.contacts.is_finite() && r.contacts >= 0.0) {
                return Err(rate_err(
                    i,
                    r,
                    format!(
                        "contacts: expected a finite number of 0 or more, found {}",
                        r.contacts
                    ),
                ));
            }
            if !(r.aht_seconds.is_finite() && r.aht_seconds > 0.0 && r.aht_seconds <= MAX_SECONDS) {
                return Err(rate_err(
                    i,
                    r,
                    format!(
                        "aht_seconds: expected more than 0 seconds, at most a year, found {}",
                        r.aht_seconds
                    ),
                ));
            }
            let offset = ms_between(grid_origin, r.start) as u64;
            if !offset.is_multiple_of(interval) {
                return Err(rate_err(
                    i,
                    r,
                    format!(
                        "start is not on the {minutes}-minute grid that begins at {}",
                        grid_origin.to_rfc3339()
                    ),
                ));
            }
            let k = offset / interval;
            if let Some(prev) = cells.insert((q, k), i) {
                return Err(rate_err(
                    i,
                    r,
                    format!("queue and start repeat row {}", prev + 1),
                ));
            }
            n = n.max(k + 1);
        }
        if n > 10_000_000 / queues.len().max(1) as u64 {
            return Err(SimError::TooLarge(format!(
                "{n} intervals of {minutes} minutes"
            )));
        }
        let n = n as u32;

        // ---- roster: one timeline per agent, agents in name order
        let mut by_agent: BTreeMap<&str, Vec<&RosterShift>> = BTreeMap::new();
        for s in roster {
            by_agent.entry(s.agent.as_str()).or_default().push(s);
        }
        let origin = roster
            .iter()
            .map(|s| s.start)
            .min()
            .map_or(grid_origin, |s| s.min(grid_origin));
        let at = |t: DateTime<FixedOffset>| ms_between(origin, t) as Millis;
        let known_skills = router.skills();
        let known_langs = router.languages();
        let mut profiles: Vec<Profile> = Vec::new();
        let mut profile_ix: BTreeMap<ProfileKey, u16> = BTreeMap::new();
        let mut agents = Vec::with_capacity(by_agent.len());
        let mut timeline = Vec::new();
        for (name, mut shifts) in by_agent {
            shifts.sort_by_key(|s| s.start);
            let shift_err = |s: &RosterShift, message: String| SimError::Shift {
                agent: s.agent.clone(),
                start: s.start.to_rfc3339(),
                message,
            };
            let head = shifts[0];
            if name.trim().is_empty() {
                return Err(shift_err(head, "the agent id is empty".into()));
            }
            for s in &shifts {
                if s.skills != head.skills || s.languages != head.languages {
                    return Err(shift_err(
                        s,
                        "skills or languages differ from the agent's other shifts".into(),
                    ));
                }
            }
            if head.skills.is_empty() || head.languages.is_empty() {
                return Err(shift_err(
                    head,
                    "expected at least one skill and one language".into(),
                ));
            }
            for sk in &head.skills {
                if !known_skills.contains(&sk.skill) {
                    return Err(shift_err(
                        head,
                        format!("skill `{}` is not declared in the scenario", sk.skill),
                    ));
                }
            }
            for l in &head.languages {
                if !known_langs.contains(l) {
                    return Err(shift_err(
                        head,
                        format!("language `{l}` is not declared in the scenario"),
                    ));
                }
            }
            let mut key_skills: Vec<(String, u8)> = head
                .skills
                .iter()
                .map(|s| (s.skill.0.clone(), s.proficiency.get()))
                .collect();
            key_skills.sort();
            if key_skills.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(shift_err(head, "a skill is listed twice".into()));
            }
            let mut key_langs: Vec<String> = head.languages.iter().map(|l| l.0.clone()).collect();
            key_langs.sort();
            if key_langs.windows(2).any(|w| w[0] == w[1]) {
                return Err(shift_err(head, "a language is listed twice".into()));
            }
            let profile = match profile_ix.get(&(key_skills.clone(), key_langs.clone())) {
                Some(&p) => p,
                None => {
                    let p = profiles.len() as u16;
                    profiles.push(profile_of(head, catalog, policy));
                    profile_ix.insert((key_skills, key_langs), p);
                    p
                }
            };
            let first_action = timeline.len() as u32;
            let mut previous_end: Option<DateTime<FixedOffset>> = None;
            for s in &shifts {
                if s.end <= s.start {
                    return Err(shift_err(
                        s,
                        format!("ends at {}, not after its start", s.end.to_rfc3339()),
                    ));
                }
                if (s.end - s.start).num_seconds() as f64 > MAX_SECONDS {
                    return Err(shift_err(s, "is longer than a year".into()));
                }
                if let Some(prev) = previous_end {
                    if s.start < prev {
                        return Err(shift_err(
                            s,
                            format!("overlaps the agent's shift ending {}", prev.to_rfc3339()),
                        ));
                    }
                }
                previous_end = Some(s.end);
                let mut actions = vec![
                    (at(s.start), Action::ShiftStart),
                    (at(s.end), Action::ShiftEnd),
                ];
                let mut breaks = s.breaks.clone();
                breaks.sort();
                let mut last_break_end = s.start;
                for &(b0, b1) in &breaks {
                    if !(s.start <= b0 && b0 < b1 && b1 <= s.end) {
                        return Err(shift_err(
                            s,
                            format!(
                                "break {}–{} is not a span inside the shift",
                                b0.to_rfc3339(),
                                b1.to_rfc3339()
                            ),
                        ));
                    }
                    if b0 < last_break_end {
                        return Err(shift_err(
                            s,
                            format!("break starting {} overlaps the one before", b0.to_rfc3339()),
                        ));
                    }
                    last_break_end = b1;
                    actions.push((at(b0), Action::BreakStart));
                    actions.push((at(b1), Action::BreakEnd));
                }
                actions.sort();
                timeline.extend(actions);
            }
            agents.push(AgentInfo {
                profile,
                key: fnv1a(name.as_bytes()),
                first: first_action,
                last: timeline.len() as u32,
            });
        }
        if agents.len() > u32::MAX as usize / 2 || profiles.len() > u16::MAX as usize {
            return Err(SimError::TooLarge(format!("{} agents", agents.len())));
        }

        // ---- rates and AHT per queue and interval, in ms from the origin
        let nq = queues.len();
        let cells_n = nq * n as usize;
        let mut rate = vec![0.0; cells_n];
        let mut aht_ms = vec![0.0; cells_n];
        let mut interval_starts: Vec<Option<DateTime<FixedOffset>>> = vec![None; n as usize];
        for (&(q, k), &row) in &cells {
            let r = &rates[row];
            rate[q * n as usize + k as usize] = r.contacts / interval as f64;
            aht_ms[q * n as usize + k as usize] = r.aht_seconds * 1000.0;
            interval_starts[k as usize].get_or_insert(r.start);
        }
        // A queue-interval without a row has no arrivals; give it the queue's nearest AHT so
        // that nothing divides by zero if a contact of it is ever handled.
        for q in 0..nq {
            let row = &mut aht_ms[q * n as usize..(q + 1) * n as usize];
            let fallback = catalog.queues[q].aht_seconds * 1000.0;
            let mut last = row.iter().copied().find(|&a| a > 0.0).unwrap_or(fallback);
            for a in row.iter_mut() {
                if *a > 0.0 {
                    last = *a;
                } else {
                    *a = last;
                }
            }
        }
        let interval_starts = interval_starts
            .into_iter()
            .enumerate()
            .map(|(k, s)| {
                s.unwrap_or_else(|| {
                    grid_origin + chrono::Duration::milliseconds((k as u64 * interval) as i64)
                })
            })
            .collect();
        let eligible = catalog
            .queues
            .iter()
            .map(|q| {
                profiles
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        p.skills.iter().any(|s| s.skill == q.skill)
                            && p.languages.contains(&q.language)
                            && p.capacity.max.get(&q.channel).copied().unwrap_or(0) > 0
                    })
                    .map(|(i, _)| i as u16)
                    .collect()
            })
            .collect();
        Ok(Model {
            queues,
            grid: Grid {
                start: at(grid_origin),
                interval,
                n,
            },
            rate,
            aht_ms,
            interval_starts,
            agents,
            timeline,
            profiles,
            eligible,
        })
    }
}

/// An agent's login capacity: the policy's units and costs, but the most contacts of a channel
/// the agent holds at once is the largest `concurrency` among the queues of that channel the
/// agent can serve (skill and language) — the concurrency staffing sized those queues with. So
/// an English-chat agent holds two chats where the Chinese chat queues allow three, and an
/// agent works one mail at a time (staffing counts a mail's handle time as a whole agent's),
/// whatever the policy's per-channel maxima allow.
fn profile_of(shift: &RosterShift, catalog: &Catalog, policy: &RoutingPolicy) -> Profile {
    let mut max = BTreeMap::new();
    for channel in Channel::ALL {
        let concurrency = catalog
            .queues
            .iter()
            .filter(|q| q.channel == channel)
            .filter(|q| {
                shift.skills.iter().any(|s| s.skill == q.skill)
                    && shift.languages.contains(&q.language)
            })
            .map(|q| q.concurrency)
            .max();
        let most = match concurrency {
            Some(c) => c.clamp(1, 255),
            None => policy.capacity.max_of(channel),
        };
        max.insert(channel, most);
    }
    Profile {
        skills: shift.skills.clone(),
        languages: shift.languages.clone(),
        capacity: AgentCapacity { units: None, max },
        units: policy.capacity.units,
    }
}
