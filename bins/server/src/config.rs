//! Flags and environment variables over the one configuration file
//! ([`vigil_engine::Config`], shared with the worker).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use vigil_engine::Config;

/// Flags and environment variables; each overrides the file's value when given.
#[derive(Debug, Default, clap::Parser)]
#[command(name = "vigil-server", version, about = "The vigil inference server")]
pub(crate) struct Args {
    /// The TOML configuration file (shared with vigil-worker).
    #[arg(long, env = "VIGIL_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, env = "VIGIL_LISTEN")]
    pub(crate) listen: Option<SocketAddr>,
    /// The SQLite sample store.
    #[arg(long, env = "VIGIL_DATABASE")]
    pub(crate) database: Option<PathBuf>,
    /// The model registry directory.
    #[arg(long, env = "VIGIL_REGISTRY")]
    pub(crate) registry: Option<PathBuf>,
    /// Use Redis at this URL for the feature cache (e.g. redis://127.0.0.1:6379).
    #[arg(long, env = "VIGIL_REDIS")]
    pub(crate) redis: Option<String>,
    /// Do not train a first champion when the registry has none (serve 503 until one appears).
    #[arg(long, env = "VIGIL_NO_BOOTSTRAP")]
    pub(crate) no_bootstrap: bool,
    /// Admin tokens, comma-separated (environment only is better: flags show in `ps`).
    #[arg(long, env = "VIGIL_ADMIN_TOKENS", hide_env_values = true, value_delimiter = ',')]
    pub(crate) admin_tokens: Vec<String>,
    /// Ingest tokens (for `/v1/events`), comma-separated.
    #[arg(long, env = "VIGIL_INGEST_TOKENS", hide_env_values = true, value_delimiter = ',')]
    pub(crate) ingest_tokens: Vec<String>,
    /// Accept `/v1/events` without a token (labs only; warned about at startup).
    #[arg(long, env = "VIGIL_OPEN_INGEST")]
    pub(crate) open_ingest: bool,
    /// Feedback tokens, comma-separated.
    #[arg(long, env = "VIGIL_FEEDBACK_TOKENS", hide_env_values = true, value_delimiter = ',')]
    pub(crate) feedback_tokens: Vec<String>,
    /// Score tokens, comma-separated (when set, scoring needs a token).
    #[arg(long, env = "VIGIL_SCORE_TOKENS", hide_env_values = true, value_delimiter = ',')]
    pub(crate) score_tokens: Vec<String>,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `vigil_server=debug`.
    #[arg(long, env = "VIGIL_LOG", default_value = "info")]
    pub(crate) log: String,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// What to do instead of serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub(crate) enum Command {
    /// Print the effective configuration (file, then environment and flags) as TOML.
    Config,
}

/// Defaults, then `args.config` (if any), then every flag or variable given; checked.
pub(crate) fn load(args: &Args) -> anyhow::Result<Config> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
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
    if args.open_ingest {
        config.server.open_ingest = true;
    }
    if args.no_bootstrap {
        config.learning.bootstrap.enabled = false;
    }
    let extend = |into: &mut Vec<String>, from: &[String]| {
        into.extend(from.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()));
    };
    let auth = &mut config.server.auth;
    extend(&mut auth.admin_tokens, &args.admin_tokens);
    extend(&mut auth.ingest_tokens, &args.ingest_tokens);
    extend(&mut auth.feedback_tokens, &args.feedback_tokens);
    extend(&mut auth.score_tokens, &args.score_tokens);
    config.check().context("invalid configuration")?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.toml");
        std::fs::write(
            &path,
            "[server]\nlisten = \"127.0.0.1:9001\"\n[learning.bootstrap]\nenabled = true\n",
        )
        .unwrap();
        let args = Args {
            config: Some(path),
            listen: Some("127.0.0.1:9002".parse().unwrap()),
            redis: Some("redis://127.0.0.1:1".into()),
            no_bootstrap: true,
            admin_tokens: vec!["0123456789abcdef0123".into()],
            ..Args::default()
        };
        let config = load(&args).unwrap();
        assert_eq!(config.server.listen.port(), 9002);
        assert!(!config.learning.bootstrap.enabled);
        assert_eq!(config.redis.as_deref(), Some("redis://127.0.0.1:1"));
        assert_eq!(config.server.auth.admin_tokens.len(), 1);
        assert_eq!(config.token_file(), PathBuf::from("./var/admin.token"));
        let args = Args { admin_tokens: vec!["short".into()], ..Args::default() };
        let e = format!("{:#}", load(&args).unwrap_err());
        assert!(e.contains("server.auth.admin_tokens[0] is shorter"), "{e}");
    }
}
