//! The building blocks scenarios are written with: a per-entity context holding the RNG and
//! the events so far, clocks, addresses, and one helper per kind of activity (an SSH or
//! Telnet session, an HTTP request, a flow record, an IDS alert).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use vigil_features::{AppProto, Event, EventKind, Timestamp, Transport};

use super::SimParams;
use super::vocab::{self, Vocab};

pub(super) const SEC: i64 = 1_000_000;
pub(super) const MIN: i64 = 60 * SEC;
pub(super) const HOUR: i64 = 60 * MIN;
pub(super) const DAY: i64 = 24 * HOUR;

/// 2018-05-07T00:00:00Z, a Monday inside the span of the Cowrie logs the word lists come
/// from. Every entity starts within [`SPAN_DAYS`] days of it.
pub(super) const BASE_US: i64 = 1_525_651_200 * SEC;
pub(super) const SPAN_DAYS: i64 = 28;

/// The simulated organisation: a public web shop, two SSH hosts (a bastion and a honeypot
/// that look alike from outside), a public DNS server, and an internal network 10.20.0.0/16
/// with a resolver and a file server.
pub(super) const WEB: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 80);
pub(super) const WEB_HOST: &str = "shop.example.com";
pub(super) const SSH_HOSTS: [Ipv4Addr; 2] =
    [Ipv4Addr::new(203, 0, 113, 22), Ipv4Addr::new(203, 0, 113, 23)];
pub(super) const PUBLIC_DNS: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 53);
pub(super) const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 53);
pub(super) const FILE_SERVER: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 10);

/// One entity being generated.
pub(super) struct Ctx<'a> {
    pub(super) rng: ChaCha8Rng,
    pub(super) level: u8,
    pub(super) v: &'a Vocab,
    /// Source addresses already given to other entities.
    used: &'a mut BTreeSet<IpAddr>,
    ip: Option<IpAddr>,
    /// The sensor and ports this entity's SSH/Telnet sessions reach (drawn at its first
    /// session): a source works one honeypot port, as the real logs show.
    shell_target: Option<(Ipv4Addr, u16, u16)>,
    /// The deployment's SSH/Telnet ports, if set ([`SimParams::shell_ports`]).
    shell_ports: Option<(u16, u16)>,
    pub(super) events: Vec<Event>,
    /// Flow records made so far (each flow is its own session: `flow-<n>`).
    flows: u32,
}

/// The session an event belongs to.
#[derive(Clone)]
pub(super) struct Tag {
    id: Box<str>,
    sensor: &'static str,
    app: AppProto,
    dst: Ipv4Addr,
    dst_port: u16,
    src_port: u16,
}

/// One step of a shell session.
pub(super) enum Step {
    Login {
        user: String,
        pass: String,
        ok: bool,
    },
    Command(String),
    /// A `direct-tcpip` tunnel: request, then data of `bytes` (an HTTP or SMTP first line
    /// when `line` is given).
    Forward {
        dst: Dest,
        port: u16,
        bytes: u64,
        line: Option<&'static str>,
    },
    /// Idle time before the next step.
    Wait(i64),
}

/// A tunnel destination: an address or a host name.
#[derive(Clone, Copy)]
pub(super) enum Dest {
    Ip(IpAddr),
    Host(&'static str),
}

/// An SSH (or Telnet) session to one of the SSH hosts.
pub(super) struct Shell {
    pub(super) telnet: bool,
    pub(super) client: Option<&'static str>,
    pub(super) steps: Vec<Step>,
    /// Seconds between steps, drawn log-uniformly.
    pub(super) gap: (f64, f64),
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        rng: ChaCha8Rng,
        params: &SimParams,
        v: &'a Vocab,
        used: &'a mut BTreeSet<IpAddr>,
    ) -> Self {
        Self {
            rng,
            level: params.difficulty,
            v,
            used,
            ip: None,
            shell_ports: params.shell_ports,
            shell_target: None,
            events: Vec::new(),
            flows: 0,
        }
    }

