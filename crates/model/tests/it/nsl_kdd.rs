//! NSL-KDD for tests and the measurement example, through the real loader (vigil-datasets).

use std::path::{Path, PathBuf};

use vigil_core::Dataset;
use vigil_datasets::{Spec, load_train};

/// `../shared/datasets/nsl-kdd` of the workspace.
pub(crate) fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/nsl-kdd")
}

/// Loads `file` (e.g. `KDDTrain+_20Percent.txt`) from [`dir`], fitting its own encoding.
pub(crate) fn load(file: &str) -> Dataset {
    let path = dir().join(file);
    match load_train(&Spec::NslKdd, &path) {
        Ok((data, ..)) => data,
        Err(e) => panic!(
            "cannot load NSL-KDD file {} ({e}); the tests expect the data sets of \
             ../shared/datasets (see PROVENANCE.md there)",
            path.display()
        ),
    }
}
