//! From integral decisions to the plan a planner reads: explicit shifts with their breaks, the
//! split of every group over its queues, coverage, cost figures and shortfalls.
//!
//! Coverage is computed here from the explicit shifts — not read from a solver — so coverage.csv
//! is by construction what schedule.csv delivers, and the objective reported is the cost of the
//! plan as written.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};

use super::allocate::max_flow;
use super::breaks::{assign_edf, Demand};
use super::formulation::{class_requirements, Decisions, Model};
use super::instance::Instance;
use super::{AllocationRow, CoverageRow, PlacedBreak, PlannedShift, ScheduleError};

/// `count` agents of a group on a slot, all with the same break start times (one per rule).
#[derive(Debug, Clone, PartialEq)]
pub struct ExplicitShift {
    pub group: usize,
    pub slot: usize,
    pub breaks: Vec<i64>,
    pub count: u32,
}

/// Hands the planned breaks to the planned shifts (earliest deadline first) and groups agents
/// with identical shifts and breaks.
pub fn explicit_shifts(
    inst: &Instance,
    model: &Model,
    d: &Decisions,
) -> Result<Vec<ExplicitShift>, ScheduleError> {
    let shift_count: HashMap<(usize, usize), u32> = model
        .shifts
        .iter()
        .zip(&d.shifts)
        .filter(|(_, &n)| n > 0)
        .map(|(&(g, s, _), &n)| ((g, s), n))
        .collect();
    // Per (group, slot): for each break rule, one start time per agent, increasing.
    let mut times: HashMap<(usize, usize), Vec<Vec<i64>>> = HashMap::new();
    for (bv, counts) in model.breaks.iter().zip(&d.breaks) {
        let set = &inst.break_sets[bv.set];
        let rule = &inst.templates[set.template].breaks[set.rule];
        let slots: Vec<(usize, u32)> = set
            .slots
            .iter()
            .filter_map(|&s| shift_count.get(&(bv.group, s)).map(|&n| (s, n)))
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
        let placed: Vec<(i64, u32)> = set
            .breaks
            .iter()
            .zip(counts)
            .map(|(&b, &n)| (inst.break_slots[b].start, n))
            .collect();
        let assigned = assign_edf(&demands, &placed).map_err(|m| {
            ScheduleError::Internal(format!(
                "breaks `{}` of group `{}`, template `{}`, {}: {m}",
                rule.name,
                inst.groups[bv.group].id,
                inst.templates[set.template].id,
                inst.days[set.day].date
            ))
        })?;
        let n_rules = inst.templates[set.template].breaks.len();
        for ((s, _), t) in slots.iter().zip(assigned) {
            times
                .entry((bv.group, *s))
                .or_insert_with(|| vec![Vec::new(); n_rules])[set.rule] = t;
        }
    }
    let mut keys: Vec<(usize, usize)> = shift_count.keys().copied().collect();
    keys.sort_by_key(|&(g, s)| {
        let slot = &inst.slots[s];
        (g, slot.day, slot.template, slot.start)
    });
    let mut out = Vec::new();
    for (g, s) in keys {
        let n = shift_count[&(g, s)];
        let rules = inst.templates[inst.slots[s].template].breaks.len();
        let per_rule = times.get(&(g, s));
        let mut combos: BTreeMap<Vec<i64>, u32> = BTreeMap::new();
        for agent in 0..n as usize {
            let combo = (0..rules)
                .map(|k| per_rule.and_then(|r| r[k].get(agent).copied()))
                .collect::<Option<Vec<i64>>>()
                .ok_or_else(|| {
                    ScheduleError::Internal(format!(
                        "a shift of group `{}` on {} has no break placed",
                        inst.groups[g].id, inst.days[inst.slots[s].day].date
                    ))
                })?;
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

/// The best split of on-duty agents over queue classes, interval by interval: flow[i][g] holds
/// (class, agents) pairs. Agents left over are not in it.
pub fn class_flows(
    inst: &Instance,
    required: &[Vec<f64>],
    duty: &[Vec<f64>],
) -> Vec<Vec<Vec<(usize, f64)>>> {
    let class_req = class_requirements(inst, required);
    let edges: Vec<Vec<usize>> = inst.groups.iter().map(|g| g.classes.clone()).collect();
    (0..inst.intervals.len())
        .map(|i| {
            let supply: Vec<f64> = duty.iter().map(|d| d[i].max(0.0)).collect();
            let demand: Vec<f64> = class_req.iter().map(|r| r[i]).collect();
            let flow = max_flow(&supply, &demand, &edges);
            flow.into_iter()
                .enumerate()
                .map(|(g, f)| edges[g].iter().copied().zip(f).collect())
                .collect()
        })
        .collect()
}

fn local(inst: &Instance, minutes: i64) -> DateTime<FixedOffset> {
    inst.instant(minutes).with_timezone(&inst.tz).fixed_offset()
}

/// The planned shifts, as written to schedule.csv.
pub fn planned_shifts(inst: &Instance, explicit: &[ExplicitShift]) -> Vec<PlannedShift> {
    explicit
        .iter()
        .map(|sh| {
            let slot = &inst.slots[sh.slot];
            let t = &inst.templates[slot.template];
            PlannedShift {
                group: inst.groups[sh.group].id.clone(),
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
            }
        })
        .collect()
}

/// Allocation rows (group × queue × interval) and coverage rows (queue × interval).
///
/// Within a class, the flow fills its queues' requirements in priority order; idle agents of a
/// group are spread over its classes in proportion to their requirement (evenly when none has
/// any), and within a class over its queues the same way.
pub fn coverage(
    inst: &Instance,
    scenario_priority: &[u8],
    required: &[Vec<f64>],
    duty: &[Vec<f64>],
) -> (Vec<AllocationRow>, Vec<CoverageRow>, Vec<Vec<f64>>) {
    let n_i = inst.intervals.len();
    let flows = class_flows(inst, required, duty);
    let class_req = class_requirements(inst, required);
    // amount[i][g][q]
    let mut allocation = Vec::new();
    let mut allocated = vec![vec![0.0; n_i]; inst.queues.len()];
    for i in 0..n_i {
        // Class totals: served (flow) and idle parts, per group.
        let mut served = vec![vec![0.0; inst.groups.len()]; inst.classes.len()];
        let mut idle = vec![vec![0.0; inst.groups.len()]; inst.classes.len()];
        for (g, group) in inst.groups.iter().enumerate() {
            if group.classes.is_empty() {
                continue;
            }
            let mut used = 0.0;
            for &(c, f) in &flows[i][g] {
                served[c][g] += f;
                used += f;
            }
            let spare = (duty[g][i] - used).max(0.0);
            if spare > 1e-9 {
                let weight: f64 = group.classes.iter().map(|&c| class_req[c][i]).sum();
                for &c in &group.classes {
                    let share = if weight > 0.0 {
                        class_req[c][i] / weight
                    } else {
                        1.0 / group.classes.len() as f64
                    };
                    idle[c][g] += spare * share;
                }
            }
        }
        for (c, class) in inst.classes.iter().enumerate() {
            // Served agents fill the class's queues by priority; idle ones spread by requirement.
            let mut order = class.queues.clone();
            order.sort_by_key(|&q| (scenario_priority[q], q));
            let served_total: f64 = served[c].iter().sum();
            let idle_total: f64 = idle[c].iter().sum();
            let mut left = served_total;
            let mut per_queue_served = vec![0.0; inst.queues.len()];
            for &q in &order {
                let take = left.min(required[q][i]);
                per_queue_served[q] = take;
                left -= take;
            }
            let weight: f64 = class.queues.iter().map(|&q| required[q][i]).sum();
            for &q in &class.queues {
                let idle_share = if weight > 0.0 {
                    required[q][i] / weight
                } else {
                    1.0 / class.queues.len() as f64
                };
                for g in 0..inst.groups.len() {
                    let from_served = if served_total > 0.0 {
                        served[c][g] / served_total * per_queue_served[q]
                    } else {
                        0.0
                    };
                    let agents = from_served + idle[c][g] * idle_share;
                    let agents = (agents * 1e6).round() / 1e6;
                    if agents > 0.0 {
                        allocated[q][i] += agents;
                        allocation.push(AllocationRow {
                            start: local(inst, inst.interval_starts[i]),
                            group: inst.groups[g].id.clone(),
                            queue: inst.queues[q].id.clone(),
                            agents,
                        });
                    }
                }
            }
            let _ = idle_total;
        }
    }
    allocation.sort_by(|a, b| (a.start, &a.group, &a.queue).cmp(&(b.start, &b.group, &b.queue)));

    let mut rows = Vec::with_capacity(inst.queues.len() * n_i);
    let mut under = vec![vec![0.0; n_i]; inst.queues.len()];
    for (q, queue) in inst.queues.iter().enumerate() {
        for i in 0..n_i {
            let need = required[q][i];
            let got = allocated[q][i];
            let clean = |x: f64| if x < 1e-6 { 0.0 } else { x };
            let short = clean(need - got);
            under[q][i] = short;
            rows.push(CoverageRow {
                queue: queue.id.clone(),
                start: local(inst, inst.interval_starts[i]),
                required: need,
                allocated: got,
                over: clean(got - need),
                under: short,
            });
        }
    }
    (allocation, rows, under)
}

/// Model-ready allocation values for a MIP start: z[i, g, class] from the flows, u[i, class].
pub fn start_allocation(
    inst: &Instance,
    model: &Model,
    required: &[Vec<f64>],
    duty: &[Vec<f64>],
) -> (Vec<f64>, Vec<f64>) {
    let flows = class_flows(inst, required, duty);
    let class_req = class_requirements(inst, required);
    let z: Vec<f64> = model
        .allocation
        .iter()
        .map(|&(i, g, c, _)| {
            flows[i][g]
                .iter()
                .find(|(cc, _)| *cc == c)
                .map_or(0.0, |&(_, f)| f)
        })
        .collect();
    let mut got = vec![vec![0.0; inst.intervals.len()]; inst.classes.len()];
    for (row, &(i, _, c, _)) in z.iter().zip(&model.allocation) {
        got[c][i] += row;
    }
    let u = model
        .under
        .iter()
        .map(|&(i, c, _)| (class_req[c][i] - got[c][i]).max(0.0))
        .collect();
    (z, u)
}
