//! The SQLite store of council-labelled training samples and retrain bookkeeping.

mod migrations;
mod reviews;
mod writer;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use ndarray::Array2;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use vigil_core::{ClassSet, CoreError, Dataset};

use crate::cache::{now_us, timestamp};
use crate::{Result, StoreError};
use writer::Writer;

pub use reviews::{
    Claim, NewPrediction, ReviewFilter, ReviewOrder, ReviewPage, ReviewQuery, ReviewStatus,
    StoredPrediction,
};

/// How a [`SampleStore`] opens its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleStoreConfig {
    /// How long a statement waits for another process's lock before failing (default 5 s).
    pub busy_timeout: Duration,
    /// At most this many writes per group commit (default 1024).
    pub max_batch: usize,
    /// When set, the prediction and correct labels of new samples must be classes of this set
    /// (names or aliases) and are stored as the class name, so aliases compare equal.
    pub classes: Option<ClassSet>,
}

impl Default for SampleStoreConfig {
    fn default() -> Self {
        Self { busy_timeout: Duration::from_secs(5), max_batch: 1024, classes: None }
    }
}

/// The store of training samples (features, model prediction, council verdict, correct
/// label), retrain jobs and manual retrain requests, in one SQLite file.
///
/// - Opening applies the migrations, sets WAL mode, `synchronous=FULL` (every commit fsyncs
///   the WAL, so an acknowledged write survives a process crash and a power loss) and a busy
///   timeout. `NORMAL` would skip that fsync (only checkpoints sync): a write acknowledged
///   just before a power loss or kernel crash could vanish, breaking the invariant that an
///   acknowledged feedback is on disk. Group commit makes FULL's fsync a per-batch cost, so
///   there is no throughput reason to give it up.
/// - All writes go to one writer thread that commits everything queued in one transaction
///   (group commit) and answers each caller after the commit: a burst of N concurrent inserts
///   costs a few fsyncs, not N, and every `Ok` means "on disk".
/// - Reads use a separate read-only connection, which WAL lets run beside the writer.
///
/// Cloning is cheap and shares the store. Blocking methods may be called from any thread;
/// async code should use [`SampleStore::insert_async`] or `spawn_blocking`.
#[derive(Clone)]
pub struct SampleStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    classes: Option<ClassSet>,
    reader: Mutex<Connection>,
    // Declared last: dropping it waits for the queue to drain.
    writer: Writer,
}

impl fmt::Debug for SampleStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SampleStore").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

