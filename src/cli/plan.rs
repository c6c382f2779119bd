//! `peakcrew plan`: the planner's whole job in one command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Global, NotBuilt};

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
}

pub fn run(_args: PlanArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "plan",
        stage: "end-to-end planning",
        issue: 9,
    }
    .into())
}
