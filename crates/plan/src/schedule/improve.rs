//! Local search on an integral plan: add a shift, drop one, move one to another start of its pool
//! and day, or move a break within its window — whenever that lowers the plan's exact cost.
//!
//! Every move keeps the model's constraints: it changes one agent's shift at a time, inside its
//! pool's daily and weekly limits (4b–4e), and gives that agent breaks inside its own windows, so
//! the break counts stay placeable (3). Costs are exact: intervals are independent once shifts
//! are fixed, so a move is priced by re-solving the allocation flow of the intervals it touches.
//! Rounding an LP leaves such moves on the table mostly where counts are small; on the week-long
//! model the search typically closes a few tenths of a percent of gap.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::allocate::max_flow;
use super::extract::ExplicitShift;
use super::formulation::{class_requirements, Decisions, Model};
use super::instance::Instance;

/// Where an agent's shift goes instead: a slot and its break start times.
type Placement = (usize, Vec<i64>);

/// The state the search works on: agents per shift and breaks, on-duty counts and costs.
struct State<'a> {
    inst: &'a Instance,
    model: &'a Model,
    /// Agents per (group, slot, break start times).
    rows: BTreeMap<(usize, usize, Vec<i64>), u32>,
    duty: Vec<Vec<f64>>,
    cost: Vec<f64>,
    class_req: Vec<Vec<f64>>,
    edges: Vec<Vec<usize>>,
    pool_of: HashMap<(usize, usize, usize), usize>,
    pool_size: Vec<u32>,
    worked: Vec<Vec<u32>>,
    interval_hours: f64,
    under_price: f64,
    over_price: f64,
}

impl<'a> State<'a> {
    fn interval_cost(&self, i: usize, change: &[(usize, f64)]) -> f64 {
        let mut supply: Vec<f64> = self.duty.iter().map(|d| d[i]).collect();
        for &(g, delta) in change {
            supply[g] += delta;
        }
        let demand: Vec<f64> = self.class_req.iter().map(|r| r[i]).collect();
        let flow: f64 = max_flow(&supply, &demand, &self.edges)
            .iter()
            .flatten()
            .sum();
        let need: f64 = demand.iter().sum();
        let staffed: f64 = supply
            .iter()
            .enumerate()
            .filter(|(g, _)| !self.edges[*g].is_empty())
            .map(|(_, s)| s.max(0.0))
            .sum();
        self.interval_hours
            * (self.under_price * (need - flow).max(0.0)
                + self.over_price * (staffed - flow).max(0.0))
    }

    /// On-duty intervals of one agent on a slot with these breaks, as (interval, share).
    fn presence(&self, slot: usize, breaks: &[i64]) -> Vec<(usize, f64)> {
        let s = &self.inst.slots[slot];
        let mut by: BTreeMap<usize, f64> = s.cover.iter().copied().collect();
        for (k, &b) in breaks.iter().enumerate() {
            let minutes = self.inst.templates[s.template].breaks[k].minutes;
            for (i, f) in self.inst.cover(b, b + minutes) {
                *by.entry(i).or_insert(0.0) -= f;
            }
        }
        by.into_iter().filter(|(_, f)| f.abs() > 1e-12).collect()
    }

    fn paid(&self, g: usize, slot: usize) -> f64 {
        let t = &self.inst.templates[self.inst.slots[slot].template];
        self.inst.groups[g].cost_per_hour * t.paid_minutes as f64 / 60.0
    }

    /// Cost change of adding (+1) and removing (−1) agent-shifts.
    fn delta(&self, changes: &[(usize, usize, &[i64], f64)]) -> f64 {
        let mut per_interval: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
        let mut paid = 0.0;
        for &(g, slot, breaks, sign) in changes {
            paid += sign * self.paid(g, slot);
            for (i, f) in self.presence(slot, breaks) {
                per_interval.entry(i).or_default().push((g, sign * f));
            }
        }
        paid + per_interval
            .iter()
            .map(|(&i, change)| self.interval_cost(i, change) - self.cost[i])
            .sum::<f64>()
    }

