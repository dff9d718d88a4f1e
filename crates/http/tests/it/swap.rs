//! Model swaps under concurrent requests: no request fails, each runs on one model.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use vigil_registry::{NewVersion, Registry};

use crate::support::*;

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    failed: AtomicUsize,
    versions: std::sync::Mutex<std::collections::BTreeSet<String>>,
    failures: std::sync::Mutex<Vec<String>>,
}

/// Scores vectors and posts event batches until `stop`; counts successes, failures and the
/// model versions seen.
async fn client(app: Router, n: usize, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let r = if i % 2 == 0 {
            post_json(&app, "/v1/score", None, &json!({ "features": vector(i as f32 / 100.0) }))
                .await
        } else {
            ingest(&app, "/v1/events", cowrie_logins(&format!("198.51.{}.{}", n, i % 200), 3, 0))
                .await
        };
        let version = if i % 2 == 0 {
            &r.json["verdict"]["model_version"]
        } else {
            &r.json["verdicts"][0]["model_version"]
        };
        if r.status == StatusCode::OK && version.is_string() {
            tally.ok.fetch_add(1, Ordering::Relaxed);
            tally.versions.lock().unwrap().insert(version.as_str().unwrap().to_owned());
        } else {
            tally.failed.fetch_add(1, Ordering::Relaxed);
            tally.failures.lock().unwrap().push(format!("{} {}", r.status, r.json));
        }
        i += 1;
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_the_model_under_load_fails_no_request() {
    let s = server();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let clients: Vec<_> = (0..8)
        .map(|n| tokio::spawn(client(s.app.clone(), n, stop.clone(), tally.clone())))
        .collect();
    let started = Instant::now();
    let mut swaps = 0;
    while started.elapsed() < Duration::from_secs(2) {
        s.state
            .engine()
            .set_model(tiny_model(if swaps % 2 == 0 { "t2" } else { "t1" }, 1 + swaps % 2));
        swaps += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let ok = tally.ok.load(Ordering::Relaxed);
    assert_eq!(
        tally.failed.load(Ordering::Relaxed),
        0,
        "{ok} ok; {:?}",
        tally.failures.lock().unwrap()
    );
    assert!(ok > 100, "only {ok} requests in 2 s");
    assert!(swaps > 50, "{swaps} swaps");
    let versions = tally.versions.lock().unwrap().clone();
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), ["t1", "t2"]);
}

fn register(registry: &Registry, seed: u64, parent: Option<String>) -> String {
    let artifact = tiny_artifact(seed);
    let info = NewVersion::for_artifact(
        &artifact,
        json!({ "macro_f1": 0.5 }),
        json!({ "seed": seed }),
        parent,
    );
    let manifest = registry.register(&artifact.to_bytes().unwrap(), info).unwrap();
    registry.promote(&manifest.version, "test promotion").unwrap();
    manifest.version
}

async fn wait_for(s: &TestServer, version: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.state.engine().model().is_none_or(|m| m.version() != version) {
        assert!(Instant::now() < deadline, "the server did not load {version} within 20 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_champion_is_hot_reloaded_under_load() {
    let s = server_with(|c| c.reload_interval_ms = 20, false);
    let registry = Registry::open(&s.state.config().registry).unwrap();
    let cancel = CancellationToken::new();
    let engine = s.state.engine().clone();
    let watch_cancel = cancel.clone();
    let watcher = tokio::spawn(async move { engine.watch(watch_cancel).await });
    let v1 = register(&registry, 1, None);
    wait_for(&s, &v1).await;
    assert_eq!(s.state.engine().model().unwrap().manifest()["version"], v1);

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let clients: Vec<_> = (0..6)
        .map(|n| tokio::spawn(client(s.app.clone(), n, stop.clone(), tally.clone())))
        .collect();
    let mut last = v1.clone();
    for seed in [2, 3, 4] {
        tokio::time::sleep(Duration::from_millis(200)).await;
        last = register(&registry, seed, Some(last));
        wait_for(&s, &last).await;
    }
    // A rollback moves the pointer back: that is a new champion too.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let back = registry.rollback("test rollback").unwrap().version;
    wait_for(&s, &back).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    cancel.cancel();
    watcher.await.unwrap();
    assert_eq!(tally.failed.load(Ordering::Relaxed), 0, "{:?}", tally.failures.lock().unwrap());
    let versions = tally.versions.lock().unwrap().clone();
    assert!(versions.len() >= 3, "{versions:?}");
    let r = get(&s.app, "/v1/model", None).await;
    assert_eq!(r.json["version"], back);
    assert_eq!(r.json["manifest"]["sha256"].as_str().unwrap().len(), 64);
}
