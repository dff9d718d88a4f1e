//! The window policy: which of an entity's events its features are computed over. Defined
//! once, here, and used by serving (vigil-engine's per-IP windows) and by training
//! (`vigil-eval features`, retrain's base extraction), so both see the same events.
//!
//! An [`EventWindow`] holds one entity's events in [`Event::canonical_cmp`] order (a total
//! order: time first, then every field), without duplicates, none older than
//! [`WindowPolicy::horizon_secs`] before its newest event, and at most
//! [`WindowPolicy::max_events`] of them (the newest in that order). Because the order is
//! total and both bounds only ever drop the oldest events, the window after a stream of
//! appends depends only on the set of events appended, not on how the stream was split into
//! batches nor on the order they arrived in: an event dropped once would be dropped again.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::intel::Feeds;
use crate::schema::SCHEMA_VERSION;
use crate::{Event, FeatureError, FeatureVector, Result, extract_with};

/// Which events of an entity make its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowPolicy {
    /// Events older than this many seconds before the window's newest event are dropped
    /// (default 86,400: 24 h, the longest feature window).
    pub horizon_secs: u64,
    /// Most events kept per entity, the newest (default 1,000).
    pub max_events: usize,
    /// Most bytes ([`Event::approx_bytes`]) kept per entity, the newest events (default
    /// 2 MiB: 1,000 events of 2 KiB; strings are cut to their budgets at parse, so one
    /// event is at most about 8 KiB).
    pub max_bytes: usize,
}

impl Default for WindowPolicy {
    fn default() -> Self {
        Self { horizon_secs: 86_400, max_events: 1000, max_bytes: 2 << 20 }
    }
}

impl WindowPolicy {
    /// Errors for a policy that keeps nothing.
    pub fn check(&self) -> Result<()> {
        if self.max_events == 0 || self.horizon_secs == 0 || self.max_bytes == 0 {
            return Err(FeatureError::InvalidPolicy {
                reason: format!(
                    "max_events ({}), horizon_secs ({}) and max_bytes ({}) must be positive",
                    self.max_events, self.horizon_secs, self.max_bytes
                ),
            });
        }
        Ok(())
    }

    fn horizon_us(&self) -> i64 {
        i64::try_from(self.horizon_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX)
    }
}

/// What one [`EventWindow::append`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    /// Events that were not in the window yet and were inserted (some may have been
    /// dropped at once by the bounds). Events at or below what a bound dropped before are
    /// neither added nor duplicates: they change nothing.
    pub added: usize,
    /// Events identical in every field to one already in the window (a retried batch).
    pub duplicates: usize,
    /// Whether the window's content changed.
    pub changed: bool,
}

/// One entity's window (see the module docs). Cloning is cheap: the events are shared
/// copy-on-write.
#[derive(Debug, Clone, Default)]
pub struct EventWindow {
    events: Arc<Vec<Event>>,
    /// The sum of the events' [`Event::approx_bytes`].
    bytes: usize,
    /// The newest event ever dropped by a bound: nothing at or below it is kept again.
    /// Without it, the byte budget would let an older, smaller late event fill the room a
    /// newer, larger one was dropped for, and the window would depend on arrival order.
    floor: Option<Box<Event>>,
}

impl EventWindow {
    /// An empty window.
    pub fn new() -> Self {
        Self::default()
    }

    /// The window of `events` (any order) under `policy`.
    pub fn of(policy: &WindowPolicy, events: Vec<Event>) -> Self {
        let mut window = Self::new();
        window.append(policy, events);
        window
    }

