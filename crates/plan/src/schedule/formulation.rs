//! The shift-plan model in good_lp, written to read like the algebra in the module doc of
//! [`crate::schedule`]; each block of constraints carries the number of the line it implements.
//!
//! The same builder gives the MIP and its LP relaxation (`integral = false`): the plan is solved
//! as LP, rounded ([`super::rounding`]), and the MIP is handed to CBC with that plan as its start
//! only when the rounded plan is not yet within the requested gap.

use std::collections::HashMap;

use good_lp::{variable, Constraint, Expression, ProblemVariables, Variable};

use super::instance::{Instance, Pool};

/// Per-unit prices of the objective.
#[derive(Debug, Clone, Copy)]
pub struct Prices {
    pub understaffing_per_agent_hour: f64,
    pub overstaffing_per_agent_hour: f64,
}

/// y[g, set, r]: agents of group `group` starting the break of `set` at its r-th time.
pub struct BreakVars {
    pub group: usize,
    pub set: usize,
    pub times: Vec<Variable>,
}

/// What the solver gets: variables, objective, constraints.
pub struct Problem {
    pub vars: ProblemVariables,
    pub objective: Expression,
    pub constraints: Vec<Constraint>,
}

/// The variables of a built model, by meaning.
pub struct Model {
    /// x[g, slot].
    pub shifts: Vec<(usize, usize, Variable)>,
    pub breaks: Vec<BreakVars>,
    /// N[pool].
    pub pools: Vec<(Pool, Variable)>,
    /// z[i, g, class].
    pub allocation: Vec<(usize, usize, usize, Variable)>,
    /// u[i, class].
    pub under: Vec<(usize, usize, Variable)>,
}

impl Model {
    pub fn integer_variables(&self) -> usize {
        self.shifts.len()
            + self.breaks.iter().map(|b| b.times.len()).sum::<usize>()
            + self.pools.len()
    }

    pub fn continuous_variables(&self) -> usize {
        self.allocation.len() + self.under.len()
    }
}

/// Requirement of each queue class in each interval: R_ic = Σ_{q ∈ c} R_iq.
pub fn class_requirements(inst: &Instance, required: &[Vec<f64>]) -> Vec<Vec<f64>> {
    inst.classes
        .iter()
        .map(|c| {
            (0..inst.intervals.len())
                .map(|i| c.queues.iter().map(|&q| required[q][i]).sum())
                .collect()
        })
        .collect()
}