    fn apply(&mut self, g: usize, slot: usize, breaks: &[i64], sign: f64) {
        for (i, f) in self.presence(slot, breaks) {
            self.duty[g][i] += sign * f;
            self.cost[i] = self.interval_cost(i, &[]);
        }
        let key = (g, slot, breaks.to_vec());
        if sign > 0.0 {
            *self.rows.entry(key).or_insert(0) += 1;
        } else if let Some(n) = self.rows.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.rows.remove(&key);
            }
        }
        let s = &self.inst.slots[slot];
        let p = self.pool_of[&(g, s.template, s.block)];
        if sign > 0.0 {
            self.worked[p][s.day] += 1;
        } else {
            self.worked[p][s.day] -= 1;
        }
    }

    /// Whether the pool of (g, slot) can take one more (`sign` > 0) or one fewer shift that day.
    fn pool_allows(&self, g: usize, slot: usize, sign: i32) -> bool {
        let s = &self.inst.slots[slot];
        let p = self.pool_of[&(g, s.template, s.block)];
        let n = self.pool_size[p];
        let mut worked = self.worked[p].clone();
        if sign > 0 {
            worked[s.day] += 1;
        } else if worked[s.day] == 0 {
            return false;
        } else {
            worked[s.day] -= 1;
        }
        if worked[s.day] > n {
            return false;
        }
        let pool = &self.model.pools[p].0;
        let contract = &self.inst.groups[g].contract;
        let week = self.inst.days[s.day].week;
        let bounds = self.inst.day_bounds(contract, pool.template, week);
        let days: u32 = self.inst.week_days(week).iter().map(|&d| worked[d]).sum();
        if days < bounds.min_days * n || days > bounds.max_days * n {
            return false;
        }
        let m = self.inst.max_consecutive_days as usize;
        let n_days = self.inst.days.len();
        for first in s.day.saturating_sub(m)..=s.day.min(n_days.saturating_sub(m + 1)) {
            if first + m < n_days
                && (first..=first + m).map(|d| worked[d]).sum::<u32>() > m as u32 * n
            {
                return false;
            }
        }
        if self.inst.templates[s.template].no_consecutive_days {
            let pair = |d: usize| worked[d] + worked.get(d + 1).copied().unwrap_or(0);
            if pair(s.day) > n || (s.day > 0 && pair(s.day - 1) > n) {
                return false;
            }
        }
        true
    }

    /// The cheapest break times for one more agent on `slot` of group g, rule by rule.
    fn best_breaks(&self, g: usize, slot: usize) -> Vec<i64> {
        let s = &self.inst.slots[slot];
        let rules = &self.inst.templates[s.template].breaks;
        let step = self.inst.interval_minutes;
        // Start each break mid-window, then improve one rule at a time.
        let mut breaks: Vec<i64> = rules
            .iter()
            .map(|r| s.start + r.earliest + (r.latest - r.earliest) / 2 / step * step)
            .collect();
        for k in 0..rules.len() {
            let mut best = (f64::INFINITY, breaks[k]);
            for o in
                (rules[k].earliest..=rules[k].latest).step_by(self.inst.interval_minutes as usize)
            {
                let mut trial = breaks.clone();
                trial[k] = s.start + o;
                let d = self.delta(&[(g, slot, &trial, 1.0)]);
                if d < best.0 - 1e-9 {
                    best = (d, s.start + o);
                }
            }
            breaks[k] = best.1;
        }
        breaks
    }
}

