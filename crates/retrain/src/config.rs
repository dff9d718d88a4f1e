//! Configuration: the training recipe, the holdout, the promotion gate, the triggers.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use vigil_balance::BalanceParams;
use vigil_model::pipeline::{LossChoice, ModelSpec, PipelineParams};
use vigil_model::{ForestParams, GbdtParams, MlpParams};
use vigil_thresholds::ThresholdParams;

use crate::{Result, RetrainError};

/// How a retrain run trains, splits and decides. Every field has a default (see
/// [`RetrainConfig::default`]); in TOML each is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrainConfig {
    /// The feature-schema version trained and served (`v1`).
    pub schema_version: String,
    /// The model and its hyper-parameters (default: gradient-boosted trees).
    pub model: ModelConfig,
    /// Balancing of the training split (never validation or holdout), if any (default
    /// none: the recommended loss weights the classes instead, which is faster for trees).
    pub balance: Option<BalanceParams>,
    /// The loss (default: [`LossChoice::Recommended`] on the training class counts).
    pub loss: LossChoice,
    /// Fit a softmax temperature on the validation split (default true).
    pub calibrate: bool,
    /// Fit per-class thresholds on the validation split (default: F1, exact search).
    pub thresholds: Option<ThresholdParams>,
    /// Seed of every random choice (default 0).
    pub seed: u64,
    /// Share of entities in the fixed holdout (default 0.2).
    pub holdout_fraction: f64,
    /// Salt of the holdout hash (default `vigil-holdout-1`). Changing it changes which
    /// entities are held out, so models trained before are no longer scored fairly.
    pub holdout_salt: String,
    /// Share of the non-holdout rows used for validation (default 0.2).
    pub validation_fraction: f64,
    /// Each council sample in the training split counts this many times (default 1; 1 to
    /// 100). Validation and holdout rows count once. A few dozen analyst verdicts on real
    /// traffic beside thousands of simulated base rows barely move a model; this lets them.
    pub council_weight: usize,
    /// The promotion gate.
    pub gate: GatePolicy,
    /// Promote even if the gate fails (logged, and recorded in the audit log's reason).
    pub force: bool,
    /// Where run reports (`<run id>.json`) are written (default: none).
    pub reports_dir: Option<PathBuf>,
}

impl Default for RetrainConfig {
    fn default() -> Self {
        Self {
            schema_version: vigil_features::SCHEMA_VERSION.to_owned(),
            model: ModelConfig::default(),
            balance: None,
            loss: LossChoice::Recommended,
            calibrate: true,
            thresholds: Some(ThresholdParams::default()),
            seed: 0,
            holdout_fraction: 0.2,
            holdout_salt: "vigil-holdout-1".to_owned(),
            validation_fraction: 0.2,
            council_weight: 1,
            gate: GatePolicy::default(),
            force: false,
            reports_dir: None,
        }
    }
}

fn invalid(name: &'static str, value: impl ToString, reason: &str) -> RetrainError {
    RetrainError::Config { name, value: value.to_string(), reason: reason.to_owned() }
}

impl RetrainConfig {
    /// Checks every value, naming the first that is out of range.
    pub fn check(&self) -> Result<()> {
        if self.schema_version.trim().is_empty() {
            return Err(invalid("schema_version", "\"\"", "must not be empty"));
        }
        for (name, v) in [
            ("holdout_fraction", self.holdout_fraction),
            ("validation_fraction", self.validation_fraction),
        ] {
            if !(v > 0.0 && v < 0.5) {
                return Err(invalid(name, v, "must be in (0, 0.5)"));
            }
        }
        if !(1..=100).contains(&self.council_weight) {
            return Err(invalid("council_weight", self.council_weight, "must be in 1..=100"));
        }
        self.gate.check()?;
        let checked = match self.model.spec(self.seed) {
            ModelSpec::Gbdt(p) => p.check().map(drop),
            ModelSpec::Forest(p) => p.check().map(drop),
            ModelSpec::Mlp(p) => p.check().map(drop),
            ModelSpec::Linear(p) => p.check().map(drop),
        };
        checked.map_err(|e| invalid("model", self.model.name(), &e.to_string()))
    }

