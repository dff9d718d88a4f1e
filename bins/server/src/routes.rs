//! The router and its handlers. `docs/API.md` documents every route and shape.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use vigil_core::ClassSet;
use vigil_features::{
    FeatureVector, Format, SCHEMA_VERSION, extract_with, group_by_source, parse_lines,
};
use vigil_store::{FeatureCache, NewSample, StoreError, Verdict};

use crate::auth::Scope;
use crate::error::{ApiError, body_error, json_error};
use crate::features::{Provenance, WindowInput, extract_windows};
use crate::model::{ClassMap, DecisionBody, LoadedModel, Scored};
use crate::predictions::{Prediction, PredictionId};
use crate::state::AppState;

/// The whole HTTP API over `state`.
pub fn app(state: AppState) -> Router {
    let limits = state.config().limits;
    let scope = |scope: Scope| middleware::from_fn_with_state((state.clone(), scope), authorize);
    Router::new()
        .route("/v1/events", post(events).route_layer(scope(Scope::Score)))
        .route("/v1/score", post(score).route_layer(scope(Scope::Score)))
        .route("/v1/model", get(model).route_layer(scope(Scope::Score)))
        .route("/v1/feedback", post(feedback).route_layer(scope(Scope::Feedback)))
        .route("/v1/learning/status", get(learning_status).route_layer(scope(Scope::Admin)))
        .route("/v1/learning/retrain", post(retrain).route_layer(scope(Scope::Admin)))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::render))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(limits.request_timeout_ms),
        ))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            ApiError::internal("handler panicked", &"panic caught").into_response()
        }))
        // Outermost, so that timeouts and caught panics are counted too.
        .layer(middleware::from_fn(crate::metrics::track))
        .with_state(state)
}

/// Checks the bearer token before the body is read.
async fn authorize(
    State((state, scope)): State<(AppState, Scope)>,
    request: Request,
    next: Next,
) -> Response {
    match state.auth().require(request.headers(), scope) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found("no_route", format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new_status(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// Runs CPU-bound work; when `large`, without stalling the other tasks of a multi-threaded
/// runtime's worker (`block_in_place` hands the worker's queue to another thread). Small
/// work runs inline: the hand-off costs more than it saves, and each hand-off can start a
/// thread (measured: 185 threads and 50 MB RSS under load when every request handed off).
fn cpu<R>(large: bool, f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if large && h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Bodies above this many bytes are parsed off the worker.
const LARGE_BODY: usize = 256 << 10;
/// More rows than this are scored off the worker.
const LARGE_ROWS: usize = 256;

fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; expected a JSON object",
        ));
    }
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

fn current_model(state: &AppState) -> Result<Arc<LoadedModel>, ApiError> {
    state.model().ok_or_else(|| {
        ApiError::unavailable(
            "no_model",
            "no model is loaded yet; retry when /readyz reports ready",
        )
    })
}

fn score_rows(model: &LoadedModel, rows: &[FeatureVector]) -> Result<Vec<Scored>, ApiError> {
    model.score(rows).map_err(|e| ApiError::internal("scoring failed", &e))
}

/// Window facts reported with a `/v1/events` verdict.
#[derive(Debug, Clone, Copy, Serialize)]
struct WindowInfo {
    /// Events in the entity's window after this batch.
    events: usize,
    /// Events of this batch added to it.
    added: usize,
    /// Events of this batch already in it.
    duplicates: usize,
}

/// One verdict.
#[derive(Serialize)]
struct VerdictBody<'a> {
    prediction_id: String,
    entity: String,
    class: &'a str,
    confidence: f32,
    probabilities: ClassMap<'a, f32>,
    decision: DecisionBody<'a>,
    model_version: &'a str,
    schema_version: &'static str,
    features: Provenance,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<WindowInfo>,
}

/// What a verdict is about.
struct Subject {
    entity: String,
    features: FeatureVector,
    provenance: Provenance,
    window: Option<WindowInfo>,
}

