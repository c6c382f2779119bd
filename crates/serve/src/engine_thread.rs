//! The engine thread: the one thread that owns the dispatcher, and the loop that feeds it.
//!
//! It takes requests from the bounded intake channel in batches, applies them at one `now` per
//! batch, and hands the batch (log bytes, replies, events) to the group-commit thread, which
//! makes it durable before anyone hears about it. Reads are answered in the same order, so no
//! reply ever shows state that a crash could take back. Between requests, `recv_timeout` until
//! the core's next deadline is the timer that drives offer timeouts, relaxation and escalation.
//! Every so often (see [`SnapshotPace`]) a batch also carries a copy of the dispatcher for the
//! snapshot thread. This is kept apart from [`crate::engine`] because it is about time, threads
//! and channels, which the dispatcher itself never sees: replay drives the same dispatcher with
//! the log's times and no thread at all.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use peakcrew_core::routing::Millis;

use super::engine::{Actor, Answer, Dispatcher, Effects, Query, Reply};
use super::metrics::Metrics;
use super::wire::{Op, OutEvent};

/// A request on the intake channel.
pub enum Request {
    Op {
        op: Op,
        actor: Actor,
        reply: oneshot::Sender<Answer>,
    },
    Query {
        query: Query,
        actor: Actor,
        reply: oneshot::Sender<Answer>,
    },
    /// Several operations applied in order at one `now` and made durable in one group commit,
    /// with one answer each (`Reply::Batch`); a failed operation does not stop the others.
    Batch {
        ops: Vec<Op>,
        actor: Actor,
        reply: oneshot::Sender<Answer>,
    },
    /// Finish the batch in hand and stop (the daemon is shutting down).
    Stop,
}

impl Request {
    /// What the request is charged against the bounded intake: one per operation.
    pub fn units(&self) -> usize {
        match self {
            Request::Batch { ops, .. } => ops.len(),
            _ => 1,
        }
    }
}

/// The daemon's clock: milliseconds since the store's epoch, monotonic within a run and never
/// behind the last logged time across runs (a wall clock set back does not move it back).
pub struct Clock {
    base: Millis,
    started: Instant,
}

impl Clock {
    pub fn new(epoch_unix_ms: u64, last_logged: Millis) -> Clock {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            .saturating_sub(epoch_unix_ms);
        Clock {
            base: wall.max(last_logged),
            started: Instant::now(),
        }
    }

    pub fn now(&self) -> Millis {
        self.base + self.started.elapsed().as_millis() as Millis
    }
}

/// A batch on its way to the disk: log bytes, then the replies and events it releases.
pub struct Commit {
    pub log: Vec<u8>,
    pub entries: u64,
    pub replies: Vec<(oneshot::Sender<Answer>, Answer)>,
    pub events: Vec<OutEvent>,
    /// A copy of the engine as of the end of this batch, to be written as a snapshot once the
    /// batch is durable (a snapshot never covers a record the log does not hold).
    pub snapshot: Option<Box<Dispatcher>>,
}

/// When the engine copies itself for a snapshot (the `[server.durability]` settings).
#[derive(Debug, Clone, Copy)]
pub struct SnapshotPace {
    /// Log records since the last snapshot (0: never).
    pub every: u64,
    /// Log bytes since the last snapshot, as a multiple of that snapshot's size.
    pub growth: f64,
}

impl SnapshotPace {
    /// Whether a snapshot is due after `records` and `bytes` of log since the last one, whose
    /// size was `last_bytes` (0 if none was written yet by this process).
    pub fn due(&self, records: u64, bytes: u64, last_bytes: u64) -> bool {
        self.every > 0 && records >= self.every && bytes as f64 >= self.growth * last_bytes as f64
    }
}

