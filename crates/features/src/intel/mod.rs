//! Threat intelligence from local files (no network): Tor exits, C2 and block lists,
//! AbuseIPDB-style reputation, ip2asn ranges with per-ASN scores, and a domain-age cache.
//!
//! [`Intel`] holds one [`Feeds`] bundle behind `RwLock<Arc<Feeds>>`. Readers take a snapshot
//! (an `Arc` clone under a momentary read lock) and use it lock-free; reloading a feed
//! parses the file *outside* the lock, then swaps in a new bundle that shares every other
//! feed's `Arc`. A reader therefore sees the old bundle or the new one, never a mix or a
//! half-loaded feed, and a failed reload leaves the old feed in place.

mod asn;
mod domains;
mod ipset;
mod reputation;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};

pub use asn::{AsnInfo, AsnScores, AsnTable};
pub use domains::DomainAges;
pub use ipset::IpSet;
pub use reputation::Reputation;

use crate::{FeatureError, Result};

/// One consistent set of feeds. Cheap to clone (every feed is an `Arc`).
#[derive(Debug, Clone, Default)]
pub struct Feeds {
    /// Tor exit addresses.
    pub tor_exits: Arc<IpSet>,
    /// Botnet C2 addresses (Feodo-style).
    pub c2: Arc<IpSet>,
    /// Named block lists (FireHOL netsets), each counted separately in `threat_intel_matches`.
    pub blocklists: BTreeMap<String, Arc<IpSet>>,
    /// Per-address abuse confidence (AbuseIPDB export).
    pub reputation: Arc<Reputation>,
    /// Address ranges to ASNs (ip2asn).
    pub asn: Arc<AsnTable>,
    /// Per-ASN reputation scores.
    pub asn_scores: Arc<AsnScores>,
    /// Domain creation dates.
    pub domain_ages: Arc<DomainAges>,
    /// A digest of each feed file loaded by [`Intel::load`], by feed (`tor-exits`,
    /// `blocklist:<name>`, ...): what [`Feeds::version`] is made of. Feeds set directly
    /// should record a digest here too, or the version will not see them.
    pub sources: BTreeMap<String, u64>,
}

impl Feeds {
    /// How many feeds list `ip`: each block list, the Tor list, the C2 list, and the
    /// reputation file when its score is above 0.
    pub fn matches(&self, ip: IpAddr) -> usize {
        self.blocklists.values().filter(|s| s.contains(ip)).count()
            + usize::from(self.tor_exits.contains(ip))
            + usize::from(self.c2.contains(ip))
            + usize::from(self.reputation.score(ip).is_some_and(|s| s > 0))
    }

    /// A digest of every loaded feed's name and content, as 16 hex digits (`0` padded);
    /// equal for the same files whatever the process or machine.
    pub fn version(&self) -> String {
        let mut h = Fnv::new();
        for (name, digest) in &self.sources {
            h.write(name.as_bytes());
            h.write(&[0]);
            h.write(&digest.to_le_bytes());
        }
        format!("{:016x}", h.finish())
    }

    /// The reputation score (0..=1) of the ASN announcing `ip`, if both are known.
    pub fn asn_score(&self, ip: IpAddr) -> Option<f32> {
        self.asn.lookup(ip).and_then(|info| self.asn_scores.score(info.asn))
    }
}

/// Which feed a file holds; parses from the names below (`"tor-exits".parse()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedKind {
    /// `tor-exits`: [`IpSet::parse_tor_exits`].
    TorExits,
    /// `c2`: [`IpSet::parse_feodo`].
    C2,
    /// `blocklist`: [`IpSet::parse_netset`]; named after the file stem.
    Blocklist,
    /// `reputation`: [`Reputation::parse_csv`].
    Reputation,
    /// `asn`: [`AsnTable::parse_tsv`].
    Asn,
    /// `asn-reputation`: [`AsnScores::parse_csv`].
    AsnReputation,
    /// `domain-ages`: [`DomainAges::parse_csv`].
    DomainAges,
}

impl FeedKind {
    /// Every kind.
    pub const ALL: [Self; 7] = [
        Self::TorExits,
        Self::C2,
        Self::Blocklist,
        Self::Reputation,
        Self::Asn,
        Self::AsnReputation,
        Self::DomainAges,
    ];

    /// The name accepted by `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            Self::TorExits => "tor-exits",
            Self::C2 => "c2",
            Self::Blocklist => "blocklist",
            Self::Reputation => "reputation",
            Self::Asn => "asn",
            Self::AsnReputation => "asn-reputation",
            Self::DomainAges => "domain-ages",
        }
    }
}

impl fmt::Display for FeedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FeedKind {
    type Err = FeatureError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| FeatureError::UnknownFeed { name: s.to_owned() })
    }
}

/// The threat-intel bundle the extractor reads; feeds can be reloaded while it is in use
/// (see the module docs for the swap).
#[derive(Debug, Default)]
pub struct Intel {
    feeds: RwLock<Arc<Feeds>>,
}