impl SampleStore {
    /// Opens (creating if needed) the database at `path` with the default configuration.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, SampleStoreConfig::default())
    }

    /// Opens (creating if needed) the database at `path`, applying pending migrations.
    pub fn open_with(path: impl AsRef<Path>, config: SampleStoreConfig) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let fail = |reason: String| StoreError::Open { path: path.clone(), reason };
        let mut conn = Connection::open(&path).map_err(|e| fail(e.to_string()))?;
        configure(&conn, config.busy_timeout).map_err(|e| fail(e.to_string()))?;
        let journal: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| fail(e.to_string()))?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(fail(format!("journal_mode is {journal}, WAL is required")));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(|e| fail(e.to_string()))?;
        let synchronous: i64 = conn
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .map_err(|e| fail(e.to_string()))?;
        if synchronous != 2 {
            return Err(fail(format!("synchronous is {synchronous}, FULL (2) is required")));
        }
        migrations::migrations()
            .to_latest(&mut conn)
            .map_err(|e| fail(format!("migration failed: {e}")))?;

        let reader = Connection::open(&path).map_err(|e| fail(e.to_string()))?;
        configure(&reader, config.busy_timeout).map_err(|e| fail(e.to_string()))?;
        reader.pragma_update(None, "query_only", true).map_err(|e| fail(e.to_string()))?;

        let writer = Writer::spawn(conn, config.max_batch)
            .map_err(|e| fail(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                classes: config.classes,
                reader: Mutex::new(reader),
                writer,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The schema (migration) version of the database.
    pub fn schema_version(&self) -> Result<usize> {
        let version: i64 = self
            .read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .map_err(StoreError::sqlite("reading the schema version"))?;
        Ok(usize::try_from(version).unwrap_or(0))
    }

    /// How many transactions this handle's writer has committed, and how many writes they
    /// carried: `writes / commits` is the group-commit batch size (one fsync per commit).
    pub fn commit_counts(&self) -> CommitCounts {
        let (commits, writes) = self.inner.writer.counts();
        CommitCounts { commits, writes }
    }

    /// The schema version a freshly opened store has.
    pub const LATEST_SCHEMA_VERSION: usize = migrations::LATEST;

    /// Stores one sample durably and returns its id.
    pub fn insert(&self, sample: NewSample) -> Result<i64> {
        let sample = sample.check(self.inner.classes.as_ref())?;
        self.inner.writer.run_statement(move |conn| insert_row(conn, &sample, None))
    }

    /// [`SampleStore::insert`] for async callers: the future resolves once the sample is on
    /// disk, without blocking the runtime's thread meanwhile.
    pub async fn insert_async(&self, sample: NewSample) -> Result<i64> {
        let sample = sample.check(self.inner.classes.as_ref())?;
        self.inner.writer.run_statement_async(move |conn| insert_row(conn, &sample, None)).await
    }

    /// Stores the feedback on prediction `prediction_id` once: the first call inserts it;
    /// a later call with the same verdict and label (a retry, whatever its timing) returns
    /// the stored sample's id; a different one is [`StoreError::FeedbackConflict`]. A
    /// unique index on the prediction id makes two samples for one prediction impossible,
    /// also across processes sharing the file. Returns the id and whether it is new.
    pub async fn insert_for_prediction(
        &self,
        prediction_id: &str,
        sample: NewSample,
    ) -> Result<(i64, bool)> {
        let prediction_id = non_empty("prediction id", prediction_id)?;
        let sample = sample.check(self.inner.classes.as_ref())?;
        self.inner
            .writer
            .run_async(move |conn| {
                let stored = |conn: &Connection| -> Result<Option<(i64, String, Option<String>)>> {
                    conn.prepare_cached(
                        "SELECT id, council_verdict, correct_label FROM samples WHERE prediction_id = ?1",
                    )
                    .and_then(|mut s| {
                        s.query_row([&prediction_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                            .optional()
                    })
                    .map_err(StoreError::sqlite("reading a prediction's feedback"))
                };
                if let Some((id, verdict, label)) = stored(conn)? {
                    if verdict == sample.verdict.as_str() && label == sample.correct_label {
                        return Ok((id, false));
                    }
                    return Err(StoreError::FeedbackConflict {
                        prediction_id,
                        sample_id: id,
                        stored: match label {
                            Some(l) => format!("{verdict} {l}"),
                            None => verdict,
                        },
                    });
                }
                let id = insert_row(conn, &sample, Some(&prediction_id))?;
                reviews::close(conn, &prediction_id, id)?;
                Ok((id, true))
            })
            .await
    }

    /// Stores several samples atomically (all or none); returns their ids in order.
    pub fn insert_many(&self, samples: Vec<NewSample>) -> Result<Vec<i64>> {
        let samples = samples
            .into_iter()
            .map(|s| s.check(self.inner.classes.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        self.inner
            .writer
            .run(move |conn| samples.iter().map(|s| insert_row(conn, s, None)).collect())
    }

    /// The sample with this id.
    pub fn sample(&self, id: i64) -> Result<Option<Sample>> {
        self.read(|c| {
            c.query_row(&format!("SELECT {SAMPLE_COLUMNS} FROM samples WHERE id = ?1"), [id], |r| {
                Ok(sample_row(r))
            })
            .optional()
        })
        .map_err(StoreError::sqlite("reading a sample"))?
        .transpose()
    }

    /// The sample stored as the feedback on prediction `prediction_id`, if any.
    pub fn sample_for_prediction(&self, prediction_id: &str) -> Result<Option<Sample>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {SAMPLE_COLUMNS} FROM samples WHERE prediction_id = ?1"),
                [prediction_id.trim()],
                |r| Ok(sample_row(r)),
            )
            .optional()
        })
        .map_err(StoreError::sqlite("reading a prediction's feedback"))?
        .transpose()
    }

    /// How many samples of this feature-schema version are unused and trainable (not
    /// UNCERTAIN).
    pub fn pending_count(&self, schema_version: &str) -> Result<u64> {
        let n: i64 = self
            .read(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM samples \
                     WHERE schema_version = ?1 AND used_for_training = 0 AND council_verdict <> 'UNCERTAIN'",
                    [schema_version],
                    |r| r.get(0),
                )
            })
            .map_err(StoreError::sqlite("counting pending samples"))?;
        Ok(n.max(0) as u64)
    }

    /// Overrides among the last `last_n` CONFIRM or OVERRIDE verdicts (UNCERTAIN says nothing
    /// about the model, so it is not counted); fewer when fewer exist.
    pub fn override_rate(&self, last_n: usize) -> Result<OverrideRate> {
        let limit = i64::try_from(last_n).unwrap_or(i64::MAX);
        let (verdicts, overrides): (i64, i64) = self
            .read(|c| {
                c.query_row(
                    "SELECT COUNT(*), COALESCE(SUM(was_override), 0) FROM (\
                       SELECT was_override FROM samples WHERE council_verdict <> 'UNCERTAIN' \
                       ORDER BY id DESC LIMIT ?1)",
                    [limit],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .map_err(StoreError::sqlite("computing the override rate"))?;
        Ok(OverrideRate { overrides: overrides.max(0) as u64, verdicts: verdicts.max(0) as u64 })
    }

    /// The override rate among the last `last_n` CONFIRM or OVERRIDE verdicts, per route
    /// (samples stored before routes were recorded count as `unrouted`) and per predicted
    /// class.
    pub fn override_breakdown(&self, last_n: usize) -> Result<OverrideBreakdown> {
        let limit = i64::try_from(last_n).unwrap_or(i64::MAX);
        let rows: Vec<(Option<String>, String, bool)> = self
            .read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT route, ml_prediction, was_override FROM samples \
                     WHERE council_verdict <> 'UNCERTAIN' ORDER BY id DESC LIMIT ?1",
                )?;
                let rows = stmt.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect()
            })
            .map_err(StoreError::sqlite("computing the override rates"))?;
        let mut out = OverrideBreakdown::default();
        for (route, class, was_override) in rows {
            let route = route.unwrap_or_else(|| "unrouted".to_owned());
            for rate in
                [out.by_route.entry(route).or_default(), out.by_class.entry(class).or_default()]
            {
                rate.verdicts += 1;
                rate.overrides += u64::from(was_override);
            }
        }
        Ok(out)
    }

    /// When the last successful retrain job finished, if any did.
    pub fn last_successful_retrain(&self) -> Result<Option<Timestamp>> {
        let at: Option<i64> = self
            .read(|c| {
                // A run whose challenger the gate rejected changed nothing: it does not
                // restart the schedule.
                c.query_row(
                    "SELECT MAX(finished_at) FROM retrain_jobs WHERE status = 'succeeded' \
                     AND coalesce(json_extract(metrics, '$.promoted'), 1) = 1",
                    [],
                    |r| r.get(0),
                )
            })
            .map_err(StoreError::sqlite("reading the last retrain"))?;
        Ok(at.map(timestamp))
    }

    /// Every unused, trainable sample of `schema_version`, in id order, as a dataset over
    /// `classes` with `feature_names` as columns, plus the sample ids (for
    /// [`SampleStore::mark_used`]).
    ///
    /// A sample whose correct label is not in `classes`, or whose width is not
    /// `feature_names.len()`, is an error naming its id (never a dropped row or class 0).
    pub fn load_unused(
        &self,
        classes: &ClassSet,
        schema_version: &str,
        feature_names: &[String],
    ) -> Result<TrainingSet> {
        let set = self.load(classes, schema_version, feature_names, true)?;
        Ok(TrainingSet { dataset: set.dataset, sample_ids: set.sample_ids })
    }

    /// Every trainable (CONFIRM or OVERRIDE) sample of `schema_version`, used by a past run
    /// or not, in id order, with its entity and whether a run has used it: what a retrain
    /// trains and scores on (a run that saw only new samples would forget earlier
    /// corrections). Errors as [`SampleStore::load_unused`].
    pub fn load_trainable(
        &self,
        classes: &ClassSet,
        schema_version: &str,
        feature_names: &[String],
    ) -> Result<TrainableSet> {
        self.load(classes, schema_version, feature_names, false)
    }

    fn load(
        &self,
        classes: &ClassSet,
        schema_version: &str,
        feature_names: &[String],
        only_unused: bool,
    ) -> Result<TrainableSet> {
        const WHAT: &str = "loading trainable samples";
        let width = feature_names.len();
        let sql = if only_unused {
            "SELECT id, features, correct_label, entity, used_for_training FROM samples \
             WHERE schema_version = ?1 AND used_for_training = 0 AND council_verdict <> 'UNCERTAIN' \
             ORDER BY id"
        } else {
            "SELECT id, features, correct_label, entity, used_for_training FROM samples \
             WHERE schema_version = ?1 AND council_verdict <> 'UNCERTAIN' ORDER BY id"
        };
        let (rows, labels, flat) = self.read(|c| -> Result<_> {
            let mut stmt = c.prepare_cached(sql).map_err(StoreError::sqlite(WHAT))?;
            let mut rows = stmt.query([schema_version]).map_err(StoreError::sqlite(WHAT))?;
            let (mut out, mut labels, mut flat) = (Vec::new(), Vec::new(), Vec::new());
            while let Some(row) = rows.next().map_err(StoreError::sqlite(WHAT))? {
                let id: i64 = row.get(0).map_err(StoreError::sqlite(WHAT))?;
                let blob: Vec<u8> = row.get(1).map_err(StoreError::sqlite(WHAT))?;
                let label: Option<String> = row.get(2).map_err(StoreError::sqlite(WHAT))?;
                let entity: String = row.get(3).map_err(StoreError::sqlite(WHAT))?;
                let used: bool = row.get(4).map_err(StoreError::sqlite(WHAT))?;
                let features = features_from_blob(id, &blob)?;
                if features.len() != width {
                    return Err(StoreError::WidthMismatch {
                        sample_id: id,
                        expected: width,
                        found: features.len(),
                    });
                }
                let label = label.ok_or_else(|| StoreError::CorruptRow {
                    table: "samples",
                    id,
                    reason: "trainable sample without a correct label".into(),
                })?;
                let class = classes.parse(&label).map_err(|e| match e {
                    CoreError::UnknownLabel { label, known } => {
                        StoreError::UnknownSampleLabel { sample_id: id, label, known }
                    }
                    other => StoreError::Dataset(other),
                })?;
                out.push((id, entity, used));
                labels.push(class);
                flat.extend_from_slice(&features);
            }
            Ok((out, labels, flat))
        })?;
        let features = Array2::from_shape_vec((rows.len(), width), flat).map_err(|e| {
            StoreError::Dataset(CoreError::ShapeMismatch {
                what: format!("loaded feature matrix ({e})"),
                expected: rows.len() * width,
                found: 0,
            })
        })?;
        let dataset = Dataset::new(features, labels, feature_names.to_vec(), classes.clone())?;
        let mut set = TrainableSet {
            dataset,
            sample_ids: Vec::with_capacity(rows.len()),
            entities: Vec::with_capacity(rows.len()),
            used: Vec::with_capacity(rows.len()),
        };
        for (id, entity, used) in rows {
            set.sample_ids.push(id);
            set.entities.push(entity);
            set.used.push(used);
        }
        Ok(set)
    }

    /// Marks these samples used by training run `run_id`, in one transaction: either every
    /// (distinct) id is an unused trainable sample and all are marked, or none is
    /// ([`StoreError::MarkUsed`]). Returns how many were marked.
    pub fn mark_used(&self, ids: &[i64], run_id: &str) -> Result<usize> {
        let run_id = non_empty("training run id", run_id)?;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        self.inner.writer.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "UPDATE samples SET used_for_training = 1, training_run_id = ?2 \
                     WHERE id = ?1 AND used_for_training = 0 AND council_verdict <> 'UNCERTAIN'",
                )
                .map_err(StoreError::sqlite("marking samples used"))?;
            let mut eligible = 0;
            for id in &ids {
                eligible += stmt
                    .execute(params![id, run_id])
                    .map_err(StoreError::sqlite("marking samples used"))?;
            }
            if eligible == ids.len() {
                Ok(eligible)
            } else {
                Err(StoreError::MarkUsed { requested: ids.len(), eligible })
            }
        })
    }

    /// Records the start of a retrain job (status `running`) and returns its id.
    pub fn start_job(&self, trigger: &str, reason: &str) -> Result<i64> {
        let trigger = non_empty("retrain trigger", trigger)?;
        let reason = reason.to_owned();
        self.inner.writer.run_statement(move |conn| {
            conn.prepare_cached(
                "INSERT INTO retrain_jobs (trigger, reason, started_at, status) VALUES (?1, ?2, ?3, 'running')",
            )
            .and_then(|mut s| s.execute(params![trigger, reason, now_us()]))
            .map_err(StoreError::sqlite("starting a retrain job"))?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// Records how a running job ended.
    pub fn finish_job(&self, id: i64, outcome: JobOutcome) -> Result<()> {
        let (status, metrics, error) = match outcome {
            JobOutcome::Succeeded { metrics } => (JobStatus::Succeeded, Some(metrics), None),
            JobOutcome::Failed { error, metrics } => (JobStatus::Failed, metrics, Some(error)),
        };
        let metrics = metrics.map(|m| m.to_string());
        self.inner.writer.run_statement(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE retrain_jobs SET finished_at = ?2, status = ?3, metrics = ?4, error = ?5 \
                     WHERE id = ?1 AND status = 'running'",
                )
                .and_then(|mut s| s.execute(params![id, now_us(), status.as_str(), metrics, error]))
                .map_err(StoreError::sqlite("finishing a retrain job"))?;
            if n == 1 { Ok(()) } else { Err(StoreError::JobNotRunning { id }) }
        })
    }

    /// The latest `limit` retrain jobs, newest first.
    pub fn recent_jobs(&self, limit: usize) -> Result<Vec<RetrainJob>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, trigger, reason, started_at, finished_at, status, metrics, error \
                 FROM retrain_jobs ORDER BY id DESC LIMIT ?1",
            )?;
            stmt.query_map([limit], |r| Ok(job_row(r)))?.collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(StoreError::sqlite("listing retrain jobs"))?
        .into_iter()
        .collect()
    }

    /// Records a manual retrain request (from the API or CLI) and returns its id.
    pub fn request_retrain(&self, requested_by: &str, reason: &str) -> Result<i64> {
        let requested_by = non_empty("requester", requested_by)?;
        let reason = reason.to_owned();
        self.inner.writer.run_statement(move |conn| {
            conn.prepare_cached(
                "INSERT INTO retrain_requests (requested_at, requested_by, reason) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![now_us(), requested_by, reason]))
            .map_err(StoreError::sqlite("recording a retrain request"))?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// The open (unclaimed) retrain requests, oldest first, without claiming them: what the
    /// status shows until a worker claims them.
    pub fn pending_requests(&self) -> Result<Vec<RetrainRequest>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, requested_at, requested_by, reason, claimed_at FROM retrain_requests \
                 WHERE claimed_at IS NULL ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(RetrainRequest {
                    id: r.get(0)?,
                    requested_at: timestamp(r.get(1)?),
                    requested_by: r.get(2)?,
                    reason: r.get(3)?,
                    claimed_at: r.get::<_, Option<i64>>(4)?.map(timestamp),
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(StoreError::sqlite("reading pending retrain requests"))
    }

    /// Puts claimed requests back (their run failed), so the next check claims them again.
    pub fn release_requests(&self, ids: &[i64]) -> Result<usize> {
        let ids = ids.to_vec();
        self.inner.writer.run(move |conn| {
            let mut released = 0;
            for id in ids {
                released += conn
                    .prepare_cached("UPDATE retrain_requests SET claimed_at = NULL WHERE id = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .map_err(StoreError::sqlite("releasing a retrain request"))?;
            }
            Ok(released)
        })
    }

    /// Claims every open retrain request, oldest first, in one statement: each request is
    /// returned by exactly one call, whatever the number of processes claiming.
    pub fn claim_requests(&self) -> Result<Vec<RetrainRequest>> {
        let mut claimed = self.inner.writer.run_statement(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "UPDATE retrain_requests SET claimed_at = ?1 WHERE claimed_at IS NULL \
                     RETURNING id, requested_at, requested_by, reason, claimed_at",
                )
                .map_err(StoreError::sqlite("claiming retrain requests"))?;
            stmt.query_map([now_us()], |r| {
                Ok(RetrainRequest {
                    id: r.get(0)?,
                    requested_at: timestamp(r.get(1)?),
                    requested_by: r.get(2)?,
                    reason: r.get(3)?,
                    claimed_at: Some(timestamp(r.get(4)?)),
                })
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(StoreError::sqlite("claiming retrain requests"))
        })?;
        claimed.sort_by_key(|r| r.id);
        Ok(claimed)
    }

    fn read<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = self.inner.reader.lock().unwrap_or_else(PoisonError::into_inner);
        f(&conn)
    }
}

/// SQLite's page cache per connection, in KiB (filled only as pages are read). The 2 MiB
/// default held too little of the review queue's indexes: a stream of many sources, one
/// kept verdict each, spent its time re-reading evicted index pages (Zeek ingest 88k -> see
/// docs/BENCHMARKS.md).
const CACHE_KIB: i64 = 32 * 1024;

fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "foreign_keys", true)
}

fn non_empty(what: &str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        Err(StoreError::InvalidSample { reason: format!("{what} must not be empty") })
    } else {
        Ok(value.to_owned())
    }
}

/// A council (or analyst) verdict on a model prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The prediction is right; the correct label is the prediction.
    Confirm,
    /// The prediction is wrong; the verdict carries the correct, different, label.
    Override,
    /// The council could not decide; stored, never trained on.
    Uncertain,
}

