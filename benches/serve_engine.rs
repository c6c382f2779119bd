//! The daemon's pipeline without HTTP: what the engine thread can apply per second (check,
//! route, encode the log record, absorb events) for a contact's whole life — create (offered
//! at once), accept, complete — and how fast recovery replays a log.
//!
//! `cargo bench --bench serve_engine`. The HTTP layer and the disk sync come on top; the
//! load generator (`peakcrew loadgen`) measures the whole daemon.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use peakcrew_serve::engine::{Actor, Effects, Reply};
use peakcrew_serve::wire::{Login, NewContact, Op};
use peakcrew_serve::{snapshot, store, Dispatcher, Settings};

const AGENTS: usize = 2000;

fn settings() -> Settings {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Settings::load(&root.join("config/loadgen.toml")).expect("config/loadgen.toml is valid")
}

/// An engine with the loadgen's agents logged in (their records in `fx`).
fn engine_with_agents(s: &Settings, fx: &mut Effects) -> Dispatcher {
    let scenario = peakcrew_plan::scenario::Scenario::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/double11.toml"),
    )
    .unwrap();
    let mut engine = Dispatcher::new(&s.policy, &s.catalog, 0).unwrap();
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
fn life(engine: &mut Dispatcher, i: u64, fx: &mut Effects) {
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
    let records = store::Log::read(dir.path()).unwrap().len();
    group.throughput(Throughput::Elements(records));
    group.sample_size(10);
    group.bench_function("replay_log_records", |b| {
        b.iter_batched(
            || (),
            |_| {
                let rec = store::Log::read(dir.path()).unwrap();
                let entries = rec.entries(0).unwrap();
                let e = peakcrew_serve::replay(&s, &entries, rec.epoch_unix_ms).unwrap();
                black_box(e.log_entries())
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// Recovery of a large store (100,000 contact lives, about 300,000 records) by full replay and
/// from a snapshot taken at 90% of the log plus the tail; and writing such a snapshot.
fn recovery(c: &mut Criterion) {
    const LIVES: u64 = 100_000;
    let mut s = settings();
    let full_dir = tempfile::tempdir().unwrap();
    let snap_dir = tempfile::tempdir().unwrap();
    let epoch = {
        let (_, rec) = store::Log::open(full_dir.path(), false).unwrap();
        rec.epoch_unix_ms
    };
    let mut fx = Effects::default();
    let mut engine = engine_with_agents(&s, &mut fx);
    for i in 0..LIVES * 9 / 10 {
        life(&mut engine, i, &mut fx);
    }
    let snapshots = snapshot::Snapshots {
        dir: snap_dir.path().to_path_buf(),
        fingerprint: snapshot::fingerprint(&s.policy, &s.catalog),
        epoch_unix_ms: epoch,
        keep_log: s.durability.keep_log,
    };
    let written = snapshots.write(&engine).unwrap();
    for i in LIVES * 9 / 10..LIVES {
        life(&mut engine, i, &mut fx);
    }
    // The same log in both stores (the header's epoch included).
    {
        let (mut log, _) = store::Log::open(full_dir.path(), false).unwrap();
        log.append(&fx.log).unwrap();
    }
    for (_, segment) in store::segments(full_dir.path()).unwrap() {
        std::fs::copy(&segment, snap_dir.path().join(segment.file_name().unwrap())).unwrap();
    }
    let records = engine.log_entries();
    eprintln!(
        "recovery: {records} records; snapshot covers {} records, {} bytes",
        written.covers, written.bytes
    );

    let mut group = c.benchmark_group("recovery");
    group.sample_size(10);
    for (name, dir) in [
        ("full_replay", full_dir.path()),
        ("snapshot_plus_tail", snap_dir.path()),
    ] {
        s.store = dir.to_path_buf();
        let s = s.clone();
        group.bench_function(name, |b| {
            b.iter(|| {
                let r = peakcrew_serve::recover(&s).unwrap();
                assert_eq!(r.engine.log_entries(), records);
                black_box(r.from_snapshot)
            })
        });
    }
    let scratch = tempfile::tempdir().unwrap();
    let snapshots = snapshot::Snapshots {
        dir: scratch.path().to_path_buf(),
        ..snapshots
    };
    group.bench_function("snapshot_write", |b| {
        b.iter(|| black_box(snapshots.write(&engine).unwrap().bytes))
    });
    group.bench_function("snapshot_copy", |b| {
        b.iter_batched(|| (), |_| engine.clone(), BatchSize::PerIteration)
    });
    group.finish();
}

criterion_group!(benches, bench, recovery);
criterion_main!(benches);
