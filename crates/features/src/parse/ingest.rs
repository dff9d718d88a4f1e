//! mini-xdr ingest bodies, as posted to its `/ingest/cowrie` and `/ingest/multi` endpoints:
//! one event object, a JSON list of them, or the envelope
//! `{"source_type": "cowrie", "hostname": "demo-honeypot", "events": [ ... ]}`.
//! An input may hold several such documents (e.g. one per line).
//!
//! Event objects are read the way mini-xdr reads them, with its aliases, but keeping the
//! payload's time (mini-xdr stored the insert time instead):
//!
//! - source: `src_ip`, else `srcip`, else `peer_ip` (required); destination: `dst_ip` or
//!   `dstip`, `dst_port` or `dstport`; time: `timestamp` (required).
//! - `eventid` (else `event_type`) picks the kind: `cowrie.*` as in the Cowrie parser;
//!   `suricata.alert|flow|netflow|http|ssh`; `webhoneypot.*`, `http.request`, `http_request`
//!   → HttpRequest; `dionaea.connection*` → SessionConnect; `dionaea.download.*` →
//!   FileDownload; `osquery.process` → Command (`command_line`); anything else → Other.
//! - Each field is looked up at the top level, then in the nested `raw` object, where
//!   mini-xdr's own samples keep `session`, `protocol`, `signature`, `alert_category`,
//!   `status_code`, `user_agent`, `response_size`, `command_line` and `input`.
//! - A top-level `signature` is mini-xdr's HMAC over the event, not an IDS signature, and is
//!   ignored; the alert signature is `raw.signature`.
//! - In an envelope, `hostname` is the sensor of events that name none, and when
//!   `source_type` is `suricata` each element is a Suricata EVE record.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::value::{Num, Text, Time, destination, parse_ip, truncate};
use super::{LineResult, ParseOutcome, Rejected, cowrie, json_reason, push, suricata};
use crate::{AppProto, Event, EventKind, Transport};

