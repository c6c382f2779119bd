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
//! - [`wire`]: the JSON-facing types — request bodies, the logged operations, what replies and
//!   streams show — so the API's and the log's contract is read in one place.
//! - [`engine`]: the single owner of the routing core. It checks each request, applies it at
//!   the `now` it is given, logs what the core accepted and translates between the API's string
//!   ids and the core's integers.
//! - [`engine_thread`]: the thread that owns the engine: batches from the intake, one `now`
//!   per batch from the daemon's clock, the core's timers between batches, snapshot copies.
//! - `commit`: group commit — makes each batch durable, then releases its replies and events.
//! - [`store`]: the append-only command log (segment files, checksummed records), its
//!   recovery, its compaction and its lock.
//! - [`snapshot`]: periodic and shutdown snapshots of the engine, so recovery replays only the
//!   log's tail; with `keep_log = "since-snapshots"`, the removal of log segments they cover.
//! - `events`: fan-out of events to the all-events and per-agent streams.
//! - [`metrics`]: the daemon's counters and histograms (lock-free atomics) and `/metrics`, their
//!   Prometheus text with the routing state's series, written by `prometheus-client`.
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
//! Recovery loads the newest valid snapshot (see [`snapshot`]) that the log continues and
//! replays the log records after it; if that fails it tries the older snapshot, then the whole
//! log. Either way the result is the same state (`tests/serve.rs` and the unit tests compare
//! the digests). A compacted log (one whose first segment does not start at record 0) can only
//! be recovered from a snapshot covering at least the records before it; without a usable one
//! recovery fails and says which records are missing, rather than replay part of the log.
//! `serve --replay-only` replays the whole log when it starts at record 0, and otherwise starts
//! from the oldest usable snapshot the log continues, and says so.

pub mod api;
pub mod auth;
pub mod client;
mod commit;
pub mod config;
pub mod engine;
pub mod engine_thread;
pub mod error;
mod events;
pub mod metrics;
pub mod server;
mod shutdown;
pub mod snapshot;
pub mod store;
pub mod wire;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use peakcrew_core::routing::{Millis, PolicyErrors};

pub use config::Settings;
pub use engine::Dispatcher;
pub use engine_thread::Clock;
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
    #[error(
        "cannot rebuild the state of {dir}: its log starts at record {first}, so records \
         0..{first} are only in snapshots (the segments holding them were removed by log \
         compaction, keep_log = \"since-snapshots\", or deleted), and no snapshot covering them \
         can be used{snapshots}. Restore a snapshot of this configuration covering at least \
         {first} records, or the removed log segments."
    )]
    Compacted {
        dir: PathBuf,
        first: u64,
        /// Each snapshot tried and why it could not be used (or that there was none).
        snapshots: String,
    },
    #[error(transparent)]
    Io(std::io::Error),
}

/// A recovered daemon state, ready to serve.
pub struct Recovery {
    pub engine: Dispatcher,
    pub log: Log,
    pub clock: Clock,
    pub entries: u64,
    /// The first record the log holds: 0 unless compaction removed segments.
    pub log_first_record: u64,
    /// Of `entries`, how many the loaded snapshot covered (0: the whole log was replayed).
    pub from_snapshot: u64,
    pub dropped_bytes: u64,
    pub elapsed: Duration,
    pub epoch_unix_ms: u64,
    pub snapshots: snapshot::Snapshots,
}

/// Opens and locks the store, loads its newest valid snapshot that the log continues (if
/// any) and replays the log's records after it through the engine.
pub fn recover(settings: &Settings) -> Result<Recovery, ServeError> {
    let started = Instant::now();
    let (log, recovered) = Log::open(&settings.store, settings.durability.fsync)?;
    let snapshots = snapshot::Snapshots {
        dir: settings.store.clone(),
        fingerprint: snapshot::fingerprint(&settings.policy, &settings.catalog),
        epoch_unix_ms: recovered.epoch_unix_ms,
        keep_log: settings.durability.keep_log,
    };
    snapshots.remove_unfinished();
    let (engine, from_snapshot) = rebuild(settings, &snapshots, &recovered, Start::NewestSnapshot)?;
    Ok(Recovery {
        clock: Clock::new(recovered.epoch_unix_ms, engine.now()),
        entries: recovered.len(),
        log_first_record: recovered.first(),
        from_snapshot,
        dropped_bytes: recovered.dropped_bytes,
        elapsed: started.elapsed(),
        epoch_unix_ms: recovered.epoch_unix_ms,
        engine,
        log,
        snapshots,
    })
}

