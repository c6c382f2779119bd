//! `peakcrew forecast` through the real binary: the bundled scenario with generated history,
//! a DST change day, and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn peakcrew(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(args)
        .output()
        .unwrap()
}

fn bundled(dir: &Path, zone: Option<&str>, horizon: Option<&str>) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/double11.toml");
    let mut text = std::fs::read_to_string(src).unwrap();
    if let Some(z) = zone {
        text = text.replace("\"Asia/Shanghai\"", &format!("\"{z}\""));
    }
    if let Some(h) = horizon {
        text = text.replace("start = 2026-11-09   # a Monday", &format!("start = {h}"));
    }
    text = text.replace("weeks = 60 ", "weeks = 20 ");
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn bundled_scenario_generates_its_history_and_forecasts_the_horizon() {
    let dir = tempfile::tempdir().unwrap();
    let sc = bundled(dir.path(), None, None);
    let out = dir.path().join("forecast.csv");
    let o = peakcrew(&["--json", "forecast", "--scenario", s(&sc), "--out", s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        dir.path().join("double11-history.csv").exists(),
        "history generated beside the scenario"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 7 * 96 * 10);
    let rows = peakcrew_plan::forecast::read_forecast(&out).unwrap();
    assert_eq!(rows[0].start.to_rfc3339(), "2026-11-09T00:00:00+08:00");
    assert!(rows
        .iter()
        .all(|r| r.lo95 <= r.lo80 && r.hi80 <= r.hi95 && r.aht_seconds > 0.0));
    // Double-11 (Wednesday) is the week's peak for pre-sales chat.
    let day_total = |d: u32| -> f64 {
        rows.iter()
            .filter(|r| {
                r.queue == "zh-presales-chat"
                    && r.start.format("%d").to_string() == format!("{d:02}")
            })
            .map(|r| r.contacts)
            .sum()
    };
    for other in [9, 10, 12, 13, 14, 15] {
        assert!(
            day_total(11) > 1.5 * day_total(other),
            "{} vs {}",
            day_total(11),
            day_total(other)
        );
    }
}

#[test]
fn dst_change_day_has_a_hundred_quarter_hours() {
    let dir = tempfile::tempdir().unwrap();
    let sc = bundled(dir.path(), Some("America/New_York"), Some("2026-11-01"));
    let out = dir.path().join("forecast.csv");
    let o = peakcrew(&[
        "forecast",
        "--scenario",
        s(&sc),
        "--days",
        "2",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = peakcrew_plan::forecast::read_forecast(&out).unwrap();
    let hotline: Vec<_> = rows.iter().filter(|r| r.queue == "zh-hotline").collect();
    assert_eq!(hotline.len(), 100 + 96);
    let offsets: Vec<String> = hotline
        .iter()
        .map(|r| r.start.format("%:z").to_string())
        .collect();
    assert_eq!(offsets[0], "-04:00");
    assert_eq!(offsets[99], "-05:00");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_history_is_refused_naming_lines_and_queues() {
    let dir = tempfile::tempdir().unwrap();
    let sc = bundled(dir.path(), None, None);
    let out = dir.path().join("f.csv");

    let bad = write(dir.path(), "bad.csv", "start,queue,contacts\n2026-11-01T00:00:00+08:00,zh-hotline,-2\n2026-11-01T00:15:00+08:00,zh-hotline,many\n");
    let o = peakcrew(&[
        "forecast",
        "--scenario",
        s(&sc),
        "--history",
        s(&bad),
        "--out",
        s(&out),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("bad.csv:2:") && err.contains("bad.csv:3:") && err.contains("0 or more"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written on refusal");

    let unordered = write(dir.path(), "order.csv", "start,queue,contacts\n2026-11-01T00:15:00+08:00,zh-hotline,2\n2026-11-01T00:00:00+08:00,zh-hotline,3\n");
    let o = peakcrew(&["forecast", "backtest", "--history", s(&unordered)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("order.csv:3:") && err.contains("zh-hotline") && err.contains("time order"),
        "{err}"
    );

    let empty = write(dir.path(), "empty.csv", "start,queue,contacts\n");
    let o = peakcrew(&[
        "forecast",
        "--scenario",
        s(&sc),
        "--history",
        s(&empty),
        "--out",
        s(&out),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("empty"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let one_queue = write(
        dir.path(),
        "one.csv",
        "start,queue,contacts\n2026-11-01T00:00:00+08:00,zh-hotline,2\n",
    );
    let o = peakcrew(&[
        "forecast",
        "--scenario",
        s(&sc),
        "--history",
        s(&one_queue),
        "--out",
        s(&out),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no history for queue(s) zh-presales-chat") && err.contains("zh-complaints"),
        "{err}"
    );

    let o = peakcrew(&["forecast", "backtest", "--history", s(&one_queue)]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 day(s) with data"));
}
