//! vigil-worker: the retrain worker. Thin: parse flags, set up logging, call one command,
//! map the result to an exit code (0 success, 1 a run failed, 2 any other error).

mod commands;
mod config;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::config::{Cli, LogFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = init_logging(&cli.global.log, cli.global.log_format) {
        report_error(&e);
        return ExitCode::from(2);
    }
    let outcome = config::load(&cli.global, &cli.command)
        .and_then(|config| commands::dispatch(&cli.command, &config));
    match outcome {
        Ok(commands::Outcome::Done) => ExitCode::SUCCESS,
        Ok(commands::Outcome::RunFailed) => ExitCode::from(1),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "vigil-worker failed");
            report_error(&e);
            ExitCode::from(2)
        }
    }
}

#[allow(
    clippy::print_stderr,
    reason = "the last word of a failed command, also when logging is off"
)]
fn report_error(e: &anyhow::Error) {
    eprintln!("vigil-worker: {e:#}");
}

/// JSON lines when stderr is not a terminal (journald, log files), text otherwise.
fn init_logging(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter)?;
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = if json {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    } else {
        builder.try_init()
    };
    installed.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
