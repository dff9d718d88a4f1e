//! The writer lock: one writer per registry, across processes and within one.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use serde::{Deserialize, Serialize};

use crate::{RegistryError, Result};

/// Name of the lock file inside the registry directory.
pub(crate) const LOCK_FILE: &str = "writer.lock";

/// Who holds a registry's writer lock, as recorded in its lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// When the lock was taken (RFC 3339).
    pub since: String,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {} on {} since {}", self.pid, self.host, self.since)
    }
}

impl LockHolder {
    /// This process, now.
    pub(crate) fn me() -> Self {
        Self {
            pid: std::process::id(),
            host: hostname(),
            since: jiff::Timestamp::now().to_string(),
        }
    }
}

/// The host name, from the kernel, else `$HOSTNAME`, else `unknown`.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Proof that this process is the registry's writer; the lock is released when the last
/// clone is dropped (or the process dies: it is an advisory `flock`, which the kernel drops
/// with the process, so a killed writer never leaves a stale lock).
///
/// Within one process the lock is shared: taking it again while a [`WriterLock`] for the
/// same directory is alive returns another handle to the same lock (writes through any
/// handle are serialised by an in-process mutex). Another process gets
/// [`RegistryError::Locked`] naming the holder.
#[derive(Clone)]
pub struct WriterLock {
    inner: Arc<LockInner>,
}

struct LockInner {
    dir: PathBuf,
    path: PathBuf,
    file: File,
    holder: LockHolder,
    /// Serialises write operations of the handles in this process.
    writes: Mutex<()>,
}

impl fmt::Debug for WriterLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriterLock")
            .field("path", &self.inner.path)
            .field("holder", &self.inner.holder)
            .finish()
    }
}

impl Drop for LockInner {
    fn drop(&mut self) {
        // Clear the holder record before releasing, so nobody reads it as current. Errors
        // are ignored: closing the file releases the lock regardless.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Locks held by this process, by canonical lock-file path.
static HELD: Mutex<Vec<(PathBuf, Weak<LockInner>)>> = Mutex::new(Vec::new());

impl WriterLock {
    /// Takes the writer lock of the registry at `dir` (which must exist), without waiting.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(RegistryError::io("opening the lock file", &path))?;
        let canonical = path.canonicalize().map_err(RegistryError::io("resolving", &path))?;
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        held.retain(|(_, weak)| weak.strong_count() > 0);
        if let Some(inner) =
            held.iter().find(|(p, _)| *p == canonical).and_then(|(_, weak)| weak.upgrade())
        {
            return Ok(Self { inner });
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(RegistryError::Locked {
                    dir: dir.to_path_buf(),
                    holder: read_holder(&mut file),
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(RegistryError::io("locking", &path)(e));
            }
        }
        let holder = LockHolder::me();
        let record = serde_json::to_vec(&holder).unwrap_or_default();
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(&record))
            .and_then(|()| file.sync_data())
            .map_err(RegistryError::io("writing the lock file", &path))?;
        let inner = Arc::new(LockInner {
            dir: dir.to_path_buf(),
            path,
            file,
            holder,
            writes: Mutex::new(()),
        });
        held.push((canonical, Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// Who holds the lock of the registry at `dir`, if anyone does (read without locking).
    pub fn holder(dir: &Path) -> Result<Option<LockHolder>> {
        let path = dir.join(LOCK_FILE);
        let Ok(mut file) = File::open(&path) else { return Ok(None) };
        match file.try_lock_shared() {
            // Nobody holds it exclusively: whatever the file says is stale.
            Ok(()) => {
                let _ = file.unlock();
                Ok(None)
            }
            Err(TryLockError::WouldBlock) => Ok(read_holder(&mut file)),
            Err(TryLockError::Error(e)) => Err(RegistryError::io("locking", &path)(e)),
        }
    }

    /// The holder recorded by this lock (this process).
    pub fn info(&self) -> &LockHolder {
        &self.inner.holder
    }

    /// The registry directory this lock is for.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Serialises a write operation with the other handles of this process.
    pub(crate) fn write_guard(&self) -> MutexGuard<'_, ()> {
        self.inner.writes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}
