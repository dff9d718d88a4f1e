//! vigil-loss: the training losses of vigil's models, with gradients, class weights, a loss
//! recommendation from class counts, and temperature scaling.
//!
//! - [`Loss`]: cross-entropy, class-weighted cross-entropy and focal loss (per-class α, γ,
//!   label smoothing); [`Loss::loss_and_grad`] returns the batch-mean loss and its gradient
//!   with respect to the logits ([`Loss::loss_and_grad_into`] reuses a gradient buffer).
//! - [`class_weights`] with a [`WeightScheme`]: uniform, inverse frequency, or Cui et al.'s
//!   effective number.
//! - [`recommend`]: picks a [`Loss`] from the class counts by a rule table on the imbalance
//!   ratio and returns a [`Recommendation`] that says why.
//! - [`fit_temperature`]: fits a softmax temperature on validation logits and reports NLL
//!   and ECE before and after ([`TemperatureFit`]).
//! - [`softmax`], [`log_softmax`], [`apply_temperature`]: stable row-wise helpers.
//!
//! ```
//! use ndarray::array;
//! use vigil_loss::{Loss, recommend};
//!
//! // 900 normal rows, 60 scans, 40 brute-force attempts: ratio 22.5, so focal loss.
//! let rec = recommend(&[900, 60, 40]);
//! assert!(matches!(rec.loss, Loss::Focal { .. }), "{}", rec.reason);
//!
//! let logits = array![[2.0_f32, 0.5, -1.0], [0.0, 0.0, 3.0]];
//! let (loss, grad) = rec.loss.loss_and_grad(logits.view(), &[0, 2]).unwrap();
//! assert!(loss.is_finite() && loss > 0.0);
//! assert_eq!(grad.dim(), (2, 3));
//! ```
//!
//! # Invariants
//! - Losses are means over the batch rows (divided by `N`, also when weighted), and each
//!   gradient row sums to 0 (a softmax loss ignores a shift of all logits).
//! - Finite logits give finite losses and gradients: the arithmetic is `f64` per row after
//!   subtracting the row maximum, and `1 - p` is computed without cancellation.
//! - Inputs are validated before any arithmetic: an empty batch, a target that is not a
//!   column index, a non-finite logit or an invalid parameter is an error, never a panic or
//!   a NaN.
//! - [`class_weights`] returns one finite, positive weight per class, including classes
//!   with no rows, so indexing weights by a valid class never panics.
//! - [`fit_temperature`] returns `T` in `[0.05, 20]` and never a higher NLL than `T = 1` on
//!   the data it was fitted on.

mod error;
mod loss;
mod recommend;
mod softmax;
mod temperature;
mod weights;

pub use error::{LossError, Result};
pub use loss::Loss;
pub use recommend::{RECOMMENDED_BETA, Recommendation, recommend};
pub use softmax::{apply_temperature, log_softmax, softmax};
pub use temperature::{
    ECE_BINS, MAX_TEMPERATURE, MIN_TEMPERATURE, TemperatureFit, fit_temperature,
};
pub use weights::{WeightScheme, class_weights};
