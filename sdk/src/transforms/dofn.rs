//! The `DoFn` trait and the contexts user code sees.

use crate::batch::Batch;
use crate::element::{Element, WindowedValue};
use crate::error::DoFnError;
use crate::exec::SideInputView;
use crate::metrics::MetricsContainer;
use crate::pane::PaneInfo;
use crate::time::Timestamp;
use crate::transforms::side_input::{SideInput, ViewKind};
use crate::transforms::tagged::TupleTag;
use crate::window::Window;

/// Element-wise user code with Beam's lifecycle.
///
/// A runner clones the DoFn for each worker, calls `setup` once per clone,
/// `start_bundle`/`finish_bundle` around each bundle, `process` for every
/// element, and `teardown` at the end. A DoFn that derives `Serialize` and
/// `Deserialize` can be applied with [`crate::ParDo::of`] and travels in the
/// portable graph.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct SplitWords { min_len: usize }
/// impl DoFn for SplitWords {
///     type In = String;
///     type Out = String;
///     fn process(&mut self, line: &String, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
///         for w in line.split_whitespace().filter(|w| w.len() >= self.min_len) {
///             ctx.metrics().inc_counter("words", 1);
///             ctx.emit(w.to_string());
///         }
///         Ok(())
///     }
/// }
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let words = p.apply(Create::new(vec!["a bb ccc".to_string()])).apply(ParDo::of(SplitWords { min_len: 2 }));
/// assert_that(&words, contains_in_any_order(vec!["bb".to_string(), "ccc".to_string()]));
/// let result = p.run().unwrap();
/// assert_eq!(result.metrics().counter("ParDo(SplitWords)", "words"), Some(2));
/// ```
///
/// A DoFn runs on worker threads, so it must be `Send + Sync`; one holding an
/// `Rc` does not compile:
/// ```compile_fail
/// use beamline::prelude::*;
/// #[derive(Clone)]
/// struct Cache(std::rc::Rc<Vec<u8>>);
/// impl DoFn for Cache {
///     type In = u8;
///     type Out = u8;
///     fn process(&mut self, x: &u8, ctx: &mut ProcessContext<'_, u8>) -> Result<(), DoFnError> {
///         ctx.emit(*x);
///         Ok(())
///     }
/// }
/// ```
///
/// Types are checked when transforms are applied: a step expecting `i64`
/// cannot be applied to a `PCollection<String>`:
/// ```compile_fail
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let words = p.apply(Create::new(vec!["a".to_string()]));
/// let _ = words.apply(Map::new(|x: &i64| x + 1));
/// ```
pub trait DoFn: Clone + Send + Sync + 'static {
    /// Input element type.
    type In: Element;
    /// Main output element type.
    type Out: Element;
    /// Called once per instance before any bundle.
    fn setup(&mut self) -> Result<(), DoFnError> {
        Ok(())
    }
    /// Called before each bundle.
    fn start_bundle(&mut self) -> Result<(), DoFnError> {
        Ok(())
    }
    /// Called for every element.
    fn process(&mut self, element: &Self::In, ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError>;
    /// Whether [`DoFn::process_owned`] is worth calling: when true, a runner
    /// that owns a batch nobody else reads hands its elements over by value.
    const MOVES_INPUT: bool = false;
    /// Called instead of `process`, with the element by value, when
    /// `MOVES_INPUT` is true and the runner no longer needs the element
    /// (so parts of it move to the output without a clone). The default calls
    /// `process`. An error here names the element only by its position.
    fn process_owned(&mut self, element: Self::In, ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError> {
        self.process(&element, ctx)
    }
    /// Called after each bundle; may emit with explicit timestamp and window.
    fn finish_bundle(&mut self, _ctx: &mut FinishBundleContext<'_, Self::Out>) -> Result<(), DoFnError> {
        Ok(())
    }
    /// Called once per instance at the end.
    fn teardown(&mut self) -> Result<(), DoFnError> {
        Ok(())
    }
    /// The name shown in the default label `ParDo(<name>)`.
    fn name(&self) -> String {
        short_type_name::<Self>()
    }
}

/// A type's name without its path and generic arguments (`ParDo(<name>)` labels).
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_string()
}

