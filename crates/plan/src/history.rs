//! History files: interval counts of contacts (and handle time) per queue.
//!
//! Owns the history CSV format `start,queue,contacts[,aht_seconds]` (RFC 3339 starts with their
//! UTC offset), reading it with line-numbered errors, aggregating finer intervals (5 min) to the
//! scenario's interval while reporting gaps and duplicates, and generating realistic synthetic
//! history for a scenario so the bundled example runs without private data.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Poisson};
use serde::Serialize;

use crate::csv_rows::{CsvFile, CsvRowsError, Record};
use crate::scenario::Scenario;
use peakcrew_core::model::{IntradayProfile, Queue};

/// One row of a history file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    pub start: DateTime<FixedOffset>,
    pub queue: String,
    pub contacts: f64,
    /// Average handle time of the interval's contacts; absent when the source has none.
    pub aht_seconds: Option<f64>,
    /// 1-based line in the file it came from (0 for generated rows).
    #[serde(skip)]
    pub line: usize,
}

/// A problem in a history file, with its line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowProblem {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Unreadable: `FILE: cannot read: ...`.
    #[error(transparent)]
    File(#[from] CsvRowsError),
    #[error("{file}: the file is empty; expected a header `start,queue,contacts[,aht_seconds]` and rows")]
    Empty { file: String },
    #[error("{file}:1: expected the header `start,queue,contacts[,aht_seconds]`, found `{found}`")]
    BadHeader { file: String, found: String },
    #[error("{file}: {} malformed row(s):\n{}", problems.len(), list(file, problems))]
    BadRows {
        file: String,
        problems: Vec<RowProblem>,
    },
    #[error("{file}: cannot aggregate: {message}")]
    Aggregate { file: String, message: String },
}

fn list(file: &str, problems: &[RowProblem]) -> String {
    let mut out = String::new();
    for p in problems.iter().take(50) {
        out.push_str(&format!("  {file}:{}: {}\n", p.line, p.message));
    }
    if problems.len() > 50 {
        out.push_str(&format!("  ... and {} more\n", problems.len() - 50));
    }
    out.trim_end().to_string()
}

/// A history file read in full: good rows, and the rows that were not.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub rows: Vec<HistoryRow>,
    pub problems: Vec<RowProblem>,
}

impl History {
    /// Rows grouped by queue, each in time order.
    pub fn by_queue(&self) -> BTreeMap<String, Vec<HistoryRow>> {
        let mut out: BTreeMap<String, Vec<HistoryRow>> = BTreeMap::new();
        for r in &self.rows {
            out.entry(r.queue.clone()).or_default().push(r.clone());
        }
        for rows in out.values_mut() {
            rows.sort_by_key(|r| r.start);
        }
        out
    }

    /// Latest interval start in the file.
    pub fn last_start(&self) -> Option<DateTime<FixedOffset>> {
        self.rows.iter().map(|r| r.start).max()
    }
}

/// Reads a history CSV, collecting every malformed row rather than stopping at the first.
/// Returns an error only when the file cannot be read or has no usable structure; callers decide
/// whether `problems` are fatal (the forecaster refuses them, `history import` can skip them).
/// Spreadsheet exports read as they are: a byte-order mark, CRLF line endings and quoted fields
/// (see [`crate::csv_rows`]).
pub fn read(path: &Path) -> Result<History, HistoryError> {
    history_from(CsvFile::open(path)?)
}

/// Like [`read`], but any malformed row is an error naming every bad line.
pub fn read_strict(path: &Path) -> Result<History, HistoryError> {
    let h = read(path)?;
    if h.problems.is_empty() {
        Ok(h)
    } else {
        Err(HistoryError::BadRows {
            file: path.display().to_string(),
            problems: h.problems,
        })
    }
}

/// Parses history CSV text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<History, HistoryError> {
    history_from(CsvFile::from_reader(text.as_bytes(), file)?)
}

