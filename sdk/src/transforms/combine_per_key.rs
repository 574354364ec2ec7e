//! `CombinePerKey`: a per-key aggregation, lifted by runners that can.

use crate::batch::{Batch, BatchCodec, TypedCodec};
use crate::coder::SerdeCoder;
use crate::element::Key;
use crate::element::{key_hash, WindowedValue};
use crate::error::{Error, Result};
use crate::exec::{CombinePerKeyExec, CombinePhase, Executable, GroupState, NodeBuilder};
use crate::graph::urns;
use crate::pipeline::{PCollection, PTransform};
use crate::time::Timestamp;
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_values::CombineValues;
use crate::transforms::group_by_key::GroupByKey;
use crate::transforms::pardo::{panic_message, user_error};
use crate::window::{TimestampCombiner, Window, WindowingStrategy};
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
            let windowing = ctx.inputs.first().map(|i| i.windowing).unwrap_or_default();
            Ok(Executable::CombinePerKey(Arc::new(LiftedCombine::<K, C> {
                c,
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

/// The lifted form: the phases of the combine, around a shuffle of accumulators.
struct LiftedCombine<K, C> {
    c: C,
    windowing: WindowingStrategy,
    label: String,
    _k: PhantomData<fn() -> K>,
}

impl<K: Key, C: CombineFn> CombinePerKeyExec for LiftedCombine<K, C> {
    fn new_state(&self, phase: CombinePhase) -> Box<dyn GroupState> {
        Box::new(CombineState::<K, C> {
            c: self.c.clone(),
            combiner: self.windowing.timestamp_combiner,
            label: self.label.clone(),
            phase,
            accumulators: FxHashMap::default(),
        })
    }

    fn partition(&self, accumulators: Batch, parts: usize) -> Result<Vec<Batch>> {
        let parts = parts.max(1);
        let mut out: Vec<Vec<WindowedValue<(K, C::Acc)>>> = (0..parts).map(|_| Vec::new()).collect();
        for e in accumulators.downcast::<(K, C::Acc)>()? {
            out[(key_hash(&e.value.0) % parts as u64) as usize].push(e);
        }
        Ok(out.into_iter().map(Batch::new).collect())
    }

    fn accumulator_codec(&self) -> Arc<dyn BatchCodec> {
        Arc::new(TypedCodec::<(K, C::Acc), _> {
            coder: Arc::new(SerdeCoder::<(K, C::Acc)>::new()),
            label: self.label.clone(),
            _t: PhantomData,
        })
    }
}

/// One accumulator per key and window, with the combined timestamp of its inputs.
struct CombineState<K, C: CombineFn> {
    c: C,
    combiner: TimestampCombiner,
    label: String,
    phase: CombinePhase,
    accumulators: FxHashMap<(K, Window), (Timestamp, C::Acc)>,
}

/// Runs user code of a CombineFn, turning a panic into an error naming the step.
fn guarded<R>(label: &str, what: &str, f: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(user_error(label, format!("<{what}>"), panic_message(p.as_ref()))))
}

impl<K: Key, C: CombineFn> CombineState<K, C> {
    fn add_inputs(&mut self, batch: Batch) -> Result<()> {
        let (c, combiner) = (&self.c, self.combiner);
        for WindowedValue { value: (k, v), timestamp, window } in batch.downcast::<(K, C::In)>()? {
            match self.accumulators.entry((k, window)) {
                Entry::Occupied(mut e) => {
                    let (ts, acc) = e.get_mut();
                    *ts = combiner.combine(*ts, timestamp);
                    c.add_input(acc, &v);
                }
                Entry::Vacant(e) => {
                    let mut acc = c.create_accumulator();
                    c.add_input(&mut acc, &v);
                    e.insert((timestamp, acc));
                }
            }
        }
        Ok(())
    }

    fn merge(&mut self, batch: Batch) -> Result<()> {
        let (c, combiner) = (&self.c, self.combiner);
        for WindowedValue { value: (k, other), timestamp, window } in batch.downcast::<(K, C::Acc)>()? {
            match self.accumulators.entry((k, window)) {
                Entry::Occupied(mut e) => {
                    let (ts, acc) = e.get_mut();
                    *ts = combiner.combine(*ts, timestamp);
                    c.merge_accumulators(acc, other);
                }
                Entry::Vacant(e) => {
                    e.insert((timestamp, other));
                }
            }
        }
        Ok(())
    }

    fn take_due(&mut self, watermark: Timestamp) -> Vec<((K, Window), (Timestamp, C::Acc))> {
        if watermark >= Timestamp::MAX {
            return std::mem::take(&mut self.accumulators).into_iter().collect();
        }
        let due: Vec<(K, Window)> =
            self.accumulators.keys().filter(|(_, w)| w.max_timestamp() < watermark).cloned().collect();
        due.into_iter().filter_map(|key| self.accumulators.remove_entry(&key)).collect()
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

    fn fire(&mut self, watermark: Timestamp) -> Result<Batch> {
        let due = self.take_due(watermark);
        let (c, combiner) = (self.c.clone(), self.combiner);
        let phase = self.phase;
        guarded(&self.label, "extract_output", move || {
            Ok(match phase {
                CombinePhase::Precombine => Batch::new(
                    due.into_iter()
                        .map(|((k, window), (timestamp, acc))| WindowedValue {
                            value: (k, c.compact(acc)),
                            timestamp,
                            window,
                        })
                        .collect(),
                ),
                CombinePhase::Merge | CombinePhase::Full => Batch::new(
                    due.into_iter()
                        .map(|((k, window), (ts, acc))| WindowedValue {
                            value: (k, c.extract_output(c.compact(acc))),
                            timestamp: match combiner {
                                TimestampCombiner::EndOfWindow => window.max_timestamp(),
                                _ => ts,
                            },
                            window,
                        })
                        .collect(),
                ),
            })
        })
    }
}
