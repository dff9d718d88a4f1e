//! Bayesian threshold search: a one-dimensional Gaussian process with expected improvement.
//!
//! The search runs on the quantile axis of the class's *positive* scores rather than on the
//! raw threshold: `u` in [0, 1] maps to the positive score of rank `round(u (P - 1))` among
//! the `P` positives, and the threshold is that score. Calibrated probabilities of a rare
//! class crowd near 0, so a uniform search over [0, 1] would spend most evaluations where
//! nothing changes, while on this axis every step moves recall. Only thresholds equal to a
//! positive score are worth evaluating: between two consecutive positive scores, raising
//! the threshold drops negatives and keeps every true positive, so for objectives that
//! reward true positives and punish false ones (all of [`Objective`]'s) the best threshold
//! of each such stretch is its top. The one candidate beyond the top positive, "flag
//! nothing", is evaluated separately.
//!
//! The objective is a step function of the threshold; the process treats the steps as
//! noise. Hyperparameters (length scale, noise) are chosen by marginal likelihood over a
//! small grid each iteration, the acquisition is expected improvement maximised over seeded
//! random candidates plus candidates near the incumbent.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::curve::{Curve, Found};
use crate::objective::Objective;

const LENGTH_SCALES: [f64; 3] = [0.03, 0.1, 0.3];
const NOISES: [f64; 2] = [1e-3, 3e-2];
const RANDOM_CANDIDATES: usize = 200;
const LOCAL_CANDIDATES: usize = 20;
/// Minimum improvement, in standard deviations of the observed scores, that EI rewards.
const XI: f64 = 0.01;

/// The best threshold found with `iterations` evaluations of the objective.
pub(crate) fn search(
    curve: &Curve,
    objective: Objective,
    iterations: usize,
    rng: &mut ChaCha8Rng,
) -> Found {
    let positives = curve.positive_scores();
    let threshold_at =
        |u: f64| positives[(u.clamp(0.0, 1.0) * (positives.len() - 1) as f64).round() as usize];
    let evaluate = |u: f64| objective.score(curve.counts_at(threshold_at(u))).value;

    let initial = (iterations / 5).clamp(3, 10).min(iterations);
    let mut xs: Vec<f64> = Vec::with_capacity(iterations);
    // The two ends, then one random point per stratum of the rest.
    for i in 0..initial {
        let u = match i {
            0 => 0.0,
            1 => 1.0,
            _ => {
                let strata = (initial - 2) as f64;
                ((i - 2) as f64 + rng.random::<f64>()) / strata
            }
        };
        xs.push(u);
    }
    let mut ys: Vec<f64> = xs.iter().map(|&u| evaluate(u)).collect();
    while xs.len() < iterations {
        let u = next_point(&xs, &ys, rng);
        xs.push(u);
        ys.push(evaluate(u));
    }

    // The first of the best evaluations; "flag nothing" only if strictly better.
    let best = (0..xs.len()).fold(0, |b, i| if ys[i] > ys[b] { i } else { b });
    let mut cut = curve.cut_of(threshold_at(xs[best]));
    let none = curve.n_cuts() - 1;
    if objective.score(curve.counts_at_cut(none)).value > ys[best] {
        cut = none;
    }
    // Report the middle of the chosen cut's interval, which gives the same counts.
    let threshold = curve.interval(cut).midpoint();
    Found { threshold, score: objective.score(curve.counts_at(threshold)) }
}

/// The point of highest expected improvement under the process fitted to `(xs, ys)`.
fn next_point(xs: &[f64], ys: &[f64], rng: &mut ChaCha8Rng) -> f64 {
    let n = ys.len() as f64;
    let mean = ys.iter().sum::<f64>() / n;
    let sd = (ys.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / n).sqrt();
    let sd = if sd > 1e-12 { sd } else { 1.0 };
    let y: Vec<f64> = ys.iter().map(|v| (v - mean) / sd).collect();

    let gp = LENGTH_SCALES
        .iter()
        .flat_map(|&l| NOISES.iter().map(move |&noise| (l, noise)))
        .filter_map(|(l, noise)| Gp::fit(xs, &y, l, noise))
        .max_by(|a, b| a.log_likelihood.total_cmp(&b.log_likelihood));
    let incumbent = (0..y.len()).fold(0, |b, i| if y[i] > y[b] { i } else { b });
    let Some(gp) = gp else {
        // Only reachable if every kernel matrix is numerically singular; explore instead.
        return rng.random::<f64>();
    };
    let best = y[incumbent];
    let mut chosen = (f64::NEG_INFINITY, 0.0);
    for i in 0..RANDOM_CANDIDATES + LOCAL_CANDIDATES {
        let u = if i < RANDOM_CANDIDATES {
            (i as f64 + rng.random::<f64>()) / RANDOM_CANDIDATES as f64
        } else {
            (xs[incumbent] + 0.05 * (rng.random::<f64>() - 0.5)).clamp(0.0, 1.0)
        };
        let (mu, var) = gp.predict(u);
        let ei = expected_improvement(mu, var.max(0.0).sqrt(), best);
        if ei > chosen.0 {
            chosen = (ei, u);
        }
    }
    chosen.1
}

