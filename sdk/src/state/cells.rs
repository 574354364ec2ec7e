//! The views of one key's state cells that user code reads and writes.

use super::{CellFactory, TimeDomain};
use crate::element::{Element, Key};
use crate::error::DoFnError;
use crate::time::Timestamp;
use crate::transforms::combine_fn::CombineFn;
use rustc_hash::{FxHashMap, FxHashSet};
use std::any::Any;
use std::collections::BTreeMap;

/// One key's cells in one window, by state index; empty until first used.
#[derive(Default)]
pub(crate) struct Slots(Vec<Option<Box<dyn Any + Send>>>);

impl Slots {
    /// The cell at `index`, made by its factory on first use.
    pub(crate) fn cell<T: Any>(&mut self, index: u32, factories: &[CellFactory]) -> Result<&mut T, DoFnError> {
        let i = index as usize;
        let factory = factories
            .get(i)
            .ok_or_else(|| DoFnError::new("a state handle that this DoFn did not declare (in `declare`)"))?;
        if self.0.len() <= i {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i]
            .get_or_insert_with(|| factory())
            .downcast_mut::<T>()
            .ok_or_else(|| DoFnError::new("a state handle of another type than the one declared at its index"))
    }

    /// Empties the cell at `index`.
    pub(crate) fn clear(&mut self, index: u32) {
        if let Some(slot) = self.0.get_mut(index as usize) {
            *slot = None;
        }
    }
}

/// A value cell: read, write, clear.
pub struct ValueCell<'a, T> {
    pub(crate) value: &'a mut Option<T>,
}

impl<T: Element> ValueCell<'_, T> {
    /// The value, if one was written.
    pub fn read(&self) -> Option<T> {
        self.value.clone()
    }
    /// The value by reference.
    pub fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }
    /// Replaces the value.
    pub fn write(&mut self, value: T) {
        *self.value = Some(value);
    }
    /// Forgets the value.
    pub fn clear(&mut self) {
        *self.value = None;
    }
}

/// A bag: add, read all, clear.
pub struct BagCell<'a, T> {
    pub(crate) values: &'a mut Vec<T>,
}

impl<T: Element> BagCell<'_, T> {
    /// Adds a value.
    pub fn add(&mut self, value: T) {
        self.values.push(value);
    }
    /// Every value added since the last clear.
    pub fn read(&self) -> &[T] {
        self.values
    }
    /// Whether the bag is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// Empties the bag.
    pub fn clear(&mut self) {
        self.values.clear();
    }
}

/// A combining cell: add inputs, read the combined output.
pub struct CombiningCell<'a, C: CombineFn> {
    pub(crate) acc: &'a mut Option<C::Acc>,
    pub(crate) combine: &'a C,
}

impl<C: CombineFn> CombiningCell<'_, C> {
    /// Adds an input to the accumulator.
    pub fn add(&mut self, input: C::In) {
        let c = self.combine;
        c.add_input(self.acc.get_or_insert_with(|| c.create_accumulator()), &input);
    }
    /// Merges another accumulator in.
    pub fn add_accumulator(&mut self, acc: C::Acc) {
        let c = self.combine;
        c.merge_accumulators(self.acc.get_or_insert_with(|| c.create_accumulator()), acc);
    }
    /// The output of the inputs added so far.
    pub fn read(&self) -> C::Out {
        let c = self.combine;
        c.extract_output(self.acc.clone().unwrap_or_else(|| c.create_accumulator()))
    }
    /// The accumulator.
    pub fn read_accumulator(&self) -> C::Acc {
        self.acc.clone().unwrap_or_else(|| self.combine.create_accumulator())
    }
    /// Starts over from an empty accumulator.
    pub fn clear(&mut self) {
        *self.acc = Some(self.combine.create_accumulator());
    }
}

/// A set of distinct values.
pub struct SetCell<'a, T> {
    pub(crate) values: &'a mut FxHashSet<T>,
}

impl<T: Key> SetCell<'_, T> {
    /// Adds a value; true if it was not there yet.
    pub fn add(&mut self, value: T) -> bool {
        self.values.insert(value)
    }
    /// Whether the set holds `value`.
    pub fn contains(&self, value: &T) -> bool {
        self.values.contains(value)
    }
    /// Removes a value; true if it was there.
    pub fn remove(&mut self, value: &T) -> bool {
        self.values.remove(value)
    }
    /// The values, in no particular order.
    pub fn read(&self) -> Vec<T> {
        self.values.iter().cloned().collect()
    }
    /// How many values it holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// Empties the set.
    pub fn clear(&mut self) {
        self.values.clear();
    }
}

/// A map from keys to values.
pub struct MapCell<'a, K, V> {
    pub(crate) map: &'a mut FxHashMap<K, V>,
}

