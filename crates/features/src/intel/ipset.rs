//! [`IpSet`]: IPv4 and IPv6 addresses and networks merged into sorted disjoint ranges, looked
//! up by binary search; and the parsers of the list feeds that make one.

use std::net::IpAddr;

use super::{column, csv_records, feed_error, field, key, parse_entry};
use crate::Result;

/// A set of addresses, stored as sorted, disjoint, non-adjacent inclusive ranges of 128-bit
/// keys (IPv4 sits in the IPv4-mapped block `::ffff:0:0/96`). Lookup is O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpSet {
    ranges: Vec<(u128, u128)>,
}

impl IpSet {
    /// The set of the given inclusive `(first, last)` address ranges; overlaps are merged.
    pub fn from_ranges(ranges: impl IntoIterator<Item = (IpAddr, IpAddr)>) -> Self {
        Self::from_keys(ranges.into_iter().map(|(a, b)| (key(a), key(b))).collect())
    }

    pub(super) fn from_keys(mut ranges: Vec<(u128, u128)>) -> Self {
        ranges.retain(|(a, b)| a <= b);
        ranges.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged.shrink_to_fit();
        Self { ranges: merged }
    }

    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let k = key(ip);
        let i = self.ranges.partition_point(|r| r.0 <= k);
        i > 0 && self.ranges[i - 1].1 >= k
    }

    /// Number of disjoint ranges after merging.
    pub fn range_count(&self) -> usize {
        self.ranges.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// A FireHOL-style netset or ipset, or any plain list: one IPv4/IPv6 address, CIDR
    /// network or `first-last` range per line; `#` and `;` start comments; blank lines are
    /// skipped. Host bits in a CIDR are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
    pub fn parse_netset(text: &str) -> Result<Self> {
        Self::parse_list("netset", text)
    }

    fn parse_list(feed: &'static str, text: &str) -> Result<Self> {
        let mut ranges = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let entry = line.split(['#', ';']).next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            let first = entry.split_whitespace().next().unwrap_or(entry);
            ranges.push(parse_entry(first).map_err(|reason| feed_error(feed, i + 1, reason))?);
        }
        Ok(Self::from_keys(ranges))
    }

    /// Tor exits, in either published format: the bulk exit list (one address per line, as
    /// `torbulkexitlist` or FireHOL `tor_exits.ipset`), or the Tor Project's `exit-addresses`
    /// (TorDNSEL) format, whose `ExitAddress <ip> <date> <time>` lines are read and whose
    /// `ExitNode`, `Published` and `LastStatus` lines are skipped.
    pub fn parse_tor_exits(text: &str) -> Result<Self> {
        let tordnsel =
            text.lines().any(|l| l.starts_with("ExitNode ") || l.starts_with("ExitAddress "));
        if !tordnsel {
            return Self::parse_list("tor-exits", text);
        }
        let mut ranges = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("ExitAddress") => {
                    let ip = words.next().ok_or_else(|| {
                        feed_error("tor-exits", i + 1, "ExitAddress without an address".into())
                    })?;
                    ranges.push(
                        parse_entry(ip).map_err(|reason| feed_error("tor-exits", i + 1, reason))?,
                    );
                }
                Some("ExitNode" | "Published" | "LastStatus") | None => {}
                Some(other) => {
                    return Err(feed_error(
                        "tor-exits",
                        i + 1,
                        format!("unexpected line starting {other:?} in exit-addresses format"),
                    ));
                }
            }
        }
        Ok(Self::from_keys(ranges))
    }

    /// An abuse.ch Feodo Tracker C2 blocklist: the CSV export (`#` banner, then the header
    /// `"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"`; the
    /// address column is found by name: `dst_ip`, `ip_address` or `ip`), or the plain
    /// `ipblocklist.txt` (one address per line).
    pub fn parse_feodo(text: &str) -> Result<Self> {
        let records = csv_records("c2", text)?;
        let Some((header_line, header)) = records.first() else {
            return Ok(Self::default());
        };
        if super::parse_ip_text(field(header, 0)).is_some() {
            return Self::parse_list("c2", text);
        }
        let col = column(header, &["dst_ip", "ip_address", "ip"]).ok_or_else(|| {
            feed_error("c2", *header_line, format!("no dst_ip column in header {header:?}"))
        })?;
        let mut ranges = Vec::new();
        for (line, record) in &records[1..] {
            let ip = record.get(col).map(String::as_str).ok_or_else(|| {
                feed_error("c2", *line, format!("no column {} (dst_ip)", col + 1))
            })?;
            ranges.push(parse_entry(ip).map_err(|reason| feed_error("c2", *line, reason))?);
        }
        Ok(Self::from_keys(ranges))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidrs_merge_and_lookups_hit_the_edges() {
        let set = IpSet::parse_netset("# c\n10.0.0.0/8\n10.1.2.3/16 ; inside\n11.0.0.0/8\n192.0.2.7\n2001:db8::/32\n198.51.100.10-198.51.100.20\n\n").unwrap();
        // 10/8 and 11/8 are adjacent and merge; 10.1/16 is inside.
        assert_eq!(set.range_count(), 4);
        for yes in [
            "10.0.0.0",
            "11.255.255.255",
            "192.0.2.7",
            "2001:db8:ffff::1",
            "198.51.100.10",
            "198.51.100.20",
            "::ffff:10.9.9.9",
        ] {
            assert!(set.contains(ip(yes)), "{yes}");
        }
        for no in
            ["9.255.255.255", "12.0.0.0", "192.0.2.8", "2001:db9::", "198.51.100.21", "::a00:1"]
        {
            assert!(!set.contains(ip(no)), "{no}");
        }
        assert!(!IpSet::default().contains(ip("10.0.0.1")));
        let all = IpSet::parse_netset("0.0.0.0/0\n::/0").unwrap();
        assert!(all.contains(ip("255.255.255.255")) && all.contains(ip("ffff::1")));
    }

    #[test]
    fn bad_lines_name_the_line() {
        let e = IpSet::parse_netset("10.0.0.0/8\n10.0.0.0/33\n").unwrap_err().to_string();
        assert_eq!(e, "netset feed <reader>, line 2: invalid prefix length 33 in \"10.0.0.0/33\"");
        let e = IpSet::parse_netset("1.2.3.4\nexample.com\n").unwrap_err().to_string();
        assert_eq!(e, "netset feed <reader>, line 2: invalid address \"example.com\"");
    }

    #[test]
    fn both_tor_formats() {
        let bulk = IpSet::parse_tor_exits("171.25.193.25\n185.241.208.232\n").unwrap();
        let dnsel = IpSet::parse_tor_exits(
            "ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75\nPublished 2024-03-11 13:07:19\nLastStatus 2024-03-12 08:00:00\nExitAddress 185.241.208.232 2024-03-12 08:10:51\nExitNode 64D74AAA74F30DC2CFB36343CE5D4451B9A4DBA8\nExitAddress 171.25.193.25 2024-03-12 13:09:46\n",
        )
        .unwrap();
        assert_eq!(bulk, dnsel);
        assert!(dnsel.contains(ip("171.25.193.25")));
    }

    #[test]
    fn feodo_csv_and_plain() {
        let csv = "#####\n# abuse.ch\n#\n\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\r\n\"2021-01-17 07:44:46\",\"51.178.161.32\",\"4643\",\"online\",\"2021-12-20\",\"Dridex\"\r\n\"2021-12-20 00:03:32\",\"59.6.7.83\",\"61200\",\"online\",\"2021-12-20\",\"QakBot\"\r\n# END 2 entries";
        let set = IpSet::parse_feodo(csv).unwrap();
        assert_eq!(set.range_count(), 2);
        assert!(set.contains(ip("59.6.7.83")));
        let plain = IpSet::parse_feodo("# list\n51.178.161.32\n59.6.7.83\n").unwrap();
        assert_eq!(set, plain);
        let e = IpSet::parse_feodo("\"a\",\"dst_ip\"\n\"x\",\"1.2.3\"\n").unwrap_err().to_string();
        assert_eq!(e, "c2 feed <reader>, line 2: invalid address \"1.2.3\"");
    }
}
