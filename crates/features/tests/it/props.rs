//! Property tests: no parser panics on any input, and extraction is finite and
//! order-independent on arbitrary windows.

use std::net::IpAddr;

use proptest::prelude::*;
use vigil_features::{
    AppProto, Event, EventKind, Format, Intel, Timestamp, Transport, extract, parse_lines,
    parse_str,
};

use crate::fixture_intel;

/// Field names of every format, so generated objects reach the parsers' code paths.
const KEYS: &[&str] = &[
    "eventid",
    "timestamp",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "session",
    "sensor",
    "protocol",
    "system",
    "username",
    "password",
    "input",
    "url",
    "filename",
    "version",
    "data",
    "duration",
    "event_type",
    "dest_ip",
    "dest_port",
    "proto",
    "app_proto",
    "flow_id",
    "host",
    "alert",
    "http",
    "flow",
    "ssh",
    "tls",
    "signature",
    "category",
    "severity",
    "hostname",
    "url",
    "http_method",
    "status",
    "length",
    "bytes_toserver",
    "bytes_toclient",
    "start",
    "end",
    "age",
    "client",
    "software_version",
    "kind",
    "method",
    "path",
    "uri",
    "status_code",
    "user_agent",
    "response_size",
    "raw",
    "events",
    "source_type",
    "srcip",
    "peer_ip",
    "command",
    "command_line",
    "bytes_in",
    "bytes_out",
    "transport",
    "event_id",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(|x| x.to_string()),
        prop_oneof![
            Just("2018-05-06T17:44:05.866769Z"),
            Just("192.0.2.1"),
            Just("2001:db8::1"),
            Just("cowrie.login.failed"),
            Just("cowrie.direct-tcpip.data"),
            Just("'GET / HTTP/1.0\\\\r\\\\nHost: a\\\\r\\\\n'"),
            Just("alert"),
            Just("flow"),
            Just("login_failed"),
            Just("suricata"),
            Just("1525628645"),
            Just("22"),
            Just("http://x.example/a?b=%2e%2e"),
        ]
        .prop_map(|s| format!("{s:?}")),
        ".{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ]
}

fn json() -> impl Strategy<Value = String> {
    scalar().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                let fields: Vec<String> =
                    kv.into_iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(json(), 0..6).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for format in Format::ALL {
            let out = parse_lines(format, &bytes[..]).unwrap();
            prop_assert!(out.rejected.iter().all(|r| r.line >= 1));
        }
    }

    #[test]
    fn parsers_never_panic_on_strings(text in ".{0,300}") {
        for format in Format::ALL {
            let _ = parse_str(format, &text);
        }
    }

    #[test]
    fn parsers_never_panic_on_json_like_input(text in document()) {
        let lines = text.lines().count();
        for format in Format::ALL {
            let out = parse_str(format, &text);
            prop_assert!(out.rejected.iter().all(|r| r.line >= 1 && r.line <= lines.max(1)), "{:?}", out.rejected);
            // Whatever parsed round-trips through the generic format.
            let again: String = out.events.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect();
            prop_assert_eq!(&parse_str(Format::Jsonl, &again).events, &out.events);
        }
    }
}

fn opt_text() -> impl Strategy<Value = Option<Box<str>>> {
    prop::option::of(prop_oneof![
        Just("root".to_owned()),
        Just(String::new()),
        ".{0,10}".prop_map(String::from),
        Just("../etc/passwd".to_owned())
    ])
    .prop_map(|s| s.map(String::into_boxed_str))
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
        prop::sample::select(vec![
            "203.0.113.66",
            "198.51.100.7",
            "10.0.0.1",
            "172.17.0.3",
            "192.0.2.10"
        ])
        .prop_map(|s| s.parse().unwrap()),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    let time = prop_oneof![
        (Timestamp::MIN.as_micros()..=Timestamp::MAX.as_micros()),
        (1_525_651_200_000_000i64..1_525_651_200_000_000 + 200_000_000_000),
    ]
    .prop_map(|us| Timestamp::from_micros(us).unwrap());
    let kind = prop::sample::select(EventKind::ALL.to_vec());
    let transport = prop::sample::select(vec![
        Transport::Unknown,
        Transport::Tcp,
        Transport::Udp,
        Transport::Icmp,
        Transport::Other,
    ]);
    let app = prop::sample::select(vec![
        AppProto::Unknown,
        AppProto::Ssh,
        AppProto::Http,
        AppProto::Tls,
        AppProto::Other,
    ]);
    let numbers = (
        prop::option::of(any::<u16>()),
        prop::option::of(any::<u16>()),
        prop::option::of(any::<u16>()),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::option::of(prop_oneof![any::<f64>(), 0.0..1e6]),
        prop::option::of(any::<u8>()),
    );
    let texts =
        (opt_text(), opt_text(), opt_text(), opt_text(), opt_text(), opt_text(), opt_text());
    (time, kind, ip(), prop::option::of(ip()), transport, app, numbers, texts).prop_map(
        |(
            ts,
            kind,
            src,
            dst,
            transport,
            app,
            (sp, dp, status, bin, bout, dur, sev),
            (session, sensor, user, pass, cmd, url, host),
        )| {
            let mut e = Event::new(ts, src, kind);
            (e.dst_ip, e.transport, e.app_proto) = (dst, transport, app);
            (e.src_port, e.dst_port, e.status, e.bytes_in, e.bytes_out, e.duration, e.severity) =
                (sp, dp, status, bin, bout, dur, sev);
            (e.session, e.sensor, e.username, e.password, e.command, e.url, e.dst_host) =
                (session, sensor, user, pass, cmd, url, host);
            e.method = e.url.as_ref().map(|_| "GET".into());
            e
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn extraction_is_finite_and_order_free(
        (events, shuffled) in prop::collection::vec(event(), 0..40).prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
    ) {
        let intel = fixture_intel();
        let a = extract(&events, &intel);
        prop_assert!(a.as_slice().iter().all(|x| x.is_finite()), "{:?}", a);
        let b = extract(&shuffled, &intel);
        let bits = |v: &vigil_features::FeatureVector| v.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&a), bits(&b));
        prop_assert!(extract(&events, &Intel::new()).as_slice().iter().all(|x| x.is_finite()));
    }
}
