//! `vigil-eval features`: parse an event log, group it by source address and write one row
//! of the 100 schema-v1 features per entity (plus the label when the input carries one):
//! per source, exactly the vector the engine holds after ingesting the same log, under the
//! window policy and feeds of the shared configuration (`--config`) plus any `--feed`.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use vigil_core::ClassSet;
use vigil_datasets::simulate::{SourceLabels, read_labels_file};
use vigil_features::{Featurizer, FeedKind, Format, SCHEMA_VERSION, feature_names};

use crate::Outcome;

/// Flags of `vigil-eval features`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// Event log, plain or gzip-compressed.
    #[arg(long)]
    input: PathBuf,
    /// Its format: auto, cowrie, suricata, ingest, web, jsonl, zeek, tanner, heralding,
    /// elasticpot or adbhoney.
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    format: Format,
    /// Output CSV: `entity`, the 100 features, and `label` when the input carries labels
    /// (a `label` field on JSONL lines, as `vigil-eval simulate` writes).
    #[arg(long)]
    out: PathBuf,
    /// A threat-intel feed as KIND=PATH (repeatable). KIND: tor-exits, c2, blocklist (named
    /// after the file; give several), reputation, asn, asn-reputation, domain-ages. Without
    /// feeds the threat-intel features take their "not listed" values.
    #[arg(long = "feed", value_name = "KIND=PATH", value_parser = parse_feed)]
    feeds: Vec<(FeedKind, PathBuf)>,
    /// The shared configuration file (server and worker): its `[input]` time zones,
    /// `[windows]` policy and `[intel]` feeds are used, as serving uses them. Default: the
    /// embedded defaults.
    #[arg(long, env = "VIGIL_CONFIG")]
    config: Option<PathBuf>,
    /// How many rejected records to show.
    #[arg(long, default_value_t = 5)]
    show_rejected: usize,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_feed(s: &str) -> Result<(FeedKind, PathBuf), String> {
    let (kind, path) = s.split_once('=').ok_or_else(|| format!("{s:?} is not KIND=PATH"))?;
    let kind = kind.parse().map_err(|e| format!("{e}"))?;
    Ok((kind, PathBuf::from(path)))
}

/// Parses, labels, groups, extracts, writes; prints counts and the time taken.
pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    let started = Instant::now();
    let config = vigil_engine::Config::load(args.config.as_deref())?;
    config.check()?;
    let intel = config.intel.load()?;
    for (kind, path) in &args.feeds {
        intel
            .load(*kind, path)
            .with_context(|| format!("loading {kind} feed {}", path.display()))?;
    }

    let parsed = vigil_features::parse_file_opts(
        args.format,
        &args.input,
        &config.input.parse_options(None)?,
    )
    .with_context(|| format!("parsing {}", args.input.display()))?;
    writeln!(
        out,
        "parsed {} as {}: {} events, {} rejected records, {} skipped records",
        args.input.display(),
        parsed.format,
        parsed.events.len(),
        parsed.rejected.len(),
        parsed.skipped
    )?;
    if parsed.naive_times > 0 {
        writeln!(
            out,
            "  {} event times had no UTC offset: read in {}",
            parsed.naive_times, parsed.time_zone
        )?;
    }
    for rejected in parsed.rejected.iter().take(args.show_rejected) {
        writeln!(out, "  rejected {rejected}")?;
    }
    if parsed.rejected.len() > args.show_rejected {
        writeln!(out, "  ... and {} more", parsed.rejected.len() - args.show_rejected)?;
    }

    // Only the generic JSONL form carries labels (a `label` field per line).
    let labels = if parsed.format == Format::Jsonl {
        read_labels_file(&args.input)
            .with_context(|| format!("reading labels of {}", args.input.display()))?
    } else {
        SourceLabels::default()
    };

    // The windows the engine would hold after ingesting the log (the one window policy).
    let featurizer = Featurizer::new(config.windows.policy(), intel.snapshot());
    let windows = featurizer.windows(parsed.events);

    let classes = ClassSet::threat();
    let labelled = !labels.is_empty();
    if labelled {
        writeln!(
            out,
            "labels: {} labelled lines, {} without a label; {} labelled sources",
            labels.labelled_lines,
            labels.unlabelled_lines,
            labels.by_source.len()
        )?;
        let missing: Vec<&IpAddr> =
            windows.keys().filter(|ip| !labels.by_source.contains_key(ip)).collect();
        if let Some(first) = missing.first() {
            bail!(
                "{} of {} entities have no label (first: {first}); a labelled input needs a \
                 label for every source",
                missing.len(),
                windows.len()
            );
        }
    } else {
        writeln!(out, "labels: none (no \"label\" field in the input)")?;
    }

    let rows: Vec<(IpAddr, vigil_features::FeatureVector)> =
        windows.iter().map(|(ip, window)| (*ip, featurizer.extract(window))).collect();

    let write = || -> Result<()> {
        let mut writer = csv::Writer::from_path(&args.out)?;
        let names = feature_names().iter().copied();
        let label = labelled.then_some("label");
        writer.write_record(std::iter::once("entity").chain(names).chain(label))?;
        for (ip, features) in &rows {
            let values = features.as_slice().iter().map(f32::to_string);
            let label = labelled.then(|| classes.name(labels.by_source[ip]).unwrap_or("?").into());
            writer.write_record(std::iter::once(ip.to_string()).chain(values).chain(label))?;
        }
        Ok(writer.flush()?)
    };
    write().with_context(|| format!("writing {}", args.out.display()))?;

    writeln!(
        out,
        "wrote {} entities x {} features (schema {SCHEMA_VERSION}, featurizer {}){} to {}",
        rows.len(),
        feature_names().len(),
        featurizer.version(),
        if labelled { " + label" } else { "" },
        args.out.display()
    )?;
    writeln!(out, "seconds: {:.3}", started.elapsed().as_secs_f64())?;
    Ok(Outcome::Pass)
}
