//! `peakcrew simulate` (a roster through the routing core) and `peakcrew simulate queue`.
//!
//! Scenario mode reads the scenario, the forecast (the forecast stage's reader), the roster and
//! the named agents (the roster stage's readers) or a shift plan, builds the router
//! from `--config` (the daemon's `config/router.toml`; built-in defaults without it), runs the
//! replications, and prints per-queue and overall figures with 95% confidence intervals. By
//! default it simulates under the assumptions the scenario's staffing was sized with: the
//! scenario's shrinkage makes agents miss shifts, and chats last as staffing's concurrency
//! model says (`--no-shrinkage` and `--chat-duration chats-held` turn these off).
//! `--vary` turns the run into a sweep: the baseline and every combination of the variations,
//! compared in one table. `--out DIR` writes `sim.csv` (per queue × interval, the baseline's)
//! and, for a sweep, `sweep.csv`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::{load_scenario, print_json, Global};
use peakcrew_core::routing::{Catalog, RoutingPolicy};
use peakcrew_plan::staffing::erlang::{self, Load};
use peakcrew_sim::{
    self as sim, ArrivalRate, ChatDuration, Counters, Estimate, HandleTimeDistribution, Metrics,
    PatienceDistribution, QueueReport, SimOptions, SimReport, SingleQueue, Timing, Variant,
};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimulateArgs {
    #[command(subcommand)]
    pub queue: Option<SimulateCommand>,
    /// Scenario TOML: queues, targets, patience, groups.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// roster.csv written by `peakcrew roster` (agent,name,group,template,date,start,end,
    /// breaks,primary_skill); needs the agents file it was built from (--agents).
    #[arg(long, conflicts_with = "schedule")]
    pub roster: Option<PathBuf>,
    /// Instead of a roster: a shift plan (schedule.csv), `count` anonymous agents per shift.
    #[arg(long)]
    pub schedule: Option<PathBuf>,
    /// forecast.csv: queue,start,interval_minutes,contacts,aht_seconds,lo80,hi80,lo95,hi95.
    #[arg(long)]
    pub forecast: Option<PathBuf>,
    /// Independent replications, run in parallel, for the 95% confidence intervals.
    #[arg(long, default_value_t = 10)]
    pub replications: u32,
    /// Seed of every random draw: the same seed gives the same results.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// What-if variation, e.g. volume=+30%, agents.GROUP=-10, aht=+10%,
    /// cross-training=GROUP:SKILL:LEVEL; values separated by commas form one axis; repeat for a
    /// grid (every combination is simulated).
    #[arg(long, allow_hyphen_values = true)]
    pub vary: Vec<String>,
    /// Router configuration (its `[policy]` is the routing the daemon runs); built-in defaults
    /// when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Named agents the roster was built from (id,name,group,skills,languages,...): their
    /// skills with proficiency and languages. Defaults to the scenario's `agents_file`.
    #[arg(long)]
    pub agents: Option<PathBuf>,
    /// Directory to write sim.csv (per queue × interval) and, with --vary, sweep.csv.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub behaviour: BehaviourArgs,
}

