//! The linear baseline: multinomial logistic regression fitted by smartcore's L-BFGS, stored
//! as plain `ndarray` coefficients so the saved model does not depend on smartcore.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use vigil_core::Dataset;

use crate::classifier::{check_input, check_training};
use crate::{Classifier, Fit, ModelError, Result};

/// Bias of a class with no training row: its logit is far below any fitted one, so its
/// probability is 0 (to `f32`) and it is never predicted, while every logit stays finite.
const ABSENT_CLASS_BIAS: f32 = -1.0e4;

/// Checked hyper-parameters of [`Linear`]; build them with [`LinearParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidLinearParams {
    alpha: f64,
}

impl ValidLinearParams {
    /// The L2 penalty on the coefficients (not the intercepts).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

/// Hyper-parameters of [`Linear`] (builder); [`LinearParams::check`] validates them.
///
/// Default: `alpha = 1` (scikit-learn's default `C = 1`: smartcore minimises the *summed*
/// log-loss plus `alpha / 2 * ||W||^2`). There is no seed: L-BFGS starts from zero and
/// is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearParams(ValidLinearParams);

impl Default for LinearParams {
    fn default() -> Self {
        Self(ValidLinearParams { alpha: 1.0 })
    }
}

impl LinearParams {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// L2 penalty on the coefficients, finite and `>= 0` (0: unregularised, which lets the
    /// coefficients grow until the solver stops on separable data).
    pub fn alpha(mut self, value: f64) -> Self {
        self.0.alpha = value;
        self
    }

    /// Validates every parameter; the error names the first one out of range.
    pub fn check(&self) -> Result<ValidLinearParams> {
        let alpha = self.0.alpha;
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(ModelError::InvalidParam {
                name: "alpha",
                value: alpha.to_string(),
                reason: "must be finite and >= 0",
            });
        }
        Ok(self.0.clone())
    }
}

impl Fit for ValidLinearParams {
    type Model = Linear;

    /// Fits smartcore's `LogisticRegression` (in `f64`) and keeps its coefficients.
    ///
    /// smartcore has no sample weights: weights that are not all equal are an
    /// [`ModelError::InvalidParam`] (equal weights change nothing and are accepted). There
    /// is no early stopping, so `validation` is only checked, not used.
    fn fit_weighted(
        &self,
        train: &Dataset,
        weights: Option<&[f32]>,
        validation: Option<&Dataset>,
    ) -> Result<Linear> {
        let w = check_training(train, weights, validation)?;
        if w.iter().any(|&v| v != w[0]) {
            return Err(ModelError::InvalidParam {
                name: "weights",
                value: "non-uniform".into(),
                reason: "the linear baseline (smartcore) has no sample weights",
            });
        }
        let (n, d) = train.features().dim();
        let k = train.classes().len();
        let x =
            DenseMatrix::new(n, d, train.features().iter().map(|&v| f64::from(v)).collect(), false)
                .map_err(solver)?;
        let y: Vec<u32> = train
            .labels()
            .iter()
            .map(|&c| u32::try_from(c).expect("class indices fit in u32"))
            .collect();
        // smartcore fails on a single distinct label; say so in our terms.
        if y.iter().all(|&c| c == y[0]) {
            return Err(ModelError::Solver {
                reason: format!("every training row has class {}: need 2 distinct classes", y[0]),
            });
        }
        let params = LogisticRegressionParameters::default().with_alpha(self.alpha);
        let fitted: LogisticRegression<f64, u32, DenseMatrix<f64>, Vec<u32>> =
            LogisticRegression::fit(&x, &y, params).map_err(solver)?;
        drop(x);

        // smartcore's rows follow its sorted distinct labels. Two labels: one row, the
        // log-odds of the second label against the first, so the first label keeps logit 0
        // (softmax of [0, z] is the sigmoid). More: one row per label (multinomial).
        let present = fitted.classes();
        let coef = fitted.coefficients();
        let intercept = fitted.intercept();
        let mut weights = Array2::<f32>::zeros((k, d));
        let mut bias = Array1::<f32>::from_elem(k, ABSENT_CLASS_BIAS);
        for &c in present {
            bias[c as usize] = 0.0;
        }
        let rows: Vec<usize> = if present.len() == 2 {
            vec![present[1] as usize]
        } else {
            present.iter().map(|&c| c as usize).collect()
        };
        for (r, &class) in rows.iter().enumerate() {
            for j in 0..d {
                weights[(class, j)] = *coef.get((r, j)) as f32;
            }
            bias[class] = *intercept.get((r, 0)) as f32;
        }
        if let Some(v) = weights.iter().chain(bias.iter()).find(|v| !v.is_finite()) {
            return Err(ModelError::Solver {
                reason: format!("non-finite coefficient {v}; raise alpha"),
            });
        }
        Ok(Linear { params: self.clone(), weights, bias })
    }
}

