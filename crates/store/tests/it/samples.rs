//! The sample store on real SQLite files: migrations, verdict rules, the worker's queries,
//! group commit under concurrency.

use std::sync::Arc;

use vigil_core::ClassSet;
use vigil_store::{
    JobOutcome, JobStatus, NewSample, OverrideRate, Route, SampleStore, SampleStoreConfig,
    StoreError, Verdict,
};

pub(crate) fn sample(verdict: Verdict, prediction: &str, label: Option<&str>) -> NewSample {
    NewSample {
        entity: "203.0.113.7".into(),
        schema_version: "v1".into(),
        features: vec![0.25, -1.0, 3.5],
        model_version: "m1".into(),
        ml_prediction: prediction.into(),
        ml_confidence: 0.8,
        verdict,
        correct_label: label.map(str::to_owned),
        route: None,
    }
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("f{i}")).collect()
}

fn open() -> (tempfile::TempDir, SampleStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SampleStore::open(dir.path().join("samples.db")).unwrap();
    (dir, store)
}

#[test]
fn migrations_apply_to_a_fresh_file_and_reopening_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.db");
    let store = SampleStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SampleStore::LATEST_SCHEMA_VERSION);
    let id = store.insert(sample(Verdict::Confirm, "APT", None)).unwrap();
    // A second handle on the same file (another process would do the same) sees the schema
    // as current and the data as committed.
    let other = SampleStore::open(&path).unwrap();
    assert_eq!(other.sample(id).unwrap().unwrap().ml_prediction, "APT");
    drop((store, other));
    let reopened = SampleStore::open(&path).unwrap();
    assert_eq!(reopened.schema_version().unwrap(), SampleStore::LATEST_SCHEMA_VERSION);
    assert_eq!(reopened.pending_count("v1").unwrap(), 1);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables, ["predictions", "retrain_jobs", "retrain_requests", "samples"]);
}

#[test]
fn a_file_that_is_not_a_database_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.db");
    std::fs::write(&path, b"this is not an SQLite database, not even close to one....").unwrap();
    let err = SampleStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("samples.db"), "{err}");
}

#[test]
fn verdicts_are_stored_as_given_with_the_model_prediction_kept() {
    let (_dir, store) = open();
    let id = store.insert(sample(Verdict::Override, "Brute Force", Some("Normal"))).unwrap();
    let s = store.sample(id).unwrap().unwrap();
    assert_eq!(s.ml_prediction, "Brute Force", "the model's prediction, not the council's label");
    assert_eq!(s.correct_label.as_deref(), Some("Normal"));
    assert!(s.was_override && !s.used_for_training && s.training_run_id.is_none());
    assert_eq!(s.verdict, Verdict::Override);
    assert_eq!(s.features, [0.25, -1.0, 3.5]);

    let id = store.insert(sample(Verdict::Confirm, "Brute Force", None)).unwrap();
    let s = store.sample(id).unwrap().unwrap();
    assert_eq!(s.correct_label.as_deref(), Some("Brute Force"));
    assert!(!s.was_override);
    assert!(store.sample(9999).unwrap().is_none());
}

#[test]
fn an_override_with_the_predicted_label_is_an_error_and_stores_nothing() {
    let (_dir, store) = open();
    let err =
        store.insert(sample(Verdict::Override, "Brute Force", Some("Brute Force"))).unwrap_err();
    assert!(matches!(err, StoreError::OverrideSameLabel { .. }), "{err}");
    let err = store.insert(sample(Verdict::Override, "Brute Force", None)).unwrap_err();
    assert!(matches!(err, StoreError::OverrideWithoutLabel { .. }), "{err}");
    // With a class set, aliases are the same label.
    let dir = tempfile::tempdir().unwrap();
    let config =
        SampleStoreConfig { classes: Some(ClassSet::threat()), ..SampleStoreConfig::default() };
    let strict = SampleStore::open_with(dir.path().join("s.db"), config).unwrap();
    let err = strict.insert(sample(Verdict::Override, "ddos", Some("DoS"))).unwrap_err();
    assert!(matches!(err, StoreError::OverrideSameLabel { .. }), "{err}");
    let id = strict.insert(sample(Verdict::Override, "ddos", Some("benign"))).unwrap();
    let s = strict.sample(id).unwrap().unwrap();
    assert_eq!(
        (s.ml_prediction.as_str(), s.correct_label.as_deref()),
        ("DDoS/DoS", Some("Normal"))
    );
    assert!(matches!(
        strict.insert(sample(Verdict::Confirm, "phishing", None)),
        Err(StoreError::UnknownLabel { .. })
    ));
    assert_eq!(store.pending_count("v1").unwrap(), 0);
    assert_eq!(strict.pending_count("v1").unwrap(), 1);
}

