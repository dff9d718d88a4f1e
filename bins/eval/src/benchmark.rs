//! `vigil-eval benchmark`: the ablation baseline -> +balancing -> +loss -> +temperature ->
//! +thresholds, per model, scored on a test set that nothing was fitted or chosen on.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vigil_balance::BalanceParams;
use vigil_core::metrics::{ConfusionMatrix, ece15};
use vigil_core::{Dataset, stratified_split};
use vigil_model::pipeline::{self, LossChoice, ModelSpec, PipelineParams, PipelineReport};
use vigil_model::{Artifact, GbdtParams, MlpParams};
use vigil_thresholds::ThresholdParams;

use crate::Outcome;
use crate::data::DataArgs;

/// Flags of `vigil-eval benchmark`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Test file, read once at the end to score. Without it a stratified test split is
    /// carved from --train (and the report says so).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Which models to run.
    #[arg(long, value_enum, default_value_t = ModelArg::Both)]
    model: ModelArg,
    /// Run only this ablation row (and the fit it needs) instead of all of them.
    #[arg(long, value_enum)]
    pipeline: Option<Stage>,
    /// Seed of every split, sampler and model.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Share of --train held out for validation (early stopping, temperature, thresholds,
    /// choosing the best pipeline).
    #[arg(long, default_value_t = 0.2)]
    validation_fraction: f64,
    /// Share of --train carved out as the test split when --test is not given.
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f64,
    /// Upper bound on MLP epochs (early stopping usually ends sooner).
    #[arg(long, default_value_t = 30)]
    mlp_epochs: usize,
    /// Write the report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the report as a Markdown table.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Write the split as 0-based data-row indices into --train (JSON: train, validation,
    /// test), so that peers (tools/peer-benchmark.py) can be scored on the same rows.
    #[arg(long)]
    save_split: Option<PathBuf>,
    /// Write the best pipeline's model artifact.
    #[arg(long)]
    artifact: Option<PathBuf>,
    /// Gate: exit 1 if the best pipeline's test accuracy is below this.
    #[arg(long)]
    min_accuracy: Option<f64>,
    /// Gate: exit 1 if the best pipeline's test macro-F1 is below this.
    #[arg(long)]
    min_macro_f1: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelArg {
    Mlp,
    Trees,
    Both,
}

/// The ablation rows, each adding one step to the previous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Stage {
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
    const ALL: [Self; 5] =
        [Self::Baseline, Self::Balancing, Self::Loss, Self::Temperature, Self::Thresholds];

    fn label(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Balancing => "+balancing",
            Self::Loss => "+loss",
            Self::Temperature => "+temperature",
            Self::Thresholds => "+thresholds",
        }
    }

    /// The recipe whose fitted artifact this row is scored from.
    fn recipe(self, model: &ModelSpec, seed: u64) -> PipelineParams {
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
    fn view(self, fitted: &Artifact) -> Artifact {
        match self {
            Self::Baseline | Self::Balancing | Self::Loss => fitted.uncalibrated(),
            Self::Temperature => fitted.without_thresholds(),
            Self::Thresholds => fitted.clone(),
        }
    }

    /// The stage whose fit this row reuses.
    fn fit_stage(self) -> Self {
        self.min(Self::Loss)
    }
}

/// Scores of one artifact on one split.
#[derive(Debug, Clone, Serialize)]
struct Scores {
    accuracy: f64,
    macro_f1: f64,
    normal_fpr: f64,
    ece: f64,
    per_class_recall: serde_json::Map<String, serde_json::Value>,
    predict_us_per_row: f64,
}

#[derive(Debug, Clone, Serialize)]
struct Row {
    pipeline: &'static str,
    model: &'static str,
    #[serde(flatten)]
    test: Scores,
    train_seconds: f64,
    validation: Scores,
}

#[derive(Debug, Serialize)]
struct Best {
    #[serde(flatten)]
    row: Row,
    selected_by: &'static str,
}

#[derive(Debug, Serialize)]
struct Report {
    dataset: String,
    train_file: String,
    test_source: String,
    seed: u64,
    n_train: usize,
    n_validation: usize,
    n_test: usize,
    classes: Vec<String>,
    rows: Vec<Row>,
    best: Best,
    fits: Vec<serde_json::Value>,
}

