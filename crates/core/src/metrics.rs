//! Classification metrics: confusion matrix, per-class and averaged scores, calibration.
//!
//! Conventions: an undefined ratio (0/0, e.g. precision of a class never predicted) is 0,
//! as in scikit-learn's `zero_division=0`; probabilities are rows of an `n x K` matrix.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

/// Counts of (true class, predicted class) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// `counts[t][p]`: rows of true class `t` predicted as `p`.
    counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// Tallies predictions against truth over `n_classes` classes.
    pub fn new(n_classes: usize, truth: &[usize], predicted: &[usize]) -> Result<Self> {
        if truth.len() != predicted.len() {
            return Err(CoreError::ShapeMismatch {
                what: "predictions vs labels".into(),
                expected: truth.len(),
                found: predicted.len(),
            });
        }
        let mut counts = vec![vec![0; n_classes]; n_classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            let index = t.max(p);
            if index >= n_classes {
                return Err(CoreError::ClassOutOfRange { index, n_classes });
            }
            counts[t][p] += 1;
        }
        Ok(Self { counts })
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.counts.len()
    }

    /// Rows of true class `truth` predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth][predicted]
    }

    /// The matrix as rows of true classes.
    pub fn rows(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// Total number of rows tallied.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Rows whose true class is `class`.
    pub fn support(&self, class: usize) -> u64 {
        self.counts[class].iter().sum()
    }

    fn predicted_as(&self, class: usize) -> u64 {
        self.counts.iter().map(|row| row[class]).sum()
    }

    /// Fraction of rows predicted correctly.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.n_classes()).map(|c| self.counts[c][c]).sum();
        ratio(correct, self.total())
    }

    /// Of the rows predicted `class`, the fraction that are `class`.
    pub fn precision(&self, class: usize) -> f64 {
        ratio(self.counts[class][class], self.predicted_as(class))
    }

    /// Of the rows of `class`, the fraction predicted `class`.
    pub fn recall(&self, class: usize) -> f64 {
        ratio(self.counts[class][class], self.support(class))
    }

    /// Harmonic mean of precision and recall of `class`.
    pub fn f1(&self, class: usize) -> f64 {
        let (p, r) = (self.precision(class), self.recall(class));
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }

    /// Unweighted mean of per-class F1 over the classes present in truth or predictions.
    ///
    /// A class absent from both would otherwise add a 0 that says nothing about the model.
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<usize> = (0..self.n_classes())
            .filter(|&c| self.support(c) > 0 || self.predicted_as(c) > 0)
            .collect();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|&c| self.f1(c)).sum::<f64>() / present.len() as f64
    }

    /// Mean of per-class F1 weighted by each class's support.
    pub fn weighted_f1(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        (0..self.n_classes()).map(|c| self.f1(c) * self.support(c) as f64).sum::<f64>()
            / total as f64
    }

    /// Of the rows of the `normal` class, the fraction flagged as any other class.
    pub fn false_positive_rate(&self, normal: usize) -> f64 {
        let support = self.support(normal);
        ratio(support - self.counts[normal][normal], support)
    }

    /// Of the rows of any class but `normal`, the fraction flagged as some attack
    /// (not necessarily the right one).
    pub fn detection_rate(&self, normal: usize) -> f64 {
        let attacks: u64 =
            (0..self.n_classes()).filter(|&c| c != normal).map(|c| self.support(c)).sum();
        let missed: u64 =
            (0..self.n_classes()).filter(|&c| c != normal).map(|c| self.counts[c][normal]).sum();
        ratio(attacks - missed, attacks)
    }

    /// Recall of every class, in class order.
    pub fn recalls(&self) -> Vec<f64> {
        (0..self.n_classes()).map(|c| self.recall(c)).collect()
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

fn check_probs(probs: ArrayView2<'_, f32>, labels: &[usize]) -> Result<()> {
    if probs.nrows() != labels.len() {
        return Err(CoreError::ShapeMismatch {
            what: "probability rows vs labels".into(),
            expected: probs.nrows(),
            found: labels.len(),
        });
    }
    if let Some(&index) = labels.iter().find(|&&l| l >= probs.ncols()) {
        return Err(CoreError::ClassOutOfRange { index, n_classes: probs.ncols() });
    }
    Ok(())
}

/// Index of the largest value of each row (the first on ties).
pub fn argmax_rows(scores: ArrayView2<'_, f32>) -> Vec<usize> {
    scores
        .rows()
        .into_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |best, (i, &v)| if v > best.1 { (i, v) } else { best },
                )
                .0
        })
        .collect()
}

/// Expected calibration error of the top-label confidence, with `n_bins` equal-width bins
/// over [0, 1]: sum over bins of (bin size / n) * |accuracy in bin - mean confidence in bin|.
///
/// Returns 0 for empty input; labels must index columns of `probs`.
pub fn expected_calibration_error(
    probs: ArrayView2<'_, f32>,
    labels: &[usize],
    n_bins: usize,
) -> f64 {
    if probs.nrows() == 0 || n_bins == 0 || check_probs(probs, labels).is_err() {
        return 0.0;
    }
    let mut count = vec![0_u64; n_bins];
    let mut confidence = vec![0.0_f64; n_bins];
    let mut correct = vec![0.0_f64; n_bins];
    for (row, (&label, predicted)) in
        probs.rows().into_iter().zip(labels.iter().zip(argmax_rows(probs)))
    {
        let p = f64::from(row[predicted]).clamp(0.0, 1.0);
        // Bins are (lo, hi]; a confidence of exactly 0 falls in the first bin.
        let bin = ((p * n_bins as f64).ceil() as usize).clamp(1, n_bins) - 1;
        count[bin] += 1;
        confidence[bin] += p;
        correct[bin] += f64::from(u8::from(predicted == label));
    }
    let n = probs.nrows() as f64;
    (0..n_bins).filter(|&b| count[b] > 0).map(|b| (correct[b] - confidence[b]).abs() / n).sum()
}

