//! The durable command log: an append-only file of the commands the router accepted, each
//! with the time it was applied at, so a replay through the core rebuilds the exact state.
//!
//! # Format
//!
//! `<store>/commands.log` is text, one record per line, readable with ordinary tools:
//!
//! ```text
//! peakcrew-log 1 epoch_unix_ms=1763800000000
//! 5d1c09f2 {"n":0,"at":15,"op":"login","agent":"a-1",...}
//! ```
//!
//! The header fixes the clock's epoch: the daemon's time is milliseconds since it, so times in
//! the log stay meaningful across restarts. Each record is the CRC-32 (hex) of its JSON, a
//! space, the JSON and a newline; `n` counts records from 0 with no gaps.
//!
//! # Recovery
//!
//! A process killed mid-write can leave a torn last record (no newline, or a checksum that does
//! not match). Such a tail was never acknowledged — acknowledgements wait for the sync that
//! covers the whole record — so recovery cuts the file back to the last whole record and says
//! how many bytes it dropped. A bad record followed by good ones is corruption of acknowledged
//! data and stops the daemon with the record's line number rather than guess.
//!
//! Opening checks every record's framing and checksum but decodes none: recovery decodes only
//! the records after the snapshot it starts from ([`Recovered::entries`]).
//!
//! `<store>/LOCK` is held with an exclusive file lock while a daemon owns the store, so two
//! daemons never append to one log.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::routing::Millis;

use super::engine::Op;

const LOG_FILE: &str = "commands.log";
const LOCK_FILE: &str = "LOCK";
const MAGIC: &str = "peakcrew-log 1 epoch_unix_ms=";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("store {path} is in use by another daemon (its LOCK file is held)")]
    Locked { path: PathBuf },
    #[error("{path}:{line}: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// One record: a command and the time the router applied it at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub n: u64,
    pub at: Millis,
    #[serde(flatten)]
    pub op: Op,
}

#[derive(Serialize)]
struct EntryRef<'a> {
    n: u64,
    at: Millis,
    #[serde(flatten)]
    op: &'a Op,
}

/// Appends one record for `op` to `buf`.
pub fn encode(buf: &mut Vec<u8>, n: u64, at: Millis, op: &Op) {
    let start = buf.len();
    buf.extend_from_slice(b"00000000 ");
    // Serializing plain data into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, &EntryRef { n, at, op });
    let crc = crc32fast::hash(&buf[start + 9..]);
    buf[start..start + 8].copy_from_slice(format!("{crc:08x}").as_bytes());
    buf.push(b'\n');
}

/// What recovery found in the log: every whole record, checksummed but not yet decoded, so a
/// recovery that starts from a snapshot decodes only the records after it.
#[derive(Debug)]
pub struct Recovered {
    pub epoch_unix_ms: u64,
    /// Bytes of a torn last record that were cut off.
    pub dropped_bytes: u64,
    path: PathBuf,
    text: Vec<u8>,
    /// Byte range of each whole record's JSON, record `n` at index `n`.
    records: Vec<(usize, usize)>,
}

impl Recovered {
    /// Whole records in the log.
    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Decodes the records from `from` on (all of them with 0).
    pub fn entries(&self, from: u64) -> Result<Vec<Entry>, StoreError> {
        let from = (from as usize).min(self.records.len());
        let mut out = Vec::with_capacity(self.records.len() - from);
        for (i, &(start, end)) in self.records.iter().enumerate().skip(from) {
            // The header is line 1, record n is line n + 2.
            let line = i + 2;
            let entry: Entry = serde_json::from_slice(&self.text[start..end]).map_err(|e| {
                StoreError::Corrupt {
                    path: self.path.clone(),
                    line,
                    message: format!("the record does not decode: {e}"),
                }
            })?;
            if entry.n != i as u64 {
                return Err(StoreError::Corrupt {
                    path: self.path.clone(),
                    line,
                    message: format!("expected record n={i}, found n={}", entry.n),
                });
            }
            out.push(entry);
        }
        Ok(out)
    }
}

/// The open log, owned by the group-commit thread once recovery is done.
#[derive(Debug)]
pub struct Log {
    path: PathBuf,
    file: File,
    fsync: bool,
    _lock: File,
}

