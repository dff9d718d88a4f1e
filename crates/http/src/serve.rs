//! The state from a configuration, and the connection loop: every connection with a
//! header-read timeout, at most `max_connections` open, a graceful drain on cancel.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use vigil_engine::{Config, Engine, Limits};

use crate::state::AppState;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the state from `config`: the admin token (generated into the token file when no
/// admin or feedback token is configured), then the engine. No model yet.
pub async fn build_state(mut config: Config) -> anyhow::Result<AppState> {
    config.check()?;
    if config.server.open_ingest {
        tracing::warn!(
            "server.open_ingest is on: anyone who can reach this port can add events to the \
             windows and predictions to the ledger; use ingest tokens outside a lab"
        );
    }
    let auth = &mut config.server.auth;
    if auth.admin_tokens.is_empty() && auth.feedback_tokens.is_empty() {
        let path = config.token_file();
        let (token, generated) = crate::auth::ensure_token_file(&path)?;
        if generated {
            tracing::info!(path = %path.display(), "generated an admin token (no token was configured)");
        } else {
            tracing::info!(path = %path.display(), "admin token read from the token file");
        }
        config.server.auth.admin_tokens.push(token);
    }
    let database = config.database.clone();
    let engine = Engine::open(config).await.with_context(|| {
        format!("cannot start the engine (sample store {})", database.display())
    })?;
    Ok(AppState::new(engine))
}

/// Serves connections until `cancel`, then lets open requests finish (up to
/// [`DRAIN_TIMEOUT`]).
///
/// A loop of our own rather than `axum::serve`, which sets no timer on hyper, so hyper's
/// header-read timeout is off and a client that trickles its headers holds its connection
/// forever. Here every connection has that timeout, and at most `max_connections` are open.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: Limits,
    cancel: CancellationToken,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_timeout_ms))
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(%e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = cancel.cancelled() => break,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; closing a new connection");
            continue;
        };
        // Small JSON answers: send them now, not after the peer's delayed ACK.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}; exiting");
        }
    }
}
