//! The artifact and the training pipeline: round trips, refusals, determinism, and that each
//! step does what it says.

use vigil_balance::{BalanceParams, Method, MethodChoice};
use vigil_core::Dataset;
use vigil_model::pipeline::{LossChoice, ModelSpec, PipelineParams, train};
use vigil_model::{
    ARTIFACT_FORMAT, Artifact, ForestParams, GbdtParams, LinearParams, MlpParams, ModelError,
};
use vigil_thresholds::ThresholdParams;

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_core::ClassSet;

fn recipe(model: ModelSpec) -> PipelineParams {
    PipelineParams {
        model,
        balance: Some(BalanceParams {
            method: MethodChoice::Fixed(Method::Smote),
            ..BalanceParams::default()
        }),
        loss: LossChoice::Recommended,
        calibrate: true,
        thresholds: Some(ThresholdParams::default()),
    }
}

fn specs() -> [ModelSpec; 4] {
    [
        ModelSpec::Mlp(MlpParams::new().hidden([16, 8]).max_epochs(15).seed(3)),
        ModelSpec::Gbdt(GbdtParams::new().max_rounds(30).seed(3)),
        ModelSpec::Forest(ForestParams::new().n_trees(10).seed(3)),
        ModelSpec::Linear(LinearParams::new()),
    ]
}

/// Three overlapping classes of 500, 60 and 20 rows (ratio 25: focal loss is recommended),
/// centred at 0, 1.5 and 3 on the first feature; the other two features are noise.
fn splits() -> (Dataset, Dataset) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let labels: Vec<usize> = [(0, 500), (1, 60), (2, 20)]
        .into_iter()
        .flat_map(|(class, n)| std::iter::repeat_n(class, n))
        .collect();
    let x = Array2::from_shape_fn((labels.len(), 3), |(r, c)| {
        let noise = rng.random_range(-1.0_f32..1.0);
        if c == 0 { labels[r] as f32 * 1.5 + noise } else { noise }
    });
    let names = ["a", "b", "c"].map(String::from).to_vec();
    let data =
        Dataset::new(x, labels, names, ClassSet::new(["normal", "x", "y"]).unwrap()).unwrap();
    data.stratified_split(0.3, 5).unwrap()
}

#[test]
fn every_model_round_trips_bit_exactly_and_refits_to_the_same_bytes() {
    let (tr, va) = splits();
    for spec in specs() {
        let (artifact, report) = train(&recipe(spec.clone()), "test-v1", &tr, &va).unwrap();
        let bytes = artifact.to_bytes().unwrap();
        let back = Artifact::from_bytes(&bytes, Some("test-v1")).unwrap();
        assert_eq!(back, artifact);
        let (p1, p2) = (
            artifact.probabilities(va.features()).unwrap(),
            back.probabilities(va.features()).unwrap(),
        );
        assert!(p1.iter().zip(&p2).all(|(a, b)| a.to_bits() == b.to_bits()));
        let (again, _) = train(&recipe(spec), "test-v1", &tr, &va).unwrap();
        assert_eq!(
            again.to_bytes().unwrap(),
            bytes,
            "{} is not deterministic",
            artifact.model.name()
        );
        // Every step ran and left its trace.
        assert!(
            report.balance.is_some() && report.temperature.is_some() && report.thresholds.is_some()
        );
        assert!(artifact.summary.contains("\"temperature\""), "{}", artifact.summary);
    }
}

#[test]
fn refuses_other_formats_schemas_and_corrupt_bytes() {
    let (tr, va) = splits();
    let spec = ModelSpec::Gbdt(GbdtParams::new().max_rounds(5));
    let (artifact, _) = train(&recipe(spec), "test-v1", &tr, &va).unwrap();
    let bytes = artifact.to_bytes().unwrap();

    let err = Artifact::from_bytes(&bytes, Some("v2")).unwrap_err();
    assert!(
        matches!(&err, ModelError::SchemaMismatch { found, .. } if found == "test-v1"),
        "{err}"
    );

    let mut other_format = bytes.clone();
    other_format[8..12].copy_from_slice(&(ARTIFACT_FORMAT + 1).to_le_bytes());
    let err = Artifact::from_bytes(&other_format, None).unwrap_err();
    assert!(err.to_string().contains(&format!("format {}", ARTIFACT_FORMAT + 1)), "{err}");

    assert!(matches!(Artifact::from_bytes(b"GIF89a", None), Err(ModelError::NotAnArtifact { .. })));
    for cut in [0, 7, 11, 12, bytes.len() / 2, bytes.len() - 1] {
        assert!(Artifact::from_bytes(&bytes[..cut], None).is_err(), "truncated at {cut}");
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(Artifact::from_bytes(&trailing, None).is_err());
}

#[test]
fn scoring_checks_width_and_values() {
    let (tr, va) = splits();
    let (artifact, _) =
        train(&recipe(ModelSpec::Gbdt(GbdtParams::new().max_rounds(5))), "s", &tr, &va).unwrap();
    let wide = ndarray::Array2::<f32>::zeros((1, tr.n_features() + 1));
    assert!(matches!(artifact.predict(wide.view()), Err(ModelError::WidthMismatch { .. })));
    let mut nan = ndarray::Array2::<f32>::zeros((1, tr.n_features()));
    nan[[0, 0]] = f32::NAN;
    assert!(matches!(artifact.predict(nan.view()), Err(ModelError::NonFinite { .. })));
    let probs = artifact.probabilities(va.features()).unwrap();
    assert!(probs.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-5));
}

