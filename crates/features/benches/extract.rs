//! Feature extraction throughput on seeded 1,000-event windows, and the end-to-end time to
//! parse the kareiva Cowrie log (49 MB uncompressed, gzip) and extract every source's
//! features, single-threaded.
//!
//! `cargo bench -p vigil-features --bench extract`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vigil_features::{Event, Format, Intel, extract, extract_with, group_by_source, parse_file};

#[path = "support/synthetic.rs"]
mod synthetic;

fn bench_extract(c: &mut Criterion) {
    let intel = Intel::new();
    let mut group = c.benchmark_group("extract");
    for n in [100usize, 1_000, 10_000] {
        let windows: Vec<Vec<Event>> = synthetic::windows(7, 8, n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &windows, |b, windows| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % windows.len();
                black_box(extract(black_box(&windows[i]), &intel))
            });
        });
    }
    group.finish();
}

fn bench_kareiva(c: &mut Criterion) {
    let path = synthetic::kareiva_path();
    if !path.is_file() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipping kareiva benchmark: {} is missing", path.display());
        }
        return;
    }
    let intel = Intel::new();
    let mut group = c.benchmark_group("kareiva");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("parse_group_extract", |b| {
        b.iter(|| {
            let parsed = parse_file(Format::Cowrie, &path).unwrap();
            let feeds = intel.snapshot();
            let windows = group_by_source(parsed.events);
            let vectors: Vec<_> = windows.values().map(|w| extract_with(w, &feeds)).collect();
            black_box(vectors)
        });
    });
    group.finish();
}

criterion_group!(benches, bench_extract, bench_kareiva);
criterion_main!(benches);
