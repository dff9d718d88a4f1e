//! The error type of the scenario simulator and its labelled-JSONL reader.

use std::net::IpAddr;
use std::path::PathBuf;

/// What can go wrong when simulating, or reading and writing labelled event files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulateError {
    /// [`SimParams`](super::SimParams) that cannot be simulated.
    #[error("invalid simulation parameters: {reason}")]
    InvalidParams {
        /// What is wrong, naming the field and its value.
        reason: String,
    },
    /// A file could not be created, opened, read or written.
    #[error("{}: {error}", .path.display())]
    Io {
        /// The file (`<reader>` / `<writer>` for a stream).
        path: PathBuf,
        /// What the operating system or the (de)compressor said.
        error: std::io::Error,
    },
    /// A line of a labelled file that is not an event in the generic JSONL form.
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// Why it was rejected.
        reason: String,
    },
    /// A line of a labelled file without a `label` field (when every line must have one).
    #[error("line {line}: no \"label\" field")]
    MissingLabel {
        /// 1-based line number.
        line: usize,
    },
    /// A label outside the 7 threat classes (and their aliases).
    #[error("line {line}: unknown label {label:?} (classes: {known})")]
    UnknownLabel {
        /// 1-based line number.
        line: usize,
        /// The label as found.
        label: String,
        /// The class names, comma-separated.
        known: String,
    },
    /// Two lines give one source address different labels.
    #[error("line {line}: source {ip} is labelled {second:?} here but {first:?} before")]
    ConflictingLabels {
        /// 1-based line number of the second label.
        line: usize,
        /// The source address.
        ip: IpAddr,
        /// The label seen first.
        first: String,
        /// The label on this line.
        second: String,
    },
}
