//! The extractor's invariants on real and hand-built windows: every feature varies, no two
//! features are the same column, and the order of the events does not matter.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use vigil_features::{
    Event, FEATURE_COUNT, Format, Intel, extract, feature_names, group_by_source, parse_file,
};

use crate::{fixture, fixture_intel, groups, real::LOGS, shared};

/// Every window we have: each source of the three real Cowrie logs, each source of each
/// event fixture, and the hand-built windows of the group tests.
fn all_windows() -> Vec<Vec<Event>> {
    let mut windows = Vec::new();
    for log in LOGS {
        windows.extend(
            group_by_source(parse_file(Format::Cowrie, shared(log)).unwrap().events).into_values(),
        );
    }
    for name in [
        "cowrie.json",
        "suricata_eve.json",
        "ingest_envelope.json",
        "ingest_list.json",
        "web.jsonl",
        "generic.jsonl",
    ] {
        let out = parse_file(Format::Auto, fixture(&format!("events/{name}"))).unwrap();
        windows.extend(group_by_source(out.events).into_values());
    }
    windows.extend(groups::all());
    windows
}

#[test]
fn every_feature_varies_and_no_two_columns_are_equal() {
    let intel = fixture_intel();
    let rows: Vec<[f32; FEATURE_COUNT]> =
        all_windows().iter().map(|w| *extract(w, &intel).as_array()).collect();
    assert!(rows.len() > 1_700, "{} windows", rows.len());
    let names = feature_names();
    let column = |j: usize| rows.iter().map(|r| r[j].to_bits()).collect::<Vec<u32>>();
    let columns: Vec<Vec<u32>> = (0..FEATURE_COUNT).map(column).collect();
    let mut problems = Vec::new();
    for (j, c) in columns.iter().enumerate() {
        let mut distinct = c.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 2 {
            problems.push(format!("{} is constant ({})", names[j], f32::from_bits(c[0])));
        }
        for k in 0..j {
            if columns[k] == *c {
                problems.push(format!("{} equals {}", names[j], names[k]));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_order_of_events_does_not_matter() {
    let intel = fixture_intel();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut windows = all_windows();
    // The largest real windows and every hand-built one, plus one with exact duplicates
    // and ties.
    windows.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut chosen: Vec<Vec<Event>> = windows.iter().take(20).cloned().collect();
    chosen.extend(groups::all());
    let mut ties = groups::all().concat();
    for e in &mut ties {
        e.timestamp = ties_time();
    }
    ties.extend(ties.clone());
    chosen.push(ties);
    for w in &chosen {
        let want = extract(w, &intel);
        for _ in 0..3 {
            let mut shuffled = w.clone();
            shuffled.shuffle(&mut rng);
            let got = extract(&shuffled, &intel);
            let bits = |v: &vigil_features::FeatureVector| {
                v.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            };
            assert_eq!(bits(&got), bits(&want), "window of {} events", w.len());
        }
    }
}

fn ties_time() -> vigil_features::Timestamp {
    "2018-05-07T12:00:00Z".parse().unwrap()
}

#[test]
fn intel_is_read_from_a_snapshot_per_call() {
    // Without feeds the threat-intel features of a listed source are all "not listed".
    let w = &groups::all()[9];
    let bare = extract(w, &Intel::new());
    let with = extract(w, &fixture_intel());
    assert_eq!(bare.get("tor_exit_node").unwrap(), 0.0);
    assert_eq!(with.get("tor_exit_node").unwrap(), 1.0);
    assert_eq!(bare.get("domain_age_days").unwrap(), -1.0);
    // Everything else is the same.
    let differs: Vec<&str> =
        bare.iter().zip(with.iter()).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0).collect();
    assert_eq!(
        differs,
        [
            "ip_reputation",
            "tor_exit_node",
            "asn_reputation",
            "domain_age_days",
            "threat_intel_matches",
            "known_c2"
        ]
    );
}
