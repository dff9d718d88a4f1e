//! Bad input: every error names the file, the 1-based line and the column or label; nothing
//! panics.

use std::path::{Path, PathBuf};

use vigil_datasets::{CsvSpec, DatasetError, Spec, UnswTarget, load_train, load_with};

use crate::fixture;

/// Writes `content` to `name` in a fresh directory (kept alive by the returned guard).
fn file(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    (dir, path)
}

/// Asserts that the message starts with the path and contains every needle.
fn check(err: &DatasetError, path: &Path, needles: &[&str]) {
    let text = err.to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} not in {text:?}");
    }
}

/// The fixture's lines with line `n` (1-based) replaced.
fn with_line(name: &str, n: usize, replacement: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[n - 1] = replacement;
    (lines.join("\n") + "\n").into_bytes()
}

fn nsl_line(change: impl FnOnce(&mut Vec<String>)) -> String {
    let text = std::fs::read_to_string(fixture("nsl_kdd_train.txt")).unwrap();
    let mut fields: Vec<String> =
        text.lines().next().unwrap().split(',').map(String::from).collect();
    change(&mut fields);
    fields.join(",")
}

#[test]
fn truncated_line_names_line_and_counts() {
    let truncated = nsl_line(|f| f.truncate(20));
    let (_dir, path) = file("KDDTrain+.txt", &with_line("nsl_kdd_train.txt", 3, &truncated));
    let err = load_train(&Spec::NslKdd, &path).unwrap_err();
    check(&err, &path, &[":3: expected 43 columns, found 20"]);

    // A last line cut off mid-record, without a newline.
    let mut content = std::fs::read(fixture("nsl_kdd_train.txt")).unwrap();
    content.extend_from_slice(b"0,tcp,http,SF,2");
    let (_dir, path) = file("cut.txt", &content);
    check(
        &load_train(&Spec::NslKdd, &path).unwrap_err(),
        &path,
        &[":6: expected 43 columns, found 5"],
    );
}

#[test]
fn extra_column_in_a_header_file_is_an_error() {
    let (_dir, path) = file("g.csv", b"a,class\n1,x\n2,y,3\n");
    let err = load_train(&Spec::Csv(CsvSpec::new("class")), &path).unwrap_err();
    check(&err, &path, &[":3: expected 2 columns, found 3"]);
}

#[test]
fn non_numeric_value_names_line_column_and_value() {
    let bad = nsl_line(|f| f[4] = "12x".into());
    let (_dir, path) = file("train.txt", &with_line("nsl_kdd_train.txt", 2, &bad));
    let err = load_train(&Spec::NslKdd, &path).unwrap_err();
    check(&err, &path, &[":2: column 5 (src_bytes): \"12x\" is not a number"]);

    let (_dir, path) = file("g.csv", b"id,bytes,class\n1,3,a\n2,,b\n");
    let err = load_train(&Spec::Csv(CsvSpec::new("class")), &path).unwrap_err();
    check(&err, &path, &[":3: column 2 (bytes): \"\" is not a number"]);
}

#[test]
fn unknown_label_names_label_line_and_column() {
    let bad = nsl_line(|f| f[41] = "zeroday".into());
    let (_dir, path) = file("train.txt", &with_line("nsl_kdd_train.txt", 4, &bad));
    let err = load_train(&Spec::NslKdd, &path).unwrap_err();
    check(
        &err,
        &path,
        &[":4: column 42 (label): unknown label \"zeroday\"", "normal, DoS, Probe, R2L, U2R"],
    );

    // UNSW-NB15 categories are fixed too.
    let content = with_line("unsw_nb15_train.csv", 3, &{
        let text = std::fs::read_to_string(fixture("unsw_nb15_train.csv")).unwrap();
        text.lines().nth(2).unwrap().replace(" Fuzzers ", "Ransomware")
    });
    let (_dir, path) = file("unsw.csv", &content);
    let err = load_train(&Spec::UnswNb15 { target: UnswTarget::AttackCat }, &path).unwrap_err();
    check(&err, &path, &[":3: column 44 (attack_cat): unknown label \"Ransomware\""]);

    // A fitted class set rejects labels the training file did not have.
    let (_, encoding, _) = load_train(&Spec::CicIds2017, fixture("cic_ids2017_train.csv")).unwrap();
    let text = std::fs::read_to_string(fixture("cic_ids2017_test.csv")).unwrap();
    let (_dir, path) = file("cic.csv", text.replace(",benign\n", ",Bot\n").as_bytes());
    let err = load_with(&encoding, &path).unwrap_err();
    check(&err, &path, &[":3: column 85 (Label): unknown label \"Bot\"", "BENIGN, DDoS, PortScan"]);
}

