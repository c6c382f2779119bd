//! `peakcrew history generate|import`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{load_scenario, print_json, Global};
use peakcrew_plan::history;

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Write realistic synthetic history for a scenario's queues (same seed, same bytes).
    Generate(GenerateArgs),
    /// Aggregate external interval counts to the scenario's interval, reporting gaps,
    /// duplicates and malformed rows with their line numbers.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(long)]
    pub scenario: PathBuf,
    /// Weeks of history ending the day before the horizon (default: the scenario's).
    #[arg(long)]
    pub weeks: Option<u32>,
    /// Random seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Target interval: 5m, 15m, 30m or 60m.
    #[arg(long, default_value = "15m", value_parser = parse_interval)]
    pub interval: u32,
    /// Write the good rows even when some rows are malformed (they are still reported).
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Input CSV: start,queue,contacts[,aht_seconds].
    pub input: PathBuf,
    /// Output CSV.
    pub output: PathBuf,
}

/// Parses `15m`, `1h` or `15` into minutes.
pub fn parse_interval(s: &str) -> Result<u32, String> {
    let (num, unit) = match s.strip_suffix('m') {
        Some(n) => (n, 1),
        None => match s.strip_suffix('h') {
            Some(n) => (n, 60),
            None => (s, 1),
        },
    };
    let minutes = num
        .parse::<u32>()
        .map_err(|_| format!("expected an interval like 15m or 1h, found `{s}`"))?
        * unit;
    if [5, 10, 15, 20, 30, 60].contains(&minutes) {
        Ok(minutes)
    } else {
        Err(format!(
            "expected 5m, 10m, 15m, 20m, 30m or 60m, found `{s}`"
        ))
    }
}

pub fn run(cmd: HistoryCommand, global: Global) -> anyhow::Result<ExitCode> {
    match cmd {
        HistoryCommand::Generate(a) => {
            let scenario = load_scenario(&a.scenario)?;
            let weeks = a.weeks.unwrap_or(scenario.history.weeks);
            let seed = a.seed.unwrap_or(scenario.history.seed);
            let rows = history::generate(&scenario, weeks, seed);
            write_rows(&a.out, &rows)?;
            if global.json {
                print_json(
                    &serde_json::json!({"out": a.out, "rows": rows.len(), "weeks": weeks, "seed": seed}),
                )?;
            } else {
                println!(
                    "wrote {} rows ({weeks} weeks, seed {seed}) to {}",
                    rows.len(),
                    a.out.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        HistoryCommand::Import(a) => {
            let file = a.input.display().to_string();
            let h = history::read(&a.input)?;
            let (rows, report) = history::aggregate(&h, a.interval, &file)?;
            let refused = !report.malformed.is_empty() && !a.skip_bad_rows;
            if !refused {
                write_rows(&a.output, &rows)?;
            }
            if global.json {
                print_json(&report)?;
            } else {
                eprint!("{report}");
            }
            if refused {
                anyhow::bail!(
                    "{file}: {} malformed row(s), nothing written; fix them or pass --skip-bad-rows",
                    report.malformed.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn write_rows(path: &std::path::Path, rows: &[history::HistoryRow]) -> anyhow::Result<()> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(f);
    history::write(rows, &mut w).with_context(|| format!("cannot write {}", path.display()))?;
    w.flush()?;
    Ok(())
}
