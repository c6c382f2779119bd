//! The daemon's configuration: the `[server]` table (listen address, store, durability, limits,
//! tokens) and where the routing policy and the catalog of queues come from.
//!
//! One file configures the daemon: `config/router.toml`. This module is its one reader: the
//! daemon ([`Settings::load`]), `simulate`, `plan` and the benches ([`load_policy`]) all take the
//! routing policy from it the same way, so a simulation runs the policy the daemon runs. The
//! policy is the file's own `[policy]` table or, with `server.policy_file`, another router
//! file's; exactly one of the two. Unknown keys are errors in either section. The file is read
//! with [`peakcrew_plan::scenario::load_toml`], so every problem comes back as
//! `file:line:col: field.path: message`, the same as scenarios.
//!
//! Relative paths in the file are relative to the file's own directory, so the daemon runs the
//! same from any working directory.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use peakcrew_core::routing::{Catalog, RoutingPolicy};
use peakcrew_plan::scenario::{load_toml, Scenario, ScenarioError, ScenarioErrors};

/// A router file as the simulator and planner read it: the `[server]` table is optional (and
/// strict when present), the policy inline or named by `server.policy_file`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterFile {
    #[serde(default)]
    pub server: Option<ServerConfig>,
    #[serde(default)]
    pub policy: Option<RoutingPolicy>,
}

/// The routing policy of the router file at `path`, exactly as the daemon would run it: the
/// file's `[policy]`, or the one in `server.policy_file`; every problem located, cross-checked
/// against the queues, skills and languages it will route over.
pub fn load_policy(path: &Path, catalog: &Catalog) -> Result<RoutingPolicy, ScenarioErrors> {
    let file = load_toml::<RouterFile>(path, |f| {
        let mut problems = policy_source_problems(
            f.policy.is_some(),
            f.server.as_ref().is_some_and(|s| s.policy_file.is_some()),
        );
        if let Some(policy) = &f.policy {
            problems.extend(policy_problems(policy, Some(catalog)));
        }
        problems
    })?;
    let policy_file = file.server.and_then(|s| s.policy_file);
    resolve_policy(path, file.policy, policy_file.as_deref(), catalog)
}

/// Exactly one source of policy: inline, or `server.policy_file`.
fn policy_source_problems(inline: bool, from_file: bool) -> Vec<(String, String)> {
    match (inline, from_file) {
        (true, true) => vec![(
            "server.policy_file".into(),
            "give the policy either inline ([policy]) or as policy_file, not both".into(),
        )],
        (false, false) => vec![(
            "server".into(),
            "no routing policy: add a [policy] table or server.policy_file".into(),
        )],
        _ => Vec::new(),
    }
}

/// A policy's own problems and, given the catalog, its cross-references, with paths from the
/// top of the file (`policy.…`).
fn policy_problems(policy: &RoutingPolicy, catalog: Option<&Catalog>) -> Vec<(String, String)> {
    let mut problems = policy.validate();
    if let Some(c) = catalog {
        problems.extend(policy.validate_against(c));
    }
    prefixed(problems)
}

/// The policy once its source is known to be valid: the inline one, or the `[policy]` of the
/// router file `policy_file` names (relative to `path`'s directory).
fn resolve_policy(
    path: &Path,
    inline: Option<RoutingPolicy>,
    policy_file: Option<&Path>,
    catalog: &Catalog,
) -> Result<RoutingPolicy, ScenarioErrors> {
    match (inline, policy_file) {
        (Some(policy), _) => Ok(policy),
        (None, Some(file)) => {
            let file = path.parent().unwrap_or(Path::new("")).join(file);
            let named = load_toml::<RouterFile>(&file, |r| match &r.policy {
                Some(policy) => policy_problems(policy, Some(catalog)),
                None => vec![(
                    "policy".into(),
                    "a policy_file must hold a [policy] table".into(),
                )],
            })?;
            named
                .policy
                .ok_or_else(|| unreachable_error(&file, "policy"))
        }
        (None, None) => Err(unreachable_error(path, "server.policy_file")),
    }
}

/// The whole daemon file: a router file whose `[server]` table is required.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub server: ServerConfig,
    /// The routing policy, inline; exclusive with `server.policy_file`.
    #[serde(default)]
    pub policy: Option<RoutingPolicy>,
}

