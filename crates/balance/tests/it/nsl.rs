//! The same properties on real data: NSL-KDD's KDDTrain+_20Percent (25,192 rows, 118
//! columns after one-hot encoding, classes normal, DoS, Probe, R2L, U2R).

use std::sync::OnceLock;

use ndarray::Array2;
use vigil_balance::{BalanceParams, Balanced, Method, balance};

use crate::nsl_kdd;
use crate::support::{assert_on_segments, assert_originals_first, distance, rows_of};

fn data() -> &'static (Array2<f32>, Vec<usize>) {
    static DATA: OnceLock<(Array2<f32>, Vec<usize>)> = OnceLock::new();
    DATA.get_or_init(|| nsl_kdd::load("KDDTrain+_20Percent.txt"))
}

fn smote() -> &'static Balanced {
    static OUT: OnceLock<Balanced> = OnceLock::new();
    OUT.get_or_init(|| {
        let (x, y) = data();
        balance(x.view(), y, 5, &BalanceParams::default().with_method(Method::Smote)).unwrap()
    })
}

/// Every `step`-th synthetic row of `class`.
fn synthetic_of(out: &Balanced, n: usize, class: usize, step: usize) -> Vec<usize> {
    (n..out.y.len()).filter(|&r| out.y[r] == class).step_by(step).collect()
}

#[test]
fn the_loader_sees_the_expected_shape() {
    let (x, y) = data();
    // The 20% file uses 66 of the 70 services, so its own vocabulary gives 118 columns.
    assert_eq!(x.dim(), (25_192, 118));
    let counts: Vec<usize> = (0..5).map(|c| rows_of(y, c).len()).collect();
    assert_eq!(counts, [13_449, 9_234, 2_289, 209, 11]);
}

#[test]
fn smote_brings_every_class_to_the_majority_with_originals_first() {
    let (x, y) = data();
    let out = smote();
    assert_originals_first(x.view(), y, out);
    assert_eq!(out.report.counts_after, [13_449; 5]);
    assert_eq!(out.report.k_used, Some(5));
    assert!(out.report.fallbacks.is_empty());
    assert_eq!(out.y.len(), 5 * 13_449);
}

#[test]
fn smote_points_on_nsl_kdd_lie_on_segments_to_brute_force_neighbours() {
    let (x, y) = data();
    let out = smote();
    // All of U2R's and R2L's new rows, and a sample of the others'.
    for (class, step) in [(4, 1), (3, 1), (2, 37), (1, 97)] {
        let rows = rows_of(y, class);
        let synthetic = synthetic_of(out, x.nrows(), class, step);
        assert!(!synthetic.is_empty());
        assert_on_segments(x.view(), out, &synthetic, &rows, &rows, 5, 1.0);
    }
}

#[test]
fn smote_on_nsl_kdd_is_seeded_and_thread_count_independent() {
    let (x, y) = data();
    let params = BalanceParams::default().with_method(Method::Smote);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let alone = one.install(|| balance(x.view(), y, 5, &params).unwrap());
    assert!(alone == *smote(), "one thread and the default pool disagree");
    let other = balance(x.view(), y, 5, &BalanceParams { seed: 1, ..params }).unwrap();
    assert_ne!(other.x, smote().x);
}

#[test]
fn adasyn_and_borderline_smote_on_nsl_kdd_follow_their_rules() {
    let (x, y) = data();
    let n = x.nrows();
    // ADASYN's apportioning is exact.
    let params = BalanceParams::default().with_method(Method::Adasyn);
    let out = balance(x.view(), y, 5, &params).unwrap();
    assert_originals_first(x.view(), y, &out);
    assert_eq!(out.report.counts_after, [13_449; 5]);
    let rows = rows_of(y, 4);
    assert_on_segments(x.view(), &out, &synthetic_of(&out, n, 4, 1), &rows, &rows, 5, 1.0);

    // Borderline-SMOTE 1: U2R's new rows start from its rows in danger, found here by
    // brute force over the whole data set (m = 10).
    let params = BalanceParams::default().with_method(Method::BorderlineSmote1);
    let out = balance(x.view(), y, 5, &params).unwrap();
    assert_originals_first(x.view(), y, &out);
    let all: Vec<usize> = (0..n).collect();
    let danger: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| {
            let mut near: Vec<(f64, usize)> = all
                .iter()
                .filter(|&&o| o != r)
                .map(|&o| (distance(x.row(r), x.row(o)), o))
                .collect();
            near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let others = near[..10].iter().filter(|&&(_, o)| y[o] != 4).count();
            (5..10).contains(&others)
        })
        .collect();
    assert!(!danger.is_empty(), "U2R has rows in danger in this file");
    assert_eq!(out.report.counts_after[4], 13_449);
    assert_on_segments(x.view(), &out, &synthetic_of(&out, n, 4, 1), &danger, &rows, 5, 1.0);
}

#[test]
fn random_under_sampling_on_nsl_kdd_keeps_the_minority_count() {
    let (x, y) = data();
    let out = balance(x.view(), y, 5, &BalanceParams::default().with_method(Method::RandomUnder))
        .unwrap();
    assert_originals_first(x.view(), y, &out);
    assert_eq!(out.report.counts_after, [11; 5]);
    assert_eq!(out.report.removed, 25_192 - 55);
}
