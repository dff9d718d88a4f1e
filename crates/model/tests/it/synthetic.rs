//! Seeded synthetic datasets.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_core::{ClassSet, Dataset};

fn dataset(features: Array2<f32>, labels: Vec<usize>, n_classes: usize) -> Dataset {
    let names = (0..features.ncols()).map(|j| format!("f{j}")).collect();
    let classes = ClassSet::new((0..n_classes).map(|c| format!("c{c}"))).unwrap();
    Dataset::new(features, labels, names, classes).unwrap()
}

/// XOR of the signs of `x0` and `x1` (uniform in [-1, 1]), plus `n_noise` uniform columns.
pub(crate) fn xor(n: usize, n_noise: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((n, 2 + n_noise), || rng.random_range(-1.0_f32..1.0));
    let labels = x.rows().into_iter().map(|r| usize::from((r[0] > 0.0) != (r[1] > 0.0))).collect();
    dataset(x, labels, 2)
}

/// Four classes by quadrant of `(x0, x1)`, plus a noise column: separable by two splits.
pub(crate) fn quadrants(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((n, 3), || rng.random_range(-1.0_f32..1.0));
    let labels = x
        .rows()
        .into_iter()
        .map(|r| usize::from(r[0] > 0.0) * 2 + usize::from(r[1] > 0.0))
        .collect();
    dataset(x, labels, 4)
}

/// Two classes on one feature that overlap on [1, 2]: class 0 uniform on [0, 2], class 1
/// uniform on [1, 3]; a second column is noise.
pub(crate) fn overlap(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let x = Array2::from_shape_fn((n, 2), |(r, c)| {
        if c == 0 {
            labels[r] as f32 + rng.random_range(0.0_f32..2.0)
        } else {
            rng.random_range(0.0_f32..1.0)
        }
    });
    dataset(x, labels, 2)
}
