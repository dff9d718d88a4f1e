//! Startup, serving and shutdown: open the stores, make sure a champion exists (bootstrap),
//! serve until SIGTERM or SIGINT, hot-reloading new champions meanwhile.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use vigil_core::ClassSet;
use vigil_features::{FeedKind, Intel};
use vigil_store::{
    AnyCache, Freshness, MemoryCache, MemoryConfig, RedisCache, RedisConfig, SampleStore,
    SampleStoreConfig,
};

use crate::config::Config;
use crate::state::AppState;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the server with `config` until SIGTERM or SIGINT; blocks the calling thread.
pub fn run(config: Config) -> anyhow::Result<()> {
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

fn create_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(())
}

/// Builds the state from `config`: tokens, sample store, cache, intel. No model yet.
pub async fn build_state(mut config: Config) -> anyhow::Result<AppState> {
    config.check()?;
    if config.auth.admin_tokens.is_empty() && config.auth.feedback_tokens.is_empty() {
        let path = config.token_file();
        let (token, generated) = crate::auth::ensure_token_file(&path)?;
        if generated {
            tracing::info!(path = %path.display(), "generated an admin token (no token was configured)");
        } else {
            tracing::info!(path = %path.display(), "admin token read from the token file");
        }
        config.auth.admin_tokens.push(token);
    }
    create_parent(&config.database)?;
    let store_config =
        SampleStoreConfig { classes: Some(ClassSet::threat()), ..SampleStoreConfig::default() };
    let path = config.database.clone();
    let samples = tokio::task::spawn_blocking(move || SampleStore::open_with(&path, store_config))
        .await?
        .with_context(|| format!("cannot open the sample store {}", config.database.display()))?;
    let freshness =
        Freshness { ttl: Duration::from_secs(config.cache.ttl_secs), ..Freshness::default() };
    let cache = match &config.redis {
        Some(url) => {
            let mut redis = RedisConfig::new(url.clone());
            redis.timeout = Duration::from_millis(config.cache.redis_timeout_ms.max(1));
            redis.key_prefix.clone_from(&config.cache.redis_key_prefix);
            redis.freshness = freshness;
            let cache = RedisCache::connect(redis).await.context("invalid redis configuration")?;
            if cache.is_connected() {
                tracing::info!("feature cache: redis");
            } else {
                tracing::warn!(
                    "feature cache: redis is not reachable yet; serving degraded (misses) until it is"
                );
            }
            AnyCache::Redis(cache)
        }
        None => AnyCache::Memory(MemoryCache::new(MemoryConfig {
            max_entries: config.cache.max_entries,
            max_bytes: config.cache.max_bytes,
            freshness,
            ..MemoryConfig::default()
        })),
    };
    let intel = load_intel(&config)?;
    Ok(AppState::new(config, cache, samples, intel))
}

fn load_intel(config: &Config) -> anyhow::Result<Intel> {
    let intel = Intel::new();
    let feeds = &config.intel;
    let single = [
        (FeedKind::TorExits, &feeds.tor_exits),
        (FeedKind::C2, &feeds.c2),
        (FeedKind::Reputation, &feeds.reputation),
        (FeedKind::Asn, &feeds.asn),
        (FeedKind::AsnReputation, &feeds.asn_reputation),
        (FeedKind::DomainAges, &feeds.domain_ages),
    ];
    let all = single
        .into_iter()
        .filter_map(|(kind, path)| path.as_ref().map(|p| (kind, p)))
        .chain(feeds.blocklists.iter().map(|p| (FeedKind::Blocklist, p)));
    for (kind, path) in all {
        intel.load(kind, path).with_context(|| format!("cannot load the {kind} feed"))?;
        tracing::info!(feed = %kind, path = %path.display(), "threat-intel feed loaded");
    }
    Ok(intel)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let state = build_state(config).await?;
    crate::reload::prepare(&state).await?;

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    tracing::info!("listening on http://{local}");

    let cancel = CancellationToken::new();
    tokio::spawn(crate::reload::watch(state.clone(), cancel.clone()));
    tokio::spawn(upkeep(state.clone(), cancel.clone()));
    tokio::spawn(wait_for_signal(cancel.clone()));
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);

    let limits = state.config().limits;
    accept_loop(listener, crate::app(state), limits, cancel).await;
    tracing::info!("shut down");
    Ok(())
}

/// Serves connections until `cancel`, then lets open requests finish (up to
/// [`DRAIN_TIMEOUT`]).
///
/// A loop of our own rather than `axum::serve`, which sets no timer on hyper, so hyper's
/// header-read timeout is off and a client that trickles its headers holds its connection
/// forever. Here every connection has that timeout, and at most `max_connections` are open.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: crate::config::Limits,
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
            _ = tick.tick() => state.metrics().run_upkeep(),
            () = cancel.cancelled() => return,
        }
    }
}
