//! Routing core speed: decisions per second and per-decision latency.
//!
//! The world of issue 6: 10,000 logged-in agents, 50 skills, 8 languages (400 queues, one per
//! skill and language, phone and chat alternating), 50,000 waiting contacts. Agents hold three
//! random skills at random levels and one or two languages; the policy has a base minimum
//! proficiency of 2 and a relaxation ring at 30 s, longest-idle selection with specialists
//! first, priority aging and SLA urgency.
//!
//! A **decision** is one arrival or one agent freeing up, matched. In the saturated world every
//! agent is full, so one cycle is: an agent completes a contact and takes the best waiting one
//! (decision 1; its accept follows), and a new contact arrives and finds no free agent, so it
//! queues (decision 2). The simulated clock moves 1 ms per cycle, so waiting contacts age, cross
//! their relaxation ring (its timer fires and the contact looks for an agent again) and stale
//! offer timers drain: the time-driven work is inside the measurement.
//!
//! `decision/idle-agents` is the opposite regime (few contacts, many free agents: every arrival
//! is matched through the agent pools at once). `latency` times single decisions with
//! `Instant` and prints p50/p99/p99.9. Run: `cargo bench --bench routing`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use peakcrew_core::model::{
    Channel, IntradayProfile, Language, Proficiency, Queue, Skill, SkillLevel, SlaTarget,
    VolumeProfile,
};
use peakcrew_core::routing::{
    AgentId, Catalog, Command, ContactId, Event, EventKind, Millis, RelaxationStep, Router,
    RoutingPolicy, Tier,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SKILLS: usize = 50;
const LANGS: usize = 8;
const AGENTS: u64 = 10_000;
const WAITING: usize = 50_000;

fn catalog() -> Catalog {
    let mut queues = Vec::new();
    for s in 0..SKILLS {
        for l in 0..LANGS {
            let phone = (s + l) % 2 == 1;
            queues.push(Queue {
                id: format!("q-{s}-{l}"),
                name: String::new(),
                channel: if phone { Channel::Phone } else { Channel::Chat },
                skill: Skill::new(format!("s{s}")),
                language: Language::new(format!("l{l}")),
                sla: SlaTarget::ServiceLevel {
                    fraction: 0.8,
                    answer_seconds: if phone { 20.0 } else { 90.0 },
                },
                patience_seconds: None,
                concurrency: if phone { 1 } else { 3 },
                aht_seconds: 300.0,
                priority: 2 + (s % 5) as u8,
                max_occupancy: None,
                shrinkage: None,
                volume: VolumeProfile {
                    daily_contacts: 0.0,
                    profile: IntradayProfile::Spread,
                    weekend_factor: 1.0,
                    annual_growth: 0.0,
                },
            });
        }
    }
    Catalog::from_queues(queues)
}

fn policy() -> RoutingPolicy {
    let mut p = RoutingPolicy {
        min_proficiency: 2,
        relaxation: vec![RelaxationStep {
            after_seconds: 30.0,
            expires_after_seconds: None,
            min_proficiency: Some(1),
            skills: Vec::new(),
            languages: Vec::new(),
        }],
        ..RoutingPolicy::default()
    };
    p.ordering.priority_aging_seconds = 120.0;
    p.wrap_up.phone = Some(0.0);
    p.wrap_up.chat = Some(0.0);
    p
}

/// A loaded router and the driver's view of it.
struct World {
    router: Router,
    rng: ChaCha8Rng,
    now: Millis,
    next_contact: u64,
    /// Accepted contacts and their agents.
    accepted: Vec<(ContactId, AgentId)>,
    events: Vec<Event>,
    decisions: u64,
    queue_names: Vec<String>,
}

impl World {
    fn new(waiting: usize) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let router = Router::new(&policy(), &catalog()).expect("valid bench policy");
        let mut w = World {
            router,
            rng: ChaCha8Rng::seed_from_u64(7),
            now: 0,
            next_contact: 0,
            accepted: Vec::new(),
            events: Vec::new(),
            decisions: 0,
            queue_names: (0..SKILLS * LANGS)
                .map(|q| format!("q-{}-{}", q / LANGS, q % LANGS))
                .collect(),
        };
        for a in 0..AGENTS {
            let mut skills: Vec<usize> = Vec::new();
            while skills.len() < 3 {
                let s = rng.random_range(0..SKILLS);
                if !skills.contains(&s) {
                    skills.push(s);
                }
            }
            let first = rng.random_range(0..LANGS);
            let mut languages = vec![Language::new(format!("l{first}"))];
            if rng.random_bool(0.5) {
                languages.push(Language::new(format!("l{}", (first + 1) % LANGS)));
            }
            let command = Command::Login {
                agent: AgentId(a),
                skills: skills
                    .iter()
                    .map(|s| SkillLevel {
                        skill: Skill::new(format!("s{s}")),
                        proficiency: Proficiency::new(rng.random_range(1..=5)).unwrap(),
                    })
                    .collect(),
                languages,
                capacity: None,
            };
            w.send(command);
        }
        // Fill every agent, then build the backlog.
        // Nothing completes yet, so whatever arrived and was not accepted is waiting.
        while (w.next_contact as usize) < waiting + w.accepted.len() {
            w.arrive();
            w.now += 1;
        }
        w
    }

    fn send(&mut self, command: Command) {
        self.router
            .apply_into(command, self.now, &mut self.events)
            .expect("bench commands are valid");
        self.accept_offers();
    }

    /// Accepts every offer among the new events (agents answer at once).
    fn accept_offers(&mut self) {
        let mut i = 0;
        while i < self.events.len() {
            if let EventKind::Offered { contact, agent, .. } = self.events[i].kind {
                self.router
                    .apply_into(
                        Command::Accept { contact, agent },
                        self.now,
                        &mut self.events,
                    )
                    .expect("the offered agent accepts");
                self.accepted.push((contact, agent));
            }
            i += 1;
        }
        self.events.clear();
    }

    fn arrive(&mut self) {
        let q = self.rng.random_range(0..SKILLS * LANGS);
        let contact = ContactId(self.next_contact);
        self.next_contact += 1;
        self.send(Command::Arrive {
            contact,
            queue: self.queue_names[q].clone(),
            language: None,
            priority: None,
            tier: Tier::Standard,
            customer: None,
        });
        self.decisions += 1;
    }

    fn complete_one(&mut self) {
        let i = self.rng.random_range(0..self.accepted.len());
        let (contact, agent) = self.accepted.swap_remove(i);
        self.send(Command::Complete { contact, agent });
        self.decisions += 1;
    }

    /// One cycle: an agent frees up and is matched, a contact arrives.
    fn cycle(&mut self) {
        self.now += 1;
        self.complete_one();
        self.arrive();
    }
}

