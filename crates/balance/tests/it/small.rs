//! Hand-made data sets, small enough to work out the expected result by hand.

use ndarray::{Array2, array};
use vigil_balance::{
    BalanceError, BalanceParams, Balanced, Method, MethodChoice, Strategy, balance, balance_dataset,
};
use vigil_core::{ClassSet, Dataset};

use crate::support::{assert_on_segments, assert_originals_first, rows_of};

fn run(x: &Array2<f32>, y: &[usize], n_classes: usize, params: &BalanceParams) -> Balanced {
    let out = balance(x.view(), y, n_classes, params).unwrap();
    assert_originals_first(x.view(), y, &out);
    out
}

fn fixed(method: Method) -> BalanceParams {
    BalanceParams::default().with_method(method)
}

/// Class 0: 12 rows on a line at x = 0..11. Class 1: two rows inside class 0 (2.4 and 2.6,
/// "in danger" with m = 3), one noise row (7.5, all 3 neighbours of class 0), and a safe
/// cluster far away (30, 30.5, 31).
fn borderline_data() -> (Array2<f32>, Vec<usize>) {
    let mut x: Vec<[f32; 2]> = (0..12).map(|i| [i as f32, 0.0]).collect();
    let mut y = vec![0; 12];
    for v in [2.4, 2.6, 7.5, 30.0, 30.5, 31.0] {
        x.push([v, 0.0]);
        y.push(1);
    }
    (Array2::from(x), y)
}

/// Three classes of 10, 3 and 1 rows in two dimensions.
fn three_classes() -> (Array2<f32>, Vec<usize>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..10 {
        x.push([i as f32, (i % 3) as f32]);
        y.push(0);
    }
    for p in [[20.0, 1.0], [21.0, 2.0], [22.5, 0.5]] {
        x.push(p);
        y.push(1);
    }
    x.push([-5.0, -5.0]);
    y.push(2);
    (Array2::from(x), y)
}

#[test]
fn over_samplers_reach_the_majority_count_exactly() {
    let (x, y) = three_classes();
    for method in [Method::RandomOver, Method::Smote, Method::Adasyn] {
        let out = run(&x, &y, 3, &fixed(method));
        assert_eq!(out.report.counts_after, [10, 10, 10], "{method}");
        assert_eq!(out.report.synthetic, 16, "{method}");
        assert_eq!(out.report.removed, 0, "{method}");
        assert_eq!(out.original_rows, (0..14).collect::<Vec<_>>());
    }
}

#[test]
fn explicit_counts_and_distributions_are_met() {
    let (x, y) = three_classes();
    let params =
        BalanceParams { strategy: Strategy::Counts(vec![10, 7, 4]), ..fixed(Method::Smote) };
    assert_eq!(run(&x, &y, 3, &params).report.counts_after, [10, 7, 4]);
    // 30% for class 0 -> total ceil(10 / 0.3) = 34; classes 1 and 2 get 35% each.
    let params = BalanceParams { strategy: Strategy::seed_default(3), ..fixed(Method::Smote) };
    let out = run(&x, &y, 3, &params);
    assert_eq!(out.report.targets, [10, 12, 12]);
    assert_eq!(out.report.counts_after, [10, 12, 12]);
    // An over-sampler cannot reach a target below the current count.
    let params =
        BalanceParams { strategy: Strategy::Counts(vec![9, 7, 4]), ..fixed(Method::Smote) };
    let err = balance(x.view(), &y, 3, &params).unwrap_err();
    assert_eq!(err.to_string(), "class 0 has 10 rows but its target is 9: smote only adds rows");
}

#[test]
fn under_sampling_brings_every_class_to_the_minority_count() {
    let x = Array2::from_shape_fn((9, 2), |(r, c)| (r * 2 + c) as f32);
    let y = [0, 1, 0, 2, 0, 1, 0, 2, 0];
    let out = run(&x, &y, 3, &fixed(Method::RandomUnder));
    assert_eq!(out.report.counts_after, [2, 2, 2]);
    assert_eq!(out.report.removed, 3);
    assert_eq!(out.report.synthetic, 0);
    // Every output row is an input row, in input order (checked by run()), and the
    // classes that were already at the minority count are kept whole.
    assert_eq!(out.original_rows.len(), 6);
    for r in [1, 3, 5, 7] {
        assert!(out.original_rows.contains(&r), "row {r} of a minority class was dropped");
    }
}

