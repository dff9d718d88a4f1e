//! `vigil-eval realcheck`: a real log through the engine (time order, the serving window
//! policy and feeds of the shared configuration), each source's final verdict compared with
//! labels: the transparent honeypot weak labels (`vigil_evaluate::weak_labels`), or for a
//! Zeek log, its per-flow labels (`vigil_evaluate::flow_labels`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use vigil_engine::{Config, Engine};
use vigil_features::Format;

use crate::Outcome;

/// Flags of `vigil-eval realcheck`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// The log (plain or gzip).
    #[arg(long)]
    input: PathBuf,
    /// Its format. With `zeek`, sources are labelled from the log's per-flow `label`
    /// column (attacker: all flows Malicious; benign: a Benign flow) instead of by the
    /// honeypot weak-label rules; T-Pot's sensors (`tanner`, `heralding`, `elasticpot`,
    /// `adbhoney`) add Web Attack for injected requests and count Brute Force from 10
    /// attempts.
    #[arg(long, default_value = "cowrie", value_parser = parse_format)]
    format: Format,
    /// The model registry whose champion scores (default: the shared config's `registry`).
    #[arg(long)]
    registry: Option<PathBuf>,
    /// The shared configuration file (window policy, feeds, registry).
    #[arg(long, env = "VIGIL_CONFIG")]
    config: Option<PathBuf>,
    /// Write the check as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the check as a self-contained HTML page.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Gate: exit 1 if any label's agreement is below this.
    #[arg(long)]
    min_agreement: Option<f64>,
    /// Gate: exit 1 if more than this share of sources is called Normal.
    #[arg(long)]
    max_normal_share: Option<f64>,
}

pub(crate) fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e| format!("{e}"))
}

pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let config = Config::load(args.config.as_deref())?;
    let registry = args.registry.clone().unwrap_or_else(|| config.registry.clone());
    let model = vigil_engine::load_champion_from(&registry)?.with_context(|| {
        format!(
            "the registry {} has no champion (run vigil-worker once, or start the server once)",
            registry.display()
        )
    })?;
    let (version, kind) = (model.version().to_owned(), model.artifact().model.name());
    let options = config.input.parse_options(None)?;
    let parsed = vigil_features::parse_file_opts(args.format, &args.input, &options)
        .with_context(|| format!("parsing {}", args.input.display()))?;
    let (set, labels) = if parsed.format == Format::Zeek {
        let reader = vigil_features::open_log(&args.input)?;
        let labels = vigil_evaluate::flow_labels(reader)
            .with_context(|| format!("reading labels of {}", args.input.display()))?;
        anyhow::ensure!(
            !labels.is_empty(),
            "{} has no labelled source: a Zeek log needs a `label` column (Malicious, Benign)",
            args.input.display()
        );
        (&vigil_evaluate::FLOW_LABELS[..], labels)
    } else if matches!(
        parsed.format,
        Format::Tanner | Format::Heralding | Format::Elasticpot | Format::Adbhoney
    ) {
        (&vigil_evaluate::SENSOR_LABELS[..], vigil_evaluate::sensor_labels(&parsed.events))
    } else {
        (&vigil_evaluate::HONEYPOT_LABELS[..], vigil_evaluate::weak_labels(&parsed.events))
    };
    let scratch = tempfile::tempdir()?;
    let config = config.for_replay(scratch.path());
    let events = parsed.events.len();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let verdicts: BTreeMap<IpAddr, String> = runtime.block_on(async {
        let engine = Engine::open(config).await?;
        engine.set_model(model);
        // In time order, 1,000 events per batch, as a log shipper would send it.
        let last = engine.replay(parsed.events, 1000).await?;
        anyhow::Ok(last.into_iter().map(|(ip, v)| (ip, v.class().to_owned())).collect())
    })?;
    let check = vigil_evaluate::real_check_with(set, &labels, &verdicts);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {events} events ({} rejected), champion {version} ({kind})\n",
        args.input.display(),
        parsed.rejected.len(),
    )?;
    write!(out, "{}", check.markdown())?;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&check)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let title = format!("{}, champion {version} ({kind})", args.input.display());
        std::fs::write(path, check.html(&title))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let low = args
        .min_agreement
        .is_some_and(|min| check.agreement.iter().any(|a| a.sources > 0 && a.agreement < min));
    let normal = args.max_normal_share.is_some_and(|max| check.normal_share > max);
    Ok(if low || normal { Outcome::GateFailed } else { Outcome::Pass })
}