#[test]
fn uncertain_samples_are_stored_but_never_pending_loaded_or_marked() {
    let (_dir, store) = open();
    let uncertain = store.insert(sample(Verdict::Uncertain, "APT", None)).unwrap();
    let hinted = store.insert(sample(Verdict::Uncertain, "APT", Some("Normal"))).unwrap();
    let confirmed = store.insert(sample(Verdict::Confirm, "APT", None)).unwrap();
    assert!(store.sample(uncertain).unwrap().is_some());
    assert_eq!(store.sample(hinted).unwrap().unwrap().correct_label.as_deref(), Some("Normal"));
    assert_eq!(store.pending_count("v1").unwrap(), 1);
    let set = store.load_unused(&ClassSet::threat(), "v1", &names(3)).unwrap();
    assert_eq!(set.sample_ids, [confirmed]);
    let err = store.mark_used(&[uncertain, confirmed], "run-1").unwrap_err();
    assert!(matches!(err, StoreError::MarkUsed { requested: 2, eligible: 1 }), "{err}");
    assert_eq!(store.pending_count("v1").unwrap(), 1, "nothing was marked");
    assert_eq!(
        store.override_rate(100).unwrap().verdicts,
        1,
        "UNCERTAIN is not a verdict on the model"
    );
}

#[test]
fn override_rate_over_the_last_n_verdicts() {
    let (_dir, store) = open();
    assert_eq!(store.override_rate(100).unwrap().rate(), 0.0);
    // 10 old overrides, then 20 verdicts of which 4 are overrides.
    for _ in 0..10 {
        store.insert(sample(Verdict::Override, "APT", Some("Normal"))).unwrap();
    }
    for i in 0..20 {
        let s = if i % 5 == 0 {
            sample(Verdict::Override, "APT", Some("Normal"))
        } else {
            sample(Verdict::Confirm, "APT", None)
        };
        store.insert(s).unwrap();
        store.insert(sample(Verdict::Uncertain, "APT", None)).unwrap();
    }
    let recent = store.override_rate(20).unwrap();
    assert_eq!((recent.overrides, recent.verdicts), (4, 20));
    assert!((recent.rate() - 0.2).abs() < 1e-12);
    let all = store.override_rate(1000).unwrap();
    assert_eq!((all.overrides, all.verdicts), (14, 30));
}

#[test]
fn routes_are_stored_and_override_rates_break_down_by_route_and_class() {
    let (_dir, store) = open();
    let routed = |route, verdict, prediction: &str, label: Option<&str>| NewSample {
        route,
        ..sample(verdict, prediction, label)
    };
    // Before routes were recorded: one unrouted override.
    store.insert(routed(None, Verdict::Override, "APT", Some("Normal"))).unwrap();
    let id = store.insert(routed(Some(Route::Human), Verdict::Confirm, "APT", None)).unwrap();
    store.insert(routed(Some(Route::Human), Verdict::Override, "APT", Some("Normal"))).unwrap();
    store.insert(routed(Some(Route::Council), Verdict::Confirm, "Brute Force", None)).unwrap();
    store.insert(routed(Some(Route::Council), Verdict::Uncertain, "Brute Force", None)).unwrap();
    store.insert(routed(Some(Route::Autonomous), Verdict::Confirm, "Normal", None)).unwrap();
    assert_eq!(store.sample(id).unwrap().unwrap().route, Some(Route::Human));
    let rate = |overrides, verdicts| OverrideRate { overrides, verdicts };
    let all = store.override_breakdown(100).unwrap();
    let by_route: Vec<(&str, OverrideRate)> =
        all.by_route.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        by_route,
        [
            ("autonomous", rate(0, 1)),
            ("council", rate(0, 1)),
            ("human", rate(1, 2)),
            ("unrouted", rate(1, 1))
        ]
    );
    let by_class: Vec<(&str, OverrideRate)> =
        all.by_class.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        by_class,
        [("APT", rate(2, 3)), ("Brute Force", rate(0, 1)), ("Normal", rate(0, 1))]
    );
    // The last three CONFIRM/OVERRIDE verdicts only (UNCERTAIN is not one).
    let recent = store.override_breakdown(3).unwrap();
    assert_eq!(recent.by_route.values().map(|r| r.verdicts).sum::<u64>(), 3);
    assert!(!recent.by_route.contains_key("unrouted"));
    assert_eq!("HUMAN".parse::<Route>().unwrap(), Route::Human);
    assert!("robot".parse::<Route>().is_err());
}

