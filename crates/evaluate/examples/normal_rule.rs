//! Is Normal better as the decision rule's fallback or as a fitted class? Trains the default
//! recipe on simulated entities (as the bootstrap does), then decides three ways on the
//! same calibrated probabilities:
//!
//! - `fallback` (vigil's rule): attack classes pass their fitted thresholds, the largest
//!   margin wins, no candidate means Normal (Normal's threshold is 1);
//! - `normal fitted`: Normal gets a one-vs-rest F1 threshold fitted on the same validation
//!   rows and competes like an attack class; no candidate still means Normal;
//! - `nearest bar`: the same thresholds, and with no candidate the class closest to its
//!   threshold wins (`argmax p - t` over every class), so Normal is never a default.
//!
//! Scored on the simulator's own holdout, on a difficulty-3 stream (other seed) and on the
//! weak-labelled sources of the real Cowrie logs (agreement; every real source is hostile,
//! so the Normal share is a miss rate).
//!
//! ```sh
//! cargo run --release -p vigil-evaluate --example normal_rule -- 7
//! ```
//! (seed)

#![allow(clippy::print_stdout, reason = "an example prints its measurement")]

use ndarray::ArrayView2;
use vigil_core::ClassSet;
use vigil_core::metrics::ConfusionMatrix;
use vigil_datasets::simulate::{SimParams, simulate};
use vigil_evaluate::{SimulatedModel, feature_rows, simulated_model};
use vigil_features::{Featurizer, Format, group_by_source, parse_file};
use vigil_thresholds::{ThresholdParams, Thresholds};

const LOGS: [&str; 3] = [
    "cowrie/cowrie_kareiva_2018-05-06_to_2018-07-02.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-04.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-15_partial.json.gz",
];

/// The three rules' decisions for every row.
fn decide(probs: ArrayView2<'_, f32>, attacks: &Thresholds, normal: f32) -> [Vec<usize>; 3] {
    let mut competing = attacks.per_class().to_vec();
    competing[0] = normal;
    let mut out = [Vec::new(), Vec::new(), Vec::new()];
    for row in probs.rows() {
        out[0].push(attacks.decide(row.as_slice().expect("contiguous")).class);
        let margins: Vec<f32> = row.iter().zip(&competing).map(|(p, t)| p - t).collect();
        let best = (0..margins.len())
            .max_by(|&a, &b| margins[a].total_cmp(&margins[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        let passed = margins[best] >= 0.0;
        out[1].push(if passed { best } else { 0 });
        out[2].push(best);
    }
    out
}

fn main() {
    let seed = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let featurizer = Featurizer::default();
    let threat = ClassSet::threat();
    let k = threat.len();
    let SimulatedModel { artifact, validation, holdout } =
        simulated_model(3000, 1, seed).expect("simulate and train");
    // Normal's one-vs-rest threshold: fit with another class as the unfitted one.
    let val_probs = artifact.probabilities(validation.features()).expect("probabilities");
    let normal_fit = vigil_thresholds::fit(
        val_probs.view(),
        validation.labels(),
        &ThresholdParams { normal_class: 1, refine: false, ..ThresholdParams::default() },
    )
    .expect("fit");
    let t_normal = normal_fit.thresholds.per_class()[0];
    println!(
        "seed {seed}: thresholds {:?}, Normal fitted {t_normal:.3}",
        artifact.thresholds.per_class()
    );

    let report = |what: &str, x: ArrayView2<'_, f32>, truth: &[usize]| {
        let probs = artifact.probabilities(x).expect("probabilities");
        let rules = decide(probs.view(), &artifact.thresholds, t_normal);
        for (rule, predicted) in ["fallback", "normal fitted", "nearest bar"].iter().zip(&rules) {
            let f1 = ConfusionMatrix::new(k, truth, predicted).expect("confusion").macro_f1();
            let normal = predicted.iter().filter(|&&c| c == 0).count() as f64 / truth.len() as f64;
            println!("| {what} | {rule} | {f1:.4} | {:.1}% |", 100.0 * normal);
        }
    };
    println!("| data | rule | macro-F1 or agreement | called Normal |\n|---|---|---|---|");
    report("simulator holdout, difficulty 1", holdout.features(), holdout.labels());
    let stream = simulate(&SimParams::new(2000, 3, seed + 1000)).expect("simulate");
    let truth: Vec<usize> = stream.iter().map(|e| e.label).collect();
    let x3 = feature_rows(&featurizer, stream.into_iter().map(|e| e.events));
    report("simulator stream, difficulty 3", x3.view(), &truth);

    let root = std::path::Path::new("../shared/datasets");
    let root = if root.exists() {
        root.to_owned()
    } else {
        std::path::PathBuf::from("../../../shared/datasets")
    };
    let mut events = Vec::new();
    for log in LOGS {
        events.extend(parse_file(Format::Cowrie, root.join(log)).expect("a Cowrie log").events);
    }
    let weak = vigil_evaluate::weak_labels(&events);
    let sources = group_by_source(events);
    let ips: Vec<_> = sources.keys().copied().collect();
    let xr = feature_rows(&featurizer, sources.into_values());
    let probs = artifact.probabilities(xr.view()).expect("probabilities");
    let rules = decide(probs.view(), &artifact.thresholds, t_normal);
    for (rule, predicted) in ["fallback", "normal fitted", "nearest bar"].iter().zip(&rules) {
        let (mut labelled, mut agree) = (0_usize, 0_usize);
        for (ip, &class) in ips.iter().zip(predicted) {
            if let Some(&w) = weak.get(ip) {
                labelled += 1;
                agree += usize::from(threat.name(class) == Some(vigil_evaluate::WEAK_CLASSES[w]));
            }
        }
        let normal = predicted.iter().filter(|&&c| c == 0).count() as f64 / ips.len() as f64;
        println!(
            "| real Cowrie sources ({}; {labelled} weak-labelled) | {rule} | {:.4} | {:.1}% |",
            ips.len(),
            agree as f64 / labelled as f64,
            100.0 * normal
        );
    }
}
