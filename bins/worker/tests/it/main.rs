//! End-to-end tests of the `vigil-worker` binary on a temp directory.

mod cli;
mod signals;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use vigil_core::ClassSet;
use vigil_retrain::synthetic::{mistyping_admins, threat_rows};
use vigil_store::{NewSample, SampleStore, SampleStoreConfig, Verdict};

/// A temp directory with base data, a config file and paths for the store and registry.
pub(crate) struct Site {
    pub(crate) dir: tempfile::TempDir,
}

/// Fast enough for a debug build, good enough to learn the synthetic classes.
pub(crate) const FAST_MODEL: &str = "[learning.retrain.model]\nkind = \"gbdt\"\nmax_rounds = 30\nlearning_rate = 0.3\nmax_leaves = 15\n";

/// Slow on purpose: thousands of rounds, no early stopping in practice.
pub(crate) const SLOW_MODEL: &str = "[learning.retrain.model]\nkind = \"gbdt\"\nmax_rounds = 5000\nlearning_rate = 0.01\nearly_stopping_rounds = 100000\n";

impl Site {
    pub(crate) fn new(base_rows: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (entities, data) = threat_rows(base_rows, 1, "base");
        vigil_retrain::write_features_csv(&dir.path().join("base.csv"), &entities, &data).unwrap();
        let site = Self { dir };
        site.write_config("worker.toml", FAST_MODEL, 600);
        site
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A config file `name` with `model` and the pending-samples threshold.
    pub(crate) fn write_config(&self, name: &str, model: &str, pending: u64) -> PathBuf {
        let path = self.path(name);
        let text = format!(
            "database = \"{}\"\nregistry = \"{}\"\n\n[learning]\nbase = \"{}\"\nreports = \"{}\"\n\n[learning.triggers]\npending_threshold = {pending}\n\n{model}",
            self.path("var/vigil.db").display(),
            self.path("var/registry").display(),
            self.path("base.csv").display(),
            self.path("var/reports").display(),
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `vigil-worker --config <config> <args>` with no VIGIL_* variables inherited.
    pub(crate) fn command(&self, config: &str, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vigil-worker"));
        for (key, _) in std::env::vars() {
            if key.starts_with("VIGIL_") {
                command.env_remove(key);
            }
        }
        command
            .current_dir(self.dir.path())
            .env("VIGIL_LOG_FORMAT", "json")
            .arg("--config")
            .arg(self.path(config))
            .args(args);
        command
    }

    pub(crate) fn run(&self, config: &str, args: &[&str]) -> Output {
        self.command(config, args).output().unwrap()
    }

    pub(crate) fn spawn(&self, config: &str, args: &[&str]) -> (Child, Lines) {
        let mut child = self
            .command(config, args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (child, Lines { rx, seen: Vec::new() })
    }

    pub(crate) fn store(&self) -> SampleStore {
        std::fs::create_dir_all(self.path("var")).unwrap();
        SampleStore::open_with(
            self.path("var/vigil.db"),
            SampleStoreConfig { classes: Some(ClassSet::threat()), ..SampleStoreConfig::default() },
        )
        .unwrap()
    }

    pub(crate) fn reader(&self) -> vigil_registry::RegistryReader {
        vigil_registry::RegistryReader::open(self.path("var/registry")).unwrap()
    }
}

/// A child's stderr lines, as they come.
pub(crate) struct Lines {
    rx: mpsc::Receiver<String>,
    pub(crate) seen: Vec<String>,
}

impl Lines {
    /// Waits (up to `secs`) for a line containing every one of `parts`.
    pub(crate) fn wait_for(&mut self, parts: &[&str], secs: u64) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = self.rx.recv_timeout(left) else {
                panic!("no line with {parts:?} within {secs} s; saw:\n{}", self.seen.join("\n"))
            };
            self.seen.push(line.clone());
            if parts.iter().all(|p| line.contains(p)) {
                return line;
            }
        }
    }

    /// Everything left, until the child closes stderr.
    pub(crate) fn rest(&mut self) -> String {
        while let Ok(line) = self.rx.recv_timeout(Duration::from_secs(30)) {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts exit code `code`, showing the output otherwise.
pub(crate) fn expect_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// Council overrides: the model said Brute Force, the council says Normal.
pub(crate) fn insert_overrides(store: &SampleStore, n: usize, seed: u64) {
    let samples = mistyping_admins(n, seed, &format!("admin{seed}"))
        .into_iter()
        .map(|(entity, features)| NewSample {
            entity,
            schema_version: vigil_features::SCHEMA_VERSION.into(),
            features,
            model_version: "v1".into(),
            ml_prediction: "Brute Force".into(),
            ml_confidence: 0.8,
            verdict: Verdict::Override,
            correct_label: Some("Normal".into()),
            route: None,
        })
        .collect();
    store.insert_many(samples).unwrap();
}

/// Council confirmations of ordinary rows.
pub(crate) fn insert_confirms(store: &SampleStore, n: usize, seed: u64) {
    let (entities, data) = threat_rows(n, seed, &format!("confirm{seed}"));
    let samples = entities
        .into_iter()
        .zip(data.features().rows())
        .zip(data.labels())
        .map(|((entity, row), &label)| NewSample {
            entity,
            schema_version: vigil_features::SCHEMA_VERSION.into(),
            features: row.to_vec(),
            model_version: "v1".into(),
            ml_prediction: ClassSet::threat().name(label).unwrap().to_owned(),
            ml_confidence: 0.9,
            verdict: Verdict::Confirm,
            correct_label: None,
            route: None,
        })
        .collect();
    store.insert_many(samples).unwrap();
}

pub(crate) fn report(site: &Site, run_id: &str) -> serde_json::Value {
    let path = site.path(&format!("var/reports/{run_id}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

pub(crate) fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

pub(crate) fn exists(path: &Path) -> bool {
    path.exists()
}
