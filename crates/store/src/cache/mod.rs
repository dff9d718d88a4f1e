//! The feature cache: one interface, an in-memory and a Redis implementation.

pub(crate) mod memory;
pub(crate) mod redis;
pub(crate) mod stats;
pub(crate) mod value;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;

use crate::{MemoryCache, RedisCache, Result, StoreError};
pub use stats::{CacheStats, LatencyHistogram};

/// A feature cache: feature vectors per (schema version, entity type, entity id), with the
/// event time they cover, read back as [`Lookup::Hit`], [`Lookup::Stale`] or [`Lookup::Miss`].
///
/// Reads and writes never fail: an unreachable, slow or corrupt backend turns a read into a
/// miss and drops a write, both counted in [`FeatureCache::stats`], and no call waits longer
/// than the backend's timeout. Invalidations do report failure, because a caller that
/// believes a value gone when it is not would serve it.
///
/// The trait is async (the server calls it from axum handlers, and Redis is network I/O); the
/// in-memory implementation never awaits, so its futures complete on the first poll. It uses
/// `-> impl Future + Send` rather than `async fn` so that the futures are `Send` for every
/// implementation. It is not object-safe: pick the backend at startup with [`AnyCache`].
pub trait FeatureCache: Send + Sync {
    /// The value cached for `key`, judged against `newest_event`, the time of the newest
    /// event known for the entity: older than that, or older than the TTL, is stale.
    fn get(&self, key: &EntityKey, newest_event: Timestamp) -> impl Future<Output = Lookup> + Send;

    /// [`FeatureCache::get`] for many keys in one round trip; one lookup per request, in order.
    fn get_many(
        &self,
        requests: &[(&EntityKey, Timestamp)],
    ) -> impl Future<Output = Vec<Lookup>> + Send;

    /// Stores `value` for `key`; false if it was not stored (backend down, value larger than
    /// the cache, or already past its retention).
    fn put(&self, key: &EntityKey, value: Arc<FeatureValue>) -> impl Future<Output = bool> + Send;

    /// Stores many values in one round trip; returns how many were stored.
    fn put_many(
        &self,
        entries: &[(&EntityKey, Arc<FeatureValue>)],
    ) -> impl Future<Output = usize> + Send;

    /// Removes the value of one entity; true if there was one.
    fn invalidate(&self, key: &EntityKey) -> impl Future<Output = Result<bool>> + Send;

    /// Removes every value in `scope`; returns how many were removed.
    fn invalidate_all(&self, scope: &Scope) -> impl Future<Output = Result<u64>> + Send;

    /// Counters and latency histograms since the cache was created.
    fn stats(&self) -> CacheStats;

    /// The freshness rule this cache applies.
    fn freshness(&self) -> Freshness;
}

/// Which cached value: feature-schema version, entity type and entity id.
///
/// The schema version and entity type are 1 to 64 characters of `[A-Za-z0-9._-]` (they
/// appear in Redis key patterns, so no `:` or glob characters); the entity id is 1 to 512
/// bytes without control characters (an IPv6 address is fine).
///
/// The parts are held as one string, `{schema}:{entity_type}:{entity_id}` (one allocation to
/// hash and compare on the cache's hit path, and the tail of the Redis key).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EntityKey {
    text: Box<str>,
    schema_end: u8,
    type_end: u8,
}

impl EntityKey {
    /// A key, validated as described on the type.
    pub fn new(
        schema: impl AsRef<str>,
        entity_type: impl AsRef<str>,
        entity_id: impl AsRef<str>,
    ) -> Result<Self> {
        let (schema, entity_type, entity_id) =
            (schema.as_ref(), entity_type.as_ref(), entity_id.as_ref());
        check_name("schema version", schema)?;
        check_name("entity type", entity_type)?;
        check_entity_id(entity_id)?;
        // check_name bounds both names to 64 bytes, so the offsets fit a u8.
        Ok(Self {
            text: format!("{schema}:{entity_type}:{entity_id}").into_boxed_str(),
            schema_end: schema.len() as u8,
            type_end: (schema.len() + 1 + entity_type.len()) as u8,
        })
    }

    /// The key of a source IP address (entity type `ip`).
    pub fn ip(schema: impl AsRef<str>, ip: std::net::IpAddr) -> Result<Self> {
        Self::new(schema, "ip", ip.to_string())
    }

    /// The feature-schema version.
    pub fn schema(&self) -> &str {
        &self.text[..usize::from(self.schema_end)]
    }

    /// The entity type, e.g. `ip`.
    pub fn entity_type(&self) -> &str {
        &self.text[usize::from(self.schema_end) + 1..usize::from(self.type_end)]
    }

