//! From solver values to the plan a planner reads: explicit shifts with their breaks, the
//! coverage each queue gets, the cost figures and the shortfalls.
//!
//! Coverage is recomputed here from the explicit shifts, not read from the LP, so coverage.csv is
//! by construction what schedule.csv delivers; the LP's split of each group over its queues is
//! rescaled to that on-duty count (a rounding-level correction, checked to be one).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};

use super::breaks::{assign_edf, Demand};
use super::diagnose;
use super::formulation::Values;
use super::instance::Instance;
use super::{
    AllocationRow, CoverageRow, PlacedBreak, PlanSummary, PlannedShift, ScheduleError, ShiftPlan,
};
use crate::scenario::Scenario;

/// `count` agents of a group on a slot, all with the same break start times (one per rule).
#[derive(Debug, Clone, PartialEq)]
pub struct ExplicitShift {
    pub group: usize,
    pub slot: usize,
    pub breaks: Vec<i64>,
    pub count: u32,
}

pub fn explicit_shifts(inst: &Instance, v: &Values) -> Result<Vec<ExplicitShift>, ScheduleError> {
    let shift_count: HashMap<(usize, usize), u32> = v
        .shifts
        .iter()
        .filter(|s| s.2 > 0)
        .map(|&(g, s, n)| ((g, s), n))
        .collect();
    let break_count: HashMap<(usize, usize), u32> = v
        .breaks
        .iter()
        .filter(|b| b.2 > 0)
        .map(|&(g, b, n)| ((g, b), n))
        .collect();
    // Per (group, slot): for each break rule, one start time per agent, increasing.
    let mut times: HashMap<(usize, usize), Vec<Vec<i64>>> = HashMap::new();
    for set in &inst.break_sets {
        let rule = &inst.templates[set.template].breaks[set.rule];
        for g in 0..inst.groups.len() {
            let slots: Vec<(usize, u32)> = set
                .slots
                .iter()
                .filter_map(|&s| shift_count.get(&(g, s)).map(|&n| (s, n)))
                .collect();
            if slots.is_empty() {
                continue;
            }
            let demands: Vec<Demand> = slots
                .iter()
                .map(|&(s, n)| Demand {
                    earliest: inst.slots[s].start + rule.earliest,
                    latest: inst.slots[s].start + rule.latest,
                    count: n,
                })
                .collect();
            let breaks: Vec<(i64, u32)> = set
                .breaks
                .iter()
                .map(|&b| {
                    (
                        inst.break_slots[b].start,
                        break_count.get(&(g, b)).copied().unwrap_or(0),
                    )
                })
                .collect();
            let assigned = assign_edf(&demands, &breaks).map_err(|m| {
                ScheduleError::Internal(format!(
                    "breaks `{}` of group `{}`, template `{}`, {}: {m}",
                    rule.name,
                    inst.groups[g].id,
                    inst.templates[set.template].id,
                    inst.days[set.day].date
                ))
            })?;
            for ((s, _), t) in slots.iter().zip(assigned) {
                let per_rule = times
                    .entry((g, *s))
                    .or_insert_with(|| vec![Vec::new(); inst.templates[set.template].breaks.len()]);
                per_rule[set.rule] = t;
            }
        }
    }
    let mut out = Vec::new();
    let mut keys: Vec<&(usize, usize)> = shift_count.keys().collect();
    keys.sort_by_key(|&&(g, s)| {
        (
            g,
            inst.slots[s].day,
            inst.slots[s].template,
            inst.slots[s].start,
        )
    });
    for &(g, s) in keys {
        let n = shift_count[&(g, s)];
        let rules = inst.templates[inst.slots[s].template].breaks.len();
        let mut combos: BTreeMap<Vec<i64>, u32> = BTreeMap::new();
        let per_rule = times.get(&(g, s));
        for agent in 0..n as usize {
            let combo: Vec<i64> = (0..rules)
                .map(|k| {
                    per_rule
                        .and_then(|r| r[k].get(agent).copied())
                        .ok_or_else(|| {
                            ScheduleError::Internal(format!(
                                "shift of group `{}` at slot {s} lacks break {k}",
                                inst.groups[g].id
                            ))
                        })
                })
                .collect::<Result<_, _>>()?;
            *combos.entry(combo).or_insert(0) += 1;
        }
        for (breaks, count) in combos {
            out.push(ExplicitShift {
                group: g,
                slot: s,
                breaks,
                count,
            });
        }
    }
    Ok(out)
}

