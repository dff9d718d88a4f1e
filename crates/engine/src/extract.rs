//! Cache-aware feature extraction for entity windows, reporting where each vector came from.
//!
//! [`vigil_store::extract_many`] does the work (one batched cache read, the misses computed
//! in parallel, one batched write). It reports only totals, and a verdict must say whether
//! *its* features came from the cache, so the cache is wrapped in [`Observed`], which
//! remembers the outcome of each lookup of the batch read.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use serde::Serialize;
use vigil_features::{Event, FeatureVector, Featurizer, extract_with};
use vigil_store::{
    CacheStats, Entity, EntityKey, FeatureCache, FeatureValue, Freshness, Lookup, Scope,
    StaleReason,
};

/// Where a verdict's feature vector came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A fresh value from the feature cache.
    Cache,
    /// Computed from the entity's window (the cache had none, or a stale one).
    Computed,
    /// Given in the request.
    Request,
}

/// The feature part of a verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// Where the vector came from.
    pub source: Source,
    /// True when the cache held a value for this entity that was stale (so it was
    /// recomputed, not served).
    pub stale: bool,
    /// Why the cached value was stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_reason: Option<&'static str>,
    /// The as-of time of the vector (the window's newest event), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

impl Provenance {
    /// Given in the request.
    pub(crate) fn request() -> Self {
        Self { source: Source::Request, stale: false, stale_reason: None, as_of: None }
    }

    /// Computed here from events.
    pub(crate) fn computed() -> Self {
        Self { source: Source::Computed, ..Self::request() }
    }
}

/// One window to extract features for.
pub(crate) struct WindowInput {
    pub(crate) ip: IpAddr,
    pub(crate) events: Arc<Vec<Event>>,
    pub(crate) as_of_us: i64,
}

/// Kind of a lookup, as observed.
#[derive(Debug, Clone, Copy)]
enum Seen {
    Hit,
    Stale(StaleReason),
    Miss,
}

/// A cache that remembers the outcome of every lookup of its `get_many` calls, in order.
struct Observed<'a, C> {
    inner: &'a C,
    seen: Mutex<Vec<Seen>>,
}

impl<C: FeatureCache> FeatureCache for Observed<'_, C> {
    async fn get(&self, key: &EntityKey, newest_event: Timestamp) -> Lookup {
        self.inner.get(key, newest_event).await
    }

    async fn get_many(&self, requests: &[(&EntityKey, Timestamp)]) -> Vec<Lookup> {
        let lookups = self.inner.get_many(requests).await;
        // Appended, so that a batch read in several calls keeps its order.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).extend(lookups.iter().map(|l| {
            match l {
                Lookup::Hit(_) => Seen::Hit,
                Lookup::Stale { reason, .. } => Seen::Stale(*reason),
                Lookup::Miss => Seen::Miss,
            }
        }));
        lookups
    }

    async fn put(&self, key: &EntityKey, value: Arc<FeatureValue>) -> bool {
        self.inner.put(key, value).await
    }

    async fn put_many(&self, entries: &[(&EntityKey, Arc<FeatureValue>)]) -> usize {
        self.inner.put_many(entries).await
    }

    async fn invalidate(&self, key: &EntityKey) -> vigil_store::Result<bool> {
        self.inner.invalidate(key).await
    }

    async fn invalidate_all(&self, scope: &Scope) -> vigil_store::Result<u64> {
        self.inner.invalidate_all(scope).await
    }

    fn stats(&self) -> CacheStats {
        self.inner.stats()
    }

    fn freshness(&self) -> Freshness {
        self.inner.freshness()
    }
}

fn timestamp(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::MIN)
}

/// The features of every window (in order) and where each came from.
///
/// A cached value is used only when it is a fresh hit *and* decodes into a valid vector of
/// this schema; anything else is recomputed here (never an error).
///
/// Keys carry the featurizer's version (schema, window policy, feeds), so a vector cached
/// under other feeds or another policy is never served.
pub(crate) async fn extract_windows<C: FeatureCache>(
    cache: &C,
    windows: Vec<WindowInput>,
    featurizer: &Featurizer,
) -> Vec<(FeatureVector, Provenance)> {
    let version = featurizer.version();
    let feeds = &*featurizer.feeds;
    let entities: Vec<Entity<WindowInput>> = windows
        .into_iter()
        .map(|w| {
            // The featurizer's version and "ip" are valid key names, and an address's text
            // is a valid entity id (1 to 39 characters, no control characters).
            let key = EntityKey::ip(&version, w.ip).expect("an IP address is a valid key");
            Entity { key, newest_event: timestamp(w.as_of_us), data: w }
        })
        .collect();
    let observed = Observed { inner: cache, seen: Mutex::new(Vec::new()) };
    let compute = |e: &Entity<WindowInput>| extract_with(&e.data.events, feeds).as_slice().to_vec();
    let extracted = vigil_store::extract_many(&observed, &entities, compute).await;
    let seen = observed.seen.into_inner().unwrap_or_else(PoisonError::into_inner);
    entities
        .iter()
        .zip(extracted.values)
        .enumerate()
        .map(|(i, (entity, value))| {
            let seen = seen.get(i).copied().unwrap_or(Seen::Miss);
            let (vector, source) = match FeatureVector::from_slice(value.values()) {
                Ok(v) if matches!(seen, Seen::Hit) => (v, Source::Cache),
                Ok(v) => (v, Source::Computed),
                // A cached value of the wrong width or with a non-finite value.
                Err(_) => (extract_with(&entity.data.events, feeds), Source::Computed),
            };
            metrics::counter!("vigil_feature_lookups_total", "result" => match seen {
                Seen::Hit => "hit",
                Seen::Stale(_) => "stale",
                Seen::Miss => "miss",
            })
            .increment(1);
            let stale_reason = match seen {
                Seen::Stale(StaleReason::BehindEvents) => Some("behind_events"),
                Seen::Stale(StaleReason::Expired) => Some("expired"),
                _ => None,
            };
            let provenance = Provenance {
                source,
                stale: stale_reason.is_some(),
                stale_reason,
                as_of: entity.data.events.last().map(|e| e.timestamp.to_string()),
            };
            (vector, provenance)
        })
        .collect()
}
