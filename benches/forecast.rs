//! Fit plus 8 weeks ahead for 2 years of 15-minute history over 20 queues, single-threaded,
//! from history rows in memory (order check, grid layout, 20 fits, 107,520 forecast rows with
//! bands). Target: under 1 s in release: `cargo bench --bench forecast`.
//!
//! Measured on the 2-core build machine while other builds kept its load average at 7-12:
//! 0.79-1.10 s wall per iteration; the thread's own CPU time (from /proc/thread-self/schedstat)
//! was 0.28-0.33 s, which is what an unloaded core takes.

use std::path::Path;

use chrono::Duration;
use criterion::{criterion_group, criterion_main, Criterion};
use peakcrew_plan::forecast::forecast_scenario;
use peakcrew_plan::history::{self, History};
use peakcrew_plan::scenario::Scenario;

fn twenty_queue_scenario() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/double11.toml");
    let mut sc = Scenario::load(&path).expect("bundled scenario loads");
    let copies: Vec<_> = sc
        .queues
        .iter()
        .map(|q| {
            let mut c = q.clone();
            c.id = format!("{}-b", q.id);
            c
        })
        .collect();
    sc.queues.extend(copies);
    assert_eq!(sc.queues.len(), 20);
    sc
}

fn bench(c: &mut Criterion) {
    let sc = twenty_queue_scenario();
    let rows = history::generate(&sc, 104, 1);
    let history = History {
        rows,
        problems: Vec::new(),
    };
    assert_eq!(history.rows.len(), 20 * 104 * 7 * 96);
    let start = sc.horizon.start;
    let days = 56;
    let fc = forecast_scenario(&sc, &history, start, days).expect("forecast");
    assert_eq!(fc.rows.len(), 20 * 56 * 96);
    assert!(fc
        .rows
        .last()
        .is_some_and(|r| r.start.date_naive() == start + Duration::days(55)));
    let mut group = c.benchmark_group("forecast");
    group.sample_size(10);
    group.bench_function("fit_and_8_weeks_20_queues_2_years_15min", |b| {
        b.iter(|| forecast_scenario(&sc, &history, start, days).expect("forecast"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