/// Loads, splits, fits every recipe, scores every row, writes reports, applies gates.
pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let progress = progress_bar();
    progress.set_message("loading");
    let (full, encoding, _) = args.data.load_train()?;
    let n_classes = full.classes().len();
    // Row indices into --train, so peers can be scored on exactly the same split.
    let (pool_rows, test_rows, test, test_source) = if let Some(path) = &args.test {
        let (test, _) = vigil_datasets::load_with(&encoding, path)
            .with_context(|| format!("loading test data {}", path.display()))?;
        ((0..full.n_rows()).collect(), Vec::new(), test, format!("file {}", path.display()))
    } else {
        let (rest, carved) =
            stratified_split(full.labels(), n_classes, args.test_fraction, args.seed)?;
        let source = format!(
            "stratified {:.0}% split carved from --train (no --test given)",
            args.test_fraction * 100.0
        );
        let test = full.select(&carved);
        (rest, carved, test, source)
    };
    let pool_labels: Vec<usize> = pool_rows.iter().map(|&r| full.labels()[r]).collect();
    let (train_at, validation_at) = stratified_split(
        &pool_labels,
        n_classes,
        args.validation_fraction,
        args.seed.wrapping_add(1),
    )?;
    let train_rows: Vec<usize> = train_at.iter().map(|&i| pool_rows[i]).collect();
    let validation_rows: Vec<usize> = validation_at.iter().map(|&i| pool_rows[i]).collect();
    let (train, validation) = (full.select(&train_rows), full.select(&validation_rows));
    if let Some(path) = &args.save_split {
        let split = serde_json::json!({
            "train_file": args.data.train_path()?.display().to_string(),
            "seed": args.seed,
            "train": train_rows,
            "validation": validation_rows,
            "test": test_rows,
        });
        std::fs::write(path, split.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }

    let models: Vec<(&'static str, ModelSpec)> = match args.model {
        ModelArg::Mlp => vec![("mlp", mlp_spec(args))],
        ModelArg::Trees => vec![("trees", trees_spec(args))],
        ModelArg::Both => vec![("mlp", mlp_spec(args)), ("trees", trees_spec(args))],
    };
    let stages: Vec<Stage> = args.pipeline.map_or_else(|| Stage::ALL.to_vec(), |s| vec![s]);
    let schema = format!("{}", args.data.dataset);

    let mut rows = Vec::new();
    let mut fits = Vec::new();
    // Every fitted artifact, by model and the stage it was fitted for.
    let mut fitted: Vec<(&'static str, Stage, Artifact, f64)> = Vec::new();
    for &(model_name, ref spec) in &models {
        for &stage in &stages {
            let fit_stage = stage.fit_stage();
            let find =
                |(m, s, ..): &&(&str, Stage, Artifact, f64)| *m == model_name && *s == fit_stage;
            if !fitted.iter().any(|f| find(&f)) {
                progress.set_message(format!("{model_name}: fitting {}", fit_stage.label()));
                let recipe = fit_stage.recipe(spec, args.seed);
                let clock = Instant::now();
                let (artifact, report) = pipeline::train(&recipe, &schema, &train, &validation)
                    .with_context(|| format!("{model_name} {}", fit_stage.label()))?;
                let seconds = clock.elapsed().as_secs_f64();
                fits.push(fit_summary(model_name, fit_stage, &report, seconds));
                fitted.push((model_name, fit_stage, artifact, seconds));
            }
            let (.., artifact, seconds) = fitted.iter().find(find).expect("fitted above");
            progress.set_message(format!("{model_name}: scoring {}", stage.label()));
            let view = stage.view(artifact);
            rows.push(Row {
                pipeline: stage.label(),
                model: model_name,
                test: score(&view, &test)?,
                train_seconds: *seconds,
                validation: score(&view, &validation)?,
            });
        }
    }
    progress.finish_and_clear();

    let best_index = best_row(&rows);
    let best = Best { row: rows[best_index].clone(), selected_by: "validation" };
    let report = Report {
        dataset: schema,
        train_file: args.data.train_path()?.display().to_string(),
        test_source,
        seed: args.seed,
        n_train: train.n_rows(),
        n_validation: validation.n_rows(),
        n_test: test.n_rows(),
        classes: train.classes().names().to_vec(),
        rows,
        best,
        fits,
    };

    let markdown = markdown(&report);
    #[allow(clippy::print_stdout)]
    {
        print!("{markdown}");
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, &markdown).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.artifact {
        let best = &report.best.row;
        let stage = Stage::ALL.into_iter().find(|s| s.label() == best.pipeline).expect("a stage");
        let (.., artifact, _) = fitted
            .iter()
            .find(|(m, s, ..)| *m == best.model && *s == stage.fit_stage())
            .expect("the best row was fitted");
        std::fs::write(path, stage.view(artifact).to_bytes()?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(gates(args, &report.best.row))
}

fn gates(args: &Args, best: &Row) -> Outcome {
    let mut failed = Vec::new();
    if let Some(min) = args.min_accuracy
        && best.test.accuracy < min
    {
        failed.push(format!("accuracy {:.4} < {min}", best.test.accuracy));
    }
    if let Some(min) = args.min_macro_f1
        && best.test.macro_f1 < min
    {
        failed.push(format!("macro-F1 {:.4} < {min}", best.test.macro_f1));
    }
    if failed.is_empty() {
        return Outcome::Pass;
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!("gate failed for {} {}: {}", best.model, best.pipeline, failed.join(", "));
    }
    Outcome::GateFailed
}

fn mlp_spec(args: &Args) -> ModelSpec {
    ModelSpec::Mlp(MlpParams::new().max_epochs(args.mlp_epochs).seed(args.seed))
}

fn trees_spec(args: &Args) -> ModelSpec {
    ModelSpec::Gbdt(GbdtParams::new().seed(args.seed))
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn score(artifact: &Artifact, data: &Dataset) -> Result<Scores> {
    if data.n_rows() == 0 {
        bail!("an empty split cannot be scored");
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
fn best_row(rows: &[Row]) -> usize {
    let mut best = 0;
    for (i, row) in rows.iter().enumerate().skip(1) {
        let (a, b) = (&row.validation, &rows[best].validation);
        if (a.macro_f1, a.accuracy) > (b.macro_f1, b.accuracy) {
            best = i;
        }
    }
    best
}

fn fit_summary(
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

fn markdown(report: &Report) -> String {
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
