//! Cache-aware parallel feature extraction.

use std::sync::Arc;

use jiff::Timestamp;
use rayon::prelude::*;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::cache::{EntityKey, FeatureCache, FeatureValue, Lookup};

/// One entity to extract features for: its cache key, the time of its newest event, and
/// whatever the feature computation needs (its event window, say).
#[derive(Debug, Clone)]
pub struct Entity<T> {
    /// The cache key (schema version, entity type, entity id).
    pub key: EntityKey,
    /// The event time of the entity's newest event: cached features older than this are
    /// stale, and freshly computed ones are stamped with it as their as-of time.
    pub newest_event: Timestamp,
    /// The input of the feature computation.
    pub data: T,
}

/// The features of each entity, in the order given, and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// One feature value per entity, in input order.
    pub values: Vec<Arc<FeatureValue>>,
    /// Served fresh from the cache.
    pub hits: usize,
    /// Found stale in the cache, so recomputed.
    pub stale: usize,
    /// Not in the cache (or unreadable), so computed.
    pub misses: usize,
}

/// The features of every entity: cached fresh values fetched in one batch, the rest computed
/// in parallel with `compute` (on rayon's pool) and written back in one batch.
///
/// `compute` is the feature extractor (vigil-features), passed as a closure so this crate
/// does not depend on it. On a multi-threaded tokio runtime the computation of two or more
/// entities runs inside `block_in_place`, so other tasks move off this worker meanwhile.
pub async fn extract_many<C, T, F>(cache: &C, entities: &[Entity<T>], compute: F) -> Extracted
where
    C: FeatureCache,
    T: Sync,
    F: Fn(&Entity<T>) -> Vec<f32> + Sync,
{
    let requests: Vec<(&EntityKey, Timestamp)> =
        entities.iter().map(|e| (&e.key, e.newest_event)).collect();
    let lookups = cache.get_many(&requests).await;
    let todo: Vec<usize> =
        lookups.iter().enumerate().filter(|(_, l)| !l.is_hit()).map(|(i, _)| i).collect();
    let one = |&i: &usize| {
        let entity = &entities[i];
        Arc::new(FeatureValue::new(entity.newest_event, compute(entity)))
    };
    let computed: Vec<Arc<FeatureValue>> = match todo.len() {
        0 | 1 => todo.iter().map(one).collect(),
        _ => off_worker(|| todo.par_iter().map(one).collect()),
    };
    if !computed.is_empty() {
        let writes: Vec<(&EntityKey, Arc<FeatureValue>)> =
            todo.iter().zip(&computed).map(|(&i, v)| (&entities[i].key, Arc::clone(v))).collect();
        cache.put_many(&writes).await;
    }

    let (mut hits, mut stale, mut misses) = (0, 0, 0);
    let mut computed = computed.into_iter();
    let values = lookups
        .into_iter()
        .map(|lookup| {
            let fresh = match lookup {
                Lookup::Hit(value) => {
                    hits += 1;
                    return value;
                }
                Lookup::Stale { .. } => &mut stale,
                Lookup::Miss => &mut misses,
            };
            *fresh += 1;
            computed.next().expect("one computed value per non-hit")
        })
        .collect();
    Extracted { values, hits, stale, misses }
}

/// Runs CPU-bound `f` so that it does not stall a tokio worker's other tasks.
fn off_worker<R>(f: impl FnOnce() -> R) -> R {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
