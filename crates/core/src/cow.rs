//! Copy-on-write tables for state that is cloned while it is live: the routing daemon copies
//! its engine for every snapshot, on the thread that routes contacts, so the copy must not
//! cost time in proportion to every contact ever seen.
//!
//! Both tables keep their entries in many small parts behind [`Arc`]s:
//!
//! - a **clone** copies only the list of parts (a few thousand reference counts), never the
//!   entries;
//! - a **write** to a part that a clone still shares copies that one part first
//!   ([`Arc::make_mut`]), so the cost of a snapshot is spread over the writes that follow it,
//!   one small part at a time, instead of paid in one pause;
//! - **growth** never moves or rehashes more than one part: a [`ChunkedVec`] adds a chunk, a
//!   [`ShardedMap`] grows one shard. A plain `Vec` or `HashMap` of a million entries stops for
//!   tens of milliseconds when it doubles (measured on the daemon: 60–100 ms pauses at 114k and
//!   229k contacts, see the README's load figures).
//!
//! Reads cost one more indirection than a plain `Vec` or `HashMap`.

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use hashbrown::HashTable;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Entries per chunk of a [`ChunkedVec`].
const CHUNK: usize = 1024;

/// A vector in fixed-size chunks, each shared copy-on-write.
#[derive(Clone)]
pub struct ChunkedVec<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> ChunkedVec<T> {
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    /// The entry at `i`, after copying its chunk if a clone shares it.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        Arc::make_mut(&mut self.chunks[i / CHUNK]).get_mut(i % CHUNK)
    }

    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
        }
        if let Some(last) = self.chunks.last_mut() {
            Arc::make_mut(last).push(value);
            self.len += 1;
        }
    }

    pub fn pop(&mut self) -> Option<T> {
        let last = self.chunks.last_mut()?;
        let value = Arc::make_mut(last).pop();
        if last.is_empty() {
            self.chunks.pop();
        }
        if value.is_some() {
            self.len -= 1;
        }
        value
    }

    pub fn truncate(&mut self, len: usize) {
        while self.len > len {
            self.pop();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl<T: Clone> std::ops::Index<usize> for ChunkedVec<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        match self.get(i) {
            Some(v) => v,
            None => panic!("index {i} out of range for a table of {}", self.len),
        }
    }
}

impl<T: Clone> std::ops::IndexMut<usize> for ChunkedVec<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        let len = self.len;
        match self.get_mut(i) {
            Some(v) => v,
            None => panic!("index {i} out of range for a table of {len}"),
        }
    }
}

impl<T: Clone> FromIterator<T> for ChunkedVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = ChunkedVec::new();
        for x in iter {
            v.push(x);
        }
        v
    }
}

/// Hashes like a slice of the same entries.
impl<T: Hash + Clone> Hash for ChunkedVec<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len);
        for x in self.iter() {
            x.hash(state);
        }
    }
}

impl<T: PartialEq + Clone> PartialEq for ChunkedVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// A first-in first-out queue in fixed-size chunks, each shared copy-on-write: pushing
/// writes only the last chunk and popping only moves a counter, so a clone stays shared
/// except for the chunk at the back.
#[derive(Clone)]
pub struct ChunkedQueue<T> {
    chunks: std::collections::VecDeque<Arc<Vec<T>>>,
    /// Entries of the front chunk already popped.
    head: usize,
    len: usize,
}

impl<T> Default for ChunkedQueue<T> {
    fn default() -> Self {
        ChunkedQueue {
            chunks: std::collections::VecDeque::new(),
            head: 0,
            len: 0,
        }
    }
}

