//! The embedded in-memory feature cache.

use std::hash::{BuildHasher, RandomState};
use std::mem::size_of;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use jiff::Timestamp;
use lru::LruCache;

use crate::Result;
use crate::cache::stats::Counters;
use crate::cache::{
    CacheStats, EntityKey, FeatureCache, FeatureValue, Freshness, Lookup, Scope, now_us, to_us,
};

/// Bounds and freshness of a [`MemoryCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryConfig {
    /// At most this many values (default 100,000).
    pub max_entries: usize,
    /// At most this many bytes, estimated per entry as key and feature bytes plus a fixed
    /// overhead (default 256 MiB).
    pub max_bytes: usize,
    /// Lock shards (default 16); each holds an equal share of both bounds and is evicted in
    /// least-recently-used order. Fewer are used when a shard would get under 64 entries or
    /// 64 KiB, so small caches are exact LRU.
    pub shards: usize,
    /// The freshness rule.
    pub freshness: Freshness,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_bytes: 256 << 20,
            shards: 16,
            freshness: Freshness::default(),
        }
    }
}

/// Per-entry bytes besides the key strings and the features: the LRU node, hash-table slot
/// and `Arc` header, rounded up.
const ENTRY_OVERHEAD: usize = 96;

/// The embedded feature cache: sharded LRU maps under mutexes, bounded by entries and bytes,
/// with the freshness rule applied at every read. Cloning is cheap and shares the cache.
///
/// A hit is a hash, an uncontended lock and an `Arc` clone (well under a microsecond); the
/// [`FeatureCache`] futures complete on their first poll. [`MemoryCache::lookup`] and
/// [`MemoryCache::store`] are the same operations for synchronous callers.
#[derive(Debug, Clone)]
pub struct MemoryCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    entries_per_shard: usize,
    bytes_per_shard: usize,
    freshness: Freshness,
    counters: Counters,
}

#[derive(Debug)]
struct Shard {
    map: LruCache<EntityKey, Entry>,
    bytes: usize,
}

#[derive(Debug)]
struct Entry {
    value: Arc<FeatureValue>,
    bytes: usize,
}

impl MemoryCache {
    /// An empty cache.
    pub fn new(config: MemoryConfig) -> Self {
        let max_entries = config.max_entries.max(1);
        let shards = config.shards.clamp(1, (max_entries / 64).min(config.max_bytes >> 16).max(1));
        let inner = Inner {
            shards: (0..shards)
                .map(|_| Mutex::new(Shard { map: LruCache::unbounded(), bytes: 0 }))
                .collect(),
            hasher: RandomState::new(),
            entries_per_shard: max_entries / shards,
            bytes_per_shard: config.max_bytes / shards,
            freshness: config.freshness,
            counters: Counters::default(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// [`FeatureCache::get`], synchronously.
    pub fn lookup(&self, key: &EntityKey, newest_event: Timestamp) -> Lookup {
        let start = Instant::now();
        let lookup = self.lookup_one(key, to_us(newest_event), now_us());
        self.inner.counters.read_latency.record_since(start);
        lookup
    }

    /// [`FeatureCache::put`], synchronously.
    pub fn store(&self, key: &EntityKey, value: Arc<FeatureValue>) -> bool {
        let start = Instant::now();
        let stored = self.store_one(key, value, now_us());
        self.inner.counters.write_latency.record_since(start);
        stored
    }

    /// How many values are held (including expired ones not yet read or evicted).
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    /// True when no value is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The estimated bytes held.
    pub fn bytes(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).bytes).sum()
    }

    fn shard(&self, key: &EntityKey) -> MutexGuard<'_, Shard> {
        let n = self.inner.shards.len();
        let index = if n == 1 { 0 } else { (self.inner.hasher.hash_one(key) % n as u64) as usize };
        lock(&self.inner.shards[index])
    }

    fn lookup_one(&self, key: &EntityKey, newest_event: i64, now: i64) -> Lookup {
        let lookup = {
            let mut shard = self.shard(key);
            let found = shard.map.get(key).map(|e| Arc::clone(&e.value));
            match found {
                None => Lookup::Miss,
                Some(value) => match self.inner.freshness.classify(value, newest_event, now) {
                    Lookup::Miss => {
                        if let Some(entry) = shard.map.pop(key) {
                            shard.bytes -= entry.bytes;
                        }
                        Lookup::Miss
                    }
                    other => other,
                },
            }
        };
        self.inner.counters.lookup(&lookup);
        lookup
    }

