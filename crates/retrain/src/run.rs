//! A retrain run: the pipeline, one function per step, each timed and logged.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tracing::{error, info, info_span, warn};
use vigil_core::{ClassSet, Dataset};
use vigil_features::Featurizer;
use vigil_model::Artifact;
use vigil_model::pipeline::PipelineReport;
use vigil_registry::{NewVersion, Registry};
use vigil_store::{JobOutcome, JobStatus, SampleStore};

use crate::base::BaseData;
use crate::corpus::{Corpus, Samples, Split, SplitSummary, load_samples, split};
use crate::evaluate::{Evaluation, GateDecision, evaluate, gate, gate_real, gate_thresholds};
use crate::trigger::{Fired, TriggerDecision, TriggerKind};
use crate::{Result, RetrainConfig, RetrainError, TriggerPolicy};

/// A cancellation flag shared with signal handlers: a run checks it before each step and
/// stops there, before anything is registered.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The flag itself, e.g. for `signal_hook::flag::register`.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

/// What a run needs.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    /// The registry, open for writing (this process holds its writer lock).
    pub registry: &'a Registry,
    /// The sample store: its samples are trained on, the run is recorded as a job, and the
    /// new samples are marked used. `None` (the server's bootstrap): base data only, no job.
    pub store: Option<&'a SampleStore>,
    /// The base training data.
    pub base: &'a BaseData,
    /// The recipe, holdout and gate.
    pub config: &'a RetrainConfig,
    /// How base events become vectors: the serving window policy and threat-intel feeds.
    pub featurizer: &'a Featurizer,
    /// Checked before each step.
    pub cancel: &'a Cancel,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// The pipeline ran to the end (promoted or not).
    Succeeded,
    /// A step failed or the run was cancelled; nothing after that step happened.
    Failed,
    /// Nothing to do (e.g. a bootstrap when a champion exists).
    Skipped,
}

/// Seconds one step took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTime {
    /// The step.
    pub step: String,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Where the rows came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSummary {
    /// The base data, described.
    pub base: String,
    /// Base rows.
    pub base_rows: usize,
    /// Council samples (used before or new).
    pub sample_rows: usize,
    /// Samples no run had used: marked used by this one.
    pub new_samples: usize,
    /// Rows per class, all rows.
    pub class_counts: Vec<usize>,
    /// The class names.
    pub classes: Vec<String>,
}

/// Everything about one run, written as JSON to the reports directory and into the job
/// record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `run-<job id>` (or `bootstrap-<time>` without a store): the samples' training run id.
    pub run_id: String,
    /// The job record's id.
    pub job_id: Option<i64>,
    /// How it ended.
    pub status: RunStatus,
    /// The fired trigger kinds, `+`-joined.
    pub trigger: String,
    /// Why, in words.
    pub reason: String,
    /// The rules that fired.
    pub triggers: Vec<Fired>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended (RFC 3339).
    pub finished_at: Option<String>,
    /// Wall-clock seconds, start to end.
    pub seconds: f64,
    /// The error, if it failed.
    pub error: Option<String>,
    /// The model kind.
    pub model: String,
    /// Where the rows came from.
    pub data: Option<DataSummary>,
    /// The split.
    pub split: Option<SplitSummary>,
    /// Seconds per step, in order (`train.*` are the parts of the train step).
    pub steps: Vec<StepTime>,
    /// The training recipe's own report (loss, balancing, temperature, thresholds).
    pub pipeline: Option<PipelineReport>,
    /// The challenger on the holdout.
    pub challenger: Option<Evaluation>,
    /// The champion on the same holdout.
    pub champion: Option<Evaluation>,
    /// Why the champion could not be scored, if it could not.
    pub champion_note: Option<String>,
    /// The challenger on the holdout's council samples only (real feedback), when any.
    pub challenger_real: Option<Evaluation>,
    /// The champion on the same council samples.
    pub champion_real: Option<Evaluation>,
    /// The gate.
    pub gate: Option<GateDecision>,
    /// The champion before the run.
    pub champion_before: Option<String>,
    /// The version registered.
    pub registered: Option<String>,
    /// Whether it was promoted.
    pub promoted: bool,
    /// The champion after the run.
    pub champion_after: Option<String>,
    /// Samples marked used with `run_id`.
    pub samples_marked: usize,
    /// Where this report was written.
    pub report_path: Option<PathBuf>,
}

