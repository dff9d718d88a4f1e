//! Suricata EVE JSON lines (`eve.json`).
//!
//! | `event_type` | kind | fields used |
//! |---|---|---|
//! | `alert` | IdsAlert | `alert.signature`, `alert.category`, `alert.severity`; `http.*` when present |
//! | `flow`, `netflow` | Flow | `flow.bytes_toserver` → `bytes_out`, `flow.bytes_toclient` → `bytes_in`, `flow.start`/`flow.end` → `duration` (else `flow.age`) |
//! | `http` | HttpRequest | `http.http_method`, `http.url`, `http.hostname` → `dst_host`, `http.status`, `http.length` → `bytes_in`, `http.http_user_agent` → `client` |
//! | `ssh` | ClientVersion | `ssh.client.software_version` (else `proto_version`) → `client` |
//! | `stats` | (skipped: it has no source address) | |
//! | anything else (`dns`, `tls`, `fileinfo`, `anomaly`, ...) | Other | `event_id` = `suricata.<event_type>`; `tls.sni` → `dst_host` |
//!
//! Always: `timestamp`, `src_ip`, `src_port`, `dest_ip`, `dest_port`, `proto` → `transport`,
//! `app_proto` (or the event type for `http`/`ssh`) → `app_proto`, `flow_id` → `session`,
//! `host` → `sensor`.

use serde::Deserialize;

use super::value::{Num, Text, Time, destination, source_ip};
use super::{LineResult, json_reason};
use crate::{AppProto, Event, EventKind, Transport};

#[derive(Deserialize)]
struct Line<'a> {
    timestamp: Option<Time>,
    #[serde(borrow)]
    event_type: Option<Text<'a>>,
    #[serde(borrow)]
    src_ip: Option<Text<'a>>,
    src_port: Option<Num<u16>>,
    #[serde(borrow)]
    dest_ip: Option<Text<'a>>,
    dest_port: Option<Num<u16>>,
    #[serde(borrow)]
    proto: Option<Text<'a>>,
    #[serde(borrow)]
    app_proto: Option<Text<'a>>,
    #[serde(borrow)]
    flow_id: Option<Text<'a>>,
    #[serde(borrow)]
    host: Option<Text<'a>>,
    #[serde(borrow)]
    alert: Option<Alert<'a>>,
    #[serde(borrow)]
    http: Option<HttpFields<'a>>,
    flow: Option<Flow>,
    #[serde(borrow)]
    ssh: Option<Ssh<'a>>,
    #[serde(borrow)]
    tls: Option<Tls<'a>>,
}

#[derive(Deserialize)]
struct Alert<'a> {
    #[serde(borrow)]
    signature: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
    severity: Option<Num<u8>>,
}

#[derive(Deserialize)]
struct HttpFields<'a> {
    #[serde(borrow)]
    hostname: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    http_method: Option<Text<'a>>,
    #[serde(borrow)]
    http_user_agent: Option<Text<'a>>,
    status: Option<Num<u16>>,
    length: Option<Num<u64>>,
}

#[derive(Deserialize)]
struct Flow {
    bytes_toserver: Option<Num<u64>>,
    bytes_toclient: Option<Num<u64>>,
    start: Option<Time>,
    end: Option<Time>,
    age: Option<Num<f64>>,
}

#[derive(Deserialize)]
struct Ssh<'a> {
    #[serde(borrow)]
    client: Option<SshEnd<'a>>,
}

#[derive(Deserialize)]
struct SshEnd<'a> {
    #[serde(borrow)]
    software_version: Option<Text<'a>>,
    #[serde(borrow)]
    proto_version: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Tls<'a> {
    #[serde(borrow)]
    sni: Option<Text<'a>>,
}

