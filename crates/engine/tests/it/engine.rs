//! The engine driven directly, as a host program would: no HTTP server anywhere.

use std::net::IpAddr;

use vigil_engine::{Config, Engine, EngineError, Feedback, FeedbackTarget, Route, Source};
use vigil_features::{Event, EventKind, FeedKind, Intel, Timestamp};
use vigil_store::{JobStatus, ReviewFilter, ReviewQuery};

use crate::{engine_with, shared};

fn login(ip: &str, secs: i64, user: &str) -> Event {
    let mut e = Event::new(
        Timestamp::from_secs(1_525_600_000 + secs).unwrap(),
        ip.parse().unwrap(),
        EventKind::LoginFailed,
    );
    e.username = Some(user.into());
    e.password = Some("123456".into());
    e
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[tokio::test]
async fn ingest_gives_a_verdict_per_source_and_feedback_is_stored_once() {
    let (engine, _dir) = engine_with(|_| {}, Intel::new());
    let events = vec![
        login("192.0.2.1", 0, "root"),
        login("192.0.2.1", 5, "admin"),
        login("198.51.100.7", 1, "pi"),
    ];
    let ingest = engine.ingest(events.clone()).await.unwrap();
    assert_eq!((ingest.added, ingest.duplicates), (3, 0));
    let entities: Vec<&str> = ingest.verdicts.iter().map(|v| v.entity.as_str()).collect();
    assert_eq!(entities, ["192.0.2.1", "198.51.100.7"]);
    let first = &ingest.verdicts[0];
    assert_eq!(first.window.unwrap().events, 2);
    let p: f32 = first.scored.probabilities.iter().sum();
    assert!((p - 1.0).abs() < 1e-4, "{p}");
    // The verdict serialises as the API's verdict object.
    let json = serde_json::to_value(first).unwrap();
    assert_eq!(json["entity"], "192.0.2.1");
    assert_eq!(json["class"], first.class());
    assert_eq!(json["prediction_id"], first.prediction_id.to_string());
    assert_eq!(json["probabilities"].as_object().unwrap().len(), 7);

    // A retried batch adds nothing.
    let again = engine.ingest(events).await.unwrap();
    assert_eq!((again.added, again.duplicates), (0, 3));
    assert_eq!(engine.window_size(), (2, 3));

    let feedback = |id: String| Feedback {
        verdict: "OVERRIDE".into(),
        correct_label: Some("brute force".into()),
        target: FeedbackTarget::Prediction(id),
    };
    let receipt = engine.feedback(feedback(first.prediction_id.to_string())).await.unwrap();
    assert!(receipt.was_override || first.class() == "Brute Force");
    let stored = engine.samples().sample(receipt.sample_id).unwrap().unwrap();
    assert_eq!(stored.entity, "192.0.2.1");
    assert_eq!(stored.features, first.features.as_slice());
    // A retry returns the stored sample; a different verdict is refused.
    let again = engine.feedback(feedback(first.prediction_id.to_string())).await.unwrap();
    assert_eq!((again.sample_id, again.replayed), (receipt.sample_id, true));
    let different = Feedback {
        verdict: "UNCERTAIN".into(),
        correct_label: None,
        target: FeedbackTarget::Prediction(first.prediction_id.to_string()),
    };
    let second = engine.feedback(different).await.unwrap_err();
    assert!(
        matches!(second, EngineError::FeedbackExists { sample_id, .. } if sample_id == receipt.sample_id),
        "{second}"
    );
    // After a restart (a new engine, an empty ledger, the same store) a retry still gets the
    // stored sample, and a different verdict is still refused.
    let restarted = vigil_engine::Engine::from_parts(
        engine.config().clone(),
        vigil_store::AnyCache::Memory(vigil_store::MemoryCache::new(
            vigil_store::MemoryConfig::default(),
        )),
        engine.samples().clone(),
        Intel::new(),
    );
    let again = restarted.feedback(feedback(first.prediction_id.to_string())).await.unwrap();
    assert_eq!((again.sample_id, again.replayed), (receipt.sample_id, true));
    let other = Feedback {
        verdict: "CONFIRM".into(),
        correct_label: None,
        target: FeedbackTarget::Prediction(first.prediction_id.to_string()),
    };
    let e = restarted.feedback(other).await.unwrap_err();
    assert!(matches!(e, EngineError::FeedbackExists { .. }), "{e}");
    let unknown = engine.feedback(feedback("0".repeat(32))).await.unwrap_err();
    assert!(matches!(unknown, EngineError::UnknownPrediction { .. }), "{unknown}");
    let status = engine.status().await.unwrap();
    assert_eq!(status["model_version"], "t1");
    assert_eq!(status["override_rate"]["verdicts"], 1, "{status}");
}

#[tokio::test]
async fn scoring_changes_no_window_and_entities_show_named_features() {
    let (engine, _dir) = engine_with(|_| {}, Intel::new());
    let verdict = engine.score_events(vec![login("203.0.113.9", 0, "root")], None).unwrap();
    assert_eq!(verdict.window.unwrap().events, 1);
    assert_eq!(engine.window_size(), (0, 0));
    let e = engine.score_entity(ip("203.0.113.9")).await.unwrap_err();
    assert!(matches!(e, EngineError::UnknownEntity { .. }), "{e}");
    let e = engine
        .score_events(vec![login("203.0.113.9", 0, "a"), login("203.0.113.10", 0, "b")], None)
        .unwrap_err();
    assert!(e.to_string().contains("2 sources (203.0.113.9, 203.0.113.10)"), "{e}");
    let e = engine.score_events(vec![login("203.0.113.9", 0, "a")], Some("10.0.0.1")).unwrap_err();
    assert!(matches!(e, EngineError::EntityMismatch { .. }), "{e}");
    let e = engine.score_vector(&[f32::NAN; 100], None).unwrap_err();
    assert!(matches!(e, EngineError::InvalidFeatures(_)), "{e}");
    let v = engine.score_vector(&[0.0; 100], Some("host-7")).unwrap();
    assert_eq!(v.entity, "host-7");

    engine
        .ingest(vec![login("203.0.113.9", 0, "root"), login("203.0.113.9", 90, "admin")])
        .await
        .unwrap();
    let view = engine.entity(ip("203.0.113.9")).await.unwrap();
    assert_eq!(view.events, 2);
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["window"]["events"], 2);
    assert_eq!(json["window"]["first_event"], "2018-05-06T09:46:40Z");
    assert_eq!(json["window"]["last_event"], "2018-05-06T09:48:10Z");
    let names: Vec<&str> =
        json["features"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, vigil_features::feature_names());
    assert_eq!(json["features"]["failed_login_count"], f64::from(3f32.ln()));
    // The vector ingest computed was cached; the entity view reads it from there.
    assert_eq!(view.provenance.source, Source::Cache);
    // Scoring a known entity gives the same vector.
    let scored = engine.score_entity(ip("203.0.113.9")).await.unwrap();
    assert_eq!(scored.features, view.features);
}