/// On-duty agents of each group in each interval, from explicit shifts.
pub fn on_duty(inst: &Instance, shifts: &[ExplicitShift]) -> Vec<Vec<f64>> {
    let mut duty = vec![vec![0.0; inst.intervals.len()]; inst.groups.len()];
    for sh in shifts {
        let slot = &inst.slots[sh.slot];
        let n = sh.count as f64;
        for &(i, f) in &slot.cover {
            duty[sh.group][i] += n * f;
        }
        for (k, &b) in sh.breaks.iter().enumerate() {
            let minutes = inst.templates[slot.template].breaks[k].minutes;
            for (i, f) in inst.cover(b, b + minutes) {
                duty[sh.group][i] -= n * f;
            }
        }
    }
    duty
}

fn local(inst: &Instance, minutes: i64) -> DateTime<FixedOffset> {
    inst.instant(minutes).with_timezone(&inst.tz).fixed_offset()
}

pub fn assemble(
    scenario: &Scenario,
    inst: &Instance,
    required: &[Vec<f64>],
    v: &Values,
    explicit: &[ExplicitShift],
) -> Result<ShiftPlan, ScheduleError> {
    let hours = inst.interval_minutes as f64 / 60.0;
    let duty = on_duty(inst, explicit);

    // The LP's split of each group over its queues, then the group's idle agents: first to its
    // queues still short (only possible when the solver stopped early), the rest in proportion
    // to its queues' requirements, so every on-duty agent is allocated somewhere.
    let n_i = inst.intervals.len();
    let mut split: Vec<Vec<BTreeMap<usize, f64>>> =
        vec![vec![BTreeMap::new(); n_i]; inst.groups.len()];
    let mut allocated = vec![vec![0.0; n_i]; inst.queues.len()];
    for &(i, g, q, a) in &v.allocation {
        *split[g][i].entry(q).or_insert(0.0) += a;
        allocated[q][i] += a;
    }
    for (g, group) in inst.groups.iter().enumerate() {
        if group.serves.is_empty() {
            continue;
        }
        for i in 0..n_i {
            let lp: f64 = split[g][i].values().sum();
            let mut idle = duty[g][i] - lp;
            if idle < -1e-4 * duty[g][i].max(1.0) {
                return Err(ScheduleError::Internal(format!(
                    "group `{}` at {}: {lp:.4} agents allocated but {:.4} on duty",
                    group.id, inst.intervals[i].local, duty[g][i]
                )));
            }
            if idle <= 0.0 {
                // Solver tolerance: trim the split to the agents really on duty.
                let scale = if lp > 0.0 { duty[g][i] / lp } else { 0.0 };
                for (q, a) in split[g][i].iter_mut() {
                    allocated[*q][i] += *a * (scale - 1.0);
                    *a *= scale;
                }
                continue;
            }
            for &q in &group.serves {
                let short = (required[q][i] - allocated[q][i]).max(0.0).min(idle);
                if short > 0.0 {
                    *split[g][i].entry(q).or_insert(0.0) += short;
                    allocated[q][i] += short;
                    idle -= short;
                }
            }
            if idle > 0.0 {
                let weight: f64 = group.serves.iter().map(|&q| required[q][i]).sum();
                for &q in &group.serves {
                    let share = if weight > 0.0 {
                        required[q][i] / weight
                    } else {
                        1.0 / group.serves.len() as f64
                    };
                    *split[g][i].entry(q).or_insert(0.0) += idle * share;
                    allocated[q][i] += idle * share;
                }
            }
        }
    }
    let mut allocation = Vec::new();
    for (g, group) in inst.groups.iter().enumerate() {
        for (i, parts) in split[g].iter().enumerate() {
            for (&q, &a) in parts {
                let a = (a * 1e6).round() / 1e6;
                if a > 0.0 {
                    allocation.push(AllocationRow {
                        start: local(inst, inst.interval_starts[i]),
                        group: group.id.clone(),
                        queue: inst.queues[q].id.clone(),
                        agents: a,
                    });
                }
            }
        }
    }
    // Coverage is the sum of the rows as written, so the files agree to the last digit.
    let mut allocated = vec![vec![0.0; n_i]; inst.queues.len()];
    for row in &allocation {
        let q = inst.queue_index(&row.queue).unwrap_or(0);
        let minute = (row.start.with_timezone(&chrono::Utc) - inst.t0).num_minutes();
        if let Ok(i) = inst.interval_starts.binary_search(&minute) {
            allocated[q][i] += row.agents;
        }
    }
    allocation.sort_by(|a, b| (a.start, &a.group, &a.queue).cmp(&(b.start, &b.group, &b.queue)));

    let mut coverage = Vec::new();
    let mut under = vec![vec![0.0; n_i]; inst.queues.len()];
    let (mut under_hours, mut over_hours) = (0.0, 0.0);
    for (q, queue) in inst.queues.iter().enumerate() {
        for i in 0..n_i {
            let need = required[q][i];
            let got = allocated[q][i];
            let short = (need - got).max(0.0);
            let extra = (got - need).max(0.0);
            let short = if short < 1e-6 { 0.0 } else { short };
            let extra = if extra < 1e-6 { 0.0 } else { extra };
            under[q][i] = short;
            under_hours += short * hours;
            over_hours += extra * hours;
            coverage.push(CoverageRow {
                queue: queue.id.clone(),
                start: local(inst, inst.interval_starts[i]),
                required: need,
                allocated: got,
                over: extra,
                under: short,
            });
        }
    }

    let mut shifts = Vec::new();
    let (mut paid_hours, mut paid_cost, mut n_shifts) = (0.0, 0.0, 0);
    let mut paid_hours_by_group: BTreeMap<String, f64> = BTreeMap::new();
    for sh in explicit {
        let slot = &inst.slots[sh.slot];
        let t = &inst.templates[slot.template];
        let group = &inst.groups[sh.group];
        let h = sh.count as f64 * t.paid_minutes as f64 / 60.0;
        paid_hours += h;
        paid_cost += h * group.cost_per_hour;
        n_shifts += sh.count;
        *paid_hours_by_group.entry(group.id.clone()).or_insert(0.0) += h;
        shifts.push(PlannedShift {
            group: group.id.clone(),
            template: t.id.clone(),
            day: inst.days[slot.day].date,
            start: local(inst, slot.start),
            end: local(inst, slot.end),
            breaks: sh
                .breaks
                .iter()
                .enumerate()
                .map(|(k, &b)| PlacedBreak {
                    name: t.breaks[k].name.clone(),
                    start: local(inst, b),
                    end: local(inst, b + t.breaks[k].minutes),
                })
                .collect(),
            count: sh.count,
        });
    }

    let mut agents_by_group: BTreeMap<String, u32> =
        inst.groups.iter().map(|g| (g.id.clone(), 0)).collect();
    for (pool, n) in &v.pools {
        *agents_by_group
            .entry(inst.groups[pool.group].id.clone())
            .or_insert(0) += n;
    }

    let costs = &scenario.costs;
    let understaffing_cost = under_hours * costs.understaffing_per_agent_hour;
    let overstaffing_cost = over_hours * costs.overstaffing_per_agent_hour;
    let objective = paid_cost + understaffing_cost + overstaffing_cost;
    let best_bound = v.result.best_bound.map(|b| b.min(objective));
    let gap = best_bound.map(|b| ((objective - b) / objective.abs().max(1e-9)).max(0.0));
    let shortfalls = diagnose::shortfalls(scenario, inst, required, &under, &v.result);
    let understaffed_intervals = (0..n_i)
        .filter(|&i| (0..inst.queues.len()).any(|q| under[q][i] > 0.0))
        .count();

    Ok(ShiftPlan {
        shifts,
        coverage,
        allocation,
        summary: PlanSummary {
            scenario: scenario.name.clone(),
            status: v.result.status,
            objective,
            best_bound,
            gap,
            paid_hours,
            paid_cost,
            understaffed_agent_hours: under_hours,
            understaffing_cost,
            overstaffed_agent_hours: over_hours,
            overstaffing_cost,
            shifts: n_shifts,
            agents_by_group,
            paid_hours_by_group,
            understaffed_intervals,
            solve_seconds: v.result.seconds,
            build_seconds: 0.0,
            integer_variables: 0,
            continuous_variables: 0,
            constraints: 0,
            time_limit_seconds: 0.0,
            requested_gap: 0.0,
            rows_outside_horizon: 0,
            shortfalls,
        },
    })
}
