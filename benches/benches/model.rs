//! Batch `predict_proba` throughput of the tree ensembles on seeded synthetic data shaped
//! like one-hot NSL-KDD (122 features, 5 classes), with models fitted outside the timing.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_core::{ClassSet, Dataset};
use vigil_model::{Classifier, Fit, ForestParams, GbdtParams};

const N_FEATURES: usize = 122;
const N_CLASSES: usize = 5;

/// `n` rows: 38 dense columns (class-shifted uniforms, so classes overlap and trees grow
/// full) and 84 one-hot columns in three groups, one hot per group, drawn per class.
fn synthetic(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<usize> =
        (0..n).map(|_| rng.random_range(0..N_CLASSES as u64) as usize).collect();
    let mut x = Array2::<f32>::zeros((n, N_FEATURES));
    for (r, &y) in labels.iter().enumerate() {
        for j in 0..38 {
            let shift = if j % N_CLASSES == y { 0.7 } else { 0.0 };
            x[[r, j]] = rng.random_range(0.0_f32..1.0) + shift;
        }
        for (start, width) in [(38, 3), (41, 70), (111, 11)] {
            let hot = if rng.random_bool(0.5) {
                y % width
            } else {
                rng.random_range(0..width as u64) as usize
            };
            x[[r, start + hot]] = 1.0;
        }
    }
    let names = (0..N_FEATURES).map(|j| format!("f{j}")).collect();
    let classes = ClassSet::new((0..N_CLASSES).map(|c| format!("c{c}"))).unwrap();
    Dataset::new(x, labels, names, classes).unwrap()
}

fn predict_proba(c: &mut Criterion) {
    let train = synthetic(20_000, 1);
    let gbdt = GbdtParams::new().max_rounds(100).early_stopping_rounds(None).fit(&train).unwrap();
    let forest = ForestParams::new().n_trees(100).fit(&train).unwrap();
    let models: [(&str, &dyn Classifier); 2] =
        [("gbdt_100_rounds", &gbdt), ("forest_100_trees", &forest)];
    let mut group = c.benchmark_group("predict_proba");
    group.sample_size(10);
    for rows in [1_000, 10_000] {
        let x = synthetic(rows, 2).features().to_owned();
        group.throughput(Throughput::Elements(rows as u64));
        for (name, model) in models {
            group.bench_with_input(BenchmarkId::new(name, rows), &x, |b, x| {
                b.iter(|| black_box(model.predict_proba(x.view()).unwrap()));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, predict_proba);
criterion_main!(benches);