/// The `[server]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `HOST:PORT` to listen on; port 0 picks a free port (printed at start).
    pub listen: String,
    /// The scenario whose queues, skills and languages the router serves.
    pub scenario: PathBuf,
    /// A router file holding the `[policy]` table, when it is not inline.
    #[serde(default)]
    pub policy_file: Option<PathBuf>,
    /// Directory of the durable command log (created if absent).
    pub store: PathBuf,
    #[serde(default)]
    pub durability: Durability,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

/// How the command log reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Durability {
    /// `fdatasync` each group commit before acknowledging it. Only turn off for experiments:
    /// without it a machine crash (not a process crash) loses acknowledged commands.
    pub fsync: bool,
    /// Most commands the router applies between two group commits.
    pub max_batch: u32,
    /// Write a snapshot of the router's state every this many log records (0: never), so
    /// recovery replays only the records after the newest snapshot. One is also written on
    /// graceful shutdown.
    pub snapshot_every: u64,
    /// And only once the log written since the last snapshot is at least this multiple of
    /// that snapshot's size (0: no such condition). Snapshots grow with the state, so
    /// without it their cost per record grows without bound; with it snapshots cost at
    /// most this share of the log's bytes, and recovery replays at most that much log.
    pub snapshot_growth: f64,
    /// Which log records are kept on disk.
    pub keep_log: KeepLog,
}

impl Default for Durability {
    fn default() -> Self {
        Durability {
            fsync: true,
            max_batch: 4096,
            snapshot_every: 200_000,
            snapshot_growth: 1.0,
            keep_log: KeepLog::All,
        }
    }
}

/// Which records of the command log stay on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeepLog {
    /// Every record, for ever: an audit trail, and `serve --replay-only` replays from record 0.
    #[default]
    All,
    /// Only what recovery can use: after each snapshot, log segments whose records are all
    /// covered by the oldest snapshot kept are removed. Needs snapshots.
    SinceSnapshots,
}

/// Bounds that keep memory and work finite under any load.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: u64,
    /// Requests waiting for the router; when full, new ones get 429 at once.
    pub intake_capacity: u32,
    /// Open connections; further connections wait in the kernel's accept queue.
    pub max_connections: u32,
    /// Sustained requests per second per token (a token bucket); over it, 429.
    pub rate_per_second: f64,
    /// Requests a token may send in a burst above the sustained rate.
    pub burst: f64,
    /// Events buffered per stream subscriber; a subscriber that falls further behind is told
    /// how many it missed (all events) or is disconnected (an agent's assignments).
    pub stream_buffer: u32,
    /// Most contacts in one `POST /v1/contact-batches` request (at most `intake_capacity`).
    pub max_batch_items: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024,
            intake_capacity: 65_536,
            max_connections: 10_000,
            rate_per_second: 1_000.0,
            burst: 2_000.0,
            stream_buffer: 65_536,
            max_batch_items: 500,
        }
    }
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, for any agent.
    Admin,
    /// The contact platform: creates, reads, transfers and abandons contacts, reads statistics
    /// and streams.
    Integration,
    /// One agent (named by `agent`): logs itself in and out, changes its state, accepts,
    /// completes and transfers the contacts it holds, and streams its own assignments.
    Agent,
}

/// One `[[server.tokens]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds the token, for logs and metrics.
    pub name: String,
    pub role: Role,
    /// The secret itself (at least 16 characters)…
    #[serde(default)]
    pub token: Option<String>,
    /// …or the environment variable holding it.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The agent id an agent token acts for; only for role `agent`.
    #[serde(default)]
    pub agent: Option<String>,
    /// Overrides `limits.rate_per_second` for this token.
    #[serde(default)]
    pub rate_per_second: Option<f64>,
    /// Overrides `limits.burst` for this token.
    #[serde(default)]
    pub burst: Option<f64>,
}

/// A token ready for use: the secret resolved, the limits settled.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub name: String,
    pub secret: String,
    pub role: Role,
    pub agent: Option<String>,
    pub rate_per_second: f64,
    pub burst: f64,
}

