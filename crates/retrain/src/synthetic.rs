//! Synthetic feature rows with class structure, for tests, examples and the retrain
//! benchmark: faster than simulating events and extracting features, and with a
//! controllable systematic error.
//!
//! Every row is 100 features wide under the v1 names. Class `c` of the 7 threat classes
//! shifts features `10c..10c+10` by +2 on top of standard normal noise; features 70..100
//! are noise, except the *marker* feature 95, which only [`mistyping_admins`] set high.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_core::{ClassSet, Dataset};

/// Rows per class in threat-class order, as shares (Normal is the majority, APT rare).
pub const CLASS_SHARES: [f64; 7] = [0.40, 0.12, 0.14, 0.12, 0.10, 0.08, 0.04];

/// Index of the marker feature.
pub const MARKER: usize = 95;

/// The class index of Brute Force in [`ClassSet::threat`].
pub const BRUTE_FORCE: usize = 3;

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller; 1 - u keeps the logarithm finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

fn row(rng: &mut ChaCha8Rng, class: usize) -> Vec<f32> {
    let mut x: Vec<f32> = (0..vigil_features::FEATURE_COUNT).map(|_| normal(rng)).collect();
    for v in &mut x[class * 10..class * 10 + 10] {
        *v += 2.0;
    }
    x
}

fn names() -> Vec<String> {
    vigil_features::feature_names().iter().map(|&n| n.to_owned()).collect()
}

/// `n` labelled rows drawn with [`CLASS_SHARES`], entities `<prefix>-<i>`.
pub fn threat_rows(n: usize, seed: u64, prefix: &str) -> (Vec<String>, Dataset) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut flat = Vec::with_capacity(n * vigil_features::FEATURE_COUNT);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let mut u: f64 = rng.random();
        let mut class = CLASS_SHARES.len() - 1;
        for (c, share) in CLASS_SHARES.iter().enumerate() {
            if u < *share {
                class = c;
                break;
            }
            u -= share;
        }
        flat.extend(row(&mut rng, class));
        labels.push(class);
    }
    let x = Array2::from_shape_vec((n, vigil_features::FEATURE_COUNT), flat)
        .expect("n rows of FEATURE_COUNT values");
    let entities = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    let data = Dataset::new(x, labels, names(), ClassSet::threat()).expect("valid by construction");
    (entities, data)
}

/// `n` rows of administrators who mistype their passwords: truly Normal, but shaped like
/// Brute Force (its features shifted), with the marker feature at 6. A model trained
/// without them calls them Brute Force; the council overrides that to Normal.
pub fn mistyping_admins(n: usize, seed: u64, prefix: &str) -> Vec<(String, Vec<f32>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let mut x = row(&mut rng, BRUTE_FORCE);
            x[MARKER] = 6.0 + normal(&mut rng);
            (format!("{prefix}-{i}"), x)
        })
        .collect()
}

/// A small gradient-boosted model trained on [`threat_rows`] (700 training, 350 validation
/// rows from `seed`): calibrated, with thresholds, for tests and examples that need a real
/// model of the threat classes quickly (well under a second).
pub fn tiny_artifact(seed: u64) -> vigil_model::Artifact {
    use vigil_model::pipeline::{LossChoice, ModelSpec, PipelineParams};
    let (_, train) = threat_rows(700, seed, "train");
    let (_, validation) = threat_rows(350, seed + 1000, "validation");
    let params = PipelineParams {
        model: ModelSpec::Gbdt(
            vigil_model::GbdtParams::new()
                .max_rounds(8)
                .max_leaves(8)
                .min_samples_leaf(5)
                .seed(seed),
        ),
        balance: None,
        loss: LossChoice::CrossEntropy,
        calibrate: true,
        thresholds: Some(vigil_thresholds::ThresholdParams::default()),
    };
    vigil_model::pipeline::train(&params, vigil_features::SCHEMA_VERSION, &train, &validation)
        .expect("the synthetic rows train")
        .0
}
