//! The HTTP JSON API under `/v1`: routes, request parsing, permissions and responses.
//!
//! Handlers do the per-request work that can run in parallel — authentication, rate limiting,
//! reading a bounded body, parsing JSON with the path of any bad field, permission checks by
//! role — and then hand one [`Request`] to the engine through the bounded intake channel. A
//! full intake is answered with 429 at once rather than queued without bound. The engine's
//! answer comes back only after the batch it belongs to is durable.
//!
//! [`ROUTES`] is the one table of what the daemon serves — method, path and handler in one
//! row — so a route is added in one place: the router is built from it, `/metrics` counts
//! requests by its paths, and the tests hold `openapi.json` to it. Event types and operation
//! names come from [`crate::wire`]'s `EventType` and `OpKind` the same way.

use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Path, Query as UrlQuery, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use futures_util::stream::{self, Stream};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

use peakcrew_core::routing::Availability;

use super::auth::{Auth, Caller, Permission};
use super::engine::{Actor, Answer, Query, Reply};
use super::engine_thread::Request;
use super::error::ApiError;
use super::events::Fanout;
use super::metrics::Metrics;
use super::shutdown::Shutdown;
use super::wire::{EventType, Login, NewContact, Op, OutEvent};

/// The methods the API serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub const fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
        }
    }
}

/// One route the daemon serves. The handler is given the route's own method, so a row cannot
/// say one method and serve another.
pub struct Route {
    pub method: Method,
    /// In the OpenAPI document's syntax, which is also axum's.
    pub path: &'static str,
    handler: fn(MethodFilter) -> MethodRouter<Arc<Shared>>,
}

const fn route(
    method: Method,
    path: &'static str,
    handler: fn(MethodFilter) -> MethodRouter<Arc<Shared>>,
) -> Route {
    Route {
        method,
        path,
        handler,
    }
}

use Method::{Get, Post};

/// Every route the daemon serves: the router is built from this table, `/metrics` counts
/// requests by its paths, and the tests hold `openapi.json` to it.
pub static ROUTES: [Route; 17] = [
    route(Post, "/v1/contacts", |m| on(m, create_contact)),
    route(Post, "/v1/contact-batches", |m| on(m, create_contacts)),
    route(Post, "/v1/contact-actions", |m| on(m, contact_actions)),
    route(Get, "/v1/contacts/{id}", |m| on(m, get_contact)),
    route(Post, "/v1/contacts/{id}/accept", |m| on(m, accept)),
    route(Post, "/v1/contacts/{id}/complete", |m| on(m, complete)),
    route(Post, "/v1/contacts/{id}/transfer", |m| on(m, transfer)),
    route(Post, "/v1/contacts/{id}/abandon", |m| on(m, abandon)),
    route(Post, "/v1/agents/{id}/login", |m| on(m, login)),
    route(Post, "/v1/agents/{id}/logout", |m| on(m, logout)),
    route(Post, "/v1/agents/{id}/state", |m| on(m, set_state)),
    route(Get, "/v1/agents/{id}/assignments", |m| on(m, assignments)),
    route(Get, "/v1/stats", |m| on(m, stats)),
    route(Get, "/v1/events", |m| on(m, events)),
    route(Get, "/metrics", |m| on(m, metrics)),
    route(Get, "/healthz", |m| on(m, healthz)),
    route(Get, "/openapi.json", |m| on(m, openapi)),
];

