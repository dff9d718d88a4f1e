//! vigil-evaluate: what `vigil-eval` measures, as a library: the ablation baseline ->
//! +balancing -> +loss -> +temperature -> +thresholds per model ([`ablation`]), the scores
//! of an artifact on a split ([`score`]), the best row chosen by validation ([`best_row`])
//! and the Markdown table ([`markdown`]); the real-log check's weak labels and agreement
//! ([`weak_labels`], [`real_check`]); the learning loop measured on a labelled stream
//! ([`learning_loop`]).
//!
//! # Invariants
//! - Rows are chosen on validation scores only; test scores are reported, never used to
//!   choose.
//! - The last three stages share one fit (the loss stage's fit also calibrates and fits
//!   thresholds; the rows score it with or without them), so their differences are the
//!   temperature and the thresholds alone.

mod learning_loop;
mod realcheck;
mod simulated;

pub use learning_loop::{
    Council, CycleReport, HeldOut, LabelledStream, LoopParams, LoopReport, Pick, learning_loop,
};
pub use realcheck::{
    Agrees, FLOW_LABELS, HONEYPOT_LABELS, LabelClass, RealCheck, SENSOR_LABELS, WEAK_CLASSES,
    WeakAgreement, flow_labels, real_check, real_check_with, sensor_labels, weak_labels,
};
pub use simulated::{SimulatedModel, feature_rows, simulated_model};

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Instant;

use serde::Serialize;
use vigil_balance::BalanceParams;
use vigil_core::Dataset;
use vigil_core::metrics::{ConfusionMatrix, ece15};
use vigil_model::Artifact;
use vigil_model::pipeline::{self, LossChoice, ModelSpec, PipelineParams, PipelineReport};
use vigil_thresholds::ThresholdParams;

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluateError {
    /// A split with no rows.
    #[error("an empty split cannot be scored")]
    EmptySplit,
    /// An unknown stage name.
    #[error(
        "unknown pipeline stage {name:?} (known: baseline, balancing, loss, temperature, thresholds)"
    )]
    UnknownStage {
        /// The name given.
        name: String,
    },
    /// A fit failed.
    #[error("{model} {stage}: {source}")]
    Fit {
        /// The model.
        model: String,
        /// The stage.
        stage: &'static str,
        /// Why.
        #[source]
        source: vigil_model::ModelError,
    },
    /// Scoring failed.
    #[error(transparent)]
    Model(#[from] vigil_model::ModelError),
    /// Metrics could not be computed.
    #[error(transparent)]
    Core(#[from] vigil_core::CoreError),
    /// The simulator refused its parameters.
    #[error("simulating: {reason}")]
    Simulate {
        /// Why.
        reason: String,
    },
    /// The learning loop's settings or stream cannot run.
    #[error("learning loop: {reason}")]
    Loop {
        /// Why.
        reason: String,
    },
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] vigil_engine::EngineError),
    /// The model registry failed.
    #[error(transparent)]
    Registry(#[from] vigil_registry::RegistryError),
}

/// The result type of this crate.
pub type Result<T, E = EvaluateError> = std::result::Result<T, E>;

/// The ablation rows, each adding one step to the previous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Plain cross-entropy, no balancing, argmax.
    Baseline,
    /// + balancing of the training split (auto method).
    Balancing,
    /// + the recommended loss (focal or weighted).
    Loss,
    /// + temperature scaling.
    Temperature,
    /// + per-class thresholds.
    Thresholds,
}

impl Stage {
    /// Every stage, in ablation order.
    pub const ALL: [Self; 5] =
        [Self::Baseline, Self::Balancing, Self::Loss, Self::Temperature, Self::Thresholds];

    /// The row's name in reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Balancing => "+balancing",
            Self::Loss => "+loss",
            Self::Temperature => "+temperature",
            Self::Thresholds => "+thresholds",
        }
    }

    /// The recipe whose fitted artifact this row is scored from.
    pub fn recipe(self, model: &ModelSpec, seed: u64) -> PipelineParams {
        let balance =
            (self >= Self::Balancing).then(|| BalanceParams { seed, ..BalanceParams::default() });
        let loss =
            if self >= Self::Loss { LossChoice::Recommended } else { LossChoice::CrossEntropy };
        PipelineParams {
            model: model.clone(),
            balance,
            loss,
            // The loss row's fit also calibrates and fits thresholds; rows score it with
            // or without them, so the last three rows share one fit.
            calibrate: self >= Self::Loss,
            thresholds: (self >= Self::Loss).then(ThresholdParams::default),
        }
    }

    /// The artifact this row scores, from its recipe's fitted artifact.
    pub fn view(self, fitted: &Artifact) -> Artifact {
        match self {
            Self::Baseline | Self::Balancing | Self::Loss => fitted.uncalibrated(),
            Self::Temperature => fitted.without_thresholds(),
            Self::Thresholds => fitted.clone(),
        }
    }

    /// The stage whose fit this row reuses.
    pub fn fit_stage(self) -> Self {
        self.min(Self::Loss)
    }
}

