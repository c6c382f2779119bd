//! Discrete-event simulation of a contact center through the real routing core.
//!
//! The simulator owns simulated time, customers and agents; every routing decision is made by
//! [`peakcrew_core::routing::Router`], the same code the daemon runs, driven with
//! [`Router::apply_into`](peakcrew_core::routing::Router::apply_into) and simulated milliseconds. A
//! prediction is therefore a prediction about the real system, policy quirks included.
//!
//! # Inputs
//!
//! - [`ArrivalRate`] rows (a forecast: expected contacts and AHT per queue and interval),
//! - [`RosterShift`] rows (named agents with skills, languages, shift and breaks),
//! - a [`Catalog`] and a [`RoutingPolicy`],
//! - [`SimOptions`]: replications, seed, distributions, agent behaviour and faults.
//!
//! [`simulate_roster`] and [`simulate_plan`] take the stage files' rows (forecast, roster and
//! agents, or a shift plan) and a scenario; [`write_sim_csv`] writes the per-interval result.
//! Underneath, [`simulate`] runs the replications in parallel and returns a [`SimReport`]; [`sweep`] runs a
//! grid of what-if [`Variation`]s (more volume, fewer agents, longer AHT, cross-training) as
//! one batch; [`simulate_queue`] is the single-queue M/M/c(+M) mode used to check the engine
//! against Erlang C and Erlang A.
//!
//! # Model
//!
//! - **Arrivals** per queue: a non-homogeneous Poisson process, piecewise constant per
//!   interval (rate = contacts / interval length). With `overdispersion = φ > 0` each
//!   queue-interval rate is multiplied by a Gamma(1/φ, φ) draw (mean 1, variance φ), so counts
//!   are negative binomial with variance λ + φλ².
//! - **Handle time** is drawn when the agent accepts: lognormal, gamma or exponential with the
//!   interval's AHT as mean and the configured coefficient of variation. A chat lasts
//!   `AHT × chat_stretch(k)` (the staffing module's
//!   [`chat_stretch`](peakcrew_core::model::chat_stretch), `1 + stretch × (k − 1)`):
//!   by default ([`ChatDuration::QueueConcurrency`]) k is the queue's concurrency, staffing's
//!   own model (an agent is k servers, each chat stretched as if the agent held k); with
//!   [`ChatDuration::ChatsHeld`] k is the chats the agent holds when it accepts, this one
//!   included. Wrap-up is the router's (policy `wrap_up`), so its timer is a router deadline.
//! - **Patience** is drawn at arrival from the queue's `patience_seconds` (mean), exponential or
//!   lognormal; a contact still queued or offered (not yet accepted) when it runs out abandons.
//!   Queues without patience wait. A contact that was answered and then requeued (its agent
//!   disconnected) waits without abandoning.
//! - **Agents** log in at shift start with their skills, languages and a capacity whose maximum
//!   per channel is the largest `concurrency` among the queues of that channel they can serve
//!   (so one mail at a time, as staffing counts it, and three chats where the scenario says
//!   three), the policy's units and costs otherwise; they go on break
//!   at each break (contacts in hand go on, no new offers), come back, and at shift end stop
//!   taking offers, finish what they hold and log out. An offer is accepted after a delay
//!   (exponential, `accept_delay_seconds` mean); with `no_response_probability` the agent
//!   ignores it, the router's offer timeout requeues it and makes the agent not-responding,
//!   and the agent sets itself available again `not_responding_seconds` later.
//! - **Shrinkage** ([`SimOptions::shrinkage`], the scenario's `staffing.shrinkage` with
//!   [`SimOptions::for_scenario`]): staffing schedules `required_raw / (1 − shrinkage)` agents
//!   so that `required_raw` are at work; the simulator makes each rostered shift missed with
//!   probability `shrinkage`, so the same share is at work on average.
//! - **Faults**: with `absence_probability` an agent misses a whole shift; with
//!   `disconnect_probability` per accepted contact the agent's connection drops at a uniform
//!   point of the handle time (it logs out, so the router requeues what it held) and it logs
//!   back in `reconnect_seconds` later if still on shift.
//! - **Router deadlines**: after every step the engine schedules a tick at
//!   [`Router::next_deadline`](peakcrew_core::routing::Router::next_deadline), so offer timeouts,
//!   relaxation rings, escalations and wrap-up ends happen at their exact times.
//!
//! # Measures and conventions
//!
//! Every contact is counted in the queue and interval it **arrived** in (an escalated contact
//! still counts for its own queue) and judged against that queue's answer time `T`
//! ([`SlaTarget::answer_seconds`](peakcrew_core::model::SlaTarget::answer_seconds)).
//! The convention is Erlang A's in `staffing::erlang`, over **all arrivals**:
//!
//! - service level = answered within T / arrivals (abandoned and never-answered contacts count
//!   as not answered);
//! - ASA = mean wait over all arrivals, where the wait of an answered contact runs to its first
//!   accept, of an abandoned one to its abandonment, and of one still waiting when the
//!   simulation ends to that end;
//! - abandon rate = abandoned before any answer / arrivals;
//! - occupancy = share of capacity in use (an agent's used units / its units, integrated over
//!   time; offered, accepted and wrap-up contacts hold units) over the staffed time (logged in
//!   and not on break, or on break but still finishing a contact). Per queue it is taken over
//!   the agents who hold the queue's skill (at any level) and language and may take its
//!   channel, whatever they were busy with;
//! - longest wait = the largest wait among the interval's arrivals; maximum queue length = the
//!   most contacts of the queue waiting (queued, not offered) at once during the interval.
//!
//! Queue and overall figures are ratios of sums over the intervals after the warm-up, not means
//! of interval ratios; the overall longest wait and maximum queue length are the largest of any
//! queue. Across replications each figure has a mean and a 95% Student-t confidence
//! interval (none with a single replication).
//!
//! # Simulation and staffing
//!
//! With [`SimOptions::for_scenario`] the simulator makes staffing's assumptions (shrinkage,
//! chat concurrency and stretch, one mail per agent), and a queue sized by
//! `staffing::requirements` alone simulates at Erlang A's figures for its whole agents (the
//! test `a_queue_sized_by_staffing_simulates_at_its_target` pins this for phone and chat).
//! What still separates a scenario's simulated figures from staffing's promise is real:
//!
//! - **The plan is not the requirement**: integer agents, shift lengths, contracts and
//!   minimum hours put more (or fewer) agents on a queue than required; coverage.csv's `over`
//!   and `under` say where.
//! - **Pooling**: staffing sizes each queue alone; the router lets a multi-skilled agent take
//!   whatever waits. Large pools of chat agents answer almost everyone at the occupancy a
//!   queue-by-queue plan leaves; but deferred work (mail, social) taken by phone agents in a
//!   quiet moment holds them when calls arrive, which costs the phone queue service level.
//! - **What staffing leaves out**: the policy's wrap-up after each contact and the agent's
//!   delay before accepting an offer hold capacity on top of AHT; near full occupancy a few
//!   seconds per contact cost several points of service level.
//! - **Shrinkage is random**: the same share is away on average, but some shifts run short,
//!   and service level falls faster below the plan than it rises above it.
//! - **Handle times** are lognormal by default, not exponential as Erlang assumes.
//!
//! # Determinism
//!
//! Replication r draws from four ChaCha8 streams (arrivals, patience, handling, agent
//! behaviour) seeded from `(seed, r)`, so the same seed gives the same report byte for byte,
//! whatever the number of threads; variants of a sweep share the streams (common random
//! numbers), so their differences are not drowned in noise. Whether an agent misses a shift
//! (shrinkage or the absence fault) is drawn from a hash of a fifth stream's seed, the agent's
//! id and the shift start, so a variant with more or fewer agents keeps everyone else's
//! absences. Only [`SimReport::timing`] (wall
//! time, events per second) differs between runs.

