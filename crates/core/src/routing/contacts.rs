//! Contacts: the contact commands (arrive, accept, complete, abandon, transfer) and a contact's
//! life cycle in the state: placing it (offer or lane), taking it out of where it waits,
//! releasing it from its agent, finishing and retiring it, the sticky memory of who served a
//! customer, and the lookups that turn a contact id into a live slot or a rejection.

use crate::model::Language;

use super::index::{LaneEntry, TimerKind};
use super::protocol::{
    AgentId, ContactId, ContactState, CustomerId, Event, EventKind, Operation, QueueIx, Rejection,
    Tier,
};
use super::router::Router;
use super::state::{ContactRec, LAST_CUSTOMERS, NONE};

impl Router {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn arrive(
        &mut self,
        contact: ContactId,
        queue: String,
        language: Option<Language>,
        priority: Option<u8>,
        tier: Tier,
        customer: Option<CustomerId>,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        if self.state.seen.contains(contact.0) {
            return Err(Rejection::DuplicateContact { contact });
        }
        let Some(&q) = self.compiled.queue_ix.get(queue.as_str()) else {
            return Err(Rejection::UnknownQueue { queue });
        };
        let lang = match language {
            Some(l) => match self.compiled.lang_ix.get(l.as_str()) {
                Some(&ix) => ix,
                None => return Err(Rejection::UnknownLanguage { language: l }),
            },
            None => self.compiled.queues[q as usize].lang,
        };
        let priority = priority.unwrap_or(self.compiled.queues[q as usize].priority);
        if priority > 9 {
            return Err(Rejection::PriorityOutOfRange { priority });
        }
        let lane = self.state.lane_for(&self.compiled, q, lang);
        let now = self.state.now;
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
            seq: self.state.seq,
            agent: NONE,
            offered_at: 0,
            escalated: false,
            transfers: 0,
        };
        self.state.seq += 1;
        let slot = match self.state.free_slots.pop() {
            Some(slot) => {
                self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
                self.state.contacts[slot as usize] = record;
                self.state.customer_of[slot as usize] = customer;
                slot
            }
            None => {
                self.state.contacts.push(record);
                self.state.epochs.push(0);
                self.state.customer_of.push(customer);
                (self.state.contacts.len() - 1) as u32
            }
        };
        self.state.live_contacts += 1;
        self.state.contact_ix.insert(contact.0, slot);
        self.state.seen.insert(contact.0);
        if !self.try_sticky(slot, out) {
            self.place(slot, out);
        }
        Ok(())
    }

    pub(super) fn accept(
        &mut self,
        contact: ContactId,
        agent: AgentId,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let slot = self.live_contact(contact, Operation::Accept)?;
        let a = self.logged_in(agent)?;
        let c = &self.state.contacts[slot as usize];
        if c.state != ContactState::Offered {
            return Err(self.not_in_state(slot, Operation::Accept));
        }
        if c.agent != a {
            return Err(Rejection::WrongAgent { contact, agent });
        }
        let c = &mut self.state.contacts[slot as usize];
        c.state = ContactState::Accepted;
        self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
        self.remember_customer(slot, a);
        out.push(Event {
            at: self.state.now,
            kind: EventKind::Accepted { contact, agent },
        });
        self.note_state(a, out);
        Ok(())
    }

    pub(super) fn complete(
        &mut self,
        contact: ContactId,
        agent: AgentId,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let slot = self.live_contact(contact, Operation::Complete)?;
        let a = self.logged_in(agent)?;
        let c = &self.state.contacts[slot as usize];
        if c.state != ContactState::Accepted {
            return Err(self.not_in_state(slot, Operation::Complete));
        }
        if c.agent != a {
            return Err(Rejection::WrongAgent { contact, agent });
        }
        let wrap = self.compiled.queues[c.queue as usize].wrap_ms;
        self.remember_customer(slot, a);
        if wrap > 0 {
            let c = &mut self.state.contacts[slot as usize];
            c.state = ContactState::WrapUp;
            self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
            self.state.agents[a as usize].wrapping += 1;
            let until = self.state.now + wrap;
            self.push_timer(until, TimerKind::WrapUpEnd, slot, wrap);
            out.push(Event {
                at: self.state.now,
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

    pub(super) fn abandon(
        &mut self,
        contact: ContactId,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let slot = self.live_contact(contact, Operation::Abandon)?;
        match self.state.contacts[slot as usize].state {
            ContactState::Queued => {
                self.unwait(slot);
                self.retire(slot, ContactState::Abandoned);
                out.push(Event {
                    at: self.state.now,
                    kind: EventKind::Abandoned { contact },
                });
            }
            ContactState::Offered => {
                let a = self.release(slot);
                self.retire(slot, ContactState::Abandoned);
                out.push(Event {
                    at: self.state.now,
                    kind: EventKind::Abandoned { contact },
                });
                self.fill(a, out);
            }
            _ => return Err(self.not_in_state(slot, Operation::Abandon)),
        }
        Ok(())
    }

    pub(super) fn transfer(
        &mut self,
        contact: ContactId,
        queue: String,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let slot = self.live_contact(contact, Operation::Transfer)?;
        let Some(&to) = self.compiled.queue_ix.get(queue.as_str()) else {
            return Err(Rejection::UnknownQueue { queue });
        };
        let c = &self.state.contacts[slot as usize];
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
        let lane = self
            .state
            .lane_for(&self.compiled, to, self.state.contacts[slot as usize].lang);
        let q = &self.compiled.queues[to as usize];
        let c = &mut self.state.contacts[slot as usize];
        c.queue = to;
        c.lane = lane;
        c.priority = c.priority.min(q.priority);
        c.transfers = c.transfers.saturating_add(1);
        c.state = ContactState::Queued;
        self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
        out.push(Event {
            at: self.state.now,
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

    /// A contact that is `Queued` but nowhere yet: offer it or put it in its lane.
    pub(super) fn place(&mut self, slot: u32, out: &mut Vec<Event>) {
        match self.find_agent(slot) {
            Some(a) => {
                self.offer(slot, a, out);
                self.after_offer(a, out);
            }
            None => {
                let c = &mut self.state.contacts[slot as usize];
                c.in_lane = true;
                let (bucket, key, lane, queue, contact) =
                    (c.bucket(), c.key(), c.lane, c.queue, c.id);
                let entry = LaneEntry {
                    key,
                    slot,
                    epoch: self.state.epochs[slot as usize],
                };
                let epochs = &self.state.epochs;
                self.state.lanes[lane as usize]
                    .insert(bucket, entry, |e| epochs[e.slot as usize] == e.epoch);
                self.state.queue_waiting[queue as usize] += 1;
                self.schedule_relax(slot);
                self.schedule_escalation(slot);
                out.push(Event {
                    at: self.state.now,
                    kind: EventKind::Queued {
                        contact,
                        queue: QueueIx(queue),
                    },
                });
            }
        }
    }

    /// Takes a waiting contact out of its lane or its sticky agent's list.
    pub(super) fn unwait(&mut self, slot: u32) {
        let c = &mut self.state.contacts[slot as usize];
        if c.in_lane {
            c.in_lane = false;
            let (bucket, key, lane) = (c.bucket(), c.key(), c.lane);
            self.state.lanes[lane as usize].remove(bucket, key);
        } else if c.held_for != NONE {
            let a = c.held_for;
            c.held_for = NONE;
            self.state.agents[a as usize].sticky.retain(|&s| s != slot);
        } else {
            return;
        }
        self.state.queue_waiting[c.queue as usize] -= 1;
    }

    /// A sticky contact whose agent's list was already taken: it waits nowhere now.
    pub(super) fn unhold(&mut self, slot: u32) {
        let c = &mut self.state.contacts[slot as usize];
        c.held_for = NONE;
        self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
        self.state.queue_waiting[c.queue as usize] -= 1;
    }

    /// Takes an offered, accepted or wrap-up contact off its agent; returns the agent.
    pub(super) fn release(&mut self, slot: u32) -> u32 {
        let c = &mut self.state.contacts[slot as usize];
        let a = c.agent;
        c.agent = NONE;
        let wrapping = c.state == ContactState::WrapUp;
        let ch = self.compiled.queues[c.queue as usize].ch;
        self.begin(a);
        let ag = &mut self.state.agents[a as usize];
        if let Some(pos) = ag.held.iter().position(|&s| s == slot) {
            ag.held.remove(pos);
        }
        ag.wrapping -= wrapping as u16;
        ag.used -= self.compiled.cfg.cost[ch];
        ag.count[ch] -= 1;
        self.end(a);
        a
    }

    pub(super) fn finish(&mut self, slot: u32, out: &mut Vec<Event>) {
        let a = self.release(slot);
        let contact = self.state.contacts[slot as usize].id;
        self.retire(slot, ContactState::Completed);
        out.push(Event {
            at: self.state.now,
            kind: EventKind::Completed {
                contact,
                agent: self.state.agents[a as usize].id,
            },
        });
        self.fill(a, out);
    }

    pub(super) fn retire(&mut self, slot: u32, state: ContactState) {
        let c = &mut self.state.contacts[slot as usize];
        c.state = state;
        c.live = false;
        c.in_lane = false;
        c.held_for = NONE;
        c.agent = NONE;
        self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
        self.state.contact_ix.remove(c.id.0);
        if state == ContactState::Abandoned {
            self.state.abandoned.insert(c.id.0);
        }
        self.state.free_slots.push(slot);
        self.state.live_contacts -= 1;
    }

    fn remember_customer(&mut self, slot: u32, a: u32) {
        if self.compiled.cfg.sticky.is_none() {
            return;
        }
        let Some(customer) = self.state.customer_of[slot as usize] else {
            return;
        };
        self.state.customers.insert(customer, (a, self.state.now));
        self.state
            .customer_log
            .push_back((self.state.now, customer));
        let last = &mut self.state.agents[a as usize].last_customers;
        last.retain(|&c| c != customer);
        last.push_front(customer);
        last.truncate(LAST_CUSTOMERS);
    }

    pub(super) fn prune_customers(&mut self) {
        let Some((window, _)) = self.compiled.cfg.sticky else {
            return;
        };
        while let Some(&(at, customer)) = self.state.customer_log.front() {
            if at.saturating_add(window) >= self.state.now {
                break;
            }
            self.state.customer_log.pop_front();
            if self
                .state
                .customers
                .get(&customer)
                .is_some_and(|&(_, t)| t == at)
            {
                self.state.customers.remove(&customer);
            }
        }
    }

    fn live_contact(&self, contact: ContactId, operation: Operation) -> Result<u32, Rejection> {
        match self.state.contact_ix.get(contact.0) {
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
    pub(super) fn finished_state(&self, contact: ContactId) -> Option<ContactState> {
        if !self.state.seen.contains(contact.0) {
            None
        } else if self.state.abandoned.contains(contact.0) {
            Some(ContactState::Abandoned)
        } else {
            Some(ContactState::Completed)
        }
    }

    fn not_in_state(&self, slot: u32, operation: Operation) -> Rejection {
        let c = &self.state.contacts[slot as usize];
        Rejection::ContactNotInState {
            contact: c.id,
            operation,
            state: c.state,
        }
    }
}
