//! End-to-end: `peakcrew schedule` and `peakcrew roster` on a small two-day scenario with two
//! skills, breaks, a night shift and temporary staff; every number in the output files is
//! recomputed from the others, and every calendar is checked against RFC 5545's structure.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use peakcrew_plan::scenario::Scenario;
use peakcrew_plan::schedule::{generate_agents, write_agents};
use peakcrew_plan::staffing::{write_requirements, Requirement};

use crate::common::{csv_rows, on_duty, peakcrew, time};

const SCENARIO: &str = r#"
name = "small"
time_zone = "Asia/Shanghai"
interval_minutes = 30
agents_file = "agents.csv"
[horizon]
start = 2026-11-10
days = 2
[calendar]
start = 2026-01-01
end = 2026-12-31
[staffing]
shrinkage = 0.1
max_occupancy = 0.9
[costs]
understaffing_per_agent_hour = 400.0
overstaffing_per_agent_hour = 1.0
[history]
file = "h.csv"
weeks = 1
seed = 7
[[skills]]
id = "returns"
[[skills]]
id = "general"
[[languages]]
id = "zh"
name = "Chinese"
[[queues]]
id = "returns-chat"
channel = "chat"
skill = "returns"
language = "zh"
sla = { kind = "service-level", fraction = 0.8, answer_seconds = 60 }
patience_seconds = 300
aht_seconds = 400
volume = { daily_contacts = 100, profile = "retail-evening" }
[[queues]]
id = "hotline"
channel = "phone"
skill = "general"
language = "zh"
sla = { kind = "service-level", fraction = 0.9, answer_seconds = 20 }
patience_seconds = 120
aht_seconds = 300
volume = { daily_contacts = 100, profile = "business-hours" }
[[groups]]
id = "chat"
skills = [{ skill = "returns", proficiency = 4 }]
languages = ["zh"]
headcount = 8
cost_per_hour = 40.0
[[groups]]
id = "phone"
skills = [{ skill = "general", proficiency = 4 }, { skill = "returns", proficiency = 2 }]
languages = ["zh"]
headcount = 6
cost_per_hour = 45.0
[[groups]]
id = "temp"
skills = [{ skill = "returns", proficiency = 2 }]
languages = ["zh"]
headcount = 4
cost_per_hour = 50.0
temporary = true
available_from = 2026-11-11
available_to = 2026-11-30
shift_templates = ["day"]
contract = { min_weekly_hours = 0, max_weekly_hours = 48 }
[shifts]
days_off_per_week = 1
max_consecutive_days = 6
min_rest_hours = 11
contract = { min_weekly_hours = 8, max_weekly_hours = 48 }
[[shifts.templates]]
id = "day"
earliest_start = "08:00"
latest_start = "11:00"
start_step_minutes = 30
length_minutes = 540
breaks = [
  { name = "break", minutes = 30, paid = true, earliest_after_start_minutes = 90, latest_after_start_minutes = 150 },
  { name = "lunch", minutes = 60, earliest_after_start_minutes = 210, latest_after_start_minutes = 300 },
]
[[shifts.templates]]
id = "night"
earliest_start = "22:00"
latest_start = "23:00"
start_step_minutes = 60
length_minutes = 480
breaks = [{ name = "meal", minutes = 30, paid = true, earliest_after_start_minutes = 180, latest_after_start_minutes = 300 }]
"#;

/// Requirement rows: returns chat busy in the evening, the hotline in the day, both at night.
fn requirements(scenario: &Scenario) -> Vec<Requirement> {
    let mut rows = Vec::new();
    for iv in scenario.grid().intervals() {
        let h = iv.local.format("%H").to_string().parse::<u32>().unwrap();
        for (queue, need) in [
            (
                "returns-chat",
                match h {
                    0..=5 => 1,
                    6..=9 => 2,
                    10..=17 => 4,
                    _ => 6,
                },
            ),
            (
                "hotline",
                match h {
                    0..=7 => 1,
                    8..=18 => 3,
                    _ => 1,
                },
            ),
        ] {
            rows.push(Requirement {
                queue: queue.into(),
                start: iv.start.with_timezone(&scenario.time_zone).fixed_offset(),
                interval_minutes: 30,
                contacts: 10.0,
                aht_seconds: 300.0,
                required_raw: need,
                required: need,
                service_level: 0.8,
                asa_seconds: 10.0,
                abandon_rate: 0.01,
                occupancy: 0.8,
            });
        }
    }
    rows
}

