//! The one configuration of server and worker: one TOML file, a section per concern. Every
//! key has a default, so no file is needed; each binary overlays its flags and environment
//! variables, and `vigil-server config` / `vigil-worker config` print the effective file.
//!
//! What training and serving must agree on (the window policy, the threat-intel feeds, the
//! trigger policy and the retrain recipe) exists here once, so they cannot drift apart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vigil_features::{Featurizer, FeedKind, Intel, WindowPolicy};
use vigil_retrain::{RetrainConfig, TriggerPolicy};

use crate::routing::{ReviewConfig, RoutingConfig};
use crate::{EngineError, Result};

/// Configured tokens must have at least this many characters.
pub const MIN_TOKEN_LEN: usize = 16;

/// Everything server and worker read at startup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The SQLite sample store (default `./var/vigil.db`).
    pub database: PathBuf,
    /// The model registry directory (default `./var/registry`).
    pub registry: PathBuf,
    /// A Redis URL for the feature cache; absent means the in-memory cache.
    pub redis: Option<String>,
    /// How often the registry's champion pointer is polled, in milliseconds (default 2000).
    pub reload_interval_ms: u64,
    /// The HTTP server (listen address, limits, tokens); the worker ignores it.
    pub server: ServerConfig,
    /// Per-entity event windows: the window policy of serving and training, and bounds.
    pub windows: WindowConfig,
    /// The feature cache.
    pub cache: CacheConfig,
    /// Recent predictions kept for feedback by id.
    pub predictions: PredictionConfig,
    /// Where each verdict goes (autonomous, council, human).
    pub routing: RoutingConfig,
    /// Kept predictions and the review queue.
    pub reviews: ReviewConfig,
    /// Threat-intel feed files, loaded by serving and training alike.
    pub intel: IntelConfig,
    /// How inputs are read: the time zones of sensors that write times without an offset.
    pub input: InputConfig,
    /// The learning loop: base data, triggers, the retrain recipe, the first champion.
    pub learning: LearningConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database: PathBuf::from("./var/vigil.db"),
            registry: PathBuf::from("./var/registry"),
            redis: None,
            reload_interval_ms: 2000,
            server: ServerConfig::default(),
            windows: WindowConfig::default(),
            cache: CacheConfig::default(),
            predictions: PredictionConfig::default(),
            routing: RoutingConfig::default(),
            reviews: ReviewConfig::default(),
            intel: IntelConfig::default(),
            input: InputConfig::default(),
            learning: LearningConfig::default(),
        }
    }
}

/// `[input]`: how event times written without a UTC offset are read (T-Pot's Tanner,
/// Heralding and Elasticpot write them so). Never the server's local zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputConfig {
    /// The IANA zone of such times (`UTC`, `Europe/Prague`; a fixed offset as `Etc/GMT-2`,
    /// IANA's sign), for every format not named in `time_zones` (default `UTC`). The zone
    /// database is built in, so the machine's own files do not matter.
    pub time_zone: String,
    /// A zone per format name (`tanner = "Europe/Prague"`): a sensor that writes its local
    /// time.
    pub time_zones: std::collections::BTreeMap<String, String>,
}

impl Default for InputConfig {
    fn default() -> Self {
        Self { time_zone: "UTC".into(), time_zones: std::collections::BTreeMap::new() }
    }
}

impl InputConfig {
    /// The parse options of this configuration, accepting events up to `not_after`; an
    /// unknown zone or format name is an error naming the key and the value.
    pub fn parse_options(
        &self,
        not_after: Option<vigil_features::Timestamp>,
    ) -> Result<vigil_features::ParseOptions> {
        let zone = |key: &str, name: &str| {
            let name = name.trim();
            jiff::tz::TimeZone::get(name).map_err(|e| EngineError::Config {
                reason: format!("{key} = {name:?} is not a time zone: {e}"),
            })
        };
        let mut zones = Vec::new();
        for (format, name) in &self.time_zones {
            let key = format!("input.time_zones.{format}");
            let f: vigil_features::Format = format
                .parse()
                .map_err(|e| EngineError::Config { reason: format!("{key}: {e}") })?;
            zones.push((f, zone(&key, name)?));
        }
        Ok(vigil_features::ParseOptions {
            not_after,
            time_zone: Some(zone("input.time_zone", &self.time_zone)?),
            zones,
        })
    }
}

