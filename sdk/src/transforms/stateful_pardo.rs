//! `StatefulParDo`: a DoFn over keyed input with per-key state and timers.

use crate::element::{Element, Key, WindowedValue};
use crate::error::{DoFnError, Error};
use crate::exec::{Executable, NodeBuilder};
use crate::graph::urns;
use crate::metrics::MetricsContainer;
use crate::pane::PaneInfo;
use crate::pipeline::{PCollection, PTransform, Primitive};
use crate::plan::capabilities;
use crate::state::{
    BagCell, BagState, CellFactory, CombiningCell, CombiningState, FiredTimer, MapCell, MapState, OrderedListCell,
    OrderedListState, SetCell, SetState, StateSpecs, TimeDomain, Timer, TimerCell, TimerFamily, ValueCell, ValueState,
};
use crate::state::{Slots, TimerSink};
use crate::time::Timestamp;
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::dofn::FinishBundleContext;
use crate::window::Window;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// A DoFn over `(key, value)` pairs with state and timers per key and window
/// (Beam's stateful `DoFn` with `StateSpec`s and `TimerSpec`s).
///
/// The runner sends each key to one worker, where its elements and timers are
/// processed one at a time. State lives until the window expires (its end
/// plus the allowed lateness); elements of expired windows are dropped and
/// counted (`dropped_due_to_lateness`). On bounded input, event-time timers
/// fire when the input ends, as on Beam's batch runners.
///
/// # Examples
/// A running count per key, flushed by an event-time timer at the end of the window:
/// ```
/// use beamline::prelude::*;
/// use beamline::state::{StateSpecs, TimeDomain, Timer, ValueState};
///
/// #[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
/// struct CountPerKey { count: ValueState<u64>, flush: Timer }
///
/// impl StatefulDoFn for CountPerKey {
///     type Key = String;
///     type Value = i64;
///     type Out = (String, u64);
///     fn declare(&mut self, specs: &mut StateSpecs) {
///         self.count = specs.value("count");
///         self.flush = specs.timer("flush", TimeDomain::EventTime);
///     }
///     fn process(&mut self, _k: &String, _v: &i64, ctx: &mut StateContext<'_, String, (String, u64)>)
///         -> Result<(), DoFnError>
///     {
///         let mut count = ctx.value(&self.count)?;
///         let n = count.read().unwrap_or(0) + 1;
///         count.write(n);
///         let end = ctx.window().max_timestamp();
///         ctx.timer(&self.flush)?.set(end)
///     }
///     fn on_timer(&mut self, _t: &FiredTimer, ctx: &mut StateContext<'_, String, (String, u64)>)
///         -> Result<(), DoFnError>
///     {
///         let n = ctx.value(&self.count)?.read().unwrap_or(0);
///         let key = ctx.key().clone();
///         ctx.emit((key, n));
///         Ok(())
///     }
/// }
///
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let counts = p
///     .apply(Create::new(vec![("a".to_string(), 1i64), ("b".into(), 2), ("a".into(), 3)]))
///     .apply(StatefulParDo::of(CountPerKey::default()));
/// assert_that(&counts, contains_in_any_order(vec![("a".to_string(), 2u64), ("b".to_string(), 1)]));
/// p.run().unwrap();
/// ```
pub trait StatefulDoFn: Clone + Send + Sync + 'static {
    /// The key type.
    type Key: Key;
    /// The value type.
    type Value: Element;
    /// The output type.
    type Out: Element;
    /// Declares the state cells and timers, storing the handles `specs` returns
    /// in `self`. Called once, when the pipeline is built.
    fn declare(&mut self, specs: &mut StateSpecs);
    /// Called once per instance before any element.
    fn setup(&mut self) -> Result<(), DoFnError> {
        Ok(())
    }
    /// Called before the first element or timer of a bundle: the elements
    /// and timers the runner hands the step in one go.
    fn start_bundle(&mut self) -> Result<(), DoFnError> {
        Ok(())
    }
    /// Called for every element, with its key's state in its window.
    fn process(
        &mut self,
        key: &Self::Key,
        value: &Self::Value,
        ctx: &mut StateContext<'_, Self::Key, Self::Out>,
    ) -> Result<(), DoFnError>;
    /// Called when a timer of this key and window fires; what it emits is
    /// stamped with the timer's output timestamp.
    fn on_timer(
        &mut self,
        _timer: &FiredTimer,
        _ctx: &mut StateContext<'_, Self::Key, Self::Out>,
    ) -> Result<(), DoFnError> {
        Ok(())
    }
    /// Called once for each key and window with state, when the window
    /// expires, just before its state is cleared (Beam's `OnWindowExpiration`).
    fn on_window_expiration(&mut self, _ctx: &mut StateContext<'_, Self::Key, Self::Out>) -> Result<(), DoFnError> {
        Ok(())
    }
    /// Called after the last element or timer of a bundle. It holds no key's
    /// state; what it emits gives its own timestamp and window.
    fn finish_bundle(&mut self, _ctx: &mut FinishBundleContext<'_, Self::Out>) -> Result<(), DoFnError> {
        Ok(())
    }
    /// Called once per instance at the end.
    fn teardown(&mut self) -> Result<(), DoFnError> {
        Ok(())
    }
    /// The name shown in the default label `ParDo(<name>)`.
    fn name(&self) -> String {
        crate::transforms::dofn::short_type_name::<Self>()
    }
}

