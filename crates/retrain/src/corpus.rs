//! Everything a run trains and scores on: base rows plus every trainable council sample,
//! and the split into train, validation and the fixed holdout.

use ndarray::{Array2, Axis, concatenate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigil_core::{ClassSet, Dataset};
use vigil_store::SampleStore;

use crate::base::BaseRows;
use crate::{Result, RetrainError};

/// Where a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The base training data.
    Base,
    /// A council sample; `new` when no run has used it yet (it is marked used by this run).
    Sample { id: i64, new: bool },
}

/// Every row of a run, before the split.
#[derive(Debug, Clone)]
pub(crate) struct Corpus {
    pub(crate) dataset: Dataset,
    pub(crate) entities: Vec<String>,
    pub(crate) origins: Vec<Origin>,
}

impl Corpus {
    /// Base rows followed by the samples.
    pub(crate) fn new(
        base: BaseRows,
        samples: Samples,
        classes: &ClassSet,
        names: &[String],
    ) -> Result<Self> {
        let mut parts = Vec::new();
        let mut entities = Vec::new();
        let mut origins = Vec::new();
        let mut labels = Vec::new();
        if let Some(data) = &base.dataset {
            if data.feature_names() != names || data.classes().names() != classes.names() {
                return Err(RetrainError::InvalidData {
                    reason: "base rows have other feature columns or classes than the run".into(),
                });
            }
            parts.push(data.features().to_owned());
            labels.extend_from_slice(data.labels());
            entities.extend(base.entities);
            origins.extend(std::iter::repeat_n(Origin::Base, data.n_rows()));
        }
        parts.push(samples.features);
        labels.extend(samples.labels);
        entities.extend(samples.entities);
        origins.extend(
            samples.ids.iter().zip(&samples.new).map(|(&id, &new)| Origin::Sample { id, new }),
        );
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        let x = concatenate(Axis(0), &views).map_err(|e| RetrainError::InvalidData {
            reason: format!("joining base rows and samples: {e}"),
        })?;
        let dataset = Dataset::new(x, labels, names.to_vec(), classes.clone())?;
        Ok(Self { dataset, entities, origins })
    }

    pub(crate) fn base_rows(&self) -> usize {
        self.origins.iter().filter(|o| matches!(o, Origin::Base)).count()
    }

    pub(crate) fn new_sample_ids(&self) -> Vec<i64> {
        self.origins
            .iter()
            .filter_map(|o| match o {
                Origin::Sample { id, new: true } => Some(*id),
                _ => None,
            })
            .collect()
    }
}

/// The trainable samples of a schema version.
#[derive(Debug, Clone)]
pub(crate) struct Samples {
    pub(crate) ids: Vec<i64>,
    pub(crate) new: Vec<bool>,
    pub(crate) entities: Vec<String>,
    pub(crate) labels: Vec<usize>,
    pub(crate) features: Array2<f32>,
}

impl Samples {
    pub(crate) fn empty(width: usize) -> Self {
        Self {
            ids: Vec::new(),
            new: Vec::new(),
            entities: Vec::new(),
            labels: Vec::new(),
            features: Array2::zeros((0, width)),
        }
    }
}

/// Every trainable (CONFIRM or OVERRIDE) sample of `schema_version`, used or not, in id
/// order, read through the store's API.
///
/// Past samples stay in every later run: a retrain that saw only new samples would forget
/// the corrections earlier champions learnt, and the holdout (fixed by entity) keeps
/// scoring them.
pub(crate) fn load_samples(
    store: &SampleStore,
    schema_version: &str,
    classes: &ClassSet,
    names: &[String],
) -> Result<Samples> {
    let set = store.load_trainable(classes, schema_version, names).map_err(|e| {
        RetrainError::Samples { path: store.path().to_path_buf(), reason: e.to_string() }
    })?;
    Ok(Samples {
        ids: set.sample_ids,
        new: set.used.iter().map(|u| !u).collect(),
        entities: set.entities,
        labels: set.dataset.labels().to_vec(),
        features: set.dataset.features().to_owned(),
    })
}

