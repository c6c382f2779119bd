//! The daemon's engine, [`Dispatcher`]: the one owner of the routing core, and the daemon's
//! translation between the API's string ids and the core's integers.
//!
//! It is named for what it does — check a request, dispatch it to the core, keep the tables the
//! core's events imply — and to tell it from the simulator's engine (`peakcrew_sim`), which
//! drives the same core with simulated arrivals and agents instead of requests.
//!
//! Everything that changes routing state goes through [`Dispatcher::apply`], live and on replay
//! alike: it checks the request against the catalog and the caller, hands the core a
//! [`Command`], and on success appends the request and its `now` to the log buffer. Only
//! accepted requests are logged, and every id the daemon interns (contact, agent, customer) is
//! interned only when the core accepts the command, so replaying the log rebuilds the same
//! tables and the same core state, integer for integer.
//!
//! The engine has no clock and no thread of its own: it is given each `now`, by the engine
//! thread ([`crate::engine_thread`]) live and by the log's records on replay, which is what
//! lets a replay rebuild it exactly. What it answers is in the wire types ([`crate::wire`]).
//!
//! Besides the core, the engine keeps per-contact records (so finished contacts can still be
//! read and a duplicate create answered with the original result) and per-queue counters for
//! service level, both updated only from the core's events.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use peakcrew_core::cow::{ChunkedVec, ShardedIndex};
use peakcrew_core::model::Channel;
use peakcrew_core::routing::{
    AgentId, AgentState, Catalog, Command, ContactId, ContactState, CustomerId, Event, EventKind,
    Millis, Operation, QueueIx, Rejection, Router, RoutingPolicy, Tier, MAX_UNITS,
};
use peakcrew_core::tally::{Counts, Thresholds, WaitClock};

use super::config::{valid_id, ID_RULE};
use super::error::ApiError;
use super::store;
use super::wire::{
    state_name, AgentOut, ContactOut, EventType, HealthOut, Login, NewContact, Op, OutEvent,
    QueueStatsOut, StatsOut,
};

/// Who is asking. The HTTP layer settles what a role may call; the engine settles what needs
/// state (an agent acts only on contacts it holds).
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    Admin,
    Integration,
    Agent(Arc<str>),
    /// A record of the log: already authorized when it was accepted.
    Replay,
}

/// A read.
#[derive(Debug, Clone)]
pub enum Query {
    Contact { id: String },
    Stats { digest: bool },
    Health,
}

/// What the engine answers.
#[derive(Debug, Clone)]
pub enum Reply {
    Contact {
        contact: ContactOut,
        created: bool,
    },
    Agent(AgentOut),
    Stats(Box<StatsOut>),
    Health(HealthOut),
    /// One answer per operation of a [`crate::engine_thread::Request::Batch`], in order.
    Batch(Vec<Answer>),
}

pub type Answer = Result<Reply, ApiError>;

/// A queue as the stats show it: the router's own facts (`Router::queue_facts`, supervisor
/// twins included), with the names the API prints kept as shared strings.
#[derive(Debug, Clone)]
struct QueueInfo {
    name: Arc<str>,
    channel: Channel,
    skill: Arc<str>,
    language: Option<Arc<str>>,
    /// The answer target and short-abandon threshold the tally judges waits by.
    thresholds: Thresholds,
}

/// The daemon's record of a contact, from its creation on.
#[derive(Debug, Clone, Hash, Serialize, Deserialize)]
struct ContactRec {
    key: Arc<str>,
    // The request as given, to tell a retry from a different contact with the same id.
    asked_queue: u16,
    asked_language: Option<u16>,
    asked_priority: Option<u8>,
    tier: Tier,
    customer: Option<u32>,
    // The result of creation.
    created_state: ContactState,
    created_agent: Option<u32>,
    language: u16,
    priority: u8,
    /// Arrival queue and time, and whether the wait ended: what the tally folds events with.
    clock: WaitClock,
    deadline: Millis,
    // Kept up to date from events, for contacts the core has retired.
    queue: u16,
    agent: Option<u32>,
    escalated: bool,
    transfers: u32,
}

/// Where a batch's side effects go.
#[derive(Default)]
pub struct Effects {
    /// Encoded log records of the accepted requests.
    pub log: Vec<u8>,
    /// Whether anyone streams events; if not, none are built.
    pub publish: bool,
    pub events: Vec<OutEvent>,
}

/// The routing core with the daemon's tables around it: id interning, contact records and the
/// per-queue tally. Cloning it is the snapshot copy (its growing tables are copy-on-write).
#[derive(Clone)]
pub struct Dispatcher {
    router: Router,
    epoch_unix_ms: u64,
    queues: Vec<QueueInfo>,
    queue_ix: HashMap<Arc<str>, u16>,
    languages: Vec<Arc<str>>,
    language_ix: HashMap<Arc<str>, u16>,
    skills: HashMap<Arc<str>, ()>,
    // The tables that grow with every contact are copy-on-write (see `peakcrew_core::cow`): the
    // snapshot copy costs a pause of microseconds, and growth never rehashes them whole.
    contacts: ChunkedVec<ContactRec>,
    contact_ix: ShardedIndex,
    agents: ChunkedVec<Arc<str>>,
    agent_ix: ShardedIndex,
    customers: ChunkedVec<Arc<str>>,
    customer_ix: ShardedIndex,
    /// The tally of each queue, by arrival queue.
    counters: Vec<Counts>,
    log_entries: u64,
    scratch: Vec<Event>,
}

