//! Command-line choice of a data file and its format, with defaults under ../shared/datasets.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use vigil_core::Dataset;
use vigil_datasets::{CsvSpec, DatasetKind, Encoding, LoadReport, Spec, UnswTarget};

/// Where to find a training file and how to read it.
#[derive(Debug, Clone, ClapArgs)]
pub(crate) struct DataArgs {
    /// Format of the files: nsl-kdd, unsw-nb15, cic-ids2017 or csv.
    #[arg(long, value_parser = parse_kind)]
    pub(crate) dataset: DatasetKind,
    /// Training file (plain or .gz). Default: the dataset's file under the data directory.
    #[arg(long)]
    pub(crate) train: Option<PathBuf>,
    /// Directory of the public datasets [default: $VIGIL_DATA, else ../shared/datasets].
    #[arg(long, env = "VIGIL_DATA")]
    pub(crate) data_dir: Option<PathBuf>,
    /// UNSW-NB15 target: attack_cat (10 classes) or label (binary).
    #[arg(long, default_value = "attack_cat", value_parser = parse_unsw_target)]
    pub(crate) target: UnswTarget,
    /// Generic CSV: the label column.
    #[arg(long, default_value = "label")]
    pub(crate) label: String,
    /// Generic CSV: columns to one-hot encode (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) categorical: Vec<String>,
    /// Generic CSV: columns to leave out (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) ignore: Vec<String>,
}

fn parse_kind(s: &str) -> Result<DatasetKind, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_unsw_target(s: &str) -> Result<UnswTarget, String> {
    s.parse().map_err(|e| format!("{e}"))
}

impl DataArgs {
    /// The loader spec these flags describe.
    pub(crate) fn spec(&self) -> Spec {
        match self.dataset {
            DatasetKind::NslKdd => Spec::NslKdd,
            DatasetKind::UnswNb15 => Spec::UnswNb15 { target: self.target },
            DatasetKind::CicIds2017 => Spec::CicIds2017,
            DatasetKind::Csv => Spec::Csv(
                CsvSpec::new(&self.label)
                    .categorical(self.categorical.iter().cloned())
                    .ignore(self.ignore.iter().cloned()),
            ),
        }
    }

    /// The training file: `--train`, or the dataset's default file in the data directory.
    pub(crate) fn train_path(&self) -> Result<PathBuf> {
        if let Some(path) = &self.train {
            return Ok(path.clone());
        }
        let relative = match self.dataset {
            DatasetKind::NslKdd => "nsl-kdd/KDDTrain+.txt",
            DatasetKind::UnswNb15 => "unsw-nb15/unsw_nb15_82k_split70_train.csv",
            DatasetKind::CicIds2017 => {
                "cic-ids2017/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX_first299rows.csv"
            }
            DatasetKind::Csv => bail!("--dataset csv needs --train PATH"),
        };
        Ok(self.data_dir()?.join(relative))
    }

    fn data_dir(&self) -> Result<PathBuf> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        // From the checkout (the README's commands) or from wherever the binary was built.
        let candidates = [
            PathBuf::from("../shared/datasets"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"),
        ];
        candidates.into_iter().find(|dir| dir.is_dir()).context(
            "no data directory: pass --train PATH, --data-dir DIR or set VIGIL_DATA \
             (looked for ../shared/datasets)",
        )
    }

    /// Loads the training file and fits its encoding.
    pub(crate) fn load_train(&self) -> Result<(Dataset, Encoding, LoadReport)> {
        let path = self.train_path()?;
        vigil_datasets::load_train(&self.spec(), &path)
            .with_context(|| format!("loading training data {}", path.display()))
    }
}
