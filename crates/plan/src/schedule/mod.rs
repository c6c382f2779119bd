//! Scheduling: the multi-skill shift plan (how many agents of each group work each shift, by
//! LP/MIP), the roster of named agents on those shifts, and the diagnostics that say where and
//! why a plan falls short.
//!
//! # The shift plan as algebra
//!
//! **Sets.** Groups g (a skill set and languages, headcount H_g, hourly cost c_g); queues q, with
//! G(q) = the groups holding q's skill *and* speaking its language; *classes* c = queues served
//! by exactly the same groups (hotline, email and social in the bundled scenario), with
//! R_ic = Σ_{q∈c} R_iq — exact, because every queue has the same understaffing price; intervals i
//! of Δ hours over the horizon; plan days d — the horizon's days plus a *lead-in* evening before
//! it, whose only shifts are those reaching past midnight into the first day (so the first
//! night can be covered); contract weeks w (the lead-in counts in the first). A *slot*
//! σ = (template t, day d, start s), s on the interval grid within t's window; a_σi ∈ [0, 1] is
//! the share of interval i inside the shift. Break k of t may start at offsets [e_k, l_k] from
//! the shift start, on the grid; β_bi is the share of interval i inside a break starting at b.
//! Each template's starts are cut into *start blocks* spanning at most 24 h − length − minimum
//! rest, and a *pool* p = (g, t, block) is the set of agents of g who work that block all week.
//!
//! **Variables.**
//! * x_gσ ∈ ℤ₊ — agents of g on slot σ (templates g may work, days g is available);
//! * y_gtkdb ∈ ℤ₊ — agents of g on template t, day d, starting break k at time b;
//! * N_p ∈ ℤ₊ — agents in pool p;
//! * z_igc ≥ 0 — agents of g working class c in interval i (continuous: an agent's time may be
//!   split between the skills it holds, as in Bhulai, Koole & Pot, 2008);
//! * u_ic ≥ 0 — agents short of the requirement.
//!
//! **Objective.** min Σ c_g·paid_t·x_gσ + P_u·Δ·Σ u_ic + P_o·Δ·Σ o_iq, paid_t the template's paid
//! hours (length less unpaid breaks), P_u = `costs.understaffing_per_agent_hour`,
//! P_o = `costs.overstaffing_per_agent_hour`, and overstaffing o = on duty − (R − u), so its term
//! is P_o·Δ·(Σ on-duty + Σ u − Σ R): a price on x, y and u, no variables of its own.
//!
//! **Constraints.**
//! 1. Capacity: Σ_c z_igc ≤ Σ_σ a_σi x_gσ − Σ_{t,k,d,b} β_bi y_gtkdb (on duty, not on break).
//! 2. Coverage: Σ_{g} z_igc + u_ic ≥ R_ic. Understaffing is always feasible but costs P_u per
//!    agent-hour, so a peak that cannot be covered still gets a plan that says where it falls
//!    short.
//! 3. Breaks (implicit, Bechtold & Jacobs 1990): for each g, t, k, d, with that day's slots of t
//!    in start order j = 1..n and break windows [E_j, L_j] = [s_j + e_k, s_j + l_k]:
//!    Σ_b y_b = Σ_j x_j; Σ_{b ≤ L_j} y_b ≥ Σ_{j' ≤ j} x_j'; Σ_{b ≥ E_j} y_b ≥ Σ_{j' ≥ j} x_j'.
//!    All windows of a template are the same offsets from the start, so they never overlap
//!    extraordinarily and these are exactly the conditions under which the breaks can be handed
//!    to individual shifts ([`breaks::assign_edf`] does it, earliest deadline first). Implicit
//!    breaks need a variable per break *time* rather than per combination of break times per
//!    shift (5 × 7 = 35 for an early shift here), and were measured no slower to solve than
//!    Aykin's explicit form or fixed break patterns, while keeping the 15-minute placement —
//!    restricting breaks to 30-minute steps cost 1.9% on the Double-11 week.
//! 4. Pools and labour rules, with X_pd = Σ_{σ∈p, day d} x_gσ:
//!    (a) Σ_p N_p = H_g for a permanent group (every employee's contract binds), ≤ H_g for a
//!    temporary one (the hiring cap); temporary staff have no slots outside their dates;
//!    (b) X_pd ≤ N_p — one shift a day per agent, hence at most H_g agents of g a day;
//!    (c) ℓ_pw N_p ≤ Σ_{d∈w} X_pd ≤ υ_pw N_p, ℓ_pw = ⌈min weekly hours / paid_t⌉ (prorated in a
//!    short last week), υ_pw = min(⌊max weekly hours / paid_t⌋, 7 − days off, days in w);
//!    (d) Σ_{d=δ..δ+m} X_pd ≤ m N_p over any m + 1 consecutive days, m = max consecutive days
//!    (omitted where (c) implies it);
//!    (e) X_pd + X_p,d+1 ≤ N_p if a template is too long to repeat after the minimum rest.
//!
//! # Why the aggregate plan can always be rostered
//!
//! Within a pool any two shifts on consecutive days leave the minimum rest (that is how start
//! blocks are cut), and an agent stays in its pool all week, so rest holds for every agent by
//! construction. Given a pool's daily counts X_pd, hand each day's shifts to the X_pd agents of
//! the pool who have worked the fewest days so far: every agent then works ⌊ΣX/N⌋ or ⌈ΣX/N⌉
//! days, which by (c) lies in [ℓ, υ] — weekly hours within the contract and at least the
//! required days off; with one week (the bundled case) υ ≤ 7 − days off ≤ m also bounds the
//! consecutive days. Breaks are then handed out by EDF (3). The roster ([`roster`]) solves the
//! same assignment as a small MIP per group, exact on every individual rule, to add preferences
//! and fairness; the argument shows it is feasible when the agents file matches the scenario's
//! headcount and nobody is on leave (leave the plan cannot see is reported as unfilled shifts).
//! Limits, stated rather than hidden: over several weeks (d) is only a necessary condition
//! across week boundaries, and rest on a DST change day is counted in wall-clock hours.
//!
//! # Solving
//!
//! The LP relaxation is solved first (CLP, see [`clp`]), giving the lower bound; it is rounded to
//! an integral plan that keeps every constraint ([`rounding`]), queues are then allocated
//! exactly by maximum flow ([`allocate`]), and the plan is costed as written. On the Double-11
//! week that plan is within about 1% of the bound; only when it is not within the requested gap
//! does CBC's branch and bound (good_lp, `cbc` feature; HiGHS with `highs`) run on the MIP,
//! started from it, for the rest of the time limit. Small instances are solved to optimality
//! that way. The reported bound is the better of the LP's and CBC's.