/// The driver's own work (picking a contact to complete, cloning the queue name into the
/// command, accepting the offer) is inside the timed region, so the figures include it.
fn decisions(c: &mut Criterion) {
    let mut group = c.benchmark_group("decision");
    group.throughput(Throughput::Elements(2));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));

    let mut saturated = World::new(WAITING);
    group.bench_function("saturated-50k-waiting", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                saturated.cycle();
            }
            start.elapsed()
        })
    });
    let waiting: u32 = saturated
        .router
        .queue_stats()
        .iter()
        .map(|q| q.waiting)
        .sum();
    println!(
        "saturated world after the run: {} agents, {waiting} waiting, {} decisions, clock {} s",
        AGENTS,
        saturated.decisions,
        saturated.now / 1000
    );
    drop(saturated);

    let mut idle = World::new(0);
    // Free most agents: complete contacts until 7,000 agents are idle.
    while idle.accepted.len() > 3 * AGENTS as usize / 10 {
        idle.complete_one();
    }
    group.bench_function("idle-agents", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                idle.now += 1;
                idle.arrive();
                idle.complete_one();
            }
            start.elapsed()
        })
    });
    group.finish();
}

/// Per-decision latency: each decision (with the accept it triggers) timed on its own.
fn latency(c: &mut Criterion) {
    let mut w = World::new(WAITING);
    let mut samples: Vec<u64> = Vec::with_capacity(4_000_000);
    c.bench_function("latency/saturated-decision", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                w.now += 1;
                let t = Instant::now();
                w.complete_one();
                let d = t.elapsed();
                samples.push(d.as_nanos() as u64);
                total += d;
                let t = Instant::now();
                w.arrive();
                let d = t.elapsed();
                samples.push(d.as_nanos() as u64);
                total += d;
            }
            total / 2
        })
    });
    samples.sort_unstable();
    let q = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    println!(
        "per-decision latency over {} decisions: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        samples.len(),
        q(0.50),
        q(0.99),
        q(0.999),
        samples.last().copied().unwrap_or(0)
    );
}

/// What a simulator pays per replication: a clone of a freshly built router, and a reset.
fn replication(c: &mut Criterion) {
    let fresh = Router::new(&policy(), &catalog()).expect("valid bench policy");
    c.bench_function("replication/clone-fresh-router", |b| {
        b.iter(|| black_box(fresh.clone()))
    });
    let loaded = World::new(5_000).router;
    c.bench_function("replication/reset-loaded-router", |b| {
        b.iter_batched_ref(
            || loaded.clone(),
            |r| {
                r.reset();
                black_box(&*r);
            },
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, decisions, latency, replication);
criterion_main!(benches);
