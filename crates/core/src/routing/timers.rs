//! Time-driven transitions: setting a contact's timers (offer timeout, the next relaxation
//! ring, escalation, sticky expiry, wrap-up end), telling a live timer from a stale one by the
//! contact's epoch, and what happens when one fires.

use super::index::{Timer, TimerKind};
use super::protocol::{ContactState, Event, EventKind, Millis, QueueIx, RequeueReason};
use super::router::Router;
use super::state::Presence;

impl Router {
    /// `delay` is the configured delay the timer was set with (its FIFO in `Timers`).
    pub(super) fn push_timer(&mut self, due: Millis, kind: TimerKind, slot: u32, delay: Millis) {
        let epoch = self.state.epochs[slot as usize];
        self.state.timers.push(due, kind, slot, epoch, delay);
    }

    /// A timer is valid while its contact's epoch is unchanged: every transition moves the
    /// epoch, so an unchanged epoch means the contact is still in the state the timer was set
    /// in (the invariant checker verifies that state against the timer's kind). Reading only the
    /// compact epoch array keeps stale timers from touching cold contact records.
    pub(super) fn timer_valid(&self, t: &Timer) -> bool {
        self.state.epochs[t.slot as usize] == t.epoch
    }

    pub(super) fn fire(&mut self, t: Timer, out: &mut Vec<Event>) {
        let slot = t.slot;
        match t.kind {
            TimerKind::OfferTimeout => {
                let a = self.release(slot);
                let c = &mut self.state.contacts[slot as usize];
                c.state = ContactState::Queued;
                self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
                let (contact, agent) = (c.id, self.state.agents[a as usize].id);
                out.push(Event {
                    at: self.state.now,
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
                let c = &self.state.contacts[slot as usize];
                let (Some(to), Some((priority, _))) = (
                    self.compiled.queues[c.queue as usize].escalation_twin,
                    self.compiled.cfg.escalation,
                ) else {
                    return;
                };
                let from = c.queue;
                self.unwait(slot);
                let lane = self.state.lane_for(
                    &self.compiled,
                    to,
                    self.state.contacts[slot as usize].lang,
                );
                let c = &mut self.state.contacts[slot as usize];
                c.queue = to;
                c.lane = lane;
                c.priority = c.priority.min(priority);
                c.escalated = true;
                self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
                out.push(Event {
                    at: self.state.now,
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
                self.state.epochs[slot as usize] = self.state.epochs[slot as usize].wrapping_add(1);
                self.place(slot, out);
            }
            TimerKind::WrapUpEnd => self.finish(slot, out),
        }
    }

    /// Timer of the next relaxation ring to open for a waiting contact.
    pub(super) fn schedule_relax(&mut self, slot: u32) {
        let c = &self.state.contacts[slot as usize];
        let age = self.state.now - c.arrival;
        let lane = &self.state.lanes[c.lane as usize];
        if let Some(&next) = lane.activations.iter().find(|&&t| t > age) {
            let due = c.arrival + next;
            self.push_timer(due, TimerKind::Relax, slot, next);
        }
    }

    pub(super) fn schedule_escalation(&mut self, slot: u32) {
        let c = &self.state.contacts[slot as usize];
        if let Some((_, grace)) = self.compiled.cfg.escalation {
            if self.compiled.queues[c.queue as usize].escalate && !c.escalated {
                let deadline = c.arrival + self.compiled.queues[c.queue as usize].target_ms;
                let due = (deadline + grace).max(self.state.now);
                let delay = self.compiled.queues[c.queue as usize].target_ms + grace;
                self.push_timer(due, TimerKind::Escalate, slot, delay);
            }
        }
    }
}
