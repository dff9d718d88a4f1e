//! Persisted predictions and the review queue (issue 13): every prediction made on ingested
//! events is kept (so feedback can name it after a restart, for the retention period), and
//! those routed to the council or a human are review items: listed oldest or least
//! confident first, claimed under a lease so two reviewers never hold the same one, closed
//! by the feedback on their prediction id, and superseded by a newer verdict on the same
//! entity unless someone holds them (an entity waits in the queue once, at its latest).

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Route, SampleStore, features_from_blob};
use crate::cache::{now_us, timestamp};
use crate::{Result, StoreError};

/// A prediction to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPrediction {
    /// Its id (what feedback names).
    pub prediction_id: String,
    /// The entity (source IP).
    pub entity: String,
    /// The feature-schema version of `features`.
    pub schema_version: String,
    /// The decided class.
    pub class: String,
    /// Its calibrated probability, in [0, 1].
    pub confidence: f64,
    /// Class name -> probability.
    pub probabilities: Vec<(String, f32)>,
    /// Where the verdict went.
    pub route: Route,
    /// The model version that decided.
    pub model_version: String,
    /// The feature vector it decided on (finite values).
    pub features: Vec<f32>,
}

/// Whether a review item still waits for its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewStatus {
    /// No verdict yet.
    Open,
    /// Its feedback is stored.
    Closed,
    /// A newer verdict on the same entity replaced it (its feedback is still taken).
    Superseded,
}

/// A kept prediction (a review item when its route is council or human).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPrediction {
    /// The prediction id: the review item's id and what its feedback names.
    pub prediction_id: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// The entity.
    pub entity: String,
    /// The feature-schema version of `features`.
    pub schema_version: String,
    /// The decided class.
    pub class: String,
    /// Its calibrated probability.
    pub confidence: f64,
    /// Class name -> probability, in class order.
    pub probabilities: serde_json::Map<String, serde_json::Value>,
    /// Where the verdict went.
    pub route: Route,
    /// The model version.
    pub model_version: String,
    /// The feature vector.
    pub features: Vec<f32>,
    /// Open, closed or superseded.
    pub status: ReviewStatus,
    /// Who holds the lease, if anyone (an expired lease is shown until someone else
    /// claims the item).
    pub claimed_by: Option<String>,
    /// Until when the lease holds.
    pub lease_until: Option<Timestamp>,
    /// When its feedback was stored, or a newer verdict superseded it.
    pub closed_at: Option<Timestamp>,
    /// The feedback's sample id.
    pub sample_id: Option<i64>,
    #[serde(skip)]
    row: i64,
}

/// Which review items to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewFilter {
    /// Open and not under a live lease: free to claim.
    Pending,
    /// Open and under a live lease.
    Claimed,
    /// Open, leased or not.
    Open,
    /// Closed by their feedback.
    Closed,
    /// Replaced by a newer verdict on the same entity.
    Superseded,
    /// Everything.
    All,
}

impl FromStr for ReviewFilter {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "pending" => Self::Pending,
            "claimed" => Self::Claimed,
            "open" => Self::Open,
            "closed" => Self::Closed,
            "superseded" => Self::Superseded,
            "all" => Self::All,
            other => {
                return Err(format!(
                    "unknown status {other:?} (pending, claimed, open, closed, superseded or all)"
                ));
            }
        })
    }
}

/// The order of a review listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewOrder {
    /// Oldest first.
    Oldest,
    /// Least confident first (ties: oldest first).
    LeastConfident,
}

impl FromStr for ReviewOrder {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "oldest" => Ok(Self::Oldest),
            "confidence" | "least_confident" => Ok(Self::LeastConfident),
            other => Err(format!("unknown order {other:?} (oldest or confidence)")),
        }
    }
}

/// A review listing: which items, in which order, from where.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewQuery {
    /// One route, or `None` for both review routes (council and human).
    pub route: Option<Route>,
    /// Which items.
    pub filter: ReviewFilter,
    /// In which order.
    pub order: ReviewOrder,
    /// At most this many (1 to 1,000).
    pub limit: usize,
    /// Continue after this cursor (a previous page's `next`).
    pub after: Option<String>,
}

impl Default for ReviewQuery {
    fn default() -> Self {
        Self {
            route: None,
            filter: ReviewFilter::Pending,
            order: ReviewOrder::Oldest,
            limit: 50,
            after: None,
        }
    }
}

/// One page of review items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewPage {
    /// The items.
    pub reviews: Vec<StoredPrediction>,
    /// The cursor of the next page, when there are more items.
    pub next: Option<String>,
}