/// ECE with the 15 bins used throughout vigil's reports.
pub fn ece15(probs: ArrayView2<'_, f32>, labels: &[usize]) -> f64 {
    expected_calibration_error(probs, labels, 15)
}

/// Multi-class Brier score: mean over rows of the squared distance between the probability
/// row and the one-hot truth (0 best, 2 worst). 0 for empty or mismatched input.
pub fn brier_score(probs: ArrayView2<'_, f32>, labels: &[usize]) -> f64 {
    if probs.nrows() == 0 || check_probs(probs, labels).is_err() {
        return 0.0;
    }
    let total: f64 = probs
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &label)| {
            row.iter()
                .enumerate()
                .map(|(k, &p)| (f64::from(p) - f64::from(u8::from(k == label))).powi(2))
                .sum::<f64>()
        })
        .sum();
    total / probs.nrows() as f64
}

/// Mean negative log-likelihood of the true class, with probabilities clipped to
/// [1e-15, 1] so a confident mistake costs about 34.5, not infinity. 0 for empty input.
pub fn log_loss(probs: ArrayView2<'_, f32>, labels: &[usize]) -> f64 {
    if probs.nrows() == 0 || check_probs(probs, labels).is_err() {
        return 0.0;
    }
    let total: f64 = probs
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &label)| -f64::from(row[label]).clamp(1e-15, 1.0).ln())
        .sum();
    total / probs.nrows() as f64
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    // truth:     0 0 0 0 1 1 1 2 2 2
    // predicted: 0 0 0 1 1 1 0 2 2 1
    fn example() -> ConfusionMatrix {
        ConfusionMatrix::new(3, &[0, 0, 0, 0, 1, 1, 1, 2, 2, 2], &[0, 0, 0, 1, 1, 1, 0, 2, 2, 1])
            .unwrap()
    }

    #[test]
    fn confusion_and_scores_match_hand_computation() {
        let cm = example();
        assert_eq!(cm.rows(), &[vec![3, 1, 0], vec![1, 2, 0], vec![0, 1, 2]]);
        assert!(close(cm.accuracy(), 0.7));
        assert!(close(cm.precision(0), 0.75));
        assert!(close(cm.recall(0), 0.75));
        assert!(close(cm.precision(1), 0.5));
        assert!(close(cm.recall(1), 2.0 / 3.0));
        assert!(close(cm.f1(1), 2.0 * 0.5 * (2.0 / 3.0) / (0.5 + 2.0 / 3.0)));
        assert!(close(cm.precision(2), 1.0));
        assert!(close(cm.recall(2), 2.0 / 3.0));
        let f1 = [0.75, 4.0 / 7.0, 0.8];
        assert!(close(cm.macro_f1(), f1.iter().sum::<f64>() / 3.0));
        assert!(close(cm.weighted_f1(), (0.75 * 4.0 + 4.0 / 7.0 * 3.0 + 0.8 * 3.0) / 10.0));
        assert!(close(cm.false_positive_rate(0), 0.25));
        // Attacks: 6 rows, one (true 1) predicted normal.
        assert!(close(cm.detection_rate(0), 5.0 / 6.0));
    }

    #[test]
    fn absent_classes_and_empty_input_do_not_panic() {
        let cm = ConfusionMatrix::new(3, &[0, 0], &[0, 0]).unwrap();
        assert!(close(cm.macro_f1(), 1.0));
        assert!(close(cm.recall(2), 0.0));
        assert!(close(cm.detection_rate(0), 0.0));
        let empty = ConfusionMatrix::new(2, &[], &[]).unwrap();
        assert!(close(empty.accuracy(), 0.0));
        assert!(close(empty.macro_f1(), 0.0));
        assert!(close(empty.weighted_f1(), 0.0));
        assert!(ConfusionMatrix::new(2, &[0], &[2]).is_err());
        assert!(ConfusionMatrix::new(2, &[0], &[]).is_err());
    }

    #[test]
    fn calibration_metrics_match_hand_computation() {
        // Confidences sit inside bins, away from edges that f32 rounding could cross.
        let probs = array![[0.95_f32, 0.05], [0.65, 0.35], [0.25, 0.75], [0.15, 0.85]];
        let labels = [0, 1, 1, 1];
        // Two bins: all four in (.5, 1]; mean confidence .8, accuracy .75.
        assert!((expected_calibration_error(probs.view(), &labels, 2) - 0.05).abs() < 1e-6);
        // Ten bins, one row each: .95 right, .65 wrong, .75 right, .85 right.
        let ece10 = (0.05 + 0.65 + 0.25 + 0.15) / 4.0;
        assert!((expected_calibration_error(probs.view(), &labels, 10) - ece10).abs() < 1e-6);
        let brier = (0.005 + 0.845 + 0.125 + 0.045) / 4.0;
        assert!((brier_score(probs.view(), &labels) - brier).abs() < 1e-6);
        let ll = -(0.95_f64.ln() + 0.35_f64.ln() + 0.75_f64.ln() + 0.85_f64.ln()) / 4.0;
        assert!((log_loss(probs.view(), &labels) - ll).abs() < 1e-6);
        let certain_wrong = array![[0.0_f32, 1.0]];
        assert!((log_loss(certain_wrong.view(), &[0]) - 1e-15_f64.ln().abs()).abs() < 1e-9);
    }

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(argmax_rows(array![[1.0_f32, 1.0], [0.0, 2.0]].view()), vec![0, 1]);
    }
}
