//! Exact k-nearest-neighbour search: pruned, blocked brute force.
//!
//! **The metric** is the squared Euclidean distance summed in `f64`, column by column in
//! column order: `d(a, b) = Σ_j (f64(a_j) - f64(b_j))²`. Neighbours are ordered by `d`,
//! then by the smallest row index among the exact duplicates of the neighbour, then by row
//! index; the query row itself is never its own neighbour, but its exact duplicates are
//! (at distance 0), as in imbalanced-learn's self-excluding `k + 1` convention. The answer
//! is therefore a pure function of the data: it does not depend on the number of threads.
//!
//! **How it is fast.** Columns that are constant over the rows involved are dropped (they
//! add exact zeros) and exact duplicates are merged. The remaining points are centred,
//! scaled by a power of two and cut into leaves of at most [`REF_LEAF`] points by a tree
//! that splits at the median along the direction between two far-apart points. Queries
//! that are themselves references are blocked by the leaf that holds them, and that leaf
//! is visited first (the neighbours are usually there, so the bounds are tight from the
//! start); other queries are cut by the same tree. Each query block then visits the
//! reference leaves in order of the distance between their bounding boxes, and skips, per
//! query, every leaf whose box is farther than the query's current k-th candidate (on
//! NSL-KDD's one-hot columns, boxes prune far better than balls or k-d splits did). A
//! visited (query block, leaf) pair is scored with one `f32` matrix product,
//! `|r|² - 2 q·r` with both points relative to the leaf's centroid, so that rounding errors
//! scale with local distances. That score is only a filter: with a rigorous bound on its
//! rounding error, every point whose lower bound beats the current k-th upper bound
//! becomes a candidate, and the candidates are ranked by the exact metric above. Only the
//! references a query could need are scored, and only the rows asked for are queries, so
//! SMOTE searches the neighbours of the rows it drew and no others.

use std::ops::Range;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use rayon::prelude::*;

/// Largest number of points in a reference leaf.
const REF_LEAF: usize = 128;
/// Largest number of queries in a block.
const QUERY_LEAF: usize = 256;
/// Points of a node looked at to choose its split direction.
const SPLIT_SAMPLE: usize = 256;
/// Nodes larger than this are split in parallel.
const PARALLEL_SPLIT: usize = 8192;
/// Unit roundoff of `f32`.
const U32: f32 = f32::EPSILON / 2.0;

/// A row-major matrix borrowed as a slice, so that rows are plain slices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rows<'a> {
    data: &'a [f32],
    width: usize,
}

impl<'a> Rows<'a> {
    /// `data` holds whole rows of `width` values.
    pub(crate) fn new(data: &'a [f32], width: usize) -> Self {
        debug_assert!(width == 0 || data.len().is_multiple_of(width));
        Self { data, width }
    }

    pub(crate) fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.width..(i + 1) * self.width]
    }

    pub(crate) fn width(&self) -> usize {
        self.width
    }
}

/// `k` neighbours (row indices) per query, in query order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Neighbours {
    k: usize,
    ids: Vec<usize>,
}

impl Neighbours {
    /// The neighbours of query `i`, nearest first.
    pub(crate) fn of(&self, i: usize) -> &[usize] {
        &self.ids[i * self.k..(i + 1) * self.k]
    }
}

/// The `k` nearest rows among `refs` of each row in `queries` (row indices of `x`), under
/// the module's metric and order. A query that is itself in `refs` is skipped in its own
/// list, so `refs` must hold at least `k + 1` rows then, and `k` otherwise.
pub(crate) fn knn(x: Rows<'_>, refs: &[usize], queries: &[usize], k: usize) -> Neighbours {
    if k == 0 || queries.is_empty() {
        return Neighbours { k, ids: Vec::new() };
    }
    let cols = varying_columns(x, refs, queries);
    let ref_points = select(x, refs, &cols);
    let query_points = select(x, queries, &cols);
    let ref_groups = Groups::new(&ref_points, refs);
    let query_groups = Groups::new(&query_points, queries);
    // A query group that is also a reference group has a "home" among the references.
    let mut sorted_refs: Vec<(usize, usize)> = refs.iter().copied().zip(0..).collect();
    sorted_refs.sort_unstable();
    let mut homes = vec![None; query_groups.len()];
    for (position, query) in queries.iter().enumerate() {
        if let Ok(at) = sorted_refs.binary_search_by_key(query, |&(row, _)| row) {
            homes[query_groups.of[position] as usize] = Some(ref_groups.of[sorted_refs[at].1]);
        }
    }
    // k + 1 distinct groups always hold k rows besides the query.
    let kk = (k + 1).min(ref_groups.len());
    let nearest =
        search(&ref_groups.unique(ref_points), &query_groups.unique(query_points), &homes, kk);
    let mut ids = Vec::with_capacity(queries.len() * k);
    for (position, &query) in queries.iter().enumerate() {
        let start = ids.len();
        let group = query_groups.of[position] as usize;
        'groups: for &g in &nearest[group * kk..(group + 1) * kk] {
            for &id in ref_groups.members(g as usize) {
                if id != query {
                    ids.push(id);
                    if ids.len() - start == k {
                        break 'groups;
                    }
                }
            }
        }
        assert_eq!(ids.len() - start, k, "too few reference rows for {k} neighbours");
    }
    Neighbours { k, ids }
}

