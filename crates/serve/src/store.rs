//! The durable command log: append-only files of the commands the router accepted, each with
//! the time it was applied at, so a replay through the core rebuilds the exact state.
//!
//! # Format
//!
//! The log is a run of segment files `<store>/commands-<n>.log`, where `n` (20 digits) is the
//! number of the segment's first record. Each is text, one record per line, readable with
//! ordinary tools:
//!
//! ```text
//! peakcrew-log 1 epoch_unix_ms=1763800000000
//! 5d1c09f2 {"n":0,"at":15,"op":"login","agent":"a-1",...}
//! ```
//!
//! The header (the same in every segment) fixes the clock's epoch: the daemon's time is
//! milliseconds since it, so times in the log stay meaningful across restarts. Each record is
//! the CRC-32 (hex) of its JSON, a space, the JSON and a newline; `n` counts records from 0
//! with no gaps, across segments.
//!
//! A new segment starts, always between two records, when the commit thread hands a snapshot
//! to the snapshot thread (so no segment straddles a snapshot's position) and when the current
//! one has grown past [`SEGMENT_BYTES`]. A segment is created whole (header written to a
//! `.tmp`, synced, renamed, directory synced), so a crash leaves at most a `.tmp`, which the
//! next open removes. A store written before segments existed has one `commands.log`; it is
//! read as the segment of record 0 and renamed to that name (once, atomically) by the first
//! daemon that opens it.
//!
//! With `keep_log = "since-snapshots"` the snapshot thread removes, oldest first, the segments
//! whose records are all covered by the oldest snapshot kept ([`remove_segments_before`]), so
//! the log is always a contiguous run of records ending at the newest one, and the fallback
//! snapshot still has its whole tail. The first segment then no longer starts at record 0.
//!
//! # Recovery
//!
//! Segments are read in order of their first record, and must continue one another: each
//! begins with the record after the previous one's last. A gap or an overlap is corruption,
//! reported with the segment's file and line.
//!
//! A process killed mid-write can leave a torn last record (no newline, or a checksum that does
//! not match). Such a tail was never acknowledged — acknowledgements wait for the sync that
//! covers the whole record — so recovery cuts the last segment back to its last whole record
//! and says how many bytes it dropped. A torn record anywhere else (a bad record followed by
//! good ones, or at the end of a segment that is not the last) is corruption of acknowledged
//! data and stops the daemon with the file and line rather than guess.
//!
//! Opening checks every record's framing and checksum but decodes none (beyond each segment's
//! first `n`): recovery decodes only the records after the snapshot it starts from
//! ([`Recovered::entries`]). A log whose first record is not 0 can only be recovered from a
//! snapshot covering at least the records before it (see [`crate::recover`]).
//!
//! `<store>/LOCK` is held with an exclusive file lock while a daemon owns the store, so two
//! daemons never append to one log.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use peakcrew_core::routing::Millis;

use super::wire::Op;

/// The whole log of a store written before segments existed: the segment of record 0.
const LEGACY_LOG_FILE: &str = "commands.log";
const SEGMENT_PREFIX: &str = "commands-";
const SEGMENT_SUFFIX: &str = ".log";
/// A segment being created, before it is renamed into place.
const SEGMENT_TMP_SUFFIX: &str = ".log.tmp";
const LOCK_FILE: &str = "LOCK";
const MAGIC: &str = "peakcrew-log 1 epoch_unix_ms=";
/// A segment that has grown past this many bytes is closed at the next group commit: small
/// enough that compaction frees space in steps, large enough that a Double-11 day (about
/// 600 MB) makes about ten files.
pub const SEGMENT_BYTES: u64 = 64 << 20;

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
    #[error(
        "the log in {dir} no longer holds records {from}..{first}: it starts at record {first} \
         (the segments before it were removed by keep_log = \"since-snapshots\")"
    )]
    Compacted { dir: PathBuf, from: u64, first: u64 },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { path, source }
}

fn corrupt(path: &Path, line: usize, message: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    }
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

