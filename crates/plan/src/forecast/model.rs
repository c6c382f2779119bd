//! The per-queue baseline model: daily level with trend and weekly seasonality, intraday
//! profile by day type, within-day dispersion, horizon-dependent day-level error, and handle
//! time. Event effects are layered on top by `events`; the formulation is in the module doc of
//! `forecast`.
//!
//! Every smoothing constant is chosen per queue from the queue's own history by minimizing
//! out-of-sample error inside the history (each day is predicted before it is seen), over small
//! fixed grids; nothing here is tuned to a particular data set.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::series::{dow, QueueSeries};

/// Fewer data days than this, or a shorter span, and weekly seasonality cannot be estimated.
pub(crate) const MIN_DAYS_FOR_WEEKLY: usize = 14;

/// How the queue was modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelKind {
    /// Level, damped trend and weekly seasonality; a profile per day of week.
    Weekly,
    /// Too little history: a flat level and one intraday profile for every day.
    Flat,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct LevelParams {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

#[derive(Debug, Clone)]
struct LevelState {
    level: f64,
    trend: f64,
    season: [f64; 7],
}

/// `sum_{i=1..h} phi^i`, the damped trend's reach after `h` days, for h = 0..=max.
fn damped_sums(phi: f64, max: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(max + 1);
    let (mut acc, mut pow) = (0.0, 1.0);
    out.push(0.0);
    for _ in 0..max {
        pow *= phi;
        acc += pow;
        out.push(acc);
    }
    out
}

impl LevelState {
    fn forecast(&self, reach: f64, dow: usize) -> f64 {
        self.level + reach * self.trend + self.season[dow]
    }

    /// Moves one day on, learning from `obs` (log total) when the day is usable.
    fn step(&mut self, p: &LevelParams, obs: Option<f64>, dow: usize, clip: f64, open: &[bool; 7]) {
        let predicted_level = self.level + p.phi * self.trend;
        match obs {
            Some(x) => {
                // Innovations are clipped so an unannounced outage or holiday cannot drag the
                // level (Huber-type robust smoothing).
                let e = (x - predicted_level - self.season[dow]).clamp(-clip, clip);
                self.level = predicted_level + p.alpha * e;
                self.trend = p.phi * self.trend + p.alpha * p.beta * e;
                self.season[dow] += p.gamma * e;
                let n = open.iter().filter(|&&o| o).count().max(1) as f64;
                let mean: f64 = (0..7)
                    .filter(|&k| open[k])
                    .map(|k| self.season[k])
                    .sum::<f64>()
                    / n;
                for k in (0..7).filter(|&k| open[k]) {
                    self.season[k] -= mean;
                }
                self.level += mean;
            }
            None => {
                self.level = predicted_level;
                self.trend *= p.phi;
            }
        }
    }
}

/// The daily-total part of the model on log scale.
#[derive(Debug, Clone)]
struct LevelFit {
    params: LevelParams,
    state: LevelState,
    /// Variance of the log day-total error after h days: `a + b h`, for the 80% and 95% bands.
    spread80: (f64, f64),
    spread95: (f64, f64),
    /// Robust scale of one-day log errors.
    sigma: f64,
}

/// A fitted queue model, ready to forecast any date after `origin`.
#[derive(Debug, Clone)]
pub(crate) struct QueueModel {
    pub queue: String,
    pub slots: usize,
    pub kind: ModelKind,
    /// Last date of history used.
    pub origin: NaiveDate,
    pub first: NaiveDate,
    pub open: [bool; 7],
    level: LevelFit,
    profiles: [Vec<f64>; 7],
    /// Squared coefficient of variation of a slot count around day total × profile.
    pub kappa: f64,
    /// Contact-weighted handle time level and intraday factor per slot, if history has it.
    pub aht_level: Option<f64>,
    aht_profile: Vec<f64>,
    /// Log day total the model expected for each history date before seeing it.
    pub baseline_log: Vec<f64>,
    /// Profiles the model expected on excluded (event) history dates.
    pub baseline_profiles: HashMap<NaiveDate, Vec<f64>>,
}

/// What the baseline expects on one future date.
pub(crate) struct DayForecast {
    /// Expected contacts per slot.
    pub contacts: Vec<f64>,
    /// Variance of the log day total for the 80% and 95% bands.
    pub day_var80: f64,
    pub day_var95: f64,
}

impl QueueModel {
    /// Fits the model on `series`, ignoring days where `excluded` holds (event days, whose
    /// volume says nothing about the baseline). `reach_days` is how far past the last history
    /// date the forecast will go; the level model is tuned for that distance.
    pub fn fit(
        series: &QueueSeries,
        excluded: &dyn Fn(NaiveDate) -> bool,
        reach_days: usize,
    ) -> QueueModel {
        let n = series.days.len();
        let usable: Vec<bool> = (0..n)
            .map(|i| {
                series.days[i]
                    .as_ref()
                    .is_some_and(|d| d.total > 0.0 && !excluded(series.date(i)))
            })
            .collect();
        let data_days = usable.iter().filter(|&&u| u).count();
        let kind = if data_days < MIN_DAYS_FOR_WEEKLY || n < MIN_DAYS_FOR_WEEKLY {
            ModelKind::Flat
        } else {
            ModelKind::Weekly
        };
        // A day of week is open if it ever had contacts (rows of zeros mark it closed too).
        let mut open = [false; 7];
        for i in 0..n {
            if series.days[i].as_ref().is_some_and(|d| d.total > 0.0) {
                open[dow(series.date(i))] = true;
            }
        }
        if kind == ModelKind::Flat {
            open = [true; 7];
        }
        let dows: Vec<usize> = (0..n).map(|i| dow(series.date(i))).collect();
        // A day with rows but no contacts on an open weekday is a real zero for the level (a
        // sparse queue's quiet days must pull it down); only its shares are undefined.
        let x: Vec<Option<f64>> = (0..n)
            .map(|i| {
                let date = series.date(i);
                let day = series.days[i].as_ref()?;
                (open[dow(date)] && !excluded(date)).then(|| (day.total + 1.0).ln())
            })
            .collect();
        let (level, baseline_log) = fit_level(&x, &dows, &open, kind, reach_days);
        let (profiles, kappa, baseline_profiles) = fit_profiles(series, &usable, kind);
        let (aht_level, aht_profile) = fit_aht(series, &usable);
        QueueModel {
            queue: series.queue.clone(),
            slots: series.slots,
            kind,
            origin: series.last_date(),
            first: series.first,
            open,
            level,
            profiles,
            kappa,
            aht_level,
            aht_profile,
            baseline_log,
            baseline_profiles,
        }
    }

    /// Baseline (no events) for a date after the origin.
    pub fn forecast_day(&self, date: NaiveDate) -> DayForecast {
        let h = (date - self.origin).num_days().max(1) as usize;
        let k = dow(date);
        if !self.open[k] {
            return DayForecast {
                contacts: vec![0.0; self.slots],
                day_var80: 0.0,
                day_var95: 0.0,
            };
        }
        let reach = damped_sums(self.level.params.phi, h)[h];
        let total = (self.level.state.forecast(reach, k).exp() - 1.0).max(0.0);
        let profile = &self.profiles[if self.kind == ModelKind::Flat { 0 } else { k }];
        let hf = h as f64;
        let (a80, b80) = self.level.spread80;
        let (a95, b95) = self.level.spread95;
        DayForecast {
            contacts: profile.iter().map(|p| total * p).collect(),
            day_var80: a80 + b80 * hf,
            day_var95: a95 + b95 * hf,
        }
    }

    /// Expected handle time per slot (before event effects); `None` without AHT in history.
    pub fn aht(&self) -> Option<Vec<f64>> {
        self.aht_level
            .map(|level| self.aht_profile.iter().map(|f| level * f).collect())
    }

    /// Robust scale of one-day log errors, used for the uncertainty of learned event effects.
    pub fn day_sigma(&self) -> f64 {
        self.level.sigma
    }

    /// Variance of the log baseline `h` days past the last day it learned from (80% band).
    pub fn baseline_var(&self, h: usize) -> f64 {
        let (a, b) = self.level.spread80;
        a + b * h.max(1) as f64
    }

    /// The baseline day total expected on a history date (before it was seen).
    pub fn baseline_total(&self, date: NaiveDate) -> Option<f64> {
        let i = (date - self.first).num_days();
        (i >= 0)
            .then(|| self.baseline_log.get(i as usize))
            .flatten()
            .map(|x| (x.exp() - 1.0).max(0.0))
    }
}

// ------------------------------------------------------------------------ level

/// Robust scale of day-to-day log noise: the MAD of week-over-week differences (which removes
/// the weekly pattern), or of deviations from the median when there are too few weeks.
fn robust_sigma(x: &[Option<f64>]) -> f64 {
    let mut diffs: Vec<f64> = (7..x.len())
        .filter_map(|t| Some((x[t]? - x[t - 7]?).abs()))
        .collect();
    let from_diffs = diffs.len() >= 8;
    if !from_diffs {
        let mut v: Vec<f64> = x.iter().flatten().copied().collect();
        let med = median(&mut v);
        diffs = v.iter().map(|a| (a - med).abs()).collect();
    }
    let mad = median(&mut diffs) / 0.6745;
    let sigma = if from_diffs {
        mad / std::f64::consts::SQRT_2
    } else {
        mad
    };
    sigma.clamp(0.02, 2.0)
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len().is_multiple_of(2) {
        0.5 * (v[m - 1] + v[m])
    } else {
        v[m]
    }
}

fn quantile_sorted(v: &[f64], p: f64) -> f64 {
    let pos = p * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

fn initial_state(
    x: &[Option<f64>],
    dows: &[usize],
    open: &[bool; 7],
    kind: ModelKind,
) -> LevelState {
    let warm = x.len().min(28);
    let obs: Vec<(usize, f64)> = (0..warm).filter_map(|t| Some((t, x[t]?))).collect();
    let level = if obs.is_empty() {
        x.iter().flatten().next().copied().unwrap_or(0.0)
    } else {
        obs.iter().map(|o| o.1).sum::<f64>() / obs.len() as f64
    };
    let mut season = [0.0; 7];
    if kind == ModelKind::Weekly {
        let mut sums = [(0.0, 0usize); 7];
        for &(t, v) in &obs {
            sums[dows[t]].0 += v - level;
            sums[dows[t]].1 += 1;
        }
        for k in 0..7 {
            if open[k] && sums[k].1 > 0 {
                season[k] = sums[k].0 / sums[k].1 as f64;
            }
        }
    }
    LevelState {
        level,
        trend: 0.0,
        season,
    }
}

fn huber(e: f64, k: f64) -> f64 {
    let a = e.abs();
    if a <= k {
        e * e
    } else {
        2.0 * k * a - k * k
    }
}

/// Runs the level recursion, calling `visit(t, state)` before day `t` is learned from.
fn run_level(
    x: &[Option<f64>],
    dows: &[usize],
    open: &[bool; 7],
    p: &LevelParams,
    init: &LevelState,
    clip: f64,
    mut visit: impl FnMut(usize, &LevelState),
) -> LevelState {
    let mut s = init.clone();
    for t in 0..x.len() {
        visit(t, &s);
        s.step(p, x[t], dows[t], clip, open);
    }
    s
}

/// Chooses the smoothing constants by the mean Huber loss of 1- to `horizon`-day-ahead log
/// forecasts made inside the history, then measures how the error spreads with the horizon.
fn fit_level(
    x: &[Option<f64>],
    dows: &[usize],
    open: &[bool; 7],
    kind: ModelKind,
    reach_days: usize,
) -> (LevelFit, Vec<f64>) {
    let sigma = robust_sigma(x);
    let clip = 3.0 * sigma;
    let init = initial_state(x, dows, open, kind);
    let horizon = reach_days.clamp(7, 28);
    // Score only after a warm-up, so the initial state does not decide the choice, and over
    // the last year at most: recent behaviour is what the forecast continues.
    let warm = 14.min(x.len() / 3);
    let score_from = warm.max(x.len().saturating_sub(364));

    let mut candidates = Vec::new();
    if kind == ModelKind::Flat {
        for &alpha in &[0.1, 0.3, 0.6] {
            candidates.push(LevelParams {
                alpha,
                beta: 0.0,
                gamma: 0.0,
                phi: 1.0,
            });
        }
    } else {
        for &alpha in &[0.02, 0.05, 0.1, 0.2, 0.35, 0.5] {
            for &gamma in &[0.01, 0.05, 0.15, 0.3] {
                candidates.push(LevelParams {
                    alpha,
                    beta: 0.0,
                    gamma,
                    phi: 1.0,
                });
                for &beta in &[0.02, 0.1] {
                    for &phi in &[0.9, 0.98] {
                        candidates.push(LevelParams {
                            alpha,
                            beta,
                            gamma,
                            phi,
                        });
                    }
                }
            }
        }
    }
    // Every day of the first week (each origin then meets every weekday), sparser after it:
    // the loss tracks the mean over 1..=horizon at a third of the cost.
    let scored_horizons: Vec<usize> = [1, 2, 3, 4, 5, 6, 7, 10, 14, 21, 28]
        .into_iter()
        .filter(|&h| h <= horizon)
        .collect();
    let mut best = (f64::INFINITY, candidates[0]);
    for p in &candidates {
        let reach = damped_sums(p.phi, horizon);
        let (mut loss, mut count) = (0.0, 0usize);
        run_level(x, dows, open, p, &init, clip, |t, s| {
            if t < score_from {
                return;
            }
            for &h in scored_horizons.iter().take_while(|&&h| h <= x.len() - t) {
                let target = t + h - 1;
                if let Some(v) = x[target] {
                    loss += huber(v - s.forecast(reach[h], dows[target]), 2.0 * sigma);
                    count += 1;
                }
            }
        });
        let score = if count > 0 {
            loss / count as f64
        } else {
            f64::INFINITY
        };
        if score < best.0 {
            best = (score, *p);
        }
    }
    let params = best.1;

    // Final pass: the baseline expected for every date, and errors by horizon for the bands.
    let spread_horizon = reach_days.clamp(14, 63);
    let reach = damped_sums(params.phi, spread_horizon);
    let mut baseline = vec![0.0; x.len()];
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); spread_horizon + 1];
    let state = run_level(x, dows, open, &params, &init, clip, |t, s| {
        baseline[t] = s.forecast(reach[1], dows[t]);
        if t < warm {
            return;
        }
        for h in 1..=spread_horizon.min(x.len() - t) {
            let target = t + h - 1;
            if let Some(v) = x[target] {
                errors[h].push(v - s.forecast(reach[h], dows[target]));
            }
        }
    });
    let spread80 = fit_spread(&mut errors, 0.80, sigma);
    let spread95 = fit_spread(&mut errors, 0.95, sigma);
    (
        LevelFit {
            params,
            state,
            spread80,
            spread95,
            sigma,
        },
        baseline,
    )
}

