//! vigil-eval: loads public intrusion-detection data, runs vigil's pipelines on it and
//! reports; exit code 0 ok, 1 a gate failed, 2 error (this is how CI uses it).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod balance;
mod benchmark;
mod data;
mod explain;
mod features;
mod learning_loop;
mod realcheck;
mod simulate;

/// Evaluate vigil's learning kernels on public intrusion-detection data.
#[derive(Debug, Parser)]
#[command(name = "vigil-eval", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Resample a training file with a balancing method; print class counts and time taken.
    Balance(balance::Args),
    /// Train and score the ablation baseline -> +balancing -> +loss -> +temperature ->
    /// +thresholds for each model; report and gate.
    Benchmark(benchmark::Args),
    /// Write labelled event streams (JSONL) from the scenario simulator.
    Simulate(simulate::Args),
    /// Parse an event log and write the 100 features of every source address as CSV.
    Features(features::Args),
    /// Score a real log through the engine and compare each source's verdict with
    /// transparent weak labels (downloads, brute force, scanning).
    Realcheck(realcheck::Args),
    /// Measure the learning loop: a labelled stream (simulator or a real log with the
    /// weak-label council) through engine, council reviews and retrain; the held-out curve.
    Loop(learning_loop::Args),
    /// Explain a champion's verdict on a features-CSV row or on one source of a log: each
    /// feature's contribution to the decided class's score.
    Explain(explain::Args),
}

/// What a finished command says about its gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Everything ran and every gate passed.
    Pass,
    /// Everything ran but a requested gate failed.
    GateFailed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Balance(args) => balance::run(&args),
        Command::Benchmark(args) => benchmark::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Features(args) => features::run(&args),
        Command::Realcheck(args) => realcheck::run(&args),
        Command::Loop(args) => learning_loop::run(&args),
        Command::Explain(args) => explain::run(&args),
    };
    match result {
        Ok(Outcome::Pass) => ExitCode::SUCCESS,
        Ok(Outcome::GateFailed) => ExitCode::from(1),
        Err(err) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(2)
        }
    }
}