impl Verdict {
    /// `CONFIRM`, `OVERRIDE` or `UNCERTAIN`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "CONFIRM",
            Self::Override => "OVERRIDE",
            Self::Uncertain => "UNCERTAIN",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = StoreError;

    /// Case-insensitive, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CONFIRM" => Ok(Self::Confirm),
            "OVERRIDE" => Ok(Self::Override),
            "UNCERTAIN" => Ok(Self::Uncertain),
            _ => Err(StoreError::UnknownVerdict { verdict: s.to_owned() }),
        }
    }
}

/// Where a verdict goes, by its confidence: acted on alone, to the council, or to a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// Confident enough to act on without review.
    Autonomous,
    /// Reviewed by the council (the LLM or analyst panel).
    Council,
    /// Sent to a human analyst.
    Human,
}

impl Route {
    /// Every route, in order.
    pub const ALL: [Self; 3] = [Self::Autonomous, Self::Council, Self::Human];

    /// `autonomous`, `council` or `human`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Autonomous => "autonomous",
            Self::Council => "council",
            Self::Human => "human",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = StoreError;

    /// Case-insensitive, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "autonomous" => Ok(Self::Autonomous),
            "council" => Ok(Self::Council),
            "human" => Ok(Self::Human),
            _ => Err(StoreError::InvalidQuery {
                reason: format!("unknown route {s:?} (autonomous, council or human)"),
            }),
        }
    }
}

