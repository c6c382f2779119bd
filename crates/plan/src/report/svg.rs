//! SVG building blocks every chart shares: scales, "nice" value ticks, local-time ticks, axes,
//! compact path data with gaps, and the reduction that keeps a long series small.
//!
//! **Downsampling.** A line never needs more vertices than the plot has pixel columns. A series
//! with more than two points per view-box column (≈ a pixel at the page's scale) is reduced per
//! column to its lowest and highest point in time order, which draws the same picture at screen
//! resolution: peaks and troughs survive, only vertices nobody can see go. Bands keep their outer
//! envelope per column the same way. Path data is relative and rounded to tenths of a unit
//! ([`PathData`]). Tooltips are per time bucket (see [`bucket_minutes`]), not per point.

use std::fmt::{self, Write};

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

use super::input::Instant;
use super::text::Esc;

/// Width and height of a small-multiple chart's view box; the page scales it to its column.
pub const CHART_W: f64 = 640.0;
pub const CHART_H: f64 = 200.0;

/// The plot area inside a chart's view box.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    /// The small-multiple layout: room for value labels on the left, time labels and the time
    /// axis title below.
    pub fn small_multiple() -> Self {
        Frame {
            width: CHART_W,
            height: CHART_H,
            left: 56.0,
            right: CHART_W - 10.0,
            top: 10.0,
            bottom: CHART_H - 42.0,
        }
    }

    pub fn plot_width(&self) -> f64 {
        self.right - self.left
    }

    /// Opens the `<svg>` element; the caller closes it with `</svg>`.
    pub fn open(&self, out: &mut String, class: &str, label: &str) -> fmt::Result {
        write!(
            out,
            r#"<svg class="{class}" viewBox="0 0 {} {}" role="img" aria-label="{}">"#,
            P(self.width),
            P(self.height),
            Esc(label)
        )
    }
}

/// Instants to x: a linear map from seconds since the epoch to view-box units.
#[derive(Debug, Clone, Copy)]
pub struct TimeScale {
    pub t0: i64,
    pub t1: i64,
    pub x0: f64,
    pub x1: f64,
}

impl TimeScale {
    pub fn new(t0: &Instant, t1: &Instant, x0: f64, x1: f64) -> Self {
        let (t0, t1) = (t0.timestamp(), t1.timestamp());
        TimeScale {
            t0,
            t1: t1.max(t0 + 1),
            x0,
            x1,
        }
    }

    pub fn x(&self, t: &Instant) -> f64 {
        self.x_secs(t.timestamp())
    }

    pub fn x_secs(&self, secs: i64) -> f64 {
        self.x0 + (secs - self.t0) as f64 / (self.t1 - self.t0) as f64 * (self.x1 - self.x0)
    }

    /// x clamped to the plotted range, for spans that stick out of it.
    pub fn x_clamped(&self, t: &Instant) -> f64 {
        self.x(t).clamp(self.x0.min(self.x1), self.x0.max(self.x1))
    }
}

/// Values to y: `v0` at the bottom `y0`, `v1` at the top `y1`.
#[derive(Debug, Clone, Copy)]
pub struct ValueScale {
    pub v0: f64,
    pub v1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl ValueScale {
    pub fn y(&self, v: f64) -> f64 {
        let span = if self.v1 > self.v0 {
            self.v1 - self.v0
        } else {
            1.0
        };
        self.y0 + (v - self.v0) / span * (self.y1 - self.y0)
    }
}

/// A "nice" top of the value axis and its tick step for data whose maximum is `max`:
/// steps of 1, 2, 2.5 or 5 times a power of ten, about four ticks.
pub fn nice_ticks(max: f64) -> (f64, Vec<f64>) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let count = (max / step - 1e-9).ceil().max(1.0) as usize;
    let ticks = (0..=count).map(|i| i as f64 * step).collect::<Vec<_>>();
    (count as f64 * step, ticks)
}

/// One labelled tick on a time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeTick {
    pub secs: i64,
    pub label: String,
    /// The tick is a local midnight: drawn stronger and labelled with the date.
    pub day_start: bool,
    /// Local minutes since midnight.
    pub minute_of_day: u32,
}

