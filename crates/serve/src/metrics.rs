//! What the daemon counts, and `/metrics`: its Prometheus text exposition (format 0.0.4),
//! written by the `prometheus-client` crate.
//!
//! Counting must not cost throughput, so every series the daemon counts is a fixed slot known
//! at start (routes, status codes, operations) or a lone lock-free atomic; nothing is allocated
//! or locked per request. That is why the histograms and the per-route and per-operation tables
//! are this module's own atomics rather than `prometheus-client`'s `Histogram` (a mutex per
//! observation) and `Family` (a locked map lookup per increment); the lone counters and gauges
//! are the crate's `Counter` and `Gauge`, which are plain atomics already (`Gauge` holds an
//! `i64`, so the intake depth, which a refused reservation briefly overshoots, needs no cast).
//!
//! The text itself — names, `_total` on counters, HELP and TYPE lines, bucket bounds, number
//! formats and the escaping of label values (a queue id may hold `"`, `\` or a newline) — is
//! the crate's. Each scrape builds a fresh `Registry` holding two collectors: one reads the
//! daemon's atomics, the other owns the stats snapshot (`StatsOut`) the engine answered for
//! this scrape and turns it into the per-queue and per-agent-state series. A fresh registry
//! costs two boxes per scrape, and keeps the snapshot out of any long-lived shared state: a
//! registry kept for the process would need the snapshot behind a lock, and its queue and
//! state label sets change with the routing state anyway.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::engine::Answer;
use super::wire::{Op, OpKind, StatsOut};

/// The `Content-Type` of what [`Metrics::render`] writes.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

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

#[derive(Debug)]
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
}

impl<const N: usize> EncodeMetric for Histogram<N> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        // Per-bucket counts; the encoder makes them cumulative and adds `+Inf` itself.
        let buckets: Vec<(f64, u64)> = self
            .bounds
            .iter()
            .zip(&self.counts)
            .map(|(b, c)| (*b, c.load(Relaxed)))
            .collect();
        let count = buckets.iter().map(|(_, c)| c).sum::<u64>() + self.over.load(Relaxed);
        let sum = self.sum_micro.load(Relaxed) as f64 / 1e6;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

#[derive(Debug)]
pub struct Metrics {
    routes: Vec<&'static str>,
    /// `[route][status]`, the last status slot being `other`.
    requests: Vec<[AtomicU64; STATUSES.len() + 1]>,
    /// `[op][accepted, rejected]`.
    ops: [[AtomicU64; 2]; OpKind::ALL.len()],
    intake_depth: Gauge,
    pub log_entries: Counter,
    pub log_bytes: Counter,
    pub commits: Counter,
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
    pub snapshot_bytes: Gauge<u64, AtomicU64>,
    pub stream_subscribers: Gauge,
    pub stream_lagged: Counter,
    pub rate_limited: Counter,
    pub intake_full: Counter,
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
            intake_depth: Gauge::default(),
            log_entries: Counter::default(),
            log_bytes: Counter::default(),
            commits: Counter::default(),
            sync_seconds: Histogram::new(LATENCY_BOUNDS),
            router_seconds: Histogram::new(LATENCY_BOUNDS),
            engine_batch_seconds: Histogram::new(LATENCY_BOUNDS),
            commit_entries: Histogram::new(BATCH_BOUNDS),
            snapshot_copy_seconds: Histogram::new(LATENCY_BOUNDS),
            snapshot_write_seconds: Histogram::new(LATENCY_BOUNDS),
            snapshot_bytes: Gauge::default(),
            stream_subscribers: Gauge::default(),
            stream_lagged: Counter::default(),
            rate_limited: Counter::default(),
            intake_full: Counter::default(),
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
        let before = self.intake_depth.inc_by(n);
        if before + n > capacity as i64 {
            self.intake_depth.dec_by(n);
            return false;
        }
        true
    }

    pub fn intake_depth_add(&self, n: i64) {
        self.intake_depth.inc_by(n);
    }

    /// The whole exposition: the daemon's own series, then the routing state in `stats`.
    pub fn render(self: &Arc<Self>, stats: StatsOut) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Own(self.clone())));
        registry.register_collector(Box::new(Routing(stats)));
        let mut out = String::with_capacity(8192);
        // Writing to a String cannot fail, and every collector here only writes.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }
}

