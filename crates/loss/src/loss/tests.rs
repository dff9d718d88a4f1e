use ndarray::{Array2, array};
use proptest::prelude::*;

use super::*;

const LN3: f32 = 1.098_612_3;
/// The batch size of the two-row cases: losses are means over rows.
const N2: f64 = 2.0;

fn ln(x: f64) -> f64 {
    x.ln()
}

/// Evaluates `loss` and compares the loss and every gradient entry with hand values.
fn check(loss: &Loss, logits: &Array2<f32>, targets: &[usize], expected: (f64, &[&[f64]])) {
    let (value, grad) = loss.loss_and_grad(logits.view(), targets).unwrap();
    let (want, want_grad) = expected;
    assert!((f64::from(value) - want).abs() < 1e-6, "{loss:?}: loss {value}, expected {want}");
    for (i, row) in want_grad.iter().enumerate() {
        for (j, &g) in row.iter().enumerate() {
            assert!(
                (f64::from(grad[[i, j]]) - g).abs() < 1e-6,
                "{loss:?}: grad[{i}, {j}] = {}, expected {g}",
                grad[[i, j]]
            );
        }
    }
    let only = loss.loss(logits.view(), targets).unwrap();
    assert_eq!(only, value, "loss() and loss_and_grad() disagree");
}

fn focal(alpha: &[f32], gamma: f32, label_smoothing: f32) -> Loss {
    Loss::Focal { alpha: alpha.to_vec(), gamma, label_smoothing }
}

#[test]
fn cross_entropy_hand_values() {
    // Logits [0, ln 3] give p = [1/4, 3/4].
    let z = array![[0.0, LN3]];
    check(&Loss::CrossEntropy, &z, &[1], (ln(4.0 / 3.0), &[&[0.25, -0.25]]));
    check(&Loss::CrossEntropy, &z, &[0], (ln(4.0), &[&[-0.75, 0.75]]));
    // Two rows: the mean loss, and each gradient row divided by N = 2.
    let z = array![[0.0, LN3], [0.0, 0.0]];
    check(
        &Loss::CrossEntropy,
        &z,
        &[1, 0],
        ((ln(4.0 / 3.0) + ln(2.0)) / N2, &[&[0.125, -0.125], &[-0.25, 0.25]]),
    );
    // Three equal logits: ln 3, gradient (1/3 - onehot).
    let third = 1.0 / 3.0;
    check(
        &Loss::CrossEntropy,
        &array![[5.0, 5.0, 5.0]],
        &[2],
        (ln(3.0), &[&[third, third, third - 1.0]]),
    );
}

#[test]
fn weighted_cross_entropy_divides_by_n_not_by_the_sum_of_weights() {
    let loss = Loss::Weighted { weights: vec![2.0, 0.5] };
    let z = array![[0.0, LN3], [0.0, LN3]];
    // Row 0: 0.5 ln(4/3); row 1: 2 ln 4; mean over N = 2 (the sum of weights would be 2.5).
    check(
        &loss,
        &z,
        &[1, 0],
        ((0.5 * ln(4.0 / 3.0) + 2.0 * ln(4.0)) / N2, &[&[0.0625, -0.0625], &[-0.75, 0.75]]),
    );
}

#[test]
fn focal_hand_values() {
    let z = array![[0.0, LN3]];
    // γ = 2, p_t = 3/4: FL = (1/4)² ln(4/3). d/dz_1 = 2p(1-p)² ln p - (1-p)³.
    let g1 = -(6.0 * ln(4.0 / 3.0) + 1.0) / 64.0;
    check(&focal(&[1.0, 1.0], 2.0, 0.0), &z, &[1], (ln(4.0 / 3.0) / 16.0, &[&[-g1, g1]]));
    // γ = 0, ε = 0.2, α_y = 2: q = [0.1, 0.9], loss 2 (0.1 ln 4 + 0.9 ln 4/3), grad 2 (p - q).
    check(
        &focal(&[7.0, 2.0], 0.0, 0.2),
        &z,
        &[1],
        (2.0 * (0.1 * ln(4.0) + 0.9 * ln(4.0 / 3.0)), &[&[0.3, -0.3]]),
    );
    // γ = 1, ε = 0.2: 0.1 (1 - 1/4) ln 4 + 0.9 (1 - 3/4) ln 4/3.
    let value = 0.1 * 0.75 * ln(4.0) + 0.9 * 0.25 * ln(4.0 / 3.0);
    let (got, _) = focal(&[1.0, 1.0], 1.0, 0.2).loss_and_grad(z.view(), &[1]).unwrap();
    assert!((f64::from(got) - value).abs() < 1e-6, "{got} vs {value}");
}