    /// The entity id, e.g. `203.0.113.7`.
    pub fn entity_id(&self) -> &str {
        &self.text[usize::from(self.type_end) + 1..]
    }

    /// `{schema}:{entity_type}:{entity_id}`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Bytes of heap this key holds (for the memory cache's byte bound).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.len()
    }
}

impl std::fmt::Debug for EntityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityKey")
            .field("schema", &self.schema())
            .field("entity_type", &self.entity_type())
            .field("entity_id", &self.entity_id())
            .finish()
    }
}

/// Checks a schema version or entity type: 1..=64 bytes of `[A-Za-z0-9._-]`.
pub(crate) fn check_name(part: &'static str, value: &str) -> Result<()> {
    let reason = if value.is_empty() {
        "must not be empty"
    } else if value.len() > 64 {
        "must be at most 64 bytes"
    } else if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        "may only contain ASCII letters, digits, '.', '_' and '-'"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidKey { part, value: value.to_owned(), reason })
}

fn check_entity_id(value: &str) -> Result<()> {
    let reason = if value.is_empty() {
        "must not be empty"
    } else if value.len() > 512 {
        "must be at most 512 bytes"
    } else if value.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidKey { part: "entity id", value: value.to_owned(), reason })
}

/// A cached feature vector with the times that decide its freshness.
///
/// Times are kept to the microsecond (finer parts are truncated at construction), which is
/// what the binary format stores, so a value survives any cache unchanged. Equality compares
/// feature values bit for bit (a NaN equals the same NaN).
#[derive(Debug, Clone)]
pub struct FeatureValue {
    as_of_us: i64,
    computed_at_us: i64,
    values: Vec<f32>,
}

impl FeatureValue {
    /// A value computed now from events up to `as_of` (the newest event's time).
    pub fn new(as_of: Timestamp, values: Vec<f32>) -> Self {
        Self::from_micros(to_us(as_of), now_us(), values)
    }

    /// A value computed at `computed_at` from events up to `as_of`.
    pub fn with_computed_at(as_of: Timestamp, computed_at: Timestamp, values: Vec<f32>) -> Self {
        Self::from_micros(to_us(as_of), to_us(computed_at), values)
    }

    pub(crate) fn from_micros(as_of_us: i64, computed_at_us: i64, values: Vec<f32>) -> Self {
        Self { as_of_us, computed_at_us, values }
    }

    /// The time of the newest event the features cover (event time, not wall-clock time).
    pub fn as_of(&self) -> Timestamp {
        timestamp(self.as_of_us)
    }

    /// The wall-clock time the features were computed; the TTL counts from here.
    pub fn computed_at(&self) -> Timestamp {
        timestamp(self.computed_at_us)
    }

    /// The features.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The number of features.
    pub fn width(&self) -> usize {
        self.values.len()
    }

    /// Takes the features out.
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }

    pub(crate) fn as_of_us(&self) -> i64 {
        self.as_of_us
    }

    pub(crate) fn computed_at_us(&self) -> i64 {
        self.computed_at_us
    }
}

impl PartialEq for FeatureValue {
    fn eq(&self, other: &Self) -> bool {
        self.as_of_us == other.as_of_us
            && self.computed_at_us == other.computed_at_us
            && self.values.len() == other.values.len()
            && self.values.iter().zip(&other.values).all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

/// The outcome of a cache read.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// A fresh value: within its TTL and covering the entity's newest event.
    Hit(Arc<FeatureValue>),
    /// A value that is present but must not be served as current.
    Stale {
        /// The stale value (callers may use it while recomputing, or ignore it).
        value: Arc<FeatureValue>,
        /// Why it is stale.
        reason: StaleReason,
    },
    /// No usable value: absent, past its retention, unreadable, or the backend is down.
    Miss,
}

impl Lookup {
    /// The value if fresh.
    pub fn hit(&self) -> Option<&Arc<FeatureValue>> {
        match self {
            Self::Hit(value) => Some(value),
            _ => None,
        }
    }

    /// True for [`Lookup::Hit`].
    pub fn is_hit(&self) -> bool {
        matches!(self, Self::Hit(_))
    }

    /// True for [`Lookup::Stale`].
    pub fn is_stale(&self) -> bool {
        matches!(self, Self::Stale { .. })
    }

    /// True for [`Lookup::Miss`].
    pub fn is_miss(&self) -> bool {
        matches!(self, Self::Miss)
    }
}

/// Why a [`Lookup::Stale`] value is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReason {
    /// Computed before the entity's newest event: it does not cover every event.
    BehindEvents,
    /// Older than the TTL (counted from its computation time).
    Expired,
}