/// The exact metric of the module docs.
fn exact_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).fold(0.0, |sum, (&a, &b)| {
        let diff = f64::from(a) - f64::from(b);
        sum + diff * diff
    })
}

/// `+0.0` for `-0.0`, so that the bits of equal values are equal.
fn canonical_bits(v: f32) -> u32 {
    (v + 0.0).to_bits()
}

/// Columns whose value is not the same in every row of `a` and `b`.
fn varying_columns(x: Rows<'_>, a: &[usize], b: &[usize]) -> Vec<usize> {
    let Some(&first) = a.first().or(b.first()) else { return Vec::new() };
    let first = x.row(first);
    let mut varies = vec![false; x.width()];
    for &row in a.iter().chain(b) {
        for ((flag, &v), &f) in varies.iter_mut().zip(x.row(row)).zip(first) {
            *flag |= canonical_bits(v) != canonical_bits(f);
        }
    }
    varies.iter().enumerate().filter(|&(_, &v)| v).map(|(c, _)| c).collect()
}

/// The given rows and columns of `x` as a contiguous matrix.
fn select(x: Rows<'_>, rows: &[usize], cols: &[usize]) -> Array2<f32> {
    let mut out = Vec::with_capacity(rows.len() * cols.len());
    for &row in rows {
        let source = x.row(row);
        out.extend(cols.iter().map(|&c| source[c]));
    }
    Array2::from_shape_vec((rows.len(), cols.len()), out).expect("rows x cols values")
}

/// The rows of a point matrix, grouped into exact duplicates.
struct Groups {
    /// Position (row of the point matrix) of each group's smallest row index; groups are
    /// numbered in increasing order of that index.
    first_positions: Vec<usize>,
    /// Row indices of each group, ascending, concatenated.
    rows: Vec<usize>,
    /// Start of each group in `rows`, plus the end.
    offsets: Vec<usize>,
    /// Group of each position.
    of: Vec<u32>,
}

impl Groups {
    /// Groups the rows of `points`, whose row indices are `ids`.
    fn new(points: &Array2<f32>, ids: &[usize]) -> Self {
        let row = |p: usize| row_of(points, p);
        let same = |a: usize, b: usize| {
            row(a).iter().zip(row(b)).all(|(&u, &v)| canonical_bits(u) == canonical_bits(v))
        };
        let hashes: Vec<u64> = (0..ids.len())
            .map(|p| {
                row(p).iter().fold(0x9E37_79B9_7F4A_7C15, |h: u64, &v| {
                    (h ^ u64::from(canonical_bits(v)))
                        .wrapping_mul(0x0100_0000_01B3)
                        .rotate_left(29)
                })
            })
            .collect();
        // Sort by (hash, row index); within a run of equal hashes a row joins the first
        // earlier row it equals, so every group's leader is its smallest row index.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&p| (hashes[p], ids[p]));
        let mut leader_of = vec![0; ids.len()];
        let mut leaders: Vec<usize> = Vec::new();
        for (i, &p) in order.iter().enumerate() {
            if i > 0 && hashes[p] != hashes[order[i - 1]] {
                leaders.clear();
            }
            leader_of[p] = if let Some(&leader) = leaders.iter().find(|&&leader| same(leader, p)) {
                leader
            } else {
                leaders.push(p);
                p
            };
        }
        // Number groups by their leader's row index; list members in row order.
        let mut by_row: Vec<usize> = (0..ids.len()).collect();
        by_row.sort_unstable_by_key(|&p| ids[p]);
        let mut number = vec![u32::MAX; ids.len()];
        let mut first_positions = Vec::new();
        let mut sizes: Vec<usize> = Vec::new();
        for &p in &by_row {
            let leader = leader_of[p];
            if number[leader] == u32::MAX {
                number[leader] = first_positions.len() as u32;
                first_positions.push(leader);
                sizes.push(0);
            }
            sizes[number[leader] as usize] += 1;
        }
        let mut offsets = Vec::with_capacity(sizes.len() + 1);
        offsets.push(0);
        for size in sizes {
            offsets.push(offsets[offsets.len() - 1] + size);
        }
        let of: Vec<u32> = leader_of.iter().map(|&leader| number[leader]).collect();
        let mut fill = offsets.clone();
        let mut rows = vec![0; ids.len()];
        for &p in &by_row {
            let g = of[p] as usize;
            rows[fill[g]] = ids[p];
            fill[g] += 1;
        }
        Self { first_positions, rows, offsets, of }
    }

