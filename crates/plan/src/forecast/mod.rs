//! Forecasting: expected contacts, handle time and prediction intervals per queue and interval.
//!
//! Owns the forecast file `forecast.csv` (the hand-off to staffing: [`ForecastRow`],
//! [`write_forecast`], [`read_forecast`]), the model that produces it ([`forecast_scenario`]),
//! and its rolling-origin evaluation against seasonal naive ([`backtest()`]).
//!
//! # Model
//!
//! A robust multiplicative decomposition, fitted per queue on the history aggregated to the
//! modelling interval. For local date `d` (day of week `k(d)`) and slot `s` (wall-clock time of
//! day, so DST days keep their local grid):
//!
//! ```text
//! E[y(d,s)] = T(d) · p_k(d)(s) · e(d,s)
//! log(T(d) + 1) = ℓ + (φ + … + φ^h) b + w_k(d)                    (daily level, h days ahead)
//! ```
//!
//! * **Level, trend and weekly seasonality** (`ℓ`, `b`, `w_k`): damped-trend Holt–Winters in
//!   error-correction form on log day totals, stepping one calendar day at a time. A day
//!   without data (missing, closed, or an event day) advances the state without learning, so
//!   gaps need no imputation and weekdays keep their identity. Innovations are clipped at 3
//!   robust sigmas (MAD of week-over-week log differences), so an unannounced holiday or outage
//!   does not drag the level. The weekly factors stay centred over the open days. The constants
//!   `α, β, γ, φ` are chosen per queue from a small grid by the Huber loss of 1- to H-day-ahead
//!   forecasts made inside the history (H = the distance to the end of the requested forecast,
//!   clamped to 7–28 days), i.e. for the horizon actually asked for rather than one step ahead.
//!   The point forecast of a day total is the level's median, `exp(·) − 1`: for totals in the
//!   hundreds or more it is within `σ²/2` (well under 1%) of the mean; for a queue with a
//!   handful of contacts a day it runs somewhat low.
//! * **Intraday profile** `p_k`: shares of the day total per slot, an exponentially weighted
//!   mean over past days of the same day of week, shrunk towards the pooled profile of its
//!   group (weekdays or weekend) by `τ` pseudo-days and optionally smoothed over neighbouring
//!   slots (never into closed hours). The half-life, `τ` and smoothing are chosen per queue by
//!   the absolute error of each day's slots predicted from that day's own total and the profile
//!   known the day before, over the last 26 weeks. A day of week never seen in the history is
//!   closed (forecast zero).
//! * **Events** `e(d,s)` (see the `events` module): days an event touches are kept out of the baseline.
//!   A forecast day inside an event takes the uplift and intraday shape a past occurrence of the
//!   same event (same `name` in the calendar) showed at the same day offset, relative to the
//!   baseline the model expected then, scaled by the ratio of the two occurrences' configured
//!   multipliers (so a calendar that expects Double-11 2026 at 3.3× against 3.0× in 2025 scales
//!   the learned effect by 1.1); without a past occurrence in the history, the configured
//!   multiplier [`peakcrew_core::model::Event::multiplier`] is used as is. Moving holidays (Spring
//!   Festival) are placed by their calendar dates. Handle time on an event day is scaled by the
//!   ratio the past occurrence showed (configured-only events leave it unchanged).
//! * **An occurrence under way** at the end of the history (the Double-11 pre-sale ramp is in
//!   the history when the peak week is forecast) has told us how it is running: the log ratio
//!   of its observed days to what the model expected for them (baseline × effect) is averaged,
//!   shrunk towards zero by a normal prior with the variance of the errors those days share
//!   with the rest of the occurrence (the baseline's extrapolation error, the error of the
//!   baseline the effect was learned against, the effect's own uncertainty), and applied to
//!   the occurrence's remaining days. A correction beyond ±10% is reported as a warning.
//! * **Handle time**: per queue, a contact-weighted level over the last four usable weeks times
//!   a contact-weighted time-of-day factor over the last eight, smoothed over ±2 slots and
//!   shrunk towards 1 where few contacts were measured. Without handle time in the history the
//!   scenario's nominal `aht_seconds` is used, with a warning.
//!
//! # Why not `augurs` (MSTL, ETS)
//!
//! `augurs-mstl` 0.10 with an `augurs-ets` AutoETS trend was run side by side on the bank
//! reference data (15-minute slots, daily and weekly seasons of 57 and 285 slots, last 10 data
//! days held out): wMAPE 0.0904, MASE 0.996, the same as the Nixtla MSTL yardstick (0.0903,
//! 0.994), its 80% interval covering 97% of the held-out slots, 0.35 s for that one series.
//! This model scores wMAPE 0.069, MASE 0.79 with 80% coverage on the same split. MSTL and ETS
//! need a contiguous, gap-free series: closed hours, closed days and missing days must be
//! imputed or dropped (dropping misaligns weekdays after a missing day); they have no event
//! regressors, and event days cannot be skipped while the level runs on; and fitting them on
//! 20 queues of two years of 15-minute slots would take far longer than this stage's 1 s
//! budget. The damped Holt–Winters here is the same ETS(A,Ad,A) family, written out because
//! it must step over missing and event days and be tuned for the horizon asked for.
//!
//! # Prediction intervals
//!
//! The count in a slot is negative binomial with mean `μ = E[y]` and variance `μ + c μ²`, with
//!
//! ```text
//! c = (1 + κ) · exp(σ²_day(h) + σ²_event(d,s)) − 1
//! ```
//!
//! * `κ`: within-day dispersion of slot counts around (actual day total × profile known the
//!   day before), by moments.
//! * `σ²_day(h) = a + b·h`: variance of the log day-total error `h` days ahead, fitted to the
//!   empirical central 80% (resp. 95%) ranges of the in-history h-day-ahead errors, expressed as
//!   normal sigmas; each band uses its own fit, so heavy tails widen the 95% band without
//!   inflating the 80%. The bands widen with the horizon.
//! * `σ²_event`: a learned effect carries the day-level noise of the occurrences it was learned
//!   from (`σ²/n`) plus 20% of its log size for year-to-year change; a configured-only effect
//!   carries 40% of its log size. The bands widen around events.
//!
//! # Too little history
//!
//! With fewer than 14 days of usable history the weekly pattern cannot be estimated: the queue
//! falls back to a flat level (simple exponential smoothing) and one profile for all days, with
//! a warning naming the queue.

