//! Pending windows by their end, so firing never scans what is not due.

use crate::time::Timestamp;
use crate::window::Window;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// The keys with state in each window, and the windows ordered by their
/// last instant. Recording a key in a window it already has costs one hash
/// lookup; the ordered set changes only when a window is new.
pub(crate) struct WindowIndex<K> {
    keys: FxHashMap<Window, Vec<K>>,
    ends: BTreeSet<(Timestamp, Window)>,
}

impl<K> Default for WindowIndex<K> {
    fn default() -> Self {
        WindowIndex { keys: FxHashMap::default(), ends: BTreeSet::new() }
    }
}

impl<K: Clone> WindowIndex<K> {
    /// Records that `key` has new state in `window` (call once per key and window).
    pub(crate) fn insert(&mut self, key: &K, window: Window) {
        match self.keys.get_mut(&window) {
            Some(keys) => keys.push(key.clone()),
            None => {
                self.ends.insert((window.max_timestamp(), window));
                self.keys.insert(window, vec![key.clone()]);
            }
        }
    }

    /// Takes the keys and windows the watermark has passed (all of them at
    /// the end of time), earliest window first.
    pub(crate) fn take_due(&mut self, watermark: Timestamp) -> Vec<(K, Window)> {
        let due = if watermark >= Timestamp::MAX {
            std::mem::take(&mut self.ends)
        } else {
            let later = self.ends.split_off(&(watermark, Window::Global));
            std::mem::replace(&mut self.ends, later)
        };
        let mut out = Vec::new();
        for (_, w) in due {
            if let Some(keys) = self.keys.remove(&w) {
                out.extend(keys.into_iter().map(|k| (k, w)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_only_windows_the_watermark_passed() {
        let w = |s| Window::interval(Timestamp::from_secs(s), Timestamp::from_secs(s + 1));
        let mut idx = WindowIndex::default();
        idx.insert(&"a", w(0));
        idx.insert(&"b", w(5));
        idx.insert(&"c", w(0));
        // Window [0, 1) ends at 0.999999: due at watermark 1s, not at 0.999999.
        assert!(idx.take_due(Timestamp::from_micros(999_999)).is_empty());
        assert_eq!(idx.take_due(Timestamp::from_secs(1)), vec![("a", w(0)), ("c", w(0))]);
        assert_eq!(idx.take_due(Timestamp::MAX), vec![("b", w(5))]);
    }
}
