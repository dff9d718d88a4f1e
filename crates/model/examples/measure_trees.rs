//! Measures both tree ensembles on NSL-KDD (or UNSW-NB15): validation accuracy, macro-F1
//! and per-class recall, fit seconds and batch `predict_proba` rows/s, in wall and CPU time.
//!
//! ```text
//! cargo run --release -p vigil-model --example measure_trees -- [FILE] [gbdt|forest|both] [SEED] [POWER]
//! ```
//!
//! FILE defaults to `KDDTrain+.txt` in ../shared/datasets/nsl-kdd; a `.csv` is read as
//! UNSW-NB15 from ../shared/datasets/unsw-nb15. Split: a stratified 20% validation set
//! (seed SEED, default 42); the boosting stops early on a further stratified 10% of the
//! training rows, so the validation rows never steer a fit. POWER > 0 weights each class by
//! `(n / (K * count))^POWER` (0, the default, is unweighted; 1 is "balanced").
#![allow(missing_docs, clippy::print_stdout)]

#[path = "../tests/it/nsl_kdd.rs"]
mod nsl_kdd;

use std::time::Instant;

use vigil_core::Dataset;
use vigil_core::metrics::ConfusionMatrix;
use vigil_model::{Classifier, Fit, ForestParams, GbdtParams};

/// CPU seconds of this process so far (user + system, all threads), from /proc: on a shared
/// machine this measures the work done, where wall time also measures the neighbours.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 =
        fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    ticks / 100.0
}

fn report(name: &str, model: &impl Classifier, fit: (f64, f64), valid: &Dataset) {
    let x = valid.features();
    // Warm up once, then time a few batches.
    let predicted = model.predict(x).unwrap();
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let repeats = 5;
    for _ in 0..repeats {
        std::hint::black_box(model.predict_proba(x).unwrap());
    }
    let rows = (repeats * x.nrows()) as f64;
    let (wall, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let cm = ConfusionMatrix::new(valid.classes().len(), valid.labels(), &predicted).unwrap();
    let recalls: Vec<String> = cm.recalls().iter().map(|r| format!("{r:.3}")).collect();
    println!(
        "{name}: accuracy {:.4}, macro-F1 {:.4}, recalls [{}]\n  fit {:.2} s wall, {:.2} s CPU; \
         predict_proba {:.0} rows/s wall, {:.0} rows per CPU-second",
        cm.accuracy(),
        cm.macro_f1(),
        recalls.join(", "),
        fit.0,
        fit.1,
        rows / wall,
        rows / cpu,
    );
}

/// Class weights `(n / (K * count))^power` per row (`None` for power 0): 1 is "balanced".
fn balanced_weights(data: &Dataset, power: f64) -> Option<Vec<f32>> {
    if power == 0.0 {
        return None;
    }
    let counts = data.class_counts();
    let (n, k) = (data.n_rows() as f64, counts.len() as f64);
    let class_weight: Vec<f32> = counts
        .iter()
        .map(|&c| if c == 0 { 0.0 } else { (n / (k * c as f64)).powf(power) as f32 })
        .collect();
    Some(data.labels().iter().map(|&y| class_weight[y]).collect())
}

/// UNSW-NB15's CSV (header row): `id` and the binary `label` dropped, `proto`, `service` and
/// `state` one-hot (sorted vocabulary), `attack_cat` the class (Normal + 9 attacks).
fn load_unsw(path: &std::path::Path) -> Dataset {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header row").split(',').collect();
    let rows: Vec<Vec<&str>> =
        lines.filter(|l| !l.is_empty()).map(|l| l.split(',').collect()).collect();
    let categorical = ["proto", "service", "state"];
    let (label, binary) = (header.len() - 2, header.len() - 1);
    let mut vocab: Vec<Vec<&str>> = Vec::new();
    let mut names = Vec::new();
    for (c, &name) in header.iter().enumerate().take(label).skip(1) {
        if categorical.contains(&name) {
            let mut v: Vec<&str> = rows.iter().map(|r| r[c]).collect();
            v.sort_unstable();
            v.dedup();
            names.extend(v.iter().map(|value| format!("{name}={value}")));
            vocab.push(v);
        } else {
            vocab.push(Vec::new());
            names.push(name.to_owned());
        }
    }
    assert_eq!(header[binary], "label");
    let classes = vigil_core::ClassSet::new([
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
    ])
    .unwrap();
    let mut x = ndarray::Array2::<f32>::zeros((rows.len(), names.len()));
    let mut labels = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let mut j = 0;
        for (c, v) in vocab.iter().enumerate() {
            let value = row[c + 1];
            if v.is_empty() {
                x[[i, j]] =
                    value.parse().unwrap_or_else(|e| panic!("row {i}, column {}: {e}", c + 1));
                j += 1;
            } else {
                x[[i, j + v.binary_search(&value).unwrap()]] = 1.0;
                j += v.len();
            }
        }
        labels.push(classes.parse(row[label]).unwrap());
    }
    Dataset::new(x, labels, names, classes).unwrap()
}

fn main() {
    let file = std::env::args().nth(1).unwrap_or_else(|| "KDDTrain+.txt".into());
    let which = std::env::args().nth(2).unwrap_or_else(|| "both".into());
    let start = Instant::now();
    let data = if std::path::Path::new(&file).extension().is_some_and(|e| e == "csv") {
        load_unsw(&nsl_kdd::dir().join("../unsw-nb15").join(&file))
    } else {
        nsl_kdd::load(&file)
    };
    println!(
        "{file}: {} rows x {} features, class counts {:?}, loaded in {:.2} s, {} rayon threads",
        data.n_rows(),
        data.n_features(),
        data.class_counts(),
        start.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    let seed: u64 = std::env::args().nth(3).map_or(42, |s| s.parse().expect("SEED is an integer"));
    let power: f64 = std::env::args().nth(4).map_or(0.0, |s| s.parse().expect("POWER is a number"));
    let (train, valid) = data.stratified_split(0.2, seed).unwrap();
    if which == "gbdt" || which == "both" {
        let (fit, stop) = train.stratified_split(0.1, seed + 1).unwrap();
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let weights = balanced_weights(&fit, power);
        let model = GbdtParams::new().fit_weighted(&fit, weights.as_deref(), Some(&stop)).unwrap();
        let seconds = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
        println!(
            "gbdt: {} rounds kept of {} run, {} leaves",
            model.n_rounds(),
            model.validation_loss().len(),
            model.n_leaves()
        );
        report("gbdt", &model, seconds, &valid);
    }
    if which == "forest" || which == "both" {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let weights = balanced_weights(&train, power);
        let model = ForestParams::new().fit_weighted(&train, weights.as_deref(), None).unwrap();
        let seconds = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
        println!("forest: {} trees, {} leaves", model.n_trees(), model.n_leaves());
        report("forest", &model, seconds, &valid);
    }
}
