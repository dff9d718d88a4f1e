//! The error type of vigil-core.

/// What can go wrong when building class sets, datasets, splits or metrics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A label is neither a class name nor an alias of one.
    #[error("unknown label {label:?} (known classes: {known})")]
    UnknownLabel {
        /// The label as given.
        label: String,
        /// The class names, comma-separated.
        known: String,
    },
    /// A class set was built with no classes, or with a name used twice.
    #[error("invalid class set: {reason}")]
    InvalidClassSet {
        /// Why the set was rejected.
        reason: String,
    },
    /// Two things that must have the same length or width do not.
    #[error("{what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// What was being compared, e.g. "labels vs feature rows".
        what: String,
        /// The size required.
        expected: usize,
        /// The size given.
        found: usize,
    },
    /// A class index does not exist in the class set.
    #[error("class index {index} out of range for {n_classes} classes")]
    ClassOutOfRange {
        /// The index given.
        index: usize,
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
    /// A split fraction outside (0, 1).
    #[error("split fraction must be in (0, 1), got {0}")]
    InvalidFraction(f64),
    /// An operation needs at least one row.
    #[error("{0} needs at least one row")]
    Empty(&'static str),
}

/// `Result` with [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
