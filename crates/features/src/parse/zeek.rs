//! Zeek logs, in Zeek's ASCII form (TSV under `#separator`, `#set_separator`, `#empty_field`,
//! `#unset_field`, `#path`, `#fields`, `#types` headers) or its JSON form (one object per
//! line, with or without `_path`). Both forms, and several logs one after another (each
//! under its own headers), may share one input.
//!
//! | log | kind | fields used |
//! |---|---|---|
//! | `conn` | Flow | `proto` → transport, `service` → app_proto (first known of a list), `duration`, `orig_ip_bytes` (else `orig_bytes`) → bytes_out, `resp_ip_bytes` (else `resp_bytes`) → bytes_in, `orig_pkts` → packets_out, `resp_pkts` → packets_in, `conn_state` |
//! | `dns` | Other (`zeek.dns`), app DNS | `query` → dst_host, `answers` → answer |
//! | `http` | HttpRequest, app HTTP | `method`, `host` → dst_host, `uri` → url, `user_agent` → client, `status_code` → status, `request_body_len` → bytes_out, `response_body_len` → bytes_in |
//! | `ssl` | Other (`zeek.ssl`), app TLS | `server_name` → dst_host |
//! | `ssh` | LoginSuccess (`auth_success` T), LoginFailed (F, or unset with `auth_attempts` > 0), else ClientVersion; app SSH | `client` |
//! | `notice` | IdsAlert | `note` → signature, `msg` → category; source `id.orig_h`, else `src` |
//! | `weird` | Other (`zeek.weird`) | `name` → signature |
//! | `files` | FileDownload, FileUpload when `is_orig` is T | `filename` (else `mime_type`) → url, `seen_bytes`; source `id.orig_h`, else the first receiver (`rx_hosts`) of a download or sender (`tx_hosts`) of an upload |
//!
//! Always: `ts` → timestamp, `uid` → session, `id.orig_h` → src_ip, `id.orig_p` → src_port,
//! `id.resp_h` → dst_ip, `id.resp_p` → dst_port. Other columns (Stratosphere's `label`, GeoIP
//! fields, ...) are ignored. A record with no source address by design (a `weird` or
//! `notice` about no connection) is skipped and counted. The log type is `#path` (TSV) or
//! `_path` (JSON), else read from the fields the record has; another log type (`x509`,
//! `dhcp`, ...) is rejected per line with its name. A TSV line before any `#fields` header
//! is rejected: a batch must carry its header lines. TSV values are unescaped (`\xHH`).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::value::{Numeric, parse_ip, truncate};
use super::{LineResult, ParseOutcome, for_each_line, json_reason, push};
use crate::{AppProto, Event, EventKind, Timestamp, Transport};

/// The Zeek logs this parser reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Log {
    Conn,
    Dns,
    Http,
    Ssl,
    Ssh,
    Notice,
    Weird,
    Files,
}

impl Log {
    const ALL: [(&'static str, Self); 8] = [
        ("conn", Self::Conn),
        ("dns", Self::Dns),
        ("http", Self::Http),
        ("ssl", Self::Ssl),
        ("ssh", Self::Ssh),
        ("notice", Self::Notice),
        ("weird", Self::Weird),
        ("files", Self::Files),
    ];

    fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find_map(|(name, log)| (name == path).then_some(log))
    }

    /// The log a record without `_path` comes from, read from the fields it has.
    fn infer(r: &Record<'_>) -> Option<Self> {
        use Field as F;
        let has = |f: F| r.has(f);
        Some(if has(F::Note) {
            Self::Notice
        } else if has(F::ConnState) || has(F::History) || has(F::OrigPkts) {
            Self::Conn
        } else if has(F::AuthAttempts) || has(F::AuthSuccess) {
            Self::Ssh
        } else if has(F::Query) || has(F::QtypeName) {
            Self::Dns
        } else if has(F::Method) || has(F::Uri) || has(F::StatusCode) {
            Self::Http
        } else if has(F::ServerName) || has(F::Cipher) || has(F::Established) {
            Self::Ssl
        } else if has(F::Fuid) && (has(F::TxHosts) || has(F::RxHosts) || has(F::MimeType)) {
            Self::Files
        } else if has(F::Name) {
            Self::Weird
        } else {
            return None;
        })
    }
}

