//! The binary format of a cached feature value (what Redis stores).
//!
//! Version 1, all integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `VGFV` |
//! | 1 | format version (1) |
//! | 1 | schema length `s` (1..=64) |
//! | `s` | schema version, ASCII `[A-Za-z0-9._-]` |
//! | 8 | as-of: newest event time covered, i64 Unix microseconds |
//! | 8 | computed-at: wall-clock time of the computation, i64 Unix microseconds |
//! | 4 | width `w`, u32 |
//! | 4·`w` | the features, f32 |
//! | 4 | CRC-32 (IEEE) of every byte before it |
//!
//! A 100-feature "v1" value is 432 bytes. The checksum makes any truncation, extension or
//! corruption of a valid value a decoding error rather than different features.

use crate::cache::{FeatureValue, check_name, us_range};
use crate::{Result, StoreError};

/// The first four bytes of every encoded value.
pub const VALUE_MAGIC: [u8; 4] = *b"VGFV";
/// The format version this build writes and reads.
pub const VALUE_FORMAT_VERSION: u8 = 1;

/// Bytes of a value besides the schema string and the features.
const FIXED: usize = 4 + 1 + 1 + 8 + 8 + 4 + 4;

/// Encodes `value` (computed for feature schema `schema`) in the format above.
pub fn encode_value(schema: &str, value: &FeatureValue) -> Result<Vec<u8>> {
    check_name("schema version", schema)?;
    let width = u32::try_from(value.values().len()).map_err(|_| StoreError::Unencodable {
        reason: format!("{} features do not fit a u32 width", value.values().len()),
    })?;
    for (name, us) in [("as-of", value.as_of_us()), ("computed-at", value.computed_at_us())] {
        if !us_range().contains(&us) {
            return Err(StoreError::Unencodable {
                reason: format!("{name} time {us} µs is out of range"),
            });
        }
    }
    let mut out = Vec::with_capacity(FIXED + schema.len() + 4 * value.values().len());
    out.extend_from_slice(&VALUE_MAGIC);
    out.push(VALUE_FORMAT_VERSION);
    // check_name bounds the length to 64 bytes.
    out.push(schema.len() as u8);
    out.extend_from_slice(schema.as_bytes());
    out.extend_from_slice(&value.as_of_us().to_le_bytes());
    out.extend_from_slice(&value.computed_at_us().to_le_bytes());
    out.extend_from_slice(&width.to_le_bytes());
    for v in value.values() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Decodes an encoded value into its schema version and the value.
///
/// Any byte string that [`encode_value`] did not produce is an error (never a panic, never
/// made-up features).
pub fn decode_value(bytes: &[u8]) -> Result<(String, FeatureValue)> {
    let (schema, value) = decode_parts(bytes)?;
    Ok((schema.to_owned(), value))
}

/// [`decode_value`] without allocating the schema string.
pub(crate) fn decode_parts(bytes: &[u8]) -> Result<(&str, FeatureValue)> {
    let corrupt = |reason: String| StoreError::CorruptValue { reason };
    if bytes.len() < FIXED {
        return Err(corrupt(format!("{} bytes, a value has at least {FIXED}", bytes.len())));
    }
    if bytes[..4] != VALUE_MAGIC {
        return Err(corrupt("bad magic: not a vigil feature value".into()));
    }
    if bytes[4] != VALUE_FORMAT_VERSION {
        return Err(StoreError::UnsupportedFormat {
            version: bytes[4],
            supported: VALUE_FORMAT_VERSION,
        });
    }
    let schema_len = usize::from(bytes[5]);
    let schema_end = 6 + schema_len;
    if bytes.len() < FIXED + schema_len {
        return Err(corrupt(format!(
            "{} bytes, a value with a {schema_len}-byte schema has at least {}",
            bytes.len(),
            FIXED + schema_len
        )));
    }
    let width_at = schema_end + 16;
    let width = u32::from_le_bytes(array(&bytes[width_at..width_at + 4]));
    let expected = (FIXED + schema_len) as u64 + 4 * u64::from(width);
    if bytes.len() as u64 != expected {
        return Err(corrupt(format!(
            "{} bytes, but the header announces {width} features ({expected} bytes)",
            bytes.len()
        )));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let (stored, computed) = (u32::from_le_bytes(array(crc)), crc32fast::hash(body));
    if stored != computed {
        return Err(corrupt(format!("checksum {stored:#010x} does not match {computed:#010x}")));
    }
    let schema = std::str::from_utf8(&bytes[6..schema_end])
        .map_err(|_| corrupt("schema version is not UTF-8".into()))?;
    check_name("schema version", schema).map_err(|e| corrupt(e.to_string()))?;
    let as_of = i64::from_le_bytes(array(&bytes[schema_end..schema_end + 8]));
    let computed_at = i64::from_le_bytes(array(&bytes[schema_end + 8..schema_end + 16]));
    for (name, us) in [("as-of", as_of), ("computed-at", computed_at)] {
        if !us_range().contains(&us) {
            return Err(corrupt(format!("{name} time {us} µs is out of range")));
        }
    }
    let values =
        body[width_at + 4..].chunks_exact(4).map(|c| f32::from_le_bytes(array(c))).collect();
    Ok((schema, FeatureValue::from_micros(as_of, computed_at, values)))
}

/// The first `N` bytes of `bytes` as an array; callers have checked the length.
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use proptest::prelude::*;

    use super::*;

    fn ts(us: i64) -> Timestamp {
        Timestamp::from_microsecond(us).unwrap()
    }

    fn bits(v: &FeatureValue) -> Vec<u32> {
        v.values().iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn layout_is_as_documented() {
        let value = FeatureValue::with_computed_at(ts(1), ts(2), vec![1.0; 100]);
        let bytes = encode_value("v1", &value).unwrap();
        assert_eq!(bytes.len(), 432);
        assert_eq!(&bytes[..6], b"VGFV\x01\x02");
        assert_eq!(&bytes[6..8], b"v1");
        assert_eq!(bytes[8..16], 1_i64.to_le_bytes());
        assert_eq!(bytes[16..24], 2_i64.to_le_bytes());
        assert_eq!(bytes[24..28], 100_u32.to_le_bytes());
        assert_eq!(bytes[28..32], 1.0_f32.to_le_bytes());
    }

    #[test]
    fn foreign_and_damaged_values_are_named_errors() {
        let value = FeatureValue::with_computed_at(ts(1), ts(2), vec![0.5, 1.5]);
        let good = encode_value("v1", &value).unwrap();
        let check = |bytes: &[u8], expected: &str| {
            let text = decode_value(bytes).unwrap_err().to_string();
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        };
        check(b"", "0 bytes");
        check(br#"{"features":[1,2,3],"version":"v1.0"}"#, "bad magic");
        let mut future = good.clone();
        future[4] = 2;
        check(&future, "format version 2");
        check(&good[..good.len() - 1], "header announces 2 features");
        let mut longer = good.clone();
        longer.push(0);
        check(&longer, "header announces 2 features");
        let mut flipped = good.clone();
        flipped[30] ^= 0x01;
        check(&flipped, "checksum");
        assert!(encode_value("v:1", &value).is_err());
    }

    fn schema() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._-]{1,64}"
    }

    fn micros() -> impl Strategy<Value = i64> {
        let (min, max) = us_range().into_inner();
        prop_oneof![Just(0), Just(min), Just(max), min..=max]
    }

    #[test]
    fn extreme_timestamps_round_trip_through_the_accessors() {
        for t in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH] {
            let value = FeatureValue::with_computed_at(t, t, vec![]);
            let (_, back) = decode_value(&encode_value("v1", &value).unwrap()).unwrap();
            assert_eq!(back, value);
            assert_eq!(back.as_of(), value.as_of());
            assert!(back.as_of().duration_since(t).abs() < jiff::SignedDuration::from_secs(1));
        }
    }

    fn value() -> impl Strategy<Value = FeatureValue> {
        (micros(), micros(), prop::collection::vec(any::<u32>().prop_map(f32::from_bits), 0..130))
            .prop_map(|(a, c, v)| FeatureValue::from_micros(a, c, v))
    }

    proptest! {
        #[test]
        fn round_trips(schema in schema(), value in value()) {
            let bytes = encode_value(&schema, &value).unwrap();
            let (s, back) = decode_value(&bytes).unwrap();
            prop_assert_eq!(s, schema);
            prop_assert_eq!(back.as_of_us(), value.as_of_us());
            prop_assert_eq!(back.computed_at_us(), value.computed_at_us());
            prop_assert_eq!(bits(&back), bits(&value));
        }

        #[test]
        fn truncation_is_an_error(schema in schema(), value in value(), cut in any::<prop::sample::Index>()) {
            let bytes = encode_value(&schema, &value).unwrap();
            let keep = cut.index(bytes.len());
            prop_assert!(decode_value(&bytes[..keep]).is_err());
        }

        #[test]
        fn corruption_is_an_error_or_an_identical_round_trip(
            schema in schema(),
            value in value(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let mut bytes = encode_value(&schema, &value).unwrap();
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            if let Ok((s, back)) = decode_value(&bytes) {
                prop_assert_eq!(encode_value(&s, &back).unwrap(), bytes);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            if let Ok((s, back)) = decode_value(&bytes) {
                prop_assert_eq!(encode_value(&s, &back).unwrap(), bytes);
            }
        }

        #[test]
        fn arbitrary_bytes_behind_a_valid_header_never_panic(
            schema in schema(),
            width in any::<u32>(),
            tail in prop::collection::vec(any::<u8>(), 0..600),
        ) {
            let mut bytes = b"VGFV\x01".to_vec();
            bytes.push(schema.len() as u8);
            bytes.extend_from_slice(schema.as_bytes());
            bytes.extend_from_slice(&[0; 16]);
            bytes.extend_from_slice(&width.to_le_bytes());
            bytes.extend_from_slice(&tail);
            if let Ok((s, back)) = decode_value(&bytes) {
                prop_assert_eq!(encode_value(&s, &back).unwrap(), bytes);
            }
        }
    }
}