/// The HTTP server's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Request limits.
    pub limits: Limits,
    /// Bearer tokens.
    pub auth: AuthConfig,
    /// Accept `/v1/events` without a token (default false). For labs only: anyone who can
    /// reach the port can then fill the windows and the ledger. Warned about at startup.
    pub open_ingest: bool,
    /// POST each new review item to this receiver (default: none).
    pub webhook: Option<WebhookConfig>,
}

/// `[server.webhook]`: where new review items are POSTed (JSON, the item as `GET
/// /v1/reviews` lists it), signed, retried with backoff, from a bounded queue that never
/// holds up scoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://host[:port]/path` (plain HTTP: a receiver on the host or the internal
    /// network, or a TLS-terminating proxy; `https` is refused).
    pub url: String,
    /// Sent as `Authorization: Bearer <bearer>`, if set.
    pub bearer: Option<String>,
    /// Signs each body: `X-Vigil-Signature: sha256=<hex HMAC-SHA256(key, body)>`, if set.
    pub hmac_key: Option<String>,
    /// Items waiting at most (default 1000); beyond, new items skip the webhook (they stay
    /// in the review queue).
    pub queue: usize,
    /// Attempts per item (default 6).
    pub max_attempts: u32,
    /// Each attempt's timeout, in milliseconds (default 2000).
    pub timeout_ms: u64,
    /// The first retry's delay, doubled after each failure up to `max_backoff_ms`
    /// (defaults 200 and 30,000).
    pub backoff_ms: u64,
    /// The longest delay between attempts, in milliseconds.
    pub max_backoff_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            bearer: None,
            hmac_key: None,
            queue: 1000,
            max_attempts: 6,
            timeout_ms: 2000,
            backoff_ms: 200,
            max_backoff_ms: 30_000,
        }
    }
}

impl WebhookConfig {
    /// The receiver's host, port and path-and-query, or why the URL is refused.
    pub fn target(&self) -> Result<(String, u16, String)> {
        let bad = |why: &str| EngineError::Config {
            reason: format!("server.webhook.url {:?}: {why}", self.url),
        };
        let rest = self
            .url
            .strip_prefix("http://")
            .ok_or_else(|| bad("must start with http:// (https is not supported: use a proxy)"))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        // `[v6]`, `[v6]:port`, `host`, `host:port`; a bare IPv6 address needs brackets.
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            if after.is_empty() {
                (host, 80)
            } else {
                let port = after.strip_prefix(':').ok_or_else(|| bad("bad port"))?;
                (host, port.parse::<u16>().map_err(|_| bad("bad port"))?)
            }
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad("bad port"))?),
                None => (authority, 80),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@')
        {
            return Err(bad("no host"));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("spaces or control characters in the path"));
        }
        let path = if path.is_empty() { "/" } else { path };
        Ok((host.to_owned(), port, path.to_owned()))
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            limits: Limits::default(),
            auth: AuthConfig::default(),
            open_ingest: false,
            webhook: None,
        }
    }
}

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted request body in bytes (default 1 MiB); larger gets 413. Bigger
    /// batches raise the peak memory of a request, and the allocator keeps much of a peak:
    /// ingesting a 49 MB Cowrie log left 46 MB RSS in 1 MiB batches, 80 MB in 4 MiB ones.
    pub max_body_bytes: usize,
    /// Most events one `/v1/events` or `/v1/score` request may carry (default 10,000);
    /// more gets 413 and nothing of the batch is applied.
    pub max_events_per_request: usize,
    /// Whole-request timeout in milliseconds (default 10,000); a slower request gets 408.
    pub request_timeout_ms: u64,
    /// A client has this many milliseconds to send a request's headers (default 10,000),
    /// also while an idle keep-alive connection waits for its next request; then the
    /// connection is closed (slow-header clients cannot hold connections open).
    pub header_timeout_ms: u64,
    /// Most open connections (default 1024); further connections are closed at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_events_per_request: 10_000,
            request_timeout_ms: 10_000,
            header_timeout_ms: 10_000,
            max_connections: 1024,
        }
    }
}