impl Fit for LinearParams {
    type Model = Linear;

    fn fit_weighted(
        &self,
        train: &Dataset,
        weights: Option<&[f32]>,
        validation: Option<&Dataset>,
    ) -> Result<Linear> {
        self.check()?.fit_weighted(train, weights, validation)
    }
}

fn solver(e: smartcore::error::Failed) -> ModelError {
    ModelError::Solver { reason: e.to_string() }
}

/// Multinomial logistic regression: `logits = x · Wᵀ + b`, `W` is `n_classes x n_features`.
///
/// Fitted by smartcore 0.7.0; only the coefficients are kept, as plain arrays, so the model
/// serialises on its own (bit-exact bincode round trip). A two-class fit stores the class-0
/// row as zeros, so the softmax of `[0, z]` is smartcore's sigmoid. A class with no training
/// row gets zero weights and a bias of -10⁴: probability 0, never predicted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LinearRepr")]
pub struct Linear {
    params: ValidLinearParams,
    weights: Array2<f32>,
    bias: Array1<f32>,
}

/// The serialised form, checked before it becomes a [`Linear`].
#[derive(Deserialize)]
struct LinearRepr {
    params: ValidLinearParams,
    weights: Array2<f32>,
    bias: Array1<f32>,
}

impl TryFrom<LinearRepr> for Linear {
    type Error = ModelError;

    fn try_from(r: LinearRepr) -> Result<Self> {
        let corrupt = |reason: String| Err(ModelError::Corrupt { reason });
        if r.weights.nrows() < 2 || r.weights.nrows() != r.bias.len() {
            return corrupt(format!(
                "linear model has {} weight rows and {} biases",
                r.weights.nrows(),
                r.bias.len()
            ));
        }
        if !r.weights.iter().chain(r.bias.iter()).all(|v| v.is_finite()) {
            return corrupt("linear model has a non-finite coefficient".into());
        }
        Ok(Self { params: r.params, weights: r.weights, bias: r.bias })
    }
}

impl Linear {
    /// The parameters it was fitted with.
    pub fn params(&self) -> &ValidLinearParams {
        &self.params
    }

    /// The coefficients, `n_classes x n_features`.
    pub fn weights(&self) -> ArrayView2<'_, f32> {
        self.weights.view()
    }

    /// The intercepts, one per class.
    pub fn bias(&self) -> &Array1<f32> {
        &self.bias
    }
}

impl Classifier for Linear {
    fn n_features(&self) -> usize {
        self.weights.ncols()
    }

    fn n_classes(&self) -> usize {
        self.weights.nrows()
    }

    fn logits(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        check_input("input", x, self.n_features())?;
        Ok(x.dot(&self.weights.t()) + &self.bias)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use vigil_core::{ClassSet, Dataset};

    use super::*;

    /// Our logits' argmax is smartcore's own `predict`, for a binary and a 3-class fit: the
    /// coefficient rows are mapped to the right classes.
    #[test]
    fn predictions_match_smartcore() {
        for k in [2_usize, 3] {
            let x = Array2::from_shape_fn((90, 2), |(r, c)| {
                let centre = if c == 0 { (r % k) as f32 * 2.0 } else { 0.0 };
                centre + ((r * 7 + c * 13) % 11) as f32 / 5.0 - 1.0
            });
            let labels: Vec<usize> = (0..90).map(|r| r % k).collect();
            let names = vec!["a".to_owned(), "b".to_owned()];
            let classes = ClassSet::new((0..k).map(|c| format!("c{c}"))).unwrap();
            let data = Dataset::new(x.clone(), labels.clone(), names, classes).unwrap();
            let model = LinearParams::new().fit(&data).unwrap();

            let dense =
                DenseMatrix::new(90, 2, x.iter().map(|&v| f64::from(v)).collect(), false).unwrap();
            let y: Vec<u32> = labels.iter().map(|&c| c as u32).collect();
            let params = LogisticRegressionParameters::default().with_alpha(1.0);
            let theirs: LogisticRegression<f64, u32, DenseMatrix<f64>, Vec<u32>> =
                LogisticRegression::fit(&dense, &y, params).unwrap();
            let expected: Vec<usize> =
                theirs.predict(&dense).unwrap().iter().map(|&c| c as usize).collect();
            assert_eq!(model.predict(x.view()).unwrap(), expected, "k = {k}");
        }
    }
}
