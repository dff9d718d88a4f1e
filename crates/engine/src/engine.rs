//! [`Engine`]: the scoring session. It owns the champion (hot-swappable), the feature cache,
//! the threat-intel feeds, the per-IP windows and the prediction ledger, and offers what the
//! HTTP routes (or any host program) need: ingest, score, entity, feedback, status.

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use serde::Serialize;
use serde::ser::SerializeMap;
use vigil_core::ClassSet;
use vigil_features::{
    Event, EventWindow, FEATURES, FeatureVector, Featurizer, Intel, SCHEMA_VERSION, Timestamp,
    extract_with, group_by_source,
};
use vigil_store::{
    AnyCache, Claim, NewPrediction, NewSample, ReviewPage, ReviewQuery, SampleStore,
    SampleStoreConfig, StoreError, StoredPrediction, Verdict as Council,
};

use crate::Route;
use crate::config::Config;
use crate::extract::{Provenance, WindowInput, extract_windows};
use crate::ledger::{Prediction, PredictionId, Predictions};
use crate::model::{LoadedModel, Scored};
use crate::verdict::{FeedbackReceipt, Subject, Verdict, WindowInfo};
use crate::windows::{WindowStats, Windows};
use crate::{EngineError, Result};

/// Windows larger than this many events are extracted off the async worker thread.
const LARGE_WINDOW: usize = 2000;
/// More rows than this are scored off the async worker thread.
const LARGE_ROWS: usize = 256;

/// The scoring session; cloning is cheap and shares it.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    model: ArcSwapOption<LoadedModel>,
    cache: AnyCache,
    samples: SampleStore,
    windows: Windows,
    ledger: Predictions,
    intel: Intel,
    /// Where new review items are announced ([`Engine::review_feed`]), if anyone listens.
    notices: ArcSwapOption<tokio::sync::mpsc::Sender<serde_json::Value>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("model", &self.model().map(|m| m.version().to_owned()))
            .field("cache", &self.inner.cache)
            .field("samples", &self.inner.samples)
            .finish_non_exhaustive()
    }
}

/// What one [`Engine::ingest`] did.
#[derive(Debug, Clone)]
pub struct Ingest {
    /// Events added to windows.
    pub added: usize,
    /// Events already in their window (a retried batch).
    pub duplicates: usize,
    /// Events stamped later than the clock plus `windows.max_clock_skew_secs`, dropped.
    pub future: usize,
    /// One verdict per source of the batch, in address order.
    pub verdicts: Vec<Verdict>,
}

/// A feedback: the council's verdict on a prediction (by id) or on a feature vector.
#[derive(Debug, Clone)]
pub struct Feedback {
    /// CONFIRM, OVERRIDE or UNCERTAIN (or mini-xdr's THREAT, FALSE_POSITIVE, INVESTIGATE).
    pub verdict: String,
    /// The correct class (required for OVERRIDE).
    pub correct_label: Option<String>,
    /// What is judged.
    pub target: FeedbackTarget,
}

/// What a feedback judges.
#[derive(Debug, Clone)]
pub enum FeedbackTarget {
    /// A prediction this engine made, by id.
    Prediction(String),
    /// A feature vector, with its entity and, optionally, the prediction made on it
    /// (class, confidence, model version); without one the current model scores it.
    Features {
        /// The vector.
        features: Vec<f32>,
        /// The entity (default `unknown`).
        entity: Option<String>,
        /// The model's class, confidence and version.
        prediction: Option<(String, f64, String)>,
    },
}

/// An entity's window and features ([`Engine::entity`]).
#[derive(Debug, Clone)]
pub struct EntityView {
    /// The source address.
    pub ip: IpAddr,
    /// Events in the window.
    pub events: usize,
    /// The oldest event's time.
    pub first_event: Option<Timestamp>,
    /// The newest event's time.
    pub last_event: Option<Timestamp>,
    /// The window's features.
    pub features: FeatureVector,
    /// Where they came from (cache or computed, stale or not).
    pub provenance: Provenance,
    /// The featurizer version the features were computed under.
    pub featurizer: String,
}

