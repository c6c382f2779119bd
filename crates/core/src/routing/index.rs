//! The core's indexes: agent pools (who has room, best first), contact lanes (who waits, in
//! order) and the timer heap. Plain data with small methods; the policy logic that uses them
//! lives in `router.rs`.
//!
//! **Pools** answer "the best free agent holding skill S at proficiency ≥ P, speaking L, with room
//! for one more contact of channel C". One pool per (skill, language, channel), split into
//! buckets by (specialist or cross-trained, proficiency 1–5, occupancy level). Inside a bucket
//! agents are in the order they entered it, which is the order of their `idle_since` (an agent
//! re-enters its buckets exactly when its load or state changes, and that change sets
//! `idle_since` to now). So every selection rule only compares bucket heads: a query is a walk
//! over the set bits of a 128-bit mask, never a scan of agents. Removal is lazy: an entry
//! carries the agent's version at insertion and is stale once the agent's version moves on; stale
//! heads are dropped when met, and a bucket is compacted when stale entries outnumber live ones.
//!
//! **Lanes** hold waiting contacts of one (queue, language), split into 20 buckets by priority
//! class and tier, each a deque ordered by (arrival, sequence number): the original position,
//! which a requeued or transferred contact keeps. New arrivals append in O(1); a contact that
//! keeps an older position is inserted in place. Removal is lazy like the pools': an entry
//! carries the contact's epoch, which moves on every transition, so an entry whose contact
//! left is stale; stale entries are dropped at the front and compacted away.
//!
//! **Timers** keep one FIFO per configured delay (offer timeout, each relaxation step, sticky
//! wait, wrap-up, escalation) with a binary heap for the few timers that land out of order.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use super::protocol::Millis;

/// A small, fast, deterministic hasher for integer and short string keys (the Fx hash of
/// rustc). Lookups only: the core never iterates a hash map, so decisions cannot depend on
/// hash order.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// An agent's place in a pool bucket, valid while the agent's version is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub agent: u32,
    pub version: u32,
}

/// Free agents of one (skill, language, channel). Empty until a lane's ring needs it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Pool {
    pub live: bool,
    /// Logged-in agents registered in this pool (an upper bound of its live entries).
    pub members: u32,
    /// Bit b set when bucket b may be non-empty.
    pub mask: u128,
    pub buckets: Vec<VecDeque<Entry>>,
}

impl Pool {
    pub fn push(&mut self, bucket: usize, entry: Entry, versions: impl Fn(u32) -> u32) {
        let limit = 2 * self.members as usize + 16;
        let q = &mut self.buckets[bucket];
        if q.len() >= limit {
            q.retain(|e| versions(e.agent) == e.version);
        }
        q.push_back(entry);
        self.mask |= 1u128 << bucket;
    }

    /// The head of a bucket after dropping stale entries; clears the bucket's bit when empty.
    pub fn head(&mut self, bucket: usize, versions: impl Fn(u32) -> u32) -> Option<u32> {
        let q = &mut self.buckets[bucket];
        while let Some(e) = q.front() {
            if versions(e.agent) == e.version {
                return Some(e.agent);
            }
            q.pop_front();
        }
        self.mask &= !(1u128 << bucket);
        None
    }
}

/// Layout of pool buckets: (specialist class, proficiency, occupancy level).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct BucketLayout {
    /// Occupancy levels per (class, proficiency): 2 (idle, partly busy) when the selection
    /// rule ignores occupancy, else 12 (twelfths of capacity in use).
    pub levels: usize,
}

impl BucketLayout {
    pub fn count(self) -> usize {
        2 * 5 * self.levels
    }

    pub fn base(self, cross_trained: bool, proficiency: u8) -> usize {
        ((cross_trained as usize) * 5 + (proficiency as usize - 1)) * self.levels
    }

    /// (cross_trained, proficiency, occupancy level) of a bucket.
    pub fn decode(self, bucket: usize) -> (bool, u8, usize) {
        let level = bucket % self.levels;
        let rest = bucket / self.levels;
        (rest >= 5, (rest % 5) as u8 + 1, level)
    }

