//! Staffing speed: issue 3 asks for the requirements of 20 queues × 8 weeks × 96 intervals
//! (107,520 cells) in under 200 ms single-threaded.
//!
//! Workload: the bundled Double-11 scenario's 10 queues twice over (the copies get the ids
//! `<id>-b` and the same event shapes), 8 weeks of 15-minute loads from `history::generate`
//! (seed 11) with the horizon moved to 2026-11-20 so that the 8 weeks run from 25 September to
//! 19 November and hold the pre-event ramp, Double-11 itself (×3.3 with the ×5 midnight spike)
//! and the after-sales wave: the heaviest stretch of the year. The loads are history, not a
//! forecast, so they carry interval-to-interval noise, which makes the warm start's
//! predictions harder than a smooth forecast would. 14 of the 20 queues are Erlang A (chat
//! with concurrency 2–3 and the hotline, 75,264 cells, ~70 servers per cell on average, over
//! 1,000 at the peak), 6 are deferred (email, social, complaints).
//!
//! * `requirements/20q_8w_96i`: `requirements::requirements` end to end, all 107,520 cells.
//! * `erlang_a_sizing/required_agents`: the 75,264 Erlang A cells, each sized cold.
//! * `erlang_a_sizing/sizer`: the same cells through one `Sizer` per queue, in time order.
//!
//! Each is measured twice: in wall-clock time (criterion's default), and in the CPU time of
//! the benchmarking thread (groups ending in `_cpu`, Linux only), which is what one
//! single-threaded run costs whatever else the machine is doing. On a quiet machine the two
//! agree; on a shared one (2 cores, other builds running) the wall clock also counts the
//! time the thread waited for a core.
//!
//! Run: `cargo bench --bench staffing`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use peakcrew_core::model::chat_stretch;
use peakcrew_core::model::SlaTarget;
use peakcrew_plan::history;
use peakcrew_plan::scenario::Scenario;
use peakcrew_plan::staffing::erlang::{self, Load, Target};
use peakcrew_plan::staffing::requirements::{self, IntervalLoad};

/// CPU time of the calling thread, from the scheduler's accounting in
/// `/proc/thread-self/schedstat` (first field, nanoseconds on a CPU).
struct ThreadCpuTime {
    wall: WallTime,
}

const SCHEDSTAT: &str = "/proc/thread-self/schedstat";

fn thread_cpu_nanos() -> Option<u64> {
    let text = std::fs::read_to_string(SCHEDSTAT).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        thread_cpu_nanos().expect("checked readable before the group runs")
    }
    fn end(&self, start: u64) -> Duration {
        let now = thread_cpu_nanos().expect("checked readable before the group runs");
        Duration::from_nanos(now.saturating_sub(start))
    }
    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}

const WEEKS: u32 = 8;
const SEED: u64 = 11;

/// The 20-queue scenario and its 107,520 interval loads.
fn workload() -> (Scenario, Vec<IntervalLoad>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/double11.toml");
    let mut scenario = Scenario::load(&path).expect("bundled scenario loads");
    scenario.horizon.start = NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid date");
    let copies: Vec<_> = scenario
        .queues
        .iter()
        .map(|q| {
            let mut c = q.clone();
            c.id = format!("{}-b", q.id);
            c
        })
        .collect();
    for event in &mut scenario.events {
        let scaled: Vec<_> = event
            .queues
            .iter()
            .map(|(id, scale)| (format!("{id}-b"), *scale))
            .collect();
        event.queues.extend(scaled);
    }
    scenario.queues.extend(copies);
    assert_eq!(scenario.queues.len(), 20);

    let minutes = scenario.interval_minutes;
    let loads: Vec<IntervalLoad> = history::generate(&scenario, WEEKS, SEED)
        .into_iter()
        .map(|row| {
            let nominal = scenario
                .queue(&row.queue)
                .expect("generated queue")
                .aht_seconds;
            IntervalLoad {
                aht_seconds: row.aht_seconds.unwrap_or(nominal),
                queue: row.queue,
                start: row.start,
                interval_minutes: minutes,
                contacts: row.contacts,
            }
        })
        .collect();
    assert_eq!(loads.len(), 20 * 8 * 7 * 96);
    (scenario, loads)
}