pub fn build(
    inst: &Instance,
    required: &[Vec<f64>],
    prices: Prices,
    integral: bool,
) -> (Problem, Model) {
    let mut vars = ProblemVariables::new();
    let mut constraints: Vec<Constraint> = Vec::new();
    let mut objective = Expression::default();
    let interval_hours = inst.interval_minutes as f64 / 60.0;
    let over_price = prices.overstaffing_per_agent_hour * interval_hours;
    let n_intervals = inst.intervals.len();
    let count = |max: u32| {
        let v = variable().min(0).max(max as f64);
        if integral {
            v.integer()
        } else {
            v
        }
    };

    // x[g, σ] ∈ ℤ₊ for templates g may work, on days g is available. Cost: c_g · paid hours,
    // plus the overstaffing price on every agent-interval on duty (see (1)–(2) below).
    let mut shifts = Vec::new();
    let mut shift_of: HashMap<(usize, usize), Variable> = HashMap::new();
    let mut on_duty: Vec<Vec<Expression>> = inst
        .groups
        .iter()
        .map(|_| (0..n_intervals).map(|_| Expression::default()).collect())
        .collect();
    for (g, group) in inst.groups.iter().enumerate() {
        for (s, slot) in inst.slots.iter().enumerate() {
            if !group.templates.contains(&slot.template) || !group.available[slot.day] {
                continue;
            }
            let x = vars.add(count(group.headcount));
            let paid_hours = inst.templates[slot.template].paid_minutes as f64 / 60.0;
            let duty: f64 = slot.cover.iter().map(|&(_, f)| f).sum();
            let over = if group.classes.is_empty() {
                0.0
            } else {
                over_price * duty
            };
            objective.add_mul(group.cost_per_hour * paid_hours + over, x);
            for &(i, f) in &slot.cover {
                on_duty[g][i].add_mul(f, x);
            }
            shifts.push((g, s, x));
            shift_of.insert((g, s), x);
        }
    }

    // (3) Breaks (Bechtold & Jacobs): per group, template, rule and day, with that day's shifts
    // in start order j = 1..n and break windows [E_j, L_j]:
    //   Σ_b y_b = Σ_j x_j,   Σ_{b ≤ L_j} y_b ≥ Σ_{j' ≤ j} x_j',   Σ_{b ≥ E_j} y_b ≥ Σ_{j' ≥ j} x_j'.
    let mut breaks = Vec::new();
    for (set_index, set) in inst.break_sets.iter().enumerate() {
        let rule = &inst.templates[set.template].breaks[set.rule];
        for (g, group) in inst.groups.iter().enumerate() {
            let xs: Vec<(i64, Variable)> = set
                .slots
                .iter()
                .filter_map(|&s| shift_of.get(&(g, s)).map(|&x| (inst.slots[s].start, x)))
                .collect();
            if xs.is_empty() {
                continue;
            }
            let ys: Vec<(i64, Variable)> = set
                .breaks
                .iter()
                .map(|&b| {
                    let y = vars.add(count(group.headcount));
                    let slot = &inst.break_slots[b];
                    if !group.classes.is_empty() {
                        let duty: f64 = slot.cover.iter().map(|&(_, f)| f).sum();
                        objective.add_mul(-over_price * duty, y);
                    }
                    for &(i, f) in &slot.cover {
                        on_duty[g][i].add_mul(-f, y);
                    }
                    (slot.start, y)
                })
                .collect();
            let all_y: Expression = ys.iter().map(|&(_, y)| y).sum();
            let all_x: Expression = xs.iter().map(|&(_, x)| x).sum();
            constraints.push(all_y.eq(all_x));
            for j in 0..xs.len() {
                let (earliest, latest) = (xs[j].0 + rule.earliest, xs[j].0 + rule.latest);
                let first_j: Expression = xs[..=j].iter().map(|&(_, x)| x).sum();
                let last_j: Expression = xs[j..].iter().map(|&(_, x)| x).sum();
                let by_latest: Expression = ys
                    .iter()
                    .filter(|(b, _)| *b <= latest)
                    .map(|&(_, y)| y)
                    .sum();
                let from_earliest: Expression = ys
                    .iter()
                    .filter(|(b, _)| *b >= earliest)
                    .map(|&(_, y)| y)
                    .sum();
                constraints.push(by_latest.geq(first_j));
                constraints.push(from_earliest.geq(last_j));
            }
            breaks.push(BreakVars {
                group: g,
                set: set_index,
                times: ys.into_iter().map(|(_, y)| y).collect(),
            });
        }
    }

    // (4) Pools: every agent of a group works one start block of one template all week.
    let mut pools = Vec::new();
    let mut pools_of_group: Vec<Vec<Variable>> = inst.groups.iter().map(|_| Vec::new()).collect();
    for pool in inst.pools() {
        let group = &inst.groups[pool.group];
        let n = vars.add(count(group.headcount));
        pools_of_group[pool.group].push(n);
        let worked = |day: usize| -> Expression {
            pool.slots_by_day[day]
                .iter()
                .map(|&s| shift_of[&(pool.group, s)])
                .sum()
        };
        // (4b) at most one shift a day per agent.
        for day in 0..inst.days.len() {
            if !pool.slots_by_day[day].is_empty() {
                constraints.push(worked(day).leq(n));
            }
        }
        // (4c) working days per week within the contract and the days-off rule.
        let mut most_days = 0;
        for week in 0..inst.weeks {
            let bounds = inst.day_bounds(&group.contract, pool.template, week);
            most_days = most_days.max(bounds.max_days);
            let days: Expression = inst.week_days(week).into_iter().map(worked).sum();
            if bounds.min_days > 0 {
                constraints.push(days.clone().geq(bounds.min_days as f64 * n));
            }
            constraints.push(days.leq(bounds.max_days as f64 * n));
        }
        // (4d) at most m days in any m + 1 consecutive days, where (4c) does not imply it.
        let m = inst.max_consecutive_days as usize;
        if most_days as usize > m || inst.weeks > 1 {
            for first in 0..inst.days.len().saturating_sub(m) {
                let window: Expression = (first..=first + m).map(worked).sum();
                constraints.push(window.leq(m as f64 * n));
            }
        }
        // (4e) a template too long to repeat after the minimum rest: never two days in a row.
        if inst.templates[pool.template].no_consecutive_days {
            for day in 0..inst.days.len().saturating_sub(1) {
                constraints.push((worked(day) + worked(day + 1)).leq(n));
            }
        }
        pools.push((pool, n));
    }
    // (4a) Σ_p N_p = H_g for permanent groups, ≤ H_g for temporary ones.
    for (g, group) in inst.groups.iter().enumerate() {
        let total: Expression = pools_of_group[g].iter().copied().sum();
        if group.temporary {
            constraints.push(total.leq(group.headcount as f64));
        } else {
            constraints.push(total.eq(group.headcount as f64));
        }
    }

    // (1) Σ_c z_igc ≤ on-duty_gi: a group's agents split over the classes it serves, the rest
    //     idle (Bhulai, Koole & Pot).
    // (2) Σ_g z_igc + u_ic ≥ R_ic: the class is covered or the shortfall paid for.
    // Overstaffing o = on-duty − (R − u), so P_o·Δ·Σ o = P_o·Δ·(Σ on-duty + Σ u − Σ R): the
    // price sits on x and y above, on u here, and the constant is added so the objective is the
    // plan's cost, without o variables or equality rows.
    let class_req = class_requirements(inst, required);
    let total_required: f64 = class_req.iter().flatten().sum();
    objective += -over_price * total_required;
    let mut allocation = Vec::new();
    let mut allocated: Vec<Vec<Expression>> = inst
        .classes
        .iter()
        .map(|_| (0..n_intervals).map(|_| Expression::default()).collect())
        .collect();
    for (g, group) in inst.groups.iter().enumerate() {
        for (i, duty) in on_duty[g].iter_mut().enumerate() {
            let mut split = Expression::default();
            let mut any = false;
            for &c in group.classes.iter().filter(|&&c| class_req[c][i] > 0.0) {
                let z = vars.add(variable().min(0).max(class_req[c][i]));
                allocation.push((i, g, c, z));
                split += z;
                allocated[c][i] += z;
                any = true;
            }
            if any {
                constraints.push(split.leq(std::mem::take(duty)));
            }
        }
    }
    let mut under = Vec::new();
    let under_price =
        (prices.understaffing_per_agent_hour + prices.overstaffing_per_agent_hour) * interval_hours;
    for (c, row) in allocated.into_iter().enumerate() {
        for (i, alloc) in row.into_iter().enumerate() {
            let need = class_req[c][i];
            if need > 0.0 {
                let u = vars.add(variable().min(0).max(need));
                objective.add_mul(under_price, u);
                under.push((i, c, u));
                constraints.push((alloc + u).geq(need));
            }
        }
    }

    (
        Problem {
            vars,
            objective,
            constraints,
        },
        Model {
            shifts,
            breaks,
            pools,
            allocation,
            under,
        },
    )
}