/// Just a record's number, to check a segment's name against its first record cheaply.
#[derive(Deserialize)]
struct RecordNumber {
    n: u64,
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

/// The file name of the segment whose first record is `first`.
pub fn segment_name(first: u64) -> String {
    format!("{SEGMENT_PREFIX}{first:020}{SEGMENT_SUFFIX}")
}

/// The first record of a segment, from its file name.
fn segment_first(name: &str) -> Option<u64> {
    let digits = name
        .strip_prefix(SEGMENT_PREFIX)?
        .strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The log's segment files in `dir`, in record order; a legacy `commands.log` is the segment of
/// record 0. Two files claiming the same first record are an error.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let first = if name == LEGACY_LOG_FILE {
            Some(0)
        } else {
            segment_first(name)
        };
        if let Some(first) = first {
            out.push((first, path));
        }
    }
    out.sort();
    if let Some(pair) = out.windows(2).find(|p| p[0].0 == p[1].0) {
        return Err(corrupt(
            &pair[1].1,
            1,
            format!(
                "two segments start at record {}: this one and {}",
                pair[0].0,
                pair[0].1.display()
            ),
        ));
    }
    Ok(out)
}

/// Removes, oldest first, the segments of `dir` whose records all come before record
/// `covered`; never the last segment, which is the one being appended to. Oldest first, so a
/// crash part way leaves a log that still runs without gaps. Returns the files removed.
pub fn remove_segments_before(dir: &Path, covered: u64) -> Result<Vec<PathBuf>, StoreError> {
    let list = segments(dir)?;
    let mut removed = Vec::new();
    for pair in list.windows(2) {
        let ((_, path), (next_first, _)) = (&pair[0], &pair[1]);
        if *next_first > covered {
            break;
        }
        std::fs::remove_file(path).map_err(io_error(path))?;
        removed.push(path.clone());
    }
    if !removed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(removed)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

/// One segment as read back: its text and where each whole record's JSON is.
#[derive(Debug)]
struct Segment {
    path: PathBuf,
    first: u64,
    text: Vec<u8>,
    /// Byte range of each whole record's JSON, record `first + i` at index `i`.
    records: Vec<(usize, usize)>,
}

impl Segment {
    /// The number of the record after this segment's last.
    fn end(&self) -> u64 {
        self.first + self.records.len() as u64
    }

    /// Decodes the segment's `i`-th record and checks its number.
    fn entry(&self, i: usize) -> Result<Entry, StoreError> {
        let (start, end) = self.records[i];
        // The header is line 1, the segment's i-th record line i + 2.
        let line = i + 2;
        let entry: Entry = serde_json::from_slice(&self.text[start..end])
            .map_err(|e| corrupt(&self.path, line, format!("the record does not decode: {e}")))?;
        let expected = self.first + i as u64;
        if entry.n != expected {
            return Err(corrupt(
                &self.path,
                line,
                format!("expected record n={expected}, found n={}", entry.n),
            ));
        }
        Ok(entry)
    }
}

/// What recovery found in the log: every whole record of every segment, checksummed but not
/// yet decoded, so a recovery that starts from a snapshot decodes only the records after it.
#[derive(Debug)]
pub struct Recovered {
    pub epoch_unix_ms: u64,
    /// Bytes of a torn last record that were cut off.
    pub dropped_bytes: u64,
    dir: PathBuf,
    /// In record order, each continuing the one before.
    segments: Vec<Segment>,
}

impl Recovered {
    /// Records logged so far, which is the next record's `n` (records removed by compaction
    /// included).
    pub fn len(&self) -> u64 {
        self.segments.last().map_or(0, Segment::end)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first record the log still holds: 0 unless compaction removed segments.
    pub fn first(&self) -> u64 {
        self.segments.first().map_or(0, |s| s.first)
    }

    /// Segment files read.
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Decodes the records from `from` on (all of them with [`Recovered::first`]); records
    /// before the first one held are an error, never silently skipped.
    pub fn entries(&self, from: u64) -> Result<Vec<Entry>, StoreError> {
        if from < self.first() {
            return Err(StoreError::Compacted {
                dir: self.dir.clone(),
                from,
                first: self.first(),
            });
        }
        let mut out = Vec::with_capacity(self.len().saturating_sub(from) as usize);
        for segment in self.segments.iter().filter(|s| s.end() > from) {
            let skip = from.saturating_sub(segment.first) as usize;
            for i in skip..segment.records.len() {
                out.push(segment.entry(i)?);
            }
        }
        Ok(out)
    }

    /// The last record, if the log holds any.
    pub fn last(&self) -> Result<Option<Entry>, StoreError> {
        match self.segments.iter().rev().find(|s| !s.records.is_empty()) {
            Some(s) => s.entry(s.records.len() - 1).map(Some),
            None => Ok(None),
        }
    }
}

/// The open log, owned by the group-commit thread once recovery is done.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    /// The segment being appended to.
    path: PathBuf,
    file: File,
    fsync: bool,
    epoch_unix_ms: u64,
    /// The current segment's first record and length in bytes.
    segment_first: u64,
    segment_bytes: u64,
    /// Records logged so far: the next record's `n`.
    records: u64,
    segment_limit: u64,
    /// A snapshot was handed on at this position: the next append starts a new segment.
    end_segment: bool,
    _lock: File,
}

impl Log {
    /// Opens (or creates) the store in `dir`, locks it and reads back every whole record of
    /// every segment, cutting a torn tail off the last one. A legacy `commands.log` is renamed
    /// to the segment of record 0 first.
    pub fn open(dir: &Path, fsync: bool) -> Result<(Log, Recovered), StoreError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: dir.to_path_buf(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(&lock_path)(e)),
        }
        remove_unfinished_segments(dir)?;
        adopt_legacy_log(dir)?;
        let list = segments(dir)?;
        let (recovered, path, mut file, segment_bytes) = if list.is_empty() {
            let epoch_unix_ms = unix_ms();
            let (path, file, header_bytes) = create_segment(dir, 0, epoch_unix_ms)?;
            let recovered = Recovered {
                epoch_unix_ms,
                dropped_bytes: 0,
                dir: dir.to_path_buf(),
                segments: vec![Segment {
                    path: path.clone(),
                    first: 0,
                    text: Vec::new(),
                    records: Vec::new(),
                }],
            };
            (recovered, path, file, header_bytes)
        } else {
            let (recovered, whole_len) = read_segments(dir, &list)?;
            let path = list[list.len() - 1].1.clone();
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_error(&path))?;
            if recovered.dropped_bytes > 0 {
                file.set_len(whole_len).map_err(io_error(&path))?;
                file.sync_all().map_err(io_error(&path))?;
            }
            (recovered, path, file, whole_len)
        };
        file.seek(SeekFrom::End(0)).map_err(io_error(&path))?;
        let segment_first = recovered.segments.last().map_or(0, |s| s.first);
        Ok((
            Log {
                dir: dir.to_path_buf(),
                path,
                file,
                fsync,
                epoch_unix_ms: recovered.epoch_unix_ms,
                segment_first,
                segment_bytes,
                records: recovered.len(),
                segment_limit: SEGMENT_BYTES,
                end_segment: false,
                _lock: lock,
            },
            recovered,
        ))
    }

    /// Reads a store without locking or changing it (a torn tail is ignored, not cut; a legacy
    /// `commands.log` is read where it is).
    pub fn read(dir: &Path) -> Result<Recovered, StoreError> {
        let list = segments(dir)?;
        if list.is_empty() {
            return Err(StoreError::Io {
                path: dir.join(segment_name(0)),
                source: io::Error::new(io::ErrorKind::NotFound, "the store has no command log"),
            });
        }
        Ok(read_segments(dir, &list)?.0)
    }

    /// Closes segments past `bytes` instead of [`SEGMENT_BYTES`] (for tests of rollover).
    pub fn with_segment_limit(mut self, bytes: u64) -> Log {
        self.segment_limit = bytes;
        self
    }

    /// Records logged so far: the next record's `n`.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Ends the current segment here: the next append starts a new one (the commit thread
    /// calls this when it hands on a snapshot covering exactly the records logged so far).
    pub fn end_segment(&mut self) {
        self.end_segment = true;
    }

    /// Appends whole records (each ending in a newline) and, with durability on, waits until
    /// they are on disk. Starts a new segment first if the current one was ended or is full
    /// and holds at least one record.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let holds_records = self.records > self.segment_first;
        if holds_records && (self.end_segment || self.segment_bytes >= self.segment_limit) {
            let (path, file, header_bytes) =
                create_segment(&self.dir, self.records, self.epoch_unix_ms)?;
            (self.path, self.file) = (path, file);
            self.segment_first = self.records;
            self.segment_bytes = header_bytes;
        }
        self.end_segment = false;
        let io = io_error(&self.path);
        let written = self.file.write_all(bytes).and_then(|()| {
            if self.fsync {
                self.file.sync_data()
            } else {
                Ok(())
            }
        });
        written.map_err(io)?;
        self.segment_bytes += bytes.len() as u64;
        self.records += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(())
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Creates the segment of record `first` whole: its header goes to a `.tmp` that is synced,
/// renamed into place and the directory synced, so a crash never leaves a half segment. Returns
/// it open for appending, with the header's length.
fn create_segment(
    dir: &Path,
    first: u64,
    epoch_unix_ms: u64,
) -> Result<(PathBuf, File, u64), StoreError> {
    let path = dir.join(segment_name(first));
    let tmp = dir.join(format!("{SEGMENT_PREFIX}{first:020}{SEGMENT_TMP_SUFFIX}"));
    let header = format!("{MAGIC}{epoch_unix_ms}\n");
    {
        let mut f = File::create(&tmp).map_err(io_error(&tmp))?;
        f.write_all(header.as_bytes()).map_err(io_error(&tmp))?;
        f.sync_all().map_err(io_error(&tmp))?;
    }
    std::fs::rename(&tmp, &path).map_err(io_error(&path))?;
    sync_dir(dir)?;
    let file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io_error(&path))?;
    Ok((path, file, header.len() as u64))
}

