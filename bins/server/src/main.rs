//! vigil-server: flags and environment over the shared configuration, then the vigil-http
//! router over a vigil-engine until SIGTERM. Exit code 0 after a graceful shutdown, 2 on a
//! startup or serving error.

mod config;
mod run;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::config::{Args, Command};

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = match config::load(&args) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    if args.command == Some(Command::Config) {
        print_config(&config.to_toml());
        return ExitCode::SUCCESS;
    }
    match run::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

#[allow(clippy::print_stdout, reason = "the command's output")]
fn print_config(text: &str) {
    println!("{}", text.trim_end());
}

fn fail(e: &anyhow::Error) -> ExitCode {
    tracing::error!("{e:#}");
    ExitCode::from(2)
}
