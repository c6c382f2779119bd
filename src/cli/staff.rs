//! `peakcrew erlang` (calculator) and `peakcrew staff` (requirements from a forecast).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{print_json, Global, NotBuilt};
use crate::staffing::erlang::{self, Load, Target};

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
    /// Mean wait over all arrivals; null when the queue is unstable (agents ≤ load).
    asa_seconds: Option<f64>,
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
        match out.asa_seconds {
            Some(a) => println!("ASA              {a:.2} s"),
            None => {
                println!("ASA              unbounded: the queue is unstable with this many agents")
            }
        }
        println!("P(wait)          {:.4}", out.p_wait);
        println!("P(abandon)       {:.4}", out.p_abandon);
        println!("occupancy        {:.2}%", out.occupancy * 100.0);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_staff(_args: StaffArgs, _global: Global) -> anyhow::Result<ExitCode> {
    Err(NotBuilt {
        command: "staff",
        stage: "staffing",
        issue: 3,
    }
    .into())
}
