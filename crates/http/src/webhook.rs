//! The review webhook: each new review item POSTed as JSON to `[server.webhook] url`, with
//! `Authorization: Bearer` and an HMAC-SHA256 signature of the body when configured,
//! retried with exponential backoff, one item at a time from the engine's bounded review
//! feed (a slow receiver fills the feed and later items skip the webhook; scoring never
//! waits). Plain HTTP/1.1 over a fresh connection per attempt.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hmac::{Hmac, KeyInit, Mac};
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;
use vigil_engine::{Engine, WebhookConfig};

/// The signature header: `sha256=<hex HMAC-SHA256(hmac_key, body)>`.
pub const SIGNATURE_HEADER: &str = "x-vigil-signature";
/// The item's prediction id, the same on every attempt (receivers deduplicate by it).
pub const DELIVERY_HEADER: &str = "x-vigil-delivery";

/// Starts the webhook of `engine` under `config` (its feed replaces any earlier one) until
/// `cancel`. The URL must pass [`WebhookConfig::target`].
pub fn spawn(engine: &Engine, config: WebhookConfig, cancel: CancellationToken) {
    let feed = engine.review_feed(config.queue);
    tokio::spawn(run(config, feed, cancel));
}

/// Delivers every item of `feed`, in order, until it closes or `cancel`.
pub async fn run(
    config: WebhookConfig,
    mut feed: Receiver<serde_json::Value>,
    cancel: CancellationToken,
) {
    let Ok(target) = config.target() else {
        tracing::error!(url = %config.url, "webhook not started: bad url");
        return;
    };
    loop {
        tokio::select! {
            item = feed.recv() => match item {
                Some(item) => deliver(&config, &target, &item, &cancel).await,
                None => return,
            },
            () = cancel.cancelled() => return,
        }
    }
}

/// `hex(HMAC-SHA256(key, body))`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("any key length"));
    mac.update(body);
    crate::auth::hex(&mac.finalize().into_bytes())
}

async fn deliver(
    config: &WebhookConfig,
    target: &(String, u16, String),
    item: &serde_json::Value,
    cancel: &CancellationToken,
) {
    let body = item.to_string();
    let id = item["prediction_id"].as_str().unwrap_or_default().to_owned();
    let mut delay = Duration::from_millis(config.backoff_ms);
    for attempt in 1..=config.max_attempts {
        let sent = tokio::time::timeout(
            Duration::from_millis(config.timeout_ms),
            post(config, target, &id, body.clone()),
        )
        .await;
        let failure = match sent {
            Ok(Ok(status)) if status.is_success() => {
                metrics::counter!("vigil_webhook_deliveries_total", "outcome" => "delivered")
                    .increment(1);
                return;
            }
            Ok(Ok(status)) => format!("answered {status}"),
            Ok(Err(e)) => e,
            Err(_) => format!("no answer within {} ms", config.timeout_ms),
        };
        metrics::counter!("vigil_webhook_attempts_failed_total").increment(1);
        if attempt == config.max_attempts {
            tracing::warn!(review = %id, attempts = attempt, %failure, "webhook gave up on an item");
            metrics::counter!("vigil_webhook_deliveries_total", "outcome" => "failed").increment(1);
            return;
        }
        tracing::debug!(review = %id, attempt, %failure, retry_in = ?delay, "webhook attempt failed");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = cancel.cancelled() => return,
        }
        delay = (delay * 2).min(Duration::from_millis(config.max_backoff_ms));
    }
}

async fn post(
    config: &WebhookConfig,
    (host, port, path): &(String, u16, String),
    id: &str,
    body: String,
) -> Result<StatusCode, String> {
    let stream = tokio::net::TcpStream::connect((host.as_str(), *port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
    let host_header = if *port == 80 { host } else { format!("{host}:{port}") };
    let mut request = Request::post(path.as_str())
        .header(header::HOST, host_header)
        .header(header::CONTENT_TYPE, "application/json")
        .header(DELIVERY_HEADER, id);
    if let Some(token) = &config.bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(key) = &config.hmac_key {
        request = request.header(
            SIGNATURE_HEADER,
            format!("sha256={}", signature(key.as_bytes(), body.as_bytes())),
        );
    }
    let request = request.body(Body::from(body)).map_err(|e| format!("request: {e}"))?;
    let response = sender.send_request(request).await.map_err(|e| format!("send: {e}"))?;
    Ok(response.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
