//! vigil-features: security events in, 100 named features per source IP out (schema v2).
//!
//! - [`Event`]: one normalised security event (time from the payload, source and
//!   destination, [`EventKind`], credentials, command, URL, bytes, IDS fields).
//! - Parsers: [`parse_lines`], [`parse_str`] and [`parse_file`] (gzip or plain) read a
//!   [`Format`] (Cowrie JSON lines, Suricata `eve.json`, mini-xdr ingest bodies,
//!   web-honeypot requests, generic JSONL, or auto-detect) into a [`ParseOutcome`]: the
//!   events plus every [`Rejected`] record with its line and reason.
//! - [`group_by_source`] splits events by source; [`WindowPolicy`] and [`EventWindow`] are
//!   the one window rule (horizon, per-entity cap, duplicates, order) of serving and
//!   training, and a [`Featurizer`] (policy + feeds) turns events into the vectors serving
//!   would compute.
//! - Schema: [`FEATURES`] is the one table of the 100 features (name, [`Group`], formula,
//!   range), [`SCHEMA_VERSION`] is `"v2"`, [`feature_names`] lists them, and
//!   [`features_markdown`] renders `docs/FEATURES.md`.
//! - [`extract`]: a window and an [`Intel`] bundle in, a [`FeatureVector`] out.
//! - Threat intel: [`Intel`] holds [`Feeds`] ([`IpSet`] for Tor exits, C2 and block
//!   lists; [`Reputation`]; [`AsnTable`] and [`AsnScores`]; [`DomainAges`]) loaded from local
//!   files by [`FeedKind`]; a reload swaps one feed atomically.
//!
//! ```
//! use vigil_features::{Format, Intel, extract, group_by_source, parse_str};
//!
//! let log = r#"{"eventid":"cowrie.login.failed","timestamp":"2018-05-06T22:33:22Z","src_ip":"137.74.171.123","session":"a1","username":"root","password":"root"}
//! {"eventid":"cowrie.login.failed","timestamp":"2018-05-06T22:33:25Z","src_ip":"137.74.171.123","session":"a1","username":"admin","password":"1234"}
//! not json"#;
//! let parsed = parse_str(Format::Cowrie, log);
//! assert_eq!(parsed.events.len(), 2);
//! assert_eq!(parsed.rejected[0].line, 3);
//!
//! let intel = Intel::new();
//! for (ip, window) in group_by_source(parsed.events) {
//!     let features = extract(&window, &intel);
//!     assert_eq!(ip.to_string(), "137.74.171.123");
//!     // Counts are log-scaled: ln(1 + 2).
//!     assert!((features.get("failed_login_count").unwrap() - 3f32.ln()).abs() < 1e-6);
//!     assert_eq!(features.get("username_as_password_fraction").unwrap(), 0.5);
//! }
//! ```
//!
//! # Invariants
//! - An event's time is the time in its payload; a record without a parseable time is
//!   rejected, never stamped with "now". Volume windows end at the window's newest event.
//! - Parsing never panics and never stops at a bad record: each is reported with its
//!   1-based line number and a reason, and the rest of the input still parses. Only I/O
//!   errors fail a whole parse.
//! - Extraction is pure and deterministic: no I/O, no clock, no randomness; the same events
//!   in any order give bit-identical vectors (events are sorted by
//!   [`Event::canonical_cmp`] first).
//! - Every [`FeatureVector`] has exactly [`FEATURE_COUNT`] finite values, in [`FEATURES`]
//!   order; an empty window gives a defined vector.
//! - The feature table exists once, in `schema.rs`; `docs/FEATURES.md` is generated from it
//!   and a test fails when they differ.
//! - Threat-intel lookups are O(log n) over sorted, disjoint ranges (IPv4 and IPv6); a
//!   reader sees a whole feed bundle, old or new, never a partial reload.

mod error;
mod event;
mod extract;
mod intel;
pub mod mutate;
mod parse;
mod schema;
mod vector;
mod window;

pub use error::{FeatureError, Result};
pub use event::{
    AppProto, Event, EventKind, MAX_CLIENT_BYTES, MAX_COMMAND_BYTES, MAX_FIELD_BYTES,
    MAX_URL_BYTES, Timestamp, Transport, group_by_source,
};
pub use extract::{extract, extract_with};
pub use intel::{
    AsnInfo, AsnScores, AsnTable, DomainAges, FeedKind, Feeds, Intel, IpSet, Reputation,
};
pub use parse::{
    Format, MAX_LINE_BYTES, ParseOptions, ParseOutcome, Rejected, open_log, parse_file,
    parse_file_opts, parse_lines, parse_lines_opts, parse_lines_with, parse_str,
};
pub use schema::{
    FEATURE_COUNT, FEATURES, FLOW_USE, FeatureSpec, Group, SCHEMA_VERSION, feature_index,
    feature_names, features_markdown,
};
pub use vector::{FeatureVector, check_schema};
pub use window::{Appended, EventWindow, Featurizer, WindowPolicy};
