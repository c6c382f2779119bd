//! The routing state machine: [`Router`] and its construction from a policy and a catalog.
//!
//! Two matching directions keep the center work-conserving:
//! - a contact that starts waiting (arrival, requeue, transfer, escalation, a relaxation ring
//!   opening, a sticky wait ending) looks for the best free agent, ring by ring, in the agent
//!   pools ([`Router::find_agent`]);
//! - an agent that gains room (login, back from break, a contact ends) takes the best waiting
//!   contacts it is eligible for, over the lanes it is interested in ([`Router::fill`]).
//!
//! Every mutation of an agent's load or presence goes through `begin`/`end`, which keep the
//! center-wide idle and free-unit totals, bump the agent's version (so its pool entries go
//! stale) and mark it dirty; `reindex` then puts it back into the pools it has room in. A
//! contact's `epoch` moves on every transition, which invalidates its pending timers.

use std::collections::VecDeque;
use std::hash::BuildHasherDefault;

use serde::{Deserialize, Serialize};

use crate::cow::{ChunkedQueue, ShardedMap};

use crate::model::{Channel, Language, Queue, Skill, SkillLevel};

use super::index::{
    lane_bucket, BucketLayout, ContactIndex, Entry, FxHasher, FxMap, IdSet, Lane, LaneEntry,
    LaneKey, Pool, Ring, Timer, TimerKind, Timers,
};
use super::policy::{
    channel_index, escalation_queue_name, PolicyErrors, RoutingPolicy, Selection, Urgency,
    MAX_UNITS,
};
use super::protocol::*;

