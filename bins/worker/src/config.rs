//! Configuration: embedded defaults, then a TOML file, then environment variables and flags
//! (clap reads both; a flag wins over its variable).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use vigil_engine::Config;

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
    /// The TOML configuration file (shared with vigil-server).
    #[arg(long, global = true, env = "VIGIL_CONFIG")]
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

/// Defaults, overlaid by the file (if given), overlaid by flags and environment; checked.
pub(crate) fn load(global: &GlobalArgs, command: &Command) -> anyhow::Result<Config> {
    let mut config = Config::load(global.config.as_deref())?;
    if let Some(v) = &global.database {
        config.database.clone_from(v);
    }
    if let Some(v) = &global.registry {
        config.registry.clone_from(v);
    }
    if let Some(v) = &global.base {
        config.learning.base.clone_from(v);
    }
    if let Some(v) = &global.reports {
        config.learning.reports.clone_from(v);
    }
    if let Command::Run { interval_minutes, first_check_seconds } = command {
        if let Some(v) = interval_minutes {
            config.learning.interval_minutes = *v;
        }
        if let Some(v) = first_check_seconds {
            config.learning.first_check_seconds = *v;
        }
    }
    if let Command::Once { force: true, .. } = command {
        config.learning.retrain.force = true;
    }
    config.check().context("invalid configuration")?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("vigil-worker").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn flags_override_the_shared_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vigil.toml");
        std::fs::write(
            &file,
            "database = \"/srv/a.db\"\nregistry = \"/srv/reg\"\n\
             [server]\nlisten = \"127.0.0.1:9000\"\n\
             [learning]\ninterval_minutes = 15\n\
             [learning.triggers]\npending_threshold = 500\n\
             [learning.retrain]\nseed = 9\n[learning.retrain.model]\nkind = \"gbdt\"\nmax_rounds = 40\n\
             [learning.retrain.gate]\nmin_macro_f1_gain = 0.02\n",
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
        let config = load(&cli.global, &cli.command).unwrap();
        assert_eq!(config.database, Path::new("/srv/a.db"));
        assert_eq!(config.registry, Path::new("/tmp/r"));
        assert_eq!(config.learning.interval_minutes, 5);
        assert_eq!(config.learning.first_check_seconds, 10);
        assert_eq!(config.learning.triggers.pending_threshold, 500);
        assert_eq!(config.learning.triggers.override_window, 100);
        assert_eq!(config.learning.retrain.seed, 9);
        assert_eq!(config.learning.retrain.gate.min_macro_f1_gain, 0.02);
        match &config.learning.retrain.model {
            vigil_retrain::ModelConfig::Gbdt(g) => {
                assert_eq!((g.max_rounds, g.max_leaves), (40, 31));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(config.retrain().reports_dir.as_deref(), Some(Path::new("./var/reports")));
        let cli = parse(&["--config", file_arg, "once", "--force"]);
        assert!(load(&cli.global, &cli.command).unwrap().learning.retrain.force);
    }

    #[test]
    fn bad_files_and_values_are_errors_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vigil.toml");
        std::fs::write(&file, "databse = \"x\"\n").unwrap();
        let cli = parse(&["--config", file.to_str().unwrap(), "status"]);
        let err = format!("{:#}", load(&cli.global, &cli.command).unwrap_err());
        assert!(err.contains("vigil.toml") && err.contains("databse"), "{err}");
        std::fs::write(&file, "[learning.triggers]\noverride_window = 50\n").unwrap();
        let err = format!("{:#}", load(&cli.global, &cli.command).unwrap_err());
        assert!(err.contains("override_window = 50"), "{err}");
        let cli = parse(&["once", "--ignore-triggers"]);
        assert!(load(&cli.global, &cli.command).is_ok());
    }
}
