//! Bounded in-memory event windows, one per source IP.
//!
//! Each entity's window follows the one window policy ([`vigil_features::EventWindow`]:
//! canonical order, no duplicates, horizon from the newest event, at most
//! `max_events_per_entity` events and `max_bytes_per_entity` bytes), so serving holds
//! exactly the events training extracts over.
//!
//! All windows together hold at most `max_entities` entities, `max_total_events` events and
//! `max_total_bytes` bytes, split evenly over lock shards (never more shards than fit a
//! full window each, so the totals hold). To stay under them whole entities are evicted,
//! and who goes is decided so that a flood of new sources cannot flush sources with real
//! activity (a segmented LRU with frequency-aware admission, after W-TinyLFU):
//!
//! - a new entity enters *probation*; an entity updated by a second request is a candidate
//!   for the *protected* segment (at most 80% of the entities), and is admitted when there
//!   is room or when it has been updated by more requests than the protected segment's
//!   least recently updated entity, which then moves back to probation;
//! - eviction takes probation's least recently updated entity first, and the protected
//!   segment only when probation is empty. A flood of one-request sources therefore only
//!   churns probation.
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
    /// Whether the entity is in the protected segment (it has real activity).
    pub(crate) established: bool,
}

struct Window {
    events: EventWindow,
    as_of_us: i64,
    /// Requests that added events to it (saturating).
    hits: u32,
}

impl Window {
    fn snapshot(&self, added: usize, duplicates: usize, established: bool) -> Snapshot {
        Snapshot {
            events: Arc::clone(self.events.events()),
            as_of_us: self.as_of_us,
            added,
            duplicates,
            established,
        }
    }
}

struct Shard {
    probation: LruCache<IpAddr, Window>,
    protected: LruCache<IpAddr, Window>,
    events: usize,
    bytes: usize,
    evicted: u64,
    /// The newest as-of time of any window this shard evicted: a window created later
    /// starts above it, so a vector cached for an evicted window is never taken as fresh
    /// for its successor.
    evicted_as_of: i64,
    /// Updates since the hit counts were last halved.
    updates: usize,
}

impl Shard {
    fn entities(&self) -> usize {
        self.probation.len() + self.protected.len()
    }
}

/// Every entity's window.
pub(crate) struct Windows {
    shards: Box<[Mutex<Shard>]>,
    policy: WindowPolicy,
    per_shard_events: usize,
    per_shard_bytes: usize,
    per_shard_entities: usize,
    protected_cap: usize,
    hasher: std::hash::RandomState,
}

/// What the windows hold, and entities evicted since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowStats {
    /// Entities with a window.
    pub entities: usize,
    /// Of those, entities with real activity (the protected segment).
    pub protected: usize,
    /// Events held.
    pub events: usize,
    /// Bytes of events held.
    pub bytes: usize,
    /// Entities evicted to stay within the bounds.
    pub evicted: u64,
}