/// Improves an integral plan within `seconds`, returning the improved decisions.
pub fn improve(
    inst: &Instance,
    model: &Model,
    required: &[Vec<f64>],
    explicit: &[ExplicitShift],
    decisions: &Decisions,
    prices: (f64, f64),
    seconds: f64,
) -> Decisions {
    let started = Instant::now();
    let pool_of: HashMap<(usize, usize, usize), usize> = model
        .pools
        .iter()
        .enumerate()
        .map(|(p, (pool, _))| ((pool.group, pool.template, pool.block), p))
        .collect();
    let mut state = State {
        inst,
        model,
        rows: BTreeMap::new(),
        duty: vec![vec![0.0; inst.intervals.len()]; inst.groups.len()],
        cost: vec![0.0; inst.intervals.len()],
        class_req: class_requirements(inst, required),
        edges: inst.groups.iter().map(|g| g.classes.clone()).collect(),
        pool_of,
        pool_size: decisions.pools.clone(),
        worked: vec![vec![0; inst.days.len()]; model.pools.len()],
        interval_hours: inst.interval_minutes as f64 / 60.0,
        under_price: prices.0,
        over_price: prices.1,
    };
    for sh in explicit {
        for (i, f) in state.presence(sh.slot, &sh.breaks) {
            state.duty[sh.group][i] += sh.count as f64 * f;
        }
        let s = &inst.slots[sh.slot];
        let p = state.pool_of[&(sh.group, s.template, s.block)];
        state.worked[p][s.day] += sh.count;
        *state
            .rows
            .entry((sh.group, sh.slot, sh.breaks.clone()))
            .or_insert(0) += sh.count;
    }
    state.cost = (0..inst.intervals.len())
        .map(|i| state.interval_cost(i, &[]))
        .collect();
    // Other starts of the same pool and day, per slot.
    let mut siblings: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for &(g, s, _) in &model.shifts {
        let slot = &inst.slots[s];
        siblings
            .entry((g, s))
            .or_default()
            .extend(model.shifts.iter().filter_map(|&(g2, o, _)| {
                let other = &inst.slots[o];
                (g2 == g
                    && o != s
                    && other.template == slot.template
                    && other.day == slot.day
                    && other.block == slot.block)
                    .then_some(o)
            }));
    }
    let out_of_time = || started.elapsed().as_secs_f64() > seconds;
    loop {
        let mut improved = false;
        let rows: Vec<(usize, usize, Vec<i64>)> = state.rows.keys().cloned().collect();
        for (g, slot, breaks) in rows {
            while state
                .rows
                .get(&(g, slot, breaks.clone()))
                .is_some_and(|&n| n > 0)
            {
                if out_of_time() {
                    break;
                }
                // The best of: dropping the shift, other breaks, another start of the pool.
                let mut best: Option<(f64, Option<Placement>)> = None;
                let mut consider = |d: f64, to: Option<Placement>| {
                    if d < best.as_ref().map_or(-1e-6, |b| b.0) {
                        best = Some((d, to));
                    }
                };
                if state.pool_allows(g, slot, -1) {
                    consider(state.delta(&[(g, slot, &breaks, -1.0)]), None);
                }
                let better = state.best_breaks_for_existing(g, slot, &breaks);
                if better != breaks {
                    let d = state.delta(&[(g, slot, &breaks, -1.0), (g, slot, &better, 1.0)]);
                    consider(d, Some((slot, better)));
                }
                let start = inst.slots[slot].start;
                for &other in siblings.get(&(g, slot)).into_iter().flatten() {
                    let moved: Vec<i64> = breaks
                        .iter()
                        .map(|b| b - start + inst.slots[other].start)
                        .collect();
                    let d = state.delta(&[(g, slot, &breaks, -1.0), (g, other, &moved, 1.0)]);
                    consider(d, Some((other, moved)));
                }
                let Some((_, to)) = best else { break };
                state.apply(g, slot, &breaks, -1.0);
                if let Some((other, moved)) = to {
                    state.apply(g, other, &moved, 1.0);
                }
                improved = true;
            }
        }
        for &(g, slot, _) in &model.shifts {
            if out_of_time() {
                break;
            }
            while state.pool_allows(g, slot, 1) && state.delta(&[(g, slot, &[], 1.0)]) < -1e-6 {
                let breaks = state.best_breaks(g, slot);
                if state.delta(&[(g, slot, &breaks, 1.0)]) >= -1e-6 {
                    break;
                }
                state.apply(g, slot, &breaks, 1.0);
                improved = true;
            }
        }
        if !improved || out_of_time() {
            break;
        }
    }
    let shifts: Vec<(usize, usize, Vec<i64>)> = state
        .rows
        .iter()
        .flat_map(|((g, s, b), &n)| std::iter::repeat_n((*g, *s, b.clone()), n as usize))
        .collect();
    decisions_from(inst, model, &shifts, &decisions.pools)
}

impl State<'_> {
    /// For an agent already on `slot` with `breaks`: the best breaks, one rule at a time.
    fn best_breaks_for_existing(&self, g: usize, slot: usize, breaks: &[i64]) -> Vec<i64> {
        let s = &self.inst.slots[slot];
        let rules = &self.inst.templates[s.template].breaks;
        let mut current = breaks.to_vec();
        for k in 0..rules.len() {
            let mut best = (-1e-6, current[k]);
            for o in
                (rules[k].earliest..=rules[k].latest).step_by(self.inst.interval_minutes as usize)
            {
                if s.start + o == current[k] {
                    continue;
                }
                let mut trial = current.clone();
                trial[k] = s.start + o;
                let d = self.delta(&[(g, slot, &current, -1.0), (g, slot, &trial, 1.0)]);
                if d < best.0 {
                    best = (d, s.start + o);
                }
            }
            current[k] = best.1;
        }
        current
    }
}

/// Model decisions (shift counts, break counts per time, pool sizes) from agent-shifts.
fn decisions_from(
    inst: &Instance,
    model: &Model,
    shifts: &[(usize, usize, Vec<i64>)],
    pools: &[u32],
) -> Decisions {
    let index: HashMap<(usize, usize), usize> = model
        .shifts
        .iter()
        .enumerate()
        .map(|(k, &(g, s, _))| ((g, s), k))
        .collect();
    let set_of: HashMap<(usize, usize, usize, usize), usize> = model
        .breaks
        .iter()
        .enumerate()
        .map(|(k, bv)| {
            let set = &inst.break_sets[bv.set];
            ((bv.group, set.template, set.rule, set.day), k)
        })
        .collect();
    let mut counts = vec![0u32; model.shifts.len()];
    let mut breaks: Vec<Vec<u32>> = model
        .breaks
        .iter()
        .map(|b| vec![0; b.times.len()])
        .collect();
    for (g, slot, times) in shifts {
        counts[index[&(*g, *slot)]] += 1;
        let s = &inst.slots[*slot];
        for (rule, &t) in times.iter().enumerate() {
            let k = set_of[&(*g, s.template, rule, s.day)];
            let set = &inst.break_sets[model.breaks[k].set];
            if let Some(r) = set
                .breaks
                .iter()
                .position(|&b| inst.break_slots[b].start == t)
            {
                breaks[k][r] += 1;
            }
        }
    }
    Decisions {
        shifts: counts,
        breaks,
        pools: pools.to_vec(),
    }
}
