//! Counters and histograms the daemon keeps with plain atomics, and their rendering in the
//! Prometheus text format for `/metrics`.
//!
//! Counting must not cost throughput, so every series is a fixed slot known at start (routes,
//! status codes, operations); nothing is allocated or locked per request. Figures that live in
//! the routing state (waiting contacts, agents by state) are read from the engine at scrape
//! time and rendered beside these.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use super::engine::Answer;
use super::wire::{Op, OpKind, StatsOut};

/// Status codes the API answers with; anything else is counted as `other`.
const STATUSES: [u16; 13] = [
    200, 201, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503,
];
/// Upper bounds (seconds) of the latency histograms' buckets.
const LATENCY_BOUNDS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];
const BATCH_BOUNDS: [f64; 10] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0,
];

pub struct Histogram<const N: usize> {
    bounds: [f64; N],
    counts: [AtomicU64; N],
    over: AtomicU64,
    /// Sum in millionths, so it fits an integer atomic.
    sum_micro: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [f64; N]) -> Self {
        Histogram {
            bounds,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            over: AtomicU64::new(0),
            sum_micro: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, v: f64) {
        match self.bounds.iter().position(|&b| v <= b) {
            Some(i) => self.counts[i].fetch_add(1, Relaxed),
            None => self.over.fetch_add(1, Relaxed),
        };
        self.sum_micro.fetch_add((v * 1e6) as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut total = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            total += c.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {total}");
        }
        total += self.over.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(
            out,
            "{name}_sum {}\n{name}_count {total}",
            self.sum_micro.load(Relaxed) as f64 / 1e6
        );
    }
}

pub struct Metrics {
    routes: Vec<&'static str>,
    /// `[route][status]`, the last status slot being `other`.
    requests: Vec<[AtomicU64; STATUSES.len() + 1]>,
    /// `[op][accepted, rejected]`.
    ops: [[AtomicU64; 2]; OpKind::ALL.len()],
    intake_depth: AtomicI64,
    pub log_entries: AtomicU64,
    pub log_bytes: AtomicU64,
    pub commits: AtomicU64,
    pub sync_seconds: Histogram<14>,
    /// From a request entering the intake to its reply being released: the router's share
    /// of a request's latency (engine queue, engine, group commit), without HTTP.
    pub router_seconds: Histogram<14>,
    /// The engine's time to apply one batch of requests.
    pub engine_batch_seconds: Histogram<14>,
    pub commit_entries: Histogram<10>,
    /// The engine's pause to copy itself for a snapshot, and the time to encode and write it.
    pub snapshot_copy_seconds: Histogram<14>,
    pub snapshot_write_seconds: Histogram<14>,
    /// Size of the last snapshot written (0 before the first), which paces the next one.
    pub snapshot_bytes: AtomicU64,
    pub stream_subscribers: AtomicI64,
    pub stream_lagged: AtomicU64,
    pub rate_limited: AtomicU64,
    pub intake_full: AtomicU64,
}

impl Metrics {
    /// `routes` are the API's route patterns, in the order handlers report them by index.
    pub fn new(routes: Vec<&'static str>) -> Metrics {
        Metrics {
            requests: routes
                .iter()
                .map(|_| std::array::from_fn(|_| AtomicU64::new(0)))
                .collect(),
            routes,
            ops: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            intake_depth: AtomicI64::new(0),
            log_entries: AtomicU64::new(0),
            log_bytes: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            sync_seconds: Histogram::new(LATENCY_BOUNDS),
            router_seconds: Histogram::new(LATENCY_BOUNDS),
            engine_batch_seconds: Histogram::new(LATENCY_BOUNDS),
            commit_entries: Histogram::new(BATCH_BOUNDS),
            snapshot_copy_seconds: Histogram::new(LATENCY_BOUNDS),
            snapshot_write_seconds: Histogram::new(LATENCY_BOUNDS),
            snapshot_bytes: AtomicU64::new(0),
            stream_subscribers: AtomicI64::new(0),
            stream_lagged: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            intake_full: AtomicU64::new(0),
        }
    }

    pub fn count_request(&self, route: usize, status: u16) {
        if let Some(slots) = self.requests.get(route) {
            let i = STATUSES
                .iter()
                .position(|&s| s == status)
                .unwrap_or(STATUSES.len());
            slots[i].fetch_add(1, Relaxed);
        }
    }

    pub fn count_op(&self, op: &Op, answer: &Answer) {
        self.ops[op.kind() as usize][usize::from(answer.is_err())].fetch_add(1, Relaxed);
    }

    /// Reserves `n` places in an intake of `capacity` (requests, a batch one per contact);
    /// false, reserving nothing, if they do not fit.
    pub fn intake_reserve(&self, n: usize, capacity: usize) -> bool {
        let n = n as i64;
        let before = self.intake_depth.fetch_add(n, Relaxed);
        if before + n > capacity as i64 {
            self.intake_depth.fetch_sub(n, Relaxed);
            return false;
        }
        true
    }

    pub fn intake_depth_add(&self, n: i64) {
        self.intake_depth.fetch_add(n, Relaxed);
    }

