//! Matching and offers: the two directions that keep the center work-conserving. A waiting
//! contact looks for the best free agent ring by ring in the agent pools (`find_agent`,
//! `pool_best`); an agent with room takes the best waiting contacts over the lanes it is
//! interested in (`fill`, `best_contact_for`). Sticky routing (`try_sticky`, `sticky_ready`),
//! the offer itself, and the reserve (which pairs it forbids, and retrying the matches it
//! blocked once it has slack) live here too.

use super::index::{LaneEntry, LaneKey, TimerKind};
use super::policy::{Selection, Urgency};
use super::protocol::{ContactState, Event, EventKind, Millis};
use super::router::Router;
use super::state::{Presence, NONE};

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

impl Router {
    pub(super) fn try_sticky(&mut self, slot: u32, out: &mut Vec<Event>) -> bool {
        let Some((window, wait)) = self.compiled.cfg.sticky else {
            return false;
        };
        let c = &self.state.contacts[slot as usize];
        let Some(customer) = self.state.customer_of[slot as usize] else {
            return false;
        };
        let Some(&(a, served)) = self.state.customers.get(&customer) else {
            return false;
        };
        if self.state.now - served > window {
            return false;
        }
        let ag = &self.state.agents[a as usize];
        let lane = &self.state.lanes[c.lane as usize];
        if ag.presence != Presence::Ready || !ag.matches(&lane.rings[0]) {
            return false;
        }
        let ch = lane.channel;
        if ag.can_take(ch, self.compiled.cfg.cost[ch]) {
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
        let c = &mut self.state.contacts[slot as usize];
        c.held_for = a;
        let (queue, contact) = (c.queue, c.id);
        self.state.agents[a as usize].sticky.push(slot);
        self.state.queue_waiting[queue as usize] += 1;
        let until = self.state.now + wait;
        self.push_timer(until, TimerKind::StickyExpiry, slot, wait);
        self.schedule_escalation(slot);
        out.push(Event {
            at: self.state.now,
            kind: EventKind::StickyHeld {
                contact,
                agent: self.state.agents[a as usize].id,
                until,
            },
        });
        true
    }

    pub(super) fn offer(&mut self, slot: u32, a: u32, out: &mut Vec<Event>) {
        let now = self.state.now;
        let c = &mut self.state.contacts[slot as usize];
        c.state = ContactState::Offered;
        c.agent = a;
        c.offered_at = now;
        self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
        let ch = self.compiled.queues[c.queue as usize].ch;
        let contact = c.id;
        self.begin(a);
        let ag = &mut self.state.agents[a as usize];
        ag.used += self.compiled.cfg.cost[ch];
        ag.count[ch] += 1;
        ag.held.push(slot);
        let agent = ag.id;
        self.end(a);
        let expires = now + self.compiled.cfg.offer_ms;
        self.push_timer(
            expires,
            TimerKind::OfferTimeout,
            slot,
            self.compiled.cfg.offer_ms,
        );
        out.push(Event {
            at: now,
            kind: EventKind::Offered {
                contact,
                agent,
                expires,
            },
        });
    }

    /// Gives a free agent the best waiting contacts it is eligible for, until it is full or
    /// nothing is left; then puts it back into the pools.
    pub(super) fn fill(&mut self, a: u32, out: &mut Vec<Event>) {
        loop {
            if self.state.agents[a as usize].presence != Presence::Ready {
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
            let c = &mut self.state.contacts[cand.slot as usize];
            c.in_lane = false;
            let queue = c.queue;
            self.state.lanes[cand.lane as usize].remove(cand.bucket, cand.key);
            self.state.queue_waiting[queue as usize] -= 1;
            self.offer(cand.slot, a, out);
        }
        self.settle_agent(a, out);
    }

    /// Whether the agent could take one more contact of any channel.
    fn has_room(&self, a: u32) -> bool {
        let (ag, cost) = (&self.state.agents[a as usize], &self.compiled.cfg.cost);
        (0..5).any(|ch| ag.can_take(ch, cost[ch]))
    }

    fn sticky_ready(&self, a: u32) -> Option<u32> {
        let ag = &self.state.agents[a as usize];
        ag.sticky.iter().copied().find(|&s| {
            let ch = self.compiled.queues[self.state.contacts[s as usize].queue as usize].ch;
            ag.can_take(ch, self.compiled.cfg.cost[ch]) && self.reserve_ok(s, a)
        })
    }

    /// The best waiting contact for an agent, and whether the reserve kept some contact from it.
    fn best_contact_for(&mut self, a: u32) -> (Option<Candidate>, bool) {
        let ag = &self.state.agents[a as usize];
        let now = self.state.now;
        let cfg = &self.compiled.cfg;
        let epochs = &self.state.epochs;
        let valid = |e: &LaneEntry| epochs[e.slot as usize] == e.epoch;
        let standard_ok = |cost: u32| match &cfg.reserve {
            None => true,
            Some(r) => {
                (ag.used > 0 || self.state.idle_total > r.idle_agents)
                    && self.state.free_total >= r.free_units + cost as u64
            }
        };
        let mut best: Option<Candidate> = None;
        let mut blocked = false;
        for it in &ag.interests {
            let lane = &mut self.state.lanes[it.lane as usize];
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
        let c = &self.state.contacts[slot as usize];
        let lane = c.lane as usize;
        let age = self.state.now - c.arrival;
        let cost = self.compiled.cfg.cost[self.state.lanes[lane].channel];
        let (idle_ok, any_ok) = match &self.compiled.cfg.reserve {
            Some(r) if r.privileged & (1 << c.bucket()) == 0 => (
                self.state.idle_total > r.idle_agents,
                self.state.free_total >= r.free_units + cost as u64,
            ),
            _ => (true, true),
        };
        let rings = self.state.lanes[lane].rings.len();
        if any_ok {
            for r in 0..rings {
                let ring = self.state.lanes[lane].rings[r];
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
                let ring = self.state.lanes[lane].rings[r];
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
        let cfg = &self.compiled.cfg;
        let allowed = if idle_ok {
            cfg.allowed_idle[min_prof as usize]
        } else {
            cfg.allowed_busy[min_prof as usize]
        };
        let pool = &mut self.state.pools[pool as usize];
        let agents = &self.state.agents;
        let versions = &self.state.versions;
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
                    let idle_minutes = (self.state.now - idle) as f64 / 60_000.0;
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

    fn is_privileged(&self, slot: u32) -> bool {
        match &self.compiled.cfg.reserve {
            None => true,
            Some(r) => r.privileged & (1 << self.state.contacts[slot as usize].bucket()) != 0,
        }
    }

    fn reserve_allows_standard(&self, used: u32, cost: u32) -> bool {
        match &self.compiled.cfg.reserve {
            None => true,
            Some(r) => {
                (used > 0 || self.state.idle_total > r.idle_agents)
                    && self.state.free_total >= r.free_units + cost as u64
            }
        }
    }

    /// Whether the reserve lets this agent take this contact.
    pub(super) fn reserve_ok(&self, slot: u32, a: u32) -> bool {
        let ch = self.compiled.queues[self.state.contacts[slot as usize].queue as usize].ch;
        self.is_privileged(slot)
            || self.reserve_allows_standard(
                self.state.agents[a as usize].used,
                self.compiled.cfg.cost[ch],
            )
    }

    fn record_blocked_contact(&mut self, slot: u32) {
        let epoch = self.state.epochs[slot as usize];
        let c = &mut self.state.contacts[slot as usize];
        if c.blocked_epoch != epoch {
            c.blocked_epoch = epoch;
            self.state.blocked_contacts.push((slot, epoch));
        }
    }

    fn record_blocked_agent(&mut self, a: u32) {
        let ag = &mut self.state.agents[a as usize];
        if !ag.blocked {
            ag.blocked = true;
            self.state.blocked_agents.push(a);
        }
    }

    /// Matches that only the reserve stood in the way of, retried once the reserve has slack.
    pub(super) fn retry_reserve(&mut self, out: &mut Vec<Event>) {
        let Some(r) = self.compiled.cfg.reserve else {
            return;
        };
        if self.state.blocked_contacts.is_empty() && self.state.blocked_agents.is_empty() {
            return;
        }
        let units_slack = self.state.free_total >= r.free_units + self.compiled.cfg.min_cost as u64;
        let idle_slack = self.state.idle_total > r.idle_agents;
        if !(units_slack && (idle_slack || r.free_units > 0)) {
            return;
        }
        loop {
            let mut progress = false;
            for (slot, epoch) in std::mem::take(&mut self.state.blocked_contacts) {
                let c = &mut self.state.contacts[slot as usize];
                if self.state.epochs[slot as usize] != epoch || !c.in_lane {
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
            for a in std::mem::take(&mut self.state.blocked_agents) {
                self.state.agents[a as usize].blocked = false;
                if self.state.agents[a as usize].presence == Presence::Ready {
                    let before = self.state.agents[a as usize].held.len();
                    self.fill(a, out);
                    progress |= self.state.agents[a as usize].held.len() > before;
                }
            }
            if !progress {
                break;
            }
        }
    }
}