/// Folds an event about `rec` into its arrival queue's counts: the one tally decides whether
/// and how the contact's wait ended.
fn tally(counters: &mut [Counts], queues: &[QueueInfo], rec: &mut ContactRec, e: &Event) {
    if let Some(end) = rec.clock.observe(&e.kind, e.at) {
        let q = rec.clock.queue.0 as usize;
        counters[q].end(end, queues[q].thresholds);
    }
}

impl Dispatcher {
    pub fn new(
        policy: &RoutingPolicy,
        catalog: &Catalog,
        epoch_unix_ms: u64,
    ) -> Result<Dispatcher, peakcrew_core::routing::PolicyErrors> {
        let router = Router::new(policy, catalog)?;
        let queues: Vec<QueueInfo> = router
            .queue_facts()
            .iter()
            .map(|f| QueueInfo {
                name: f.name.clone(),
                channel: f.channel,
                skill: f.skill.as_str().into(),
                language: f.language.as_ref().map(|l| l.as_str().into()),
                thresholds: f.thresholds(),
            })
            .collect();
        let queue_ix = queues
            .iter()
            .enumerate()
            .map(|(i, q)| (q.name.clone(), i as u16))
            .collect();
        let languages: Vec<Arc<str>> = router
            .languages()
            .iter()
            .map(|l| l.as_str().into())
            .collect();
        let language_ix = languages
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), i as u16))
            .collect();
        let skills = router
            .skills()
            .iter()
            .map(|s| (Arc::from(s.as_str()), ()))
            .collect();
        Ok(Dispatcher {
            counters: vec![Counts::default(); queues.len()],
            router,
            epoch_unix_ms,
            queues,
            queue_ix,
            languages,
            language_ix,
            skills,
            contacts: ChunkedVec::new(),
            contact_ix: ShardedIndex::default(),
            agents: ChunkedVec::new(),
            agent_ix: ShardedIndex::default(),
            customers: ChunkedVec::new(),
            customer_ix: ShardedIndex::default(),
            log_entries: 0,
            scratch: Vec::with_capacity(64),
        })
    }

    pub fn now(&self) -> Millis {
        self.router.now()
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.router.next_deadline()
    }

    pub fn log_entries(&self) -> u64 {
        self.log_entries
    }

    /// Replays one log record. A record the engine would not accept means the log and the
    /// code disagree; the caller stops rather than serve a different state.
    pub fn replay(&mut self, entry: &store::Entry) -> Result<(), String> {
        if entry.n != self.log_entries {
            return Err(format!(
                "record n={} arrives when {} were replayed",
                entry.n, self.log_entries
            ));
        }
        let mut fx = Effects::default();
        match self.apply(&entry.op, &Actor::Replay, entry.at, &mut fx) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("record n={} is rejected on replay: {e}", entry.n)),
        }
    }

    /// Lets time pass to `now`, firing due transitions.
    pub fn tick(&mut self, now: Millis, fx: &mut Effects) {
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        let _ = self.router.apply_into(Command::Tick, now, &mut events);
        self.absorb(&events, fx);
        self.scratch = events;
    }

    /// Checks, applies and logs one state-changing request.
    pub fn apply(&mut self, op: &Op, actor: &Actor, now: Millis, fx: &mut Effects) -> Answer {
        match op {
            Op::Create(c) => self.create(op, c, now, fx),
            Op::Accept { contact, agent } | Op::Complete { contact, agent } => {
                let accept = matches!(op, Op::Accept { .. });
                let (cid, ix) = self.contact_id(contact)?;
                let aid = self.agent_id(agent, "agent")?;
                self.act_for(actor, agent)?;
                let command = if accept {
                    Command::Accept {
                        contact: cid,
                        agent: aid,
                    }
                } else {
                    Command::Complete {
                        contact: cid,
                        agent: aid,
                    }
                };
                self.run(op, command, now, fx)?;
                Ok(Reply::Contact {
                    contact: self.contact_out(ix),
                    created: false,
                })
            }
            Op::Transfer { contact, queue } => {
                let (cid, ix) = self.contact_id(contact)?;
                if !self.queue_ix.contains_key(queue.as_str()) {
                    return Err(unknown_queue(queue));
                }
                self.holds(actor, cid)?;
                let command = Command::Transfer {
                    contact: cid,
                    queue: queue.clone(),
                };
                self.run(op, command, now, fx)?;
                Ok(Reply::Contact {
                    contact: self.contact_out(ix),
                    created: false,
                })
            }
            Op::Abandon { contact } => {
                let (cid, ix) = self.contact_id(contact)?;
                self.run(op, Command::Abandon { contact: cid }, now, fx)?;
                Ok(Reply::Contact {
                    contact: self.contact_out(ix),
                    created: false,
                })
            }
            Op::Login(login) => self.login(op, login, actor, now, fx),
            Op::Logout { agent } => {
                let aid = self.agent_id(agent, "agent")?;
                self.act_for(actor, agent)?;
                self.run(op, Command::Logout { agent: aid }, now, fx)?;
                Ok(Reply::Agent(self.agent_out(aid)))
            }
            Op::State { agent, state } => {
                let aid = self.agent_id(agent, "agent")?;
                self.act_for(actor, agent)?;
                let command = Command::SetAvailability {
                    agent: aid,
                    availability: *state,
                };
                self.run(op, command, now, fx)?;
                Ok(Reply::Agent(self.agent_out(aid)))
            }
        }
    }

    /// Answers a read at `now` (time passes first, so the answer is current).
    pub fn query(&mut self, query: &Query, actor: &Actor, now: Millis, fx: &mut Effects) -> Answer {
        self.tick(now, fx);
        match query {
            Query::Contact { id } => {
                let (cid, ix) = self.contact_id(id)?;
                if let Actor::Agent(_) = actor {
                    // An agent sees the contacts it holds, and no others.
                    self.holds(actor, cid).map_err(|_| {
                        ApiError::forbidden(format!("contact `{id}` is not held by this agent"))
                    })?;
                }
                Ok(Reply::Contact {
                    contact: self.contact_out(ix),
                    created: false,
                })
            }
            Query::Stats { digest } => Ok(Reply::Stats(Box::new(self.stats(*digest)))),
            Query::Health => Ok(Reply::Health(HealthOut {
                status: "ok",
                now_ms: self.router.now(),
                log_entries: self.log_entries,
                live_contacts: self.router.live_contacts(),
            })),
        }
    }

    fn create(&mut self, op: &Op, c: &NewContact, now: Millis, fx: &mut Effects) -> Answer {
        if !valid_id(&c.id) {
            return Err(ApiError::invalid(
                "id",
                "invalid-id",
                format!("expected a contact id of {ID_RULE}, found `{}`", c.id),
            ));
        }
        let contact_hash = self.contact_ix.hash(c.id.as_str());
        let known = self.contact_ix.find(contact_hash, c.id.as_str(), |i| {
            key_at(&self.contacts, i, |r| &r.key)
        });
        if let Some(ix) = known {
            return match self.differs(ix, c) {
                None => Ok(Reply::Contact {
                    contact: self.created_out(ix),
                    created: true,
                }),
                Some(field) => Err(ApiError::conflict(
                    "duplicate-id",
                    field,
                    format!(
                        "contact `{}` already exists with a different `{field}`; a retry must repeat the original request",
                        c.id
                    ),
                )),
            };
        }
        let Some(&queue) = self.queue_ix.get(c.queue.as_str()) else {
            return Err(unknown_queue(&c.queue));
        };
        let language = match &c.language {
            None => None,
            Some(l) => Some(*self.language_ix.get(l.as_str()).ok_or_else(|| {
                ApiError::invalid(
                    "language",
                    "unknown-language",
                    format!(
                        "unknown language `{l}`, expected one of {}",
                        list(&self.languages)
                    ),
                )
            })?),
        };
        if let Some(p) = c.priority {
            if p > 9 {
                return Err(ApiError::invalid(
                    "priority",
                    "out-of-range",
                    format!("expected a priority class from 0 (highest) to 9, found {p}"),
                ));
            }
        }
        let customer = match &c.customer_id {
            None => None,
            Some(k) if !valid_id(k) => {
                return Err(ApiError::invalid(
                    "customer_id",
                    "invalid-id",
                    format!("expected a customer id of {ID_RULE}, found `{k}`"),
                ))
            }
            Some(k) => {
                let hash = self.customer_ix.hash(k.as_str());
                let known = self
                    .customer_ix
                    .find(hash, k.as_str(), |i| key_at(&self.customers, i, |k| k));
                Some(match known {
                    Some(x) => (x, false, hash),
                    None => (self.customers.len() as u32, true, hash),
                })
            }
        };
        let ix = self.contacts.len() as u32;
        let cid = ContactId(ix as u64);
        let command = Command::Arrive {
            contact: cid,
            queue: c.queue.clone(),
            language: c.language.clone(),
            priority: c.priority,
            tier: c.tier,
            customer: customer.map(|(x, ..)| CustomerId(x as u64)),
        };
        // Interned before the events are absorbed, dropped again if the core says no.
        if let Some((x, true, hash)) = customer {
            if let Some(k) = &c.customer_id {
                self.customer_ix.insert(hash, x);
                self.customers.push(k.as_str().into());
            }
        }
        self.contacts.push(ContactRec {
            key: c.id.as_str().into(),
            asked_queue: queue,
            asked_language: language,
            asked_priority: c.priority,
            tier: c.tier,
            customer: customer.map(|(x, ..)| x),
            created_state: ContactState::Queued,
            created_agent: None,
            language: language.unwrap_or(0),
            priority: c.priority.unwrap_or(0),
            clock: WaitClock::new(QueueIx(queue), now),
            deadline: now,
            queue,
            agent: None,
            escalated: false,
            transfers: 0,
        });
        self.contact_ix.insert(contact_hash, ix);
        if let Err(e) = self.run(op, command, now, fx) {
            self.contact_ix
                .remove(c.id.as_str(), |i| key_at(&self.contacts, i, |r| &r.key));
            self.contacts.pop();
            if let Some((x, true, _)) = customer {
                if let Some(k) = &c.customer_id {
                    self.customer_ix
                        .remove(k.as_str(), |i| key_at(&self.customers, i, |k| k));
                }
                self.customers.truncate(x as usize);
            }
            return Err(e);
        }
        self.counters[queue as usize].offer();
        let view = self.router.contact(cid);
        let rec = &mut self.contacts[ix as usize];
        if let Some(v) = view {
            rec.created_state = v.state;
            rec.created_agent = v.agent.map(|a| a.0 as u32);
            rec.language = self
                .language_ix
                .get(v.language.as_str())
                .copied()
                .unwrap_or(0);
            rec.priority = v.priority;
            rec.clock.arrival = v.arrival;
            rec.deadline = v.sla_deadline;
        } else {
            // Finished within its own command (cannot happen today: nothing completes on
            // arrival); record what the core says.
            rec.created_state = self
                .router
                .contact_state(cid)
                .unwrap_or(ContactState::Queued);
        }
        Ok(Reply::Contact {
            contact: self.created_out(ix),
            created: true,
        })
    }

    /// The first field in which a repeated create differs from the original.
    fn differs(&self, ix: u32, c: &NewContact) -> Option<&'static str> {
        let rec = &self.contacts[ix as usize];
        if self.queue_ix.get(c.queue.as_str()) != Some(&rec.asked_queue) {
            return Some("queue");
        }
        let language = c
            .language
            .as_ref()
            .map(|l| self.language_ix.get(l.as_str()).copied());
        if language != rec.asked_language.map(Some) {
            return Some("language");
        }
        if c.priority != rec.asked_priority {
            return Some("priority");
        }
        if c.tier != rec.tier {
            return Some("tier");
        }
        let customer = c
            .customer_id
            .as_ref()
            .map(|k| self.find_customer(k.as_str()));
        if customer != rec.customer.map(Some) {
            return Some("customer_id");
        }
        None
    }

    fn login(
        &mut self,
        op: &Op,
        l: &Login,
        actor: &Actor,
        now: Millis,
        fx: &mut Effects,
    ) -> Answer {
        if !valid_id(&l.agent) {
            return Err(ApiError::invalid(
                "agent",
                "invalid-id",
                format!("expected an agent id of {ID_RULE}, found `{}`", l.agent),
            ));
        }
        self.act_for(actor, &l.agent)?;
        if l.skills.is_empty() {
            return Err(ApiError::invalid(
                "skills",
                "required",
                "expected at least one skill".into(),
            ));
        }
        for (i, s) in l.skills.iter().enumerate() {
            if !self.skills.contains_key(s.skill.as_str()) {
                let mut known: Vec<&str> = self.skills.keys().map(|k| &**k).collect();
                known.sort_unstable();
                return Err(ApiError::invalid(
                    format!("skills[{i}].skill"),
                    "unknown-skill",
                    format!(
                        "unknown skill `{}`, expected one of {}",
                        s.skill,
                        known.join(", ")
                    ),
                ));
            }
            if l.skills[..i].iter().any(|t| t.skill == s.skill) {
                return Err(ApiError::invalid(
                    format!("skills[{i}].skill"),
                    "duplicate",
                    format!("skill `{}` is listed twice", s.skill),
                ));
            }
        }
        if l.languages.is_empty() {
            return Err(ApiError::invalid(
                "languages",
                "required",
                "expected at least one language".into(),
            ));
        }
        for (i, lang) in l.languages.iter().enumerate() {
            if !self.language_ix.contains_key(lang.as_str()) {
                return Err(ApiError::invalid(
                    format!("languages[{i}]"),
                    "unknown-language",
                    format!(
                        "unknown language `{lang}`, expected one of {}",
                        list(&self.languages)
                    ),
                ));
            }
            if l.languages[..i].contains(lang) {
                return Err(ApiError::invalid(
                    format!("languages[{i}]"),
                    "duplicate",
                    format!("language `{lang}` is listed twice"),
                ));
            }
        }
        if let Some(cap) = &l.capacity {
            if let Some(u) = cap.units {
                if u == 0 || u > MAX_UNITS {
                    return Err(ApiError::invalid(
                        "capacity.units",
                        "out-of-range",
                        format!("expected 1 to {MAX_UNITS} units, found {u}"),
                    ));
                }
            }
            for (channel, m) in &cap.max {
                if *m > 255 {
                    return Err(ApiError::invalid(
                        format!("capacity.max.{channel}"),
                        "out-of-range",
                        format!("expected 0 to 255 contacts at once, found {m}"),
                    ));
                }
            }
        }
        let agent_hash = self.agent_ix.hash(l.agent.as_str());
        let known = self.agent_ix.find(agent_hash, l.agent.as_str(), |i| {
            key_at(&self.agents, i, |k| k)
        });
        let (aid, new) = match known {
            Some(a) => (AgentId(a as u64), false),
            None => (AgentId(self.agents.len() as u64), true),
        };
        if new {
            self.agent_ix.insert(agent_hash, aid.0 as u32);
            self.agents.push(l.agent.as_str().into());
        }
        let command = Command::Login {
            agent: aid,
            skills: l.skills.clone(),
            languages: l.languages.clone(),
            capacity: l.capacity.clone(),
        };
        if let Err(e) = self.run(op, command, now, fx) {
            if new {
                self.agent_ix
                    .remove(l.agent.as_str(), |i| key_at(&self.agents, i, |k| k));
                self.agents.pop();
            }
            return Err(e);
        }
        Ok(Reply::Agent(self.agent_out(aid)))
    }

    /// Hands a command to the core; logs it if accepted; absorbs the events either way (time
    /// passed even for a rejected command).
    fn run(
        &mut self,
        op: &Op,
        command: Command,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<(), ApiError> {
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        let result = self.router.apply_into(command, now, &mut events);
        if result.is_ok() {
            store::encode(&mut fx.log, self.log_entries, now, op);
            self.log_entries += 1;
        }
        self.absorb(&events, fx);
        self.scratch = events;
        result.map_err(|r| self.rejection(r))
    }

    /// Keeps records and counters in step with the core, and builds stream events.
    fn absorb(&mut self, events: &[Event], fx: &mut Effects) {
        for e in events {
            match &e.kind {
                EventKind::Offered { contact, agent, .. }
                | EventKind::WrapUp { contact, agent, .. }
                | EventKind::Completed { contact, agent } => {
                    if let Some(rec) = self.contacts.get_mut(contact.0 as usize) {
                        rec.agent = Some(agent.0 as u32);
                    }
                }
                EventKind::Accepted { contact, agent } => {
                    if let Some(rec) = self.contacts.get_mut(contact.0 as usize) {
                        rec.agent = Some(agent.0 as u32);
                        tally(&mut self.counters, &self.queues, rec, e);
                    }
                }
                EventKind::Abandoned { contact } => {
                    if let Some(rec) = self.contacts.get_mut(contact.0 as usize) {
                        tally(&mut self.counters, &self.queues, rec, e);
                    }
                }
                EventKind::Requeued { contact, .. } => {
                    if let Some(rec) = self.contacts.get_mut(contact.0 as usize) {
                        rec.agent = None;
                    }
                }
                EventKind::Transferred { contact, to, .. }
                | EventKind::Escalated { contact, to, .. } => {
                    if let Some(rec) = self.contacts.get_mut(contact.0 as usize) {
                        rec.queue = to.0;
                        rec.agent = None;
                        if matches!(e.kind, EventKind::Escalated { .. }) {
                            rec.escalated = true;
                        } else {
                            rec.transfers += 1;
                        }
                    }
                }
                EventKind::Queued { .. }
                | EventKind::StickyHeld { .. }
                | EventKind::AgentState { .. }
                | EventKind::Rejected { .. } => {}
            }
            if fx.publish {
                fx.events.push(self.out_event(e));
            }
        }
    }

    fn out_event(&self, e: &Event) -> OutEvent {
        let contact = |c: &ContactId| self.contacts.get(c.0 as usize).map(|r| r.key.clone());
        let agent = |a: &AgentId| self.agents.get(a.0 as usize).cloned();
        let queue = |q: &QueueIx| self.queues.get(q.0 as usize).map(|q| q.name.clone());
        let mut out = OutEvent {
            at: e.at,
            kind: EventType::of(&e.kind),
            contact: None,
            agent: None,
            queue: None,
            from: None,
            until_ms: None,
            reason: None,
            state: None,
        };
        match &e.kind {
            EventKind::Queued {
                contact: c,
                queue: q,
            } => {
                out.contact = contact(c);
                out.queue = queue(q);
            }
            EventKind::StickyHeld {
                contact: c,
                agent: a,
                until,
            } => {
                out.contact = contact(c);
                out.agent = agent(a);
                out.until_ms = Some(*until);
            }
            EventKind::Offered {
                contact: c,
                agent: a,
                expires,
            } => {
                out.contact = contact(c);
                out.agent = agent(a);
                out.until_ms = Some(*expires);
            }
            EventKind::Accepted {
                contact: c,
                agent: a,
            } => {
                out.contact = contact(c);
                out.agent = agent(a);
            }
            EventKind::WrapUp {
                contact: c,
                agent: a,
                until,
            } => {
                out.contact = contact(c);
                out.agent = agent(a);
                out.until_ms = Some(*until);
            }
            EventKind::Completed {
                contact: c,
                agent: a,
            } => {
                out.contact = contact(c);
                out.agent = agent(a);
            }
            EventKind::Abandoned { contact: c } => {
                out.contact = contact(c);
            }
            EventKind::Requeued {
                contact: c,
                agent: a,
                reason,
            } => {
                out.contact = contact(c);
                out.agent = agent(a);
                out.reason = Some(*reason);
            }
            EventKind::Transferred {
                contact: c,
                from,
                to,
            } => {
                out.contact = contact(c);
                out.from = queue(from);
                out.queue = queue(to);
            }
            EventKind::Escalated {
                contact: c,
                from,
                to,
            } => {
                out.contact = contact(c);
                out.from = queue(from);
                out.queue = queue(to);
            }
            EventKind::AgentState { agent: a, state } => {
                out.agent = agent(a);
                out.state = Some(*state);
            }
            EventKind::Rejected { .. } => {}
        }
        out
    }

    fn find_contact(&self, key: &str) -> Option<u32> {
        self.contact_ix
            .get(key, |i| key_at(&self.contacts, i, |r| &r.key))
    }

    fn find_agent(&self, key: &str) -> Option<u32> {
        self.agent_ix.get(key, |i| key_at(&self.agents, i, |k| k))
    }

    fn find_customer(&self, key: &str) -> Option<u32> {
        self.customer_ix
            .get(key, |i| key_at(&self.customers, i, |k| k))
    }

    fn contact_id(&self, key: &str) -> Result<(ContactId, u32), ApiError> {
        match self.find_contact(key) {
            Some(ix) => Ok((ContactId(ix as u64), ix)),
            None => Err(ApiError::not_found("id", format!("no contact `{key}`"))),
        }
    }

    fn agent_id(&self, key: &str, field: &str) -> Result<AgentId, ApiError> {
        match self.find_agent(key) {
            Some(a) => Ok(AgentId(a as u64)),
            None => Err(ApiError::conflict(
                "agent-not-logged-in",
                field,
                format!("agent `{key}` has never logged in"),
            )),
        }
    }

    /// An agent token acts only for its own agent.
    fn act_for(&self, actor: &Actor, agent: &str) -> Result<(), ApiError> {
        match actor {
            Actor::Agent(me) if &**me != agent => Err(ApiError::forbidden(format!(
                "this token acts for agent `{me}`, not `{agent}`"
            ))),
            _ => Ok(()),
        }
    }

    /// An agent token transfers or reads only the contacts it holds.
    fn holds(&self, actor: &Actor, contact: ContactId) -> Result<(), ApiError> {
        let Actor::Agent(me) = actor else {
            return Ok(());
        };
        let holder = self
            .router
            .contact(contact)
            .and_then(|v| v.agent)
            .and_then(|a| self.agents.get(a.0 as usize));
        match holder {
            Some(h) if h == me => Ok(()),
            _ => Err(ApiError::forbidden(format!(
                "contact is not held by agent `{me}`"
            ))),
        }
    }

    fn rejection(&self, r: Rejection) -> ApiError {
        let key = |c: ContactId| {
            self.contacts
                .get(c.0 as usize)
                .map_or_else(|| c.to_string(), |r| r.key.to_string())
        };
        let agent = |a: AgentId| {
            self.agents
                .get(a.0 as usize)
                .map_or_else(|| a.to_string(), |k| k.to_string())
        };
        match r {
            Rejection::TimeWentBackwards { now, last } => ApiError::new(
                500,
                "clock",
                format!("the daemon's clock went backwards ({now} ms after {last} ms)"),
            ),
            Rejection::DuplicateContact { contact } => ApiError::conflict(
                "duplicate-id",
                "id",
                format!("contact `{}` already exists", key(contact)),
            ),
            Rejection::UnknownContact { contact } => {
                ApiError::not_found("id", format!("no contact `{}`", key(contact)))
            }
            Rejection::UnknownQueue { queue } => unknown_queue(&queue),
            Rejection::UnknownLanguage { language } => ApiError::invalid(
                "language",
                "unknown-language",
                format!("unknown language `{language}`"),
            ),
            Rejection::UnknownSkill { skill } => ApiError::invalid(
                "skills",
                "unknown-skill",
                format!("unknown skill `{skill}`"),
            ),
            Rejection::PriorityOutOfRange { priority } => ApiError::invalid(
                "priority",
                "out-of-range",
                format!("expected a priority class from 0 to 9, found {priority}"),
            ),
            Rejection::ContactNotInState {
                contact,
                operation,
                state,
            } => {
                let verb = match operation {
                    Operation::Accept => "accept",
                    Operation::Complete => "complete",
                    Operation::Abandon => "abandon",
                    Operation::Transfer => "transfer",
                };
                ApiError::conflict(
                    "contact-state",
                    "id",
                    format!(
                        "cannot {verb} contact `{}`: it is {}",
                        key(contact),
                        state_word(state)
                    ),
                )
            }
            Rejection::WrongAgent { contact, agent: a } => ApiError::conflict(
                "wrong-agent",
                "agent",
                format!(
                    "contact `{}` is not held by agent `{}`",
                    key(contact),
                    agent(a)
                ),
            ),
            Rejection::SameQueue { contact } => ApiError::conflict(
                "same-queue",
                "queue",
                format!("contact `{}` is already in that queue", key(contact)),
            ),
            Rejection::UnknownAgent { agent: a } => ApiError::conflict(
                "agent-not-logged-in",
                "agent",
                format!("agent `{}` is not logged in", agent(a)),
            ),
            Rejection::AlreadyLoggedIn { agent: a } => ApiError::conflict(
                "already-logged-in",
                "agent",
                format!("agent `{}` is already logged in", agent(a)),
            ),
            Rejection::InvalidLogin { agent: a, reason } => ApiError::invalid(
                "capacity",
                "invalid-login",
                format!("agent `{}`: {reason}", agent(a)),
            ),
        }
    }

    fn created_out(&self, ix: u32) -> ContactOut {
        let r = &self.contacts[ix as usize];
        let q = &self.queues[r.asked_queue as usize];
        ContactOut {
            id: r.key.clone(),
            state: r.created_state,
            queue: q.name.clone(),
            channel: q.channel,
            skill: q.skill.clone(),
            language: self.languages[r.language as usize].clone(),
            priority: r.priority,
            tier: r.tier,
            customer_id: r.customer.map(|c| self.customers[c as usize].clone()),
            arrival_ms: r.clock.arrival,
            sla_deadline_ms: r.deadline,
            agent: r.created_agent.map(|a| self.agents[a as usize].clone()),
            escalated: false,
            transfers: 0,
        }
    }

    fn contact_out(&self, ix: u32) -> ContactOut {
        let r = &self.contacts[ix as usize];
        let cid = ContactId(ix as u64);
        if let Some(v) = self.router.contact(cid) {
            let q = &self.queues[self
                .queue_ix
                .get(v.queue.as_str())
                .copied()
                .unwrap_or(r.queue) as usize];
            return ContactOut {
                id: r.key.clone(),
                state: v.state,
                queue: q.name.clone(),
                channel: v.channel,
                skill: q.skill.clone(),
                language: self.language_ix.get(v.language.as_str()).map_or_else(
                    || v.language.as_str().into(),
                    |&l| self.languages[l as usize].clone(),
                ),
                priority: v.priority,
                tier: v.tier,
                customer_id: r.customer.map(|c| self.customers[c as usize].clone()),
                arrival_ms: v.arrival,
                sla_deadline_ms: v.sla_deadline,
                agent: v.agent.and_then(|a| self.agents.get(a.0 as usize).cloned()),
                escalated: v.escalated,
                transfers: v.transfers,
            };
        }
        let q = &self.queues[r.queue as usize];
        ContactOut {
            id: r.key.clone(),
            state: self
                .router
                .contact_state(cid)
                .unwrap_or(ContactState::Completed),
            queue: q.name.clone(),
            channel: q.channel,
            skill: q.skill.clone(),
            language: self.languages[r.language as usize].clone(),
            priority: r.priority,
            tier: r.tier,
            customer_id: r.customer.map(|c| self.customers[c as usize].clone()),
            arrival_ms: r.clock.arrival,
            sla_deadline_ms: r.deadline,
            agent: r.agent.and_then(|a| self.agents.get(a as usize).cloned()),
            escalated: r.escalated,
            transfers: r.transfers,
        }
    }

    fn agent_out(&self, aid: AgentId) -> AgentOut {
        let key = self.agents[aid.0 as usize].clone();
        match self.router.agent(aid) {
            Some(v) => AgentOut {
                id: key,
                state: v.state,
                skills: v.skills,
                languages: v.languages,
                units: v.units,
                used_units: v.used_units,
                contacts: v
                    .contacts
                    .iter()
                    .filter_map(|c| self.contacts.get(c.0 as usize).map(|r| r.key.clone()))
                    .collect(),
                idle_since_ms: v.idle_since,
            },
            None => AgentOut {
                id: key,
                state: AgentState::Offline,
                skills: Vec::new(),
                languages: Vec::new(),
                units: 0,
                used_units: 0,
                contacts: Vec::new(),
                idle_since_ms: 0,
            },
        }
    }

    fn stats(&self, digest: bool) -> StatsOut {
        let live = self.router.queue_stats();
        let queues = self
            .queues
            .iter()
            .zip(&self.counters)
            .zip(live)
            .map(|((q, c), l)| {
                let f = c.figures();
                QueueStatsOut {
                    queue: q.name.clone(),
                    channel: q.channel,
                    skill: q.skill.clone(),
                    language: q.language.clone(),
                    answer_target_ms: q.thresholds.answer_target_ms,
                    waiting: l.waiting,
                    longest_wait_ms: l.longest_wait,
                    offered: c.offered,
                    answered: c.answered,
                    answered_within_target: c.answered_within_target,
                    abandoned: c.abandoned,
                    short_abandoned: c.short_abandoned,
                    service_level: f.service_level,
                    service_level_excluding_short_abandons: f
                        .service_level_excluding_short_abandons,
                    asa_seconds: f.asa_seconds,
                    mean_wait_seconds: f.mean_wait_seconds,
                    abandonment_rate: f.abandonment_rate,
                }
            })
            .collect();
        let agents = self
            .router
            .agent_state_counts()
            .into_iter()
            .map(|(s, n)| (state_name(s), n))
            .collect();
        StatsOut {
            now_ms: self.router.now(),
            epoch_unix_ms: self.epoch_unix_ms,
            queues,
            agents,
            live_contacts: self.router.live_contacts(),
            contacts_created: self.contacts.len(),
            log_entries: self.log_entries,
            state_digest: digest.then(|| format!("{:016x}", self.router.state_digest())),
            engine_digest: digest.then(|| format!("{:016x}", self.engine_digest())),
        }
    }

    /// A hash of the daemon's own tables, to show a replay rebuilds them exactly.
    pub fn engine_digest(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.contacts.hash(&mut h);
        self.agents.hash(&mut h);
        self.customers.hash(&mut h);
        self.counters.hash(&mut h);
        self.log_entries.hash(&mut h);
        h.finish()
    }

    pub fn state_digest(&self) -> u64 {
        self.router.state_digest()
    }

    /// Appends the engine's state in a snapshot's encoding (bincode): the core and the daemon's
    /// tables. What the configuration determines (queue, language and skill tables) and what
    /// the tables determine (the id indexes) is rebuilt on load instead.
    pub fn save(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let saved = SavedRef {
            router: &self.router,
            contacts: &self.contacts,
            agents: &self.agents,
            customers: &self.customers,
            counters: &self.counters,
            log_entries: self.log_entries,
        };
        bincode::serialize_into(out, &saved).map_err(|e| e.to_string())
    }

    /// Rebuilds an engine from [`Dispatcher::save`]'s bytes, taken under the same policy and
    /// catalog (the snapshot's config fingerprint vouches for that).
    pub fn load(
        policy: &RoutingPolicy,
        catalog: &Catalog,
        epoch_unix_ms: u64,
        bytes: &[u8],
    ) -> Result<Dispatcher, String> {
        let saved: Saved = bincode::deserialize(bytes).map_err(|e| e.to_string())?;
        let mut engine =
            Dispatcher::new(policy, catalog, epoch_unix_ms).map_err(|e| e.to_string())?;
        if saved.counters.len() != engine.queues.len() {
            return Err(format!(
                "the snapshot has {} queues, the configuration {}",
                saved.counters.len(),
                engine.queues.len()
            ));
        }
        engine.contact_ix = index_of(saved.contacts.iter().map(|c| &*c.key));
        engine.agent_ix = index_of(saved.agents.iter().map(|k| &**k));
        engine.customer_ix = index_of(saved.customers.iter().map(|k| &**k));
        engine.router = saved.router;
        engine.contacts = saved.contacts;
        engine.agents = saved.agents;
        engine.customers = saved.customers;
        engine.counters = saved.counters;
        engine.log_entries = saved.log_entries;
        Ok(engine)
    }
}

