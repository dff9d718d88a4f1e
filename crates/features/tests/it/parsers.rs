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
