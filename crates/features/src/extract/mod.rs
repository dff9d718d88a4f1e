//! The extractor: one window of events in, one [`FeatureVector`] out.
//!
//! [`Window::new`] sorts the events into canonical order once and derives what several
//! groups share (times, gaps, sessions, the entity); each module then fills its features
//! in a pass or two over the window:
//!
//! | module | features |
//! |---|---|
//! | `time.rs` | time, volume, statistical (gaps, kinds, hourly activity) |
//! | `traffic.rs` | port, protocol, network |
//! | `auth.rs` | auth, plus `mean_password_length` |
//! | `command.rs` | command, plus `mean_command_length` and `command_entropy` |
//! | `http.rs` | http |
//! | `intel.rs` | threat-intel |
//! | `behavior.rs` | behavioral (except `command_entropy`) |
//! | `graph.rs` | graph |
//!
//! Strings are compared through 64-bit hashes ([`hash_bytes`]), and distinct counts come
//! from sorting those hashes: no hash tables, no allocation per event. A string that repeats
//! (bots repeat themselves) is classified once per window. A collision would merge two
//! strings; at 64 bits and window sizes in the thousands its probability is below 1e-12.

mod auth;
mod behavior;
mod command;
mod graph;
mod http;
mod intel;
mod time;
mod traffic;

use std::net::IpAddr;

use crate::intel::{Feeds, Intel};
use crate::schema::{F, FEATURE_COUNT};
use crate::{AppProto, Event, EventKind, FeatureVector, Transport};

/// The 100 features of `events` (one entity's window), with threat intel from `intel`.
///
/// Pure and deterministic: the same events in any order give the same vector, and an
/// empty window gives a defined vector. Every value is finite.
pub fn extract(events: &[Event], intel: &Intel) -> FeatureVector {
    extract_with(events, &intel.snapshot())
}

/// [`extract`] with a feed snapshot taken once (cheaper for many windows, and every window
/// of a batch then sees the same feeds).
pub fn extract_with(events: &[Event], feeds: &Feeds) -> FeatureVector {
    let w = Window::new(events);
    let mut out = Out([0.0; FEATURE_COUNT]);
    time::fill(&w, &mut out);
    traffic::fill(&w, &mut out);
    auth::fill(&w, &mut out);
    command::fill(&w, &mut out);
    http::fill(&w, &mut out);
    intel::fill(&w, feeds, &mut out);
    behavior::fill(&w, &mut out);
    graph::fill(&w, &mut out);
    out.finish()
}

/// The feature values being filled, by [`F`] index.
pub(crate) struct Out([f64; FEATURE_COUNT]);

impl Out {
    pub(crate) fn set(&mut self, f: F, value: f64) {
        self.0[f as usize] = value;
    }

    /// A value that is not finite as an `f32` (possible only for absurd inputs, e.g. session
    /// durations near `f64::MAX` whose variance overflows) becomes 0, so the invariant holds
    /// and no extreme value reaches a model.
    fn finish(self) -> FeatureVector {
        let mut v = FeatureVector([0.0f32; FEATURE_COUNT]);
        for (slot, x) in v.0.iter_mut().zip(self.0) {
            let y = x as f32;
            *slot = if y.is_finite() { y } else { 0.0 };
        }
        v
    }
}

/// One session (events sharing a sensor and session id).
pub(crate) struct Session {
    /// Time of the first and last event, µs.
    pub(crate) first: i64,
    pub(crate) last: i64,
    /// The duration of its `session_closed` or flow event, if any (seconds, finite, ≥ 0).
    pub(crate) closed: Option<f64>,
    /// Whether it holds anything beyond connect/close/client info (for a flow: an
    /// application protocol the monitor recognised).
    pub(crate) active: bool,
    /// Hash of the ordered kinds and commands of its events.
    pub(crate) signature: u64,
}

