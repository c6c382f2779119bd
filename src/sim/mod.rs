//! Discrete-event simulation of a contact center through the real routing core.
//!
//! The simulator owns simulated time, customers and agents; every routing decision is made by
//! [`crate::routing::Router`], the same code the daemon runs, driven with
//! [`Router::apply_into`](crate::routing::Router::apply_into) and simulated milliseconds. A
//! prediction is therefore a prediction about the real system, policy quirks included.
//!
//! # Inputs
//!
//! - [`ArrivalRate`] rows (a forecast: expected contacts and AHT per queue and interval),
//! - [`RosterShift`] rows (named agents with skills, languages, shift and breaks),
//! - a [`Catalog`] and a [`RoutingPolicy`],
//! - [`SimOptions`]: replications, seed, distributions, agent behaviour and faults.
//!
//! [`simulate`] runs the replications in parallel and returns a [`SimReport`]; [`sweep`] runs a
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
//!   interval's AHT as mean and the configured coefficient of variation. A chat accepted while
//!   the agent holds k chats (this one included) lasts `AHT × (1 + chat_stretch × (k − 1))`
//!   (the staffing module's [`chat_stretch`](crate::staffing::requirements::chat_stretch)).
//!   Wrap-up is the router's (policy `wrap_up`), so its timer is a router deadline.
//! - **Patience** is drawn at arrival from the queue's `patience_seconds` (mean), exponential or
//!   lognormal; a contact still queued or offered (not yet accepted) when it runs out abandons.
//!   Queues without patience wait. A contact that was answered and then requeued (its agent
//!   disconnected) waits without abandoning.
//! - **Agents** log in at shift start with their skills, languages and a capacity whose chat
//!   maximum is the largest `concurrency` of the chat queues they can serve; they go on break
//!   at each break (contacts in hand go on, no new offers), come back, and at shift end stop
//!   taking offers, finish what they hold and log out. An offer is accepted after a delay
//!   (exponential, `accept_delay_seconds` mean); with `no_response_probability` the agent
//!   ignores it, the router's offer timeout requeues it and makes the agent not-responding,
//!   and the agent sets itself available again `not_responding_seconds` later.
//! - **Faults**: with `absence_probability` an agent misses a whole shift; with
//!   `disconnect_probability` per accepted contact the agent's connection drops at a uniform
//!   point of the handle time (it logs out, so the router requeues what it held) and it logs
//!   back in `reconnect_seconds` later if still on shift.
//! - **Router deadlines**: after every step the engine schedules a tick at
//!   [`Router::next_deadline`](crate::routing::Router::next_deadline), so offer timeouts,
//!   relaxation rings, escalations and wrap-up ends happen at their exact times.
//!
//! # Measures and conventions
//!
//! Every contact is counted in the queue and interval it **arrived** in (an escalated contact
//! still counts for its own queue) and judged against that queue's answer time `T`
//! ([`SlaTarget::answer_seconds`](crate::model::SlaTarget::answer_seconds)).
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
//! # Determinism
//!
//! Replication r draws from four ChaCha8 streams (arrivals, patience, handling, agent
//! behaviour) seeded from `(seed, r)`, so the same seed gives the same report byte for byte,
//! whatever the number of threads; variants of a sweep share the streams (common random
//! numbers), so their differences are not drowned in noise. Only [`SimReport::timing`] (wall
//! time, events per second) differs between runs.

mod engine;
mod files;
mod input;
mod queue;
mod stats;
mod vary;
pub mod workload;

pub use files::{
    read_agents, read_roster, roster_from_plan, write_sim_csv, write_sweep_csv, AgentEntry,
    FileError,
};
pub use input::{
    ArrivalRate, HandleTimeDistribution, PatienceDistribution, RosterShift, SimError, SimOptions,
    Span,
};
pub use queue::{simulate_queue, SingleQueue, SINGLE_QUEUE_ID};
pub use stats::{Counters, Estimate, IntervalReport, Metrics, QueueReport, SimReport, Timing};
pub use vary::{parse_grid, AgentChange, Variant, Variation};

use crate::routing::{Catalog, RoutingPolicy};

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
