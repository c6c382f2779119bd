//! `peakcrew schedule` (shift plan by LP/MIP) and `peakcrew roster` (named agents on shifts).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Global, NotBuilt};

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[arg(long)]
    pub scenario: PathBuf,
    #[arg(long)]
    pub requirements: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Solver time limit in seconds.
    #[arg(long, default_value_t = 60)]
    pub time_limit: u32,
    /// Relative MIP gap at which to stop.
    #[arg(long, default_value_t = 0.01)]
    pub gap: f64,
}

#[derive(Debug, Args)]
pub struct RosterArgs {
    #[arg(long)]
    pub scenario: PathBuf,
    /// Folder holding schedule.csv.
    #[arg(long)]
    pub schedule: PathBuf,
    #[arg(long)]
    pub agents: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run_schedule(_args: ScheduleArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "schedule",
        stage: "scheduling",
        issue: 5,
    }
    .into())
}

pub fn run_roster(_args: RosterArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "roster",
        stage: "roster",
        issue: 5,
    }
    .into())
}
