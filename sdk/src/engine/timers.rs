//! The timers of one keyed operator, indexed by when they become due.

use crate::state::TimeDomain;
use crate::time::Timestamp;
use crate::window::Window;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// The timer index of a window's expiry (state garbage collection).
pub(crate) const EXPIRY: u32 = u32::MAX;

/// A key of the operator, by the id it gave the key's encoding.
pub(crate) type KeyId = u64;

#[derive(Clone, PartialEq, Eq)]
struct TimerId {
    key: KeyId,
    window: Window,
    index: u32,
    tag: String,
}

/// Mixes the bits of `x` (splitmix64's finalizer): the fast key hash alone
/// spreads small structured ids (a key id, a window, a timer index) poorly.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn window_bits(w: &Window) -> u64 {
    match w {
        Window::Global => 0,
        Window::Interval { start, end } => (start.as_micros() as u64) ^ (end.as_micros() as u64).rotate_left(32),
    }
}

impl std::hash::Hash for TimerId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let tag = if self.tag.is_empty() { 0 } else { crate::key_hash(self.tag.as_str()) };
        let bits = mix(self.key ^ mix(window_bits(&self.window))) ^ u64::from(self.index) ^ tag.rotate_left(21);
        state.write_u64(mix(bits));
    }
}

struct Entry {
    fire: Timestamp,
    seq: u64,
    output: Timestamp,
    domain: TimeDomain,
}

/// A timer that became due, taken out of the queue.
pub(crate) struct Due {
    pub(crate) key: KeyId,
    pub(crate) window: Window,
    pub(crate) index: u32,
    pub(crate) tag: String,
    pub(crate) domain: TimeDomain,
    pub(crate) fire: Timestamp,
    pub(crate) output: Timestamp,
}

/// Set timers by identity, and ordered by firing time per domain, so finding
/// what is due never scans what is not. In event time a window's expiry comes
/// after the user timers of the same instant (which may still read state).
/// Which timers a key has in a window is the operator's to track (next to
/// the window's state, where setting a timer as it already is costs nothing).
#[derive(Default)]
pub(crate) struct TimerQueue {
    set: FxHashMap<TimerId, Entry>,
    event: BTreeMap<(Timestamp, bool, u64), TimerId>,
    processing: BTreeMap<(Timestamp, u64), TimerId>,
    /// Output timestamps of set timers (a multiset): the watermark hold.
    holds: BTreeMap<Timestamp, usize>,
    seq: u64,
}

impl TimerQueue {
    fn remove_id(&mut self, id: &TimerId) -> Option<Entry> {
        let e = self.set.remove(id)?;
        match e.domain {
            TimeDomain::EventTime => self.event.remove(&(e.fire, id.index == EXPIRY, e.seq)),
            TimeDomain::ProcessingTime => self.processing.remove(&(e.fire, e.seq)),
        };
        if id.index != EXPIRY {
            if let Some(n) = self.holds.get_mut(&e.output) {
                *n -= 1;
                if *n == 0 {
                    self.holds.remove(&e.output);
                }
            }
        }
        Some(e)
    }

