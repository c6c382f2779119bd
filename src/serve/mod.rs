//! `peakcrew serve`: the routing daemon, a durable tokio + axum service over the routing core.
//!
//! # Parts and what each owns
//!
//! - [`config`]: the daemon file (`[server]`: listen address, scenario, store, durability,
//!   limits, tokens) and its checks, with the same located errors as scenarios.
//! - [`server`]: the accept loop ([`server`]'s `Listener`), one `Handler` per connection, and
//!   the order of graceful shutdown. Modelled on tokio-rs/mini-redis.
//! - [`api`]: the HTTP JSON API under `/v1` — parsing, permissions, answers — and the list of
//!   routes the OpenAPI document is held to.
//! - [`auth`]: bearer tokens, roles and per-token rate limits.
//! - [`engine`]: the single owner of the routing core, on a thread of its own. It checks each
//!   request, applies it at the daemon's clock, logs what the core accepted and translates
//!   between the API's string ids and the core's integers.
//! - `commit`: group commit — makes each batch durable, then releases its replies and events.
//! - [`store`]: the append-only command log with checksums, its recovery and its lock.
//! - [`snapshot`]: periodic and shutdown snapshots of the engine, so recovery replays only the
//!   log's tail.
//! - `events`: fan-out of events to the all-events and per-agent streams.
//! - [`metrics`]: atomics and the Prometheus text of `/metrics`.
//! - [`client`]: a small HTTP/1.1 client for the load generator and the tests.
//!
//! # Invariants
//!
//! 1. **Nothing is acknowledged before it is durable.** A request's reply (and any event it
//!    caused) is released by the commit thread only after the log records of its batch and of
//!    every batch before it are written and synced. Reads travel the same path, so no answer
//!    shows state a crash could take back.
//! 2. **The log is the state.** Only commands the core accepted are logged, with the `now`
//!    they were applied at; ticks and rejected commands are not (the next logged command
//!    processes the same due transitions at the same times). Replaying the log rebuilds the
//!    core's state and the daemon's id tables exactly (`state_digest`, `engine_digest`).
//! 3. **One writer of routing state.** Only the engine thread touches the core, so commands
//!    are applied in one total order, the order of the log.
//! 4. **Bounded everywhere.** Request bodies, the intake, the commit queue, stream buffers and
//!    connections all have limits; past them callers get 413 or 429, slow streams are told
//!    what they missed, and memory does not grow with load.
//!
//! Recovery loads the newest valid snapshot (see [`snapshot`]) and replays the log records
//! after it; without one it replays the whole log. Either way the result is the same state
//! (`tests/serve.rs` and the unit tests here compare the digests).

pub mod api;
pub mod auth;
pub mod client;
mod commit;
pub mod config;
pub mod engine;
pub mod error;
mod events;
pub mod metrics;
pub mod server;
mod shutdown;
pub mod snapshot;
pub mod store;

use std::path::Path;
use std::time::{Duration, Instant};

use crate::routing::{Millis, PolicyErrors};