impl Serialize for EntityView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        struct Named<'a>(&'a FeatureVector);
        impl Serialize for Named<'_> {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(FEATURES.len()))?;
                for (spec, value) in FEATURES.iter().zip(self.0.as_slice()) {
                    map.serialize_entry(spec.name, value)?;
                }
                map.end()
            }
        }
        #[derive(Serialize)]
        struct Window {
            events: usize,
            first_event: Option<String>,
            last_event: Option<String>,
            as_of: Option<String>,
        }
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("entity", &self.ip.to_string())?;
        map.serialize_entry("schema_version", SCHEMA_VERSION)?;
        map.serialize_entry("featurizer", &self.featurizer)?;
        map.serialize_entry(
            "window",
            &Window {
                events: self.events,
                first_event: self.first_event.map(|t| t.to_string()),
                last_event: self.last_event.map(|t| t.to_string()),
                as_of: self.provenance.as_of.clone(),
            },
        )?;
        map.serialize_entry("provenance", &self.provenance)?;
        map.serialize_entry("features", &Named(&self.features))?;
        map.end()
    }
}

/// Runs CPU-bound work; when `large`, without stalling the other tasks of a multi-threaded
/// runtime's worker (`block_in_place` hands the worker's queue to another thread). Small
/// work runs inline: the hand-off costs more than it saves, and each hand-off can start a
/// thread (measured: 185 threads and 50 MB RSS under load when every request handed off).
pub fn cpu<R>(large: bool, f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if large && h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl Engine {
    /// Opens the sample store, the feature cache and the feeds of `config` (checked first).
    /// No model yet: load one with [`Engine::prepare`] or [`Engine::set_model`].
    pub async fn open(config: Config) -> Result<Self> {
        config.check()?;
        if let Some(dir) = config.database.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| EngineError::Config {
                reason: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let path = config.database.clone();
        let store_config =
            SampleStoreConfig { classes: Some(ClassSet::threat()), ..SampleStoreConfig::default() };
        let samples =
            tokio::task::spawn_blocking(move || SampleStore::open_with(&path, store_config))
                .await
                .map_err(|e| EngineError::Task(e.to_string()))??;
        let cache = crate::cache::open(&config).await?;
        let intel = config.intel.load()?;
        Ok(Self::from_parts(config, cache, samples, intel))
    }

    /// An engine over stores opened elsewhere. `config` must have passed [`Config::check`].
    pub fn from_parts(config: Config, cache: AnyCache, samples: SampleStore, intel: Intel) -> Self {
        Self {
            inner: Arc::new(Inner {
                windows: Windows::new(config.windows),
                ledger: Predictions::new(config.predictions.capacity),
                config,
                model: ArcSwapOption::empty(),
                cache,
                samples,
                intel,
                notices: ArcSwapOption::empty(),
            }),
        }
    }

    /// A feed of new review items (verdicts on ingested events routed to the council or a
    /// human, once kept), each the JSON object `GET /v1/reviews` lists, for a notifier such
    /// as vigil-http's webhook. At most `capacity` wait; when the listener falls behind, new
    /// items are dropped from the feed (counted in `vigil_review_notices_total{outcome =
    /// "dropped"}`; they stay in the queue), so scoring never waits for it. A second call
    /// replaces the first feed.
    pub fn review_feed(&self, capacity: usize) -> tokio::sync::mpsc::Receiver<serde_json::Value> {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        self.inner.notices.store(Some(Arc::new(tx)));
        rx
    }

    /// The review items among `kept`, as notices, when a feed listens.
    fn notices(&self, kept: &[NewPrediction]) -> Vec<serde_json::Value> {
        if self.inner.notices.load().is_none() {
            return Vec::new();
        }
        let now = jiff::Timestamp::now().to_string();
        kept.iter().filter(|p| p.route != Route::Autonomous).map(|p| notice(p, &now)).collect()
    }

    /// Puts `notices` (of items now committed) on the feed, without waiting.
    fn announce(&self, notices: Vec<serde_json::Value>) {
        let Some(feed) = self.inner.notices.load_full() else { return };
        for n in notices {
            let outcome = if feed.try_send(n).is_ok() { "queued" } else { "dropped" };
            metrics::counter!("vigil_review_notices_total", "outcome" => outcome).increment(1);
        }
    }

    /// Serves `model` from now on. Calls already running keep the model they started with
    /// (each holds its own `Arc`); none fails or sees a mix.
    pub fn set_model(&self, model: LoadedModel) {
        let version = model.version().to_owned();
        let old = self.inner.model.swap(Some(Arc::new(model)));
        if let Some(old) = old {
            metrics::gauge!("vigil_model_info", "version" => old.version().to_owned()).set(0.0);
        }
        metrics::gauge!("vigil_model_info", "version" => version).set(1.0);
    }

    /// The model being served, if any.
    pub fn model(&self) -> Option<Arc<LoadedModel>> {
        self.inner.model.load_full()
    }

    fn current_model(&self) -> Result<Arc<LoadedModel>> {
        self.model().ok_or(EngineError::NoModel)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The feature cache.
    pub fn cache(&self) -> &AnyCache {
        &self.inner.cache
    }

    /// The sample store.
    pub fn samples(&self) -> &SampleStore {
        &self.inner.samples
    }

    /// The threat-intel feeds (reloadable).
    pub fn intel(&self) -> &Intel {
        &self.inner.intel
    }

    /// The featurizer now: the window policy and a snapshot of the feeds.
    pub fn featurizer(&self) -> Featurizer {
        Featurizer::new(*self.inner.windows.policy(), self.inner.intel.snapshot())
    }

    /// Entities and events held in windows.
    pub fn window_size(&self) -> (usize, usize) {
        self.inner.windows.size()
    }

    /// What the windows hold (entities, established ones, events, bytes, evictions).
    pub fn window_stats(&self) -> WindowStats {
        self.inner.windows.stats()
    }

    /// Predictions kept for feedback, and the bound.
    pub fn ledger_size(&self) -> (usize, usize) {
        (self.inner.ledger.len(), self.inner.ledger.capacity())
    }

    /// Adds events (any sources, any order) to their windows and returns one verdict per
    /// source, on its window after the batch. Refused with no change when no model is
    /// loaded, so that a retry later loses nothing.
    ///
    /// Events later than the clock plus `windows.max_clock_skew_secs` are dropped (and
    /// counted): one event from the future would hold its window's horizon there. The HTTP
    /// layer rejects them earlier, per line, with the reason.
    pub async fn ingest(&self, mut events: Vec<Event>) -> Result<Ingest> {
        let model = self.current_model()?;
        let not_after = self.inner.config.windows.not_after();
        let before = events.len();
        events.retain(|e| e.timestamp <= not_after);
        let future = before - events.len();
        let mut windows = Vec::new();
        let mut infos = Vec::new();
        let mut established = Vec::new();
        let (mut added, mut duplicates) = (0, 0);
        for (ip, events) in group_by_source(events) {
            let snapshot = self.inner.windows.append(ip, events);
            added += snapshot.added;
            duplicates += snapshot.duplicates;
            infos.push(WindowInfo {
                events: snapshot.events.len(),
                added: snapshot.added,
                duplicates: snapshot.duplicates,
            });
            established.push(snapshot.established);
            windows.push(WindowInput { ip, events: snapshot.events, as_of_us: snapshot.as_of_us });
        }
        metrics::counter!("vigil_events_total", "outcome" => "future").increment(future as u64);
        metrics::counter!("vigil_events_total", "outcome" => "accepted")
            .increment((added + duplicates) as u64);
        metrics::counter!("vigil_events_total", "outcome" => "duplicate")
            .increment(duplicates as u64);
        let ips: Vec<IpAddr> = windows.iter().map(|w| w.ip).collect();
        let features = extract_windows(&self.inner.cache, windows, &self.featurizer()).await;
        let subjects = features
            .into_iter()
            .zip(ips)
            .zip(infos)
            .zip(established)
            .map(|((((features, provenance), ip), info), established)| Subject {
                entity: ip.to_string(),
                features,
                provenance,
                window: Some(info),
                established,
            })
            .collect();
        let verdicts = self.decide(&model, subjects)?;
        let reviews = &self.inner.config.reviews;
        if reviews.keep_predictions {
            let (kept, judged): (Vec<&Verdict>, Vec<&Verdict>) = verdicts
                .iter()
                .partition(|v| reviews.keep_autonomous || v.route != Route::Autonomous);
            let kept: Vec<NewPrediction> =
                kept.into_iter().map(|v| kept_prediction(&model, v)).collect();
            let judged = judged.into_iter().map(|v| v.entity.clone()).collect();
            let notices = self.notices(&kept);
            self.inner.samples.keep_verdicts(kept, judged).await?;
            self.announce(notices);
        }
        Ok(Ingest { added, duplicates, future, verdicts })
    }

    /// Replays a log: `events` in time order, `batch` at a time, through [`Engine::ingest`];
    /// returns each source's last verdict (what it was called after its last event).
    pub async fn replay(
        &self,
        mut events: Vec<Event>,
        batch: usize,
    ) -> Result<std::collections::BTreeMap<IpAddr, Verdict>> {
        events.sort_by_key(|e| e.timestamp);
        let mut last = std::collections::BTreeMap::new();
        for chunk in events.chunks(batch.max(1)) {
            for verdict in self.ingest(chunk.to_vec()).await?.verdicts {
                if let Ok(ip) = verdict.entity.parse::<IpAddr>() {
                    last.insert(ip, verdict);
                }
            }
        }
        Ok(last)
    }

    /// Scores one entity's events (one source, any order) over the window the policy would
    /// hold, without changing any state but the ledger. `entity`, when given, must name the
    /// events' source.
    pub fn score_events(&self, events: Vec<Event>, entity: Option<&str>) -> Result<Verdict> {
        let model = self.current_model()?;
        let mut groups = group_by_source(events);
        if groups.len() != 1 {
            if groups.is_empty() {
                return Err(EngineError::NoEvents);
            }
            let sources: Vec<String> = groups.keys().take(5).map(ToString::to_string).collect();
            return Err(EngineError::SeveralEntities {
                count: groups.len(),
                sources: sources.join(", "),
            });
        }
        let (ip, events) = groups.pop_first().ok_or(EngineError::NoEvents)?;
        if let Some(entity) = entity
            && entity.trim().parse::<IpAddr>().map(|e| e.to_canonical()) != Ok(ip)
        {
            return Err(EngineError::EntityMismatch { entity: entity.to_owned(), source_ip: ip });
        }
        let policy = *self.inner.windows.policy();
        let feeds = self.inner.intel.snapshot();
        let (window, features) = cpu(events.len() > LARGE_WINDOW, || {
            let window = EventWindow::of(&policy, events);
            let features = extract_with(window.events(), &feeds);
            (window, features)
        });
        let provenance =
            Provenance { as_of: window.newest().map(|t| t.to_string()), ..Provenance::computed() };
        let info = WindowInfo { events: window.len(), added: 0, duplicates: 0 };
        let subject = Subject {
            entity: ip.to_string(),
            features,
            provenance,
            window: Some(info),
            established: false,
        };
        self.decide_one(&model, subject)
    }

    /// Scores a feature vector of the schema's width; `entity` names it (default
    /// `unknown`).
    pub fn score_vector(&self, values: &[f32], entity: Option<&str>) -> Result<Verdict> {
        let model = self.current_model()?;
        let features = FeatureVector::from_slice(values).map_err(EngineError::InvalidFeatures)?;
        let subject = Subject {
            entity: entity_name(entity, &features)?,
            features,
            provenance: Provenance::request(),
            window: None,
            established: false,
        };
        self.decide_one(&model, subject)
    }

    /// Scores the window this engine holds for `ip`, without changing it.
    pub async fn score_entity(&self, ip: IpAddr) -> Result<Verdict> {
        let model = self.current_model()?;
        let ip = ip.to_canonical();
        let snapshot = self.inner.windows.get(ip).ok_or(EngineError::UnknownEntity { ip })?;
        let info = WindowInfo { events: snapshot.events.len(), added: 0, duplicates: 0 };
        // Scoring is open by default: its predictions never take the main ledger segment,
        // or a loop of score requests could flush predictions awaiting feedback.
        let established = false;
        let input = WindowInput { ip, events: snapshot.events, as_of_us: snapshot.as_of_us };
        let (features, provenance) =
            extract_windows(&self.inner.cache, vec![input], &self.featurizer())
                .await
                .pop()
                .ok_or_else(|| EngineError::Task("no vector extracted".into()))?;
        let subject = Subject {
            entity: ip.to_string(),
            features,
            provenance,
            window: Some(info),
            established,
        };
        self.decide_one(&model, subject)
    }

    /// The window this engine holds for `ip` and its features (through the cache).
    pub async fn entity(&self, ip: IpAddr) -> Result<EntityView> {
        let ip = ip.to_canonical();
        let snapshot = self.inner.windows.get(ip).ok_or(EngineError::UnknownEntity { ip })?;
        let featurizer = self.featurizer();
        let (first, last) = (
            snapshot.events.first().map(|e| e.timestamp),
            snapshot.events.last().map(|e| e.timestamp),
        );
        let events = snapshot.events.len();
        let input = WindowInput { ip, events: snapshot.events, as_of_us: snapshot.as_of_us };
        let (features, provenance) = extract_windows(&self.inner.cache, vec![input], &featurizer)
            .await
            .pop()
            .ok_or_else(|| EngineError::Task("no vector extracted".into()))?;
        Ok(EntityView {
            ip,
            events,
            first_event: first,
            last_event: last,
            features,
            provenance,
            featurizer: featurizer.version(),
        })
    }

    fn decide_one(&self, model: &Arc<LoadedModel>, subject: Subject) -> Result<Verdict> {
        self.decide(model, vec![subject])?
            .pop()
            .ok_or_else(|| EngineError::Task("no verdict built".into()))
    }

    /// Scores the subjects, keeps each prediction in the ledger, and builds the verdicts.
    fn decide(&self, model: &Arc<LoadedModel>, subjects: Vec<Subject>) -> Result<Vec<Verdict>> {
        let rows: Vec<FeatureVector> = subjects.iter().map(|s| s.features).collect();
        let scored: Vec<Scored> = cpu(rows.len() > LARGE_ROWS, || model.score(&rows))?;
        Ok(subjects
            .into_iter()
            .zip(scored)
            .map(|(subject, scored)| {
                let class = model.class_name(scored.decision.class);
                let route = self.inner.config.routing.route(class, scored.confidence());
                metrics::counter!(
                    "vigil_verdicts_total",
                    "class" => class.to_owned(),
                    "route" => route.as_str()
                )
                .increment(1);
                let id = self.inner.ledger.insert(
                    Prediction::new(
                        subject.entity.clone(),
                        &subject.features,
                        model.version_arc(),
                        (class.to_owned(), scored.confidence()),
                        route,
                    ),
                    subject.established,
                );
                Verdict::new(id, subject, scored, route, Arc::clone(model))
            })
            .collect())
    }

    /// Stores a council or analyst verdict durably: `Ok` means the sample is committed.
    /// One feedback per prediction: the same one again returns the stored sample
    /// (`replayed`), a different one is [`EngineError::FeedbackExists`].
    pub async fn feedback(&self, feedback: Feedback) -> Result<FeedbackReceipt> {
        let (verdict, implied_label) = council_verdict(&feedback.verdict)?;
        let correct_label = feedback.correct_label.or(implied_label.map(str::to_owned));
        let threat = ClassSet::threat();
        if let Some(label) = &correct_label {
            threat.parse(label).map_err(|e| EngineError::UnknownLabel { reason: e.to_string() })?;
        }
        let (sample, prediction_id) = match feedback.target {
            FeedbackTarget::Prediction(id_text) => {
                let unknown = || EngineError::UnknownPrediction {
                    id: id_text.clone(),
                    kept: self.inner.ledger.capacity(),
                };
                let id: PredictionId = id_text.trim().parse().map_err(|()| unknown())?;
                let prediction = match self.inner.ledger.get(id) {
                    Some(p) => Some(p),
                    None => self.kept(id).await?.map(Arc::new),
                };
                let Some(prediction) = prediction else {
                    // Neither in memory nor kept (evicted, pruned, or another store's), but
                    // its feedback may be stored: a retry gets the stored sample back.
                    return self
                        .replayed(&id.to_string(), verdict, correct_label.as_deref())?
                        .ok_or_else(unknown);
                };
                let sample = NewSample {
                    entity: prediction.entity.clone(),
                    schema_version: SCHEMA_VERSION.to_owned(),
                    features: prediction.features.as_slice().to_vec(),
                    model_version: prediction.model_version.to_string(),
                    ml_prediction: prediction.class.clone(),
                    ml_confidence: f64::from(prediction.confidence).clamp(0.0, 1.0),
                    verdict,
                    correct_label: correct_label.clone(),
                    route: Some(prediction.route),
                };
                (sample, Some(id.to_string()))
            }
            FeedbackTarget::Features { features, entity, prediction } => {
                let features =
                    FeatureVector::from_slice(&features).map_err(EngineError::InvalidFeatures)?;
                let entity = entity_name(entity.as_deref(), &features)?;
                let (ml_prediction, ml_confidence, model_version) =
                    if let Some((p, c, v)) = prediction {
                        // The class as the model names it: it labels metrics and picks the route.
                        let canonical = threat
                            .parse(&p)
                            .ok()
                            .and_then(|i| threat.name(i))
                            .map(str::to_owned)
                            .ok_or_else(|| EngineError::UnknownLabel {
                                reason: format!("unknown ml_prediction {p:?}"),
                            })?;
                        (canonical, c, v)
                    } else {
                        let model = self.current_model()?;
                        let scored = model.score(std::slice::from_ref(&features))?;
                        let s = &scored[0];
                        (
                            model.class_name(s.decision.class).to_owned(),
                            f64::from(s.confidence()).clamp(0.0, 1.0),
                            model.version().to_owned(),
                        )
                    };
                let sample = NewSample {
                    entity,
                    schema_version: SCHEMA_VERSION.to_owned(),
                    features: features.as_slice().to_vec(),
                    model_version,
                    verdict,
                    correct_label: correct_label.clone(),
                    // The route the verdict took, as this configuration routes it.
                    route: Some(
                        self.inner.config.routing.route(&ml_prediction, ml_confidence as f32),
                    ),
                    ml_prediction,
                    ml_confidence,
                };
                (sample, None)
            }
        };
        let (ml_prediction, model_version) =
            (sample.ml_prediction.clone(), sample.model_version.clone());
        let route = sample.route.map_or("unrouted", Route::as_str);
        let was_override = verdict == Council::Override;
        // One sample per prediction, decided by the store's unique index: a retry (after a
        // timeout, a dropped connection, on another server) gets the stored sample back.
        let (sample_id, new) = match &prediction_id {
            Some(id) => self.inner.samples.insert_for_prediction(id, sample).await,
            None => self.inner.samples.insert_async(sample).await.map(|id| (id, true)),
        }
        .map_err(store_error)?;
        if new {
            let labels = [
                ("verdict", verdict.as_str().to_owned()),
                ("route", route.to_owned()),
                ("class", ml_prediction.clone()),
            ];
            metrics::counter!("vigil_feedback_total", &labels).increment(1);
            if was_override {
                metrics::counter!("vigil_feedback_overrides_total", &labels[1..]).increment(1);
            }
        }
        let canonical =
            |l: &str| threat.parse(l).ok().and_then(|i| threat.name(i)).map(str::to_owned);
        let stored_label = match verdict {
            Council::Confirm => canonical(&ml_prediction),
            _ => correct_label.as_deref().and_then(canonical),
        };
        Ok(FeedbackReceipt {
            sample_id,
            replayed: !new,
            prediction_id,
            verdict: verdict.as_str(),
            ml_prediction: canonical(&ml_prediction).unwrap_or(ml_prediction),
            correct_label: stored_label,
            was_override,
            model_version,
        })
    }

    /// The stored feedback on a prediction this engine no longer keeps, as a replay if it
    /// is the same verdict and label, a conflict if not; `None` if there is none.
    fn replayed(
        &self,
        prediction_id: &str,
        verdict: Council,
        correct_label: Option<&str>,
    ) -> Result<Option<FeedbackReceipt>> {
        let Some(stored) = self.inner.samples.sample_for_prediction(prediction_id)? else {
            return Ok(None);
        };
        let threat = ClassSet::threat();
        let canonical =
            |l: &str| threat.parse(l).ok().and_then(|i| threat.name(i)).map(str::to_owned);
        let asked = match verdict {
            Council::Confirm => Some(stored.ml_prediction.clone()),
            _ => correct_label.and_then(canonical),
        };
        let stored_text = match &stored.correct_label {
            Some(l) => format!("{} {l}", stored.verdict.as_str()),
            None => stored.verdict.as_str().to_owned(),
        };
        if stored.verdict != verdict
            || (verdict != Council::Confirm && asked != stored.correct_label)
        {
            return Err(EngineError::FeedbackExists {
                prediction_id: prediction_id.to_owned(),
                sample_id: stored.id,
                stored: stored_text,
            });
        }
        Ok(Some(FeedbackReceipt {
            sample_id: stored.id,
            replayed: true,
            prediction_id: Some(prediction_id.to_owned()),
            verdict: stored.verdict.as_str(),
            ml_prediction: stored.ml_prediction,
            correct_label: stored.correct_label,
            was_override: stored.was_override,
            model_version: stored.model_version,
        }))
    }

    /// A prediction the sample store kept (made before a restart, evicted from the ledger, or
    /// made by another server on the same store), as the ledger would hold it.
    async fn kept(&self, id: PredictionId) -> Result<Option<Prediction>> {
        let samples = self.inner.samples.clone();
        let found = tokio::task::spawn_blocking(move || samples.prediction(&id.to_string()))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))??;
        // A vector of another feature schema would be trained on under this one's names.
        let Some(p) = found.filter(|p| p.schema_version == SCHEMA_VERSION) else {
            return Ok(None);
        };
        let Ok(features) = FeatureVector::from_slice(&p.features) else {
            return Ok(None);
        };
        Ok(Some(Prediction::new(
            p.entity,
            &features,
            p.model_version.into(),
            (p.class, p.confidence as f32),
            p.route,
        )))
    }

    /// One page of review items: predictions routed to the council or a human, kept in the
    /// sample store (`[reviews]`).
    pub async fn reviews(&self, query: ReviewQuery) -> Result<ReviewPage> {
        let samples = self.inner.samples.clone();
        tokio::task::spawn_blocking(move || samples.reviews(&query, jiff::Timestamp::now()))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
            .map_err(review_error)
    }

    /// Claims review item `id` (its prediction id) for `reviewer`, for `lease_secs` (default
    /// `reviews.lease_secs`, at most `reviews.max_lease_secs`).
    pub async fn claim(
        &self,
        id: &str,
        reviewer: &str,
        lease_secs: Option<u64>,
    ) -> Result<StoredPrediction> {
        let config = self.inner.config.reviews;
        let lease = lease_secs.unwrap_or(config.lease_secs);
        if lease == 0 || lease > config.max_lease_secs {
            return Err(EngineError::InvalidReview {
                reason: format!(
                    "lease_secs {lease} is not in 1..={} (reviews.max_lease_secs)",
                    config.max_lease_secs
                ),
            });
        }
        let now = jiff::Timestamp::now();
        let until = now
            .checked_add(jiff::SignedDuration::from_secs(i64::try_from(lease).unwrap_or(i64::MAX)))
            .unwrap_or(jiff::Timestamp::MAX);
        match self
            .inner
            .samples
            .claim_review(id, reviewer, now, until)
            .await
            .map_err(review_error)?
        {
            Claim::Claimed(item) => {
                metrics::counter!("vigil_review_claims_total", "outcome" => "claimed").increment(1);
                Ok(*item)
            }
            Claim::Held { by, until } => {
                metrics::counter!("vigil_review_claims_total", "outcome" => "held").increment(1);
                Err(EngineError::ReviewHeld { id: id.to_owned(), by, until })
            }
            Claim::Closed => Err(EngineError::ReviewClosed { id: id.to_owned() }),
            Claim::Missing => Err(EngineError::UnknownReview { id: id.to_owned() }),
        }
    }

    /// Deletes kept predictions older than `reviews.retention_hours`; returns how many.
    pub async fn prune_predictions(&self) -> Result<usize> {
        let hours =
            i64::try_from(self.inner.config.reviews.retention_hours).unwrap_or(i64::MAX / 3600);
        let before = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(hours))
            .unwrap_or(jiff::Timestamp::MIN);
        let pruned = self.inner.samples.prune_predictions(before).await?;
        metrics::counter!("vigil_predictions_pruned_total").increment(pruned as u64);
        Ok(pruned)
    }

    /// Prunes kept predictions every `period` (the first time at once) until `cancel`; a
    /// failure is logged and retried at the next tick.
    pub async fn prune_every(
        &self,
        period: std::time::Duration,
        cancel: tokio_util::sync::CancellationToken,
    ) {
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = tick.tick() => match self.prune_predictions().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "kept predictions past retention deleted"),
                    Err(e) => tracing::warn!(error = %e, "pruning kept predictions failed"),
                },
                () = cancel.cancelled() => return,
            }
        }
    }

    /// The learning loop's state (pending samples, override rate, last and next retrain,
    /// triggers, recent jobs) under the configured trigger policy, and the served model.
    pub async fn status(&self) -> Result<serde_json::Value> {
        let learning = self.inner.config.learning.clone();
        let samples = self.inner.samples.clone();
        let model = self.model();
        let since = model.as_ref().and_then(|m| {
            m.manifest().get("created_at").and_then(|v| v.as_str()).and_then(|s| s.parse().ok())
        });
        let mut status = tokio::task::spawn_blocking(move || {
            crate::learning::status(&samples, &learning, since)
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))??;
        status["model_version"] = serde_json::json!(model.map(|m| m.version().to_owned()));
        Ok(status)
    }
}

