//! vigil-datasets: loaders that turn NSL-KDD, UNSW-NB15, CIC-IDS2017 and generic CSV files
//! (plain or `.gz`) into [`vigil_core::Dataset`]s, with an encoding fitted on the training file.
//!
//! - [`Spec`]: what to read ([`DatasetKind`] plus options: the UNSW-NB15 [`UnswTarget`], the
//!   label and categorical columns of a generic [`CsvSpec`]).
//! - [`load_train`]: reads a training file and fits an [`Encoding`]: the feature columns in
//!   order, one-hot vocabularies, replacements for non-finite values, the class set.
//! - [`load_with`]: reads any other file (validation, test) with that encoding, so its feature
//!   columns and class indices mean the same thing.
//! - [`LoadReport`]: what a load repaired: `Infinity`/`NaN` values, unseen categories, skipped
//!   empty rows, unused columns.
//! - [`DatasetError`]: every failure, naming file, 1-based line and column.
//! - [`simulate()`]: the scenario simulator, seeded labelled event streams for the 7 threat
//!   classes with a difficulty level 0..=3 ([`SimParams`] -> [`SimEntity`]s), and their
//!   labelled JSONL form ([`write_jsonl`], [`read_labels`], [`read_jsonl`]); see
//!   [`mod@simulate`].
//!
//! Standardisation is not done here: fit [`vigil_core::Standardizer`] on the training
//! features only and apply it to the rest, as below.
//!
//! ```
//! use vigil_core::Standardizer;
//! use vigil_datasets::{Spec, load_train, load_with};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/datasets");
//! let (train, encoding, _) = load_train(&Spec::NslKdd, format!("{dir}/nsl_kdd_train.txt"))?;
//! assert_eq!(train.classes().names(), ["normal", "DoS", "Probe", "R2L", "U2R"]);
//! assert!(train.feature_names().contains(&"service=http".to_owned()));
//!
//! let (test, report) = load_with(&encoding, format!("{dir}/nsl_kdd_test.txt"))?;
//! assert_eq!(test.feature_names(), train.feature_names());
//! assert_eq!(report.unseen_categories, 1); // a service the training file never had
//!
//! let scaler = Standardizer::fit(train.features())?;
//! let x_test = scaler.transform(test.features())?;
//! assert_eq!(x_test.ncols(), encoding.n_features());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Formats and policies
//! - **NSL-KDD**: 43 columns, no header (names as in `nsl-kdd/columns.csv`); `protocol_type`,
//!   `service`, `flag` one-hot; `difficulty_level` dropped; attack names map to the 5 classes
//!   `normal, DoS, Probe, R2L, U2R` (in that order) with the table of
//!   `nsl-kdd/attack_categories.csv`, compiled in (`httptunnel` is U2R, `worm` R2L; a test
//!   checks the copy against the file). An attack name outside the table is an error.
//! - **UNSW-NB15**: header CSV; `proto`, `service`, `state` one-hot; `id`, `attack_cat` and
//!   `label` are never features. Target `attack_cat`: `Normal, Analysis, Backdoor, DoS,
//!   Exploits, Fuzzers, Generic, Reconnaissance, Shellcode, Worms` (case and surrounding spaces
//!   ignored, `Backdoors` accepted); target `label`: `normal` (0), `attack` (1).
//! - **CIC-IDS2017**: header names trimmed, a repeated name suffixed `.1` (`Fwd Header
//!   Length.1`); the identifier columns `Flow ID`, `Source IP`, `Source Port`, `Destination
//!   IP`, `Destination Port`, `Timestamp` (and the CSE-CIC-IDS2018 `Src IP`, `Src Port`, `Dst
//!   IP`, `Dst Port`) are dropped, because they name the lab's hosts and capture times rather
//!   than describe a flow; `Protocol` stays a numeric feature; the label is `Label`.
//! - **Generic CSV**: header required; label column named in [`CsvSpec`]; every other column
//!   numeric unless listed as categorical or ignored (listed columns must exist).
//! - **Class sets** of NSL-KDD and UNSW-NB15 are fixed by the format. CIC-IDS2017 and generic
//!   CSV fit theirs on the training labels: `BENIGN`/`normal` (any case) first, the rest
//!   sorted; spellings differing in case or surrounding spaces are one class.
//! - **Non-finite values**: `Infinity` (and values overflowing `f32`) becomes the training
//!   column's largest finite value, `-Infinity` its smallest, `NaN` becomes 0; each is counted
//!   in the [`LoadReport`]. CICFlowMeter writes `Infinity` in rate columns (`Flow Bytes/s`,
//!   `Flow Packets/s`) when a flow lasts 0 µs: the rate is "faster than anything measured", so
//!   the training maximum keeps such flows at the fast end without an outlier that would wreck
//!   standardisation, whereas 0 would put them among idle flows. `NaN` comes from 0/0 (no bytes
//!   in no time) and carries no rate, so 0.
//! - **Unseen categories** in a file loaded with [`load_with`] encode as an all-zero one-hot
//!   block and are counted per column and value in the report; an unknown **label** is an error.
//! - Rows whose fields are all empty (`,,,`) are skipped and counted; blank lines are ignored;
//!   lines may end in LF or CRLF; fields are trimmed of ASCII spaces. Text fields (labels,
//!   categories, names) are decoded as UTF-8 with invalid bytes replaced by U+FFFD; in a
//!   numeric field they are an error.
//!
//! # Invariants
//! - Vocabularies, fitted class sets and non-finite replacements come from the training file
//!   only; [`load_with`] never changes an [`Encoding`].
//! - Features are the source columns in file order, each one-hot column expanded in place in
//!   sorted vocabulary order; every file loaded with one encoding gets exactly
//!   [`Encoding::feature_names`], whatever its column order (header columns match by name).
//! - A target column (the label, and for UNSW-NB15 the other target too) is never a feature.
//! - Every feature value of a loaded dataset is finite.
//! - Any input bytes give a dataset or a [`DatasetError`], never a panic.

mod encoding;
mod error;
mod read;
mod report;
pub mod simulate;
mod spec;

pub use encoding::{Encoding, load_train, load_with};
pub use error::{DatasetError, Result};
pub use report::LoadReport;
pub use simulate::{
    SimEntity, SimParams, SimulateError, SourceLabels, read_jsonl, read_labels, simulate,
    write_jsonl,
};
pub use spec::{CsvSpec, DatasetKind, Spec, UnswTarget};