impl RunReport {
    fn new(
        run_id: String,
        job_id: Option<i64>,
        decision: &TriggerDecision,
        config: &RetrainConfig,
    ) -> Self {
        Self {
            run_id,
            job_id,
            status: RunStatus::Failed,
            trigger: decision.trigger(),
            reason: decision.reason(),
            triggers: decision.fired.clone(),
            started_at: Timestamp::now().to_string(),
            finished_at: None,
            seconds: 0.0,
            error: None,
            model: config.model.name().to_owned(),
            data: None,
            split: None,
            steps: Vec::new(),
            pipeline: None,
            challenger: None,
            champion: None,
            challenger_real: None,
            champion_real: None,
            champion_note: None,
            gate: None,
            champion_before: None,
            registered: None,
            promoted: false,
            champion_after: None,
            samples_marked: 0,
            report_path: None,
        }
    }
}

/// Trains the first champion from the base data when the registry has none (the engine
/// calls this at startup, holding the writer lock). With a champion already there it does
/// nothing and reports [`RunStatus::Skipped`]. With a `store`, its samples are trained on
/// too and the run is recorded as a job like any other.
pub fn bootstrap(
    registry: &Registry,
    store: Option<&SampleStore>,
    base: &BaseData,
    config: &RetrainConfig,
    featurizer: &Featurizer,
) -> Result<RunReport> {
    let decision = TriggerDecision::only(
        TriggerKind::Bootstrap,
        "no champion: first model from the base data",
    );
    if let Some(version) = registry.reader().champion_version()? {
        let mut report =
            RunReport::new(format!("bootstrap-{}", compact_now()), None, &decision, config);
        report.status = RunStatus::Skipped;
        report.reason = format!("champion {version} exists");
        report.champion_before = Some(version.clone());
        report.champion_after = Some(version);
        report.finished_at = Some(Timestamp::now().to_string());
        return Ok(report);
    }
    if base.is_none() {
        return Err(RetrainError::InvalidData {
            reason: "no champion and no base training data: configure a base data file".into(),
        });
    }
    let cancel = Cancel::new();
    run(&RunContext { registry, store, base, config, featurizer, cancel: &cancel }, &decision)
}

/// One check of the worker: with no champion, a bootstrap run; otherwise the trigger policy
/// (claiming manual requests) and, if a rule fired, a run. `Ok(None)`: nothing fired.
pub fn check_and_run(
    ctx: &RunContext<'_>,
    policy: &TriggerPolicy,
    now: Timestamp,
) -> Result<Option<RunReport>> {
    let reader = ctx.registry.reader();
    let decision = match reader.champion_manifest()? {
        None => TriggerDecision::only(
            TriggerKind::Bootstrap,
            "no champion: first model from the base data and samples",
        ),
        Some(champion) => {
            let Some(store) = ctx.store else {
                return Ok(None);
            };
            let since = champion.created_at.parse::<Timestamp>().ok();
            let decision = policy.evaluate(store, &ctx.config.schema_version, now, since, true)?;
            if !decision.should_run() {
                info!(pending = decision.pending, not_fired = ?decision.not_fired, "no trigger fired");
                return Ok(None);
            }
            decision
        }
    };
    let outcome = run(ctx, &decision);
    // A claimed manual request whose run failed is put back: the next check claims it again.
    if outcome.is_err()
        && !decision.requests.is_empty()
        && let Some(store) = ctx.store
    {
        match store.release_requests(&decision.requests) {
            Ok(n) => {
                warn!(requests = ?decision.requests, released = n, "run failed: requests put back");
            }
            Err(e) => {
                error!(error = %e, "run failed; its manual requests could not be put back");
            }
        }
    }
    outcome.map(Some)
}

