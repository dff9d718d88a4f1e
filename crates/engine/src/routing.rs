//! Where a verdict goes: acted on alone, reviewed by the council, or sent to a human, by
//! its confidence (mini-xdr's router: autonomous at 0.90 and above, council from 0.50,
//! human below), with per-class overrides (e.g. every APT verdict to a human); and how long
//! the review queue keeps its items.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_core::ClassSet;
pub use vigil_store::Route;

use crate::{EngineError, Result};

/// `[routing]`: the confidence bands and the per-class overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// Verdicts at least this confident are autonomous (default 0.90).
    pub autonomous_at: f32,
    /// Verdicts at least this confident (and below `autonomous_at`) go to the council;
    /// less confident ones to a human (default 0.50).
    pub council_at: f32,
    /// Classes whose verdicts always take this route, whatever their confidence (default
    /// none), e.g. `APT = "human"`.
    pub by_class: BTreeMap<String, Route>,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self { autonomous_at: 0.90, council_at: 0.50, by_class: BTreeMap::new() }
    }
}

impl RoutingConfig {
    /// The route of a verdict of `class` with `confidence` (a NaN confidence goes to a
    /// human).
    pub fn route(&self, class: &str, confidence: f32) -> Route {
        if let Some(&route) = self.by_class.get(class) {
            return route;
        }
        if confidence >= self.autonomous_at {
            Route::Autonomous
        } else if confidence >= self.council_at {
            Route::Council
        } else {
            Route::Human
        }
    }

    /// Checks the bands (`0 <= council_at <= autonomous_at <= 1`) and that every class
    /// named in `by_class` is a threat class.
    pub fn check(&self) -> Result<()> {
        let bad = |reason: String| Err(EngineError::Config { reason });
        let in_unit = |v: f32| (0.0..=1.0).contains(&v);
        if !(in_unit(self.council_at)
            && in_unit(self.autonomous_at)
            && self.council_at <= self.autonomous_at)
        {
            return bad(format!(
                "routing: need 0 <= council_at ({}) <= autonomous_at ({}) <= 1",
                self.council_at, self.autonomous_at
            ));
        }
        let threat = ClassSet::threat();
        for class in self.by_class.keys() {
            // Verdicts are routed by the class's own name, so only that spelling works.
            if !threat.names().iter().any(|name| name == class) {
                let hint = threat
                    .parse(class)
                    .ok()
                    .and_then(|i| threat.name(i))
                    .map_or(String::new(), |name| format!("; write it {name:?}"));
                return bad(format!(
                    "routing.by_class: unknown class {class:?} (classes: {}){hint}",
                    threat.names().join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// `[reviews]`: how long predictions and review items are kept, and review leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Keep the predictions made on ingested events in the sample store (default true): the
    /// review queue, and feedback by prediction id after a restart or on another server.
    pub keep_predictions: bool,
    /// Keep autonomous verdicts too (default true). With false only verdicts routed to the
    /// council or a human (the review queue) are written: feedback on an autonomous
    /// verdict then works only while the engine that made it still holds it in its ledger,
    /// but a stream of many sources with few events each (flow logs) ingests at the speed
    /// of its parsing and scoring rather than of one stored row per source and batch.
    pub keep_autonomous: bool,
    /// Kept predictions (review items too, open or not) are deleted after this many hours
    /// (default 168, a week).
    pub retention_hours: u64,
    /// A claim's lease when the reviewer asks for none, in seconds (default 900).
    pub lease_secs: u64,
    /// The longest lease a reviewer may ask for, in seconds (default 86,400).
    pub max_lease_secs: u64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            keep_predictions: true,
            keep_autonomous: true,
            retention_hours: 168,
            lease_secs: 900,
            max_lease_secs: 86_400,
        }
    }
}

impl ReviewConfig {
    /// Checks that every duration is positive and the default lease within the longest.
    pub fn check(&self) -> Result<()> {
        if self.retention_hours == 0
            || self.retention_hours > 87_600
            || self.lease_secs == 0
            || self.lease_secs > self.max_lease_secs
        {
            return Err(EngineError::Config {
                reason: format!(
                    "reviews: need 0 < retention_hours ({}) <= 87600 and 0 < lease_secs ({}) <= \
                     max_lease_secs ({})",
                    self.retention_hours, self.lease_secs, self.max_lease_secs
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_class_overrides_decide_the_route() {
        let mut routing = RoutingConfig::default();
        assert_eq!(routing.route("Brute Force", 0.95), Route::Autonomous);
        assert_eq!(routing.route("Brute Force", 0.90), Route::Autonomous);
        assert_eq!(routing.route("Brute Force", 0.8999), Route::Council);
        assert_eq!(routing.route("Brute Force", 0.50), Route::Council);
        assert_eq!(routing.route("Brute Force", 0.4999), Route::Human);
        assert_eq!(routing.route("Brute Force", f32::NAN), Route::Human);
        routing.by_class.insert("APT".into(), Route::Human);
        assert_eq!(routing.route("APT", 0.99), Route::Human);
        assert_eq!(routing.route("Normal", 0.99), Route::Autonomous);
    }

    #[test]
    fn bad_bands_and_unknown_classes_are_config_errors_naming_them() {
        let check = |routing: RoutingConfig| routing.check().unwrap_err().to_string();
        let swapped = RoutingConfig { autonomous_at: 0.4, ..RoutingConfig::default() };
        assert!(check(swapped).contains("council_at (0.5) <= autonomous_at (0.4)"));
        let above = RoutingConfig { autonomous_at: 1.5, ..RoutingConfig::default() };
        assert!(check(above).contains("autonomous_at (1.5)"));
        let mut unknown = RoutingConfig::default();
        unknown.by_class.insert("Aliens".into(), Route::Human);
        assert!(check(unknown).contains("unknown class \"Aliens\""));
        let mut lower = RoutingConfig::default();
        lower.by_class.insert("apt".into(), Route::Human);
        assert!(check(lower).contains("write it \"APT\""));
        let parsed: RoutingConfig =
            toml::from_str("autonomous_at = 0.95\n[by_class]\nAPT = \"human\"\n").unwrap();
        assert_eq!(parsed.by_class["APT"], Route::Human);
        parsed.check().unwrap();
        assert!(toml::from_str::<RoutingConfig>("[by_class]\nAPT = \"robot\"\n").is_err());
    }
}