/// Scores the subjects, keeps each prediction for feedback, and builds the verdicts.
fn verdicts<'a>(
    state: &AppState,
    model: &'a LoadedModel,
    scored: &'a [Scored],
    subjects: Vec<Subject>,
) -> Vec<VerdictBody<'a>> {
    let classes = model.artifact().classes.names();
    subjects
        .into_iter()
        .zip(scored)
        .map(|(subject, s)| {
            let class = model.class_name(s.decision.class);
            let confidence = s.confidence();
            metrics::counter!("vigil_verdicts_total", "class" => class.to_owned()).increment(1);
            let id = state.predictions().insert(Prediction::new(
                subject.entity.clone(),
                &subject.features,
                model.version_arc(),
                class.to_owned(),
                confidence,
            ));
            VerdictBody {
                prediction_id: id.to_string(),
                entity: subject.entity,
                class,
                confidence,
                probabilities: ClassMap { classes, values: &s.probabilities },
                decision: DecisionBody::new(model, s),
                model_version: model.version(),
                schema_version: SCHEMA_VERSION,
                features: subject.provenance,
                window: subject.window,
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatQuery {
    format: Option<String>,
}

fn format_of(query: Result<Query<FormatQuery>, QueryRejection>) -> Result<Format, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    query.format.as_deref().map_or(Ok(Format::Auto), str::parse).map_err(
        |e: vigil_features::FeatureError| ApiError::bad_request("unknown_format", e.to_string()),
    )
}

#[derive(Serialize)]
struct RejectedLine {
    line: usize,
    reason: String,
}

#[derive(Serialize)]
struct EventsResponse<'a> {
    format: &'static str,
    accepted: usize,
    added: usize,
    duplicates: usize,
    skipped: usize,
    rejected: Vec<RejectedLine>,
    verdicts: Vec<VerdictBody<'a>>,
}

/// `POST /v1/events?format=auto`: a batch in any supported format; one verdict per source.
async fn events(
    State(state): State<AppState>,
    query: Result<Query<FormatQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let limits = state.config().limits;
    let format = format_of(query)?;
    let body = body.map_err(|e| body_error(&e, limits.max_body_bytes))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("empty_batch", "the request body holds no events"));
    }
    // Refuse before touching any window, so that a retry later loses nothing.
    let model = current_model(&state)?;
    let parsed = cpu(body.len() > LARGE_BODY, || parse_lines(format, body.as_ref()))
        .map_err(|e| ApiError::internal("reading a request body", &e))?;
    let rejected: Vec<RejectedLine> = parsed
        .rejected
        .into_iter()
        .map(|r| RejectedLine { line: r.line, reason: r.reason })
        .collect();
    metrics::counter!("vigil_events_total", "outcome" => "rejected")
        .increment(rejected.len() as u64);
    if parsed.events.len() > limits.max_events_per_request {
        return Err(ApiError::too_large(format!(
            "the batch holds {} events, the limit is {} per request; nothing was applied",
            parsed.events.len(),
            limits.max_events_per_request
        )));
    }
    if parsed.events.is_empty() && parsed.skipped == 0 {
        let first = rejected
            .first()
            .map(|r| format!(": line {}: {}", r.line, r.reason))
            .unwrap_or_default();
        return Err(ApiError::bad_request(
            "no_valid_events",
            format!("no event in the batch could be read ({} rejected){first}", rejected.len()),
        )
        .with_details(json!({ "rejected": rejected })));
    }
    let accepted = parsed.events.len();
    metrics::counter!("vigil_events_total", "outcome" => "accepted").increment(accepted as u64);

    let mut windows = Vec::new();
    let mut infos = Vec::new();
    let (mut added, mut duplicates) = (0, 0);
    for (ip, events) in group_by_source(parsed.events) {
        let snapshot = state.windows().append(ip, events);
        added += snapshot.added;
        duplicates += snapshot.duplicates;
        infos.push(WindowInfo {
            events: snapshot.events.len(),
            added: snapshot.added,
            duplicates: snapshot.duplicates,
        });
        windows.push(WindowInput { ip, events: snapshot.events, as_of_us: snapshot.as_of_us });
    }
    metrics::counter!("vigil_events_total", "outcome" => "duplicate").increment(duplicates as u64);
    let ips: Vec<IpAddr> = windows.iter().map(|w| w.ip).collect();
    let feeds = state.intel().snapshot();
    let features = extract_windows(state.cache(), windows, &feeds).await;
    let rows: Vec<FeatureVector> = features.iter().map(|(v, _)| *v).collect();
    let scored = cpu(rows.len() > LARGE_ROWS, || score_rows(&model, &rows))?;
    let subjects = features
        .into_iter()
        .zip(ips)
        .zip(infos)
        .map(|(((features, provenance), ip), info)| Subject {
            entity: ip.to_string(),
            features,
            provenance,
            window: Some(info),
        })
        .collect();
    let response = EventsResponse {
        format: parsed.format.name(),
        accepted,
        added,
        duplicates,
        skipped: parsed.skipped,
        rejected,
        verdicts: verdicts(&state, &model, &scored, subjects),
    };
    Ok(Json(&response).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreRequest<'a> {
    /// One entity's events, each a JSON object of the format (borrowed from the body).
    #[serde(borrow)]
    events: Option<Vec<&'a RawValue>>,
    /// The events' format (default auto).
    format: Option<String>,
    /// A feature vector of the schema's width.
    features: Option<Vec<f32>>,
    /// With `features`: a name for the entity; alone: the IP whose server-side window to score.
    entity: Option<String>,
}

