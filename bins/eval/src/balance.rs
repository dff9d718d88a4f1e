//! `vigil-eval balance`: resample a training file and time it, to compare with
//! imbalanced-learn on the same data (../shared/tools/peer-smote.py).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use vigil_balance::{BalanceParams, Balanced, MethodChoice, Strategy};
use vigil_core::{Dataset, Standardizer};

use crate::Outcome;
use crate::data::DataArgs;

/// Flags of `vigil-eval balance`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Balancing method: auto, random-over, random-under, smote, borderline-smote-1,
    /// borderline-smote-2, adasyn, smote-tomek, smote-enn.
    #[arg(long, default_value = "smote")]
    method: MethodChoice,
    /// Target: not-majority (every class up to the majority count) or seed-default
    /// (30% normal, the rest shared by the attack classes).
    #[arg(long, default_value = "not-majority", value_parser = ["not-majority", "seed-default"])]
    strategy: String,
    /// Neighbours for SMOTE-family methods.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the resampled rows (standardised features and the class name) as CSV.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Loads, standardises (as imbalanced-learn's comparison script does), balances, reports.
pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let started = Instant::now();
    let (data, _, report) = args.data.load_train()?;
    let x = Standardizer::fit(data.features())?.transform(data.features())?;
    let load_seconds = started.elapsed().as_secs_f64();

    let n_classes = data.classes().len();
    let strategy = match args.strategy.as_str() {
        "seed-default" => Strategy::seed_default(n_classes),
        _ => Strategy::Auto,
    };
    let params = BalanceParams {
        method: args.method,
        strategy,
        k_neighbors: args.k,
        seed: args.seed,
        ..BalanceParams::default()
    };
    let started = Instant::now();
    let balanced = vigil_balance::balance(x.view(), data.labels(), n_classes, &params)?;
    let balance_seconds = started.elapsed().as_secs_f64();

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "loaded {} rows x {} features in {load_seconds:.3}s",
        report.rows,
        data.n_features()
    )?;
    write!(out, "{}", balanced.report.table(data.classes().names()))?;
    writeln!(out, "balance seconds: {balance_seconds:.3}")?;
    if let Some(path) = &args.out {
        write_csv(path, &data, &balanced)
            .with_context(|| format!("writing resampled rows to {}", path.display()))?;
        writeln!(out, "wrote {} rows to {}", balanced.y.len(), path.display())?;
    }
    Ok(Outcome::Pass)
}

fn write_csv(path: &PathBuf, data: &Dataset, balanced: &Balanced) -> Result<()> {
    let mut writer = csv::Writer::from_path(path)?;
    let mut header: Vec<&str> = data.feature_names().iter().map(String::as_str).collect();
    header.push("label");
    writer.write_record(&header)?;
    let mut record = Vec::with_capacity(header.len());
    for (row, &label) in balanced.x.rows().into_iter().zip(&balanced.y) {
        record.clear();
        record.extend(row.iter().map(f32::to_string));
        record.push(data.classes().name(label).unwrap_or("?").to_owned());
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}
