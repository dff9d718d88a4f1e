//! The Redis feature cache, on fred.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicI64, AtomicU32};
use std::time::{Duration, Instant};

use fred::bytes::Bytes;
use fred::prelude::{
    Builder, Client, ClientLike, Config, Expiration, KeysInterface, Options, Pool, ReconnectPolicy,
};
use fred::types::scan::Scanner;
use futures::StreamExt;
use jiff::Timestamp;

use crate::cache::stats::Counters;
use crate::cache::value::{decode_parts, encode_value};
use crate::cache::{
    CacheStats, EntityKey, FeatureCache, FeatureValue, Freshness, Lookup, Scope, micros, now_us,
    to_us,
};
use crate::{Result, StoreError};

/// How to reach Redis and how to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host[:port][/db]`; `redis-cluster://host:port?node=host:port`
    /// for Redis Cluster; `redis-sentinel://host:26379/db?sentinelServiceName=name&node=...`
    /// for Sentinel (fred's URL syntax). TLS schemes need a fred TLS feature, not enabled.
    pub url: String,
    /// Key prefix (default `vigil:features`): keys are
    /// `{prefix}:{schema}:{entity_type}:{entity_id}`.
    pub key_prefix: String,
    /// The longest any cache call waits for Redis (default 50 ms); per round trip for
    /// invalidations, which may take several.
    pub timeout: Duration,
    /// TCP connect timeout, and how long [`RedisCache::connect`] waits for the first
    /// connection (default 2 s).
    pub connect_timeout: Duration,
    /// Connections (default 2); commands are spread over them round-robin and pipelined on
    /// each.
    pub pool_size: usize,
    /// First reconnect delay (default 10 ms), doubled per failed attempt, plus up to 50 ms
    /// of jitter.
    pub reconnect_min_delay: Duration,
    /// Longest reconnect delay (default 2 s). Reconnection never gives up.
    pub reconnect_max_delay: Duration,
    /// After this many consecutive failed calls (timeouts or errors, default 3), calls skip
    /// Redis for `breaker_cooldown`, so a slow server costs one timeout per cooldown rather
    /// than one per call.
    pub breaker_failures: u32,
    /// How long calls skip Redis once the breaker opens (default 500 ms).
    pub breaker_cooldown: Duration,
    /// The freshness rule; Redis expires a key (`SET .. PXAT`) when it is gone by this rule.
    pub freshness: Freshness,
}

impl RedisConfig {
    /// The defaults above, for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: "vigil:features".into(),
            timeout: Duration::from_millis(50),
            connect_timeout: Duration::from_secs(2),
            pool_size: 2,
            reconnect_min_delay: Duration::from_millis(10),
            reconnect_max_delay: Duration::from_secs(2),
            breaker_failures: 3,
            breaker_cooldown: Duration::from_millis(500),
            freshness: Freshness::default(),
        }
    }
}

