//! vigil-server: flags and environment in, then [`vigil_server::run`] until SIGTERM.
//! Exit code 0 after a graceful shutdown, 2 on a startup or serving error
//! (`--bootstrap-only`: 0 done or not needed, 3 another process holds the registry, 2 error).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use vigil_server::{Args, BootstrapOutcome, Config, EXIT_LOCKED};

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = match Config::from_args(&args) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    if args.bootstrap_only {
        return match vigil_server::bootstrap_registry(&config) {
            Ok(BootstrapOutcome::Locked) => ExitCode::from(EXIT_LOCKED),
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        };
    }
    match vigil_server::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    tracing::error!("{e:#}");
    ExitCode::from(2)
}