/// What every handler shares.
pub struct Shared {
    pub intake: SyncSender<Request>,
    pub auth: Auth,
    pub fanout: Arc<Fanout>,
    pub metrics: Arc<Metrics>,
    pub max_body_bytes: usize,
    /// Most contacts in one batch; the intake holds at most `intake_capacity` requests,
    /// a batch counting one per contact.
    pub max_batch_items: usize,
    pub intake_capacity: usize,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

type St = State<Arc<Shared>>;

impl Shared {
    async fn call(&self, make: impl FnOnce(oneshot::Sender<Answer>) -> Request) -> Answer {
        let (tx, rx) = oneshot::channel();
        let request = make(tx);
        let units = request.units();
        let full = || {
            ApiError::new(
                429,
                "intake-full",
                "the router's intake queue is full; retry shortly",
            )
        };
        if !self.metrics.intake_reserve(units, self.intake_capacity) {
            self.metrics.intake_full.inc();
            return Err(full());
        }
        let entered = std::time::Instant::now();
        match self.intake.try_send(request) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.metrics.intake_depth_add(-(units as i64));
                self.metrics.intake_full.inc();
                return Err(full());
            }
            Err(TrySendError::Disconnected(_)) => {
                self.metrics.intake_depth_add(-(units as i64));
                return Err(ApiError::unavailable("the daemon is shutting down"));
            }
        }
        let answer = rx
            .await
            .unwrap_or_else(|_| Err(ApiError::unavailable("the daemon stopped before answering")));
        self.metrics
            .router_seconds
            .observe(entered.elapsed().as_secs_f64());
        answer
    }

    async fn op(&self, op: Op, actor: Actor) -> Answer {
        self.call(|reply| Request::Op { op, actor, reply }).await
    }

    async fn query(&self, query: Query, actor: Actor) -> Answer {
        self.call(|reply| Request::Query {
            query,
            actor,
            reply,
        })
        .await
    }
}

impl FromRequestParts<Arc<Shared>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Shared>) -> Result<Caller, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|h| h.as_bytes());
        let caller = s.auth.authenticate(header);
        if let Err(e) = &caller {
            if e.status == 429 {
                s.metrics.rate_limited.inc();
            }
        }
        caller
    }
}

/// Builds the router over `shared`.
pub fn router(shared: Arc<Shared>) -> axum::Router {
    let mut app = axum::Router::new();
    for r in &ROUTES {
        app = app.route(r.path, (r.handler)(r.method.filter()));
    }
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared.clone(), count))
        .with_state(shared)
}

/// Counts every answer by route and status.
async fn count(State(s): St, req: axum::extract::Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| ROUTES.iter().position(|r| r.path == m.as_str()));
    let response = next.run(req).await;
    if let Some(route) = route {
        s.metrics.count_request(route, response.status().as_u16());
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::new(404, "no-route", "no such route; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "method-not-allowed",
        "this route does not take that method",
    )
}

/// Reads a JSON body of at most the configured size; an empty body is `T::default()` when
/// `empty` is given.
async fn read_json<T: DeserializeOwned>(
    s: &Shared,
    body: Body,
    empty: Option<T>,
) -> Result<T, ApiError> {
    let bytes = read_body(s, body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        if let Some(v) = empty {
            return Ok(v);
        }
    }
    parse_json(&bytes)
}

/// Reads a body of at most the configured size.
async fn read_body(s: &Shared, body: Body) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            "body-too-large",
            format!(
                "the request body is over the limit of {} bytes",
                s.max_body_bytes
            ),
        )
    };
    let bytes = http_body_util::Limited::new(body, s.max_body_bytes)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large()
            } else {
                ApiError::new(
                    400,
                    "bad-body",
                    format!("the request body could not be read: {e}"),
                )
            }
        })?
        .to_bytes();
    Ok(bytes)
}

/// Parses JSON, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(json_error)
}

/// Types a parsed JSON value, naming the offending field on failure.
fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(json_error)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    {
        let inner = e.inner();
        let message = inner.to_string();
        if matches!(
            inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        ) {
            return ApiError::new(
                400,
                "malformed-json",
                format!("the body is not valid JSON: {message}"),
            );
        }
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        // Missing and unknown fields are reported by the parent; name the field itself.
        for prefix in ["missing field `", "unknown field `"] {
            if let Some(rest) = message.strip_prefix(prefix) {
                if let Some(name) = rest.split('`').next() {
                    let named = path.rsplit(['.', '[']).next() == Some(name);
                    path = if named {
                        path
                    } else if path.is_empty() {
                        name.to_string()
                    } else {
                        format!("{path}.{name}")
                    };
                }
            }
        }
        let field = if path.is_empty() { None } else { Some(path) };
        ApiError {
            status: 400,
            code: "invalid-field",
            field,
            message,
        }
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => ApiError::new(
            500,
            "internal",
            format!("the answer could not be encoded: {e}"),
        )
        .into_response(),
    }
}

