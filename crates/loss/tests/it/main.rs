//! Integration tests of vigil-loss through its public API.

use ndarray::{Array2, array};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_loss::{
    Loss, LossError, MAX_TEMPERATURE, MIN_TEMPERATURE, RECOMMENDED_BETA, WeightScheme,
    apply_temperature, class_weights, fit_temperature, log_softmax, recommend, softmax,
};

fn check_weights(counts: &[usize], scheme: WeightScheme, expected: &[f64]) {
    let got = class_weights(counts, scheme).unwrap();
    assert_eq!(got.len(), expected.len(), "{counts:?} {scheme:?}");
    for (c, (&g, &e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (f64::from(g) - e).abs() < 1e-6,
            "{counts:?} {scheme:?}: class {c} weight {g}, expected {e}"
        );
    }
}

#[test]
fn class_weights_hand_cases() {
    use WeightScheme::{EffectiveNumber, InverseFrequency, Uniform};
    check_weights(&[5, 0, 3], Uniform, &[1.0, 1.0, 1.0]);
    // N / (K n_c): 100 / (2 · 90), 100 / (2 · 10).
    check_weights(&[90, 10], InverseFrequency, &[100.0 / 180.0, 5.0]);
    // The absent class gets the largest present weight, 100 / (3 · 10).
    check_weights(&[90, 10, 0], InverseFrequency, &[100.0 / 270.0, 100.0 / 30.0, 100.0 / 30.0]);
    // β = 1/2: raw (1 - β)/(1 - β^n) = [1, 2/3], sum 5/3, scaled to sum 2: [6/5, 4/5].
    check_weights(&[1, 2], EffectiveNumber { beta: 0.5 }, &[1.2, 0.8]);
    // Absent class takes raw weight 1 (the largest); [1, 2/3, 1] scaled to sum 3.
    check_weights(&[1, 2, 0], EffectiveNumber { beta: 0.5 }, &[1.125, 0.75, 1.125]);
    check_weights(&[7, 1, 300], EffectiveNumber { beta: 0.0 }, &[1.0, 1.0, 1.0]);
    // No rows at all: uniform; no classes: no weights.
    check_weights(&[0, 0], InverseFrequency, &[1.0, 1.0]);
    check_weights(&[], EffectiveNumber { beta: 0.9 }, &[]);
}

#[test]
fn effective_number_approaches_inverse_frequency_as_beta_nears_one() {
    let w = class_weights(&[1000, 10], WeightScheme::EffectiveNumber { beta: 0.999_999 }).unwrap();
    let ratio = f64::from(w[1] / w[0]);
    assert!((ratio - 100.0).abs() < 0.5, "{ratio}");
    assert!((f64::from(w[0] + w[1]) - 2.0).abs() < 1e-6);
}

#[test]
fn invalid_beta_is_an_error() {
    for beta in [1.0, -0.1, f64::NAN] {
        let err = class_weights(&[1, 2], WeightScheme::EffectiveNumber { beta }).unwrap_err();
        assert!(matches!(err, LossError::InvalidParam { param: "beta", .. }), "{err}");
    }
}

/// The loss kind `recommend` picks for the counts, and its reason.
fn kind(counts: &[usize]) -> (&'static str, String) {
    let rec = recommend(counts);
    let kind = match &rec.loss {
        Loss::CrossEntropy => "ce",
        Loss::Weighted { .. } => "weighted",
        Loss::Focal { gamma, .. } if *gamma == 2.0 => "focal2",
        Loss::Focal { gamma, .. } if *gamma == 2.5 => "focal2.5",
        other @ Loss::Focal { .. } => panic!("unexpected {other:?}"),
    };
    (kind, rec.reason)
}

