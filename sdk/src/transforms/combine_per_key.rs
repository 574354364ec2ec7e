//! `CombinePerKey`: a per-key aggregation, lifted by runners that can.

use crate::batch::{Batch, BatchCodec, TypedCodec};
use crate::coder::SerdeCoder;
use crate::element::Key;
use crate::element::WindowedValue;
use crate::engine::grouping::Grouping;
use crate::engine::key_groups::partition_by_key;
use crate::engine::triggered::{Accumulate, MergeAccumulators, TriggeredGrouping};
use crate::engine::window_index::WindowIndex;
use crate::error::{Error, Result};
use crate::exec::{CombinePhase, Executable, GroupState, KeyedExec, KeyedOperator, NodeBuilder};
use crate::graph::urns;
use crate::pane::PaneInfo;
use crate::pipeline::{PCollection, PTransform};
use crate::time::Timestamp;
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_values::CombineValues;
use crate::transforms::group_by_key::GroupByKey;
use crate::transforms::pardo::{panic_message, user_error};
use crate::window::{TimestampCombiner, Window, WindowFn, WindowingStrategy};
use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::hash_map::Entry;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Combines the values of each key (per window) with a [`CombineFn`].
///
/// A composite of `GroupByKey` and `CombineValues`, marked with its own URN
/// (`beamline:transform:combine_per_key:v1`) so a runner may replace it by
/// pre-combining before the shuffle.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let s = p
///     .apply(Create::new(vec![("a".to_string(), 1i64), ("a".into(), 2), ("b".into(), 5)]))
///     .apply(Combine::per_key(Sum::<i64>::new()));
/// assert_that(&s, contains_in_any_order(vec![("a".to_string(), 3i64), ("b".to_string(), 5)]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct CombinePerKey<K, C> {
    c: C,
    _k: PhantomData<fn() -> K>,
}

impl<K: Key, C: CombineFn> CombinePerKey<K, C> {
    pub(crate) fn new(c: C) -> Self {
        CombinePerKey { c, _k: PhantomData }
    }
}

impl<K: Key, C: CombineFn + Serialize + DeserializeOwned> PTransform<PCollection<(K, C::In)>> for CombinePerKey<K, C> {
    type Output = PCollection<(K, C::Out)>;
    fn default_label(&self) -> String {
        format!("CombinePerKey({})", self.c.name())
    }
    fn expand(self, input: PCollection<(K, C::In)>) -> PCollection<(K, C::Out)> {
        let payload = crate::graph::to_payload(&self.c).unwrap_or_default();
        let c = self.c.clone();
        let builder: NodeBuilder = Arc::new(move |ctx| {
            let c = if ctx.from_file {
                crate::graph::from_payload::<C>(ctx.payload)
                    .map_err(|e| Error::graph(ctx.label, format!("bad CombineFn payload: {e}")))?
            } else {
                c.clone()
            };
            let (windowing, bounded) =
                ctx.inputs.first().map(|i| (i.windowing.clone(), i.bounded)).unwrap_or((Default::default(), true));
            let fires_once = windowing.fires_once(bounded);
            // Under a trigger, combining before the shuffle is sound unless
            // the trigger counts elements, or windows merge.
            let liftable = !windowing.trigger.counts_elements() && !windowing.window_fn.is_merging();
            Ok(Executable::Keyed(Arc::new(LiftedCombine::<K, C> {
                c,
                fires_once,
                lifted: fires_once || liftable,
                windowing,
                label: ctx.label.to_string(),
                _k: PhantomData,
            })))
        });
        input.pipeline().mark_composite(
            urns::COMBINE_PER_KEY,
            Some(format!("combine:{}", std::any::type_name::<(K, C)>())),
            payload,
            Some(builder),
        );
        input.apply(GroupByKey::<K, C::In>::new()).apply_named("Combine", CombineValues::<K, C>::new(self.c))
    }
}

/// The lifted form: the phases of the combine, around a shuffle of
/// accumulators. A window that may fire more than once (a trigger, late
/// panes) keeps one accumulator per key and window in the triggered
/// grouping, kept between panes in accumulating mode; it merges pre-combined
/// accumulators, unless the trigger counts elements or windows merge, when
/// the inputs themselves are shuffled.
struct LiftedCombine<K, C> {
    c: C,
    /// Each window fires once (the engine's fast path).
    fires_once: bool,
    /// Accumulators are pre-combined before the shuffle.
    lifted: bool,
    windowing: WindowingStrategy,
    label: String,
    _k: PhantomData<fn() -> K>,
}

