//! The three training losses and their gradients with respect to the logits.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Zip};
use serde::{Deserialize, Serialize};

use crate::error::{LossError, Result};
use crate::softmax::{RowStats, check_batch};

/// A classification loss over a batch of logits (rows = samples, columns = `K` classes).
///
/// Every variant is a mean over the `N` rows of a per-row loss `L_i`, and
/// [`loss_and_grad`](Loss::loss_and_grad) returns `L = (1/N) Σ_i L_i` together with
/// `∂L/∂z` (shape `N × K`, so each row's gradient carries the `1/N`). With `p_i` the
/// softmax of row `i` and `y_i` its target:
///
/// - [`CrossEntropy`](Loss::CrossEntropy): `L_i = -ln p_{i,y_i}`.
/// - [`Weighted`](Loss::Weighted): `L_i = w_{y_i} · (-ln p_{i,y_i})`.
/// - [`Focal`](Loss::Focal): `L_i = α_{y_i} Σ_k q_{i,k} (1 - p_{i,k})^γ (-ln p_{i,k})` with
///   the smoothed target `q_i = (1 - ε)·onehot(y_i) + ε/K`. With `ε = 0` this is
///   Lin et al.'s `FL = -α_t (1 - p_t)^γ ln p_t`; with `γ = 0` it is α-weighted cross-entropy
///   with label smoothing.
///
/// **Normalisation.** Weighted losses divide by `N`, not by the batch's sum of weights
/// (PyTorch's `reduction="mean"` does the latter). Dividing by `N` makes a minibatch loss an
/// unbiased estimate of the full-data weighted loss and keeps each row's contribution
/// independent of what else is in its batch; with inverse-frequency weights the mean weight
/// over the training rows is exactly 1, so the loss stays on the cross-entropy scale.
/// Dividing by the sum of weights would also be undefined for a batch whose weights are all 0.
///
/// **Why α is the target's weight inside the smoothed sum.** PyTorch weights the term of
/// every class `k` by `w_k`, so with label smoothing every normal row pays
/// `w_rare · ε/K · (-ln p_rare)`: with inverse-frequency weights at a 1000:1 imbalance the
/// smoothing mass is multiplied a thousandfold and pulls normal traffic toward the rarest
/// attack classes, i.e. false positives. Here α only says how much a row of class `c` counts
/// (as in [`Weighted`](Loss::Weighted)) and smoothing stays a uniform regulariser.
///
/// The arithmetic is in `f64` per row after subtracting the row maximum, and `1 - p` is
/// computed without cancellation, so finite logits (e.g. `±1e4`) give finite losses and
/// gradients, also for `γ < 1` where the textbook `(1 - p)^(γ - 1)` form divides by zero.
/// The loss grows linearly with the logit gap, so only gaps beyond `f32::MAX` overflow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loss {
    /// Mean cross-entropy.
    CrossEntropy,
    /// Class-weighted cross-entropy, divided by `N`.
    Weighted {
        /// One finite, non-negative weight per class.
        weights: Vec<f32>,
    },
    /// Focal loss with per-class α and label smoothing (see the type docs for the formula).
    Focal {
        /// One finite, non-negative weight per class, applied by the row's target class.
        alpha: Vec<f32>,
        /// Focusing parameter `γ ≥ 0`; 0 turns the modulating factor off.
        gamma: f32,
        /// Label smoothing `ε` in `[0, 1)`; 0 is the plain one-hot target.
        label_smoothing: f32,
    },
}

