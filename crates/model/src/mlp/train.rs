//! Mini-batch training of the layers: data-parallel shards of each batch, AdamW, early
//! stopping on the validation loss.

use std::ops::Range;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Axis, Slice, Zip};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use vigil_core::Dataset;
use vigil_core::metrics::{ConfusionMatrix, argmax_rows};
use vigil_loss::{Loss, LossError};

use super::network::{self, Dense, affine};
use super::{EpochStats, TrainingHistory, ValidMlpParams};
use crate::{ModelError, Result};

/// Rows per shard: each batch is cut into shards that run forward and backward in parallel
/// and whose gradients are then summed in shard order. A 128-row batch gives 2 shards, one
/// per core here, each still large enough for the packed matrix kernel.
const SHARD_ROWS: usize = 64;

/// Most shards per batch (larger batches get larger shards), which bounds the memory of the
/// per-shard gradient buffers.
const MAX_SHARDS: usize = 8;

/// Adam's moment decay rates and denominator guard (Kingma & Ba's defaults).
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f32 = 1e-8;

/// Elements per parallel task of the Adam update.
const ADAM_CHUNK: usize = 16 * 1024;

/// ChaCha streams of the one seed: initial weights, batch order, and one per shard for the
/// dropout masks. Separate streams keep each use reproducible on its own: changing the
/// dropout rate does not change the initial weights or the batch order.
const INIT_STREAM: u64 = 0;
const SHUFFLE_STREAM: u64 = 1;
const DROPOUT_STREAM: u64 = 2;

fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Number of shards of a batch of `rows` rows. A function of the batch size only, so the
/// arithmetic, and hence the model, is the same for any thread count.
fn n_shards(rows: usize) -> usize {
    rows.div_ceil(SHARD_ROWS).clamp(1, MAX_SHARDS)
}

/// Rows `i` of `n` balanced shards of `rows` rows.
fn shard_range(rows: usize, i: usize, n: usize) -> Range<usize> {
    rows * i / n..rows * (i + 1) / n
}

/// Rows of the largest shard of any batch of at most `batch_size` rows.
fn shard_capacity(batch_size: usize) -> usize {
    SHARD_ROWS.min(batch_size).max(batch_size.div_ceil(n_shards(batch_size)))
}

/// What every shard of every batch reads.
pub(super) struct Context<'a> {
    /// The training features, row-major.
    x: &'a [f32],
    labels: &'a [usize],
    weights: Option<&'a [f32]>,
    loss: &'a Loss,
    /// A hidden unit is dropped when its random `u32` is below this (0: no dropout).
    drop_below: u32,
    /// `1 / (1 - dropout)`: inverted dropout scales the kept units at training time, so
    /// inference needs no rescaling.
    keep_scale: f32,
}

impl<'a> Context<'a> {
    /// `x`: the training features, row-major, one row per label.
    pub(super) fn new(
        x: &'a [f32],
        labels: &'a [usize],
        weights: Option<&'a [f32]>,
        loss: &'a Loss,
        dropout: f64,
    ) -> Self {
        Self {
            x,
            labels,
            weights,
            loss,
            drop_below: ((dropout * 2.0_f64.powi(32)).round() as u64).min(u64::from(u32::MAX))
                as u32,
            keep_scale: (1.0 / (1.0 - dropout)) as f32,
        }
    }
}

/// One shard's buffers, reused by every batch: nothing is allocated per batch.
#[derive(Clone)]
pub(super) struct Shard {
    rng: ChaCha8Rng,
    /// `acts[0]`: the shard's input rows; `acts[l + 1]`: the output of layer `l` (after ReLU
    /// and dropout for a hidden layer, the logits for the last).
    acts: Vec<Array2<f32>>,
    /// `deltas[l]`: gradient of the batch loss with respect to the output of layer `l`,
    /// turned in place into the gradient with respect to its pre-activation.
    deltas: Vec<Array2<f32>>,
    pub(super) grads: Vec<Dense>,
    mask: Vec<u32>,
    targets: Vec<usize>,
    /// Sum over the shard's rows of `weight * loss` in the last batch.
    pub(super) loss_sum: f64,
}