/// A sample to store: the features the model saw, what it predicted, and the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSample {
    /// The entity, e.g. the source IP.
    pub entity: String,
    /// The feature-schema version of `features`.
    pub schema_version: String,
    /// The feature vector the model classified (finite values).
    pub features: Vec<f32>,
    /// The model version that made the prediction.
    pub model_version: String,
    /// The model's predicted class: what the model said before any council or analyst
    /// looked (the seed stored the post-council label here, so overrides were invisible).
    pub ml_prediction: String,
    /// The model's confidence in its prediction, in `[0, 1]`.
    pub ml_confidence: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// The correct label: required and different from the prediction for OVERRIDE; absent
    /// or equal to the prediction for CONFIRM; optional (a tentative label) for UNCERTAIN.
    pub correct_label: Option<String>,
    /// Where the verdict was routed when it was made, if known.
    pub route: Option<Route>,
}

/// A [`NewSample`] that passed every rule, ready to insert.
struct ValidSample {
    entity: String,
    schema_version: String,
    features: Vec<u8>,
    model_version: String,
    prediction: String,
    confidence: f64,
    verdict: Verdict,
    correct_label: Option<String>,
    route: Option<Route>,
}

impl NewSample {
    fn check(self, classes: Option<&ClassSet>) -> Result<ValidSample> {
        let invalid = |reason: String| StoreError::InvalidSample { reason };
        let entity = non_empty("entity", &self.entity)?;
        let schema_version = non_empty("schema version", &self.schema_version)?;
        let model_version = non_empty("model version", &self.model_version)?;
        if self.features.is_empty() {
            return Err(invalid("features must not be empty".into()));
        }
        if let Some((i, v)) = self.features.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(invalid(format!("feature {i} is {v}, features must be finite")));
        }
        if !(0.0..=1.0).contains(&self.ml_confidence) {
            return Err(invalid(format!("ml_confidence {} is outside [0, 1]", self.ml_confidence)));
        }
        let label = |label: &str| -> Result<String> {
            let label = non_empty("label", label)?;
            match classes {
                None => Ok(label),
                Some(classes) => match classes.parse(&label) {
                    Ok(i) => Ok(classes.name(i).unwrap_or(&label).to_owned()),
                    Err(CoreError::UnknownLabel { label, known }) => {
                        Err(StoreError::UnknownLabel { label, known })
                    }
                    Err(other) => Err(StoreError::Dataset(other)),
                },
            }
        };
        let prediction = label(&self.ml_prediction)?;
        let correct = self.correct_label.as_deref().map(label).transpose()?;
        let same = |l: &str| l.eq_ignore_ascii_case(&prediction);
        let correct_label = match (self.verdict, correct) {
            (Verdict::Confirm, None) => Some(prediction.clone()),
            (Verdict::Confirm, Some(l)) if same(&l) => Some(prediction.clone()),
            (Verdict::Confirm, Some(l)) => {
                return Err(StoreError::ConfirmLabelMismatch { prediction, label: l });
            }
            (Verdict::Override, None) => {
                return Err(StoreError::OverrideWithoutLabel { prediction });
            }
            (Verdict::Override, Some(l)) if same(&l) => {
                return Err(StoreError::OverrideSameLabel { label: l });
            }
            (Verdict::Override | Verdict::Uncertain, l) => l,
        };
        Ok(ValidSample {
            entity,
            schema_version,
            features: self.features.iter().flat_map(|v| v.to_le_bytes()).collect(),
            model_version,
            prediction,
            confidence: self.ml_confidence,
            verdict: self.verdict,
            correct_label,
            route: self.route,
        })
    }
}

