//! vigil-server: HTTP glue over [`vigil_engine`]. Security events in, per-entity verdicts
//! out; council or analyst feedback stored; new champions hot-reloaded from the registry.
//!
//! - [`app`] builds the router over an [`AppState`] (tests drive it without a socket);
//!   `docs/API.md` documents every route.
//! - [`AppState`]: the [`vigil_engine::Engine`] (model, cache, windows, ledger, stores),
//!   the bearer tokens and the metrics handle.
//! - [`Args`] and [`load_config`]: flags and environment over the one configuration file
//!   shared with the worker; [`run`]: open the engine, load or bootstrap a champion, serve
//!   until SIGTERM, hot-reloading meanwhile.
//!
//! The HTTP layer holds no ML logic and no state of its own: routes, auth, limits, error
//! mapping and metrics. Windows, scoring, the ledger and feedback live in vigil-engine.
//!
//! # Invariants
//! - Every 4xx names the problem; a 5xx body is fixed (`internal server error`), the detail
//!   goes to the log. Handlers do not panic on any input; a panic would still be a 500.
//! - A feedback is answered 2xx only after the sample store has committed it to disk.
//! - A request refused before its events are applied (no model, too many events, nothing
//!   readable) changes no window.
//! - Tokens are compared as SHA-256 digests in constant time.

mod auth;
mod config;
mod error;
mod metrics;
mod routes;
mod serve;
mod state;

pub use auth::ensure_token_file;
pub use config::{Args, Command, load as load_config};
pub use routes::app;
pub use serve::{build_state, run};
pub use state::AppState;