/// Ticks at local wall-clock boundaries (every 15 min … every week, Mondays) between `t0` and
/// `t1` (seconds), at most `max_ticks` of them. Midnights are labelled `Mon 11-11`, other ticks
/// `HH:MM`. Local times that do not exist (DST gap) are skipped; repeated ones take the earlier.
pub fn time_ticks(tz: Tz, t0: i64, t1: i64, max_ticks: usize) -> Vec<TimeTick> {
    const STEPS_MINUTES: [i64; 11] = [15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 40320];
    let span_minutes = ((t1 - t0) / 60).max(1);
    let step = STEPS_MINUTES
        .iter()
        .copied()
        .find(|s| span_minutes / s <= max_ticks.max(1) as i64)
        .unwrap_or(40320);
    let (Some(first), Some(last)) = (date_of(tz, t0), date_of(tz, t1)) else {
        return Vec::new();
    };
    let mut ticks = Vec::new();
    let mut mondays_seen = 0i64;
    let mut day = first;
    while day <= last {
        let days_from_first = (day - first).num_days();
        let minutes: Vec<i64> = if step < 1440 {
            (0..1440).step_by(step as usize).collect()
        } else if step >= 10080 {
            // Weekly ticks sit on Mondays; every `step / 10080`-th Monday from the first.
            let is_monday = day.weekday() == Weekday::Mon;
            let take = is_monday && mondays_seen % (step / 10080) == 0;
            mondays_seen += i64::from(is_monday);
            if take {
                vec![0]
            } else {
                vec![]
            }
        } else if days_from_first % (step / 1440) == 0 {
            vec![0]
        } else {
            vec![]
        };
        for m in minutes {
            let Some(naive) = NaiveTime::from_hms_opt((m / 60) as u32, (m % 60) as u32, 0)
                .map(|time| day.and_time(time))
            else {
                continue;
            };
            let Some(at) = tz.from_local_datetime(&naive).earliest() else {
                continue;
            };
            let secs = at.timestamp();
            if secs < t0 || secs > t1 {
                continue;
            }
            let day_start = m == 0;
            let label = if day_start {
                at.format("%a %m-%d").to_string()
            } else {
                at.format("%H:%M").to_string()
            };
            ticks.push(TimeTick {
                secs,
                label,
                day_start,
                minute_of_day: m as u32,
            });
        }
        day += Duration::days(1);
    }
    ticks
}

/// Local midnights between `t0` and `t1` (seconds), inclusive.
pub fn local_midnights(tz: Tz, t0: i64, t1: i64) -> Vec<i64> {
    let (Some(first), Some(last)) = (date_of(tz, t0), date_of(tz, t1)) else {
        return Vec::new();
    };
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter_map(|d| {
            tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
        })
        .map(|t| t.timestamp())
        .filter(|s| (t0..=t1).contains(s))
        .collect()
}

fn date_of(tz: Tz, secs: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| tz.from_utc_datetime(&t.naive_utc()).date_naive())
}