pub(super) const NONE: u32 = u32::MAX;
const LAST_CUSTOMERS: usize = 4;
/// `Ring::until` of a ring that never expires.
pub(super) const NEVER: Millis = Millis::MAX;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Presence {
    Offline,
    Ready,
    Break,
    NotResponding,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StepDef {
    pub from: Millis,
    pub until: Millis,
    pub min_prof: u8,
    pub skills: Vec<u16>,
    pub langs: Vec<u16>,
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
    pub base_min: u8,
    pub steps: Vec<StepDef>,
}

/// A live contact, kept to one cache line: a routing step touches a few of these at random.
/// Its customer lives in `Router::customer_of`; its SLA deadline is derived (arrival + the
/// answer target of the queue it is in).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[repr(align(64))]
pub(super) struct ContactRec {
    pub id: ContactId,
    pub live: bool,
    pub state: ContactState,
    pub in_lane: bool,
    /// Agent a sticky contact waits for, or NONE.
    pub held_for: u32,
    /// Epoch at which the contact was last recorded as blocked by the reserve, or NONE.
    pub blocked_epoch: u32,
    pub queue: u16,
    pub lane: u32,
    pub lang: u16,
    pub priority: u8,
    pub tier: Tier,
    pub arrival: Millis,
    pub seq: u64,
    /// Agent holding it (offered, accepted, wrap-up), or NONE.
    pub agent: u32,
    pub offered_at: Millis,
    pub escalated: bool,
    pub transfers: u16,
}

impl ContactRec {
    pub fn key(&self) -> LaneKey {
        (self.arrival, self.seq)
    }

    pub fn bucket(&self) -> usize {
        lane_bucket(self.priority, self.tier == Tier::Vip)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Membership {
    pub pool: u32,
    pub base: u16,
    pub ch: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Interest {
    pub lane: u32,
    pub from: Millis,
    pub until: Millis,
}

/// A logged-in (or once logged-in) agent. Laid out by hand so that what every routing step
/// reads (load, capacity, presence, held contacts) shares the first cache line and the lane
/// interests the second; skills, languages and memberships come after.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[repr(C, align(64))]
pub(super) struct AgentRec {
    pub id: AgentId,
    pub idle_since: Millis,
    pub used: u32,
    pub units: u32,
    /// How many of `held` are in wrap-up.
    pub wrapping: u16,
    pub presence: Presence,
    pub dirty: bool,
    pub blocked: bool,
    pub reported: AgentState,
    /// Most contacts per channel (validated ≤ 255) and contacts held per channel.
    pub max: [u8; 5],
    pub count: [u8; 5],
    /// Offered, accepted and wrap-up contacts, in the order received.
    pub held: Vec<u32>,
    pub interests: Vec<Interest>,
    /// Contacts waiting for this agent (sticky), oldest first.
    pub sticky: Vec<u32>,
    pub memberships: Vec<Membership>,
    /// (skill, proficiency), sorted by skill.
    pub skills: Vec<(u16, u8)>,
    pub langs: Vec<u16>,
    pub last_customers: VecDeque<CustomerId>,
}

impl AgentRec {
    pub fn proficiency(&self, skill: u16) -> Option<u8> {
        self.skills
            .binary_search_by_key(&skill, |s| s.0)
            .ok()
            .map(|i| self.skills[i].1)
    }

    pub fn speaks(&self, lang: u16) -> bool {
        self.langs.contains(&lang)
    }

    pub fn matches(&self, ring: &Ring) -> bool {
        self.speaks(ring.lang)
            && self
                .proficiency(ring.skill)
                .is_some_and(|p| p >= ring.min_prof)
    }

    pub fn can_take(&self, ch: usize, cost: u32) -> bool {
        self.count[ch] < self.max[ch] && self.used + cost <= self.units
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct ReserveDef {
    pub idle_agents: u32,
    pub free_units: u64,
    /// Lane buckets (priority × tier) whose contacts may use the reserve.
    pub privileged: u32,
}

/// The policy in the core's units, resolved once.
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

/// A waiting contact considered by an agent.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    slot: u32,
    lane: u32,
    bucket: usize,
    key: LaneKey,
    class: u8,
    age: Millis,
    target: Millis,
}

/// An agent considered for a contact.
#[derive(Debug, Clone, Copy)]
struct AgentKey {
    class: u8,
    primary: f64,
    idle: Millis,
    agent: u32,
}

/// Contact order for an agent: lower effective class, then higher urgency, then older.
fn candidate_better(urgency: Urgency, x: &Candidate, y: &Candidate) -> bool {
    if x.class != y.class {
        return x.class < y.class;
    }
    match urgency {
        Urgency::Sla => {
            let l = x.age as u128 * y.target as u128;
            let r = y.age as u128 * x.target as u128;
            if l != r {
                return l > r;
            }
        }
        Urgency::Age => {
            if x.age != y.age {
                return x.age > y.age;
            }
        }
    }
    x.key < y.key
}

impl AgentKey {
    /// Lower class, then lower primary score, then longer idle, then lower index.
    fn better_than(&self, other: &AgentKey) -> bool {
        self.class
            .cmp(&other.class)
            .then(self.primary.total_cmp(&other.primary))
            .then(self.idle.cmp(&other.idle))
            .then(self.agent.cmp(&other.agent))
            .is_lt()
    }
}

/// The routing core. See the [module documentation](super) for the model and its invariants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Router {
    pub(super) cfg: Resolved,
    pub(super) skills: Vec<Skill>,
    pub(super) skill_ix: FxMap<String, u16>,
    pub(super) langs: Vec<Language>,
    pub(super) lang_ix: FxMap<String, u16>,
    pub(super) queues: Vec<QueueDef>,
    pub(super) queue_ix: FxMap<String, u16>,
    pub(super) initial_lanes: usize,

    pub(super) now: Millis,
    pub(super) lanes: Vec<Lane>,
    pub(super) lane_of: Vec<u32>,
    pub(super) pools: Vec<Pool>,
    pub(super) registry: Vec<Vec<u32>>,
    pub(super) rings_by_sl: Vec<Vec<(u32, u16)>>,
    pub(super) contacts: Vec<ContactRec>,
    /// Per contact slot, moved on every transition; timers carry the epoch they were set at.
    pub(super) epochs: Vec<u32>,
    /// Per contact slot, the customer behind it (cold: only sticky routing reads it).
    pub(super) customer_of: Vec<Option<CustomerId>>,
    pub(super) free_slots: Vec<u32>,
    /// Live contacts only, so the map stays small and in cache.
    pub(super) contact_ix: ContactIndex,
    /// Every contact id ever seen (duplicate detection), and those that were abandoned.
    pub(super) seen: IdSet,
    pub(super) abandoned: IdSet,
    pub(super) live_contacts: usize,
    pub(super) agents: Vec<AgentRec>,
    /// Per agent, moved on every change of load or presence; pool entries carry the version
    /// they were filed at. Apart from the records so stale-entry checks stay in cache.
    pub(super) versions: Vec<u32>,
    pub(super) agent_ix: FxMap<AgentId, u32>,
    pub(super) dirty: Vec<u32>,
    pub(super) timers: Timers,
    pub(super) seq: u64,
    pub(super) idle_total: u32,
    pub(super) free_total: u64,
    pub(super) queue_waiting: Vec<u32>,
    /// Copy-on-write (see `crate::cow`): with a day's sticky window these hold every
    /// customer of the day, and the daemon copies the core for each snapshot.
    pub(super) customers: ShardedMap<CustomerId, (u32, Millis), BuildHasherDefault<FxHasher>>,
    pub(super) customer_log: ChunkedQueue<(Millis, CustomerId)>,
    pub(super) blocked_contacts: Vec<(u32, u32)>,
    pub(super) blocked_agents: Vec<u32>,
}

fn millis(seconds: f64) -> Millis {
    (seconds * 1000.0).round().max(0.0) as Millis
}

fn intern<T: Clone>(list: &mut Vec<T>, map: &mut FxMap<String, u16>, name: &str, value: &T) {
    if !map.contains_key(name) {
        map.insert(name.to_string(), list.len() as u16);
        list.push(value.clone());
    }
}

impl Router {
    /// Builds a router for `catalog`'s queues under `policy`. Fails with every problem of the
    /// policy (paths relative to the `[policy]` table) or of the catalog.
    pub fn new(policy: &RoutingPolicy, catalog: &Catalog) -> Result<Router, PolicyErrors> {
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
        if skills.len() > queue_limit
            || langs.len() > queue_limit
            || catalog.queues.len() > queue_limit
        {
            return Err(PolicyErrors {
                problems: vec![(
                    "queues".into(),
                    format!("at most {queue_limit} queues, skills and languages are supported"),
                )],
            });
        }

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
        let cfg = Resolved {
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
        };

        let resolve_steps = |steps: &[super::policy::RelaxationStep], base_min: u8| {
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
        for q in &catalog.queues {
            let over = policy.queues.get(&q.id).cloned().unwrap_or_default();
            let base_min = over.min_proficiency.unwrap_or(policy.min_proficiency);
            let steps = over.relaxation.as_deref().unwrap_or(&policy.relaxation);
            queue_ix.insert(q.id.clone(), queues.len() as u16);
            queues.push(QueueDef {
                name: q.id.clone(),
                channel: q.channel,
                ch: channel_index(q.channel),
                skill: skill_ix[q.skill.as_str()],
                lang: lang_ix[q.language.as_str()],
                priority: q.priority,
                target_ms: millis(q.sla.answer_seconds()).max(1),
                wrap_ms: millis(
                    over.wrap_up_seconds
                        .unwrap_or_else(|| policy.wrap_up_of(q.channel)),
                ),
                escalate: policy.escalation.is_some() && over.escalate.unwrap_or(true),
                escalation_twin: None,
                base_min,
                steps: resolve_steps(steps, base_min),
            });
        }
        // Each escalating queue gets a supervisor twin: same channel and language, served by
        // the escalation skill first and, after `fallback_seconds`, by the queue's own agents
        // again (a supervisor queue nobody can serve must not strand a contact).
        if let Some(e) = &policy.escalation {
            let grace = millis(e.grace_seconds);
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
                        min_prof: original.base_min,
                        skills: vec![original.skill],
                        langs: Vec::new(),
                    }],
                    (None, None) => Vec::new(),
                };
                let twin = queues.len() as u16;
                queues[q].escalation_twin = Some(twin);
                queue_ix.insert(name.clone(), twin);
                queues.push(QueueDef {
                    name,
                    skill: skill_ix[e.skill.as_str()],
                    priority: e.priority,
                    target_ms: millis(e.answer_seconds).max(1),
                    wrap_ms: over.wrap_up_seconds.map_or(original.wrap_ms, millis),
                    escalate: false,
                    escalation_twin: None,
                    base_min,
                    steps,
                    ..original
                });
            }
        }

        let (n_skills, n_langs, n_queues) = (skills.len(), langs.len().max(1), queues.len());
        let mut router = Router {
            cfg,
            skills,
            skill_ix,
            langs,
            lang_ix,
            queues,
            queue_ix,
            initial_lanes: 0,
            now: 0,
            lanes: Vec::new(),
            lane_of: vec![NONE; n_queues * n_langs],
            pools: vec![Pool::default(); n_skills * n_langs * 5],
            registry: vec![Vec::new(); n_skills * n_langs],
            rings_by_sl: vec![Vec::new(); n_skills * n_langs],
            contacts: Vec::new(),
            epochs: Vec::new(),
            customer_of: Vec::new(),
            free_slots: Vec::new(),
            contact_ix: ContactIndex::default(),
            seen: IdSet::default(),
            abandoned: IdSet::default(),
            live_contacts: 0,
            agents: Vec::new(),
            versions: Vec::new(),
            agent_ix: FxMap::default(),
            dirty: Vec::new(),
            timers: Timers::default(),
            seq: 0,
            idle_total: 0,
            free_total: 0,
            queue_waiting: vec![0; n_queues],
            customers: ShardedMap::default(),
            customer_log: ChunkedQueue::new(),
            blocked_contacts: Vec::new(),
            blocked_agents: Vec::new(),
        };
        for q in 0..catalog.queues.len() {
            let lang = router.queues[q].lang;
            router.lane_for(q as u16, lang);
        }
        router.initial_lanes = router.lanes.len();
        Ok(router)
    }

    /// Clears all contacts, agents and timers and sets the clock to 0, keeping the policy,
    /// the queues and the allocations. Behaves exactly like a freshly built router.
    pub fn reset(&mut self) {
        for lane in self.lanes.drain(self.initial_lanes..) {
            self.lane_of[lane.queue as usize * self.langs.len().max(1) + lane.lang as usize] = NONE;
        }
        for lane in &mut self.lanes {
            lane.clear();
        }
        let keep = self.initial_lanes as u32;
        for rings in &mut self.rings_by_sl {
            rings.retain(|(lane, _)| *lane < keep);
        }
        for list in &mut self.registry {
            list.clear();
        }
        for pool in &mut self.pools {
            *pool = Pool::default();
        }
        for l in 0..self.lanes.len() {
            for r in 0..self.lanes[l].rings.len() {
                let pool = self.lanes[l].rings[r].pool;
                self.activate_pool(pool);
            }
        }
        self.now = 0;
        self.contacts.clear();
        self.epochs.clear();
        self.customer_of.clear();
        self.free_slots.clear();
        self.contact_ix.clear();
        self.seen.clear();
        self.abandoned.clear();
        self.live_contacts = 0;
        self.agents.clear();
        self.versions.clear();
        self.agent_ix.clear();
        self.dirty.clear();
        self.timers.clear();
        self.seq = 0;
        self.idle_total = 0;
        self.free_total = 0;
        self.queue_waiting.iter_mut().for_each(|w| *w = 0);
        self.customers.clear();
        self.customer_log.clear();
        self.blocked_contacts.clear();
        self.blocked_agents.clear();
    }

    // ------------------------------------------------------------------ driving

    /// Applies one command at time `now` and returns what happened; a rejection comes back as
    /// an [`EventKind::Rejected`] event (after any time-driven events up to `now`).
    pub fn apply(&mut self, command: Command, now: Millis) -> Vec<Event> {
        let mut out = Vec::new();
        if let Err(reason) = self.apply_into(command, now, &mut out) {
            out.push(Event {
                at: self.now,
                kind: EventKind::Rejected { reason },
            });
        }
        out
    }

    /// The fast path: appends events to `out` (no allocation once `out` has grown) and returns
    /// a rejection as an error. First every transition due at or before `now` happens, at its
    /// due time; then the command; then transitions the command made due at `now`. A rejected
    /// command changes nothing, but time still advances to `now` (unless `now` is earlier than
    /// the last command's, which is itself the rejection).
    pub fn apply_into(
        &mut self,
        command: Command,
        now: Millis,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        if now < self.now {
            return Err(Rejection::TimeWentBackwards {
                now,
                last: self.now,
            });
        }
        self.advance(now, out);
        let result = match command {
            Command::Arrive {
                contact,
                queue,
                language,
                priority,
                tier,
                customer,
            } => self.arrive(contact, queue, language, priority, tier, customer, out),
            Command::Abandon { contact } => self.abandon(contact, out),
            Command::Accept { contact, agent } => self.accept(contact, agent, out),
            Command::Complete { contact, agent } => self.complete(contact, agent, out),
            Command::Transfer { contact, queue } => self.transfer(contact, queue, out),
            Command::Login {
                agent,
                skills,
                languages,
                capacity,
            } => self.login(agent, &skills, &languages, capacity.as_ref(), out),
            Command::Logout { agent } => self.logout(agent, out),
            Command::SetAvailability {
                agent,
                availability,
            } => self.set_availability(agent, availability, out),
            Command::Tick => Ok(()),
        };
        self.settle(out);
        result
    }

    /// Lets time pass to `now` (same as [`Command::Tick`]).
    pub fn advance_to(&mut self, now: Millis, out: &mut Vec<Event>) -> Result<(), Rejection> {
        self.apply_into(Command::Tick, now, out)
    }

    /// When the next time-driven transition is due (offer timeout, relaxation ring opening,
    /// escalation, sticky wait ending, wrap-up ending); always later than [`Router::now`].
    pub fn next_deadline(&self) -> Option<Millis> {
        self.timers.next_due()
    }

    /// The time of the last command.
    pub fn now(&self) -> Millis {
        self.now
    }

    fn advance(&mut self, now: Millis, out: &mut Vec<Event>) {
        while self.timers.next_due().is_some_and(|due| due <= now) {
            let Some(t) = self.timers.pop() else {
                break;
            };
            if !self.timer_valid(&t) {
                continue;
            }
            self.now = t.due;
            self.fire(t, out);
        }
        self.now = now;
        self.prune_customers();
    }

    fn settle(&mut self, out: &mut Vec<Event>) {
        let now = self.now;
        self.advance(now, out);
        self.retry_reserve(out);
        while let Some(a) = self.dirty.pop() {
            self.reindex(a);
        }
        let mut timers = std::mem::take(&mut self.timers);
        timers.drop_stale_front(|t| self.timer_valid(t));
        if timers.len() > 4 * self.live_contacts + 4096 {
            timers.retain(|t| self.timer_valid(t));
        }
        self.timers = timers;
        if self.blocked_contacts.len() > 2 * self.live_contacts + 64 {
            let contacts = &self.epochs;
            self.blocked_contacts
                .retain(|&(s, e)| contacts[s as usize] == e);
        }
    }

    // ------------------------------------------------------------------ commands

    #[allow(clippy::too_many_arguments)]
    fn arrive(
        &mut self,
        contact: ContactId,
        queue: String,
        language: Option<Language>,
        priority: Option<u8>,
        tier: Tier,
        customer: Option<CustomerId>,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        if self.seen.contains(contact.0) {
            return Err(Rejection::DuplicateContact { contact });
        }
        let Some(&q) = self.queue_ix.get(queue.as_str()) else {
            return Err(Rejection::UnknownQueue { queue });
        };
        let lang = match language {
            Some(l) => match self.lang_ix.get(l.as_str()) {
                Some(&ix) => ix,
                None => return Err(Rejection::UnknownLanguage { language: l }),
            },
            None => self.queues[q as usize].lang,
        };
        let priority = priority.unwrap_or(self.queues[q as usize].priority);
        if priority > 9 {
            return Err(Rejection::PriorityOutOfRange { priority });
        }
        let lane = self.lane_for(q, lang);
        let now = self.now;
        let record = ContactRec {
            id: contact,
            live: true,
            state: ContactState::Queued,
            in_lane: false,
            held_for: NONE,
            blocked_epoch: NONE,
            queue: q,
            lane,
            lang,
            priority,
            tier,
            arrival: now,
            seq: self.seq,
            agent: NONE,
            offered_at: 0,
            escalated: false,
            transfers: 0,
        };
        self.seq += 1;
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
                self.contacts[slot as usize] = record;
                self.customer_of[slot as usize] = customer;
                slot
            }
            None => {
                self.contacts.push(record);
                self.epochs.push(0);
                self.customer_of.push(customer);
                (self.contacts.len() - 1) as u32
            }
        };
        self.live_contacts += 1;
        self.contact_ix.insert(contact.0, slot);
        self.seen.insert(contact.0);
        if !self.try_sticky(slot, out) {
            self.place(slot, out);
        }
        Ok(())
    }

    fn accept(
        &mut self,
        contact: ContactId,
        agent: AgentId,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let slot = self.live_contact(contact, Operation::Accept)?;
        let a = self.logged_in(agent)?;
        let c = &self.contacts[slot as usize];
        if c.state != ContactState::Offered {
            return Err(self.not_in_state(slot, Operation::Accept));
        }
        if c.agent != a {
            return Err(Rejection::WrongAgent { contact, agent });
        }
        let c = &mut self.contacts[slot as usize];
        c.state = ContactState::Accepted;
        self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
        self.remember_customer(slot, a);
        out.push(Event {
            at: self.now,
            kind: EventKind::Accepted { contact, agent },
        });
        self.note_state(a, out);
        Ok(())
    }

    fn complete(
        &mut self,
        contact: ContactId,
        agent: AgentId,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let slot = self.live_contact(contact, Operation::Complete)?;
        let a = self.logged_in(agent)?;
        let c = &self.contacts[slot as usize];
        if c.state != ContactState::Accepted {
            return Err(self.not_in_state(slot, Operation::Complete));
        }
        if c.agent != a {
            return Err(Rejection::WrongAgent { contact, agent });
        }
        let wrap = self.queues[c.queue as usize].wrap_ms;
        self.remember_customer(slot, a);
        if wrap > 0 {
            let c = &mut self.contacts[slot as usize];
            c.state = ContactState::WrapUp;
            self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
            self.agents[a as usize].wrapping += 1;
            let until = self.now + wrap;
            self.push_timer(until, TimerKind::WrapUpEnd, slot, wrap);
            out.push(Event {
                at: self.now,
                kind: EventKind::WrapUp {
                    contact,
                    agent,
                    until,
                },
            });
            self.note_state(a, out);
        } else {
            self.finish(slot, out);
        }
        Ok(())
    }

    fn abandon(&mut self, contact: ContactId, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let slot = self.live_contact(contact, Operation::Abandon)?;
        match self.contacts[slot as usize].state {
            ContactState::Queued => {
                self.unwait(slot);
                self.retire(slot, ContactState::Abandoned);
                out.push(Event {
                    at: self.now,
                    kind: EventKind::Abandoned { contact },
                });
            }
            ContactState::Offered => {
                let a = self.release(slot);
                self.retire(slot, ContactState::Abandoned);
                out.push(Event {
                    at: self.now,
                    kind: EventKind::Abandoned { contact },
                });
                self.fill(a, out);
            }
            _ => return Err(self.not_in_state(slot, Operation::Abandon)),
        }
        Ok(())
    }

    fn transfer(
        &mut self,
        contact: ContactId,
        queue: String,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let slot = self.live_contact(contact, Operation::Transfer)?;
        let Some(&to) = self.queue_ix.get(queue.as_str()) else {
            return Err(Rejection::UnknownQueue { queue });
        };
        let c = &self.contacts[slot as usize];
        if !matches!(
            c.state,
            ContactState::Queued | ContactState::Offered | ContactState::Accepted
        ) {
            return Err(self.not_in_state(slot, Operation::Transfer));
        }
        if c.queue == to {
            return Err(Rejection::SameQueue { contact });
        }
        let from = c.queue;
        let released = if c.state == ContactState::Queued {
            self.unwait(slot);
            None
        } else {
            Some(self.release(slot))
        };
        let lane = self.lane_for(to, self.contacts[slot as usize].lang);
        let q = &self.queues[to as usize];
        let c = &mut self.contacts[slot as usize];
        c.queue = to;
        c.lane = lane;
        c.priority = c.priority.min(q.priority);
        c.transfers = c.transfers.saturating_add(1);
        c.state = ContactState::Queued;
        self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
        out.push(Event {
            at: self.now,
            kind: EventKind::Transferred {
                contact,
                from: QueueIx(from),
                to: QueueIx(to),
            },
        });
        self.place(slot, out);
        if let Some(a) = released {
            self.fill(a, out);
        }
        Ok(())
    }

    fn login(
        &mut self,
        agent: AgentId,
        skills: &[SkillLevel],
        languages: &[Language],
        capacity: Option<&AgentCapacity>,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let existing = self.agent_ix.get(&agent).copied();
        if let Some(a) = existing {
            if self.agents[a as usize].presence != Presence::Offline {
                return Err(Rejection::AlreadyLoggedIn { agent });
            }
        }
        let invalid = |reason: String| Rejection::InvalidLogin { agent, reason };
        if skills.is_empty() {
            return Err(invalid("expected at least one skill".into()));
        }
        if languages.is_empty() {
            return Err(invalid("expected at least one language".into()));
        }
        let mut skill_levels = Vec::with_capacity(skills.len());
        for s in skills {
            let Some(&ix) = self.skill_ix.get(s.skill.as_str()) else {
                return Err(Rejection::UnknownSkill {
                    skill: s.skill.clone(),
                });
            };
            skill_levels.push((ix, s.proficiency.get()));
        }
        skill_levels.sort_unstable();
        if skill_levels.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(invalid("a skill is listed twice".into()));
        }
        let mut langs = Vec::with_capacity(languages.len());
        for l in languages {
            let Some(&ix) = self.lang_ix.get(l.as_str()) else {
                return Err(Rejection::UnknownLanguage {
                    language: l.clone(),
                });
            };
            if langs.contains(&ix) {
                return Err(invalid(format!("language `{l}` is listed twice")));
            }
            langs.push(ix);
        }
        let (units, max) = match capacity {
            None => (self.cfg.default_units, self.cfg.default_max),
            Some(cap) => {
                let units = cap.units.unwrap_or(self.cfg.default_units);
                if units == 0 || units > MAX_UNITS {
                    return Err(invalid(format!(
                        "capacity.units: expected 1 to {MAX_UNITS}, found {units}"
                    )));
                }
                let mut max = [0u8; 5];
                for (channel, m) in &cap.max {
                    if *m > 255 {
                        return Err(invalid(format!(
                            "capacity.max.{channel}: expected 0 to 255, found {m}"
                        )));
                    }
                    max[channel_index(*channel)] = *m as u8;
                }
                if max.iter().all(|m| *m == 0) {
                    return Err(invalid(
                        "capacity.max: expected at least one channel above 0".into(),
                    ));
                }
                (units, max)
            }
        };

        let record = AgentRec {
            id: agent,
            presence: Presence::Offline,
            skills: skill_levels,
            langs,
            units,
            max,
            used: 0,
            count: [0; 5],
            held: Vec::new(),
            wrapping: 0,
            sticky: Vec::new(),
            idle_since: self.now,
            dirty: false,
            blocked: false,
            memberships: Vec::new(),
            interests: Vec::new(),
            reported: AgentState::Offline,
            last_customers: VecDeque::new(),
        };
        let a = match existing {
            Some(a) => {
                let old = &mut self.agents[a as usize];
                let last_customers = std::mem::take(&mut old.last_customers);
                *old = AgentRec {
                    last_customers,
                    ..record
                };
                a
            }
            None => {
                self.agents.push(record);
                self.versions.push(0);
                let a = (self.agents.len() - 1) as u32;
                self.agent_ix.insert(agent, a);
                a
            }
        };
        self.register(a);
        self.begin(a);
        self.agents[a as usize].presence = Presence::Ready;
        self.end(a);
        self.note_state(a, out);
        self.fill(a, out);
        Ok(())
    }

    fn logout(&mut self, agent: AgentId, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let a = self.logged_in(agent)?;
        let held = std::mem::take(&mut self.agents[a as usize].held);
        let sticky = std::mem::take(&mut self.agents[a as usize].sticky);
        self.begin(a);
        {
            let ag = &mut self.agents[a as usize];
            ag.presence = Presence::Offline;
            ag.wrapping = 0;
            ag.used = 0;
            ag.count = [0; 5];
        }
        self.end(a);
        let mut requeue = Vec::with_capacity(held.len() + sticky.len());
        for slot in held {
            let c = &mut self.contacts[slot as usize];
            c.agent = NONE;
            let contact = c.id;
            if c.state == ContactState::WrapUp {
                self.retire(slot, ContactState::Completed);
                out.push(Event {
                    at: self.now,
                    kind: EventKind::Completed { contact, agent },
                });
            } else {
                c.state = ContactState::Queued;
                self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
                out.push(Event {
                    at: self.now,
                    kind: EventKind::Requeued {
                        contact,
                        agent,
                        reason: RequeueReason::AgentLoggedOut,
                    },
                });
                requeue.push(slot);
            }
        }
        for slot in sticky {
            self.unhold(slot);
            requeue.push(slot);
        }
        self.unregister(a);
        self.settle_agent(a, out);
        for slot in requeue {
            self.place(slot, out);
        }
        Ok(())
    }

    fn set_availability(
        &mut self,
        agent: AgentId,
        availability: Availability,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let a = self.logged_in(agent)?;
        let presence = self.agents[a as usize].presence;
        match (availability, presence) {
            (Availability::Available, Presence::Ready) | (Availability::Break, Presence::Break) => {
            }
            (Availability::Available, _) => {
                self.begin(a);
                self.agents[a as usize].presence = Presence::Ready;
                self.end(a);
                self.fill(a, out);
            }
            (Availability::Break, _) => {
                let requeue = self.make_unavailable(a, Presence::Break, out);
                for slot in requeue {
                    self.place(slot, out);
                }
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ timers

    /// `delay` is the configured delay the timer was set with (its FIFO in [`Timers`]).
    fn push_timer(&mut self, due: Millis, kind: TimerKind, slot: u32, delay: Millis) {
        let epoch = self.epochs[slot as usize];
        self.timers.push(due, kind, slot, epoch, delay);
    }

    /// A timer is valid while its contact's epoch is unchanged: every transition moves the
    /// epoch, so an unchanged epoch means the contact is still in the state the timer was set
    /// in (the invariant checker verifies that state against the timer's kind). Reading only the
    /// compact epoch array keeps stale timers from touching cold contact records.
    pub(super) fn timer_valid(&self, t: &Timer) -> bool {
        self.epochs[t.slot as usize] == t.epoch
    }

    fn fire(&mut self, t: Timer, out: &mut Vec<Event>) {
        let slot = t.slot;
        match t.kind {
            TimerKind::OfferTimeout => {
                let a = self.release(slot);
                let c = &mut self.contacts[slot as usize];
                c.state = ContactState::Queued;
                self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
                let (contact, agent) = (c.id, self.agents[a as usize].id);
                out.push(Event {
                    at: self.now,
                    kind: EventKind::Requeued {
                        contact,
                        agent,
                        reason: RequeueReason::OfferTimeout,
                    },
                });
                let others = self.make_unavailable(a, Presence::NotResponding, out);
                self.place(slot, out);
                for other in others {
                    self.place(other, out);
                }
            }
            TimerKind::Relax => {
                if let Some(a) = self.find_agent(slot) {
                    self.unwait(slot);
                    self.offer(slot, a, out);
                    self.after_offer(a, out);
                } else {
                    self.schedule_relax(slot);
                }
            }
            TimerKind::Escalate => {
                let c = &self.contacts[slot as usize];
                let (Some(to), Some((priority, _))) = (
                    self.queues[c.queue as usize].escalation_twin,
                    self.cfg.escalation,
                ) else {
                    return;
                };
                let from = c.queue;
                self.unwait(slot);
                let lane = self.lane_for(to, self.contacts[slot as usize].lang);
                let c = &mut self.contacts[slot as usize];
                c.queue = to;
                c.lane = lane;
                c.priority = c.priority.min(priority);
                c.escalated = true;
                self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
                out.push(Event {
                    at: self.now,
                    kind: EventKind::Escalated {
                        contact: c.id,
                        from: QueueIx(from),
                        to: QueueIx(to),
                    },
                });
                self.place(slot, out);
            }
            TimerKind::StickyExpiry => {
                self.unwait(slot);
                self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
                self.place(slot, out);
            }
            TimerKind::WrapUpEnd => self.finish(slot, out),
        }
    }

    /// Timer of the next relaxation ring to open for a waiting contact.
    fn schedule_relax(&mut self, slot: u32) {
        let c = &self.contacts[slot as usize];
        let age = self.now - c.arrival;
        let lane = &self.lanes[c.lane as usize];
        if let Some(&next) = lane.activations.iter().find(|&&t| t > age) {
            let due = c.arrival + next;
            self.push_timer(due, TimerKind::Relax, slot, next);
        }
    }

    fn schedule_escalation(&mut self, slot: u32) {
        let c = &self.contacts[slot as usize];
        if let Some((_, grace)) = self.cfg.escalation {
            if self.queues[c.queue as usize].escalate && !c.escalated {
                let deadline = c.arrival + self.queues[c.queue as usize].target_ms;
                let due = (deadline + grace).max(self.now);
                let delay = self.queues[c.queue as usize].target_ms + grace;
                self.push_timer(due, TimerKind::Escalate, slot, delay);
            }
        }
    }

    // ------------------------------------------------------------------ contacts

    /// A contact that is `Queued` but nowhere yet: offer it or put it in its lane.
    fn place(&mut self, slot: u32, out: &mut Vec<Event>) {
        match self.find_agent(slot) {
            Some(a) => {
                self.offer(slot, a, out);
                self.after_offer(a, out);
            }
            None => {
                let c = &mut self.contacts[slot as usize];
                c.in_lane = true;
                let (bucket, key, lane, queue, contact) =
                    (c.bucket(), c.key(), c.lane, c.queue, c.id);
                let entry = LaneEntry {
                    key,
                    slot,
                    epoch: self.epochs[slot as usize],
                };
                let epochs = &self.epochs;
                self.lanes[lane as usize]
                    .insert(bucket, entry, |e| epochs[e.slot as usize] == e.epoch);
                self.queue_waiting[queue as usize] += 1;
                self.schedule_relax(slot);
                self.schedule_escalation(slot);
                out.push(Event {
                    at: self.now,
                    kind: EventKind::Queued {
                        contact,
                        queue: QueueIx(queue),
                    },
                });
            }
        }
    }

    /// Takes a waiting contact out of its lane or its sticky agent's list.
    fn unwait(&mut self, slot: u32) {
        let c = &mut self.contacts[slot as usize];
        if c.in_lane {
            c.in_lane = false;
            let (bucket, key, lane) = (c.bucket(), c.key(), c.lane);
            self.lanes[lane as usize].remove(bucket, key);
        } else if c.held_for != NONE {
            let a = c.held_for;
            c.held_for = NONE;
            self.agents[a as usize].sticky.retain(|&s| s != slot);
        } else {
            return;
        }
        self.queue_waiting[c.queue as usize] -= 1;
    }

    /// A sticky contact whose agent's list was already taken: it waits nowhere now.
    fn unhold(&mut self, slot: u32) {
        let c = &mut self.contacts[slot as usize];
        c.held_for = NONE;
        self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
        self.queue_waiting[c.queue as usize] -= 1;
    }

    fn try_sticky(&mut self, slot: u32, out: &mut Vec<Event>) -> bool {
        let Some((window, wait)) = self.cfg.sticky else {
            return false;
        };
        let c = &self.contacts[slot as usize];
        let Some(customer) = self.customer_of[slot as usize] else {
            return false;
        };
        let Some(&(a, served)) = self.customers.get(&customer) else {
            return false;
        };
        if self.now - served > window {
            return false;
        }
        let ag = &self.agents[a as usize];
        let lane = &self.lanes[c.lane as usize];
        if ag.presence != Presence::Ready || !ag.matches(&lane.rings[0]) {
            return false;
        }
        let ch = lane.channel;
        if ag.can_take(ch, self.cfg.cost[ch]) {
            if !self.reserve_ok(slot, a) {
                return false;
            }
            self.offer(slot, a, out);
            self.after_offer(a, out);
            return true;
        }
        if wait == 0 {
            return false;
        }
        let c = &mut self.contacts[slot as usize];
        c.held_for = a;
        let (queue, contact) = (c.queue, c.id);
        self.agents[a as usize].sticky.push(slot);
        self.queue_waiting[queue as usize] += 1;
        let until = self.now + wait;
        self.push_timer(until, TimerKind::StickyExpiry, slot, wait);
        self.schedule_escalation(slot);
        out.push(Event {
            at: self.now,
            kind: EventKind::StickyHeld {
                contact,
                agent: self.agents[a as usize].id,
                until,
            },
        });
        true
    }

    fn offer(&mut self, slot: u32, a: u32, out: &mut Vec<Event>) {
        let now = self.now;
        let c = &mut self.contacts[slot as usize];
        c.state = ContactState::Offered;
        c.agent = a;
        c.offered_at = now;
        self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
        let ch = self.queues[c.queue as usize].ch;
        let contact = c.id;
        self.begin(a);
        let ag = &mut self.agents[a as usize];
        ag.used += self.cfg.cost[ch];
        ag.count[ch] += 1;
        ag.held.push(slot);
        let agent = ag.id;
        self.end(a);
        let expires = now + self.cfg.offer_ms;
        self.push_timer(expires, TimerKind::OfferTimeout, slot, self.cfg.offer_ms);
        out.push(Event {
            at: now,
            kind: EventKind::Offered {
                contact,
                agent,
                expires,
            },
        });
    }

    /// Takes an offered, accepted or wrap-up contact off its agent; returns the agent.
    fn release(&mut self, slot: u32) -> u32 {
        let c = &mut self.contacts[slot as usize];
        let a = c.agent;
        c.agent = NONE;
        let wrapping = c.state == ContactState::WrapUp;
        let ch = self.queues[c.queue as usize].ch;
        self.begin(a);
        let ag = &mut self.agents[a as usize];
        if let Some(pos) = ag.held.iter().position(|&s| s == slot) {
            ag.held.remove(pos);
        }
        ag.wrapping -= wrapping as u16;
        ag.used -= self.cfg.cost[ch];
        ag.count[ch] -= 1;
        self.end(a);
        a
    }

    fn finish(&mut self, slot: u32, out: &mut Vec<Event>) {
        let a = self.release(slot);
        let contact = self.contacts[slot as usize].id;
        self.retire(slot, ContactState::Completed);
        out.push(Event {
            at: self.now,
            kind: EventKind::Completed {
                contact,
                agent: self.agents[a as usize].id,
            },
        });
        self.fill(a, out);
    }

    fn retire(&mut self, slot: u32, state: ContactState) {
        let c = &mut self.contacts[slot as usize];
        c.state = state;
        c.live = false;
        c.in_lane = false;
        c.held_for = NONE;
        c.agent = NONE;
        self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
        self.contact_ix.remove(c.id.0);
        if state == ContactState::Abandoned {
            self.abandoned.insert(c.id.0);
        }
        self.free_slots.push(slot);
        self.live_contacts -= 1;
    }

    fn remember_customer(&mut self, slot: u32, a: u32) {
        if self.cfg.sticky.is_none() {
            return;
        }
        let Some(customer) = self.customer_of[slot as usize] else {
            return;
        };
        self.customers.insert(customer, (a, self.now));
        self.customer_log.push_back((self.now, customer));
        let last = &mut self.agents[a as usize].last_customers;
        last.retain(|&c| c != customer);
        last.push_front(customer);
        last.truncate(LAST_CUSTOMERS);
    }

    fn prune_customers(&mut self) {
        let Some((window, _)) = self.cfg.sticky else {
            return;
        };
        while let Some(&(at, customer)) = self.customer_log.front() {
            if at.saturating_add(window) >= self.now {
                break;
            }
            self.customer_log.pop_front();
            if self.customers.get(&customer).is_some_and(|&(_, t)| t == at) {
                self.customers.remove(&customer);
            }
        }
    }

    fn live_contact(&self, contact: ContactId, operation: Operation) -> Result<u32, Rejection> {
        match self.contact_ix.get(contact.0) {
            Some(slot) => Ok(slot),
            None => match self.finished_state(contact) {
                Some(state) => Err(Rejection::ContactNotInState {
                    contact,
                    operation,
                    state,
                }),
                None => Err(Rejection::UnknownContact { contact }),
            },
        }
    }

    /// Completed or abandoned, for a contact seen but no longer live.
    fn finished_state(&self, contact: ContactId) -> Option<ContactState> {
        if !self.seen.contains(contact.0) {
            None
        } else if self.abandoned.contains(contact.0) {
            Some(ContactState::Abandoned)
        } else {
            Some(ContactState::Completed)
        }
    }

    fn not_in_state(&self, slot: u32, operation: Operation) -> Rejection {
        let c = &self.contacts[slot as usize];
        Rejection::ContactNotInState {
            contact: c.id,
            operation,
            state: c.state,
        }
    }

    fn logged_in(&self, agent: AgentId) -> Result<u32, Rejection> {
        match self.agent_ix.get(&agent) {
            Some(&a) if self.agents[a as usize].presence != Presence::Offline => Ok(a),
            _ => Err(Rejection::UnknownAgent { agent }),
        }
    }

    // ------------------------------------------------------------------ agents

    fn contribution(&self, a: u32) -> (u32, u64) {
        let ag = &self.agents[a as usize];
        if ag.presence == Presence::Ready {
            ((ag.used == 0) as u32, (ag.units - ag.used) as u64)
        } else {
            (0, 0)
        }
    }

    /// Before changing an agent's load or presence.
    fn begin(&mut self, a: u32) {
        let (idle, free) = self.contribution(a);
        self.idle_total -= idle;
        self.free_total -= free;
    }

    /// After changing an agent's load or presence: its pool entries go stale until `reindex`.
    fn end(&mut self, a: u32) {
        let (idle, free) = self.contribution(a);
        self.idle_total += idle;
        self.free_total += free;
        self.versions[a as usize] = self.versions[a as usize].wrapping_add(1);
        let ag = &mut self.agents[a as usize];
        ag.idle_since = self.now;
        if !ag.dirty {
            ag.dirty = true;
            self.dirty.push(a);
        }
    }

    /// Puts a changed agent back into the pools it has room in.
    fn reindex(&mut self, a: u32) {
        let ag = &mut self.agents[a as usize];
        if !ag.dirty {
            return;
        }
        ag.dirty = false;
        if ag.presence != Presence::Ready || ag.used + self.cfg.min_cost > ag.units {
            return;
        }
        let (version, used, units) = (self.versions[a as usize], ag.used, ag.units);
        let layout = self.cfg.layout;
        for i in 0..self.agents[a as usize].memberships.len() {
            let m = self.agents[a as usize].memberships[i];
            let ch = m.ch as usize;
            if !self.agents[a as usize].can_take(ch, self.cfg.cost[ch]) {
                continue;
            }
            let bucket = m.base as usize + layout.level(used, units);
            let versions = &self.versions;
            self.pools[m.pool as usize].push(bucket, Entry { agent: a, version }, |x| {
                versions[x as usize]
            });
        }
    }

    /// After a contact found this agent. Without a reserve the agent only lost room, so it
    /// just goes back into the pools; with one, an agent that was idle may now take standard
    /// contacts the reserve kept from it, so it looks for work.
    fn after_offer(&mut self, a: u32, out: &mut Vec<Event>) {
        if self.cfg.reserve.is_some() {
            self.fill(a, out);
        } else {
            self.settle_agent(a, out);
        }
    }

    fn settle_agent(&mut self, a: u32, out: &mut Vec<Event>) {
        self.reindex(a);
        self.note_state(a, out);
    }

    pub(super) fn reported_state(&self, a: u32) -> AgentState {
        let ag = &self.agents[a as usize];
        match ag.presence {
            Presence::Offline => AgentState::Offline,
            Presence::Break => AgentState::Break,
            Presence::NotResponding => AgentState::NotResponding,
            Presence::Ready => {
                if ag.held.len() > ag.wrapping as usize {
                    AgentState::Busy
                } else if ag.wrapping > 0 {
                    AgentState::WrapUp
                } else {
                    AgentState::Available
                }
            }
        }
    }

    fn note_state(&mut self, a: u32, out: &mut Vec<Event>) {
        let state = self.reported_state(a);
        let ag = &mut self.agents[a as usize];
        if ag.reported != state {
            ag.reported = state;
            out.push(Event {
                at: self.now,
                kind: EventKind::AgentState {
                    agent: ag.id,
                    state,
                },
            });
        }
    }

    /// Break or not-responding: open offers and sticky holds go back; returns those contacts
    /// (now `Queued` but nowhere) for the caller to place.
    fn make_unavailable(&mut self, a: u32, presence: Presence, out: &mut Vec<Event>) -> Vec<u32> {
        self.begin(a);
        self.agents[a as usize].presence = presence;
        self.end(a);
        let agent = self.agents[a as usize].id;
        let offered: Vec<u32> = self.agents[a as usize]
            .held
            .iter()
            .copied()
            .filter(|&s| self.contacts[s as usize].state == ContactState::Offered)
            .collect();
        let mut requeue = Vec::with_capacity(offered.len());
        for slot in offered {
            self.release(slot);
            let c = &mut self.contacts[slot as usize];
            c.state = ContactState::Queued;
            self.epochs[slot as usize] = self.epochs[slot as usize].wrapping_add(1);
            out.push(Event {
                at: self.now,
                kind: EventKind::Requeued {
                    contact: c.id,
                    agent,
                    reason: RequeueReason::AgentUnavailable,
                },
            });
            requeue.push(slot);
        }
        for slot in std::mem::take(&mut self.agents[a as usize].sticky) {
            self.unhold(slot);
            requeue.push(slot);
        }
        self.settle_agent(a, out);
        requeue
    }

    /// Adds a logged-in agent to the registries, live pools and lane interests.
    fn register(&mut self, a: u32) {
        let n_langs = self.langs.len().max(1);
        let ag = &self.agents[a as usize];
        let top = ag.skills.iter().map(|s| s.1).max().unwrap_or(1);
        let skills = ag.skills.clone();
        let langs = ag.langs.clone();
        let max = ag.max;
        let mut memberships = Vec::new();
        let mut interests: Vec<(u32, Millis, Millis)> = Vec::new();
        for &(s, p) in &skills {
            for &l in &langs {
                let sl = s as usize * n_langs + l as usize;
                self.registry[sl].push(a);
                for (ch, m) in max.iter().enumerate() {
                    let pool = (sl * 5 + ch) as u32;
                    if *m > 0 && self.pools[pool as usize].live {
                        self.pools[pool as usize].members += 1;
                        memberships.push(Membership {
                            pool,
                            base: self.cfg.layout.base(p < top, p) as u16,
                            ch: ch as u8,
                        });
                    }
                }
                for &(lane, r) in &self.rings_by_sl[sl] {
                    let ring = self.lanes[lane as usize].rings[r as usize];
                    if p >= ring.min_prof {
                        interests.push((lane, ring.from, ring.until));
                    }
                }
            }
        }
        self.agents[a as usize].memberships = memberships;
        for (lane, from, until) in interests {
            self.add_interest(a, lane, from, until);
        }
    }

    fn unregister(&mut self, a: u32) {
        let n_langs = self.langs.len().max(1);
        let ag = &mut self.agents[a as usize];
        for &(s, _) in &ag.skills {
            for &l in &ag.langs {
                self.registry[s as usize * n_langs + l as usize].retain(|&x| x != a);
            }
        }
        for m in ag.memberships.drain(..) {
            self.pools[m.pool as usize].members -= 1;
        }
        ag.interests.clear();
    }

    /// Adds an eligibility window for a lane, merged with the agent's overlapping ones.
    fn add_interest(&mut self, a: u32, lane: u32, mut from: Millis, mut until: Millis) {
        let interests = &mut self.agents[a as usize].interests;
        let mut i = 0;
        while i < interests.len() {
            let it = interests[i];
            if it.lane == lane && it.from <= until && from <= it.until {
                from = from.min(it.from);
                until = until.max(it.until);
                interests.swap_remove(i);
            } else {
                i += 1;
            }
        }
        interests.push(Interest { lane, from, until });
    }

    /// Gives a free agent the best waiting contacts it is eligible for, until it is full or
    /// nothing is left; then puts it back into the pools.
    fn fill(&mut self, a: u32, out: &mut Vec<Event>) {
        loop {
            if self.agents[a as usize].presence != Presence::Ready {
                break;
            }
            if let Some(slot) = self.sticky_ready(a) {
                self.unwait(slot);
                self.offer(slot, a, out);
                continue;
            }
            if !self.has_room(a) {
                break;
            }
            let (best, blocked) = self.best_contact_for(a);
            let Some(cand) = best else {
                if blocked {
                    self.record_blocked_agent(a);
                }
                break;
            };
            let c = &mut self.contacts[cand.slot as usize];
            c.in_lane = false;
            let queue = c.queue;
            self.lanes[cand.lane as usize].remove(cand.bucket, cand.key);
            self.queue_waiting[queue as usize] -= 1;
            self.offer(cand.slot, a, out);
        }
        self.settle_agent(a, out);
    }

    /// Whether the agent could take one more contact of any channel.
    fn has_room(&self, a: u32) -> bool {
        let ag = &self.agents[a as usize];
        (0..5).any(|ch| ag.can_take(ch, self.cfg.cost[ch]))
    }

    fn sticky_ready(&self, a: u32) -> Option<u32> {
        let ag = &self.agents[a as usize];
        ag.sticky.iter().copied().find(|&s| {
            let ch = self.queues[self.contacts[s as usize].queue as usize].ch;
            ag.can_take(ch, self.cfg.cost[ch]) && self.reserve_ok(s, a)
        })
    }

    /// The best waiting contact for an agent, and whether the reserve kept some contact from it.
    fn best_contact_for(&mut self, a: u32) -> (Option<Candidate>, bool) {
        let ag = &self.agents[a as usize];
        let now = self.now;
        let cfg = &self.cfg;
        let epochs = &self.epochs;
        let valid = |e: &LaneEntry| epochs[e.slot as usize] == e.epoch;
        let standard_ok = |cost: u32| match &cfg.reserve {
            None => true,
            Some(r) => {
                (ag.used > 0 || self.idle_total > r.idle_agents)
                    && self.free_total >= r.free_units + cost as u64
            }
        };
        let mut best: Option<Candidate> = None;
        let mut blocked = false;
        for it in &ag.interests {
            let lane = &mut self.lanes[it.lane as usize];
            if lane.mask == 0 {
                continue;
            }
            let ch = lane.channel;
            let cost = cfg.cost[ch];
            if !ag.can_take(ch, cost) {
                continue;
            }
            let mut mask = lane.mask;
            if let Some(r) = &cfg.reserve {
                if !standard_ok(cost) {
                    if mask & !r.privileged != 0 {
                        blocked = true;
                    }
                    mask &= r.privileged;
                }
            }
            while mask != 0 {
                let b = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                if let Some(e) = lane.oldest_in(b, now, it.from, it.until, valid) {
                    let age = now - e.key.0;
                    let priority = (b / 2) as u8;
                    let cand = Candidate {
                        slot: e.slot,
                        lane: it.lane,
                        bucket: b,
                        key: e.key,
                        class: match age.checked_div(cfg.aging_ms) {
                            Some(steps) => priority.saturating_sub(steps.min(9) as u8),
                            None => priority,
                        },
                        age,
                        target: lane.target_ms,
                    };
                    if best.is_none_or(|x| candidate_better(cfg.urgency, &cand, &x)) {
                        best = Some(cand);
                    }
                }
            }
        }
        (best, blocked)
    }

    /// The best free agent for a contact, inner rings first.
    pub(super) fn find_agent(&mut self, slot: u32) -> Option<u32> {
        let c = &self.contacts[slot as usize];
        let lane = c.lane as usize;
        let age = self.now - c.arrival;
        let cost = self.cfg.cost[self.lanes[lane].channel];
        let (idle_ok, any_ok) = match &self.cfg.reserve {
            Some(r) if r.privileged & (1 << c.bucket()) == 0 => (
                self.idle_total > r.idle_agents,
                self.free_total >= r.free_units + cost as u64,
            ),
            _ => (true, true),
        };
        let rings = self.lanes[lane].rings.len();
        if any_ok {
            for r in 0..rings {
                let ring = self.lanes[lane].rings[r];
                if !ring.active(age) {
                    continue;
                }
                if let Some(a) = self.pool_best(ring.pool, ring.min_prof, idle_ok) {
                    return Some(a);
                }
            }
        }
        if !(idle_ok && any_ok) {
            for r in 0..rings {
                let ring = self.lanes[lane].rings[r];
                if ring.active(age) {
                    if let Some(a) = self.pool_best(ring.pool, ring.min_prof, true) {
                        self.record_blocked_contact(slot);
                        self.record_blocked_agent(a);
                        break;
                    }
                }
            }
        }
        None
    }

    fn pool_best(&mut self, pool: u32, min_prof: u8, idle_ok: bool) -> Option<u32> {
        let cfg = &self.cfg;
        let allowed = if idle_ok {
            cfg.allowed_idle[min_prof as usize]
        } else {
            cfg.allowed_busy[min_prof as usize]
        };
        let pool = &mut self.pools[pool as usize];
        let agents = &self.agents;
        let versions = &self.versions;
        let mut bits = pool.mask & allowed;
        let mut best: Option<AgentKey> = None;
        while bits != 0 {
            let b = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let Some(a) = pool.head(b, |x| versions[x as usize]) else {
                continue;
            };
            let (cross, prof, level) = cfg.layout.decode(b);
            let idle = agents[a as usize].idle_since;
            let primary = match cfg.selection {
                Selection::LongestIdle => 0.0,
                Selection::LeastOccupied => level as f64,
                Selection::HighestProficiency => -(prof as f64),
                Selection::Weighted => {
                    let idle_minutes = (self.now - idle) as f64 / 60_000.0;
                    let free_share = 1.0 - level as f64 / 12.0;
                    -(cfg.w_idle * idle_minutes
                        + cfg.w_free * free_share
                        + cfg.w_prof * prof as f64)
                }
            };
            let key = AgentKey {
                class: if cfg.prefer_specialists {
                    cross as u8
                } else {
                    0
                },
                primary,
                idle,
                agent: a,
            };
            if best.is_none_or(|b| key.better_than(&b)) {
                best = Some(key);
            }
        }
        best.map(|k| k.agent)
    }

    // ------------------------------------------------------------------ reserve

    fn is_privileged(&self, slot: u32) -> bool {
        match &self.cfg.reserve {
            None => true,
            Some(r) => r.privileged & (1 << self.contacts[slot as usize].bucket()) != 0,
        }
    }

    fn reserve_allows_standard(&self, used: u32, cost: u32) -> bool {
        match &self.cfg.reserve {
            None => true,
            Some(r) => {
                (used > 0 || self.idle_total > r.idle_agents)
                    && self.free_total >= r.free_units + cost as u64
            }
        }
    }

    /// Whether the reserve lets this agent take this contact.
    pub(super) fn reserve_ok(&self, slot: u32, a: u32) -> bool {
        let ch = self.queues[self.contacts[slot as usize].queue as usize].ch;
        self.is_privileged(slot)
            || self.reserve_allows_standard(self.agents[a as usize].used, self.cfg.cost[ch])
    }

    fn record_blocked_contact(&mut self, slot: u32) {
        let epoch = self.epochs[slot as usize];
        let c = &mut self.contacts[slot as usize];
        if c.blocked_epoch != epoch {
            c.blocked_epoch = epoch;
            self.blocked_contacts.push((slot, epoch));
        }
    }

    fn record_blocked_agent(&mut self, a: u32) {
        let ag = &mut self.agents[a as usize];
        if !ag.blocked {
            ag.blocked = true;
            self.blocked_agents.push(a);
        }
    }

    /// Matches that only the reserve stood in the way of, retried once the reserve has slack.
    fn retry_reserve(&mut self, out: &mut Vec<Event>) {
        let Some(r) = self.cfg.reserve else {
            return;
        };
        if self.blocked_contacts.is_empty() && self.blocked_agents.is_empty() {
            return;
        }
        let units_slack = self.free_total >= r.free_units + self.cfg.min_cost as u64;
        let idle_slack = self.idle_total > r.idle_agents;
        if !(units_slack && (idle_slack || r.free_units > 0)) {
            return;
        }
        loop {
            let mut progress = false;
            for (slot, epoch) in std::mem::take(&mut self.blocked_contacts) {
                let c = &mut self.contacts[slot as usize];
                if self.epochs[slot as usize] != epoch || !c.in_lane {
                    continue;
                }
                c.blocked_epoch = NONE;
                if let Some(a) = self.find_agent(slot) {
                    self.unwait(slot);
                    self.offer(slot, a, out);
                    self.after_offer(a, out);
                    progress = true;
                }
            }
            for a in std::mem::take(&mut self.blocked_agents) {
                self.agents[a as usize].blocked = false;
                if self.agents[a as usize].presence == Presence::Ready {
                    let before = self.agents[a as usize].held.len();
                    self.fill(a, out);
                    progress |= self.agents[a as usize].held.len() > before;
                }
            }
            if !progress {
                break;
            }
        }
    }

    // ------------------------------------------------------------------ lanes and pools

    /// The lane of (queue, language), created with its rings on first use.
    fn lane_for(&mut self, q: u16, lang: u16) -> u32 {
        let n_langs = self.langs.len().max(1);
        let at = q as usize * n_langs + lang as usize;
        if self.lane_of[at] != NONE {
            return self.lane_of[at];
        }
        let qd = &self.queues[q as usize];
        let ch = qd.ch;
        let pool = |s: u16, l: u16| ((s as usize * n_langs + l as usize) * 5 + ch) as u32;
        let mut rings = vec![Ring {
            skill: qd.skill,
            lang,
            min_prof: qd.base_min,
            from: 0,
            until: NEVER,
            pool: pool(qd.skill, lang),
        }];
        for step in &qd.steps {
            let skills = if step.skills.is_empty() {
                vec![qd.skill]
            } else {
                step.skills.clone()
            };
            let langs = if step.langs.is_empty() {
                vec![lang]
            } else {
                step.langs.clone()
            };
            for &s in &skills {
                for &l in &langs {
                    rings.push(Ring {
                        skill: s,
                        lang: l,
                        min_prof: step.min_prof,
                        from: step.from,
                        until: step.until,
                        pool: pool(s, l),
                    });
                }
            }
        }
        let mut activations: Vec<Millis> =
            rings.iter().map(|r| r.from).filter(|&f| f > 0).collect();
        activations.sort_unstable();
        activations.dedup();
        let lane_ix = self.lanes.len() as u32;
        self.lanes.push(Lane::new(
            q,
            lang,
            ch,
            qd.target_ms,
            rings.clone(),
            activations,
        ));
        self.lane_of[at] = lane_ix;
        for (r, ring) in rings.iter().enumerate() {
            let sl = ring.skill as usize * n_langs + ring.lang as usize;
            self.rings_by_sl[sl].push((lane_ix, r as u16));
            self.activate_pool(ring.pool);
            for i in 0..self.registry[sl].len() {
                let a = self.registry[sl][i];
                if self.agents[a as usize].matches(ring) {
                    self.add_interest(a, lane_ix, ring.from, ring.until);
                }
            }
        }
        lane_ix
    }

    /// Makes a pool live: registers its logged-in agents and files the free ones.
    fn activate_pool(&mut self, pool: u32) {
        if self.pools[pool as usize].live {
            return;
        }
        let n_langs = self.langs.len().max(1);
        let ch = pool as usize % 5;
        let sl = pool as usize / 5;
        let skill = (sl / n_langs) as u16;
        let layout = self.cfg.layout;
        let p = &mut self.pools[pool as usize];
        p.live = true;
        p.buckets = vec![VecDeque::new(); layout.count()];
        let mut free: Vec<(Millis, u32, usize)> = Vec::new();
        for i in 0..self.registry[sl].len() {
            let a = self.registry[sl][i];
            let ag = &mut self.agents[a as usize];
            if ag.max[ch] == 0 {
                continue;
            }
            let Some(prof) = ag.proficiency(skill) else {
                continue;
            };
            let top = ag.skills.iter().map(|s| s.1).max().unwrap_or(1);
            let base = layout.base(prof < top, prof);
            ag.memberships.push(Membership {
                pool,
                base: base as u16,
                ch: ch as u8,
            });
            self.pools[pool as usize].members += 1;
            // Dirty agents are filed by their coming reindex.
            if ag.presence == Presence::Ready && !ag.dirty && ag.can_take(ch, self.cfg.cost[ch]) {
                free.push((ag.idle_since, a, base + layout.level(ag.used, ag.units)));
            }
        }
        free.sort_unstable();
        for (_, a, bucket) in free {
            let version = self.versions[a as usize];
            let versions = &self.versions;
            self.pools[pool as usize].push(bucket, Entry { agent: a, version }, |x| {
                versions[x as usize]
            });
        }
    }

    // ------------------------------------------------------------------ queries

    /// Queue names, in [`QueueIx`] order.
    pub fn queues(&self) -> impl Iterator<Item = &str> {
        self.queues.iter().map(|q| q.name.as_str())
    }

    pub fn queue_name(&self, queue: QueueIx) -> Option<&str> {
        self.queues.get(queue.0 as usize).map(|q| q.name.as_str())
    }

    pub fn queue_index(&self, name: &str) -> Option<QueueIx> {
        self.queue_ix.get(name).map(|&q| QueueIx(q))
    }

    /// Skills and languages agents may log in with.
    pub fn skills(&self) -> &[Skill] {
        &self.skills
    }

    pub fn languages(&self) -> &[Language] {
        &self.langs
    }

    /// The state of any contact ever seen (finished ones included).
    pub fn contact_state(&self, contact: ContactId) -> Option<ContactState> {
        match self.contact_ix.get(contact.0) {
            Some(slot) => Some(self.contacts[slot as usize].state),
            None => self.finished_state(contact),
        }
    }

    /// A live (not yet finished) contact.
    pub fn contact(&self, contact: ContactId) -> Option<ContactView> {
        let slot = self.contact_ix.get(contact.0)?;
        let c = self.contacts.get(slot as usize).filter(|c| c.live)?;
        let q = &self.queues[c.queue as usize];
        let holder = if c.agent != NONE { c.agent } else { c.held_for };
        Some(ContactView {
            id: c.id,
            state: c.state,
            queue: q.name.clone(),
            channel: q.channel,
            skill: self.skills[q.skill as usize].clone(),
            language: self.langs[c.lang as usize].clone(),
            priority: c.priority,
            tier: c.tier,
            customer: self.customer_of[slot as usize],
            arrival: c.arrival,
            sla_deadline: c.arrival + q.target_ms,
            agent: (holder != NONE).then(|| self.agents[holder as usize].id),
            escalated: c.escalated,
            transfers: c.transfers as u32,
        })
    }

    /// An agent that has logged in at least once.
    pub fn agent(&self, agent: AgentId) -> Option<AgentView> {
        let &a = self.agent_ix.get(&agent)?;
        let ag = &self.agents[a as usize];
        Some(AgentView {
            id: ag.id,
            state: self.reported_state(a),
            skills: ag
                .skills
                .iter()
                .filter_map(|&(s, p)| {
                    Some(SkillLevel {
                        skill: self.skills[s as usize].clone(),
                        proficiency: crate::model::Proficiency::new(p).ok()?,
                    })
                })
                .collect(),
            languages: ag
                .langs
                .iter()
                .map(|&l| self.langs[l as usize].clone())
                .collect(),
            units: ag.units,
            used_units: ag.used,
            contacts: ag
                .held
                .iter()
                .map(|&s| self.contacts[s as usize].id)
                .collect(),
            idle_since: ag.idle_since,
            last_customers: ag.last_customers.iter().copied().collect(),
        })
    }

    /// Waiting count and longest wait of every queue, in [`QueueIx`] order.
    pub fn queue_stats(&self) -> Vec<QueueStats> {
        let mut oldest: Vec<Option<Millis>> = vec![None; self.queues.len()];
        let mut note = |q: u16, arrival: Millis| {
            let o = &mut oldest[q as usize];
            *o = Some(o.map_or(arrival, |x: Millis| x.min(arrival)));
        };
        let valid = |e: &LaneEntry| self.epochs[e.slot as usize] == e.epoch;
        for lane in &self.lanes {
            for b in 0..lane.buckets.len() {
                if let Some(e) = lane.first_valid(b, valid) {
                    note(lane.queue, e.key.0);
                }
            }
        }
        for ag in &self.agents {
            for &s in &ag.sticky {
                let c = &self.contacts[s as usize];
                note(c.queue, c.arrival);
            }
        }
        self.queues
            .iter()
            .enumerate()
            .map(|(i, q)| QueueStats {
                queue: q.name.clone(),
                channel: q.channel,
                waiting: self.queue_waiting[i],
                longest_wait: oldest[i].map(|a| self.now - a),
            })
            .collect()
    }

    /// Logged-in agents by reported state (offline agents are those logged out).
    pub fn agent_state_counts(&self) -> Vec<(AgentState, u32)> {
        let states = [
            AgentState::Offline,
            AgentState::Available,
            AgentState::Busy,
            AgentState::WrapUp,
            AgentState::Break,
            AgentState::NotResponding,
        ];
        let mut counts = [0u32; 6];
        for a in 0..self.agents.len() {
            let s = self.reported_state(a as u32);
            counts[states.iter().position(|x| *x == s).unwrap_or(0)] += 1;
        }
        states.into_iter().zip(counts).collect()
    }

    /// Contacts not yet completed or abandoned.
    pub fn live_contacts(&self) -> usize {
        self.live_contacts
    }
}