impl<T: Clone> ChunkedQueue<T> {
    pub fn push_back(&mut self, value: T) {
        if self.chunks.back().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push_back(Arc::new(Vec::with_capacity(CHUNK)));
        }
        if let Some(last) = self.chunks.back_mut() {
            Arc::make_mut(last).push(value);
            self.len += 1;
        }
    }

    pub fn front(&self) -> Option<&T> {
        self.chunks.front().and_then(|c| c.get(self.head))
    }

    /// Removes the front entry (a copy of it is returned; the chunk itself is never written).
    pub fn pop_front(&mut self) -> Option<T> {
        let value = self.front()?.clone();
        self.head += 1;
        self.len -= 1;
        if self.chunks.front().is_some_and(|c| self.head == c.len()) {
            // A used-up chunk goes; the last one too, so the next push starts afresh.
            self.chunks.pop_front();
            self.head = 0;
        }
        Some(value)
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks
            .iter()
            .enumerate()
            .flat_map(move |(i, c)| c[if i == 0 { self.head } else { 0 }..].iter())
    }
}

impl<T: Clone> FromIterator<T> for ChunkedQueue<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut q = ChunkedQueue::new();
        for x in iter {
            q.push_back(x);
        }
        q
    }
}

/// `new`, `len`, `is_empty`, Debug output and an encoding exactly like a `Vec` (or a
/// `VecDeque`) of the same entries, for a sequence type with `iter`, a `len` field and
/// `FromIterator`.
macro_rules! like_a_vec {
    ($ty:ident) => {
        impl<T: Clone> $ty<T> {
            pub fn new() -> Self {
                Self::default()
            }

            pub fn len(&self) -> usize {
                self.len
            }

            pub fn is_empty(&self) -> bool {
                self.len == 0
            }
        }

        impl<T: std::fmt::Debug + Clone> std::fmt::Debug for $ty<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        impl<T: Serialize + Clone> Serialize for $ty<T> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                // With the length up front: bincode needs it.
                let mut seq = serializer.serialize_seq(Some(self.len))?;
                for x in self.iter() {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
        }

        impl<'de, T: Deserialize<'de> + Clone> Deserialize<'de> for $ty<T> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(Vec::<T>::deserialize(deserializer)?.into_iter().collect())
            }
        }
    };
}

like_a_vec!(ChunkedVec);
like_a_vec!(ChunkedQueue);

/// Shards per [`ShardedMap`]: enough that the writes of one batch after a snapshot copy a
/// small share of the map (a batch of 50 creates about 5%), few enough that the shards'
/// headers (8 KiB) stay in cache.
const SHARDS: usize = 1024;
/// The shard is taken from hash bits 32–41, which hashbrown uses for neither the bucket
/// (low bits, tables here stay far below 2^32 buckets) nor the tag (top 7 bits).
const SHARD_SHIFT: u32 = 32;

/// A hash map in shards, each shared copy-on-write; keys hashed once per operation.
#[derive(Clone)]
pub struct ShardedMap<K, V, S = RandomState> {
    shards: Vec<Arc<HashTable<(K, V)>>>,
    hasher: S,
    len: usize,
}

impl<K, V, S: Default> Default for ShardedMap<K, V, S> {
    fn default() -> Self {
        ShardedMap {
            shards: (0..SHARDS).map(|_| Arc::new(HashTable::new())).collect(),
            hasher: S::default(),
            len: 0,
        }
    }
}

fn shard_of(hash: u64) -> usize {
    (hash >> SHARD_SHIFT) as usize % SHARDS
}

