//! NSL-KDD for these tests, through the real loader (vigil-datasets), standardised as
//! imbalanced-learn's comparison script does.

use std::path::Path;

use ndarray::Array2;
use vigil_core::Standardizer;
use vigil_datasets::{Spec, load_train};

/// Features and class labels (normal, DoS, Probe, R2L, U2R = 0..4) of `file` in
/// `../shared/datasets/nsl-kdd`, every column standardised. Panics with a clear message if
/// the file is missing: these tests must not pass silently.
pub(crate) fn load(file: &str) -> (Array2<f32>, Vec<usize>) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/nsl-kdd").join(file);
    let (data, ..) = load_train(&Spec::NslKdd, &path).unwrap_or_else(|e| {
        panic!(
            "NSL-KDD file {} is required by this test and could not be loaded: {e}",
            path.display()
        )
    });
    let x = Standardizer::fit(data.features()).and_then(|s| s.transform(data.features())).unwrap();
    (x, data.labels().to_vec())
}
