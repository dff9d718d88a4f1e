//! What a load did to the data besides parsing it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Counts of everything a load repaired or dropped, so that nothing happens silently.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LoadReport {
    /// The file read.
    pub path: PathBuf,
    /// Data rows loaded (header and skipped rows not counted).
    pub rows: usize,
    /// Rows whose fields were all empty (e.g. `,,,,`), skipped. Real CIC-IDS2017 day files end
    /// in thousands of these.
    pub skipped_empty_rows: usize,
    /// Numeric fields that were `Infinity`/`-Infinity` (or overflowed `f32`), replaced by the
    /// training column's finite maximum/minimum.
    pub infinite: usize,
    /// Numeric fields that were `NaN`, replaced by 0.
    pub nan: usize,
    /// Infinite plus NaN fields per feature name (only columns that had any).
    pub non_finite_by_column: BTreeMap<String, usize>,
    /// Categorical fields whose value was not in the training vocabulary, encoded as all zeros.
    pub unseen_categories: usize,
    /// Unseen categorical values per column: column name -> value -> count.
    pub unseen_by_column: BTreeMap<String, BTreeMap<String, usize>>,
    /// Header columns that are neither features nor the label (ids, addresses, the other
    /// target, or columns the training file did not have), in file order.
    pub unused_columns: Vec<String>,
}

impl LoadReport {
    /// Infinite plus NaN fields.
    pub fn non_finite(&self) -> usize {
        self.infinite + self.nan
    }

    pub(crate) fn count_non_finite(&mut self, column: &str, value: f32) {
        if value.is_nan() {
            self.nan += 1;
        } else {
            self.infinite += 1;
        }
        *self.non_finite_by_column.entry(column.to_owned()).or_default() += 1;
    }

    pub(crate) fn count_unseen(&mut self, column: &str, value: &str) {
        self.unseen_categories += 1;
        *self
            .unseen_by_column
            .entry(column.to_owned())
            .or_default()
            .entry(value.to_owned())
            .or_default() += 1;
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} rows; {} infinite and {} NaN values replaced; {} unseen categories",
            self.path.display(),
            self.rows,
            self.infinite,
            self.nan,
            self.unseen_categories
        )?;
        if self.skipped_empty_rows > 0 {
            write!(f, "; {} empty rows skipped", self.skipped_empty_rows)?;
        }
        Ok(())
    }
}
