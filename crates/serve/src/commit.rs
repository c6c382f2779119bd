//! Group commit: the thread that makes the engine's batches durable and only then releases
//! their replies and events.
//!
//! While one write-and-sync is in progress the engine keeps applying requests; everything it
//! hands over meanwhile goes to disk in the next write with one sync, so the cost of a sync is
//! shared by every request that waited for it and durability does not cap throughput. Replies
//! are released in log order, reads included: a reply never reflects a command that is not
//! yet on disk.
//!
//! A batch that carries a snapshot copy ends a write: once it is durable the copy goes to the
//! snapshot thread and the log's current segment ends there, so segments end at snapshot
//! positions and compaction can remove whole segments a snapshot covers.
//!
//! A failed write or sync leaves the disk in an unknown state, and the core has already
//! applied the batch, so the daemon cannot go on: every waiting request gets 503, the failure
//! is reported, and the daemon stops. A restart replays what did reach the disk.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

use super::engine::Dispatcher;
use super::engine_thread::Commit;
use super::error::ApiError;
use super::events::Fanout;
use super::metrics::Metrics;
use super::store::Log;

/// Most batches taken into one write-and-sync.
const MAX_BATCHES: usize = 1024;

/// A fatal failure of the daemon, and a way to wait for one.
#[derive(Default)]
pub struct Failure {
    message: Mutex<Option<String>>,
    pub notify: Notify,
}

impl Failure {
    pub fn set(&self, message: String) {
        let mut m = self.message.lock().unwrap_or_else(|p| p.into_inner());
        if m.is_none() {
            *m = Some(message);
        }
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    pub fn get(&self) -> Option<String> {
        self.message
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

pub fn run(
    mut log: Log,
    commits: Receiver<Commit>,
    snapshots: Option<SyncSender<Box<Dispatcher>>>,
    fanout: Arc<Fanout>,
    metrics: Arc<Metrics>,
    failure: Arc<Failure>,
) {
    let mut pending: Vec<Commit> = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    while let Ok(first) = commits.recv() {
        pending.push(first);
        // A batch with a snapshot copy ends the write, so its segment can end with it.
        while pending.len() < MAX_BATCHES && pending.last().is_some_and(|c| c.snapshot.is_none()) {
            match commits.try_recv() {
                Ok(c) => pending.push(c),
                Err(_) => break,
            }
        }
        buf.clear();
        let mut entries = 0;
        for c in &mut pending {
            buf.append(&mut c.log);
            entries += c.entries;
        }
        if !buf.is_empty() {
            let started = Instant::now();
            if let Err(e) = log.append(&buf) {
                let message = format!("the command log could not be written: {e}");
                tracing::error!("{message}");
                failure.set(message.clone());
                refuse(pending.drain(..), &message);
                // Dropping the receiver stops the engine; the intake then answers 503.
                return;
            }
            metrics
                .sync_seconds
                .observe(started.elapsed().as_secs_f64());
            metrics.commit_entries.observe(entries as f64);
            metrics.commits.inc();
            metrics.log_entries.inc_by(entries);
            metrics.log_bytes.inc_by(buf.len() as u64);
        }
        for mut c in pending.drain(..) {
            // The batch is durable, so a copy taken at its end covers only logged records.
            if let (Some(copy), Some(tx)) = (c.snapshot.take(), &snapshots) {
                match tx.try_send(copy) {
                    // The copy covers every record logged so far (its batch is the write's
                    // last): the next records go to a new segment.
                    Ok(()) => log.end_segment(),
                    Err(TrySendError::Full(_)) => {
                        tracing::debug!("a snapshot is still being written; skipping this one")
                    }
                    Err(TrySendError::Disconnected(_)) => {}
                }
            }
            for (reply, answer) in c.replies {
                // The caller may have gone away; its command stands all the same.
                let _ = reply.send(answer);
            }
            fanout.publish(c.events);
        }
    }
}

fn refuse(commits: impl Iterator<Item = Commit>, message: &str) {
    for c in commits {
        for (reply, _) in c.replies {
            let _ = reply.send(Err(ApiError::unavailable(message.to_string())));
        }
    }
}
