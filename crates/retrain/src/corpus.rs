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
    /// Rows of `holdout` that are council samples (real feedback), in order.
    pub(crate) holdout_samples: Vec<usize>,
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
    council_weight: usize,
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
    // Validation is split by entity too (stratified by each entity's first label): windows
    // of one source on both sides would let early stopping, the temperature and the
    // thresholds be fitted on near-copies of training rows.
    let data = &corpus.dataset;
    let mut entity_of_row = Vec::with_capacity(rest.len());
    let mut entities: Vec<(&str, usize)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for &row in &rest {
        let entity = corpus.entities[row].as_str();
        let e = *index.entry(entity).or_insert_with(|| {
            entities.push((entity, data.labels()[row]));
            entities.len() - 1
        });
        entity_of_row.push(e);
    }
    let entity_labels: Vec<usize> = entities.iter().map(|&(_, label)| label).collect();
    let (_, validation_entities) = vigil_core::stratified_split(
        &entity_labels,
        data.classes().len(),
        validation_fraction,
        seed,
    )?;
    let mut in_validation = vec![false; entities.len()];
    for e in validation_entities {
        in_validation[e] = true;
    }
    let (mut train_rows, mut validation_rows) = (Vec::new(), Vec::new());
    for (&row, &e) in rest.iter().zip(&entity_of_row) {
        if in_validation[e] {
            validation_rows.push(row);
        } else {
            train_rows.push(row);
        }
    }
    if validation_rows.is_empty() {
        return Err(RetrainError::InvalidData {
            reason: "no validation rows (every class has a single non-holdout row)".into(),
        });
    }
    // Council samples count `council_weight` times in training (never in validation or
    // holdout, which score the model as it is).
    let repeats: Vec<usize> = train_rows
        .iter()
        .filter(|&&r| matches!(corpus.origins[r], Origin::Sample { .. }))
        .flat_map(|&r| std::iter::repeat_n(r, council_weight.saturating_sub(1)))
        .collect();
    train_rows.extend(repeats);
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
    let holdout_samples = holdout
        .iter()
        .enumerate()
        .filter(|&(_, &r)| matches!(corpus.origins[r], Origin::Sample { .. }))
        .map(|(i, _)| i)
        .collect();
    Ok(Split { train, validation, holdout: holdout_data, holdout_samples, summary })
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

    #[test]
    fn validation_never_shares_an_entity_with_training() {
        // 300 entities of 3 classes, each with 1-4 rows (council samples of one source).
        let (mut labels, mut entities, mut flat) = (Vec::new(), Vec::new(), Vec::new());
        for e in 0..300 {
            for r in 0..=(e % 4) {
                labels.push(e % 3);
                entities.push(format!("10.0.{}.{}", e / 256, e % 256));
                flat.extend([e as f32, r as f32]);
            }
        }
        let n = labels.len();
        let x = ndarray::Array2::from_shape_vec((n, 2), flat).unwrap();
        let classes = ClassSet::new(["a", "b", "c"]).unwrap();
        let dataset = Dataset::new(x, labels, vec!["f0".into(), "f1".into()], classes).unwrap();
        let corpus = Corpus { dataset, entities, origins: vec![Origin::Base; n] };
        let parts = split(&corpus, "salt", 0.2, 0.25, 3, 1).unwrap();
        let ids = |d: &Dataset| -> std::collections::BTreeSet<i64> {
            d.features().column(0).iter().map(|&v| v as i64).collect()
        };
        let (train, validation, holdout) =
            (ids(&parts.train), ids(&parts.validation), ids(&parts.holdout));
        assert!(train.is_disjoint(&validation), "an entity on both sides");
        assert!(train.is_disjoint(&holdout) && validation.is_disjoint(&holdout));
        let share = validation.len() as f64 / (train.len() + validation.len()) as f64;
        assert!((share - 0.25).abs() < 0.05, "{share}");
    }

    #[test]
    fn council_samples_count_council_weight_times_in_training_only() {
        // 400 entities, one row each; every third is a council sample.
        let n = 400;
        let x = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| i as f32);
        let classes = ClassSet::new(["a", "b"]).unwrap();
        let dataset =
            Dataset::new(x, (0..n).map(|i| i % 2).collect(), vec!["row".into()], classes).unwrap();
        let entities = (0..n).map(|i| format!("e{i}")).collect();
        let origins =
            (0..n)
                .map(|i| {
                    if i % 3 == 0 {
                        Origin::Sample { id: i as i64, new: true }
                    } else {
                        Origin::Base
                    }
                })
                .collect();
        let corpus = Corpus { dataset, entities, origins };
        let once = split(&corpus, "salt", 0.2, 0.25, 3, 1).unwrap();
        let thrice = split(&corpus, "salt", 0.2, 0.25, 3, 3).unwrap();
        let count = |d: &Dataset| {
            let mut c = std::collections::BTreeMap::new();
            for &v in d.features().column(0) {
                *c.entry(v as usize).or_insert(0) += 1;
            }
            c
        };
        let (a, b) = (count(&once.train), count(&thrice.train));
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        assert!(a.values().all(|&c| c == 1));
        for (row, &times) in &b {
            assert_eq!(times, if row % 3 == 0 { 3 } else { 1 }, "row {row}");
        }
        assert!(b.keys().any(|row| row % 3 == 0), "some council rows are in training");
        assert_eq!(count(&once.validation), count(&thrice.validation));
        assert_eq!(count(&once.holdout), count(&thrice.holdout));
    }
}
