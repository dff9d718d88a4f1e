//! Event parsers: one per source format, each turning lines (or a JSON document) into
//! [`Event`]s, reporting bad records by line and carrying on.
//!
//! | [`Format`] | input | module |
//! |---|---|---|
//! | `cowrie` | Cowrie JSON lines (`cowrie.json`), every event id | `cowrie.rs` |
//! | `suricata` | Suricata `eve.json` lines: `alert`, `flow`, `netflow`, `http`, `ssh` (others kept as `Other`) | `suricata.rs` |
//! | `ingest` | mini-xdr ingest bodies: one event object, a JSON list, or the `{source_type, hostname, events}` envelope | `ingest.rs` |
//! | `web` | web-honeypot request lines | `web.rs` |
//! | `jsonl` | the generic JSONL format, the serde form of [`Event`] | `jsonl.rs` |
//! | `tanner`, `heralding`, `elasticpot`, `adbhoney` | T-Pot's web, credential, Elasticsearch and Android-debug honeypots (JSON lines) | `tpot.rs` |
//! | `zeek` | Zeek `conn`, `dns`, `http`, `ssl`, `ssh`, `notice`, `weird`, `files` logs, ASCII (TSV with headers) or JSON | `zeek.rs` |
//! | `auto` | one of the above, chosen from the first record | this file |

mod cowrie;
mod ingest;
mod jsonl;
mod suricata;
mod tpot;
pub(crate) mod value;
mod web;
mod zeek;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::{Event, FeatureError, Result};
use value::Text;