pub mod agents;
pub mod breaks;
pub mod diagnose;
pub mod files;
mod formulation;
pub mod ics;
pub mod instance;
pub mod roster;
pub mod solver;

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use crate::scenario::Scenario;
use crate::staffing::Requirement;

pub use agents::{generate_agents, read_agents, write_agents, AgentsError};
pub use diagnose::Shortfall;
pub use instance::Instance;
pub use roster::{build_roster, Roster, RosterOptions};
pub use solver::{SolveLimits, SolveStatus};

/// Everything that can stop a plan or a roster.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("shift template `{template}`: {message}")]
    Template { template: String, message: String },
    #[error("requirements row {row} (line {line}): {message}", line = row + 1)]
    Requirement { row: usize, message: String },
    #[error("{file}:{line}: {message}")]
    File {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no feasible shift plan:\n  {}", reasons.join("\n  "))]
    Infeasible { reasons: Vec<String> },
    #[error("no plan within the time limit of {seconds:.0} s; raise --time-limit")]
    NoSolution { seconds: f64 },
    #[error("solver failed: {0}")]
    Solver(String),
    #[error("internal check failed: {0}")]
    Internal(String),
}

/// A CSV file's problems keep their wording: `FILE:LINE: ...`, or `FILE: ...` when unreadable.
impl From<crate::csv_rows::CsvRowsError> for ScheduleError {
    fn from(e: crate::csv_rows::CsvRowsError) -> Self {
        use crate::csv_rows::CsvRowsError;
        match e {
            CsvRowsError::Io { file, source } => ScheduleError::Io { file, source },
            CsvRowsError::Row {
                file,
                line,
                message,
            } => ScheduleError::File {
                file,
                line: line as usize,
                message,
            },
        }
    }
}