impl Intel {
    /// No feeds: every lookup misses.
    pub fn new() -> Self {
        Self::default()
    }

    /// A bundle built elsewhere.
    pub fn from_feeds(feeds: Feeds) -> Self {
        Self { feeds: RwLock::new(Arc::new(feeds)) }
    }

    /// The current bundle; later reloads do not change it.
    pub fn snapshot(&self) -> Arc<Feeds> {
        Arc::clone(&self.feeds.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the bundle by `change(copy of the current one)`, atomically.
    pub fn update(&self, change: impl FnOnce(&mut Feeds)) {
        let mut guard = self.feeds.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = Feeds::clone(&guard);
        change(&mut next);
        *guard = Arc::new(next);
    }

    /// Parses `path` as a feed of `kind` and swaps it in; on error the old feed stays.
    /// A block list is named after the file stem (loading the same name again replaces it).
    pub fn load(&self, kind: FeedKind, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|source| FeatureError::Io { origin: origin.clone(), source })?;
        let digest = {
            let mut h = Fnv::new();
            h.write(&bytes);
            h.finish()
        };
        let text = String::from_utf8_lossy(&bytes);
        let with_origin = |e: FeatureError| match e {
            FeatureError::Feed { feed, line, reason, .. } => {
                FeatureError::Feed { feed, origin: origin.clone(), line, reason }
            }
            other => other,
        };
        let source = match kind {
            FeedKind::Blocklist => format!(
                "blocklist:{}",
                path.file_stem()
                    .map_or_else(|| origin.clone(), |s| s.to_string_lossy().into_owned())
            ),
            other => other.name().to_owned(),
        };
        match kind {
            FeedKind::TorExits => {
                let set = Arc::new(IpSet::parse_tor_exits(&text).map_err(with_origin)?);
                self.update(|f| f.tor_exits = set);
            }
            FeedKind::C2 => {
                let set = Arc::new(IpSet::parse_feodo(&text).map_err(with_origin)?);
                self.update(|f| f.c2 = set);
            }
            FeedKind::Blocklist => {
                let set = Arc::new(IpSet::parse_netset(&text).map_err(with_origin)?);
                let name = path
                    .file_stem()
                    .map_or_else(|| origin.clone(), |s| s.to_string_lossy().into_owned());
                self.update(|f| {
                    f.blocklists.insert(name, set);
                });
            }
            FeedKind::Reputation => {
                let r = Arc::new(Reputation::parse_csv(&text).map_err(with_origin)?);
                self.update(|f| f.reputation = r);
            }
            FeedKind::Asn => {
                let t = Arc::new(AsnTable::parse_tsv(&text).map_err(with_origin)?);
                self.update(|f| f.asn = t);
            }
            FeedKind::AsnReputation => {
                let s = Arc::new(AsnScores::parse_csv(&text).map_err(with_origin)?);
                self.update(|f| f.asn_scores = s);
            }
            FeedKind::DomainAges => {
                let d = Arc::new(DomainAges::parse_csv(&text).map_err(with_origin)?);
                self.update(|f| f.domain_ages = d);
            }
        }
        self.update(|f| {
            f.sources.insert(source, digest);
        });
        Ok(())
    }
}

/// 64-bit FNV-1a: a stable digest for versioning feeds and policies (not a defence against
/// crafted collisions; feed files are the operator's own).
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

/// The 128-bit lookup key of an address: IPv6 as is, IPv4 in `::ffff:0:0/96`.
pub(crate) fn key(ip: IpAddr) -> u128 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => 0xffff_0000_0000 | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// An address written in a feed.
pub(crate) fn parse_ip_text(text: &str) -> Option<IpAddr> {
    crate::parse::value::parse_ip(text)
}

/// An address, CIDR network or `first-last` range as an inclusive key range.
pub(crate) fn parse_entry(entry: &str) -> std::result::Result<(u128, u128), String> {
    let entry = entry.trim().trim_matches('"');
    let addr = |s: &str| parse_ip_text(s).ok_or_else(|| format!("invalid address {s:?}"));
    if let Some((net, len)) = entry.split_once('/') {
        let ip = addr(net)?;
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        let len: u32 = len
            .parse()
            .ok()
            .filter(|l| *l <= bits)
            .ok_or_else(|| format!("invalid prefix length {len} in {entry:?}"))?;
        let k = key(ip);
        let host_bits = bits - len;
        let mask = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
        Ok((k & !mask, k | mask))
    } else if let Some((a, b)) =
        entry.split_once('-').and_then(|(a, b)| Some((parse_ip_text(a)?, parse_ip_text(b)?)))
    {
        let (a, b) = (key(a), key(b));
        if a > b {
            return Err(format!("range {entry:?} ends before it starts"));
        }
        Ok((a, b))
    } else {
        let k = key(addr(entry)?);
        Ok((k, k))
    }
}

/// A feed-format error at `line` (the origin is filled in by [`Intel::load`]).
pub(crate) fn feed_error(feed: &'static str, line: usize, reason: String) -> FeatureError {
    FeatureError::Feed { feed, origin: "<reader>".into(), line, reason }
}

/// A comma-separated record: its 1-based line number and its fields.
pub(crate) type Record = (usize, Vec<String>);

/// The records of a comma-separated feed: one per line (feeds never quote a line break),
/// `#` lines and blank lines skipped, CRLF accepted.
pub(crate) fn csv_records(feed: &'static str, text: &str) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push((i + 1, split_csv_line(line).map_err(|reason| feed_error(feed, i + 1, reason))?));
    }
    Ok(out)
}

