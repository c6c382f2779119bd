//! The server's moving parts and their lifetimes, after tokio-rs/mini-redis: a [`Listener`]
//! that owns the accept loop and the connection limit, one [`Handler`] per connection that runs
//! HTTP/1.1 or HTTP/2 over it, and graceful shutdown threaded through both with [`Shutdown`].
//!
//! [`serve`] wires the daemon: it recovers the engine from the store, starts the engine thread,
//! the group-commit thread and the snapshot thread, binds, accepts until a shutdown signal (or
//! a fatal log failure), then stops in order — stop accepting, let connections finish their
//! requests and streams end, close the intake so the engine drains, wait for the last group
//! commit and snapshot, and write a final snapshot so the next start replays nothing.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};

use super::api::{self, Shared, ROUTES};
use super::auth::Auth;
use super::commit::{self, Failure};
use super::config::Settings;
use super::engine_thread;
use super::events::Fanout;
use super::metrics::Metrics;
use super::shutdown::Shutdown;
use super::snapshot;
use super::{recover, Recovery, ServeError};

/// Most group commits waiting for the disk; beyond it the engine waits, the intake fills and
/// callers get 429.
const COMMIT_QUEUE: usize = 64;
/// How long connections get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The accept loop and what it hands each connection.
struct Listener {
    listener: TcpListener,
    app: axum::Router,
    /// Bounds open connections: a permit per connection, returned when it closes.
    limit_connections: Arc<Semaphore>,
    notify_shutdown: watch::Receiver<bool>,
    /// Each handler holds a clone; when all are dropped, every connection has finished.
    shutdown_complete: mpsc::Sender<()>,
}

/// One connection.
struct Handler {
    stream: TcpStream,
    app: axum::Router,
    shutdown: Shutdown,
    _shutdown_complete: mpsc::Sender<()>,
}

impl Listener {
    async fn run(&mut self) -> Result<(), ServeError> {
        loop {
            let permit = self
                .limit_connections
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| ServeError::Failed("the connection limit was closed".into()))?;
            let stream = self.accept().await?;
            // Requests and answers are small: send them at once.
            let _ = stream.set_nodelay(true);
            let handler = Handler {
                stream,
                app: self.app.clone(),
                shutdown: Shutdown::new(self.notify_shutdown.clone()),
                _shutdown_complete: self.shutdown_complete.clone(),
            };
            tokio::spawn(async move {
                handler.run().await;
                drop(permit);
            });
        }
    }

    /// Accepts one connection; transient errors (too many open files) back off and retry.
    async fn accept(&mut self) -> Result<TcpStream, ServeError> {
        let mut backoff = 1;
        loop {
            match self.listener.accept().await {
                Ok((stream, _)) => return Ok(stream),
                Err(e) => {
                    if backoff > 64 {
                        return Err(ServeError::Io(e));
                    }
                    tracing::warn!("accept failed ({e}); retrying in {backoff} s");
                }
            }
            tokio::time::sleep(Duration::from_secs(backoff)).await;
            backoff *= 2;
        }
    }
}

impl Handler {
    async fn run(mut self) {
        let service = TowerToHyperService::new(self.app);
        // HTTP/1.1, or HTTP/2 with prior knowledge (one connection carrying many requests at
        // once, as a contact platform or the load generator may prefer).
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        let conn = builder.serve_connection(TokioIo::new(self.stream), service);
        tokio::pin!(conn);
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection ended: {e}");
                }
            }
            _ = self.shutdown.recv() => {
                // Finish the request in flight, then close.
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }
}

/// What the daemon reports once it listens.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Started {
    pub listening: SocketAddr,
    pub recovered_entries: u64,
    /// Of the recovered records, how many came from a snapshot rather than replay.
    pub recovered_from_snapshot: u64,
    /// The first record the log holds: 0 unless compaction removed segments.
    pub log_first_record: u64,
    pub dropped_bytes: u64,
    pub recovery_ms: u64,
    pub epoch_unix_ms: u64,
}

