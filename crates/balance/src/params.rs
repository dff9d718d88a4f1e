//! What to run: the method, the sampling strategy and their parameters.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{BalanceError, Result};

/// A resampling method. [`Method::name`] is its stable lower-case name, used by
/// [`FromStr`], [`fmt::Display`] and serde.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Method {
    /// Random over-sampling: appends copies of rows drawn uniformly, with replacement, from
    /// the class.
    #[serde(rename = "random-over")]
    RandomOver,
    /// Random under-sampling: keeps a uniformly drawn subset of the class, without
    /// replacement.
    #[serde(rename = "random-under")]
    RandomUnder,
    /// SMOTE (Chawla et al. 2002): interpolates between a row and one of its `k` nearest
    /// neighbours in the same class.
    #[serde(rename = "smote")]
    Smote,
    /// Borderline-SMOTE 1 (Han et al. 2005): SMOTE from the rows "in danger" only.
    #[serde(rename = "borderline-smote-1")]
    BorderlineSmote1,
    /// Borderline-SMOTE 2: like 1, but part of the rows interpolate towards neighbours of
    /// the other classes, with a gap in `[0, 0.5)`.
    #[serde(rename = "borderline-smote-2")]
    BorderlineSmote2,
    /// ADASYN (He et al. 2008): SMOTE with more rows from the rows whose neighbours are
    /// mostly of other classes; the counts are made exact (see the crate docs).
    #[serde(rename = "adasyn")]
    Adasyn,
    /// SMOTE, then removal of both rows of every Tomek link.
    #[serde(rename = "smote-tomek")]
    SmoteTomek,
    /// SMOTE, then Wilson's edited nearest neighbours (3 neighbours, all must agree).
    #[serde(rename = "smote-enn")]
    SmoteEnn,
}

impl Method {
    /// Every method, in declaration order.
    pub const ALL: [Method; 8] = [
        Method::RandomOver,
        Method::RandomUnder,
        Method::Smote,
        Method::BorderlineSmote1,
        Method::BorderlineSmote2,
        Method::Adasyn,
        Method::SmoteTomek,
        Method::SmoteEnn,
    ];

    /// The stable lower-case name, e.g. `smote` or `borderline-smote-1`.
    pub fn name(self) -> &'static str {
        match self {
            Method::RandomOver => "random-over",
            Method::RandomUnder => "random-under",
            Method::Smote => "smote",
            Method::BorderlineSmote1 => "borderline-smote-1",
            Method::BorderlineSmote2 => "borderline-smote-2",
            Method::Adasyn => "adasyn",
            Method::SmoteTomek => "smote-tomek",
            Method::SmoteEnn => "smote-enn",
        }
    }

    /// Whether the method only adds rows before any cleaning (every method but
    /// [`Method::RandomUnder`]).
    pub fn is_over_sampler(self) -> bool {
        self != Method::RandomUnder
    }

    fn known() -> String {
        Method::ALL.map(Method::name).join(", ")
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = BalanceError;

    /// Parses a [`Method::name`], ignoring ASCII case, surrounding whitespace and `_` for `-`.
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Method::ALL.into_iter().find(|m| m.name() == wanted).ok_or_else(|| {
            BalanceError::UnknownMethod { name: s.to_owned(), known: Method::known() }
        })
    }
}

/// Either a fixed [`Method`] or the automatic choice of [`crate::choose_method`].
///
/// It reads and prints as `auto` or a method name, also in serde.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum MethodChoice {
    /// Pick the method from the data by the documented rule.
    #[default]
    Auto,
    /// Always this method.
    Fixed(Method),
}

impl fmt::Display for MethodChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodChoice::Auto => f.write_str("auto"),
            MethodChoice::Fixed(m) => f.write_str(m.name()),
        }
    }
}

impl FromStr for MethodChoice {
    type Err = BalanceError;

    fn from_str(s: &str) -> Result<Self> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(MethodChoice::Auto);
        }
        s.parse().map(MethodChoice::Fixed).map_err(|_| BalanceError::UnknownMethod {
            name: s.to_owned(),
            known: format!("auto, {}", Method::known()),
        })
    }
}

impl TryFrom<String> for MethodChoice {
    type Error = BalanceError;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<MethodChoice> for String {
    fn from(choice: MethodChoice) -> String {
        choice.to_string()
    }
}

impl From<Method> for MethodChoice {
    fn from(method: Method) -> Self {
        MethodChoice::Fixed(method)
    }
}

/// How many rows each class should have after resampling.
///
/// Classes with no rows are never resampled: under [`Strategy::Auto`] they stay empty, and
/// an explicit positive target for one is an error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// imbalanced-learn's `"auto"`. Over-samplers bring every class up to the majority
    /// count ("not majority"); the under-sampler brings every class down to the minority
    /// count ("not minority").
    #[default]
    Auto,
    /// An explicit target count per class (index = class). Over-samplers require
    /// `target >= count`, the under-sampler `target <= count`; equal means untouched.
    Counts(Vec<usize>),
    /// A target share per class (index = class), non-negative and summing to 1.
    ///
    /// The total `T` is chosen so that no class moves against the method's direction:
    /// - over-samplers take the **smallest** total at which every class's share reaches
    ///   its current count, `T = max_c ceil(n_c / p_c)` over the classes with `p_c > 0`,
    ///   and target `max(n_c, round(p_c * T))`. The class that is largest relative to its
    ///   share keeps its count and the others grow; no class is ever under-sampled.
    /// - the under-sampler takes the **largest** total at which no share exceeds its
    ///   class, `T = min_c floor(n_c / p_c)`, and targets `min(n_c, round(p_c * T))`.
    ///
    /// A class with share 0 keeps its rows unchanged (it is not removed).
    Distribution(Vec<f64>),
}

