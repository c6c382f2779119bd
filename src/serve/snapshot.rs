//! Snapshots: the engine's whole state as of a log position, so recovery loads the newest one
//! and replays only the log records after it instead of the whole log.
//!
//! # Format
//!
//! `<store>/snapshot-<covers>.snap`, where `covers` (20 digits) is how many log records the
//! state includes. One text header line, then the engine's state in bincode:
//!
//! ```text
//! peakcrew-snapshot 1 covers=120000 epoch_unix_ms=1763800000000 config=5d1c09f2 bytes=8812331 crc32=0be1a7c4
//! <bytes of bincode>
//! ```
//!
//! `config` is a fingerprint of the routing policy, the catalog and the build: a snapshot is
//! only valid for the configuration that produced it (the core's state is in the units of its
//! resolved policy), so after a change of policy or queues recovery replays the whole log.
//!
//! # Invariants
//!
//! 1. **A snapshot covers only durable records.** The engine copies itself into a batch; the
//!    commit thread hands the copy on only after that batch is synced, so `covers` never
//!    exceeds what the log holds. Recovery checks it all the same.
//! 2. **A snapshot is whole or absent.** It is written to a `.tmp` file, synced, renamed into
//!    place and the directory synced; a crash leaves at most a `.tmp`, which recovery removes.
//!    A snapshot that is short, fails its checksum, does not decode, or belongs to another
//!    configuration is skipped with a warning, and recovery tries the one before it, then the
//!    whole log.
//! 3. **The log stays the truth.** Snapshots are never the only copy: the log keeps every
//!    record (so `serve --replay-only` and the crash tests compare against a full replay), and
//!    a failed snapshot write is a warning, not a failure of the daemon.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Instant;

use crate::routing::{Catalog, RoutingPolicy};

use super::engine::Engine;
use super::metrics::Metrics;

const MAGIC: &str = "peakcrew-snapshot 1";
/// Bumped whenever the saved layout of the engine or the core changes.
const FORMAT: u32 = 1;
/// Snapshots kept: the newest, and one to fall back on.
const KEEP: usize = 2;

/// What a snapshot must match to be loaded: the policy, the catalog, this build's layout.
pub fn fingerprint(policy: &RoutingPolicy, catalog: &Catalog) -> u32 {
    let text = format!(
        "{FORMAT} {} {policy:?} {catalog:?}",
        env!("CARGO_PKG_VERSION")
    );
    crc32fast::hash(text.as_bytes())
}

/// Where snapshots go and what they are checked against.
#[derive(Debug, Clone)]
pub struct Snapshots {
    pub dir: PathBuf,
    pub fingerprint: u32,
    pub epoch_unix_ms: u64,
}

/// A snapshot written.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub path: PathBuf,
    pub covers: u64,
    pub bytes: u64,
}

fn name(covers: u64) -> String {
    format!("snapshot-{covers:020}.snap")
}

