//! End-to-end tests of `peakcrew serve`: the real binary on 127.0.0.1 with a temporary store.
//!
//! - crash recovery: a concurrent workload (single and batched creates, single and batched
//!   accepts and completes),
//!   kill -9 at random moments, restart; every
//!   acknowledged contact is there with the state it was acknowledged in, no contact is
//!   assigned twice, and the live state equals an offline replay of the log;
//! - roles: what each token may and may not do;
//! - bad input: every class of bad request gets a 4xx JSON error naming the field, and in a
//!   batch each item gets its own result;
//! - limits: body size, rate limit; streams deliver an agent's offers.
//!
//! Every loop is bounded in count and time, and every daemon is started with `--stop-after`
//! and killed when its handle drops.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use peakcrew_serve::client::{Answer, Client};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const ADMIN: &str = "test-admin-token-000000";
const INTEGRATION: &str = "test-integration-token-0";
const AGENT1: &str = "test-agent-1-token-00000";
const AGENT2: &str = "test-agent-2-token-00000";
const SLOW: &str = "test-slow-token-00000000";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A daemon file in `dir`: the bundled scenario, `policy` (a TOML fragment), one token of
/// each role, a slow token for the rate limit, and `limits`.
fn write_config(dir: &Path, policy: &str, limits: &str) -> PathBuf {
    let path = dir.join("serve.toml");
    let text = format!(
        r#"[server]
listen = "127.0.0.1:0"
scenario = "{scenario}"
store = "store"
{policy_file}
[server.limits]
rate_per_second = 100000
burst = 100000
{limits}

[[server.tokens]]
name = "admin"
role = "admin"
token = "{ADMIN}"

[[server.tokens]]
name = "platform"
role = "integration"
token = "{INTEGRATION}"

[[server.tokens]]
name = "agent-1"
role = "agent"
agent = "a-1"
token = "{AGENT1}"

[[server.tokens]]
name = "agent-2"
role = "agent"
agent = "a-2"
token = "{AGENT2}"

[[server.tokens]]
name = "slow"
role = "integration"
token = "{SLOW}"
rate_per_second = 0.01
burst = 3
{inline}
"#,
        scenario = root().join("scenarios/double11.toml").display(),
        policy_file = if policy.is_empty() {
            format!(
                "policy_file = \"{}\"",
                root().join("config/router.toml").display()
            )
        } else {
            String::new()
        },
        inline = policy,
    );
    std::fs::write(&path, text).unwrap();
    path
}

struct Daemon {
    child: Child,
    addr: SocketAddr,
    started: Value,
}

