//! Per-address abuse confidence from an AbuseIPDB-style CSV export.

use std::net::IpAddr;

use super::{column, csv_records, feed_error, field, key, parse_ip_text};
use crate::Result;

/// Abuse confidence (0..=100) per address; lookup is O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reputation {
    scores: Vec<(u128, u8)>,
}

impl Reputation {
    /// A CSV with a header naming an address column (`ipAddress`, `ip_address` or `ip`) and
    /// a score column (`abuseConfidenceScore`, `abuse_confidence_score`, `confidence` or
    /// `score`), matched case-insensitively, as in AbuseIPDB's blacklist export
    /// (`ipAddress,countryCode,abuseConfidenceScore,lastReportedAt`). Other columns are
    /// ignored; `#` lines are comments. A repeated address keeps its highest score.
    pub fn parse_csv(text: &str) -> Result<Self> {
        let records = csv_records("reputation", text)?;
        let Some((header_line, header)) = records.first() else {
            return Ok(Self::default());
        };
        let no_column = |what: &str| {
            feed_error("reputation", *header_line, format!("no {what} column in header {header:?}"))
        };
        let ip_col = column(header, &["ipAddress", "ip_address", "ip"])
            .ok_or_else(|| no_column("ipAddress"))?;
        let score_col = column(
            header,
            &["abuseConfidenceScore", "abuse_confidence_score", "confidence", "score"],
        )
        .ok_or_else(|| no_column("abuseConfidenceScore"))?;
        let mut scores = Vec::with_capacity(records.len());
        for (line, r) in &records[1..] {
            let ip_text = field(r, ip_col);
            let ip = parse_ip_text(ip_text).ok_or_else(|| {
                feed_error("reputation", *line, format!("invalid address {ip_text:?}"))
            })?;
            let score_text = field(r, score_col);
            let score =
                score_text.parse::<f64>().ok().filter(|s| (0.0..=100.0).contains(s)).ok_or_else(
                    || {
                        feed_error(
                            "reputation",
                            *line,
                            format!("score {score_text:?} is not a number in 0..=100"),
                        )
                    },
                )?;
            scores.push((key(ip), score.round() as u8));
        }
        // Highest score first within an address, then keep the first of each address.
        scores.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        scores.dedup_by_key(|s| s.0);
        Ok(Self { scores })
    }

    /// The abuse confidence (0..=100) of `ip`, if listed.
    pub fn score(&self, ip: IpAddr) -> Option<u8> {
        let k = key(ip);
        self.scores.binary_search_by_key(&k, |s| s.0).ok().map(|i| self.scores[i].1)
    }

    /// Number of addresses listed.
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

    #[test]
    fn abuseipdb_export() {
        let r = Reputation::parse_csv(
            "ipAddress,countryCode,abuseConfidenceScore,lastReportedAt\n185.220.101.42,DE,100,2024-03-12T08:10:51+00:00\n\"2001:db8::1\",ZZ,37,2024-03-12T08:10:51+00:00\n185.220.101.42,DE,90,2024-03-11T00:00:00+00:00\n",
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.score("185.220.101.42".parse().unwrap()), Some(100));
        assert_eq!(r.score("2001:db8::1".parse().unwrap()), Some(37));
        assert_eq!(r.score("192.0.2.1".parse().unwrap()), None);
        let r = Reputation::parse_csv("ip,score\n10.0.0.1,5\n").unwrap();
        assert_eq!(r.score("10.0.0.1".parse().unwrap()), Some(5));
    }

    #[test]
    fn missing_columns_and_bad_scores() {
        let e = Reputation::parse_csv("address,confidence\n1.2.3.4,5\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "reputation feed <reader>, line 1: no ipAddress column in header [\"address\", \"confidence\"]"
        );
        let e = Reputation::parse_csv("ip,score\n1.2.3.4,500\n").unwrap_err().to_string();
        assert_eq!(e, "reputation feed <reader>, line 2: score \"500\" is not a number in 0..=100");
    }
}
