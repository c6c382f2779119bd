//! The invariant checker: recomputes, from scratch and by brute force, what the indexes and
//! counters claim, and checks the rules of the module documentation. Tests run it after every
//! command; it is `O(agents × waiting contacts)` and meant for test-sized states.

use std::collections::{BTreeSet, HashMap};

use super::index::TimerKind;
use super::protocol::ContactState;
use super::router::Router;
use super::state::{AgentRec, Presence, NONE};

impl Router {
    /// Checks every invariant; the first violation is returned as a message naming the contact
    /// or agent concerned.
    pub fn check_invariants(&self) -> Result<(), String> {
        let cost = self.compiled.cfg.cost;

        // Agents: load, capacity, presence, counters.
        let mut held_by: Vec<u32> = vec![NONE; self.state.contacts.len()];
        let (mut idle, mut free) = (0u32, 0u64);
        for (a, ag) in self.state.agents.iter().enumerate() {
            let a = a as u32;
            let name = ag.id;
            if ag.dirty {
                return Err(format!(
                    "agent {name} is left out of the pools after the command"
                ));
            }
            let mut used = 0;
            let mut count = [0u32; 5];
            for &s in &ag.held {
                let c = &self.state.contacts[s as usize];
                if !c.live
                    || c.agent != a
                    || !matches!(
                        c.state,
                        ContactState::Offered | ContactState::Accepted | ContactState::WrapUp
                    )
                {
                    return Err(format!(
                        "agent {name} holds contact {} which is {:?} with agent index {}",
                        c.id, c.state, c.agent
                    ));
                }
                let other = std::mem::replace(&mut held_by[s as usize], a);
                if other != NONE {
                    return Err(format!(
                        "contact {} is held by agents {} and {}",
                        c.id, self.state.agents[other as usize].id, ag.id
                    ));
                }
                let ch = self.compiled.queues[c.queue as usize].ch;
                used += cost[ch];
                count[ch] += 1;
                if ag.presence != Presence::Ready && c.state == ContactState::Offered {
                    return Err(format!(
                        "agent {name} is {:?} but has an open offer of contact {}",
                        ag.presence, c.id
                    ));
                }
            }
            let wrapping = ag
                .held
                .iter()
                .filter(|&&s| self.state.contacts[s as usize].state == ContactState::WrapUp)
                .count();
            if wrapping != ag.wrapping as usize {
                return Err(format!(
                    "agent {name} counts {} contacts in wrap-up, holds {wrapping}",
                    ag.wrapping
                ));
            }
            if used != ag.used || count != ag.count.map(u32::from) {
                return Err(format!(
                    "agent {name} records {} units {:?} but holds {used} units {count:?}",
                    ag.used, ag.count
                ));
            }
            if used > ag.units || (0..5).any(|ch| count[ch] > ag.max[ch] as u32) {
                return Err(format!(
                    "agent {name} is over capacity: {used} of {} units, {count:?} of {:?}",
                    ag.units, ag.max
                ));
            }
            if ag.presence == Presence::Offline
                && (!ag.held.is_empty() || !ag.memberships.is_empty() || !ag.interests.is_empty())
            {
                return Err(format!(
                    "agent {name} is offline but still holds work or indexes"
                ));
            }
            if ag.presence != Presence::Ready && !ag.sticky.is_empty() {
                return Err(format!(
                    "agent {name} is not available but sticky contacts wait for it"
                ));
            }
            for &s in &ag.sticky {
                let c = &self.state.contacts[s as usize];
                if !c.live || c.state != ContactState::Queued || c.held_for != a || c.in_lane {
                    return Err(format!(
                        "agent {name} lists sticky contact {} wrongly",
                        c.id
                    ));
                }
            }
            if ag.presence == Presence::Ready {
                idle += (ag.used == 0) as u32;
                free += (ag.units - ag.used) as u64;
            }
            if ag.reported != self.reported_state(a) {
                return Err(format!(
                    "agent {name} was last reported {:?} but is {:?}",
                    ag.reported,
                    self.reported_state(a)
                ));
            }
        }
        if idle != self.state.idle_total || free != self.state.free_total {
            return Err(format!(
                "totals say {} idle agents and {} free units; recount gives {idle} and {free}",
                self.state.idle_total, self.state.free_total
            ));
        }

        // Contacts: exactly one state, and the structure that state implies.
        let mut live = 0;
        let mut waiting = vec![0u32; self.compiled.queues.len()];
        let mut in_lanes: Vec<u32> = Vec::new();
        for (slot, c) in self.state.contacts.iter().enumerate() {
            let slot = slot as u32;
            if !c.live {
                continue;
            }
            live += 1;
            let name = c.id;
            if self.state.contact_ix.get(c.id.0) != Some(slot) {
                return Err(format!("contact {name} is not indexed by its id"));
            }
            match c.state {
                ContactState::Queued => {
                    if c.agent != NONE || c.in_lane == (c.held_for != NONE) {
                        return Err(format!(
                            "contact {name} is queued but in_lane={} held_for={} agent={}",
                            c.in_lane, c.held_for, c.agent
                        ));
                    }
                    waiting[c.queue as usize] += 1;
                    if c.in_lane {
                        let lane = &self.state.lanes[c.lane as usize];
                        if lane.queue != c.queue || lane.lang != c.lang {
                            return Err(format!("contact {name} is in the lane of another queue"));
                        }
                        let entries = &lane.buckets[c.bucket()].entries;
                        // A requeued contact's stale old entry may share its key.
                        let at = entries.partition_point(|e| e.key < c.key());
                        let filed = entries
                            .range(at..)
                            .take_while(|e| e.key == c.key())
                            .any(|e| e.slot == slot && e.epoch == self.state.epochs[slot as usize]);
                        if !filed {
                            return Err(format!("contact {name} is missing from its lane"));
                        }
                        in_lanes.push(slot);
                    }
                }
                ContactState::Offered | ContactState::Accepted | ContactState::WrapUp => {
                    if c.in_lane || c.held_for != NONE || held_by[slot as usize] != c.agent {
                        return Err(format!(
                            "contact {name} is {:?} but not held by its agent",
                            c.state
                        ));
                    }
                    if c.state != ContactState::WrapUp {
                        let lane = &self.state.lanes[c.lane as usize];
                        let age = c.offered_at - c.arrival;
                        let ag = &self.state.agents[c.agent as usize];
                        if !lane.rings.iter().any(|r| r.active(age) && ag.matches(r)) {
                            return Err(format!(
                                "contact {name} was offered to agent {} who was not eligible",
                                ag.id
                            ));
                        }
                    }
                }
                ContactState::Completed | ContactState::Abandoned => {
                    return Err(format!("contact {name} is {:?} but still live", c.state));
                }
            }
        }
        if live != self.state.live_contacts || live != self.state.contact_ix.len() {
            return Err(format!(
                "{} live contacts recorded, {live} found",
                self.state.live_contacts
            ));
        }
        if waiting != self.state.queue_waiting {
            return Err(format!(
                "waiting counts {:?} differ from recount {waiting:?}",
                self.state.queue_waiting
            ));
        }
        let mut lane_entries = 0;
        for (i, lane) in self.state.lanes.iter().enumerate() {
            for (b, bucket) in lane.buckets.iter().enumerate() {
                if bucket.entries.is_empty() == (lane.mask >> b & 1 == 1) {
                    return Err(format!("lane {i} bucket {b} has a wrong mask bit"));
                }
                let valid = bucket
                    .entries
                    .iter()
                    .filter(|e| self.state.epochs[e.slot as usize] == e.epoch)
                    .count();
                if valid != bucket.live as usize {
                    return Err(format!(
                        "lane {i} bucket {b} counts {} waiting, holds {valid}",
                        bucket.live
                    ));
                }
                if !bucket
                    .entries
                    .iter()
                    .zip(bucket.entries.iter().skip(1))
                    .all(|(x, y)| x.key <= y.key)
                {
                    return Err(format!("lane {i} bucket {b} is out of order"));
                }
                lane_entries += valid;
            }
        }
        if lane_entries != in_lanes.len() {
            return Err(format!(
                "lanes hold {lane_entries} entries for {} queued contacts",
                in_lanes.len()
            ));
        }

        // Pools: each available agent filed once in every pool it has room in, in order.
        let mut filed: HashMap<(u32, u32), usize> = HashMap::new();
        let mut members = vec![0u32; self.state.pools.len()];
        for m in self
            .state
            .agents
            .iter()
            .flat_map(|ag| ag.memberships.iter())
        {
            members[m.pool as usize] += 1;
        }
        for (p, pool) in self.state.pools.iter().enumerate() {
            let members = members[p];
            if members != pool.members {
                return Err(format!(
                    "pool {p} counts {} members, {members} found",
                    pool.members
                ));
            }
            for (b, bucket) in pool.buckets.iter().enumerate() {
                let mut last = 0;
                for e in bucket {
                    let ag = &self.state.agents[e.agent as usize];
                    if self.state.versions[e.agent as usize] != e.version {
                        continue;
                    }
                    if pool.mask >> b & 1 == 0 {
                        return Err(format!(
                            "pool {p} bucket {b} holds agents but its bit is clear"
                        ));
                    }
                    if ag.idle_since < last {
                        return Err(format!("pool {p} bucket {b} is out of idle order"));
                    }
                    last = ag.idle_since;
                    if filed.insert((p as u32, e.agent), b).is_some() {
                        return Err(format!("agent {} is filed twice in pool {p}", ag.id));
                    }
                }
            }
        }
        let n_langs = self.compiled.n_langs();
        for (a, ag) in self.state.agents.iter().enumerate() {
            let a = a as u32;
            let mut expected = BTreeSet::new();
            if ag.presence != Presence::Offline {
                for &(s, _) in &ag.skills {
                    for &l in &ag.langs {
                        for ch in 0..5 {
                            let pool = (s as usize * n_langs + l as usize) * 5 + ch;
                            if ag.max[ch] > 0 && self.state.pools[pool].live {
                                expected.insert(pool as u32);
                            }
                        }
                    }
                }
            }
            let have: BTreeSet<u32> = ag.memberships.iter().map(|m| m.pool).collect();
            if have != expected || have.len() != ag.memberships.len() {
                return Err(format!("agent {} has wrong pool memberships", ag.id));
            }
            for m in &ag.memberships {
                let ch = m.ch as usize;
                let room = ag.presence == Presence::Ready && ag.can_take(ch, cost[ch]);
                let want = room
                    .then(|| m.base as usize + self.compiled.cfg.layout.level(ag.used, ag.units));
                if filed.get(&(m.pool, a)).copied() != want {
                    return Err(format!(
                        "agent {} is filed in pool {} bucket {:?}, expected {want:?}",
                        ag.id,
                        m.pool,
                        filed.get(&(m.pool, a))
                    ));
                }
            }
            // Interests: exactly the merged windows of the rings the agent matches.
            if ag.presence == Presence::Offline {
                continue;
            }
            let (prof, speaks) = self.match_tables(ag);
            let mut expected: Vec<(u32, u64, u64)> = Vec::new();
            for (l, lane) in self.state.lanes.iter().enumerate() {
                let mut windows: Vec<(u64, u64)> = lane
                    .rings
                    .iter()
                    .filter(|r| prof[r.skill as usize] >= r.min_prof && speaks[r.lang as usize])
                    .map(|r| (r.from, r.until))
                    .collect();
                windows.sort_unstable();
                let mut merged: Vec<(u64, u64)> = Vec::new();
                for (from, until) in windows {
                    match merged.last_mut() {
                        Some(last) if from <= last.1 => last.1 = last.1.max(until),
                        _ => merged.push((from, until)),
                    }
                }
                expected.extend(merged.into_iter().map(|(f, u)| (l as u32, f, u)));
            }
            let mut have: Vec<(u32, u64, u64)> = ag
                .interests
                .iter()
                .map(|it| (it.lane, it.from, it.until))
                .collect();
            have.sort_unstable();
            if have != expected {
                return Err(format!(
                    "agent {} has lane interests {have:?}, expected {expected:?}",
                    ag.id
                ));
            }
        }

        // Work conservation: no waiting contact that a free agent could take now.
        for (a, ag) in self.state.agents.iter().enumerate() {
            let a = a as u32;
            let room: Vec<bool> = (0..5).map(|ch| ag.can_take(ch, cost[ch])).collect();
            if ag.presence != Presence::Ready || !room.contains(&true) {
                continue;
            }
            let (prof, speaks) = self.match_tables(ag);
            for &s in in_lanes.iter().chain(ag.sticky.iter()) {
                let c = &self.state.contacts[s as usize];
                let lane = &self.state.lanes[c.lane as usize];
                if !room[lane.channel] {
                    continue;
                }
                let age = self.state.now - c.arrival;
                let eligible = c.held_for == a
                    || lane.rings.iter().any(|r| {
                        r.active(age)
                            && prof[r.skill as usize] >= r.min_prof
                            && speaks[r.lang as usize]
                    });
                if eligible && self.reserve_ok(s, a) {
                    return Err(format!(
                        "contact {} waits in {} while agent {} is free and eligible",
                        c.id, self.compiled.queues[c.queue as usize].name, ag.id
                    ));
                }
            }
        }

        // Timers: every pending transition is scheduled, none is overdue.
        let mut due: HashMap<(u32, u8), u64> = HashMap::new();
        for t in self.state.timers.iter() {
            if !self.timer_valid(t) {
                continue;
            }
            if t.due <= self.state.now {
                return Err(format!("a {:?} timer is overdue", t.kind));
            }
            let c = &self.state.contacts[t.slot as usize];
            let state_fits = c.live
                && match t.kind {
                    TimerKind::OfferTimeout => c.state == ContactState::Offered,
                    TimerKind::Relax => c.state == ContactState::Queued && c.in_lane,
                    TimerKind::Escalate => {
                        c.state == ContactState::Queued && (c.in_lane || c.held_for != NONE)
                    }
                    TimerKind::StickyExpiry => {
                        c.state == ContactState::Queued && c.held_for != NONE
                    }
                    TimerKind::WrapUpEnd => c.state == ContactState::WrapUp,
                };
            if !state_fits {
                return Err(format!(
                    "a live {:?} timer points at contact {} which is {:?}",
                    t.kind, c.id, c.state
                ));
            }
            let k = (t.slot, t.kind as u8);
            due.entry(k)
                .and_modify(|d| *d = (*d).min(t.due))
                .or_insert(t.due);
        }
        if let Some(top) = self.state.timers.peek() {
            if !self.timer_valid(top) {
                return Err("the next deadline is a stale timer".into());
            }
        }
        for (slot, c) in self.state.contacts.iter().enumerate() {
            if !c.live {
                continue;
            }
            let slot = slot as u32;
            let has = |k: TimerKind| due.get(&(slot, k as u8)).copied();
            let missing = |what: &str| Err(format!("contact {} has no {what} timer", c.id));
            match c.state {
                ContactState::Offered
                    if has(TimerKind::OfferTimeout)
                        != Some(c.offered_at + self.compiled.cfg.offer_ms) =>
                {
                    return missing("offer timeout");
                }
                ContactState::WrapUp if has(TimerKind::WrapUpEnd).is_none() => {
                    return missing("wrap-up");
                }
                ContactState::Queued => {
                    if c.held_for != NONE && has(TimerKind::StickyExpiry).is_none() {
                        return missing("sticky expiry");
                    }
                    if c.in_lane {
                        let age = self.state.now - c.arrival;
                        let lane = &self.state.lanes[c.lane as usize];
                        let next = lane.activations.iter().find(|&&t| t > age);
                        if next.map(|n| c.arrival + n) != has(TimerKind::Relax) {
                            return missing("relaxation");
                        }
                    }
                    let escalates = self.compiled.cfg.escalation.is_some()
                        && self.compiled.queues[c.queue as usize].escalate
                        && !c.escalated;
                    if escalates && has(TimerKind::Escalate).is_none() {
                        return missing("escalation");
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Dense lookups of an agent's proficiency per skill (0: none) and languages.
    fn match_tables(&self, ag: &AgentRec) -> (Vec<u8>, Vec<bool>) {
        let mut prof = vec![0u8; self.compiled.skills.len()];
        for &(s, p) in &ag.skills {
            prof[s as usize] = p;
        }
        let mut speaks = vec![false; self.compiled.langs.len()];
        for &l in &ag.langs {
            speaks[l as usize] = true;
        }
        (prof, speaks)
    }

    /// A hash of the logical state (contacts, agents, waiting order, pending transitions,
    /// sticky memory), blind to index housekeeping such as stale entries. Equal digests mean
    /// the routers will behave the same; tests use it to show that a rejected command changed
    /// nothing and that a replay rebuilds the same state.
    pub fn state_digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = super::index::FxHasher::default();
        self.state.now.hash(&mut h);
        self.state.seq.hash(&mut h);
        for (slot, c) in self
            .state
            .contacts
            .iter()
            .enumerate()
            .filter(|(_, c)| c.live)
        {
            (
                c.id,
                c.state,
                c.queue,
                c.lang,
                c.priority,
                c.tier,
                c.arrival,
                c.seq,
                self.state.customer_of[slot],
            )
                .hash(&mut h);
            let holder = if c.agent != NONE { c.agent } else { c.held_for };
            (holder != NONE)
                .then(|| self.state.agents[holder as usize].id)
                .hash(&mut h);
            (c.in_lane, c.offered_at, c.escalated, c.transfers).hash(&mut h);
        }
        self.state.seen.hash(&mut h);
        self.state.abandoned.hash(&mut h);
        for ag in &self.state.agents {
            (
                ag.id,
                ag.presence as u8,
                &ag.skills,
                &ag.langs,
                ag.units,
                ag.max,
                ag.used,
                ag.idle_since,
            )
                .hash(&mut h);
            ag.held
                .iter()
                .map(|&s| self.state.contacts[s as usize].id)
                .for_each(|id| id.hash(&mut h));
            ag.sticky
                .iter()
                .map(|&s| self.state.contacts[s as usize].id)
                .for_each(|id| id.hash(&mut h));
            ag.last_customers.hash(&mut h);
        }
        let mut timers: Vec<(u64, u8, u64)> = self
            .state
            .timers
            .iter()
            .filter(|t| self.timer_valid(t))
            .map(|t| {
                (
                    t.due,
                    t.kind as u8,
                    self.state.contacts[t.slot as usize].id.0,
                )
            })
            .collect();
        timers.sort_unstable();
        timers.hash(&mut h);
        let mut customers: Vec<_> = self
            .state
            .customers
            .iter()
            .map(|(c, (a, t))| (c.0, self.state.agents[*a as usize].id.0, *t))
            .collect();
        customers.sort_unstable();
        customers.hash(&mut h);
        h.finish()
    }
}
