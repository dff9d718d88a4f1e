use std::path::Path;
use std::sync::OnceLock;

use bincode::config::standard;
use ndarray::{Array1, Array2, Axis};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_core::metrics::ConfusionMatrix;
use vigil_core::{ClassSet, Dataset, Standardizer};
use vigil_loss::{Loss, LossError};

use super::network::{self, Dense};
use super::train::{Context, Shard};
use super::*;

fn dataset(x: Array2<f32>, labels: Vec<usize>, n_classes: usize) -> Dataset {
    let names = (0..x.ncols()).map(|j| format!("f{j}")).collect();
    let classes = ClassSet::new((0..n_classes).map(|c| format!("c{c}"))).unwrap();
    Dataset::new(x, labels, names, classes).unwrap()
}

/// XOR of the signs of two uniform features on [-1, 1]: no linear model beats chance.
fn xor(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((n, 2), || rng.random_range(-1.0_f32..1.0));
    let labels = x.rows().into_iter().map(|r| usize::from((r[0] > 0.0) != (r[1] > 0.0))).collect();
    dataset(x, labels, 2)
}

/// Three concentric rings (radius in [0, 1), [1.3, 2), [2.3, 3)) in the plane, one class
/// each, scaled to about unit variance.
fn rings(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let mut x = Array2::zeros((n, 2));
    for (mut row, &y) in x.rows_mut().into_iter().zip(&labels) {
        let radius = [0.0, 1.3, 2.3][y] + rng.random_range(0.0_f32..0.7);
        let angle = rng.random_range(0.0_f32..std::f32::consts::TAU);
        row[0] = radius * angle.cos() / 1.5;
        row[1] = radius * angle.sin() / 1.5;
    }
    dataset(x, labels, 3)
}

/// Two Gaussian classes in 4 dimensions whose means differ by `gap` on the first axis,
/// `minority` rows of class 1 for every 10 rows.
fn blobs(n: usize, minority: usize, gap: f32, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<usize> = (0..n).map(|i| usize::from(i % 10 < minority)).collect();
    let mut x = Array2::zeros((n, 4));
    for (mut row, &y) in x.rows_mut().into_iter().zip(&labels) {
        for v in &mut row {
            // A sum of 4 uniforms on [-1, 1] is close enough to a normal for this.
            *v = (0..4).map(|_| rng.random_range(-1.0_f32..1.0)).sum::<f32>() * 0.87;
        }
        row[0] += gap * y as f32;
    }
    dataset(x, labels, 2)
}

fn small() -> MlpParams {
    MlpParams::new().hidden([32, 32]).dropout(0.0).learning_rate(1e-2).batch_size(32).max_epochs(60)
}

fn confusion(model: &Mlp, data: &Dataset) -> ConfusionMatrix {
    let predicted = model.predict(data.features()).unwrap();
    ConfusionMatrix::new(data.classes().len(), data.labels(), &predicted).unwrap()
}

fn bytes(model: &Mlp) -> Vec<u8> {
    bincode::serde::encode_to_vec(model, standard()).unwrap()
}

fn bits(x: &Array2<f32>) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn check_names_the_parameter() {
    let cases = [
        (MlpParams::new().hidden([64, 0]), "hidden"),
        (MlpParams::new().hidden(vec![8; 33]), "hidden"),
        (MlpParams::new().hidden([1 << 17]), "hidden"),
        (MlpParams::new().dropout(1.0), "dropout"),
        (MlpParams::new().dropout(-0.1), "dropout"),
        (MlpParams::new().dropout(f64::NAN), "dropout"),
        (MlpParams::new().learning_rate(0.0), "learning_rate"),
        (MlpParams::new().learning_rate(1.5), "learning_rate"),
        (MlpParams::new().learning_rate(f64::NAN), "learning_rate"),
        (MlpParams::new().weight_decay(-1e-3), "weight_decay"),
        (MlpParams::new().weight_decay(f64::INFINITY), "weight_decay"),
        (MlpParams::new().learning_rate(0.5).weight_decay(2.0), "weight_decay"),
        (MlpParams::new().batch_size(0), "batch_size"),
        (MlpParams::new().max_epochs(0), "max_epochs"),
        (MlpParams::new().patience(Some(0)), "patience"),
    ];
    for (params, expected) in cases {
        match params.check() {
            Err(ModelError::InvalidParam { name, .. }) => assert_eq!(name, expected),
            other => panic!("{expected}: {other:?}"),
        }
    }
    let focal = Loss::Focal { alpha: vec![1.0, 1.0], gamma: -1.0, label_smoothing: 0.0 };
    assert!(matches!(MlpParams::new().loss(focal).check(), Err(ModelError::InvalidLoss(_))));
    let weighted = Loss::Weighted { weights: vec![1.0, f32::NAN] };
    assert!(matches!(MlpParams::new().loss(weighted).check(), Err(ModelError::InvalidLoss(_))));
    assert!(MlpParams::new().check().is_ok());
    assert!(MlpParams::new().hidden([]).patience(None).check().is_ok());
}