/// Fits `var(h) = a + b h` to the squared half-widths of the empirical central `level`
/// intervals of h-day-ahead log errors (expressed as normal sigmas), weighting each horizon by
/// its number of errors. With too few errors it assumes the variance doubles over a week.
fn fit_spread(errors: &mut [Vec<f64>], level: f64, sigma: f64) -> (f64, f64) {
    let zq = super::intervals::z(0.5 + level / 2.0);
    let tail = (1.0 - level) / 2.0;
    let mut pts = Vec::new();
    for (h, e) in errors.iter_mut().enumerate() {
        if h == 0 || e.len() < 20 {
            continue;
        }
        e.sort_by(|a, b| a.total_cmp(b));
        let half = (quantile_sorted(e, 1.0 - tail) - quantile_sorted(e, tail)) / 2.0;
        pts.push((h as f64, (half / zq).powi(2), e.len() as f64));
    }
    if pts.len() < 3 {
        let v = sigma * sigma;
        return (v * 6.0 / 7.0, v / 7.0);
    }
    let w: f64 = pts.iter().map(|p| p.2).sum();
    let mh = pts.iter().map(|p| p.0 * p.2).sum::<f64>() / w;
    let mv = pts.iter().map(|p| p.1 * p.2).sum::<f64>() / w;
    let sxy: f64 = pts.iter().map(|p| p.2 * (p.0 - mh) * (p.1 - mv)).sum();
    let sxx: f64 = pts.iter().map(|p| p.2 * (p.0 - mh).powi(2)).sum();
    let b = if sxx > 0.0 { (sxy / sxx).max(0.0) } else { 0.0 };
    let a = (mv - b * mh).max(0.0);
    (a, b)
}

