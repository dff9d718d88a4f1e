//! `once`, `status`, `rollback`, `request`, `config` through the binary.

use vigil_registry::AuditAction;
use vigil_store::JobStatus;

use crate::{Site, expect_code, insert_confirms, insert_overrides, report, stdout};

#[test]
fn once_bootstraps_then_learns_the_council_overrides_and_promotes() {
    let site = Site::new(2500);
    let first = site.run("worker.toml", &["once"]);
    expect_code(&first, 0);
    assert!(
        stdout(&first).contains("run-1 Succeeded: registered v1, promoted true"),
        "{}",
        stdout(&first)
    );
    let quiet = site.run("worker.toml", &["once"]);
    expect_code(&quiet, 0);
    assert_eq!(stdout(&quiet).trim(), "no trigger fired");

    // The champion calls mistyping admins Brute Force; the council overrides 400 of them.
    let store = site.store();
    insert_confirms(&store, 200, 8);
    insert_overrides(&store, 400, 7);
    let second = site.run("worker.toml", &["once"]);
    expect_code(&second, 0);
    let out = stdout(&second);
    assert!(
        out.contains("run-2 Succeeded: registered v2, promoted true, champion v2; gate passed"),
        "{out}"
    );
    assert_eq!(site.reader().champion_version().unwrap().as_deref(), Some("v2"));

    // The new champion is better on the same holdout, by the report.
    let run = report(&site, "run-2");
    assert_eq!(run["trigger"], "pending-samples+override-rate");
    let (new, old) = (&run["challenger"], &run["champion"]);
    assert_eq!(new["rows"], old["rows"]);
    assert_eq!(old["version"], "v1");
    let (new_f1, old_f1) = (new["macro_f1"].as_f64().unwrap(), old["macro_f1"].as_f64().unwrap());
    assert!(new_f1 > old_f1 + 0.05, "{old_f1} -> {new_f1}");
    assert!(new["per_class"][0]["recall"].as_f64() > old["per_class"][0]["recall"].as_f64());
    assert_eq!(run["samples_marked"], 600);
    let steps: Vec<&str> =
        run["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    for step in [
        "load",
        "validate",
        "split",
        "train",
        "train.balance",
        "train.calibrate",
        "train.thresholds",
        "evaluate",
        "register",
        "mark_used",
    ] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }
    assert_eq!(store.recent_jobs(1).unwrap()[0].status, JobStatus::Succeeded);

    let status = site.run("worker.toml", &["status", "--json"]);
    expect_code(&status, 0);
    let status: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(status["champion"]["version"], "v2");
    assert_eq!(status["versions"], serde_json::json!(["v1", "v2"]));
    assert_eq!(status["writer"], serde_json::Value::Null);
    assert_eq!(status["jobs"][0]["status"], "succeeded");
    let text = site.run("worker.toml", &["status"]);
    expect_code(&text, 0);
    assert!(stdout(&text).contains("champion  v2"), "{}", stdout(&text));

    let back = site.run("worker.toml", &["rollback", "--reason", "operator test"]);
    expect_code(&back, 0);
    assert_eq!(stdout(&back).trim(), "rolled back from v2 to v1");
    let last = site.reader().history().unwrap().pop().unwrap();
    assert_eq!(
        (last.action, last.version.as_str(), last.reason.as_str()),
        (AuditAction::Rollback, "v1", "operator test")
    );
    let again = site.run("worker.toml", &["rollback", "--reason", "again"]);
    expect_code(&again, 2);
    assert!(
        crate::stderr(&again).contains("there is no previous one"),
        "{}",
        crate::stderr(&again)
    );
}

#[test]
fn a_worse_challenger_is_rejected_not_registered_unless_forced() {
    let site = Site::new(1500);
    expect_code(&site.run("worker.toml", &["once"]), 0);
    insert_confirms(&site.store(), 100, 3);
    site.write_config(
        "stump.toml",
        "[learning.retrain.model]\nkind = \"gbdt\"\nmax_rounds = 1\nmax_leaves = 2\n",
        1000,
    );
    let worse = site.run("stump.toml", &["once", "--ignore-triggers"]);
    expect_code(&worse, 0);
    let out = stdout(&worse);
    assert!(
        out.contains("registered -, promoted false, champion v1; gate failed (macro-F1 gain"),
        "{out}"
    );
    assert_eq!(site.reader().champion_version().unwrap().as_deref(), Some("v1"));
    let run = report(&site, "run-2");
    assert_eq!(run["trigger"], "forced");
    assert_eq!(run["gate"]["passed"], false);

    let forced = site.run("stump.toml", &["once", "--ignore-triggers", "--force"]);
    expect_code(&forced, 0);
    assert!(stdout(&forced).contains("registered v2, promoted true"), "{}", stdout(&forced));
    let last = site.reader().history().unwrap().pop().unwrap();
    assert!(last.reason.contains("FORCED although the gate failed"), "{}", last.reason);
}

#[test]
fn request_config_and_bad_input() {
    let site = Site::new(600);
    expect_code(&site.run("worker.toml", &["once"]), 0);
    let asked = site.run("worker.toml", &["request", "--reason", "new feed", "--by", "alice"]);
    expect_code(&asked, 0);
    assert!(stdout(&asked).contains("retrain request #1 recorded"), "{}", stdout(&asked));
    let ran = site.run("worker.toml", &["once"]);
    expect_code(&ran, 0);
    assert!(stdout(&ran).contains("run-2 Succeeded"), "{}", stdout(&ran));
    assert!(report(&site, "run-2")["reason"].as_str().unwrap().contains("alice: new feed"));

    // Flags and variables win over the file.
    let shown = site
        .command("worker.toml", &["config"])
        .env("VIGIL_DATABASE", "/from/env.db")
        .output()
        .unwrap();
    expect_code(&shown, 0);
    let config: toml_like::Config = toml_like::parse(&stdout(&shown));
    assert_eq!(config.database, "/from/env.db");
    let shown = site
        .command("worker.toml", &["--database", "/from/flag.db", "config"])
        .env("VIGIL_DATABASE", "/from/env.db")
        .output()
        .unwrap();
    assert_eq!(toml_like::parse(&stdout(&shown)).database, "/from/flag.db");

    site.write_config("bad.toml", "[learning.retrain.gate]\nmax_recall_drop = 2.0\n", 10);
    let bad = site.run("bad.toml", &["once"]);
    expect_code(&bad, 2);
    assert!(crate::stderr(&bad).contains("gate.max_recall_drop = 2"), "{}", crate::stderr(&bad));
    // A missing base file with no champion: the run fails (exit 1) and is recorded.
    let fresh = Site::new(10);
    std::fs::remove_file(fresh.path("base.csv")).unwrap();
    let failed = fresh.run("worker.toml", &["once"]);
    expect_code(&failed, 1);
    assert!(stdout(&failed).contains("base.csv"), "{}", stdout(&failed));
    let job = &fresh.store().recent_jobs(1).unwrap()[0];
    assert_eq!(job.status, JobStatus::Failed);
}

/// Just enough TOML reading for the `config` output's top-level string keys.
mod toml_like {
    pub(crate) struct Config {
        pub(crate) database: String,
    }

    pub(crate) fn parse(text: &str) -> Config {
        let database = text
            .lines()
            .find_map(|l| l.strip_prefix("database = "))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_default();
        Config { database }
    }
}
