//! Lenient JSON scalars shared by the parsers: a port may arrive as `22` or `"22"`, a
//! session id as a string or a number, a time as RFC 3339 text or an epoch number.
//!
//! Each type deserialises without building a `serde_json::Value`, borrowing strings from the
//! input line when they contain no escapes.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::net::IpAddr;

use serde::de::{self, Deserializer, Visitor};

use crate::Timestamp;

/// A string, or a number/bool written as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl Text<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as an owned box, `None` when empty.
    pub(crate) fn non_empty(&self) -> Option<Box<str>> {
        (!self.0.is_empty()).then(|| self.0.as_ref().into())
    }

    /// The text as an owned box, even when empty.
    pub(crate) fn boxed(&self) -> Box<str> {
        self.0.as_ref().into()
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A number type that [`Num`] can read from JSON numbers or numeric strings.
pub(crate) trait Numeric: Sized + Copy {
    /// What the error message says was expected.
    const EXPECTING: &'static str;
    fn from_u64(v: u64) -> Option<Self>;
    fn from_i64(v: i64) -> Option<Self>;
    fn from_f64(v: f64) -> Option<Self>;
    fn from_text(v: &str) -> Option<Self>;
}

macro_rules! integer {
    ($t:ty, $max:literal, $what:literal) => {
        impl Numeric for $t {
            const EXPECTING: &'static str = $what;
            fn from_u64(v: u64) -> Option<Self> {
                Self::try_from(v).ok()
            }
            fn from_i64(v: i64) -> Option<Self> {
                Self::try_from(v).ok()
            }
            fn from_f64(v: f64) -> Option<Self> {
                (v.fract() == 0.0 && (0.0..=$max).contains(&v)).then(|| v as Self)
            }
            fn from_text(v: &str) -> Option<Self> {
                v.parse().ok()
            }
        }
    };
}
integer!(u8, 255.0, "an integer in 0..=255");
integer!(u16, 65535.0, "an integer in 0..=65535");
// The largest f64 below 2^64.
integer!(u64, 18_446_744_073_709_549_568.0, "a non-negative integer");

impl Numeric for f64 {
    const EXPECTING: &'static str = "a finite number";
    fn from_u64(v: u64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_f64(v: f64) -> Option<Self> {
        v.is_finite().then_some(v)
    }
    fn from_text(v: &str) -> Option<Self> {
        v.parse::<f64>().ok().filter(|x| x.is_finite())
    }
}

/// A number given as a JSON number or numeric string; `None` for an empty string.
/// Out-of-range values are errors, never silently dropped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Num<T>(pub(crate) Option<T>);

impl<'de, T: Numeric> serde::Deserialize<'de> for Num<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<T: Numeric> V<T> {
            fn fail<E: de::Error>(v: impl fmt::Display) -> E {
                E::custom(format_args!("{v} is not {}", T::EXPECTING))
            }
        }
        impl<T: Numeric> Visitor<'_> for V<T> {
            type Value = Num<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::from_u64(v).map(|x| Num(Some(x))).ok_or_else(|| Self::fail(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::from_i64(v).map(|x| Num(Some(x))).ok_or_else(|| Self::fail(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                T::from_f64(v).map(|x| Num(Some(x))).ok_or_else(|| Self::fail(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let t = v.trim();
                if t.is_empty() {
                    return Ok(Num(None));
                }
                T::from_text(t)
                    .map(|x| Num(Some(x)))
                    .ok_or_else(|| Self::fail(format_args!("{v:?}")))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An event time: RFC 3339 text, or epoch seconds/milliseconds/microseconds as a number or
/// numeric string (see [`Timestamp::from_epoch`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Time(pub(crate) Timestamp);

impl<'de> serde::Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 time or epoch number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(Timestamp::from_epoch_int)
                    .map(Time)
                    .ok_or_else(|| E::custom(format_args!("timestamp {v} out of range")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Timestamp::from_epoch_int(v)
                    .map(Time)
                    .ok_or_else(|| E::custom(format_args!("timestamp {v} out of range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Timestamp::from_epoch(v)
                    .map(Time)
                    .ok_or_else(|| E::custom(format_args!("timestamp {v} out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Timestamp::parse(v).map(Time).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// An IP address as text; brackets (`[::1]`) allowed; IPv4-mapped IPv6 becomes IPv4.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    let t = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(t);
    t.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The required source address of an event, or the reason it cannot be had.
pub(crate) fn source_ip(field: &str, value: Option<&Text<'_>>) -> Result<IpAddr, String> {
    let v = value.ok_or_else(|| format!("missing {field}"))?;
    parse_ip(v.as_str()).ok_or_else(|| format!("invalid {field} {:?}", truncate(v.as_str())))
}

/// A destination given as an address or a name: `(Some(ip), None)` or `(None, Some(name))`.
pub(crate) fn destination(value: Option<&Text<'_>>) -> (Option<IpAddr>, Option<Box<str>>) {
    match value {
        Some(v) if !v.as_str().trim().is_empty() => match parse_ip(v.as_str()) {
            Some(ip) => (Some(ip), None),
            None => (None, Some(v.as_str().trim().into())),
        },
        _ => (None, None),
    }
}

/// At most 60 characters of `s`, for error messages.
pub(crate) fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Row<'a> {
        #[serde(borrow)]
        t: Option<Text<'a>>,
        p: Option<Num<u16>>,
        f: Option<Num<f64>>,
        time: Option<Time>,
    }

    #[test]
    fn lenient_scalars_accept_numbers_and_numeric_strings() {
        let r: Row<'_> =
            serde_json::from_str(r#"{"t":"abc","p":"22","f":1.5,"time":1525628645}"#).unwrap();
        assert!(matches!(r.t.as_ref().unwrap().0, Cow::Borrowed("abc")));
        assert_eq!(r.p.unwrap().0, Some(22));
        assert_eq!(r.f.unwrap().0, Some(1.5));
        assert_eq!(r.time.unwrap().0.as_micros(), 1_525_628_645_000_000);
        let r: Row<'_> =
            serde_json::from_str(r#"{"t":12,"p":"","f":"2.5","time":"2018-05-06T17:44:05Z"}"#)
                .unwrap();
        assert_eq!(r.t.unwrap().as_str(), "12");
        assert_eq!(r.p.unwrap().0, None);
        assert_eq!(r.f.unwrap().0, Some(2.5));
        let r: Row<'_> = serde_json::from_str(r#"{"t":null,"p":null}"#).unwrap();
        assert!(r.t.is_none() && r.p.is_none() && r.time.is_none());
    }

    #[test]
    fn out_of_range_values_are_errors_that_say_so() {
        let e = serde_json::from_str::<Row<'_>>(r#"{"p":70000}"#).err().unwrap().to_string();
        assert!(e.contains("70000 is not an integer in 0..=65535"), "{e}");
        let e =
            serde_json::from_str::<Row<'_>>(r#"{"time":"yesterday"}"#).err().unwrap().to_string();
        assert!(e.contains("invalid timestamp \"yesterday\""), "{e}");
        assert!(serde_json::from_str::<Row<'_>>(r#"{"t":[1]}"#).is_err());
    }

    #[test]
    fn addresses_and_destinations() {
        assert_eq!(parse_ip(" [::1] "), Some("::1".parse().unwrap()));
        assert_eq!(parse_ip("::ffff:10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(parse_ip("10.0.0.256"), None);
        let host = Text(Cow::Borrowed("httpbin.org"));
        assert_eq!(destination(Some(&host)), (None, Some("httpbin.org".into())));
        let ip = Text(Cow::Borrowed("8.8.8.8"));
        assert_eq!(destination(Some(&ip)), (Some("8.8.8.8".parse().unwrap()), None));
        assert_eq!(destination(None), (None, None));
    }
}