impl Daemon {
    fn start(config: &Path) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
            .args(["serve", "--stop-after", "90", "--config"])
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the daemon did not report its address in 30 s");
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("first line `{line}` is not JSON: {e}"));
        let addr = started["listening"].as_str().unwrap().parse().unwrap();
        Daemon {
            child,
            addr,
            started,
        }
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    async fn client(&self, token: &str) -> Client {
        Client::connect(self.addr, Some(token)).await.unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error_of(a: &Answer) -> (u16, String, Option<String>) {
    let v = a.json();
    (
        a.status,
        v["error"]["code"].as_str().unwrap_or("").to_string(),
        v["error"]["field"].as_str().map(String::from),
    )
}

fn chat_agent(skills: &[(&str, u8)], languages: &[&str]) -> String {
    let skills: Vec<Value> = skills
        .iter()
        .map(|(s, p)| json!({"skill": s, "proficiency": p}))
        .collect();
    json!({"skills": skills, "languages": languages}).to_string()
}

// ---------------------------------------------------------------------------------- crash

/// What the workload was told, and so what must survive any crash.
#[derive(Default, Clone)]
struct Acked {
    /// Contact id → create body.
    created: HashMap<String, String>,
    /// Contact id → agent whose accept was acknowledged.
    accepted: HashMap<String, String>,
    completed: HashSet<String>,
    /// Offers seen (from create answers and the event stream), not yet taken by a worker.
    offers: Vec<(String, String)>,
    taken: HashSet<String>,
}

const QUEUES: [&str; 5] = [
    "zh-presales-chat",
    "zh-aftersales-chat",
    "zh-returns-chat",
    "zh-membership-chat",
    "en-chat",
];

async fn worker(
    addr: SocketAddr,
    seed: u64,
    acked: Arc<Mutex<Acked>>,
    stop: Arc<AtomicBool>,
    deadline: Instant,
) {
    let Ok(mut c) = Client::connect(addr, Some(ADMIN)).await else {
        return;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut n = 0;
    // Bounded: at most 2,000 requests or until the deadline or the crash.
    for _ in 0..2000 {
        if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
            return;
        }
        let roll: f64 = rng.random();
        let offer = if roll < 0.45 {
            let mut a = acked.lock().unwrap();
            let i = a.offers.iter().position(|(id, _)| !a.taken.contains(id));
            i.map(|i| {
                let o = a.offers.swap_remove(i);
                a.taken.insert(o.0.clone());
                o
            })
        } else {
            None
        };
        if let Some((id, agent)) = offer {
            if roll < 0.15 {
                // Accept and complete in one batch of actions, applied in order.
                let items = json!([
                    {"contact": id, "action": "accept", "agent": agent},
                    {"contact": id, "action": "complete", "agent": agent},
                ]);
                let Ok(r) = c.post("/v1/contact-actions", items.to_string()).await else {
                    return;
                };
                assert_eq!(r.status, 200, "actions on {id} by {agent}: {:?}", r.json());
                let mut a = acked.lock().unwrap();
                a.accepted.insert(id.clone(), agent);
                a.completed.insert(id);
                continue;
            }
            let body = json!({ "agent": agent }).to_string();
            let Ok(r) = c
                .post(&format!("/v1/contacts/{id}/accept"), body.clone())
                .await
            else {
                return;
            };
            assert_eq!(r.status, 200, "accept {id} by {agent}: {:?}", r.json());
            acked
                .lock()
                .unwrap()
                .accepted
                .insert(id.clone(), agent.clone());
            let Ok(r) = c.post(&format!("/v1/contacts/{id}/complete"), body).await else {
                return;
            };
            assert_eq!(r.status, 200, "complete {id}: {:?}", r.json());
            acked.lock().unwrap().completed.insert(id);
            continue;
        }
        if roll < 0.60 {
            // A batch of new contacts, now and then with a retry of an acknowledged one.
            let mut items = Vec::new();
            for _ in 0..rng.random_range(2..8) {
                n += 1;
                let id = format!("w{seed}-{n}");
                items.push(json!({
                    "id": id,
                    "queue": QUEUES[rng.random_range(0..QUEUES.len())],
                    "customer_id": format!("u{}", rng.random_range(0..50)),
                }));
            }
            if roll < 0.50 {
                if let Some((_, body)) = acked.lock().unwrap().created.iter().next() {
                    items.push(serde_json::from_str(body).unwrap());
                }
            }
            let Ok(r) = c
                .post(
                    "/v1/contact-batches",
                    Value::from(items.clone()).to_string(),
                )
                .await
            else {
                return;
            };
            assert_eq!(r.status, 201, "batch: {:?}", r.json());
            let v = r.json();
            let results = v["results"].as_array().unwrap();
            assert_eq!(results.len(), items.len());
            let mut a = acked.lock().unwrap();
            for (item, result) in items.iter().zip(results) {
                assert_eq!(result["status"], 201, "{result}");
                let id = item["id"].as_str().unwrap().to_string();
                assert_eq!(result["contact"]["id"], id);
                if a.created.insert(id.clone(), item.to_string()).is_some() {
                    continue;
                }
                if result["contact"]["state"] == "offered" {
                    let agent = result["contact"]["agent"].as_str().unwrap().to_string();
                    a.offers.push((id, agent));
                }
            }
            continue;
        }
        let retry = roll > 0.93;
        let (id, body) = if retry {
            let a = acked.lock().unwrap();
            match a.created.iter().next() {
                Some((id, body)) => (id.clone(), body.clone()),
                None => continue,
            }
        } else {
            n += 1;
            let id = format!("w{seed}-{n}");
            let body = json!({
                "id": id,
                "queue": QUEUES[rng.random_range(0..QUEUES.len())],
                "customer_id": format!("u{}", rng.random_range(0..50)),
            })
            .to_string();
            (id, body)
        };
        let Ok(r) = c.post("/v1/contacts", body.clone()).await else {
            return;
        };
        assert_eq!(r.status, 201, "create {id}: {:?}", r.json());
        let v = r.json();
        let mut a = acked.lock().unwrap();
        a.created.insert(id.clone(), body);
        if v["contact"]["state"] == "offered" {
            a.offers
                .push((id, v["contact"]["agent"].as_str().unwrap().to_string()));
        }
    }
}

/// Checks that everything acknowledged is there, in the state it was acknowledged in.
async fn check_acked(d: &Daemon, acked: &Acked) {
    let mut c = d.client(ADMIN).await;
    for (id, body) in &acked.created {
        let r = c.get(&format!("/v1/contacts/{id}")).await.unwrap();
        assert_eq!(r.status, 200, "acknowledged contact {id} is lost");
        let v = r.json();
        let sent: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["contact"]["queue"], sent["queue"], "{id}");
        assert_eq!(v["contact"]["customer_id"], sent["customer_id"], "{id}");
        if let Some(agent) = acked.accepted.get(id) {
            // Never assigned twice: the agent whose accept was acknowledged keeps it.
            assert_eq!(
                v["contact"]["agent"].as_str(),
                Some(agent.as_str()),
                "{id}: {v}"
            );
            let state = v["contact"]["state"].as_str().unwrap();
            assert!(
                ["accepted", "wrap-up", "completed"].contains(&state),
                "{id} was accepted by {agent} but is {state}"
            );
        }
        if acked.completed.contains(id) {
            let state = v["contact"]["state"].as_str().unwrap();
            assert!(["wrap-up", "completed"].contains(&state), "{id} is {state}");
        }
    }
    // A retry of an acknowledged create answers the original result.
    if let Some((id, body)) = acked.created.iter().next() {
        let a = c.post("/v1/contacts", body.clone()).await.unwrap();
        let b = c.post("/v1/contacts", body.clone()).await.unwrap();
        assert_eq!((a.status, b.status), (201, 201), "{id}");
        assert_eq!(a.body, b.body, "{id}");
    }
}

/// What [`crash_rounds`] saw.
struct CrashRun {
    acked: Acked,
    /// `recovered_from_snapshot` and `log_first_record` of each restart.
    from_snapshots: Vec<(u64, u64)>,
    /// `serve --replay-only` of the final store, equal to the live state.
    replay: Value,
}

