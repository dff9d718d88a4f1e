//! The clock-shortcut check of the scenario simulator: train the default recipe on
//! simulated entities, score a holdout, then score it again with the six clock features
//! (hour, weekday, weekend, business-hours and night shares) permuted across its rows. If
//! the clock stood in for the label, the permuted score falls; the target is a drop of at
//! most one point of macro-F1.
//!
//! ```sh
//! cargo run --release -p vigil-evaluate --example shortcuts -- 3000 1 7
//! ```
//! (entities, difficulty, seed)

#![allow(clippy::print_stdout, reason = "an example prints its measurement")]

use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use vigil_core::{ClassSet, Dataset, stratified_split};
use vigil_datasets::simulate::{SimParams, simulate};
use vigil_features::{EventWindow, Featurizer, feature_index, feature_names};
use vigil_model::GbdtParams;
use vigil_model::pipeline::{LossChoice, ModelSpec, PipelineParams};

const CLOCK: [&str; 6] = [
    "hour_sin",
    "hour_cos",
    "day_of_week",
    "weekend_fraction",
    "business_hours_fraction",
    "night_fraction",
];

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (entities, difficulty, seed) = (
        args.first().copied().unwrap_or(3000),
        args.get(1).copied().unwrap_or(1),
        args.get(2).copied().unwrap_or(7),
    );
    let sim =
        simulate(&SimParams::new(entities as usize, difficulty as u8, seed)).expect("simulate");
    let featurizer = Featurizer::default();
    let names: Vec<String> = feature_names().iter().map(|&n| n.to_owned()).collect();
    let mut flat = Vec::new();
    let mut labels = Vec::new();
    for entity in sim {
        let window = EventWindow::of(&featurizer.policy, entity.events);
        flat.extend_from_slice(featurizer.extract(&window).as_slice());
        labels.push(entity.label);
    }
    let x = Array2::from_shape_vec((labels.len(), names.len()), flat).expect("rows");
    let data = Dataset::new(x, labels.clone(), names, ClassSet::threat()).expect("dataset");
    let classes = data.classes().len();
    let (rest, holdout) = stratified_split(&labels, classes, 0.2, seed).expect("split");
    let rest_labels: Vec<usize> = rest.iter().map(|&r| labels[r]).collect();
    let (train_at, validation_at) =
        stratified_split(&rest_labels, classes, 0.2, seed + 1).expect("split");
    let pick = |at: &[usize]| data.select(&at.iter().map(|&i| rest[i]).collect::<Vec<_>>());
    let (train, validation, holdout) =
        (pick(&train_at), pick(&validation_at), data.select(&holdout));
    let params = PipelineParams {
        model: ModelSpec::Gbdt(GbdtParams::new().seed(seed)),
        balance: None,
        loss: LossChoice::Recommended,
        calibrate: true,
        thresholds: Some(vigil_thresholds::ThresholdParams::default()),
    };
    let (artifact, _) =
        vigil_model::pipeline::train(&params, "v1", &train, &validation).expect("train");
    let base = vigil_evaluate::score(&artifact, &holdout).expect("score").macro_f1;

    let mut permuted = holdout.features().to_owned();
    let mut order: Vec<usize> = (0..permuted.nrows()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed + 2));
    let columns: Vec<usize> =
        CLOCK.iter().map(|n| feature_index(n).expect("a clock feature")).collect();
    let original = holdout.features();
    for (row, &from) in order.iter().enumerate() {
        for &c in &columns {
            permuted[[row, c]] = original[[from, c]];
        }
    }
    let shuffled = Dataset::new(
        permuted,
        holdout.labels().to_vec(),
        holdout.feature_names().to_vec(),
        holdout.classes().clone(),
    )
    .expect("dataset");
    let after = vigil_evaluate::score(&artifact, &shuffled).expect("score").macro_f1;
    println!(
        "{entities} entities, difficulty {difficulty}, seed {seed}: holdout macro-F1 {base:.4}, \
         clock features permuted {after:.4}, drop {:.2} points",
        100.0 * (base - after)
    );
}
