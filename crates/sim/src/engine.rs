//! The event loop of one replication, and the batch runner that spreads replications over
//! threads.
//!
//! One binary heap holds every future event: the next arrival of each queue, each agent's next
//! roster action, accepts, handle-time ends, patience expiries, fault events, and a tick at the
//! router's [`next_deadline`](Router::next_deadline) (pushed whenever the router's next deadline
//! is earlier than the tick already scheduled). Events are ordered by time, then by a fixed
//! order of kinds and subjects, so ties resolve the same way on every run. Popping an event
//! may send commands to the router;
//! the router's answer ([`Event`]s) updates the simulator's mirror of contacts and agents and
//! may schedule further events. Follow-up commands that happen at the same instant (an accept
//! without delay) go through a FIFO work list rather than recursion.
//!
//! Stale events are never removed from the heap: each carries the contact's id, and an accept
//! or end of service is ignored unless the contact still expects one at that very time.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

use super::input::{
    Action, ChatDuration, HandleTimeDistribution, Model, PatienceDistribution, SimError, SimOptions,
};
use super::stats::{Cell, RepResult, Timing};
use peakcrew_core::model::chat_stretch;
use peakcrew_core::routing::{
    AgentId, AgentState, Availability, Catalog, Command, ContactId, Event, EventKind, Millis,
    QueueIx, Router, RoutingPolicy, Tier,
};
use peakcrew_core::tally::WaitClock;

const NEVER: Millis = Millis::MAX;
const NONE: u32 = u32::MAX;

/// The router every replication starts from (cloned per worker, reset per replication).
pub(super) fn prototype_router(
    policy: &RoutingPolicy,
    catalog: &Catalog,
) -> Result<Router, SimError> {
    Ok(Router::new(policy, catalog)?)
}

/// Runs every replication of every model; results per model, in replication order.
pub(super) fn run_batch(
    prototype: &Router,
    models: &[Model],
    options: &SimOptions,
) -> Result<(Vec<Vec<RepResult>>, Timing), SimError> {
    let started = Instant::now();
    let reps = options.replications as usize;
    let jobs = models.len() * reps;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = match options.threads {
        0 => cores,
        t => t,
    }
    .clamp(1, jobs.max(1));
    let next = AtomicUsize::new(0);
    let work = |router: &mut Router| {
        let mut done = Vec::new();
        loop {
            let j = next.fetch_add(1, AtomicOrdering::Relaxed);
            if j >= jobs {
                break;
            }
            done.push((
                j,
                run_one(&models[j / reps], options, router, (j % reps) as u32),
            ));
        }
        done
    };
    let mut results: Vec<(usize, RepResult)> = if threads == 1 {
        work(&mut prototype.clone())
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| scope.spawn(|| work(&mut prototype.clone())))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    results.sort_by_key(|(j, _)| *j);
    let wall_seconds = started.elapsed().as_secs_f64();
    let events: u64 = results.iter().map(|(_, r)| r.events).sum();
    let timing = Timing {
        wall_seconds,
        thread_seconds: 0.0,
        events_per_second: events as f64 / wall_seconds.max(1e-9),
    };
    let mut out: Vec<Vec<RepResult>> = (0..models.len())
        .map(|_| Vec::with_capacity(reps))
        .collect();
    for (j, r) in results {
        if let Some((at, message)) = r.violation.clone() {
            return Err(SimError::Invariant {
                replication: (j % reps) as u32,
                at,
                message,
            });
        }
        out[j / reps].push(r);
    }
    Ok((out, timing))
}

/// SplitMix64's finaliser: a well-mixed 64-bit function of a 64-bit input.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One ChaCha8 stream per purpose and replication, so adding a draw of one kind never shifts
/// the draws of another (and sweep variants share their randomness).
fn stream(seed: u64, replication: u32, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((u64::from(replication) << 3) | purpose);
    rng
}

/// A positive random factor with mean 1.
#[derive(Debug, Clone)]
enum Factor {
    One,
    Exponential,
    Lognormal { sigma: f64 },
    Gamma(Gamma<f64>),
}

impl Factor {
    fn lognormal(cv: f64) -> Factor {
        if cv == 0.0 {
            return Factor::One;
        }
        Factor::Lognormal {
            sigma: (1.0 + cv * cv).ln().sqrt(),
        }
    }

    fn gamma(cv: f64) -> Factor {
        if cv == 0.0 {
            return Factor::One;
        }
        let shape = 1.0 / (cv * cv);
        // Shape and scale are positive and finite for 0 < cv ≤ 10 (checked by the options).
        Gamma::new(shape, 1.0 / shape).map_or(Factor::One, Factor::Gamma)
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Factor::One => 1.0,
            Factor::Exponential => Exp1.sample(rng),
            Factor::Lognormal { sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (sigma * z - 0.5 * sigma * sigma).exp()
            }
            Factor::Gamma(g) => g.sample(rng),
        }
    }
}

/// What an event is about. Encoded into one word of [`Ev`]; the discriminant order is also the
/// order of events due at the same millisecond (router deadlines first, arrivals last).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Tick,
    Finish(u64),
    Disconnect(u64),
    Accept(u64),
    Abandon(u64),
    Recover(u32),
    Reconnect(u32),
    Roster(u32),
    Arrival(u16),
}

const PAYLOAD_BITS: u32 = 60;
const PAYLOAD: u64 = (1 << PAYLOAD_BITS) - 1;

impl Kind {
    fn encode(self) -> u64 {
        let (code, payload) = match self {
            Kind::Tick => (0, 0),
            Kind::Finish(id) => (1, id),
            Kind::Disconnect(id) => (2, id),
            Kind::Accept(id) => (3, id),
            Kind::Abandon(id) => (4, id),
            Kind::Recover(a) => (5, u64::from(a)),
            Kind::Reconnect(a) => (6, u64::from(a)),
            Kind::Roster(a) => (7, u64::from(a)),
            Kind::Arrival(q) => (8, u64::from(q)),
        };
        (code << PAYLOAD_BITS) | (payload & PAYLOAD)
    }