#[derive(Serialize)]
struct ScoreResponse<'a> {
    verdict: VerdictBody<'a>,
}

/// `POST /v1/score`: one entity's events, a feature vector, or a known entity, scored
/// without changing any window.
async fn score(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FormatQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let limits = state.config().limits;
    let body = body.map_err(|e| body_error(&e, limits.max_body_bytes))?;
    if is_event_lines(&headers) {
        let format = format_of(query)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid("no_events", "the request body holds no events"));
        }
        let model = current_model(&state)?;
        let subject = score_text(&state, &body, format, None, Numbering::Line)?;
        return respond_score(&state, &model, subject);
    }
    if query.is_ok_and(|Query(q)| q.format.is_some()) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "with a JSON body, give format in the body (the format query parameter is for \
             event lines: Content-Type application/x-ndjson)",
        ));
    }
    let request: ScoreRequest = parse_json(&body)?;
    let model = current_model(&state)?;
    let subject = match request {
        ScoreRequest { events: Some(_), features: Some(_), .. } => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give either events or features, not both",
            ));
        }
        ScoreRequest { events: Some(events), format, entity, .. } => {
            score_events(&state, &events, format.as_deref(), entity.as_deref())?
        }
        ScoreRequest { features: Some(values), entity, format: None, .. } => {
            let features = FeatureVector::from_slice(&values)
                .map_err(|e| ApiError::invalid("invalid_features", e.to_string()))?;
            let entity = entity_name(entity)?;
            Subject { entity, features, provenance: Provenance::request(), window: None }
        }
        ScoreRequest { features: Some(_), format: Some(_), .. } => {
            return Err(ApiError::bad_request("invalid_request", "format applies to events only"));
        }
        ScoreRequest { entity: Some(entity), format: None, .. } => {
            let ip: IpAddr = entity.trim().parse().map_err(|_| {
                ApiError::bad_request(
                    "invalid_entity",
                    format!("entity {entity:?} is not an IP address"),
                )
            })?;
            let ip = ip.to_canonical();
            let snapshot = state.windows().get(ip).ok_or_else(|| {
                ApiError::not_found(
                    "unknown_entity",
                    format!("no events are known for entity {ip}"),
                )
            })?;
            let info = WindowInfo { events: snapshot.events.len(), added: 0, duplicates: 0 };
            let input = WindowInput { ip, events: snapshot.events, as_of_us: snapshot.as_of_us };
            let feeds = state.intel().snapshot();
            let (features, provenance) = extract_windows(state.cache(), vec![input], &feeds)
                .await
                .pop()
                .ok_or_else(|| ApiError::internal("extracting features", &"no vector returned"))?;
            Subject { entity: ip.to_string(), features, provenance, window: Some(info) }
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give one of: events (one entity's events), features (a vector of the schema's \
                 width) or entity (an IP whose window the server holds)",
            ));
        }
    };
    respond_score(&state, &model, subject)
}

