//! Scoring champion and challenger on the holdout, and the promotion gate.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use vigil_core::Dataset;
use vigil_core::metrics::ConfusionMatrix;
use vigil_model::Artifact;

use crate::{GatePolicy, Result};

/// One class's scores on the holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// The class name.
    pub class: String,
    /// Holdout rows of the class.
    pub support: u64,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// A model's scores on the holdout (its full decision: calibrated probabilities through its
/// thresholds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The registry version, if registered.
    pub version: Option<String>,
    /// Holdout rows.
    pub rows: u64,
    /// Accuracy.
    pub accuracy: f64,
    /// Macro-F1 over the classes present.
    pub macro_f1: f64,
    /// Support-weighted F1.
    pub weighted_f1: f64,
    /// Share of normal rows flagged as an attack.
    pub false_positive_rate: f64,
    /// Per class, in class order.
    pub per_class: Vec<ClassScore>,
}

/// Scores `artifact` on `holdout`.
pub fn evaluate(
    artifact: &Artifact,
    holdout: &Dataset,
    version: Option<String>,
) -> Result<Evaluation> {
    let predicted = artifact.predict(holdout.features())?;
    let k = holdout.classes().len();
    let cm = ConfusionMatrix::new(k, holdout.labels(), &predicted)?;
    let per_class = (0..k)
        .map(|c| ClassScore {
            class: holdout.classes().name(c).unwrap_or("?").to_owned(),
            support: cm.support(c),
            precision: cm.precision(c),
            recall: cm.recall(c),
            f1: cm.f1(c),
        })
        .collect();
    Ok(Evaluation {
        version,
        rows: cm.total(),
        accuracy: cm.accuracy(),
        macro_f1: cm.macro_f1(),
        weighted_f1: cm.weighted_f1(),
        false_positive_rate: cm.false_positive_rate(0),
        per_class,
    })
}

/// The gate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateDecision {
    /// The challenger met every rule (or there was no champion to beat).
    pub passed: bool,
    /// `force` was set; the challenger is promoted whatever `passed` says.
    pub forced: bool,
    /// Whether the challenger is promoted (`passed || forced`).
    pub promote: bool,
    /// Challenger minus champion macro-F1, if there is a comparable champion.
    pub macro_f1_gain: Option<f64>,
    /// The largest recall drop among gated classes, with the class.
    pub worst_recall_drop: Option<(String, f64)>,
    /// Every rule that failed, in words with the numbers.
    pub failures: Vec<String>,
    /// Every decision threshold that moved more than `max_threshold_shift` (a failure too
    /// when `threshold_shift_blocks`).
    #[serde(default)]
    pub threshold_moves: Vec<String>,
    /// One line: the decision and its numbers (the audit log's reason).
    pub summary: String,
}

/// Applies `policy`: macro-F1 must gain at least `min_macro_f1_gain` and no class with at
/// least `min_class_support` holdout rows may lose more than `max_recall_drop` recall. No
/// comparable champion (`champion` is `None`, e.g. a first model) passes unless `blocker`
/// says why the champion could not be scored, which fails.
pub fn gate(
    policy: &GatePolicy,
    challenger: &Evaluation,
    champion: Option<&Evaluation>,
    blocker: Option<&str>,
    force: bool,
) -> GateDecision {
    let mut failures = Vec::new();
    let mut macro_f1_gain = None;
    let mut worst: Option<(String, f64)> = None;
    let summary;
    if let Some(champ) = champion {
        let gain = challenger.macro_f1 - champ.macro_f1;
        macro_f1_gain = Some(gain);
        let mut text = format!(
            "macro-F1 {:.4} -> {:.4} ({:+.1} points, needs {:+.1})",
            champ.macro_f1,
            challenger.macro_f1,
            gain * 100.0,
            policy.min_macro_f1_gain * 100.0
        );
        if gain < policy.min_macro_f1_gain - 1e-12 {
            failures.push(format!(
                "macro-F1 gain {:+.2} points < {:+.2}",
                gain * 100.0,
                policy.min_macro_f1_gain * 100.0
            ));
        }
        for (old, new) in champ.per_class.iter().zip(&challenger.per_class) {
            if new.support < policy.min_class_support {
                continue;
            }
            let drop = old.recall - new.recall;
            if worst.as_ref().is_none_or(|(_, w)| drop > *w) {
                worst = Some((new.class.clone(), drop));
            }
            if drop > policy.max_recall_drop + 1e-12 {
                failures.push(format!(
                    "recall of {} fell {:.2} points ({:.4} -> {:.4}) > {:.2}",
                    new.class,
                    drop * 100.0,
                    old.recall,
                    new.recall,
                    policy.max_recall_drop * 100.0
                ));
            }
        }
        if let Some((class, drop)) = &worst {
            let _ = write!(
                text,
                "; largest recall drop {:.1} points ({class}, allowed {:.1})",
                drop * 100.0,
                policy.max_recall_drop * 100.0
            );
        }
        summary = text;
    } else if let Some(why) = blocker {
        failures.push(format!("the champion could not be scored: {why}"));
        summary = format!("champion not comparable ({why})");
    } else {
        summary = format!("no champion; challenger macro-F1 {:.4}", challenger.macro_f1);
    }
    let passed = failures.is_empty();
    let verdict = verdict(&failures, force);
    GateDecision {
        passed,
        forced: force,
        promote: passed || force,
        macro_f1_gain,
        worst_recall_drop: worst,
        failures,
        threshold_moves: Vec::new(),
        summary: format!("{verdict}: {summary}"),
    }
}

