//! Integration tests of vigil-registry.

mod concurrent;
mod registry;

use ndarray::Array2;
use vigil_core::{ClassSet, Dataset};
use vigil_model::GbdtParams;
use vigil_model::pipeline::{self, LossChoice, ModelSpec, PipelineParams};
use vigil_registry::NewVersion;

/// A small artifact; different `rounds` give different bytes.
pub(crate) fn artifact_bytes(rounds: usize, schema: &str) -> Vec<u8> {
    let x = Array2::from_shape_fn((90, 3), |(r, c)| ((r * (c + 1)) % 17) as f32);
    let labels = x.column(0).iter().map(|&v| (v as usize) % 3).collect();
    let names = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
    let classes = ClassSet::new(["normal", "scan", "brute"]).unwrap();
    let data = Dataset::new(x, labels, names, classes).unwrap();
    let params = PipelineParams {
        model: ModelSpec::Gbdt(GbdtParams::new().max_rounds(rounds).min_samples_leaf(3)),
        balance: None,
        loss: LossChoice::CrossEntropy,
        calibrate: false,
        thresholds: None,
    };
    let (artifact, _) = pipeline::train(&params, schema, &data, &data).unwrap();
    artifact.to_bytes().unwrap()
}

pub(crate) fn info(macro_f1: f64, parent: Option<&str>) -> NewVersion {
    NewVersion {
        schema_version: "v1".into(),
        classes: vec!["normal".into(), "scan".into(), "brute".into()],
        holdout_metrics: serde_json::json!({ "macro_f1": macro_f1 }),
        training_summary: serde_json::json!({ "rows": 90 }),
        parent: parent.map(str::to_owned),
    }
}