fn respond_score(
    state: &AppState,
    model: &LoadedModel,
    subject: Subject,
) -> Result<Response, ApiError> {
    let scored = score_rows(model, std::slice::from_ref(&subject.features))?;
    let verdict = verdicts(state, model, &scored, vec![subject])
        .pop()
        .ok_or_else(|| ApiError::internal("building a verdict", &"no verdict"))?;
    Ok(Json(&ScoreResponse { verdict }).into_response())
}

fn entity_name(entity: Option<String>) -> Result<String, ApiError> {
    match entity {
        None => Ok("unknown".to_owned()),
        Some(e) if e.trim().is_empty() || e.len() > 256 || e.chars().any(char::is_control) => {
            Err(ApiError::invalid(
                "invalid_entity",
                "entity must be 1 to 256 characters, without control characters",
            ))
        }
        Some(e) => Ok(e.trim().to_owned()),
    }
}

/// Parses one entity's events given as JSON objects, all or nothing.
fn score_events(
    state: &AppState,
    events: &[&RawValue],
    format: Option<&str>,
    entity: Option<&str>,
) -> Result<Subject, ApiError> {
    if events.is_empty() {
        return Err(ApiError::invalid("no_events", "events is empty"));
    }
    let limit = state.config().limits.max_events_per_request;
    if events.len() > limit {
        return Err(ApiError::too_large(format!(
            "{} events given, the limit is {limit} per request",
            events.len()
        )));
    }
    let format: Format = format.map_or(Ok(Format::Auto), str::parse).map_err(
        |e: vigil_features::FeatureError| ApiError::bad_request("unknown_format", e.to_string()),
    )?;
    // One object per line, as the line-based parsers read them.
    let mut text = String::with_capacity(events.iter().map(|e| e.get().len() + 1).sum());
    for event in events {
        let raw = event.get();
        if raw.contains('\n') {
            let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| json_error(&e))?;
            text.push_str(&value.to_string());
        } else {
            text.push_str(raw);
        }
        text.push('\n');
    }
    score_text(state, text.as_bytes(), format, entity, Numbering::Index)
}

/// How rejected records are named: by 0-based index in `events`, or by 1-based line.
#[derive(Clone, Copy)]
enum Numbering {
    Index,
    Line,
}

/// One entity's events as text in `format` (one record per line, or an ingest document),
/// all or nothing: any rejected record, or events of several sources, is a 422.
fn score_text(
    state: &AppState,
    text: &[u8],
    format: Format,
    entity: Option<&str>,
    numbering: Numbering,
) -> Result<Subject, ApiError> {
    let parsed = cpu(text.len() > LARGE_BODY, || parse_lines(format, text))
        .map_err(|e| ApiError::internal("reading events", &e))?;
    if !parsed.rejected.is_empty() {
        let (key, at): (&str, fn(usize) -> usize) = match numbering {
            Numbering::Index => ("index", |line| line - 1),
            Numbering::Line => ("line", |line| line),
        };
        let rejected: Vec<_> = parsed
            .rejected
            .iter()
            .map(|r| json!({ key: at(r.line), "reason": r.reason }))
            .collect();
        let first = &parsed.rejected[0];
        let what = match numbering {
            Numbering::Index => "event",
            Numbering::Line => "line",
        };
        return Err(ApiError::invalid(
            "invalid_events",
            format!("{what} {} cannot be read: {}", at(first.line), first.reason),
        )
        .with_details(json!({ "rejected": rejected })));
    }
    let limit = state.config().limits.max_events_per_request;
    if parsed.events.len() > limit {
        return Err(ApiError::too_large(format!(
            "{} events given, the limit is {limit} per request",
            parsed.events.len()
        )));
    }
    let mut groups = group_by_source(parsed.events);
    if groups.len() != 1 {
        let sources: Vec<String> = groups.keys().take(5).map(ToString::to_string).collect();
        return Err(ApiError::invalid(
            "several_entities",
            if groups.is_empty() {
                "no events given".to_owned()
            } else {
                format!(
                    "the events come from {} sources ({}); /v1/score scores one entity, \
                     /v1/events takes batches",
                    groups.len(),
                    sources.join(", ")
                )
            },
        ));
    }
    let (ip, mut window) = groups.pop_first().expect("exactly one group");
    if let Some(entity) = entity
        && entity.trim().parse::<IpAddr>().map(|e| e.to_canonical()) != Ok(ip)
    {
        return Err(ApiError::invalid(
            "entity_mismatch",
            format!("entity {entity:?} is not the events' source {ip}"),
        ));
    }
    window.sort_by_key(|e| e.timestamp);
    let feeds = state.intel().snapshot();
    let features = cpu(window.len() > 2000, || extract_with(&window, &feeds));
    let provenance = Provenance {
        as_of: window.last().map(|e| e.timestamp.to_string()),
        ..Provenance::computed()
    };
    let info = WindowInfo { events: window.len(), added: 0, duplicates: 0 };
    Ok(Subject { entity: ip.to_string(), features, provenance, window: Some(info) })
}