impl Strategy {
    /// The seed pipeline's default distribution: 30% for class 0 (normal) and the other
    /// 70% shared equally by the attack classes (with one class: 100%).
    pub fn seed_default(n_classes: usize) -> Self {
        match n_classes {
            0 => Strategy::Distribution(Vec::new()),
            1 => Strategy::Distribution(vec![1.0]),
            n => {
                let attack = 0.7 / (n - 1) as f64;
                let mut shares = vec![attack; n];
                shares[0] = 0.3;
                Strategy::Distribution(shares)
            }
        }
    }

    /// Checks what can be checked without the data: shares finite, non-negative, summing
    /// to 1 (within 1e-6).
    pub fn check(&self) -> Result<()> {
        if let Strategy::Distribution(shares) = self {
            if let Some(p) = shares.iter().find(|p| !p.is_finite() || **p < 0.0) {
                return Err(BalanceError::InvalidParam {
                    name: "strategy",
                    reason: format!("class share {p} is not a finite non-negative number"),
                });
            }
            let sum: f64 = shares.iter().sum();
            if (sum - 1.0).abs() > 1e-6 {
                return Err(BalanceError::InvalidParam {
                    name: "strategy",
                    reason: format!("class shares sum to {sum}, not 1"),
                });
            }
        }
        Ok(())
    }
}

/// Everything [`crate::balance`] needs besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BalanceParams {
    /// The method, or `auto`.
    pub method: MethodChoice,
    /// The per-class targets.
    pub strategy: Strategy,
    /// Same-class neighbours that SMOTE-family methods interpolate towards (and that
    /// ADASYN uses to measure difficulty). Default 5.
    pub k_neighbors: usize,
    /// Neighbours over the whole data set that decide whether a row is "in danger" for
    /// Borderline-SMOTE. Default 10.
    pub m_neighbors: usize,
    /// Seed of the `ChaCha8Rng` that drives every random choice.
    pub seed: u64,
}

impl Default for BalanceParams {
    fn default() -> Self {
        Self {
            method: MethodChoice::Auto,
            strategy: Strategy::Auto,
            k_neighbors: 5,
            m_neighbors: 10,
            seed: 0,
        }
    }
}

impl BalanceParams {
    /// These parameters with a fixed method.
    #[must_use]
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = MethodChoice::Fixed(method);
        self
    }

    /// Checks the parameters that do not depend on the data: `k_neighbors >= 1`,
    /// `m_neighbors >= 1` and [`Strategy::check`]. [`crate::balance`] calls it first.
    pub fn check(&self) -> Result<()> {
        if self.k_neighbors == 0 {
            return Err(BalanceError::InvalidParam {
                name: "k_neighbors",
                reason: "must be at least 1".into(),
            });
        }
        if self.m_neighbors == 0 {
            return Err(BalanceError::InvalidParam {
                name: "m_neighbors",
                reason: "must be at least 1".into(),
            });
        }
        self.strategy.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_round_trip_through_str_and_serde() {
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>(), Ok(m));
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{}\"", m.name()));
            let choice = MethodChoice::Fixed(m);
            let json = serde_json::to_string(&choice).unwrap();
            assert_eq!(serde_json::from_str::<MethodChoice>(&json).unwrap(), choice);
        }
        assert_eq!(" Borderline_SMOTE-2 ".parse::<Method>(), Ok(Method::BorderlineSmote2));
        assert_eq!("AUTO".parse::<MethodChoice>(), Ok(MethodChoice::Auto));
        let err = "smot".parse::<MethodChoice>().unwrap_err().to_string();
        assert!(err.contains("\"smot\"") && err.contains("auto, random-over"), "{err}");
    }

    #[test]
    fn seed_default_is_thirty_percent_normal() {
        let Strategy::Distribution(shares) = Strategy::seed_default(7) else { unreachable!() };
        assert_eq!(shares[0], 0.3);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(shares[1..].iter().all(|&p| (p - 0.7 / 6.0).abs() < 1e-15));
        assert!(Strategy::seed_default(7).check().is_ok());
        assert_eq!(Strategy::seed_default(1), Strategy::Distribution(vec![1.0]));
    }

    #[test]
    fn check_rejects_bad_parameters() {
        let ok = BalanceParams::default();
        assert!(ok.check().is_ok());
        let bad = [
            BalanceParams { k_neighbors: 0, ..ok.clone() },
            BalanceParams { m_neighbors: 0, ..ok.clone() },
            BalanceParams { strategy: Strategy::Distribution(vec![0.5, 0.6]), ..ok.clone() },
            BalanceParams { strategy: Strategy::Distribution(vec![1.5, -0.5]), ..ok.clone() },
            BalanceParams { strategy: Strategy::Distribution(vec![f64::NAN, 1.0]), ..ok },
        ];
        for params in bad {
            assert!(matches!(params.check(), Err(BalanceError::InvalidParam { .. })), "{params:?}");
        }
    }

    #[test]
    fn params_deserialise_with_defaults() {
        let params: BalanceParams =
            serde_json::from_str(r#"{"method": "smote-tomek", "strategy": {"counts": [3, 4]}}"#)
                .unwrap();
        assert_eq!(params.method, MethodChoice::Fixed(Method::SmoteTomek));
        assert_eq!(params.strategy, Strategy::Counts(vec![3, 4]));
        assert_eq!(params.k_neighbors, 5);
        let json = serde_json::to_string(&BalanceParams::default()).unwrap();
        assert!(json.contains(r#""method":"auto""#) && json.contains(r#""strategy":"auto""#));
    }
}
