//! The one-time bootstrap: the first champion, trained from the scenario simulator's events
//! by vigil-retrain's pipeline.
//!
//! The server runs it in a child process (`vigil-server --bootstrap-only`, same flags and
//! environment): simulating and training take a few hundred MB that the allocator would
//! otherwise keep in the serving process for its whole life (measured: 160 MB RSS after an
//! in-process bootstrap, 12 MB without).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use vigil_datasets::simulate::{SimParams, simulate, write_jsonl_file};
use vigil_registry::{Registry, RegistryError};
use vigil_retrain::{BaseData, RetrainConfig, RunStatus};

use crate::config::{BootstrapConfig, Config};

/// What a bootstrap did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// Trained and promoted this version (summary).
    Promoted(String),
    /// The registry already had this champion; nothing was done.
    AlreadyChampion(String),
    /// Another process holds the registry's writer lock (the worker, bootstrapping itself).
    Locked,
}

/// Exit code of `--bootstrap-only` when another process holds the writer lock.
pub const EXIT_LOCKED: u8 = 3;

/// Trains and promotes a first champion in `config.registry` if it has none, with a
/// progress display on stderr. Holds the writer lock from the check to the promotion.
pub fn bootstrap_registry(config: &Config) -> anyhow::Result<BootstrapOutcome> {
    let progress = indicatif::ProgressBar::new_spinner();
    progress.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let outcome = run(&config.bootstrap, &config.registry, &progress);
    match &outcome {
        Ok(BootstrapOutcome::Promoted(summary)) => {
            let seconds = started.elapsed().as_secs_f64();
            progress.finish_with_message(format!("bootstrapped {summary} in {seconds:.1} s"));
            tracing::info!(seconds, "bootstrap done: {summary}");
        }
        Ok(BootstrapOutcome::AlreadyChampion(v)) => {
            progress.finish_with_message(format!("{v} is already champion"));
        }
        Ok(BootstrapOutcome::Locked) => progress.finish_and_clear(),
        Err(_) => progress.abandon_with_message("bootstrap failed"),
    }
    outcome
}

fn run(
    config: &BootstrapConfig,
    dir: &Path,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<BootstrapOutcome> {
    let registry = match Registry::open(dir) {
        Ok(r) => r,
        Err(RegistryError::Locked { .. }) => return Ok(BootstrapOutcome::Locked),
        Err(e) => return Err(e).context("cannot open the registry for the bootstrap"),
    };
    if let Some(champion) = registry.champion()? {
        return Ok(BootstrapOutcome::AlreadyChampion(champion.version));
    }
    tracing::info!("no champion in the registry: bootstrapping one from the scenario simulator");
    let base = &config.base_events;
    if !base.exists() {
        progress.set_message(format!(
            "simulating {} labelled entities (difficulty {}, seed {})",
            config.entities, config.difficulty, config.seed
        ));
        write_base_events(config, base)?;
    }
    progress.set_message(format!("training the first champion on {}", base.display()));
    let report = vigil_retrain::bootstrap(
        &registry,
        &BaseData::events_file(base.clone()),
        &RetrainConfig::default(),
    )
    .context("the bootstrap run failed")?;
    match (report.status, &report.champion_after) {
        (RunStatus::Succeeded, Some(champion)) if report.promoted => {
            let rows = report.data.as_ref().map_or(0, |d| d.base_rows);
            Ok(BootstrapOutcome::Promoted(format!(
                "{champion} from {rows} simulated entities ({})",
                report.model
            )))
        }
        (RunStatus::Skipped, Some(champion)) => {
            Ok(BootstrapOutcome::AlreadyChampion(champion.clone()))
        }
        _ => anyhow::bail!(
            "the bootstrap run promoted nothing ({:?}): {}",
            report.status,
            report.error.as_deref().unwrap_or("no error recorded")
        ),
    }
}

/// Simulates the base events and writes them atomically (a temporary file renamed into
/// place), so that a crash leaves no half-written base file.
fn write_base_events(config: &BootstrapConfig, path: &Path) -> anyhow::Result<()> {
    let entities = simulate(&SimParams::new(config.entities, config.difficulty, config.seed))
        .context("cannot simulate the base events")?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Same extension, so that a `.gz` name is still written compressed.
    let tmp = dir.join(format!(".tmp-{}-{name}", std::process::id()));
    write_jsonl_file(&entities, &tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::File::open(&tmp).and_then(|f| f.sync_all())?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move the base events to {}", path.display()))?;
    Ok(())
}