/// An event source format. Parses from its lower-case name (`"cowrie".parse()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Detect from the first non-blank record (see [`Format::detect`]).
    Auto,
    /// Cowrie honeypot JSON lines (`cowrie.json`, one event per line). Every event id of
    /// Cowrie's SSH/Telnet logs maps to an [`EventKind`](crate::EventKind) (logins,
    /// commands, downloads, `direct-tcpip` tunnels, whose payload is decoded for HTTP/TLS/SMTP);
    /// an unknown id becomes `Other` with its id kept. Table: `src/parse/cowrie.rs`.
    Cowrie,
    /// Suricata EVE JSON lines: `alert`, `flow`/`netflow`, `http` and `ssh` records become
    /// IDS alerts, flows, HTTP requests and client versions; other types are `Other`;
    /// `stats` records are skipped (counted in [`ParseOutcome::skipped`]). Table:
    /// `src/parse/suricata.rs`.
    Suricata,
    /// mini-xdr ingest bodies: one event object, a JSON list of them, or the
    /// `{"source_type", "hostname", "events": [...]}` envelope (also several documents, e.g.
    /// one per line). Fields are read with mini-xdr's aliases (`src_ip`/`srcip`/`peer_ip`,
    /// values nested in `raw`), the time from the payload, and `eventid` picks the kind.
    /// Details: `src/parse/ingest.rs`.
    Ingest,
    /// Web-honeypot request lines: one JSON object per HTTP request.
    ///
    /// The accepted shape (the mini-xdr `webhoneypot.request` event, flattened or not):
    ///
    /// ```json
    /// {"timestamp": "2025-09-14T03:48:49.576718Z", "src_ip": "192.0.2.10", "src_port": 51000,
    ///  "dst_ip": "198.51.100.5", "dst_port": 80, "host": "shop.example",
    ///  "method": "GET", "path": "/login.php?user=admin'OR'1'='1", "status_code": 200,
    ///  "user_agent": "Mozilla/5.0", "response_size": 4751, "request_size": 310,
    ///  "session": "abc", "sensor": "web-1", "eventid": "webhoneypot.request"}
    /// ```
    ///
    /// - Required: `timestamp` (RFC 3339 or epoch), `src_ip` (or `client_ip`, `remote_addr`),
    ///   and the request target `path` (or `url`, `uri`).
    /// - Optional: `src_port`; `dst_ip` (or `server_ip`); `dst_port` (or `port`); `host` → `dst_host`;
    ///   `method` (upper-cased); `status_code` (or `status`); `user_agent` → `client`;
    ///   `response_size` (or `bytes_sent`) → `bytes_in`; `request_size` (or `bytes_received`) →
    ///   `bytes_out`; `session` (or `session_id`); `sensor` (or `hostname`).
    /// - Any of these may instead sit in a nested `raw` object (as mini-xdr stores them); a
    ///   top-level value wins. Other fields (`message`, `attack_indicators`, ...) are ignored.
    ///
    /// Every event is an `HttpRequest` over TCP/HTTP.
    Web,
    /// The generic JSONL format: one [`Event`] per line, exactly its serde form.
    ///
    /// ```json
    /// {"timestamp":"2018-05-06T17:44:05.866769Z","kind":"login_failed","src_ip":"192.0.2.1",
    ///  "session":"a1","username":"root","password":"123456","transport":"tcp","app_proto":"ssh"}
    /// ```
    ///
    /// - Required: `timestamp` (RFC 3339, or epoch seconds/ms/µs as a number or string),
    ///   `kind` (`session_connect`, `session_closed`, `client_version`, `login_failed`,
    ///   `login_success`, `command`, `command_failed`, `file_download`, `file_upload`,
    ///   `forward_request`, `forward_data`, `http_request`, `ids_alert`, `flow`, `other`), and
    ///   `src_ip`.
    /// - Optional, named as the [`Event`] fields: `src_port`, `dst_ip` (an address), `dst_host`,
    ///   `dst_port`, `transport` (`tcp`, `udp`, `icmp`, `other`), `app_proto` (`ssh`, `telnet`,
    ///   `http`, `tls`, `dns`, `ftp`, `smtp`, `smb`, `other`), `sensor`, `session`, `username`,
    ///   `password`, `command`, `url`, `method`, `status`, `bytes_in`, `bytes_out`, `duration`
    ///   (seconds), `signature`, `category`, `severity`, `client`, `event_id`. Numbers may be
    ///   written as strings.
    /// - On input only, `protocol` may name a transport or an application protocol.
    /// - Unknown fields are ignored. Writing an event (`serde_json::to_string(&event)`) gives
    ///   this format with unset fields left out, and reading it back gives the same event.
    Jsonl,
    /// Zeek logs: `conn` records become flows (bytes, packets, duration, `conn_state` each
    /// way), `http` requests, `ssh` login outcomes and client versions, `notice` alerts,
    /// `dns` queries, `ssl` server names, `weird` names and `files` transfers. Zeek's ASCII
    /// form (TSV; each batch carries its `#separator` ... `#fields` header lines) or its JSON
    /// form; other columns (such as a `label`) are ignored. Table: `src/parse/zeek.rs`.
    Zeek,
    /// SNARE/TANNER web-honeypot reports (T-Pot): one request per line, with Tanner's own
    /// detection. Table: `src/parse/tpot.rs`.
    Tanner,
    /// Heralding credential-honeypot sessions (T-Pot): each line a session, read as a
    /// connect, one failed login per attempt and a close. Table: `src/parse/tpot.rs`.
    Heralding,
    /// Elasticpot fake-Elasticsearch requests (T-Pot): the query and its body. Table:
    /// `src/parse/tpot.rs`.
    Elasticpot,
    /// ADBHoney Android-debug-bridge events (T-Pot), in Cowrie's style. Table:
    /// `src/parse/tpot.rs`.
    Adbhoney,
}

impl Format {
    /// Every format, `Auto` first.
    pub const ALL: [Self; 11] = [
        Self::Auto,
        Self::Cowrie,
        Self::Suricata,
        Self::Ingest,
        Self::Web,
        Self::Jsonl,
        Self::Zeek,
        Self::Tanner,
        Self::Heralding,
        Self::Elasticpot,
        Self::Adbhoney,
    ];

