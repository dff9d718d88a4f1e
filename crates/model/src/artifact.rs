//! The model artifact: everything needed to score raw feature rows, in one versioned file.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use vigil_core::{ClassSet, Standardizer};
use vigil_loss::softmax;
use vigil_thresholds::Thresholds;

use crate::{Classifier, GradientBoosting, Linear, Mlp, ModelError, RandomForest, Result};

/// Bumped whenever the serialised layout of [`Artifact`] changes; loading another format
/// is an error, never a best-effort decode.
pub const ARTIFACT_FORMAT: u32 = 1;

/// First bytes of every artifact file.
const MAGIC: &[u8; 8] = b"VIGILART";

/// [`Artifact::explain`]'s answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The class explained.
    pub class: usize,
    /// Its raw score at the reference row (the training mean).
    pub base: f64,
    /// Its raw score at the row.
    pub score: f64,
    /// Each feature's contribution, in schema order; they sum to `score - base` (exactly
    /// for `shapley`, up to the midpoint rule's error for `integrated_gradients`).
    pub contributions: Vec<f64>,
    /// `shapley` (trees: exact Shapley values against the training mean) or
    /// `integrated_gradients` (the MLP: integrated gradients from the training mean).
    pub method: &'static str,
}

/// Midpoint samples of the MLP's integrated gradients.
const IG_STEPS: usize = 128;

/// The fitted classifier inside an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Model {
    /// The multi-layer perceptron.
    Mlp(Mlp),
    /// Histogram gradient-boosted trees.
    Gbdt(GradientBoosting),
    /// Random forest.
    Forest(RandomForest),
    /// The linear baseline (logistic regression).
    Linear(Linear),
}

impl Model {
    /// Short name for reports: `mlp`, `gbdt`, `forest`, `linear`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Mlp(_) => "mlp",
            Self::Gbdt(_) => "gbdt",
            Self::Forest(_) => "forest",
            Self::Linear(_) => "linear",
        }
    }

    fn inner(&self) -> &dyn Classifier {
        match self {
            Self::Mlp(m) => m,
            Self::Gbdt(m) => m,
            Self::Forest(m) => m,
            Self::Linear(m) => m,
        }
    }
}

impl Classifier for Model {
    fn n_features(&self) -> usize {
        self.inner().n_features()
    }

    fn n_classes(&self) -> usize {
        self.inner().n_classes()
    }

    fn logits(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.inner().logits(x)
    }
}

/// The feature schema a model was trained on: a version string and the column names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSchema {
    /// E.g. `v1` for the event features, `nsl-kdd` for a tabular benchmark.
    pub version: String,
    /// Column names, in order.
    pub names: Vec<String>,
}

/// Standardiser + classifier + temperature + per-class thresholds, with the feature schema,
/// class set and a training summary: the one file that training writes and serving loads.
///
/// Scoring raw rows: standardise, take the model's logits, divide by the temperature,
/// softmax (the calibrated probabilities), then [`Thresholds::decide`] each row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// What the input columns are.
    pub schema: FeatureSchema,
    /// What the output classes are.
    pub classes: ClassSet,
    /// Fitted on the training split.
    pub standardizer: Standardizer,
    /// The classifier, fed standardised rows.
    pub model: Model,
    /// Softmax temperature fitted on validation logits (1 = uncalibrated).
    pub temperature: f32,
    /// Per-class decision thresholds over the calibrated probabilities.
    pub thresholds: Thresholds,
    /// How it was trained, as JSON text for manifests and reports (text, because bincode
    /// cannot decode self-describing values).
    pub summary: String,
}