/// Bearer tokens. Admin tokens grant everything; ingest tokens `/v1/events` and scoring;
/// feedback tokens feedback and scoring; score tokens scoring. Scoring is open unless
/// `score_tokens` is non-empty; ingest needs a token unless `server.open_ingest`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens for every route.
    pub admin_tokens: Vec<String>,
    /// Tokens for `/v1/events` (and scoring): what log shippers use.
    pub ingest_tokens: Vec<String>,
    /// Tokens for `/v1/feedback` (and scoring).
    pub feedback_tokens: Vec<String>,
    /// Tokens for scoring; when empty, scoring needs no token.
    pub score_tokens: Vec<String>,
    /// When no admin or feedback token is configured, the admin token is read from this
    /// file, or generated into it (mode 0600) on first start. Default `admin.token` beside
    /// the database.
    pub token_file: Option<PathBuf>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("admin_tokens", &self.admin_tokens.len())
            .field("ingest_tokens", &self.ingest_tokens.len())
            .field("feedback_tokens", &self.feedback_tokens.len())
            .field("score_tokens", &self.score_tokens.len())
            .field("token_file", &self.token_file)
            .finish()
    }
}

/// The window policy (shared with training) and the bounds of all windows together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowConfig {
    /// Most events kept per entity, the newest (default 1000). Part of the window policy.
    pub max_events_per_entity: usize,
    /// Events older than this many seconds before the entity's newest event are dropped
    /// (default 86,400: 24 h, the longest feature window). Part of the window policy.
    pub horizon_secs: u64,
    /// Most bytes of events kept per entity, the newest (default 2 MiB). Part of the window
    /// policy.
    pub max_bytes_per_entity: usize,
    /// Most entities kept (default 10,000); see the admission rule in `docs/CONFIG.md`.
    pub max_entities: usize,
    /// Most events kept over all entities (default 50,000: about 25 MB of Cowrie events);
    /// whole entities are evicted to stay under it.
    pub max_total_events: usize,
    /// Most bytes of events kept over all entities (default 64 MiB); whole entities are
    /// evicted to stay under it.
    pub max_total_bytes: usize,
    /// Events stamped later than the clock plus this many seconds are rejected (default
    /// 300): one event from the future would otherwise hold its window's horizon there.
    pub max_clock_skew_secs: u64,
}

impl Default for WindowConfig {
    fn default() -> Self {
        let policy = WindowPolicy::default();
        Self {
            max_events_per_entity: policy.max_events,
            horizon_secs: policy.horizon_secs,
            max_bytes_per_entity: policy.max_bytes,
            max_entities: 10_000,
            max_total_events: 50_000,
            max_total_bytes: 64 << 20,
            max_clock_skew_secs: 300,
        }
    }
}

impl WindowConfig {
    /// The window policy, as training uses it too.
    pub fn policy(&self) -> WindowPolicy {
        WindowPolicy {
            horizon_secs: self.horizon_secs,
            max_events: self.max_events_per_entity,
            max_bytes: self.max_bytes_per_entity,
        }
    }

