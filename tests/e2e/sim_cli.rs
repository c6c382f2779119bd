//! `peakcrew simulate` end to end: the real binary on the bundled scenario with a forecast and a
//! roster of the bundled named agents written in the stages' file formats, the single-queue
//! mode, sweeps, and bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use peakcrew_plan::scenario::Scenario;
use peakcrew_serve::config::load_policy;
use peakcrew_sim::{self as sim, workload::Workload};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn peakcrew(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run peakcrew")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn mean(v: &Value, key: &str) -> f64 {
    v[key]["mean"]
        .as_f64()
        .unwrap_or_else(|| panic!("{key}.mean in {v}"))
}

/// Writes a small Double-11 day as forecast.csv and roster.csv (the formats of the forecast
/// and roster stages) into `dir`. The day's shifts go to the bundled named agents
/// (scenarios/double11-agents.csv, the scenario's `agents_file`), group by group in file order.
fn write_day(dir: &Path, contacts: f64, agents: u32) -> (PathBuf, PathBuf) {
    let scenario = Scenario::load(&root().join("scenarios/double11.toml")).unwrap();
    let named = peakcrew_plan::schedule::read_agents(
        &root().join("scenarios/double11-agents.csv"),
        &scenario,
    )
    .unwrap();
    let mut free: std::collections::BTreeMap<&str, std::collections::VecDeque<&str>> =
        Default::default();
    for a in &named {
        free.entry(a.group.as_str())
            .or_default()
            .push_back(a.id.as_str());
    }
    let mut chosen: std::collections::BTreeMap<String, &str> = Default::default();
    let policy = load_policy(&root().join("config/router.toml"), &scenario.catalog()).unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 11).unwrap();
    let Workload { rates, roster, .. } =
        sim::workload::day(&scenario, &policy, date, contacts, agents, 5).unwrap();
    let forecast = dir.join("forecast.csv");
    let mut f = std::fs::File::create(&forecast).unwrap();
    writeln!(
        f,
        "queue,start,interval_minutes,contacts,aht_seconds,lo80,hi80,lo95,hi95"
    )
    .unwrap();
    for r in &rates {
        let c = r.contacts;
        writeln!(
            f,
            "{},{},{},{c:.3},{:.1},{:.3},{:.3},{:.3},{:.3}",
            r.queue,
            r.start.to_rfc3339(),
            r.minutes,
            r.aht_seconds,
            c * 0.8,
            c * 1.2,
            c * 0.7,
            c * 1.3
        )
        .unwrap();
    }
    let path = dir.join("roster.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(
        f,
        "agent,name,group,template,date,start,end,breaks,primary_skill"
    )
    .unwrap();
    let tz = scenario.time_zone;
    for s in &roster {
        let id = match chosen.get(&s.agent) {
            Some(id) => *id,
            None => {
                let id = free
                    .get_mut(s.group.as_str())
                    .and_then(|q| q.pop_front())
                    .unwrap_or_else(|| panic!("no named agent left in group {}", s.group));
                chosen.insert(s.agent.clone(), id);
                id
            }
        };
        let hm = |t: chrono::DateTime<chrono::FixedOffset>| {
            t.with_timezone(&tz).format("%H:%M").to_string()
        };
        let breaks: Vec<String> = s
            .breaks
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                format!(
                    "{} {}-{}",
                    if i == 0 { "break" } else { "meal" },
                    hm(a),
                    hm(b)
                )
            })
            .collect();
        writeln!(
            f,
            "{},{},{},day,{},{},{},{},{}",
            id,
            s.agent,
            s.group,
            s.start.with_timezone(&tz).date_naive(),
            s.start.to_rfc3339(),
            s.end.to_rfc3339(),
            breaks.join("; "),
            s.skills[0].skill
        )
        .unwrap();
    }
    (forecast, path)
}

