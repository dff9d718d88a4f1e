//! Per-feature standardisation fitted on training rows only.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

/// Per-column mean and standard deviation; `transform` maps `x` to `(x - mean) / std`.
///
/// A constant column (std 0) gets std 1, so it maps to 0 rather than NaN. Fit it on the
/// training split only and apply it unchanged to every other split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    mean: Array1<f32>,
    std: Array1<f32>,
}

impl Standardizer {
    /// Fits means and standard deviations (population, in f64) over the rows of `x`.
    pub fn fit(x: ArrayView2<'_, f32>) -> Result<Self> {
        if x.nrows() == 0 {
            return Err(CoreError::Empty("fitting a standardiser"));
        }
        let n = x.nrows() as f64;
        let mut mean = Array1::<f32>::zeros(x.ncols());
        let mut std = Array1::<f32>::ones(x.ncols());
        for (j, column) in x.axis_iter(Axis(1)).enumerate() {
            let m = column.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let var = column.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / n;
            mean[j] = m as f32;
            let s = var.sqrt() as f32;
            std[j] = if s > f32::EPSILON && s.is_finite() { s } else { 1.0 };
        }
        Ok(Self { mean, std })
    }

    /// Standardises `x`, which must have as many columns as the fitted data.
    pub fn transform(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let mut out = x.to_owned();
        self.transform_in_place(&mut out)?;
        Ok(out)
    }

    /// Standardises `x` in place.
    pub fn transform_in_place(&self, x: &mut Array2<f32>) -> Result<()> {
        if x.ncols() != self.mean.len() {
            return Err(CoreError::ShapeMismatch {
                what: "standardiser width".into(),
                expected: self.mean.len(),
                found: x.ncols(),
            });
        }
        for mut row in x.axis_iter_mut(Axis(0)) {
            row -= &self.mean;
            row /= &self.std;
        }
        Ok(())
    }

    /// Number of features it was fitted on.
    pub fn width(&self) -> usize {
        self.mean.len()
    }

    /// The fitted means.
    pub fn mean(&self) -> &Array1<f32> {
        &self.mean
    }

    /// The fitted standard deviations (1 for constant columns).
    pub fn std(&self) -> &Array1<f32> {
        &self.std
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn fits_on_train_and_applies_to_other_rows() {
        let train = array![[1.0_f32, 5.0], [3.0, 5.0]];
        let s = Standardizer::fit(train.view()).unwrap();
        assert_eq!(s.mean(), &array![2.0, 5.0]);
        assert_eq!(s.std(), &array![1.0, 1.0]);
        let test = array![[4.0_f32, 7.0]];
        assert_eq!(s.transform(test.view()).unwrap(), array![[2.0, 2.0]]);
        assert!(s.transform(array![[1.0_f32]].view()).is_err());
        assert!(Standardizer::fit(Array2::<f32>::zeros((0, 2)).view()).is_err());
    }
}