impl<K: Key, C: CombineFn> LiftedCombine<K, C> {
    fn new_state(&self, phase: CombinePhase) -> Box<dyn GroupState> {
        Box::new(CombineState::<K, C> {
            c: self.c.clone(),
            combiner: self.windowing.timestamp_combiner,
            label: self.label.clone(),
            phase,
            // A pre-combine table fires only whole, at the end of its bundle.
            accumulators: Table::new(&self.windowing, phase != CombinePhase::Precombine),
        })
    }
}

impl<K: Key, C: CombineFn> KeyedExec for LiftedCombine<K, C> {
    fn operator(&self) -> Box<dyn KeyedOperator> {
        match (self.fires_once, self.lifted) {
            (true, _) => Box::new(Grouping::new(self.new_state(CombinePhase::Merge), self.windowing.allowed_lateness)),
            (false, true) => {
                Box::new(TriggeredGrouping::new(MergeAccumulators::<K, C>::new(self.c.clone()), self.windowing.clone()))
            }
            (false, false) => {
                Box::new(TriggeredGrouping::new(Accumulate::<K, C>::new(self.c.clone()), self.windowing.clone()))
            }
        }
    }

    fn partition(&self, batch: Batch, parts: usize) -> Result<Vec<Batch>> {
        if self.lifted {
            partition_by_key::<K, C::Acc>(batch, parts)
        } else {
            partition_by_key::<K, C::In>(batch, parts)
        }
    }

    fn precombine(&self) -> Option<Box<dyn GroupState>> {
        self.lifted.then(|| self.new_state(CombinePhase::Precombine))
    }

    fn shuffle_codec(&self) -> Option<Arc<dyn BatchCodec>> {
        if !self.lifted {
            return None;
        }
        Some(Arc::new(TypedCodec::<(K, C::Acc), _> {
            coder: Arc::new(SerdeCoder::<(K, C::Acc)>::new()),
            label: self.label.clone(),
            _t: PhantomData,
        }))
    }
}

/// One accumulator per key and window, with the combined timestamp of its inputs.
struct CombineState<K, C: CombineFn> {
    c: C,
    combiner: TimestampCombiner,
    label: String,
    phase: CombinePhase,
    accumulators: Table<K, (Timestamp, C::Acc)>,
}

/// A hash table by key and window; keyed by the key alone in the global
/// window, where entries are smaller and lookups cheaper (the common case).
enum Table<K, T> {
    Global(FxHashMap<K, T>),
    /// With the windows by their end, for firing (unless it fires only whole).
    Windowed(FxHashMap<(K, Window), T>, Option<WindowIndex<K>>),
}

impl<K: Key, T> Table<K, T> {
    fn new(windowing: &WindowingStrategy, indexed: bool) -> Self {
        match windowing.window_fn {
            WindowFn::Global => Table::Global(FxHashMap::default()),
            _ => Table::Windowed(FxHashMap::default(), indexed.then(WindowIndex::default)),
        }
    }