    /// The lower-case name, as accepted by `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cowrie => "cowrie",
            Self::Suricata => "suricata",
            Self::Ingest => "ingest",
            Self::Web => "web",
            Self::Jsonl => "jsonl",
            Self::Zeek => "zeek",
            Self::Tanner => "tanner",
            Self::Heralding => "heralding",
            Self::Elasticpot => "elasticpot",
            Self::Adbhoney => "adbhoney",
        }
    }

    /// Guesses the format from the first non-blank line of an input:
    ///
    /// - a Zeek ASCII header (`#separator`, `#set_separator`, `#path`, `#fields`) → `Zeek`;
    /// - a T-Pot sensor's record: `eventid` starting with `adbhoney.` → `Adbhoney`; `peer`
    ///   and `response_msg` → `Tanner`; `auth_attempts` and `session_id` → `Heralding`;
    ///   `honeypot` → `Elasticpot`;
    /// - starts with `[`, does not parse as one JSON object, or has `events` → `Ingest`;
    /// - `eventid` starting with `cowrie.` → `Cowrie`; with `webhoneypot` → `Web`;
    ///   any other `eventid` → `Ingest`;
    /// - `event_type` → `Suricata`; `id.orig_h` or `_path` (Zeek JSON) → `Zeek`; `kind` →
    ///   `Jsonl`; `method` or `path` → `Web`;
    /// - anything else → `Jsonl` (whose parser then reports what is missing).
    pub fn detect(first_line: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Probe<'a> {
            #[serde(borrow)]
            eventid: Option<Text<'a>>,
            event_type: Option<IgnoredAny>,
            events: Option<IgnoredAny>,
            kind: Option<IgnoredAny>,
            method: Option<IgnoredAny>,
            path: Option<IgnoredAny>,
            #[serde(rename = "id.orig_h")]
            zeek_orig: Option<IgnoredAny>,
            #[serde(rename = "_path")]
            zeek_path: Option<IgnoredAny>,
        }
        let trimmed = first_line.trim_ascii_start();
        if zeek::is_ascii_header(trimmed) {
            return Self::Zeek;
        }
        if trimmed.first() == Some(&b'[') {
            return Self::Ingest;
        }
        if let Some(sensor) = tpot::detect(trimmed) {
            return sensor;
        }
        let Ok(p) = serde_json::from_slice::<Probe<'_>>(trimmed) else {
            return Self::Ingest;
        };
        match p.eventid {
            _ if p.events.is_some() => Self::Ingest,
            Some(id) if id.as_str().starts_with("cowrie.") => Self::Cowrie,
            Some(id) if id.as_str().starts_with("webhoneypot") => Self::Web,
            Some(_) => Self::Ingest,
            None if p.event_type.is_some() => Self::Suricata,
            None if p.zeek_orig.is_some() || p.zeek_path.is_some() => Self::Zeek,
            None if p.kind.is_some() => Self::Jsonl,
            None if p.method.is_some() || p.path.is_some() => Self::Web,
            None => Self::Jsonl,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = FeatureError;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| FeatureError::UnknownFormat { name: s.to_owned() })
    }
}

/// A record that could not be turned into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based line number in the input (for a JSON document, the line the element starts on).
    pub line: usize,
    /// Why, e.g. `missing timestamp` or `invalid src_ip "x"`.
    pub reason: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What a parser made of an input: the events, the rejected records, and a count of valid
/// records that carry no per-source event (Suricata `stats`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseOutcome {
    /// The format actually used (resolved when `Auto` was asked for).
    pub format: Format,
    /// The events, in input order.
    pub events: Vec<Event>,
    /// Bad records, in input order.
    pub rejected: Vec<Rejected>,
    /// Valid records skipped on purpose (no source address by design, e.g. Suricata `stats`).
    pub skipped: usize,
    /// Events with a string field cut to its byte budget ([`Event::enforce_budgets`]).
    pub truncated: usize,
    /// The latest event time accepted ([`parse_lines_with`]); later events are rejected.
    pub not_after: Option<crate::Timestamp>,
    /// Events whose time was written without a UTC offset (T-Pot's Tanner, Heralding and
    /// Elasticpot write theirs that way), read in [`Self::time_zone`].
    pub naive_times: usize,
    /// The zone such times were read in ([`ParseOptions::zone_for`] of the format).
    pub time_zone: String,
}

