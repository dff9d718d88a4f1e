//! Every endpoint and every bad input, through `app(state)` without a socket.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn check_verdict(v: &Value, version: &str) {
    let id = v["prediction_id"].as_str().unwrap();
    assert_eq!(id.len(), 32, "{v}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let probs = v["probabilities"].as_object().unwrap();
    let names: Vec<&str> = probs.keys().map(String::as_str).collect();
    assert_eq!(names.len(), 7);
    for class in vigil_core::ClassSet::threat().names() {
        assert!(probs.contains_key(class), "{class} missing in {v}");
    }
    let sum: f64 = probs.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    let class = v["class"].as_str().unwrap();
    assert_eq!(v["confidence"].as_f64(), probs[class].as_f64());
    assert_eq!(v["decision"]["thresholds"].as_object().unwrap().len(), 7);
    assert_eq!(v["decision"]["passed"].as_object().unwrap().len(), 7);
    assert!(v["decision"]["fallback"].is_boolean());
    assert_eq!(v["model_version"], version);
    assert_eq!(v["schema_version"], vigil_features::SCHEMA_VERSION);
    assert!(v["features"]["source"].is_string());
    assert!(v["features"]["stale"].is_boolean());
}

#[tokio::test]
async fn health_and_readiness() {
    let s = server();
    let r = get(&s.app, "/healthz", None).await;
    assert_eq!((r.status, r.json["status"].as_str()), (StatusCode::OK, Some("ok")));
    let r = get(&s.app, "/readyz", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["status"], "ready");
    assert_eq!(r.json["model"], "t1");
    assert_eq!(r.json["sample_store"], "ok");
    assert_eq!(r.json["cache"]["backend"], "memory");

    let s = server_with(|_| {}, false);
    let r = get(&s.app, "/readyz", None).await;
    assert_eq!(
        (r.status, r.json["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("not_ready"))
    );
    assert_eq!(get(&s.app, "/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn events_give_one_verdict_per_source_and_report_rejected_lines() {
    let s = server();
    let mut batch = cowrie_logins("203.0.113.7", 5, 0);
    batch.push_str("this is not json\n");
    batch.push_str(&cowrie_logins("198.51.100.9", 3, 100));
    batch.push_str("{\"eventid\":\"cowrie.login.failed\",\"src_ip\":\"192.0.2.1\"}\n");
    let r = ingest(&s.app, "/v1/events", batch).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["format"], "cowrie");
    assert_eq!(r.json["accepted"], 8);
    assert_eq!(r.json["added"], 8);
    let rejected = r.json["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["line"], 6);
    assert!(rejected[0]["reason"].as_str().unwrap().contains("invalid JSON"), "{}", r.json);
    assert_eq!(rejected[1]["line"], 10);
    assert_eq!(rejected[1]["reason"], "missing timestamp");
    let verdicts = r.json["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 2);
    let entities: Vec<&str> = verdicts.iter().map(|v| v["entity"].as_str().unwrap()).collect();
    assert!(entities.contains(&"203.0.113.7") && entities.contains(&"198.51.100.9"));
    for v in verdicts {
        check_verdict(v, "t1");
        assert_eq!(v["features"]["source"], "computed");
        assert!(v["features"]["as_of"].as_str().unwrap().starts_with("2018-05-06T22:"));
    }
    let seven = verdicts.iter().find(|v| v["entity"] == "203.0.113.7").unwrap();
    assert_eq!(seven["window"], json!({ "events": 5, "added": 5, "duplicates": 0 }));

    // More events for one entity: its window grows; its old cached vector is stale.
    let r = ingest(&s.app, "/v1/events?format=cowrie", cowrie_logins("203.0.113.7", 2, 200)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let v = &r.json["verdicts"][0];
    assert_eq!(v["window"]["events"], 7);
    assert_eq!(v["features"]["source"], "computed");
    assert_eq!(v["features"]["stale"], true);
    assert_eq!(v["features"]["stale_reason"], "behind_events");

    // A retried batch is not double-counted, and the cached vector is served.
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.7", 2, 200)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!((r.json["added"].as_u64(), r.json["duplicates"].as_u64()), (Some(0), Some(2)));
    let v = &r.json["verdicts"][0];
    assert_eq!(v["window"], json!({ "events": 7, "added": 0, "duplicates": 2 }));
    assert_eq!(v["features"]["source"], "cache");
    assert_eq!(v["features"]["stale"], false);
}

#[tokio::test]
async fn events_accept_the_mini_xdr_ingest_shapes() {
    let s = server();
    let envelope = json!({
        "source_type": "cowrie",
        "hostname": "honeypot-1",
        "events": [
            {"eventid": "cowrie.login.failed", "src_ip": "192.0.2.44", "timestamp": "2025-09-14T03:48:49Z",
             "username": "admin", "password": "admin"},
            {"eventid": "cowrie.command.input", "src_ip": "192.0.2.44", "timestamp": "2025-09-14T03:48:52Z",
             "input": "uname -a"}
        ]
    });
    let r = ingest_json(&s.app, "/v1/events", &envelope).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["format"], "ingest");
    assert_eq!(r.json["accepted"], 2);
    assert_eq!(r.json["verdicts"][0]["entity"], "192.0.2.44");
    let list = json!([{"eventid": "cowrie.session.connect", "src_ip": "192.0.2.45",
                       "timestamp": 1_757_821_729, "dst_port": 22}]);
    let r = ingest_json(&s.app, "/v1/events?format=ingest", &list).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["verdicts"][0]["entity"], "192.0.2.45");
}

/// Whether the server holds a window for `ip` (404 when not).
async fn known(s: &TestServer, ip: &str) -> StatusCode {
    post_json(&s.app, "/v1/score", None, &json!({ "entity": ip })).await.status
}

#[tokio::test]
async fn bad_event_batches_are_4xx_and_change_nothing() {
    let s = server_with(|c| c.server.limits.max_events_per_request = 5, true);
    let r = ingest(&s.app, "/v1/events", "not json\n{\"also\": \"bad\"}\n").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    assert!(
        r.error().starts_with("no event in the batch could be read (2 rejected): line 1"),
        "{}",
        r.error()
    );
    assert_eq!(r.json["details"]["rejected"].as_array().unwrap().len(), 2);
    let r = ingest(&s.app, "/v1/events", "").await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, "the request body holds no events")
    );
    let r = ingest(&s.app, "/v1/events?format=bro", cowrie_logins("203.0.113.7", 1, 0)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().contains("unknown event format \"bro\""), "{}", r.error());
    let r = ingest(&s.app, "/v1/events?colour=blue", cowrie_logins("203.0.113.7", 1, 0)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().contains("unknown field `colour`"), "{}", r.error());
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.7", 6, 0)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.error(),
        "the batch holds 6 events, the limit is 5 per request; nothing was applied"
    );
    assert_eq!(
        known(&s, "203.0.113.7").await,
        StatusCode::NOT_FOUND,
        "nothing of the refused batch was applied"
    );
    // Accepted after all that: nothing was lost, nothing half-applied.
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.7", 5, 0)).await;
    assert_eq!((r.status, r.json["added"].as_u64()), (StatusCode::OK, Some(5)));

    let s = server_with(|c| c.server.limits.max_body_bytes = 1000, true);
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.7", 40, 0)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.error(), "request body is larger than the limit of 1000 bytes");

    let s = server_with(|_| {}, false);
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.7", 3, 0)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.error().starts_with("no model is loaded yet"), "{}", r.error());
    s.state.engine().set_model(tiny_model("t1", 1));
    assert_eq!(
        known(&s, "203.0.113.7").await,
        StatusCode::NOT_FOUND,
        "the refused batch left no window"
    );
}

#[tokio::test]
async fn score_a_vector_events_or_a_known_entity_without_changing_state() {
    let s = server();
    let r = post_json(
        &s.app,
        "/v1/score",
        None,
        &json!({ "features": vector(0.5), "entity": "host-1" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let v = &r.json["verdict"];
    check_verdict(v, "t1");
    assert_eq!(
        (v["entity"].as_str(), v["features"]["source"].as_str()),
        (Some("host-1"), Some("request"))
    );
    assert!(v.get("window").is_none());

    let events: Vec<Value> = cowrie_logins("203.0.113.8", 4, 0)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let r = post_json(&s.app, "/v1/score", None, &json!({ "events": events, "format": "cowrie" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let v = &r.json["verdict"];
    check_verdict(v, "t1");
    assert_eq!(v["entity"], "203.0.113.8");
    assert_eq!(v["features"]["source"], "computed");
    assert_eq!(v["window"]["events"], 4);
    // Pretty-printed objects are fine too (they are re-serialised one per line).
    let pretty: Vec<Value> = events.clone();
    let body = serde_json::to_string_pretty(&json!({ "events": pretty })).unwrap();
    let r = post(&s.app, "/v1/score", None, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    // Scoring changed no window.
    let r = post_json(&s.app, "/v1/score", None, &json!({ "entity": "203.0.113.8" })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error(), "no events are known for entity 203.0.113.8");

    // A known entity: its window as the server holds it, the vector from the cache.
    ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.9", 3, 0)).await;
    let r = post_json(&s.app, "/v1/score", None, &json!({ "entity": "203.0.113.9" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let v = &r.json["verdict"];
    assert_eq!(
        (v["features"]["source"].as_str(), v["window"]["events"].as_u64()),
        (Some("cache"), Some(3))
    );
}

#[tokio::test]
async fn score_event_lines_parsed_once() {
    let s = server();
    let r =
        post_lines(&s.app, "/v1/score?format=cowrie", cowrie_logins("203.0.113.21", 6, 0)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let v = &r.json["verdict"];
    check_verdict(v, "t1");
    assert_eq!(
        (v["entity"].as_str(), v["window"]["events"].as_u64()),
        (Some("203.0.113.21"), Some(6))
    );
    // The same events as a JSON request give the same verdict.
    let events: Vec<Value> = cowrie_logins("203.0.113.21", 6, 0)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let j = post_json(&s.app, "/v1/score", None, &json!({ "events": events })).await;
    assert_eq!(j.json["verdict"]["probabilities"], v["probabilities"]);

    let mut lines = cowrie_logins("203.0.113.21", 1, 0);
    lines.push_str("{\"eventid\": \"cowrie.login.failed\"\n");
    let r = post_lines(&s.app, "/v1/score", lines).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error().starts_with("line 2 cannot be read: invalid JSON"), "{}", r.error());
    assert_eq!(r.json["details"]["rejected"][0]["line"], 2);
    let two = cowrie_logins("192.0.2.1", 1, 0) + &cowrie_logins("192.0.2.2", 1, 0);
    let r = post_lines(&s.app, "/v1/score", two).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post_lines(&s.app, "/v1/score", "  \n").await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::UNPROCESSABLE_ENTITY, "the request body holds no events")
    );
    let r = post_lines(&s.app, "/v1/score?format=bro", "x").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post_json(&s.app, "/v1/score?format=cowrie", None, &json!({ "features": vector(0.0) }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("with a JSON body, give format in the body"), "{}", r.error());
}

#[tokio::test]
async fn bad_score_requests_name_the_problem() {
    let s = server();
    let check = |body: String, status: StatusCode, message: &'static str| {
        let app = s.app.clone();
        async move {
            let r = post(&app, "/v1/score", None, body.clone()).await;
            assert_eq!(r.status, status, "{body}: {}", r.json);
            assert!(r.error().contains(message), "{body}: {:?} lacks {message:?}", r.error());
        }
    };
    let bad = StatusCode::BAD_REQUEST;
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    check("{\"features\": [1.0, 2.0".into(), bad, "malformed JSON: EOF while parsing").await;
    check("{\"features\": [NaN]}".into(), bad, "malformed JSON").await;
    check(String::new(), bad, "the request body is empty").await;
    check(
        "{\"features\": \"zero\"}".into(),
        bad,
        "invalid type: string \"zero\", expected a sequence",
    )
    .await;
    check("{\"features\": [1, null]}".into(), bad, "invalid type: null, expected f32").await;
    check("{\"featurs\": []}".into(), bad, "unknown field `featurs`").await;
    check("{}".into(), bad, "give one of: events").await;
    check(
        json!({ "features": vector(0.0)[..99] }).to_string(),
        invalid,
        "feature schema v2 has 100 features, got 99 values",
    )
    .await;
    let mut v = vector(0.0);
    v.push(1.0);
    check(json!({ "features": v }).to_string(), invalid, "got 101 values").await;
    let mut text = json!({ "features": vector(0.0) }).to_string();
    text = text.replacen("0.0", "1e39", 1);
    check(text, invalid, "feature hour_sin (index 0) is not finite: inf").await;
    check(json!({ "features": vector(0.0), "events": [] }).to_string(), bad, "not both").await;
    check(json!({ "events": [] }).to_string(), invalid, "events is empty").await;
    let two: Vec<Value> = (cowrie_logins("192.0.2.1", 1, 0) + &cowrie_logins("192.0.2.2", 1, 0))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    check(
        json!({ "events": two }).to_string(),
        invalid,
        "the events come from 2 sources (192.0.2.1, 192.0.2.2)",
    )
    .await;
    check(
        json!({ "events": [{"eventid": "cowrie.login.failed", "src_ip": "192.0.2.1"}] })
            .to_string(),
        invalid,
        "event 0 cannot be read: missing timestamp",
    )
    .await;
    check(
        json!({ "entity": "not-an-ip" }).to_string(),
        bad,
        "entity \"not-an-ip\" is not an IP address",
    )
    .await;
    check(
        json!({ "features": vector(0.0), "format": "cowrie" }).to_string(),
        bad,
        "format applies to events only",
    )
    .await;
}

#[tokio::test]
async fn feedback_by_prediction_id_is_stored_before_the_reply() {
    let s = server();
    let r =
        post_json(&s.app, "/v1/score", None, &json!({ "features": vector(2.0), "entity": "h" }))
            .await;
    let id = r.json["verdict"]["prediction_id"].as_str().unwrap().to_owned();
    let predicted = r.json["verdict"]["class"].as_str().unwrap().to_owned();
    let other = if predicted == "APT" { "Normal" } else { "APT" };

    let body = json!({ "prediction_id": id, "verdict": "OVERRIDE", "correct_label": other, "source": "council" });
    let r = post_json(&s.app, "/v1/feedback", None, &body).await;
    assert_eq!((r.status, r.error()), (StatusCode::UNAUTHORIZED, "missing bearer token"));
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    let r = post_json(&s.app, "/v1/feedback", Some("not-a-token-at-all-xxxxx"), &body).await;
    assert_eq!((r.status, r.error()), (StatusCode::UNAUTHORIZED, "invalid bearer token"));

    let r = post_json(&s.app, "/v1/feedback", Some(FEEDBACK), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["verdict"], "OVERRIDE");
    assert_eq!(r.json["was_override"], true);
    assert_eq!(r.json["ml_prediction"], predicted.as_str());
    assert_eq!(r.json["correct_label"], other);
    assert_eq!(r.json["model_version"], "t1");
    let sample_id = r.json["sample_id"].as_i64().unwrap();
    // Acknowledged means stored: read it back from SQLite.
    let sample = s.state.engine().samples().sample(sample_id).unwrap().unwrap();
    assert_eq!(sample.ml_prediction, predicted);
    assert_eq!(sample.correct_label.as_deref(), Some(other));
    assert!(sample.was_override);
    assert_eq!(sample.features, vector(2.0));
    assert_eq!(sample.entity, "h");
    assert_eq!(sample.model_version, "t1");

    // The same feedback again (a retry): the stored sample, nothing stored twice.
    let r = post_json(&s.app, "/v1/feedback", Some(ADMIN), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        (r.json["sample_id"].as_i64(), &r.json["replayed"]),
        (Some(sample_id), &json!(true))
    );
    // A different one: 409 naming the stored verdict.
    let other_body = json!({ "prediction_id": id, "verdict": "UNCERTAIN" });
    let r = post_json(&s.app, "/v1/feedback", Some(ADMIN), &other_body).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.error(),
        format!(
            "prediction {id} already has feedback OVERRIDE {other} (sample {sample_id}); a different verdict is refused"
        )
    );
    assert_eq!(
        s.state.engine().samples().pending_count(vigil_features::SCHEMA_VERSION).unwrap(),
        1
    );

    // CONFIRM of another prediction: the correct label is the prediction.
    let r = post_json(&s.app, "/v1/score", None, &json!({ "features": vector(-1.0) })).await;
    let id2 = r.json["verdict"]["prediction_id"].as_str().unwrap().to_owned();
    let class2 = r.json["verdict"]["class"].as_str().unwrap().to_owned();
    let r = post_json(
        &s.app,
        "/v1/feedback",
        Some(FEEDBACK),
        &json!({ "prediction_id": id2, "verdict": "confirm" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["correct_label"], class2.as_str());
    assert_eq!(r.json["was_override"], false);
    let sample =
        s.state.engine().samples().sample(r.json["sample_id"].as_i64().unwrap()).unwrap().unwrap();
    // A vector without an entity gets a name of its own (not one shared "unknown", which
    // would put every such sample on one side of the holdout).
    assert!(sample.entity.starts_with("anon-") && sample.entity.len() == 21, "{}", sample.entity);
}

#[tokio::test]
async fn feedback_with_its_own_features() {
    let s = server();
    let body = json!({
        "features": vector(0.25), "entity": "203.0.113.50", "verdict": "FALSE_POSITIVE",
        "ml_prediction": "bruteforce", "ml_confidence": 0.81, "model_version": "v7",
    });
    let r = post_json(&s.app, "/v1/feedback", Some(FEEDBACK), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["verdict"], "OVERRIDE");
    assert_eq!(r.json["ml_prediction"], "Brute Force");
    assert_eq!(r.json["correct_label"], "Normal");
    let sample =
        s.state.engine().samples().sample(r.json["sample_id"].as_i64().unwrap()).unwrap().unwrap();
    assert_eq!(
        (sample.ml_prediction.as_str(), sample.model_version.as_str()),
        ("Brute Force", "v7")
    );
    assert_eq!(sample.correct_label.as_deref(), Some("Normal"));

    // Without the prediction, the current model scores the features.
    let r = post_json(
        &s.app,
        "/v1/feedback",
        Some(FEEDBACK),
        &json!({ "features": vector(0.25), "verdict": "UNCERTAIN" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["model_version"], "t1");
    assert_eq!(r.json["verdict"], "UNCERTAIN");
}

#[tokio::test]
async fn bad_feedback_names_the_problem_and_stores_nothing() {
    let s = server();
    let r = post_json(&s.app, "/v1/score", None, &json!({ "features": vector(2.0) })).await;
    let id = r.json["verdict"]["prediction_id"].as_str().unwrap().to_owned();
    let check = |body: Value, status: StatusCode, message: String| {
        let app = s.app.clone();
        async move {
            let r = post_json(&app, "/v1/feedback", Some(FEEDBACK), &body).await;
            assert_eq!(r.status, status, "{body}: {}", r.json);
            assert!(r.error().contains(&message), "{body}: {:?} lacks {message:?}", r.error());
        }
    };
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    check(
        json!({ "prediction_id": id, "verdict": "OVERRIDE", "correct_label": "Phishing" }),
        invalid,
        "unknown label \"Phishing\" (known classes: Normal, DDoS/DoS, Reconnaissance".into(),
    )
    .await;
    check(
        json!({ "prediction_id": id, "verdict": "OVERRIDE" }),
        invalid,
        "an OVERRIDE verdict must carry the correct label".into(),
    )
    .await;
    check(
        json!({ "prediction_id": id, "verdict": "MAYBE" }),
        invalid,
        "unknown council verdict \"MAYBE\" (expected CONFIRM, OVERRIDE or UNCERTAIN)".into(),
    )
    .await;
    check(json!({ "prediction_id": "0123456789abcdef0123456789abcdef", "verdict": "CONFIRM" }), StatusCode::NOT_FOUND,
        "unknown prediction id \"0123456789abcdef0123456789abcdef\" (not among the last 10000 in memory".into()).await;
    check(
        json!({ "prediction_id": "nope", "verdict": "CONFIRM" }),
        StatusCode::NOT_FOUND,
        "unknown prediction id \"nope\"".into(),
    )
    .await;
    check(
        json!({ "features": vector(0.0)[..10], "verdict": "CONFIRM" }),
        invalid,
        "feature schema v2 has 100 features, got 10 values".into(),
    )
    .await;
    check(
        json!({ "features": vector(0.0), "verdict": "CONFIRM", "ml_prediction": "APT" }),
        StatusCode::BAD_REQUEST,
        "give ml_prediction, ml_confidence and model_version together".into(),
    )
    .await;
    check(json!({ "features": vector(0.0), "verdict": "CONFIRM", "ml_prediction": "APT", "ml_confidence": 1.5, "model_version": "m" }),
        invalid, "ml_confidence 1.5 is outside [0, 1]".into()).await;
    check(json!({ "verdict": "CONFIRM" }), StatusCode::BAD_REQUEST, "give prediction_id".into())
        .await;
    check(
        json!({ "prediction_id": id, "features": vector(0.0), "verdict": "CONFIRM" }),
        StatusCode::BAD_REQUEST,
        "either prediction_id or features".into(),
    )
    .await;
    check(
        json!({ "prediction_id": id, "verdict": "CONFIRM", "correct_lable": "APT" }),
        StatusCode::BAD_REQUEST,
        "unknown field `correct_lable`".into(),
    )
    .await;
    check(
        json!({ "prediction_id": id }),
        StatusCode::BAD_REQUEST,
        "missing field `verdict`".into(),
    )
    .await;
    let r = post(&s.app, "/v1/feedback", Some(FEEDBACK), "{\"verdict\": ").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("malformed JSON"), "{}", r.error());
    // Nothing was stored, and the prediction still takes feedback.
    assert_eq!(
        s.state.engine().samples().pending_count(vigil_features::SCHEMA_VERSION).unwrap(),
        0
    );
    let r = post_json(
        &s.app,
        "/v1/feedback",
        Some(FEEDBACK),
        &json!({ "prediction_id": id, "verdict": "CONFIRM" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(
        s.state.engine().samples().pending_count(vigil_features::SCHEMA_VERSION).unwrap(),
        1
    );
}

#[tokio::test]
async fn model_learning_status_and_manual_retrain() {
    let s = server();
    let r = get(&s.app, "/v1/model", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["version"], "t1");
    assert_eq!(r.json["schema_version"], vigil_features::SCHEMA_VERSION);
    assert_eq!(r.json["feature_count"], 100);
    assert_eq!(r.json["classes"].as_array().unwrap().len(), 7);
    assert_eq!(r.json["model"], "gbdt");
    assert!(r.json["temperature"].as_f64().unwrap() > 0.0);
    assert_eq!(r.json["manifest"]["version"], "t1");

    let r = get(&s.app, "/v1/learning/status", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = get(&s.app, "/v1/learning/status", Some(FEEDBACK)).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::FORBIDDEN, "this token does not grant admin routes")
    );
    let r = get(&s.app, "/v1/learning/status", Some(ADMIN)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["pending_samples"], 0);
    assert_eq!(r.json["override_rate"]["verdicts"], 0);
    assert_eq!(r.json["next_retrain"]["due_now"], false);
    assert_eq!(r.json["recent_jobs"], json!([]));
    assert_eq!(r.json["model_version"], "t1");

    let body = json!({ "features": vector(1.0), "verdict": "OVERRIDE", "correct_label": "APT",
                       "ml_prediction": "Normal", "ml_confidence": 0.6, "model_version": "t1" });
    assert_eq!(
        post_json(&s.app, "/v1/feedback", Some(FEEDBACK), &body).await.status,
        StatusCode::CREATED
    );
    let r = get(&s.app, "/v1/learning/status", Some(ADMIN)).await;
    assert_eq!(r.json["pending_samples"], 1);
    assert_eq!(r.json["override_rate"]["overrides"], 1);
    assert_eq!(r.json["next_retrain"]["pending_needed"], 999);

    let r = post(&s.app, "/v1/learning/retrain", Some(FEEDBACK), "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_json(
        &s.app,
        "/v1/learning/retrain",
        Some(ADMIN),
        &json!({ "reason": "new campaign" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(r.json["status"], "queued");
    let r = post(&s.app, "/v1/learning/retrain", Some(ADMIN), "").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    let r = post(&s.app, "/v1/learning/retrain", Some(ADMIN), "{\"why\": 1}").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The requests are there for the worker to claim, once each.
    let claimed = s.state.engine().samples().claim_requests().unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        (claimed[0].requested_by.as_str(), claimed[0].reason.as_str()),
        ("api", "new campaign")
    );

    let s = server_with(|_| {}, false);
    let r = get(&s.app, "/v1/model", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn score_tokens_close_scoring_and_unknown_routes_are_json() {
    let s = server_with(
        |c| c.server.auth.score_tokens = vec!["score-token-for-tests-01234".into()],
        true,
    );
    let body = json!({ "features": vector(0.0) });
    assert_eq!(post_json(&s.app, "/v1/score", None, &body).await.status, StatusCode::UNAUTHORIZED);
    // Ingest needs an ingest (or admin) token: not a score token, not none.
    assert_eq!(post_lines(&s.app, "/v1/events", "x").await.status, StatusCode::UNAUTHORIZED);
    let r = call_typed(
        &s.app,
        axum::http::Method::POST,
        "/v1/events",
        Some("score-token-for-tests-01234"),
        Some("application/x-ndjson"),
        "x",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        post_json(&s.app, "/v1/score", Some("score-token-for-tests-01234"), &body).await.status,
        StatusCode::OK
    );
    assert_eq!(post_json(&s.app, "/v1/score", Some(FEEDBACK), &body).await.status, StatusCode::OK);
    let r =
        post_json(&s.app, "/v1/feedback", Some("score-token-for-tests-01234"), &json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = get(&s.app, "/v2/nothing", None).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "no route for GET /v2/nothing"));
    let r = get(&s.app, "/v1/score", None).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::METHOD_NOT_ALLOWED, "GET is not allowed on /v1/score")
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let s = server();
    ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.70", 3, 0)).await;
    let body = json!({ "features": vector(1.0), "verdict": "CONFIRM", "ml_prediction": "APT",
                       "ml_confidence": 0.9, "model_version": "t1" });
    post_json(&s.app, "/v1/feedback", Some(FEEDBACK), &body).await;
    let r = get(&s.app, "/metrics", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.json.as_str().unwrap();
    for needle in [
        "vigil_http_request_duration_seconds_bucket{route=\"/v1/events\",method=\"POST\",le=\"0.001\"}",
        "vigil_http_requests_total{route=\"/v1/events\",method=\"POST\",status=\"200\"}",
        "vigil_verdicts_total{class=",
        "vigil_feature_lookups_total{result=\"miss\"}",
        "vigil_feedback_total{verdict=\"CONFIRM\",route=\"autonomous\",class=\"APT\"}",
        "vigil_model_info{version=\"t1\"} 1",
        "vigil_cache_stats{kind=\"hits\"}",
        "vigil_window_entities",
        "vigil_events_total{outcome=\"accepted\"}",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    let verdicts = text.lines().find(|l| l.starts_with("vigil_verdicts_total{")).unwrap();
    assert!(verdicts.contains(",route=\""), "verdicts are counted by route: {verdicts}");
}

#[test]
fn the_docs_name_every_route() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let api = std::fs::read_to_string(root.join("API.md")).unwrap();
    let openapi = std::fs::read_to_string(root.join("openapi.yaml")).unwrap();
    for route in [
        "/v1/events",
        "/v1/score",
        "/v1/feedback",
        "/v1/reviews",
        "/v1/reviews/{id}/claim",
        "/v1/model",
        "/v1/entities/{ip}",
        "/v1/learning/status",
        "/v1/learning/retrain",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            api.contains(&format!("`{route}")) || api.contains(&format!(" {route}")),
            "API.md lacks {route}"
        );
        assert!(openapi.contains(&format!("  {route}:\n")), "openapi.yaml lacks {route}");
    }
    let config = std::fs::read_to_string(root.join("CONFIG.md")).unwrap();
    for key in ["max_body_bytes", "max_events_per_entity", "redis_key_prefix", "token_file"] {
        assert!(config.contains(key), "CONFIG.md lacks the config key {key}");
    }
}

#[tokio::test]
async fn a_request_that_never_finishes_its_body_times_out() {
    let s = server_with(|c| c.server.limits.request_timeout_ms = 200, true);
    let body = axum::body::Body::from_stream(futures::stream::pending::<
        Result<Vec<u8>, std::io::Error>,
    >());
    let started = std::time::Instant::now();
    let r = ingest(&s.app, "/v1/events", body).await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Counted like any other request.
    let text = get(&s.app, "/metrics", None).await.json.as_str().unwrap().to_owned();
    assert!(text.contains("route=\"/v1/events\",method=\"POST\",status=\"408\""), "{text}");
}

#[tokio::test]
async fn an_entity_shows_its_window_and_named_features() {
    let s = server();
    let r = ingest(&s.app, "/v1/events?format=cowrie", cowrie_logins("203.0.113.21", 3, 0)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = get(&s.app, "/v1/entities/203.0.113.21", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["entity"], "203.0.113.21");
    let events = r.json["window"]["events"].as_u64().unwrap();
    assert!(events >= 3, "{}", r.json);
    assert_eq!(r.json["provenance"]["source"], "cache");
    let features = r.json["features"].as_object().unwrap();
    let names: Vec<&str> = features.keys().map(String::as_str).collect();
    assert_eq!(names, vigil_features::feature_names());
    assert_eq!(features["event_count"].as_f64().unwrap() as f32, (1.0 + events as f32).ln());
    let r = get(&s.app, "/v1/entities/203.0.113.99", None).await;
    assert_eq!(
        (r.status, r.json["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_entity"))
    );
    let r = get(&s.app, "/v1/entities/not-an-ip", None).await;
    assert_eq!(
        (r.status, r.json["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_entity"))
    );
}

#[tokio::test]
async fn the_review_queue_lists_claims_and_closes_through_the_router() {
    // Every verdict to a human, so that each ingested source is a review item.
    let s = server_with(
        |c| {
            c.routing.autonomous_at = 1.0;
            c.routing.council_at = 1.0;
        },
        true,
    );
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.80", 3, 0)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.81", 2, 5)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["verdicts"][0]["route"], "human");

    assert_eq!(get(&s.app, "/v1/reviews", None).await.status, StatusCode::UNAUTHORIZED);
    let r = get(&s.app, "/v1/reviews?limit=1", Some(FEEDBACK)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let first = r.json["reviews"][0].clone();
    assert_eq!(
        (first["entity"].as_str(), first["route"].as_str()),
        (Some("203.0.113.80"), Some("human"))
    );
    assert_eq!(first["status"], "open");
    assert_eq!(first["features"].as_array().unwrap().len(), 100);
    let next = r.json["next"].as_str().expect("a full page has a cursor").to_owned();
    let r = get(&s.app, &format!("/v1/reviews?limit=1&after={next}"), Some(FEEDBACK)).await;
    assert_eq!(r.json["reviews"][0]["entity"], "203.0.113.81");
    assert_eq!(r.json["next"], Value::Null);

    // Bad queries name the parameter.
    for (uri, needle) in [
        ("/v1/reviews?status=sleeping", "unknown status \"sleeping\""),
        ("/v1/reviews?order=newest", "unknown order \"newest\""),
        ("/v1/reviews?route=robot", "unknown route \"robot\""),
        ("/v1/reviews?limit=-1", "limit"),
        ("/v1/reviews?colour=red", "colour"),
    ] {
        let r = get(&s.app, uri, Some(FEEDBACK)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.json);
        assert!(r.error().contains(needle), "{uri}: {}", r.error());
    }
    let r = get(&s.app, "/v1/reviews?limit=5000", Some(FEEDBACK)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error().contains("limit 5000"), "{}", r.error());

    // Claims: one lease at a time; unknown ids are 404.
    let id = first["prediction_id"].as_str().unwrap().to_owned();
    let claim = |who: &str| json!({ "reviewer": who, "lease_secs": 120 });
    let uri = format!("/v1/reviews/{id}/claim");
    let r = post_json(&s.app, &uri, Some(FEEDBACK), &claim("alice")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["claimed_by"], "alice");
    let r = post_json(&s.app, &uri, Some(FEEDBACK), &claim("bob")).await;
    assert_eq!((r.status, r.json["code"].as_str()), (StatusCode::CONFLICT, Some("review_held")));
    assert!(r.error().contains("claimed by alice"), "{}", r.error());
    let r = post_json(&s.app, "/v1/reviews/0123/claim", Some(FEEDBACK), &claim("bob")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post_json(&s.app, &uri, Some(FEEDBACK), &json!({ "reviewer": "" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    let r = get(&s.app, "/v1/reviews?status=claimed", Some(FEEDBACK)).await;
    assert_eq!(r.json["reviews"].as_array().unwrap().len(), 1);

    // The feedback on the prediction closes it.
    let body = json!({ "prediction_id": id, "verdict": "CONFIRM" });
    let r = post_json(&s.app, "/v1/feedback", Some(FEEDBACK), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = get(&s.app, "/v1/reviews?status=closed", Some(FEEDBACK)).await;
    assert_eq!(r.json["reviews"][0]["prediction_id"], id.as_str());
    let r = post_json(&s.app, &uri, Some(FEEDBACK), &claim("bob")).await;
    assert_eq!((r.status, r.json["code"].as_str()), (StatusCode::CONFLICT, Some("review_closed")));
}

#[tokio::test]
async fn scoring_routes_explain_verdicts_on_request() {
    let s = server();
    let lines = cowrie_logins("203.0.113.99", 6, 0);
    let r = call_typed(
        &s.app,
        axum::http::Method::POST,
        "/v1/score?format=cowrie&explain=3",
        None,
        Some("application/x-ndjson"),
        lines.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let verdict = &r.json["verdict"];
    let e = &verdict["explanation"];
    assert_eq!(e["class"], verdict["class"]);
    let top = e["contributions"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    let sizes: Vec<f64> = top.iter().map(|c| c["contribution"].as_f64().unwrap().abs()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first: {sizes:?}");
    assert!(top[0]["feature"].is_string() && top[0]["value"].is_number());
    // With every feature, base plus the contributions is the score.
    let r = call_typed(
        &s.app,
        axum::http::Method::POST,
        "/v1/score?format=cowrie&explain=all",
        None,
        Some("application/x-ndjson"),
        lines.clone(),
    )
    .await;
    let e = &r.json["verdict"]["explanation"];
    let all = e["contributions"].as_array().unwrap();
    assert_eq!(all.len(), 100);
    let sum: f64 = all.iter().map(|c| c["contribution"].as_f64().unwrap()).sum();
    let (base, score) = (e["base"].as_f64().unwrap(), e["score"].as_f64().unwrap());
    assert!((base + sum - score).abs() < 1e-4, "{base} + {sum} != {score}");
    // Ingest explains each verdict too; without the parameter nothing is added.
    let r = ingest(&s.app, "/v1/events?explain=2", lines.clone()).await;
    assert_eq!(r.json["verdicts"][0]["explanation"]["contributions"].as_array().unwrap().len(), 2);
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.98", 2, 0)).await;
    assert!(r.json["verdicts"][0].get("explanation").is_none());
    for bad in ["0", "many", "-1"] {
        let r = ingest(&s.app, &format!("/v1/events?explain={bad}"), lines.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.error().contains("explain="), "{}", r.error());
    }
}

/// Zeek's ASCII `conn` log, the header lines first, as a shipper sends a batch.
fn zeek_conn(rows: &[(&str, &str, u16, &str)]) -> String {
    let mut text = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t\
         orig_bytes\tresp_bytes\tconn_state\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t\
         string\tcount\tcount\tcount\tcount\n",
    );
    for (i, (src, state, port, ts)) in rows.iter().enumerate() {
        use std::fmt::Write as _;
        let _ = writeln!(
            text,
            "{ts}\tC{i}\t{src}\t4{i:04}\t192.0.2.10\t{port}\ttcp\t-\t-\t0\t0\t{state}\t1\t44\t0\t0"
        );
    }
    text
}

#[tokio::test]
async fn zeek_batches_are_text_with_their_headers() {
    let s = server();
    let rows = [
        ("203.0.113.9", "S0", 23, "1525645445.100000"),
        ("203.0.113.9", "S0", 445, "1525645446.200000"),
        ("198.51.100.4", "REJ", 3389, "1525645447.300000"),
    ];
    let r = call_typed(
        &s.app,
        Method::POST,
        "/v1/events?format=zeek",
        Some(INGEST),
        Some("text/plain"),
        zeek_conn(&rows),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!((r.json["format"].as_str(), r.json["accepted"].as_u64()), (Some("zeek"), Some(3)));
    let verdicts = r.json["verdicts"].as_array().unwrap();
    let mut entities: Vec<&str> = verdicts.iter().map(|v| v["entity"].as_str().unwrap()).collect();
    entities.sort_unstable();
    assert_eq!(entities, ["198.51.100.4", "203.0.113.9"]);
    // Auto-detection reads the same batch.
    let r = call_typed(&s.app, Method::POST, "/v1/events", Some(INGEST), Some("text/plain"), {
        zeek_conn(&[("203.0.113.9", "S0", 22, "1525645448.000000")])
    })
    .await;
    assert_eq!((r.status, r.json["format"].as_str()), (StatusCode::OK, Some("zeek")));
    // A batch without its header lines is refused, saying what it lacks; nothing is added.
    let body: String =
        zeek_conn(&rows).lines().filter(|l| !l.starts_with('#')).flat_map(|l| [l, "\n"]).collect();
    let r = call_typed(
        &s.app,
        Method::POST,
        "/v1/events?format=zeek",
        Some(INGEST),
        Some("text/plain"),
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    assert!(r.error().contains("before any #fields header"), "{}", r.error());
    let entity = get(&s.app, "/v1/entities/198.51.100.4", None).await;
    assert_eq!(entity.json["window"]["events"], 1, "{}", entity.json);
}

#[tokio::test]
async fn times_without_an_offset_are_read_in_the_configured_zone_and_reported() {
    let line = r#"{"method":"GET","path":"/","headers":{},"uuid":"s1","peer":{"ip":"203.0.113.15","port":40111},"status":200,"response_msg":{"response":{"message":{"detection":{"name":"index","type":1}}}},"timestamp":"2020-01-26T04:38:12"}"#;
    // Default: UTC.
    let s = server();
    let r = ingest(&s.app, "/v1/events", line).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["format"], "tanner");
    assert_eq!(r.json["naive_times"], json!({ "events": 1, "read_in": "UTC" }));
    assert_eq!(r.json["verdicts"][0]["features"]["as_of"], "2020-01-26T04:38:12Z");
    // A Tanner sensor that writes Prague time (UTC+1 in January).
    let s = server_with(
        |c| {
            c.input.time_zones.insert("tanner".into(), "Europe/Prague".into());
        },
        true,
    );
    let r = ingest(&s.app, "/v1/events?format=tanner", line).await;
    assert_eq!(r.json["naive_times"], json!({ "events": 1, "read_in": "Europe/Prague" }));
    assert_eq!(r.json["verdicts"][0]["features"]["as_of"], "2020-01-26T03:38:12Z");
    // Times with an offset are not counted.
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.7", 1, 0)).await;
    assert!(r.json.get("naive_times").is_none(), "{}", r.json);
}