    /// Inserts `insert(v)` for a new key and window, or calls `update` on the entry.
    #[inline]
    fn upsert<V>(&mut self, k: K, w: Window, v: V, insert: impl FnOnce(V) -> T, update: impl FnOnce(&mut T, V)) {
        match self {
            Table::Global(m) if w == Window::Global => match m.entry(k) {
                Entry::Occupied(e) => update(e.into_mut(), v),
                Entry::Vacant(e) => {
                    e.insert(insert(v));
                }
            },
            Table::Global(m) => {
                // An element outside the global window in a globally windowed
                // PCollection: keep it, in a table keyed by window from now on.
                let mut index = WindowIndex::default();
                let mut windowed: FxHashMap<(K, Window), T> = FxHashMap::default();
                for (k, t) in std::mem::take(m) {
                    index.insert(&k, Window::Global);
                    windowed.insert((k, Window::Global), t);
                }
                index.insert(&k, w);
                windowed.insert((k, w), insert(v));
                *self = Table::Windowed(windowed, Some(index));
            }
            Table::Windowed(m, index) => match m.entry((k, w)) {
                Entry::Occupied(e) => update(e.into_mut(), v),
                Entry::Vacant(e) => {
                    if let Some(index) = index {
                        index.insert(&e.key().0, w);
                    }
                    e.insert(insert(v));
                }
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Table::Global(m) => m.len(),
            Table::Windowed(m, _) => m.len(),
        }
    }

    /// Removes and returns the entries of windows the watermark has passed.
    fn take_due(&mut self, watermark: Timestamp) -> Vec<(K, Window, T)> {
        let all = watermark >= Timestamp::MAX;
        match self {
            Table::Global(m) if all || Window::Global.max_timestamp() < watermark => {
                std::mem::take(m).into_iter().map(|(k, t)| (k, Window::Global, t)).collect()
            }
            Table::Global(_) => Vec::new(),
            Table::Windowed(m, index) if all => {
                if let Some(index) = index {
                    *index = WindowIndex::default();
                }
                std::mem::take(m).into_iter().map(|((k, w), t)| (k, w, t)).collect()
            }
            Table::Windowed(m, Some(index)) => index
                .take_due(watermark)
                .into_iter()
                .filter_map(|key| m.remove_entry(&key))
                .map(|((k, w), t)| (k, w, t))
                .collect(),
            Table::Windowed(m, None) => {
                let due: Vec<(K, Window)> = m.keys().filter(|(_, w)| w.max_timestamp() < watermark).cloned().collect();
                due.into_iter().filter_map(|key| m.remove_entry(&key)).map(|((k, w), t)| (k, w, t)).collect()
            }
        }
    }
}

/// Runs user code of a CombineFn, turning a panic into an error naming the step.
fn guarded<R>(label: &str, what: &str, f: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(user_error(label, format!("<{what}>"), panic_message(p.as_ref()))))
}

impl<K: Key, C: CombineFn> CombineState<K, C> {
    fn add_inputs(&mut self, batch: Batch) -> Result<()> {
        let (c, combiner) = (&self.c, self.combiner);
        for WindowedValue { value: (k, v), timestamp, window, .. } in batch.downcast::<(K, C::In)>()? {
            self.accumulators.upsert(
                k,
                window,
                (timestamp, v),
                |(timestamp, v)| {
                    let mut acc = c.create_accumulator();
                    c.add_input(&mut acc, &v);
                    (timestamp, acc)
                },
                |(ts, acc), (timestamp, v)| {
                    *ts = combiner.combine(*ts, timestamp);
                    c.add_input(acc, &v);
                },
            );
        }
        Ok(())
    }

    fn merge(&mut self, batch: Batch) -> Result<()> {
        let (c, combiner) = (&self.c, self.combiner);
        for WindowedValue { value: (k, other), timestamp, window, .. } in batch.downcast::<(K, C::Acc)>()? {
            self.accumulators.upsert(
                k,
                window,
                (timestamp, other),
                |entry| entry,
                |(ts, acc), (timestamp, other)| {
                    *ts = combiner.combine(*ts, timestamp);
                    c.merge_accumulators(acc, other);
                },
            );
        }
        Ok(())
    }
}

impl<K: Key, C: CombineFn> GroupState for CombineState<K, C> {
    fn add(&mut self, batch: Batch) -> Result<()> {
        let label = self.label.clone();
        match self.phase {
            CombinePhase::Precombine | CombinePhase::Full => guarded(&label, "add_input", || self.add_inputs(batch)),
            CombinePhase::Merge => guarded(&label, "merge_accumulators", || self.merge(batch)),
        }
    }

    fn len(&self) -> usize {
        self.accumulators.len()
    }

