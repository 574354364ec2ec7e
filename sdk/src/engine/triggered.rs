//! Triggered grouping: a GroupByKey or combine whose windows fire by a
//! trigger (Beam's `ReduceFnRunner`). Each key and window keeps a pane
//! buffer, its trigger state and its pane counters; firings are looked up by
//! when they become due (the end of a window, its expiry, a trigger's
//! processing time), never by scanning every window.
//!
//! Pane timing follows Beam's Python `TriggerDriver`: a pane fired before
//! the watermark passes the end of its window is early; the first pane after
//! is on time if a watermark advance fired it, late otherwise. An on-time
//! pane fires even when empty; when the window expires (its end plus the
//! allowed lateness) what it still buffers fires as the last pane, and its
//! state is dropped. A trigger that finishes closes its window: what arrives
//! for it afterwards is dropped and counted.

use crate::batch::Batch;
use crate::element::{Element, Key, WindowedValue};
use crate::engine::grouping::drop_late;
use crate::engine::trigger_machine::{Moment, TriggerMachine, TriggerState};
use crate::engine::DROPPED_LATE;
use crate::error::Result;
use crate::exec::{KeyedOperator, Outputs};
use crate::metrics::MetricsContainer;
use crate::pane::{PaneInfo, PaneTiming};
use crate::time::Timestamp;
use crate::transforms::CombineFn;
use crate::trigger::AccumulationMode;
use crate::window::{TimestampCombiner, Window, WindowingStrategy};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// The counter of elements dropped because their window's trigger had
/// finished (Beam's `droppedDueToClosedWindow`).
pub const DROPPED_CLOSED: &str = "dropped_due_to_closed_window";

/// What a triggered grouping buffers per key and window, and emits.
pub(crate) trait PaneBuffer: Send + 'static {
    /// The key.
    type Key: Key;
    /// The value part of the input `(Key, In)`.
    type In: Element;
    /// The buffer of one pane (values, or a combine's accumulator).
    type Acc: Send;
    /// The value part of the output `(Key, Out)`.
    type Out: Element;
    /// An empty buffer.
    fn create(&self) -> Self::Acc;
    /// Adds a value.
    fn add(&self, acc: &mut Self::Acc, v: Self::In);
    /// The output of a buffer that is kept (accumulating mode).
    fn output(&self, acc: &Self::Acc) -> Self::Out;
    /// The output of a buffer that is emptied.
    fn take(&self, acc: Self::Acc) -> Self::Out;
    /// One buffer holding both (merging windows).
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
}

/// One key and window.
struct Pane<A> {
    acc: Option<A>,
    /// Whether elements came since the last firing.
    fresh: bool,
    /// The combined timestamp of the elements since the last firing.
    hold: Option<Timestamp>,
    trigger: TriggerState,
    index: u64,
    nonspeculative: u64,
    /// The processing time it is indexed at.
    due: Option<Timestamp>,
    /// The trigger finished: later elements are dropped until it expires.
    closed: bool,
}

/// What an event-time entry of the index stands for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Check {
    /// The watermark passed the end of the window.
    EndOfWindow,
    /// The window expired.
    Expiry,
}

/// A key and window with its pane.
type Slot<B> = ((<B as PaneBuffer>::Key, Window), Pane<<B as PaneBuffer>::Acc>);

/// The triggered grouping of one worker's keys.
pub(crate) struct TriggeredGrouping<B: PaneBuffer> {
    buffer: B,
    machine: TriggerMachine,
    windowing: WindowingStrategy,
    ids: FxHashMap<(B::Key, Window), u32>,
    slots: Vec<Option<Slot<B>>>,
    free: Vec<u32>,
    by_event_time: BTreeSet<(Timestamp, Check, u32)>,
    by_processing_time: BTreeSet<(Timestamp, u32)>,
    /// Merging windows: each key's live windows (disjoint, merged as
    /// elements arrive).
    sessions: FxHashMap<B::Key, Vec<Window>>,
    watermark: Timestamp,
    dropped_late: i64,
    dropped_closed: i64,
}

