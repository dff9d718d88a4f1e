//! Bounded in-memory event windows, one per source IP.
//!
//! A window holds an entity's events in event-time order: at most
//! `max_events_per_entity`, none older than `horizon_secs` before its newest event. All
//! windows together hold at most `max_total_events` events and `max_entities` entities;
//! beyond that the least recently updated entities are dropped. The bounds are split
//! evenly over lock shards, so each shard evicts on its own.
//!
//! A window never holds more than its shard's share of `max_total_events`, so the total
//! bound holds even when it is small.
//!
//! An event identical in every field to one already in the window is a duplicate and is
//! not added again: a log shipper that retries a batch (at-least-once delivery) does not
//! double-count.
//!
//! Each window has an *as-of* time that moves forward at every change: the newest event's
//! time, or one microsecond past the previous as-of when a change does not advance the
//! newest event (a late event, an eviction). The feature cache judges staleness by this
//! time, so a cached vector never stands for a window that has changed since it was
//! computed, late events included.

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use vigil_features::Event;

use crate::config::WindowConfig;

const SHARDS: usize = 16;

/// One entity's window after an update, or as it stands.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The events, in event-time order (shared, copy-on-write).
    pub(crate) events: Arc<Vec<Event>>,
    /// The as-of time (see the module docs), in Unix microseconds.
    pub(crate) as_of_us: i64,
    /// Events of this update that were added.
    pub(crate) added: usize,
    /// Events of this update that were already in the window.
    pub(crate) duplicates: usize,
}

struct Window {
    events: Arc<Vec<Event>>,
    /// Fingerprint of each event, same order as `events`.
    fingerprints: Vec<u64>,
    as_of_us: i64,
}

struct Shard {
    map: LruCache<IpAddr, Window>,
    events: usize,
}

/// Every entity's window.
pub(crate) struct Windows {
    shards: Box<[Mutex<Shard>]>,
    config: WindowConfig,
    /// `max_events_per_entity`, or less when one shard's share of the total is less.
    per_entity: usize,
    per_shard_events: usize,
    per_shard_entities: usize,
    hasher: std::hash::RandomState,
}

impl Windows {
    pub(crate) fn new(config: WindowConfig) -> Self {
        let shards = (0..SHARDS)
            .map(|_| Mutex::new(Shard { map: LruCache::unbounded(), events: 0 }))
            .collect();
        let per_shard_events = (config.max_total_events / SHARDS).max(1);
        Self {
            shards,
            config,
            per_entity: config.max_events_per_entity.min(per_shard_events),
            per_shard_events,
            per_shard_entities: config.max_entities.div_ceil(SHARDS),
            hasher: std::hash::RandomState::new(),
        }
    }

    fn shard(&self, ip: &IpAddr) -> &Mutex<Shard> {
        let h = self.hasher.hash_one(ip);
        &self.shards[(h % SHARDS as u64) as usize]
    }

    /// Adds `new` (all from `ip`) to its window and returns the window after the change.
    pub(crate) fn append(&self, ip: IpAddr, mut new: Vec<Event>) -> Snapshot {
        new.sort_by_key(|e| e.timestamp);
        let horizon =
            i64::try_from(self.config.horizon_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
        let mut shard = self.shard(&ip).lock().unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *shard;
        let window = shard.map.get_or_insert_mut(ip, || Window {
            events: Arc::new(Vec::new()),
            fingerprints: Vec::new(),
            as_of_us: i64::MIN,
        });
        let before = window.events.len();
        let (mut added, mut duplicates) = (0, 0);
        {
            let events = Arc::make_mut(&mut window.events);
            for event in new {
                let fp = fingerprint(&event);
                if window.fingerprints.contains(&fp) && events.contains(&event) {
                    duplicates += 1;
                    continue;
                }
                added += 1;
                if events.last().is_none_or(|last| last.timestamp <= event.timestamp) {
                    events.push(event);
                    window.fingerprints.push(fp);
                } else {
                    let at = events.partition_point(|e| e.timestamp <= event.timestamp);
                    events.insert(at, event);
                    window.fingerprints.insert(at, fp);
                }
            }
            // Bound by age (relative to the newest event), then by count, oldest first.
            let newest = events.last().map_or(i64::MIN, |e| e.timestamp.as_micros());
            let too_old = events
                .partition_point(|e| e.timestamp.as_micros() < newest.saturating_sub(horizon));
            let over = events.len().saturating_sub(too_old).saturating_sub(self.per_entity);
            let drop = too_old + over;
            if drop > 0 {
                events.drain(..drop);
                window.fingerprints.drain(..drop);
            }
        }
        let after = window.events.len();
        let changed = added > 0 || after != before + added;
        if changed {
            let newest = window.events.last().map_or(i64::MIN, |e| e.timestamp.as_micros());
            window.as_of_us = newest.max(window.as_of_us.saturating_add(1));
        }
        let snapshot = Snapshot {
            events: Arc::clone(&window.events),
            as_of_us: window.as_of_us,
            added,
            duplicates,
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
            events: Arc::clone(&w.events),
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

/// A 64-bit hash of every field of an event (the destructuring fails to compile when a
/// field is added, so none is forgotten). Equal fingerprints are confirmed with `==`.
fn fingerprint(event: &Event) -> u64 {
    let Event {
        timestamp,
        kind,
        src_ip,
        src_port,
        dst_ip,
        dst_host,
        dst_port,
        transport,
        app_proto,
        sensor,
        session,
        username,
        password,
        command,
        url,
        method,
        status,
        bytes_in,
        bytes_out,
        duration,
        signature,
        category,
        severity,
        client,
        event_id,
    } = event;
    let mut h = std::hash::DefaultHasher::new();
    (timestamp, kind, src_ip, src_port, dst_ip, dst_host, dst_port, transport, app_proto)
        .hash(&mut h);
    (sensor, session, username, password, command, url, method, status).hash(&mut h);
    (
        bytes_in,
        bytes_out,
        duration.map(f64::to_bits),
        signature,
        category,
        severity,
        client,
        event_id,
    )
        .hash(&mut h);
    h.finish()
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
        let w = Windows::new(config(1000, 10_000, 160));
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
        assert!(entities <= 16 + SHARDS, "{entities}");
        assert_eq!(entities, events);
        assert!(w.get("198.51.100.199".parse().unwrap()).is_some());
    }
}
