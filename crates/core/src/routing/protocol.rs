//! The core's boundary: ids, the commands a driver sends, the events the core answers with,
//! rejections, and read-only views of contacts, agents and queues.
//!
//! Everything here is serde: the daemon writes each accepted [`Command`] to its durable log and
//! streams [`Event`]s to dashboards. Ids are plain integers so the simulator pays nothing for
//! them; a driver with string ids (the daemon's client-supplied contact ids) keeps its own
//! string ↔ integer table, built deterministically (e.g. in log order) so replay rebuilds it.
//! Queues are named by their string id in commands (robust in a durable log even if the
//! configuration is reordered) and by their dense [`QueueIx`] in events (cheap; translate with
//! [`super::Router::queue_name`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Channel, Language, Skill, SkillLevel};

/// Time in milliseconds on the driver's clock. Only differences and order matter to the core.
pub type Millis = u64;

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

int_id!(
    /// A contact (call, chat, mail), unique for the router's lifetime.
    ContactId
);
int_id!(
    /// An agent; may log in and out many times.
    AgentId
);
int_id!(
    /// The customer behind a contact, for sticky routing across channels.
    CustomerId
);

/// A queue's position in [`super::Router::queues`]: the catalog's queues in order, then the
/// supervisor queues the router adds for escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct QueueIx(pub u16);

/// Customer tier; VIP contacts may use reserved capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    #[default]
    Standard,
    Vip,
}

/// The presence an agent may ask for; offline is [`Command::Logout`], not-responding is set by
/// the core after an ignored offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Availability {
    Available,
    Break,
}

/// An agent's own capacity, replacing the policy's defaults at login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCapacity {
    /// Total units; absent means the policy's `capacity.units`.
    #[serde(default)]
    pub units: Option<u32>,
    /// Most contacts of each channel at once; channels not listed are never offered.
    pub max: BTreeMap<Channel, u32>,
}

/// What a driver asks of the core. See the module doc of [`super`] for each command's effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    /// A new contact enters `queue`. Language defaults to the queue's, priority to the
    /// queue's class (0 highest … 9).
    Arrive {
        contact: ContactId,
        queue: String,
        #[serde(default)]
        language: Option<Language>,
        #[serde(default)]
        priority: Option<u8>,
        #[serde(default)]
        tier: Tier,
        #[serde(default)]
        customer: Option<CustomerId>,
    },
    /// The customer left (from queued or offered).
    Abandon { contact: ContactId },
    /// The agent takes the contact it was offered.
    Accept { contact: ContactId, agent: AgentId },
    /// The agent finished talking; wrap-up follows if the policy has any for the channel.
    Complete { contact: ContactId, agent: AgentId },
    /// Move a queued, offered or accepted contact to another queue, keeping its age.
    Transfer { contact: ContactId, queue: String },
    /// The agent logs in and becomes available.
    Login {
        agent: AgentId,
        skills: Vec<SkillLevel>,
        languages: Vec<Language>,
        #[serde(default)]
        capacity: Option<AgentCapacity>,
    },
    /// The agent leaves: its offered and accepted contacts go back to their queues at their
    /// original positions, contacts in wrap-up complete.
    Logout { agent: AgentId },
    /// Available (from break or not-responding) or break (no new offers; current contacts go on).
    SetAvailability {
        agent: AgentId,
        availability: Availability,
    },
    /// Only let time pass: process every transition due at or before `now`.
    Tick,
}

/// Where a contact is in its life. Transfer and escalation are transitions that land in
/// `Queued` in another queue, recorded on the contact and in events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContactState {
    Queued,
    Offered,
    Accepted,
    WrapUp,
    Completed,
    Abandoned,
}

/// An agent's state as reported: presence first, then work in hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentState {
    Offline,
    /// Logged in, nothing in hand.
    Available,
    /// Holding at least one offered or accepted contact (it may still have room for more).
    Busy,
    /// Only wrap-up work in hand.
    WrapUp,
    /// No new offers; contacts in hand (if any) go on.
    Break,
    /// Ignored an offer; no new offers until it asks to be available again.
    NotResponding,
}

/// Why a contact went back to its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequeueReason {
    OfferTimeout,
    AgentLoggedOut,
    /// The agent went on break or stopped responding while this offer was open.
    AgentUnavailable,
}