    /// Occupancy level of an agent with `used` of `units` in use (`used < units`).
    pub fn level(self, used: u32, units: u32) -> usize {
        if self.levels == 2 {
            (used > 0) as usize
        } else {
            ((used as u64 * 12 / units.max(1) as u64) as usize).min(11)
        }
    }

    /// Buckets with proficiency ≥ `min` and, unless `idle_ok`, only partly busy agents.
    pub fn allowed(self, min: u8, idle_ok: bool) -> u128 {
        let mut mask = 0u128;
        for b in 0..self.count() {
            let (_, p, level) = self.decode(b);
            if p >= min && (idle_ok || level > 0) {
                mask |= 1u128 << b;
            }
        }
        mask
    }
}

/// Key of a waiting contact inside a lane bucket: arrival time, then arrival sequence number.
pub(crate) type LaneKey = (Millis, u64);

/// 10 priority classes × 2 tiers.
pub(crate) const LANE_BUCKETS: usize = 20;

pub(crate) fn lane_bucket(priority: u8, vip: bool) -> usize {
    priority as usize * 2 + vip as usize
}

/// One eligibility ring of a lane: agents with `skill` at ≥ `min_prof` speaking `lang` are
/// eligible for contacts aged `from` ≤ age < `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ring {
    pub skill: u16,
    pub lang: u16,
    pub min_prof: u8,
    pub from: Millis,
    pub until: Millis,
    pub pool: u32,
}

impl Ring {
    pub fn active(&self, age: Millis) -> bool {
        self.from <= age && age < self.until
    }
}

/// A waiting contact's place in a lane bucket, valid while the contact's epoch is unchanged
/// (every transition out of the lane moves the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LaneEntry {
    pub key: LaneKey,
    pub slot: u32,
    pub epoch: u32,
}

/// One priority class × tier of a lane: entries in key order, stale ones dropped lazily.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LaneBucket {
    pub entries: VecDeque<LaneEntry>,
    /// Valid entries (contacts waiting in this bucket).
    pub live: u32,
}

/// Waiting contacts of one (queue, language).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Lane {
    pub queue: u16,
    pub lang: u16,
    pub channel: usize,
    pub target_ms: Millis,
    /// Base ring first, then relaxation steps in order (bullseye: inner rings first).
    pub rings: Vec<Ring>,
    /// Ages at which a ring starts, ascending, without 0.
    pub activations: Vec<Millis>,
    /// Bit b set when bucket b holds entries (some may be stale).
    pub mask: u32,
    pub buckets: [LaneBucket; LANE_BUCKETS],
}

impl Lane {
    pub fn new(
        queue: u16,
        lang: u16,
        channel: usize,
        target_ms: Millis,
        rings: Vec<Ring>,
        activations: Vec<Millis>,
    ) -> Lane {
        Lane {
            queue,
            lang,
            channel,
            target_ms,
            rings,
            activations,
            mask: 0,
            buckets: Default::default(),
        }
    }

    /// Files a contact at its key: at the back for a new arrival (O(1)), in place for one that
    /// keeps an older position (requeue, transfer, escalation).
    pub fn insert(&mut self, bucket: usize, entry: LaneEntry, valid: impl Fn(&LaneEntry) -> bool) {
        let b = &mut self.buckets[bucket];
        if b.entries.len() > 2 * b.live as usize + 16 {
            b.entries.retain(&valid);
        }
        if b.entries.back().is_none_or(|e| e.key <= entry.key) {
            b.entries.push_back(entry);
        } else {
            let at = b.entries.partition_point(|e| e.key < entry.key);
            b.entries.insert(at, entry);
        }
        b.live += 1;
        self.mask |= 1 << bucket;
    }

    /// A contact leaves the bucket (its epoch moves on right after, which makes its entry
    /// stale); popped at once when it is at the front.
    pub fn remove(&mut self, bucket: usize, key: LaneKey) {
        let b = &mut self.buckets[bucket];
        b.live -= 1;
        if b.entries.front().is_some_and(|e| e.key == key) {
            b.entries.pop_front();
        }
        if b.entries.is_empty() {
            self.mask &= !(1 << bucket);
        }
    }

