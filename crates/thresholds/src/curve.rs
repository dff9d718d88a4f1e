//! One class's scores sorted once, so the counts at any threshold cost a binary search.
//!
//! A threshold `t` flags the rows with `score >= t`, so only where `t` falls among the
//! distinct scores matters. With distinct scores `u[0] < ... < u[m-1]`, *cut* `j` flags
//! `u[j..]`: cut 0 flags every row, cut `m` none. Cut `j` is produced by every threshold in
//! its interval `(u[j-1], u[j]]` (`[0, u[0]]` for cut 0, `(u[m-1], 1]` for cut `m`, which
//! does not exist when `u[m-1] == 1`).

use crate::objective::{Counts, Objective, Score};

/// An interval of thresholds: `(lo, hi]`, or `[lo, hi]` when `closed_below`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Interval {
    pub(crate) lo: f32,
    pub(crate) hi: f32,
    pub(crate) closed_below: bool,
}

impl Interval {
    /// The f32 nearest the middle that still lies inside the interval.
    pub(crate) fn midpoint(self) -> f32 {
        let mid = (f64::from(self.lo) + (f64::from(self.hi) - f64::from(self.lo)) / 2.0) as f32;
        let inside = (mid > self.lo || (self.closed_below && mid >= self.lo)) && mid <= self.hi;
        if inside { mid } else { self.hi }
    }
}

/// Among `candidates` (contiguous intervals in increasing order, each with a key), the
/// union of the widest run of adjacent candidates sharing the best key, and that key.
///
/// Taking the middle of the widest plateau, not its first point, keeps a threshold away
/// from the validation scores that bound it: with separable classes it lands mid-gap.
pub(crate) fn best_plateau<K: PartialOrd + Copy>(candidates: &[(Interval, K)]) -> (Interval, K) {
    let best = candidates
        .iter()
        .map(|c| c.1)
        .reduce(|a, b| if b > a { b } else { a })
        .expect("at least one candidate");
    let mut chosen: Option<Interval> = None;
    let mut i = 0;
    while i < candidates.len() {
        if candidates[i].1 != best {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < candidates.len() && candidates[i + 1].1 == best {
            i += 1;
        }
        let run = Interval {
            lo: candidates[start].0.lo,
            hi: candidates[i].0.hi,
            closed_below: candidates[start].0.closed_below,
        };
        if chosen.is_none_or(|c| run.hi - run.lo > c.hi - c.lo) {
            chosen = Some(run);
        }
        i += 1;
    }
    (chosen.expect("the best key occurs"), best)
}

/// One class's validation scores, sorted, with positive and negative counts per cut.
#[derive(Debug, Clone)]
pub(crate) struct Curve {
    /// Distinct scores, ascending.
    values: Vec<f32>,
    /// `pos_from[j]`: positives flagged by cut `j` (length `m + 1`, last entry 0).
    pos_from: Vec<u64>,
    /// `neg_from[j]`: negatives flagged by cut `j`.
    neg_from: Vec<u64>,
    /// Scores of the positive rows, ascending, repeated values kept.
    positive_scores: Vec<f32>,
}

impl Curve {
    /// Builds the curve from (score, is positive) pairs; scores must be in [0, 1], at least one.
    pub(crate) fn new(rows: impl IntoIterator<Item = (f32, bool)>) -> Self {
        let mut rows: Vec<(f32, bool)> = rows.into_iter().collect();
        rows.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut values = Vec::new();
        let mut pos = Vec::new();
        let mut neg = Vec::new();
        for &(score, positive) in &rows {
            if values.last() != Some(&score) {
                values.push(score);
                pos.push(0);
                neg.push(0);
            }
            *if positive { pos.last_mut() } else { neg.last_mut() }.expect("pushed above") += 1;
        }
        let suffix = |counts: Vec<u64>| {
            let mut from = vec![0; counts.len() + 1];
            for j in (0..counts.len()).rev() {
                from[j] = from[j + 1] + counts[j];
            }
            from
        };
        let positive_scores = rows.iter().filter(|r| r.1).map(|r| r.0).collect();
        Self { values, pos_from: suffix(pos), neg_from: suffix(neg), positive_scores }
    }

    fn m(&self) -> usize {
        self.values.len()
    }

    /// The cut that threshold `t` produces.
    pub(crate) fn cut_of(&self, t: f32) -> usize {
        self.values.partition_point(|&v| v < t)
    }

    /// One-vs-rest counts at cut `j`.
    pub(crate) fn counts_at_cut(&self, j: usize) -> Counts {
        let (tp, fp) = (self.pos_from[j], self.neg_from[j]);
        Counts { tp, fp, fn_: self.pos_from[0] - tp, tn: self.neg_from[0] - fp }
    }

    /// One-vs-rest counts at threshold `t`.
    pub(crate) fn counts_at(&self, t: f32) -> Counts {
        self.counts_at_cut(self.cut_of(t))
    }

    /// The cuts reachable with a threshold in [0, 1]: all of `0..=m` unless the top score is 1.
    pub(crate) fn n_cuts(&self) -> usize {
        if self.values[self.m() - 1] >= 1.0 { self.m() } else { self.m() + 1 }
    }

    /// The thresholds producing cut `j` (`j < n_cuts()`).
    pub(crate) fn interval(&self, j: usize) -> Interval {
        let lo = if j == 0 { 0.0 } else { self.values[j - 1] };
        let hi = if j == self.m() { 1.0 } else { self.values[j] };
        Interval { lo, hi, closed_below: j == 0 }
    }

    /// Positive scores, ascending (the axis of the Bayesian search).
    pub(crate) fn positive_scores(&self) -> &[f32] {
        &self.positive_scores
    }
}

/// A chosen threshold and the objective there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Found {
    pub(crate) threshold: f32,
    pub(crate) score: Score,
}