pub use config::Settings;
pub use engine::{Clock, Engine};
pub use server::{serve, Started};
pub use store::{Log, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the routing policy cannot be built:\n{0}")]
    Policy(PolicyErrors),
    #[error("replay of the command log failed: {0}")]
    Replay(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Io(std::io::Error),
}

/// A recovered daemon state, ready to serve.
pub struct Recovery {
    pub engine: Engine,
    pub log: Log,
    pub clock: Clock,
    pub entries: u64,
    /// Of `entries`, how many the loaded snapshot covered (0: the whole log was replayed).
    pub from_snapshot: u64,
    pub dropped_bytes: u64,
    pub elapsed: Duration,
    pub epoch_unix_ms: u64,
    pub snapshots: snapshot::Snapshots,
}

/// Opens and locks the store, loads its newest valid snapshot (if any) and replays the log's
/// records after it through the engine.
pub fn recover(settings: &Settings) -> Result<Recovery, ServeError> {
    let started = Instant::now();
    let (log, recovered) = Log::open(&settings.store, settings.durability.fsync)?;
    let snapshots = snapshot::Snapshots {
        dir: settings.store.clone(),
        fingerprint: snapshot::fingerprint(&settings.policy, &settings.catalog),
        epoch_unix_ms: recovered.epoch_unix_ms,
    };
    let loaded = snapshots.load_newest(&settings.policy, &settings.catalog, recovered.len());
    let (engine, from_snapshot) = match loaded {
        Some(mut engine) => {
            let covers = engine.log_entries();
            let tail = recovered.entries(covers)?;
            match tail.iter().try_for_each(|e| engine.replay(e)) {
                Ok(()) => (engine, covers),
                Err(e) => {
                    tracing::warn!(
                        "the log after the snapshot of {covers} records does not replay on it \
                         ({e}); replaying the whole log instead"
                    );
                    let all = recovered.entries(0)?;
                    (replay(settings, &all, recovered.epoch_unix_ms)?, 0)
                }
            }
        }
        None => {
            let all = recovered.entries(0)?;
            (replay(settings, &all, recovered.epoch_unix_ms)?, 0)
        }
    };
    Ok(Recovery {
        clock: Clock::new(recovered.epoch_unix_ms, engine.now()),
        entries: recovered.len(),
        from_snapshot,
        dropped_bytes: recovered.dropped_bytes,
        elapsed: started.elapsed(),
        epoch_unix_ms: recovered.epoch_unix_ms,
        engine,
        log,
        snapshots,
    })
}

/// Builds an engine and replays `entries` through it.
pub fn replay(
    settings: &Settings,
    entries: &[store::Entry],
    epoch_unix_ms: u64,
) -> Result<Engine, ServeError> {
    let mut engine = Engine::new(&settings.policy, &settings.catalog, epoch_unix_ms)
        .map_err(ServeError::Policy)?;
    for entry in entries {
        engine.replay(entry).map_err(ServeError::Replay)?;
    }
    Ok(engine)
}

/// What an offline replay of a store shows (for `serve --replay-only` and the crash tests).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplaySummary {
    pub log_entries: u64,
    pub last_at_ms: Millis,
    pub now_ms: Millis,
    pub state_digest: String,
    pub engine_digest: String,
    pub replay_ms: u64,
    pub stats: engine::StatsOut,
}

/// Replays a store without locking or changing it; with `until`, lets time pass to it, so the
/// result compares with what a running daemon showed at that time.
pub fn replay_store(
    settings: &Settings,
    store: &Path,
    until: Option<Millis>,
) -> Result<ReplaySummary, ServeError> {
    let started = Instant::now();
    let recovered = Log::read(store)?;
    let entries = recovered.entries(0)?;
    let mut engine = replay(settings, &entries, recovered.epoch_unix_ms)?;
    let last = entries.last().map_or(0, |e| e.at);
    let mut fx = engine::Effects::default();
    if let Some(t) = until {
        engine.tick(t.max(last), &mut fx);
    }
    let now = engine.now();
    let stats = match engine.query(
        &engine::Query::Stats { digest: true },
        &engine::Actor::Replay,
        now,
        &mut fx,
    ) {
        Ok(engine::Reply::Stats(s)) => *s,
        Ok(_) => {
            return Err(ServeError::Failed(
                "stats query answered something else".into(),
            ))
        }
        Err(e) => return Err(ServeError::Failed(e.to_string())),
    };
    Ok(ReplaySummary {
        log_entries: engine.log_entries(),
        last_at_ms: last,
        now_ms: now,
        state_digest: format!("{:016x}", engine.state_digest()),
        engine_digest: format!("{:016x}", engine.engine_digest()),
        replay_ms: started.elapsed().as_millis() as u64,
        stats,
    })
}