#[test]
fn single_class_input_is_an_error_that_says_so() {
    let x = array![[1.0_f32], [2.0], [3.0]];
    let err = balance(x.view(), &[1, 1, 1], 3, &BalanceParams::default()).unwrap_err();
    assert_eq!(err, BalanceError::SingleClass { class: 1 });
    let text = err.to_string();
    assert!(text.contains("only one class") && text.contains("class 1"), "{text}");
}

#[test]
fn bad_input_is_rejected_with_its_location() {
    let params = BalanceParams::default();
    let mut x = array![[1.0_f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
    let check = |x: &Array2<f32>, y: &[usize], n_classes: usize, expected: &str| {
        let err = balance(x.view(), y, n_classes, &params).unwrap_err();
        assert_eq!(err.to_string(), expected);
    };
    check(&x, &[0, 1, 3], 2, "label 3 at row 2 is out of range for 2 classes");
    check(&x, &[0, 1], 2, "feature matrix has 3 rows but 2 labels were given");
    check(&Array2::zeros((0, 2)), &[], 2, "no rows to balance");
    x[[2, 1]] = f32::NAN;
    check(&x, &[0, 1, 1], 2, "non-finite feature value NaN at row 2, column 1");
    x[[2, 1]] = 6.0;
    x[[1, 0]] = f32::NEG_INFINITY;
    check(&x, &[0, 1, 1], 2, "non-finite feature value -inf at row 1, column 0");
    x[[1, 0]] = 3.0;
    let short = BalanceParams { strategy: Strategy::Counts(vec![3]), ..params.clone() };
    let err = balance(x.view(), &[0, 1, 1], 2, &short).unwrap_err();
    assert_eq!(err.to_string(), "sampling strategy gives 1 classes but the data have 2");
    let empty = BalanceParams { strategy: Strategy::Counts(vec![1, 2, 2]), ..params.clone() };
    let err = balance(x.view(), &[0, 1, 1], 3, &empty).unwrap_err();
    assert_eq!(err.to_string(), "class 2 has no rows, so it cannot be over-sampled to 2");
    let bad_k = BalanceParams { k_neighbors: 0, ..params };
    let err = balance(x.view(), &[0, 1, 1], 2, &bad_k).unwrap_err();
    assert_eq!(err.to_string(), "invalid parameter k_neighbors: must be at least 1");
}

#[test]
fn k_is_clamped_and_a_one_row_class_is_copied_with_the_reasons_recorded() {
    let (x, y) = three_classes();
    let out = run(&x, &y, 3, &fixed(Method::Smote));
    assert_eq!(out.report.k_used, Some(2));
    let reasons: Vec<(usize, &str)> =
        out.report.fallbacks.iter().map(|f| (f.class, f.reason.as_str())).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0], (1, "smote: k_neighbors clamped from 5 to 2: the class has 3 rows"));
    assert_eq!(reasons[1].0, 2);
    assert!(reasons[1].1.contains("1 row") && reasons[1].1.contains("copies"), "{reasons:?}");
    // The one-row class's new rows are copies of it; class 1 interpolates with k = 2.
    for (row, &label) in out.y.iter().enumerate().skip(14) {
        if label == 2 {
            assert_eq!(out.x.row(row), x.row(13));
        }
    }
    let synthetic: Vec<usize> = (14..out.y.len()).filter(|&r| out.y[r] == 1).collect();
    assert_on_segments(x.view(), &out, &synthetic, &rows_of(&y, 1), &rows_of(&y, 1), 2, 1.0);
}

