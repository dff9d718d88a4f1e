//! Feature-cache latency: in-memory hits (synchronous and through the async trait) and Redis
//! single and 100-entity batch reads on loopback, against a `redis-server` of its own.
//!
//! `cargo bench -p vigil-store --bench cache`

use std::hint::black_box;
use std::io::Write;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::Timestamp;
use tokio::runtime::Runtime;
use vigil_store::{
    EntityKey, FeatureCache, FeatureValue, MemoryCache, MemoryConfig, RedisCache, RedisConfig,
};

#[path = "../tests/it/redis_server.rs"]
mod redis_server;

const ENTITIES: usize = 10_000;
const WIDTH: usize = 100;

fn keys() -> Vec<EntityKey> {
    (0..ENTITIES)
        .map(|i| {
            EntityKey::new("v1", "ip", format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
                .unwrap()
        })
        .collect()
}

fn value(i: usize) -> Arc<FeatureValue> {
    Arc::new(FeatureValue::new(
        Timestamp::UNIX_EPOCH,
        (0..WIDTH).map(|j| (i * WIDTH + j) as f32).collect(),
    ))
}

/// Drives a future that is ready at once (the memory cache's), without a runtime.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the memory cache never awaits"),
    }
}

fn next(counter: &AtomicUsize) -> usize {
    counter.fetch_add(1, Relaxed) % ENTITIES
}

fn memory(c: &mut Criterion) {
    let cache = MemoryCache::new(MemoryConfig::default());
    let keys = keys();
    for (i, key) in keys.iter().enumerate() {
        cache.store(key, value(i));
    }
    let missing = EntityKey::new("v1", "ip", "192.0.2.1").unwrap();
    let counter = AtomicUsize::new(0);
    let mut group = c.benchmark_group("memory");
    group.bench_function("hit_lookup", |b| {
        b.iter(|| black_box(cache.lookup(&keys[next(&counter)], Timestamp::UNIX_EPOCH)));
    });
    group.bench_function("hit_trait_get", |b| {
        b.iter(|| black_box(now(cache.get(&keys[next(&counter)], Timestamp::UNIX_EPOCH))));
    });
    group.bench_function("miss", |b| {
        b.iter(|| black_box(cache.lookup(&missing, Timestamp::UNIX_EPOCH)));
    });
    let batch: Vec<_> = keys[..100].iter().map(|k| (k, Timestamp::UNIX_EPOCH)).collect();
    group.throughput(Throughput::Elements(100));
    group.bench_function("get_many_100", |b| b.iter(|| black_box(now(cache.get_many(&batch)))));
    group.finish();
}

/// Runs `iters` calls of `call` in a task on the runtime (as a server handler would, on a
/// worker thread) and returns the elapsed time.
fn in_task<F, Fut>(runtime: &Runtime, iters: u64, mut call: F) -> Duration
where
    F: FnMut(usize) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    runtime.block_on(async move {
        tokio::spawn(async move {
            let start = Instant::now();
            for i in 0..iters {
                call(i as usize).await;
            }
            start.elapsed()
        })
        .await
        .unwrap()
    })
}

fn redis(c: &mut Criterion) {
    let server = redis_server::RedisServer::start();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cache = runtime.block_on(RedisCache::connect(RedisConfig::new(server.url()))).unwrap();
    let keys = Arc::new(keys());
    let values: Arc<Vec<_>> = Arc::new((0..ENTITIES).map(value).collect());
    for chunk in keys.iter().zip(values.iter()).collect::<Vec<_>>().chunks(1000) {
        let entries: Vec<_> = chunk.iter().map(|(k, v)| (*k, Arc::clone(v))).collect();
        assert_eq!(runtime.block_on(cache.put_many(&entries)), entries.len());
    }
    let reads_before = cache.stats().read_latency;
    let mut group = c.benchmark_group("redis");
    group.bench_function("get_hit", |b| {
        b.iter_custom(|iters| {
            let (cache, keys) = (cache.clone(), Arc::clone(&keys));
            in_task(&runtime, iters, move |i| {
                let (cache, keys) = (cache.clone(), Arc::clone(&keys));
                async move {
                    black_box(cache.get(&keys[i % ENTITIES], Timestamp::UNIX_EPOCH).await);
                }
            })
        });
    });
    group.bench_function("put", |b| {
        b.iter_custom(|iters| {
            let (cache, keys, values) = (cache.clone(), Arc::clone(&keys), Arc::clone(&values));
            in_task(&runtime, iters, move |i| {
                let (cache, keys, values) = (cache.clone(), Arc::clone(&keys), Arc::clone(&values));
                async move {
                    let i = i % ENTITIES;
                    black_box(cache.put(&keys[i], Arc::clone(&values[i])).await);
                }
            })
        });
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("get_many_100", |b| {
        b.iter_custom(|iters| {
            let (cache, keys) = (cache.clone(), Arc::clone(&keys));
            in_task(&runtime, iters, move |i| {
                let (cache, keys) = (cache.clone(), Arc::clone(&keys));
                async move {
                    let start = i * 100 % ENTITIES;
                    let batch: Vec<_> = keys[start..start + 100]
                        .iter()
                        .map(|k| (k, Timestamp::UNIX_EPOCH))
                        .collect();
                    black_box(cache.get_many(&batch).await);
                }
            })
        });
    });
    group.bench_function("put_many_100", |b| {
        b.iter_custom(|iters| {
            let (cache, keys, values) = (cache.clone(), Arc::clone(&keys), Arc::clone(&values));
            in_task(&runtime, iters, move |i| {
                let (cache, keys, values) = (cache.clone(), Arc::clone(&keys), Arc::clone(&values));
                async move {
                    let start = i * 100 % ENTITIES;
                    let entries: Vec<_> =
                        (start..start + 100).map(|i| (&keys[i], Arc::clone(&values[i]))).collect();
                    black_box(cache.put_many(&entries).await);
                }
            })
        });
    });
    group.finish();
    // The cache's own per-call histogram, and whether any call timed out (a loaded machine can
    // stall a call past the 50 ms timeout: that is a miss, not a failure of the benchmark).
    let stats = cache.stats();
    let reads = &stats.read_latency;
    let _ = writeln!(
        std::io::stderr(),
        "redis cache: {} reads (before benches: {}), p50 {:?}, p99 {:?}, max {:?}; hits {}, misses {}, errors {}, dropped writes {}",
        reads.count(),
        reads_before.count(),
        reads.quantile(0.5),
        reads.quantile(0.99),
        reads.max(),
        stats.hits,
        stats.misses,
        stats.errors,
        stats.dropped_writes,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = memory, redis
}
criterion_main!(benches);
