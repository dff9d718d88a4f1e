//! T-Pot's web, credential and device honeypots: one JSON object per line each.
//!
//! | format | sensor | record | events |
//! |---|---|---|---|
//! | `tanner` | SNARE/TANNER (web) | one request: `method`, `path`, `headers`, `uuid`, `peer{ip,port}`, `status`, `response_msg.response.message{detection{name,type}, sess_uuid}` | HttpRequest: `path` → url, `headers.user-agent` → client, `headers.host` → dst_host, `sess_uuid` → session, `uuid` → sensor, detection name → signature, `tanner type N` → category |
//! | `heralding` | Heralding (credentials) | one session: `source_ip/port`, `destination_ip/port`, `protocol`, `session_id`, `duration`, `auth_attempts[{timestamp, username, password}]`, `session_ended` | SessionConnect, then one LoginFailed per attempt (Heralding lets none in), then SessionClosed with the duration when the session ended |
//! | `elasticpot` | Elasticpot (fake Elasticsearch) | one request: `src_ip/port`, `dest_ip/port`, `honeypot{query, postdata}` | HttpRequest to 9200: `query` "METHOD /path" → method, url; `postdata` (a script, an exploit) → command |
//! | `adbhoney` | ADBHoney (Android Debug Bridge) | Cowrie-style `eventid`: `adbhoney.session.connect`, `.command.input`, `.session.file_upload`, `.session.closed` | SessionConnect, Command (`input`), FileUpload (`filename` → url, `shasum` → signature), SessionClosed (`duration`); others Other |
//!
//! Times: RFC 3339 with an offset, or without one (Tanner, Heralding and Elasticpot write
//! UTC without saying so): such a time is read in the sensor's configured zone
//! ([`ParseOptions`](super::ParseOptions), UTC unless configured), never in the reader's
//! local zone, and counted in [`ParseOutcome::naive_times`](super::ParseOutcome::naive_times).

use serde::Deserialize;

use super::value::{Num, Text, destination, source_ip};
use super::{Format, ParseOutcome, for_each_line, json_reason, push};
use crate::{AppProto, Event, EventKind, Timestamp, Transport};

/// A time as T-Pot's sensors write it: with an offset, or without one (read in `zone`).
/// Returns the time and whether it had no offset.
fn sensor_time(text: &str, zone: &jiff::tz::TimeZone) -> Result<(Timestamp, bool), String> {
    if let Ok(t) = Timestamp::parse(text) {
        return Ok((t, false));
    }
    let civil: jiff::civil::DateTime = text.trim().parse().map_err(|e: jiff::Error| {
        format!("invalid timestamp {:?}: {e}", super::value::truncate(text))
    })?;
    let instant = zone
        .to_ambiguous_timestamp(civil)
        .compatible()
        .map_err(|e| format!("timestamp {text:?} in the sensor's zone: {e}"))?;
    Timestamp::from_micros(instant.as_microsecond())
        .map(|t| (t, true))
        .ok_or_else(|| format!("timestamp {text:?} out of range"))
}

/// One line's events and whether its time had no offset, or why it was rejected.
type Records = Result<(Vec<Event>, bool), String>;

type Zone = jiff::tz::TimeZone;

/// Runs `parse` on every non-blank line; each gives its events and whether its time had
/// no offset.
fn lines(
    reader: impl std::io::BufRead,
    out: &mut ParseOutcome,
    zone: &Zone,
    parse: impl Fn(&[u8], &Zone) -> Records,
) -> std::io::Result<()> {
    for_each_line(reader, out, |out, line, text| {
        let text = text.trim_ascii();
        if text.is_empty() {
            return;
        }
        // Python writes a byte that is not UTF-8 as a lone surrogate escape (`\udcf0`),
        // which is not JSON; such a line is read with U+FFFD in its place.
        let result = match parse(text, zone) {
            Err(reason) if reason.contains("surrogate") => {
                parse(&replace_lone_surrogates(text), zone)
            }
            other => other,
        };
        match result {
            Ok((events, naive)) => {
                if events.is_empty() {
                    push(out, line, Ok(None));
                }
                for e in events {
                    out.naive_times += usize::from(naive);
                    push(out, line, Ok(Some(e)));
                }
            }
            Err(reason) => push(out, line, Err(reason)),
        }
    })
}

