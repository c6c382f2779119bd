//! `peakcrew plan`: the planner's whole job in one command (`peakcrew_pipeline::run`), with a
//! progress spinner on a terminal and the key figures printed at the end.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use peakcrew_core::routing::RoutingPolicy;

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

impl plan::Progress for Progress {
    fn stage(&mut self, stage: Stage, what: &str) {
        Progress::stage(self, stage, what);
    }
}

pub fn run(args: PlanArgs, global: Global) -> anyhow::Result<ExitCode> {
    let quiet = args.quiet || global.json;
    let mut progress = Progress::new(quiet);
    let scenario = load_scenario(&args.scenario)?;
    let history = scenario_history(&scenario, args.history.clone())?;
    let (policy, policy_source) = match &args.config {
        Some(path) => (
            super::simulate::load_policy(path, &scenario.catalog()).map_err(|e| PlanError {
                stage: Stage::Simulation,
                message: e.to_string(),
            })?,
            path.display().to_string(),
        ),
        None => (RoutingPolicy::default(), "built-in defaults".to_string()),
    };
    let request = plan::PlanRequest {
        history,
        out: args.out.clone(),
        time_limit_seconds: args.time_limit,
        gap: args.gap,
        replications: args.replications,
        seed: args.seed,
        policy,
        policy_source,
    };
    let summary = plan::run(&scenario, &request, &mut progress);
    progress.finish();
    let summary = summary?;
    if global.json {
        print_json(&summary)?;
    } else if !quiet {
        println!(
            "wrote {} into {}",
            summary.files.join(", "),
            args.out.display()
        );
        for (name, value) in &summary.kpi_table {
            println!("  {name:<44} {value}");
        }
        for w in summary.warnings.iter().take(10) {
            println!("  warning: {w}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
