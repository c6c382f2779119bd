//! The shift-plan MIP in good_lp, written to read like the algebra in the module doc of
//! [`crate::schedule`]. Each block of constraints carries the number of the line it implements.

use std::collections::HashMap;

use good_lp::{variable, Constraint, Expression, ProblemVariables, Variable};

use super::instance::{Instance, Pool};
use super::solver::{self, MipResult, SolveFailure, SolveLimits};

/// The variables of a built model, by meaning.
pub struct Model {
    pub vars: ProblemVariables,
    pub objective: Expression,
    pub constraints: Vec<Constraint>,
    /// x[g, slot]: agents of group g on a shift slot.
    pub shifts: Vec<(usize, usize, Variable)>,
    /// Cumulative break counts C per group and break set.
    pub breaks: Vec<BreakVars>,
    /// N[pool]: agents of the pool.
    pub pools: Vec<(Pool, Variable)>,
    /// a[i, g, q]: agents of group g working queue q in interval i.
    pub allocation: Vec<(usize, usize, usize, Variable)>,
    /// u[i, q].
    pub under: Vec<(usize, usize, Variable)>,
}

/// C_r: agents of `group` who have started the break of `set` by its r-th break time.
pub struct BreakVars {
    pub group: usize,
    pub set: usize,
    pub cumulative: Vec<Variable>,
}

/// Costs per unit of each kind of variable.
#[derive(Debug, Clone, Copy)]
pub struct Prices {
    pub understaffing_per_agent_hour: f64,
    pub overstaffing_per_agent_hour: f64,
}

