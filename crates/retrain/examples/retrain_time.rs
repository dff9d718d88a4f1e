//! Times one retrain run end to end (load from SQLite, validate, split, train, calibrate,
//! thresholds, score champion and challenger, register, promote, mark used, report).
//!
//! `cargo run --release -p vigil-retrain --example retrain_time -- [rows] [gbdt|forest|mlp] [synthetic|sim]`
//!
//! Builds a champion from 5,000 base rows (not timed), stores `rows - 5000` council samples,
//! then times `run`. `synthetic` (the default): `vigil_retrain::synthetic` rows, confirmations
//! plus 10% overrides correcting a systematic error. `sim`: the scenario simulator's entities
//! at difficulty 2, features extracted (not timed); every tenth sample is an override whose
//! "model prediction" was the next class.
#![allow(clippy::print_stderr, reason = "an example reports on stderr")]

use std::time::Instant;

use vigil_core::ClassSet;
use vigil_registry::Registry;
use vigil_retrain::synthetic::{mistyping_admins, threat_rows};
use vigil_retrain::{
    BaseData, Cancel, ForestConfig, MlpConfig, ModelConfig, RetrainConfig, RunContext,
    TriggerDecision, TriggerKind, bootstrap, run,
};
use vigil_store::{NewSample, SampleStore, SampleStoreConfig, Verdict};

const BASE_ROWS: usize = 5000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).map_or(Ok(50_000), |a| a.parse())?;
    let model = match args.get(2).map_or("gbdt", String::as_str) {
        "gbdt" => ModelConfig::default(),
        "forest" => ModelConfig::Forest(ForestConfig::default()),
        "mlp" => ModelConfig::Mlp(MlpConfig::default()),
        other => return Err(format!("unknown model {other}").into()),
    };
    let sim = args.get(3).is_some_and(|a| a == "sim");
    let dir = tempfile::tempdir()?;
    let registry = Registry::open(dir.path().join("registry"))?;
    let store = SampleStore::open_with(
        dir.path().join("vigil.db"),
        SampleStoreConfig { classes: Some(ClassSet::threat()), ..SampleStoreConfig::default() },
    )?;
    let n_samples = rows.saturating_sub(BASE_ROWS);
    let clock = Instant::now();
    let (base, samples) = if sim { simulated(n_samples)? } else { synthetic(n_samples)? };
    eprintln!("data prepared in {:.1} s", clock.elapsed().as_secs_f64());
    let config = RetrainConfig { model, ..RetrainConfig::default() };
    let clock = Instant::now();
    bootstrap(&registry, None, &base, &config, &vigil_features::Featurizer::default())?;
    eprintln!("bootstrap on {BASE_ROWS} rows: {:.2} s", clock.elapsed().as_secs_f64());

    store.insert_many(samples)?;

    let cancel = Cancel::new();
    let ctx = RunContext {
        registry: &registry,
        store: Some(&store),
        base: &base,
        config: &config,
        featurizer: &vigil_features::Featurizer::default(),
        cancel: &cancel,
    };
    let clock = Instant::now();
    let report = run(&ctx, &TriggerDecision::only(TriggerKind::Manual, "timing"))?;
    let seconds = clock.elapsed().as_secs_f64();
    let gate = report.gate.as_ref().map_or("", |g| g.summary.as_str());
    eprintln!(
        "retrain on {} rows x 100 features ({}): {seconds:.2} s end to end; promoted {}; {gate}",
        BASE_ROWS + n_samples,
        config.model.name(),
        report.promoted,
    );
    for step in &report.steps {
        eprintln!("  {:<18} {:>8.3} s", step.step, step.seconds);
    }
    Ok(())
}

fn synthetic(n_samples: usize) -> Result<(BaseData, Vec<NewSample>), Box<dyn std::error::Error>> {
    let (entities, data) = threat_rows(BASE_ROWS, 1, "base");
    let base = BaseData::rows(entities, data)?;
    let n_overrides = n_samples / 10;
    let (entities, confirms) = threat_rows(n_samples - n_overrides, 2, "sample");
    let mut samples: Vec<NewSample> = entities
        .into_iter()
        .zip(confirms.features().rows())
        .zip(confirms.labels())
        .map(|((entity, row), &label)| NewSample {
            entity,
            schema_version: vigil_features::SCHEMA_VERSION.into(),
            features: row.to_vec(),
            model_version: "v1".into(),
            ml_prediction: ClassSet::threat().name(label).unwrap_or("Normal").to_owned(),
            ml_confidence: 0.9,
            verdict: Verdict::Confirm,
            correct_label: None,
            route: None,
        })
        .collect();
    samples.extend(mistyping_admins(n_overrides, 3, "admin").into_iter().map(
        |(entity, features)| NewSample {
            entity,
            schema_version: vigil_features::SCHEMA_VERSION.into(),
            features,
            model_version: "v1".into(),
            ml_prediction: "Brute Force".into(),
            ml_confidence: 0.8,
            verdict: Verdict::Override,
            correct_label: Some("Normal".into()),
            route: None,
        },
    ));
    Ok((base, samples))
}

fn simulated(n_samples: usize) -> Result<(BaseData, Vec<NewSample>), Box<dyn std::error::Error>> {
    let entities =
        vigil_datasets::simulate(&vigil_datasets::SimParams::new(BASE_ROWS + n_samples, 2, 11))?;
    let intel = vigil_features::Intel::new().snapshot();
    let classes = ClassSet::threat();
    let mut rows: Vec<(String, usize, Vec<f32>)> = entities
        .iter()
        .map(|e| {
            (
                e.ip.to_string(),
                e.label,
                vigil_features::extract_with(&e.events, &intel).as_slice().to_vec(),
            )
        })
        .collect();
    let samples_part = rows.split_off(BASE_ROWS);
    let names: Vec<String> =
        vigil_features::feature_names().iter().map(|&n| n.to_owned()).collect();
    let flat: Vec<f32> = rows.iter().flat_map(|(_, _, x)| x.iter().copied()).collect();
    let x = ndarray::Array2::from_shape_vec((rows.len(), names.len()), flat)?;
    let labels = rows.iter().map(|(_, l, _)| *l).collect();
    let data = vigil_core::Dataset::new(x, labels, names, classes.clone())?;
    let base = BaseData::rows(rows.into_iter().map(|(ip, _, _)| ip).collect(), data)?;
    let samples = samples_part
        .into_iter()
        .enumerate()
        .map(|(i, (entity, label, features))| {
            let truth = classes.name(label).unwrap_or("Normal").to_owned();
            let (prediction, verdict, correct) = if i % 10 == 0 {
                (
                    classes.name((label + 1) % classes.len()).unwrap_or("Normal").to_owned(),
                    Verdict::Override,
                    Some(truth),
                )
            } else {
                (truth, Verdict::Confirm, None)
            };
            NewSample {
                entity,
                schema_version: vigil_features::SCHEMA_VERSION.into(),
                features,
                model_version: "v1".into(),
                ml_prediction: prediction,
                ml_confidence: 0.8,
                verdict,
                correct_label: correct,
                route: None,
            }
        })
        .collect();
    Ok((base, samples))
}