    fn decode(data: u64) -> Kind {
        let payload = data & PAYLOAD;
        match data >> PAYLOAD_BITS {
            1 => Kind::Finish(payload),
            2 => Kind::Disconnect(payload),
            3 => Kind::Accept(payload),
            4 => Kind::Abandon(payload),
            5 => Kind::Recover(payload as u32),
            6 => Kind::Reconnect(payload as u32),
            7 => Kind::Roster(payload as u32),
            8 => Kind::Arrival(payload as u16),
            _ => Kind::Tick,
        }
    }
}

/// A future event in 16 bytes (small entries keep the heap in cache). Events are ordered by
/// time, then by their encoded kind and subject, so ties resolve the same way on every run.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Ev {
    t: Millis,
    data: u64,
}

impl Ord for Ev {
    /// Reversed, so the max-heap pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.t, other.data).cmp(&(self.t, self.data))
    }
}

impl PartialOrd for Ev {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Same-instant follow-ups of router events.
#[derive(Clone, Copy)]
enum Act {
    Accept(u64),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    /// Queued, or back from a requeue until the router says where it went.
    Waiting,
    Offered,
    InService,
    /// Complete sent; in wrap-up until the router's `Completed`.
    Closing,
}

#[derive(Clone, Debug)]
struct Contact {
    /// The router's contact id (sequential: see [`Engine::id_slot`]).
    id: u64,
    live: bool,
    queue: u16,
    stage: Stage,
    /// Counted in its queue's waiting length.
    waiting: bool,
    /// An abandonment event is in the heap.
    armed: bool,
    /// The tally's view of the contact: arrival queue and time, and whether its wait ended.
    clock: WaitClock,
    agent: u32,
    /// When the pending accept (offered) or end of service (in service) is due; an event for
    /// this contact of that kind at another time is stale.
    due: Millis,
    cell: u32,
    abandon_at: Millis,
    aht_ms: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Presence {
    Offline,
    Ready,
    Break,
    NotResponding,
}

#[derive(Clone, Debug)]
struct Agent {
    profile: u16,
    units: f64,
    used: u32,
    presence: Presence,
    on_shift: bool,
    on_break: bool,
    /// Shift over: no new offers, logs out when the last contact in hand is done.
    leaving: bool,
    absent: bool,
    disconnected: bool,
    recovering: bool,
    in_service: u32,
    chats: u32,
    last_t: Millis,
    next: u32,
    last: u32,
}

struct Arrivals {
    /// Interval the stream is in.
    k: u32,
    /// Time of the last arrival (or interval boundary) in ms, unrounded.
    t: f64,
    /// Gamma multiplier of the current interval's rate.
    mix: f64,
}

struct Engine<'a> {
    m: &'a Model,
    o: &'a SimOptions,
    router: &'a mut Router,
    heap: BinaryHeap<Ev>,
    now: Millis,
    pending_tick: Millis,
    out: Vec<Event>,
    work: VecDeque<Act>,
    contacts: Vec<Contact>,
    free: Vec<u32>,
    /// Slot of each contact id (ids are arrival numbers; slots are reused).
    id_slot: Vec<u32>,
    agents: Vec<Agent>,
    arrivals: Vec<Arrivals>,
    qlen: Vec<u32>,
    qlast: Vec<u32>,
    rng_arrivals: ChaCha8Rng,
    rng_patience: ChaCha8Rng,
    rng_service: ChaCha8Rng,
    rng_agents: ChaCha8Rng,
    /// Seed of the per-shift absence draws ([`Engine::shift_draw`]).
    shift_seed: u64,
    handle: Factor,
    patience: Factor,
    mix: Option<Gamma<f64>>,
    accept_ms: f64,
    not_responding_ms: Millis,
    reconnect_ms: Millis,
    res: RepResult,
}

/// The router's id of the simulator's contact `k`: its arrival number. The router keeps the ids
/// it has seen as ranges, so sequential ids cost it nothing however many contacts there are.
fn router_id(k: u64) -> ContactId {
    ContactId(k)
}

fn sim_id(id: ContactId) -> u64 {
    id.0
}

/// Longest duration a random draw may take: heavy-tailed draws are capped at ten years so
/// that simulated time never comes near overflowing.
const MAX_DRAW_MS: f64 = 10.0 * 366.0 * 24.0 * 3600.0 * 1000.0;

fn draw_ms(ms: f64) -> Millis {
    ms.round().clamp(0.0, MAX_DRAW_MS) as Millis
}

fn ms(seconds: f64) -> Millis {
    (seconds * 1000.0).round().max(0.0) as Millis
}

fn run_one(model: &Model, o: &SimOptions, router: &mut Router, replication: u32) -> RepResult {
    let started = Instant::now();
    router.reset();
    let n = model.grid.n as usize;
    let nq = model.queues.len();
    let handle = match o.handle_time {
        HandleTimeDistribution::Exponential => Factor::Exponential,
        HandleTimeDistribution::Lognormal => Factor::lognormal(o.handle_cv),
        HandleTimeDistribution::Gamma => Factor::gamma(o.handle_cv),
    };
    let patience = match o.patience {
        PatienceDistribution::Exponential => Factor::Exponential,
        PatienceDistribution::Lognormal => Factor::lognormal(o.patience_cv),
    };
    let mix = if o.overdispersion > 0.0 {
        Gamma::new(1.0 / o.overdispersion, o.overdispersion).ok()
    } else {
        None
    };
    let agents = model
        .agents
        .iter()
        .map(|a| Agent {
            profile: a.profile,
            units: f64::from(model.profiles[a.profile as usize].units.max(1)),
            used: 0,
            presence: Presence::Offline,
            on_shift: false,
            on_break: false,
            leaving: false,
            absent: false,
            disconnected: false,
            recovering: false,
            in_service: 0,
            chats: 0,
            last_t: 0,
            next: a.first,
            last: a.last,
        })
        .collect();
    let mut e = Engine {
        m: model,
        o,
        router,
        heap: BinaryHeap::with_capacity(1024),
        now: 0,
        pending_tick: NEVER,
        out: Vec::with_capacity(64),
        work: VecDeque::new(),
        contacts: Vec::new(),
        free: Vec::new(),
        id_slot: Vec::new(),
        agents,
        arrivals: (0..nq)
            .map(|_| Arrivals {
                k: 0,
                t: model.grid.start as f64,
                mix: 1.0,
            })
            .collect(),
        qlen: vec![0; nq],
        qlast: vec![0; nq],
        rng_arrivals: stream(o.seed, replication, 0),
        rng_patience: stream(o.seed, replication, 1),
        rng_service: stream(o.seed, replication, 2),
        rng_agents: stream(o.seed, replication, 3),
        shift_seed: stream(o.seed, replication, 4).random(),
        handle,
        patience,
        mix,
        accept_ms: o.accept_delay_seconds * 1000.0,
        not_responding_ms: ms(o.not_responding_seconds),
        reconnect_ms: ms(o.reconnect_seconds),
        res: RepResult {
            cells: vec![Cell::default(); nq * n],
            busy: vec![0.0; model.profiles.len() * n],
            staffed: vec![0.0; model.profiles.len() * n],
            ..RepResult::default()
        },
    };
    e.start();
    e.run();
    e.finish();
    e.res.wall_seconds = started.elapsed().as_secs_f64();
    e.res
}

impl Engine<'_> {
    fn push(&mut self, t: Millis, kind: Kind) {
        self.heap.push(Ev {
            t,
            data: kind.encode(),
        });
    }