/// The feature cache in Redis: one compact binary value per entity (see
/// [`encode_value`](crate::encode_value)) under `{prefix}:{schema}:{entity_type}:{entity_id}`,
/// expiring with the freshness rule; batches in one round trip (MGET, or a pipeline on a
/// cluster); bulk invalidation by SCAN + UNLINK. Cloning is cheap and shares the connections.
///
/// When Redis is down or slow, reads are misses and writes are dropped (both counted), and
/// no call waits longer than [`RedisConfig::timeout`]; fred reconnects in the background
/// with exponential backoff.
#[derive(Clone)]
pub struct RedisCache {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    prefix: String,
    timeout: Duration,
    options: Options,
    clustered: bool,
    freshness: Freshness,
    counters: Counters,
    breaker: Breaker,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .field("clustered", &self.inner.clustered)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

/// Why a call did not reach Redis or did not get an answer.
enum CallError {
    Unavailable,
    Timeout,
    Redis(fred::error::Error),
}

impl RedisCache {
    /// Builds the client from `config`, starts connecting, and waits up to
    /// `config.connect_timeout` for the first connection. A server that is down is not an
    /// error (the cache starts degraded and connects when it can); an invalid URL or option
    /// is. Must be called within a tokio runtime.
    pub async fn connect(config: RedisConfig) -> Result<Self> {
        let bad = |reason: String| StoreError::RedisConfig { reason };
        if config.key_prefix.is_empty() || config.key_prefix.chars().any(char::is_control) {
            return Err(StoreError::InvalidKey {
                part: "key prefix",
                value: config.key_prefix,
                reason: "must be non-empty, without control characters",
            });
        }
        if config.timeout.is_zero() || config.pool_size == 0 {
            return Err(bad("timeout and pool_size must be positive".into()));
        }
        let mut fred_config = Config::from_url(&config.url).map_err(|e| bad(e.to_string()))?;
        // Retry the first connection too (fred gives up after one failed attempt otherwise):
        // a cache whose server is down at startup must connect when the server comes up.
        fred_config.fail_fast = false;
        let clustered = fred_config.server.is_clustered();
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let mut builder = Builder::from_config(fred_config);
        builder
            .with_performance_config(|p| {
                // fred's default is no timeout at all.
                p.default_command_timeout = config.timeout;
            })
            .with_connection_config(|c| {
                c.connection_timeout = config.connect_timeout;
                c.internal_command_timeout = config.connect_timeout;
                // A command caught by a dropped connection is not retried: it is a miss.
                c.max_command_attempts = 1;
                c.tcp.nodelay = Some(true);
            })
            .set_policy(ReconnectPolicy::new_exponential(
                0,
                ms(config.reconnect_min_delay).max(1),
                ms(config.reconnect_max_delay).max(1),
                2,
            ));
        let pool = builder.build_pool(config.pool_size).map_err(|e| bad(e.to_string()))?;
        // The connection tasks run until the runtime stops or `close` is called.
        drop(pool.connect());
        // Not connected in time is fine: the cache works degraded until it is.
        let _ = tokio::time::timeout(config.connect_timeout, pool.wait_for_connect()).await;
        let options = Options {
            timeout: Some(config.timeout),
            fail_fast: true,
            max_attempts: Some(1),
            ..Options::default()
        };
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                prefix: config.key_prefix,
                timeout: config.timeout,
                options,
                clustered,
                freshness: config.freshness,
                counters: Counters::default(),
                breaker: Breaker::new(config.breaker_failures, config.breaker_cooldown),
            }),
        })
    }

    /// True when every pooled connection is up.
    pub fn is_connected(&self) -> bool {
        self.inner.pool.clients().iter().all(ClientLike::is_connected)
    }

    /// Whether Redis answers now: a PING under the call timeout (it feeds the breaker like
    /// any call). An open breaker, a lost connection, an error or a timeout (a hung
    /// server) is an error: readiness reports the cache degraded.
    pub async fn health(&self) -> Result<()> {
        let client = self.client().map_err(|e| self.to_error("PING", e))?;
        self.call(client.ping::<String>(None))
            .await
            .map(|_| ())
            .map_err(|e| self.to_error("PING", e))
    }

    /// Closes the connections (pending calls fail, later calls are misses).
    pub async fn close(&self) {
        let _ = self.inner.pool.quit().await;
    }

    /// The Redis key of `key`: `{prefix}:{schema}:{entity_type}:{entity_id}`.
    pub fn redis_key(&self, key: &EntityKey) -> String {
        format!("{}:{}", self.inner.prefix, key.as_str())
    }

    /// A connected client to run one call on, unless the breaker is open or none is up.
    fn client(&self) -> Result<Client, CallError> {
        if !self.inner.breaker.allows() {
            return Err(CallError::Unavailable);
        }
        let client = self.inner.pool.next_connected();
        if client.is_connected() { Ok(client.clone()) } else { Err(CallError::Unavailable) }
    }

    /// Runs `call` under the timeout and feeds the breaker.
    async fn call<T, F>(&self, call: F) -> Result<T, CallError>
    where
        F: Future<Output = Result<T, fred::error::Error>>,
    {
        let outcome = match tokio::time::timeout(self.inner.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(CallError::Redis(e)),
            Err(_) => Err(CallError::Timeout),
        };
        match &outcome {
            Ok(_) => self.inner.breaker.success(),
            Err(_) => self.inner.breaker.failure(),
        }
        outcome
    }

    fn to_error(&self, op: &'static str, e: CallError) -> StoreError {
        match e {
            CallError::Unavailable => {
                StoreError::Redis { op, message: "not connected (or backing off)".into() }
            }
            CallError::Timeout => StoreError::Timeout { op, timeout: self.inner.timeout },
            CallError::Redis(e) => StoreError::Redis { op, message: e.to_string() },
        }
    }

    /// Turns one stored value into a lookup, counting it.
    fn judge(&self, key: &EntityKey, bytes: Option<Bytes>, newest_event: i64, now: i64) -> Lookup {
        let lookup = match bytes {
            None => Lookup::Miss,
            Some(bytes) => match decode_parts(&bytes) {
                Ok((schema, value)) if schema == key.schema() => {
                    self.inner.freshness.classify(Arc::new(value), newest_event, now)
                }
                _ => {
                    self.inner.counters.corrupt.fetch_add(1, Relaxed);
                    Lookup::Miss
                }
            },
        };
        self.inner.counters.lookup(&lookup);
        lookup
    }

    fn failed_reads(&self, n: usize) -> Vec<Lookup> {
        let counters = &self.inner.counters;
        counters.errors.fetch_add(1, Relaxed);
        (0..n).map(|_| Lookup::Miss).inspect(|l| counters.lookup(l)).collect()
    }

    async fn fetch(&self, keys: Vec<String>) -> Result<Vec<Option<Bytes>>, CallError> {
        let client = self.client()?;
        let n = keys.len();
        let values = if self.inner.clustered {
            // MGET needs every key in one hash slot on a cluster; a pipeline of GETs does not.
            let pipeline = client.pipeline();
            self.call(async {
                for key in keys {
                    pipeline.get::<(), _>(key).await?;
                }
                pipeline.all::<Vec<Option<Bytes>>>().await
            })
            .await?
        } else if n == 1 {
            let key = keys.into_iter().next().unwrap_or_default();
            vec![self.call(client.with_options(&self.inner.options).get(key)).await?]
        } else {
            self.call(client.with_options(&self.inner.options).mget(keys)).await?
        };
        if values.len() == n {
            Ok(values)
        } else {
            Err(CallError::Redis(fred::error::Error::new(
                fred::error::ErrorKind::Protocol,
                format!("{} values for {n} keys", values.len()),
            )))
        }
    }

    async fn store(&self, entries: &[(&EntityKey, Arc<FeatureValue>)]) -> usize {
        let start = Instant::now();
        let counters = &self.inner.counters;
        let now_ms = now_us() / 1000;
        let mut writes = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let gone_at_ms = self.inner.freshness.gone_at_us(value.computed_at_us()) / 1000;
            if gone_at_ms <= now_ms {
                continue;
            }
            match encode_value(key.schema(), value) {
                Ok(bytes) => writes.push((self.redis_key(key), Bytes::from(bytes), gone_at_ms)),
                Err(_) => {
                    counters.dropped_writes.fetch_add(1, Relaxed);
                }
            }
        }
        let n = writes.len();
        if n == 0 {
            return 0;
        }
        let outcome = match self.client() {
            Err(e) => Err(e),
            Ok(client) if n == 1 => {
                let (key, bytes, at) = writes.pop().unwrap_or_default();
                let expire = Some(Expiration::PXAT(at));
                self.call(
                    client
                        .with_options(&self.inner.options)
                        .set::<(), _, _>(key, bytes, expire, None, false),
                )
                .await
            }
            Ok(client) => {
                let pipeline = client.pipeline();
                self.call(async {
                    for (key, bytes, at) in writes {
                        pipeline
                            .set::<(), _, _>(key, bytes, Some(Expiration::PXAT(at)), None, false)
                            .await?;
                    }
                    pipeline.all::<()>().await
                })
                .await
            }
        };
        let stored = if outcome.is_ok() {
            Counters::add(&counters.writes, n);
            n
        } else {
            counters.errors.fetch_add(1, Relaxed);
            Counters::add(&counters.dropped_writes, n);
            0
        };
        counters.write_latency.record_since(start);
        stored
    }

    async fn unlink(&self, client: &Client, keys: Vec<fred::types::Key>) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let removed: i64 = if self.inner.clustered {
            // Keys of one SCAN page may live in different slots: one UNLINK each.
            let pipeline = client.pipeline();
            let counts: Vec<i64> = self
                .call(async {
                    for key in keys {
                        pipeline.unlink::<(), _>(key).await?;
                    }
                    pipeline.all().await
                })
                .await
                .map_err(|e| self.to_error("unlink", e))?;
            counts.iter().sum()
        } else {
            self.call(client.unlink(keys)).await.map_err(|e| self.to_error("unlink", e))?
        };
        Ok(removed.max(0) as u64)
    }
}

