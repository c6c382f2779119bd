//! The files the schedule and roster stages write and read back.
//!
//! * `schedule.csv` — `group,template,day,start,end,breaks,count`: `day` is the local date the
//!   shift starts on, `start`/`end` RFC 3339 with the zone's offset, `breaks` a `; `-separated
//!   list of `name HH:MM-HH:MM` in local wall-clock time (each break lies inside its shift, so
//!   the time of day fixes the date), `count` the agents working exactly that shift.
//! * `coverage.csv` — `queue,start,required,allocated,over,under` per queue and interval.
//! * `allocation.csv` — `start,group,queue,agents`: how each group's on-duty agents are split over
//!   its queues (non-zero rows only). Summed by group it equals the on-duty count schedule.csv
//!   gives; summed by queue it is coverage.csv's `allocated`.
//! * `summary.json` — [`PlanSummary`](super::PlanSummary).
//! * `roster.csv` — `agent,name,group,template,date,start,end,breaks,primary_skill`, one row per
//!   agent and shift, breaks as in schedule.csv.
//!
//! Readers report the file and line of the first bad row.

use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime};
use chrono_tz::Tz;

use super::roster::{Assignment, Roster};
use super::{AllocationRow, CoverageRow, PlacedBreak, PlannedShift, ScheduleError, ShiftPlan};
use crate::csv_rows::{CsvFile, Record};
use peakcrew_core::model::local_to_utc;

