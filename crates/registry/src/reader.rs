//! The read-only handle, and the layout both handles share.

use std::path::{Path, PathBuf};

use vigil_model::Artifact;

use crate::fsio::{read_optional, sha256_hex};
use crate::manifest::{MANIFEST_FORMAT, POINTER_FORMAT, Pointer};
use crate::{AuditEntry, Manifest, RegistryError, Result};

pub(crate) const MODELS_DIR: &str = "models";
pub(crate) const TMP_DIR: &str = "tmp";
pub(crate) const CHAMPION_FILE: &str = "champion";
pub(crate) const AUDIT_FILE: &str = "audit.jsonl";
pub(crate) const ARTIFACT_FILE: &str = "artifact.bin";
pub(crate) const MANIFEST_FILE: &str = "manifest.json";

/// Where everything lives under a registry directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) dir: PathBuf,
}

impl Layout {
    pub(crate) fn models(&self) -> PathBuf {
        self.dir.join(MODELS_DIR)
    }
    pub(crate) fn tmp(&self) -> PathBuf {
        self.dir.join(TMP_DIR)
    }
    pub(crate) fn champion(&self) -> PathBuf {
        self.dir.join(CHAMPION_FILE)
    }
    pub(crate) fn audit(&self) -> PathBuf {
        self.dir.join(AUDIT_FILE)
    }
    pub(crate) fn version_dir(&self, version: &str) -> PathBuf {
        self.models().join(version)
    }
}

/// The number in a version id `v<n>`; anything else is not a version (this also keeps a
/// caller-supplied id from naming a path outside `models/`).
pub(crate) fn version_number(version: &str) -> Option<u64> {
    let digits = version.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

/// A read-only view of a registry, for the inference server and evaluation. It takes no lock
/// and writes nothing; it may be opened while a writer promotes (a promote replaces the
/// `champion` pointer by rename and never touches a registered version, so a reader sees the
/// old champion or the new one, whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryReader {
    pub(crate) layout: Layout,
}