// ------------------------------------------------------------------------ profiles

/// Pools day types whose profiles are alike: weekdays with weekdays, weekend with weekend.
fn pool_group(kind: ModelKind, dow: usize) -> usize {
    match kind {
        ModelKind::Flat => 0,
        ModelKind::Weekly => usize::from(dow >= 5),
    }
}

/// Light [1 2 1] smoothing across neighbouring slots that never moves volume into a slot the
/// profile has at zero (closed hours stay closed), renormalized to sum to 1.
fn smooth(p: &[f64], out: &mut [f64]) {
    let n = p.len();
    let mut total = 0.0;
    for s in 0..n {
        out[s] = 0.0;
        if p[s] <= 0.0 {
            continue;
        }
        let mut acc = 2.0 * p[s];
        let mut w = 2.0;
        if s > 0 && p[s - 1] > 0.0 {
            acc += p[s - 1];
            w += 1.0;
        }
        if s + 1 < n && p[s + 1] > 0.0 {
            acc += p[s + 1];
            w += 1.0;
        }
        out[s] = acc / w;
        total += out[s];
    }
    if total > 0.0 {
        out.iter_mut().for_each(|v| *v /= total);
    }
}

/// Exponentially weighted sums of daily shares per day of week and per pool group. Instead of
/// decaying every sum each day, each new day enters with a weight growing by `1/decay` per day
/// (rescaled now and then), so a day costs one pass over its own slots.
struct ProfileState {
    slots: usize,
    acc: Vec<f64>,
    weight: [f64; 7],
    group_acc: Vec<f64>,
    group_weight: [f64; 2],
    growth: f64,
    gain: f64,
}

