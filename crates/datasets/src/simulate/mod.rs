//! The scenario simulator: seeded, labelled event streams for the 7 threat classes.
//!
//! [`simulate`] turns [`SimParams`] into [`SimEntity`]s: one source address each, a class
//! label (an index into [`vigil_core::ClassSet::threat`]: Normal, DDoS/DoS, Reconnaissance,
//! Brute Force, Web Attack, Malware/Botnet, APT) and that source's window of
//! [`vigil_features::Event`]s, ready for `vigil_features::extract`.
//!
//! # The world
//! A small organisation: a public web shop (`shop.example.com`, 203.0.113.80), two SSH hosts
//! that look alike from outside (203.0.113.22-23: a bastion and a Cowrie honeypot), a public
//! DNS server (203.0.113.53), and an internal network 10.20.0.0/16 (servers in
//! 10.20.0.0/20, a resolver at 10.20.0.53, a file server at 10.20.0.10). Events are what its
//! sensors log: SSH/Telnet sessions as Cowrie records them (connect, client version,
//! logins, commands, downloads, `direct-tcpip` tunnels, close), web requests, flow records
//! and IDS alerts. Most sources are random public IPv4 addresses (never private, shared,
//! documentation or reserved ones); office workstations, monitoring hosts and infected
//! machines are internal (10.20.16.0 and up). Every address is used by one entity only.
//!
//! Times are the events' own, not the clock: every entity starts within 28 days after
//! 2018-05-07T00:00:00Z (a Monday, within the span of the Cowrie logs), at hours that fit
//! its role (office hours on weekdays for staff, 07-22 h for shop visitors, any time for
//! bots and for the textbook APT, whose intruder keeps the hours of some other time zone:
//! an APT only at night made the clock a label).
//!
//! Credentials, commands and SSH client strings come from the real Cowrie logs in
//! `../shared/datasets/cowrie`: `fixtures/simulator/*.txt` (extraction in its README) are
//! compiled in, so nothing is read at run time. Lists are ordered most frequent first and
//! drawn with a skew to the head, as real bots draw them. Benign commands, web pages, APT
//! tooling and attack payloads are small hand-written lists (`vocab.rs`).
//!
//! # Classes and their base scenarios
//! | class | base scenarios (`scenario` names) |
//! |---|---|
//! | Normal | shop visitors: 1-3 visits of 2-7 pages with their assets, 07-22 h (`visitor`); office workstations on the internal network: DNS, HTTPS to cloud services, the file share, over a working day (`workstation`); administrators: 1-3 SSH sessions of ordinary commands on a weekday; two in five use a weak account (a common name and a listed password), which is why guessing works (`admin`) |
//! | DDoS/DoS | SYN flood, 150-450 sampled flow records (`syn_flood`); UDP flood or DNS amplification (`udp_flood`); HTTP flood from a tool, the server answering 503 as it degrades (`http_flood`) |
//! | Reconnaissance | SYN scan of 50-300 ports, sequential or nmap's top ports (`port_scan`); one or two ports over the /24 (`host_sweep`); SSH/Telnet banner grabbing, 5-60 sessions with no login, one protocol per scanner, coming back every few seconds or every few minutes to hours (`banner_grab`) |
//! | Brute Force | SSH or Telnet password spraying: 8-45 connections of 1-6 guesses from the Cowrie lists; one in ten ends with a login that works, and nothing after (`ssh_spray`, `telnet_spray`); one or two connections of 15-60 guesses each (`dictionary`, the commonest shape in the real logs) |
//! | Web Attack | sqlmap SQL injection, XSS, path traversal, command injection: 25-180 requests (`sqli`, `xss`, `traversal`, `cmd_injection`); a Nikto-style scan, 50-300 requests, mostly 404 (`vuln_scan`) |
//! | Malware/Botnet | Cowrie dropper: a login, then one script of real bot commands (probe, hide, `wget`, `chmod`, run, persist) with its downloads, over 1-5 sessions (`dropper`); an infected internal host calling its C2 every 30-300 s ±5 % (`c2_beacon`); a bot using the honeypot as an open proxy, tunnels to connectivity checks and mail relays (`proxy_abuse`) |
//! | APT | an intrusion with valid credentials, at any hour, 1-2 sessions: recon commands, lateral movement through SSH tunnels to 4-12 internal hosts, persistence, staging, 2-8 transfers of 5-100 MB to a drop server (`intrusion`) |
//!
//! # Difficulty
//! `difficulty` is a level 0..=3; three knobs turn with it:
//! - **Hard cases.** With probability [`hard_share`]`(level)` (0, 0.3, 0.5, 0.7) an entity
//!   plays one of its class's hard cases unlocked at or below the level (uniformly),
//!   otherwise a base scenario. Hard cases are the behaviour that makes a class look like
//!   another: slow, quiet, encoded, blended with benign traffic, or benign behaviour that
//!   looks like an attack. A few are near-copies of another class's behaviour on purpose
//!   (`admin_jump` and `living_off_the_land`, `workstation` and `infected_workstation`,
//!   `visitor`, `l7_swarm` and `blend`): no feature can tell them apart reliably.
//! - **Partial windows.** With probability [`partial_share`]`(level)` (0.04, 0.12, 0.2,
//!   0.28) only an entity's first 1-12 events are kept: streams are cut wherever they are
//!   read, and an attack seen as it starts is ambiguous.
//! - **Decoys.** At level 3, an attack entity also browses the shop (3-15 benign requests)
//!   with probability 0.35.
//!
//! | level | hard cases unlocked (`scenario` names) |
//! |---|---|
//! | 1 | Normal: admins who mistype their password 1-3 times before getting in (`admin_mistype`), or 4-8 times, half of them giving up (`locked_out`); a benign burst, one page pulling 40-150 assets within seconds (`burst`). DoS: a short burst of the same shape, a page and its assets fetched 1-3 times (`short_burst`). Recon: scanners that also request web paths (`/.git/config`, `/phpmyadmin/`, ...), half of them with no port scan (`web_probe`). Brute Force: slow brute force, one guess per connection 1-30 min apart (`slow`). Web Attack: 3-12 payloads with a browser User-Agent, a third double-encoded (`low_volume`). Malware: beacons every 5-30 min ±50 % (`jittered_beacon`). APT: low and slow, 3-8 sessions hours apart, 2-6 internal hosts, 0.5-10 MB chunks (`low_and_slow`) |
//! | 2 | Normal: a monitoring host checking fixed ports of internal servers at a fixed interval (`health_check`); admins who hop to internal hosts through the bastion and push a backup off-site (`admin_jump`). DoS: a browser-like flood of real pages (`browser_flood`); slowloris (`slowloris`). Recon: 10-40 ports, 30 s-15 min apart (`slow_scan`). Brute Force: credential stuffing on the web login form (`web_login`); spraying that ends in a login and a command or two (`success_idle`). Web Attack: benign browsing, then double-encoded payloads (`encoded_mix`). Malware: spraying before the dropper (`brute_then_drop`); an infected workstation that still does its user's work and calls a cloud-hosted C2 every 10-60 min (`infected_workstation`). APT: office hours, admin-like look-arounds, 1-3 internal hosts, 1-2 transfers (`business_hours`) |
//! | 3 | Normal: curious visitors opening admin pages, the CMS login and broken links (`curious_visitor`). DoS: pulses of 12-35 records hours apart (`pulse`); one source of a distributed HTTP flood, a browser's worth of requests (`l7_swarm`). Recon: a few common ports on a few hosts and perhaps one login try (`common_ports`). Brute Force: distributed credential stuffing, 1-3 connections of 1-3 leaked real-looking credentials from this source (`distributed`). Web Attack: 1-3 double-encoded payloads among 10-50 benign requests (`blend`). Malware: one quiet session of 1-3 probes (`quiet_bot`). APT: living off the land, an intruder with an admin's credentials working like that admin (`living_off_the_land`) |
//!
//! So, measurably (and tested): the share of Normal entities with failed logins is 0 at
//! level 0 and positive above, as is the share of Reconnaissance entities with HTTP
//! requests; Brute Force's mean failed-login rate and DoS's mean event count fall level
//! after level; Web Attack's share of requests showing a payload marker falls from level 2;
//! APT windows are on average more than twice as long from level 1.
//!
//! Measured separability (3,000 entities, seeds 1-3, `vigil-eval simulate` → `features` →
//! `benchmark --dataset csv --label label --ignore entity --model trees`, baseline row,
//! test split of 600; mean over the seeds):
//!
//! | level | accuracy | macro-F1 |
//! |---|---|---|
//! | 0 | 0.993 | 0.993 |
//! | 1 | 0.972 | 0.972 |
//! | 2 | 0.940 | 0.940 |
//! | 3 | 0.894 | 0.894 |
//!
//! # Invariants
//! - Every entity has at least one event; every event's `src_ip` is the entity's address,
//!   and no two entities share one.
//! - Events are in [`Event::canonical_cmp`] order, with times (µs precision) from
//!   2018-05-07 to at most 35 days later; written and read back through the generic JSONL
//!   form they are the same events.
//! - Class counts are exact ([`SimParams::class_counts`]); every class with a positive
//!   weight is present when there are at least as many entities as such classes.
//!
//! # Determinism
//! The same [`SimParams`] give the same entities, events and bytes on every run: one `ChaCha8Rng` seeded with `seed` deals the labels (exact per-class counts
//! from `class_mix`, shuffled) and one seed per entity; each entity is generated from its
//! own `ChaCha8Rng`.
//!
//! # Labelled JSONL
//! [`write_jsonl`] writes one event per line in vigil-features' generic JSONL form (the
//! serde form of `Event`, so `vigil_features::parse_*` with `Format::Jsonl` or
//! `Format::Auto` reads it) plus a `"label"` field with the entity's class name and a
//! `"scenario"` field with its scenario, entity after entity:
//!
//! ```json
//! {"timestamp":"2018-05-10T08:28:37.97468Z","kind":"login_failed","src_ip":"18.117.219.192","transport":"tcp","app_proto":"ssh","sensor":"ssh-1","session":"c7f4e9994b91","username":"usuario","password":"111111","label":"Malware/Botnet","scenario":"dropper"}
//! ```
//!
//! The event parser ignores both extra fields; [`read_labels`] collects the labels by
//! source address (every line of a source must agree) and [`read_jsonl`] reads entities
//! back.
//!
//! ```
//! use vigil_datasets::simulate::{SimParams, read_labels, simulate, write_jsonl};
//! use vigil_features::{Format, Intel, extract, group_by_source, parse_lines};
//!
//! let entities = simulate(&SimParams::new(70, 1, 42))?;
//! assert_eq!(entities.iter().filter(|e| e.label == 3).count(), 10); // Brute Force
//!
//! let mut jsonl = Vec::new();
//! write_jsonl(&entities, &mut jsonl)?;
//! let parsed = parse_lines(Format::Auto, jsonl.as_slice())?;
//! assert!(parsed.rejected.is_empty());
//! let labels = read_labels(jsonl.as_slice())?;
//! for (ip, window) in group_by_source(parsed.events) {
//!     let features = extract(&window, &Intel::new());
//!     let label = labels.by_source[&ip];
//!     assert!(features.as_slice().iter().all(|v| v.is_finite()) && label < 7);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod error;
mod jsonl;
mod scenarios;
mod vocab;