    fn start(&mut self) {
        if self.m.grid.n > 0 {
            if let Some(mix) = self.mix {
                for q in 0..self.arrivals.len() {
                    self.arrivals[q].mix = mix.sample(&mut self.rng_arrivals);
                }
            }
        }
        for a in 0..self.agents.len() {
            let ag = &self.agents[a];
            if ag.next < ag.last {
                let t = self.m.timeline[ag.next as usize].0;
                self.push(t, Kind::Roster(a as u32));
            }
        }
        for q in 0..self.arrivals.len() {
            self.schedule_arrival(q);
        }
    }

    fn run(&mut self) {
        while let Some(ev) = self.heap.pop() {
            self.now = ev.t;
            self.res.events += 1;
            match Kind::decode(ev.data) {
                Kind::Arrival(q) => self.arrival(q as usize),
                Kind::Abandon(id) => self.abandon_due(id),
                Kind::Accept(id) => self.accept(id),
                Kind::Finish(id) => self.finish_service(id),
                Kind::Disconnect(id) => self.disconnect(id),
                Kind::Roster(a) => self.roster(a as usize),
                Kind::Recover(a) => self.recover(a as usize),
                Kind::Reconnect(a) => self.reconnect(a as usize),
                Kind::Tick => {
                    if ev.t == self.pending_tick {
                        self.pending_tick = NEVER;
                    }
                    self.exec(Command::Tick);
                }
            }
            while let Some(act) = self.work.pop_front() {
                match act {
                    Act::Accept(id) => self.accept(id),
                }
            }
            if let Some(d) = self.router.next_deadline() {
                if d < self.pending_tick {
                    self.pending_tick = d;
                    self.push(d, Kind::Tick);
                }
            }
        }
    }

    /// Sends one command and mirrors the router's answer.
    fn exec(&mut self, command: Command) {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        let checked =
            (self.o.check_invariants && self.res.violation.is_none()).then(|| command.clone());
        if self.router.apply_into(command, self.now, &mut out).is_err() {
            self.res.rejected += 1;
        }
        if let Some(command) = checked {
            if let Err(message) = self.router.check_invariants() {
                self.res.violation = Some((
                    self.now,
                    format!("{message} (after {command:?}, which gave {out:?})"),
                ));
            }
        }
        for ev in out.drain(..) {
            self.on_event(ev);
        }
        self.out = out;
    }

    // ------------------------------------------------------------------ arrivals

    /// Draws the queue's next arrival: exponential gaps at the interval's rate; a gap that
    /// crosses the interval's end is dropped and drawing restarts at the boundary with the next
    /// rate (memorylessness makes this exact for a piecewise-constant rate).
    fn schedule_arrival(&mut self, q: usize) {
        let g = self.m.grid;
        let n = g.n;
        let st = &mut self.arrivals[q];
        while st.k < n {
            let lam = self.m.rate[q * n as usize + st.k as usize] * st.mix;
            let end = (g.start + g.interval * Millis::from(st.k + 1)) as f64;
            if lam > 0.0 {
                let gap: f64 = Exp1.sample(&mut self.rng_arrivals);
                let t = st.t + gap / lam;
                if t < end {
                    st.t = t;
                    let at = (t as Millis).max(self.now);
                    self.push(at, Kind::Arrival(q as u16));
                    return;
                }
            }
            st.t = end;
            st.k += 1;
            if let Some(mix) = self.mix {
                if st.k < n {
                    st.mix = mix.sample(&mut self.rng_arrivals);
                }
            }
        }
    }