/// What a claim did.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The lease is the claimant's until the item's `lease_until`.
    Claimed(Box<StoredPrediction>),
    /// Someone else holds a live lease.
    Held {
        /// Who.
        by: String,
        /// Until when.
        until: Timestamp,
    },
    /// The item is closed (or superseded by a newer verdict on its entity).
    Closed,
    /// No such review item (unknown id, pruned, or an autonomous prediction).
    Missing,
}

/// The cursor of a listing: the last row's id, and for the confidence order its
/// confidence too.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cursor {
    confidence: f64,
    row: i64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}~{}", self.confidence, self.row)
    }
}

impl FromStr for Cursor {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || StoreError::InvalidQuery { reason: format!("bad cursor {s:?}") };
        let (confidence, row) = s.split_once('~').ok_or_else(bad)?;
        let confidence: f64 = confidence.parse().map_err(|_| bad())?;
        if !confidence.is_finite() {
            return Err(bad());
        }
        Ok(Self { confidence, row: row.parse().map_err(|_| bad())? })
    }
}

const COLUMNS: &str = "id, prediction_id, created_at, entity, class, confidence, probabilities, \
    route, model_version, features, status, claimed_by, lease_until, closed_at, sample_id, \
    schema_version";

fn prediction_row(r: &Row<'_>) -> rusqlite::Result<Result<StoredPrediction>> {
    let row: i64 = r.get(0)?;
    let corrupt = |reason: String| StoreError::CorruptRow { table: "predictions", id: row, reason };
    let probabilities: String = r.get(6)?;
    let route: String = r.get(7)?;
    let blob: Vec<u8> = r.get(9)?;
    let status: String = r.get(10)?;
    let parsed = (|| {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&probabilities) else {
            return Err(corrupt(format!("probabilities {probabilities:?}")));
        };
        let probabilities = map;
        let route = route.parse().map_err(|e: StoreError| corrupt(e.to_string()))?;
        let status = match status.as_str() {
            "open" => ReviewStatus::Open,
            "closed" => ReviewStatus::Closed,
            "superseded" => ReviewStatus::Superseded,
            other => return Err(corrupt(format!("status {other:?}"))),
        };
        let features = features_from_blob(row, &blob).map_err(|e| corrupt(e.to_string()))?;
        Ok((probabilities, route, status, features))
    })();
    let (probabilities, route, status, features) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(StoredPrediction {
        row,
        prediction_id: r.get(1)?,
        created_at: timestamp(r.get(2)?),
        entity: r.get(3)?,
        schema_version: r.get(15)?,
        class: r.get(4)?,
        confidence: r.get(5)?,
        probabilities,
        route,
        model_version: r.get(8)?,
        features,
        status,
        claimed_by: r.get(11)?,
        lease_until: r.get::<_, Option<i64>>(12)?.map(timestamp),
        closed_at: r.get::<_, Option<i64>>(13)?.map(timestamp),
        sample_id: r.get(14)?,
    }))
}

fn check(p: &NewPrediction) -> Result<()> {
    let invalid = |reason: String| Err(StoreError::InvalidSample { reason });
    for (what, value) in [
        ("prediction id", &p.prediction_id),
        ("entity", &p.entity),
        ("schema version", &p.schema_version),
        ("class", &p.class),
        ("model version", &p.model_version),
    ] {
        if value.trim().is_empty() {
            return invalid(format!("{what} must not be empty"));
        }
    }
    if !(0.0..=1.0).contains(&p.confidence) {
        return invalid(format!("confidence {} is outside [0, 1]", p.confidence));
    }
    if let Some(v) =
        p.features.iter().chain(p.probabilities.iter().map(|(_, v)| v)).find(|v| !v.is_finite())
    {
        return invalid(format!("a prediction's value is {v}; values must be finite"));
    }
    Ok(())
}

fn insert(conn: &Connection, p: &NewPrediction, now: i64) -> Result<()> {
    let probabilities: serde_json::Map<String, serde_json::Value> =
        p.probabilities.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect();
    let features: Vec<u8> = p.features.iter().flat_map(|v| v.to_le_bytes()).collect();
    conn.prepare_cached(
        "INSERT INTO predictions (prediction_id, created_at, entity, class, confidence, \
         probabilities, route, model_version, features, schema_version) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (prediction_id) DO NOTHING",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            p.prediction_id,
            now,
            p.entity,
            p.class,
            p.confidence,
            serde_json::Value::Object(probabilities).to_string(),
            p.route.as_str(),
            p.model_version,
            features,
            p.schema_version,
        ])
    })
    .map_err(StoreError::sqlite("keeping a prediction"))?;
    Ok(())
}