pub(super) fn parse_line(line: &[u8]) -> LineResult {
    let l: Line<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    let event_type = l.event_type.as_ref().ok_or("missing event_type")?.as_str();
    if event_type == "stats" {
        return Ok(None);
    }
    let ts = l.timestamp.ok_or("missing timestamp")?.0;
    let src = source_ip("src_ip", l.src_ip.as_ref())?;
    let kind = match event_type {
        "alert" => EventKind::IdsAlert,
        "flow" | "netflow" => EventKind::Flow,
        "http" => EventKind::HttpRequest,
        "ssh" => EventKind::ClientVersion,
        _ => EventKind::Other,
    };
    let mut e = Event::new(ts, src, kind);
    e.src_port = l.src_port.and_then(|p| p.0);
    (e.dst_ip, e.dst_host) = destination(l.dest_ip.as_ref());
    e.dst_port = l.dest_port.and_then(|p| p.0);
    e.transport = l.proto.as_ref().map_or(Transport::Unknown, |p| {
        Transport::from_name(p.as_str()).unwrap_or(Transport::Other)
    });
    let app = l.app_proto.as_ref().map_or(event_type, Text::as_str);
    e.app_proto = AppProto::from_name(app)
        .filter(|a| *a != AppProto::Other || l.app_proto.is_some())
        .unwrap_or_default();
    e.session = l.flow_id.as_ref().and_then(Text::non_empty);
    e.sensor = l.host.as_ref().and_then(Text::non_empty);
    if kind == EventKind::Other {
        e.event_id = Some(format!("suricata.{event_type}").into());
    }
    if let Some(a) = &l.alert {
        e.signature = a.signature.as_ref().and_then(Text::non_empty);
        e.category = a.category.as_ref().and_then(Text::non_empty);
        e.severity = a.severity.and_then(|s| s.0);
    }
    if let Some(h) = &l.http {
        e.method =
            h.http_method.as_ref().and_then(Text::non_empty).map(|m| m.to_ascii_uppercase().into());
        e.url = h.url.as_ref().and_then(Text::non_empty);
        if let Some(host) = h.hostname.as_ref().and_then(Text::non_empty) {
            e.dst_host = Some(host);
        }
        e.client = h.http_user_agent.as_ref().and_then(Text::non_empty);
        e.status = h.status.and_then(|s| s.0);
        e.bytes_in = h.length.and_then(|s| s.0);
    }
    if let Some(f) = &l.flow {
        e.bytes_out = f.bytes_toserver.and_then(|b| b.0);
        e.bytes_in = f.bytes_toclient.and_then(|b| b.0).or(e.bytes_in);
        e.duration = match (f.start, f.end) {
            (Some(s), Some(t)) if t.0 >= s.0 => {
                Some((t.0.as_micros() - s.0.as_micros()) as f64 / 1e6)
            }
            _ => f.age.and_then(|a| a.0).filter(|a| *a >= 0.0),
        };
    }
    if let Some(client) = l.ssh.as_ref().and_then(|s| s.client.as_ref()) {
        e.client = client
            .software_version
            .as_ref()
            .or(client.proto_version.as_ref())
            .and_then(Text::non_empty);
    }
    if let Some(sni) = l.tls.as_ref().and_then(|t| t.sni.as_ref()).and_then(Text::non_empty) {
        e.dst_host = Some(sni);
    }
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Format, parse_str};

    const ALERT: &str = r#"{"timestamp":"2017-07-07T15:30:00.123456+0000","flow_id":1234567,"in_iface":"eth0","event_type":"alert","src_ip":"45.146.164.110","src_port":51234,"dest_ip":"10.0.0.5","dest_port":22,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2},"host":"ids-1"}"#;

    #[test]
    fn alert_flow_http_ssh() {
        let flow = r#"{"timestamp":"2017-07-07T15:30:05+0000","flow_id":1234567,"event_type":"flow","src_ip":"45.146.164.110","src_port":51234,"dest_ip":"10.0.0.5","dest_port":53,"proto":"UDP","app_proto":"dns","flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":300,"bytes_toclient":120,"start":"2017-07-07T15:30:00.000000+0000","end":"2017-07-07T15:30:02.500000+0000","age":2,"state":"closed"}}"#;
        let http = r#"{"timestamp":"2017-07-07T15:30:06+0000","flow_id":99,"event_type":"http","src_ip":"45.146.164.110","dest_ip":"10.0.0.5","dest_port":80,"proto":"TCP","http":{"hostname":"example.com","url":"/wp-login.php","http_user_agent":"curl/7.1","http_method":"post","protocol":"HTTP/1.1","status":404,"length":162}}"#;
        let ssh = r#"{"timestamp":"2017-07-07T15:30:07+0000","event_type":"ssh","src_ip":"45.146.164.110","dest_ip":"10.0.0.5","proto":"TCP","ssh":{"client":{"proto_version":"2.0","software_version":"libssh2_1.4.3"},"server":{"proto_version":"2.0"}}}"#;
        let stats = r#"{"timestamp":"2017-07-07T15:30:08+0000","event_type":"stats","stats":{"uptime":10}}"#;
        let text = [ALERT, flow, http, ssh, stats].join("\n");
        let out = parse_str(Format::Suricata, &text);
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!((out.events.len(), out.skipped), (4, 1));
        let [a, f, h, s] = &out.events[..] else { unreachable!() };
        assert_eq!(a.kind, EventKind::IdsAlert);
        assert_eq!(a.timestamp.to_string(), "2017-07-07T15:30:00.123456Z");
        assert_eq!(
            (a.signature.as_deref(), a.severity),
            (Some("ET SCAN Potential SSH Scan"), Some(2))
        );
        assert_eq!(
            (a.transport, a.dst_port, a.session.as_deref(), a.sensor.as_deref()),
            (Transport::Tcp, Some(22), Some("1234567"), Some("ids-1"))
        );
        assert_eq!(
            (f.kind, f.transport, f.app_proto),
            (EventKind::Flow, Transport::Udp, AppProto::Dns)
        );
        assert_eq!((f.bytes_out, f.bytes_in, f.duration), (Some(300), Some(120), Some(2.5)));
        assert_eq!(
            (h.kind, h.method.as_deref(), h.url.as_deref(), h.status),
            (EventKind::HttpRequest, Some("POST"), Some("/wp-login.php"), Some(404))
        );
        assert_eq!(
            (h.dst_host.as_deref(), h.client.as_deref(), h.bytes_in, h.app_proto),
            (Some("example.com"), Some("curl/7.1"), Some(162), AppProto::Http)
        );
        assert_eq!(
            (s.kind, s.client.as_deref(), s.app_proto),
            (EventKind::ClientVersion, Some("libssh2_1.4.3"), AppProto::Ssh)
        );
    }

    #[test]
    fn other_types_keep_their_id_and_bad_lines_are_reported() {
        let dns = r#"{"timestamp":"2017-07-07T15:30:00+0000","event_type":"dns","src_ip":"10.0.0.9","dest_ip":"8.8.8.8","proto":"UDP","dns":{"type":"query","rrname":"example.com"}}"#;
        let text = [
            dns,
            r#"{"event_type":"alert","src_ip":"1.2.3.4"}"#,
            r#"{"timestamp":"2017-07-07T15:30:00+0000","src_ip":"1.2.3.4"}"#,
            "not json",
            ALERT,
        ]
        .join("\n");
        let out = parse_str(Format::Suricata, &text);
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[0].event_id.as_deref(), Some("suricata.dns"));
        assert_eq!(out.events[0].app_proto, AppProto::Dns);
        let lines: Vec<usize> = out.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        assert_eq!(out.rejected[0].reason, "missing timestamp");
        assert_eq!(out.rejected[1].reason, "missing event_type");
        assert!(out.rejected[2].reason.starts_with("invalid JSON"), "{}", out.rejected[2].reason);
    }
}
