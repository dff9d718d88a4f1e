//! Address ranges to ASNs ([`AsnTable`], iptoasn.com's `ip2asn-v4.tsv` / `ip2asn-v6.tsv` /
//! `ip2asn-combined.tsv`) and per-ASN reputation ([`AsnScores`]).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{column, csv_records, feed_error, field, key, parse_ip_text};
use crate::Result;

/// What the ASN table says about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsnInfo<'a> {
    /// Autonomous system number.
    pub asn: u32,
    /// ISO country code as written in the table.
    pub country: &'a str,
    /// AS description.
    pub name: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    first: u128,
    last: u128,
    asn: u32,
    country: Box<str>,
    name: Box<str>,
}

/// Sorted, disjoint address ranges with their ASN; lookup is O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsnTable {
    rows: Vec<Row>,
}

impl AsnTable {
    /// iptoasn TSV: `range_start <TAB> range_end <TAB> AS_number <TAB> country_code <TAB>
    /// AS_description`, no header, IPv4 or IPv6. Rows may come in any order but must not
    /// overlap. ASN 0 ("Not routed") rows are kept and look up as unknown.
    pub fn parse_tsv(text: &str) -> Result<Self> {
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut cols = line.split('\t');
            let mut next = |what: &str| {
                cols.next()
                    .map(str::trim)
                    .ok_or_else(|| feed_error("ip2asn", line_no, format!("missing {what} column")))
            };
            let (a, b, asn) = (next("range_start")?, next("range_end")?, next("AS_number")?);
            let country = next("country_code").unwrap_or("");
            let name = next("AS_description").unwrap_or("");
            let addr = |s: &str| {
                parse_ip_text(s)
                    .ok_or_else(|| feed_error("ip2asn", line_no, format!("invalid address {s:?}")))
            };
            let (first, last) = (addr(a)?, addr(b)?);
            if first.is_ipv4() != last.is_ipv4() || key(first) > key(last) {
                return Err(feed_error("ip2asn", line_no, format!("invalid range {a} - {b}")));
            }
            let asn: u32 = asn
                .trim_start_matches("AS")
                .parse()
                .map_err(|_| feed_error("ip2asn", line_no, format!("invalid AS number {asn:?}")))?;
            rows.push((
                line_no,
                Row {
                    first: key(first),
                    last: key(last),
                    asn,
                    country: country.into(),
                    name: name.into(),
                },
            ));
        }
        rows.sort_by_key(|(_, r)| r.first);
        for pair in rows.windows(2) {
            if pair[1].1.first <= pair[0].1.last {
                return Err(feed_error(
                    "ip2asn",
                    pair[1].0,
                    format!("range overlaps the one on line {}", pair[0].0),
                ));
            }
        }
        Ok(Self { rows: rows.into_iter().map(|(_, r)| r).collect() })
    }

    /// The ASN announcing `ip`, if the table has one (ASN 0 counts as none).
    pub fn lookup(&self, ip: IpAddr) -> Option<AsnInfo<'_>> {
        let k = key(ip);
        let i = self.rows.partition_point(|r| r.first <= k);
        let row = self.rows.get(i.checked_sub(1)?)?;
        (row.last >= k && row.asn != 0).then_some(AsnInfo {
            asn: row.asn,
            country: &row.country,
            name: &row.name,
        })
    }

    /// Number of ranges.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Reputation per ASN, 0 (clean) ..= 1 (bad).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AsnScores {
    scores: BTreeMap<u32, f32>,
}

impl AsnScores {
    /// `asn,score` lines (this project's format): an optional header `asn,score`, `#`
    /// comments, the ASN as `13335` or `AS13335`, the score a number in 0..=1. A repeated
    /// ASN keeps its last score.
    pub fn parse_csv(text: &str) -> Result<Self> {
        let mut scores = BTreeMap::new();
        let records = csv_records("asn-reputation", text)?;
        let skip = usize::from(records.first().is_some_and(|(_, r)| column(r, &["asn"]).is_some()));
        for (line, r) in &records[skip..] {
            let (asn, score) = (field(r, 0), field(r, 1));
            let asn: u32 =
                asn.trim_start_matches("AS").trim_start_matches("as").parse().map_err(|_| {
                    feed_error("asn-reputation", *line, format!("invalid AS number {asn:?}"))
                })?;
            let score: f32 =
                score.parse().ok().filter(|s: &f32| (0.0..=1.0).contains(s)).ok_or_else(|| {
                    feed_error(
                        "asn-reputation",
                        *line,
                        format!("score {score:?} is not a number in 0..=1"),
                    )
                })?;
            scores.insert(asn, score);
        }
        Ok(Self { scores })
    }

    /// The score of `asn`, if listed.
    pub fn score(&self, asn: u32) -> Option<f32> {
        self.scores.get(&asn).copied()
    }

    /// Number of ASNs listed.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Whether none is listed.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn lookups_in_v4_and_v6_ranges() {
        let t = AsnTable::parse_tsv(
            "8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE - Google LLC\n1.1.1.1\t1.1.1.1\t7497\tCN\tCSTNET\n1.1.1.0\t1.1.1.0\t13335\tUS\tCLOUDFLARENET\n9.0.0.0\t9.255.255.255\t0\tNone\tNot routed\n2001:db8::\t2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\t64500\tZZ\tDOC\n",
        )
        .unwrap();
        assert_eq!(t.len(), 5);
        assert_eq!(
            t.lookup(ip("8.8.8.8")).unwrap(),
            AsnInfo { asn: 15169, country: "US", name: "GOOGLE - Google LLC" }
        );
        assert_eq!(t.lookup(ip("1.1.1.1")).unwrap().asn, 7497);
        assert_eq!(t.lookup(ip("1.1.1.0")).unwrap().asn, 13335);
        assert_eq!(t.lookup(ip("1.1.1.2")), None);
        assert_eq!(t.lookup(ip("9.1.1.1")), None);
        assert_eq!(t.lookup(ip("2001:db8::5")).unwrap().asn, 64500);
        assert_eq!(t.lookup(ip("0.0.0.0")), None);
    }

    #[test]
    fn overlaps_and_bad_rows_are_errors() {
        let e =
            AsnTable::parse_tsv("8.8.8.0\t8.8.8.255\t15169\tUS\tG\n8.8.8.128\t8.8.9.0\t1\tUS\tX\n")
                .unwrap_err()
                .to_string();
        assert_eq!(e, "ip2asn feed <reader>, line 2: range overlaps the one on line 1");
        let e = AsnTable::parse_tsv("8.8.8.0\t8.8.8.255\tGOOGLE\tUS\tG\n").unwrap_err().to_string();
        assert_eq!(e, "ip2asn feed <reader>, line 1: invalid AS number \"GOOGLE\"");
        let e = AsnTable::parse_tsv("8.8.8.0 8.8.8.255\n").unwrap_err().to_string();
        assert_eq!(e, "ip2asn feed <reader>, line 1: missing range_end column");
    }

    #[test]
    fn asn_scores() {
        let s =
            AsnScores::parse_csv("# scores\nasn,score\nAS13335,0.2\n15169,0\n64500,1\n").unwrap();
        assert_eq!(
            (s.score(13335), s.score(15169), s.score(64500), s.score(1)),
            (Some(0.2), Some(0.0), Some(1.0), None)
        );
        let e = AsnScores::parse_csv("asn,score\n13335,7\n").unwrap_err().to_string();
        assert_eq!(e, "asn-reputation feed <reader>, line 2: score \"7\" is not a number in 0..=1");
    }
}
