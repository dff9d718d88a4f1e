//! The error type of vigil-balance.

use vigil_core::CoreError;

/// What can go wrong when balancing a data set. Nothing is resampled when an error is
/// returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BalanceError {
    /// The input has no rows.
    #[error("no rows to balance")]
    Empty,
    /// The feature matrix and the labels disagree on the number of rows.
    #[error("feature matrix has {rows} rows but {labels} labels were given")]
    ShapeMismatch {
        /// Rows of the feature matrix.
        rows: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A label is not a class index.
    #[error("label {label} at row {row} is out of range for {n_classes} classes")]
    LabelOutOfRange {
        /// Row of the bad label.
        row: usize,
        /// The label itself.
        label: usize,
        /// How many classes there are.
        n_classes: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("non-finite feature value {value} at row {row}, column {column}")]
    NonFinite {
        /// Row of the bad value.
        row: usize,
        /// Column of the bad value.
        column: usize,
        /// The value itself.
        value: f32,
    },
    /// Only one class has rows, so there is nothing to balance against.
    #[error("only one class (class {class}) is present: balancing needs at least two classes")]
    SingleClass {
        /// The one class present.
        class: usize,
    },
    /// A parameter is outside its domain.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParam {
        /// The parameter, e.g. `k_neighbors`.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A per-class strategy (counts or fractions) has the wrong number of entries.
    #[error("sampling strategy gives {found} classes but the data have {expected}")]
    StrategyLength {
        /// Number of classes of the data.
        expected: usize,
        /// Number of entries in the strategy.
        found: usize,
    },
    /// An over-sampler was asked for fewer rows than a class has.
    #[error("class {class} has {count} rows but its target is {target}: {method} only adds rows")]
    TargetBelowCount {
        /// The class.
        class: usize,
        /// The requested count.
        target: usize,
        /// The current count.
        count: usize,
        /// The method's name.
        method: &'static str,
    },
    /// The under-sampler was asked for more rows than a class has.
    #[error(
        "class {class} has {count} rows but its target is {target}: random-under only removes rows"
    )]
    TargetAboveCount {
        /// The class.
        class: usize,
        /// The requested count.
        target: usize,
        /// The current count.
        count: usize,
    },
    /// A class with no rows was given a positive target: there is nothing to copy or
    /// interpolate from.
    #[error("class {class} has no rows, so it cannot be over-sampled to {target}")]
    EmptyClass {
        /// The class.
        class: usize,
        /// The requested count.
        target: usize,
    },
    /// A method name that [`Method`](crate::Method) does not know.
    #[error("unknown balancing method {name:?} (known: {known})")]
    UnknownMethod {
        /// The name as given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// The balanced rows did not make a valid [`vigil_core::Dataset`].
    #[error("building the balanced dataset: {0}")]
    Dataset(#[from] CoreError),
}

/// `Result` with [`BalanceError`].
pub type Result<T, E = BalanceError> = std::result::Result<T, E>;
