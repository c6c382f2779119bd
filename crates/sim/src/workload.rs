//! A synthetic day of arrivals and a roster to serve it, for benchmarks and end-to-end tests
//! (the roster stage that produces real rosters lives on another branch).
//!
//! - **Arrivals**: the scenario's history generator (`history::generate`) run up to `date`,
//!   so the day carries the queues' intraday shapes and every calendar event (Double-11's
//!   uplift and midnight spike); the day's counts are used as expected contacts, scaled so the
//!   day totals `contacts`.
//! - **Roster**: each queue's work (contacts × AHT × the capacity share one contact takes,
//!   chat stretch and wrap-up included) goes to its home group (the group speaking its language
//!   with the highest proficiency in its skill); agents are split over groups by work, and each
//!   agent gets one 9-hour shift (a 15-minute break after 2 h and a 1-hour meal after 4.5 h,
//!   staggered by agent) starting on the 15-minute grid where it covers the most of the
//!   group's still uncovered work shape, from 8 hours before the day on (night shifts cover
//!   the midnight spike).
//! - **Handle times**: the generated AHTs times one factor, the largest (never above 1) at
//!   which [`PLANNED_SHARE`] of the day's work fits within [`TARGET_OCCUPANCY`] of the agents
//!   on duty in its group and interval: the center is planned for its peaks, as a real one is.
//!   A center of `agents` agents can then carry `contacts` contacts, whatever the two numbers.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset};

use super::input::{ArrivalRate, RosterShift, SimError};
use peakcrew_core::model::chat_stretch;
use peakcrew_core::model::{local_to_utc, Channel};
use peakcrew_core::routing::RoutingPolicy;
use peakcrew_plan::scenario::Scenario;

/// Occupancy the roster is planned at.
pub const TARGET_OCCUPANCY: f64 = 0.8;
/// Share of the day's work that must fit within [`TARGET_OCCUPANCY`] of the agents on duty.
pub const PLANNED_SHARE: f64 = 0.95;
const SHIFT_INTERVALS: i64 = 36;
const BREAK_AT: i64 = 8;
const MEAL_AT: i64 = 18;
const EARLIEST_START: i64 = -32;

/// A day's arrivals and the roster serving them.
#[derive(Debug, Clone)]
pub struct Workload {
    pub rates: Vec<ArrivalRate>,
    pub roster: Vec<RosterShift>,
    /// The factor applied to the generated AHTs (≤ 1).
    pub aht_scale: f64,
}

fn bad(message: String) -> SimError {
    SimError::Option {
        field: "workload",
        message,
    }
}

