//! The real files in `/work/shared/datasets`: class counts, widths and reports.

use std::collections::BTreeMap;

use vigil_datasets::{Spec, UnswTarget, load_train, load_with};

use crate::shared;

#[test]
fn nsl_kdd_20_percent_class_counts_and_width() {
    let (data, encoding, report) =
        load_train(&Spec::NslKdd, shared("nsl-kdd/KDDTrain+_20Percent.txt")).unwrap();
    assert_eq!(data.n_rows(), 25_192);
    assert_eq!(data.class_counts(), [13_449, 9_234, 2_289, 209, 11]);
    // The 20% subset has 66 of the 70 services of the full file.
    let widths =
        ["protocol_type", "service", "flag"].map(|c| encoding.vocabulary(c).unwrap().len());
    assert_eq!(widths, [3, 66, 11]);
    assert_eq!(data.n_features(), 38 + 3 + 66 + 11);
    assert_eq!((report.non_finite(), report.unseen_categories), (0, 0));
}

#[test]
fn nsl_kdd_full_training_file_has_122_features() {
    let (data, encoding, _) = load_train(&Spec::NslKdd, shared("nsl-kdd/KDDTrain+.txt")).unwrap();
    assert_eq!(data.n_rows(), 125_973);
    assert_eq!(data.class_counts(), [67_343, 45_927, 11_656, 995, 52]);
    let widths =
        ["protocol_type", "service", "flag"].map(|c| encoding.vocabulary(c).unwrap().len());
    assert_eq!(widths, [3, 70, 11]);
    assert_eq!(data.n_features(), 122);
    let numeric = data.feature_names().iter().filter(|n| !n.contains('=')).count();
    assert_eq!(numeric, 38);

    // The 20% file is a subset: nothing unseen with the full file's encoding.
    let (subset, report) = load_with(&encoding, shared("nsl-kdd/KDDTrain+_20Percent.txt")).unwrap();
    assert_eq!(subset.n_features(), 122);
    assert_eq!(subset.class_counts(), [13_449, 9_234, 2_289, 209, 11]);
    assert_eq!(report.unseen_categories, 0);
}

#[test]
fn nsl_kdd_tables_agree_with_the_shipped_csv_files() {
    // The class of every label in attack_categories.csv, as the loader maps it.
    let (data, _, _) = load_train(&Spec::NslKdd, crate::fixture("nsl_kdd_train.txt")).unwrap();
    let classes = data.classes();
    let mapping = std::fs::read_to_string(shared("nsl-kdd/attack_categories.csv")).unwrap();
    let mut n = 0;
    for line in mapping.lines().skip(1) {
        let mut fields = line.split(',');
        let (label, category) = (fields.next().unwrap(), fields.next().unwrap());
        let class = classes.parse(label).unwrap();
        assert_eq!(classes.name(class), Some(category), "{label}");
        n += 1;
    }
    assert_eq!(n, 40);

    let columns = std::fs::read_to_string(shared("nsl-kdd/columns.csv")).unwrap();
    let names: Vec<&str> = columns.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(names.len(), 43);
    let features: Vec<&str> =
        data.feature_names().iter().filter(|n| !n.contains('=')).map(String::as_str).collect();
    let expected: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !["protocol_type", "service", "flag", "label", "difficulty_level"].contains(n))
        .collect();
    assert_eq!(features, expected);
}

#[test]
fn unsw_nb15_has_ten_classes_and_no_target_features() {
    let path = shared("unsw-nb15/unsw_nb15_82k_split70_train.csv");
    let (data, encoding, report) =
        load_train(&Spec::UnswNb15 { target: UnswTarget::AttackCat }, &path).unwrap();
    assert_eq!(data.n_rows(), 57_632);
    assert_eq!(data.classes().len(), 10);
    // Normal, Analysis, Backdoor, DoS, Exploits, Fuzzers, Generic, Reconnaissance, Shellcode, Worms
    assert_eq!(
        data.class_counts(),
        [25_900, 474, 408, 2_862, 7_792, 4_243, 13_210, 2_447, 265, 31]
    );
    let widths = ["proto", "service", "state"].map(|c| encoding.vocabulary(c).unwrap().len());
    assert_eq!(widths, [131, 13, 7]);
    assert_eq!(data.n_features(), 39 + 131 + 13 + 7);
    for target in ["id", "attack_cat", "label"] {
        assert!(
            !data
                .feature_names()
                .iter()
                .any(|n| n == target || n.starts_with(&format!("{target}=")))
        );
    }
    assert_eq!(report.non_finite(), 0);

    let (binary, _, _) = load_train(&Spec::UnswNb15 { target: UnswTarget::Label }, &path).unwrap();
    assert_eq!(binary.class_counts(), [25_900, 31_732]);
    assert_eq!(binary.feature_names(), data.feature_names());
}

#[test]
fn cic_ids2017_sample_reports_its_infinities() {
    let path = shared("cic-ids2017/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX_first299rows.csv");
    let (data, _, report) = load_train(&Spec::CicIds2017, &path).unwrap();
    assert_eq!(data.n_rows(), 299);
    assert_eq!(data.classes().names(), ["BENIGN"]);
    assert_eq!(data.n_features(), 78);
    assert!(data.feature_names().contains(&"Fwd Header Length.1".to_owned()));
    assert_eq!((report.infinite, report.nan), (2, 0));
    assert_eq!(
        report.non_finite_by_column,
        BTreeMap::from([("Flow Bytes/s".to_owned(), 1), ("Flow Packets/s".to_owned(), 1)])
    );
    data.check_finite().unwrap();
}
