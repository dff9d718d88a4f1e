//! The champion: bootstrapped at first start, loaded, and hot-reloaded when the registry's
//! pointer moves.
//!
//! The engine reads the registry with a [`RegistryReader`] (no lock, writes nothing). The
//! one exception is the bootstrap: when the registry has no champion at all, the engine
//! takes the writer lock once, trains the first champion in-process with the
//! configuration's retrain settings ([`crate::bootstrap_registry`]), and releases the lock
//! before it serves. If another process holds the lock (the worker bootstrapping itself),
//! the engine waits for that champion instead.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use vigil_registry::{RegistryError, RegistryReader};

use crate::bootstrap::{BootstrapOutcome, bootstrap_registry};
use crate::model::LoadedModel;
use crate::{Engine, EngineError, Result};

/// How long startup waits for another writer's bootstrap before serving without a model.
const WAIT_FOR_OTHER_WRITER: Duration = Duration::from_mins(3);

/// The champion of the registry at `dir`, loaded and checked, if it has one (blocking; for
/// tools that score without an engine watching the registry).
pub fn load_champion_from(dir: &std::path::Path) -> Result<Option<LoadedModel>> {
    let reader = RegistryReader::open(dir)?;
    let Some((manifest, bytes)) = reader.load_champion()? else { return Ok(None) };
    let version = manifest.version.clone();
    let manifest = serde_json::to_value(&manifest).unwrap_or(serde_json::Value::Null);
    Ok(Some(LoadedModel::from_bytes(version, manifest, &bytes)?))
}

impl Engine {
    /// Loads the champion, bootstrapping one first if the registry has none (and
    /// `learning.bootstrap.enabled`). A champion that fails to load is logged and the
    /// engine stays unready; [`Engine::watch`] keeps trying newer versions.
    pub async fn prepare(&self) -> Result<()> {
        let reader = RegistryReader::open(&self.config().registry)?;
        let champion = blocking({
            let reader = reader.clone();
            move || reader.champion_version()
        })
        .await?;
        if champion.is_none() {
            if !self.config().learning.bootstrap.enabled {
                tracing::warn!(
                    "the registry has no champion and bootstrap is off: unready until one is promoted"
                );
                return Ok(());
            }
            self.bootstrap(&reader).await?;
        }
        if let Err(e) = self.load_champion(&reader).await {
            tracing::error!("{e}");
        }
        Ok(())
    }

    /// Loads the registry's current champion (if it differs from the one served); `true`
    /// when a new model is now served.
    pub async fn load_champion(&self, reader: &RegistryReader) -> Result<bool> {
        let r = reader.clone();
        let Some((manifest, bytes)) = blocking(move || r.load_champion()).await? else {
            return Ok(false);
        };
        if self.model().is_some_and(|m| m.version() == manifest.version) {
            return Ok(false);
        }
        let version = manifest.version.clone();
        let manifest_json = serde_json::to_value(&manifest).unwrap_or(serde_json::Value::Null);
        let model = tokio::task::spawn_blocking(move || {
            LoadedModel::from_bytes(version, manifest_json, &bytes)
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?;
        match model {
            Ok(model) => {
                let previous = self.model().map(|m| m.version().to_owned());
                tracing::info!(
                    version = model.version(),
                    previous = previous.as_deref(),
                    "serving a new champion"
                );
                self.set_model(model);
                metrics::counter!("vigil_model_reloads_total", "result" => "ok").increment(1);
                Ok(true)
            }
            Err(e) => {
                metrics::counter!("vigil_model_reloads_total", "result" => "error").increment(1);
                Err(e.into())
            }
        }
    }

    /// Polls the registry's champion pointer every `reload_interval_ms` until `cancel`, and
    /// swaps each new champion in ([`Engine::set_model`]). A version that fails to load is
    /// logged and not retried until the pointer moves again; the old model keeps serving.
    pub async fn watch(&self, cancel: CancellationToken) {
        let reader = match RegistryReader::open(&self.config().registry) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(%e, "cannot watch the model registry; hot reload is off");
                return;
            }
        };
        let mut tick = tokio::time::interval(self.config().reload_interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut failed: Option<String> = None;
        let mut last_error = String::new();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = cancel.cancelled() => return,
            }
            let r = reader.clone();
            let pointer = match blocking(move || r.champion_version()).await {
                Ok(p) => p,
                Err(e) => {
                    let text = e.to_string();
                    if text != last_error {
                        tracing::warn!("cannot read the champion pointer: {text}");
                        last_error = text;
                    }
                    continue;
                }
            };
            last_error.clear();
            let Some(version) = pointer else { continue };
            if self.model().is_some_and(|m| m.version() == version)
                || failed.as_ref() == Some(&version)
            {
                continue;
            }
            match self.load_champion(&reader).await {
                Ok(_) => failed = None,
                Err(e) => {
                    tracing::error!("cannot serve the registry's champion: {e}");
                    failed = Some(version);
                }
            }
        }
    }

    /// Bootstraps in this process (see [`bootstrap_registry`]); when another process holds
    /// the registry, waits for its champion.
    async fn bootstrap(&self, reader: &RegistryReader) -> Result<()> {
        let config = self.config().clone();
        let store = self.samples().clone();
        let outcome = tokio::task::spawn_blocking(move || bootstrap_registry(&config, &store))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))??;
        match outcome {
            BootstrapOutcome::Promoted(summary) => tracing::info!("bootstrapped {summary}"),
            BootstrapOutcome::AlreadyChampion(v) => tracing::info!("{v} is already champion"),
            BootstrapOutcome::Locked => {
                tracing::info!(
                    "another process holds the registry writer lock; waiting for its champion"
                );
                let deadline = Instant::now() + WAIT_FOR_OTHER_WRITER;
                while Instant::now() < deadline {
                    let r = reader.clone();
                    if blocking(move || r.champion_version()).await?.is_some() {
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                tracing::warn!("no champion yet: unready until one appears");
            }
        }
        Ok(())
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> Result<T> {
    Ok(tokio::task::spawn_blocking(f).await.map_err(|e| EngineError::Task(e.to_string()))??)
}