/// When a cached value is fresh, stale, or gone.
///
/// A value computed at `c` from events up to `a`, read at wall-clock time `now` for an entity
/// whose newest event is at `e`:
/// - `now >= c + ttl + grace`: gone ([`Lookup::Miss`]; Redis has expired it, the memory cache
///   drops it);
/// - otherwise `a < e`: [`StaleReason::BehindEvents`];
/// - otherwise `now > c + ttl`: [`StaleReason::Expired`];
/// - otherwise a [`Lookup::Hit`].
///
/// Unlike Feast (whose online reads return expired values as present), expiry is checked at
/// every read; `grace` only decides how long an expired value stays visible as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// How long a value is fresh after its computation. Default 15 min: event-time changes
    /// are caught by the as-of check, so the TTL mainly bounds how long threat-intel feed
    /// updates take to reach cached features.
    pub ttl: Duration,
    /// How long an expired value is kept (and reported stale) before it is dropped.
    /// Default 15 min.
    pub grace: Duration,
}

impl Default for Freshness {
    fn default() -> Self {
        Self { ttl: Duration::from_mins(15), grace: Duration::from_mins(15) }
    }
}

impl Freshness {
    /// The wall-clock time (Unix µs) from which a value computed at `computed_at_us` is gone.
    pub(crate) fn gone_at_us(&self, computed_at_us: i64) -> i64 {
        computed_at_us.saturating_add(micros(self.ttl)).saturating_add(micros(self.grace))
    }

    /// Applies the rule above.
    pub(crate) fn classify(&self, value: Arc<FeatureValue>, newest_event: i64, now: i64) -> Lookup {
        if now >= self.gone_at_us(value.computed_at_us) {
            Lookup::Miss
        } else if value.as_of_us < newest_event {
            Lookup::Stale { value, reason: StaleReason::BehindEvents }
        } else if now > value.computed_at_us.saturating_add(micros(self.ttl)) {
            Lookup::Stale { value, reason: StaleReason::Expired }
        } else {
            Lookup::Hit(value)
        }
    }
}

/// Which values [`FeatureCache::invalidate_all`] removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every value of this cache (in Redis: every key under the prefix).
    All,
    /// Every value of one feature-schema version.
    Schema(String),
    /// Every value of one entity type, in every schema version.
    EntityType(String),
    /// Every value of one entity type in one schema version.
    SchemaEntityType {
        /// The schema version.
        schema: String,
        /// The entity type.
        entity_type: String,
    },
}

impl Scope {
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            Self::All => Ok(()),
            Self::Schema(schema) => check_name("schema version", schema),
            Self::EntityType(entity_type) => check_name("entity type", entity_type),
            Self::SchemaEntityType { schema, entity_type } => {
                check_name("schema version", schema)?;
                check_name("entity type", entity_type)
            }
        }
    }

    pub(crate) fn matches(&self, key: &EntityKey) -> bool {
        match self {
            Self::All => true,
            Self::Schema(schema) => key.schema() == schema,
            Self::EntityType(entity_type) => key.entity_type() == entity_type,
            Self::SchemaEntityType { schema, entity_type } => {
                key.schema() == schema && key.entity_type() == entity_type
            }
        }
    }
}

/// Either cache behind one type, for a backend chosen by configuration at startup.
#[derive(Debug, Clone)]
pub enum AnyCache {
    /// The embedded in-memory cache.
    Memory(MemoryCache),
    /// The shared Redis cache.
    Redis(RedisCache),
}

impl FeatureCache for AnyCache {
    async fn get(&self, key: &EntityKey, newest_event: Timestamp) -> Lookup {
        match self {
            Self::Memory(c) => c.get(key, newest_event).await,
            Self::Redis(c) => c.get(key, newest_event).await,
        }
    }

    async fn get_many(&self, requests: &[(&EntityKey, Timestamp)]) -> Vec<Lookup> {
        match self {
            Self::Memory(c) => c.get_many(requests).await,
            Self::Redis(c) => c.get_many(requests).await,
        }
    }

    async fn put(&self, key: &EntityKey, value: Arc<FeatureValue>) -> bool {
        match self {
            Self::Memory(c) => c.put(key, value).await,
            Self::Redis(c) => c.put(key, value).await,
        }
    }

    async fn put_many(&self, entries: &[(&EntityKey, Arc<FeatureValue>)]) -> usize {
        match self {
            Self::Memory(c) => c.put_many(entries).await,
            Self::Redis(c) => c.put_many(entries).await,
        }
    }

    async fn invalidate(&self, key: &EntityKey) -> Result<bool> {
        match self {
            Self::Memory(c) => c.invalidate(key).await,
            Self::Redis(c) => c.invalidate(key).await,
        }
    }

