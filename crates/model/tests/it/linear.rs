//! The linear baseline (smartcore logistic regression) through the public API.

use bincode::config::standard;
use ndarray::{Array2, array};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_core::{ClassSet, Dataset};
use vigil_model::{Classifier, Fit, Linear, LinearParams, Model, ModelError};

fn dataset(x: Array2<f32>, labels: Vec<usize>, classes: &[&str]) -> Dataset {
    let names = (0..x.ncols()).map(|j| format!("f{j}")).collect();
    Dataset::new(x, labels, names, ClassSet::new(classes.iter().copied()).unwrap()).unwrap()
}

/// Three Gaussian blobs (sd 0.5) around well separated centres in 2-D, plus a noise column.
fn blobs(n_per_class: usize, seed: u64) -> Dataset {
    let centres = [[0.0_f32, 3.0], [-3.0, -2.0], [3.0, -2.0]];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::zeros((3 * n_per_class, 3));
    let mut labels = Vec::with_capacity(3 * n_per_class);
    for (i, mut row) in x.rows_mut().into_iter().enumerate() {
        let c = i % 3;
        row[0] = centres[c][0] + rng.random_range(-1.0_f32..1.0);
        row[1] = centres[c][1] + rng.random_range(-1.0_f32..1.0);
        row[2] = rng.random_range(-1.0_f32..1.0);
        labels.push(c);
    }
    dataset(x, labels, &["a", "b", "c"])
}

fn accuracy(model: &impl Classifier, data: &Dataset) -> f64 {
    let predicted = model.predict(data.features()).unwrap();
    let hits = predicted.iter().zip(data.labels()).filter(|(p, y)| p == y).count();
    hits as f64 / data.n_rows() as f64
}

fn softmax_rows(z: &Array2<f32>) -> Array2<f32> {
    let mut p = z.clone();
    for mut row in p.rows_mut() {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
        row.mapv_inplace(|v| ((f64::from(v) - max).exp() / sum) as f32);
    }
    p
}

#[test]
fn learns_three_separable_classes() {
    let train = blobs(60, 1);
    let test = blobs(60, 2);
    let model = LinearParams::new().fit(&train).unwrap();
    assert_eq!((model.n_classes(), model.n_features()), (3, 3));
    assert_eq!(model.weights().dim(), (3, 3));
    assert!(accuracy(&model, &train) > 0.95, "train {}", accuracy(&model, &train));
    assert!(accuracy(&model, &test) > 0.95, "test {}", accuracy(&model, &test));

    let proba = model.predict_proba(test.features()).unwrap();
    let logits = model.logits(test.features()).unwrap();
    for row in proba.rows() {
        assert!(row.iter().all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
        assert!((row.sum() - 1.0).abs() < 1e-5, "{row}");
    }
    for (p, q) in proba.iter().zip(softmax_rows(&logits).iter()) {
        assert!((p - q).abs() < 1e-6, "{p} vs {q}");
    }
}

#[test]
fn binary_logits_are_zero_and_the_log_odds() {
    // Class 1 when x0 > 0 (x1 is noise); overlap near 0 keeps the coefficients finite.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x = Array2::from_shape_fn((200, 2), |_| rng.random_range(-2.0_f32..2.0));
    let labels = x.column(0).iter().map(|&v| usize::from(v > 0.0)).collect();
    let data = dataset(x, labels, &["normal", "attack"]);
    let model = LinearParams::new().fit(&data).unwrap();
    assert_eq!(model.n_classes(), 2);
    assert!(model.weights().row(0).iter().all(|&w| w == 0.0));
    assert_eq!(model.bias()[0], 0.0);
    assert!(model.weights()[(1, 0)] > 1.0, "{}", model.weights());
    let logits = model.logits(data.features()).unwrap();
    assert!(logits.column(0).iter().all(|&z| z == 0.0));
    let proba = model.predict_proba(data.features()).unwrap();
    for (z, p) in logits.column(1).iter().zip(proba.column(1)) {
        let sigmoid = 1.0 / (1.0 + (-f64::from(*z)).exp());
        assert!((f64::from(*p) - sigmoid).abs() < 1e-6);
    }
    assert!(accuracy(&model, &data) > 0.95, "{}", accuracy(&model, &data));
}

#[test]
fn class_without_rows_is_never_predicted() {
    let data = blobs(20, 3);
    let labels = data.labels().to_vec();
    let four = dataset(data.features().to_owned(), labels, &["a", "b", "c", "d"]);
    let model = LinearParams::new().fit(&four).unwrap();
    assert_eq!(model.n_classes(), 4);
    let proba = model.predict_proba(four.features()).unwrap();
    assert!(proba.column(3).iter().all(|&p| p == 0.0));
    assert!(model.logits(four.features()).unwrap().iter().all(|z| z.is_finite()));
}

#[test]
fn bincode_round_trip_is_bit_exact() {
    let data = blobs(20, 4);
    let model = Model::Linear(LinearParams::new().alpha(0.5).fit(&data).unwrap());
    assert_eq!(model.name(), "linear");
    let bytes = bincode::serde::encode_to_vec(&model, standard()).unwrap();
    let (back, used): (Model, usize) =
        bincode::serde::decode_from_slice(&bytes, standard()).unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(back, model);
    assert_eq!(bincode::serde::encode_to_vec(&back, standard()).unwrap(), bytes);
    let a = model.logits(data.features()).unwrap();
    let b = back.logits(data.features()).unwrap();
    assert!(a.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits()));
    // Refitting gives the same bytes (L-BFGS from zero is deterministic).
    let again = Model::Linear(LinearParams::new().alpha(0.5).fit(&data).unwrap());
    assert_eq!(bincode::serde::encode_to_vec(&again, standard()).unwrap(), bytes);
}

#[test]
fn input_parameter_and_weight_errors() {
    let data = blobs(10, 5);
    let model: Linear = LinearParams::new().fit(&data).unwrap();
    assert_eq!(
        model.logits(Array2::zeros((1, 2)).view()),
        Err(ModelError::WidthMismatch { what: "input", expected: 3, found: 2 })
    );
    assert!(matches!(
        model.predict(array![[0.0_f32, f32::NAN, 0.0]].view()),
        Err(ModelError::NonFinite { row: 0, column: 1, .. })
    ));
    for alpha in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            LinearParams::new().alpha(alpha).check(),
            Err(ModelError::InvalidParam { name: "alpha", .. })
        ));
    }
    let mut weights = vec![2.0_f32; data.n_rows()];
    assert!(LinearParams::new().fit_weighted(&data, Some(&weights), None).is_ok());
    weights[0] = 1.0;
    assert!(matches!(
        LinearParams::new().fit_weighted(&data, Some(&weights), None),
        Err(ModelError::InvalidParam { name: "weights", .. })
    ));
    let one_label = dataset(array![[0.0_f32], [1.0]], vec![1, 1], &["a", "b"]);
    assert!(matches!(LinearParams::new().fit(&one_label), Err(ModelError::Solver { .. })));
}