impl ProfileState {
    fn new(slots: usize, half_life_weeks: f64) -> Self {
        ProfileState {
            slots,
            acc: vec![0.0; 7 * slots],
            weight: [0.0; 7],
            group_acc: vec![0.0; 2 * slots],
            group_weight: [0.0; 2],
            growth: 0.5f64.powf(-1.0 / (7.0 * half_life_weeks)),
            gain: 1.0,
        }
    }

    /// Moves to the next calendar day.
    fn advance(&mut self) {
        self.gain *= self.growth;
        if self.gain > 1e100 {
            let f = 1.0 / self.gain;
            self.acc.iter_mut().for_each(|v| *v *= f);
            self.group_acc.iter_mut().for_each(|v| *v *= f);
            self.weight.iter_mut().for_each(|v| *v *= f);
            self.group_weight.iter_mut().for_each(|v| *v *= f);
            self.gain = 1.0;
        }
    }

    fn learn(&mut self, k: usize, g: usize, contacts: &[f64], total: f64) {
        let w = self.gain / total;
        let own = &mut self.acc[k * self.slots..(k + 1) * self.slots];
        for (a, c) in own.iter_mut().zip(contacts) {
            *a += w * c;
        }
        let grp = &mut self.group_acc[g * self.slots..(g + 1) * self.slots];
        for (a, c) in grp.iter_mut().zip(contacts) {
            *a += w * c;
        }
        self.weight[k] += self.gain;
        self.group_weight[g] += self.gain;
    }

