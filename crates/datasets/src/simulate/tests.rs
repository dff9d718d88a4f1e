use std::collections::BTreeSet;

use vigil_features::{EventKind, Format, Intel, extract, parse_str};

use super::build::{BASE_US, DAY, SPAN_DAYS};
use super::*;

const NORMAL: usize = 0;
const DOS: usize = 1;
const RECON: usize = 2;
const BRUTE: usize = 3;
const WEB: usize = 4;
const APT: usize = 6;

/// The base scenarios (level 0); everything else is a hard case.
const BASE: [&str; 22] = [
    "visitor",
    "workstation",
    "admin",
    "syn_flood",
    "udp_flood",
    "http_flood",
    "port_scan",
    "host_sweep",
    "banner_grab",
    "ssh_spray",
    "telnet_spray",
    "dictionary",
    "probe",
    "sqli",
    "xss",
    "traversal",
    "vuln_scan",
    "cmd_injection",
    "dropper",
    "c2_beacon",
    "proxy_abuse",
    "intrusion",
];

fn run(entities: usize, level: u8, seed: u64) -> Vec<SimEntity> {
    simulate(&SimParams::new(entities, level, seed)).unwrap()
}

/// The scenario without its `+decoy` / `+partial` suffixes.
fn variant(e: &SimEntity) -> &str {
    e.scenario.split('+').next().unwrap_or("")
}

fn share(entities: &[SimEntity], label: usize, test: impl Fn(&SimEntity) -> bool) -> f64 {
    let of: Vec<&SimEntity> = entities.iter().filter(|e| e.label == label).collect();
    of.iter().filter(|e| test(e)).count() as f64 / of.len() as f64
}

fn mean_feature(entities: &[SimEntity], label: usize, names: &[&str]) -> f64 {
    let intel = Intel::new();
    let values: Vec<f64> = entities
        .iter()
        .filter(|e| e.label == label)
        .map(|e| {
            let f = extract(&e.events, &intel);
            names.iter().map(|n| f64::from(f.get(n).unwrap())).sum::<f64>()
        })
        .collect();
    values.iter().sum::<f64>() / values.len() as f64
}

/// Asserts `a == b`, showing only the first differing event.
fn same(a: &[SimEntity], b: &[SimEntity]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!((x.ip, x.label, &x.scenario), (y.ip, y.label, &y.scenario));
        assert_eq!(x.events.len(), y.events.len(), "{}", x.ip);
        for (e, f) in x.events.iter().zip(&y.events) {
            assert_eq!(e, f);
        }
    }
}

fn has(e: &SimEntity, kind: EventKind) -> bool {
    e.events.iter().any(|ev| ev.kind == kind)
}

fn span_hours(e: &SimEntity) -> f64 {
    let (a, b) = (e.events.first().unwrap(), e.events.last().unwrap());
    (b.timestamp.as_micros() - a.timestamp.as_micros()) as f64 / 3.6e9
}

#[test]
fn the_same_seed_gives_the_same_entities_and_bytes() {
    for level in 0..=MAX_DIFFICULTY {
        let a = run(60, level, 7);
        same(&a, &run(60, level, 7));
        let (mut x, mut y) = (Vec::new(), Vec::new());
        write_jsonl(&a, &mut x).unwrap();
        write_jsonl(&run(60, level, 7), &mut y).unwrap();
        assert_eq!(x, y);
        assert_ne!(a, run(60, level, 8), "another seed, other entities");
    }
}

#[test]
fn every_class_is_present_with_exact_counts() {
    for level in 0..=MAX_DIFFICULTY {
        for (n, each) in [(7, 1), (70, 10)] {
            let entities = run(n, level, 1);
            for class in 0..SIM_CLASSES {
                let count = entities.iter().filter(|e| e.label == class).count();
                assert_eq!(count, each, "level {level}, {n} entities, class {class}");
            }
        }
    }
    let check = |entities, mix: [f64; 7], expected: [usize; 7]| {
        let params = SimParams::new(entities, 0, 0).with_class_mix(mix);
        assert_eq!(params.class_counts(), expected, "{entities} {mix:?}");
        assert_eq!(simulate(&params).unwrap().len(), entities);
    };
    check(10, [1.0; 7], [2, 2, 2, 1, 1, 1, 1]);
    check(100, [3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [34, 11, 11, 11, 11, 11, 11]);
    check(9, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0], [5, 0, 0, 0, 0, 0, 4]);
    check(3, [1.0; 7], [1, 1, 1, 0, 0, 0, 0]);
    check(20, [1.0, 0.001, 0.0, 0.0, 0.0, 0.0, 0.0], [19, 1, 0, 0, 0, 0, 0]);
}

