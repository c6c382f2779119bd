//! Queries: read-only views of the router for drivers and dashboards (queue names and facts,
//! skills and languages, contacts, agents, per-queue waiting statistics, agent state counts).
//! Nothing here changes the state.

use crate::model::{Language, Skill, SkillLevel};

use super::compile::QueueFacts;
use super::index::LaneEntry;
use super::protocol::{
    AgentId, AgentState, AgentView, ContactId, ContactState, ContactView, Millis, QueueIx,
    QueueStats,
};
use super::router::Router;
use super::state::NONE;

impl Router {
    /// Queue names, in [`QueueIx`] order.
    pub fn queues(&self) -> impl Iterator<Item = &str> {
        self.compiled.queues.iter().map(|q| q.name.as_str())
    }

    pub fn queue_name(&self, queue: QueueIx) -> Option<&str> {
        self.compiled
            .queues
            .get(queue.0 as usize)
            .map(|q| q.name.as_str())
    }

    pub fn queue_index(&self, name: &str) -> Option<QueueIx> {
        self.compiled.queue_ix.get(name).map(|&q| QueueIx(q))
    }

    /// What the router knows about each queue it serves (the catalog's, then the supervisor
    /// twins escalation adds), in [`QueueIx`] order: derived once when the router was built.
    pub fn queue_facts(&self) -> &[QueueFacts] {
        &self.compiled.facts
    }

    /// Skills and languages agents may log in with.
    pub fn skills(&self) -> &[Skill] {
        &self.compiled.skills
    }

    pub fn languages(&self) -> &[Language] {
        &self.compiled.langs
    }

    /// The state of any contact ever seen (finished ones included).
    pub fn contact_state(&self, contact: ContactId) -> Option<ContactState> {
        match self.state.contact_ix.get(contact.0) {
            Some(slot) => Some(self.state.contacts[slot as usize].state),
            None => self.finished_state(contact),
        }
    }

    /// A live (not yet finished) contact.
    pub fn contact(&self, contact: ContactId) -> Option<ContactView> {
        let slot = self.state.contact_ix.get(contact.0)?;
        let c = self.state.contacts.get(slot as usize).filter(|c| c.live)?;
        let q = &self.compiled.queues[c.queue as usize];
        let holder = if c.agent != NONE { c.agent } else { c.held_for };
        Some(ContactView {
            id: c.id,
            state: c.state,
            queue: q.name.clone(),
            channel: q.channel,
            skill: self.compiled.skills[q.skill as usize].clone(),
            language: self.compiled.langs[c.lang as usize].clone(),
            priority: c.priority,
            tier: c.tier,
            customer: self.state.customer_of[slot as usize],
            arrival: c.arrival,
            sla_deadline: c.arrival + q.target_ms,
            agent: (holder != NONE).then(|| self.state.agents[holder as usize].id),
            escalated: c.escalated,
            transfers: c.transfers as u32,
        })
    }

    /// An agent that has logged in at least once.
    pub fn agent(&self, agent: AgentId) -> Option<AgentView> {
        let &a = self.state.agent_ix.get(&agent)?;
        let ag = &self.state.agents[a as usize];
        Some(AgentView {
            id: ag.id,
            state: self.reported_state(a),
            skills: ag
                .skills
                .iter()
                .filter_map(|&(s, p)| {
                    Some(SkillLevel {
                        skill: self.compiled.skills[s as usize].clone(),
                        proficiency: crate::model::Proficiency::new(p).ok()?,
                    })
                })
                .collect(),
            languages: ag
                .langs
                .iter()
                .map(|&l| self.compiled.langs[l as usize].clone())
                .collect(),
            units: ag.units,
            used_units: ag.used,
            contacts: ag
                .held
                .iter()
                .map(|&s| self.state.contacts[s as usize].id)
                .collect(),
            idle_since: ag.idle_since,
            last_customers: ag.last_customers.iter().copied().collect(),
        })
    }

    /// Waiting count and longest wait of every queue, in [`QueueIx`] order.
    pub fn queue_stats(&self) -> Vec<QueueStats> {
        let mut oldest: Vec<Option<Millis>> = vec![None; self.compiled.queues.len()];
        let mut note = |q: u16, arrival: Millis| {
            let o = &mut oldest[q as usize];
            *o = Some(o.map_or(arrival, |x: Millis| x.min(arrival)));
        };
        let valid = |e: &LaneEntry| self.state.epochs[e.slot as usize] == e.epoch;
        for lane in &self.state.lanes {
            for b in 0..lane.buckets.len() {
                if let Some(e) = lane.first_valid(b, valid) {
                    note(lane.queue, e.key.0);
                }
            }
        }
        for ag in &self.state.agents {
            for &s in &ag.sticky {
                let c = &self.state.contacts[s as usize];
                note(c.queue, c.arrival);
            }
        }
        self.compiled
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| QueueStats {
                queue: q.name.clone(),
                channel: q.channel,
                waiting: self.state.queue_waiting[i],
                longest_wait: oldest[i].map(|a| self.state.now - a),
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
        for a in 0..self.state.agents.len() {
            let s = self.reported_state(a as u32);
            counts[states.iter().position(|x| *x == s).unwrap_or(0)] += 1;
        }
        states.into_iter().zip(counts).collect()
    }

    /// Contacts not yet completed or abandoned.
    pub fn live_contacts(&self) -> usize {
        self.state.live_contacts
    }
}