    /// The entity's address and its events (an entity with no address yet gets a public one).
    pub(super) fn finish(mut self) -> (IpAddr, Vec<Event>) {
        let ip = self.ip();
        let mut events = self.events;
        events.sort_by(Event::canonical_cmp);
        (ip, events)
    }

    /// Keeps only the first `k` events (by time): the entity was seen only as it started.
    pub(super) fn keep_first(&mut self, k: usize) {
        self.events.sort_by(Event::canonical_cmp);
        self.events.truncate(k.max(1));
    }

    // Randomness.

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    pub(super) fn count(&mut self, lo: usize, hi: usize) -> usize {
        if hi <= lo { lo } else { self.rng.random_range(lo..=hi) }
    }

    /// A count in `lo..=hi` drawn log-uniformly (small counts as likely as large ranges).
    pub(super) fn log_count(&mut self, lo: usize, hi: usize) -> usize {
        let x = self.uniform((lo.max(1) as f64).ln(), ((hi + 1) as f64).ln());
        (x.exp() as usize).clamp(lo, hi)
    }

    pub(super) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo { lo } else { self.rng.random_range(lo..hi) }
    }

    pub(super) fn bytes(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo { lo } else { self.rng.random_range(lo..=hi) }
    }

    /// Bytes drawn log-uniformly (sizes span orders of magnitude).
    pub(super) fn log_bytes(&mut self, lo: u64, hi: u64) -> u64 {
        let x = self.uniform((lo.max(1) as f64).ln(), (hi.max(1) as f64).ln());
        x.exp() as u64
    }

    /// A duration of `lo..hi` seconds, in µs.
    pub(super) fn secs(&mut self, lo: f64, hi: f64) -> i64 {
        (self.uniform(lo, hi) * 1e6) as i64
    }

    /// A duration drawn log-uniformly from `lo..hi` seconds, in µs: most gaps short, a few long.
    pub(super) fn log_secs(&mut self, lo: f64, hi: f64) -> i64 {
        let x = self.uniform(lo.max(1e-6).ln(), hi.max(1e-6).ln());
        (x.exp() * 1e6) as i64
    }

    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    /// A list item, skewed to the head (lists are ordered most frequent first).
    pub(super) fn skewed(&mut self, items: &[&'static str]) -> &'static str {
        vocab::skewed(&mut self.rng, items)
    }

    /// A variant of a scenario: one of `base`, or with the level's hard-case share one of the
    /// hard variants unlocked at or below the level.
    pub(super) fn variant(
        &mut self,
        base: &[&'static str],
        hard: &[(u8, &'static str)],
    ) -> &'static str {
        let unlocked: Vec<&'static str> =
            hard.iter().filter(|(l, _)| *l <= self.level).map(|(_, n)| *n).collect();
        if !unlocked.is_empty() && self.chance(super::hard_share(self.level)) {
            self.pick(&unlocked)
        } else {
            self.pick(base)
        }
    }

    // Clocks.

    /// Midnight of a day in the span (a weekday when asked).
    fn day(&mut self, weekday: bool) -> i64 {
        loop {
            let d = self.rng.random_range(0..SPAN_DAYS);
            // BASE is a Monday: d % 7 of 5 and 6 are Saturday and Sunday.
            if !weekday || d % 7 < 5 {
                return BASE_US + d * DAY;
            }
        }
    }

    /// A time between `lo` and `hi` o'clock (UTC) on some day.
    pub(super) fn at_hour(&mut self, lo: f64, hi: f64, weekday: bool) -> i64 {
        let day = self.day(weekday);
        day + (self.uniform(lo, hi) * HOUR as f64) as i64
    }

    /// Any time in the span.
    pub(super) fn anytime(&mut self) -> i64 {
        self.at_hour(0.0, 24.0, false)
    }

    // Addresses.

    /// The entity's source address (a public one, chosen now, if none was chosen).
    pub(super) fn ip(&mut self) -> IpAddr {
        match self.ip {
            Some(ip) => ip,
            None => self.external(),
        }
    }

    /// Gives the entity a fresh public source address.
    pub(super) fn external(&mut self) -> IpAddr {
        loop {
            let ip = self.public_ip();
            if self.used.insert(ip) {
                self.ip = Some(ip);
                return ip;
            }
        }
    }

    /// Gives the entity a fresh address in the internal network (10.20.16.0 – 10.20.255.255,
    /// clear of the servers in 10.20.0.0/20).
    pub(super) fn internal(&mut self) -> IpAddr {
        loop {
            let ip = IpAddr::V4(Ipv4Addr::new(
                10,
                20,
                self.rng.random_range(16..=255),
                self.rng.random_range(2..=254),
            ));
            if self.used.insert(ip) {
                self.ip = Some(ip);
                return ip;
            }
        }
    }

    /// An internal server (10.20.0.0/20), the targets of lateral movement and administration.
    pub(super) fn internal_server(&mut self) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(
            10,
            20,
            self.rng.random_range(0..16),
            self.rng.random_range(1..=254),
        ))
    }

    /// A random globally routable IPv4 address.
    pub(super) fn public_ip(&mut self) -> IpAddr {
        loop {
            let a = Ipv4Addr::from(self.rng.random::<u32>());
            if is_public(a) {
                return IpAddr::V4(a);
            }
        }
    }

    /// Any port.
    pub(super) fn port(&mut self) -> u16 {
        self.rng.random_range(1..=65_535)
    }

    pub(super) fn src_port(&mut self) -> u16 {
        self.rng.random_range(32768..61000)
    }

    fn session_id(&mut self) -> Box<str> {
        format!("{:012x}", self.rng.random::<u64>() >> 16).into()
    }

    // Events.

    pub(super) fn push(&mut self, t: i64, kind: EventKind) -> &mut Event {
        let ts = Timestamp::from_micros(t).expect("simulated times lie in 2018");
        let ip = self.ip();
        self.events.push(Event::new(ts, ip, kind));
        self.events.last_mut().expect("just pushed")
    }

    fn in_session(&mut self, t: i64, kind: EventKind, tag: &Tag) -> &mut Event {
        let e = self.push(t, kind);
        e.session = Some(tag.id.clone());
        e.sensor = Some(tag.sensor.into());
        e.transport = Transport::Tcp;
        e.app_proto = tag.app;
        e
    }

    /// An SSH or Telnet session starting at `t0`, as Cowrie or sshd logs it; returns its end.
    pub(super) fn shell(&mut self, t0: i64, s: &Shell) -> i64 {
        // Honeypots (Cowrie) listen on 2222/2223 behind a redirect and log that port (the
        // real logs show only 2222); a source keeps to one sensor and port. Every class
        // draws from the same mix, so neither says anything about the label.
        let (dst, ssh_port, telnet_port) = if let Some(target) = self.shell_target {
            target
        } else {
            let (ssh, telnet) = self
                .shell_ports
                .unwrap_or_else(|| if self.chance(0.5) { (2222, 2223) } else { (22, 23) });
            let target = (self.pick(&SSH_HOSTS), ssh, telnet);
            self.shell_target = Some(target);
            target
        };
        let tag = Tag {
            id: self.session_id(),
            sensor: if s.telnet { "telnet-1" } else { "ssh-1" },
            app: if s.telnet { AppProto::Telnet } else { AppProto::Ssh },
            dst,
            dst_port: if s.telnet { telnet_port } else { ssh_port },
            src_port: self.src_port(),
        };
        let e = self.in_session(t0, EventKind::SessionConnect, &tag);
        e.src_port = Some(tag.src_port);
        e.dst_ip = Some(IpAddr::V4(tag.dst));
        e.dst_port = Some(tag.dst_port);
        let mut t = t0 + self.secs(0.05, 0.8);
        if let Some(client) = s.client {
            self.in_session(t, EventKind::ClientVersion, &tag).client = Some(client.into());
        }
        for step in &s.steps {
            t += self.log_secs(s.gap.0, s.gap.1);
            match step {
                Step::Login { user, pass, ok } => {
                    let kind = if *ok { EventKind::LoginSuccess } else { EventKind::LoginFailed };
                    let e = self.in_session(t, kind, &tag);
                    e.username = Some(user.as_str().into());
                    e.password = Some(pass.as_str().into());
                }
                Step::Command(command) => {
                    self.in_session(t, EventKind::Command, &tag).command =
                        Some(command.as_str().into());
                    for url in vocab::urls_in(command) {
                        t += self.secs(0.5, 8.0);
                        self.in_session(t, EventKind::FileDownload, &tag).url = Some(url.into());
                    }
                }
                Step::Forward { dst, port, bytes, line } => {
                    self.forward(t, &tag, *dst, *port, *bytes, *line);
                    t += self.secs(0.1, 2.0) + (*bytes as f64 / 2e6 * 1e6) as i64;
                }
                Step::Wait(us) => t += us,
            }
        }
        t += self.secs(0.05, 2.0);
        self.in_session(t, EventKind::SessionClosed, &tag).duration = Some((t - t0) as f64 / 1e6);
        t
    }

    /// An Android Debug Bridge session on port 5555, as ADBHoney logs it: connect, shell
    /// commands (no login: ADB asks for none), perhaps a pushed file, close. Returns its end.
    pub(super) fn adb(&mut self, t0: i64, commands: &[String], upload: Option<&str>) -> i64 {
        let tag = Tag {
            id: self.session_id(),
            sensor: "adb-1",
            app: AppProto::Other,
            dst: SSH_HOSTS[1],
            dst_port: 5555,
            src_port: self.src_port(),
        };
        let e = self.in_session(t0, EventKind::SessionConnect, &tag);
        e.src_port = Some(tag.src_port);
        e.dst_ip = Some(IpAddr::V4(tag.dst));
        e.dst_port = Some(tag.dst_port);
        let mut t = t0;
        if let Some(name) = upload {
            t += self.secs(0.2, 3.0);
            self.in_session(t, EventKind::FileUpload, &tag).url = Some(name.into());
        }
        for command in commands {
            t += self.log_secs(0.2, 5.0);
            self.in_session(t, EventKind::Command, &tag).command = Some(command.as_str().into());
        }
        t += self.secs(0.05, 2.0);
        self.in_session(t, EventKind::SessionClosed, &tag).duration = Some((t - t0) as f64 / 1e6);
        t
    }

    fn forward(
        &mut self,
        t: i64,
        tag: &Tag,
        dst: Dest,
        port: u16,
        bytes: u64,
        line: Option<&'static str>,
    ) {
        let set_dst = |e: &mut Event| match dst {
            Dest::Ip(ip) => e.dst_ip = Some(ip),
            Dest::Host(h) => match h.parse::<IpAddr>() {
                Ok(ip) => e.dst_ip = Some(ip),
                Err(_) => e.dst_host = Some(h.into()),
            },
        };
        let e = self.in_session(t, EventKind::ForwardRequest, tag);
        set_dst(e);
        e.dst_port = Some(port);
        let t = t + self.secs(0.05, 0.5);
        let e = self.in_session(t, EventKind::ForwardData, tag);
        set_dst(e);
        e.dst_port = Some(port);
        e.bytes_out = Some(bytes);
        match line {
            Some(l) if l.starts_with("EHLO") => e.app_proto = AppProto::Smtp,
            Some(l) => {
                let mut parts = l.split(' ');
                e.app_proto = AppProto::Http;
                e.method = parts.next().map(Into::into);
                let host = match dst {
                    Dest::Host(h) => h.to_owned(),
                    Dest::Ip(ip) => ip.to_string(),
                };
                e.url = Some(format!("http://{host}{}", parts.next().unwrap_or("/")).into());
            }
            None if port == 443 => e.app_proto = AppProto::Tls,
            None => {}
        }
    }

    /// One request to the web shop, as its web-honeypot/access log records it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn http(
        &mut self,
        t: i64,
        src_port: u16,
        method: &str,
        url: &str,
        status: u16,
        agent: &str,
        bytes_in: u64,
    ) {
        let bytes_out = 180 + url.len() as u64 + agent.len() as u64 + self.bytes(0, 300);
        let e = self.push(t, EventKind::HttpRequest);
        e.src_port = Some(src_port);
        e.dst_ip = Some(IpAddr::V4(WEB));
        e.dst_host = Some(WEB_HOST.into());
        e.dst_port = Some(443);
        e.transport = Transport::Tcp;
        e.app_proto = AppProto::Http;
        e.sensor = Some("web-1".into());
        e.method = Some(method.into());
        e.url = Some(url.into());
        e.status = Some(status);
        e.client = Some(agent.into());
        e.bytes_in = Some(bytes_in);
        e.bytes_out = Some(bytes_out);
    }

    /// A flow record from the network sensor, as Zeek's `conn` log or Suricata's `flow`
    /// records give it: its own session (the flow id), IP-level bytes each way, and the
    /// state (`S0`: nothing came back; `REJ`: one bare packet back to a TCP probe, a reset;
    /// else `SF`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn flow(
        &mut self,
        t: i64,
        dst: IpAddr,
        port: u16,
        transport: Transport,
        app: AppProto,
        bytes_out: u64,
        bytes_in: u64,
        seconds: f64,
    ) {
        let src_port = self.src_port();
        self.flows += 1;
        let id = format!("flow-{}", self.flows);
        let e = self.push(t, EventKind::Flow);
        e.src_port = Some(src_port);
        e.dst_ip = Some(dst);
        e.dst_port = Some(port);
        e.transport = transport;
        e.app_proto = app;
        e.sensor = Some("ids-1".into());
        e.session = Some(id.into());
        e.bytes_out = Some(bytes_out);
        e.bytes_in = Some(bytes_in);
        let reset = transport == Transport::Tcp && app == AppProto::Unknown && bytes_in <= 60;
        let state = match bytes_in {
            0 => "S0",
            _ if reset => "REJ",
            _ => "SF",
        };
        e.conn_state = Some(state.into());
        // Flow records carry microseconds, like the event times.
        e.duration = Some((seconds * 1e6).round() / 1e6);
    }

    /// An IDS alert from the network sensor (severity 1 = most severe).
    pub(super) fn alert(
        &mut self,
        t: i64,
        dst: IpAddr,
        port: u16,
        signature: &str,
        category: &str,
        severity: u8,
    ) {
        let src_port = self.src_port();
        let e = self.push(t, EventKind::IdsAlert);
        e.src_port = Some(src_port);
        e.dst_ip = Some(dst);
        e.dst_port = Some(port);
        e.transport = Transport::Tcp;
        e.sensor = Some("ids-1".into());
        e.signature = Some(signature.into());
        e.category = Some(category.into());
        e.severity = Some(severity);
    }
}

/// Whether `a` is globally routable: not in a private, shared, loopback, link-local,
/// documentation, benchmarking, multicast or reserved block.
pub(super) fn is_public(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    !(a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_documentation()
        || a.is_multicast()
        || a.is_broadcast()
        || a.is_unspecified()
        || o0 == 0
        || o0 >= 240
        || (o0 == 100 && (o1 & 0xc0) == 64)
        || (o0 == 192 && o1 == 0 && o2 == 0)
        || (o0 == 198 && (o1 & 0xfe) == 18))
}
