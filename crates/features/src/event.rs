//! The one event type every parser produces and the extractor consumes.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::{FeatureError, Result};

/// A point in time: microseconds since the Unix epoch (UTC), within years -9999..=9999.
///
/// Always the event's own time as written in its payload, never the time it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The earliest representable time (`-009999-01-02T01:59:59Z`, as in `jiff`).
    pub const MIN: Self = Self(-377_705_023_201_000_000);
    /// The latest representable time (`9999-12-30T21:59:59.999999Z`).
    pub const MAX: Self = Self(253_402_207_199_999_999);

    /// The time `us` microseconds after the epoch, if within [`Self::MIN`]..=[`Self::MAX`].
    pub fn from_micros(us: i64) -> Option<Self> {
        (Self::MIN.0..=Self::MAX.0).contains(&us).then_some(Self(us))
    }

    /// The time `secs` seconds after the epoch, if representable.
    pub fn from_secs(secs: i64) -> Option<Self> {
        secs.checked_mul(1_000_000).and_then(Self::from_micros)
    }

    /// Microseconds since the epoch.
    pub fn as_micros(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch, with the fraction.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Parses RFC 3339 (`2018-05-06T17:44:05.866769Z`, `...+0000`, `...+02:00`, a space instead
    /// of `T`) or an epoch number written as text (see [`Self::from_epoch`]).
    ///
    /// A date-time without a UTC offset is rejected: its zone is unknown.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let invalid = |reason: &str| FeatureError::InvalidTimestamp {
            value: text.chars().take(80).collect(),
            reason: reason.to_owned(),
        };
        if t.is_empty() {
            return Err(invalid("empty"));
        }
        if t.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
            && t.contains(|c: char| c.is_ascii_digit())
        {
            if let Ok(whole) = t.parse::<i64>() {
                return Self::from_epoch_int(whole)
                    .ok_or_else(|| invalid("epoch value out of range"));
            }
            if let Ok(x) = t.parse::<f64>() {
                return Self::from_epoch(x).ok_or_else(|| invalid("epoch value out of range"));
            }
        }
        let parsed: jiff::Timestamp =
            t.parse().map_err(|e: jiff::Error| invalid(&e.to_string()))?;
        let us = parsed.as_microsecond();
        Self::from_micros(us).ok_or_else(|| invalid("out of range"))
    }

    /// An epoch number: seconds if |x| < 1e11, milliseconds if < 1e14, microseconds if
    /// < 1e17, nanoseconds otherwise (1e11 s is the year 5138; 1e11 ms is 1973).
    pub fn from_epoch(x: f64) -> Option<Self> {
        if !x.is_finite() {
            return None;
        }
        let scale = match x.abs() {
            a if a < 1e11 => 1e6,
            a if a < 1e14 => 1e3,
            a if a < 1e17 => 1.0,
            _ => 1e-3,
        };
        let us = (x * scale).round();
        if us.abs() > 9e18 {
            return None;
        }
        Self::from_micros(us as i64)
    }

    /// [`Self::from_epoch`] for an integer, without going through `f64`.
    pub fn from_epoch_int(x: i64) -> Option<Self> {
        let us = match x.unsigned_abs() {
            a if a < 100_000_000_000 => x.checked_mul(1_000_000)?,
            a if a < 100_000_000_000_000 => x.checked_mul(1_000)?,
            a if a < 100_000_000_000_000_000 => x,
            _ => x / 1_000,
        };
        Self::from_micros(us)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with as many fraction digits as needed, e.g. `2018-05-06T17:44:05.866769Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_microsecond(self.0) {
            Ok(t) => write!(f, "{t}"),
            Err(_) => write!(f, "{}us", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = FeatureError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// What happened, in one vocabulary for every source.
///
/// The serde name (used by the generic JSONL format) is the snake_case variant name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A client opened a session (TCP connection) to a sensor (`cowrie.session.connect`).
    SessionConnect,
    /// A session ended; `duration` holds its length (`cowrie.session.closed`).
    SessionClosed,
    /// The client announced its software (`cowrie.client.version`, Suricata `ssh`); in `client`.
    ClientVersion,
    /// A failed authentication attempt; `username`, `password`.
    LoginFailed,
    /// A successful authentication; `username`, `password`.
    LoginSuccess,
    /// A command the client typed or ran (`cowrie.command.input`); in `command`.
    Command,
    /// A command the sensor did not know (`cowrie.command.failed`); in `command`.
    CommandFailed,
    /// A file download attempt (`cowrie.session.file_download[.failed]`); URL in `url`.
    FileDownload,
    /// A file the client uploaded (`cowrie.session.file_upload`); name in `url`.
    FileUpload,
    /// A request to tunnel a TCP connection through the sensor (`cowrie.direct-tcpip.request`).
    ForwardRequest,
    /// Data sent through such a tunnel (`cowrie.direct-tcpip.data`); length in `bytes_out`.
    ForwardData,
    /// An HTTP request: `method`, `url`, `status`, bytes.
    HttpRequest,
    /// An IDS alert: `signature`, `category`, `severity`.
    IdsAlert,
    /// A network flow record with byte counts and duration.
    Flow,
    /// Anything else; the source's own event id is kept in `event_id`.
    Other,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 15] = [
        Self::SessionConnect,
        Self::SessionClosed,
        Self::ClientVersion,
        Self::LoginFailed,
        Self::LoginSuccess,
        Self::Command,
        Self::CommandFailed,
        Self::FileDownload,
        Self::FileUpload,
        Self::ForwardRequest,
        Self::ForwardData,
        Self::HttpRequest,
        Self::IdsAlert,
        Self::Flow,
        Self::Other,
    ];
}

/// The transport protocol, when the source says or implies it.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// Not stated.
    #[default]
    Unknown,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6.
    Icmp,
    /// Some other IP protocol. Stays the last variant: the extractor sizes its counts by it.
    Other,
}

impl Transport {
    /// Case-insensitive name (`tcp`, `udp`, `icmp`, `ipv6-icmp`, `icmpv6`), else `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim();
        [
            ("tcp", Self::Tcp),
            ("udp", Self::Udp),
            ("icmp", Self::Icmp),
            ("ipv6-icmp", Self::Icmp),
            ("icmpv6", Self::Icmp),
        ]
        .into_iter()
        .find_map(|(k, v)| n.eq_ignore_ascii_case(k).then_some(v))
    }
}

