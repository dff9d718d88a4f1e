//! `vigil-eval explain`: why a champion decided what it did, for a row of a features CSV or
//! for one source of a log (scored over the serving window), as `?explain=` answers it.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use vigil_engine::{Config, Engine};
use vigil_features::Format;

use crate::Outcome;

/// Flags of `vigil-eval explain`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// A features CSV (as `vigil-eval features` writes it: `entity`, the 100 features, and
    /// perhaps `label`).
    #[arg(long, conflicts_with = "input")]
    csv: Option<PathBuf>,
    /// With `--csv`: the entity whose row to explain (default: the first row).
    #[arg(long)]
    entity: Option<String>,
    /// A log; explain one of its sources.
    #[arg(long, requires = "source")]
    input: Option<PathBuf>,
    /// With `--input`: the source address.
    #[arg(long)]
    source: Option<IpAddr>,
    /// The log's format.
    #[arg(long, default_value = "auto", value_parser = crate::realcheck::parse_format)]
    format: Format,
    /// The model registry whose champion explains (default: the shared config's `registry`).
    #[arg(long)]
    registry: Option<PathBuf>,
    /// The shared configuration file (window policy, feeds, registry).
    #[arg(long, env = "VIGIL_CONFIG")]
    config: Option<PathBuf>,
    /// How many features to show, largest contribution first.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print the verdict with its explanation as JSON instead.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let config = Config::load(args.config.as_deref())?;
    let registry = args.registry.clone().unwrap_or_else(|| config.registry.clone());
    let model = vigil_engine::load_champion_from(&registry)?
        .with_context(|| format!("the registry {} has no champion", registry.display()))?;
    let scratch = tempfile::tempdir()?;
    let config = config.for_replay(scratch.path());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let engine = runtime.block_on(Engine::open(config))?;
    engine.set_model(model);
    let verdict = match (&args.csv, &args.input, args.source) {
        (Some(csv), None, _) => {
            let (entity, values) = csv_row(csv, args.entity.as_deref())?;
            engine.score_vector(&values, Some(&entity))?
        }
        (None, Some(log), Some(source)) => {
            let parsed = vigil_features::parse_file(args.format, log)
                .with_context(|| format!("parsing {}", log.display()))?;
            let events: Vec<_> = parsed.events.into_iter().filter(|e| e.src_ip == source).collect();
            if events.is_empty() {
                bail!("{} has no events from {source}", log.display());
            }
            engine.score_events(events, None)?
        }
        _ => bail!("give --csv FILE [--entity E], or --input LOG --source IP"),
    };
    let explanation = verdict.explain(Some(args.top.max(1)))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut value = serde_json::to_value(&verdict)?;
        value["explanation"] = explanation;
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(Outcome::Pass);
    }
    writeln!(
        out,
        "{}: {} (confidence {:.3}, route {}), model {}\n{} of {}: raw score {:.4} = {:.4} at the \
         training mean + the contributions\n",
        verdict.entity,
        verdict.class(),
        verdict.confidence(),
        verdict.route,
        verdict.model().version(),
        explanation["method"].as_str().unwrap_or_default(),
        verdict.class(),
        explanation["score"].as_f64().unwrap_or(f64::NAN),
        explanation["base"].as_f64().unwrap_or(f64::NAN),
    )?;
    writeln!(out, "| feature | value | contribution |\n|---|---|---|")?;
    for c in explanation["contributions"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "| {} | {} | {:+.4} |",
            c["feature"].as_str().unwrap_or_default(),
            c["value"],
            c["contribution"].as_f64().unwrap_or(f64::NAN)
        )?;
    }
    Ok(Outcome::Pass)
}

/// The entity and the features of one row of a features CSV (the first, or `entity`'s).
fn csv_row(path: &std::path::Path, entity: Option<&str>) -> Result<(String, Vec<f32>)> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let names = vigil_features::feature_names();
    let columns: Vec<usize> = names
        .iter()
        .map(|name| {
            headers.iter().position(|h| h == *name).with_context(|| {
                format!(
                    "{} has no column {name} (write it with vigil-eval features)",
                    path.display()
                )
            })
        })
        .collect::<Result<_>>()?;
    let entity_column = headers.iter().position(|h| h == "entity");
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} line {}", path.display(), line + 2))?;
        let name = entity_column.and_then(|c| record.get(c)).unwrap_or("row").to_owned();
        if entity.is_some_and(|e| e != name) {
            continue;
        }
        let values = columns
            .iter()
            .map(|&c| {
                let text = record.get(c).unwrap_or_default();
                text.trim().parse::<f32>().with_context(|| {
                    format!(
                        "{} line {}, column {}: {text:?} is not a number",
                        path.display(),
                        line + 2,
                        headers.get(c).unwrap_or("?")
                    )
                })
            })
            .collect::<Result<Vec<f32>>>()?;
        return Ok((name, values));
    }
    match entity {
        Some(e) => bail!("{} has no row for entity {e}", path.display()),
        None => bail!("{} has no rows", path.display()),
    }
}
