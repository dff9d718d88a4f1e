//! vigil-engine: the road from security events to verdicts, as a library any Rust service
//! links (vigil-server is HTTP glue over it). No HTTP here; it runs in the caller's tokio
//! runtime.
//!
//! - [`Engine`]: owns the champion (hot-swappable), the feature cache, the threat-intel
//!   feeds, the per-IP windows and the prediction ledger. [`Engine::ingest`] adds events to
//!   their windows and returns a [`Verdict`] per source; [`Engine::score_events`],
//!   [`Engine::score_vector`] and [`Engine::score_entity`] score without changing a window;
//!   [`Engine::entity`] shows a window and its named features; [`Engine::feedback`] stores
//!   a council verdict durably; [`Engine::status`] reports the learning loop.
//! - [`Engine::prepare`] loads the registry's champion, bootstrapping a first one in-process
//!   when there is none ([`bootstrap_registry`]); [`Engine::watch`] hot-reloads new ones.
//! - [`Config`]: the one configuration file of server and worker. Its window policy and
//!   feeds make the [`Featurizer`](vigil_features::Featurizer) that serving uses here and
//!   training uses in vigil-retrain, so both compute the same vectors.
//!
//! ```no_run
//! use vigil_engine::{Config, Engine};
//!
//! # async fn demo() -> Result<(), vigil_engine::EngineError> {
//! let engine = Engine::open(Config::default()).await?;
//! engine.prepare().await?; // load (or bootstrap) the champion
//! let parsed = vigil_features::parse_file(vigil_features::Format::Cowrie, "cowrie.json").unwrap();
//! for verdict in engine.ingest(parsed.events).await?.verdicts {
//!     println!("{} {} {:.2}", verdict.entity, verdict.class(), verdict.confidence());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Invariants
//! - One window policy: an entity's window here is [`vigil_features::EventWindow`] under
//!   `[windows]`, the window training extracts over; the vector for a source after
//!   ingesting a log in any batch split equals the training vector for it.
//! - Cached vectors are keyed by the featurizer version (schema, policy, feeds): a feed or
//!   policy change never serves an old vector.
//! - A call runs on one model from start to end (it holds its own `Arc`), so a swap never
//!   fails a call or mixes two models.
//! - A feedback is `Ok` only after the sample store has committed it to disk; a kept
//!   prediction takes one feedback.
//! - A call refused before its events are applied (no model) changes no window; a retried
//!   batch is not double-counted (duplicates are dropped).

mod bootstrap;
mod cache;
mod champion;
mod config;
mod engine;
mod error;
mod extract;
mod learning;
mod ledger;
mod model;
mod routing;
mod verdict;
mod windows;

pub use bootstrap::{BootstrapOutcome, bootstrap_registry};
pub use champion::load_champion_from;
pub use config::{
    AuthConfig, BootstrapConfig, CacheConfig, Config, IntelConfig, LearningConfig, Limits,
    MIN_TOKEN_LEN, PredictionConfig, ServerConfig, WebhookConfig, WindowConfig,
};
pub use engine::{Engine, EntityView, Feedback, FeedbackTarget, Ingest, cpu};
pub use error::{EngineError, Result};
pub use extract::{Provenance, Source};
pub use ledger::PredictionId;
pub use model::{ClassMap, LoadError, LoadedModel, Scored};
pub use routing::{ReviewConfig, Route, RoutingConfig};
pub use verdict::{FeedbackReceipt, Verdict, WindowInfo};
pub use windows::WindowStats;
