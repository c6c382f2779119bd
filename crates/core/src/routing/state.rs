//! The mutable routing state: [`State`], everything a router changes while it routes, and the
//! records it is made of (contacts, agents, their memberships and lane interests).
//!
//! [`State::new`] is the one constructor: a state built from a compiled policy, with a lane for
//! each catalog queue in its own language and the pools those lanes need made live.
//! [`super::Router::reset`] is `State::new` again, so nothing can leak from one simulation
//! replication to the next. The lanes and pools grow here too ([`State::lane_for`]): a contact
//! in a language other than its queue's gets its own lane on first use.

use std::collections::VecDeque;
use std::hash::BuildHasherDefault;

use serde::{Deserialize, Serialize};

use crate::cow::{ChunkedQueue, ShardedMap};

use super::compile::Compiled;
use super::index::{
    lane_bucket, ContactIndex, Entry, FxHasher, FxMap, IdSet, Lane, LaneKey, Pool, Ring, Timers,
};
use super::protocol::{AgentId, AgentState, ContactId, ContactState, CustomerId, Millis, Tier};

pub(super) const NONE: u32 = u32::MAX;
pub(super) const LAST_CUSTOMERS: usize = 4;
/// `Ring::until` of a ring that never expires.
pub(super) const NEVER: Millis = Millis::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Presence {
    Offline,
    Ready,
    Break,
    NotResponding,
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

    fn speaks(&self, lang: u16) -> bool {
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

/// Everything a router changes while routing: contacts, agents, lanes, pools, timers, the
/// sticky memory and the center-wide totals. Built only by [`State::new`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct State {
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

impl State {
    /// The state of a router that has seen no command: the clock at 0, no contacts or agents,
    /// a lane for each catalog queue in its own language.
    pub fn new(p: &Compiled) -> State {
        let (n_skills, n_langs, n_queues) = (p.skills.len(), p.n_langs(), p.queues.len());
        let mut state = State {
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
        for q in 0..p.catalog_queues {
            state.lane_for(p, q as u16, p.queues[q].lang);
        }
        state
    }

    /// The lane of (queue, language), created with its rings on first use.
    pub fn lane_for(&mut self, p: &Compiled, q: u16, lang: u16) -> u32 {
        let n_langs = p.n_langs();
        let at = q as usize * n_langs + lang as usize;
        if self.lane_of[at] != NONE {
            return self.lane_of[at];
        }
        let qd = &p.queues[q as usize];
        let ch = qd.ch;
        let rings: Vec<Ring> = qd
            .rings
            .iter()
            .map(|r| {
                let l = r.lang.unwrap_or(lang);
                Ring {
                    skill: r.skill,
                    lang: l,
                    min_prof: r.min_prof,
                    from: r.from,
                    until: r.until,
                    pool: p.pool_of(r.skill, l, ch),
                }
            })
            .collect();
        let lane_ix = self.lanes.len() as u32;
        self.lanes.push(Lane::new(
            q,
            lang,
            ch,
            qd.target_ms,
            rings.clone(),
            qd.activations.clone(),
        ));
        self.lane_of[at] = lane_ix;
        for (r, ring) in rings.iter().enumerate() {
            let sl = ring.skill as usize * n_langs + ring.lang as usize;
            self.rings_by_sl[sl].push((lane_ix, r as u16));
            self.activate_pool(p, ring.pool);
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
    fn activate_pool(&mut self, p: &Compiled, pool: u32) {
        if self.pools[pool as usize].live {
            return;
        }
        let n_langs = p.n_langs();
        let ch = pool as usize % 5;
        let sl = pool as usize / 5;
        let skill = (sl / n_langs) as u16;
        let layout = p.cfg.layout;
        let target = &mut self.pools[pool as usize];
        target.live = true;
        target.buckets = vec![VecDeque::new(); layout.count()];
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
            if ag.presence == Presence::Ready && !ag.dirty && ag.can_take(ch, p.cfg.cost[ch]) {
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

    /// Adds an eligibility window for a lane, merged with the agent's overlapping ones.
    pub fn add_interest(&mut self, a: u32, lane: u32, mut from: Millis, mut until: Millis) {
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
}