    /// The latest event time accepted now: the clock plus `max_clock_skew_secs`.
    pub fn not_after(&self) -> vigil_features::Timestamp {
        let skew =
            i64::try_from(self.max_clock_skew_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
        let now = jiff::Timestamp::now().as_microsecond();
        vigil_features::Timestamp::from_micros(now.saturating_add(skew))
            .unwrap_or(vigil_features::Timestamp::MAX)
    }
}

/// The feature cache (in memory unless `redis` is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Most entries of the in-memory cache (default 20,000).
    pub max_entries: usize,
    /// Most bytes of the in-memory cache (default 16 MiB).
    pub max_bytes: usize,
    /// Seconds a cached value is fresh (default 900).
    pub ttl_secs: u64,
    /// Per-call Redis timeout in milliseconds (default 50).
    pub redis_timeout_ms: u64,
    /// Redis key prefix (default `vigil:features`). Servers sharing one Redis must each own
    /// their entities (route events by source IP) or use different prefixes: windows are
    /// per server.
    pub redis_key_prefix: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_entries: 20_000,
            max_bytes: 16 << 20,
            ttl_secs: 900,
            redis_timeout_ms: 50,
            redis_key_prefix: "vigil:features".into(),
        }
    }
}

/// Recent predictions kept so that feedback needs only the prediction id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PredictionConfig {
    /// How many (default 10,000, about 5 MB); the oldest go first.
    pub capacity: usize,
}

impl Default for PredictionConfig {
    fn default() -> Self {
        Self { capacity: 10_000 }
    }
}

/// Threat-intel feed files (formats: see vigil-features `FeedKind`); all optional. Serving
/// and training load the same files, so the six intel features mean the same in both.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntelConfig {
    /// Tor exit list (FireHOL netset or the Tor Project's exit-addresses).
    pub tor_exits: Option<PathBuf>,
    /// Botnet C2 list (Feodo CSV).
    pub c2: Option<PathBuf>,
    /// Block lists (FireHOL netsets), one feed each.
    pub blocklists: Vec<PathBuf>,
    /// AbuseIPDB-style reputation CSV.
    pub reputation: Option<PathBuf>,
    /// ip2asn TSV.
    pub asn: Option<PathBuf>,
    /// Per-ASN reputation CSV.
    pub asn_reputation: Option<PathBuf>,
    /// Domain creation dates.
    pub domain_ages: Option<PathBuf>,
}

impl IntelConfig {
    /// Every configured feed, as (kind, path).
    pub fn feeds(&self) -> Vec<(FeedKind, &Path)> {
        let single = [
            (FeedKind::TorExits, &self.tor_exits),
            (FeedKind::C2, &self.c2),
            (FeedKind::Reputation, &self.reputation),
            (FeedKind::Asn, &self.asn),
            (FeedKind::AsnReputation, &self.asn_reputation),
            (FeedKind::DomainAges, &self.domain_ages),
        ];
        single
            .into_iter()
            .filter_map(|(kind, path)| path.as_deref().map(|p| (kind, p)))
            .chain(self.blocklists.iter().map(|p| (FeedKind::Blocklist, p.as_path())))
            .collect()
    }

    /// Loads every configured feed; the first that fails is an error naming it.
    pub fn load(&self) -> Result<Intel> {
        let intel = Intel::new();
        for (kind, path) in self.feeds() {
            intel.load(kind, path).map_err(|source| EngineError::Feed {
                kind: kind.to_string(),
                path: path.to_path_buf(),
                source,
            })?;
            tracing::info!(feed = %kind, path = %path.display(), "threat-intel feed loaded");
        }
        Ok(intel)
    }
}