#[test]
fn single_queue_mode_prints_the_json_shape_and_agrees_with_erlang_a() {
    let out = peakcrew(&[
        "simulate",
        "queue",
        "--rate-per-hour",
        "200",
        "--aht-seconds",
        "180",
        "--agents",
        "14",
        "--answer-seconds",
        "20",
        "--patience-seconds",
        "300",
        "--contacts",
        "200000",
        "--seed",
        "3",
        "--json",
    ]);
    let v = json(&out);
    let overall = &v["overall"];
    for key in [
        "service_level",
        "asa_seconds",
        "mean_wait_seconds",
        "abandonment_rate",
        "occupancy",
    ] {
        let e = &overall[key];
        let (m, lo, hi) = (
            e["mean"].as_f64().unwrap(),
            e["ci95_low"].as_f64().unwrap(),
            e["ci95_high"].as_f64().unwrap(),
        );
        assert!(lo <= m && m <= hi, "{key}: {e}");
        // Five 95% intervals miss together about one time in four; sim_validation checks
        // coverage itself, here twice the half-width suffices to catch a wrong model.
        let theory = v["erlang"][key].as_f64().unwrap();
        assert!(
            (theory - m).abs() <= hi - lo,
            "{key}: Erlang A {theory} vs {e}"
        );
    }
    // Offered is a mean per replication (10 by default); the total sums them.
    let contacts = overall["offered"].as_f64().unwrap();
    assert!((18_000.0..20_000.0).contains(&contacts), "{contacts}");
    assert_eq!(
        overall["offered_total"].as_u64().unwrap() as f64,
        contacts * 10.0
    );
    assert!(overall["events_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(v["queues"].as_array().unwrap().len(), 1);
    assert_eq!(v["queues"][0]["queue"], "queue");
    assert!(
        (mean(&v["queues"][0], "service_level") - mean(overall, "service_level")).abs() < 1e-12
    );
    assert_eq!(v["erlang"]["model"], "erlang-a");
    assert_eq!(v["counters"]["rejected_commands"], 0);
}

#[test]
fn scenario_mode_runs_the_bundled_scenario_and_writes_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (forecast, roster) = write_day(dir.path(), 20_000.0, 80);
    let run = |out: &Path| {
        peakcrew(&[
            "simulate",
            "--scenario",
            "scenarios/double11.toml",
            "--config",
            "config/router.toml",
            "--forecast",
            forecast.to_str().unwrap(),
            "--roster",
            roster.to_str().unwrap(),
            "--replications",
            "4",
            "--seed",
            "7",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ])
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let v = json(&run(&a));
    let queues = v["queues"].as_array().unwrap();
    assert_eq!(queues.len(), 10);
    assert_eq!(v["replications"], 4);
    let overall = &v["overall"];
    for key in crate::common::TALLY_FIGURES
        .into_iter()
        .chain(["occupancy"])
    {
        assert!(
            overall[key]["ci95_low"].as_f64().unwrap() <= mean(overall, key),
            "{key}"
        );
    }
    let sl = mean(overall, "service_level");
    assert!((0.5..=1.0).contains(&sl), "{sl}");
    let contacts = overall["offered"].as_f64().unwrap();
    assert!((contacts - 20_000.0).abs() < 1_000.0, "{contacts}");
    // No short-abandon threshold is set: both service levels are one number.
    assert_eq!(
        mean(overall, "service_level"),
        mean(overall, "service_level_excluding_short_abandons")
    );
    let hotline = queues.iter().find(|q| q["queue"] == "zh-hotline").unwrap();
    assert_eq!(hotline["answer_seconds"], 20.0);
    assert_eq!(hotline["target"], 0.9);
    assert!(mean(hotline, "longest_wait_seconds") >= mean(hotline, "asa_seconds"));

    let csv = std::fs::read_to_string(a.join("sim.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("queue,start,interval_minutes,counted,answer_seconds,target,offered,service_level,service_level_ci95_low"), "{header}");
    assert_eq!(lines.count(), 10 * 96);
    assert!(csv.contains("\nzh-hotline,2026-11-11T20:00:00+08:00,15,true,20.000000,0.900000,"));

    // The same seed gives the same bytes (sim.csv, and the JSON but for its timing).
    let w = json(&run(&b));
    assert_eq!(csv, std::fs::read_to_string(b.join("sim.csv")).unwrap());
    let strip = |mut v: Value| {
        v["timing"] = Value::Null;
        v["overall"]["events_per_second"] = Value::Null;
        v
    };
    assert_eq!(strip(v), strip(w));
}

#[test]
fn a_shift_plan_can_stand_in_for_the_roster() {
    let dir = tempfile::tempdir().unwrap();
    let (forecast, roster) = write_day(dir.path(), 10_000.0, 40);
    // schedule.csv: the roster's shifts counted per (group, template, day, start, end, breaks).
    let text = std::fs::read_to_string(&roster).unwrap();
    let mut counts: std::collections::BTreeMap<Vec<String>, u32> = Default::default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let key = [f[2], f[3], f[4], f[5], f[6], f[7]]
            .map(String::from)
            .to_vec();
        *counts.entry(key).or_default() += 1;
    }
    let plan = dir.path().join("schedule.csv");
    let mut out = String::from("group,template,day,start,end,breaks,count\n");
    for (k, n) in &counts {
        out.push_str(&format!("{},{n}\n", k.join(",")));
    }
    std::fs::write(&plan, out).unwrap();
    let v = json(&peakcrew(&[
        "simulate",
        "--scenario",
        "scenarios/double11.toml",
        "--config",
        "config/router.toml",
        "--forecast",
        forecast.to_str().unwrap(),
        "--schedule",
        plan.to_str().unwrap(),
        "--replications",
        "2",
        "--json",
    ]));
    let sl = mean(&v["overall"], "service_level");
    assert!((0.5..=1.0).contains(&sl), "{sl}");
    assert_eq!(v["counters"]["rejected_commands"], 0);
}

#[test]
fn a_sweep_compares_variants_and_writes_sweep_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (forecast, roster) = write_day(dir.path(), 10_000.0, 40);
    let out = dir.path().join("out");
    let args = |json: bool| {
        let mut a = vec![
            "simulate",
            "--scenario",
            "scenarios/double11.toml",
            "--config",
            "config/router.toml",
            "--forecast",
            forecast.to_str().unwrap(),
            "--roster",
            roster.to_str().unwrap(),
            "--replications",
            "3",
            "--vary",
            "volume=+0%,+40%",
            "--vary",
            "agents.chat-core=-5",
            "--out",
            out.to_str().unwrap(),
        ];
        if json {
            a.push("--json");
        }
        a
    };
    let v = json(&peakcrew(&args(true)));
    let variants = v["variants"].as_array().unwrap();
    let labels: Vec<&str> = variants
        .iter()
        .map(|x| x["variant"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        vec![
            "baseline",
            "volume=+0% agents.chat-core=-5",
            "volume=+40% agents.chat-core=-5"
        ]
    );
    let sl: Vec<f64> = variants
        .iter()
        .map(|x| mean(&x["overall"], "service_level"))
        .collect();
    assert!(sl[0] >= sl[1] && sl[1] > sl[2], "{sl:?}");
    let sweep = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(sweep.lines().count(), 1 + 3 * 11);
    assert!(sweep
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("baseline,overall,"));

    let text = peakcrew(&args(false));
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("volume=+40% agents.chat-core=-5"), "{text}");
    assert!(text.contains("Δ SL"), "{text}");
}

#[test]
fn bad_input_is_named_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (forecast, roster) = write_day(dir.path(), 2_000.0, 20);
    let base = |forecast: &Path, roster: &Path, extra: &[&str]| {
        let mut a = vec![
            "simulate".to_string(),
            "--scenario".into(),
            "scenarios/double11.toml".into(),
            "--forecast".into(),
            forecast.display().to_string(),
            "--roster".into(),
            roster.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = a.iter().map(String::as_str).collect();
        peakcrew(&args)
    };
    let stderr = |o: &Output| {
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        String::from_utf8_lossy(&o.stderr).to_string()
    };

    let bad = dir.path().join("bad.csv");
    let text = std::fs::read_to_string(&forecast).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "zh-hotline,2026-11-11T00:30:00+08:00,15,lots,300,0,0,0,0";
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let e = stderr(&base(&bad, &roster, &[]));
    assert!(e.contains("bad.csv:4:"), "{e}");

    let unknown = dir.path().join("unknown.csv");
    std::fs::write(&unknown, "queue,start,interval_minutes,contacts,aht_seconds,lo80,hi80,lo95,hi95\nfax,2026-11-11T00:00:00+08:00,15,3,100,2,4,1,5\n").unwrap();
    let e = stderr(&base(&unknown, &roster, &[]));
    assert!(e.contains("arrival row 1 (queue `fax`"), "{e}");
    assert!(e.contains("no such queue in the scenario"), "{e}");

    let e = stderr(&base(&forecast, &roster, &["--vary", "agents.nobody=-3"]));
    assert!(
        e.contains("what-if `agents.nobody=-3`: no agent of group `nobody` in the roster"),
        "{e}"
    );

    let e = stderr(&peakcrew(&[
        "simulate",
        "--scenario",
        "scenarios/double11.toml",
    ]));
    assert!(e.contains("missing --roster, --forecast"), "{e}");

    // The roster and the agents file must belong together.
    let stranger = dir.path().join("stranger.csv");
    let text = std::fs::read_to_string(&roster).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let (_, tail) = rest.split_once(',').unwrap();
    std::fs::write(&stranger, format!("{head}\nZ999,{tail}")).unwrap();
    let e = stderr(&base(&forecast, &stranger, &[]));
    assert!(
        e.contains("agent `Z999`") && e.contains("not in the agents file"),
        "{e}"
    );
    let e = stderr(&base(&forecast, &bad, &[]));
    assert!(
        e.contains("bad.csv:1: expected the header `agent,name,group"),
        "{e}"
    );

    // Without an agents_file in the scenario, --roster needs --agents.
    let scenario_text = std::fs::read_to_string(root().join("scenarios/double11.toml")).unwrap();
    let anonymous = dir.path().join("anonymous.toml");
    std::fs::write(
        &anonymous,
        scenario_text
            .lines()
            .filter(|l| !l.starts_with("agents_file"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let e = stderr(&peakcrew(&[
        "simulate",
        "--scenario",
        anonymous.to_str().unwrap(),
        "--forecast",
        forecast.to_str().unwrap(),
        "--roster",
        roster.to_str().unwrap(),
    ]));
    assert!(e.contains("--roster needs the agents file"), "{e}");

    let e = stderr(&base(&forecast, &roster, &["--replications", "0"]));
    assert!(
        e.contains("option replications: expected 1 to 100000, found 0"),
        "{e}"
    );
}

#[test]
fn shrinkage_is_applied_unless_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let (forecast, roster) = write_day(dir.path(), 10_000.0, 40);
    let run = |extra: &[&str]| {
        let mut a = vec![
            "simulate",
            "--scenario",
            "scenarios/double11.toml",
            "--forecast",
            forecast.to_str().unwrap(),
            "--roster",
            roster.to_str().unwrap(),
            "--agents",
            "scenarios/double11-agents.csv",
            "--replications",
            "4",
            "--json",
        ];
        a.extend(extra);
        json(&peakcrew(&a))
    };
    let with = run(&[]);
    let without = run(&["--no-shrinkage"]);
    // The scenario's 15% shrinkage: about 0.15 × 40 agents × 4 replications miss their shift.
    let absences = with["counters"]["absences"].as_u64().unwrap();
    assert!((10..=45).contains(&absences), "{absences}");
    assert_eq!(without["counters"]["absences"], 0);
    let sl = |v: &Value| mean(&v["overall"], "service_level");
    let occ = |v: &Value| mean(&v["overall"], "occupancy");
    assert!(
        sl(&without) > sl(&with),
        "{} vs {}",
        sl(&without),
        sl(&with)
    );
    assert!(
        occ(&without) < occ(&with),
        "{} vs {}",
        occ(&without),
        occ(&with)
    );
}
