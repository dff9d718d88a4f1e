//! A local WHOIS cache: domain creation dates.

use std::collections::HashMap;

use super::{csv_records, feed_error, field};
use crate::{Result, Timestamp};

/// Creation time per registered domain (lower-case, no trailing dot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainAges {
    created: HashMap<Box<str>, Timestamp>,
}

impl DomainAges {
    /// `domain,created` lines (this project's format): an optional header
    /// `domain,created`, `#` comments; `created` is a date (`2018-04-30`, read as midnight
    /// UTC), an RFC 3339 time or an epoch number.
    pub fn parse_csv(text: &str) -> Result<Self> {
        let mut created = HashMap::new();
        let records = csv_records("domain-ages", text)?;
        let skip = usize::from(
            records.first().is_some_and(|(_, r)| field(r, 0).eq_ignore_ascii_case("domain")),
        );
        for (line, r) in &records[skip..] {
            let domain = normalise(field(r, 0));
            if domain.is_empty() || domain.contains(char::is_whitespace) {
                return Err(feed_error(
                    "domain-ages",
                    *line,
                    format!("invalid domain {:?}", field(r, 0)),
                ));
            }
            let date = field(r, 1);
            let ts = parse_date(date).ok_or_else(|| {
                feed_error("domain-ages", *line, format!("invalid creation date {date:?}"))
            })?;
            created.insert(domain.into(), ts);
        }
        Ok(Self { created })
    }

    /// The creation time of `host` or, failing that, of its closest listed parent domain
    /// (`a.b.example.com` tries `b.example.com`, then `example.com`; a bare TLD never).
    pub fn created(&self, host: &str) -> Option<Timestamp> {
        let host = normalise(host);
        let mut name = host.as_str();
        loop {
            if let Some(ts) = self.created.get(name) {
                return Some(*ts);
            }
            let (_, parent) = name.split_once('.')?;
            if !parent.contains('.') {
                return None;
            }
            name = parent;
        }
    }

    /// Number of domains listed.
    pub fn len(&self) -> usize {
        self.created.len()
    }

    /// Whether none is listed.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty()
    }
}

fn normalise(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn parse_date(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    // A bare date (`2018-04-30`) is midnight UTC.
    if t.len() == 10 && t.as_bytes()[4] == b'-' && t.parse::<jiff::civil::Date>().is_ok() {
        return Timestamp::parse(&format!("{t}T00:00:00Z")).ok();
    }
    Timestamp::parse(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_parent_domains() {
        let d = DomainAges::parse_csv("domain,created\nExample.COM.,2018-04-30\nmdb7.cn,2018-05-01T12:00:00Z\nnew.example.com,1525132800\n").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.created("www.example.com").unwrap().to_string(), "2018-04-30T00:00:00Z");
        assert_eq!(d.created("new.example.com").unwrap().to_string(), "2018-05-01T00:00:00Z");
        assert_eq!(d.created("MDB7.cn").unwrap().to_string(), "2018-05-01T12:00:00Z");
        assert_eq!(d.created("com"), None);
        assert_eq!(d.created("other.org"), None);
    }

    #[test]
    fn bad_rows() {
        let e = DomainAges::parse_csv("example.com,soon\n").unwrap_err().to_string();
        assert_eq!(e, "domain-ages feed <reader>, line 1: invalid creation date \"soon\"");
        let e = DomainAges::parse_csv("a b,2018-01-01\n").unwrap_err().to_string();
        assert_eq!(e, "domain-ages feed <reader>, line 1: invalid domain \"a b\"");
    }
}
