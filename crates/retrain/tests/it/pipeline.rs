//! The pipeline end to end on a temp directory.

use jiff::Timestamp;
use vigil_features::Featurizer;
use vigil_registry::{AuditAction, RegistryReader};
use vigil_retrain::{
    BaseData, Cancel, GbdtConfig, ModelConfig, RetrainError, RunContext, RunStatus,
    TriggerDecision, TriggerKind, TriggerPolicy, bootstrap, check_and_run, fail_abandoned_jobs,
    run,
};
use vigil_store::JobStatus;

use crate::{Env, insert_confirms, insert_overrides};

fn ctx<'a>(env: &'a Env, cancel: &'a Cancel) -> RunContext<'a> {
    RunContext {
        registry: &env.registry,
        store: Some(&env.store),
        base: &env.base,
        config: &env.config,
        featurizer: &env.featurizer,
        cancel,
    }
}

#[test]
fn bootstrap_trains_the_first_champion_then_skips() {
    let env = Env::new(2000);
    let report = bootstrap(&env.registry, None, &env.base, &env.config, &env.featurizer).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(report.registered.as_deref(), Some("v1"));
    assert!(report.promoted);
    assert_eq!(report.champion_after.as_deref(), Some("v1"));
    assert!(report.gate.as_ref().unwrap().passed);
    let challenger = report.challenger.as_ref().unwrap();
    assert!(challenger.macro_f1 > 0.8, "{challenger:?}");
    let split = report.split.as_ref().unwrap();
    assert_eq!(split.train_rows + split.validation_rows + split.holdout_rows, 2000);
    assert!((300..500).contains(&split.holdout_rows), "{split:?}");
    let steps: Vec<_> = report.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "load",
            "validate",
            "split",
            "train",
            "train.standardise",
            "train.balance",
            "train.fit",
            "train.calibrate",
            "train.thresholds",
            "evaluate",
            "register"
        ]
    );
    // The report file is the report.
    let path = report.report_path.clone().unwrap();
    let on_disk: vigil_retrain::RunReport =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        (&on_disk.run_id, on_disk.status, &on_disk.registered),
        (&report.run_id, report.status, &report.registered)
    );
    assert_eq!(on_disk.steps.len(), report.steps.len());
    // The manifest carries the holdout metrics and the training summary.
    let reader = RegistryReader::open(env.registry.dir()).unwrap();
    let manifest = reader.champion_manifest().unwrap().unwrap();
    let recorded = manifest.holdout_metrics["macro_f1"].as_f64().unwrap();
    assert!((recorded - challenger.macro_f1).abs() < 1e-12);
    assert_eq!(manifest.training_summary["data"]["base_rows"], 2000);
    assert_eq!(manifest.parent, None);

    let again = bootstrap(&env.registry, None, &env.base, &env.config, &env.featurizer).unwrap();
    assert_eq!(again.status, RunStatus::Skipped);
    assert_eq!(env.registry.list().unwrap().len(), 1);
    let none =
        bootstrap(&env.registry, None, &BaseData::none(), &env.config, &env.featurizer).unwrap();
    assert_eq!(none.status, RunStatus::Skipped);
}