fn history_from<R: std::io::Read>(mut csv: CsvFile<R>) -> Result<History, HistoryError> {
    let file = csv.file().to_string();
    let header: Vec<&str> = csv.header().iter().collect();
    let has_aht = match header.as_slice() {
        [] => return Err(HistoryError::Empty { file }),
        ["start", "queue", "contacts"] => false,
        ["start", "queue", "contacts", "aht_seconds"] => true,
        _ => {
            return Err(HistoryError::BadHeader {
                file,
                found: csv.header_text(),
            })
        }
    };
    let mut history = History::default();
    while let Some(record) = csv.next_record() {
        let parsed = match record {
            Ok(record) => parse_row(&record, has_aht).map_err(|message| RowProblem {
                line: record.line as usize,
                message,
            }),
            Err(CsvRowsError::Row { line, message, .. }) => Err(RowProblem {
                line: line as usize,
                message,
            }),
            Err(e @ CsvRowsError::Io { .. }) => return Err(e.into()),
        };
        match parsed {
            Ok(row) => history.rows.push(row),
            Err(problem) => history.problems.push(problem),
        }
    }
    if history.rows.is_empty() && history.problems.is_empty() {
        return Err(HistoryError::Empty { file });
    }
    Ok(history)
}

/// A number field: plain digits, no thousands separators (`1,204` is refused, not misread).
fn number(field: &str, value: &str, expected: &str) -> Result<f64, String> {
    value
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            let hint = if value.contains(',') {
                " (write numbers without thousands separators)"
            } else {
                ""
            };
            format!("{field}: expected {expected}, found `{value}`{hint}")
        })
}

/// One record of a history file, its width already checked against the header.
fn parse_row(record: &Record, has_aht: bool) -> Result<HistoryRow, String> {
    let start = DateTime::parse_from_rfc3339(&record[0]).map_err(|_| {
        format!(
            "start: expected an RFC 3339 time with offset like 2026-11-11T00:15:00+08:00, found `{}`",
            &record[0]
        )
    })?;
    if record[1].is_empty() {
        return Err("queue: expected a queue id, found an empty field".into());
    }
    let contacts = number("contacts", &record[2], "a number")?;
    if contacts < 0.0 {
        return Err(format!("contacts: expected 0 or more, found {contacts}"));
    }
    let aht_seconds = if has_aht && !record[3].is_empty() {
        let a = number("aht_seconds", &record[3], "a number of seconds")?;
        if a <= 0.0 && contacts > 0.0 {
            return Err(format!(
                "aht_seconds: expected a positive handle time, found {a}"
            ));
        }
        Some(a)
    } else {
        None
    };
    Ok(HistoryRow {
        start,
        queue: record[1].to_string(),
        contacts,
        aht_seconds,
        line: record.line as usize,
    })
}

/// Writes history rows as CSV, with handle time when any row has one (empty where a row has
/// none). A queue id that needs quoting is quoted.
pub fn write(rows: &[HistoryRow], out: &mut impl Write) -> std::io::Result<()> {
    let with_aht = rows.iter().any(|r| r.aht_seconds.is_some());
    let header = ["start", "queue", "contacts", "aht_seconds"];
    let width = if with_aht { 4 } else { 3 };
    let records = rows.iter().map(|r| {
        let mut record = vec![r.start.to_rfc3339(), r.queue.clone(), fmt_count(r.contacts)];
        if with_aht {
            record.push(r.aht_seconds.map_or(String::new(), |a| format!("{a:.1}")));
        }
        record
    });
    crate::csv_rows::write_records(out, &header[..width], records)
}

fn fmt_count(c: f64) -> String {
    if c.fract() == 0.0 {
        format!("{c:.0}")
    } else {
        format!("{c:.3}")
    }
}

