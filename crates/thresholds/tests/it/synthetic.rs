//! A synthetic 5-class problem with exactly calibrated probabilities: rows are drawn from
//! a Gaussian mixture and scored with the true posterior, so the only thing thresholds can
//! fix is the decision, not the model.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_core::metrics::{ConfusionMatrix, argmax_rows};
use vigil_thresholds::{ClassStatus, Objective, Search, ThresholdParams, Thresholds, fit};

/// Normal 80 %, then four attacks; classes 3 and 4 overlap each other and normal.
const PRIORS: [f64; 5] = [0.80, 0.10, 0.05, 0.03, 0.02];
const MEANS: [[f64; 2]; 5] = [[0.0, 0.0], [2.2, 0.0], [0.0, 2.2], [1.6, 1.6], [2.2, 1.8]];
const SD: f64 = 0.8;

pub(crate) fn sample(n: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut probs = Array2::zeros((n, PRIORS.len()));
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let mut u: f64 = rng.random();
        let label = PRIORS.iter().position(|&p| {
            u -= p;
            u < 0.0
        });
        let label = label.unwrap_or(PRIORS.len() - 1);
        let x = [0, 1].map(|d| MEANS[label][d] + SD * gaussian(&mut rng));
        let log: Vec<f64> = (0..PRIORS.len())
            .map(|k| {
                let dist2: f64 = (0..2).map(|d| (x[d] - MEANS[k][d]).powi(2)).sum();
                PRIORS[k].ln() - dist2 / (2.0 * SD * SD)
            })
            .collect();
        let max = log.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = log.iter().map(|l| (l - max).exp()).sum();
        for k in 0..PRIORS.len() {
            probs[[i, k]] = ((log[k] - max).exp() / total) as f32;
        }
        labels.push(label);
    }
    (probs, labels)
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn one_vs_rest_score(status: ClassStatus) -> f64 {
    match status {
        ClassStatus::Fitted { score, .. } => score,
        other => panic!("class not fitted: {other:?}"),
    }
}

fn macro_f1(labels: &[usize], predicted: &[usize]) -> f64 {
    ConfusionMatrix::new(PRIORS.len(), labels, predicted).unwrap().macro_f1()
}

/// Held-out macro-F1 (all classes, as eval reports it) of argmax, one-vs-rest F1
/// thresholds and refined thresholds, each fitted on 25,000 rows and tested on 25,000
/// others, averaged over four draws.
///
/// Measured (means over seeds 100..104 / 200..204): argmax 0.6156, one-vs-rest 0.6251,
/// refined 0.6283. Over eight draws the refinement gained 0.0045 on average and lost
/// 0.0026 on one; see the crate docs.
#[test]
fn refinement_improves_held_out_macro_f1() {
    let draws = 4;
    let mut mean = [0.0; 3];
    for seed in 0..draws {
        let (val_probs, val_labels) = sample(25_000, 100 + seed);
        let (test_probs, test_labels) = sample(25_000, 200 + seed);
        let params = |refine| ThresholdParams { refine, ..ThresholdParams::default() };
        let one_vs_rest = fit(val_probs.view(), &val_labels, &params(false)).unwrap();
        let refined = fit(val_probs.view(), &val_labels, &params(true)).unwrap();
        assert!(refined.refinement_rounds >= 1);
        assert!(refined.score > refined.one_vs_rest_score);
        assert_eq!(refined.one_vs_rest_score, one_vs_rest.score);

        let scores = [
            macro_f1(&test_labels, &argmax_rows(test_probs.view())),
            macro_f1(&test_labels, &one_vs_rest.thresholds.predict(test_probs.view())),
            macro_f1(&test_labels, &refined.thresholds.predict(test_probs.view())),
        ];
        for (m, s) in mean.iter_mut().zip(scores) {
            *m += s / draws as f64;
        }
    }
    let [argmax, ovr, refined] = mean;
    assert!(ovr > argmax + 0.005, "one-vs-rest {ovr} vs argmax {argmax}");
    assert!(refined > ovr + 0.002, "refined {refined} vs one-vs-rest {ovr}");
}

/// The same rule with all-zero thresholds is argmax, on real-looking probabilities.
#[test]
fn argmax_thresholds_match_argmax_on_synthetic_probabilities() {
    let (probs, _) = sample(5_000, 6);
    assert_eq!(Thresholds::argmax(5).predict(probs.view()), argmax_rows(probs.view()));
}

/// Bayesian search lands within 0.005 F1 of the exact optimum on a smooth problem, for
/// several seeds, with its default budget.
#[test]
fn bayesian_search_reaches_the_exact_optimum() {
    let (probs, labels) = sample(5_000, 3);
    let exact =
        fit(probs.view(), &labels, &ThresholdParams { refine: false, ..Default::default() })
            .unwrap();
    for seed in 0..4 {
        let params = ThresholdParams {
            search: Search::Bayesian { iterations: 40, seed },
            refine: false,
            ..ThresholdParams::default()
        };
        let bayes = fit(probs.view(), &labels, &params).unwrap();
        for class in 1..5 {
            let best = one_vs_rest_score(exact.classes[class].status);
            let found = one_vs_rest_score(bayes.classes[class].status);
            assert!(found <= best + 1e-12, "class {class}: {found} beats the exact {best}");
            assert!(best - found < 0.005, "seed {seed}, class {class}: {found} vs {best}");
        }
    }
}

/// Recall targets carry over from validation to the held-out set (roughly) and the
/// refinement never gives up a met guard.
#[test]
fn a_recall_target_holds_after_refinement() {
    let (probs, labels) = sample(25_000, 4);
    let target = Objective::Precision { min_recall: 0.9 };
    let params = ThresholdParams { class_objectives: vec![(4, target)], ..Default::default() };
    let fitted = fit(probs.view(), &labels, &params).unwrap();
    let predicted = fitted.thresholds.predict(probs.view());
    let cm = ConfusionMatrix::new(5, &labels, &predicted).unwrap();
    assert!(cm.recall(4) >= 0.9, "validation recall {}", cm.recall(4));
    assert!(fitted.score.feasible_classes >= fitted.one_vs_rest_score.feasible_classes);
}

/// 25,000 rows x 10 classes: the exact fit with refinement is fast (a generous bound;
/// it takes about 0.05 s in the dev profile).
#[test]
fn fitting_a_realistic_validation_set_is_fast() {
    let (five, labels) = sample(25_000, 5);
    // Ten classes: the five columns twice, halved, with labels split by row parity.
    let probs = Array2::from_shape_fn((25_000, 10), |(i, k)| five[[i, k % 5]] / 2.0);
    let labels: Vec<usize> = labels.iter().enumerate().map(|(i, &l)| l + 5 * (i % 2)).collect();
    let start = std::time::Instant::now();
    let fitted = fit(probs.view(), &labels, &ThresholdParams::default()).unwrap();
    assert_eq!(fitted.classes.len(), 10);
    assert!(start.elapsed().as_secs_f64() < 20.0, "took {:?}", start.elapsed());
}
