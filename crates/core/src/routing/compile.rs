//! The policy compiler: a [`RoutingPolicy`] and a [`Catalog`] in, an immutable [`Compiled`]
//! policy out, in the core's units.
//!
//! Everything the router derives from its configuration is derived here, once: interned skills
//! and languages, every queue (the catalog's, then the supervisor twins escalation adds) with its
//! ring templates and relaxation activation ages, channel costs, the reserve's privileged lane
//! buckets, the pool bucket layout, and the public per-queue [`QueueFacts`]. The router holds the
//! result behind an `Arc`, so clones and resets share it and nothing in it changes while routing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{Channel, Language, Queue, Skill};

use super::index::{lane_bucket, BucketLayout, FxMap};
use super::policy::{
    channel_index, escalation_queue_name, PolicyErrors, RelaxationStep, RoutingPolicy, Selection,
    Urgency,
};
use super::protocol::{Millis, QueueIx, Tier};
use super::state::NEVER;

/// What the router routes over: the queues, plus declared skills and languages that agents may
/// hold even if no queue needs them yet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    pub queues: Vec<Queue>,
    pub skills: Vec<Skill>,
    pub languages: Vec<Language>,
}

impl Catalog {
    /// Queues only; skills and languages are those the queues name.
    pub fn from_queues(queues: Vec<Queue>) -> Catalog {
        Catalog {
            queues,
            ..Catalog::default()
        }
    }
}

/// What the router knows about one queue it serves, derived once from the policy and the
/// catalog ([`super::Router::queue_facts`], indexed by [`QueueIx`]). Drivers read these instead
/// of re-deriving them from the policy, so the daemon's and the simulator's figures use exactly
/// the targets, costs and wrap-ups the core routes with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueFacts {
    /// The queue's id: a catalog queue's, or `"<id>/escalated"` for a supervisor twin
    /// ([`super::escalation_queue_name`]).
    pub name: Arc<str>,
    pub channel: Channel,
    /// The skill an agent needs for the base ring; a twin's is the escalation skill.
    pub skill: Skill,
    /// The language a contact gets when it arrives without one (a twin's is the language of
    /// the queue it serves). Always `Some` for the queues the router builds today.
    pub language: Option<Language>,
    /// The SLA answer target in milliseconds: a contact's SLA deadline is its arrival plus
    /// this, and urgency ordering measures age against it. A catalog queue's is its SLA's
    /// answer seconds (deadline hours for deferred work); a twin's is the policy's escalation
    /// `answer_seconds`. Rounded to whole milliseconds and never 0 (a 0 s target is 1 ms).
    pub answer_target_ms: Millis,
    /// Capacity units one contact of this queue takes from an agent (its channel's cost).
    pub unit_cost: u32,
    /// Wrap-up after a contact of this queue completes, in milliseconds: the queue's override,
    /// else the channel's (a twin without its own override keeps its queue's).
    pub wrap_up_ms: Millis,
    /// The supervisor twin this queue's contacts escalate to, if they escalate.
    pub escalates_to: Option<QueueIx>,
    /// For a supervisor twin, the queue whose escalated contacts it serves.
    pub twin_of: Option<QueueIx>,
    /// Contacts abandoned within this many milliseconds of arrival are "short abandons" (the
    /// customer hung up before a fair chance of an answer); 0 means none are. The queue's
    /// `short_abandon_seconds` override, else the policy's; a twin without its own override
    /// keeps its queue's. Arrival is the contact's first arrival, kept through transfers and
    /// escalation.
    pub short_abandon_ms: Millis,
}

