//! HTTP request features.

use super::{Out, Window, distinct, entropy_bits, hash, hashed_runs, ln1p, share, url_path};
use crate::schema::F;
use crate::{Event, EventKind};

const SUSPICIOUS_PATHS: [&str; 14] = [
    "/admin",
    "/wp-login",
    "/wp-admin",
    "/phpmyadmin",
    "/.env",
    "/.git",
    "/config",
    "/backup",
    "/cgi-bin",
    "/shell",
    "/manager/html",
    "/xmlrpc.php",
    ".bak",
    ".sql",
];
const SQL_INJECTION: [&str; 12] = [
    "' or ",
    "\" or ",
    " or 1=1",
    "union select",
    "union all select",
    "information_schema",
    "sleep(",
    "benchmark(",
    "'--",
    "' --",
    "; drop ",
    "waitfor delay",
];
const XSS: [&str; 8] =
    ["<script", "javascript:", "onerror=", "onload=", "alert(", "<img", "<svg", "document.cookie"];
const TRAVERSAL: [&str; 5] = ["../", "..\\", "/etc/passwd", "c:\\windows", "%2e%2e"];

/// A request: an `http_request` event or any event with an HTTP method.
pub(super) fn is_request(e: &Event) -> bool {
    e.kind == EventKind::HttpRequest || e.method.is_some()
}

pub(super) fn fill(w: &Window<'_>, out: &mut Out) {
    let requests: Vec<&Event> = w.ev.iter().copied().filter(|e| is_request(e)).collect();
    let n = requests.len();
    out.set(F::http_request_count, ln1p(n as f64));
    if n == 0 {
        return;
    }
    let mut methods: Vec<u64> =
        requests.iter().filter_map(|e| e.method.as_deref()).map(hash).collect();
    out.set(F::http_method_count, distinct(&mut methods) as f64);
    let statuses = requests.iter().filter_map(|e| e.status);
    let (with_status, errors) =
        statuses.fold((0, 0), |(s, e), code| (s + 1, e + usize::from(code >= 400)));
    out.set(F::http_error_fraction, share(errors, with_status));

    // Each distinct URL is analysed once and weighted by how often it was requested.
    let urls = hashed_runs(requests.iter().filter_map(|e| e.url.as_deref()));
    if urls.is_empty() {
        return;
    }
    let (mut length, mut entropy) = (0.0, 0.0);
    let (mut suspicious, mut sqli, mut xss, mut traversal) = (0, 0, 0, 0);
    let mut paths = Vec::new();
    for run in urls.chunk_by(|a, b| a.0 == b.0) {
        let (k, url) = (run.len(), run[0].1);
        paths.push(hash(url_path(url)));
        length += (k * url.len()) as f64;
        entropy += k as f64 * byte_entropy(url.as_bytes());
        let decoded = decode(url);
        let has = |markers: &[&str]| markers.iter().any(|m| contains(&decoded, m.as_bytes()));
        suspicious += k * usize::from(has(&SUSPICIOUS_PATHS));
        sqli += k * usize::from(has(&SQL_INJECTION));
        xss += k * usize::from(has(&XSS));
        traversal += k * usize::from(has(&TRAVERSAL));
    }
    out.set(F::unique_paths, ln1p(distinct(&mut paths) as f64));
    out.set(F::mean_url_length, ln1p(length / urls.len() as f64));
    out.set(F::url_char_entropy, entropy / urls.len() as f64);
    out.set(F::suspicious_path_fraction, share(suspicious, n));
    out.set(F::sql_injection_fraction, share(sqli, n));
    out.set(F::xss_fraction, share(xss, n));
    out.set(F::path_traversal_fraction, share(traversal, n));
}

/// Shannon entropy (bits per byte) of a byte string.
fn byte_entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    entropy_bits(counts.into_iter(), bytes.len())
}

/// Percent-decoded once, `+` as space, ASCII lower-cased.
fn decode(url: &str) -> Vec<u8> {
    let b = url.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    out.make_ascii_lowercase();
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_entropy() {
        assert_eq!(decode("/a%2E%2e/x+y%2"), b"/a../x y%2");
        assert_eq!(decode("%252e%252e%2f"), b"%2e%2e/");
        assert_eq!(byte_entropy(b"abab"), 1.0);
        assert_eq!(byte_entropy(b""), 0.0);
    }
}