/// The fields of one CSV line: comma-separated, optionally double-quoted (`""` is a quote
/// inside quotes), unquoted fields trimmed.
fn split_csv_line(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start();
        if let Some(quoted) = trimmed.strip_prefix('"') {
            let mut field = String::new();
            let mut chars = quoted.char_indices();
            let after = loop {
                match chars.next() {
                    Some((i, '"')) if quoted[i + 1..].starts_with('"') => {
                        field.push('"');
                        chars.next();
                    }
                    Some((i, '"')) => break &quoted[i + 1..],
                    Some((_, c)) => field.push(c),
                    None => return Err("unterminated quoted field".into()),
                }
            };
            fields.push(field);
            let after = after.trim_start();
            match after.strip_prefix(',') {
                Some(next) => rest = next,
                None if after.is_empty() => return Ok(fields),
                None => return Err(format!("text after a quoted field: {after:?}")),
            }
        } else {
            let Some((field, next)) = trimmed.split_once(',') else {
                fields.push(trimmed.trim().to_owned());
                return Ok(fields);
            };
            fields.push(field.trim().to_owned());
            rest = next;
        }
    }
}

/// Field `i` of a record, `""` when absent.
pub(crate) fn field(record: &[String], i: usize) -> &str {
    record.get(i).map_or("", String::as_str)
}

/// The index of the first header column named (case-insensitively) any of `names`.
pub(crate) fn column(header: &[String], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_swaps_one_feed_and_keeps_snapshots_stable() {
        let intel = Intel::new();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let before = intel.snapshot();
        intel.update(|f| f.tor_exits = Arc::new(IpSet::parse_netset("192.0.2.0/24").unwrap()));
        intel.update(|f| f.c2 = Arc::new(IpSet::parse_netset("192.0.2.1").unwrap()));
        let after = intel.snapshot();
        assert_eq!(before.matches(ip), 0);
        assert_eq!(after.matches(ip), 2);
        // The C2 update kept the Tor feed's allocation.
        intel.update(|f| f.c2 = Arc::new(IpSet::default()));
        assert!(Arc::ptr_eq(&after.tor_exits, &intel.snapshot().tor_exits));
    }

    #[test]
    fn failed_load_keeps_the_old_feed_and_names_the_file() {
        let dir = std::env::temp_dir().join(format!("vigil-features-intel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.netset");
        let bad = dir.join("bad.netset");
        std::fs::write(&good, "10.0.0.0/8\n").unwrap();
        std::fs::write(&bad, "10.0.0.0/8\nnot-an-ip\n").unwrap();
        let intel = Intel::new();
        intel.load(FeedKind::TorExits, &good).unwrap();
        let e = intel.load(FeedKind::TorExits, &bad).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("tor-exits feed {}, line 2: invalid address \"not-an-ip\"", bad.display())
        );
        assert!(intel.snapshot().tor_exits.contains("10.1.1.1".parse().unwrap()));
        intel.load(FeedKind::Blocklist, &good).unwrap();
        assert!(intel.snapshot().blocklists.contains_key("good"));
        let missing = intel.load(FeedKind::C2, dir.join("missing.csv")).unwrap_err().to_string();
        assert!(missing.starts_with("cannot read "), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn csv_lines() {
        assert_eq!(
            split_csv_line(r#""a","b ""c""", d ,,"e,f""#).unwrap(),
            ["a", "b \"c\"", "d", "", "e,f"]
        );
        assert_eq!(split_csv_line("x").unwrap(), ["x"]);
        assert!(split_csv_line(r#""open"#).is_err());
        assert!(split_csv_line(r#""a"b"#).is_err());
        let records = csv_records("t", "# c\r\n\r\nh1,h2\r\n1,2\r\n# END").unwrap();
        assert_eq!(
            records,
            vec![
                (3, vec!["h1".to_owned(), "h2".to_owned()]),
                (4, vec!["1".to_owned(), "2".to_owned()])
            ]
        );
    }

    #[test]
    fn feed_kind_names() {
        for k in FeedKind::ALL {
            assert_eq!(k.name().parse::<FeedKind>().unwrap(), k);
        }
        assert!("tor".parse::<FeedKind>().is_err());
    }
}