#[test]
fn overrides_that_correct_a_systematic_error_are_learnt_and_promoted() {
    let env = Env::new(2500);
    let cancel = Cancel::new();
    let first = check_and_run(&ctx(&env, &cancel), &TriggerPolicy::default(), Timestamp::now())
        .unwrap()
        .expect("no champion: a bootstrap run");
    assert_eq!(first.trigger, "bootstrap");
    assert_eq!(first.run_id, format!("run-{}", first.job_id.unwrap()));
    // Nothing pending: no trigger fires.
    assert!(
        check_and_run(&ctx(&env, &cancel), &TriggerPolicy::default(), Timestamp::now())
            .unwrap()
            .is_none()
    );

    // The champion calls mistyping admins Brute Force; the council overrides 400 of them.
    let confirms = insert_confirms(&env.store, 200, 8);
    let overrides = insert_overrides(&env.store, 400, 7);
    let policy = TriggerPolicy { pending_threshold: 600, ..TriggerPolicy::default() };
    let report = check_and_run(&ctx(&env, &cancel), &policy, Timestamp::now()).unwrap().unwrap();
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.error);
    assert!(report.trigger.contains("pending-samples"), "{} {}", report.trigger, report.reason);
    assert!(report.trigger.contains("override-rate"), "{}", report.trigger);
    let challenger = report.challenger.as_ref().unwrap();
    let champion = report.champion.as_ref().unwrap();
    assert_eq!(champion.version.as_deref(), Some("v1"));
    assert_eq!(challenger.rows, champion.rows, "same holdout");
    let gate = report.gate.as_ref().unwrap();
    assert!(gate.passed, "{}", gate.summary);
    assert!(challenger.macro_f1 > champion.macro_f1 + 0.05, "{}", gate.summary);
    assert!(
        challenger.per_class[0].recall > champion.per_class[0].recall + 0.1,
        "{}",
        gate.summary
    );
    assert_eq!(report.registered.as_deref(), Some("v2"));
    assert!(report.promoted);
    assert_eq!(report.champion_after.as_deref(), Some("v2"));
    let data = report.data.as_ref().unwrap();
    assert_eq!((data.base_rows, data.sample_rows, data.new_samples), (2500, 600, 600));
    assert!(report.split.as_ref().unwrap().holdout_samples > 60);
    // Judged on the real feedback alone too, and better there.
    let (real_new, real_old) =
        (report.challenger_real.as_ref().unwrap(), report.champion_real.as_ref().unwrap());
    assert_eq!(real_new.rows as usize, report.split.as_ref().unwrap().holdout_samples);
    assert!(real_new.accuracy > real_old.accuracy, "{}", gate.summary);
    assert!(gate.summary.contains("real feedback rows accuracy"), "{}", gate.summary);

    // Samples are marked used with the run id; the job succeeded with the report.
    assert_eq!(report.samples_marked, 600);
    for id in [confirms[0], *overrides.last().unwrap()] {
        let sample = env.store.sample(id).unwrap().unwrap();
        assert!(sample.used_for_training);
        assert_eq!(sample.training_run_id.as_deref(), Some(report.run_id.as_str()));
    }
    assert_eq!(env.store.pending_count(vigil_features::SCHEMA_VERSION).unwrap(), 0);
    let job = &env.store.recent_jobs(1).unwrap()[0];
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(job.metrics.as_ref().unwrap()["registered"], "v2");

    // The audit log tells the story, with the gate's numbers.
    let history = env.registry.history().unwrap();
    let last = history.last().unwrap();
    assert_eq!((last.action, last.version.as_str()), (AuditAction::Promote, "v2"));
    assert!(
        last.reason.starts_with(&format!("{}: gate passed: macro-F1", report.run_id)),
        "{}",
        last.reason
    );

    // The next run keeps the used samples (corrections are not forgotten) and scores on
    // the same holdout entities plus the new ones.
    insert_confirms(&env.store, 50, 9);
    let decision = TriggerDecision::only(TriggerKind::Manual, "test");
    let next = run(&ctx(&env, &cancel), &decision).unwrap();
    let next_data = next.data.as_ref().unwrap();
    assert_eq!((next_data.sample_rows, next_data.new_samples), (650, 50));
    let holdout = next.split.as_ref().unwrap().holdout_rows;
    let before = report.split.as_ref().unwrap().holdout_rows;
    assert!(holdout >= before && holdout <= before + 50, "{before} -> {holdout}");
    // Retrained on the same data, the challenger does not beat the champion by a point.
    assert!(!next.promoted, "{}", next.gate.as_ref().unwrap().summary);
}

