//! Configuration: embedded defaults, then a TOML file, then environment variables and flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// Everything the server reads at startup. Every key has a default, so no file is needed;
/// `docs/API.md` lists the keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// The SQLite sample store (default `./var/vigil.db`).
    pub database: PathBuf,
    /// The model registry directory (default `./var/registry`).
    pub registry: PathBuf,
    /// A Redis URL for the feature cache; absent means the in-memory cache.
    pub redis: Option<String>,
    /// The first champion, when the registry has none.
    pub bootstrap: BootstrapConfig,
    /// How often the registry's champion pointer is polled, in milliseconds (default 2000).
    pub reload_interval_ms: u64,
    /// Request limits.
    pub limits: Limits,
    /// Per-entity event windows.
    pub windows: WindowConfig,
    /// The feature cache.
    pub cache: CacheConfig,
    /// Recent predictions kept for feedback by id.
    pub predictions: PredictionConfig,
    /// Bearer tokens.
    pub auth: AuthConfig,
    /// Threat-intel feed files.
    pub intel: IntelConfig,
    /// What `/v1/learning/status` reports.
    pub learning: LearningConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: PathBuf::from("./var/vigil.db"),
            registry: PathBuf::from("./var/registry"),
            redis: None,
            bootstrap: BootstrapConfig::default(),
            reload_interval_ms: 2000,
            limits: Limits::default(),
            windows: WindowConfig::default(),
            cache: CacheConfig::default(),
            predictions: PredictionConfig::default(),
            auth: AuthConfig::default(),
            intel: IntelConfig::default(),
            learning: LearningConfig::default(),
        }
    }
}

/// The one-time bootstrap: with no champion in the registry, the server simulates labelled
/// events (unless the base file exists), trains a first champion on them with the retrain
/// pipeline's defaults, and promotes it, before it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapConfig {
    /// Bootstrap at all (default true; `--no-bootstrap` turns it off).
    pub enabled: bool,
    /// The base training events (simulator JSONL with labels), written if missing; the
    /// worker's retrains keep training on them (default `./var/base-events.jsonl`).
    pub base_events: PathBuf,
    /// Simulated entities (default 3000).
    pub entities: usize,
    /// Simulator difficulty 0..=3 (default 1).
    pub difficulty: u8,
    /// Simulator seed (default 7).
    pub seed: u64,
    /// Run the bootstrap inside the server process instead of a child process (default
    /// false: the child's memory is returned to the system when it exits).
    pub in_process: bool,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_events: PathBuf::from("./var/base-events.jsonl"),
            entities: 3000,
            difficulty: 1,
            seed: 7,
            in_process: false,
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

/// Bounds of the in-memory per-entity event windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowConfig {
    /// Most events kept per entity, newest by event time (default 1000).
    pub max_events_per_entity: usize,
    /// Events older than this many seconds before the entity's newest event are dropped
    /// (default 86,400: 24 h, the longest feature window).
    pub horizon_secs: u64,
    /// Most entities kept; the least recently updated go first (default 10,000).
    pub max_entities: usize,
    /// Most events kept over all entities (default 50,000: about 25 MB of Cowrie events).
    pub max_total_events: usize,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            max_events_per_entity: 1000,
            horizon_secs: 86_400,
            max_entities: 10_000,
            max_total_events: 50_000,
        }
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

/// Bearer tokens. Admin tokens grant everything, feedback tokens feedback and scoring,
/// score tokens scoring. Scoring is open unless `score_tokens` is non-empty.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens for every route.
    pub admin_tokens: Vec<String>,
    /// Tokens for `/v1/feedback` (and scoring).
    pub feedback_tokens: Vec<String>,
    /// Tokens for scoring; when empty, scoring needs no token.
    pub score_tokens: Vec<String>,
    /// When no admin or feedback token is configured, the admin token is read from this
    /// file, or generated into it (mode 0600) on first start. Default `./var/admin.token`.
    pub token_file: Option<PathBuf>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("admin_tokens", &self.admin_tokens.len())
            .field("feedback_tokens", &self.feedback_tokens.len())
            .field("score_tokens", &self.score_tokens.len())
            .field("token_file", &self.token_file)
            .finish()
    }
}