fn answer(a: Answer) -> Response {
    match a {
        Ok(Reply::Contact { contact, created }) => {
            #[derive(Serialize)]
            struct Out<'a> {
                contact: &'a super::wire::ContactOut,
            }
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            json(status, &Out { contact: &contact })
        }
        Ok(Reply::Agent(agent)) => {
            #[derive(Serialize)]
            struct Out<'a> {
                agent: &'a super::wire::AgentOut,
            }
            json(StatusCode::OK, &Out { agent: &agent })
        }
        Ok(Reply::Stats(stats)) => json(StatusCode::OK, &stats),
        Ok(Reply::Health(h)) => json(StatusCode::OK, &h),
        Ok(Reply::Batch(answers)) => batch_answer(answers, StatusCode::CREATED),
        Err(e) => e.into_response(),
    }
}

async fn create_contact(State(s): St, caller: Caller, body: Body) -> Response {
    let run = async {
        caller.check(Permission::Contacts, None)?;
        let contact: NewContact = read_json(&s, body, None).await?;
        s.op(Op::Create(contact), caller.actor()).await
    };
    answer(run.await)
}

/// `POST /v1/contact-batches`: a JSON array of contact-create bodies, each with the meaning of
/// `POST /v1/contacts`. Items that do not parse are answered in place without reaching the
/// router; the rest go to it as one request, are applied in order and become durable in one
/// group commit before any answer is sent. The token bucket and the intake are charged one
/// per contact, as if each had been sent alone.
async fn create_contacts(State(s): St, caller: Caller, body: Body) -> Response {
    let run = async {
        caller.check(Permission::Contacts, None)?;
        let items = read_batch::<NewContact>(&s, body, "contacts").await?;
        run_batch(
            &s,
            &caller,
            items.into_iter().map(|i| i.map(Op::Create)).collect(),
        )
        .await
    };
    answer(run.await)
}

/// `POST /v1/contact-actions`: a JSON array of agent-side actions on contacts (accept,
/// complete, transfer, abandon), each with the meaning, permission check and errors of its
/// single route. Applied in order, durable in one group commit, charged one per action; all
/// succeeded answers 200, some failed 207. An agent token may batch only its own actions:
/// each item goes through [`action_op`], the one permission check the single routes use too,
/// and the engine's check that the agent holds the contact.
async fn contact_actions(State(s): St, caller: Caller, body: Body) -> Response {
    let run = async {
        caller.check(Permission::ContactAccess, None)?;
        let items = read_batch::<ActionItem>(&s, body, "actions").await?;
        let ops = items
            .into_iter()
            .map(|i| i.and_then(|item| action_op(&caller, item)))
            .collect();
        run_batch(&s, &caller, ops).await
    };
    match run.await {
        Ok(Reply::Batch(answers)) => batch_answer(answers, StatusCode::OK),
        other => answer(other),
    }
}