/// Marks every job still `running` as failed: called at startup by the registry's writer
/// (the lock proves no other worker runs), so such a job belongs to a worker that died
/// mid-run. Returns the ids.
pub fn fail_abandoned_jobs(store: &SampleStore) -> Result<Vec<i64>> {
    let me = format!("pid {} at startup", std::process::id());
    let mut failed = Vec::new();
    for job in store.recent_jobs(10_000)? {
        if job.status != JobStatus::Running {
            continue;
        }
        let error = format!(
            "abandoned: the worker stopped mid-run (killed or crashed) and left the champion \
             unchanged; job started {} ({}); marked failed by {me}",
            job.started_at, job.reason
        );
        warn!(job = job.id, %error, "marking an abandoned job failed");
        store.finish_job(job.id, JobOutcome::Failed { error, metrics: None })?;
        failed.push(job.id);
    }
    Ok(failed)
}

/// Runs the pipeline once for `decision`. The run is recorded as a job (with the store);
/// whether it succeeds or fails its report is written and stored with the job. On failure
/// the error is returned after that bookkeeping, and nothing after the failed step happened
/// (in particular the champion is untouched unless the failure came after the promote).
pub fn run(ctx: &RunContext<'_>, decision: &TriggerDecision) -> Result<RunReport> {
    ctx.config.check()?;
    let started = Instant::now();
    let job_id = match ctx.store {
        Some(store) => Some(store.start_job(
            &decision.trigger(),
            &format!(
                "{} [worker pid {} on {}]",
                decision.reason(),
                std::process::id(),
                ctx.registry.lock().info().host
            ),
        )?),
        None => None,
    };
    let run_id = job_id.map_or_else(
        || format!("{}-{}", decision.trigger(), compact_now()),
        |id| format!("run-{id}"),
    );
    let span = info_span!("retrain", run = %run_id);
    let _entered = span.enter();
    info!(trigger = %decision.trigger(), reason = %decision.reason(), "run started");
    let mut report = RunReport::new(run_id, job_id, decision, ctx.config);

    let outcome = pipeline(ctx, &mut report);
    report.seconds = started.elapsed().as_secs_f64();
    report.finished_at = Some(Timestamp::now().to_string());
    report.champion_after = ctx.registry.reader().champion_version().unwrap_or(None);
    match &outcome {
        Ok(()) => report.status = RunStatus::Succeeded,
        Err(e) => {
            report.status = RunStatus::Failed;
            report.error = Some(e.to_string());
        }
    }
    let written = write_report(ctx.config.reports_dir.as_deref(), &mut report);
    if let (Some(store), Some(id)) = (ctx.store, job_id) {
        let metrics = serde_json::to_value(&report).unwrap_or_default();
        let job = match &outcome {
            Ok(()) => JobOutcome::Succeeded { metrics },
            Err(e) => JobOutcome::Failed { error: e.to_string(), metrics: Some(metrics) },
        };
        store.finish_job(id, job)?;
    }
    match outcome {
        Ok(()) => {
            info!(
                seconds = report.seconds,
                registered = ?report.registered,
                promoted = report.promoted,
                champion = ?report.champion_after,
                "run finished"
            );
            written?;
            Ok(report)
        }
        Err(e) => {
            error!(error = %e, seconds = report.seconds, "run failed");
            if let Err(w) = written {
                error!(error = %w, "the failed run's report could not be written");
            }
            Err(e)
        }
    }
}