/// Removes `.tmp` segments a crash left before their rename (they hold no record).
fn remove_unfinished_segments(dir: &Path) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        let unfinished = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(SEGMENT_PREFIX) && n.ends_with(SEGMENT_TMP_SUFFIX));
        if unfinished {
            std::fs::remove_file(&path).map_err(io_error(&path))?;
        }
    }
    Ok(())
}

/// Renames a legacy `commands.log` to the segment of record 0 (atomically, once). An empty one
/// is what an older version left when it crashed before writing the header: a new store.
fn adopt_legacy_log(dir: &Path) -> Result<(), StoreError> {
    let legacy = dir.join(LEGACY_LOG_FILE);
    let Ok(meta) = std::fs::metadata(&legacy) else {
        return Ok(());
    };
    let target = dir.join(segment_name(0));
    if target.exists() {
        return Err(corrupt(
            &legacy,
            1,
            format!(
                "both this legacy log and {} hold record 0; keep the right one",
                target.display()
            ),
        ));
    }
    if meta.len() == 0 {
        std::fs::remove_file(&legacy).map_err(io_error(&legacy))?;
    } else {
        std::fs::rename(&legacy, &target).map_err(io_error(&target))?;
        tracing::info!(
            "renamed the single-file log {} to {}",
            legacy.display(),
            target.display()
        );
    }
    sync_dir(dir)
}