    /// Sets (or resets) timer `index`/`tag` of `key` in `window`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert(
        &mut self,
        key: KeyId,
        window: Window,
        index: u32,
        tag: &str,
        domain: TimeDomain,
        fire: Timestamp,
        output: Timestamp,
    ) {
        let id = TimerId { key, window, index, tag: tag.to_string() };
        self.remove_id(&id);
        self.seq += 1;
        let seq = self.seq;
        match domain {
            TimeDomain::EventTime => self.event.insert((fire, index == EXPIRY, seq), id.clone()),
            TimeDomain::ProcessingTime => self.processing.insert((fire, seq), id.clone()),
        };
        if index != EXPIRY {
            *self.holds.entry(output).or_insert(0) += 1;
        }
        self.set.insert(id, Entry { fire, seq, output, domain });
    }

    /// Sets the expiry of `key`'s state in `window` (holds no watermark).
    pub(crate) fn insert_expiry(&mut self, key: KeyId, window: Window, at: Timestamp) {
        self.insert(key, window, EXPIRY, "", TimeDomain::EventTime, at, at);
    }

    /// Clears timer `index`/`tag` of `key` in `window`, if set.
    pub(crate) fn remove(&mut self, key: KeyId, window: Window, index: u32, tag: &str) {
        self.remove_id(&TimerId { key, window, index, tag: tag.to_string() });
    }

    /// Takes the earliest timer due: an event-time timer before `watermark`
    /// (every one once the watermark is at the end of time), else a
    /// processing-time timer at or before `now` (every one once `now` is at
    /// the end of time), else a window's expiry: a window's state outlives
    /// every timer of it that is due.
    pub(crate) fn pop_due(&mut self, watermark: Timestamp, now: Timestamp) -> Option<Due> {
        let event = self
            .event
            .first_key_value()
            .filter(|((fire, _, _), _)| *fire < watermark || watermark >= Timestamp::MAX)
            .map(|((_, expiry, _), id)| (*expiry, id.clone()));
        let processing = || {
            self.processing
                .first_key_value()
                .filter(|((fire, _), _)| *fire <= now || now >= Timestamp::MAX)
                .map(|(_, id)| id.clone())
        };
        let id = match event {
            Some((false, id)) => id,
            Some((true, expiry)) => processing().unwrap_or(expiry),
            None => processing()?,
        };
        let e = self.remove_id(&id)?;
        Some(Due {
            key: id.key,
            window: id.window,
            index: id.index,
            tag: id.tag,
            domain: e.domain,
            fire: e.fire,
            output: e.output,
        })
    }

    /// The earliest output timestamp of a set timer.
    pub(crate) fn hold(&self) -> Option<Timestamp> {
        self.holds.first_key_value().map(|(t, _)| *t)
    }

    /// When the earliest processing-time timer is due.
    pub(crate) fn next_processing_time(&self) -> Option<Timestamp> {
        self.processing.first_key_value().map(|((t, _), _)| *t)
    }

    /// How many timers are set (window expiries included).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    #[test]
    fn timers_fire_in_time_order_and_reset_replaces() {
        let mut q = TimerQueue::default();
        let w = Window::Global;
        let ev = TimeDomain::EventTime;
        q.insert(1, w, 0, "", ev, t(5), t(5));
        q.insert(2, w, 0, "", ev, t(3), t(3));
        q.insert(1, w, 0, "", ev, t(1), t(1)); // resets 1's timer
        assert_eq!(q.len(), 2);
        assert_eq!(q.hold(), Some(t(1)));
        assert!(q.pop_due(t(1), Timestamp::MIN).is_none(), "a timer fires only once the watermark passes it");
        let first = q.pop_due(t(10), Timestamp::MIN).unwrap();
        assert_eq!((first.key, first.fire), (1, t(1)));
        assert_eq!(q.pop_due(t(10), Timestamp::MIN).unwrap().key, 2);
        assert!(q.pop_due(t(10), Timestamp::MIN).is_none());
        assert_eq!(q.hold(), None);
    }

    #[test]
    fn expiry_comes_after_due_user_timers() {
        let mut q = TimerQueue::default();
        let w = Window::interval(t(0), t(10));
        q.insert_expiry(7, w, t(9));
        q.insert(7, w, 0, "", TimeDomain::EventTime, t(9), t(9));
        q.insert(7, w, 1, "x", TimeDomain::ProcessingTime, t(100), t(2));
        assert_eq!(q.pop_due(t(20), Timestamp::MIN).unwrap().index, 0);
        assert_eq!(q.pop_due(t(20), Timestamp::MIN).unwrap().index, EXPIRY);
        q.remove(7, w, 1, "x");
        assert_eq!(q.len(), 0);
        assert_eq!(q.hold(), None);
        assert_eq!(q.next_processing_time(), None);
    }
}