/// `line` with every `\uXXXX` escape of a surrogate that is not half of a valid pair
/// replaced by `\ufffd`; escaped backslashes are respected.
fn replace_lone_surrogates(line: &[u8]) -> Vec<u8> {
    let hex = |at: usize| {
        line.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u16::from_str_radix(h, 16).ok())
    };
    let escape_at = |at: usize| {
        (line.get(at) == Some(&b'\\') && line.get(at + 1) == Some(&b'u'))
            .then(|| hex(at + 2))
            .flatten()
    };
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] != b'\\' {
            out.push(line[i]);
            i += 1;
            continue;
        }
        match escape_at(i) {
            Some(0xD800..=0xDBFF) => {
                if let Some(0xDC00..=0xDFFF) = escape_at(i + 6) {
                    out.extend_from_slice(&line[i..i + 12]);
                    i += 12;
                } else {
                    out.extend_from_slice(b"\\ufffd");
                    i += 6;
                }
            }
            Some(0xDC00..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                i += 6;
            }
            _ => {
                // Any other escape (including `\\`) is copied whole.
                out.extend_from_slice(&line[i..(i + 2).min(line.len())]);
                i += 2;
            }
        }
    }
    out
}

fn required_time(t: Option<&Text<'_>>, zone: &Zone) -> Result<(Timestamp, bool), String> {
    sensor_time(t.ok_or("missing timestamp")?.as_str(), zone)
}

// Tanner.

#[derive(Deserialize)]
struct TannerLine<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    method: Option<Text<'a>>,
    #[serde(borrow)]
    path: Option<Text<'a>>,
    #[serde(borrow)]
    uuid: Option<Text<'a>>,
    #[serde(borrow)]
    peer: Option<Peer<'a>>,
    status: Option<Num<u16>>,
    #[serde(borrow)]
    headers: Option<std::collections::HashMap<std::borrow::Cow<'a, str>, Option<Text<'a>>>>,
    #[serde(borrow)]
    response_msg: Option<TannerResponse<'a>>,
}

#[derive(Deserialize)]
struct Peer<'a> {
    #[serde(borrow)]
    ip: Option<Text<'a>>,
    port: Option<Num<u16>>,
}

#[derive(Deserialize)]
struct TannerResponse<'a> {
    #[serde(borrow)]
    response: Option<TannerInner<'a>>,
}

#[derive(Deserialize)]
struct TannerInner<'a> {
    #[serde(borrow)]
    message: Option<TannerMessage<'a>>,
}

#[derive(Deserialize)]
struct TannerMessage<'a> {
    #[serde(borrow)]
    detection: Option<Detection<'a>>,
    #[serde(borrow)]
    sess_uuid: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Detection<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(rename = "type")]
    kind: Option<Num<u8>>,
}

fn tanner(line: &[u8], zone: &Zone) -> Records {
    let l: TannerLine<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    let (ts, naive) = required_time(l.timestamp.as_ref(), zone)?;
    let peer = l.peer.as_ref().ok_or("missing peer")?;
    let src = source_ip("peer.ip", peer.ip.as_ref())?;
    let mut e = Event::new(ts, src, EventKind::HttpRequest);
    (e.transport, e.app_proto) = (Transport::Tcp, AppProto::Http);
    e.src_port = peer.port.and_then(|p| p.0);
    e.method = l.method.as_ref().and_then(Text::non_empty).map(|m| m.to_ascii_uppercase().into());
    e.url = Some(l.path.as_ref().and_then(Text::non_empty).ok_or("missing path")?);
    e.status = l.status.and_then(|s| s.0);
    // `uuid` names the Tanner sensor; the session is Tanner's `sess_uuid`.
    e.sensor = l.uuid.as_ref().and_then(Text::non_empty);
    if let Some(headers) = &l.headers {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_ref().and_then(Text::non_empty))
        };
        e.client = header("user-agent");
        e.dst_host = header("host");
    }
    let message =
        l.response_msg.as_ref().and_then(|r| r.response.as_ref()).and_then(|r| r.message.as_ref());
    e.session = message.and_then(|m| m.sess_uuid.as_ref()).and_then(Text::non_empty);
    if let Some(d) = message.and_then(|m| m.detection.as_ref()) {
        e.signature = d.name.as_ref().and_then(Text::non_empty);
        e.category = d.kind.and_then(|k| k.0).map(|k| format!("tanner type {k}").into());
    }
    Ok((vec![e], naive))
}

