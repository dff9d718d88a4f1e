//! The router and its handlers. `docs/API.md` documents every route and shape.

use std::net::IpAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use vigil_engine::{ClassMap, Feedback, FeedbackTarget, Verdict, cpu};
use vigil_features::{Event, Format, ParseOptions, SCHEMA_VERSION, parse_lines_opts};
use vigil_store::{FeatureCache, ReviewFilter, ReviewOrder, ReviewQuery, Route, StoreError};

use crate::auth::Scope;
use crate::error::{ApiError, body_error, json_error};
use crate::media::{self, Media};
use crate::state::AppState;

/// The whole HTTP API over `state`.
pub fn app(state: AppState) -> Router {
    let limits = state.config().server.limits;
    let scope = |scope: Scope| middleware::from_fn_with_state((state.clone(), scope), authorize);
    Router::new()
        .route("/v1/events", post(events).route_layer(scope(Scope::Ingest)))
        .route("/v1/score", post(score).route_layer(scope(Scope::Score)))
        .route("/v1/model", get(model).route_layer(scope(Scope::Score)))
        .route("/v1/entities/{ip}", get(entity).route_layer(scope(Scope::Score)))
        .route("/v1/feedback", post(feedback).route_layer(scope(Scope::Feedback)))
        .route("/v1/reviews", get(reviews).route_layer(scope(Scope::Feedback)))
        .route("/v1/reviews/{id}/claim", post(claim).route_layer(scope(Scope::Feedback)))
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

/// Bodies above this many bytes are parsed off the worker.
const LARGE_BODY: usize = 256 << 10;

/// A request body that must be JSON: its content type, its size, then its shape.
fn json_body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    media::json(headers)?;
    let body = body.map_err(|e| body_error(&e, state.config().server.limits.max_body_bytes))?;
    parse_json(&body)
}

fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; expected a JSON object",
        ));
    }
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatQuery {
    format: Option<String>,
    /// `N` (the top N features) or `all`: add an explanation to each verdict.
    explain: Option<String>,
}

/// The `explain` query parameter: `None` (no explanation) or how many features (`all` is
/// `usize::MAX`).
fn explain_of(
    query: &Result<Query<FormatQuery>, QueryRejection>,
) -> Result<Option<usize>, ApiError> {
    let Ok(Query(FormatQuery { explain: Some(text), .. })) = query else { return Ok(None) };
    if text == "all" {
        return Ok(Some(usize::MAX));
    }
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(ApiError::bad_request(
            "invalid_query",
            format!("explain={text:?}: give a number of features (1 or more) or all"),
        )),
    }
}

/// `verdict` as JSON with its explanation (`top` features) added.
fn explained(verdict: &Verdict, top: usize) -> Result<serde_json::Value, ApiError> {
    let mut value = serde_json::to_value(verdict)
        .map_err(|e| ApiError::internal("serialising a verdict", &e))?;
    value["explanation"] = verdict.explain(Some(top))?;
    Ok(value)
}

/// The verdicts of a response, explained or not.
#[derive(Serialize)]
#[serde(untagged)]
enum VerdictList<'a> {
    Plain(&'a [Verdict]),
    Explained(Vec<serde_json::Value>),
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
    truncated: usize,
    skipped: usize,
    /// Events whose time had no UTC offset, and the zone they were read in.
    #[serde(skip_serializing_if = "Option::is_none")]
    naive_times: Option<NaiveTimes>,
    rejected: Vec<RejectedLine>,
    verdicts: VerdictList<'a>,
}

#[derive(Serialize)]
struct NaiveTimes {
    events: usize,
    read_in: String,
}

/// `POST /v1/events?format=auto`: a batch in any supported format; one verdict per source.
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FormatQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let limits = state.config().server.limits;
    media::json_or_lines(&headers)?;
    let explain = explain_of(&query)?;
    let format = format_of(query)?;
    let body = body.map_err(|e| body_error(&e, limits.max_body_bytes))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("empty_batch", "the request body holds no events"));
    }
    // Refuse before touching any window, so that a retry later loses nothing.
    if state.engine().model().is_none() {
        return Err(vigil_engine::EngineError::NoModel.into());
    }
    let options = parse_options(&state, Some(state.config().windows.not_after()))?;
    let parsed = cpu(body.len() > LARGE_BODY, || parse_lines_opts(format, body.as_ref(), &options))
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
    let ingest = state.engine().ingest(parsed.events).await?;
    let response = EventsResponse {
        format: parsed.format.name(),
        accepted,
        added: ingest.added,
        duplicates: ingest.duplicates,
        truncated: parsed.truncated,
        skipped: parsed.skipped,
        naive_times: (parsed.naive_times > 0)
            .then_some(NaiveTimes { events: parsed.naive_times, read_in: parsed.time_zone }),
        rejected,
        verdicts: match explain {
            None => VerdictList::Plain(&ingest.verdicts),
            Some(top) => VerdictList::Explained(
                ingest.verdicts.iter().map(|v| explained(v, top)).collect::<Result<_, _>>()?,
            ),
        },
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
    verdict: &'a Verdict,
}

