//! Durable sample inserts: one at a time (one fsync each) and from many concurrent inserters
//! (group commit), on a real file.
//!
//! `cargo bench -p vigil-store --bench samples`

use std::io::Write;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vigil_store::{NewSample, SampleStore, Verdict};

fn sample(i: usize) -> NewSample {
    NewSample {
        entity: format!("10.0.{}.{}", (i >> 8) & 255, i & 255),
        schema_version: "v1".into(),
        features: (0..100).map(|j| (i + j) as f32).collect(),
        model_version: "m1".into(),
        ml_prediction: "Brute Force".into(),
        ml_confidence: 0.7,
        verdict: if i.is_multiple_of(7) { Verdict::Override } else { Verdict::Confirm },
        correct_label: (i.is_multiple_of(7)).then(|| "Normal".to_owned()),
        route: None,
    }
}

const PER_ITERATION: usize = 1024;

fn inserts(c: &mut Criterion) {
    // In the target directory, on the same disk as the build: a real fsync, not tmpfs.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = SampleStore::open(dir.path().join("bench.db")).unwrap();
    let mut group = c.benchmark_group("samples");
    group.bench_function("insert_one_durable", |b| {
        b.iter(|| store.insert(sample(1)).unwrap());
    });
    group.throughput(Throughput::Elements(PER_ITERATION as u64));
    for inserters in [8, 64] {
        group.bench_with_input(
            BenchmarkId::new("insert_concurrent", inserters),
            &inserters,
            |b, &n| {
                b.iter(|| {
                    std::thread::scope(|s| {
                        for t in 0..n {
                            let store = &store;
                            s.spawn(move || {
                                for i in 0..PER_ITERATION / n {
                                    store.insert(sample(t * PER_ITERATION + i)).unwrap();
                                }
                            });
                        }
                    });
                });
            },
        );
    }
    group.finish();
    let counts = store.commit_counts();
    let _ = writeln!(
        std::io::stderr(),
        "group commit: {} writes in {} commits ({:.1} per fsync)",
        counts.writes,
        counts.commits,
        counts.writes as f64 / counts.commits.max(1) as f64
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = inserts
}
criterion_main!(benches);
