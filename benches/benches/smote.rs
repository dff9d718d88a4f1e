//! SMOTE (vigil-balance) on seeded synthetic data at several sizes, and on NSL-KDD's full
//! KDDTrain+ (every class up to the majority) when the file is present.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_balance::{BalanceParams, Method, balance};
use vigil_core::Standardizer;
use vigil_datasets::{Spec, load_train};

const NSL_KDD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/datasets/nsl-kdd");

/// `n` rows of `d` features in three imbalanced classes (80%, 15%, 5%), each a mixture of
/// a few Gaussian-like clusters, seeded.
fn synthetic(n: usize, d: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> =
        (0..12).map(|_| (0..d).map(|_| rng.random_range(-3.0..3.0)).collect()).collect();
    let mut x = Array2::zeros((n, d));
    let mut y = Vec::with_capacity(n);
    for (i, mut row) in x.outer_iter_mut().enumerate() {
        let class = match i * 20 / n {
            0..16 => 0,
            16..19 => 1,
            _ => 2,
        };
        let centre = &centres[class * 4 + rng.random_range(0..4)];
        for (v, &c) in row.iter_mut().zip(centre) {
            // The sum of three uniforms: roughly normal, cheap, and seeded.
            *v = c + (0..3).map(|_| rng.random_range(-0.5_f32..0.5)).sum::<f32>();
        }
        y.push(class);
    }
    (x, y)
}

fn smote_synthetic(c: &mut Criterion) {
    let params = BalanceParams::default().with_method(Method::Smote);
    let mut group = c.benchmark_group("smote/synthetic-d32");
    group.sample_size(10);
    for n in [2_000, 10_000, 50_000] {
        let (x, y) = synthetic(n, 32, 42);
        group.bench_with_input(BenchmarkId::from_parameter(n), &(x, y), |b, (x, y)| {
            b.iter(|| balance(black_box(x.view()), black_box(y), 3, &params).unwrap());
        });
    }
    group.finish();
}

/// NSL-KDD's KDDTrain+ (122 columns: one-hot protocol, service and flag), standardised as
/// imbalanced-learn's comparison script does. `None` if the data set is absent.
fn nsl_kdd() -> Option<(Array2<f32>, Vec<usize>)> {
    let (data, ..) = load_train(&Spec::NslKdd, Path::new(NSL_KDD).join("KDDTrain+.txt")).ok()?;
    let x = Standardizer::fit(data.features()).ok()?.transform(data.features()).ok()?;
    Some((x, data.labels().to_vec()))
}

#[allow(clippy::print_stderr)]
fn smote_nsl_kdd(c: &mut Criterion) {
    let Some((x, y)) = nsl_kdd() else {
        eprintln!("smote/nsl-kdd skipped: {NSL_KDD}/KDDTrain+.txt is not there");
        return;
    };
    let params = BalanceParams::default().with_method(Method::Smote);
    let mut group = c.benchmark_group("smote/nsl-kdd");
    group.sample_size(10);
    group.bench_function("kddtrain-plus-to-majority", |b| {
        b.iter(|| balance(black_box(x.view()), black_box(&y), 5, &params).unwrap());
    });
    group.finish();
}

criterion_group!(benches, smote_synthetic, smote_nsl_kdd);
criterion_main!(benches);