pub fn build(inst: &Instance, required: &[Vec<f64>], prices: Prices) -> Model {
    let mut vars = ProblemVariables::new();
    let mut constraints: Vec<Constraint> = Vec::new();
    let mut objective = Expression::default();
    let interval_hours = inst.interval_minutes as f64 / 60.0;
    let n_intervals = inst.intervals.len();

    // x[g, slot] ∈ ℤ₊ for allowed templates on available days; cost c_g · paid hours.
    let mut shifts = Vec::new();
    let mut shift_of: HashMap<(usize, usize), Variable> = HashMap::new();
    for (g, group) in inst.groups.iter().enumerate() {
        for (s, slot) in inst.slots.iter().enumerate() {
            if !group.templates.contains(&slot.template) || !group.available[slot.day] {
                continue;
            }
            let x = vars.add(variable().integer().min(0).max(group.headcount as f64));
            let paid_hours = inst.templates[slot.template].paid_minutes as f64 / 60.0;
            objective.add_mul(group.cost_per_hour * paid_hours, x);
            shifts.push((g, s, x));
            shift_of.insert((g, s), x);
        }
    }

    // On-duty agents of each group in each interval: shifts covering it minus breaks in it.
    let mut on_duty: Vec<Vec<Expression>> = inst
        .groups
        .iter()
        .map(|_| (0..n_intervals).map(|_| Expression::default()).collect())
        .collect();
    for &(g, s, x) in &shifts {
        for &(i, f) in &inst.slots[s].cover {
            on_duty[g][i].add_mul(f, x);
        }
    }

    // (3) Breaks, after Bechtold and Jacobs: per group, template, rule and day, with the shifts
    // in start order j = 1..n and break windows [E_j, L_j]:
    //   Σ_b y_b = Σ_j x_j,   Σ_{b ≤ L_j} y_b ≥ Σ_{j' ≤ j} x_j',   Σ_{b < E_j} y_b ≤ Σ_{j' < j} x_j'
    // (the backward condition, rewritten with the total). The model carries the cumulative
    // counts C_r = Σ_{b ≤ b_r} y_b instead of y itself: the same polytope, but each condition
    // is then one C against a few x, and a break's effect on an interval's on-duty count is a
    // difference of two C's, where the y form needs long prefix sums — the root LP of the
    // Double-11 week solves about ten times faster this way.
    let mut breaks = Vec::new();
    for (set_index, set) in inst.break_sets.iter().enumerate() {
        let rule = &inst.templates[set.template].breaks[set.rule];
        for (g, group) in inst.groups.iter().enumerate() {
            let xs: Vec<(usize, Variable)> = set
                .slots
                .iter()
                .filter_map(|&s| shift_of.get(&(g, s)).map(|&x| (s, x)))
                .collect();
            if xs.is_empty() {
                continue;
            }
            let times: Vec<i64> = set
                .breaks
                .iter()
                .map(|&b| inst.break_slots[b].start)
                .collect();
            let cumulative: Vec<Variable> = times
                .iter()
                .map(|_| vars.add(variable().integer().min(0).max(group.headcount as f64)))
                .collect();
            for r in 1..cumulative.len() {
                constraints.push(Expression::from(cumulative[r]).geq(cumulative[r - 1]));
            }
            // y_r = C_r − C_{r−1}, so Σ_r β_ri y_r = Σ_r C_r (β_ri − β_{r+1,i}).
            for (r, &b) in set.breaks.iter().enumerate() {
                for &(i, f) in &inst.break_slots[b].cover {
                    on_duty[g][i].add_mul(-f, cumulative[r]);
                }
                if let Some(&next) = set.breaks.get(r + 1) {
                    for &(i, f) in &inst.break_slots[next].cover {
                        on_duty[g][i].add_mul(f, cumulative[r]);
                    }
                }
            }
            let last = cumulative.len() - 1;
            let total_x: Expression = xs.iter().map(|&(_, x)| x).sum();
            constraints.push(Expression::from(cumulative[last]).eq(total_x));
            for (j, &(s, _)) in xs.iter().enumerate() {
                let start = inst.slots[s].start;
                let (earliest, latest) = (start + rule.earliest, start + rule.latest);
                let by_latest = times.partition_point(|&b| b <= latest);
                if by_latest == 0 {
                    // No break time at all before this shift's window closes: none may work it.
                    let first_j: Expression = xs[..=j].iter().map(|&(_, x)| x).sum();
                    constraints.push(first_j.eq(0.0));
                } else if by_latest - 1 < last {
                    let first_j: Expression = xs[..=j].iter().map(|&(_, x)| x).sum();
                    constraints.push(Expression::from(cumulative[by_latest - 1]).geq(first_j));
                }
                let before_earliest = times.partition_point(|&b| b < earliest);
                if before_earliest > 0 {
                    let before_j: Expression = xs[..j].iter().map(|&(_, x)| x).sum();
                    constraints
                        .push(Expression::from(cumulative[before_earliest - 1]).leq(before_j));
                }
            }
            breaks.push(BreakVars {
                group: g,
                set: set_index,
                cumulative,
            });
        }
    }

    // (4) Pools: every agent of a group works one start block of one template all week.
    let mut pools = Vec::new();
    let mut pools_of_group: Vec<Vec<Variable>> = inst.groups.iter().map(|_| Vec::new()).collect();
    for pool in inst.pools() {
        let group = &inst.groups[pool.group];
        let n = vars.add(variable().integer().min(0).max(group.headcount as f64));
        pools_of_group[pool.group].push(n);
        let worked = |day: usize| -> Expression {
            pool.slots_by_day[day]
                .iter()
                .map(|&s| shift_of[&(pool.group, s)])
                .sum()
        };
        // (4b) at most one shift a day per agent of the pool.
        for day in 0..inst.days.len() {
            if !pool.slots_by_day[day].is_empty() {
                constraints.push(worked(day).leq(n));
            }
        }
        // (4c) working days per week within the contract and the days-off rule.
        let mut max_days_any_week = 0;
        for week in 0..inst.weeks {
            let bounds = inst.day_bounds(&group.contract, pool.template, week);
            max_days_any_week = max_days_any_week.max(bounds.max_days);
            let days: Expression = inst.week_days(week).into_iter().map(worked).sum();
            if bounds.min_days > 0 {
                constraints.push(days.clone().geq(bounds.min_days as f64 * n));
            }
            constraints.push(days.leq(bounds.max_days as f64 * n));
        }
        // (4d) at most m working days in any m + 1 consecutive days (only where not implied).
        let m = inst.max_consecutive_days as usize;
        if max_days_any_week as usize > m || inst.weeks > 1 {
            for first in 0..inst.days.len().saturating_sub(m) {
                let window: Expression = (first..=first + m).map(worked).sum();
                constraints.push(window.leq(m as f64 * n));
            }
        }
        // (4e) a template too long to repeat after the minimum rest: no two days in a row.
        if inst.templates[pool.template].no_consecutive_days {
            for day in 0..inst.days.len().saturating_sub(1) {
                constraints.push((worked(day) + worked(day + 1)).leq(n));
            }
        }
        pools.push((pool, n));
    }
    // (4a) Σ_p N_p = n_g: all of a permanent group's agents (their contract binds), up to the cap
    // of a temporary group.
    for (g, group) in inst.groups.iter().enumerate() {
        let total: Expression = pools_of_group[g].iter().copied().sum();
        if group.temporary {
            constraints.push(total.leq(group.headcount as f64));
        } else {
            constraints.push(total.eq(group.headcount as f64));
        }
    }

    // (1) Each group's on-duty agents are split over the queues it serves (Bhulai, Koole & Pot);
    //     agents left over are idle: Σ_q z_igq ≤ on-duty_gi.
    // (2) Each queue's allocated agents meet its requirement, or the shortfall is paid for:
    //     Σ_g z_igq + u_iq ≥ R_iq.
    // Overstaffing o = on-duty − (R − u) summed over queues, so its cost P_o·Δ·Σ o is P_o·Δ on
    // every on-duty agent-interval and on every unit of u, less a constant; that is how it enters
    // the objective, without o variables or equality rows.
    let over_price = prices.overstaffing_per_agent_hour * interval_hours;
    for &(_, s, x) in &shifts {
        let weight: f64 = inst.slots[s].cover.iter().map(|&(_, f)| f).sum();
        objective.add_mul(over_price * weight, x);
    }
    for bv in &breaks {
        let set = &inst.break_sets[bv.set];
        let weight = |r: usize| -> f64 {
            set.breaks.get(r).map_or(0.0, |&b| {
                inst.break_slots[b].cover.iter().map(|&(_, f)| f).sum()
            })
        };
        for (r, &c) in bv.cumulative.iter().enumerate() {
            objective.add_mul(-over_price * (weight(r) - weight(r + 1)), c);
        }
    }
    let mut allocation = Vec::new();
    let mut allocated: Vec<Vec<Expression>> = inst
        .queues
        .iter()
        .map(|_| (0..n_intervals).map(|_| Expression::default()).collect())
        .collect();
    for (g, group) in inst.groups.iter().enumerate() {
        for (i, duty) in on_duty[g].iter_mut().enumerate() {
            let mut split = Expression::default();
            let mut any = false;
            for &q in group.serves.iter().filter(|&&q| required[q][i] > 0.0) {
                let a = vars.add(variable().min(0).max(required[q][i]));
                allocation.push((i, g, q, a));
                split += a;
                allocated[q][i] += a;
                any = true;
            }
            if any {
                constraints.push(split.leq(std::mem::take(duty)));
            }
        }
    }
    let mut under = Vec::new();
    for (q, row) in allocated.into_iter().enumerate() {
        for (i, alloc) in row.into_iter().enumerate() {
            let need = required[q][i];
            if need > 0.0 {
                let u = vars.add(variable().min(0).max(need));
                objective.add_mul(
                    (prices.understaffing_per_agent_hour + prices.overstaffing_per_agent_hour)
                        * interval_hours,
                    u,
                );
                under.push((i, q, u));
                constraints.push((alloc + u).geq(need));
            }
        }
    }

    Model {
        vars,
        objective,
        constraints,
        shifts,
        breaks,
        pools,
        allocation,
        under,
    }
}

