//! The prediction ledger: recent predictions, bounded, so that feedback needs only a
//! prediction id.

use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use rand::RngExt;
use vigil_features::FeatureVector;

use crate::Route;

const SHARDS: usize = 8;

type Shard = Mutex<LruCache<PredictionId, Arc<Prediction>>>;

/// A prediction id, written as 32 lower-case hex digits: the milliseconds since the epoch
/// in the top 48 bits, 80 random bits below (as UUIDv7 lays them out). Random enough that
/// no one guesses another's id; ordered by time so that the sample store's index of kept
/// predictions grows at its end instead of at random pages (a flow log keeps a verdict per
/// source per batch: random ids made each insert re-read cold index pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PredictionId(u128);

impl PredictionId {
    pub(crate) fn random() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let random: u128 = rand::rng().random::<u128>() & ((1u128 << 80) - 1);
        Self(((ms & ((1u128 << 48) - 1)) << 80) | random)
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
    /// Where the verdict was routed.
    pub(crate) route: Route,
}

impl Prediction {
    pub(crate) fn new(
        entity: String,
        features: &FeatureVector,
        model_version: Arc<str>,
        (class, confidence): (String, f32),
        route: Route,
    ) -> Self {
        Self { entity, features: *features, model_version, class, confidence, route }
    }
}

/// One sharded LRU of predictions.
struct Segment {
    shards: Box<[Shard]>,
}

impl Segment {
    fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(LruCache::new(
                    std::num::NonZeroUsize::new(per_shard).unwrap_or(std::num::NonZeroUsize::MIN),
                ))
            })
            .collect();
        Self { shards }
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len()).sum()
    }
}

/// The last `capacity` predictions, least recently made evicted first, in two segments so
/// that floods cannot flush predictions awaiting feedback: predictions on entities with
/// real activity (established windows) keep 80% of the room; predictions on new entities
/// and on data given in a request share the other 20%.
pub(crate) struct Predictions {
    main: Segment,
    probation: Segment,
    capacity: usize,
    hasher: std::hash::RandomState,
}

impl Predictions {
    pub(crate) fn new(capacity: usize) -> Self {
        let main = capacity - capacity / 5;
        Self {
            main: Segment::new(main.max(1)),
            probation: Segment::new(capacity.saturating_sub(main).max(1)),
            capacity,
            hasher: std::hash::RandomState::new(),
        }
    }

    fn shard<'a>(&self, segment: &'a Segment, id: PredictionId) -> &'a Shard {
        &segment.shards[(self.hasher.hash_one(id) % SHARDS as u64) as usize]
    }

    /// Keeps `prediction` under a new id and returns the id; `established` predictions (on
    /// an entity with real activity) go to the main segment.
    pub(crate) fn insert(&self, prediction: Prediction, established: bool) -> PredictionId {
        let id = PredictionId::random();
        let segment = if established { &self.main } else { &self.probation };
        let mut shard = self.shard(segment, id).lock().unwrap_or_else(PoisonError::into_inner);
        shard.push(id, Arc::new(prediction));
        id
    }

    /// The prediction, if still kept.
    pub(crate) fn get(&self, id: PredictionId) -> Option<Arc<Prediction>> {
        [&self.main, &self.probation].into_iter().find_map(|segment| {
            let shard = self.shard(segment, id).lock().unwrap_or_else(PoisonError::into_inner);
            shard.peek(&id).cloned()
        })
    }

    /// How many are kept now.
    pub(crate) fn len(&self) -> usize {
        self.main.len() + self.probation.len()
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
        Prediction::new(
            "192.0.2.1".into(),
            &fv,
            "m1".into(),
            ("Normal".into(), 0.9),
            Route::Autonomous,
        )
    }

    #[test]
    fn ids_are_ordered_by_time_and_differ_within_a_millisecond() {
        let ids: Vec<PredictionId> = (0..1000).map(|_| PredictionId::random()).collect();
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
        for pair in ids.windows(2) {
            // The time prefix never goes back (the random part orders ids of one ms).
            assert!(pair[0].0 >> 80 <= pair[1].0 >> 80);
        }
        let last = ids[ids.len() - 1].0 >> 80;
        assert!(now.abs_diff(last) < 60_000, "{last} vs {now}");
        // Text order is time order: the store's index appends.
        let before = PredictionId::random();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(before.to_string() < PredictionId::random().to_string());
    }

    #[test]
    fn ids_round_trip_and_predictions_are_bounded() {
        let p = Predictions::new(16);
        let ids: Vec<PredictionId> = (0..100).map(|i| p.insert(prediction(), i % 2 == 0)).collect();
        // Each segment rounds its share up to whole shards.
        assert!(p.len() <= 16 + 2 * SHARDS, "{}", p.len());
        let last = ids[98];
        assert_eq!(last.to_string().parse::<PredictionId>(), Ok(last));
        assert!(p.get(last).is_some());
        assert!("xyz".parse::<PredictionId>().is_err());
        assert!("0".repeat(31).parse::<PredictionId>().is_err());
    }

    #[test]
    fn a_flood_of_new_predictions_keeps_the_established_ones() {
        let p = Predictions::new(1000);
        let kept: Vec<PredictionId> = (0..100).map(|_| p.insert(prediction(), true)).collect();
        for _ in 0..20_000 {
            p.insert(prediction(), false);
        }
        assert!(kept.iter().all(|id| p.get(*id).is_some()));
        assert!(p.len() <= 1000 + 2 * SHARDS, "{}", p.len());
    }
}
