//! [`run`]: the stages in sequence, each one's files written into the output folder as it
//! finishes, and `summary.json` last. The caller supplies what is wiring, not planning: the
//! loaded scenario, the history file, the routing policy (read by the daemon's own router-file
//! reader, so the simulation routes as the daemon would) and a [`Progress`] sink.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use peakcrew_core::model::AgentProfile;
use peakcrew_core::routing::RoutingPolicy;
use peakcrew_plan::scenario::Scenario;
use peakcrew_plan::{forecast, history, report, schedule, staffing};

use crate::{failed, report_input, PlanError, PlanOutputs, Stage};

/// What a plan is asked for.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The history CSV to forecast from.
    pub history: PathBuf,
    /// Output folder (created if absent).
    pub out: PathBuf,
    /// Solver time limit for the shift plan and for the roster, seconds.
    pub time_limit_seconds: u32,
    /// Relative MIP gap at which the shift plan stops.
    pub gap: f64,
    /// Simulation replications and seed (the seed also generates agents when the scenario names
    /// no agents file).
    pub replications: u32,
    pub seed: u64,
    /// The policy the simulation routes with, and where it came from (for summary.json).
    pub policy: RoutingPolicy,
    pub policy_source: String,
}

/// Where the pipeline says what it is doing.
pub trait Progress {
    /// `stage` starts; `what` says what it does, for a person watching.
    fn stage(&mut self, stage: Stage, what: &str);
}

/// The one object `plan --json` prints and `summary.json` holds.
#[derive(Debug, Serialize)]
pub struct PlanSummary {
    pub scenario: String,
    pub out: PathBuf,
    pub files: Vec<String>,
    pub stages_seconds: Vec<(String, f64)>,
    pub contacts: f64,
    pub required_agent_hours: f64,
    /// The report's KPI table, name → value, so scripts and tests can check it.
    pub kpis: BTreeMap<String, f64>,
    /// The same table in the report's order, each value formatted as the report shows it.
    #[serde(skip)]
    pub kpi_table: Vec<(String, String)>,
    pub schedule: schedule::PlanSummary,
    pub roster: schedule::roster::RosterSummary,
    pub simulation: SimulationSummary,
    /// Every warning of the report, in its order.
    pub warnings: Vec<String>,
}

/// The simulation's figures in summary.json (per interval they are in simulation.csv).
#[derive(Debug, Serialize)]
pub struct SimulationSummary {
    pub replications: u32,
    pub seed: u64,
    /// The router file whose policy the simulation routed with, or "built-in defaults".
    pub routing_policy: String,
    /// Share of rostered shifts missed (the scenario's shrinkage).
    pub shrinkage: f64,
    pub overall: peakcrew_sim::Metrics,
    pub queues: Vec<peakcrew_sim::QueueReport>,
}

/// The files written so far and the time each stage took.
struct Written {
    out: PathBuf,
    files: Vec<String>,
    stages: Vec<(String, f64)>,
    timer: Instant,
}

impl Written {
    fn file(
        &mut self,
        stage: Stage,
        name: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), PlanError> {
        let path = self.out.join(name);
        let cannot = |e: std::io::Error| PlanError {
            stage,
            message: format!("cannot write {}: {e}", path.display()),
        };
        let f = std::fs::File::create(&path).map_err(cannot)?;
        let mut w = std::io::BufWriter::new(f);
        write(&mut w).map_err(cannot)?;
        std::io::Write::flush(&mut w).map_err(cannot)?;
        self.files.push(name.to_string());
        Ok(())
    }

    fn lap(&mut self, stage: Stage) {
        self.stages
            .push((stage.name().to_string(), self.timer.elapsed().as_secs_f64()));
        self.timer = Instant::now();
    }
}

