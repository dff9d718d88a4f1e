//! Quantile binning of feature columns into at most 255 bins (one byte per value).
//!
//! Bin `b` of a feature holds the values `v` with `t[b-1] < v <= t[b]` for its ascending
//! thresholds `t`, so "bin <= b" is exactly "v <= t[b]": a split found on bins becomes a
//! split on raw values with the same outcome for every training row, and fitted trees need
//! no binning at prediction time.

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Rows used to place the bin thresholds; larger inputs are subsampled (seeded), as in
/// LightGBM, because quantiles of 200k values are as good as those of millions.
const MAX_BIN_SAMPLE: usize = 200_000;

/// Per-feature bin thresholds fitted on training rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BinMapper {
    thresholds: Vec<Vec<f32>>,
}

/// A feature matrix as bin indices, one contiguous column per feature.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Binned {
    n_rows: usize,
    columns: Vec<Vec<u8>>,
}

impl BinMapper {
    /// Fits at most `max_bins` (2..=256) bins per column of `x` (finite values).
    pub(crate) fn fit(x: ArrayView2<'_, f32>, max_bins: usize, seed: u64) -> Self {
        debug_assert!((2..=256).contains(&max_bins));
        let rows: Option<Vec<usize>> = (x.nrows() > MAX_BIN_SAMPLE).then(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut rows = sample(&mut rng, x.nrows(), MAX_BIN_SAMPLE).into_vec();
            rows.sort_unstable();
            rows
        });
        let thresholds = (0..x.ncols())
            .into_par_iter()
            .map(|j| {
                let column = x.column(j);
                let values = match &rows {
                    Some(rows) => rows.iter().map(|&r| column[r]).collect(),
                    None => column.to_vec(),
                };
                column_thresholds(values, max_bins)
            })
            .collect();
        Self { thresholds }
    }

    /// Number of features.
    pub(crate) fn n_features(&self) -> usize {
        self.thresholds.len()
    }

    /// Number of bins of feature `feature` (1 for a constant column).
    pub(crate) fn n_bins(&self, feature: usize) -> usize {
        self.thresholds[feature].len() + 1
    }

    /// The raw-value threshold equivalent to "bin <= `bin`" of `feature`.
    pub(crate) fn threshold(&self, feature: usize, bin: u8) -> f32 {
        self.thresholds[feature][usize::from(bin)]
    }

    /// The bin of value `v` of `feature`.
    pub(crate) fn bin(&self, feature: usize, v: f32) -> u8 {
        self.thresholds[feature].partition_point(|&t| t < v) as u8
    }

    /// Bins every value of `x`, which must have [`BinMapper::n_features`] columns.
    pub(crate) fn transform(&self, x: ArrayView2<'_, f32>) -> Binned {
        let columns = (0..x.ncols())
            .into_par_iter()
            .map(|j| x.column(j).iter().map(|&v| self.bin(j, v)).collect())
            .collect();
        Binned { n_rows: x.nrows(), columns }
    }
}

impl Binned {
    /// Number of rows.
    pub(crate) fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Each feature's most frequent bin (the lowest on ties).
    pub(crate) fn most_frequent_bins(&self) -> Vec<u8> {
        self.columns
            .par_iter()
            .map(|column| {
                let mut counts = [0_usize; 256];
                for &b in column {
                    counts[usize::from(b)] += 1;
                }
                // `max_by_key` keeps the last maximum, so walk the bins downwards.
                (0..=255_u8).rev().max_by_key(|&b| counts[usize::from(b)]).unwrap_or(0)
            })
            .collect()
    }

    /// The bins of feature `feature`, one per row.
    pub(crate) fn column(&self, feature: usize) -> &[u8] {
        &self.columns[feature]
    }
}