/// Reads the whole input and parses every JSON document in it.
pub(super) fn parse(
    mut reader: impl std::io::BufRead,
    out: &mut ParseOutcome,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    reader.read_to_end(&mut buf)?;
    let mut lines = LineIndex::default();
    let mut pos = 0;
    while pos < buf.len() {
        let rest = &buf[pos..];
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<&RawValue>();
        loop {
            match stream.next() {
                None => {
                    pos = buf.len();
                    break;
                }
                Some(Ok(doc)) => {
                    let start = pos + offset_in(rest, doc.get());
                    document(doc, start, &buf, &mut lines, out);
                }
                Some(Err(e)) => {
                    // Report at the line where the broken value starts, then resume on the
                    // next line.
                    let at = pos + stream.byte_offset();
                    let start =
                        at + buf[at..].iter().take_while(|b| b.is_ascii_whitespace()).count();
                    let line = lines.line_of(&buf, start);
                    out.rejected.push(Rejected { line, reason: json_reason(&e) });
                    pos = buf[start..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(buf.len(), |i| start + i + 1);
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Byte offset of `inner` (a slice of `outer`) within `outer`.
fn offset_in(outer: &[u8], inner: &str) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

/// Maps byte offsets (visited in increasing order) to 1-based line numbers.
#[derive(Default)]
struct LineIndex {
    offset: usize,
    line: usize,
}

impl LineIndex {
    fn line_of(&mut self, buf: &[u8], offset: usize) -> usize {
        if offset < self.offset {
            *self = Self::default();
        }
        let end = offset.min(buf.len());
        // Each byte is visited once per input; a byte-count crate is not worth a dependency.
        #[allow(clippy::naive_bytecount)]
        let newlines = buf[self.offset..end].iter().filter(|&&b| b == b'\n').count();
        self.line += newlines;
        self.offset = end;
        self.line + 1
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    source_type: Option<Text<'a>>,
    #[serde(borrow)]
    hostname: Option<Text<'a>>,
    #[serde(borrow)]
    events: Option<&'a RawValue>,
}

/// What an envelope says about its events.
#[derive(Default, Clone, Copy)]
struct Context<'a> {
    source_type: Option<&'a str>,
    hostname: Option<&'a str>,
}

fn document(
    doc: &RawValue,
    start: usize,
    buf: &[u8],
    lines: &mut LineIndex,
    out: &mut ParseOutcome,
) {
    let text = doc.get();
    let line = lines.line_of(buf, start);
    match text.as_bytes().first() {
        Some(b'[') => list(doc, Context::default(), buf, lines, out),
        Some(b'{') => match serde_json::from_str::<Envelope<'_>>(text) {
            Ok(Envelope { events: Some(events), source_type, hostname }) => {
                let ctx = Context {
                    source_type: source_type.as_ref().map(Text::as_str),
                    hostname: hostname.as_ref().map(Text::as_str),
                };
                if events.get().starts_with('[') {
                    list(events, ctx, buf, lines, out);
                } else {
                    out.rejected.push(Rejected {
                        line,
                        reason: "envelope field events is not a list".into(),
                    });
                }
            }
            Ok(_) => push(out, line, event(text.as_bytes(), Context::default())),
            Err(e) => push(out, line, Err(json_reason(&e))),
        },
        _ => out.rejected.push(Rejected {
            line,
            reason: "expected an event object, a list of them, or an envelope".into(),
        }),
    }
}

fn list(
    doc: &RawValue,
    ctx: Context<'_>,
    buf: &[u8],
    lines: &mut LineIndex,
    out: &mut ParseOutcome,
) {
    match serde_json::from_str::<Vec<&RawValue>>(doc.get()) {
        Ok(items) => {
            for item in items {
                let line = lines.line_of(buf, offset_in(buf, item.get()));
                push(out, line, event(item.get().as_bytes(), ctx));
            }
        }
        Err(e) => {
            let line = lines.line_of(buf, offset_in(buf, doc.get()));
            out.rejected.push(Rejected { line, reason: json_reason(&e) });
        }
    }
}

#[derive(Deserialize, Default)]
struct Fields<'a> {
    #[serde(borrow)]
    eventid: Option<Text<'a>>,
    #[serde(borrow)]
    event_type: Option<Text<'a>>,
    timestamp: Option<Time>,
    #[serde(borrow)]
    src_ip: Option<Text<'a>>,
    #[serde(borrow)]
    srcip: Option<Text<'a>>,
    #[serde(borrow)]
    peer_ip: Option<Text<'a>>,
    src_port: Option<Num<u16>>,
    #[serde(borrow)]
    dst_ip: Option<Text<'a>>,
    #[serde(borrow)]
    dstip: Option<Text<'a>>,
    dst_port: Option<Num<u16>>,
    dstport: Option<Num<u16>>,
    #[serde(borrow)]
    protocol: Option<Text<'a>>,
    #[serde(borrow)]
    session: Option<Text<'a>>,
    #[serde(borrow)]
    sensor: Option<Text<'a>>,
    #[serde(borrow)]
    hostname: Option<Text<'a>>,
    #[serde(borrow)]
    username: Option<Text<'a>>,
    #[serde(borrow)]
    password: Option<Text<'a>>,
    #[serde(borrow)]
    input: Option<Text<'a>>,
    #[serde(borrow)]
    command: Option<Text<'a>>,
    #[serde(borrow)]
    command_line: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    path: Option<Text<'a>>,
    #[serde(borrow)]
    filename: Option<Text<'a>>,
    #[serde(borrow)]
    method: Option<Text<'a>>,
    status_code: Option<Num<u16>>,
    #[serde(borrow)]
    user_agent: Option<Text<'a>>,
    response_size: Option<Num<u64>>,
    duration: Option<Num<f64>>,
    #[serde(borrow)]
    data: Option<Text<'a>>,
    #[serde(borrow)]
    signature: Option<Text<'a>>,
    #[serde(borrow)]
    alert_category: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
    severity: Option<Num<u8>>,
    #[serde(borrow)]
    raw: Option<Box<Fields<'a>>>,
}

fn event(item: &[u8], ctx: Context<'_>) -> LineResult {
    if ctx.source_type == Some("suricata") {
        return suricata::parse_line(item);
    }
    let top: Fields<'_> = serde_json::from_slice(item).map_err(|e| json_reason(&e))?;
    let empty = Fields::default();
    let raw = top.raw.as_deref().unwrap_or(&empty);
    macro_rules! pick {
        ($($f:ident),+) => { None$(.or(top.$f.as_ref()))+$(.or(raw.$f.as_ref()))+ };
    }
    macro_rules! num {
        ($($f:ident),+) => { None$(.or(top.$f.and_then(|v| v.0)))+$(.or(raw.$f.and_then(|v| v.0)))+ };
    }
    let ts = top.timestamp.or(raw.timestamp).ok_or("missing timestamp")?.0;
    let src_text = pick!(src_ip, srcip, peer_ip).ok_or("missing src_ip")?;
    let src = parse_ip(src_text.as_str())
        .ok_or_else(|| format!("invalid src_ip {:?}", truncate(src_text.as_str())))?;
    let fallback_id = ctx.source_type.map(|s| format!("{s}.unknown"));
    let id = pick!(eventid, event_type)
        .map(Text::as_str)
        .or(fallback_id.as_deref())
        .unwrap_or("unknown");
    let kind = kind_of(id);
    let mut e = Event::new(ts, src, kind);
    let family = id.split('.').next().unwrap_or("");
    (e.transport, e.app_proto) = match family {
        "cowrie" => (Transport::Tcp, AppProto::Ssh),
        "webhoneypot" | "http" | "http_request" => (Transport::Tcp, AppProto::Http),
        _ => (Transport::Unknown, AppProto::Unknown),
    };
    if let Some(p) = pick!(protocol) {
        match Transport::from_name(p.as_str()) {
            Some(t) => e.transport = t,
            None => {
                if let Some(a) = AppProto::from_name(p.as_str()) {
                    e.app_proto = a;
                }
            }
        }
    }
    e.src_port = num!(src_port);
    (e.dst_ip, e.dst_host) = destination(pick!(dst_ip, dstip));
    e.dst_port = num!(dst_port, dstport);
    e.session = pick!(session).and_then(Text::non_empty);
    e.sensor = pick!(sensor, hostname)
        .map(Text::as_str)
        .or(ctx.hostname)
        .filter(|s| !s.is_empty())
        .map(Into::into);
    e.username = pick!(username).map(Text::boxed);
    e.password = pick!(password).map(Text::boxed);
    e.command = pick!(input, command, command_line).and_then(Text::non_empty);
    e.url = pick!(url, path, filename).and_then(Text::non_empty);
    e.method = pick!(method).and_then(Text::non_empty).map(|m| m.to_ascii_uppercase().into());
    e.status = num!(status_code);
    e.client = pick!(user_agent).and_then(Text::non_empty);
    e.bytes_in = num!(response_size);
    e.duration = num!(duration).filter(|d| *d >= 0.0);
    // Only the nested signature is an IDS signature; the top-level one is an HMAC.
    e.signature = raw.signature.as_ref().and_then(Text::non_empty);
    e.category = pick!(alert_category, category).and_then(Text::non_empty);
    e.severity = num!(severity);
    if kind == EventKind::Other {
        e.event_id = Some(id.into());
    }
    if let Some(data) = pick!(data).filter(|_| kind == EventKind::ForwardData) {
        cowrie::apply_forward_data(&mut e, data.as_str());
    }
    Ok(Some(e))
}

/// The kind of a mini-xdr event id (see the module docs).
fn kind_of(id: &str) -> EventKind {
    match id {
        _ if id.starts_with("cowrie.") => cowrie::kind_of(id),
        "suricata.alert" => EventKind::IdsAlert,
        "suricata.flow" | "suricata.netflow" => EventKind::Flow,
        "suricata.http" | "http.request" | "http_request" => EventKind::HttpRequest,
        "suricata.ssh" => EventKind::ClientVersion,
        _ if id.starts_with("webhoneypot") => EventKind::HttpRequest,
        _ if id.starts_with("dionaea.connection") => EventKind::SessionConnect,
        _ if id.starts_with("dionaea.download") => EventKind::FileDownload,
        "osquery.process" => EventKind::Command,
        _ => EventKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Format, parse_str};

    const LOGIN: &str = r#"{"eventid":"cowrie.login.failed","src_ip":"185.220.101.42","dst_port":2222,"username":"admin","password":"admin","timestamp":"2025-09-14T02:36:43.576442Z","message":"SSH login failed: admin@185.220.101.42","raw":{"session":"ssh_185.220.101.42_0","protocol":"ssh","auth_method":"password"}}"#;
    const ALERT: &str = r#"{"eventid":"suricata.alert","src_ip":"45.146.164.110","dst_port":22,"timestamp":"2025-09-14T04:06:17.576955Z","message":"Port scan detected","signature":"0123abcd","raw":{"alert_category":"Attempted Information Leak","signature":"ET SCAN Suspicious inbound to port 22","classification":"port-scan","protocol":"TCP","action":"alert"}}"#;
    const OSQUERY: &str = r#"{"eventid":"osquery.process","src_ip":"192.168.1.100","hostname":"WORKSTATION-01","timestamp":"2025-09-14T03:55:05.576996Z","raw":{"process_name":"svchost.exe","command_line":"powershell.exe -enc JABz","pid":8983}}"#;

    #[test]
    fn single_object_list_and_envelope() {
        let out = parse_str(Format::Ingest, LOGIN);
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let e = &out.events[0];
        assert_eq!(
            (e.kind, e.username.as_deref(), e.session.as_deref()),
            (EventKind::LoginFailed, Some("admin"), Some("ssh_185.220.101.42_0"))
        );
        assert_eq!(
            (e.transport, e.app_proto, e.dst_port),
            (Transport::Tcp, AppProto::Ssh, Some(2222))
        );
        assert_eq!(e.timestamp.to_string(), "2025-09-14T02:36:43.576442Z");

        let out = parse_str(Format::Ingest, &format!("[{LOGIN},\n {ALERT},\n {OSQUERY}]"));
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let [_, a, o] = &out.events[..] else { unreachable!() };
        assert_eq!(
            (a.kind, a.signature.as_deref(), a.category.as_deref()),
            (
                EventKind::IdsAlert,
                Some("ET SCAN Suspicious inbound to port 22"),
                Some("Attempted Information Leak")
            )
        );
        assert_eq!(a.transport, Transport::Tcp);
        assert_eq!(
            (o.kind, o.command.as_deref(), o.sensor.as_deref()),
            (EventKind::Command, Some("powershell.exe -enc JABz"), Some("WORKSTATION-01"))
        );

        let envelope = r#"{"source_type":"cowrie","hostname":"demo-honeypot",
 "events":[{"eventid":"cowrie.login.failed","src_ip":"203.0.113.100","dst_port":22,"username":"root",
            "password":"admin123","timestamp":"2025-...Z","session":"demo-session-001"},
           {"eventid":"cowrie.login.success","src_ip":"203.0.113.100","username":"root",
            "password":"admin123","timestamp":"2025-09-14T02:36:43Z","session":"demo-session-001"}]}"#;
        let out = parse_str(Format::Ingest, envelope);
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].sensor.as_deref(), Some("demo-honeypot"));
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].line, 2);
        assert!(
            out.rejected[0].reason.starts_with("invalid timestamp \"2025-...Z\""),
            "{}",
            out.rejected[0].reason
        );
    }

    #[test]
    fn suricata_envelopes_hold_eve_records() {
        let envelope = r#"{"source_type":"suricata","hostname":"ids","events":[{"timestamp":"2017-07-07T15:30:00+0000","event_type":"alert","src_ip":"1.2.3.4","dest_ip":"10.0.0.1","proto":"TCP","alert":{"signature":"X","severity":1}}]}"#;
        let out = parse_str(Format::Ingest, envelope);
        assert_eq!(out.events[0].kind, EventKind::IdsAlert);
        assert_eq!(out.events[0].severity, Some(1));
    }

    #[test]
    fn several_documents_and_broken_ones_are_reported_by_line() {
        let text = format!(
            "{LOGIN}\n{{\"eventid\": \"cowrie.login.failed\",\n{ALERT}\n42\n[{LOGIN}, {{\"src_ip\":\"1.2.3.4\"}}]\n{{\"events\": 3}}\n"
        );
        let out = parse_str(Format::Ingest, &text);
        assert_eq!(out.events.len(), 3);
        let got: Vec<(usize, &str)> =
            out.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0].0, 2);
        assert!(got[0].1.starts_with("invalid JSON"), "{got:?}");
        assert_eq!(got[1], (4, "expected an event object, a list of them, or an envelope"));
        assert_eq!(got[2], (5, "missing timestamp"));
        assert_eq!(got[3], (6, "envelope field events is not a list"));
    }
}
