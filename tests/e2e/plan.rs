//! End-to-end: `peakcrew plan` on a small scenario (two days, two queues, three groups, no
//! agents file so the plan generates one). Every output file must parse, and the numbers must
//! agree across files: coverage.csv is recomputed from roster.csv, requirements from
//! requirements.csv, the report's KPI table equals summary.json, and `--json` prints exactly
//! summary.json.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset};

use crate::common::{csv_rows, on_duty, peakcrew, time, ShiftRow, SMALL_PLAN as SCENARIO};

/// Paid minutes of each template: its length less its unpaid breaks (lunch is unpaid).
fn paid_minutes(template: &str) -> i64 {
    match template {
        "day" => 540 - 60,
        "evening" | "night" => 480,
        other => panic!("unknown template {other}"),
    }
}

fn num(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|e| panic!("{column} = {:?}: {e}", row[column]))
}

/// The KPI rows of report.html: (name, exact value) from the rows' data attributes.
fn report_kpis(html: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for piece in html.split("data-kpi=\"").skip(1) {
        let (name, rest) = piece.split_once('"').unwrap();
        let value = rest
            .split_once("data-value=\"")
            .unwrap()
            .1
            .split_once('"')
            .unwrap()
            .0;
        let name = name
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'");
        out.insert(name, value.parse::<f64>().unwrap());
    }
    out
}