#[test]
fn a_worse_challenger_is_rejected_not_registered_unless_forced() {
    let mut env = Env::new(1500);
    bootstrap(&env.registry, None, &env.base, &env.config, &env.featurizer).unwrap();
    insert_confirms(&env.store, 100, 3);
    env.config.model = ModelConfig::Gbdt(GbdtConfig {
        max_rounds: 1,
        max_leaves: 2,
        learning_rate: 0.1,
        ..GbdtConfig::default()
    });
    let cancel = Cancel::new();
    let decision = TriggerDecision::only(TriggerKind::Manual, "try a stump");
    let report = run(&ctx(&env, &cancel), &decision).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(report.registered, None, "a rejected challenger is not a servable version");
    assert!(!report.promoted);
    let gate = report.gate.as_ref().unwrap();
    assert!(!gate.passed);
    assert!(gate.macro_f1_gain.unwrap() < -0.1, "{}", gate.summary);
    assert!(gate.failures.iter().any(|f| f.starts_with("macro-F1 gain")), "{:?}", gate.failures);
    assert_eq!(env.registry.champion().unwrap().unwrap().version, "v1");
    assert_eq!(report.champion_after.as_deref(), Some("v1"));
    let actions: Vec<_> = env.registry.history().unwrap().iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Register, AuditAction::Promote]);
    assert_eq!(env.registry.reader().list().unwrap().len(), 1);
    // Its samples were still used (and marked) by the run.
    assert_eq!(report.samples_marked, 100);
    // A rejected run does not restart the schedule.
    assert_eq!(env.store.recent_jobs(1).unwrap()[0].status, JobStatus::Succeeded);
    let last = env.store.last_successful_retrain().unwrap();
    assert!(last.is_none(), "{last:?}");

    env.config.force = true;
    let forced = run(&ctx(&env, &cancel), &decision).unwrap();
    assert!(forced.promoted);
    assert_eq!(env.registry.champion().unwrap().unwrap().version, "v2");
    assert!(env.store.last_successful_retrain().unwrap().is_some());
    let last = env.registry.history().unwrap().pop().unwrap();
    assert!(last.reason.contains("FORCED although the gate failed"), "{}", last.reason);
}

#[test]
fn a_cancelled_or_failed_run_is_recorded_and_leaves_the_champion() {
    let env = Env::new(1500);
    bootstrap(&env.registry, None, &env.base, &env.config, &env.featurizer).unwrap();
    let cancel = Cancel::new();
    cancel.cancel();
    let decision = TriggerDecision::only(TriggerKind::Manual, "test");
    let err = run(&ctx(&env, &cancel), &decision).unwrap_err();
    assert!(matches!(err, RetrainError::Cancelled { step: "load" }), "{err}");
    let job = &env.store.recent_jobs(1).unwrap()[0];
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.error.as_deref(), Some("cancelled before step load"));
    assert_eq!(job.metrics.as_ref().unwrap()["status"], "failed");

    // A non-finite base value: validation names the row and feature.
    let (entities, data) = vigil_retrain::synthetic::threat_rows(300, 5, "bad");
    let (mut x, labels, names, classes) = data.into_parts();
    x[[17, 4]] = f32::NAN;
    let bad =
        BaseData::rows(entities, vigil_core::Dataset::new(x, labels, names, classes).unwrap())
            .unwrap();
    let cancel = Cancel::new();
    let bad_ctx = RunContext { base: &bad, ..ctx(&env, &cancel) };
    let err = run(&bad_ctx, &decision).unwrap_err().to_string();
    assert!(err.contains("base row 18") && err.contains("NaN"), "{err}");
    let job = &env.store.recent_jobs(1).unwrap()[0];
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.error.as_deref().unwrap().contains("base row 18"));
    assert_eq!(env.registry.list().unwrap().len(), 1);
    assert_eq!(env.registry.champion().unwrap().unwrap().version, "v1");
}

#[test]
fn jobs_left_running_by_a_dead_worker_are_failed_at_startup() {
    let env = Env::new(10);
    let job = env.store.start_job("manual", "test [worker pid 999999 on host]").unwrap();
    assert_eq!(fail_abandoned_jobs(&env.store).unwrap(), [job]);
    let record = &env.store.recent_jobs(1).unwrap()[0];
    assert_eq!(record.status, JobStatus::Failed);
    let error = record.error.as_deref().unwrap();
    assert!(error.starts_with("abandoned") && error.contains("pid 999999"), "{error}");
    assert!(fail_abandoned_jobs(&env.store).unwrap().is_empty());
}

