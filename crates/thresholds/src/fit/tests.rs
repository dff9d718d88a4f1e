use ndarray::{Array2, array};

use super::*;

/// Two columns, normal and attack, from the attack scores.
fn binary(attack: &[f32]) -> Array2<f32> {
    Array2::from_shape_fn(
        (attack.len(), 2),
        |(i, j)| if j == 1 { attack[i] } else { 1.0 - attack[i] },
    )
}

/// Attack scores, from the top: 0.9 P, 0.8 P, 0.7 N, 0.6 N, 0.5 P, 0.4 N, 0.3 P, 0.2 N, 0.1 N.
fn ladder() -> (Array2<f32>, Vec<usize>) {
    (binary(&[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]), vec![1, 1, 0, 0, 1, 0, 1, 0, 0])
}

fn params(objective: Objective, search: Search) -> ThresholdParams {
    ThresholdParams { objective, search, ..ThresholdParams::default() }
}

/// Fits `objective` on the ladder with every search and checks the attack threshold lies
/// in `(lo, hi]` with score `score`; the exact search must pick the middle.
fn check(objective: Objective, (lo, hi): (f32, f32), score: f64, feasible: bool) {
    let (probs, labels) = ladder();
    for search in
        [Search::Exact, Search::Grid { step: 0.005 }, Search::Bayesian { iterations: 30, seed: 7 }]
    {
        let fitted = fit(probs.view(), &labels, &params(objective, search)).unwrap();
        let class = fitted.classes[1];
        let t = class.threshold;
        assert!(t > lo && t <= hi, "{objective} with {search}: threshold {t} not in ({lo}, {hi}]");
        assert_eq!(
            class.status,
            ClassStatus::Fitted { score: class.decided_score, feasible },
            "{objective} with {search}"
        );
        assert!(
            (class.decided_score - score).abs() < 1e-12,
            "{objective} with {search}: {class:?}"
        );
        if search == Search::Exact {
            assert!((t - lo.midpoint(hi)).abs() < 1e-6, "{objective}: exact threshold {t}");
        }
    }
}

#[test]
fn f1_optimum_matches_hand_computation() {
    // Flagging >= 0.3: tp 4, fp 3, fn 0, F1 8/11; every other cut is lower (0.8: 4/6).
    check(Objective::F1, (0.2, 0.3), 8.0 / 11.0, true);
}

#[test]
fn mcc_optimum_matches_hand_computation() {
    // Flagging >= 0.8: tp 2, fp 0, fn 2, tn 5, MCC 10/sqrt(280) = 0.598, ahead of >= 0.3
    // (8/sqrt(280)), where F1 peaks.
    check(Objective::Mcc, (0.7, 0.8), 10.0 / 280.0_f64.sqrt(), true);
}

#[test]
fn expensive_false_negatives_push_the_threshold_down() {
    // Equal costs: >= 0.8 makes 2 errors (two misses), the fewest.
    check(
        Objective::Cost { false_positive: 1.0, false_negative: 1.0 },
        (0.7, 0.8),
        -2.0 / 9.0,
        true,
    );
    // Misses cost 10: >= 0.3 misses nothing and pays 3 false positives.
    check(
        Objective::Cost { false_positive: 1.0, false_negative: 10.0 },
        (0.2, 0.3),
        -3.0 / 9.0,
        true,
    );
}

#[test]
fn guarded_precision_and_recall_match_hand_computation() {
    // Precision >= 0.6 allows recall 3/4 at >= 0.5 (precision 3/5); >= 0.3 has 4/7 < 0.6.
    check(Objective::Recall { min_precision: 0.6 }, (0.4, 0.5), 0.75, true);
    // Recall >= 0.5 allows precision 1 at >= 0.8.
    check(Objective::Precision { min_recall: 0.5 }, (0.7, 0.8), 1.0, true);
    // Recall >= 0.9 needs every positive: >= 0.3, precision 4/7.
    check(Objective::Precision { min_recall: 0.9 }, (0.2, 0.3), 4.0 / 7.0, true);
}

