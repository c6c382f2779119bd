//! Simulator speed targets (issue 7), single-threaded, one replication per iteration:
//!
//! - `double11_day`: the bundled scenario's Double-11 day (11 November 2026) with 1,000,000
//!   contacts and 2,000 rostered agents (`sim::workload::day`), through the routing policy of
//!   `config/router.toml`, default behaviour (lognormal handle times, exponential patience,
//!   2 s accept delay). Target: under 2 s. Throughput is reported in events per second.
//! - `mmc_100k`: one M/M/c queue, 200 contacts/h, AHT 180 s, 14 agents, T = 20 s, 100,000
//!   contacts — the case `../shared/reference/ciw_mmc.py 200 180 14 20 inf 100000 1` runs in
//!   Python's ciw.
//!
//! Run with `cargo bench --bench sim`.

use std::path::Path;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use peakcrew_plan::scenario::Scenario;
use peakcrew_serve::config::load_policy;
use peakcrew_sim::{self as sim, SimOptions, SingleQueue};

fn double11_day(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&root.join("scenarios/double11.toml")).expect("bundled scenario");
    let catalog = scenario.catalog();
    let policy =
        load_policy(&root.join("config/router.toml"), &catalog).expect("valid router.toml");
    let date = NaiveDate::from_ymd_opt(2026, 11, 11).expect("date");
    let day =
        sim::workload::day(&scenario, &policy, date, 1_000_000.0, 2_000, 11).expect("workload");
    let options = SimOptions {
        replications: 1,
        threads: 1,
        chat_stretch: scenario.staffing.chat_stretch,
        ..SimOptions::default()
    };
    let run =
        || sim::simulate(&catalog, &policy, &day.rates, &day.roster, &options).expect("simulation");
    let probe = run();
    let agents: std::collections::BTreeSet<&str> =
        day.roster.iter().map(|s| s.agent.as_str()).collect();
    eprintln!(
        "double11_day: {} contacts, {} agents, AHT scale {:.3}, {} events, service level {:.3}, abandon rate {:.3}, occupancy {:.3}, rejected {}",
        probe.counters.contacts,
        agents.len(),
        day.aht_scale,
        probe.counters.events,
        probe.overall.service_level.map_or(f64::NAN, |e| e.mean),
        probe.overall.abandonment_rate.map_or(f64::NAN, |e| e.mean),
        probe.overall.occupancy.map_or(f64::NAN, |e| e.mean),
        probe.counters.rejected_commands,
    );
    report_cpu_time("double11_day", probe.counters.events, &run);
    let mut group = c.benchmark_group("sim");
    group.sample_size(10);
    group.throughput(Throughput::Elements(probe.counters.events));
    group.bench_function("double11_day", |b| b.iter(run));
    group.finish();
}

/// CPU seconds this process has used (user + system), from /proc/self/stat; `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Wall time depends on what else the machine runs; CPU time of a few runs does not (much).
fn report_cpu_time<T>(name: &str, events: u64, run: &impl Fn() -> T) {
    let (Some(before), wall) = (cpu_seconds(), std::time::Instant::now()) else {
        return;
    };
    const RUNS: u32 = 3;
    for _ in 0..RUNS {
        criterion::black_box(run());
    }
    let wall = wall.elapsed().as_secs_f64() / f64::from(RUNS);
    if let Some(after) = cpu_seconds() {
        let cpu = (after - before) / f64::from(RUNS);
        eprintln!(
            "{name}: {cpu:.2} s CPU per run ({:.2} M events per CPU second), {wall:.2} s wall",
            events as f64 / cpu / 1e6
        );
    }
}

fn mmc_100k(c: &mut Criterion) {
    let queue = SingleQueue {
        rate_per_hour: 200.0,
        aht_seconds: 180.0,
        agents: 14,
        answer_seconds: 20.0,
        patience_seconds: None,
        contacts: 100_000,
    };
    let options = SimOptions {
        replications: 1,
        threads: 1,
        ..SimOptions::default()
    };
    let probe = sim::simulate_queue(&queue, &options).expect("simulation");
    eprintln!(
        "mmc_100k: {} contacts counted, {} events, service level {:.4}, ASA {:.2} s",
        probe.overall.offered,
        probe.counters.events,
        probe.overall.service_level.map_or(f64::NAN, |e| e.mean),
        probe.overall.asa_seconds.map_or(f64::NAN, |e| e.mean),
    );
    report_cpu_time("mmc_100k", probe.counters.events, &|| {
        sim::simulate_queue(&queue, &options).expect("simulation")
    });
    let mut group = c.benchmark_group("sim");
    group.sample_size(20);
    group.throughput(Throughput::Elements(probe.counters.events));
    group.bench_function("mmc_100k", |b| {
        b.iter(|| sim::simulate_queue(&queue, &options).expect("simulation"))
    });
    group.finish();
}

criterion_group!(benches, double11_day, mmc_100k);
criterion_main!(benches);
