//! Cowrie JSON lines (`cowrie.json`): one event object per line.
//!
//! Event ids and what they become:
//!
//! | eventid | kind | fields used |
//! |---|---|---|
//! | `cowrie.session.connect` | SessionConnect | `src_port`, `dst_ip`, `dst_port`, `protocol` |
//! | `cowrie.session.closed` | SessionClosed | `duration` |
//! | `cowrie.client.version` | ClientVersion | `version` → `client` |
//! | `cowrie.login.failed` / `.success` | LoginFailed / LoginSuccess | `username`, `password` |
//! | `cowrie.command.input` | Command | `input` → `command` |
//! | `cowrie.command.failed` | CommandFailed | `input` → `command` |
//! | `cowrie.session.file_download` (and `.failed`) | FileDownload | `url` |
//! | `cowrie.session.file_upload` | FileUpload | `filename` (or `url`) → `url` |
//! | `cowrie.direct-tcpip.request` | ForwardRequest | `dst_ip` (address or name), `dst_port`, `src_port` |
//! | `cowrie.direct-tcpip.data` | ForwardData | `data` → `bytes_out` (decoded length); an HTTP request line → `method`, `url`; TLS/SMTP/HTTP → `app_proto` |
//! | `cowrie.http.request` | HttpRequest | `url`, `method` |
//! | anything else (`cowrie.command.success`, `cowrie.log.open`, `cowrie.client.size`, `cowrie.client.var`, `cowrie.client.kex`, unknown ids) | Other | `event_id`; `input` → `command` |
//!
//! Every event is TCP; the application protocol is the `protocol` field when present, else
//! Telnet when `system` names a Telnet transport, else SSH (Cowrie serves only the two).
//! `message`, `isError`, `shasum`, `outfile`, `ttylog` and the key-exchange lists are not
//! kept.

use serde::Deserialize;

use super::value::{Num, Text, Time, destination, source_ip};
use super::{LineResult, json_reason};
use crate::{AppProto, Event, EventKind, Transport};

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    eventid: Option<Text<'a>>,
    timestamp: Option<Time>,
    #[serde(borrow)]
    src_ip: Option<Text<'a>>,
    src_port: Option<Num<u16>>,
    #[serde(borrow)]
    dst_ip: Option<Text<'a>>,
    dst_port: Option<Num<u16>>,
    #[serde(borrow)]
    session: Option<Text<'a>>,
    #[serde(borrow)]
    sensor: Option<Text<'a>>,
    #[serde(borrow)]
    protocol: Option<Text<'a>>,
    #[serde(borrow)]
    system: Option<Text<'a>>,
    #[serde(borrow)]
    username: Option<Text<'a>>,
    #[serde(borrow)]
    password: Option<Text<'a>>,
    #[serde(borrow)]
    input: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    filename: Option<Text<'a>>,
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(borrow)]
    data: Option<Text<'a>>,
    duration: Option<Num<f64>>,
}

pub(super) fn parse_line(line: &[u8]) -> LineResult {
    let l: Line<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    let id = l.eventid.as_ref().ok_or("missing eventid")?;
    let ts = l.timestamp.ok_or("missing timestamp")?.0;
    let src = source_ip("src_ip", l.src_ip.as_ref())?;
    let kind = kind_of(id.as_str());
    let mut e = Event::new(ts, src, kind);
    e.transport = Transport::Tcp;
    e.app_proto = match (&l.protocol, &l.system) {
        (Some(p), _) => AppProto::from_name(p.as_str()).unwrap_or(AppProto::Ssh),
        (None, Some(s)) if s.as_str().contains("Telnet") => AppProto::Telnet,
        _ => AppProto::Ssh,
    };
    e.src_port = l.src_port.and_then(|p| p.0);
    (e.dst_ip, e.dst_host) = destination(l.dst_ip.as_ref());
    e.dst_port = l.dst_port.and_then(|p| p.0);
    e.session = l.session.as_ref().and_then(Text::non_empty);
    e.sensor = l.sensor.as_ref().and_then(Text::non_empty);
    e.username = l.username.as_ref().map(Text::boxed);
    e.password = l.password.as_ref().map(Text::boxed);
    e.command = l.input.as_ref().and_then(Text::non_empty);
    e.url = l.url.as_ref().or(l.filename.as_ref()).and_then(Text::non_empty);
    e.client = l.version.as_ref().and_then(Text::non_empty);
    e.duration = l.duration.and_then(|d| d.0).filter(|d| *d >= 0.0);
    if kind == EventKind::Other {
        e.event_id = Some(id.boxed());
    }
    if let Some(data) = &l.data {
        apply_forward_data(&mut e, data.as_str());
    }
    Ok(Some(e))
}

