//! One behavioural suite for every [`FeatureCache`]; `cache_suite!` instantiates it for a
//! backend module that defines `async fn harness() -> Harness<impl FeatureCache>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use vigil_store::{
    Entity, EntityKey, FeatureCache, FeatureValue, Freshness, Lookup, Scope, StaleReason,
    extract_many,
};

/// The freshness every suite cache is built with: long enough that a value put now is fresh
/// for the whole test, short enough that the real-time expiry test is quick.
pub(crate) const FRESHNESS: Freshness =
    Freshness { ttl: Duration::from_millis(1500), grace: Duration::from_millis(1500) };

/// A cache and whatever must live as long as it (a Redis server).
pub(crate) struct Harness<C> {
    pub(crate) cache: C,
    pub(crate) _guard: Option<crate::redis_server::RedisServer>,
}

macro_rules! cache_suite {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let harness = harness().await;
                crate::cache_suite::$name(&harness.cache).await;
            }
        )*
    };
}

/// Every suite test, for `cache_suite!(all)`.
macro_rules! cache_suite_all {
    () => {
        cache_suite!(
            miss_then_hit,
            stale_when_behind_events,
            stale_when_expired_then_gone,
            expires_in_real_time,
            batches_keep_order,
            schemas_and_types_are_separate,
            invalidate_one,
            invalidate_by_scope,
            stats_count_every_lookup,
            extract_many_computes_only_what_is_not_fresh,
            concurrent_readers_and_writers,
        );
    };
}

/// Runs the whole suite in sequence, each test on a fresh cache from `make` (given a test
/// number, e.g. to pick a distinct key prefix on a shared server).
pub(crate) async fn run_all<C, F, Fut>(make: F)
where
    C: FeatureCache,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = C>,
{
    miss_then_hit(&make(0).await).await;
    stale_when_behind_events(&make(1).await).await;
    stale_when_expired_then_gone(&make(2).await).await;
    expires_in_real_time(&make(3).await).await;
    batches_keep_order(&make(4).await).await;
    schemas_and_types_are_separate(&make(5).await).await;
    invalidate_one(&make(6).await).await;
    invalidate_by_scope(&make(7).await).await;
    stats_count_every_lookup(&make(8).await).await;
    extract_many_computes_only_what_is_not_fresh(&make(9).await).await;
    concurrent_readers_and_writers(&make(10).await).await;
}

