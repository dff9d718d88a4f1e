//! The multi-layer perceptron: the seed's network (`inputs -> 256 -> 128 -> 64 -> classes`,
//! ReLU, dropout), trained with AdamW on mini-batches and any vigil-loss [`Loss`], with early
//! stopping on a validation set.

mod network;
mod train;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use vigil_core::Dataset;
use vigil_loss::Loss;

use self::network::Dense;
use crate::classifier::{Classifier, Fit, check_input, check_training};
use crate::{ModelError, Result};

/// Largest hidden-layer width accepted by [`MlpParams::check`].
const MAX_WIDTH: usize = 1 << 16;

/// Most hidden layers accepted by [`MlpParams::check`].
const MAX_HIDDEN_LAYERS: usize = 32;

/// Checked hyper-parameters of [`Mlp`]; build them with [`MlpParams`]. Deserialising them
/// runs the same checks, so a hand-edited file cannot smuggle in a batch size of 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ParamsRepr")]
pub struct ValidMlpParams {
    hidden: Vec<usize>,
    dropout: f64,
    learning_rate: f64,
    weight_decay: f64,
    batch_size: usize,
    max_epochs: usize,
    patience: Option<usize>,
    seed: u64,
    #[serde(with = "loss_serde")]
    loss: Loss,
}

/// Hyper-parameters of [`Mlp`] (builder); [`MlpParams::check`] validates them.
///
/// Defaults are the seed's network and optimiser (mini-xdr's `XDRThreatDetector` as loaded,
/// trained like its `enhanced_training_pipeline`): hidden layers `[256, 128, 64]`, dropout
/// 0.2, AdamW with learning rate 1e-3 and weight decay 0.01, batches of 128 rows, at most
/// 100 epochs, cross-entropy, seed 0; early stopping after 10 epochs without a lower
/// validation loss (the seed waited 15, but with its learning-rate schedule, which vigil
/// does not have).
///
/// ```
/// use vigil_model::MlpParams;
///
/// let params = MlpParams::new().hidden([32, 16]).dropout(0.1).max_epochs(20).check().unwrap();
/// assert_eq!(params.hidden(), [32, 16]);
/// assert!(MlpParams::new().dropout(1.0).check().is_err());
/// assert!(MlpParams::new().hidden([64, 0]).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ParamsRepr")]
pub struct MlpParams(ValidMlpParams);

/// The serialised fields of [`ValidMlpParams`] and [`MlpParams`], checked on the way into
/// the former and taken as they are into the latter.
#[derive(Deserialize)]
struct ParamsRepr {
    hidden: Vec<usize>,
    dropout: f64,
    learning_rate: f64,
    weight_decay: f64,
    batch_size: usize,
    max_epochs: usize,
    patience: Option<usize>,
    seed: u64,
    #[serde(with = "loss_serde")]
    loss: Loss,
}

impl From<ParamsRepr> for MlpParams {
    fn from(r: ParamsRepr) -> Self {
        Self(ValidMlpParams {
            hidden: r.hidden,
            dropout: r.dropout,
            learning_rate: r.learning_rate,
            weight_decay: r.weight_decay,
            batch_size: r.batch_size,
            max_epochs: r.max_epochs,
            patience: r.patience,
            seed: r.seed,
            loss: r.loss,
        })
    }
}

impl TryFrom<ParamsRepr> for ValidMlpParams {
    type Error = ModelError;

    fn try_from(r: ParamsRepr) -> Result<Self> {
        MlpParams::from(r).check()
    }
}

impl Default for MlpParams {
    fn default() -> Self {
        Self(ValidMlpParams {
            hidden: vec![256, 128, 64],
            dropout: 0.2,
            learning_rate: 1e-3,
            weight_decay: 0.01,
            batch_size: 128,
            max_epochs: 100,
            patience: Some(10),
            seed: 0,
            loss: Loss::CrossEntropy,
        })
    }
}

impl MlpParams {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Widths of the hidden layers, input side first, each in `1..=65536`; at most 32
    /// layers. No hidden layer at all gives multinomial logistic regression.
    pub fn hidden(mut self, widths: impl Into<Vec<usize>>) -> Self {
        self.0.hidden = widths.into();
        self
    }

    /// Probability of zeroing a hidden unit during training (inverted dropout: kept units
    /// are scaled by `1 / (1 - dropout)`, so prediction uses the weights as they are), in
    /// `[0, 1)`.
    pub fn dropout(mut self, value: f64) -> Self {
        self.0.dropout = value;
        self
    }

    /// Adam's step size, in `(0, 1]`.
    pub fn learning_rate(mut self, value: f64) -> Self {
        self.0.learning_rate = value;
        self
    }