impl Loss {
    /// Checks the parameters against the number of classes `K`: weight vectors of length
    /// `K` with finite, non-negative entries, `γ` finite and `≥ 0`, `ε` in `[0, 1)`.
    pub fn check(&self, n_classes: usize) -> Result<()> {
        match self {
            Self::CrossEntropy => Ok(()),
            Self::Weighted { weights } => {
                check_class_vector("weights", "class weights vs logit columns", weights, n_classes)
            }
            Self::Focal { alpha, gamma, label_smoothing } => {
                check_class_vector("alpha", "focal alpha vs logit columns", alpha, n_classes)?;
                if !(gamma.is_finite() && *gamma >= 0.0) {
                    return Err(LossError::InvalidParam {
                        param: "gamma",
                        reason: format!("{gamma} must be finite and >= 0"),
                    });
                }
                if !(0.0..1.0).contains(label_smoothing) {
                    return Err(LossError::InvalidParam {
                        param: "label_smoothing",
                        reason: format!("{label_smoothing} must be in [0, 1)"),
                    });
                }
                Ok(())
            }
        }
    }

    /// The mean loss over the batch and its gradient with respect to `logits`.
    ///
    /// Fails if the batch is empty, `targets` has a length other than the number of rows, a
    /// target is not a column index, a logit is not finite, or [`check`](Loss::check) fails.
    pub fn loss_and_grad(
        &self,
        logits: ArrayView2<'_, f32>,
        targets: &[usize],
    ) -> Result<(f32, Array2<f32>)> {
        let mut grad = Array2::zeros(logits.raw_dim());
        let loss = self.loss_and_grad_into(logits, targets, grad.view_mut())?;
        Ok((loss, grad))
    }

    /// Like [`loss_and_grad`](Loss::loss_and_grad) but overwrites a caller-owned gradient
    /// buffer of the logits' shape, so a training loop allocates nothing per batch beyond
    /// `2K` scratch values. On error `grad` is left untouched.
    pub fn loss_and_grad_into(
        &self,
        logits: ArrayView2<'_, f32>,
        targets: &[usize],
        grad: ArrayViewMut2<'_, f32>,
    ) -> Result<f32> {
        if grad.nrows() != logits.nrows() {
            return Err(LossError::ShapeMismatch {
                what: "gradient rows vs logit rows",
                expected: logits.nrows(),
                found: grad.nrows(),
            });
        }
        if grad.ncols() != logits.ncols() {
            return Err(LossError::ShapeMismatch {
                what: "gradient columns vs logit columns",
                expected: logits.ncols(),
                found: grad.ncols(),
            });
        }
        self.validate(logits, targets)?;
        Ok(self.evaluate(logits, targets, Some(grad)) as f32)
    }

    /// The mean loss over the batch, without the gradient. Fails like
    /// [`loss_and_grad`](Loss::loss_and_grad).
    pub fn loss(&self, logits: ArrayView2<'_, f32>, targets: &[usize]) -> Result<f32> {
        self.validate(logits, targets)?;
        Ok(self.evaluate(logits, targets, None) as f32)
    }

    fn validate(&self, logits: ArrayView2<'_, f32>, targets: &[usize]) -> Result<()> {
        check_batch(logits, targets, "a loss")?;
        self.check(logits.ncols())
    }

    /// The mean loss in `f64`, writing the gradient if asked. Callers have validated the
    /// batch and the parameters, so nothing here can fail or index out of bounds.
    pub(crate) fn evaluate(
        &self,
        logits: ArrayView2<'_, f32>,
        targets: &[usize],
        grad: Option<ArrayViewMut2<'_, f32>>,
    ) -> f64 {
        let k = logits.ncols();
        let inv_n = 1.0 / logits.nrows() as f64;
        let mut scratch = vec![0.0; 2 * k];
        let (e, g) = scratch.split_at_mut(k);
        let mut total = 0.0;
        match grad {
            Some(mut grad) => Zip::from(logits.rows()).and(grad.rows_mut()).and(targets).for_each(
                |row, mut out, &y| {
                    total += self.row(row, y, e, Some(g));
                    for (o, &gj) in out.iter_mut().zip(g.iter()) {
                        *o = (gj * inv_n) as f32;
                    }
                },
            ),
            None => Zip::from(logits.rows())
                .and(targets)
                .for_each(|row, &y| total += self.row(row, y, e, None)),
        }
        total * inv_n
    }

