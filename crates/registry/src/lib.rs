//! vigil-registry: the on-disk model registry: immutable versions, an atomic champion
//! pointer and an append-only audit log.
//!
//! - [`Registry`]: the writer (the retrain worker; the server only for its one-time
//!   bootstrap). [`Registry::register`] stores an artifact as a new version `v<n>`,
//!   [`Registry::promote`] makes a version the champion, [`Registry::rollback`] returns to the
//!   previous champion; [`Registry::champion`], [`Registry::list`], [`Registry::history`] read.
//! - [`WriterLock`]: one writer per registry. A second process gets [`RegistryError::Locked`]
//!   with the holder's pid, host and start time ([`LockHolder`]).
//! - [`RegistryReader`]: the read-only handle of the server and evaluation; takes no lock.
//!   [`RegistryReader::champion_version`] reads only the pointer (cheap to poll for hot
//!   reload); [`RegistryReader::load_champion`] returns the manifest and the verified bytes.
//! - [`Manifest`] (`manifest.json`), [`NewVersion`] (what the caller supplies),
//!   [`AuditEntry`] (one line of `audit.jsonl`).
//!
//! On disk:
//!
//! ```text
//! <dir>/
//!   models/v1/artifact.bin      the vigil-model artifact (bincode, self-versioned)
//!   models/v1/manifest.json     Manifest: format, version, created_at, schema, classes,
//!                               holdout metrics, training summary, parent, sha256
//!   champion                    {"format_version":1,"version":"v2","since":..,"previous":["v1"]}
//!   audit.jsonl                 one AuditEntry per line: register | promote | rollback
//!   writer.lock                 flock'ed by the writer; holds {"pid","host","since"}
//!   tmp/                        staging for registrations and the pointer (same file system)
//! ```
//!
//! ```
//! use ndarray::Array2;
//! use vigil_core::{ClassSet, Dataset};
//! use vigil_model::pipeline::{self, LossChoice, ModelSpec, PipelineParams};
//! use vigil_model::GbdtParams;
//! use vigil_registry::{NewVersion, Registry, RegistryReader};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let x = Array2::from_shape_fn((60, 2), |(r, c)| if c == 0 { (r % 10) as f32 } else { 1.0 });
//! let labels = x.column(0).iter().map(|&v| usize::from(v > 4.5)).collect();
//! let names = vec!["a".to_owned(), "b".to_owned()];
//! let data = Dataset::new(x, labels, names, ClassSet::new(["normal", "attack"])?)?;
//! let params = PipelineParams {
//!     model: ModelSpec::Gbdt(GbdtParams::new().max_rounds(5).min_samples_leaf(5)),
//!     balance: None,
//!     loss: LossChoice::CrossEntropy,
//!     calibrate: false,
//!     thresholds: None,
//! };
//! let (artifact, _) = pipeline::train(&params, "demo", &data, &data)?;
//!
//! let dir = tempfile::tempdir()?;
//! let registry = Registry::open(dir.path())?;
//! let info = NewVersion::for_artifact(&artifact, serde_json::json!({"macro_f1": 1.0}), serde_json::json!({}), None);
//! let v1 = registry.register(&artifact.to_bytes()?, info)?;
//! registry.promote(&v1.version, "first model")?;
//!
//! let reader = RegistryReader::open(dir.path())?;
//! assert_eq!(reader.champion_version()?.as_deref(), Some("v1"));
//! let (manifest, bytes) = reader.load_champion()?.expect("a champion");
//! assert_eq!(manifest.sha256, v1.sha256);
//! assert_eq!(vigil_model::Artifact::from_bytes(&bytes, Some("demo"))?, artifact);
//! # Ok(())
//! # }
//! ```
//!
//! # Invariants
//! - A registered version directory is never modified or removed: it appears whole (staged,
//!   fsynced, renamed into `models/`) or not at all.
//! - The champion pointer is replaced atomically (write, fsync, rename, fsync the directory):
//!   a reader sees the old champion or the new one, never a mix or a missing file.
//! - Only a version that verifies (sha256, artifact format, schema version, classes) is
//!   registered, promoted or rolled back to; a load that fails these checks is an error naming
//!   the file, never a model.
//! - The audit log is append-only; each entry is one fsynced line. A torn last line (a crash
//!   mid-append, never acknowledged) is cut off by the next append and ignored by readers.
//! - One writer per registry: the writer lock is an OS file lock, released by the kernel if
//!   the holder dies, so a killed worker never leaves the registry locked.

mod error;
mod fsio;
mod lock;
mod manifest;
mod reader;
mod writer;

pub use error::{RegistryError, Result};
pub use lock::{LockHolder, WriterLock};
pub use manifest::{
    AuditAction, AuditEntry, MANIFEST_FORMAT, Manifest, NewVersion, POINTER_FORMAT,
};
pub use reader::RegistryReader;
pub use writer::Registry;