/// Runs every stage on `scenario` and writes forecast.csv, requirements.csv, schedule.csv,
/// coverage.csv, allocation.csv, (agents.csv,) roster.csv, roster-summary.json, calendars/,
/// simulation.csv, report.html and summary.json into `request.out`. A failure names its stage.
pub fn run(
    scenario: &Scenario,
    request: &PlanRequest,
    progress: &mut dyn Progress,
) -> Result<PlanSummary, PlanError> {
    let out = &request.out;
    std::fs::create_dir_all(out).map_err(|e| PlanError {
        stage: Stage::Forecast,
        message: format!("cannot create {}: {e}", out.display()),
    })?;
    let mut w = Written {
        out: out.clone(),
        files: Vec::new(),
        stages: Vec::new(),
        timer: Instant::now(),
    };

    progress.stage(Stage::Forecast, "reading history and forecasting");
    let history = history::read(&request.history).map_err(failed(Stage::Forecast))?;
    let fc = forecast::forecast_history(
        scenario,
        &history,
        &request.history.display().to_string(),
        scenario.horizon.start,
        scenario.horizon.days,
    )
    .map_err(failed(Stage::Forecast))?;
    w.file(Stage::Forecast, "forecast.csv", |f| {
        forecast::write_forecast(&fc.rows, f)
    })?;
    w.lap(Stage::Forecast);

    progress.stage(Stage::Staffing, "sizing every queue and interval");
    let loads: Vec<staffing::requirements::IntervalLoad> = fc.rows.iter().map(Into::into).collect();
    let reqs =
        staffing::requirements::requirements(scenario, &loads).map_err(failed(Stage::Staffing))?;
    w.file(Stage::Staffing, "requirements.csv", |f| {
        staffing::write_requirements(&reqs, f)
    })?;
    w.lap(Stage::Staffing);

    progress.stage(Stage::Schedule, "solving the shift plan (LP/MIP, CBC)");
    let options = schedule::ScheduleOptions {
        time_limit_seconds: request.time_limit_seconds as f64,
        gap: request.gap,
        ..Default::default()
    };
    let shift_plan =
        schedule::plan_shifts(scenario, &reqs, &options).map_err(failed(Stage::Schedule))?;
    schedule::files::write_plan(&shift_plan, out).map_err(failed(Stage::Schedule))?;
    w.files
        .extend(["schedule.csv", "coverage.csv", "allocation.csv"].map(String::from));
    w.lap(Stage::Schedule);

    progress.stage(Stage::Roster, "assigning named agents to the shifts");
    let agents = plan_agents(scenario, request.seed, &mut w)?;
    // build_roster names schedule.csv lines in its messages: line 1 is the header.
    let planned: Vec<(usize, schedule::PlannedShift)> = shift_plan
        .shifts
        .iter()
        .cloned()
        .enumerate()
        .map(|(n, s)| (n + 2, s))
        .collect();
    let roster_options = schedule::RosterOptions {
        time_limit_seconds: request.time_limit_seconds.max(1) as f64,
        ..Default::default()
    };
    let roster = schedule::build_roster(
        scenario,
        &planned,
        &shift_plan.allocation,
        &agents,
        &roster_options,
    )
    .map_err(failed(Stage::Roster))?;
    let produced = scenario.grid().day_start(scenario.horizon.start);
    schedule::files::write_roster(&roster, out, produced).map_err(failed(Stage::Roster))?;
    // What is published is the roster, so coverage.csv and allocation.csv say what it delivers.
    let (allocation, coverage) = schedule::roster_coverage(scenario, &reqs, &roster.assignments)
        .map_err(failed(Stage::Roster))?;
    schedule::files::write_coverage(&coverage, &allocation, out).map_err(failed(Stage::Roster))?;
    w.files
        .extend(["roster.csv", "roster-summary.json", "calendars/"].map(String::from));
    w.lap(Stage::Roster);

    progress.stage(
        Stage::Simulation,
        "replaying the roster through the routing core",
    );
    let sim_options = peakcrew_sim::SimOptions {
        replications: request.replications,
        seed: request.seed,
        ..peakcrew_sim::SimOptions::for_scenario(scenario)
    };
    let simulation = peakcrew_sim::simulate_roster(
        scenario,
        &fc.rows,
        &roster.assignments,
        &agents,
        &request.policy,
        &sim_options,
    )
    .map_err(failed(Stage::Simulation))?;
    w.file(Stage::Simulation, "simulation.csv", |f| {
        peakcrew_sim::write_sim_csv(&simulation, f)
    })?;
    w.lap(Stage::Simulation);

    progress.stage(Stage::Report, "writing report.html");
    let outputs = PlanOutputs {
        scenario,
        history: &history,
        forecast: &fc,
        requirements: &reqs,
        shifts: &shift_plan,
        roster: &roster,
        coverage: &coverage,
        simulation: &simulation,
    };
    let input = report_input(&outputs);
    w.file(Stage::Report, "report.html", |f| {
        f.write_all(report::render_html(&input).as_bytes())
    })?;
    w.lap(Stage::Report);

    w.files.push("summary.json".into());
    let summary = PlanSummary {
        scenario: scenario.name.clone(),
        out: out.clone(),
        files: w.files,
        stages_seconds: w.stages,
        contacts: fc.rows.iter().map(|r| r.contacts).sum(),
        required_agent_hours: reqs
            .iter()
            .map(|r| r.required as f64 * r.interval_minutes as f64 / 60.0)
            .sum(),
        kpis: input
            .kpis
            .iter()
            .map(|k| (k.name.clone(), k.value))
            .collect(),
        kpi_table: input
            .kpis
            .iter()
            .map(|k| (k.name.clone(), report::kpi_value(&k.format, k.value)))
            .collect(),
        schedule: shift_plan.summary.clone(),
        roster: roster.summary.clone(),
        simulation: SimulationSummary {
            replications: simulation.replications,
            seed: simulation.seed,
            routing_policy: request.policy_source.clone(),
            shrinkage: sim_options.shrinkage,
            overall: simulation.overall.clone(),
            queues: simulation.queues.clone(),
        },
        warnings: input.warnings.iter().map(|w| w.message.clone()).collect(),
    };
    write_summary(&summary, &out.join("summary.json"))?;
    Ok(summary)
}

fn write_summary(summary: &PlanSummary, path: &Path) -> Result<(), PlanError> {
    let fail = |message: String| PlanError {
        stage: Stage::Report,
        message,
    };
    let json = serde_json::to_string_pretty(summary).map_err(|e| fail(e.to_string()))?;
    std::fs::write(path, json + "\n")
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))
}

/// The named agents to roster: the scenario's agents file, or, when it names none, agents
/// generated from its groups (written to agents.csv so the roster can be read against them).
fn plan_agents(
    scenario: &Scenario,
    seed: u64,
    w: &mut Written,
) -> Result<Vec<AgentProfile>, PlanError> {
    if let Some(file) = &scenario.agents_file {
        let path = scenario.resolve(file);
        return schedule::read_agents(&path, scenario).map_err(failed(Stage::Roster));
    }
    let agents = schedule::generate_agents(scenario, seed);
    w.file(Stage::Roster, "agents.csv", |f| {
        schedule::write_agents(&agents, f)
    })?;
    Ok(agents)
}