impl Snapshots {
    /// Writes `engine` as a snapshot atomically, then removes all but the newest [`KEEP`].
    pub fn write(&self, engine: &Engine) -> io::Result<Written> {
        let covers = engine.log_entries();
        let mut payload = Vec::new();
        engine.save(&mut payload).map_err(io::Error::other)?;
        let header = format!(
            "{MAGIC} covers={covers} epoch_unix_ms={} config={:08x} bytes={} crc32={:08x}\n",
            self.epoch_unix_ms,
            self.fingerprint,
            payload.len(),
            crc32fast::hash(&payload)
        );
        let path = self.dir.join(name(covers));
        let tmp = path.with_extension("tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(header.as_bytes())?;
            f.write_all(&payload)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()?;
        let mut all = self.list()?;
        all.reverse();
        for (_, old) in all.into_iter().skip(KEEP) {
            let _ = std::fs::remove_file(old);
        }
        Ok(Written {
            path,
            covers,
            bytes: (header.len() + payload.len()) as u64,
        })
    }

    /// Snapshot files, oldest first.
    fn list(&self) -> io::Result<Vec<(u64, PathBuf)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let covers = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("snapshot-"))
                .and_then(|n| n.strip_suffix(".snap"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(c) = covers {
                out.push((c, path));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The newest snapshot that is whole, of this configuration and covers at most
    /// `log_records`, loaded; `None` (after a warning for each one skipped) if there is none.
    /// Removes leftover `.tmp` files of a write a crash interrupted.
    pub fn load_newest(
        &self,
        policy: &RoutingPolicy,
        catalog: &Catalog,
        log_records: u64,
    ) -> Option<Engine> {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let is_tmp = path.extension().is_some_and(|e| e == "tmp")
                    && path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("snapshot-"));
                if is_tmp {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let list = match self.list() {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("cannot list snapshots in {}: {e}", self.dir.display());
                return None;
            }
        };
        for (covers, path) in list.into_iter().rev() {
            match self.load(&path, covers, policy, catalog, log_records) {
                Ok(engine) => return Some(engine),
                Err(why) => tracing::warn!("skipping snapshot {}: {why}", path.display()),
            }
        }
        None
    }

    fn load(
        &self,
        path: &Path,
        covers: u64,
        policy: &RoutingPolicy,
        catalog: &Catalog,
        log_records: u64,
    ) -> Result<Engine, String> {
        if covers > log_records {
            return Err(format!(
                "it covers {covers} records but the log holds {log_records}"
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let header_end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("the header line is incomplete")?;
        let header = std::str::from_utf8(&bytes[..header_end]).map_err(|e| e.to_string())?;
        let field = |key: &str| -> Result<&str, String> {
            header
                .split(' ')
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                .ok_or(format!("the header has no {key}"))
        };
        if !header.starts_with(MAGIC) {
            return Err(format!("expected a header `{MAGIC} ...`, found `{header}`"));
        }
        let number = |key: &str, radix: u32| -> Result<u64, String> {
            u64::from_str_radix(field(key)?, radix).map_err(|e| format!("{key}: {e}"))
        };
        if number("covers", 10)? != covers {
            return Err("the header's record count differs from the file name".into());
        }
        if number("epoch_unix_ms", 10)? != self.epoch_unix_ms {
            return Err("it belongs to another log (the epochs differ)".into());
        }
        if number("config", 16)? != self.fingerprint as u64 {
            return Err("it was taken under another policy, catalog or build".into());
        }
        let payload = &bytes[header_end + 1..];
        if number("bytes", 10)? != payload.len() as u64 {
            return Err(format!(
                "expected {} bytes of state, found {} (truncated?)",
                number("bytes", 10)?,
                payload.len()
            ));
        }
        if number("crc32", 16)? != crc32fast::hash(payload) as u64 {
            return Err("the checksum does not match".into());
        }
        let engine = Engine::load(policy, catalog, self.epoch_unix_ms, payload)?;
        if engine.log_entries() != covers {
            return Err(format!(
                "the state covers {} records, the header says {covers}",
                engine.log_entries()
            ));
        }
        Ok(engine)
    }
}

/// The snapshot thread: writes each copy the commit thread hands over (already durable in the
/// log). A failed write is logged and the daemon goes on: the log still holds everything.
pub fn run(snapshots: Snapshots, copies: Receiver<Box<Engine>>, metrics: Arc<Metrics>) {
    while let Ok(engine) = copies.recv() {
        let started = Instant::now();
        match snapshots.write(&engine) {
            Ok(w) => {
                metrics
                    .snapshot_write_seconds
                    .observe(started.elapsed().as_secs_f64());
                tracing::info!(
                    "snapshot of {} records written ({} bytes, {:?})",
                    w.covers,
                    w.bytes,
                    started.elapsed()
                );
            }
            Err(e) => tracing::warn!("a snapshot could not be written: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Language, Proficiency, Skill, SkillLevel};
    use crate::serve::engine::{Actor, Effects, Login, NewContact, Op, Reply};
    use crate::serve::{recover, replay_store, store::Log, Settings};

    fn settings(store: &Path) -> Settings {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut s = Settings::load(&root.join("config/loadgen.toml")).unwrap();
        s.store = store.to_path_buf();
        s
    }

    /// Agents log in; contacts arrive faster than they are served, so some wait, some time
    /// out on offer, some are completed and some abandoned: a state with every structure in use.
    fn drive(engine: &mut Engine, from: u64, to: u64, fx: &mut Effects) {
        let queues = ["zh-presales-chat", "zh-hotline", "zh-social", "en-chat"];
        for i in from..to {
            let now = 200 * i;
            if i % 50 == 0 {
                let op = Op::Login(Login {
                    agent: format!("a{}", i / 50),
                    skills: ["presales", "general"]
                        .iter()
                        .map(|s| SkillLevel {
                            skill: Skill::new(*s),
                            proficiency: Proficiency::new(3 + (i / 50 % 3) as u8).unwrap(),
                        })
                        .collect(),
                    languages: vec![Language::new("zh"), Language::new("en")],
                    capacity: None,
                });
                let _ = engine.apply(&op, &Actor::Admin, now, fx);
            }
            let create = Op::Create(NewContact {
                id: format!("c{i}"),
                queue: queues[(i % 4) as usize].to_string(),
                language: None,
                priority: None,
                tier: Default::default(),
                customer_id: Some(format!("u{}", i % 97)),
            });
            let offered = match engine.apply(&create, &Actor::Admin, now, fx) {
                Ok(Reply::Contact { contact, .. }) => contact.agent.map(|a| a.to_string()),
                _ => None,
            };
            if let (Some(agent), true) = (offered, i % 3 != 0) {
                let id = format!("c{i}");
                let accept = Op::Accept {
                    contact: id.clone(),
                    agent: agent.clone(),
                };
                let _ = engine.apply(&accept, &Actor::Admin, now, fx);
                if i % 2 == 0 {
                    let complete = Op::Complete { contact: id, agent };
                    let _ = engine.apply(&complete, &Actor::Admin, now, fx);
                }
            }
            if i % 7 == 0 && i > 10 {
                let abandon = Op::Abandon {
                    contact: format!("c{}", i - 10),
                };
                let _ = engine.apply(&abandon, &Actor::Admin, now, fx);
            }
        }
    }

    #[test]
    fn recovery_from_a_snapshot_equals_a_full_replay_and_falls_back_when_one_is_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path());
        let epoch = {
            let (_, rec) = Log::open(dir.path(), false).unwrap();
            rec.epoch_unix_ms
        };
        let snaps = Snapshots {
            dir: dir.path().to_path_buf(),
            fingerprint: fingerprint(&s.policy, &s.catalog),
            epoch_unix_ms: epoch,
        };
        let mut engine = Engine::new(&s.policy, &s.catalog, epoch).unwrap();
        let mut fx = Effects::default();
        let mut written = Vec::new();
        for (from, to) in [(0, 1500), (1500, 3000), (3000, 4000)] {
            drive(&mut engine, from, to, &mut fx);
            if to < 4000 {
                written.push(snaps.write(&engine).unwrap());
            }
        }
        {
            let (mut log, _) = Log::open(dir.path(), false).unwrap();
            log.append(&fx.log).unwrap();
        }
        let full = replay_store(&s, dir.path(), None).unwrap();
        assert_eq!(full.log_entries, engine.log_entries());

        let check = |expect_from: u64| {
            let r = recover(&s).unwrap();
            assert_eq!(r.from_snapshot, expect_from);
            assert_eq!(r.entries, full.log_entries);
            assert_eq!(
                format!("{:016x}", r.engine.state_digest()),
                full.state_digest
            );
            assert_eq!(
                format!("{:016x}", r.engine.engine_digest()),
                full.engine_digest
            );
        };
        assert!(written[1].covers > written[0].covers && written[0].covers > 0);
        check(written[1].covers);

        // A truncated newest snapshot: the one before it serves.
        let newest = std::fs::read(&written[1].path).unwrap();
        std::fs::write(&written[1].path, &newest[..newest.len() / 2]).unwrap();
        check(written[0].covers);

        // A flipped byte in the only other one: the whole log is replayed.
        let mut older = std::fs::read(&written[0].path).unwrap();
        let last = older.len() - 1;
        older[last] ^= 0x40;
        std::fs::write(&written[0].path, &older).unwrap();
        check(0);

        // A snapshot of another configuration is not used.
        std::fs::write(&written[1].path, &newest).unwrap();
        let mut other = s.clone();
        other.policy.min_proficiency = 2;
        let r = recover(&other).unwrap();
        assert_eq!(r.from_snapshot, 0);
        drop(r);
        check(written[1].covers);
    }

    #[test]
    fn only_the_newest_snapshots_are_kept_and_a_torn_write_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path());
        let snaps = Snapshots {
            dir: dir.path().to_path_buf(),
            fingerprint: fingerprint(&s.policy, &s.catalog),
            epoch_unix_ms: 7,
        };
        let mut engine = Engine::new(&s.policy, &s.catalog, 7).unwrap();
        let mut fx = Effects::default();
        for k in 0..4 {
            drive(&mut engine, k * 100, (k + 1) * 100, &mut fx);
            snaps.write(&engine).unwrap();
        }
        let kept = snaps.list().unwrap();
        assert_eq!(kept.len(), KEEP);
        assert_eq!(kept[1].0, engine.log_entries());
        let tmp = dir.path().join("snapshot-00000000000099999999.tmp");
        std::fs::write(&tmp, b"peakcrew-snapshot 1 covers=").unwrap();
        let loaded = snaps
            .load_newest(&s.policy, &s.catalog, engine.log_entries())
            .unwrap();
        assert_eq!(loaded.state_digest(), engine.state_digest());
        assert_eq!(loaded.engine_digest(), engine.engine_digest());
        assert!(!tmp.exists());
        // A snapshot ahead of the log is never used.
        assert!(snaps
            .load_newest(&s.policy, &s.catalog, engine.log_entries() - 1)
            .is_some_and(|e| e.log_entries() < engine.log_entries()));
    }
}