#[test]
fn entities_are_well_formed() {
    for level in 0..=MAX_DIFFICULTY {
        let entities = run(700, level, 3);
        let ips: BTreeSet<_> = entities.iter().map(|e| e.ip).collect();
        assert_eq!(ips.len(), entities.len(), "one entity per address");
        for e in &entities {
            assert!(!e.events.is_empty(), "{} {}", e.ip, e.scenario);
            assert!(e.events.iter().all(|ev| ev.src_ip == e.ip));
            assert!(e.events.is_sorted_by(|a, b| a.canonical_cmp(b).is_le()));
            let first = e.events[0].timestamp.as_micros();
            let last = e.events.last().unwrap().timestamp.as_micros();
            assert!((BASE_US..BASE_US + SPAN_DAYS * DAY).contains(&first), "{}", e.scenario);
            assert!(last < BASE_US + (SPAN_DAYS + 7) * DAY, "{}", e.scenario);
            assert!(!e.scenario.is_empty());
        }
    }
}

#[test]
fn events_parse_back_through_the_jsonl_parser_and_labels_with_them() {
    let entities = run(140, 3, 5);
    let mut bytes = Vec::new();
    write_jsonl(&entities, &mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.lines().next().unwrap().contains("\"label\":"), "{}", &text[..200]);

    let parsed = parse_str(Format::Auto, &text);
    assert_eq!(parsed.format, Format::Jsonl);
    assert!(parsed.rejected.is_empty(), "{:?}", &parsed.rejected[..1]);
    let all: Vec<_> = entities.iter().flat_map(|e| e.events.iter().cloned()).collect();
    assert_eq!(parsed.events.len(), all.len());
    for (e, f) in parsed.events.iter().zip(&all) {
        assert_eq!(e, f);
    }

    let labels = read_labels(text.as_bytes()).unwrap();
    assert_eq!((labels.labelled_lines, labels.unlabelled_lines), (all.len(), 0));
    assert_eq!(labels.by_source.len(), entities.len());
    assert!(entities.iter().all(|e| labels.by_source[&e.ip] == e.label));

    same(&read_jsonl(text.as_bytes()).unwrap(), &entities);
}

#[test]
fn labelled_files_round_trip_plain_and_gzip() {
    let entities = run(21, 1, 2);
    let dir = tempfile::tempdir().unwrap();
    for name in ["e.jsonl", "e.jsonl.gz"] {
        let path = dir.path().join(name);
        write_jsonl_file(&entities, &path).unwrap();
        same(&read_jsonl_file(&path).unwrap(), &entities);
        assert_eq!(read_labels_file(&path).unwrap().by_source.len(), 21);
        let outcome = vigil_features::parse_file(Format::Auto, &path).unwrap();
        assert!(outcome.rejected.is_empty());
    }
    let err = read_labels_file(dir.path().join("missing.jsonl")).unwrap_err().to_string();
    assert!(err.contains("missing.jsonl"), "{err}");
}