    /// The oldest valid contact of a bucket with an age in [from, until) at `now`; drops stale
    /// entries met at the front.
    pub fn oldest_in(
        &mut self,
        bucket: usize,
        now: Millis,
        from: Millis,
        until: Millis,
        valid: impl Fn(&LaneEntry) -> bool,
    ) -> Option<LaneEntry> {
        let b = &mut self.buckets[bucket];
        while b.entries.front().is_some_and(|e| !valid(e)) {
            b.entries.pop_front();
        }
        if b.entries.is_empty() {
            self.mask &= !(1 << bucket);
            return None;
        }
        if from == 0 && until == Millis::MAX {
            return b.entries.front().copied();
        }
        // age < until  ⇔  arrival > now - until;  age ≥ from  ⇔  arrival ≤ now - from.
        let newest = now.checked_sub(from)?;
        let oldest = now.checked_sub(until).map_or(0, |t| t + 1);
        let start = b.entries.partition_point(|e| e.key.0 < oldest);
        b.entries
            .range(start..)
            .take_while(|e| e.key.0 <= newest)
            .find(|e| valid(e))
            .copied()
    }

    /// The oldest valid contact of a bucket, without touching the bucket.
    pub fn first_valid(
        &self,
        bucket: usize,
        valid: impl Fn(&LaneEntry) -> bool,
    ) -> Option<LaneEntry> {
        self.buckets[bucket]
            .entries
            .iter()
            .find(|e| valid(e))
            .copied()
    }
}

/// What a timer does when due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum TimerKind {
    OfferTimeout,
    Relax,
    Escalate,
    StickyExpiry,
    WrapUpEnd,
}

/// A time-driven transition of a contact, valid while the contact's epoch is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Timer {
    pub due: Millis,
    pub seq: u64,
    pub kind: TimerKind,
    pub slot: u32,
    pub epoch: u32,
}

impl Ord for Timer {
    // Reversed, so the std max-heap pops the earliest (due, seq) first; seq is unique.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Pending timers. Most timers of one kind are set a fixed delay ahead (an offer times out
/// `timeout` after it is made), so each delay gets a FIFO and pushes in time order append in
/// O(1); a timer that would land out of order in its FIFO (a requeued contact's relaxation,
/// measured from its old arrival) goes to a binary heap instead. Pops take the earliest
/// (due, sequence number) across the FIFO fronts and the heap top, so the order is total and
/// independent of which structure holds a timer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Timers {
    fifos: Vec<(Millis, VecDeque<Timer>)>,
    heap: BinaryHeap<Timer>,
    seq: u64,
    /// (due, seq, where) of the earliest timer: `Some(i)` FIFO i, `None` the heap. Kept up to
    /// date so "is anything due?" costs one comparison.
    earliest: Option<(Millis, u64, Option<usize>)>,
}

/// FIFOs beyond this many distinct delays fall back to the heap.
const MAX_FIFOS: usize = 32;

impl Timers {
    pub fn push(&mut self, due: Millis, kind: TimerKind, slot: u32, epoch: u32, delay: Millis) {
        let t = Timer {
            due,
            seq: self.seq,
            kind,
            slot,
            epoch,
        };
        self.seq += 1;
        let fifo = match self.fifos.iter().position(|(d, _)| *d == delay) {
            Some(i) => Some(i),
            None if self.fifos.len() < MAX_FIFOS => {
                self.fifos.push((delay, VecDeque::new()));
                Some(self.fifos.len() - 1)
            }
            None => None,
        };
        let place = match fifo {
            Some(i) if self.fifos[i].1.back().is_none_or(|b| b.due <= due) => {
                self.fifos[i].1.push_back(t);
                Some(i)
            }
            _ => {
                self.heap.push(t);
                None
            }
        };
        if self.earliest.is_none_or(|(d, s, _)| (due, t.seq) < (d, s)) {
            self.earliest = Some((due, t.seq, place));
        }
    }

