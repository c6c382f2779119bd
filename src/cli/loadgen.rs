//! `peakcrew loadgen`: drives a running daemon like a Double-11 surge and measures it.
//!
//! Agents of the scenario's groups (in proportion to their headcount) log in; contacts then
//! arrive as a Poisson stream over the scenario's queues (in proportion to their daily volume),
//! ramping from a quarter of `--rate` to the full rate over `--ramp` seconds and holding it
//! for the rest of `--duration`. Each contact is one task: create it, learn its assignment
//! (from the create answer, or from the `offered` event stream when it had to wait), accept,
//! hold it `--handle-ms`, complete. So every contact costs three API calls, and agents free up
//! as in a real center with the time compressed.
//!
//! Reported: contacts assigned per second during the steady part, and percentiles of
//! create-to-assignment latency, measured from the moment the contact was *scheduled* to
//! arrive (so a generator that falls behind shows up as latency rather than hiding it).
//!
//! With `--batch K` arrivals are sent K at a time through `POST /v1/contact-batches`: a batch
//! leaves when it holds K contacts or when its first contact has waited `--linger-ms`,
//! whichever comes first. The wait in the batch counts in the latency (it is measured from
//! each contact's scheduled arrival). The agents' accepts and completes are then batched the
//! same way (K per `POST /v1/contact-actions`, the same linger), as a CTI gateway acting for
//! many agents would; latency is still measured per contact, create to assignment.
//!
//! The target must be a loopback address: this is a load test of a daemon on this machine.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::Global;
use peakcrew_serve::client::Client;

#[derive(Debug, Args)]
pub struct LoadgenArgs {
    /// The daemon, e.g. http://127.0.0.1:7878 (loopback only).
    #[arg(long)]
    pub target: String,
    /// Contacts per second at the peak.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Seconds of load, ramp included.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds over which the rate ramps from a quarter to the full rate (default: a tenth of
    /// the duration). Only contacts scheduled after the ramp are measured.
    #[arg(long)]
    pub ramp: Option<f64>,
    /// An admin token (default: the PEAKCREW_TOKEN environment variable).
    #[arg(long)]
    pub token: Option<String>,
    /// The scenario whose queues and agent groups shape the load (the daemon's own).
    #[arg(long, default_value = "scenarios/double11.toml")]
    pub scenario: PathBuf,
    /// Agents to log in.
    #[arg(long, default_value_t = 1500)]
    pub agents: u32,
    /// Milliseconds an agent holds a contact between accepting and completing it.
    #[arg(long, default_value_t = 100)]
    pub handle_ms: u64,
    /// Connections to the daemon for creates, and as many again for agents' actions.
    #[arg(long, default_value_t = 256)]
    pub connections: usize,
    /// Prefix of contact and agent ids (default: from the clock, so runs never collide).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Speak HTTP/2 (prior knowledge): `--connections` requests in flight over a few
    /// connections instead of one connection per request in flight.
    #[arg(long)]
    pub http2: bool,
    /// Contacts per create request: 1 sends each to `POST /v1/contacts`; more sends them in
    /// batches to `POST /v1/contact-batches`, and agents' accepts and completes in batches to
    /// `POST /v1/contact-actions` (at most the daemon's `limits.max_batch_items`).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// With `--batch` above 1: most milliseconds a contact or action waits for its batch.
    #[arg(long, default_value_t = 1.0)]
    pub linger_ms: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write every measured contact to this CSV (`scheduled_ms,sent_ms,assigned_ms,
    /// at_create`, offsets from the start of the run), to see when in the run a tail happened
    /// and whether the generator or the daemon was late.
    #[arg(long)]
    pub samples: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub target: String,
    pub rate: f64,
    pub duration_s: f64,
    pub ramp_s: f64,
    pub agents: u32,
    pub handle_ms: u64,
    pub connections: usize,
    pub batch: usize,
    pub linger_ms: f64,
    pub created: u64,
    pub assigned: u64,
    pub completed: u64,
    /// Contacts assigned per second while the rate was steady (counted by the time they were
    /// assigned, so a backlog assigned after the run does not count).
    pub steady_contacts_per_s: f64,
    pub steady_window_s: f64,
    /// API calls answered per second over the whole run.
    pub requests_per_s: f64,
    pub latency_ms: Percentiles,
    /// Contacts measured (scheduled after the ramp and assigned).
    pub measured: usize,
    /// Measured contacts assigned in the create answer itself.
    pub assigned_at_create_share: f64,
    pub errors: HashMap<String, u64>,
    /// Contacts still unassigned when the run ended.
    pub unassigned: u64,
}

