//! The error type of vigil-retrain.

use std::path::PathBuf;

/// What can stop a retrain run or a trigger check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RetrainError {
    /// A configuration value is out of range.
    #[error("invalid retrain configuration: {name} = {value}: {reason}")]
    Config {
        /// The setting, as spelled in the TOML file.
        name: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// What it must satisfy.
        reason: String,
    },
    /// The base training data could not be read.
    #[error("base training data {path}: {reason}")]
    Base {
        /// The file.
        path: PathBuf,
        /// What was wrong (with the line where known).
        reason: String,
    },
    /// The loaded data failed validation (schema, width, label, non-finite value, too few
    /// rows or classes).
    #[error("invalid training data: {reason}")]
    InvalidData {
        /// What was wrong, naming the row, sample or column.
        reason: String,
    },
    /// The sample store failed.
    #[error("sample store: {0}")]
    Store(#[from] vigil_store::StoreError),
    /// Reading samples from the store's database failed.
    #[error("reading samples from {path}: {reason}")]
    Samples {
        /// The database file.
        path: PathBuf,
        /// The SQLite error, or what was wrong with a row.
        reason: String,
    },
    /// The registry failed.
    #[error("registry: {0}")]
    Registry(#[from] vigil_registry::RegistryError),
    /// Training failed.
    #[error("training: {0}")]
    Model(#[from] vigil_model::ModelError),
    /// A dataset operation failed.
    #[error(transparent)]
    Core(#[from] vigil_core::CoreError),
    /// The run was cancelled (SIGTERM/SIGINT) before this step; nothing was registered or
    /// promoted by it.
    #[error("cancelled before step {step}")]
    Cancelled {
        /// The step that did not start.
        step: &'static str,
    },
    /// Writing the run report failed.
    #[error("writing run report {path}: {source}")]
    Report {
        /// The report file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// `Result` with [`RetrainError`].
pub type Result<T, E = RetrainError> = std::result::Result<T, E>;