/// What a stateful DoFn sees: the key, window and timestamp, its state
/// cells and timers for them, the output and metrics.
pub struct StateContext<'a, K, O> {
    pub(crate) key: &'a K,
    pub(crate) window: Window,
    pub(crate) timestamp: Timestamp,
    pub(crate) pane: PaneInfo,
    pub(crate) now: Timestamp,
    pub(crate) expiry: Timestamp,
    pub(crate) out: &'a mut Vec<WindowedValue<O>>,
    pub(crate) slots: &'a mut Slots,
    pub(crate) factories: &'a [CellFactory],
    pub(crate) timer_domains: &'a [TimeDomain],
    pub(crate) timers: &'a mut dyn TimerSink,
    pub(crate) metrics: &'a mut MetricsContainer,
}

impl<K: Key, O: Element> StateContext<'_, K, O> {
    /// The key.
    pub fn key(&self) -> &K {
        self.key
    }
    /// The window.
    pub fn window(&self) -> Window {
        self.window
    }
    /// The element's timestamp (in `on_timer`, the timer's output timestamp).
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    /// The element's pane (Beam's `PaneInfoParam`): what fired the grouping
    /// upstream, or [`PaneInfo::NO_FIRING`] (and in `on_timer`).
    pub fn pane(&self) -> PaneInfo {
        self.pane
    }
    /// The runner's processing time.
    pub fn processing_time(&self) -> Timestamp {
        self.now
    }
    /// Emits with the current timestamp, in the current window and pane.
    pub fn emit(&mut self, value: O) {
        self.out.push(WindowedValue { value, timestamp: self.timestamp, window: self.window, pane: self.pane });
    }
    /// Emits with another timestamp, in the current window and pane.
    pub fn emit_with_timestamp(&mut self, value: O, timestamp: Timestamp) {
        self.out.push(WindowedValue { value, timestamp, window: self.window, pane: self.pane });
    }
    /// Metrics of this step.
    pub fn metrics(&mut self) -> &mut MetricsContainer {
        self.metrics
    }
    /// The value cell.
    pub fn value<T: Element>(&mut self, state: &ValueState<T>) -> Result<ValueCell<'_, T>, DoFnError> {
        Ok(ValueCell { value: self.slots.cell::<Option<T>>(state.index, self.factories)? })
    }
    /// The bag.
    pub fn bag<T: Element>(&mut self, state: &BagState<T>) -> Result<BagCell<'_, T>, DoFnError> {
        Ok(BagCell { values: self.slots.cell::<Vec<T>>(state.index, self.factories)? })
    }
    /// The combining cell.
    pub fn combining<'s, C: CombineFn>(
        &'s mut self,
        state: &'s CombiningState<C>,
    ) -> Result<CombiningCell<'s, C>, DoFnError> {
        Ok(CombiningCell {
            acc: self.slots.cell::<Option<C::Acc>>(state.index, self.factories)?,
            combine: &state.combine,
        })
    }
    /// The set.
    pub fn set<T: Key>(&mut self, state: &SetState<T>) -> Result<SetCell<'_, T>, DoFnError> {
        Ok(SetCell { values: self.slots.cell(state.index, self.factories)? })
    }
    /// The map.
    pub fn map<MK: Key, V: Element>(&mut self, state: &MapState<MK, V>) -> Result<MapCell<'_, MK, V>, DoFnError> {
        Ok(MapCell { map: self.slots.cell(state.index, self.factories)? })
    }
    /// The ordered list.
    pub fn ordered_list<T: Element>(
        &mut self,
        state: &OrderedListState<T>,
    ) -> Result<OrderedListCell<'_, T>, DoFnError> {
        Ok(OrderedListCell { list: self.slots.cell(state.index, self.factories)? })
    }
    /// Empties every state cell of this key and window.
    pub fn clear_all_state(&mut self) {
        for i in 0..self.factories.len() {
            self.slots.clear(i as u32);
        }
    }
    fn timer_cell(&mut self, index: u32, tag: String) -> Result<TimerCell<'_>, DoFnError> {
        let domain = *self
            .timer_domains
            .get(index as usize)
            .ok_or_else(|| DoFnError::new("a timer that this DoFn did not declare (in `declare`)"))?;
        Ok(TimerCell {
            sink: self.timers,
            index,
            tag,
            domain,
            default_output: self.timestamp,
            now: self.now,
            expiry: self.expiry,
        })
    }
    /// The timer, for this key and window.
    pub fn timer(&mut self, timer: &Timer) -> Result<TimerCell<'_>, DoFnError> {
        self.timer_cell(timer.index, String::new())
    }
    /// The timer of `family` tagged `tag`, for this key and window.
    pub fn timer_family(&mut self, family: &TimerFamily, tag: &str) -> Result<TimerCell<'_>, DoFnError> {
        self.timer_cell(family.index, tag.to_string())
    }
}

