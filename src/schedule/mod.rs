//! Scheduling: the multi-skill shift plan (how many agents of each group work each shift, by
//! LP/MIP), the roster of named agents on those shifts, and the diagnostics that say where and
//! why a plan falls short.
//!
//! # The shift plan as algebra
//!
//! **Sets.** Groups g (a skill set and languages, headcount H_g, hourly cost c_g); queues q, with
//! G(q) = the groups holding q's skill *and* speaking its language and Q(g) the converse;
//! intervals i of length Δ hours over the horizon; plan days d — the horizon's days plus a
//! *lead-in* evening before it, whose only shifts are those reaching past midnight into the first
//! day (so the early hours of day one can be covered); contract weeks w (the lead-in counts in
//! the first). A *slot* σ = (template t, day d, start s) with s on the interval grid within t's
//! start window; a_σi ∈ [0,1] is the share of interval i inside the shift. Break rule k of t may
//! start at offsets [e_k, l_k] from the shift start, on the grid; β_bi is the share of interval i
//! inside a break starting at b. Every template's starts are cut into *start blocks* of span at
//! most 24 h − length − minimum rest, and a *pool* p = (g, t, block) is the set of agents of g who
//! work that block of that template all week.
//!
//! **Variables.**
//! * x_gσ ∈ ℤ₊ — agents of g on slot σ (only templates g may work, on days g is available);
//! * y_gtkdb ∈ ℤ₊ — agents of g on template t, day d, starting break k at time b;
//! * N_p ∈ ℤ₊ — agents in pool p;
//! * z_igq ≥ 0 — agents of g working queue q in interval i (continuous: an agent's time may be
//!   split between the skills it holds, as in Bhulai, Koole & Pot, 2008);
//! * u_iq, o_iq ≥ 0 — agents short of / over the requirement R_iq.
//!
//! **Objective.** min Σ c_g · paid_t · x_gσ + P_u · Δ · Σ u_iq + P_o · Δ · Σ o_iq, with paid_t the
//! template's paid hours (shift less unpaid breaks), P_u = `costs.understaffing_per_agent_hour`
//! and P_o = `costs.overstaffing_per_agent_hour`.
//!
//! **Constraints.**
//! 1. Capacity: Σ_{q∈Q(g)} z_igq = Σ_σ a_σi x_gσ − Σ_{t,k,d,b} β_bi y_gtkdb for every g, i —
//!    every agent on duty and not on break is working some queue it can serve.
//! 2. Coverage: Σ_{g∈G(q)} z_igq + u_iq − o_iq = R_iq for every q, i. Understaffing is always
//!    feasible but costs P_u per agent-hour, so a peak that cannot be covered still gets a plan
//!    that says exactly where it falls short.
//! 3. Breaks (implicit, Bechtold & Jacobs 1990; Aykin 1996 gives the explicit alternative): for
//!    each g, t, k, d, with that day's slots of t in start order j = 1..n and break windows
//!    [E_j, L_j] = [s_j + e_k, s_j + l_k]:
//!    Σ_b y_b = Σ_j x_j;  Σ_{b ≤ L_j} y_b ≥ Σ_{j' ≤ j} x_j' (forward);
//!    Σ_{b ≥ E_j} y_b ≥ Σ_{j' ≥ j} x_j' (backward).
//!    All windows of a template are the same offsets from the start, so they never overlap
//!    extraordinarily and these conditions are exactly those under which the breaks can be
//!    handed to individual shifts ([`breaks::assign_edf`] does it, earliest deadline first).
//!    Implicit breaks need one variable per break *time* instead of one per combination of break
//!    times per shift (5 × 7 = 35 combinations for an early shift here), which keeps the week's
//!    model a few thousand integers smaller and its LP relaxation just as tight.
//! 4. Pools and the labor rules, with X_pd = Σ_{σ ∈ p, day d} x_gσ the pool's shifts on day d:
//!    (a) Σ_p N_p = H_g for a permanent group (every employee's contract binds) and ≤ H_g for a
//!    temporary one (the hiring cap); temporary staff have no slots outside their dates;
//!    (b) X_pd ≤ N_p — at most one shift a day per agent, hence at most H_g agents of g a day;
//!    (c) ℓ_pw N_p ≤ Σ_{d∈w} X_pd ≤ υ_pw N_p with ℓ_pw = ⌈min weekly hours / paid_t⌉ (prorated in
//!    a short last week) and υ_pw = min(⌊max weekly hours / paid_t⌋, 7 − days off, days in w);
//!    (d) Σ_{d=δ..δ+m} X_pd ≤ m N_p for every m + 1 consecutive days, m = max consecutive days
//!    (omitted where (c) implies it);
//!    (e) X_pd + X_p,d+1 ≤ N_p if a template is too long to repeat after the minimum rest.
//!
//! # Why the aggregate plan can always be rostered
//!
//! Within a pool any two shifts on consecutive days leave the minimum rest (that is how start
//! blocks are cut), and an agent never leaves its pool during the week, so rest holds for every
//! agent by construction. Given a pool's daily counts X_pd, hand each day's shifts to the X_pd
//! agents of the pool who have worked the fewest days so far: every agent then works
//! ⌊ΣX/N⌋ or ⌈ΣX/N⌉ days, which by (c) lies in [ℓ, υ] — so each agent's weekly hours are within
//! the contract and each has at least the required days off; with one week (the bundled case)
//! υ ≤ 7 − days off ≤ m also bounds the consecutive days. Breaks are then handed out by EDF (3).
//! The roster ([`roster`]) solves the same assignment as a small MIP per group, exact on every
//! individual rule, to add preferences and fairness — the argument above shows it is feasible
//! when the agents file matches the scenario's headcount and nobody is on leave. Two limits are
//! stated rather than hidden: with several weeks, (d) is only a necessary condition across week
//! boundaries; and rest across a DST change is computed on wall-clock days.
//!
//! # Solver
//!
//! good_lp with CBC by default (`cbc` feature), HiGHS behind the `highs` feature. See
//! [`solver`] for how status, bound and gap are read.

