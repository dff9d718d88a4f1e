//! The cache suite on the in-memory cache, and what only it has.

use std::sync::Arc;

use jiff::Timestamp;
use vigil_store::{AnyCache, EntityKey, FeatureCache, FeatureValue, MemoryCache, MemoryConfig};

use crate::cache_suite::{FRESHNESS, Harness};

fn harness() -> std::future::Ready<Harness<MemoryCache>> {
    let cache = MemoryCache::new(MemoryConfig { freshness: FRESHNESS, ..MemoryConfig::default() });
    std::future::ready(Harness { cache, _guard: None })
}

cache_suite_all!();

#[test]
fn synchronous_lookup_and_store_match_the_trait() {
    let cache = MemoryCache::new(MemoryConfig::default());
    let key = EntityKey::new("v1", "ip", "192.0.2.1").unwrap();
    let value = Arc::new(FeatureValue::new(Timestamp::UNIX_EPOCH, vec![1.0; 100]));
    assert!(cache.lookup(&key, Timestamp::UNIX_EPOCH).is_miss());
    assert!(cache.store(&key, Arc::clone(&value)));
    assert_eq!(cache.lookup(&key, Timestamp::UNIX_EPOCH).hit(), Some(&value));
    // The trait's future is ready at once: no runtime needed to drive it.
    let mut get = std::pin::pin!(cache.get(&key, Timestamp::UNIX_EPOCH));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(matches!(get.as_mut().poll(&mut cx), std::task::Poll::Ready(l) if l.is_hit()));
}

#[tokio::test]
async fn any_cache_delegates() {
    let cache = AnyCache::Memory(MemoryCache::new(MemoryConfig::default()));
    let key = EntityKey::new("v1", "ip", "192.0.2.2").unwrap();
    assert!(cache.put(&key, Arc::new(FeatureValue::new(Timestamp::UNIX_EPOCH, vec![2.0]))).await);
    assert!(cache.get(&key, Timestamp::UNIX_EPOCH).await.is_hit());
    assert_eq!(cache.stats().hits, 1);
    assert!(cache.invalidate(&key).await.unwrap());
}
