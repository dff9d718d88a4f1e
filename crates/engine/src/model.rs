//! The champion model as the engine holds it, and scoring rows with it.

use std::sync::Arc;

use ndarray::Array2;
use serde::Serialize;
use serde::ser::SerializeMap;
use vigil_core::ClassSet;
use vigil_features::{FEATURE_COUNT, FeatureVector, SCHEMA_VERSION, check_schema};
use vigil_model::Artifact;
use vigil_thresholds::Decision;

/// A loaded, validated model: the artifact, its registry version and manifest.
#[derive(Debug)]
pub struct LoadedModel {
    version: Arc<str>,
    manifest: serde_json::Value,
    artifact: Artifact,
    loaded_at: jiff::Timestamp,
}

/// Why an artifact cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The artifact bytes are not a valid artifact of this feature schema.
    #[error("model {version}: {source}")]
    Artifact {
        /// The registry version.
        version: String,
        /// What the model crate reported.
        #[source]
        source: vigil_model::ModelError,
    },
    /// The artifact's feature names are not this build's schema.
    #[error("model {version}: {source}")]
    Schema {
        /// The registry version.
        version: String,
        /// What the features crate reported.
        #[source]
        source: vigil_features::FeatureError,
    },
    /// The artifact's classes are not the 7 threat classes.
    #[error("model {version}: classes are [{found}], the server serves [{expected}]")]
    Classes {
        /// The registry version.
        version: String,
        /// The threat classes.
        expected: String,
        /// The artifact's classes.
        found: String,
    },
}

impl LoadedModel {
    /// Checks that `artifact` scores this build's feature schema (version and every name,
    /// in order) into the threat classes.
    pub fn new(
        version: impl Into<String>,
        manifest: serde_json::Value,
        artifact: Artifact,
    ) -> Result<Self, LoadError> {
        let version: String = version.into();
        check_schema(&artifact.schema.version, &artifact.schema.names)
            .map_err(|source| LoadError::Schema { version: version.clone(), source })?;
        let threat = ClassSet::threat();
        if artifact.classes.names() != threat.names() {
            return Err(LoadError::Classes {
                version,
                expected: threat.names().join(", "),
                found: artifact.classes.names().join(", "),
            });
        }
        Ok(Self { version: version.into(), manifest, artifact, loaded_at: jiff::Timestamp::now() })
    }

    /// Decodes and validates artifact bytes (as the registry stores them).
    pub fn from_bytes(
        version: impl Into<String>,
        manifest: serde_json::Value,
        bytes: &[u8],
    ) -> Result<Self, LoadError> {
        let version = version.into();
        let artifact = Artifact::from_bytes(bytes, Some(SCHEMA_VERSION))
            .map_err(|source| LoadError::Artifact { version: version.clone(), source })?;
        Self::new(version, manifest, artifact)
    }

    /// The registry version.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub(crate) fn version_arc(&self) -> Arc<str> {
        Arc::clone(&self.version)
    }

    /// The registry manifest.
    pub fn manifest(&self) -> &serde_json::Value {
        &self.manifest
    }

    /// The artifact.
    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    /// When this process loaded it.
    pub fn loaded_at(&self) -> jiff::Timestamp {
        self.loaded_at
    }

    /// The name of class `class`.
    pub fn class_name(&self, class: usize) -> &str {
        self.artifact.classes.name(class).unwrap_or("?")
    }

    /// Scores rows: calibrated probabilities and the per-class threshold decision.
    pub fn score(&self, rows: &[FeatureVector]) -> Result<Vec<Scored>, vigil_model::ModelError> {
        let flat: Vec<f32> = rows.iter().flat_map(|r| r.as_slice().iter().copied()).collect();
        let x = Array2::from_shape_vec((rows.len(), FEATURE_COUNT), flat)
            .expect("every FeatureVector has FEATURE_COUNT values");
        let probabilities = self.artifact.probabilities(x.view())?;
        Ok(probabilities
            .rows()
            .into_iter()
            .map(|row| {
                let row = row.to_vec();
                let decision = self.artifact.thresholds.decide(&row);
                Scored { probabilities: row, decision }
            })
            .collect())
    }
}

/// One scored row.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Calibrated probabilities, in class order.
    pub probabilities: Vec<f32>,
    /// The per-class threshold decision.
    pub decision: Decision,
}

impl Scored {
    /// The probability of the decided class.
    pub fn confidence(&self) -> f32 {
        self.probabilities[self.decision.class]
    }
}

/// Per-class values serialised as a JSON object in class order.
#[derive(Debug, Clone, Copy)]
pub struct ClassMap<'a, T> {
    /// The class names.
    pub classes: &'a [String],
    /// One value per class.
    pub values: &'a [T],
}

impl<T: Serialize> Serialize for ClassMap<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.values.len()))?;
        for (name, value) in self.classes.iter().zip(self.values) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The decision part of a verdict.
#[derive(Serialize)]
pub(crate) struct DecisionBody<'a> {
    /// True when no class crossed its threshold and the normal class was the fallback.
    pub(crate) fallback: bool,
    /// Probability minus threshold of the decided class.
    pub(crate) margin: f32,
    /// Each class's threshold.
    pub(crate) thresholds: ClassMap<'a, f32>,
    /// Whether each class's probability reached its threshold.
    pub(crate) passed: ClassMap<'a, bool>,
}

impl<'a> DecisionBody<'a> {
    pub(crate) fn new(model: &'a LoadedModel, scored: &'a Scored) -> Self {
        let classes = model.artifact.classes.names();
        Self {
            fallback: scored.decision.is_fallback(),
            margin: scored.decision.margin,
            thresholds: ClassMap { classes, values: model.artifact.thresholds.per_class() },
            passed: ClassMap { classes, values: &scored.decision.passed },
        }
    }
}