    /// Adds `new` to the window and applies the bounds.
    pub fn append(&mut self, policy: &WindowPolicy, mut new: Vec<Event>) -> Appended {
        new.sort_by(Event::canonical_cmp);
        let events = Arc::make_mut(&mut self.events);
        let (mut added, mut duplicates) = (0, 0);
        for event in new {
            if self.floor.as_ref().is_some_and(|f| event.canonical_cmp(f).is_le()) {
                // Below what a bound already dropped: it would be dropped again, and it
                // changes nothing (not even the entity's activity count).
                continue;
            }
            // `Ok`: already there; `Err(at)`: goes at `at`. Appending in order is the common
            // case (a log read forwards).
            let at = match events.last() {
                None => Err(0),
                Some(last) if last.canonical_cmp(&event).is_lt() => Err(events.len()),
                Some(_) => events.binary_search_by(|e| e.canonical_cmp(&event)),
            };
            match at {
                Ok(_) => duplicates += 1,
                Err(at) => {
                    added += 1;
                    events.insert(at, event);
                }
            }
        }
        // Bound by age (relative to the newest event), then by count, then by bytes; oldest
        // first.
        let newest = events.last().map_or(i64::MIN, |e| e.timestamp.as_micros());
        let oldest_kept = newest.saturating_sub(policy.horizon_us());
        let too_old = events.partition_point(|e| e.timestamp.as_micros() < oldest_kept);
        let mut drop =
            too_old + events.len().saturating_sub(too_old).saturating_sub(policy.max_events);
        let mut bytes: usize = events[drop..].iter().map(Event::approx_bytes).sum();
        while bytes > policy.max_bytes && drop < events.len() {
            bytes -= events[drop].approx_bytes();
            drop += 1;
        }
        if drop > 0 {
            self.floor = events.drain(..drop).next_back().map(Box::new);
        }
        self.bytes = bytes;
        Appended { added, duplicates, changed: added > 0 || drop > 0 }
    }

    /// The events, in canonical order.
    pub fn events(&self) -> &Arc<Vec<Event>> {
        &self.events
    }

    /// How many events the window holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// The bytes the window holds ([`Event::approx_bytes`] summed).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The newest event's time, if any.
    pub fn newest(&self) -> Option<crate::Timestamp> {
        self.events.last().map(|e| e.timestamp)
    }

    /// The oldest event's time, if any.
    pub fn oldest(&self) -> Option<crate::Timestamp> {
        self.events.first().map(|e| e.timestamp)
    }
}

/// How events become feature vectors: the window policy and a snapshot of the threat-intel
/// feeds. Serving and training each build one from the same configuration, so a vector
/// computed for training is the vector serving would compute for the same events.
#[derive(Debug, Clone)]
pub struct Featurizer {
    /// The window policy.
    pub policy: WindowPolicy,
    /// The feeds.
    pub feeds: Arc<Feeds>,
}

impl Default for Featurizer {
    /// The default policy and no feeds.
    fn default() -> Self {
        Self::new(WindowPolicy::default(), Arc::new(Feeds::default()))
    }
}

impl Featurizer {
    /// A featurizer with `policy` and `feeds`.
    pub fn new(policy: WindowPolicy, feeds: Arc<Feeds>) -> Self {
        Self { policy, feeds }
    }

    /// The features of a window.
    pub fn extract(&self, window: &EventWindow) -> FeatureVector {
        extract_with(window.events(), &self.feeds)
    }

    /// Every source's window, as serving would hold it after ingesting `events` (any order,
    /// any batch split).
    pub fn windows(&self, events: Vec<Event>) -> BTreeMap<IpAddr, EventWindow> {
        crate::group_by_source(events)
            .into_iter()
            .map(|(ip, events)| (ip, EventWindow::of(&self.policy, events)))
            .collect()
    }

    /// Every source's features, as serving would compute them after ingesting `events`.
    pub fn vectors(&self, events: Vec<Event>) -> BTreeMap<IpAddr, FeatureVector> {
        self.windows(events).into_iter().map(|(ip, w)| (ip, self.extract(&w))).collect()
    }