// Heralding.

#[derive(Deserialize)]
struct HeraldingLine<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    duration: Option<Num<f64>>,
    #[serde(borrow)]
    session_id: Option<Text<'a>>,
    #[serde(borrow)]
    source_ip: Option<Text<'a>>,
    source_port: Option<Num<u16>>,
    #[serde(borrow)]
    destination_ip: Option<Text<'a>>,
    destination_port: Option<Num<u16>>,
    #[serde(borrow)]
    protocol: Option<Text<'a>>,
    #[serde(borrow)]
    auth_attempts: Option<Vec<Attempt<'a>>>,
    session_ended: Option<bool>,
}

#[derive(Deserialize)]
struct Attempt<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    username: Option<Text<'a>>,
    #[serde(borrow)]
    password: Option<Text<'a>>,
}

fn heralding(line: &[u8], zone: &Zone) -> Records {
    let l: HeraldingLine<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    let (ts, naive) = required_time(l.timestamp.as_ref(), zone)?;
    let src = source_ip("source_ip", l.source_ip.as_ref())?;
    let app = l
        .protocol
        .as_ref()
        .and_then(|p| AppProto::from_name(p.as_str()))
        .unwrap_or(AppProto::Unknown);
    let (dst_ip, dst_host) = destination(l.destination_ip.as_ref());
    let base = |t: Timestamp, kind: EventKind| {
        let mut e = Event::new(t, src, kind);
        (e.transport, e.app_proto) = (Transport::Tcp, app);
        e.src_port = l.source_port.and_then(|p| p.0);
        (e.dst_ip, e.dst_host) = (dst_ip, dst_host.clone());
        e.dst_port = l.destination_port.and_then(|p| p.0);
        e.session = l.session_id.as_ref().and_then(Text::non_empty);
        e.sensor = Some("heralding".into());
        e
    };
    let mut events = vec![base(ts, EventKind::SessionConnect)];
    let mut last = ts;
    for (i, a) in l.auth_attempts.iter().flatten().enumerate() {
        let t = match &a.timestamp {
            Some(text) => {
                sensor_time(text.as_str(), zone).map_err(|e| format!("auth_attempts[{i}]: {e}"))?.0
            }
            None => last,
        };
        last = last.max(t);
        let mut e = base(t, EventKind::LoginFailed);
        e.username = a.username.as_ref().map(Text::boxed);
        e.password = a.password.as_ref().map(Text::boxed);
        events.push(e);
    }
    if l.session_ended != Some(false) {
        let duration = l.duration.and_then(|d| d.0).filter(|d| *d >= 0.0);
        let end = duration
            .and_then(|d| Timestamp::from_micros(ts.as_micros().saturating_add((d * 1e6) as i64)))
            .unwrap_or(last)
            .max(last);
        let mut e = base(end, EventKind::SessionClosed);
        e.duration = duration;
        events.push(e);
    }
    Ok((events, naive))
}

// Elasticpot.

#[derive(Deserialize)]
struct ElasticpotLine<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    src_ip: Option<Text<'a>>,
    src_port: Option<Num<u16>>,
    #[serde(borrow)]
    dest_ip: Option<Text<'a>>,
    dest_port: Option<Num<u16>>,
    #[serde(borrow)]
    honeypot: Option<Elasticpot<'a>>,
}