/// A ring of a queue before a lane gives it a language: `lang` `None` is the lane's own.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct RingDef {
    pub skill: u16,
    pub lang: Option<u16>,
    pub min_prof: u8,
    pub from: Millis,
    pub until: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct QueueDef {
    pub name: String,
    pub channel: Channel,
    pub ch: usize,
    pub skill: u16,
    pub lang: u16,
    pub priority: u8,
    pub target_ms: Millis,
    pub wrap_ms: Millis,
    pub escalate: bool,
    /// The supervisor queue this queue's contacts escalate to.
    pub escalation_twin: Option<u16>,
    /// The base ring, then one per (skill, language) of each relaxation step, in order.
    pub rings: Vec<RingDef>,
    /// Distinct positive ages at which a ring opens, ascending.
    pub activations: Vec<Millis>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct ReserveDef {
    pub idle_agents: u32,
    pub free_units: u64,
    /// Lane buckets (priority × tier) whose contacts may use the reserve.
    pub privileged: u32,
}

/// The policy's scalar settings in the core's units.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Resolved {
    pub selection: Selection,
    pub w_idle: f64,
    pub w_free: f64,
    pub w_prof: f64,
    pub prefer_specialists: bool,
    pub urgency: Urgency,
    pub aging_ms: Millis,
    pub cost: [u32; 5],
    pub min_cost: u32,
    pub default_max: [u8; 5],
    pub default_units: u32,
    pub offer_ms: Millis,
    pub sticky: Option<(Millis, Millis)>,
    pub reserve: Option<ReserveDef>,
    pub escalation: Option<(u8, Millis)>,
    pub layout: BucketLayout,
    /// Allowed pool buckets by minimum proficiency, with idle agents / partly busy only.
    pub allowed_idle: [u128; 6],
    pub allowed_busy: [u128; 6],
}

/// The compiled policy: everything the router derives from its configuration, immutable
/// while routing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Compiled {
    pub cfg: Resolved,
    pub skills: Vec<Skill>,
    pub skill_ix: FxMap<String, u16>,
    pub langs: Vec<Language>,
    pub lang_ix: FxMap<String, u16>,
    /// The catalog's queues in order, then the supervisor twins.
    pub queues: Vec<QueueDef>,
    pub queue_ix: FxMap<String, u16>,
    /// How many of `queues` come from the catalog (each gets its lane up front).
    pub catalog_queues: usize,
    pub facts: Vec<QueueFacts>,
}

impl Compiled {
    /// Languages as a dense dimension (at least 1, so index arithmetic never divides by 0).
    pub fn n_langs(&self) -> usize {
        self.langs.len().max(1)
    }

    /// The agent pool of (skill, language, channel).
    pub fn pool_of(&self, skill: u16, lang: u16, ch: usize) -> u32 {
        ((skill as usize * self.n_langs() + lang as usize) * 5 + ch) as u32
    }
}

pub(super) fn millis(seconds: f64) -> Millis {
    (seconds * 1000.0).round().max(0.0) as Millis
}

fn intern<T: Clone>(list: &mut Vec<T>, map: &mut FxMap<String, u16>, name: &str, value: &T) {
    if !map.contains_key(name) {
        map.insert(name.to_string(), list.len() as u16);
        list.push(value.clone());
    }
}

/// A relaxation step in the core's units.
struct StepDef {
    from: Millis,
    until: Millis,
    min_prof: u8,
    skills: Vec<u16>,
    langs: Vec<u16>,
}

/// The base ring and the rings of each step, with the ages at which they open.
fn rings_of(skill: u16, base_min: u8, steps: &[StepDef]) -> (Vec<RingDef>, Vec<Millis>) {
    let mut rings = vec![RingDef {
        skill,
        lang: None,
        min_prof: base_min,
        from: 0,
        until: NEVER,
    }];
    for step in steps {
        let skills = if step.skills.is_empty() {
            vec![skill]
        } else {
            step.skills.clone()
        };
        let langs: Vec<Option<u16>> = if step.langs.is_empty() {
            vec![None]
        } else {
            step.langs.iter().copied().map(Some).collect()
        };
        for &s in &skills {
            for &l in &langs {
                rings.push(RingDef {
                    skill: s,
                    lang: l,
                    min_prof: step.min_prof,
                    from: step.from,
                    until: step.until,
                });
            }
        }
    }
    let mut activations: Vec<Millis> = rings.iter().map(|r| r.from).filter(|&f| f > 0).collect();
    activations.sort_unstable();
    activations.dedup();
    (rings, activations)
}

