//! The one error type of the HTTP layer: 4xx with a message that names the problem, 5xx
//! with a fixed body (the detail goes to the log).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to the client.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: None }
    }

    /// Any status with a message of ours.
    pub(crate) fn new_status(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::new(status, code, message)
    }

    /// 400: the request cannot be read (malformed JSON, wrong types, missing fields).
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: no or unknown bearer token.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: a valid token without the route's scope.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: an unknown prediction id, entity or route.
    pub(crate) fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409: the request conflicts with what is stored (feedback given twice).
    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 413: body or batch over the limit.
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 415: a body of a type the route does not read.
    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }

    /// 422: well-formed but invalid values (vector width, NaN, unknown label, ...).
    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 503 with a message of ours (never an internal error's text): e.g. no model yet.
    pub(crate) fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// 500: logs `detail` and answers a fixed body.
    pub(crate) fn internal(context: &str, detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(%detail, "{context}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal server error")
    }

    /// Attaches structured details (e.g. the rejected lines of a batch).
    pub(crate) fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The status code.
    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { error: &self.message, code: self.code, details: self.details.as_ref() };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<vigil_engine::EngineError> for ApiError {
    /// The engine's refusals keep their message; its failures become a fixed 500.
    fn from(e: vigil_engine::EngineError) -> Self {
        use vigil_engine::EngineError as E;
        let text = e.to_string();
        match e {
            E::NoModel => Self::unavailable(
                "no_model",
                "no model is loaded yet; retry when /readyz reports ready",
            ),
            E::UnknownEntity { .. } => Self::not_found("unknown_entity", text),
            E::UnknownPrediction { .. } => Self::not_found("unknown_prediction", text),
            E::NoEvents => Self::invalid("no_events", text),
            E::SeveralEntities { .. } => Self::invalid("several_entities", text),
            E::EntityMismatch { .. } => Self::invalid("entity_mismatch", text),
            E::InvalidEntity => Self::invalid("invalid_entity", text),
            E::InvalidFeatures(_) => Self::invalid("invalid_features", text),
            E::FeedbackExists { .. } => Self::conflict("feedback_exists", text),
            E::UnknownVerdict { .. } => Self::invalid("unknown_verdict", text),
            E::UnknownLabel { .. } => Self::invalid("unknown_label", text),
            E::InvalidFeedback { .. } => Self::invalid("invalid_feedback", text),
            E::InvalidReview { .. } => Self::invalid("invalid_review", text),
            E::Explain { .. } => Self::invalid("cannot_explain", text),
            E::UnknownReview { .. } => Self::not_found("unknown_review", text),
            E::ReviewHeld { .. } => Self::conflict("review_held", text),
            E::ReviewClosed { .. } => Self::conflict("review_closed", text),
            other => Self::internal("engine call failed", &other),
        }
    }
}

/// The message of a JSON error, and whether it is a syntax error (else a type or shape error).
pub(crate) fn json_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request("invalid_json", format!("malformed JSON: {e}"))
        }
        Category::Data => ApiError::bad_request("invalid_request", format!("invalid request: {e}")),
    }
}

/// Reads a request body that axum could not buffer (over the limit, or a broken stream).
pub(crate) fn body_error(e: &axum::extract::rejection::BytesRejection, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!("request body is larger than the limit of {limit} bytes"))
    } else {
        ApiError::bad_request("invalid_body", format!("cannot read the request body: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_500_keeps_its_detail_in_the_log() {
        let response =
            ApiError::internal("reading the store", &"disk /secret/path failed").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        assert_eq!(&body[..], br#"{"error":"internal server error","code":"internal"}"#);
    }

    #[tokio::test]
    async fn a_4xx_names_the_problem() {
        let response = ApiError::invalid("invalid_features", "feature x is not finite: NaN")
            .with_details(serde_json::json!({ "at": 3 }))
            .into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "feature x is not finite: NaN");
        assert_eq!(json["code"], "invalid_features");
        assert_eq!(json["details"]["at"], 3);
    }
}