#[test]
fn recommend_at_each_threshold() {
    for (counts, expected, ratio) in [
        (&[100, 100][..], "ce", "1.00"),
        (&[500, 100], "ce", "5.00"),
        (&[501, 100], "weighted", "5.01"),
        (&[2000, 100], "weighted", "20.00"),
        (&[2001, 100], "focal2", "20.01"),
        (&[10_000, 100], "focal2", "100.00"),
        (&[10_001, 100], "focal2.5", "100.01"),
        (&[1_000_000, 3], "focal2.5", "333333.33"),
    ] {
        let (got, reason) = kind(counts);
        assert_eq!(got, expected, "{counts:?}: {reason}");
        assert!(reason.contains(&format!("ratio {ratio} ")), "{reason}");
    }
}

#[test]
fn recommend_reasons() {
    assert_eq!(
        recommend(&[501, 100]).reason,
        "imbalance ratio 5.01 (largest class 501 rows, smallest present class 100 rows) > 5: \
         weighted cross-entropy, inverse-frequency weights"
    );
    assert_eq!(
        recommend(&[20_000, 0, 100]).reason,
        "imbalance ratio 200.00 (largest class 20000 rows, smallest present class 100 rows) \
         > 100: focal loss, gamma 2.5, effective-number alpha (beta 0.999); 1 of 3 classes \
         have no rows and are weighted like the rarest present class"
    );
    assert_eq!(
        recommend(&[0, 0]).reason,
        "imbalance ratio 1.00 (no class has rows) <= 5: plain cross-entropy; 2 of 2 classes \
         have no rows"
    );
}

#[test]
fn recommend_weights_cover_absent_classes() {
    let rec = recommend(&[20_000, 0, 100, 300]);
    assert_eq!(rec.imbalance_ratio, 200.0);
    let Loss::Focal { alpha, gamma, label_smoothing } = &rec.loss else { panic!("{rec:?}") };
    assert_eq!((*gamma, *label_smoothing), (2.5, 0.0));
    let expected = class_weights(
        &[20_000, 0, 100, 300],
        WeightScheme::EffectiveNumber { beta: RECOMMENDED_BETA },
    )
    .unwrap();
    assert_eq!(alpha, &expected);
    assert_eq!(alpha[1], alpha[2], "absent class weighted like the rarest");
    // The recommended loss accepts a batch with a target of the absent class.
    let z = array![[0.0_f32, 1.0, -1.0, 0.5]];
    assert!(rec.loss.loss(z.view(), &[1]).unwrap().is_finite());
}

/// Logits whose softmax is the true label distribution: labels are drawn from it.
fn calibrated(n: usize, k: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let logits = Array2::from_shape_fn((n, k), |_| rng.random_range(-3.0_f32..3.0));
    let probs = softmax(logits.view());
    let labels = probs
        .rows()
        .into_iter()
        .map(|p| {
            let u: f32 = rng.random_range(0.0..1.0);
            let mut acc = 0.0;
            p.iter()
                .position(|&pj| {
                    acc += pj;
                    u < acc
                })
                .unwrap_or(k - 1)
        })
        .collect();
    (logits, labels)
}

#[test]
fn temperature_recovers_the_scale_of_overconfident_logits() {
    let (logits, labels) = calibrated(5000, 5, 1);
    let fit = fit_temperature((&logits * 3.0).view(), &labels).unwrap();
    assert!((fit.temperature - 3.0).abs() < 0.2, "{fit:?}");
    assert!(fit.nll_after < fit.nll_before - 0.1, "{fit:?}");
    assert!(fit.ece_after < fit.ece_before / 3.0, "{fit:?}");
    assert!(fit.ece_after < 0.03, "{fit:?}");

    let fit = fit_temperature((&logits * 0.5).view(), &labels).unwrap();
    assert!((fit.temperature - 0.5).abs() < 0.04, "{fit:?}");
    assert!(fit.nll_after < fit.nll_before, "{fit:?}");
}

#[test]
fn temperature_of_calibrated_logits_is_near_one() {
    let (logits, labels) = calibrated(5000, 5, 2);
    let fit = fit_temperature(logits.view(), &labels).unwrap();
    assert!((fit.temperature - 1.0).abs() < 0.07, "{fit:?}");
    assert!(fit.nll_before - fit.nll_after < 1e-3, "{fit:?}");
}

