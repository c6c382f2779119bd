//! From the LP relaxation to an integral plan that satisfies every constraint of the model.
//!
//! Rounding follows the model's structure from the top down, so each level can keep the
//! constraints that tie it to the level above exactly:
//! 1. pool sizes N_p: largest remainders, keeping Σ_p N_p = H_g (4a), only on pools whose
//!    contract bounds can be met;
//! 2. each pool's shifts per day X_pd: the LP's, scaled to the rounded pool size, rounded
//!    cumulatively through each week, then moved into [ℓ N_p, υ N_p] (4c) and under N_p (4b);
//! 3. each pool-day's shifts over its starts: cumulative rounding of the LP's split;
//! 4. breaks: the LP's cumulative break profile, scaled and rounded, clamped between the shifts
//!    whose windows have closed and those whose windows have opened — which is exactly the
//!    Bechtold–Jacobs system (3), so the result is always placeable.
//!
//! Allocation to queues is then exact ([`super::allocate`]). The result is checked against every
//! pool constraint ([`check`]); a failure sends the plan to CBC without a start.

use std::collections::HashMap;

use super::formulation::{Decisions, Model, Relaxed};
use super::instance::Instance;

/// Rounds `lp` to integral decisions for `model`.
pub fn round(inst: &Instance, model: &Model, lp: &Relaxed) -> Decisions {
    let shift_index: HashMap<(usize, usize), usize> = model
        .shifts
        .iter()
        .enumerate()
        .map(|(k, &(g, s, _))| ((g, s), k))
        .collect();
    let mut shifts = vec![0u32; model.shifts.len()];
    let pool_sizes = round_pools(inst, model, lp);

    for (p, (pool, _)) in model.pools.iter().enumerate() {
        let n_new = pool_sizes[p];
        let n_lp = lp.pools[p];
        let group = &inst.groups[pool.group];
        let day_total = |d: usize| -> f64 {
            pool.slots_by_day[d]
                .iter()
                .map(|&s| lp.shifts[shift_index[&(pool.group, s)]])
                .sum()
        };
        let scale = if n_lp > 1e-9 {
            n_new as f64 / n_lp
        } else {
            0.0
        };
        let target: Vec<f64> = (0..inst.days.len()).map(|d| day_total(d) * scale).collect();
        let mut daily = vec![0u32; inst.days.len()];
        for week in 0..inst.weeks {
            let days: Vec<usize> = inst
                .week_days(week)
                .into_iter()
                .filter(|&d| !pool.slots_by_day[d].is_empty())
                .collect();
            let bounds = inst.day_bounds(&group.contract, pool.template, week);
            let rounded = cumulative_round(&days.iter().map(|&d| target[d]).collect::<Vec<_>>());
            for (&d, r) in days.iter().zip(rounded) {
                daily[d] = r.min(n_new);
            }
            let lo = bounds.min_days * n_new;
            let hi = bounds.max_days * n_new;
            let mut sum: u32 = days.iter().map(|&d| daily[d]).sum();
            while sum < lo {
                let Some(&d) = days
                    .iter()
                    .filter(|&&d| daily[d] < n_new)
                    .max_by(|&&a, &&b| {
                        (target[a] - daily[a] as f64).total_cmp(&(target[b] - daily[b] as f64))
                    })
                else {
                    break;
                };
                daily[d] += 1;
                sum += 1;
            }
            while sum > hi {
                let Some(&d) = days.iter().filter(|&&d| daily[d] > 0).max_by(|&&a, &&b| {
                    (daily[a] as f64 - target[a]).total_cmp(&(daily[b] as f64 - target[b]))
                }) else {
                    break;
                };
                daily[d] -= 1;
                sum -= 1;
            }
        }
        // (4d)/(4e) over windows: trim the day most above its target, if any window is over.
        let m = inst.max_consecutive_days as usize;
        for first in 0..inst.days.len().saturating_sub(m) {
            let window = first..=first + m;
            while window.clone().map(|d| daily[d]).sum::<u32>() > m as u32 * n_new {
                let Some(d) = window.clone().filter(|&d| daily[d] > 0).max_by(|&a, &b| {
                    (daily[a] as f64 - target[a]).total_cmp(&(daily[b] as f64 - target[b]))
                }) else {
                    break;
                };
                daily[d] -= 1;
            }
        }
        for (d, &total) in daily.iter().enumerate() {
            let slots = &pool.slots_by_day[d];
            if slots.is_empty() || total == 0 {
                continue;
            }
            let lp_split: Vec<f64> = slots
                .iter()
                .map(|&s| lp.shifts[shift_index[&(pool.group, s)]].max(0.0))
                .collect();
            let lp_sum: f64 = lp_split.iter().sum();
            let want: Vec<f64> = if lp_sum > 1e-9 {
                lp_split.iter().map(|v| v / lp_sum * total as f64).collect()
            } else {
                vec![total as f64 / slots.len() as f64; slots.len()]
            };
            for (&s, n) in slots.iter().zip(cumulative_round(&want)) {
                shifts[shift_index[&(pool.group, s)]] = n;
            }
        }
    }

    let breaks = model
        .breaks
        .iter()
        .enumerate()
        .map(|(k, bv)| {
            let set = &inst.break_sets[bv.set];
            let rule = &inst.templates[set.template].breaks[set.rule];
            let starts: Vec<(i64, u32, f64)> = set
                .slots
                .iter()
                .filter_map(|&s| {
                    shift_index
                        .get(&(bv.group, s))
                        .map(|&i| (inst.slots[s].start, shifts[i], lp.shifts[i]))
                })
                .collect();
            let times: Vec<i64> = set
                .breaks
                .iter()
                .map(|&b| inst.break_slots[b].start)
                .collect();
            place_breaks(&starts, rule.earliest, rule.latest, &times, &lp.breaks[k])
        })
        .collect();

    Decisions {
        shifts,
        breaks,
        pools: pool_sizes,
    }
}