impl Artifact {
    /// Checks that the parts fit together: widths, class counts, a positive temperature.
    pub fn validate(&self) -> Result<()> {
        let width = self.schema.names.len();
        let corrupt = |reason: String| Err(ModelError::Corrupt { reason });
        if self.standardizer.width() != width || self.model.n_features() != width {
            return corrupt(format!(
                "schema has {width} features, standardiser {}, model {}",
                self.standardizer.width(),
                self.model.n_features()
            ));
        }
        let k = self.classes.len();
        if self.model.n_classes() != k || self.thresholds.n_classes() != k {
            return corrupt(format!(
                "class set has {k} classes, model {}, thresholds {}",
                self.model.n_classes(),
                self.thresholds.n_classes()
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return corrupt(format!("temperature {} is not a positive number", self.temperature));
        }
        Ok(())
    }

    /// Logits of raw (unstandardised) rows, before the temperature.
    pub fn logits(&self, raw: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        crate::classifier::check_input("feature", raw, self.schema.names.len())?;
        let x = self.standardizer.transform(raw)?;
        self.model.logits(x.view())
    }

    /// Calibrated class probabilities of raw rows.
    pub fn probabilities(&self, raw: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let mut logits = self.logits(raw)?;
        logits.mapv_inplace(|z| z / self.temperature);
        Ok(softmax(logits.view()))
    }

    /// The decided class of each raw row (calibrated probabilities through the thresholds).
    pub fn predict(&self, raw: ArrayView2<'_, f32>) -> Result<Vec<usize>> {
        Ok(self.thresholds.predict(self.probabilities(raw)?.view()))
    }

    /// Why class `class` scored what it did at the raw row `raw`: the class's raw score
    /// (logit, before the temperature), the score at the reference row (the training
    /// mean), and each feature's exact Shapley contribution to the difference, so that
    /// `base + sum(contributions) == score` (interventional Shapley values against one
    /// reference; the trees keep no per-node training counts, which the path-dependent
    /// variant would need). For the MLP, integrated gradients from the same reference
    /// (`IG_STEPS` midpoints). The forest and the linear baseline are
    /// [`ModelError::Unsupported`].
    pub fn explain(&self, raw: &[f32], class: usize) -> Result<Explanation> {
        if !matches!(self.model, Model::Gbdt(_) | Model::Mlp(_)) {
            return Err(ModelError::Unsupported {
                what: format!("explanations of a {} model (gbdt or mlp)", self.model.name()),
            });
        }
        let width = self.schema.names.len();
        if raw.len() != width || class >= self.classes.len() {
            return Err(ModelError::Unsupported {
                what: format!("a row of {} values or class {class}", raw.len()),
            });
        }
        let rows = ndarray::Array2::from_shape_vec(
            (2, width),
            [raw, self.standardizer.mean().as_slice().unwrap_or(&[])].concat(),
        )
        .map_err(|e| ModelError::Corrupt { reason: format!("standardiser mean: {e}") })?;
        let z = self.standardizer.transform(rows.view())?;
        let (x, r) = (z.row(0).to_vec(), z.row(1).to_vec());
        let (score, base, contributions, method) = match &self.model {
            Model::Gbdt(gbdt) => {
                let (score, base, phi) = gbdt.explain_against(&x, &r, class);
                (score, base, phi, "shapley")
            }
            Model::Mlp(mlp) => {
                let (score, base, ig) = mlp.integrated_gradients(&x, &r, class, IG_STEPS);
                (score, base, ig, "integrated_gradients")
            }
            _ => unreachable!("checked above"),
        };
        Ok(Explanation { class, base, score, contributions, method })
    }

    /// The same artifact with temperature 1 and plain-argmax thresholds (for ablations).
    pub fn uncalibrated(&self) -> Self {
        Self {
            temperature: 1.0,
            thresholds: Thresholds::argmax(self.classes.len()),
            ..self.clone()
        }
    }

    /// The same artifact with plain-argmax thresholds, keeping its temperature.
    pub fn without_thresholds(&self) -> Self {
        Self { thresholds: Thresholds::argmax(self.classes.len()), ..self.clone() }
    }

    /// Serialises: magic, format version (u32 LE), then bincode (standard config).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let payload = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .map_err(|e| ModelError::Corrupt { reason: format!("encoding the artifact: {e}") })?;
        let mut bytes = Vec::with_capacity(12 + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&ARTIFACT_FORMAT.to_le_bytes());
        bytes.extend_from_slice(&payload);
        Ok(bytes)
    }

    /// Deserialises and validates; `expected_schema` (if given) must equal the artifact's
    /// feature-schema version.
    pub fn from_bytes(bytes: &[u8], expected_schema: Option<&str>) -> Result<Self> {
        let Some((magic, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(ModelError::NotAnArtifact { reason: format!("{} bytes", bytes.len()) });
        };
        if magic != MAGIC {
            return Err(ModelError::NotAnArtifact { reason: "wrong magic bytes".into() });
        }
        let Some((format, payload)) = rest.split_first_chunk::<4>() else {
            return Err(ModelError::NotAnArtifact { reason: "truncated header".into() });
        };
        let format = u32::from_le_bytes(*format);
        if format != ARTIFACT_FORMAT {
            return Err(ModelError::ArtifactFormat { found: format, expected: ARTIFACT_FORMAT });
        }
        let (artifact, used): (Self, usize) =
            bincode::serde::decode_from_slice(payload, bincode::config::standard()).map_err(
                |e| ModelError::Corrupt { reason: format!("decoding the artifact: {e}") },
            )?;
        if used != payload.len() {
            return Err(ModelError::Corrupt {
                reason: format!("{} trailing bytes after the artifact", payload.len() - used),
            });
        }
        if let Some(expected) = expected_schema
            && artifact.schema.version != expected
        {
            return Err(ModelError::SchemaMismatch {
                expected: expected.to_owned(),
                found: artifact.schema.version.clone(),
            });
        }
        artifact.validate()?;
        Ok(artifact)
    }
}