    /// The recipe handed to [`vigil_model::pipeline::train`].
    pub fn pipeline_params(&self) -> PipelineParams {
        PipelineParams {
            model: self.model.spec(self.seed),
            balance: self.balance.clone().map(|b| BalanceParams { seed: self.seed, ..b }),
            loss: self.loss,
            calibrate: self.calibrate,
            thresholds: self.thresholds.clone(),
        }
    }
}

/// Which model to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ModelConfig {
    /// Histogram gradient-boosted trees (the default: see the crate docs' measurement).
    Gbdt(GbdtConfig),
    /// Random forest.
    Forest(ForestConfig),
    /// The seed's MLP.
    Mlp(MlpConfig),
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::Gbdt(GbdtConfig::default())
    }
}

impl ModelConfig {
    /// The model specification with `seed`.
    pub fn spec(&self, seed: u64) -> ModelSpec {
        match self {
            Self::Gbdt(c) => ModelSpec::Gbdt(
                GbdtParams::new()
                    .learning_rate(c.learning_rate)
                    .max_rounds(c.max_rounds)
                    .max_leaves(c.max_leaves)
                    .min_samples_leaf(c.min_samples_leaf)
                    .early_stopping_rounds(c.early_stopping_rounds)
                    .max_bins(c.max_bins)
                    .row_subsample(c.row_subsample)
                    .feature_fraction(c.feature_fraction)
                    .seed(seed),
            ),
            Self::Forest(c) => ModelSpec::Forest(
                ForestParams::new()
                    .n_trees(c.n_trees)
                    .max_depth(c.max_depth)
                    .min_samples_leaf(c.min_samples_leaf)
                    .seed(seed),
            ),
            Self::Mlp(c) => ModelSpec::Mlp(
                MlpParams::new()
                    .hidden(c.hidden.clone())
                    .max_epochs(c.max_epochs)
                    .patience(c.patience)
                    .seed(seed),
            ),
        }
    }

    /// `gbdt`, `forest` or `mlp`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Gbdt(_) => "gbdt",
            Self::Forest(_) => "forest",
            Self::Mlp(_) => "mlp",
        }
    }
}

/// Gradient-boosted trees' hyper-parameters (defaults as [`GbdtParams`], but 100 rounds
/// with early stopping after 10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GbdtConfig {
    /// Shrinkage.
    pub learning_rate: f64,
    /// Maximum boosting rounds.
    pub max_rounds: usize,
    /// Maximum leaves per tree.
    pub max_leaves: usize,
    /// Minimum rows per leaf.
    pub min_samples_leaf: usize,
    /// Stop after this many rounds without validation improvement (`None`: never).
    pub early_stopping_rounds: Option<usize>,
    /// Histogram bins per feature.
    pub max_bins: usize,
    /// Share of rows per tree.
    pub row_subsample: f64,
    /// Share of features per tree.
    pub feature_fraction: f64,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        Self {
            learning_rate: 0.1,
            max_rounds: 100,
            max_leaves: 31,
            min_samples_leaf: 20,
            early_stopping_rounds: Some(10),
            max_bins: 255,
            row_subsample: 1.0,
            feature_fraction: 1.0,
        }
    }
}

/// Random-forest hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForestConfig {
    /// Number of trees.
    pub n_trees: usize,
    /// Maximum depth (`None`: unlimited).
    pub max_depth: Option<usize>,
    /// Minimum rows per leaf.
    pub min_samples_leaf: usize,
}

impl Default for ForestConfig {
    fn default() -> Self {
        Self { n_trees: 100, max_depth: None, min_samples_leaf: 1 }
    }
}

/// MLP hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Maximum epochs.
    pub max_epochs: usize,
    /// Early-stopping patience in epochs (`None`: never).
    pub patience: Option<usize>,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self { hidden: vec![256, 128, 64], max_epochs: 100, patience: Some(10) }
    }
}

