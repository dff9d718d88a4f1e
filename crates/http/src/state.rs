//! The state every handler shares: the engine (model, cache, windows, ledger, stores),
//! the bearer tokens and the metrics handle.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use vigil_engine::{Config, Engine};

use crate::auth::Auth;

/// Shared server state; cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    auth: Auth,
    metrics: PrometheusHandle,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("engine", &self.inner.engine).finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `engine`; its configuration's tokens are used as given (the token file is
    /// resolved by [`crate::build_state`]).
    pub fn new(engine: Engine) -> Self {
        Self {
            inner: Arc::new(Inner {
                auth: Auth::new(&engine.config().server.auth, engine.config().server.open_ingest),
                metrics: crate::metrics::handle(),
                engine,
            }),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.inner.engine.config()
    }

    pub(crate) fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    pub(crate) fn metrics(&self) -> &PrometheusHandle {
        &self.inner.metrics
    }

    /// Drains the metrics recorder's histogram buffers; call every few seconds.
    pub fn metrics_upkeep(&self) {
        self.inner.metrics.run_upkeep();
    }
}
