//! The [`Classifier`] and [`Fit`] traits every vigil model implements, and the checks they
//! share at the edge (input width and finiteness, sample weights, validation sets).

use ndarray::{Array2, ArrayView2};
use vigil_core::Dataset;
use vigil_core::metrics::argmax_rows;

use crate::{ModelError, Result};

/// A fitted multi-class model: rows of features in, one score per class out.
///
/// `logits` is the primitive: every implementation guarantees that the row-wise softmax of
/// its logits *is* its probability output, so temperature scaling (divide the logits by `T`,
/// then softmax) applies to any model. Every method validates its input: a width other than
/// [`Classifier::n_features`] or a NaN/infinite value is an error, never a panic.
pub trait Classifier: Send + Sync {
    /// Number of feature columns the model was fitted on.
    fn n_features(&self) -> usize;

    /// Number of classes (columns of the outputs).
    fn n_classes(&self) -> usize;

    /// Unnormalised log-probabilities, `n_rows x n_classes`.
    fn logits(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>>;

    /// Class probabilities, `n_rows x n_classes`: the row-wise softmax of
    /// [`Classifier::logits`]; each row is finite and sums to 1 (to `f32` rounding).
    fn predict_proba(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let mut z = self.logits(x)?;
        softmax_in_place(&mut z);
        Ok(z)
    }

    /// The most probable class of each row (the first on ties).
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>> {
        Ok(argmax_rows(self.logits(x)?.view()))
    }
}

/// Validated hyper-parameters that can fit a model (linfa's `Fit`, for one dataset type).
///
/// Implemented by the checked parameter types (e.g. [`crate::ValidGbdtParams`]) and, as a
/// convenience that runs `check()` first, by the unchecked ones.
pub trait Fit {
    /// The fitted model.
    type Model: Classifier;

    /// Fits on `train`. `weights` (one per training row, finite, `>= 0`, not all 0) scale
    /// each row's contribution, e.g. for class-weighted training; `validation` is used by
    /// models that support early stopping and ignored by the others. Same parameters (seed
    /// included) and data give the same model, bit for bit, whatever the thread count.
    fn fit_weighted(
        &self,
        train: &Dataset,
        weights: Option<&[f32]>,
        validation: Option<&Dataset>,
    ) -> Result<Self::Model>;

    /// Fits on `train` with unit weights and no validation set.
    fn fit(&self, train: &Dataset) -> Result<Self::Model> {
        self.fit_weighted(train, None, None)
    }
}

/// Checks that `x` has `n_features` columns and only finite values.
pub(crate) fn check_input(
    what: &'static str,
    x: ArrayView2<'_, f32>,
    n_features: usize,
) -> Result<()> {
    if x.ncols() != n_features {
        return Err(ModelError::WidthMismatch { what, expected: n_features, found: x.ncols() });
    }
    // The fast pass reads memory in order; only a failure pays for the indexed search.
    if x.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    let ((row, column), &value) =
        x.indexed_iter().find(|(_, v)| !v.is_finite()).expect("a non-finite value was seen");
    Err(ModelError::NonFinite { what, row, column, value })
}

/// Checks the inputs of a fit and returns the sample weights (unit weights when `None`).
pub(crate) fn check_training(
    train: &Dataset,
    weights: Option<&[f32]>,
    validation: Option<&Dataset>,
) -> Result<Vec<f32>> {
    let n_classes = train.classes().len();
    if n_classes < 2 {
        return Err(ModelError::TooFewClasses { found: n_classes });
    }
    if train.n_rows() == 0 {
        return Err(ModelError::Empty { what: "training set" });
    }
    check_input("training feature", train.features(), train.n_features())?;
    let weights = match weights {
        None => vec![1.0; train.n_rows()],
        Some(w) => {
            if w.len() != train.n_rows() {
                return Err(ModelError::WeightsLength { expected: train.n_rows(), found: w.len() });
            }
            if let Some((row, &value)) =
                w.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0))
            {
                return Err(ModelError::InvalidWeight { row, value });
            }
            if w.iter().all(|&v| v == 0.0) {
                return Err(ModelError::InvalidWeight { row: 0, value: 0.0 });
            }
            w.to_vec()
        }
    };
    if let Some(v) = validation {
        if v.classes().names() != train.classes().names() {
            return Err(ModelError::ClassMismatch {
                expected: train.classes().names().join(", "),
                found: v.classes().names().join(", "),
            });
        }
        if v.n_rows() == 0 {
            return Err(ModelError::Empty { what: "validation set" });
        }
        check_input("validation feature", v.features(), train.n_features())?;
    }
    Ok(weights)
}

