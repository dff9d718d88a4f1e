//! What to load: the dataset kinds, their options, and what each format knows about its columns.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use vigil_core::ClassSet;

use crate::{DatasetError, Result};

/// The supported file formats, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetKind {
    /// NSL-KDD text files (`nsl-kdd`).
    NslKdd,
    /// UNSW-NB15 partition CSVs (`unsw-nb15`).
    UnswNb15,
    /// CICFlowMeter CSVs of CIC-IDS2017 (`cic-ids2017`).
    CicIds2017,
    /// Any CSV with a header and a named label column (`csv`).
    Csv,
}

impl DatasetKind {
    /// Every kind, in the order of the command-line help.
    pub const ALL: [Self; 4] = [Self::NslKdd, Self::UnswNb15, Self::CicIds2017, Self::Csv];

    /// The command-line name, e.g. `nsl-kdd`.
    pub fn name(self) -> &'static str {
        match self {
            Self::NslKdd => "nsl-kdd",
            Self::UnswNb15 => "unsw-nb15",
            Self::CicIds2017 => "cic-ids2017",
            Self::Csv => "csv",
        }
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DatasetKind {
    type Err = DatasetError;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| DatasetError::UnknownKind(s.to_owned()))
    }
}

/// Which UNSW-NB15 column is the target. The other one is never a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum UnswTarget {
    /// `attack_cat`: 10 classes, `Normal` then the 9 attack categories in alphabetical order.
    #[default]
    #[serde(rename = "attack_cat")]
    AttackCat,
    /// `label`: 2 classes, `normal` (0) and `attack` (1).
    #[serde(rename = "label")]
    Label,
}

impl UnswTarget {
    /// The column name in the file, also the command-line spelling.
    pub fn column(self) -> &'static str {
        match self {
            Self::AttackCat => "attack_cat",
            Self::Label => "label",
        }
    }
}

impl fmt::Display for UnswTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.column())
    }
}

impl FromStr for UnswTarget {
    type Err = DatasetError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "attack_cat" => Ok(Self::AttackCat),
            "label" => Ok(Self::Label),
            _ => Err(DatasetError::UnknownTarget(s.to_owned())),
        }
    }
}

/// Options of a generic CSV: the label column, the categorical columns (one-hot encoded)
/// and the columns to leave out. Every other column must be numeric. Every column named here
/// must exist in the training file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvSpec {
    /// Name of the label column (after trimming spaces from the header).
    pub label: String,
    /// Columns to one-hot encode with a vocabulary fitted on the training file.
    #[serde(default)]
    pub categorical: Vec<String>,
    /// Columns that are neither features nor the label (ids, addresses, other targets).
    #[serde(default)]
    pub ignore: Vec<String>,
}

impl CsvSpec {
    /// A spec with this label column, no categorical and no ignored columns.
    pub fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), categorical: Vec::new(), ignore: Vec::new() }
    }

    /// Adds categorical columns.
    #[must_use]
    pub fn categorical<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.categorical.extend(columns.into_iter().map(Into::into));
        self
    }

    /// Adds ignored columns.
    #[must_use]
    pub fn ignore<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignore.extend(columns.into_iter().map(Into::into));
        self
    }
}

/// A dataset kind with its options: everything [`load_train`](crate::load_train) needs besides
/// the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Spec {
    /// NSL-KDD: 43 columns without a header, 5 classes (normal, DoS, Probe, R2L, U2R).
    NslKdd,
    /// UNSW-NB15 with the given target column.
    UnswNb15 {
        /// `attack_cat` (10 classes) or `label` (binary).
        target: UnswTarget,
    },
    /// CIC-IDS2017 CICFlowMeter output; classes fitted on the training file.
    CicIds2017,
    /// A generic CSV; classes fitted on the training file.
    Csv(CsvSpec),
}

impl Spec {
    /// The kind of file this spec reads.
    pub fn kind(&self) -> DatasetKind {
        match self {
            Self::NslKdd => DatasetKind::NslKdd,
            Self::UnswNb15 { .. } => DatasetKind::UnswNb15,
            Self::CicIds2017 => DatasetKind::CicIds2017,
            Self::Csv(_) => DatasetKind::Csv,
        }
    }