/// Logs agents in, then runs `rounds` rounds of concurrent load, each on a restarted daemon:
/// every round but the last ends in kill -9 at a random moment. After every restart everything
/// acknowledged must be there; at the end the live state must equal `serve --replay-only`.
async fn crash_rounds(config: &Path, rounds: u64, seed: u64) -> CrashRun {
    let mut from_snapshots = Vec::new();
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut replay = Value::Null;

    // Agents log in once; their logins are acknowledged state like any other.
    {
        let d = Daemon::start(config);
        let mut c = d.client(ADMIN).await;
        let skills = [
            ("presales", 4),
            ("aftersales", 4),
            ("returns", 4),
            ("membership", 4),
            ("general", 4),
        ];
        for i in 0..16 {
            let r = c
                .post(
                    &format!("/v1/agents/crash-a{i}/login"),
                    chat_agent(&skills, &["zh", "en"]),
                )
                .await
                .unwrap();
            assert_eq!(r.status, 200, "{:?}", r.json());
        }
        d.kill9();
    }

    for round in 0..rounds {
        let d = Daemon::start(config);
        assert!(d.started["recovered_entries"].as_u64().unwrap() >= 16);
        from_snapshots.push((
            d.started["recovered_from_snapshot"].as_u64().unwrap(),
            d.started["log_first_record"].as_u64().unwrap(),
        ));
        let snapshot = acked.lock().unwrap().clone();
        check_acked(&d, &snapshot).await;

        // Offers of contacts that waited reach the workers through the event stream.
        let stream = d
            .client(ADMIN)
            .await
            .stream("/v1/events?types=offered")
            .await
            .unwrap();
        let mut events = stream.expect("the event stream opens");
        let feed = acked.clone();
        let reader = tokio::spawn(async move {
            while let Ok(Some(e)) = events.next().await {
                let v: Value = serde_json::from_str(&e.data).unwrap();
                let mut a = feed.lock().unwrap();
                let id = v["contact"].as_str().unwrap().to_string();
                if !a.taken.contains(&id) {
                    a.offers
                        .push((id, v["agent"].as_str().unwrap().to_string()));
                }
            }
        });

        let stop = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut workers = Vec::new();
        for w in 0..6 {
            workers.push(tokio::spawn(worker(
                d.addr,
                seed * 1000 + round * 10 + w,
                acked.clone(),
                stop.clone(),
                deadline,
            )));
        }
        // Kill at a random moment in the middle of the load.
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..700))).await;
        let last = round + 1 == rounds;
        let survivor = if last {
            // The last round ends cleanly so the live state can be compared with a replay.
            stop.store(true, Ordering::Relaxed);
            Some(d)
        } else {
            d.kill9();
            None
        };
        for w in workers {
            w.await.unwrap();
        }
        reader.abort();
        if let Some(d) = survivor {
            // Offers left untaken by the stop are still fine; compare live and replayed state.
            let mut c = Client::connect(d.addr, Some(ADMIN)).await.unwrap();
            let live = c.get("/v1/stats?digest=true").await.unwrap().json();
            let snapshot = acked.lock().unwrap().clone();
            check_acked(&d, &snapshot).await;
            d.kill9();
            let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
                .args(["serve", "--replay-only", "--config"])
                .arg(config)
                .args(["--until-ms", &live["now_ms"].to_string()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            replay = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(replay["log_entries"], live["log_entries"]);
            assert_eq!(
                replay["state_digest"], live["state_digest"],
                "core state differs from a replay"
            );
            assert_eq!(
                replay["engine_digest"], live["engine_digest"],
                "daemon tables differ from a replay"
            );
            assert_eq!(replay["stats"]["queues"], live["queues"]);
        }
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.created.len() > 50,
        "too little load: {}",
        acked.created.len()
    );
    CrashRun {
        acked,
        from_snapshots,
        replay,
    }
}

/// The store's log segments, in record order: (first record, path).
fn segments(store: &Path) -> Vec<(u64, PathBuf)> {
    let mut out: Vec<(u64, PathBuf)> = std::fs::read_dir(store)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let first = name.strip_prefix("commands-")?.strip_suffix(".log")?;
            Some((first.parse().ok()?, path))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_load_loses_nothing_acknowledged_and_replays_exactly() {
    let dir = tempfile::tempdir().unwrap();
    // Snapshots every 100 records, so kills land before, during and after snapshot writes and
    // restarts recover from a snapshot plus the log's tail.
    let config = write_config(dir.path(), "", "[server.durability]\nsnapshot_every = 100");
    let test_started = Instant::now();
    let run = crash_rounds(&config, 5, 20251111).await;

    // Every acknowledged contact is in the log exactly once, and no contact was accepted
    // twice (this workload never logs out nor lets an offer time out). The log is whole.
    let segments = segments(&dir.path().join("store"));
    assert_eq!(segments[0].0, 0);
    assert_eq!(run.replay["from_snapshot"], 0);
    let mut creates: HashMap<String, u32> = HashMap::new();
    let mut accepts: HashMap<String, u32> = HashMap::new();
    for (_, segment) in &segments {
        let log = std::fs::read_to_string(segment).unwrap();
        for line in log.lines().skip(1) {
            let v: Value = serde_json::from_str(&line[9..]).unwrap();
            if let Some(c) = v.get("create") {
                *creates.entry(c["id"].as_str().unwrap().into()).or_default() += 1;
            }
            if let Some(a) = v.get("accept") {
                *accepts
                    .entry(a["contact"].as_str().unwrap().into())
                    .or_default() += 1;
            }
        }
    }
    let acked = &run.acked;
    assert!(
        acked.accepted.len() > 10,
        "too few accepts: {}",
        acked.accepted.len()
    );
    for id in acked.created.keys() {
        assert_eq!(creates.get(id), Some(&1), "{id}");
    }
    assert!(creates.values().all(|&n| n == 1));
    assert!(
        run.from_snapshots.iter().any(|&(n, _)| n > 0),
        "no restart recovered from a snapshot"
    );
    assert!(
        accepts.values().all(|&n| n == 1),
        "a contact was accepted twice"
    );
    assert!(test_started.elapsed() < Duration::from_secs(60));
}

/// With `keep_log = "since-snapshots"` the same crashes lose nothing acknowledged, the live
/// state still equals `--replay-only` (now started from a snapshot), and the log's early
/// segments are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_store_survives_kill_9_and_replays_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "",
        "[server.durability]\nsnapshot_every = 100\nkeep_log = \"since-snapshots\"",
    );
    let test_started = Instant::now();
    let run = crash_rounds(&config, 3, 20251112).await;

    let store = dir.path().join("store");
    let segments = segments(&store);
    let first = segments[0].0;
    let total = run.replay["log_entries"].as_u64().unwrap();
    assert!(
        first > 0 && !store.join("commands-00000000000000000000.log").exists(),
        "the log was not compacted: {segments:?}"
    );
    // Only the tail since the oldest snapshot kept (and segments ended by snapshots that a
    // kill kept from being written) remains.
    assert!(segments.len() <= 8, "{segments:?}");
    assert!(total > first + 100, "{total} records, first {first}");
    assert_eq!(run.replay["log_first_record"], first);
    let from = run.replay["from_snapshot"].as_u64().unwrap();
    assert!(from >= first && from <= total, "{}", run.replay);
    assert!(store.join(format!("snapshot-{from:020}.snap")).exists());
    // A restart found a compacted log, and every restart recovered from a snapshot covering
    // what the log no longer held.
    assert!(
        run.from_snapshots.iter().any(|&(_, first)| first > 0)
            && run
                .from_snapshots
                .iter()
                .all(|&(from, first)| from >= first),
        "(from snapshot, log's first record) of each restart: {:?}",
        run.from_snapshots
    );
    assert!(test_started.elapsed() < Duration::from_secs(60));
}

