//! Queueing math that turns a workload (contacts per hour, AHT) into agents.
//!
//! This file owns Erlang B, Erlang C (M/M/n), Erlang A (M/M/n+M, exponential patience), the
//! search for the minimal number of agents meeting a target under an occupancy cap, and input
//! validation for all of them. It does no I/O and knows nothing about schedules.
//!
//! Notation: λ arrivals per second, AHT = 1/μ, a = λ·AHT offered erlangs, n agents, t answer
//! time, θ mean patience (γ = 1/θ). All probabilities are per arrival (PASTA).
//!
//! * Erlang B, by the stable forward recursion (no factorials, no overflow):
//!   B(0) = 1,  B(n) = a·B(n−1) / (n + a·B(n−1)).
//! * Erlang C, for n > a:
//!   P(wait) = n·B / (n − a + a·B),  SL(t) = P(W ≤ t) = 1 − P(wait)·e^{−(n−a)·t/AHT},
//!   ASA = P(wait)·AHT / (n − a) (mean wait over all arrivals),  occupancy = a/n.
//!   For n ≤ a the queue is unstable: P(wait) = 1, SL = 0, occupancy = 1, `stable = false` and
//!   `asa_seconds = None` (never NaN/inf, so JSON stays valid).
//! * Erlang A, with x = nμ/γ, y = λ/γ and T_j = Π_{k=1..j} y/(x+k) (relative probability of j
//!   queued when all n are busy):
//!   S = Σ_{j≥0} T_j,  P(wait) = B·S / (1 − B + B·S),
//!   P(abandon) = P(wait)·E[j | wait]/y  (abandon rate γ·E[Q] divided by λ),
//!   ASA = E[Q]/λ = θ·P(abandon)  (mean wait over ALL arrivals, abandoners included),
//!   occupancy = a·(1 − P(abandon))/n  (served load per agent).
//!   Answered within t: an arrival finding j ahead needs j+1 queue departures, at rates
//!   nμ + iγ (i = j..0). Summing the Laplace transforms against T_j telescopes to
//!   Σ_j nμ·λ^j / Π_{i=0..j}(s + nμ + iγ), the transform of f(v) = nμ·exp(−nμ·v + y(1 − e^{−γv})):
//!   the (un-normalised) density of the offered wait V. The arrival is answered iff its own
//!   patience outlasts V, so
//!   P(answered, W ≤ t) = (1 − P(wait)) + (P(wait)/S)·∫_0^t f(v)·e^{−γv} dv,
//!   ∫_0^t f(v)e^{−γv} dv = x/(x+1)·[U(y) − e^{y−z}(z/y)^{x+1}·U(z)],  z = y·e^{−γt},
//!   U(w) = Σ_{j≥0} w^j / Π_{k=1..j}(x+1+k)  (the series of the lower incomplete gamma function).
//!   `service_level` counts abandons as not answered; `service_level_of_served` divides by
//!   1 − P(abandon).
//!
//! Numerics: every series is summed outward from its largest term in log space, so nothing
//! overflows for any valid input (10⁴ agents and 10⁵ contacts/h are routine) and results carry
//! ~1e-12 relative error. Sums wider than [`SERIES_MAX_TERMS`] per side (only when λθ or nθ/AHT
//! exceed ~1e10, i.e. patience of years) are truncated: finite and in range, but approximate.

use serde::Serialize;
use thiserror::Error;

const SECONDS_PER_HOUR: f64 = 3600.0;

/// Largest offered load accepted, in erlangs. Erlang B is O(a) by recursion; 10⁶ erlangs is
/// a hundred times the biggest centre we size, and keeps a single call in the millisecond range.
pub const MAX_OFFERED_ERLANGS: f64 = 1.0e6;
/// Accepted AHT range in seconds. The lower bound keeps nθ/AHT finite.
pub const AHT_SECONDS_RANGE: (f64, f64) = (1.0e-3, 1.0e7);
/// Accepted mean-patience range in seconds (Erlang A). 1e10 s behaves as Erlang C when stable.
pub const PATIENCE_SECONDS_RANGE: (f64, f64) = (1.0e-3, 1.0e10);
/// Largest accepted answer time (service-level threshold) in seconds.
pub const MAX_ANSWER_SECONDS: f64 = 1.0e10;
/// Per-side term cap for the Erlang A series (see the module notes).
pub const SERIES_MAX_TERMS: u32 = 1 << 21;

/// Relative slack on the occupancy cap so that a/n equal to the cap in exact arithmetic
/// (e.g. 9 erlangs, cap 0.9, 10 agents) is not read as "over" because of rounding.
const CAP_REL_TOL: f64 = 1.0e-12;
/// Series terms below this fraction of the running sum cannot change it in f64.
const SERIES_EPS: f64 = 1.0e-17;

/// Workload of one queue in one interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Load {
    /// Arrival rate, contacts per hour (≥ 0).
    pub rate_per_hour: f64,
    /// Average handle time, seconds (> 0).
    pub aht_seconds: f64,
}

impl Load {
    /// Offered load a = λ·AHT in erlangs (not validated).
    pub fn offered_erlangs(&self) -> f64 {
        self.rate_per_hour * self.aht_seconds / SECONDS_PER_HOUR
    }
}

/// What "enough agents" means for [`required_agents`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// P(answered within `answer_seconds`) ≥ `fraction`, over all arrivals.
    ServiceLevel { fraction: f64, answer_seconds: f64 },
    /// Mean wait over all arrivals ≤ `seconds`.
    Asa { seconds: f64 },
    /// P(abandon) ≤ `fraction`. Erlang A only (Erlang C has no abandonment).
    AbandonCap { fraction: f64 },
}

/// Performance of a queue staffed with `agents`. All fields are finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    pub agents: u32,
    /// The answer time `service_level` refers to, seconds.
    pub answer_seconds: f64,
    /// P(answered within `answer_seconds`) over all arrivals; abandons count as not answered.
    pub service_level: f64,
    /// P(answered within `answer_seconds` | answered). Equals `service_level` for Erlang C.
    pub service_level_of_served: f64,
    /// Mean wait over all arrivals, seconds. `None` exactly when `stable` is false (unbounded).
    pub asa_seconds: Option<f64>,
    pub p_wait: f64,
    /// Always 0 for Erlang C.
    pub p_abandon: f64,
    /// Served load per agent. 1 for an unstable Erlang C queue, 0 with no agents.
    pub occupancy: f64,
    /// False only for Erlang C with agents ≤ offered load and a positive rate.
    pub stable: bool,
}

/// Invalid input to the Erlang functions. Messages name the field and the value.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum ErlangError {
    #[error("{field} must be a finite number, got {value}")]
    NotFinite { field: &'static str, value: f64 },
    #[error("{field} = {value} is out of range: it must be {expected}")]
    OutOfRange {
        field: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("an AbandonCap target needs patience_seconds (Erlang A); Erlang C has no abandonment")]
    AbandonTargetWithoutPatience,
    #[error("the target needs more than {max} agents (about {needed})")]
    TooManyAgents { needed: f64, max: u32 },
}

