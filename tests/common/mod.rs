//! Helpers shared by the end-to-end tests of the planning commands: run the binary, read CSV
//! files as rows, and count agents on duty from shift rows with their breaks.
#![allow(dead_code)] // each test crate uses its own subset

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, FixedOffset};

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