fn index_of<'a>(keys: impl Iterator<Item = &'a str>) -> ShardedIndex {
    let mut index = ShardedIndex::default();
    for (i, k) in keys.enumerate() {
        index.insert(index.hash(k), i as u32);
    }
    index
}

/// The key of the entry at `i` of a table (empty if there is none, which matches no id).
fn key_at<'a, T: Clone>(
    table: &'a ChunkedVec<T>,
    i: u32,
    key: impl Fn(&'a T) -> &'a Arc<str>,
) -> &'a str {
    table.get(i as usize).map_or("", |t| &**key(t))
}

/// The saved part of an engine, borrowed for writing…
#[derive(Serialize)]
struct SavedRef<'a> {
    router: &'a Router,
    contacts: &'a ChunkedVec<ContactRec>,
    agents: &'a ChunkedVec<Arc<str>>,
    customers: &'a ChunkedVec<Arc<str>>,
    counters: &'a [Counts],
    log_entries: u64,
}

/// …and owned when read back.
#[derive(Deserialize)]
struct Saved {
    router: Router,
    contacts: ChunkedVec<ContactRec>,
    agents: ChunkedVec<Arc<str>>,
    customers: ChunkedVec<Arc<str>>,
    counters: Vec<Counts>,
    log_entries: u64,
}

fn unknown_queue(queue: &str) -> ApiError {
    ApiError::invalid("queue", "unknown-queue", format!("unknown queue `{queue}`"))
}

fn list(names: &[Arc<str>]) -> String {
    names.iter().map(|n| &**n).collect::<Vec<_>>().join(", ")
}

fn state_word(s: ContactState) -> &'static str {
    match s {
        ContactState::Queued => "queued",
        ContactState::Offered => "offered",
        ContactState::Accepted => "accepted",
        ContactState::WrapUp => "in wrap-up",
        ContactState::Completed => "completed",
        ContactState::Abandoned => "abandoned",
    }
}