impl ParseOutcome {
    fn new(format: Format, options: &ParseOptions) -> Self {
        Self {
            format,
            events: Vec::new(),
            rejected: Vec::new(),
            skipped: 0,
            truncated: 0,
            not_after: options.not_after,
            naive_times: 0,
            time_zone: zone_name(options.zone_for(format)),
        }
    }
}

/// How to read an input beyond its format: the latest event time accepted, and the time
/// zone of times written without a UTC offset (UTC unless configured, per format; never
/// the reader's local zone).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParseOptions {
    /// Events later than this are rejected (see [`parse_lines_with`]).
    pub not_after: Option<crate::Timestamp>,
    /// The zone of times without an offset, for every format not in [`Self::zones`]
    /// (`None`: UTC).
    pub time_zone: Option<jiff::tz::TimeZone>,
    /// A zone per format (a sensor that writes local time without saying so).
    pub zones: Vec<(Format, jiff::tz::TimeZone)>,
}

impl ParseOptions {
    /// The zone naive times of `format` are read in.
    pub fn zone_for(&self, format: Format) -> &jiff::tz::TimeZone {
        self.zones
            .iter()
            .find_map(|(f, z)| (*f == format).then_some(z))
            .or(self.time_zone.as_ref())
            .unwrap_or(&UTC)
    }
}

static UTC: jiff::tz::TimeZone = jiff::tz::TimeZone::UTC;

/// A zone's IANA name, or its fixed offset when it has none.
fn zone_name(zone: &jiff::tz::TimeZone) -> String {
    zone.iana_name().map_or_else(
        || zone.to_fixed_offset().map_or_else(|_| "UTC".to_owned(), |o| o.to_string()),
        str::to_owned,
    )
}

/// Result of parsing one record: an event, `None` for a valid record with no event
/// (counted in `skipped`), or the reason for rejecting it.
pub(crate) type LineResult = std::result::Result<Option<Event>, String>;

/// Parses everything `reader` yields. Only I/O errors are errors; bad records are in
/// [`ParseOutcome::rejected`]. The input must be plain text (see [`parse_file`] for gzip).
/// Every event's strings are cut to their byte budgets ([`Event::enforce_budgets`]).
pub fn parse_lines(format: Format, reader: impl BufRead) -> Result<ParseOutcome> {
    parse_lines_with(format, reader, None)
}

/// [`parse_lines`], rejecting (per record, with the reason) every event later than
/// `not_after`: a server passes its clock plus the allowed skew, so that one event stamped
/// in the future cannot freeze its source's window.
pub fn parse_lines_with(
    format: Format,
    reader: impl BufRead,
    not_after: Option<crate::Timestamp>,
) -> Result<ParseOutcome> {
    parse_lines_opts(format, reader, &ParseOptions { not_after, ..ParseOptions::default() })
}

/// [`parse_lines`] with [`ParseOptions`]: the latest time accepted and the time zones of
/// times written without an offset.
pub fn parse_lines_opts(
    format: Format,
    mut reader: impl BufRead,
    options: &ParseOptions,
) -> Result<ParseOutcome> {
    let io = |source| FeatureError::Io { origin: "<reader>".into(), source };
    let format = match format {
        Format::Auto => {
            // Read up to and including the first non-blank line, then put it back in front.
            let mut head = Vec::new();
            let first = loop {
                let start = head.len();
                if reader.read_until(b'\n', &mut head).map_err(io)? == 0 {
                    break None;
                }
                if !head[start..].trim_ascii().is_empty() {
                    break Some(start);
                }
            };
            let format = first.map_or(Format::Jsonl, |start| Format::detect(&head[start..]));
            let chained = BufReader::new(Cursor::new(head).chain(reader));
            return parse_known(format, chained, options).map_err(io);
        }
        f => f,
    };
    parse_known(format, reader, options).map_err(io)
}