#[tokio::test]
async fn a_feed_change_never_serves_a_vector_cached_under_the_old_feeds() {
    let (engine, _dir) = engine_with(|_| {}, Intel::new());
    // 185.220.101.4 is a Tor exit in the Tor Project's list.
    let tor = "185.220.101.4";
    engine.ingest(vec![login(tor, 0, "root")]).await.unwrap();
    let before = engine.entity(ip(tor)).await.unwrap();
    assert_eq!(before.provenance.source, Source::Cache);
    engine
        .intel()
        .load(FeedKind::TorExits, shared("intel/torproject_exit-addresses_2024-03-12.txt"))
        .unwrap();
    let after = engine.entity(ip(tor)).await.unwrap();
    assert_eq!(after.provenance.source, Source::Computed);
    assert_ne!(after.featurizer, before.featurizer);
    let is_tor = vigil_features::feature_index("tor_exit_node").unwrap();
    assert_eq!(before.features.as_slice()[is_tor], 0.0);
    assert_eq!(after.features.as_slice()[is_tor], 1.0);
}

#[tokio::test]
async fn without_a_model_nothing_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::rooted_at(dir.path());
    config.learning.bootstrap.enabled = false;
    let engine = Engine::open(config).await.unwrap();
    engine.prepare().await.unwrap();
    assert!(engine.model().is_none());
    let e = engine.ingest(vec![login("192.0.2.1", 0, "root")]).await.unwrap_err();
    assert!(matches!(e, EngineError::NoModel), "{e}");
    assert_eq!(engine.window_size(), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_champion_is_bootstrapped_in_process_with_the_learning_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::rooted_at(dir.path());
    config.learning.bootstrap.entities = 400;
    config.learning.retrain.model =
        vigil_retrain::ModelConfig::Forest(vigil_retrain::ForestConfig {
            n_trees: 12,
            ..vigil_retrain::ForestConfig::default()
        });
    config.intel = crate::real_intel();
    let engine = Engine::open(config).await.unwrap();
    engine.prepare().await.unwrap();
    let model = engine.model().expect("a bootstrapped champion");
    assert_eq!(model.version(), "v1");
    // Recorded as a job in the sample store, like any retrain.
    let jobs = engine.samples().recent_jobs(5).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!((jobs[0].trigger.as_str(), jobs[0].status), ("bootstrap", JobStatus::Succeeded));
    // The run used the configured recipe (the worker's settings, not the defaults).
    assert_eq!(model.artifact().model.name(), "forest");
    let reports: Vec<_> = std::fs::read_dir(dir.path().join("reports")).unwrap().collect();
    assert_eq!(reports.len(), 1, "one run report in learning.reports");
    // A second engine on the same registry finds the champion and trains nothing.
    let again = Engine::open(engine.config().clone()).await.unwrap();
    again.prepare().await.unwrap();
    assert_eq!(again.model().unwrap().version(), "v1");
    assert_eq!(again.samples().recent_jobs(5).unwrap().len(), 1);
}