#[derive(Debug, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// A fixed set of connections, lent one request at a time (HTTP/1.1), or a few HTTP/2
/// connections shared by all requests; `permits` bounds the requests in flight either way.
struct Pool {
    free: Mutex<Vec<Client>>,
    shared: Vec<Client>,
    next: AtomicU64,
    permits: Semaphore,
    addr: SocketAddr,
    token: String,
}

impl Pool {
    async fn call(
        &self,
        post: bool,
        path: &str,
        body: String,
    ) -> Result<peakcrew_serve::client::Answer, String> {
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        if !self.shared.is_empty() {
            let i = self.next.fetch_add(1, Relaxed) as usize % self.shared.len();
            let Some(mut client) = self.shared[i].share() else {
                return Err("not an HTTP/2 connection".into());
            };
            let r = if post {
                client.post(path, body).await
            } else {
                client.get(path).await
            };
            return r.map_err(|e| e.to_string());
        }
        let idle = self.free.lock().map_err(|e| e.to_string())?.pop();
        let mut client = match idle {
            Some(c) if c.is_open() => c,
            _ => Client::connect(self.addr, Some(&self.token))
                .await
                .map_err(|e| e.to_string())?,
        };
        let r = if post {
            client.post(path, body).await
        } else {
            client.get(path).await
        };
        match r {
            Ok(a) => {
                self.free.lock().map_err(|e| e.to_string())?.push(client);
                Ok(a)
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

#[derive(Default)]
struct Tally {
    created: AtomicU64,
    assigned: AtomicU64,
    completed: AtomicU64,
    requests: AtomicU64,
    unassigned: AtomicU64,
    /// Contacts of batches still being served (their tasks are outside the join set).
    in_flight: AtomicU64,
    errors: Mutex<HashMap<String, u64>>,
    /// Contacts scheduled after the ramp.
    samples: Mutex<Vec<Sample>>,
    /// When each contact was assigned (offset µs), all contacts.
    assigned_at: Mutex<Vec<u64>>,
}

impl Tally {
    fn error(&self, what: String) {
        if let Ok(mut e) = self.errors.lock() {
            *e.entry(what).or_default() += 1;
        }
    }
}

/// The parts of answers and events the generator reads (the rest is skipped unparsed).
#[derive(serde::Deserialize)]
struct Offer<'a> {
    #[serde(borrow)]
    contact: Option<&'a str>,
    #[serde(borrow)]
    agent: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct Created<'a> {
    #[serde(borrow)]
    contact: CreatedContact<'a>,
}

#[derive(serde::Deserialize)]
struct BatchCreated<'a> {
    #[serde(borrow)]
    results: Vec<BatchItem<'a>>,
}

#[derive(serde::Deserialize)]
struct BatchItem<'a> {
    status: u16,
    #[serde(borrow)]
    contact: Option<CreatedContact<'a>>,
}

/// One measured contact's times, in µs from the start of the run.
#[derive(Clone, Copy)]
struct Sample {
    scheduled: u64,
    /// When its create request was handed to the connection pool.
    sent: u64,
    assigned: u64,
    at_create: bool,
}

impl Sample {
    fn latency(&self) -> u64 {
        self.assigned.saturating_sub(self.scheduled)
    }
}

/// One arrival on its way: its id, create body and scheduled time.
struct Arrival {
    id: Arc<str>,
    body: String,
    scheduled: Instant,
    measured: bool,
}

/// What a contact's task shares.
#[derive(Clone)]
struct Ctx {
    pool: Arc<Pool>,
    agent_pool: Arc<Pool>,
    tally: Arc<Tally>,
    waiters: Waiters,
    start: Instant,
    handle: Duration,
    give_up: Instant,
    /// With `--batch` above 1: where agents' actions wait for their batch.
    actions: Option<mpsc::UnboundedSender<PendingAction>>,
}

/// An agent's action waiting for its batch, and where its item's status goes.
struct PendingAction {
    body: String,
    reply: oneshot::Sender<Result<u16, String>>,
}

#[derive(serde::Deserialize)]
struct CreatedContact<'a> {
    state: &'a str,
    #[serde(borrow)]
    agent: Option<&'a str>,
}

