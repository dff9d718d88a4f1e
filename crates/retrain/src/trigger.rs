//! The trigger policy: should a retrain run now, and why.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use vigil_store::SampleStore;

use crate::{Result, TriggerPolicy};

/// A rule that can start a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TriggerKind {
    /// Enough pending samples.
    PendingSamples,
    /// The model is old and some samples are pending.
    Schedule,
    /// Council overrides are frequent.
    OverrideRate,
    /// Someone asked (API or CLI).
    Manual,
    /// There is no champion yet.
    Bootstrap,
    /// The operator ran a run regardless of the triggers.
    Forced,
}

impl TriggerKind {
    /// `pending-samples`, `schedule`, `override-rate`, `manual`, `bootstrap`, `forced`, as
    /// stored in the job record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingSamples => "pending-samples",
            Self::Schedule => "schedule",
            Self::OverrideRate => "override-rate",
            Self::Manual => "manual",
            Self::Bootstrap => "bootstrap",
            Self::Forced => "forced",
        }
    }
}

/// One rule that fired, and why, in words with the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fired {
    /// The rule.
    pub kind: TriggerKind,
    /// Why, e.g. `1000 pending samples >= 1000`.
    pub reason: String,
}

/// What the trigger check saw and decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerDecision {
    /// The rules that fired (empty: do not run).
    pub fired: Vec<Fired>,
    /// Unused trainable samples of the schema.
    pub pending: u64,
    /// Overrides among the last `override_window` verdicts.
    pub overrides: u64,
    /// Verdicts counted for the override rate.
    pub verdicts: u64,
    /// The time the schedule counts from (last successful retrain, else the champion's
    /// registration), RFC 3339.
    pub since: Option<String>,
    /// Ids of the manual requests claimed by this check.
    pub requests: Vec<i64>,
    /// Why each rule that did not fire did not.
    pub not_fired: Vec<String>,
}

impl TriggerDecision {
    /// A decision that runs for `kind` with `reason` (bootstrap, forced).
    pub fn only(kind: TriggerKind, reason: impl Into<String>) -> Self {
        Self {
            fired: vec![Fired { kind, reason: reason.into() }],
            pending: 0,
            overrides: 0,
            verdicts: 0,
            since: None,
            requests: Vec::new(),
            not_fired: Vec::new(),
        }
    }

    /// Whether any rule fired.
    pub fn should_run(&self) -> bool {
        !self.fired.is_empty()
    }

    /// The fired kinds joined with `+` (the job's trigger column), or `none`.
    pub fn trigger(&self) -> String {
        if self.fired.is_empty() {
            return "none".to_owned();
        }
        self.fired.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>().join("+")
    }

    /// The reasons joined with `; ` (the job's reason column).
    pub fn reason(&self) -> String {
        self.fired.iter().map(|f| f.reason.as_str()).collect::<Vec<_>>().join("; ")
    }
}

impl TriggerPolicy {
    /// Evaluates every rule at `now` from the store. The schedule counts from the last
    /// successful retrain, else from `champion_since` (when the champion was registered:
    /// a bootstrap outside the worker records no job), else it cannot fire. Manual requests
    /// are claimed (each exactly once) only when `claim_requests` is true, so a status check
    /// does not consume them.
    pub fn evaluate(
        &self,
        store: &SampleStore,
        schema_version: &str,
        now: Timestamp,
        champion_since: Option<Timestamp>,
        claim_requests: bool,
    ) -> Result<TriggerDecision> {
        let pending = store.pending_count(schema_version)?;
        let rate = store.override_rate(self.override_window)?;
        let since = store.last_successful_retrain()?.or(champion_since);
        let mut fired = Vec::new();
        let mut not_fired = Vec::new();

        if pending >= self.pending_threshold {
            fired.push(Fired {
                kind: TriggerKind::PendingSamples,
                reason: format!("{pending} pending samples >= {}", self.pending_threshold),
            });
        } else {
            not_fired.push(format!("pending samples {pending} < {}", self.pending_threshold));
        }

        let period = SignedDuration::from_hours(24 * i64::from(self.schedule_days));
        match since {
            Some(since) => {
                let age = now.duration_since(since);
                let days = age.as_secs_f64() / 86_400.0;
                if age >= period && pending >= self.schedule_min_samples {
                    fired.push(Fired {
                        kind: TriggerKind::Schedule,
                        reason: format!(
                            "{days:.1} days since {since} >= {} and {pending} pending samples >= {}",
                            self.schedule_days, self.schedule_min_samples
                        ),
                    });
                } else {
                    not_fired.push(format!(
                        "schedule: {days:.1} days of {}, {pending} of {} samples",
                        self.schedule_days, self.schedule_min_samples
                    ));
                }
            }
            None => not_fired.push("schedule: no retrain or champion to count from".to_owned()),
        }

        let window = self.override_window as u64;
        let share = rate.rate();
        if rate.verdicts >= window && share > self.override_rate && pending >= window {
            fired.push(Fired {
                kind: TriggerKind::OverrideRate,
                reason: format!(
                    "override rate {:.1}% ({} of the last {} verdicts) > {:.1}%",
                    share * 100.0,
                    rate.overrides,
                    rate.verdicts,
                    self.override_rate * 100.0
                ),
            });
        } else {
            not_fired.push(format!(
                "override rate {:.1}% ({} of {} verdicts, {pending} pending; needs > {:.1}% over {window} verdicts and {window} pending)",
                share * 100.0,
                rate.overrides,
                rate.verdicts,
                self.override_rate * 100.0
            ));
        }

        let mut requests = Vec::new();
        if self.manual && claim_requests {
            let claimed = store.claim_requests()?;
            if !claimed.is_empty() {
                let who: Vec<String> = claimed
                    .iter()
                    .map(|r| format!("#{} by {}: {}", r.id, r.requested_by, r.reason))
                    .collect();
                fired.push(Fired {
                    kind: TriggerKind::Manual,
                    reason: format!("manual request {}", who.join(", ")),
                });
                requests = claimed.iter().map(|r| r.id).collect();
            }
        }

        Ok(TriggerDecision {
            fired,
            pending,
            overrides: rate.overrides,
            verdicts: rate.verdicts,
            since: since.map(|t| t.to_string()),
            requests,
            not_fired,
        })
    }
}