impl fmt::Display for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Self::ALL.iter().find(|(_, l)| l == self).map_or("?", |(n, _)| n);
        f.write_str(name)
    }
}

/// The logs read, for messages.
const READ: &str = "conn, dns, http, ssl, ssh, notice, weird, files";

macro_rules! fields {
    ($($variant:ident = $name:literal,)*) => {
        /// The columns this parser reads, by Zeek name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Field { $($variant,)* }
        impl Field {
            const ALL: &'static [(&'static str, Field)] = &[$(($name, Field::$variant),)*];
            fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some(Self::$variant),)* _ => None }
            }
            fn name(self) -> &'static str {
                Self::ALL[self as usize].0
            }
        }
    };
}

fields! {
    Path = "_path",
    Ts = "ts",
    Uid = "uid",
    OrigH = "id.orig_h",
    OrigP = "id.orig_p",
    RespH = "id.resp_h",
    RespP = "id.resp_p",
    Proto = "proto",
    Service = "service",
    Duration = "duration",
    OrigBytes = "orig_bytes",
    RespBytes = "resp_bytes",
    ConnState = "conn_state",
    History = "history",
    OrigPkts = "orig_pkts",
    RespPkts = "resp_pkts",
    OrigIpBytes = "orig_ip_bytes",
    RespIpBytes = "resp_ip_bytes",
    Query = "query",
    QtypeName = "qtype_name",
    Answers = "answers",
    Method = "method",
    Host = "host",
    Uri = "uri",
    UserAgent = "user_agent",
    StatusCode = "status_code",
    RequestBodyLen = "request_body_len",
    ResponseBodyLen = "response_body_len",
    ServerName = "server_name",
    Cipher = "cipher",
    Established = "established",
    AuthSuccess = "auth_success",
    AuthAttempts = "auth_attempts",
    Client = "client",
    Note = "note",
    Msg = "msg",
    Src = "src",
    Name = "name",
    Fuid = "fuid",
    Filename = "filename",
    MimeType = "mime_type",
    TxHosts = "tx_hosts",
    RxHosts = "rx_hosts",
    IsOrig = "is_orig",
    SeenBytes = "seen_bytes",
}

const FIELDS: usize = Field::ALL.len();

/// One record's values by [`Field`]: `None` when absent or unset, `Some("")` when empty.
struct Record<'a> {
    values: [Option<Cow<'a, str>>; FIELDS],
}

impl Record<'_> {
    fn new() -> Self {
        Self { values: std::array::from_fn(|_| None) }
    }

    fn has(&self, f: Field) -> bool {
        self.values[f as usize].is_some()
    }

    fn text(&self, f: Field) -> Option<&str> {
        self.values[f as usize].as_deref()
    }

    /// The value as an owned string, `None` when unset or empty.
    fn boxed(&self, f: Field) -> Option<Box<str>> {
        self.text(f).filter(|t| !t.is_empty()).map(Into::into)
    }

    /// The value as a number; an unparseable value is an error naming the field.
    fn num<T: Numeric>(&self, f: Field) -> Result<Option<T>, String> {
        match self.text(f).map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => T::from_text(t).map(Some).ok_or_else(|| {
                format!("invalid {} {:?}: not {}", f.name(), truncate(t), T::EXPECTING)
            }),
        }
    }

    /// A Zeek bool (`T`/`F`, or JSON `true`/`false`); an unparseable value is an error.
    fn flag(&self, f: Field) -> Result<Option<bool>, String> {
        match self.text(f) {
            None | Some("") => Ok(None),
            Some("T" | "true") => Ok(Some(true)),
            Some("F" | "false") => Ok(Some(false)),
            Some(t) => Err(format!("invalid {} {:?}: not T or F", f.name(), truncate(t))),
        }
    }

    /// An address field; an unparseable value is an error naming the field.
    fn addr(&self, f: Field) -> Result<Option<std::net::IpAddr>, String> {
        match self.text(f).map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => parse_ip(t)
                .map(Some)
                .ok_or_else(|| format!("invalid {} {:?}", f.name(), truncate(t))),
        }
    }

    /// The first element of a set-valued address field (`tx_hosts`, `rx_hosts`).
    fn first_addr(&self, f: Field) -> Result<Option<std::net::IpAddr>, String> {
        let Some(first) = self.text(f).and_then(|t| t.split(',').next()) else { return Ok(None) };
        match first.trim() {
            "" => Ok(None),
            t => parse_ip(t)
                .map(Some)
                .ok_or_else(|| format!("invalid {} {:?}", f.name(), truncate(t))),
        }
    }
}

