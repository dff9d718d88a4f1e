//! The error type of vigil-loss.

/// What can go wrong when evaluating a loss, computing class weights or fitting a temperature.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LossError {
    /// A target (or validation label) is not a column index of the logits.
    #[error("target {target} at row {row} out of range for {n_classes} classes")]
    TargetOutOfRange {
        /// Row of the bad target.
        row: usize,
        /// The target as given.
        target: usize,
        /// How many classes (logit columns) there are.
        n_classes: usize,
    },
    /// Two things that must have the same length or shape do not.
    #[error("{what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// What was being compared, e.g. "targets vs logit rows".
        what: &'static str,
        /// The size required.
        expected: usize,
        /// The size given.
        found: usize,
    },
    /// A logit is NaN or infinite.
    #[error("non-finite logit {value} at row {row}, column {column}")]
    NonFiniteLogit {
        /// Row of the bad logit.
        row: usize,
        /// Column (class) of the bad logit.
        column: usize,
        /// The value itself.
        value: f32,
    },
    /// The batch has no rows, so a mean over it is undefined.
    #[error("{0} needs at least one row")]
    EmptyBatch(&'static str),
    /// A loss, weighting or temperature parameter is outside its domain.
    #[error("invalid {param}: {reason}")]
    InvalidParam {
        /// The parameter, e.g. "gamma" or "beta".
        param: &'static str,
        /// The value given and the domain it must lie in.
        reason: String,
    },
}

/// `Result` with [`LossError`].
pub type Result<T, E = LossError> = std::result::Result<T, E>;
