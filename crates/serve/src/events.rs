//! Fan-out of routing events to streams: every event to `GET /v1/events` subscribers, an
//! agent's own events to its `GET /v1/agents/{id}/assignments` subscribers.
//!
//! Events are published by the commit thread only after the batch that produced them is
//! durable, so a stream never shows an offer that a crash could take back. Publishing never
//! blocks the commit thread: the all-events channel is a broadcast ring (a subscriber that
//! falls behind by more than its buffer is told how many it missed), and an agent subscriber
//! whose buffer is full is disconnected (it reconnects and reads its state afresh).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc};

use super::metrics::Metrics;
use super::wire::OutEvent;

/// An agent's subscribers, each with the id that unsubscribes it.
type AgentSubscribers = HashMap<Arc<str>, Vec<(u64, mpsc::Sender<Arc<OutEvent>>)>>;

pub struct Fanout {
    all: broadcast::Sender<Arc<OutEvent>>,
    agents: Mutex<AgentSubscribers>,
    agent_subscribers: AtomicUsize,
    next_id: AtomicU64,
    buffer: usize,
    metrics: Arc<Metrics>,
}

impl Fanout {
    pub fn new(buffer: usize, metrics: Arc<Metrics>) -> Fanout {
        Fanout {
            all: broadcast::channel(buffer).0,
            agents: Mutex::new(HashMap::new()),
            agent_subscribers: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            buffer,
            metrics,
        }
    }

    /// Whether the engine should build stream events at all.
    pub fn has_subscribers(&self) -> bool {
        self.all.receiver_count() > 0 || self.agent_subscribers.load(Relaxed) > 0
    }

    pub fn subscribe_all(&self) -> broadcast::Receiver<Arc<OutEvent>> {
        self.all.subscribe()
    }

    /// Subscribes to one agent's events; the id unsubscribes.
    pub fn subscribe_agent(&self, agent: Arc<str>) -> (u64, mpsc::Receiver<Arc<OutEvent>>) {
        let (tx, rx) = mpsc::channel(self.buffer);
        let id = self.next_id.fetch_add(1, Relaxed);
        let mut agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        agents.entry(agent).or_default().push((id, tx));
        self.agent_subscribers.fetch_add(1, Relaxed);
        (id, rx)
    }

    pub fn unsubscribe_agent(&self, agent: &str, id: u64) {
        let mut agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(subs) = agents.get_mut(agent) {
            let before = subs.len();
            subs.retain(|(i, _)| *i != id);
            self.agent_subscribers
                .fetch_sub(before - subs.len(), Relaxed);
            if subs.is_empty() {
                agents.remove(agent);
            }
        }
    }

    pub fn publish(&self, events: Vec<OutEvent>) {
        if events.is_empty() || !self.has_subscribers() {
            return;
        }
        let to_agents = self.agent_subscribers.load(Relaxed) > 0;
        let mut agents = to_agents.then(|| self.agents.lock().unwrap_or_else(|p| p.into_inner()));
        for e in events {
            let e = Arc::new(e);
            if let (Some(agents), Some(agent)) = (agents.as_mut(), e.agent.as_ref()) {
                if let Some(subs) = agents.get_mut(agent) {
                    let before = subs.len();
                    subs.retain(|(_, tx)| tx.try_send(e.clone()).is_ok());
                    let dropped = before - subs.len();
                    if dropped > 0 {
                        self.agent_subscribers.fetch_sub(dropped, Relaxed);
                        self.metrics.stream_lagged.inc_by(dropped as u64);
                    }
                }
            }
            // No receivers is not an error: streams come and go.
            let _ = self.all.send(e);
        }
    }
}