/// The kind of a Cowrie event id (see the module table).
pub(super) fn kind_of(eventid: &str) -> EventKind {
    match eventid {
        "cowrie.session.connect" => EventKind::SessionConnect,
        "cowrie.session.closed" => EventKind::SessionClosed,
        "cowrie.client.version" => EventKind::ClientVersion,
        "cowrie.login.failed" => EventKind::LoginFailed,
        "cowrie.login.success" => EventKind::LoginSuccess,
        "cowrie.command.input" => EventKind::Command,
        "cowrie.command.failed" => EventKind::CommandFailed,
        "cowrie.session.file_download" | "cowrie.session.file_download.failed" => {
            EventKind::FileDownload
        }
        "cowrie.session.file_upload" => EventKind::FileUpload,
        "cowrie.direct-tcpip.request" => EventKind::ForwardRequest,
        "cowrie.direct-tcpip.data" => EventKind::ForwardData,
        "cowrie.http.request" => EventKind::HttpRequest,
        _ => EventKind::Other,
    }
}

/// Reads the payload Cowrie logged for a tunnelled connection (a Python `repr` of bytes,
/// e.g. `'GET / HTTP/1.0\r\nHost: google.com\r\n\r\n'`): its decoded length becomes
/// `bytes_out`; an HTTP request line gives `method` and `url` (absolute, from `Host`);
/// a TLS record, SMTP greeting or HTTP request sets `app_proto`.
pub(super) fn apply_forward_data(e: &mut Event, data: &str) {
    let body = repr_body(data);
    e.bytes_out = Some(repr_len(body));
    if body.starts_with("\\x16\\x03") {
        e.app_proto = AppProto::Tls;
    } else if ["EHLO ", "HELO "].iter().any(|p| body.starts_with(p)) {
        e.app_proto = AppProto::Smtp;
    } else if let Some((method, target)) = request_line(body) {
        e.app_proto = AppProto::Http;
        e.method = Some(method.into());
        let url = match header(body, "host") {
            Some(host) if target.starts_with('/') => format!("http://{host}{target}"),
            _ => target.to_owned(),
        };
        e.url = Some(url.into());
    }
}

const METHODS: [&str; 9] =
    ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE"];

/// `(method, target)` when `body` starts with an HTTP request line.
pub(crate) fn request_line(body: &str) -> Option<(&str, &str)> {
    let (method, rest) = body.split_once(' ')?;
    if !METHODS.contains(&method) {
        return None;
    }
    let target = rest.split([' ', '\\']).next().filter(|t| !t.is_empty())?;
    Some((method, target))
}

/// The value of header `name` in an escaped request (`\r\n` written as four characters).
fn header<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.split("\\r\\n").skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim()).filter(|v| !v.is_empty())
    })
}

/// The inside of a Python bytes/str repr (`b'...'`, `'...'`, `"..."`), or the text as is.
fn repr_body(data: &str) -> &str {
    let d = data.strip_prefix('b').unwrap_or(data);
    for q in ['\'', '"'] {
        if let Some(inner) = d.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return inner;
        }
    }
    data
}

