//! The error type of vigil-thresholds.

/// What can go wrong when fitting, building or parsing thresholds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ThresholdError {
    /// Fitting was given no validation rows.
    #[error("no validation rows to fit thresholds on")]
    Empty,
    /// The probability matrix (or threshold list) has no classes.
    #[error("no classes: the probability matrix has zero columns")]
    NoClasses,
    /// Two things that must have the same length or width do not.
    #[error("{what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// What was being compared, e.g. "labels vs probability rows".
        what: &'static str,
        /// The size required.
        expected: usize,
        /// The size given.
        found: usize,
    },
    /// A label is not a column index of the probability matrix.
    #[error("label {label} at row {row} out of range for {n_classes} classes")]
    LabelOutOfRange {
        /// Row of the bad label.
        row: usize,
        /// The label as given.
        label: usize,
        /// How many classes (probability columns) there are.
        n_classes: usize,
    },
    /// A probability is NaN, infinite or outside [0, 1].
    #[error("invalid probability {value} at row {row}, column {column}: must be in [0, 1]")]
    InvalidProbability {
        /// Row of the bad value.
        row: usize,
        /// Column (class) of the bad value.
        column: usize,
        /// The value itself.
        value: f32,
    },
    /// A threshold is NaN or outside [0, 1].
    #[error("invalid threshold {value} for class {class}: must be in [0, 1]")]
    InvalidThreshold {
        /// The class whose threshold it is.
        class: usize,
        /// The value itself.
        value: f32,
    },
    /// A class index (normal class, per-class override) does not exist.
    #[error("{what} {class} out of range for {n_classes} classes")]
    ClassOutOfRange {
        /// Which setting named the class, e.g. "normal class".
        what: &'static str,
        /// The index given.
        class: usize,
        /// How many classes there are.
        n_classes: usize,
    },
    /// A fitting parameter is outside its domain.
    #[error("invalid {param}: {reason}")]
    InvalidParam {
        /// The parameter, e.g. "grid step" or "min_precision".
        param: &'static str,
        /// The value given and the domain it must lie in.
        reason: String,
    },
    /// A string is not an objective or search in the documented syntax.
    #[error("cannot parse {what} {input:?}: {reason}")]
    Parse {
        /// What was being parsed: "objective" or "search".
        what: &'static str,
        /// The text as given.
        input: String,
        /// What was wrong with it, with the accepted forms.
        reason: String,
    },
}

/// `Result` with [`ThresholdError`].
pub type Result<T, E = ThresholdError> = std::result::Result<T, E>;
