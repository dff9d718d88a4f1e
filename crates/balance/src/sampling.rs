//! The generators: random over-sampling, SMOTE, Borderline-SMOTE 1 and 2, ADASYN, and
//! random under-sampling.

use rand::seq::index;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::knn::{Rows, knn};
use crate::{BalanceParams, Fallback, Method};

/// What an over-sampler appended, besides the features, and what happened on the way.
pub(crate) struct Generated {
    /// Class of each new row.
    pub(crate) labels: Vec<usize>,
    /// Smallest `k` interpolated with, if any.
    pub(crate) k_used: Option<usize>,
    pub(crate) fallbacks: Vec<Fallback>,
}

/// Appends `targets[c] - counts[c]` rows to every class `c` (row-major, to `out`), by
/// `method` (an over-sampler; SMOTE-Tomek and SMOTE-ENN generate as SMOTE). Classes are
/// treated in class order with one random stream seeded by `params.seed`.
pub(crate) fn over_sample(
    method: Method,
    x: Rows<'_>,
    y: &[usize],
    targets: &[usize],
    params: &BalanceParams,
    out: &mut Vec<f32>,
) -> Generated {
    let mut by_class = vec![Vec::new(); targets.len()];
    for (row, &label) in y.iter().enumerate() {
        by_class[label].push(row);
    }
    let mut sampler = Sampler {
        x,
        y,
        by_class,
        k: params.k_neighbors,
        m: params.m_neighbors,
        rng: ChaCha8Rng::seed_from_u64(params.seed),
        rows: out,
        out: Generated { labels: Vec::new(), k_used: None, fallbacks: Vec::new() },
    };
    for (class, &target) in targets.iter().enumerate() {
        let n_new = target.saturating_sub(sampler.by_class[class].len());
        if n_new == 0 {
            continue;
        }
        match method {
            // The under-sampler never generates; its arm only completes the match.
            Method::RandomOver | Method::RandomUnder => sampler.random(class, n_new),
            Method::Smote | Method::SmoteTomek | Method::SmoteEnn => sampler.smote(class, n_new),
            Method::BorderlineSmote1 => sampler.borderline(class, n_new, false),
            Method::BorderlineSmote2 => sampler.borderline(class, n_new, true),
            Method::Adasyn => sampler.adasyn(class, n_new),
        }
    }
    sampler.out
}

/// The rows to keep (ascending) so that each class `c` has `targets[c]` rows: a uniform
/// sample without replacement of each class that is above its target.
pub(crate) fn under_sample(y: &[usize], targets: &[usize], seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut by_class = vec![Vec::new(); targets.len()];
    for (row, &label) in y.iter().enumerate() {
        by_class[label].push(row);
    }
    let mut keep: Vec<usize> = Vec::with_capacity(targets.iter().sum());
    for (rows, &target) in by_class.iter().zip(targets) {
        if target >= rows.len() {
            keep.extend(rows);
        } else {
            keep.extend(index::sample(&mut rng, rows.len(), target).into_iter().map(|i| rows[i]));
        }
    }
    keep.sort_unstable();
    keep
}

struct Sampler<'a> {
    x: Rows<'a>,
    y: &'a [usize],
    by_class: Vec<Vec<usize>>,
    k: usize,
    m: usize,
    rng: ChaCha8Rng,
    /// Features of the output, to which new rows are appended.
    rows: &'a mut Vec<f32>,
    out: Generated,
}

