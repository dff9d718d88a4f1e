//! Redis killed while serving: scoring goes on (cache misses), no request fails.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;
use vigil_store::{AnyCache, RedisCache, RedisConfig};

use crate::support::*;

/// `redis-server` on a loopback port, no persistence; SIGKILLed on drop.
struct Redis {
    child: Option<Child>,
    port: u16,
}

impl Redis {
    fn start(port: u16) -> Self {
        let child = Command::new("/usr/bin/redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/redis-server must exist (apt install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(10));
        }
        Self { child: Some(child), port }
    }

    /// SIGSTOP (`true`) or SIGCONT: a hung server keeps its connections open.
    fn freeze(&self, frozen: bool) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill").args([signal, &pid]).status().expect("kill runs");
        assert!(status.success());
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_redis_while_serving_fails_no_score_request() {
    let mut redis = Redis::start(free_port());
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let mut config = RedisConfig::new(url);
    config.timeout = Duration::from_millis(50);
    let cache = RedisCache::connect(config).await.unwrap();
    assert!(cache.is_connected());
    let s = server_with_cache(
        |c| c.redis = Some("redis://set-by-test".into()),
        true,
        AnyCache::Redis(cache),
    );
    let ips: Vec<String> = (1..=20).map(|i| format!("203.0.113.{i}")).collect();
    for ip in &ips {
        let r = ingest(&s.app, "/v1/events", cowrie_logins(ip, 4, 0)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    }
    // Served from Redis while it is up.
    let r = post_json(&s.app, "/v1/score", None, &json!({ "entity": ips[0] })).await;
    assert_eq!(r.json["verdict"]["features"]["source"], "cache", "{}", r.json);
    let r = get(&s.app, "/readyz", None).await;
    assert_eq!(
        (r.json["status"].as_str(), r.json["cache"]["reachable"].as_bool()),
        (Some("ready"), Some(true))
    );

    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicBool::new(false));
    let (ok, failed, after_kill) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..6)
        .map(|n| {
            let (app, ips, stop, killed) =
                (s.app.clone(), ips.clone(), stop.clone(), killed.clone());
            let (ok, failed, after_kill) = (ok.clone(), failed.clone(), after_kill.clone());
            let failures = failures.clone();
            tokio::spawn(async move {
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let ip = &ips[(i * 7 + n) % ips.len()];
                    let r = match i % 3 {
                        0 => {
                            ingest(
                                &app,
                                "/v1/events",
                                cowrie_logins(ip, 1, 1000 + (i * 6 + n) as u32),
                            )
                            .await
                        }
                        1 => post_json(&app, "/v1/score", None, &json!({ "entity": ip })).await,
                        _ => {
                            post_json(&app, "/v1/score", None, &json!({ "features": vector(0.1) }))
                                .await
                        }
                    };
                    if r.status == StatusCode::OK {
                        ok.fetch_add(1, Ordering::Relaxed);
                        if killed.load(Ordering::Relaxed) {
                            after_kill.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                        failures.lock().unwrap().push(format!("{} {}", r.status, r.json));
                    }
                    i += 1;
                    // With Redis down the cache answers without awaiting anything, so these
                    // futures never yield by themselves: let the test's own task run.
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.kill();
    killed.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Degraded, still ready.
    let r = get(&s.app, "/readyz", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.json["status"].as_str(), r.json["cache"]["reachable"].as_bool()),
        (Some("degraded"), Some(false)),
        "{}",
        r.json
    );
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "{} succeeded; {:?}",
        ok.load(Ordering::Relaxed),
        failures.lock().unwrap()
    );
    assert!(
        after_kill.load(Ordering::Relaxed) > 50,
        "only {} requests after the kill",
        after_kill.load(Ordering::Relaxed)
    );

    // Redis back: the cache reconnects and serves again.
    let _redis = Redis::start(redis.port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = get(&s.app, "/readyz", None).await;
        if r.json["status"] == "ready" {
            break;
        }
        assert!(Instant::now() < deadline, "the cache did not reconnect: {}", r.json);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = ingest(&s.app, "/v1/events", cowrie_logins("192.0.2.200", 2, 0)).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = post_json(&s.app, "/v1/score", None, &json!({ "entity": "192.0.2.200" })).await;
    assert_eq!(r.json["verdict"]["features"]["source"], "cache", "{}", r.json);
}

/// A hung Redis (SIGSTOP: connected, answering nothing) makes readiness say `degraded`, and
/// scoring still answers; resumed, it is `ready` again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_reports_a_hung_redis_as_degraded() {
    let redis = Redis::start(free_port());
    let mut config = RedisConfig::new(format!("redis://127.0.0.1:{}", redis.port));
    config.timeout = Duration::from_millis(50);
    let cache = RedisCache::connect(config).await.unwrap();
    let s = server_with_cache(
        |c| c.redis = Some("redis://set-by-test".into()),
        true,
        AnyCache::Redis(cache),
    );
    let ready = |r: &Reply| {
        (r.json["status"].as_str().map(str::to_owned), r.json["cache"]["reachable"].as_bool())
    };
    let r = get(&s.app, "/readyz", None).await;
    assert_eq!(ready(&r), (Some("ready".into()), Some(true)), "{}", r.json);
    redis.freeze(true);
    let r = get(&s.app, "/readyz", None).await;
    assert_eq!(ready(&r), (Some("degraded".into()), Some(false)), "{}", r.json);
    let scored = ingest(&s.app, "/v1/events", cowrie_logins("192.0.2.77", 2, 0)).await;
    assert_eq!(scored.status, StatusCode::OK, "{}", scored.json);
    redis.freeze(false);
    // The breaker reopens the way after its cooldown.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = get(&s.app, "/readyz", None).await;
        if ready(&r) == (Some("ready".into()), Some(true)) {
            break;
        }
        assert!(Instant::now() < deadline, "still {}", r.json);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
