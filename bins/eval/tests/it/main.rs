//! End-to-end tests of the `vigil-eval` binary: flags in, report and exit code out.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output};

fn eval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil-eval")).args(args).output().expect("run vigil-eval")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn balance_reports_counts_before_and_after_and_writes_rows() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.csv");
    // 4 normal, 3 scan, 1 brute: SMOTE brings scan to 4 and must fall back for brute.
    let rows = ["0,0,normal", "0,1,normal", "1,0,normal", "1,1,normal"].into_iter().chain([
        "5,5,scan",
        "5,6,scan",
        "6,5,scan",
        "9,9,brute",
    ]);
    std::fs::write(&train, format!("a,b,label\n{}\n", rows.collect::<Vec<_>>().join("\n")))
        .unwrap();
    let out = dir.path().join("balanced.csv");
    let output = eval(&[
        "balance",
        "--dataset",
        "csv",
        "--train",
        train.to_str().unwrap(),
        "--method",
        "smote",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(text.contains("method: smote"), "{text}");
    let counts = |name: &str| -> Vec<String> {
        let line =
            text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}:\n{text}"));
        line.split_whitespace().skip(1).map(str::to_owned).collect()
    };
    assert_eq!(counts("normal"), ["4", "4"]);
    assert_eq!(counts("scan"), ["3", "4"]);
    assert_eq!(counts("brute"), ["1", "4"]);
    assert_eq!(counts("total"), ["8", "12"]);
    assert!(text.contains("fallback for brute"), "{text}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().count(), 1 + 12, "header and twelve rows:\n{written}");
    assert_eq!(written.lines().next().unwrap(), "a,b,label");
    assert_eq!(written.lines().filter(|l| l.ends_with(",brute")).count(), 4);
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let output = eval(&["balance", "--dataset", "nsl-kdd", "--train", "/nonexistent/kdd.txt"]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("/nonexistent/kdd.txt"), "{err}");

    let output = eval(&["balance", "--dataset", "kdd99"]);
    assert_eq!(output.status.code(), Some(2), "clap's usage errors also exit 2");
    assert!(String::from_utf8_lossy(&output.stderr).contains("kdd99"));
}

/// A separable 3-class CSV of `n` rows (classes 60% / 30% / 10%), seeded by `offset`.
fn three_class_csv(path: &std::path::Path, n: usize, offset: usize) {
    let mut text = String::from("x,y,noise,label\n");
    for i in 0..n {
        let class = match (i * 7 + offset) % 10 {
            0..=5 => "normal",
            6..=8 => "scan",
            _ => "brute",
        };
        let centre = match class {
            "normal" => 0.0,
            "scan" => 4.0,
            _ => 8.0,
        };
        let jitter = ((i * 37 + offset) % 100) as f64 / 100.0;
        let noise = ((i * 53 + offset) % 17) as f64;
        writeln!(text, "{},{},{noise},{class}", centre + jitter, centre - jitter).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn benchmark_reports_every_ablation_row_and_gates() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, json) =
        (dir.path().join("train.csv"), dir.path().join("test.csv"), dir.path().join("r.json"));
    three_class_csv(&train, 900, 0);
    three_class_csv(&test, 300, 3);
    let md = dir.path().join("r.md");
    let artifact = dir.path().join("best.vigil");
    let base = [
        "benchmark",
        "--dataset",
        "csv",
        "--label",
        "label",
        "--train",
        train.to_str().unwrap(),
        "--test",
        test.to_str().unwrap(),
        "--mlp-epochs",
        "3",
        "--json",
        json.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
        "--artifact",
        artifact.to_str().unwrap(),
    ];
    let output = eval(&[&base[..], &["--min-accuracy", "0.9"]].concat());
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["n_test"], 300, "--test is scored, not a carved split");
    assert_eq!(report["classes"], serde_json::json!(["normal", "brute", "scan"]));
    let rows = report["rows"].as_array().unwrap();
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {}", r["model"].as_str().unwrap(), r["pipeline"].as_str().unwrap()))
        .collect();
    for model in ["mlp", "trees"] {
        for stage in ["baseline", "+balancing", "+loss", "+temperature", "+thresholds"] {
            assert!(names.contains(&format!("{model} {stage}")), "{names:?}");
        }
    }
    for row in rows {
        for field in
            ["accuracy", "macro_f1", "normal_fpr", "ece", "train_seconds", "predict_us_per_row"]
        {
            assert!(row[field].as_f64().is_some_and(f64::is_finite), "{field} in {row}");
        }
        assert_eq!(
            row["per_class_recall"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["normal", "brute", "scan"]
        );
    }
    assert_eq!(report["best"]["selected_by"], "validation");
    assert!(report["best"]["accuracy"].as_f64().unwrap() > 0.9, "{}", report["best"]);
    assert!(std::fs::read_to_string(&md).unwrap().contains("| trees | +thresholds |"));
    let bytes = std::fs::read(&artifact).unwrap();
    let best = vigil_model::Artifact::from_bytes(&bytes, Some("csv")).unwrap();
    assert_eq!(best.classes.names(), ["normal", "brute", "scan"]);

    // An unreachable gate fails with exit code 1, after writing the same report.
    let output = eval(
        &[&base[..], &["--model", "trees", "--pipeline", "baseline", "--min-macro-f1", "1.01"]]
            .concat(),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("gate failed"));
}

#[test]
fn benchmark_without_test_file_says_it_carved_one() {
    let dir = tempfile::tempdir().unwrap();
    let (train, json) = (dir.path().join("train.csv"), dir.path().join("r.json"));
    three_class_csv(&train, 1000, 1);
    let report = trees_thresholds_report("csv", &train, &json);
    assert!(report["test_source"].as_str().unwrap().contains("carved from --train"));
    assert_eq!(report["n_test"], 200);
    assert_eq!(report["rows"].as_array().unwrap().len(), 1);
}

/// A file of the workspace (fixtures) or of the shared datasets next to it.
fn workspace(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The rows of a CSV written by `features`: header and records.
fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

#[test]
fn simulate_then_features_gives_100_feature_columns_and_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl.gz");
    let args = ["simulate", "--entities", "70", "--difficulty", "2", "--seed", "3", "--out"];
    let output = eval(&[&args[..], &[events.to_str().unwrap()]].concat());
    let text = stdout(&output);
    assert!(output.status.success(), "{text}\n{}", stderr(&output));
    for class in classes_in_order() {
        let line = text.lines().find(|l| l.starts_with(class)).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(line.split_whitespace().rev().nth(1), Some("10"), "{line}");
    }

    // The same seed writes the same bytes.
    let again = dir.path().join("again.jsonl.gz");
    assert!(eval(&[&args[..], &[again.to_str().unwrap()]].concat()).status.success());
    assert_eq!(std::fs::read(&events).unwrap(), std::fs::read(&again).unwrap());

    let features = dir.path().join("features.csv");
    let output = eval(&[
        "features",
        "--input",
        events.to_str().unwrap(),
        "--out",
        features.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}\n{}", stderr(&output));
    assert!(text.contains("as jsonl:") && text.contains(" 0 rejected records"), "{text}");
    assert!(text.contains("70 labelled sources") && text.contains("seconds: "), "{text}");

    let (header, rows) = read_csv(&features);
    assert_eq!(header.len(), 1 + 100 + 1);
    assert_eq!((header[0].as_str(), header[101].as_str()), ("entity", "label"));
    assert_eq!(&header[1..101], vigil_features::feature_names());
    assert_eq!(rows.len(), 70);
    let classes = vigil_core::ClassSet::threat();
    for row in &rows {
        assert!(row[0].parse::<std::net::IpAddr>().is_ok(), "{}", row[0]);
        assert!(row[1..101].iter().all(|v| v.parse::<f32>().is_ok_and(f32::is_finite)));
        assert!(classes.names().contains(&row[101]), "{}", row[101]);
    }
    for name in classes.names() {
        assert_eq!(rows.iter().filter(|r| &r[101] == name).count(), 10, "{name}");
    }
}

#[test]
fn features_of_a_real_cowrie_log_rejects_no_line() {
    let log = workspace("../shared/datasets/cowrie/cowrie_scriptzteam_2017-11-04.json.gz");
    assert!(
        log.is_file(),
        "{} is missing: this test reads the shared Cowrie logs next to the workspace",
        log.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cowrie.csv");
    for format in ["cowrie", "auto"] {
        let output = eval(&[
            "features",
            "--input",
            log.to_str().unwrap(),
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
        ]);
        let text = stdout(&output);
        assert!(output.status.success(), "{text}\n{}", stderr(&output));
        assert!(text.contains("as cowrie: ") && text.contains(" 0 rejected records"), "{text}");
        assert!(text.contains("labels: none"), "{text}");
        let (header, rows) = read_csv(&out);
        assert_eq!(header.len(), 101, "no label column for an unlabelled log");
        assert!(rows.len() > 50, "{} entities", rows.len());
    }
}

#[test]
fn features_reads_intel_feeds_given_as_kind_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.csv");
    let input = workspace("fixtures/events/cowrie.json");
    let feed = format!("tor-exits={}", workspace("fixtures/intel/tor_exits.txt").display());
    let output = eval(&[
        "features",
        "--input",
        input.to_str().unwrap(),
        "--feed",
        &feed,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}\n{}", stdout(&output), stderr(&output));
    let (header, rows) = read_csv(&out);
    let tor = header.iter().position(|h| h == "tor_exit_node").unwrap();
    let flag = |ip: &str| rows.iter().find(|r| r[0] == ip).map(|r| r[tor].clone());
    assert_eq!(flag("203.0.113.66").as_deref(), Some("1"));
    assert_eq!(flag("192.0.2.10").as_deref(), Some("0"));

    let output = eval(&[
        "features",
        "--input",
        input.to_str().unwrap(),
        "--feed",
        "tor=x",
        "--out",
        "x.csv",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("tor"), "{}", stderr(&output));
}

#[test]
fn simulate_rejects_a_difficulty_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.jsonl");
    let output = eval(&["simulate", "--difficulty", "4", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("difficulty 4 is not in 0..=3"), "{}", stderr(&output));
    let output = eval(&["simulate", "--class-mix", "1,2", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--class-mix needs 7 weights"), "{}", stderr(&output));
}

fn classes_in_order() -> [&'static str; 7] {
    ["Normal", "DDoS/DoS", "Reconnaissance", "Brute Force", "Web Attack", "Malware/Botnet", "APT"]
}

/// The real CIC-IDS2017 sample (all BENIGN) relabelled by a rule on a real column, so that
/// the CICFlowMeter path (padded headers, `Infinity`, dropped identifier columns) runs
/// through the whole benchmark.
#[test]
fn benchmark_runs_on_cicflowmeter_csv() {
    let sample = workspace(
        "../shared/datasets/cic-ids2017/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX_first299rows.csv",
    );
    let text = std::fs::read_to_string(&sample).expect("the CIC-IDS2017 sample in ../shared");
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let duration_at = header.split(',').position(|h| h.trim() == "Flow Duration").unwrap();
    let mut relabelled = format!("{header}\n");
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let duration: f64 = fields[duration_at].trim().parse().unwrap();
        let label = if duration > 100_000.0 { "DDoS" } else { "BENIGN" };
        writeln!(relabelled, "{},{label}", fields[..fields.len() - 1].join(",")).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let (train, json) = (dir.path().join("cic.csv"), dir.path().join("r.json"));
    std::fs::write(&train, relabelled).unwrap();
    let report = trees_thresholds_report("cic-ids2017", &train, &json);
    assert_eq!(report["classes"], serde_json::json!(["BENIGN", "DDoS"]));
    assert!(report["best"]["accuracy"].as_f64().unwrap() > 0.9, "{}", report["best"]);
}

/// Runs `benchmark --model trees --pipeline thresholds` on `train`, expects success, and
/// returns the JSON report written to `json`.
fn trees_thresholds_report(
    dataset: &str,
    train: &std::path::Path,
    json: &std::path::Path,
) -> serde_json::Value {
    let output = eval(&[
        "benchmark",
        "--dataset",
        dataset,
        "--train",
        train.to_str().unwrap(),
        "--model",
        "trees",
        "--pipeline",
        "thresholds",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

/// `vigil-eval features` writes, per source of a real Cowrie log, exactly the vector the
/// engine holds after ingesting that log in batches, with the feeds of the shared
/// configuration file on both sides.
#[test]
fn features_are_the_vectors_the_engine_serves() {
    let dir = tempfile::tempdir().unwrap();
    let intel = |name: &str| workspace(&format!("../shared/datasets/intel/{name}"));
    let config_text = format!(
        "[intel]\ntor_exits = {:?}\nblocklists = [{:?}]\n",
        intel("torproject_exit-addresses_2024-03-12.txt"),
        intel("firehol_level1_2026-08-22.netset"),
    );
    let config_path = dir.path().join("vigil.toml");
    std::fs::write(&config_path, &config_text).unwrap();
    let log = workspace("../shared/datasets/cowrie/cowrie_scriptzteam_2017-11-15_partial.json.gz");
    let out = dir.path().join("features.csv");
    let output = eval(&[
        "features",
        "--config",
        config_path.to_str().unwrap(),
        "--input",
        log.to_str().unwrap(),
        "--format",
        "cowrie",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}\n{}", stdout(&output), stderr(&output));
    let (header, rows) = read_csv(&out);
    assert_eq!(header[1..=100], *vigil_features::feature_names());

    let mut config = vigil_engine::Config::from_toml(&config_text).unwrap();
    config.database = dir.path().join("vigil.db");
    config.learning.bootstrap.enabled = false;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let served = runtime.block_on(async {
        let engine = vigil_engine::Engine::open(config).await.unwrap();
        let artifact = vigil_retrain::synthetic::tiny_artifact(3);
        engine.set_model(
            vigil_engine::LoadedModel::new("t", serde_json::json!({}), artifact).unwrap(),
        );
        let events = vigil_features::parse_file(vigil_features::Format::Cowrie, &log).unwrap();
        for batch in events.events.chunks(97) {
            engine.ingest(batch.to_vec()).await.unwrap();
        }
        let mut served = Vec::new();
        for row in &rows {
            let view = engine.entity(row[0].parse().unwrap()).await.unwrap();
            served.push(view.features);
        }
        served
    });
    assert!(rows.len() >= 10, "{} sources", rows.len());
    for (row, vector) in rows.iter().zip(&served) {
        for (i, (text, value)) in row[1..=100].iter().zip(vector.as_slice()).enumerate() {
            let written: f32 = text.parse().unwrap();
            assert_eq!(
                written.to_bits(),
                value.to_bits(),
                "{} {}: {text} vs {value}",
                row[0],
                header[i + 1]
            );
        }
    }
}

/// A registry under `dir` whose champion is the tiny synthetic GBDT.
fn registry_with_a_champion(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("registry");
    let registry = vigil_registry::Registry::open(&path).unwrap();
    let artifact = vigil_retrain::synthetic::tiny_artifact(4);
    let info = vigil_registry::NewVersion::for_artifact(
        &artifact,
        serde_json::json!({}),
        serde_json::json!({ "model": "gbdt" }),
        None,
    );
    let manifest = registry.register(&artifact.to_bytes().unwrap(), info).unwrap();
    registry.promote(&manifest.version, "a test champion").unwrap();
    path
}

/// `realcheck` scores a real log with the registry's champion and reports agreement with
/// the weak labels; its gates set the exit code.
#[test]
fn realcheck_reports_agreement_with_weak_labels_and_gates() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry_with_a_champion(dir.path());
    let log = workspace("../shared/datasets/cowrie/cowrie_scriptzteam_2017-11-04.json.gz");
    let json = dir.path().join("check.json");
    let args = [
        "realcheck",
        "--input",
        log.to_str().unwrap(),
        "--registry",
        registry.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    let output = eval(&args);
    assert!(output.status.success(), "{}\n{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).contains("| label | sources | agreeing |"), "{}", stdout(&output));
    let check: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let sources = check["sources"].as_u64().unwrap();
    assert!(sources >= 10, "{check}");
    let verdicts: u64 =
        check["verdicts"].as_object().unwrap().values().filter_map(serde_json::Value::as_u64).sum();
    assert_eq!(verdicts, sources);
    // An impossible gate fails with exit code 1.
    let mut gated = args.to_vec();
    gated.push("--max-normal-share=-1");
    assert_eq!(eval(&gated).status.code(), Some(1));
    // No champion: a clear error, exit 2.
    let empty = dir.path().join("empty");
    let output = eval(&[
        "realcheck",
        "--input",
        log.to_str().unwrap(),
        "--registry",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("has no champion"), "{}", stderr(&output));
}

/// `explain` answers for a log's source and for a features-CSV row, with contributions that
/// add up, and names what is missing.
#[test]
fn explain_shows_contributions_that_add_up_for_a_source_and_a_csv_row() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry_with_a_champion(dir.path());
    let registry = registry.to_str().unwrap();
    let log = workspace("fixtures/events/cowrie.json");
    let log = log.to_str().unwrap();
    let check = |output: &Output| -> serde_json::Value {
        assert!(output.status.success(), "{}\n{}", stdout(output), stderr(output));
        let verdict: serde_json::Value = serde_json::from_str(&stdout(output)).unwrap();
        let e = &verdict["explanation"];
        let all = e["contributions"].as_array().unwrap();
        assert_eq!(all.len(), 100);
        let sum: f64 = all.iter().map(|c| c["contribution"].as_f64().unwrap()).sum();
        let (base, score) = (e["base"].as_f64().unwrap(), e["score"].as_f64().unwrap());
        assert!((base + sum - score).abs() < 1e-4, "{base} + {sum} != {score}");
        verdict
    };
    let by_source = check(&eval(&[
        "explain",
        "--input",
        log,
        "--format",
        "cowrie",
        "--source",
        "192.0.2.10",
        "--registry",
        registry,
        "--top",
        "100",
        "--json",
    ]));
    assert_eq!(by_source["entity"], "192.0.2.10");
    // The same source through a features CSV gives the same explanation.
    let csv = dir.path().join("f.csv");
    let output = eval(&["features", "--input", log, "--out", csv.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let by_row = check(&eval(&[
        "explain",
        "--csv",
        csv.to_str().unwrap(),
        "--entity",
        "192.0.2.10",
        "--registry",
        registry,
        "--top",
        "100",
        "--json",
    ]));
    let score = |v: &serde_json::Value| v["explanation"]["score"].as_f64().unwrap();
    assert!((score(&by_row) - score(&by_source)).abs() < 1e-4, "{by_row} vs {by_source}");
    // The table form, and clear errors.
    let output =
        eval(&["explain", "--input", log, "--source", "192.0.2.10", "--registry", registry]);
    assert!(stdout(&output).contains("| feature | value | contribution |"), "{}", stdout(&output));
    let output =
        eval(&["explain", "--input", log, "--source", "198.51.100.1", "--registry", registry]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no events from 198.51.100.1"), "{}", stderr(&output));
    let output = eval(&[
        "explain",
        "--csv",
        csv.to_str().unwrap(),
        "--entity",
        "nobody",
        "--registry",
        registry,
    ]);
    assert!(stderr(&output).contains("no row for entity nobody"), "{}", stderr(&output));
}
