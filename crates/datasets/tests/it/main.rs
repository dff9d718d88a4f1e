//! Integration tests of vigil-datasets: hand-made fixtures with exact expected values, error
//! messages, and the real files in `/work/shared/datasets`.

mod errors;
mod fixtures;
mod real;

use std::path::{Path, PathBuf};

/// A fixture in `fixtures/datasets/` of the workspace.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/datasets").join(name)
}

/// A file of the shared datasets next to the workspace; fails with a clear message if absent.
fn shared(relative: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    let path = root.join(relative);
    assert!(
        path.is_file(),
        "shared dataset file {} is missing: these tests expect the datasets at {} \
         (CARGO_MANIFEST_DIR/../../../shared/datasets)",
        path.display(),
        root.display()
    );
    path
}

/// A row of zeros with the named features set.
fn row(names: &[String], values: &[(&str, f32)]) -> Vec<f32> {
    let mut row = vec![0.0; names.len()];
    for &(name, value) in values {
        let j = names.iter().position(|n| n == name).unwrap_or_else(|| panic!("no feature {name}"));
        row[j] = value;
    }
    row
}

/// The values of one named feature, top to bottom.
fn column(data: &vigil_core::Dataset, name: &str) -> Vec<f32> {
    let j = data
        .feature_names()
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no feature {name}"));
    data.features().column(j).to_vec()
}
