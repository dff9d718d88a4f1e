//! What a threshold optimises: per-class objectives on one-vs-rest counts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Result, ThresholdError};

/// The quantity a class's threshold maximises, computed from that class's one-vs-rest counts
/// (true/false positives and negatives of "predicted this class" against "is this class").
///
/// Precision and recall alone are trivially maximised (threshold 1 and 0), so each comes
/// with a guard on the other: [`Objective::Precision`] is "the best precision whose recall is
/// at least `min_recall`", [`Objective::Recall`] "the best recall whose precision is at least
/// `min_precision`". When no threshold meets the guard, the search returns the one that
/// comes closest (smallest shortfall) and reports the class as infeasible.
///
/// Text form (for CLIs and configuration, also the serde form): `f1`, `mcc`,
/// `precision@recall=0.9`, `recall@precision=0.95`, `cost:fp=1,fn=20`.
///
/// ```
/// use vigil_thresholds::Objective;
///
/// let objective: Objective = "recall@precision=0.9".parse().unwrap();
/// assert_eq!(objective, Objective::Recall { min_precision: 0.9 });
/// assert_eq!(objective.to_string(), "recall@precision=0.9");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Objective {
    /// F1, the harmonic mean of precision and recall (0 when undefined).
    #[default]
    F1,
    /// Precision, among thresholds whose recall is at least `min_recall` (in (0, 1]).
    Precision {
        /// The recall every acceptable threshold must reach.
        min_recall: f64,
    },
    /// Recall, among thresholds whose precision is at least `min_precision` (in (0, 1]).
    Recall {
        /// The precision every acceptable threshold must reach.
        min_precision: f64,
    },
    /// Matthews correlation coefficient (0 when undefined).
    Mcc,
    /// Minus the mean cost per row, with these costs for each false positive and each false
    /// negative (finite, non-negative, not both zero).
    Cost {
        /// Cost of flagging a row as this class when it is not.
        false_positive: f64,
        /// Cost of missing a row of this class.
        false_negative: f64,
    },
}

/// One-vs-rest counts of one class at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub(crate) tp: u64,
    pub(crate) fp: u64,
    pub(crate) fn_: u64,
    pub(crate) tn: u64,
}

/// An objective's value at some counts, and whether its guard holds.
///
/// For the guarded objectives a feasible value is positive and an infeasible one is minus
/// the shortfall (in [-1, 0)), so comparing `value` alone already ranks every feasible
/// threshold above every infeasible one, and among infeasible ones the nearest miss first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Score {
    pub(crate) value: f64,
    pub(crate) feasible: bool,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

impl Counts {
    fn precision(self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    fn recall(self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    fn total(self) -> u64 {
        self.tp + self.fp + self.fn_ + self.tn
    }
}

impl Objective {
    /// Errors unless the guard or costs are in their documented domains.
    pub fn check(self) -> Result<()> {
        let unit = |param: &'static str, value: f64| {
            if value > 0.0 && value <= 1.0 {
                Ok(())
            } else {
                Err(ThresholdError::InvalidParam {
                    param,
                    reason: format!("{value} is not in (0, 1]"),
                })
            }
        };
        match self {
            Self::F1 | Self::Mcc => Ok(()),
            Self::Precision { min_recall } => unit("min_recall", min_recall),
            Self::Recall { min_precision } => unit("min_precision", min_precision),
            Self::Cost { false_positive, false_negative } => {
                let valid = |c: f64| c.is_finite() && c >= 0.0;
                if !valid(false_positive) || !valid(false_negative) {
                    return Err(ThresholdError::InvalidParam {
                        param: "cost",
                        reason: format!(
                            "costs must be finite and non-negative, got fp={false_positive}, fn={false_negative}"
                        ),
                    });
                }
                if false_positive + false_negative == 0.0 {
                    return Err(ThresholdError::InvalidParam {
                        param: "cost",
                        reason: "false-positive and false-negative costs are both zero".into(),
                    });
                }
                Ok(())
            }
        }
    }

    /// The value of this objective at `c`; higher is better.
    pub(crate) fn score(self, c: Counts) -> Score {
        let feasible = |value| Score { value, feasible: true };
        match self {
            Self::F1 => feasible(ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn_)),
            Self::Precision { min_recall } => {
                let recall = c.recall();
                if recall >= min_recall {
                    feasible(c.precision())
                } else {
                    Score { value: recall - min_recall, feasible: false }
                }
            }
            Self::Recall { min_precision } => {
                let precision = c.precision();
                if precision >= min_precision {
                    feasible(c.recall())
                } else {
                    Score { value: precision - min_precision, feasible: false }
                }
            }
            Self::Mcc => {
                let [tp, fp, fn_, tn] = [c.tp, c.fp, c.fn_, c.tn].map(|x| x as f64);
                let den = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
                feasible(if den == 0.0 { 0.0 } else { (tp * tn - fp * fn_) / den })
            }
            Self::Cost { false_positive, false_negative } => {
                let n = c.total();
                let cost = false_positive * c.fp as f64 + false_negative * c.fn_ as f64;
                feasible(if n == 0 { 0.0 } else { -cost / n as f64 })
            }
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::F1 => f.write_str("f1"),
            Self::Mcc => f.write_str("mcc"),
            Self::Precision { min_recall } => write!(f, "precision@recall={min_recall}"),
            Self::Recall { min_precision } => write!(f, "recall@precision={min_precision}"),
            Self::Cost { false_positive, false_negative } => {
                write!(f, "cost:fp={false_positive},fn={false_negative}")
            }
        }
    }
}

