//! The wire types: what the API reads and writes as JSON and what the command log stores.
//!
//! These are the daemon's contract with its clients and with its own log, so they live apart
//! from the code that computes them: a change here is a change of the HTTP API (`openapi.json`)
//! or of the durable-log format, and reads as one. Nothing here touches routing state; the
//! dispatcher ([`crate::engine`]) fills the `*Out` types from its tables and the core's events.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use peakcrew_core::model::{Channel, Language, SkillLevel};
use peakcrew_core::routing::{
    AgentCapacity, AgentState, Availability, ContactState, EventKind, Millis, RequeueReason, Tier,
};

/// Declares a fieldless enum of kinds and each kind's wire name in one table, with the list of
/// all kinds taken from the same table: a list kept by hand beside the enum (for metrics
/// labels, filters, error messages) could miss a kind or spell it differently.
macro_rules! named_kinds {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every kind, in the table's order (`kind as usize` is its index here).
            pub const ALL: [$name; [$($wire),*].len()] = [$($name::$variant),*];

            /// The kind's name on the wire.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            pub fn from_name(name: &str) -> Option<$name> {
                Self::ALL.into_iter().find(|k| k.name() == name)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
}

named_kinds! {
    /// What an [`Op`] does, without its data: the `op` label of `peakcrew_commands_total`.
    /// Each name is the operation's tag in the command log (a test holds them equal).
    pub enum OpKind {
        Create => "create",
        Accept => "accept",
        Complete => "complete",
        Transfer => "transfer",
        Abandon => "abandon",
        Login => "login",
        Logout => "logout",
        State => "state",
    }
}

named_kinds! {
    /// The `type` of an [`OutEvent`]: its SSE event name and what `GET /v1/events?types=`
    /// filters on.
    pub enum EventType {
        Queued => "queued",
        StickyHeld => "sticky-held",
        Offered => "offered",
        Accepted => "accepted",
        WrapUp => "wrap-up",
        Completed => "completed",
        Abandoned => "abandoned",
        Requeued => "requeued",
        Transferred => "transferred",
        Escalated => "escalated",
        AgentState => "agent-state",
        Rejected => "rejected",
    }
}

impl EventType {
    pub fn of(kind: &EventKind) -> EventType {
        match kind {
            EventKind::Queued { .. } => EventType::Queued,
            EventKind::StickyHeld { .. } => EventType::StickyHeld,
            EventKind::Offered { .. } => EventType::Offered,
            EventKind::Accepted { .. } => EventType::Accepted,
            EventKind::WrapUp { .. } => EventType::WrapUp,
            EventKind::Completed { .. } => EventType::Completed,
            EventKind::Abandoned { .. } => EventType::Abandoned,
            EventKind::Requeued { .. } => EventType::Requeued,
            EventKind::Transferred { .. } => EventType::Transferred,
            EventKind::Escalated { .. } => EventType::Escalated,
            EventKind::AgentState { .. } => EventType::AgentState,
            EventKind::Rejected { .. } => EventType::Rejected,
        }
    }
}

/// A state-changing request: what the log stores, with the time it was applied at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Op {
    Create(NewContact),
    Accept { contact: String, agent: String },
    Complete { contact: String, agent: String },
    Transfer { contact: String, queue: String },
    Abandon { contact: String },
    Login(Login),
    Logout { agent: String },
    State { agent: String, state: Availability },
}

impl Op {
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Create(_) => OpKind::Create,
            Op::Accept { .. } => OpKind::Accept,
            Op::Complete { .. } => OpKind::Complete,
            Op::Transfer { .. } => OpKind::Transfer,
            Op::Abandon { .. } => OpKind::Abandon,
            Op::Login(_) => OpKind::Login,
            Op::Logout { .. } => OpKind::Logout,
            Op::State { .. } => OpKind::State,
        }
    }
}

/// The body of `POST /v1/contacts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    pub id: String,
    pub queue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    #[serde(default)]
    pub tier: Tier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

/// An agent's login: the body of `POST /v1/agents/{id}/login` plus the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    #[serde(default)]
    pub agent: String,
    pub skills: Vec<SkillLevel>,
    pub languages: Vec<Language>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<AgentCapacity>,
}

/// A contact as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactOut {
    pub id: Arc<str>,
    pub state: ContactState,
    pub queue: Arc<str>,
    pub channel: Channel,
    pub skill: Arc<str>,
    pub language: Arc<str>,
    pub priority: u8,
    pub tier: Tier,
    pub customer_id: Option<Arc<str>>,
    pub arrival_ms: Millis,
    pub sla_deadline_ms: Millis,
    /// The agent offered, holding or (for finished contacts) last holding it.
    pub agent: Option<Arc<str>>,
    pub escalated: bool,
    pub transfers: u32,
}

