//! Both ensembles through the public API: learning, probabilities, determinism, round
//! trips, input errors, sample weights, early stopping, NSL-KDD.

use std::sync::OnceLock;

use bincode::config::standard;
use ndarray::{Array2, Axis};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use vigil_core::Dataset;
use vigil_core::metrics::ConfusionMatrix;
use vigil_model::{
    Classifier, Fit, ForestParams, GbdtParams, GradientBoosting, ModelError, RandomForest,
};

use crate::nsl_kdd;
use crate::synthetic::{overlap, quadrants, xor};

fn gbdt() -> GbdtParams {
    GbdtParams::new().max_rounds(40).learning_rate(0.3).min_samples_leaf(5)
}

fn forest() -> ForestParams {
    ForestParams::new().n_trees(25)
}

fn confusion(model: &impl Classifier, data: &Dataset) -> ConfusionMatrix {
    let predicted = model.predict(data.features()).unwrap();
    ConfusionMatrix::new(data.classes().len(), data.labels(), &predicted).unwrap()
}

fn bytes(model: &impl Serialize) -> Vec<u8> {
    bincode::serde::encode_to_vec(model, standard()).unwrap()
}

fn bits(x: &Array2<f32>) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

fn check_accuracy(model: &impl Classifier, data: &Dataset, min: f64, what: &str) {
    let accuracy = confusion(model, data).accuracy();
    assert!(accuracy > min, "{what}: accuracy {accuracy} <= {min}");
}

#[test]
fn both_learn_xor_and_quadrants_on_fresh_rows() {
    let (train, test) = (xor(2000, 3, 1), xor(1000, 3, 2));
    check_accuracy(&gbdt().fit(&train).unwrap(), &test, 0.97, "gbdt xor");
    check_accuracy(&forest().fit(&train).unwrap(), &test, 0.95, "forest xor");
    let (train, test) = (quadrants(2000, 3), quadrants(1000, 4));
    check_accuracy(&gbdt().fit(&train).unwrap(), &test, 0.98, "gbdt quadrants");
    check_accuracy(&forest().fit(&train).unwrap(), &test, 0.98, "forest quadrants");
    let forest = forest().fit(&train).unwrap();
    assert!(
        forest.feature_importance()[2] < 0.1,
        "noise importance {:?}",
        forest.feature_importance()
    );
}

fn check_probabilities(model: &impl Classifier, what: &str) {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    // Far outside the training range too: trees extrapolate flat, never to NaN.
    let x =
        Array2::from_shape_simple_fn((500, model.n_features()), || rng.random_range(-1e6_f32..1e6));
    let logits = model.logits(x.view()).unwrap();
    let proba = model.predict_proba(x.view()).unwrap();
    assert_eq!(proba.dim(), (500, model.n_classes()), "{what}");
    for (z, p) in logits.rows().into_iter().zip(proba.rows()) {
        let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let sum: f64 = z.iter().map(|&v| (f64::from(v) - max).exp()).sum();
        for (&zj, &pj) in z.iter().zip(&p) {
            assert!(pj.is_finite() && zj.is_finite(), "{what}: {z} {p}");
            assert!(
                (f64::from(pj) - (f64::from(zj) - max).exp() / sum).abs() < 1e-6,
                "{what}: {z} {p}"
            );
        }
        assert!((p.sum() - 1.0).abs() < 1e-5, "{what}: {p}");
    }
    let argmax: Vec<usize> = proba
        .rows()
        .into_iter()
        .map(|p| p.iter().enumerate().fold(0, |best, (j, &v)| if v > p[best] { j } else { best }))
        .collect();
    assert_eq!(model.predict(x.view()).unwrap(), argmax, "{what}");
}

#[test]
fn probabilities_are_finite_sum_to_one_and_are_the_softmax_of_the_logits() {
    let data = quadrants(1000, 5);
    check_probabilities(&gbdt().fit(&data).unwrap(), "gbdt");
    check_probabilities(&forest().fit(&data).unwrap(), "forest");
}