/// Turns one record of `log` into an event.
fn to_event(r: &Record<'_>, log: Log) -> LineResult {
    use Field as F;
    let ts = r.text(F::Ts).ok_or("missing ts")?;
    let ts = Timestamp::parse(ts).map_err(|e| format!("invalid ts: {e}"))?;
    let is_orig = r.flag(F::IsOrig)?;
    let src = match log {
        Log::Notice => r.addr(F::OrigH)?.or(r.addr(F::Src)?),
        Log::Files => match r.addr(F::OrigH)? {
            Some(ip) => Some(ip),
            None if is_orig == Some(true) => r.first_addr(F::TxHosts)?,
            None => r.first_addr(F::RxHosts)?,
        },
        _ => r.addr(F::OrigH)?,
    };
    let Some(src) = src else {
        return match log {
            // Zeek writes these about no connection too (e.g. a weird of the capture).
            Log::Weird | Log::Notice => Ok(None),
            _ => Err("missing id.orig_h".into()),
        };
    };
    let ssh_success = r.flag(F::AuthSuccess)?;
    let kind = match log {
        Log::Conn => EventKind::Flow,
        Log::Http => EventKind::HttpRequest,
        Log::Notice => EventKind::IdsAlert,
        Log::Files if is_orig == Some(true) => EventKind::FileUpload,
        Log::Files => EventKind::FileDownload,
        Log::Ssh => match (ssh_success, r.num::<u64>(F::AuthAttempts)?) {
            (Some(true), _) => EventKind::LoginSuccess,
            (Some(false), _) => EventKind::LoginFailed,
            (None, Some(n)) if n > 0 => EventKind::LoginFailed,
            _ => EventKind::ClientVersion,
        },
        Log::Dns | Log::Ssl | Log::Weird => EventKind::Other,
    };
    let mut e = Event::new(ts, src, kind);
    e.src_port = r.num(F::OrigP)?;
    e.dst_ip = r.addr(F::RespH)?;
    e.dst_port = r.num(F::RespP)?;
    e.session = r.boxed(F::Uid);
    if let Some(p) = r.text(F::Proto).filter(|p| !p.is_empty()) {
        e.transport = Transport::from_name(p).unwrap_or(Transport::Other);
    }
    match log {
        Log::Conn => {
            e.app_proto = r.text(F::Service).map_or(AppProto::Unknown, services);
            e.duration = r.num::<f64>(F::Duration)?.filter(|d| *d >= 0.0);
            // IP-level bytes, as Suricata's flow records and the simulator count them (a
            // lone SYN is 40-60 bytes, not 0); payload bytes when those are all there is.
            let (payload_out, payload_in) = (r.num(F::OrigBytes)?, r.num(F::RespBytes)?);
            e.bytes_out = r.num(F::OrigIpBytes)?.or(payload_out);
            e.bytes_in = r.num(F::RespIpBytes)?.or(payload_in);
            e.packets_out = r.num(F::OrigPkts)?;
            e.packets_in = r.num(F::RespPkts)?;
            e.conn_state = r.boxed(F::ConnState);
        }
        Log::Dns => {
            e.app_proto = AppProto::Dns;
            e.event_id = Some("zeek.dns".into());
            e.dst_host = r.boxed(F::Query);
            e.answer = r.boxed(F::Answers);
        }
        Log::Http => {
            e.app_proto = AppProto::Http;
            e.method = r.boxed(F::Method).map(|m| m.to_ascii_uppercase().into());
            e.dst_host = r.boxed(F::Host);
            e.url = r.boxed(F::Uri);
            e.client = r.boxed(F::UserAgent);
            e.status = r.num(F::StatusCode)?;
            e.bytes_out = r.num(F::RequestBodyLen)?;
            e.bytes_in = r.num(F::ResponseBodyLen)?;
        }
        Log::Ssl => {
            e.app_proto = AppProto::Tls;
            e.event_id = Some("zeek.ssl".into());
            e.dst_host = r.boxed(F::ServerName);
        }
        Log::Ssh => {
            e.app_proto = AppProto::Ssh;
            e.client = r.boxed(F::Client);
        }
        Log::Notice => {
            e.signature = r.boxed(F::Note);
            e.category = r.boxed(F::Msg);
        }
        Log::Weird => {
            e.event_id = Some("zeek.weird".into());
            e.signature = r.boxed(F::Name);
        }
        Log::Files => {
            e.url = r.boxed(F::Filename).or_else(|| r.boxed(F::MimeType));
            let bytes = r.num(F::SeenBytes)?;
            if kind == EventKind::FileUpload { e.bytes_out = bytes } else { e.bytes_in = bytes }
        }
    }
    Ok(Some(e))
}