/// Whether a body is raw event lines (`application/x-ndjson`, `application/jsonl`,
/// `text/plain`) rather than a JSON request object.
fn is_event_lines(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            let t = t.trim();
            ["application/x-ndjson", "application/jsonl", "application/x-jsonlines", "text/plain"]
                .iter()
                .any(|known| t.eq_ignore_ascii_case(known))
        })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackRequest {
    /// The verdict: CONFIRM, OVERRIDE or UNCERTAIN (or mini-xdr's THREAT, FALSE_POSITIVE,
    /// INVESTIGATE).
    verdict: String,
    /// The correct class (required for OVERRIDE).
    correct_label: Option<String>,
    /// The prediction judged, if still kept.
    prediction_id: Option<String>,
    /// Or: the features judged.
    features: Option<Vec<f32>>,
    /// With `features`: the entity.
    entity: Option<String>,
    /// With `features`: the model's prediction, confidence and version, all three or none
    /// (none: the current model scores the features).
    ml_prediction: Option<String>,
    ml_confidence: Option<f64>,
    model_version: Option<String>,
    /// Who judged (e.g. `council`, `analyst`); logged.
    source: Option<String>,
}

#[derive(Serialize)]
struct FeedbackResponse {
    sample_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    prediction_id: Option<String>,
    verdict: &'static str,
    ml_prediction: String,
    correct_label: Option<String>,
    was_override: bool,
    model_version: String,
}

/// mini-xdr's final-verdict vocabulary mapped onto the council's.
fn council_verdict(text: &str) -> Result<(Verdict, Option<&'static str>), ApiError> {
    let verdict = match text.trim().to_ascii_uppercase().as_str() {
        "THREAT" => return Ok((Verdict::Confirm, None)),
        "FALSE_POSITIVE" => return Ok((Verdict::Override, Some("Normal"))),
        "INVESTIGATE" => return Ok((Verdict::Uncertain, None)),
        _ => text.parse::<Verdict>(),
    };
    verdict.map(|v| (v, None)).map_err(|e| ApiError::invalid("unknown_verdict", e.to_string()))
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::InvalidSample { .. }
        | StoreError::UnknownVerdict { .. }
        | StoreError::OverrideWithoutLabel { .. }
        | StoreError::OverrideSameLabel { .. }
        | StoreError::ConfirmLabelMismatch { .. } => {
            ApiError::invalid("invalid_feedback", e.to_string())
        }
        StoreError::UnknownLabel { .. } => ApiError::invalid("unknown_label", e.to_string()),
        other => ApiError::internal("storing feedback", &other),
    }
}

