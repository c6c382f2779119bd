//! `peakcrew erlang` (calculator) and `peakcrew staff` (requirements from a forecast).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use anyhow::Context;

use super::{load_scenario, print_json, Global};
use peakcrew_plan::staffing::erlang::{self, Load, Target};
use peakcrew_plan::staffing::requirements::{self, IntervalLoad};

#[derive(Debug, Args)]
pub struct ErlangArgs {
    #[arg(long, allow_hyphen_values = true)]
    pub rate_per_hour: f64,
    #[arg(long, allow_hyphen_values = true)]
    pub aht_seconds: f64,
    #[arg(long, allow_hyphen_values = true)]
    pub answer_seconds: f64,
    /// Service-level target as a fraction, e.g. 0.8.
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<f64>,
    #[arg(long, default_value_t = 1.0)]
    pub max_occupancy: f64,
    /// Mean customer patience: switches the model to Erlang A.
    #[arg(long, allow_hyphen_values = true)]
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

/// What the calculator prints.
#[derive(Debug, serde::Serialize)]
struct ErlangOutcome {
    /// `erlang-c`, or `erlang-a` when a patience is given.
    model: &'static str,
    agents: u32,
    service_level: f64,
    service_level_of_served: f64,
    answer_seconds: f64,
    /// Mean wait of answered arrivals; null when the queue is unstable or nobody is answered.
    asa_seconds: Option<f64>,
    /// Mean wait of all arrivals, abandoned ones included; null when unstable (agents ≤ load).
    mean_wait_seconds: Option<f64>,
    p_wait: f64,
    p_abandon: f64,
    occupancy: f64,
    offered_erlangs: f64,
    stable: bool,
    /// The target the staffing was sized for, if any.
    target: Option<f64>,
}

pub fn run_erlang(args: ErlangArgs, global: Global) -> anyhow::Result<ExitCode> {
    let load = Load {
        rate_per_hour: args.rate_per_hour,
        aht_seconds: args.aht_seconds,
    };
    let m = match (args.agents, args.target) {
        (Some(n), _) => match args.patience_seconds {
            Some(p) => erlang::erlang_a_metrics(&load, n, args.answer_seconds, p)?,
            None => erlang::erlang_c_metrics(&load, n, args.answer_seconds)?,
        },
        (None, Some(fraction)) => erlang::required_agents(
            &load,
            &Target::ServiceLevel {
                fraction,
                answer_seconds: args.answer_seconds,
            },
            args.answer_seconds,
            args.max_occupancy,
            args.patience_seconds,
        )?,
        (None, None) => anyhow::bail!(
            "give --target F to size the queue, or --agents N for the service level N agents reach"
        ),
    };
    let out = ErlangOutcome {
        model: if args.patience_seconds.is_some() {
            "erlang-a"
        } else {
            "erlang-c"
        },
        agents: m.agents,
        service_level: m.service_level,
        service_level_of_served: m.service_level_of_served,
        answer_seconds: m.answer_seconds,
        asa_seconds: m.asa_seconds,
        mean_wait_seconds: m.mean_wait_seconds,
        p_wait: m.p_wait,
        p_abandon: m.p_abandon,
        occupancy: m.occupancy,
        offered_erlangs: load.offered_erlangs(),
        stable: m.stable,
        target: if args.agents.is_some() {
            None
        } else {
            args.target
        },
    };
    if global.json {
        print_json(&out)?;
    } else {
        println!("model            {}", out.model);
        println!("offered load     {:.3} erlangs", out.offered_erlangs);
        println!("agents           {}", out.agents);
        println!(
            "service level    {:.2}% answered within {} s{}",
            out.service_level * 100.0,
            out.answer_seconds,
            out.target
                .map_or(String::new(), |t| format!(" (target {:.1}%)", t * 100.0))
        );
        match (out.asa_seconds, out.mean_wait_seconds) {
            (_, None) => {
                println!("ASA              unbounded: the queue is unstable with this many agents")
            }
            (asa, Some(w)) => {
                let asa = asa.map_or("- (nobody is answered)".into(), |a| format!("{a:.2} s"));
                println!("ASA              {asa} (answered contacts)");
                println!("mean wait        {w:.2} s (all contacts, abandoned ones included)");
            }
        }
        println!("P(wait)          {:.4}", out.p_wait);
        println!("P(abandon)       {:.4}", out.p_abandon);
        println!("occupancy        {:.2}%", out.occupancy * 100.0);
    }
    Ok(ExitCode::SUCCESS)
}

/// Per-queue totals of a staffing run, for the summary printout.
#[derive(Debug, serde::Serialize)]
struct QueueSummary {
    queue: String,
    contacts: f64,
    peak_required: u32,
    /// Agent-hours to schedule (after shrinkage) over the horizon.
    required_agent_hours: f64,
    /// Lowest expected service level over intervals with contacts.
    worst_service_level: f64,
}

pub fn run_staff(args: StaffArgs, global: Global) -> anyhow::Result<ExitCode> {
    let scenario = load_scenario(&args.scenario)?;
    let forecast = peakcrew_plan::forecast::read_forecast(&args.forecast)?;
    let loads: Vec<IntervalLoad> = forecast.iter().map(IntervalLoad::from).collect();
    let rows = requirements::requirements(&scenario, &loads)?;
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    peakcrew_plan::staffing::write_requirements(&rows, std::io::BufWriter::new(file))
        .with_context(|| format!("cannot write {}", args.out.display()))?;

    let mut summary: Vec<QueueSummary> = Vec::new();
    for q in &scenario.queues {
        let mine: Vec<_> = rows.iter().filter(|r| r.queue == q.id).collect();
        if mine.is_empty() {
            continue;
        }
        summary.push(QueueSummary {
            queue: q.id.clone(),
            contacts: mine.iter().map(|r| r.contacts).sum(),
            peak_required: mine.iter().map(|r| r.required).max().unwrap_or(0),
            required_agent_hours: mine
                .iter()
                .map(|r| r.required as f64 * r.interval_minutes as f64 / 60.0)
                .sum(),
            worst_service_level: mine
                .iter()
                .filter(|r| r.contacts > 0.0)
                .map(|r| r.service_level)
                .fold(1.0, f64::min),
        });
    }
    if global.json {
        print_json(&serde_json::json!({
            "out": args.out,
            "rows": rows.len(),
            "queues": summary,
        }))?;
    } else {
        println!("wrote {} rows to {}", rows.len(), args.out.display());
        println!(
            "{:<22} {:>10} {:>6} {:>12} {:>9}",
            "queue", "contacts", "peak", "agent-hours", "worst SL"
        );
        for s in &summary {
            println!(
                "{:<22} {:>10.0} {:>6} {:>12.0} {:>8.1}%",
                s.queue,
                s.contacts,
                s.peak_required,
                s.required_agent_hours,
                s.worst_service_level * 100.0
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
