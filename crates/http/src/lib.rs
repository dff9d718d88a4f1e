//! vigil-http: the HTTP API over [`vigil_engine`], as a library: a host service can nest
//! [`app`] in its own axum router, and `vigil-server` is this crate plus a process.
//!
//! - [`app`] builds the router over an [`AppState`] (tests drive it without a socket);
//!   `docs/API.md` documents every route.
//! - [`AppState`]: the [`vigil_engine::Engine`] (model, cache, windows, ledger, stores),
//!   the bearer tokens (as SHA-256 digests) and the Prometheus handle.
//! - [`build_state`]: the engine of a configuration plus the admin token (generated into the
//!   token file on first start); [`serve`]: the connection loop (header-read timeout,
//!   connection limit, graceful drain).
//! - [`fuzz::fuzz_routes`]: the bounded fuzz harness of every route's body.
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
mod error;
pub mod fuzz;
mod media;
mod metrics;
mod routes;
mod serve;
mod state;
pub mod webhook;

pub use auth::ensure_token_file;
pub use routes::app;
pub use serve::{build_state, serve};
pub use state::AppState;