// The estimators index parallel per-slot and per-day arrays; index loops read like the math.
#![allow(clippy::needless_range_loop)]

pub mod backtest;
mod events;
mod intervals;
mod model;
mod series;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset, Timelike};
use serde::{Deserialize, Serialize};

pub use backtest::{backtest, Backtest, BacktestOptions, Scores};

use crate::history::{self, History, HistoryError, RowProblem};
use crate::scenario::Scenario;
use model::{ModelKind, QueueModel};
use peakcrew_core::model::TimeGrid;
use series::QueueSeries;

/// One queue in one interval: the forecast staffing works from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRow {
    pub queue: String,
    /// Interval start, RFC 3339 with the scenario zone's offset.
    pub start: DateTime<FixedOffset>,
    pub interval_minutes: u32,
    /// Expected contacts arriving in the interval.
    pub contacts: f64,
    /// Expected average handle time of those contacts.
    pub aht_seconds: f64,
    /// Central 80% and 95% prediction intervals for the count.
    pub lo80: f64,
    pub hi80: f64,
    pub lo95: f64,
    pub hi95: f64,
}

/// A forecast and what the forecaster had to say about its input.
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    pub rows: Vec<ForecastRow>,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("{file}: the history has no rows")]
    EmptyHistory { file: String },
    #[error("{file}:{line}: queue {queue}: {start} is earlier than {previous} on line {previous_line}; history must be in time order within each queue")]
    OutOfOrder {
        file: String,
        line: usize,
        queue: String,
        start: String,
        previous: String,
        previous_line: usize,
    },
    #[error("no history for queue(s) {}: every queue of the scenario needs history to forecast from", queues.join(", "))]
    MissingQueues { queues: Vec<String> },
    #[error("queue {queue}: no history before the forecast start {start}")]
    NoHistoryBefore { queue: String, start: NaiveDate },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    File(#[from] crate::csv_rows::CsvRowsError),
    #[error("{file}:{line}: {message}")]
    Row {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: no forecast rows")]
    EmptyForecast { file: String },
}

/// Row indices of each queue, in file order, queues in order of first appearance.
fn rows_by_queue(history: &History) -> Vec<(&str, Vec<usize>)> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    // Files usually cycle through the queues in a fixed order: try the queue after the last
    // one first, so most rows cost one string comparison.
    let mut last = 0usize;
    for (i, r) in history.rows.iter().enumerate() {
        let n = groups.len();
        let found = [(last + 1) % n.max(1), last]
            .into_iter()
            .chain(0..n)
            .find(|&g| groups.get(g).is_some_and(|(q, _)| *q == r.queue));
        let g = match found {
            Some(g) => g,
            None => {
                groups.push((r.queue.as_str(), Vec::new()));
                n
            }
        };
        groups[g].1.push(i);
        last = g;
    }
    groups
}

