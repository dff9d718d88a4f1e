//! The engine's one error type.

use std::net::IpAddr;
use std::path::PathBuf;

/// Everything the engine can refuse or fail at. The messages are written for the caller
/// (an HTTP client, an operator): they name the entity, prediction, file or value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No model is loaded yet.
    #[error("no model is loaded yet; retry when the engine reports ready")]
    NoModel,
    /// No events are known for this entity.
    #[error("no events are known for entity {ip}")]
    UnknownEntity {
        /// The entity.
        ip: IpAddr,
    },
    /// Scoring was asked for no events.
    #[error("no events given")]
    NoEvents,
    /// One-entity scoring was given events of several sources.
    #[error(
        "the events come from {count} sources ({sources}); score one entity at a time, or ingest a batch"
    )]
    SeveralEntities {
        /// How many sources.
        count: usize,
        /// The first few, comma-separated.
        sources: String,
    },
    /// The named entity is not the events' source.
    #[error("entity {entity:?} is not the events' source {source_ip}")]
    EntityMismatch {
        /// The name given.
        entity: String,
        /// The events' source.
        source_ip: IpAddr,
    },
    /// An entity name that cannot be stored.
    #[error("entity must be 1 to 256 characters, without control characters")]
    InvalidEntity,
    /// A feature vector of the wrong width or with a non-finite value.
    #[error(transparent)]
    InvalidFeatures(vigil_features::FeatureError),
    /// Feedback on a prediction this engine does not keep (too old, or never made).
    #[error(
        "unknown prediction id {id:?} (not among the last {kept} in memory nor the predictions \
         kept in the sample store for reviews.retention_hours; send the features instead)"
    )]
    UnknownPrediction {
        /// The id as given.
        id: String,
        /// How many predictions are kept.
        kept: usize,
    },
    /// The prediction already has a different feedback.
    #[error(
        "prediction {prediction_id} already has feedback {stored} (sample {sample_id}); a different verdict is refused"
    )]
    FeedbackExists {
        /// The prediction.
        prediction_id: String,
        /// The stored sample.
        sample_id: i64,
        /// The stored verdict and label.
        stored: String,
    },
    /// A council verdict that is not CONFIRM, OVERRIDE or UNCERTAIN (or mini-xdr's words).
    #[error("{reason}")]
    UnknownVerdict {
        /// The store's message.
        reason: String,
    },
    /// A label that is not one of the threat classes.
    #[error("{reason}")]
    UnknownLabel {
        /// The message naming the label.
        reason: String,
    },
    /// A feedback the sample store refuses (override without a label, ...).
    #[error("{reason}")]
    InvalidFeedback {
        /// The store's message.
        reason: String,
    },
    /// The model cannot explain its verdicts (explanations are for tree models).
    #[error("cannot explain: {reason}")]
    Explain {
        /// Why.
        reason: String,
    },
    /// A review listing or claim that cannot be run as asked.
    #[error("{reason}")]
    InvalidReview {
        /// What is wrong.
        reason: String,
    },
    /// No open review item has this id.
    #[error("no review item {id} (unknown, pruned, or an autonomous prediction)")]
    UnknownReview {
        /// The id asked for.
        id: String,
    },
    /// Someone else holds the item's lease.
    #[error("review item {id} is claimed by {by} until {until}")]
    ReviewHeld {
        /// The item.
        id: String,
        /// Who holds it.
        by: String,
        /// Until when.
        until: jiff::Timestamp,
    },
    /// The item's feedback is already stored.
    #[error("review item {id} is closed: its feedback is stored")]
    ReviewClosed {
        /// The item.
        id: String,
    },
    /// An invalid configuration.
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong, naming the key or file.
        reason: String,
    },
    /// A threat-intel feed that cannot be loaded.
    #[error("cannot load the {kind} feed {}: {source}", path.display())]
    Feed {
        /// The feed kind.
        kind: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: vigil_features::FeatureError,
    },
    /// A model that cannot be served.
    #[error(transparent)]
    Load(#[from] crate::LoadError),
    /// Scoring failed inside the model.
    #[error("scoring failed: {0}")]
    Scoring(#[from] vigil_model::ModelError),
    /// The sample store failed.
    #[error(transparent)]
    Store(#[from] vigil_store::StoreError),
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] vigil_registry::RegistryError),
    /// A retrain step (trigger evaluation, a run) failed.
    #[error(transparent)]
    Retrain(#[from] vigil_retrain::RetrainError),
    /// A bootstrap run failed.
    #[error("the bootstrap failed: {reason}")]
    Bootstrap {
        /// Why.
        reason: String,
    },
    /// A blocking task panicked or was cancelled.
    #[error("internal task failed: {0}")]
    Task(String),
}

/// The engine's result type.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