#[tokio::test]
async fn verdicts_are_routed_and_the_route_travels_to_samples_and_status() {
    let events: Vec<Event> = (0..6)
        .flat_map(|i| (0..=i).map(move |j| login(&format!("192.0.2.{}", i + 1), j * 7, "root")))
        .collect();
    // Default bands: each verdict's route is its confidence's band.
    let (engine, _dir) = engine_with(|_| {}, Intel::new());
    let verdicts = engine.ingest(events.clone()).await.unwrap().verdicts;
    for v in &verdicts {
        let band = match v.confidence() {
            c if c >= 0.90 => Route::Autonomous,
            c if c >= 0.50 => Route::Council,
            _ => Route::Human,
        };
        assert_eq!(v.route, band, "{} at {}", v.class(), v.confidence());
        assert_eq!(serde_json::to_value(v).unwrap()["route"], band.as_str());
    }
    // Everything autonomous, except the first verdict's class, which goes to the council.
    let class = verdicts[0].class().to_owned();
    let (engine, _dir) = engine_with(
        |c| {
            c.routing.autonomous_at = 0.0;
            c.routing.council_at = 0.0;
            c.routing.by_class.insert(class.clone(), Route::Council);
        },
        Intel::new(),
    );
    let verdicts = engine.ingest(events).await.unwrap().verdicts;
    for v in &verdicts {
        let expected = if v.class() == class { Route::Council } else { Route::Autonomous };
        assert_eq!(v.route, expected, "{}", v.class());
    }
    // The route is stored with the feedback and counted in the status.
    let first = &verdicts[0];
    let receipt = engine
        .feedback(Feedback {
            verdict: "CONFIRM".into(),
            correct_label: None,
            target: FeedbackTarget::Prediction(first.prediction_id.to_string()),
        })
        .await
        .unwrap();
    let stored = engine.samples().sample(receipt.sample_id).unwrap().unwrap();
    assert_eq!(stored.route, Some(Route::Council));
    let status = engine.status().await.unwrap();
    let rates = &status["override_rate"];
    assert_eq!(rates["by_route"]["council"]["verdicts"], 1);
    assert_eq!(rates["by_route"]["council"]["overrides"], 0);
    assert_eq!(rates["by_class"][class.as_str()]["verdicts"], 1);
    // A bare vector's feedback gets the route its prediction would have taken.
    let receipt = engine
        .feedback(Feedback {
            verdict: "OVERRIDE".into(),
            correct_label: Some(if class == "Normal" { "APT" } else { "Normal" }.into()),
            target: FeedbackTarget::Features {
                features: first.features.as_slice().to_vec(),
                entity: Some("analyst-1".into()),
                prediction: Some((class.clone(), 0.3, "t1".into())),
            },
        })
        .await
        .unwrap();
    let stored = engine.samples().sample(receipt.sample_id).unwrap().unwrap();
    assert_eq!(stored.route, Some(Route::Council));
    let status = engine.status().await.unwrap();
    assert_eq!(status["override_rate"]["by_route"]["council"]["overrides"], 1);
}