#[test]
fn temperature_edge_cases() {
    // Flat logits: the NLL does not depend on T, so T stays 1.
    let fit = fit_temperature(Array2::zeros((4, 3)).view(), &[0, 1, 2, 0]).unwrap();
    assert_eq!(fit.temperature, 1.0);
    assert_eq!(fit.nll_before, fit.nll_after);
    // Every row right: sharper is always better, so T goes to the lower bound.
    let z = array![[4.0_f32, 0.0], [0.0, 4.0]];
    let fit = fit_temperature(z.view(), &[0, 1]).unwrap();
    assert_eq!(fit.temperature, MIN_TEMPERATURE);
    // Every row confidently wrong: T goes to the upper bound.
    let fit = fit_temperature(z.view(), &[1, 0]).unwrap();
    assert_eq!(fit.temperature, MAX_TEMPERATURE);
    assert!(fit.nll_after < fit.nll_before);
}

#[test]
fn extreme_logits_give_finite_losses_and_gradients() {
    let z = array![[1e4_f32, -1e4, 0.0], [-1e4, 1e4, 1e4], [1e30, -1e30, 0.0]];
    let alpha = [0.5, 2.0, 1.0];
    for loss in [
        Loss::CrossEntropy,
        Loss::Weighted { weights: alpha.to_vec() },
        Loss::Focal { alpha: alpha.to_vec(), gamma: 0.5, label_smoothing: 0.0 },
        Loss::Focal { alpha: alpha.to_vec(), gamma: 2.0, label_smoothing: 0.1 },
    ] {
        for targets in [[0, 1, 0], [1, 0, 1], [2, 2, 2]] {
            let (value, grad) = loss.loss_and_grad(z.view(), &targets).unwrap();
            assert!(value.is_finite(), "{loss:?} {targets:?}: {value}");
            assert!(grad.iter().all(|g| g.is_finite()), "{loss:?}: {grad}");
        }
    }
    // Right with certainty costs nothing; wrong by 2e4 costs 2e4.
    let ce = Loss::CrossEntropy;
    let one = array![[1e4_f32, -1e4]];
    assert_eq!(ce.loss(one.view(), &[0]).unwrap(), 0.0);
    assert_eq!(ce.loss(one.view(), &[1]).unwrap(), 2e4);
    let p = softmax(z.view());
    assert!(p.iter().all(|p| p.is_finite()));
    assert!(log_softmax(z.view()).iter().all(|l| l.is_finite()));
}

#[test]
fn errors_name_what_is_wrong() {
    let z = array![[0.0_f32, 1.0], [f32::NAN, 0.0]];
    let ce = Loss::CrossEntropy;
    let msg = |r: Result<f32, LossError>| r.unwrap_err().to_string();
    assert_eq!(msg(ce.loss(z.view(), &[0, 1])), "non-finite logit NaN at row 1, column 0");
    let z = array![[0.0_f32, 1.0], [2.0, 0.0]];
    assert_eq!(msg(ce.loss(z.view(), &[0, 2])), "target 2 at row 1 out of range for 2 classes");
    assert_eq!(msg(ce.loss(z.view(), &[0])), "targets vs logit rows: expected 2, found 1");
    assert_eq!(msg(ce.loss(Array2::zeros((0, 2)).view(), &[])), "a loss needs at least one row");
    let weighted = Loss::Weighted { weights: vec![1.0, 2.0, 3.0] };
    assert_eq!(
        msg(weighted.loss(z.view(), &[0, 1])),
        "class weights vs logit columns: expected 2, found 3"
    );
    let focal =
        |alpha: Vec<f32>, gamma, label_smoothing| Loss::Focal { alpha, gamma, label_smoothing };
    assert_eq!(
        msg(focal(vec![1.0, -1.0], 2.0, 0.0).loss(z.view(), &[0, 1])),
        "invalid alpha: -1 for class 1 must be finite and >= 0"
    );
    assert_eq!(
        msg(focal(vec![1.0, 1.0], -0.5, 0.0).loss(z.view(), &[0, 1])),
        "invalid gamma: -0.5 must be finite and >= 0"
    );
    assert_eq!(
        msg(focal(vec![1.0, 1.0], 2.0, 1.0).loss(z.view(), &[0, 1])),
        "invalid label_smoothing: 1 must be in [0, 1)"
    );
    let mut grad = Array2::zeros((2, 3));
    assert_eq!(
        msg(ce.loss_and_grad_into(z.view(), &[0, 1], grad.view_mut())),
        "gradient columns vs logit columns: expected 2, found 3"
    );
    assert_eq!(
        apply_temperature(z.view(), 0.0).unwrap_err().to_string(),
        "invalid temperature: 0 must be finite and > 0"
    );
    assert_eq!(
        fit_temperature(Array2::zeros((0, 2)).view(), &[]).unwrap_err().to_string(),
        "temperature fitting needs at least one row"
    );
}

