//! What the report shows, as plain data: the `plan` glue maps each stage's output into these
//! types, so the report depends on no other stage.
//!
//! Instants are `DateTime<FixedOffset>` (what the stages' CSV files carry); the report converts
//! every instant to [`ReportInput::time_zone`] for display, so inputs with mixed offsets (a DST
//! change inside the horizon) still land on one local time axis. Shares are fractions in 0..=1.
//! Values that are not finite are treated as missing (a gap in a line), never as zero.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// An instant as the stages write it: RFC 3339 with the local offset.
pub type Instant = DateTime<FixedOffset>;

/// Everything one report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    /// Page title, e.g. "Double-11 staffing plan".
    pub title: String,
    /// The scenario's name as the planner knows it.
    pub scenario_name: String,
    /// The planning horizon: `start` is the first interval's start, `end` the last interval's end.
    /// The coverage, service and roster charts share this time axis.
    pub horizon: TimeSpan,
    /// Zone in which every time is shown.
    pub time_zone: Tz,
    /// Length of one planning interval in minutes (labels such as "contacts per 15 min").
    pub interval_minutes: u32,
    /// The KPI table, in the order given.
    pub kpis: Vec<Kpi>,
    /// Where the plan falls short, in the order given (the report groups them by severity).
    pub warnings: Vec<Warning>,
    /// History and forecast per queue.
    pub forecast: Vec<ForecastSeries>,
    /// Required vs scheduled agents per queue.
    pub coverage: Vec<CoverageSeries>,
    /// The roster: one row per agent, in the order given.
    pub roster: Vec<GanttRow>,
    /// Simulated service level per queue.
    pub service: Vec<ServiceSeries>,
}

/// A half-open time range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSpan {
    pub start: Instant,
    pub end: Instant,
}

/// One row of the KPI table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    /// What is measured, e.g. "Calls answered within 20 s".
    pub name: String,
    /// The measured value, in the unit `format` says (a share is a fraction: 0.82 shows "82.0%").
    pub value: f64,
    pub format: KpiFormat,
    /// The business target, if there is one.
    pub target: Option<KpiTarget>,
    pub status: Status,
    /// One line of context, e.g. "simulated, 30 replications, 95% CI ±1.2 pt".
    pub note: Option<String>,
}

/// How a KPI value is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum KpiFormat {
    /// A fraction shown as a percentage with one decimal.
    Percent,
    /// A whole number with thousands separators.
    Count,
    /// Hours with one decimal.
    Hours,
    /// Seconds with one decimal.
    Seconds,
    /// Money with a currency symbol or code in front, no decimals, e.g. "¥ 1,234,567".
    Money { currency: String },
    /// A plain number with the given decimals and an optional unit after it.
    Number { decimals: u8, unit: Option<String> },
}

/// A KPI's target and the side of it that is good.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiTarget {
    pub value: f64,
    pub direction: TargetDirection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetDirection {
    /// Good when the value is at least the target (service level).
    AtLeast,
    /// Good when the value is at most the target (abandonment, cost).
    AtMost,
}

/// How a KPI stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warn,
    Bad,
}

/// Something the director should know: where the plan falls short and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub severity: Severity,
    /// The queue concerned, if it concerns one.
    pub queue: Option<String>,
    /// The intervals concerned, if it concerns a time range.
    pub span: Option<TimeSpan>,
    /// Why, in a sentence.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// History and forecast of one queue's contacts per interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastSeries {
    pub queue: String,
    /// Observed contacts per interval, by interval start, in time order.
    pub history: Vec<HistoryPoint>,
    /// Forecast contacts per interval with its prediction intervals, in time order.
    pub forecast: Vec<ForecastPoint>,
    /// Calendar events (Double-11, 6.18, ...) that touch the charted range; shaded on the chart.
    pub events: Vec<EventWindow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// Interval start.
    pub t: Instant,
    pub value: f64,
}

/// One forecast interval: the mean and the 80% and 95% prediction intervals of its contacts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// Interval start.
    pub t: Instant,
    pub mean: f64,
    pub lo80: f64,
    pub hi80: f64,
    pub lo95: f64,
    pub hi95: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventWindow {
    pub name: String,
    pub span: TimeSpan,
}

/// Agents required (staffing) vs scheduled (roster) for one queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageSeries {
    pub queue: String,
    /// One point per interval of the horizon, in time order.
    pub points: Vec<CoveragePoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoveragePoint {
    /// Interval start.
    pub t: Instant,
    /// Agents required (after shrinkage).
    pub required: f64,
    /// Agents scheduled and on the floor (breaks excluded) for this queue.
    pub scheduled: f64,
}

/// One agent's line of the roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanttRow {
    pub agent: String,
    pub group: String,
    /// The agent's shifts in the horizon, in time order.
    pub shifts: Vec<GanttShift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanttShift {
    pub start: Instant,
    pub end: Instant,
    /// The primary skill worked on this shift; the bar's color.
    pub skill: String,
    /// Breaks and lunch inside the shift.
    pub breaks: Vec<TimeSpan>,
}

/// Simulated service level of one queue per interval, against its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSeries {
    pub queue: String,
    /// Target share, e.g. 0.8.
    pub target: f64,
    /// What counts as served, e.g. "answered within 20 s" or "first response within 90 s".
    pub measure: String,
    /// One point per interval, in time order.
    pub points: Vec<ServicePoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServicePoint {
    /// Interval start.
    pub t: Instant,
    /// Share served within the threshold; `None` when no contact arrived in the interval.
    pub service_level: Option<f64>,
    /// Confidence interval of the share across replications, when known.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}