/// A `service` list (`ssl,http`): its first named protocol vigil knows, else `Other` when
/// it names any.
fn services(list: &str) -> AppProto {
    let all = || list.split(',').filter_map(service);
    all().find(|a| *a != AppProto::Other).or_else(|| all().next()).unwrap_or_default()
}

/// A `service` name: Zeek says `ssl` for TLS and may prefix `-` for a guess it dropped.
fn service(name: &str) -> Option<AppProto> {
    let n = name.trim().trim_start_matches('-');
    if n.eq_ignore_ascii_case("ssl") { Some(AppProto::Tls) } else { AppProto::from_name(n) }
}

/// The ASCII form's header state.
struct Header {
    separator: Vec<u8>,
    set_separator: String,
    empty: String,
    unset: String,
    path: Option<String>,
    /// The `#fields` columns, each mapped to the field it holds (or `None`); `None` before
    /// the first `#fields` line.
    columns: Option<Vec<Option<Field>>>,
}

impl Default for Header {
    fn default() -> Self {
        Self {
            separator: b"\t".to_vec(),
            set_separator: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: None,
            columns: None,
        }
    }
}

impl Header {
    /// Reads a `#` line (others than the headers above, like `#open` and `#close`, are
    /// ignored).
    fn read(&mut self, line: &[u8]) {
        if let Some(rest) = line.strip_prefix(b"#separator") {
            // A new log starts: `#separator \x09`, the value written escaped.
            *self = Self::default();
            let value = unescape(String::from_utf8_lossy(rest.trim_ascii()).as_ref()).into_owned();
            if !value.is_empty() {
                self.separator = value.into_bytes();
            }
            return;
        }
        let parts: Vec<Cow<'_, str>> =
            split(line, &self.separator).map(String::from_utf8_lossy).collect();
        let Some((key, values)) = parts.split_first() else { return };
        let value = || values.first().map(|v| v.as_ref().to_owned()).unwrap_or_default();
        match key.as_ref() {
            "#set_separator" => self.set_separator = unescape(&value()).into_owned(),
            "#empty_field" => self.empty = value(),
            "#unset_field" => self.unset = value(),
            "#path" => self.path = Some(value()),
            "#fields" => {
                self.columns = Some(values.iter().map(|name| Field::from_name(name)).collect());
            }
            _ => {}
        }
    }
}

