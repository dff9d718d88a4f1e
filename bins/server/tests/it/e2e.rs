//! The binary end to end: start on a free port with no champion, bootstrap, ingest a real
//! Cowrie log slice, post feedback and find it in SQLite, hot-reload a promoted model,
//! shut down gracefully on SIGTERM.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vigil_registry::{NewVersion, Registry};

use vigil_retrain::synthetic::tiny_artifact;

/// The child process, killed if the test fails before it is shut down.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 request over a fresh connection; returns status and body.
fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    (status, body.to_owned())
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(dir: &Path) -> Server {
    start_with(dir, "")
}

/// [`start`] with `extra` TOML appended to the configuration.
fn start_with(dir: &Path, extra: &str) -> Server {
    let port = free_port();
    let var = dir.join("var");
    let config = format!(
        "database = \"{db}\"\nregistry = \"{reg}\"\nreload_interval_ms = 200\n\
         [server]\nlisten = \"127.0.0.1:{port}\"\n[server.limits]\nheader_timeout_ms = 500\n\
         [learning]\nbase = \"{base}\"\nreports = \"{reports}\"\n[learning.bootstrap]\nentities = 1500\n",
        db = var.join("vigil.db").display(),
        reg = var.join("registry").display(),
        base = var.join("base-events.jsonl").display(),
        reports = var.join("reports").display(),
    );
    std::fs::write(dir.join("vigil.toml"), config + extra).unwrap();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_vigil-server"))
        .args(["--config", "vigil.toml"])
        .current_dir(dir)
        .env_remove("VIGIL_ADMIN_TOKENS")
        .env_remove("VIGIL_REDIS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Server { child, port }
}

#[test]
fn the_binary_bootstraps_ingests_cowrie_stores_feedback_reloads_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let log = || std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    let started = Instant::now();
    let mut server = start(dir.path());
    let port = server.port;
    wait_ready(&mut server, dir.path(), started);
    let (_, body) = http(port, "GET", "/v1/model", None, "");
    let model = json_of(&body);
    assert_eq!(model["version"], "v1", "{model}");
    assert!(log().contains("bootstrapped v1 from 1500 base entities"), "{}", log());

    // The generated admin token (ingest needs a token by default).
    let token = std::fs::read_to_string(dir.path().join("var/admin.token")).unwrap();
    let token = token.trim();

    // A real Cowrie log slice: one verdict per source address.
    let slice = cowrie_slice(400);
    let (status, body) = http(port, "POST", "/v1/events?format=cowrie", None, &slice);
    assert_eq!(status, 401, "{body}");
    let (status, body) = http(port, "POST", "/v1/events?format=cowrie", Some(token), &slice);
    assert_eq!(status, 200, "{body}");
    let batch = json_of(&body);
    let accepted = batch["accepted"].as_u64().unwrap();
    let rejected = batch["rejected"].as_array().unwrap().len() as u64;
    assert_eq!(accepted + rejected, 400, "{batch}");
    assert!(accepted >= 390, "{batch}");
    let verdicts = batch["verdicts"].as_array().unwrap();
    let sources: std::collections::BTreeSet<String> = slice
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["src_ip"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(verdicts.len(), sources.len());
    for v in verdicts {
        assert_eq!(v["model_version"], "v1");
        assert!(sources.contains(v["entity"].as_str().unwrap()));
    }

    // A client that never finishes its headers is cut off after header_timeout_ms.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(b"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let cut = Instant::now();
    let mut buf = [0u8; 256];
    match slow.read(&mut buf) {
        Ok(n) => assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408")),
        Err(e) => assert_ne!(e.kind(), std::io::ErrorKind::WouldBlock, "still open after 10 s"),
    }
    assert!(cut.elapsed() < Duration::from_secs(5), "cut after {:?}", cut.elapsed());

    // Feedback on one verdict, with the generated admin token.
    let verdict = &verdicts[0];
    let predicted = verdict["class"].as_str().unwrap();
    let correct = if predicted == "Brute Force" { "Malware/Botnet" } else { "Brute Force" };
    let feedback = json!({
        "prediction_id": verdict["prediction_id"], "verdict": "OVERRIDE",
        "correct_label": correct, "source": "analyst",
    });
    let (status, body) = http(port, "POST", "/v1/feedback", None, &feedback.to_string());
    assert_eq!(status, 401, "{body}");
    let (status, body) = http(port, "POST", "/v1/feedback", Some(token), &feedback.to_string());
    assert_eq!(status, 201, "{body}");
    let sample_id = json_of(&body)["sample_id"].as_i64().unwrap();
    // On disk: read it back through a second handle on the database file.
    let store = vigil_store::SampleStore::open(dir.path().join("var/vigil.db")).unwrap();
    let sample = store.sample(sample_id).unwrap().expect("the acknowledged sample");
    assert_eq!(
        (
            sample.entity.as_str(),
            sample.ml_prediction.as_str(),
            sample.verdict.as_str(),
            sample.correct_label.as_deref(),
            sample.was_override,
            sample.features.len()
        ),
        (verdict["entity"].as_str().unwrap(), predicted, "OVERRIDE", Some(correct), true, 100)
    );
    // The route the verdict was given is stored with it.
    let route = verdict["route"].as_str().unwrap();
    assert_eq!(sample.route.map(vigil_store::Route::as_str), Some(route));
    let (_, body) = http(port, "GET", "/v1/learning/status", Some(token), "");
    assert_eq!(json_of(&body)["pending_samples"], 1, "{body}");

    // The worker's part, played here: register and promote a new version; the server
    // picks it up.
    {
        let registry = Registry::open(dir.path().join("var/registry")).unwrap();
        let artifact = tiny_artifact(5);
        let info = NewVersion::for_artifact(&artifact, json!({}), json!({}), Some("v1".into()));
        let manifest = registry.register(&artifact.to_bytes().unwrap(), info).unwrap();
        registry.promote(&manifest.version, "e2e test").unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = http(port, "GET", "/v1/model", None, "");
        if json_of(&body)["version"] == "v2" {
            break;
        }
        assert!(Instant::now() < deadline, "v2 not loaded:\n{}", log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, body) = http(port, "GET", "/metrics", None, "");
    let counted = format!(
        "vigil_feedback_total{{verdict=\"OVERRIDE\",route=\"{route}\",class=\"{predicted}\"}} 1"
    );
    assert!(body.contains(&counted), "{counted} missing from {body}");
    assert!(body.contains("vigil_model_info{version=\"v2\"} 1"), "{body}");

    // SIGTERM: a graceful exit with status 0.
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}:\n{}", log());
    assert!(log().contains("SIGTERM: finishing in-flight requests"), "{}", log());
}

/// Waits until the server answers `/readyz` (bootstrapped and listening), at most a minute
/// from `started`.
fn wait_ready(server: &mut Server, dir: &Path, started: Instant) {
    let log = || std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("the server exited with {status}:\n{}", log());
        }
        if TcpStream::connect(("127.0.0.1", server.port)).is_ok()
            && http(server.port, "GET", "/readyz", None, "").0 == 200
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "not ready within a minute:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn review_items_and_their_leases_survive_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    // Every verdict to a human: each source of the slice is a review item.
    let human = "[routing]\nautonomous_at = 1.0\ncouncil_at = 1.0\n";
    let mut server = start_with(dir.path(), human);
    wait_ready(&mut server, dir.path(), Instant::now());
    let token = std::fs::read_to_string(dir.path().join("var/admin.token")).unwrap();
    let token = token.trim();
    let (status, body) =
        http(server.port, "POST", "/v1/events?format=cowrie", Some(token), &cowrie_slice(200));
    assert_eq!(status, 200, "{body}");
    let verdicts = json_of(&body)["verdicts"].as_array().unwrap().clone();
    assert!(verdicts.len() >= 2 && verdicts.iter().all(|v| v["route"] == "human"));
    let first = verdicts[0]["prediction_id"].as_str().unwrap().to_owned();
    let claim = json!({"reviewer": "alice", "lease_secs": 3600}).to_string();
    let (status, body) =
        http(server.port, "POST", &format!("/v1/reviews/{first}/claim"), Some(token), &claim);
    assert_eq!(status, 200, "{body}");
    let lease_until = json_of(&body)["lease_until"].clone();

    // SIGKILL: no shutdown of any kind.
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    let _ = server.child.wait();
    let mut server = start_with(dir.path(), human);
    wait_ready(&mut server, dir.path(), Instant::now());
    let port = server.port;
    let (_, body) = http(port, "GET", "/v1/reviews?status=all&limit=1000", Some(token), "");
    let listed = json_of(&body)["reviews"].as_array().unwrap().len();
    assert_eq!(listed, verdicts.len(), "every item survived: {body}");
    let (_, body) = http(port, "GET", "/v1/reviews?status=claimed", Some(token), "");
    let claimed = json_of(&body)["reviews"][0].clone();
    assert_eq!(claimed["prediction_id"], first.as_str(), "{body}");
    assert_eq!(
        (claimed["claimed_by"].clone(), claimed["lease_until"].clone()),
        (json!("alice"), lease_until)
    );
    let (status, body) = http(
        port,
        "POST",
        &format!("/v1/reviews/{first}/claim"),
        Some(token),
        &json!({"reviewer": "bob"}).to_string(),
    );
    assert_eq!(status, 409, "the lease survived too: {body}");
    // Feedback by a prediction id from before the kill is taken and closes the item.
    let feedback = json!({"prediction_id": first, "verdict": "CONFIRM", "source": "alice"});
    let (status, body) = http(port, "POST", "/v1/feedback", Some(token), &feedback.to_string());
    assert_eq!(status, 201, "{body}");
    let (_, body) = http(port, "GET", "/v1/reviews?status=closed", Some(token), "");
    assert_eq!(json_of(&body)["reviews"][0]["prediction_id"], first.as_str(), "{body}");
}

/// The first `lines` lines of a real Cowrie log in ../shared/datasets.
pub(crate) fn cowrie_slice(lines: usize) -> String {
    use std::io::{BufRead, BufReader};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cowrie/cowrie_scriptzteam_2017-11-04.json.gz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): the test needs ../shared/datasets beside the checkout",
            path.display()
        )
    });
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(file));
    reader.lines().take(lines).map(|l| l.unwrap() + "\n").collect()
}