/// What aggregation found besides the totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows_read: usize,
    pub rows_written: usize,
    pub source_interval_minutes: BTreeMap<String, u32>,
    /// Rows whose queue and start repeat an earlier row; the first is kept.
    pub duplicates: Vec<RowProblem>,
    /// Missing stretches inside a day that has data: (queue, first missing start, count).
    pub gaps: Vec<Gap>,
    /// Output intervals built from fewer source intervals than they span.
    pub partial_intervals: usize,
    /// Dates with no rows at all between the first and last date of a queue, on weekdays that
    /// the queue otherwise has data for.
    pub missing_days: Vec<String>,
    pub malformed: Vec<RowProblem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub queue: String,
    pub after_line: usize,
    pub from: String,
    pub missing_intervals: u32,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "read {} rows, wrote {} intervals",
            self.rows_read, self.rows_written
        )?;
        for (q, m) in &self.source_interval_minutes {
            writeln!(f, "  {q}: source interval {m} min")?;
        }
        if !self.malformed.is_empty() {
            writeln!(f, "{} malformed row(s) skipped:", self.malformed.len())?;
            for p in self.malformed.iter().take(20) {
                writeln!(f, "  line {}: {}", p.line, p.message)?;
            }
        }
        if !self.duplicates.is_empty() {
            writeln!(
                f,
                "{} duplicate row(s), first occurrence kept:",
                self.duplicates.len()
            )?;
            for p in self.duplicates.iter().take(20) {
                writeln!(f, "  line {}: {}", p.line, p.message)?;
            }
        }
        if !self.gaps.is_empty() {
            writeln!(f, "{} gap(s) inside days with data:", self.gaps.len())?;
            for g in self.gaps.iter().take(20) {
                writeln!(
                    f,
                    "  {}: {} interval(s) missing from {} (after line {})",
                    g.queue, g.missing_intervals, g.from, g.after_line
                )?;
            }
        }
        if !self.missing_days.is_empty() {
            writeln!(
                f,
                "{} missing day(s): {}",
                self.missing_days.len(),
                self.missing_days.join(", ")
            )?;
        }
        if self.partial_intervals > 0 {
            writeln!(
                f,
                "{} output interval(s) built from incomplete source data",
                self.partial_intervals
            )?;
        }
        Ok(())
    }
}