/// Whether a pool can hold agents at all: its contract bounds can be met in every week.
fn viable(inst: &Instance, pool: &super::instance::Pool) -> bool {
    let contract = &inst.groups[pool.group].contract;
    (0..inst.weeks).all(|w| {
        let b = inst.day_bounds(contract, pool.template, w);
        let open = inst
            .week_days(w)
            .into_iter()
            .filter(|&d| !pool.slots_by_day[d].is_empty())
            .count() as u32;
        b.min_days <= b.max_days && b.min_days <= open
    })
}

fn round_pools(inst: &Instance, model: &Model, lp: &Relaxed) -> Vec<u32> {
    let mut sizes = vec![0u32; model.pools.len()];
    for (g, group) in inst.groups.iter().enumerate() {
        let mine: Vec<usize> = (0..model.pools.len())
            .filter(|&p| model.pools[p].0.group == g && viable(inst, &model.pools[p].0))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let total = if group.temporary {
            // Temporary pools cost nothing by themselves: round up, within the hiring cap.
            (mine
                .iter()
                .map(|&p| lp.pools[p].max(0.0).ceil() as u32)
                .sum::<u32>())
            .min(group.headcount)
        } else {
            group.headcount
        };
        let values: Vec<f64> = mine.iter().map(|&p| lp.pools[p].max(0.0)).collect();
        for (&p, n) in mine.iter().zip(largest_remainder(&values, total)) {
            sizes[p] = n;
        }
    }
    sizes
}

/// Integers summing to `total`, each the floor of its (rescaled) value plus one for the largest
/// remainders.
fn largest_remainder(values: &[f64], total: u32) -> Vec<u32> {
    let sum: f64 = values.iter().sum();
    let scaled: Vec<f64> = if sum > 1e-9 {
        values.iter().map(|v| v / sum * total as f64).collect()
    } else {
        vec![total as f64 / values.len().max(1) as f64; values.len()]
    };
    let mut out: Vec<u32> = scaled.iter().map(|v| (v + 1e-9).floor() as u32).collect();
    let mut rest = total.saturating_sub(out.iter().sum());
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        (scaled[b] - out[b] as f64)
            .total_cmp(&(scaled[a] - out[a] as f64))
            .then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .cycle()
        .take(values.len() * (rest as usize + 1))
    {
        if rest == 0 {
            break;
        }
        out[i] += 1;
        rest -= 1;
    }
    out
}

/// Rounds a sequence so that every prefix sum is the rounded prefix sum of the input: the total
/// is kept and no element moves by a whole unit.
pub fn cumulative_round(values: &[f64]) -> Vec<u32> {
    let mut out = Vec::with_capacity(values.len());
    let mut running = 0.0;
    let mut given = 0i64;
    for &v in values {
        running += v.max(0.0);
        let upto = (running + 1e-9).round() as i64;
        out.push((upto - given).max(0) as u32);
        given = given.max(upto);
    }
    out
}

/// Integral break counts for one break rule of one group's shifts on one template and day.
///
/// `starts`: (start, agents, LP agents) in start order; the window of a start s is
/// [s + earliest, s + latest]. The cumulative count C(b) follows the LP's profile (scaled to the
/// integral shifts) but is clamped to [closed(b), opened(b)]: at least the agents whose window has
/// closed by b, at most those whose window has opened — the forward and backward conditions.
pub fn place_breaks(
    starts: &[(i64, u32, f64)],
    earliest: i64,
    latest: i64,
    times: &[i64],
    lp_counts: &[f64],
) -> Vec<u32> {
    let total: u32 = starts.iter().map(|s| s.1).sum();
    let lp_total: f64 = lp_counts.iter().sum();
    // Target cumulative profile: the LP's, or else each shift's agents spread over its window.
    let target: Vec<f64> = if lp_total > 1e-9 {
        let mut c = 0.0;
        lp_counts
            .iter()
            .map(|&y| {
                c += y.max(0.0);
                c / lp_total * total as f64
            })
            .collect()
    } else {
        times
            .iter()
            .map(|&b| {
                starts
                    .iter()
                    .map(|&(s, n, _)| {
                        let (e, l) = (s + earliest, s + latest);
                        let opts = times.iter().filter(|&&t| e <= t && t <= l).count().max(1);
                        let upto = times
                            .iter()
                            .filter(|&&t| e <= t && t <= l && t <= b)
                            .count();
                        n as f64 * upto as f64 / opts as f64
                    })
                    .sum()
            })
            .collect()
    };
    let mut counts = Vec::with_capacity(times.len());
    let mut before = 0u32;
    for (r, &b) in times.iter().enumerate() {
        let closed: u32 = starts
            .iter()
            .filter(|s| s.0 + latest <= b)
            .map(|s| s.1)
            .sum();
        let opened: u32 = starts
            .iter()
            .filter(|s| s.0 + earliest <= b)
            .map(|s| s.1)
            .sum();
        let c = ((target[r] + 1e-9).round() as u32)
            .clamp(closed, opened)
            .max(before);
        counts.push(c - before);
        before = c;
    }
    counts
}