impl Windows {
    /// `config` must have passed [`crate::Config::check`] (totals >= per entity).
    pub(crate) fn new(config: WindowConfig) -> Self {
        let policy = config.policy();
        let n = (config.max_total_events / policy.max_events.max(1))
            .min(config.max_total_bytes / policy.max_bytes.max(1))
            .clamp(1, MAX_SHARDS);
        let shards = (0..n)
            .map(|_| {
                Mutex::new(Shard {
                    probation: LruCache::unbounded(),
                    protected: LruCache::unbounded(),
                    events: 0,
                    bytes: 0,
                    evicted: 0,
                    evicted_as_of: i64::MIN,
                    updates: 0,
                })
            })
            .collect();
        let per_shard_entities = config.max_entities.div_ceil(n);
        Self {
            shards,
            policy,
            per_shard_events: (config.max_total_events / n).max(1),
            per_shard_bytes: (config.max_total_bytes / n).max(1),
            per_shard_entities,
            // 80%, written so that huge bounds (offline replays) cannot overflow.
            protected_cap: (per_shard_entities - per_shard_entities / 5).max(1),
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
        let mut guard = self.shard(&ip).lock().unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *guard;
        let (mut window, was_protected) = if let Some(w) = shard.protected.pop(&ip) {
            (w, true)
        } else if let Some(w) = shard.probation.pop(&ip) {
            (w, false)
        } else {
            let as_of_us = shard.evicted_as_of;
            (Window { events: EventWindow::new(), as_of_us, hits: 0 }, false)
        };
        let (events_before, bytes_before) = (window.events.len(), window.events.bytes());
        let appended = window.events.append(&self.policy, new);
        if appended.changed {
            let newest =
                window.events.newest().map_or(i64::MIN, vigil_features::Timestamp::as_micros);
            window.as_of_us = newest.max(window.as_of_us.saturating_add(1));
        }
        if appended.added > 0 {
            window.hits = window.hits.saturating_add(1);
        }
        shard.events = shard.events + window.events.len() - events_before;
        shard.bytes = shard.bytes + window.events.bytes() - bytes_before;
        let established = if was_protected {
            true
        } else if window.hits >= 2 {
            self.admit(shard, window.hits)
        } else {
            false
        };
        let snapshot = window.snapshot(appended.added, appended.duplicates, established);
        if established {
            shard.protected.put(ip, window);
        } else {
            shard.probation.put(ip, window);
        }
        self.evict(shard, ip);
        // Age the hit counts (as TinyLFU does): every ten updates per entity of room, all
        // are halved, so sources that were busy long ago do not hold the protected segment
        // against sources busy now. Amortised O(1) per update.
        shard.updates += 1;
        if shard.updates >= self.per_shard_entities.saturating_mul(10) {
            shard.updates = 0;
            for (_, w) in shard.probation.iter_mut().chain(shard.protected.iter_mut()) {
                w.hits /= 2;
            }
        }
        snapshot
    }

    /// Whether a candidate updated by `hits` requests enters the protected segment: when
    /// there is room, or by displacing a least recently updated entity with fewer hits
    /// (which moves back to probation).
    fn admit(&self, shard: &mut Shard, hits: u32) -> bool {
        if shard.protected.len() < self.protected_cap {
            return true;
        }
        match shard.protected.peek_lru() {
            Some((_, victim)) if victim.hits < hits => {
                if let Some((victim_ip, victim)) = shard.protected.pop_lru() {
                    shard.probation.put(victim_ip, victim);
                }
                true
            }
            _ => false,
        }
    }

    /// Evicts whole entities until the shard is within its bounds: probation first, then
    /// the protected segment, least recently updated first, never `keep`.
    fn evict(&self, shard: &mut Shard, keep: IpAddr) {
        while shard.events > self.per_shard_events
            || shard.bytes > self.per_shard_bytes
            || shard.entities() > self.per_shard_entities
        {
            let victim = match shard.probation.peek_lru() {
                Some((ip, _)) if *ip != keep => shard.probation.pop_lru(),
                _ => match shard.protected.peek_lru() {
                    Some((ip, _)) if *ip != keep => shard.protected.pop_lru(),
                    _ => None,
                },
            };
            let Some((_, w)) = victim else { break };
            shard.events -= w.events.len();
            shard.bytes -= w.events.bytes();
            shard.evicted += 1;
            shard.evicted_as_of = shard.evicted_as_of.max(w.as_of_us);
            metrics::counter!("vigil_window_evictions_total").increment(1);
        }
    }

    /// The window of `ip` as it stands, if the entity is known.
    pub(crate) fn get(&self, ip: IpAddr) -> Option<Snapshot> {
        let shard = self.shard(&ip).lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = shard.protected.peek(&ip) {
            return Some(w.snapshot(0, 0, true));
        }
        shard.probation.peek(&ip).map(|w| w.snapshot(0, 0, false))
    }

    /// What the windows hold.
    pub(crate) fn stats(&self) -> WindowStats {
        self.shards.iter().fold(WindowStats::default(), |t, shard| {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            WindowStats {
                entities: t.entities + shard.entities(),
                protected: t.protected + shard.protected.len(),
                events: t.events + shard.events,
                bytes: t.bytes + shard.bytes,
                evicted: t.evicted + shard.evicted,
            }
        })
    }

    /// Entities and events held.
    pub(crate) fn size(&self) -> (usize, usize) {
        let stats = self.stats();
        (stats.entities, stats.events)
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
            ..WindowConfig::default()
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

    #[test]
    fn a_flood_of_new_sources_does_not_evict_sources_with_real_activity() {
        let w = Windows::new(config(100, 640, 100_000));
        // 20 sources with real activity: several requests each.
        let active: Vec<String> = (0..20).map(|i| format!("198.51.100.{i}")).collect();
        for round in 0..5 {
            for ip in &active {
                w.append(ip.parse().unwrap(), vec![event(ip, round, &format!("u{round}"))]);
            }
        }
        // 10,000 one-event sources.
        for i in 0..10_000u32 {
            let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
            w.append(ip.parse().unwrap(), vec![event(&ip, 0, "x")]);
        }
        for ip in &active {
            let s = w.get(ip.parse().unwrap()).unwrap_or_else(|| panic!("{ip} was evicted"));
            assert_eq!(s.events.len(), 5);
            assert!(s.established);
        }
        let stats = w.stats();
        assert!(stats.entities <= 640 + MAX_SHARDS, "{stats:?}");
        assert!(stats.evicted >= 9_000, "{stats:?}");
    }

    #[test]
    fn the_byte_total_is_kept() {
        let config = WindowConfig {
            max_bytes_per_entity: 64 << 10,
            max_total_bytes: 1 << 20,
            ..WindowConfig::default()
        };
        let w = Windows::new(config);
        for i in 0..400u32 {
            let ip = format!("192.0.2.{}", i % 200);
            let mut e = event(&ip, i64::from(i), "x");
            e.command = Some("y".repeat(4096).into());
            w.append(ip.parse().unwrap(), vec![e]);
        }
        let stats = w.stats();
        assert!(stats.bytes <= 1 << 20, "{stats:?}");
        assert!(stats.evicted > 0, "{stats:?}");
    }

    #[test]
    fn a_window_created_after_an_eviction_starts_above_the_evicted_as_of() {
        let w = Windows::new(config(10, 16, 10_000));
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let first = w.append(ip, vec![event("198.51.100.7", 20, "a")]);
        assert_eq!(first.as_of_us, 20_000_000);
        // A flood evicts it.
        for i in 0..5000u32 {
            let other = format!("10.0.{}.{}", i >> 8, i & 255);
            w.append(other.parse().unwrap(), vec![event(&other, 0, "x")]);
        }
        assert!(w.get(ip).is_none());
        // It comes back with an older event: its as-of time is past every evicted one, so
        // a vector cached for the old window (as of 20 s) is stale.
        let again = w.append(ip, vec![event("198.51.100.7", 15, "b")]);
        assert!(again.as_of_us > 20_000_000, "{}", again.as_of_us);
    }

    #[test]
    fn sources_busy_long_ago_give_way_to_sources_busy_now() {
        // 16 entities of room over one shard: 12 protected.
        let w = Windows::new(WindowConfig {
            max_events_per_entity: 10_000,
            max_total_events: 10_000,
            max_entities: 16,
            ..WindowConfig::default()
        });
        let old: Vec<String> = (0..12).map(|i| format!("198.51.100.{i}")).collect();
        for round in 0..1000 {
            for ip in &old {
                w.append(ip.parse().unwrap(), vec![event(ip, round, &format!("u{round}"))]);
            }
        }
        // Now three others are busy and the old ones silent. Without ageing, 1,000 old
        // hits would keep them out for good.
        let new: Vec<String> = (0..3).map(|i| format!("203.0.113.{i}")).collect();
        for round in 0..60 {
            for ip in &new {
                w.append(ip.parse().unwrap(), vec![event(ip, 1000 + round, &format!("v{round}"))]);
            }
        }
        let established = new
            .iter()
            .filter(|ip| w.get(ip.parse().unwrap()).is_some_and(|s| s.established))
            .count();
        assert_eq!(established, 3, "only {established} of the busy sources are protected");
    }
}