/// Builds the workload of `date` (see the module doc). `seed` drives the generated counts.
pub fn day(
    scenario: &Scenario,
    policy: &RoutingPolicy,
    date: NaiveDate,
    contacts: f64,
    agents: u32,
    seed: u64,
) -> Result<Workload, SimError> {
    if scenario.interval_minutes != 15 {
        return Err(bad(format!(
            "the synthetic day needs a 15-minute scenario, found {} minutes",
            scenario.interval_minutes
        )));
    }
    if !(contacts.is_finite() && contacts > 0.0) || agents == 0 {
        return Err(bad(format!(
            "expected contacts > 0 and agents > 0, found {contacts} and {agents}"
        )));
    }
    let tz = scenario.time_zone;
    let mut shaped = scenario.clone();
    shaped.horizon.start = date + Duration::days(1);
    let rows: Vec<_> = peakcrew_plan::history::generate(&shaped, 1, seed)
        .into_iter()
        .filter(|r| r.start.with_timezone(&tz).date_naive() == date)
        .collect();
    let total: f64 = rows.iter().map(|r| r.contacts).sum();
    if total <= 0.0 {
        return Err(bad(format!("the scenario generates no contacts on {date}")));
    }
    let volume = contacts / total;
    let day_start = local_to_utc(tz, date.and_hms_opt(0, 0, 0).unwrap_or_default());
    let fixed = |t: DateTime<chrono::Utc>| -> DateTime<FixedOffset> {
        t.with_timezone(&t.with_timezone(&tz).offset().fix())
    };
    let step = Duration::minutes(15);

    // Home group of each queue.
    let mut home = Vec::with_capacity(scenario.queues.len());
    for q in &scenario.queues {
        let best = scenario
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.speaks(&q.language))
            .filter_map(|(i, g)| {
                g.skills
                    .iter()
                    .find(|s| s.skill == q.skill)
                    .map(|s| (s.proficiency.get(), std::cmp::Reverse(i)))
            })
            .max()
            .map(|(_, std::cmp::Reverse(i))| i);
        home.push(best.ok_or_else(|| bad(format!("no group can serve queue `{}`", q.id)))?);
    }

    // Work per group and interval, in agent-seconds at the generated AHT.
    let n_groups = scenario.groups.len();
    let intervals = 96usize;
    let mut work = vec![vec![0.0; intervals]; n_groups];
    let mut rates = Vec::with_capacity(rows.len());
    for r in &rows {
        let Some(qi) = scenario.queues.iter().position(|q| q.id == r.queue) else {
            continue;
        };
        let q = &scenario.queues[qi];
        let k = ((r.start.with_timezone(&chrono::Utc) - day_start).num_minutes() / 15) as usize;
        let aht = r.aht_seconds.unwrap_or(q.aht_seconds);
        let share =
            f64::from(policy.capacity.cost_of(q.channel)) / f64::from(policy.capacity.units.max(1));
        let stretch = if q.channel == Channel::Chat {
            chat_stretch(q.concurrency, scenario.staffing.chat_stretch)
        } else {
            1.0
        };
        let wrap = policy
            .queues
            .get(&q.id)
            .and_then(|o| o.wrap_up_seconds)
            .unwrap_or_else(|| policy.wrap_up_of(q.channel));
        if k < intervals {
            work[home[qi]][k] += r.contacts * volume * share * (aht * stretch + wrap);
        }
        rates.push(ArrivalRate {
            queue: r.queue.clone(),
            start: r.start,
            minutes: 15,
            contacts: r.contacts * volume,
            aht_seconds: aht,
        });
    }
    let total_work: f64 = work.iter().flatten().sum();

    // Agents per group by work (largest remainder).
    let group_work: Vec<f64> = work.iter().map(|w| w.iter().sum()).collect();
    let quota: Vec<f64> = group_work
        .iter()
        .map(|w| w / total_work * f64::from(agents))
        .collect();
    let mut count: Vec<u32> = quota.iter().map(|q| q.floor() as u32).collect();
    let mut left = agents - count.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..n_groups).collect();
    order.sort_by(|&a, &b| {
        (quota[b] - quota[b].floor())
            .total_cmp(&(quota[a] - quota[a].floor()))
            .then(a.cmp(&b))
    });
    for &g in order.iter().cycle().take(n_groups * 2) {
        if left == 0 {
            break;
        }
        if group_work[g] > 0.0 {
            count[g] += 1;
            left -= 1;
        }
    }

    // Shifts follow each group's shape of work; the extended grid starts 8 h before the day.
    let span = (intervals as i64 - EARLIEST_START) as usize;
    let on_day = |k: usize| k as i64 + EARLIEST_START;
    let mut cover = vec![vec![0.0; span]; n_groups];
    let mut roster = Vec::with_capacity(agents as usize);
    for (g, group) in scenario.groups.iter().enumerate() {
        if count[g] == 0 {
            continue;
        }
        let per_shift = (SHIFT_INTERVALS - 5) as f64;
        let mut need = vec![0.0; span];
        for (k, w) in work[g].iter().enumerate() {
            need[(k as i64 - EARLIEST_START) as usize] =
                w / group_work[g] * f64::from(count[g]) * per_shift;
        }
        let cover = &mut cover[g];
        for i in 0..count[g] as i64 {
            let stagger = i % 4;
            let works = |o: i64| {
                !(o == BREAK_AT + stagger
                    || (MEAL_AT + stagger..MEAL_AT + stagger + 4).contains(&o))
            };
            let mut best = (f64::NEG_INFINITY, 0usize);
            for start in 0..span - SHIFT_INTERVALS as usize / 2 {
                let gain: f64 = (0..SHIFT_INTERVALS)
                    .filter(|&o| works(o) && start + (o as usize) < span)
                    .map(|o| (need[start + o as usize] - cover[start + o as usize]).clamp(0.0, 1.0))
                    .sum();
                if gain > best.0 {
                    best = (gain, start);
                }
            }
            let start = best.1;
            for o in (0..SHIFT_INTERVALS).filter(|&o| works(o) && start + (o as usize) < span) {
                cover[start + o as usize] += 1.0;
            }
            let at = |o: i64| fixed(day_start + step * (on_day(start) + o) as i32);
            roster.push(RosterShift {
                agent: format!("{}-{:04}", group.id, i + 1),
                group: group.id.clone(),
                skills: group.skills.clone(),
                languages: group.languages.clone(),
                start: at(0),
                end: at(SHIFT_INTERVALS),
                breaks: vec![
                    (at(BREAK_AT + stagger), at(BREAK_AT + stagger + 1)),
                    (at(MEAL_AT + stagger), at(MEAL_AT + stagger + 4)),
                ],
            });
        }
    }

    // AHT scale: the largest (at most 1) at which PLANNED_SHARE of the day's work falls within
    // TARGET_OCCUPANCY of the agents on duty in its group and interval.
    let capacity: Vec<(f64, f64)> = (0..n_groups)
        .flat_map(|g| (0..intervals).map(move |k| (g, k)))
        .map(|(g, k)| {
            (
                work[g][k],
                TARGET_OCCUPANCY * cover[g][(k as i64 - EARLIEST_START) as usize] * 900.0,
            )
        })
        .filter(|(w, _)| *w > 0.0)
        .collect();
    let served =
        |s: f64| capacity.iter().map(|(w, c)| (s * w).min(*c)).sum::<f64>() / (s * total_work);
    let reachable = served(1e-9);
    let goal = PLANNED_SHARE.min(0.99 * reachable);
    let aht_scale = if served(1.0) >= goal {
        1.0
    } else {
        let (mut lo, mut hi) = (1e-9, 1.0);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if served(mid) >= goal {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    };
    for r in &mut rates {
        r.aht_seconds *= aht_scale;
    }
    Ok(Workload {
        rates,
        roster,
        aht_scale,
    })
}
