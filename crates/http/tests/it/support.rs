//! Shared helpers: a tiny trained model, a test state, requests through `oneshot`.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;
use vigil_engine::{AuthConfig, Config, Engine, LoadedModel, ServerConfig};
use vigil_features::Intel;
use vigil_http::{AppState, app};
use vigil_model::Artifact;
use vigil_store::{AnyCache, MemoryCache, MemoryConfig, SampleStore, SampleStoreConfig};

pub(crate) const ADMIN: &str = "admin-token-for-tests-0123456789";
pub(crate) const FEEDBACK: &str = "feedback-token-for-tests-012345";
pub(crate) const INGEST: &str = "ingest-token-for-tests-0123456";

/// [`vigil_retrain::synthetic::tiny_artifact`], trained once per seed and process.
pub(crate) fn tiny_artifact(seed: u64) -> Artifact {
    static MODELS: OnceLock<std::sync::Mutex<Vec<(u64, Artifact)>>> = OnceLock::new();
    let cache = MODELS.get_or_init(Default::default);
    if let Some((_, a)) = cache.lock().unwrap().iter().find(|(s, _)| *s == seed) {
        return a.clone();
    }
    let artifact = vigil_retrain::synthetic::tiny_artifact(seed);
    cache.lock().unwrap().push((seed, artifact.clone()));
    artifact
}

pub(crate) fn tiny_model(version: &str, seed: u64) -> LoadedModel {
    LoadedModel::new(version, json!({ "version": version, "test": true }), tiny_artifact(seed))
        .unwrap()
}

/// A state over temporary stores with the test tokens, no bootstrap, model `t1` loaded.
pub(crate) struct TestServer {
    pub(crate) state: AppState,
    pub(crate) app: Router,
    _dir: TempDir,
}

pub(crate) fn config(dir: &TempDir) -> Config {
    let mut config = Config {
        database: dir.path().join("vigil.db"),
        registry: dir.path().join("registry"),
        server: ServerConfig {
            auth: AuthConfig {
                admin_tokens: vec![ADMIN.into()],
                feedback_tokens: vec![FEEDBACK.into()],
                ingest_tokens: vec![INGEST.into()],
                ..AuthConfig::default()
            },
            ..ServerConfig::default()
        },
        ..Config::default()
    };
    config.learning.bootstrap.enabled = false;
    config
}

pub(crate) fn open_samples(config: &Config) -> SampleStore {
    SampleStore::open_with(
        &config.database,
        SampleStoreConfig {
            classes: Some(vigil_core::ClassSet::threat()),
            ..SampleStoreConfig::default()
        },
    )
    .unwrap()
}

pub(crate) fn server_with(change: impl FnOnce(&mut Config), model: bool) -> TestServer {
    server_with_cache(change, model, AnyCache::Memory(MemoryCache::new(MemoryConfig::default())))
}

pub(crate) fn server_with_cache(
    change: impl FnOnce(&mut Config),
    model: bool,
    cache: AnyCache,
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&dir);
    change(&mut config);
    config.check().unwrap();
    let samples = open_samples(&config);
    let state = AppState::new(Engine::from_parts(config, cache, samples, Intel::new()));
    if model {
        state.engine().set_model(tiny_model("t1", 1));
    }
    TestServer { app: app(state.clone()), state, _dir: dir }
}

pub(crate) fn server() -> TestServer {
    server_with(|_| {}, true)
}

/// A response: status, parsed JSON body (or the text as a JSON string), headers.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) json: Value,
    pub(crate) headers: axum::http::HeaderMap,
}

impl Reply {
    /// The error message of a 4xx/5xx body.
    pub(crate) fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or_else(|| panic!("no error message in {}", self.json))
    }
}

pub(crate) async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: impl Into<Body>,
) -> Reply {
    call_typed(app, method, uri, token, None, body).await
}

/// Event lines (`Content-Type: application/x-ndjson`).
pub(crate) async fn post_lines(app: &Router, uri: &str, body: impl Into<Body>) -> Reply {
    call_typed(app, Method::POST, uri, None, Some("application/x-ndjson"), body).await
}

/// Event lines to an ingest route, with the ingest token.
pub(crate) async fn ingest(app: &Router, uri: &str, body: impl Into<Body>) -> Reply {
    call_typed(app, Method::POST, uri, Some(INGEST), Some("application/x-ndjson"), body).await
}

/// A JSON document (mini-xdr ingest bodies) to an ingest route, with the ingest token.
pub(crate) async fn ingest_json(app: &Router, uri: &str, body: &Value) -> Reply {
    call_typed(app, Method::POST, uri, Some(INGEST), Some("application/json"), body.to_string())
        .await
}

pub(crate) async fn call_typed(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(t) = content_type {
        request = request.header(header::CONTENT_TYPE, t);
    }
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request.body(body.into()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 26).await.unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply { status, json, headers }
}

pub(crate) async fn get(app: &Router, uri: &str, token: Option<&str>) -> Reply {
    call(app, Method::GET, uri, token, Body::empty()).await
}

/// A POST with `Content-Type: application/json`.
pub(crate) async fn post(
    app: &Router,
    uri: &str,
    token: Option<&str>,
    body: impl Into<Body>,
) -> Reply {
    call_typed(app, Method::POST, uri, token, Some("application/json"), body).await
}

pub(crate) async fn post_json(app: &Router, uri: &str, token: Option<&str>, body: &Value) -> Reply {
    post(app, uri, token, body.to_string()).await
}

/// Cowrie lines for `ip`: a connection with `n` failed logins, `t0` seconds into
/// 2018-05-06T22:00:00Z.
pub(crate) fn cowrie_logins(ip: &str, n: usize, t0: u32) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for i in 0..n {
        // 2018-05-06T22:00:00Z plus the offset.
        let at = vigil_features::Timestamp::from_secs(1_525_644_000 + i64::from(t0) + i as i64 * 3)
            .unwrap();
        let _ = writeln!(
            out,
            "{{\"eventid\":\"cowrie.login.failed\",\"timestamp\":\"{at}\",\
             \"src_ip\":\"{ip}\",\"session\":\"s{t0}\",\"username\":\"root\",\"password\":\"pw{i}\"}}"
        );
    }
    out
}

/// A vector of the schema's width.
pub(crate) fn vector(value: f32) -> Vec<f32> {
    vec![value; vigil_features::FEATURE_COUNT]
}