#[test]
fn an_unreachable_guard_gives_the_nearest_miss_and_says_so() {
    // A negative on top: no threshold reaches precision 0.99; the best is 2/3 at >= 0.7.
    let probs = binary(&[0.9, 0.8, 0.7, 0.1]);
    let labels = [0, 1, 1, 0];
    let fitted = fit(
        probs.view(),
        &labels,
        &params(Objective::Recall { min_precision: 0.99 }, Search::Exact),
    )
    .unwrap();
    let class = fitted.classes[1];
    assert!((class.threshold - 0.4).abs() < 1e-6, "{class:?}");
    let ClassStatus::Fitted { score, feasible } = class.status else { panic!("{class:?}") };
    assert!(!feasible && (score - (2.0 / 3.0 - 0.99)).abs() < 1e-12, "{class:?}");
    assert_eq!(fitted.score.feasible_classes, 0);
}

#[test]
fn separable_scores_put_the_threshold_in_the_gap() {
    let probs = binary(&[0.1, 0.2, 0.3, 0.6, 0.7, 0.8]);
    let labels = [0, 0, 0, 1, 1, 1];
    for objective in [Objective::F1, Objective::Mcc, Objective::Recall { min_precision: 1.0 }] {
        for search in [
            Search::Exact,
            Search::Grid { step: 0.005 },
            Search::Bayesian { iterations: 10, seed: 1 },
        ] {
            let fitted = fit(probs.view(), &labels, &params(objective, search)).unwrap();
            let t = fitted.thresholds.per_class()[1];
            assert!(t > 0.3 && t <= 0.6, "{objective} with {search}: {t}");
            assert!((fitted.classes[1].decided_score - 1.0).abs() < 1e-12);
            assert!((fitted.score.mean - 1.0).abs() < 1e-12);
            assert_eq!(fitted.thresholds.predict(probs.view()), labels);
        }
    }
    // The exact search and the grid take the middle of the gap.
    let exact = fit(probs.view(), &labels, &ThresholdParams::default()).unwrap();
    assert!((exact.thresholds.per_class()[1] - 0.45).abs() < 1e-6);
    let grid =
        fit(probs.view(), &labels, &params(Objective::F1, Search::Grid { step: 0.005 })).unwrap();
    assert!((grid.thresholds.per_class()[1] - 0.45).abs() < 0.005);
}

#[test]
fn the_normal_class_is_the_fallback_with_threshold_one() {
    let (probs, labels) = ladder();
    let fitted = fit(probs.view(), &labels, &ThresholdParams::default()).unwrap();
    assert_eq!(fitted.thresholds.normal_class(), 0);
    assert_eq!(fitted.thresholds.per_class()[0], 1.0);
    assert_eq!(fitted.classes[0].status, ClassStatus::Normal);
    // Normal may be any class.
    let probs = array![[0.2_f32, 0.8], [0.9, 0.1], [0.7, 0.3]];
    let p = ThresholdParams { normal_class: 1, ..ThresholdParams::default() };
    let fitted = fit(probs.view(), &[1, 0, 0], &p).unwrap();
    assert_eq!(fitted.thresholds.per_class()[1], 1.0);
    assert_eq!(fitted.thresholds.predict(probs.view()), [1, 0, 0]);
}

#[test]
fn an_absent_class_gets_the_default_threshold() {
    let probs = array![[0.8_f32, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]];
    let fitted = fit(probs.view(), &[0, 1, 0], &ThresholdParams::default()).unwrap();
    assert_eq!(fitted.classes[2].status, ClassStatus::Absent);
    assert_eq!(fitted.classes[2].support, 0);
    assert_eq!(fitted.thresholds.per_class()[2], ABSENT_CLASS_THRESHOLD);
    assert_eq!(fitted.thresholds.predict(probs.view()), [0, 1, 0]);
}