impl<K: Key, V: Element> MapCell<'_, K, V> {
    /// Puts a value under `key`, replacing any.
    pub fn put(&mut self, key: K, value: V) {
        self.map.insert(key, value);
    }
    /// The value under `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }
    /// The value under `key`, put there by `init` first if absent (Beam's `computeIfAbsent`).
    pub fn get_or_insert_with(&mut self, key: K, init: impl FnOnce() -> V) -> &mut V {
        self.map.entry(key).or_insert_with(init)
    }
    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key)
    }
    /// The keys, in no particular order.
    pub fn keys(&self) -> Vec<K> {
        self.map.keys().cloned().collect()
    }
    /// The entries, in no particular order.
    pub fn entries(&self) -> Vec<(K, V)> {
        self.map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Empties the map.
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

/// Values sorted by timestamp; ties keep the order they were added in.
pub(crate) struct OrderedList<T> {
    entries: BTreeMap<(Timestamp, u64), T>,
    next: u64,
}

impl<T> Default for OrderedList<T> {
    fn default() -> Self {
        OrderedList { entries: BTreeMap::new(), next: 0 }
    }
}

/// An ordered list: values sorted by timestamp, read and cleared by range.
pub struct OrderedListCell<'a, T> {
    pub(crate) list: &'a mut OrderedList<T>,
}

impl<T: Element> OrderedListCell<'_, T> {
    /// Adds `value` at `timestamp`.
    pub fn add(&mut self, timestamp: Timestamp, value: T) {
        let seq = self.list.next;
        self.list.next += 1;
        self.list.entries.insert((timestamp, seq), value);
    }
    /// Every entry, in timestamp order.
    pub fn read(&self) -> Vec<(Timestamp, T)> {
        self.list.entries.iter().map(|(&(t, _), v)| (t, v.clone())).collect()
    }
    /// The entries with `from <= timestamp < to`, in timestamp order.
    pub fn read_range(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, T)> {
        if from >= to {
            return Vec::new();
        }
        self.list.entries.range((from, 0)..(to, 0)).map(|(&(t, _), v)| (t, v.clone())).collect()
    }
    /// Removes the entries with `from <= timestamp < to`.
    pub fn clear_range(&mut self, from: Timestamp, to: Timestamp) {
        if from >= to {
            return;
        }
        let keys: Vec<_> = self.list.entries.range((from, 0)..(to, 0)).map(|(k, _)| *k).collect();
        for k in keys {
            self.list.entries.remove(&k);
        }
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.list.entries.is_empty()
    }
    /// Empties the list.
    pub fn clear(&mut self) {
        self.list.entries.clear();
    }
}

/// Where the timers a context sets go (the engine's timer queue, bound to
/// the key and window being processed).
pub(crate) trait TimerSink {
    /// Sets (or resets) the timer `index`/`tag` to fire at `fire`, holding
    /// the output watermark at `output`.
    fn set(&mut self, index: u32, tag: &str, domain: TimeDomain, fire: Timestamp, output: Timestamp);
    /// Clears the timer `index`/`tag`, if set.
    fn clear(&mut self, index: u32, tag: &str, domain: TimeDomain);
}

/// One timer of the key and window being processed: set, reset or clear it.
pub struct TimerCell<'a> {
    pub(crate) sink: &'a mut dyn TimerSink,
    pub(crate) index: u32,
    pub(crate) tag: String,
    pub(crate) domain: TimeDomain,
    /// The output timestamp when none is given: the element's (or firing timer's).
    pub(crate) default_output: Timestamp,
    /// The runner's processing time, for relative processing-time timers.
    pub(crate) now: Timestamp,
    /// The last instant an event-time timer of this window may be set for.
    pub(crate) expiry: Timestamp,
}

impl TimerCell<'_> {
    /// Sets the timer to fire at `at` (replacing an earlier setting). An
    /// event-time timer holds the output watermark at its output timestamp,
    /// by default the timestamp of the element being processed.
    pub fn set(&mut self, at: Timestamp) -> Result<(), DoFnError> {
        let output = match self.domain {
            TimeDomain::EventTime => at,
            TimeDomain::ProcessingTime => self.default_output,
        };
        self.set_checked(at, output)
    }

    /// Sets the timer to fire `delay` after the current processing time
    /// (Beam's `offset(..).setRelative()`); for processing-time timers.
    pub fn set_relative(&mut self, delay: std::time::Duration) -> Result<(), DoFnError> {
        let at = self.now.plus_micros(crate::time::duration_micros(delay));
        self.set(at)
    }

    /// Sets the timer with an explicit output timestamp: what its callback
    /// emits is stamped with it, and the output watermark waits for it.
    pub fn set_with_output_timestamp(&mut self, at: Timestamp, output: Timestamp) -> Result<(), DoFnError> {
        if output < self.default_output {
            return Err(DoFnError::new(format!(
                "a timer's output timestamp {output:?} is before the timestamp of the current element or \
                 timer {:?}; output timestamps may not go back in time",
                self.default_output
            )));
        }
        self.set_checked(at, output)
    }

    fn set_checked(&mut self, at: Timestamp, output: Timestamp) -> Result<(), DoFnError> {
        if self.domain == TimeDomain::EventTime && at > self.expiry {
            return Err(DoFnError::new(format!(
                "Attempted to set an event-time timer for {at:?} after the expiration of its window, \
                 which expires at {:?} (the window's end plus the allowed lateness)",
                self.expiry
            )));
        }
        if output > at && self.domain == TimeDomain::EventTime {
            return Err(DoFnError::new(format!(
                "an event-time timer's output timestamp {output:?} is after its firing time {at:?}"
            )));
        }
        self.sink.set(self.index, &self.tag, self.domain, at, output);
        Ok(())
    }

    /// Clears the timer, if it is set.
    pub fn clear(&mut self) {
        self.sink.clear(self.index, &self.tag, self.domain);
    }
}
