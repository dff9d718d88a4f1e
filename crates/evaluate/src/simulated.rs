//! A model trained on the scenario simulator the way the bootstrap trains one, with the
//! rows it did not train on: what the examples that measure the simulator start from.

use ndarray::Array2;
use vigil_core::{ClassSet, Dataset};
use vigil_datasets::simulate::{SimParams, simulate};
use vigil_features::{Event, EventWindow, Featurizer, feature_names};
use vigil_model::pipeline::{self, LossChoice, ModelSpec, PipelineParams};
use vigil_model::{Artifact, GbdtParams};
use vigil_thresholds::ThresholdParams;

use crate::{EvaluateError, Result};

/// [`simulated_model`]'s result.
#[derive(Debug, Clone)]
pub struct SimulatedModel {
    /// Trained on 64% of the entities (default recipe: GBDT, recommended loss,
    /// temperature, thresholds).
    pub artifact: Artifact,
    /// The 16% that fitted its temperature and thresholds.
    pub validation: Dataset,
    /// The 20% it never saw.
    pub holdout: Dataset,
}

/// One row of features per window, under the featurizer's window policy.
pub fn feature_rows(
    featurizer: &Featurizer,
    windows: impl IntoIterator<Item = Vec<Event>>,
) -> Array2<f32> {
    let mut flat = Vec::new();
    let mut rows = 0;
    for events in windows {
        let window = EventWindow::of(&featurizer.policy, events);
        flat.extend_from_slice(featurizer.extract(&window).as_slice());
        rows += 1;
    }
    Array2::from_shape_vec((rows, feature_names().len()), flat)
        .unwrap_or_else(|_| unreachable!("every row has one value per feature"))
}

/// Simulates `entities` at `difficulty` with `seed`, extracts them with the default
/// featurizer, splits 20% holdout then 20% of the rest validation (stratified, seeds `seed`
/// and `seed + 1`) and trains the default recipe.
pub fn simulated_model(entities: usize, difficulty: u8, seed: u64) -> Result<SimulatedModel> {
    let sim = simulate(&SimParams::new(entities, difficulty, seed))
        .map_err(|e| EvaluateError::Simulate { reason: e.to_string() })?;
    let labels: Vec<usize> = sim.iter().map(|e| e.label).collect();
    let x = feature_rows(&Featurizer::default(), sim.into_iter().map(|e| e.events));
    let names = feature_names().iter().map(|&n| n.to_owned()).collect();
    let data = Dataset::new(x, labels, names, ClassSet::threat())?;
    let (rest, holdout) = data.stratified_split(0.2, seed)?;
    let (train, validation) = rest.stratified_split(0.2, seed + 1)?;
    let params = PipelineParams {
        model: ModelSpec::Gbdt(GbdtParams::new().seed(seed)),
        balance: None,
        loss: LossChoice::Recommended,
        calibrate: true,
        thresholds: Some(ThresholdParams::default()),
    };
    let (artifact, _) =
        pipeline::train(&params, vigil_features::SCHEMA_VERSION, &train, &validation)?;
    Ok(SimulatedModel { artifact, validation, holdout })
}
