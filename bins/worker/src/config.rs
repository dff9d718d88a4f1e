//! Configuration: embedded defaults, then a TOML file, then environment variables and flags
//! (clap reads both; a flag wins over its variable).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use vigil_retrain::{RetrainConfig, TriggerPolicy};

/// Everything the worker reads. Every key has a default, so no file is needed; the paths
/// match the server's defaults, so both find the same database and registry when started
/// from the same working directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    /// The SQLite sample store (default `./var/vigil.db`).
    pub(crate) database: PathBuf,
    /// The model registry directory (default `./var/registry`).
    pub(crate) registry: PathBuf,
    /// The base training data: labelled events (simulator JSONL, what the server's bootstrap
    /// writes) or a features CSV (default `./var/base-events.jsonl`). An empty path: none.
    pub(crate) base: PathBuf,
    /// Where run reports go (default `./var/reports`).
    pub(crate) reports: PathBuf,
    /// Minutes between trigger checks in `run` (default 60).
    pub(crate) interval_minutes: u64,
    /// Seconds from start to the first check in `run` (default 10).
    pub(crate) first_check_seconds: u64,
    /// When to retrain.
    pub(crate) triggers: TriggerPolicy,
    /// How to retrain (recipe, holdout, gate).
    pub(crate) retrain: RetrainConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database: PathBuf::from("./var/vigil.db"),
            registry: PathBuf::from("./var/registry"),
            base: PathBuf::from("./var/base-events.jsonl"),
            reports: PathBuf::from("./var/reports"),
            interval_minutes: 60,
            first_check_seconds: 10,
            triggers: TriggerPolicy::default(),
            retrain: RetrainConfig::default(),
        }
    }
}