    /// Decoupled (AdamW) weight decay of the weight matrices, `>= 0` with
    /// `learning_rate * weight_decay < 1`; biases are not decayed.
    pub fn weight_decay(mut self, value: f64) -> Self {
        self.0.weight_decay = value;
        self
    }

    /// Rows per mini-batch, at least 1 (a training set smaller than this is one batch).
    pub fn batch_size(mut self, value: usize) -> Self {
        self.0.batch_size = value;
        self
    }

    /// Maximum number of passes over the training rows, at least 1.
    pub fn max_epochs(mut self, value: usize) -> Self {
        self.0.max_epochs = value;
        self
    }

    /// With a validation set: stop after this many epochs without a lower validation loss
    /// and keep the best epoch's weights (`None`: run every epoch, keep the last), at
    /// least 1.
    pub fn patience(mut self, value: Option<usize>) -> Self {
        self.0.patience = value;
        self
    }

    /// Seed of the initial weights, the batch order and the dropout masks.
    pub fn seed(mut self, value: u64) -> Self {
        self.0.seed = value;
        self
    }

    /// The training loss (e.g. from [`vigil_loss::recommend`]); a loss with one weight per
    /// class must have as many weights as the training set has classes.
    pub fn loss(mut self, value: Loss) -> Self {
        self.0.loss = value;
        self
    }

    /// Validates every parameter; the error names the first one out of range.
    pub fn check(&self) -> Result<ValidMlpParams> {
        let p = &self.0;
        let invalid =
            |name, value: String, reason| Err(ModelError::InvalidParam { name, value, reason });
        if p.hidden.len() > MAX_HIDDEN_LAYERS {
            return invalid("hidden", format!("{:?}", p.hidden), "must have at most 32 layers");
        }
        if p.hidden.iter().any(|w| !(1..=MAX_WIDTH).contains(w)) {
            return invalid(
                "hidden",
                format!("{:?}", p.hidden),
                "every width must be in 1..=65536",
            );
        }
        if !(0.0..1.0).contains(&p.dropout) {
            return invalid("dropout", p.dropout.to_string(), "must be in [0, 1)");
        }
        if !(p.learning_rate > 0.0 && p.learning_rate <= 1.0) {
            return invalid("learning_rate", p.learning_rate.to_string(), "must be in (0, 1]");
        }
        if !(p.weight_decay.is_finite() && p.weight_decay >= 0.0) {
            return invalid("weight_decay", p.weight_decay.to_string(), "must be finite and >= 0");
        }
        if p.learning_rate * p.weight_decay >= 1.0 {
            return invalid(
                "weight_decay",
                p.weight_decay.to_string(),
                "learning_rate * weight_decay must be < 1",
            );
        }
        if p.batch_size == 0 {
            return invalid("batch_size", "0".into(), "must be at least 1");
        }
        if p.max_epochs == 0 {
            return invalid("max_epochs", "0".into(), "must be at least 1");
        }
        if p.patience == Some(0) {
            return invalid("patience", "0".into(), "must be at least 1");
        }
        // The class count is known only at fit time; everything else about the loss
        // (finite non-negative weights, γ, label smoothing) is checked here.
        let own_classes = match &p.loss {
            Loss::CrossEntropy => 0,
            Loss::Weighted { weights } => weights.len(),
            Loss::Focal { alpha, .. } => alpha.len(),
        };
        p.loss.check(own_classes).map_err(ModelError::InvalidLoss)?;
        Ok(p.clone())
    }
}

impl ValidMlpParams {
    /// Widths of the hidden layers.
    pub fn hidden(&self) -> &[usize] {
        &self.hidden
    }

    /// Dropout probability of the hidden units.
    pub fn dropout(&self) -> f64 {
        self.dropout
    }

    /// Adam's step size.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// Decoupled weight decay of the weight matrices.
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
    }

    /// Rows per mini-batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Maximum number of epochs.
    pub fn max_epochs(&self) -> usize {
        self.max_epochs
    }

    /// Early-stopping patience in epochs, if enabled.
    pub fn patience(&self) -> Option<usize> {
        self.patience
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The training loss.
    pub fn loss(&self) -> &Loss {
        &self.loss
    }
}