/// Sends the operations of a batch to the router as one request: the token bucket is charged
/// one per item (the request itself already paid one), items that failed before reaching the
/// router keep their error in place, and the rest are applied in order and made durable in one
/// group commit before any answer is sent.
async fn run_batch(s: &Shared, caller: &Caller, items: Vec<Result<Op, ApiError>>) -> Answer {
    s.auth.charge(caller, items.len() as f64 - 1.0)?;
    let mut ops = Vec::with_capacity(items.len());
    let slots: Vec<Option<ApiError>> = items
        .into_iter()
        .map(|item| match item {
            Ok(op) => {
                ops.push(op);
                None
            }
            Err(e) => Some(e),
        })
        .collect();
    let applied = if ops.is_empty() {
        Vec::new()
    } else {
        let request = |reply| Request::Batch {
            ops,
            actor: caller.actor(),
            reply,
        };
        match s.call(request).await? {
            Reply::Batch(answers) => answers,
            _ => {
                return Err(ApiError::new(
                    500,
                    "internal",
                    "the router answered a batch with something else",
                ))
            }
        }
    };
    let mut applied = applied.into_iter();
    let answers = slots
        .into_iter()
        .map(|slot| match slot {
            Some(e) => Err(e),
            None => applied.next().unwrap_or_else(|| {
                Err(ApiError::new(
                    500,
                    "internal",
                    "the router answered fewer items than it was sent",
                ))
            }),
        })
        .collect();
    Ok(Reply::Batch(answers))
}

/// Reads a batch body: a JSON array of 1 to `max_batch_items` items (`noun` names them in the
/// error). The whole body fails (400) only if it is not such an array; an item that does not
/// type gets its own error naming the field within the item.
async fn read_batch<T: DeserializeOwned>(
    s: &Shared,
    body: Body,
    noun: &str,
) -> Result<Vec<Result<T, ApiError>>, ApiError> {
    let bytes = read_body(s, body).await?;
    let size = |n: usize| {
        if n == 0 || n > s.max_batch_items {
            return Err(ApiError::new(
                400,
                "invalid-batch-size",
                format!(
                    "expected 1 to {} {noun} in the array, found {n}",
                    s.max_batch_items
                ),
            ));
        }
        Ok(())
    };
    // Most batches are all well-formed: type them in one pass, and go item by item (through a
    // generic JSON value) only to find which items are not.
    if let Ok(items) = serde_json::from_slice::<Vec<T>>(&bytes) {
        size(items.len())?;
        return Ok(items.into_iter().map(Ok).collect());
    }
    let values: Vec<serde_json::Value> = parse_json(&bytes)?;
    size(values.len())?;
    Ok(values.into_iter().map(from_value::<T>).collect())
}

/// `all_ok` (201 for creates, 200 for actions) when every item succeeded, 207 when some did
/// not; one result per item, in order.
fn batch_answer(answers: Vec<Answer>, all_ok_status: StatusCode) -> Response {
    #[derive(Serialize)]
    struct Item<'a> {
        status: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        contact: Option<&'a super::wire::ContactOut>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a ApiError>,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        results: Vec<Item<'a>>,
    }
    let mut all_ok = true;
    let results = answers
        .iter()
        .map(|a| match a {
            Ok(Reply::Contact { contact, created }) => Item {
                status: if *created { 201 } else { 200 },
                contact: Some(contact),
                error: None,
            },
            Ok(_) => {
                all_ok = false;
                Item {
                    status: 500,
                    contact: None,
                    error: None,
                }
            }
            Err(e) => {
                all_ok = false;
                Item {
                    status: e.status,
                    contact: None,
                    error: Some(e),
                }
            }
        })
        .collect();
    let status = if all_ok {
        all_ok_status
    } else {
        StatusCode::MULTI_STATUS
    };
    json(status, &Out { results })
}

async fn get_contact(State(s): St, caller: Caller, Path(id): Path<String>) -> Response {
    let run = async {
        caller.check(Permission::ContactAccess, None)?;
        s.query(Query::Contact { id }, caller.actor()).await
    };
    answer(run.await)
}

/// The body of accept and complete: which agent; an agent token may leave it out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentBody {
    #[serde(default)]
    agent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    queue: String,
}

/// One item of `POST /v1/contact-actions`: the contact, the action, and the body fields of
/// the action's single route.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
enum ActionItem {
    Accept {
        contact: String,
        #[serde(default)]
        agent: Option<String>,
    },
    Complete {
        contact: String,
        #[serde(default)]
        agent: Option<String>,
    },
    Transfer {
        contact: String,
        queue: String,
    },
    Abandon {
        contact: String,
    },
}