/// Marks the review item of `prediction_id` closed by sample `sample_id` (no-op when the
/// prediction was not kept).
pub(super) fn close(conn: &Connection, prediction_id: &str, sample_id: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE predictions SET status = 'closed', closed_at = ?2, sample_id = ?3 \
         WHERE prediction_id = ?1 AND status <> 'closed'",
    )
    .and_then(|mut stmt| stmt.execute(params![prediction_id, now_us(), sample_id]))
    .map_err(StoreError::sqlite("closing a review item"))?;
    Ok(())
}

impl SampleStore {
    /// Keeps `predictions` durably (all or none); a prediction id already kept is left as
    /// it is; each one supersedes its entity's older open review items. Resolves once
    /// committed.
    pub async fn keep_predictions(&self, predictions: Vec<NewPrediction>) -> Result<()> {
        self.keep_verdicts(predictions, Vec::new()).await
    }

    /// [`Self::keep_predictions`], and also supersedes the older open review items of
    /// `also_judged`: entities judged again by verdicts that are not kept (autonomous ones,
    /// with `reviews.keep_autonomous = false`), whose older items no longer wait for anyone.
    pub async fn keep_verdicts(
        &self,
        predictions: Vec<NewPrediction>,
        also_judged: Vec<String>,
    ) -> Result<()> {
        if predictions.is_empty() && also_judged.is_empty() {
            return Ok(());
        }
        predictions.iter().try_for_each(check)?;
        let now = now_us();
        self.inner
            .writer
            .run_async(move |conn| {
                let sql = StoreError::sqlite("superseding older review items");
                let last: i64 = conn
                    .query_row("SELECT COALESCE(MAX(id), 0) FROM predictions", [], |r| r.get(0))
                    .map_err(StoreError::sqlite("reading the last prediction"))?;
                predictions.iter().try_for_each(|p| insert(conn, p, now))?;
                // Each entity's older open items, unless someone holds them, give way to
                // its new verdict: one statement for the batch.
                let as_json = |values: Vec<&str>| {
                    serde_json::to_string(&values).map_err(|e| StoreError::InvalidSample {
                        reason: format!("a batch as JSON: {e}"),
                    })
                };
                let entities = as_json(
                    predictions
                        .iter()
                        .map(|p| p.entity.as_str())
                        .chain(also_judged.iter().map(String::as_str))
                        .collect(),
                )?;
                let ids = as_json(predictions.iter().map(|p| p.prediction_id.as_str()).collect())?;
                conn.prepare_cached(
                    "UPDATE predictions SET status = 'superseded', closed_at = ?1 \
                     WHERE id <= ?2 AND status = 'open' \
                     AND entity IN (SELECT value FROM json_each(?3)) \
                     AND prediction_id NOT IN (SELECT value FROM json_each(?4)) \
                     AND (lease_until IS NULL OR lease_until <= ?1)",
                )
                .and_then(|mut stmt| stmt.execute(params![now, last, entities, ids]))
                .map_err(sql)?;
                Ok(())
            })
            .await
    }

