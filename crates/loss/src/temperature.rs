//! Temperature scaling (Guo et al., 2017) fitted by a bounded search on `ln T`.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use vigil_core::metrics::expected_calibration_error;

use crate::error::Result;
use crate::softmax::{apply_temperature, check_batch, softmax};

/// Smallest temperature [`fit_temperature`] can return.
pub const MIN_TEMPERATURE: f32 = 0.05;
/// Largest temperature [`fit_temperature`] can return.
pub const MAX_TEMPERATURE: f32 = 20.0;
/// Number of equal-width confidence bins of the ECE that [`fit_temperature`] reports.
pub const ECE_BINS: usize = 15;

/// Search stops when the bracket on `ln T` is narrower than this (relative precision of T).
const LOG_T_TOLERANCE: f64 = 1e-7;

/// A fitted temperature and the calibration it buys on the data it was fitted on.
///
/// The calibrated probabilities are `softmax(z / temperature)`, e.g. via
/// [`apply_temperature`] and [`softmax`]; dividing by `T` does not change the arg-max, so
/// accuracy is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TemperatureFit {
    /// The fitted `T`, in `[MIN_TEMPERATURE, MAX_TEMPERATURE]`; above 1 softens
    /// overconfident logits, below 1 sharpens underconfident ones.
    pub temperature: f32,
    /// Mean negative log-likelihood at `T = 1`.
    pub nll_before: f64,
    /// Mean negative log-likelihood at the fitted `T`; never above `nll_before`.
    pub nll_after: f64,
    /// Expected calibration error ([`ECE_BINS`] equal-width bins, top-label confidence) at
    /// `T = 1`.
    pub ece_before: f64,
    /// Expected calibration error at the fitted `T`.
    pub ece_after: f64,
}

/// Fits a temperature on validation logits and labels by minimising the mean negative
/// log-likelihood of `softmax(z / T)`.
///
/// The NLL is convex in `1/T`, hence unimodal in `ln T`, so a golden-section search on
/// `ln T ∈ [ln 0.05, ln 20]` (to `1e-7`) finds its minimum without derivatives or a
/// learning rate. The result is compared with `T = 1` and the bounds, and the best of them
/// is kept, so the fit never makes the NLL on these data worse (flat data keep `T = 1`). A
/// result at a bound means the data wanted a more extreme `T`, e.g. perfectly separated
/// logits push `T` to [`MIN_TEMPERATURE`].
///
/// The NLL is computed exactly from the logits by log-sum-exp in `f64` rather than from
/// clipped `f32` probabilities (as `vigil_core::metrics::log_loss` does), so an
/// overconfident model's large NLL is reported in full, and what is reported is what was
/// minimised. ECE is `vigil_core::metrics::expected_calibration_error` with 15 bins.
///
/// Fails if there are no rows, the label count differs from the row count, a label is not
/// a column index, or a logit is not finite.
pub fn fit_temperature(logits: ArrayView2<'_, f32>, labels: &[usize]) -> Result<TemperatureFit> {
    check_batch(logits, labels, "temperature fitting")?;
    let nll = |log_t: f64| mean_nll(logits, labels, (-log_t).exp());

    let lo = f64::from(MIN_TEMPERATURE).ln();
    let hi = f64::from(MAX_TEMPERATURE).ln();
    let searched = golden_section_min(nll, lo, hi, LOG_T_TOLERANCE);
    let nll_before = nll(0.0);
    let (log_t, nll_after) = [(searched, nll(searched)), (lo, nll(lo)), (hi, nll(hi))]
        .into_iter()
        .fold((0.0, nll_before), |best, c| if c.1 < best.1 { c } else { best });
    let temperature = (log_t.exp() as f32).clamp(MIN_TEMPERATURE, MAX_TEMPERATURE);

    let ece_before = expected_calibration_error(softmax(logits).view(), labels, ECE_BINS);
    let scaled = apply_temperature(logits, temperature)?;
    let ece_after = expected_calibration_error(softmax(scaled.view()).view(), labels, ECE_BINS);
    Ok(TemperatureFit { temperature, nll_before, nll_after, ece_before, ece_after })
}

/// Mean over rows of `logsumexp(β z) - β z_y` with `β = 1/T > 0`, in `f64`.
///
/// The log-sum-exp is `β m + ln(1 + rest)` with `m` the row maximum and `rest` the sum over
/// the other columns, so a nearly certain row keeps its tiny but positive NLL instead of
/// rounding `ln(1 + 1e-30)` to 0, and the search still sees which `T` is better.
fn mean_nll(logits: ArrayView2<'_, f32>, labels: &[usize], beta: f64) -> f64 {
    let total: f64 = logits
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &y)| {
            let (argmax, max) =
                row.iter().enumerate().fold((0, f64::NEG_INFINITY), |best, (j, &z)| {
                    if f64::from(z) > best.1 { (j, f64::from(z)) } else { best }
                });
            let rest: f64 = row
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != argmax)
                .map(|(_, &z)| (beta * (f64::from(z) - max)).exp())
                .sum();
            beta * (max - f64::from(row[y])) + rest.ln_1p()
        })
        .sum();
    total / logits.nrows() as f64
}

/// Minimum of a unimodal `f` on `[a, b]` by golden-section search, to within `tol`.
fn golden_section_min(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64, tol: f64) -> f64 {
    let inv_phi = (5.0_f64.sqrt() - 1.0) / 2.0;
    let mut c = b - inv_phi * (b - a);
    let mut d = a + inv_phi * (b - a);
    let mut fc = f(c);
    let mut fd = f(d);
    while b - a > tol {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - inv_phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + inv_phi * (b - a);
            fd = f(d);
        }
    }
    f64::midpoint(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_section_finds_interior_and_boundary_minima() {
        let x = golden_section_min(|x| (x - 0.3).powi(2), -2.0, 2.0, 1e-9);
        assert!((x - 0.3).abs() < 1e-6, "{x}");
        let x = golden_section_min(|x| x, -2.0, 2.0, 1e-9);
        assert!((x + 2.0).abs() < 1e-6, "{x}");
        let x = golden_section_min(|x| -x, -2.0, 2.0, 1e-9);
        assert!((x - 2.0).abs() < 1e-6, "{x}");
    }

    #[test]
    fn mean_nll_matches_hand_values() {
        // Logits [0, ln 3]: at T = 1, p = [1/4, 3/4]; at T = 1/2 (β = 2), p = [1/10, 9/10].
        let logits = ndarray::array![[0.0_f32, 3.0_f32.ln()]];
        let nll = mean_nll(logits.view(), &[1], 1.0);
        assert!((nll - (4.0_f64 / 3.0).ln()).abs() < 1e-6, "{nll}");
        let nll = mean_nll(logits.view(), &[0], 2.0);
        assert!((nll - 10.0_f64.ln()).abs() < 1e-6, "{nll}");
    }
}
