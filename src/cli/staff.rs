//! `peakcrew erlang` (calculator) and `peakcrew staff` (requirements from a forecast).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Global, NotBuilt};

#[derive(Debug, Args)]
pub struct ErlangArgs {
    #[arg(long)]
    pub rate_per_hour: f64,
    #[arg(long)]
    pub aht_seconds: f64,
    #[arg(long)]
    pub answer_seconds: f64,
    /// Service-level target as a fraction, e.g. 0.8.
    #[arg(long)]
    pub target: Option<f64>,
    #[arg(long, default_value_t = 1.0)]
    pub max_occupancy: f64,
    /// Mean customer patience: switches the model to Erlang A.
    #[arg(long)]
    pub patience_seconds: Option<f64>,
    /// Report the service level reached by this many agents instead of sizing.
    #[arg(long)]
    pub agents: Option<u32>,
}

#[derive(Debug, Args)]
pub struct StaffArgs {
    #[arg(long)]
    pub scenario: PathBuf,
    #[arg(long)]
    pub forecast: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run_erlang(_args: ErlangArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "erlang",
        stage: "staffing",
        issue: 3,
    }
    .into())
}

pub fn run_staff(_args: StaffArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "staff",
        stage: "staffing",
        issue: 3,
    }
    .into())
}