fn check(field: &'static str, value: f64, ok: bool, expected: &'static str) -> Result<f64, ErlangError> {
    if !value.is_finite() {
        Err(ErlangError::NotFinite { field, value })
    } else if !ok {
        Err(ErlangError::OutOfRange { field, value, expected })
    } else {
        Ok(value)
    }
}

fn check_offered(a: f64) -> Result<f64, ErlangError> {
    check(
        "offered_erlangs",
        a,
        (0.0..=MAX_OFFERED_ERLANGS).contains(&a),
        "between 0 and 1e6 erlangs (rate_per_hour × aht_seconds / 3600)",
    )
}

/// Validates a load and returns its offered erlangs.
fn validate_load(load: &Load) -> Result<f64, ErlangError> {
    check("rate_per_hour", load.rate_per_hour, load.rate_per_hour >= 0.0, ">= 0 contacts per hour")?;
    let aht = load.aht_seconds;
    check(
        "aht_seconds",
        aht,
        (AHT_SECONDS_RANGE.0..=AHT_SECONDS_RANGE.1).contains(&aht),
        "between 0.001 and 1e7 seconds",
    )?;
    check_offered(load.offered_erlangs())
}

fn validate_answer(field: &'static str, t: f64) -> Result<f64, ErlangError> {
    check(field, t, (0.0..=MAX_ANSWER_SECONDS).contains(&t), "between 0 and 1e10 seconds")
}

fn validate_patience(theta: f64) -> Result<f64, ErlangError> {
    check(
        "patience_seconds",
        theta,
        (PATIENCE_SECONDS_RANGE.0..=PATIENCE_SECONDS_RANGE.1).contains(&theta),
        "between 0.001 and 1e10 seconds",
    )
}

fn validate_fraction(field: &'static str, f: f64) -> Result<f64, ErlangError> {
    check(field, f, f > 0.0 && f < 1.0, "strictly between 0 and 1")
}

fn validate_target(target: &Target) -> Result<(), ErlangError> {
    match *target {
        Target::ServiceLevel { fraction, answer_seconds } => {
            validate_fraction("service_level.fraction", fraction)?;
            validate_answer("service_level.answer_seconds", answer_seconds)?;
        }
        Target::Asa { seconds } => {
            check("asa.seconds", seconds, seconds > 0.0, "> 0 seconds")?;
        }
        Target::AbandonCap { fraction } => {
            validate_fraction("abandon_cap.fraction", fraction)?;
        }
    }
    Ok(())
}

/// Erlang B blocking probability B(agents, a) by the forward recursion (stable: each step is a
/// contraction, and once B underflows to 0 every later value is 0, so the loop stops early).
pub fn erlang_b(agents: u32, offered_erlangs: f64) -> Result<f64, ErlangError> {
    let a = check_offered(offered_erlangs)?;
    Ok(erlang_b_raw(agents, a))
}

fn erlang_b_raw(n: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=n {
        b = a * b / (f64::from(k) + a * b);
        if b == 0.0 {
            break;
        }
    }
    b
}

/// Erlang B values B(0..) computed once and extended on demand (the Erlang A search probes
/// agent counts out of order).
struct ErlangBTable {
    a: f64,
    values: Vec<f64>,
}

impl ErlangBTable {
    fn new(a: f64) -> Self {
        Self { a, values: vec![1.0] }
    }

    fn get(&mut self, n: u32) -> f64 {
        let n = n as usize;
        while self.values.len() <= n {
            let last = self.values[self.values.len() - 1];
            if last == 0.0 {
                return 0.0; // underflowed: all larger n are 0 too, and we must not store them
            }
            let k = self.values.len() as f64;
            self.values.push(self.a * last / (k + self.a * last));
        }
        self.values[n]
    }
}

// ---------------------------------------------------------------------------------------------
// Erlang C
// ---------------------------------------------------------------------------------------------

/// Erlang C P(wait) for n > a, from B; written with n − a so that near-critical loads keep
/// their precision.
fn c_p_wait(n: f64, a: f64, b: f64) -> f64 {
    (n * b / ((n - a) + a * b)).clamp(0.0, 1.0)
}

fn c_service_level(n: f64, a: f64, p_wait: f64, t_over_aht: f64) -> f64 {
    (1.0 - p_wait * (-(n - a) * t_over_aht).exp()).clamp(0.0, 1.0)
}

fn zero_traffic_metrics(agents: u32, t: f64) -> Metrics {
    Metrics {
        agents,
        answer_seconds: t,
        service_level: 1.0,
        service_level_of_served: 1.0,
        asa_seconds: Some(0.0),
        p_wait: 0.0,
        p_abandon: 0.0,
        occupancy: 0.0,
        stable: true,
    }
}

/// Erlang C metrics at `n` given b = B(n, a).
fn c_metrics(n: u32, a: f64, aht: f64, t: f64, b: f64) -> Metrics {
    if a == 0.0 {
        return zero_traffic_metrics(n, t);
    }
    let nf = f64::from(n);
    if nf <= a {
        return Metrics {
            agents: n,
            answer_seconds: t,
            service_level: 0.0,
            service_level_of_served: 0.0,
            asa_seconds: None,
            p_wait: 1.0,
            p_abandon: 0.0,
            // Agents are always busy in an unstable queue; with no agents there is nothing to occupy.
            occupancy: if n == 0 { 0.0 } else { 1.0 },
            stable: false,
        };
    }
    let p_wait = c_p_wait(nf, a, b);
    let sl = c_service_level(nf, a, p_wait, t / aht);
    Metrics {
        agents: n,
        answer_seconds: t,
        service_level: sl,
        service_level_of_served: sl,
        asa_seconds: Some(p_wait * aht / (nf - a)),
        p_wait,
        p_abandon: 0.0,
        occupancy: a / nf,
        stable: true,
    }
}

/// Erlang C (M/M/n) metrics for `agents` at answer time `answer_seconds`.
pub fn erlang_c_metrics(load: &Load, agents: u32, answer_seconds: f64) -> Result<Metrics, ErlangError> {
    let a = validate_load(load)?;
    let t = validate_answer("answer_seconds", answer_seconds)?;
    Ok(c_metrics(agents, a, load.aht_seconds, t, erlang_b_raw(agents, a)))
}

// ---------------------------------------------------------------------------------------------
// Erlang A
// ---------------------------------------------------------------------------------------------

/// ln(1 + e^v) without overflow.
fn softplus(v: f64) -> f64 {
    if v > 0.0 {
        v + (-v).exp().ln_1p()
    } else {
        v.exp().ln_1p()
    }
}

/// 1 / (1 + e^{−v}) without overflow; exact limits at ±∞.
fn logistic(v: f64) -> f64 {
    if v >= 0.0 {
        1.0 / (1.0 + (-v).exp())
    } else {
        let e = v.exp();
        e / (1.0 + e)
    }
}

