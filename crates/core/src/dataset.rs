//! A labelled feature matrix and the seeded stratified split.

use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::{ClassSet, CoreError, Result};

/// Labelled rows: features (`n_rows x n_features`), one class index per row, feature names
/// and the class set. Construction checks every shape and label, so users need not.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    features: Array2<f32>,
    labels: Vec<usize>,
    feature_names: Vec<String>,
    classes: ClassSet,
}

impl Dataset {
    /// Builds a dataset, checking that shapes agree and every label is a class index.
    pub fn new(
        features: Array2<f32>,
        labels: Vec<usize>,
        feature_names: Vec<String>,
        classes: ClassSet,
    ) -> Result<Self> {
        if features.nrows() != labels.len() {
            return Err(CoreError::ShapeMismatch {
                what: "labels vs feature rows".into(),
                expected: features.nrows(),
                found: labels.len(),
            });
        }
        if features.ncols() != feature_names.len() {
            return Err(CoreError::ShapeMismatch {
                what: "feature names vs feature columns".into(),
                expected: features.ncols(),
                found: feature_names.len(),
            });
        }
        if let Some(&index) = labels.iter().find(|&&l| l >= classes.len()) {
            return Err(CoreError::ClassOutOfRange { index, n_classes: classes.len() });
        }
        Ok(Self { features, labels, feature_names, classes })
    }

    /// The feature matrix.
    pub fn features(&self) -> ArrayView2<'_, f32> {
        self.features.view()
    }

    /// One class index per row.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The feature (column) names.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The class set the labels index into.
    pub fn classes(&self) -> &ClassSet {
        &self.classes
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.labels.len()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// Rows per class, indexed by class (absent classes count 0).
    pub fn class_counts(&self) -> Vec<usize> {
        class_counts(&self.labels, self.classes.len())
    }

    /// The first non-finite feature value, as an error naming its row and column.
    pub fn check_finite(&self) -> Result<()> {
        for ((row, column), &value) in self.features.indexed_iter() {
            if !value.is_finite() {
                return Err(CoreError::NonFinite { row, column, value });
            }
        }
        Ok(())
    }

    /// A new dataset of the given rows, in the given order.
    pub fn select(&self, rows: &[usize]) -> Self {
        Self {
            features: self.features.select(Axis(0), rows),
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
            feature_names: self.feature_names.clone(),
            classes: self.classes.clone(),
        }
    }

    /// Replaces the feature matrix and labels (e.g. after resampling), keeping names and
    /// classes; the same checks as [`Dataset::new`] apply.
    pub fn with_rows(&self, features: Array2<f32>, labels: Vec<usize>) -> Result<Self> {
        Self::new(features, labels, self.feature_names.clone(), self.classes.clone())
    }

    /// Splits off `fraction` of each class (seeded) as a second dataset:
    /// `(rest, split_off)`. See [`stratified_split`] for the rule.
    pub fn stratified_split(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let (rest, off) = stratified_split(&self.labels, self.classes.len(), fraction, seed)?;
        Ok((self.select(&rest), self.select(&off)))
    }

    /// Takes the parts back.
    pub fn into_parts(self) -> (Array2<f32>, Vec<usize>, Vec<String>, ClassSet) {
        (self.features, self.labels, self.feature_names, self.classes)
    }
}

/// Rows per class for `labels` over `n_classes` classes; labels `>= n_classes` are ignored.
pub(crate) fn class_counts(labels: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &l in labels {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    counts
}

/// Seeded stratified split of row indices: `(rest, split_off)`, each in ascending order.
///
/// Per class with `n` rows, `round(n * fraction)` rows go to `split_off`, clamped so that a
/// class with at least two rows keeps at least one row on each side; a class with a single
/// row stays in `rest` (training must see every class that exists).
pub fn stratified_split(
    labels: &[usize],
    n_classes: usize,
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(CoreError::InvalidFraction(fraction));
    }
    if labels.is_empty() {
        return Err(CoreError::Empty("a stratified split"));
    }
    let mut by_class = vec![Vec::new(); n_classes];
    for (row, &l) in labels.iter().enumerate() {
        by_class.get_mut(l).ok_or(CoreError::ClassOutOfRange { index: l, n_classes })?.push(row);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut rest, mut off) = (Vec::new(), Vec::new());
    for mut rows in by_class {
        let n = rows.len();
        if n == 0 {
            continue;
        }
        rows.shuffle(&mut rng);
        let take =
            if n == 1 { 0 } else { ((n as f64 * fraction).round() as usize).clamp(1, n - 1) };
        off.extend_from_slice(&rows[..take]);
        rest.extend_from_slice(&rows[take..]);
    }
    rest.sort_unstable();
    off.sort_unstable();
    Ok((rest, off))
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    fn toy() -> Dataset {
        let classes = ClassSet::new(["n", "a", "b"]).unwrap();
        let labels: Vec<usize> =
            (0..20).map(|i| usize::from(i >= 10) + usize::from(i >= 19)).collect();
        let features = Array2::from_shape_fn((20, 2), |(r, c)| (r * 2 + c) as f32);
        Dataset::new(features, labels, vec!["x".into(), "y".into()], classes).unwrap()
    }

    #[test]
    fn construction_checks_shapes_and_labels() {
        let classes = ClassSet::new(["n", "a"]).unwrap();
        let names = vec!["x".to_owned()];
        assert!(
            Dataset::new(array![[1.0], [2.0]], vec![0], names.clone(), classes.clone()).is_err()
        );
        assert!(Dataset::new(array![[1.0, 2.0]], vec![0], names.clone(), classes.clone()).is_err());
        assert_eq!(
            Dataset::new(array![[1.0]], vec![2], names, classes),
            Err(CoreError::ClassOutOfRange { index: 2, n_classes: 2 })
        );
    }

    #[test]
    fn split_is_stratified_disjoint_complete_and_seeded() {
        let data = toy();
        let (train, val) = data.stratified_split(0.3, 7).unwrap();
        assert_eq!(train.class_counts(), vec![7, 6, 1]);
        assert_eq!(val.class_counts(), vec![3, 3, 0]);
        let (a, b) = stratified_split(data.labels(), 3, 0.3, 7).unwrap();
        let mut all: Vec<usize> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..20).collect::<Vec<_>>());
        assert_eq!(stratified_split(data.labels(), 3, 0.3, 7).unwrap(), (a.clone(), b.clone()));
        assert_ne!(stratified_split(data.labels(), 3, 0.3, 8).unwrap().1, b);
        // Rows keep their features.
        for (i, &row) in b.iter().enumerate() {
            assert_eq!(val.features()[[i, 0]], (row * 2) as f32);
        }
    }

    #[test]
    fn split_rejects_bad_fraction_and_empty_input() {
        assert!(stratified_split(&[0, 1], 2, 0.0, 1).is_err());
        assert!(stratified_split(&[0, 1], 2, 1.0, 1).is_err());
        assert!(stratified_split(&[0, 1], 2, f64::NAN, 1).is_err());
        assert!(stratified_split(&[], 2, 0.5, 1).is_err());
        assert!(stratified_split(&[0, 5], 2, 0.5, 1).is_err());
    }

    #[test]
    fn check_finite_names_the_cell() {
        let data = Dataset::new(
            array![[1.0, f32::NAN]],
            vec![0],
            vec!["x".into(), "y".into()],
            ClassSet::new(["n"]).unwrap(),
        )
        .unwrap();
        assert!(matches!(data.check_finite(), Err(CoreError::NonFinite { row: 0, column: 1, .. })));
    }
}