type Waiters = Arc<Mutex<HashMap<Arc<str>, oneshot::Sender<String>>>>;

pub fn run(args: LoadgenArgs, global: Global) -> anyhow::Result<ExitCode> {
    let addr = target_addr(&args.target)?;
    if !(args.rate.is_finite() && args.rate > 0.0) {
        bail!("--rate: expected a positive rate, found {}", args.rate);
    }
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 3600.0) {
        bail!(
            "--duration: expected 0 to 3600 seconds, found {}",
            args.duration
        );
    }
    if args.connections == 0 || args.agents == 0 || args.batch == 0 {
        bail!("--connections, --agents and --batch must be at least 1");
    }
    if !(args.linger_ms.is_finite() && (0.0..=1000.0).contains(&args.linger_ms)) {
        bail!(
            "--linger-ms: expected 0 to 1000 milliseconds, found {}",
            args.linger_ms
        );
    }
    let ramp = args.ramp.unwrap_or(args.duration / 10.0);
    let token = match args
        .token
        .clone()
        .or_else(|| std::env::var("PEAKCREW_TOKEN").ok())
    {
        Some(t) => t,
        None => bail!("--token: give an admin token, or set PEAKCREW_TOKEN"),
    };
    if !(0.0..args.duration).contains(&ramp) {
        bail!("--ramp: expected 0 to the duration, found {ramp}");
    }
    let scenario = super::load_scenario(&args.scenario)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(drive(args, token, addr, ramp, scenario))?;
    if global.json {
        super::print_json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn target_addr(target: &str) -> anyhow::Result<SocketAddr> {
    let hostport = target
        .strip_prefix("http://")
        .unwrap_or(target)
        .trim_end_matches('/');
    let hostport = hostport.replace("localhost", "127.0.0.1");
    let addr: SocketAddr = hostport
        .parse()
        .with_context(|| format!("--target: expected http://127.0.0.1:PORT, found `{target}`"))?;
    if !addr.ip().is_loopback() {
        bail!("--target: {addr} is not a loopback address; the load generator only drives a daemon on this machine");
    }
    Ok(addr)
}

async fn drive(
    args: LoadgenArgs,
    token: String,
    addr: SocketAddr,
    ramp: f64,
    scenario: peakcrew_plan::scenario::Scenario,
) -> anyhow::Result<Report> {
    let prefix = args.prefix.clone().unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        format!("lg{t}-")
    });
    let new_pool = || async {
        let mut shared = Vec::new();
        if args.http2 {
            // A connection per 100 requests in flight (servers cap streams per connection).
            for _ in 0..args.connections.div_ceil(100) {
                shared.push(Client::connect_h2(addr, Some(&token)).await?);
            }
        }
        anyhow::Ok(Arc::new(Pool {
            free: Mutex::new(Vec::new()),
            shared,
            next: AtomicU64::new(0),
            permits: Semaphore::new(args.connections),
            addr,
            token: token.clone(),
        }))
    };
    // Creates and agents' actions use separate connections, so a surge of arrivals cannot
    // crowd out the completions that free agents (as separate systems would not).
    let pool = new_pool().await?;
    let agent_pool = new_pool().await?;
    let tally = Arc::new(Tally::default());
    let waiters: Waiters = Arc::new(Mutex::new(HashMap::new()));

    // Offers of contacts that had to wait arrive on the event stream.
    let stream = Client::connect(addr, Some(&token)).await?;
    let mut events = match stream.stream("/v1/events?types=offered").await? {
        Ok(s) => s,
        Err(a) => bail!(
            "the event stream was refused: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        ),
    };
    let stream_waiters = waiters.clone();
    tokio::spawn(async move {
        while let Ok(Some(e)) = events.next().await {
            let Ok(Offer {
                contact: Some(contact),
                agent: Some(agent),
            }) = serde_json::from_str::<Offer>(&e.data)
            else {
                continue;
            };
            let waiter = stream_waiters
                .lock()
                .ok()
                .and_then(|mut w| w.remove(contact));
            if let Some(tx) = waiter {
                let _ = tx.send(agent.to_string());
            }
        }
    });

    // Agents, by group headcount.
    let groups = &scenario.groups;
    let total_heads: f64 = groups
        .iter()
        .map(|g| g.headcount as f64)
        .sum::<f64>()
        .max(1.0);
    let mut logins = Vec::new();
    let mut n = 0;
    for (gi, g) in groups.iter().enumerate() {
        let share = if gi + 1 == groups.len() {
            args.agents.saturating_sub(n)
        } else {
            ((g.headcount as f64 / total_heads) * args.agents as f64).round() as u32
        };
        for _ in 0..share.min(args.agents - n) {
            let body =
                serde_json::json!({"skills": g.skills, "languages": g.languages}).to_string();
            logins.push((format!("{prefix}a{n}"), body));
            n += 1;
        }
    }
    let mut handles = Vec::new();
    for chunk in logins.chunks(logins.len().div_ceil(args.connections).max(1)) {
        let chunk = chunk.to_vec();
        let pool = pool.clone();
        handles.push(tokio::spawn(async move {
            for (id, body) in chunk {
                let a = pool
                    .call(true, &format!("/v1/agents/{id}/login"), body)
                    .await?;
                if a.status != 200 {
                    return Err(format!(
                        "login of {id}: {} {}",
                        a.status,
                        String::from_utf8_lossy(&a.body)
                    ));
                }
            }
            Ok(())
        }));
    }
    for h in handles {
        h.await?.map_err(|e| anyhow::anyhow!(e))?;
    }

    // The queue mix.
    let weights: Vec<f64> = scenario
        .queues
        .iter()
        .map(|q| q.volume.daily_contacts.max(0.0))
        .collect();
    let total_weight: f64 = weights.iter().sum::<f64>().max(1e-9);
    let queues: Vec<Arc<str>> = scenario
        .queues
        .iter()
        .map(|q| Arc::from(q.id.as_str()))
        .collect();

    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let unit = Exp::new(1.0).map_err(|e| anyhow::anyhow!("{e}"))?;
    let start = Instant::now();
    let end = Duration::from_secs_f64(args.duration);
    let handle = Duration::from_millis(args.handle_ms);
    let mut t = 0.0f64;
    let mut tasks = tokio::task::JoinSet::new();
    let mut i: u64 = 0;
    let ctx = Ctx {
        pool: pool.clone(),
        agent_pool: agent_pool.clone(),
        tally: tally.clone(),
        waiters: waiters.clone(),
        start,
        handle,
        give_up: start + end + Duration::from_secs(10),
        actions: None,
    };
    let linger = Duration::from_secs_f64(args.linger_ms / 1000.0);
    let ctx = if args.batch > 1 {
        let (tx, rx) = mpsc::unbounded_channel();
        // Outside the join set: it runs until the generator stops, not until load drains.
        tokio::spawn(batch_actions(
            agent_pool.clone(),
            tally.clone(),
            rx,
            args.batch,
            linger,
        ));
        Ctx {
            actions: Some(tx),
            ..ctx
        }
    } else {
        ctx
    };
    let mut pending: Vec<Arrival> = Vec::with_capacity(args.batch);
    let mut first_pending = start;
    loop {
        let rate = if t < ramp {
            args.rate * (0.25 + 0.75 * t / ramp)
        } else {
            args.rate
        };
        t += unit.sample(&mut rng) / rate;
        if t >= args.duration {
            break;
        }
        let scheduled = Duration::from_secs_f64(t);
        if !pending.is_empty() && start + scheduled > first_pending + linger {
            // The batch in hand has waited long enough: it leaves before the next arrival.
            tokio::time::sleep_until((first_pending + linger).into()).await;
            let batch = std::mem::replace(&mut pending, Vec::with_capacity(args.batch));
            tasks.spawn(contact_batch(ctx.clone(), batch));
        }
        let elapsed = start.elapsed();
        if scheduled > elapsed {
            tokio::time::sleep(scheduled - elapsed).await;
        }
        let mut pick = rng.random::<f64>() * total_weight;
        let mut q = 0;
        while q + 1 < weights.len() && pick >= weights[q] {
            pick -= weights[q];
            q += 1;
        }
        let id: Arc<str> = format!("{prefix}c{i}").into();
        i += 1;
        // Ids and queue names are plain URL-safe words: no JSON escaping is needed.
        let body = format!(
            r#"{{"id":"{id}","queue":"{}","customer_id":"{prefix}u{i}"}}"#,
            queues[q]
        );
        let arrival = Arrival {
            id,
            body,
            scheduled: start + scheduled,
            measured: t >= ramp,
        };
        if args.batch == 1 {
            tasks.spawn(contact(ctx.clone(), arrival));
        } else {
            if pending.is_empty() {
                first_pending = start + scheduled;
            }
            pending.push(arrival);
            if pending.len() >= args.batch {
                let batch = std::mem::replace(&mut pending, Vec::with_capacity(args.batch));
                tasks.spawn(contact_batch(ctx.clone(), batch));
            }
        }
        // Reap finished tasks now and then so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    if !pending.is_empty() {
        tasks.spawn(contact_batch(ctx.clone(), pending));
    }
    let drain_until = Instant::now() + Duration::from_secs(12);
    while !tasks.is_empty() && Instant::now() < drain_until {
        let _ = tokio::time::timeout(Duration::from_millis(200), tasks.join_next()).await;
    }
    while tally.in_flight.load(Relaxed) > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tasks.abort_all();
    let wall = start.elapsed().as_secs_f64();

    let mut samples = tally.samples.lock().map(|s| s.clone()).unwrap_or_default();
    let window = (args.duration - ramp).max(1e-9);
    let (from, to) = ((ramp * 1e6) as u64, (args.duration * 1e6) as u64);
    let in_window = tally
        .assigned_at
        .lock()
        .map(|a| a.iter().filter(|&&t| t >= from && t < to).count())
        .unwrap_or(0);
    let steady = in_window as f64 / window;
    if let Some(path) = &args.samples {
        write_samples(path, &samples)?;
    }
    let at_create = samples.iter().filter(|s| s.at_create).count();
    samples.sort_unstable_by_key(Sample::latency);
    let pct = |p: f64| -> f64 {
        if samples.is_empty() {
            return f64::NAN;
        }
        let k = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[k].latency() as f64 / 1000.0
    };
    Ok(Report {
        target: args.target.clone(),
        rate: args.rate,
        duration_s: args.duration,
        ramp_s: ramp,
        agents: args.agents,
        handle_ms: args.handle_ms,
        connections: args.connections,
        batch: args.batch,
        linger_ms: args.linger_ms,
        created: tally.created.load(Relaxed),
        assigned: tally.assigned.load(Relaxed),
        completed: tally.completed.load(Relaxed),
        steady_contacts_per_s: steady,
        steady_window_s: window,
        requests_per_s: tally.requests.load(Relaxed) as f64 / wall,
        latency_ms: Percentiles {
            p50: pct(0.5),
            p90: pct(0.9),
            p99: pct(0.99),
            p999: pct(0.999),
            max: pct(1.0),
        },
        measured: samples.len(),
        assigned_at_create_share: at_create as f64 / samples.len().max(1) as f64,
        errors: tally.errors.lock().map(|e| e.clone()).unwrap_or_default(),
        unassigned: tally
            .created
            .load(Relaxed)
            .saturating_sub(tally.assigned.load(Relaxed)),
    })
}

