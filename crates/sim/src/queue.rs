//! Single-queue mode: one phone queue with Poisson arrivals at a constant rate, exponential
//! handle times, `agents` identical agents and optional exponential patience — M/M/c or
//! M/M/c+M — run through the same router and engine as a scenario, so it checks the whole
//! simulator against Erlang C and Erlang A (`staffing::erlang`).
//!
//! Each replication simulates `contacts / replications` expected arrivals over whole 15-minute
//! intervals; the first 5% of the intervals (at least one) are a warm-up left out of the
//! figures, so they estimate the steady state the formulas describe (the ciw reference script
//! drops the same 5%). Agents stay logged in until every contact is served, the router has no
//! wrap-up, and agents accept offers at once, so the wait is the queueing delay alone.

use chrono::{DateTime, Duration};

use super::input::{
    ArrivalRate, HandleTimeDistribution, PatienceDistribution, RosterShift, SimError, SimOptions,
};
use super::stats::SimReport;
use peakcrew_core::model::{
    Channel, IntradayProfile, Language, Proficiency, Queue, Skill, SkillLevel, SlaTarget,
    VolumeProfile,
};
use peakcrew_core::routing::{Catalog, PerChannel, RoutingPolicy};

/// The queue's id in the report.
pub const SINGLE_QUEUE_ID: &str = "queue";
const INTERVAL_MINUTES: u32 = 15;

/// One M/M/c(+M) queue.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleQueue {
    pub rate_per_hour: f64,
    pub aht_seconds: f64,
    pub agents: u32,
    pub answer_seconds: f64,
    /// Mean of exponential patience; `None`: customers wait (Erlang C).
    pub patience_seconds: Option<f64>,
    /// Expected arrivals over all replications, warm-up included.
    pub contacts: u64,
}

impl SingleQueue {
    fn validate(&self) -> Result<(), SimError> {
        let bad = |field: &'static str, expected: &str, value: f64| {
            Err(SimError::Option {
                field,
                message: format!("expected {expected}, found {value}"),
            })
        };
        if !(self.rate_per_hour.is_finite()
            && self.rate_per_hour > 0.0
            && self.rate_per_hour <= 1e7)
        {
            return bad(
                "rate_per_hour",
                "more than 0 and at most 1e7 contacts per hour",
                self.rate_per_hour,
            );
        }
        if !(self.aht_seconds.is_finite() && self.aht_seconds > 0.0 && self.aht_seconds <= 1e6) {
            return bad(
                "aht_seconds",
                "more than 0 and at most 1e6 seconds",
                self.aht_seconds,
            );
        }
        if self.agents == 0 || self.agents > 100_000 {
            return bad("agents", "1 to 100000", f64::from(self.agents));
        }
        if !(self.answer_seconds.is_finite()
            && self.answer_seconds >= 0.0
            && self.answer_seconds <= 1e7)
        {
            return bad("answer_seconds", "0 to 1e7 seconds", self.answer_seconds);
        }
        if let Some(p) = self.patience_seconds {
            if !(p.is_finite() && p > 0.0 && p <= 1e9) {
                return bad("patience_seconds", "more than 0 and at most 1e9 seconds", p);
            }
        }
        if self.contacts == 0 || self.contacts > 1_000_000_000 {
            return bad("contacts", "1 to 1e9", self.contacts as f64);
        }
        Ok(())
    }
}

/// Simulates the queue with `options.replications`, `seed` and `threads`; the behavioural
/// options are fixed by the model (exponential handle times and patience, immediate accepts,
/// no faults, Poisson arrivals, 5% warm-up).
pub fn simulate_queue(queue: &SingleQueue, options: &SimOptions) -> Result<SimReport, SimError> {
    queue.validate()?;
    options.validate()?;
    let per_rep = queue.contacts as f64 / f64::from(options.replications);
    let per_interval = queue.rate_per_hour * f64::from(INTERVAL_MINUTES) / 60.0;
    let intervals = (per_rep / per_interval).round().max(1.0);
    if intervals > 5_000_000.0 {
        return Err(SimError::TooLarge(format!(
            "{intervals} intervals of {INTERVAL_MINUTES} minutes per replication"
        )));
    }
    let intervals = intervals as u32;
    let warmup = (f64::from(intervals) * 0.05).ceil().max(1.0) as u32;
    let warmup = if warmup >= intervals { 0 } else { warmup };

    let skill = Skill::new("service");
    let language = Language::new("any");
    let q = Queue {
        id: SINGLE_QUEUE_ID.into(),
        name: "M/M/c queue".into(),
        channel: Channel::Phone,
        skill: skill.clone(),
        language: language.clone(),
        sla: SlaTarget::ServiceLevel {
            fraction: 0.8,
            answer_seconds: queue.answer_seconds,
        },
        patience_seconds: queue.patience_seconds,
        concurrency: 1,
        aht_seconds: queue.aht_seconds,
        priority: 5,
        max_occupancy: None,
        shrinkage: None,
        volume: VolumeProfile {
            daily_contacts: 0.0,
            profile: IntradayProfile::Spread,
            weekend_factor: 1.0,
            annual_growth: 0.0,
        },
    };
    let catalog = Catalog::from_queues(vec![q]);
    let zero = Some(0.0);
    let policy = RoutingPolicy {
        wrap_up: PerChannel {
            phone: zero,
            chat: zero,
            email: zero,
            social: zero,
            in_person: zero,
        },
        ..RoutingPolicy::default()
    };
    let origin = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+00:00")
        .map_err(|e| SimError::TooLarge(e.to_string()))?;
    let step = Duration::minutes(i64::from(INTERVAL_MINUTES));
    let rates: Vec<ArrivalRate> = (0..intervals)
        .map(|k| ArrivalRate {
            queue: SINGLE_QUEUE_ID.into(),
            start: origin + step * k as i32,
            minutes: INTERVAL_MINUTES,
            contacts: per_interval,
            aht_seconds: queue.aht_seconds,
        })
        .collect();
    // Long enough to serve every contact: agents leave only after the queue has drained.
    let shift_end = origin + step * intervals as i32 + Duration::days(7);
    let roster: Vec<RosterShift> = (0..queue.agents)
        .map(|i| RosterShift {
            agent: format!("agent-{i:06}"),
            group: "agents".into(),
            skills: vec![SkillLevel {
                skill: skill.clone(),
                proficiency: Proficiency::MAX,
            }],
            languages: vec![language.clone()],
            start: origin,
            end: shift_end,
            breaks: Vec::new(),
        })
        .collect();
    let options = SimOptions {
        handle_time: HandleTimeDistribution::Exponential,
        patience: PatienceDistribution::Exponential,
        overdispersion: 0.0,
        accept_delay_seconds: 0.0,
        no_response_probability: 0.0,
        absence_probability: 0.0,
        shrinkage: 0.0,
        disconnect_probability: 0.0,
        warmup_intervals: warmup,
        ..options.clone()
    };
    super::simulate(&catalog, &policy, &rates, &roster, &options)
}