/// How customers and agents behave (scenario mode).
#[derive(Debug, Args)]
pub struct BehaviourArgs {
    /// Worker threads; 0 uses every core.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    #[arg(long, value_enum, default_value_t = HandleDist::Lognormal)]
    pub handle_time: HandleDist,
    /// Coefficient of variation of handle times.
    #[arg(long, default_value_t = 1.0)]
    pub handle_cv: f64,
    #[arg(long, value_enum, default_value_t = PatienceDist::Exponential)]
    pub patience: PatienceDist,
    /// Coefficient of variation of lognormal patience.
    #[arg(long, default_value_t = 1.0)]
    pub patience_cv: f64,
    /// Variance of a gamma multiplier on each queue-interval rate (0: Poisson arrivals).
    #[arg(long, default_value_t = 0.0)]
    pub overdispersion: f64,
    /// Mean delay before an agent accepts an offer, seconds.
    #[arg(long, default_value_t = 2.0)]
    pub accept_delay_seconds: f64,
    /// Chance that an agent ignores an offer.
    #[arg(long, default_value_t = 0.0)]
    pub no_response: f64,
    /// Chance that an agent misses a shift (a fault, on top of shrinkage).
    #[arg(long, default_value_t = 0.0)]
    pub absence: f64,
    /// Every rostered agent works every shift; by default the scenario's `staffing.shrinkage`
    /// is the chance that an agent misses a shift, as staffing assumed when sizing the plan.
    #[arg(long)]
    pub no_shrinkage: bool,
    /// How long chats last when agents hold several: `queue-concurrency` (staffing's model,
    /// every chat stretched for the queue's concurrency) or `chats-held` (stretched for the
    /// chats the agent holds when it accepts).
    #[arg(long, value_enum, default_value_t = ChatDurationArg::QueueConcurrency)]
    pub chat_duration: ChatDurationArg,
    /// Chance per accepted contact that the agent's connection drops during it.
    #[arg(long, default_value_t = 0.0)]
    pub disconnect: f64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HandleDist {
    Lognormal,
    Gamma,
    Exponential,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChatDurationArg {
    QueueConcurrency,
    ChatsHeld,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PatienceDist {
    Exponential,
    Lognormal,
}

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// One M/M/c(+M) queue with exponential handle times, for checks against theory.
    Queue(QueueArgs),
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Poisson arrival rate, contacts per hour.
    #[arg(long)]
    pub rate_per_hour: f64,
    /// Mean of the exponential handle time, seconds.
    #[arg(long)]
    pub aht_seconds: f64,
    #[arg(long)]
    pub agents: u32,
    /// Service level counts contacts answered within this many seconds.
    #[arg(long)]
    pub answer_seconds: f64,
    /// Mean of exponential patience (Erlang A); without it customers wait (Erlang C).
    #[arg(long)]
    pub patience_seconds: Option<f64>,
    /// Contacts to simulate over all replications (the first 5% of each are warm-up).
    #[arg(long, default_value_t = 100_000)]
    pub contacts: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Independent runs the contacts are split over (for the confidence intervals).
    #[arg(long, default_value_t = 10)]
    pub replications: u32,
    /// Worker threads; 0 uses every core.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

pub fn run(args: SimulateArgs, global: Global) -> anyhow::Result<ExitCode> {
    if let Some(SimulateCommand::Queue(q)) = args.queue {
        return run_queue(q, global);
    }
    let missing: Vec<&str> = [
        ("--scenario", args.scenario.is_none()),
        ("--roster", args.roster.is_none() && args.schedule.is_none()),
        ("--forecast", args.forecast.is_none()),
    ]
    .into_iter()
    .filter(|(_, m)| *m)
    .map(|(f, _)| f)
    .collect();
    let (Some(scenario_path), Some(forecast_path), false) = (
        &args.scenario,
        &args.forecast,
        missing.contains(&"--roster"),
    ) else {
        anyhow::bail!(
            "missing {}: scenario mode needs --scenario S --roster R (or --schedule P) --forecast F (or use `simulate queue`)",
            missing.join(", ")
        );
    };
    let scenario = load_scenario(scenario_path)?;
    let catalog = scenario.catalog();
    let policy = match &args.config {
        Some(path) => load_policy(path, &catalog)?,
        None => RoutingPolicy::default(),
    };
    let rates: Vec<ArrivalRate> = peakcrew_plan::forecast::read_forecast(forecast_path)?
        .iter()
        .map(ArrivalRate::from)
        .collect();
    let roster = match (&args.roster, &args.schedule) {
        (Some(roster_path), _) => {
            let agents_path = args
                .agents
                .clone()
                .or_else(|| scenario.agents_file.as_deref().map(|f| scenario.resolve(f)))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--roster needs the agents file the roster was built from: give --agents, or name it as `agents_file` in the scenario"
                    )
                })?;
            let agents = peakcrew_plan::schedule::read_agents(&agents_path, &scenario)?;
            let assignments =
                peakcrew_plan::schedule::files::read_roster(roster_path, scenario.time_zone)?;
            sim::roster_shifts(&assignments, &agents).with_context(|| {
                format!("{} with {}", roster_path.display(), agents_path.display())
            })?
        }
        (None, Some(plan_path)) => {
            let plan: Vec<_> =
                peakcrew_plan::schedule::files::read_schedule(plan_path, scenario.time_zone)?
                    .into_iter()
                    .map(|(_, shift)| shift)
                    .collect();
            sim::roster_from_plan(&scenario, &plan)
                .with_context(|| plan_path.display().to_string())?
        }
        (None, None) => anyhow::bail!("give --roster R or --schedule P"),
    };
    let b = &args.behaviour;
    let options = SimOptions {
        replications: args.replications,
        seed: args.seed,
        threads: b.threads,
        handle_time: match b.handle_time {
            HandleDist::Lognormal => HandleTimeDistribution::Lognormal,
            HandleDist::Gamma => HandleTimeDistribution::Gamma,
            HandleDist::Exponential => HandleTimeDistribution::Exponential,
        },
        handle_cv: b.handle_cv,
        patience: match b.patience {
            PatienceDist::Exponential => PatienceDistribution::Exponential,
            PatienceDist::Lognormal => PatienceDistribution::Lognormal,
        },
        patience_cv: b.patience_cv,
        overdispersion: b.overdispersion,
        accept_delay_seconds: b.accept_delay_seconds,
        no_response_probability: b.no_response,
        absence_probability: b.absence,
        disconnect_probability: b.disconnect,
        chat_duration: match b.chat_duration {
            ChatDurationArg::QueueConcurrency => ChatDuration::QueueConcurrency,
            ChatDurationArg::ChatsHeld => ChatDuration::ChatsHeld,
        },
        shrinkage: if b.no_shrinkage {
            0.0
        } else {
            scenario.staffing.shrinkage
        },
        ..SimOptions::for_scenario(&scenario)
    };
    let variants = sim::parse_grid(&args.vary)?;
    let results = sim::sweep(&catalog, &policy, &rates, &roster, &options, &variants)?;
    if let Some(dir) = &args.out {
        write_outputs(dir, &results)?;
    }
    if results.len() == 1 {
        let report = &results[0].1;
        if global.json {
            print_json(&JsonReport::new("scenario", report, None))?;
        } else {
            print_report(report, args.config.is_none());
            print_assumptions(&options);
        }
    } else if global.json {
        let variants: Vec<JsonVariant> = results
            .iter()
            .map(|(v, r)| JsonVariant {
                variant: v.label(),
                report: JsonReport::new("scenario", r, None),
            })
            .collect();
        print_json(&JsonSweep {
            variants,
            timing: results[0].1.timing,
        })?;
    } else {
        print_sweep(&results);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the router configuration through the daemon's own reader, so the simulation runs the
/// policy the daemon would (inline or `server.policy_file`), with located errors.
pub(crate) fn load_policy(path: &Path, catalog: &Catalog) -> anyhow::Result<RoutingPolicy> {
    peakcrew_serve::config::load_policy(path, catalog).map_err(|e| anyhow::anyhow!("{e}"))
}

fn write_outputs(dir: &Path, results: &[(Variant, SimReport)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("sim.csv");
    let file =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    sim::write_sim_csv(&results[0].1, std::io::BufWriter::new(file))
        .with_context(|| format!("cannot write {}", path.display()))?;
    if results.len() > 1 {
        let path = dir.join("sweep.csv");
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        sim::write_sweep_csv(results, std::io::BufWriter::new(file))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn run_queue(args: QueueArgs, global: Global) -> anyhow::Result<ExitCode> {
    let queue = SingleQueue {
        rate_per_hour: args.rate_per_hour,
        aht_seconds: args.aht_seconds,
        agents: args.agents,
        answer_seconds: args.answer_seconds,
        patience_seconds: args.patience_seconds,
        contacts: args.contacts,
    };
    let options = SimOptions {
        replications: args.replications,
        seed: args.seed,
        threads: args.threads,
        ..SimOptions::default()
    };
    let report = sim::simulate_queue(&queue, &options)?;
    let load = Load {
        rate_per_hour: args.rate_per_hour,
        aht_seconds: args.aht_seconds,
    };
    let theory = match args.patience_seconds {
        Some(p) => erlang::erlang_a_metrics(&load, args.agents, args.answer_seconds, p),
        None => erlang::erlang_c_metrics(&load, args.agents, args.answer_seconds),
    }
    .ok()
    .map(|m| Theory {
        model: if args.patience_seconds.is_some() {
            "erlang-a"
        } else {
            "erlang-c"
        },
        service_level: m.service_level,
        asa_seconds: m.asa_seconds,
        mean_wait_seconds: m.mean_wait_seconds,
        abandonment_rate: m.p_abandon,
        occupancy: m.occupancy,
    });
    if global.json {
        print_json(&JsonReport::new("queue", &report, theory))?;
    } else {
        print_report(&report, false);
        if let Some(t) = theory {
            println!(
                "{} for comparison: service level {:.4}, ASA {}, mean wait {}, abandonment {:.4}, occupancy {:.4}",
                t.model,
                t.service_level,
                t.asa_seconds.map_or("-".to_string(), |a| format!("{a:.2} s")),
                t.mean_wait_seconds.map_or("unbounded (unstable)".to_string(), |a| format!("{a:.2} s")),
                t.abandonment_rate,
                t.occupancy
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

// ------------------------------------------------------------------------- JSON

/// The figures of the formula the single-queue mode is checked against.
#[derive(Debug, Clone, Copy, Serialize)]
struct Theory {
    model: &'static str,
    service_level: f64,
    asa_seconds: Option<f64>,
    mean_wait_seconds: Option<f64>,
    abandonment_rate: f64,
    occupancy: f64,
}

#[derive(Serialize)]
struct JsonOverall<'a> {
    #[serde(flatten)]
    metrics: &'a Metrics,
    events_per_second: f64,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    mode: &'static str,
    replications: u32,
    seed: u64,
    interval_minutes: u32,
    warmup_intervals: u32,
    overall: JsonOverall<'a>,
    queues: &'a [QueueReport],
    #[serde(skip_serializing_if = "Option::is_none")]
    erlang: Option<Theory>,
    counters: &'a Counters,
    timing: Timing,
}

impl<'a> JsonReport<'a> {
    fn new(mode: &'static str, r: &'a SimReport, erlang: Option<Theory>) -> Self {
        JsonReport {
            mode,
            replications: r.replications,
            seed: r.seed,
            interval_minutes: r.interval_minutes,
            warmup_intervals: r.warmup_intervals,
            overall: JsonOverall {
                metrics: &r.overall,
                events_per_second: r.timing.events_per_second,
            },
            queues: &r.queues,
            erlang,
            counters: &r.counters,
            timing: r.timing,
        }
    }
}

#[derive(Serialize)]
struct JsonVariant<'a> {
    variant: String,
    #[serde(flatten)]
    report: JsonReport<'a>,
}

#[derive(Serialize)]
struct JsonSweep<'a> {
    variants: Vec<JsonVariant<'a>>,
    timing: Timing,
}

// ------------------------------------------------------------------------- text

/// `0.912 ±0.004`, or `0.912` without an interval, or `-` when undefined.
fn fmt_estimate(e: &Option<Estimate>, decimals: usize) -> String {
    match e {
        None => "-".into(),
        Some(e) => match e.half_width() {
            Some(h) => format!("{:.*} ±{:.*}", decimals, e.mean, decimals, h),
            None => format!("{:.*}", decimals, e.mean),
        },
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn metric_row(name: &str, target: Option<f64>, m: &Metrics) -> String {
    format!(
        "{:<22} {:>11} {:>17} {:>6} {:>14} {:>14} {:>15} {:>15} {:>12} {:>10}",
        name,
        thousands(m.offered.round() as u64),
        fmt_estimate(&m.service_level, 3),
        target.map_or("-".into(), |t| format!("{t:.2}")),
        fmt_estimate(&m.asa_seconds, 1),
        fmt_estimate(&m.mean_wait_seconds, 1),
        fmt_estimate(&m.abandonment_rate, 3),
        fmt_estimate(&m.occupancy, 3),
        m.longest_wait_seconds
            .map_or("-".into(), |e| format!("{:.0}", e.mean)),
        m.max_queue_length
            .map_or("-".into(), |e| format!("{:.1}", e.mean)),
    )
}

fn print_report(r: &SimReport, default_policy: bool) {
    println!(
        "{} replication(s), seed {}, {}-minute intervals{}{}",
        r.replications,
        r.seed,
        r.interval_minutes,
        if r.warmup_intervals > 0 {
            format!(", first {} interval(s) as warm-up", r.warmup_intervals)
        } else {
            String::new()
        },
        if default_policy {
            "; routing policy: built-in defaults (give --config config/router.toml for the daemon's)"
        } else {
            ""
        }
    );
    println!(
        "{:<22} {:>11} {:>17} {:>6} {:>14} {:>14} {:>15} {:>15} {:>12} {:>10}",
        "queue",
        "offered",
        "service level",
        "target",
        "ASA s",
        "mean wait s",
        "abandonment",
        "occupancy",
        "longest s",
        "max queue"
    );
    for q in &r.queues {
        println!("{}", metric_row(&q.queue, q.target, &q.metrics));
    }
    println!("{}", metric_row("overall", None, &r.overall));
    println!(
        "offered: mean per replication; service level: answered within the answer time ÷ offered; ASA: mean wait of answered contacts; mean wait: of answered and abandoned ones (definitions: README \"Service metrics\"); ±: 95% confidence half-width across replications"
    );
    let c = &r.counters;
    println!(
        "{} events in {:.2} s ({:.2} M events/s){}",
        thousands(c.events),
        r.timing.wall_seconds,
        r.timing.events_per_second / 1e6,
        if c.rejected_commands > 0 {
            format!(
                "; {} command(s) rejected by the router",
                c.rejected_commands
            )
        } else {
            String::new()
        }
    );
}

/// The modelling assumptions that move the figures most, so a reader can compare them with
/// staffing's.
fn print_assumptions(o: &SimOptions) {
    println!(
        "assumptions: shrinkage {:.0}% (agents miss shifts{}); chats last AHT × (1 + {} × (k − 1)) with k {}",
        o.shrinkage * 100.0,
        if o.shrinkage > 0.0 { ", as staffing assumed" } else { ": off" },
        o.chat_stretch,
        match o.chat_duration {
            ChatDuration::QueueConcurrency => "the queue's concurrency, as staffing assumes",
            ChatDuration::ChatsHeld => "the chats the agent holds",
        }
    );
}

fn print_sweep(results: &[(Variant, SimReport)]) {
    let width = results
        .iter()
        .map(|(v, _)| v.label().chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    println!(
        "{:<width$} {:>11} {:>17} {:>9} {:>14} {:>15} {:>15}",
        "variant", "offered", "service level", "Δ SL", "ASA s", "abandonment", "occupancy"
    );
    let base = results[0].1.overall.service_level.map(|e| e.mean);
    let mut by_queue: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (v, r) in results {
        let m = &r.overall;
        let delta = match (m.service_level, base) {
            (Some(e), Some(b)) => format!("{:+.3}", e.mean - b),
            _ => "-".into(),
        };
        println!(
            "{:<width$} {:>11} {:>17} {:>9} {:>14} {:>15} {:>15}",
            v.label(),
            thousands(m.offered.round() as u64),
            fmt_estimate(&m.service_level, 3),
            delta,
            fmt_estimate(&m.asa_seconds, 1),
            fmt_estimate(&m.abandonment_rate, 3),
            fmt_estimate(&m.occupancy, 3),
        );
        for q in &r.queues {
            by_queue
                .entry(q.queue.as_str())
                .or_default()
                .push(fmt_estimate(&q.metrics.service_level, 3));
        }
    }
    println!();
    println!("service level per queue (columns: variants in the order above)");
    for (queue, values) in by_queue {
        println!("{:<22} {}", queue, values.join("  "));
    }
    println!(
        "{} variants × {} replication(s) in {:.2} s",
        results.len(),
        results[0].1.replications,
        results[0].1.timing.wall_seconds
    );
}