    fn len(&self) -> usize {
        self.first_positions.len()
    }

    /// One point per group, in group order.
    fn unique(&self, points: Array2<f32>) -> Array2<f32> {
        if self.first_positions.iter().enumerate().all(|(i, &p)| i == p)
            && self.len() == points.nrows()
        {
            points
        } else {
            points.select(Axis(0), &self.first_positions)
        }
    }

    fn members(&self, group: usize) -> &[usize] {
        &self.rows[self.offsets[group]..self.offsets[group + 1]]
    }
}

fn squared_norm(v: &[f32]) -> f64 {
    v.iter().map(|&a| f64::from(a) * f64::from(a)).sum()
}

/// Squared distance from `q` to the box `[lows, highs]`, in `f32`.
fn box_distance(q: &[f32], lows: &[f32], highs: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut sums = [0.0_f32; LANES];
    let mut q_chunks = q.chunks_exact(LANES);
    let mut l_chunks = lows.chunks_exact(LANES);
    let mut h_chunks = highs.chunks_exact(LANES);
    for ((q, l), h) in (&mut q_chunks).zip(&mut l_chunks).zip(&mut h_chunks) {
        for i in 0..LANES {
            let gap = (l[i] - q[i]).max(q[i] - h[i]).max(0.0);
            sums[i] += gap * gap;
        }
    }
    let tail: f32 = q_chunks
        .remainder()
        .iter()
        .zip(l_chunks.remainder())
        .zip(h_chunks.remainder())
        .map(|((&q, &l), &h)| {
            let gap = (l - q).max(q - h).max(0.0);
            gap * gap
        })
        .sum();
    sums.iter().sum::<f32>() + tail
}

/// Squared distance between the boxes `[al, ah]` and `[bl, bh]`, in `f32`.
fn box_box_distance(al: &[f32], ah: &[f32], bl: &[f32], bh: &[f32]) -> f32 {
    al.iter()
        .zip(ah)
        .zip(bl.iter().zip(bh))
        .map(|((&al, &ah), (&bl, &bh))| {
            let gap = (bl - ah).max(al - bh).max(0.0);
            gap * gap
        })
        .sum()
}

/// `Σ f(a_j, b_j)` in `f32`, in 8 interleaved partial sums so that it vectorises.
fn lanes_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    const LANES: usize = 8;
    let mut sums = [0.0_f32; LANES];
    let (mut a_chunks, mut b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    for (a, b) in (&mut a_chunks).zip(&mut b_chunks) {
        for i in 0..LANES {
            sums[i] += f(a[i], b[i]);
        }
    }
    let tail: f32 =
        a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(&a, &b)| f(a, b)).sum();
    sums.iter().sum::<f32>() + tail
}

/// Points cut into leaves by [`split`], with what the search needs per leaf. Leaf `l`
/// holds the points `index[ranges[l]]`.
struct Leaves {
    /// The prepared (centred and scaled) points, in input order.
    prepared: Array2<f32>,
    /// `|p|²` of each prepared point, rounded to `f32`, in input order.
    norms: Vec<f32>,
    /// The points in leaf order.
    index: Vec<u32>,
    ranges: Vec<Range<usize>>,
    /// The largest `|p|²` in each leaf.
    max_norms: Vec<f32>,
    /// Smallest and largest prepared value of each column in each leaf.
    lows: Array2<f32>,
    highs: Array2<f32>,
    /// Each leaf's centroid, in input coordinates.
    centroids: Array2<f64>,
    /// The points in leaf order, relative to their leaf's centroid and scaled, each value
    /// rounded once (empty unless asked for).
    local: Array2<f32>,
    /// `|p|²` of each local point.
    local_norms: Vec<f32>,
}

impl Leaves {
    /// `points` in input coordinates, `prepared` the same points centred and scaled by
    /// `scale`, cut by [`split`].
    fn new(points: &Array2<f32>, prepared: Array2<f32>, scale: f64, leaf: usize) -> Self {
        let mut index: Vec<u32> = (0..points.nrows() as u32).collect();
        let ranges = split(prepared.view(), &mut index, 0, leaf);
        Self::arrange(points, prepared, scale, index, ranges, true)
    }

