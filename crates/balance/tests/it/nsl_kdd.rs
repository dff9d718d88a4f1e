//! A minimal NSL-KDD loader for these tests (the datasets crate has the real one).
//!
//! Columns 1-3 (protocol, service, flag) are one-hot encoded with the file's own sorted
//! vocabulary, the other 38 of the first 41 columns are standardised, column 41 is the
//! attack name (mapped to normal, DoS, Probe, R2L, U2R = 0..4) and column 42 is ignored.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use ndarray::{Array2, Axis, concatenate};
use vigil_core::Standardizer;

const DIR: &str = "/work/shared/datasets/nsl-kdd";
const CATEGORIES: [&str; 5] = ["normal", "DoS", "Probe", "R2L", "U2R"];

/// Features (122 columns for KDDTrain+) and class labels of `file` in the NSL-KDD folder.
/// Panics with a clear message if the file is missing: these tests must not pass silently.
pub(crate) fn load(file: &str) -> (Array2<f32>, Vec<usize>) {
    let path = Path::new(DIR).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "NSL-KDD file {} is required by this test and could not be read: {e}",
            path.display()
        )
    });
    let categories = attack_categories();
    let rows: Vec<Vec<&str>> =
        text.lines().filter(|l| !l.is_empty()).map(|l| l.split(',').collect()).collect();
    let vocab: Vec<Vec<&str>> = (1..4)
        .map(|c| rows.iter().map(|r| r[c]).collect::<BTreeSet<_>>().into_iter().collect())
        .collect();
    let numeric: Vec<usize> = (0..41).filter(|c| !(1..4).contains(c)).collect();
    let width: usize = vocab.iter().map(Vec::len).sum();
    let mut x_num = Array2::<f32>::zeros((rows.len(), numeric.len()));
    let mut x_hot = Array2::<f32>::zeros((rows.len(), width));
    let mut y = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 43, "{}: row {i} has {} columns", path.display(), row.len());
        for (j, &c) in numeric.iter().enumerate() {
            x_num[[i, j]] = row[c].parse().unwrap_or_else(|e| panic!("row {i} column {c}: {e}"));
        }
        let mut offset = 0;
        for (values, c) in vocab.iter().zip(1..4) {
            x_hot[[i, offset + values.binary_search(&row[c]).expect("in vocabulary")]] = 1.0;
            offset += values.len();
        }
        let category =
            categories.get(row[41]).unwrap_or_else(|| panic!("unknown attack {:?}", row[41]));
        y.push(CATEGORIES.iter().position(|c| c == category).expect("known category"));
    }
    let scaler = Standardizer::fit(x_num.view()).expect("rows");
    scaler.transform_in_place(&mut x_num).expect("width");
    (concatenate(Axis(1), &[x_num.view(), x_hot.view()]).expect("same rows"), y)
}

fn attack_categories() -> HashMap<String, String> {
    let path = Path::new(DIR).join("attack_categories.csv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is required by this test: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut fields = l.split(',');
            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
        })
        .collect()
}
