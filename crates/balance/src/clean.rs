//! Cleaning after SMOTE: Tomek links and edited nearest neighbours, over all classes.

use crate::knn::{Rows, knn};

/// Neighbours that edited nearest neighbours consults (imbalanced-learn's default).
pub const ENN_NEIGHBORS: usize = 3;

/// Rows to remove: both rows of every Tomek link, i.e. every pair of rows of different
/// classes that are each other's nearest neighbour (imbalanced-learn's
/// `TomekLinks(sampling_strategy="all")`).
pub(crate) fn tomek_links(x: Rows<'_>, y: &[usize]) -> Vec<bool> {
    let rows: Vec<usize> = (0..y.len()).collect();
    if rows.len() < 2 {
        return vec![false; rows.len()];
    }
    let nearest = knn(x, &rows, &rows, 1);
    rows.iter()
        .map(|&i| {
            let j = nearest.of(i)[0];
            y[j] != y[i] && nearest.of(j)[0] == i
        })
        .collect()
}

/// Rows to remove: every row with a neighbour of another class among its
/// [`ENN_NEIGHBORS`] nearest (imbalanced-learn's `EditedNearestNeighbours(kind_sel="all",
/// sampling_strategy="all")`).
pub(crate) fn edited_nearest_neighbours(x: Rows<'_>, y: &[usize]) -> Vec<bool> {
    let rows: Vec<usize> = (0..y.len()).collect();
    let k = ENN_NEIGHBORS.min(rows.len().saturating_sub(1));
    if k == 0 {
        return vec![false; rows.len()];
    }
    let nearest = knn(x, &rows, &rows, k);
    rows.iter().map(|&i| nearest.of(i).iter().any(|&j| y[j] != y[i])).collect()
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;

    fn rows(x: &Array2<f32>) -> Rows<'_> {
        Rows::new(x.as_slice().unwrap(), x.ncols())
    }

    #[test]
    fn tomek_links_are_mutual_nearest_pairs_of_different_classes() {
        // 0 and 1 are mutual nearest neighbours of different classes: a link. 2's nearest
        // neighbour is 1 (class 1) but 1's is 0, so 2 stays. 3 and 4 are a mutual pair of
        // the same class.
        let x = array![[0.0_f32], [0.4], [1.0], [10.0], [10.5]];
        let y = [0, 1, 0, 1, 1];
        assert_eq!(tomek_links(rows(&x), &y), [true, true, false, false, false]);
    }

    #[test]
    fn enn_removes_rows_with_any_disagreeing_neighbour() {
        // Row 2 (class 1) sits inside a class-0 cluster, so it and every cluster row that
        // has it among its 3 nearest neighbours (all of them) go; the class-1 cluster stays.
        let x = array![[0.0_f32], [0.1], [0.2], [0.3], [0.4], [9.0], [9.1], [9.2], [9.3]];
        let y = [0, 0, 1, 0, 0, 1, 1, 1, 1];
        assert_eq!(
            edited_nearest_neighbours(rows(&x), &y),
            [true, true, true, true, true, false, false, false, false]
        );
        let y = [0, 0, 0, 0, 0, 1, 1, 1, 1];
        assert!(edited_nearest_neighbours(rows(&x), &y).iter().all(|&r| !r));
    }
}