impl Shard {
    pub(super) fn new(layers: &[Dense], rows: usize, rng: ChaCha8Rng) -> Self {
        let mut acts = vec![Array2::zeros((rows, layers[0].n_in()))];
        acts.extend(layers.iter().map(|d| Array2::zeros((rows, d.n_out()))));
        let deltas = layers.iter().map(|d| Array2::zeros((rows, d.n_out()))).collect();
        let widest_hidden = layers[..layers.len() - 1].iter().map(Dense::n_out).max().unwrap_or(0);
        Self {
            rng,
            acts,
            deltas,
            grads: layers.iter().map(|d| Dense::zeros(d.n_in(), d.n_out())).collect(),
            mask: vec![0; rows * widest_hidden],
            targets: vec![0; rows],
            loss_sum: 0.0,
        }
    }

    /// Forward and backward pass over `rows` (a shard of a batch of `batch_rows` rows):
    /// leaves in `grads` this shard's part of the gradient of the batch objective
    /// `(1 / batch_rows) Σ w_i L_i`, so the shards' gradients add up to the batch's.
    pub(super) fn run(
        &mut self,
        layers: &[Dense],
        rows: &[usize],
        batch_rows: usize,
        cx: &Context<'_>,
    ) -> Result<(), LossError> {
        let b = rows.len();
        let p = layers[0].n_in();
        let n_layers = layers.len();
        for ((mut dst, &r), target) in
            self.acts[0].rows_mut().into_iter().zip(rows).zip(&mut self.targets)
        {
            dst.as_slice_mut()
                .expect("a row of a standard-layout array")
                .copy_from_slice(&cx.x[r * p..(r + 1) * p]);
            *target = cx.labels[r];
        }

        for (l, layer) in layers.iter().enumerate() {
            let (done, rest) = self.acts.split_at_mut(l + 1);
            let mut out = rest[0].slice_axis_mut(Axis(0), Slice::from(..b));
            affine(done[l].slice_axis(Axis(0), Slice::from(..b)), layer, out.view_mut());
            if l + 1 < n_layers {
                let out = out.as_slice_mut().expect("leading rows of a standard-layout array");
                relu_dropout(out, &mut self.mask[..out.len()], &mut self.rng, cx);
            }
        }

        let logits = self.acts[n_layers].slice_axis(Axis(0), Slice::from(..b));
        let targets = &self.targets[..b];
        let mut delta = self.deltas[n_layers - 1].slice_axis_mut(Axis(0), Slice::from(..b));
        let mean = cx.loss.loss_and_grad_into(logits, targets, delta.view_mut())?;
        // The loss's gradient is that of its mean over the shard's `b` rows.
        let scale = b as f32 / batch_rows as f32;
        match cx.weights {
            None => {
                self.loss_sum = f64::from(mean) * b as f64;
                delta *= scale;
            }
            Some(weights) => {
                self.loss_sum = 0.0;
                for (i, (mut row, &r)) in delta.rows_mut().into_iter().zip(rows).enumerate() {
                    row *= weights[r] * scale;
                    let row_loss = cx
                        .loss
                        .loss(logits.slice_axis(Axis(0), Slice::from(i..i + 1)), &targets[i..=i])?;
                    self.loss_sum += f64::from(weights[r]) * f64::from(row_loss);
                }
            }
        }

        for l in (0..n_layers).rev() {
            let (below, rest) = self.deltas.split_at_mut(l);
            let delta = rest[0].slice_axis(Axis(0), Slice::from(..b));
            let grad = &mut self.grads[l];
            general_mat_mul(
                1.0,
                &self.acts[l].slice_axis(Axis(0), Slice::from(..b)).t(),
                &delta,
                0.0,
                &mut grad.weights,
            );
            grad.bias.fill(0.0);
            for row in delta.rows() {
                grad.bias += &row;
            }
            if l > 0 {
                let mut prev = below[l - 1].slice_axis_mut(Axis(0), Slice::from(..b));
                general_mat_mul(1.0, &delta, &layers[l].weights.t(), 0.0, &mut prev);
                // Back through dropout and ReLU: an output > 0 is a unit that was kept and
                // active, whose derivative is the dropout scale; every other unit passes 0.
                let scale = if cx.drop_below > 0 { cx.keep_scale } else { 1.0 };
                Zip::from(&mut prev)
                    .and(self.acts[l].slice_axis(Axis(0), Slice::from(..b)))
                    .for_each(|d, &a| {
                        *d = if a > 0.0 { *d * scale } else { 0.0 };
                    });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
impl Shard {
    /// Which hidden units were positive in the last run's first `rows` rows, layer by layer.
    pub(super) fn active_units(&self, rows: usize) -> Vec<bool> {
        let hidden = &self.acts[1..self.acts.len() - 1];
        hidden
            .iter()
            .flat_map(|a| {
                a.slice_axis(Axis(0), Slice::from(..rows))
                    .iter()
                    .map(|&v| v > 0.0)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// ReLU, then inverted dropout with a fresh mask from the shard's stream.
fn relu_dropout(out: &mut [f32], mask: &mut [u32], rng: &mut ChaCha8Rng, cx: &Context<'_>) {
    if cx.drop_below == 0 {
        for v in out {
            *v = network::relu(*v);
        }
        return;
    }
    rng.fill(mask);
    for (v, &m) in out.iter_mut().zip(mask.iter()) {
        *v = if m < cx.drop_below { 0.0 } else { network::relu(*v) * cx.keep_scale };
    }
}

/// AdamW (Loshchilov & Hutter): Adam on the loss gradient, plus a decoupled weight decay
/// `w <- w (1 - lr * weight_decay)` on the weight matrices (not the biases) at every step.
struct Adam {
    m: Vec<Dense>,
    v: Vec<Dense>,
    steps: u64,
    learning_rate: f64,
    weight_decay: f64,
}

impl Adam {
    fn new(layers: &[Dense], learning_rate: f64, weight_decay: f64) -> Self {
        let zeros = || layers.iter().map(|d| Dense::zeros(d.n_in(), d.n_out())).collect();
        Self { m: zeros(), v: zeros(), steps: 0, learning_rate, weight_decay }
    }

    fn step(&mut self, layers: &mut [Dense], grads: &[Dense]) {
        self.steps += 1;
        let t = self.steps as f64;
        let coefs = Coefs {
            step: (self.learning_rate / (1.0 - BETA1.powf(t))) as f32,
            inv_sqrt_bc2: (1.0 / (1.0 - BETA2.powf(t)).sqrt()) as f32,
            decay: 1.0,
        };
        let weight_coefs =
            Coefs { decay: (1.0 - self.learning_rate * self.weight_decay) as f32, ..coefs };
        for (((layer, grad), m), v) in
            layers.iter_mut().zip(grads).zip(&mut self.m).zip(&mut self.v)
        {
            adam_update(
                slice_mut(&mut layer.weights),
                grad.weights.as_slice().expect("standard layout"),
                slice_mut(&mut m.weights),
                slice_mut(&mut v.weights),
                weight_coefs,
            );
            adam_update(
                layer.bias.as_slice_mut().expect("contiguous"),
                grad.bias.as_slice().expect("contiguous"),
                m.bias.as_slice_mut().expect("contiguous"),
                v.bias.as_slice_mut().expect("contiguous"),
                coefs,
            );
        }
    }
}

fn slice_mut(a: &mut Array2<f32>) -> &mut [f32] {
    a.as_slice_mut().expect("standard layout")
}

/// One step's Adam coefficients (PyTorch's formulation of the bias corrections).
#[derive(Clone, Copy)]
struct Coefs {
    /// `lr / (1 - β1^t)`.
    step: f32,
    /// `1 / sqrt(1 - β2^t)`.
    inv_sqrt_bc2: f32,
    /// `1 - lr * weight_decay` for weights, 1 for biases.
    decay: f32,
}

/// Element-wise, so chunking it over threads gives the same bits as a serial loop.
fn adam_update(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: Coefs) {
    let (b1, b2) = (BETA1 as f32, BETA2 as f32);
    w.par_chunks_mut(ADAM_CHUNK)
        .zip(g.par_chunks(ADAM_CHUNK))
        .zip(m.par_chunks_mut(ADAM_CHUNK))
        .zip(v.par_chunks_mut(ADAM_CHUNK))
        .for_each(|(((w, g), m), v)| {
            for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                let denom = v.sqrt() * c.inv_sqrt_bc2 + EPSILON;
                *w = *w * c.decay - c.step * *m / denom;
            }
        });
}

/// Trains fresh layers on `train` (inputs already checked); `weights` are per-row sample
/// weights if the caller gave any.
pub(super) fn fit(
    params: &ValidMlpParams,
    train: &Dataset,
    weights: Option<&[f32]>,
    validation: Option<&Dataset>,
) -> Result<(Vec<Dense>, TrainingHistory)> {
    let (n, p, k) = (train.n_rows(), train.n_features(), train.classes().len());
    let loss = params.loss();
    loss.check(k).map_err(ModelError::InvalidLoss)?;
    let features = train.features();
    let x = features.as_standard_layout();
    let cx = Context::new(
        x.as_slice().expect("standard layout"),
        train.labels(),
        weights,
        loss,
        params.dropout(),
    );

    let widths: Vec<usize> =
        std::iter::once(p).chain(params.hidden().iter().copied()).chain([k]).collect();
    let mut layers = network::init(&widths, &mut rng(params.seed(), INIT_STREAM));
    let batch_size = params.batch_size().min(n);
    let capacity = shard_capacity(batch_size);
    let mut shards: Vec<Shard> = (0..n_shards(batch_size))
        .map(|i| Shard::new(&layers, capacity, rng(params.seed(), DROPOUT_STREAM + i as u64)))
        .collect();
    let mut adam = Adam::new(&layers, params.learning_rate(), params.weight_decay());
    let mut order: Vec<usize> = (0..n).collect();
    let mut shuffle_rng = rng(params.seed(), SHUFFLE_STREAM);

    let early_stopping = validation.is_some() && params.patience().is_some();
    let mut best_layers = if early_stopping { layers.clone() } else { Vec::new() };
    let mut best_loss = f64::INFINITY;
    let mut history = TrainingHistory { epochs: Vec::new(), best_epoch: 0, stopped_early: false };
    for epoch in 1..=params.max_epochs() {
        order.shuffle(&mut shuffle_rng);
        let mut loss_sum = 0.0;
        for batch in order.chunks(batch_size) {
            let n_used = n_shards(batch.len());
            let used = &mut shards[..n_used];
            used.par_iter_mut()
                .enumerate()
                .map(|(i, shard)| {
                    shard.run(
                        &layers,
                        &batch[shard_range(batch.len(), i, n_used)],
                        batch.len(),
                        &cx,
                    )
                })
                .collect::<std::result::Result<(), LossError>>()
                .map_err(|e| training_error(e, epoch))?;
            let (first, rest) = used.split_at_mut(1);
            for other in rest.iter() {
                for (g, o) in first[0].grads.iter_mut().zip(&other.grads) {
                    g.weights += &o.weights;
                    g.bias += &o.bias;
                }
            }
            adam.step(&mut layers, &first[0].grads);
            loss_sum += used.iter().map(|s| s.loss_sum).sum::<f64>();
        }

        let mut stats = EpochStats {
            epoch,
            train_loss: loss_sum / n as f64,
            validation_loss: None,
            validation_accuracy: None,
            validation_macro_f1: None,
        };
        let mut stop = false;
        if let Some(valid) = validation {
            let (v_loss, accuracy, macro_f1) = evaluate(&layers, valid, loss, epoch)?;
            (stats.validation_loss, stats.validation_accuracy, stats.validation_macro_f1) =
                (Some(v_loss), Some(accuracy), Some(macro_f1));
            if v_loss < best_loss {
                (best_loss, history.best_epoch) = (v_loss, epoch);
                if early_stopping {
                    best_layers.clone_from(&layers);
                }
            } else if params
                .patience()
                .is_some_and(|patience| epoch - history.best_epoch >= patience)
            {
                stop = true;
            }
        }
        history.epochs.push(stats);
        if stop {
            history.stopped_early = true;
            break;
        }
    }
    if early_stopping {
        layers = best_layers;
    } else {
        history.best_epoch = history.epochs.len();
    }
    Ok((layers, history))
}

/// Validation loss (the training loss function, unweighted by rows), accuracy and
/// macro-F1 of the argmax.
fn evaluate(
    layers: &[Dense],
    valid: &Dataset,
    loss: &Loss,
    epoch: usize,
) -> Result<(f64, f64, f64)> {
    let logits = network::logits(layers, valid.features());
    let v_loss = loss.loss(logits.view(), valid.labels()).map_err(|e| training_error(e, epoch))?;
    let predicted = argmax_rows(logits.view());
    let confusion = ConfusionMatrix::new(logits.ncols(), valid.labels(), &predicted)
        .expect("validation labels index the class set and predictions its columns");
    Ok((f64::from(v_loss), confusion.accuracy(), confusion.macro_f1()))
}

/// A non-finite logit means the optimisation blew up; anything else is the loss's own
/// complaint (its parameters were checked against the class count before training).
fn training_error(e: LossError, epoch: usize) -> ModelError {
    match e {
        LossError::NonFiniteLogit { .. } => ModelError::Diverged { epoch },
        other => ModelError::InvalidLoss(other),
    }
}
