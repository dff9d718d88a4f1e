//! `vigil-eval benchmark`: the ablation baseline -> +balancing -> +loss -> +temperature ->
//! +thresholds, per model, scored on a test set that nothing was fitted or chosen on.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use vigil_core::stratified_split;
use vigil_evaluate::{Best, Report, Row, Stage, best_row, markdown};
use vigil_model::pipeline::ModelSpec;
use vigil_model::{GbdtParams, MlpParams};

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
    /// (baseline, balancing, loss, temperature, thresholds)
    #[arg(long, value_parser = parse_stage)]
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

    let ablation = vigil_evaluate::ablation(
        &models,
        &stages,
        &schema,
        args.seed,
        &train,
        &validation,
        &test,
        |message| progress.set_message(message),
    )?;
    progress.finish_and_clear();

    let best_index = best_row(&ablation.rows);
    let best = Best { row: ablation.rows[best_index].clone(), selected_by: "validation" };
    let report = Report {
        dataset: schema,
        train_file: args.data.train_path()?.display().to_string(),
        test_source,
        seed: args.seed,
        n_train: train.n_rows(),
        n_validation: validation.n_rows(),
        n_test: test.n_rows(),
        classes: train.classes().names().to_vec(),
        rows: ablation.rows.clone(),
        best,
        fits: ablation.fits.clone(),
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
        let artifact = ablation.artifact_of(&report.best.row).expect("the best row was fitted");
        std::fs::write(path, artifact.to_bytes()?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(gates(args, &report.best.row))
}

fn parse_stage(s: &str) -> Result<Stage, String> {
    s.parse().map_err(|e| format!("{e}"))
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