/// `POST /v1/feedback`: a verdict on a prediction, stored durably before the answer.
async fn feedback(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| body_error(&e, state.config().limits.max_body_bytes))?;
    let request: FeedbackRequest = parse_json(&body)?;
    let (verdict, implied_label) = council_verdict(&request.verdict)?;
    let correct_label = request.correct_label.clone().or(implied_label.map(str::to_owned));
    if let Some(label) = &correct_label {
        ClassSet::threat()
            .parse(label)
            .map_err(|e| ApiError::invalid("unknown_label", e.to_string()))?;
    }
    let source = request.source.as_deref().unwrap_or("unspecified");
    let (sample, prediction, prediction_id) = match (&request.prediction_id, &request.features) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give either prediction_id or features, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give prediction_id (of a recent verdict) or features (with the prediction)",
            ));
        }
        (Some(id_text), None) => {
            if request.entity.is_some()
                || request.ml_prediction.is_some()
                || request.ml_confidence.is_some()
                || request.model_version.is_some()
            {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "with prediction_id, the prediction is known: leave out entity, ml_prediction, \
                     ml_confidence and model_version",
                ));
            }
            let unknown = || {
                ApiError::not_found(
                    "unknown_prediction",
                    format!(
                        "unknown prediction id {id_text:?} (the last {} predictions are kept; \
                         send the features instead)",
                        state.predictions().capacity()
                    ),
                )
            };
            let id: PredictionId = id_text.trim().parse().map_err(|()| unknown())?;
            let prediction = state.predictions().get(id).ok_or_else(unknown)?;
            let sample = NewSample {
                entity: prediction.entity.clone(),
                schema_version: SCHEMA_VERSION.to_owned(),
                features: prediction.features.as_slice().to_vec(),
                model_version: prediction.model_version.to_string(),
                ml_prediction: prediction.class.clone(),
                ml_confidence: f64::from(prediction.confidence).clamp(0.0, 1.0),
                verdict,
                correct_label: correct_label.clone(),
            };
            (sample, Some(prediction), Some(id.to_string()))
        }
        (None, Some(values)) => {
            let features = FeatureVector::from_slice(values)
                .map_err(|e| ApiError::invalid("invalid_features", e.to_string()))?;
            let entity = entity_name(request.entity.clone())?;
            let (ml_prediction, ml_confidence, model_version) =
                match (&request.ml_prediction, request.ml_confidence, &request.model_version) {
                    (Some(p), Some(c), Some(v)) => (p.clone(), c, v.clone()),
                    (None, None, None) => {
                        let model = current_model(&state)?;
                        let scored = score_rows(&model, std::slice::from_ref(&features))?;
                        let s = &scored[0];
                        (
                            model.class_name(s.decision.class).to_owned(),
                            f64::from(s.confidence()).clamp(0.0, 1.0),
                            model.version().to_owned(),
                        )
                    }
                    _ => {
                        return Err(ApiError::bad_request(
                            "invalid_request",
                            "give ml_prediction, ml_confidence and model_version together, or none \
                             of them (then the current model scores the features)",
                        ));
                    }
                };
            let sample = NewSample {
                entity,
                schema_version: SCHEMA_VERSION.to_owned(),
                features: features.as_slice().to_vec(),
                model_version,
                ml_prediction,
                ml_confidence,
                verdict,
                correct_label: correct_label.clone(),
            };
            (sample, None, None)
        }
    };
    // One feedback per kept prediction: a retried request gets 409, not a second sample.
    let claim = match &prediction {
        Some(p) => Some(p.claim().map_err(|stored| match stored {
            Some(sample_id) => ApiError::conflict(
                "feedback_exists",
                format!(
                    "prediction {} already has feedback (sample {sample_id})",
                    prediction_id.as_deref().unwrap_or("")
                ),
            ),
            None => ApiError::conflict(
                "feedback_in_progress",
                "feedback for this prediction is being stored by another request",
            ),
        })?),
        None => None,
    };
    let response_base = (sample.ml_prediction.clone(), sample.model_version.clone());
    let was_override = verdict == Verdict::Override;
    let sample_id = state.samples().insert_async(sample).await.map_err(store_error)?;
    if let Some(claim) = claim {
        claim.complete(sample_id);
    }
    metrics::counter!("vigil_feedback_total", "verdict" => verdict.as_str()).increment(1);
    if was_override {
        metrics::counter!("vigil_feedback_overrides_total").increment(1);
    }
    tracing::info!(sample_id, verdict = verdict.as_str(), source, "feedback stored");
    let threat = ClassSet::threat();
    let canonical = |l: &str| threat.parse(l).ok().and_then(|i| threat.name(i)).map(str::to_owned);
    let (ml_prediction, model_version) = response_base;
    let stored_label = match verdict {
        Verdict::Confirm => canonical(&ml_prediction),
        _ => correct_label.as_deref().and_then(canonical),
    };
    let response = FeedbackResponse {
        sample_id,
        prediction_id,
        verdict: verdict.as_str(),
        ml_prediction: canonical(&ml_prediction).unwrap_or(ml_prediction),
        correct_label: stored_label,
        was_override,
        model_version,
    };
    Ok((StatusCode::CREATED, Json(response)).into_response())
}

