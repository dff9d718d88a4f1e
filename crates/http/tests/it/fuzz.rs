//! The routes' fuzz harness, bounded for CI: mutated bodies with any content type and
//! token through the router never get a 5xx (the long runs are `examples/fuzz_routes.rs`).

use axum::http::StatusCode;
use vigil_http::fuzz::fuzz_routes;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_request_bodies_never_get_a_5xx() {
    let s = server();
    let report = fuzz_routes(&s.app, INGEST, FEEDBACK, 3000, 20_261_204).await;
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert_eq!(report.requests, 3000);
    // Every kind of answer was seen: the bodies reach the handlers.
    for status in [200, 400, 401, 415, 422] {
        assert!(report.statuses.contains_key(&status), "no {status} in {:?}", report.statuses);
    }
    assert_eq!(get(&s.app, "/healthz", None).await.status, StatusCode::OK);
}