    /// The column layout this spec implies, checked for contradictions.
    pub(crate) fn layout(&self) -> Result<Layout> {
        let layout = match self {
            Self::NslKdd => Layout {
                fixed_header: Some(NSL_KDD_COLUMNS.iter().map(|&c| c.to_owned()).collect()),
                label: "label".into(),
                categorical: ["protocol_type", "service", "flag"].map(String::from).to_vec(),
                ignore: vec!["difficulty_level".into()],
                ignore_must_exist: false,
                classes: Some(nsl_kdd_classes()),
            },
            Self::UnswNb15 { target } => Layout {
                fixed_header: None,
                label: target.column().into(),
                categorical: ["proto", "service", "state"].map(String::from).to_vec(),
                // Both targets are dropped whichever one is used: a target as a feature would
                // leak the answer.
                ignore: ["id", "attack_cat", "label"].map(String::from).to_vec(),
                ignore_must_exist: false,
                classes: Some(unsw_classes(*target)),
            },
            Self::CicIds2017 => Layout {
                fixed_header: None,
                label: "Label".into(),
                categorical: Vec::new(),
                ignore: CIC_IDENTIFIER_COLUMNS.iter().map(|&c| c.to_owned()).collect(),
                ignore_must_exist: false,
                classes: None,
            },
            Self::Csv(csv) => {
                if csv.label.trim().is_empty() {
                    return Err(DatasetError::InvalidSpec {
                        reason: "the label column name is empty".into(),
                    });
                }
                let label = csv.label.trim().to_owned();
                let trimmed = |v: &[String]| v.iter().map(|c| c.trim().to_owned()).collect();
                let layout = Layout {
                    fixed_header: None,
                    label,
                    categorical: trimmed(&csv.categorical),
                    ignore: trimmed(&csv.ignore),
                    ignore_must_exist: true,
                    classes: None,
                };
                if layout.categorical.contains(&layout.label) {
                    return Err(DatasetError::InvalidSpec {
                        reason: format!(
                            "label column {:?} is also listed as categorical",
                            layout.label
                        ),
                    });
                }
                if layout.ignore.contains(&layout.label) {
                    return Err(DatasetError::InvalidSpec {
                        reason: format!(
                            "label column {:?} is also listed as ignored",
                            layout.label
                        ),
                    });
                }
                if let Some(both) = layout.categorical.iter().find(|c| layout.ignore.contains(c)) {
                    return Err(DatasetError::InvalidSpec {
                        reason: format!(
                            "column {both:?} is listed as both categorical and ignored"
                        ),
                    });
                }
                layout
            }
        };
        Ok(layout)
    }
}

/// How a spec maps columns to roles. Columns not named here are numeric features.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Column names of a headerless format; `None` means the first line is the header.
    pub(crate) fixed_header: Option<Vec<String>>,
    /// The label column; it must exist.
    pub(crate) label: String,
    /// One-hot columns; they must exist.
    pub(crate) categorical: Vec<String>,
    /// Columns dropped; those of a built-in format need not exist (a generic CSV's must).
    pub(crate) ignore: Vec<String>,
    /// Whether every `ignore` column must exist in the training file: a name the user typed
    /// that matches nothing is more likely a typo than a choice.
    pub(crate) ignore_must_exist: bool,
    /// A class set fixed by the format, or `None` to fit it on the training labels.
    pub(crate) classes: Option<ClassSet>,
}

/// NSL-KDD column names, as in `nsl-kdd/columns.csv` (the standard KDD'99 names).
pub(crate) const NSL_KDD_COLUMNS: [&str; 43] = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
    "label",
    "difficulty_level",
];

/// The 5 NSL-KDD classes, in this order.
pub(crate) const NSL_KDD_CLASSES: [&str; 5] = ["normal", "DoS", "Probe", "R2L", "U2R"];

/// Attack name -> 5-class category, as in `nsl-kdd/attack_categories.csv` (covers the 40 labels
/// of the NSL-KDD train and test files). `httptunnel` is U2R and `worm` R2L there; some papers
/// use R2L and DoS instead.
pub(crate) const NSL_KDD_ATTACKS: [(&str, &str); 39] = [
    ("back", "DoS"),
    ("land", "DoS"),
    ("neptune", "DoS"),
    ("pod", "DoS"),
    ("smurf", "DoS"),
    ("teardrop", "DoS"),
    ("apache2", "DoS"),
    ("mailbomb", "DoS"),
    ("processtable", "DoS"),
    ("udpstorm", "DoS"),
    ("ipsweep", "Probe"),
    ("nmap", "Probe"),
    ("portsweep", "Probe"),
    ("satan", "Probe"),
    ("mscan", "Probe"),
    ("saint", "Probe"),
    ("ftp_write", "R2L"),
    ("guess_passwd", "R2L"),
    ("imap", "R2L"),
    ("multihop", "R2L"),
    ("phf", "R2L"),
    ("spy", "R2L"),
    ("warezclient", "R2L"),
    ("warezmaster", "R2L"),
    ("named", "R2L"),
    ("sendmail", "R2L"),
    ("snmpgetattack", "R2L"),
    ("snmpguess", "R2L"),
    ("xlock", "R2L"),
    ("xsnoop", "R2L"),
    ("worm", "R2L"),
    ("buffer_overflow", "U2R"),
    ("loadmodule", "U2R"),
    ("perl", "U2R"),
    ("rootkit", "U2R"),
    ("httptunnel", "U2R"),
    ("ps", "U2R"),
    ("sqlattack", "U2R"),
    ("xterm", "U2R"),
];