fn pipeline(ctx: &RunContext<'_>, report: &mut RunReport) -> Result<()> {
    let config = ctx.config;
    let cancel = Some(ctx.cancel);
    let classes = ClassSet::threat();
    let names: Vec<String> = feature_names(&config.schema_version);
    report.champion_before = ctx.registry.reader().champion_version()?;

    let corpus = step(cancel, report, "load", || load(ctx, &classes, &names))?;
    report.data = Some(DataSummary {
        base: ctx.base.describe(),
        base_rows: corpus.base_rows(),
        sample_rows: corpus.dataset.n_rows() - corpus.base_rows(),
        new_samples: corpus.new_sample_ids().len(),
        class_counts: corpus.dataset.class_counts(),
        classes: classes.names().to_vec(),
    });
    step(cancel, report, "validate", || validate(&corpus, &config.schema_version))?;
    let parts = step(cancel, report, "split", || {
        split(
            &corpus,
            &config.holdout_salt,
            config.holdout_fraction,
            config.validation_fraction,
            config.seed,
            config.council_weight,
        )
    })?;
    report.split = Some(parts.summary.clone());
    let (artifact, pipeline_report) = step(cancel, report, "train", || train(config, &parts))?;
    for (name, seconds) in [
        ("train.standardise", pipeline_report.seconds.standardise),
        ("train.balance", pipeline_report.seconds.balance),
        ("train.fit", pipeline_report.seconds.fit),
        ("train.calibrate", pipeline_report.seconds.calibrate),
        ("train.thresholds", pipeline_report.seconds.thresholds),
    ] {
        info!(step = name, seconds, "step part");
        report.steps.push(StepTime { step: name.to_owned(), seconds });
    }
    report.pipeline = Some(pipeline_report);
    let champion_before = report.champion_before.clone();
    let scored = step(cancel, report, "evaluate", || {
        evaluate_both(
            ctx.registry,
            champion_before.as_deref(),
            &artifact,
            &parts.holdout,
            &parts.holdout_samples,
        )
    })?;
    let blocker = scored.champion_note.as_deref().filter(|_| !scored.champion_unservable);
    let mut decision =
        gate(&config.gate, &scored.challenger, scored.champion.as_ref(), blocker, config.force);
    if scored.champion_unservable
        && let Some(note) = &scored.champion_note
    {
        decision.summary = format!("{}; champion {note}", decision.summary);
    }
    if let Some(old) = &scored.champion_thresholds {
        let new = artifact.thresholds.per_class();
        gate_thresholds(&config.gate, &mut decision, classes.names(), old, new, config.force);
    }
    if let Some((challenger_real, champion_real)) = &scored.real {
        gate_real(
            &config.gate,
            &mut decision,
            challenger_real,
            champion_real.as_ref(),
            config.force,
        );
        report.challenger_real = Some(challenger_real.clone());
        report.champion_real = champion_real.clone();
    }
    if decision.forced && !decision.passed {
        warn!(summary = %decision.summary, "promotion forced although the gate failed");
    } else {
        info!(passed = decision.passed, summary = %decision.summary, "gate");
    }
    report.challenger = Some(scored.challenger.clone());
    report.champion = scored.champion;
    report.champion_note = scored.champion_note;
    report.gate = Some(decision.clone());

    // A rejected challenger is not registered: it could never serve, and registering it
    // made versions byte-identical to their parent. Its report keeps the scores.
    if decision.promote {
        // From here on the run finishes even if cancelled: register and promote are each
        // atomic, and stopping between them or before marking samples would only leave
        // bookkeeping behind.
        let run_id = report.run_id.clone();
        let summary = training_summary(report, ctx.base);
        let (version, promoted) = step(None, report, "register", || {
            register(
                ctx.registry,
                &artifact,
                &scored.challenger,
                summary,
                champion_before.clone(),
                &decision,
                &run_id,
            )
        })?;
        report.registered = Some(version);
        report.promoted = promoted;
    } else {
        info!(summary = %decision.summary, "challenger rejected: nothing registered");
    }
    let run_id = report.run_id.clone();
    if let Some(store) = ctx.store {
        let ids = corpus.new_sample_ids();
        let marked = step(None, report, "mark_used", || {
            if ids.is_empty() {
                Ok(0)
            } else {
                store.mark_used(&ids, &run_id).map_err(RetrainError::from)
            }
        })?;
        report.samples_marked = marked;
    }
    Ok(())
}

fn feature_names(_schema: &str) -> Vec<String> {
    vigil_features::feature_names().iter().map(|&n| n.to_owned()).collect()
}