#[test]
fn params_round_trip_and_deserialising_checks_them() {
    let focal = Loss::Focal { alpha: vec![0.5, 2.0], gamma: 2.0, label_smoothing: 0.05 };
    let valid = MlpParams::new().hidden([8]).loss(focal).check().unwrap();
    let encoded = bincode::serde::encode_to_vec(&valid, standard()).unwrap();
    let (decoded, _): (ValidMlpParams, _) =
        bincode::serde::decode_from_slice(&encoded, standard()).unwrap();
    assert_eq!(decoded, valid);

    // Unchecked parameters survive a round trip as MlpParams but not as ValidMlpParams.
    let unchecked = MlpParams::new().batch_size(0);
    let encoded = bincode::serde::encode_to_vec(&unchecked, standard()).unwrap();
    let (decoded, _): (MlpParams, _) =
        bincode::serde::decode_from_slice(&encoded, standard()).unwrap();
    assert_eq!(decoded, unchecked);
    let err =
        bincode::serde::decode_from_slice::<ValidMlpParams, _>(&encoded, standard()).unwrap_err();
    assert!(err.to_string().contains("invalid parameter batch_size = 0"), "{err}");
}

fn param(layers: &[Dense], l: usize, i: usize) -> f32 {
    let n_weights = layers[l].weights.len();
    if i < n_weights {
        layers[l].weights.as_slice().unwrap()[i]
    } else {
        layers[l].bias[i - n_weights]
    }
}

fn param_mut(layers: &mut [Dense], l: usize, i: usize) -> &mut f32 {
    let n_weights = layers[l].weights.len();
    if i < n_weights {
        &mut layers[l].weights.as_slice_mut().unwrap()[i]
    } else {
        &mut layers[l].bias[i - n_weights]
    }
}

/// A small network, its training rows and a shard to run them on.
struct GradientCase {
    x: Vec<f32>,
    labels: Vec<usize>,
    layers: Vec<Dense>,
    template: Shard,
}

/// A shard of 8 rows of a 12-row batch, so the shard's gradient carries the factor 8/12.
const SHARD: [usize; 8] = [9, 0, 3, 4, 5, 1, 7, 2];
const BATCH_ROWS: usize = 12;