/// One contact created alone, then assigned, accepted and completed.
async fn contact(ctx: Ctx, arrival: Arrival) {
    let rx = ctx.wait_for_offer(&arrival.id);
    let sent = Instant::now();
    let created = ctx.pool.call(true, "/v1/contacts", arrival.body).await;
    ctx.tally.requests.fetch_add(1, Relaxed);
    let answer = match created {
        Ok(a) if a.status == 201 => a,
        Ok(a) => return ctx.create_failed(&arrival.id, format!("create {}", a.status)),
        Err(e) => return ctx.create_failed(&arrival.id, format!("create: {e}")),
    };
    let offer = match serde_json::from_slice::<Created>(&answer.body) {
        Ok(c) => offer_in(&c.contact),
        Err(e) => return ctx.create_failed(&arrival.id, format!("create answer: {e}")),
    };
    ctx.tally.created.fetch_add(1, Relaxed);
    let (id, scheduled, measured) = (arrival.id, arrival.scheduled, arrival.measured);
    ctx.serve(id, (scheduled, sent), measured, offer, rx).await;
}

/// Contacts created in one batch request; each then goes on as a task of its own.
async fn contact_batch(ctx: Ctx, batch: Vec<Arrival>) {
    let offers: Vec<_> = batch.iter().map(|a| ctx.wait_for_offer(&a.id)).collect();
    let body = json_array(batch.iter().map(|a| a.body.as_str()));
    let sent = Instant::now();
    let created = ctx.pool.call(true, "/v1/contact-batches", body).await;
    ctx.tally.requests.fetch_add(1, Relaxed);
    let fail = |what: String| {
        for a in &batch {
            ctx.create_failed(&a.id, what.clone());
        }
    };
    let answer = match created {
        Ok(a) if a.status == 201 || a.status == 207 => a,
        Ok(a) => return fail(format!("create batch {}", a.status)),
        Err(e) => return fail(format!("create batch: {e}")),
    };
    let results = match serde_json::from_slice::<BatchCreated>(&answer.body) {
        Ok(r) if r.results.len() == batch.len() => r.results,
        Ok(r) => {
            return fail(format!(
                "create batch answered {} results for {} contacts",
                r.results.len(),
                batch.len()
            ))
        }
        Err(e) => return fail(format!("create batch answer: {e}")),
    };
    for ((arrival, item), rx) in batch.into_iter().zip(results).zip(offers) {
        let Some(c) = item.contact.filter(|_| item.status == 201) else {
            ctx.create_failed(&arrival.id, format!("create {}", item.status));
            continue;
        };
        ctx.tally.created.fetch_add(1, Relaxed);
        let offer = offer_in(&c);
        let ctx = ctx.clone();
        ctx.tally.in_flight.fetch_add(1, Relaxed);
        tokio::spawn(async move {
            let times = (arrival.scheduled, sent);
            ctx.serve(arrival.id, times, arrival.measured, offer, rx)
                .await;
            ctx.tally.in_flight.fetch_sub(1, Relaxed);
        });
    }
}

