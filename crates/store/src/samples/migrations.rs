//! The sample store's schema, as rusqlite_migration migrations (tracked in `user_version`).
//!
//! Migrations are append-only: never edit one that has shipped, add the next.

use rusqlite_migration::{M, Migrations};

/// Times are Unix microseconds (INTEGER); features are f32 little-endian BLOBs.
const V1: &str = r"
CREATE TABLE samples (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at        INTEGER NOT NULL,
    entity            TEXT    NOT NULL CHECK (entity <> ''),
    schema_version    TEXT    NOT NULL CHECK (schema_version <> ''),
    features          BLOB    NOT NULL CHECK (length(features) > 0 AND length(features) % 4 = 0),
    model_version     TEXT    NOT NULL CHECK (model_version <> ''),
    ml_prediction     TEXT    NOT NULL CHECK (ml_prediction <> ''),
    ml_confidence     REAL    NOT NULL CHECK (ml_confidence >= 0.0 AND ml_confidence <= 1.0),
    council_verdict   TEXT    NOT NULL CHECK (council_verdict IN ('CONFIRM', 'OVERRIDE', 'UNCERTAIN')),
    correct_label     TEXT,
    was_override      INTEGER NOT NULL CHECK (was_override = (council_verdict = 'OVERRIDE')),
    used_for_training INTEGER NOT NULL DEFAULT 0 CHECK (used_for_training IN (0, 1)),
    training_run_id   TEXT,
    -- A CONFIRM's correct label is the prediction; an OVERRIDE's is another label.
    CHECK (council_verdict <> 'CONFIRM' OR correct_label = ml_prediction),
    CHECK (council_verdict <> 'OVERRIDE' OR (correct_label IS NOT NULL AND correct_label <> ml_prediction)),
    -- UNCERTAIN samples are kept for analysis but never trained on.
    CHECK (council_verdict <> 'UNCERTAIN' OR used_for_training = 0),
    CHECK ((used_for_training = 1) = (training_run_id IS NOT NULL))
);

-- Pending (unused, trainable) samples per schema version, in id order.
CREATE INDEX samples_pending ON samples (schema_version, id)
    WHERE used_for_training = 0 AND council_verdict <> 'UNCERTAIN';
CREATE INDEX samples_run ON samples (training_run_id) WHERE training_run_id IS NOT NULL;

CREATE TABLE retrain_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger     TEXT    NOT NULL CHECK (trigger <> ''),
    reason      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    metrics     TEXT    CHECK (metrics IS NULL OR json_valid(metrics)),
    error       TEXT,
    CHECK ((status = 'running') = (finished_at IS NULL)),
    CHECK ((status = 'failed') = (error IS NOT NULL))
);

CREATE INDEX retrain_jobs_succeeded ON retrain_jobs (finished_at) WHERE status = 'succeeded';

CREATE TABLE retrain_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    requested_at INTEGER NOT NULL,
    requested_by TEXT    NOT NULL CHECK (requested_by <> ''),
    reason       TEXT    NOT NULL,
    claimed_at   INTEGER
);

CREATE INDEX retrain_requests_open ON retrain_requests (id) WHERE claimed_at IS NULL;
";

/// Feedback on a prediction (by its id) is stored at most once, whatever the timing of
/// retries: the unique index decides, not a claim in some server's memory.
const V2: &str = r"
ALTER TABLE samples ADD COLUMN prediction_id TEXT CHECK (prediction_id IS NULL OR prediction_id <> '');
CREATE UNIQUE INDEX samples_prediction ON samples (prediction_id) WHERE prediction_id IS NOT NULL;
";

/// Where the verdict was routed when the model made it (issue 13): the override rate per
/// route is how a deployment tunes its confidence bands. Older samples have none.
const V3: &str = r"
ALTER TABLE samples ADD COLUMN route TEXT CHECK (route IS NULL OR route IN ('autonomous', 'council', 'human'));
";

/// Predictions made on ingested events, kept for their retention period so that feedback
/// can name them after a restart; those routed to the council or a human are the review
/// queue (issue 13): open until their feedback closes them or a newer verdict on the same
/// entity supersedes them, leased to one reviewer at a time.
const V4: &str = r"
CREATE TABLE predictions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    prediction_id TEXT    NOT NULL UNIQUE CHECK (prediction_id <> ''),
    created_at    INTEGER NOT NULL,
    entity        TEXT    NOT NULL,
    schema_version TEXT   NOT NULL,
    class         TEXT    NOT NULL,
    confidence    REAL    NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    probabilities TEXT    NOT NULL CHECK (json_valid(probabilities)),
    route         TEXT    NOT NULL CHECK (route IN ('autonomous', 'council', 'human')),
    model_version TEXT    NOT NULL,
    features      BLOB    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'superseded')),
    claimed_by    TEXT,
    lease_until   INTEGER,
    closed_at     INTEGER,
    sample_id     INTEGER,
    CHECK ((status = 'open') = (closed_at IS NULL))
);

CREATE INDEX predictions_queue ON predictions (route, status, id);
CREATE INDEX predictions_confidence ON predictions (route, status, confidence, id);
CREATE INDEX predictions_age ON predictions (created_at);
CREATE INDEX predictions_entity ON predictions (entity) WHERE status = 'open';
";

const MIGRATIONS: &[M<'static>] = &[M::up(V1), M::up(V2), M::up(V3), M::up(V4)];

/// Every migration, oldest first.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

/// The schema version after every migration ran (`PRAGMA user_version`).
pub(crate) const LATEST: usize = MIGRATIONS.len();

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }
}