/// Vertical grid lines and labels of a time axis, plus the axis title under them.
pub fn time_axis(
    out: &mut String,
    tz: Tz,
    scale: &TimeScale,
    frame: &Frame,
    title: &str,
) -> fmt::Result {
    let max_ticks = (frame.plot_width() / 62.0).floor().max(2.0) as usize;
    let ticks = time_ticks(tz, scale.t0, scale.t1, max_ticks);
    out.push_str(r#"<g class="axis x">"#);
    // Labels every few days or weeks still leave each day visible as a faint line, while
    // days are at least 4 units apart.
    let midnights = local_midnights(tz, scale.t0, scale.t1);
    let labelled_days = ticks.iter().filter(|t| t.day_start).count();
    if midnights.len() > labelled_days
        && ticks.iter().all(|t| t.day_start)
        && (midnights.len() as f64) < frame.plot_width() / 4.0
    {
        let mut d = PathData::new();
        for secs in midnights {
            d.move_to(scale.x_secs(secs), frame.top);
            d.line_to(scale.x_secs(secs), frame.bottom);
        }
        write!(out, r#"<path class="grid minor" d="{}"/>"#, d.finish())?;
    }
    for tick in &ticks {
        let x = scale.x_secs(tick.secs);
        let class = if tick.day_start { "grid day" } else { "grid" };
        write!(
            out,
            r#"<line class="{class}" x1="{x}" x2="{x}" y1="{}" y2="{}"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            P(frame.top),
            P(frame.bottom),
            P(frame.bottom + 14.0),
            Esc(&tick.label),
            x = P(x)
        )?;
    }
    write!(
        out,
        r#"<line class="baseline" x1="{}" x2="{}" y1="{y}" y2="{y}"/><text class="title" x="{}" y="{}" text-anchor="middle">{}</text></g>"#,
        P(frame.left),
        P(frame.right),
        P((frame.left + frame.right) / 2.0),
        P(frame.bottom + 32.0),
        Esc(title),
        y = P(frame.bottom)
    )
}

/// Horizontal grid lines and labels of a value axis, plus its title written upwards.
pub fn value_axis(
    out: &mut String,
    scale: &ValueScale,
    ticks: &[f64],
    frame: &Frame,
    title: &str,
    label: impl Fn(f64) -> String,
) -> fmt::Result {
    out.push_str(r#"<g class="axis y">"#);
    for &v in ticks {
        let y = scale.y(v);
        write!(
            out,
            r#"<line class="grid" x1="{}" x2="{}" y1="{y}" y2="{y}"/><text x="{}" y="{}" text-anchor="end">{}</text>"#,
            P(frame.left),
            P(frame.right),
            P(frame.left - 5.0),
            P(y + 3.5),
            Esc(&label(v)),
            y = P(y)
        )?;
    }
    let mid = (frame.top + frame.bottom) / 2.0;
    write!(
        out,
        r#"<text class="title" transform="translate(12 {}) rotate(-90)" text-anchor="middle">{}</text></g>"#,
        P(mid),
        Esc(title)
    )
}

/// A number in the view box with at most one decimal: `12.0` → `12`, `3.14` → `3.1`.
#[derive(Debug, Clone, Copy)]
pub struct P(pub f64);

impl fmt::Display for P {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 * 10.0).round();
        if !tenths.is_finite() {
            return f.write_str("0");
        }
        let tenths = tenths as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let (whole, frac) = (tenths.abs() / 10, tenths.abs() % 10);
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{frac}")
        }
    }
}