/// Every cut tried: the exact optimum over all thresholds, at the middle of its plateau.
pub(crate) fn exact(curve: &Curve, objective: Objective) -> Found {
    let candidates: Vec<(Interval, f64)> = (0..curve.n_cuts())
        .map(|j| (curve.interval(j), objective.score(curve.counts_at_cut(j)).value))
        .collect();
    let (interval, _) = best_plateau(&candidates);
    let threshold = interval.midpoint();
    Found { threshold, score: objective.score(curve.counts_at(threshold)) }
}

/// The grid `0, step, 2 step, ..., 1`; the middle point of the widest best run.
pub(crate) fn grid(curve: &Curve, objective: Objective, step: f64) -> Found {
    let n = (1.0 / step).ceil() as usize;
    let mut points: Vec<f32> = (0..=n).map(|i| (i as f64 * step).min(1.0) as f32).collect();
    points.dedup();
    let scores: Vec<f64> =
        points.iter().map(|&t| objective.score(curve.counts_at(t)).value).collect();
    // Grid points are not contiguous intervals, so the plateau is taken over indices.
    let candidates: Vec<(Interval, f64)> = scores
        .iter()
        .enumerate()
        .map(|(i, &s)| (Interval { lo: i as f32, hi: i as f32, closed_below: true }, s))
        .collect();
    let (run, _) = best_plateau(&candidates);
    let threshold = points[run.lo.midpoint(run.hi) as usize];
    Found { threshold, score: objective.score(curve.counts_at(threshold)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_cuts() {
        // Scores 0.1 (neg), 0.4 (pos, neg), 0.8 (pos, pos).
        let curve = Curve::new([(0.4, true), (0.1, false), (0.8, true), (0.4, false), (0.8, true)]);
        assert_eq!(curve.n_cuts(), 4);
        assert_eq!(curve.counts_at(0.0), Counts { tp: 3, fp: 2, fn_: 0, tn: 0 });
        assert_eq!(curve.counts_at(0.4), Counts { tp: 3, fp: 1, fn_: 0, tn: 1 });
        assert_eq!(curve.counts_at(0.41), Counts { tp: 2, fp: 0, fn_: 1, tn: 2 });
        assert_eq!(curve.counts_at(0.9), Counts { tp: 0, fp: 0, fn_: 3, tn: 2 });
        assert_eq!(curve.interval(0), Interval { lo: 0.0, hi: 0.1, closed_below: true });
        assert_eq!(curve.interval(3), Interval { lo: 0.8, hi: 1.0, closed_below: false });
        assert_eq!(curve.positive_scores(), &[0.4, 0.8, 0.8]);
    }

    #[test]
    fn a_top_score_of_one_removes_the_flag_nothing_cut() {
        let curve = Curve::new([(1.0, true), (0.2, false)]);
        assert_eq!(curve.n_cuts(), 2);
        assert_eq!(curve.counts_at(1.0).tp, 1);
    }

    #[test]
    fn midpoint_stays_inside_even_between_adjacent_floats() {
        let lo = 0.5_f32;
        let hi = f32::from_bits(lo.to_bits() + 1);
        let mid = Interval { lo, hi, closed_below: false }.midpoint();
        assert!(mid > lo && mid <= hi);
        assert_eq!(Interval { lo: 0.0, hi: 0.0, closed_below: true }.midpoint(), 0.0);
        assert_eq!(Interval { lo: 0.2, hi: 0.6, closed_below: false }.midpoint(), 0.4);
    }

    #[test]
    fn plateau_prefers_the_widest_best_run() {
        let iv = |lo: f32, hi: f32| Interval { lo, hi, closed_below: false };
        let candidates =
            [(iv(0.0, 0.1), 1.0), (iv(0.1, 0.2), 0.5), (iv(0.2, 0.3), 1.0), (iv(0.3, 0.6), 1.0)];
        let (run, key) = best_plateau(&candidates);
        assert_eq!((run, key), (iv(0.2, 0.6), 1.0));
    }
}