#[test]
fn loss_and_grad_into_overwrites_the_buffer() {
    let z = array![[0.0_f32, 3.0_f32.ln()]];
    let mut grad = Array2::from_elem((1, 2), 9.0_f32);
    let value = Loss::CrossEntropy.loss_and_grad_into(z.view(), &[1], grad.view_mut()).unwrap();
    assert!((value - (4.0_f32 / 3.0).ln()).abs() < 1e-6);
    assert!((grad[[0, 0]] - 0.25).abs() < 1e-6 && (grad[[0, 1]] + 0.25).abs() < 1e-6);
}

#[test]
fn losses_round_trip_through_json() {
    let loss = Loss::Focal { alpha: vec![0.25, 4.0], gamma: 2.0, label_smoothing: 0.05 };
    let json = serde_json::to_string(&loss).unwrap();
    assert_eq!(json, r#"{"kind":"focal","alpha":[0.25,4.0],"gamma":2.0,"label_smoothing":0.05}"#);
    assert_eq!(serde_json::from_str::<Loss>(&json).unwrap(), loss);
    let ce: Loss = serde_json::from_str(r#"{"kind":"cross_entropy"}"#).unwrap();
    assert_eq!(ce, Loss::CrossEntropy);
}

fn logits_strategy() -> impl Strategy<Value = Array2<f32>> {
    (1_usize..6, 1_usize..8).prop_flat_map(|(n, k)| {
        prop::collection::vec(prop_oneof![-50.0_f32..50.0, -1e4_f32..1e4, Just(0.0_f32)], n * k)
            .prop_map(move |v| Array2::from_shape_vec((n, k), v).unwrap())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(3), ..ProptestConfig::default() })]

    #[test]
    fn softmax_rows_are_distributions(z in logits_strategy()) {
        let p = softmax(z.view());
        let log_p = log_softmax(z.view());
        for (row, log_row) in p.rows().into_iter().zip(log_p.rows()) {
            prop_assert!((row.sum() - 1.0).abs() < 1e-5, "row sums to {}", row.sum());
            prop_assert!(row.iter().all(|&x| (0.0..=1.0).contains(&x)));
            for (&pj, &lj) in row.iter().zip(log_row) {
                prop_assert!(lj <= 0.0 && lj.is_finite());
                prop_assert!((lj.exp() - pj).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn temperature_keeps_the_argmax(z in logits_strategy(), t in 0.05_f32..20.0) {
        let before = softmax(z.view());
        let after = softmax(apply_temperature(z.view(), t).unwrap().view());
        for (b, a) in before.rows().into_iter().zip(after.rows()) {
            let best = b.iter().copied().fold(f32::MIN, f32::max);
            let j = b.iter().position(|&x| x == best).unwrap();
            prop_assert!(a.iter().all(|&x| x <= a[j] + 1e-6));
        }
    }
}