impl<B: PaneBuffer> TriggeredGrouping<B> {
    pub(crate) fn new(buffer: B, windowing: WindowingStrategy) -> Self {
        TriggeredGrouping {
            buffer,
            machine: TriggerMachine::new(&windowing.trigger),
            windowing,
            ids: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            by_event_time: BTreeSet::new(),
            by_processing_time: BTreeSet::new(),
            sessions: FxHashMap::default(),
            watermark: Timestamp::MIN,
            dropped_late: 0,
            dropped_closed: 0,
        }
    }

    fn expiry(&self, w: &Window) -> Timestamp {
        w.max_timestamp().plus_micros(self.windowing.allowed_lateness)
    }

    /// The slot of a key and window, made on first use.
    fn slot(&mut self, key: B::Key, window: Window) -> u32 {
        if let Some(&id) = self.ids.get(&(key.clone(), window)) {
            return id;
        }
        let pane = Pane {
            acc: None,
            fresh: false,
            hold: None,
            trigger: self.machine.fresh(),
            index: 0,
            nonspeculative: 0,
            due: None,
            closed: false,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(((key.clone(), window), pane));
                id
            }
            None => {
                self.slots.push(Some(((key.clone(), window), pane)));
                (self.slots.len() - 1) as u32
            }
        };
        if self.machine.watches_watermark() {
            self.by_event_time.insert((window.max_timestamp(), Check::EndOfWindow, id));
        }
        self.by_event_time.insert((self.expiry(&window), Check::Expiry, id));
        self.ids.insert((key, window), id);
        id
    }

    /// The window an element of `key` in the new session window `proto`
    /// goes to: `proto` merged with the key's live windows it overlaps, their
    /// panes merged into one (Beam's `ReduceFnRunner` on merging windows).
    /// The pane index and the non-speculative index restart from zero unless
    /// the merged window is one of the windows merged (as Beam's Python
    /// clears them for the windows merged away).
    fn merge_session(&mut self, key: &B::Key, proto: Window, now: Timestamp) -> Window {
        let mut all = self.sessions.get(key).cloned().unwrap_or_default();
        all.push(proto);
        let (idx, merged) = self.windowing.window_fn.merge(&all);
        let group = idx[all.len() - 1];
        let target = merged[group];
        let live = &all[..all.len() - 1];
        let merging: Vec<Window> = live.iter().zip(&idx).filter(|(_, &i)| i == group).map(|(w, _)| *w).collect();
        if merging == [target] {
            return target;
        }
        if merging.is_empty() {
            self.sessions.entry(key.clone()).or_default().push(target);
            return target;
        }
        let mut panes = Vec::new();
        for w in &merging {
            if let Some(&id) = self.ids.get(&(key.clone(), *w)) {
                if let Some((_, pane)) = self.remove(id) {
                    panes.push((*w == target, pane));
                }
            }
        }
        let at = Moment { watermark: self.watermark, now, window_end: target.max_timestamp() };
        let states: Vec<&TriggerState> = panes.iter().map(|(_, p)| &p.trigger).collect();
        let trigger = self.machine.merge(&states, at);
        let closed = self.machine.is_finished(&trigger);
        let kept = panes.iter().find(|(base, _)| *base).map(|(_, p)| (p.index, p.nonspeculative));
        let (index, nonspeculative) = kept.unwrap_or((0, 0));
        let combiner = self.windowing.timestamp_combiner;
        let mut acc: Option<B::Acc> = None;
        let (mut fresh, mut hold) = (false, None);
        for (_, p) in panes {
            acc = match (acc, p.acc) {
                (Some(a), Some(b)) => Some(self.buffer.merge(a, b)),
                (a, b) => a.or(b),
            };
            fresh |= p.fresh;
            hold = match (hold, p.hold) {
                (Some(a), Some(b)) => Some(combiner.combine(a, b)),
                (a, b) => a.or(b),
            };
        }
        self.sessions.entry(key.clone()).or_default().push(target);
        let id = self.slot(key.clone(), target);
        if let Some((_, pane)) = self.slots[id as usize].as_mut() {
            *pane = Pane {
                acc: if closed { None } else { acc },
                fresh: fresh && !closed,
                hold,
                trigger,
                index,
                nonspeculative,
                due: None,
                closed,
            };
        }
        self.reindex(id);
        target
    }

    /// Re-indexes a slot's processing-time firing after its trigger changed.
    fn reindex(&mut self, id: u32) {
        let Some((_, pane)) = self.slots[id as usize].as_mut() else { return };
        let due = if pane.closed { None } else { self.machine.next_due(&pane.trigger) };
        if due != pane.due {
            if let Some(old) = pane.due {
                self.by_processing_time.remove(&(old, id));
            }
            if let Some(new) = due {
                self.by_processing_time.insert((new, id));
            }
            pane.due = due;
        }
    }

    /// Fires slot `id` if its trigger says so (or unconditionally at
    /// expiry), emitting the pane into `out`.
    fn try_fire(
        &mut self,
        id: u32,
        at: Moment,
        by_watermark: bool,
        expiring: bool,
        out: &mut Vec<WindowedValue<(B::Key, B::Out)>>,
    ) {
        let discarding = self.windowing.accumulation_mode == AccumulationMode::Discarding;
        let combiner = self.windowing.timestamp_combiner;
        let Some(((key, window), pane)) = self.slots[id as usize].as_mut() else { return };
        if pane.closed {
            return;
        }
        let fires = self.machine.should_fire(&pane.trigger, at);
        if !fires && !expiring {
            return;
        }
        let finished = if fires { self.machine.on_fire(&mut pane.trigger, at) } else { false };
        // As Beam's Python: a pane is the last when its trigger finished; a
        // pane the window's expiry fires (not its trigger) is the last too.
        let last = finished || (expiring && (!fires || !by_watermark));
        // Empty: nothing new since the last pane (Beam's `NonEmptyPanes`),
        // whatever the accumulation mode.
        let empty = !pane.fresh;
        let (timing, nonspeculative) = if at.watermark <= window.max_timestamp() {
            (PaneTiming::Early, -1)
        } else {
            let ns = pane.nonspeculative as i64;
            let on_time = ns == 0 && (by_watermark || (expiring && self.windowing.allowed_lateness == 0));
            (if on_time { PaneTiming::OnTime } else { PaneTiming::Late }, ns)
        };
        // Empty panes fire only on time (and not as a bare expiry).
        if empty && !(timing == PaneTiming::OnTime && fires) {
            if last {
                pane.closed = true;
                pane.acc = None;
            }
            return;
        }
        if timing != PaneTiming::Early {
            pane.nonspeculative += 1;
        }
        let pane_info = PaneInfo::new(timing, pane.index == 0, last, pane.index, nonspeculative);
        pane.index += 1;
        let value = match pane.acc.take() {
            None => self.buffer.take(self.buffer.create()),
            Some(acc) if last || discarding => self.buffer.take(acc),
            Some(acc) => {
                let v = self.buffer.output(&acc);
                pane.acc = Some(acc);
                v
            }
        };
        let timestamp = match (combiner, pane.hold) {
            (TimestampCombiner::EndOfWindow, _) | (_, None) => window.max_timestamp(),
            (_, Some(t)) => t,
        };
        // As Beam's Python: an early pane keeps the hold when an on-time pane
        // follows, so the on-time pane's timestamp covers the whole window.
        if !(timing == PaneTiming::Early && self.machine.watches_watermark()) {
            pane.hold = None;
        }
        pane.fresh = false;
        if last {
            pane.closed = true;
            pane.acc = None;
        }
        out.push(WindowedValue { value: (key.clone(), value), timestamp, window: *window, pane: pane_info });
    }

    /// Forgets a slot (expired, or merged away), and returns it.
    fn remove(&mut self, id: u32) -> Option<Slot<B>> {
        let slot = self.slots[id as usize].take();
        if let Some((key, pane)) = &slot {
            let key = key.clone();
            if let Some(due) = pane.due {
                self.by_processing_time.remove(&(due, id));
            }
            // The id is reused: none of its entries may outlive it.
            self.by_event_time.remove(&(key.1.max_timestamp(), Check::EndOfWindow, id));
            self.by_event_time.remove(&(self.expiry(&key.1), Check::Expiry, id));
            if self.windowing.window_fn.is_merging() {
                if let Some(live) = self.sessions.get_mut(&key.0) {
                    live.retain(|w| *w != key.1);
                    if live.is_empty() {
                        self.sessions.remove(&key.0);
                    }
                }
            }
            self.ids.remove(&key);
            self.free.push(id);
        }
        slot
    }

    /// Fires what the watermark and the clock made due, in time order:
    /// windows whose end passed, windows that expired, then processing-time
    /// firings.
    fn fire_due(&mut self, watermark: Timestamp, now: Timestamp, out: &mut Vec<WindowedValue<(B::Key, B::Out)>>) {
        if watermark > self.watermark {
            self.watermark = watermark;
            while let Some(&(t, check, id)) = self.by_event_time.first() {
                if t >= watermark && watermark < Timestamp::MAX {
                    break;
                }
                self.by_event_time.pop_first();
                let Some(((_, window), _)) = &self.slots[id as usize] else { continue };
                let at = Moment { watermark, now, window_end: window.max_timestamp() };
                match check {
                    Check::EndOfWindow => {
                        let expiring = self.expiry(window) < watermark || watermark >= Timestamp::MAX;
                        self.try_fire(id, at, true, expiring, out);
                        self.reindex(id);
                        if expiring {
                            self.remove(id);
                        }
                    }
                    Check::Expiry => {
                        self.try_fire(id, at, false, true, out);
                        self.remove(id);
                    }
                }
            }
        }
        while let Some(&(t, id)) = self.by_processing_time.first() {
            if t > now {
                break;
            }
            self.by_processing_time.pop_first();
            let Some(((_, window), pane)) = self.slots[id as usize].as_mut() else { continue };
            pane.due = None;
            let at = Moment { watermark: self.watermark, now, window_end: window.max_timestamp() };
            self.try_fire(id, at, false, false, out);
            self.reindex(id);
        }
    }
}