/// Runs the daemon until `signal` completes (or the log fails), then shuts down gracefully.
pub async fn serve(
    settings: Settings,
    on_ready: impl FnOnce(&Started),
    signal: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let Recovery {
        engine,
        log,
        clock,
        entries,
        log_first_record,
        from_snapshot,
        dropped_bytes,
        elapsed,
        epoch_unix_ms,
        snapshots,
    } = recover(&settings)?;

    let metrics = Arc::new(Metrics::new(ROUTES.iter().map(|r| r.path).collect()));
    let fanout = Arc::new(Fanout::new(
        settings.limits.stream_buffer as usize,
        metrics.clone(),
    ));
    let failure = Arc::new(Failure::default());
    let (intake_tx, intake_rx) =
        std::sync::mpsc::sync_channel(settings.limits.intake_capacity as usize);
    let (commit_tx, commit_rx) = std::sync::mpsc::sync_channel(COMMIT_QUEUE);
    let snapshot_every = settings.durability.snapshot_every;
    // One copy in hand at most: if the writer is still busy, the next copy is skipped.
    let (copy_tx, copy_rx) = std::sync::mpsc::sync_channel(1);
    let snapshot_thread = {
        let (snapshots, metrics) = (snapshots.clone(), metrics.clone());
        std::thread::Builder::new()
            .name("peakcrew-snapshot".into())
            .spawn(move || {
                lower_this_threads_priority();
                snapshot::run(snapshots, copy_rx, metrics)
            })
            .map_err(ServeError::Io)?
    };

    let engine_thread = {
        let fanout = fanout.clone();
        let metrics = metrics.clone();
        let max_batch = settings.durability.max_batch as usize;
        std::thread::Builder::new()
            .name("peakcrew-engine".into())
            .spawn(move || {
                engine_thread::run(
                    engine,
                    clock,
                    intake_rx,
                    commit_tx,
                    max_batch,
                    engine_thread::SnapshotPace {
                        every: snapshot_every,
                        growth: settings.durability.snapshot_growth,
                    },
                    move || fanout.has_subscribers(),
                    metrics,
                )
            })
            .map_err(ServeError::Io)?
    };
    let commit_thread = {
        let (fanout, metrics, failure) = (fanout.clone(), metrics.clone(), failure.clone());
        std::thread::Builder::new()
            .name("peakcrew-commit".into())
            .spawn(move || {
                let copies = (snapshot_every > 0).then_some(copy_tx);
                commit::run(log, commit_rx, copies, fanout, metrics, failure)
            })
            .map_err(ServeError::Io)?
    };

    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: settings.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Io)?;
    let (notify_tx, notify_rx) = watch::channel(false);
    let stop = intake_tx.clone();
    let shared = Arc::new(Shared {
        intake: intake_tx,
        auth: Auth::new(settings.credentials.clone()),
        fanout,
        metrics,
        max_body_bytes: settings.limits.max_body_bytes as usize,
        max_batch_items: settings.limits.max_batch_items as usize,
        intake_capacity: settings.limits.intake_capacity as usize,
        shutdown: notify_rx.clone(),
    });
    let (complete_tx, mut complete_rx) = mpsc::channel(1);
    let mut server = Listener {
        listener,
        app: api::router(shared),
        limit_connections: Arc::new(Semaphore::new(settings.limits.max_connections as usize)),
        notify_shutdown: notify_rx,
        shutdown_complete: complete_tx,
    };
    on_ready(&Started {
        listening: addr,
        recovered_entries: entries,
        recovered_from_snapshot: from_snapshot,
        log_first_record,
        dropped_bytes,
        recovery_ms: elapsed.as_millis() as u64,
        epoch_unix_ms,
    });

    let outcome = tokio::select! {
        r = server.run() => r,
        _ = signal => Ok(()),
        _ = failure.notify.notified() => Ok(()),
    };

    // Stop accepting and tell every connection and stream; wait for them to finish.
    let Listener {
        listener,
        app,
        shutdown_complete,
        ..
    } = server;
    drop(listener);
    drop(app);
    let _ = notify_tx.send(true);
    drop(shutdown_complete);
    if tokio::time::timeout(DRAIN_TIMEOUT, complete_rx.recv())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; stopping anyway");
    }
    // The engine finishes the batch in hand and returns; the commit thread makes the last
    // batch durable and returns, and the snapshot thread finishes the copy in hand. Requests
    // still queued behind the stop get 503.
    let last_failure = failure.clone();
    let engine = tokio::task::spawn_blocking(move || {
        let _ = stop.send(engine_thread::Request::Stop);
        let engine = engine_thread.join();
        let _ = commit_thread.join();
        let _ = snapshot_thread.join();
        engine.ok()
    })
    .await
    .map_err(|e| ServeError::Failed(format!("shutdown: {e}")))?;
    if let Some(message) = last_failure.get() {
        return Err(ServeError::Failed(message));
    }
    // Everything the engine applied is durable now (no failure): a final snapshot spares the
    // next start any replay.
    if let Some(engine) = engine.filter(|e| snapshot_every > 0 && e.log_entries() > from_snapshot) {
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || snapshots.write(&engine)).await {
            Ok(Ok(w)) => tracing::info!(
                "shutdown snapshot of {} records written in {:?}",
                w.covers,
                started.elapsed()
            ),
            Ok(Err(e)) => tracing::warn!("the shutdown snapshot could not be written: {e}"),
            Err(e) => tracing::warn!("the shutdown snapshot could not be written: {e}"),
        }
    }
    outcome
}

/// Encoding and writing a snapshot takes a core for 100 ms or more; at a lower priority it
/// yields to the threads that answer requests instead of delaying them (Linux: the nice
/// value of the calling thread only). Raising one's nice value needs no privilege; if it
/// fails the snapshot is written at normal priority all the same.
fn lower_this_threads_priority() {
    // SAFETY: setpriority reads no memory of ours; who = 0 is the calling thread on Linux.
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
    if r != 0 {
        tracing::debug!(
            "could not lower the snapshot thread's priority: {}",
            std::io::Error::last_os_error()
        );
    }
}
