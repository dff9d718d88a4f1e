//! The training recipe shared by evaluation and retraining: standardise, balance the
//! training split, pick the loss, fit, calibrate the temperature, fit the thresholds.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use vigil_balance::{BalanceParams, BalanceReport};
use vigil_core::{Dataset, Standardizer};
use vigil_loss::{Loss, Recommendation, TemperatureFit, fit_temperature, recommend, softmax};
use vigil_thresholds::{ThresholdParams, Thresholds};

use crate::artifact::{Artifact, FeatureSchema, Model};
use crate::{
    Classifier, Fit, ForestParams, GbdtParams, LinearParams, MlpParams, ModelError, Result,
};

/// Which model to fit, with its hyper-parameters (the loss is set by the pipeline).
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSpec {
    /// The MLP; trained directly on the chosen loss.
    Mlp(MlpParams),
    /// Gradient-boosted trees; a weighted or focal loss becomes per-row sample weights
    /// (the class weight or alpha of the row's class): the tree learner optimises
    /// cross-entropy only, so focal's `(1 - p)^gamma` modulation is not applied.
    Gbdt(GbdtParams),
    /// Random forest; class weights become sample weights as for [`ModelSpec::Gbdt`].
    Forest(ForestParams),
    /// The linear baseline (smartcore logistic regression). It has no sample weights, so
    /// it always trains on plain cross-entropy: a weighted or focal loss is ignored (balance
    /// the training split instead).
    Linear(LinearParams),
}

/// How to choose the training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossChoice {
    /// Plain cross-entropy.
    CrossEntropy,
    /// [`vigil_loss::recommend`] on the class counts of the training split *before*
    /// balancing (after balancing every ratio is ~1 and the rule would always say CE).
    Recommended,
}

/// One training recipe.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineParams {
    /// The model and its hyper-parameters.
    pub model: ModelSpec,
    /// Balancing of the training split, if any.
    pub balance: Option<BalanceParams>,
    /// The loss.
    pub loss: LossChoice,
    /// Fit a temperature on the validation logits (else 1).
    pub calibrate: bool,
    /// Fit per-class thresholds on the validation probabilities (else plain argmax).
    pub thresholds: Option<ThresholdParams>,
}

/// Seconds spent in each step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepSeconds {
    /// Fitting and applying the standardiser.
    pub standardise: f64,
    /// Resampling the training split.
    pub balance: f64,
    /// Fitting the model.
    pub fit: f64,
    /// Fitting the temperature.
    pub calibrate: f64,
    /// Fitting the thresholds.
    pub thresholds: f64,
}

impl StepSeconds {
    /// All steps together.
    pub fn total(&self) -> f64 {
        self.standardise + self.balance + self.fit + self.calibrate + self.thresholds
    }
}

/// What each step did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineReport {
    /// Training rows per class before balancing.
    pub class_counts: Vec<usize>,
    /// The balancing report, if the training split was balanced.
    pub balance: Option<BalanceReport>,
    /// The loss trained on.
    pub loss: Loss,
    /// The recommendation behind it, if the loss was recommended.
    pub recommendation: Option<Recommendation>,
    /// The temperature fit, if calibrated.
    pub temperature: Option<TemperatureFit>,
    /// The fitted thresholds, if any.
    pub thresholds: Option<Vec<f32>>,
    /// Time per step. Not serialised: the report is embedded in the artifact, whose bytes
    /// must depend only on the seed and the data.
    #[serde(skip)]
    pub seconds: StepSeconds,
}