    fn find_earliest(&mut self) {
        let mut best: Option<(Millis, u64, Option<usize>)> =
            self.heap.peek().map(|t| (t.due, t.seq, None));
        for (i, (_, q)) in self.fifos.iter().enumerate() {
            if let Some(t) = q.front() {
                if best.is_none_or(|(d, s, _)| (t.due, t.seq) < (d, s)) {
                    best = Some((t.due, t.seq, Some(i)));
                }
            }
        }
        self.earliest = best;
    }

    /// Due time of the earliest timer.
    pub fn next_due(&self) -> Option<Millis> {
        self.earliest.map(|e| e.0)
    }

    pub fn peek(&self) -> Option<&Timer> {
        match self.earliest?.2 {
            Some(i) => self.fifos[i].1.front(),
            None => self.heap.peek(),
        }
    }

    pub fn pop(&mut self) -> Option<Timer> {
        let t = match self.earliest?.2 {
            Some(i) => self.fifos[i].1.pop_front(),
            None => self.heap.pop(),
        };
        self.find_earliest();
        t
    }

    /// Drops invalid timers from the front until the earliest one is valid, so `peek` is the
    /// next real deadline.
    pub fn drop_stale_front(&mut self, valid: impl Fn(&Timer) -> bool) {
        while let Some(t) = self.peek() {
            if valid(t) {
                break;
            }
            self.pop();
        }
    }

    pub fn retain(&mut self, valid: impl Fn(&Timer) -> bool) {
        for (_, q) in &mut self.fifos {
            q.retain(&valid);
        }
        self.heap.retain(&valid);
        self.find_earliest();
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.fifos.iter().map(|(_, q)| q.len()).sum::<usize>()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Timer> {
        self.heap
            .iter()
            .chain(self.fifos.iter().flat_map(|(_, q)| q.iter()))
    }
}

/// Live contact ids → slots. Drivers hand out ids in (roughly) increasing order, so the ids
/// alive at any moment sit in a band: a window indexed by `id − base` answers with one memory
/// access instead of a hash probe. Ids far ahead of the band, behind it, or alive so long that
/// the band moved on without them go to a hash map.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ContactIndex {
    base: u64,
    window: VecDeque<u32>,
    in_window: usize,
    others: FxMap<u64, u32>,
}

/// Absent from the window.
const NO_SLOT: u32 = u32::MAX;
/// How far past the window's end an id may land and still extend it.
const MAX_GAP: u64 = 4096;

impl ContactIndex {
    pub fn get(&self, id: u64) -> Option<u32> {
        if let Some(off) = id.checked_sub(self.base) {
            if off < self.window.len() as u64 {
                let slot = self.window[off as usize];
                if slot != NO_SLOT {
                    return Some(slot);
                }
            }
        }
        if self.others.is_empty() {
            None
        } else {
            self.others.get(&id).copied()
        }
    }

    /// Adds a live id (not already present).
    pub fn insert(&mut self, id: u64, slot: u32) {
        if self.in_window == 0 {
            self.window.clear();
            self.base = id;
        }
        match id.checked_sub(self.base) {
            Some(off) if off < self.window.len() as u64 + MAX_GAP => {
                let off = off as usize;
                while self.window.len() <= off {
                    self.window.push_back(NO_SLOT);
                }
                self.window[off] = slot;
                self.in_window += 1;
            }
            _ => {
                self.others.insert(id, slot);
            }
        }
        self.trim();
    }

    pub fn remove(&mut self, id: u64) -> Option<u32> {
        if let Some(off) = id.checked_sub(self.base) {
            if off < self.window.len() as u64 && self.window[off as usize] != NO_SLOT {
                let slot = std::mem::replace(&mut self.window[off as usize], NO_SLOT);
                self.in_window -= 1;
                self.trim();
                return Some(slot);
            }
        }
        self.others.remove(&id)
    }

