//! The cache suite on Redis, the key and value layout in Redis, and the failure modes: a
//! killed server, a frozen server, a server down at startup, corrupt values.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fred::bytes::Bytes;
use fred::prelude::{Builder, Client, ClientLike, Config, KeysInterface};
use jiff::Timestamp;
use vigil_store::{
    EntityKey, FeatureCache, FeatureValue, Lookup, RedisCache, RedisConfig, Scope, StoreError,
    decode_value, encode_value,
};

use crate::cache_suite::{FRESHNESS, Harness};
use crate::redis_server::{RedisCluster, RedisSentinel, RedisServer};

fn config(server: &RedisServer) -> RedisConfig {
    RedisConfig {
        freshness: FRESHNESS,
        reconnect_max_delay: Duration::from_millis(200),
        ..RedisConfig::new(server.url())
    }
}

async fn harness() -> Harness<RedisCache> {
    let server = RedisServer::start();
    let cache = RedisCache::connect(config(&server)).await.unwrap();
    assert!(cache.is_connected());
    Harness { cache, _guard: Some(server) }
}

cache_suite_all!();

/// Cluster mode takes other code paths (pipelined GETs instead of MGET, SCAN on every node,
/// one UNLINK per key): the whole suite runs against a real three-node cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_passes_the_suite() {
    let cluster = RedisCluster::start();
    let url = cluster.url();
    crate::cache_suite::run_all(|test| {
        let config = RedisConfig {
            key_prefix: format!("suite{test}"),
            freshness: FRESHNESS,
            ..RedisConfig::new(url.clone())
        };
        async move {
            let cache = RedisCache::connect(config).await.unwrap();
            assert!(cache.is_connected());
            cache
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_sentinel_passes_the_suite() {
    let master = RedisServer::start();
    let sentinel = RedisSentinel::start(&master);
    let url = sentinel.url();
    crate::cache_suite::run_all(|test| {
        let config = RedisConfig {
            key_prefix: format!("suite{test}"),
            freshness: FRESHNESS,
            ..RedisConfig::new(url.clone())
        };
        async move {
            let cache = RedisCache::connect(config).await.unwrap();
            assert!(cache.is_connected());
            cache
        }
    })
    .await;
    // The values went to the monitored server.
    let written: i64 = raw(&master).await.exists("suite10:v1:ip:10.3.0.0").await.unwrap();
    assert_eq!(written, 1);
}

/// A plain client, to look at what the cache wrote.
async fn raw(server: &RedisServer) -> Client {
    let client = Builder::from_config(Config::from_url(&server.url()).unwrap()).build().unwrap();
    client.init().await.unwrap();
    client
}

fn key(id: &str) -> EntityKey {
    EntityKey::new("v1", "ip", id).unwrap()
}

fn value(values: &[f32]) -> Arc<FeatureValue> {
    Arc::new(FeatureValue::new(Timestamp::UNIX_EPOCH, values.to_vec()))
}

/// The timeout of the failure tests, and the slack a loaded 2-core CI machine needs on top.
const TIMEOUT: Duration = Duration::from_millis(50);
const SLACK: Duration = Duration::from_millis(50);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_layout_value_format_and_expiry() {
    let server = RedisServer::start();
    let cache = RedisCache::connect(config(&server)).await.unwrap();
    let k = key("203.0.113.7");
    let v = value(&[0.5; 100]);
    assert!(cache.put(&k, Arc::clone(&v)).await);
    assert_eq!(cache.redis_key(&k), "vigil:features:v1:ip:203.0.113.7");

    let redis = raw(&server).await;
    let bytes: Bytes = redis.get("vigil:features:v1:ip:203.0.113.7").await.unwrap();
    assert_eq!(bytes.len(), 432, "compact: 32 header/checksum bytes + 100 f32");
    let (schema, stored) = decode_value(&bytes).unwrap();
    assert_eq!((schema.as_str(), &stored), ("v1", &*v));
    let pttl: i64 = redis.pttl("vigil:features:v1:ip:203.0.113.7").await.unwrap();
    let retention = (FRESHNESS.ttl + FRESHNESS.grace).as_millis() as i64;
    assert!(
        pttl > retention - 1000 && pttl <= retention,
        "PTTL {pttl} ms, retention {retention} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_is_configurable_and_scan_removes_only_its_keys() {
    let server = RedisServer::start();
    let cache = RedisCache::connect(RedisConfig { key_prefix: "t:f".into(), ..config(&server) })
        .await
        .unwrap();
    let redis = raw(&server).await;
    redis.set::<(), _, _>("other:app", "x", None, None, false).await.unwrap();
    redis.set::<(), _, _>("t:fx:v1:ip:1", "x", None, None, false).await.unwrap();

    // Enough keys for several SCAN pages.
    let keys: Vec<EntityKey> =
        (0..2500).map(|i| key(&format!("10.{}.{}.1", i / 256, i % 256))).collect();
    let v = value(&[1.0; 8]);
    let entries: Vec<_> = keys.iter().map(|k| (k, Arc::clone(&v))).collect();
    assert_eq!(cache.put_many(&entries).await, 2500);
    assert_eq!(cache.redis_key(&keys[0]), "t:f:v1:ip:10.0.0.1");
    assert_eq!(cache.invalidate_all(&Scope::All).await.unwrap(), 2500);
    let left: i64 = redis.exists(vec!["other:app", "t:fx:v1:ip:1"]).await.unwrap();
    assert_eq!(left, 2, "keys outside the prefix survive");
    assert!(cache.get(&keys[1234], Timestamp::UNIX_EPOCH).await.is_miss());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_or_foreign_values_are_counted_misses() {
    let server = RedisServer::start();
    let cache = RedisCache::connect(config(&server)).await.unwrap();
    let redis = raw(&server).await;
    let k = key("192.0.2.9");
    let at = cache.redis_key(&k);
    let good =
        encode_value("v1", &FeatureValue::new(Timestamp::UNIX_EPOCH, vec![1.0, 2.0])).unwrap();
    let other_schema =
        encode_value("v2", &FeatureValue::new(Timestamp::UNIX_EPOCH, vec![1.0])).unwrap();
    let seed_json = br#"{"features":[1.0],"entity_id":"192.0.2.9","version":"v1.0"}"#.to_vec();
    for (i, bad) in
        [seed_json, other_schema, good[..good.len() - 3].to_vec()].into_iter().enumerate()
    {
        redis.set::<(), _, _>(at.as_str(), Bytes::from(bad), None, None, false).await.unwrap();
        assert_eq!(cache.get(&k, Timestamp::UNIX_EPOCH).await, Lookup::Miss);
        assert_eq!(cache.stats().corrupt, i as u64 + 1);
    }
    redis.set::<(), _, _>(at.as_str(), Bytes::from(good), None, None, false).await.unwrap();
    assert!(cache.get(&k, Timestamp::UNIX_EPOCH).await.is_hit());
    let s = cache.stats();
    assert_eq!((s.misses, s.hits, s.errors), (3, 1, 0));
}

/// Every call while Redis is gone or frozen: a miss or a dropped write, within the timeout.
async fn assert_degraded(cache: &RedisCache, rounds: usize) {
    let k = key("192.0.2.50");
    let batch: Vec<EntityKey> = (0..100).map(|i| key(&format!("10.9.0.{i}"))).collect();
    let requests: Vec<_> = batch.iter().map(|k| (k, Timestamp::UNIX_EPOCH)).collect();
    for round in 0..rounds {
        let start = Instant::now();
        assert_eq!(cache.get(&k, Timestamp::UNIX_EPOCH).await, Lookup::Miss, "round {round}");
        assert!(
            start.elapsed() <= TIMEOUT + SLACK,
            "get took {:?} in round {round}",
            start.elapsed()
        );
        let start = Instant::now();
        assert!(!cache.put(&k, value(&[1.0])).await, "round {round}");
        assert!(
            start.elapsed() <= TIMEOUT + SLACK,
            "put took {:?} in round {round}",
            start.elapsed()
        );
        let start = Instant::now();
        assert!(cache.get_many(&requests).await.iter().all(Lookup::is_miss));
        assert!(start.elapsed() <= TIMEOUT + SLACK, "get_many took {:?}", start.elapsed());
    }
}

/// Waits until a put and a get succeed again.
async fn assert_recovers(cache: &RedisCache) {
    let k = key("192.0.2.51");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if cache.put(&k, value(&[7.0])).await && cache.get(&k, Timestamp::UNIX_EPOCH).await.is_hit()
        {
            return;
        }
        assert!(Instant::now() < deadline, "no recovery within 10 s: {:?}", cache.stats());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_means_misses_and_dropped_writes_then_reconnects() {
    let mut server = RedisServer::start();
    let port = server.port();
    let cache =
        RedisCache::connect(RedisConfig { timeout: TIMEOUT, ..config(&server) }).await.unwrap();
    let k = key("192.0.2.50");
    assert!(cache.put(&k, value(&[1.0])).await);
    assert!(cache.get(&k, Timestamp::UNIX_EPOCH).await.is_hit());

    server.kill();
    assert_degraded(&cache, 30).await;
    let s = cache.stats();
    assert_eq!(s.dropped_writes, 30);
    assert!(s.errors >= 90, "every failed call is counted: {s:?}");
    assert!(cache.invalidate(&k).await.is_err(), "invalidation reports the outage");

    let _server = RedisServer::start_on(port);
    assert_recovers(&cache).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_server_costs_at_most_the_timeout_per_call() {
    let server = RedisServer::start();
    let cache =
        RedisCache::connect(RedisConfig { timeout: TIMEOUT, ..config(&server) }).await.unwrap();
    assert!(cache.put(&key("192.0.2.50"), value(&[1.0])).await);

    server.pause();
    let start = Instant::now();
    assert_degraded(&cache, 20).await;
    // The breaker opens after 3 timeouts: 20 rounds of 3 calls cost far less than 60 timeouts.
    assert!(start.elapsed() < TIMEOUT * 30, "{:?}", start.elapsed());
    match cache.invalidate_all(&Scope::All).await {
        Err(StoreError::Timeout { .. } | StoreError::Redis { .. }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(cache.stats().errors > 0);
    server.resume();
    assert_recovers(&cache).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_degraded_when_the_server_is_down_and_connects_later() {
    let mut server = RedisServer::start();
    let port = server.port();
    server.kill();
    let start = Instant::now();
    let cache = RedisCache::connect(RedisConfig {
        connect_timeout: Duration::from_millis(300),
        timeout: TIMEOUT,
        ..config(&server)
    })
    .await
    .unwrap();
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert!(!cache.is_connected());
    assert_degraded(&cache, 3).await;

    let _server = RedisServer::start_on(port);
    assert_recovers(&cache).await;
}

#[tokio::test]
async fn bad_configuration_is_an_error() {
    // None of these may reach a connection attempt (a Redis may listen on the default port).
    for url in ["not a url", "redis://127.0.0.1:99999", "redis-sentinel://127.0.0.1:26379"] {
        match RedisCache::connect(RedisConfig::new(url)).await {
            Err(StoreError::RedisConfig { .. }) => {}
            other => panic!("{url}: expected a configuration error, got {other:?}"),
        }
    }
    let bad_prefix =
        RedisConfig { key_prefix: String::new(), ..RedisConfig::new("redis://127.0.0.1") };
    assert!(matches!(RedisCache::connect(bad_prefix).await, Err(StoreError::InvalidKey { .. })));
}