    /// Own and pooled mean shares, and the own weight in equivalent days; `None` before any day
    /// of either kind has been seen.
    fn means(&self, k: usize, g: usize, own: &mut [f64], pooled: &mut [f64]) -> Option<f64> {
        let (w, gw) = (self.weight[k], self.group_weight[g]);
        if w <= 0.0 && gw <= 0.0 {
            return None;
        }
        for s in 0..self.slots {
            own[s] = if w > 0.0 {
                self.acc[k * self.slots + s] / w
            } else {
                0.0
            };
            pooled[s] = if gw > 0.0 {
                self.group_acc[g * self.slots + s] / gw
            } else {
                0.0
            };
        }
        Some(w / self.gain)
    }
}

/// Mixes a day type's own profile with its group's: `τ` pseudo-days of the pooled profile.
fn mix(own: &[f64], pooled: &[f64], own_days: f64, pool: f64, has_group: bool, out: &mut [f64]) {
    let pool = if has_group { pool } else { 0.0 };
    for s in 0..own.len() {
        out[s] = if pool.is_infinite() {
            pooled[s]
        } else if own_days + pool > 0.0 {
            (own_days * own[s] + pool * pooled[s]) / (own_days + pool)
        } else {
            pooled[s]
        };
    }
}

#[derive(Debug, Clone, Copy)]
struct ProfileParams {
    half_life_weeks: f64,
    /// Pseudo-days of the pooled profile mixed into a day type's own.
    pool: f64,
    smooth: bool,
}