    /// The leaves given by `ranges` of the point order `index`; the local coordinates only
    /// `with_local`.
    fn arrange(
        points: &Array2<f32>,
        prepared: Array2<f32>,
        scale: f64,
        index: Vec<u32>,
        ranges: Vec<Range<usize>>,
        with_local: bool,
    ) -> Self {
        let norms = row_norms(&prepared);
        let d = points.ncols();
        let mut lows = Array2::from_elem((ranges.len(), d), f32::INFINITY);
        let mut highs = Array2::from_elem((ranges.len(), d), f32::NEG_INFINITY);
        let mut centroids = Array2::zeros((ranges.len(), d));
        let mut local = Array2::zeros(if with_local { points.dim() } else { (0, d) });
        let mut max_norms = Vec::with_capacity(ranges.len());
        for (leaf, range) in ranges.iter().enumerate() {
            let members = || index[range.clone()].iter().map(|&p| p as usize);
            let (mut lo, mut hi) = (lows.row_mut(leaf), highs.row_mut(leaf));
            let (lo, hi) = (lo.as_slice_mut().expect("row"), hi.as_slice_mut().expect("row"));
            let mut sum = vec![0.0_f64; d];
            for p in members() {
                for (((l, h), s), (&v, &x)) in lo
                    .iter_mut()
                    .zip(hi.iter_mut())
                    .zip(sum.iter_mut())
                    .zip(row_of(&prepared, p).iter().zip(row_of(points, p)))
                {
                    *l = l.min(v);
                    *h = h.max(v);
                    *s += f64::from(x);
                }
            }
            let centroid: Vec<f64> = sum.iter().map(|s| s / range.len() as f64).collect();
            if with_local {
                for (i, p) in range.clone().zip(members()) {
                    let target = local.row_mut(i).into_slice().expect("contiguous rows");
                    localise(row_of(points, p), &centroid, scale, target);
                }
            }
            centroids.row_mut(leaf).assign(&ndarray::aview1(&centroid));
            max_norms.push(members().map(|p| norms[p]).fold(0.0, f32::max));
        }
        let local_norms = row_norms(&local);
        Self {
            prepared,
            norms,
            index,
            ranges,
            max_norms,
            lows,
            highs,
            centroids,
            local,
            local_norms,
        }
    }
}

/// Row `i` of `lows` and of `highs`: one box.
fn box_of<'a>(lows: &'a Array2<f32>, highs: &'a Array2<f32>, i: usize) -> (&'a [f32], &'a [f32]) {
    (row_of(lows, i), row_of(highs, i))
}

/// Row `i` of a standard-layout matrix, as a slice.
fn row_of(m: &Array2<f32>, i: usize) -> &[f32] {
    m.row(i).to_slice().expect("contiguous rows")
}

/// `|p|²` of each row, rounded to `f32`.
fn row_norms(points: &Array2<f32>) -> Vec<f32> {
    points
        .rows()
        .into_iter()
        .map(|r| squared_norm(r.as_slice().expect("contiguous rows")) as f32)
        .collect()
}

/// `out = (point - origin) * scale`, computed in f64 and rounded once to f32.
fn localise(point: &[f32], origin: &[f64], scale: f64, out: &mut [f32]) {
    for ((o, &v), &c) in out.iter_mut().zip(point).zip(origin) {
        *o = ((f64::from(v) - c) * scale) as f32;
    }
}

/// Splits `index` (rows of `points`) into leaves of at most `leaf` points, in place, at
/// the median along the direction between two far-apart points (a cheap stand-in for the
/// principal axis). Returns the leaves' ranges (offset by `offset`). The arithmetic only
/// shapes the tree, so `f32` is enough.
fn split(
    points: ArrayView2<'_, f32>,
    index: &mut [u32],
    offset: usize,
    leaf: usize,
) -> Vec<Range<usize>> {
    let n = index.len();
    if n <= leaf {
        return std::iter::once(offset..offset + n).collect();
    }
    let row = |i: u32| points.row(i as usize).to_slice().expect("contiguous rows");
    // Far points among an evenly strided sample of the node: only the direction matters.
    let stride = n.div_ceil(SPLIT_SAMPLE);
    let far_from = |from: u32| -> u32 {
        let from = row(from);
        let mut best = (f32::NEG_INFINITY, 0);
        for &i in index.iter().step_by(stride) {
            let dist = lanes_sum(row(i), from, |a, b| (a - b) * (a - b));
            if dist > best.0 {
                best = (dist, i);
            }
        }
        best.1
    };
    let a = far_from(index[0]);
    let b = far_from(a);
    let direction: Vec<f32> = row(b).iter().zip(row(a)).map(|(&b, &a)| b - a).collect();
    let mut keyed: Vec<(f32, u32)> =
        index.iter().map(|&i| (lanes_sum(row(i), &direction, |v, w| v * w), i)).collect();
    let mid = n / 2;
    keyed.select_nth_unstable_by(mid, |l, r| l.0.total_cmp(&r.0).then(l.1.cmp(&r.1)));
    for (slot, &(_, i)) in index.iter_mut().zip(&keyed) {
        *slot = i;
    }
    let (left, right) = index.split_at_mut(mid);
    let (mut l, r) = if n > PARALLEL_SPLIT {
        rayon::join(
            || split(points, left, offset, leaf),
            || split(points, right, offset + mid, leaf),
        )
    } else {
        (split(points, left, offset, leaf), split(points, right, offset + mid, leaf))
    };
    l.extend(r);
    l
}

