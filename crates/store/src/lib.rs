//! vigil-store: the feature cache (in memory or in Redis) and the SQLite store of
//! council-labelled training samples.
//!
//! **Feature cache.** [`FeatureCache`] is the one interface: `get`/`get_many` return a
//! [`Lookup`] (hit, stale or miss), `put`/`put_many` store a [`FeatureValue`] (features, the
//! as-of event time they cover, when they were computed), `invalidate`/`invalidate_all`
//! remove by [`EntityKey`] or [`Scope`], `stats` counts hits, misses, stale values, errors and
//! latencies ([`CacheStats`]). [`Freshness`] decides staleness at every read: older than the
//! TTL, or computed before the entity's newest event, is stale (Feast serves such values as
//! present; vigil does not).
//! - [`MemoryCache`]: the embedded default, bounded by entries and bytes.
//! - [`RedisCache`]: Redis through fred (single server, Cluster or Sentinel from a URL), one
//!   compact binary value per entity ([`encode_value`]), per-call timeout, reconnect with
//!   backoff; down or slow Redis means misses and dropped writes, never errors or waits.
//! - [`AnyCache`]: either, chosen at startup.
//! - [`extract_many`]: fetch cached features in one batch, compute the rest in parallel
//!   (rayon) with the caller's extractor, write them back in one batch.
//!
//! The cache interface is async: the server calls it from axum handlers, and Redis is network
//! I/O that must not block a runtime thread. A synchronous trait would make the Redis cache
//! either block handler threads for up to its timeout or hop to a runtime of its own on every
//! call. The memory cache pays nothing for it: its futures complete on the first poll, and
//! [`MemoryCache::lookup`]/[`MemoryCache::store`] serve synchronous callers.
//!
//! **Sample store.** [`SampleStore`] keeps [`NewSample`]s (features, model prediction and
//! confidence, council [`Verdict`], correct label), retrain jobs and manual retrain requests
//! in SQLite, with migrations applied at open. Writes go through one writer thread that
//! commits everything queued in one transaction (group commit) before answering each caller.
//! The retrain worker's queries: [`SampleStore::pending_count`],
//! [`SampleStore::override_rate`], [`SampleStore::last_successful_retrain`],
//! [`SampleStore::load_unused`] (a [`vigil_core::Dataset`]), [`SampleStore::mark_used`],
//! [`SampleStore::claim_requests`] and the job records.
//!
//! ```
//! use jiff::Timestamp;
//! use vigil_core::ClassSet;
//! use vigil_store::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let cache = MemoryCache::new(MemoryConfig::default());
//! let newest_event: Timestamp = "2026-05-01T12:00:00Z".parse()?;
//! let entities = vec![Entity {
//!     key: EntityKey::new("v1", "ip", "203.0.113.7")?,
//!     newest_event,
//!     data: [3.0_f32, 4.0],
//! }];
//! let extract = |e: &Entity<[f32; 2]>| e.data.to_vec();
//! let first = runtime.block_on(extract_many(&cache, &entities, extract));
//! let again = runtime.block_on(extract_many(&cache, &entities, extract));
//! assert_eq!((first.misses, again.hits), (1, 1));
//! // A newer event makes the cached value stale.
//! let later = newest_event + jiff::SignedDuration::from_secs(1);
//! assert!(runtime.block_on(cache.get(&entities[0].key, later)).is_stale());
//!
//! let dir = tempfile::tempdir()?;
//! let store = SampleStore::open(dir.path().join("samples.db"))?;
//! let id = store.insert(NewSample {
//!     entity: "203.0.113.7".into(),
//!     schema_version: "v1".into(),
//!     features: first.values[0].values().to_vec(),
//!     model_version: "m1".into(),
//!     ml_prediction: "Brute Force".into(),
//!     ml_confidence: 0.62,
//!     verdict: Verdict::Override,
//!     correct_label: Some("Normal".into()),
//!     route: None,
//! })?;
//! let names = vec!["a".to_owned(), "b".to_owned()];
//! let set = store.load_unused(&ClassSet::threat(), "v1", &names)?;
//! assert_eq!((set.sample_ids, set.dataset.labels()), (vec![id], &[0][..]));
//! assert_eq!(store.override_rate(100)?.rate(), 1.0);
//! # Ok(())
//! # }
//! ```
//!
//! # Invariants
//! - A read never serves a value past its TTL or behind the entity's newest event as a hit;
//!   it is reported [`Lookup::Stale`] (or a miss once past retention).
//! - Bytes that fail to decode (truncated, foreign, corrupted: the format carries a CRC-32)
//!   are a miss and counted, never features; the schema version in the value must match the
//!   key's.
//! - Cache reads and writes never return an error and never wait longer than the backend's
//!   timeout (Redis: 50 ms by default); failures are counted in [`CacheStats`].
//! - A sample insert that returned `Ok` is on disk: WAL with `synchronous=FULL`, answered
//!   only after its group commit (tested by SIGKILLing a writer mid-burst).
//! - A CONFIRM's correct label is the prediction; an OVERRIDE carries a different label;
//!   UNCERTAIN samples are never counted as pending, loaded or marked used.
//! - Loading for training never drops or pads a row: an unknown label or a wrong width is an
//!   error naming the sample id.
//! - Samples are marked used all-or-nothing, in one transaction; each manual retrain request
//!   is claimed exactly once.

mod cache;
mod error;
mod extract;
mod samples;

pub use cache::memory::{MemoryCache, MemoryConfig};
pub use cache::redis::{RedisCache, RedisConfig};
pub use cache::value::{VALUE_FORMAT_VERSION, VALUE_MAGIC, decode_value, encode_value};
pub use cache::{
    AnyCache, CacheStats, EntityKey, FeatureCache, FeatureValue, Freshness, LatencyHistogram,
    Lookup, Scope, StaleReason,
};
pub use error::{Result, StoreError};
pub use extract::{Entity, Extracted, extract_many};
pub use samples::{
    Claim, CommitCounts, JobOutcome, JobStatus, NewPrediction, NewSample, OverrideBreakdown,
    OverrideRate, RetrainJob, RetrainRequest, ReviewFilter, ReviewOrder, ReviewPage, ReviewQuery,
    ReviewStatus, Route, Sample, SampleStore, SampleStoreConfig, StoredPrediction, TrainableSet,
    TrainingSet, Verdict,
};
