//! A fitted decision tree as flat arrays, and the growth-time node list it is built from.

use serde::{Deserialize, Serialize};

use super::bins::BinMapper;

/// A node: rows with `x[feature] <= threshold` go to `children[0]`, the others to
/// `children[1]`.
///
/// A tree stores its `m` internal nodes first, children always after their parent, then one
/// node per leaf that points to itself either way (its threshold is `+inf`, which no finite
/// input exceeds). Walking stops at the first index `>= m`; the self-loops let
/// [`Tree::leaves`] move a batch of rows in lockstep without a branch per row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Node {
    feature: u32,
    threshold: f32,
    children: [u32; 2],
}

/// A decision tree: internal nodes, then leaf nodes, plus `stride` values per leaf (1 for a
/// boosted tree's score, one per class for a forest tree's class distribution).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    values: Vec<f32>,
}

/// A node during growth: a split on a bin, or a leaf with its values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GrowNode {
    /// Rows with `bin(feature) <= bin` go to `left`; both children come later in the list.
    Split { feature: usize, bin: u8, left: usize, right: usize },
    /// A leaf with `stride` values.
    Leaf(Vec<f32>),
}

/// Rows walked through a tree in lockstep by [`Tree::leaves`]: enough independent walks to
/// hide the latency of each step's two dependent loads.
pub(crate) const LOCKSTEP: usize = 8;

impl Tree {
    /// Converts grown nodes (root first, children after their parent) into a tree with
    /// raw-value thresholds.
    pub(crate) fn from_grown(grown: &[GrowNode], mapper: &BinMapper) -> Self {
        let n_internal = grown.iter().filter(|n| matches!(n, GrowNode::Split { .. })).count();
        // Internal nodes and leaves each keep their relative order, so children stay after
        // their parents.
        let mut ids = Vec::with_capacity(grown.len());
        let (mut next_internal, mut next_leaf) = (0, n_internal);
        for node in grown {
            let counter =
                if let GrowNode::Split { .. } = node { &mut next_internal } else { &mut next_leaf };
            ids.push(*counter as u32);
            *counter += 1;
        }
        let mut nodes = Vec::with_capacity(grown.len());
        let mut leaves = Vec::with_capacity(grown.len() - n_internal);
        let mut values = Vec::new();
        for (node, &id) in grown.iter().zip(&ids) {
            match node {
                &GrowNode::Split { feature, bin, left, right } => nodes.push(Node {
                    feature: feature as u32,
                    threshold: mapper.threshold(feature, bin),
                    children: [ids[left], ids[right]],
                }),
                GrowNode::Leaf(v) => {
                    leaves.push(Node { feature: 0, threshold: f32::INFINITY, children: [id, id] });
                    values.extend_from_slice(v);
                }
            }
        }
        nodes.extend(leaves);
        Self { nodes, values }
    }

    /// Number of internal nodes for `stride` values per leaf.
    #[inline]
    fn n_internal(&self, stride: usize) -> usize {
        self.nodes.len() - self.values.len() / stride
    }

    /// The leaf that row `r` of a feature-major block falls into: feature `f` of row `r` is
    /// `cols[f * n_rows + r]` (for one row, `cols` is just the row).
    #[inline]
    pub(crate) fn leaf(&self, cols: &[f32], n_rows: usize, r: usize, stride: usize) -> usize {
        let m = self.n_internal(stride);
        let mut i = 0;
        while i < m {
            let node = &self.nodes[i];
            let x = cols[node.feature as usize * n_rows + r];
            i = node.children[usize::from(x > node.threshold)] as usize;
        }
        i - m
    }

    /// The leaves of rows `start..start + LOCKSTEP` of a feature-major block (see
    /// [`Tree::leaf`]), walked in lockstep; same result as [`Tree::leaf`] per row.
    ///
    /// Feature-major rows make lane `j`'s value an offset `j` from one address per step,
    /// which keeps the eight walks in registers.
    #[inline]
    pub(crate) fn leaves(
        &self,
        cols: &[f32],
        n_rows: usize,
        start: usize,
        stride: usize,
    ) -> [usize; LOCKSTEP] {
        let m = self.n_internal(stride);
        let mut at = [0_usize; LOCKSTEP];
        // Leaves point to themselves, so rows that arrived early just stay put.
        while at.iter().any(|&i| i < m) {
            for (j, i) in at.iter_mut().enumerate() {
                let node = &self.nodes[*i];
                let x = cols[node.feature as usize * n_rows + start + j];
                *i = node.children[usize::from(x > node.threshold)] as usize;
            }
        }
        at.map(|i| i - m)
    }