#[test]
fn schedule_and_roster_agree_with_each_other_and_with_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let scenario_path = dir.path().join("small.toml");
    std::fs::write(&scenario_path, SCENARIO).unwrap();
    let scenario = Scenario::load(&scenario_path).unwrap();
    let req_path = dir.path().join("requirements.csv");
    write_requirements(
        &requirements(&scenario),
        std::fs::File::create(&req_path).unwrap(),
    )
    .unwrap();
    let agents_path = dir.path().join("agents.csv");
    // Nobody on leave: the plan counts on the whole headcount (leave is reported as unfilled).
    let mut agents = generate_agents(&scenario, 7);
    for a in &mut agents {
        a.unavailable.clear();
    }
    write_agents(&agents, std::fs::File::create(&agents_path).unwrap()).unwrap();
    let plan_dir = dir.path().join("plan");
    let out = peakcrew(&[
        "schedule",
        "--scenario",
        scenario_path.to_str().unwrap(),
        "--requirements",
        req_path.to_str().unwrap(),
        "--out",
        plan_dir.to_str().unwrap(),
        "--time-limit",
        "20",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary, on_disk);
    let objective = summary["objective"].as_f64().unwrap();
    let bound = summary["best_bound"].as_f64().unwrap();
    assert!(
        bound <= objective + 1e-6 && summary["gap"].as_f64().unwrap() <= 0.01 + 1e-9,
        "{summary}"
    );

    // From schedule.csv: on duty per group and interval, which the allocation must add up to.
    let coverage = csv_rows(&plan_dir.join("coverage.csv"));
    let mut intervals: Vec<DateTime<FixedOffset>> =
        coverage.iter().map(|r| time(&r["start"])).collect();
    intervals.sort();
    intervals.dedup();
    assert_eq!(intervals.len(), 96);
    let schedule: Vec<_> = csv_rows(&plan_dir.join("schedule.csv"))
        .into_iter()
        .map(|r| {
            (
                r["group"].clone(),
                time(&r["start"]),
                time(&r["end"]),
                r["breaks"].clone(),
                r["count"].parse::<f64>().unwrap(),
            )
        })
        .collect();
    assert!(
        schedule
            .iter()
            .any(|s| s.1.format("%F").to_string() == "2026-11-09"),
        "a lead-in night shift"
    );
    assert!(schedule
        .iter()
        .all(|s| s.0 != "temp" || s.1.format("%F").to_string() == "2026-11-11"));
    let from_schedule = on_duty(&schedule, &intervals, 30);
    let mut by_group: BTreeMap<(String, DateTime<FixedOffset>), f64> = BTreeMap::new();
    let mut by_queue: BTreeMap<(String, DateTime<FixedOffset>), f64> = BTreeMap::new();
    for a in csv_rows(&plan_dir.join("allocation.csv")) {
        let agents: f64 = a["agents"].parse().unwrap();
        *by_group
            .entry((a["group"].clone(), time(&a["start"])))
            .or_insert(0.0) += agents;
        *by_queue
            .entry((a["queue"].clone(), time(&a["start"])))
            .or_insert(0.0) += agents;
    }
    for (key, duty) in &from_schedule {
        let allocated = by_group.get(key).copied().unwrap_or(0.0);
        assert!(
            (duty - allocated).abs() < 1e-4,
            "{key:?}: on duty {duty}, allocated {allocated}"
        );
    }
    let mut under_hours = 0.0;
    for c in &coverage {
        let key = (c["queue"].clone(), time(&c["start"]));
        let allocated: f64 = c["allocated"].parse().unwrap();
        let required: f64 = c["required"].parse().unwrap();
        let under: f64 = c["under"].parse().unwrap();
        let over: f64 = c["over"].parse().unwrap();
        assert!(
            (by_queue.get(&key).copied().unwrap_or(0.0) - allocated).abs() < 1e-4,
            "{key:?}"
        );
        assert!((under - (required - allocated).max(0.0)).abs() < 1e-4);
        assert!((over - (allocated - required).max(0.0)).abs() < 1e-4);
        under_hours += under * 0.5;
    }
    assert!((under_hours - summary["understaffed_agent_hours"].as_f64().unwrap()).abs() < 1e-3);

    // The roster fills every planned shift, and its shifts give the same cover.
    let roster_dir = dir.path().join("roster");
    let out = peakcrew(&[
        "roster",
        "--scenario",
        scenario_path.to_str().unwrap(),
        "--schedule",
        plan_dir.to_str().unwrap(),
        "--agents",
        agents_path.to_str().unwrap(),
        "--out",
        roster_dir.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rs["unfilled"].as_array().unwrap().len(), 0, "{rs}");
    assert_eq!(
        rs["contract_shortfalls"].as_array().unwrap().len(),
        0,
        "{rs}"
    );
    let roster: Vec<_> = csv_rows(&roster_dir.join("roster.csv"))
        .into_iter()
        .map(|r| {
            (
                r["group"].clone(),
                time(&r["start"]),
                time(&r["end"]),
                r["breaks"].clone(),
                1.0,
            )
        })
        .collect();
    assert_eq!(
        roster.len() as f64,
        schedule.iter().map(|s| s.4).sum::<f64>()
    );
    let from_roster = on_duty(&roster, &intervals, 30);
    assert_eq!(from_roster.len(), from_schedule.len());
    for (key, duty) in &from_schedule {
        assert!((from_roster[key] - duty).abs() < 1e-9, "{key:?}");
    }

    // One calendar per rostered agent, structurally valid RFC 5545.
    let agents_rostered: std::collections::BTreeSet<String> =
        csv_rows(&roster_dir.join("roster.csv"))
            .into_iter()
            .map(|r| r["agent"].clone())
            .collect();
    for agent in &agents_rostered {
        let path = roster_dir.join("calendars").join(format!("{agent}.ics"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("\r\n"));
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "bare LF in {agent}"
        );
        assert!(
            lines.iter().all(|l| l.len() <= 75),
            "a line over 75 octets in {agent}"
        );
        assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"));
        assert_eq!(lines.last(), Some(&"END:VCALENDAR"));
        assert!(lines.contains(&"VERSION:2.0") && lines.iter().any(|l| l.starts_with("PRODID:")));
        let events = lines.iter().filter(|l| **l == "BEGIN:VEVENT").count();
        assert_eq!(events, lines.iter().filter(|l| **l == "END:VEVENT").count());
        let mine = roster
            .iter()
            .zip(csv_rows(&roster_dir.join("roster.csv")))
            .filter(|(_, r)| &r["agent"] == agent)
            .count();
        assert_eq!(events, mine);
        for prop in ["UID:", "DTSTAMP:", "DTSTART:", "DTEND:"] {
            assert_eq!(
                lines.iter().filter(|l| l.starts_with(prop)).count(),
                events,
                "{prop} in {agent}"
            );
        }
        for l in lines
            .iter()
            .filter(|l| l.starts_with("DTSTART:") || l.starts_with("DTEND:"))
        {
            let v = l.split_once(':').unwrap().1;
            assert!(
                chrono::NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%SZ").is_ok(),
                "{l}"
            );
        }
    }
}

#[test]
fn an_impossible_contract_exits_with_the_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    // A week with three days off leaves at most 4 × 8 = 32 hours for a 40-hour contract.
    let text = SCENARIO
        .replace("days = 2", "days = 7")
        .replace("days_off_per_week = 1", "days_off_per_week = 3")
        .replace(
            "contract = { min_weekly_hours = 8, max_weekly_hours = 48 }",
            "contract = { min_weekly_hours = 40, max_weekly_hours = 48 }",
        );
    let path = dir.path().join("small.toml");
    std::fs::write(&path, text).unwrap();
    let scenario = Scenario::load(&path).unwrap();
    let req = dir.path().join("r.csv");
    write_requirements(
        &requirements(&scenario),
        std::fs::File::create(&req).unwrap(),
    )
    .unwrap();
    let out = peakcrew(&[
        "schedule",
        "--scenario",
        path.to_str().unwrap(),
        "--requirements",
        req.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no feasible shift plan"), "{err}");
    assert!(
        err.contains(
            "group `chat`: each of its 8 agents must work 40–48 h a week with 3 day(s) off, but \
             `day` pays 8.0 h a shift and allows at most 4 days a week (32.0 h)"
        ),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_bad_agents_file_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.toml");
    std::fs::write(&path, SCENARIO).unwrap();
    let plan = dir.path().join("plan");
    std::fs::create_dir_all(&plan).unwrap();
    std::fs::write(
        plan.join("schedule.csv"),
        "group,template,day,start,end,breaks,count\n",
    )
    .unwrap();
    let agents = dir.path().join("agents.csv");
    std::fs::write(
        &agents,
        "id,name,group,skills,languages,min_weekly_hours,max_weekly_hours,unavailable,preferred_shifts,preferred_days_off\n\
         A1,李娜,chat,returns:4,zh,8,48,,day,sat\n\
         A2,王伟,phone-team,general:4,zh,8,48,,,\n",
    )
    .unwrap();
    let out = peakcrew(&[
        "roster",
        "--scenario",
        path.to_str().unwrap(),
        "--schedule",
        plan.to_str().unwrap(),
        "--agents",
        agents.to_str().unwrap(),
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("agents.csv:3: group: unknown group `phone-team`"),
        "{err}"
    );
}