/// The application protocol, when the source says or the payload shows it.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AppProto {
    /// Not stated.
    #[default]
    Unknown,
    /// SSH.
    Ssh,
    /// Telnet.
    Telnet,
    /// HTTP (any version).
    Http,
    /// TLS.
    Tls,
    /// DNS.
    Dns,
    /// FTP.
    Ftp,
    /// SMTP.
    Smtp,
    /// SMB.
    Smb,
    /// Some other named protocol. Stays the last variant: the extractor sizes its counts by it.
    Other,
}

impl AppProto {
    /// Case-insensitive name (`ssh`, `telnet`, `http`, `http2`, `tls`, `dns`, `ftp`, `smtp`,
    /// `smb`); `None` for an empty or unknown-sentinel name (`failed`, `unknown`), `Other`
    /// for any other.
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim();
        if n.is_empty() || n.eq_ignore_ascii_case("failed") || n.eq_ignore_ascii_case("unknown") {
            return None;
        }
        let known = [
            ("ssh", Self::Ssh),
            ("telnet", Self::Telnet),
            ("http", Self::Http),
            ("http2", Self::Http),
            ("https", Self::Tls),
            ("tls", Self::Tls),
            ("dns", Self::Dns),
            ("ftp", Self::Ftp),
            ("ftp-data", Self::Ftp),
            ("smtp", Self::Smtp),
            ("smb", Self::Smb),
        ];
        Some(
            known
                .into_iter()
                .find_map(|(k, v)| n.eq_ignore_ascii_case(k).then_some(v))
                .unwrap_or(Self::Other),
        )
    }
}