/// `GET /v1/model`: the champion being served.
async fn model(State(state): State<AppState>) -> Result<Response, ApiError> {
    let model = current_model(&state)?;
    let artifact = model.artifact();
    let classes = artifact.classes.names();
    Ok(Json(json!({
        "version": model.version(),
        "loaded_at": model.loaded_at().to_string(),
        "schema_version": artifact.schema.version,
        "feature_count": artifact.schema.names.len(),
        "classes": classes,
        "model": artifact.model.name(),
        "temperature": artifact.temperature,
        "thresholds": ClassMap { classes, values: artifact.thresholds.per_class() },
        "manifest": model.manifest(),
    }))
    .into_response())
}

/// `GET /v1/learning/status`.
async fn learning_status(State(state): State<AppState>) -> Result<Response, ApiError> {
    let learning = state.config().learning.clone();
    let samples = state.samples().clone();
    let since = state.model().and_then(|m| {
        m.manifest().get("created_at").and_then(|v| v.as_str()).and_then(|s| s.parse().ok())
    });
    let status =
        tokio::task::spawn_blocking(move || crate::learning::status(&samples, &learning, since))
            .await
            .map_err(|e| ApiError::internal("learning status task", &e))?
            .map_err(|e| ApiError::internal("reading the learning status", &format!("{e:#}")))?;
    let mut body = status;
    body["model_version"] = json!(state.model().map(|m| m.version().to_owned()));
    Ok(Json(body).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrainRequest {
    reason: Option<String>,
    requested_by: Option<String>,
}

/// `POST /v1/learning/retrain`: records a manual request for the worker.
async fn retrain(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| body_error(&e, state.config().limits.max_body_bytes))?;
    let request: RetrainRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RetrainRequest::default()
    } else {
        parse_json(&body)?
    };
    let reason = request.reason.unwrap_or_else(|| "manual request via the API".to_owned());
    let by = request.requested_by.unwrap_or_else(|| "api".to_owned());
    if reason.len() > 1000 || by.len() > 100 {
        return Err(ApiError::invalid(
            "invalid_request",
            "reason is limited to 1000 bytes, requested_by to 100",
        ));
    }
    let samples = state.samples().clone();
    let id = tokio::task::spawn_blocking(move || samples.request_retrain(&by, &reason))
        .await
        .map_err(|e| ApiError::internal("retrain request task", &e))?
        .map_err(|e| match e {
            StoreError::InvalidSample { reason } => ApiError::invalid("invalid_request", reason),
            other => ApiError::internal("recording a retrain request", &other),
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "request_id": id,
            "status": "queued",
            "message": "the retrain worker claims the request at its next check",
        })),
    )
        .into_response())
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when a model is loaded (`degraded` if a store is unreachable), else 503.
async fn readyz(State(state): State<AppState>) -> Response {
    let model = state.model();
    let samples = state.samples().clone();
    let store_ok =
        tokio::task::spawn_blocking(move || samples.pending_count(SCHEMA_VERSION).is_ok())
            .await
            .unwrap_or(false);
    let cache = match state.cache() {
        vigil_store::AnyCache::Memory(_) => json!({ "backend": "memory", "reachable": true }),
        vigil_store::AnyCache::Redis(r) => {
            json!({ "backend": "redis", "reachable": r.is_connected() })
        }
    };
    let cache_ok = cache["reachable"].as_bool().unwrap_or(false);
    let (status, code) = match (&model, store_ok && cache_ok) {
        (None, _) => ("not_ready", StatusCode::SERVICE_UNAVAILABLE),
        (Some(_), true) => ("ready", StatusCode::OK),
        (Some(_), false) => ("degraded", StatusCode::OK),
    };
    let stats = state.cache().stats();
    (
        code,
        Json(json!({
            "status": status,
            "model": model.as_ref().map(|m| m.version()),
            "sample_store": if store_ok { "ok" } else { "unreachable" },
            "cache": cache,
            "cache_errors": stats.errors,
        })),
    )
        .into_response()
}
