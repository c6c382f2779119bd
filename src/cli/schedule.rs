//! `peakcrew schedule` (shift plan by LP/MIP) and `peakcrew roster` (named agents on shifts).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::{load_scenario, print_json, Global};
use peakcrew_plan::schedule::{self, files, RosterOptions, ScheduleOptions};

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
    /// Folder holding schedule.csv (and allocation.csv, for primary skills).
    #[arg(long)]
    pub schedule: PathBuf,
    #[arg(long)]
    pub agents: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Solver time limit in seconds, shared by the groups.
    #[arg(long, default_value_t = 60)]
    pub time_limit: u32,
}

#[derive(Debug, Args)]
pub struct AgentsArgs {
    #[arg(long)]
    pub scenario: PathBuf,
    /// Where to write the agents CSV.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed for names, proficiencies, leave and preferences.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Named agents for every group, headcount for headcount, deterministic in the seed.
pub fn run_agents(args: AgentsArgs, global: Global) -> anyhow::Result<ExitCode> {
    let scenario = load_scenario(&args.scenario)?;
    let agents = schedule::generate_agents(&scenario, args.seed);
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    schedule::write_agents(&agents, std::io::BufWriter::new(file))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    if global.json {
        print_json(&serde_json::json!({ "agents": agents.len(), "out": args.out }))?;
    } else {
        println!("{}: {} agents", args.out.display(), agents.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_schedule(args: ScheduleArgs, global: Global) -> anyhow::Result<ExitCode> {
    if !(0.0..1.0).contains(&args.gap) {
        anyhow::bail!(
            "--gap: expected a fraction from 0 up to 1, found {}",
            args.gap
        );
    }
    let scenario = load_scenario(&args.scenario)?;
    let requirements = peakcrew_plan::staffing::read_requirements(&args.requirements)?;
    let options = ScheduleOptions {
        time_limit_seconds: args.time_limit.max(1) as f64,
        gap: args.gap,
        ..ScheduleOptions::default()
    };
    let plan = schedule::plan_shifts(&scenario, &requirements, &options)
        .with_context(|| format!("{}", args.requirements.display()))?;
    files::write_plan(&plan, &args.out)?;
    let s = &plan.summary;
    if global.json {
        print_json(s)?;
    } else {
        println!(
            "{}: {} shifts, {:.0} paid hours, cost {:.0}; objective {:.0}, bound {}, gap {} ({}, {:.1} s)",
            args.out.display(),
            s.shifts,
            s.paid_hours,
            s.paid_cost,
            s.objective,
            s.best_bound.map_or("unknown".into(), |b| format!("{b:.0}")),
            s.gap.map_or("unknown".into(), |g| format!("{:.2}%", g * 100.0)),
            s.status.as_str(),
            s.solve_seconds
        );
        if s.shortfalls.is_empty() {
            println!("every queue is covered in every interval");
        } else {
            println!(
                "understaffed: {:.1} agent-hours in {} intervals",
                s.understaffed_agent_hours, s.understaffed_intervals
            );
            for f in s.shortfalls.iter().take(20) {
                println!("  {}", f.message);
            }
            if s.shortfalls.len() > 20 {
                println!("  … and {} more in summary.json", s.shortfalls.len() - 20);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_roster(args: RosterArgs, global: Global) -> anyhow::Result<ExitCode> {
    let scenario = load_scenario(&args.scenario)?;
    let shifts = files::read_schedule(&args.schedule.join("schedule.csv"), scenario.time_zone)?;
    let allocation_path = args.schedule.join("allocation.csv");
    let allocation = if allocation_path.exists() {
        files::read_allocation(&allocation_path)?
    } else {
        Vec::new()
    };
    let agents = schedule::read_agents(&args.agents, &scenario)?;
    let options = RosterOptions {
        time_limit_seconds: args.time_limit.max(1) as f64,
        ..RosterOptions::default()
    };
    let roster = schedule::build_roster(&scenario, &shifts, &allocation, &agents, &options)?;
    let produced = scenario.grid().day_start(scenario.horizon.start);
    files::write_roster(&roster, &args.out, produced)?;
    let s = &roster.summary;
    if global.json {
        print_json(s)?;
    } else {
        println!(
            "{}: {} of {} shifts filled by {} of {} agents; {:.0}% in a preferred template, \
             {:.0}% of preferred days off kept, at most {} weekend days and {} night shifts each",
            args.out.display(),
            s.filled_shifts,
            s.planned_shifts,
            s.rostered_agents,
            s.agents,
            s.preferred_template_share * 100.0,
            s.preferred_days_off_kept * 100.0,
            s.max_weekend_days,
            s.max_night_shifts
        );
        for u in &s.unfilled {
            println!(
                "  unfilled: {} {} at {}: {} agent(s) missing — {}",
                u.group,
                u.template,
                u.start.to_rfc3339(),
                u.missing,
                u.reason
            );
        }
        for c in &s.contract_shortfalls {
            println!(
                "  below contract: {} works {:.1} h in week {}, contract minimum {:.1} h",
                c.agent,
                c.hours,
                c.week + 1,
                c.min_weekly_hours
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