    /// Calls `f(row, leaf)` for each row of a feature-major block of `n_rows` rows (see
    /// [`Tree::leaf`]), in row order, walking [`LOCKSTEP`] rows at a time.
    #[inline]
    pub(crate) fn for_each_leaf(
        &self,
        cols: &[f32],
        n_rows: usize,
        stride: usize,
        mut f: impl FnMut(usize, usize),
    ) {
        let batched = n_rows - n_rows % LOCKSTEP;
        for start in (0..batched).step_by(LOCKSTEP) {
            for (j, leaf) in self.leaves(cols, n_rows, start, stride).into_iter().enumerate() {
                f(start + j, leaf);
            }
        }
        for r in batched..n_rows {
            f(r, self.leaf(cols, n_rows, r, stride));
        }
    }

    /// Adds to `phi` the exact Shapley values of this (one value per leaf) tree's output at
    /// row `x` against the reference row `r` (interventional, one reference: the game
    /// `v(S)` = the tree at `x` on the features in `S` and at `r` on the others). They sum
    /// to `tree(x) - tree(r)`.
    ///
    /// A leaf reachable when the features in `on` come from `x` and those in `off` from `r`
    /// (the splits where `x` and `r` part ways) is `1[on ⊆ S, off ∩ S = ∅]` times its value:
    /// each feature of `on` gets `value (p-1)! q! / (p+q)!`, each of `off` loses `value p!
    /// (q-1)! / (p+q)!` (`p`, `q` their sizes). Only paths consistent with one of the two
    /// rows at every split are walked, so the cost is at most the number of leaves.
    pub(crate) fn shapley_against(&self, x: &[f32], r: &[f32], phi: &mut [f64]) {
        let m = self.n_internal(1);
        let (mut on, mut off) = (Vec::new(), Vec::new());
        self.shapley_walk(0, m, x, r, &mut on, &mut off, phi);
    }

    #[allow(clippy::too_many_arguments, reason = "one recursion's state")]
    fn shapley_walk(
        &self,
        i: usize,
        m: usize,
        x: &[f32],
        r: &[f32],
        on: &mut Vec<u32>,
        off: &mut Vec<u32>,
        phi: &mut [f64],
    ) {
        if i >= m {
            let value = f64::from(self.values[i - m]);
            let (p, q) = (on.len(), off.len());
            if p + q == 0 || value == 0.0 {
                return;
            }
            let whole = factorial(p + q);
            if p > 0 {
                let gain = value * factorial(p - 1) * factorial(q) / whole;
                for &f in on.iter() {
                    phi[f as usize] += gain;
                }
            }
            if q > 0 {
                let loss = value * factorial(p) * factorial(q - 1) / whole;
                for &f in off.iter() {
                    phi[f as usize] -= loss;
                }
            }
            return;
        }
        let node = &self.nodes[i];
        let f = node.feature;
        let (to_x, to_r) = (
            node.children[usize::from(x[f as usize] > node.threshold)] as usize,
            node.children[usize::from(r[f as usize] > node.threshold)] as usize,
        );
        if to_x == to_r {
            self.shapley_walk(to_x, m, x, r, on, off, phi);
            return;
        }
        // The branch of x needs feature f from x: impossible if an earlier split needed it
        // from r; and the other way round.
        if !off.contains(&f) {
            let new = !on.contains(&f);
            if new {
                on.push(f);
            }
            self.shapley_walk(to_x, m, x, r, on, off, phi);
            if new {
                on.pop();
            }
        }
        if !on.contains(&f) {
            let new = !off.contains(&f);
            if new {
                off.push(f);
            }
            self.shapley_walk(to_r, m, x, r, on, off, phi);
            if new {
                off.pop();
            }
        }
    }

    /// The values of leaf `leaf`.
    #[inline]
    pub(crate) fn leaf_values(&self, leaf: usize, stride: usize) -> &[f32] {
        &self.values[leaf * stride..(leaf + 1) * stride]
    }