#[derive(Deserialize)]
struct Elasticpot<'a> {
    #[serde(borrow)]
    query: Option<Text<'a>>,
    #[serde(borrow)]
    postdata: Option<Text<'a>>,
    #[serde(borrow)]
    nodeid: Option<Text<'a>>,
}

fn elasticpot(line: &[u8], zone: &Zone) -> Records {
    let l: ElasticpotLine<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    let (ts, naive) = required_time(l.timestamp.as_ref(), zone)?;
    let src = source_ip("src_ip", l.src_ip.as_ref())?;
    let hp = l.honeypot.as_ref().ok_or("missing honeypot")?;
    let query = hp.query.as_ref().map_or("", Text::as_str).trim();
    let (method, path) = match query.split_once(' ') {
        Some((m, p)) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()) => (Some(m), p),
        _ => (None, query),
    };
    let mut e = Event::new(ts, src, EventKind::HttpRequest);
    (e.transport, e.app_proto) = (Transport::Tcp, AppProto::Http);
    e.src_port = l.src_port.and_then(|p| p.0);
    (e.dst_ip, e.dst_host) = destination(l.dest_ip.as_ref());
    e.dst_port = l.dest_port.and_then(|p| p.0).or(Some(9200));
    e.method = method.map(|m| m.to_ascii_uppercase().into());
    e.url = (!path.trim().is_empty()).then(|| path.trim().into());
    e.command = hp.postdata.as_ref().and_then(Text::non_empty);
    e.sensor = hp.nodeid.as_ref().and_then(Text::non_empty);
    Ok((vec![e], naive))
}

// ADBHoney.

#[derive(Deserialize)]
struct AdbLine<'a> {
    #[serde(borrow)]
    eventid: Option<Text<'a>>,
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    src_ip: Option<Text<'a>>,
    src_port: Option<Num<u16>>,
    #[serde(borrow)]
    dest_ip: Option<Text<'a>>,
    dest_port: Option<Num<u16>>,
    #[serde(borrow)]
    session: Option<Text<'a>>,
    #[serde(borrow)]
    sensor: Option<Text<'a>>,
    #[serde(borrow)]
    input: Option<Text<'a>>,
    #[serde(borrow)]
    filename: Option<Text<'a>>,
    #[serde(borrow)]
    shasum: Option<Text<'a>>,
    duration: Option<Num<f64>>,
}

fn adbhoney(line: &[u8], zone: &Zone) -> Records {
    let l: AdbLine<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    let id = l.eventid.as_ref().ok_or("missing eventid")?.as_str();
    let (ts, naive) = required_time(l.timestamp.as_ref(), zone)?;
    let src = source_ip("src_ip", l.src_ip.as_ref())?;
    let kind = match id {
        "adbhoney.session.connect" => EventKind::SessionConnect,
        "adbhoney.session.closed" => EventKind::SessionClosed,
        "adbhoney.command.input" => EventKind::Command,
        "adbhoney.session.file_upload" => EventKind::FileUpload,
        _ => EventKind::Other,
    };
    let mut e = Event::new(ts, src, kind);
    e.transport = Transport::Tcp;
    e.app_proto = AppProto::Other;
    e.src_port = l.src_port.and_then(|p| p.0);
    (e.dst_ip, e.dst_host) = destination(l.dest_ip.as_ref());
    e.dst_port = l.dest_port.and_then(|p| p.0);
    e.session = l.session.as_ref().and_then(Text::non_empty);
    e.sensor = l.sensor.as_ref().and_then(Text::non_empty);
    match kind {
        EventKind::Command => e.command = l.input.as_ref().and_then(Text::non_empty),
        EventKind::FileUpload => {
            e.url = l.filename.as_ref().and_then(Text::non_empty);
            e.signature = l.shasum.as_ref().and_then(Text::non_empty);
        }
        EventKind::SessionClosed => e.duration = l.duration.and_then(|d| d.0).filter(|d| *d >= 0.0),
        EventKind::Other => e.event_id = Some(id.into()),
        _ => {}
    }
    Ok((vec![e], naive))
}

