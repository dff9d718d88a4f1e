//! vigil-balance: seeded class balancing of a training split, from random over- and
//! under-sampling to SMOTE and its variants, with an automatic choice that says why.
//!
//! - [`balance`] resamples an `ndarray` view with class-index labels and returns
//!   [`Balanced`]: the rows, which of them are originals, and a [`BalanceReport`] (method,
//!   reason, counts before/after, fallbacks). [`balance_dataset`] does the same for a
//!   [`vigil_core::Dataset`].
//! - [`BalanceParams`]: a [`MethodChoice`] (`auto` or a fixed [`Method`]: `random-over`,
//!   `random-under`, `smote`, `borderline-smote-1`, `borderline-smote-2`, `adasyn`,
//!   `smote-tomek`, `smote-enn`), a [`Strategy`] (imbalanced-learn's `auto`, explicit
//!   counts, or class shares such as [`Strategy::seed_default`]), `k_neighbors` (5),
//!   `m_neighbors` (10) and the seed.
//! - [`choose_method`]: the documented rule behind `auto`.
//!
//! ```
//! use ndarray::{Axis, array};
//! use vigil_balance::{BalanceParams, Method, balance};
//!
//! let x = array![[0.0_f32, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1], [5.0, 5.0], [5.1, 5.0]];
//! let y = [0, 0, 0, 0, 1, 1];
//! let params = BalanceParams::default().with_method(Method::Smote);
//! let balanced = balance(x.view(), &y, 2, &params).unwrap();
//! assert_eq!(balanced.report.counts_after, vec![4, 4]);
//! assert_eq!(balanced.x.select(Axis(0), &[0, 1, 2, 3, 4, 5]), x); // originals first
//! assert_eq!(balanced.report.k_used, Some(1)); // class 1 has 2 rows: k clamped to 1
//! ```
//!
//! The methods follow imbalanced-learn (0.15) with these choices:
//! - **Neighbours.** SMOTE-family neighbours are searched within the class, excluding the
//!   row itself but not its exact duplicates, which count at distance 0 (imbalanced-learn
//!   queries `k + 1` neighbours and drops the first). Distance is the squared Euclidean
//!   distance summed in `f64`; ties go to the lower row index (exact duplicates are ranked
//!   by their lowest row index). Only the rows drawn as bases have their neighbours
//!   searched, by an exact, pruned, blocked brute force (`knn.rs` explains it).
//! - **Small classes.** `k` is clamped per class to `rows - 1`, and a one-row class is
//!   over-sampled by copies; both are recorded in [`BalanceReport::fallbacks`]
//!   (imbalanced-learn raises an error).
//! - **Borderline-SMOTE** finds rows "in danger" with `m_neighbors` over the whole data set
//!   (at least half, but not all, of them of another class); a class with none gets no new
//!   rows (recorded). Kind 2 sends a `Beta(10, 10)` share of the rows towards same-class
//!   neighbours and the rest towards the `k` nearest rows of the other classes, with a gap
//!   in `[0, 0.5)`, and the two parts add up to the target. (imbalanced-learn's kind 2
//!   reuses the same-class neighbour positions as indices into the other classes' rows,
//!   which picks unrelated rows, and its two parts can fall one row short.)
//! - **ADASYN** apportions the new rows by largest remainder, so every class reaches its
//!   target exactly (imbalanced-learn rounds each row's share, and its total drifts); a
//!   class with no hard row falls back to SMOTE (recorded; imbalanced-learn raises).
//! - **SMOTE-Tomek / SMOTE-ENN** clean all classes, original and synthetic rows, after
//!   SMOTE; ENN uses [`ENN_NEIGHBORS`] neighbours and removes a row if any disagrees.
//! - **Random under-sampling** keeps the sampled rows in input order.
//!
//! **Cost.** SMOTE searches neighbours within each class, and only for the rows it drew as
//! bases: every class of NSL-KDD's KDDTrain+ (125,973 x 122) up to the majority takes
//! about 1 s on two cores. Borderline-SMOTE, ADASYN and the cleaning steps search
//! neighbours over the whole data set, for every row involved; on the same data they take
//! 5 to 11 s.
//!
//! # Invariants
//! - Output rows: the kept input rows first, unchanged and in input order, then the
//!   synthetic rows, grouped by class in class order. Over-samplers keep every input row
//!   unless a cleaning step removes it.
//! - Over-samplers never leave a class below its input count before cleaning, and reach
//!   each target exactly, except Borderline-SMOTE on a class with no row in danger.
//! - Every synthetic SMOTE-family row lies on the segment between a row of its class and
//!   one of that row's `k` nearest neighbours (same class, or other classes for the second
//!   part of Borderline-SMOTE 2).
//! - The same input, parameters and seed give the same output, whatever the number of
//!   threads; every random choice comes from one `ChaCha8Rng` seeded by
//!   [`BalanceParams::seed`].
//! - Invalid input is an error before any work: nothing panics on user data.

mod auto;
mod balance;
mod clean;
mod error;
mod knn;
mod params;
mod report;
mod sampling;
mod targets;

pub use auto::{AUTO_NEARLY_BALANCED, AUTO_SMALL_DATA, choose_method};
pub use balance::{balance, balance_dataset};
pub use clean::ENN_NEIGHBORS;
pub use error::{BalanceError, Result};
pub use params::{BalanceParams, Method, MethodChoice, Strategy};
pub use report::{BalanceReport, Balanced, Fallback};
