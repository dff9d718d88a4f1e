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

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use vigil_core::Dataset;
use vigil_features::feature_index;

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
    let model = vigil_evaluate::simulated_model(entities as usize, difficulty as u8, seed)
        .expect("simulate and train");
    let (artifact, holdout) = (model.artifact, model.holdout);
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