/// What `process` sees: the element's timestamp and window, outputs, side
/// inputs and metrics.
pub struct ProcessContext<'a, O> {
    pub(crate) main: &'a mut Vec<WindowedValue<O>>,
    pub(crate) tagged: &'a mut [Batch],
    /// The tagged outputs' name hashes, in output order (see [`TupleTag`]).
    pub(crate) tag_keys: &'a [u64],
    pub(crate) timestamp: Timestamp,
    /// A reference, so emitting copies the window from the input element: a
    /// copy of a copy just written to the stack would stall the store buffer.
    pub(crate) window: &'a Window,
    /// The input's pane: outputs keep it, as in Beam.
    pub(crate) pane: PaneInfo,
    pub(crate) metrics: &'a mut MetricsContainer,
    pub(crate) sides: &'a [SideInputView],
    /// The side inputs' id hashes, in order (see [`SideInput`]).
    pub(crate) side_keys: &'a [u64],
    /// Where full output batches go when the runner streams (output index, batch).
    pub(crate) spill: Option<&'a mut dyn FnMut(usize, Batch)>,
}

/// Elements per output batch when a runner streams outputs: a DoFn emitting
/// many elements hands them on in batches that stay in cache and that the
/// allocator reuses, instead of one batch as large as its fan-out.
pub(crate) const OUTPUT_BATCH: usize = 1024;

impl<'a, O: Element> ProcessContext<'a, O> {
    /// Emits to the main output with the input's timestamp and window.
    #[inline]
    pub fn emit(&mut self, value: O) {
        self.main.push(WindowedValue { value, timestamp: self.timestamp, window: *self.window, pane: self.pane });
        if self.main.len() >= OUTPUT_BATCH {
            self.spill_main();
        }
    }
    /// Emits to the main output with a new timestamp (the window stays).
    pub fn emit_with_timestamp(&mut self, value: O, timestamp: Timestamp) {
        self.main.push(WindowedValue { value, timestamp, window: *self.window, pane: self.pane });
        if self.main.len() >= OUTPUT_BATCH {
            self.spill_main();
        }
    }
    #[cold]
    fn spill_main(&mut self) {
        if let Some(spill) = self.spill.as_mut() {
            spill(0, Batch::new(std::mem::replace(self.main, Vec::with_capacity(OUTPUT_BATCH))));
        }
    }
    /// Emits to a tagged output declared with `with_output`.
    pub fn output<T: Element>(&mut self, tag: &TupleTag<T>, value: T) -> Result<(), DoFnError> {
        let i =
            self.tag_keys.iter().position(|k| *k == tag.key).ok_or_else(|| {
                DoFnError::new(format!("output tag '{}' was not declared with with_output", tag.name))
            })?;
        let buf = self.tagged[i]
            .downcast_mut::<T>()
            .map_err(|_| DoFnError::new(format!("output tag '{}' has another element type", tag.name)))?;
        buf.push(WindowedValue { value, timestamp: self.timestamp, window: *self.window, pane: self.pane });
        if buf.len() >= OUTPUT_BATCH {
            if let Some(spill) = self.spill.as_mut() {
                let full = std::mem::replace(buf, Vec::with_capacity(OUTPUT_BATCH));
                spill(i + 1, Batch::new(full));
            }
        }
        Ok(())
    }
    /// The element's event time.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    /// The element's window.
    pub fn window(&self) -> Window {
        *self.window
    }
    /// The firing of the element's window it came from (Beam's
    /// `PaneInfoParam`): after a triggered GroupByKey or combine, whether
    /// it is an early, on-time or late result, and which.
    pub fn pane(&self) -> PaneInfo {
        self.pane
    }
    /// Metrics of this step.
    pub fn metrics(&mut self) -> &mut MetricsContainer {
        self.metrics
    }
    /// The side input's value in the window matching this element's window.
    pub fn side_input<V: ViewKind>(&self, side: &SideInput<V>) -> Result<&'a V::Value, DoFnError> {
        let i = self.side_keys.iter().position(|k| *k == side.key).ok_or_else(|| {
            DoFnError::new(format!("side input '{}' was not given to this ParDo with with_side_input", side.id))
        })?;
        side.read(&self.sides[i], self.window)
    }
}

/// What `finish_bundle` sees.
pub struct FinishBundleContext<'a, O> {
    pub(crate) main: &'a mut Vec<WindowedValue<O>>,
    pub(crate) metrics: &'a mut MetricsContainer,
}

impl<O: Element> FinishBundleContext<'_, O> {
    /// Emits to the main output with an explicit timestamp and window.
    pub fn emit(&mut self, value: O, timestamp: Timestamp, window: Window) {
        self.main.push(WindowedValue { value, timestamp, window, pane: PaneInfo::NO_FIRING });
    }
    /// Metrics of this step.
    pub fn metrics(&mut self) -> &mut MetricsContainer {
        self.metrics
    }
}
