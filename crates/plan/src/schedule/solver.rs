//! One place that hands a good_lp model to the MIP solver and reads back values, status, the
//! objective and the best bound. The shift plan and the roster both solve through here.
//!
//! CBC (`cbc` feature, the default) reports its best bound through
//! `CoinCbcSolution::model().best_possible_value()`; its time limit is whole seconds of wall
//! time (we set `timeMode elapsed`, CBC counts CPU time otherwise). HiGHS (`highs` feature, used
//! only when `cbc` is off) does not expose its dual bound through good_lp, so the bound and gap
//! are reported as unknown there. `PEAKCREW_CBC_LOG=1` shows CBC's own log on stdout.

use std::time::Instant;

use good_lp::{Constraint, Expression, ProblemVariables, Solution, SolverModel, Variable};
use serde::Serialize;

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolveStatus {
    /// Proven optimal (within the solver's tolerances).
    Optimal,
    /// Stopped because the relative gap fell below the requested one.
    GapLimit,
    /// Stopped at the time limit with a feasible solution.
    TimeLimit,
}

impl SolveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SolveStatus::Optimal => "optimal",
            SolveStatus::GapLimit => "gap-limit",
            SolveStatus::TimeLimit => "time-limit",
        }
    }
}

/// Limits for one solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveLimits {
    pub time_limit_seconds: f64,
    /// Relative gap at which the solver may stop.
    pub gap: f64,
    /// Solver threads (CBC: only when the library was built with threads).
    pub threads: u32,
}

/// Values of the variables asked for, with the solve's figures.
#[derive(Debug, Clone)]
pub struct MipResult {
    pub values: Vec<f64>,
    pub status: SolveStatus,
    pub objective: f64,
    pub best_bound: Option<f64>,
    pub seconds: f64,
}