mod engine;
mod files;
mod input;
mod queue;
mod stats;
mod vary;
pub mod workload;

pub use files::{roster_from_plan, roster_shifts, write_sim_csv, write_sweep_csv};
pub use input::{
    ArrivalRate, ChatDuration, HandleTimeDistribution, PatienceDistribution, RosterShift, SimError,
    SimOptions, Span,
};
pub use queue::{simulate_queue, SingleQueue, SINGLE_QUEUE_ID};
pub use stats::{Counters, Estimate, IntervalReport, Metrics, QueueReport, SimReport, Timing};
pub use vary::{parse_grid, AgentChange, Variant, Variation};

use peakcrew_core::model::AgentProfile;
use peakcrew_core::routing::{Catalog, RoutingPolicy};
use peakcrew_plan::forecast::ForecastRow;
use peakcrew_plan::scenario::Scenario;
use peakcrew_plan::schedule::roster::Assignment;
use peakcrew_plan::schedule::PlannedShift;

/// Simulates a scenario's roster against its forecast: the library form of `peakcrew simulate
/// --roster`. `roster` is roster.csv's rows (`schedule::files::read_roster`), `agents` the
/// named agents the roster was built from (`schedule::read_agents`; skills with proficiency
/// and languages come from there). Use [`SimOptions::for_scenario`] for the assumptions the
/// scenario's staffing was sized with (chat stretch, shrinkage).
pub fn simulate_roster(
    scenario: &Scenario,
    forecast: &[ForecastRow],
    roster: &[Assignment],
    agents: &[AgentProfile],
    policy: &RoutingPolicy,
    options: &SimOptions,
) -> Result<SimReport, SimError> {
    let shifts = roster_shifts(roster, agents)?;
    simulate_scenario(scenario, forecast, &shifts, policy, options)
}

