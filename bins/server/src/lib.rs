//! vigil-server: the inference server. Security events in, per-entity verdicts out;
//! council or analyst feedback stored; new champions hot-reloaded from the registry.
//!
//! - [`app`] builds the router over an [`AppState`] (tests drive it without a socket);
//!   `docs/API.md` documents every route.
//! - [`AppState`]: the served model (an `ArcSwap`, swapped by [`AppState::set_model`]), the
//!   feature cache (memory or Redis), the SQLite sample store, bounded per-IP event windows,
//!   the bounded store of recent predictions, threat intel and the bearer tokens.
//! - [`Config`] (embedded defaults, a TOML file, environment and flags via [`Args`]) and
//!   [`run`]: open the stores, bootstrap a first champion if the registry has none, serve
//!   until SIGTERM, polling the registry for a new champion meanwhile.
//! - [`LoadedModel`]: an artifact checked against this build's feature schema and classes.
//!
//! The HTTP layer holds no ML logic: parsing and features come from vigil-features, the
//! cache and samples from vigil-store, scoring from vigil-model, the registry and the
//! bootstrap from vigil-registry and vigil-retrain.
//!
//! # Invariants
//! - A request runs on one model from start to end: it takes its own `Arc` of the champion,
//!   so a swap never fails a request or mixes two models.
//! - A feedback is answered 2xx only after the sample store has committed it to disk.
//! - Every 4xx names the problem; a 5xx body is fixed (`internal server error`), the detail
//!   goes to the log. Handlers do not panic on any input; a panic would still be a 500.
//! - A request refused before its events are applied (no model, too many events, nothing
//!   readable) changes no window; a retried batch is not double-counted (duplicates are
//!   dropped).
//! - Tokens are compared as SHA-256 digests in constant time.

mod auth;
mod bootstrap;
mod config;
mod error;
mod features;
mod learning;
mod metrics;
mod model;
mod predictions;
mod reload;
mod routes;
mod serve;
mod state;
mod windows;

pub use auth::ensure_token_file;
pub use bootstrap::{BootstrapOutcome, EXIT_LOCKED, bootstrap_registry};
pub use config::{
    Args, AuthConfig, BootstrapConfig, CacheConfig, Config, IntelConfig, LearningConfig, Limits,
    PredictionConfig, WindowConfig,
};
pub use model::{LoadError, LoadedModel};
pub use reload::watch as watch_registry;
pub use routes::app;
pub use serve::{build_state, run};
pub use state::AppState;
