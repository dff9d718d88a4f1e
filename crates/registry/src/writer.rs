//! The writer: register, promote, roll back.

use std::path::{Path, PathBuf};

use crate::fsio::{
    append_line, create_dir_all, rename_durable, replace_atomic, sha256_hex, sync_dir, write_new,
};
use crate::lock::{LockHolder, WriterLock};
use crate::manifest::{MANIFEST_FORMAT, POINTER_FORMAT, Pointer};
use crate::reader::{ARTIFACT_FILE, Layout, MANIFEST_FILE, check_artifact};
use crate::{AuditAction, AuditEntry, Manifest, NewVersion, RegistryError, RegistryReader, Result};

/// The registry's writer (the retrain worker, and the server's one-time bootstrap). Holds
/// the [`WriterLock`] for its lifetime; reads go through the same checks as
/// [`RegistryReader`].
#[derive(Debug, Clone)]
pub struct Registry {
    reader: RegistryReader,
    lock: WriterLock,
}

impl Registry {
    /// Opens the registry at `dir` for writing, creating the layout if missing, and takes its
    /// writer lock (shared with any [`WriterLock`] this process already holds for `dir`;
    /// [`RegistryError::Locked`], naming the holder, if another process holds it).
    /// Leftovers of an interrupted registration in `tmp/` are removed.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let lock = Self::lock_writer(dir)?;
        Self::with_lock(lock)
    }

    /// Takes the writer lock of the registry at `dir` (creating the directory), without
    /// opening it: e.g. to hold it across a bootstrap that opens the registry later.
    pub fn lock_writer(dir: impl AsRef<Path>) -> Result<WriterLock> {
        let dir = dir.as_ref();
        create_dir_all(dir)?;
        WriterLock::acquire(dir)
    }

    /// Opens the registry that `lock` is for.
    pub fn with_lock(lock: WriterLock) -> Result<Self> {
        let layout = Layout { dir: lock.dir().to_path_buf() };
        create_dir_all(&layout.models())?;
        let tmp = layout.tmp();
        {
            let _guard = lock.write_guard();
            if tmp.exists() {
                std::fs::remove_dir_all(&tmp).map_err(RegistryError::io("cleaning", &tmp))?;
            }
            create_dir_all(&tmp)?;
        }
        Ok(Self { reader: RegistryReader { layout }, lock })
    }

    /// The lock this writer holds.
    pub fn lock(&self) -> &WriterLock {
        &self.lock
    }

    /// A read-only handle on the same directory.
    pub fn reader(&self) -> RegistryReader {
        self.reader.clone()
    }

    /// The registry directory.
    pub fn dir(&self) -> &Path {
        self.reader.dir()
    }

    /// Registers an artifact as a new version (not champion): checks that it decodes and
    /// matches `info`, writes `artifact.bin` and `manifest.json` into a staging directory,
    /// fsyncs them, renames the directory into `models/`, and appends a `register` audit entry.
    pub fn register(&self, artifact_bytes: &[u8], info: NewVersion) -> Result<Manifest> {
        let _guard = self.lock.write_guard();
        if info.schema_version.trim().is_empty() {
            return Err(RegistryError::InvalidRegistration {
                reason: "the schema version is empty".into(),
            });
        }
        let artifact = check_artifact(artifact_bytes, &info.schema_version, &info.classes)
            .map_err(|reason| RegistryError::InvalidArtifact {
                path: PathBuf::from("<artifact to register>"),
                reason,
            })?;
        if let Some(parent) = &info.parent
            && let Err(e) = self.reader.manifest(parent)
        {
            return Err(RegistryError::InvalidRegistration {
                reason: format!("parent {parent:?}: {e}"),
            });
        }
        let number = self.reader.version_ids()?.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
        let version = format!("v{number}");
        let manifest = Manifest {
            format_version: MANIFEST_FORMAT,
            version: version.clone(),
            created_at: jiff::Timestamp::now().to_string(),
            schema_version: info.schema_version,
            classes: artifact.classes.names().to_vec(),
            holdout_metrics: info.holdout_metrics,
            training_summary: info.training_summary,
            parent: info.parent,
            sha256: sha256_hex(artifact_bytes),
        };
        let layout = &self.reader.layout;
        let stage = layout.tmp().join(format!("{version}.{}", std::process::id()));
        if stage.exists() {
            std::fs::remove_dir_all(&stage).map_err(RegistryError::io("cleaning", &stage))?;
        }
        create_dir_all(&stage)?;
        write_new(&stage.join(ARTIFACT_FILE), artifact_bytes)?;
        write_new(&stage.join(MANIFEST_FILE), &to_json_pretty(&manifest))?;
        sync_dir(&stage)?;
        rename_durable(&stage, &layout.version_dir(&version))?;
        self.audit(AuditAction::Register, &manifest, manifest.parent.clone(), "registered")?;
        Ok(manifest)
    }

    /// Makes `version` the champion: verifies it (checksum, format, schema), then replaces
    /// the `champion` pointer atomically (write, fsync, rename, fsync the directory) and
    /// appends a `promote` audit entry with `reason` and the version's holdout metrics.
    pub fn promote(&self, version: &str, reason: &str) -> Result<()> {
        let _guard = self.lock.write_guard();
        let (manifest, _) = self.reader.load(version)?;
        let current = self.reader.pointer()?;
        let mut previous = Vec::new();
        if let Some(current) = current {
            if current.version == version {
                return Err(RegistryError::AlreadyChampion { version: version.to_owned() });
            }
            previous = current.previous;
            previous.push(current.version);
        }
        let before = previous.last().cloned();
        self.write_pointer(version, previous)?;
        self.audit(AuditAction::Promote, &manifest, before, reason)
    }

    /// Makes the previous champion the champion again (verifying it first) and appends a
    /// `rollback` audit entry; returns its manifest.
    pub fn rollback(&self, reason: &str) -> Result<Manifest> {
        let _guard = self.lock.write_guard();
        let Some(mut pointer) = self.reader.pointer()? else {
            return Err(RegistryError::NoChampion { dir: self.dir().to_path_buf() });
        };
        let Some(target) = pointer.previous.pop() else {
            return Err(RegistryError::NoPrevious { current: pointer.version });
        };
        let (manifest, _) = self.reader.load(&target)?;
        self.write_pointer(&target, pointer.previous)?;
        self.audit(AuditAction::Rollback, &manifest, Some(pointer.version), reason)?;
        Ok(manifest)
    }

    /// The champion's manifest (not verifying the artifact).
    pub fn champion(&self) -> Result<Option<Manifest>> {
        self.reader.champion_manifest()
    }

    /// Every registered version, oldest first.
    pub fn list(&self) -> Result<Vec<Manifest>> {
        self.reader.list()
    }

    /// The audit log, oldest first.
    pub fn history(&self) -> Result<Vec<AuditEntry>> {
        self.reader.history()
    }

    fn write_pointer(&self, version: &str, previous: Vec<String>) -> Result<()> {
        let layout = &self.reader.layout;
        let pointer = Pointer {
            format_version: POINTER_FORMAT,
            version: version.to_owned(),
            since: jiff::Timestamp::now().to_string(),
            previous,
        };
        let staging = layout.tmp().join(format!("champion.{}", std::process::id()));
        replace_atomic(&staging, &layout.champion(), &to_json_pretty(&pointer))
    }

    fn audit(
        &self,
        action: AuditAction,
        manifest: &Manifest,
        previous: Option<String>,
        reason: &str,
    ) -> Result<()> {
        let me = LockHolder::me();
        let entry = AuditEntry {
            at: jiff::Timestamp::now().to_string(),
            action,
            version: manifest.version.clone(),
            previous,
            reason: reason.to_owned(),
            metrics: manifest.holdout_metrics.clone(),
            pid: me.pid,
            host: me.host,
        };
        let line = serde_json::to_string(&entry).unwrap_or_default();
        append_line(&self.reader.layout.audit(), &line)
    }
}

fn to_json_pretty<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
