//! Integration tests of vigil-retrain: triggers, the pipeline, bootstrap, recovery.

mod pipeline;
mod triggers;

use std::path::Path;

use vigil_core::ClassSet;
use vigil_registry::Registry;
use vigil_retrain::synthetic::{mistyping_admins, threat_rows};
use vigil_retrain::{BaseData, GbdtConfig, ModelConfig, RetrainConfig};
use vigil_store::{NewSample, SampleStore, SampleStoreConfig, Verdict};

/// A registry, a sample store and base data in a temp directory.
pub(crate) struct Env {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) registry: Registry,
    pub(crate) store: SampleStore,
    pub(crate) base: BaseData,
    pub(crate) config: RetrainConfig,
    pub(crate) featurizer: vigil_features::Featurizer,
}

impl Env {
    pub(crate) fn new(base_rows: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path().join("registry")).unwrap();
        let store = open_store(&dir.path().join("vigil.db"));
        let (entities, data) = threat_rows(base_rows, 1, "base");
        let base = BaseData::rows(entities, data).unwrap();
        let config = fast_config(&dir.path().join("reports"));
        Self {
            dir,
            registry,
            store,
            base,
            config,
            featurizer: vigil_features::Featurizer::default(),
        }
    }
}

pub(crate) fn open_store(path: &Path) -> SampleStore {
    SampleStore::open_with(
        path,
        SampleStoreConfig { classes: Some(ClassSet::threat()), ..SampleStoreConfig::default() },
    )
    .unwrap()
}

/// Small enough for debug-build tests, big enough to learn the synthetic classes.
pub(crate) fn fast_config(reports: &Path) -> RetrainConfig {
    RetrainConfig {
        model: ModelConfig::Gbdt(GbdtConfig {
            max_rounds: 30,
            learning_rate: 0.3,
            max_leaves: 15,
            ..GbdtConfig::default()
        }),
        reports_dir: Some(reports.to_path_buf()),
        ..RetrainConfig::default()
    }
}

/// Council overrides: the model said Brute Force, the council says Normal.
pub(crate) fn insert_overrides(store: &SampleStore, n: usize, seed: u64) -> Vec<i64> {
    let samples = mistyping_admins(n, seed, &format!("admin{seed}"))
        .into_iter()
        .map(|(entity, features)| NewSample {
            entity,
            schema_version: vigil_features::SCHEMA_VERSION.into(),
            features,
            model_version: "v1".into(),
            ml_prediction: "Brute Force".into(),
            ml_confidence: 0.8,
            verdict: Verdict::Override,
            correct_label: Some("Normal".into()),
            route: None,
        })
        .collect();
    store.insert_many(samples).unwrap()
}

/// Council confirmations of ordinary rows.
pub(crate) fn insert_confirms(store: &SampleStore, n: usize, seed: u64) -> Vec<i64> {
    let (entities, data) = threat_rows(n, seed, &format!("confirm{seed}"));
    let samples = entities
        .into_iter()
        .zip(data.features().rows())
        .zip(data.labels())
        .map(|((entity, row), &label)| {
            let class = ClassSet::threat().name(label).unwrap().to_owned();
            NewSample {
                entity,
                schema_version: vigil_features::SCHEMA_VERSION.into(),
                features: row.to_vec(),
                model_version: "v1".into(),
                ml_prediction: class,
                ml_confidence: 0.9,
                verdict: Verdict::Confirm,
                correct_label: None,
                route: None,
            }
        })
        .collect();
    store.insert_many(samples).unwrap()
}
