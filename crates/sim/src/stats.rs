//! What a replication counts ([`Cell`], [`RepResult`]) and how replications become a report:
//! per queue-interval, per queue and overall figures, each a mean with a 95% Student-t
//! confidence interval across replications ([`Estimate`]).
//!
//! Contacts are counted by the one tally (`peakcrew_core::tally`: its module doc defines every
//! figure), in the queue and interval they arrived in. Per replication, queue and overall
//! figures are the tally's ratios over the counted intervals (those after the warm-up), e.g.
//! service level = Σ answered within T ÷ Σ offered. The confidence interval is over the
//! replications' values, `mean ± t(0.975, n−1) · s / √n`.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::input::{Model, SimOptions};
use peakcrew_core::model::Channel;
use peakcrew_core::tally::{self, Counts};

/// The 97.5% quantile of Student's t with `df` degrees of freedom (tabulated once: a report
/// asks for it for every queue-interval).
fn t975(df: usize) -> f64 {
    const TABLE: usize = 1024;
    static QUANTILES: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let exact =
        |df: usize| StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |d| d.inverse_cdf(0.975));
    if df >= TABLE {
        return exact(df);
    }
    QUANTILES.get_or_init(|| {
        (0..TABLE)
            .map(|d| if d == 0 { f64::NAN } else { exact(d) })
            .collect()
    })[df]
}

/// One queue in one interval of one replication, counted by arrival interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Cell {
    pub counts: Counts,
    /// Neither answered nor abandoned when the simulation ended.
    pub unresolved: u32,
    pub max_queue: u32,
}

/// Everything one replication measured.
#[derive(Debug, Clone, Default)]
pub(super) struct RepResult {
    /// `q * n + k`.
    pub cells: Vec<Cell>,
    /// Capacity-share × ms in use, `profile * n + k`.
    pub busy: Vec<f64>,
    /// Staffed ms, `profile * n + k`.
    pub staffed: Vec<f64>,
    pub arrivals: u64,
    pub events: u64,
    pub rejected: u64,
    pub lost_after_answer: u64,
    pub unfinished_after_answer: u64,
    pub disconnects: u64,
    pub absences: u64,
    pub violation: Option<(peakcrew_core::routing::Millis, String)>,
    /// Time of the last event, ms from the model's origin.
    pub end: peakcrew_core::routing::Millis,
    pub wall_seconds: f64,
}

/// A mean across replications with its 95% confidence interval (absent with one replication).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    /// Replications the figure is defined in (a ratio needs arrivals, occupancy staff).
    pub n: u32,
}

impl Estimate {
    /// The mean and Student-t interval of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Some(Estimate {
                mean,
                ci95_low: None,
                ci95_high: None,
                n: 1,
            });
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let half = t975(n - 1) * (var / n as f64).sqrt();
        let (lo, hi) = if half.is_finite() {
            (Some(mean - half), Some(mean + half))
        } else {
            (None, None)
        };
        Some(Estimate {
            mean,
            ci95_low: lo,
            ci95_high: hi,
            n: n as u32,
        })
    }

    /// [`Estimate::of`] with the interval cut to the range the figure can take (a share lies in
    /// [0, 1], a time is not negative): with few replications a t interval can reach past it.
    pub fn of_within(values: &[f64], low: f64, high: f64) -> Option<Estimate> {
        Estimate::of(values).map(|e| Estimate {
            ci95_low: e.ci95_low.map(|x| x.max(low)),
            ci95_high: e.ci95_high.map(|x| x.min(high)),
            ..e
        })
    }

    /// Half-width of the interval, if there is one: the wider side, so an interval cut at a
    /// bound ([`Estimate::of_within`]) still shows its t half-width.
    pub fn half_width(&self) -> Option<f64> {
        Some((self.ci95_high? - self.mean).max(self.mean - self.ci95_low?))
    }

    /// Whether `x` lies in the confidence interval.
    pub fn covers(&self, x: f64) -> bool {
        matches!((self.ci95_low, self.ci95_high), (Some(lo), Some(hi)) if lo <= x && x <= hi)
    }
}

/// The figures of one scope (a queue-interval, a queue, the center), each the mean over
/// replications of the tally's figure of that name (`peakcrew_core::tally` defines them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Contacts offered, mean per replication (what one run of the day or week brings).
    pub offered: f64,
    /// Contacts offered, summed over all replications.
    pub offered_total: u64,
    /// Answered within the answer time ÷ offered.
    pub service_level: Option<Estimate>,
    /// Answered within the answer time ÷ (offered − short abandons).
    pub service_level_excluding_short_abandons: Option<Estimate>,
    /// Mean wait of answered contacts, seconds.
    pub asa_seconds: Option<Estimate>,
    /// Mean wait of answered and abandoned contacts, seconds.
    pub mean_wait_seconds: Option<Estimate>,
    /// Abandoned before an answer ÷ offered.
    pub abandonment_rate: Option<Estimate>,
    /// Capacity-time in use ÷ capacity-time staffed.
    pub occupancy: Option<Estimate>,
    /// Longest wait, including waits still running when the simulation ended.
    pub longest_wait_seconds: Option<Estimate>,
    pub max_queue_length: Option<Estimate>,
}

