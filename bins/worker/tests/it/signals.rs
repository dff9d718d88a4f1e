//! Signals, crashes and the writer lock, with real processes.

use std::time::{Duration, Instant};

use vigil_store::JobStatus;

use crate::{SLOW_MODEL, Site, exists, expect_code, insert_confirms, send_signal, stderr, stdout};

#[test]
fn sigkill_mid_run_leaves_the_champion_and_the_next_start_fails_the_job() {
    let site = Site::new(1500);
    expect_code(&site.run("worker.toml", &["once"]), 0);
    insert_confirms(&site.store(), 100, 4);
    site.write_config("slow.toml", SLOW_MODEL, 1000);
    let audit_before = site.reader().history().unwrap();

    let (mut child, mut lines) = site.spawn("slow.toml", &["once", "--ignore-triggers"]);
    lines.wait_for(&["step started", "\"step\":\"train\""], 60);
    child.kill().unwrap();
    child.wait().unwrap();

    let reader = site.reader();
    assert_eq!(reader.champion_version().unwrap().as_deref(), Some("v1"));
    assert_eq!(reader.list().unwrap().len(), 1);
    assert_eq!(reader.history().unwrap(), audit_before);
    reader.load_champion().unwrap().unwrap();
    let store = site.store();
    let job = &store.recent_jobs(1).unwrap()[0];
    assert_eq!(job.status, JobStatus::Running);
    assert!(job.reason.contains(&format!("worker pid {}", child.id())), "{}", job.reason);

    // The next start marks it failed, naming the dead worker, and carries on.
    let next = site.run("worker.toml", &["once"]);
    expect_code(&next, 0);
    assert_eq!(stdout(&next).trim(), "no trigger fired");
    assert!(
        stderr(&next).contains("jobs left running by a dead worker were marked failed"),
        "{}",
        stderr(&next)
    );
    let job = store.recent_jobs(1).unwrap().remove(0);
    assert_eq!(job.status, JobStatus::Failed);
    let error = job.error.unwrap();
    assert!(
        error.starts_with("abandoned") && error.contains(&format!("worker pid {}", child.id())),
        "{error}"
    );
    // Its samples are still pending for the next run.
    assert_eq!(store.pending_count(vigil_features::SCHEMA_VERSION).unwrap(), 100);
}

#[test]
fn a_second_worker_is_told_who_holds_the_lock_and_sigterm_stops_an_idle_worker() {
    let site = Site::new(600);
    let (mut child, mut lines) =
        site.spawn("worker.toml", &["run", "--first-check-seconds", "3600"]);
    lines.wait_for(&["worker started"], 60);

    let second = site.run("worker.toml", &["once"]);
    expect_code(&second, 2);
    let err = stderr(&second);
    assert!(err.contains("locked by another writer: pid"), "{err}");
    assert!(err.contains(&format!("pid {} on ", child.id())), "{err}");
    assert!(err.contains(" since 20"), "{err}");
    // status reads without the lock and names the writer.
    let status = site.run("worker.toml", &["status"]);
    expect_code(&status, 0);
    assert!(
        stdout(&status).contains(&format!("writer    pid {}", child.id())),
        "{}",
        stdout(&status)
    );

    let clock = Instant::now();
    send_signal(&child, "-TERM");
    let code = child.wait().unwrap();
    assert!(code.success(), "{code:?}");
    assert!(clock.elapsed() < Duration::from_secs(5));
    assert!(lines.rest().contains("signal received: stopping"));
    // The lock went with it.
    expect_code(&site.run("worker.toml", &["once"]), 0);
}

#[test]
fn sigterm_during_a_run_stops_between_steps() {
    let site = Site::new(1500);
    // Slow enough to signal mid-train, fast enough to wait for: a few seconds.
    site.write_config(
        "medium.toml",
        "[learning.retrain.model]\nkind = \"gbdt\"\nmax_rounds = 300\nlearning_rate = 0.02\nearly_stopping_rounds = 100000\n",
        1000,
    );
    let (mut child, mut lines) = site.spawn("medium.toml", &["run", "--first-check-seconds", "0"]);
    lines.wait_for(&["step started", "\"step\":\"train\""], 60);
    send_signal(&child, "-TERM");
    let code = child.wait().unwrap();
    let log = lines.rest();
    assert!(code.success(), "{code:?}\n{log}");
    assert!(log.contains("cancelled: stopping before this step"), "{log}");
    assert!(log.contains("signal received: stopping"), "{log}");
    // Nothing was registered; the job says why.
    assert_eq!(site.reader().champion_version().unwrap(), None);
    assert!(site.reader().list().unwrap().is_empty());
    let job = &site.store().recent_jobs(1).unwrap()[0];
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.error.as_deref(), Some("cancelled before step evaluate"));
}

#[test]
fn a_second_sigterm_abandons_the_run() {
    let site = Site::new(1500);
    site.write_config("slow.toml", SLOW_MODEL, 1000);
    let (mut child, mut lines) = site.spawn("slow.toml", &["run", "--first-check-seconds", "0"]);
    lines.wait_for(&["step started", "\"step\":\"train\""], 60);
    let clock = Instant::now();
    send_signal(&child, "-TERM");
    std::thread::sleep(Duration::from_millis(100));
    send_signal(&child, "-TERM");
    let code = child.wait().unwrap();
    assert_eq!(code.code(), Some(1));
    assert!(clock.elapsed() < Duration::from_secs(5));
    assert_eq!(site.reader().champion_version().unwrap(), None);
    assert!(!exists(&site.path("var/registry/champion")));
    assert_eq!(site.store().recent_jobs(1).unwrap()[0].status, JobStatus::Running);
}