/// What an action becomes once its caller may do it: the one permission check of the action
/// routes, single or batched (the engine then checks that an agent holds the contact).
fn action_op(caller: &Caller, item: ActionItem) -> Result<Op, ApiError> {
    let acting_agent = |agent: Option<String>| -> Result<String, ApiError> {
        let agent = match (agent, &caller.agent) {
            (Some(a), _) => a,
            (None, Some(me)) => me.to_string(),
            (None, None) => {
                return Err(ApiError::new(
                    400,
                    "invalid-field",
                    "expected `agent`: the agent who acts",
                )
                .field("agent"))
            }
        };
        caller.check(Permission::AgentSelf, Some(&agent))?;
        Ok(agent)
    };
    match item {
        ActionItem::Accept { contact, agent } => Ok(Op::Accept {
            agent: acting_agent(agent)?,
            contact,
        }),
        ActionItem::Complete { contact, agent } => Ok(Op::Complete {
            agent: acting_agent(agent)?,
            contact,
        }),
        ActionItem::Transfer { contact, queue } => {
            caller.check(Permission::ContactAccess, None)?;
            Ok(Op::Transfer { contact, queue })
        }
        ActionItem::Abandon { contact } => {
            caller.check(Permission::Contacts, None)?;
            Ok(Op::Abandon { contact })
        }
    }
}

async fn agent_action(s: &Shared, caller: &Caller, id: String, body: Body, accept: bool) -> Answer {
    let AgentBody { agent } = read_json(s, body, Some(AgentBody::default())).await?;
    let item = if accept {
        ActionItem::Accept { contact: id, agent }
    } else {
        ActionItem::Complete { contact: id, agent }
    };
    s.op(action_op(caller, item)?, caller.actor()).await
}

async fn accept(State(s): St, caller: Caller, Path(id): Path<String>, body: Body) -> Response {
    answer(agent_action(&s, &caller, id, body, true).await)
}

async fn complete(State(s): St, caller: Caller, Path(id): Path<String>, body: Body) -> Response {
    answer(agent_action(&s, &caller, id, body, false).await)
}

async fn transfer(State(s): St, caller: Caller, Path(id): Path<String>, body: Body) -> Response {
    let run = async {
        caller.check(Permission::ContactAccess, None)?;
        let TransferBody { queue } = read_json(&s, body, None).await?;
        let item = ActionItem::Transfer { contact: id, queue };
        s.op(action_op(&caller, item)?, caller.actor()).await
    };
    answer(run.await)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn abandon(State(s): St, caller: Caller, Path(id): Path<String>, body: Body) -> Response {
    let run = async {
        caller.check(Permission::Contacts, None)?;
        let Empty {} = read_json(&s, body, Some(Empty {})).await?;
        let item = ActionItem::Abandon { contact: id };
        s.op(action_op(&caller, item)?, caller.actor()).await
    };
    answer(run.await)
}

async fn login(State(s): St, caller: Caller, Path(id): Path<String>, body: Body) -> Response {
    let run = async {
        caller.check(Permission::AgentSelf, Some(&id))?;
        let mut l: Login = read_json(&s, body, None).await?;
        if !l.agent.is_empty() && l.agent != id {
            return Err(ApiError::new(
                400,
                "invalid-field",
                format!(
                    "the body names agent `{}` but the path names `{id}`",
                    l.agent
                ),
            )
            .field("agent"));
        }
        l.agent = id;
        s.op(Op::Login(l), caller.actor()).await
    };
    answer(run.await)
}

async fn logout(State(s): St, caller: Caller, Path(id): Path<String>, body: Body) -> Response {
    let run = async {
        caller.check(Permission::AgentSelf, Some(&id))?;
        let Empty {} = read_json(&s, body, Some(Empty {})).await?;
        s.op(Op::Logout { agent: id }, caller.actor()).await
    };
    answer(run.await)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: Availability,
}

async fn set_state(State(s): St, caller: Caller, Path(id): Path<String>, body: Body) -> Response {
    let run = async {
        caller.check(Permission::AgentSelf, Some(&id))?;
        let b: StateBody = read_json(&s, body, None).await?;
        s.op(
            Op::State {
                agent: id,
                state: b.state,
            },
            caller.actor(),
        )
        .await
    };
    answer(run.await)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    #[serde(default)]
    digest: bool,
}

async fn stats(
    State(s): St,
    caller: Caller,
    params: Result<UrlQuery<StatsParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let run = async {
        caller.check(Permission::Any, None)?;
        let UrlQuery(p) = params.map_err(|e| ApiError::new(400, "invalid-query", e.body_text()))?;
        if p.digest {
            caller.check(Permission::Observe, None)?;
        }
        s.query(Query::Stats { digest: p.digest }, caller.actor())
            .await
    };
    answer(run.await)
}

async fn healthz(State(s): St) -> Response {
    answer(s.query(Query::Health, Actor::Admin).await)
}

async fn metrics(State(s): St, caller: Caller) -> Response {
    let run = async {
        caller.check(Permission::Observe, None)?;
        s.query(Query::Stats { digest: false }, caller.actor())
            .await
    };
    match run.await {
        Ok(Reply::Stats(stats)) => {
            let mut r = s.metrics.render(*stats).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(super::metrics::CONTENT_TYPE),
            );
            r
        }
        other => answer(other),
    }
}