impl<B: PaneBuffer> KeyedOperator for TriggeredGrouping<B> {
    fn add(&mut self, mut batch: Batch, watermark: Timestamp, now: Timestamp, out: &mut Outputs<'_>) -> Result<()> {
        // Lateness is judged by the watermark the input was sent at; windows
        // fire only by this step's input watermark (`advance`), which a
        // faster sender's watermark may be ahead of. Processing-time
        // firings that fell due fire first.
        let mut fired = Vec::new();
        self.fire_due(self.watermark, now, &mut fired);
        drop_late(&mut batch, watermark, self.windowing.allowed_lateness, &mut self.dropped_late);
        let combiner = self.windowing.timestamp_combiner;
        let mut touched = Vec::new();
        let merging = self.windowing.window_fn.is_merging();
        for WindowedValue { value: (k, v), timestamp, window, .. } in batch.downcast::<(B::Key, B::In)>()? {
            let window = if merging { self.merge_session(&k, window, now) } else { window };
            let id = self.slot(k, window);
            let Some((_, pane)) = self.slots[id as usize].as_mut() else { continue };
            if pane.closed {
                self.dropped_closed += 1;
                continue;
            }
            let acc = pane.acc.get_or_insert_with(|| self.buffer.create());
            self.buffer.add(acc, v);
            pane.hold = Some(pane.hold.map_or(timestamp, |h| combiner.combine(h, timestamp)));
            pane.fresh = true;
            self.machine.on_element(&mut pane.trigger, now);
            touched.push(id);
        }
        // As Beam's runners: a bundle's elements are added, then each window
        // they touched is asked whether to fire.
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            let Some(((_, window), _)) = &self.slots[id as usize] else { continue };
            let at = Moment { watermark: self.watermark, now, window_end: window.max_timestamp() };
            self.try_fire(id, at, false, false, &mut fired);
            self.reindex(id);
        }
        if fired.is_empty() {
            return Ok(());
        }
        out.push(0, Batch::new(fired))
    }

    fn advance(&mut self, watermark: Timestamp, now: Timestamp, out: &mut Outputs<'_>) -> Result<()> {
        let mut fired = Vec::new();
        self.fire_due(watermark, now, &mut fired);
        if fired.is_empty() {
            return Ok(());
        }
        out.push(0, Batch::new(fired))
    }

    fn next_wakeup(&self) -> Option<Timestamp> {
        self.by_processing_time.first().map(|&(t, _)| t)
    }

    fn take_metrics(&mut self) -> MetricsContainer {
        let mut m = MetricsContainer::default();
        if self.dropped_late > 0 {
            m.inc_counter(DROPPED_LATE, std::mem::take(&mut self.dropped_late));
        }
        if self.dropped_closed > 0 {
            m.inc_counter(DROPPED_CLOSED, std::mem::take(&mut self.dropped_closed));
        }
        m
    }
}

