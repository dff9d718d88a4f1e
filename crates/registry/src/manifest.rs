//! What the registry stores besides artifacts: manifests, the champion pointer, audit entries.

use serde::{Deserialize, Serialize};
use vigil_model::Artifact;

/// Format version of `manifest.json` files written by this build.
pub const MANIFEST_FORMAT: u32 = 1;

/// Format version of the `champion` pointer written by this build.
pub const POINTER_FORMAT: u32 = 1;

/// A registered version's `manifest.json`: what the artifact is, how it was trained, how it
/// scored, and its checksum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`] when written.
    pub format_version: u32,
    /// The version id (`v1`, `v2`, ...: increasing in registration order).
    pub version: String,
    /// When it was registered (RFC 3339, UTC).
    pub created_at: String,
    /// The feature-schema version the artifact was trained on.
    pub schema_version: String,
    /// The artifact's class names, in order.
    pub classes: Vec<String>,
    /// Metrics on the holdout, as the trainer reported them.
    pub holdout_metrics: serde_json::Value,
    /// What it was trained on and how (rows, sources, model, timings), as the trainer reported.
    pub training_summary: serde_json::Value,
    /// The champion it was trained to replace, if any.
    pub parent: Option<String>,
    /// Lowercase hex sha256 of the artifact file.
    pub sha256: String,
}

/// What the caller tells [`crate::Registry::register`] about a new artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// The feature-schema version; must equal the artifact's.
    pub schema_version: String,
    /// The class names; must equal the artifact's (empty: taken from the artifact).
    pub classes: Vec<String>,
    /// Metrics on the holdout.
    pub holdout_metrics: serde_json::Value,
    /// The training summary.
    pub training_summary: serde_json::Value,
    /// The champion it was trained to replace, if any; must be a registered version.
    pub parent: Option<String>,
}

impl NewVersion {
    /// Schema version and classes taken from `artifact`.
    pub fn for_artifact(
        artifact: &Artifact,
        holdout_metrics: serde_json::Value,
        training_summary: serde_json::Value,
        parent: Option<String>,
    ) -> Self {
        Self {
            schema_version: artifact.schema.version.clone(),
            classes: artifact.classes.names().to_vec(),
            holdout_metrics,
            training_summary,
            parent,
        }
    }
}

/// The `champion` file: which version serves, and the champions before it (for rollback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pointer {
    pub(crate) format_version: u32,
    pub(crate) version: String,
    /// When it became champion (RFC 3339).
    pub(crate) since: String,
    /// Earlier champions, oldest first; a rollback pops the last.
    pub(crate) previous: Vec<String>,
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    /// A version was registered.
    Register,
    /// A version became champion.
    Promote,
    /// The champion was rolled back to the previous one.
    Rollback,
}

/// One line of `audit.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// What happened.
    pub action: AuditAction,
    /// The version registered, promoted, or rolled back to.
    pub version: String,
    /// The champion before the action (for register: the parent).
    pub previous: Option<String>,
    /// Why, as given by the caller.
    pub reason: String,
    /// The holdout metrics of `version`.
    pub metrics: serde_json::Value,
    /// The writer's process id.
    pub pid: u32,
    /// The writer's host.
    pub host: String,
}
