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
    /// Its format: auto, cowrie, suricata, ingest, web or jsonl.
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
    /// The shared configuration file (server and worker): its `[windows]` policy and
    /// `[intel]` feeds are used, as serving uses them. Default: the embedded defaults.
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

/// Parses, labels, groups, extracts, writes; prints counts and the time of each stage.
pub(crate) fn run(args: &Args) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    let clock = Instant::now();
    let config = match &args.config {
        Some(path) => vigil_engine::Config::from_file(path)?,
        None => vigil_engine::Config::default(),
    };
    config.check()?;
    let intel = config.intel.load()?;
    for (kind, path) in &args.feeds {
        intel
            .load(*kind, path)
            .with_context(|| format!("loading {kind} feed {}", path.display()))?;
    }
    let intel_seconds = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let parsed = vigil_features::parse_file(args.format, &args.input)
        .with_context(|| format!("parsing {}", args.input.display()))?;
    let parse_seconds = clock.elapsed().as_secs_f64();
    writeln!(
        out,
        "parsed {} as {}: {} events, {} rejected records, {} skipped records",
        args.input.display(),
        parsed.format,
        parsed.events.len(),
        parsed.rejected.len(),
        parsed.skipped
    )?;
    for rejected in parsed.rejected.iter().take(args.show_rejected) {
        writeln!(out, "  rejected {rejected}")?;
    }
    if parsed.rejected.len() > args.show_rejected {
        writeln!(out, "  ... and {} more", parsed.rejected.len() - args.show_rejected)?;
    }

    // Only the generic JSONL form carries labels (a `label` field per line).
    let clock = Instant::now();
    let labels = if parsed.format == Format::Jsonl {
        read_labels_file(&args.input)
            .with_context(|| format!("reading labels of {}", args.input.display()))?
    } else {
        SourceLabels::default()
    };
    let label_seconds = clock.elapsed().as_secs_f64();

    // The windows the engine would hold after ingesting the log (the one window policy).
    let clock = Instant::now();
    let featurizer = Featurizer::new(config.windows.policy(), intel.snapshot());
    let windows = featurizer.windows(parsed.events);
    let group_seconds = clock.elapsed().as_secs_f64();

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

    let clock = Instant::now();
    let rows: Vec<(IpAddr, vigil_features::FeatureVector)> =
        windows.iter().map(|(ip, window)| (*ip, featurizer.extract(window))).collect();
    let extract_seconds = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let write = || -> Result<()> {
        let mut writer = csv::Writer::from_path(&args.out)?;
        let mut header = vec!["entity"];
        header.extend(feature_names().iter().copied());
        if labelled {
            header.push("label");
        }
        writer.write_record(&header)?;
        let mut record: Vec<String> = Vec::with_capacity(header.len());
        for (ip, features) in &rows {
            record.clear();
            record.push(ip.to_string());
            record.extend(features.as_slice().iter().map(f32::to_string));
            if labelled {
                let class = labels.by_source[ip];
                record.push(classes.name(class).unwrap_or("?").to_owned());
            }
            writer.write_record(&record)?;
        }
        writer.flush()?;
        Ok(())
    };
    write().with_context(|| format!("writing {}", args.out.display()))?;
    let write_seconds = clock.elapsed().as_secs_f64();

    writeln!(
        out,
        "wrote {} entities x {} features (schema {SCHEMA_VERSION}, featurizer {}){} to {}",
        rows.len(),
        feature_names().len(),
        featurizer.version(),
        if labelled { " + label" } else { "" },
        args.out.display()
    )?;
    writeln!(
        out,
        "seconds: intel {intel_seconds:.3}, parse {parse_seconds:.3}, labels {label_seconds:.3}, \
         group {group_seconds:.3}, extract {extract_seconds:.3}, write {write_seconds:.3}"
    )?;
    Ok(Outcome::Pass)
}