/// Aggregates rows to `interval_minutes`, by wall-clock time in each row's own offset (so a
/// DST change day keeps its local grid). Contacts are summed; handle time is contact-weighted.
pub fn aggregate(
    history: &History,
    interval_minutes: u32,
    file: &str,
) -> Result<(Vec<HistoryRow>, ImportReport), HistoryError> {
    if interval_minutes == 0 || (24 * 60) % interval_minutes != 0 {
        return Err(HistoryError::Aggregate {
            file: file.into(),
            message: format!("interval {interval_minutes} min does not divide a day"),
        });
    }
    let mut report = ImportReport {
        rows_read: history.rows.len() + history.problems.len(),
        malformed: history.problems.clone(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for (queue, rows) in history.by_queue() {
        // Keep the first of each duplicate (queue, instant).
        let mut seen = BTreeSet::new();
        let mut unique = Vec::with_capacity(rows.len());
        for r in rows {
            if seen.insert(r.start.with_timezone(&Utc)) {
                unique.push(r);
            } else {
                report.duplicates.push(RowProblem {
                    line: r.line,
                    message: format!("{queue} at {} repeats an earlier row", r.start.to_rfc3339()),
                });
            }
        }
        let source = source_interval(&unique);
        if source > interval_minutes || !interval_minutes.is_multiple_of(source) {
            return Err(HistoryError::Aggregate {
                file: file.into(),
                message: format!(
                    "queue {queue} has {source}-minute intervals, which cannot be aggregated to {interval_minutes} minutes"
                ),
            });
        }
        report.source_interval_minutes.insert(queue.clone(), source);
        find_gaps(&queue, &unique, source, &mut report);

        // Bucket by local wall-clock interval start.
        let mut buckets: BTreeMap<DateTime<FixedOffset>, (f64, f64, f64, u32)> = BTreeMap::new();
        for r in &unique {
            let local = r.start.naive_local();
            let minute = local.hour() * 60 + local.minute();
            let floored = minute - minute % interval_minutes;
            let start_local = local
                .date()
                .and_hms_opt(floored / 60, floored % 60, 0)
                .unwrap_or(local);
            let start = start_local
                .and_local_timezone(*r.start.offset())
                .single()
                .unwrap_or(r.start);
            let b = buckets.entry(start).or_insert((0.0, 0.0, 0.0, 0));
            b.0 += r.contacts;
            if let Some(a) = r.aht_seconds {
                b.1 += a * r.contacts;
                b.2 += r.contacts;
            }
            b.3 += 1;
        }
        let per_bucket = interval_minutes / source;
        for (start, (contacts, aht_sum, aht_weight, n)) in buckets {
            if n < per_bucket {
                report.partial_intervals += 1;
            }
            out.push(HistoryRow {
                start,
                queue: queue.clone(),
                contacts,
                aht_seconds: (aht_weight > 0.0).then(|| aht_sum / aht_weight),
                line: 0,
            });
        }
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.queue.cmp(&b.queue)));
    report.rows_written = out.len();
    Ok((out, report))
}

/// The most common step between consecutive rows of a queue, in minutes.
fn source_interval(rows: &[HistoryRow]) -> u32 {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for w in rows.windows(2) {
        let step = (w[1].start - w[0].start).num_minutes();
        if step > 0 && step <= 60 {
            *counts.entry(step).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(step, n)| (n, -step))
        .map_or(15, |(step, _)| step as u32)
}

fn find_gaps(queue: &str, rows: &[HistoryRow], source: u32, report: &mut ImportReport) {
    let step = Duration::minutes(source as i64);
    for w in rows.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.start.naive_local().date() == b.start.naive_local().date() && b.start - a.start > step
        {
            let missing = ((b.start - a.start).num_minutes() / source as i64 - 1) as u32;
            report.gaps.push(Gap {
                queue: queue.to_string(),
                after_line: a.line,
                from: (a.start + step).to_rfc3339(),
                missing_intervals: missing,
            });
        }
    }
    let dates: BTreeSet<NaiveDate> = rows.iter().map(|r| r.start.naive_local().date()).collect();
    let weekdays: BTreeSet<u32> = dates
        .iter()
        .map(|d| d.weekday().num_days_from_monday())
        .collect();
    if let (Some(&first), Some(&last)) = (dates.first(), dates.last()) {
        let mut d = first;
        while d <= last {
            if !dates.contains(&d) && weekdays.contains(&d.weekday().num_days_from_monday()) {
                report.missing_days.push(format!("{queue} {d}"));
            }
            d += Duration::days(1);
        }
    }
}

// ------------------------------------------------------------------------ generator

/// Relative volume at hour-of-day `h` (fractional) for a profile; weekends run later.
fn intraday_weight(profile: IntradayProfile, h: f64, weekend: bool) -> f64 {
    let bump = |centre: f64, width: f64| (-0.5 * ((h - centre) / width).powi(2)).exp();
    let shift = if weekend { 0.75 } else { 0.0 };
    match profile {
        IntradayProfile::RetailEvening => {
            // Quiet small hours, a late-morning peak and the larger evening peak after work.
            0.06 + 0.95 * bump(10.5 + shift, 1.6)
                + 0.7 * bump(15.0 + shift, 1.8)
                + 1.35 * bump(21.0, 1.4)
                + 0.25 * bump(24.0, 0.8)
        }
        IntradayProfile::BusinessHours => {
            let open = if (8.0..22.0).contains(&h) { 1.0 } else { 0.04 };
            open * (0.25
                + 1.1 * bump(10.0 + shift, 1.4)
                + 0.85 * bump(14.5 + shift, 1.6)
                + 0.35 * bump(20.0, 1.2))
        }
        IntradayProfile::Spread => 0.12 + bump(11.0, 3.0) + 0.8 * bump(19.0, 3.0),
    }
}

/// Day-of-week volume factors, Monday first; Saturday and Sunday take the queue's weekend factor.
const WEEKDAY_FACTOR: [f64; 5] = [1.06, 1.0, 0.98, 0.97, 0.95];

/// Handle time varies by hour: longer at the evening peak, when questions are about orders
/// placed that day, shorter at night.
fn aht_factor(h: f64) -> f64 {
    1.0 + 0.07 * ((h - 15.0) / 24.0 * std::f64::consts::TAU).cos()
}

/// Generates `weeks` of history ending the day before the scenario's horizon.
///
/// Expected contacts per interval = daily volume × growth × day-of-week factor × intraday share ×
/// every calendar event's multiplier; counts are drawn from a negative binomial (a gamma-mixed
/// Poisson, so variance exceeds the mean as in real arrivals) with a day-level lognormal shock.
/// One ChaCha stream per queue, seeded from `seed` and the queue's position, so the same seed
/// gives the same bytes.
pub fn generate(scenario: &Scenario, weeks: u32, seed: u64) -> Vec<HistoryRow> {
    let end = scenario.horizon.start;
    let start = end - Duration::days(7 * weeks as i64);
    let grid = peakcrew_core::model::TimeGrid::new(
        scenario.time_zone,
        scenario.interval_minutes,
        start,
        (end - start).num_days() as u32,
    );
    let mut rows = Vec::new();
    for (qi, queue) in scenario.queues.iter().enumerate() {
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (qi as u64 + 1));
        rows.extend(generate_queue(scenario, queue, &grid, end, &mut rng));
    }
    rows.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.queue.cmp(&b.queue)));
    rows
}

