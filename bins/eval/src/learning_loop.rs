//! `vigil-eval loop`: the learning loop measured (`vigil_evaluate::learning_loop`): a
//! labelled stream (the simulator, or a real log with the weak-label council) through engine,
//! council reviews, sample store and retrain, printing the held-out learning curve.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use vigil_datasets::simulate::SimParams;
use vigil_engine::Config;
use vigil_evaluate::{LabelledStream, LoopParams, Pick};
use vigil_features::Format;

use crate::Outcome;

/// Which verdicts the council reviews first.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum PickArg {
    /// Lowest confidence first.
    Lowest,
    /// Seeded random order.
    Random,
}

/// Flags of `vigil-eval loop`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// A real log to replay, labelled by the weak-label council (default: the simulator).
    #[arg(long)]
    input: Option<PathBuf>,
    /// The log's format.
    #[arg(long, default_value = "cowrie", value_parser = crate::realcheck::parse_format)]
    format: Format,
    /// Simulated stream: entities (council and held-out together).
    #[arg(long, default_value_t = 4000)]
    entities: usize,
    /// Simulated stream: difficulty 0..=3.
    #[arg(long, default_value_t = 3)]
    difficulty: u8,
    /// Simulated stream: seed (keep it apart from `[learning.bootstrap] seed`).
    #[arg(long, default_value_t = 1001)]
    sim_seed: u64,
    /// Review-and-retrain cycles.
    #[arg(long, default_value_t = 5)]
    cycles: usize,
    /// Reviews per cycle, at most.
    #[arg(long, default_value_t = 200)]
    budget: usize,
    /// Which verdicts the council reviews first.
    #[arg(long, value_enum, default_value_t = PickArg::Lowest)]
    pick: PickArg,
    /// Share of sources held out from the council (the measurement).
    #[arg(long, default_value_t = 0.5)]
    heldout: f64,
    /// Seed of the held-out split and the random order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The shared configuration (window policy, feeds, retrain recipe, gate, bootstrap).
    #[arg(long, env = "VIGIL_CONFIG")]
    config: Option<PathBuf>,
    /// Keep the registry, sample store and run reports here (default: a temporary folder).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Write the curve as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Gate: exit 1 unless the last cycle's held-out score is at least this much above the
    /// bootstrap champion's.
    #[arg(long)]
    min_gain: Option<f64>,
}

pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let config = Config::load(args.config.as_deref())?;
    let stream = match &args.input {
        Some(path) => {
            let parsed = vigil_features::parse_file(args.format, path)
                .with_context(|| format!("parsing {}", path.display()))?;
            LabelledStream::weak_labelled(parsed.events)
        }
        None => LabelledStream::simulated(
            vigil_datasets::simulate(&SimParams::new(
                args.entities,
                args.difficulty,
                args.sim_seed,
            ))
            .context("simulating the stream")?,
        ),
    };
    let params = LoopParams {
        cycles: args.cycles,
        budget: args.budget,
        pick: match args.pick {
            PickArg::Lowest => Pick::LowestConfidence,
            PickArg::Random => Pick::Random,
        },
        heldout_share: args.heldout,
        seed: args.seed,
        ..LoopParams::default()
    };
    let scratch = tempfile::tempdir()?;
    let work = args.work.clone().unwrap_or_else(|| scratch.path().to_owned());
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    if work.join("registry").exists() {
        bail!("{} already holds a registry: the loop starts from a fresh one", work.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(vigil_evaluate::learning_loop(
        config,
        &work,
        stream,
        &params,
        |cycle| {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "cycle {}: {} reviews ({} overrides), {}, held-out {:.4}",
                cycle.cycle,
                cycle.reviews,
                cycle.overrides,
                cycle.gate.as_deref().unwrap_or("bootstrap champion"),
                cycle.heldout.score
            );
        },
    ))?;
    write!(std::io::stdout().lock(), "{}", report.markdown())?;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let gain = match (report.cycles.first(), report.cycles.last()) {
        (Some(first), Some(last)) => last.heldout.score - first.heldout.score,
        _ => 0.0,
    };
    Ok(if args.min_gain.is_some_and(|min| gain < min) {
        Outcome::GateFailed
    } else {
        Outcome::Pass
    })
}
