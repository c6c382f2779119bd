//! `peakcrew simulate` (a roster through the routing core) and `peakcrew simulate queue`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{Global, NotBuilt};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimulateArgs {
    #[command(subcommand)]
    pub queue: Option<SimulateCommand>,
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    #[arg(long)]
    pub roster: Option<PathBuf>,
    #[arg(long)]
    pub forecast: Option<PathBuf>,
    #[arg(long, default_value_t = 10)]
    pub replications: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// What-if variation, e.g. volume=+30%, agents.GROUP=-10, aht=+10%; repeat for a sweep.
    #[arg(long)]
    pub vary: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// One M/M/c(+M) queue with exponential handle times, for checks against theory.
    Queue(QueueArgs),
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    #[arg(long)]
    pub rate_per_hour: f64,
    #[arg(long)]
    pub aht_seconds: f64,
    #[arg(long)]
    pub agents: u32,
    #[arg(long)]
    pub answer_seconds: f64,
    #[arg(long)]
    pub patience_seconds: Option<f64>,
    #[arg(long, default_value_t = 100_000)]
    pub contacts: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(_args: SimulateArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "simulate",
        stage: "simulation",
        issue: 7,
    }
    .into())
}