impl Sampler<'_> {
    fn note(&mut self, class: usize, reason: String) {
        self.out.fallbacks.push(Fallback { class, reason });
    }

    /// Copies of rows drawn uniformly with replacement.
    fn random(&mut self, class: usize, n_new: usize) {
        let rows = &self.by_class[class];
        for _ in 0..n_new {
            let row = rows[self.rng.random_range(0..rows.len())];
            self.rows.extend_from_slice(self.x.row(row));
            self.out.labels.push(class);
        }
    }

    /// Falls back to copies when the class has a single row; `None` then.
    fn interpolation_k(&mut self, class: usize, n_new: usize, method: &str) -> Option<usize> {
        let n = self.by_class[class].len();
        if n < 2 {
            self.note(
                class,
                format!(
                    "{method}: the class has 1 row and no neighbour to interpolate towards, so \
                     its {n_new} new rows are copies (random over-sampling)"
                ),
            );
            self.random(class, n_new);
            return None;
        }
        let k = self.k.min(n - 1);
        if k < self.k {
            self.note(
                class,
                format!(
                    "{method}: k_neighbors clamped from {} to {k}: the class has {n} rows",
                    self.k
                ),
            );
        }
        self.out.k_used = Some(self.out.k_used.map_or(k, |used| used.min(k)));
        Some(k)
    }

    /// SMOTE: `n_new` (base row, neighbour column) pairs drawn uniformly from the class's
    /// rows times its `k` neighbours, as imbalanced-learn draws them.
    fn smote(&mut self, class: usize, n_new: usize) {
        let Some(k) = self.interpolation_k(class, n_new, "smote") else { return };
        let rows = self.by_class[class].clone();
        let (bases, columns) = self.draw_pairs(&rows, k, n_new);
        let gaps = self.gaps(n_new, 1.0);
        self.interpolate(class, &rows, &bases, &columns, &gaps, k);
    }

    /// Borderline-SMOTE: SMOTE from the rows in danger (at least half, but not all, of their
    /// `m` nearest neighbours in the whole data set are of another class). Kind 2 draws a
    /// share `f ~ Beta(10, 10)` of the rows as kind 1 and the rest towards the `k` nearest
    /// rows of the other classes, with a gap in `[0, 0.5)`.
    fn borderline(&mut self, class: usize, n_new: usize, kind2: bool) {
        let name = if kind2 { "borderline-smote-2" } else { "borderline-smote-1" };
        let rows = self.by_class[class].clone();
        let all: Vec<usize> = (0..self.y.len()).collect();
        let m = self.m.min(all.len() - 1);
        if m < self.m {
            self.note(
                class,
                format!(
                    "{name}: m_neighbors clamped from {} to {m}: the data have {} rows",
                    self.m,
                    all.len()
                ),
            );
        }
        let neighbours = knn(self.x, &all, &rows, m);
        let danger: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|&(i, _)| {
                let others = neighbours.of(i).iter().filter(|&&j| self.y[j] != class).count();
                2 * others >= m && others < m
            })
            .map(|(_, &row)| row)
            .collect();
        if danger.is_empty() {
            self.note(
                class,
                format!(
                    "{name}: no row is in danger (at least half but not all of its {m} nearest \
                     neighbours of another class), so no row was generated"
                ),
            );
            return;
        }
        let Some(k) = self.interpolation_k(class, n_new, name) else { return };
        let own = if kind2 { (self.beta_10_10() * n_new as f64).floor() as usize } else { n_new };
        let (bases, columns) = self.draw_pairs(&danger, k, own);
        let gaps = self.gaps(own, 1.0);
        self.interpolate(class, &rows, &bases, &columns, &gaps, k);
        if own < n_new {
            let others: Vec<usize> = all.into_iter().filter(|&r| self.y[r] != class).collect();
            let k_other = self.k.min(others.len());
            let (bases, columns) = self.draw_pairs(&danger, k_other, n_new - own);
            let gaps = self.gaps(n_new - own, 0.5);
            self.interpolate(class, &others, &bases, &columns, &gaps, k_other);
        }
    }

    /// ADASYN: row `i` gets a share of the new rows proportional to the fraction of its `k`
    /// nearest neighbours (whole data set) that are of another class. The shares are
    /// apportioned by largest remainder so that they sum to exactly `n_new`.
    fn adasyn(&mut self, class: usize, n_new: usize) {
        let rows = self.by_class[class].clone();
        let all: Vec<usize> = (0..self.y.len()).collect();
        let kd = self.k.min(all.len() - 1);
        let neighbours = knn(self.x, &all, &rows, kd);
        let hardness: Vec<usize> = (0..rows.len())
            .map(|i| neighbours.of(i).iter().filter(|&&j| self.y[j] != class).count())
            .collect();
        if hardness.iter().all(|&h| h == 0) {
            self.note(
                class,
                format!(
                    "adasyn: no row has a neighbour of another class among its {kd} nearest, so \
                     every row is equally easy and plain SMOTE was used"
                ),
            );
            self.smote(class, n_new);
            return;
        }
        let Some(k) = self.interpolation_k(class, n_new, "adasyn") else { return };
        let shares = apportion(&hardness, n_new);
        let bases: Vec<usize> = rows
            .iter()
            .zip(&shares)
            .flat_map(|(&row, &share)| std::iter::repeat_n(row, share))
            .collect();
        let columns: Vec<usize> = (0..n_new).map(|_| self.rng.random_range(0..k)).collect();
        let gaps = self.gaps(n_new, 1.0);
        self.interpolate(class, &rows, &bases, &columns, &gaps, k);
    }

    /// `n` uniform draws from `pool x (0..k)`, as (row, neighbour column) pairs.
    fn draw_pairs(&mut self, pool: &[usize], k: usize, n: usize) -> (Vec<usize>, Vec<usize>) {
        (0..n)
            .map(|_| {
                let pick = self.rng.random_range(0..pool.len() * k);
                (pool[pick / k], pick % k)
            })
            .unzip()
    }

    /// `n` gaps uniform in `[0, scale)`.
    fn gaps(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| scale * self.rng.random::<f32>()).collect()
    }

    /// A draw from Beta(10, 10), as the share of two Gamma(10) sums of exponentials.
    fn beta_10_10(&mut self) -> f64 {
        let mut gamma = || -> f64 { (0..10).map(|_| -(1.0 - self.rng.random::<f64>()).ln()).sum() };
        let a = gamma();
        let b = gamma();
        a / (a + b)
    }

    /// Appends `base + gap * (neighbour - base)` for each base row, where the neighbour is
    /// column `column` of the base's `k` nearest rows among `refs`.
    fn interpolate(
        &mut self,
        class: usize,
        refs: &[usize],
        bases: &[usize],
        columns: &[usize],
        gaps: &[f32],
        k: usize,
    ) {
        // Neighbours are only needed for the rows actually drawn as bases.
        let mut unique = bases.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let neighbours = knn(self.x, refs, &unique, k);
        for ((&base, &column), &gap) in bases.iter().zip(columns).zip(gaps) {
            let at = unique.binary_search(&base).expect("every base was searched");
            let neighbour = self.x.row(neighbours.of(at)[column]);
            let start = self.rows.len();
            self.rows.extend_from_slice(self.x.row(base));
            for (value, &n) in self.rows[start..].iter_mut().zip(neighbour) {
                *value += gap * (n - *value);
            }
            self.out.labels.push(class);
        }
    }
}

