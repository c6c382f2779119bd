//! `peakcrew forecast` and `peakcrew forecast backtest`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::{load_scenario, print_json, Global};
use peakcrew_plan::forecast::{self, BacktestOptions};
use peakcrew_plan::history;

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

pub fn run(args: ForecastArgs, global: Global) -> anyhow::Result<ExitCode> {
    if let Some(ForecastCommand::Backtest(b)) = args.backtest {
        return run_backtest(b, global);
    }
    let scenario_path = args
        .scenario
        .context("--scenario is required (or use `peakcrew forecast backtest`)")?;
    let out = args
        .out
        .context("--out is required: where to write forecast.csv")?;
    let scenario = load_scenario(&scenario_path)?;
    let start = match &args.start {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .with_context(|| format!("--start: expected a date like 2026-11-09, found `{s}`"))?,
        None => scenario.horizon.start,
    };
    let days = args.days.unwrap_or(scenario.horizon.days);
    let history_path = super::scenario_history(&scenario, args.history)?;
    let file = history_path.display().to_string();
    let h = history::read(&history_path)?;
    let fc = forecast::forecast_history(&scenario, &h, &file, start, days)?;
    let f = File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = BufWriter::new(f);
    forecast::write_forecast(&fc.rows, &mut w)
        .with_context(|| format!("cannot write {}", out.display()))?;
    w.flush()?;
    let mut totals: Vec<(String, f64, f64)> = Vec::new();
    for q in &scenario.queues {
        let rows = fc.rows.iter().filter(|r| r.queue == q.id);
        let (c, a) = rows.fold((0.0, 0.0), |(c, a), r| {
            (c + r.contacts, a + r.contacts * r.aht_seconds)
        });
        totals.push((q.id.clone(), c, if c > 0.0 { a / c } else { 0.0 }));
    }
    if global.json {
        print_json(&serde_json::json!({
            "out": out,
            "history": file,
            "start": start,
            "days": days,
            "rows": fc.rows.len(),
            "queues": totals.iter().map(|(q, c, a)| serde_json::json!({
                "queue": q, "contacts": (c * 10.0).round() / 10.0, "aht_seconds": (a * 10.0).round() / 10.0
            })).collect::<Vec<_>>(),
            "warnings": fc.warnings,
        }))?;
    } else {
        for w in &fc.warnings {
            eprintln!("warning: {w}");
        }
        println!(
            "wrote {} rows ({} queues, {days} days from {start}) to {}",
            fc.rows.len(),
            scenario.queues.len(),
            out.display()
        );
        for (q, c, a) in &totals {
            println!("  {q:<22} {c:>10.0} contacts  AHT {a:>6.1} s");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_backtest(args: BacktestArgs, global: Global) -> anyhow::Result<ExitCode> {
    let file = args.history.display().to_string();
    let h = history::read(&args.history)?;
    let bt = forecast::backtest(
        &h,
        &file,
        BacktestOptions {
            interval_minutes: args.interval,
            holdout_days: args.holdout_days,
            origins: args.origins,
        },
    )?;
    if global.json {
        print_json(&bt)?;
        return Ok(ExitCode::SUCCESS);
    }
    for w in &bt.warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "{} origin(s) × {} held-out data days at {} min:",
        bt.origins, bt.holdout_days, bt.interval_minutes
    );
    for w in &bt.windows {
        println!(
            "  trained to {}, scored {} .. {}",
            w.origin, w.first, w.last
        );
    }
    let fmt = |m: Option<f64>| m.map_or("-".to_string(), |v| format!("{v:.3}"));
    println!(
        "{:<24} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>6} {:>6}",
        "queue", "wMAPE", "MASE", "RMSE", "naive", "MASE", "RMSE", "cov80", "cov95"
    );
    let line = |name: &str, s: &forecast::backtest::QueueScores| {
        println!(
            "{:<24} {:>8.4} {:>8} {:>9.2} {:>8.4} {:>8} {:>9.2} {:>6.3} {:>6.3}",
            name,
            s.model.wmape,
            fmt(s.model.mase),
            s.model.rmse,
            s.seasonal_naive.wmape,
            fmt(s.seasonal_naive.mase),
            s.seasonal_naive.rmse,
            s.coverage80,
            s.coverage95
        )
    };
    for (q, s) in &bt.queues {
        line(q, s);
    }
    line("overall", &bt.overall);
    Ok(ExitCode::SUCCESS)
}
