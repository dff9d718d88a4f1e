//! Criterion benchmarks of vigil-loss: the loss and its gradient for cross-entropy,
//! class-weighted cross-entropy and focal loss, 5 classes, batches of 256 to 4096 rows.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_loss::{Loss, WeightScheme, class_weights};

const CLASSES: usize = 5;
const BATCH_SIZES: [usize; 3] = [256, 1024, 4096];
/// Class counts of an imbalanced IDS training set (2000:1), for realistic weights.
const COUNTS: [usize; CLASSES] = [100_000, 5_000, 1_000, 200, 50];

/// Logits in [-6, 6) and uniform targets, the same for every run.
fn batch(rows: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let logits = Array2::from_shape_fn((rows, CLASSES), |_| rng.random_range(-6.0_f32..6.0));
    let targets = (0..rows).map(|_| rng.random_range(0..CLASSES)).collect();
    (logits, targets)
}

fn losses() -> [(&'static str, Loss); 3] {
    let weights = class_weights(&COUNTS, WeightScheme::InverseFrequency).unwrap();
    let alpha = class_weights(&COUNTS, WeightScheme::EffectiveNumber { beta: 0.999 }).unwrap();
    [
        ("cross_entropy", Loss::CrossEntropy),
        ("weighted", Loss::Weighted { weights }),
        ("focal", Loss::Focal { alpha, gamma: 2.0, label_smoothing: 0.05 }),
    ]
}

fn loss_and_grad(c: &mut Criterion) {
    let losses = losses();
    let mut group = c.benchmark_group("loss_and_grad");
    for rows in BATCH_SIZES {
        let (logits, targets) = batch(rows, 42);
        group.throughput(Throughput::Elements(rows as u64));
        for (name, loss) in &losses {
            group.bench_with_input(BenchmarkId::new(*name, rows), &rows, |b, _| {
                b.iter(|| {
                    loss.loss_and_grad(black_box(logits.view()), black_box(&targets)).unwrap()
                });
            });
        }
    }
    group.finish();
}

/// The training-loop form: the gradient buffer is reused, so nothing is allocated per call
/// but `2K` scratch values.
fn loss_and_grad_into(c: &mut Criterion) {
    let losses = losses();
    let mut group = c.benchmark_group("loss_and_grad_into");
    for rows in BATCH_SIZES {
        let (logits, targets) = batch(rows, 42);
        let mut grad = Array2::zeros((rows, CLASSES));
        group.throughput(Throughput::Elements(rows as u64));
        for (name, loss) in &losses {
            group.bench_with_input(BenchmarkId::new(*name, rows), &rows, |b, _| {
                b.iter(|| {
                    loss.loss_and_grad_into(
                        black_box(logits.view()),
                        black_box(&targets),
                        grad.view_mut(),
                    )
                    .unwrap()
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, loss_and_grad, loss_and_grad_into);
criterion_main!(benches);