/// One queue over the whole run (after warm-up).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueReport {
    pub queue: String,
    pub channel: Channel,
    /// The answer time T the service level counts against.
    pub answer_seconds: f64,
    /// Target share of the queue's promise (service level or abandon cap), if it has one.
    pub target: Option<f64>,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// One queue in one interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalReport {
    pub queue: String,
    pub start: DateTime<FixedOffset>,
    /// Whether the interval counts in the queue and overall figures (after warm-up).
    pub counted: bool,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// Totals over all replications, for diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Contacts simulated, warm-up included.
    pub contacts: u64,
    /// Of those: answered, abandoned before an answer, and neither when the simulation ended.
    pub answered: u64,
    pub abandoned: u64,
    pub unresolved: u64,
    /// Events taken off the event queue.
    pub events: u64,
    /// Commands the router refused (0 unless the simulator and the core disagree).
    pub rejected_commands: u64,
    /// Answered contacts that abandoned after their agent dropped them.
    pub lost_after_answer: u64,
    /// Answered contacts still open at the end (their agent dropped them after the last shift).
    pub unfinished_after_answer: u64,
    pub disconnects: u64,
    pub absences: u64,
}

/// Wall-clock figures: the only part of a report that differs between runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timing {
    /// Wall time of the whole batch (all replications, all threads; a whole sweep).
    pub wall_seconds: f64,
    /// Sum of the replications' own wall times.
    pub thread_seconds: f64,
    /// Events of the batch per wall second.
    pub events_per_second: f64,
}

/// The result of [`super::simulate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimReport {
    pub replications: u32,
    pub seed: u64,
    pub interval_minutes: u32,
    pub warmup_intervals: u32,
    pub overall: Metrics,
    pub queues: Vec<QueueReport>,
    /// Every queue × interval of the arrival grid, queue by queue, in time order.
    pub intervals: Vec<IntervalReport>,
    pub counters: Counters,
    pub timing: Timing,
}

impl SimReport {
    pub fn queue(&self, id: &str) -> Option<&QueueReport> {
        self.queues.iter().find(|q| q.queue == id)
    }
}

/// One replication's counts for one scope.
#[derive(Clone, Copy, Default)]
struct Values {
    counts: Counts,
    max_queue: u32,
    busy: f64,
    staffed: f64,
}

impl Values {
    fn add(&mut self, c: &Cell) {
        self.counts.add(&c.counts);
        self.max_queue = self.max_queue.max(c.max_queue);
    }

    fn merge(&mut self, o: &Values) {
        self.counts.add(&o.counts);
        self.max_queue = self.max_queue.max(o.max_queue);
    }
}

/// Collects the per-replication values of one scope and turns them into [`Metrics`].
#[derive(Default)]
struct Gather {
    offered: u64,
    reps: u32,
    sl: Vec<f64>,
    sl_short: Vec<f64>,
    asa: Vec<f64>,
    mean_wait: Vec<f64>,
    abandon: Vec<f64>,
    occupancy: Vec<f64>,
    longest: Vec<f64>,
    max_queue: Vec<f64>,
}

impl Gather {
    fn push(&mut self, v: &Values) {
        self.reps += 1;
        self.offered += v.counts.offered;
        let f = v.counts.figures();
        let pairs = [
            (&mut self.sl, f.service_level),
            (&mut self.sl_short, f.service_level_excluding_short_abandons),
            (&mut self.asa, f.asa_seconds),
            (&mut self.mean_wait, f.mean_wait_seconds),
            (&mut self.abandon, f.abandonment_rate),
            (&mut self.longest, f.longest_wait_seconds),
            (&mut self.occupancy, tally::occupancy(v.busy, v.staffed)),
        ];
        for (values, figure) in pairs {
            values.extend(figure);
        }
        self.max_queue.push(f64::from(v.max_queue));
    }

    fn metrics(&self) -> Metrics {
        let share = |v: &[f64]| Estimate::of_within(v, 0.0, 1.0);
        let time = |v: &[f64]| Estimate::of_within(v, 0.0, f64::INFINITY);
        Metrics {
            offered: self.offered as f64 / f64::from(self.reps.max(1)),
            offered_total: self.offered,
            service_level: share(&self.sl),
            service_level_excluding_short_abandons: share(&self.sl_short),
            asa_seconds: time(&self.asa),
            mean_wait_seconds: time(&self.mean_wait),
            abandonment_rate: share(&self.abandon),
            occupancy: share(&self.occupancy),
            longest_wait_seconds: time(&self.longest),
            max_queue_length: time(&self.max_queue),
        }
    }
}