#[test]
fn ablation_views_strip_calibration_and_thresholds() {
    let (tr, va) = splits();
    let (artifact, report) =
        train(&recipe(ModelSpec::Mlp(MlpParams::new().hidden([8]).max_epochs(5))), "s", &tr, &va)
            .unwrap();
    assert_eq!(artifact.temperature, report.temperature.unwrap().temperature);
    let plain = artifact.uncalibrated();
    assert_eq!(plain.temperature, 1.0);
    assert!(plain.thresholds.per_class().iter().all(|&t| t == 0.0));
    let calibrated = artifact.without_thresholds();
    assert_eq!(calibrated.temperature, artifact.temperature);
    // Argmax thresholds decide exactly as argmax over the probabilities.
    let probs = calibrated.probabilities(va.features()).unwrap();
    assert_eq!(
        calibrated.predict(va.features()).unwrap(),
        vigil_core::metrics::argmax_rows(probs.view())
    );
}

#[test]
fn balancing_touches_only_the_training_split() {
    let (tr, va) = splits();
    let (_, report) =
        train(&recipe(ModelSpec::Gbdt(GbdtParams::new().max_rounds(5))), "s", &tr, &va).unwrap();
    let balance = report.balance.unwrap();
    assert_eq!(balance.counts_before, tr.class_counts());
    assert_eq!(report.class_counts, tr.class_counts());
    let max = *tr.class_counts().iter().max().unwrap();
    assert!(balance.counts_after.iter().all(|&c| c == max), "{:?}", balance.counts_after);
}

/// Brute-force Shapley values of `class`'s logit at `x` against `r` over features 0..3:
/// every subset, with the logit computed by the model itself.
fn brute_shapley(artifact: &Artifact, x: &[f32], r: &[f32], class: usize) -> Vec<f64> {
    let n = x.len();
    let logit = |mask: usize| {
        let row: Vec<f32> =
            (0..n).map(|i| if mask & (1 << i) != 0 { x[i] } else { r[i] }).collect();
        f64::from(
            artifact.logits(Array2::from_shape_vec((1, n), row).unwrap().view()).unwrap()
                [[0, class]],
        )
    };
    let fact = |k: usize| (1..=k).map(|v| v as f64).product::<f64>();
    (0..n)
        .map(|i| {
            (0..1 << n)
                .filter(|s| s & (1 << i) == 0)
                .map(|s: usize| {
                    let size = s.count_ones() as usize;
                    fact(size) * fact(n - size - 1) / fact(n) * (logit(s | (1 << i)) - logit(s))
                })
                .sum()
        })
        .collect()
}

#[test]
fn tree_explanations_add_up_and_equal_the_brute_force_shapley_values() {
    let (tr, va) = splits();
    let (artifact, _) =
        train(&recipe(ModelSpec::Gbdt(GbdtParams::new().max_rounds(30).seed(3))), "v1", &tr, &va)
            .unwrap();
    let mean: Vec<f32> = artifact.standardizer.mean().to_vec();
    for row in va.features().rows().into_iter().take(25) {
        let x = row.to_vec();
        let logits = artifact.logits(row.insert_axis(ndarray::Axis(0))).unwrap();
        for class in 0..3 {
            let e = artifact.explain(&x, class).unwrap();
            assert_eq!(e.method, "shapley");
            // Local accuracy: base + contributions = score = the model's own logit.
            let sum: f64 = e.contributions.iter().sum();
            assert!((e.base + sum - e.score).abs() < 1e-4, "{} + {sum} != {}", e.base, e.score);
            assert!((e.score - f64::from(logits[[0, class]])).abs() < 1e-4);
            // Exactly the Shapley values of the game "x on S, the mean elsewhere".
            let brute = brute_shapley(&artifact, &x, &mean, class);
            for (a, b) in e.contributions.iter().zip(&brute) {
                assert!((a - b).abs() < 1e-4, "{:?} vs {brute:?}", e.contributions);
            }
        }
    }
    // The mean itself: nothing to explain.
    let e = artifact.explain(&mean, 1).unwrap();
    assert!(e.contributions.iter().all(|&c| c == 0.0) && (e.base - e.score).abs() < 1e-9);
    // The MLP: integrated gradients from the mean add up to the logit difference.
    let (mlp, _) = train(&recipe(specs()[0].clone()), "v1", &tr, &va).unwrap();
    let mut worst: f64 = 0.0;
    for row in va.features().rows().into_iter().take(25) {
        let x = row.to_vec();
        let logits = mlp.logits(row.insert_axis(ndarray::Axis(0))).unwrap();
        for class in 0..3 {
            let e = mlp.explain(&x, class).unwrap();
            assert_eq!(e.method, "integrated_gradients");
            assert!((e.score - f64::from(logits[[0, class]])).abs() < 1e-4);
            let sum: f64 = e.contributions.iter().sum();
            worst = worst.max((e.base + sum - e.score).abs() / (e.score - e.base).abs().max(1.0));
        }
    }
    assert!(worst < 1e-2, "integrated gradients miss the logit difference by {worst}");
    // The forest is refused, naming why; so are bad rows.
    let (forest, _) = train(&recipe(specs()[2].clone()), "v1", &tr, &va).unwrap();
    assert!(matches!(forest.explain(&mean, 0), Err(ModelError::Unsupported { .. })));
    assert!(artifact.explain(&[1.0], 0).is_err() && artifact.explain(&mean, 9).is_err());
}
