//! Per-class thresholds and the decision rule that applies them (see the crate docs).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::{Result, ThresholdError};

/// The threshold a class absent from validation gets: with calibrated probabilities, 0.5
/// flags it when it is more likely than not.
pub const ABSENT_CLASS_THRESHOLD: f32 = 0.5;

/// One threshold per class plus the normal (fallback) class; applied by [`Thresholds::decide`].
///
/// Serialises as `{"per_class": [...], "normal_class": 0}`; deserialising validates like
/// [`Thresholds::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Raw")]
pub struct Thresholds {
    per_class: Vec<f32>,
    normal_class: usize,
}

#[derive(Deserialize)]
struct Raw {
    per_class: Vec<f32>,
    normal_class: usize,
}

impl TryFrom<Raw> for Thresholds {
    type Error = ThresholdError;

    fn try_from(raw: Raw) -> Result<Self> {
        Self::new(raw.per_class, raw.normal_class)
    }
}

/// The outcome of [`Thresholds::decide`] for one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The decided class.
    pub class: usize,
    /// `passed[k]`: whether class `k`'s probability reached its threshold.
    pub passed: Vec<bool>,
    /// The decided class's probability minus its threshold: at least 0 when it passed,
    /// negative when no class passed and the decision is the normal-class fallback (NaN if
    /// that probability is NaN).
    pub margin: f32,
}

impl Decision {
    /// Whether no class passed and the decision is the normal-class fallback.
    pub fn is_fallback(&self) -> bool {
        !self.passed[self.class]
    }
}

impl Thresholds {
    /// Thresholds `per_class` (each in [0, 1]) with fallback class `normal_class`.
    pub fn new(per_class: Vec<f32>, normal_class: usize) -> Result<Self> {
        if per_class.is_empty() {
            return Err(ThresholdError::NoClasses);
        }
        if normal_class >= per_class.len() {
            return Err(ThresholdError::ClassOutOfRange {
                what: "normal class",
                class: normal_class,
                n_classes: per_class.len(),
            });
        }
        if let Some((class, &value)) =
            per_class.iter().enumerate().find(|(_, t)| !(0.0..=1.0).contains(*t))
        {
            return Err(ThresholdError::InvalidThreshold { class, value });
        }
        Ok(Self { per_class, normal_class })
    }

    /// All thresholds 0 and class 0 normal: every class passes, the largest probability wins
    /// and ties go to the lower index, which is exactly [`vigil_core::metrics::argmax_rows`].
    /// The baseline "no thresholds" model, expressed in the same rule.
    ///
    /// # Panics
    /// If `n_classes` is 0.
    pub fn argmax(n_classes: usize) -> Self {
        assert!(n_classes > 0, "argmax thresholds need at least one class");
        Self { per_class: vec![0.0; n_classes], normal_class: 0 }
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.per_class.len()
    }

    /// The threshold of every class, in class order.
    pub fn per_class(&self) -> &[f32] {
        &self.per_class
    }

    /// The class decided when no class passes.
    pub fn normal_class(&self) -> usize {
        self.normal_class
    }

    /// Applies the decision rule of the crate docs to one row of class probabilities:
    /// classes whose probability reaches their threshold are candidates, the candidate with
    /// the largest margin `p - t` wins (ties: lower index), no candidate means the normal class.
    ///
    /// A NaN probability never passes.
    ///
    /// # Panics
    /// If `row` does not have one entry per class.
    pub fn decide(&self, row: &[f32]) -> Decision {
        self.check_width(row.len());
        let passed: Vec<bool> = row.iter().zip(&self.per_class).map(|(p, t)| p >= t).collect();
        let class = self.decide_class(row.iter().copied());
        Decision { class, passed, margin: row[class] - self.per_class[class] }
    }

    /// [`Thresholds::decide`]'s class for every row.
    ///
    /// # Panics
    /// If `probs` does not have one column per class.
    pub fn predict(&self, probs: ArrayView2<'_, f32>) -> Vec<usize> {
        self.check_width(probs.ncols());
        probs.rows().into_iter().map(|row| self.decide_class(row.iter().copied())).collect()
    }

    fn check_width(&self, width: usize) {
        assert!(
            width == self.per_class.len(),
            "probability row has {width} entries but there are {} thresholds",
            self.per_class.len()
        );
    }

