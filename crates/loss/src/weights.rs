//! Per-class weights from class counts.

use serde::{Deserialize, Serialize};

use crate::error::{LossError, Result};

/// How [`class_weights`] turns class counts `n_c` (total `N`, `K` classes) into weights.
///
/// Classes with `n_c = 0` get the largest weight among the present classes (see
/// [`class_weights`] for why).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeightScheme {
    /// Every weight is 1.
    Uniform,
    /// `w_c = N / (K n_c)`, not renormalised: the mean weight over the training rows,
    /// `Σ_c n_c w_c / N`, is then exactly 1, which keeps a `1/N`-normalised weighted loss on
    /// the cross-entropy scale.
    InverseFrequency,
    /// Cui et al. (2019) class-balanced weights `w_c = (1 - β) / (1 - β^{n_c})`, normalised
    /// to sum to `K` as in the paper's code. `β = 0` gives uniform weights and `β → 1`
    /// approaches inverse frequency; `β` must be in `[0, 1)`.
    EffectiveNumber {
        /// The `β` of the effective number `(1 - β^n) / (1 - β)`.
        beta: f64,
    },
}

impl WeightScheme {
    /// Checks the scheme's parameters (`β` finite and in `[0, 1)`).
    pub fn check(self) -> Result<()> {
        match self {
            Self::EffectiveNumber { beta } if !(0.0..1.0).contains(&beta) => {
                Err(LossError::InvalidParam {
                    param: "beta",
                    reason: format!("{beta} must be in [0, 1)"),
                })
            }
            _ => Ok(()),
        }
    }
}

/// One weight per class (index `c` = class `c`) from the number of training rows per class.
///
/// Always returns `counts.len()` finite, positive weights, so `weights[target]` never
/// panics for a target that is a valid class index, even one absent from the counts.
///
/// **Absent classes** (`n_c = 0`) get the largest weight among the present classes: the
/// class is at least as rare as the rarest present one, so this keeps the weights monotone
/// in rarity and finite. It cannot change training on the data the counts came from (a
/// weight only multiplies rows of its own class, and there are none), and if such rows do
/// turn up later (fine-tuning on data with a new attack class) they are treated as the
/// rarest class instead of silently ignored, which a weight of 0 would do. If no class is
/// present at all, every weight is 1.
pub fn class_weights(counts: &[usize], scheme: WeightScheme) -> Result<Vec<f32>> {
    scheme.check()?;
    Ok(class_weights_unchecked(counts, scheme))
}

/// [`class_weights`] for a scheme already known to be valid.
pub(crate) fn class_weights_unchecked(counts: &[usize], scheme: WeightScheme) -> Vec<f32> {
    let k = counts.len() as f64;
    let total: usize = counts.iter().sum();
    if total == 0 {
        return vec![1.0; counts.len()];
    }
    let raw = |n: usize| -> f64 {
        let n = n as f64;
        match scheme {
            WeightScheme::Uniform => 1.0,
            WeightScheme::InverseFrequency => total as f64 / (k * n),
            // 1 - β^n = -expm1(n ln β) keeps precision for β near 1 and small n; β = 0
            // gives ln β = -inf and 1 - β^n = 1 for every n > 0.
            WeightScheme::EffectiveNumber { beta } => (1.0 - beta) / -(n * beta.ln()).exp_m1(),
        }
    };
    let present_max =
        counts.iter().filter(|&&n| n > 0).map(|&n| raw(n)).fold(f64::NEG_INFINITY, f64::max);
    let mut weights: Vec<f64> =
        counts.iter().map(|&n| if n > 0 { raw(n) } else { present_max }).collect();
    if let WeightScheme::EffectiveNumber { .. } = scheme {
        let sum: f64 = weights.iter().sum();
        for w in &mut weights {
            *w *= k / sum;
        }
    }
    weights.into_iter().map(|w| w as f32).collect()
}
