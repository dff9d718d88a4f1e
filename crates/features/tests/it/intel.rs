//! Threat-intel feeds: the fixture of each format, the real snapshots in
//! `../shared/datasets/intel`, and reloading while reading.

use std::net::IpAddr;
use std::sync::Arc;

use vigil_features::{AsnTable, FeedKind, Intel, IpSet, Reputation};

use crate::{fixture, fixture_intel, shared};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn read(path: std::path::PathBuf) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
}

#[test]
fn fixture_feeds() {
    let feeds = fixture_intel().snapshot();
    // Both Tor formats list the same kind of thing; the exit-addresses fixture has .66, .68
    // and a v6 exit.
    assert!(
        feeds.tor_exits.contains(ip("203.0.113.68"))
            && feeds.tor_exits.contains(ip("2001:db8:70::1"))
    );
    let bulk = IpSet::parse_tor_exits(&read(fixture("intel/tor_exits.txt"))).unwrap();
    assert!(bulk.contains(ip("203.0.113.67")) && !bulk.contains(ip("203.0.113.68")));
    assert!(
        feeds.c2.contains(ip("198.51.100.7"))
            && feeds.c2.contains(ip("203.0.113.200"))
            && feeds.c2.range_count() == 2
    );
    let block = &feeds.blocklists["blocklist"];
    assert!(block.contains(ip("198.51.100.127")) && !block.contains(ip("198.51.100.128")));
    assert!(block.contains(ip("2001:db8:bad:1::9")));
    assert_eq!(feeds.reputation.score(ip("198.51.100.23")), Some(37));
    assert_eq!(feeds.asn.lookup(ip("198.51.100.23")).map(|a| a.asn), Some(64497));
    assert_eq!(feeds.asn.lookup(ip("0.1.2.3")), None);
    assert_eq!(feeds.asn_score(ip("198.51.100.23")), Some(0.9));
    assert_eq!(feeds.asn_score(ip("2001:db8::1")), None);
    assert_eq!(
        feeds.domain_ages.created("cdn.mdb7.cn").unwrap().to_string(),
        "2018-05-10T06:30:00Z"
    );
    // 203.0.113.66: block list, Tor, reputation 100. 2001:db8:70::1: Tor, reputation 75.
    assert_eq!(feeds.matches(ip("203.0.113.66")), 3);
    assert_eq!(feeds.matches(ip("2001:db8:70::1")), 2);
    assert_eq!(feeds.matches(ip("192.0.2.10")), 0);
}

#[test]
fn real_feed_snapshots() {
    let level1 =
        IpSet::parse_netset(&read(shared("intel/firehol_level1_2026-08-22.netset"))).unwrap();
    // fullbogons: private space is listed; 8.8.8.8 is not.
    assert!(level1.contains(ip("10.1.2.3")) && level1.contains(ip("0.0.0.1")));
    assert!(!level1.contains(ip("8.8.8.8")));
    assert!(level1.contains(ip("1.10.16.1")));

    let firehol_tor =
        IpSet::parse_tor_exits(&read(shared("intel/firehol_tor_exits_2026-08-22.ipset"))).unwrap();
    let dnsel =
        IpSet::parse_tor_exits(&read(shared("intel/torproject_exit-addresses_2024-03-12.txt")))
            .unwrap();
    assert!(firehol_tor.contains(ip("2.56.10.36")) && firehol_tor.contains(ip("5.45.102.93")));
    assert!(dnsel.contains(ip("185.241.208.232")) && dnsel.contains(ip("5.45.102.93")));
    assert!(!dnsel.contains(ip("2.56.10.36")));

    // 750 rows, 728 distinct addresses (a few adjacent ones merge into one range).
    let feodo = IpSet::parse_feodo(&read(shared("intel/abusech_feodo_ipblocklist_2021-12-20.csv")))
        .unwrap();
    assert!(feodo.contains(ip("51.178.161.32")) && feodo.contains(ip("59.6.7.83")));
    assert!((700..=728).contains(&feodo.range_count()), "{}", feodo.range_count());

    let asn =
        AsnTable::parse_tsv(&read(shared("intel/iptoasn_ip2asn-v4_google-cloudflare-subset.tsv")))
            .unwrap();
    assert_eq!(asn.len(), 1_427);
    assert_eq!(asn.lookup(ip("8.8.8.8")).unwrap().asn, 15_169);
    assert_eq!(asn.lookup(ip("8.8.4.4")).unwrap().name, "GOOGLE - Google LLC");
    assert_eq!(asn.lookup(ip("1.1.1.1")).unwrap().asn, 7_497);
    assert_eq!(asn.lookup(ip("1.1.1.2")).unwrap().asn, 13_335);
    assert_eq!(asn.lookup(ip("9.9.9.9")), None);
}

#[test]
fn loading_real_files_by_kind() {
    let intel = Intel::new();
    intel
        .load(FeedKind::TorExits, shared("intel/torproject_exit-addresses_2024-03-12.txt"))
        .unwrap();
    intel.load(FeedKind::C2, shared("intel/abusech_feodo_ipblocklist_2021-12-20.csv")).unwrap();
    intel.load(FeedKind::Blocklist, shared("intel/firehol_level1_2026-08-22.netset")).unwrap();
    intel
        .load(FeedKind::Asn, shared("intel/iptoasn_ip2asn-v4_google-cloudflare-subset.tsv"))
        .unwrap();
    let f = intel.snapshot();
    assert!(f.blocklists.contains_key("firehol_level1_2026-08-22"));
    let exit = ip("185.241.208.232");
    assert!(f.tor_exits.contains(exit));
    assert_eq!(
        f.matches(exit),
        1 + usize::from(f.blocklists["firehol_level1_2026-08-22"].contains(exit))
    );
    // A reputation file in the wrong format is refused and names the file and line.
    let e = intel
        .load(FeedKind::Reputation, shared("intel/abusech_feodo_ipblocklist_2021-12-20.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("reputation feed ")
            && e.contains("abusech_feodo")
            && e.contains("line 9: no ipAddress column"),
        "{e}"
    );
    assert!(intel.snapshot().reputation.is_empty());
}

#[test]
fn readers_see_whole_bundles_while_feeds_are_reloaded() {
    // A writer alternates two consistent bundles; readers must never see a mix.
    let intel = Arc::new(Intel::new());
    let a = Arc::new(IpSet::parse_netset("192.0.2.0/24").unwrap());
    let b = Arc::new(IpSet::parse_netset("198.51.100.0/24").unwrap());
    let rep_a = Arc::new(Reputation::parse_csv("ip,score\n192.0.2.1,50\n").unwrap());
    let rep_b = Arc::new(Reputation::parse_csv("ip,score\n198.51.100.1,50\n").unwrap());
    let set = |first: bool| {
        let (s, r) = if first { (&a, &rep_a) } else { (&b, &rep_b) };
        let (s, r) = (Arc::clone(s), Arc::clone(r));
        move |f: &mut vigil_features::Feeds| {
            f.tor_exits = s;
            f.reputation = r;
        }
    };
    intel.update(set(true));
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for i in 0..2_000 {
                intel.update(set(i % 2 == 0));
            }
        });
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..2_000 {
                    let f = intel.snapshot();
                    let tor_a = f.tor_exits.contains(ip("192.0.2.1"));
                    let rep_a = f.reputation.score(ip("192.0.2.1")).is_some();
                    assert_eq!(tor_a, rep_a, "a reader saw half a reload");
                }
            });
        }
        writer.join().unwrap();
    });
}
