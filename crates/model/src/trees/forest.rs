//! A random forest of Gini trees on histogram bins, with class distributions in the leaves.

use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use vigil_core::Dataset;

use super::bins::{BinMapper, Binned};
use super::tree::{GrowNode, Tree};
use super::{importance_shares, partition, predict_blocks};
use crate::classifier::{Classifier, Fit, check_input, check_training};
use crate::{ModelError, Result};

/// Smallest probability turned into a logit: `ln(0)` would be `-inf`, which breaks
/// temperature scaling and log-loss.
const PROB_FLOOR: f32 = 1e-6;

/// Checked hyper-parameters of [`RandomForest`]; build them with [`ForestParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidForestParams {
    n_trees: usize,
    max_depth: Option<usize>,
    min_samples_leaf: usize,
    max_features: Option<usize>,
    max_bins: usize,
    bootstrap: bool,
    seed: u64,
}

/// Hyper-parameters of [`RandomForest`] (builder); [`ForestParams::check`] validates them.
///
/// Defaults: 100 trees, grown until pure (no depth limit, 1 row per leaf), `round(sqrt(p))`
/// features tried per split, 255 bins, bootstrap samples, seed 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams(ValidForestParams);

impl Default for ForestParams {
    fn default() -> Self {
        Self(ValidForestParams {
            n_trees: 100,
            max_depth: None,
            min_samples_leaf: 1,
            max_features: None,
            max_bins: 255,
            bootstrap: true,
            seed: 0,
        })
    }
}

impl ForestParams {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of trees, at least 1.
    pub fn n_trees(mut self, value: usize) -> Self {
        self.0.n_trees = value;
        self
    }

    /// Maximum depth of a tree (`None`: grow until leaves are pure or too small), at least 1.
    pub fn max_depth(mut self, value: Option<usize>) -> Self {
        self.0.max_depth = value;
        self
    }

    /// Minimum training rows (bootstrap draws) in a leaf, at least 1.
    pub fn min_samples_leaf(mut self, value: usize) -> Self {
        self.0.min_samples_leaf = value;
        self
    }

    /// Features tried per split (`None`: `round(sqrt(p))`), at least 1; more are tried only
    /// if none of them allows a split.
    pub fn max_features(mut self, value: Option<usize>) -> Self {
        self.0.max_features = value;
        self
    }

    /// Maximum bins per feature, in 2..=255.
    pub fn max_bins(mut self, value: usize) -> Self {
        self.0.max_bins = value;
        self
    }

    /// Whether each tree sees a bootstrap sample (with replacement) or every row.
    pub fn bootstrap(mut self, value: bool) -> Self {
        self.0.bootstrap = value;
        self
    }

    /// Seed of the bootstrap samples, the feature draws and the bin sample on large inputs.
    pub fn seed(mut self, value: u64) -> Self {
        self.0.seed = value;
        self
    }

    /// Validates every parameter; the error names the first one out of range.
    pub fn check(&self) -> Result<ValidForestParams> {
        let p = &self.0;
        let invalid =
            |name, reason| Err(ModelError::InvalidParam { name, value: "0".into(), reason });
        if p.n_trees == 0 {
            return invalid("n_trees", "must be at least 1");
        }
        if p.max_depth == Some(0) {
            return invalid("max_depth", "must be at least 1");
        }
        if p.min_samples_leaf == 0 {
            return invalid("min_samples_leaf", "must be at least 1");
        }
        if p.max_features == Some(0) {
            return invalid("max_features", "must be at least 1");
        }
        if !(2..=255).contains(&p.max_bins) {
            return Err(ModelError::InvalidParam {
                name: "max_bins",
                value: p.max_bins.to_string(),
                reason: "must be in 2..=255",
            });
        }
        Ok(p.clone())
    }
}