    fn fire(&mut self, watermark: Timestamp) -> Result<Batch> {
        let due = self.accumulators.take_due(watermark);
        let (c, combiner) = (self.c.clone(), self.combiner);
        let phase = self.phase;
        guarded(&self.label, "extract_output", move || {
            Ok(match phase {
                CombinePhase::Precombine => Batch::new(
                    due.into_iter()
                        .map(|(k, window, (timestamp, acc))| WindowedValue {
                            value: (k, c.compact(acc)),
                            timestamp,
                            window,
                            pane: PaneInfo::NO_FIRING,
                        })
                        .collect(),
                ),
                CombinePhase::Merge | CombinePhase::Full => Batch::new(
                    due.into_iter()
                        .map(|(k, window, (ts, acc))| WindowedValue {
                            value: (k, c.extract_output(c.compact(acc))),
                            timestamp: match combiner {
                                TimestampCombiner::EndOfWindow => window.max_timestamp(),
                                _ => ts,
                            },
                            window,
                            pane: PaneInfo::ON_TIME_AND_ONLY_FIRING,
                        })
                        .collect(),
                ),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::combiners::Sum;

    fn lifted(windowing: WindowingStrategy) -> LiftedCombine<String, Sum<i64>> {
        LiftedCombine { c: Sum::new(), fires_once: true, lifted: true, windowing, label: "S".into(), _k: PhantomData }
    }

    fn kv(k: &str, v: i64, ts: i64, window: Window) -> WindowedValue<(String, i64)> {
        WindowedValue {
            value: (k.to_string(), v),
            timestamp: Timestamp::from_micros(ts),
            window,
            pane: PaneInfo::NO_FIRING,
        }
    }

    fn sorted(b: Batch) -> Vec<(String, i64, Window)> {
        let mut v: Vec<_> =
            b.downcast::<(String, i64)>().unwrap().into_iter().map(|e| (e.value.0, e.value.1, e.window)).collect();
        v.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        v
    }

    #[test]
    fn precombine_then_merge_equals_one_full_pass() {
        let exec = lifted(WindowingStrategy::default());
        let inputs: Vec<_> = (0..100).map(|i| kv(["a", "b", "c"][i % 3], i as i64, 0, Window::Global)).collect();
        let mut full = exec.new_state(CombinePhase::Full);
        full.add(Batch::new(inputs.clone())).unwrap();
        let mut merged = exec.new_state(CombinePhase::Merge);
        for chunk in inputs.chunks(7) {
            let mut pre = exec.new_state(CombinePhase::Precombine);
            pre.add(Batch::new(chunk.to_vec())).unwrap();
            for part in exec.partition(pre.fire(Timestamp::MAX).unwrap(), 3).unwrap() {
                merged.add(part).unwrap();
            }
        }
        let expected = sorted(full.fire(Timestamp::MAX).unwrap());
        assert_eq!(expected.iter().map(|e| e.1).sum::<i64>(), (0..100).sum::<i64>());
        assert_eq!(sorted(merged.fire(Timestamp::MAX).unwrap()), expected);
    }

    #[test]
    fn a_global_table_keeps_elements_that_carry_another_window() {
        // A DoFn's finish_bundle may emit into any window, even in a globally
        // windowed PCollection: the table must then key by window too.
        let exec = lifted(WindowingStrategy::default());
        let w = Window::Interval { start: Timestamp::from_micros(0), end: Timestamp::from_micros(10) };
        let mut s = exec.new_state(CombinePhase::Full);
        s.add(Batch::new(vec![kv("a", 1, 0, Window::Global), kv("a", 2, 5, w), kv("a", 3, 0, Window::Global)]))
            .unwrap();
        assert_eq!(sorted(s.fire(Timestamp::MAX).unwrap()), vec![("a".into(), 2, w), ("a".into(), 4, Window::Global)]);
    }

    #[test]
    fn windows_fire_when_the_watermark_passes_their_end() {
        let exec = lifted(WindowingStrategy {
            window_fn: WindowFn::fixed(std::time::Duration::from_micros(10)),
            ..Default::default()
        });
        let w = |s: i64| Window::Interval { start: Timestamp::from_micros(s), end: Timestamp::from_micros(s + 10) };
        let mut s = exec.new_state(CombinePhase::Full);
        s.add(Batch::new(vec![kv("a", 1, 1, w(0)), kv("a", 2, 12, w(10))])).unwrap();
        assert_eq!(sorted(s.fire(Timestamp::from_micros(10)).unwrap()), vec![("a".into(), 1, w(0))]);
        assert_eq!(sorted(s.fire(Timestamp::MAX).unwrap()), vec![("a".into(), 2, w(10))]);
    }
}