/// One security event, normalised from any source.
///
/// Build one with [`Event::new`] and set the fields that apply; every optional field is
/// `None` when the source does not carry it. Strings are kept as the source wrote them,
/// except `method`, which is upper-cased.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened, from the payload.
    pub timestamp: Timestamp,
    /// What happened.
    pub kind: EventKind,
    /// The source (the entity features are computed for). IPv4-mapped IPv6 is stored as IPv4.
    pub src_ip: IpAddr,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination address, when given as an address.
    pub dst_ip: Option<IpAddr>,
    /// Destination or virtual host when given as a name (Cowrie tunnel target, HTTP `Host`, TLS
    /// SNI, DNS query).
    pub dst_host: Option<Box<str>>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Transport protocol.
    pub transport: Transport,
    /// Application protocol.
    pub app_proto: AppProto,
    /// The sensor (honeypot, IDS) that saw it.
    pub sensor: Option<Box<str>>,
    /// Session or flow id, unique within a sensor.
    pub session: Option<Box<str>>,
    /// Username tried.
    pub username: Option<Box<str>>,
    /// Password tried (may be empty: an empty password is a real attempt).
    pub password: Option<Box<str>>,
    /// Command line.
    pub command: Option<Box<str>>,
    /// URL, request path or file name.
    pub url: Option<Box<str>>,
    /// HTTP method, upper-case.
    pub method: Option<Box<str>>,
    /// HTTP status code.
    pub status: Option<u16>,
    /// Bytes sent to the source (server to client).
    pub bytes_in: Option<u64>,
    /// Bytes sent by the source (client to server).
    pub bytes_out: Option<u64>,
    /// Duration in seconds (session or flow length).
    pub duration: Option<f64>,
    /// Packets sent to the source (flow records).
    pub packets_in: Option<u64>,
    /// Packets sent by the source (flow records).
    pub packets_out: Option<u64>,
    /// The flow's connection state as the monitor wrote it (Zeek `conn_state`: `S0`, `SF`,
    /// `REJ`, ...).
    pub conn_state: Option<Box<str>>,
    /// DNS answers, comma-separated as the monitor wrote them (the query is in `dst_host`).
    pub answer: Option<Box<str>>,
    /// IDS signature text.
    pub signature: Option<Box<str>>,
    /// IDS category (classification).
    pub category: Option<Box<str>>,
    /// IDS severity, 1 = most severe (Suricata convention).
    pub severity: Option<u8>,
    /// Client software: SSH version string or HTTP User-Agent.
    pub client: Option<Box<str>>,
    /// The source's own event id, kept when `kind` is [`EventKind::Other`].
    pub event_id: Option<Box<str>>,
    /// Whether a string field was cut to its byte budget ([`Event::enforce_budgets`]).
    pub truncated: bool,
}

/// Most bytes kept of a command line.
pub const MAX_COMMAND_BYTES: usize = 4096;
/// Most bytes kept of a URL, request path or file name.
pub const MAX_URL_BYTES: usize = 2048;
/// Most bytes kept of a client string (SSH version, HTTP User-Agent), an IDS signature or
/// DNS answers.
pub const MAX_CLIENT_BYTES: usize = 512;
/// Most bytes kept of every other string field (host, sensor, session, username, password,
/// method, category, event id, connection state).
pub const MAX_FIELD_BYTES: usize = 256;