#[test]
fn identical_scores_do_not_break_the_search() {
    let probs = Array2::from_elem((6, 3), 1.0_f32 / 3.0);
    let labels = [0, 1, 2, 0, 1, 0];
    for search in
        [Search::Exact, Search::Grid { step: 0.01 }, Search::Bayesian { iterations: 8, seed: 3 }]
    {
        for objective in [Objective::F1, Objective::Mcc, Objective::Precision { min_recall: 0.5 }] {
            let fitted = fit(probs.view(), &labels, &params(objective, search)).unwrap();
            // Flagging everything beats flagging nothing for F1 and precision; for MCC both are
            // 0 and the widest plateau (flag nothing) wins. Either way thresholds are valid.
            for &t in fitted.thresholds.per_class() {
                assert!((0.0..=1.0).contains(&t));
            }
        }
    }
    let fitted = fit(probs.view(), &labels, &ThresholdParams::default()).unwrap();
    assert!(fitted.thresholds.per_class()[1] <= 1.0 / 3.0);
}

#[test]
fn scores_of_exactly_one_and_zero_are_handled() {
    let probs = binary(&[1.0, 1.0, 0.0, 0.0]);
    let fitted = fit(probs.view(), &[1, 1, 0, 0], &ThresholdParams::default()).unwrap();
    assert_eq!(fitted.thresholds.predict(probs.view()), [1, 1, 0, 0]);
    // Flagging nothing would be best under a false-positive-only cost, but no threshold in
    // [0, 1] skips a score of 1: the best reachable cut flags only the 1s, threshold (0, 1].
    let p = params(Objective::Cost { false_positive: 1.0, false_negative: 0.0 }, Search::Exact);
    let fitted = fit(probs.view(), &[0, 1, 0, 0], &p).unwrap();
    assert_eq!(fitted.thresholds.per_class()[1], 0.5);
    assert_eq!(fitted.thresholds.predict(probs.view()), [1, 1, 0, 0]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let p = ThresholdParams::default();
    let probs = array![[0.5_f32, 0.5], [f32::NAN, 0.5]];
    assert!(matches!(
        fit(probs.view(), &[0, 1], &p),
        Err(ThresholdError::InvalidProbability { row: 1, column: 0, value }) if value.is_nan()
    ));
    let probs = array![[0.5_f32, 1.5]];
    assert_eq!(
        fit(probs.view(), &[0], &p),
        Err(ThresholdError::InvalidProbability { row: 0, column: 1, value: 1.5 })
    );
    assert_eq!(fit(Array2::<f32>::zeros((0, 2)).view(), &[], &p), Err(ThresholdError::Empty));
    assert_eq!(
        fit(Array2::<f32>::zeros((2, 0)).view(), &[0, 0], &p),
        Err(ThresholdError::NoClasses)
    );
    let probs = array![[0.5_f32, 0.5], [0.5, 0.5]];
    assert_eq!(
        fit(probs.view(), &[0], &p),
        Err(ThresholdError::ShapeMismatch {
            what: "labels vs probability rows",
            expected: 2,
            found: 1
        })
    );
    assert_eq!(
        fit(probs.view(), &[0, 2], &p),
        Err(ThresholdError::LabelOutOfRange { row: 1, label: 2, n_classes: 2 })
    );
}

#[test]
fn bad_params_are_rejected() {
    let probs = array![[0.5_f32, 0.3, 0.2]];
    let bad = [
        ThresholdParams { normal_class: 3, ..ThresholdParams::default() },
        ThresholdParams { search: Search::Grid { step: 0.0 }, ..ThresholdParams::default() },
        ThresholdParams { search: Search::Grid { step: f64::NAN }, ..ThresholdParams::default() },
        ThresholdParams {
            search: Search::Bayesian { iterations: 1, seed: 0 },
            ..ThresholdParams::default()
        },
        ThresholdParams {
            objective: Objective::Recall { min_precision: 0.0 },
            ..ThresholdParams::default()
        },
        ThresholdParams {
            objective: Objective::Cost { false_positive: f64::INFINITY, false_negative: 1.0 },
            ..ThresholdParams::default()
        },
        ThresholdParams {
            class_objectives: vec![(0, Objective::Mcc)],
            ..ThresholdParams::default()
        },
        ThresholdParams {
            class_objectives: vec![(3, Objective::Mcc)],
            ..ThresholdParams::default()
        },
        ThresholdParams {
            class_objectives: vec![(1, Objective::Mcc), (1, Objective::F1)],
            ..ThresholdParams::default()
        },
    ];
    for params in bad {
        assert!(fit(probs.view(), &[0], &params).is_err(), "{params:?} accepted");
    }
}

#[test]
fn class_objectives_override_the_default() {
    // Class 1 on F1 (>= 0.3, see the ladder); class 2, the same scores, on equal costs
    // (>= 0.8). Each class's other rows score 0 on it, which neither objective notices.
    let (ladder_probs, ladder_labels) = ladder();
    let n = ladder_labels.len();
    let mut probs = Array2::zeros((2 * n, 3));
    let mut labels = Vec::new();
    for (i, &label) in ladder_labels.iter().enumerate() {
        let p = ladder_probs[[i, 1]];
        probs[[i, 1]] = p;
        probs[[i, 0]] = 1.0 - p;
        probs[[n + i, 2]] = p;
        probs[[n + i, 0]] = 1.0 - p;
        labels.push(label);
    }
    labels.extend(ladder_labels.iter().map(|&l| l * 2));
    let p = ThresholdParams {
        class_objectives: vec![(2, Objective::Cost { false_positive: 1.0, false_negative: 1.0 })],
        refine: false,
        ..ThresholdParams::default()
    };
    let fitted = fit(probs.view(), &labels, &p).unwrap();
    assert!(matches!(fitted.classes[2].objective, Objective::Cost { .. }));
    assert!((fitted.thresholds.per_class()[1] - 0.25).abs() < 1e-6);
    assert!((fitted.thresholds.per_class()[2] - 0.75).abs() < 1e-6);
}

#[test]
fn bayesian_search_is_deterministic_for_a_seed() {
    let (probs, labels) = ladder();
    let p = params(Objective::F1, Search::Bayesian { iterations: 12, seed: 42 });
    assert_eq!(fit(probs.view(), &labels, &p), fit(probs.view(), &labels, &p));
}

#[test]
fn search_text_form_round_trips() {
    for search in
        [Search::Exact, Search::Grid { step: 0.01 }, Search::Bayesian { iterations: 25, seed: 9 }]
    {
        assert_eq!(search.to_string().parse::<Search>().unwrap(), search);
    }
    assert_eq!("grid".parse::<Search>().unwrap(), Search::Grid { step: DEFAULT_GRID_STEP });
    assert_eq!(
        "Bayesian".parse::<Search>().unwrap(),
        Search::Bayesian { iterations: DEFAULT_BAYESIAN_ITERATIONS, seed: 0 }
    );
    for bad in
        ["", "tpe", "grid:0", "grid:x", "bayesian:1", "bayesian:40:-1", "exact:1", "grid:0.1:2"]
    {
        assert!(bad.parse::<Search>().is_err(), "{bad:?} parsed");
    }
}

#[test]
fn a_single_class_is_always_normal() {
    let probs = array![[1.0_f32], [1.0]];
    let fitted = fit(probs.view(), &[0, 0], &ThresholdParams::default()).unwrap();
    assert_eq!(fitted.thresholds.per_class(), &[1.0]);
    assert_eq!(fitted.score.scored_classes, 0);
    assert_eq!(fitted.thresholds.predict(probs.view()), [0, 0]);
}