    /// Number of leaves for `stride` values per leaf.
    pub(crate) fn n_leaves(&self, stride: usize) -> usize {
        self.values.len() / stride
    }

    /// Checks what traversal relies on: `stride` values per leaf, one more leaf than
    /// internal nodes, features in range, internal children after their parent and in
    /// range, leaves pointing to themselves.
    pub(crate) fn validate(&self, n_features: usize, stride: usize) -> Result<(), String> {
        if stride == 0 || !self.values.len().is_multiple_of(stride) {
            return Err(format!(
                "{} leaf values are not a multiple of {stride}",
                self.values.len()
            ));
        }
        let n_leaves = self.values.len() / stride;
        if n_leaves == 0 || self.nodes.len() != 2 * n_leaves - 1 {
            return Err(format!("{n_leaves} leaves for {} nodes", self.nodes.len()));
        }
        let m = self.n_internal(stride);
        for (i, node) in self.nodes.iter().enumerate() {
            let ok = if i < m {
                (node.feature as usize) < n_features
                    && node
                        .children
                        .iter()
                        .all(|&c| (c as usize) > i && (c as usize) < self.nodes.len())
            } else {
                node.children == [i as u32; 2] && (node.feature as usize) < n_features.max(1)
            };
            if !ok {
                return Err(format!("node {i} has an invalid feature or child: {node:?}"));
            }
        }
        Ok(())
    }
}

/// `n!` as a float (exact up to 22!, and paths are far shorter).
fn factorial(n: usize) -> f64 {
    (2..=n).map(|k| k as f64).product()
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    fn stump() -> Tree {
        let x = array![[0.0_f32], [1.0], [2.0]];
        let mapper = BinMapper::fit(x.view(), 255, 0);
        let grown = [
            GrowNode::Split { feature: 0, bin: 0, left: 1, right: 2 },
            GrowNode::Leaf(vec![-1.0]),
            GrowNode::Split { feature: 0, bin: 1, left: 3, right: 4 },
            GrowNode::Leaf(vec![0.0]),
            GrowNode::Leaf(vec![1.0]),
        ];
        Tree::from_grown(&grown, &mapper)
    }

    #[test]
    fn traverses_on_raw_thresholds() {
        let tree = stump();
        assert_eq!(tree.validate(1, 1), Ok(()));
        let cases = [
            (-5.0, -1.0),
            (0.5, -1.0),
            (0.6, 0.0),
            (1.5, 0.0),
            (1.6, 1.0),
            (9.0, 1.0),
            (0.0, -1.0),
            (1.0, 0.0),
        ];
        for (x, expected) in cases {
            assert_eq!(tree.leaf_values(tree.leaf(&[x], 1, 0, 1), 1), &[expected], "x = {x}");
        }
        // One feature: the feature-major block is the column of values.
        let cols: Vec<f32> = cases.iter().map(|c| c.0).collect();
        let batch = tree.leaves(&cols, cases.len(), 0, 1);
        for (r, leaf) in batch.iter().enumerate() {
            assert_eq!(*leaf, tree.leaf(&cols, cases.len(), r, 1));
        }
        let single = Tree {
            nodes: vec![Node { feature: 0, threshold: f32::INFINITY, children: [0, 0] }],
            values: vec![0.25, 0.75],
        };
        assert_eq!(single.leaf(&[3.0], 1, 0, 2), 0);
        assert_eq!(single.leaves(&[0.0; LOCKSTEP], LOCKSTEP, 0, 2), [0; LOCKSTEP]);
        assert_eq!(single.validate(1, 2), Ok(()));
    }

    #[test]
    fn validation_rejects_cycles_and_out_of_range_indices() {
        let tree = stump();
        assert!(tree.validate(0, 1).is_err());
        assert!(tree.validate(1, 2).is_err());
        let mut cyclic = tree.clone();
        cyclic.nodes[1].children[0] = 0;
        assert!(cyclic.validate(1, 1).unwrap_err().contains("invalid feature or child"));
        let mut dangling = tree.clone();
        dangling.nodes[0].children[1] = 7;
        assert!(dangling.validate(1, 1).is_err());
        let mut escaping_leaf = tree;
        escaping_leaf.nodes[3].children = [1, 1];
        assert!(escaping_leaf.validate(1, 1).is_err());
    }
}
