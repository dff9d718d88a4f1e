//! The parsers' fuzz harness, bounded for CI: 20,000 mutated inputs through every parser
//! and the extractor (the long runs are `examples/fuzz.rs`, see docs/BENCHMARKS.md).

use vigil_features::mutate::{Rng, check_input, mutate};

#[test]
fn mutated_records_never_panic_overflow_budgets_or_give_non_finite_features() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events");
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for name in [
        "cowrie.json",
        "suricata_eve.json",
        "web.jsonl",
        "generic.jsonl",
        "ingest_list.json",
        "zeek.log",
        "zeek.json",
        "tanner.json",
        "heralding.json",
        "elasticpot.json",
        "adbhoney.json",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        seeds.extend(bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec));
    }
    // Zeek's ASCII form needs its headers: the whole log is a seed too.
    seeds.push(std::fs::read(dir.join("zeek.log")).unwrap());
    let mut rng = Rng::new(20_261_204);
    for i in 0..20_000 {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base, 1 << 14);
        if let Err(why) = check_input(&input) {
            panic!("iteration {i}: {why}\ninput: {:?}", String::from_utf8_lossy(&input));
        }
    }
}

#[test]
fn a_valid_record_passes_and_is_read() {
    // `auto` and `jsonl` read the generic form (at least); a mangled one reads as nothing.
    let line = br#"{"timestamp":1525644000,"kind":"command","src_ip":"192.0.2.1","command":"x"}"#;
    assert!(check_input(line).unwrap() >= 2);
    assert_eq!(check_input(b"{\"timestamp\":"), Ok(0));
}