const OPENAPI: &str = include_str!("../../../openapi.json");

async fn openapi() -> Response {
    let mut r = OPENAPI.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventParams {
    /// Comma-separated event types to keep (`offered,accepted`); absent keeps all.
    #[serde(default)]
    types: Option<String>,
}

fn sse_event(e: &OutEvent) -> SseEvent {
    SseEvent::default()
        .event(e.kind.name())
        .json_data(e)
        .unwrap_or_else(|_| SseEvent::default().event("error"))
}

/// Counts a stream while it is open.
struct Subscription(Arc<Metrics>);

impl Subscription {
    fn new(m: &Arc<Metrics>) -> Subscription {
        m.stream_subscribers.inc();
        Subscription(m.clone())
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.0.stream_subscribers.dec();
    }
}

async fn events(
    State(s): St,
    caller: Caller,
    params: Result<UrlQuery<EventParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let setup = || -> Result<Vec<EventType>, ApiError> {
        caller.check(Permission::Observe, None)?;
        let UrlQuery(p) = params.map_err(|e| ApiError::new(400, "invalid-query", e.body_text()))?;
        let mut keep = Vec::new();
        for t in p
            .types
            .iter()
            .flat_map(|t| t.split(','))
            .filter(|t| !t.is_empty())
        {
            match EventType::from_name(t) {
                Some(k) => keep.push(k),
                None => {
                    let names = EventType::ALL.map(EventType::name);
                    return Err(ApiError::invalid(
                        "types",
                        "unknown-event-type",
                        format!(
                            "unknown event type `{t}`, expected some of {}",
                            names.join(",")
                        ),
                    ));
                }
            }
        }
        Ok(keep)
    };
    let keep = match setup() {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let rx = s.fanout.subscribe_all();
    let state = (
        rx,
        Shutdown::new(s.shutdown.clone()),
        Subscription::new(&s.metrics),
        s.metrics.clone(),
    );
    let stream = stream::unfold(state, move |(mut rx, mut shutdown, sub, metrics)| {
        let keep = keep.clone();
        async move {
            loop {
                let next = tokio::select! {
                    r = rx.recv() => r,
                    _ = shutdown.recv() => return None,
                };
                match next {
                    Ok(e) if keep.is_empty() || keep.contains(&e.kind) => {
                        return Some((
                            Ok::<_, std::convert::Infallible>(sse_event(&e)),
                            (rx, shutdown, sub, metrics),
                        ))
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        metrics.stream_lagged.inc_by(n);
                        let e = SseEvent::default()
                            .event("lagged")
                            .data(format!("{{\"missed\":{n}}}"));
                        return Some((Ok(e), (rx, shutdown, sub, metrics)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    sse(stream)
}

fn sse<S>(stream: S) -> Response
where
    S: Stream<Item = Result<SseEvent, std::convert::Infallible>> + Send + 'static,
{
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Unsubscribes an agent stream when it ends.
struct AgentSubscription {
    fanout: Arc<Fanout>,
    agent: Arc<str>,
    id: u64,
    _count: Subscription,
}

impl Drop for AgentSubscription {
    fn drop(&mut self) {
        self.fanout.unsubscribe_agent(&self.agent, self.id);
    }
}

async fn assignments(State(s): St, caller: Caller, Path(id): Path<String>) -> Response {
    if let Err(e) = caller.check(Permission::AgentStream, Some(&id)) {
        return e.into_response();
    }
    if !super::config::valid_id(&id) {
        return ApiError::invalid(
            "id",
            "invalid-id",
            format!("expected an agent id of {}", super::config::ID_RULE),
        )
        .into_response();
    }
    let agent: Arc<str> = id.into();
    let (sub_id, rx) = s.fanout.subscribe_agent(agent.clone());
    let guard = AgentSubscription {
        fanout: s.fanout.clone(),
        agent,
        id: sub_id,
        _count: Subscription::new(&s.metrics),
    };
    let state = (rx, Shutdown::new(s.shutdown.clone()), guard);
    let stream = stream::unfold(state, |(mut rx, mut shutdown, guard)| async move {
        let next = tokio::select! {
            r = rx.recv() => r,
            _ = shutdown.recv() => None,
        };
        next.map(|e| (Ok(sse_event(&e)), (rx, shutdown, guard)))
    });
    sse(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_lists_exactly_the_served_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let mut documented = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let served: std::collections::BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.name().to_string(), r.path.to_string()))
            .collect();
        assert_eq!(served.len(), ROUTES.len(), "a route is listed twice");
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty(),
            "served but not in openapi.json: {undocumented:?}"
        );
        assert!(
            unserved.is_empty(),
            "in openapi.json but not served: {unserved:?}"
        );
        // Every schema reference resolves.
        let text = OPENAPI;
        for r in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
            let name = r.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "dangling $ref {name}"
            );
        }
    }

    #[tokio::test]
    async fn a_full_intake_answers_429_and_a_stopped_engine_503() {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let metrics = Arc::new(Metrics::new(Vec::new()));
        let shared = Shared {
            intake: tx,
            auth: Auth::new(Vec::new()),
            fanout: Arc::new(Fanout::new(16, metrics.clone())),
            metrics,
            max_body_bytes: 1024,
            max_batch_items: 1,
            intake_capacity: 1,
            shutdown: tokio::sync::watch::channel(false).1,
        };
        // Nobody drains the intake: one request fills it, the next is refused at once.
        shared.intake.try_send(Request::Stop).unwrap();
        let e = shared.query(Query::Health, Actor::Admin).await.unwrap_err();
        assert_eq!((e.status, e.code), (429, "intake-full"));
        assert_eq!(shared.metrics.intake_full.get(), 1);
        drop(rx);
        let e = shared.query(Query::Health, Actor::Admin).await.unwrap_err();
        assert_eq!(e.status, 503);
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<NewContact>(br#"{"id":"c1","queue":"q","priority":300}"#).unwrap_err();
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (400, "invalid-field", Some("priority"))
        );
        let e = parse_json::<NewContact>(br#"{"id":"c1"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("queue"));
        let e = parse_json::<NewContact>(br#"{"id":"c1","queue":"q","colour":1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("colour"));
        let e = parse_json::<NewContact>(br#"{"id":"c1","#).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("malformed-json", None));
        let e =
            parse_json::<Login>(br#"{"skills":[{"skill":"x","proficiency":9}],"languages":[]}"#)
                .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("skills[0].proficiency"));
        let e = parse_json::<NewContact>(br#"{"id":"c1","queue":"q","tier":"gold"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tier"));
    }
}