/// Builds the report of one model's replications.
pub(super) fn report(
    model: &Model,
    options: &SimOptions,
    runs: Vec<RepResult>,
    timing: Timing,
) -> SimReport {
    let n = model.grid.n as usize;
    let nq = model.queues.len();
    let warm = (options.warmup_intervals as usize).min(n);
    let mut overall = Gather::default();
    let mut queues: Vec<Gather> = (0..nq).map(|_| Gather::default()).collect();
    let mut cells: Vec<Gather> = (0..nq * n).map(|_| Gather::default()).collect();
    let mut counters = Counters::default();
    let all_profiles: Vec<u16> = (0..model.profiles.len() as u16).collect();
    let occupancy = |run: &RepResult, profiles: &[u16], ks: std::ops::Range<usize>| {
        let (mut busy, mut staffed) = (0.0, 0.0);
        for &p in profiles {
            for k in ks.clone() {
                busy += run.busy[p as usize * n + k];
                staffed += run.staffed[p as usize * n + k];
            }
        }
        (busy, staffed)
    };
    for run in &runs {
        let mut total = Values::default();
        for q in 0..nq {
            let mut queue = Values::default();
            for k in 0..n {
                let cell = &run.cells[q * n + k];
                let mut v = Values::default();
                v.add(cell);
                (v.busy, v.staffed) = occupancy(run, &model.eligible[q], k..k + 1);
                cells[q * n + k].push(&v);
                if k >= warm {
                    queue.add(cell);
                }
            }
            (queue.busy, queue.staffed) = occupancy(run, &model.eligible[q], warm..n);
            queues[q].push(&queue);
            total.merge(&queue);
        }
        (total.busy, total.staffed) = occupancy(run, &all_profiles, warm..n);
        overall.push(&total);
        counters.contacts += run.arrivals;
        for c in &run.cells {
            counters.answered += c.counts.answered;
            counters.abandoned += c.counts.abandoned;
            counters.unresolved += u64::from(c.unresolved);
        }
        counters.events += run.events;
        counters.rejected_commands += run.rejected;
        counters.lost_after_answer += run.lost_after_answer;
        counters.unfinished_after_answer += run.unfinished_after_answer;
        counters.disconnects += run.disconnects;
        counters.absences += run.absences;
    }
    let timing = Timing {
        thread_seconds: runs.iter().map(|r| r.wall_seconds).sum(),
        ..timing
    };
    SimReport {
        replications: options.replications,
        seed: options.seed,
        interval_minutes: (model.grid.interval / 60_000) as u32,
        warmup_intervals: warm as u32,
        overall: overall.metrics(),
        queues: model
            .queues
            .iter()
            .zip(&queues)
            .map(|(q, g)| QueueReport {
                queue: q.name.clone(),
                channel: q.channel,
                answer_seconds: q.answer_seconds,
                target: q.target_fraction,
                metrics: g.metrics(),
            })
            .collect(),
        intervals: (0..nq * n)
            .map(|i| IntervalReport {
                queue: model.queues[i / n].name.clone(),
                start: model.interval_starts[i % n],
                counted: i % n >= warm,
                metrics: cells[i].metrics(),
            })
            .collect(),
        counters,
        timing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_matches_a_hand_computed_t_interval() {
        // mean 2, s = 1, n = 3: t(0.975, 2) = 4.302653, half = 4.302653 / sqrt(3).
        let e = Estimate::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(e.mean, 2.0);
        let half = 4.302_652_729_9 / 3f64.sqrt();
        assert!((e.ci95_high.unwrap() - (2.0 + half)).abs() < 1e-6, "{e:?}");
        assert!((e.half_width().unwrap() - half).abs() < 1e-6);
        assert!(e.covers(0.0) && !e.covers(4.5));
    }

    #[test]
    fn one_value_has_no_interval_and_none_has_no_estimate() {
        let e = Estimate::of(&[0.5]).unwrap();
        assert_eq!((e.mean, e.ci95_low, e.ci95_high, e.n), (0.5, None, None, 1));
        assert!(Estimate::of(&[]).is_none());
        let cut = Estimate::of_within(&[0.0, 0.9], 0.0, 1.0).unwrap();
        assert_eq!((cut.ci95_low, cut.ci95_high), (Some(0.0), Some(1.0)));
        assert_eq!(cut.mean, 0.45);
        // Cut on one side only: the other still shows the t half-width, 12.7062 × 0.05.
        let low = Estimate::of_within(&[0.0, 0.1], 0.0, 1.0).unwrap();
        assert_eq!(low.ci95_low, Some(0.0));
        assert!((low.half_width().unwrap() - 12.706_204_736_2 * 0.05).abs() < 1e-6);
        let same = Estimate::of(&[0.25; 4]).unwrap();
        assert_eq!((same.ci95_low, same.ci95_high), (Some(0.25), Some(0.25)));
    }
}