fn require_model(state: &AppState) -> Result<(), ApiError> {
    match state.engine().model() {
        Some(_) => Ok(()),
        None => Err(vigil_engine::EngineError::NoModel.into()),
    }
}

/// `POST /v1/score`: one entity's events, a feature vector, or a known entity, scored
/// without changing any window.
async fn score(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FormatQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let limits = state.config().server.limits;
    let body = body.map_err(|e| body_error(&e, limits.max_body_bytes))?;
    let engine = state.engine();
    let explain = explain_of(&query)?;
    let respond_score = |verdict: &Verdict| -> Result<Response, ApiError> {
        Ok(match explain {
            None => Json(&ScoreResponse { verdict }).into_response(),
            Some(top) => Json(json!({ "verdict": explained(verdict, top)? })).into_response(),
        })
    };
    if media::json_or_lines(&headers)? == Media::Lines {
        let format = format_of(query)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid("no_events", "the request body holds no events"));
        }
        require_model(&state)?;
        let events = parse_all(&state, &body, format, Numbering::Line)?;
        return respond_score(&engine.score_events(events, None)?);
    }
    if query.is_ok_and(|Query(q)| q.format.is_some()) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "with a JSON body, give format in the body (the format query parameter is for \
             event lines: Content-Type application/x-ndjson)",
        ));
    }
    let request: ScoreRequest = parse_json(&body)?;
    require_model(&state)?;
    let verdict = match request {
        ScoreRequest { events: Some(_), features: Some(_), .. } => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give either events or features, not both",
            ));
        }
        ScoreRequest { events: Some(events), format, entity, .. } => {
            let events = event_objects(&state, &events, format.as_deref())?;
            engine.score_events(events, entity.as_deref())?
        }
        ScoreRequest { features: Some(values), entity, format: None, .. } => {
            engine.score_vector(&values, entity.as_deref())?
        }
        ScoreRequest { features: Some(_), format: Some(_), .. } => {
            return Err(ApiError::bad_request("invalid_request", "format applies to events only"));
        }
        ScoreRequest { entity: Some(entity), format: None, .. } => {
            engine.score_entity(parse_ip(&entity)?).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give one of: events (one entity's events), features (a vector of the schema's \
                 width) or entity (an IP whose window the server holds)",
            ));
        }
    };
    respond_score(&verdict)
}

fn parse_ip(entity: &str) -> Result<IpAddr, ApiError> {
    entity.trim().parse().map_err(|_| {
        ApiError::bad_request("invalid_entity", format!("entity {entity:?} is not an IP address"))
    })
}

/// `GET /v1/entities/{ip}`: the entity's window and its features by name.
async fn entity(
    State(state): State<AppState>,
    Path(ip): Path<String>,
) -> Result<Response, ApiError> {
    let view = state.engine().entity(parse_ip(&ip)?).await?;
    Ok(Json(&view).into_response())
}

/// Parses one entity's events given as JSON objects, all or nothing.
fn event_objects(
    state: &AppState,
    events: &[&RawValue],
    format: Option<&str>,
) -> Result<Vec<Event>, ApiError> {
    if events.is_empty() {
        return Err(ApiError::invalid("no_events", "events is empty"));
    }
    let limit = state.config().server.limits.max_events_per_request;
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
    parse_all(state, text.as_bytes(), format, Numbering::Index)
}

/// How rejected records are named: by 0-based index in `events`, or by 1-based line.
#[derive(Clone, Copy)]
enum Numbering {
    Index,
    Line,
}

/// The configured `[input]` reading (checked at startup), accepting events up to
/// `not_after`.
fn parse_options(
    state: &AppState,
    not_after: Option<vigil_features::Timestamp>,
) -> Result<ParseOptions, ApiError> {
    state
        .config()
        .input
        .parse_options(not_after)
        .map_err(|e| ApiError::internal("reading the [input] configuration", &e))
}

