//! The process: a runtime, the state, a champion (loaded or bootstrapped), the connection
//! loop until SIGTERM or SIGINT, hot reload and metrics upkeep meanwhile.

use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vigil_engine::Config;
use vigil_http::AppState;

/// Runs the server with `config` until SIGTERM or SIGINT; blocks the calling thread.
pub(crate) fn run(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigil-server")
        // Bounds the threads `block_in_place` and `spawn_blocking` may start (and so the
        // allocator arenas and stacks they hold).
        .max_blocking_threads(16)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.server.listen;
    let state = vigil_http::build_state(config).await?;
    state.engine().prepare().await.context("cannot load or bootstrap a champion")?;

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!("listening on http://{}", listener.local_addr()?);

    let cancel = CancellationToken::new();
    let engine = state.engine().clone();
    let watching = cancel.clone();
    tokio::spawn(async move { engine.watch(watching).await });
    tokio::spawn(upkeep(state.clone(), cancel.clone()));
    let (pruning, stop) = (state.engine().clone(), cancel.clone());
    tokio::spawn(async move { pruning.prune_every(Duration::from_mins(10), stop).await });
    if let Some(webhook) = state.config().server.webhook.clone() {
        tracing::info!(url = %webhook.url, "review items are POSTed to the webhook");
        vigil_http::webhook::spawn(state.engine(), webhook, cancel.clone());
    }
    tokio::spawn(wait_for_signal(cancel.clone()));
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);

    let limits = state.config().server.limits;
    vigil_http::serve(listener, vigil_http::app(state), limits, cancel).await;
    tracing::info!("shut down");
    Ok(())
}

/// Cancels `cancel` at the first SIGTERM or SIGINT.
async fn wait_for_signal(cancel: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(%e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = terminate => tracing::info!("SIGTERM: finishing in-flight requests"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: finishing in-flight requests"),
        () = cancel.cancelled() => return,
    }
    cancel.cancel();
}

/// Drains the metrics recorder's histogram buffers now and then.
async fn upkeep(state: AppState, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tick.tick() => state.metrics_upkeep(),
            () = cancel.cancelled() => return,
        }
    }
}
