//! Multi-class refinement: coordinate ascent of the attack thresholds on the objective of
//! the labels the decision rule produces.
//!
//! One-vs-rest fits ignore that the rule resolves conflicts between classes that both pass.
//! Holding every other threshold fixed, row `i` is decided as class `k` exactly when
//! `t_k <= c_i`, with `c_i = p_ik - max(0, best margin of the other passing classes)`;
//! otherwise it keeps the decision it gets without `k`. So sorting the rows by `c_i` and
//! sweeping `t_k` down through them updates the confusion counts one row at a time, and the
//! best `t_k` over all of [0, 1] costs O(n log n + n K) per class instead of one full
//! decision pass per candidate. Each proposal is confirmed with the rule itself before it
//! is kept, so float rounding in `c_i` can never make a round worse.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use vigil_core::metrics::ConfusionMatrix;

use crate::Thresholds;
use crate::curve::{Interval, best_plateau};
use crate::objective::{Counts, Objective, Score};

/// The multi-class objective of decided labels: the mean over attack classes (every class
/// but the normal one) that occur in the labels or the decisions of each class's objective
/// on its class-vs-rest counts, and how many of those classes meet their guard.
///
/// The normal class is left out because its errors are the attack classes' errors seen from
/// the other side (a missed attack is also a false "normal"); counting both would, for
/// instance, make a cost objective charge a missed attack and a false alarm the same.
/// Comparisons are lexicographic: more classes meeting their guard first, then the mean.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct DecidedScore {
    /// Attack classes meeting their objective's guard (all of them for unguarded objectives).
    pub feasible_classes: usize,
    /// Mean objective over the attack classes scored (0 when there are none).
    pub mean: f64,
    /// Attack classes scored: those present in the labels or the decisions.
    pub scored_classes: usize,
}

impl DecidedScore {
    fn improves_on(self, other: Self) -> bool {
        self.feasible_classes > other.feasible_classes
            || (self.feasible_classes == other.feasible_classes && self.mean > other.mean + 1e-12)
    }
}

/// Running confusion totals, enough to score every class one-vs-rest.
struct Tally {
    /// Rows of class `j` decided `j`.
    hits: Vec<u64>,
    /// Rows decided `j`.
    decided: Vec<u64>,
    /// Rows of class `j`.
    support: Vec<u64>,
    n: u64,
}

impl Tally {
    fn counts(&self, j: usize) -> Counts {
        let tp = self.hits[j];
        let fp = self.decided[j] - tp;
        let fn_ = self.support[j] - tp;
        Counts { tp, fp, fn_, tn: self.n - tp - fp - fn_ }
    }

    fn score(&self, objectives: &[Objective], normal: usize) -> DecidedScore {
        let mut score = DecidedScore { feasible_classes: 0, mean: 0.0, scored_classes: 0 };
        for (j, objective) in objectives.iter().enumerate() {
            if j == normal || (self.support[j] == 0 && self.decided[j] == 0) {
                continue;
            }
            let s = objective.score(self.counts(j));
            score.feasible_classes += usize::from(s.feasible);
            score.mean += s.value;
            score.scored_classes += 1;
        }
        if score.scored_classes > 0 {
            score.mean /= score.scored_classes as f64;
        }
        score
    }
}

/// Each class's objective on the decided labels, and the multi-class score.
pub(crate) fn evaluate(
    probs: ArrayView2<'_, f32>,
    labels: &[usize],
    thresholds: &Thresholds,
    objectives: &[Objective],
    normal: usize,
) -> (Vec<Score>, DecidedScore) {
    let k = objectives.len();
    let decided = thresholds.predict(probs);
    let cm = ConfusionMatrix::new(k, labels, &decided).expect("labels and decisions checked");
    let tally = Tally {
        hits: (0..k).map(|j| cm.count(j, j)).collect(),
        decided: (0..k).map(|j| cm.rows().iter().map(|r| r[j]).sum()).collect(),
        support: (0..k).map(|j| cm.support(j)).collect(),
        n: cm.total(),
    };
    let per_class = (0..k).map(|j| objectives[j].score(tally.counts(j))).collect();
    (per_class, tally.score(objectives, normal))
}