/// Splits `total` in proportion to `weights` (not all 0), exactly: floors first, then one
/// more to the largest remainders, ties to the lower index.
fn apportion(weights: &[usize], total: usize) -> Vec<usize> {
    let sum: usize = weights.iter().sum();
    let quota = |w: usize| w as f64 * total as f64 / sum as f64;
    let mut shares: Vec<usize> = weights.iter().map(|&w| quota(w).floor() as usize).collect();
    let left = total - shares.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (quota(weights[a]).fract(), quota(weights[b]).fract());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in &order[..left] {
        shares[i] += 1;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact_and_proportional() {
        assert_eq!(apportion(&[1, 1, 1], 10), [4, 3, 3]);
        assert_eq!(apportion(&[0, 2, 1, 1], 7), [0, 3, 2, 2]);
        assert_eq!(apportion(&[5], 3), [3]);
        assert_eq!(apportion(&[3, 0, 1], 0), [0, 0, 0]);
    }

    #[test]
    fn under_sample_keeps_sorted_rows_per_target() {
        let y = [0, 1, 0, 1, 1, 0, 1, 1];
        let keep = under_sample(&y, &[3, 2], 4);
        assert_eq!(keep.len(), 5);
        assert!(keep.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(keep.iter().filter(|&&r| y[r] == 0).count(), 3);
        assert_eq!(under_sample(&y, &[3, 2], 4), keep);
    }
}
