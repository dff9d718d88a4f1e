//! The layers of an [`Mlp`](super::Mlp): initialisation and the inference forward pass.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per parallel inference task. The first hidden layer's activations of a block
/// (256 x 256 `f32`, 256 KiB) stay in L2, and each task's matrix products are large enough
/// for the packed kernel to run near its peak.
const PREDICT_ROWS: usize = 256;

/// One fully connected layer: `a -> a · weights + bias`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Dense {
    /// `n_in x n_out`, so a row-major batch times `weights` is the layer's pre-activation
    /// and the backward pass needs only transposed views, never a copy.
    pub(super) weights: Array2<f32>,
    /// `n_out`.
    pub(super) bias: Array1<f32>,
}

impl Dense {
    /// A zero layer (gradient and moment buffers have the layers' shapes).
    pub(super) fn zeros(n_in: usize, n_out: usize) -> Self {
        Self { weights: Array2::zeros((n_in, n_out)), bias: Array1::zeros(n_out) }
    }

    /// Weights drawn from `N(0, gain / n_in)`, zero bias.
    fn normal(n_in: usize, n_out: usize, gain: f64, rng: &mut ChaCha8Rng) -> Self {
        let std = (gain / n_in.max(1) as f64).sqrt();
        let weights =
            Array2::from_shape_simple_fn((n_in, n_out), || (std * standard_normal(rng)) as f32);
        Self { weights, bias: Array1::zeros(n_out) }
    }

    pub(super) fn n_in(&self) -> usize {
        self.weights.nrows()
    }

    pub(super) fn n_out(&self) -> usize {
        self.weights.ncols()
    }
}

/// A standard normal draw by Box-Muller (one of the pair; initialisation needs few draws).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // `1 - u` with `u` in [0, 1) lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Fresh layers for `widths = [n_features, hidden..., n_classes]`.
///
/// He (Kaiming) normal initialisation, `N(0, 2 / fan_in)`, for every layer that feeds a
/// ReLU, so activations keep their scale through the depth; the output layer feeds the
/// softmax, not a ReLU, and gets LeCun's `N(0, 1 / fan_in)`. Biases start at 0.
pub(super) fn init(widths: &[usize], rng: &mut ChaCha8Rng) -> Vec<Dense> {
    let n_layers = widths.len() - 1;
    widths
        .windows(2)
        .enumerate()
        .map(|(l, w)| Dense::normal(w[0], w[1], if l + 1 < n_layers { 2.0 } else { 1.0 }, rng))
        .collect()
}

/// `out = a · layer.weights + layer.bias` (rows of `out` broadcast the bias), written
/// into a caller-owned buffer.
pub(super) fn affine(a: ArrayView2<'_, f32>, layer: &Dense, mut out: ArrayViewMut2<'_, f32>) {
    for mut row in out.rows_mut() {
        row.assign(&layer.bias);
    }
    general_mat_mul(1.0, &a, &layer.weights, 1.0, &mut out);
}

/// Logits of every row of `x` (already checked: right width, finite values), in parallel
/// blocks of [`PREDICT_ROWS`] rows. Every row's result depends only on that row, so the
/// output is the same for any thread count.
pub(super) fn logits(layers: &[Dense], x: ArrayView2<'_, f32>) -> Array2<f32> {
    let n_out = layers.last().map_or(0, Dense::n_out);
    let mut out = Array2::<f32>::zeros((x.nrows(), n_out));
    if x.nrows() == 0 || n_out == 0 {
        return out;
    }
    let widths: Vec<usize> = layers.iter().map(Dense::n_out).collect();
    // Scratch for a single row (online scoring) stays small.
    let scratch_rows = PREDICT_ROWS.min(x.nrows());
    out.axis_chunks_iter_mut(Axis(0), PREDICT_ROWS).into_par_iter().enumerate().for_each_init(
        || {
            widths[..widths.len() - 1]
                .iter()
                .map(|&w| Array2::<f32>::zeros((scratch_rows, w)))
                .collect::<Vec<_>>()
        },
        |hidden, (block, out)| {
            let start = block * PREDICT_ROWS;
            let rows = x.slice_axis(Axis(0), Slice::from(start..start + out.nrows()));
            forward_block(layers, rows, hidden, out);
        },
    );
    out
}

/// Inference forward pass of one block: ReLU between layers, no dropout. `hidden` holds one
/// buffer per hidden layer with at least as many rows as the block.
fn forward_block(
    layers: &[Dense],
    x: ArrayView2<'_, f32>,
    hidden: &mut [Array2<f32>],
    out: ArrayViewMut2<'_, f32>,
) {
    let n = x.nrows();
    let (last, inner) = layers.split_last().expect("a network has at least one layer");
    for (l, layer) in inner.iter().enumerate() {
        let (done, rest) = hidden.split_at_mut(l);
        let input = if l == 0 { x } else { done[l - 1].slice_axis(Axis(0), Slice::from(..n)) };
        let mut a = rest[0].slice_axis_mut(Axis(0), Slice::from(..n));
        affine(input, layer, a.view_mut());
        a.mapv_inplace(relu);
    }
    let input = if inner.is_empty() {
        x
    } else {
        hidden[inner.len() - 1].slice_axis(Axis(0), Slice::from(..n))
    };
    affine(input, last, out);
}

/// `max(v, 0)`, except that NaN stays NaN (`f32::max` would turn it into 0): a NaN from an
/// overflow (`inf - inf`) must reach the logits, where it is reported, rather than vanish.
pub(super) fn relu(v: f32) -> f32 {
    if v < 0.0 { 0.0 } else { v }
}

/// Output `class` of the network at the single row `x`, and its gradient with respect to
/// `x` (ReLU's derivative taken as 0 at 0).
pub(super) fn input_gradient(layers: &[Dense], x: &[f32], class: usize) -> (f32, Vec<f32>) {
    let (last, inner) = layers.split_last().expect("a network has at least one layer");
    let mut a = Array1::from(x.to_vec());
    let mut active = Vec::with_capacity(inner.len());
    for layer in inner {
        let pre = a.dot(&layer.weights) + &layer.bias;
        active.push(pre.mapv(|v| if v > 0.0 { 1.0_f32 } else { 0.0 }));
        a = pre.mapv(relu);
    }
    let out = a.dot(&last.weights.column(class)) + last.bias[class];
    let mut g = last.weights.column(class).to_owned();
    for (layer, mask) in inner.iter().zip(&active).rev() {
        g = layer.weights.dot(&(g * mask));
    }
    (out, g.to_vec())
}

/// Number of parameters (weights and biases) of `layers`.
pub(super) fn n_parameters(layers: &[Dense]) -> usize {
    layers.iter().map(|d| d.weights.len() + d.bias.len()).sum()
}
