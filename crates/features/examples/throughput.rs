//! Single-threaded throughput, measured outside criterion so it can run under `perf stat`
//! (whose task-clock gives CPU time on a shared machine):
//!
//! ```text
//! cargo run --release -p vigil-features --example throughput
//! perf stat -e task-clock target/release/examples/throughput extract
//! ```
//!
//! `extract`: features of 64 seeded 1,000-event windows, repeated for about 3 s.
//! `kareiva`: parse the kareiva Cowrie log (gzip), group by source IP, extract every
//! window; best of 3 runs.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use vigil_features::{Format, Intel, extract_with, group_by_source, parse_file};

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    if what.is_empty() || what == "extract" {
        extract_rate();
    }
    if what.is_empty() || what == "kareiva" {
        kareiva();
    }
}

fn extract_rate() {
    let windows = synthetic::windows(7, 64, 1_000);
    let feeds = Intel::new().snapshot();
    let (mut events, start) = (0usize, Instant::now());
    while start.elapsed() < Duration::from_secs(3) {
        for w in &windows {
            black_box(extract_with(black_box(w), &feeds));
            events += w.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "extract: {events} events in {secs:.3} s wall = {:.2} M events/s (1,000-event windows)",
        events as f64 / secs / 1e6
    );
}

fn kareiva() {
    let path = synthetic::kareiva_path();
    if !path.is_file() {
        println!("kareiva: {} is missing", path.display());
        return;
    }
    let feeds = Intel::new().snapshot();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let parsed = parse_file(Format::Cowrie, &path).expect("kareiva log reads");
        let parse_secs = start.elapsed().as_secs_f64();
        let (events, rejected) = (parsed.events.len(), parsed.rejected.len());
        let windows = group_by_source(parsed.events);
        let vectors: Vec<_> = windows.values().map(|w| extract_with(w, &feeds)).collect();
        let secs = start.elapsed().as_secs_f64();
        best = best.min(secs);
        println!(
            "kareiva: {events} events ({rejected} rejected), {} sources: parse {parse_secs:.3} s, total {secs:.3} s wall",
            vectors.len()
        );
    }
    println!("kareiva: best {best:.3} s");
}
