//! `peakcrew plan`: the planner's whole job in one command, writing every stage's file and the
//! report into the output folder.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{load_scenario, print_json, scenario_history, Global};
use peakcrew_pipeline::{self as plan, PlanError, Stage};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Scenario TOML file.
    pub scenario: PathBuf,
    /// History CSV (default: the scenario's, generated when absent).
    #[arg(long)]
    pub history: Option<PathBuf>,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// No progress bars or stage messages.
    #[arg(long)]
    pub quiet: bool,
    /// Solver time limit for the shift plan, in seconds.
    #[arg(long, default_value_t = 60)]
    pub time_limit: u32,
    /// Relative MIP gap at which the shift plan stops.
    #[arg(long, default_value_t = 0.01)]
    pub gap: f64,
    /// Simulation replications (run in parallel on all cores).
    #[arg(long, default_value_t = 4)]
    pub replications: u32,
    /// Router configuration whose `[policy]` the simulation routes with (the daemon's
    /// `config/router.toml`); built-in defaults without it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Shows what stage is running: a spinner on a terminal, a line otherwise, nothing when quiet.
struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    started: Instant,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Progress {
            bar: None,
            quiet,
            started: Instant::now(),
        }
    }

    fn stage(&mut self, stage: Stage, what: &str) {
        self.finish();
        if self.quiet {
            return;
        }
        self.started = Instant::now();
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:>10} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(stage.name());
            bar.set_message(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            self.bar = Some(bar);
        } else {
            eprintln!("{:>10}: {what}", stage.name());
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            eprintln!(
                "{:>10}: done in {:.1} s",
                bar.prefix(),
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// The one object `--json` prints and `summary.json` holds.
#[derive(Debug, Serialize)]
pub struct PlanSummaryOut {
    pub scenario: String,
    pub out: PathBuf,
    pub files: Vec<String>,
    pub stages_seconds: Vec<(String, f64)>,
    pub contacts: f64,
    pub required_agent_hours: f64,
    /// The report's KPI table, name → value, so scripts and tests can check it.
    pub kpis: std::collections::BTreeMap<String, f64>,
    pub schedule: peakcrew_plan::schedule::PlanSummary,
    pub roster: peakcrew_plan::schedule::roster::RosterSummary,
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

fn write_file(
    dir: &Path,
    name: &str,
    files: &mut Vec<String>,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let path = dir.join(name);
    let f = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    write(&mut w).with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::flush(&mut w).with_context(|| format!("cannot write {}", path.display()))?;
    files.push(name.to_string());
    Ok(())
}

/// The named agents to roster: the scenario's agents file, or, when it names none, agents
/// generated from its groups (written to agents.csv so the roster can be read against them).
fn plan_agents(
    scenario: &peakcrew_plan::scenario::Scenario,
    args: &PlanArgs,
    files: &mut Vec<String>,
) -> anyhow::Result<Vec<peakcrew_core::model::AgentProfile>> {
    if let Some(file) = &scenario.agents_file {
        let path = scenario.resolve(file);
        return Ok(peakcrew_plan::schedule::read_agents(&path, scenario)?);
    }
    let agents = peakcrew_plan::schedule::generate_agents(scenario, args.seed);
    write_file(&args.out, "agents.csv", files, |w| {
        peakcrew_plan::schedule::write_agents(&agents, w)
    })?;
    Ok(agents)
}

pub fn run(args: PlanArgs, global: Global) -> anyhow::Result<ExitCode> {
    let quiet = args.quiet || global.json;
    let mut progress = Progress::new(quiet);
    let scenario = load_scenario(&args.scenario)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut files = Vec::new();
    let mut stages = Vec::new();
    let mut timer = Instant::now();
    let mut lap = |stage: Stage, stages: &mut Vec<(String, f64)>| {
        stages.push((stage.name().to_string(), timer.elapsed().as_secs_f64()));
        timer = Instant::now();
    };

    progress.stage(Stage::Forecast, "reading history and forecasting");
    let history_path = scenario_history(&scenario, args.history.clone())?;
    let history = peakcrew_plan::history::read(&history_path).map_err(|e| PlanError {
        stage: Stage::Forecast,
        message: e.to_string(),
    })?;
    let fc = peakcrew_plan::forecast::forecast_history(
        &scenario,
        &history,
        &history_path.display().to_string(),
        scenario.horizon.start,
        scenario.horizon.days,
    )
    .map_err(|e| PlanError {
        stage: Stage::Forecast,
        message: e.to_string(),
    })?;
    write_file(&args.out, "forecast.csv", &mut files, |w| {
        peakcrew_plan::forecast::write_forecast(&fc.rows, w)
    })?;
    lap(Stage::Forecast, &mut stages);

    progress.stage(Stage::Staffing, "sizing every queue and interval");
    let loads: Vec<peakcrew_plan::staffing::requirements::IntervalLoad> =
        fc.rows.iter().map(Into::into).collect();
    let reqs =
        peakcrew_plan::staffing::requirements::requirements(&scenario, &loads).map_err(|e| {
            PlanError {
                stage: Stage::Staffing,
                message: e.to_string(),
            }
        })?;
    write_file(&args.out, "requirements.csv", &mut files, |w| {
        peakcrew_plan::staffing::write_requirements(&reqs, w)
    })?;
    lap(Stage::Staffing, &mut stages);

    progress.stage(Stage::Schedule, "solving the shift plan (LP/MIP, CBC)");
    let options = peakcrew_plan::schedule::ScheduleOptions {
        time_limit_seconds: args.time_limit as f64,
        gap: args.gap,
        ..Default::default()
    };
    let shift_plan =
        peakcrew_plan::schedule::plan_shifts(&scenario, &reqs, &options).map_err(|e| {
            PlanError {
                stage: Stage::Schedule,
                message: e.to_string(),
            }
        })?;
    peakcrew_plan::schedule::files::write_plan(&shift_plan, &args.out).map_err(|e| PlanError {
        stage: Stage::Schedule,
        message: e.to_string(),
    })?;
    files.extend(["schedule.csv", "coverage.csv", "allocation.csv"].map(String::from));
    lap(Stage::Schedule, &mut stages);

    progress.stage(Stage::Roster, "assigning named agents to the shifts");
    let stage_err = |stage: Stage| {
        move |e: &dyn std::fmt::Display| PlanError {
            stage,
            message: e.to_string(),
        }
    };
    let agents =
        plan_agents(&scenario, &args, &mut files).map_err(|e| stage_err(Stage::Roster)(&e))?;
    // build_roster names schedule.csv lines in its messages: line 1 is the header.
    let planned: Vec<(usize, peakcrew_plan::schedule::PlannedShift)> = shift_plan
        .shifts
        .iter()
        .cloned()
        .enumerate()
        .map(|(n, s)| (n + 2, s))
        .collect();
    let roster_options = peakcrew_plan::schedule::RosterOptions {
        time_limit_seconds: args.time_limit.max(1) as f64,
        ..Default::default()
    };
    let roster = peakcrew_plan::schedule::build_roster(
        &scenario,
        &planned,
        &shift_plan.allocation,
        &agents,
        &roster_options,
    )
    .map_err(|e| stage_err(Stage::Roster)(&e))?;
    let produced = scenario.grid().day_start(scenario.horizon.start);
    peakcrew_plan::schedule::files::write_roster(&roster, &args.out, produced)
        .map_err(|e| stage_err(Stage::Roster)(&e))?;
    // What is published is the roster, so coverage.csv and allocation.csv say what it delivers.
    let (allocation, coverage) =
        peakcrew_plan::schedule::roster_coverage(&scenario, &reqs, &roster.assignments)
            .map_err(|e| stage_err(Stage::Roster)(&e))?;
    peakcrew_plan::schedule::files::write_coverage(&coverage, &allocation, &args.out)
        .map_err(|e| stage_err(Stage::Roster)(&e))?;
    files.extend(["roster.csv", "roster-summary.json", "calendars/"].map(String::from));
    lap(Stage::Roster, &mut stages);

    progress.stage(
        Stage::Simulation,
        "replaying the roster through the routing core",
    );
    let catalog = scenario.catalog();
    let policy = match &args.config {
        Some(path) => super::simulate::load_policy(path, &catalog)
            .map_err(|e| stage_err(Stage::Simulation)(&e))?,
        None => peakcrew_core::routing::RoutingPolicy::default(),
    };
    let sim_options = peakcrew_sim::SimOptions {
        replications: args.replications,
        seed: args.seed,
        ..peakcrew_sim::SimOptions::for_scenario(&scenario)
    };
    let simulation = peakcrew_sim::simulate_roster(
        &scenario,
        &fc.rows,
        &roster.assignments,
        &agents,
        &policy,
        &sim_options,
    )
    .map_err(|e| stage_err(Stage::Simulation)(&e))?;
    write_file(&args.out, "simulation.csv", &mut files, |w| {
        peakcrew_sim::write_sim_csv(&simulation, w)
    })?;
    lap(Stage::Simulation, &mut stages);

    progress.stage(Stage::Report, "writing report.html");
    let outputs = plan::PlanOutputs {
        scenario: &scenario,
        history: &history,
        forecast: &fc,
        requirements: &reqs,
        shifts: &shift_plan,
        roster: &roster,
        coverage: &coverage,
        simulation: &simulation,
    };
    let input = plan::report_input(&outputs);
    write_file(&args.out, "report.html", &mut files, |w| {
        w.write_all(peakcrew_plan::report::render_html(&input).as_bytes())
    })?;
    lap(Stage::Report, &mut stages);
    progress.finish();

    let summary = PlanSummaryOut {
        scenario: scenario.name.clone(),
        out: args.out.clone(),
        files: {
            files.push("summary.json".into());
            files
        },
        stages_seconds: stages,
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
        schedule: shift_plan.summary.clone(),
        roster: roster.summary.clone(),
        simulation: SimulationSummary {
            replications: simulation.replications,
            seed: simulation.seed,
            routing_policy: args
                .config
                .as_ref()
                .map_or("built-in defaults".to_string(), |p| p.display().to_string()),
            shrinkage: sim_options.shrinkage,
            overall: simulation.overall.clone(),
            queues: simulation.queues.clone(),
        },
        warnings: input.warnings.iter().map(|w| w.message.clone()).collect(),
    };
    let json = serde_json::to_string_pretty(&summary)?;
    std::fs::write(args.out.join("summary.json"), json + "\n")
        .with_context(|| format!("cannot write {}", args.out.join("summary.json").display()))?;
    if global.json {
        print_json(&summary)?;
    } else if !quiet {
        println!(
            "wrote {} into {}",
            summary.files.join(", "),
            args.out.display()
        );
        for k in &input.kpis {
            println!(
                "  {:<44} {}",
                k.name,
                peakcrew_plan::report::kpi_value(&k.format, k.value)
            );
        }
        for w in input.warnings.iter().take(10) {
            println!("  warning: {}", w.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}
