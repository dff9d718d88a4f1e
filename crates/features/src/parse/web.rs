//! Web-honeypot request lines; the accepted shape is documented on [`Format::Web`].

use serde::Deserialize;

#[cfg(doc)]
use super::Format;
use super::value::{Num, Text, Time, destination, parse_ip, truncate};
use super::{LineResult, json_reason};
use crate::{AppProto, Event, EventKind, Transport};

#[derive(Deserialize, Default)]
struct Fields<'a> {
    timestamp: Option<Time>,
    #[serde(borrow)]
    src_ip: Option<Text<'a>>,
    #[serde(borrow)]
    client_ip: Option<Text<'a>>,
    #[serde(borrow)]
    remote_addr: Option<Text<'a>>,
    src_port: Option<Num<u16>>,
    #[serde(borrow)]
    dst_ip: Option<Text<'a>>,
    #[serde(borrow)]
    server_ip: Option<Text<'a>>,
    dst_port: Option<Num<u16>>,
    port: Option<Num<u16>>,
    #[serde(borrow)]
    host: Option<Text<'a>>,
    #[serde(borrow)]
    method: Option<Text<'a>>,
    #[serde(borrow)]
    path: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    uri: Option<Text<'a>>,
    status_code: Option<Num<u16>>,
    status: Option<Num<u16>>,
    #[serde(borrow)]
    user_agent: Option<Text<'a>>,
    response_size: Option<Num<u64>>,
    bytes_sent: Option<Num<u64>>,
    request_size: Option<Num<u64>>,
    bytes_received: Option<Num<u64>>,
    #[serde(borrow)]
    session: Option<Text<'a>>,
    #[serde(borrow)]
    session_id: Option<Text<'a>>,
    #[serde(borrow)]
    sensor: Option<Text<'a>>,
    #[serde(borrow)]
    hostname: Option<Text<'a>>,
    #[serde(borrow)]
    raw: Option<Box<Fields<'a>>>,
}

pub(super) fn parse_line(line: &[u8]) -> LineResult {
    let top: Fields<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    let empty = Fields::default();
    let raw = top.raw.as_deref().unwrap_or(&empty);
    // Top-level value first, then the one in `raw`.
    macro_rules! pick {
        ($($f:ident),+) => { None$(.or(top.$f.as_ref()))+$(.or(raw.$f.as_ref()))+ };
    }
    macro_rules! num {
        ($($f:ident),+) => { None$(.or(top.$f.and_then(|v| v.0)))+$(.or(raw.$f.and_then(|v| v.0)))+ };
    }
    let ts = top.timestamp.or(raw.timestamp).ok_or("missing timestamp")?.0;
    let src_text = pick!(src_ip, client_ip, remote_addr).ok_or("missing src_ip")?;
    let src = parse_ip(src_text.as_str())
        .ok_or_else(|| format!("invalid src_ip {:?}", truncate(src_text.as_str())))?;
    let target = pick!(path, url, uri).and_then(Text::non_empty).ok_or("missing path")?;
    let mut e = Event::new(ts, src, EventKind::HttpRequest);
    e.transport = Transport::Tcp;
    e.app_proto = AppProto::Http;
    e.url = Some(target);
    e.src_port = num!(src_port);
    (e.dst_ip, e.dst_host) = destination(pick!(dst_ip, server_ip));
    if let Some(host) = pick!(host).and_then(Text::non_empty) {
        e.dst_host = Some(host);
    }
    e.dst_port = num!(dst_port, port);
    e.method = pick!(method).and_then(Text::non_empty).map(|m| m.to_ascii_uppercase().into());
    e.status = num!(status_code, status);
    e.client = pick!(user_agent).and_then(Text::non_empty);
    e.bytes_in = num!(response_size, bytes_sent);
    e.bytes_out = num!(request_size, bytes_received);
    e.session = pick!(session, session_id).and_then(Text::non_empty);
    e.sensor = pick!(sensor, hostname).and_then(Text::non_empty);
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Format, parse_str};

    #[test]
    fn flat_and_nested_requests() {
        let nested = r#"{"eventid":"webhoneypot.request","src_ip":"192.168.1.100","dst_port":80,"method":"GET","path":"/login.php?user=admin'OR'1'='1&pass=test","timestamp":"2025-09-14T03:48:49.576718Z","message":"HTTP sql_injection","raw":{"attack_type":"sql_injection","user_agent":"Mozilla/5.0 (compatible; AttackBot/1.0)","status_code":200,"response_size":4751}}"#;
        let flat = r#"{"timestamp":1757821729,"client_ip":"2001:db8::7","uri":"/.env","method":"head","status":404,"host":"shop.example","request_size":99,"sensor":"web-1"}"#;
        let out = parse_str(Format::Web, &format!("{nested}\n{flat}\n"));
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let [a, b] = &out.events[..] else { unreachable!() };
        assert_eq!(
            (a.kind, a.method.as_deref(), a.status, a.bytes_in),
            (EventKind::HttpRequest, Some("GET"), Some(200), Some(4751))
        );
        assert_eq!(a.url.as_deref(), Some("/login.php?user=admin'OR'1'='1&pass=test"));
        assert_eq!(a.client.as_deref(), Some("Mozilla/5.0 (compatible; AttackBot/1.0)"));
        assert_eq!((a.dst_port, a.app_proto), (Some(80), AppProto::Http));
        assert_eq!(
            (b.src_ip.to_string().as_str(), b.method.as_deref(), b.status),
            ("2001:db8::7", Some("HEAD"), Some(404))
        );
        assert_eq!(
            (b.dst_host.as_deref(), b.bytes_out, b.sensor.as_deref()),
            (Some("shop.example"), Some(99), Some("web-1"))
        );
    }

    #[test]
    fn missing_required_fields_are_reported() {
        let text = [
            r#"{"src_ip":"1.2.3.4","path":"/"}"#,
            r#"{"timestamp":1757821729,"path":"/"}"#,
            r#"{"timestamp":1757821729,"src_ip":"1.2.3.4"}"#,
            r#"{"timestamp":1757821729,"src_ip":"1.2.3.4","path":"/","status":"teapot"}"#,
        ]
        .join("\n");
        let out = parse_str(Format::Web, &text);
        let got: Vec<String> = out.rejected.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "line 1: missing timestamp",
                "line 2: missing src_ip",
                "line 3: missing path",
                "line 4: \"teapot\" is not an integer in 0..=65535"
            ]
        );
    }
}