/// `line` split at every occurrence of `sep` (never empty).
fn split<'a>(line: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let r = rest?;
        if let Some(at) = find(r, sep) {
            rest = Some(&r[at + sep.len()..]);
            Some(&r[..at])
        } else {
            rest = None;
            Some(r)
        }
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [b] => hay.iter().position(|x| x == b),
        _ => hay.windows(needle.len()).position(|w| w == needle),
    }
}

/// Zeek's `\xHH` escapes decoded (invalid UTF-8 replaced); borrowed when there are none.
fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains("\\x") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && bytes.get(i + 1) == Some(&b'x')
            && let Some(hex) = bytes.get(i + 2..i + 4)
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// A TSV data line under `header`.
fn tsv_line(header: &Header, line: &[u8]) -> LineResult {
    let Some(columns) = &header.columns else {
        return Err("a Zeek TSV record before any #fields header: send each batch with its \
                    header lines (#separator, #fields, #types)"
            .into());
    };
    let line =
        std::str::from_utf8(line).map_err(|e| format!("not UTF-8 (byte {})", e.valid_up_to()))?;
    let mut r = Record::new();
    let mut n = 0;
    for (value, column) in split(line.as_bytes(), &header.separator)
        .zip(columns.iter().map(Some).chain(std::iter::repeat(None)))
    {
        n += 1;
        let Some(Some(field)) = column else { continue };
        // Split at ASCII bytes of a UTF-8 string: every piece is UTF-8.
        let value = std::str::from_utf8(value).unwrap_or_default();
        if value == header.unset {
            continue;
        }
        r.values[*field as usize] = Some(if value == header.empty {
            Cow::Borrowed("")
        } else if header.set_separator != "," && is_set(*field) {
            Cow::Owned(unescape(value).replace(header.set_separator.as_str(), ","))
        } else {
            unescape(value)
        });
    }
    if n != columns.len() {
        return Err(format!(
            "{n} columns where the #fields header names {} ({})",
            columns.len(),
            if n < columns.len() { "a truncated line?" } else { "an extra separator?" }
        ));
    }
    let log = match &header.path {
        Some(p) => Log::from_path(p).ok_or_else(|| unread(p))?,
        None => Log::infer(&r).ok_or_else(unknown)?,
    };
    to_event(&r, log)
}

fn is_set(f: Field) -> bool {
    matches!(f, Field::Answers | Field::TxHosts | Field::RxHosts | Field::Service)
}

fn unread(path: &str) -> String {
    format!("Zeek log {:?} is not read (read: {READ})", truncate(path))
}

fn unknown() -> String {
    format!("a Zeek record of no known log type (no _path and none of the fields of {READ})")
}

/// A JSON line.
fn json_line(line: &[u8]) -> LineResult {
    let r: Record<'_> = serde_json::from_slice(line).map_err(|e| json_reason(&e))?;
    let log = match r.text(Field::Path) {
        Some(p) => Log::from_path(p).ok_or_else(|| unread(p))?,
        None => Log::infer(&r).ok_or_else(unknown)?,
    };
    to_event(&r, log)
}

/// Reads every line: headers, TSV records and JSON records.
pub(super) fn parse(reader: impl std::io::BufRead, out: &mut ParseOutcome) -> std::io::Result<()> {
    let mut header = Header::default();
    for_each_line(reader, out, |out, line, text| {
        let text = text.trim_ascii_end();
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.trim_ascii().is_empty() {
            return;
        }
        if text.first() == Some(&b'#') {
            header.read(text);
        } else if text.trim_ascii_start().first() == Some(&b'{') {
            push(out, line, json_line(text));
        } else {
            push(out, line, tsv_line(&header, text));
        }
    })
}