/// The agent a create answer offered the contact to, if it was offered at once.
fn offer_in(c: &CreatedContact) -> Option<String> {
    (c.state == "offered").then(|| c.agent.unwrap_or_default().to_string())
}

impl Ctx {
    /// Registers for the contact's `offered` event (before creating it, so none is missed).
    fn wait_for_offer(&self, id: &Arc<str>) -> oneshot::Receiver<String> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiters.lock() {
            w.insert(id.clone(), tx);
        }
        rx
    }

    fn create_failed(&self, id: &Arc<str>, what: String) {
        self.tally.error(what);
        self.waiters.lock().ok().map(|mut w| w.remove(id));
    }

    /// After the create (`times`: when it was scheduled and sent): learns the assignment (from
    /// the answer, or the event stream), then accepts, holds and completes.
    async fn serve(
        &self,
        id: Arc<str>,
        times: (Instant, Instant),
        measured: bool,
        offered_now: Option<String>,
        rx: oneshot::Receiver<String>,
    ) {
        let tally = &self.tally;
        let at_create = offered_now.is_some();
        let agent = match offered_now {
            Some(agent) => {
                self.waiters.lock().ok().map(|mut w| w.remove(&id));
                agent
            }
            None => match tokio::time::timeout_at(self.give_up.into(), rx).await {
                Ok(Ok(agent)) => agent,
                _ => {
                    tally.unassigned.fetch_add(1, Relaxed);
                    self.waiters.lock().ok().map(|mut w| w.remove(&id));
                    return;
                }
            },
        };
        let now = Instant::now();
        tally.assigned.fetch_add(1, Relaxed);
        if let Ok(mut a) = tally.assigned_at.lock() {
            a.push(now.saturating_duration_since(self.start).as_micros() as u64);
        }
        if measured {
            let offset = |t: Instant| t.saturating_duration_since(self.start).as_micros() as u64;
            let sample = Sample {
                scheduled: offset(times.0),
                sent: offset(times.1),
                assigned: offset(now),
                at_create,
            };
            if let Ok(mut s) = tally.samples.lock() {
                s.push(sample);
            }
        }
        for (step, verb) in ["accept", "complete"].into_iter().enumerate() {
            if step == 1 {
                tokio::time::sleep(self.handle).await;
            }
            match self.act(&id, verb, &agent).await {
                Ok(200) => {}
                Ok(status) => {
                    tally.error(format!("{verb} {status}"));
                    return;
                }
                Err(e) => {
                    tally.error(format!("{verb}: {e}"));
                    return;
                }
            }
        }
        tally.completed.fetch_add(1, Relaxed);
    }
}