/// Events as text in `format` (one record per line, or an ingest document), all or
/// nothing: any rejected record is a 422 naming it.
fn parse_all(
    state: &AppState,
    text: &[u8],
    format: Format,
    numbering: Numbering,
) -> Result<Vec<Event>, ApiError> {
    let options = parse_options(state, None)?;
    let parsed = cpu(text.len() > LARGE_BODY, || parse_lines_opts(format, text, &options))
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
    let limit = state.config().server.limits.max_events_per_request;
    if parsed.events.len() > limit {
        return Err(ApiError::too_large(format!(
            "{} events given, the limit is {limit} per request",
            parsed.events.len()
        )));
    }
    Ok(parsed.events)
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

/// `POST /v1/feedback`: a verdict on a prediction, stored durably before the answer.
async fn feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: FeedbackRequest = json_body(&state, &headers, body)?;
    let target = match (request.prediction_id, request.features) {
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
        (Some(id), None) => {
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
            FeedbackTarget::Prediction(id)
        }
        (None, Some(features)) => {
            let prediction =
                match (request.ml_prediction, request.ml_confidence, request.model_version) {
                    (Some(p), Some(c), Some(v)) => Some((p, c, v)),
                    (None, None, None) => None,
                    _ => {
                        return Err(ApiError::bad_request(
                            "invalid_request",
                            "give ml_prediction, ml_confidence and model_version together, or \
                             none of them (then the current model scores the features)",
                        ));
                    }
                };
            FeedbackTarget::Features { features, entity: request.entity, prediction }
        }
    };
    let feedback =
        Feedback { verdict: request.verdict, correct_label: request.correct_label, target };
    let receipt = state.engine().feedback(feedback).await?;
    let source = request.source.as_deref().unwrap_or("unspecified");
    tracing::info!(
        sample_id = receipt.sample_id,
        verdict = receipt.verdict,
        replayed = receipt.replayed,
        source,
        "feedback stored"
    );
    // A retry of a stored feedback gets the stored sample with 200; a new one 201.
    let status = if receipt.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(receipt)).into_response())
}

/// The query of `GET /v1/reviews`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewParams {
    /// `council` or `human` (default both).
    route: Option<String>,
    /// `pending` (default), `claimed`, `open`, `closed` or `all`.
    status: Option<String>,
    /// `oldest` (default) or `confidence` (least confident first).
    order: Option<String>,
    /// Items per page, 1 to 1,000 (default 50).
    limit: Option<usize>,
    /// A previous page's `next`.
    after: Option<String>,
}

/// `GET /v1/reviews`: review items (verdicts routed to the council or a human), a page at a
/// time.
async fn reviews(
    State(state): State<AppState>,
    query: Result<Query<ReviewParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let bad = |e: String| ApiError::bad_request("invalid_query", e);
    let defaults = ReviewQuery::default();
    let query = ReviewQuery {
        route: match p.route.as_deref() {
            None => None,
            Some("council") => Some(Route::Council),
            Some("human") => Some(Route::Human),
            Some(other) => {
                return Err(bad(format!("unknown route {other:?} (council or human)")));
            }
        },
        filter: p.status.map_or(Ok(defaults.filter), |s| s.parse::<ReviewFilter>().map_err(bad))?,
        order: p.order.map_or(Ok(defaults.order), |s| s.parse::<ReviewOrder>().map_err(bad))?,
        limit: p.limit.unwrap_or(defaults.limit),
        after: p.after,
    };
    Ok(Json(state.engine().reviews(query).await?).into_response())
}

/// The body of `POST /v1/reviews/{id}/claim`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRequest {
    /// Who takes the item.
    reviewer: String,
    /// For how long (default `reviews.lease_secs`).
    lease_secs: Option<u64>,
}

/// `POST /v1/reviews/{id}/claim`: a lease on a review item, so two reviewers never hold the
/// same one; its feedback (`POST /v1/feedback` with the id as `prediction_id`) closes it.
async fn claim(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: ClaimRequest = json_body(&state, &headers, body)?;
    let item = state.engine().claim(&id, &request.reviewer, request.lease_secs).await?;
    tracing::info!(review = %id, reviewer = %request.reviewer, "review item claimed");
    Ok(Json(item).into_response())
}

/// `GET /v1/model`: the champion being served.
async fn model(State(state): State<AppState>) -> Result<Response, ApiError> {
    let model = state.engine().model().ok_or(vigil_engine::EngineError::NoModel)?;
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
    Ok(Json(state.engine().status().await?).into_response())
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| body_error(&e, state.config().server.limits.max_body_bytes))?;
    // An empty body needs no type: there is nothing to read.
    let request: RetrainRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RetrainRequest::default()
    } else {
        media::json(&headers)?;
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
    let samples = state.engine().samples().clone();
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
    let engine = state.engine();
    let model = engine.model();
    let samples = engine.samples().clone();
    let store_ok =
        tokio::task::spawn_blocking(move || samples.pending_count(SCHEMA_VERSION).is_ok())
            .await
            .unwrap_or(false);
    // Redis is asked (a PING under its timeout), not trusted: a hung server keeps its TCP
    // connection up while every call times out.
    let cache = match engine.cache() {
        vigil_store::AnyCache::Memory(_) => json!({ "backend": "memory", "reachable": true }),
        vigil_store::AnyCache::Redis(r) => match r.health().await {
            Ok(()) => json!({ "backend": "redis", "reachable": true }),
            Err(e) => json!({ "backend": "redis", "reachable": false, "error": e.to_string() }),
        },
    };
    let cache_ok = cache["reachable"].as_bool().unwrap_or(false);
    let (status, code) = match (&model, store_ok && cache_ok) {
        (None, _) => ("not_ready", StatusCode::SERVICE_UNAVAILABLE),
        (Some(_), true) => ("ready", StatusCode::OK),
        (Some(_), false) => ("degraded", StatusCode::OK),
    };
    let stats = engine.cache().stats();
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
