//! Cache counters and a lock-free latency histogram.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::cache::Lookup;

/// A snapshot of a cache's counters.
///
/// `hits + misses + stale` counts lookups (one per key, also in batches). A read that failed
/// (backend down or slow) counts as a miss and an error; an undecodable value as a miss and
/// corrupt. Latencies are per call (a batch is one sample).
#[derive(Debug, Clone, PartialEq)]
pub struct CacheStats {
    /// Fresh values returned.
    pub hits: u64,
    /// Lookups that found no usable value.
    pub misses: u64,
    /// Values returned as stale.
    pub stale: u64,
    /// Backend failures and timeouts (reads and writes).
    pub errors: u64,
    /// Stored values that failed to decode (also counted as misses).
    pub corrupt: u64,
    /// Values stored.
    pub writes: u64,
    /// Values not stored because the backend was down, slow, or the value too large.
    pub dropped_writes: u64,
    /// Values evicted to respect a bound (memory cache only).
    pub evictions: u64,
    /// Latency of `get` and `get_many` calls.
    pub read_latency: LatencyHistogram,
    /// Latency of `put` and `put_many` calls.
    pub write_latency: LatencyHistogram,
}

impl CacheStats {
    /// `hits + misses + stale`.
    pub fn lookups(&self) -> u64 {
        self.hits + self.misses + self.stale
    }

    /// `hits / lookups`, 0 when there were none.
    pub fn hit_rate(&self) -> f64 {
        match self.lookups() {
            0 => 0.0,
            n => self.hits as f64 / n as f64,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    stale: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) corrupt: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) dropped_writes: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) read_latency: AtomicHistogram,
    pub(crate) write_latency: AtomicHistogram,
}

impl Counters {
    pub(crate) fn lookup(&self, lookup: &Lookup) {
        let counter = match lookup {
            Lookup::Hit(_) => &self.hits,
            Lookup::Stale { .. } => &self.stale,
            Lookup::Miss => &self.misses,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        if n > 0 {
            counter.fetch_add(n as u64, Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            stale: self.stale.load(Relaxed),
            errors: self.errors.load(Relaxed),
            corrupt: self.corrupt.load(Relaxed),
            writes: self.writes.load(Relaxed),
            dropped_writes: self.dropped_writes.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
            read_latency: self.read_latency.snapshot(),
            write_latency: self.write_latency.snapshot(),
        }
    }
}

/// Sub-buckets per power of two: 16, so a bucket is at most 1/16 (6.25 %) of its values wide.
const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = SUB + (64 - SUB_BITS as usize) * SUB;

/// A log-linear histogram of nanoseconds with atomic buckets: recording is a few relaxed
/// atomic adds, no lock, so it can sit on the sub-microsecond hit path.
pub(crate) struct AtomicHistogram {
    buckets: Box<[AtomicU64]>,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }
}

impl std::fmt::Debug for AtomicHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.snapshot().fmt(f)
    }
}

impl AtomicHistogram {
    pub(crate) fn record_since(&self, start: Instant) {
        self.record(start.elapsed());
    }

    pub(crate) fn record(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket(ns)].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
        self.max_ns.fetch_max(ns, Relaxed);
    }

    fn snapshot(&self) -> LatencyHistogram {
        LatencyHistogram {
            counts: self.buckets.iter().map(|b| b.load(Relaxed)).collect(),
            sum_ns: self.sum_ns.load(Relaxed),
            max_ns: self.max_ns.load(Relaxed),
        }
    }
}

fn bucket(ns: u64) -> usize {
    if ns < SUB as u64 {
        return ns as usize;
    }
    let msb = ns.ilog2();
    let shift = msb - SUB_BITS;
    let sub = (ns >> shift) as usize - SUB;
    SUB + shift as usize * SUB + sub
}

/// The largest value that falls in bucket `index`.
fn bucket_upper(index: usize) -> u64 {
    if index < SUB {
        return index as u64;
    }
    let shift = ((index - SUB) / SUB) as u32;
    let sub = ((index - SUB) % SUB) as u64;
    let lower = (SUB as u64 + sub) << shift;
    lower.saturating_add((1 << shift) - 1)
}

/// A snapshot of a latency histogram (log-linear buckets, at most 6.25 % wide).
#[derive(Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    sum_ns: u64,
    max_ns: u64,
}

impl LatencyHistogram {
    /// How many calls were recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The latency below which a fraction `q` (0..=1) of calls fall, as the upper edge of
    /// its bucket (so an overestimate by at most 6.25 %); zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        let total = self.count();
        if total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(bucket_upper(i).min(self.max_ns));
            }
        }
        Duration::from_nanos(self.max_ns)
    }

    /// The mean latency; zero when empty.
    pub fn mean(&self) -> Duration {
        match self.count() {
            0 => Duration::ZERO,
            n => Duration::from_nanos(self.sum_ns / n),
        }
    }

    /// The slowest call.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.count())
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .field("max", &self.max())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_tight() {
        let mut last = 0;
        for ns in (0..100_000).chain([u64::MAX / 2, u64::MAX]) {
            let b = bucket(ns);
            assert!(b >= last && b < BUCKETS, "{ns}");
            assert!(bucket_upper(b) >= ns, "{ns}");
            assert!(bucket_upper(b) - ns <= ns / 16, "{ns}");
            last = b;
        }
    }

    #[test]
    fn quantiles() {
        let h = AtomicHistogram::default();
        assert_eq!(h.snapshot().quantile(0.5), Duration::ZERO);
        for us in 1..=100 {
            h.record(Duration::from_micros(us));
        }
        let s = h.snapshot();
        assert_eq!(s.count(), 100);
        let p50 = s.quantile(0.5).as_nanos();
        assert!((50_000..=53_125).contains(&p50), "{p50}");
        assert_eq!(s.quantile(1.0), Duration::from_micros(100));
        assert_eq!(s.max(), Duration::from_micros(100));
        assert_eq!(s.mean(), Duration::from_nanos(50_500));
    }
}