    fn arrival(&mut self, q: usize) {
        let n = self.m.grid.n as usize;
        let k = self.arrivals[q].k as usize;
        let cell = q * n + k;
        let now = self.now;
        let abandon_at = match self.m.queues[q].patience_ms {
            Some(mean) => now + draw_ms(mean * self.patience.sample(&mut self.rng_patience)),
            None => NEVER,
        };
        let id = self.id_slot.len() as u64;
        let record = Contact {
            id,
            live: true,
            queue: q as u16,
            stage: Stage::Waiting,
            waiting: false,
            armed: false,
            clock: WaitClock::new(QueueIx(q as u16), now),
            agent: NONE,
            due: NEVER,
            cell: cell as u32,
            abandon_at,
            aht_ms: self.m.aht_ms[cell],
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.contacts[s as usize] = record;
                s
            }
            None => {
                self.contacts.push(record);
                (self.contacts.len() - 1) as u32
            }
        };
        self.id_slot.push(slot);
        self.res.arrivals += 1;
        self.res.cells[cell].counts.offer();
        self.exec(Command::Arrive {
            contact: router_id(id),
            queue: self.m.queues[q].name.clone(),
            language: None,
            priority: None,
            tier: Tier::Standard,
            customer: None,
        });
        self.schedule_arrival(q);
    }

    // ------------------------------------------------------------------ contacts

    /// The live contact with this id, if any.
    fn slot_of(&self, id: u64) -> Option<usize> {
        let slot = *self.id_slot.get(id as usize)? as usize;
        let c = &self.contacts[slot];
        (c.live && c.id == id).then_some(slot)
    }

    fn release(&mut self, slot: usize) {
        self.contacts[slot].live = false;
        self.free.push(slot as u32);
    }

    /// Makes sure the contact's abandonment is scheduled (it fires only if still waiting).
    fn arm(&mut self, slot: usize) {
        let c = &mut self.contacts[slot];
        if c.armed || c.abandon_at == NEVER {
            return;
        }
        c.armed = true;
        let (t, id) = (c.abandon_at.max(self.now), c.id);
        self.push(t, Kind::Abandon(id));
    }

    fn set_waiting(&mut self, slot: usize, waiting: bool) {
        let c = &mut self.contacts[slot];
        if c.waiting == waiting {
            return;
        }
        c.waiting = waiting;
        let q = c.queue as usize;
        let old = self.qlen[q];
        let new = if waiting { old + 1 } else { old - 1 };
        self.qlen[q] = new;
        let Some(k) = self.m.grid.index(self.now) else {
            return;
        };
        let n = self.m.grid.n;
        let base = q * n as usize;
        for j in self.qlast[q]..k.min(n) {
            let cell = &mut self.res.cells[base + j as usize];
            cell.max_queue = cell.max_queue.max(old);
        }
        if k < n {
            let cell = &mut self.res.cells[base + k as usize];
            cell.max_queue = cell.max_queue.max(old.max(new));
        }
        self.qlast[q] = k;
    }

    /// Folds a router event about the contact in `slot` into its cell: the one tally decides
    /// whether and how the contact's wait ended.
    fn tally(&mut self, slot: usize, ev: &Event) {
        let c = &mut self.contacts[slot];
        if let Some(end) = c.clock.observe(&ev.kind, ev.at) {
            let t = self.m.queues[c.queue as usize].thresholds;
            self.res.cells[c.cell as usize].counts.end(end, t);
        }
    }

    fn abandon_due(&mut self, id: u64) {
        let Some(s) = self.slot_of(id) else {
            return;
        };
        let c = &self.contacts[s];
        if matches!(c.stage, Stage::Waiting | Stage::Offered) && !c.clock.answered() {
            self.exec(Command::Abandon {
                contact: router_id(id),
            });
        }
    }

    fn accept(&mut self, id: u64) {
        let Some(s) = self.slot_of(id) else {
            return;
        };
        let c = &self.contacts[s];
        if c.stage != Stage::Offered || c.due != self.now {
            return;
        }
        let agent = AgentId(u64::from(c.agent));
        self.exec(Command::Accept {
            contact: router_id(id),
            agent,
        });
    }

    fn finish_service(&mut self, id: u64) {
        let Some(s) = self.slot_of(id) else {
            return;
        };
        let c = &self.contacts[s];
        if c.stage != Stage::InService || c.due != self.now {
            return;
        }
        let a = c.agent as usize;
        let chat = self.m.queues[c.queue as usize].is_chat;
        self.contacts[s].stage = Stage::Closing;
        let ag = &mut self.agents[a];
        ag.in_service -= 1;
        ag.chats -= u32::from(chat);
        self.exec(Command::Complete {
            contact: router_id(id),
            agent: AgentId(a as u64),
        });
        let ag = &self.agents[a];
        if ag.leaving && ag.in_service == 0 && ag.presence != Presence::Offline {
            self.logout(a);
        }
    }

    fn disconnect(&mut self, id: u64) {
        let Some(s) = self.slot_of(id) else {
            return;
        };
        let c = &self.contacts[s];
        if c.stage != Stage::InService || c.due != self.now {
            return;
        }
        let a = c.agent as usize;
        if self.agents[a].presence == Presence::Offline {
            return;
        }
        self.res.disconnects += 1;
        self.logout(a);
        self.agents[a].disconnected = true;
        let t = self.now.saturating_add(self.reconnect_ms);
        self.push(t, Kind::Reconnect(a as u32));
    }

    // ------------------------------------------------------------------ router events

    fn on_event(&mut self, ev: Event) {
        match ev.kind {
            EventKind::Queued { contact, .. } | EventKind::StickyHeld { contact, .. } => {
                if let Some(s) = self.slot_of(sim_id(contact)) {
                    self.contacts[s].stage = Stage::Waiting;
                    self.set_waiting(s, true);
                    self.arm(s);
                }
            }
            EventKind::Offered { contact, agent, .. } => {
                if let Some(s) = self.slot_of(sim_id(contact)) {
                    self.on_offered(s, agent.0 as usize);
                }
            }
            EventKind::Accepted { contact, agent } => {
                if let Some(s) = self.slot_of(sim_id(contact)) {
                    self.tally(s, &ev);
                    self.on_accepted(s, agent.0 as usize);
                }
            }
            EventKind::Completed { contact, agent } => {
                if let Some(s) = self.slot_of(sim_id(contact)) {
                    let cost = self.m.queues[self.contacts[s].queue as usize].cost;
                    self.change_load(agent.0 as usize, -(cost as i64));
                    self.release(s);
                }
            }
            EventKind::Abandoned { contact } => {
                if let Some(s) = self.slot_of(sim_id(contact)) {
                    let answered_before = self.contacts[s].clock.answered();
                    self.tally(s, &ev);
                    self.on_abandoned(s, answered_before);
                }
            }
            EventKind::Requeued { contact, agent, .. } => {
                if let Some(s) = self.slot_of(sim_id(contact)) {
                    self.on_requeued(s, agent.0 as usize);
                }
            }
            EventKind::AgentState {
                agent,
                state: AgentState::NotResponding,
            } => {
                let a = agent.0 as usize;
                self.integrate(a);
                let ag = &mut self.agents[a];
                ag.presence = Presence::NotResponding;
                if !ag.recovering {
                    ag.recovering = true;
                    let t = self.now.saturating_add(self.not_responding_ms);
                    self.push(t, Kind::Recover(a as u32));
                }
            }
            EventKind::AgentState { .. }
            | EventKind::WrapUp { .. }
            | EventKind::Transferred { .. }
            | EventKind::Escalated { .. }
            | EventKind::Rejected { .. } => {}
        }
    }

    fn on_offered(&mut self, s: usize, a: usize) {
        let cost = self.m.queues[self.contacts[s].queue as usize].cost;
        self.change_load(a, cost as i64);
        self.set_waiting(s, false);
        let c = &mut self.contacts[s];
        c.stage = Stage::Offered;
        c.agent = a as u32;
        c.due = NEVER;
        let (id, abandon_at) = (c.id, c.abandon_at);
        let p = self.o.no_response_probability;
        if p > 0.0 && self.rng_agents.random::<f64>() < p {
            self.arm(s);
            return;
        }
        let delay = if self.accept_ms > 0.0 {
            let x: f64 = Exp1.sample(&mut self.rng_agents);
            draw_ms(self.accept_ms * x)
        } else {
            0
        };
        let due = self.now.saturating_add(delay);
        self.contacts[s].due = due;
        if delay == 0 {
            self.work.push_back(Act::Accept(id));
        } else {
            self.push(due, Kind::Accept(id));
        }
        if abandon_at <= self.now.saturating_add(delay) {
            self.arm(s);
        }
    }

    fn on_accepted(&mut self, s: usize, a: usize) {
        let q = self.contacts[s].queue as usize;
        let chat = self.m.queues[q].is_chat;
        let ag = &mut self.agents[a];
        ag.in_service += 1;
        ag.chats += u32::from(chat);
        let k = ag.chats;
        let c = &mut self.contacts[s];
        c.stage = Stage::InService;
        let stretch = match (chat, self.o.chat_duration) {
            (false, _) => 1.0,
            (true, ChatDuration::QueueConcurrency) => {
                chat_stretch(self.m.queues[q].concurrency, self.o.chat_stretch)
            }
            (true, ChatDuration::ChatsHeld) => chat_stretch(k, self.o.chat_stretch),
        };
        let mean = c.aht_ms * stretch;
        let id = c.id;
        let duration = draw_ms(mean * self.handle.sample(&mut self.rng_service)).max(1);
        let p = self.o.disconnect_probability;
        let (due, kind) = if p > 0.0 && self.rng_service.random::<f64>() < p {
            let cut = (duration as f64 * self.rng_service.random::<f64>()) as Millis;
            (self.now.saturating_add(cut), Kind::Disconnect(id))
        } else {
            (self.now.saturating_add(duration), Kind::Finish(id))
        };
        self.contacts[s].due = due;
        self.push(due, kind);
    }

    fn on_abandoned(&mut self, s: usize, answered_before: bool) {
        let c = &self.contacts[s];
        if c.stage == Stage::Offered {
            let cost = self.m.queues[c.queue as usize].cost;
            self.change_load(c.agent as usize, -(cost as i64));
        }
        self.set_waiting(s, false);
        if answered_before {
            self.res.lost_after_answer += 1;
        }
        self.release(s);
    }

    fn on_requeued(&mut self, s: usize, a: usize) {
        let q = self.contacts[s].queue as usize;
        self.change_load(a, -(self.m.queues[q].cost as i64));
        let c = &mut self.contacts[s];
        if c.stage == Stage::InService {
            // Dropped mid-conversation: the customer stays on for the next agent.
            c.abandon_at = NEVER;
            let ag = &mut self.agents[a];
            ag.in_service -= 1;
            ag.chats -= u32::from(self.m.queues[q].is_chat);
        }
        let c = &mut self.contacts[s];
        c.stage = Stage::Waiting;
        c.agent = NONE;
    }

    // ------------------------------------------------------------------ agents

    /// Books the agent's time since its last change into the occupancy sums.
    fn integrate(&mut self, a: usize) {
        let now = self.now;
        let ag = &mut self.agents[a];
        let from = ag.last_t;
        ag.last_t = now;
        if now <= from || ag.presence == Presence::Offline {
            return;
        }
        if ag.presence == Presence::Break && ag.used == 0 {
            return;
        }
        let share = f64::from(ag.used) / ag.units;
        let g = self.m.grid;
        let (mut t, hi) = (from.max(g.start), now.min(g.end()));
        let base = ag.profile as usize * g.n as usize;
        while t < hi {
            let k = (t - g.start) / g.interval;
            let b = (g.start + (k + 1) * g.interval).min(hi);
            let d = (b - t) as f64;
            self.res.staffed[base + k as usize] += d;
            self.res.busy[base + k as usize] += d * share;
            t = b;
        }
    }

    fn change_load(&mut self, a: usize, delta: i64) {
        self.integrate(a);
        let ag = &mut self.agents[a];
        ag.used = (i64::from(ag.used) + delta).max(0) as u32;
    }

    fn set_presence(&mut self, a: usize, presence: Presence) {
        self.integrate(a);
        self.agents[a].presence = presence;
        let availability = match presence {
            Presence::Break => Availability::Break,
            _ => Availability::Available,
        };
        self.exec(Command::SetAvailability {
            agent: AgentId(a as u64),
            availability,
        });
    }

    fn login(&mut self, a: usize) {
        self.integrate(a);
        let p = &self.m.profiles[self.agents[a].profile as usize];
        let command = Command::Login {
            agent: AgentId(a as u64),
            skills: p.skills.clone(),
            languages: p.languages.clone(),
            capacity: Some(p.capacity.clone()),
        };
        self.agents[a].presence = Presence::Ready;
        self.exec(command);
        if self.agents[a].on_break {
            self.set_presence(a, Presence::Break);
        }
    }

    fn logout(&mut self, a: usize) {
        self.integrate(a);
        let ag = &mut self.agents[a];
        ag.presence = Presence::Offline;
        ag.leaving = false;
        self.exec(Command::Logout {
            agent: AgentId(a as u64),
        });
        // The router completed wrap-ups and requeued the rest; nothing is held any more.
        let ag = &mut self.agents[a];
        ag.used = 0;
        ag.in_service = 0;
        ag.chats = 0;
    }

    /// A uniform draw in [0, 1) for agent `a`'s shift starting now, from the seed, the
    /// replication, the agent's id and the start: not from a stream, so a variant that adds
    /// or removes agents leaves every other agent's missed shifts as they were (common random
    /// numbers across a sweep).
    fn shift_draw(&self, a: usize) -> f64 {
        let mut x = self.shift_seed ^ self.m.agents[a].key;
        x = splitmix64(x ^ splitmix64(self.now));
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn roster(&mut self, a: usize) {
        let ag = &mut self.agents[a];
        let (_, action) = self.m.timeline[ag.next as usize];
        ag.next += 1;
        if ag.next < ag.last {
            let t = self.m.timeline[ag.next as usize].0;
            self.push(t, Kind::Roster(a as u32));
        }
        let ag = &mut self.agents[a];
        match action {
            Action::ShiftStart => {
                ag.on_shift = true;
                ag.on_break = false;
                let p = self.o.missed_shift_probability();
                let absent = p > 0.0 && self.shift_draw(a) < p;
                let ag = &mut self.agents[a];
                ag.absent = absent;
                if ag.absent {
                    self.res.absences += 1;
                } else if ag.presence != Presence::Offline {
                    // Still finishing the previous shift's last contact: stay on.
                    ag.leaving = false;
                    if ag.presence != Presence::Ready {
                        self.set_presence(a, Presence::Ready);
                    }
                } else if !ag.disconnected {
                    self.login(a);
                }
            }
            Action::ShiftEnd => {
                ag.on_shift = false;
                ag.on_break = false;
                if ag.absent {
                    ag.absent = false;
                } else if ag.presence != Presence::Offline {
                    if ag.in_service > 0 {
                        ag.leaving = true;
                        if ag.presence != Presence::Break {
                            self.set_presence(a, Presence::Break);
                        }
                    } else {
                        self.logout(a);
                    }
                }
            }
            Action::BreakStart => {
                ag.on_break = true;
                if !matches!(ag.presence, Presence::Offline | Presence::Break) {
                    self.set_presence(a, Presence::Break);
                }
            }
            Action::BreakEnd => {
                ag.on_break = false;
                if !matches!(ag.presence, Presence::Offline | Presence::Ready) && !ag.leaving {
                    self.set_presence(a, Presence::Ready);
                }
            }
        }
    }

    fn recover(&mut self, a: usize) {
        let ag = &mut self.agents[a];
        ag.recovering = false;
        if ag.presence == Presence::NotResponding {
            let want = if ag.on_break || ag.leaving {
                Presence::Break
            } else {
                Presence::Ready
            };
            self.set_presence(a, want);
        }
    }

    fn reconnect(&mut self, a: usize) {
        let ag = &mut self.agents[a];
        ag.disconnected = false;
        if ag.on_shift && !ag.absent && ag.presence == Presence::Offline {
            self.login(a);
        }
    }

    // ------------------------------------------------------------------ end

    fn finish(&mut self) {
        for a in 0..self.agents.len() {
            self.integrate(a);
        }
        let n = self.m.grid.n;
        for q in 0..self.qlen.len() {
            let level = self.qlen[q];
            for j in self.qlast[q]..n {
                let cell = &mut self.res.cells[q * n as usize + j as usize];
                cell.max_queue = cell.max_queue.max(level);
            }
        }
        for s in 0..self.contacts.len() {
            let c = &self.contacts[s];
            if c.live {
                if c.clock.answered() {
                    self.res.unfinished_after_answer += 1;
                } else {
                    // Still waiting when the run ends: neither answered nor abandoned, but its
                    // wait so far is a wait a customer had.
                    let cell = &mut self.res.cells[c.cell as usize];
                    cell.unresolved += 1;
                    cell.counts
                        .note_wait(self.now.saturating_sub(c.clock.arrival));
                }
            }
        }
        self.res.end = self.now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{simulate, ArrivalRate, RosterShift, SimReport};
    use chrono::{DateTime, Duration, FixedOffset};
    use peakcrew_core::model::{
        Channel, IntradayProfile, Language, Proficiency, Queue, Skill, SkillLevel, SlaTarget,
        VolumeProfile,
    };
    use peakcrew_core::routing::PerChannel;

    fn t0() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-11T00:00:00+08:00").unwrap()
    }

    fn catalog(patience: Option<f64>) -> Catalog {
        Catalog::from_queues(vec![Queue {
            id: "q".into(),
            name: String::new(),
            channel: Channel::Phone,
            skill: Skill::new("general"),
            language: Language::new("zh"),
            sla: SlaTarget::ServiceLevel {
                fraction: 0.8,
                answer_seconds: 20.0,
            },
            patience_seconds: patience,
            concurrency: 1,
            aht_seconds: 60.0,
            priority: 5,
            max_occupancy: None,
            shrinkage: None,
            volume: VolumeProfile {
                daily_contacts: 0.0,
                profile: IntradayProfile::Spread,
                weekend_factor: 1.0,
                annual_growth: 0.0,
            },
        }])
    }

    fn policy() -> RoutingPolicy {
        RoutingPolicy {
            wrap_up: PerChannel {
                phone: Some(0.0),
                ..PerChannel::default()
            },
            ..RoutingPolicy::default()
        }
    }

    /// `per_interval[k]` expected contacts in the k-th quarter hour from t0.
    fn rates(per_interval: &[f64]) -> Vec<ArrivalRate> {
        per_interval
            .iter()
            .enumerate()
            .map(|(k, &c)| ArrivalRate {
                queue: "q".into(),
                start: t0() + Duration::minutes(15 * k as i64),
                minutes: 15,
                contacts: c,
                aht_seconds: 60.0,
            })
            .collect()
    }

    fn agent(name: &str, hours: (i64, i64), breaks: &[(i64, i64)]) -> RosterShift {
        let at = |m: i64| t0() + Duration::minutes(m);
        RosterShift {
            agent: name.into(),
            group: "g".into(),
            skills: vec![SkillLevel {
                skill: Skill::new("general"),
                proficiency: Proficiency::new(4).unwrap(),
            }],
            languages: vec![Language::new("zh")],
            start: at(hours.0 * 60),
            end: at(hours.1 * 60),
            breaks: breaks.iter().map(|&(a, b)| (at(a), at(b))).collect(),
        }
    }

    fn options() -> SimOptions {
        SimOptions {
            replications: 3,
            threads: 1,
            handle_cv: 0.0,
            accept_delay_seconds: 0.0,
            check_invariants: true,
            ..SimOptions::default()
        }
    }

    fn run(
        patience: Option<f64>,
        r: &[ArrivalRate],
        roster: &[RosterShift],
        o: &SimOptions,
    ) -> SimReport {
        simulate(&catalog(patience), &policy(), r, roster, o).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn event_kinds_round_trip_and_order_deadlines_first() {
        let kinds = [
            Kind::Tick,
            Kind::Finish(7),
            Kind::Disconnect(1 << 40),
            Kind::Accept(3),
            Kind::Abandon(9),
            Kind::Recover(2),
            Kind::Reconnect(5),
            Kind::Roster(11),
            Kind::Arrival(4),
        ];
        for k in kinds {
            assert_eq!(Kind::decode(k.encode()), k);
        }
        let mut heap: BinaryHeap<Ev> = kinds
            .iter()
            .rev()
            .map(|k| Ev {
                t: 5,
                data: k.encode(),
            })
            .collect();
        heap.push(Ev {
            t: 4,
            data: Kind::Arrival(0).encode(),
        });
        assert_eq!(Kind::decode(heap.pop().unwrap().data), Kind::Arrival(0));
        assert_eq!(Kind::decode(heap.pop().unwrap().data), Kind::Tick);
        assert_eq!(Kind::decode(heap.pop().unwrap().data), Kind::Finish(7));
    }

    #[test]
    fn an_idle_agent_answers_at_once_and_is_busy_for_the_handle_time() {
        // Two hours of light traffic on one agent: every contact is answered, and the agent is
        // busy exactly 60 s per contact it answered.
        let r = run(
            None,
            &rates(&[2.0; 8]),
            &[agent("a", (0, 3), &[])],
            &options(),
        );
        let c = &r.counters;
        assert_eq!((c.rejected_commands, c.unresolved, c.abandoned), (0, 0, 0));
        assert_eq!(c.answered, c.contacts);
        let occupancy = r.overall.occupancy.unwrap().mean;
        let expected = c.answered as f64 * 60.0 / (3.0 * 2.0 * 3600.0);
        assert!(
            (occupancy - expected).abs() < 0.02,
            "{occupancy} vs {expected}"
        );
    }

    #[test]
    fn a_break_holds_every_offer_until_it_ends() {
        // Contacts arrive in the first hour; the only agent is on break for the first two.
        let r = run(
            None,
            &rates(&[4.0, 4.0, 4.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            &[agent("a", (0, 8), &[(0, 120)])],
            &options(),
        );
        assert!(r.counters.contacts > 0);
        assert_eq!(r.counters.answered, r.counters.contacts);
        let asa = r.overall.asa_seconds.unwrap();
        assert!(asa.mean >= 3600.0, "{asa:?}");
        assert_eq!(r.overall.service_level.unwrap().mean, 0.0);
        // Waiting contacts pile up while the agent is away.
        assert!(r.overall.max_queue_length.unwrap().mean >= 5.0);
    }

    #[test]
    fn chats_last_as_staffing_assumes_unless_asked_for_the_chats_held() {
        // Lone chats (one every 15 minutes, 60 s each) on one agent of a queue of concurrency
        // 3 with stretch 0.25: staffing's model stretches every chat by 1.5, the chats-held
        // model leaves a lone chat at 60 s. A chat takes 2 of the agent's 6 units.
        let mut chat = catalog(None);
        chat.queues[0].channel = Channel::Chat;
        chat.queues[0].concurrency = 3;
        let busy_per_chat = |duration: ChatDuration| {
            let o = SimOptions {
                chat_stretch: 0.25,
                chat_duration: duration,
                ..options()
            };
            let r = simulate(
                &chat,
                &policy(),
                &rates(&[1.0; 8]),
                &[agent("a", (0, 3), &[])],
                &o,
            )
            .unwrap();
            assert_eq!(r.counters.answered, r.counters.contacts);
            let occupancy = r.overall.occupancy.unwrap().mean;
            // Occupancy is measured over the 2 hours of the grid, 3 replications.
            let staffed = 3.0 * 2.0 * 3600.0;
            occupancy * staffed * 3.0 / r.counters.answered as f64
        };
        let staffing = busy_per_chat(ChatDuration::QueueConcurrency);
        let held = busy_per_chat(ChatDuration::ChatsHeld);
        // Chats still open when the grid ends are cut there: a little under the full length.
        assert!((85.0..=90.01).contains(&staffing), "{staffing}");
        assert!((57.0..=62.0).contains(&held), "{held}");
    }

    #[test]
    fn shrinkage_misses_shifts_and_keeps_each_agents_draws_across_variants() {
        let everyone: Vec<RosterShift> = (0..40)
            .map(|i| agent(&format!("a{i:02}"), (0, 2), &[]))
            .collect();
        let o = SimOptions {
            shrinkage: 0.25,
            replications: 20,
            ..options()
        };
        let r = run(None, &rates(&[1.0; 4]), &everyone, &o);
        // 40 agents × 20 replications, a quarter missed: 200 expected, sd about 12.
        let missed = r.counters.absences;
        assert!((160..=240).contains(&missed), "{missed}");
        // With the absence fault on top: 1 − 0.75 × 0.5 of the shifts are missed.
        let both = SimOptions {
            absence_probability: 0.5,
            ..o.clone()
        };
        assert!((both.missed_shift_probability() - 0.625).abs() < 1e-12);
        // Half the agents gone: the others miss exactly the shifts they missed before.
        let half = run(None, &rates(&[1.0; 4]), &everyone[..20], &o);
        let first_half = run(None, &rates(&[1.0; 4]), &everyone[..20], &o);
        assert_eq!(half.counters.absences, first_half.counters.absences);
        let mut shuffled = everyone[..20].to_vec();
        shuffled.reverse();
        shuffled.extend(everyone[30..].iter().cloned());
        let more = run(None, &rates(&[1.0; 4]), &shuffled, &o);
        let rest = run(None, &rates(&[1.0; 4]), &everyone[30..], &o);
        assert_eq!(
            more.counters.absences,
            half.counters.absences + rest.counters.absences
        );
        let off = SimOptions {
            shrinkage: 0.0,
            ..o
        };
        assert_eq!(
            run(None, &rates(&[1.0; 4]), &everyone, &off)
                .counters
                .absences,
            0
        );
    }

    /// Short abandons come from the policy's threshold through the router's queue facts: with
    /// one agent for a busy queue some customers give up, and those who give up within the
    /// threshold leave the variant's denominator.
    #[test]
    fn short_abandons_follow_the_policys_threshold() {
        let run_with = |short: f64| {
            let policy = RoutingPolicy {
                short_abandon_seconds: short,
                ..policy()
            };
            let roster = [agent("a", (0, 8), &[])];
            // One replication, so the figures are ratios of the counters.
            let o = SimOptions {
                replications: 1,
                ..options()
            };
            simulate(
                &catalog(Some(60.0)),
                &policy,
                &rates(&[30.0; 8]),
                &roster,
                &o,
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let (none, all) = (run_with(0.0), run_with(1.0e6));
        assert!(none.counters.abandoned > 10, "{:?}", none.counters);
        let sl = |r: &SimReport| r.overall.service_level.unwrap().mean;
        let excl = |r: &SimReport| {
            r.overall
                .service_level_excluding_short_abandons
                .unwrap()
                .mean
        };
        // The threshold changes what is counted, not what happens.
        assert_eq!(none.counters, all.counters);
        assert_eq!(sl(&none), excl(&none));
        assert_eq!(sl(&none), sl(&all));
        // Every abandon is short: the variant is answered within target ÷ answered.
        let c = &all.counters;
        assert!(excl(&all) > sl(&all));
        let within = sl(&all) * c.contacts as f64;
        assert!(
            (excl(&all) - within / c.answered as f64).abs() < 1e-9,
            "{c:?}"
        );
    }

    #[test]
    fn absent_agents_leave_customers_to_abandon() {
        let o = SimOptions {
            absence_probability: 1.0,
            ..options()
        };
        let r = run(
            Some(60.0),
            &rates(&[5.0; 4]),
            &[agent("a", (0, 2), &[]), agent("b", (0, 2), &[])],
            &o,
        );
        let c = &r.counters;
        assert_eq!(c.absences, 2 * 3);
        assert_eq!((c.answered, c.abandoned), (0, c.contacts));
        assert_eq!(r.overall.abandonment_rate.unwrap().mean, 1.0);
        assert!(r.overall.occupancy.is_none(), "nobody was staffed");
    }

    #[test]
    fn ignored_offers_time_out_and_the_agent_comes_back() {
        let o = SimOptions {
            no_response_probability: 1.0,
            not_responding_seconds: 10.0,
            ..options()
        };
        let r = run(
            Some(120.0),
            &rates(&[5.0; 4]),
            &[agent("a", (0, 2), &[])],
            &o,
        );
        let c = &r.counters;
        assert_eq!(c.rejected_commands, 0);
        assert_eq!((c.answered, c.abandoned), (0, c.contacts));
    }

    #[test]
    fn agents_finish_their_contact_after_the_shift_and_queues_left_behind_stay_open() {
        // Long calls, short shift, no patience: the agent takes a call before the end of its
        // shift, finishes it after, and nobody serves what is left.
        let mut r = rates(&[20.0; 4]);
        for x in &mut r {
            x.aht_seconds = 600.0;
        }
        let rep = run(None, &r, &[agent("a", (0, 1), &[])], &options());
        let c = &rep.counters;
        assert_eq!(c.rejected_commands, 0);
        assert!(c.answered >= 3 * 6, "{c:?}");
        assert!(c.unresolved > 0);
        assert_eq!(c.contacts, c.answered + c.unresolved);
        assert_eq!(c.unfinished_after_answer, 0);
    }

    #[test]
    fn roster_and_rate_errors_name_the_agent_or_row() {
        let o = options();
        let cat = catalog(None);
        let outside = agent("a", (0, 2), &[(150, 160)]);
        let e = simulate(&cat, &policy(), &rates(&[1.0]), &[outside], &o).unwrap_err();
        assert!(
            e.to_string().starts_with("roster: agent `a`, shift starting 2026-11-11T00:00:00+08:00: break 2026-11-11T02:30:00+08:00–2026-11-11T02:40:00+08:00 is not a span inside the shift"),
            "{e}"
        );
        let overlapping = [agent("a", (0, 2), &[]), agent("a", (1, 3), &[])];
        let e = simulate(&cat, &policy(), &rates(&[1.0]), &overlapping, &o).unwrap_err();
        assert!(
            e.to_string().contains("overlaps the agent's shift ending"),
            "{e}"
        );
        let mut bad = rates(&[1.0, 1.0]);
        bad[1].start += Duration::minutes(5);
        let e = simulate(&cat, &policy(), &bad, &[agent("a", (0, 2), &[])], &o).unwrap_err();
        assert!(e.to_string().contains("arrival row 2 (queue `q`, start 2026-11-11T00:20:00+08:00): start is not on the 15-minute grid"), "{e}");
    }

    #[test]
    fn disconnects_requeue_the_contact_for_another_agent() {
        let o = SimOptions {
            disconnect_probability: 0.5,
            reconnect_seconds: 5.0,
            ..options()
        };
        let r = run(
            Some(600.0),
            &rates(&[10.0; 8]),
            &[agent("a", (0, 3), &[]), agent("b", (0, 3), &[])],
            &o,
        );
        let c = &r.counters;
        assert!(c.disconnects > 0);
        assert_eq!(c.rejected_commands, 0);
        assert_eq!(c.contacts, c.answered + c.abandoned + c.unresolved);
    }
}