use std::collections::BTreeSet;
use std::net::IpAddr;

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_features::Event;

pub use error::SimulateError;
pub use jsonl::{
    SourceLabels, read_jsonl, read_jsonl_file, read_labels, read_labels_file, write_jsonl,
    write_jsonl_file,
};

/// Number of classes simulated (the threat class set).
pub const SIM_CLASSES: usize = 7;

/// The highest difficulty level.
pub const MAX_DIFFICULTY: u8 = 3;

/// The most entities one call simulates (internal addresses stay plentiful below it).
pub const MAX_ENTITIES: usize = 50_000;

/// The share of entities that play a hard case at `level` (0, 0.3, 0.5, 0.7; levels above 3
/// count as 3).
pub fn hard_share(level: u8) -> f64 {
    [0.0, 0.3, 0.5, 0.7][usize::from(level.min(MAX_DIFFICULTY))]
}

/// The share of entities seen only as they start (their first 1-12 events) at `level`
/// (0.04, 0.12, 0.2, 0.28): windows are cut wherever a stream is read.
pub fn partial_share(level: u8) -> f64 {
    [0.04, 0.12, 0.2, 0.28][usize::from(level.min(MAX_DIFFICULTY))]
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimParams {
    /// Number of entities (source addresses), 1..=[`MAX_ENTITIES`].
    pub entities: usize,
    /// Difficulty level, 0..=[`MAX_DIFFICULTY`] (see the module docs).
    pub difficulty: u8,
    /// Seed of every random choice.
    pub seed: u64,
    /// Relative weight of each class, in threat-class order; finite, ≥ 0, not all 0.
    /// Counts are exact: `entities` shared by largest remainder, and every class with a
    /// positive weight gets at least one entity when there are enough entities.
    pub class_mix: [f64; SIM_CLASSES],
    /// The SSH and Telnet ports the sensors log, a deployment's setting: `None` (default)
    /// draws 22/23 or Cowrie's 2222/2223 per source, half and half, for every class, so that
    /// a model trained on it ignores the port; `Some((ssh, telnet))` puts every session on
    /// those (the real Cowrie logs in ../shared show 2222 only).
    pub shell_ports: Option<(u16, u16)>,
}

impl Default for SimParams {
    /// 1000 entities, level 0, seed 0, equal class shares.
    fn default() -> Self {
        Self {
            entities: 1000,
            difficulty: 0,
            seed: 0,
            class_mix: [1.0; SIM_CLASSES],
            shell_ports: None,
        }
    }
}

impl SimParams {
    /// `entities` at `difficulty` with `seed`, equal class shares.
    pub fn new(entities: usize, difficulty: u8, seed: u64) -> Self {
        Self { entities, difficulty, seed, ..Self::default() }
    }

    /// The same with these class weights.
    pub fn with_class_mix(mut self, class_mix: [f64; SIM_CLASSES]) -> Self {
        self.class_mix = class_mix;
        self
    }

    /// The same with every SSH/Telnet session on these ports.
    pub fn with_shell_ports(mut self, ssh: u16, telnet: u16) -> Self {
        self.shell_ports = Some((ssh, telnet));
        self
    }

    /// Checks every field; the error names the one that is wrong.
    pub fn check(&self) -> Result<(), SimulateError> {
        let invalid = |reason: String| Err(SimulateError::InvalidParams { reason });
        if self.entities == 0 || self.entities > MAX_ENTITIES {
            return invalid(format!("entities {} is not in 1..={MAX_ENTITIES}", self.entities));
        }
        if self.difficulty > MAX_DIFFICULTY {
            return invalid(format!(
                "difficulty {} is not in 0..={MAX_DIFFICULTY}",
                self.difficulty
            ));
        }
        if let Some(w) = self.class_mix.iter().find(|w| !w.is_finite() || **w < 0.0) {
            return invalid(format!("class weight {w} is not a finite number ≥ 0"));
        }
        if self.class_mix.iter().sum::<f64>() <= 0.0 {
            return invalid("every class weight is 0".into());
        }
        if let Some((ssh, telnet)) = self.shell_ports
            && (ssh == 0 || telnet == 0 || ssh == telnet)
        {
            return invalid(format!("shell ports {ssh}/{telnet}: two different ports, not 0"));
        }
        Ok(())
    }

    /// Entities per class: `entities` shared by the largest-remainder method (ties to the
    /// lower class index); then, when there are enough entities, every class with a positive
    /// weight that got none takes one from the largest class.
    pub fn class_counts(&self) -> [usize; SIM_CLASSES] {
        let mut counts = [0; SIM_CLASSES];
        let total: f64 = self.class_mix.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
        if total <= 0.0 {
            return counts;
        }
        let quotas: Vec<f64> = self
            .class_mix
            .iter()
            .map(|&w| if w.is_finite() && w > 0.0 { w / total * self.entities as f64 } else { 0.0 })
            .collect();
        for (count, q) in counts.iter_mut().zip(&quotas) {
            *count = q.floor() as usize;
        }
        let mut order: Vec<usize> = (0..SIM_CLASSES).filter(|&c| quotas[c] > 0.0).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (quotas[a] - quotas[a].floor(), quotas[b] - quotas[b].floor());
            rb.total_cmp(&ra).then(a.cmp(&b))
        });
        let left = self.entities - counts.iter().sum::<usize>();
        for &c in order.iter().cycle().take(left) {
            counts[c] += 1;
        }
        if self.entities >= order.len() {
            for &c in &order {
                if counts[c] == 0 {
                    let largest = (0..SIM_CLASSES).max_by_key(|&k| (counts[k], SIM_CLASSES - k));
                    if let Some(largest) = largest {
                        counts[largest] -= 1;
                        counts[c] += 1;
                    }
                }
            }
        }
        counts
    }
}