/// Stirling series remainder lnΓ(z) − [(z−½)ln z − z + ½ln 2π], accurate to ~1e-16 for z ≥ 16.
fn stirling_tail(z: f64) -> f64 {
    let r = 1.0 / z;
    let r2 = r * r;
    r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0 - r2 / 1188.0))))
}

/// ln Π_{k=1..m} w/(xs+k) for integer m ≥ 1 and xs ≥ 0. Large m uses the Stirling difference
/// written with ln_1p so that the (often huge) log terms cancel analytically, not numerically.
fn ln_term(xs: f64, w: f64, m: f64) -> f64 {
    const DIRECT: f64 = 64.0;
    let mut acc = 0.0;
    let mut z = xs + 1.0;
    let mut left = m;
    if m <= DIRECT {
        while left > 0.0 {
            acc += (w / z).ln();
            z += 1.0;
            left -= 1.0;
        }
        return acc;
    }
    while z < 16.0 {
        acc += (w / z).ln();
        z += 1.0;
        left -= 1.0;
    }
    // Σ_{k=0..left-1} ln(w/(z+k)) = left·ln w − [lnΓ(z+left) − lnΓ(z)]
    acc + left * (w / z).ln() + left - (z + left - 0.5) * (left / z).ln_1p() - stirling_tail(z + left)
        + stirling_tail(z)
}

/// ln Σ_{j≥0} t_j and the mean index Σ j·t_j / Σ t_j, where t_j = Π_{k=1..j} w/(xs+k).
/// The terms are log-concave in j, so we start at the largest one and walk outward until a
/// geometric bound on the rest (of both the sum and the first moment) is negligible.
fn log_series(xs: f64, w: f64) -> (f64, f64) {
    if w <= 0.0 {
        return (0.0, 0.0);
    }
    let m = if w > xs { (w - xs).floor() } else { 0.0 };
    let ln_mode = if m > 0.0 { ln_term(xs, w, m) } else { 0.0 };
    let base = xs + m;
    let mut sum = 1.0;
    let mut moment = 0.0; // Σ (j − m)·t_j / t_m, offsets keep precision when m is large

    // Upward: ratio t_{j}/t_{j−1} = w/(xs+j) < 1 and decreasing beyond the mode.
    let mut rel = 1.0;
    let mut d = 0.0;
    for _ in 0..SERIES_MAX_TERMS {
        d += 1.0;
        let r = w / (base + d);
        rel *= r;
        sum += rel;
        moment += d * rel;
        if rel == 0.0 {
            break;
        }
        if r < 1.0 {
            let tail = rel * r / (1.0 - r);
            if tail * (1.0 + d + 1.0 / (1.0 - r)) <= SERIES_EPS * sum {
                break;
            }
        }
    }

    // Downward to j = 0: ratio t_{j−1}/t_j = (xs+j)/w ≤ 1 and decreasing as j falls.
    let mut rel = 1.0;
    let mut d = 0.0;
    let steps = m.min(f64::from(SERIES_MAX_TERMS));
    while d < steps {
        let r = (base - d) / w;
        rel *= r;
        d += 1.0;
        sum += rel;
        moment -= d * rel;
        if rel == 0.0 {
            break;
        }
        let r_next = (base - d) / w;
        if r_next < 1.0 {
            let tail = rel * r_next / (1.0 - r_next);
            if tail * (1.0 + d + 1.0 / (1.0 - r_next)) <= SERIES_EPS * sum {
                break;
            }
        }
    }
    (ln_mode + sum.ln(), (m + moment / sum).max(0.0))
}

/// Erlang A steady state for n ≥ 1 agents and λ > 0; the service level is computed on demand
/// because the ASA and abandonment searches do not need it.
struct ErlangAState {
    n: u32,
    a: f64,
    theta: f64,
    x: f64,
    y: f64,
    /// ln U(y).
    ln_u_y: f64,
    p_wait: f64,
    p_no_wait: f64,
    p_abandon: f64,
    /// P(wait, then answered) at any time = P(wait)·(x/(x+1))·U(y)/S.
    p_served_after_wait: f64,
}

impl ErlangAState {
    fn new(n: u32, a: f64, aht: f64, theta: f64, b: f64) -> Self {
        let nf = f64::from(n);
        let lambda = a / aht;
        let x = nf * theta / aht;
        let y = lambda * theta;
        // S = 1 + q·U(y) with q = y/(x+1): working with U avoids losing the j ≥ 1 part of S
        // when q is tiny, and P(abandon) comes from the first moment of U, not from a difference.
        let (ln_u_y, mean_u) = log_series(x + 1.0, y);
        let ln_qu = y.ln() - (x + 1.0).ln() + ln_u_y;
        let ln_s = softplus(ln_qu);
        // P(wait) = B·S/(1 − B + B·S) = logistic(ln S + ln B − ln(1 − B)).
        let arg = ln_s + b.ln() - (-b).ln_1p();
        let p_wait = logistic(arg);
        let p_no_wait = logistic(-arg);
        let u_over_s = (ln_u_y - ln_s).exp();
        // Σ j·T_j / S = q·(U + Σ i·u_i)/S; dividing by y turns q into 1/(x+1).
        let p_abandon = (p_wait * (1.0 + mean_u) * u_over_s / (x + 1.0)).clamp(0.0, p_wait);
        let p_served_after_wait = p_wait * (x / (x + 1.0)) * u_over_s;
        Self { n, a, theta, x, y, ln_u_y, p_wait, p_no_wait, p_abandon, p_served_after_wait }
    }

    /// P(answered within t) over all arrivals.
    fn service_level(&self, t: f64) -> f64 {
        let g_t = t / self.theta;
        let z = self.y * (-g_t).exp();
        let (ln_u_z, _) = log_series(self.x + 1.0, z);
        // ln[e^{y−z}(z/y)^{x+1}] = y(1 − e^{−γt}) − (x+1)γt
        let ln_e = -self.y * (-g_t).exp_m1() - (self.x + 1.0) * g_t;
        let d = (ln_e + ln_u_z - self.ln_u_y).min(0.0);
        let within = self.p_served_after_wait * -d.exp_m1();
        (self.p_no_wait + within).clamp(0.0, 1.0)
    }

    fn metrics(&self, t: f64) -> Metrics {
        let sl = self.service_level(t);
        let p_served = 1.0 - self.p_abandon;
        Metrics {
            agents: self.n,
            answer_seconds: t,
            service_level: sl,
            service_level_of_served: if p_served > 0.0 { (sl / p_served).min(1.0) } else { 0.0 },
            asa_seconds: Some(self.theta * self.p_abandon),
            p_wait: self.p_wait,
            p_abandon: self.p_abandon,
            occupancy: (self.a * p_served / f64::from(self.n)).clamp(0.0, 1.0),
            stable: true,
        }
    }
}