#[tokio::test]
async fn without_keep_autonomous_only_routed_verdicts_are_written() {
    let events: Vec<Event> =
        (0..6).map(|i| login(&format!("198.51.100.{}", i + 1), i, "admin")).collect();
    // First every verdict goes to a human, then the same sources are judged autonomously.
    let dir = tempfile::tempdir().unwrap();
    let configure = |everything: Route| {
        let database = dir.path().join("vigil.db");
        move |c: &mut Config| {
            c.database = database.clone();
            c.reviews.keep_autonomous = false;
            let at = if everything == Route::Human { 1.0 } else { 0.0 };
            (c.routing.autonomous_at, c.routing.council_at) = (at, at);
        }
    };
    let (engine, _scratch) = engine_with(configure(Route::Human), Intel::new());
    let human = engine.ingest(events.clone()).await.unwrap().verdicts;
    assert!(human.iter().all(|v| v.route == Route::Human));
    let open = engine.reviews(ReviewQuery::default()).await.unwrap().reviews;
    assert_eq!(open.len(), 6, "routed verdicts are kept");
    drop(engine);
    let (engine, _scratch) = engine_with(configure(Route::Autonomous), Intel::new());
    let later: Vec<Event> = events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.timestamp = Timestamp::from_micros(e.timestamp.as_micros() + 60_000_000).unwrap();
            e
        })
        .collect();
    let autonomous = engine.ingest(later).await.unwrap().verdicts;
    assert!(autonomous.iter().all(|v| v.route == Route::Autonomous));
    for v in &autonomous {
        let kept = engine.samples().prediction(&v.prediction_id.to_string()).unwrap();
        assert!(kept.is_none(), "an autonomous verdict is not written");
    }
    // ...but it still supersedes the sources' older review items.
    assert!(engine.reviews(ReviewQuery::default()).await.unwrap().reviews.is_empty());
    let superseded = ReviewQuery { filter: ReviewFilter::Superseded, ..ReviewQuery::default() };
    assert_eq!(engine.reviews(superseded).await.unwrap().reviews.len(), 6);
}

