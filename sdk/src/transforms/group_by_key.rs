//! `GroupByKey`: all values of a key in a window, together.

use crate::batch::Batch;
use crate::element::{Element, Key, WindowedValue};
use crate::engine::grouping::Grouping;
use crate::engine::key_groups::partition_by_key;
use crate::engine::triggered::{TriggeredGrouping, Values};
use crate::engine::window_index::WindowIndex;
use crate::error::Result;
use crate::exec::{Executable, GroupState, KeyedExec, KeyedOperator, NodeBuilder};
use crate::graph::urns;
use crate::pane::PaneInfo;
use crate::pipeline::{PCollection, PTransform, Primitive};
use crate::plan::capabilities;
use crate::time::Timestamp;
use crate::window::{TimestampCombiner, Window, WindowingStrategy};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use std::marker::PhantomData;
use std::sync::Arc;

/// Groups `(K, V)` pairs into `(K, Vec<V>)` per key and window.
///
/// The order of values within a group is unspecified (the direct runner
/// shuffles it). Session windows merge per key before grouping.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let grouped = p
///     .apply(Create::new(vec![("a".to_string(), 1i64), ("b".into(), 2), ("a".into(), 3)]))
///     .apply(GroupByKey::new())
///     .apply(Map::new(|(k, vs): &(String, Vec<i64>)| (k.clone(), vs.iter().sum::<i64>())));
/// assert_that(&grouped, contains_in_any_order(vec![("a".to_string(), 4), ("b".to_string(), 2)]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct GroupByKey<K, V>(PhantomData<fn() -> (K, V)>);

impl<K: Key, V: Element> GroupByKey<K, V> {
    /// The transform.
    pub fn new() -> Self {
        GroupByKey(PhantomData)
    }
}

impl<K: Key, V: Element> Default for GroupByKey<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Key, V: Element> PTransform<PCollection<(K, V)>> for GroupByKey<K, V> {
    type Output = PCollection<(K, Vec<V>)>;
    fn default_label(&self) -> String {
        "GroupByKey".into()
    }
    fn expand(self, input: PCollection<(K, V)>) -> PCollection<(K, Vec<V>)> {
        let p = input.pipeline().clone();
        let windowing = input.windowing();
        check_grouping(&p, input.is_bounded(), &windowing);
        let out = p.new_output::<(K, Vec<V>)>("out", input.is_bounded(), grouped_windowing(&windowing));
        let builder: NodeBuilder = Arc::new(|ctx| {
            let (windowing, bounded) =
                ctx.inputs.first().map(|i| (i.windowing.clone(), i.bounded)).unwrap_or((Default::default(), true));
            Ok(Executable::Keyed(Arc::new(GbkExec::<K, V> { windowing, bounded, _t: PhantomData })))
        });
        let mut requirements = Vec::new();
        if windowing.window_fn.is_merging() {
            requirements.push(capabilities::MERGING_WINDOWS.to_string());
        }
        p.set_primitive(Primitive {
            urn: urns::GROUP_BY_KEY,
            function: Some(format!("gbk:{}", std::any::type_name::<(K, V)>())),
            payload: serde_json::Value::Null,
            lazy_payload: None,
            inputs: vec![input.id().to_string()],
            side_inputs: Vec::new(),
            outputs: vec![out.id().to_string()],
            requirements,
            builder: Some(builder),
            portable: true,
        });
        out
    }
}

/// Refuses (as Beam does, when the pipeline is built) a grouping whose
/// windowing would hold data back forever or may lose it: an unbounded
/// input in the global window with the default trigger, and a trigger that
/// may finish while late data can still come (unless the pipeline allows
/// unsafe triggers).
pub(crate) fn check_grouping(p: &crate::Pipeline, bounded: bool, w: &WindowingStrategy) {
    let label = p.current_label();
    if let Err(m) = w.trigger.validate() {
        p.fail(crate::Error::Construction(format!("'{label}': {m}")));
        return;
    }
    let allow = p.options().allow_unsafe_triggers;
    if !bounded && w.window_fn == crate::WindowFn::Global && w.trigger == crate::Trigger::Default && !allow {
        p.fail(crate::Error::Construction(format!(
            "'{label}': GroupByKey cannot be applied to an unbounded PCollection with global windowing and a \
             default trigger (window it, set a trigger, or pass --allow-unsafe-triggers)"
        )));
    } else if let Some(reason) = w.trigger.data_loss_reason(w.allowed_lateness).filter(|_| !allow) {
        p.fail(crate::Error::Construction(format!(
            "'{label}': Unsafe trigger: `{}` may lose data. Reason: {reason}. This can be overriden with the \
             --allow-unsafe-triggers flag.",
            w.trigger
        )));
    }
}

/// The windowing of a grouping's output: the same windows, and the
/// continuation of the trigger (what its firings mean downstream).
pub(crate) fn grouped_windowing(w: &WindowingStrategy) -> WindowingStrategy {
    WindowingStrategy { trigger: w.trigger.continuation(), ..w.clone() }
}

struct GbkExec<K, V> {
    windowing: WindowingStrategy,
    bounded: bool,
    _t: PhantomData<fn() -> (K, V)>,
}