impl Log {
    /// Opens (or creates) the store in `dir`, locks it and reads back every whole record.
    pub fn open(dir: &Path, fsync: bool) -> Result<(Log, Recovered), StoreError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: dir.to_path_buf(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let path = dir.join(LOG_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(io(&path))?;
        let recovered = if text.is_empty() {
            let epoch_unix_ms = unix_ms();
            file.write_all(format!("{MAGIC}{epoch_unix_ms}\n").as_bytes())
                .map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
            // The new file's directory entry must be durable too.
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir))?;
            Recovered {
                epoch_unix_ms,
                dropped_bytes: 0,
                path: path.clone(),
                text: Vec::new(),
                records: Vec::new(),
            }
        } else {
            let len = text.len() as u64;
            let (recovered, valid_len) = parse(&path, text)?;
            if valid_len < len {
                file.set_len(valid_len).map_err(io(&path))?;
                file.sync_all().map_err(io(&path))?;
            }
            recovered
        };
        file.seek(SeekFrom::End(0)).map_err(io(&path))?;
        Ok((
            Log {
                path,
                file,
                fsync,
                _lock: lock,
            },
            recovered,
        ))
    }

    /// Reads a store without locking or changing it (a torn tail is ignored, not cut).
    pub fn read(dir: &Path) -> Result<Recovered, StoreError> {
        let path = dir.join(LOG_FILE);
        let text = std::fs::read(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(parse(&path, text)?.0)
    }

    /// Appends whole records and, with durability on, waits until they are on disk.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(bytes).map_err(io)?;
        if self.fsync {
            self.file.sync_data().map_err(io)?;
        }
        Ok(())
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Frames the whole file: checks the header and each record's checksum. Returns the records
/// and the length of the part that is whole.
fn parse(path: &Path, text: Vec<u8>) -> Result<(Recovered, u64), StoreError> {
    let corrupt = |line: usize, message: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    let Some(header_end) = text.iter().position(|&b| b == b'\n') else {
        return Err(corrupt(1, "the header line is incomplete".into()));
    };
    let header = std::str::from_utf8(&text[..header_end]).unwrap_or("");
    let epoch_unix_ms = header
        .strip_prefix(MAGIC)
        .and_then(|e| e.parse::<u64>().ok())
        .ok_or_else(|| {
            corrupt(
                1,
                format!("expected a header `{MAGIC}<ms>`, found `{header}`"),
            )
        })?;
    let mut records = Vec::new();
    let mut pos = header_end + 1;
    let mut line = 1;
    let mut dropped_bytes = 0;
    while pos < text.len() {
        line += 1;
        let rest = &text[pos..];
        let end = rest.iter().position(|&b| b == b'\n');
        let record = match end {
            Some(e) => check(&rest[..e]),
            None => Err("the record has no end of line".to_string()),
        };
        match record {
            Ok(()) => {
                let e = end.unwrap_or(rest.len());
                records.push((pos + 9, pos + e));
                pos += e + 1;
            }
            Err(message) => {
                // Only a tail of torn records may be cut: nothing whole may follow.
                let later_whole = end.is_some_and(|e| {
                    rest[e + 1..]
                        .split(|&b| b == b'\n')
                        .any(|l| check(l).is_ok())
                });
                if later_whole {
                    return Err(corrupt(line, message));
                }
                dropped_bytes = (text.len() - pos) as u64;
                tracing::warn!(
                    "{}:{line}: cutting a torn tail of {dropped_bytes} bytes ({message})",
                    path.display()
                );
                break;
            }
        }
    }
    let whole = pos.min(text.len()) as u64;
    Ok((
        Recovered {
            epoch_unix_ms,
            dropped_bytes,
            path: path.to_path_buf(),
            text,
            records,
        },
        whole,
    ))
}

/// Checks a record's framing and checksum; decoding its JSON waits until it is replayed.
fn check(line: &[u8]) -> Result<(), String> {
    if line.len() < 10 || line[8] != b' ' {
        return Err("the record is too short".into());
    }
    let crc = std::str::from_utf8(&line[..8])
        .ok()
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or("the record does not start with a checksum")?;
    if crc32fast::hash(&line[9..]) != crc {
        return Err("the record's checksum does not match".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(i: u32) -> Op {
        Op::Logout {
            agent: format!("a-{i}"),
        }
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, rec) = Log::open(dir.path(), true).unwrap();
        assert!(rec.is_empty());
        let mut buf = Vec::new();
        for i in 0..3 {
            encode(&mut buf, i as u64, 10 * i as u64, &op(i));
        }
        log.append(&buf).unwrap();
        // A torn fourth record: half of it reached the file.
        let mut torn = Vec::new();
        encode(&mut torn, 3, 30, &op(3));
        log.append(&torn[..torn.len() / 2]).unwrap();
        drop(log);

        let (_, rec) = Log::open(dir.path(), true).unwrap();
        let entries = rec.entries(0).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].at, 20);
        assert_eq!(entries[2].op, op(2));
        assert_eq!(rec.entries(2).unwrap(), entries[2..]);
        assert_eq!(rec.dropped_bytes, (torn.len() / 2) as u64);
    }

    #[test]
    fn corruption_before_whole_records_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = Log::open(dir.path(), false).unwrap();
        let mut buf = Vec::new();
        for i in 0..3 {
            encode(&mut buf, i as u64, 0, &op(i));
        }
        let second = buf.iter().position(|&b| b == b'\n').unwrap() + 12;
        buf[second] ^= 1;
        log.append(&buf).unwrap();
        drop(log);
        let err = Log::open(dir.path(), false).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { line: 3, .. }), "{err}");
    }

    #[test]
    fn a_store_has_one_owner() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Log::open(dir.path(), false).unwrap();
        assert!(matches!(
            Log::open(dir.path(), false),
            Err(StoreError::Locked { .. })
        ));
    }
}
