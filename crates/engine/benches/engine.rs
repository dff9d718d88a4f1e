//! Criterion benchmarks of the engine (written below).
fn main() {}