/// Which T-Pot sensor wrote a JSON line, from the fields it has.
pub(super) fn detect(line: &[u8]) -> Option<Format> {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        eventid: Option<Text<'a>>,
        peer: Option<serde::de::IgnoredAny>,
        response_msg: Option<serde::de::IgnoredAny>,
        auth_attempts: Option<serde::de::IgnoredAny>,
        session_id: Option<serde::de::IgnoredAny>,
        honeypot: Option<serde::de::IgnoredAny>,
    }
    let p: Probe<'_> = serde_json::from_slice(line).ok()?;
    match () {
        () if p.eventid.as_ref().is_some_and(|id| id.as_str().starts_with("adbhoney.")) => {
            Some(Format::Adbhoney)
        }
        () if p.peer.is_some() && p.response_msg.is_some() => Some(Format::Tanner),
        () if p.auth_attempts.is_some() && p.session_id.is_some() => Some(Format::Heralding),
        () if p.honeypot.is_some() => Some(Format::Elasticpot),
        () => None,
    }
}

/// Parses every line as the given sensor writes it.
pub(super) fn parse(
    format: Format,
    reader: impl std::io::BufRead,
    zone: &Zone,
    out: &mut ParseOutcome,
) -> std::io::Result<()> {
    let parse: fn(&[u8], &Zone) -> Records = match format {
        Format::Tanner => tanner,
        Format::Heralding => heralding,
        Format::Elasticpot => elasticpot,
        _ => adbhoney,
    };
    lines(reader, out, zone, parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_without_an_offset_are_read_in_the_sensors_zone() {
        let utc = Zone::UTC;
        let (t, naive) = sensor_time("2020-01-26 04:38:12.243903", &utc).unwrap();
        assert!(naive);
        assert_eq!(t.to_string(), "2020-01-26T04:38:12.243903Z");
        let (t, naive) = sensor_time("2020-01-04T09:15:10", &utc).unwrap();
        assert_eq!((t.to_string().as_str(), naive), ("2020-01-04T09:15:10Z", true));
        let (t, naive) = sensor_time("2020-01-22T03:55:32.678268Z", &utc).unwrap();
        assert_eq!((t.to_string().as_str(), naive), ("2020-01-22T03:55:32.678268Z", false));
        assert!(sensor_time("yesterday", &utc).unwrap_err().contains("invalid timestamp"));
        // Prague is UTC+1 in January, UTC+2 in July; an offset in the text wins.
        let prague = Zone::get("Europe/Prague").unwrap();
        let (t, _) = sensor_time("2020-01-26 04:38:12", &prague).unwrap();
        assert_eq!(t.to_string(), "2020-01-26T03:38:12Z");
        let (t, _) = sensor_time("2020-07-26 04:38:12", &prague).unwrap();
        assert_eq!(t.to_string(), "2020-07-26T02:38:12Z");
        let (t, _) = sensor_time("2020-07-26T04:38:12Z", &prague).unwrap();
        assert_eq!(t.to_string(), "2020-07-26T04:38:12Z");
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let fixed = |s: &str| String::from_utf8(replace_lone_surrogates(s.as_bytes())).unwrap();
        assert_eq!(fixed(r#""a\udcf0b""#), r#""a\ufffdb""#);
        assert_eq!(fixed(r#""\ud83d\ude00""#), r#""\ud83d\ude00""#);
        assert_eq!(fixed(r#""\ud83d x""#), r#""\ufffd x""#);
        assert_eq!(fixed(r#""\\udcf0""#), r#""\\udcf0""#);
        let v: String = serde_json::from_str(&fixed(r#""\udcf0\udcfd""#)).unwrap();
        assert_eq!(v, "\u{fffd}\u{fffd}");
    }
}
