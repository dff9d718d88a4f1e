//! Ordered class names with case-insensitive aliases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

/// An ordered set of class names; index 0 is the "normal" (benign) class by convention.
///
/// Labels are matched case-insensitively, with surrounding whitespace ignored, against the
/// names and the registered aliases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassSet {
    names: Vec<String>,
    /// Lower-cased alias (and lower-cased name) -> class index; ordered, so that a
    /// serialised class set (inside a model artifact) has the same bytes on every run.
    lookup: BTreeMap<String, usize>,
}

impl ClassSet {
    /// A class set with these names in this order; each name is also its own alias.
    pub fn new<I, S>(names: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.is_empty() {
            return Err(CoreError::InvalidClassSet { reason: "no classes".into() });
        }
        let mut lookup = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            if lookup.insert(normalise(name), i).is_some() {
                return Err(CoreError::InvalidClassSet {
                    reason: format!("class name {name:?} appears twice"),
                });
            }
        }
        Ok(Self { names, lookup })
    }

    /// Adds `alias` as another spelling of class `class` (a name or an existing alias).
    pub fn with_alias(mut self, alias: &str, class: &str) -> Result<Self> {
        let index = self.parse(class)?;
        match self.lookup.insert(normalise(alias), index) {
            Some(other) if other != index => Err(CoreError::InvalidClassSet {
                reason: format!("alias {alias:?} already names class {:?}", self.names[other]),
            }),
            _ => Ok(self),
        }
    }

    /// The 7 classes of the event models, in mini-xdr's order, with the aliases of DESIGN.md.
    pub fn threat() -> Self {
        let names = [
            "Normal",
            "DDoS/DoS",
            "Reconnaissance",
            "Brute Force",
            "Web Attack",
            "Malware/Botnet",
            "APT",
        ];
        let aliases = [
            ("benign", "Normal"),
            ("dos", "DDoS/DoS"),
            ("ddos", "DDoS/DoS"),
            ("recon", "Reconnaissance"),
            ("portscan", "Reconnaissance"),
            ("scan", "Reconnaissance"),
            ("bruteforce", "Brute Force"),
            ("brute_force", "Brute Force"),
            ("web", "Web Attack"),
            ("web_attack", "Web Attack"),
            ("webattack", "Web Attack"),
            ("malware", "Malware/Botnet"),
            ("botnet", "Malware/Botnet"),
            ("infiltration", "APT"),
            ("lateral movement", "APT"),
            ("lateral_movement", "APT"),
            ("exfiltration", "APT"),
        ];
        let mut set = Self::new(names).expect("static class names are distinct");
        for (alias, class) in aliases {
            set = set.with_alias(alias, class).expect("static aliases are consistent");
        }
        set
    }

    /// The class index of `label`, or an error naming it.
    pub fn parse(&self, label: &str) -> Result<usize> {
        self.lookup.get(&normalise(label)).copied().ok_or_else(|| CoreError::UnknownLabel {
            label: label.to_owned(),
            known: self.names.join(", "),
        })
    }

    /// How many classes there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: a class set has at least one class.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of class `index`, if it exists.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }

    /// All class names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

fn normalise(label: &str) -> String {
    label.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_aliases_case_insensitively() {
        let set = ClassSet::threat();
        assert_eq!(set.len(), 7);
        for (label, expected) in [
            ("Normal", 0),
            ("BENIGN", 0),
            (" ddos ", 1),
            ("DoS", 1),
            ("PortScan", 2),
            ("bruteforce", 3),
            ("Web Attack", 4),
            ("botnet", 5),
            ("Exfiltration", 6),
            ("lateral movement", 6),
        ] {
            assert_eq!(set.parse(label), Ok(expected), "{label}");
        }
    }

    #[test]
    fn unknown_label_is_named_in_the_error() {
        let err = ClassSet::threat().parse("phishing").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"phishing\""), "{text}");
        assert!(text.contains("Brute Force"), "{text}");
    }

    #[test]
    fn rejects_empty_and_duplicate_sets_and_conflicting_aliases() {
        assert!(ClassSet::new(Vec::<String>::new()).is_err());
        assert!(ClassSet::new(["a", "A"]).is_err());
        let set = ClassSet::new(["a", "b"]).unwrap().with_alias("x", "a").unwrap();
        assert!(set.clone().with_alias("x", "b").is_err());
        assert!(set.with_alias("y", "c").is_err());
    }
}