/// Reads and checks the segments in `list` (in record order): one epoch, names that agree with
/// their first records, each segment continuing the one before, a torn tail only at the very
/// end. Returns what they hold and the whole length of the last segment (without a torn tail).
fn read_segments(dir: &Path, list: &[(u64, PathBuf)]) -> Result<(Recovered, u64), StoreError> {
    let mut segments: Vec<Segment> = Vec::with_capacity(list.len());
    let mut epoch_unix_ms = None;
    let mut dropped_bytes = 0;
    let mut whole_len = 0;
    for (k, (first, path)) in list.iter().enumerate() {
        let text = std::fs::read(path).map_err(io_error(path))?;
        let parsed = parse(path, *first, text)?;
        if let Some(torn) = &parsed.torn {
            if k + 1 < list.len() {
                return Err(corrupt(
                    path,
                    torn.line,
                    format!(
                        "{}, in a segment that is not the last (only the log's very end may be torn)",
                        torn.message
                    ),
                ));
            }
            tracing::warn!(
                "{}:{}: cutting a torn tail of {} bytes ({})",
                path.display(),
                torn.line,
                torn.bytes,
                torn.message
            );
            dropped_bytes = torn.bytes;
        }
        let segment = parsed.segment;
        match epoch_unix_ms {
            None => epoch_unix_ms = Some(parsed.epoch_unix_ms),
            Some(e) if e != parsed.epoch_unix_ms => {
                return Err(corrupt(
                    path,
                    1,
                    format!(
                        "the header's epoch_unix_ms={} differs from the first segment's {e}: \
                         the segment belongs to another log",
                        parsed.epoch_unix_ms
                    ),
                ))
            }
            Some(_) => {}
        }
        let first_line = if segment.records.is_empty() { 1 } else { 2 };
        if let Some(&(start, end)) = segment.records.first() {
            let n = serde_json::from_slice::<RecordNumber>(&segment.text[start..end])
                .map_err(|e| corrupt(path, 2, format!("the record does not decode: {e}")))?
                .n;
            if n != *first {
                return Err(corrupt(
                    path,
                    2,
                    format!("the segment's name says it starts at record {first}, its first record is n={n}"),
                ));
            }
        }
        if let Some(prev) = segments.last() {
            let expected = prev.end();
            if *first > expected {
                return Err(corrupt(
                    path,
                    first_line,
                    format!(
                        "records {expected}..{first} are missing: the segment before, {}, ends \
                         before record {expected} and this one starts at record {first}",
                        prev.path.display()
                    ),
                ));
            }
            if *first < expected {
                return Err(corrupt(
                    path,
                    first_line,
                    format!(
                        "this segment starts at record {first}, but the segment before, {}, \
                         already holds records up to {}",
                        prev.path.display(),
                        expected - 1
                    ),
                ));
            }
        }
        whole_len = parsed.whole_len;
        segments.push(segment);
    }
    Ok((
        Recovered {
            epoch_unix_ms: epoch_unix_ms.unwrap_or(0),
            dropped_bytes,
            dir: dir.to_path_buf(),
            segments,
        },
        whole_len,
    ))
}

