//! The entry points: validate, choose, resample, clean, report.

use ndarray::{Array2, ArrayView2};
use vigil_core::Dataset;

use crate::clean::{edited_nearest_neighbours, tomek_links};
use crate::knn::Rows;
use crate::sampling::{over_sample, under_sample};
use crate::targets::targets;
use crate::{
    BalanceError, BalanceParams, BalanceReport, Balanced, Method, MethodChoice, Result,
    choose_method,
};

/// Resamples `x` (one row per sample) with labels `y` (class indices below `n_classes`)
/// as `params` say. See the crate docs for the guarantees.
///
/// Errors, before any work, on invalid parameters, a row-count mismatch, no rows, a label
/// out of range, a non-finite feature (naming its row and column), fewer than two classes
/// with rows, or a strategy that does not fit the counts.
pub fn balance(
    x: ArrayView2<'_, f32>,
    y: &[usize],
    n_classes: usize,
    params: &BalanceParams,
) -> Result<Balanced> {
    params.check()?;
    let counts_before = validate(x, y, n_classes)?;
    let (method, reason) = match params.method {
        MethodChoice::Auto => choose_method(&counts_before, params)?,
        MethodChoice::Fixed(method) => (method, "requested".to_owned()),
    };
    let targets = targets(&params.strategy, &counts_before, method)?;
    let d = x.ncols();
    let standard = x.as_standard_layout();
    let data = standard.as_slice().expect("standard layout");
    let out = if method == Method::RandomUnder {
        under(Rows::new(data, d), y, &targets, params.seed)
    } else {
        over(method, data, d, y, &counts_before, &targets, params)
    };
    let report = BalanceReport {
        method,
        reason,
        counts_before,
        targets,
        counts_after: class_counts(&out.labels, n_classes),
        synthetic: out.labels.len() - out.original_rows.len(),
        removed: out.removed,
        k_used: out.k_used,
        fallbacks: out.fallbacks,
    };
    let x = Array2::from_shape_vec((out.labels.len(), d), out.features).expect("one row per label");
    Ok(Balanced { x, y: out.labels, original_rows: out.original_rows, report })
}

/// The resampled rows (row-major) and what the report needs to know about them.
struct Resampled {
    features: Vec<f32>,
    labels: Vec<usize>,
    original_rows: Vec<usize>,
    removed: usize,
    k_used: Option<usize>,
    fallbacks: Vec<crate::Fallback>,
}

/// Random under-sampling: the kept rows, in input order.
fn under(x: Rows<'_>, y: &[usize], targets: &[usize], seed: u64) -> Resampled {
    let keep = under_sample(y, targets, seed);
    let mut features = Vec::with_capacity(keep.len() * x.width());
    for &row in &keep {
        features.extend_from_slice(x.row(row));
    }
    Resampled {
        features,
        labels: keep.iter().map(|&r| y[r]).collect(),
        removed: y.len() - keep.len(),
        original_rows: keep,
        k_used: None,
        fallbacks: Vec::new(),
    }
}

/// An over-sampler: the input rows, then the generated ones, then cleaning if the method
/// has a cleaning step.
fn over(
    method: Method,
    data: &[f32],
    d: usize,
    y: &[usize],
    counts: &[usize],
    targets: &[usize],
    params: &BalanceParams,
) -> Resampled {
    let n = y.len();
    let n_new: usize = targets.iter().zip(counts).map(|(t, c)| t - c).sum();
    // The output starts as a copy of the input, and generation appends to it.
    let mut features = Vec::with_capacity((n + n_new) * d);
    features.extend_from_slice(data);
    let generated = over_sample(method, Rows::new(data, d), y, targets, params, &mut features);
    let mut labels = y.to_vec();
    labels.extend(&generated.labels);
    let remove = match method {
        Method::SmoteTomek => tomek_links(Rows::new(&features, d), &labels),
        Method::SmoteEnn => edited_nearest_neighbours(Rows::new(&features, d), &labels),
        _ => {
            return Resampled {
                features,
                labels,
                original_rows: (0..n).collect(),
                removed: 0,
                k_used: generated.k_used,
                fallbacks: generated.fallbacks,
            };
        }
    };
    let keep: Vec<usize> = (0..labels.len()).filter(|&r| !remove[r]).collect();
    let all = Rows::new(&features, d);
    let mut kept = Vec::with_capacity(keep.len() * d);
    for &row in &keep {
        kept.extend_from_slice(all.row(row));
    }
    Resampled {
        removed: labels.len() - keep.len(),
        labels: keep.iter().map(|&r| labels[r]).collect(),
        original_rows: keep.iter().copied().take_while(|&r| r < n).collect(),
        features: kept,
        k_used: generated.k_used,
        fallbacks: generated.fallbacks,
    }
}

/// [`balance`] on a [`Dataset`]: the same feature names and class set, the balanced rows.
pub fn balance_dataset(data: &Dataset, params: &BalanceParams) -> Result<(Dataset, BalanceReport)> {
    let balanced = balance(data.features(), data.labels(), data.classes().len(), params)?;
    let dataset = data.with_rows(balanced.x, balanced.y)?;
    Ok((dataset, balanced.report))
}

/// Checks shapes, labels and values; returns the class counts.
fn validate(x: ArrayView2<'_, f32>, y: &[usize], n_classes: usize) -> Result<Vec<usize>> {
    if x.nrows() != y.len() {
        return Err(BalanceError::ShapeMismatch { rows: x.nrows(), labels: y.len() });
    }
    if y.is_empty() {
        return Err(BalanceError::Empty);
    }
    if let Some((row, &label)) = y.iter().enumerate().find(|&(_, &l)| l >= n_classes) {
        return Err(BalanceError::LabelOutOfRange { row, label, n_classes });
    }
    if !all_finite(x) {
        let ((row, column), &value) =
            x.indexed_iter().find(|(_, v)| !v.is_finite()).expect("a non-finite value exists");
        return Err(BalanceError::NonFinite { row, column, value });
    }
    let counts = class_counts(y, n_classes);
    if counts.iter().filter(|&&c| c > 0).count() < 2 {
        return Err(BalanceError::SingleClass { class: y[0] });
    }
    Ok(counts)
}

/// Whether every value is finite: `v * 0` is 0 for finite values and NaN otherwise, and
/// summing it in lanes vectorises, unlike an early-exit search.
fn all_finite(x: ArrayView2<'_, f32>) -> bool {
    const LANES: usize = 16;
    let Some(values) = x.as_slice_memory_order() else { return x.iter().all(|v| v.is_finite()) };
    let mut sums = [0.0_f32; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for i in 0..LANES {
            sums[i] += chunk[i] * 0.0;
        }
    }
    sums.iter().chain(chunks.remainder()).all(|v| v.is_finite())
}

fn class_counts(y: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &label in y {
        counts[label] += 1;
    }
    counts
}