fn check_deterministic<P>(params: &P, data: &Dataset, what: &str) -> Vec<u8>
where
    P: Fit + Sync,
    P::Model: Send + Serialize,
{
    // Weights over nine orders of magnitude make floating-point sums depend on their order
    // (sums of similar f32 values in f64 are exact in any order, and would hide a race).
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let weights: Vec<f32> =
        (0..data.n_rows()).map(|_| 10_f32.powf(rng.random_range(-6.0..3.0))).collect();
    let fit = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        bytes(&pool.install(|| params.fit_weighted(data, Some(&weights), None).unwrap()))
    };
    let (one, three, again) = (fit(1), fit(3), fit(3));
    assert!(one == three, "{what}: 1 and 3 threads give different models");
    assert!(one == again, "{what}: two fits give different models");
    one
}

#[test]
fn fits_are_bit_identical_across_runs_and_thread_counts() {
    // Long enough (20 000 rows) that the boosting builds root histograms in parallel chunks.
    let data = xor(20_000, 18, 6);
    let plain = gbdt().max_rounds(4);
    check_deterministic(&plain, &data, "gbdt");
    let sampled = plain.row_subsample(0.7).feature_fraction(0.5);
    let a = check_deterministic(&sampled, &data, "gbdt sampled");
    let reseeded = check_deterministic(&sampled.seed(1), &data, "gbdt reseeded");
    assert_ne!(a, reseeded, "gbdt ignores its seed");
    let data = xor(5000, 18, 6);
    let forest = forest().n_trees(6);
    let a = check_deterministic(&forest, &data, "forest");
    assert_ne!(
        a,
        check_deterministic(&forest.seed(1), &data, "forest reseeded"),
        "forest ignores its seed"
    );
}

fn check_round_trip<M>(model: &M, x: &Array2<f32>, what: &str)
where
    M: Classifier + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let encoded = bytes(model);
    let (decoded, read): (M, usize) =
        bincode::serde::decode_from_slice(&encoded, standard()).unwrap();
    assert_eq!(read, encoded.len(), "{what}");
    assert_eq!(&decoded, model, "{what}");
    let (before, after) =
        (model.predict_proba(x.view()).unwrap(), decoded.predict_proba(x.view()).unwrap());
    assert_eq!(bits(&before), bits(&after), "{what}");
    assert!(
        bincode::serde::decode_from_slice::<M, _>(&encoded[..encoded.len() / 2], standard())
            .is_err()
    );
    // Any one corrupted byte gives an error or a model that predicts: never a panic.
    let rows = x.select(Axis(0), &[0, 1, 2]);
    for i in 0..encoded.len() {
        let mut corrupt = encoded.clone();
        corrupt[i] ^= 0xa5;
        if let Ok((m, _)) = bincode::serde::decode_from_slice::<M, _>(&corrupt, standard()) {
            let _ = m.predict_proba(rows.view());
        }
    }
}

#[test]
fn bincode_round_trip_keeps_every_probability_bit() {
    let data = quadrants(600, 7);
    let x = data.features().to_owned();
    check_round_trip(&gbdt().max_rounds(5).max_leaves(6).fit(&data).unwrap(), &x, "gbdt");
    check_round_trip(&forest().n_trees(3).max_depth(Some(4)).fit(&data).unwrap(), &x, "forest");
}

fn check_input_errors(model: &impl Classifier, what: &str) {
    let narrow = Array2::<f32>::zeros((2, model.n_features() - 1));
    let err = model.predict_proba(narrow.view()).unwrap_err();
    assert_eq!(err, ModelError::WidthMismatch { what: "input", expected: 3, found: 2 }, "{what}");
    assert_eq!(err.to_string(), "input has 2 features, expected 3", "{what}");
    let mut x = Array2::<f32>::zeros((4, 3));
    x[[2, 1]] = f32::NAN;
    for result in [model.logits(x.view()).map(|_| ()), model.predict(x.view()).map(|_| ())] {
        assert!(
            matches!(result, Err(ModelError::NonFinite { row: 2, column: 1, .. })),
            "{what}: {result:?}"
        );
    }
    x[[2, 1]] = f32::NEG_INFINITY;
    assert!(model.predict_proba(x.view()).is_err(), "{what}");
    assert_eq!(model.predict_proba(Array2::zeros((0, 3)).view()).unwrap().dim(), (0, 4), "{what}");
}

