//! `vigil-eval realcheck`: a real log through the engine (time order, the serving window
//! policy and feeds of the shared configuration), each source's final verdict compared with
//! transparent weak labels (`vigil_evaluate::weak_labels`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use vigil_engine::{Config, Engine, LoadedModel};
use vigil_features::Format;

use crate::Outcome;

/// Flags of `vigil-eval realcheck`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// The log (plain or gzip).
    #[arg(long)]
    input: PathBuf,
    /// Its format.
    #[arg(long, default_value = "cowrie", value_parser = parse_format)]
    format: Format,
    /// The model registry whose champion scores (default: the shared config's `registry`).
    #[arg(long)]
    registry: Option<PathBuf>,
    /// The shared configuration file (window policy, feeds, registry).
    #[arg(long, env = "VIGIL_CONFIG")]
    config: Option<PathBuf>,
    /// Events per ingest batch (the log is replayed in time order).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Write the check as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Gate: exit 1 if any weak class's agreement is below this.
    #[arg(long)]
    min_agreement: Option<f64>,
    /// Gate: exit 1 if more than this share of sources is called Normal.
    #[arg(long)]
    max_normal_share: Option<f64>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e| format!("{e}"))
}

pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    let registry = args.registry.clone().unwrap_or_else(|| config.registry.clone());
    let reader = vigil_registry::RegistryReader::open(&registry)
        .with_context(|| format!("opening the registry {}", registry.display()))?;
    let (manifest, bytes) = reader.load_champion()?.with_context(|| {
        format!(
            "the registry {} has no champion (run vigil-worker once, or start the server once)",
            registry.display()
        )
    })?;
    let model = LoadedModel::from_bytes(manifest.version.clone(), serde_json::json!({}), &bytes)?;
    let mut parsed = vigil_features::parse_file(args.format, &args.input)
        .with_context(|| format!("parsing {}", args.input.display()))?;
    parsed.events.sort_by_key(|e| e.timestamp);
    let labels = vigil_evaluate::weak_labels(&parsed.events);

    // A scratch store; windows large enough that no source is evicted mid-log.
    let scratch = tempfile::tempdir()?;
    config.database = scratch.path().join("vigil.db");
    config.registry = registry;
    config.redis = None;
    config.learning.bootstrap.enabled = false;
    config.windows.max_entities = 1_000_000;
    config.windows.max_total_events = 100_000_000;
    config.windows.max_total_bytes = 1 << 40;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let verdicts: BTreeMap<IpAddr, String> = runtime.block_on(async {
        let engine = Engine::open(config).await?;
        engine.set_model(model);
        let mut last = BTreeMap::new();
        for batch in parsed.events.chunks(args.batch.max(1)) {
            for verdict in engine.ingest(batch.to_vec()).await?.verdicts {
                let ip: IpAddr = verdict.entity.parse()?;
                last.insert(ip, verdict.class().to_owned());
            }
        }
        anyhow::Ok(last)
    })?;
    let check = vigil_evaluate::real_check(&labels, &verdicts);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} events ({} rejected), champion {} ({})\n",
        args.input.display(),
        parsed.events.len(),
        parsed.rejected.len(),
        manifest.version,
        manifest.training_summary.get("model").and_then(|m| m.as_str()).unwrap_or("?")
    )?;
    write!(out, "{}", check.markdown())?;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&check)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let low = args
        .min_agreement
        .is_some_and(|min| check.agreement.iter().any(|a| a.sources > 0 && a.agreement < min));
    let normal = args.max_normal_share.is_some_and(|max| check.normal_share > max);
    Ok(if low || normal { Outcome::GateFailed } else { Outcome::Pass })
}
