//! The routing core: a pure, deterministic state machine that matches contacts to agents.
//!
//! The daemon (`serve`) and the simulator (`sim`) drive this same code. It does no I/O, starts
//! no threads, reads no clock and draws no random numbers: [`Router::apply`] takes a
//! [`Command`] and the driver's time `now` in milliseconds and returns the [`Event`]s that
//! followed. The state after a sequence of commands is a function of the commands and their
//! `now` values alone, so the daemon recovers by replaying its command log and a simulation
//! predicts what the daemon would do.
//!
//! # Driving it
//!
//! - [`Router::new`] builds a router from a [`RoutingPolicy`] (the `[policy]` table of
//!   `config/router.toml`) and a [`Catalog`] (a scenario's queues, skills and languages).
//! - [`Router::apply_into`]`(command, now, &mut events)` is the fast path (events are appended
//!   to a buffer the caller reuses; a rejection is the `Err`); [`Router::apply`] wraps it and
//!   returns a fresh `Vec` with a rejection as an [`EventKind::Rejected`] event.
//! - Time-driven transitions (offer timeouts, relaxation rings opening, escalation, sticky waits
//!   ending, wrap-up ending) happen at their due times, before the command at the first `now`
//!   at or after them, and are stamped with their due time. [`Command::Tick`] only lets time
//!   pass. [`Router::next_deadline`] says when the next one is due, so the simulator schedules
//!   a tick there and the daemon sets a timer. The daemon need not log ticks nor rejected
//!   commands: the next logged command processes the same transitions at the same due times.
//! - A command with `now` earlier than the previous command's is rejected
//!   ([`Rejection::TimeWentBackwards`]); a daemon feeds a monotonic clock.
//! - Ids are integers ([`ContactId`], [`AgentId`], [`CustomerId`]); a driver with string ids
//!   keeps its own table. Contact ids handed out in increasing order take the fast path.
//! - [`Router::reset`] clears everything but the configuration (it rebuilds the state with the
//!   constructor [`Router::new`] uses, so a reset router is exactly a fresh one); `Router` is
//!   `Clone`, and clones share the compiled policy, so a simulator builds one and clones or
//!   resets it per replication.
//! - [`Router::queue_facts`] gives, per queue the router serves (supervisor twins included),
//!   the facts it derived once from the policy: channel, skill, language, answer target, unit
//!   cost, wrap-up, escalation twin and short-abandon threshold ([`QueueFacts`]), so drivers
//!   need not derive them again.
//!
//! # Model
//!
//! A **contact** has an id, a queue (which gives its channel and required skill), a language
//! (the queue's unless given), a priority class 0 (highest) to 9 (the queue's unless given), a
//! tier (standard or VIP), an optional customer id, its arrival time and its SLA deadline
//! (arrival + the answer target of the queue it is in, or its deadline hours for deferred
//! work). Its life is `queued → offered → accepted → wrap-up → completed`, or `abandoned` from
//! queued or offered.
//! Transfer (from queued, offered or accepted) and escalation move it to another queue's
//! `queued`, keeping its arrival time and so its place in line.
//!
//! An **agent** logs in with skills (proficiency 1–5), languages and a capacity: units, and a
//! most-at-once per channel; each contact takes its channel's unit cost (defaults: 6 units, a
//! call 6, a chat 2, so one call or up to three chats). Its presence is offline, ready, break or
//! not-responding; its reported [`AgentState`] is offline, available, busy, wrap-up, break or
//! not-responding. It remembers its last customers; the router remembers, per customer, the last
//! agent who served them and when.
//!
//! # Policy
//!
//! - **Eligibility.** An agent may be offered a contact when it is ready, has room for the
//!   contact's channel, speaks the contact's language and holds its skill at the queue's
//!   minimum proficiency or better, or matches a relaxation ring open at the contact's age.
//!   Language is never relaxed except by a step that names fallback languages.
//! - **Relaxation (bullseye).** Each queue has rings: the base ring (its skill, its minimum
//!   proficiency, the contact's language) and one per relaxation step, skill and language,
//!   open for ages `after_seconds ≤ age < expires_after_seconds`. A contact looks for an agent
//!   ring by ring, inner first.
//! - **Agent selection** among eligible agents with room: specialists first (agents for whom the
//!   skill is their strongest), then cross-trained, then by the rule: longest idle (longest since
//!   the agent's load or presence last changed), least occupied (share of units in use, in
//!   twelfths), highest proficiency, or a weighted score of the three; ties go to the longest
//!   idle, then to the agent who logged in first.
//! - **Contact ordering** for an agent with room: lowest effective priority class (the class,
//!   raised one step per `priority_aging_seconds` waited), then highest urgency (age as a share
//!   of the queue's answer target, or plain age), then oldest (arrival, then arrival order).
//!   Within a queue this is strict FIFO per class; across queues with the same target it is FIFO
//!   per class, so a waiting chat is never passed over for a newer one the same agent could take.
//! - **Sticky routing.** A contact whose customer was served by agent A within `window_seconds`
//!   goes to A if A is ready and eligible (base ring) and has room; if A is ready but full, the
//!   contact waits for A up to `wait_seconds`, then goes to anyone eligible.
//! - **Reserve.** A standard contact may not take an idle agent if that leaves fewer than
//!   `idle_agents` idle agents, nor take units if that leaves fewer than `free_units` free
//!   units among ready agents. VIP tiers and classes ≤ `max_priority` may. Matches the reserve
//!   alone prevented are retried when it has slack again.
//! - **Offer timeout.** An offer not accepted within `timeout_seconds` goes back to its queue at
//!   its original position; the agent turns not-responding (its other open offers and sticky
//!   waits go back too) until it sets itself available.
//! - **Wrap-up** after completion holds the contact's units for the channel's wrap-up time.
//! - **Escalation.** A contact still waiting `grace_seconds` past its SLA deadline moves to its
//!   queue's supervisor twin (`zh-hotline/escalated`: same channel and language, served by the
//!   escalation skill, at the escalation priority), keeping its age; it escalates once. After
//!   `fallback_seconds` more, the queue's own agents may take it again, so a supervisor queue
//!   nobody can serve never strands a contact.
//! - **Break, logout.** Break stops new offers (open offers go back); contacts in hand go on.
//!   Logout sends offered and accepted contacts back to their queues at their original
//!   positions and completes contacts in wrap-up.
//!
//! Commands that make no sense in the current state (a duplicate contact id, an accept by the
//! wrong agent, completing an unknown or unaccepted contact, logging in twice, an unknown queue,
//! skill or language, a priority above 9, time going backwards) return a [`Rejection`] and
//! change nothing. Nothing in the core panics on a command.
//!
//! # Invariants
//!
//! These hold after every command; [`Router::check_invariants`] checks them by brute force and
//! the tests run it after every step of seeded random workloads.
//!
//! 1. **Capacity.** No agent holds more units than it has, nor more contacts of a channel than
//!    its maximum; its recorded load equals the sum over the contacts it holds.
//! 2. **Single holder.** Every offered, accepted or wrap-up contact is held by exactly one
//!    agent, and that agent is logged in; offline agents hold nothing; only ready agents have
//!    open offers.
//! 3. **One state.** Every contact ever seen is in exactly one state: a queued contact is in
//!    exactly one place (its lane, or its sticky agent's list); finished contacts are in none.
//!    Per-queue waiting counts and the center's idle-agent and free-unit totals match a recount.
//! 4. **Eligibility.** Every offered or accepted contact went to an agent who matched a ring of
//!    its queue open at the contact's age when offered (base ring for sticky offers).
//! 5. **Work conservation.** No waiting contact could be offered now to a ready agent with room
//!    who is eligible for it (unless the reserve forbids that pair); a contact waiting for its
//!    sticky agent waits only while that agent has no room. Together with FIFO within a
//!    class this gives: with unlimited patience and enough eligible agents, every contact is
//!    eventually served (the liveness test drains every workload to zero).
//! 6. **Indexes.** Every ready agent is filed exactly once in each pool it has room in, in the
//!    bucket of its class, proficiency and occupancy, and pool buckets are in idle order; its
//!    lane interests are exactly the union of the rings it matches.
//! 7. **Time.** Every pending transition has a live timer, none is overdue after a command, and
//!    [`Router::next_deadline`] is the earliest of them.
//! 8. **Determinism.** The events and the state after a command sequence depend only on the
//!    commands and their `now` values: no hash-map iteration order, clock or randomness enters a
//!    decision. A replay of the accepted commands rebuilds the same state
//!    ([`Router::state_digest`]).
//!
//! # Implementation
//!
//! A [`Router`] is an immutable compiled policy behind an `Arc` (shared by clones and kept by
//! resets) and a mutable state built by one constructor. The files, by concern:
//!
//! | file | owns |
//! |---|---|
//! | `policy.rs` | the `[policy]` table as serde types, and its validation |
//! | `compile.rs` | [`Catalog`] and the policy compiler: interned skills and languages, queues and supervisor twins with their ring templates, channel costs, reserve, bucket layout, [`QueueFacts`] |
//! | `state.rs` | the mutable state (contacts, agents, lanes, pools, timers, sticky memory, totals) and its one constructor; lanes and pools made on first use |
//! | `router.rs` | [`Router`] itself: `new` (compile + fresh state), `reset`, and the driving loop (due transitions, the command, settling) |
//! | `contacts.rs` | contact commands and a contact's life cycle: placing, unwaiting, releasing, retiring, the sticky memory |
//! | `agents.rs` | agent commands, load and presence changes (`begin`/`end`), re-filing in pools, registration, reported states |
//! | `matching.rs` | offers and the two matching directions (contact → best free agent, agent → best waiting contacts), sticky routing, the reserve |
//! | `timers.rs` | time-driven transitions: setting timers, telling live from stale, firing them |
//! | `views.rs` | read-only queries: queues and their facts, contacts, agents, statistics |
//! | `index.rs` | the index structures: agent pools, contact lanes, timers, id sets and maps |
//! | `check.rs` | the brute-force invariant checker and the state digest |
//! | `protocol.rs` | commands, events, rejections and views: the core's interface |
//!
//! Ids are interned to dense indexes at the boundary. Free agents are indexed per (skill,
//! language, channel) in bucketed FIFO pools (`index.rs`), so finding the best agent for a
//! contact visits a few bucket heads; waiting contacts are indexed per (queue, language) in
//! lanes of 20 ordered buckets (priority class × tier), so an agent freeing up compares the
//! heads of the lanes it is interested in. Timers live in per-delay FIFOs plus a heap. Pool,
//! lane and timer entries are invalidated lazily by agent version and contact epoch, so a
//! transition costs O(1) index work. Contact ids ever seen are kept as ranges (sequential ids
//! cost nothing) to refuse duplicates; live contacts are found through a sliding window over
//! the id space (one memory access for ids handed out in increasing order, as the simulator and
//! the daemon's log do) with a hash map for the rest. Records are laid out so a routing step
//! touches few cache lines: that, not instruction count, is what bounds speed at 10^4 agents.

mod agents;
mod check;
mod compile;
mod contacts;
mod index;
mod matching;
mod policy;
mod protocol;
mod router;
mod state;
mod timers;
mod views;

pub use compile::{Catalog, QueueFacts};
pub use policy::{
    escalation_queue_name, CapacityPolicy, EscalationPolicy, OfferPolicy, OrderingPolicy,
    PerChannel, PolicyErrors, QueueOverride, RelaxationStep, ReservePolicy, RoutingPolicy,
    Selection, SelectionWeights, StickyPolicy, Urgency, DEFAULT_MAX_PER_CHANNEL, DEFAULT_UNIT_COST,
    DEFAULT_WRAP_UP_SECONDS, MAX_UNITS,
};
pub use protocol::{
    AgentCapacity, AgentId, AgentState, AgentView, Availability, Command, ContactId, ContactState,
    ContactView, CustomerId, Event, EventKind, Millis, Operation, QueueIx, QueueStats, Rejection,
    RequeueReason, Tier,
};
pub use router::Router;

#[cfg(test)]
mod tests;