#[test]
fn plan_writes_every_file_and_the_numbers_agree_across_them() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("small.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out_dir = dir.path().join("out");
    let out = peakcrew(&[
        "--json",
        "plan",
        scenario.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--time-limit",
        "20",
        "--replications",
        "2",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "plan failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // --json prints exactly what summary.json holds.
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(printed, summary);
    // The history was generated beside the scenario, the agents into the output.
    assert!(dir.path().join("history.csv").exists());
    for name in [
        "forecast.csv",
        "requirements.csv",
        "schedule.csv",
        "coverage.csv",
        "allocation.csv",
        "roster.csv",
        "roster-summary.json",
        "agents.csv",
        "simulation.csv",
        "summary.json",
        "report.html",
    ] {
        assert!(out_dir.join(name).exists(), "{name} missing");
    }
    let listed: BTreeSet<String> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert!(listed.contains("roster.csv") && listed.contains("report.html"));

    // Forecast → requirements: the same queue × interval grid.
    let forecast = csv_rows(&out_dir.join("forecast.csv"));
    let requirements = csv_rows(&out_dir.join("requirements.csv"));
    assert_eq!(forecast.len(), 2 * 2 * 48);
    assert_eq!(requirements.len(), forecast.len());
    let contacts: f64 = forecast.iter().map(|r| num(r, "contacts")).sum();
    assert!((summary["contacts"].as_f64().unwrap() - contacts).abs() < 1e-6 * contacts);
    let required: BTreeMap<(String, DateTime<FixedOffset>), f64> = requirements
        .iter()
        .map(|r| ((r["queue"].clone(), time(&r["start"])), num(r, "required")))
        .collect();

    // Coverage recomputed from roster.csv. On-duty agents per group and interval (shift less
    // breaks) must be exactly what allocation.csv splits over the queues, allocation.csv must
    // add up to coverage.csv, and coverage.csv's required/over/under must follow from
    // requirements.csv.
    let roster = csv_rows(&out_dir.join("roster.csv"));
    assert!(!roster.is_empty());
    let intervals: BTreeSet<DateTime<FixedOffset>> = required.keys().map(|(_, t)| *t).collect();
    let shifts: Vec<ShiftRow> = roster
        .iter()
        .map(|r| {
            let (start, end) = (time(&r["start"]), time(&r["end"]));
            (r["group"].clone(), start, end, r["breaks"].clone(), 1.0)
        })
        .collect();
    let intervals: Vec<DateTime<FixedOffset>> = intervals.into_iter().collect();
    let duty = on_duty(&shifts, &intervals, 30);
    let mut allocated_by_group: BTreeMap<(String, DateTime<FixedOffset>), f64> = BTreeMap::new();
    let mut allocated_by_queue: BTreeMap<(String, DateTime<FixedOffset>), f64> = BTreeMap::new();
    for a in csv_rows(&out_dir.join("allocation.csv")) {
        let t = time(&a["start"]);
        *allocated_by_group
            .entry((a["group"].clone(), t))
            .or_default() += num(&a, "agents");
        *allocated_by_queue
            .entry((a["queue"].clone(), t))
            .or_default() += num(&a, "agents");
    }
    for (key, on_duty) in &duty {
        let split = allocated_by_group.get(key).copied().unwrap_or(0.0);
        assert!(
            (split - on_duty).abs() < 1e-3,
            "{key:?}: roster.csv puts {on_duty} agents on duty, allocation.csv splits {split}"
        );
    }
    for key in allocated_by_group.keys() {
        assert!(
            duty.contains_key(key),
            "{key:?} allocated but nobody on duty"
        );
    }
    let coverage = csv_rows(&out_dir.join("coverage.csv"));
    assert_eq!(coverage.len(), required.len());
    let mut short_intervals = 0;
    for c in &coverage {
        let key = (c["queue"].clone(), time(&c["start"]));
        let need = required[&key];
        let got = allocated_by_queue.get(&key).copied().unwrap_or(0.0);
        assert_eq!(num(c, "required"), need, "{key:?}");
        assert!((num(c, "allocated") - got).abs() < 1e-3, "{key:?}");
        assert!(
            (num(c, "under") - (need - got).max(0.0)).abs() < 1e-3,
            "{key:?}"
        );
        assert!(
            (num(c, "over") - (got - need).max(0.0)).abs() < 1e-3,
            "{key:?}"
        );
        if num(c, "under") > 0.0 {
            short_intervals += 1;
        }
    }

    // The roster fills the plan: per (group, template, start) the named agents match the count.
    let mut planned: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    let mut paid_hours = 0.0;
    for s in csv_rows(&out_dir.join("schedule.csv")) {
        let n = num(&s, "count");
        *planned
            .entry((
                s["group"].clone(),
                s["template"].clone(),
                s["start"].clone(),
            ))
            .or_default() += n;
        paid_hours += n * paid_minutes(&s["template"]) as f64 / 60.0;
    }
    let mut rostered: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    for r in &roster {
        *rostered
            .entry((
                r["group"].clone(),
                r["template"].clone(),
                r["start"].clone(),
            ))
            .or_default() += 1.0;
    }
    let roster_summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("roster-summary.json")).unwrap(),
    )
    .unwrap();
    let unfilled: f64 = roster_summary["unfilled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["missing"].as_f64().unwrap())
        .sum();
    let gap: f64 = planned
        .iter()
        .map(|(k, n)| n - rostered.get(k).copied().unwrap_or(0.0))
        .sum();
    assert_eq!(
        gap, unfilled,
        "planned shifts less rostered ones are the unfilled"
    );
    assert!(rostered.keys().all(|k| planned.contains_key(k)));

    // One calendar per rostered agent, with one event per shift.
    let agents: BTreeSet<&str> = roster.iter().map(|r| r["agent"].as_str()).collect();
    let calendars: Vec<_> = std::fs::read_dir(out_dir.join("calendars"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(calendars.len(), agents.len());
    let events: usize = calendars
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{}", p.display());
            text.matches("BEGIN:VEVENT").count()
        })
        .sum();
    assert_eq!(events, roster.len());

    // The report's KPI table is summary.json's, value for value, and agrees with the files.
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    let table = report_kpis(&html);
    let kpis: BTreeMap<String, f64> = summary["kpis"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
        .collect();
    // serde_json's float parsing may differ from Rust's in the last bit.
    assert_eq!(
        table.keys().collect::<Vec<_>>(),
        kpis.keys().collect::<Vec<_>>()
    );
    for (name, value) in &table {
        let expected = kpis[name];
        assert!(
            (value - expected).abs() <= 1e-12 * expected.abs().max(1.0),
            "{name}: report {value}, summary.json {expected}"
        );
    }
    assert_eq!(kpis["Understaffed queue-intervals"], short_intervals as f64);
    assert!(
        (kpis["Paid hours"] - paid_hours).abs() < 1e-6,
        "{paid_hours}"
    );
    let required_hours: f64 = required.values().sum::<f64>() * 0.5;
    assert!((kpis["Required agent-hours (after shrinkage)"] - required_hours).abs() < 1e-6);
    // The simulated KPIs are the simulation's figures: one phone queue, so the calls KPI is its
    // service level; one chat queue, so the chats KPI is its.
    let sim_queues = summary["simulation"]["queues"].as_array().unwrap();
    let sl = |queue: &str| {
        sim_queues
            .iter()
            .find(|q| q["queue"] == queue)
            .unwrap_or_else(|| panic!("{queue} in summary.json simulation"))["service_level"]
            ["mean"]
            .as_f64()
            .unwrap()
    };
    assert!((kpis["Calls answered within 20 s (simulated)"] - sl("hotline")).abs() < 1e-12);
    assert!(
        (kpis["Chats first answered within 90 s (simulated)"] - sl("returns-chat")).abs() < 1e-12
    );
    let overall = &summary["simulation"]["overall"];
    assert_eq!(
        kpis["Abandonment (simulated)"],
        overall["abandonment_rate"]["mean"].as_f64().unwrap()
    );
    assert_eq!(
        kpis["Occupancy (simulated)"],
        overall["occupancy"]["mean"].as_f64().unwrap()
    );
    for k in [
        "Calls answered within 20 s (simulated)",
        "Occupancy (simulated)",
    ] {
        assert!((0.0..=1.0).contains(&kpis[k]), "{k} = {}", kpis[k]);
    }
    // simulation.csv: every queue × interval, and its contacts add up to the forecast's.
    let simulated = csv_rows(&out_dir.join("simulation.csv"));
    assert_eq!(simulated.len(), forecast.len());
    let simulated_contacts: f64 = simulated.iter().map(|r| num(r, "offered")).sum();
    assert!(
        (simulated_contacts - contacts).abs() < 0.1 * contacts,
        "simulated {simulated_contacts} contacts, forecast {contacts}"
    );
    assert!(html.contains("id=\"service\""), "no service section");
    assert!(
        !html.contains("No simulation data"),
        "the service chart is empty"
    );

    // The report shows the roster: one Gantt row per agent.
    assert!(html.contains("id=\"roster\""), "no roster section");
    for a in &agents {
        assert!(html.contains(a), "agent {a} missing from the report");
    }
}

#[test]
fn a_failing_stage_is_named_and_the_exit_code_is_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    // Three days off leave at most 4 × 8 = 32 hours for a 40-hour contract: the schedule stage
    // cannot plan, and says why.
    let text = SCENARIO
        .replace("days = 2", "days = 7")
        .replace("days_off_per_week = 1", "days_off_per_week = 3")
        .replace(
            "contract = { min_weekly_hours = 8, max_weekly_hours = 48 }",
            "contract = { min_weekly_hours = 40, max_weekly_hours = 48 }",
        );
    let scenario = dir.path().join("small.toml");
    std::fs::write(&scenario, text).unwrap();
    let out = peakcrew(&[
        "plan",
        scenario.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("the schedule stage failed"), "{err}");
    assert!(err.contains("no feasible shift plan"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // What was already produced stays: the forecast and requirements were written.
    assert!(dir.path().join("out/forecast.csv").exists());
    assert!(dir.path().join("out/requirements.csv").exists());
}