/// The retrain worker of vigil.
///
/// Exit codes: 0 success (including "no trigger fired"), 1 a retrain run failed or was
/// cancelled, 2 any other error (bad configuration, registry locked by another worker, I/O).
#[derive(Debug, Parser)]
#[command(name = "vigil-worker", version, about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "VIGIL_WORKER_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// The SQLite sample store.
    #[arg(long, global = true, env = "VIGIL_DATABASE")]
    pub(crate) database: Option<PathBuf>,
    /// The model registry directory.
    #[arg(long, global = true, env = "VIGIL_REGISTRY")]
    pub(crate) registry: Option<PathBuf>,
    /// The base training data (events JSONL or features CSV).
    #[arg(long, global = true, env = "VIGIL_BASE")]
    pub(crate) base: Option<PathBuf>,
    /// Where run reports go.
    #[arg(long, global = true, env = "VIGIL_REPORTS")]
    pub(crate) reports: Option<PathBuf>,
    /// Log filter (tracing-subscriber `EnvFilter` syntax).
    #[arg(long, global = true, env = "VIGIL_LOG", default_value = "info")]
    pub(crate) log: String,
    /// Log format: JSON lines when stderr is not a terminal, unless set.
    #[arg(long, global = true, env = "VIGIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub(crate) log_format: LogFormat,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// JSON when stderr is not a terminal (journald, files), text otherwise.
    Auto,
    /// Always JSON lines.
    Json,
    /// Always human-readable text.
    Text,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check the triggers every interval and retrain when one fires, until SIGTERM/SIGINT.
    Run {
        /// Minutes between checks.
        #[arg(long, env = "VIGIL_WORKER_INTERVAL_MINUTES")]
        interval_minutes: Option<u64>,
        /// Seconds before the first check.
        #[arg(long, env = "VIGIL_WORKER_FIRST_CHECK_SECONDS")]
        first_check_seconds: Option<u64>,
    },
    /// Check the triggers once and retrain if one fires (with no champion: bootstrap).
    Once {
        /// Promote the challenger even if the gate fails (logged and audited).
        #[arg(long)]
        force: bool,
        /// Retrain whether or not a trigger fires.
        #[arg(long)]
        ignore_triggers: bool,
    },
    /// Show the champion, versions, writer, recent jobs and trigger state.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make the previous champion the champion again.
    Rollback {
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Ask for a retrain at the next check (a manual trigger).
    Request {
        /// Why.
        #[arg(long)]
        reason: String,
        /// Who asks (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// Print the effective configuration as TOML.
    Config,
}

impl Config {
    /// Defaults, overlaid by the file (if given), overlaid by flags and environment.
    pub(crate) fn load(global: &GlobalArgs, command: &Command) -> anyhow::Result<Self> {
        let mut config = match &global.config {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        if let Some(v) = &global.database {
            config.database.clone_from(v);
        }
        if let Some(v) = &global.registry {
            config.registry.clone_from(v);
        }
        if let Some(v) = &global.base {
            config.base.clone_from(v);
        }
        if let Some(v) = &global.reports {
            config.reports.clone_from(v);
        }
        if let Command::Run { interval_minutes, first_check_seconds } = command {
            if let Some(v) = interval_minutes {
                config.interval_minutes = *v;
            }
            if let Some(v) = first_check_seconds {
                config.first_check_seconds = *v;
            }
        }
        if let Command::Once { force: true, .. } = command {
            config.retrain.force = true;
        }
        config.retrain.reports_dir = Some(config.reports.clone());
        config.check()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid configuration {}", path.display()))
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.interval_minutes == 0 {
            bail!("interval_minutes must be at least 1");
        }
        self.triggers.check()?;
        self.retrain.check()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("vigil-worker").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_match_the_server() {
        let config = Config::default();
        assert_eq!(config.database, Path::new("./var/vigil.db"));
        assert_eq!(config.registry, Path::new("./var/registry"));
        assert_eq!(config.base, Path::new("./var/base-events.jsonl"));
        assert_eq!(config.interval_minutes, 60);
        assert_eq!(config.triggers, TriggerPolicy::default());
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("worker.toml");
        std::fs::write(
            &file,
            "database = \"/srv/a.db\"\nregistry = \"/srv/reg\"\ninterval_minutes = 15\n\
             [triggers]\npending_threshold = 500\n\
             [retrain]\nseed = 9\n[retrain.model]\nkind = \"gbdt\"\nmax_rounds = 40\n\
             [retrain.gate]\nmin_macro_f1_gain = 0.02\n",
        )
        .unwrap();
        let file_arg = file.to_str().unwrap();
        let cli = parse(&[
            "--config",
            file_arg,
            "--registry",
            "/tmp/r",
            "run",
            "--interval-minutes",
            "5",
        ]);
        let config = Config::load(&cli.global, &cli.command).unwrap();
        assert_eq!(config.database, Path::new("/srv/a.db"));
        assert_eq!(config.registry, Path::new("/tmp/r"));
        assert_eq!(config.interval_minutes, 5);
        assert_eq!(config.first_check_seconds, 10);
        assert_eq!(config.triggers.pending_threshold, 500);
        assert_eq!(config.triggers.override_window, 100);
        assert_eq!(config.retrain.seed, 9);
        assert_eq!(config.retrain.gate.min_macro_f1_gain, 0.02);
        match &config.retrain.model {
            vigil_retrain::ModelConfig::Gbdt(g) => {
                assert_eq!((g.max_rounds, g.max_leaves), (40, 31));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(config.retrain.reports_dir.as_deref(), Some(Path::new("./var/reports")));
        // The effective configuration round-trips through TOML.
        let text = toml::to_string_pretty(&config).unwrap();
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), config);

        let cli = parse(&["--config", file_arg, "once", "--force"]);
        assert!(Config::load(&cli.global, &cli.command).unwrap().retrain.force);
    }

    #[test]
    fn bad_files_and_values_are_errors_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("worker.toml");
        std::fs::write(&file, "databse = \"x\"\n").unwrap();
        let cli = parse(&["--config", file.to_str().unwrap(), "status"]);
        let err = format!("{:#}", Config::load(&cli.global, &cli.command).unwrap_err());
        assert!(err.contains("worker.toml") && err.contains("databse"), "{err}");
        std::fs::write(&file, "[triggers]\noverride_window = 50\n").unwrap();
        let err = format!("{:#}", Config::load(&cli.global, &cli.command).unwrap_err());
        assert!(err.contains("override_window = 50"), "{err}");
        let cli = parse(&["once", "--ignore-triggers"]);
        assert!(Config::load(&cli.global, &cli.command).is_ok());
    }
}