    fn store_one(&self, key: &EntityKey, value: Arc<FeatureValue>, now: i64) -> bool {
        if now >= self.inner.freshness.gone_at_us(value.computed_at_us()) {
            return false;
        }
        let bytes = ENTRY_OVERHEAD
            + size_of::<EntityKey>()
            + key.heap_bytes()
            + size_of::<FeatureValue>()
            + size_of::<f32>() * value.width();
        let counters = &self.inner.counters;
        if bytes > self.inner.bytes_per_shard {
            counters.dropped_writes.fetch_add(1, Relaxed);
            return false;
        }
        let mut shard = self.shard(key);
        if let Some(old) = shard.map.push(key.clone(), Entry { value, bytes }) {
            // `push` on an unbounded map only returns the entry it replaced.
            shard.bytes -= old.1.bytes;
        }
        shard.bytes += bytes;
        let mut evicted = 0;
        while shard.map.len() > self.inner.entries_per_shard
            || shard.bytes > self.inner.bytes_per_shard
        {
            let Some((_, entry)) = shard.map.pop_lru() else { break };
            shard.bytes -= entry.bytes;
            evicted += 1;
        }
        drop(shard);
        Counters::add(&counters.evictions, evicted);
        counters.writes.fetch_add(1, Relaxed);
        true
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic while holding the lock cannot leave a shard inconsistent in a way that matters
    // more than losing the cache, so a poisoned lock is used as is.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FeatureCache for MemoryCache {
    async fn get(&self, key: &EntityKey, newest_event: Timestamp) -> Lookup {
        self.lookup(key, newest_event)
    }

    async fn get_many(&self, requests: &[(&EntityKey, Timestamp)]) -> Vec<Lookup> {
        let start = Instant::now();
        let now = now_us();
        let lookups = requests
            .iter()
            .map(|(key, newest)| self.lookup_one(key, to_us(*newest), now))
            .collect();
        self.inner.counters.read_latency.record_since(start);
        lookups
    }

    async fn put(&self, key: &EntityKey, value: Arc<FeatureValue>) -> bool {
        self.store(key, value)
    }

    async fn put_many(&self, entries: &[(&EntityKey, Arc<FeatureValue>)]) -> usize {
        let start = Instant::now();
        let now = now_us();
        let stored = entries
            .iter()
            .filter(|(key, value)| self.store_one(key, Arc::clone(value), now))
            .count();
        self.inner.counters.write_latency.record_since(start);
        stored
    }

    async fn invalidate(&self, key: &EntityKey) -> Result<bool> {
        let mut shard = self.shard(key);
        Ok(match shard.map.pop(key) {
            Some(entry) => {
                shard.bytes -= entry.bytes;
                true
            }
            None => false,
        })
    }

    async fn invalidate_all(&self, scope: &Scope) -> Result<u64> {
        scope.check()?;
        let mut removed = 0;
        for shard in &self.inner.shards {
            let mut shard = lock(shard);
            let mut freed = 0;
            shard.map.retain(|key, entry| {
                let hit = scope.matches(key);
                if hit {
                    freed += entry.bytes;
                    removed += 1;
                }
                !hit
            });
            shard.bytes -= freed;
        }
        Ok(removed)
    }

    fn stats(&self) -> CacheStats {
        self.inner.counters.snapshot()
    }

    fn freshness(&self) -> Freshness {
        self.inner.freshness
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key(i: usize) -> EntityKey {
        EntityKey::new("v1", "ip", format!("10.0.0.{i}")).unwrap()
    }

    fn value(width: usize) -> Arc<FeatureValue> {
        Arc::new(FeatureValue::new(Timestamp::UNIX_EPOCH, vec![0.5; width]))
    }

    #[test]
    fn entry_bound_evicts_least_recently_used() {
        let cache = MemoryCache::new(MemoryConfig { max_entries: 3, ..MemoryConfig::default() });
        for i in 0..3 {
            assert!(cache.store(&key(i), value(4)));
        }
        assert!(cache.lookup(&key(0), Timestamp::UNIX_EPOCH).is_hit());
        assert!(cache.store(&key(3), value(4)));
        assert_eq!(cache.len(), 3);
        assert!(cache.lookup(&key(1), Timestamp::UNIX_EPOCH).is_miss(), "1 was least recent");
        for i in [0, 2, 3] {
            assert!(cache.lookup(&key(i), Timestamp::UNIX_EPOCH).is_hit(), "{i}");
        }
        assert_eq!(cache.stats().evictions, 1);
    }

    #[test]
    fn byte_bound_holds_and_oversized_values_are_dropped() {
        let per_entry = {
            let probe = MemoryCache::new(MemoryConfig::default());
            probe.store(&key(0), value(100));
            probe.bytes()
        };
        let max_bytes = per_entry * 5 + per_entry / 2;
        let cache = MemoryCache::new(MemoryConfig { max_bytes, ..MemoryConfig::default() });
        for i in 0..50 {
            assert!(cache.store(&key(i), value(100)));
            assert!(cache.bytes() <= max_bytes);
        }
        // Sharding splits the budget, so each shard holds what fits its share.
        assert!(cache.len() <= 5);
        assert!(!cache.store(&key(99), value(100_000)), "larger than a shard");
        assert_eq!(cache.stats().dropped_writes, 1);
    }

    #[test]
    fn replacing_and_invalidating_keep_the_byte_count_exact() {
        let cache = MemoryCache::new(MemoryConfig::default());
        cache.store(&key(1), value(10));
        let one = cache.bytes();
        cache.store(&key(1), value(10));
        assert_eq!(cache.bytes(), one);
        cache.store(&key(2), value(10));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert!(rt.block_on(cache.invalidate(&key(1))).unwrap());
        assert_eq!(cache.bytes(), one);
        assert_eq!(rt.block_on(cache.invalidate_all(&Scope::All)).unwrap(), 1);
        assert_eq!(cache.bytes(), 0);
        assert!(cache.is_empty());
    }

    #[test]
    fn values_past_retention_are_dropped_at_read() {
        let freshness =
            Freshness { ttl: Duration::from_millis(1), grace: Duration::from_millis(1) };
        let cache = MemoryCache::new(MemoryConfig { freshness, ..MemoryConfig::default() });
        cache.store(&key(1), value(3));
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.lookup(&key(1), Timestamp::UNIX_EPOCH).is_miss());
        assert!(cache.is_empty());
    }
}