/// Runs one step, timing and logging it; with `cancel`, not if cancellation was requested.
fn step<T>(
    cancel: Option<&Cancel>,
    report: &mut RunReport,
    name: &'static str,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if cancel.is_some_and(Cancel::is_cancelled) {
        warn!(step = name, "cancelled: stopping before this step");
        return Err(RetrainError::Cancelled { step: name });
    }
    let clock = Instant::now();
    info!(step = name, "step started");
    let out = f();
    let seconds = clock.elapsed().as_secs_f64();
    report.steps.push(StepTime { step: name.to_owned(), seconds });
    match &out {
        Ok(_) => info!(step = name, seconds, "step finished"),
        Err(e) => error!(step = name, seconds, error = %e, "step failed"),
    }
    out
}

/// Step 1: the base rows and every trainable sample of the schema.
fn load(ctx: &RunContext<'_>, classes: &ClassSet, names: &[String]) -> Result<Corpus> {
    let base = ctx.base.load(classes, names, ctx.featurizer)?;
    let samples = match ctx.store {
        Some(store) => load_samples(store, &ctx.config.schema_version, classes, names)?,
        None => Samples::empty(names.len()),
    };
    info!(
        base_rows = base.dataset.as_ref().map_or(0, Dataset::n_rows),
        samples = samples.ids.len(),
        new_samples = samples.new.iter().filter(|&&n| n).count(),
        "loaded"
    );
    Corpus::new(base, samples, classes, names)
}

/// Step 2: the schema is the one this build extracts, every value is finite, there are
/// rows of at least two classes, and entity ids are present.
fn validate(corpus: &Corpus, schema_version: &str) -> Result<()> {
    let data = &corpus.dataset;
    vigil_features::check_schema(schema_version, data.feature_names())
        .map_err(|e| RetrainError::InvalidData { reason: format!("feature schema: {e}") })?;
    if let Some(((row, column), value)) =
        data.features().indexed_iter().find(|(_, v)| !v.is_finite())
    {
        let what = match corpus.origins[row] {
            crate::corpus::Origin::Base => format!("base row {}", row + 1),
            crate::corpus::Origin::Sample { id, .. } => format!("sample {id}"),
        };
        return Err(RetrainError::InvalidData {
            reason: format!("{what}: feature {:?} is {value}", data.feature_names()[column]),
        });
    }
    let present = data.class_counts().iter().filter(|&&n| n > 0).count();
    if present < 2 {
        return Err(RetrainError::InvalidData {
            reason: format!(
                "{} rows with {present} class(es); training needs at least 2",
                data.n_rows()
            ),
        });
    }
    if let Some(row) = corpus.entities.iter().position(|e| e.trim().is_empty()) {
        return Err(RetrainError::InvalidData {
            reason: format!("row {} has an empty entity id", row + 1),
        });
    }
    Ok(())
}

/// Steps 4-7: balance the training split, fit, calibrate, fit thresholds
/// (`vigil_model::pipeline::train`).
fn train(config: &RetrainConfig, parts: &Split) -> Result<(Artifact, PipelineReport)> {
    Ok(vigil_model::pipeline::train(
        &config.pipeline_params(),
        &config.schema_version,
        &parts.train,
        &parts.validation,
    )?)
}

struct Scored {
    challenger: Evaluation,
    champion: Option<Evaluation>,
    champion_note: Option<String>,
    /// The champion is of another feature schema: this build cannot serve it, so the
    /// challenger replaces it on its own merits (as a first model would).
    champion_unservable: bool,
    /// Both on the holdout's council samples, when it has any.
    real: Option<(Evaluation, Option<Evaluation>)>,
    /// The champion's decision thresholds, when it was scored.
    champion_thresholds: Option<Vec<f32>>,
}

