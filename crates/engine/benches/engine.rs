//! What one verdict costs inside the engine, with no HTTP: a 100-event Cowrie entity
//! scored from parsed events (window policy, extraction, the model, the ledger), the same
//! from its raw log lines (parsing included), a bare feature vector, and the explanation of
//! a verdict (exact Shapley values of every feature).
//!
//! Setup (outside the timed closures): a champion bootstrapped in-process (1500 simulated
//! entities, the default recipe), and the first 100 events of the busiest source of a real
//! Cowrie log.
//!
//! `cargo bench -p vigil-engine --bench engine`

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use vigil_engine::{Config, Engine};
use vigil_features::{Format, parse_lines};

fn cowrie_lines() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cowrie/cowrie_scriptzteam_2017-11-04.json.gz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the benchmark needs ../shared/datasets beside the checkout",
            path.display()
        )
    });
    BufReader::new(flate2::read::MultiGzDecoder::new(file))
        .lines()
        .take(4000)
        .map_while(Result::ok)
        .filter(|l| {
            l.contains("\"src_ip\": \"91.195.103.212\"")
                || l.contains("\"src_ip\":\"91.195.103.212\"")
        })
        .take(100)
        .map(|l| l + "\n")
        .collect()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::rooted_at(dir.path());
    config.learning.bootstrap.entities = 1500;
    let engine: Engine = runtime.block_on(async {
        let engine = Engine::open(config).await.unwrap();
        engine.prepare().await.unwrap();
        engine
    });
    assert!(engine.model().is_some(), "a bootstrapped champion");
    let lines = cowrie_lines();
    let events = parse_lines(Format::Cowrie, lines.as_bytes()).unwrap().events;
    assert_eq!(events.len(), 100, "100 events of one source");

    let mut group = c.benchmark_group("engine");
    group.bench_function("score_events/100 cowrie events", |b| {
        b.iter(|| engine.score_events(black_box(events.clone()), None).unwrap());
    });
    group.bench_function("parse+score_events/100 cowrie lines", |b| {
        b.iter(|| {
            let parsed = parse_lines(Format::Cowrie, black_box(lines.as_bytes())).unwrap();
            engine.score_events(parsed.events, None).unwrap()
        });
    });
    let vector = engine.score_events(events.clone(), None).unwrap().features;
    group.bench_function("score_vector", |b| {
        b.iter(|| engine.score_vector(black_box(vector.as_slice()), None).unwrap());
    });
    let verdict = engine.score_events(events.clone(), None).unwrap();
    group.bench_function("explain/every feature", |b| {
        b.iter(|| black_box(&verdict).explain(None).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