/// A combine's panes: one accumulator.
pub(crate) struct Accumulate<K, C>(C, std::marker::PhantomData<fn() -> K>);

impl<K, C> Accumulate<K, C> {
    pub(crate) fn new(c: C) -> Self {
        Accumulate(c, std::marker::PhantomData)
    }
}

impl<K: Key, C: CombineFn> PaneBuffer for Accumulate<K, C> {
    type Key = K;
    type In = C::In;
    type Acc = C::Acc;
    type Out = C::Out;
    fn create(&self) -> C::Acc {
        self.0.create_accumulator()
    }
    fn add(&self, acc: &mut C::Acc, v: C::In) {
        self.0.add_input(acc, &v);
    }
    fn output(&self, acc: &C::Acc) -> C::Out {
        self.0.extract_output(acc.clone())
    }
    fn take(&self, acc: C::Acc) -> C::Out {
        self.0.extract_output(acc)
    }
    fn merge(&self, mut a: C::Acc, b: C::Acc) -> C::Acc {
        self.0.merge_accumulators(&mut a, b);
        a
    }
}

/// A lifted combine's panes: one accumulator, merging the pre-combined
/// accumulators that arrive.
pub(crate) struct MergeAccumulators<K, C>(C, std::marker::PhantomData<fn() -> K>);

