//! A throwaway `redis-server` on a free loopback port, killed on drop.
// Shared with the benches through `#[path]`, which use only part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` (no persistence), killed and reaped on drop.
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
}

/// A three-node Redis Cluster (no replicas), killed on drop.
pub(crate) struct RedisCluster {
    nodes: Vec<RedisServer>,
    _dir: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts three cluster-enabled servers, assigns the slots with `redis-cli --cluster
    /// create`, and waits until every node reports `cluster_state:ok`.
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                let (port, d) = (cluster_port(), dir.path());
                let args = [
                    "--cluster-enabled".to_owned(),
                    "yes".to_owned(),
                    "--cluster-config-file".to_owned(),
                    d.join(format!("nodes-{port}.conf")).display().to_string(),
                    "--dir".to_owned(),
                    d.display().to_string(),
                ];
                RedisServer::try_start(port, &args, &[])
                    .unwrap_or_else(|e| panic!("cluster node: {e}"))
            })
            .collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli must be on PATH (it comes with redis-server)");
        assert!(status.success(), "redis-cli --cluster create failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &nodes {
            loop {
                let out = Command::new("redis-cli")
                    .args(["-p", &node.port.to_string(), "cluster", "info"])
                    .output()
                    .expect("redis-cli");
                if String::from_utf8_lossy(&out.stdout).contains("cluster_state:ok") {
                    break;
                }
                assert!(Instant::now() < deadline, "cluster not ready within 20 s");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Self { nodes, _dir: dir }
    }

    /// `redis-cluster://` with every node.
    pub(crate) fn url(&self) -> String {
        let first = self.nodes[0].port;
        let others: Vec<String> =
            self.nodes[1..].iter().map(|n| format!("node=127.0.0.1:{}", n.port)).collect();
        format!("redis-cluster://127.0.0.1:{first}?{}", others.join("&"))
    }
}

/// A Redis Sentinel monitoring one server as `mymaster`, killed on drop.
pub(crate) struct RedisSentinel {
    sentinel: RedisServer,
    _dir: tempfile::TempDir,
}

impl RedisSentinel {
    /// Starts a sentinel (`redis-server <conf> --sentinel`) watching `master`.
    pub(crate) fn start(master: &RedisServer) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("sentinel.conf");
        let port = free_port();
        let text = format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {} 1\n",
            dir.path().display(),
            master.port
        );
        std::fs::write(&conf, text).expect("write sentinel.conf");
        let sentinel =
            RedisServer::try_start(port, &[], &[conf.as_path(), Path::new("--sentinel")])
                .unwrap_or_else(|e| panic!("sentinel: {e}"));
        Self { sentinel, _dir: dir }
    }

    /// `redis-sentinel://` for the monitored server.
    pub(crate) fn url(&self) -> String {
        format!("redis-sentinel://127.0.0.1:{}/0?sentinelServiceName=mymaster", self.sentinel.port)
    }
}

impl RedisServer {
    /// Starts a server on a free loopback port (retrying if another process takes the port
    /// between choosing and binding it).
    pub(crate) fn start() -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start(free_port(), &[], &[]) {
                Ok(server) => return server,
                Err(e) => last = e,
            }
        }
        panic!("cannot start redis-server: {last}");
    }

    /// Starts a server on `port` (to restart one that was killed).
    pub(crate) fn start_on(port: u16) -> Self {
        Self::try_start(port, &[], &[]).unwrap_or_else(|e| panic!("cannot start redis-server: {e}"))
    }

    /// Starts `redis-server {leading} --port {port} ... {extra}`.
    fn try_start(port: u16, extra: &[String], leading: &[&Path]) -> Result<Self, String> {
        let child = Command::new("redis-server")
            .args(leading)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server must be on PATH (apt install redis-server): {e}"))?;
        let mut server = Self { child: Some(child), port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = server.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(format!("redis-server on port {port} exited with {status}"));
            }
            if ping(port) {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        server.kill();
        Err(format!("redis-server on port {port} did not answer PING within 10 s"))
    }

    /// `redis://127.0.0.1:{port}`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL) and reaps it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    pub(crate) fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub(crate) fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("server is running").id();
        let status =
            Command::new("kill").args([signal, &pid.to_string()]).status().expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SIGKILL also ends a paused (SIGSTOPped) server.
        self.kill();
    }
}

/// A free port whose cluster bus port (+10000) is free too.
fn cluster_port() -> u16 {
    loop {
        let port = free_port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}