/// Erlang A metrics at `n` given b = B(n, a); handles the degenerate no-traffic / no-agent cases.
fn a_metrics(n: u32, a: f64, aht: f64, theta: f64, t: f64, b: f64) -> Metrics {
    if a == 0.0 {
        return zero_traffic_metrics(n, t);
    }
    if n == 0 {
        // Everyone waits until they give up: mean wait θ, nobody answered.
        return Metrics {
            agents: 0,
            answer_seconds: t,
            service_level: 0.0,
            service_level_of_served: 0.0,
            asa_seconds: Some(theta),
            p_wait: 1.0,
            p_abandon: 1.0,
            occupancy: 0.0,
            stable: true,
        };
    }
    ErlangAState::new(n, a, aht, theta, b).metrics(t)
}

/// Erlang A (M/M/n+M) metrics: exponential patience with mean `patience_seconds`.
/// Always stable (abandonment bounds the queue), so `asa_seconds` is always `Some`.
pub fn erlang_a_metrics(
    load: &Load,
    agents: u32,
    answer_seconds: f64,
    patience_seconds: f64,
) -> Result<Metrics, ErlangError> {
    let a = validate_load(load)?;
    let t = validate_answer("answer_seconds", answer_seconds)?;
    let theta = validate_patience(patience_seconds)?;
    Ok(a_metrics(agents, a, load.aht_seconds, theta, t, erlang_b_raw(agents, a)))
}

// ---------------------------------------------------------------------------------------------
// Staffing search
// ---------------------------------------------------------------------------------------------

fn to_agents(n: f64) -> Result<u32, ErlangError> {
    if n <= f64::from(u32::MAX) {
        Ok(n.max(0.0) as u32)
    } else {
        Err(ErlangError::TooManyAgents { needed: n, max: u32::MAX })
    }
}

/// Fewest agents whose occupancy `load/n` stays within `cap` (pyworkforce: ceil(load/cap)).
fn occupancy_floor(load: f64, cap: f64) -> Result<u32, ErlangError> {
    to_agents((load / cap * (1.0 - CAP_REL_TOL)).ceil())
}

fn over_cap(occupancy: f64, cap: f64) -> bool {
    occupancy > cap * (1.0 + CAP_REL_TOL)
}

/// Minimal n > a meeting `meets(n, b)` for Erlang C; starts at the first stable n and carries
/// the B recursion upward instead of recomputing it per n. Returns (n, B(n)).
fn c_search(a: f64, mut meets: impl FnMut(f64, f64) -> bool) -> Result<(u32, f64), ErlangError> {
    let mut n = to_agents(a.floor() + 1.0)?;
    let mut b = erlang_b_raw(n, a);
    loop {
        if meets(f64::from(n), b) {
            return Ok((n, b));
        }
        n = n.checked_add(1).ok_or(ErlangError::TooManyAgents { needed: f64::from(u32::MAX) + 1.0, max: u32::MAX })?;
        b = a * b / (f64::from(n) + a * b);
    }
}

/// Minimal n for an Erlang C target (ignoring the occupancy cap).
fn c_target_agents(a: f64, aht: f64, target: &Target) -> Result<(u32, f64), ErlangError> {
    match *target {
        Target::ServiceLevel { fraction, answer_seconds } => {
            let t_over_aht = answer_seconds / aht;
            c_search(a, |n, b| c_service_level(n, a, c_p_wait(n, a, b), t_over_aht) >= fraction)
        }
        Target::Asa { seconds } => c_search(a, |n, b| c_p_wait(n, a, b) * aht / (n - a) <= seconds),
        Target::AbandonCap { .. } => Err(ErlangError::AbandonTargetWithoutPatience),
    }
}