/// Escapes Redis glob metacharacters.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl FeatureCache for RedisCache {
    async fn get(&self, key: &EntityKey, newest_event: Timestamp) -> Lookup {
        self.get_many(&[(key, newest_event)]).await.pop().unwrap_or(Lookup::Miss)
    }

    async fn get_many(&self, requests: &[(&EntityKey, Timestamp)]) -> Vec<Lookup> {
        if requests.is_empty() {
            return Vec::new();
        }
        let start = Instant::now();
        let keys = requests.iter().map(|(key, _)| self.redis_key(key)).collect();
        let lookups = match self.fetch(keys).await {
            Ok(values) => {
                let now = now_us();
                requests
                    .iter()
                    .zip(values)
                    .map(|((key, newest), bytes)| self.judge(key, bytes, to_us(*newest), now))
                    .collect()
            }
            Err(_) => self.failed_reads(requests.len()),
        };
        self.inner.counters.read_latency.record_since(start);
        lookups
    }

    async fn put(&self, key: &EntityKey, value: Arc<FeatureValue>) -> bool {
        self.store(&[(key, value)]).await == 1
    }

    async fn put_many(&self, entries: &[(&EntityKey, Arc<FeatureValue>)]) -> usize {
        self.store(entries).await
    }

    async fn invalidate(&self, key: &EntityKey) -> Result<bool> {
        let client = self.client().map_err(|e| self.to_error("unlink", e))?;
        let removed = self.unlink(&client, vec![self.redis_key(key).into()]).await?;
        Ok(removed > 0)
    }

    async fn invalidate_all(&self, scope: &Scope) -> Result<u64> {
        scope.check()?;
        let prefix = glob_escape(&self.inner.prefix);
        let pattern = match scope {
            Scope::All => format!("{prefix}:*"),
            Scope::Schema(schema) => format!("{prefix}:{schema}:*"),
            Scope::EntityType(entity_type) => format!("{prefix}:*:{entity_type}:*"),
            Scope::SchemaEntityType { schema, entity_type } => {
                format!("{prefix}:{schema}:{entity_type}:*")
            }
        };
        // `*` also matches `:`, so `{prefix}:*:ip:*` would match an entity id containing
        // ":ip:" under another type; keys are checked exactly before they are removed.
        let exact = |key: &fred::types::Key| -> bool {
            let Scope::EntityType(entity_type) = scope else { return true };
            key.as_str()
                .and_then(|k| k.strip_prefix(self.inner.prefix.as_str()))
                .and_then(|k| k.strip_prefix(':'))
                .and_then(|k| k.split_once(':'))
                .is_some_and(|(_, rest)| {
                    rest.strip_prefix(entity_type.as_str()).is_some_and(|r| r.starts_with(':'))
                })
        };
        let client = self.client().map_err(|e| self.to_error("scan", e))?;
        let mut pages = if self.inner.clustered {
            client.scan_cluster(pattern, Some(1000), None).boxed()
        } else {
            client.scan(pattern, Some(1000), None).boxed()
        };
        let mut removed = 0;
        loop {
            let page = match tokio::time::timeout(self.inner.timeout, pages.next()).await {
                Err(_) => {
                    return Err(StoreError::Timeout { op: "scan", timeout: self.inner.timeout });
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    return Err(StoreError::Redis { op: "scan", message: e.to_string() });
                }
                Ok(Some(Ok(page))) => page,
            };
            let mut page = page;
            let keys: Vec<_> =
                page.take_results().unwrap_or_default().into_iter().filter(exact).collect();
            removed += self.unlink(&client, keys).await?;
            page.next();
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

/// Opens after `threshold` consecutive failures and lets calls through again after the
/// cooldown (the next failures re-open it).
struct Breaker {
    threshold: u32,
    cooldown_us: i64,
    failures: AtomicU32,
    open_until_us: AtomicI64,
}

impl Breaker {
    fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown_us: micros(cooldown),
            failures: AtomicU32::new(0),
            open_until_us: AtomicI64::new(i64::MIN),
        }
    }

    fn allows(&self) -> bool {
        let open_until = self.open_until_us.load(Relaxed);
        open_until == i64::MIN || now_us() >= open_until
    }

    fn success(&self) {
        if self.failures.load(Relaxed) != 0 {
            self.failures.store(0, Relaxed);
        }
    }

    fn failure(&self) {
        if self.failures.fetch_add(1, Relaxed) + 1 >= self.threshold {
            self.failures.store(0, Relaxed);
            self.open_until_us.store(now_us().saturating_add(self.cooldown_us), Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(glob_escape("vigil:features"), "vigil:features");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

    #[test]
    fn breaker_opens_after_consecutive_failures_and_closes_after_cooldown() {
        let b = Breaker::new(2, Duration::from_millis(20));
        assert!(b.allows());
        b.failure();
        b.success();
        b.failure();
        assert!(b.allows(), "failures must be consecutive");
        b.failure();
        assert!(!b.allows());
        std::thread::sleep(Duration::from_millis(25));
        assert!(b.allows());
    }
}