impl ValidForestParams {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.n_trees
    }

    /// Maximum depth of a tree, if limited.
    pub fn max_depth(&self) -> Option<usize> {
        self.max_depth
    }

    /// Minimum training rows in a leaf.
    pub fn min_samples_leaf(&self) -> usize {
        self.min_samples_leaf
    }

    /// Features tried per split, if set (`None`: `round(sqrt(p))`).
    pub fn max_features(&self) -> Option<usize> {
        self.max_features
    }

    /// Maximum bins per feature.
    pub fn max_bins(&self) -> usize {
        self.max_bins
    }

    /// Whether trees see bootstrap samples.
    pub fn bootstrap(&self) -> bool {
        self.bootstrap
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// A random forest: the probability of a class is the mean over trees of the (weighted)
/// class share in the leaf a row reaches; the logits are `ln(max(p, 1e-6))`, so its
/// probabilities are those means floored at 1e-6 and renormalised.
///
/// Each tree is grown depth-first on a bootstrap sample, splitting on the binned feature
/// and threshold with the largest decrease in weighted Gini impurity among `max_features`
/// features drawn at random per node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestRepr")]
pub struct RandomForest {
    params: ValidForestParams,
    n_features: usize,
    n_classes: usize,
    trees: Vec<Tree>,
    importance: Vec<f64>,
}

/// The serialised form, checked before it becomes a [`RandomForest`].
#[derive(Deserialize)]
struct ForestRepr {
    params: ValidForestParams,
    n_features: usize,
    n_classes: usize,
    trees: Vec<Tree>,
    importance: Vec<f64>,
}

impl TryFrom<ForestRepr> for RandomForest {
    type Error = ModelError;

    fn try_from(r: ForestRepr) -> Result<Self> {
        let corrupt = |reason: String| Err(ModelError::Corrupt { reason });
        if r.n_classes < 2 || r.trees.is_empty() {
            return corrupt(format!("{} classes, {} trees", r.n_classes, r.trees.len()));
        }
        if r.importance.len() != r.n_features {
            return corrupt(format!(
                "{} importances for {} features",
                r.importance.len(),
                r.n_features
            ));
        }
        for (t, tree) in r.trees.iter().enumerate() {
            tree.validate(r.n_features, r.n_classes)
                .map_err(|e| ModelError::Corrupt { reason: format!("tree {t}: {e}") })?;
        }
        Ok(Self {
            params: r.params,
            n_features: r.n_features,
            n_classes: r.n_classes,
            trees: r.trees,
            importance: r.importance,
        })
    }
}

impl RandomForest {
    /// The parameters it was fitted with.
    pub fn params(&self) -> &ValidForestParams {
        &self.params
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Share of the total weighted Gini decrease per feature (mean decrease in impurity;
    /// sums to 1, or all 0 if no tree split).
    pub fn feature_importance(&self) -> &[f64] {
        &self.importance
    }

    /// Total number of leaves over all trees (a size measure for reports).
    pub fn n_leaves(&self) -> usize {
        self.trees.iter().map(|t| t.n_leaves(self.n_classes)).sum()
    }
}

impl Classifier for RandomForest {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn logits(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        check_input("input", x, self.n_features)?;
        let k = self.n_classes;
        let scale = 1.0 / self.trees.len() as f32;
        Ok(predict_blocks(x, k, |cols, scores| {
            let n = scores.len() / k;
            for tree in &self.trees {
                tree.for_each_leaf(cols, n, k, |r, leaf| {
                    for (s, &v) in
                        scores[r * k..(r + 1) * k].iter_mut().zip(tree.leaf_values(leaf, k))
                    {
                        *s += v;
                    }
                });
            }
            for s in scores {
                *s = (*s * scale).max(PROB_FLOOR).ln();
            }
        }))
    }
}

impl Fit for ValidForestParams {
    type Model = RandomForest;

    /// Fits the forest; `validation` is not used (a forest does not stop early).
    fn fit_weighted(
        &self,
        train: &Dataset,
        weights: Option<&[f32]>,
        validation: Option<&Dataset>,
    ) -> Result<RandomForest> {
        let weights = check_training(train, weights, validation)?;
        let (p, k) = (train.n_features(), train.classes().len());
        let mapper = BinMapper::fit(train.features(), self.max_bins, self.seed);
        let binned = mapper.transform(train.features());
        let mtry =
            self.max_features.unwrap_or_else(|| ((p as f64).sqrt().round() as usize).max(1)).min(p);
        let data = ForestData {
            binned: &binned,
            default_bins: binned.most_frequent_bins(),
            labels: train.labels(),
            weights: &weights,
            k,
            mtry,
        };
        let grown: Vec<(Tree, Vec<(usize, f64)>)> = (0..self.n_trees)
            .into_par_iter()
            .map(|t| {
                let (nodes, gains) = data.grow(self, &mapper, t as u64);
                (Tree::from_grown(&nodes, &mapper), gains)
            })
            .collect();
        let importance = importance_shares(grown.iter().flat_map(|(_, g)| g.iter().copied()), p);
        Ok(RandomForest {
            params: self.clone(),
            n_features: p,
            n_classes: k,
            trees: grown.into_iter().map(|(t, _)| t).collect(),
            importance,
        })
    }
}

impl Fit for ForestParams {
    type Model = RandomForest;

    fn fit_weighted(
        &self,
        train: &Dataset,
        weights: Option<&[f32]>,
        validation: Option<&Dataset>,
    ) -> Result<RandomForest> {
        self.check()?.fit_weighted(train, weights, validation)
    }
}

/// The training data every tree of a forest reads.
struct ForestData<'a> {
    binned: &'a Binned,
    /// Each feature's most frequent bin, whose counts are derived rather than accumulated.
    default_bins: Vec<u8>,
    labels: &'a [usize],
    weights: &'a [f32],
    k: usize,
    mtry: usize,
}

/// The chosen split of a node: feature, last bin on the left, weighted Gini decrease.
#[derive(Debug, Clone, Copy)]
struct Split {
    feature: usize,
    bin: u8,
    score: f64,
}

/// Scratch space of one tree's growth: one feature's histogram at a time.
struct Scratch {
    /// Weighted class counts per bin, `bin * k + class`; all zero between uses.
    class_weight: Vec<f64>,
    /// Rows per bin; all zero between uses.
    rows: Vec<u32>,
    /// Left-side class counts while scanning the bins.
    left: Vec<f64>,
}

/// A node waiting to be grown: its index in the node list, its rows' range, its depth and
/// the features not known to be constant on its rows.
struct Pending {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    candidates: Vec<usize>,
}

impl ForestData<'_> {
    /// Grows tree `index`: its own random stream of the seed, so trees can grow in parallel
    /// and still be the same for any thread count.
    fn grow(
        &self,
        params: &ValidForestParams,
        mapper: &BinMapper,
        index: u64,
    ) -> (Vec<GrowNode>, Vec<(usize, f64)>) {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        rng.set_stream(index);
        let n = self.labels.len();
        let mut rows: Vec<u32> = if params.bootstrap {
            let mut rows: Vec<u32> = (0..n).map(|_| rng.random_range(0..n as u64) as u32).collect();
            // Sorted rows read the feature columns in order.
            rows.sort_unstable();
            rows
        } else {
            (0..n as u32).collect()
        };
        let max_depth = params.max_depth.unwrap_or(usize::MAX);
        let min_leaf = params.min_samples_leaf;
        let mut scratch = Scratch {
            class_weight: vec![0.0; 256 * self.k],
            rows: vec![0; 256],
            left: vec![0.0; self.k],
        };
        let mut partition_buffer = Vec::new();
        let mut nodes = vec![GrowNode::Leaf(Vec::new())];
        let mut gains = Vec::new();
        let candidates = (0..mapper.n_features()).filter(|&f| mapper.n_bins(f) > 1).collect();
        let mut stack = vec![Pending { node: 0, start: 0, end: rows.len(), depth: 0, candidates }];
        while let Some(Pending { node, start, end, depth, mut candidates }) = stack.pop() {
            let node_rows = &rows[start..end];
            let mut counts = vec![0.0_f64; self.k];
            for &r in node_rows {
                counts[self.labels[r as usize]] += f64::from(self.weights[r as usize]);
            }
            let total: f64 = counts.iter().sum();
            let classes_present = counts.iter().filter(|&&c| c > 0.0).count();
            let split =
                if classes_present > 1 && depth < max_depth && node_rows.len() >= 2 * min_leaf {
                    self.best_split(
                        node_rows,
                        &counts,
                        min_leaf,
                        &mut candidates,
                        &mut rng,
                        &mut scratch,
                    )
                } else {
                    None
                };
            if let Some(split) = split {
                let column = self.binned.column(split.feature);
                let mid = start
                    + partition(&mut rows[start..end], column, split.bin, &mut partition_buffer);
                let left = nodes.len();
                nodes[node] = GrowNode::Split {
                    feature: split.feature,
                    bin: split.bin,
                    left,
                    right: left + 1,
                };
                nodes.extend([GrowNode::Leaf(Vec::new()), GrowNode::Leaf(Vec::new())]);
                gains.push((split.feature, split.score));
                let depth = depth + 1;
                stack.push(Pending {
                    node: left + 1,
                    start: mid,
                    end,
                    depth,
                    candidates: candidates.clone(),
                });
                stack.push(Pending { node: left, start, end: mid, depth, candidates });
            } else {
                let values = if total > 0.0 {
                    counts.iter().map(|&c| (c / total) as f32).collect()
                } else {
                    vec![1.0 / self.k as f32; self.k]
                };
                nodes[node] = GrowNode::Leaf(values);
            }
        }
        (nodes, gains)
    }

    /// The split with the largest weighted Gini decrease among `mtry` features that vary in
    /// the node, drawn without replacement from `candidates` (more only while no split is
    /// valid), or `None`. Features found constant on the rows are removed from `candidates`:
    /// they are constant on every descendant too (scikit-learn's rule).
    fn best_split(
        &self,
        rows: &[u32],
        counts: &[f64],
        min_leaf: usize,
        candidates: &mut Vec<usize>,
        rng: &mut ChaCha8Rng,
        scratch: &mut Scratch,
    ) -> Option<Split> {
        let k = self.k;
        let total: f64 = counts.iter().sum();
        // Weighted Gini impurity times weight is `W - sum c^2 / W`; the decrease of a split
        // is therefore `sum cl^2 / Wl + sum cr^2 / Wr - sum c^2 / W`.
        let parent: f64 = counts.iter().map(|c| c * c).sum::<f64>() / total;
        let mut best: Option<Split> = None;
        let mut tried = 0;
        let mut drawn = 0;
        let mut constant = 0;
        while drawn < candidates.len() && !(tried >= self.mtry && best.is_some()) {
            // Draws sit in `candidates[constant..drawn]`, constants found in `[..constant]`.
            let j = drawn + rng.random_range(0..(candidates.len() - drawn) as u64) as usize;
            candidates.swap(drawn, j);
            let f = candidates[drawn];
            drawn += 1;
            let Some((lo, hi)) = self.histogram(f, rows, counts, scratch) else {
                candidates.swap(constant, drawn - 1);
                constant += 1;
                continue;
            };
            tried += 1;
            let left = &mut scratch.left;
            left.fill(0.0);
            let (mut left_rows, mut left_weight) = (0, 0.0);
            for b in lo..hi {
                left_rows += scratch.rows[b] as usize;
                for (l, &c) in left.iter_mut().zip(&scratch.class_weight[b * k..(b + 1) * k]) {
                    *l += c;
                    left_weight += c;
                }
                if left_rows < min_leaf {
                    continue;
                }
                if rows.len() - left_rows < min_leaf {
                    break;
                }
                let right_weight = total - left_weight;
                if left_weight <= 0.0 || right_weight <= 0.0 {
                    continue;
                }
                let left_sq: f64 = left.iter().map(|c| c * c).sum();
                let right_sq: f64 = left.iter().zip(counts).map(|(l, c)| (c - l) * (c - l)).sum();
                let score = left_sq / left_weight + right_sq / right_weight - parent;
                if best.is_none_or(|s| score > s.score) {
                    best = Some(Split { feature: f, bin: b as u8, score });
                }
            }
            scratch.class_weight[lo * k..(hi + 1) * k].fill(0.0);
            scratch.rows[lo..=hi].fill(0);
        }
        candidates.drain(..constant);
        // A split that does not lower the impurity (up to rounding) only adds nodes.
        best.filter(|s| s.score > 1e-9 * total)
    }

    /// Fills the scratch histogram of feature `f` on `rows` (class totals `counts`) and
    /// returns its used bin range, or `None` (histogram left zero) if `f` is constant there.
    ///
    /// Rows in the feature's most frequent bin are skipped and that bin gets the node's
    /// totals minus the other bins: on one-hot and count columns most rows are skipped.
    fn histogram(
        &self,
        f: usize,
        rows: &[u32],
        counts: &[f64],
        scratch: &mut Scratch,
    ) -> Option<(usize, usize)> {
        let k = self.k;
        let column = self.binned.column(f);
        let default = self.default_bins[f];
        let (mut lo, mut hi, mut others) = (u8::MAX, 0_u8, 0);
        for &r in rows {
            let b = column[r as usize];
            if b != default {
                lo = lo.min(b);
                hi = hi.max(b);
                others += 1;
                let b = usize::from(b);
                scratch.class_weight[b * k + self.labels[r as usize]] +=
                    f64::from(self.weights[r as usize]);
                scratch.rows[b] += 1;
            }
        }
        let (lo, hi) = if others == rows.len() {
            (usize::from(lo), usize::from(hi))
        } else if others == 0 {
            return None;
        } else {
            let d = usize::from(default);
            let (lo, hi) = (usize::from(lo).min(d), usize::from(hi).max(d));
            let mut rest = counts.to_vec();
            for b in (lo..=hi).filter(|&b| b != d) {
                for (r, &c) in rest.iter_mut().zip(&scratch.class_weight[b * k..(b + 1) * k]) {
                    *r -= c;
                }
            }
            scratch.class_weight[d * k..(d + 1) * k].copy_from_slice(&rest);
            scratch.rows[d] = (rows.len() - others) as u32;
            (lo, hi)
        };
        if lo == hi {
            scratch.class_weight[lo * k..(lo + 1) * k].fill(0.0);
            scratch.rows[lo] = 0;
            return None;
        }
        Some((lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    #[test]
    fn node_histograms_match_direct_counts_and_find_constants() {
        let n = 300;
        let x = Array2::from_shape_fn((n, 3), |(r, c)| match c {
            0 => f32::from(r % 4 == 0),
            1 => (r % 9) as f32,
            _ => 2.0,
        });
        let labels: Vec<usize> = (0..n).map(|r| r % 3).collect();
        let weights: Vec<f32> = (0..n).map(|r| 0.5 + (r % 5) as f32).collect();
        let mapper = BinMapper::fit(x.view(), 255, 0);
        let binned = mapper.transform(x.view());
        let data = ForestData {
            binned: &binned,
            default_bins: binned.most_frequent_bins(),
            labels: &labels,
            weights: &weights,
            k: 3,
            mtry: 1,
        };
        let mut scratch =
            Scratch { class_weight: vec![0.0; 256 * 3], rows: vec![0; 256], left: vec![0.0; 3] };
        // Rows where feature 0 is always 1: constant there, varying over all rows.
        let ones: Vec<u32> = (0..n as u32).step_by(4).collect();
        let all: Vec<u32> = (0..n as u32).collect();
        for rows in [&ones, &all] {
            let mut counts = vec![0.0; 3];
            for &r in rows {
                counts[labels[r as usize]] += f64::from(weights[r as usize]);
            }
            for f in 0..3 {
                let mut direct = vec![0.0_f64; 256 * 3];
                let mut direct_rows = vec![0_u32; 256];
                for &r in rows {
                    let b = usize::from(binned.column(f)[r as usize]);
                    direct[b * 3 + labels[r as usize]] += f64::from(weights[r as usize]);
                    direct_rows[b] += 1;
                }
                let used = direct_rows.iter().filter(|&&c| c > 0).count();
                match data.histogram(f, rows, &counts, &mut scratch) {
                    None => assert_eq!(used, 1, "feature {f} is not constant"),
                    Some((lo, hi)) => {
                        assert!(
                            used > 1 && direct_rows[lo] > 0 && direct_rows[hi] > 0,
                            "feature {f}"
                        );
                        assert_eq!(scratch.rows, direct_rows, "feature {f}");
                        for (a, b) in scratch.class_weight.iter().zip(&direct) {
                            assert!((a - b).abs() < 1e-9, "feature {f}: {a} vs {b}");
                        }
                        scratch.class_weight.fill(0.0);
                        scratch.rows.fill(0);
                    }
                }
                assert!(scratch.rows.iter().all(|&c| c == 0), "scratch left dirty");
            }
        }
    }

    #[test]
    fn check_names_the_parameter() {
        let cases = [
            (ForestParams::new().n_trees(0), "n_trees"),
            (ForestParams::new().max_depth(Some(0)), "max_depth"),
            (ForestParams::new().min_samples_leaf(0), "min_samples_leaf"),
            (ForestParams::new().max_features(Some(0)), "max_features"),
            (ForestParams::new().max_bins(256), "max_bins"),
        ];
        for (params, expected) in cases {
            match params.check() {
                Err(ModelError::InvalidParam { name, .. }) => assert_eq!(name, expected),
                other => panic!("{expected}: {other:?}"),
            }
        }
        assert!(ForestParams::new().check().is_ok());
    }
}