/// A segment's torn tail: where it starts, why, and how long it is.
struct Torn {
    line: usize,
    message: String,
    bytes: u64,
}

/// One segment framed.
struct Parsed {
    epoch_unix_ms: u64,
    segment: Segment,
    /// Length of the part that is whole.
    whole_len: u64,
    torn: Option<Torn>,
}

/// Frames one segment: checks the header and each record's checksum. A bad record with
/// only torn records after it is a torn tail; one with a whole record after it is corruption.
fn parse(path: &Path, first: u64, text: Vec<u8>) -> Result<Parsed, StoreError> {
    let Some(header_end) = text.iter().position(|&b| b == b'\n') else {
        return Err(corrupt(path, 1, "the header line is incomplete".into()));
    };
    let header = std::str::from_utf8(&text[..header_end]).unwrap_or("");
    let epoch_unix_ms = header
        .strip_prefix(MAGIC)
        .and_then(|e| e.parse::<u64>().ok())
        .ok_or_else(|| {
            corrupt(
                path,
                1,
                format!("expected a header `{MAGIC}<ms>`, found `{header}`"),
            )
        })?;
    let mut records = Vec::new();
    let mut pos = header_end + 1;
    let mut line = 1;
    let mut torn = None;
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
                    return Err(corrupt(path, line, message));
                }
                torn = Some(Torn {
                    line,
                    message,
                    bytes: (text.len() - pos) as u64,
                });
                break;
            }
        }
    }
    let whole_len = pos.min(text.len()) as u64;
    Ok(Parsed {
        epoch_unix_ms,
        segment: Segment {
            path: path.to_path_buf(),
            first,
            text,
            records,
        },
        whole_len,
        torn,
    })
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

    fn op(i: u64) -> Op {
        Op::Logout {
            agent: format!("a-{i}"),
        }
    }

    fn records(range: std::ops::Range<u64>) -> Vec<u8> {
        let mut buf = Vec::new();
        for i in range {
            encode(&mut buf, i, 10 * i, &op(i));
        }
        buf
    }

    /// Writes a segment file by hand: `name`'s header and the records of `range`.
    fn write_file(dir: &Path, name: &str, range: std::ops::Range<u64>) -> PathBuf {
        let mut text = format!("{MAGIC}77\n").into_bytes();
        text.extend(records(range));
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("commands"))
            .collect();
        out.sort();
        out
    }

    fn numbers(rec: &Recovered, from: u64) -> Vec<u64> {
        rec.entries(from).unwrap().iter().map(|e| e.n).collect()
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, rec) = Log::open(dir.path(), true).unwrap();
        assert!(rec.is_empty());
        log.append(&records(0..3)).unwrap();
        // A torn fourth record: half of it reached the file.
        let torn = records(3..4);
        log.append(&torn[..torn.len() / 2]).unwrap();
        drop(log);

        let (_, rec) = Log::open(dir.path(), true).unwrap();
        let entries = rec.entries(0).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].at, 20);
        assert_eq!(entries[2].op, op(2));
        assert_eq!(rec.entries(2).unwrap(), entries[2..]);
        assert_eq!(rec.last().unwrap().as_ref(), entries.last());
        assert_eq!(rec.dropped_bytes, (torn.len() / 2) as u64);
    }

    #[test]
    fn corruption_before_whole_records_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = Log::open(dir.path(), false).unwrap();
        let mut buf = records(0..3);
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

    #[test]
    fn segments_end_at_snapshots_and_past_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = Log::open(dir.path(), true).unwrap();
        let one = records(0..1).len() as u64;
        // Room for about three records after the header.
        let mut log = log.with_segment_limit(40 + 3 * one);
        log.append(&records(0..2)).unwrap();
        // A snapshot handed on after record 1: the next group starts a new segment, and
        // ending an empty segment again changes nothing.
        log.end_segment();
        log.append(&[]).unwrap();
        log.append(&records(2..3)).unwrap();
        log.end_segment();
        log.end_segment();
        log.append(&records(3..4)).unwrap();
        // Past the size limit: a group is never split, the next one opens a segment.
        log.append(&records(4..9)).unwrap();
        log.append(&records(9..10)).unwrap();
        assert_eq!(log.records(), 10);
        assert_eq!(
            names(dir.path()),
            [0, 2, 3, 9].map(segment_name).to_vec(),
            "{:?}",
            names(dir.path())
        );
        drop(log);
        let (mut log, rec) = Log::open(dir.path(), true).unwrap();
        assert_eq!((rec.first(), rec.len(), rec.segments()), (0, 10, 4));
        assert_eq!(numbers(&rec, 0), (0..10).collect::<Vec<_>>());
        assert_eq!(numbers(&rec, 3), (3..10).collect::<Vec<_>>());
        assert_eq!(rec.entries(9).unwrap()[0].op, op(9));
        // Appends go on in the last segment.
        log.append(&records(10..11)).unwrap();
        drop(log);
        assert_eq!(Log::read(dir.path()).unwrap().len(), 11);
        assert_eq!(names(dir.path()).len(), 4);
    }

    #[test]
    fn segments_must_continue_one_another() {
        let case = |files: &[(u64, std::ops::Range<u64>)]| {
            let dir = tempfile::tempdir().unwrap();
            for (first, range) in files {
                write_file(dir.path(), &segment_name(*first), range.clone());
            }
            let err = Log::open(dir.path(), false).unwrap_err();
            (err.to_string(), dir)
        };
        let (gap, dir) = case(&[(0, 0..3), (5, 5..7)]);
        let second = dir.path().join(segment_name(5));
        assert!(
            gap.starts_with(&format!("{}:2: records 3..5 are missing", second.display())),
            "{gap}"
        );
        let (overlap, _) = case(&[(0, 0..3), (2, 2..4)]);
        assert!(
            overlap.contains(&format!(
                "{}:2: this segment starts at record 2",
                segment_name(2)
            )) && overlap.contains("already holds records up to 2"),
            "{overlap}"
        );
        let (misnamed, _) = case(&[(0, 0..3), (3, 4..6)]);
        assert!(
            misnamed.contains("says it starts at record 3, its first record is n=4"),
            "{misnamed}"
        );
        // A record out of order inside a segment is caught when it is decoded.
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(dir.path(), &segment_name(0), 0..2);
        let mut text = std::fs::read(&path).unwrap();
        text.extend(records(3..4));
        std::fs::write(&path, text).unwrap();
        let rec = Log::read(dir.path()).unwrap();
        let err = rec.entries(0).unwrap_err().to_string();
        assert!(err.ends_with(":4: expected record n=2, found n=3"), "{err}");
    }

    #[test]
    fn only_the_last_segment_may_end_torn() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_file(dir.path(), &segment_name(0), 0..3);
        write_file(dir.path(), &segment_name(3), 3..5);
        let mut text = std::fs::read(&first).unwrap();
        text.truncate(text.len() - 5);
        std::fs::write(&first, text).unwrap();
        let err = Log::open(dir.path(), false).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:4: ", first.display())) && err.contains("not the last"),
            "{err}"
        );
    }

    #[test]
    fn a_single_file_store_opens_as_its_first_segment() {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "commands.log", 0..4);
        // Read-only: read in place, nothing renamed.
        let rec = Log::read(dir.path()).unwrap();
        assert_eq!((rec.first(), rec.len(), rec.epoch_unix_ms), (0, 4, 77));
        assert_eq!(names(dir.path()), ["commands.log"]);
        // The first daemon renames it and goes on appending.
        let (mut log, rec) = Log::open(dir.path(), false).unwrap();
        assert_eq!(numbers(&rec, 0), vec![0, 1, 2, 3]);
        assert_eq!(names(dir.path()), [segment_name(0)]);
        log.append(&records(4..6)).unwrap();
        log.end_segment();
        log.append(&records(6..7)).unwrap();
        drop(log);
        let rec = Log::read(dir.path()).unwrap();
        assert_eq!(numbers(&rec, 0), (0..7).collect::<Vec<_>>());
        assert_eq!(rec.epoch_unix_ms, 77);
        // Both forms of record 0 at once is a question for an operator, not a guess.
        write_file(dir.path(), "commands.log", 0..4);
        let err = Log::open(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("hold record 0"), "{err}");
    }

    #[test]
    fn compaction_removes_only_segments_wholly_before_a_position() {
        let dir = tempfile::tempdir().unwrap();
        for (first, range) in [(0, 0..3), (3, 3..5), (5, 5..9), (9, 9..10)] {
            write_file(dir.path(), &segment_name(first), range);
        }
        // A position of 4 covers records 0 to 3: segment 0 (records 0-2) goes, segment 3
        // (records 3-4) stays.
        let removed = remove_segments_before(dir.path(), 4).unwrap();
        assert_eq!(removed, vec![dir.path().join(segment_name(0))]);
        let removed = remove_segments_before(dir.path(), 5).unwrap();
        assert_eq!(removed, vec![dir.path().join(segment_name(3))]);
        // Never the last segment, even when all of it is covered.
        let removed = remove_segments_before(dir.path(), 100).unwrap();
        assert_eq!(removed, vec![dir.path().join(segment_name(5))]);
        assert_eq!(names(dir.path()), [segment_name(9)]);

        let (_, rec) = Log::open(dir.path(), false).unwrap();
        assert_eq!((rec.first(), rec.len()), (9, 10));
        assert_eq!(numbers(&rec, 9), vec![9]);
        let err = rec.entries(0).unwrap_err().to_string();
        assert!(err.contains("no longer holds records 0..9"), "{err}");
    }
}