fn insert_row(conn: &Connection, s: &ValidSample, prediction_id: Option<&str>) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO samples (created_at, entity, schema_version, features, model_version, \
         ml_prediction, ml_confidence, council_verdict, correct_label, was_override, prediction_id, \
         route) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            now_us(),
            s.entity,
            s.schema_version,
            s.features,
            s.model_version,
            s.prediction,
            s.confidence,
            s.verdict.as_str(),
            s.correct_label,
            s.verdict == Verdict::Override,
            prediction_id,
            s.route.map(Route::as_str),
        ])
    })
    .map_err(StoreError::sqlite("inserting a sample"))?;
    Ok(conn.last_insert_rowid())
}

/// A stored sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Its id.
    pub id: i64,
    /// When it was stored.
    pub created_at: Timestamp,
    /// The entity.
    pub entity: String,
    /// The feature-schema version.
    pub schema_version: String,
    /// The features.
    pub features: Vec<f32>,
    /// The model version that predicted.
    pub model_version: String,
    /// The model's prediction.
    pub ml_prediction: String,
    /// The model's confidence.
    pub ml_confidence: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// The correct label (the prediction for CONFIRM, the correction for OVERRIDE).
    pub correct_label: Option<String>,
    /// True for OVERRIDE.
    pub was_override: bool,
    /// True once a training run used it.
    pub used_for_training: bool,
    /// The training run that used it.
    pub training_run_id: Option<String>,
    /// Where the verdict was routed, if recorded.
    pub route: Option<Route>,
}

