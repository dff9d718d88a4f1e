//! Property tests on small random data with many ties and duplicates.

use ndarray::Array2;
use proptest::prelude::*;
use vigil_balance::{BalanceParams, Method, balance};

use crate::support::{assert_on_segments, assert_originals_first, rows_of};

/// Two or three classes, values on a coarse grid so that ties and exact duplicates are
/// common.
fn data() -> impl Strategy<Value = (Array2<f32>, Vec<usize>)> {
    (1_usize..4, prop::collection::vec(2_usize..15, 2..4)).prop_flat_map(|(d, sizes)| {
        let n: usize = sizes.iter().sum();
        let labels: Vec<usize> =
            sizes.iter().enumerate().flat_map(|(c, &s)| std::iter::repeat_n(c, s)).collect();
        (prop::collection::vec(-4_i8..5, n * d), Just(labels)).prop_map(move |(values, labels)| {
            let x = Array2::from_shape_vec(
                (labels.len(), d),
                values.iter().map(|&v| f32::from(v) * 0.5).collect(),
            )
            .unwrap();
            (x, labels)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn smote_family_points_lie_on_segments_between_same_class_neighbours(
        (x, y) in data(),
        k in 1_usize..7,
        method in prop::sample::select(vec![Method::Smote, Method::Adasyn, Method::BorderlineSmote1]),
        seed in 0_u64..1_000,
    ) {
        let n_classes = y.iter().max().unwrap() + 1;
        let params = BalanceParams { k_neighbors: k, m_neighbors: 3, seed, ..BalanceParams::default().with_method(method) };
        let out = balance(x.view(), &y, n_classes, &params).unwrap();
        assert_originals_first(x.view(), &y, &out);
        let majority = *out.report.counts_before.iter().max().unwrap();
        for class in 0..n_classes {
            let rows = rows_of(&y, class);
            let synthetic: Vec<usize> = (x.nrows()..out.y.len()).filter(|&r| out.y[r] == class).collect();
            if method != Method::BorderlineSmote1 {
                prop_assert_eq!(out.report.counts_after[class], majority);
            }
            if synthetic.is_empty() || rows.len() < 2 {
                continue;
            }
            let k_class = k.min(rows.len() - 1);
            assert_on_segments(x.view(), &out, &synthetic, &rows, &rows, k_class, 1.0);
        }
    }
}