#[test]
fn focal_alpha_is_the_weight_of_the_target_class() {
    // With smoothing, changing the α of a non-target class must not change the loss.
    let z = array![[0.3, -1.2, 2.0]];
    let a = focal(&[1.0, 1.0, 1.0], 2.0, 0.1).loss(z.view(), &[0]).unwrap();
    let b = focal(&[1.0, 50.0, 9.0], 2.0, 0.1).loss(z.view(), &[0]).unwrap();
    let c = focal(&[3.0, 50.0, 9.0], 2.0, 0.1).loss(z.view(), &[0]).unwrap();
    assert_eq!(a, b);
    assert!((c - 3.0 * a).abs() < 1e-6, "{c} vs 3 * {a}");
}

fn seeded_batch(n: usize, k: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let z = Array2::from_shape_fn((n, k), |_| rng.random_range(-6.0_f32..6.0));
    let y = (0..n).map(|_| rng.random_range(0..k)).collect();
    (z, y)
}

fn assert_same(a: &Loss, b: &Loss, z: &Array2<f32>, y: &[usize]) {
    let (la, ga) = a.loss_and_grad(z.view(), y).unwrap();
    let (lb, gb) = b.loss_and_grad(z.view(), y).unwrap();
    assert!((la - lb).abs() < 1e-6, "{a:?} {la} vs {b:?} {lb}");
    let worst = (&ga - &gb).iter().fold(0.0_f32, |m, d| m.max(d.abs()));
    assert!(worst < 1e-7, "{a:?} vs {b:?}: gradients differ by {worst}");
}

#[test]
fn special_cases_reduce_to_cross_entropy() {
    for seed in 0..5 {
        let (z, y) = seeded_batch(64, 5, seed);
        let ce = Loss::CrossEntropy;
        assert_same(&focal(&[1.0; 5], 0.0, 0.0), &ce, &z, &y);
        let uniform = Loss::Weighted { weights: vec![1.0; 5] };
        assert_same(&uniform, &ce, &z, &y);
    }
}

#[test]
fn gradient_rows_sum_to_zero() {
    let (z, y) = seeded_batch(32, 7, 11);
    for loss in [
        Loss::CrossEntropy,
        Loss::Weighted { weights: vec![0.5, 1.0, 2.0, 3.0, 0.0, 1.0, 4.0] },
        focal(&[0.5, 1.0, 2.0, 3.0, 0.1, 1.0, 4.0], 0.5, 0.1),
    ] {
        let (_, grad) = loss.loss_and_grad(z.view(), &y).unwrap();
        for row in grad.rows() {
            assert!(row.sum().abs() < 1e-6, "{loss:?}: row sums to {}", row.sum());
        }
    }
}

fn losses(alpha: &[f32], gamma: f32, eps: f32) -> [Loss; 3] {
    [Loss::CrossEntropy, Loss::Weighted { weights: alpha.to_vec() }, focal(alpha, gamma, eps)]
}

fn batch_strategy() -> impl Strategy<Value = (Array2<f32>, Vec<usize>, Vec<f32>, f32, f32)> {
    (2_usize..7, 1_usize..4).prop_flat_map(|(k, n)| {
        (
            prop::collection::vec(-8.0_f32..8.0, n * k),
            prop::collection::vec(0..k, n),
            prop::collection::vec(0.1_f32..3.0, k),
            prop_oneof![Just(0.0_f32), 0.0_f32..1.0, 1.0_f32..4.0],
            prop_oneof![Just(0.0_f32), 0.0_f32..0.5],
        )
            .prop_map(move |(z, y, alpha, gamma, eps)| {
                (Array2::from_shape_vec((n, k), z).unwrap(), y, alpha, gamma, eps)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

    /// Central differences of the `f64` loss against the analytic gradient. The step is
    /// taken on the `f32` logit and divided by the step actually realised, so the only
    /// error left is the `O(h²)` truncation.
    #[test]
    fn gradients_match_central_differences((z, y, alpha, gamma, eps) in batch_strategy()) {
        for loss in losses(&alpha, gamma, eps) {
            let (_, grad) = loss.loss_and_grad(z.view(), &y).unwrap();
            for ((i, j), &g) in grad.indexed_iter() {
                let h = 1e-3_f32;
                let mut plus = z.clone();
                plus[[i, j]] += h;
                let mut minus = z.clone();
                minus[[i, j]] -= h;
                let step = f64::from(plus[[i, j]]) - f64::from(minus[[i, j]]);
                let fd = (loss.evaluate(plus.view(), &y, None)
                    - loss.evaluate(minus.view(), &y, None))
                    / step;
                let g = f64::from(g);
                prop_assert!(
                    (fd - g).abs() <= 1e-5 + 1e-4 * g.abs(),
                    "{loss:?} at ({i}, {j}): analytic {g}, finite difference {fd}"
                );
            }
        }
    }
}
