//! Server-side cost of `/v1/score` and `/v1/events` through the whole router (JSON in,
//! parse, features, model, verdict JSON out), without a socket: the CPU time per request
//! that loopback load tests (wrk, see README.md here) add network and client time to.
//!
//! Setup (outside the timed closures): a bootstrapped champion (1500 simulated entities, as
//! the server trains at first start) and payloads cut from a real Cowrie log.
//!
//! `cargo bench -p vigil-http --bench score`

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, header};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use tower::ServiceExt;
use vigil_engine::Config;
use vigil_http::{AppState, app, build_state};

/// The events of the busiest source in the first 4000 lines of a real Cowrie log, or
/// synthetic login failures if the data set is absent.
fn cowrie_events() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cowrie/cowrie_scriptzteam_2017-11-04.json.gz");
    let Ok(file) = std::fs::File::open(&path) else {
        return (0..100)
            .map(|i| {
                json!({"eventid": "cowrie.login.failed", "src_ip": "203.0.113.7", "session": "s1",
                       "timestamp": 1_525_644_000 + i, "username": "root", "password": format!("pw{i}")})
            })
            .collect();
    };
    let lines: Vec<Value> = BufReader::new(flate2::read::MultiGzDecoder::new(file))
        .lines()
        .take(4000)
        .filter_map(|l| serde_json::from_str(&l.ok()?).ok())
        .collect();
    lines.into_iter().filter(|v| v["src_ip"] == "91.195.103.212").take(110).collect()
}

fn setup(runtime: &tokio::runtime::Runtime, dir: &Path) -> AppState {
    let mut config = Config::rooted_at(dir);
    config.learning.bootstrap.entities = 1500;
    config.server.auth.admin_tokens = vec!["bench-admin-token-0123456789".into()];
    let state = runtime.block_on(build_state(config)).expect("state");
    runtime.block_on(state.engine().prepare()).expect("bootstrap");
    assert!(state.engine().model().is_some(), "a bootstrapped champion");
    state
}

fn request(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

fn bench_score(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let state = setup(&runtime, dir.path());
    let router = app(state);
    let events = cowrie_events();
    let mut group = c.benchmark_group("score");
    for n in [10usize, 100] {
        let body =
            json!({ "events": &events[..n.min(events.len())], "format": "cowrie" }).to_string();
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("cowrie_{n}_events_{}kb", body.len() / 1000), |b| {
            b.iter(|| {
                let response = runtime
                    .block_on(router.clone().oneshot(request("/v1/score", black_box(&body))))
                    .expect("response");
                assert!(response.status().is_success());
                black_box(response)
            });
        });
    }
    let lines: String =
        events[..100.min(events.len())].iter().map(|e| e.to_string() + "\n").collect();
    group.bench_function(format!("cowrie_100_event_lines_{}kb", lines.len() / 1000), |b| {
        b.iter(|| {
            let request = Request::post("/v1/score?format=cowrie")
                .header(header::CONTENT_TYPE, "application/x-ndjson")
                .body(Body::from(black_box(&lines).clone()))
                .expect("request");
            let response = runtime.block_on(router.clone().oneshot(request)).expect("response");
            assert!(response.status().is_success());
            black_box(response)
        });
    });
    let features = json!({ "features": vec![0.5_f32; vigil_features::FEATURE_COUNT] }).to_string();
    group.bench_function("feature_vector", |b| {
        b.iter(|| {
            let response = runtime
                .block_on(router.clone().oneshot(request("/v1/score", black_box(&features))))
                .expect("response");
            black_box(response)
        });
    });
    group.finish();
}

criterion_group!(benches, bench_score);
criterion_main!(benches);