/// Something that happened, at `at` (the due time for time-driven transitions, which may be
/// earlier than the `now` of the command that let time pass).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: Millis,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EventKind {
    /// Waiting in the queue (no eligible agent had room).
    Queued {
        contact: ContactId,
        queue: QueueIx,
    },
    /// Waiting for the agent who last served the customer, until `until`.
    StickyHeld {
        contact: ContactId,
        agent: AgentId,
        until: Millis,
    },
    Offered {
        contact: ContactId,
        agent: AgentId,
        expires: Millis,
    },
    Accepted {
        contact: ContactId,
        agent: AgentId,
    },
    WrapUp {
        contact: ContactId,
        agent: AgentId,
        until: Millis,
    },
    Completed {
        contact: ContactId,
        agent: AgentId,
    },
    Abandoned {
        contact: ContactId,
    },
    /// Back to its queue at its original position; a `Queued` or `Offered` follows.
    Requeued {
        contact: ContactId,
        agent: AgentId,
        reason: RequeueReason,
    },
    Transferred {
        contact: ContactId,
        from: QueueIx,
        to: QueueIx,
    },
    Escalated {
        contact: ContactId,
        from: QueueIx,
        to: QueueIx,
    },
    AgentState {
        agent: AgentId,
        state: AgentState,
    },
    /// Only from [`super::Router::apply`]; `apply_into` returns the rejection instead.
    Rejected {
        reason: Rejection,
    },
}

/// The operation a rejection was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    Accept,
    Complete,
    Abandon,
    Transfer,
}

/// A command that makes no sense in the current state. The state is left unchanged (time
/// still advances to the command's `now`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Rejection {
    #[error("time went backwards: command at {now} ms after {last} ms")]
    TimeWentBackwards { now: Millis, last: Millis },
    #[error("contact {contact} already exists")]
    DuplicateContact { contact: ContactId },
    #[error("unknown contact {contact}")]
    UnknownContact { contact: ContactId },
    #[error("unknown queue `{queue}`")]
    UnknownQueue { queue: String },
    #[error("unknown language `{language}`")]
    UnknownLanguage { language: Language },
    #[error("unknown skill `{skill}`")]
    UnknownSkill { skill: Skill },
    #[error("priority {priority} is out of range, expected 0 to 9")]
    PriorityOutOfRange { priority: u8 },
    #[error("cannot {operation:?} contact {contact}: it is {state:?}")]
    ContactNotInState {
        contact: ContactId,
        operation: Operation,
        state: ContactState,
    },
    #[error("contact {contact} is not held by agent {agent}")]
    WrongAgent { contact: ContactId, agent: AgentId },
    #[error("contact {contact} is already in that queue")]
    SameQueue { contact: ContactId },
    #[error("agent {agent} is not logged in")]
    UnknownAgent { agent: AgentId },
    #[error("agent {agent} is already logged in")]
    AlreadyLoggedIn { agent: AgentId },
    #[error("agent {agent}: {reason}")]
    InvalidLogin { agent: AgentId, reason: String },
}

/// A contact as the core sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactView {
    pub id: ContactId,
    pub state: ContactState,
    pub queue: String,
    pub channel: Channel,
    pub skill: Skill,
    pub language: Language,
    pub priority: u8,
    pub tier: Tier,
    pub customer: Option<CustomerId>,
    pub arrival: Millis,
    /// Arrival + the answer target of the queue it is in now (a supervisor twin's own target
    /// once escalated).
    pub sla_deadline: Millis,
    /// The agent holding it (offered, accepted, wrap-up) or waited for (sticky).
    pub agent: Option<AgentId>,
    pub escalated: bool,
    pub transfers: u32,
}

/// An agent as the core sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentView {
    pub id: AgentId,
    pub state: AgentState,
    pub skills: Vec<SkillLevel>,
    pub languages: Vec<Language>,
    pub units: u32,
    pub used_units: u32,
    /// Offered, accepted and wrap-up contacts.
    pub contacts: Vec<ContactId>,
    /// When its load or state last changed (the "idle" clock of longest-idle selection).
    pub idle_since: Millis,
    /// Most recent customers served, newest first.
    pub last_customers: Vec<CustomerId>,
}

/// Real-time figures of one queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueStats {
    pub queue: String,
    pub channel: Channel,
    /// Contacts waiting (in the queue or for a sticky agent).
    pub waiting: u32,
    /// Age of the oldest waiting contact.
    pub longest_wait: Option<Millis>,
}
