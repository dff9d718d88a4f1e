//! Brute-force checks, independent of the crate's neighbour search.

use std::collections::HashMap;

use ndarray::{Array2, ArrayView1, ArrayView2, Axis, Slice};
use vigil_balance::Balanced;

/// Relative and absolute slack for comparing squared distances computed two ways.
const SLACK: f64 = 1e-6;

/// Squared Euclidean distance in f64.
pub(crate) fn distance(a: ArrayView1<'_, f32>, b: ArrayView1<'_, f32>) -> f64 {
    a.iter().zip(b).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum()
}

/// Rows of class `class`.
pub(crate) fn rows_of(y: &[usize], class: usize) -> Vec<usize> {
    (0..y.len()).filter(|&r| y[r] == class).collect()
}

/// Squared distances between the rows `a` and `b` of `x` (a matrix product, for speed).
fn distances(x: ArrayView2<'_, f32>, a: &[usize], b: &[usize]) -> Array2<f64> {
    let pick = |rows: &[usize]| x.select(Axis(0), rows).mapv(f64::from);
    let (a, b) = (pick(a), pick(b));
    let norms = |m: &Array2<f64>| m.rows().into_iter().map(|r| r.dot(&r)).collect::<Vec<_>>();
    let (na, nb) = (norms(&a), norms(&b));
    let mut d = a.dot(&b.t());
    for ((i, j), v) in d.indexed_iter_mut() {
        *v = (na[i] + nb[j] - 2.0 * *v).max(0.0);
    }
    d
}

/// Whether `s = b + g (n - b)` for some `g` in `[0, max_gap]`, up to f32 rounding.
pub(crate) fn on_segment(
    s: ArrayView1<'_, f32>,
    b: ArrayView1<'_, f32>,
    n: ArrayView1<'_, f32>,
    max_gap: f64,
) -> bool {
    let (s, b, n): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        s.iter().map(|&v| f64::from(v)).collect(),
        b.iter().map(|&v| f64::from(v)).collect(),
        n.iter().map(|&v| f64::from(v)).collect(),
    );
    let along: f64 = n.iter().zip(&b).map(|(n, b)| (n - b).powi(2)).sum();
    let g = if along == 0.0 {
        0.0
    } else {
        s.iter().zip(&b).zip(&n).map(|((s, b), n)| (s - b) * (n - b)).sum::<f64>() / along
    };
    let close = s
        .iter()
        .zip(&b)
        .zip(&n)
        .all(|((s, b), n)| (s - (b + g * (n - b))).abs() <= 1e-5 * (1.0 + b.abs() + n.abs()));
    close && (-1e-6..=max_gap + 1e-6).contains(&g)
}

/// Checks that every given synthetic row (indices into `out.x`) lies on a segment from a
/// row of `bases` to one of that row's `k` nearest rows among `neighbours` (both indices
/// into `x`; a base is never its own neighbour, its duplicates are; ties are included),
/// with a gap of at most `max_gap`.
pub(crate) fn assert_on_segments(
    x: ArrayView2<'_, f32>,
    out: &Balanced,
    synthetic: &[usize],
    bases: &[usize],
    neighbours: &[usize],
    k: usize,
    max_gap: f64,
) {
    let samples = out.x.select(Axis(0), synthetic);
    let all_x = ndarray::concatenate(Axis(0), &[x, samples.view()]).unwrap();
    let sample_rows: Vec<usize> = (x.nrows()..all_x.nrows()).collect();
    let to_bases = distances(all_x.view(), &sample_rows, bases);
    // Squared distances from a base to its candidate neighbours and the k-th smallest.
    let mut cache: HashMap<usize, (Vec<f64>, f64)> = HashMap::new();
    for (i, &row) in synthetic.iter().enumerate() {
        let s = out.x.row(row);
        // A base is at most its k-th neighbour distance from the point: try the nearest
        // bases first.
        let mut order: Vec<usize> = (0..bases.len()).collect();
        order.sort_by(|&a, &b| to_bases[[i, a]].total_cmp(&to_bases[[i, b]]));
        let found = order.into_iter().any(|bi| {
            let b = bases[bi];
            let (to_neighbours, radius) = cache.entry(b).or_insert_with(|| {
                let d: Vec<f64> = neighbours
                    .iter()
                    .map(|&n| if n == b { f64::INFINITY } else { distance(x.row(b), x.row(n)) })
                    .collect();
                let mut sorted = d.clone();
                sorted.select_nth_unstable_by(k - 1, f64::total_cmp);
                let radius = sorted[k - 1];
                (d, radius)
            });
            let limit = *radius * (1.0 + SLACK) + SLACK;
            to_bases[[i, bi]] <= limit
                && neighbours
                    .iter()
                    .zip(to_neighbours.iter())
                    .any(|(&n, &d)| d <= limit && on_segment(s, x.row(b), x.row(n), max_gap))
        });
        assert!(found, "synthetic row {row} ({s}) is on no segment to a {k}-nearest neighbour");
    }
}

/// Checks that the output starts with the input rows, unchanged and in order.
pub(crate) fn assert_originals_first(x: ArrayView2<'_, f32>, y: &[usize], out: &Balanced) {
    let n = out.original_rows.len();
    assert!(out.original_rows.windows(2).all(|w| w[0] < w[1]), "originals out of order");
    for (i, &r) in out.original_rows.iter().enumerate() {
        assert_eq!(out.x.row(i), x.row(r), "output row {i} differs from input row {r}");
        assert_eq!(out.y[i], y[r]);
    }
    let prefix = out.x.slice_axis(Axis(0), Slice::from(..n));
    assert_eq!(prefix.nrows(), n);
}