/// Generates history over the explicit local dates `first..end` (end exclusive), which may run
/// past the horizon start, e.g. to obtain the "actual" days a forecast is checked against.
/// Growth is measured from the horizon start as in [`generate`], so the two agree in level;
/// the random streams start at `first`, so the counts differ from `generate`'s draws.
pub fn generate_between(
    scenario: &Scenario,
    first: NaiveDate,
    end: NaiveDate,
    seed: u64,
) -> Vec<HistoryRow> {
    let days = (end - first).num_days().max(0) as u32;
    let grid = peakcrew_core::model::TimeGrid::new(
        scenario.time_zone,
        scenario.interval_minutes,
        first,
        days,
    );
    let mut rows = Vec::new();
    for (qi, queue) in scenario.queues.iter().enumerate() {
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (qi as u64 + 1));
        rows.extend(generate_queue(
            scenario,
            queue,
            &grid,
            scenario.horizon.start,
            &mut rng,
        ));
    }
    rows.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.queue.cmp(&b.queue)));
    rows
}

fn generate_queue(
    scenario: &Scenario,
    queue: &Queue,
    grid: &peakcrew_core::model::TimeGrid,
    reference: NaiveDate,
    rng: &mut ChaCha8Rng,
) -> Vec<HistoryRow> {
    // Dispersion of the gamma mixing: variance = mean + mean^2 / K.
    const K: f64 = 120.0;
    let day_shock = LogNormal::new(0.0, 0.05).expect("valid lognormal");
    let mut out = Vec::new();
    for date in grid.dates() {
        let intervals = grid.intervals_on(date);
        let weekend = date.weekday().num_days_from_monday() >= 5;
        let dow = if weekend {
            queue.volume.weekend_factor
        } else {
            WEEKDAY_FACTOR[date.weekday().num_days_from_monday() as usize]
        };
        let years_back = (reference - date).num_days() as f64 / 365.25;
        let growth = (1.0 + queue.volume.annual_growth).powf(-years_back);
        let shock = day_shock.sample(rng);
        let hours = |i: &peakcrew_core::model::Interval| {
            i.local.hour() as f64 + i.local.minute() as f64 / 60.0
        };
        let total_weight: f64 = intervals
            .iter()
            .map(|i| {
                intraday_weight(
                    queue.volume.profile,
                    hours(i) + grid.interval_minutes as f64 / 120.0,
                    weekend,
                )
            })
            .sum();
        for iv in &intervals {
            let h = hours(iv) + grid.interval_minutes as f64 / 120.0;
            let share = intraday_weight(queue.volume.profile, h, weekend) / total_weight;
            let events = scenario.event_multiplier(&queue.id, iv.local);
            let mean = queue.volume.daily_contacts * growth * dow * share * events * shock;
            let contacts = if mean <= 0.0 {
                0.0
            } else {
                let lambda = Gamma::new(K, mean / K).expect("positive gamma").sample(rng);
                if lambda <= 0.0 {
                    0.0
                } else {
                    Poisson::new(lambda).expect("positive poisson").sample(rng)
                }
            };
            // Event traffic is a little slower to handle (order lookups, return labels).
            let event_stretch = 1.0 + 0.05 * (events - 1.0).clamp(0.0, 2.0);
            let noise: f64 = 1.0 + (rng.random::<f64>() - 0.5) * 0.2 / (1.0 + contacts).sqrt();
            let aht = queue.aht_seconds * aht_factor(h) * event_stretch * noise;
            out.push(HistoryRow {
                start: iv.start.with_timezone(&iv_offset(scenario, iv)),
                queue: queue.id.clone(),
                contacts,
                aht_seconds: Some((aht * 10.0).round() / 10.0),
                line: 0,
            });
        }
    }
    out
}