/// Cuts the queries into blocks. A query equal to a reference point (`homes[q]`, an index
/// into the references) joins the block of the other queries in that point's leaf, which
/// the block then visits first: its nearest neighbours are usually there, so the bounds
/// are tight from the start. The other queries are cut by [`split`]. Returns the blocks
/// and the home leaf of each.
fn query_blocks(
    queries: &Array2<f32>,
    prepared: Array2<f32>,
    scale: f64,
    refs: &Leaves,
    homes: &[Option<u32>],
) -> (Leaves, Vec<Option<usize>>) {
    let mut leaf_of = vec![0; refs.index.len()];
    for (leaf, range) in refs.ranges.iter().enumerate() {
        for position in range.clone() {
            leaf_of[refs.index[position] as usize] = leaf;
        }
    }
    let mut homed: Vec<(usize, u32)> = Vec::new();
    let mut rest: Vec<u32> = Vec::new();
    for (q, home) in homes.iter().enumerate() {
        match home {
            Some(r) => homed.push((leaf_of[*r as usize], q as u32)),
            None => rest.push(q as u32),
        }
    }
    homed.sort_unstable();
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut block_homes = Vec::new();
    for (i, &(leaf, _)) in homed.iter().enumerate() {
        if i == 0 || homed[i - 1].0 != leaf {
            ranges.push(i..i);
            block_homes.push(Some(leaf));
        }
        ranges.last_mut().expect("pushed above").end = i + 1;
    }
    let mut index: Vec<u32> = homed.iter().map(|&(_, q)| q).collect();
    if !rest.is_empty() {
        let offset = index.len();
        // split() works on positions into the matrix it is given.
        let rest_points =
            prepared.select(Axis(0), &rest.iter().map(|&q| q as usize).collect::<Vec<_>>());
        let mut positions: Vec<u32> = (0..rest.len() as u32).collect();
        let rest_ranges = split(rest_points.view(), &mut positions, offset, QUERY_LEAF);
        block_homes.extend(rest_ranges.iter().map(|_| None));
        ranges.extend(rest_ranges);
        index.extend(positions.iter().map(|&p| rest[p as usize]));
    }
    (Leaves::arrange(queries, prepared, scale, index, ranges, false), block_homes)
}

/// For each query point, the `kk` nearest reference points (as row indices of `refs`),
/// ordered by exact distance and then index. `homes[q]` is the reference equal to query
/// `q`, if any. Needs `1 <= kk <= refs.nrows()`.
fn search(refs: &Array2<f32>, queries: &Array2<f32>, homes: &[Option<u32>], kk: usize) -> Vec<u32> {
    let d = refs.ncols();
    if refs.nrows() <= kk {
        // Every reference is a neighbour (this covers d = 0, where all rows are equal).
        return (0..queries.nrows())
            .flat_map(|q| {
                let mut ranked: Vec<(f64, u32)> = (0..refs.nrows())
                    .map(|r| (exact_distance(row_of(queries, q), row_of(refs, r)), r as u32))
                    .collect();
                ranked.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                ranked.into_iter().map(|(_, r)| r)
            })
            .collect();
    }
    // The tree and the boxes use the points centred on the reference mean and scaled by a
    // power of two so that the largest magnitude is about 2^30: squares can neither
    // overflow nor underflow in f32. Each value is rounded once, from f64.
    let mut mean = vec![0.0_f64; d];
    for row in refs.rows() {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    for m in &mut mean {
        *m /= refs.nrows() as f64;
    }
    let mut max_abs = 0.0_f64;
    for row in refs.rows().into_iter().chain(queries.rows()) {
        for (&v, &m) in row.iter().zip(&mean) {
            max_abs = max_abs.max((f64::from(v) - m).abs());
        }
    }
    let scale = if max_abs > 0.0 { 2.0_f64.powi(30 - max_abs.log2().floor() as i32) } else { 1.0 };
    let prepare = |points: &Array2<f32>| {
        let mut out = Array2::zeros(points.dim());
        for (row, mut target) in points.rows().into_iter().zip(out.rows_mut()) {
            localise(
                row.as_slice().expect("contiguous rows"),
                &mean,
                scale,
                target.as_slice_mut().expect("contiguous rows"),
            );
        }
        out
    };
    let ref_leaves = Leaves::new(refs, prepare(refs), scale, REF_LEAF);
    let (query_leaves, block_homes) =
        query_blocks(queries, prepare(queries), scale, &ref_leaves, homes);
    // Every bound below estimates scale² times the exact squared distance. An estimate
    // from points rounded relative to an origin o, by an f32 dot product, is within
    // tol * (|q - o|² + |r - o|²) of it (scaled): that covers the rounding of the
    // coordinates, of the dot product (at most d roundings per term) and of combining the
    // terms, with a margin of two.
    let tol = (2 * d + 32) as f32 * U32;
    let r_lower: Vec<f32> = ref_leaves.local_norms.iter().map(|&n| (1.0 - tol) * n).collect();
    let ctx = Context { refs, queries, leaves: &ref_leaves, r_lower: &r_lower, kk, tol, scale };
    let blocks: Vec<Vec<u32>> = (0..query_leaves.ranges.len())
        .into_par_iter()
        .map(|b| ctx.block(&query_leaves, b, block_homes[b]))
        .collect();
    let mut out = vec![0; queries.nrows() * kk];
    for (range, found) in query_leaves.ranges.iter().zip(blocks) {
        for (position, nearest) in range.clone().zip(found.chunks_exact(kk)) {
            let q = query_leaves.index[position] as usize;
            out[q * kk..(q + 1) * kk].copy_from_slice(nearest);
        }
    }
    out
}

struct Context<'a> {
    /// The reference and query points in input coordinates.
    refs: &'a Array2<f32>,
    queries: &'a Array2<f32>,
    leaves: &'a Leaves,
    /// `(1 - tol) |r - c|²` per reference point, in leaf order (`c` its leaf's centroid).
    r_lower: &'a [f32],
    kk: usize,
    tol: f32,
    scale: f64,
}

