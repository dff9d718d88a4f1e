//! The prediction ledger: recent predictions, bounded, so that feedback needs only a
//! prediction id.

use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use rand::RngExt;
use vigil_features::FeatureVector;

const SHARDS: usize = 8;

type Shard = Mutex<LruCache<PredictionId, Arc<Prediction>>>;

/// A prediction id: 128 random bits, written as 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PredictionId(u128);

impl PredictionId {
    pub(crate) fn random() -> Self {
        Self(rand::rng().random())
    }
}

impl fmt::Display for PredictionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl FromStr for PredictionId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(());
        }
        u128::from_str_radix(s, 16).map(Self).map_err(|_| ())
    }
}

/// What a prediction was, as feedback needs it.
#[derive(Debug)]
pub(crate) struct Prediction {
    /// The entity (source IP), or `unknown` for a bare feature vector.
    pub(crate) entity: String,
    /// The features the model saw.
    pub(crate) features: FeatureVector,
    /// The model version that predicted.
    pub(crate) model_version: Arc<str>,
    /// The decided class name.
    pub(crate) class: String,
    /// The calibrated probability of that class.
    pub(crate) confidence: f32,
    /// 0: no feedback yet; -1: feedback being stored; > 0: the stored sample's id.
    feedback: AtomicI64,
}

impl Prediction {
    pub(crate) fn new(
        entity: String,
        features: &FeatureVector,
        model_version: Arc<str>,
        class: String,
        confidence: f32,
    ) -> Self {
        Self {
            entity,
            features: *features,
            model_version,
            class,
            confidence,
            feedback: AtomicI64::new(0),
        }
    }

    /// Claims the prediction for one feedback: `Err(Some(id))` if feedback is stored as
    /// sample `id`, `Err(None)` if another is being stored right now.
    pub(crate) fn claim(&self) -> Result<FeedbackClaim<'_>, Option<i64>> {
        match self.feedback.compare_exchange(0, -1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Ok(FeedbackClaim { prediction: self, done: false }),
            Err(-1) => Err(None),
            Err(id) => Err(Some(id)),
        }
    }
}

/// A claim on a prediction's feedback slot: released on drop unless completed.
pub(crate) struct FeedbackClaim<'a> {
    prediction: &'a Prediction,
    done: bool,
}

impl FeedbackClaim<'_> {
    /// Records the stored sample's id.
    pub(crate) fn complete(mut self, sample_id: i64) {
        self.prediction.feedback.store(sample_id.max(1), Ordering::Release);
        self.done = true;
    }
}

impl Drop for FeedbackClaim<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.prediction.feedback.store(0, Ordering::Release);
        }
    }
}

/// The last `capacity` predictions (least recently made evicted first).
pub(crate) struct Predictions {
    shards: Box<[Shard]>,
    capacity: usize,
    hasher: std::hash::RandomState,
}

impl Predictions {
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(LruCache::new(
                    std::num::NonZeroUsize::new(per_shard).unwrap_or(std::num::NonZeroUsize::MIN),
                ))
            })
            .collect();
        Self { shards, capacity, hasher: std::hash::RandomState::new() }
    }

    fn shard(&self, id: PredictionId) -> &Shard {
        &self.shards[(self.hasher.hash_one(id) % SHARDS as u64) as usize]
    }

    /// Keeps `prediction` under a new id and returns the id.
    pub(crate) fn insert(&self, prediction: Prediction) -> PredictionId {
        let id = PredictionId::random();
        let mut shard = self.shard(id).lock().unwrap_or_else(PoisonError::into_inner);
        shard.push(id, Arc::new(prediction));
        id
    }

    /// The prediction, if still kept.
    pub(crate) fn get(&self, id: PredictionId) -> Option<Arc<Prediction>> {
        let shard = self.shard(id).lock().unwrap_or_else(PoisonError::into_inner);
        shard.peek(&id).cloned()
    }

    /// How many are kept now.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len()).sum()
    }

    /// The configured bound.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction() -> Prediction {
        let fv = FeatureVector::from_slice(&[0.0; 100]).unwrap();
        Prediction::new("192.0.2.1".into(), &fv, "m1".into(), "Normal".into(), 0.9)
    }

    #[test]
    fn ids_round_trip_and_predictions_are_bounded() {
        let p = Predictions::new(16);
        let ids: Vec<PredictionId> = (0..100).map(|_| p.insert(prediction())).collect();
        assert!(p.len() <= 16, "{}", p.len());
        let last = ids[99];
        assert_eq!(last.to_string().parse::<PredictionId>(), Ok(last));
        assert!(p.get(last).is_some());
        assert!("xyz".parse::<PredictionId>().is_err());
        assert!("0".repeat(31).parse::<PredictionId>().is_err());
    }

    #[test]
    fn feedback_is_claimed_once() {
        let p = prediction();
        let claim = p.claim().unwrap();
        assert_eq!(p.claim().err(), Some(None));
        drop(claim);
        let claim = p.claim().unwrap();
        claim.complete(42);
        assert_eq!(p.claim().err(), Some(Some(42)));
    }
}
