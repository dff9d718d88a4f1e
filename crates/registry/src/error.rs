//! The error type of vigil-registry.

use std::io;
use std::path::PathBuf;

use crate::LockHolder;

/// What can go wrong opening, writing or reading a registry. Every variant about a file names
/// the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done, e.g. "reading" or "renaming into place".
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Another writer holds the registry's writer lock.
    #[error("registry {dir} is locked by another writer: {}", holder.as_ref().map_or_else(|| "holder unknown".to_owned(), ToString::to_string))]
    Locked {
        /// The registry directory.
        dir: PathBuf,
        /// Who holds it, as recorded in the lock file (absent if unreadable).
        holder: Option<LockHolder>,
    },
    /// No version with this id is registered.
    #[error("model version {version:?} not found (no {path})")]
    NotFound {
        /// The version asked for.
        version: String,
        /// The directory that does not exist.
        path: PathBuf,
    },
    /// An artifact's bytes do not hash to the sha256 its manifest records.
    #[error("checksum mismatch in {path}: manifest says sha256 {expected}, file has {found}")]
    ChecksumMismatch {
        /// The artifact file.
        path: PathBuf,
        /// The manifest's sha256.
        expected: String,
        /// The file's sha256.
        found: String,
    },
    /// An artifact file does not decode as a model artifact, or its contents contradict its
    /// manifest (schema version, classes).
    #[error("invalid artifact {path}: {reason}")]
    InvalidArtifact {
        /// The artifact file (or `<artifact bytes>` at registration).
        path: PathBuf,
        /// What was wrong (the decoder's message, or the mismatch).
        reason: String,
    },
    /// A manifest, pointer or audit-log line is not what this build reads.
    #[error("corrupt {path}: {reason}")]
    Corrupt {
        /// The file (with `:line` for an audit-log line).
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A file was written in a format version this build does not read.
    #[error("{path} has format version {found}, this build reads {expected}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The file's format version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The operation needs a champion and there is none.
    #[error("registry {dir} has no champion")]
    NoChampion {
        /// The registry directory.
        dir: PathBuf,
    },
    /// A rollback found no earlier champion to return to.
    #[error("cannot roll back: {current} is the first champion, there is no previous one")]
    NoPrevious {
        /// The current champion.
        current: String,
    },
    /// A promote named the version that already is the champion.
    #[error("{version} is already the champion")]
    AlreadyChampion {
        /// The version.
        version: String,
    },
    /// The registration info is unusable (e.g. an empty schema version, a bad parent).
    #[error("invalid registration: {reason}")]
    InvalidRegistration {
        /// What was wrong.
        reason: String,
    },
}

impl RegistryError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { op, path, source }
    }
}

/// `Result` with [`RegistryError`].
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
