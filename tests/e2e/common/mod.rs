//! Helpers shared by the end-to-end tests of the planning commands: run the binary, read CSV
//! files as rows, and count agents on duty from shift rows with their breaks.
#![allow(dead_code)] // each test crate uses its own subset

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, FixedOffset};

/// A small scenario for `peakcrew plan`: two days, a chat and a phone queue, three groups
/// (one temporary), day, evening and night shifts, no agents file (the plan generates one).
pub const SMALL_PLAN: &str = r#"
name = "small"
time_zone = "Asia/Shanghai"
interval_minutes = 30
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
file = "history.csv"
weeks = 4
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
sla = { kind = "service-level", fraction = 0.8, answer_seconds = 90 }
patience_seconds = 300
aht_seconds = 400
volume = { daily_contacts = 250, profile = "retail-evening" }
[[queues]]
id = "hotline"
channel = "phone"
skill = "general"
language = "zh"
sla = { kind = "service-level", fraction = 0.9, answer_seconds = 20 }
patience_seconds = 120
aht_seconds = 300
volume = { daily_contacts = 200, profile = "business-hours" }
[[groups]]
id = "chat"
skills = [{ skill = "returns", proficiency = 4 }]
languages = ["zh"]
headcount = 12
cost_per_hour = 40.0
[[groups]]
id = "phone"
skills = [{ skill = "general", proficiency = 4 }, { skill = "returns", proficiency = 2 }]
languages = ["zh"]
headcount = 10
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
id = "evening"
earliest_start = "13:00"
latest_start = "15:00"
start_step_minutes = 60
length_minutes = 480
breaks = [{ name = "meal", minutes = 30, paid = true, earliest_after_start_minutes = 180, latest_after_start_minutes = 300 }]
[[shifts.templates]]
id = "night"
earliest_start = "22:00"
latest_start = "23:00"
start_step_minutes = 60
length_minutes = 480
breaks = [{ name = "meal", minutes = 30, paid = true, earliest_after_start_minutes = 180, latest_after_start_minutes = 300 }]
"#;

pub fn peakcrew(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(args)
        .output()
        .expect("run peakcrew")
}

pub fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|_| panic!("bad time {s}"))
}

pub fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// `name HH:MM-HH:MM; ...` inside a shift starting at `start`, as (start, end) instants.
pub fn breaks(
    text: &str,
    start: DateTime<FixedOffset>,
) -> Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let mut out = Vec::new();
    let mut cursor = start;
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let span = item.rsplit_once(' ').unwrap().1;
        let (a, b) = span.split_once('-').unwrap();
        let at = |hm: &str, after: DateTime<FixedOffset>| {
            let t = chrono::NaiveTime::parse_from_str(hm, "%H:%M").unwrap();
            let same = after
                .date_naive()
                .and_time(t)
                .and_local_timezone(*after.offset())
                .unwrap();
            if same >= after {
                same
            } else {
                same + Duration::days(1)
            }
        };
        let s = at(a, cursor);
        let e = at(b, s);
        out.push((s, e));
        cursor = e;
    }
    out
}

/// (group, start, end, breaks text, count): one shift of schedule.csv or roster.csv.
pub type ShiftRow = (
    String,
    DateTime<FixedOffset>,
    DateTime<FixedOffset>,
    String,
    f64,
);

/// Agents on duty per (group, interval start) of `minutes`-long intervals, from rows with start,
/// end, breaks and a count.
pub fn on_duty(
    rows: &[ShiftRow],
    intervals: &[DateTime<FixedOffset>],
    minutes: i64,
) -> BTreeMap<(String, DateTime<FixedOffset>), f64> {
    let mut duty = BTreeMap::new();
    for (group, start, end, text, count) in rows {
        let br = breaks(text, *start);
        for &t in intervals {
            let t_end = t + Duration::minutes(minutes);
            let overlap = |a: DateTime<FixedOffset>, b: DateTime<FixedOffset>| {
                ((b.min(t_end) - a.max(t)).num_minutes().max(0)) as f64 / minutes as f64
            };
            let share = overlap(*start, *end) - br.iter().map(|&(a, b)| overlap(a, b)).sum::<f64>();
            if share > 0.0 {
                *duty.entry((group.clone(), t)).or_insert(0.0) += count * share;
            }
        }
    }
    duty
}

/// The figures of the one tally (`peakcrew_core::tally`) that the daemon's queue stats and the
/// simulator's reports both carry under these names.
pub const TALLY_FIGURES: [&str; 5] = [
    "service_level",
    "service_level_excluding_short_abandons",
    "asa_seconds",
    "mean_wait_seconds",
    "abandonment_rate",
];