impl Session {
    /// Duration in seconds: the closed duration, else last − first.
    pub(crate) fn duration(&self) -> f64 {
        self.closed.unwrap_or_else(|| span_secs(self.first, self.last))
    }
}

/// Counts and sums over the whole window, gathered in one pass.
#[derive(Default)]
pub(crate) struct Tally {
    /// Events per `EventKind` (by discriminant).
    pub(crate) kinds: [usize; EventKind::ALL.len()],
    /// Events per `Transport` (by discriminant).
    pub(crate) transports: [usize; Transport::Other as usize + 1],
    /// Events per `AppProto` (by discriminant).
    pub(crate) apps: [usize; AppProto::Other as usize + 1],
    /// Σ bytes_out and Σ bytes_in over all events.
    pub(crate) bytes_out: f64,
    pub(crate) bytes_in: f64,
    /// The same sums over events whose dst_ip is a public address.
    pub(crate) public_out: f64,
    pub(crate) public_in: f64,
    /// Every dst_port and src_port, sorted.
    pub(crate) dst_ports: Vec<u16>,
    pub(crate) src_ports: Vec<u16>,
}

impl Tally {
    pub(crate) fn kind(&self, k: EventKind) -> usize {
        self.kinds[k as usize]
    }
}

/// A window in canonical order, with what several groups share.
pub(crate) struct Window<'a> {
    /// The events, sorted by [`Event::canonical_cmp`].
    pub(crate) ev: Vec<&'a Event>,
    /// Event times, µs since the epoch, in the same order.
    pub(crate) us: Vec<i64>,
    /// The n − 1 gaps between consecutive times, seconds.
    pub(crate) gaps: Vec<f64>,
    /// Each event's session key ([`session_key`]), in the same order.
    pub(crate) session_keys: Vec<Option<u64>>,
    /// Sessions, in order of their key.
    pub(crate) sessions: Vec<Session>,
    /// The most frequent source address (smallest on a tie).
    pub(crate) entity: Option<IpAddr>,
    /// Window-wide counts.
    pub(crate) tally: Tally,
}

impl<'a> Window<'a> {
    pub(crate) fn new(events: &'a [Event]) -> Self {
        let mut ev: Vec<&Event> = events.iter().collect();
        // Compare times inline: only ties need the full comparison.
        if !ev.is_sorted_by(|a, b| {
            a.timestamp < b.timestamp || (a.timestamp == b.timestamp && a.canonical_cmp(b).is_le())
        }) {
            ev.sort_unstable_by(|a, b| a.canonical_cmp(b));
        }
        let us: Vec<i64> = ev.iter().map(|e| e.timestamp.as_micros()).collect();
        let gaps = us.windows(2).map(|p| span_secs(p[0], p[1])).collect();
        let session_keys: Vec<Option<u64>> = ev.iter().map(|e| session_key(e)).collect();
        let sessions = sessions(&ev, &session_keys, &us);
        let entity = entity(&ev);
        let tally = tally(&ev);
        Self { ev, us, gaps, session_keys, sessions, entity, tally }
    }

    pub(crate) fn n(&self) -> usize {
        self.ev.len()
    }
}

fn tally(ev: &[&Event]) -> Tally {
    let mut t = Tally {
        dst_ports: Vec::with_capacity(ev.len()),
        src_ports: Vec::with_capacity(ev.len()),
        ..Tally::default()
    };
    for e in ev {
        t.kinds[e.kind as usize] += 1;
        t.transports[e.transport as usize] += 1;
        t.apps[e.app_proto as usize] += 1;
        let (out, inn) =
            (e.bytes_out.map_or(0.0, |b| b as f64), e.bytes_in.map_or(0.0, |b| b as f64));
        t.bytes_out += out;
        t.bytes_in += inn;
        if e.dst_ip.is_some_and(|ip| !is_internal(ip)) {
            t.public_out += out;
            t.public_in += inn;
        }
        t.dst_ports.extend(e.dst_port);
        t.src_ports.extend(e.src_port);
    }
    t.dst_ports.sort_unstable();
    t.src_ports.sort_unstable();
    t
}

