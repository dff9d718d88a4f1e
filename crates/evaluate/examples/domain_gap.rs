//! The simulator's domain gap: how well a classifier tells simulated honeypot sources from
//! the real ones in the Cowrie logs of ../shared/datasets (ROC AUC on a held-out third;
//! 0.5 = indistinguishable, 1.0 = trivially told apart; the target is <= 0.75).
//!
//! Simulated sources are seen as a Cowrie sensor would log them: only their SSH/Telnet
//! session events (sensors `ssh-1`, `telnet-1`), and only sources with at least one.
//!
//! ```sh
//! cargo run --release -p vigil-evaluate --example domain_gap -- 3000 1 7
//! ```
//! (simulated entities, difficulty, seed)

#![allow(clippy::print_stdout, reason = "an example prints its measurement")]

use ndarray::Array2;
use vigil_core::{ClassSet, Dataset, stratified_split};
use vigil_datasets::simulate::{SimParams, simulate};
use vigil_features::{EventWindow, Featurizer, Format, feature_names, parse_file};
use vigil_model::GbdtParams;
use vigil_model::pipeline::{LossChoice, ModelSpec, PipelineParams};

const LOGS: [&str; 3] = [
    "cowrie/cowrie_kareiva_2018-05-06_to_2018-07-02.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-04.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-15_partial.json.gz",
];

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let entities = args.first().copied().unwrap_or(3000) as usize;
    let difficulty = args.get(1).copied().unwrap_or(1) as u8;
    let seed = args.get(2).copied().unwrap_or(7);
    let featurizer = Featurizer::default();
    let (mut flat, mut labels) = (Vec::new(), Vec::new());
    let mut push = |events: Vec<vigil_features::Event>, label: usize| {
        let window = EventWindow::of(&featurizer.policy, events);
        flat.extend_from_slice(featurizer.extract(&window).as_slice());
        labels.push(label);
    };
    let sim = simulate(&SimParams::new(entities, difficulty, seed)).expect("simulate");
    let mut simulated = 0;
    for entity in sim {
        let honeypot: Vec<_> = entity
            .events
            .into_iter()
            .filter(|e| matches!(e.sensor.as_deref(), Some("ssh-1" | "telnet-1")))
            .collect();
        if !honeypot.is_empty() {
            simulated += 1;
            push(honeypot, 0);
        }
    }
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    let mut real = 0;
    for log in LOGS {
        let parsed = parse_file(Format::Cowrie, shared.join(log)).expect("a real log in ../shared");
        for (_, events) in vigil_features::group_by_source(parsed.events) {
            real += 1;
            push(events, 1);
        }
    }
    let names: Vec<String> = feature_names().iter().map(|&n| n.to_owned()).collect();
    let x = Array2::from_shape_vec((labels.len(), names.len()), flat).expect("rows");
    let classes = ClassSet::new(["simulated", "real"]).expect("classes");
    let data = Dataset::new(x, labels.clone(), names, classes).expect("dataset");
    let (rest, test) = stratified_split(&labels, 2, 1.0 / 3.0, seed).expect("split");
    let rest_labels: Vec<usize> = rest.iter().map(|&r| labels[r]).collect();
    let (fit_at, val_at) = stratified_split(&rest_labels, 2, 0.2, seed + 1).expect("split");
    let pick = |at: &[usize]| data.select(&at.iter().map(|&i| rest[i]).collect::<Vec<_>>());
    let params = PipelineParams {
        model: ModelSpec::Gbdt(GbdtParams::new().seed(seed)),
        balance: None,
        loss: LossChoice::CrossEntropy,
        calibrate: false,
        thresholds: None,
    };
    let (artifact, _) =
        vigil_model::pipeline::train(&params, "v1", &pick(&fit_at), &pick(&val_at)).expect("fit");
    let test = data.select(&test);
    let probs = artifact.probabilities(test.features()).expect("scores");
    let scores: Vec<(f32, usize)> =
        probs.column(1).iter().copied().zip(test.labels().iter().copied()).collect();
    println!(
        "{simulated} simulated honeypot sources (of {entities}, difficulty {difficulty}, seed {seed}) \
         vs {real} real: AUC {:.3} on {} held-out sources",
        auc(&scores),
        scores.len()
    );
}

/// ROC AUC: the chance that a random real source scores above a random simulated one
/// (ties count half).
fn auc(scores: &[(f32, usize)]) -> f64 {
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut positives, mut i) = (0.0, 0.0, 0);
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            j += 1;
        }
        let mean_rank = (i + j + 1) as f64 / 2.0;
        for item in &sorted[i..j] {
            if item.1 == 1 {
                rank_sum += mean_rank;
                positives += 1.0;
            }
        }
        i = j;
    }
    let negatives = sorted.len() as f64 - positives;
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}