/// Scores of one artifact on one split.
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    /// Accuracy.
    pub accuracy: f64,
    /// Macro-F1.
    pub macro_f1: f64,
    /// False-positive rate of the normal class.
    pub normal_fpr: f64,
    /// Expected calibration error (15 bins).
    pub ece: f64,
    /// Recall of each class, by name.
    pub per_class_recall: serde_json::Map<String, serde_json::Value>,
    /// Scoring time per row, microseconds.
    pub predict_us_per_row: f64,
}

/// One ablation row: a model at a stage, scored on test and validation.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The stage's label.
    pub pipeline: &'static str,
    /// The model's name.
    pub model: &'static str,
    #[serde(flatten)]
    /// Scores on the test split.
    pub test: Scores,
    /// Seconds the fit took.
    pub train_seconds: f64,
    /// Scores on the validation split.
    pub validation: Scores,
}

/// The chosen row.
#[derive(Debug, Serialize)]
pub struct Best {
    #[serde(flatten)]
    /// The row.
    pub row: Row,
    /// Which split chose it.
    pub selected_by: &'static str,
}

/// The whole benchmark report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The data set.
    pub dataset: String,
    /// The training file.
    pub train_file: String,
    /// Where the test rows came from.
    pub test_source: String,
    /// The seed of every split, sampler and model.
    pub seed: u64,
    /// Training rows.
    pub n_train: usize,
    /// Validation rows.
    pub n_validation: usize,
    /// Test rows.
    pub n_test: usize,
    /// The class names.
    pub classes: Vec<String>,
    /// The ablation rows.
    pub rows: Vec<Row>,
    /// The best row by validation.
    pub best: Best,
    /// One summary per fit.
    pub fits: Vec<serde_json::Value>,
}

impl FromStr for Stage {
    type Err = EvaluateError;
    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim().trim_start_matches('+').to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|stage| stage.label().trim_start_matches('+') == name)
            .ok_or_else(|| EvaluateError::UnknownStage { name: s.to_owned() })
    }
}

/// A fitted artifact: the model, the stage it was fitted for, the seconds it took.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The model's name.
    pub model: &'static str,
    /// The stage the recipe was built for.
    pub stage: Stage,
    /// The artifact.
    pub artifact: Artifact,
    /// Seconds the fit took.
    pub seconds: f64,
}

/// What [`ablation`] returns: the rows, one summary per fit, and every fitted artifact.
#[derive(Debug)]
pub struct Ablation {
    /// One row per model and stage.
    pub rows: Vec<Row>,
    /// One summary per fit.
    pub fits: Vec<serde_json::Value>,
    /// Every fitted artifact.
    pub fitted: Vec<Fitted>,
}

impl Ablation {
    /// The artifact a row scored (the view of its stage on its fit).
    pub fn artifact_of(&self, row: &Row) -> Option<Artifact> {
        let stage = Stage::ALL.into_iter().find(|s| s.label() == row.pipeline)?;
        self.fitted
            .iter()
            .find(|f| f.model == row.model && f.stage == stage.fit_stage())
            .map(|f| stage.view(&f.artifact))
    }
}