impl<'de: 'a, 'a> Deserialize<'de> for Record<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Record<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Zeek JSON record")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut r = Record::new();
                while let Some(key) = map.next_key::<Key>()? {
                    match key.0 {
                        Some(f) => r.values[f as usize] = map.next_value::<Flat<'a>>()?.0,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A JSON key: the field it names, if read.
struct Key(Option<Field>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(Field::from_name(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON value as Zeek's ASCII form would write it: text as is, numbers in decimal, bools
/// `T`/`F`, arrays joined with `,`; `null` is unset, objects are ignored.
struct Flat<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Flat<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Flat<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Zeek value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Flat<'a>, E> {
                Ok(Flat(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flat<'a>, E> {
                Ok(Flat(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flat<'a>, E> {
                Ok(Flat(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flat<'a>, E> {
                Ok(Flat(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Flat<'a>, E> {
                Ok(Flat(Some(Cow::Owned(format!("{v:.6}")))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flat<'a>, E> {
                Ok(Flat(Some(Cow::Borrowed(if v { "T" } else { "F" }))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Flat<'a>, E> {
                Ok(Flat(None))
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Flat<'a>, S::Error> {
                let mut joined = String::new();
                while let Some(item) = seq.next_element::<Flat<'_>>()? {
                    if let Some(text) = item.0 {
                        if !joined.is_empty() {
                            joined.push(',');
                        }
                        joined.push_str(&text);
                    }
                }
                Ok(Flat(Some(Cow::Owned(joined))))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Flat<'a>, M::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Flat(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Whether a first line looks like Zeek's ASCII form.
pub(super) fn is_ascii_header(line: &[u8]) -> bool {
    [&b"#separator"[..], b"#fields", b"#path", b"#set_separator"]
        .iter()
        .any(|h| line.starts_with(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Format, parse_str};

    const CONN: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
        #unset_field\t-\n#path\tconn\n\
        #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t\
        orig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts\tlabel\n\
        #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t\
        string\tcount\tcount\tstring\n\
        1655071231.749548\tC1\t192.0.2.7\t46563\t198.51.100.2\t3933\ttcp\t-\t0.000010\t0\t0\tS0\t2\t0\tMalicious\n";

    #[test]
    fn a_conn_record_becomes_a_flow() {
        let out = parse_str(Format::Zeek, CONN);
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let e = &out.events[0];
        assert_eq!(e.kind, EventKind::Flow);
        assert_eq!(e.timestamp.as_micros(), 1_655_071_231_749_548);
        assert_eq!(e.src_ip.to_string(), "192.0.2.7");
        assert_eq!((e.src_port, e.dst_port), (Some(46563), Some(3933)));
        assert_eq!(e.dst_ip.unwrap().to_string(), "198.51.100.2");
        assert_eq!(e.transport, Transport::Tcp);
        assert_eq!(e.app_proto, AppProto::Unknown);
        assert_eq!(e.conn_state.as_deref(), Some("S0"));
        // No IP byte columns here: the payload bytes.
        assert_eq!((e.packets_out, e.packets_in, e.bytes_out), (Some(2), Some(0), Some(0)));
        assert_eq!(e.duration, Some(0.00001));
        assert_eq!(e.session.as_deref(), Some("C1"));
    }

    #[test]
    fn escapes_sets_and_services() {
        assert_eq!(unescape("a\\x09b\\x2c"), "a\tb,");
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("\\xzz\\x4"), "\\xzz\\x4");
        assert_eq!(service("ssl"), Some(AppProto::Tls));
        assert_eq!(service("-http"), Some(AppProto::Http));
        assert_eq!(services("krb,ssl"), AppProto::Tls);
        assert_eq!(services("krb"), AppProto::Other);
    }
}