impl GradientCase {
    /// Two hidden layers, so every kind of layer is crossed: input, hidden-to-hidden (through
    /// ReLU and dropout) and output. Biases are non-zero so their gradients matter.
    fn new(seed: u64) -> Self {
        let (n, p, k) = (10, 4, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: Vec<f32> = (0..n * p).map(|_| rng.random_range(-1.5_f32..1.5)).collect();
        let labels: Vec<usize> = (0..n).map(|i| i % k).collect();
        let mut layers = network::init(&[p, 6, 5, k], &mut rng);
        for layer in &mut layers {
            layer.bias.mapv_inplace(|_| rng.random_range(-0.3_f32..0.3));
        }
        let template = Shard::new(&layers, SHARD.len(), ChaCha8Rng::seed_from_u64(seed + 1));
        Self { x, labels, layers, template }
    }

    /// The objective `(1 / batch_rows) Σ w_i L_i` over the shard's rows, the hidden units'
    /// activation pattern and the gradient, from a clone of the same shard (so with the same
    /// dropout masks).
    fn run(&self, layers: &[Dense], cx: &Context<'_>) -> (f64, Vec<bool>, Vec<Dense>) {
        let mut shard = self.template.clone();
        shard.run(layers, &SHARD, BATCH_ROWS, cx).unwrap();
        (shard.loss_sum / BATCH_ROWS as f64, shard.active_units(SHARD.len()), shard.grads)
    }

    /// Compares the gradient of `grad_cx` with central finite differences of the objective
    /// of `value_cx`, for every weight and bias. A parameter whose ±h moves a pre-activation
    /// across the ReLU kink has no derivative there; those are detected from the activation
    /// pattern and skipped. Returns (checked, skipped, mismatches).
    fn compare(
        &self,
        value_cx: &Context<'_>,
        grad_cx: &Context<'_>,
    ) -> (usize, usize, Vec<String>) {
        let (_, active, grads) = self.run(&self.layers, grad_cx);
        let h = 5e-3_f32;
        let (mut checked, mut skipped, mut mismatches) = (0, 0, Vec::new());
        for l in 0..self.layers.len() {
            for i in 0..self.layers[l].weights.len() + self.layers[l].bias.len() {
                let at = |delta: f32| {
                    let mut moved = self.layers.clone();
                    *param_mut(&mut moved, l, i) += delta;
                    self.run(&moved, value_cx)
                };
                let ((plus, plus_active, _), (minus, minus_active, _)) = (at(h), at(-h));
                if plus_active != active || minus_active != active {
                    skipped += 1;
                    continue;
                }
                checked += 1;
                let numeric = (plus - minus) / (2.0 * f64::from(h));
                let analytic = f64::from(param(&grads, l, i));
                if (numeric - analytic).abs() > 2e-4 + 1e-2 * numeric.abs() {
                    mismatches.push(format!(
                        "layer {l} parameter {i}: analytic {analytic}, numeric {numeric}"
                    ));
                }
            }
        }
        (checked, skipped, mismatches)
    }
}

#[test]
fn backward_pass_matches_finite_differences() {
    let weights = [0.5_f32, 2.0, 1.0, 0.0, 3.0, 1.0, 0.25, 1.0, 1.5, 2.0];
    let focal = Loss::Focal { alpha: vec![1.0, 0.5, 2.0], gamma: 2.0, label_smoothing: 0.1 };
    let cases: [(Loss, Option<&[f32]>, f64); 5] = [
        (Loss::CrossEntropy, None, 0.0),
        (Loss::Weighted { weights: vec![0.5, 2.0, 1.0] }, None, 0.0),
        (focal.clone(), Some(&weights), 0.0),
        (Loss::CrossEntropy, Some(&weights), 0.3),
        (focal, None, 0.5),
    ];
    for (seed, (loss, sample_weights, dropout)) in cases.iter().enumerate() {
        let case = GradientCase::new(40 + seed as u64);
        let cx = Context::new(&case.x, &case.labels, *sample_weights, loss, *dropout);
        let (checked, skipped, mismatches) = case.compare(&cx, &cx);
        let what =
            format!("{loss:?}, sample weights {}, dropout {dropout}", sample_weights.is_some());
        assert!(mismatches.is_empty(), "{what}: {mismatches:#?}");
        // 30 + 35 + 18 parameters; only a few may sit at a kink.
        assert!(
            checked >= 75 && checked + skipped == 83,
            "{what}: {checked} checked, {skipped} skipped"
        );
    }
}

#[test]
fn the_gradient_check_catches_a_wrong_gradient() {
    // Sample weights of 1.05 scale the gradient by 5%: what a slightly wrong 1/B or shard
    // factor would look like. Checked against the unweighted objective it must fail.
    let case = GradientCase::new(40);
    let weights = [1.05_f32; 10];
    let plain = Context::new(&case.x, &case.labels, None, &Loss::CrossEntropy, 0.0);
    let scaled = Context::new(&case.x, &case.labels, Some(&weights), &Loss::CrossEntropy, 0.0);
    let (checked, _, mismatches) = case.compare(&plain, &scaled);
    assert!(mismatches.len() * 2 > checked, "{} of {checked} caught", mismatches.len());
}

#[test]
fn learns_xor_and_rings_which_a_linear_model_cannot() {
    for (name, train, test) in
        [("xor", xor(800, 1), xor(1000, 2)), ("rings", rings(900, 3), rings(900, 4))]
    {
        let model = small().seed(5).fit(&train).unwrap();
        let accuracy = confusion(&model, &test).accuracy();
        assert!(accuracy > 0.95, "{name}: MLP accuracy {accuracy}");
        let linear = small().hidden([]).seed(5).fit(&train).unwrap();
        let accuracy = confusion(&linear, &test).accuracy();
        assert!(accuracy < 0.75, "{name}: a linear model should not learn it, got {accuracy}");
    }
}

#[test]
fn probabilities_are_the_softmax_of_the_logits() {
    let data = rings(300, 9);
    let model = small().max_epochs(5).fit(&data).unwrap();
    let logits = model.logits(data.features()).unwrap();
    let proba = model.predict_proba(data.features()).unwrap();
    let expected = vigil_loss::softmax(logits.view());
    for (p, q) in proba.iter().zip(&expected) {
        assert!((p - q).abs() < 1e-6, "{p} vs {q}");
    }
    for row in proba.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-5);
    }
    assert_eq!(
        model.predict(data.features()).unwrap(),
        vigil_core::metrics::argmax_rows(logits.view())
    );
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    // Few rows with 30% flipped labels and a large, fast network overfit within a few
    // epochs: the validation loss turns up and training must stop and go back.
    let mut train = xor(200, 11);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let noisy: Vec<usize> =
        train.labels().iter().map(|&y| if rng.random_bool(0.3) { 1 - y } else { y }).collect();
    train = train.with_rows(train.features().to_owned(), noisy).unwrap();
    let valid = xor(400, 13);
    let params =
        MlpParams::new().hidden([128, 128]).dropout(0.0).learning_rate(1e-2).batch_size(16);
    let model = params
        .clone()
        .max_epochs(80)
        .patience(Some(4))
        .fit_weighted(&train, None, Some(&valid))
        .unwrap();
    let history = model.history();
    assert!(history.stopped_early, "{history:?}");
    let last = history.epochs.last().unwrap();
    assert_eq!(history.epochs.len(), history.best_epoch + 4);
    let best = history.best().unwrap();
    let recomputed = f64::from(
        Loss::CrossEntropy
            .loss(model.logits(valid.features()).unwrap().view(), valid.labels())
            .unwrap(),
    );
    assert_eq!(
        recomputed,
        best.validation_loss.unwrap(),
        "the model holds the best epoch's weights"
    );
    assert!(recomputed < last.validation_loss.unwrap(), "{history:?}");
    let min =
        history.epochs.iter().map(|e| e.validation_loss.unwrap()).fold(f64::INFINITY, f64::min);
    assert_eq!(best.validation_loss.unwrap(), min);
    assert_eq!(confusion(&model, &valid).accuracy(), best.validation_accuracy.unwrap());

    // Without patience the run goes the distance and keeps the last weights.
    let all =
        params.max_epochs(12).patience(None).fit_weighted(&train, None, Some(&valid)).unwrap();
    assert_eq!((all.history().epochs.len(), all.history().best_epoch), (12, 12));
    assert!(!all.history().stopped_early);
    let recomputed = f64::from(
        Loss::CrossEntropy
            .loss(all.logits(valid.features()).unwrap().view(), valid.labels())
            .unwrap(),
    );
    assert_eq!(Some(recomputed), all.history().epochs[11].validation_loss);
}