impl<K, C> MergeAccumulators<K, C> {
    pub(crate) fn new(c: C) -> Self {
        MergeAccumulators(c, std::marker::PhantomData)
    }
}

impl<K: Key, C: CombineFn> PaneBuffer for MergeAccumulators<K, C> {
    type Key = K;
    type In = C::Acc;
    type Acc = C::Acc;
    type Out = C::Out;
    fn create(&self) -> C::Acc {
        self.0.create_accumulator()
    }
    fn add(&self, acc: &mut C::Acc, v: C::Acc) {
        self.0.merge_accumulators(acc, v);
    }
    fn output(&self, acc: &C::Acc) -> C::Out {
        self.0.extract_output(acc.clone())
    }
    fn take(&self, acc: C::Acc) -> C::Out {
        self.0.extract_output(acc)
    }
    fn merge(&self, mut a: C::Acc, b: C::Acc) -> C::Acc {
        self.0.merge_accumulators(&mut a, b);
        a
    }
}

/// A GroupByKey's panes: the values.
pub(crate) struct Values<K, V>(std::marker::PhantomData<fn() -> (K, V)>);

impl<K, V> Values<K, V> {
    pub(crate) fn new() -> Self {
        Values(std::marker::PhantomData)
    }
}

impl<K: Key, V: Element> PaneBuffer for Values<K, V> {
    type Key = K;
    type In = V;
    type Acc = Vec<V>;
    type Out = Vec<V>;
    fn create(&self) -> Vec<V> {
        Vec::new()
    }
    fn add(&self, acc: &mut Vec<V>, v: V) {
        acc.push(v);
    }
    fn output(&self, acc: &Vec<V>) -> Vec<V> {
        acc.clone()
    }
    fn take(&self, acc: Vec<V>) -> Vec<V> {
        acc
    }
    fn merge(&self, mut a: Vec<V>, b: Vec<V>) -> Vec<V> {
        a.extend(b);
        a
    }
}