    /// The rule itself; every decision in the project goes through here.
    pub(crate) fn decide_class(&self, row: impl Iterator<Item = f32>) -> usize {
        let mut best: Option<(usize, f32)> = None;
        for (k, (p, &t)) in row.zip(&self.per_class).enumerate() {
            // `>=` is false for NaN, so a NaN probability never makes a candidate.
            if p >= t && best.is_none_or(|(_, m)| p - t > m) {
                best = Some((k, p - t));
            }
        }
        best.map_or(self.normal_class, |(k, _)| k)
    }

    pub(crate) fn set(&mut self, class: usize, threshold: f32) {
        self.per_class[class] = threshold;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;
    use vigil_core::metrics::argmax_rows;

    use super::*;

    fn check(thresholds: &Thresholds, row: &[f32], class: usize, passed: &[bool]) {
        let decision = thresholds.decide(row);
        assert_eq!((decision.class, decision.passed.as_slice()), (class, passed), "row {row:?}");
    }

    #[test]
    fn nothing_passes_falls_back_to_normal() {
        let t = Thresholds::new(vec![1.0, 0.6, 0.7], 0).unwrap();
        check(&t, &[0.5, 0.3, 0.2], 0, &[false, false, false]);
        let decision = t.decide(&[0.5, 0.3, 0.2]);
        assert!(decision.is_fallback());
        assert!((decision.margin - -0.5).abs() < 1e-6);
        // The fallback is the normal class even when it is not class 0.
        let t = Thresholds::new(vec![0.6, 0.7, 1.0], 2).unwrap();
        check(&t, &[0.3, 0.2, 0.5], 2, &[false, false, false]);
    }

    #[test]
    fn an_attack_that_passes_beats_a_fallback_only_normal() {
        let t = Thresholds::new(vec![1.0, 0.3, 0.5], 0).unwrap();
        let decision = t.decide(&[0.65, 0.35, 0.0]);
        assert_eq!(decision.class, 1);
        assert!(!decision.is_fallback());
        assert!((decision.margin - 0.05).abs() < 1e-6);
    }

    #[test]
    fn of_two_that_pass_the_larger_margin_wins() {
        let t = Thresholds::new(vec![1.0, 0.25, 0.5], 0).unwrap();
        // Class 2 has the higher probability, class 1 the larger margin (0.2 vs 0.05).
        check(&t, &[0.2, 0.45, 0.55], 1, &[false, true, true]);
        // Equal margins (exact in f32): the lower index.
        check(&t, &[0.0, 0.5, 0.75], 1, &[false, true, true]);
        // The normal class competes like any other when it passes.
        let t = Thresholds::new(vec![0.5, 0.3], 0).unwrap();
        check(&t, &[0.9, 0.35], 0, &[true, true]);
        check(&t, &[0.55, 0.45], 1, &[true, true]);
    }

    #[test]
    fn nan_never_passes() {
        let t = Thresholds::new(vec![1.0, 0.1, 0.1], 0).unwrap();
        check(&t, &[f32::NAN, f32::NAN, 0.5], 2, &[false, false, true]);
        check(&t, &[f32::NAN, f32::NAN, f32::NAN], 0, &[false, false, false]);
    }

    #[test]
    fn argmax_thresholds_reproduce_argmax() {
        let probs = array![
            [0.5_f32, 0.3, 0.2],
            [0.2, 0.3, 0.5],
            [0.4, 0.4, 0.2],
            [0.1, 0.45, 0.45],
            [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0],
        ];
        assert_eq!(Thresholds::argmax(3).predict(probs.view()), argmax_rows(probs.view()));
    }

    #[test]
    fn invalid_thresholds_are_rejected() {
        assert_eq!(Thresholds::new(vec![], 0), Err(ThresholdError::NoClasses));
        assert!(matches!(
            Thresholds::new(vec![0.5, 0.5], 2),
            Err(ThresholdError::ClassOutOfRange { class: 2, n_classes: 2, .. })
        ));
        assert!(matches!(
            Thresholds::new(vec![0.5, f32::NAN], 0),
            Err(ThresholdError::InvalidThreshold { class: 1, value }) if value.is_nan()
        ));
        assert!(matches!(
            Thresholds::new(vec![0.5, 1.5], 0),
            Err(ThresholdError::InvalidThreshold { class: 1, .. })
        ));
    }

    #[test]
    #[should_panic(expected = "probability row has 2 entries but there are 3 thresholds")]
    fn a_row_of_the_wrong_width_panics() {
        let _ = Thresholds::argmax(3).decide(&[0.5, 0.5]);
    }
}