/// Minimal n ≥ 1 with `meets(n)` for a predicate that is false then true as n grows: gallop
/// from `guess` (doubling steps) to bracket the switch, then bisect. O(log distance) probes.
fn monotone_search(guess: u32, mut meets: impl FnMut(u32) -> bool) -> Result<u32, ErlangError> {
    let too_many = ErlangError::TooManyAgents { needed: f64::from(u32::MAX) + 1.0, max: u32::MAX };
    let guess = guess.max(1);
    let (mut lo, mut hi); // meets(lo) false (lo = 0 stands for "none"), meets(hi) true
    if meets(guess) {
        hi = guess;
        lo = 0;
        let mut step = 1u32;
        while hi > 1 {
            let cand = hi.saturating_sub(step).max(1);
            if meets(cand) {
                hi = cand;
                step = step.saturating_mul(2);
            } else {
                lo = cand;
                break;
            }
        }
    } else {
        lo = guess;
        let mut step = 1u32;
        loop {
            let cand = lo.saturating_add(step);
            if cand == lo {
                return Err(too_many);
            }
            if meets(cand) {
                hi = cand;
                break;
            }
            lo = cand;
            step = step.saturating_mul(2);
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if meets(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

fn required_c(a: f64, aht: f64, target: &Target, t_report: f64, cap: f64) -> Result<Metrics, ErlangError> {
    let (n_target, mut b) = c_target_agents(a, aht, target)?;
    // Occupancy a/n falls with n, so "if the target staffing is over the cap, use
    // ceil(a/cap)" (pyworkforce) is the same as taking the larger of the two.
    let n = n_target.max(occupancy_floor(a, cap)?);
    let mut k = n_target;
    while k < n && b > 0.0 {
        k += 1;
        b = a * b / (f64::from(k) + a * b);
    }
    if k < n {
        b = 0.0;
    }
    Ok(c_metrics(n, a, aht, t_report, b))
}

fn required_a(
    a: f64,
    aht: f64,
    theta: f64,
    target: &Target,
    t_report: f64,
    cap: f64,
) -> Result<Metrics, ErlangError> {
    let mut table = ErlangBTable::new(a);
    let state = |n: u32, table: &mut ErlangBTable| ErlangAState::new(n, a, aht, theta, table.get(n));
    let n_target = match *target {
        Target::ServiceLevel { fraction, answer_seconds } => {
            // Erlang C's answer is usually within a few agents of Erlang A's.
            let guess = c_target_agents(a, aht, target)?.0;
            monotone_search(guess, |n| state(n, &mut table).service_level(answer_seconds) >= fraction)?
        }
        Target::Asa { seconds } => {
            let guess = c_target_agents(a, aht, target)?.0;
            monotone_search(guess, |n| state(n, &mut table).p_abandon * theta <= seconds)?
        }
        Target::AbandonCap { fraction } => {
            // Caps of a few percent land near n ≈ a; the gallop covers the rest either way.
            let guess = to_agents(a.ceil())?;
            monotone_search(guess, |n| state(n, &mut table).p_abandon <= fraction)?
        }
    };
    // Occupancy here is served load per agent. Served load grows with n, so
    // ceil(served(n)/cap) is a valid lower bound to jump to while over the cap.
    let mut n = n_target;
    loop {
        let s = state(n, &mut table);
        let served = a * (1.0 - s.p_abandon);
        if !over_cap(served / f64::from(n), cap) {
            return Ok(s.metrics(t_report));
        }
        n = n.checked_add(1).ok_or(ErlangError::TooManyAgents { needed: served / cap, max: u32::MAX })?;
        n = n.max(occupancy_floor(served, cap)?);
    }
}

/// Minimal agents meeting `target` with occupancy ≤ `max_occupancy`, and the metrics there.
///
/// * `patience_seconds`: `None` → Erlang C, `Some(θ)` → Erlang A with mean patience θ.
/// * The returned `service_level` is evaluated at `answer_seconds_for_reporting` (pass the
///   target's answer time to report the targeted quantity).
/// * Occupancy cap, as pyworkforce: if the target-minimal staffing is over the cap, staff
///   ceil(load / cap). For Erlang A "load" is the served load, matching the reported occupancy.
/// * Zero rate → 0 agents. Any positive rate → at least 1 agent (Erlang C: more than a).
/// * Unlike pyworkforce, the Erlang C search starts at the first stable n = ⌊a⌋+1, not at
///   round(a+1), so very low targets can give one agent fewer; every row of the reference
///   table is unaffected.
pub fn required_agents(
    load: &Load,
    target: &Target,
    answer_seconds_for_reporting: f64,
    max_occupancy: f64,
    patience_seconds: Option<f64>,
) -> Result<Metrics, ErlangError> {
    let a = validate_load(load)?;
    validate_target(target)?;
    let t_report = validate_answer("answer_seconds_for_reporting", answer_seconds_for_reporting)?;
    let cap = check(
        "max_occupancy",
        max_occupancy,
        max_occupancy > 0.0 && max_occupancy <= 1.0,
        "in (0, 1]",
    )?;
    let theta = patience_seconds.map(validate_patience).transpose()?;
    if theta.is_none() && matches!(target, Target::AbandonCap { .. }) {
        return Err(ErlangError::AbandonTargetWithoutPatience);
    }
    if a == 0.0 {
        return Ok(zero_traffic_metrics(0, t_report));
    }
    match theta {
        None => required_c(a, load.aht_seconds, target, t_report, cap),
        Some(theta) => required_a(a, load.aht_seconds, theta, target, t_report, cap),
    }
}

/// Agents to roster so that `raw` remain after shrinkage: ceil(raw / (1 − shrinkage)), with a
/// 1e-12 relative slack so that e.g. 14 / 0.7 is 20, not 21, despite 0.7 not being exact.
pub fn apply_shrinkage(raw: u32, shrinkage: f64) -> Result<u32, ErlangError> {
    let s = check("shrinkage", shrinkage, (0.0..1.0).contains(&shrinkage), "in [0, 1)")?;
    to_agents((f64::from(raw) / (1.0 - s) * (1.0 - CAP_REL_TOL)).ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference/erlang_pyworkforce.csv");

    fn load(rate_per_hour: f64, aht_seconds: f64) -> Load {
        Load { rate_per_hour, aht_seconds }
    }

    /// Asserts `actual` rounds to `expected` at `digits` significant digits (half a unit of the
    /// last kept digit), which is how published vectors are quoted.
    #[track_caller]
    fn assert_sig(actual: f64, expected: f64, digits: i32, what: &str) {
        let unit = 10f64.powi(expected.abs().log10().floor() as i32 - digits + 1);
        assert!(
            (actual - expected).abs() <= 0.5 * unit,
            "{what}: got {actual}, expected {expected} to {digits} significant digits"
        );
    }

    #[track_caller]
    fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
        assert!((actual - expected).abs() <= tol, "{what}: got {actual}, expected {expected} ± {tol}");
    }

    #[track_caller]
    fn assert_sane(m: &Metrics) {
        for (name, v) in [
            ("service_level", m.service_level),
            ("service_level_of_served", m.service_level_of_served),
            ("p_wait", m.p_wait),
            ("p_abandon", m.p_abandon),
            ("occupancy", m.occupancy),
        ] {
            assert!(v.is_finite() && (0.0..=1.0).contains(&v), "{name} = {v} in {m:?}");
        }
        assert_eq!(m.asa_seconds.is_some(), m.stable, "{m:?}");
        if let Some(asa) = m.asa_seconds {
            assert!(asa.is_finite() && asa >= 0.0, "{m:?}");
        }
        assert!(m.p_abandon <= m.p_wait + 1e-12, "{m:?}");
        assert!(m.service_level <= 1.0 - m.p_abandon + 1e-12, "{m:?}");
        let json = serde_json::to_string(m).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
    }

    // ---------------------------------------------------------------- published vectors

    #[test]
    fn pyworkforce_reference_csv() {
        let Ok(text) = std::fs::read_to_string(REFERENCE_CSV) else {
            println!("SKIP: reference folder absent ({REFERENCE_CSV} not readable)");
            return;
        };
        let mut rows = 0;
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 12, "bad row {line}");
            if f[0] != "C" {
                println!("skipping non-Erlang-C row: {line}");
                continue;
            }
            let num = |i: usize| f[i].trim().parse::<f64>().unwrap();
            let (rate, aht, ans, tgt, occ, shr) = (num(1), num(2), num(3), num(4), num(5), num(6));
            let target = Target::ServiceLevel { fraction: tgt, answer_seconds: ans };
            let m = required_agents(&load(rate, aht), &target, ans, occ, None).unwrap();
            assert_eq!(f64::from(m.agents), num(7), "required_raw for {line}");
            assert_eq!(f64::from(apply_shrinkage(m.agents, shr).unwrap()), num(8), "with shrinkage for {line}");
            assert_sig(m.service_level, num(9), 4, line);
            assert_sig(m.occupancy, num(10), 4, line);
            assert_sig(m.p_wait, num(11), 4, line);
            rows += 1;
        }
        assert!(rows >= 8, "expected the 8 Erlang C rows, read {rows}");
    }

    #[test]
    fn erlang_c_published_vectors() {
        let l = load(200.0, 180.0);
        let m = erlang_c_metrics(&l, 14, 20.0).unwrap();
        assert_sig(m.service_level, 0.88835, 5, "SL 14");
        assert_sig(m.p_wait, 0.17413, 5, "P(wait) 14");
        assert_sig(m.occupancy, 0.71429, 5, "occupancy 14");
        assert_sig(m.asa_seconds.unwrap(), 7.836, 4, "ASA 14");
        // pyworkforce's own test uses asa = 0.33 min = 19.8 s; that is where 0.7949 comes from.
        assert_sig(erlang_c_metrics(&l, 13, 19.8).unwrap().service_level, 0.7949, 4, "SL 13 @19.8 s");
        // At exactly 20 s: 1 − 0.285270·e^{−1/3} (computed independently in mpmath).
        assert_sig(erlang_c_metrics(&l, 13, 20.0).unwrap().service_level, 0.795595, 6, "SL 13 @20 s");

        let m = erlang_c_metrics(&load(210.0, 180.0), 13, 20.0).unwrap();
        assert_sig(m.asa_seconds.unwrap(), 26.56, 4, "ASA 210/h");
        assert_sig(m.p_wait, 0.3688, 4, "P(wait) 210/h");
    }

    #[test]
    fn erlang_a_published_vectors() {
        let m = erlang_a_metrics(&load(200.0, 180.0), 14, 20.0, 300.0).unwrap();
        assert_sig(m.p_wait, 0.14526, 5, "P(wait)");
        assert_sig(m.p_abandon, 0.013984, 5, "P(abandon)");
        assert_sig(m.occupancy, 0.704297, 6, "occupancy");
        assert_sig(m.asa_seconds.unwrap(), 4.1951, 5, "ASA all arrivals");
        assert_sig(m.service_level, 0.916792, 6, "SL among all arrivals");
        assert_close(m.service_level_of_served, m.service_level / (1.0 - m.p_abandon), 1e-15, "SL of served");
        // Little's law: E[Q] = λ·E[W], and abandons = γ·E[Q].
        assert_close(m.asa_seconds.unwrap(), 300.0 * m.p_abandon, 1e-12, "ASA = θ·P(abandon)");
    }

    #[test]
    fn erlang_b_known_values() {
        // B(1, a) = a/(1+a); B(2, 1) = 1/5; B(10, 10) = 0.2145823 (tables).
        assert_close(erlang_b(1, 3.0).unwrap(), 0.75, 1e-15, "B(1,3)");
        assert_close(erlang_b(2, 1.0).unwrap(), 0.2, 1e-15, "B(2,1)");
        assert_sig(erlang_b(10, 10.0).unwrap(), 0.2145823, 7, "B(10,10)");
        assert_eq!(erlang_b(0, 5.0).unwrap(), 1.0);
        assert_eq!(erlang_b(5, 0.0).unwrap(), 0.0);
        // Deep underflow is 0, not NaN, and returns quickly.
        assert_eq!(erlang_b(u32::MAX, 1.0).unwrap(), 0.0);
        let b = erlang_b(10_000, 10_000.0).unwrap();
        assert!(b > 0.0 && b < 0.01, "{b}");
    }

    // ---------------------------------------------------------------- independent cross-checks

    /// Erlang C from the textbook factorial sum (fine for small n).
    fn erlang_c_textbook(n: u32, a: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 0.0;
        for k in 0..n {
            sum += term;
            term *= a / f64::from(k + 1);
        }
        let top = term * f64::from(n) / (f64::from(n) - a);
        top / (sum + top)
    }

    /// Erlang A by brute force: truncated birth–death chain for the stationary law, and
    /// uniformisation of the tagged customer's (ahead-count, own patience) chain for P(W ≤ t).
    fn erlang_a_brute(n: u32, rate_per_hour: f64, aht: f64, theta: f64, t: f64) -> (f64, f64, f64) {
        let (lambda, c, g) = (rate_per_hour / 3600.0, f64::from(n) / aht, 1.0 / theta);
        let nu = n as usize;
        let mut w = vec![1.0f64];
        while w.len() < nu + 10 || *w.last().unwrap() > 1e-22 * w.iter().sum::<f64>() {
            let k = w.len();
            let death = if k <= nu { k as f64 / aht } else { c + (k - nu) as f64 * g };
            let next = w[k - 1] * lambda / death;
            w.push(next);
        }
        let z: f64 = w.iter().sum();
        let pi: Vec<f64> = w.iter().map(|v| v / z).collect();
        let p_wait: f64 = pi[nu..].iter().sum();
        let p_ab = g * pi[nu..].iter().enumerate().map(|(j, p)| j as f64 * p).sum::<f64>() / lambda;
        // Tagged customer with i ahead: advances at c + iγ, abandons at γ.
        let mut q: Vec<f64> = pi[nu..].to_vec();
        let jmax = q.len();
        let big = c + jmax as f64 * g + g;
        let lt = big * t;
        let steps = (lt + 12.0 * lt.sqrt() + 60.0) as usize;
        let mut served = 0.0;
        let mut pois = (-lt).exp();
        let mut sl_wait = 0.0;
        for k in 0..=steps {
            sl_wait += pois * served;
            let mut next = vec![0.0; jmax];
            for i in 0..jmax {
                let adv = (c + i as f64 * g) / big;
                let stay = 1.0 - adv - g / big;
                next[i] += q[i] * stay;
                if i == 0 {
                    served += q[0] * adv;
                } else {
                    next[i - 1] += q[i] * adv;
                }
            }
            q = next;
            pois *= lt / (k + 1) as f64;
        }
        (p_wait, p_ab, (1.0 - p_wait) + sl_wait)
    }

    #[test]
    fn erlang_c_matches_textbook_sum() {
        for &(n, a) in &[(1u32, 0.5), (3, 2.9), (14, 10.0), (20, 12.3), (40, 35.5)] {
            let rate = a * 3600.0 / 180.0;
            let m = erlang_c_metrics(&load(rate, 180.0), n, 20.0).unwrap();
            assert_close(m.p_wait, erlang_c_textbook(n, a), 1e-12, "P(wait)");
        }
    }

    #[test]
    fn erlang_a_matches_brute_force() {
        // (agents, rate/h, AHT, patience, t): the reference case, overload, impatience, tiny t.
        let cases = [
            (14u32, 200.0, 180.0, 300.0, 20.0),
            (8, 300.0, 180.0, 120.0, 30.0),
            (5, 60.0, 240.0, 10.0, 15.0),
            (20, 400.0, 150.0, 600.0, 0.0),
            (3, 100.0, 60.0, 45.0, 60.0),
        ];
        for (n, rate, aht, theta, t) in cases {
            let m = erlang_a_metrics(&load(rate, aht), n, t, theta).unwrap();
            let (pw, pab, sl) = erlang_a_brute(n, rate, aht, theta, t);
            let what = format!("n={n} rate={rate} aht={aht} θ={theta} t={t}");
            assert_close(m.p_wait, pw, 1e-10, &format!("P(wait) {what}"));
            assert_close(m.p_abandon, pab, 1e-10, &format!("P(abandon) {what}"));
            assert_close(m.service_level, sl, 1e-9, &format!("SL {what}"));
        }
    }

    #[test]
    fn ln_term_matches_direct_sum() {
        for &(xs, w, m) in &[(1.0f64, 50.0f64, 40.0f64), (3.5, 1e4, 900.0), (1e3, 5e3, 3000.0), (20.0, 1e6, 2e5)] {
            let mut direct = 0.0;
            let mut k = 1.0;
            while k <= m {
                direct += (w / (xs + k)).ln();
                k += 1.0;
            }
            let fast = ln_term(xs, w, m);
            assert!((fast - direct).abs() <= 1e-9 * direct.abs().max(1.0), "{xs} {w} {m}: {fast} vs {direct}");
        }
    }

    // ---------------------------------------------------------------- properties

    #[test]
    fn service_level_rises_with_agents() {
        for &(rate, aht) in &[(10.0, 60.0), (200.0, 180.0), (900.0, 360.0), (6000.0, 150.0)] {
            let l = load(rate, aht);
            let a = l.offered_erlangs();
            for theta in [None, Some(30.0), Some(300.0), Some(3000.0)] {
                let mut prev: Option<Metrics> = None;
                for n in 1..=(a.ceil() as u32 * 2 + 10) {
                    let m = match theta {
                        None => erlang_c_metrics(&l, n, 20.0).unwrap(),
                        Some(th) => erlang_a_metrics(&l, n, 20.0, th).unwrap(),
                    };
                    assert_sane(&m);
                    if let Some(p) = prev {
                        assert!(m.service_level >= p.service_level - 1e-12, "SL fell at n={n} θ={theta:?}: {p:?} -> {m:?}");
                        assert!(m.p_wait <= p.p_wait + 1e-12, "P(wait) rose at n={n}");
                        assert!(m.p_abandon <= p.p_abandon + 1e-12, "P(abandon) rose at n={n}");
                    }
                    prev = Some(m);
                }
            }
        }
    }

    #[test]
    fn required_agents_never_fall_as_load_rises() {
        let targets = [
            Target::ServiceLevel { fraction: 0.8, answer_seconds: 20.0 },
            Target::ServiceLevel { fraction: 0.95, answer_seconds: 60.0 },
            Target::Asa { seconds: 15.0 },
            Target::AbandonCap { fraction: 0.05 },
        ];
        for target in &targets {
            for patience in [None, Some(60.0), Some(300.0)] {
                if patience.is_none() && matches!(target, Target::AbandonCap { .. }) {
                    continue;
                }
                for aht in [60.0, 240.0, 600.0] {
                    let mut prev = 0;
                    let mut rate = 0.0;
                    while rate <= 3000.0 {
                        let m = required_agents(&load(rate, aht), target, 20.0, 0.9, patience).unwrap();
                        assert_sane(&m);
                        assert!(m.agents >= prev, "{target:?} θ={patience:?} aht={aht} rate={rate}: {} < {prev}", m.agents);
                        // The answer is minimal: one agent fewer misses the target or the cap.
                        if m.agents > 1 {
                            let l = load(rate, aht);
                            let fewer = match patience {
                                None => erlang_c_metrics(&l, m.agents - 1, 20.0).unwrap(),
                                Some(th) => erlang_a_metrics(&l, m.agents - 1, 20.0, th).unwrap(),
                            };
                            let fewer_sl = match *target {
                                Target::ServiceLevel { answer_seconds, .. } => match patience {
                                    None => erlang_c_metrics(&l, m.agents - 1, answer_seconds).unwrap(),
                                    Some(th) => erlang_a_metrics(&l, m.agents - 1, answer_seconds, th).unwrap(),
                                }
                                .service_level,
                                _ => 0.0,
                            };
                            let misses = match *target {
                                Target::ServiceLevel { fraction, .. } => fewer_sl < fraction,
                                Target::Asa { seconds } => fewer.asa_seconds.is_none_or(|s| s > seconds),
                                Target::AbandonCap { fraction } => fewer.p_abandon > fraction,
                            };
                            assert!(misses || fewer.occupancy > 0.9, "not minimal: {target:?} {m:?} vs {fewer:?}");
                        }
                        prev = m.agents;
                        rate += 7.0 + rate * 0.05;
                    }
                }
            }
        }
    }

    #[test]
    fn erlang_a_tends_to_erlang_c() {
        for &(rate, aht, n) in &[(200.0, 180.0, 14u32), (200.0, 180.0, 20), (900.0, 360.0, 100), (6000.0, 150.0, 259)] {
            let l = load(rate, aht);
            let c = erlang_c_metrics(&l, n, 20.0).unwrap();
            let a = erlang_a_metrics(&l, n, 20.0, 1e7).unwrap();
            assert_close(a.service_level, c.service_level, 1e-4, "SL");
            assert_close(a.p_wait, c.p_wait, 1e-4, "P(wait)");
            assert_close(a.occupancy, c.occupancy, 1e-4, "occupancy");
            assert!(a.p_abandon < 1e-4);
            // ASA converges more slowly near ρ = 1 (a 1.2e-4 relative gap at n = 259, a = 250,
            // confirmed exact with a 50-digit birth–death sum), so it is checked per θ.
            let asa_c = c.asa_seconds.unwrap();
            let gap = |theta: f64| (erlang_a_metrics(&l, n, 20.0, theta).unwrap().asa_seconds.unwrap() / asa_c - 1.0).abs();
            assert!(gap(1e7) <= 2e-4, "ASA gap at θ=1e7: {}", gap(1e7));
            assert!(gap(1e9) <= 2e-6, "ASA gap at θ=1e9: {}", gap(1e9));
        }
        // And the staffing agrees.
        let t = Target::ServiceLevel { fraction: 0.8, answer_seconds: 20.0 };
        for rate in [50.0, 200.0, 2000.0, 20000.0] {
            let l = load(rate, 180.0);
            let c = required_agents(&l, &t, 20.0, 1.0, None).unwrap();
            let a = required_agents(&l, &t, 20.0, 1.0, Some(1e7)).unwrap();
            assert_eq!(a.agents, c.agents, "rate {rate}");
        }
    }

    #[test]
    fn stable_at_extreme_scale() {
        let answers = [0.0, 20.0, 3600.0];
        for &rate in &[0.0, 1e-6, 1.0, 100.0, 1e4, 1e5] {
            for &aht in &[1.0, 60.0, 600.0, 3600.0] {
                let l = load(rate, aht);
                for &n in &[0u32, 1, 10, 100, 1000, 10_000] {
                    for &t in &answers {
                        assert_sane(&erlang_c_metrics(&l, n, t).unwrap());
                        for &theta in &[1.0, 60.0, 600.0, 1e4, 1e7] {
                            assert_sane(&erlang_a_metrics(&l, n, t, theta).unwrap());
                        }
                    }
                }
                for target in [
                    Target::ServiceLevel { fraction: 0.8, answer_seconds: 20.0 },
                    Target::ServiceLevel { fraction: 0.99, answer_seconds: 0.0 },
                    Target::Asa { seconds: 5.0 },
                ] {
                    assert_sane(&required_agents(&l, &target, 20.0, 0.85, None).unwrap());
                    assert_sane(&required_agents(&l, &target, 20.0, 0.85, Some(300.0)).unwrap());
                }
                let cap = Target::AbandonCap { fraction: 0.03 };
                assert_sane(&required_agents(&l, &cap, 20.0, 0.85, Some(120.0)).unwrap());
            }
        }
        // The headline case: 10,000 agents, 100,000 contacts/h, AHT 1 h (100,000 erlangs offered).
        let l = load(1e5, 3600.0);
        let c = erlang_c_metrics(&l, 10_000, 20.0).unwrap();
        assert!(!c.stable && c.asa_seconds.is_none() && c.service_level == 0.0 && c.p_wait == 1.0);
        let a = erlang_a_metrics(&l, 10_000, 20.0, 300.0).unwrap();
        assert_close(a.p_abandon, 0.9, 1e-6, "fluid limit: 90% abandon"); // served ≤ n/a = 10%
        let m = required_agents(&l, &Target::ServiceLevel { fraction: 0.8, answer_seconds: 20.0 }, 20.0, 1.0, None).unwrap();
        assert!(m.agents > 100_000 && m.agents < 101_000 && m.service_level >= 0.8, "{m:?}");
    }

    // ---------------------------------------------------------------- edges and validation

    #[test]
    fn zero_rate_needs_no_agents() {
        let l = load(0.0, 180.0);
        for patience in [None, Some(300.0)] {
            for target in [
                Target::ServiceLevel { fraction: 0.8, answer_seconds: 20.0 },
                Target::Asa { seconds: 10.0 },
            ] {
                let m = required_agents(&l, &target, 20.0, 0.85, patience).unwrap();
                assert_eq!(m.agents, 0);
                assert_eq!((m.service_level, m.p_wait, m.occupancy, m.asa_seconds), (1.0, 0.0, 0.0, Some(0.0)));
                assert_sane(&m);
            }
        }
        assert_eq!(required_agents(&l, &Target::AbandonCap { fraction: 0.05 }, 20.0, 1.0, Some(60.0)).unwrap().agents, 0);
    }

    #[test]
    fn occupancy_cap_follows_pyworkforce_rule() {
        // SL alone needs 14 (occupancy 0.714); a 0.7 cap forces ceil(10/0.7) = 15 (pyworkforce test).
        let l = load(200.0, 180.0);
        let t = Target::ServiceLevel { fraction: 0.8, answer_seconds: 20.0 };
        let m = required_agents(&l, &t, 20.0, 0.7, None).unwrap();
        assert_eq!(m.agents, 15);
        assert_sig(m.service_level, 0.941453, 6, "SL at 15");
        assert_eq!(apply_shrinkage(m.agents, 0.3).unwrap(), 22);
        // Exact equality with the cap is within it: 9 erlangs, cap 0.9 → 10 agents, not 11.
        let m = required_agents(&load(9.0 * 3600.0 / 100.0, 100.0), &Target::Asa { seconds: 1e6 }, 20.0, 0.9, None).unwrap();
        assert_eq!(m.agents, 10);
        // Erlang A: the cap applies to served load per agent and is respected.
        let m = required_agents(&l, &t, 20.0, 0.6, Some(300.0)).unwrap();
        assert!(m.occupancy <= 0.6 && m.agents == 17, "{m:?}");
    }

    #[test]
    fn n_zero_and_unstable_are_explicit() {
        let l = load(200.0, 180.0);
        let m = erlang_c_metrics(&l, 10, 20.0).unwrap(); // n == a
        assert!(!m.stable && m.asa_seconds.is_none() && m.occupancy == 1.0);
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"asa_seconds\":null") && json.contains("\"stable\":false"), "{json}");
        let m = erlang_a_metrics(&l, 0, 20.0, 300.0).unwrap();
        assert_eq!((m.p_abandon, m.service_level, m.asa_seconds), (1.0, 0.0, Some(300.0)));
        let m = erlang_a_metrics(&l, 10, 20.0, 300.0).unwrap(); // Erlang A is stable at n == a
        assert!(m.stable && m.p_abandon > 0.0 && m.p_abandon < 0.2);
    }

    #[test]
    fn invalid_inputs_are_named() {
        let ok = load(200.0, 180.0);
        let sl = Target::ServiceLevel { fraction: 0.8, answer_seconds: 20.0 };
        let err = |r: Result<Metrics, ErlangError>| r.unwrap_err().to_string();

        let e = err(erlang_c_metrics(&load(200.0, 0.0), 14, 20.0));
        assert!(e.contains("aht_seconds") && e.contains("= 0"), "{e}");
        let e = err(erlang_c_metrics(&load(200.0, -5.0), 14, 20.0));
        assert!(e.contains("aht_seconds") && e.contains("-5"), "{e}");
        let e = err(erlang_c_metrics(&load(-1.0, 180.0), 14, 20.0));
        assert!(e.contains("rate_per_hour") && e.contains("-1"), "{e}");
        let e = err(erlang_c_metrics(&load(f64::NAN, 180.0), 14, 20.0));
        assert!(e.contains("rate_per_hour") && e.contains("NaN"), "{e}");
        let e = err(erlang_c_metrics(&load(f64::INFINITY, 180.0), 14, 20.0));
        assert!(e.contains("rate_per_hour") && e.contains("finite"), "{e}");
        let e = err(erlang_c_metrics(&ok, 14, -1.0));
        assert!(e.contains("answer_seconds") && e.contains("-1"), "{e}");
        let e = err(erlang_a_metrics(&ok, 14, 20.0, 0.0));
        assert!(e.contains("patience_seconds"), "{e}");
        let e = err(required_agents(&ok, &Target::ServiceLevel { fraction: 1.0, answer_seconds: 20.0 }, 20.0, 0.85, None));
        assert!(e.contains("service_level.fraction") && e.contains("= 1"), "{e}");
        let e = err(required_agents(&ok, &Target::ServiceLevel { fraction: 0.8, answer_seconds: -3.0 }, 20.0, 0.85, None));
        assert!(e.contains("service_level.answer_seconds") && e.contains("-3"), "{e}");
        let e = err(required_agents(&ok, &Target::AbandonCap { fraction: 0.0 }, 20.0, 0.85, Some(60.0)));
        assert!(e.contains("abandon_cap.fraction"), "{e}");
        let e = err(required_agents(&ok, &Target::Asa { seconds: 0.0 }, 20.0, 0.85, None));
        assert!(e.contains("asa.seconds"), "{e}");
        let e = err(required_agents(&ok, &sl, 20.0, 1.2, None));
        assert!(e.contains("max_occupancy") && e.contains("1.2"), "{e}");
        let e = err(required_agents(&ok, &sl, 20.0, 0.0, None));
        assert!(e.contains("max_occupancy"), "{e}");
        let e = err(required_agents(&ok, &sl, f64::NAN, 0.85, None));
        assert!(e.contains("answer_seconds_for_reporting"), "{e}");
        assert_eq!(
            required_agents(&ok, &Target::AbandonCap { fraction: 0.05 }, 20.0, 0.85, None),
            Err(ErlangError::AbandonTargetWithoutPatience)
        );
        assert!(erlang_b(3, -1.0).unwrap_err().to_string().contains("offered_erlangs"));
        let e = err(erlang_c_metrics(&load(1e12, 3600.0), 14, 20.0));
        assert!(e.contains("offered_erlangs"), "{e}");
        assert!(apply_shrinkage(10, 1.0).unwrap_err().to_string().contains("shrinkage"));
        assert!(matches!(
            required_agents(&ok, &sl, 20.0, 1e-12, None),
            Err(ErlangError::TooManyAgents { .. })
        ));
    }
}