impl RegistryReader {
    /// Opens the registry at `dir`. A directory that does not exist yet is an empty registry
    /// (no champion, no versions); a path that is not a directory is an error.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(RegistryError::Corrupt { path: dir, reason: "not a directory".into() });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(RegistryError::io("opening registry", dir)(e)),
        }
        Ok(Self { layout: Layout { dir } })
    }

    /// The registry directory.
    pub fn dir(&self) -> &Path {
        &self.layout.dir
    }

    /// The champion's version id, reading only the small pointer file (cheap enough to poll).
    pub fn champion_version(&self) -> Result<Option<String>> {
        Ok(self.pointer()?.map(|p| p.version))
    }

    /// The champion's manifest (not verifying the artifact).
    pub fn champion_manifest(&self) -> Result<Option<Manifest>> {
        self.champion_version()?.map(|v| self.manifest(&v)).transpose()
    }

    /// The champion's manifest and artifact bytes, checksum-verified and decoded once to
    /// check format, schema and classes against the manifest.
    pub fn load_champion(&self) -> Result<Option<(Manifest, Vec<u8>)>> {
        self.champion_version()?.map(|v| self.load(&v)).transpose()
    }

    /// [`RegistryReader::load_champion`], returning the decoded artifact.
    pub fn load_champion_artifact(&self) -> Result<Option<(Manifest, Artifact)>> {
        self.champion_version()?.map(|v| self.load_artifact(&v)).transpose()
    }

    /// A version's manifest.
    pub fn manifest(&self, version: &str) -> Result<Manifest> {
        let dir = self.existing_version_dir(version)?;
        let path = dir.join(crate::reader::MANIFEST_FILE);
        let bytes = read_optional(&path)?.ok_or_else(|| RegistryError::Corrupt {
            path: path.clone(),
            reason: "the manifest is missing".into(),
        })?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| RegistryError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        if manifest.format_version != MANIFEST_FORMAT {
            return Err(RegistryError::Format {
                path,
                found: manifest.format_version,
                expected: MANIFEST_FORMAT,
            });
        }
        if manifest.version != version {
            return Err(RegistryError::Corrupt {
                path,
                reason: format!("manifest is for version {:?}", manifest.version),
            });
        }
        Ok(manifest)
    }

    /// A version's manifest and artifact bytes, verified as for
    /// [`RegistryReader::load_champion`].
    pub fn load(&self, version: &str) -> Result<(Manifest, Vec<u8>)> {
        let (manifest, bytes, _) = self.load_checked(version)?;
        Ok((manifest, bytes))
    }

    /// A version's manifest and decoded artifact.
    pub fn load_artifact(&self, version: &str) -> Result<(Manifest, Artifact)> {
        let (manifest, _, artifact) = self.load_checked(version)?;
        Ok((manifest, artifact))
    }

    /// Every registered version, oldest first.
    pub fn list(&self) -> Result<Vec<Manifest>> {
        let mut versions = self.version_ids()?;
        versions.sort_by_key(|(n, _)| *n);
        versions.iter().map(|(_, v)| self.manifest(v)).collect()
    }

    /// The audit log, oldest first.
    pub fn history(&self) -> Result<Vec<AuditEntry>> {
        let path = self.layout.audit();
        let Some(bytes) = read_optional(&path)? else { return Ok(Vec::new()) };
        let text = String::from_utf8_lossy(&bytes);
        let mut entries = Vec::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            // A last line without its newline is a torn append that was never acknowledged.
            let Some(line) = line.strip_suffix('\n') else { break };
            if line.trim().is_empty() {
                continue;
            }
            let entry = serde_json::from_str(line).map_err(|e| RegistryError::Corrupt {
                path: PathBuf::from(format!("{}:{}", path.display(), i + 1)),
                reason: e.to_string(),
            })?;
            entries.push(entry);
        }
        Ok(entries)
    }

    pub(crate) fn pointer(&self) -> Result<Option<Pointer>> {
        let path = self.layout.champion();
        let Some(bytes) = read_optional(&path)? else { return Ok(None) };
        let pointer: Pointer = serde_json::from_slice(&bytes)
            .map_err(|e| RegistryError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        if pointer.format_version != POINTER_FORMAT {
            return Err(RegistryError::Format {
                path,
                found: pointer.format_version,
                expected: POINTER_FORMAT,
            });
        }
        Ok(Some(pointer))
    }

    /// `(number, id)` of every version directory.
    pub(crate) fn version_ids(&self) -> Result<Vec<(u64, String)>> {
        let models = self.layout.models();
        let entries = match std::fs::read_dir(&models) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(RegistryError::io("listing", models)(e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(RegistryError::io("listing", &models))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(n) = version_number(&name) {
                ids.push((n, name));
            }
        }
        Ok(ids)
    }

    fn existing_version_dir(&self, version: &str) -> Result<PathBuf> {
        let dir = self.layout.version_dir(version);
        if version_number(version).is_none() || !dir.is_dir() {
            return Err(RegistryError::NotFound { version: version.to_owned(), path: dir });
        }
        Ok(dir)
    }

    fn load_checked(&self, version: &str) -> Result<(Manifest, Vec<u8>, Artifact)> {
        let manifest = self.manifest(version)?;
        let path = self.layout.version_dir(version).join(ARTIFACT_FILE);
        let bytes = std::fs::read(&path).map_err(RegistryError::io("reading", &path))?;
        let found = sha256_hex(&bytes);
        if found != manifest.sha256 {
            return Err(RegistryError::ChecksumMismatch {
                path,
                expected: manifest.sha256.clone(),
                found,
            });
        }
        let artifact = check_artifact(&bytes, &manifest.schema_version, &manifest.classes)
            .map_err(|reason| RegistryError::InvalidArtifact { path, reason })?;
        Ok((manifest, bytes, artifact))
    }
}

/// Decodes `bytes` and checks them against the schema version and (if non-empty) classes.
pub(crate) fn check_artifact(
    bytes: &[u8],
    schema_version: &str,
    classes: &[String],
) -> std::result::Result<Artifact, String> {
    let artifact = Artifact::from_bytes(bytes, Some(schema_version)).map_err(|e| e.to_string())?;
    if !classes.is_empty() && artifact.classes.names() != classes {
        return Err(format!(
            "artifact has classes [{}], manifest says [{}]",
            artifact.classes.names().join(", "),
            classes.join(", ")
        ));
    }
    Ok(artifact)
}

#[cfg(test)]
mod tests {
    use super::version_number;

    #[test]
    fn version_ids() {
        for (id, n) in [("v1", Some(1)), ("v42", Some(42)), ("v0", None), ("v01", None)] {
            assert_eq!(version_number(id), n, "{id}");
        }
        for id in ["", "v", "1", "v-1", "../v1", "v1/..", "V1"] {
            assert_eq!(version_number(id), None, "{id}");
        }
    }
}