/// Values read back from a solve, by meaning.
pub struct Values {
    pub shifts: Vec<(usize, usize, u32)>,
    pub breaks: Vec<(usize, usize, u32)>,
    pub pools: Vec<(Pool, u32)>,
    pub allocation: Vec<(usize, usize, usize, f64)>,
    pub result: MipResult,
}

pub fn solve(inst: &Instance, model: Model, limits: &SolveLimits) -> Result<Values, SolveFailure> {
    let Model {
        vars,
        objective,
        constraints,
        shifts,
        breaks,
        pools,
        allocation,
        under: _,
    } = model;
    let wanted: Vec<Variable> = shifts
        .iter()
        .map(|s| s.2)
        .chain(breaks.iter().flat_map(|b| b.cumulative.iter().copied()))
        .chain(pools.iter().map(|p| p.1))
        .chain(allocation.iter().map(|a| a.3))
        .collect();
    let result = solver::minimise(vars, objective, constraints, &wanted, limits)?;
    let mut values = result.values.iter().copied();
    let count = |v: Option<f64>| v.unwrap_or(0.0).round().max(0.0) as u32;
    let shifts = shifts
        .into_iter()
        .map(|(g, s, _)| (g, s, count(values.next())))
        .collect();
    let mut break_counts = Vec::new();
    for bv in breaks {
        let mut before = 0;
        for &b in &inst.break_sets[bv.set].breaks {
            // Cumulative counts are integral; rounding each keeps them monotone.
            let upto = count(values.next()).max(before);
            break_counts.push((bv.group, b, upto - before));
            before = upto;
        }
    }
    let breaks = break_counts;
    let pools = pools
        .into_iter()
        .map(|(p, _)| (p, count(values.next())))
        .collect();
    let allocation = allocation
        .into_iter()
        .map(|(i, g, q, _)| (i, g, q, values.next().unwrap_or(0.0).max(0.0)))
        .collect();
    Ok(Values {
        shifts,
        breaks,
        pools,
        allocation,
        result,
    })
}
