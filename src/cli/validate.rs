//! `peakcrew validate FILE`: every error in a scenario, with its place.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::{print_json, Global};
use peakcrew_plan::scenario::{Scenario, ScenarioError};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario TOML file.
    pub file: PathBuf,
}

#[derive(Serialize)]
struct Outcome<'a> {
    file: String,
    valid: bool,
    errors: &'a [ScenarioError],
    queues: usize,
    groups: usize,
    headcount: u32,
}

pub fn run(args: ValidateArgs, global: Global) -> anyhow::Result<ExitCode> {
    let file = args.file.display().to_string();
    match Scenario::load(&args.file) {
        Ok(s) => {
            let headcount = s.groups.iter().map(|g| g.headcount).sum();
            if global.json {
                print_json(&Outcome {
                    file,
                    valid: true,
                    errors: &[],
                    queues: s.queues.len(),
                    groups: s.groups.len(),
                    headcount,
                })?;
            } else {
                println!(
                    "{file}: ok — {} queues, {} groups ({headcount} agents), {} shift templates, {} events, {} days from {}",
                    s.queues.len(),
                    s.groups.len(),
                    s.shifts.templates.len(),
                    s.events.len(),
                    s.horizon.days,
                    s.horizon.start
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if global.json {
                print_json(&Outcome {
                    file,
                    valid: false,
                    errors: &e.errors,
                    queues: 0,
                    groups: 0,
                    headcount: 0,
                })?;
            } else {
                eprintln!("{e}");
                eprintln!("{} error(s)", e.errors.len());
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
