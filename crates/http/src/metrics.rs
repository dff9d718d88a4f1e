//! Prometheus metrics: the recorder (installed once per process), the request-latency
//! middleware, and the gauges read from the state at scrape time.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use vigil_store::FeatureCache;

use crate::state::AppState;

/// Latency buckets in seconds: 25 µs to 10 s.
const LATENCY_BUCKETS: [f64; 18] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's Prometheus recorder: installed on first use; later calls (several apps in
/// one test process) share it.
pub(crate) fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be global (an embedding program's); then our
            // metrics go there and this handle renders only what it sees.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a global metrics recorder is already installed");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_histogram!("vigil_http_request_duration_seconds", "HTTP request latency by route");
    describe_counter!("vigil_http_requests_total", "HTTP requests by route and status");
    describe_counter!("vigil_verdicts_total", "Verdicts by decided class and route");
    describe_counter!("vigil_events_total", "Events received, by outcome");
    describe_counter!(
        "vigil_feature_lookups_total",
        "Feature vectors by source (cache hit, stale, miss)"
    );
    describe_counter!(
        "vigil_feedback_total",
        "Feedback stored, by verdict, route and predicted class"
    );
    describe_counter!(
        "vigil_feedback_overrides_total",
        "OVERRIDE feedback stored, by route and predicted class"
    );
    describe_counter!("vigil_model_reloads_total", "Champion reload attempts by result");
    describe_counter!(
        "vigil_review_notices_total",
        "New review items put on the webhook's feed, or dropped from it when full"
    );
    describe_counter!("vigil_review_claims_total", "Review claims by outcome (claimed, held)");
    describe_counter!("vigil_predictions_pruned_total", "Kept predictions deleted after retention");
    describe_counter!(
        "vigil_webhook_deliveries_total",
        "Review items the webhook delivered, or gave up on"
    );
    describe_counter!("vigil_webhook_attempts_failed_total", "Webhook attempts that failed");
    describe_gauge!("vigil_model_info", "1 for the model version being served");
    describe_gauge!("vigil_cache_stats", "Feature cache counters since start, by kind");
    describe_gauge!("vigil_window_entities", "Entities with an event window");
    describe_gauge!("vigil_window_events", "Events held in entity windows");
    describe_gauge!("vigil_window_bytes", "Bytes of events held in entity windows");
    describe_gauge!(
        "vigil_window_entities_protected",
        "Entities with real activity (the windows' protected segment)"
    );
    describe_counter!(
        "vigil_window_evictions_total",
        "Entities evicted from the windows to stay within their bounds"
    );
    describe_gauge!("vigil_predictions_kept", "Recent predictions kept for feedback");
}

/// Records each request's latency and status under its route pattern (never the raw path,
/// which would make one series per URL).
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Standard methods only: arbitrary method tokens would make unbounded label values.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    };
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16().to_string();
    metrics::histogram!("vigil_http_request_duration_seconds", "route" => route.clone(), "method" => method)
        .record(seconds);
    metrics::counter!("vigil_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn render(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let engine = state.engine();
    let stats = engine.cache().stats();
    let gauge = |kind: &'static str, value: u64| {
        metrics::gauge!("vigil_cache_stats", "kind" => kind).set(value as f64);
    };
    gauge("hits", stats.hits);
    gauge("misses", stats.misses);
    gauge("stale", stats.stale);
    gauge("errors", stats.errors);
    gauge("corrupt", stats.corrupt);
    gauge("writes", stats.writes);
    gauge("dropped_writes", stats.dropped_writes);
    gauge("evictions", stats.evictions);
    let windows = engine.window_stats();
    metrics::gauge!("vigil_window_entities").set(windows.entities as f64);
    metrics::gauge!("vigil_window_entities_protected").set(windows.protected as f64);
    metrics::gauge!("vigil_window_events").set(windows.events as f64);
    metrics::gauge!("vigil_window_bytes").set(windows.bytes as f64);
    metrics::gauge!("vigil_predictions_kept").set(engine.ledger_size().0 as f64);
    let handle = state.metrics();
    handle.run_upkeep();
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
}