#[test]
fn wrong_width_and_non_finite_input_are_errors() {
    let data = quadrants(300, 8);
    check_input_errors(&gbdt().max_rounds(3).fit(&data).unwrap(), "gbdt");
    check_input_errors(&forest().n_trees(3).fit(&data).unwrap(), "forest");
    let mut x = data.features().to_owned();
    x[[5, 0]] = f32::NAN;
    let bad = data.with_rows(x, data.labels().to_vec()).unwrap();
    assert!(matches!(gbdt().fit(&bad), Err(ModelError::NonFinite { row: 5, column: 0, .. })));
    assert!(matches!(forest().fit(&bad), Err(ModelError::NonFinite { row: 5, column: 0, .. })));
    assert!(matches!(
        gbdt().max_bins(0).fit(&data),
        Err(ModelError::InvalidParam { name: "max_bins", .. })
    ));
}

fn check_weights_raise_recall<P: Fit>(params: &P, what: &str) {
    let (train, test) = (overlap(4000, 10), overlap(4000, 11));
    let plain = confusion(&params.fit(&train).unwrap(), &test);
    let weights: Vec<f32> =
        train.labels().iter().map(|&y| if y == 1 { 4.0 } else { 1.0 }).collect();
    let weighted = confusion(&params.fit_weighted(&train, Some(&weights), None).unwrap(), &test);
    // Unweighted, the overlap [1, 2] splits about evenly (recall of class 1 near 0.75);
    // weighting class 1 four times should claim most of it for class 1.
    assert!(
        weighted.recall(1) > plain.recall(1) + 0.1,
        "{what}: recall of class 1 {} -> {}",
        plain.recall(1),
        weighted.recall(1)
    );
    assert!(weighted.recall(0) < plain.recall(0), "{what}");
}

#[test]
fn upweighting_a_class_raises_its_recall() {
    check_weights_raise_recall(&gbdt().max_rounds(20).learning_rate(0.2), "gbdt");
    check_weights_raise_recall(&forest().min_samples_leaf(20), "forest");
}

#[test]
fn early_stopping_keeps_the_best_round() {
    let (train, valid) = (overlap(2000, 12), overlap(1000, 13));
    let params = gbdt().max_rounds(300).learning_rate(0.5).early_stopping_rounds(Some(5));
    let model = params.fit_weighted(&train, None, Some(&valid)).unwrap();
    let history = model.validation_loss();
    let rounds = model.n_rounds();
    assert!(rounds < 300, "noisy data should stop early, ran {} rounds", history.len());
    assert_eq!(history.len(), rounds + 5);
    let best = history.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(history[rounds - 1], best);
    let full = params.early_stopping_rounds(None).max_rounds(history.len());
    let full = full.fit_weighted(&train, None, Some(&valid)).unwrap();
    assert_eq!(full.n_rounds(), history.len());
    assert_eq!(full.validation_loss(), history);
}

fn shared_gbdt() -> &'static GradientBoosting {
    static MODEL: OnceLock<GradientBoosting> = OnceLock::new();
    MODEL.get_or_init(|| gbdt().max_rounds(10).fit(&quadrants(500, 14)).unwrap())
}

fn shared_forest() -> &'static RandomForest {
    static MODEL: OnceLock<RandomForest> = OnceLock::new();
    MODEL.get_or_init(|| forest().n_trees(10).fit(&quadrants(500, 14)).unwrap())
}

proptest! {
    #[test]
    fn any_finite_row_gets_a_distribution(row in proptest::collection::vec(-1e30_f32..1e30, 3)) {
        let x = Array2::from_shape_vec((1, 3), row).unwrap();
        let models: [&dyn Classifier; 2] = [shared_gbdt(), shared_forest()];
        for model in models {
            let p = model.predict_proba(x.view()).unwrap();
            prop_assert!(p.iter().all(|v| v.is_finite() && *v >= 0.0));
            prop_assert!((p.sum() - 1.0).abs() < 1e-5);
        }
    }
}

#[test]
fn nsl_kdd_20_percent_validation_accuracy_above_097() {
    let data = nsl_kdd::load("KDDTrain+_20Percent.txt");
    assert_eq!(data.n_rows(), 25_192);
    let (train, valid) = data.stratified_split(0.2, 42).unwrap();
    let model = gbdt().max_rounds(25).fit(&train).unwrap();
    check_accuracy(&model, &valid, 0.97, "gbdt nsl-kdd");
    let model = forest().n_trees(10).fit(&train).unwrap();
    check_accuracy(&model, &valid, 0.97, "forest nsl-kdd");
}