/// Writes one unlabelled series.
fn one(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric: &dyn EncodeMetric,
) -> Result<(), std::fmt::Error> {
    metric.encode(enc.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// Writes a family: one series per label set.
fn family<L: EncodeLabelSet, M: EncodeMetric>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    series: impl IntoIterator<Item = (L, M)>,
) -> Result<(), std::fmt::Error> {
    let mut metric = enc.encode_descriptor(name, help, None, kind)?;
    for (labels, m) in series {
        m.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// The daemon's own series, read from its atomics at scrape time.
#[derive(Debug)]
struct Own(Arc<Metrics>);

impl Collector for Own {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let m = &*self.0;
        let requests = m.routes.iter().zip(&m.requests).flat_map(|(route, slots)| {
            slots.iter().enumerate().filter_map(move |(i, c)| {
                let n = c.load(Relaxed);
                let status = STATUSES.get(i).map_or("other".into(), u16::to_string);
                (n > 0).then(|| ([("route", route.to_string()), ("status", status)], n))
            })
        });
        family(
            &mut enc,
            "peakcrew_http_requests",
            "HTTP requests answered, by route and status.",
            MetricType::Counter,
            requests.map(|(labels, n)| (labels, ConstCounter::new(n))),
        )?;
        let commands = OpKind::ALL.iter().zip(&m.ops).flat_map(|(op, slots)| {
            ["accepted", "rejected"]
                .into_iter()
                .zip(slots)
                .map(|(outcome, c)| {
                    let labels = [("op", op.name()), ("outcome", outcome)];
                    (labels, ConstCounter::new(c.load(Relaxed)))
                })
        });
        family(
            &mut enc,
            "peakcrew_commands",
            "State-changing requests, by operation and outcome.",
            MetricType::Counter,
            commands,
        )?;
        let series: [(&str, &str, &dyn EncodeMetric); 15] = [
            (
                "peakcrew_intake_depth",
                "Requests waiting for the router.",
                &m.intake_depth,
            ),
            (
                "peakcrew_log_entries",
                "Records appended to the durable log by this process.",
                &m.log_entries,
            ),
            (
                "peakcrew_log_bytes",
                "Bytes appended to the durable log by this process.",
                &m.log_bytes,
            ),
            (
                "peakcrew_commits",
                "Group commits (one write and sync each).",
                &m.commits,
            ),
            (
                "peakcrew_snapshot_bytes",
                "Size of the last snapshot this process wrote (0 before the first).",
                &m.snapshot_bytes,
            ),
            (
                "peakcrew_stream_subscribers",
                "Open event and assignment streams.",
                &m.stream_subscribers,
            ),
            (
                "peakcrew_stream_lagged_events",
                "Events a slow stream subscriber missed.",
                &m.stream_lagged,
            ),
            (
                "peakcrew_rate_limited",
                "Requests refused by a token's rate limit.",
                &m.rate_limited,
            ),
            (
                "peakcrew_intake_full",
                "Requests refused because the intake queue was full.",
                &m.intake_full,
            ),
            (
                "peakcrew_log_sync_seconds",
                "Time to write and sync one group commit.",
                &m.sync_seconds,
            ),
            (
                "peakcrew_router_seconds",
                "From a request entering the router's intake to its reply being released (engine queue, engine and group commit; no HTTP).",
                &m.router_seconds,
            ),
            (
                "peakcrew_engine_batch_seconds",
                "Time the engine took to apply one batch of requests.",
                &m.engine_batch_seconds,
            ),
            (
                "peakcrew_commit_entries",
                "Log records per group commit.",
                &m.commit_entries,
            ),
            (
                "peakcrew_snapshot_copy_seconds",
                "Time the engine paused to copy its state for a snapshot.",
                &m.snapshot_copy_seconds,
            ),
            (
                "peakcrew_snapshot_write_seconds",
                "Time to encode, write and sync one snapshot.",
                &m.snapshot_write_seconds,
            ),
        ];
        for (name, help, metric) in series {
            one(&mut enc, name, help, metric)?;
        }
        Ok(())
    }
}

/// The routing state's series, from the stats snapshot taken for this scrape.
#[derive(Debug)]
struct Routing(StatsOut);

impl Collector for Routing {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = &self.0;
        let queue = |q: &super::wire::QueueStatsOut| [("queue", q.queue.to_string())];
        one(
            &mut enc,
            "peakcrew_log_records",
            "Records in the durable log, recovered ones included.",
            &ConstGauge::new(stats.log_entries),
        )?;
        family(
            &mut enc,
            "peakcrew_queue_waiting",
            "Contacts waiting, by queue.",
            MetricType::Gauge,
            stats
                .queues
                .iter()
                .map(|q| (queue(q), ConstGauge::new(q.waiting))),
        )?;
        family(
            &mut enc,
            "peakcrew_queue_longest_wait_seconds",
            "Age of the oldest waiting contact, by queue.",
            MetricType::Gauge,
            stats.queues.iter().map(|q| {
                let w = q.longest_wait_ms.unwrap_or(0) as f64 / 1000.0;
                (queue(q), ConstGauge::new(w))
            }),
        )?;
        type Pick = fn(&super::wire::QueueStatsOut) -> u64;
        let tallies: [(&str, &str, Pick); 5] = [
            (
                "peakcrew_queue_offered",
                "Contacts that arrived in the queue (the tally's offered).",
                |q| q.offered,
            ),
            (
                "peakcrew_queue_answered",
                "Contacts that arrived in the queue and were answered (first acceptance).",
                |q| q.answered,
            ),
            (
                "peakcrew_queue_answered_within_target",
                "Of those, answered within the queue's answer target.",
                |q| q.answered_within_target,
            ),
            (
                "peakcrew_queue_abandoned",
                "Contacts that arrived in the queue and left before an answer.",
                |q| q.abandoned,
            ),
            (
                "peakcrew_queue_short_abandoned",
                "Of those, abandoned within the queue's short-abandon threshold.",
                |q| q.short_abandoned,
            ),
        ];
        for (name, help, pick) in tallies {
            let series = stats
                .queues
                .iter()
                .map(|q| (queue(q), ConstCounter::new(pick(q))));
            family(&mut enc, name, help, MetricType::Counter, series)?;
        }
        family(
            &mut enc,
            "peakcrew_agents",
            "Agents by state.",
            MetricType::Gauge,
            stats
                .agents
                .iter()
                .map(|(state, n)| ([("state", *state)], ConstGauge::new(*n))),
        )?;
        one(
            &mut enc,
            "peakcrew_live_contacts",
            "Contacts not yet completed or abandoned.",
            &ConstGauge::new(stats.live_contacts as u64),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::QueueStatsOut;
    use peakcrew_core::model::Channel;

    fn stats_with_queue(queue: &str) -> StatsOut {
        StatsOut {
            now_ms: 0,
            epoch_unix_ms: 0,
            queues: vec![QueueStatsOut {
                queue: queue.into(),
                channel: Channel::Phone,
                skill: "s".into(),
                language: None,
                answer_target_ms: 20_000,
                waiting: 3,
                longest_wait_ms: Some(1500),
                offered: 2,
                answered: 1,
                answered_within_target: 1,
                abandoned: 1,
                short_abandoned: 0,
                service_level: None,
                service_level_excluding_short_abandons: None,
                asa_seconds: None,
                mean_wait_seconds: None,
                abandonment_rate: None,
            }],
            agents: [("busy", 1)].into_iter().collect(),
            live_contacts: 3,
            contacts_created: 4,
            log_entries: 9,
            state_digest: None,
            engine_digest: None,
        }
    }

    /// A sample: name, labels (values unescaped) and value.
    type Sample = (String, Vec<(String, String)>, f64);

    /// Parses a sample line of the text format (`name{k="v",...} value`), unescaping label
    /// values; `None` if the line is not one.
    fn sample(line: &str) -> Option<Sample> {
        let name_end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))?;
        let (name, mut rest) = line.split_at(name_end);
        let mut labels = Vec::new();
        if let Some(r) = rest.strip_prefix('{') {
            rest = r;
            loop {
                if let Some(r) = rest.strip_prefix('}') {
                    rest = r;
                    break;
                }
                let (key, r) = rest.split_once("=\"")?;
                let mut value = String::new();
                let mut chars = r.char_indices();
                let end = loop {
                    match chars.next()? {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next()?.1 {
                            'n' => value.push('\n'),
                            c @ ('\\' | '"') => value.push(c),
                            _ => return None,
                        },
                        (_, '\n') => return None,
                        (_, c) => value.push(c),
                    }
                };
                labels.push((key.to_string(), value));
                rest = &r[end + 1..];
                rest = rest.strip_prefix(',').unwrap_or(rest);
            }
        }
        let value = rest.strip_prefix(' ')?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().ok()?,
        };
        (!name.is_empty()).then(|| (name.to_string(), labels, value))
    }

    #[test]
    fn label_values_are_escaped_and_the_exposition_parses() {
        let metrics = Arc::new(Metrics::new(vec!["/v1/contacts"]));
        metrics.count_request(0, 201);
        metrics.router_seconds.observe(0.003);
        let nasty = "zh\"hot\\line\nq";
        let text = metrics.render(stats_with_queue(nasty));
        assert!(
            text.contains(r#"peakcrew_queue_offered_total{queue="zh\"hot\\line\nq"} 2"#),
            "{text}"
        );
        let mut samples = Vec::new();
        for line in text.lines() {
            if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
                continue;
            }
            let parsed = sample(line);
            assert!(parsed.is_some(), "not a sample line: {line:?}\n{text}");
            samples.extend(parsed);
        }
        // The escaped value reads back as the queue id it was.
        let waiting = samples
            .iter()
            .find(|(n, _, _)| n == "peakcrew_queue_waiting")
            .unwrap();
        assert_eq!(waiting.1, vec![("queue".to_string(), nasty.to_string())]);
        assert_eq!(waiting.2, 3.0);
    }

    #[test]
    fn the_exposition_keeps_its_names_types_and_buckets() {
        let metrics = Arc::new(Metrics::new(vec!["/v1/contacts"]));
        metrics.count_request(0, 201);
        metrics.count_request(0, 299);
        metrics.router_seconds.observe(0.003);
        metrics.router_seconds.observe(9.0);
        metrics.commit_entries.observe(300.0);
        metrics.intake_depth_add(-2);
        let text = metrics.render(stats_with_queue("zh-hotline"));
        for line in [
            "# TYPE peakcrew_http_requests_total counter",
            r#"peakcrew_http_requests_total{route="/v1/contacts",status="201"} 1"#,
            r#"peakcrew_http_requests_total{route="/v1/contacts",status="other"} 1"#,
            r#"peakcrew_commands_total{op="create",outcome="accepted"} 0"#,
            r#"peakcrew_commands_total{op="state",outcome="rejected"} 0"#,
            "# TYPE peakcrew_intake_depth gauge",
            "peakcrew_intake_depth -2",
            "# TYPE peakcrew_log_entries_total counter",
            "peakcrew_log_entries_total 0",
            "peakcrew_stream_lagged_events_total 0",
            "# TYPE peakcrew_router_seconds histogram",
            r#"peakcrew_router_seconds_bucket{le="0.0025"} 0"#,
            r#"peakcrew_router_seconds_bucket{le="0.005"} 1"#,
            r#"peakcrew_router_seconds_bucket{le="5"} 1"#,
            r#"peakcrew_router_seconds_bucket{le="+Inf"} 2"#,
            "peakcrew_router_seconds_count 2",
            r#"peakcrew_commit_entries_bucket{le="262144"} 1"#,
            r#"peakcrew_log_sync_seconds_bucket{le="0.0001"} 0"#,
            "peakcrew_log_records 9",
            r#"peakcrew_queue_waiting{queue="zh-hotline"} 3"#,
            r#"peakcrew_queue_longest_wait_seconds{queue="zh-hotline"} 1.5"#,
            "# TYPE peakcrew_queue_offered_total counter",
            r#"peakcrew_queue_offered_total{queue="zh-hotline"} 2"#,
            r#"peakcrew_queue_short_abandoned_total{queue="zh-hotline"} 0"#,
            r#"peakcrew_agents{state="busy"} 1"#,
            "peakcrew_live_contacts 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Every latency histogram has its 14 bounds and +Inf, the batch one its 10 and +Inf.
        let buckets = |name: &str| {
            let prefix = format!("{name}_bucket{{");
            text.lines().filter(|l| l.starts_with(&prefix)).count()
        };
        for name in [
            "peakcrew_log_sync_seconds",
            "peakcrew_router_seconds",
            "peakcrew_engine_batch_seconds",
            "peakcrew_snapshot_copy_seconds",
            "peakcrew_snapshot_write_seconds",
        ] {
            assert_eq!(buckets(name), 15, "{name}");
        }
        assert_eq!(buckets("peakcrew_commit_entries"), 11);
    }
}