/// A store written before the log had segments (one `commands.log`) opens: its log becomes
/// the first segment and nothing in it is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_file_store_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "", "");
    let store = dir.path().join("store");
    let d = Daemon::start(&config);
    let mut c = d.client(ADMIN).await;
    for i in 0..3 {
        let body = json!({"id": format!("old-{i}"), "queue": "zh-returns-chat"}).to_string();
        assert_eq!(c.post("/v1/contacts", body).await.unwrap().status, 201);
    }
    d.kill9();
    // The single file of the previous version: the same header and records.
    let first = store.join("commands-00000000000000000000.log");
    std::fs::rename(&first, store.join("commands.log")).unwrap();
    assert_eq!(segments(&store), vec![]);

    let d = Daemon::start(&config);
    assert_eq!(d.started["recovered_entries"], 3);
    assert_eq!(segments(&store), vec![(0, first)]);
    assert!(!store.join("commands.log").exists());
    let mut c = d.client(ADMIN).await;
    assert_eq!(c.get("/v1/contacts/old-2").await.unwrap().status, 200);
}

/// A graceful stop (SIGTERM) writes a snapshot of everything applied, and the next start
/// loads it and replays nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_writes_a_snapshot_the_next_start_loads() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "", "");
    let mut d = Daemon::start(&config);
    let mut c = d.client(ADMIN).await;
    let r = c
        .post(
            "/v1/agents/g-a1/login",
            chat_agent(&[("returns", 4)], &["zh"]),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    for i in 0..5 {
        let body = json!({"id": format!("g-{i}"), "queue": "zh-returns-chat"}).to_string();
        assert_eq!(c.post("/v1/contacts", body).await.unwrap().status, 201);
    }
    let live = c.get("/v1/stats?digest=true").await.unwrap().json();
    drop(c);
    let term = Command::new("kill")
        .args(["-TERM", &d.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(s) = d.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(20),
            "no graceful stop in 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    let snapshots: Vec<_> = std::fs::read_dir(dir.path().join("store"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".snap"))
        .collect();
    assert_eq!(snapshots, vec!["snapshot-00000000000000000006.snap"]);

    let d = Daemon::start(&config);
    assert_eq!(d.started["recovered_entries"], 6);
    assert_eq!(d.started["recovered_from_snapshot"], 6);
    let mut c = d.client(ADMIN).await;
    let again = c.get("/v1/stats?digest=true").await.unwrap().json();
    assert_eq!(again["log_entries"], live["log_entries"]);
    let r = c.get("/v1/contacts/g-4").await.unwrap();
    assert_eq!(r.status, 200);
    // The state loaded from the snapshot, at the restarted daemon's time, is what a replay of
    // the whole log gives at that time.
    d.kill9();
    let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(["serve", "--replay-only", "--config"])
        .arg(&config)
        .args(["--until-ms", &again["now_ms"].to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let replay: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(replay["state_digest"], again["state_digest"]);
    assert_eq!(replay["engine_digest"], again["engine_digest"]);
}

// ---------------------------------------------------------------------------------- roles

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_does_only_what_it_may() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(&write_config(dir.path(), "[policy]", ""));
    let mut nobody = Client::connect(d.addr, None).await.unwrap();
    let mut wrong = d.client("not-a-real-token-at-all").await;
    let mut admin = d.client(ADMIN).await;
    let mut platform = d.client(INTEGRATION).await;
    let mut a1 = d.client(AGENT1).await;
    let a2 = d.client(AGENT2).await;

    // Without a valid token: 401, except the health check.
    for c in [&mut nobody, &mut wrong] {
        let r = c
            .post("/v1/contacts", r#"{"id":"x","queue":"en-chat"}"#)
            .await
            .unwrap();
        assert_eq!(error_of(&r), (401, "unauthorized".into(), None));
        assert_eq!(c.get("/v1/stats").await.unwrap().status, 401);
    }
    assert_eq!(nobody.get("/healthz").await.unwrap().status, 200);

    let login = chat_agent(&[("general", 4)], &["en", "zh"]);
    // Agents log only themselves in.
    assert_eq!(
        a1.post("/v1/agents/a-1/login", login.clone())
            .await
            .unwrap()
            .status,
        200
    );
    let r = a1
        .post("/v1/agents/a-2/login", login.clone())
        .await
        .unwrap();
    assert_eq!(error_of(&r).0, 403);
    assert_eq!(
        error_of(
            &platform
                .post("/v1/agents/a-2/login", login.clone())
                .await
                .unwrap()
        )
        .0,
        403
    );
    assert_eq!(
        admin
            .post("/v1/agents/a-2/login", login.clone())
            .await
            .unwrap()
            .status,
        200
    );

    // Agent 1 streams its own assignments, not another's.
    let refused = d
        .client(AGENT1)
        .await
        .stream("/v1/agents/a-2/assignments")
        .await
        .unwrap();
    assert_eq!(refused.err().map(|a| a.status), Some(403));
    let mut mine = d
        .client(AGENT1)
        .await
        .stream("/v1/agents/a-1/assignments")
        .await
        .unwrap()
        .ok()
        .unwrap();

    // Only admin and integration create contacts.
    assert_eq!(
        error_of(
            &a1.post("/v1/contacts", r#"{"id":"c1","queue":"en-chat"}"#)
                .await
                .unwrap()
        )
        .0,
        403
    );
    let r = a1
        .post("/v1/contact-batches", r#"[{"id":"c1","queue":"en-chat"}]"#)
        .await
        .unwrap();
    assert_eq!(error_of(&r).0, 403);
    let r = platform
        .post("/v1/contacts", r#"{"id":"c1","queue":"en-chat"}"#)
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{:?}", r.json());
    let holder = r.json()["contact"]["agent"].as_str().unwrap().to_string();
    assert!(holder == "a-1" || holder == "a-2");
    let (me, mut mine_c, mut other_c) = if holder == "a-1" {
        ("a-1", a1, a2)
    } else {
        ("a-2", a2, a1)
    };

    // The holder's stream tells of the offer (agent 1's stream only if it is agent 1's).
    if me == "a-1" {
        let e = tokio::time::timeout(Duration::from_secs(5), mine.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(e.event, "offered");
        assert_eq!(
            serde_json::from_str::<Value>(&e.data).unwrap()["contact"],
            "c1"
        );
    }

    // The other agent can neither read, accept nor transfer it; the integration cannot accept.
    assert_eq!(
        error_of(&other_c.get("/v1/contacts/c1").await.unwrap()).0,
        403
    );
    assert_eq!(
        error_of(&other_c.post("/v1/contacts/c1/accept", "").await.unwrap()).0,
        409
    );
    let r = other_c
        .post("/v1/contacts/c1/accept", json!({"agent": me}).to_string())
        .await
        .unwrap();
    assert_eq!(error_of(&r).0, 403);
    assert_eq!(
        error_of(
            &other_c
                .post("/v1/contacts/c1/transfer", r#"{"queue":"zh-hotline"}"#)
                .await
                .unwrap()
        )
        .0,
        403
    );
    assert_eq!(
        error_of(&platform.post("/v1/contacts/c1/accept", "").await.unwrap()).0,
        400
    );
    let r = platform
        .post("/v1/contacts/c1/accept", json!({"agent": me}).to_string())
        .await
        .unwrap();
    assert_eq!(error_of(&r).0, 403);

    // The holder reads and accepts it with its own token (no body needed).
    assert_eq!(mine_c.get("/v1/contacts/c1").await.unwrap().status, 200);
    let r = mine_c.post("/v1/contacts/c1/accept", "").await.unwrap();
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["contact"]["state"], "accepted");

    // Streams, metrics and digests are for admin and integration.
    for (c, ok) in [
        (&mut mine_c, false),
        (&mut platform, true),
        (&mut admin, true),
    ] {
        let expected = if ok { 200 } else { 403 };
        assert_eq!(c.get("/metrics").await.unwrap().status, expected);
        assert_eq!(
            c.get("/v1/stats?digest=true").await.unwrap().status,
            expected
        );
        assert_eq!(c.get("/v1/stats").await.unwrap().status, 200);
    }
    let m = admin.get("/metrics").await.unwrap();
    let text = String::from_utf8_lossy(&m.body);
    assert!(
        text.contains("peakcrew_http_requests_total{route=\"/v1/contacts\",status=\"201\"} 1"),
        "{text}"
    );
    assert!(text.contains("peakcrew_agents{state=\"busy\"} 1"), "{text}");
    assert_eq!(
        d.client(AGENT1)
            .await
            .stream("/v1/events")
            .await
            .unwrap()
            .err()
            .map(|a| a.status),
        Some(403)
    );

    // Agents change only their own state; admin anyone's.
    let r = mine_c
        .post(&format!("/v1/agents/{me}/state"), r#"{"state":"break"}"#)
        .await
        .unwrap();
    assert_eq!(r.json()["agent"]["state"], "break");
    let other = if me == "a-1" { "a-2" } else { "a-1" };
    assert_eq!(
        error_of(
            &mine_c
                .post(&format!("/v1/agents/{other}/logout"), "")
                .await
                .unwrap()
        )
        .0,
        403
    );
    assert_eq!(
        admin
            .post(&format!("/v1/agents/{other}/logout"), "")
            .await
            .unwrap()
            .status,
        200
    );

    // Rate limit: the slow token's burst of 3, then 429 naming the limit.
    let mut slow = d.client(SLOW).await;
    for _ in 0..3 {
        assert_eq!(slow.get("/v1/stats").await.unwrap().status, 200);
    }
    let r = slow.get("/v1/stats").await.unwrap();
    assert_eq!(error_of(&r), (429, "rate-limited".into(), None));
}

// ---------------------------------------------------------------------------------- input

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(&write_config(
        dir.path(),
        "[policy]",
        "max_body_bytes = 1024",
    ));
    let mut c = d.client(ADMIN).await;
    type Case<'a> = (&'a str, &'a str, (u16, &'a str, Option<&'a str>));
    let cases: [Case; 12] = [
        (
            "/v1/contacts",
            r#"{"id":"c1","queue":"#,
            (400, "malformed-json", None),
        ),
        (
            "/v1/contacts",
            r#"{"id":"c1"}"#,
            (400, "invalid-field", Some("queue")),
        ),
        (
            "/v1/contacts",
            r#"{"id":"c1","queue":"en-chat","colour":"red"}"#,
            (400, "invalid-field", Some("colour")),
        ),
        (
            "/v1/contacts",
            r#"{"id":"c1","queue":"fr-chat"}"#,
            (422, "unknown-queue", Some("queue")),
        ),
        (
            "/v1/contacts",
            r#"{"id":"c1","queue":"en-chat","language":"fr"}"#,
            (422, "unknown-language", Some("language")),
        ),
        (
            "/v1/contacts",
            r#"{"id":"c1","queue":"en-chat","priority":12}"#,
            (422, "out-of-range", Some("priority")),
        ),
        (
            "/v1/contacts",
            r#"{"id":"c1","queue":"en-chat","priority":-1}"#,
            (400, "invalid-field", Some("priority")),
        ),
        (
            "/v1/contacts",
            r#"{"id":"c 1","queue":"en-chat"}"#,
            (422, "invalid-id", Some("id")),
        ),
        (
            "/v1/contacts",
            r#"{"id":"c1","queue":"en-chat","tier":"gold"}"#,
            (400, "invalid-field", Some("tier")),
        ),
        (
            "/v1/agents/a-1/login",
            r#"{"skills":[{"skill":"juggling","proficiency":3}],"languages":["en"]}"#,
            (422, "unknown-skill", Some("skills[0].skill")),
        ),
        (
            "/v1/agents/a-1/login",
            r#"{"skills":[{"skill":"general","proficiency":7}],"languages":["en"]}"#,
            (400, "invalid-field", Some("skills[0].proficiency")),
        ),
        (
            "/v1/agents/a-1/login",
            r#"{"skills":[{"skill":"general","proficiency":3}],"languages":["en","xx"]}"#,
            (422, "unknown-language", Some("languages[1]")),
        ),
    ];
    for (path, body, (status, code, field)) in cases {
        let r = c.post(path, body).await.unwrap();
        assert_eq!(
            error_of(&r),
            (status, code.to_string(), field.map(String::from)),
            "{path} {body}"
        );
    }
    // The same id: same payload is the original result, a different one 409 naming the field.
    let body = r#"{"id":"c1","queue":"en-chat","priority":2,"customer_id":"u1"}"#;
    let first = c.post("/v1/contacts", body).await.unwrap();
    assert_eq!(first.status, 201);
    let again = c.post("/v1/contacts", body).await.unwrap();
    assert_eq!((again.status, &again.body), (201, &first.body));
    let r = c
        .post(
            "/v1/contacts",
            r#"{"id":"c1","queue":"en-chat","priority":3,"customer_id":"u1"}"#,
        )
        .await
        .unwrap();
    assert_eq!(
        error_of(&r),
        (409, "duplicate-id".into(), Some("priority".into()))
    );
    // Operations on unknown contacts, wrong states, unknown agents.
    assert_eq!(
        error_of(&c.get("/v1/contacts/nope").await.unwrap()),
        (404, "not-found".into(), Some("id".into()))
    );
    let r = c
        .post("/v1/contacts/c1/accept", r#"{"agent":"ghost"}"#)
        .await
        .unwrap();
    assert_eq!(
        error_of(&r),
        (409, "agent-not-logged-in".into(), Some("agent".into()))
    );
    let r = c
        .post("/v1/contacts/c1/transfer", r#"{"queue":"en-chat"}"#)
        .await
        .unwrap();
    assert_eq!(
        error_of(&r),
        (409, "same-queue".into(), Some("queue".into()))
    );
    let r = c
        .post("/v1/agents/a-9/state", r#"{"state":"lunch"}"#)
        .await
        .unwrap();
    assert_eq!(
        error_of(&r),
        (400, "invalid-field".into(), Some("state".into()))
    );
    // Bodies over the limit, unknown routes and methods.
    let big = json!({"id": "c2", "queue": "en-chat", "customer_id": "x".repeat(2000)}).to_string();
    assert_eq!(error_of(&c.post("/v1/contacts", big).await.unwrap()).0, 413);
    assert_eq!(error_of(&c.get("/v1/nothing").await.unwrap()).0, 404);
    assert_eq!(error_of(&c.get("/v1/contacts").await.unwrap()).0, 405);
    let r = c.get("/v1/events?types=offered,exploded").await.unwrap();
    assert_eq!(
        error_of(&r),
        (422, "unknown-event-type".into(), Some("types".into()))
    );
    // Every route of the OpenAPI document is served (401 without a token, not 404 or 405),
    // and the daemon serves the document itself.
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("openapi.json")).unwrap())
            .unwrap();
    let mut anonymous = Client::connect(d.addr, None).await.unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let url = path.replace("{id}", "x");
            let method = hyper::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = anonymous.request(method.clone(), &url, "").await.unwrap();
            let public = ["/healthz", "/openapi.json"].contains(&path.as_str());
            assert_eq!(r.status, if public { 200 } else { 401 }, "{method} {path}");
        }
    }
    let served: Value = anonymous.get("/openapi.json").await.unwrap().json();
    assert_eq!(served, doc);
    // HTTP/2 with prior knowledge works too, requests side by side on one connection.
    let h2 = Client::connect_h2(d.addr, Some(ADMIN)).await.unwrap();
    let mut calls = Vec::new();
    for _ in 0..8 {
        let mut c = h2.share().unwrap();
        calls.push(tokio::spawn(async move {
            c.get("/v1/contacts/c1").await.unwrap()
        }));
    }
    for call in calls {
        let r = call.await.unwrap();
        assert_eq!(
            (r.status, r.json()["contact"]["id"].as_str()),
            (200, Some("c1"))
        );
    }
    // Still healthy after all that, and nothing bad reached the log.
    let h = c.get("/healthz").await.unwrap().json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["log_entries"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_batch_answers_each_item_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(&write_config(dir.path(), "[policy]", "max_batch_items = 8"));
    let mut c = d.client(INTEGRATION).await;
    let first = c
        .post(
            "/v1/contacts",
            r#"{"id":"b1","queue":"en-chat","priority":3}"#,
        )
        .await
        .unwrap();
    assert_eq!(first.status, 201);
    let batch = r#"[
        {"id":"b2","queue":"en-chat"},
        {"id":"b1","queue":"en-chat","priority":3},
        {"id":"b1","queue":"en-chat","priority":4},
        {"id":"b3","queue":"fr-chat"},
        {"id":"b4"},
        {"id":"b5","queue":"en-chat","priority":300},
        {"id":"b2","queue":"en-chat"},
        {"id":"b6","queue":"zh-presales-chat"}
    ]"#;
    let r = c.post("/v1/contact-batches", batch).await.unwrap();
    assert_eq!(r.status, 207, "{:?}", r.json());
    let v = r.json();
    let results = v["results"].as_array().unwrap();
    let got = item_outcomes(results);
    assert_eq!(
        got,
        [
            (201, "", ""),
            (201, "", ""),
            (409, "duplicate-id", "priority"),
            (422, "unknown-queue", "queue"),
            (400, "invalid-field", "queue"),
            (400, "invalid-field", "priority"),
            (201, "", ""),
            (201, "", ""),
        ]
    );
    // The duplicate answers the original; a repeat within the batch answers the first.
    assert_eq!(results[1]["contact"], first.json()["contact"]);
    assert_eq!(results[6]["contact"], results[0]["contact"]);
    assert_eq!(results[7]["contact"]["id"], "b6");
    // Created items are durable state like single creates; failed ones left nothing.
    for (id, status) in [("b2", 200), ("b6", 200), ("b3", 404), ("b5", 404)] {
        assert_eq!(
            c.get(&format!("/v1/contacts/{id}")).await.unwrap().status,
            status,
            "{id}"
        );
    }
    // The same batch again answers the same results: idempotent item by item.
    let again = c.post("/v1/contact-batches", batch).await.unwrap();
    assert_eq!(again.json(), v);
    // All good: 201. Whole-body errors: not an array, empty, too many items.
    let r = c
        .post("/v1/contact-batches", r#"[{"id":"b7","queue":"en-chat"}]"#)
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let r = c
        .post("/v1/contact-batches", r#"{"id":"b8","queue":"en-chat"}"#)
        .await
        .unwrap();
    assert_eq!(error_of(&r).0, 400);
    let r = c.post("/v1/contact-batches", "[]").await.unwrap();
    assert_eq!(error_of(&r), (400, "invalid-batch-size".into(), None));
    let nine: Vec<Value> = (0..9)
        .map(|i| json!({"id": format!("n{i}"), "queue": "en-chat"}))
        .collect();
    let r = c
        .post("/v1/contact-batches", Value::from(nine).to_string())
        .await
        .unwrap();
    assert_eq!(error_of(&r), (400, "invalid-batch-size".into(), None));
    // The rate limit is charged per contact: a token with a burst of 3 may send a batch of 3
    // once, and then not even one more contact.
    let mut slow = d.client(SLOW).await;
    let three: Vec<Value> = (0..3)
        .map(|i| json!({"id": format!("s{i}"), "queue": "en-chat"}))
        .collect();
    let r = slow
        .post("/v1/contact-batches", Value::from(three).to_string())
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{:?}", r.json());
    let r = slow
        .post("/v1/contacts", r#"{"id":"s3","queue":"en-chat"}"#)
        .await
        .unwrap();
    assert_eq!(error_of(&r).0, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_actions_answers_each_item_as_its_single_route_would() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(&write_config(dir.path(), "[policy]", "max_batch_items = 8"));
    let mut admin = d.client(ADMIN).await;
    let mut platform = d.client(INTEGRATION).await;
    let mut a1 = d.client(AGENT1).await;
    let login = chat_agent(&[("general", 4)], &["en", "zh"]);
    for agent in ["a-1", "a-2"] {
        let r = admin
            .post(&format!("/v1/agents/{agent}/login"), login.clone())
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{:?}", r.json());
    }
    // Contacts until each agent has been offered one (bounded).
    let mut offered: HashMap<String, String> = HashMap::new();
    for i in 0..8 {
        if offered.len() == 2 {
            break;
        }
        let body = json!({"id": format!("k{i}"), "queue": "en-chat"}).to_string();
        let r = platform.post("/v1/contacts", body).await.unwrap();
        assert_eq!(r.status, 201, "{:?}", r.json());
        if let Some(agent) = r.json()["contact"]["agent"].as_str() {
            offered.entry(agent.to_string()).or_insert(format!("k{i}"));
        }
    }
    let (mine, other) = (offered["a-1"].clone(), offered["a-2"].clone());

    // Agent 1's token: applied in order, so completing its contact before accepting it fails
    // and the accept after it succeeds; the rest fail as their single routes do.
    let batch = json!([
        {"contact": mine, "action": "complete"},
        {"contact": mine, "action": "accept"},
        {"contact": "no-such-contact", "action": "accept"},
        {"contact": other, "action": "accept", "agent": "a-2"},
        {"contact": other, "action": "transfer", "queue": "zh-hotline"},
        {"contact": mine, "action": "abandon"},
        {"contact": mine, "action": "accept", "queue": "en-chat"},
        {"contact": mine, "action": "sing"},
    ]);
    let r = a1
        .post("/v1/contact-actions", batch.to_string())
        .await
        .unwrap();
    assert_eq!(r.status, 207, "{:?}", r.json());
    let v = r.json();
    let results = v["results"].as_array().unwrap();
    let got = item_outcomes(results);
    assert_eq!(got.len(), 8);
    assert_eq!(got[0].0, 409, "{:?}", results[0]);
    assert_eq!(got[1], (200, "", ""));
    assert_eq!(results[1]["contact"]["state"], "accepted");
    assert_eq!(results[1]["contact"]["agent"], "a-1");
    assert_eq!(got[2].0, 404);
    assert_eq!(got[3].0, 403);
    assert_eq!(got[4].0, 403);
    assert_eq!(got[5].0, 403);
    assert_eq!(got[6], (400, "invalid-field", "queue"));
    assert_eq!(got[7].0, 400);
    // The failed items answer exactly what their single routes answer (and changed nothing).
    let singles = [
        (
            2,
            "/v1/contacts/no-such-contact/accept".to_string(),
            String::new(),
        ),
        (
            3,
            format!("/v1/contacts/{other}/accept"),
            json!({"agent": "a-2"}).to_string(),
        ),
        (
            4,
            format!("/v1/contacts/{other}/transfer"),
            r#"{"queue":"zh-hotline"}"#.into(),
        ),
        (5, format!("/v1/contacts/{mine}/abandon"), String::new()),
    ];
    for (item, path, body) in singles {
        let single = a1.post(&path, body).await.unwrap();
        assert_eq!(
            json!({"status": single.status, "error": single.json()["error"]}),
            results[item],
            "item {item}"
        );
    }
    let r = admin.get(&format!("/v1/contacts/{other}")).await.unwrap();
    assert_eq!(r.json()["contact"]["state"], "offered");
    // The integration role is held to the single routes' rules too: no accept for an agent.
    let item = json!([{"contact": other, "action": "accept", "agent": "a-2"}]);
    let r = platform
        .post("/v1/contact-actions", item.to_string())
        .await
        .unwrap();
    let single = platform
        .post(
            &format!("/v1/contacts/{other}/accept"),
            json!({"agent": "a-2"}).to_string(),
        )
        .await
        .unwrap();
    assert_eq!((r.status, single.status), (207, 403));
    assert_eq!(
        r.json()["results"][0],
        json!({"status": 403, "error": single.json()["error"]})
    );

    // Admin acts for any agent: all good is 200, and the state is durable like single calls.
    let batch = json!([
        {"contact": other, "action": "accept", "agent": "a-2"},
        {"contact": other, "action": "complete", "agent": "a-2"},
        {"contact": mine, "action": "complete", "agent": "a-1"},
    ]);
    let r = admin
        .post("/v1/contact-actions", batch.to_string())
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{:?}", r.json());
    for (id, state) in [(&other, "completed"), (&mine, "completed")] {
        let r = admin.get(&format!("/v1/contacts/{id}")).await.unwrap();
        let s = r.json()["contact"]["state"].as_str().unwrap().to_string();
        assert!(s == state || s == "wrap-up", "{id}: {s}");
    }
    // Whole-body errors as for contact batches.
    let r = admin.post("/v1/contact-actions", "[]").await.unwrap();
    assert_eq!(error_of(&r), (400, "invalid-batch-size".into(), None));
    // The rate limit is charged per action.
    let mut slow = d.client(SLOW).await;
    let four: Vec<Value> = (0..4)
        .map(|_| json!({"contact": "none", "action": "abandon"}))
        .collect();
    let r = slow
        .post("/v1/contact-actions", Value::from(four).to_string())
        .await
        .unwrap();
    assert_eq!(error_of(&r).0, 429);
}

/// The daemon's `/v1/stats` counts with the one tally, by the definitions the simulator uses:
/// each contact once, in the queue it arrived in; service level over offered; ASA over answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_follow_the_tallys_definitions() {
    let dir = tempfile::tempdir().unwrap();
    // Every abandon in this test comes within the hour: all are short abandons.
    let policy = "[policy]\nshort_abandon_seconds = 3600";
    let d = Daemon::start(&write_config(dir.path(), policy, ""));
    let mut admin = d.client(ADMIN).await;
    let mut a1 = d.client(AGENT1).await;
    let login = chat_agent(&[("general", 4)], &["en"]);
    assert_eq!(
        a1.post("/v1/agents/a-1/login", login).await.unwrap().status,
        200
    );
    // c1 is offered to a-1 at once and answered; nobody speaks Chinese or Japanese, so c2 and
    // c3 wait: c2 abandons in the hotline, c3 is transferred to ja-chat and abandons there.
    for (id, queue) in [
        ("c1", "en-chat"),
        ("c2", "zh-hotline"),
        ("c3", "zh-hotline"),
    ] {
        let body = json!({"id": id, "queue": queue}).to_string();
        assert_eq!(admin.post("/v1/contacts", body).await.unwrap().status, 201);
    }
    let accept = a1
        .post(
            "/v1/contacts/c1/accept",
            json!({"agent": "a-1"}).to_string(),
        )
        .await
        .unwrap();
    assert_eq!(accept.status, 200, "{}", accept.json());
    let moved = admin
        .post("/v1/contacts/c3/transfer", r#"{"queue":"ja-chat"}"#)
        .await
        .unwrap();
    assert_eq!(moved.status, 200, "{}", moved.json());
    for id in ["c2", "c3"] {
        let r = admin
            .post(&format!("/v1/contacts/{id}/abandon"), "")
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.json());
    }
    let stats = admin.get("/v1/stats").await.unwrap().json();
    let queue = |id: &str| {
        stats["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["queue"] == id)
            .unwrap()
            .clone()
    };
    let (chat, hotline, ja) = (queue("en-chat"), queue("zh-hotline"), queue("ja-chat"));
    for key in crate::common::TALLY_FIGURES {
        assert!(chat.get(key).is_some(), "no {key} in {chat}");
    }
    let counts = |q: &Value| {
        ["offered", "answered", "answered_within_target", "abandoned"]
            .map(|k| q[k].as_u64().unwrap())
    };
    assert_eq!(counts(&chat), [1, 1, 1, 0]);
    assert_eq!(counts(&hotline), [2, 0, 0, 2]);
    assert_eq!(counts(&ja), [0, 0, 0, 0], "a transfer does not offer again");
    assert_eq!(chat["service_level"], 1.0);
    assert!(chat["asa_seconds"].as_f64().unwrap() < 5.0, "{chat}");
    assert_eq!(hotline["service_level"], 0.0);
    assert_eq!(hotline["short_abandoned"], 2);
    assert!(
        hotline["service_level_excluding_short_abandons"].is_null(),
        "nothing left to count: {hotline}"
    );
    assert_eq!(chat["service_level_excluding_short_abandons"], 1.0);
    assert_eq!(hotline["abandonment_rate"], 1.0);
    assert!(
        hotline["asa_seconds"].is_null(),
        "nobody answered: {hotline}"
    );
    assert!(hotline["mean_wait_seconds"].as_f64().unwrap() >= 0.0);
    assert!(ja["service_level"].is_null());
    // /metrics carries the same counts.
    let metrics = String::from_utf8(admin.get("/metrics").await.unwrap().body.to_vec()).unwrap();
    assert!(
        metrics.contains("peakcrew_queue_offered_total{queue=\"zh-hotline\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("peakcrew_queue_abandoned_total{queue=\"zh-hotline\"} 2"));
}

#[test]
fn check_config_reports_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_config(dir.path(), "", "");
    let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(["serve", "--check-config", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("rate_per_second = 100000", "rate_per_second = -5")
        .replace(
            "role = \"integration\"\ntoken",
            "role = \"integrator\"\ntoken",
        );
    std::fs::write(&good, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(["serve", "--check-config", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("serve.toml:18:8: server.tokens[1].role"),
        "{err}"
    );
    let limits = write_config(dir.path(), "", "max_batch_items = 0");
    let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(["serve", "--check-config", "--config"])
        .arg(&limits)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("server.limits.max_batch_items: expected 1 to 100000, found 0"),
        "{err}"
    );
    // The bundled daemon file is valid.
    let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(["serve", "--check-config", "--config"])
        .arg(root().join("config/router.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each batch item's (status, error code, error field); "" where the item has no error.
fn item_outcomes(results: &[Value]) -> Vec<(u64, &str, &str)> {
    results
        .iter()
        .map(|x| {
            (
                x["status"].as_u64().unwrap(),
                x["error"]["code"].as_str().unwrap_or(""),
                x["error"]["field"].as_str().unwrap_or(""),
            )
        })
        .collect()
}