    async fn invalidate_all(&self, scope: &Scope) -> Result<u64> {
        match self {
            Self::Memory(c) => c.invalidate_all(scope).await,
            Self::Redis(c) => c.invalidate_all(scope).await,
        }
    }

    fn stats(&self) -> CacheStats {
        match self {
            Self::Memory(c) => c.stats(),
            Self::Redis(c) => c.stats(),
        }
    }

    fn freshness(&self) -> Freshness {
        match self {
            Self::Memory(c) => c.freshness(),
            Self::Redis(c) => c.freshness(),
        }
    }
}

/// Wall-clock time in Unix microseconds.
pub(crate) fn now_us() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The range of Unix microseconds that map to a `Timestamp` and back: jiff's range, except
/// the last second (whose sub-second microseconds `Timestamp::from_microsecond` rejects).
pub(crate) fn us_range() -> std::ops::RangeInclusive<i64> {
    Timestamp::MIN.as_microsecond()..=Timestamp::MAX.as_second() * 1_000_000
}

/// `t` in Unix microseconds (truncated), within [`us_range`].
pub(crate) fn to_us(t: Timestamp) -> i64 {
    let range = us_range();
    t.as_microsecond().clamp(*range.start(), *range.end())
}

/// The timestamp of `us` Unix microseconds, saturating (values are in [`us_range`] by
/// construction: they come from a `Timestamp` or a validated decode).
pub(crate) fn timestamp(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(if us < 0 { Timestamp::MIN } else { Timestamp::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        let key = EntityKey::new("v1.2", "ip", "2001:db8::1").unwrap();
        assert_eq!(
            (key.schema(), key.entity_type(), key.entity_id()),
            ("v1.2", "ip", "2001:db8::1")
        );
        assert_eq!(key.as_str(), "v1.2:ip:2001:db8::1");
        assert_ne!(key, EntityKey::new("v1", "2.ip", "2001:db8::1").unwrap());
        assert!(EntityKey::ip("v1", "203.0.113.7".parse().unwrap()).is_ok());
        for (schema, entity_type, id) in [
            ("", "ip", "x"),
            ("v:1", "ip", "x"),
            ("v*", "ip", "x"),
            ("v1", "i p", "x"),
            ("v1", "ip", ""),
            ("v1", "ip", "a\nb"),
        ] {
            assert!(
                EntityKey::new(schema, entity_type, id).is_err(),
                "{schema} {entity_type} {id:?}"
            );
        }
        let err = EntityKey::new("v1", "i*", "x").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid entity type \"i*\": may only contain ASCII letters, digits, '.', '_' and '-'"
        );
    }

    #[test]
    fn freshness_rule() {
        let f = Freshness { ttl: Duration::from_secs(10), grace: Duration::from_secs(5) };
        let s = 1_000_000;
        let value =
            |as_of, computed_at| Arc::new(FeatureValue::from_micros(as_of, computed_at, vec![]));
        let check = |as_of, newest, now, expected: Option<StaleReason>, gone: bool| {
            let got = f.classify(value(as_of, 0), newest, now);
            match (got, expected) {
                (Lookup::Miss, _) => assert!(gone, "{as_of} {newest} {now}"),
                (Lookup::Hit(_), None) => assert!(!gone),
                (Lookup::Stale { reason, .. }, Some(r)) => assert_eq!(reason, r),
                (other, _) => panic!("{other:?} for {as_of} {newest} {now}"),
            }
        };
        check(5, 5, 0, None, false);
        check(5, 4, 10 * s, None, false);
        check(5, 6, 0, Some(StaleReason::BehindEvents), false);
        check(5, 5, 10 * s + 1, Some(StaleReason::Expired), false);
        check(5, 6, 10 * s + 1, Some(StaleReason::BehindEvents), false);
        check(5, 5, 15 * s - 1, Some(StaleReason::Expired), false);
        check(5, 5, 15 * s, None, true);
    }

    #[test]
    fn scopes_match_keys() {
        let key = EntityKey::new("v1", "ip", "1.2.3.4").unwrap();
        assert!(Scope::All.matches(&key));
        assert!(Scope::Schema("v1".into()).matches(&key));
        assert!(!Scope::Schema("v2".into()).matches(&key));
        assert!(Scope::EntityType("ip".into()).matches(&key));
        assert!(!Scope::EntityType("host".into()).matches(&key));
        let both = Scope::SchemaEntityType { schema: "v1".into(), entity_type: "ip".into() };
        assert!(both.matches(&key));
        assert!(Scope::Schema("v*".into()).check().is_err());
    }
}