impl Ctx {
    /// One agent action (`accept` or `complete`): alone, or in the next batch of actions.
    /// Answers the action's status.
    async fn act(&self, id: &str, verb: &str, agent: &str) -> Result<u16, String> {
        let Some(actions) = &self.actions else {
            let body = format!("{{\"agent\":\"{agent}\"}}");
            let r = self
                .agent_pool
                .call(true, &format!("/v1/contacts/{id}/{verb}"), body)
                .await;
            self.tally.requests.fetch_add(1, Relaxed);
            return r.map(|a| a.status);
        };
        let (reply, rx) = oneshot::channel();
        // Ids and agent names are plain URL-safe words: no JSON escaping is needed.
        let body = format!(r#"{{"contact":"{id}","action":"{verb}","agent":"{agent}"}}"#);
        actions
            .send(PendingAction { body, reply })
            .map_err(|_| "the action batcher stopped".to_string())?;
        rx.await
            .unwrap_or_else(|_| Err("the action batch was dropped".into()))
    }
}

/// Gathers agents' actions into batches: one leaves when it holds `k` actions or when its first
/// has waited `linger`, whichever comes first, as arrivals do.
async fn batch_actions(
    pool: Arc<Pool>,
    tally: Arc<Tally>,
    mut rx: mpsc::UnboundedReceiver<PendingAction>,
    k: usize,
    linger: Duration,
) {
    while let Some(first) = rx.recv().await {
        let deadline = tokio::time::Instant::now() + linger;
        let mut batch = vec![first];
        while batch.len() < k {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(a)) => batch.push(a),
                _ => break,
            }
        }
        tokio::spawn(send_actions(pool.clone(), tally.clone(), batch));
    }
}

