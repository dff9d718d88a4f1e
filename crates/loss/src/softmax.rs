//! Numerically stable softmax kernels shared by the losses and temperature scaling.

use ndarray::{Array2, ArrayView1, ArrayView2, Zip};

use crate::error::{LossError, Result};

/// Log-sum-exp statistics of one row of logits, in `f64`.
///
/// With `m = max_j z_j` and `e_j = exp(z_j - m)`, the arg-max term is exactly 1, so the
/// normaliser is `s = 1 + rest` where `rest` sums the other terms. Keeping `rest` separate
/// gives `1 - p_argmax = rest / s` without the cancellation of `1 - p` when `p` is near 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowStats {
    /// The row maximum `m`.
    pub(crate) max: f64,
    /// `ln s = ln(1 + rest)`.
    pub(crate) log_sum: f64,
    /// `1 / s`.
    pub(crate) inv_sum: f64,
    /// Sum of `e_j` over every column but the arg-max.
    pub(crate) rest: f64,
    /// Column of the (first) maximum.
    pub(crate) argmax: usize,
}

impl RowStats {
    /// Computes the statistics of `row` and writes `e_j = exp(z_j - m)` into `e`, which must
    /// have the row's length.
    pub(crate) fn new(row: ArrayView1<'_, f32>, e: &mut [f64]) -> Self {
        debug_assert_eq!(row.len(), e.len());
        let mut max = f64::NEG_INFINITY;
        let mut argmax = 0;
        for (j, &z) in row.iter().enumerate() {
            let z = f64::from(z);
            if z > max {
                max = z;
                argmax = j;
            }
        }
        let mut rest = 0.0;
        for (j, (&z, ej)) in row.iter().zip(e.iter_mut()).enumerate() {
            let v = (f64::from(z) - max).exp();
            *ej = v;
            if j != argmax {
                rest += v;
            }
        }
        Self { max, log_sum: rest.ln_1p(), inv_sum: 1.0 / (1.0 + rest), rest, argmax }
    }

    /// `ln p_j` for a logit `z_j` of this row.
    pub(crate) fn log_prob(&self, z: f32) -> f64 {
        (f64::from(z) - self.max) - self.log_sum
    }

    /// `1 - p_j`, accurate also when `p_j` is close to 1.
    pub(crate) fn one_minus_prob(&self, j: usize, p: f64) -> f64 {
        if j == self.argmax { self.rest * self.inv_sum } else { 1.0 - p }
    }
}

/// Row-wise softmax of a batch of logits (rows = samples, columns = classes).
///
/// Computed in `f64` after subtracting each row's maximum, so any finite row gives finite
/// probabilities that sum to 1 (to `f32` rounding), even for logits like `±1e4`. A row
/// holding NaN or `+inf` gives NaN probabilities; validate logits first where that matters.
///
/// ```
/// use ndarray::array;
/// let p = vigil_loss::softmax(array![[0.0_f32, 3.0_f32.ln()]].view());
/// assert!((p[[0, 1]] - 0.75).abs() < 1e-6);
/// ```
pub fn softmax(logits: ArrayView2<'_, f32>) -> Array2<f32> {
    let mut out = Array2::zeros(logits.raw_dim());
    let mut e = vec![0.0; logits.ncols()];
    Zip::from(out.rows_mut()).and(logits.rows()).for_each(|mut out, row| {
        let stats = RowStats::new(row, &mut e);
        for (o, &ej) in out.iter_mut().zip(&e) {
            *o = (ej * stats.inv_sum) as f32;
        }
    });
    out
}

/// Row-wise log-softmax of a batch of logits: `z_j - logsumexp(z)`.
///
/// Stable in the same way as [`softmax`]: finite rows give finite values (no `ln 0`).
pub fn log_softmax(logits: ArrayView2<'_, f32>) -> Array2<f32> {
    let mut out = Array2::zeros(logits.raw_dim());
    let mut e = vec![0.0; logits.ncols()];
    Zip::from(out.rows_mut()).and(logits.rows()).for_each(|mut out, row| {
        let stats = RowStats::new(row, &mut e);
        for (o, &z) in out.iter_mut().zip(row) {
            *o = stats.log_prob(z) as f32;
        }
    });
    out
}

/// Divides logits by a temperature: `softmax(apply_temperature(z, t))` are the calibrated
/// probabilities of a [`fit_temperature`](crate::fit_temperature) result.
///
/// The temperature must be finite and positive.
pub fn apply_temperature(logits: ArrayView2<'_, f32>, temperature: f32) -> Result<Array2<f32>> {
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(LossError::InvalidParam {
            param: "temperature",
            reason: format!("{temperature} must be finite and > 0"),
        });
    }
    let inv = 1.0 / temperature;
    Ok(logits.mapv(|z| z * inv))
}

/// Checks a batch at the edge: at least one row, one target per row, every target a column
/// index, every logit finite. After this the kernels cannot fail or index out of bounds.
pub(crate) fn check_batch(
    logits: ArrayView2<'_, f32>,
    targets: &[usize],
    what: &'static str,
) -> Result<()> {
    let (n, k) = logits.dim();
    if targets.len() != n {
        return Err(LossError::ShapeMismatch {
            what: "targets vs logit rows",
            expected: n,
            found: targets.len(),
        });
    }
    if n == 0 {
        return Err(LossError::EmptyBatch(what));
    }
    if let Some((row, &target)) = targets.iter().enumerate().find(|&(_, &t)| t >= k) {
        return Err(LossError::TargetOutOfRange { row, target, n_classes: k });
    }
    for (row, values) in logits.rows().into_iter().enumerate() {
        if let Some((column, &value)) = values.iter().enumerate().find(|(_, z)| !z.is_finite()) {
            return Err(LossError::NonFiniteLogit { row, column, value });
        }
    }
    Ok(())
}
