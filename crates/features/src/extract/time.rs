//! Time, volume and the time-based statistical features.

use std::f64::consts::PI;

use super::{Out, Window, entropy_bits, ln1p, mean_std, share, span_secs};
use crate::schema::F;

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 86_400_000_000;

pub(super) fn fill(w: &Window<'_>, out: &mut Out) {
    clock(w, out);
    volume(w, out);
    statistics(w, out);
}

fn clock(w: &Window<'_>, out: &mut Out) {
    let n = w.n();
    let (Some(&first), Some(&last)) = (w.us.first(), w.us.last()) else {
        return;
    };
    let h = last.rem_euclid(DAY) as f64 / HOUR as f64;
    out.set(F::hour_sin, (2.0 * PI * h / 24.0).sin());
    out.set(F::hour_cos, (2.0 * PI * h / 24.0).cos());
    out.set(F::day_of_week, weekday(last) as f64 / 6.0);
    let (mut weekend, mut business, mut night) = (0, 0, 0);
    for &t in &w.us {
        let hour = t.rem_euclid(DAY) / HOUR;
        weekend += usize::from(weekday(t) >= 5);
        business += usize::from((9..17).contains(&hour));
        night += usize::from(hour < 6);
    }
    out.set(F::weekend_fraction, share(weekend, n));
    out.set(F::business_hours_fraction, share(business, n));
    out.set(F::night_fraction, share(night, n));
    out.set(F::time_span, ln1p(span_secs(first, last)));
}

/// Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday).
fn weekday(us: i64) -> i64 {
    (us.div_euclid(DAY) + 3).rem_euclid(7)
}

fn volume(w: &Window<'_>, out: &mut Out) {
    let n = w.n();
    let Some(&last) = w.us.last() else {
        return;
    };
    // Times are sorted: the events within `len` of the newest are a suffix.
    let within = |len: i64| {
        n - w.us.partition_point(|&t| i128::from(last) - i128::from(t) >= i128::from(len))
    };
    out.set(F::event_count_1min, ln1p(within(MINUTE) as f64));
    out.set(F::event_count_5min, ln1p(within(5 * MINUTE) as f64));
    out.set(F::event_count_1h, ln1p(within(HOUR) as f64));
    out.set(F::event_count_24h, ln1p(within(DAY) as f64));
    out.set(F::event_count, ln1p(n as f64));
    let span = span_secs(w.us[0], last);
    out.set(F::events_per_minute, ln1p(60.0 * n as f64 / span.max(60.0)));
    // Most events in any [t_i, t_i + 60 s): two pointers over the sorted times.
    let (mut peak, mut j) = (0, 0);
    for i in 0..n {
        while j < n && i128::from(w.us[j]) < i128::from(w.us[i]) + i128::from(MINUTE) {
            j += 1;
        }
        peak = peak.max(j - i);
    }
    out.set(F::peak_events_per_minute, ln1p(peak as f64));
    out.set(F::burst_fraction, share(peak, n));
    let minute = |t: &i64| t.div_euclid(MINUTE);
    let active = 1 + w.us.windows(2).filter(|p| minute(&p[0]) != minute(&p[1])).count();
    out.set(F::active_minutes, ln1p(active as f64));
    let covered = (i128::from(minute(&last)) - i128::from(minute(&w.us[0])) + 1) as f64;
    out.set(F::duty_cycle, active as f64 / covered);
}

fn statistics(w: &Window<'_>, out: &mut Out) {
    if !w.gaps.is_empty() {
        let (mean, std) = mean_std(&w.gaps);
        let mut sorted = w.gaps.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let m = sorted.len();
        let median = if m % 2 == 1 {
            sorted[m / 2]
        } else {
            f64::midpoint(sorted[m / 2 - 1], sorted[m / 2])
        };
        out.set(F::mean_inter_event_time, ln1p(mean));
        out.set(F::std_inter_event_time, ln1p(std));
        out.set(F::median_inter_event_time, ln1p(median));
        out.set(F::max_inter_event_time, ln1p(sorted[m - 1]));
    }
    let kinds = &w.tally.kinds;
    out.set(
        F::kind_entropy,
        entropy_bits(kinds.iter().copied(), w.n()) / (kinds.len() as f64).log2(),
    );
    let per_hour: Vec<f64> =
        w.us.chunk_by(|a, b| a.div_euclid(HOUR) == b.div_euclid(HOUR))
            .map(|c| c.len() as f64)
            .collect();
    if per_hour.len() >= 2 {
        let (mean, std) = mean_std(&per_hour);
        out.set(F::hourly_activity_cv, std / mean);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays() {
        assert_eq!(weekday(0), 3); // 1970-01-01, Thursday
        assert_eq!(weekday(4 * DAY), 0); // Monday
        assert_eq!(weekday(-DAY), 2); // Wednesday
    }
}
