//! Integration tests of vigil-features: parsers on fixtures and on the real Cowrie logs,
//! threat-intel feeds, every feature group on hand-built windows with hand-computed
//! answers, the extractor's invariants (order, finiteness, no constant or duplicate
//! column), property tests, and the generated `docs/FEATURES.md`.

mod docs;
mod fuzz;
mod groups;
mod intel;
mod invariants;
mod parsers;
mod props;
mod real;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use vigil_features::{Event, EventKind, FeatureVector, FeedKind, Intel, Timestamp, extract};

/// A fixture in `fixtures/` of the workspace.
fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(relative)
}

/// A file of the shared datasets next to the workspace; fails with a clear message if absent.
fn shared(relative: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    let path = root.join(relative);
    assert!(
        path.is_file(),
        "shared dataset file {} is missing: these tests expect the datasets at {} \
         (CARGO_MANIFEST_DIR/../../../shared/datasets)",
        path.display(),
        root.display()
    );
    path
}

/// Monday 2018-05-07T00:00:00Z, the origin of the hand-built windows.
const MONDAY: i64 = 1_525_651_200;

/// The source of the hand-built windows.
fn src() -> IpAddr {
    "192.0.2.10".parse().unwrap()
}

/// An event `secs` seconds after [`MONDAY`] (fractions allowed) from [`src`].
fn ev(secs: f64, kind: EventKind) -> Event {
    let us = MONDAY * 1_000_000 + (secs * 1e6).round() as i64;
    Event::new(Timestamp::from_micros(us).unwrap(), src(), kind)
}

/// Features with no threat intel.
fn features(events: &[Event]) -> FeatureVector {
    extract(events, &Intel::new())
}

/// Asserts the named features of `events` (no intel) against hand-computed values.
fn check(events: &[Event], expected: &[(&str, f64)]) {
    check_vector(&features(events), expected);
}

fn check_vector(v: &FeatureVector, expected: &[(&str, f64)]) {
    let mut wrong = Vec::new();
    for &(name, want) in expected {
        let got = f64::from(v.get(name).unwrap_or_else(|e| panic!("{e}")));
        // Values are stored as f32.
        if (got - want).abs() > 1e-6 * want.abs().max(1.0) {
            wrong.push(format!("{name}: got {got}, expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// ln(1 + x), as the formulas write it.
fn ln1p(x: f64) -> f64 {
    x.ln_1p()
}

/// Shannon entropy in bits of a distribution given by counts.
fn entropy(counts: &[usize]) -> f64 {
    let total: usize = counts.iter().sum();
    counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / total as f64).map(|p| -p * p.log2()).sum()
}

/// Every fixture feed loaded into one bundle.
fn fixture_intel() -> Intel {
    let intel = Intel::new();
    for (kind, file) in [
        (FeedKind::TorExits, "intel/tor_exit_addresses.txt"),
        (FeedKind::C2, "intel/feodo_c2.csv"),
        (FeedKind::Blocklist, "intel/blocklist.netset"),
        (FeedKind::Reputation, "intel/abuseipdb.csv"),
        (FeedKind::Asn, "intel/ip2asn.tsv"),
        (FeedKind::AsnReputation, "intel/asn_reputation.csv"),
        (FeedKind::DomainAges, "intel/domain_ages.csv"),
    ] {
        intel.load(kind, fixture(file)).unwrap_or_else(|e| panic!("{e}"));
    }
    intel
}
