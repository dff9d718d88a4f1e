//! The error type of vigil-model.

/// What can go wrong when checking parameters, fitting a model or predicting with one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A hyper-parameter is outside its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParam {
        /// The parameter's name, as spelled by its builder method.
        name: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// What the value must satisfy.
        reason: &'static str,
    },
    /// An input matrix has the wrong number of feature columns.
    #[error("{what} has {found} features, expected {expected}")]
    WidthMismatch {
        /// Which input, e.g. "input" or "validation set".
        what: &'static str,
        /// The width the model was fitted on.
        expected: usize,
        /// The width given.
        found: usize,
    },
    /// Something this model cannot do, or an argument out of range for it.
    #[error("not supported: {what}")]
    Unsupported {
        /// What was asked.
        what: String,
    },
    /// A feature value is NaN or infinite.
    #[error("non-finite {what} value {value} at row {row}, column {column}")]
    NonFinite {
        /// Which input, e.g. "input" or "training feature".
        what: &'static str,
        /// Row of the bad value.
        row: usize,
        /// Column of the bad value.
        column: usize,
        /// The value itself.
        value: f32,
    },
    /// Fitting needs at least one row.
    #[error("{what} has no rows")]
    Empty {
        /// Which input was empty.
        what: &'static str,
    },
    /// A model needs at least two classes to tell apart.
    #[error("a classifier needs at least 2 classes, the class set has {found}")]
    TooFewClasses {
        /// Number of classes in the training set's class set.
        found: usize,
    },
    /// The validation set's class set differs from the training set's.
    #[error("validation set has classes [{found}], training set has [{expected}]")]
    ClassMismatch {
        /// The training classes, comma-separated.
        expected: String,
        /// The validation classes, comma-separated.
        found: String,
    },
    /// The sample weights do not have one entry per training row.
    #[error("{found} sample weights for {expected} training rows")]
    WeightsLength {
        /// Number of training rows.
        expected: usize,
        /// Number of weights given.
        found: usize,
    },
    /// A sample weight is negative or not finite, or all weights are zero.
    #[error(
        "invalid sample weight {value} at row {row}: weights must be finite, >= 0 and not all 0"
    )]
    InvalidWeight {
        /// Row of the bad weight (for all-zero weights, 0).
        row: usize,
        /// The weight itself.
        value: f32,
    },
    /// The training loss does not suit the parameters or the data (e.g. class weights for
    /// another number of classes, a negative focal γ).
    #[error("invalid training loss: {0}")]
    InvalidLoss(vigil_loss::LossError),
    /// Training produced a non-finite logit (the learning rate is too high for the data).
    #[error(
        "training diverged in epoch {epoch}: a logit became non-finite; lower the learning rate"
    )]
    Diverged {
        /// The 1-based epoch in which it happened.
        epoch: usize,
    },
    /// An external solver (smartcore's logistic regression) failed or returned non-finite
    /// coefficients.
    #[error("solver failed: {reason}")]
    Solver {
        /// What the solver reported.
        reason: String,
    },
    /// A deserialised model is internally inconsistent (a corrupted or hand-edited file).
    #[error("corrupt model: {reason}")]
    Corrupt {
        /// Which structural check failed.
        reason: String,
    },
    /// Balancing the training split failed.
    #[error("balancing: {0}")]
    Balance(#[from] vigil_balance::BalanceError),
    /// Fitting thresholds failed.
    #[error("thresholds: {0}")]
    Thresholds(#[from] vigil_thresholds::ThresholdError),
    /// A dataset or standardiser operation failed.
    #[error(transparent)]
    Core(#[from] vigil_core::CoreError),
    /// Temperature scaling failed.
    #[error("temperature scaling: {0}")]
    Calibration(vigil_loss::LossError),
    /// The bytes are not a vigil model artifact at all.
    #[error("not a vigil model artifact: {reason}")]
    NotAnArtifact {
        /// What was wrong with the header.
        reason: String,
    },
    /// The artifact was written in another format version.
    #[error("artifact format {found} is not supported (this build reads format {expected})")]
    ArtifactFormat {
        /// The file's format version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The artifact was trained on another feature schema.
    #[error("artifact was trained on feature schema {found:?}, expected {expected:?}")]
    SchemaMismatch {
        /// The schema the caller serves.
        expected: String,
        /// The artifact's schema.
        found: String,
    },
}

/// `Result` with [`ModelError`].
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