/// The learning loop. The worker runs it; the server reports its state and bootstraps the
/// first champion with the same settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningConfig {
    /// The base training data: labelled events (simulator JSONL, written by the bootstrap
    /// when missing) or a features CSV (default `./var/base-events.jsonl`). Empty: none.
    pub base: PathBuf,
    /// Where run reports go (default `./var/reports`).
    pub reports: PathBuf,
    /// Minutes between the worker's trigger checks (default 60).
    pub interval_minutes: u64,
    /// Seconds from the worker's start to its first check (default 10).
    pub first_check_seconds: u64,
    /// How many recent retrain jobs the status lists (default 10).
    pub recent_jobs: usize,
    /// When to retrain.
    pub triggers: TriggerPolicy,
    /// How to retrain (recipe, holdout, gate); the bootstrap uses it too.
    pub retrain: RetrainConfig,
    /// The first champion, when the registry has none.
    pub bootstrap: BootstrapConfig,
}

impl Default for LearningConfig {
    fn default() -> Self {
        Self {
            base: PathBuf::from("./var/base-events.jsonl"),
            reports: PathBuf::from("./var/reports"),
            interval_minutes: 60,
            first_check_seconds: 10,
            recent_jobs: 10,
            triggers: TriggerPolicy::default(),
            retrain: RetrainConfig::default(),
            bootstrap: BootstrapConfig::default(),
        }
    }
}

/// The one-time bootstrap: with no champion in the registry, simulate labelled events into
/// `learning.base` (unless the file exists), train a first champion on them with
/// `learning.retrain`, and promote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapConfig {
    /// Bootstrap at all (default true).
    pub enabled: bool,
    /// Simulated entities (default 3000).
    pub entities: usize,
    /// Simulator difficulty 0..=3 (default 1).
    pub difficulty: u8,
    /// Simulator seed (default 7).
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self { enabled: true, entities: 3000, difficulty: 1, seed: 7 }
    }
}

impl Config {
    /// The defaults with every path under `dir`: `vigil.db`, `registry/`,
    /// `base-events.jsonl`, `reports/` (what `./var` holds by default).
    pub fn rooted_at(dir: &Path) -> Self {
        let mut config = Self {
            database: dir.join("vigil.db"),
            registry: dir.join("registry"),
            ..Self::default()
        };
        config.learning.base = dir.join("base-events.jsonl");
        config.learning.reports = dir.join("reports");
        config
    }

    /// This configuration for replaying a whole log offline (tools, evaluations): the
    /// sample store under `dir`, no Redis, no bootstrap, no kept predictions (no review
    /// queue), and windows without memory bounds, so that no source is evicted mid-log (the
    /// window policy is unchanged).
    pub fn for_replay(mut self, dir: &Path) -> Self {
        self.database = dir.join("vigil.db");
        self.redis = None;
        self.learning.bootstrap.enabled = false;
        self.reviews.keep_predictions = false;
        self.windows.max_entities = usize::MAX / 4;
        self.windows.max_total_events = usize::MAX / 4;
        self.windows.max_total_bytes = usize::MAX / 4;
        self
    }

