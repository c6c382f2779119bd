//! The routing state machine: [`Router`], a compiled policy and a mutable state, and the
//! driving loop (`apply_into`: due transitions, the command, settling the indexes).
//!
//! The rest of `impl Router` is split by concern: `contacts.rs` (contact commands and life
//! cycle), `agents.rs` (agent commands, load and presence, pool registration), `matching.rs`
//! (offers, both matching directions, the reserve), `timers.rs` (time-driven transitions) and
//! `views.rs` (queries). The compiled policy is `compile.rs`, the state `state.rs`.
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

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::compile::{compile, Catalog, Compiled};
use super::policy::{PolicyErrors, RoutingPolicy};
use super::protocol::{Command, Event, EventKind, Millis, Rejection};
use super::state::State;

/// The routing core. See the [module documentation](super) for the model and its invariants.
///
/// A compiled policy, shared (clones and resets keep the same `Arc`), and the state it routes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Router {
    pub(super) compiled: Arc<Compiled>,
    pub(super) state: State,
}

impl Router {
    /// Builds a router for `catalog`'s queues under `policy`: the policy compiled once, and a
    /// state that has seen no command. Fails with every problem of the policy (paths relative to
    /// the `[policy]` table) or of the catalog.
    pub fn new(policy: &RoutingPolicy, catalog: &Catalog) -> Result<Router, PolicyErrors> {
        let compiled = Arc::new(compile(policy, catalog)?);
        let state = State::new(&compiled);
        Ok(Router { compiled, state })
    }

    /// Clears all contacts, agents and timers and sets the clock to 0, keeping the compiled
    /// policy: the state is rebuilt by the same constructor [`Router::new`] uses, so a reset
    /// router is exactly a fresh one.
    pub fn reset(&mut self) {
        self.state = State::new(&self.compiled);
    }

    /// Applies one command at time `now` and returns what happened; a rejection comes back as
    /// an [`EventKind::Rejected`] event (after any time-driven events up to `now`).
    pub fn apply(&mut self, command: Command, now: Millis) -> Vec<Event> {
        let mut out = Vec::new();
        if let Err(reason) = self.apply_into(command, now, &mut out) {
            out.push(Event {
                at: self.state.now,
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
        if now < self.state.now {
            return Err(Rejection::TimeWentBackwards {
                now,
                last: self.state.now,
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
        self.state.timers.next_due()
    }

    /// The time of the last command.
    pub fn now(&self) -> Millis {
        self.state.now
    }

    fn advance(&mut self, now: Millis, out: &mut Vec<Event>) {
        while self.state.timers.next_due().is_some_and(|due| due <= now) {
            let Some(t) = self.state.timers.pop() else {
                break;
            };
            if !self.timer_valid(&t) {
                continue;
            }
            self.state.now = t.due;
            self.fire(t, out);
        }
        self.state.now = now;
        self.prune_customers();
    }

    fn settle(&mut self, out: &mut Vec<Event>) {
        let now = self.state.now;
        self.advance(now, out);
        self.retry_reserve(out);
        while let Some(a) = self.state.dirty.pop() {
            self.reindex(a);
        }
        let mut timers = std::mem::take(&mut self.state.timers);
        timers.drop_stale_front(|t| self.timer_valid(t));
        if timers.len() > 4 * self.state.live_contacts + 4096 {
            timers.retain(|t| self.timer_valid(t));
        }
        self.state.timers = timers;
        if self.state.blocked_contacts.len() > 2 * self.state.live_contacts + 64 {
            let contacts = &self.state.epochs;
            self.state
                .blocked_contacts
                .retain(|&(s, e)| contacts[s as usize] == e);
        }
    }
}
