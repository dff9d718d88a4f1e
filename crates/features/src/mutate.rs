//! Seeded input mutations for the bounded fuzz harnesses (`examples/fuzz.rs` here, the
//! route fuzzer in vigil-http): from valid records, the inputs an attacker or a broken
//! shipper sends. Not used on any serving or training path.
//!
//! A stable generator (SplitMix64) keeps a run reproducible from its seed, so a finding
//! is replayed by its seed and iteration number.

/// A small, stable, seeded generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Pieces that break parsers in interesting ways.
const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "\\u0000",
    "\\ud800",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-0",
    "1e400",
    "-1e400",
    "NaN",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"0000-01-01T00:00:00Z\"",
    "\"::ffff:1.2.3.4\"",
    "\"256.1.1.1\"",
    "\"eventid\"",
    "\"timestamp\"",
    "\"src_ip\"",
    "\"cowrie.direct-tcpip.data\"",
    "\"b'\\\\x16\\\\x03'\"",
    "\"events\"",
    "\"raw\"",
    "\"event_type\"",
    "\"alert\"",
    "\u{fffd}",
    "\u{feff}",
    "\r",
    "\n",
    "\t",
];

/// One mutation of `input` (which it may grow up to about `max_len` bytes).
pub fn mutate(rng: &mut Rng, input: &[u8], max_len: usize) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let at = if out.is_empty() { 0 } else { rng.below(out.len() + 1) };
        match rng.below(10) {
            // Flip a byte.
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            // Cut the input short.
            1 => out.truncate(at),
            // Delete a span.
            2 if at < out.len() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            // Insert a token.
            3 | 4 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            // Duplicate a span (repeated keys, repeated records).
            5 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(64)).min(out.len());
                let span = out[start..end].to_vec();
                out.splice(at..at, span);
            }
            // A huge string value.
            6 => {
                let n = 1 + rng.below(max_len / 2 + 1);
                let mut s = Vec::with_capacity(n + 2);
                s.push(b'"');
                s.extend(std::iter::repeat_n(b'A' + rng.below(26) as u8, n));
                s.push(b'"');
                out.splice(at..at, s);
            }
            // Deep nesting.
            7 => {
                let depth = 1 + rng.below(2000);
                let open = if rng.below(2) == 0 { b'[' } else { b'{' };
                out.splice(at..at, std::iter::repeat_n(open, depth));
            }
            // Invalid UTF-8.
            8 => out.splice(at..at, [0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28]).for_each(drop),
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.extend_from_slice(token);
            }
        }
        if out.len() > max_len {
            out.truncate(max_len);
        }
    }
    out
}

/// Runs every parser (and the extractor on what they read) on `input` and checks what must
/// hold for any input: no panic, no I/O error from memory, every string field within its
/// budget, every record accounted for, every feature finite. `Err` names the broken rule.
pub fn check_input(input: &[u8]) -> Result<usize, String> {
    let mut events = 0;
    for format in crate::Format::ALL {
        let outcome = std::panic::catch_unwind(|| crate::parse_lines(format, input))
            .map_err(|_| format!("{format}: the parser panicked"))?
            .map_err(|e| format!("{format}: {e}"))?;
        let lines = input.split(|&b| b == b'\n').count();
        // An ingest document spans lines; a Heralding session is several events.
        let one_per_line =
            !matches!(outcome.format, crate::Format::Ingest | crate::Format::Heralding);
        if one_per_line && outcome.events.len() + outcome.rejected.len() + outcome.skipped > lines {
            return Err(format!("{format}: more outcomes than lines"));
        }
        for e in &outcome.events {
            let mut cut = e.clone();
            cut.enforce_budgets();
            if cut != *e {
                return Err(format!("{format}: an event is over its byte budgets"));
            }
        }
        let feeds = crate::Feeds::default();
        for window in crate::group_by_source(outcome.events.clone()).values() {
            let vector = std::panic::catch_unwind(|| crate::extract_with(window, &feeds))
                .map_err(|_| format!("{format}: extraction panicked"))?;
            if vector.as_slice().iter().any(|v| !v.is_finite()) {
                return Err(format!("{format}: a feature is not finite"));
            }
        }
        events += outcome.events.len();
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_inputs() {
        let seed = br#"{"a": 1}"#;
        let one: Vec<Vec<u8>> =
            (0..50).scan(Rng::new(7), |r, _| Some(mutate(r, seed, 1 << 12))).collect();
        let two: Vec<Vec<u8>> =
            (0..50).scan(Rng::new(7), |r, _| Some(mutate(r, seed, 1 << 12))).collect();
        assert_eq!(one, two);
        assert!(one.iter().any(|m| m.as_slice() != seed));
        assert!(one.iter().all(|m| m.len() <= 1 << 12));
    }
}
