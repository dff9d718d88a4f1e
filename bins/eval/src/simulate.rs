//! `vigil-eval simulate`: write labelled event streams from the scenario simulator.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use vigil_core::ClassSet;
use vigil_datasets::simulate::{MAX_DIFFICULTY, SIM_CLASSES, SimParams, write_jsonl_file};

use crate::Outcome;

/// Flags of `vigil-eval simulate`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// Number of entities (source addresses).
    #[arg(long, default_value_t = 1000)]
    entities: usize,
    /// Difficulty level 0..=3: 0 plays the base scenarios; each level unlocks hard cases
    /// (slow brute force, scanners hitting web paths, admins mistyping passwords, benign
    /// bursts, low-and-slow APT, ...), plays them more often and cuts more windows short
    /// (see vigil_datasets::simulate).
    #[arg(long, default_value_t = 0)]
    difficulty: u8,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Relative class weights, 7 comma-separated numbers in the order Normal, DDoS/DoS,
    /// Reconnaissance, Brute Force, Web Attack, Malware/Botnet, APT [default: equal].
    #[arg(long, value_delimiter = ',')]
    class_mix: Vec<f64>,
    /// Output file: one event per line in the generic JSONL form plus "label" (the entity's
    /// class) and "scenario" fields; gzip-compressed when the name ends in .gz.
    #[arg(long)]
    out: PathBuf,
}

/// Simulates, writes, prints class and event counts.
pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let mut params = SimParams::new(args.entities, args.difficulty, args.seed);
    if !args.class_mix.is_empty() {
        let Ok(mix) = <[f64; SIM_CLASSES]>::try_from(args.class_mix.as_slice()) else {
            bail!(
                "--class-mix needs {SIM_CLASSES} weights (Normal, DDoS/DoS, Reconnaissance, \
                 Brute Force, Web Attack, Malware/Botnet, APT), got {}",
                args.class_mix.len()
            );
        };
        params = params.with_class_mix(mix);
    }
    let started = Instant::now();
    let entities = vigil_datasets::simulate(&params).context("simulating")?;
    let simulate_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    write_jsonl_file(&entities, &args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let write_seconds = started.elapsed().as_secs_f64();

    let classes = ClassSet::threat();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "simulated {} entities at difficulty {}/{MAX_DIFFICULTY}, seed {}",
        entities.len(),
        args.difficulty,
        args.seed
    )?;
    writeln!(out, "{:<16} {:>8} {:>10}", "class", "entities", "events")?;
    let mut total_events = 0;
    for (c, name) in classes.names().iter().enumerate() {
        let of_class = entities.iter().filter(|e| e.label == c);
        let (n, events) = of_class.fold((0, 0), |(n, ev), e| (n + 1, ev + e.events.len()));
        total_events += events;
        writeln!(out, "{name:<16} {n:>8} {events:>10}")?;
    }
    writeln!(out, "{:<16} {:>8} {total_events:>10}", "total", entities.len())?;
    writeln!(out, "wrote {}", args.out.display())?;
    writeln!(out, "seconds: simulate {simulate_seconds:.3}, write {write_seconds:.3}")?;
    Ok(Outcome::Pass)
}