/// Parses a string already in memory; never fails.
pub fn parse_str(format: Format, text: &str) -> ParseOutcome {
    match parse_lines(format, text.as_bytes()) {
        Ok(outcome) => outcome,
        // Reading from a byte slice cannot fail.
        Err(_) => ParseOutcome::new(format, &ParseOptions::default()),
    }
}

/// Parses a file, gzip-compressed (detected by its magic bytes, any number of members) or
/// plain.
pub fn parse_file(format: Format, path: impl AsRef<Path>) -> Result<ParseOutcome> {
    parse_file_opts(format, path, &ParseOptions::default())
}

/// [`parse_file`] with [`ParseOptions`].
pub fn parse_file_opts(
    format: Format,
    path: impl AsRef<Path>,
    options: &ParseOptions,
) -> Result<ParseOutcome> {
    let path = path.as_ref();
    let io = |source| FeatureError::Io { origin: path.display().to_string(), source };
    parse_lines_opts(format, open_log(path)?, options).map_err(|e| match e {
        FeatureError::Io { source, .. } => io(source),
        other => other,
    })
}

/// Opens a log for reading: gzip-compressed (detected by its magic bytes, any number of
/// members) or plain.
pub fn open_log(path: impl AsRef<Path>) -> Result<Box<dyn BufRead + Send>> {
    let path = path.as_ref();
    let io = |source| FeatureError::Io { origin: path.display().to_string(), source };
    let mut file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?);
    let gzip = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(1 << 16, flate2::bufread::MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

fn parse_known(
    format: Format,
    reader: impl BufRead,
    options: &ParseOptions,
) -> io::Result<ParseOutcome> {
    let mut out = ParseOutcome::new(format, options);
    match format {
        Format::Cowrie => each_line(reader, &mut out, cowrie::parse_line)?,
        Format::Suricata => each_line(reader, &mut out, suricata::parse_line)?,
        Format::Web => each_line(reader, &mut out, web::parse_line)?,
        Format::Jsonl => each_line(reader, &mut out, jsonl::parse_line)?,
        Format::Ingest => ingest::parse(reader, &mut out)?,
        Format::Zeek => zeek::parse(reader, &mut out)?,
        Format::Tanner | Format::Heralding | Format::Elasticpot | Format::Adbhoney => {
            tpot::parse(format, reader, options.zone_for(format), &mut out)?;
        }
        Format::Auto => unreachable!("resolved by parse_lines"),
    }
    Ok(out)
}

/// Longest record a line-based parser reads; a longer line is rejected without being held
/// in memory (what a 1 GB line without a newline would otherwise cost).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Runs `parse` on every non-blank line (trimmed).
fn each_line(
    reader: impl BufRead,
    out: &mut ParseOutcome,
    parse: impl Fn(&[u8]) -> LineResult,
) -> io::Result<()> {
    for_each_line(reader, out, |out, line, text| {
        let text = text.trim_ascii();
        if !text.is_empty() {
            push(out, line, parse(text));
        }
    })
}

/// Calls `each(out, line number, line without its `\n`)` for every line of at most
/// [`MAX_LINE_BYTES`]; a longer line is rejected without being held in memory.
fn for_each_line(
    mut reader: impl BufRead,
    out: &mut ParseOutcome,
    mut each: impl FnMut(&mut ParseOutcome, usize, &[u8]),
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut line = 0;
    loop {
        buf.clear();
        let limit = (MAX_LINE_BYTES + 1) as u64;
        if reader.by_ref().take(limit).read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        line += 1;
        if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            // Skip the rest of the line without keeping it.
            let mut skipped = buf.len();
            loop {
                let chunk = reader.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                if let Some(at) = chunk.iter().position(|&b| b == b'\n') {
                    reader.consume(at + 1);
                    skipped += at;
                    break;
                }
                let n = chunk.len();
                reader.consume(n);
                skipped += n;
            }
            out.rejected.push(Rejected {
                line,
                reason: format!(
                    "record of {skipped} bytes is longer than the limit of {MAX_LINE_BYTES}"
                ),
            });
            continue;
        }
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        each(out, line, text);
    }
}

