//! vigil-core: the vocabulary every vigil crate shares, with no I/O.
//!
//! - [`ClassSet`]: an ordered list of class names plus aliases; parsing a label that is
//!   neither a name nor an alias is an error that names it ([`ClassSet::threat`] is the
//!   7-class set of the event models).
//! - [`Dataset`]: a feature matrix (`Array2<f32>`, rows = samples), one class index per row,
//!   feature names and the class set, validated at construction.
//! - [`stratified_split`]: a seeded split that keeps each class's share on both sides.
//! - [`Standardizer`]: per-feature mean and standard deviation, fitted on training rows only.
//! - [`metrics`]: confusion matrix, accuracy, per-class precision/recall/F1, macro- and
//!   weighted-F1, normal-class false-positive rate, detection rate, ECE, Brier score, log-loss.
//!
//! ```
//! use ndarray::array;
//! use vigil_core::{ClassSet, Dataset};
//!
//! let classes = ClassSet::new(["normal", "attack"]).unwrap();
//! let data = Dataset::new(
//!     array![[0.0_f32, 1.0], [1.0, 0.0]],
//!     vec![classes.parse("Normal").unwrap(), classes.parse("attack").unwrap()],
//!     vec!["a".into(), "b".into()],
//!     classes,
//! )
//! .unwrap();
//! assert_eq!(data.class_counts(), vec![1, 1]);
//! ```
//!
//! # Invariants
//! - Every label in a [`Dataset`] is a valid index into its [`ClassSet`]; the feature matrix
//!   has one row per label and one column per feature name.
//! - Every random choice takes an explicit seed (`rand_chacha::ChaCha8Rng`): the same seed and
//!   input give the same output on every machine.
//! - Metrics never panic on empty input or absent classes; an undefined ratio (0/0) is 0.

mod classes;
mod dataset;
mod error;
pub mod metrics;
mod standardize;

pub use classes::ClassSet;
pub use dataset::{Dataset, stratified_split};
pub use error::{CoreError, Result};
pub use standardize::Standardizer;