    /// Drops absent ids at the front; once the window is mostly holes, moves the long-lived
    /// contacts at its front into the map so memory stays proportional to live contacts.
    fn trim(&mut self) {
        loop {
            match self.window.front() {
                Some(&NO_SLOT) => {}
                Some(&slot) if self.window.len() > 2 * self.in_window + 1024 => {
                    self.others.insert(self.base, slot);
                    self.in_window -= 1;
                }
                _ => break,
            }
            self.window.pop_front();
            self.base += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.in_window + self.others.len()
    }
}

/// A set of ids kept as disjoint inclusive ranges, so the sequential ids drivers hand out
/// collapse into a few ranges that stay in cache however many contacts have been seen. The
/// highest range is kept apart: the next sequential id only extends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct IdSet {
    /// Every range but the highest, by start.
    ranges: BTreeMap<u64, u64>,
    /// The highest range.
    tail: Option<(u64, u64)>,
}

impl IdSet {
    pub fn contains(&self, id: u64) -> bool {
        match self.tail {
            None => false,
            Some((start, last)) if id >= start => id <= last,
            Some(_) => self
                .ranges
                .range(..=id)
                .next_back()
                .is_some_and(|(_, &last)| id <= last),
        }
    }

    /// Adds an id; false if it was already there.
    pub fn insert(&mut self, id: u64) -> bool {
        let Some((start, last)) = self.tail else {
            self.tail = Some((id, id));
            return true;
        };
        if id > last {
            if id == last + 1 {
                self.tail = Some((start, id));
            } else {
                self.ranges.insert(start, last);
                self.tail = Some((id, id));
            }
            return true;
        }
        if id >= start || self.contains(id) {
            return false;
        }
        // Below the tail: merge with the ranges (or the tail) around it.
        let prev = self.ranges.range(..id).next_back().map(|(&s, &l)| (s, l));
        let mut new = (id, id);
        if let Some((s, l)) = prev {
            if l + 1 == id {
                self.ranges.remove(&s);
                new.0 = s;
            }
        }
        if id + 1 == start {
            self.tail = Some((new.0, last));
        } else {
            if let Some(l) = self.ranges.remove(&(id + 1)) {
                new.1 = l;
            }
            self.ranges.insert(new.0, new.1);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips_and_masks() {
        for levels in [2, 12] {
            let l = BucketLayout { levels };
            assert!(l.count() <= 128);
            for cross in [false, true] {
                for p in 1..=5 {
                    for level in 0..levels {
                        let b = l.base(cross, p) + level;
                        assert_eq!(l.decode(b), (cross, p, level));
                    }
                }
            }
            let m = l.allowed(3, false);
            for b in 0..l.count() {
                let (_, p, level) = l.decode(b);
                assert_eq!(m >> b & 1 == 1, p >= 3 && level > 0);
            }
        }
        let l = BucketLayout { levels: 12 };
        assert_eq!(l.level(0, 6), 0);
        assert_eq!(l.level(2, 6), 4);
        assert_eq!(l.level(5, 6), 10);
    }

    #[test]
    fn id_sets_merge_neighbours() {
        let mut s = IdSet::default();
        for id in [5, 3, 4, 10, 0, u64::MAX, 2, 1, 11, 9] {
            assert!(s.insert(id), "{id}");
        }
        assert!(!s.insert(4));
        assert!(!s.insert(u64::MAX));
        // [0, 5], [9, 11] and the tail [MAX, MAX].
        assert_eq!(s.ranges.len(), 2, "{:?} {:?}", s.ranges, s.tail);
        for id in [0, 1, 5, 9, 10, 11, u64::MAX] {
            assert!(s.contains(id));
        }
        for id in [6, 8, 12, u64::MAX - 1] {
            assert!(!s.contains(id));
        }
        // Filling a gap just below the tail joins it.
        let mut s = IdSet::default();
        for id in [1, 2, 3, 0] {
            assert!(s.insert(id));
        }
        assert_eq!((s.ranges.len(), s.tail), (0, Some((0, 3))));
        // Against a brute-force set.
        let mut rng = 12345u64;
        let mut s = IdSet::default();
        let mut b = std::collections::BTreeSet::new();
        for _ in 0..5000 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = (rng >> 33) % 300;
            assert_eq!(s.insert(id), b.insert(id), "{id}");
            let probe = (rng >> 13) % 300;
            assert_eq!(s.contains(probe), b.contains(&probe), "{probe}");
        }
    }

    #[test]
    fn contact_index_matches_a_map() {
        let mut ix = ContactIndex::default();
        let mut map = std::collections::BTreeMap::new();
        let mut rng = 99u64;
        let mut next = 1_000u64;
        for step in 0..200_000u64 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = rng >> 33;
            if !r.is_multiple_of(3) || map.is_empty() {
                // Mostly sequential ids, now and then far ahead or behind.
                let id = match r % 97 {
                    0 => next + 1_000_000,
                    1 => r % 500,
                    _ => {
                        next += 1;
                        next
                    }
                };
                if let std::collections::btree_map::Entry::Vacant(e) = map.entry(id) {
                    e.insert(step as u32);
                    ix.insert(id, step as u32);
                }
            } else {
                // Remove an old one more often than a new one, but keep some alive long.
                let keys: Vec<u64> = map.keys().copied().take(8).collect();
                let id = keys[(r as usize / 3) % keys.len()];
                if !r.is_multiple_of(50) {
                    assert_eq!(ix.remove(id), map.remove(&id));
                }
            }
            let probe = next.saturating_sub(r % 3_000);
            assert_eq!(ix.get(probe), map.get(&probe).copied(), "{probe}");
            assert_eq!(ix.len(), map.len());
        }
        assert!(ix.window.len() <= 2 * ix.in_window + 1024 + MAX_GAP as usize);
    }

