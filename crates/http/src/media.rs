//! Content types: which bodies a route reads. Anything else, a missing type included, is a
//! 415 that names what the route accepts (a body is never guessed at).

use axum::http::{HeaderMap, header};

use crate::error::ApiError;

/// The types of raw event lines (one record per line, or a line format's text).
const LINES: [&str; 4] =
    ["application/x-ndjson", "application/jsonl", "application/x-jsonlines", "text/plain"];

/// What a body is, by its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    /// `application/json` or any `+json` type.
    Json,
    /// One of [`LINES`].
    Lines,
}

/// The media type's essence (no parameters), if the header is there and readable.
fn essence(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim())
}

fn classify(headers: &HeaderMap) -> Option<Media> {
    let t = essence(headers)?;
    let lower = t.to_ascii_lowercase();
    if lower == "application/json"
        || lower.strip_suffix("+json").is_some_and(|head| head.contains('/'))
    {
        Some(Media::Json)
    } else if LINES.contains(&lower.as_str()) {
        Some(Media::Lines)
    } else {
        None
    }
}

fn refuse(headers: &HeaderMap, accepted: &str) -> ApiError {
    let found = essence(headers).map_or_else(|| "no Content-Type".to_owned(), |t| format!("{t:?}"));
    ApiError::unsupported(format!("{found} is not accepted here; send {accepted}"))
}

/// A JSON request object: `application/json` (or `+json`).
pub(crate) fn json(headers: &HeaderMap) -> Result<(), ApiError> {
    match classify(headers) {
        Some(Media::Json) => Ok(()),
        _ => Err(refuse(headers, "application/json")),
    }
}

/// An event batch or a scoring request: JSON, or event lines.
pub(crate) fn json_or_lines(headers: &HeaderMap) -> Result<Media, ApiError> {
    classify(headers).ok_or_else(|| {
        refuse(
            headers,
            &format!("application/json (or +json) or event lines ({})", LINES.join(", ")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: Option<&str>, expected: Option<Media>) {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(header::CONTENT_TYPE, v.parse().unwrap());
        }
        assert_eq!(classify(&h), expected, "{value:?}");
    }

    #[test]
    fn types_are_read_by_their_essence() {
        check(Some("application/json"), Some(Media::Json));
        check(Some("Application/JSON; charset=utf-8"), Some(Media::Json));
        check(Some("application/vnd.vigil+json"), Some(Media::Json));
        check(Some("application/x-ndjson"), Some(Media::Lines));
        check(Some("text/plain; charset=utf-8"), Some(Media::Lines));
        check(Some("text/xml"), None);
        check(Some("+json"), None);
        check(Some("multipart/form-data; boundary=x"), None);
        check(None, None);
    }
}
