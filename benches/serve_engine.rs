//! The daemon's pipeline without HTTP: what the engine thread can apply per second (check,
//! route, encode the log record, absorb events) for a contact's whole life — create (offered
//! at once), accept, complete — and how fast recovery replays a log.
//!
//! `cargo bench --bench serve_engine`. The HTTP layer and the disk sync come on top; the
//! load generator (`peakcrew loadgen`) measures the whole daemon.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use peakcrew::serve::engine::{Actor, Effects, Login, NewContact, Op, Reply};
use peakcrew::serve::{store, Engine, Settings};

const AGENTS: usize = 2000;

fn settings() -> Settings {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Settings::load(&root.join("config/loadgen.toml")).expect("config/loadgen.toml is valid")
}

/// An engine with the loadgen's agents logged in (their records in `fx`).
fn engine_with_agents(s: &Settings, fx: &mut Effects) -> Engine {
    let scenario = peakcrew::scenario::Scenario::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/double11.toml"),
    )
    .unwrap();
    let mut engine = Engine::new(&s.policy, &s.catalog, 0).unwrap();
    for i in 0..AGENTS {
        let g = &scenario.groups[i % scenario.groups.len()];
        let op = Op::Login(Login {
            agent: format!("a{i}"),
            skills: g.skills.clone(),
            languages: g.languages.clone(),
            capacity: None,
        });
        engine.apply(&op, &Actor::Admin, 0, fx).unwrap();
    }
    engine
}

const QUEUES: [&str; 6] = [
    "zh-presales-chat",
    "zh-aftersales-chat",
    "zh-returns-chat",
    "zh-membership-chat",
    "zh-hotline",
    "zh-social",
];

/// One contact's life: created (and offered at once), accepted, completed.
fn life(engine: &mut Engine, i: u64, fx: &mut Effects) {
    let now = 1 + i / 20;
    let create = Op::Create(NewContact {
        id: format!("c{i}"),
        queue: QUEUES[(i % 6) as usize].to_string(),
        language: None,
        priority: None,
        tier: Default::default(),
        customer_id: Some(format!("u{i}")),
    });
    let agent = match engine.apply(&create, &Actor::Admin, now, fx) {
        Ok(Reply::Contact { contact, .. }) => contact.agent.map(|a| a.to_string()),
        _ => None,
    };
    if let Some(agent) = agent {
        for op in [
            Op::Accept {
                contact: format!("c{i}"),
                agent: agent.clone(),
            },
            Op::Complete {
                contact: format!("c{i}"),
                agent,
            },
        ] {
            engine.apply(&op, &Actor::Admin, now, fx).unwrap();
        }
    }
}

fn bench(c: &mut Criterion) {
    let s = settings();
    let mut group = c.benchmark_group("serve_engine");
    group.throughput(Throughput::Elements(1));
    group.bench_function("contact_life_create_accept_complete", |b| {
        let mut fx = Effects::default();
        let mut engine = engine_with_agents(&s, &mut fx);
        let mut i = 0u64;
        b.iter(|| {
            life(&mut engine, i, &mut fx);
            i += 1;
            if fx.log.len() > 1 << 20 {
                fx.log.clear();
            }
            black_box(&fx.log);
        });
    });

    // Recovery: decode and replay a log of 30,000 contact lives (about 92,000 records).
    let mut fx = Effects::default();
    let mut engine = engine_with_agents(&s, &mut fx);
    for i in 0..30_000 {
        life(&mut engine, i, &mut fx);
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _) = store::Log::open(dir.path(), false).unwrap();
        log.append(&fx.log).unwrap();
    }
    let records = store::Log::read(dir.path()).unwrap().entries.len() as u64;
    group.throughput(Throughput::Elements(records));
    group.sample_size(10);
    group.bench_function("replay_log_records", |b| {
        b.iter_batched(
            || (),
            |_| {
                let rec = store::Log::read(dir.path()).unwrap();
                let e = peakcrew::serve::replay(&s, &rec.entries, rec.epoch_unix_ms).unwrap();
                black_box(e.log_entries())
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
