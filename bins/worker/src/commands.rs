//! The commands: `run`, `once`, `status`, `rollback`, `request`, `config`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Context;
use jiff::Timestamp;
use sd_notify::NotifyState;
use tracing::{error, info, warn};
use vigil_core::ClassSet;
use vigil_registry::{Registry, RegistryReader, WriterLock};
use vigil_retrain::{
    BaseData, Cancel, RunContext, RunReport, RunStatus, TriggerDecision, TriggerKind,
    check_and_run, fail_abandoned_jobs,
};
use vigil_store::{SampleStore, SampleStoreConfig};

use vigil_engine::Config;

use crate::config::Command;

/// How a command ended, short of an error.
pub(crate) enum Outcome {
    /// Success.
    Done,
    /// A retrain run failed or was cancelled (exit code 1).
    RunFailed,
}

pub(crate) fn dispatch(command: &Command, config: &Config) -> anyhow::Result<Outcome> {
    match command {
        Command::Run { .. } => run_loop(config),
        Command::Once { ignore_triggers, .. } => once(config, *ignore_triggers),
        Command::Status { json } => status(config, *json),
        Command::Rollback { reason } => rollback(config, reason),
        Command::Request { reason, by } => request(config, reason, by.as_deref()),
        Command::Config => {
            print_out(&config.to_toml());
            Ok(Outcome::Done)
        }
    }
}

#[allow(clippy::print_stdout, reason = "command output for operators and scripts")]
fn print_out(text: &str) {
    println!("{}", text.trim_end());
}

fn open_store(config: &Config) -> anyhow::Result<SampleStore> {
    if let Some(dir) = config.database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let store_config =
        SampleStoreConfig { classes: Some(ClassSet::threat()), ..SampleStoreConfig::default() };
    SampleStore::open_with(&config.database, store_config)
        .with_context(|| format!("cannot open the sample store {}", config.database.display()))
}

/// Takes the writer lock (exiting with the holder's pid, host and start time if another
/// worker has it) and fails the jobs a dead worker left running.
fn open_writer(config: &Config, store: &SampleStore) -> anyhow::Result<Registry> {
    let registry = Registry::open(&config.registry).with_context(|| {
        format!("cannot open the registry {} for writing", config.registry.display())
    })?;
    info!(registry = %config.registry.display(), holder = %registry.lock().info(), "writer lock taken");
    let failed = fail_abandoned_jobs(store).context("cannot recover abandoned jobs")?;
    if !failed.is_empty() {
        warn!(jobs = ?failed, "jobs left running by a dead worker were marked failed");
    }
    Ok(registry)
}

fn base_data(config: &Config) -> BaseData {
    if config.learning.base.as_os_str().is_empty() {
        BaseData::none()
    } else {
        BaseData::from_path(&config.learning.base)
    }
}

/// SIGTERM/SIGINT set the cancel flag (the run stops before its next step and the loop
/// exits); a second signal while the flag is set exits at once, abandoning the run (the
/// champion is untouched: the next start marks the job failed).
fn install_signals(cancel: &Cancel) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag: Arc<AtomicBool> = cancel.flag();
    for signal in [SIGTERM, SIGINT] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, flag.clone())
            .context("cannot install the signal handlers")?;
        signal_hook::flag::register(signal, flag.clone())
            .context("cannot install the signal handlers")?;
    }
    Ok(())
}

fn log_report(report: &RunReport) {
    let gate = report.gate.as_ref().map(|g| g.summary.as_str()).unwrap_or_default();
    match report.status {
        RunStatus::Succeeded => info!(
            run = %report.run_id,
            registered = ?report.registered,
            promoted = report.promoted,
            champion = ?report.champion_after,
            seconds = report.seconds,
            gate,
            "retrain finished"
        ),
        RunStatus::Failed | RunStatus::Skipped => {
            warn!(run = %report.run_id, status = ?report.status, error = ?report.error, "retrain did not finish");
        }
    }
}

