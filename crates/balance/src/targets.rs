//! Per-class target counts from a [`Strategy`].

use crate::{BalanceError, Method, Result, Strategy};

/// The number of rows each class should have after `method` runs (before any cleaning).
///
/// `counts` has one entry per class; at least one class has rows.
pub(crate) fn targets(strategy: &Strategy, counts: &[usize], method: Method) -> Result<Vec<usize>> {
    let over = method.is_over_sampler();
    let targets = match strategy {
        Strategy::Auto => {
            let present = counts.iter().copied().filter(|&n| n > 0);
            let level = if over { present.max() } else { present.min() }.unwrap_or(0);
            counts.iter().map(|&n| if n == 0 { 0 } else { level }).collect()
        }
        Strategy::Counts(wanted) => {
            check_len(wanted.len(), counts.len())?;
            wanted.clone()
        }
        Strategy::Distribution(shares) => {
            check_len(shares.len(), counts.len())?;
            from_shares(shares, counts, over)
        }
    };
    for (class, (&target, &count)) in targets.iter().zip(counts).enumerate() {
        if count == 0 && target > 0 {
            return Err(BalanceError::EmptyClass { class, target });
        }
        if over && target < count {
            return Err(BalanceError::TargetBelowCount {
                class,
                target,
                count,
                method: method.name(),
            });
        }
        if !over && target > count {
            return Err(BalanceError::TargetAboveCount { class, target, count });
        }
    }
    Ok(targets)
}

fn check_len(found: usize, expected: usize) -> Result<()> {
    if found == expected { Ok(()) } else { Err(BalanceError::StrategyLength { expected, found }) }
}

/// See [`Strategy::Distribution`] for the rule. Classes with share 0 keep their count.
fn from_shares(shares: &[f64], counts: &[usize], over: bool) -> Vec<usize> {
    let ratios = shares.iter().zip(counts).filter(|&(&p, _)| p > 0.0).map(|(&p, &n)| n as f64 / p);
    let total = if over {
        ratios.map(f64::ceil).fold(0.0, f64::max)
    } else {
        ratios.map(f64::floor).fold(f64::INFINITY, f64::min)
    };
    shares
        .iter()
        .zip(counts)
        .map(|(&p, &n)| {
            if p == 0.0 {
                return n;
            }
            let share = (p * total).round() as usize;
            if over { share.max(n) } else { share.min(n) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(strategy: Strategy, counts: &[usize], method: Method, expected: &[usize]) {
        assert_eq!(
            targets(&strategy, counts, method).unwrap(),
            expected,
            "{strategy:?} {counts:?}"
        );
    }

    #[test]
    fn auto_levels_to_the_majority_or_minority() {
        check(Strategy::Auto, &[10, 3, 0, 7], Method::Smote, &[10, 10, 0, 10]);
        check(Strategy::Auto, &[10, 3, 0, 7], Method::RandomUnder, &[3, 3, 0, 3]);
    }

    #[test]
    fn counts_are_taken_as_given_in_the_method_direction() {
        check(Strategy::Counts(vec![10, 5]), &[10, 3], Method::Adasyn, &[10, 5]);
        check(Strategy::Counts(vec![4, 3]), &[10, 3], Method::RandomUnder, &[4, 3]);
        let over = targets(&Strategy::Counts(vec![9, 5]), &[10, 3], Method::Smote);
        assert!(matches!(
            over,
            Err(BalanceError::TargetBelowCount { class: 0, target: 9, count: 10, .. })
        ));
        let under = targets(&Strategy::Counts(vec![4, 5]), &[10, 3], Method::RandomUnder);
        assert!(matches!(under, Err(BalanceError::TargetAboveCount { class: 1, .. })));
        let empty = targets(&Strategy::Counts(vec![10, 3, 1]), &[10, 3, 0], Method::Smote);
        assert_eq!(empty, Err(BalanceError::EmptyClass { class: 2, target: 1 }));
        let short = targets(&Strategy::Counts(vec![10]), &[10, 3], Method::Smote);
        assert_eq!(short, Err(BalanceError::StrategyLength { expected: 2, found: 1 }));
    }

    #[test]
    fn distribution_never_moves_a_class_against_the_method() {
        // NSL-KDD KDDTrain+ with the seed's default: DoS is the class largest relative to
        // its 17.5% share, so T = ceil(45927 / 0.175) = 262440 and DoS keeps its count.
        let counts = [67_343, 45_927, 11_656, 995, 52];
        let shares = Strategy::seed_default(5);
        check(shares.clone(), &counts, Method::Smote, &[78_732, 45_927, 45_927, 45_927, 45_927]);
        // Under-sampling: U2R limits the total to floor(52 / 0.175) = 297.
        check(shares, &counts, Method::RandomUnder, &[89, 52, 52, 52, 52]);
        // A zero share leaves the class alone.
        check(Strategy::Distribution(vec![0.5, 0.5, 0.0]), &[4, 2, 9], Method::Smote, &[4, 4, 9]);
        check(Strategy::Distribution(vec![0.25, 0.75]), &[30, 30], Method::Smote, &[30, 90]);
    }
}
