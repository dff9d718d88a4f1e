//! Properties of the decision rule and the searches on random inputs.

use ndarray::Array2;
use proptest::prelude::*;
use vigil_core::metrics::argmax_rows;
use vigil_thresholds::{ClassStatus, Objective, Search, ThresholdParams, Thresholds, fit};

fn probability_rows(max_rows: usize) -> impl Strategy<Value = (Array2<f32>, Vec<usize>)> {
    (2_usize..5, 1..max_rows).prop_flat_map(|(k, n)| {
        // Scores on a coarse grid so ties and repeated values are common.
        (proptest::collection::vec(0_u8..=20, n * k), proptest::collection::vec(0..k, n)).prop_map(
            move |(cells, labels)| {
                let probs =
                    Array2::from_shape_fn((n, k), |(i, j)| f32::from(cells[i * k + j]) / 20.0);
                (probs, labels)
            },
        )
    })
}

fn thresholds_for(k: usize) -> impl Strategy<Value = Thresholds> {
    (proptest::collection::vec(0_u8..=20, k), 0..k).prop_map(|(t, normal)| {
        Thresholds::new(t.into_iter().map(|v| f32::from(v) / 20.0).collect(), normal).unwrap()
    })
}

proptest! {
    #[test]
    fn decide_follows_the_documented_rule(
        (probs, t) in probability_rows(8).prop_flat_map(|(p, _)| {
            let k = p.ncols();
            (Just(p), thresholds_for(k))
        })
    ) {
        for row in probs.rows() {
            let row = row.to_vec();
            let d = t.decide(&row);
            let margins: Vec<f32> = row.iter().zip(t.per_class()).map(|(p, t)| p - t).collect();
            prop_assert_eq!(d.passed.iter().any(|&p| p), !d.is_fallback());
            if d.is_fallback() {
                prop_assert_eq!(d.class, t.normal_class());
                prop_assert!(d.margin < 0.0);
            } else {
                prop_assert!(d.passed[d.class] && d.margin >= 0.0);
                for k in (0..row.len()).filter(|&k| d.passed[k]) {
                    let beaten = margins[k] < d.margin;
                    prop_assert!(beaten || (margins[k] == d.margin && k >= d.class));
                }
            }
            let single = Array2::from_shape_vec((1, row.len()), row).unwrap();
            prop_assert_eq!(t.predict(single.view())[0], d.class);
        }
    }

    #[test]
    fn argmax_thresholds_are_argmax((probs, _) in probability_rows(30)) {
        let decided = Thresholds::argmax(probs.ncols()).predict(probs.view());
        prop_assert_eq!(decided, argmax_rows(probs.view()));
    }

    #[test]
    fn exact_search_is_never_beaten_and_refinement_never_hurts(
        (probs, labels) in probability_rows(40),
        objective in prop_oneof![
            Just(Objective::F1),
            Just(Objective::Mcc),
            Just(Objective::Recall { min_precision: 0.5 }),
            Just(Objective::Precision { min_recall: 0.7 }),
            Just(Objective::Cost { false_positive: 1.0, false_negative: 4.0 }),
        ],
    ) {
        let fit_with = |search, refine| {
            let params = ThresholdParams { objective, search, refine, ..Default::default() };
            fit(probs.view(), &labels, &params).unwrap()
        };
        let exact = fit_with(Search::Exact, false);
        let grid = fit_with(Search::Grid { step: 0.01 }, false);
        let bayesian = fit_with(Search::Bayesian { iterations: 6, seed: 1 }, false);
        for other in [grid, bayesian] {
            for (e, o) in exact.classes.iter().zip(&other.classes) {
                if let (
                    ClassStatus::Fitted { score: best, .. },
                    ClassStatus::Fitted { score: found, .. },
                ) = (e.status, o.status)
                {
                    prop_assert!(found <= best + 1e-12, "{} beats exact {}", found, best);
                }
            }
        }
        let refined = fit_with(Search::Exact, true);
        prop_assert!(refined.score >= refined.one_vs_rest_score);
        prop_assert!(refined.score.feasible_classes >= refined.one_vs_rest_score.feasible_classes);
        for &t in refined.thresholds.per_class() {
            prop_assert!((0.0..=1.0).contains(&t));
        }
        prop_assert_eq!(refined.thresholds.per_class()[0], 1.0);
    }
}