/// Step 8: challenger and champion on the same holdout.
fn evaluate_both(
    registry: &Registry,
    champion: Option<&str>,
    challenger: &Artifact,
    holdout: &Dataset,
    real_rows: &[usize],
) -> Result<Scored> {
    let challenger_eval = evaluate(challenger, holdout, None)?;
    let real_holdout = (!real_rows.is_empty()).then(|| holdout.select(real_rows));
    let mut thresholds = None;
    let mut unservable = false;
    let (champion_eval, note) = match champion {
        None => (None, None),
        Some(version) => match registry.reader().load_artifact(version) {
            Err(e) => (None, Some(format!("{version}: {e}"))),
            Ok((_, artifact)) if artifact.schema.version != challenger.schema.version => {
                unservable = true;
                (
                    None,
                    Some(format!(
                        "{version} is of feature schema {}, which this build cannot serve \
                         (it serves {}): replaced without a comparison",
                        artifact.schema.version, challenger.schema.version
                    )),
                )
            }
            Ok((_, artifact))
                if artifact.schema.names != holdout.feature_names()
                    || artifact.classes.names() != holdout.classes().names() =>
            {
                (
                    None,
                    Some(format!(
                        "{version} has schema {} and classes [{}]",
                        artifact.schema.version,
                        artifact.classes.names().join(", ")
                    )),
                )
            }
            Ok((_, artifact)) => {
                thresholds = Some(artifact.thresholds.per_class().to_vec());
                let real = match &real_holdout {
                    Some(rows) => Some(evaluate(&artifact, rows, Some(version.to_owned()))?),
                    None => None,
                };
                (Some((evaluate(&artifact, holdout, Some(version.to_owned()))?, real)), None)
            }
        },
    };
    let (champion_eval, champion_real) = match champion_eval {
        Some((all, real)) => (Some(all), real),
        None => (None, None),
    };
    let real = match &real_holdout {
        Some(rows) => Some((evaluate(challenger, rows, None)?, champion_real)),
        None => None,
    };
    info!(
        challenger_macro_f1 = challenger_eval.macro_f1,
        champion_macro_f1 = ?champion_eval.as_ref().map(|e| e.macro_f1),
        holdout_rows = holdout.n_rows(),
        "scored on the holdout"
    );
    Ok(Scored {
        challenger: challenger_eval,
        champion: champion_eval,
        champion_note: note,
        champion_unservable: unservable,
        real,
        champion_thresholds: thresholds,
    })
}

fn training_summary(report: &RunReport, base: &BaseData) -> serde_json::Value {
    serde_json::json!({
        "run_id": report.run_id,
        "trigger": report.trigger,
        "reason": report.reason,
        "model": report.model,
        "base": base.describe(),
        "data": report.data,
        "split": report.split,
        "pipeline": report.pipeline,
        "gate": report.gate,
        "champion_holdout": report.champion,
    })
}

/// Step 9: register the challenger; promote it if the gate says so.
fn register(
    registry: &Registry,
    artifact: &Artifact,
    challenger: &Evaluation,
    summary: serde_json::Value,
    parent: Option<String>,
    decision: &GateDecision,
    run_id: &str,
) -> Result<(String, bool)> {
    let bytes = artifact.to_bytes()?;
    let metrics = serde_json::to_value(challenger).unwrap_or_default();
    let manifest =
        registry.register(&bytes, NewVersion::for_artifact(artifact, metrics, summary, parent))?;
    info!(version = %manifest.version, sha256 = %manifest.sha256, bytes = bytes.len(), "registered");
    if decision.promote {
        registry.promote(&manifest.version, &format!("{run_id}: {}", decision.summary))?;
        info!(version = %manifest.version, "promoted");
    } else {
        info!(version = %manifest.version, "not promoted");
    }
    Ok((manifest.version, decision.promote))
}

/// Step 10: the report, written atomically as `<dir>/<run id>.json`.
fn write_report(dir: Option<&Path>, report: &mut RunReport) -> Result<()> {
    let Some(dir) = dir else { return Ok(()) };
    let path = dir.join(format!("{}.json", report.run_id));
    report.report_path = Some(path.clone());
    let fail = |source| RetrainError::Report { path: path.clone(), source };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let staging = dir.join(format!(".{}.json.tmp", report.run_id));
    let mut bytes = serde_json::to_vec_pretty(report).unwrap_or_default();
    bytes.push(b'\n');
    std::fs::write(&staging, &bytes).map_err(fail)?;
    std::fs::File::open(&staging).and_then(|f| f.sync_all()).map_err(fail)?;
    std::fs::rename(&staging, &path).map_err(fail)?;
    info!(path = %path.display(), "report written");
    Ok(())
}

fn compact_now() -> String {
    Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string()
}
