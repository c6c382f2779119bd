//! The bundled scenario end to end: forecasting Double-11 2026 from generated history that
//! holds Double-11 2025, with the real binary, against the generator's own "actual" day.

use std::path::PathBuf;
use std::process::Command;

use chrono::{Duration, NaiveDate};
use peakcrew_plan::forecast::read_forecast;
use peakcrew_plan::history;
use peakcrew_plan::scenario::Scenario;

fn scenario() -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/double11.toml");
    Scenario::load(&path).expect("bundled scenario loads")
}

#[test]
fn double11_day_total_is_forecast_within_ten_percent() {
    let sc = scenario();
    let start = sc.horizon.start;
    let first = start - Duration::weeks(sc.history.weeks as i64);
    // One draw through the horizon: the part before it is history, the rest is what happened.
    let seed: u64 = std::env::var("D11_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2025);
    let rows = history::generate_between(&sc, first, start + Duration::days(7), seed);
    let (past, future): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|r| r.start.naive_local().date() < start);
    let dir = tempfile::tempdir().unwrap();
    let hist = dir.path().join("history.csv");
    let mut f = std::fs::File::create(&hist).unwrap();
    history::write(&past, &mut f).unwrap();
    let out = dir.path().join("forecast.csv");
    let status = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(["forecast", "--scenario"])
        .arg(sc.source.as_os_str())
        .arg("--history")
        .arg(&hist)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let fc = read_forecast(&out).unwrap();
    assert_eq!(fc.len(), 7 * 96 * sc.queues.len());

    let day = NaiveDate::from_ymd_opt(2026, 11, 11).unwrap();
    let on_day = |d: NaiveDate| {
        move |start: &chrono::DateTime<chrono::FixedOffset>| start.naive_local().date() == d
    };
    let forecast_total: f64 = fc
        .iter()
        .filter(|r| on_day(day)(&r.start))
        .map(|r| r.contacts)
        .sum();
    let actual_total: f64 = future
        .iter()
        .filter(|r| on_day(day)(&r.start))
        .map(|r| r.contacts)
        .sum();
    let error = forecast_total / actual_total - 1.0;
    println!("Double-11 2026 total: forecast {forecast_total:.0}, actual {actual_total:.0}, error {:+.1}%", 100.0 * error);
    for q in &sc.queues {
        let f: f64 = fc
            .iter()
            .filter(|r| r.queue == q.id && on_day(day)(&r.start))
            .map(|r| r.contacts)
            .sum();
        let a: f64 = future
            .iter()
            .filter(|r| r.queue == q.id && on_day(day)(&r.start))
            .map(|r| r.contacts)
            .sum();
        println!(
            "  {:<22} forecast {f:>8.0} actual {a:>8.0} error {:+.1}%",
            q.id,
            100.0 * (f / a - 1.0)
        );
    }
    assert!(
        error.abs() < 0.10,
        "Double-11 day total off by {:.1}%",
        100.0 * error
    );
}