/// [`Loss`] serialises internally tagged (`{"kind": "focal", ...}`), which needs a
/// self-describing format: bincode cannot read it back. The model stores it externally
/// tagged through this mirror instead, which every serde format can round-trip.
mod loss_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use vigil_loss::Loss;

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Repr {
        CrossEntropy,
        Weighted { weights: Vec<f32> },
        Focal { alpha: Vec<f32>, gamma: f32, label_smoothing: f32 },
    }

    pub(super) fn serialize<S: Serializer>(loss: &Loss, serializer: S) -> Result<S::Ok, S::Error> {
        match loss.clone() {
            Loss::CrossEntropy => Repr::CrossEntropy,
            Loss::Weighted { weights } => Repr::Weighted { weights },
            Loss::Focal { alpha, gamma, label_smoothing } => {
                Repr::Focal { alpha, gamma, label_smoothing }
            }
        }
        .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Loss, D::Error> {
        Ok(match Repr::deserialize(deserializer)? {
            Repr::CrossEntropy => Loss::CrossEntropy,
            Repr::Weighted { weights } => Loss::Weighted { weights },
            Repr::Focal { alpha, gamma, label_smoothing } => {
                Loss::Focal { alpha, gamma, label_smoothing }
            }
        })
    }
}

/// What happened in one epoch of training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// The epoch, counted from 1.
    pub epoch: usize,
    /// Mean over the training rows of `sample weight * loss`, each row's loss taken when its
    /// batch was trained on (so with dropout active and the weights of that moment), as
    /// Keras reports it.
    pub train_loss: f64,
    /// The training loss function on the validation set after the epoch (no dropout, no
    /// sample weights); the early-stopping criterion.
    pub validation_loss: Option<f64>,
    /// Validation accuracy of the argmax after the epoch.
    pub validation_accuracy: Option<f64>,
    /// Validation macro-F1 of the argmax after the epoch.
    pub validation_macro_f1: Option<f64>,
}

/// The training run of an [`Mlp`], for reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingHistory {
    /// One entry per epoch run, in order.
    pub epochs: Vec<EpochStats>,
    /// The epoch (from 1) whose weights the model holds: with a validation set and a
    /// patience, the one with the lowest validation loss; otherwise the last.
    pub best_epoch: usize,
    /// Whether training stopped before `max_epochs` for lack of improvement.
    pub stopped_early: bool,
}

impl TrainingHistory {
    /// The statistics of [`TrainingHistory::best_epoch`].
    pub fn best(&self) -> Option<&EpochStats> {
        self.epochs.get(self.best_epoch.checked_sub(1)?)
    }
}

/// A fully connected ReLU network with a linear output layer; the logits are that layer's
/// output and `predict_proba` their softmax.
///
/// **Input must be standardised**: fit a [`vigil_core::Standardizer`] on the training split
/// and apply it to every split and to prediction input. The network does not scale its
/// input: the initialisation and the learning rate assume features of unit scale, and raw
/// NSL-KDD byte counts (up to 1e9) would saturate it.
///
/// Training: He-initialised weights (`N(0, 2 / fan_in)`, LeCun's `N(0, 1 / fan_in)` for the
/// output layer), mini-batches in a seeded random order, inverted dropout after every hidden
/// ReLU, AdamW (β = 0.9, 0.999, ε = 1e-8, weight decay decoupled from the gradient and
/// applied to the weight matrices only), the gradient of `(1 / B) Σ w_i L_i` over a batch of
/// `B` rows with sample weights `w_i` and any [`Loss`] `L`. With a validation set and a
/// patience, training stops once the validation loss has not improved for `patience` epochs
/// and the model keeps a copy of the best epoch's weights.
///
/// Why the validation *loss* and not macro-F1: it is the quantity the optimiser minimises
/// (so it is smooth and falls steadily until overfitting starts), it is a proper scoring
/// rule (what temperature scaling and the per-class thresholds fitted later need), and it
/// does not jump when one of NSL-KDD's ~10 validation U2R rows flips, as macro-F1 does.
/// Accuracy and macro-F1 are recorded per epoch in the [`TrainingHistory`] for reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MlpRepr")]
pub struct Mlp {
    params: ValidMlpParams,
    n_features: usize,
    n_classes: usize,
    /// Input layer first; every layer but the last is followed by a ReLU.
    layers: Vec<Dense>,
    history: TrainingHistory,
}

/// The serialised form, checked before it becomes an [`Mlp`].
#[derive(Deserialize)]
struct MlpRepr {
    params: ValidMlpParams,
    n_features: usize,
    n_classes: usize,
    layers: Vec<Dense>,
    history: TrainingHistory,
}

impl TryFrom<MlpRepr> for Mlp {
    type Error = ModelError;

