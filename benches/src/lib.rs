//! Seeded inputs shared by the criterion benchmarks in `benches/benches/`.