#[test]
fn missing_header_columns_are_named() {
    let text = std::fs::read_to_string(fixture("unsw_nb15_train.csv")).unwrap();
    let (_dir, path) = file("unsw.csv", text.replace(",attack_cat,", ",category,").as_bytes());
    let err = load_train(&Spec::UnswNb15 { target: UnswTarget::AttackCat }, &path).unwrap_err();
    check(&err, &path, &[":1: the header has no column \"attack_cat\""]);

    let (_dir, path) = file("unsw.csv", text.replace(",state,", ",status,").as_bytes());
    let err = load_train(&Spec::UnswNb15 { target: UnswTarget::Label }, &path).unwrap_err();
    check(&err, &path, &[":1: the header has no column \"state\""]);

    // Columns named in a generic CSV spec must exist: a typo is not silently a feature.
    let spec = Spec::Csv(CsvSpec::new("class").categorical(["proto"]).ignore(["ID"]));
    let err = load_train(&spec, fixture("generic_train.csv")).unwrap_err();
    check(&err, &fixture("generic_train.csv"), &[":1: the header has no column \"ID\""]);

    // A test file lacking a feature the encoding was fitted with.
    let spec = Spec::Csv(CsvSpec::new("class").categorical(["proto"]).ignore(["id"]));
    let (_, encoding, _) = load_train(&spec, fixture("generic_train.csv")).unwrap();
    let (_dir, path) = file("test.csv", b"class,proto,bytes\nnormal,tcp,1\n");
    check(
        &load_with(&encoding, &path).unwrap_err(),
        &path,
        &[":1: the header has no column \"duration\""],
    );
}

#[test]
fn missing_empty_and_header_only_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let err = load_train(&Spec::CicIds2017, &missing).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }));
    check(&err, &missing, &["No such file"]);

    let header = std::fs::read_to_string(fixture("unsw_nb15_train.csv")).unwrap();
    let header = header.lines().next().unwrap().to_owned() + "\n";
    let unsw = Spec::UnswNb15 { target: UnswTarget::AttackCat };
    for (spec, content) in [
        (Spec::NslKdd, ""),
        (Spec::NslKdd, "\n\n"),
        (unsw.clone(), ""),
        (unsw, header.as_str()),
        (Spec::Csv(CsvSpec::new("y")), "x,y\n,\n"),
    ] {
        let (_dir, path) = file("empty.csv", content.as_bytes());
        let err = load_train(&spec, &path).unwrap_err();
        assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
        check(&err, &path, &["no data rows"]);
    }

    let (_, encoding, _) = load_train(&Spec::NslKdd, fixture("nsl_kdd_train.txt")).unwrap();
    let (_dir, path) = file("empty.txt", b"");
    check(&load_with(&encoding, &path).unwrap_err(), &path, &["no data rows"]);
}

#[test]
fn non_utf8_bytes_give_errors_or_replacement_characters_not_panics() {
    let bad = nsl_line(|f| f[0] = "\u{1}".into()).replace('\u{1}', "\u{fffd}");
    let mut content = with_line("nsl_kdd_train.txt", 5, &bad);
    // Turn the replacement character back into a raw invalid byte.
    let at = content.windows(3).position(|w| w == "\u{fffd}".as_bytes()).unwrap();
    content.splice(at..at + 3, [0xff]);
    let (_dir, path) = file("train.txt", &content);
    let err = load_train(&Spec::NslKdd, &path).unwrap_err();
    check(&err, &path, &[":5: column 1 (duration): \"\u{fffd}\" is not a number"]);

    // In a label or a header, invalid bytes are replaced: the Windows-1252 dash that real
    // CIC-IDS2017 files have in "Web Attack \x96 Brute Force".
    let (_dir, path) = file("web.csv", b"x\xff,Label\n1,BENIGN\n2,Web Attack \x96 Brute Force\n");
    let (data, encoding, _) = load_train(&Spec::CicIds2017, &path).unwrap();
    assert_eq!(data.classes().names(), ["BENIGN", "Web Attack \u{fffd} Brute Force"]);
    assert_eq!(data.feature_names(), ["x\u{fffd}"]);
    assert_eq!(load_with(&encoding, &path).unwrap().0, data);
}

#[test]
fn corrupt_gzip_is_an_io_error_naming_the_file() {
    let (_dir, path) = file("train.txt.gz", b"0,tcp,http,SF\n");
    let err = load_train(&Spec::NslKdd, &path).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }), "{err}");
    check(&err, &path, &[]);
}

#[test]
fn every_truncation_of_every_fixture_loads_or_fails_cleanly() {
    let unsw = Spec::UnswNb15 { target: UnswTarget::AttackCat };
    let csv = Spec::Csv(CsvSpec::new("class").categorical(["proto"]).ignore(["id"]));
    for (spec, name) in [
        (Spec::NslKdd, "nsl_kdd_train.txt"),
        (unsw, "unsw_nb15_train.csv"),
        (Spec::CicIds2017, "cic_ids2017_train.csv"),
        (csv, "generic_train.csv"),
    ] {
        let (_, encoding, _) = load_train(&spec, fixture(name)).unwrap();
        let content = std::fs::read(fixture(name)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let mut loaded = 0;
        for end in 0..content.len() {
            std::fs::write(&path, &content[..end]).unwrap();
            // Errors are fine; panics and silently wrong widths are not.
            if let Ok((data, _, _)) = load_train(&spec, &path) {
                loaded += 1;
                data.check_finite().unwrap();
            }
            if let Ok((data, _)) = load_with(&encoding, &path) {
                assert_eq!(data.n_features(), encoding.n_features());
            }
        }
        assert!(loaded > 0, "{name}: no prefix loaded");
    }
}
