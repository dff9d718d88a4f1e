//! The simulator's domain gap: how well a classifier tells simulated honeypot sources from
//! the real ones in the Cowrie logs of ../shared/datasets (ROC AUC on a held-out third;
//! 0.5 = indistinguishable, 1.0 = trivially told apart; the target is <= 0.75).
//!
//! Simulated sources are seen as a Cowrie sensor would log them: only their SSH/Telnet
//! session events (sensors `ssh-1`, `telnet-1`), and only sources with at least one. Two
//! simulated populations:
//! - `bootstrap`: what the server's first model trains on (equal class shares, SSH on 22
//!   or 2222 per source);
//! - `honeypot`: what a Cowrie deployment sees: the class mix read from the real logs'
//!   behaviour (of the 1,704 real sources 24% never try a login, 61% only fail, 10% log in
//!   and run nothing, 6% run commands: Reconnaissance 24, Brute Force 70, Malware/Botnet
//!   6, no Normal users on a honeypot) and the deployment's ports (2222/2223, the only
//!   ones in the logs).
//!
//! ```sh
//! cargo run --release -p vigil-evaluate --example domain_gap -- 3000 1 7
//! ```
//! (simulated entities, difficulty, seed)

#![allow(clippy::print_stdout, reason = "an example prints its measurement")]

use vigil_core::{ClassSet, Dataset, stratified_split};
use vigil_datasets::simulate::{SimParams, simulate};
use vigil_evaluate::feature_rows;
use vigil_features::{Event, Featurizer, Format, feature_names, group_by_source, parse_file};
use vigil_model::GbdtParams;
use vigil_model::pipeline::{LossChoice, ModelSpec, PipelineParams};

const LOGS: [&str; 3] = [
    "cowrie/cowrie_kareiva_2018-05-06_to_2018-07-02.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-04.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-15_partial.json.gz",
];

/// Normal, DDoS/DoS, Reconnaissance, Brute Force, Web Attack, Malware/Botnet, APT.
const HONEYPOT_MIX: [f64; 7] = [0.0, 0.0, 24.0, 70.0, 0.0, 6.0, 0.0];

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let entities = args.first().copied().unwrap_or(3000) as usize;
    let difficulty = args.get(1).copied().unwrap_or(1) as u8;
    let seed = args.get(2).copied().unwrap_or(7);
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    let mut real = Vec::new();
    for log in LOGS {
        let parsed = parse_file(Format::Cowrie, shared.join(log)).expect("a real log in ../shared");
        real.extend(group_by_source(parsed.events).into_values());
    }
    let bootstrap = SimParams::new(entities, difficulty, seed);
    let honeypot = bootstrap.clone().with_class_mix(HONEYPOT_MIX).with_shell_ports(2222, 2223);
    for (name, params) in [("bootstrap", bootstrap), ("honeypot", honeypot)] {
        let simulated: Vec<Vec<Event>> = simulate(&params)
            .expect("simulate")
            .into_iter()
            .map(|entity| {
                let sensors = |e: &Event| matches!(e.sensor.as_deref(), Some("ssh-1" | "telnet-1"));
                entity.events.into_iter().filter(sensors).collect::<Vec<_>>()
            })
            .filter(|events| !events.is_empty())
            .collect();
        let (n_sim, n_real) = (simulated.len(), real.len());
        let (auc, tested) = gap(simulated, real.clone(), seed);
        println!(
            "{name}: {n_sim} simulated honeypot sources (of {entities}, difficulty {difficulty}, \
             seed {seed}) vs {n_real} real: AUC {auc:.3} on {tested} held-out sources"
        );
    }
}

/// Trains a GBDT to tell `simulated` (0) from `real` (1) on two thirds; the AUC on the rest.
fn gap(simulated: Vec<Vec<Event>>, real: Vec<Vec<Event>>, seed: u64) -> (f64, usize) {
    let mut labels = vec![0; simulated.len()];
    labels.resize(simulated.len() + real.len(), 1);
    let x = feature_rows(&Featurizer::default(), simulated.into_iter().chain(real));
    let names: Vec<String> = feature_names().iter().map(|&n| n.to_owned()).collect();
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
    let (artifact, _) = vigil_model::pipeline::train(
        &params,
        vigil_features::SCHEMA_VERSION,
        &pick(&fit_at),
        &pick(&val_at),
    )
    .expect("fit");
    let test = data.select(&test);
    let probs = artifact.probabilities(test.features()).expect("scores");
    let scores: Vec<(f32, usize)> =
        probs.column(1).iter().copied().zip(test.labels().iter().copied()).collect();
    (auc(&scores), scores.len())
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
