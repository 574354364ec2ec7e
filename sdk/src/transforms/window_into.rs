//! `WindowInto`: assigns elements to windows.

use crate::batch::Batch;
use crate::element::{Element, WindowedValue};
use crate::error::{Error, Result};
use crate::exec::{DoFnInvoker, Executable, NodeBuilder, Outputs, ParDoExec, SideInputView};
use crate::graph::urns;
use crate::metrics::MetricsContainer;
use crate::pipeline::{PCollection, PTransform, Primitive};
use crate::trigger::{AccumulationMode, Trigger};
use crate::window::{TimestampCombiner, WindowFn, WindowingStrategy};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

/// Re-windows a PCollection by its elements' timestamps.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use std::time::Duration;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let counts = p
///     .apply(Create::timestamped(vec![
///         ("a".to_string(), Timestamp::from_secs(1)),
///         ("a".to_string(), Timestamp::from_secs(2)),
///         ("a".to_string(), Timestamp::from_secs(61)),
///     ]))
///     .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(60))))
///     .apply(Count::per_element());
/// assert_that(&counts, contains_in_any_order(vec![("a".to_string(), 2u64), ("a".to_string(), 1)]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct WindowInto<T> {
    strategy: WindowingStrategy,
    /// Whether a trigger was set, and whether an accumulation mode was.
    triggered: bool,
    mode_set: bool,
    /// Whether windows are assigned anew (false: `configure`).
    reassign: bool,
    _t: PhantomData<fn() -> T>,
}

impl<T: Element> WindowInto<T> {
    /// Windows by `window_fn`, with the default timestamp combiner and no allowed lateness.
    pub fn new(window_fn: WindowFn) -> Self {
        WindowInto {
            strategy: WindowingStrategy { window_fn, ..Default::default() },
            triggered: false,
            mode_set: false,
            reassign: true,
            _t: PhantomData,
        }
    }
    /// Keeps the input's windows and window function, and sets what goes
    /// with them (trigger, accumulation mode, lateness, timestamp combiner):
    /// Beam's `Window.configure()`. The other settings start from Beam's
    /// defaults, not from the input's.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// use std::time::Duration;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let xs = p
    ///     .apply(Create::timestamped(vec![(1i64, Timestamp::from_secs(1))]))
    ///     .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
    ///     .apply(WindowInto::configure().with_allowed_lateness(Duration::from_secs(5)));
    /// assert_eq!(xs.windowing().window_fn, WindowFn::fixed(Duration::from_secs(10)));
    /// assert_eq!(xs.windowing().allowed_lateness, 5_000_000);
    /// ```
    pub fn configure() -> Self {
        WindowInto { reassign: false, ..WindowInto::new(WindowFn::global()) }
    }
    /// Sets which timestamp grouped outputs get.
    pub fn with_timestamp_combiner(mut self, c: TimestampCombiner) -> Self {
        self.strategy.timestamp_combiner = c;
        self
    }
    /// Sets how late data may arrive and still be grouped.
    pub fn with_allowed_lateness(mut self, d: Duration) -> Self {
        self.strategy.allowed_lateness = crate::time::duration_micros(d);
        self
    }
    /// Sets when windows fire. As in Beam, a trigger needs an accumulation
    /// mode too: [`accumulating_fired_panes`](Self::accumulating_fired_panes)
    /// or [`discarding_fired_panes`](Self::discarding_fired_panes).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// use beamline::io::TestStream;
    /// use std::time::Duration;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let s = TestStream::new()
    ///     .add_elements_at(vec![("a".to_string(), Timestamp::from_secs(1)), ("a".to_string(), Timestamp::from_secs(2))])
    ///     .add_elements_at(vec![("a".to_string(), Timestamp::from_secs(3))])
    ///     .advance_watermark_to_infinity();
    /// let counts = p
    ///     .apply(s)
    ///     .apply(
    ///         WindowInto::new(WindowFn::fixed(Duration::from_secs(60)))
    ///             .triggering(Trigger::after_watermark().with_early_firings(Trigger::after_count(2)))
    ///             .accumulating_fired_panes(),
    ///     )
    ///     .apply(Count::per_element())
    ///     .apply(ParDo::of(WithPane));
    /// // An early pane after two elements, then the on-time pane with all three.
    /// assert_that(&counts, contains_in_any_order(vec![(2u64, PaneTiming::Early), (3, PaneTiming::OnTime)]));
    /// p.run().unwrap();
    ///
    /// #[derive(Clone, serde::Serialize, serde::Deserialize)]
    /// struct WithPane;
    /// impl DoFn for WithPane {
    ///     type In = (String, u64);
    ///     type Out = (u64, PaneTiming);
    ///     fn process(&mut self, kv: &(String, u64), ctx: &mut ProcessContext<'_, (u64, PaneTiming)>) -> Result<(), DoFnError> {
    ///         let timing = ctx.pane().timing();
    ///         ctx.emit((kv.1, timing));
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn triggering(mut self, trigger: Trigger) -> Self {
        self.strategy.trigger = trigger;
        self.triggered = true;
        self
    }
    /// Each pane holds everything of its window so far.
    pub fn accumulating_fired_panes(mut self) -> Self {
        self.strategy.accumulation_mode = AccumulationMode::Accumulating;
        self.mode_set = true;
        self
    }
    /// Each pane holds only what arrived since the window's previous pane.
    pub fn discarding_fired_panes(mut self) -> Self {
        self.strategy.accumulation_mode = AccumulationMode::Discarding;
        self.mode_set = true;
        self
    }
}