/// Threat-intel feed files (formats: see vigil-features `FeedKind`); all optional.
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

/// What the learning status reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningConfig {
    /// The worker's trigger policy (keep it equal to the worker's `[triggers]`), evaluated
    /// read-only for the status: manual requests are never claimed here.
    pub triggers: vigil_retrain::TriggerPolicy,
    /// How many recent retrain jobs to list (default 10).
    pub recent_jobs: usize,
}

impl Default for LearningConfig {
    fn default() -> Self {
        Self { triggers: vigil_retrain::TriggerPolicy::default(), recent_jobs: 10 }
    }
}

/// Flags and environment variables; each overrides the file's value when given.
#[derive(Debug, Default, clap::Parser)]
#[command(name = "vigil-server", version, about = "The vigil inference server")]
pub struct Args {
    /// A TOML configuration file.
    #[arg(long, env = "VIGIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, env = "VIGIL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// The SQLite sample store.
    #[arg(long, env = "VIGIL_DATABASE")]
    pub database: Option<PathBuf>,
    /// The model registry directory.
    #[arg(long, env = "VIGIL_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Use Redis at this URL for the feature cache (e.g. redis://127.0.0.1:6379).
    #[arg(long, env = "VIGIL_REDIS")]
    pub redis: Option<String>,
    /// Do not train a first champion when the registry has none (serve 503 until one appears).
    #[arg(long, env = "VIGIL_NO_BOOTSTRAP")]
    pub no_bootstrap: bool,
    /// Admin tokens, comma-separated (environment only is better: flags show in `ps`).
    #[arg(long, env = "VIGIL_ADMIN_TOKENS", hide_env_values = true, value_delimiter = ',')]
    pub admin_tokens: Vec<String>,
    /// Feedback tokens, comma-separated.
    #[arg(long, env = "VIGIL_FEEDBACK_TOKENS", hide_env_values = true, value_delimiter = ',')]
    pub feedback_tokens: Vec<String>,
    /// Score tokens, comma-separated (when set, scoring needs a token).
    #[arg(long, env = "VIGIL_SCORE_TOKENS", hide_env_values = true, value_delimiter = ',')]
    pub score_tokens: Vec<String>,
    /// Run only the bootstrap (train and promote a first champion if the registry has
    /// none) and exit: 0 done or not needed, 3 another process holds the registry, 2 error.
    /// The server runs itself this way at first start.
    #[arg(long, hide = true)]
    pub bootstrap_only: bool,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `vigil_server=debug`.
    #[arg(long, env = "VIGIL_LOG", default_value = "info")]
    pub log: String,
}

impl Config {
    /// Reads a TOML file; unknown keys are errors naming the key.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Defaults, then `args.config` (if any), then every flag or variable given.
    pub fn from_args(args: &Args) -> anyhow::Result<Self> {
        let mut config = match &args.config {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        if let Some(listen) = args.listen {
            config.listen = listen;
        }
        if let Some(database) = &args.database {
            config.database.clone_from(database);
        }
        if let Some(registry) = &args.registry {
            config.registry.clone_from(registry);
        }
        if let Some(redis) = &args.redis {
            config.redis = Some(redis.clone()).filter(|r| !r.trim().is_empty());
        }
        if args.no_bootstrap {
            config.bootstrap.enabled = false;
        }
        let extend = |into: &mut Vec<String>, from: &[String]| {
            into.extend(from.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()));
        };
        extend(&mut config.auth.admin_tokens, &args.admin_tokens);
        extend(&mut config.auth.feedback_tokens, &args.feedback_tokens);
        extend(&mut config.auth.score_tokens, &args.score_tokens);
        config.check()?;
        Ok(config)
    }