#[test]
fn base_data_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let (entities, data) = vigil_retrain::synthetic::threat_rows(50, 2, "csv");
    let csv = dir.path().join("base.csv");
    vigil_retrain::write_features_csv(&csv, &entities, &data).unwrap();
    let registry = vigil_registry::Registry::open(dir.path().join("registry")).unwrap();
    let mut config = crate::fast_config(&dir.path().join("reports"));
    config.holdout_fraction = 0.3;
    let report =
        bootstrap(&registry, None, &BaseData::from_path(&csv), &config, &Featurizer::default())
            .unwrap();
    assert_eq!(report.data.as_ref().unwrap().base_rows, 50);
    assert_eq!(report.data.as_ref().unwrap().class_counts, data.class_counts());

    // Simulated labelled events: features are extracted per source address.
    let entities = vigil_datasets::simulate(&vigil_datasets::SimParams::new(70, 0, 3)).unwrap();
    let events = dir.path().join("events.jsonl");
    vigil_datasets::simulate::write_jsonl_file(&entities, &events).unwrap();
    let registry = vigil_registry::Registry::open(dir.path().join("registry2")).unwrap();
    let report =
        bootstrap(&registry, None, &BaseData::from_path(&events), &config, &Featurizer::default())
            .unwrap();
    assert_eq!(report.data.as_ref().unwrap().base_rows, 70);

    // Errors name the file and line.
    std::fs::write(&csv, "label,entity\nNormal,x\n").unwrap();
    let err = bootstrap(
        &vigil_registry::Registry::open(dir.path().join("r3")).unwrap(),
        None,
        &BaseData::from_path(&csv),
        &config,
        &Featurizer::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("base.csv") && err.contains("no column for feature"), "{err}");
    let mut text = String::from("label");
    for name in vigil_features::feature_names() {
        text.push(',');
        text.push_str(name);
    }
    text.push_str("\nphishing");
    text.push_str(&",0".repeat(100));
    std::fs::write(&csv, text).unwrap();
    let err = bootstrap(
        &vigil_registry::Registry::open(dir.path().join("r4")).unwrap(),
        None,
        &BaseData::from_path(&csv),
        &config,
        &Featurizer::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("line 2") && err.contains("phishing"), "{err}");
}

#[test]
fn a_manual_request_shows_until_claimed_and_survives_a_failed_run() {
    let env = Env::new(1500);
    bootstrap(&env.registry, None, &env.base, &env.config, &env.featurizer).unwrap();
    let id = env.store.request_retrain("alice", "new feed").unwrap();
    // Visible while pending (status reads it without claiming).
    let pending: Vec<i64> = env.store.pending_requests().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(pending, [id]);
    // Its run fails (the base data is gone): the request is put back, not lost.
    let missing = BaseData::from_path(env.dir.path().join("missing.csv"));
    let cancel = Cancel::new();
    let failing = RunContext { base: &missing, ..ctx(&env, &cancel) };
    assert!(check_and_run(&failing, &TriggerPolicy::default(), Timestamp::now()).is_err());
    let pending: Vec<i64> = env.store.pending_requests().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(pending, [id], "the failed run's request was lost");
    // The next check claims it and runs.
    let report = check_and_run(&ctx(&env, &cancel), &TriggerPolicy::default(), Timestamp::now())
        .unwrap()
        .expect("the manual trigger fires");
    assert_eq!(report.status, RunStatus::Succeeded);
    assert!(env.store.pending_requests().unwrap().is_empty());
}

/// After a feature-schema upgrade the champion (of the old schema) cannot serve: the first
/// run replaces it without a comparison, and says so, instead of failing the gate forever.
#[test]
fn a_champion_of_another_feature_schema_is_replaced_on_the_challengers_merits() {
    let env = Env::new(2000);
    let current = env.config.schema_version.clone();
    // The champion a build of schema v1 trained (the same names: only the version differs).
    let mut old = vigil_retrain::synthetic::tiny_artifact(1);
    old.schema.version = "v1".into();
    let info = vigil_registry::NewVersion::for_artifact(
        &old,
        serde_json::Value::Null,
        serde_json::Value::Null,
        None,
    );
    let v1 = env.registry.register(&old.to_bytes().unwrap(), info).unwrap();
    env.registry.promote(&v1.version, "the v1 build's champion").unwrap();
    let cancel = Cancel::default();
    let decision = TriggerDecision::only(TriggerKind::Manual, "after the upgrade");
    let report = run(&ctx(&env, &cancel), &decision).unwrap();
    assert!(report.promoted, "{report:?}");
    assert_eq!(report.champion_after.as_deref(), Some("v2"));
    let gate = report.gate.unwrap();
    assert!(gate.passed && !gate.forced, "{gate:?}");
    assert!(
        gate.summary.contains("v1 is of feature schema v1, which this build cannot serve"),
        "{}",
        gate.summary
    );
    let (_, bytes) = env.registry.reader().load_champion().unwrap().unwrap();
    let artifact = vigil_model::Artifact::from_bytes(&bytes, Some(&current)).unwrap();
    assert_eq!(artifact.schema.version, current);
}