fn key(id: &str) -> EntityKey {
    EntityKey::new("v1", "ip", id).unwrap()
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

fn ago(d: Duration) -> Timestamp {
    Timestamp::now() - SignedDuration::try_from(d).unwrap()
}

fn value(as_of: Timestamp, values: &[f32]) -> Arc<FeatureValue> {
    Arc::new(FeatureValue::new(as_of, values.to_vec()))
}

fn stale_reason(lookup: &Lookup) -> Option<StaleReason> {
    match lookup {
        Lookup::Stale { reason, .. } => Some(*reason),
        _ => None,
    }
}

pub(crate) async fn miss_then_hit<C: FeatureCache>(cache: &C) {
    let k = key("203.0.113.7");
    assert_eq!(cache.get(&k, t(0)).await, Lookup::Miss);
    let v = value(t(0), &[1.0, -2.5, f32::MAX, 0.0]);
    assert!(cache.put(&k, Arc::clone(&v)).await);
    match cache.get(&k, t(0)).await {
        Lookup::Hit(got) => assert_eq!(*got, *v),
        other => panic!("expected a hit, got {other:?}"),
    }
    // An IPv6 entity id (colons) works like any other.
    let v6 = key("2001:db8::1");
    assert!(cache.put(&v6, value(t(0), &[3.0])).await);
    assert!(cache.get(&v6, t(0)).await.is_hit());
}

pub(crate) async fn stale_when_behind_events<C: FeatureCache>(cache: &C) {
    let k = key("198.51.100.1");
    cache.put(&k, value(t(10), &[1.0])).await;
    assert!(cache.get(&k, t(9)).await.is_hit(), "older newest event");
    assert!(cache.get(&k, t(10)).await.is_hit(), "same newest event");
    let newer = cache.get(&k, t(11)).await;
    assert_eq!(stale_reason(&newer), Some(StaleReason::BehindEvents), "{newer:?}");
}

pub(crate) async fn stale_when_expired_then_gone<C: FeatureCache>(cache: &C) {
    let f = cache.freshness();
    assert_eq!(f, FRESHNESS);
    let expired = key("198.51.100.2");
    let v = FeatureValue::with_computed_at(t(0), ago(f.ttl + f.grace / 2), vec![1.0]);
    assert!(cache.put(&expired, Arc::new(v)).await);
    let got = cache.get(&expired, t(0)).await;
    assert_eq!(stale_reason(&got), Some(StaleReason::Expired), "{got:?}");
    // Past retention: not stored at all, and reads miss.
    let gone = key("198.51.100.3");
    let v = FeatureValue::with_computed_at(
        t(0),
        ago(f.ttl + f.grace + Duration::from_secs(1)),
        vec![1.0],
    );
    assert!(!cache.put(&gone, Arc::new(v)).await);
    assert!(cache.get(&gone, t(0)).await.is_miss());
}

pub(crate) async fn expires_in_real_time<C: FeatureCache>(cache: &C) {
    let f = cache.freshness();
    let k = key("198.51.100.4");
    cache.put(&k, value(t(0), &[1.0])).await;
    assert!(cache.get(&k, t(0)).await.is_hit());
    tokio::time::sleep(f.ttl + Duration::from_millis(100)).await;
    let got = cache.get(&k, t(0)).await;
    assert_eq!(stale_reason(&got), Some(StaleReason::Expired), "{got:?}");
    tokio::time::sleep(f.grace).await;
    assert!(cache.get(&k, t(0)).await.is_miss());
}

pub(crate) async fn batches_keep_order<C: FeatureCache>(cache: &C) {
    let keys: Vec<EntityKey> = (0..5).map(|i| key(&format!("10.1.0.{i}"))).collect();
    let entries: Vec<(&EntityKey, Arc<FeatureValue>)> =
        [0, 2, 4].iter().map(|&i| (&keys[i], value(t(5), &[i as f32]))).collect();
    assert_eq!(cache.put_many(&entries).await, 3);
    assert!(cache.get_many(&[]).await.is_empty());
    assert_eq!(cache.put_many(&[]).await, 0);
    let mut requests: Vec<(&EntityKey, Timestamp)> = keys.iter().map(|k| (k, t(5))).collect();
    requests.push((&keys[4], t(6)));
    requests.push((&keys[0], t(5)));
    let got = cache.get_many(&requests).await;
    let shape: Vec<&str> = got
        .iter()
        .map(|l| match l {
            Lookup::Hit(_) => "hit",
            Lookup::Stale { .. } => "stale",
            Lookup::Miss => "miss",
        })
        .collect();
    assert_eq!(shape, ["hit", "miss", "hit", "miss", "hit", "stale", "hit"]);
    for (i, lookup) in got.iter().enumerate().take(5) {
        if let Some(v) = lookup.hit() {
            assert_eq!(v.values(), [i as f32]);
        }
    }
}

pub(crate) async fn schemas_and_types_are_separate<C: FeatureCache>(cache: &C) {
    let v1 = EntityKey::new("v1", "ip", "192.0.2.1").unwrap();
    let v2 = EntityKey::new("v2", "ip", "192.0.2.1").unwrap();
    let host = EntityKey::new("v1", "host", "192.0.2.1").unwrap();
    cache.put(&v1, value(t(0), &[1.0])).await;
    assert!(cache.get(&v2, t(0)).await.is_miss(), "a schema bump misses");
    assert!(cache.get(&host, t(0)).await.is_miss());
    cache.put(&v2, value(t(0), &[2.0])).await;
    assert_eq!(cache.get(&v1, t(0)).await.hit().unwrap().values(), [1.0]);
    assert_eq!(cache.get(&v2, t(0)).await.hit().unwrap().values(), [2.0]);
}

pub(crate) async fn invalidate_one<C: FeatureCache>(cache: &C) {
    let (a, b) = (key("192.0.2.10"), key("192.0.2.11"));
    cache.put(&a, value(t(0), &[1.0])).await;
    cache.put(&b, value(t(0), &[1.0])).await;
    assert!(cache.invalidate(&a).await.unwrap());
    assert!(!cache.invalidate(&a).await.unwrap(), "already gone");
    assert!(cache.get(&a, t(0)).await.is_miss());
    assert!(cache.get(&b, t(0)).await.is_hit());
}

pub(crate) async fn invalidate_by_scope<C: FeatureCache>(cache: &C) {
    let k = |schema: &str, entity_type: &str, id: &str| {
        EntityKey::new(schema, entity_type, id).unwrap()
    };
    let keys = [
        k("v1", "ip", "1"),
        k("v1", "ip", "2"),
        k("v1", "host", "web:ip:1"), // an id that looks like the `ip` type inside a pattern
        k("v2", "ip", "1"),
        k("v2", "host", "db"),
    ];
    let fill = async || {
        for key in &keys {
            assert!(cache.put(key, value(t(0), &[1.0])).await);
        }
    };
    let present = async || {
        let requests: Vec<_> = keys.iter().map(|k| (k, t(0))).collect();
        cache.get_many(&requests).await.iter().map(Lookup::is_hit).collect::<Vec<_>>()
    };
    fill().await;
    assert_eq!(cache.invalidate_all(&Scope::EntityType("ip".into())).await.unwrap(), 3);
    assert_eq!(present().await, [false, false, true, false, true]);
    fill().await;
    assert_eq!(cache.invalidate_all(&Scope::Schema("v1".into())).await.unwrap(), 3);
    assert_eq!(present().await, [false, false, false, true, true]);
    fill().await;
    let scope = Scope::SchemaEntityType { schema: "v2".into(), entity_type: "host".into() };
    assert_eq!(cache.invalidate_all(&scope).await.unwrap(), 1);
    assert_eq!(present().await, [true, true, true, true, false]);
    assert_eq!(cache.invalidate_all(&Scope::All).await.unwrap(), 4);
    assert_eq!(present().await, [false; 5]);
    assert!(cache.invalidate_all(&Scope::Schema("v*".into())).await.is_err(), "glob in scope");
}

pub(crate) async fn stats_count_every_lookup<C: FeatureCache>(cache: &C) {
    let before = cache.stats();
    let k = key("192.0.2.20");
    cache.get(&k, t(0)).await; // miss
    cache.put(&k, value(t(0), &[1.0])).await;
    cache.get(&k, t(0)).await; // hit
    cache.get(&k, t(1)).await; // stale
    cache.get_many(&[(&k, t(0)), (&k, t(0))]).await; // 2 hits
    let s = cache.stats();
    assert_eq!(s.hits - before.hits, 3);
    assert_eq!(s.misses - before.misses, 1);
    assert_eq!(s.stale - before.stale, 1);
    assert_eq!(s.writes - before.writes, 1);
    assert_eq!(s.errors, 0);
    assert_eq!(s.dropped_writes, 0);
    assert_eq!(s.read_latency.count() - before.read_latency.count(), 4, "one sample per call");
    assert_eq!(s.write_latency.count() - before.write_latency.count(), 1);
    assert!(s.read_latency.quantile(0.5) <= s.read_latency.max());
    assert!(s.hit_rate() > 0.0 && s.hit_rate() < 1.0);
}

pub(crate) async fn extract_many_computes_only_what_is_not_fresh<C: FeatureCache>(cache: &C) {
    let calls = AtomicUsize::new(0);
    let compute = |e: &Entity<u32>| {
        calls.fetch_add(1, Ordering::Relaxed);
        vec![e.data as f32, 1.0]
    };
    let entities: Vec<Entity<u32>> = (0..20)
        .map(|i| Entity { key: key(&format!("10.2.0.{i}")), newest_event: t(100), data: i })
        .collect();
    let first = extract_many(cache, &entities, compute).await;
    assert_eq!((first.hits, first.stale, first.misses), (0, 0, 20));
    assert_eq!(calls.load(Ordering::Relaxed), 20);
    for (i, v) in first.values.iter().enumerate() {
        assert_eq!(v.values(), [i as f32, 1.0]);
        assert_eq!(v.as_of(), t(100));
    }
    let second = extract_many(cache, &entities, compute).await;
    assert_eq!((second.hits, second.misses), (20, 0));
    assert_eq!(calls.load(Ordering::Relaxed), 20, "all served from the cache");
    assert_eq!(second.values, first.values);

    // Two entities saw a new event: only they are recomputed, and cached again.
    let mut moved = entities.clone();
    moved[3].newest_event = t(101);
    moved[7].newest_event = t(101);
    let third = extract_many(cache, &moved, compute).await;
    assert_eq!((third.hits, third.stale, third.misses), (18, 2, 0));
    assert_eq!(calls.load(Ordering::Relaxed), 22);
    assert_eq!(third.values[3].as_of(), t(101));
    assert!(cache.get(&moved[3].key, t(101)).await.is_hit());
}

pub(crate) async fn concurrent_readers_and_writers<C: FeatureCache>(cache: &C) {
    let keys: Vec<EntityKey> = (0..64).map(|i| key(&format!("10.3.0.{i}"))).collect();
    let tasks = (0..8).map(|worker| {
        let keys = &keys;
        async move {
            for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 8 == worker) {
                assert!(cache.put(k, value(t(0), &[i as f32; 100])).await);
                assert_eq!(cache.get(k, t(0)).await.hit().unwrap().values()[0], i as f32);
            }
        }
    });
    futures::future::join_all(tasks).await;
    let requests: Vec<_> = keys.iter().map(|k| (k, t(0))).collect();
    assert!(cache.get_many(&requests).await.iter().all(Lookup::is_hit));
}