/// When a challenger may replace the champion. Both are scored on the same holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatePolicy {
    /// The challenger's macro-F1 must be at least the champion's plus this (default 0.01,
    /// one point).
    pub min_macro_f1_gain: f64,
    /// No class's recall may fall by more than this (default 0.05, five points).
    pub max_recall_drop: f64,
    /// Classes with fewer holdout rows than this are reported but not gated on recall
    /// (their recall moves in steps too coarse to mean anything; default 5).
    pub min_class_support: u64,
    /// With at least this many council samples (real feedback) in the holdout, the
    /// challenger is also judged on them alone (default 30): simulated base rows must not
    /// outvote what analysts said about real traffic.
    pub min_real_rows: u64,
    /// On that real part, the challenger's accuracy may not fall below the champion's by
    /// more than this (default 0: no regression).
    pub max_real_accuracy_drop: f64,
    /// A class's decision threshold moving by more than this from the champion's (default
    /// 0.25) is named in the gate's decision and summary, so the audit log shows every such
    /// move (a retrain that moved Malware/Botnet's from 0.35 to 0.76 changed what the model
    /// flags).
    pub max_threshold_shift: f64,
    /// Whether such a move also fails the gate (default false). Measured with `vigil-eval
    /// loop` (docs/BENCHMARKS.md, "The learning loop"): thresholds fitted on well-separated
    /// classes sit anywhere in a wide gap and move 0.3-0.9 between retrains that decide the
    /// same; blocking on the move refused every challenger of five cycles (held-out macro-F1
    /// stayed 0.68) where gating on what the moves do (holdout macro-F1, per-class recall,
    /// real feedback) promoted three (0.68 -> 0.86).
    pub threshold_shift_blocks: bool,
}

impl Default for GatePolicy {
    fn default() -> Self {
        Self {
            min_macro_f1_gain: 0.01,
            max_recall_drop: 0.05,
            min_class_support: 5,
            min_real_rows: 30,
            max_real_accuracy_drop: 0.0,
            max_threshold_shift: 0.25,
            threshold_shift_blocks: false,
        }
    }
}

impl GatePolicy {
    fn check(&self) -> Result<()> {
        if !(self.min_macro_f1_gain.is_finite() && self.min_macro_f1_gain > -1.0) {
            return Err(invalid(
                "gate.min_macro_f1_gain",
                self.min_macro_f1_gain,
                "must be in (-1, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&self.max_recall_drop) {
            return Err(invalid("gate.max_recall_drop", self.max_recall_drop, "must be in [0, 1]"));
        }
        if !(0.0..=1.0).contains(&self.max_threshold_shift) {
            return Err(invalid(
                "gate.max_threshold_shift",
                self.max_threshold_shift,
                "must be in [0, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&self.max_real_accuracy_drop) {
            return Err(invalid(
                "gate.max_real_accuracy_drop",
                self.max_real_accuracy_drop,
                "must be in [0, 1]",
            ));
        }
        Ok(())
    }
}

/// When to retrain. Each rule is evaluated from persisted state (the sample store and the
/// registry), never from memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TriggerPolicy {
    /// Retrain when at least this many unused trainable samples are pending (default 1000).
    pub pending_threshold: u64,
    /// Retrain when at least this many days passed since the last successful retrain
    /// (default 7)...
    pub schedule_days: u32,
    /// ... and at least this many samples are pending (default 100).
    pub schedule_min_samples: u64,
    /// Retrain when the override rate over the last `override_window` verdicts is strictly
    /// above this (default 0.15)...
    pub override_rate: f64,
    /// ... counting this many verdicts (at least 100; default 100), all of them present,
    /// and at least this many samples pending, so that a window already trained on does not
    /// fire again.
    pub override_window: usize,
    /// Honour manual retrain requests (default true).
    pub manual: bool,
}

impl Default for TriggerPolicy {
    fn default() -> Self {
        Self {
            pending_threshold: 1000,
            schedule_days: 7,
            schedule_min_samples: 100,
            override_rate: 0.15,
            override_window: 100,
            manual: true,
        }
    }
}

impl TriggerPolicy {
    /// Checks every value, naming the first that is out of range.
    pub fn check(&self) -> Result<()> {
        if self.pending_threshold == 0 {
            return Err(invalid("triggers.pending_threshold", 0, "must be at least 1"));
        }
        if self.schedule_days == 0 {
            return Err(invalid("triggers.schedule_days", 0, "must be at least 1"));
        }
        if !(self.override_rate >= 0.0 && self.override_rate < 1.0) {
            return Err(invalid("triggers.override_rate", self.override_rate, "must be in [0, 1)"));
        }
        if self.override_window < 100 {
            return Err(invalid(
                "triggers.override_window",
                self.override_window,
                "must be at least 100",
            ));
        }
        Ok(())
    }
}
