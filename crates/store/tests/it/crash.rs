//! Durability under a crash: a child process (this test binary, re-executed) inserts samples
//! from several threads and prints each acknowledged id; it is SIGKILLed mid-burst, and every
//! acknowledged id must be in the database afterwards.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vigil_store::{SampleStore, Verdict};

use crate::samples::sample;

const CHILD_ENV: &str = "VIGIL_STORE_CRASH_CHILD_DB";

/// In the child (the variable is set): insert until killed. In a normal run: nothing.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else { return };
    let store = SampleStore::open(path).unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let store = store.clone();
            s.spawn(move || {
                loop {
                    let id = store.insert(sample(Verdict::Confirm, "APT", None)).unwrap();
                    // Only after `insert` returned: the id is acknowledged.
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {id}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

#[test]
fn acknowledged_inserts_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.db");
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args(["crash::crash_child", "--exact", "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_mins(1);
    // Kill well into the burst: after 1500 acknowledgements, while 8 threads are inserting.
    while acked.len() < 1500 {
        assert!(
            Instant::now() < deadline,
            "child acknowledged only {} inserts in 60 s",
            acked.len()
        );
        let line = lines.next().expect("child exited early").unwrap();
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(id.parse::<i64>().unwrap());
        }
    }
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();
    // Acknowledgements already in the pipe count too.
    for line in lines {
        if let Some(id) = line.unwrap().strip_prefix("ACK ") {
            acked.push(id.parse().unwrap());
        }
    }

    let store = SampleStore::open(&path).unwrap();
    let missing: Vec<i64> =
        acked.iter().copied().filter(|&id| store.sample(id).unwrap().is_none()).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged ids lost: {missing:?}",
        missing.len(),
        acked.len()
    );
    assert!(store.pending_count("v1").unwrap() >= acked.len() as u64);
}

/// The child inserts forever: make sure a failing test does not leave it running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
