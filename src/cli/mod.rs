//! The command-line front end: argument definitions and one `run` per subcommand.
//!
//! This is the edge where library errors become `anyhow` messages and exit codes. Each stage's
//! arguments live beside its `run` in a file of its own, so a stage's flags and behaviour are read
//! in one place. Every command that prints results accepts the global `--json`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod forecast;
pub mod history;
pub mod loadgen;
pub mod plan;
pub mod schedule;
pub mod serve;
pub mod simulate;
pub mod staff;
pub mod validate;

#[derive(Debug, Parser)]
#[command(
    name = "peakcrew",
    version,
    about = "Skills-based routing and workforce scheduling for contact centers"
)]
pub struct Cli {
    /// Print results as JSON on stdout (for scripts and tests).
    #[arg(long, global = true)]
    pub json: bool,
    /// Log progress to stderr; repeat for more detail (-vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a scenario file and report every error with its line and column.
    Validate(validate::ValidateArgs),
    /// Generate synthetic history for a scenario, or import external interval counts.
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// Forecast contacts and handle time per queue and interval (or backtest the model).
    Forecast(forecast::ForecastArgs),
    /// Erlang C/A calculator: agents needed for a target, or the service level of a staffing.
    Erlang(staff::ErlangArgs),
    /// Agents required per queue and interval for a forecast.
    Staff(staff::StaffArgs),
    /// Shift plan by LP/MIP: how many agents of each group work each shift.
    Schedule(schedule::ScheduleArgs),
    /// Assign named agents to the planned shifts.
    Roster(schedule::RosterArgs),
    /// Generate a named-agents file for a scenario's groups (the roster's input).
    Agents(schedule::AgentsArgs),
    /// Discrete-event simulation of a roster through the routing core.
    Simulate(simulate::SimulateArgs),
    /// The planner's whole job: forecast, staffing, schedule, roster, simulation and report.
    Plan(plan::PlanArgs),
    /// Run the routing daemon.
    Serve(serve::ServeArgs),
    /// Drive a running daemon with a Double-11 surge and report throughput and latency.
    Loadgen(loadgen::LoadgenArgs),
}

/// Options every command can see.
#[derive(Debug, Clone, Copy)]
pub struct Global {
    pub json: bool,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = Global { json: cli.json };
    match cli.command {
        Command::Validate(a) => validate::run(a, global),
        Command::History(c) => history::run(c, global),
        Command::Forecast(a) => forecast::run(a, global),
        Command::Erlang(a) => staff::run_erlang(a, global),
        Command::Staff(a) => staff::run_staff(a, global),
        Command::Schedule(a) => schedule::run_schedule(a, global),
        Command::Roster(a) => schedule::run_roster(a, global),
        Command::Agents(a) => schedule::run_agents(a, global),
        Command::Simulate(a) => simulate::run(a, global),
        Command::Plan(a) => plan::run(a, global),
        Command::Serve(a) => serve::run(a, global),
        Command::Loadgen(a) => loadgen::run(a, global),
    }
}

/// Loads a scenario, turning its error list into one message.
pub fn load_scenario(path: &std::path::Path) -> anyhow::Result<peakcrew_plan::scenario::Scenario> {
    peakcrew_plan::scenario::Scenario::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The history file to use: the one given, else the scenario's, generated on first use (the
/// bundled scenario ships no private data).
pub fn scenario_history(
    scenario: &peakcrew_plan::scenario::Scenario,
    explicit: Option<std::path::PathBuf>,
) -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    use std::io::Write;
    if let Some(p) = explicit {
        return Ok(p);
    }
    let p = scenario.history_path();
    if !p.exists() {
        let rows = peakcrew_plan::history::generate(
            scenario,
            scenario.history.weeks,
            scenario.history.seed,
        );
        let f =
            std::fs::File::create(&p).with_context(|| format!("cannot create {}", p.display()))?;
        let mut w = std::io::BufWriter::new(f);
        peakcrew_plan::history::write(&rows, &mut w)
            .with_context(|| format!("cannot write {}", p.display()))?;
        w.flush()?;
        eprintln!(
            "generated {} weeks of history (seed {}) into {}",
            scenario.history.weeks,
            scenario.history.seed,
            p.display()
        );
    }
    Ok(p)
}