fn push(out: &mut ParseOutcome, line: usize, result: LineResult) {
    match result {
        Ok(Some(mut e)) => {
            e.enforce_budgets();
            if let Some(limit) = out.not_after
                && e.timestamp > limit
            {
                out.rejected.push(Rejected {
                    line,
                    reason: format!(
                        "event time {} is later than {limit} (the clock plus the allowed skew)",
                        e.timestamp
                    ),
                });
            } else {
                out.truncated += usize::from(e.truncated);
                out.events.push(e);
            }
        }
        Ok(None) => out.skipped += 1,
        Err(reason) => out.rejected.push(Rejected { line, reason }),
    }
}

/// The reason text for a JSON error: serde's message without its position inside the line
/// (the line number is reported separately), plus the column when it helps.
pub(crate) fn json_reason(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("invalid JSON: {msg} (column {})", e.column())
        }
        _ => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip_and_unknown_names_are_errors() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
            assert_eq!(f.to_string().to_uppercase().parse::<Format>().unwrap(), f);
        }
        let e = "bro".parse::<Format>().unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown event format \"bro\" (known: auto, cowrie, suricata, ingest, web, jsonl, \
             zeek, tanner, heralding, elasticpot, adbhoney)"
        );
    }

    #[test]
    fn detection_from_first_line() {
        let check =
            |line: &str, f: Format| assert_eq!(Format::detect(line.as_bytes()), f, "{line}");
        check(r#"{"eventid":"cowrie.login.failed","src_ip":"1.2.3.4"}"#, Format::Cowrie);
        check(r#"{"event_type":"alert","src_ip":"1.2.3.4"}"#, Format::Suricata);
        check(r#"{"source_type":"cowrie","hostname":"h","events":[]}"#, Format::Ingest);
        check(r#"  [{"eventid":"cowrie.login.failed"}]"#, Format::Ingest);
        check(r#"{"eventid":"suricata.alert"}"#, Format::Ingest);
        check(r#"{"eventid":"webhoneypot.request"}"#, Format::Web);
        check(r#"{"method":"GET","path":"/"}"#, Format::Web);
        check(r#"{"kind":"flow"}"#, Format::Jsonl);
        check("{", Format::Ingest);
        check(r#"{"x":1}"#, Format::Jsonl);
        check("#separator \\x09", Format::Zeek);
        check("#fields\tts\tuid", Format::Zeek);
        check(r#"{"ts":1.5,"uid":"C1","id.orig_h":"192.0.2.1"}"#, Format::Zeek);
        check(r#"{"_path":"conn"}"#, Format::Zeek);
    }

    #[test]
    fn auto_keeps_line_numbers_after_leading_blank_lines() {
        let text = "\n\n{\"eventid\":\"cowrie.login.failed\",\"src_ip\":\"1.2.3.4\"}\n";
        let out = parse_str(Format::Auto, text);
        assert_eq!(out.format, Format::Cowrie);
        assert_eq!(out.rejected, vec![Rejected { line: 3, reason: "missing timestamp".into() }]);
    }

    #[test]
    fn empty_input_is_an_empty_outcome() {
        for f in Format::ALL {
            let out = parse_str(f, "");
            assert!(out.events.is_empty() && out.rejected.is_empty() && out.skipped == 0, "{f}");
        }
    }
}
