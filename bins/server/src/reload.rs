//! The champion: bootstrapped at first start, loaded, and hot-reloaded when the registry's
//! pointer moves.
//!
//! The server reads the registry with a [`RegistryReader`] (no lock, writes nothing). The
//! one exception is the bootstrap: when the registry has no champion at all, the server
//! takes the writer lock once, trains the first champion from the scenario simulator, and
//! releases the lock before it serves. If another process holds the lock (the worker
//! bootstrapping itself), the server waits for that champion instead.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vigil_registry::{RegistryError, RegistryReader};

use crate::model::LoadedModel;
use crate::state::AppState;

/// How long startup waits for another writer's bootstrap before serving without a model.
const WAIT_FOR_OTHER_WRITER: Duration = Duration::from_mins(3);

/// Loads the champion, bootstrapping one first if the registry has none (and bootstrap is
/// on). A champion that fails to load is logged and the server starts unready; the watcher
/// keeps trying newer versions.
pub(crate) async fn prepare(state: &AppState) -> anyhow::Result<()> {
    let dir = state.config().registry.clone();
    let reader = RegistryReader::open(&dir)
        .with_context(|| format!("cannot open the model registry {}", dir.display()))?;
    let champion = blocking({
        let reader = reader.clone();
        move || reader.champion_version()
    })
    .await?;
    if champion.is_none() {
        if !state.config().bootstrap.enabled {
            tracing::warn!(
                "the registry has no champion and bootstrap is off: serving 503 until one is promoted"
            );
            return Ok(());
        }
        bootstrap(state, &reader).await.context("cannot bootstrap a first champion")?;
    }
    if let Err(e) = load_champion(state, &reader).await {
        tracing::error!("{e:#}");
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await.context("registry task failed")??)
}

/// Loads the current champion into `state` (if it differs from the one served).
pub(crate) async fn load_champion(
    state: &AppState,
    reader: &RegistryReader,
) -> anyhow::Result<bool> {
    let r = reader.clone();
    let Some((manifest, bytes)) = blocking(move || r.load_champion()).await? else {
        return Ok(false);
    };
    if state.model().is_some_and(|m| m.version() == manifest.version) {
        return Ok(false);
    }
    let version = manifest.version.clone();
    let manifest_json = serde_json::to_value(&manifest).unwrap_or(serde_json::Value::Null);
    let model = tokio::task::spawn_blocking(move || {
        LoadedModel::from_bytes(version, manifest_json, &bytes)
    })
    .await
    .context("model decoding task failed")?;
    match model {
        Ok(model) => {
            let previous = state.model().map(|m| m.version().to_owned());
            tracing::info!(
                version = model.version(),
                previous = previous.as_deref(),
                "serving a new champion"
            );
            state.set_model(model);
            metrics::counter!("vigil_model_reloads_total", "result" => "ok").increment(1);
            Ok(true)
        }
        Err(e) => {
            metrics::counter!("vigil_model_reloads_total", "result" => "error").increment(1);
            Err(anyhow::Error::new(e).context("cannot serve the registry's champion"))
        }
    }
}

/// Polls the registry's champion pointer every `reload_interval_ms` until `cancel`, and
/// swaps each new champion in ([`AppState::set_model`]). A version that fails to load is
/// logged and not retried until the pointer moves again; the old model keeps serving.
pub async fn watch(state: AppState, cancel: CancellationToken) {
    let dir = state.config().registry.clone();
    let reader = match RegistryReader::open(&dir) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(%e, "cannot watch the model registry; hot reload is off");
            return;
        }
    };
    let mut tick = tokio::time::interval(state.config().reload_interval());
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
                let text = format!("{e:#}");
                if text != last_error {
                    tracing::warn!("cannot read the champion pointer: {text}");
                    last_error = text;
                }
                continue;
            }
        };
        last_error.clear();
        let Some(version) = pointer else { continue };
        if state.model().is_some_and(|m| m.version() == version)
            || failed.as_ref() == Some(&version)
        {
            continue;
        }
        match load_champion(&state, &reader).await {
            Ok(_) => failed = None,
            Err(e) => {
                tracing::error!("{e:#}");
                failed = Some(version);
            }
        }
    }
}

/// Runs the bootstrap in a child process (`--bootstrap-only` with this process's flags and
/// environment; see `bootstrap.rs` for why), or in this process when `in_process`. When
/// another process holds the registry, waits for its champion.
async fn bootstrap(state: &AppState, reader: &RegistryReader) -> anyhow::Result<()> {
    let locked = if state.config().bootstrap.in_process {
        let config = state.config().clone();
        let outcome =
            tokio::task::spawn_blocking(move || crate::bootstrap::bootstrap_registry(&config))
                .await
                .context("bootstrap task failed")??;
        outcome == crate::bootstrap::BootstrapOutcome::Locked
    } else {
        let exe =
            std::env::current_exe().context("cannot find this executable to run the bootstrap")?;
        let status = tokio::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .arg("--bootstrap-only")
            .kill_on_drop(true)
            .status()
            .await
            .context("cannot start the bootstrap process")?;
        match status.code() {
            Some(0) => false,
            Some(code) if code == i32::from(crate::bootstrap::EXIT_LOCKED) => true,
            _ => anyhow::bail!("the bootstrap process failed ({status}); its log is above"),
        }
    };
    if locked {
        tracing::info!("another process holds the registry writer lock; waiting for its champion");
        let deadline = Instant::now() + WAIT_FOR_OTHER_WRITER;
        while Instant::now() < deadline {
            let r = reader.clone();
            if blocking(move || r.champion_version()).await?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        tracing::warn!("no champion yet: serving 503 until one appears");
    }
    Ok(())
}
