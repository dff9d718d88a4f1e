//! Kept predictions and the review queue on a real SQLite file: listing orders and pages,
//! leases, closing by feedback, retention.

use jiff::{SignedDuration, Timestamp};
use vigil_store::{
    Claim, NewPrediction, NewSample, ReviewFilter, ReviewOrder, ReviewQuery, ReviewStatus, Route,
    SampleStore, StoreError, Verdict,
};

fn prediction(id: &str, route: Route, confidence: f64) -> NewPrediction {
    NewPrediction {
        prediction_id: id.into(),
        entity: format!("source-{id}"),
        schema_version: "v1".into(),
        class: "Brute Force".into(),
        confidence,
        probabilities: vec![("Normal".into(), 0.25), ("Brute Force".into(), 0.75)],
        route,
        model_version: "v1".into(),
        features: vec![1.0, 2.5, -3.0],
    }
}

fn open() -> (tempfile::TempDir, SampleStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SampleStore::open(dir.path().join("samples.db")).unwrap();
    (dir, store)
}

fn ids(page: &vigil_store::ReviewPage) -> Vec<&str> {
    page.reviews.iter().map(|r| r.prediction_id.as_str()).collect()
}

#[tokio::test]
async fn review_items_list_oldest_or_least_confident_first_in_pages() {
    let (_dir, store) = open();
    store
        .keep_predictions(vec![
            prediction("a", Route::Council, 0.70),
            prediction("b", Route::Human, 0.20),
            prediction("c", Route::Autonomous, 0.95),
            prediction("d", Route::Council, 0.55),
            prediction("e", Route::Human, 0.20),
        ])
        .await
        .unwrap();
    // Kept again (a retried batch): nothing changes.
    store.keep_predictions(vec![prediction("a", Route::Council, 0.70)]).await.unwrap();
    let now = Timestamp::now();
    let list = |query: ReviewQuery| store.reviews(&query, now).unwrap();
    let page = list(ReviewQuery::default());
    assert_eq!(ids(&page), ["a", "b", "d", "e"], "autonomous predictions are no review");
    assert_eq!(page.next, None);
    let page = list(ReviewQuery { order: ReviewOrder::LeastConfident, ..ReviewQuery::default() });
    assert_eq!(ids(&page), ["b", "e", "d", "a"]);
    // Pages of two, in both orders, cover every item once.
    for order in [ReviewOrder::Oldest, ReviewOrder::LeastConfident] {
        let (mut seen, mut after) = (Vec::new(), None);
        loop {
            let page = list(ReviewQuery { order, limit: 2, after, ..ReviewQuery::default() });
            seen.extend(ids(&page).into_iter().map(str::to_owned));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let expected = match order {
            ReviewOrder::Oldest => ["a", "b", "d", "e"],
            ReviewOrder::LeastConfident => ["b", "e", "d", "a"],
        };
        assert_eq!(seen, expected, "{order:?}");
    }
    let humans = list(ReviewQuery { route: Some(Route::Human), ..ReviewQuery::default() });
    assert_eq!(ids(&humans), ["b", "e"]);
    let item = &humans.reviews[0];
    assert_eq!(
        (item.status, item.route, item.features.as_slice()),
        (ReviewStatus::Open, Route::Human, &[1.0, 2.5, -3.0][..])
    );
    assert_eq!(item.probabilities["Brute Force"], 0.75);
    // Bad queries name what is wrong.
    let bad = |query: ReviewQuery| store.reviews(&query, now).unwrap_err().to_string();
    assert!(bad(ReviewQuery { limit: 0, ..ReviewQuery::default() }).contains("limit 0"));
    let cursor = ReviewQuery { after: Some("x".into()), ..ReviewQuery::default() };
    assert!(bad(cursor).contains("bad cursor \"x\""));
    let nan = store.keep_predictions(vec![prediction("n", Route::Human, f64::NAN)]).await;
    assert!(matches!(nan, Err(StoreError::InvalidSample { .. })), "{nan:?}");
}

#[tokio::test]
async fn a_lease_goes_to_one_reviewer_until_it_expires_and_feedback_closes_the_item() {
    let (_dir, store) = open();
    store
        .keep_predictions(vec![
            prediction("p1", Route::Council, 0.6),
            prediction("auto", Route::Autonomous, 0.99),
        ])
        .await
        .unwrap();
    let t0 = Timestamp::now();
    let later = |secs| t0 + SignedDuration::from_secs(secs);
    let Claim::Claimed(item) = store.claim_review("p1", "alice", t0, later(600)).await.unwrap()
    else {
        panic!("the first claim wins")
    };
    assert_eq!(item.claimed_by.as_deref(), Some("alice"));
    assert_eq!(item.lease_until.unwrap().as_microsecond(), later(600).as_microsecond());
    match store.claim_review("p1", "bob", later(10), later(610)).await.unwrap() {
        Claim::Held { by, until } => {
            assert_eq!(
                (by.as_str(), until.as_microsecond()),
                ("alice", later(600).as_microsecond())
            );
        }
        other => panic!("{other:?}"),
    }
    // Under a live lease the item is claimed, not pending.
    let at = |filter, now| {
        store.reviews(&ReviewQuery { filter, ..ReviewQuery::default() }, now).unwrap()
    };
    assert!(at(ReviewFilter::Pending, later(10)).reviews.is_empty());
    assert_eq!(ids(&at(ReviewFilter::Claimed, later(10))), ["p1"]);
    // Alice renews; after the lease runs out Bob may take it.
    assert!(matches!(
        store.claim_review("p1", "alice", later(20), later(900)).await.unwrap(),
        Claim::Claimed(_)
    ));
    assert_eq!(ids(&at(ReviewFilter::Pending, later(901))), ["p1"]);
    assert!(matches!(
        store.claim_review("p1", "bob", later(901), later(1500)).await.unwrap(),
        Claim::Claimed(_)
    ));
    // The feedback on its prediction closes it.
    let sample = NewSample {
        entity: "source-p1".into(),
        schema_version: "v1".into(),
        features: vec![1.0, 2.5, -3.0],
        model_version: "v1".into(),
        ml_prediction: "Brute Force".into(),
        ml_confidence: 0.6,
        verdict: Verdict::Confirm,
        correct_label: None,
        route: Some(Route::Council),
    };
    let (sample_id, new) = store.insert_for_prediction("p1", sample).await.unwrap();
    assert!(new);
    let closed = store.prediction("p1").unwrap().unwrap();
    assert_eq!((closed.status, closed.sample_id), (ReviewStatus::Closed, Some(sample_id)));
    assert!(closed.closed_at.is_some());
    assert_eq!(ids(&at(ReviewFilter::Closed, later(2000))), ["p1"]);
    assert_eq!(
        store.claim_review("p1", "carol", later(2000), later(2600)).await.unwrap(),
        Claim::Closed
    );
    assert_eq!(store.claim_review("auto", "carol", t0, later(60)).await.unwrap(), Claim::Missing);
    assert_eq!(store.claim_review("nope", "carol", t0, later(60)).await.unwrap(), Claim::Missing);
    assert!(store.claim_review("p1", " ", t0, later(60)).await.is_err());
}

#[tokio::test]
async fn concurrent_claims_grant_one_lease() {
    let (_dir, store) = open();
    store.keep_predictions(vec![prediction("hot", Route::Human, 0.1)]).await.unwrap();
    let now = Timestamp::now();
    let until = now + SignedDuration::from_secs(300);
    let claims = (0..16).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.claim_review("hot", &format!("r{i}"), now, until).await })
    });
    let mut won = 0;
    for claim in claims {
        if let Claim::Claimed(_) = claim.await.unwrap().unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn kept_predictions_survive_a_reopen_and_retention_prunes_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.db");
    let store = SampleStore::open(&path).unwrap();
    store.keep_predictions(vec![prediction("old", Route::Human, 0.3)]).await.unwrap();
    let now = Timestamp::now();
    store.claim_review("old", "alice", now, now + SignedDuration::from_secs(60)).await.unwrap();
    drop(store);
    let store = SampleStore::open(&path).unwrap();
    let kept = store.prediction("old").unwrap().unwrap();
    assert_eq!(kept.claimed_by.as_deref(), Some("alice"));
    assert_eq!(store.prune_predictions(now - SignedDuration::from_secs(3600)).await.unwrap(), 0);
    let cut = Timestamp::now() + SignedDuration::from_secs(1);
    assert_eq!(store.prune_predictions(cut).await.unwrap(), 1);
    assert!(store.prediction("old").unwrap().is_none());
}

