//! Hand-made fixtures: exact matrices, labels, feature names and reports.

use std::collections::BTreeMap;
use std::io::Write;

use ndarray::{Array2, array};
use vigil_datasets::{CsvSpec, DatasetKind, Spec, UnswTarget, load_train, load_with};

use crate::{column, fixture, row};

fn rows(data: &vigil_core::Dataset) -> Vec<Vec<f32>> {
    data.features().rows().into_iter().map(|r| r.to_vec()).collect()
}

#[test]
fn nsl_kdd_one_hot_in_place_with_five_classes() {
    let (train, encoding, report) =
        load_train(&Spec::NslKdd, fixture("nsl_kdd_train.txt")).unwrap();
    let names = train.feature_names();
    assert_eq!(
        names[..12],
        [
            "duration",
            "protocol_type=icmp",
            "protocol_type=tcp",
            "service=eco_i",
            "service=http",
            "service=private",
            "service=telnet",
            "flag=RSTO",
            "flag=S0",
            "flag=SF",
            "src_bytes",
            "dst_bytes",
        ]
    );
    assert_eq!(names.len(), 38 + 2 + 4 + 3);
    assert_eq!(names.last().unwrap(), "dst_host_srv_rerror_rate");
    assert!(!names.iter().any(|n| n == "label" || n == "difficulty_level"));
    assert_eq!(encoding.feature_names(), names);
    assert_eq!(train.classes().names(), ["normal", "DoS", "Probe", "R2L", "U2R"]);
    assert_eq!(train.labels(), [0, 1, 2, 3, 4]);
    let expected = [
        row(
            names,
            &[
                ("protocol_type=tcp", 1.0),
                ("service=http", 1.0),
                ("flag=SF", 1.0),
                ("src_bytes", 215.0),
                ("dst_bytes", 45076.0),
                ("logged_in", 1.0),
                ("count", 1.0),
                ("srv_count", 1.0),
                ("same_srv_rate", 1.0),
                ("dst_host_count", 255.0),
            ],
        ),
        row(
            names,
            &[
                ("protocol_type=tcp", 1.0),
                ("service=private", 1.0),
                ("flag=S0", 1.0),
                ("count", 123.0),
                ("srv_count", 6.0),
                ("serror_rate", 1.0),
                ("same_srv_rate", 0.05),
            ],
        ),
        row(
            names,
            &[
                ("protocol_type=icmp", 1.0),
                ("service=eco_i", 1.0),
                ("flag=SF", 1.0),
                ("src_bytes", 18.0),
                ("count", 1.0),
                ("dst_host_count", 2.0),
            ],
        ),
        row(
            names,
            &[
                ("duration", 2.0),
                ("protocol_type=tcp", 1.0),
                ("service=telnet", 1.0),
                ("flag=RSTO", 1.0),
                ("src_bytes", 125.0),
                ("dst_bytes", 179.0),
                ("num_failed_logins", 1.0),
            ],
        ),
        row(
            names,
            &[
                ("duration", 184.0),
                ("protocol_type=tcp", 1.0),
                ("service=telnet", 1.0),
                ("flag=SF", 1.0),
                ("src_bytes", 1511.0),
                ("dst_bytes", 2957.0),
                ("hot", 3.0),
                ("logged_in", 1.0),
                ("root_shell", 1.0),
            ],
        ),
    ];
    assert_eq!(rows(&train), expected);
    assert_eq!(report.rows, 5);
    assert_eq!((report.non_finite(), report.unseen_categories), (0, 0));
    assert_eq!(report.unused_columns, ["difficulty_level"]);
    assert_eq!(encoding.vocabulary("service").unwrap(), ["eco_i", "http", "private", "telnet"]);
    assert_eq!(encoding.vocabulary("duration"), None);

    let (test, report) = load_with(&encoding, fixture("nsl_kdd_test.txt")).unwrap();
    assert_eq!(test.feature_names(), names);
    // saint and apache2 never occur in the training file, but the mapping is the format's.
    assert_eq!(test.labels(), [0, 2, 1]);
    let expected = [
        row(
            names,
            &[
                ("protocol_type=tcp", 1.0),
                ("service=http", 1.0),
                ("flag=SF", 1.0),
                ("src_bytes", 300.0),
                ("dst_bytes", 2000.0),
                ("logged_in", 1.0),
            ],
        ),
        // urp_i is not in the training vocabulary: the service block stays all zero.
        row(names, &[("protocol_type=icmp", 1.0), ("flag=SF", 1.0), ("src_bytes", 36.0)]),
        row(
            names,
            &[
                ("duration", 5.0),
                ("protocol_type=tcp", 1.0),
                ("service=telnet", 1.0),
                ("flag=S0", 1.0),
            ],
        ),
    ];
    assert_eq!(rows(&test), expected);
    assert_eq!(report.unseen_categories, 1);
    assert_eq!(
        report.unseen_by_column,
        BTreeMap::from([("service".to_owned(), BTreeMap::from([("urp_i".to_owned(), 1)]))])
    );
}

