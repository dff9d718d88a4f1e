//! The review webhook against a real receiver on a loopback port: retries after failures,
//! the signature and the bearer, giving up, and a receiver that never answers holding up
//! nothing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use vigil_engine::WebhookConfig;
use vigil_http::webhook::{self, DELIVERY_HEADER, SIGNATURE_HEADER};

use crate::support::*;

/// What the receiver saw: (headers, body) per request.
type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver answering 500 to its first `fail_first` requests, then `ok` (or never, when
/// `hang`); returns its URL and what it saw.
async fn receiver(fail_first: usize, hang: bool) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(move |State(seen): State<Seen>, headers: HeaderMap, body: String| async move {
                let n = {
                    let mut seen = seen.lock().unwrap();
                    seen.push((headers, body));
                    seen.len()
                };
                if hang {
                    tokio::time::sleep(Duration::from_hours(1)).await;
                }
                if n <= fail_first { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
            }),
        )
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn hook(url: String) -> WebhookConfig {
    WebhookConfig {
        url,
        bearer: Some("receiver-secret-token".into()),
        hmac_key: Some("signing-key".into()),
        backoff_ms: 10,
        max_backoff_ms: 40,
        timeout_ms: 1000,
        ..WebhookConfig::default()
    }
}

fn human_server() -> TestServer {
    server_with(
        |c| {
            c.routing.autonomous_at = 1.0;
            c.routing.council_at = 1.0;
        },
        true,
    )
}

async fn wait_for(seen: &Seen, n: usize) {
    let start = Instant::now();
    while seen.lock().unwrap().len() < n {
        assert!(start.elapsed() < Duration::from_secs(20), "the receiver saw too little");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn items_are_retried_until_the_receiver_takes_them_signed_and_with_the_bearer() {
    let (url, seen) = receiver(2, false).await;
    let s = human_server();
    let cancel = CancellationToken::new();
    webhook::spawn(s.state.engine(), hook(url), cancel.clone());
    let r = ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.90", 2, 0)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let id = r.json["verdicts"][0]["prediction_id"].as_str().unwrap().to_owned();
    // Two failures, then the item lands.
    wait_for(&seen, 3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "no attempt after the success");
    for (headers, body) in seen.iter() {
        assert_eq!(headers[DELIVERY_HEADER], id.as_str());
        assert_eq!(headers["authorization"], "Bearer receiver-secret-token");
        let expected = format!("sha256={}", webhook::signature(b"signing-key", body.as_bytes()));
        assert_eq!(headers[SIGNATURE_HEADER], expected.as_str());
        let item: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (item["prediction_id"].as_str(), item["route"].as_str()),
            (Some(id.as_str()), Some("human"))
        );
        assert_eq!(item["entity"], "203.0.113.90");
        assert_eq!(item["features"].as_array().unwrap().len(), 100);
    }
    cancel.cancel();
}

#[tokio::test]
async fn a_receiver_that_always_fails_gets_max_attempts_per_item() {
    let (url, seen) = receiver(usize::MAX, false).await;
    let s = human_server();
    let cancel = CancellationToken::new();
    webhook::spawn(
        s.state.engine(),
        WebhookConfig { max_attempts: 3, ..hook(url) },
        cancel.clone(),
    );
    ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.91", 1, 0)).await;
    ingest(&s.app, "/v1/events", cowrie_logins("203.0.113.92", 1, 9)).await;
    wait_for(&seen, 6).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = seen.lock().unwrap();
    let ids: Vec<&str> = seen.iter().map(|(h, _)| h[DELIVERY_HEADER].to_str().unwrap()).collect();
    assert_eq!(ids.len(), 6, "three attempts each, then on to the next item: {ids:?}");
    assert!(ids[..3].iter().all(|i| *i == ids[0]) && ids[3..].iter().all(|i| *i == ids[3]));
    assert_ne!(ids[0], ids[3]);
    cancel.cancel();
}

#[tokio::test]
async fn a_receiver_that_never_answers_holds_up_nothing() {
    let (url, seen) = receiver(0, true).await;
    let s = human_server();
    let cancel = CancellationToken::new();
    let config = WebhookConfig { queue: 2, timeout_ms: 60_000, ..hook(url) };
    webhook::spawn(s.state.engine(), config, cancel.clone());
    let start = Instant::now();
    for i in 0..30 {
        let r = ingest(&s.app, "/v1/events", cowrie_logins(&format!("198.51.100.{i}"), 1, i)).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    assert!(start.elapsed() < Duration::from_secs(10), "ingest waited: {:?}", start.elapsed());
    wait_for(&seen, 1).await;
    // Every item is in the review queue, whatever the webhook dropped.
    let r = get(&s.app, "/v1/reviews?limit=100", Some(FEEDBACK)).await;
    assert_eq!(r.json["reviews"].as_array().unwrap().len(), 30);
    assert_eq!(seen.lock().unwrap().len(), 1, "the hung request is the only one sent");
    cancel.cancel();
}
