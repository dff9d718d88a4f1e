//! SMOTE (vigil-balance) on seeded synthetic data at several sizes, and on NSL-KDD's full
//! KDDTrain+ (every class up to the majority) when the file is present.
#![allow(missing_docs)]

use std::collections::{BTreeSet, HashMap};
use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::{Array2, Axis, concatenate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_balance::{BalanceParams, Method, balance};
use vigil_core::Standardizer;

const NSL_KDD: &str = "/work/shared/datasets/nsl-kdd";

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

/// NSL-KDD's KDDTrain+ as 122 columns: the 38 numeric columns standardised, protocol,
/// service and flag one-hot encoded (vocabulary from the file, sorted), labels mapped to
/// normal, DoS, Probe, R2L, U2R. `None` if the files are absent.
fn nsl_kdd() -> Option<(Array2<f32>, Vec<usize>)> {
    let text = std::fs::read_to_string(Path::new(NSL_KDD).join("KDDTrain+.txt")).ok()?;
    let categories: HashMap<String, usize> =
        std::fs::read_to_string(Path::new(NSL_KDD).join("attack_categories.csv"))
            .ok()?
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut fields = line.split(',');
                let label = fields.next()?.to_owned();
                let category = fields.next()?;
                let class =
                    ["normal", "DoS", "Probe", "R2L", "U2R"].iter().position(|&c| c == category)?;
                Some((label, class))
            })
            .collect();
    let rows: Vec<Vec<&str>> =
        text.lines().filter(|l| !l.is_empty()).map(|l| l.split(',').collect()).collect();
    let vocab: Vec<Vec<&str>> = (1..4)
        .map(|c| rows.iter().map(|r| r[c]).collect::<BTreeSet<_>>().into_iter().collect())
        .collect();
    let numeric: Vec<usize> = (0..41).filter(|c| !(1..4).contains(c)).collect();
    let width: usize = vocab.iter().map(Vec::len).sum();
    let mut x_num = Array2::<f32>::zeros((rows.len(), numeric.len()));
    let mut x_hot = Array2::<f32>::zeros((rows.len(), width));
    let mut y = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        for (j, &c) in numeric.iter().enumerate() {
            x_num[[i, j]] = row[c].parse().ok()?;
        }
        let mut offset = 0;
        for (values, c) in vocab.iter().zip(1..4) {
            x_hot[[i, offset + values.binary_search(&row[c]).ok()?]] = 1.0;
            offset += values.len();
        }
        y.push(*categories.get(row[41])?);
    }
    Standardizer::fit(x_num.view()).ok()?.transform_in_place(&mut x_num).ok()?;
    Some((concatenate(Axis(1), &[x_num.view(), x_hot.view()]).ok()?, y))
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
