//! `WindowInto`: assigns elements to windows.

use crate::batch::Batch;
use crate::element::{Element, WindowedValue};
use crate::error::{Error, Result};
use crate::exec::{DoFnInvoker, Executable, NodeBuilder, Outputs, ParDoExec, SideInputView};
use crate::graph::urns;
use crate::metrics::MetricsContainer;
use crate::pipeline::{PCollection, PTransform, Primitive};
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
    _t: PhantomData<fn() -> T>,
}

impl<T: Element> WindowInto<T> {
    /// Windows by `window_fn`, with the default timestamp combiner and no allowed lateness.
    pub fn new(window_fn: WindowFn) -> Self {
        WindowInto { strategy: WindowingStrategy { window_fn, ..Default::default() }, _t: PhantomData }
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
}

impl<T: Element> PTransform<PCollection<T>> for WindowInto<T> {
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "WindowInto".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<T> {
        let p = input.pipeline().clone();
        let out = p.new_output::<T>("out", input.is_bounded(), self.strategy);
        let own = self.strategy;
        let builder: NodeBuilder = Arc::new(move |ctx| {
            let strategy: WindowingStrategy = if ctx.from_file {
                serde_json::from_value(ctx.payload.clone())
                    .map_err(|e| Error::graph(ctx.label, format!("bad WindowInto payload: {e}")))?
            } else {
                own
            };
            strategy.window_fn.validate().map_err(|m| Error::graph(ctx.label, m))?;
            Ok(Executable::ParDo(Arc::new(AssignWindows::<T> { window_fn: strategy.window_fn, _t: PhantomData })))
        });
        p.set_primitive(Primitive {
            urn: urns::WINDOW_INTO,
            function: Some(format!("window_into:{}", std::any::type_name::<T>())),
            payload: serde_json::to_value(self.strategy).unwrap_or_default(),
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

struct AssignWindows<T> {
    window_fn: WindowFn,
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
        let mut res = Vec::with_capacity(elems.len());
        for e in elems {
            for w in self.window_fn.assign(e.timestamp) {
                res.push(WindowedValue { value: e.value.clone(), timestamp: e.timestamp, window: w });
            }
        }
        out.push(0, Batch::new(res))
    }
    fn process_owned(&mut self, input: Batch, _: &[SideInputView], out: &mut Outputs<'_>) -> Result<()> {
        let elems = input.downcast::<T>()?;
        let mut res = Vec::with_capacity(elems.len());
        for e in elems {
            let windows = self.window_fn.assign(e.timestamp);
            if let Some((&last, rest)) = windows.split_last() {
                for &w in rest {
                    res.push(WindowedValue { value: e.value.clone(), timestamp: e.timestamp, window: w });
                }
                res.push(WindowedValue { value: e.value, timestamp: e.timestamp, window: last });
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