/// Splits points into runs of finite values: a missing value breaks the line.
pub fn finite_runs(points: impl IntoIterator<Item = (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for (x, y) in points {
        if x.is_finite() && y.is_finite() {
            run.push((x, y));
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// Reduces a run (sorted by x) that has more than two points per column, over `columns`
/// columns spanning `[x_lo, x_hi]`, to each column's lowest and highest point in their original
/// order; the run's first and last points are kept so lines meet their neighbours.
pub fn decimate(run: &[(f64, f64)], x_lo: f64, x_hi: f64, columns: usize) -> Vec<(f64, f64)> {
    let columns = columns.max(1);
    if run.len() <= 2 * columns {
        return run.to_vec();
    }
    let width = (x_hi - x_lo).max(f64::EPSILON);
    let column_of = |x: f64| {
        (((x - x_lo) / width * columns as f64).floor() as i64).clamp(0, columns as i64 - 1)
    };
    let mut keep = Vec::with_capacity(2 * columns + 2);
    keep.push(0);
    let mut i = 0;
    while i < run.len() {
        let column = column_of(run[i].0);
        let (mut lo, mut hi, mut j) = (i, i, i);
        while j < run.len() && column_of(run[j].0) == column {
            if run[j].1 < run[lo].1 {
                lo = j;
            }
            if run[j].1 > run[hi].1 {
                hi = j;
            }
            j += 1;
        }
        keep.push(lo.min(hi));
        keep.push(lo.max(hi));
        i = j;
    }
    keep.push(run.len() - 1);
    keep.dedup();
    keep.into_iter().map(|k| run[k]).collect()
}

/// Path data written compactly: after the first point every command is relative, computed
/// between *rounded* positions (tenths of a unit) so rounding never drifts along a long path.
#[derive(Debug, Default)]
pub struct PathData {
    d: String,
    /// The current point in tenths, once there is one.
    at: Option<(i64, i64)>,
    /// Where the current subpath started: a close returns there.
    start: (i64, i64),
}

fn tenths(v: f64) -> i64 {
    let t = (v * 10.0).round();
    if t.is_finite() {
        t as i64
    } else {
        0
    }
}

impl PathData {
    pub fn new() -> Self {
        Self::default()
    }

    /// A number in tenths, shortest form: `15` → `1.5`, `5` → `.5`, `-20` → `-2`.
    fn number(&mut self, v: i64) {
        let sign = if v < 0 { "-" } else { "" };
        let (whole, frac) = (v.abs() / 10, v.abs() % 10);
        let _ = match (whole, frac) {
            (w, 0) => write!(self.d, "{sign}{w}"),
            (0, f) => write!(self.d, "{sign}.{f}"),
            (w, f) => write!(self.d, "{sign}{w}.{f}"),
        };
    }

    /// Two numbers; a minus sign separates them by itself.
    fn pair(&mut self, a: i64, b: i64) {
        self.number(a);
        if b >= 0 {
            self.d.push(' ');
        }
        self.number(b);
    }

    pub fn move_to(&mut self, x: f64, y: f64) {
        let (x, y) = (tenths(x), tenths(y));
        match self.at {
            Some((ax, ay)) => {
                self.d.push('m');
                self.pair(x - ax, y - ay);
            }
            None => {
                self.d.push('M');
                self.pair(x, y);
            }
        }
        self.at = Some((x, y));
        self.start = (x, y);
    }

    pub fn line_to(&mut self, x: f64, y: f64) {
        let Some((ax, ay)) = self.at else {
            return self.move_to(x, y);
        };
        let (x, y) = (tenths(x), tenths(y));
        match (x - ax, y - ay) {
            (0, 0) => {}
            (0, dy) => {
                self.d.push('v');
                self.number(dy);
            }
            (dx, 0) => {
                self.d.push('h');
                self.number(dx);
            }
            (dx, dy) => {
                self.d.push('l');
                self.pair(dx, dy);
            }
        }
        self.at = Some((x, y));
    }

    /// Closes the subpath; as in SVG, the current point returns to the subpath's start.
    pub fn close(&mut self) {
        if self.at.is_some() {
            self.d.push('z');
            self.at = Some(self.start);
        }
    }

    /// An axis-aligned rectangle as its own closed subpath.
    pub fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64) {
        self.move_to(x0, y0);
        self.line_to(x1, y0);
        self.line_to(x1, y1);
        self.line_to(x0, y1);
        self.close();
    }

    pub fn is_empty(&self) -> bool {
        self.d.is_empty()
    }

    pub fn finish(self) -> String {
        self.d
    }
}

/// Path data of a polyline through each run, reduced to the plot's columns.
pub fn line_path(runs: &[Vec<(f64, f64)>], x_lo: f64, x_hi: f64) -> String {
    let columns = (x_hi - x_lo).max(1.0).round() as usize;
    let mut d = PathData::new();
    for run in runs {
        for (i, (x, y)) in decimate(run, x_lo, x_hi, columns).into_iter().enumerate() {
            if i == 0 {
                d.move_to(x, y);
            } else {
                d.line_to(x, y);
            }
        }
    }
    d.finish()
}

/// Path data of a closed band between `lo` and `hi` per x, split where a bound is missing and
/// reduced, when it has more than two points per column, to its outer envelope per column.
pub fn band_path(points: &[(f64, f64, f64)], x_lo: f64, x_hi: f64) -> String {
    let columns = (x_hi - x_lo).max(1.0).round() as usize;
    let width = (x_hi - x_lo).max(f64::EPSILON);
    let mut d = PathData::new();
    let mut run: Vec<(f64, f64, f64)> = Vec::new();
    let mut flush = |run: &mut Vec<(f64, f64, f64)>| {
        if run.is_empty() {
            return;
        }
        // Envelope per column: (first x, last x, lowest, highest); one cell per point when
        // the run is sparse enough to draw as it is.
        let dense = run.len() > 2 * columns;
        let mut cells: Vec<(f64, f64, f64, f64)> = Vec::new();
        let mut last_column = i64::MIN;
        for (i, &(x, lo, hi)) in run.iter().enumerate() {
            let column = if dense {
                ((x - x_lo) / width * columns as f64).floor() as i64
            } else {
                i as i64
            };
            match cells.last_mut() {
                Some(cell) if column == last_column => {
                    cell.1 = x;
                    cell.2 = cell.2.min(lo);
                    cell.3 = cell.3.max(hi);
                }
                _ => cells.push((x, x, lo, hi)),
            }
            last_column = column;
        }
        for (i, &(xa, xb, _, hi)) in cells.iter().enumerate() {
            if i == 0 {
                d.move_to(xa, hi);
            } else {
                d.line_to(xa, hi);
            }
            d.line_to(xb, hi);
        }
        for &(xa, xb, lo, _) in cells.iter().rev() {
            d.line_to(xb, lo);
            d.line_to(xa, lo);
        }
        d.close();
        run.clear();
    };
    for &(x, lo, hi) in points {
        if x.is_finite() && lo.is_finite() && hi.is_finite() {
            run.push((x, lo.min(hi), lo.max(hi)));
        } else {
            flush(&mut run);
        }
    }
    flush(&mut run);
    d.finish()
}

/// The tooltip bucket for a time axis of `span_minutes`: the interval itself when the axis has
/// room for at most `max_columns` intervals, otherwise the shortest of 30 min, 1 h, 2 h, 3 h, 4 h,
/// 6 h, 12 h or a day (a multiple of the interval) that fits. Tooltips then speak for a bucket
/// (its worst or peak interval) instead of carrying one `<title>` per point.
pub fn bucket_minutes(span_minutes: i64, interval_minutes: u32, max_columns: usize) -> i64 {
    let interval = i64::from(interval_minutes.max(1));
    let fits = |b: i64| (span_minutes + b - 1) / b <= max_columns.max(1) as i64;
    std::iter::once(interval)
        .chain(
            [30, 60, 120, 180, 240, 360, 720, 1440]
                .into_iter()
                .filter(|b| *b > interval && b % interval == 0),
        )
        .find(|b| fits(*b))
        .unwrap_or_else(|| {
            let day = 1440 / interval * interval;
            let days = (span_minutes + day * max_columns.max(1) as i64 - 1)
                / (day * max_columns.max(1) as i64);
            day.max(interval) * days.max(1)
        })
}

/// An invisible rectangle that shows `title` when hovered (and a light highlight via CSS).
pub fn hover_rect(
    out: &mut String,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    title: &str,
) -> fmt::Result {
    write!(
        out,
        r#"<rect class="hit" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>"#,
        P(x0),
        P(y0),
        P((x1 - x0).max(0.5)),
        P(y1 - y0),
        Esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn view_box_numbers_are_short() {
        assert_eq!(P(12.0).to_string(), "12");
        assert_eq!(P(2.71).to_string(), "2.7");
        assert_eq!(P(-0.04).to_string(), "0");
        assert_eq!(P(-2.25).to_string(), "-2.3");
        assert_eq!(P(f64::NAN).to_string(), "0");
    }

    #[test]
    fn nice_ticks_cover_the_maximum() {
        let (top, ticks) = nice_ticks(37.0);
        assert_eq!(top, 40.0);
        assert_eq!(ticks, vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        let (top, ticks) = nice_ticks(1.0);
        assert_eq!((top, ticks.len()), (1.0, 5));
        let (top, _) = nice_ticks(0.0);
        assert_eq!(top, 1.0);
        let (top, ticks) = nice_ticks(1234.0);
        assert!((1234.0..=1500.0).contains(&top), "{top}");
        assert!(ticks.len() <= 6);
    }

    #[test]
    fn time_ticks_sit_on_local_midnights_and_hours() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let t0 = DateTime::parse_from_rfc3339("2024-11-10T00:00:00+08:00")
            .unwrap()
            .timestamp();
        let t1 = DateTime::parse_from_rfc3339("2024-11-17T00:00:00+08:00")
            .unwrap()
            .timestamp();
        let ticks = time_ticks(tz, t0, t1, 10);
        assert_eq!(ticks.len(), 8);
        assert_eq!(ticks[0].label, "Sun 11-10");
        assert!(ticks.iter().all(|t| t.day_start));
        let day = time_ticks(tz, t0, t0 + 86_400, 12);
        assert_eq!(day[1].label, "02:00");
        assert_eq!(day.len(), 13);
    }

    #[test]
    fn time_ticks_follow_dst() {
        // Berlin leaves summer time on 2024-10-27: midnight ticks stay on local midnight.
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let t0 = DateTime::parse_from_rfc3339("2024-10-26T00:00:00+02:00")
            .unwrap()
            .timestamp();
        let t1 = DateTime::parse_from_rfc3339("2024-10-29T00:00:00+01:00")
            .unwrap()
            .timestamp();
        let ticks = time_ticks(tz, t0, t1, 4);
        let gaps: Vec<i64> = ticks.windows(2).map(|w| w[1].secs - w[0].secs).collect();
        assert_eq!(gaps, vec![86_400, 90_000, 86_400]);
    }

    #[test]
    fn decimation_keeps_extremes_and_bounds_size() {
        let run: Vec<(f64, f64)> = (0..10_000)
            .map(|i| {
                (
                    i as f64 / 10.0,
                    if i == 5_003 { 99.0 } else { (i % 7) as f64 },
                )
            })
            .collect();
        let reduced = decimate(&run, 0.0, 1000.0, 100);
        assert!(reduced.len() <= 202, "{}", reduced.len());
        assert!(reduced.contains(&(500.3, 99.0)));
        assert_eq!(reduced.first(), run.first());
        assert_eq!(reduced.last(), run.last());
        assert!(reduced.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn missing_values_break_lines() {
        let runs = finite_runs(vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0), (3.0, 4.0)]);
        assert_eq!(runs.len(), 2);
        assert_eq!(line_path(&runs, 0.0, 10.0), "M0 1m2 2l1 1");
        let band = band_path(&[(0.0, 1.0, 2.0), (1.0, 1.5, 2.5)], 0.0, 10.0);
        assert_eq!(band, "M0 2l1 .5v-1l-1-.5z");
    }

    /// The numbers of one command's arguments: a space or a minus sign starts a new one.
    fn numbers(args: &str) -> Vec<f64> {
        let mut out = Vec::new();
        let mut current = String::new();
        for c in args.chars() {
            if (c == ' ' || c == '-') && !current.is_empty() {
                out.push(current.parse().unwrap());
                current.clear();
            }
            if c != ' ' {
                current.push(c);
            }
        }
        if !current.is_empty() {
            out.push(current.parse().unwrap());
        }
        out
    }

    #[test]
    fn relative_paths_do_not_drift() {
        let mut d = PathData::new();
        d.move_to(0.0, 0.0);
        for i in 1..=1000 {
            d.line_to(i as f64 * 0.333, (i % 2) as f64 * 0.26);
        }
        let text = d.finish();
        // Summing the written x deltas lands exactly on the last point, rounded to tenths.
        let mut x = 0.0;
        let commands: Vec<(usize, char)> = text
            .char_indices()
            .filter(|(_, c)| c.is_ascii_alphabetic())
            .collect();
        for (k, &(at, command)) in commands.iter().enumerate() {
            let end = commands.get(k + 1).map_or(text.len(), |c| c.0);
            let args = numbers(&text[at + 1..end]);
            if command == 'l' || command == 'h' {
                x += args[0];
            }
        }
        assert!((x - 333.0).abs() < 1e-6, "{x}");
        let mut r = PathData::new();
        r.rect(1.0, 2.0, 3.5, 14.0);
        assert_eq!(r.finish(), "M1 2h2.5v12h-2.5z");
    }

    #[test]
    fn buckets_fit_the_axis() {
        assert_eq!(bucket_minutes(24 * 60, 15, 200), 15);
        assert_eq!(bucket_minutes(7 * 24 * 60, 15, 200), 60);
        assert_eq!(bucket_minutes(28 * 24 * 60, 15, 200), 240);
        assert_eq!(bucket_minutes(365 * 24 * 60, 60, 200), 2 * 1440);
    }
}