    /// The file at `path` if one is given, else the defaults: what every binary starts from
    /// before its flags.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        path.map_or_else(|| Ok(Self::default()), Self::from_file)
    }

    /// Reads a TOML file; unknown keys are errors naming the key and the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let fail = |reason: String| EngineError::Config { reason };
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml(&text).map_err(|e| fail(format!("{}: {e}", path.display())))
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| EngineError::Config { reason: e.to_string() })
    }

    /// The effective configuration as TOML (tokens included: print it only to the operator).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// Errors for values that cannot work (zero limits, short tokens, bad policies).
    pub fn check(&self) -> Result<()> {
        let fail = |reason: String| Err(EngineError::Config { reason });
        self.input.parse_options(None)?;
        let positive = [
            ("server.limits.max_body_bytes", self.server.limits.max_body_bytes),
            ("server.limits.max_events_per_request", self.server.limits.max_events_per_request),
            ("server.limits.max_connections", self.server.limits.max_connections),
            ("windows.max_events_per_entity", self.windows.max_events_per_entity),
            ("windows.max_entities", self.windows.max_entities),
            ("windows.max_total_events", self.windows.max_total_events),
            ("windows.max_bytes_per_entity", self.windows.max_bytes_per_entity),
            ("windows.max_total_bytes", self.windows.max_total_bytes),
            ("cache.max_entries", self.cache.max_entries),
            ("predictions.capacity", self.predictions.capacity),
            ("learning.recent_jobs", self.learning.recent_jobs),
            ("learning.bootstrap.entities", self.learning.bootstrap.entities),
        ];
        for (key, value) in positive {
            if value == 0 {
                return fail(format!("{key} must be positive"));
            }
        }
        let millis = [
            ("reload_interval_ms", self.reload_interval_ms),
            ("server.limits.request_timeout_ms", self.server.limits.request_timeout_ms),
            ("server.limits.header_timeout_ms", self.server.limits.header_timeout_ms),
            ("windows.horizon_secs", self.windows.horizon_secs),
            ("learning.interval_minutes", self.learning.interval_minutes),
        ];
        for (key, value) in millis {
            if value == 0 {
                return fail(format!("{key} must be positive"));
            }
        }
        if self.windows.max_total_events < self.windows.max_events_per_entity {
            return fail(
                "windows.max_total_events must be at least windows.max_events_per_entity".into(),
            );
        }
        if self.windows.max_total_bytes < self.windows.max_bytes_per_entity {
            return fail(
                "windows.max_total_bytes must be at least windows.max_bytes_per_entity".into(),
            );
        }
        self.routing.check()?;
        self.reviews.check()?;
        if let Err(e) = self.learning.triggers.check() {
            return fail(format!("learning.triggers: {e}"));
        }
        if let Err(e) = self.learning.retrain.check() {
            return fail(format!("learning.retrain: {e}"));
        }
        if let Some(webhook) = &self.server.webhook {
            webhook.target()?;
            let w = webhook;
            if !(1..=1_000_000).contains(&w.queue)
                || !(1..=100).contains(&w.max_attempts)
                || w.timeout_ms == 0
                || w.backoff_ms == 0
                || w.backoff_ms > w.max_backoff_ms
            {
                return fail(
                    "server.webhook: need queue in 1..=1000000, max_attempts in 1..=100, \
                     timeout_ms > 0 and 0 < backoff_ms <= max_backoff_ms"
                        .into(),
                );
            }
            let secrets = [("bearer", &w.bearer), ("hmac_key", &w.hmac_key)];
            if let Some((name, _)) = secrets.iter().find(|(_, v)| {
                v.as_deref().is_some_and(|v| v.is_empty() || v.chars().any(char::is_control))
            }) {
                return fail(format!("server.webhook.{name} is empty or has control characters"));
            }
        }
        let auth = &self.server.auth;
        for (list, tokens) in [
            ("server.auth.admin_tokens", &auth.admin_tokens),
            ("server.auth.ingest_tokens", &auth.ingest_tokens),
            ("server.auth.feedback_tokens", &auth.feedback_tokens),
            ("server.auth.score_tokens", &auth.score_tokens),
        ] {
            if let Some(i) = tokens.iter().position(|t| t.len() < MIN_TOKEN_LEN) {
                return fail(format!(
                    "{list}[{i}] is shorter than {MIN_TOKEN_LEN} characters; use a long random token"
                ));
            }
        }
        Ok(())
    }

    /// The retrain recipe as a run uses it (reports into `learning.reports`).
    pub fn retrain(&self) -> RetrainConfig {
        let mut retrain = self.learning.retrain.clone();
        if retrain.reports_dir.is_none() && !self.learning.reports.as_os_str().is_empty() {
            retrain.reports_dir = Some(self.learning.reports.clone());
        }
        retrain
    }

    /// The featurizer of this configuration: the window policy and the configured feeds,
    /// loaded now. The worker trains with it; the engine serves with the same policy and
    /// feeds.
    pub fn featurizer(&self) -> Result<Featurizer> {
        Ok(Featurizer::new(self.windows.policy(), self.intel.load()?.snapshot()))
    }

    /// The registry poll interval.
    pub fn reload_interval(&self) -> Duration {
        Duration::from_millis(self.reload_interval_ms)
    }

    /// Where the generated admin token lives: `server.auth.token_file`, or `admin.token`
    /// beside the database.
    pub fn token_file(&self) -> PathBuf {
        self.server.auth.token_file.clone().unwrap_or_else(|| {
            self.database.parent().unwrap_or_else(|| Path::new(".")).join("admin.token")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_split_or_refused_naming_why() {
        let target =
            |url: &str| WebhookConfig { url: url.into(), ..WebhookConfig::default() }.target();
        assert_eq!(
            target("http://127.0.0.1:9000/hook?x=1").unwrap(),
            ("127.0.0.1".into(), 9000, "/hook?x=1".into())
        );
        assert_eq!(target("http://receiver").unwrap(), ("receiver".into(), 80, "/".into()));
        assert_eq!(target("http://[::1]:81/a").unwrap(), ("::1".into(), 81, "/a".into()));
        assert_eq!(target("http://[::1]/a").unwrap(), ("::1".into(), 80, "/a".into()));
        assert!(target("http://::1:81/").is_err());
        assert!(target("http://x/a b").unwrap_err().to_string().contains("path"));
        assert!(target("https://x/").unwrap_err().to_string().contains("https is not supported"));
        assert!(target("http://x:http/").unwrap_err().to_string().contains("bad port"));
        assert!(target("http:///a").unwrap_err().to_string().contains("no host"));
    }

    #[test]
    fn defaults_need_no_file_and_files_override_them() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        let config = Config::from_toml(
            "redis = \"redis://127.0.0.1:6379\"\n[server]\nlisten = \"0.0.0.0:9000\"\n\
             [windows]\nmax_events_per_entity = 50\n\
             [learning.triggers]\npending_threshold = 500\n\
             [learning.retrain]\nseed = 9\n",
        )
        .unwrap();
        assert_eq!(config.server.listen.port(), 9000);
        assert_eq!(
            config.windows.policy(),
            WindowPolicy { horizon_secs: 86_400, max_events: 50, max_bytes: 2 << 20 }
        );
        assert_eq!(config.redis.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(config.learning.triggers.pending_threshold, 500);
        assert_eq!(config.learning.retrain.seed, 9);
        // The effective configuration round-trips through TOML.
        assert_eq!(Config::from_toml(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = Config::from_toml("listne = \"x\"").unwrap_err().to_string();
        assert!(e.contains("unknown field `listne`"), "{e}");
        let mut config = Config::default();
        config.server.auth.admin_tokens = vec!["short".into()];
        let e = config.check().unwrap_err().to_string();
        assert!(e.contains("server.auth.admin_tokens[0] is shorter"), "{e}");
        let mut config = Config::default();
        config.server.limits.max_body_bytes = 0;
        let e = config.check().unwrap_err().to_string();
        assert!(e.contains("server.limits.max_body_bytes must be positive"), "{e}");
        let mut config = Config::default();
        config.learning.triggers.override_window = 50;
        let e = config.check().unwrap_err().to_string();
        assert!(e.contains("learning.triggers") && e.contains("override_window"), "{e}");
    }

    #[test]
    fn the_documented_defaults_are_the_defaults() {
        let doc = include_str!("../../../docs/CONFIG.md");
        let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
        let end = start + doc[start..].find("```").expect("its end");
        assert_eq!(Config::from_toml(&doc[start..end]).unwrap(), Config::default());
    }

    #[test]
    fn a_missing_feed_file_is_named() {
        let mut config = Config::default();
        config.intel.c2 = Some(PathBuf::from("/nonexistent/feodo.csv"));
        let e = config.featurizer().unwrap_err().to_string();
        assert!(e.contains("c2") && e.contains("/nonexistent/feodo.csv"), "{e}");
    }
}
