//! `peakcrew serve`: the routing daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Global, NotBuilt};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "config/router.toml")]
    pub config: PathBuf,
    /// Validate the configuration and exit.
    #[arg(long)]
    pub check_config: bool,
}

pub fn run(_args: ServeArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "serve",
        stage: "routing daemon",
        issue: 8,
    }
    .into())
}
