//! The error type of vigil-store.

use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong in the feature cache or the sample store.
///
/// Cache reads and writes never return these (a failed read is a miss, a failed write is
/// dropped; both are counted in [`CacheStats`](crate::CacheStats)); cache key validation,
/// invalidation, the value codec and every sample-store operation do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A part of a cache key (schema version, entity type, entity id) or a key prefix is not
    /// allowed.
    #[error("invalid {part} {value:?}: {reason}")]
    InvalidKey {
        /// Which part: "schema version", "entity type", "entity id" or "key prefix".
        part: &'static str,
        /// The value given.
        value: String,
        /// What rule it breaks.
        reason: &'static str,
    },
    /// Bytes that are not a valid encoded feature value: truncated, foreign, or corrupted.
    #[error("corrupt feature value: {reason}")]
    CorruptValue {
        /// What check failed.
        reason: String,
    },
    /// A feature value written by a newer (or unknown) format version.
    #[error(
        "unsupported feature value format version {version} (this build reads version {supported})"
    )]
    UnsupportedFormat {
        /// The version found in the header.
        version: u8,
        /// The version this build reads and writes.
        supported: u8,
    },
    /// A feature value that cannot be encoded (too wide, or a timestamp out of range).
    #[error("cannot encode feature value: {reason}")]
    Unencodable {
        /// Why.
        reason: String,
    },
    /// The Redis configuration (URL or options) was rejected.
    #[error("invalid redis configuration: {reason}")]
    RedisConfig {
        /// What fred reported, or which option is out of range.
        reason: String,
    },
    /// A Redis command failed (connection down, server error).
    #[error("redis {op} failed: {message}")]
    Redis {
        /// The operation, e.g. "unlink" or "scan".
        op: &'static str,
        /// The client's error message.
        message: String,
    },
    /// A Redis command did not answer within the per-call timeout.
    #[error("redis {op} timed out after {timeout:?}")]
    Timeout {
        /// The operation, e.g. "unlink" or "scan".
        op: &'static str,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The sample database could not be opened, configured or migrated.
    #[error("cannot open sample store {path}: {reason}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What failed (the SQLite or migration error).
        reason: String,
    },
    /// An SQLite statement failed.
    #[error("sqlite error while {context}: {source}")]
    Sqlite {
        /// What the store was doing, e.g. "inserting a sample".
        context: &'static str,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The transaction that carried this write failed to commit, so the write is not durable.
    #[error("group commit failed, write not stored: {message}")]
    Commit {
        /// The SQLite error of the failed BEGIN or COMMIT.
        message: String,
    },
    /// The writer thread of the sample store has stopped (it panicked or the store closed).
    #[error("the sample store writer has stopped")]
    WriterGone,
    /// A sample was rejected before it reached the database.
    #[error("invalid sample: {reason}")]
    InvalidSample {
        /// The rule it breaks.
        reason: String,
    },
    /// A review listing or claim that cannot be run as asked.
    #[error("invalid review query: {reason}")]
    InvalidQuery {
        /// What is wrong.
        reason: String,
    },
    /// A council verdict that is not CONFIRM, OVERRIDE or UNCERTAIN.
    #[error("unknown council verdict {verdict:?} (expected CONFIRM, OVERRIDE or UNCERTAIN)")]
    UnknownVerdict {
        /// The verdict as given.
        verdict: String,
    },
    /// An OVERRIDE verdict without a correct label.
    #[error("an OVERRIDE verdict must carry the correct label (prediction was {prediction:?})")]
    OverrideWithoutLabel {
        /// The model's prediction that was overridden.
        prediction: String,
    },
    /// An OVERRIDE whose correct label is the model's prediction: that is a CONFIRM.
    #[error(
        "an OVERRIDE verdict must carry a label different from the prediction, both are {label:?}"
    )]
    OverrideSameLabel {
        /// The label given as both prediction and correction.
        label: String,
    },
    /// A CONFIRM whose correct label differs from the prediction: that is an OVERRIDE.
    #[error(
        "a CONFIRM verdict confirms the prediction {prediction:?}, but the correct label given is {label:?}"
    )]
    ConfirmLabelMismatch {
        /// The model's prediction.
        prediction: String,
        /// The different label given.
        label: String,
    },
    /// A label that the store's class set does not know, at insert time.
    #[error("unknown label {label:?} (known classes: {known})")]
    UnknownLabel {
        /// The label as given.
        label: String,
        /// The class names, comma-separated.
        known: String,
    },
    /// A stored sample's correct label is not in the class set it is loaded with.
    #[error("sample {sample_id}: unknown label {label:?} (known classes: {known})")]
    UnknownSampleLabel {
        /// The sample's id.
        sample_id: i64,
        /// The stored label.
        label: String,
        /// The class names, comma-separated.
        known: String,
    },
    /// A stored sample's feature vector does not have the expected width.
    #[error("sample {sample_id}: {found} features, expected {expected}")]
    WidthMismatch {
        /// The sample's id.
        sample_id: i64,
        /// The expected width (number of feature names).
        expected: usize,
        /// The stored width.
        found: usize,
    },
    /// A stored row that breaks the store's own format (e.g. a feature blob whose length is
    /// not a multiple of 4).
    #[error("sample store row {id} in {table} is corrupt: {reason}")]
    CorruptRow {
        /// The table.
        table: &'static str,
        /// The row id.
        id: i64,
        /// What is wrong.
        reason: String,
    },
    /// Marking samples used updated fewer rows than asked: some ids are unknown, already
    /// used, or UNCERTAIN. Nothing was marked.
    #[error(
        "cannot mark {requested} samples used: only {eligible} are unused trainable samples (nothing marked)"
    )]
    MarkUsed {
        /// How many distinct ids were given.
        requested: usize,
        /// How many of them were eligible.
        eligible: usize,
    },
    /// A prediction already has a different feedback (the same one again is not an
    /// error: it returns the stored sample).
    #[error(
        "prediction {prediction_id} already has feedback {stored} (sample {sample_id}); a different verdict is refused"
    )]
    FeedbackConflict {
        /// The prediction.
        prediction_id: String,
        /// The stored sample.
        sample_id: i64,
        /// The stored verdict and label.
        stored: String,
    },
    /// A retrain job that does not exist or is already finished.
    #[error("retrain job {id} is not running")]
    JobNotRunning {
        /// The job id.
        id: i64,
    },
    /// Building the training dataset failed.
    #[error("cannot build the training dataset: {0}")]
    Dataset(#[from] vigil_core::CoreError),
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub(crate) fn sqlite(context: &'static str) -> impl FnOnce(rusqlite::Error) -> Self {
        move |source| Self::Sqlite { context, source }
    }
}
