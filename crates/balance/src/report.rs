//! What balancing returns: the rows and a report of what was done.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::Method;

/// The balanced rows and the report.
///
/// The first `original_rows.len()` rows of `x` are input rows, unchanged and in input
/// order (`original_rows[i]` is the input index of row `i`); the rows after them are
/// synthetic (interpolated, or copies for random over-sampling), grouped by class in class
/// order. Mark them so that evaluation never scores a synthetic row.
#[derive(Debug, Clone, PartialEq)]
pub struct Balanced {
    /// Features, one row per sample.
    pub x: Array2<f32>,
    /// One class index per row.
    pub y: Vec<usize>,
    /// Input index of each leading original row.
    pub original_rows: Vec<usize>,
    /// What was done.
    pub report: BalanceReport,
}

/// What [`crate::balance`] did, for logs and run reports (serialises to JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceReport {
    /// The method that ran.
    pub method: Method,
    /// Why: `"requested"` for a fixed method, the rule that fired for `auto`.
    pub reason: String,
    /// Rows per class in the input.
    pub counts_before: Vec<usize>,
    /// Rows per class the strategy asked for (before any cleaning).
    pub targets: Vec<usize>,
    /// Rows per class in the output.
    pub counts_after: Vec<usize>,
    /// Synthetic rows in the output.
    pub synthetic: usize,
    /// Rows removed by under-sampling or by cleaning (Tomek links, ENN), original or
    /// synthetic.
    pub removed: usize,
    /// The smallest number of same-class neighbours any class interpolated towards:
    /// `k_neighbors` unless a class was too small. `None` when nothing was interpolated.
    pub k_used: Option<usize>,
    /// Classes that could not be treated as the method says, and what was done instead.
    pub fallbacks: Vec<Fallback>,
}

impl BalanceReport {
    /// The report as text: method and reason, rows per class before and after (`classes`
    /// names them), fallbacks, synthetic and removed rows.
    pub fn table(&self, classes: &[String]) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "method: {} ({})", self.method, self.reason);
        if let Some(k) = self.k_used {
            let _ = writeln!(out, "neighbours: k = {k}");
        }
        let _ = writeln!(out, "{:<24} {:>10} {:>10}", "class", "before", "after");
        for (c, name) in classes.iter().enumerate() {
            let (before, after) = (self.counts_before[c], self.counts_after[c]);
            let _ = writeln!(out, "{name:<24} {before:>10} {after:>10}");
        }
        let before: usize = self.counts_before.iter().sum();
        let after: usize = self.counts_after.iter().sum();
        let _ = writeln!(out, "{:<24} {before:>10} {after:>10}", "total");
        for fallback in &self.fallbacks {
            let name = classes.get(fallback.class).map_or("?", String::as_str);
            let _ = writeln!(out, "fallback for {name}: {}", fallback.reason);
        }
        let _ = writeln!(out, "synthetic rows: {}, removed rows: {}", self.synthetic, self.removed);
        out
    }
}

/// A class that could not be treated as its method says, and what was done instead (e.g.
/// a one-row class copied by random over-sampling, or `k` clamped to the class size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fallback {
    /// The class.
    pub class: usize,
    /// What happened and why, in words.
    pub reason: String,
}