#[test]
fn smote_points_lie_on_segments_to_same_class_neighbours() {
    let (x, y) = borderline_data();
    for k in [1, 2, 5] {
        let params = BalanceParams { k_neighbors: k, ..fixed(Method::Smote) };
        let out = run(&x, &y, 2, &params);
        assert_eq!(out.report.counts_after, [12, 12]);
        let class = rows_of(&y, 1);
        let synthetic: Vec<usize> = (18..24).collect();
        assert_on_segments(x.view(), &out, &synthetic, &class, &class, k, 1.0);
    }
}

#[test]
fn borderline_smote_interpolates_from_rows_in_danger_only() {
    let (x, y) = borderline_data();
    let params =
        BalanceParams { k_neighbors: 1, m_neighbors: 3, ..fixed(Method::BorderlineSmote1) };
    let out = run(&x, &y, 2, &params);
    assert_eq!(out.report.counts_after, [12, 12]);
    assert!(out.report.fallbacks.is_empty(), "{:?}", out.report.fallbacks);
    // The rows in danger are 2.4 and 2.6, each the other's nearest neighbour (k = 1).
    for row in 18..24 {
        let v = out.x[[row, 0]];
        assert!((2.4..=2.6).contains(&v), "row {row} at {v}");
    }
    let danger = [12, 13];
    let synthetic: Vec<usize> = (18..24).collect();
    assert_on_segments(x.view(), &out, &synthetic, &danger, &rows_of(&y, 1), 1, 1.0);

    // Kind 2 also steps up to half-way towards the nearest row of class 0 (2 and 3).
    let out = run(
        &x,
        &y,
        2,
        &BalanceParams { method: MethodChoice::Fixed(Method::BorderlineSmote2), ..params },
    );
    assert_eq!(out.report.counts_after, [12, 12]);
    for row in 18..24 {
        let v = out.x[[row, 0]];
        assert!(v > 2.2 && v < 2.8, "row {row} at {v}");
    }
}

#[test]
fn borderline_smote_without_rows_in_danger_adds_nothing_and_says_why() {
    let (x, y) = borderline_data();
    // Without 2.4 and 2.6, class 1 is one noise row and a safe cluster.
    let keep: Vec<usize> = (0..18).filter(|&r| r != 12 && r != 13).collect();
    let x = x.select(ndarray::Axis(0), &keep);
    let y: Vec<usize> = keep.iter().map(|&r| y[r]).collect();
    let params = BalanceParams { m_neighbors: 3, ..fixed(Method::BorderlineSmote1) };
    let out = run(&x, &y, 2, &params);
    assert_eq!(out.report.counts_after, [12, 4]);
    assert_eq!(out.x, x);
    assert_eq!(out.report.fallbacks.len(), 1);
    assert!(out.report.fallbacks[0].reason.contains("no row is in danger"), "{:?}", out.report);
}

#[test]
fn adasyn_generates_in_proportion_to_hardness() {
    // Class 0 on the x axis at 0..11; class 1 has three hard rows just above it (both
    // nearest neighbours of class 0) and an easy cluster far away.
    let mut rows: Vec<[f32; 2]> = (0..12).map(|i| [i as f32, 0.0]).collect();
    rows.extend([[2.5, 0.3], [3.5, 0.3], [4.5, 0.3], [30.0, 0.0], [30.5, 0.0], [31.0, 0.0]]);
    let x = Array2::from(rows);
    let y: Vec<usize> = (0..18).map(|r| usize::from(r >= 12)).collect();
    let params = BalanceParams { k_neighbors: 2, ..fixed(Method::Adasyn) };
    let out = run(&x, &y, 2, &params);
    assert_eq!(out.report.counts_after, [12, 12]);
    // All 6 new rows come from the hard rows, whose 2 same-class neighbours are each other.
    for row in 18..24 {
        assert_eq!(out.x[[row, 1]], 0.3, "row {row}");
        assert!((2.5..=4.5).contains(&out.x[[row, 0]]), "row {row}");
    }
    let synthetic: Vec<usize> = (18..24).collect();
    assert_on_segments(x.view(), &out, &synthetic, &[12, 13, 14], &rows_of(&y, 1), 2, 1.0);

    // No hard row at all: plain SMOTE, recorded.
    let easy: Vec<usize> = (0..18).filter(|r| !(12..15).contains(r)).collect();
    let x = x.select(ndarray::Axis(0), &easy);
    let y: Vec<usize> = easy.iter().map(|&r| y[r]).collect();
    let out = run(&x, &y, 2, &params);
    assert_eq!(out.report.counts_after, [12, 12]);
    assert!(out.report.fallbacks[0].reason.contains("plain SMOTE"), "{:?}", out.report);
}

