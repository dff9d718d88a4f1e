//! Parser throughput in records per second, single-threaded, from memory: the Zeek `conn`
//! logs of `../shared/datasets/zeek` (the labelled 008 day in Zeek's ASCII form, the 002
//! port scan in its JSON form) and the four T-Pot logs of `../shared/datasets/tpot`, each
//! decompressed once before timing.
//!
//! `cargo bench -p vigil-features --bench parse`

use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_features::{Format, parse_lines};

fn shared(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets").join(name)
}

fn bench_zeek(c: &mut Criterion) {
    bench_logs(
        c,
        "zeek_conn",
        &[
            ("ascii", Format::Zeek, "zeek/stratosphere_008-zeek-mixed_conn.log.labeled.gz"),
            ("json", Format::Zeek, "zeek/stratosphere_002-zeek-scenario-port-scanning_conn.log.gz"),
        ],
    );
}

fn bench_tpot(c: &mut Criterion) {
    bench_logs(
        c,
        "tpot",
        &[
            ("tanner", Format::Tanner, "tpot/tanner_sweetie-tpot_rotations30-16.json.gz"),
            ("heralding", Format::Heralding, "tpot/heralding_sweetie-tpot_rotations25-22.json.gz"),
            (
                "elasticpot",
                Format::Elasticpot,
                "tpot/elasticpot_sweetie-tpot_rotations30-16.json.gz",
            ),
            ("adbhoney", Format::Adbhoney, "tpot/adbhoney_sweetie-tpot_rotations30-16.json.gz"),
        ],
    );
}

/// Records (non-blank lines that are not `#` headers) per second of each log.
fn bench_logs(c: &mut Criterion, name: &str, logs: &[(&str, Format, &str)]) {
    let mut group = c.benchmark_group(name);
    for &(id, format, name) in logs {
        let path = shared(name);
        let Ok(file) = std::fs::File::open(&path) else {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("skipping {id}: {} is missing", path.display());
            }
            continue;
        };
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(file).read_to_end(&mut text).unwrap();
        let records =
            text.split(|&b| b == b'\n').filter(|l| l.first().is_some_and(|b| *b != b'#')).count();
        group.throughput(Throughput::Elements(records as u64));
        group.bench_function(id, |b| {
            b.iter(|| {
                let out = parse_lines(format, black_box(text.as_slice())).unwrap();
                assert!(out.rejected.is_empty());
                black_box(out)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_zeek, bench_tpot);
criterion_main!(benches);