/// An entity name as stored with a sample: trimmed, 1 to 256 characters, no control
/// characters. When none is given, `anon-<16 hex digits>` from a hash of the features: one
/// shared name would put every such sample on the same side of retrain's holdout
/// (membership is by entity), and a random one would put a retried copy of a row on the
/// other side of it.
fn entity_name(entity: Option<&str>, features: &FeatureVector) -> Result<String> {
    match entity {
        None => {
            use std::hash::{Hash, Hasher};
            let mut h = std::hash::DefaultHasher::new();
            features.as_slice().iter().for_each(|v| v.to_bits().hash(&mut h));
            Ok(format!("anon-{:016x}", h.finish()))
        }
        Some(e) if e.trim().is_empty() || e.len() > 256 || e.chars().any(char::is_control) => {
            Err(EngineError::InvalidEntity)
        }
        Some(e) => Ok(e.trim().to_owned()),
    }
}

/// mini-xdr's final-verdict vocabulary mapped onto the council's.
fn council_verdict(text: &str) -> Result<(Council, Option<&'static str>)> {
    let verdict = match text.trim().to_ascii_uppercase().as_str() {
        "THREAT" => return Ok((Council::Confirm, None)),
        "FALSE_POSITIVE" => return Ok((Council::Override, Some("Normal"))),
        "INVESTIGATE" => return Ok((Council::Uncertain, None)),
        _ => text.parse::<Council>(),
    };
    verdict.map(|v| (v, None)).map_err(|e| EngineError::UnknownVerdict { reason: e.to_string() })
}