fn expected_improvement(mu: f64, sigma: f64, best: f64) -> f64 {
    let gain = mu - best - XI;
    if sigma < 1e-12 {
        return gain.max(0.0);
    }
    let z = gain / sigma;
    gain * normal_cdf(z) + sigma * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal CDF via the complementary error function (relative error below 1.2e-7,
/// Numerical Recipes' `erfcc`): ample for ranking candidates.
fn normal_cdf(z: f64) -> f64 {
    let x = -z / std::f64::consts::SQRT_2;
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -a * a - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

/// A fitted zero-mean process with unit signal variance and a squared-exponential kernel.
struct Gp<'a> {
    xs: &'a [f64],
    length: f64,
    /// Lower Cholesky factor of K + noise I, row-major.
    chol: Vec<f64>,
    /// (K + noise I)^-1 y.
    alpha: Vec<f64>,
    log_likelihood: f64,
}

impl<'a> Gp<'a> {
    fn kernel(length: f64, a: f64, b: f64) -> f64 {
        (-(a - b).powi(2) / (2.0 * length * length)).exp()
    }

    fn fit(xs: &'a [f64], y: &[f64], length: f64, noise: f64) -> Option<Self> {
        let n = xs.len();
        let mut chol = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let mut sum = Self::kernel(length, xs[i], xs[j]);
                if i == j {
                    sum += noise;
                }
                for k in 0..j {
                    sum -= chol[i * n + k] * chol[j * n + k];
                }
                if i == j {
                    if sum <= 0.0 {
                        return None;
                    }
                    chol[i * n + i] = sum.sqrt();
                } else {
                    chol[i * n + j] = sum / chol[j * n + j];
                }
            }
        }
        let z = forward(&chol, n, y);
        let alpha = backward(&chol, n, &z);
        let log_det: f64 = (0..n).map(|i| chol[i * n + i].ln()).sum();
        let log_likelihood = -0.5 * z.iter().map(|v| v * v).sum::<f64>() - log_det;
        Some(Self { xs, length, chol, alpha, log_likelihood })
    }

    /// Posterior mean and variance of the latent function at `u`.
    fn predict(&self, u: f64) -> (f64, f64) {
        let n = self.xs.len();
        let k: Vec<f64> = self.xs.iter().map(|&x| Self::kernel(self.length, u, x)).collect();
        let mu = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        let v = forward(&self.chol, n, &k);
        (mu, 1.0 - v.iter().map(|x| x * x).sum::<f64>())
    }
}

/// Solves L z = b for lower-triangular L.
fn forward(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i * n + k] * z[k]).sum();
        z[i] = (b[i] - s) / l[i * n + i];
    }
    z
}

/// Solves L^T x = z for lower-triangular L.
fn backward(l: &[f64], n: usize, z: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (z[i] - s) / l[i * n + i];
    }
    x
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn normal_cdf_matches_known_values() {
        for (z, p) in
            [(0.0, 0.5), (1.0, 0.841_344_746), (-1.96, 0.024_997_895), (3.0, 0.998_650_102)]
        {
            assert!((normal_cdf(z) - p).abs() < 1e-6, "cdf({z}) = {}", normal_cdf(z));
        }
    }

    #[test]
    fn process_interpolates_its_observations() {
        let xs = [0.1, 0.5, 0.9];
        let y = [1.0, -1.0, 0.5];
        let gp = Gp::fit(&xs, &y, 0.2, 1e-6).unwrap();
        for (x, v) in xs.iter().zip(y) {
            let (mu, var) = gp.predict(*x);
            assert!((mu - v).abs() < 1e-3 && var < 1e-3, "at {x}: {mu} ± {var}");
        }
        // Far from the data the prior (mean 0, variance 1) returns.
        let gp = Gp::fit(&xs, &y, 0.02, 1e-6).unwrap();
        let (mu, var) = gp.predict(0.3);
        assert!(mu.abs() < 1e-3 && (var - 1.0).abs() < 1e-3);
    }

    #[test]
    fn proposals_move_towards_a_promising_region() {
        // Rising data: the next point should lie to the right of the best observation.
        let xs = [0.0, 0.2, 0.4, 0.6];
        let ys = [0.0, 0.2, 0.4, 0.6];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let u = next_point(&xs, &ys, &mut rng);
        assert!(u > 0.6, "proposed {u}");
    }
}