impl<T: Element> PTransform<PCollection<T>> for WindowInto<T> {
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "WindowInto".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<T> {
        let p = input.pipeline().clone();
        if self.triggered && !self.mode_set {
            p.fail(Error::Construction(format!(
                "'{}': a trigger needs an accumulation mode: add .accumulating_fired_panes() or \
                 .discarding_fired_panes()",
                p.current_label()
            )));
        }
        if let Err(m) = self.strategy.trigger.validate() {
            p.fail(Error::Construction(format!("'{}': {m}", p.current_label())));
        }
        let mut strategy = self.strategy;
        if !self.reassign {
            strategy.window_fn = input.windowing().window_fn;
        }
        let out = p.new_output::<T>("out", input.is_bounded(), strategy.clone());
        let own = strategy.clone();
        let reassign = self.reassign;
        let builder: NodeBuilder = Arc::new(move |ctx| {
            let (strategy, reassign): (WindowingStrategy, bool) = if ctx.from_file {
                // `configure` payloads hold the strategy under "configure".
                let (value, reassign) = match ctx.payload.get("configure") {
                    Some(v) => (v.clone(), false),
                    None => (ctx.payload.clone(), true),
                };
                let s = serde_json::from_value(value)
                    .map_err(|e| Error::graph(ctx.label, format!("bad WindowInto payload: {e}")))?;
                (s, reassign)
            } else {
                (own.clone(), reassign)
            };
            strategy.trigger.validate().map_err(|m| Error::graph(ctx.label, m))?;
            strategy.window_fn.validate().map_err(|m| Error::graph(ctx.label, m))?;
            let window_fn = reassign.then_some(strategy.window_fn);
            Ok(Executable::ParDo(Arc::new(AssignWindows::<T> { window_fn, _t: PhantomData })))
        });
        p.set_primitive(Primitive {
            urn: urns::WINDOW_INTO,
            function: Some(format!("window_into:{}", std::any::type_name::<T>())),
            payload: if reassign {
                serde_json::to_value(&strategy).unwrap_or_default()
            } else {
                serde_json::json!({ "configure": strategy })
            },
            lazy_payload: None,
            inputs: vec![input.id().to_string()],
            side_inputs: Vec::new(),
            outputs: vec![out.id().to_string()],
            requirements: Vec::new(),
            builder: Some(builder),
            portable: true,
        });
        out
    }
}

/// Assigns windows by `window_fn`; `None` keeps them (`configure`).
struct AssignWindows<T> {
    window_fn: Option<WindowFn>,
    _t: PhantomData<fn() -> T>,
}

impl<T: Element> ParDoExec for AssignWindows<T> {
    fn instantiate(&self) -> Box<dyn DoFnInvoker> {
        Box::new(AssignWindows::<T> { window_fn: self.window_fn, _t: PhantomData })
    }
    fn prepare_side_input(&self, _: usize, _: Vec<Batch>) -> Result<SideInputView> {
        Err(Error::graph("WindowInto", "takes no side input"))
    }
    fn output_count(&self) -> usize {
        1
    }
}

impl<T: Element> DoFnInvoker for AssignWindows<T> {
    fn setup(&mut self) -> Result<()> {
        Ok(())
    }
    fn start_bundle(&mut self) -> Result<()> {
        Ok(())
    }
    fn process(&mut self, input: &Batch, _: &[SideInputView], out: &mut Outputs<'_>) -> Result<()> {
        let elems = input.downcast_ref::<T>()?;
        let Some(window_fn) = self.window_fn else {
            return out.push(0, Batch::new(elems.clone()));
        };
        let mut res = Vec::with_capacity(elems.len());
        for e in elems {
            for w in window_fn.assign(e.timestamp) {
                res.push(WindowedValue { value: e.value.clone(), timestamp: e.timestamp, window: w, pane: e.pane });
            }
        }
        out.push(0, Batch::new(res))
    }
    fn process_owned(&mut self, input: Batch, _: &[SideInputView], out: &mut Outputs<'_>) -> Result<()> {
        let Some(window_fn) = self.window_fn else {
            return out.push(0, input);
        };
        let elems = input.downcast::<T>()?;
        let mut res = Vec::with_capacity(elems.len());
        for e in elems {
            let windows = window_fn.assign(e.timestamp);
            if let Some((&last, rest)) = windows.split_last() {
                for &w in rest {
                    res.push(WindowedValue { value: e.value.clone(), timestamp: e.timestamp, window: w, pane: e.pane });
                }
                res.push(WindowedValue { value: e.value, timestamp: e.timestamp, window: last, pane: e.pane });
            }
        }
        out.push(0, Batch::new(res))
    }
    fn finish_bundle(&mut self, _: &mut Outputs<'_>) -> Result<()> {
        Ok(())
    }
    fn teardown(&mut self) -> Result<()> {
        Ok(())
    }
    fn take_metrics(&mut self) -> MetricsContainer {
        MetricsContainer::default()
    }
}