/// A verdict as the sample store keeps it.
fn kept_prediction(model: &LoadedModel, v: &Verdict) -> NewPrediction {
    NewPrediction {
        prediction_id: v.prediction_id.to_string(),
        entity: v.entity.clone(),
        schema_version: SCHEMA_VERSION.to_owned(),
        class: v.class().to_owned(),
        confidence: f64::from(v.confidence()).clamp(0.0, 1.0),
        probabilities: model
            .artifact()
            .classes
            .names()
            .iter()
            .cloned()
            .zip(v.scored.probabilities.iter().copied())
            .collect(),
        route: v.route,
        model_version: model.version().to_owned(),
        features: v.features.as_slice().to_vec(),
    }
}

/// A new review item as `GET /v1/reviews` shows it.
fn notice(p: &NewPrediction, created_at: &str) -> serde_json::Value {
    let probabilities: serde_json::Map<String, serde_json::Value> =
        p.probabilities.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect();
    serde_json::json!({
        "prediction_id": p.prediction_id,
        "created_at": created_at,
        "entity": p.entity,
        "class": p.class,
        "confidence": p.confidence,
        "probabilities": probabilities,
        "route": p.route,
        "model_version": p.model_version,
        "features": p.features,
        "status": "open",
        "claimed_by": null,
        "lease_until": null,
        "closed_at": null,
        "sample_id": null,
    })
}

fn review_error(e: StoreError) -> EngineError {
    match e {
        StoreError::InvalidQuery { reason } => EngineError::InvalidReview { reason },
        other => EngineError::Store(other),
    }
}

fn store_error(e: StoreError) -> EngineError {
    match e {
        StoreError::InvalidSample { .. }
        | StoreError::UnknownVerdict { .. }
        | StoreError::OverrideWithoutLabel { .. }
        | StoreError::OverrideSameLabel { .. }
        | StoreError::ConfirmLabelMismatch { .. } => {
            EngineError::InvalidFeedback { reason: e.to_string() }
        }
        StoreError::UnknownLabel { .. } => EngineError::UnknownLabel { reason: e.to_string() },
        StoreError::FeedbackConflict { prediction_id, sample_id, stored } => {
            EngineError::FeedbackExists { prediction_id, sample_id, stored }
        }
        other => EngineError::Store(other),
    }
}