fn fit_with_threads(params: &MlpParams, data: &Dataset, valid: &Dataset, threads: usize) -> Mlp {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| params.fit_weighted(data, None, Some(valid)).unwrap())
}

#[test]
fn fits_are_bit_identical_across_runs_and_thread_counts() {
    let (train, valid) = (rings(600, 21), rings(300, 22));
    // Batches of 200 rows run as 4 shards, the last batch of 0 rows is absent, dropout on.
    let params = small().dropout(0.2).batch_size(200).max_epochs(6).seed(3);
    let one = fit_with_threads(&params, &train, &valid, 1);
    let reference = bytes(&one);
    assert_eq!(bytes(&fit_with_threads(&params, &train, &valid, 1)), reference);
    assert_eq!(bytes(&fit_with_threads(&params, &train, &valid, 2)), reference);
    assert_eq!(bytes(&fit_with_threads(&params, &train, &valid, 3)), reference);
    assert_ne!(bytes(&fit_with_threads(&params.seed(4), &train, &valid, 2)), reference);
}

/// An edit that corrupts a model.
type Edit = fn(&mut Mlp);

#[test]
fn bincode_round_trip_is_bit_exact_and_checked() {
    let data = rings(300, 31);
    let model = small().dropout(0.1).max_epochs(3).fit_weighted(&data, None, Some(&data)).unwrap();
    let encoded = bytes(&model);
    let (decoded, read): (Mlp, usize) =
        bincode::serde::decode_from_slice(&encoded, standard()).unwrap();
    assert_eq!(read, encoded.len());
    assert_eq!(decoded, model);
    assert_eq!(bytes(&decoded), encoded);
    let x = data.features();
    assert_eq!(bits(&decoded.predict_proba(x).unwrap()), bits(&model.predict_proba(x).unwrap()));
    assert_eq!(decoded.history(), model.history());

    let corrupt = |edit: Edit| {
        let mut bad = model.clone();
        edit(&mut bad);
        bincode::serde::decode_from_slice::<Mlp, _>(&bytes(&bad), standard())
            .unwrap_err()
            .to_string()
    };
    let cases: [(Edit, &str); 6] = [
        (|m| m.layers[1].bias = Array1::zeros(3), "layer 1 has weights (32, 32) and 3 biases"),
        (|m| m.layers[0].weights = Array2::zeros((3, 32)), "layer 0 has weights (3, 32)"),
        (|m| m.layers[2].weights[[0, 0]] = f32::NAN, "layer 2 has a non-finite parameter"),
        (|m| drop(m.layers.pop()), "2 layers for 2 hidden widths"),
        (|m| m.n_classes = 1, "1 classes"),
        (|m| m.params.dropout = 1.5, "invalid parameter dropout = 1.5: must be in [0, 1)"),
    ];
    for (edit, expected) in cases {
        let message = corrupt(edit);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let data = rings(200, 41);
    let model = small().max_epochs(2).fit(&data).unwrap();
    assert_eq!(
        model.logits(Array2::zeros((4, 3)).view()),
        Err(ModelError::WidthMismatch { what: "input", expected: 2, found: 3 })
    );
    let mut x = Array2::<f32>::zeros((5, 2));
    x[[3, 1]] = f32::NAN;
    assert!(matches!(
        model.predict_proba(x.view()),
        Err(ModelError::NonFinite { row: 3, column: 1, .. })
    ));
    // Finite input far out of scale overflows the logits: an error, never a NaN probability.
    let huge = Array2::from_elem((2, 2), f32::MAX);
    let err = model.predict_proba(huge.view()).unwrap_err();
    assert!(matches!(err, ModelError::NonFinite { what: "output logit", .. }), "{err}");
    assert_eq!(model.predict(Array2::zeros((0, 2)).view()).unwrap(), Vec::<usize>::new());
    // Non-standard layout is fine.
    let t = data.features().t().to_owned();
    assert_eq!(model.logits(t.t()).unwrap(), model.logits(data.features()).unwrap());
}

#[test]
fn training_errors_name_the_problem() {
    let data = rings(120, 51);
    let params = small().max_epochs(2);
    let err = params.fit_weighted(&data, Some(&[1.0; 3]), None).unwrap_err();
    assert_eq!(err, ModelError::WeightsLength { expected: 120, found: 3 });
    let two = Loss::Weighted { weights: vec![1.0, 2.0] };
    let err = params.clone().loss(two).fit(&data).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::InvalidLoss(LossError::ShapeMismatch { expected: 3, found: 2, .. })
        ),
        "{err}"
    );
    let wide = dataset(Array2::zeros((3, 5)), vec![0, 1, 2], 3);
    assert!(matches!(
        params.fit_weighted(&data, None, Some(&wide)),
        Err(ModelError::WidthMismatch { .. })
    ));
    // Inputs near f32::MAX overflow in the first forward pass.
    let huge = data
        .with_rows(data.features().mapv(|v| v.signum() * 3e38), data.labels().to_vec())
        .unwrap();
    let err = params.fit(&huge).unwrap_err();
    assert_eq!(err, ModelError::Diverged { epoch: 1 });
    assert_eq!(
        err.to_string(),
        "training diverged in epoch 1: a logit became non-finite; lower the learning rate"
    );
}