/// The engine thread: batches from the intake, one `now` per batch, timers between batches.
/// Every `snapshot_every` log records (0: never) a batch carries a copy of the engine for a
/// snapshot. Returns the engine when the intake is closed (every sender dropped) or stopped and
/// the last batch is handed on.
#[allow(clippy::too_many_arguments)]
pub fn run(
    mut engine: Dispatcher,
    clock: Clock,
    intake: Receiver<Request>,
    commits: SyncSender<Commit>,
    max_batch: usize,
    snapshots: SnapshotPace,
    publish: impl Fn() -> bool,
    metrics: Arc<Metrics>,
) -> Dispatcher {
    let mut batch: Vec<Request> = Vec::with_capacity(max_batch);
    let mut last_snapshot = engine.log_entries();
    let mut log_bytes_since_snapshot: u64 = 0;
    loop {
        let wait = match engine.next_deadline() {
            Some(due) => Duration::from_millis(due.saturating_sub(clock.now())),
            None => Duration::from_secs(3600),
        };
        match intake.recv_timeout(wait) {
            Ok(r) => batch.push(r),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return engine,
        }
        let mut units: usize = batch.iter().map(Request::units).sum();
        while units < max_batch {
            match intake.try_recv() {
                Ok(r) => {
                    units += r.units();
                    batch.push(r);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        metrics.intake_depth_add(-(units as i64));
        let now = clock.now();
        let applying = Instant::now();
        let mut fx = Effects {
            log: Vec::new(),
            publish: publish(),
            events: Vec::new(),
        };
        engine.tick(now, &mut fx);
        let mut replies = Vec::with_capacity(batch.len());
        let before = engine.log_entries();
        let mut stop = false;
        for request in batch.drain(..) {
            let (reply, answer) = match request {
                Request::Op { op, actor, reply } => {
                    let answer = engine.apply(&op, &actor, now, &mut fx);
                    metrics.count_op(&op, &answer);
                    (reply, answer)
                }
                Request::Query {
                    query,
                    actor,
                    reply,
                } => {
                    let answer = engine.query(&query, &actor, now, &mut fx);
                    (reply, answer)
                }
                Request::Batch { ops, actor, reply } => {
                    let answers = ops
                        .iter()
                        .map(|op| {
                            let answer = engine.apply(op, &actor, now, &mut fx);
                            metrics.count_op(op, &answer);
                            answer
                        })
                        .collect();
                    (reply, Ok(Reply::Batch(answers)))
                }
                Request::Stop => {
                    stop = true;
                    continue;
                }
            };
            replies.push((reply, answer));
        }
        if replies.is_empty() && fx.events.is_empty() && fx.log.is_empty() {
            if stop {
                return engine;
            }
            continue;
        }
        metrics
            .engine_batch_seconds
            .observe(applying.elapsed().as_secs_f64());
        log_bytes_since_snapshot += fx.log.len() as u64;
        let mut snapshot = None;
        let last_bytes = metrics.snapshot_bytes.get();
        if snapshots.due(
            engine.log_entries() - last_snapshot,
            log_bytes_since_snapshot,
            last_bytes,
        ) {
            // A copy here costs the engine a pause; encoding and writing it happen elsewhere.
            let started = Instant::now();
            snapshot = Some(Box::new(engine.clone()));
            metrics
                .snapshot_copy_seconds
                .observe(started.elapsed().as_secs_f64());
            last_snapshot = engine.log_entries();
            log_bytes_since_snapshot = 0;
        }
        let commit = Commit {
            entries: engine.log_entries() - before,
            log: fx.log,
            replies,
            events: fx.events,
            snapshot,
        };
        if commits.send(commit).is_err() || stop {
            // Stopping, or the commit thread stopped (a write failed): nothing more can be
            // made durable.
            return engine;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SnapshotPace;

    #[test]
    fn a_snapshot_is_due_after_enough_records_and_log_bytes() {
        let pace = SnapshotPace {
            every: 1000,
            growth: 1.0,
        };
        assert!(!pace.due(999, 10_000, 0));
        // The first snapshot of a process only waits for the records.
        assert!(pace.due(1000, 10, 0));
        // Later ones also for as much log as the last snapshot weighed.
        assert!(!pace.due(5000, 999_999, 1_000_000));
        assert!(pace.due(5000, 1_000_000, 1_000_000));
        let never = SnapshotPace {
            every: 0,
            growth: 0.0,
        };
        assert!(!never.due(u64::MAX, u64::MAX, 0));
    }
}