/// Ascending thresholds splitting `values` into at most `max_bins` bins of near-equal counts.
///
/// A column with at most `max_bins` distinct values gets one bin per value. Otherwise bins
/// are filled greedily in value order, each closed once it holds its share of the rows still
/// unbinned, so a value repeated in most rows (0 in a count feature) takes one bin and the
/// remaining bins spread over the rest. Thresholds lie between adjacent distinct values.
fn column_thresholds(mut values: Vec<f32>, max_bins: usize) -> Vec<f32> {
    values.sort_unstable_by(f32::total_cmp);
    let mut distinct: Vec<(f32, usize)> = Vec::new();
    for v in values {
        match distinct.last_mut() {
            // `==` also merges -0.0 with 0.0, which compare equal in every split.
            Some((last, count)) if *last == v => *count += 1,
            _ => distinct.push((v, 1)),
        }
    }
    let mut thresholds = Vec::new();
    let mut rows_left: usize = distinct.iter().map(|&(_, c)| c).sum();
    let mut bins_left = max_bins;
    let mut in_bin = 0;
    for (i, pair) in distinct.windows(2).enumerate() {
        let (value, count) = pair[0];
        in_bin += count;
        let distinct_after = distinct.len() - (i + 1);
        let full = in_bin as f64 >= rows_left as f64 / bins_left as f64;
        if full || distinct_after < bins_left {
            thresholds.push(midpoint(value, pair[1].0));
            rows_left -= in_bin;
            bins_left -= 1;
            in_bin = 0;
            if bins_left == 1 {
                break;
            }
        }
    }
    thresholds
}

/// A threshold `t` with `a <= t < b` for adjacent distinct values `a < b`.
fn midpoint(a: f32, b: f32) -> f32 {
    let m = ((f64::from(a) + f64::from(b)) * 0.5) as f32;
    if m < b { m } else { a }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use proptest::prelude::*;

    use super::*;

    fn check(values: &[f32], max_bins: usize, expected: &[f32]) {
        assert_eq!(column_thresholds(values.to_vec(), max_bins), expected, "{values:?}");
    }

    #[test]
    fn few_distinct_values_get_one_bin_each() {
        check(&[1.0, 0.0, 1.0, 0.0], 255, &[0.5]);
        check(&[3.0, 3.0], 255, &[]);
        check(&[2.0, 0.0, 1.0], 3, &[0.5, 1.5]);
        check(&[-0.0, 0.0, 1.0], 255, &[0.5]);
    }

    #[test]
    fn a_dominant_value_gets_its_own_bin_and_the_rest_share_the_others() {
        let mut values = vec![0.0; 80];
        values.extend((1..=20).map(|v| v as f32));
        // 0 fills the first bin; the 20 others split into 3 bins of about 7.
        check(&values, 4, &[0.5, 7.5, 14.5]);
    }

    #[test]
    fn adjacent_floats_get_a_threshold_between_them() {
        let a = 1.0_f32;
        let b = f32::from_bits(a.to_bits() + 1);
        assert_eq!(midpoint(a, b), a);
        assert_eq!(midpoint(-1.0, 3.0), 1.0);
    }

    #[test]
    fn transform_bins_columns() {
        let x = Array2::from_shape_vec((3, 2), vec![0.0_f32, 5.0, 1.0, 5.0, 2.0, 5.0]).unwrap();
        let mapper = BinMapper::fit(x.view(), 255, 0);
        assert_eq!(mapper.n_bins(0), 3);
        assert_eq!(mapper.n_bins(1), 1);
        let binned = mapper.transform(x.view());
        assert_eq!(binned.column(0), &[0, 1, 2]);
        assert_eq!(binned.column(1), &[0, 0, 0]);
        assert_eq!(binned.most_frequent_bins(), vec![0, 0]);
        assert_eq!(mapper.threshold(0, 1), 1.5);
    }

    proptest! {
        #[test]
        fn bins_agree_with_raw_thresholds(
            values in proptest::collection::vec(
                prop_oneof![Just(0.0_f32), Just(1.0_f32), -1e6_f32..1e6], 1..400),
            max_bins in 2_usize..=256,
        ) {
            let t = column_thresholds(values.clone(), max_bins);
            prop_assert!(t.len() < max_bins);
            prop_assert!(t.windows(2).all(|w| w[0] < w[1]));
            let mapper = BinMapper { thresholds: vec![t.clone()] };
            for &v in &values {
                let bin = mapper.bin(0, v);
                for (b, &threshold) in t.iter().enumerate() {
                    prop_assert_eq!(usize::from(bin) <= b, v <= threshold);
                }
            }
        }
    }
}