/// A number with at most six decimals and no trailing zeros.
pub fn fmt_num(x: f64) -> String {
    let r = (x * 1e6).round() / 1e6;
    let s = format!("{r:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// `name HH:MM-HH:MM; ...`
pub fn fmt_breaks(breaks: &[PlacedBreak]) -> String {
    breaks
        .iter()
        .map(|b| {
            format!(
                "{} {}-{}",
                b.name,
                b.start.format("%H:%M"),
                b.end.format("%H:%M")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ScheduleError + '_ {
    move |source| ScheduleError::Io {
        file: path.display().to_string(),
        source,
    }
}

const SCHEDULE_HEADER: [&str; 7] = [
    "group", "template", "day", "start", "end", "breaks", "count",
];
const COVERAGE_HEADER: [&str; 6] = ["queue", "start", "required", "allocated", "over", "under"];
const ALLOCATION_HEADER: [&str; 4] = ["start", "group", "queue", "agents"];
const ROSTER_HEADER: [&str; 9] = [
    "agent",
    "name",
    "group",
    "template",
    "date",
    "start",
    "end",
    "breaks",
    "primary_skill",
];

/// Writes one CSV file: the header, then one record per row.
fn write_table<const N: usize>(
    path: &Path,
    header: [&str; N],
    rows: impl Iterator<Item = [String; N]>,
) -> Result<(), ScheduleError> {
    let file = std::fs::File::create(path).map_err(io_err(path))?;
    crate::csv_rows::write_records(file, header, rows).map_err(io_err(path))
}

/// Writes a summary as pretty JSON with a final newline.
fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), ScheduleError> {
    let json =
        serde_json::to_string_pretty(value).map_err(|e| ScheduleError::Internal(e.to_string()))?;
    std::fs::write(path, json + "\n").map_err(io_err(path))
}

/// Writes schedule.csv, coverage.csv, allocation.csv and summary.json into `dir` (created if
/// needed).
pub fn write_plan(plan: &ShiftPlan, dir: &Path) -> Result<(), ScheduleError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    write_table(
        &dir.join("schedule.csv"),
        SCHEDULE_HEADER,
        plan.shifts.iter().map(|s| {
            [
                s.group.clone(),
                s.template.clone(),
                s.day.to_string(),
                s.start.to_rfc3339(),
                s.end.to_rfc3339(),
                fmt_breaks(&s.breaks),
                s.count.to_string(),
            ]
        }),
    )?;
    write_coverage(&plan.coverage, &plan.allocation, dir)?;

    write_json(&dir.join("summary.json"), &plan.summary)
}

/// Writes coverage.csv (queue × interval) and allocation.csv (group × queue × interval) into
/// `dir`: a plan's, or a roster's as [`super::roster_coverage`] recomputes them.
pub fn write_coverage(
    coverage: &[CoverageRow],
    allocation: &[AllocationRow],
    dir: &Path,
) -> Result<(), ScheduleError> {
    write_table(
        &dir.join("coverage.csv"),
        COVERAGE_HEADER,
        coverage.iter().map(|c| {
            [
                c.queue.clone(),
                c.start.to_rfc3339(),
                fmt_num(c.required),
                fmt_num(c.allocated),
                fmt_num(c.over),
                fmt_num(c.under),
            ]
        }),
    )?;
    write_table(
        &dir.join("allocation.csv"),
        ALLOCATION_HEADER,
        allocation.iter().map(|a| {
            [
                a.start.to_rfc3339(),
                a.group.clone(),
                a.queue.clone(),
                fmt_num(a.agents),
            ]
        }),
    )
}

/// Writes roster.csv, roster-summary.json and `calendars/<agent>.ics` (one per rostered agent)
/// into `dir`. `produced` is the calendars' DTSTAMP.
pub fn write_roster(
    roster: &Roster,
    dir: &Path,
    produced: DateTime<chrono::Utc>,
) -> Result<(), ScheduleError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    write_table(
        &dir.join("roster.csv"),
        ROSTER_HEADER,
        roster.assignments.iter().map(|a| {
            [
                a.agent.clone(),
                a.name.clone(),
                a.group.clone(),
                a.template.clone(),
                a.date.to_string(),
                a.start.to_rfc3339(),
                a.end.to_rfc3339(),
                fmt_breaks(&a.breaks),
                a.primary_skill.clone(),
            ]
        }),
    )?;
    write_json(&dir.join("roster-summary.json"), &roster.summary)?;

    let calendars = dir.join("calendars");
    std::fs::create_dir_all(&calendars).map_err(io_err(&calendars))?;
    let mut by_agent: std::collections::BTreeMap<&str, Vec<&Assignment>> = Default::default();
    for a in &roster.assignments {
        by_agent.entry(a.agent.as_str()).or_default().push(a);
    }
    for (agent, shifts) in by_agent {
        let path = calendars.join(format!("{}.ics", safe_file_name(agent)));
        let text = super::ics::calendar(agent, &shifts[0].name, &shifts, produced);
        std::fs::write(&path, text).map_err(io_err(&path))?;
    }
    Ok(())
}

/// An agent id as a file name: anything but letters, digits, `-` and `_` becomes `_`.
pub fn safe_file_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The records of `path` after its header, which must be `header`.
fn records(path: &Path, header: &[&str]) -> Result<Vec<Record>, ScheduleError> {
    let csv = CsvFile::open(path)?;
    csv.expect_header(header)?;
    Ok(csv.records()?)
}

fn field_err(path: &Path, line: u64, message: String) -> ScheduleError {
    ScheduleError::File {
        file: path.display().to_string(),
        line: line as usize,
        message,
    }
}

fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// Parses `name HH:MM-HH:MM; ...` for a shift starting at `start` in zone `tz`.
pub fn parse_breaks(
    text: &str,
    start: DateTime<FixedOffset>,
    tz: Tz,
) -> Result<Vec<PlacedBreak>, String> {
    let mut out = Vec::new();
    let local_start = start.with_timezone(&tz).naive_local();
    let mut cursor = local_start;
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, span) = item
            .rsplit_once(' ')
            .ok_or_else(|| format!("expected a break like `lunch 11:00-12:00`, found `{item}`"))?;
        let (from, to) = span
            .split_once('-')
            .ok_or_else(|| format!("expected a break like `lunch 11:00-12:00`, found `{item}`"))?;
        let hm = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| format!("expected a time like 11:00 in `{item}`, found `{s}`"))
        };
        let next_at = |after: chrono::NaiveDateTime, t: NaiveTime| {
            let same = after.date().and_time(t);
            if same >= after {
                same
            } else {
                same + Duration::days(1)
            }
        };
        let b_start = next_at(cursor, hm(from)?);
        let b_end = next_at(b_start, hm(to)?);
        cursor = b_end;
        let fixed = |l| local_to_utc(tz, l).with_timezone(&tz).fixed_offset();
        out.push(PlacedBreak {
            name: name.trim().to_string(),
            start: fixed(b_start),
            end: fixed(b_end),
        });
    }
    Ok(out)
}

/// A shift row's date, start, end and breaks.
type ShiftFields = (
    NaiveDate,
    DateTime<FixedOffset>,
    DateTime<FixedOffset>,
    Vec<PlacedBreak>,
);