const OBJECTIVE_FORMS: &str =
    "expected f1, mcc, precision@recall=<r>, recall@precision=<p> or cost:fp=<c>,fn=<c>";

impl FromStr for Objective {
    type Err = ThresholdError;

    fn from_str(input: &str) -> Result<Self> {
        let error = |reason: String| ThresholdError::Parse {
            what: "objective",
            input: input.to_owned(),
            reason,
        };
        let number = |text: &str| {
            text.trim().parse::<f64>().map_err(|_| error(format!("{text:?} is not a number")))
        };
        let text = input.trim().to_ascii_lowercase();
        let objective = if text == "f1" {
            Self::F1
        } else if text == "mcc" {
            Self::Mcc
        } else if let Some(value) = text.strip_prefix("precision@recall=") {
            Self::Precision { min_recall: number(value)? }
        } else if let Some(value) = text.strip_prefix("recall@precision=") {
            Self::Recall { min_precision: number(value)? }
        } else if let Some(costs) = text.strip_prefix("cost:") {
            let (mut fp, mut fn_) = (None, None);
            for part in costs.split(',') {
                match part.trim().split_once('=') {
                    Some(("fp", value)) => fp = Some(number(value)?),
                    Some(("fn", value)) => fn_ = Some(number(value)?),
                    _ => return Err(error(format!("unknown cost {part:?}; {OBJECTIVE_FORMS}"))),
                }
            }
            match (fp, fn_) {
                (Some(false_positive), Some(false_negative)) => {
                    Self::Cost { false_positive, false_negative }
                }
                _ => return Err(error("a cost objective needs both fp= and fn=".into())),
            }
        } else if text == "precision" || text == "recall" {
            return Err(error(format!(
                "{text} alone is maximised by a trivial threshold; give a guard, e.g. \
                 recall@precision=0.9 or precision@recall=0.9"
            )));
        } else {
            return Err(error(OBJECTIVE_FORMS.into()));
        };
        objective.check().map_err(|e| error(e.to_string()))?;
        Ok(objective)
    }
}

impl From<Objective> for String {
    fn from(objective: Objective) -> Self {
        objective.to_string()
    }
}

impl TryFrom<String> for Objective {
    type Error = ThresholdError;

    fn try_from(text: String) -> Result<Self> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(tp: u64, fp: u64, fn_: u64, tn: u64) -> Counts {
        Counts { tp, fp, fn_, tn }
    }

    fn check(objective: Objective, c: Counts, expected: f64, feasible: bool) {
        let score = objective.score(c);
        assert!(
            (score.value - expected).abs() < 1e-12 && score.feasible == feasible,
            "{objective} at {c:?}: got {score:?}, expected {expected} (feasible {feasible})"
        );
    }

    #[test]
    fn scores_match_hand_computation() {
        let c = counts(6, 2, 3, 9);
        check(Objective::F1, c, 12.0 / 17.0, true);
        // precision 6/8 = 0.75, recall 6/9.
        check(Objective::Precision { min_recall: 0.6 }, c, 0.75, true);
        check(Objective::Precision { min_recall: 0.7 }, c, 6.0 / 9.0 - 0.7, false);
        check(Objective::Recall { min_precision: 0.75 }, c, 6.0 / 9.0, true);
        check(Objective::Recall { min_precision: 0.8 }, c, 0.75 - 0.8, false);
        let mcc = (6.0 * 9.0 - 2.0 * 3.0) / (8.0_f64 * 9.0 * 11.0 * 12.0).sqrt();
        check(Objective::Mcc, c, mcc, true);
        check(Objective::Cost { false_positive: 1.0, false_negative: 5.0 }, c, -17.0 / 20.0, true);
    }

    #[test]
    fn undefined_ratios_are_zero() {
        let none = counts(0, 0, 4, 6);
        check(Objective::F1, none, 0.0, true);
        check(Objective::Mcc, none, 0.0, true);
        check(Objective::Recall { min_precision: 0.5 }, none, -0.5, false);
        check(
            Objective::Cost { false_positive: 1.0, false_negative: 1.0 },
            counts(0, 0, 0, 0),
            0.0,
            true,
        );
    }

    #[test]
    fn text_form_round_trips_and_rejects_nonsense() {
        for objective in [
            Objective::F1,
            Objective::Mcc,
            Objective::Precision { min_recall: 0.25 },
            Objective::Recall { min_precision: 1.0 },
            Objective::Cost { false_positive: 1.0, false_negative: 20.5 },
        ] {
            assert_eq!(objective.to_string().parse::<Objective>().unwrap(), objective);
        }
        assert_eq!(" F1 ".parse::<Objective>().unwrap(), Objective::F1);
        assert_eq!(
            "cost: fn=3, fp=0".parse::<Objective>().unwrap(),
            Objective::Cost { false_positive: 0.0, false_negative: 3.0 }
        );
        for bad in [
            "recall",
            "accuracy",
            "recall@precision=0",
            "recall@precision=1.5",
            "precision@recall=x",
            "cost:fp=1",
            "cost:fp=0,fn=0",
            "cost:fp=-1,fn=2",
            "cost:fp=1,fn=2,tp=3",
        ] {
            assert!(bad.parse::<Objective>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn parse_error_names_the_input_and_the_forms() {
        let error = "recall".parse::<Objective>().unwrap_err().to_string();
        assert!(error.contains("\"recall\"") && error.contains("recall@precision=0.9"), "{error}");
    }
}