    /// The whole exposition: the daemon's own series, then the routing state in `stats`.
    pub fn render(&self, stats: &StatsOut) -> String {
        let mut out = String::with_capacity(8192);
        let _ = writeln!(
            out,
            "# HELP peakcrew_http_requests_total HTTP requests answered, by route and status.\n# TYPE peakcrew_http_requests_total counter"
        );
        for (route, slots) in self.routes.iter().zip(&self.requests) {
            for (i, c) in slots.iter().enumerate() {
                let n = c.load(Relaxed);
                if n > 0 {
                    let status = STATUSES
                        .get(i)
                        .map_or("other".to_string(), |s| s.to_string());
                    let _ = writeln!(
                        out,
                        "peakcrew_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP peakcrew_commands_total State-changing requests, by operation and outcome.\n# TYPE peakcrew_commands_total counter"
        );
        for (op, slots) in OpKind::ALL.iter().zip(&self.ops) {
            for (outcome, c) in ["accepted", "rejected"].iter().zip(slots) {
                let _ = writeln!(
                    out,
                    "peakcrew_commands_total{{op=\"{}\",outcome=\"{outcome}\"}} {}",
                    op.name(),
                    c.load(Relaxed)
                );
            }
        }
        let gauges: [(&str, &str, &str, i64); 10] = [
            (
                "peakcrew_intake_depth",
                "gauge",
                "Requests waiting for the router.",
                self.intake_depth.load(Relaxed),
            ),
            (
                "peakcrew_log_entries_total",
                "counter",
                "Records appended to the durable log by this process.",
                self.log_entries.load(Relaxed) as i64,
            ),
            (
                "peakcrew_log_bytes_total",
                "counter",
                "Bytes appended to the durable log by this process.",
                self.log_bytes.load(Relaxed) as i64,
            ),
            (
                "peakcrew_commits_total",
                "counter",
                "Group commits (one write and sync each).",
                self.commits.load(Relaxed) as i64,
            ),
            (
                "peakcrew_snapshot_bytes",
                "gauge",
                "Size of the last snapshot this process wrote (0 before the first).",
                self.snapshot_bytes.load(Relaxed) as i64,
            ),
            (
                "peakcrew_stream_subscribers",
                "gauge",
                "Open event and assignment streams.",
                self.stream_subscribers.load(Relaxed),
            ),
            (
                "peakcrew_stream_lagged_events_total",
                "counter",
                "Events a slow stream subscriber missed.",
                self.stream_lagged.load(Relaxed) as i64,
            ),
            (
                "peakcrew_rate_limited_total",
                "counter",
                "Requests refused by a token's rate limit.",
                self.rate_limited.load(Relaxed) as i64,
            ),
            (
                "peakcrew_intake_full_total",
                "counter",
                "Requests refused because the intake queue was full.",
                self.intake_full.load(Relaxed) as i64,
            ),
            (
                "peakcrew_log_records",
                "gauge",
                "Records in the durable log, recovered ones included.",
                stats.log_entries as i64,
            ),
        ];
        for (name, kind, help, v) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        self.sync_seconds.render(
            &mut out,
            "peakcrew_log_sync_seconds",
            "Time to write and sync one group commit.",
        );
        self.router_seconds.render(
            &mut out,
            "peakcrew_router_seconds",
            "From a request entering the router's intake to its reply being released (engine queue, engine and group commit; no HTTP).",
        );
        self.engine_batch_seconds.render(
            &mut out,
            "peakcrew_engine_batch_seconds",
            "Time the engine took to apply one batch of requests.",
        );
        self.commit_entries.render(
            &mut out,
            "peakcrew_commit_entries",
            "Log records per group commit.",
        );
        self.snapshot_copy_seconds.render(
            &mut out,
            "peakcrew_snapshot_copy_seconds",
            "Time the engine paused to copy its state for a snapshot.",
        );
        self.snapshot_write_seconds.render(
            &mut out,
            "peakcrew_snapshot_write_seconds",
            "Time to encode, write and sync one snapshot.",
        );
        let _ = writeln!(
            out,
            "# HELP peakcrew_queue_waiting Contacts waiting, by queue.\n# TYPE peakcrew_queue_waiting gauge"
        );
        for q in &stats.queues {
            let _ = writeln!(
                out,
                "peakcrew_queue_waiting{{queue=\"{}\"}} {}",
                q.queue, q.waiting
            );
        }
        let _ = writeln!(
            out,
            "# HELP peakcrew_queue_longest_wait_seconds Age of the oldest waiting contact, by queue.\n# TYPE peakcrew_queue_longest_wait_seconds gauge"
        );
        for q in &stats.queues {
            let w = q.longest_wait_ms.unwrap_or(0) as f64 / 1000.0;
            let _ = writeln!(
                out,
                "peakcrew_queue_longest_wait_seconds{{queue=\"{}\"}} {w}",
                q.queue
            );
        }
        for (name, help, pick) in [
            (
                "peakcrew_queue_offered_total",
                "Contacts that arrived in the queue (the tally's offered).",
                0,
            ),
            (
                "peakcrew_queue_answered_total",
                "Contacts that arrived in the queue and were answered (first acceptance).",
                1,
            ),
            (
                "peakcrew_queue_answered_within_target_total",
                "Of those, answered within the queue's answer target.",
                2,
            ),
            (
                "peakcrew_queue_abandoned_total",
                "Contacts that arrived in the queue and left before an answer.",
                3,
            ),
            (
                "peakcrew_queue_short_abandoned_total",
                "Of those, abandoned within the queue's short-abandon threshold.",
                4,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for q in &stats.queues {
                let v = [
                    q.offered,
                    q.answered,
                    q.answered_within_target,
                    q.abandoned,
                    q.short_abandoned,
                ][pick];
                let _ = writeln!(out, "{name}{{queue=\"{}\"}} {v}", q.queue);
            }
        }
        let _ = writeln!(
            out,
            "# HELP peakcrew_agents Agents by state.\n# TYPE peakcrew_agents gauge"
        );
        for (state, n) in &stats.agents {
            let _ = writeln!(out, "peakcrew_agents{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP peakcrew_live_contacts Contacts not yet completed or abandoned.\n# TYPE peakcrew_live_contacts gauge\npeakcrew_live_contacts {}",
            stats.live_contacts
        );
        out
    }
}