    #[test]
    fn timers_pop_in_due_order_across_fifos_and_heap() {
        let mut t = Timers::default();
        // Delay 10: in order; then an out-of-order one that must go to the heap.
        t.push(10, TimerKind::Relax, 0, 0, 10);
        t.push(15, TimerKind::Relax, 1, 0, 10);
        t.push(12, TimerKind::Relax, 2, 0, 10);
        t.push(12, TimerKind::OfferTimeout, 3, 0, 5);
        t.push(11, TimerKind::OfferTimeout, 4, 0, 5);
        assert_eq!(t.len(), 5);
        let order: Vec<u32> = std::iter::from_fn(|| t.pop()).map(|x| x.slot).collect();
        assert_eq!(order, vec![0, 4, 2, 3, 1]);
    }

    #[test]
    fn lane_window_queries_respect_ages() {
        let mut lane = Lane::new(0, 0, 0, 1000, Vec::new(), Vec::new());
        let all = |_: &LaneEntry| true;
        for (i, arrival) in [100u64, 200, 300, 400].iter().enumerate() {
            let entry = LaneEntry {
                key: (*arrival, i as u64),
                slot: i as u32,
                epoch: 0,
            };
            lane.insert(0, entry, all);
        }
        let slot = |e: Option<LaneEntry>| e.map(|e| e.slot);
        // now 500: ages 400, 300, 200, 100.
        assert_eq!(slot(lane.oldest_in(0, 500, 0, Millis::MAX, all)), Some(0));
        assert_eq!(slot(lane.oldest_in(0, 500, 0, 350, all)), Some(1));
        assert_eq!(slot(lane.oldest_in(0, 500, 250, Millis::MAX, all)), Some(0));
        assert_eq!(slot(lane.oldest_in(0, 500, 150, 250, all)), Some(2));
        assert_eq!(slot(lane.oldest_in(0, 500, 450, Millis::MAX, all)), None);
        assert_eq!(slot(lane.oldest_in(0, 50, 100, Millis::MAX, all)), None);
        // An older key goes in place; stale entries are skipped and dropped at the front.
        let early = LaneEntry {
            key: (50, 9),
            slot: 9,
            epoch: 0,
        };
        lane.insert(0, early, all);
        assert_eq!(slot(lane.oldest_in(0, 500, 0, Millis::MAX, all)), Some(9));
        let not_9_or_0 = |e: &LaneEntry| e.slot != 9 && e.slot != 0;
        assert_eq!(
            slot(lane.oldest_in(0, 500, 0, Millis::MAX, not_9_or_0)),
            Some(1)
        );
        assert_eq!(lane.buckets[0].entries.len(), 3);
        lane.remove(0, (200, 1));
        assert_eq!(lane.buckets[0].entries.len(), 2);
        assert_eq!(lane.mask, 1);
    }
}