/// Bytes represented by a repr body: `\xNN` is one byte, `\n`-style escapes one byte.
fn repr_len(body: &str) -> u64 {
    let b = body.as_bytes();
    let (mut i, mut n) = (0, 0u64);
    while i < b.len() {
        i += match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'x')) if i + 3 < b.len() => 4,
            (b'\\', Some(_)) => 2,
            _ => 1,
        };
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Format, Rejected, parse_str};

    fn one(line: &str) -> Event {
        let out = parse_str(Format::Cowrie, line);
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.events.len(), 1);
        out.events.into_iter().next().unwrap()
    }

    #[test]
    fn login_connect_and_close() {
        let e = one(
            r#"{"eventid": "cowrie.login.failed", "username": "miner", "timestamp": "2018-05-06T22:33:22.698977Z", "message": "login attempt [miner/miner] failed", "system": "SSHService 'ssh-userauth' on HoneyPotSSHTransport,36,137.74.171.123", "isError": 0, "src_ip": "137.74.171.123", "session": "bed4ca4313ae", "password": "", "sensor": "920497a79896"}"#,
        );
        assert_eq!(e.kind, EventKind::LoginFailed);
        assert_eq!(e.timestamp.to_string(), "2018-05-06T22:33:22.698977Z");
        assert_eq!(e.src_ip.to_string(), "137.74.171.123");
        assert_eq!((e.username.as_deref(), e.password.as_deref()), (Some("miner"), Some("")));
        assert_eq!(
            (e.session.as_deref(), e.sensor.as_deref()),
            (Some("bed4ca4313ae"), Some("920497a79896"))
        );
        assert_eq!((e.transport, e.app_proto), (Transport::Tcp, AppProto::Ssh));

        let e = one(
            r#"{"eventid": "cowrie.session.connect", "src_ip": "88.223.26.58", "src_port": 52577, "timestamp": "2018-05-06T17:44:05.866769Z", "dst_ip": "172.17.0.3", "protocol": "telnet", "session": "173332e506ca", "dst_port": 2222, "sensor": "s"}"#,
        );
        assert_eq!(
            (e.kind, e.src_port, e.dst_port),
            (EventKind::SessionConnect, Some(52577), Some(2222))
        );
        assert_eq!(e.dst_ip, Some("172.17.0.3".parse().unwrap()));
        assert_eq!(e.app_proto, AppProto::Telnet);

        let e = one(
            r#"{"eventid": "cowrie.session.closed", "timestamp": "2018-05-06T17:44:05.943970Z", "src_ip": "88.223.26.58", "duration": 0.5, "session": "173332e506ca"}"#,
        );
        assert_eq!((e.kind, e.duration), (EventKind::SessionClosed, Some(0.5)));
    }

    #[test]
    fn forward_data_is_decoded() {
        let e = one(
            r#"{"eventid": "cowrie.direct-tcpip.data", "timestamp": "2017-11-04T14:00:46.326101Z", "src_ip": "109.236.91.85", "session": "0c532bbf11f8", "dst_port": 80, "dst_ip": "172.217.20.78", "data": "'GET / HTTP/1.0\\r\\nHost: google.com\\r\\n\\r\\n'"}"#,
        );
        assert_eq!(e.kind, EventKind::ForwardData);
        assert_eq!(
            (e.method.as_deref(), e.url.as_deref()),
            (Some("GET"), Some("http://google.com/"))
        );
        // "GET / HTTP/1.0" (14) + CRLF (2) + "Host: google.com" (16) + CRLF CRLF (4).
        assert_eq!(e.bytes_out, Some(36));
        assert_eq!(e.app_proto, AppProto::Http);

        let e = one(
            r#"{"eventid": "cowrie.direct-tcpip.data", "timestamp": "2017-11-04T14:00:46Z", "src_ip": "1.2.3.4", "dst_ip": "httpbin.org", "dst_port": 443, "data": "'\\x16\\x03\\x01\\x00'"}"#,
        );
        assert_eq!((e.app_proto, e.bytes_out), (AppProto::Tls, Some(4)));
        assert_eq!((e.dst_ip, e.dst_host.as_deref()), (None, Some("httpbin.org")));
    }

    #[test]
    fn unknown_ids_are_other_with_their_id() {
        let e = one(
            r#"{"eventid": "cowrie.client.kex", "timestamp": 1525628645, "src_ip": "1.2.3.4", "hassh": "x"}"#,
        );
        assert_eq!((e.kind, e.event_id.as_deref()), (EventKind::Other, Some("cowrie.client.kex")));
        let e = one(
            r#"{"eventid": "cowrie.command.success", "timestamp": 1525628645, "src_ip": "1.2.3.4", "input": "ls"}"#,
        );
        assert_eq!((e.kind, e.command.as_deref()), (EventKind::Other, Some("ls")));
    }

    #[test]
    fn bad_lines_are_reported_and_the_rest_parses() {
        let text = [
            r#"{"eventid":"cowrie.login.failed","timestamp":"2018-05-06T17:44:05Z","src_ip":"1.2.3.4","username":"root","password":"x"}"#,
            r#"{"eventid":"cowrie.login.failed","src_ip":"1.2.3.4"}"#,
            r#"{"eventid":"cowrie.login.failed","timestamp":"2018-05-06T17:44:05Z","src_ip":"1.2.3"}"#,
            r#"{"eventid":"cowrie.login.failed","timestamp":"yesterday","src_ip":"1.2.3.4"}"#,
            r#"{"eventid":"cowrie.session.connect","timestamp":"2018-05-06T17:44:05Z","src_ip":"1.2.3.4","dst_port":99999}"#,
            r#"{"timestamp":"2018-05-06T17:44:05Z","src_ip":"1.2.3.4"}"#,
            r#"{"eventid":"cowrie.log.open","timestamp":"2018-05-06T17:44"#,
            "",
            r#"{"eventid":"cowrie.login.success","timestamp":"2018-05-06T17:44:06Z","src_ip":"1.2.3.4","username":"root","password":"y"}"#,
        ]
        .join("\n");
        let out = parse_str(Format::Cowrie, &text);
        assert_eq!(out.events.len(), 2);
        let reasons: Vec<(usize, &str)> =
            out.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(
            reasons,
            vec![
                (2, "missing timestamp"),
                (3, "invalid src_ip \"1.2.3\""),
                (
                    4,
                    "invalid timestamp \"yesterday\": failed to parse four digit integer as year: invalid digit, expected 0-9 but got y"
                ),
                (5, "99999 is not an integer in 0..=65535"),
                (6, "missing eventid"),
                (7, "invalid JSON: EOF while parsing a string (column 58)"),
            ]
        );
        assert_eq!(out.rejected[0], Rejected { line: 2, reason: "missing timestamp".into() });
    }
}