/// Simulates a shift plan (schedule.csv's rows, `count` anonymous agents of the group per
/// shift with the group's skills; see [`roster_from_plan`]) against the forecast: what
/// `peakcrew plan` can check before anyone is rostered.
pub fn simulate_plan(
    scenario: &Scenario,
    forecast: &[ForecastRow],
    shifts: &[PlannedShift],
    policy: &RoutingPolicy,
    options: &SimOptions,
) -> Result<SimReport, SimError> {
    let shifts = roster_from_plan(scenario, shifts)?;
    simulate_scenario(scenario, forecast, &shifts, policy, options)
}

fn simulate_scenario(
    scenario: &Scenario,
    forecast: &[ForecastRow],
    shifts: &[RosterShift],
    policy: &RoutingPolicy,
    options: &SimOptions,
) -> Result<SimReport, SimError> {
    let catalog = scenario.catalog();
    let rates: Vec<ArrivalRate> = forecast.iter().map(ArrivalRate::from).collect();
    simulate(&catalog, policy, &rates, shifts, options)
}

/// Simulates `rates` and `roster` through a router built from `policy` and `catalog`, with
/// `options.replications` replications in parallel.
pub fn simulate(
    catalog: &Catalog,
    policy: &RoutingPolicy,
    rates: &[ArrivalRate],
    roster: &[RosterShift],
    options: &SimOptions,
) -> Result<SimReport, SimError> {
    let variant = Variant::baseline();
    let mut reports = sweep(catalog, policy, rates, roster, options, &[variant])?;
    Ok(reports.remove(0).1)
}

/// Simulates every variant (each a set of [`Variation`]s applied to `rates` and `roster`), all
/// replications of all variants as one parallel batch. Returns the variants with their
/// reports, in the order given.
pub fn sweep(
    catalog: &Catalog,
    policy: &RoutingPolicy,
    rates: &[ArrivalRate],
    roster: &[RosterShift],
    options: &SimOptions,
    variants: &[Variant],
) -> Result<Vec<(Variant, SimReport)>, SimError> {
    options.validate()?;
    let prototype = engine::prototype_router(policy, catalog)?;
    let mut models = Vec::with_capacity(variants.len());
    for variant in variants {
        let (rates, roster) = variant.apply(catalog, rates, roster)?;
        let model =
            input::Model::compile(catalog, policy, &prototype, &rates, &roster).map_err(|e| {
                match variant.is_baseline() {
                    true => e,
                    false => SimError::Variant {
                        variant: variant.label(),
                        source: Box::new(e),
                    },
                }
            })?;
        models.push(model);
    }
    let (runs, timing) = engine::run_batch(&prototype, &models, options)?;
    Ok(variants
        .iter()
        .cloned()
        .zip(
            runs.into_iter()
                .zip(&models)
                .map(|(run, model)| stats::report(model, options, run, timing)),
        )
        .collect())
}