/// One Erlang A cell as `requirements` poses it: stretched load, target, reporting time, cap, θ.
struct Cell {
    /// First cell of its queue.
    queue_start: bool,
    load: Load,
    target: Target,
    answer: f64,
    cap: f64,
    patience: f64,
}

/// The Erlang A cells of the workload, each queue's in time order.
fn erlang_a_cells(scenario: &Scenario, loads: &[IntervalLoad]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for queue in &scenario.queues {
        let (
            Some(patience),
            SlaTarget::ServiceLevel {
                fraction,
                answer_seconds,
            },
        ) = (queue.patience_seconds, queue.sla)
        else {
            continue;
        };
        let stretch = chat_stretch(queue.concurrency, scenario.staffing.chat_stretch);
        let mut rows: Vec<&IntervalLoad> = loads.iter().filter(|l| l.queue == queue.id).collect();
        rows.sort_by_key(|r| r.start);
        for (i, r) in rows.into_iter().enumerate() {
            let aht = if r.contacts > 0.0 {
                r.aht_seconds
            } else {
                queue.aht_seconds
            };
            cells.push(Cell {
                queue_start: i == 0,
                load: Load {
                    rate_per_hour: r.contacts * 60.0 / f64::from(r.interval_minutes),
                    aht_seconds: aht * stretch,
                },
                target: Target::ServiceLevel {
                    fraction,
                    answer_seconds,
                },
                answer: answer_seconds,
                cap: scenario.max_occupancy_of(queue),
                patience,
            });
        }
    }
    cells
}

fn bench_requirements<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    let (scenario, loads) = workload();
    let mut group = c.benchmark_group(format!("requirements{suffix}"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(loads.len() as u64));
    group.bench_function("20q_8w_96i", |b| {
        b.iter(|| requirements::requirements(black_box(&scenario), black_box(&loads)).unwrap())
    });
    group.finish();
}

fn bench_erlang_a<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    let (scenario, loads) = workload();
    let cells = erlang_a_cells(&scenario, &loads);
    let mut group = c.benchmark_group(format!("erlang_a_sizing{suffix}"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(cells.len() as u64));
    group.bench_function("required_agents", |b| {
        b.iter(|| {
            let mut total = 0u64;
            for cell in &cells {
                let m = erlang::required_agents(
                    black_box(&cell.load),
                    &cell.target,
                    cell.answer,
                    cell.cap,
                    Some(cell.patience),
                )
                .unwrap();
                total += u64::from(m.agents);
            }
            total
        })
    });
    group.bench_function("sizer", |b| {
        b.iter(|| {
            let mut total = 0u64;
            let mut sizer = erlang::Sizer::new();
            for cell in &cells {
                if cell.queue_start {
                    sizer = erlang::Sizer::new(); // one sizer per queue, as `requirements` does
                }
                let m = sizer
                    .required_agents(
                        black_box(&cell.load),
                        &cell.target,
                        cell.answer,
                        cell.cap,
                        Some(cell.patience),
                    )
                    .unwrap();
                total += u64::from(m.agents);
            }
            total
        })
    });
    group.finish();
}

fn wall_clock(c: &mut Criterion) {
    bench_requirements(c, "");
    bench_erlang_a(c, "");
}

fn thread_cpu(c: &mut Criterion<ThreadCpuTime>) {
    if thread_cpu_nanos().is_none() {
        eprintln!("skipping the _cpu groups: {SCHEDSTAT} is not readable here");
        return;
    }
    bench_requirements(c, "_cpu");
    bench_erlang_a(c, "_cpu");
}

criterion_group!(wall, wall_clock);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime { wall: WallTime });
    targets = thread_cpu
}
criterion_main!(wall, cpu);
