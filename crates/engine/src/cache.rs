//! The feature cache a configuration asks for: Redis when `redis` is set, else in memory.

use std::time::Duration;

use vigil_store::{AnyCache, Freshness, MemoryCache, MemoryConfig, RedisCache, RedisConfig};

use crate::config::Config;
use crate::{EngineError, Result};

/// Opens the cache of `config`. An unreachable Redis is not an error: the engine serves
/// degraded (every lookup a miss) until it is reachable.
pub(crate) async fn open(config: &Config) -> Result<AnyCache> {
    let freshness =
        Freshness { ttl: Duration::from_secs(config.cache.ttl_secs), ..Freshness::default() };
    Ok(match &config.redis {
        Some(url) => {
            let mut redis = RedisConfig::new(url.clone());
            redis.timeout = Duration::from_millis(config.cache.redis_timeout_ms.max(1));
            redis.key_prefix.clone_from(&config.cache.redis_key_prefix);
            redis.freshness = freshness;
            let cache = RedisCache::connect(redis).await.map_err(|e| EngineError::Config {
                reason: format!("invalid redis configuration: {e}"),
            })?;
            if cache.is_connected() {
                tracing::info!("feature cache: redis");
            } else {
                tracing::warn!(
                    "feature cache: redis is not reachable yet; serving degraded (misses) until it is"
                );
            }
            AnyCache::Redis(cache)
        }
        None => AnyCache::Memory(MemoryCache::new(MemoryConfig {
            max_entries: config.cache.max_entries,
            max_bytes: config.cache.max_bytes,
            freshness,
            ..MemoryConfig::default()
        })),
    })
}
