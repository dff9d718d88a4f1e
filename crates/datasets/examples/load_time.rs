//! Times loading the real training files: `cargo run --release -p vigil-datasets --example
//! load_time [DATASETS_DIR]` (default: the shared datasets next to the workspace).
#![expect(clippy::print_stdout, reason = "an example reports its timings")]

use std::path::PathBuf;
use std::time::Instant;

use vigil_datasets::{Spec, UnswTarget, load_train, load_with};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"),
        PathBuf::from,
    );
    let files = [
        (Spec::NslKdd, "nsl-kdd/KDDTrain+.txt"),
        (Spec::NslKdd, "nsl-kdd/KDDTrain+_20Percent.txt"),
        (
            Spec::UnswNb15 { target: UnswTarget::AttackCat },
            "unsw-nb15/unsw_nb15_82k_split70_train.csv",
        ),
        (
            Spec::CicIds2017,
            "cic-ids2017/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX_first299rows.csv",
        ),
    ];
    for (spec, file) in files {
        let path = dir.join(file);
        let best = (0..5)
            .map(|_| {
                let start = Instant::now();
                let loaded = load_train(&spec, &path);
                (start.elapsed(), loaded)
            })
            .min_by_key(|(elapsed, _)| *elapsed)
            .expect("five runs");
        let (data, encoding, report) = best.1?;
        let start = Instant::now();
        load_with(&encoding, &path)?;
        let again = start.elapsed();
        println!(
            "{file}: {} rows x {} features, load_train {:.1} ms, load_with {:.1} ms ({report})",
            data.n_rows(),
            data.n_features(),
            best.0.as_secs_f64() * 1e3,
            again.as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