#[test]
fn load_unused_builds_a_dataset_and_names_bad_samples() {
    let (_dir, store) = open();
    let classes = ClassSet::threat();
    let a = store.insert(sample(Verdict::Confirm, "Brute Force", None)).unwrap();
    let b = store.insert(sample(Verdict::Override, "Brute Force", Some("benign"))).unwrap();
    let mut other_schema = sample(Verdict::Confirm, "APT", None);
    other_schema.schema_version = "v0".into();
    other_schema.features = vec![1.0];
    store.insert(other_schema).unwrap();

    let set = store.load_unused(&classes, "v1", &names(3)).unwrap();
    assert_eq!(set.sample_ids, [a, b]);
    assert_eq!(set.dataset.labels(), [3, 0]);
    assert_eq!(set.dataset.features().row(1).to_vec(), [0.25, -1.0, 3.5]);
    assert_eq!(set.dataset.feature_names(), names(3));
    assert_eq!(store.load_unused(&classes, "v0", &names(1)).unwrap().sample_ids.len(), 1);
    assert_eq!(store.load_unused(&classes, "v9", &names(3)).unwrap().dataset.n_rows(), 0);

    let err = store.load_unused(&classes, "v1", &names(4)).unwrap_err();
    assert_eq!(err.to_string(), format!("sample {a}: 3 features, expected 4"));

    let c = store.insert(sample(Verdict::Override, "Brute Force", Some("Phishing"))).unwrap();
    let err = store.load_unused(&classes, "v1", &names(3)).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "sample {c}: unknown label \"Phishing\" (known classes: Normal,"
        )),
        "{err}"
    );
}

#[test]
fn mark_used_is_all_or_nothing_and_records_the_run() {
    let (_dir, store) = open();
    let ids: Vec<i64> =
        (0..5).map(|_| store.insert(sample(Verdict::Confirm, "APT", None)).unwrap()).collect();
    assert!(matches!(
        store.mark_used(&[ids[0], 424_242], "run-1"),
        Err(StoreError::MarkUsed { .. })
    ));
    assert_eq!(store.pending_count("v1").unwrap(), 5);
    assert!(store.mark_used(&ids[..1], " ").is_err(), "empty run id");

    assert_eq!(store.mark_used(&[ids[0], ids[1], ids[1], ids[2]], "run-1").unwrap(), 3);
    assert_eq!(store.pending_count("v1").unwrap(), 2);
    let s = store.sample(ids[1]).unwrap().unwrap();
    assert!(s.used_for_training);
    assert_eq!(s.training_run_id.as_deref(), Some("run-1"));
    assert!(store.mark_used(&ids[2..4], "run-2").is_err(), "ids[2] is already used");
    let left = store.load_unused(&ClassSet::threat(), "v1", &names(3)).unwrap();
    assert_eq!(left.sample_ids, &ids[3..]);
}

#[test]
fn retrain_jobs_are_recorded() {
    let (_dir, store) = open();
    assert_eq!(store.last_successful_retrain().unwrap(), None);
    let failed = store.start_job("pending-samples", "1000 pending").unwrap();
    store
        .finish_job(failed, JobOutcome::Failed { error: "no data".into(), metrics: None })
        .unwrap();
    assert_eq!(store.last_successful_retrain().unwrap(), None, "a failed job is not a retrain");
    let ok = store.start_job("manual", "asked by ops").unwrap();
    let running = store.recent_jobs(1).unwrap();
    assert_eq!(running[0].status, JobStatus::Running);
    assert!(running[0].finished_at.is_none());
    let metrics = serde_json::json!({"macro_f1": 0.91, "promoted": true});
    store.finish_job(ok, JobOutcome::Succeeded { metrics: metrics.clone() }).unwrap();
    assert!(matches!(
        store.finish_job(ok, JobOutcome::Succeeded { metrics: serde_json::Value::Null }),
        Err(StoreError::JobNotRunning { .. })
    ));
    assert!(
        store.finish_job(4242, JobOutcome::Succeeded { metrics: serde_json::Value::Null }).is_err()
    );

    let jobs = store.recent_jobs(10).unwrap();
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [ok, failed], "newest first");
    assert_eq!(jobs[0].status, JobStatus::Succeeded);
    assert_eq!(jobs[0].metrics.as_ref(), Some(&metrics));
    assert_eq!((jobs[0].trigger.as_str(), jobs[0].reason.as_str()), ("manual", "asked by ops"));
    assert_eq!(jobs[1].status, JobStatus::Failed);
    assert_eq!(jobs[1].error.as_deref(), Some("no data"));
    assert_eq!(store.last_successful_retrain().unwrap(), jobs[0].finished_at);
    assert!(jobs[0].finished_at.unwrap() >= jobs[0].started_at);
    assert!(store.start_job("", "x").is_err());
}

