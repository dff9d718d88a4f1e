//! The automatic choice of a method from the class counts.

use crate::targets::targets;
use crate::{BalanceError, BalanceParams, Method, Result};

/// Up to this imbalance ratio (largest / smallest non-empty class) the data count as nearly
/// balanced for [`choose_method`].
pub const AUTO_NEARLY_BALANCED: f64 = 1.5;

/// Up to this many rows after over-sampling, [`choose_method`] affords the all-pairs
/// neighbour search of Tomek-link cleaning.
pub const AUTO_SMALL_DATA: usize = 20_000;

/// Picks a method from the class counts and says why. The rule, first match wins:
///
/// 1. The smallest non-empty class has fewer than `k_neighbors + 1` rows:
///    [`Method::RandomOver`]. It has too few rows for `k` same-class neighbours, and
///    interpolating between two or three points adds little beyond copies.
/// 2. Imbalance ratio (largest / smallest non-empty class) at most
///    [`AUTO_NEARLY_BALANCED`]: [`Method::RandomOver`]; the few rows needed are copies.
/// 3. At most [`AUTO_SMALL_DATA`] rows after over-sampling to the strategy's targets:
///    [`Method::SmoteTomek`]; SMOTE, then Tomek-link cleaning of the class boundary, whose
///    neighbour search over all rows is affordable at this size.
/// 4. Otherwise [`Method::Smote`]: its neighbour search stays within each class and covers
///    only the rows drawn as bases. Borderline-SMOTE, ADASYN and the cleaning methods need
///    neighbours over the whole data set, which grows quadratically; they run only when
///    asked for.
///
/// The method never under-samples. Errors if fewer than two classes have rows, or if the
/// strategy does not fit the counts.
pub fn choose_method(counts: &[usize], params: &BalanceParams) -> Result<(Method, String)> {
    let mut present = counts.iter().enumerate().filter(|&(_, &n)| n > 0);
    let Some(first) = present.next() else { return Err(BalanceError::Empty) };
    let (mut smallest, mut largest) = (first, first);
    let mut n_present = 1;
    for (class, n) in present {
        n_present += 1;
        if *n < *smallest.1 {
            smallest = (class, n);
        }
        if *n > *largest.1 {
            largest = (class, n);
        }
    }
    if n_present < 2 {
        return Err(BalanceError::SingleClass { class: first.0 });
    }
    let (min_class, &min) = smallest;
    let max = *largest.1;
    let k = params.k_neighbors;
    if min < k + 1 {
        return Ok((
            Method::RandomOver,
            format!(
                "the smallest class (class {min_class}) has {min} rows, fewer than k_neighbors + 1 \
                 = {}: too few to interpolate between neighbours, so rows are copied",
                k + 1
            ),
        ));
    }
    let ratio = max as f64 / min as f64;
    if ratio <= AUTO_NEARLY_BALANCED {
        return Ok((
            Method::RandomOver,
            format!(
                "imbalance ratio {ratio:.2} <= {AUTO_NEARLY_BALANCED}: nearly balanced, so the \
                 few rows needed are copies"
            ),
        ));
    }
    let after: usize = targets(&params.strategy, counts, Method::Smote)?.iter().sum();
    if after <= AUTO_SMALL_DATA {
        return Ok((
            Method::SmoteTomek,
            format!(
                "imbalance ratio {ratio:.2}, {after} rows after over-sampling <= \
                 {AUTO_SMALL_DATA}: SMOTE, then Tomek-link cleaning of the class boundary, \
                 whose neighbour search over all rows is affordable at this size"
            ),
        ));
    }
    Ok((
        Method::Smote,
        format!(
            "imbalance ratio {ratio:.2}, {after} rows after over-sampling > {AUTO_SMALL_DATA}: \
             SMOTE, whose neighbour search stays within each class and covers only the rows \
             drawn as bases (cleaning, Borderline-SMOTE and ADASYN search the whole data set)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(counts: &[usize], expected: Method, phrase: &str) {
        let (method, reason) = choose_method(counts, &BalanceParams::default()).unwrap();
        assert_eq!(method, expected, "{counts:?}: {reason}");
        assert!(reason.contains(phrase), "{counts:?}: {reason}");
    }

    #[test]
    fn rule_fires_in_order() {
        check(&[1_000, 5, 300], Method::RandomOver, "class 1) has 5 rows");
        check(&[140, 0, 100], Method::RandomOver, "imbalance ratio 1.40");
        check(&[5_000, 6, 300], Method::SmoteTomek, "15000 rows after");
        check(&[67_343, 45_927, 11_656, 995, 52], Method::Smote, "ratio 1295.06, 336715 rows");
    }

    #[test]
    fn needs_two_classes() {
        let params = BalanceParams::default();
        assert_eq!(choose_method(&[0, 7], &params), Err(BalanceError::SingleClass { class: 1 }));
        assert_eq!(choose_method(&[0, 0], &params), Err(BalanceError::Empty));
    }
}