impl<K: Hash + Eq + Clone, V: Clone, S: BuildHasher + Default> ShardedMap<K, V, S> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        self.shards[shard_of(hash)]
            .find(hash, |(k, _)| k.borrow() == key)
            .map(|(_, v)| v)
    }

    /// Inserts or replaces; answers the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let hash = self.hasher.hash_one(&key);
        let hasher = &self.hasher;
        let shard = Arc::make_mut(&mut self.shards[shard_of(hash)]);
        if let Some((_, v)) = shard.find_mut(hash, |(k, _)| *k == key) {
            return Some(std::mem::replace(v, value));
        }
        shard.insert_unique(hash, (key, value), |(k, _)| hasher.hash_one(k));
        self.len += 1;
        None
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let shard = &mut self.shards[shard_of(hash)];
        // Reading first keeps a miss from copying a shared shard.
        shard.find(hash, |(k, _)| k.borrow() == key)?;
        let entry = Arc::make_mut(shard)
            .find_entry(hash, |(k, _)| k.borrow() == key)
            .ok()?;
        let ((_, v), _) = entry.remove();
        self.len -= 1;
        Some(v)
    }

    pub fn clear(&mut self) {
        for shard in &mut self.shards {
            if !shard.is_empty() {
                *shard = Arc::new(HashTable::new());
            }
        }
        self.len = 0;
    }

    /// Entries in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.shards
            .iter()
            .flat_map(|s| s.iter().map(|(k, v)| (k, v)))
    }

    /// Keeps the entries `keep` answers true for (`keep` must be a pure test: shards are
    /// checked before they are copied, so it may see an entry twice).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        for shard in &mut self.shards {
            if shard.iter().all(|(k, v)| keep(k, v)) {
                continue;
            }
            let table = Arc::make_mut(shard);
            let before = table.len();
            table.retain(|(k, v)| keep(k, v));
            self.len -= before - table.len();
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone, S: BuildHasher + Default> FromIterator<(K, V)>
    for ShardedMap<K, V, S>
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = ShardedMap::default();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug, S> std::fmt::Debug for ShardedMap<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.shards
                    .iter()
                    .flat_map(|s| s.iter().map(|(k, v)| (k, v))),
            )
            .finish()
    }
}

/// Encoded exactly as a map of the same entries (in no particular order, like a `HashMap`).
impl<K: Serialize + Hash + Eq + Clone, V: Serialize + Clone, S: BuildHasher + Default> Serialize
    for ShardedMap<K, V, S>
{
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeMap;
        // With the length up front: bincode needs it.
        let mut map = serializer.serialize_map(Some(self.len))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, K, V, S> Deserialize<'de> for ShardedMap<K, V, S>
where
    K: Deserialize<'de> + Hash + Eq + Clone,
    V: Deserialize<'de> + Clone,
    S: BuildHasher + Default,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

struct MapVisitor<K, V, S>(std::marker::PhantomData<(K, V, S)>);

impl<'de, K, V, S> serde::de::Visitor<'de> for MapVisitor<K, V, S>
where
    K: Deserialize<'de> + Hash + Eq + Clone,
    V: Deserialize<'de> + Clone,
    S: BuildHasher + Default,
{
    type Value = ShardedMap<K, V, S>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut m = ShardedMap::default();
        while let Some((k, v)) = map.next_entry()? {
            m.insert(k, v);
        }
        Ok(m)
    }
}

/// A key's hash in a [`ShardedIndex`], taken once for a lookup and the insert after it.
#[derive(Debug, Clone, Copy)]
pub struct KeyHash(u64);

/// Keys to their positions in a table that holds the keys (contact, customer and agent ids in
/// the daemon's tables): a [`ShardedMap`] that stores only each key's hash and position, so
/// its entries are plain numbers. Copying a shard after a snapshot is then a copy of memory;
/// with the keys in the entries it would touch every key's reference count, a cache miss per
/// entry (measured: 100–200 ms of stalls per snapshot with a million contacts on record).
/// Lookups compare hashes first and ask `key_of` for the stored key only when they match.
#[derive(Clone)]
pub struct ShardedIndex<S = RandomState> {
    shards: Vec<Arc<HashTable<(u64, u32)>>>,
    hasher: S,
    len: usize,
}

impl<S: Default> Default for ShardedIndex<S> {
    fn default() -> Self {
        ShardedIndex {
            shards: (0..SHARDS).map(|_| Arc::new(HashTable::new())).collect(),
            hasher: S::default(),
            len: 0,
        }
    }
}

