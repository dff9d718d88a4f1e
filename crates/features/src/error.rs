//! The error type of vigil-features.

/// What can go wrong when reading events or feeds, or handling feature vectors.
///
/// A bad *event line* is not an error: parsers report it in
/// [`ParseOutcome::rejected`](crate::ParseOutcome) and carry on with the batch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// Reading a file or stream failed.
    #[error("cannot read {origin}: {source}")]
    Io {
        /// The path read, or `<reader>` for a stream.
        origin: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a threat-intel feed is not in the feed's format.
    #[error("{feed} feed {origin}, line {line}: {reason}")]
    Feed {
        /// The kind of feed, e.g. `tor-exits` or `ip2asn`.
        feed: &'static str,
        /// The path read, or `<reader>` for a stream.
        origin: String,
        /// 1-based line number of the bad line.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An event-format name that is none of the known ones.
    #[error(
        "unknown event format {name:?} (known: auto, cowrie, suricata, ingest, web, jsonl, zeek, tanner, heralding, \
         elasticpot, adbhoney)"
    )]
    UnknownFormat {
        /// The name as given.
        name: String,
    },
    /// A feed-kind name that is none of the known ones.
    #[error(
        "unknown feed kind {name:?} (known: tor-exits, c2, blocklist, reputation, asn, \
         asn-reputation, domain-ages)"
    )]
    UnknownFeed {
        /// The name as given.
        name: String,
    },
    /// A timestamp that is neither RFC 3339 nor epoch seconds/milliseconds/microseconds.
    #[error("invalid timestamp {value:?}: {reason}")]
    InvalidTimestamp {
        /// The value as given.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A feature vector with the wrong number of values for the schema.
    #[error("feature schema {schema} has {expected} features, got {found} values")]
    Width {
        /// The schema version, e.g. `v1`.
        schema: &'static str,
        /// The schema's width.
        expected: usize,
        /// The number of values given.
        found: usize,
    },
    /// A feature value that is NaN or infinite.
    #[error("feature {name} (index {index}) is not finite: {value}")]
    NonFinite {
        /// The feature's name.
        name: &'static str,
        /// The feature's index in the schema.
        index: usize,
        /// The value itself.
        value: f32,
    },
    /// A feature name that the schema does not have.
    #[error("unknown feature {name:?} in schema {schema}")]
    UnknownFeature {
        /// The name as given.
        name: String,
        /// The schema version searched.
        schema: &'static str,
    },
    /// A window policy that keeps nothing.
    #[error("invalid window policy: {reason}")]
    InvalidPolicy {
        /// What is wrong.
        reason: String,
    },
    /// A stored schema version or feature list that is not this crate's.
    #[error("feature schema mismatch: expected {expected}, found {found}")]
    SchemaMismatch {
        /// What this crate computes (version, or the first differing name).
        expected: String,
        /// What was found.
        found: String,
    },
}

/// `Result` with [`FeatureError`].
pub type Result<T, E = FeatureError> = std::result::Result<T, E>;