/// The date, start, end and breaks of a shift row, in four columns from `first` on (the first
/// named `date_field`), as schedule.csv and roster.csv write them.
fn shift_fields(
    rec: &Record,
    first: usize,
    date_field: &str,
    tz: Tz,
) -> Result<ShiftFields, String> {
    let date = NaiveDate::parse_from_str(&rec[first], "%Y-%m-%d").map_err(|_| {
        format!(
            "{date_field}: expected a date like 2026-11-11, found `{}`",
            &rec[first]
        )
    })?;
    let time = |i: usize, field: &str| {
        parse_time(&rec[i])
            .ok_or_else(|| format!("{field}: expected an RFC 3339 time, found `{}`", &rec[i]))
    };
    let start = time(first + 1, "start")?;
    let end = time(first + 2, "end")?;
    if end <= start {
        return Err(format!(
            "end {} is not after start {}",
            &rec[first + 2],
            &rec[first + 1]
        ));
    }
    let breaks = parse_breaks(&rec[first + 3], start, tz).map_err(|m| format!("breaks: {m}"))?;
    Ok((date, start, end, breaks))
}

/// Reads schedule.csv written by [`write_plan`], each shift with its line number.
pub fn read_schedule(path: &Path, tz: Tz) -> Result<Vec<(usize, PlannedShift)>, ScheduleError> {
    let header = SCHEDULE_HEADER;
    let mut out = Vec::new();
    for rec in records(path, &header)? {
        let err = |m: String| field_err(path, rec.line, m);
        let (day, start, end, breaks) = shift_fields(&rec, 2, "day", tz).map_err(err)?;
        let count: u32 = rec[6].parse().map_err(|_| {
            err(format!(
                "count: expected a whole number, found `{}`",
                &rec[6]
            ))
        })?;
        out.push((
            rec.line as usize,
            PlannedShift {
                group: rec[0].to_string(),
                template: rec[1].to_string(),
                day,
                start,
                end,
                breaks,
                count,
            },
        ));
    }
    Ok(out)
}

/// Reads roster.csv written by [`write_roster`]: one [`Assignment`] per row, in file order.
/// Breaks are local wall-clock times in `tz`, placed from the shift start on as in schedule.csv.
pub fn read_roster(path: &Path, tz: Tz) -> Result<Vec<Assignment>, ScheduleError> {
    let header = ROSTER_HEADER;
    let mut out = Vec::new();
    for rec in records(path, &header)? {
        let err = |m: String| field_err(path, rec.line, m);
        if rec[0].trim().is_empty() {
            return Err(err("agent: expected an agent id, found nothing".into()));
        }
        let (date, start, end, breaks) = shift_fields(&rec, 4, "date", tz).map_err(err)?;
        if let Some(b) = breaks.iter().find(|b| b.end > end) {
            return Err(err(format!(
                "breaks: `{} {}-{}` ends after the shift",
                b.name,
                b.start.format("%H:%M"),
                b.end.format("%H:%M")
            )));
        }
        out.push(Assignment {
            agent: rec[0].to_string(),
            name: rec[1].to_string(),
            group: rec[2].to_string(),
            template: rec[3].to_string(),
            date,
            start,
            end,
            breaks,
            primary_skill: rec[8].to_string(),
        });
    }
    Ok(out)
}

/// Reads coverage.csv written by [`write_plan`].
pub fn read_coverage(path: &Path) -> Result<Vec<CoverageRow>, ScheduleError> {
    let header = COVERAGE_HEADER;
    let mut out = Vec::new();
    for rec in records(path, &header)? {
        let err = |m: String| field_err(path, rec.line, m);
        let num = |i: usize| {
            rec[i].parse::<f64>().map_err(|_| {
                err(format!(
                    "{}: expected a number, found `{}`",
                    header[i], &rec[i]
                ))
            })
        };
        out.push(CoverageRow {
            queue: rec[0].to_string(),
            start: parse_time(&rec[1]).ok_or_else(|| {
                err(format!(
                    "start: expected an RFC 3339 time, found `{}`",
                    &rec[1]
                ))
            })?,
            required: num(2)?,
            allocated: num(3)?,
            over: num(4)?,
            under: num(5)?,
        });
    }
    Ok(out)
}