const SAMPLE_COLUMNS: &str = "id, created_at, entity, schema_version, features, model_version, \
    ml_prediction, ml_confidence, council_verdict, correct_label, was_override, \
    used_for_training, training_run_id, route";

fn sample_row(r: &Row<'_>) -> Result<Sample> {
    let id: i64 = r.get(0).map_err(StoreError::sqlite("reading a sample"))?;
    let get = StoreError::sqlite("reading a sample");
    let read = || -> rusqlite::Result<_> {
        Ok((
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Vec<u8>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, f64>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, Option<String>>(9)?,
            r.get::<_, bool>(10)?,
            r.get::<_, bool>(11)?,
            r.get::<_, Option<String>>(12)?,
            r.get::<_, Option<String>>(13)?,
        ))
    };
    let (
        created_at,
        entity,
        schema_version,
        blob,
        model_version,
        ml_prediction,
        ml_confidence,
        verdict,
        correct_label,
        was_override,
        used_for_training,
        training_run_id,
        route,
    ) = read().map_err(get)?;
    let corrupt =
        |e: StoreError| StoreError::CorruptRow { table: "samples", id, reason: e.to_string() };
    let verdict = verdict.parse().map_err(corrupt)?;
    let route = route.as_deref().map(str::parse).transpose().map_err(corrupt)?;
    Ok(Sample {
        id,
        created_at: timestamp(created_at),
        entity,
        schema_version,
        features: features_from_blob(id, &blob)?,
        model_version,
        ml_prediction,
        ml_confidence,
        verdict,
        correct_label,
        was_override,
        used_for_training,
        training_run_id,
        route,
    })
}