#[test]
fn a_manual_request_is_picked_up_once() {
    let (dir, store) = open();
    assert!(store.claim_requests().unwrap().is_empty());
    let first = store.request_retrain("alice", "new campaign").unwrap();
    let second = store.request_retrain("cli", "").unwrap();
    let claimed = store.claim_requests().unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), [first, second]);
    assert_eq!(
        (claimed[0].requested_by.as_str(), claimed[0].reason.as_str()),
        ("alice", "new campaign")
    );
    assert!(store.claim_requests().unwrap().is_empty(), "claimed once");

    // Racing claimers on separate connections (as separate processes would be): each request
    // goes to exactly one of them.
    let stores: Vec<SampleStore> =
        (0..4).map(|_| SampleStore::open(dir.path().join("samples.db")).unwrap()).collect();
    let ids: Vec<i64> =
        (0..40).map(|i| store.request_retrain("api", &i.to_string()).unwrap()).collect();
    let mut got: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = stores
            .iter()
            .map(|st| {
                s.spawn(move || {
                    (0..20).flat_map(|_| st.claim_requests().unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).map(|r| r.id).collect()
    });
    got.sort_unstable();
    assert_eq!(got, ids);
}

#[test]
fn concurrent_inserts_are_group_committed_and_all_stored() {
    let (_dir, store) = open();
    let ids: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                s.spawn(move || {
                    (0..50)
                        .map(|_| store.insert(sample(Verdict::Confirm, "APT", None)).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 800);
    assert_eq!(store.pending_count("v1").unwrap(), 800);
    let counts = store.commit_counts();
    assert_eq!(counts.writes, 800);
    assert!(counts.commits * 2 <= counts.writes, "16 concurrent writers share commits: {counts:?}");

    let many = store
        .insert_many(vec![
            sample(Verdict::Confirm, "APT", None),
            sample(Verdict::Uncertain, "APT", None),
        ])
        .unwrap();
    assert_eq!(many.len(), 2);
    let bad =
        vec![sample(Verdict::Confirm, "APT", None), sample(Verdict::Override, "APT", Some("APT"))];
    assert!(store.insert_many(bad).is_err());
    assert_eq!(store.pending_count("v1").unwrap(), 801, "a batch is all or nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_inserts_from_many_tasks() {
    let (_dir, store) = open();
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(
                async move { store.insert_async(sample(Verdict::Confirm, "APT", None)).await },
            )
        })
        .collect();
    for task in tasks {
        let id = task.await.unwrap().unwrap();
        assert!(store.sample(id).unwrap().is_some());
    }
    assert_eq!(store.pending_count("v1").unwrap(), 200);
}

/// Feedback on one prediction, sent 64 times at once by concurrent tasks, some of them
/// dropped mid-flight (a client that disconnects or times out) and some with another
/// verdict: exactly one sample; every identical retry gets its id; the others a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_on_a_prediction_is_stored_once_whatever_the_timing() {
    let (_dir, store) = open();
    let override_ = || sample(Verdict::Override, "Normal", Some("APT"));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        let task = tokio::spawn(async move {
            let sample = if i % 8 == 7 {
                sample(Verdict::Uncertain, "Normal", None)
            } else {
                sample(Verdict::Override, "Normal", Some("APT"))
            };
            store.insert_for_prediction("p-1", sample).await
        });
        if i % 5 == 0 {
            task.abort();
        } else {
            tasks.push((i, task));
        }
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut new = 0;
    for (i, task) in tasks {
        match task.await.unwrap() {
            Ok((id, fresh)) => {
                assert_ne!(i % 8, 7, "a different verdict was accepted");
                ids.insert(id);
                new += usize::from(fresh);
            }
            Err(StoreError::FeedbackConflict { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    // A retry after all of that still gets the one stored sample.
    let (id, fresh) = store.insert_for_prediction("p-1", override_()).await.unwrap();
    ids.insert(id);
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(new <= 1 && !fresh, "new {new}, fresh {fresh}");
    assert_eq!(store.pending_count("v1").unwrap(), 1);
    let conflict = store
        .insert_for_prediction("p-1", sample(Verdict::Confirm, "Normal", None))
        .await
        .unwrap_err();
    assert!(conflict.to_string().contains("already has feedback OVERRIDE APT"), "{conflict}");
    // Another prediction is another sample.
    let (other, fresh) = store.insert_for_prediction("p-2", override_()).await.unwrap();
    assert!(fresh && other != id);
}