#[tokio::test]
async fn a_newer_verdict_on_an_entity_supersedes_its_open_items_unless_someone_holds_one() {
    let (_dir, store) = open();
    let on = |id: &str, entity: &str, route| NewPrediction {
        entity: entity.into(),
        ..prediction(id, route, 0.4)
    };
    store
        .keep_predictions(vec![on("a1", "A", Route::Human), on("b1", "B", Route::Council)])
        .await
        .unwrap();
    let now = Timestamp::now();
    store.claim_review("b1", "alice", now, now + SignedDuration::from_secs(600)).await.unwrap();
    store
        .keep_predictions(vec![on("a2", "A", Route::Council), on("b2", "B", Route::Human)])
        .await
        .unwrap();
    let list =
        |filter| store.reviews(&ReviewQuery { filter, ..ReviewQuery::default() }, now).unwrap();
    assert_eq!(ids(&list(ReviewFilter::Open)), ["b1", "a2", "b2"], "a1 gave way; b1 is held");
    assert_eq!(ids(&list(ReviewFilter::Superseded)), ["a1"]);
    // An autonomous verdict supersedes too: the model no longer needs help with A.
    store.keep_predictions(vec![on("a3", "A", Route::Autonomous)]).await.unwrap();
    assert_eq!(ids(&list(ReviewFilter::Open)), ["b1", "b2"]);
    // Also one that is not kept: B judged again, nothing written for it, and b2 gives way
    // (b1 is still held).
    store.keep_verdicts(Vec::new(), vec!["B".into()]).await.unwrap();
    assert_eq!(ids(&list(ReviewFilter::Open)), ["b1"]);
    assert!(store.prediction("b3").unwrap().is_none());
    assert_eq!(
        store.claim_review("a1", "bob", now, now + SignedDuration::from_secs(60)).await.unwrap(),
        Claim::Closed
    );
    // Feedback on a superseded item is still taken, and closes it.
    let sample = NewSample {
        entity: "A".into(),
        schema_version: "v1".into(),
        features: vec![1.0, 2.5, -3.0],
        model_version: "v1".into(),
        ml_prediction: "Brute Force".into(),
        ml_confidence: 0.4,
        verdict: Verdict::Confirm,
        correct_label: None,
        route: Some(Route::Human),
    };
    store.insert_for_prediction("a1", sample).await.unwrap();
    assert_eq!(store.prediction("a1").unwrap().unwrap().status, ReviewStatus::Closed);
}
