//! Choosing a loss from the class counts.

use serde::{Deserialize, Serialize};

use crate::loss::Loss;
use crate::weights::{WeightScheme, class_weights_unchecked};

/// The `β` of the effective-number weights that [`recommend`] uses above a 100:1 imbalance.
pub const RECOMMENDED_BETA: f64 = 0.999;

/// The loss [`recommend`] chose, the imbalance ratio it chose it from, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The loss to train with; its weight vectors have one entry per class of the counts.
    pub loss: Loss,
    /// `max n_c / min n_c` over the present classes (1 if fewer than one class is present).
    pub imbalance_ratio: f64,
    /// One line saying which rule fired, with the ratio and the counts behind it.
    pub reason: String,
}

/// Picks a loss from the class counts by the seed's rule table on the imbalance ratio
/// `r = max n_c / min n_c` over classes with `n_c > 0`:
///
/// | `r`            | loss                                                             |
/// |----------------|------------------------------------------------------------------|
/// | `r > 100`      | focal, `γ = 2.5`, α = effective-number weights, `β = 0.999`       |
/// | `20 < r ≤ 100` | focal, `γ = 2`, α = inverse-frequency weights                     |
/// | `5 < r ≤ 20`   | weighted cross-entropy, inverse-frequency weights                 |
/// | `r ≤ 5`        | cross-entropy                                                     |
///
/// Above 100:1 inverse frequency would give the rarest class hundreds of times the weight
/// of the majority and make the gradient noisy, so the effective number, which saturates at
/// `1/(1-β) = 1000` rows, caps it. Label smoothing is 0 throughout, unlike the seed (0.05 to
/// 0.1): calibration is done afterwards by [`fit_temperature`](crate::fit_temperature) on
/// validation data, and smoothing on top would only give that fit a second effect to undo.
///
/// Absent classes (`n_c = 0`) are left out of the ratio and get the weight described in
/// [`class_weights`](crate::class_weights); the reason names how many there are.
pub fn recommend(class_counts: &[usize]) -> Recommendation {
    let present = || class_counts.iter().copied().filter(|&n| n > 0);
    let max = present().max().unwrap_or(0);
    let min = present().min().unwrap_or(0);
    let imbalance_ratio = if min == 0 { 1.0 } else { max as f64 / min as f64 };
    let absent = class_counts.len() - present().count();

    let (loss, rule) = if imbalance_ratio > 100.0 {
        let alpha = class_weights_unchecked(
            class_counts,
            WeightScheme::EffectiveNumber { beta: RECOMMENDED_BETA },
        );
        let loss = Loss::Focal { alpha, gamma: 2.5, label_smoothing: 0.0 };
        let rule = format!(
            "> 100: focal loss, gamma 2.5, effective-number alpha (beta {RECOMMENDED_BETA})"
        );
        (loss, rule)
    } else if imbalance_ratio > 20.0 {
        let alpha = class_weights_unchecked(class_counts, WeightScheme::InverseFrequency);
        let loss = Loss::Focal { alpha, gamma: 2.0, label_smoothing: 0.0 };
        (loss, "> 20: focal loss, gamma 2, inverse-frequency alpha".to_owned())
    } else if imbalance_ratio > 5.0 {
        let weights = class_weights_unchecked(class_counts, WeightScheme::InverseFrequency);
        let loss = Loss::Weighted { weights };
        (loss, "> 5: weighted cross-entropy, inverse-frequency weights".to_owned())
    } else {
        (Loss::CrossEntropy, "<= 5: plain cross-entropy".to_owned())
    };

    let counts = if min == 0 {
        "(no class has rows)".to_owned()
    } else {
        format!("(largest class {max} rows, smallest present class {min} rows)")
    };
    let absent = match (absent, &loss) {
        (0, _) => String::new(),
        (_, Loss::CrossEntropy) => {
            format!("; {absent} of {} classes have no rows", class_counts.len())
        }
        _ => format!(
            "; {absent} of {} classes have no rows and are weighted like the rarest present class",
            class_counts.len()
        ),
    };
    let reason = format!("imbalance ratio {imbalance_ratio:.2} {counts} {rule}{absent}");
    Recommendation { loss, imbalance_ratio, reason }
}
