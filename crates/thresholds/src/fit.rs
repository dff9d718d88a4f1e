//! Fitting thresholds on validation probabilities.

use std::fmt;
use std::str::FromStr;

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::curve::{self, Curve};
use crate::refine::{self, DecidedScore};
use crate::rule::ABSENT_CLASS_THRESHOLD;
use crate::{Objective, Result, ThresholdError, Thresholds, bayes};

/// The grid step of `grid` without a step.
pub const DEFAULT_GRID_STEP: f64 = 0.005;
/// The evaluation budget of `bayesian` without one.
pub const DEFAULT_BAYESIAN_ITERATIONS: usize = 40;
/// Most rounds of the multi-class refinement (it usually settles in two or three).
const MAX_REFINE_ROUNDS: usize = 10;

/// How each class's one-vs-rest threshold is searched.
///
/// Text form: `exact`, `grid`, `grid:<step>`, `bayesian`, `bayesian:<iterations>`,
/// `bayesian:<iterations>:<seed>`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// Every distinct validation score: the exact optimum, in O(n log n) per class.
    #[default]
    Exact,
    /// The thresholds `0, step, 2 step, ..., 1`, with `step` in [1e-5, 0.5].
    Grid {
        /// Distance between grid points.
        step: f64,
    },
    /// A Gaussian-process search with expected improvement, `iterations` (2 to 100)
    /// evaluations per class, seeded; see the crate docs for when it is worth it.
    Bayesian {
        /// Evaluations of the objective per class.
        iterations: usize,
        /// Seed of the search (class `k` uses stream `k` of it).
        seed: u64,
    },
}

impl Search {
    /// Errors unless the step or iteration count is in its documented domain.
    pub fn check(self) -> Result<()> {
        match self {
            Self::Exact => Ok(()),
            Self::Grid { step } if (1e-5..=0.5).contains(&step) => Ok(()),
            Self::Grid { step } => Err(ThresholdError::InvalidParam {
                param: "grid step",
                reason: format!("{step} is not in [1e-5, 0.5]"),
            }),
            Self::Bayesian { iterations, .. } if (2..=100).contains(&iterations) => Ok(()),
            Self::Bayesian { iterations, .. } => Err(ThresholdError::InvalidParam {
                param: "bayesian iterations",
                reason: format!("{iterations} is not in 2..=100"),
            }),
        }
    }
}

impl fmt::Display for Search {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact => f.write_str("exact"),
            Self::Grid { step } => write!(f, "grid:{step}"),
            Self::Bayesian { iterations, seed } => write!(f, "bayesian:{iterations}:{seed}"),
        }
    }
}

impl FromStr for Search {
    type Err = ThresholdError;

    fn from_str(input: &str) -> Result<Self> {
        let error = |reason: String| ThresholdError::Parse {
            what: "search",
            input: input.to_owned(),
            reason,
        };
        let text = input.trim().to_ascii_lowercase();
        let mut parts = text.split(':').map(str::trim);
        let search = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("exact"), None, ..) => Self::Exact,
            (Some("grid"), step, None, _) => Self::Grid {
                step: step.map_or(Ok(DEFAULT_GRID_STEP), |s| {
                    s.parse().map_err(|_| error(format!("grid step {s:?} is not a number")))
                })?,
            },
            (Some("bayesian"), iterations, seed, None) => Self::Bayesian {
                iterations: iterations.map_or(Ok(DEFAULT_BAYESIAN_ITERATIONS), |s| {
                    s.parse().map_err(|_| error(format!("iterations {s:?} is not a count")))
                })?,
                seed: seed.map_or(Ok(0), |s| {
                    s.parse().map_err(|_| error(format!("seed {s:?} is not a u64")))
                })?,
            },
            _ => {
                return Err(error(
                    "expected exact, grid[:<step>] or bayesian[:<iterations>[:<seed>]]".into(),
                ));
            }
        };
        search.check().map_err(|e| error(e.to_string()))?;
        Ok(search)
    }
}

/// Everything [`fit`] needs besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThresholdParams {
    /// What every attack class's threshold maximises, unless overridden.
    pub objective: Objective,
    /// Per-class objectives replacing `objective` for those classes, e.g. a recall target
    /// for the most damaging attack: `(class index, objective)`, each class at most once,
    /// never the normal class.
    pub class_objectives: Vec<(usize, Objective)>,
    /// How each one-vs-rest threshold is searched.
    pub search: Search,
    /// The benign class: never fitted, threshold 1, the decision when nothing passes.
    pub normal_class: usize,
    /// After the one-vs-rest fit, coordinate-ascend the attack thresholds on the
    /// objective of the labels the decision rule actually produces (see the crate docs).
    pub refine: bool,
}

impl Default for ThresholdParams {
    fn default() -> Self {
        Self {
            objective: Objective::F1,
            class_objectives: Vec::new(),
            search: Search::Exact,
            normal_class: 0,
            refine: true,
        }
    }
}

impl ThresholdParams {
    /// Errors unless every parameter is valid for `n_classes` classes.
    pub fn check(&self, n_classes: usize) -> Result<()> {
        if n_classes == 0 {
            return Err(ThresholdError::NoClasses);
        }
        if self.normal_class >= n_classes {
            return Err(ThresholdError::ClassOutOfRange {
                what: "normal class",
                class: self.normal_class,
                n_classes,
            });
        }
        self.objective.check()?;
        self.search.check()?;
        let mut seen = vec![false; n_classes];
        for &(class, objective) in &self.class_objectives {
            if class >= n_classes {
                return Err(ThresholdError::ClassOutOfRange {
                    what: "class objective for class",
                    class,
                    n_classes,
                });
            }
            if class == self.normal_class {
                return Err(ThresholdError::InvalidParam {
                    param: "class objectives",
                    reason: format!("class {class} is the normal class, which is not fitted"),
                });
            }
            if std::mem::replace(&mut seen[class], true) {
                return Err(ThresholdError::InvalidParam {
                    param: "class objectives",
                    reason: format!("class {class} is given twice"),
                });
            }
            objective.check()?;
        }
        Ok(())
    }