/// Everything the daemon needs, checked and resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub store: PathBuf,
    pub durability: Durability,
    pub limits: Limits,
    pub credentials: Vec<Credential>,
    pub policy: RoutingPolicy,
    pub catalog: Catalog,
}

/// Shortest secret accepted: guessing a 16-character random token is out of reach.
pub const MIN_SECRET_LEN: usize = 16;

/// Whether a string may be a client-supplied id (contact, agent or customer): it appears in
/// URL paths, so it is kept to characters that need no escaping.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'~'))
}

/// What a valid id looks like, for error messages.
pub const ID_RULE: &str = "1 to 128 characters from A-Z a-z 0-9 - _ . : ~";

impl Settings {
    /// Reads and checks the daemon file, the scenario and the policy, reporting every problem
    /// with its file, line and field.
    pub fn load(path: &Path) -> Result<Settings, ScenarioErrors> {
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        // Problems found in other files while checking this one (the scenario's own errors).
        let foreign: RefCell<Vec<ScenarioError>> = RefCell::new(Vec::new());
        let catalog: RefCell<Option<Catalog>> = RefCell::new(None);
        let cfg = load_toml::<ServeConfig>(path, |cfg| {
            let mut problems = check_server(&cfg.server);
            problems.extend(policy_source_problems(
                cfg.policy.is_some(),
                cfg.server.policy_file.is_some(),
            ));
            match Scenario::load(&base.join(&cfg.server.scenario)) {
                Ok(s) => *catalog.borrow_mut() = Some(s.catalog()),
                Err(e) => foreign.borrow_mut().extend(e.errors),
            }
            if let Some(policy) = &cfg.policy {
                problems.extend(policy_problems(policy, catalog.borrow().as_ref()));
            }
            problems
        });
        let mut errors = foreign.into_inner();
        let cfg = match cfg {
            Ok(cfg) if errors.is_empty() => cfg,
            Ok(_) => return Err(ScenarioErrors { errors }),
            Err(e) => {
                errors.splice(0..0, e.errors);
                return Err(ScenarioErrors { errors });
            }
        };
        let Some(catalog) = catalog.into_inner() else {
            return Err(ScenarioErrors { errors });
        };
        let policy = resolve_policy(
            path,
            cfg.policy,
            cfg.server.policy_file.as_deref(),
            &catalog,
        )?;
        let s = cfg.server;
        let listen = s
            .listen
            .parse()
            .map_err(|_| unreachable_error(path, "server.listen"))?;
        let credentials = s
            .tokens
            .iter()
            .map(|t| Credential {
                name: t.name.clone(),
                secret: resolve_secret(t).unwrap_or_default(),
                role: t.role,
                agent: t.agent.clone(),
                rate_per_second: t.rate_per_second.unwrap_or(s.limits.rate_per_second),
                burst: t.burst.unwrap_or(s.limits.burst),
            })
            .collect();
        Ok(Settings {
            listen,
            store: base.join(&s.store),
            durability: s.durability,
            limits: s.limits,
            credentials,
            policy,
            catalog,
        })
    }
}

/// A check that already passed cannot fail; should it, say where rather than panic.
fn unreachable_error(path: &Path, field: &str) -> ScenarioErrors {
    ScenarioErrors {
        errors: vec![ScenarioError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            field: field.to_string(),
            message: format!("{field} changed while it was being read"),
        }],
    }
}

fn prefixed(problems: Vec<(String, String)>) -> Vec<(String, String)> {
    problems
        .into_iter()
        .map(|(p, m)| (format!("policy.{p}"), m))
        .collect()
}

fn resolve_secret(t: &TokenConfig) -> Option<String> {
    match (&t.token, &t.token_env) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(var)) => std::env::var(var).ok(),
        (None, None) => None,
    }
}