fn once(config: &Config, ignore_triggers: bool) -> anyhow::Result<Outcome> {
    let store = open_store(config)?;
    let registry = open_writer(config, &store)?;
    let cancel = Cancel::new();
    install_signals(&cancel)?;
    let base = base_data(config);
    let retrain = config.retrain();
    let featurizer = config.featurizer()?;
    let ctx = RunContext {
        registry: &registry,
        store: Some(&store),
        base: &base,
        config: &retrain,
        featurizer: &featurizer,
        cancel: &cancel,
    };
    let result = if ignore_triggers && registry.champion()?.is_some() {
        vigil_retrain::run(
            &ctx,
            &TriggerDecision::only(TriggerKind::Forced, "vigil-worker once --ignore-triggers"),
        )
        .map(Some)
    } else {
        check_and_run(&ctx, &config.learning.triggers, Timestamp::now())
    };
    match result {
        Ok(Some(report)) => {
            log_report(&report);
            print_out(&summary_line(&report));
            Ok(Outcome::Done)
        }
        Ok(None) => {
            print_out("no trigger fired");
            Ok(Outcome::Done)
        }
        Err(e) => {
            error!(error = %e, "retrain run failed");
            print_out(&format!("run failed: {e}"));
            Ok(Outcome::RunFailed)
        }
    }
}

fn summary_line(report: &RunReport) -> String {
    format!(
        "{} {:?}: registered {}, promoted {}, champion {}{}",
        report.run_id,
        report.status,
        report.registered.as_deref().unwrap_or("-"),
        report.promoted,
        report.champion_after.as_deref().unwrap_or("-"),
        report.gate.as_ref().map(|g| format!("; {}", g.summary)).unwrap_or_default()
    )
}

fn run_loop(config: &Config) -> anyhow::Result<Outcome> {
    let store = open_store(config)?;
    let registry = open_writer(config, &store)?;
    let cancel = Cancel::new();
    install_signals(&cancel)?;
    let base = base_data(config);
    let retrain = config.retrain();
    let featurizer = config.featurizer()?;
    let interval = Duration::from_secs(config.learning.interval_minutes * 60);
    let mut next = Instant::now() + Duration::from_secs(config.learning.first_check_seconds);
    notify(&[NotifyState::Ready, NotifyState::Status("waiting for the first check")]);
    info!(
        interval_minutes = config.learning.interval_minutes,
        first_check_seconds = config.learning.first_check_seconds,
        database = %config.database.display(),
        registry = %config.registry.display(),
        base = %base.describe(),
        "worker started"
    );
    loop {
        while Instant::now() < next {
            if cancel.is_cancelled() {
                return Ok(stop());
            }
            std::thread::sleep(Duration::from_millis(200).min(next - Instant::now()));
        }
        if cancel.is_cancelled() {
            return Ok(stop());
        }
        notify(&[NotifyState::Status("checking the triggers")]);
        let ctx = RunContext {
            registry: &registry,
            store: Some(&store),
            base: &base,
            config: &retrain,
            featurizer: &featurizer,
            cancel: &cancel,
        };
        match check_and_run(&ctx, &config.learning.triggers, Timestamp::now()) {
            Ok(Some(report)) => log_report(&report),
            Ok(None) => {}
            Err(e) => error!(error = %e, "check or run failed; retrying at the next interval"),
        }
        next = Instant::now() + interval;
        let status = format!("idle; next check in {} min", config.learning.interval_minutes);
        notify(&[NotifyState::Status(&status)]);
    }
}

fn stop() -> Outcome {
    info!("signal received: stopping");
    notify(&[NotifyState::Stopping]);
    Outcome::Done
}

/// Tells systemd (a no-op outside a `Type=notify` unit).
fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "sd_notify failed");
    }
}