/// Refuses a history with malformed rows, an empty one, or one out of time order within a
/// queue; `file` names it in errors. Returns each queue's rows, for [`series_by_queue`].
pub(crate) fn check_history<'h>(
    history: &'h History,
    file: &str,
) -> Result<Vec<(&'h str, Vec<usize>)>, ForecastError> {
    if !history.problems.is_empty() {
        return Err(HistoryError::BadRows {
            file: file.to_string(),
            problems: history.problems.clone(),
        }
        .into());
    }
    if history.rows.is_empty() {
        return Err(ForecastError::EmptyHistory { file: file.into() });
    }
    let groups = rows_by_queue(history);
    for (queue, idx) in &groups {
        for w in idx.windows(2) {
            let (prev, r) = (&history.rows[w[0]], &history.rows[w[1]]);
            if r.start < prev.start {
                return Err(ForecastError::OutOfOrder {
                    file: file.into(),
                    line: r.line,
                    queue: queue.to_string(),
                    start: r.start.to_rfc3339(),
                    previous: prev.start.to_rfc3339(),
                    previous_line: prev.line,
                });
            }
        }
    }
    Ok(groups)
}

/// Whether a queue's rows (in time order) are already one per interval on the modelling grid:
/// aligned starts, no repeated instant, and mostly `interval_minutes` apart. Aggregation is the
/// identity on such rows, so it is skipped; anything else goes through
/// [`history::aggregate`].
fn already_on_grid(rows: &[&history::HistoryRow], interval_minutes: u32) -> bool {
    let step = interval_minutes as i64 * 60;
    // Wall-clock seconds (local = UTC + offset) are on the grid when divisible by the step.
    let aligned = rows.iter().all(|r| {
        let local = r.start.timestamp() + r.start.offset().local_minus_utc() as i64;
        local.rem_euclid(step) == 0
    });
    if !aligned {
        return false;
    }
    let (mut exact, mut pairs) = (0usize, 0usize);
    for w in rows.windows(2) {
        let gap = w[1].start.timestamp() - w[0].start.timestamp();
        if gap <= 0 {
            return false;
        }
        pairs += 1;
        exact += usize::from(gap == step);
    }
    2 * exact >= pairs
}