/// Every problem of the `[server]` table, with paths from the top of the file.
fn check_server(s: &ServerConfig) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |path: String, message: String| out.push((path, message));
    if s.listen.parse::<SocketAddr>().is_err() {
        push(
            "server.listen".into(),
            format!(
                "expected an IP address and port such as 127.0.0.1:7878, found `{}`",
                s.listen
            ),
        );
    }
    if s.store.as_os_str().is_empty() {
        push("server.store".into(), "expected a directory path".into());
    }
    if s.durability.max_batch == 0 || s.durability.max_batch > 1_000_000 {
        push(
            "server.durability.max_batch".into(),
            format!(
                "expected 1 to 1000000 commands, found {}",
                s.durability.max_batch
            ),
        );
    }
    let every = s.durability.snapshot_every;
    if every != 0 && !(100..=1_000_000_000).contains(&every) {
        push(
            "server.durability.snapshot_every".into(),
            format!("expected 0 (no snapshots) or 100 to 1000000000 records, found {every}"),
        );
    }
    let growth = s.durability.snapshot_growth;
    if !(growth.is_finite() && (0.0..=100.0).contains(&growth)) {
        push(
            "server.durability.snapshot_growth".into(),
            format!("expected 0 to 100 (a multiple of the last snapshot's size), found {growth}"),
        );
    }
    if s.durability.keep_log == KeepLog::SinceSnapshots && every == 0 {
        push(
            "server.durability.keep_log".into(),
            "\"since-snapshots\" removes log records once snapshots cover them, so it needs \
             snapshots: set snapshot_every above 0 or keep_log = \"all\""
                .into(),
        );
    }
    let l = &s.limits;
    let ranges: [(&str, u64, u64, u64); 5] = [
        ("max_body_bytes", l.max_body_bytes, 256, 64 << 20),
        ("intake_capacity", l.intake_capacity.into(), 1, 10_000_000),
        ("max_connections", l.max_connections.into(), 1, 1_000_000),
        ("stream_buffer", l.stream_buffer.into(), 16, 10_000_000),
        ("max_batch_items", l.max_batch_items.into(), 1, 100_000),
    ];
    for (name, v, lo, hi) in ranges {
        if v < lo || v > hi {
            push(
                format!("server.limits.{name}"),
                format!("expected {lo} to {hi}, found {v}"),
            );
        }
    }
    if l.max_batch_items > l.intake_capacity {
        // A batch is charged per contact against the intake; a larger one could never enter.
        push(
            "server.limits.max_batch_items".into(),
            format!(
                "expected at most intake_capacity ({}), found {}",
                l.intake_capacity, l.max_batch_items
            ),
        );
    }
    check_rate(&mut push, "server.limits", l.rate_per_second, l.burst);
    if s.tokens.is_empty() {
        push(
            "server.tokens".into(),
            "expected at least one [[server.tokens]] entry: without one nobody can call the API"
                .into(),
        );
    }
    let mut names = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    for (i, t) in s.tokens.iter().enumerate() {
        let at = format!("server.tokens[{i}]");
        if t.name.trim().is_empty() {
            push(format!("{at}.name"), "expected a non-empty name".into());
        } else if !names.insert(t.name.as_str()) {
            push(
                format!("{at}.name"),
                format!("token name `{}` is used twice", t.name),
            );
        }
        match (&t.token, &t.token_env) {
            (Some(_), Some(_)) => push(
                format!("{at}.token_env"),
                "give either token or token_env, not both".into(),
            ),
            (None, None) => push(at.clone(), "expected token or token_env".into()),
            (None, Some(var)) if std::env::var(var).is_err() => push(
                format!("{at}.token_env"),
                format!("environment variable `{var}` is not set"),
            ),
            _ => {}
        }
        if let Some(secret) = resolve_secret(t) {
            let field = if t.token.is_some() {
                "token"
            } else {
                "token_env"
            };
            if secret.chars().count() < MIN_SECRET_LEN || secret.chars().any(char::is_whitespace) {
                push(
                    format!("{at}.{field}"),
                    format!(
                        "expected a secret of at least {MIN_SECRET_LEN} characters without spaces"
                    ),
                );
            } else if !secrets.insert(secret) {
                push(
                    format!("{at}.{field}"),
                    "this secret is already used by another token".into(),
                );
            }
        }
        match (t.role, &t.agent) {
            (Role::Agent, None) => push(
                at.clone(),
                "an agent token needs `agent`, the agent id it acts for".into(),
            ),
            (Role::Agent, Some(a)) if !valid_id(a) => push(
                format!("{at}.agent"),
                format!("expected an agent id of {ID_RULE}, found `{a}`"),
            ),
            (Role::Admin | Role::Integration, Some(_)) => push(
                format!("{at}.agent"),
                "only tokens of role `agent` are bound to an agent".into(),
            ),
            _ => {}
        }
        let rate = t.rate_per_second.unwrap_or(l.rate_per_second);
        let burst = t.burst.unwrap_or(l.burst);
        if t.rate_per_second.is_some() || t.burst.is_some() {
            check_rate(&mut push, &at, rate, burst);
        }
    }
    out
}

