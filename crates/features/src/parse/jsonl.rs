//! The generic JSONL format (the serde form of [`Event`]), documented on [`Format::Jsonl`].

use std::borrow::Cow;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::Format;
use super::value::{Num, Text, Time, parse_ip, truncate};
use super::{LineResult, json_reason};
use crate::{AppProto, Event, EventKind, Transport};

#[derive(Deserialize)]
struct InRecord<'a> {
    timestamp: Option<Time>,
    kind: Option<EventKind>,
    #[serde(borrow)]
    src_ip: Option<Text<'a>>,
    src_port: Option<Num<u16>>,
    #[serde(borrow)]
    dst_ip: Option<Text<'a>>,
    #[serde(borrow)]
    dst_host: Option<Text<'a>>,
    dst_port: Option<Num<u16>>,
    transport: Option<Transport>,
    app_proto: Option<AppProto>,
    #[serde(borrow)]
    protocol: Option<Text<'a>>,
    #[serde(borrow)]
    sensor: Option<Text<'a>>,
    #[serde(borrow)]
    session: Option<Text<'a>>,
    #[serde(borrow)]
    username: Option<Text<'a>>,
    #[serde(borrow)]
    password: Option<Text<'a>>,
    #[serde(borrow)]
    command: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    method: Option<Text<'a>>,
    status: Option<Num<u16>>,
    bytes_in: Option<Num<u64>>,
    bytes_out: Option<Num<u64>>,
    duration: Option<Num<f64>>,
    packets_in: Option<Num<u64>>,
    packets_out: Option<Num<u64>>,
    #[serde(borrow)]
    conn_state: Option<Text<'a>>,
    #[serde(borrow)]
    answer: Option<Text<'a>>,
    #[serde(borrow)]
    signature: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
    severity: Option<Num<u8>>,
    #[serde(borrow)]
    client: Option<Text<'a>>,
    #[serde(borrow)]
    event_id: Option<Text<'a>>,
}

impl InRecord<'_> {
    fn into_event(self) -> Result<Event, String> {
        let ts = self.timestamp.ok_or("missing timestamp")?.0;
        let kind = self.kind.ok_or("missing kind")?;
        let src = self.src_ip.as_ref().ok_or("missing src_ip")?;
        let src = parse_ip(src.as_str())
            .ok_or_else(|| format!("invalid src_ip {:?}", truncate(src.as_str())))?;
        let mut e = Event::new(ts, src, kind);
        e.src_port = self.src_port.and_then(|v| v.0);
        e.dst_ip = match &self.dst_ip {
            Some(d) => Some(
                parse_ip(d.as_str())
                    .ok_or_else(|| format!("invalid dst_ip {:?}", truncate(d.as_str())))?,
            ),
            None => None,
        };
        e.dst_host = self.dst_host.as_ref().and_then(Text::non_empty);
        e.dst_port = self.dst_port.and_then(|v| v.0);
        if let Some(p) = &self.protocol {
            match Transport::from_name(p.as_str()) {
                Some(t) => e.transport = t,
                None => e.app_proto = AppProto::from_name(p.as_str()).unwrap_or_default(),
            }
        }
        e.transport = self.transport.unwrap_or(e.transport);
        e.app_proto = self.app_proto.unwrap_or(e.app_proto);
        e.sensor = self.sensor.as_ref().and_then(Text::non_empty);
        e.session = self.session.as_ref().and_then(Text::non_empty);
        e.username = self.username.as_ref().map(Text::boxed);
        e.password = self.password.as_ref().map(Text::boxed);
        e.command = self.command.as_ref().and_then(Text::non_empty);
        e.url = self.url.as_ref().and_then(Text::non_empty);
        e.method =
            self.method.as_ref().and_then(Text::non_empty).map(|m| m.to_ascii_uppercase().into());
        e.status = self.status.and_then(|v| v.0);
        e.bytes_in = self.bytes_in.and_then(|v| v.0);
        e.bytes_out = self.bytes_out.and_then(|v| v.0);
        e.duration = self.duration.and_then(|v| v.0);
        e.packets_in = self.packets_in.and_then(|v| v.0);
        e.packets_out = self.packets_out.and_then(|v| v.0);
        e.conn_state = self.conn_state.as_ref().and_then(Text::non_empty);
        e.answer = self.answer.as_ref().and_then(Text::non_empty);
        e.signature = self.signature.as_ref().and_then(Text::non_empty);
        e.category = self.category.as_ref().and_then(Text::non_empty);
        e.severity = self.severity.and_then(|v| v.0);
        e.client = self.client.as_ref().and_then(Text::non_empty);
        e.event_id = self.event_id.as_ref().and_then(Text::non_empty);
        Ok(e)
    }
}