impl MipResult {
    /// Relative gap between the objective and the bound (0 when both are 0).
    pub fn gap(&self) -> Option<f64> {
        let bound = self.best_bound?;
        let denom = self.objective.abs().max(1e-9);
        Some(((self.objective - bound) / denom).max(0.0))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SolveFailure {
    Infeasible,
    /// The time limit passed before any feasible solution was found.
    NoSolution,
    Other(String),
}

/// Solves `minimise objective` subject to `constraints`, returning the values of `wanted`.
/// `start` is a feasible solution the solver may begin from (CBC: its first incumbent).
pub fn minimise(
    vars: ProblemVariables,
    objective: Expression,
    constraints: Vec<Constraint>,
    wanted: &[Variable],
    limits: &SolveLimits,
    start: Option<Vec<(Variable, f64)>>,
) -> Result<MipResult, SolveFailure> {
    let started = Instant::now();
    backend::minimise(vars, objective, constraints, wanted, limits, start, started)
}

/// Solves the LP `minimise objective` (every variable continuous) and returns the values of
/// `wanted`; with CBC, through CLP directly (see [`super::clp`]).
pub fn minimise_lp(
    vars: ProblemVariables,
    objective: Expression,
    constraints: Vec<Constraint>,
    wanted: &[Variable],
    limits: &SolveLimits,
) -> Result<MipResult, SolveFailure> {
    let started = Instant::now();
    #[cfg(feature = "cbc")]
    {
        let (values, objective) = super::clp::minimise(
            &vars,
            &objective,
            &constraints,
            wanted,
            limits.time_limit_seconds,
        )?;
        Ok(MipResult {
            values,
            status: SolveStatus::Optimal,
            objective,
            best_bound: Some(objective),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
    #[cfg(not(feature = "cbc"))]
    backend::minimise(vars, objective, constraints, wanted, limits, None, started)
}

fn failure(e: good_lp::ResolutionError) -> SolveFailure {
    match e {
        good_lp::ResolutionError::Infeasible => SolveFailure::Infeasible,
        other => SolveFailure::Other(other.to_string()),
    }
}

fn status_of(s: good_lp::solvers::SolutionStatus) -> SolveStatus {
    match s {
        good_lp::solvers::SolutionStatus::Optimal => SolveStatus::Optimal,
        good_lp::solvers::SolutionStatus::GapLimit => SolveStatus::GapLimit,
        good_lp::solvers::SolutionStatus::TimeLimit => SolveStatus::TimeLimit,
    }
}

fn read_values(
    solution: &impl Solution,
    objective: &Expression,
    wanted: &[Variable],
) -> (Vec<f64>, f64) {
    let values = wanted.iter().map(|&v| solution.value(v)).collect();
    (values, objective.eval_with(solution))
}

#[cfg(feature = "cbc")]
mod backend {
    use super::*;
    use good_lp::solvers::coin_cbc::coin_cbc;
    use good_lp::{WithInitialSolution, WithMipGap, WithTimeLimit};

    pub fn minimise(
        vars: ProblemVariables,
        objective: Expression,
        constraints: Vec<Constraint>,
        wanted: &[Variable],
        limits: &SolveLimits,
        start: Option<Vec<(Variable, f64)>>,
        started: Instant,
    ) -> Result<MipResult, SolveFailure> {
        let mut model = vars.minimise(objective.clone()).using(coin_cbc);
        model.set_parameter("timeMode", "elapsed");
        if let Some(start) = start {
            model = model.with_initial_solution(start);
        }
        // CBC's own progress log on stdout, for tuning.
        if let Some(level) = std::env::var("PEAKCREW_CBC_LOG")
            .ok()
            .and_then(|l| l.parse().ok())
        {
            model.set_log_level(level);
        }
        if limits.threads > 1 {
            model.set_parameter("threads", &limits.threads.to_string());
        }
        for c in constraints {
            model.add_constraint(c);
        }
        let model = model
            .with_time_limit(limits.time_limit_seconds.max(1.0))
            .with_mip_gap(limits.gap.max(0.0) as f32)
            .map_err(|e| SolveFailure::Other(e.to_string()))?;
        let solution = model.solve().map_err(failure)?;
        let raw = solution.model();
        // CBC leaves its "no incumbent" marker (1e50) as the objective when it stops early.
        if raw.obj_value().abs() >= 1e40 {
            return Err(SolveFailure::NoSolution);
        }
        let status = status_of(good_lp::Solution::status(&solution));
        let (values, value) = read_values(&solution, &objective, wanted);
        let bound = match status {
            SolveStatus::Optimal => value,
            _ => raw.best_possible_value() + good_lp::IntoAffineExpression::constant(&objective),
        };
        Ok(MipResult {
            values,
            status,
            objective: value,
            best_bound: Some(bound.min(value)),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

#[cfg(all(feature = "highs", not(feature = "cbc")))]
mod backend {
    use super::*;
    use good_lp::solvers::highs::highs;
    use good_lp::{WithInitialSolution, WithMipGap, WithTimeLimit};

    pub fn minimise(
        vars: ProblemVariables,
        objective: Expression,
        constraints: Vec<Constraint>,
        wanted: &[Variable],
        limits: &SolveLimits,
        start: Option<Vec<(Variable, f64)>>,
        started: Instant,
    ) -> Result<MipResult, SolveFailure> {
        let mut model = vars
            .minimise(objective.clone())
            .using(highs)
            .set_threads(limits.threads.max(1));
        if let Some(start) = start {
            model = model.with_initial_solution(start);
        }
        for c in constraints {
            model.add_constraint(c);
        }
        let model = model
            .with_time_limit(limits.time_limit_seconds.max(0.1))
            .with_mip_gap(limits.gap.max(0.0) as f32)
            .map_err(|e| SolveFailure::Other(e.to_string()))?;
        let solution = model.solve().map_err(failure)?;
        let status = status_of(good_lp::Solution::status(&solution));
        let (values, value) = read_values(&solution, &objective, wanted);
        Ok(MipResult {
            values,
            status,
            objective: value,
            best_bound: (status == SolveStatus::Optimal).then_some(value),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

#[cfg(not(any(feature = "cbc", feature = "highs")))]
compile_error!("peakcrew needs a MIP solver: enable the `cbc` (default) or `highs` feature");