#[tokio::test]
async fn routed_verdicts_are_review_items_that_survive_a_restart_and_close_on_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let everything_human = |c: &mut Config| {
        c.database = dir.path().join("vigil.db");
        c.routing.autonomous_at = 1.0;
        c.routing.council_at = 1.0;
    };
    let (engine, _scratch) = engine_with(everything_human, Intel::new());
    let events: Vec<Event> =
        (0..4).map(|i| login(&format!("198.51.100.{}", i + 1), i, "admin")).collect();
    let verdicts = engine.ingest(events.clone()).await.unwrap().verdicts;
    assert!(verdicts.iter().all(|v| v.route == Route::Human));
    let page = engine.reviews(ReviewQuery::default()).await.unwrap();
    let listed: Vec<String> = page.reviews.iter().map(|r| r.prediction_id.clone()).collect();
    let made: Vec<String> = verdicts.iter().map(|v| v.prediction_id.to_string()).collect();
    assert_eq!(listed, made, "every human-routed verdict is a review item, oldest first");
    let item = &page.reviews[0];
    assert_eq!(
        (item.entity.as_str(), item.class.as_str()),
        (verdicts[0].entity.as_str(), verdicts[0].class())
    );
    assert_eq!(item.features, verdicts[0].features.as_slice());

    // A claim, then a second reviewer is refused; a bad lease names the bound.
    let first = made[0].clone();
    let claimed = engine.claim(&first, "alice", Some(300)).await.unwrap();
    assert_eq!(claimed.claimed_by.as_deref(), Some("alice"));
    let held = engine.claim(&first, "bob", None).await.unwrap_err();
    assert!(matches!(held, EngineError::ReviewHeld { ref by, .. } if by == "alice"), "{held}");
    let long = engine.claim(&made[1], "bob", Some(10_000_000)).await.unwrap_err();
    assert!(long.to_string().contains("max_lease_secs"), "{long}");

    // Restart: a new engine on the same database, with an empty ledger.
    drop(engine);
    let (engine, _scratch) = engine_with(everything_human, Intel::new());
    let claimed = engine
        .reviews(ReviewQuery { filter: ReviewFilter::Claimed, ..ReviewQuery::default() })
        .await
        .unwrap();
    assert_eq!(claimed.reviews.len(), 1);
    assert_eq!(claimed.reviews[0].claimed_by.as_deref(), Some("alice"));
    // Feedback by the id of a verdict made before the restart is taken and closes the item.
    let receipt = engine
        .feedback(Feedback {
            verdict: "CONFIRM".into(),
            correct_label: None,
            target: FeedbackTarget::Prediction(first.clone()),
        })
        .await
        .unwrap();
    assert!(!receipt.replayed);
    let stored = engine.samples().sample(receipt.sample_id).unwrap().unwrap();
    assert_eq!(
        (stored.entity.as_str(), stored.route),
        (verdicts[0].entity.as_str(), Some(Route::Human))
    );
    let closed = engine
        .reviews(ReviewQuery { filter: ReviewFilter::Closed, ..ReviewQuery::default() })
        .await
        .unwrap();
    assert_eq!(closed.reviews[0].prediction_id, first);
    assert_eq!(closed.reviews[0].sample_id, Some(receipt.sample_id));
    assert!(matches!(
        engine.claim(&first, "bob", None).await,
        Err(EngineError::ReviewClosed { .. })
    ));
    let pending = engine.reviews(ReviewQuery::default()).await.unwrap();
    assert_eq!(pending.reviews.len(), 3);

    // Without keeping, nothing is kept and nothing is listed.
    let (engine, _scratch) = engine_with(|c| c.reviews.keep_predictions = false, Intel::new());
    engine.ingest(events).await.unwrap();
    let all = ReviewQuery { filter: ReviewFilter::All, ..ReviewQuery::default() };
    assert!(engine.reviews(all).await.unwrap().reviews.is_empty());
}

#[test]
fn input_time_zones_are_checked_by_name() {
    let mut config = Config::default();
    config.input.time_zones.insert("heralding".into(), "Asia/Tokyo".into());
    config.check().unwrap();
    let options = config.input.parse_options(None).unwrap();
    let zone = |f| options.zone_for(f).iana_name().map(str::to_owned);
    assert_eq!(zone(vigil_features::Format::Heralding).as_deref(), Some("Asia/Tokyo"));
    assert_eq!(zone(vigil_features::Format::Tanner).as_deref(), Some("UTC"));
    // A zone that does not exist, or a format that does not, is named in the error.
    config.input.time_zone = "Mars/Olympus".into();
    let e = config.check().unwrap_err().to_string();
    assert!(e.contains("input.time_zone = \"Mars/Olympus\" is not a time zone"), "{e}");
    config.input.time_zone = "UTC".into();
    config.input.time_zones.insert("glastopf".into(), "UTC".into());
    let e = config.check().unwrap_err().to_string();
    assert!(e.contains("input.time_zones.glastopf: unknown event format"), "{e}");
}