pub(super) fn parse_line(line: &[u8]) -> LineResult {
    let record: InRecord<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    record.into_event().map(Some)
}

#[derive(Serialize)]
struct OutRecord<'a> {
    timestamp: String,
    kind: EventKind,
    src_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<Transport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_proto: Option<AppProto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sensor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    packets_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    packets_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conn_state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    answer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<&'a str>,
}

impl Serialize for Event {
    /// The generic JSONL record (see the `jsonl` format); unset fields are left out.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        OutRecord {
            timestamp: self.timestamp.to_string(),
            kind: self.kind,
            src_ip: self.src_ip.to_string(),
            src_port: self.src_port,
            dst_ip: self.dst_ip.map(|ip| ip.to_string()),
            dst_host: self.dst_host.as_deref(),
            dst_port: self.dst_port,
            transport: (self.transport != Transport::Unknown).then_some(self.transport),
            app_proto: (self.app_proto != AppProto::Unknown).then_some(self.app_proto),
            sensor: self.sensor.as_deref(),
            session: self.session.as_deref(),
            username: self.username.as_deref(),
            password: self.password.as_deref(),
            command: self.command.as_deref(),
            url: self.url.as_deref(),
            method: self.method.as_deref(),
            status: self.status,
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            duration: self.duration.filter(|d| d.is_finite()),
            packets_in: self.packets_in,
            packets_out: self.packets_out,
            conn_state: self.conn_state.as_deref(),
            answer: self.answer.as_deref(),
            signature: self.signature.as_deref(),
            category: self.category.as_deref(),
            severity: self.severity,
            client: self.client.as_deref(),
            event_id: self.event_id.as_deref(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Event {
    /// Reads one generic JSONL record (see the `jsonl` format).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = InRecord::deserialize(d)?;
        value.into_event().map_err(|reason| de::Error::custom(Cow::<str>::Owned(reason)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::parse::{Format, parse_str};

    #[test]
    fn write_then_read_gives_the_same_event() {
        let mut e = Event::new(
            Timestamp::parse("2018-05-06T17:44:05.866769Z").unwrap(),
            "192.0.2.1".parse().unwrap(),
            EventKind::Flow,
        );
        e.dst_ip = Some("2001:db8::1".parse().unwrap());
        e.dst_port = Some(443);
        e.transport = Transport::Tcp;
        e.app_proto = AppProto::Tls;
        e.bytes_out = Some(1200);
        e.duration = Some(0.1 + 0.2);
        e.password = Some("".into());
        let line = serde_json::to_string(&e).unwrap();
        assert_eq!(
            line,
            r#"{"timestamp":"2018-05-06T17:44:05.866769Z","kind":"flow","src_ip":"192.0.2.1","dst_ip":"2001:db8::1","dst_port":443,"transport":"tcp","app_proto":"tls","password":"","bytes_out":1200,"duration":0.30000000000000004}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), e);
        assert_eq!(parse_str(Format::Jsonl, &line).events, vec![e]);
    }

    #[test]
    fn protocol_alias_epoch_times_and_errors() {
        let text = [
            r#"{"timestamp":1525628645,"kind":"login_failed","src_ip":"192.0.2.1","protocol":"ssh","username":"root","extra":1}"#,
            r#"{"timestamp":"1525628645000","kind":"flow","src_ip":"192.0.2.1","protocol":"UDP","bytes_in":"12"}"#,
            r#"{"timestamp":1525628645,"kind":"teleport","src_ip":"192.0.2.1"}"#,
            r#"{"timestamp":1525628645,"src_ip":"192.0.2.1"}"#,
            r#"{"timestamp":1525628645,"kind":"flow","src_ip":"192.0.2.1","dst_ip":"example.com"}"#,
        ]
        .join("\n");
        let out = parse_str(Format::Jsonl, &text);
        assert_eq!(out.events.len(), 2);
        assert_eq!(
            (out.events[0].app_proto, out.events[0].username.as_deref()),
            (AppProto::Ssh, Some("root"))
        );
        assert_eq!((out.events[1].transport, out.events[1].bytes_in), (Transport::Udp, Some(12)));
        assert_eq!(out.events[0].timestamp, out.events[1].timestamp);
        let got: Vec<String> = out.rejected.iter().map(ToString::to_string).collect();
        assert_eq!(got.len(), 3);
        assert!(got[0].starts_with("line 3: unknown variant `teleport`"), "{got:?}");
        assert_eq!(got[1], "line 4: missing kind");
        assert_eq!(got[2], "line 5: invalid dst_ip \"example.com\"");
    }
}