/// One simulated source: its address, class and window of events (sorted by time).
#[derive(Debug, Clone, PartialEq)]
pub struct SimEntity {
    /// The source address; every event's `src_ip`.
    pub ip: IpAddr,
    /// Class index in [`vigil_core::ClassSet::threat`].
    pub label: usize,
    /// The scenario it plays (e.g. `ssh_spray`, or the hard case `slow`; see the module
    /// docs), for analysing which cases a model gets wrong.
    pub scenario: String,
    /// The events, in [`Event::canonical_cmp`] order.
    pub events: Vec<Event>,
}

/// Simulates `params.entities` labelled entities (see the module docs).
pub fn simulate(params: &SimParams) -> Result<Vec<SimEntity>, SimulateError> {
    params.check()?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut labels: Vec<usize> = params
        .class_counts()
        .iter()
        .enumerate()
        .flat_map(|(c, &n)| std::iter::repeat_n(c, n))
        .collect();
    labels.shuffle(&mut rng);
    let vocab = vocab::Vocab::new();
    let mut used = BTreeSet::new();
    let mut out = Vec::with_capacity(labels.len());
    for label in labels {
        let entity_rng = ChaCha8Rng::seed_from_u64(rng.random());
        let mut ctx = build::Ctx::new(entity_rng, params, &vocab, &mut used);
        let scenario = scenarios::generate(&mut ctx, label);
        let (ip, events) = ctx.finish();
        out.push(SimEntity { ip, label, scenario, events });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