/// An agent as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentOut {
    pub id: Arc<str>,
    pub state: AgentState,
    pub skills: Vec<SkillLevel>,
    pub languages: Vec<Language>,
    pub units: u32,
    pub used_units: u32,
    pub contacts: Vec<Arc<str>>,
    pub idle_since_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueStatsOut {
    pub queue: Arc<str>,
    pub channel: Channel,
    pub skill: Arc<str>,
    /// The queue's language (a supervisor twin's is that of the queue it serves).
    pub language: Option<Arc<str>>,
    pub answer_target_ms: Millis,
    /// Contacts waiting now (in the queue or for a sticky agent).
    pub waiting: u32,
    pub longest_wait_ms: Option<Millis>,
    /// The tally of contacts that arrived in this queue (`peakcrew_core::tally` defines every
    /// count and figure; a transfer or escalation moves a contact on without offering it again).
    pub offered: u64,
    pub answered: u64,
    pub answered_within_target: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    /// Answered within target ÷ offered; absent before any contact arrived.
    pub service_level: Option<f64>,
    /// Answered within target ÷ (offered − short abandons).
    pub service_level_excluding_short_abandons: Option<f64>,
    /// Mean wait of answered contacts, seconds.
    pub asa_seconds: Option<f64>,
    /// Mean wait of answered and abandoned contacts, seconds.
    pub mean_wait_seconds: Option<f64>,
    /// Abandoned ÷ offered.
    pub abandonment_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsOut {
    pub now_ms: Millis,
    pub epoch_unix_ms: u64,
    pub queues: Vec<QueueStatsOut>,
    /// Agents who have logged in at least once, by state.
    pub agents: std::collections::BTreeMap<&'static str, u32>,
    pub live_contacts: usize,
    pub contacts_created: usize,
    pub log_entries: u64,
    /// Hash of the core's logical state (only with `?digest=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_digest: Option<String>,
    /// Hash of the daemon's own tables: ids, records and counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthOut {
    pub status: &'static str,
    pub now_ms: Millis,
    pub log_entries: u64,
    pub live_contacts: usize,
}

/// An event as streams show it, with the API's ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutEvent {
    pub at: Millis,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<RequeueReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<AgentState>,
}

/// An agent state as the API names it (`/v1/stats` and the `state` label of `/metrics`).
pub fn state_name(s: AgentState) -> &'static str {
    match s {
        AgentState::Offline => "offline",
        AgentState::Available => "available",
        AgentState::Busy => "busy",
        AgentState::WrapUp => "wrap-up",
        AgentState::Break => "break",
        AgentState::NotResponding => "not-responding",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One operation of `kind`; the match is exhaustive, so a new kind needs a sample here.
    fn sample(kind: OpKind) -> Op {
        let (contact, agent) = ("c".to_string(), "a".to_string());
        match kind {
            OpKind::Create => Op::Create(NewContact {
                id: contact,
                queue: "q".into(),
                language: None,
                priority: None,
                tier: Tier::default(),
                customer_id: None,
            }),
            OpKind::Accept => Op::Accept { contact, agent },
            OpKind::Complete => Op::Complete { contact, agent },
            OpKind::Transfer => Op::Transfer {
                contact,
                queue: "q".into(),
            },
            OpKind::Abandon => Op::Abandon { contact },
            OpKind::Login => Op::Login(Login {
                agent,
                skills: Vec::new(),
                languages: Vec::new(),
                capacity: None,
            }),
            OpKind::Logout => Op::Logout { agent },
            OpKind::State => Op::State {
                agent,
                state: Availability::Available,
            },
        }
    }

    #[test]
    fn an_operations_metric_name_is_its_tag_in_the_log() {
        for (i, kind) in OpKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i);
            let op = sample(kind);
            assert_eq!(op.kind(), kind);
            let json = serde_json::to_value(&op).unwrap();
            let tag = json.as_object().and_then(|o| o.keys().next().cloned());
            assert_eq!(tag.as_deref(), Some(kind.name()), "{json}");
            assert_eq!(OpKind::from_name(kind.name()), Some(kind));
        }
    }

    #[test]
    fn event_types_have_distinct_names_and_serialize_as_them() {
        for (i, t) in EventType::ALL.into_iter().enumerate() {
            assert_eq!(t as usize, i);
            assert_eq!(EventType::from_name(t.name()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.name());
        }
        assert_eq!(EventType::from_name("nonesuch"), None);
    }
}