/// Runs the recipe: `train` and `validation` hold raw (unstandardised) features; the
/// validation rows steer early stopping, the temperature and the thresholds, and are
/// never balanced.
pub fn train(
    params: &PipelineParams,
    schema_version: &str,
    train: &Dataset,
    validation: &Dataset,
) -> Result<(Artifact, PipelineReport)> {
    let mut seconds = StepSeconds::default();
    let clock = Instant::now();
    let standardizer = Standardizer::fit(train.features())?;
    let train_std =
        train.with_rows(standardizer.transform(train.features())?, train.labels().to_vec())?;
    let validation_std = validation
        .with_rows(standardizer.transform(validation.features())?, validation.labels().to_vec())?;
    seconds.standardise = clock.elapsed().as_secs_f64();

    let class_counts = train.class_counts();
    let clock = Instant::now();
    let (fit_data, balance) = match &params.balance {
        Some(balance_params) => {
            let (data, report) = vigil_balance::balance_dataset(&train_std, balance_params)?;
            (data, Some(report))
        }
        None => (train_std, None),
    };
    seconds.balance = clock.elapsed().as_secs_f64();

    let recommendation = match params.loss {
        LossChoice::CrossEntropy => None,
        LossChoice::Recommended => Some(recommend(&class_counts)),
    };
    let loss = recommendation.as_ref().map_or(Loss::CrossEntropy, |r| r.loss.clone());

    let clock = Instant::now();
    let model = fit_model(&params.model, &loss, &fit_data, &validation_std)?;
    seconds.fit = clock.elapsed().as_secs_f64();

    let logits = model.logits(validation_std.features())?;
    let clock = Instant::now();
    let temperature = if params.calibrate {
        Some(
            fit_temperature(logits.view(), validation_std.labels())
                .map_err(ModelError::Calibration)?,
        )
    } else {
        None
    };
    seconds.calibrate = clock.elapsed().as_secs_f64();
    let t = temperature.map_or(1.0, |fit| fit.temperature);

    let clock = Instant::now();
    let thresholds = match &params.thresholds {
        Some(threshold_params) => {
            let probs = softmax(logits.mapv(|z| z / t).view());
            vigil_thresholds::fit(probs.view(), validation_std.labels(), threshold_params)?
                .thresholds
        }
        None => Thresholds::argmax(train.classes().len()),
    };
    seconds.thresholds = clock.elapsed().as_secs_f64();

    let report = PipelineReport {
        class_counts,
        balance,
        loss,
        recommendation,
        temperature,
        thresholds: params.thresholds.as_ref().map(|_| thresholds.per_class().to_vec()),
        seconds,
    };
    let artifact = Artifact {
        schema: FeatureSchema {
            version: schema_version.to_owned(),
            names: train.feature_names().to_vec(),
        },
        classes: train.classes().clone(),
        standardizer,
        model,
        temperature: t,
        thresholds,
        summary: serde_json::to_string(&report).unwrap_or_default(),
    };
    artifact.validate()?;
    Ok((artifact, report))
}

/// Per-row weights from a loss's class weights (`None` for plain cross-entropy).
fn row_weights(loss: &Loss, labels: &[usize]) -> Option<Vec<f32>> {
    let per_class = match loss {
        Loss::CrossEntropy => return None,
        Loss::Weighted { weights } => weights,
        Loss::Focal { alpha, .. } => alpha,
    };
    Some(labels.iter().map(|&y| per_class.get(y).copied().unwrap_or(1.0)).collect())
}

fn fit_model(
    spec: &ModelSpec,
    loss: &Loss,
    train: &Dataset,
    validation: &Dataset,
) -> Result<Model> {
    Ok(match spec {
        ModelSpec::Mlp(params) => {
            Model::Mlp(params.clone().loss(loss.clone()).check()?.fit_weighted(
                train,
                None,
                Some(validation),
            )?)
        }
        ModelSpec::Gbdt(params) => {
            let weights = row_weights(loss, train.labels());
            Model::Gbdt(params.check()?.fit_weighted(
                train,
                weights.as_deref(),
                Some(validation),
            )?)
        }
        ModelSpec::Forest(params) => {
            let weights = row_weights(loss, train.labels());
            Model::Forest(params.check()?.fit_weighted(train, weights.as_deref(), None)?)
        }
        // No sample weights in smartcore: the loss is ignored (see `ModelSpec::Linear`).
        ModelSpec::Linear(params) => Model::Linear(params.check()?.fit(train)?),
    })
}