/// Reads allocation.csv written by [`write_plan`].
pub fn read_allocation(path: &Path) -> Result<Vec<AllocationRow>, ScheduleError> {
    let header = ALLOCATION_HEADER;
    let mut out = Vec::new();
    for rec in records(path, &header)? {
        let err = |m: String| field_err(path, rec.line, m);
        out.push(AllocationRow {
            start: parse_time(&rec[0]).ok_or_else(|| {
                err(format!(
                    "start: expected an RFC 3339 time, found `{}`",
                    &rec[0]
                ))
            })?,
            group: rec[1].to_string(),
            queue: rec[2].to_string(),
            agents: rec[3]
                .parse()
                .map_err(|_| err(format!("agents: expected a number, found `{}`", &rec[3])))?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt_num(14.0), "14");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(1.0 / 3.0), "0.333333");
        assert_eq!(fmt_num(-0.0000001), "0");
    }

    #[test]
    fn breaks_after_midnight_land_on_the_next_day() {
        let tz = chrono_tz::Asia::Shanghai;
        let start = DateTime::parse_from_rfc3339("2026-11-10T22:00:00+08:00").unwrap();
        let b = parse_breaks("meal 01:30-02:00", start, tz).unwrap();
        assert_eq!(b[0].start.to_rfc3339(), "2026-11-11T01:30:00+08:00");
        assert_eq!(b[0].end.to_rfc3339(), "2026-11-11T02:00:00+08:00");
        assert_eq!(fmt_breaks(&b), "meal 01:30-02:00");
        assert!(parse_breaks("lunch", start, tz).is_err());
    }

    #[test]
    fn roster_reads_back_what_was_written() {
        let tz = chrono_tz::Asia::Shanghai;
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        let night = Assignment {
            agent: "A0007".into(),
            name: "王伟".into(),
            group: "hotline".into(),
            template: "night".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
            start: t("2026-11-10T22:00:00+08:00"),
            end: t("2026-11-11T06:00:00+08:00"),
            breaks: parse_breaks(
                "break 23:30-23:45; meal 01:30-02:00",
                t("2026-11-10T22:00:00+08:00"),
                tz,
            )
            .unwrap(),
            primary_skill: "general".into(),
        };
        let day = Assignment {
            agent: "A0008".into(),
            name: "Li, Na".into(),
            template: "day".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 11).unwrap(),
            start: t("2026-11-11T09:00:00+08:00"),
            end: t("2026-11-11T18:00:00+08:00"),
            breaks: Vec::new(),
            ..night.clone()
        };
        let roster = Roster {
            assignments: vec![night, day],
            summary: super::super::roster::RosterSummary {
                agents: 2,
                rostered_agents: 2,
                planned_shifts: 2,
                filled_shifts: 2,
                unfilled: Vec::new(),
                contract_shortfalls: Vec::new(),
                preferred_template_share: 1.0,
                preferred_days_off_kept: 1.0,
                max_weekend_days: 0,
                mean_weekend_days: 0.0,
                max_night_shifts: 1,
                agents_with_night_shifts: 1,
                groups: Vec::new(),
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let produced = t("2026-11-01T00:00:00+08:00").with_timezone(&chrono::Utc);
        write_roster(&roster, dir.path(), produced).unwrap();
        let back = read_roster(&dir.path().join("roster.csv"), tz).unwrap();
        assert_eq!(back, roster.assignments);
        assert_eq!(
            back[0].breaks[1].start.to_rfc3339(),
            "2026-11-11T01:30:00+08:00"
        );

        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            "agent,name,group,template,date,start,end,breaks,primary_skill\n\
             A1,a,hotline,day,2026-11-11,2026-11-11T09:00:00+08:00,2026-11-11T18:00:00+08:00,,general\n\
             A2,b,hotline,day,2026-11-11,2026-11-11T09:00:00+08:00,2026-11-11T18:00:00+08:00,lunch 17:30-18:30,general\n",
        )
        .unwrap();
        let e = read_roster(&bad, tz).unwrap_err().to_string();
        assert!(
            e.ends_with("bad.csv:3: breaks: `lunch 17:30-18:30` ends after the shift"),
            "{e}"
        );
        std::fs::write(&bad, "agent,date,start,end\n").unwrap();
        let e = read_roster(&bad, tz).unwrap_err().to_string();
        assert!(
            e.contains("bad.csv:1: expected the header `agent,name,group"),
            "{e}"
        );
    }
}
