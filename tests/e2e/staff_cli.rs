//! `peakcrew staff` on the bundled scenario's forecast, through the real binary.

use std::process::Command;

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/double11.toml");

fn peakcrew() -> Command {
    Command::new(env!("CARGO_BIN_EXE_peakcrew"))
}

#[test]
fn staffing_meets_every_target_on_the_bundled_forecast() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.csv");
    let forecast = dir.path().join("forecast.csv");
    let reqs = dir.path().join("requirements.csv");
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    ok(peakcrew()
        .args([
            "history",
            "generate",
            "--scenario",
            SCENARIO,
            "--weeks",
            "8",
            "--out",
        ])
        .arg(&history)
        .output()
        .unwrap());
    ok(peakcrew()
        .args([
            "forecast",
            "--scenario",
            SCENARIO,
            "--days",
            "2",
            "--history",
        ])
        .arg(&history)
        .arg("--out")
        .arg(&forecast)
        .output()
        .unwrap());
    let out = ok(peakcrew()
        .args(["--json", "staff", "--scenario", SCENARIO, "--forecast"])
        .arg(&forecast)
        .arg("--out")
        .arg(&reqs)
        .output()
        .unwrap());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rows"], 2 * 96 * 10);

    let rows = peakcrew_plan::staffing::read_requirements(&reqs).unwrap();
    let scenario = peakcrew_plan::scenario::Scenario::load(std::path::Path::new(SCENARIO)).unwrap();
    for r in &rows {
        let q = scenario.queue(&r.queue).unwrap();
        let shrink = scenario.shrinkage_of(q);
        assert_eq!(
            r.required,
            ((r.required_raw as f64) / (1.0 - shrink) - 1e-9).ceil() as u32
        );
        assert!(r.occupancy <= scenario.max_occupancy_of(q) + 1e-9, "{r:?}");
        if let peakcrew_core::model::SlaTarget::ServiceLevel { fraction, .. } = q.sla {
            if r.contacts > 0.0 {
                assert!(r.service_level >= fraction - 1e-12, "{r:?}");
            }
        }
    }
    // The evening peak needs more returns agents than the small hours.
    let at = |hour: &str| {
        rows.iter()
            .find(|r| {
                r.queue == "zh-returns-chat"
                    && r.start.to_rfc3339().contains(&format!("T{hour}:00:00"))
            })
            .unwrap()
            .required
    };
    assert!(
        at("21") > 3 * at("05"),
        "21:00 {} vs 05:00 {}",
        at("21"),
        at("05")
    );
}

#[test]
fn a_bad_forecast_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let forecast = dir.path().join("forecast.csv");
    std::fs::write(
        &forecast,
        "queue,start,interval_minutes,contacts,aht_seconds,lo80,hi80,lo95,hi95\n\
         zh-hotline,2026-11-09T00:00:00+08:00,15,10,0,5,15,3,18\n",
    )
    .unwrap();
    let out = peakcrew()
        .args(["staff", "--scenario", SCENARIO, "--forecast"])
        .arg(&forecast)
        .arg("--out")
        .arg(dir.path().join("r.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("zh-hotline")
            && err.contains("2026-11-09T00:00:00+08:00")
            && err.contains("aht_seconds"),
        "{err}"
    );
}
