//! Calendar events on top of the baseline: which history days they touch (and so are kept out
//! of the baseline), and their effect on a forecast day, learned from past occurrences where the
//! history has one and taken from the scenario's configured multipliers where it has none.
//!
//! Occurrences of "the same event" are calendar entries with the same `name` at other dates.
//! For a forecast day at offset `o` from its occurrence's date, a past occurrence contributes
//! the effect it had at the same offset, relative to the baseline the model expected then:
//!
//! ```text
//! effect_p(s) = R_p · S_p(s) · m_target(o, s) / m_p(o, s)
//! R_p   = actual day total / baseline day total            (the day's uplift)
//! S_p(s) = smoothed (actual share of slot s) / (baseline share)  (its intraday shape, mean 1)
//! ```
//!
//! where `m(o, s)` is the configured multiplier ([`peakcrew_core::model::Event::multiplier`]) of that
//! occurrence for the queue at that wall-clock time; the ratio rescales the learned effect when
//! the calendar expects this year's event to be larger or smaller than the one learned from
//! (Double-11 2025 configured at 3.0×, 2026 at 3.3×: the learned effect is scaled by 3.3/3.0).
//! Several past occurrences are averaged geometrically.

use chrono::{NaiveDate, NaiveTime};

use super::model::QueueModel;
use super::series::QueueSeries;
use crate::scenario::Scenario;
use peakcrew_core::model::Event;

/// Pseudo-contacts that pull a learned slot shape towards 1 where the event day had few.
const SHAPE_PRIOR_CONTACTS: f64 = 10.0;
/// Year-to-year variability assumed for a learned effect, as a fraction of its log size.
const LEARNED_DRIFT: f64 = 0.2;
/// Uncertainty assumed for a configured effect never observed, as a fraction of its log size:
/// a configured 3× uplift is believed within about 1.7×–5.2× at 95%.
const CONFIGURED_DOUBT: f64 = 0.4;

/// An event's effect on one forecast day of one queue.
#[derive(Debug, Clone)]
pub(crate) struct DayEffect {
    /// Multiplier on baseline contacts, per slot.
    pub volume: Vec<f64>,
    /// Added variance of the log rate, per slot.
    pub log_var: Vec<f64>,
    /// Multiplier on handle time.
    pub aht: f64,
    /// Events learned from history on this day, and events taken from configuration.
    pub learned: Vec<String>,
    pub configured: Vec<String>,
}

/// Whether any event changes `queue`'s volume on `date` (such days stay out of the baseline).
pub(crate) fn touches(events: &[Event], queue: &str, date: NaiveDate) -> bool {
    events.iter().any(|e| {
        let (a, b) = e.span();
        a <= date
            && date <= b
            && (0..24).any(|h| {
                date.and_hms_opt(h, 0, 0)
                    .is_some_and(|t| (e.multiplier(queue, t) - 1.0).abs() > 1e-9)
            })
    })
}

fn slot_start(slot: usize, interval_minutes: u32) -> NaiveTime {
    let m = slot as u32 * interval_minutes;
    NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap_or(NaiveTime::MIN)
}

/// The combined effect of every event touching `date`, or `None` on an ordinary day.
pub(crate) fn day_effect(
    scenario: &Scenario,
    model: &QueueModel,
    series: &QueueSeries,
    date: NaiveDate,
) -> Option<DayEffect> {
    let queue = series.queue.as_str();
    let slots = series.slots;
    let interval = scenario.interval_minutes;
    let times: Vec<NaiveTime> = (0..slots).map(|s| slot_start(s, interval)).collect();
    let mut out = DayEffect {
        volume: vec![1.0; slots],
        log_var: vec![0.0; slots],
        aht: 1.0,
        learned: Vec::new(),
        configured: Vec::new(),
    };
    let mut any = false;
    for target in &scenario.events {
        if !touches(std::slice::from_ref(target), queue, date) {
            continue;
        }
        any = true;
        let offset = date - target.date;
        let configured: Vec<f64> = times
            .iter()
            .map(|t| target.multiplier(queue, date.and_time(*t)))
            .collect();
        let mut learned: Vec<Vec<f64>> = Vec::new();
        let mut aht_ratios = Vec::new();
        for past in scenario
            .events
            .iter()
            .filter(|p| p.name == target.name && p.date != target.date && p.date <= model.origin)
        {
            let past_date = past.date + offset;
            if let Some((log_effect, aht)) =
                learn(model, series, past, past_date, &times, &configured)
            {
                learned.push(log_effect);
                aht_ratios.extend(aht);
            }
        }
        if learned.is_empty() {
            out.configured.push(target.name.clone());
            for s in 0..slots {
                let m = configured[s];
                out.volume[s] *= m;
                if m > 0.0 {
                    out.log_var[s] += (CONFIGURED_DOUBT * m.ln()).powi(2);
                }
            }
        } else {
            out.learned.push(target.name.clone());
            let n = learned.len() as f64;
            let sigma = model.day_sigma();
            for s in 0..slots {
                let log_eff = learned.iter().map(|l| l[s]).sum::<f64>() / n;
                out.volume[s] *= log_eff.exp();
                out.log_var[s] += sigma * sigma / n + (LEARNED_DRIFT * log_eff).powi(2);
            }
            if !aht_ratios.is_empty() {
                let g =
                    aht_ratios.iter().map(|r: &f64| r.ln()).sum::<f64>() / aht_ratios.len() as f64;
                out.aht *= g.exp();
            }
        }
    }
    any.then_some(out)
}