/// `[item,item,...]` from items that are JSON already.
fn json_array<'a>(items: impl Iterator<Item = &'a str> + Clone) -> String {
    let len: usize = items.clone().map(|i| i.len() + 1).sum();
    let mut body = String::with_capacity(len + 2);
    body.push('[');
    for (k, item) in items.enumerate() {
        if k > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push(']');
    body
}

/// Sends one batch of actions and hands each its item's status.
async fn send_actions(pool: Arc<Pool>, tally: Arc<Tally>, batch: Vec<PendingAction>) {
    let body = json_array(batch.iter().map(|a| a.body.as_str()));
    let r = pool.call(true, "/v1/contact-actions", body).await;
    tally.requests.fetch_add(1, Relaxed);
    let statuses = match r {
        Ok(a) if a.status == 200 || a.status == 207 => {
            match serde_json::from_slice::<BatchCreated>(&a.body) {
                Ok(r) if r.results.len() == batch.len() => {
                    Ok(r.results.iter().map(|i| i.status).collect::<Vec<_>>())
                }
                Ok(r) => Err(format!(
                    "action batch answered {} results for {} actions",
                    r.results.len(),
                    batch.len()
                )),
                Err(e) => Err(format!("action batch answer: {e}")),
            }
        }
        Ok(a) => Err(format!("action batch {}", a.status)),
        Err(e) => Err(format!("action batch: {e}")),
    };
    match statuses {
        Ok(statuses) => {
            for (a, status) in batch.into_iter().zip(statuses) {
                let _ = a.reply.send(Ok(status));
            }
        }
        Err(e) => {
            for a in batch {
                let _ = a.reply.send(Err(e.clone()));
            }
        }
    }
}

fn write_samples(path: &std::path::Path, samples: &[Sample]) -> anyhow::Result<()> {
    let ms = |us: u64| format!("{:.3}", us as f64 / 1000.0);
    let file = std::fs::File::create(path)
        .with_context(|| format!("--samples: creating {}", path.display()))?;
    peakcrew_plan::csv_rows::write_records(
        file,
        ["scheduled_ms", "sent_ms", "assigned_ms", "at_create"],
        samples.iter().map(|s| {
            [
                ms(s.scheduled),
                ms(s.sent),
                ms(s.assigned),
                s.at_create.to_string(),
            ]
        }),
    )
    .with_context(|| format!("--samples: writing {}", path.display()))
}

fn print_report(r: &Report) {
    println!(
        "load: {} contacts/s peak for {} s (ramp {} s), {} agents, handle {} ms, {} connections, batch {} (linger {} ms)",
        r.rate, r.duration_s, r.ramp_s, r.agents, r.handle_ms, r.connections, r.batch, r.linger_ms
    );
    println!(
        "contacts: {} created, {} assigned, {} completed, {} unassigned at the end",
        r.created, r.assigned, r.completed, r.unassigned
    );
    println!(
        "sustained: {:.0} contacts/s assigned during the steady {:.1} s; {:.0} API calls/s",
        r.steady_contacts_per_s, r.steady_window_s, r.requests_per_s
    );
    let l = &r.latency_ms;
    println!(
        "create-to-assignment (ms, from scheduled arrival, {} contacts): p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        r.measured, l.p50, l.p90, l.p99, l.p999, l.max
    );
    println!(
        "assigned in the create answer: {:.1}%",
        100.0 * r.assigned_at_create_share
    );
    if !r.errors.is_empty() {
        let mut e: Vec<_> = r.errors.iter().collect();
        e.sort();
        println!("errors: {e:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(target_addr("http://127.0.0.1:7878").is_ok());
        assert!(target_addr("localhost:7878/").is_ok());
        assert!(target_addr("http://10.0.0.1:7878").is_err());
        assert!(target_addr("http://example.com").is_err());
    }
}