/// Whether `entity` is in the holdout: the first 8 bytes of `sha256(salt \0 entity)`, as a
/// fraction of 2^64, below `fraction`. Fixed for an entity whatever else is in the data, so
/// no model ever trains on a holdout entity and every run scores the same entities.
pub(crate) fn in_holdout(salt: &str, entity: &str, fraction: f64) -> bool {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0]);
    hasher.update(entity.as_bytes());
    let digest = hasher.finalize();
    let mut head = [0_u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(head) as f64 / 18_446_744_073_709_551_616.0) < fraction
}

/// The three parts of a run's data.
#[derive(Debug, Clone)]
pub(crate) struct Split {
    pub(crate) train: Dataset,
    pub(crate) validation: Dataset,
    pub(crate) holdout: Dataset,
    pub(crate) summary: SplitSummary,
}

/// Row and class counts of each part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    /// Training rows (before balancing).
    pub train_rows: usize,
    /// Validation rows.
    pub validation_rows: usize,
    /// Holdout rows.
    pub holdout_rows: usize,
    /// Holdout rows that are council samples.
    pub holdout_samples: usize,
    /// Training rows per class.
    pub train_class_counts: Vec<usize>,
    /// Holdout rows per class.
    pub holdout_class_counts: Vec<usize>,
}

/// Holdout by entity hash; the rest split into train and validation, stratified and seeded.
pub(crate) fn split(
    corpus: &Corpus,
    salt: &str,
    holdout_fraction: f64,
    validation_fraction: f64,
    seed: u64,
) -> Result<Split> {
    let (mut rest, mut holdout) = (Vec::new(), Vec::new());
    for (row, entity) in corpus.entities.iter().enumerate() {
        if in_holdout(salt, entity, holdout_fraction) {
            holdout.push(row);
        } else {
            rest.push(row);
        }
    }
    if holdout.is_empty() || rest.len() < 2 {
        return Err(RetrainError::InvalidData {
            reason: format!(
                "{} rows give {} holdout and {} training rows; more data is needed",
                corpus.dataset.n_rows(),
                holdout.len(),
                rest.len()
            ),
        });
    }
    let data = &corpus.dataset;
    let rest_labels: Vec<usize> = rest.iter().map(|&r| data.labels()[r]).collect();
    let (train_idx, validation_idx) = vigil_core::stratified_split(
        &rest_labels,
        data.classes().len(),
        validation_fraction,
        seed,
    )?;
    let train_rows: Vec<usize> = train_idx.iter().map(|&i| rest[i]).collect();
    let validation_rows: Vec<usize> = validation_idx.iter().map(|&i| rest[i]).collect();
    if validation_rows.is_empty() {
        return Err(RetrainError::InvalidData {
            reason: "no validation rows (every class has a single non-holdout row)".into(),
        });
    }
    let train = data.select(&train_rows);
    let validation = data.select(&validation_rows);
    let holdout_data = data.select(&holdout);
    let summary = SplitSummary {
        train_rows: train.n_rows(),
        validation_rows: validation.n_rows(),
        holdout_rows: holdout_data.n_rows(),
        holdout_samples: holdout
            .iter()
            .filter(|&&r| matches!(corpus.origins[r], Origin::Sample { .. }))
            .count(),
        train_class_counts: train.class_counts(),
        holdout_class_counts: holdout_data.class_counts(),
    };
    Ok(Split { train, validation, holdout: holdout_data, summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdout_membership_is_fixed_and_near_the_fraction() {
        let n = 20_000_u32;
        let held = (0..n).filter(|i| in_holdout("salt", &format!("10.0.{i}"), 0.2)).count();
        assert!((held as f64 / f64::from(n) - 0.2).abs() < 0.01, "{held}");
        assert_eq!(in_holdout("salt", "10.0.0.1", 0.2), in_holdout("salt", "10.0.0.1", 0.2));
        // Monotone in the fraction: a bigger holdout contains the smaller one.
        for i in 0..1000 {
            let e = format!("e{i}");
            assert!(!in_holdout("s", &e, 0.1) || in_holdout("s", &e, 0.3));
        }
        assert_ne!(
            (0..64).map(|i| in_holdout("a", &i.to_string(), 0.5)).collect::<Vec<_>>(),
            (0..64).map(|i| in_holdout("b", &i.to_string(), 0.5)).collect::<Vec<_>>()
        );
    }
}