/// The real part of the gate: with at least `policy.min_real_rows` council samples in the
/// holdout, the challenger's accuracy on them may not fall below the champion's by more
/// than `policy.max_real_accuracy_drop`. A failure is added to `decision` (and blocks the
/// promotion unless forced); the summary always reports both scores.
pub fn gate_real(
    policy: &GatePolicy,
    decision: &mut GateDecision,
    challenger: &Evaluation,
    champion: Option<&Evaluation>,
    force: bool,
) {
    let Some(champion) = champion else { return };
    let _ = write!(
        decision.summary,
        "; on {} real feedback rows accuracy {:.4} -> {:.4}",
        challenger.rows, champion.accuracy, challenger.accuracy
    );
    if challenger.rows < policy.min_real_rows {
        let _ = write!(decision.summary, " (under {}: not gated)", policy.min_real_rows);
        return;
    }
    let drop = champion.accuracy - challenger.accuracy;
    if drop > policy.max_real_accuracy_drop + 1e-12 {
        let details = decision
            .summary
            .strip_prefix(&verdict(&decision.failures, force))
            .unwrap_or(&decision.summary)
            .to_owned();
        decision.failures.push(format!(
            "accuracy on real feedback fell {:.2} points ({:.4} -> {:.4}) > {:.2}",
            drop * 100.0,
            champion.accuracy,
            challenger.accuracy,
            policy.max_real_accuracy_drop * 100.0
        ));
        decision.passed = false;
        decision.promote = force;
        decision.summary = format!("{}{details}", verdict(&decision.failures, force));
    }
}

/// The threshold part of the gate: every class whose decision threshold moved by more than
/// `policy.max_threshold_shift` from the champion's is listed in
/// [`GateDecision::threshold_moves`] and the summary (the rule that decides is part of the
/// model, so the gate must see it move); with `policy.threshold_shift_blocks` each such
/// move is also a failure.
pub fn gate_thresholds(
    policy: &GatePolicy,
    decision: &mut GateDecision,
    classes: &[String],
    champion: &[f32],
    challenger: &[f32],
    force: bool,
) {
    // All zeros: a model with thresholds turned off (argmax); nothing to compare.
    if champion.iter().all(|&t| t == 0.0) || challenger.iter().all(|&t| t == 0.0) {
        return;
    }
    let moved: Vec<String> = classes
        .iter()
        .zip(champion.iter().zip(challenger))
        .filter(|(_, (old, new))| {
            f64::from((**new - **old).abs()) > policy.max_threshold_shift + 1e-6
        })
        .map(|(class, (old, new))| {
            format!(
                "threshold of {class} moved {old:.2} -> {new:.2} (more than {:.2})",
                policy.max_threshold_shift
            )
        })
        .collect();
    if moved.is_empty() {
        return;
    }
    if !policy.threshold_shift_blocks {
        let _ = write!(decision.summary, "; seen: {}", moved.join("; "));
        decision.threshold_moves = moved;
        return;
    }
    let details = decision
        .summary
        .strip_prefix(&verdict(&decision.failures, force))
        .unwrap_or(&decision.summary)
        .to_owned();
    decision.failures.extend(moved.iter().cloned());
    decision.threshold_moves = moved;
    decision.passed = false;
    decision.promote = force;
    decision.summary = format!("{}{details}", verdict(&decision.failures, force));
}