/// Cuts `field` to at most `max` bytes at a character boundary; whether it cut.
fn cut(field: &mut Option<Box<str>>, max: usize) -> bool {
    let Some(text) = field.as_deref() else { return false };
    if text.len() <= max {
        return false;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    *field = Some(text[..end].into());
    true
}

impl Event {
    /// An event with the three required fields and every optional one unset.
    pub fn new(timestamp: Timestamp, src_ip: IpAddr, kind: EventKind) -> Self {
        Self {
            timestamp,
            kind,
            src_ip: src_ip.to_canonical(),
            src_port: None,
            dst_ip: None,
            dst_host: None,
            dst_port: None,
            transport: Transport::Unknown,
            app_proto: AppProto::Unknown,
            sensor: None,
            session: None,
            username: None,
            password: None,
            command: None,
            url: None,
            method: None,
            status: None,
            bytes_in: None,
            bytes_out: None,
            duration: None,
            packets_in: None,
            packets_out: None,
            conn_state: None,
            answer: None,
            signature: None,
            category: None,
            severity: None,
            client: None,
            event_id: None,
            truncated: false,
        }
    }

    /// Cuts every string field to its byte budget ([`MAX_COMMAND_BYTES`], [`MAX_URL_BYTES`],
    /// [`MAX_CLIENT_BYTES`], [`MAX_FIELD_BYTES`]) at a character boundary and marks the event
    /// `truncated` when anything was cut. Every parser applies it, so one event holds at
    /// most about 8 KiB of text however large its record, and training and serving cut the
    /// same way.
    pub fn enforce_budgets(&mut self) {
        let mut cut_any = cut(&mut self.command, MAX_COMMAND_BYTES);
        cut_any |= cut(&mut self.url, MAX_URL_BYTES);
        cut_any |= cut(&mut self.client, MAX_CLIENT_BYTES);
        cut_any |= cut(&mut self.signature, MAX_CLIENT_BYTES);
        cut_any |= cut(&mut self.answer, MAX_CLIENT_BYTES);
        for field in [
            &mut self.dst_host,
            &mut self.sensor,
            &mut self.session,
            &mut self.username,
            &mut self.password,
            &mut self.method,
            &mut self.category,
            &mut self.event_id,
            &mut self.conn_state,
        ] {
            cut_any |= cut(field, MAX_FIELD_BYTES);
        }
        self.truncated |= cut_any;
    }

    /// The bytes this event holds: the struct and its strings (what window byte budgets
    /// count).
    pub fn approx_bytes(&self) -> usize {
        let text = |f: &Option<Box<str>>| f.as_deref().map_or(0, str::len);
        std::mem::size_of::<Self>()
            + [
                &self.dst_host,
                &self.sensor,
                &self.session,
                &self.username,
                &self.password,
                &self.command,
                &self.url,
                &self.method,
                &self.signature,
                &self.category,
                &self.client,
                &self.event_id,
                &self.conn_state,
                &self.answer,
            ]
            .into_iter()
            .map(text)
            .sum::<usize>()
    }

    /// A total order: by timestamp, then by every other field. Extraction sorts by it, so
    /// the same events in any order give bit-identical features.
    pub fn canonical_cmp(&self, other: &Self) -> Ordering {
        self.timestamp
            .cmp(&other.timestamp)
            .then_with(|| self.kind.cmp(&other.kind))
            .then_with(|| self.src_ip.cmp(&other.src_ip))
            .then_with(|| self.src_port.cmp(&other.src_port))
            .then_with(|| self.dst_ip.cmp(&other.dst_ip))
            .then_with(|| self.dst_host.cmp(&other.dst_host))
            .then_with(|| self.dst_port.cmp(&other.dst_port))
            .then_with(|| self.transport.cmp(&other.transport))
            .then_with(|| self.app_proto.cmp(&other.app_proto))
            .then_with(|| self.sensor.cmp(&other.sensor))
            .then_with(|| self.session.cmp(&other.session))
            .then_with(|| self.username.cmp(&other.username))
            .then_with(|| self.password.cmp(&other.password))
            .then_with(|| self.command.cmp(&other.command))
            .then_with(|| self.url.cmp(&other.url))
            .then_with(|| self.method.cmp(&other.method))
            .then_with(|| self.status.cmp(&other.status))
            .then_with(|| self.bytes_in.cmp(&other.bytes_in))
            .then_with(|| self.bytes_out.cmp(&other.bytes_out))
            .then_with(|| cmp_f64(self.duration, other.duration))
            .then_with(|| self.packets_in.cmp(&other.packets_in))
            .then_with(|| self.packets_out.cmp(&other.packets_out))
            .then_with(|| self.conn_state.cmp(&other.conn_state))
            .then_with(|| self.answer.cmp(&other.answer))
            .then_with(|| self.signature.cmp(&other.signature))
            .then_with(|| self.category.cmp(&other.category))
            .then_with(|| self.severity.cmp(&other.severity))
            .then_with(|| self.client.cmp(&other.client))
            .then_with(|| self.event_id.cmp(&other.event_id))
            .then_with(|| self.truncated.cmp(&other.truncated))
    }
}

fn cmp_f64(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

/// Splits events into per-source windows, each in input order.
pub fn group_by_source(events: impl IntoIterator<Item = Event>) -> BTreeMap<IpAddr, Vec<Event>> {
    let mut out: BTreeMap<IpAddr, Vec<Event>> = BTreeMap::new();
    for event in events {
        out.entry(event.src_ip).or_default().push(event);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected_us: i64) {
        assert_eq!(Timestamp::parse(text).unwrap().as_micros(), expected_us, "{text}");
    }

    #[test]
    fn timestamps_parse_rfc3339_and_epochs() {
        let us = 1_525_628_645_866_769;
        check("2018-05-06T17:44:05.866769Z", us);
        check("2018-05-06T17:44:05.866769+0000", us);
        check("2018-05-06T19:44:05.866769+02:00", us);
        check("2018-05-06 17:44:05.866769Z", us);
        check("1525628645", 1_525_628_645_000_000);
        check("1525628645866", 1_525_628_645_866_000);
        check("1525628645866769", us);
        check("1525628645.5", 1_525_628_645_500_000);
        assert_eq!(
            Timestamp::from_epoch(1_525_628_645.866_769).unwrap().as_micros() / 1000,
            us / 1000
        );
        assert_eq!(
            Timestamp::from_epoch_int(1_525_628_645_866).unwrap().as_micros(),
            1_525_628_645_866_000
        );
    }

    #[test]
    fn timestamps_without_zone_or_garbage_are_errors() {
        for bad in ["", "2018-05-06T17:44:05", "2025-...Z", "now", "NaN", "1e400", "--1"] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(Timestamp::from_epoch(f64::NAN).is_none());
        assert!(Timestamp::from_epoch(1e25).is_none());
        // i64::MAX read as nanoseconds is in 2262.
        assert!(Timestamp::from_epoch_int(i64::MAX).is_some());
    }

    #[test]
    fn timestamps_display_as_rfc3339_and_round_trip() {
        let t = Timestamp::parse("2018-05-06T17:44:05.866769Z").unwrap();
        assert_eq!(t.to_string(), "2018-05-06T17:44:05.866769Z");
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
        assert_eq!(Timestamp::MIN.to_string().parse::<Timestamp>().unwrap(), Timestamp::MIN);
        assert_eq!(Timestamp::MAX.to_string().parse::<Timestamp>().unwrap(), Timestamp::MAX);
    }

    #[test]
    fn canonical_order_breaks_timestamp_ties() {
        let t = Timestamp::from_secs(10).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let a = Event::new(t, ip, EventKind::LoginFailed);
        let mut b = a.clone();
        b.username = Some("root".into());
        assert_eq!(a.canonical_cmp(&b), Ordering::Less);
        assert_eq!(b.canonical_cmp(&a), Ordering::Greater);
        assert_eq!(a.canonical_cmp(&a.clone()), Ordering::Equal);
    }

    #[test]
    fn mapped_ipv6_sources_are_stored_as_ipv4() {
        let e = Event::new(
            Timestamp::from_secs(0).unwrap(),
            "::ffff:192.0.2.1".parse().unwrap(),
            EventKind::Other,
        );
        assert_eq!(e.src_ip, "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
