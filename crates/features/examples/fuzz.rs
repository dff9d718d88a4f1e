//! The parsers' bounded fuzz harness: mutations of every fixture record (and of whole
//! fixture files) through every parser and the extractor, checking what must hold for any
//! input (`vigil_features::mutate::check_input`). Prints executions, findings and speed.
//!
//! ```sh
//! cargo run --release -p vigil-features --example fuzz -- 10000000 1
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a harness prints its tally")]

use std::process::ExitCode;
use std::time::Instant;

use vigil_features::mutate::{Rng, check_input, mutate};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let iterations: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events");
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures/events") {
        let path = entry.expect("a fixture").path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("a readable fixture");
        seeds.extend(bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec));
        seeds.push(bytes);
    }
    let mut rng = Rng::new(seed);
    let (clock, mut findings, mut events) = (Instant::now(), 0u64, 0u64);
    for i in 0..iterations {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base, 1 << 16);
        match check_input(&input) {
            Ok(n) => events += n as u64,
            Err(why) => {
                findings += 1;
                eprintln!("finding at iteration {i} (seed {seed}): {why}");
            }
        }
    }
    let seconds = clock.elapsed().as_secs_f64();
    let formats = vigil_features::Format::ALL.len() as u64;
    // Each input goes through every format (`auto` too).
    println!(
        "{iterations} inputs x {formats} formats = {} parser runs in {seconds:.1} s ({:.0} inputs/s), \
         {events} events read, {findings} findings",
        iterations * formats,
        iterations as f64 / seconds
    );
    if findings == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