/// Fits every model's recipes (each fit once, shared by the stages that view it) on
/// `train` with `validation` for early stopping, temperature and thresholds, and scores
/// every row on `test` and `validation`. `progress` hears what is happening.
#[allow(clippy::too_many_arguments)]
pub fn ablation(
    models: &[(&'static str, ModelSpec)],
    stages: &[Stage],
    schema: &str,
    seed: u64,
    train: &Dataset,
    validation: &Dataset,
    test: &Dataset,
    mut progress: impl FnMut(String),
) -> Result<Ablation> {
    let mut out = Ablation { rows: Vec::new(), fits: Vec::new(), fitted: Vec::new() };
    for &(model, ref spec) in models {
        for &stage in stages {
            let fit_stage = stage.fit_stage();
            let find = |f: &&Fitted| f.model == model && f.stage == fit_stage;
            if !out.fitted.iter().any(|f| find(&f)) {
                progress(format!("{model}: fitting {}", fit_stage.label()));
                let recipe = fit_stage.recipe(spec, seed);
                let clock = Instant::now();
                let (artifact, report) = pipeline::train(&recipe, schema, train, validation)
                    .map_err(|source| EvaluateError::Fit {
                        model: model.to_owned(),
                        stage: fit_stage.label(),
                        source,
                    })?;
                let seconds = clock.elapsed().as_secs_f64();
                out.fits.push(fit_summary(model, fit_stage, &report, seconds));
                out.fitted.push(Fitted { model, stage: fit_stage, artifact, seconds });
            }
            let fitted = out.fitted.iter().find(find).expect("fitted above");
            progress(format!("{model}: scoring {}", stage.label()));
            let view = stage.view(&fitted.artifact);
            let row = Row {
                pipeline: stage.label(),
                model,
                test: score(&view, test)?,
                train_seconds: fitted.seconds,
                validation: score(&view, validation)?,
            };
            out.rows.push(row);
        }
    }
    Ok(out)
}

/// The scores of `artifact` on `data` (its thresholds decide).
pub fn score(artifact: &Artifact, data: &Dataset) -> Result<Scores> {
    if data.n_rows() == 0 {
        return Err(EvaluateError::EmptySplit);
    }
    let clock = Instant::now();
    let probs = artifact.probabilities(data.features())?;
    let predicted = artifact.thresholds.predict(probs.view());
    let micros = clock.elapsed().as_secs_f64() * 1e6 / data.n_rows() as f64;
    let cm = ConfusionMatrix::new(data.classes().len(), data.labels(), &predicted)?;
    let per_class_recall = data
        .classes()
        .names()
        .iter()
        .zip(cm.recalls())
        .map(|(name, recall)| (name.clone(), serde_json::json!(round4(recall))))
        .collect();
    Ok(Scores {
        accuracy: round4(cm.accuracy()),
        macro_f1: round4(cm.macro_f1()),
        normal_fpr: round4(cm.false_positive_rate(0)),
        ece: round4(ece15(probs.view(), data.labels())),
        per_class_recall,
        predict_us_per_row: (micros * 1000.0).round() / 1000.0,
    })
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Highest validation macro-F1; ties go to higher validation accuracy, then the earlier row.
pub fn best_row(rows: &[Row]) -> usize {
    let mut best = 0;
    for (i, row) in rows.iter().enumerate().skip(1) {
        let (a, b) = (&row.validation, &rows[best].validation);
        if (a.macro_f1, a.accuracy) > (b.macro_f1, b.accuracy) {
            best = i;
        }
    }
    best
}

/// A fit's summary for the report.
pub fn fit_summary(
    model: &str,
    stage: Stage,
    report: &PipelineReport,
    seconds: f64,
) -> serde_json::Value {
    serde_json::json!({
        "model": model,
        "fit_for": stage.label(),
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "class_counts": report.class_counts,
        "balance": report.balance.as_ref().map(|b| serde_json::json!({
            "method": b.method.name(),
            "reason": b.reason,
            "counts_after": b.counts_after,
        })),
        "loss": report.loss,
        "loss_reason": report.recommendation.as_ref().map(|r| r.reason.clone()),
        "temperature": report.temperature,
        "thresholds": report.thresholds,
        "step_seconds": report.seconds,
    })
}

/// The report as a Markdown table and a closing line.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "**{}**: {} train / {} validation / {} test rows; test: {}; seed {}\n",
        report.dataset,
        report.n_train,
        report.n_validation,
        report.n_test,
        report.test_source,
        report.seed
    );
    let classes = report.classes.join(" / ");
    let _ = writeln!(
        out,
        "| model | pipeline | accuracy | macro-F1 | normal FPR | ECE | recall ({classes}) | train s | predict µs/row | val macro-F1 |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    for row in &report.rows {
        let recalls: Vec<String> = row
            .test
            .per_class_recall
            .values()
            .map(|v| format!("{:.2}", v.as_f64().unwrap_or(0.0)))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {} | {:.1} | {:.2} | {:.4} |",
            row.model,
            row.pipeline,
            row.test.accuracy,
            row.test.macro_f1,
            row.test.normal_fpr,
            row.test.ece,
            recalls.join(" / "),
            row.train_seconds,
            row.test.predict_us_per_row,
            row.validation.macro_f1,
        );
    }
    let best = &report.best.row;
    let _ = writeln!(
        out,
        "\nbest by validation macro-F1: {} {} (test accuracy {:.4}, macro-F1 {:.4})",
        best.model, best.pipeline, best.test.accuracy, best.test.macro_f1
    );
    out
}