/// The search state of one query: the `kk` smallest upper bounds seen, and the candidates
/// whose lower bound was at most the k-th smallest upper bound when they were seen.
struct Best {
    upper: Vec<f32>,
    candidates: Vec<(u32, f32)>,
    /// Candidate count at which to drop the candidates that can no longer qualify.
    prune_at: usize,
}

impl Best {
    fn new(kk: usize) -> Self {
        Self { upper: Vec::with_capacity(kk + 1), candidates: Vec::new(), prune_at: 8 * kk + 64 }
    }

    fn threshold(&self, kk: usize) -> f32 {
        if self.upper.len() < kk { f32::INFINITY } else { self.upper[kk - 1] }
    }

    fn offer(&mut self, kk: usize, point: u32, lower: f32, upper: f32) {
        self.candidates.push((point, lower));
        if self.upper.len() < kk || upper < self.upper[kk - 1] {
            let at = self.upper.partition_point(|&u| u <= upper);
            self.upper.insert(at, upper);
            self.upper.truncate(kk);
        }
        if self.candidates.len() >= self.prune_at {
            let threshold = self.threshold(kk);
            self.candidates.retain(|&(_, lower)| lower <= threshold);
            // Many near-ties may survive; doubling keeps the pruning linear overall.
            self.prune_at = self.prune_at.max(2 * self.candidates.len());
        }
    }
}