fn status(config: &Config, json: bool) -> anyhow::Result<Outcome> {
    let reader = RegistryReader::open(&config.registry)?;
    let champion = reader.champion_manifest()?;
    let versions = reader.list()?;
    let history = reader.history()?;
    let writer = WriterLock::holder(&config.registry)?;
    let store = open_store(config)?;
    let jobs = store.recent_jobs(5)?;
    let requests = store.pending_requests()?;
    let since = champion.as_ref().and_then(|c| c.created_at.parse::<Timestamp>().ok());
    let triggers = config.learning.triggers.evaluate(
        &store,
        &config.learning.retrain.schema_version,
        Timestamp::now(),
        since,
        false,
    )?;
    if json {
        let value = serde_json::json!({
            "registry": config.registry,
            "database": config.database,
            "champion": champion,
            "versions": versions.iter().map(|m| &m.version).collect::<Vec<_>>(),
            "writer": writer,
            "last_audit": history.last(),
            "triggers": triggers,
            "pending_requests": requests.iter().map(|r| serde_json::json!({
                "id": r.id,
                "requested_at": r.requested_at.to_string(),
                "requested_by": r.requested_by,
                "reason": r.reason,
            })).collect::<Vec<_>>(),
            "jobs": jobs.iter().map(|j| serde_json::json!({
                "id": j.id,
                "trigger": j.trigger,
                "reason": j.reason,
                "status": j.status.as_str(),
                "promoted": j.promoted(),
                "started_at": j.started_at.to_string(),
                "finished_at": j.finished_at.map(|t| t.to_string()),
                "error": j.error,
            })).collect::<Vec<_>>(),
        });
        print_out(&serde_json::to_string_pretty(&value)?);
        return Ok(Outcome::Done);
    }
    let mut out = String::new();
    let champion_line = champion.as_ref().map_or_else(
        || "none".to_owned(),
        |c| {
            format!(
                "{} (registered {}, macro-F1 {})",
                c.version, c.created_at, c.holdout_metrics["macro_f1"]
            )
        },
    );
    let versions = versions.iter().map(|m| m.version.as_str()).collect::<Vec<_>>().join(" ");
    let writer = writer.map_or_else(|| "none".to_owned(), |h| h.to_string());
    let fired = if triggers.should_run() { triggers.reason() } else { "none".to_owned() };
    let _ = writeln!(out, "registry  {}", config.registry.display());
    let _ = writeln!(out, "champion  {champion_line}");
    let _ = writeln!(out, "versions  {versions}");
    let _ = writeln!(out, "writer    {writer}");
    let _ = writeln!(
        out,
        "pending   {} samples; override rate {} of {} verdicts",
        triggers.pending, triggers.overrides, triggers.verdicts
    );
    let _ = writeln!(out, "triggers  {fired} (manual requests are claimed by the next check)");
    for r in &requests {
        let _ = writeln!(
            out,
            "request {:>4}  pending since {} by {}: {}",
            r.id, r.requested_at, r.requested_by, r.reason
        );
    }
    for job in &jobs {
        let outcome = match (job.status.as_str(), job.promoted()) {
            ("succeeded", Some(false)) => "rejected",
            (status, _) => status,
        };
        let _ = writeln!(
            out,
            "job {:>4}  {:<9} {:<24} started {}{}",
            job.id,
            outcome,
            job.trigger,
            job.started_at,
            job.error.as_ref().map(|e| format!("; error: {e}")).unwrap_or_default()
        );
    }
    print_out(&out);
    Ok(Outcome::Done)
}

fn rollback(config: &Config, reason: &str) -> anyhow::Result<Outcome> {
    let registry = Registry::open(&config.registry).with_context(|| {
        format!("cannot open the registry {} for writing", config.registry.display())
    })?;
    let before = registry.champion()?.map(|m| m.version);
    let manifest = registry.rollback(reason).context("rollback failed")?;
    warn!(from = ?before, to = %manifest.version, reason, "rolled back");
    print_out(&format!(
        "rolled back from {} to {}",
        before.as_deref().unwrap_or("-"),
        manifest.version
    ));
    Ok(Outcome::Done)
}

fn request(config: &Config, reason: &str, by: Option<&str>) -> anyhow::Result<Outcome> {
    let store = open_store(config)?;
    let by = by
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "cli".to_owned());
    let id = store.request_retrain(&by, reason)?;
    info!(request = id, by, reason, "retrain requested");
    print_out(&format!("retrain request #{id} recorded; the next check runs it"));
    Ok(Outcome::Done)
}