/// Lays each queue of a checked history on its day grid at `interval_minutes`, aggregating finer
/// rows with [`history::aggregate`] and turning what it found (duplicates, partial intervals)
/// into warnings.
pub(crate) fn series_by_queue(
    history: &History,
    groups: Vec<(&str, Vec<usize>)>,
    interval_minutes: u32,
    file: &str,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, QueueSeries>, ForecastError> {
    let mut out = BTreeMap::new();
    let (mut duplicates, mut partial) = (Vec::new(), 0usize);
    for (queue, idx) in groups {
        let rows: Vec<&history::HistoryRow> = idx.iter().map(|&i| &history.rows[i]).collect();
        let series = if already_on_grid(&rows, interval_minutes) {
            QueueSeries::from_rows(queue, rows, interval_minutes)
        } else {
            let own = History {
                rows: rows.into_iter().cloned().collect(),
                problems: Vec::new(),
            };
            let (agg, report) = history::aggregate(&own, interval_minutes, file)?;
            duplicates.extend(report.duplicates);
            partial += report.partial_intervals;
            QueueSeries::from_rows(queue, &agg, interval_minutes)
        };
        if let Some(s) = series {
            out.insert(queue.to_string(), s);
        }
    }
    if !duplicates.is_empty() {
        duplicates.sort_by_key(|p| p.line);
        warnings.push(format!(
            "{file}: {} duplicate row(s) ignored (first kept), e.g. {}",
            duplicates.len(),
            describe(&duplicates[0], file)
        ));
    }
    if partial > 0 {
        warnings.push(format!(
            "{file}: {partial} interval(s) built from incomplete source data"
        ));
    }
    Ok(out)
}

fn describe(p: &RowProblem, file: &str) -> String {
    format!("{file}:{}: {}", p.line, p.message)
}

/// Forecasts every queue of `scenario` for `days` local dates from `start` on the scenario's
/// (DST-aware) grid, from `history` (any interval that divides the scenario's).
///
/// History on or after `start` is ignored with a warning, so the forecast is always out of
/// sample. Errors: malformed, empty or out-of-order history; scenario queues without history.
pub fn forecast_scenario(
    scenario: &Scenario,
    history: &History,
    start: NaiveDate,
    days: u32,
) -> Result<Forecast, ForecastError> {
    forecast_history(scenario, history, "history", start, days)
}

/// [`forecast_scenario`] for a history read from `file`, which errors and warnings name.
pub fn forecast_history(
    scenario: &Scenario,
    history: &History,
    file: &str,
    start: NaiveDate,
    days: u32,
) -> Result<Forecast, ForecastError> {
    let groups = check_history(history, file)?;
    if days == 0 {
        return Err(ForecastError::Invalid(
            "days: expected at least 1 day to forecast".into(),
        ));
    }
    let mut warnings = Vec::new();
    let mut all = series_by_queue(
        history,
        groups,
        scenario.interval_minutes,
        file,
        &mut warnings,
    )?;
    let missing: Vec<String> = scenario
        .queues
        .iter()
        .filter(|q| !all.contains_key(&q.id))
        .map(|q| q.id.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ForecastError::MissingQueues { queues: missing });
    }
    let extra: Vec<&String> = all.keys().filter(|q| scenario.queue(q).is_none()).collect();
    if !extra.is_empty() {
        warnings.push(format!(
            "history queue(s) not in the scenario, ignored: {}",
            extra
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(last) = history.last_start() {
        if last.naive_local().date() >= start {
            warnings.push(format!(
                "the forecast starts {start} but the history runs to {}; history from {start} on is ignored",
                last.naive_local().date()
            ));
        }
    }

    if let Some(last) = history.last_start() {
        let gap = (start - last.naive_local().date()).num_days();
        if gap > 28 {
            warnings.push(format!(
                "the forecast starts {gap} days after the history ends; the level is extrapolated over the gap and the bands widen accordingly"
            ));
        }
    }
    let grid = TimeGrid::new(scenario.time_zone, scenario.interval_minutes, start, days);
    let end = start + Duration::days(days as i64 - 1);
    let mut fitted = Vec::with_capacity(scenario.queues.len());
    for queue in &scenario.queues {
        let full = all
            .remove(&queue.id)
            .ok_or_else(|| ForecastError::MissingQueues {
                queues: vec![queue.id.clone()],
            })?;
        let series = full
            .before(start)
            .ok_or_else(|| ForecastError::NoHistoryBefore {
                queue: queue.id.clone(),
                start,
            })?;
        let excluded = |d: NaiveDate| events::touches(&scenario.events, &queue.id, d);
        let reach = (end - series.last_date()).num_days().max(1) as usize;
        let model = QueueModel::fit(&series, &excluded, reach);
        note_model(&model, &series, &mut warnings);
        let aht_base = model.aht().unwrap_or_else(|| {
            warnings.push(format!(
                "queue {}: no handle time in the history; using the scenario's nominal {} s",
                queue.id, queue.aht_seconds
            ));
            vec![queue.aht_seconds; series.slots]
        });
        let corrections = events::occurrence_corrections(scenario, &model, &series);
        for (event, &c) in scenario.events.iter().zip(&corrections) {
            // Small corrections are routine; a large one means the calendar or last year's
            // occurrence misjudged this one, which a planner should hear about.
            if (c - 1.0).abs() > 0.10 {
                warnings.push(format!(
                    "queue {}: {} ({}) is under way and has run {:+.0}% against expectation so far; its remaining days are adjusted by that much",
                    queue.id,
                    event.name,
                    event.date,
                    100.0 * (c - 1.0)
                ));
            }
        }
        fitted.push((queue, model, series, aht_base, corrections));
    }

    // Time-major, queues in scenario order within an interval.
    let slots = (24 * 60 / scenario.interval_minutes) as usize;
    let mut rows = Vec::with_capacity(days as usize * slots * fitted.len());
    for date in grid.dates() {
        let per_queue: Vec<_> = fitted
            .iter()
            .map(|(_, model, series, _, corrections)| {
                let mut base = model.forecast_day(date);
                let in_span = |e: &peakcrew_core::model::Event| {
                    let (a, b) = e.span();
                    a <= date && date <= b
                };
                let factor: f64 = scenario
                    .events
                    .iter()
                    .zip(corrections)
                    .filter(|(e, _)| in_span(e))
                    .map(|(_, c)| c)
                    .product();
                base.contacts.iter_mut().for_each(|c| *c *= factor);
                (base, events::day_effect(scenario, model, series, date))
            })
            .collect();
        for iv in grid.intervals_on(date) {
            let slot =
                ((iv.local.hour() * 60 + iv.local.minute()) / scenario.interval_minutes) as usize;
            let offset = iv.start.with_timezone(&scenario.time_zone).offset().fix();
            let start = iv.start.with_timezone(&offset);
            for ((queue, model, _, aht_base, _), (base, effect)) in fitted.iter().zip(&per_queue) {
                let (vol, ev_var, aht_mult) = match effect {
                    Some(e) => (e.volume[slot], e.log_var[slot], e.aht),
                    None => (1.0, 0.0, 1.0),
                };
                let mu = base.contacts[slot] * vol;
                let band = Band::new(
                    mu,
                    model.kappa,
                    base.day_var80 + ev_var,
                    base.day_var95 + ev_var,
                );
                rows.push(ForecastRow {
                    queue: queue.id.clone(),
                    start,
                    interval_minutes: scenario.interval_minutes,
                    contacts: round_to(mu, 3),
                    aht_seconds: round_to(aht_base[slot] * aht_mult, 1),
                    lo80: band.lo80,
                    hi80: band.hi80,
                    lo95: band.lo95,
                    hi95: band.hi95,
                });
            }
        }
    }
    Ok(Forecast { rows, warnings })
}

/// Warnings about how a queue had to be modelled.
pub(crate) fn note_model(model: &QueueModel, series: &QueueSeries, warnings: &mut Vec<String>) {
    if model.kind == ModelKind::Flat {
        warnings.push(format!(
            "queue {}: only {} day(s) of usable history ({} needed for weekly seasonality); forecasting with a flat level and one intraday profile for every day",
            model.queue,
            series.days.iter().flatten().count(),
            model::MIN_DAYS_FOR_WEEKLY
        ));
    }
    let closed: Vec<&str> = (0..7)
        .filter(|&k| !model.open[k])
        .map(|k| ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][k])
        .collect();
    if !closed.is_empty() {
        warnings.push(format!(
            "queue {}: no history on {}; forecast as closed (zero contacts)",
            model.queue,
            closed.join(", ")
        ));
    }
}

/// The prediction intervals of one slot.
pub(crate) struct Band {
    pub lo80: f64,
    pub hi80: f64,
    pub lo95: f64,
    pub hi95: f64,
}

impl Band {
    pub(crate) fn new(mu: f64, kappa: f64, log_var80: f64, log_var95: f64) -> Band {
        // The two bands' spreads are fitted separately; the 95% one is never the narrower.
        let c80 = (1.0 + kappa) * log_var80.exp() - 1.0;
        let c95 = (1.0 + kappa) * log_var95.max(log_var80).exp() - 1.0;
        let (lo80, hi80) = (
            intervals::nb_quantile(mu, c80, 0.10),
            intervals::nb_quantile(mu, c80, 0.90),
        );
        Band {
            lo80,
            hi80,
            lo95: intervals::nb_quantile(mu, c95, 0.025).min(lo80),
            hi95: intervals::nb_quantile(mu, c95, 0.975).max(hi80),
        }
    }
}

fn round_to(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// Writes `forecast.csv`.
pub fn write_forecast(rows: &[ForecastRow], out: impl Write) -> std::io::Result<()> {
    crate::csv_rows::write_serialized(rows, out)
}

/// Reads `forecast.csv`; the first malformed row is an error naming its line.
pub fn read_forecast(path: &Path) -> Result<Vec<ForecastRow>, ForecastError> {
    let file = path.display().to_string();
    let expected = [
        "queue",
        "start",
        "interval_minutes",
        "contacts",
        "aht_seconds",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
    ];
    let mut rows = Vec::new();
    for (line, row) in crate::csv_rows::read_rows::<ForecastRow>(path, Some(&expected))? {
        let values = [
            ("contacts", row.contacts),
            ("aht_seconds", row.aht_seconds),
            ("lo80", row.lo80),
            ("hi80", row.hi80),
            ("lo95", row.lo95),
            ("hi95", row.hi95),
        ];
        if let Some((name, v)) = values.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
            return Err(ForecastError::Row {
                file: file.clone(),
                line,
                message: format!("{name}: expected a number of 0 or more, found {v}"),
            });
        }
        if row.interval_minutes == 0 || (24 * 60) % row.interval_minutes != 0 {
            return Err(ForecastError::Row {
                file: file.clone(),
                line,
                message: format!(
                    "interval_minutes: expected minutes that divide a day, found {}",
                    row.interval_minutes
                ),
            });
        }
        if row.lo95 > row.lo80 || row.lo80 > row.hi80 || row.hi80 > row.hi95 {
            return Err(ForecastError::Row {
                file: file.clone(),
                line,
                message: "expected lo95 <= lo80 <= hi80 <= hi95".into(),
            });
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(ForecastError::EmptyForecast { file });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HistoryRow;
    use chrono::{Datelike, TimeZone};
    use peakcrew_core::model::Event;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Poisson};

    const WEEKLY: [f64; 7] = [1.2, 1.0, 0.95, 0.95, 1.05, 0.7, 0.6];
    const DAILY: f64 = 4000.0;

    fn shape(hour: usize) -> f64 {
        // Closed at night, a morning and a larger evening peak.
        if !(7..23).contains(&hour) {
            return 0.0;
        }
        let h = hour as f64;
        1.0 + 2.0 * (-0.5 * ((h - 10.0) / 1.5f64).powi(2)).exp()
            + 3.0 * (-0.5 * ((h - 20.0) / 1.5f64).powi(2)).exp()
    }

    fn true_share(hour: usize) -> f64 {
        shape(hour) / (0..24).map(shape).sum::<f64>()
    }

    /// A one-queue scenario at hourly intervals with a sale event that happened a year ago and
    /// happens again in the forecast.
    fn synthetic_scenario() -> Scenario {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("scenarios/double11.toml");
        let mut sc = Scenario::load(&path).unwrap();
        sc.interval_minutes = 60;
        let mut q = sc.queues[0].clone();
        q.id = "q".into();
        sc.queues = vec![q];
        let sale = |y: i32, uplift: f64| Event {
            name: "Sale".into(),
            date: NaiveDate::from_ymd_opt(y, 9, 9).unwrap(),
            uplift,
            pre_days: 0,
            pre_uplift: 1.0,
            post_days: 0,
            post_uplift: 1.0,
            midnight_spike: 1.0,
            midnight_hours: 0,
            queues: Default::default(),
        };
        // The calendar expects this year's sale 20% larger than last year's.
        sc.events = vec![sale(2025, 2.0), sale(2026, 2.4)];
        sc
    }

    /// Poisson counts around DAILY × weekly factor × shape, times the configured uplift on
    /// sale days with the extra volume in the evening (hours 18-22 take three times their
    /// share).
    fn synthetic_history(sc: &Scenario, first: NaiveDate, end: NaiveDate) -> History {
        drifting_history(sc, first, end, 0.0)
    }

    /// As [`synthetic_history`], with the level a random walk of `drift` log-sd per day.
    fn drifting_history(sc: &Scenario, first: NaiveDate, end: NaiveDate, drift: f64) -> History {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let step = rand_distr::Normal::new(0.0, drift.max(1e-12)).unwrap();
        let mut level: f64 = 0.0;
        let mut rows = Vec::new();
        let mut d = first;
        while d < end {
            level += step.sample(&mut rng);
            let sale = sc.events.iter().find(|e| e.date == d).map(|e| e.uplift);
            let evening_boost: f64 = (0..24)
                .map(|h| true_share(h) * if (18..23).contains(&h) { 3.0 } else { 1.0 })
                .sum();
            for h in 0..24 {
                let mut mean = DAILY
                    * level.exp()
                    * WEEKLY[d.weekday().num_days_from_monday() as usize]
                    * true_share(h);
                if let Some(uplift) = sale {
                    let w = if (18..23).contains(&h) { 3.0 } else { 1.0 };
                    mean *= uplift * w / evening_boost;
                }
                let n = if mean > 0.0 {
                    Poisson::new(mean).unwrap().sample(&mut rng)
                } else {
                    0.0
                };
                let local = d.and_hms_opt(h as u32, 0, 0).unwrap();
                let start = sc
                    .time_zone
                    .from_local_datetime(&local)
                    .unwrap()
                    .fixed_offset();
                rows.push(HistoryRow {
                    start,
                    queue: "q".into(),
                    contacts: n,
                    aht_seconds: Some(300.0),
                    line: 0,
                });
            }
            d += Duration::days(1);
        }
        History {
            rows,
            problems: vec![],
        }
    }

    fn day_total(rows: &[ForecastRow], d: NaiveDate) -> f64 {
        rows.iter()
            .filter(|r| r.start.date_naive() == d)
            .map(|r| r.contacts)
            .sum()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn recovers_intraday_shape_weekly_pattern_and_event_uplift() {
        let sc = synthetic_scenario();
        let start = date(2026, 8, 31); // a Monday
        let history = synthetic_history(&sc, date(2025, 6, 2), start);
        let fc = forecast_scenario(&sc, &history, start, 28).unwrap();
        assert!(fc.warnings.is_empty(), "{:?}", fc.warnings);

        // Weekly pattern: each ordinary day of the first week within 3% of DAILY × factor.
        for k in 0..7 {
            let d = start + Duration::days(k);
            let total = day_total(&fc.rows, d);
            let want = DAILY * WEEKLY[k as usize];
            assert!(
                (total / want - 1.0).abs() < 0.03,
                "day {k}: {total:.0} vs {want:.0}"
            );
        }
        // Intraday shape: the shares of an ordinary Tuesday within 0.004 of the truth in every
        // hour (shares run up to 0.13), and zero while closed.
        let tue = start + Duration::days(1);
        let total = day_total(&fc.rows, tue);
        for r in fc.rows.iter().filter(|r| r.start.date_naive() == tue) {
            let h = r.start.hour() as usize;
            let share = r.contacts / total;
            assert!(
                (share - true_share(h)).abs() < 0.004,
                "hour {h}: {share:.4} vs {:.4}",
                true_share(h)
            );
        }
        // Event: 2025-09-09 doubled the day, the evening tripled; learned from it and scaled by
        // the configured 2.4 / 2.0, 2026-09-09 (a Wednesday) should be 2.4 times a Wednesday.
        let sale = date(2026, 9, 9);
        let total = day_total(&fc.rows, sale);
        let want = 2.4 * DAILY * WEEKLY[2];
        assert!(
            (total / want - 1.0).abs() < 0.06,
            "sale day {total:.0} vs {want:.0}"
        );
        let evening: f64 = fc
            .rows
            .iter()
            .filter(|r| r.start.date_naive() == sale && (18..23).contains(&r.start.hour()))
            .map(|r| r.contacts)
            .sum();
        let boost: f64 = (0..24)
            .map(|h| true_share(h) * if (18..23).contains(&h) { 3.0 } else { 1.0 })
            .sum();
        let want_share: f64 = (18..23).map(|h| 3.0 * true_share(h) / boost).sum();
        assert!(
            (evening / total - want_share).abs() < 0.03,
            "evening share {:.3} vs {want_share:.3}",
            evening / total
        );
    }

    #[test]
    fn intervals_widen_with_horizon_and_around_events() {
        let sc = synthetic_scenario();
        let start = date(2026, 8, 31);
        // A level that wanders (2% a day) is what makes far days less certain than near ones.
        let history = drifting_history(&sc, date(2025, 6, 2), start, 0.02);
        let fc = forecast_scenario(&sc, &history, start, 28).unwrap();
        let rel_width = |d: NaiveDate, hour: u32| {
            let r = fc
                .rows
                .iter()
                .find(|r| r.start.date_naive() == d && r.start.hour() == hour)
                .unwrap();
            (r.hi80 - r.lo80) / r.contacts
        };
        let first_thu = start + Duration::days(3);
        let last_thu = first_thu + Duration::days(21);
        assert!(
            rel_width(last_thu, 20) > rel_width(first_thu, 20) * 1.2,
            "{} vs {}",
            rel_width(last_thu, 20),
            rel_width(first_thu, 20)
        );
        let sale = date(2026, 9, 9);
        let ordinary_wed = sale + Duration::days(7);
        assert!(rel_width(sale, 20) > rel_width(ordinary_wed, 20) * 1.05);
        for r in &fc.rows {
            assert!(
                r.lo95 <= r.lo80
                    && r.lo80 <= r.contacts.ceil()
                    && r.contacts.floor() <= r.hi80
                    && r.hi80 <= r.hi95,
                "{r:?}"
            );
        }
    }

    #[test]
    fn quiet_days_of_a_sparse_queue_count_as_zeros() {
        // One contact at noon every other day, rows of zeros otherwise: half a contact a day.
        let sc = synthetic_scenario();
        let start = date(2026, 8, 31);
        let mut rows = Vec::new();
        let mut d = date(2026, 3, 2);
        let mut n = 0;
        while d < start {
            for h in 0..24 {
                let local = d.and_hms_opt(h, 0, 0).unwrap();
                let at = sc
                    .time_zone
                    .from_local_datetime(&local)
                    .unwrap()
                    .fixed_offset();
                let contacts = if h == 12 && n % 2 == 0 { 1.0 } else { 0.0 };
                rows.push(HistoryRow {
                    start: at,
                    queue: "q".into(),
                    contacts,
                    aht_seconds: None,
                    line: 0,
                });
            }
            d += Duration::days(1);
            n += 1;
        }
        let h = History {
            rows,
            problems: vec![],
        };
        let fc = forecast_scenario(&sc, &h, start, 14).unwrap();
        let per_day = fc.rows.iter().map(|r| r.contacts).sum::<f64>() / 14.0;
        // The log-scale level sits a little under the mean for counts this small.
        assert!((0.35..0.65).contains(&per_day), "{per_day}");
        assert!(fc.warnings.iter().any(|w| w.contains("no handle time")));
    }

    #[test]
    fn short_history_falls_back_with_a_warning() {
        let sc = synthetic_scenario();
        let start = date(2026, 8, 31);
        let history = synthetic_history(&sc, date(2026, 8, 22), start);
        let fc = forecast_scenario(&sc, &history, start, 7).unwrap();
        assert!(
            fc.warnings
                .iter()
                .any(|w| w.contains("queue q") && w.contains("weekly seasonality")),
            "{:?}",
            fc.warnings
        );
        let total = day_total(&fc.rows, start);
        assert!(total > 0.5 * DAILY && total < 1.5 * DAILY, "{total}");
    }

    #[test]
    fn bad_history_is_refused_with_lines_and_queues() {
        let sc = synthetic_scenario();
        let start = date(2026, 8, 31);
        let empty = History::default();
        assert!(matches!(
            forecast_scenario(&sc, &empty, start, 7),
            Err(ForecastError::EmptyHistory { .. })
        ));

        let mut h = synthetic_history(&sc, date(2026, 6, 1), start);
        for (i, r) in h.rows.iter_mut().enumerate() {
            r.line = i + 2;
        }
        let mut swapped = h.clone();
        swapped.rows.swap(10, 11);
        let err = forecast_scenario(&sc, &swapped, start, 7)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":12:") && err.contains("queue q") && err.contains("time order"),
            "{err}"
        );

        let text = "start,queue,contacts\n2026-08-01T00:00:00+08:00,q,-3\n2026-08-01T01:00:00+08:00,q,abc\n";
        let bad = crate::history::parse(text, "h.csv").unwrap();
        let err = forecast_scenario(&sc, &bad, start, 7)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("history:2:") && err.contains("history:3:"),
            "{err}"
        );

        let mut other = h.clone();
        other
            .rows
            .iter_mut()
            .for_each(|r| r.queue = "elsewhere".into());
        let err = forecast_scenario(&sc, &other, start, 7)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no history for queue(s) q"), "{err}");

        let fc = forecast_scenario(&sc, &h, date(2026, 8, 24), 7).unwrap();
        assert!(
            fc.warnings
                .iter()
                .any(|w| w.contains("history from 2026-08-24 on is ignored")),
            "{:?}",
            fc.warnings
        );
    }

    #[test]
    fn forecast_file_round_trips_and_bad_rows_name_their_line() {
        let row = ForecastRow {
            queue: "q".into(),
            start: DateTime::parse_from_rfc3339("2026-11-11T00:15:00+08:00").unwrap(),
            interval_minutes: 15,
            contacts: 120.5,
            aht_seconds: 300.0,
            lo80: 100.0,
            hi80: 140.0,
            lo95: 90.0,
            hi95: 150.0,
        };
        let mut buf = Vec::new();
        write_forecast(std::slice::from_ref(&row), &mut buf).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.starts_with("queue,start,interval_minutes,contacts,aht_seconds,lo80,hi80,lo95,hi95\nq,2026-11-11T00:15:00+08:00,"), "{text}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, &buf).unwrap();
        assert_eq!(read_forecast(&p).unwrap(), vec![row]);
        std::fs::write(
            &p,
            format!("{text}q,2026-11-11T00:30:00+08:00,15,x,300,1,2,0,3\n"),
        )
        .unwrap();
        let err = read_forecast(&p).unwrap_err().to_string();
        assert!(err.contains(":3:"), "{err}");
        std::fs::write(
            &p,
            format!("{text}q,2026-11-11T00:30:00+08:00,15,-1,300,1,2,0,3\n"),
        )
        .unwrap();
        let err = read_forecast(&p).unwrap_err().to_string();
        assert!(err.contains(":3:") && err.contains("contacts"), "{err}");
    }
}