const POOLS: [f64; 5] = [0.0, 1.0, 4.0, 16.0, f64::INFINITY];

/// Runs the recursion for one half-life, calling `visit(i, own, pooled, own_days, has_group)`
/// on each day with data (usable or not) before it is learned from.
fn run_profiles(
    series: &QueueSeries,
    usable: &[bool],
    kind: ModelKind,
    half_life_weeks: f64,
    mut visit: impl FnMut(usize, &[f64], &[f64], f64, bool),
) -> ProfileState {
    let slots = series.slots;
    let mut st = ProfileState::new(slots, half_life_weeks);
    let (mut own, mut pooled) = (vec![0.0; slots], vec![0.0; slots]);
    for i in 0..series.days.len() {
        st.advance();
        let Some(day) = series.days[i].as_ref() else {
            continue;
        };
        let d = dow(series.date(i));
        let (k, g) = (
            if kind == ModelKind::Flat { 0 } else { d },
            pool_group(kind, d),
        );
        if day.total > 0.0 {
            if let Some(own_days) = st.means(k, g, &mut own, &mut pooled) {
                visit(i, &own, &pooled, own_days, st.group_weight[g] > 0.0);
            }
        }
        if usable[i] {
            st.learn(k, g, &day.contacts, day.total);
        }
    }
    st
}

type Profiles = ([Vec<f64>; 7], f64, HashMap<NaiveDate, Vec<f64>>);

