//! Bounded in-memory event windows, one per source IP.
//!
//! Each entity's window follows the one window policy ([`vigil_features::EventWindow`]:
//! canonical order, no duplicates, horizon from the newest event, at most
//! `max_events_per_entity`), so serving holds exactly the events training extracts over.
//! All windows together hold at most `max_total_events` events and `max_entities`
//! entities; beyond that whole entities are dropped, least recently updated first. The
//! bounds are split evenly over lock shards, so each shard evicts on its own; there are
//! never more shards than `max_total_events / max_events_per_entity`, so one shard's share
//! always fits a full window and the total bound holds.
//!
//! Each window has an *as-of* time that moves forward at every change: the newest event's
//! time, or one microsecond past the previous as-of when a change does not advance the
//! newest event (a late event, an eviction). The feature cache judges staleness by this
//! time, so a cached vector never stands for a window that has changed since it was
//! computed, late events included.

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use vigil_features::{Event, EventWindow, WindowPolicy};

use crate::config::WindowConfig;

const MAX_SHARDS: usize = 16;

/// One entity's window after an update, or as it stands.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The events, in canonical order (shared, copy-on-write).
    pub(crate) events: Arc<Vec<Event>>,
    /// The as-of time (see the module docs), in Unix microseconds.
    pub(crate) as_of_us: i64,
    /// Events of this update that were added.
    pub(crate) added: usize,
    /// Events of this update that were already in the window.
    pub(crate) duplicates: usize,
}

struct Window {
    events: EventWindow,
    as_of_us: i64,
}

struct Shard {
    map: LruCache<IpAddr, Window>,
    events: usize,
}

/// Every entity's window.
pub(crate) struct Windows {
    shards: Box<[Mutex<Shard>]>,
    policy: WindowPolicy,
    per_shard_events: usize,
    per_shard_entities: usize,
    hasher: std::hash::RandomState,
}

impl Windows {
    /// `config` must have passed [`crate::Config::check`] (total >= per entity).
    pub(crate) fn new(config: WindowConfig) -> Self {
        let policy = config.policy();
        let n = (config.max_total_events / policy.max_events.max(1)).clamp(1, MAX_SHARDS);
        let shards =
            (0..n).map(|_| Mutex::new(Shard { map: LruCache::unbounded(), events: 0 })).collect();
        Self {
            shards,
            policy,
            per_shard_events: (config.max_total_events / n).max(1),
            per_shard_entities: config.max_entities.div_ceil(n),
            hasher: std::hash::RandomState::new(),
        }
    }

    fn shard(&self, ip: &IpAddr) -> &Mutex<Shard> {
        let h = self.hasher.hash_one(ip);
        &self.shards[(h % self.shards.len() as u64) as usize]
    }

    /// The window policy.
    pub(crate) fn policy(&self) -> &WindowPolicy {
        &self.policy
    }

    /// Adds `new` (all from `ip`) to its window and returns the window after the change.
    pub(crate) fn append(&self, ip: IpAddr, new: Vec<Event>) -> Snapshot {
        let mut shard = self.shard(&ip).lock().unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *shard;
        let window = shard
            .map
            .get_or_insert_mut(ip, || Window { events: EventWindow::new(), as_of_us: i64::MIN });
        let before = window.events.len();
        let appended = window.events.append(&self.policy, new);
        if appended.changed {
            let newest =
                window.events.newest().map_or(i64::MIN, vigil_features::Timestamp::as_micros);
            window.as_of_us = newest.max(window.as_of_us.saturating_add(1));
        }
        let after = window.events.len();
        let snapshot = Snapshot {
            events: Arc::clone(window.events.events()),
            as_of_us: window.as_of_us,
            added: appended.added,
            duplicates: appended.duplicates,
        };
        shard.events = shard.events + after - before;
        // Evict the least recently updated entities (never the one just updated).
        while (shard.events > self.per_shard_events || shard.map.len() > self.per_shard_entities)
            && shard.map.len() > 1
        {
            if let Some((_, w)) = shard.map.pop_lru() {
                shard.events -= w.events.len();
            }
        }
        snapshot
    }

