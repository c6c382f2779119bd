//! `peakcrew forecast` and `peakcrew forecast backtest`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{Global, NotBuilt};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ForecastArgs {
    #[command(subcommand)]
    pub backtest: Option<ForecastCommand>,
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// History CSV (default: the scenario's).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// First forecast date (default: the scenario's horizon start).
    #[arg(long)]
    pub start: Option<String>,
    /// Days to forecast (default: the scenario's horizon).
    #[arg(long)]
    pub days: Option<u32>,
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ForecastCommand {
    /// Rolling-origin evaluation against seasonal naive.
    Backtest(BacktestArgs),
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    #[arg(long)]
    pub history: PathBuf,
    #[arg(long, default_value = "15m", value_parser = super::history::parse_interval)]
    pub interval: u32,
    #[arg(long, default_value_t = 14)]
    pub holdout_days: u32,
    #[arg(long, default_value_t = 1)]
    pub origins: u32,
}

pub fn run(_args: ForecastArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "forecast",
        stage: "forecast",
        issue: 4,
    }
    .into())
}
