//! Agents: the agent commands (login, logout, availability) and everything that changes an
//! agent's load or presence. `begin`/`end` bracket every such change (center-wide idle and
//! free-unit totals, the agent's version, the dirty list), `reindex` files a changed agent
//! back into the pools it has room in, `register`/`unregister` add and remove a logged-in
//! agent from the registries, live pools and lane interests, and `note_state` reports its
//! state when it changes.

use std::collections::VecDeque;

use crate::model::{Language, SkillLevel};

use super::index::Entry;
use super::policy::{channel_index, MAX_UNITS};
use super::protocol::{
    AgentCapacity, AgentId, AgentState, Availability, ContactState, Event, EventKind, Millis,
    Rejection, RequeueReason,
};
use super::router::Router;
use super::state::{AgentRec, Membership, Presence, NONE};

impl Router {
    pub(super) fn login(
        &mut self,
        agent: AgentId,
        skills: &[SkillLevel],
        languages: &[Language],
        capacity: Option<&AgentCapacity>,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let existing = self.state.agent_ix.get(&agent).copied();
        if let Some(a) = existing {
            if self.state.agents[a as usize].presence != Presence::Offline {
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
            let Some(&ix) = self.compiled.skill_ix.get(s.skill.as_str()) else {
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
            let Some(&ix) = self.compiled.lang_ix.get(l.as_str()) else {
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
            None => (
                self.compiled.cfg.default_units,
                self.compiled.cfg.default_max,
            ),
            Some(cap) => {
                let units = cap.units.unwrap_or(self.compiled.cfg.default_units);
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
            idle_since: self.state.now,
            dirty: false,
            blocked: false,
            memberships: Vec::new(),
            interests: Vec::new(),
            reported: AgentState::Offline,
            last_customers: VecDeque::new(),
        };
        let a = match existing {
            Some(a) => {
                let old = &mut self.state.agents[a as usize];
                let last_customers = std::mem::take(&mut old.last_customers);
                *old = AgentRec {
                    last_customers,
                    ..record
                };
                a
            }
            None => {
                self.state.agents.push(record);
                self.state.versions.push(0);
                let a = (self.state.agents.len() - 1) as u32;
                self.state.agent_ix.insert(agent, a);
                a
            }
        };
        self.register(a);
        self.begin(a);
        self.state.agents[a as usize].presence = Presence::Ready;
        self.end(a);
        self.note_state(a, out);
        self.fill(a, out);
        Ok(())
    }

    pub(super) fn logout(&mut self, agent: AgentId, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let a = self.logged_in(agent)?;
        let held = std::mem::take(&mut self.state.agents[a as usize].held);
        let sticky = std::mem::take(&mut self.state.agents[a as usize].sticky);
        self.begin(a);
        {
            let ag = &mut self.state.agents[a as usize];
            ag.presence = Presence::Offline;
            ag.wrapping = 0;
            ag.used = 0;
            ag.count = [0; 5];
        }
        self.end(a);
        let mut requeue = Vec::with_capacity(held.len() + sticky.len());
        for slot in held {
            let c = &mut self.state.contacts[slot as usize];
            c.agent = NONE;
            let contact = c.id;
            if c.state == ContactState::WrapUp {
                self.retire(slot, ContactState::Completed);
                out.push(Event {
                    at: self.state.now,
                    kind: EventKind::Completed { contact, agent },
                });
            } else {
                c.state = ContactState::Queued;
                self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
                out.push(Event {
                    at: self.state.now,
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

    pub(super) fn set_availability(
        &mut self,
        agent: AgentId,
        availability: Availability,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let a = self.logged_in(agent)?;
        let presence = self.state.agents[a as usize].presence;
        match (availability, presence) {
            (Availability::Available, Presence::Ready) | (Availability::Break, Presence::Break) => {
            }
            (Availability::Available, _) => {
                self.begin(a);
                self.state.agents[a as usize].presence = Presence::Ready;
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

    pub(super) fn logged_in(&self, agent: AgentId) -> Result<u32, Rejection> {
        match self.state.agent_ix.get(&agent) {
            Some(&a) if self.state.agents[a as usize].presence != Presence::Offline => Ok(a),
            _ => Err(Rejection::UnknownAgent { agent }),
        }
    }

    fn contribution(&self, a: u32) -> (u32, u64) {
        let ag = &self.state.agents[a as usize];
        if ag.presence == Presence::Ready {
            ((ag.used == 0) as u32, (ag.units - ag.used) as u64)
        } else {
            (0, 0)
        }
    }

    /// Before changing an agent's load or presence.
    pub(super) fn begin(&mut self, a: u32) {
        let (idle, free) = self.contribution(a);
        self.state.idle_total -= idle;
        self.state.free_total -= free;
    }

    /// After changing an agent's load or presence: its pool entries go stale until `reindex`.
    pub(super) fn end(&mut self, a: u32) {
        let (idle, free) = self.contribution(a);
        self.state.idle_total += idle;
        self.state.free_total += free;
        self.state.versions[a as usize] = self.state.versions[a as usize].wrapping_add(1);
        let ag = &mut self.state.agents[a as usize];
        ag.idle_since = self.state.now;
        if !ag.dirty {
            ag.dirty = true;
            self.state.dirty.push(a);
        }
    }

    /// Puts a changed agent back into the pools it has room in.
    pub(super) fn reindex(&mut self, a: u32) {
        let ag = &mut self.state.agents[a as usize];
        if !ag.dirty {
            return;
        }
        ag.dirty = false;
        if ag.presence != Presence::Ready || ag.used + self.compiled.cfg.min_cost > ag.units {
            return;
        }
        let (version, used, units) = (self.state.versions[a as usize], ag.used, ag.units);
        let (layout, cost) = (self.compiled.cfg.layout, self.compiled.cfg.cost);
        for i in 0..self.state.agents[a as usize].memberships.len() {
            let m = self.state.agents[a as usize].memberships[i];
            let ch = m.ch as usize;
            if !self.state.agents[a as usize].can_take(ch, cost[ch]) {
                continue;
            }
            let bucket = m.base as usize + layout.level(used, units);
            let versions = &self.state.versions;
            self.state.pools[m.pool as usize].push(bucket, Entry { agent: a, version }, |x| {
                versions[x as usize]
            });
        }
    }

    /// After a contact found this agent. Without a reserve the agent only lost room, so it
    /// just goes back into the pools; with one, an agent that was idle may now take standard
    /// contacts the reserve kept from it, so it looks for work.
    pub(super) fn after_offer(&mut self, a: u32, out: &mut Vec<Event>) {
        if self.compiled.cfg.reserve.is_some() {
            self.fill(a, out);
        } else {
            self.settle_agent(a, out);
        }
    }

    pub(super) fn settle_agent(&mut self, a: u32, out: &mut Vec<Event>) {
        self.reindex(a);
        self.note_state(a, out);
    }

    pub(super) fn reported_state(&self, a: u32) -> AgentState {
        let ag = &self.state.agents[a as usize];
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

    pub(super) fn note_state(&mut self, a: u32, out: &mut Vec<Event>) {
        let state = self.reported_state(a);
        let ag = &mut self.state.agents[a as usize];
        if ag.reported != state {
            ag.reported = state;
            out.push(Event {
                at: self.state.now,
                kind: EventKind::AgentState {
                    agent: ag.id,
                    state,
                },
            });
        }
    }

    /// Break or not-responding: open offers and sticky holds go back; returns those contacts
    /// (now `Queued` but nowhere) for the caller to place.
    pub(super) fn make_unavailable(
        &mut self,
        a: u32,
        presence: Presence,
        out: &mut Vec<Event>,
    ) -> Vec<u32> {
        self.begin(a);
        self.state.agents[a as usize].presence = presence;
        self.end(a);
        let agent = self.state.agents[a as usize].id;
        let offered: Vec<u32> = self.state.agents[a as usize]
            .held
            .iter()
            .copied()
            .filter(|&s| self.state.contacts[s as usize].state == ContactState::Offered)
            .collect();
        let mut requeue = Vec::with_capacity(offered.len());
        for slot in offered {
            self.release(slot);
            let c = &mut self.state.contacts[slot as usize];
            c.state = ContactState::Queued;
            self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
            out.push(Event {
                at: self.state.now,
                kind: EventKind::Requeued {
                    contact: c.id,
                    agent,
                    reason: RequeueReason::AgentUnavailable,
                },
            });
            requeue.push(slot);
        }
        for slot in std::mem::take(&mut self.state.agents[a as usize].sticky) {
            self.unhold(slot);
            requeue.push(slot);
        }
        self.settle_agent(a, out);
        requeue
    }

    /// Adds a logged-in agent to the registries, live pools and lane interests.
    fn register(&mut self, a: u32) {
        let n_langs = self.compiled.n_langs();
        let ag = &self.state.agents[a as usize];
        let top = ag.skills.iter().map(|s| s.1).max().unwrap_or(1);
        let skills = ag.skills.clone();
        let langs = ag.langs.clone();
        let max = ag.max;
        let mut memberships = Vec::new();
        let mut interests: Vec<(u32, Millis, Millis)> = Vec::new();
        for &(s, p) in &skills {
            for &l in &langs {
                let sl = s as usize * n_langs + l as usize;
                self.state.registry[sl].push(a);
                for (ch, m) in max.iter().enumerate() {
                    let pool = (sl * 5 + ch) as u32;
                    if *m > 0 && self.state.pools[pool as usize].live {
                        self.state.pools[pool as usize].members += 1;
                        memberships.push(Membership {
                            pool,
                            base: self.compiled.cfg.layout.base(p < top, p) as u16,
                            ch: ch as u8,
                        });
                    }
                }
                for &(lane, r) in &self.state.rings_by_sl[sl] {
                    let ring = self.state.lanes[lane as usize].rings[r as usize];
                    if p >= ring.min_prof {
                        interests.push((lane, ring.from, ring.until));
                    }
                }
            }
        }
        self.state.agents[a as usize].memberships = memberships;
        for (lane, from, until) in interests {
            self.state.add_interest(a, lane, from, until);
        }
    }

    fn unregister(&mut self, a: u32) {
        let n_langs = self.compiled.n_langs();
        let ag = &mut self.state.agents[a as usize];
        for &(s, _) in &ag.skills {
            for &l in &ag.langs {
                self.state.registry[s as usize * n_langs + l as usize].retain(|&x| x != a);
            }
        }
        for m in ag.memberships.drain(..) {
            self.state.pools[m.pool as usize].members -= 1;
        }
        ag.interests.clear();
    }
}