/// Limits for the shift-plan solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleOptions {
    pub time_limit_seconds: f64,
    /// Relative MIP gap at which to stop (0.01 = 1%).
    pub gap: f64,
    pub threads: u32,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        ScheduleOptions {
            time_limit_seconds: 60.0,
            gap: 0.01,
            threads: 1,
        }
    }
}

/// A break placed in a planned shift.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PlacedBreak {
    pub name: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

/// `count` agents of `group` working `template` on `day` from `start` to `end`, with `breaks`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedShift {
    pub group: String,
    pub template: String,
    /// The plan day the shift starts on (local date).
    pub day: NaiveDate,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub breaks: Vec<PlacedBreak>,
    pub count: u32,
}

/// One queue in one interval: the requirement and what the plan allocates to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageRow {
    pub queue: String,
    pub start: DateTime<FixedOffset>,
    pub required: f64,
    pub allocated: f64,
    pub over: f64,
    pub under: f64,
}

/// Agents of one group working one queue in one interval (the split of constraint 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationRow {
    pub start: DateTime<FixedOffset>,
    pub group: String,
    pub queue: String,
    pub agents: f64,
}

/// Figures of a plan, written as summary.json.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanSummary {
    pub scenario: String,
    pub status: SolveStatus,
    /// Objective: paid cost + understaffing and overstaffing penalties.
    pub objective: f64,
    pub best_bound: Option<f64>,
    /// (objective − bound) / objective.
    pub gap: Option<f64>,
    pub paid_hours: f64,
    pub paid_cost: f64,
    pub understaffed_agent_hours: f64,
    pub understaffing_cost: f64,
    pub overstaffed_agent_hours: f64,
    pub overstaffing_cost: f64,
    pub shifts: u32,
    /// Agents of each group in the plan (all of a permanent group; temporary staff hired).
    pub agents_by_group: BTreeMap<String, u32>,
    pub paid_hours_by_group: BTreeMap<String, f64>,
    pub understaffed_intervals: usize,
    /// Wall time of the whole solve (LP, rounding, branch and bound).
    pub solve_seconds: f64,
    /// Of which the LP relaxation.
    pub lp_seconds: f64,
    pub build_seconds: f64,
    pub integer_variables: usize,
    pub continuous_variables: usize,
    pub constraints: usize,
    pub time_limit_seconds: f64,
    pub requested_gap: f64,
    /// Requirement rows outside the horizon, ignored.
    pub rows_outside_horizon: usize,
    pub shortfalls: Vec<Shortfall>,
}

/// A solved shift plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShiftPlan {
    pub shifts: Vec<PlannedShift>,
    pub coverage: Vec<CoverageRow>,
    pub allocation: Vec<AllocationRow>,
    pub summary: PlanSummary,
}

