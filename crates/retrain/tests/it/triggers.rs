//! Each trigger fires at its threshold and not one sample (or second) before.

use jiff::{SignedDuration, Timestamp};
use vigil_retrain::{TriggerKind, TriggerPolicy};
use vigil_store::{JobOutcome, SampleStore};

use crate::{insert_confirms, insert_overrides, open_store};

fn kinds(
    policy: &TriggerPolicy,
    store: &SampleStore,
    now: Timestamp,
    since: Option<Timestamp>,
) -> Vec<TriggerKind> {
    policy
        .evaluate(store, vigil_features::SCHEMA_VERSION, now, since, true)
        .unwrap()
        .fired
        .iter()
        .map(|f| f.kind)
        .collect()
}

#[test]
fn pending_samples_fire_at_1000_not_999() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("vigil.db"));
    let policy = TriggerPolicy::default();
    let now = Timestamp::now();
    insert_confirms(&store, 999, 1);
    let decision =
        policy.evaluate(&store, vigil_features::SCHEMA_VERSION, now, None, true).unwrap();
    assert!(!decision.should_run(), "{decision:?}");
    assert_eq!(decision.pending, 999);
    insert_confirms(&store, 1, 2);
    let decision =
        policy.evaluate(&store, vigil_features::SCHEMA_VERSION, now, None, true).unwrap();
    assert_eq!(decision.fired.len(), 1, "{decision:?}");
    assert_eq!(decision.fired[0].kind, TriggerKind::PendingSamples);
    assert_eq!(decision.fired[0].reason, "1000 pending samples >= 1000");
    assert_eq!(decision.trigger(), "pending-samples");
    // Samples of another schema are not pending for this one.
    assert_eq!(store.pending_count("v1").unwrap(), 0);
}

#[test]
fn schedule_fires_after_7_days_with_the_minimum_of_new_samples() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("vigil.db"));
    let policy = TriggerPolicy::default();
    // Without a retrain or a champion to count from, the schedule cannot fire.
    insert_confirms(&store, 100, 1);
    assert_eq!(kinds(&policy, &store, Timestamp::now(), None), []);

    let job = store.start_job("bootstrap", "test").unwrap();
    store.finish_job(job, JobOutcome::Succeeded { metrics: serde_json::json!({}) }).unwrap();
    let last = store.last_successful_retrain().unwrap().unwrap();
    let week = SignedDuration::from_hours(24 * 7);
    let just_before = last + week - SignedDuration::from_secs(1);
    assert_eq!(kinds(&policy, &store, just_before, None), []);
    assert_eq!(kinds(&policy, &store, last + week, None), [TriggerKind::Schedule]);

    // The minimum of new samples: 99 pending is one short.
    let dir2 = tempfile::tempdir().unwrap();
    let store2 = open_store(&dir2.path().join("vigil.db"));
    insert_confirms(&store2, 99, 1);
    // Counting from the champion's registration when no job succeeded yet.
    let champion_since: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let later = champion_since + week;
    assert_eq!(kinds(&policy, &store2, later, Some(champion_since)), []);
    insert_confirms(&store2, 1, 2);
    assert_eq!(kinds(&policy, &store2, later, Some(champion_since)), [TriggerKind::Schedule]);
    let decision = policy
        .evaluate(&store2, vigil_features::SCHEMA_VERSION, later, Some(champion_since), false)
        .unwrap();
    assert!(
        decision.fired[0].reason.starts_with("7.0 days since 2026-01-01T00:00:00Z >= 7"),
        "{:?}",
        decision.fired
    );
}

#[test]
fn override_rate_fires_above_15_percent_over_100_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("vigil.db"));
    let policy = TriggerPolicy::default();
    let now = Timestamp::now();
    // 15 of 100 is not above 15%.
    insert_confirms(&store, 85, 1);
    insert_overrides(&store, 15, 1);
    let decision =
        policy.evaluate(&store, vigil_features::SCHEMA_VERSION, now, None, true).unwrap();
    assert_eq!((decision.overrides, decision.verdicts), (15, 100));
    assert!(!decision.should_run(), "{decision:?}");
    // One more override: the last 100 verdicts hold 16.
    insert_overrides(&store, 1, 2);
    let decision =
        policy.evaluate(&store, vigil_features::SCHEMA_VERSION, now, None, true).unwrap();
    assert_eq!((decision.overrides, decision.verdicts), (16, 100));
    assert_eq!(decision.fired.len(), 1, "{decision:?}");
    assert_eq!(decision.fired[0].kind, TriggerKind::OverrideRate);
    assert_eq!(
        decision.fired[0].reason,
        "override rate 16.0% (16 of the last 100 verdicts) > 15.0%"
    );

    // 16 overrides among only 99 verdicts: the window is not full.
    let dir2 = tempfile::tempdir().unwrap();
    let store2 = open_store(&dir2.path().join("vigil.db"));
    insert_confirms(&store2, 83, 1);
    insert_overrides(&store2, 16, 1);
    assert_eq!(kinds(&policy, &store2, now, None), []);
    insert_confirms(&store2, 1, 2);
    assert_eq!(kinds(&policy, &store2, now, None), [TriggerKind::OverrideRate]);
}

#[test]
fn manual_requests_fire_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("vigil.db"));
    let policy = TriggerPolicy::default();
    let now = Timestamp::now();
    assert_eq!(kinds(&policy, &store, now, None), []);
    let id = store.request_retrain("alice", "new Tor exit feed").unwrap();
    // A status check does not consume the request.
    assert!(
        !policy
            .evaluate(&store, vigil_features::SCHEMA_VERSION, now, None, false)
            .unwrap()
            .should_run()
    );
    let decision =
        policy.evaluate(&store, vigil_features::SCHEMA_VERSION, now, None, true).unwrap();
    assert_eq!(decision.requests, [id]);
    assert_eq!(decision.fired[0].kind, TriggerKind::Manual);
    assert!(decision.fired[0].reason.contains("alice: new Tor exit feed"), "{:?}", decision.fired);
    assert_eq!(kinds(&policy, &store, now, None), []);
    let off = TriggerPolicy { manual: false, ..TriggerPolicy::default() };
    store.request_retrain("bob", "x").unwrap();
    assert_eq!(kinds(&off, &store, now, None), []);
}

#[test]
fn policy_values_are_checked() {
    assert!(TriggerPolicy::default().check().is_ok());
    let small_window = TriggerPolicy { override_window: 99, ..TriggerPolicy::default() };
    let err = small_window.check().unwrap_err().to_string();
    assert!(err.contains("override_window = 99"), "{err}");
    assert!(TriggerPolicy { override_rate: 1.5, ..TriggerPolicy::default() }.check().is_err());
}