/// Integer decisions of a plan, by meaning (what rounding produces and a MIP solve returns).
#[derive(Debug, Clone, PartialEq)]
pub struct Decisions {
    /// Agents per entry of [`Model::shifts`], same order.
    pub shifts: Vec<u32>,
    /// Break counts per entry of [`Model::breaks`], per time.
    pub breaks: Vec<Vec<u32>>,
    /// Agents per entry of [`Model::pools`].
    pub pools: Vec<u32>,
}

/// Fractional values of an LP relaxation, by meaning.
#[derive(Debug, Clone)]
pub struct Relaxed {
    pub shifts: Vec<f64>,
    pub breaks: Vec<Vec<f64>>,
    pub pools: Vec<f64>,
}

/// All the model's variables in one order, for reading values back and for MIP starts.
pub fn variable_order(model: &Model) -> Vec<Variable> {
    model
        .shifts
        .iter()
        .map(|s| s.2)
        .chain(model.breaks.iter().flat_map(|b| b.times.iter().copied()))
        .chain(model.pools.iter().map(|p| p.1))
        .chain(model.allocation.iter().map(|a| a.3))
        .chain(model.under.iter().map(|u| u.2))
        .collect()
}

/// Splits values read in [`variable_order`] back into their meaning.
pub fn relaxed_values(model: &Model, values: &[f64]) -> Relaxed {
    let mut it = values.iter().copied();
    let shifts = model
        .shifts
        .iter()
        .map(|_| it.next().unwrap_or(0.0))
        .collect();
    let breaks = model
        .breaks
        .iter()
        .map(|b| b.times.iter().map(|_| it.next().unwrap_or(0.0)).collect())
        .collect();
    let pools = model
        .pools
        .iter()
        .map(|_| it.next().unwrap_or(0.0))
        .collect();
    Relaxed {
        shifts,
        breaks,
        pools,
    }
}

/// Integer decisions from solver values (a MIP solution: values are integral up to tolerance).
pub fn decisions_of(model: &Model, values: &[f64]) -> Decisions {
    let r = relaxed_values(model, values);
    let round = |v: f64| v.round().max(0.0) as u32;
    Decisions {
        shifts: r.shifts.into_iter().map(round).collect(),
        breaks: r
            .breaks
            .into_iter()
            .map(|b| b.into_iter().map(round).collect())
            .collect(),
        pools: r.pools.into_iter().map(round).collect(),
    }
}