/// The requirement matrix R[q][i] from requirements rows; rows outside the horizon are counted
/// and ignored, rows on an unknown queue or off the grid are errors naming the row.
pub fn requirement_matrix(
    inst: &Instance,
    rows: &[Requirement],
) -> Result<(Vec<Vec<f64>>, usize), ScheduleError> {
    let mut required = vec![vec![0.0; inst.intervals.len()]; inst.queues.len()];
    let mut seen = vec![vec![false; inst.intervals.len()]; inst.queues.len()];
    let mut outside = 0;
    for (n, r) in rows.iter().enumerate() {
        let row = n + 1;
        let err = |message: String| ScheduleError::Requirement { row, message };
        let q = inst.queue_index(&r.queue).ok_or_else(|| {
            err(format!(
                "unknown queue `{}`; the scenario's queues are {}",
                r.queue,
                inst.queues
                    .iter()
                    .map(|q| q.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if r.interval_minutes as i64 != inst.interval_minutes {
            return Err(err(format!(
                "expected {}-minute intervals like the scenario, found {}",
                inst.interval_minutes, r.interval_minutes
            )));
        }
        let minute = (r.start.with_timezone(&chrono::Utc) - inst.t0).num_minutes();
        if minute < 0 || minute >= inst.horizon_end {
            outside += 1;
            continue;
        }
        let Ok(i) = inst.interval_starts.binary_search(&minute) else {
            return Err(err(format!(
                "start {} is not on the scenario's {}-minute grid",
                r.start.to_rfc3339(),
                inst.interval_minutes
            )));
        };
        if seen[q][i] {
            return Err(err(format!(
                "a second row for queue `{}` at {}",
                r.queue,
                r.start.to_rfc3339()
            )));
        }
        seen[q][i] = true;
        required[q][i] = r.required as f64;
    }
    Ok((required, outside))
}

/// Plans shifts for a scenario and its requirements: builds the MIP of the module doc, solves it
/// within `options`, hands breaks to shifts, and reports coverage, cost, bound and shortfalls.
pub fn plan_shifts(
    scenario: &Scenario,
    requirements: &[Requirement],
    options: &ScheduleOptions,
) -> Result<ShiftPlan, ScheduleError> {
    let inst = Instance::new(scenario)?;
    let (required, rows_outside_horizon) = requirement_matrix(&inst, requirements)?;
    plan_on(scenario, &inst, &required, rows_outside_horizon, options)
}

/// [`plan_shifts`] on an instance and requirement matrix already built.
///
/// The MIP is solved in two steps. Its LP relaxation (CLP: barrier, then crossover; see [`clp`])
/// gives the lower bound and a fractional plan, which [`rounding`] turns into an integral
/// one satisfying every constraint; with queues then allocated exactly ([`allocate`]), that plan
/// is usually within a fraction of a percent of the bound on a week-long model. Only when it is
/// not within `options.gap` does CBC's branch and bound run on the MIP, started from the rounded
/// plan, for the rest of the time limit. The bound reported is the better of the LP's and CBC's.
pub fn plan_on(
    scenario: &Scenario,
    inst: &Instance,
    required: &[Vec<f64>],
    rows_outside_horizon: usize,
    options: &ScheduleOptions,
) -> Result<ShiftPlan, ScheduleError> {
    let reasons = diagnose::contract_conflicts(inst);
    if !reasons.is_empty() {
        return Err(ScheduleError::Infeasible { reasons });
    }
    let started = Instant::now();
    let prices = formulation::Prices {
        understaffing_per_agent_hour: scenario.costs.understaffing_per_agent_hour,
        overstaffing_per_agent_hour: scenario.costs.overstaffing_per_agent_hour,
    };
    let (problem, model) = formulation::build(inst, required, prices, false);
    let integer_variables = model.integer_variables();
    let continuous_variables = model.continuous_variables();
    let constraints = problem.constraints.len();
    let build_seconds = started.elapsed().as_secs_f64();
    let limits = |time_limit_seconds: f64| SolveLimits {
        time_limit_seconds,
        gap: options.gap,
        threads: options.threads,
    };
    let order = formulation::variable_order(&model);
    let lp = solver::minimise_lp(
        problem.vars,
        problem.objective,
        problem.constraints,
        &order,
        &limits(options.time_limit_seconds),
    )
    .map_err(|f| failure(f, options.time_limit_seconds))?;
    let mut bound = lp.objective;
    let relaxed = formulation::relaxed_values(&model, &lp.values);
    let rounded = rounding::round(inst, &model, &relaxed);
    let mut best = match rounding::check(inst, &model, &rounded) {
        Ok(()) => Some(evaluate(scenario, inst, &model, required, rounded)?),
        Err(why) => {
            tracing::info!("rounding the LP failed ({why}); branch and bound starts cold");
            None
        }
    };
    if let Some(rounded) = &best {
        let budget = (options.time_limit_seconds - started.elapsed().as_secs_f64())
            .min(options.time_limit_seconds * 0.3);
        if budget > 0.0 {
            let improved = improve::improve(
                inst,
                &model,
                required,
                &rounded.explicit,
                &rounded.decisions,
                (
                    scenario.costs.understaffing_per_agent_hour,
                    scenario.costs.overstaffing_per_agent_hour,
                ),
                budget,
            );
            if let Err(why) = rounding::check(inst, &model, &improved) {
                return Err(ScheduleError::Internal(format!(
                    "local search broke a rule: {why}"
                )));
            }
            let candidate = evaluate(scenario, inst, &model, required, improved)?;
            tracing::debug!(
                before = rounded.cost,
                after = candidate.cost,
                "local search"
            );
            if candidate.cost < rounded.cost {
                best = Some(candidate);
            }
        }
    }
    let gap_of = |cost: f64, bound: f64| ((cost - bound) / cost.abs().max(1e-9)).max(0.0);
    if let Some(b) = &best {
        tracing::debug!(
            lp_seconds = lp.seconds,
            bound,
            rounded = b.cost,
            gap = gap_of(b.cost, bound),
            "LP relaxation rounded"
        );
    }
    let mut status = SolveStatus::GapLimit;
    let needs_search = best
        .as_ref()
        .is_none_or(|b| gap_of(b.cost, bound) > options.gap + 1e-9);
    // CBC solves the root LP again, by dual simplex, which takes several times as long as the
    // LP above and does not watch the clock: start it only with time to spare for it.
    let remaining = options.time_limit_seconds - started.elapsed().as_secs_f64();
    if needs_search && (remaining >= 1.0 && remaining >= 4.0 * lp.seconds || best.is_none()) {
        let (problem, model) = formulation::build(inst, required, prices, true);
        let start = best.as_ref().map(|b| mip_start(inst, &model, required, b));
        match solver::minimise(
            problem.vars,
            problem.objective,
            problem.constraints,
            &order_of(&model),
            &limits(remaining.max(1.0)),
            start,
        ) {
            Ok(mip) => {
                if let Some(b) = mip.best_bound {
                    bound = bound.max(b);
                }
                status = mip.status;
                let found = formulation::decisions_of(&model, &mip.values);
                let candidate = evaluate(scenario, inst, &model, required, found)?;
                if best.as_ref().is_none_or(|b| candidate.cost < b.cost) {
                    best = Some(candidate);
                }
            }
            Err(solver::SolveFailure::NoSolution) if best.is_some() => {
                status = SolveStatus::TimeLimit;
            }
            Err(f) => return Err(failure(f, options.time_limit_seconds)),
        }
    }
    let best = best.ok_or(ScheduleError::NoSolution {
        seconds: options.time_limit_seconds,
    })?;
    let gap = gap_of(best.cost, bound);
    if gap <= 1e-9 {
        status = SolveStatus::Optimal;
    } else if status == SolveStatus::Optimal {
        // CBC proved optimality only within its own tolerances.
        status = SolveStatus::GapLimit;
    }
    if gap > options.gap && status != SolveStatus::Optimal {
        status = SolveStatus::TimeLimit;
    }
    let result = solver::MipResult {
        values: Vec::new(),
        status,
        objective: best.cost,
        best_bound: Some(bound.min(best.cost)),
        seconds: started.elapsed().as_secs_f64() - build_seconds,
    };
    let mut plan = assemble(scenario, inst, required, &model, best, &result)?;
    plan.summary.build_seconds = build_seconds;
    plan.summary.integer_variables = integer_variables;
    plan.summary.continuous_variables = continuous_variables;
    plan.summary.constraints = constraints;
    plan.summary.time_limit_seconds = options.time_limit_seconds;
    plan.summary.requested_gap = options.gap;
    plan.summary.rows_outside_horizon = rows_outside_horizon;
    plan.summary.lp_seconds = lp.seconds;
    Ok(plan)
}

/// What a roster delivers: agents on duty per group and interval, counted from the named
/// agents' shifts and breaks, split over the queues exactly as a plan's are
/// ([`allocate`]). When every planned shift is filled this equals the plan's own coverage; an
/// unfilled shift (an agent on leave the plan could not see) shows here as less cover.
pub fn roster_coverage(
    scenario: &Scenario,
    requirements: &[Requirement],
    assignments: &[roster::Assignment],
) -> Result<(Vec<AllocationRow>, Vec<CoverageRow>), ScheduleError> {
    let inst = Instance::new(scenario)?;
    let (required, _) = requirement_matrix(&inst, requirements)?;
    let minute =
        |t: &DateTime<FixedOffset>| (t.with_timezone(&chrono::Utc) - inst.t0).num_minutes();
    let mut duty = vec![vec![0.0; inst.intervals.len()]; inst.groups.len()];
    for a in assignments {
        let g = inst.group_index(&a.group).ok_or_else(|| {
            ScheduleError::Internal(format!(
                "agent {} is rostered in group `{}`, which the scenario does not define",
                a.agent, a.group
            ))
        })?;
        for (i, f) in inst.cover(minute(&a.start), minute(&a.end)) {
            duty[g][i] += f;
        }
        for b in &a.breaks {
            for (i, f) in inst.cover(minute(&b.start), minute(&b.end)) {
                duty[g][i] -= f;
            }
        }
    }
    let priority: Vec<u8> = scenario.queues.iter().map(|q| q.priority).collect();
    let (allocation, coverage, _) = extract::coverage(&inst, &priority, &required, &duty);
    Ok((allocation, coverage))
}

fn failure(f: solver::SolveFailure, seconds: f64) -> ScheduleError {
    match f {
        solver::SolveFailure::Infeasible => ScheduleError::Infeasible {
            reasons: vec![
                "the solver proved the model infeasible, but no contract or availability \
                 conflict was found; please report this scenario"
                    .to_string(),
            ],
        },
        solver::SolveFailure::NoSolution => ScheduleError::NoSolution { seconds },
        solver::SolveFailure::Other(m) => ScheduleError::Solver(m),
    }
}

fn order_of(model: &formulation::Model) -> Vec<good_lp::Variable> {
    formulation::variable_order(model)
}

/// An integral plan with its explicit shifts and its cost.
struct Candidate {
    decisions: formulation::Decisions,
    explicit: Vec<extract::ExplicitShift>,
    duty: Vec<Vec<f64>>,
    cost: f64,
}

/// Cost of integral decisions as the plan would be written: paid hours, and the understaffing
/// and overstaffing left after the best allocation.
fn evaluate(
    scenario: &Scenario,
    inst: &Instance,
    model: &formulation::Model,
    required: &[Vec<f64>],
    decisions: formulation::Decisions,
) -> Result<Candidate, ScheduleError> {
    let explicit = extract::explicit_shifts(inst, model, &decisions)?;
    let duty = extract::on_duty(inst, &explicit);
    let priority: Vec<u8> = scenario.queues.iter().map(|q| q.priority).collect();
    let (_, coverage, _) = extract::coverage(inst, &priority, required, &duty);
    let hours = inst.interval_minutes as f64 / 60.0;
    let paid: f64 = explicit
        .iter()
        .map(|sh| {
            let t = &inst.templates[inst.slots[sh.slot].template];
            sh.count as f64 * t.paid_minutes as f64 / 60.0 * inst.groups[sh.group].cost_per_hour
        })
        .sum();
    let under: f64 = coverage.iter().map(|c| c.under).sum::<f64>() * hours;
    let over: f64 = coverage.iter().map(|c| c.over).sum::<f64>() * hours;
    let cost = paid
        + under * scenario.costs.understaffing_per_agent_hour
        + over * scenario.costs.overstaffing_per_agent_hour;
    Ok(Candidate {
        decisions,
        explicit,
        duty,
        cost,
    })
}

/// Values of every model variable for a plan, to start CBC's search from it.
fn mip_start(
    inst: &Instance,
    model: &formulation::Model,
    required: &[Vec<f64>],
    best: &Candidate,
) -> Vec<(good_lp::Variable, f64)> {
    let d = &best.decisions;
    let (z, u) = extract::start_allocation(inst, model, required, &best.duty);
    let values = d
        .shifts
        .iter()
        .map(|&n| n as f64)
        .chain(d.breaks.iter().flat_map(|b| b.iter().map(|&n| n as f64)))
        .chain(d.pools.iter().map(|&n| n as f64))
        .chain(z)
        .chain(u);
    order_of(model).into_iter().zip(values).collect()
}

/// For each group: every agent it can field works the most days allowed in every week (and a
/// temporary group has hired its whole cap).
fn groups_at_max(
    inst: &Instance,
    model: &formulation::Model,
    d: &formulation::Decisions,
) -> Vec<bool> {
    let count: std::collections::HashMap<(usize, usize), u32> = model
        .shifts
        .iter()
        .zip(&d.shifts)
        .map(|(&(g, s, _), &n)| ((g, s), n))
        .collect();
    let mut at_max = vec![true; inst.groups.len()];
    let mut fielded = vec![0u32; inst.groups.len()];
    for ((pool, _), &n) in model.pools.iter().zip(&d.pools) {
        fielded[pool.group] += n;
        if n == 0 {
            continue;
        }
        let contract = &inst.groups[pool.group].contract;
        for week in 0..inst.weeks {
            let worked: u32 = inst
                .week_days(week)
                .into_iter()
                .flat_map(|day| pool.slots_by_day[day].iter())
                .map(|&s| count[&(pool.group, s)])
                .sum();
            if worked < inst.day_bounds(contract, pool.template, week).max_days * n {
                at_max[pool.group] = false;
            }
        }
    }
    for (g, group) in inst.groups.iter().enumerate() {
        if fielded[g] < group.headcount {
            at_max[g] = false;
        }
    }
    at_max
}

/// The plan, its coverage and its summary, from the chosen integral plan.
fn assemble(
    scenario: &Scenario,
    inst: &Instance,
    required: &[Vec<f64>],
    model: &formulation::Model,
    best: Candidate,
    result: &solver::MipResult,
) -> Result<ShiftPlan, ScheduleError> {
    let priority: Vec<u8> = scenario.queues.iter().map(|q| q.priority).collect();
    let (allocation, coverage, under) = extract::coverage(inst, &priority, required, &best.duty);
    let shifts = extract::planned_shifts(inst, &best.explicit);
    let hours = inst.interval_minutes as f64 / 60.0;
    let mut paid_hours = 0.0;
    let mut paid_cost = 0.0;
    let mut paid_hours_by_group: BTreeMap<String, f64> = BTreeMap::new();
    for sh in &best.explicit {
        let t = &inst.templates[inst.slots[sh.slot].template];
        let group = &inst.groups[sh.group];
        let h = sh.count as f64 * t.paid_minutes as f64 / 60.0;
        paid_hours += h;
        paid_cost += h * group.cost_per_hour;
        *paid_hours_by_group.entry(group.id.clone()).or_insert(0.0) += h;
    }
    let under_hours: f64 = coverage.iter().map(|c| c.under).sum::<f64>() * hours;
    let over_hours: f64 = coverage.iter().map(|c| c.over).sum::<f64>() * hours;
    let mut agents_by_group: BTreeMap<String, u32> =
        inst.groups.iter().map(|g| (g.id.clone(), 0)).collect();
    for ((pool, _), &n) in model.pools.iter().zip(&best.decisions.pools) {
        *agents_by_group
            .entry(inst.groups[pool.group].id.clone())
            .or_insert(0) += n;
    }
    let understaffed_intervals = (0..inst.intervals.len())
        .filter(|&i| (0..inst.queues.len()).any(|q| under[q][i] > 0.0))
        .count();
    let at_max = groups_at_max(inst, model, &best.decisions);
    let shortfalls = diagnose::shortfalls(scenario, inst, required, &under, &at_max, result);
    let summary = PlanSummary {
        scenario: scenario.name.clone(),
        status: result.status,
        objective: best.cost,
        best_bound: result.best_bound,
        gap: result.gap(),
        paid_hours,
        paid_cost,
        understaffed_agent_hours: under_hours,
        understaffing_cost: under_hours * scenario.costs.understaffing_per_agent_hour,
        overstaffed_agent_hours: over_hours,
        overstaffing_cost: over_hours * scenario.costs.overstaffing_per_agent_hour,
        shifts: best.explicit.iter().map(|s| s.count).sum(),
        agents_by_group,
        paid_hours_by_group,
        understaffed_intervals,
        solve_seconds: result.seconds,
        lp_seconds: 0.0,
        build_seconds: 0.0,
        integer_variables: 0,
        continuous_variables: 0,
        constraints: 0,
        time_limit_seconds: 0.0,
        requested_gap: 0.0,
        rows_outside_horizon: 0,
        shortfalls,
    };
    Ok(ShiftPlan {
        shifts,
        coverage,
        allocation,
        summary,
    })
}

mod allocate;
#[cfg(feature = "cbc")]
mod clp;
mod extract;
mod improve;
mod rounding;

#[cfg(test)]
mod tests;