/// Row-wise softmax in place, computed in `f64` after subtracting each row's maximum, so
/// finite logits always give finite probabilities that sum to 1.
pub(crate) fn softmax_in_place(z: &mut Array2<f32>) {
    for mut row in z.rows_mut() {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
        for v in &mut row {
            *v = ((f64::from(*v) - max).exp() / sum) as f32;
        }
    }
}

/// Mean negative log-likelihood of `labels` under the softmax of row-major `logits`.
pub(crate) fn mean_log_loss(logits: &[f32], n_classes: usize, labels: &[usize]) -> f64 {
    let total: f64 = logits
        .chunks_exact(n_classes)
        .zip(labels)
        .map(|(row, &y)| {
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
            let log_sum = row.iter().map(|&v| (f64::from(v) - max).exp()).sum::<f64>().ln();
            max + log_sum - f64::from(row[y])
        })
        .sum();
    total / labels.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};
    use proptest::prelude::*;
    use vigil_core::ClassSet;

    use super::*;

    fn dataset(x: Array2<f32>, labels: Vec<usize>, classes: &[&str]) -> Dataset {
        let names = (0..x.ncols()).map(|j| format!("f{j}")).collect();
        Dataset::new(x, labels, names, ClassSet::new(classes.iter().copied()).unwrap()).unwrap()
    }

    #[test]
    fn input_checks_name_width_and_cell() {
        let x = array![[1.0_f32, 2.0], [3.0, f32::NAN]];
        assert_eq!(
            check_input("input", x.view(), 3),
            Err(ModelError::WidthMismatch { what: "input", expected: 3, found: 2 })
        );
        let err = check_input("input", x.view(), 2).unwrap_err();
        assert!(matches!(err, ModelError::NonFinite { row: 1, column: 1, .. }), "{err}");
        assert_eq!(err.to_string(), "non-finite input value NaN at row 1, column 1");
        assert!(check_input("input", x.t(), 2).is_err());
        assert!(check_input("input", array![[f32::INFINITY]].view(), 1).is_err());
        assert_eq!(check_input("input", Array2::<f32>::zeros((0, 4)).view(), 4), Ok(()));
    }

    #[test]
    fn training_checks_weights_classes_and_validation() {
        let train = dataset(array![[0.0_f32], [1.0]], vec![0, 1], &["a", "b"]);
        assert_eq!(check_training(&train, None, None), Ok(vec![1.0, 1.0]));
        let bad_weights: [&[f32]; 4] = [&[1.0], &[1.0, -1.0], &[f32::NAN, 1.0], &[0.0, 0.0]];
        for w in bad_weights {
            assert!(check_training(&train, Some(w), None).is_err(), "{w:?}");
        }
        let one_class = dataset(array![[0.0_f32]], vec![0], &["a"]);
        assert_eq!(
            check_training(&one_class, None, None),
            Err(ModelError::TooFewClasses { found: 1 })
        );
        let other = dataset(array![[0.0_f32]], vec![0], &["a", "c"]);
        assert!(matches!(
            check_training(&train, None, Some(&other)),
            Err(ModelError::ClassMismatch { .. })
        ));
        let wide = dataset(array![[0.0_f32, 1.0]], vec![0], &["a", "b"]);
        assert!(matches!(
            check_training(&train, None, Some(&wide)),
            Err(ModelError::WidthMismatch { expected: 1, found: 2, .. })
        ));
    }

    #[test]
    fn log_loss_of_uniform_logits_is_ln_k() {
        let loss = mean_log_loss(&[0.0, 0.0, 0.0, 5.0, 5.0, 5.0], 3, &[0, 2]);
        assert!((loss - 3.0_f64.ln()).abs() < 1e-12, "{loss}");
    }

    proptest! {
        #[test]
        fn softmax_rows_are_finite_and_sum_to_one(
            values in proptest::collection::vec(-1e4_f32..1e4, 1..60),
            k in 1_usize..6,
        ) {
            let rows = values.len() / k;
            let mut z = Array2::from_shape_vec((rows, k), values[..rows * k].to_vec()).unwrap();
            let argmax = argmax_rows(z.view());
            softmax_in_place(&mut z);
            for (row, best) in z.rows().into_iter().zip(argmax) {
                prop_assert!(row.iter().all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
                let sum: f64 = row.iter().map(|&p| f64::from(p)).sum();
                prop_assert!((sum - 1.0).abs() < 1e-5, "sum {}", sum);
                prop_assert!(row.iter().all(|&p| p <= row[best]));
            }
        }
    }
}