/// Applies a [`StatefulDoFn`] to a keyed PCollection; see [`StatefulDoFn`].
#[must_use = "a transform does nothing until applied"]
pub struct StatefulParDo<F> {
    f: F,
    codec: Option<PayloadCodec<F>>,
}

type PayloadCodec<F> = (
    fn(&F) -> std::result::Result<serde_json::Value, String>,
    fn(&serde_json::Value) -> std::result::Result<F, String>,
);

impl<F: StatefulDoFn> StatefulParDo<F> {
    /// A portable stateful ParDo: the DoFn travels in the graph, with its specs.
    pub fn of(f: F) -> Self
    where
        F: Serialize + DeserializeOwned,
    {
        StatefulParDo { f, codec: Some((crate::graph::to_payload, crate::graph::from_payload)) }
    }
    /// An in-process stateful ParDo (the graph cannot be dumped).
    pub fn local(f: F) -> Self {
        StatefulParDo { f, codec: None }
    }
}

/// The DoFn with its handles declared, and the specs it declared.
pub(crate) fn declared<F: StatefulDoFn>(mut f: F) -> (F, StateSpecs) {
    let mut specs = StateSpecs::default();
    f.declare(&mut specs);
    (f, specs)
}

impl<F: StatefulDoFn> PTransform<PCollection<(F::Key, F::Value)>> for StatefulParDo<F> {
    type Output = PCollection<F::Out>;
    fn default_label(&self) -> String {
        format!("ParDo({})", self.f.name())
    }
    fn expand(self, input: PCollection<(F::Key, F::Value)>) -> PCollection<F::Out> {
        let p = input.pipeline().clone();
        let label = p.current_label();
        let out = p.new_output::<F::Out>("out", input.is_bounded(), input.windowing());
        let (f, specs) = declared(self.f);
        if input.windowing().window_fn.is_merging() {
            p.fail(Error::Construction(format!(
                "'{label}': state and timers are not supported with merging windows (sessions); \
                 group the sessions first, or window the input otherwise"
            )));
        }
        if let Some(name) = specs.duplicate() {
            p.fail(Error::Construction(format!(
                "'{label}': the DoFn declares the state or timer name '{name}' more than once"
            )));
        }
        let mut payload = serde_json::json!({
            "state_specs": specs.states(),
            "timer_specs": specs.timers(),
        });
        let mut portable = self.codec.is_some();
        if let Some((to, _)) = &self.codec {
            match to(&f) {
                Ok(v) => payload["do_fn"] = v,
                Err(e) => {
                    p.fail(Error::Construction(format!("'{label}': cannot serialize the DoFn: {e}")));
                    portable = false;
                }
            }
        }
        let mut requirements = vec![capabilities::STATEFUL_PROCESSING.to_string()];
        if !specs.timers().is_empty() {
            requirements.push(capabilities::TIMERS.to_string());
        }
        let function =
            if portable { format!("stateful:{}", std::any::type_name::<F>()) } else { format!("local:{label}") };
        let from = self.codec.map(|(_, from)| from);
        let builder: NodeBuilder = Arc::new(move |ctx| {
            let f = match (ctx.from_file, from) {
                (true, Some(from)) => {
                    let f: F = from(&ctx.payload["do_fn"])
                        .map_err(|e| Error::graph(ctx.label, format!("bad DoFn payload: {e}")))?;
                    declared(f).0
                }
                _ => f.clone(),
            };
            let windowing = ctx.inputs.first().map(|i| i.windowing.clone()).unwrap_or_default();
            Ok(Executable::Keyed(Arc::new(crate::engine::stateful::StatefulExec::new(
                f,
                ctx.label.to_string(),
                windowing,
            ))))
        });
        p.set_primitive(Primitive {
            urn: urns::PAR_DO,
            function: Some(function),
            payload,
            lazy_payload: None,
            inputs: vec![input.id().to_string()],
            side_inputs: Vec::new(),
            outputs: vec![out.id().to_string()],
            requirements,
            builder: Some(builder),
            portable,
        });
        out
    }
}