fn iv_offset(scenario: &Scenario, iv: &peakcrew_core::model::Interval) -> FixedOffset {
    use chrono::Offset;
    iv.start.with_timezone(&scenario.time_zone).offset().fix()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_collects_every_bad_line() {
        let text = "start,queue,contacts,aht_seconds\n\
            2026-11-11T00:00:00+08:00,chat,12,300\n\
            not-a-time,chat,3,200\n\
            2026-11-11T00:30:00+08:00,chat,-4,200\n\
            2026-11-11T00:45:00+08:00,chat,abc,200\n\
            2026-11-11T01:00:00+08:00,chat,5\n";
        let h = parse(text, "h.csv").unwrap();
        assert_eq!(h.rows.len(), 1);
        let lines: Vec<usize> = h.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6]);
        assert!(h.problems[0].message.contains("RFC 3339"));
        assert!(h.problems[1].message.contains("0 or more"));
        assert!(h.problems[3].message.contains("expected 4 fields"));
    }

    #[test]
    fn a_spreadsheet_export_reads_and_a_quoted_queue_round_trips() {
        let text = "\u{feff}\"start\",\"queue\",\"contacts\",\"aht_seconds\"\r\n\
            \"2026-11-01T00:00:00+08:00\",\"zh-chat\",\"12\",\"300\"\r\n\
            \"2026-11-01T00:15:00+08:00\",\"zh-chat\",\"1,204\",\"300\"\r\n\
            2026-11-01T00:30:00+08:00,\"zh, \"\"vip\"\"\",7,\r\n";
        let h = parse(text, "x.csv").unwrap();
        let got: Vec<(usize, &str, f64, Option<f64>)> = h
            .rows
            .iter()
            .map(|r| (r.line, r.queue.as_str(), r.contacts, r.aht_seconds))
            .collect();
        assert_eq!(
            got,
            [
                (2, "zh-chat", 12.0, Some(300.0)),
                (4, "zh, \"vip\"", 7.0, None)
            ]
        );
        assert_eq!(
            h.problems,
            [RowProblem {
                line: 3,
                message: "contacts: expected a number, found `1,204` \
                          (write numbers without thousands separators)"
                    .into()
            }]
        );

        let mut out = Vec::new();
        write(&h.rows, &mut out).unwrap();
        let written = String::from_utf8(out).unwrap();
        assert_eq!(
            written,
            "start,queue,contacts,aht_seconds\n\
             2026-11-01T00:00:00+08:00,zh-chat,12,300.0\n\
             2026-11-01T00:30:00+08:00,\"zh, \"\"vip\"\"\",7,\n"
        );
        let back = parse(&written, "y.csv").unwrap();
        assert_eq!(back.rows[1].queue, "zh, \"vip\"");
        assert_eq!(back.rows[1].line, 3);
    }

    #[test]
    fn empty_file_and_bad_header_are_errors() {
        assert!(matches!(
            parse("", "e.csv"),
            Err(HistoryError::Empty { .. })
        ));
        assert!(matches!(
            parse("start,queue,contacts\n", "e.csv"),
            Err(HistoryError::Empty { .. })
        ));
        assert!(matches!(
            parse("when,q,n\n1,2,3\n", "e.csv"),
            Err(HistoryError::BadHeader { .. })
        ));
    }

    #[test]
    fn aggregates_five_minutes_to_fifteen_with_gaps_and_duplicates() {
        let text = "start,queue,contacts,aht_seconds\n\
            2026-11-11T09:00:00+08:00,q,10,100\n\
            2026-11-11T09:05:00+08:00,q,20,200\n\
            2026-11-11T09:05:00+08:00,q,99,999\n\
            2026-11-11T09:10:00+08:00,q,30,300\n\
            2026-11-11T09:15:00+08:00,q,1,100\n\
            2026-11-11T09:35:00+08:00,q,2,100\n";
        let h = parse(text, "h.csv").unwrap();
        let (rows, report) = aggregate(&h, 15, "h.csv").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].contacts, 60.0);
        let aht = rows[0].aht_seconds.unwrap();
        assert!((aht - (1000.0 + 4000.0 + 9000.0) / 60.0).abs() < 1e-9);
        assert_eq!(report.duplicates.len(), 1);
        assert_eq!(report.duplicates[0].line, 4);
        assert_eq!(report.gaps.len(), 1);
        assert_eq!(report.gaps[0].missing_intervals, 3);
        assert_eq!(report.gaps[0].after_line, 6);
        assert_eq!(report.partial_intervals, 2);
    }

    #[test]
    fn dst_change_day_keeps_the_local_grid() {
        // New York falls back at 02:00 on 2026-11-01: 01:00-01:55 happens twice.
        let mut text = String::from("start,queue,contacts\n");
        for (off, hour) in [("-04:00", 1), ("-05:00", 1), ("-05:00", 2)] {
            for m in (0..60).step_by(5) {
                text.push_str(&format!("2026-11-01T{hour:02}:{m:02}:00{off},q,1\n"));
            }
        }
        let h = parse(&text, "ny.csv").unwrap();
        let (rows, report) = aggregate(&h, 15, "ny.csv").unwrap();
        assert_eq!(
            rows.len(),
            12,
            "three distinct local hours of four intervals each"
        );
        assert!(rows.iter().all(|r| r.contacts == 3.0));
        assert!(
            report.duplicates.is_empty(),
            "the repeated wall-clock hour is not a duplicate"
        );
        assert!(report.gaps.is_empty());
    }

    #[test]
    fn missing_weekdays_are_reported() {
        let mut text = String::from("start,queue,contacts\n");
        // Mon 2026-11-02 .. Mon 2026-11-16 without Wed 11-04; no weekends (closed).
        for d in 2..=16 {
            let date = NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
            if d == 4 || date.weekday().num_days_from_monday() >= 5 {
                continue;
            }
            text.push_str(&format!(
                "2026-11-{d:02}T09:00:00-05:00,q,5\n2026-11-{d:02}T09:15:00-05:00,q,5\n"
            ));
        }
        let h = parse(&text, "m.csv").unwrap();
        let (_, report) = aggregate(&h, 15, "m.csv").unwrap();
        assert_eq!(report.missing_days, vec!["q 2026-11-04".to_string()]);
    }
}