/// Chooses the profile's memory, pooling and smoothing by the absolute error of each day's
/// slots predicted from the day's actual total and the profile known before the day (so only
/// the shape is judged), over the last 26 weeks of history; then measures the within-day
/// dispersion of the chosen profile.
fn fit_profiles(series: &QueueSeries, usable: &[bool], kind: ModelKind) -> Profiles {
    let n = series.days.len();
    let slots = series.slots;
    let score_from = n.saturating_sub(26 * 7).max(14.min(n / 2));
    let mut chosen = ProfileParams {
        half_life_weeks: 2.0,
        pool: f64::INFINITY,
        smooth: true,
    };
    if kind == ModelKind::Weekly {
        let mut best = f64::INFINITY;
        let (mut mixed, mut smoothed) = (vec![0.0; slots], vec![0.0; slots]);
        for half_life_weeks in [2.0, 4.0, 8.0, 16.0, 52.0] {
            let mut loss = [[0.0f64; 2]; POOLS.len()];
            let mut scored = false;
            run_profiles(
                series,
                usable,
                kind,
                half_life_weeks,
                |i, own, pooled, days, has_group| {
                    if i < score_from || !usable[i] {
                        return;
                    }
                    let Some(day) = series.days[i].as_ref() else {
                        return;
                    };
                    scored = true;
                    for (pi, &pool) in POOLS.iter().enumerate() {
                        mix(own, pooled, days, pool, has_group, &mut mixed);
                        smooth(&mixed, &mut smoothed);
                        for s in 0..slots {
                            loss[pi][0] += (day.contacts[s] - day.total * mixed[s]).abs();
                            loss[pi][1] += (day.contacts[s] - day.total * smoothed[s]).abs();
                        }
                    }
                },
            );
            if !scored {
                continue;
            }
            for (pi, &pool) in POOLS.iter().enumerate() {
                for (si, smooth) in [false, true].into_iter().enumerate() {
                    if loss[pi][si] < best {
                        best = loss[pi][si];
                        chosen = ProfileParams {
                            half_life_weeks,
                            pool,
                            smooth,
                        };
                    }
                }
            }
        }
    }
    let (mut num, mut den) = (0.0, 0.0);
    let mut baseline_profiles = HashMap::new();
    let predict = |own: &[f64], pooled: &[f64], days: f64, has_group: bool| -> Vec<f64> {
        let mut out = vec![0.0; own.len()];
        mix(own, pooled, days, chosen.pool, has_group, &mut out);
        if chosen.smooth {
            let raw = out.clone();
            smooth(&raw, &mut out);
        }
        out
    };
    let st = run_profiles(
        series,
        usable,
        kind,
        chosen.half_life_weeks,
        |i, own, pooled, days, has_group| {
            let pred = predict(own, pooled, days, has_group);
            let Some(day) = series.days[i].as_ref() else {
                return;
            };
            if !usable[i] {
                baseline_profiles.insert(series.date(i), pred);
                return;
            }
            if i < 7.min(n / 2) {
                return;
            }
            for s in 0..slots {
                let m = day.total * pred[s];
                num += (day.contacts[s] - m).powi(2) - m;
                den += m * m;
            }
        },
    );
    let kappa = if den > 0.0 { (num / den).max(0.0) } else { 0.0 };
    let (mut own, mut pooled) = (vec![0.0; slots], vec![0.0; slots]);
    let profiles: [Vec<f64>; 7] = std::array::from_fn(|d| {
        let k = if kind == ModelKind::Flat { 0 } else { d };
        let g = pool_group(kind, d);
        match st.means(k, g, &mut own, &mut pooled) {
            Some(days) => predict(&own, &pooled, days, st.group_weight[g] > 0.0),
            None => vec![0.0; slots],
        }
    });
    (profiles, kappa, baseline_profiles)
}

// ------------------------------------------------------------------------ handle time

/// Handle time: a contact-weighted level over the last four weeks of usable days and a
/// contact-weighted factor per time of day over the last eight, smoothed over ±2 slots and
/// shrunk towards 1 where few contacts were measured (30 pseudo-contacts at the level).
fn fit_aht(series: &QueueSeries, usable: &[bool]) -> (Option<f64>, Vec<f64>) {
    let n = series.days.len();
    let slots = series.slots;
    let recent = |weeks: usize| (0..n).rev().take(7 * weeks).filter(|&i| usable[i]);
    let level_window = |weeks| {
        let (mut sum, mut w) = (0.0, 0.0);
        for i in recent(weeks) {
            if let Some(d) = series.days[i].as_ref() {
                sum += d.aht_sum.iter().sum::<f64>();
                w += d.aht_weight.iter().sum::<f64>();
            }
        }
        (w > 0.0).then(|| sum / w)
    };
    let Some(level) = level_window(4).or_else(|| level_window(n / 7 + 1)) else {
        return (None, vec![1.0; slots]);
    };
    let mut sum = vec![0.0; slots];
    let mut w = vec![0.0; slots];
    for i in recent(8) {
        if let Some(d) = series.days[i].as_ref() {
            for s in 0..slots {
                sum[s] += d.aht_sum[s];
                w[s] += d.aht_weight[s];
            }
        }
    }
    const PSEUDO: f64 = 30.0;
    let profile = (0..slots)
        .map(|s| {
            let (mut a, mut b) = (0.0, 0.0);
            for j in s.saturating_sub(2)..=(s + 2).min(slots - 1) {
                let k = 3.0 - (j as f64 - s as f64).abs();
                a += k * sum[j];
                b += k * w[j];
            }
            (a + PSEUDO * level) / (b + PSEUDO) / level
        })
        .collect();
    (Some(level), profile)
}