fn features_from_blob(id: i64, blob: &[u8]) -> Result<Vec<f32>> {
    if !blob.len().is_multiple_of(4) {
        return Err(StoreError::CorruptRow {
            table: "samples",
            id,
            reason: format!("feature blob of {} bytes is not a multiple of 4", blob.len()),
        });
    }
    Ok(blob.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// Group-commit counters of a [`SampleStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitCounts {
    /// Transactions committed (each one WAL fsync).
    pub commits: u64,
    /// Writes (inserts, updates, job records) they carried.
    pub writes: u64,
}

/// Override rates per route and per predicted class ([`SampleStore::override_breakdown`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OverrideBreakdown {
    /// Route (or `unrouted`) -> its verdicts and overrides.
    pub by_route: BTreeMap<String, OverrideRate>,
    /// The model's predicted class -> its verdicts and overrides.
    pub by_class: BTreeMap<String, OverrideRate>,
}

/// Overrides among recent verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OverrideRate {
    /// OVERRIDE verdicts counted.
    pub overrides: u64,
    /// CONFIRM and OVERRIDE verdicts counted.
    pub verdicts: u64,
}

impl OverrideRate {
    /// `overrides / verdicts`, 0 when there are none.
    pub fn rate(&self) -> f64 {
        if self.verdicts == 0 { 0.0 } else { self.overrides as f64 / self.verdicts as f64 }
    }
}

/// The unused samples loaded for training.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSet {
    /// Features and class indices, one row per sample, in id order.
    pub dataset: Dataset,
    /// The id of each row's sample.
    pub sample_ids: Vec<i64>,
}

/// Every trainable sample, used or not ([`SampleStore::load_trainable`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainableSet {
    /// Features and class indices, one row per sample, in id order.
    pub dataset: Dataset,
    /// The id of each row's sample.
    pub sample_ids: Vec<i64>,
    /// The entity of each row's sample.
    pub entities: Vec<String>,
    /// Whether a past run has used each row's sample.
    pub used: Vec<bool>,
}

/// The state of a retrain job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Started, not finished.
    Running,
    /// Finished without error (whether or not the challenger was promoted).
    Succeeded,
    /// Finished with an error.
    Failed,
}

impl JobStatus {
    /// `running`, `succeeded` or `failed`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// How a retrain job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// The pipeline ran to the end; `metrics` is its report (any JSON).
    Succeeded {
        /// The job's metrics and decisions.
        metrics: serde_json::Value,
    },
    /// The pipeline failed.
    Failed {
        /// The error, as text.
        error: String,
        /// Whatever metrics were gathered before the failure.
        metrics: Option<serde_json::Value>,
    },
}

/// A recorded retrain job.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrainJob {
    /// Its id.
    pub id: i64,
    /// What triggered it (e.g. `pending-samples`, `schedule`, `override-rate`, `manual`).
    pub trigger: String,
    /// Why, in words.
    pub reason: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished, if it has.
    pub finished_at: Option<Timestamp>,
    /// Its state.
    pub status: JobStatus,
    /// Its metrics, if recorded.
    pub metrics: Option<serde_json::Value>,
    /// Its error, if it failed.
    pub error: Option<String>,
}

impl RetrainJob {
    /// Whether the run promoted its challenger (from its recorded report), if it says.
    pub fn promoted(&self) -> Option<bool> {
        self.metrics.as_ref()?.get("promoted")?.as_bool()
    }
}

