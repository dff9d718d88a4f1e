//! Authentication features, plus `mean_password_length` (statistical).

use super::{Out, Window, distinct, hash, hashed_runs, ln1p, mix, share, span_secs};
use crate::EventKind;
use crate::schema::F;

const DEFAULT_USERNAMES: [&str; 13] = [
    "root",
    "admin",
    "administrator",
    "user",
    "guest",
    "test",
    "ubnt",
    "pi",
    "oracle",
    "support",
    "ftp",
    "postgres",
    "default",
];

pub(super) fn fill(w: &Window<'_>, out: &mut Out) {
    let logins: Vec<(usize, &crate::Event)> =
        w.ev.iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.kind, EventKind::LoginFailed | EventKind::LoginSuccess))
            .map(|(i, e)| (i, *e))
            .collect();
    let failed: Vec<i64> = logins
        .iter()
        .filter(|(_, e)| e.kind == EventKind::LoginFailed)
        .map(|(i, _)| w.us[*i])
        .collect();
    let n = logins.len();
    out.set(F::failed_login_count, ln1p(failed.len() as f64));
    out.set(F::successful_login_count, ln1p((n - failed.len()) as f64));
    out.set(F::login_failure_rate, share(failed.len(), n));

    // Each distinct username is checked against the defaults once.
    let users = hashed_runs(logins.iter().filter_map(|(_, e)| e.username.as_deref()));
    let (mut u, mut default) = (0usize, 0usize);
    for run in users.chunk_by(|a, b| a.0 == b.0) {
        u += 1;
        if DEFAULT_USERNAMES.iter().any(|d| run[0].1.eq_ignore_ascii_case(d)) {
            default += run.len();
        }
    }
    let mut passwords: Vec<u64> =
        logins.iter().filter_map(|(_, e)| e.password.as_deref()).map(hash).collect();
    let p = distinct(&mut passwords);
    out.set(F::unique_usernames, ln1p(u as f64));
    out.set(F::unique_passwords, ln1p(p as f64));
    out.set(F::passwords_per_username, if u == 0 { 0.0 } else { ln1p(p as f64 / u as f64) });
    out.set(F::default_username_fraction, share(default, n));
    let same =
        logins.iter().filter(|(_, e)| e.username.is_some() && e.username == e.password).count();
    out.set(F::username_as_password_fraction, share(same, n));

    // A login without a session is its own session: key it by its position.
    let mut sessions: Vec<u64> =
        logins.iter().map(|(i, _)| w.session_keys[*i].unwrap_or_else(|| mix(*i as u64))).collect();
    let session_count = distinct(&mut sessions);
    out.set(
        F::logins_per_session,
        if session_count == 0 { 0.0 } else { ln1p(n as f64 / session_count as f64) },
    );

    if let (Some(&first), Some(&last)) = (failed.first(), failed.last()) {
        out.set(
            F::failed_logins_per_minute,
            ln1p(60.0 * failed.len() as f64 / span_secs(first, last).max(60.0)),
        );
    }

    let lengths: Vec<usize> = logins
        .iter()
        .filter_map(|(_, e)| e.password.as_deref())
        .map(|p| p.chars().count())
        .collect();
    if !lengths.is_empty() {
        out.set(
            F::mean_password_length,
            ln1p(lengths.iter().sum::<usize>() as f64 / lengths.len() as f64),
        );
    }
}