/// The best threshold for `class` with the others fixed, and the score it would give;
/// `None` when no threshold in [0, 1] lets the class win any row.
fn best_for_class(
    probs: ArrayView2<'_, f32>,
    labels: &[usize],
    thresholds: &Thresholds,
    class: usize,
    objectives: &[Objective],
) -> Option<(f32, DecidedScore)> {
    let k = objectives.len();
    let t = thresholds.per_class();
    let normal = thresholds.normal_class();
    let mut tally = Tally {
        hits: vec![0; k],
        decided: vec![0; k],
        support: vec![0; k],
        n: labels.len() as u64,
    };
    let mut base = Vec::with_capacity(labels.len());
    let mut critical: Vec<(f32, usize)> = Vec::new();
    for (i, (row, &label)) in probs.rows().into_iter().zip(labels).enumerate() {
        let mut best: Option<(usize, f32)> = None;
        for (j, (&p, &tj)) in row.iter().zip(t).enumerate() {
            if j != class && p >= tj && best.is_none_or(|(_, m)| p - tj > m) {
                best = Some((j, p - tj));
            }
        }
        let (other, margin) = best.unwrap_or((normal, 0.0));
        base.push(other);
        tally.support[label] += 1;
        tally.decided[other] += 1;
        tally.hits[other] += u64::from(label == other);
        let c = row[class] - margin;
        if c >= 0.0 {
            critical.push((c, i));
        }
    }
    if critical.is_empty() {
        return None;
    }
    critical.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));

    // Candidates from the highest threshold down; reversed into increasing order below.
    let mut candidates: Vec<(Interval, DecidedScore)> = Vec::new();
    if critical[0].0 < 1.0 {
        let none = Interval { lo: critical[0].0, hi: 1.0, closed_below: false };
        candidates.push((none, tally.score(objectives, normal)));
    }
    let mut i = 0;
    while i < critical.len() {
        let value = critical[i].0;
        while i < critical.len() && critical[i].0 == value {
            let row = critical[i].1;
            let (label, other) = (labels[row], base[row]);
            tally.decided[other] -= 1;
            tally.hits[other] -= u64::from(label == other);
            tally.decided[class] += 1;
            tally.hits[class] += u64::from(label == class);
            i += 1;
        }
        let (lo, closed_below) = critical.get(i).map_or((0.0, true), |next| (next.0, false));
        candidates
            .push((Interval { lo, hi: value, closed_below }, tally.score(objectives, normal)));
    }
    candidates.reverse();
    let (interval, score) = best_plateau(&candidates);
    Some((interval.midpoint(), score))
}

/// Coordinate ascent over the `tunable` classes until a round changes nothing (at most
/// `max_rounds`); returns the number of rounds that changed a threshold.
pub(crate) fn refine(
    probs: ArrayView2<'_, f32>,
    labels: &[usize],
    thresholds: &mut Thresholds,
    objectives: &[Objective],
    tunable: &[bool],
    max_rounds: usize,
) -> usize {
    let normal = thresholds.normal_class();
    let (_, mut current) = evaluate(probs, labels, thresholds, objectives, normal);
    let mut changed_rounds = 0;
    for _ in 0..max_rounds {
        let mut changed = false;
        for class in (0..objectives.len()).filter(|&c| tunable[c]) {
            let Some((proposal, predicted)) =
                best_for_class(probs, labels, thresholds, class, objectives)
            else {
                continue;
            };
            let old = thresholds.per_class()[class];
            if proposal == old || !predicted.improves_on(current) {
                continue;
            }
            thresholds.set(class, proposal);
            let (_, actual) = evaluate(probs, labels, thresholds, objectives, normal);
            if actual.improves_on(current) {
                current = actual;
                changed = true;
            } else {
                thresholds.set(class, old);
            }
        }
        if !changed {
            break;
        }
        changed_rounds += 1;
    }
    changed_rounds
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;

    #[test]
    fn the_sweep_predicts_what_the_rule_then_decides() {
        // Class 1 and 2 compete; for every proposal the sweep's score must equal a full
        // evaluation with the proposed threshold.
        let probs = array![
            [0.7_f32, 0.2, 0.1],
            [0.3, 0.4, 0.3],
            [0.2, 0.5, 0.3],
            [0.1, 0.3, 0.6],
            [0.2, 0.35, 0.45],
            [0.5, 0.1, 0.4],
            [0.4, 0.45, 0.15],
        ];
        let labels = [0, 1, 1, 2, 1, 2, 0];
        let objectives = [Objective::F1; 3];
        for (t1, t2) in [(0.3, 0.3), (0.45, 0.2), (0.1, 0.5), (0.9, 0.9)] {
            let thresholds = Thresholds::new(vec![1.0, t1, t2], 0).unwrap();
            for class in [1, 2] {
                let (proposal, predicted) =
                    best_for_class(probs.view(), &labels, &thresholds, class, &objectives).unwrap();
                let mut moved = thresholds.clone();
                moved.set(class, proposal);
                let (_, actual) = evaluate(probs.view(), &labels, &moved, &objectives, 0);
                assert_eq!(predicted, actual, "class {class} from ({t1}, {t2})");
            }
        }
    }

    #[test]
    fn refinement_resolves_a_conflict_one_vs_rest_cannot_see() {
        // Class 2 rows also score high on class 1; one-vs-rest class 1 would take them.
        let probs: Array2<f32> = array![
            [0.1_f32, 0.6, 0.3],
            [0.1, 0.6, 0.3],
            [0.1, 0.5, 0.4],
            [0.1, 0.5, 0.4],
            [0.8, 0.1, 0.1],
        ];
        let labels = [1, 1, 2, 2, 0];
        let objectives = [Objective::F1; 3];
        let mut thresholds = Thresholds::new(vec![1.0, 0.2, 0.5], 0).unwrap();
        let (_, before) = evaluate(probs.view(), &labels, &thresholds, &objectives, 0);
        let rounds =
            refine(probs.view(), &labels, &mut thresholds, &objectives, &[false, true, true], 10);
        let (_, after) = evaluate(probs.view(), &labels, &thresholds, &objectives, 0);
        assert!(rounds >= 1);
        assert!(before.mean < 1.0 && (after.mean - 1.0).abs() < 1e-12, "{before:?} -> {after:?}");
        assert_eq!(thresholds.predict(probs.view()), labels);
    }
}