    fn try_from(r: MlpRepr) -> Result<Self> {
        let corrupt = |reason: String| Err(ModelError::Corrupt { reason });
        if r.n_classes < 2 {
            return corrupt(format!("{} classes", r.n_classes));
        }
        let widths: Vec<usize> = std::iter::once(r.n_features)
            .chain(r.params.hidden.iter().copied())
            .chain([r.n_classes])
            .collect();
        if r.layers.len() + 1 != widths.len() {
            return corrupt(format!(
                "{} layers for {} hidden widths",
                r.layers.len(),
                r.params.hidden.len()
            ));
        }
        for (l, (layer, w)) in r.layers.iter().zip(widths.windows(2)).enumerate() {
            if layer.weights.dim() != (w[0], w[1]) || layer.bias.len() != w[1] {
                return corrupt(format!(
                    "layer {l} has weights {:?} and {} biases, expected ({}, {})",
                    layer.weights.dim(),
                    layer.bias.len(),
                    w[0],
                    w[1]
                ));
            }
            if !(layer.weights.iter().chain(&layer.bias).all(|v| v.is_finite())) {
                return corrupt(format!("layer {l} has a non-finite parameter"));
            }
        }
        Ok(Self {
            params: r.params,
            n_features: r.n_features,
            n_classes: r.n_classes,
            layers: r.layers,
            history: r.history,
        })
    }
}

impl Mlp {
    /// The parameters it was fitted with.
    pub fn params(&self) -> &ValidMlpParams {
        &self.params
    }

    /// Per-epoch losses and validation scores, and which epoch's weights the model holds.
    pub fn history(&self) -> &TrainingHistory {
        &self.history
    }

    /// Number of trained parameters (weights and biases).
    pub fn n_parameters(&self) -> usize {
        network::n_parameters(&self.layers)
    }
}

impl Classifier for Mlp {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The output layer's values. Fails on input of the wrong width or with a non-finite
    /// value, and if an input is so far out of scale (e.g. not standardised, `1e30`) that a
    /// logit overflows `f32`.
    fn logits(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        check_input("input", x, self.n_features)?;
        let z = network::logits(&self.layers, x);
        // A huge but finite input can overflow a logit; the softmax of an infinite logit
        // is NaN, so this is an error rather than a silent NaN probability.
        check_input("output logit", z.view(), self.n_classes)?;
        Ok(z)
    }
}

impl Mlp {
    /// Integrated gradients of class `class`'s logit along the straight line from the
    /// reference row `r` to `x`, with `steps` midpoint samples: each feature's `(x - r)` times
    /// its mean gradient. Returns the logit at `x`, at `r`, and the contributions, which sum
    /// to the difference up to the midpoint rule's error (small for a piecewise-linear
    /// ReLU network; measured in the tests).
    ///
    /// # Panics
    /// If a row is not `n_features` wide, `class` is out of range or `steps` is 0.
    pub fn integrated_gradients(
        &self,
        x: &[f32],
        r: &[f32],
        class: usize,
        steps: usize,
    ) -> (f64, f64, Vec<f64>) {
        assert!(x.len() == self.n_features && r.len() == self.n_features && class < self.n_classes);
        assert!(steps > 0, "integrated gradients need at least one step");
        let mut mean = vec![0.0_f64; self.n_features];
        let mut point = vec![0.0_f32; self.n_features];
        for step in 0..steps {
            let alpha = (step as f32 + 0.5) / steps as f32;
            for ((p, &xi), &ri) in point.iter_mut().zip(x).zip(r) {
                *p = ri + alpha * (xi - ri);
            }
            let (_, g) = network::input_gradient(&self.layers, &point, class);
            for (m, gi) in mean.iter_mut().zip(g) {
                *m += f64::from(gi) / steps as f64;
            }
        }
        let contributions = mean
            .iter()
            .zip(x.iter().zip(r))
            .map(|(m, (&xi, &ri))| m * f64::from(xi - ri))
            .collect();
        let at_x = f64::from(network::input_gradient(&self.layers, x, class).0);
        let at_r = f64::from(network::input_gradient(&self.layers, r, class).0);
        (at_x, at_r, contributions)
    }
}

impl Fit for ValidMlpParams {
    type Model = Mlp;

    fn fit_weighted(
        &self,
        train: &Dataset,
        weights: Option<&[f32]>,
        validation: Option<&Dataset>,
    ) -> Result<Mlp> {
        let checked = check_training(train, weights, validation)?;
        let (layers, history) =
            train::fit(self, train, weights.map(|_| checked.as_slice()), validation)?;
        Ok(Mlp {
            params: self.clone(),
            n_features: train.n_features(),
            n_classes: train.classes().len(),
            layers,
            history,
        })
    }
}

impl Fit for MlpParams {
    type Model = Mlp;

    fn fit_weighted(
        &self,
        train: &Dataset,
        weights: Option<&[f32]>,
        validation: Option<&Dataset>,
    ) -> Result<Mlp> {
        self.check()?.fit_weighted(train, weights, validation)
    }
}

#[cfg(test)]
mod tests;