impl<K: Key, V: Element> GbkExec<K, V> {
    fn state(&self) -> GbkState<K, V> {
        GbkState {
            windowing: self.windowing.clone(),
            groups: FxHashMap::default(),
            index: WindowIndex::default(),
            sessions: FxHashMap::default(),
        }
    }
}

impl<K: Key, V: Element> KeyedExec for GbkExec<K, V> {
    fn operator(&self) -> Box<dyn KeyedOperator> {
        if self.windowing.fires_once(self.bounded) {
            Box::new(Grouping::new(Box::new(self.state()), self.windowing.allowed_lateness))
        } else {
            Box::new(TriggeredGrouping::new(Values::<K, V>::new(), self.windowing.clone()))
        }
    }
    fn partition(&self, batch: Batch, parts: usize) -> Result<Vec<Batch>> {
        partition_by_key::<K, V>(batch, parts)
    }
}

/// Buffered groups: by key and window for non-merging windows; by key, with
/// the unmerged windows, for merging ones (merged when they fire).
struct GbkState<K, V> {
    windowing: WindowingStrategy,
    groups: FxHashMap<(K, Window), (Timestamp, Vec<V>)>,
    /// The groups' windows by their end (empty in the global window, which fires only at the end).
    index: WindowIndex<K>,
    sessions: FxHashMap<K, Vec<(Window, Timestamp, Vec<V>)>>,
}

impl<K: Key, V: Element> GbkState<K, V> {
    fn output(&self, k: K, w: Window, ts: Timestamp, vs: Vec<V>) -> WindowedValue<(K, Vec<V>)> {
        let timestamp = match self.windowing.timestamp_combiner {
            TimestampCombiner::EndOfWindow => w.max_timestamp(),
            _ => ts,
        };
        WindowedValue { value: (k, vs), timestamp, window: w, pane: PaneInfo::ON_TIME_AND_ONLY_FIRING }
    }

    fn fire_sessions(&mut self, watermark: Timestamp, out: &mut Vec<WindowedValue<(K, Vec<V>)>>) {
        let all = watermark >= Timestamp::MAX;
        let window_fn = self.windowing.window_fn;
        let combiner = self.windowing.timestamp_combiner;
        let mut kept = FxHashMap::default();
        for (k, windows) in std::mem::take(&mut self.sessions) {
            let ws: Vec<Window> = windows.iter().map(|(w, _, _)| *w).collect();
            let (idx, merged) = window_fn.merge(&ws);
            let mut acc: Vec<Option<(Window, Timestamp, Vec<V>)>> = merged.iter().map(|_| None).collect();
            for ((_, ts, vs), i) in windows.into_iter().zip(idx) {
                match &mut acc[i] {
                    Some((_, t, all_vs)) => {
                        *t = combiner.combine(*t, ts);
                        all_vs.extend(vs);
                    }
                    slot @ None => *slot = Some((merged[i], ts, vs)),
                }
            }
            let mut rest = Vec::new();
            for (w, ts, vs) in acc.into_iter().flatten() {
                if all || w.max_timestamp() < watermark {
                    out.push(self.output(k.clone(), w, ts, vs));
                } else {
                    rest.push((w, ts, vs));
                }
            }
            if !rest.is_empty() {
                kept.insert(k, rest);
            }
        }
        self.sessions = kept;
    }
}

impl<K: Key, V: Element> GroupState for GbkState<K, V> {
    fn add(&mut self, batch: Batch) -> Result<()> {
        let combiner = self.windowing.timestamp_combiner;
        let merging = self.windowing.window_fn.is_merging();
        for WindowedValue { value: (k, v), timestamp, window, .. } in batch.downcast::<(K, V)>()? {
            if merging {
                // Unmerged session windows start at the element: one per element.
                self.sessions.entry(k).or_default().push((window, timestamp, vec![v]));
                continue;
            }
            match self.groups.entry((k, window)) {
                Entry::Occupied(mut e) => {
                    let (ts, vs) = e.get_mut();
                    *ts = combiner.combine(*ts, timestamp);
                    vs.push(v);
                }
                Entry::Vacant(e) => {
                    if window != Window::Global {
                        self.index.insert(&e.key().0, window);
                    }
                    e.insert((timestamp, vec![v]));
                }
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.groups.len() + self.sessions.values().map(Vec::len).sum::<usize>()
    }

    fn fire(&mut self, watermark: Timestamp) -> Result<Batch> {
        let mut out = Vec::new();
        if !self.sessions.is_empty() {
            self.fire_sessions(watermark, &mut out);
        }
        if watermark >= Timestamp::MAX || Window::Global.max_timestamp() < watermark {
            for ((k, w), (ts, vs)) in std::mem::take(&mut self.groups) {
                out.push(self.output(k, w, ts, vs));
            }
            self.index = WindowIndex::default();
        } else {
            for key in self.index.take_due(watermark) {
                if let Some((ts, vs)) = self.groups.remove(&key) {
                    out.push(self.output(key.0, key.1, ts, vs));
                }
            }
        }
        Ok(Batch::new(out))
    }
}