/// Where a rebuild of the state starts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Start {
    /// The newest usable snapshot, then older ones, then the whole log: the quickest way
    /// (recovery).
    NewestSnapshot,
    /// The whole log if it starts at record 0, else the oldest usable snapshot the log
    /// continues: the most replayed (`--replay-only`).
    WholeLog,
}

/// Rebuilds the state of everything `recovered` holds, from where `start` says. A snapshot is
/// usable if it is valid for this configuration and log, the log continues it, and the log's
/// records after it replay on it. A log that does not start at record 0 is never replayed
/// without a snapshot; without a usable one that is an error naming the missing records.
/// Returns the engine and how many records the snapshot it started from covered (0: none).
fn rebuild(
    settings: &Settings,
    snapshots: &snapshot::Snapshots,
    recovered: &store::Recovered,
    start: Start,
) -> Result<(Dispatcher, u64), ServeError> {
    let whole_log = recovered.first() == 0;
    let replay_all = || -> Result<(Dispatcher, u64), ServeError> {
        let all = recovered.entries(0)?;
        Ok((replay(settings, &all, recovered.epoch_unix_ms)?, 0))
    };
    if whole_log && start == Start::WholeLog {
        return replay_all();
    }
    let mut list = snapshots.list().unwrap_or_else(|e| {
        tracing::warn!("cannot list snapshots in {}: {e}", snapshots.dir.display());
        Vec::new()
    });
    if start == Start::NewestSnapshot {
        list.reverse();
    }
    let mut skipped = String::new();
    for (covers, path) in list {
        let why = match snapshots.load(
            &path,
            covers,
            &settings.policy,
            &settings.catalog,
            recovered.first()..=recovered.len(),
        ) {
            Ok(mut engine) => {
                let tail = recovered.entries(covers)?;
                match tail.iter().try_for_each(|e| engine.replay(e)) {
                    Ok(()) => return Ok((engine, covers)),
                    Err(e) => format!("the log after it does not replay on it ({e})"),
                }
            }
            Err(why) => why,
        };
        tracing::warn!("skipping snapshot {}: {why}", path.display());
        skipped.push_str(&format!("\n  {}: {why}", path.display()));
    }
    if whole_log {
        return replay_all();
    }
    Err(ServeError::Compacted {
        dir: snapshots.dir.clone(),
        first: recovered.first(),
        snapshots: if skipped.is_empty() {
            ": there is no snapshot in the store".into()
        } else {
            format!(":{skipped}\n")
        },
    })
}

/// Builds an engine and replays `entries` through it.
pub fn replay(
    settings: &Settings,
    entries: &[store::Entry],
    epoch_unix_ms: u64,
) -> Result<Dispatcher, ServeError> {
    let mut engine = Dispatcher::new(&settings.policy, &settings.catalog, epoch_unix_ms)
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
    /// The first record the log holds: 0 unless compaction removed segments.
    pub log_first_record: u64,
    /// Records covered by the snapshot the replay started from: 0 when the whole log was
    /// replayed, otherwise (a compacted log) the oldest usable snapshot the log continues.
    pub from_snapshot: u64,
    pub last_at_ms: Millis,
    pub now_ms: Millis,
    pub state_digest: String,
    pub engine_digest: String,
    pub replay_ms: u64,
    pub stats: wire::StatsOut,
}

/// Replays a store without locking or changing it: the whole log, or for a compacted log the
/// oldest usable snapshot the log continues and the records after it. With `until`, lets time
/// pass to it, so the result compares with what a running daemon showed at that time.
pub fn replay_store(
    settings: &Settings,
    store: &Path,
    until: Option<Millis>,
) -> Result<ReplaySummary, ServeError> {
    let started = Instant::now();
    let recovered = Log::read(store)?;
    let snapshots = snapshot::Snapshots {
        dir: store.to_path_buf(),
        fingerprint: snapshot::fingerprint(&settings.policy, &settings.catalog),
        epoch_unix_ms: recovered.epoch_unix_ms,
        // Read-only: never writes, so never compacts.
        keep_log: config::KeepLog::All,
    };
    let (mut engine, from_snapshot) = rebuild(settings, &snapshots, &recovered, Start::WholeLog)?;
    let last = recovered.last()?.map_or(engine.now(), |e| e.at);
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
        log_first_record: recovered.first(),
        from_snapshot,
        last_at_ms: last,
        now_ms: now,
        state_digest: format!("{:016x}", engine.state_digest()),
        engine_digest: format!("{:016x}", engine.engine_digest()),
        replay_ms: started.elapsed().as_millis() as u64,
        stats,
    })
}