#[test]
fn bad_labelled_lines_are_errors_naming_the_line() {
    let line = |label: &str, ip: &str| {
        format!(r#"{{"timestamp":1525651200,"kind":"flow","src_ip":"{ip}","label":"{label}"}}"#)
    };
    let text = [line("Normal", "192.0.2.1"), line("phishing", "192.0.2.2")].join("\n");
    assert_eq!(
        read_labels(text.as_bytes()).unwrap_err().to_string(),
        "line 2: unknown label \"phishing\" (classes: Normal, DDoS/DoS, Reconnaissance, \
         Brute Force, Web Attack, Malware/Botnet, APT)"
    );
    let text = [line("benign", "192.0.2.1"), line("bruteforce", "192.0.2.1")].join("\n");
    assert_eq!(
        read_labels(text.as_bytes()).unwrap_err().to_string(),
        "line 2: source 192.0.2.1 is labelled \"Brute Force\" here but \"Normal\" before"
    );
    // Aliases name the same class; lines that are not events are skipped by read_labels
    // (the event parser reports them) but are errors for read_jsonl.
    let text = [line("dos", "192.0.2.1"), "not json".into(), line("DDoS", "192.0.2.1")].join("\n");
    let labels = read_labels(text.as_bytes()).unwrap();
    assert_eq!(labels.by_source[&"192.0.2.1".parse().unwrap()], DOS);
    assert_eq!((labels.labelled_lines, labels.unlabelled_lines), (2, 1));
    let err = read_jsonl(text.as_bytes()).unwrap_err().to_string();
    assert!(err.starts_with("line 2: "), "{err}");
    let text = r#"{"timestamp":1525651200,"kind":"flow","src_ip":"192.0.2.1"}"#;
    assert_eq!(read_jsonl(text.as_bytes()).unwrap_err().to_string(), "line 1: no \"label\" field");
    assert!(read_labels(text.as_bytes()).unwrap().is_empty());
}

#[test]
fn invalid_params_are_errors_naming_the_field() {
    let check = |params: SimParams, expected: &str| {
        let err = simulate(&params).unwrap_err().to_string();
        assert_eq!(err, format!("invalid simulation parameters: {expected}"));
    };
    check(SimParams::new(0, 0, 0), "entities 0 is not in 1..=50000");
    check(SimParams::new(10, 4, 0), "difficulty 4 is not in 0..=3");
    let mix = |m| SimParams::new(10, 0, 0).with_class_mix(m);
    check(mix([0.0; 7]), "every class weight is 0");
    check(mix([1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0]), "class weight -1 is not a finite number ≥ 0");
    check(mix([f64::NAN; 7]), "class weight NaN is not a finite number ≥ 0");
}

#[test]
fn hard_cases_and_partial_windows_come_in_the_documented_shares() {
    for level in 0..=MAX_DIFFICULTY {
        let entities = run(2100, level, 11);
        let n = entities.len() as f64;
        let hard = entities.iter().filter(|e| !BASE.contains(&variant(e))).count() as f64 / n;
        let partial = entities.iter().filter(|e| e.scenario.contains("+partial")).count() as f64;
        let decoy = entities.iter().filter(|e| e.scenario.contains("+decoy")).count();
        assert!((hard - hard_share(level)).abs() < 0.04, "level {level}: hard share {hard}");
        assert!((partial / n - partial_share(level)).abs() < 0.03, "level {level}: {partial}");
        assert_eq!(decoy > 0, level == 3, "level {level}: {decoy} decoys");
    }
}

#[test]
fn difficulty_moves_the_distributions_as_documented() {
    let by_level: Vec<Vec<SimEntity>> = (0..=MAX_DIFFICULTY).map(|l| run(1400, l, 21)).collect();
    let at = |l: usize| &by_level[l];

    // Admins who mistype their password: none at level 0.
    let mistyping = |l| share(at(l), NORMAL, |e| has(e, EventKind::LoginFailed));
    assert_eq!(mistyping(0), 0.0);
    assert!(
        (1..=3).all(|l| mistyping(l) > 0.05),
        "{:?}",
        (0..4).map(mistyping).collect::<Vec<_>>()
    );

    // Scanners that also request web paths: none at level 0.
    let web_scanning = |l| share(at(l), RECON, |e| has(e, EventKind::HttpRequest));
    assert_eq!(web_scanning(0), 0.0);
    assert!((1..=3).all(|l| web_scanning(l) > 0.1));

    // Brute force slows down: the mean failed-login rate falls level after level.
    let rate: Vec<f64> =
        (0..4).map(|l| mean_feature(at(l), BRUTE, &["failed_logins_per_minute"])).collect();
    assert!(rate.windows(2).all(|w| w[1] < w[0]), "{rate:?}");

    // Web attacks hide their payloads from level 2: fewer requests show an attack marker.
    let markers = ["sql_injection_fraction", "xss_fraction", "path_traversal_fraction"];
    let shown: Vec<f64> = (0..4).map(|l| mean_feature(at(l), WEB, &markers)).collect();
    assert!(shown[2] < shown[0] && shown[3] < shown[2], "{shown:?}");

    // DoS sources send fewer events.
    let volume: Vec<f64> = (0..4).map(|l| mean_feature(at(l), DOS, &["event_count"])).collect();
    assert!(volume.windows(2).all(|w| w[1] < w[0]), "{volume:?}");

    // APT turns low and slow: longer windows from level 1 on.
    let span = |l: usize| {
        let of: Vec<f64> = at(l).iter().filter(|e| e.label == APT).map(span_hours).collect();
        of.iter().sum::<f64>() / of.len() as f64
    };
    assert!(span(0) < 2.0, "{}", span(0));
    assert!((1..=3).all(|l| span(l) > 2.0 * span(0)), "{:?}", (0..4).map(span).collect::<Vec<_>>());
}

/// The destination ports of every SSH/Telnet session connect, by protocol.
fn shell_ports(entities: &[SimEntity]) -> BTreeSet<(bool, u16)> {
    entities
        .iter()
        .flat_map(|e| &e.events)
        .filter(|e| e.kind == EventKind::SessionConnect)
        .filter(|e| matches!(e.sensor.as_deref(), Some("ssh-1" | "telnet-1")))
        .filter_map(|e| Some((e.sensor.as_deref() == Some("telnet-1"), e.dst_port?)))
        .collect()
}

#[test]
fn shell_ports_are_a_deployment_setting() {
    // Default: each source draws 22/23 or Cowrie's 2222/2223.
    let mixed = shell_ports(&run(600, 0, 5));
    let expected: BTreeSet<(bool, u16)> =
        [(false, 22), (false, 2222), (true, 23), (true, 2223)].into_iter().collect();
    assert_eq!(mixed, expected);
    // Set: every session on the deployment's ports, and nothing else changes its shape.
    let params = SimParams::new(600, 0, 5).with_shell_ports(2222, 2223);
    let fixed = simulate(&params).unwrap();
    let expected: BTreeSet<(bool, u16)> = [(false, 2222), (true, 2223)].into_iter().collect();
    assert_eq!(shell_ports(&fixed), expected);
    let err = SimParams::new(10, 0, 5).with_shell_ports(2222, 2222).check().unwrap_err();
    assert!(err.to_string().contains("shell ports 2222/2222"), "{err}");
}
