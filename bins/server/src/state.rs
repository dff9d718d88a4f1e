//! The state every handler shares: the served model (swapped atomically), the feature
//! cache, the sample store, the event windows, recent predictions, intel and auth.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use metrics_exporter_prometheus::PrometheusHandle;
use vigil_features::Intel;
use vigil_store::{AnyCache, SampleStore};

use crate::auth::Auth;
use crate::config::Config;
use crate::model::LoadedModel;
use crate::predictions::Predictions;
use crate::windows::Windows;

/// Shared server state; cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    model: ArcSwapOption<LoadedModel>,
    cache: AnyCache,
    samples: SampleStore,
    windows: Windows,
    predictions: Predictions,
    intel: Intel,
    auth: Auth,
    metrics: PrometheusHandle,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("model", &self.model().map(|m| m.version().to_owned()))
            .field("cache", &self.inner.cache)
            .field("samples", &self.inner.samples)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State with no model yet (scoring answers 503 until [`AppState::set_model`]).
    /// `config` must have passed [`Config::check`]; its auth tokens are used as given
    /// (the token file is resolved by [`crate::run`]).
    pub fn new(config: Config, cache: AnyCache, samples: SampleStore, intel: Intel) -> Self {
        Self {
            inner: Arc::new(Inner {
                windows: Windows::new(config.windows),
                predictions: Predictions::new(config.predictions.capacity),
                auth: Auth::new(&config.auth),
                metrics: crate::metrics::handle(),
                config,
                model: ArcSwapOption::empty(),
                cache,
                samples,
                intel,
            }),
        }
    }

    /// Serves `model` from now on. Requests already running keep the model they started
    /// with (each holds its own `Arc`); none fails or sees a mix.
    pub fn set_model(&self, model: LoadedModel) {
        let version = model.version().to_owned();
        let old = self.inner.model.swap(Some(Arc::new(model)));
        if let Some(old) = old {
            metrics::gauge!("vigil_model_info", "version" => old.version().to_owned()).set(0.0);
        }
        metrics::gauge!("vigil_model_info", "version" => version).set(1.0);
    }

    /// The model being served, if any.
    pub fn model(&self) -> Option<Arc<LoadedModel>> {
        self.inner.model.load_full()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The feature cache.
    pub fn cache(&self) -> &AnyCache {
        &self.inner.cache
    }

    /// The sample store.
    pub fn samples(&self) -> &SampleStore {
        &self.inner.samples
    }

    /// The threat-intel feeds.
    pub fn intel(&self) -> &Intel {
        &self.inner.intel
    }

    pub(crate) fn windows(&self) -> &Windows {
        &self.inner.windows
    }

    pub(crate) fn predictions(&self) -> &Predictions {
        &self.inner.predictions
    }

    pub(crate) fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    pub(crate) fn metrics(&self) -> &PrometheusHandle {
        &self.inner.metrics
    }
}
