//! vigil-model: the [`Classifier`] API and vigil's own tree ensembles.
//!
//! - [`Classifier`]: a fitted model; `logits`, `predict_proba` (softmax of the logits) and
//!   `predict` on `ndarray` views. [`Fit`]: checked hyper-parameters that fit a model on a
//!   [`vigil_core::Dataset`], with optional sample weights and validation set.
//! - [`GradientBoosting`] ([`GbdtParams`] -> `check()` -> [`ValidGbdtParams`]): histogram
//!   gradient-boosted trees, one tree per class per round on the softmax cross-entropy,
//!   leaf-wise growth, L2-regularised Newton leaves, early stopping on a validation set.
//! - [`RandomForest`] ([`ForestParams`] -> `check()` -> [`ValidForestParams`]): bootstrap
//!   Gini trees on the same histogram bins, class distributions in the leaves.
//! - [`Mlp`] ([`MlpParams`] -> `check()` -> [`ValidMlpParams`]): the seed's ReLU network
//!   (hidden `[256, 128, 64]`, dropout) trained with AdamW on any vigil-loss `Loss`, early
//!   stopping on the validation loss with the best epoch's weights restored
//!   ([`TrainingHistory`]); expects standardised input.
//! - [`Linear`] ([`LinearParams`] -> `check()` -> [`ValidLinearParams`]): the linear
//!   baseline, L2 multinomial logistic regression fitted by smartcore's L-BFGS and stored as
//!   plain coefficients (`logits = x · Wᵀ + b`); no sample weights.
//! - [`Artifact`]: standardiser + [`Model`] + temperature + thresholds + feature schema and
//!   class set, in one versioned bincode file ([`Artifact::to_bytes`], [`Artifact::from_bytes`]).
//! - [`pipeline::train`]: the recipe shared by evaluation and retraining: standardise, balance
//!   the training split, pick the loss, fit, calibrate the temperature, fit the thresholds.
//! - [`ModelError`]: every failure, from a parameter out of range to a NaN in the input.
//!
//! ```
//! use ndarray::Array2;
//! use vigil_core::{ClassSet, Dataset};
//! use vigil_model::{Classifier, Fit, GbdtParams};
//!
//! // Class 1 when x0 > 0.5: a single split learns it.
//! let x = Array2::from_shape_fn((200, 2), |(r, c)| if c == 0 { (r % 10) as f32 / 10.0 } else { 1.0 });
//! let labels: Vec<usize> = x.column(0).iter().map(|&v| usize::from(v > 0.5)).collect();
//! let names = vec!["x0".to_owned(), "x1".to_owned()];
//! let data = Dataset::new(x, labels, names, ClassSet::new(["normal", "attack"])?)?;
//!
//! let model = GbdtParams::new().max_rounds(20).min_samples_leaf(5).check()?.fit(&data)?;
//! let proba = model.predict_proba(data.features())?;
//! assert_eq!(model.predict(data.features())?, data.labels());
//! assert!((proba.row(0).sum() - 1.0).abs() < 1e-6);
//! assert!(model.logits(Array2::zeros((1, 3)).view()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Invariants
//! - The softmax of a model's `logits` is its `predict_proba`, row for row; probabilities
//!   are finite and sum to 1.
//! - Input of the wrong width, or with a NaN or infinite value, is an error naming the
//!   problem, never a panic; so is a deserialised model whose trees do not fit together.
//! - Fitting is deterministic: the same parameters (seed included) and data give the same
//!   model and serialised bytes, whatever rayon's thread count. Every parallel sum is split
//!   into fixed pieces and combined in a fixed order.
//! - A tree's split on bin `b` is stored as the raw threshold `x <= t[b]`, which sends every
//!   training row the same way as the bin did: prediction needs no binning.

mod artifact;
mod classifier;
mod error;
mod linear;
mod mlp;
pub mod pipeline;
mod trees;

pub use artifact::{ARTIFACT_FORMAT, Artifact, Explanation, FeatureSchema, Model};
pub use classifier::{Classifier, Fit};
pub use error::{ModelError, Result};
pub use linear::{Linear, LinearParams, ValidLinearParams};
pub use mlp::{EpochStats, Mlp, MlpParams, TrainingHistory, ValidMlpParams};
pub use trees::{
    ForestParams, GbdtParams, GradientBoosting, RandomForest, ValidForestParams, ValidGbdtParams,
};