//TMP pub mod agents;
pub mod breaks;
pub mod diagnose;
pub mod files;
mod formulation;
//TMP pub mod ics;
pub mod instance;
//TMP pub mod roster;
pub mod solver;

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use crate::scenario::Scenario;
use crate::staffing::Requirement;

//TMP pub use agents::{generate_agents, read_agents, write_agents, AgentsError};
pub use diagnose::Shortfall;
pub use instance::Instance;
//TMP pub use roster::{build_roster, Roster, RosterOptions};
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
    #[error("the solver found no feasible plan within {seconds:.0} s; raise --time-limit")]
    NoSolution { seconds: f64 },
    #[error("solver failed: {0}")]
    Solver(String),
    #[error("internal check failed: {0}")]
    Internal(String),
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
    pub solve_seconds: f64,
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
    let model = formulation::build(inst, required, prices);
    let integer_variables = model.shifts.len()
        + model
            .breaks
            .iter()
            .map(|b| b.cumulative.len())
            .sum::<usize>()
        + model.pools.len();
    let continuous_variables = model.allocation.len() + model.under.len();
    let constraints = model.constraints.len();
    let build_seconds = started.elapsed().as_secs_f64();
    let limits = SolveLimits {
        time_limit_seconds: options.time_limit_seconds,
        gap: options.gap,
        threads: options.threads,
    };
    let values = formulation::solve(inst, model, &limits).map_err(|f| match f {
        solver::SolveFailure::Infeasible => ScheduleError::Infeasible {
            reasons: vec![
                "the solver proved the model infeasible, but no contract or availability \
                 conflict was found; please report this scenario"
                    .to_string(),
            ],
        },
        solver::SolveFailure::NoSolution => ScheduleError::NoSolution {
            seconds: options.time_limit_seconds,
        },
        solver::SolveFailure::Other(m) => ScheduleError::Solver(m),
    })?;
    let explicit = extract::explicit_shifts(inst, &values)?;
    let mut plan = extract::assemble(scenario, inst, required, &values, &explicit)?;
    plan.summary.build_seconds = build_seconds;
    plan.summary.integer_variables = integer_variables;
    plan.summary.continuous_variables = continuous_variables;
    plan.summary.constraints = constraints;
    plan.summary.time_limit_seconds = options.time_limit_seconds;
    plan.summary.requested_gap = options.gap;
    plan.summary.rows_outside_horizon = rows_outside_horizon;
    Ok(plan)
}

mod extract;