/// The UNSW-NB15 `attack_cat` classes: `Normal`, then the attack categories alphabetically.
pub(crate) const UNSW_CATEGORIES: [&str; 10] = [
    "Normal",
    "Analysis",
    "Backdoor",
    "DoS",
    "Exploits",
    "Fuzzers",
    "Generic",
    "Reconnaissance",
    "Shellcode",
    "Worms",
];

/// Columns of CICFlowMeter output that identify a flow rather than describe it. They are
/// dropped because a model would learn the lab's addresses and capture times, not behaviour.
/// The CSE-CIC-IDS2018 spellings are listed too; absent columns are simply not there.
pub(crate) const CIC_IDENTIFIER_COLUMNS: [&str; 10] = [
    "Flow ID",
    "Source IP",
    "Source Port",
    "Destination IP",
    "Destination Port",
    "Timestamp",
    "Src IP",
    "Src Port",
    "Dst IP",
    "Dst Port",
];

fn nsl_kdd_classes() -> ClassSet {
    let mut classes = ClassSet::new(NSL_KDD_CLASSES).expect("static class names are distinct");
    for (attack, category) in NSL_KDD_ATTACKS {
        classes = classes.with_alias(attack, category).expect("static aliases are consistent");
    }
    classes
}

fn unsw_classes(target: UnswTarget) -> ClassSet {
    match target {
        // The raw UNSW-NB15 files spell one category `Backdoors`; the partition files
        // `Backdoor`. Case and surrounding spaces are ignored by `ClassSet` itself.
        UnswTarget::AttackCat => ClassSet::new(UNSW_CATEGORIES)
            .and_then(|c| c.with_alias("Backdoors", "Backdoor"))
            .expect("static class names and aliases are consistent"),
        UnswTarget::Label => ClassSet::new(["normal", "attack"])
            .and_then(|c| c.with_alias("0", "normal"))
            .and_then(|c| c.with_alias("1", "attack"))
            .expect("static class names and aliases are consistent"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_targets_parse_from_their_names() {
        for kind in DatasetKind::ALL {
            assert_eq!(kind.name().parse::<DatasetKind>().unwrap(), kind);
        }
        assert_eq!("NSL-KDD".parse::<DatasetKind>().unwrap(), DatasetKind::NslKdd);
        let err = "kdd99".parse::<DatasetKind>().unwrap_err().to_string();
        assert!(err.contains("\"kdd99\"") && err.contains("cic-ids2017"), "{err}");
        assert_eq!("attack-cat".parse::<UnswTarget>().unwrap(), UnswTarget::AttackCat);
        assert_eq!("label".parse::<UnswTarget>().unwrap(), UnswTarget::Label);
        assert!("id".parse::<UnswTarget>().is_err());
    }

    #[test]
    fn fixed_class_sets_map_every_known_label() {
        let nsl = nsl_kdd_classes();
        assert_eq!(nsl.names(), NSL_KDD_CLASSES);
        for (label, class) in
            [("normal", 0), ("neptune", 1), ("satan", 2), ("worm", 3), ("httptunnel", 4)]
        {
            assert_eq!(nsl.parse(label), Ok(class), "{label}");
        }
        let unsw = unsw_classes(UnswTarget::AttackCat);
        assert_eq!(unsw.len(), 10);
        assert_eq!(unsw.parse(" Backdoors "), Ok(2));
        assert_eq!(unsw.parse("reconnaissance"), Ok(7));
        let binary = unsw_classes(UnswTarget::Label);
        assert_eq!((binary.parse("0"), binary.parse("1")), (Ok(0), Ok(1)));
    }

    #[test]
    fn contradictory_csv_specs_are_rejected() {
        for (spec, needle) in [
            (CsvSpec::new(" "), "empty"),
            (CsvSpec::new("y").categorical(["y"]), "categorical"),
            (CsvSpec::new("y").ignore(["y"]), "ignored"),
            (CsvSpec::new("y").categorical(["a"]).ignore(["a"]), "both"),
        ] {
            let err = Spec::Csv(spec).layout().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn spec_serialises_with_a_kind_tag() {
        let spec = Spec::UnswNb15 { target: UnswTarget::Label };
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, r#"{"kind":"unsw-nb15","target":"label"}"#);
        let csv = Spec::Csv(CsvSpec::new("y").categorical(["c"]));
        let back: Spec = serde_json::from_str(&serde_json::to_string(&csv).unwrap()).unwrap();
        assert_eq!(back, csv);
    }
}