#[test]
fn unsw_nb15_attack_cat_target_with_spelling_variants() {
    let spec = Spec::UnswNb15 { target: UnswTarget::AttackCat };
    let (train, encoding, report) = load_train(&spec, fixture("unsw_nb15_train.csv")).unwrap();
    let names = train.feature_names();
    assert_eq!(
        names[..10],
        [
            "dur",
            "proto=arp",
            "proto=tcp",
            "proto=udp",
            "service=-",
            "service=ftp",
            "service=http",
            "state=FIN",
            "state=INT",
            "spkts",
        ]
    );
    assert_eq!(names.len(), 39 + 3 + 3 + 2);
    for target in ["id", "attack_cat", "label"] {
        assert!(!names.iter().any(|n| n == target), "{target} must not be a feature");
    }
    assert_eq!(
        train.classes().names(),
        [
            "Normal",
            "Analysis",
            "Backdoor",
            "DoS",
            "Exploits",
            "Fuzzers",
            "Generic",
            "Reconnaissance",
            "Shellcode",
            "Worms"
        ]
    );
    // " Fuzzers " and "backdoors" are the same classes as "Fuzzers" and "Backdoor".
    assert_eq!(train.labels(), [0, 5, 2, 0]);
    assert_eq!(column(&train, "dur"), [0.5, 1.5, 2.5, 0.0]);
    assert_eq!(column(&train, "sbytes"), [496.0, 1000.0, 800.0, 46.0]);
    assert_eq!(column(&train, "dbytes"), [0.0, 20000.0, 0.0, 0.0]);
    assert_eq!(column(&train, "proto=tcp"), [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(column(&train, "state=INT"), [1.0, 0.0, 0.0, 1.0]);
    assert_eq!(report.unused_columns, ["id", "label"]);

    let (test, report) = load_with(&encoding, fixture("unsw_nb15_test.csv")).unwrap();
    assert_eq!(test.labels(), [9, 0]);
    assert_eq!(
        rows(&test),
        [
            row(
                names,
                &[
                    ("dur", 3.0),
                    ("service=-", 1.0),
                    ("state=INT", 1.0),
                    ("spkts", 4.0),
                    ("sbytes", 200.0)
                ]
            ),
            row(names, &[("dur", 0.25), ("proto=udp", 1.0), ("spkts", 2.0), ("sbytes", 146.0)]),
        ]
    );
    assert_eq!(report.unseen_categories, 3);
    let unseen: Vec<(&str, Vec<&str>)> = report
        .unseen_by_column
        .iter()
        .map(|(c, values)| (c.as_str(), values.keys().map(String::as_str).collect()))
        .collect();
    assert_eq!(unseen, [("proto", vec!["sctp"]), ("service", vec!["dns"]), ("state", vec!["CON"])]);
}

#[test]
fn unsw_nb15_binary_target_drops_attack_cat() {
    let spec = Spec::UnswNb15 { target: UnswTarget::Label };
    let (train, encoding, report) = load_train(&spec, fixture("unsw_nb15_train.csv")).unwrap();
    assert_eq!(train.classes().names(), ["normal", "attack"]);
    assert_eq!(train.labels(), [0, 1, 1, 0]);
    assert_eq!(train.n_features(), 47);
    assert!(!train.feature_names().iter().any(|n| n.starts_with("attack_cat") || n == "label"));
    assert_eq!(report.unused_columns, ["id", "attack_cat"]);
    assert_eq!(encoding.label_column(), "label");
    let (test, _) = load_with(&encoding, fixture("unsw_nb15_test.csv")).unwrap();
    assert_eq!(test.labels(), [1, 0]);
}

#[test]
fn cic_ids2017_trims_headers_drops_identifiers_and_replaces_non_finite_values() {
    let (train, encoding, report) =
        load_train(&Spec::CicIds2017, fixture("cic_ids2017_train.csv")).unwrap();
    let names = train.feature_names();
    assert_eq!(names.len(), 85 - 6 - 1);
    assert_eq!(names[..3], ["Protocol", "Flow Duration", "Total Fwd Packets"]);
    assert_eq!(names.last().unwrap(), "Idle Min");
    assert!(names.iter().all(|n| n.trim() == n));
    for gone in [
        "Flow ID",
        "Source IP",
        "Source Port",
        "Destination IP",
        "Destination Port",
        "Timestamp",
        "Label",
    ] {
        assert!(!names.iter().any(|n| n == gone), "{gone} must not be a feature");
    }
    assert_eq!(column(&train, "Fwd Header Length"), [40.0, 64.0, 20.0, 80.0]);
    assert_eq!(column(&train, "Fwd Header Length.1"), [40.0, 64.0, 20.0, 80.0]);
    // "BENIGN" and " BENIGN" are one class, first; the rest sorted.
    assert_eq!(train.classes().names(), ["BENIGN", "DDoS", "PortScan"]);
    assert_eq!(train.labels(), [0, 1, 2, 0]);
    // Infinity -> largest finite training value of the column; NaN -> 0.
    assert_eq!(column(&train, "Flow Bytes/s"), [4_000_000.0, 4_000_000.0, 0.0, 12.0]);
    assert_eq!(column(&train, "Flow Packets/s"), [666_666.7, 666_666.7, 666_666.7, 4.0]);
    assert_eq!((report.infinite, report.nan), (3, 1));
    assert_eq!(
        report.non_finite_by_column,
        BTreeMap::from([("Flow Bytes/s".to_owned(), 2), ("Flow Packets/s".to_owned(), 2)])
    );
    assert_eq!(
        report.unused_columns,
        ["Flow ID", "Source IP", "Source Port", "Destination IP", "Destination Port", "Timestamp"]
    );
    train.check_finite().unwrap();

    let (test, report) = load_with(&encoding, fixture("cic_ids2017_test.csv")).unwrap();
    assert_eq!(test.labels(), [1, 0]);
    // The replacements are the training file's, not the test file's: -Infinity -> 4.
    assert_eq!(column(&test, "Flow Bytes/s"), [4_000_000.0, 0.0]);
    assert_eq!(column(&test, "Flow Packets/s"), [4.0, 1.0]);
    assert_eq!((report.infinite, report.nan), (2, 1));
    test.check_finite().unwrap();
}

#[test]
fn generic_csv_matches_columns_by_name_and_puts_normal_first() {
    let spec = Spec::Csv(CsvSpec::new("class").categorical(["proto"]).ignore(["id"]));
    let (train, encoding, report) = load_train(&spec, fixture("generic_train.csv")).unwrap();
    assert_eq!(
        train.feature_names(),
        ["proto=icmp", "proto=tcp", "proto=udp", "bytes", "duration"]
    );
    assert_eq!(train.classes().names(), ["normal", "attack", "scan"]);
    assert_eq!(train.labels(), [0, 1, 1, 2]);
    let expected: Array2<f32> = array![
        [0.0, 1.0, 0.0, 100.0, 0.5],
        [0.0, 0.0, 1.0, 200.0, 1.5],
        [0.0, 1.0, 0.0, 300.0, 2.5],
        [1.0, 0.0, 0.0, 400.0, -1.0],
    ];
    assert_eq!(train.features(), expected);
    assert_eq!(report.unused_columns, ["id"]);

    let (test, report) = load_with(&encoding, fixture("generic_test.csv")).unwrap();
    assert_eq!(
        test.features(),
        array![[0.0_f32, 0.0, 0.0, 500.0, 3.0], [0.0, 0.0, 1.0, 50.0, 0.25]]
    );
    assert_eq!(test.labels(), [2, 0]);
    assert_eq!(report.unused_columns, ["extra", "id"]);
    assert_eq!(report.unseen_categories, 1);
    assert_eq!(
        report.to_string(),
        format!(
            "{}: 2 rows; 0 infinite and 0 NaN values replaced; 1 unseen categories",
            fixture("generic_test.csv").display()
        )
    );
}

#[test]
fn gzip_input_gives_the_same_dataset_for_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let specs = [
        (Spec::NslKdd, "nsl_kdd_train.txt"),
        (Spec::UnswNb15 { target: UnswTarget::AttackCat }, "unsw_nb15_train.csv"),
        (Spec::CicIds2017, "cic_ids2017_train.csv"),
        (Spec::Csv(CsvSpec::new("class").categorical(["proto"])), "generic_train.csv"),
    ];
    for (spec, name) in specs {
        let plain = fixture(name);
        let gz = dir.path().join(format!("{name}.GZ"));
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        encoder.write_all(&std::fs::read(&plain).unwrap()).unwrap();
        encoder.finish().unwrap();
        let (a, enc_a, _) = load_train(&spec, &plain).unwrap();
        let (b, enc_b, _) = load_train(&spec, &gz).unwrap();
        assert_eq!(a, b, "{name}");
        assert_eq!(enc_a, enc_b, "{name}");
        assert_eq!(load_with(&enc_a, &gz).unwrap().0, a, "{name}");
    }
}

#[test]
fn encoding_survives_serialisation() {
    let (train, encoding, _) =
        load_train(&Spec::CicIds2017, fixture("cic_ids2017_train.csv")).unwrap();
    let json = serde_json::to_string(&encoding).unwrap();
    let back: vigil_datasets::Encoding = serde_json::from_str(&json).unwrap();
    assert_eq!(back, encoding);
    assert_eq!(back.spec().kind(), DatasetKind::CicIds2017);
    let (again, _) = load_with(&back, fixture("cic_ids2017_train.csv")).unwrap();
    assert_eq!(again, train);
}

#[test]
fn loading_the_training_file_with_its_encoding_reproduces_it() {
    for (spec, name) in [
        (Spec::NslKdd, "nsl_kdd_train.txt"),
        (Spec::UnswNb15 { target: UnswTarget::Label }, "unsw_nb15_train.csv"),
        (
            Spec::Csv(CsvSpec::new("class").categorical(["proto"]).ignore(["id"])),
            "generic_train.csv",
        ),
    ] {
        let (train, encoding, _) = load_train(&spec, fixture(name)).unwrap();
        let (again, report) = load_with(&encoding, fixture(name)).unwrap();
        assert_eq!(again, train, "{name}");
        assert_eq!(report.unseen_categories, 0, "{name}");
    }
}