    /// A name for what this featurizer computes: the schema version, then a digest of the
    /// policy and the feeds' contents. Cached vectors are keyed by it, so a change of feeds
    /// or policy never serves a vector computed under the old ones. At most 64 characters
    /// of `[A-Za-z0-9._-]`.
    pub fn version(&self) -> String {
        let mut h = crate::intel::Fnv::new();
        h.write(&self.policy.horizon_secs.to_le_bytes());
        h.write(&(self.policy.max_events as u64).to_le_bytes());
        h.write(&(self.policy.max_bytes as u64).to_le_bytes());
        h.write(self.feeds.version().as_bytes());
        format!("{SCHEMA_VERSION}.{:016x}", h.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventKind, Timestamp};

    fn event(secs: i64, user: &str) -> Event {
        let mut e = Event::new(
            Timestamp::from_secs(secs).unwrap(),
            "192.0.2.1".parse().unwrap(),
            EventKind::LoginFailed,
        );
        e.username = Some(user.into());
        e
    }

    fn users(w: &EventWindow) -> Vec<&str> {
        w.events().iter().map(|e| e.username.as_deref().unwrap()).collect()
    }

    #[test]
    fn events_are_ordered_deduplicated_and_bounded() {
        let policy = WindowPolicy { horizon_secs: 3600, max_events: 3, ..WindowPolicy::default() };
        let mut w = EventWindow::new();
        let a = w.append(&policy, vec![event(20, "a"), event(10, "b")]);
        assert_eq!((a.added, a.duplicates, a.changed), (2, 0, true));
        assert_eq!(users(&w), ["b", "a"]);
        let a = w.append(&policy, vec![event(20, "a"), event(10, "b")]);
        assert_eq!((a.added, a.duplicates, a.changed), (0, 2, false));
        w.append(&policy, vec![event(30, "c"), event(40, "d")]);
        assert_eq!(users(&w), ["a", "c", "d"]);
        // Past the horizon of the newest event.
        w.append(&policy, vec![event(3625, "e")]);
        assert_eq!(users(&w), ["c", "d", "e"]);
        w.append(&policy, vec![event(3700, "f")]);
        assert_eq!(users(&w), ["e", "f"]);
        // A late event older than what the horizon dropped changes nothing.
        let a = w.append(&policy, vec![event(5, "z")]);
        assert_eq!((a.added, a.changed), (0, false));
        assert_eq!(users(&w), ["e", "f"]);
    }

    #[test]
    fn ties_in_time_are_ordered_by_content_whatever_the_arrival() {
        let policy = WindowPolicy { horizon_secs: 3600, max_events: 2, ..WindowPolicy::default() };
        let one = EventWindow::of(&policy, vec![event(1, "x"), event(1, "a"), event(1, "m")]);
        let mut two = EventWindow::new();
        for u in ["m", "x", "a"] {
            two.append(&policy, vec![event(1, u)]);
        }
        assert_eq!(users(&one), ["m", "x"]);
        assert_eq!(users(&two), users(&one));
    }

    #[test]
    fn the_byte_budget_keeps_the_newest_events_that_fit() {
        let big = |secs: i64| {
            let mut e = event(secs, "u");
            e.command = Some("x".repeat(4000).into());
            e
        };
        let one = big(0).approx_bytes();
        let policy = WindowPolicy { max_bytes: 3 * one, ..WindowPolicy::default() };
        let mut w = EventWindow::new();
        for t in 0..10 {
            w.append(&policy, vec![big(t)]);
            assert!(w.bytes() <= policy.max_bytes, "{}", w.bytes());
        }
        assert_eq!(w.len(), 3);
        assert_eq!(w.oldest(), Timestamp::from_secs(7));
        assert_eq!(w.bytes(), 3 * one);
    }

    #[test]
    fn a_late_small_event_cannot_take_the_room_of_a_dropped_newer_one() {
        let sized = |secs: i64, n: usize| {
            let mut e = event(secs, "u");
            e.command = Some("x".repeat(n).into());
            e
        };
        let base = sized(0, 0).approx_bytes();
        let policy = WindowPolicy { max_bytes: 3 * base + 330, ..WindowPolicy::default() };
        // In one go: the newest two fit (100 + 100); the 200-byte one before them does not,
        // so neither does anything older.
        let all = vec![sized(1, 20), sized(2, 200), sized(3, 100), sized(4, 100)];
        let one = EventWindow::of(&policy, all.clone());
        assert_eq!(one.len(), 2);
        // Arriving newest first, the 20-byte event would fit the room the 200-byte one left.
        let mut w = EventWindow::new();
        for e in all.into_iter().rev() {
            w.append(&policy, vec![e]);
        }
        assert_eq!(w.events(), one.events());
    }

    #[test]
    fn zero_bounds_are_refused() {
        let e = WindowPolicy { horizon_secs: 0, ..WindowPolicy::default() }.check().unwrap_err();
        assert!(e.to_string().contains("horizon_secs (0)"), "{e}");
        assert!(WindowPolicy::default().check().is_ok());
    }

    #[test]
    fn the_version_names_policy_and_feeds() {
        let f = Featurizer::new(WindowPolicy::default(), Arc::new(Feeds::default()));
        let v = f.version();
        assert!(v.starts_with("v2.") && v.len() == 19, "{v}");
        let mut other = f.clone();
        other.policy.max_events = 10;
        assert_ne!(other.version(), v);
        assert_eq!(f.clone().version(), v);
    }
}
