//! The real logs in `../shared/datasets`: the three Cowrie logs parse completely, with the
//! event-id counts that `PROVENANCE.md` lists, and every source gets a vector; every Zeek log
//! parses with no rejected line.

use std::collections::BTreeMap;

use vigil_features::{
    EventKind, Format, Intel, ParseOutcome, extract_with, group_by_source, parse_file,
};

use crate::shared;

pub(crate) const LOGS: [&str; 3] = [
    "cowrie/cowrie_kareiva_2018-05-06_to_2018-07-02.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-04.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-15_partial.json.gz",
];

fn kind_counts(out: &ParseOutcome) -> BTreeMap<EventKind, usize> {
    let mut counts = BTreeMap::new();
    for e in &out.events {
        *counts.entry(e.kind).or_default() += 1;
    }
    counts
}

#[test]
fn real_cowrie_logs_parse_with_no_rejected_line() {
    use EventKind::*;
    // From PROVENANCE.md: kareiva has session.connect 22237, session.closed 22237,
    // client.version 20747, login.failed 15088, direct-tcpip.request 10747,
    // direct-tcpip.data 7770, login.success 2210, command.input 530, command.failed 42,
    // file_download 21 + file_download.failed 3, and as Other log.open 515, log.closed 493,
    // client.size 37, client.var 9.
    // (log, events, sources, events per kind)
    type Expected = (&'static str, usize, usize, Vec<(EventKind, usize)>);
    let expected: [Expected; 3] = [
        (
            LOGS[0],
            102_686,
            1_583,
            vec![
                (SessionConnect, 22_237),
                (SessionClosed, 22_237),
                (ClientVersion, 20_747),
                (LoginFailed, 15_088),
                (LoginSuccess, 2_210),
                (Command, 530),
                (CommandFailed, 42),
                (FileDownload, 24),
                (ForwardRequest, 10_747),
                (ForwardData, 7_770),
                (Other, 515 + 493 + 37 + 9),
            ],
        ),
        (
            // command.success (120) is Other, with log.open 6, log.closed 2, client.size 3.
            LOGS[1],
            3_833,
            66,
            vec![
                (SessionConnect, 260),
                (SessionClosed, 252),
                (ClientVersion, 254),
                (LoginFailed, 275),
                (LoginSuccess, 59),
                (Command, 99),
                (CommandFailed, 15),
                (FileDownload, 3),
                (ForwardRequest, 1_752),
                (ForwardData, 733),
                (Other, 120 + 6 + 2 + 3),
            ],
        ),
        (
            LOGS[2],
            6_073,
            92,
            vec![
                (SessionConnect, 171),
                (SessionClosed, 170),
                (ClientVersion, 166),
                (LoginFailed, 61),
                (LoginSuccess, 82),
                (Command, 141),
                (CommandFailed, 24),
                (FileDownload, 3),
                (ForwardRequest, 3_545),
                (ForwardData, 1_544),
                (Other, 155 + 5 + 5 + 1),
            ],
        ),
    ];
    let feeds = Intel::new().snapshot();
    for (log, events, sources, kinds) in expected {
        let out = parse_file(Format::Cowrie, shared(log)).unwrap();
        assert_eq!(out.rejected, vec![], "{log}");
        assert_eq!(out.skipped, 0, "{log}");
        assert_eq!(out.events.len(), events, "{log}");
        assert_eq!(kind_counts(&out), kinds.into_iter().collect(), "{log}");
        let windows = group_by_source(out.events);
        assert_eq!(windows.len(), sources, "{log}");
        for w in windows.values() {
            assert!(extract_with(w, &feeds).as_slice().iter().all(|v| v.is_finite()));
        }
    }
}

#[test]
fn auto_detection_reads_real_logs_as_cowrie() {
    let out = parse_file(Format::Auto, shared(LOGS[1])).unwrap();
    assert_eq!((out.format, out.events.len(), out.rejected.len()), (Format::Cowrie, 3_833, 0));
}

#[test]
fn real_sessions_and_tunnels_look_as_expected() {
    let out = parse_file(Format::Cowrie, shared(LOGS[2])).unwrap();
    // Tunnel targets given by name (e.g. httpbin.org) are kept as dst_host.
    let by_name = out
        .events
        .iter()
        .filter(|e| e.kind == EventKind::ForwardRequest && e.dst_host.is_some())
        .count();
    assert!(by_name > 0);
    assert!(
        out.events
            .iter()
            .filter(|e| e.kind == EventKind::ForwardRequest)
            .all(|e| e.dst_ip.is_some() != e.dst_host.is_some())
    );
    // Tunnelled HTTP requests were decoded.
    assert!(
        out.events
            .iter()
            .any(|e| e.kind == EventKind::ForwardData && e.method.as_deref() == Some("GET"))
    );
    // Every closed session carries its duration.
    assert!(
        out.events
            .iter()
            .filter(|e| e.kind == EventKind::SessionClosed)
            .all(|e| e.duration.is_some())
    );
}

/// The Zeek logs of `../shared/datasets/zeek` and their record counts.
const ZEEK_LOGS: [(&str, usize); 11] = [
    ("stratosphere_002-zeek-scenario-port-scanning_conn.log.gz", 4504),
    ("stratosphere_003-zeek-scenario-malicious_conn.log.gz", 361),
    ("stratosphere_003-zeek-scenario-malicious_dns.log.gz", 1),
    ("stratosphere_004-zeek-scenario-ssh_ssh.log.gz", 396),
    ("stratosphere_006-zeek-scenario-ssh_conn.log.gz", 18),
    ("stratosphere_006-zeek-scenario-ssh_ssh.log.gz", 10),
    ("stratosphere_008-zeek-mixed_conn.log.labeled.gz", 5663),
    ("stratosphere_008-zeek-mixed_http.log.labeled.gz", 342),
    ("stratosphere_008-zeek-mixed_notice.log.labeled.gz", 16),
    ("stratosphere_008-zeek-mixed_ssl.log.labeled.gz", 545),
    ("stratosphere_008-zeek-mixed_weird.log.labeled.gz", 56),
];

#[test]
fn real_zeek_logs_parse_completely_and_are_detected() {
    for (log, records) in ZEEK_LOGS {
        let path = shared(&format!("zeek/{log}"));
        let out = parse_file(Format::Zeek, &path).unwrap();
        assert!(out.rejected.is_empty(), "{log}: {:?}", &out.rejected[..out.rejected.len().min(3)]);
        assert_eq!(out.events.len() + out.skipped, records, "{log}");
        let auto = parse_file(Format::Auto, &path).unwrap();
        assert_eq!((auto.format, auto.events.len()), (Format::Zeek, out.events.len()), "{log}");
    }
    // The labelled day: every conn record a flow with a state, most with packet counts.
    let out = parse_file(Format::Zeek, shared(&format!("zeek/{}", ZEEK_LOGS[6].0))).unwrap();
    assert!(out.events.iter().all(|e| e.kind == EventKind::Flow && e.conn_state.is_some()));
    let s0 = out.events.iter().filter(|e| e.conn_state.as_deref() == Some("S0")).count();
    assert!(s0 > 1000, "{s0} S0 flows");
    // The SSH log: 396 records, some with a failed login outcome.
    let out = parse_file(Format::Zeek, shared(&format!("zeek/{}", ZEEK_LOGS[3].0))).unwrap();
    let counts = kind_counts(&out);
    assert_eq!(counts.values().sum::<usize>(), 396, "{counts:?}");
}

#[test]
fn real_tpot_logs_parse_completely_and_are_detected() {
    // (log, format, records, events): Heralding gives a connect, one event per attempt
    // and a close per session.
    for (log, format, records) in [
        ("tanner_sweetie-tpot_rotations30-16.json.gz", Format::Tanner, 1799),
        ("heralding_sweetie-tpot_rotations25-22.json.gz", Format::Heralding, 36_125),
        ("elasticpot_sweetie-tpot_rotations30-16.json.gz", Format::Elasticpot, 45),
        ("adbhoney_sweetie-tpot_rotations30-16.json.gz", Format::Adbhoney, 1744),
    ] {
        let path = shared(&format!("tpot/{log}"));
        let out = parse_file(Format::Auto, &path).unwrap();
        assert_eq!(out.format, format, "{log}");
        assert!(out.rejected.is_empty(), "{log}: {:?}", &out.rejected[..out.rejected.len().min(3)]);
        let sessions = out.events.iter().filter(|e| e.kind == EventKind::SessionConnect).count();
        let expect = if format == Format::Heralding { sessions } else { out.events.len() };
        assert_eq!(expect, records, "{log}");
        if format != Format::Adbhoney {
            assert_eq!(out.naive_times, out.events.len(), "{log}: its times have no offset");
        }
    }
}