    /// The objective class `class` is fitted on.
    pub fn objective_of(&self, class: usize) -> Objective {
        self.class_objectives
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(self.objective, |&(_, objective)| objective)
    }
}

/// How one class's threshold came about.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassStatus {
    /// The normal class: not fitted, threshold 1.
    Normal,
    /// No validation row has this class: threshold [`ABSENT_CLASS_THRESHOLD`], left alone
    /// by the refinement.
    Absent,
    /// Fitted one-vs-rest.
    Fitted {
        /// The objective one-vs-rest at the one-vs-rest threshold.
        score: f64,
        /// Whether the objective's guard (minimum precision or recall) was met; when not,
        /// the threshold is the one that misses it by least.
        feasible: bool,
    },
}

/// The fit of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassFit {
    /// Normal, absent or fitted (with the one-vs-rest score).
    pub status: ClassStatus,
    /// The objective this class was fitted on.
    pub objective: Objective,
    /// Validation rows of this class.
    pub support: usize,
    /// The threshold the one-vs-rest search chose.
    pub one_vs_rest_threshold: f32,
    /// The final threshold (after refinement, if on).
    pub threshold: f32,
    /// The objective for this class, class-vs-rest, on the labels decided with the final
    /// thresholds.
    pub decided_score: f64,
}

/// The result of [`fit`]: the thresholds, and how well they do on the validation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdFit {
    /// The fitted thresholds, ready for [`Thresholds::decide`].
    pub thresholds: Thresholds,
    /// One entry per class, in class order.
    pub classes: Vec<ClassFit>,
    /// The multi-class score of the decided labels with the one-vs-rest thresholds.
    pub one_vs_rest_score: DecidedScore,
    /// The same with the final thresholds; equal to `one_vs_rest_score` without refinement.
    pub score: DecidedScore,
    /// Refinement rounds that changed a threshold (0 without refinement).
    pub refinement_rounds: usize,
}

/// Fits one threshold per class on validation probabilities `probs` (`n x K`, each in
/// [0, 1]) with true classes `labels`; see the crate docs for the procedure.
pub fn fit(
    probs: ArrayView2<'_, f32>,
    labels: &[usize],
    params: &ThresholdParams,
) -> Result<ThresholdFit> {
    let n_classes = probs.ncols();
    params.check(n_classes)?;
    check_data(probs, labels)?;
    let objectives: Vec<Objective> = (0..n_classes).map(|c| params.objective_of(c)).collect();
    let mut support = vec![0; n_classes];
    for &label in labels {
        support[label] += 1;
    }

    let mut statuses = Vec::with_capacity(n_classes);
    let mut per_class = Vec::with_capacity(n_classes);
    for class in 0..n_classes {
        let (status, threshold) = if class == params.normal_class {
            (ClassStatus::Normal, 1.0)
        } else if support[class] == 0 {
            (ClassStatus::Absent, ABSENT_CLASS_THRESHOLD)
        } else {
            let curve = Curve::new(
                probs.column(class).iter().zip(labels).map(|(&p, &label)| (p, label == class)),
            );
            let objective = objectives[class];
            let found = match params.search {
                Search::Exact => curve::exact(&curve, objective),
                Search::Grid { step } => curve::grid(&curve, objective, step),
                Search::Bayesian { iterations, seed } => {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    rng.set_stream(class as u64);
                    bayes::search(&curve, objective, iterations, &mut rng)
                }
            };
            let status =
                ClassStatus::Fitted { score: found.score.value, feasible: found.score.feasible };
            (status, found.threshold)
        };
        statuses.push(status);
        per_class.push(threshold);
    }

    let mut thresholds = Thresholds::new(per_class.clone(), params.normal_class)?;
    let (_, one_vs_rest_score) =
        refine::evaluate(probs, labels, &thresholds, &objectives, params.normal_class);
    let refinement_rounds = if params.refine {
        let tunable: Vec<bool> =
            statuses.iter().map(|s| matches!(s, ClassStatus::Fitted { .. })).collect();
        refine::refine(probs, labels, &mut thresholds, &objectives, &tunable, MAX_REFINE_ROUNDS)
    } else {
        0
    };
    let (decided, score) =
        refine::evaluate(probs, labels, &thresholds, &objectives, params.normal_class);
    let classes = (0..n_classes)
        .map(|c| ClassFit {
            status: statuses[c],
            objective: objectives[c],
            support: support[c],
            one_vs_rest_threshold: per_class[c],
            threshold: thresholds.per_class()[c],
            decided_score: decided[c].value,
        })
        .collect();
    Ok(ThresholdFit { thresholds, classes, one_vs_rest_score, score, refinement_rounds })
}

fn check_data(probs: ArrayView2<'_, f32>, labels: &[usize]) -> Result<()> {
    if probs.nrows() == 0 {
        return Err(ThresholdError::Empty);
    }
    if labels.len() != probs.nrows() {
        return Err(ThresholdError::ShapeMismatch {
            what: "labels vs probability rows",
            expected: probs.nrows(),
            found: labels.len(),
        });
    }
    let n_classes = probs.ncols();
    if let Some((row, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= n_classes) {
        return Err(ThresholdError::LabelOutOfRange { row, label, n_classes });
    }
    for ((row, column), &value) in probs.indexed_iter() {
        if !(0.0..=1.0).contains(&value) {
            return Err(ThresholdError::InvalidProbability { row, column, value });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