/// One past occurrence's log effect per slot, rescaled to the target's configured multipliers,
/// and its handle-time ratio; `None` when the history cannot say (no data that day, the day
/// outside that occurrence's span, or a zero configured multiplier to rescale from).
fn learn(
    model: &QueueModel,
    series: &QueueSeries,
    past: &Event,
    past_date: NaiveDate,
    times: &[NaiveTime],
    target_configured: &[f64],
) -> Option<(Vec<f64>, Option<f64>)> {
    if past_date > model.origin {
        return None;
    }
    let (a, b) = past.span();
    if past_date < a || past_date > b {
        return None;
    }
    let day = series.day(past_date)?;
    let base_total = model.baseline_total(past_date)?;
    let base_profile = model.baseline_profiles.get(&past_date)?;
    if base_total <= 0.0 || day.total <= 0.0 {
        return None;
    }
    let ratio = day.total / base_total;
    let slots = times.len();
    // Kernel-smoothed actual over expected (a triangle reaching ±30 minutes, so the smoothing
    // is the same in time whatever the interval), shrunk towards 1 by a few pseudo-contacts.
    let reach = (30 * slots / (24 * 60)) as isize;
    let mut shape: Vec<f64> = (0..slots)
        .map(|s| {
            if base_profile[s] <= 0.0 {
                return 1.0;
            }
            let (mut act, mut exp) = (0.0, 0.0);
            let lo = s.saturating_sub(reach as usize);
            for j in lo..=(s + reach as usize).min(slots - 1) {
                let w = (reach + 1 - (j as isize - s as isize).abs()) as f64;
                act += w * day.contacts[j];
                exp += w * day.total * base_profile[j];
            }
            (act + SHAPE_PRIOR_CONTACTS) / (exp + SHAPE_PRIOR_CONTACTS)
        })
        .collect();
    let mean: f64 = (0..slots).map(|s| base_profile[s] * shape[s]).sum();
    if mean <= 0.0 {
        return None;
    }
    shape.iter_mut().for_each(|v| *v /= mean);
    let mut log_effect = Vec::with_capacity(slots);
    for s in 0..slots {
        let m_past = past.multiplier(&series.queue, past_date.and_time(times[s]));
        if m_past <= 0.0 {
            return None;
        }
        let rescale = target_configured[s] / m_past;
        log_effect.push((ratio * shape[s] * rescale).max(1e-6).ln());
    }
    Some((log_effect, aht_ratio(series, past, past_date, model)))
}

/// Contact-weighted handle time of the event day over that of the four weeks before the
/// occurrence began.
fn aht_ratio(
    series: &QueueSeries,
    past: &Event,
    past_date: NaiveDate,
    model: &QueueModel,
) -> Option<f64> {
    let day = series.day(past_date)?;
    let w: f64 = day.aht_weight.iter().sum();
    if w <= 0.0 {
        return None;
    }
    let on_day = day.aht_sum.iter().sum::<f64>() / w;
    let (start, _) = past.span();
    let (mut sum, mut weight) = (0.0, 0.0);
    for back in 1..=28 {
        let d = start - chrono::Duration::days(back);
        if d < model.first {
            break;
        }
        if let Some(day) = series.day(d) {
            sum += day.aht_sum.iter().sum::<f64>();
            weight += day.aht_weight.iter().sum::<f64>();
        }
    }
    (weight > 0.0).then(|| on_day / (sum / weight))
}

/// Corrections for occurrences already under way at the end of the history: how much their
/// observed days ran above or below what the model expected for them (baseline × effect), as
/// a factor for the occurrence's remaining days, one per event of the calendar (1 where none).
///
/// The observed days carry both errors an event forecast shares over its whole span: the
/// baseline's extrapolation error now (event days never update the level) and, for a learned
/// effect, the error of the baseline it was learned against. The log ratio is averaged with
/// precision `1/σ²` per day (σ the one-day noise) and shrunk towards 0 by a normal prior with
/// the variance of those shared errors, so a few noisy days move it little.
pub(crate) fn occurrence_corrections(
    scenario: &Scenario,
    model: &QueueModel,
    series: &QueueSeries,
) -> Vec<f64> {
    let last_usable = (0..series.days.len())
        .rev()
        .map(|i| series.date(i))
        .find(|&d| {
            series.day(d).is_some_and(|day| day.total > 0.0)
                && !touches(&scenario.events, &series.queue, d)
        });
    let sigma2 = model.day_sigma().powi(2);
    scenario
        .events
        .iter()
        .map(|event| {
            let (first, last) = event.span();
            if last <= model.origin || first > model.origin {
                return 1.0;
            }
            let (mut sum, mut n, mut shared) = (0.0, 0.0, 0.0);
            let mut d = first;
            while d <= model.origin {
                let observed = series.day(d).filter(|day| day.total > 0.0);
                let base = model.baseline_total(d);
                let profile = model.baseline_profiles.get(&d);
                let effect = day_effect(scenario, model, series, d);
                if let (Some(day), Some(base), Some(profile), Some(effect)) =
                    (observed, base, profile, effect)
                {
                    let expected: f64 = (0..series.slots)
                        .map(|s| base * profile[s] * effect.volume[s])
                        .sum();
                    if expected > 0.0 {
                        let h = last_usable.map_or(1, |u| (d - u).num_days().max(1) as usize);
                        let ev_var = effect
                            .log_var
                            .iter()
                            .zip(profile)
                            .map(|(v, p)| v * p)
                            .sum::<f64>();
                        sum += (day.total / expected).ln();
                        n += 1.0;
                        shared += model.baseline_var(h) + ev_var;
                    }
                }
                d += chrono::Duration::days(1);
            }
            if n == 0.0 {
                return 1.0;
            }
            let prior = (shared / n).max(1e-6);
            (sum / sigma2 / (1.0 / prior + n / sigma2)).exp()
        })
        .collect()
}