fn job_row(r: &Row<'_>) -> Result<RetrainJob> {
    let id: i64 = r.get(0).map_err(StoreError::sqlite("reading a retrain job"))?;
    let corrupt = |reason: String| StoreError::CorruptRow { table: "retrain_jobs", id, reason };
    let read = || -> rusqlite::Result<_> {
        Ok((
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    };
    let (trigger, reason, started_at, finished_at, status, metrics, error) =
        read().map_err(StoreError::sqlite("reading a retrain job"))?;
    let status = match status.as_str() {
        "running" => JobStatus::Running,
        "succeeded" => JobStatus::Succeeded,
        "failed" => JobStatus::Failed,
        other => return Err(corrupt(format!("unknown status {other:?}"))),
    };
    let metrics = metrics
        .map(|m| serde_json::from_str(&m))
        .transpose()
        .map_err(|e| corrupt(format!("metrics are not JSON: {e}")))?;
    Ok(RetrainJob {
        id,
        trigger,
        reason,
        started_at: timestamp(started_at),
        finished_at: finished_at.map(timestamp),
        status,
        metrics,
        error,
    })
}

/// A manual retrain request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrainRequest {
    /// Its id.
    pub id: i64,
    /// When it was made.
    pub requested_at: Timestamp,
    /// Who made it (user, API client, CLI).
    pub requested_by: String,
    /// Why.
    pub reason: String,
    /// When it was claimed (`None` while pending).
    pub claimed_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(verdict: Verdict, prediction: &str, label: Option<&str>) -> NewSample {
        NewSample {
            entity: "203.0.113.7".into(),
            schema_version: "v1".into(),
            features: vec![0.25, 1.0],
            model_version: "m1".into(),
            ml_prediction: prediction.into(),
            ml_confidence: 0.9,
            verdict,
            correct_label: label.map(str::to_owned),
            route: None,
        }
    }

    fn check(
        s: NewSample,
        classes: Option<&ClassSet>,
        expected: std::result::Result<Option<&str>, &str>,
    ) {
        match (s.clone().check(classes), expected) {
            (Ok(v), Ok(label)) => assert_eq!(v.correct_label.as_deref(), label, "{s:?}"),
            (Err(e), Err(text)) => assert_eq!(e.to_string(), text, "{s:?}"),
            (got, want) => panic!("{s:?}: got {:?}, want {want:?}", got.map(|v| v.correct_label)),
        }
    }

    #[test]
    fn verdict_rules() {
        use Verdict::{Confirm, Override, Uncertain};
        check(sample(Confirm, "Brute Force", None), None, Ok(Some("Brute Force")));
        check(sample(Confirm, "Brute Force", Some("brute force")), None, Ok(Some("Brute Force")));
        check(
            sample(Confirm, "Brute Force", Some("Normal")),
            None,
            Err(
                "a CONFIRM verdict confirms the prediction \"Brute Force\", but the correct label given is \"Normal\"",
            ),
        );
        check(sample(Override, "Brute Force", Some("Normal")), None, Ok(Some("Normal")));
        check(
            sample(Override, "Brute Force", Some(" brute force ")),
            None,
            Err(
                "an OVERRIDE verdict must carry a label different from the prediction, both are \"brute force\"",
            ),
        );
        check(
            sample(Override, "Brute Force", None),
            None,
            Err(
                "an OVERRIDE verdict must carry the correct label (prediction was \"Brute Force\")",
            ),
        );
        check(sample(Uncertain, "APT", None), None, Ok(None));
        check(sample(Uncertain, "APT", Some("Normal")), None, Ok(Some("Normal")));
    }

    #[test]
    fn class_set_canonicalises_labels_so_aliases_compare_equal() {
        let classes = ClassSet::threat();
        check(
            sample(Verdict::Override, "DDoS/DoS", Some("dos")),
            Some(&classes),
            Err(
                "an OVERRIDE verdict must carry a label different from the prediction, both are \"DDoS/DoS\"",
            ),
        );
        check(
            sample(Verdict::Override, "ddos", Some("benign")),
            Some(&classes),
            Ok(Some("Normal")),
        );
        let err = sample(Verdict::Confirm, "phishing", None).check(Some(&classes)).err().unwrap();
        assert!(err.to_string().starts_with("unknown label \"phishing\""), "{err}");
    }

    #[test]
    fn bad_values_are_rejected() {
        let mut s = sample(Verdict::Confirm, "APT", None);
        s.ml_confidence = 1.5;
        assert!(s.clone().check(None).is_err());
        s.ml_confidence = 0.5;
        s.features = vec![f32::NAN];
        assert_eq!(
            s.clone().check(None).err().unwrap().to_string(),
            "invalid sample: feature 0 is NaN, features must be finite"
        );
        s.features = vec![];
        assert!(s.clone().check(None).is_err());
        s.features = vec![1.0];
        s.entity = " ".into();
        assert!(s.check(None).is_err());
        assert_eq!(" override ".parse::<Verdict>().unwrap(), Verdict::Override);
        assert!("INVESTIGATE".parse::<Verdict>().is_err());
    }
}