fn recall_of_minority(model: &Mlp, data: &Dataset) -> f64 {
    confusion(model, data).recall(1)
}

#[test]
fn class_weights_sample_weights_and_focal_loss_plug_in() {
    // Overlapping classes, 1 minority row in 10: plain cross-entropy favours the majority.
    let (train, test) = (blobs(2000, 1, 1.5, 61), blobs(2000, 1, 1.5, 62));
    let params = small().hidden([16]).max_epochs(15).batch_size(64).seed(1);
    let plain = params.fit(&train).unwrap();
    let class_weighted =
        params.clone().loss(Loss::Weighted { weights: vec![1.0, 9.0] }).fit(&train).unwrap();
    let row_weights: Vec<f32> =
        train.labels().iter().map(|&y| if y == 1 { 9.0 } else { 1.0 }).collect();
    let row_weighted = params.fit_weighted(&train, Some(&row_weights), None).unwrap();
    let focal = Loss::Focal { alpha: vec![0.25, 2.25], gamma: 2.0, label_smoothing: 0.0 };
    let focal = params.clone().loss(focal).fit(&train).unwrap();

    let base = recall_of_minority(&plain, &test);
    for (name, model) in
        [("class weights", &class_weighted), ("sample weights", &row_weighted), ("focal", &focal)]
    {
        let recall = recall_of_minority(model, &test);
        assert!(recall > base + 0.2, "{name}: minority recall {recall} vs {base} unweighted");
    }
    // Class weights through the loss and the same weights per row are one objective.
    let a = class_weighted.predict(test.features()).unwrap();
    let b = row_weighted.predict(test.features()).unwrap();
    let agree = a.iter().zip(&b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64;
    assert!(agree > 0.98, "{agree}");
    let (wa, wb) = (
        class_weighted.history().epochs[0].train_loss,
        row_weighted.history().epochs[0].train_loss,
    );
    assert!((wa - wb).abs() < 1e-3 * wa, "{wa} vs {wb}");

    // Rows of weight 0 do not count: with class 1 zeroed out it is never predicted.
    let zeroed: Vec<f32> = train.labels().iter().map(|&y| if y == 1 { 0.0 } else { 1.0 }).collect();
    let ignored = params.fit_weighted(&train, Some(&zeroed), None).unwrap();
    assert_eq!(recall_of_minority(&ignored, &test), 0.0);
}

#[test]
fn history_records_every_epoch() {
    let (train, valid) = (rings(300, 71), rings(300, 72));
    let model =
        small().max_epochs(4).patience(None).fit_weighted(&train, None, Some(&valid)).unwrap();
    let history = model.history();
    assert_eq!(history.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(), [1, 2, 3, 4]);
    for e in &history.epochs {
        assert!(e.train_loss.is_finite() && e.train_loss > 0.0);
        assert!((0.0..=1.0).contains(&e.validation_accuracy.unwrap()));
        assert!((0.0..=1.0).contains(&e.validation_macro_f1.unwrap()));
    }
    assert!(history.epochs[3].train_loss < history.epochs[0].train_loss);
    let no_valid = small().max_epochs(2).fit(&train).unwrap();
    assert_eq!(no_valid.history().best_epoch, 2);
    assert!(no_valid.history().epochs.iter().all(|e| e.validation_loss.is_none()));
    assert_eq!(model.n_parameters(), 2 * 32 + 32 + 32 * 32 + 32 + 32 * 3 + 3);
}

/// KDDTrain+_20Percent.txt, loaded, split 80/20 (stratified, seed 42) and standardised on
/// the training part. Loaded once for the tests that use it.
fn nsl_kdd_20() -> &'static (Dataset, Dataset) {
    static DATA: OnceLock<(Dataset, Dataset)> = OnceLock::new();
    DATA.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/datasets/nsl-kdd/KDDTrain+_20Percent.txt");
        let (data, _, _) = vigil_datasets::load_train(&vigil_datasets::Spec::NslKdd, &path)
            .unwrap_or_else(|e| {
                panic!(
                    "cannot load {} ({e}); the tests expect ../shared/datasets (see PROVENANCE.md)",
                    path.display()
                )
            });
        let (train, valid) = data.stratified_split(0.2, 42).unwrap();
        let scaler = Standardizer::fit(train.features()).unwrap();
        let standardise = |d: &Dataset| {
            d.with_rows(scaler.transform(d.features()).unwrap(), d.labels().to_vec()).unwrap()
        };
        (standardise(&train), standardise(&valid))
    })
}

#[test]
fn nsl_kdd_20_percent_validation_accuracy_above_097() {
    let (train, valid) = nsl_kdd_20();
    let model = MlpParams::new()
        .max_epochs(4)
        .batch_size(256)
        .fit_weighted(train, None, Some(valid))
        .unwrap();
    let cm = confusion(&model, valid);
    assert!(cm.accuracy() > 0.97, "accuracy {}, history {:?}", cm.accuracy(), model.history());
    assert!(cm.recall(0) > 0.97 && cm.recall(1) > 0.97, "{:?}", cm.recalls());
    let rows = valid.features().len_of(Axis(0));
    assert_eq!(model.predict(valid.features()).unwrap().len(), rows);
}
