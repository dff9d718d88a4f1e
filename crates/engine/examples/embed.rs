//! vigil-engine linked into a program of your own: load the champion from a registry
//! directory (training a first one from simulated events if it has none), ingest a Cowrie
//! log in time order, and print one verdict per source.
//!
//! ```sh
//! cargo run --release -p vigil-engine --example embed -- var/registry cowrie.json.gz
//! ```
//!
//! A third argument names the sample store (default `var/vigil.db` beside the registry);
//! `VIGIL_CONFIG` names the shared configuration file, whose window policy and feeds are
//! the ones training used.

#![allow(clippy::print_stdout, clippy::print_stderr, reason = "an example prints its results")]

use std::path::PathBuf;
use std::process::ExitCode;

use vigil_engine::{Config, Engine};
use vigil_features::{Format, parse_file};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(registry), Some(log)) = (args.first(), args.get(1)) else {
        eprintln!("usage: embed REGISTRY COWRIE_LOG [DATABASE]");
        return ExitCode::from(2);
    };
    match run(registry.into(), log.into(), args.get(2).map(PathBuf::from)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embed: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(
    registry: PathBuf,
    log: PathBuf,
    database: Option<PathBuf>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = match std::env::var_os("VIGIL_CONFIG") {
        Some(path) => Config::from_file(path.as_ref())?,
        None => Config::default(),
    };
    // The store, base data and reports beside the registry, as `./var` holds them.
    let var = registry.parent().map_or_else(|| PathBuf::from("."), PathBuf::from);
    let rooted = Config::rooted_at(&var);
    config.database = database.unwrap_or(rooted.database);
    config.learning.base = rooted.learning.base;
    config.learning.reports = rooted.learning.reports;
    config.registry = registry;

    let engine = Engine::open(config).await?;
    engine.prepare().await?;
    let model = engine.model().ok_or("the registry has no champion")?;
    eprintln!("champion {} ({})", model.version(), model.artifact().model.name());

    let mut parsed = parse_file(Format::Cowrie, &log)?;
    eprintln!(
        "{}: {} events, {} rejected",
        log.display(),
        parsed.events.len(),
        parsed.rejected.len()
    );
    // Time order, as a log shipper would deliver it, in batches of 1,000 events.
    parsed.events.sort_by_key(|e| e.timestamp);
    let mut last = std::collections::BTreeMap::new();
    for batch in parsed.events.chunks(1000) {
        for verdict in engine.ingest(batch.to_vec()).await?.verdicts {
            last.insert(verdict.entity.clone(), verdict);
        }
    }
    println!("source\tclass\tconfidence\tevents");
    for (source, verdict) in &last {
        let events = verdict.window.map_or(0, |w| w.events);
        println!("{source}\t{}\t{:.3}\t{events}", verdict.class(), verdict.confidence());
    }
    Ok(())
}