impl Context<'_> {
    /// The `kk` nearest references of each query of query leaf `block`, in leaf order.
    fn block(&self, queries: &Leaves, block: usize, home: Option<usize>) -> Vec<u32> {
        let (kk, leaves, tol) = (self.kk, self.leaves, self.tol);
        let range = queries.ranges[block].clone();
        // Query i of the block is query point members[i].
        let members: Vec<usize> =
            queries.index[range.clone()].iter().map(|&p| p as usize).collect();
        let q_row = |i: usize| row_of(&queries.prepared, members[i]);
        let q_input = |i: usize| row_of(self.queries, members[i]);
        let q_norms: Vec<f32> = members.iter().map(|&p| queries.norms[p]).collect();
        let nq = range.len();
        // The distance to a box of prepared points becomes a lower bound of the exact
        // (scaled) distance after removing its own rounding and the preparation's.
        let lower_bound = |box_distance: f32, q_norm: f32, leaf: usize| {
            box_distance * (1.0 - tol) - tol * (q_norm + leaves.max_norms[leaf])
        };
        let (q_lows, q_highs) = box_of(&queries.lows, &queries.highs, block);
        let mut order: Vec<(f32, usize)> = (0..leaves.ranges.len())
            .map(|leaf| {
                let (lows, highs) = box_of(&leaves.lows, &leaves.highs, leaf);
                let gap = box_box_distance(q_lows, q_highs, lows, highs);
                (lower_bound(gap, queries.max_norms[block], leaf), leaf)
            })
            .collect();
        // The home leaf first, then by bound and index.
        order.sort_unstable_by(|a, b| {
            let first = |leaf| Some(leaf) != home;
            first(a.1).cmp(&first(b.1)).then(a.0.total_cmp(&b.0)).then(a.1.cmp(&b.1))
        });

        let mut best: Vec<Best> = (0..nq).map(|_| Best::new(kk)).collect();
        // Leaves come in increasing order of their bound for the whole block, so a query
        // whose threshold falls below it is done.
        let mut alive: Vec<usize> = (0..nq).collect();
        let mut active = Vec::with_capacity(nq);
        let mut local = Vec::new();
        let mut local_norms = Vec::with_capacity(nq);
        let mut products = Vec::new();
        for &(leaf_bound, leaf) in &order {
            alive.retain(|&i| leaf_bound <= best[i].threshold(kk));
            if alive.is_empty() {
                break;
            }
            let (lows, highs) = box_of(&leaves.lows, &leaves.highs, leaf);
            active.clear();
            active.extend(alive.iter().copied().filter(|&i| {
                lower_bound(box_distance(q_row(i), lows, highs), q_norms[i], leaf)
                    <= best[i].threshold(kk)
            }));
            if active.is_empty() {
                continue;
            }
            // The active queries relative to the leaf's centroid, like its points: the
            // error bound then scales with local distances, not with the distance to the
            // global mean.
            let centroid = leaves.centroids.row(leaf);
            let centroid = centroid.as_slice().expect("contiguous rows");
            let d = centroid.len();
            local.clear();
            local.resize(active.len() * d, 0.0);
            local_norms.clear();
            for (target, &i) in local.chunks_exact_mut(d.max(1)).zip(&active) {
                localise(q_input(i), centroid, self.scale, target);
                local_norms.push(squared_norm(target) as f32);
            }
            let lhs = ArrayView2::from_shape((active.len(), d), &local).expect("active x d");
            let points = leaves.ranges[leaf].clone();
            let r = leaves.local.slice_axis(Axis(0), Slice::from(points.clone()));
            let width = points.len();
            // products[a][j] = (1 - tol)|r_j|² - 2 q_a·r_j, in local coordinates: a lower
            // bound of |q_a - r_j|² - |q_a|², up to the query's own slack.
            products.clear();
            for _ in 0..active.len() {
                products.extend_from_slice(&self.r_lower[points.clone()]);
            }
            let mut out = ArrayViewMut2::from_shape((active.len(), width), &mut products)
                .expect("buffer has the product's size");
            general_mat_mul(-2.0, &lhs, &r.t(), 1.0, &mut out);
            for ((row, &i), &q_norm) in products.chunks_exact(width).zip(&active).zip(&local_norms)
            {
                self.scan(&mut best[i], q_norm, row, points.start);
            }
        }

        let mut found = Vec::with_capacity(nq * kk);
        for (i, state) in best.into_iter().enumerate() {
            let query = q_input(i);
            let threshold = state.threshold(kk);
            let mut ranked: Vec<(f64, u32)> = state
                .candidates
                .iter()
                .filter(|&&(_, lower)| lower <= threshold)
                .map(|&(point, _)| {
                    let original = leaves.index[point as usize];
                    let row = row_of(self.refs, original as usize);
                    (exact_distance(query, row), original)
                })
                .collect();
            ranked.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            assert!(ranked.len() >= kk, "the candidate filter lost a neighbour");
            found.extend(ranked[..kk].iter().map(|&(_, original)| original));
        }
        found
    }

    /// Offers the points of one leaf to a query's state. `lowers[j]` is
    /// `(1 - tol)|r_j|² - 2 q·r_j` in local coordinates, `q_norm` is the query's local
    /// `|q|²`, and the leaf starts at point `first`.
    fn scan(&self, best: &mut Best, q_norm: f32, lowers: &[f32], first: usize) {
        const LANES: usize = 8;
        let kk = self.kk;
        let q_slack = self.tol * q_norm;
        // Bounds of the (scaled) distance: lower = lowers[j] + |q|² - tol |q|², and the
        // upper bound adds 2 tol (|q|² + |r_j|²).
        let mut threshold = best.threshold(kk) - q_norm + q_slack;
        let mut least = [f32::INFINITY; LANES];
        let mut chunks = lowers.chunks_exact(LANES);
        for chunk in &mut chunks {
            for i in 0..LANES {
                least[i] = least[i].min(chunk[i]);
            }
        }
        let least = chunks.remainder().iter().chain(&least).copied().fold(f32::INFINITY, f32::min);
        if least > threshold {
            return;
        }
        for (j, &l) in lowers.iter().enumerate() {
            if l <= threshold {
                let lower = l + q_norm - q_slack;
                let r_norm = self.leaves.local_norms[first + j];
                let upper = lower + 2.0 * self.tol * (q_norm + r_norm);
                best.offer(kk, (first + j) as u32, lower, upper);
                threshold = best.threshold(kk) - q_norm + q_slack;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn rows(x: &Array2<f32>) -> Rows<'_> {
        Rows::new(x.as_slice().unwrap(), x.ncols())
    }

    /// The module's metric and order, by sorting every candidate.
    fn brute(x: &Array2<f32>, refs: &[usize], query: usize, k: usize) -> Vec<usize> {
        let all: Vec<usize> = (0..x.ncols()).collect();
        let points = select(rows(x), refs, &all);
        let groups = Groups::new(&points, refs);
        let distance = |r: usize| exact_distance(rows(x).row(query), rows(x).row(r));
        let mut ranked: Vec<(f64, usize, usize)> = refs
            .iter()
            .enumerate()
            .filter(|&(_, &r)| r != query)
            .map(|(p, &r)| (distance(r), groups.of[p] as usize, r))
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        ranked.iter().take(k).map(|t| t.2).collect()
    }

    fn check(x: &Array2<f32>, refs: &[usize], queries: &[usize], k: usize) {
        let found = knn(rows(x), refs, queries, k);
        for (i, &q) in queries.iter().enumerate() {
            assert_eq!(found.of(i), brute(x, refs, q, k), "query {q}");
        }
    }

    #[test]
    fn matches_brute_force_on_small_hand_made_data() {
        let x = array![[0.0_f32, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 0.0], [5.0, 5.0], [-0.0, 0.0]];
        check(&x, &[0, 1, 2, 3, 4, 5], &[0, 1, 4], 3);
        // Exact duplicates (1 and 3; 0 and 5, as -0.0 == 0.0) come first at distance 0.
        assert_eq!(knn(rows(&x), &[0, 1, 2, 3, 4, 5], &[1, 5], 2).ids, vec![3, 0, 0, 1]);
        // Queries outside the references.
        check(&x, &[1, 2, 4], &[0, 3, 5], 2);
    }

    #[test]
    fn matches_brute_force_on_clustered_random_data_with_duplicates() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 2_000;
        let centres: Vec<[f32; 3]> =
            (0..7).map(|_| [rng.random_range(-50.0..50.0), rng.random(), rng.random()]).collect();
        let mut x = Array2::<f32>::zeros((n, 12));
        for i in 0..n {
            if i % 10 == 9 {
                let source = x.row(rng.random_range(0..i)).to_owned();
                x.row_mut(i).assign(&source);
                continue;
            }
            let c = centres[rng.random_range(0..centres.len())];
            for j in 0..11 {
                x[[i, j]] = c[j % 3] * 100.0 + rng.random_range(-1.0_f32..1.0) * 0.01;
            }
            x[[i, 11]] = 7.0;
        }
        let refs: Vec<usize> = (0..n).filter(|i| i % 3 != 0).collect();
        let queries: Vec<usize> = (0..n).step_by(7).collect();
        check(&x, &refs, &queries, 5);
        check(&x, &refs, &refs[..50], 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Coarse grid values make ties and duplicates common; the order must still match.
        #[test]
        fn matches_brute_force_on_random_data(
            n in 2_usize..400,
            d in 1_usize..6,
            grid in 1_u8..6,
            k in 1_usize..8,
            seed in 0_u64..1_000,
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let x = Array2::from_shape_fn((n, d), |_| f32::from(rng.random_range(0..=grid)) * 0.3 - 0.5);
            let refs: Vec<usize> = (0..n).filter(|_| rng.random_bool(0.7)).collect();
            let queries: Vec<usize> = (0..n).filter(|_| rng.random_bool(0.5)).collect();
            let k = k.min(refs.len().saturating_sub(1));
            if k > 0 {
                check(&x, &refs, &queries, k);
            }
        }
    }

    #[test]
    fn extreme_magnitudes_neither_overflow_nor_lose_neighbours() {
        let all: Vec<usize> = (0..300).collect();
        for (scale, offset) in [(1e-30_f32, 0.0_f32), (1e25, 0.0), (1e-3, 1e6), (1.0, -3e30)] {
            let x = Array2::from_shape_fn((300, 4), |(i, j)| {
                offset + ((i * 7 + j * 3) % 17) as f32 * scale
            });
            check(&x, &all, &all, 4);
        }
    }

    #[test]
    fn neighbours_do_not_depend_on_the_thread_count() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let x = Array2::from_shape_fn((3_000, 20), |_| f32::from(rng.random_range(0_u8..3)));
        let all: Vec<usize> = (0..3_000).collect();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let a = one.install(|| knn(rows(&x), &all, &all, 6));
        let b = three.install(|| knn(rows(&x), &all, &all, 6));
        assert_eq!(a, b);
        for q in [0, 1, 1_234, 2_999] {
            assert_eq!(a.of(q), brute(&x, &all, q, 6));
        }
    }
}