/// The first words of a gate summary.
fn verdict(failures: &[String], force: bool) -> String {
    match (failures.is_empty(), force) {
        (true, _) => "gate passed".to_owned(),
        (false, true) => format!("FORCED although the gate failed ({})", failures.join("; ")),
        (false, false) => format!("gate failed ({})", failures.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(macro_f1: f64, recalls: &[(f64, u64)]) -> Evaluation {
        Evaluation {
            version: None,
            rows: 100,
            accuracy: 0.0,
            macro_f1,
            weighted_f1: 0.0,
            false_positive_rate: 0.0,
            per_class: recalls
                .iter()
                .enumerate()
                .map(|(i, &(recall, support))| ClassScore {
                    class: format!("c{i}"),
                    support,
                    precision: 0.0,
                    recall,
                    f1: 0.0,
                })
                .collect(),
        }
    }

    fn check(challenger: &Evaluation, champion: Option<&Evaluation>, expected_failures: &[&str]) {
        let decision = gate(&GatePolicy::default(), challenger, champion, None, false);
        assert_eq!(decision.passed, expected_failures.is_empty(), "{}", decision.summary);
        assert_eq!(decision.failures.len(), expected_failures.len(), "{:?}", decision.failures);
        for (got, want) in decision.failures.iter().zip(expected_failures) {
            assert!(got.contains(want), "{got} lacks {want}");
        }
    }

    #[test]
    fn gate_rules() {
        let champ = eval(0.80, &[(0.90, 50), (0.80, 50), (0.50, 3)]);
        check(&eval(0.81, &[(0.90, 50), (0.80, 50), (0.50, 3)]), Some(&champ), &[]);
        check(&eval(0.8099, &[(0.90, 50), (0.80, 50), (0.5, 3)]), Some(&champ), &["macro-F1 gain"]);
        // Exactly five points down is allowed; more is not.
        check(&eval(0.85, &[(0.85, 50), (0.80, 50), (0.5, 3)]), Some(&champ), &[]);
        check(&eval(0.85, &[(0.849, 50), (0.80, 50), (0.5, 3)]), Some(&champ), &["recall of c0"]);
        // A class below the support floor is not gated.
        check(&eval(0.85, &[(0.90, 50), (0.80, 50), (0.0, 3)]), Some(&champ), &[]);
        check(&eval(0.10, &[]), None, &[]);
        let blocked = gate(&GatePolicy::default(), &eval(0.9, &[]), None, Some("schema v0"), false);
        assert!(!blocked.passed && !blocked.promote, "{}", blocked.summary);
        let forced = gate(&GatePolicy::default(), &eval(0.5, &[]), Some(&champ), None, true);
        assert!(!forced.passed && forced.promote);
        assert!(forced.summary.starts_with("FORCED"), "{}", forced.summary);
    }

    #[test]
    fn real_feedback_is_gated_on_its_own() {
        let policy = GatePolicy::default();
        let (mut champ, mut chall) = (eval(0.90, &[(0.9, 50)]), eval(0.95, &[(0.9, 50)]));
        let base = gate(&policy, &chall, Some(&champ), None, false);
        assert!(base.passed);
        // 40 real rows: the challenger got worse on them although better overall.
        champ.accuracy = 0.80;
        chall.accuracy = 0.70;
        chall.rows = 40;
        let mut decision = base.clone();
        gate_real(&policy, &mut decision, &chall, Some(&champ), false);
        assert!(!decision.passed && !decision.promote);
        assert!(
            decision
                .summary
                .starts_with("gate failed (accuracy on real feedback fell 10.00 points"),
            "{}",
            decision.summary
        );
        assert!(decision.summary.contains("on 40 real feedback rows accuracy 0.8000 -> 0.7000"));
        // Too few real rows: reported, not gated.
        chall.rows = 10;
        let mut decision = base.clone();
        gate_real(&policy, &mut decision, &chall, Some(&champ), false);
        assert!(decision.passed, "{}", decision.summary);
        assert!(decision.summary.contains("(under 30: not gated)"));
        // Forced: promoted, and says so.
        chall.rows = 40;
        let mut decision = gate(&policy, &chall, Some(&champ), None, true);
        gate_real(&policy, &mut decision, &chall, Some(&champ), true);
        assert!(
            decision.promote && decision.summary.starts_with("FORCED although the gate failed")
        );
    }

    #[test]
    fn a_threshold_that_moves_too_far_is_seen_and_can_fail_the_gate() {
        let policy = GatePolicy { threshold_shift_blocks: true, ..GatePolicy::default() };
        let (champ, chall) = (eval(0.90, &[(0.9, 50)]), eval(0.95, &[(0.9, 50)]));
        let classes = vec!["Normal".to_owned(), "Malware/Botnet".to_owned()];
        let mut decision = gate(&policy, &chall, Some(&champ), None, false);
        gate_thresholds(&policy, &mut decision, &classes, &[1.0, 0.35], &[1.0, 0.5], false);
        assert!(decision.passed, "{}", decision.summary);
        gate_thresholds(&policy, &mut decision, &classes, &[1.0, 0.35], &[1.0, 0.76], false);
        assert!(!decision.promote);
        assert!(
            decision.summary.starts_with(
                "gate failed (threshold of Malware/Botnet moved 0.35 -> 0.76 (more than 0.25))"
            ),
            "{}",
            decision.summary
        );
        assert_eq!(decision.threshold_moves.len(), 1);
        // Not blocking (the default): passed, and the move is in the decision and summary.
        let policy = GatePolicy::default();
        let mut decision = gate(&policy, &chall, Some(&champ), None, false);
        gate_thresholds(&policy, &mut decision, &classes, &[1.0, 0.35], &[1.0, 0.76], false);
        assert!(decision.passed && decision.promote, "{}", decision.summary);
        assert_eq!(
            decision.threshold_moves,
            ["threshold of Malware/Botnet moved 0.35 -> 0.76 (more than 0.25)"]
        );
        assert!(
            decision.summary.ends_with(
                "; seen: threshold of Malware/Botnet moved 0.35 -> 0.76 (more than 0.25)"
            ),
            "{}",
            decision.summary
        );
    }
}