#[test]
fn tomek_and_enn_remove_exactly_what_their_definitions_say() {
    // Balanced already, so SMOTE adds nothing and only the cleaning acts.
    let x = array![[0.0_f32], [1.0], [2.0], [2.4], [10.0], [11.0]];
    let y = [0, 0, 0, 1, 1, 1];
    // 2 and 2.4 are each other's nearest neighbour and of different classes.
    let out = run(&x, &y, 2, &fixed(Method::SmoteTomek));
    assert_eq!(out.original_rows, [0, 1, 4, 5]);
    assert_eq!((out.report.removed, out.report.synthetic), (2, 0));
    assert_eq!(out.report.counts_after, [2, 2]);
    // ENN (3 neighbours, all must agree): 2.4 is among the 3 nearest neighbours of every
    // other row, and its own are all of class 0, so every row goes.
    let out = run(&x, &y, 2, &fixed(Method::SmoteEnn));
    assert_eq!(out.original_rows, Vec::<usize>::new());
    assert_eq!(out.report.removed, 6);
    let x = array![[0.0_f32], [0.5], [1.0], [1.5], [10.0], [10.5], [11.0], [11.5]];
    let y = [0, 0, 0, 0, 1, 1, 1, 1];
    let out = run(&x, &y, 2, &fixed(Method::SmoteEnn));
    assert_eq!(out.report.removed, 0);
}

#[test]
fn same_seed_same_output_different_seed_different_output() {
    let (x, y) = borderline_data();
    for method in [
        Method::RandomOver,
        Method::Smote,
        Method::BorderlineSmote2,
        Method::Adasyn,
        Method::RandomUnder,
    ] {
        let params = BalanceParams { m_neighbors: 3, seed: 7, ..fixed(method) };
        let a = balance(x.view(), &y, 2, &params).unwrap();
        let b = balance(x.view(), &y, 2, &params).unwrap();
        assert_eq!(a, b, "{method}");
        let c = balance(x.view(), &y, 2, &BalanceParams { seed: 8, ..params }).unwrap();
        assert_ne!(a.x, c.x, "{method}");
    }
}

#[test]
fn auto_reports_its_choice_and_reason() {
    let (x, y) = three_classes();
    let out = run(&x, &y, 3, &BalanceParams::default());
    assert_eq!(out.report.method, Method::RandomOver);
    assert!(out.report.reason.contains("class 2) has 1 rows"), "{}", out.report.reason);
    let (x, y) = borderline_data();
    let out = run(&x, &y, 2, &BalanceParams { k_neighbors: 3, ..BalanceParams::default() });
    assert_eq!(out.report.method, Method::SmoteTomek);
    let json = serde_json::to_value(&out.report).unwrap();
    assert_eq!(json["method"], "smote-tomek");
    assert_eq!(json["counts_before"], serde_json::json!([12, 6]));
}

#[test]
fn balance_dataset_keeps_names_and_classes() {
    let (x, y) = three_classes();
    let classes = ClassSet::new(["normal", "scan", "rare"]).unwrap();
    let data = Dataset::new(x, y, vec!["a".into(), "b".into()], classes.clone()).unwrap();
    let (balanced, report) = balance_dataset(&data, &fixed(Method::RandomOver)).unwrap();
    assert_eq!(balanced.class_counts(), [10, 10, 10]);
    assert_eq!(report.counts_before, [10, 3, 1]);
    assert_eq!(balanced.classes(), &classes);
    assert_eq!(balanced.feature_names(), ["a", "b"]);
}