/// The hash identifying an event's session, if it has one (sensor and session id).
fn session_key(e: &Event) -> Option<u64> {
    let s = e.session.as_deref()?;
    Some(combine(hash(e.sensor.as_deref().unwrap_or("")), hash(s)))
}

/// What a session needs of one of its events, copied out in one sequential pass so that
/// grouping by session (a random order) touches only this small record, not the events.
struct Visit {
    key: u64,
    index: u32,
    kind: EventKind,
    /// Hash of the trimmed command of a command event, else 0.
    command: u64,
    /// The duration of a `session_closed` or flow event (finite, ≥ 0), else -1.
    closed: f64,
    /// Whether the event is content: anything but connect/close/client info, a flow only
    /// when its application protocol is known (data went both ways).
    content: bool,
}

fn sessions(ev: &[&Event], keys: &[Option<u64>], us: &[i64]) -> Vec<Session> {
    let mut visits: Vec<Visit> = ev
        .iter()
        .zip(keys)
        .enumerate()
        .filter_map(|(i, (e, key))| {
            let is_command = matches!(e.kind, EventKind::Command | EventKind::CommandFailed);
            Some(Visit {
                key: (*key)?,
                index: i as u32,
                kind: e.kind,
                command: e.command.as_deref().filter(|_| is_command).map_or(0, |c| hash(c.trim())),
                closed: e
                    .duration
                    .filter(|d| {
                        matches!(e.kind, EventKind::SessionClosed | EventKind::Flow)
                            && d.is_finite()
                            && *d >= 0.0
                    })
                    .unwrap_or(-1.0),
                content: match e.kind {
                    EventKind::Flow => e.app_proto != AppProto::Unknown,
                    k => !matches!(
                        k,
                        EventKind::SessionConnect
                            | EventKind::SessionClosed
                            | EventKind::ClientVersion
                            | EventKind::Other
                    ),
                },
            })
        })
        .collect();
    visits.sort_unstable_by_key(|v| (v.key, v.index));
    let mut out = Vec::new();
    for group in visits.chunk_by(|a, b| a.key == b.key) {
        let mut sig = 0u64;
        let mut closed: Option<f64> = None;
        let mut active = false;
        for v in group {
            sig = combine(sig, v.kind as u64);
            if v.command != 0 {
                sig = combine(sig, v.command);
            }
            if v.closed >= 0.0 {
                closed = Some(closed.map_or(v.closed, |c: f64| c.max(v.closed)));
            }
            active |= v.content;
        }
        out.push(Session {
            first: us[group[0].index as usize],
            last: us[group[group.len() - 1].index as usize],
            closed,
            active,
            signature: sig,
        });
    }
    out
}

fn entity(ev: &[&Event]) -> Option<IpAddr> {
    let first = ev.first()?.src_ip;
    if ev.iter().all(|e| e.src_ip == first) {
        return Some(first);
    }
    let mut ips: Vec<IpAddr> = ev.iter().map(|e| e.src_ip).collect();
    ips.sort_unstable();
    // Most frequent; on a tie the first run (smallest address) wins.
    ips.chunk_by(|a, b| a == b)
        .fold(
            (0, None),
            |best, run| if run.len() > best.0 { (run.len(), Some(run[0])) } else { best },
        )
        .1
}

/// `(hash, value)` pairs sorted by hash, so equal values form runs: each distinct string is
/// analysed once and weighted by its run length.
pub(crate) fn hashed_runs<'a>(values: impl Iterator<Item = &'a str>) -> Vec<(u64, &'a str)> {
    let mut v: Vec<(u64, &str)> = values.map(|s| (hash(s), s)).collect();
    v.sort_unstable_by_key(|p| p.0);
    v
}

