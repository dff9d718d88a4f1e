//! Durable file operations: atomic replace (write, fsync, rename, fsync the directory),
//! append-and-fsync, checksums.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{RegistryError, Result};

/// Lowercase hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in &digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Writes `bytes` to a new file at `path` and fsyncs it (the file must not exist).
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(RegistryError::io("creating", path))?;
    file.write_all(bytes).map_err(RegistryError::io("writing", path))?;
    file.sync_all().map_err(RegistryError::io("syncing", path))
}

/// Fsyncs a directory, so that the entries created or renamed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(RegistryError::io("syncing directory", dir))
}

/// Renames `from` to `to` (same file system) and fsyncs `to`'s directory.
pub(crate) fn rename_durable(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(RegistryError::io("renaming into place", to))?;
    sync_dir(to.parent().unwrap_or(Path::new(".")))
}

/// Replaces `path` atomically with `bytes`: a reader opens either the old file or the new
/// one, never a mix. `staging` is a scratch file on the same file system.
pub(crate) fn replace_atomic(staging: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    match fs::remove_file(staging) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(RegistryError::io("removing", staging)(e)),
    }
    write_new(staging, bytes)?;
    rename_durable(staging, path)
}

/// Appends one line (a newline is added) and fsyncs, after cutting off a torn tail (a last
/// line without its newline, left by a crash mid-append: it was never acknowledged).
pub(crate) fn append_line(path: &Path, line: &str) -> Result<()> {
    let existed = path.exists();
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(RegistryError::io("opening", path))?;
    repair_tail(&mut file, path)?;
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    // One write call per line: with O_APPEND the line lands whole at the end.
    file.write_all(&bytes).map_err(RegistryError::io("appending to", path))?;
    file.sync_data().map_err(RegistryError::io("syncing", path))?;
    if !existed {
        sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    }
    Ok(())
}

fn repair_tail(file: &mut File, path: &Path) -> Result<()> {
    let len = file.metadata().map_err(RegistryError::io("reading metadata of", path))?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0_u8; 1];
    file.seek(SeekFrom::End(-1))
        .and_then(|_| file.read_exact(&mut last))
        .map_err(RegistryError::io("reading", path))?;
    if last[0] == b'\n' {
        return Ok(());
    }
    let mut contents = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut contents))
        .map_err(RegistryError::io("reading", path))?;
    let keep = contents.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    file.set_len(keep as u64).map_err(RegistryError::io("truncating a torn line of", path))?;
    file.sync_data().map_err(RegistryError::io("syncing", path))
}

/// Reads a whole file, naming it on error; `Ok(None)` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RegistryError::io("reading", path)(e)),
    }
}

/// Creates a directory and its parents.
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(RegistryError::io("creating directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_is_the_published_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn append_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        append_line(&log, "one").unwrap();
        fs::write(&log, b"one\n{\"torn").unwrap();
        append_line(&log, "two").unwrap();
        assert_eq!(fs::read_to_string(&log).unwrap(), "one\ntwo\n");
        fs::write(&log, b"torn").unwrap();
        append_line(&log, "three").unwrap();
        assert_eq!(fs::read_to_string(&log).unwrap(), "three\n");
    }

    #[test]
    fn replace_is_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pointer");
        let staging = dir.path().join("pointer.tmp");
        replace_atomic(&staging, &path, b"first").unwrap();
        replace_atomic(&staging, &path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert!(!staging.exists());
    }
}
