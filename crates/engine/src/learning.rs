//! The learning status, read from the sample store with the trigger policy of the one
//! configuration (the worker's own; blocking: call from `spawn_blocking`).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use vigil_features::SCHEMA_VERSION;
use vigil_store::SampleStore;

use crate::config::LearningConfig;

/// Pending samples, override rate, last and next retrain, the trigger state, recent jobs.
/// `champion_since` is when the served champion was registered (the schedule counts from
/// it when no retrain has succeeded yet).
pub(crate) fn status(
    samples: &SampleStore,
    config: &LearningConfig,
    champion_since: Option<Timestamp>,
) -> crate::Result<Value> {
    let policy = &config.triggers;
    let now = Timestamp::now();
    // Read-only: manual requests stay for the worker to claim.
    let decision = policy.evaluate(samples, SCHEMA_VERSION, now, champion_since, false)?;
    let last = samples.last_successful_retrain()?;
    let jobs: Vec<Value> = samples.recent_jobs(config.recent_jobs)?.iter().map(job).collect();
    // Manual requests show from the moment they are made until a worker claims them.
    let pending_requests: Vec<Value> = samples
        .pending_requests()?
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "requested_at": r.requested_at.to_string(),
                "requested_by": r.requested_by,
                "reason": r.reason,
            })
        })
        .collect();
    let since = decision.since.as_deref().and_then(|s| s.parse::<Timestamp>().ok());
    let schedule_at = since.and_then(|s| {
        s.checked_add(SignedDuration::from_hours(24 * i64::from(policy.schedule_days))).ok()
    });
    let breakdown = samples.override_breakdown(policy.override_window)?;
    let rates = |rates: &std::collections::BTreeMap<String, vigil_store::OverrideRate>| -> Value {
        rates
            .iter()
            .map(|(key, r)| {
                let v = json!({"rate": r.rate(), "overrides": r.overrides, "verdicts": r.verdicts});
                (key.clone(), v)
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let rate = if decision.verdicts == 0 {
        0.0
    } else {
        decision.overrides as f64 / decision.verdicts as f64
    };
    Ok(json!({
        "schema_version": SCHEMA_VERSION,
        "pending_samples": decision.pending,
        "override_rate": {
            "rate": rate,
            "overrides": decision.overrides,
            "verdicts": decision.verdicts,
            "window": policy.override_window,
            "threshold": policy.override_rate,
            "by_route": rates(&breakdown.by_route),
            "by_class": rates(&breakdown.by_class),
        },
        "last_successful_retrain": last.map(|t| t.to_string()),
        "next_retrain": {
            "due_now": decision.should_run(),
            "why": decision.reason(),
            "schedule_at": schedule_at.map(|t| t.to_string()),
            "schedule_min_samples": policy.schedule_min_samples,
            "pending_needed": policy.pending_threshold.saturating_sub(decision.pending),
            "check_interval_minutes": config.interval_minutes,
            "note": "the worker evaluates the triggers at each check and claims manual \
                     requests then",
        },
        "trigger": decision,
        "pending_requests": pending_requests,
        "recent_jobs": jobs,
    }))
}

fn job(job: &vigil_store::RetrainJob) -> Value {
    json!({
        "id": job.id,
        "trigger": job.trigger,
        "reason": job.reason,
        "started_at": job.started_at.to_string(),
        "finished_at": job.finished_at.map(|t| t.to_string()),
        "status": job.status.as_str(),
        "promoted": job.promoted(),
        "error": job.error,
        "metrics": job.metrics,
    })
}