/// Compiles `policy` for `catalog`'s queues. Fails with every problem of the policy (paths
/// relative to the `[policy]` table) or of the catalog.
pub(super) fn compile(policy: &RoutingPolicy, catalog: &Catalog) -> Result<Compiled, PolicyErrors> {
    let mut problems = policy.validate();
    problems.extend(policy.validate_against(catalog));
    let mut seen = std::collections::BTreeSet::new();
    for q in &catalog.queues {
        if !seen.insert(q.id.as_str()) {
            problems.push((
                format!("queues.{}", q.id),
                format!("queue `{}` is defined twice", q.id),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(PolicyErrors { problems });
    }

    let mut skills = Vec::new();
    let mut skill_ix = FxMap::default();
    let mut langs = Vec::new();
    let mut lang_ix = FxMap::default();
    for s in &catalog.skills {
        intern(&mut skills, &mut skill_ix, s.as_str(), s);
    }
    for q in &catalog.queues {
        intern(&mut skills, &mut skill_ix, q.skill.as_str(), &q.skill);
    }
    let all_steps = policy.relaxation.iter().chain(
        policy
            .queues
            .values()
            .flat_map(|o| o.relaxation.iter().flatten()),
    );
    for step in all_steps.clone() {
        for s in &step.skills {
            intern(&mut skills, &mut skill_ix, s.as_str(), s);
        }
    }
    if let Some(e) = &policy.escalation {
        intern(&mut skills, &mut skill_ix, e.skill.as_str(), &e.skill);
    }
    for l in &catalog.languages {
        intern(&mut langs, &mut lang_ix, l.as_str(), l);
    }
    for q in &catalog.queues {
        intern(&mut langs, &mut lang_ix, q.language.as_str(), &q.language);
    }
    for step in all_steps {
        for l in &step.languages {
            intern(&mut langs, &mut lang_ix, l.as_str(), l);
        }
    }
    let queue_limit = u16::MAX as usize - 8;
    if skills.len() > queue_limit || langs.len() > queue_limit || catalog.queues.len() > queue_limit
    {
        return Err(PolicyErrors {
            problems: vec![(
                "queues".into(),
                format!("at most {queue_limit} queues, skills and languages are supported"),
            )],
        });
    }

    let cfg = resolve(policy);
    let resolve_steps = |steps: &[RelaxationStep], base_min: u8| {
        steps
            .iter()
            .map(|s| StepDef {
                from: millis(s.after_seconds),
                until: s.expires_after_seconds.map_or(NEVER, millis),
                min_prof: s.min_proficiency.unwrap_or(base_min),
                skills: s.skills.iter().map(|k| skill_ix[k.as_str()]).collect(),
                langs: s.languages.iter().map(|l| lang_ix[l.as_str()]).collect(),
            })
            .collect::<Vec<_>>()
    };
    let mut queues = Vec::new();
    let mut queue_ix = FxMap::default();
    let mut short_abandon = Vec::new();
    let mut base_mins = Vec::new();
    for q in &catalog.queues {
        let over = policy.queues.get(&q.id).cloned().unwrap_or_default();
        let base_min = over.min_proficiency.unwrap_or(policy.min_proficiency);
        let steps = over.relaxation.as_deref().unwrap_or(&policy.relaxation);
        let skill = skill_ix[q.skill.as_str()];
        let (rings, activations) = rings_of(skill, base_min, &resolve_steps(steps, base_min));
        queue_ix.insert(q.id.clone(), queues.len() as u16);
        short_abandon.push(millis(
            over.short_abandon_seconds
                .unwrap_or(policy.short_abandon_seconds),
        ));
        base_mins.push(base_min);
        queues.push(QueueDef {
            name: q.id.clone(),
            channel: q.channel,
            ch: channel_index(q.channel),
            skill,
            lang: lang_ix[q.language.as_str()],
            priority: q.priority,
            target_ms: millis(q.sla.answer_seconds()).max(1),
            wrap_ms: millis(
                over.wrap_up_seconds
                    .unwrap_or_else(|| policy.wrap_up_of(q.channel)),
            ),
            escalate: policy.escalation.is_some() && over.escalate.unwrap_or(true),
            escalation_twin: None,
            rings,
            activations,
        });
    }
    // Each escalating queue gets a supervisor twin: same channel and language, served by
    // the escalation skill first and, after `fallback_seconds`, by the queue's own agents
    // again (a supervisor queue nobody can serve must not strand a contact).
    let mut twin_of = vec![None; queues.len()];
    if let Some(e) = &policy.escalation {
        let grace = millis(e.grace_seconds);
        let skill = skill_ix[e.skill.as_str()];
        for q in 0..queues.len() {
            if !queues[q].escalate {
                continue;
            }
            let original = queues[q].clone();
            let name = escalation_queue_name(&original.name);
            let over = policy.queues.get(&name).cloned().unwrap_or_default();
            let base_min = over.min_proficiency.unwrap_or(policy.min_proficiency);
            let steps = match (&over.relaxation, e.fallback_seconds) {
                (Some(steps), _) => resolve_steps(steps, base_min),
                (None, Some(fallback)) => vec![StepDef {
                    from: original.target_ms + grace + millis(fallback),
                    until: NEVER,
                    min_prof: base_mins[q],
                    skills: vec![original.skill],
                    langs: Vec::new(),
                }],
                (None, None) => Vec::new(),
            };
            let (rings, activations) = rings_of(skill, base_min, &steps);
            let twin = queues.len() as u16;
            queues[q].escalation_twin = Some(twin);
            queue_ix.insert(name.clone(), twin);
            short_abandon.push(over.short_abandon_seconds.map_or(short_abandon[q], millis));
            twin_of.push(Some(QueueIx(q as u16)));
            queues.push(QueueDef {
                name,
                skill,
                priority: e.priority,
                target_ms: millis(e.answer_seconds).max(1),
                wrap_ms: over.wrap_up_seconds.map_or(original.wrap_ms, millis),
                escalate: false,
                escalation_twin: None,
                rings,
                activations,
                ..original
            });
        }
    }

    let facts = queues
        .iter()
        .zip(twin_of)
        .zip(short_abandon)
        .map(|((q, twin_of), short_abandon_ms)| QueueFacts {
            name: q.name.as_str().into(),
            channel: q.channel,
            skill: skills[q.skill as usize].clone(),
            language: Some(langs[q.lang as usize].clone()),
            answer_target_ms: q.target_ms,
            unit_cost: cfg.cost[q.ch],
            wrap_up_ms: q.wrap_ms,
            escalates_to: q.escalation_twin.map(QueueIx),
            twin_of,
            short_abandon_ms,
        })
        .collect();
    Ok(Compiled {
        cfg,
        skills,
        skill_ix,
        langs,
        lang_ix,
        queues,
        queue_ix,
        catalog_queues: catalog.queues.len(),
        facts,
    })
}

/// The policy's scalar settings in the core's units.
fn resolve(policy: &RoutingPolicy) -> Resolved {
    let levels = match policy.selection {
        Selection::LeastOccupied | Selection::Weighted => 12,
        Selection::LongestIdle | Selection::HighestProficiency => 2,
    };
    let layout = BucketLayout { levels };
    let mut allowed_idle = [0u128; 6];
    let mut allowed_busy = [0u128; 6];
    for p in 1..=5u8 {
        allowed_idle[p as usize] = layout.allowed(p, true);
        allowed_busy[p as usize] = layout.allowed(p, false);
    }
    let cost = Channel::ALL.map(|c| policy.capacity.cost_of(c));
    let reserve = policy.reserve.as_ref().map(|r| {
        let mut privileged = 0u32;
        for p in 0..10u8 {
            for tier in [Tier::Standard, Tier::Vip] {
                if r.tiers.contains(&tier) || r.max_priority.is_some_and(|m| p <= m) {
                    privileged |= 1 << lane_bucket(p, tier == Tier::Vip);
                }
            }
        }
        ReserveDef {
            idle_agents: r.idle_agents,
            free_units: r.free_units as u64,
            privileged,
        }
    });
    Resolved {
        selection: policy.selection,
        w_idle: policy.weights.idle_per_minute,
        w_free: policy.weights.free_capacity,
        w_prof: policy.weights.proficiency,
        prefer_specialists: policy.prefer_specialists,
        urgency: policy.ordering.urgency,
        aging_ms: millis(policy.ordering.priority_aging_seconds),
        cost,
        min_cost: cost.iter().copied().min().unwrap_or(1),
        default_max: Channel::ALL.map(|c| policy.capacity.max_of(c).min(255) as u8),
        default_units: policy.capacity.units,
        offer_ms: millis(policy.offer.timeout_seconds).max(1),
        sticky: policy
            .sticky
            .map(|s| (millis(s.window_seconds), millis(s.wait_seconds))),
        reserve,
        escalation: policy
            .escalation
            .as_ref()
            .map(|e| (e.priority, millis(e.grace_seconds))),
        layout,
        allowed_idle,
        allowed_busy,
    }
}