    /// Loss of one row; if `g` is given, fills it with `∂L_i/∂z_i`. `e` is scratch of
    /// length `K`.
    fn row(&self, z: ArrayView1<'_, f32>, y: usize, e: &mut [f64], g: Option<&mut [f64]>) -> f64 {
        match self {
            Self::CrossEntropy => weighted_ce_row(z, y, 1.0, e, g),
            Self::Weighted { weights } => weighted_ce_row(z, y, f64::from(weights[y]), e, g),
            Self::Focal { alpha, gamma, label_smoothing } => focal_row(
                z,
                y,
                f64::from(alpha[y]),
                f64::from(*gamma),
                f64::from(*label_smoothing),
                e,
                g,
            ),
        }
    }
}

fn check_class_vector(
    param: &'static str,
    what: &'static str,
    values: &[f32],
    n_classes: usize,
) -> Result<()> {
    if values.len() != n_classes {
        return Err(LossError::ShapeMismatch { what, expected: n_classes, found: values.len() });
    }
    if let Some((class, w)) =
        values.iter().enumerate().find(|&(_, &w)| !(w.is_finite() && w >= 0.0))
    {
        return Err(LossError::InvalidParam {
            param,
            reason: format!("{w} for class {class} must be finite and >= 0"),
        });
    }
    Ok(())
}

/// `w · (-ln p_y)`; gradient `w · (p - onehot(y))`.
fn weighted_ce_row(
    z: ArrayView1<'_, f32>,
    y: usize,
    w: f64,
    e: &mut [f64],
    g: Option<&mut [f64]>,
) -> f64 {
    let stats = RowStats::new(z, e);
    if let Some(g) = g {
        for (gj, &ej) in g.iter_mut().zip(e.iter()) {
            *gj = w * ej * stats.inv_sum;
        }
        // p_y - 1 = -(1 - p_y), taken from the cancellation-free form.
        let p_y = e[y] * stats.inv_sum;
        g[y] = -w * stats.one_minus_prob(y, p_y);
    }
    -w * stats.log_prob(z[y])
}

/// `a Σ_k q_k (1 - p_k)^γ (-ln p_k)`.
///
/// Writing `u_k = 1 - p_k`, `l_k = ln p_k` and `r_k = l_k / u_k` (→ -1 as `u_k` → 0), the
/// derivative of the `k` term with respect to `l_k` (through `p_k = e^{l_k}`) is
/// `g_k = a q_k u_k^γ (γ p_k r_k - 1)`, and since `∂l_k/∂z_j = δ_kj - p_j` the row gradient
/// is `g_j - p_j Σ_k g_k`. This form has no `u^(γ-1)`, so `γ < 1` with `p → 1` stays finite.
fn focal_row(
    z: ArrayView1<'_, f32>,
    y: usize,
    a: f64,
    gamma: f64,
    eps: f64,
    e: &mut [f64],
    mut g: Option<&mut [f64]>,
) -> f64 {
    let stats = RowStats::new(z, e);
    let off = eps / e.len() as f64;
    let on = 1.0 - eps + off;
    let mut loss = 0.0;
    let mut g_sum = 0.0;
    for (j, &zj) in z.iter().enumerate() {
        // From here on `e` holds the probabilities.
        let p = e[j] * stats.inv_sum;
        e[j] = p;
        let q = if j == y { on } else { off };
        if q == 0.0 {
            if let Some(g) = g.as_deref_mut() {
                g[j] = 0.0;
            }
            continue;
        }
        let u = stats.one_minus_prob(j, p);
        let l = stats.log_prob(zj);
        let modulator = if gamma == 0.0 { 1.0 } else { u.powf(gamma) };
        loss -= q * modulator * l;
        if let Some(g) = g.as_deref_mut() {
            let r = if u > 0.0 { l / u } else { -1.0 };
            let gj = q * modulator * (gamma * p * r - 1.0);
            g[j] = gj;
            g_sum += gj;
        }
    }
    if let Some(g) = g {
        for (gj, &p) in g.iter_mut().zip(e.iter()) {
            *gj = a * (*gj - p * g_sum);
        }
    }
    a * loss
}

#[cfg(test)]
mod tests;