    /// Errors for values that cannot work (zero limits, short tokens).
    pub fn check(&self) -> anyhow::Result<()> {
        let positive = [
            ("limits.max_body_bytes", self.limits.max_body_bytes),
            ("limits.max_events_per_request", self.limits.max_events_per_request),
            ("limits.max_connections", self.limits.max_connections),
            ("windows.max_events_per_entity", self.windows.max_events_per_entity),
            ("windows.max_entities", self.windows.max_entities),
            ("windows.max_total_events", self.windows.max_total_events),
            ("cache.max_entries", self.cache.max_entries),
            ("predictions.capacity", self.predictions.capacity),
            ("learning.recent_jobs", self.learning.recent_jobs),
            ("bootstrap.entities", self.bootstrap.entities),
        ];
        for (key, value) in positive {
            if value == 0 {
                bail!("{key} must be positive");
            }
        }
        self.learning.triggers.check().map_err(|e| anyhow::anyhow!("learning.triggers: {e}"))?;
        if self.reload_interval_ms == 0
            || self.limits.request_timeout_ms == 0
            || self.limits.header_timeout_ms == 0
        {
            bail!(
                "reload_interval_ms, limits.request_timeout_ms and limits.header_timeout_ms \
                 must be positive"
            );
        }
        if self.windows.max_total_events < self.windows.max_events_per_entity {
            bail!("windows.max_total_events must be at least windows.max_events_per_entity");
        }
        let auth = &self.auth;
        for (list, tokens) in [
            ("auth.admin_tokens", &auth.admin_tokens),
            ("auth.feedback_tokens", &auth.feedback_tokens),
            ("auth.score_tokens", &auth.score_tokens),
        ] {
            if let Some(i) = tokens.iter().position(|t| t.len() < crate::auth::MIN_TOKEN_LEN) {
                bail!(
                    "{list}[{i}] is shorter than {} characters; use a long random token",
                    crate::auth::MIN_TOKEN_LEN
                );
            }
        }
        Ok(())
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.limits.request_timeout_ms)
    }

    /// The registry poll interval.
    pub fn reload_interval(&self) -> Duration {
        Duration::from_millis(self.reload_interval_ms)
    }

    /// Where the generated admin token lives: `auth.token_file`, or `admin.token` beside
    /// the database.
    pub fn token_file(&self) -> PathBuf {
        self.auth.token_file.clone().unwrap_or_else(|| {
            self.database.parent().unwrap_or_else(|| Path::new(".")).join("admin.token")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file_and_files_override_them() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        let config = Config::from_toml(
            "listen = \"0.0.0.0:9000\"\nredis = \"redis://127.0.0.1:6379\"\n\
             [windows]\nmax_events_per_entity = 50\n",
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.windows.max_events_per_entity, 50);
        assert_eq!(config.windows.horizon_secs, 86_400);
        assert_eq!(config.redis.as_deref(), Some("redis://127.0.0.1:6379"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = Config::from_toml("listne = \"x\"").unwrap_err().to_string();
        assert!(e.contains("unknown field `listne`"), "{e}");
        let config = Config {
            auth: AuthConfig { admin_tokens: vec!["short".into()], ..AuthConfig::default() },
            ..Config::default()
        };
        let e = config.check().unwrap_err().to_string();
        assert!(e.contains("auth.admin_tokens[0] is shorter"), "{e}");
        let mut config = Config::default();
        config.limits.max_body_bytes = 0;
        assert_eq!(
            config.check().unwrap_err().to_string(),
            "limits.max_body_bytes must be positive"
        );
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9001\"\n[bootstrap]\nenabled = true\n")
            .unwrap();
        let args = Args {
            config: Some(path),
            listen: Some("127.0.0.1:9002".parse().unwrap()),
            redis: Some("redis://127.0.0.1:1".into()),
            no_bootstrap: true,
            admin_tokens: vec!["0123456789abcdef0123".into()],
            ..Args::default()
        };
        let config = Config::from_args(&args).unwrap();
        assert_eq!(config.listen.port(), 9002);
        assert!(!config.bootstrap.enabled);
        assert_eq!(config.redis.as_deref(), Some("redis://127.0.0.1:1"));
        assert_eq!(config.auth.admin_tokens.len(), 1);
        assert_eq!(config.token_file(), PathBuf::from("./var/admin.token"));
    }
}