/// Seconds from `a` to `b` (µs), without overflow for any pair of timestamps.
pub(crate) fn span_secs(a: i64, b: i64) -> f64 {
    (i128::from(b) - i128::from(a)) as f64 / 1e6
}

/// ln(1 + x).
pub(crate) fn ln1p(x: f64) -> f64 {
    x.ln_1p()
}

/// `num / den`, 0 when `den` is 0.
pub(crate) fn share(num: usize, den: usize) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

/// Shannon entropy in bits of a distribution given by counts summing to `total`.
pub(crate) fn entropy_bits(counts: impl Iterator<Item = usize>, total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let t = total as f64;
    let h: f64 = counts.filter(|&c| c > 0).map(|c| c as f64 / t).map(|p| -p * p.log2()).sum();
    h.max(0.0)
}

/// Lengths of the runs of equal values in a sorted slice.
pub(crate) fn runs<T: PartialEq>(sorted: &[T]) -> impl Iterator<Item = usize> + '_ {
    sorted.chunk_by(|a, b| a == b).map(<[T]>::len)
}

/// Number of distinct values; sorts `values`.
pub(crate) fn distinct<T: Ord>(values: &mut [T]) -> usize {
    values.sort_unstable();
    runs(values).count()
}

/// Mean and population standard deviation; `(0, 0)` for no values.
pub(crate) fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.max(0.0).sqrt())
}

/// A 64-bit hash of a byte string, 8 bytes per step, finished with the splitmix64 mixer.
/// Not for hash tables facing attackers: only for equality within one window.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let step = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(29);
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = step(h, u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(buf));
    }
    mix(h)
}

/// splitmix64's finaliser.
pub(crate) fn mix(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A hash of a string.
pub(crate) fn hash(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

/// A hash of an ordered pair of hashes.
pub(crate) fn combine(a: u64, b: u64) -> u64 {
    mix(a.rotate_left(17) ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A hash of an address.
pub(crate) fn hash_ip(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => mix(u64::from(u32::from(v4)) | 1 << 40),
        IpAddr::V6(v6) => {
            let x = u128::from(v6);
            combine(x as u64, (x >> 64) as u64)
        }
    }
}

/// The host of an absolute URL (`scheme://[user@]host[:port]/...`), lower-cased by the
/// caller if needed; `None` for a path.
pub(crate) fn url_host(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// The path of a URL or request target, without query string or fragment.
pub(crate) fn url_path(url: &str) -> &str {
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    };
    rest.split(['?', '#']).next().unwrap_or(rest)
}

/// Whether an address is internal: private, loopback, link-local, CGNAT (IPv4); loopback,
/// unique-local, link-local (IPv6).
pub(crate) fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            v6.is_loopback() || (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(url_host("http://user@Mdb7.cn:8081/exp?x"), Some("Mdb7.cn"));
        assert_eq!(url_host("https://[2001:db8::1]:443/"), Some("2001:db8::1"));
        assert_eq!(url_host("/index.php"), None);
        assert_eq!(url_path("http://a.b/c/d?x=1"), "/c/d");
        assert_eq!(url_path("http://a.b"), "/");
        assert_eq!(url_path("/login.php?user=x#f"), "/login.php");
        assert!(is_internal("172.17.0.3".parse().unwrap()));
        assert!(is_internal("100.100.0.1".parse().unwrap()));
        assert!(is_internal("fd00::1".parse().unwrap()));
        assert!(!is_internal("8.8.8.8".parse().unwrap()));
        assert!(!is_internal("100.128.0.1".parse().unwrap()));
        assert_eq!(entropy_bits([1, 1, 1, 1].into_iter(), 4), 2.0);
        assert_eq!(entropy_bits(std::iter::empty(), 0), 0.0);
        assert_eq!(mean_std(&[1.0, 3.0]), (2.0, 1.0));
        assert_eq!(distinct(&mut [3, 1, 3, 2]), 3);
        assert_eq!(span_secs(i64::MIN, i64::MAX), 18_446_744_073_709.55);
    }
}