    /// The window of `ip` as it stands, if the entity is known.
    pub(crate) fn get(&self, ip: IpAddr) -> Option<Snapshot> {
        let shard = self.shard(&ip).lock().unwrap_or_else(PoisonError::into_inner);
        shard.map.peek(&ip).map(|w| Snapshot {
            events: Arc::clone(w.events.events()),
            as_of_us: w.as_of_us,
            added: 0,
            duplicates: 0,
        })
    }

    /// Entities and events held.
    pub(crate) fn size(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(n, e), shard| {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            (n + shard.map.len(), e + shard.events)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_features::{EventKind, Timestamp};

    fn event(ip: &str, secs: i64, user: &str) -> Event {
        let mut e = Event::new(
            Timestamp::from_secs(secs).unwrap(),
            ip.parse().unwrap(),
            EventKind::LoginFailed,
        );
        e.username = Some(user.into());
        e
    }

    fn config(per_entity: usize, entities: usize, total: usize) -> WindowConfig {
        WindowConfig {
            max_events_per_entity: per_entity,
            horizon_secs: 3600,
            max_entities: entities,
            max_total_events: total,
        }
    }

    #[test]
    fn events_are_ordered_deduplicated_and_bounded() {
        let w = Windows::new(config(3, 100, 1000));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let s = w.append(ip, vec![event("192.0.2.1", 20, "a"), event("192.0.2.1", 10, "b")]);
        assert_eq!((s.added, s.duplicates, s.events.len()), (2, 0, 2));
        assert_eq!(s.as_of_us, 20_000_000);
        assert_eq!(s.events[0].username.as_deref(), Some("b"));
        // A retried batch changes nothing, not even the as-of time.
        let again = w.append(ip, vec![event("192.0.2.1", 20, "a")]);
        assert_eq!((again.added, again.duplicates, again.as_of_us), (0, 1, 20_000_000));
        // A late event moves the as-of time forward by a microsecond.
        let late = w.append(ip, vec![event("192.0.2.1", 15, "c")]);
        assert_eq!((late.added, late.events.len(), late.as_of_us), (1, 3, 20_000_001));
        // Count bound: the oldest goes.
        let more = w.append(ip, vec![event("192.0.2.1", 30, "d")]);
        let users: Vec<_> = more.events.iter().map(|e| e.username.as_deref().unwrap()).collect();
        assert_eq!(users, ["c", "a", "d"]);
        assert_eq!(more.as_of_us, 30_000_000);
        // Age bound: more than an hour before the newest event goes.
        let later = w.append(ip, vec![event("192.0.2.1", 3625, "e")]);
        assert_eq!(later.events.len(), 2);
        assert_eq!(w.size(), (1, 2));
        assert_eq!(w.get(ip).unwrap().as_of_us, later.as_of_us);
        assert!(w.get("192.0.2.9".parse().unwrap()).is_none());
    }

    #[test]
    fn the_total_bound_holds_for_small_totals() {
        let w = Windows::new(config(20, 10_000, 160));
        for i in 0..2000u32 {
            let ip = format!("198.51.100.{}", i % 50);
            w.append(ip.parse().unwrap(), vec![event(&ip, i64::from(i), "x")]);
        }
        let (_, events) = w.size();
        assert!(events <= 160, "{events}");
    }

    #[test]
    fn entities_are_evicted_least_recently_updated_first() {
        let w = Windows::new(config(10, 16, 10_000));
        for i in 0..200u32 {
            let ip = format!("198.51.100.{}", i % 250);
            w.append(ip.parse().unwrap(), vec![event(&ip, i64::from(i), "x")]);
        }
        let (entities, events) = w.size();
        assert!(entities <= 16 + MAX_SHARDS, "{entities}");
        assert_eq!(entities, events);
        assert!(w.get("198.51.100.199".parse().unwrap()).is_some());
    }
}