fn check_rate(push: &mut impl FnMut(String, String), at: &str, rate: f64, burst: f64) {
    if !(rate.is_finite() && rate > 0.0 && rate <= 1e9) {
        push(
            format!("{at}.rate_per_second"),
            format!("expected more than 0 and at most 1e9 requests per second, found {rate}"),
        );
    }
    if !(1.0..=1e9).contains(&burst) {
        push(
            format!("{at}.burst"),
            format!("expected 1 to 1e9 requests, found {burst}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_router_file_types_its_server_section() {
        let ok = "[server]\nlisten = \"127.0.0.1:0\"\nscenario = \"s.toml\"\nstore = \"st\"\n";
        assert!(toml::from_str::<RouterFile>(ok).unwrap().server.is_some());
        let bad = format!("{ok}[server.limits]\nburts = 3\n");
        let err = toml::from_str::<RouterFile>(&bad).unwrap_err().to_string();
        assert!(err.contains("burts"), "{err}");
    }

    fn root() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
    }

    #[test]
    fn bundled_router_config_is_valid_for_the_daemon() {
        let s = Settings::load(&root().join("config/router.toml")).unwrap();
        assert!(s.credentials.iter().any(|c| c.role == Role::Admin));
        assert_eq!(s.catalog.queues.len(), 10);
        assert!(s.store.ends_with("var/store"));
    }

    #[test]
    fn every_problem_is_placed() {
        let dir = tempfile::tempdir().unwrap();
        let scenario = root().join("scenarios/double11.toml");
        let p = dir.path().join("serve.toml");
        std::fs::write(
            &p,
            format!(
                r#"[server]
listen = "localhost"
scenario = "{}"
store = "store"
[server.limits]
burst = 0
[[server.tokens]]
name = "ops"
role = "agent"
token = "short"
[[server.tokens]]
name = "ops"
role = "admin"
token = "0123456789abcdef"
agent = "a1"
[policy]
min_proficiency = 9
[policy.queues.nowhere]
min_proficiency = 2
"#,
                scenario.display()
            ),
        )
        .unwrap();
        let err = Settings::load(&p).unwrap_err();
        let got: Vec<(usize, &str)> = err
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "server.listen"),
                (6, "server.limits.burst"),
                (7, "server.tokens[0]"),
                (10, "server.tokens[0].token"),
                (12, "server.tokens[1].name"),
                (15, "server.tokens[1].agent"),
                (17, "policy.min_proficiency"),
                (18, "policy.queues.nowhere"),
            ],
            "{err}"
        );
    }

    #[test]
    fn keep_log_is_checked_where_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("serve.toml");
        let write = |durability: &str| {
            let text = format!(
                "[server]\nlisten = \"127.0.0.1:0\"\nscenario = \"{}\"\nstore = \"st\"\n\
                 policy_file = \"{}\"\n[server.durability]\n{durability}\n\
                 [[server.tokens]]\nname = \"ops\"\nrole = \"admin\"\ntoken = \"0123456789abcdef\"\n",
                root().join("scenarios/double11.toml").display(),
                root().join("config/router.toml").display(),
            );
            std::fs::write(&p, text).unwrap();
            Settings::load(&p)
        };
        let s = write("keep_log = \"since-snapshots\"").unwrap();
        assert_eq!(s.durability.keep_log, KeepLog::SinceSnapshots);
        assert_eq!(write("").unwrap().durability.keep_log, KeepLog::All);
        let err = write("keep_log = \"sometimes\"").unwrap_err().to_string();
        assert!(
            err.contains(
                "serve.toml:7:12: server.durability.keep_log: unknown variant `sometimes`"
            ),
            "{err}"
        );
        let err = write("snapshot_every = 0\nkeep_log = \"since-snapshots\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("serve.toml:8:1: server.durability.keep_log: \"since-snapshots\" removes"),
            "{err}"
        );
        assert_eq!(write("").unwrap().durability.snapshot_growth, 1.0);
        let err = write("snapshot_growth = -1.0").unwrap_err().to_string();
        assert!(
            err.contains("server.durability.snapshot_growth: expected 0 to 100"),
            "{err}"
        );
    }

    #[test]
    fn ids_are_url_safe() {
        assert!(valid_id("order-778:chat.1"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(&"x".repeat(129)));
    }

    #[test]
    fn cross_references_name_unknown_queues_skills_and_languages() {
        let scenario = Scenario::load(
            &std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
                .join("scenarios/double11.toml"),
        )
        .unwrap();
        let catalog = scenario.catalog();
        let text = r#"
[[policy.relaxation]]
after_seconds = 60
skills = ["juggling"]
[policy.queues.nope]
min_proficiency = 2
[policy.queues.ja-chat]
relaxation = [{ after_seconds = 120, languages = ["fr"] }]
"#;
        let cfg: RouterFile = toml::from_str(text).unwrap();
        let policy = cfg.policy.unwrap();
        assert!(policy.validate().is_empty());
        let problems = policy.validate_against(&catalog);
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "relaxation[0].skills[0]",
                "queues.ja-chat.relaxation[0].languages[0]",
                "queues.nope",
            ],
            "{problems:#?}"
        );
    }

    #[test]
    fn bundled_router_toml_is_valid_for_the_bundled_scenario() {
        let scenario = Scenario::load(&root().join("scenarios/double11.toml")).unwrap();
        let catalog = scenario.catalog();
        let policy = load_policy(&root().join("config/router.toml"), &catalog).unwrap();
        assert!(peakcrew_core::routing::Router::new(&policy, &catalog).is_ok());
        let daemon = Settings::load(&root().join("config/router.toml")).unwrap();
        assert_eq!(daemon.policy, policy);
    }

    /// The simulator and the daemon take the same policy from a file that names
    /// `server.policy_file`: the named file's, not the built-in default.
    #[test]
    fn policy_file_gives_the_simulator_the_daemons_policy() {
        let dir = tempfile::tempdir().unwrap();
        let scenario_path = root().join("scenarios/double11.toml");
        let catalog = Scenario::load(&scenario_path).unwrap().catalog();
        std::fs::write(
            dir.path().join("policy.toml"),
            "[policy]\nselection = \"least-occupied\"\nmin_proficiency = 2\n\
             [policy.offer]\ntimeout_seconds = 45\n",
        )
        .unwrap();
        let daemon_file = dir.path().join("router.toml");
        std::fs::write(
            &daemon_file,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\nscenario = \"{}\"\nstore = \"st\"\n\
                 policy_file = \"policy.toml\"\n[[server.tokens]]\nname = \"ops\"\n\
                 role = \"admin\"\ntoken = \"0123456789abcdef\"\n",
                scenario_path.display()
            ),
        )
        .unwrap();
        let simulated = load_policy(&daemon_file, &catalog).unwrap();
        assert_ne!(simulated, RoutingPolicy::default());
        assert_eq!(simulated.offer.timeout_seconds, 45.0);
        assert_eq!(simulated.min_proficiency, 2);
        assert_eq!(Settings::load(&daemon_file).unwrap().policy, simulated);

        // Both sources, or neither, is an error naming the field.
        std::fs::write(&daemon_file, "[policy]\n[server]\nlisten = \"127.0.0.1:0\"\nscenario = \"s\"\nstore = \"st\"\npolicy_file = \"policy.toml\"\n").unwrap();
        let err = load_policy(&daemon_file, &catalog).unwrap_err().to_string();
        assert!(
            err.contains("server.policy_file: give the policy either inline"),
            "{err}"
        );
        std::fs::write(&daemon_file, "").unwrap();
        let err = load_policy(&daemon_file, &catalog).unwrap_err().to_string();
        assert!(err.contains("no routing policy"), "{err}");
    }
}
