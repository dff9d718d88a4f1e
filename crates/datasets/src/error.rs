//! The error type of vigil-datasets.

use std::path::PathBuf;

use vigil_core::CoreError;

/// What can go wrong when loading a dataset file.
///
/// Errors about a file's content start with `path:line:` (line 1-based, as an editor shows it;
/// for a quoted field spanning lines, the line the record starts on) and name the column by
/// its 1-based position and its name. Messages are complete in themselves: an underlying
/// I/O or vigil-core error is part of the message and not also returned as `source()`, so
/// that error chains print it once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The file could not be opened or read (missing, unreadable, or a corrupt gzip stream).
    #[error("{}: {error}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system or the decompressor said.
        error: std::io::Error,
    },
    /// The file has no data rows: it is empty, or holds only a header.
    #[error("{}: no data rows", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The header lacks a column that the format, the spec or the fitted encoding needs.
    #[error("{}:1: the header has no column {name:?}", .path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column name looked for (after trimming spaces).
        name: String,
    },
    /// A row has more or fewer fields than the header (or than a headerless format defines),
    /// e.g. a truncated last line.
    #[error("{}:{line}: expected {expected} columns, found {found}", .path.display())]
    ColumnCount {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// Number of columns in the header or format.
        expected: usize,
        /// Number of fields in the row.
        found: usize,
    },
    /// A numeric feature field that does not parse as a number (empty fields included).
    #[error("{}:{line}: column {column} ({name}): {value:?} is not a number", .path.display())]
    NotNumeric {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// The 1-based column position.
        column: usize,
        /// The column name.
        name: String,
        /// The field as found (invalid UTF-8 replaced by U+FFFD).
        value: String,
    },
    /// A label outside the class set: not in the fixed mapping of the format, or (for a file
    /// loaded with a fitted encoding) not seen in the training file.
    #[error(
        "{}:{line}: column {column} ({name}): unknown label {label:?} (classes: {known})",
        .path.display()
    )]
    UnknownLabel {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// The 1-based column position of the label.
        column: usize,
        /// The label column name.
        name: String,
        /// The label as found, trimmed.
        label: String,
        /// The class names, comma-separated.
        known: String,
    },
    /// A spec that contradicts itself, e.g. a label column also listed as categorical.
    #[error("invalid dataset spec: {reason}")]
    InvalidSpec {
        /// What is contradictory.
        reason: String,
    },
    /// A dataset kind name that is not one of `nsl-kdd`, `unsw-nb15`, `cic-ids2017`, `csv`.
    #[error("unknown dataset kind {0:?} (expected nsl-kdd, unsw-nb15, cic-ids2017 or csv)")]
    UnknownKind(String),
    /// A UNSW-NB15 target name that is neither `attack_cat` nor `label`.
    #[error("unknown UNSW-NB15 target {0:?} (expected attack_cat or label)")]
    UnknownTarget(String),
    /// vigil-core rejected the loaded rows, e.g. an encoding edited by hand whose class set
    /// does not fit its data.
    #[error("{}: {error}", .path.display())]
    Core {
        /// The file.
        path: PathBuf,
        /// The check that failed.
        error: CoreError,
    },
}

/// `Result` with [`DatasetError`].
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;