    /// The kept prediction with this id, if any.
    pub fn prediction(&self, prediction_id: &str) -> Result<Option<StoredPrediction>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM predictions WHERE prediction_id = ?1"),
                [prediction_id.trim()],
                prediction_row,
            )
            .optional()
        })
        .map_err(StoreError::sqlite("reading a prediction"))?
        .transpose()
    }

    /// One page of review items (`query`), judged at `now` for leases.
    pub fn reviews(&self, query: &ReviewQuery, now: Timestamp) -> Result<ReviewPage> {
        if !(1..=1000).contains(&query.limit) {
            return Err(StoreError::InvalidQuery {
                reason: format!("limit {} is not in 1..=1000", query.limit),
            });
        }
        let cursor = query.after.as_deref().map(str::parse::<Cursor>).transpose()?;
        let now_us = now.as_microsecond();
        let mut sql = format!("SELECT {COLUMNS} FROM predictions WHERE ");
        sql.push_str(match query.route {
            Some(Route::Autonomous) => "route = 'autonomous'",
            Some(Route::Council) => "route = 'council'",
            Some(Route::Human) => "route = 'human'",
            None => "route IN ('council', 'human')",
        });
        sql.push_str(match query.filter {
            ReviewFilter::Pending => {
                " AND status = 'open' AND (lease_until IS NULL OR lease_until <= ?1)"
            }
            ReviewFilter::Claimed => " AND status = 'open' AND lease_until > ?1",
            ReviewFilter::Open => " AND status = 'open' AND ?1 = ?1",
            ReviewFilter::Closed => " AND status = 'closed' AND ?1 = ?1",
            ReviewFilter::Superseded => " AND status = 'superseded' AND ?1 = ?1",
            ReviewFilter::All => " AND ?1 = ?1",
        });
        let (after_confidence, after_row) =
            cursor.map_or((-1.0, i64::MIN), |c| (c.confidence, c.row));
        sql.push_str(match query.order {
            ReviewOrder::Oldest => " AND id > ?3 AND ?2 = ?2 ORDER BY id",
            ReviewOrder::LeastConfident => {
                " AND (confidence > ?2 OR (confidence = ?2 AND id > ?3)) ORDER BY confidence, id"
            }
        });
        sql.push_str(" LIMIT ?4");
        // One row more than asked: whether there is a next page.
        let limit = i64::try_from(query.limit + 1).unwrap_or(1001);
        let rows: Vec<Result<StoredPrediction>> = self
            .read(|c| {
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(
                    params![now_us, after_confidence, after_row, limit],
                    prediction_row,
                )?;
                rows.collect()
            })
            .map_err(StoreError::sqlite("listing review items"))?;
        let mut reviews = rows.into_iter().collect::<Result<Vec<_>>>()?;
        let more = reviews.len() > query.limit;
        reviews.truncate(query.limit);
        let next = more
            .then(|| reviews.last().map(|r| Cursor { confidence: r.confidence, row: r.row }))
            .flatten()
            .map(|c| c.to_string());
        Ok(ReviewPage { reviews, next })
    }

    /// Claims the review item `prediction_id` for `reviewer` until `until`: granted when
    /// it is open and not under someone else's live lease (the same reviewer renews). The
    /// check and the update are one statement, so two claims never both win.
    pub async fn claim_review(
        &self,
        prediction_id: &str,
        reviewer: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Claim> {
        let reviewer = reviewer.trim().to_owned();
        if reviewer.is_empty()
            || reviewer.chars().count() > 128
            || reviewer.chars().any(char::is_control)
        {
            return Err(StoreError::InvalidQuery {
                reason: "reviewer must be 1 to 128 characters, no control characters".into(),
            });
        }
        let id = prediction_id.trim().to_owned();
        let (now, until) = (now.as_microsecond(), until.as_microsecond());
        self.inner
            .writer
            .run_statement_async(move |conn| {
                let changed = conn
                    .prepare_cached(
                        "UPDATE predictions SET claimed_by = ?2, lease_until = ?4 \
                         WHERE prediction_id = ?1 AND route IN ('council', 'human') \
                         AND status = 'open' \
                         AND (claimed_by IS NULL OR lease_until <= ?3 OR claimed_by = ?2)",
                    )
                    .and_then(|mut s| s.execute(params![id, reviewer, now, until]))
                    .map_err(StoreError::sqlite("claiming a review item"))?;
                let item = conn
                    .query_row(
                        &format!(
                            "SELECT {COLUMNS} FROM predictions WHERE prediction_id = ?1 \
                             AND route IN ('council', 'human')"
                        ),
                        [&id],
                        prediction_row,
                    )
                    .optional()
                    .map_err(StoreError::sqlite("reading a review item"))?
                    .transpose()?;
                Ok(match item {
                    None => Claim::Missing,
                    Some(item) if changed == 1 => Claim::Claimed(Box::new(item)),
                    Some(item) if item.status != ReviewStatus::Open => Claim::Closed,
                    Some(item) => Claim::Held {
                        by: item.claimed_by.unwrap_or_default(),
                        until: item.lease_until.unwrap_or(Timestamp::MIN),
                    },
                })
            })
            .await
    }

    /// Deletes kept predictions made before `before` (open review items too: retention is
    /// the promise), 5,000 per write so that other writes go on between; returns how many.
    pub async fn prune_predictions(&self, before: Timestamp) -> Result<usize> {
        let before = before.as_microsecond();
        let mut total = 0;
        loop {
            let deleted = self
                .inner
                .writer
                .run_statement_async(move |conn| {
                    conn.prepare_cached(
                        "DELETE FROM predictions WHERE id IN \
                         (SELECT id FROM predictions WHERE created_at < ?1 LIMIT 5000)",
                    )
                    .and_then(|mut s| s.execute([before]))
                    .map_err(StoreError::sqlite("pruning predictions"))
                })
                .await?;
            total += deleted;
            if deleted < 5000 {
                return Ok(total);
            }
        }
    }
}