/// Checks integral decisions against the pool and break constraints of the model, returning the
/// first violation found.
pub fn check(inst: &Instance, model: &Model, d: &Decisions) -> Result<(), String> {
    let shift_of: HashMap<(usize, usize), u32> = model
        .shifts
        .iter()
        .zip(&d.shifts)
        .map(|(&(g, s, _), &n)| ((g, s), n))
        .collect();
    for (g, group) in inst.groups.iter().enumerate() {
        let total: u32 = model
            .pools
            .iter()
            .zip(&d.pools)
            .filter(|((p, _), _)| p.group == g)
            .map(|(_, &n)| n)
            .sum();
        if (group.temporary && total > group.headcount)
            || (!group.temporary && total != group.headcount)
        {
            return Err(format!("group `{}` has {total} agents in pools", group.id));
        }
    }
    for ((pool, _), &n) in model.pools.iter().zip(&d.pools) {
        let group = &inst.groups[pool.group];
        let worked = |day: usize| -> u32 {
            pool.slots_by_day[day]
                .iter()
                .map(|&s| shift_of[&(pool.group, s)])
                .sum()
        };
        let name = format!(
            "pool {}/{}/{}",
            group.id, inst.templates[pool.template].id, pool.block
        );
        for day in 0..inst.days.len() {
            if worked(day) > n {
                return Err(format!(
                    "{name}: {} shifts on day {day} for {n} agents",
                    worked(day)
                ));
            }
        }
        for week in 0..inst.weeks {
            let b = inst.day_bounds(&group.contract, pool.template, week);
            let days: u32 = inst.week_days(week).into_iter().map(worked).sum();
            if days < b.min_days * n || days > b.max_days * n {
                return Err(format!(
                    "{name}: {days} shifts in week {week} for {n} agents"
                ));
            }
        }
        let m = inst.max_consecutive_days as usize;
        for first in 0..inst.days.len().saturating_sub(m) {
            if (first..=first + m).map(worked).sum::<u32>() > m as u32 * n {
                return Err(format!(
                    "{name}: more than {m} days in a row from day {first}"
                ));
            }
        }
        if inst.templates[pool.template].no_consecutive_days {
            for day in 0..inst.days.len().saturating_sub(1) {
                if worked(day) + worked(day + 1) > n {
                    return Err(format!("{name}: consecutive days {day}, {}", day + 1));
                }
            }
        }
    }
    for (bv, counts) in model.breaks.iter().zip(&d.breaks) {
        let set = &inst.break_sets[bv.set];
        let placed: u32 = counts.iter().sum();
        let needed: u32 = set
            .slots
            .iter()
            .filter_map(|&s| shift_of.get(&(bv.group, s)))
            .sum();
        if placed != needed {
            return Err(format!(
                "{placed} breaks for {needed} shifts in break set {}",
                bv.set
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_rounding_keeps_the_total() {
        assert_eq!(
            cumulative_round(&[0.4, 0.4, 0.4, 0.4, 0.4]),
            vec![0, 1, 0, 1, 0]
        );
        assert_eq!(cumulative_round(&[2.6, 0.0, 1.4]).iter().sum::<u32>(), 4);
    }

    #[test]
    fn largest_remainder_hits_the_total() {
        assert_eq!(largest_remainder(&[1.5, 1.5, 1.0], 4), vec![2, 1, 1]);
        assert_eq!(largest_remainder(&[0.0, 0.0], 3).iter().sum::<u32>(), 3);
    }

    #[test]
    fn placed_breaks_satisfy_the_window_conditions() {
        // Two starts 30 minutes apart, windows [+90, +150] on a 15-minute lattice.
        let starts = [(0, 3, 2.5), (30, 2, 2.5)];
        let times: Vec<i64> = (90..=180).step_by(15).collect();
        let lp = vec![0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 0.0];
        let counts = place_breaks(&starts, 90, 150, &times, &lp);
        assert_eq!(counts.iter().sum::<u32>(), 5);
        let demands: Vec<super::super::breaks::Demand> = starts
            .iter()
            .map(|&(s, n, _)| super::super::breaks::Demand {
                earliest: s + 90,
                latest: s + 150,
                count: n,
            })
            .collect();
        let placed: Vec<(i64, u32)> = times.iter().copied().zip(counts).collect();
        assert!(super::super::breaks::assign_edf(&demands, &placed).is_ok());
    }
}