impl<S: BuildHasher + Default> ShardedIndex<S> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hash of `key`, for a lookup followed by an insert of the same key.
    pub fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> KeyHash {
        KeyHash(self.hasher.hash_one(key))
    }

    /// The position of `key`; `key_of` gives the key stored at a position.
    pub fn get<'k, Q>(&self, key: &Q, key_of: impl Fn(u32) -> &'k Q) -> Option<u32>
    where
        Q: Hash + Eq + ?Sized + 'k,
    {
        self.find(self.hash(key), key, key_of)
    }

    /// [`ShardedIndex::get`] with the key's hash already known.
    pub fn find<'k, Q>(&self, hash: KeyHash, key: &Q, key_of: impl Fn(u32) -> &'k Q) -> Option<u32>
    where
        Q: Eq + ?Sized + 'k,
    {
        let hash = hash.0;
        self.shards[shard_of(hash)]
            .find(hash, |&(h, ix)| h == hash && key_of(ix) == key)
            .map(|&(_, ix)| ix)
    }

    /// Records that the key of `hash`, not yet present, is at `ix`.
    pub fn insert(&mut self, hash: KeyHash, ix: u32) {
        let hash = hash.0;
        Arc::make_mut(&mut self.shards[shard_of(hash)]).insert_unique(hash, (hash, ix), |e| e.0);
        self.len += 1;
    }

    /// Forgets `key`; answers its position if it was present.
    pub fn remove<'k, Q>(&mut self, key: &Q, key_of: impl Fn(u32) -> &'k Q) -> Option<u32>
    where
        Q: Hash + Eq + ?Sized + 'k,
    {
        let hash = self.hasher.hash_one(key);
        let shard = &mut self.shards[shard_of(hash)];
        let is_key = |&(h, ix): &(u64, u32)| h == hash && key_of(ix) == key;
        // Reading first keeps a miss from copying a shared shard.
        shard.find(hash, is_key)?;
        let entry = Arc::make_mut(shard).find_entry(hash, is_key).ok()?;
        let ((_, ix), _) = entry.remove();
        self.len -= 1;
        Some(ix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_vec_is_a_vec() {
        let mut v: ChunkedVec<u32> = (0..3000).collect();
        assert_eq!(v.len(), 3000);
        assert_eq!(v[2500], 2500);
        assert_eq!(v.get(3000), None);
        *v.get_mut(1500).unwrap() = 7;
        assert_eq!(v.pop(), Some(2999));
        v.truncate(2048);
        assert_eq!(v.len(), 2048);
        assert_eq!(v.iter().copied().max(), Some(2047));
        let plain: Vec<u32> = v.iter().copied().collect();
        assert_eq!(
            bincode::serialize(&v).unwrap(),
            bincode::serialize(&plain).unwrap()
        );
        let back: ChunkedVec<u32> = bincode::deserialize(&bincode::serialize(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn a_clone_shares_chunks_until_a_write_copies_one() {
        let mut v: ChunkedVec<u64> = (0..10 * CHUNK as u64).collect();
        let snapshot = v.clone();
        assert!(v
            .chunks
            .iter()
            .zip(&snapshot.chunks)
            .all(|(a, b)| Arc::ptr_eq(a, b)));
        *v.get_mut(5).unwrap() = 99;
        v.push(1);
        // Only the chunk written to was copied; the clone still sees the old value.
        let shared = v
            .chunks
            .iter()
            .zip(&snapshot.chunks)
            .filter(|(a, b)| Arc::ptr_eq(a, b));
        assert_eq!(shared.count(), 9);
        assert_eq!((v[5], snapshot[5]), (99, 5));
        assert_eq!(snapshot.len(), 10 * CHUNK);
    }

    #[test]
    fn a_chunked_queue_is_a_fifo_and_its_clone_keeps_its_entries() {
        let mut q: ChunkedQueue<u32> = ChunkedQueue::new();
        let mut model = std::collections::VecDeque::new();
        for i in 0..5000u32 {
            q.push_back(i);
            model.push_back(i);
            if i % 3 == 0 {
                assert_eq!(q.pop_front(), model.pop_front());
            }
        }
        let snapshot = q.clone();
        while let Some(x) = model.pop_front() {
            assert_eq!(q.front(), Some(&x));
            assert_eq!(q.pop_front(), Some(x));
        }
        assert!(q.is_empty() && q.pop_front().is_none());
        q.push_back(9);
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), vec![9]);
        assert_eq!(snapshot.len(), 5000 - 1667);
        assert_eq!(snapshot.iter().count(), snapshot.len());
        let plain: std::collections::VecDeque<u32> = snapshot.iter().copied().collect();
        let bytes = bincode::serialize(&snapshot).unwrap();
        assert_eq!(bytes, bincode::serialize(&plain).unwrap());
        let back: ChunkedQueue<u32> = bincode::deserialize(&bytes).unwrap();
        assert!(back.iter().eq(plain.iter()));
    }

    #[test]
    fn a_sharded_index_finds_positions_by_key_and_shares_shards_with_its_clone() {
        let keys: Vec<String> = (0..50_000).map(|i| format!("c{i}")).collect();
        let mut ix: ShardedIndex = ShardedIndex::default();
        for (i, k) in keys.iter().enumerate() {
            ix.insert(ix.hash(k.as_str()), i as u32);
        }
        let key_of = |i: u32| keys[i as usize].as_str();
        assert_eq!(ix.len(), 50_000);
        assert_eq!(ix.get("c4711", key_of), Some(4711));
        assert_eq!(ix.get("c50000", key_of), None);
        let snapshot = ix.clone();
        assert_eq!(ix.remove("c50000", key_of), None);
        assert!(ix
            .shards
            .iter()
            .zip(&snapshot.shards)
            .all(|(a, b)| Arc::ptr_eq(a, b)));
        assert_eq!(ix.remove("c4711", key_of), Some(4711));
        assert_eq!(ix.get("c4711", key_of), None);
        assert_eq!(snapshot.get("c4711", key_of), Some(4711));
        assert_eq!((ix.len(), snapshot.len()), (49_999, 50_000));
    }

    #[test]
    fn a_sharded_map_is_a_map() {
        let mut m: ShardedMap<Arc<str>, u32> = ShardedMap::default();
        for i in 0..20_000u32 {
            assert_eq!(m.insert(format!("c{i}").into(), i), None);
        }
        assert_eq!(m.insert("c7".into(), 70), Some(7));
        assert_eq!(m.len(), 20_000);
        assert_eq!(m.get("c7"), Some(&70));
        assert_eq!(m.get("c20000"), None);
        assert_eq!(m.remove("c9"), Some(9));
        assert_eq!(m.remove("c9"), None);
        assert_eq!(m.len(), 19_999);
        m.retain(|_, v| v % 2 == 0);
        assert_eq!(m.len(), m.iter().count());
        assert!(m.iter().all(|(_, v)| v % 2 == 0));
        let std_map: std::collections::HashMap<Arc<str>, u32> =
            m.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let back: ShardedMap<Arc<str>, u32> =
            bincode::deserialize(&bincode::serialize(&std_map).unwrap()).unwrap();
        assert_eq!(back.len(), m.len());
        assert!(m.iter().all(|(k, v)| back.get(k) == Some(v)));
        let again: std::collections::HashMap<Arc<str>, u32> =
            bincode::deserialize(&bincode::serialize(&back).unwrap()).unwrap();
        assert_eq!(again, std_map);
        m.clear();
        assert!(m.is_empty() && m.get("c2").is_none());
    }

    #[test]
    fn a_clone_of_a_map_shares_shards_until_written() {
        let mut m: ShardedMap<u64, u64> = (0..100_000).map(|i| (i, i)).collect();
        let snapshot = m.clone();
        for i in 0..50 {
            m.insert(1_000_000 + i, 0);
        }
        let copied = m
            .shards
            .iter()
            .zip(&snapshot.shards)
            .filter(|(a, b)| !Arc::ptr_eq(a, b))
            .count();
        // 50 writes copy at most 50 of the shards.
        assert!(copied <= 50, "{copied} shards copied");
        assert_eq!((m.len(), snapshot.len()), (100_050, 100_000));
        assert_eq!(snapshot.get(&1_000_001), None);
        // A miss does not copy a shared shard.
        let before = m.clone();
        assert!(m.remove(&5_000_000).is_none());
        assert!(m
            .shards
            .iter()
            .zip(&before.shards)
            .all(|(a, b)| Arc::ptr_eq(a, b)));
    }
}
