//! The one-time bootstrap: the first champion, trained in this process by vigil-retrain's
//! run with the configuration's retrain recipe, window policy and feeds (the worker's own),
//! on the scenario simulator's events, under the registry writer lock, recorded as a job.
//!
//! Simulating and training take a few hundred MB at their peak, and the allocator keeps
//! part of it for the process's life (measured before this moved in-process: 160 MB RSS
//! after an in-process bootstrap, 12 MB without). It happens once per registry; a host that
//! cares can run `vigil-worker once` before starting, which leaves a champion behind.

use std::path::Path;

use vigil_datasets::simulate::{SimParams, simulate, write_jsonl_file};
use vigil_registry::{Registry, RegistryError};
use vigil_retrain::{BaseData, RunStatus};
use vigil_store::SampleStore;

use crate::config::Config;
use crate::{EngineError, Result};

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

/// Trains and promotes a first champion into `config.registry` if it has none. Holds the
/// writer lock from the check to the promotion. Blocking.
pub fn bootstrap_registry(config: &Config, store: &SampleStore) -> Result<BootstrapOutcome> {
    let registry = match Registry::open(&config.registry) {
        Ok(r) => r,
        Err(RegistryError::Locked { .. }) => return Ok(BootstrapOutcome::Locked),
        Err(e) => return Err(e.into()),
    };
    if let Some(champion) = registry.champion()? {
        return Ok(BootstrapOutcome::AlreadyChampion(champion.version));
    }
    let fail = |reason: String| EngineError::Bootstrap { reason };
    let base = &config.learning.base;
    if base.as_os_str().is_empty() {
        return Err(fail("learning.base is empty: no base data to train a first model on".into()));
    }
    if !base.exists() {
        let sim = &config.learning.bootstrap;
        tracing::info!(
            entities = sim.entities,
            difficulty = sim.difficulty,
            seed = sim.seed,
            path = %base.display(),
            "no champion and no base data: simulating labelled events"
        );
        write_base_events(config, base)?;
    }
    tracing::info!(base = %base.display(), "training the first champion");
    let featurizer = config.featurizer()?;
    let report = vigil_retrain::bootstrap(
        &registry,
        Some(store),
        &BaseData::from_path(base.clone()),
        &config.retrain(),
        &featurizer,
    )?;
    match (report.status, &report.champion_after) {
        (RunStatus::Succeeded, Some(champion)) if report.promoted => {
            let rows = report.data.as_ref().map_or(0, |d| d.base_rows);
            Ok(BootstrapOutcome::Promoted(format!(
                "{champion} from {rows} base entities ({})",
                report.model
            )))
        }
        (RunStatus::Skipped, Some(champion)) => {
            Ok(BootstrapOutcome::AlreadyChampion(champion.clone()))
        }
        _ => Err(fail(format!(
            "the run promoted nothing ({:?}): {}",
            report.status,
            report.error.as_deref().unwrap_or("no error recorded")
        ))),
    }
}

/// Simulates the base events and writes them atomically (a temporary file renamed into
/// place), so that a crash leaves no half-written base file.
fn write_base_events(config: &Config, path: &Path) -> Result<()> {
    let fail = |reason: String| EngineError::Bootstrap { reason };
    let sim = &config.learning.bootstrap;
    let entities = simulate(&SimParams::new(sim.entities, sim.difficulty, sim.seed))
        .map_err(|e| fail(format!("cannot simulate the base events: {e}")))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Same extension, so that a `.gz` name is still written compressed.
    let tmp = dir.join(format!(".tmp-{}-{name}", std::process::id()));
    write_jsonl_file(&entities, &tmp)
        .map_err(|e| fail(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| fail(format!("cannot move the base events to {}: {e}", path.display())))
}
