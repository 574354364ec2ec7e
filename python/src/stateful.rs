//! Python stateful DoFns (Beam's `StateSpec`s and `TimerSpec`s) on the Rust
//! engine's keyed state and timers.
//!
//! The state lives in the engine's cells (`beamline::state`), typed over
//! [`Value`]: a Python value the engine can hold natively stays native, any
//! other object as its pickle, and a Python combining accumulator as the
//! Python object itself (pickled only when it crosses a process or goes into
//! a snapshot). During one call of `process` or a timer callback, Python
//! reaches the cells of the key and window being processed through a
//! [`StateAccess`], which is valid for that call only.

use crate::combine::{CountFn, ExtremeFn, MeanFn, PyCombineFn, PyObj, SumFn};
use crate::errors::user_failure;
use crate::pyfn::{pane_to_py, unhex, window_from_py};
use crate::value::{unpickle, Value};
use beamline::metrics::MetricsContainer;
use beamline::prelude::*;
use beamline::state::{
    BagState, CombiningState, OrderedListState, SetState, StateSpecs, TimeDomain, TimerFamily, ValueState,
};
use beamline::{DoFnError, StateContext, StatefulDoFn, Timestamp};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::{intern, IntoPyObjectExt};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One declared state cell, as the Python layer describes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StateArg {
    /// The spec's name.
    pub(crate) name: String,
    /// `value`, `bag`, `set`, `ordered_list` or `combining`.
    pub(crate) kind: String,
    /// A combining cell's built-in combiner (`sum`, `min`, `max`, `count`, `mean`).
    pub(crate) combiner: Option<String>,
    /// A combining cell's pickled Python `CombineFn` invoker, hex-encoded.
    pub(crate) invoker: Option<String>,
}

/// One declared timer: its name and domain (`event_time` or `processing_time`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TimerArg {
    pub(crate) name: String,
    pub(crate) domain: String,
}

/// What a value, bag or ordered-list cell holds: a value the engine holds
/// natively, or any other Python object as itself (pickled only when the
/// state is encoded: a snapshot, or a move to another process).
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Held {
    Native(Value),
    Object(PyObj),
}

impl Held {
    fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Held> {
        Ok(match Value::from_py_native(obj)? {
            Some(v) => Held::Native(v),
            None => Held::Object(PyObj(obj.clone().unbind())),
        })
    }

    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Held::Native(v) => v.to_py(py),
            Held::Object(o) => Ok(o.0.bind(py).clone()),
        }
    }
}

/// A declared cell's handle.
#[derive(Clone, Serialize, Deserialize)]
enum Cell {
    Value(ValueState<Held>),
    Bag(BagState<Held>),
    Set(SetState<Value>),
    OrderedList(OrderedListState<Held>),
    Sum(CombiningState<SumFn>),
    Extreme(CombiningState<ExtremeFn>),
    Count(CombiningState<CountFn>),
    Mean(CombiningState<MeanFn>),
    Python(CombiningState<PyCombineFn>),
}

/// Applies `$body` to a combining cell of any combiner.
macro_rules! with_combining {
    ($cell:expr, $ctx:expr, |$c:ident| $body:expr, $other:expr) => {
        match $cell {
            Cell::Sum(s) => {
                #[allow(unused_mut)]
                let mut $c = $ctx.combining(s).map_err(state_err)?;
                $body
            }
            Cell::Extreme(s) => {
                #[allow(unused_mut)]
                let mut $c = $ctx.combining(s).map_err(state_err)?;
                $body
            }
            Cell::Count(s) => {
                #[allow(unused_mut)]
                let mut $c = $ctx.combining(s).map_err(state_err)?;
                $body
            }
            Cell::Mean(s) => {
                #[allow(unused_mut)]
                let mut $c = $ctx.combining(s).map_err(state_err)?;
                $body
            }
            Cell::Python(s) => {
                #[allow(unused_mut)]
                let mut $c = $ctx.combining(s).map_err(state_err)?;
                $body
            }
            _ => $other,
        }
    };
}

/// The handles of a DoFn's declared cells and timers, by index.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Handles {
    cells: Vec<Cell>,
    families: Vec<TimerFamily>,
}

/// A Python DoFn with state and timers, over `(key, value)` pairs.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct PyStatefulFn {
    label: String,
    /// The pickled `beamline.transforms.core._StatefulDoFnInvoker`, hex-encoded.
    invoker: String,
    states: Vec<StateArg>,
    timers: Vec<TimerArg>,
    /// Tagged outputs after the main one (outputs are then `(index, value)`).
    #[serde(default)]
    tags: Vec<String>,
    /// The declared cells and timers (after `declare`).
    #[serde(default)]
    handles: Handles,
    /// The handles shared with each [`StateAccess`] (after `setup`).
    #[serde(skip)]
    shared: Option<Arc<Handles>>,
    /// The unpickled invoker of this instance (after `setup`).
    #[serde(skip)]
    obj: Option<Arc<Py<PyAny>>>,
}

impl PyStatefulFn {
    pub(crate) fn new(
        label: String,
        invoker: String,
        states: Vec<StateArg>,
        timers: Vec<TimerArg>,
        tags: Vec<String>,
    ) -> Self {
        PyStatefulFn { label, invoker, states, timers, tags, handles: Handles::default(), shared: None, obj: None }
    }

    /// Calls the invoker's `method` with `args` and a [`StateAccess`] to
    /// `ctx` (valid for this call only), and emits what it returns.
    fn call(
        &self,
        ctx: &mut StateContext<'_, Value, Value>,
        what: &str,
        args: impl FnOnce(Python<'_>) -> PyResult<Vec<Bound<'_, PyAny>>>,
    ) -> Result<(), DoFnError> {
        let obj = self.obj.clone().ok_or_else(|| DoFnError::new(format!("'{}': called before setup", self.label)))?;
        crate::threadstate::keep();
        let ptr: *mut StateContext<'static, Value, Value> =
            (ctx as *mut StateContext<'_, Value, Value>).cast::<StateContext<'static, Value, Value>>();
        let (outputs, updates) = Python::attach(|py| -> PyResult<_> {
            let access = Bound::new(
                py,
                StateAccess {
                    ctx: ptr,
                    handles: self.shared.clone().unwrap_or_else(|| Arc::new(self.handles.clone())),
                },
            )?;
            let mut all = args(py)?;
            all.push(access.clone().into_any());
            // A generator runs while it is iterated: collect its outputs
            // before the context goes.
            let collect = || -> PyResult<(Vec<Output>, Option<Bound<'_, PyAny>>)> {
                let r = obj.bind(py).call_method1(what, PyTuple::new(py, all)?)?;
                let (list, metrics): (Bound<'_, PyList>, Option<Bound<'_, PyAny>>) = r.extract()?;
                let mut outputs = Vec::with_capacity(list.len());
                for o in list.iter() {
                    outputs.push(output(&o, &self.tags)?);
                }
                Ok((outputs, metrics))
            };
            let collected = collect();
            // The context is only borrowed for this call.
            access.borrow_mut().ctx = std::ptr::null_mut();
            let (outputs, metrics) = collected?;
            let updates: Option<Updates> = metrics.map(|m| m.extract()).transpose()?;
            Ok((outputs, updates))
        })
        .map_err(|e| {
            let err = user_failure(&self.label, format!("<{what}>"), e);
            DoFnError::new(err.to_string())
        })?;
        if let Some(updates) = updates {
            apply(updates, ctx.metrics());
        }
        for (v, ts) in outputs {
            match ts {
                Some(ts) => ctx.emit_with_timestamp(v, ts),
                None => ctx.emit(v),
            }
        }
        Ok(())
    }
}

/// An output value, with its timestamp when the DoFn gave one.
type Output = (Value, Option<Timestamp>);

/// Metric updates a call made: counters, distributions' values, gauges.
type Updates = (Vec<(String, i64)>, Vec<(String, Vec<i64>)>, Vec<(String, i64)>);

/// Applies a call's metric updates to the step's metrics.
fn apply((counters, dists, gauges): Updates, metrics: &mut MetricsContainer) {
    for (name, n) in counters {
        metrics.inc_counter(&name, n);
    }
    for (name, values) in dists {
        for v in values {
            metrics.update_distribution(&name, v);
        }
    }
    for (name, v) in gauges {
        metrics.set_gauge(&name, v);
    }
}

/// The outputs of `finish_bundle`, which holds no element: a `WindowedValue`
/// in its windows at its timestamp, anything else (a `TimestampedValue` at
/// its timestamp) in the global window, as a plain DoFn's `finish_bundle`.
fn finish_bundle_outputs(list: &Bound<'_, PyList>, tags: &[String]) -> PyResult<Vec<(Value, Timestamp, Window)>> {
    let py = list.py();
    let mut outputs = Vec::with_capacity(list.len());
    for o in list.iter() {
        let (value, ts) = output(&o, tags)?;
        let ts = ts.unwrap_or(Timestamp::MIN);
        let inner = if o.get_type().name()?.to_str()? == "TaggedOutput" { o.getattr(intern!(py, "value"))? } else { o };
        if inner.get_type().name()?.to_str()? == "WindowedValue" && inner.hasattr(intern!(py, "windows"))? {
            for w in inner.getattr(intern!(py, "windows"))?.try_iter()? {
                outputs.push((value.clone(), ts, window_from_py(&w?)?));
            }
        } else {
            outputs.push((value, ts, Window::Global));
        }
    }
    Ok(outputs)
}

/// An output of a stateful DoFn: a plain value, or a `TimestampedValue`
/// (or `WindowedValue`, whose windows are not changed) at its timestamp; with
/// tagged outputs, `(output index, value)` (0 for the main output), a
/// `TaggedOutput` going to its tag's.
fn output(o: &Bound<'_, PyAny>, tags: &[String]) -> PyResult<Output> {
    let py = o.py();
    let ty = o.get_type();
    let name = ty.name()?;
    let name = name.to_str()?;
    let (index, o) = if name == "TaggedOutput" {
        let tag: String = o.getattr(intern!(py, "tag"))?.extract()?;
        let at = tags.iter().position(|t| *t == tag).ok_or_else(|| {
            PyValueError::new_err(format!(
                "emits to the undeclared output tag '{tag}'; declare it with .with_outputs('{tag}', ...)"
            ))
        })?;
        (at + 1, o.getattr(intern!(py, "value"))?)
    } else {
        (0, o.clone())
    };
    let ty = o.get_type();
    let name = ty.name()?;
    let (value, ts) = if (name.to_str()? == "TimestampedValue" || name.to_str()? == "WindowedValue")
        && o.hasattr(intern!(py, "timestamp"))?
    {
        let value = Value::from_py(&o.getattr(intern!(py, "value"))?)?;
        let micros: i64 = o.getattr(intern!(py, "timestamp"))?.getattr(intern!(py, "micros"))?.extract()?;
        (value, Some(Timestamp::from_micros(micros)))
    } else {
        (Value::from_py(&o)?, None)
    };
    if tags.is_empty() {
        return Ok((value, ts));
    }
    Ok((Value::Tuple(vec![Value::Int(index as i64), value]), ts))
}

fn window_arg<'py>(py: Python<'py>, w: &Window) -> PyResult<Bound<'py, PyAny>> {
    match w {
        Window::Global => Ok(py.None().into_bound(py)),
        Window::Interval { start, end } => (start.as_micros(), end.as_micros()).into_bound_py_any(py),
    }
}

impl StatefulDoFn for PyStatefulFn {
    type Key = Value;
    type Value = Value;
    type Out = Value;

    fn declare(&mut self, specs: &mut StateSpecs) {
        let mut cells = Vec::with_capacity(self.states.len());
        for s in &self.states {
            let name = s.name.as_str();
            cells.push(match (s.kind.as_str(), s.combiner.as_deref(), &s.invoker) {
                ("bag", ..) => Cell::Bag(specs.bag(name)),
                ("set", ..) => Cell::Set(specs.set(name)),
                ("ordered_list", ..) => Cell::OrderedList(specs.ordered_list(name)),
                ("combining", _, Some(hex)) => {
                    let bytes = unhex(hex).unwrap_or_default();
                    Cell::Python(specs.combining(name, PyCombineFn::new(self.label.clone(), bytes)))
                }
                ("combining", Some("sum"), None) => Cell::Sum(specs.combining(name, SumFn)),
                ("combining", Some("min"), None) => Cell::Extreme(specs.combining(name, ExtremeFn { largest: false })),
                ("combining", Some("max"), None) => Cell::Extreme(specs.combining(name, ExtremeFn { largest: true })),
                ("combining", Some("count"), None) => Cell::Count(specs.combining(name, CountFn)),
                ("combining", Some("mean"), None) => Cell::Mean(specs.combining(name, MeanFn)),
                // The Python layer sends only the kinds above; anything else reads as a value cell.
                _ => Cell::Value(specs.value(name)),
            });
        }
        let families = self
            .timers
            .iter()
            .map(|t| {
                let domain =
                    if t.domain == "processing_time" { TimeDomain::ProcessingTime } else { TimeDomain::EventTime };
                specs.timer_family(&t.name, domain)
            })
            .collect();
        self.handles = Handles { cells, families };
    }

    fn setup(&mut self) -> Result<(), DoFnError> {
        let bytes = unhex(&self.invoker).map_err(DoFnError::new)?;
        let obj = Python::attach(|py| -> PyResult<Py<PyAny>> {
            let obj = unpickle(py, &bytes)?;
            obj.call_method0(intern!(py, "setup"))?;
            Ok(obj.unbind())
        })
        .map_err(|e| DoFnError::new(user_failure(&self.label, "<setup>".into(), e).to_string()))?;
        self.obj = Some(Arc::new(obj));
        self.shared = Some(Arc::new(self.handles.clone()));
        Ok(())
    }

    fn process(
        &mut self,
        key: &Value,
        value: &Value,
        ctx: &mut StateContext<'_, Value, Value>,
    ) -> Result<(), DoFnError> {
        let (ts, window, pane) = (ctx.timestamp(), ctx.window(), ctx.pane());
        self.call(ctx, "process_keyed", |py| {
            Ok(vec![
                key.to_py(py)?,
                value.to_py(py)?,
                ts.as_micros().into_bound_py_any(py)?,
                window_arg(py, &window)?,
                pane_to_py(pane).into_bound_py_any(py)?,
            ])
        })
    }

    fn on_timer(&mut self, timer: &FiredTimer, ctx: &mut StateContext<'_, Value, Value>) -> Result<(), DoFnError> {
        let Some(index) = self.handles.families.iter().position(|f| timer.is_in(f)) else {
            return Ok(());
        };
        let (key, window) = (ctx.key().clone(), ctx.window());
        let (tag, ts) = (timer.tag().to_string(), timer.timestamp());
        self.call(ctx, "fire", |py| {
            Ok(vec![
                index.into_bound_py_any(py)?,
                tag.into_bound_py_any(py)?,
                key.to_py(py)?,
                ts.as_micros().into_bound_py_any(py)?,
                window_arg(py, &window)?,
            ])
        })
    }

    fn start_bundle(&mut self) -> Result<(), DoFnError> {
        let Some(obj) = self.obj.clone() else { return Ok(()) };
        crate::threadstate::keep();
        Python::attach(|py| obj.bind(py).call_method0(intern!(py, "start_bundle")).map(drop))
            .map_err(|e| DoFnError::new(user_failure(&self.label, "<start_bundle>".into(), e).to_string()))
    }

    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, Value>) -> Result<(), DoFnError> {
        let Some(obj) = self.obj.clone() else { return Ok(()) };
        crate::threadstate::keep();
        let (outputs, updates) = Python::attach(|py| -> PyResult<_> {
            let r = obj.bind(py).call_method0(intern!(py, "finish_bundle"))?;
            let (list, metrics): (Bound<'_, PyList>, Option<Bound<'_, PyAny>>) = r.extract()?;
            let updates: Option<Updates> = metrics.map(|m| m.extract()).transpose()?;
            Ok((finish_bundle_outputs(&list, &self.tags)?, updates))
        })
        .map_err(|e| DoFnError::new(user_failure(&self.label, "<finish_bundle>".into(), e).to_string()))?;
        if let Some(updates) = updates {
            apply(updates, ctx.metrics());
        }
        for (value, ts, window) in outputs {
            ctx.emit(value, ts, window);
        }
        Ok(())
    }

    fn teardown(&mut self) -> Result<(), DoFnError> {
        let Some(obj) = self.obj.take() else { return Ok(()) };
        Python::attach(|py| obj.bind(py).call_method0(intern!(py, "teardown")).map(drop))
            .map_err(|e| DoFnError::new(user_failure(&self.label, "<teardown>".into(), e).to_string()))
    }

    fn name(&self) -> String {
        "PythonStatefulDoFn".into()
    }
}

/// The state cells and timers of the key and window being processed, for
/// one call into Python (`beamline._native.StateAccess`).
#[pyclass(module = "beamline._native", name = "StateAccess", unsendable)]
pub(crate) struct StateAccess {
    /// Valid during the call that created this object; null after it.
    ctx: *mut StateContext<'static, Value, Value>,
    handles: Arc<Handles>,
}

fn state_err(e: DoFnError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

impl StateAccess {
    fn ctx(&mut self) -> PyResult<&mut StateContext<'static, Value, Value>> {
        if self.ctx.is_null() {
            return Err(PyRuntimeError::new_err(
                "state and timers can only be used during the process or on_timer call that received them",
            ));
        }
        // SAFETY: `ctx` points at the `StateContext` of the call into Python
        // that created this object, which outlives that call; it is nulled
        // when the call returns. The object is `unsendable`, so it is used on
        // that call's thread only, while the caller does not touch the context.
        Ok(unsafe { &mut *self.ctx })
    }

    fn cell(&self, index: usize) -> PyResult<Cell> {
        self.handles.cells.get(index).cloned().ok_or_else(|| PyValueError::new_err(format!("no state cell {index}")))
    }

    fn wrong(index: usize) -> PyErr {
        PyValueError::new_err(format!("state cell {index} is of another kind"))
    }
}

#[pymethods]
impl StateAccess {
    /// A value cell's value (`None` when empty), a bag's or set's values as a
    /// list, a combining cell's combined value.
    fn read<'py>(&mut self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        let cell = self.cell(index)?;
        let ctx = self.ctx()?;
        let values = |vs: &[Value]| -> PyResult<Bound<'py, PyAny>> {
            Ok(PyList::new(py, vs.iter().map(|v| v.to_py(py)).collect::<PyResult<Vec<_>>>()?)?.into_any())
        };
        let held = |vs: &[Held]| -> PyResult<Bound<'py, PyAny>> {
            Ok(PyList::new(py, vs.iter().map(|v| v.to_py(py)).collect::<PyResult<Vec<_>>>()?)?.into_any())
        };
        match &cell {
            Cell::Value(s) => match ctx.value(s).map_err(state_err)?.get() {
                Some(v) => v.to_py(py),
                None => Ok(py.None().into_bound(py)),
            },
            Cell::Bag(s) => held(ctx.bag(s).map_err(state_err)?.read()),
            Cell::Set(s) => values(&ctx.set(s).map_err(state_err)?.read()),
            Cell::OrderedList(s) => {
                let items = ctx.ordered_list(s).map_err(state_err)?.read();
                ordered(py, items)
            }
            other => with_combining!(other, ctx, |c| c.read().to_py(py), Err(Self::wrong(index))),
        }
    }

    /// Writes a value cell.
    fn write(&mut self, index: usize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let cell = self.cell(index)?;
        let v = Held::from_py(value)?;
        let ctx = self.ctx()?;
        match &cell {
            Cell::Value(s) => ctx.value(s).map_err(state_err)?.write(v),
            _ => return Err(Self::wrong(index)),
        }
        Ok(())
    }

    /// Adds to a bag, set or combining cell.
    fn add(&mut self, index: usize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let cell = self.cell(index)?;
        if let Cell::Bag(s) = &cell {
            let v = Held::from_py(value)?;
            self.ctx()?.bag(s).map_err(state_err)?.add(v);
            return Ok(());
        }
        let v = Value::from_py(value)?;
        let ctx = self.ctx()?;
        match &cell {
            Cell::Set(s) => {
                ctx.set(s).map_err(state_err)?.add(v);
            }
            other => with_combining!(other, ctx, |c| c.add(v), return Err(Self::wrong(index))),
        }
        Ok(())
    }

    /// Adds `value` at `micros` to an ordered list.
    fn add_ordered(&mut self, index: usize, micros: i64, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let cell = self.cell(index)?;
        let v = Held::from_py(value)?;
        let ctx = self.ctx()?;
        match &cell {
            Cell::OrderedList(s) => ctx.ordered_list(s).map_err(state_err)?.add(Timestamp::from_micros(micros), v),
            _ => return Err(Self::wrong(index)),
        }
        Ok(())
    }

    /// An ordered list's `(micros, value)` pairs in `[lo, hi)`.
    fn read_range<'py>(&mut self, py: Python<'py>, index: usize, lo: i64, hi: i64) -> PyResult<Bound<'py, PyAny>> {
        let cell = self.cell(index)?;
        let ctx = self.ctx()?;
        match &cell {
            Cell::OrderedList(s) => {
                let items = ctx
                    .ordered_list(s)
                    .map_err(state_err)?
                    .read_range(Timestamp::from_micros(lo), Timestamp::from_micros(hi));
                ordered(py, items)
            }
            _ => Err(Self::wrong(index)),
        }
    }

    /// Clears an ordered list's values in `[lo, hi)`.
    fn clear_range(&mut self, index: usize, lo: i64, hi: i64) -> PyResult<()> {
        let cell = self.cell(index)?;
        let ctx = self.ctx()?;
        match &cell {
            Cell::OrderedList(s) => ctx
                .ordered_list(s)
                .map_err(state_err)?
                .clear_range(Timestamp::from_micros(lo), Timestamp::from_micros(hi)),
            _ => return Err(Self::wrong(index)),
        }
        Ok(())
    }

    /// Whether a set holds `value`.
    fn contains(&mut self, index: usize, value: &Bound<'_, PyAny>) -> PyResult<bool> {
        let cell = self.cell(index)?;
        let v = Value::from_py(value)?;
        let ctx = self.ctx()?;
        match &cell {
            Cell::Set(s) => Ok(ctx.set(s).map_err(state_err)?.contains(&v)),
            _ => Err(Self::wrong(index)),
        }
    }

    /// Empties a cell.
    fn clear(&mut self, index: usize) -> PyResult<()> {
        let cell = self.cell(index)?;
        let ctx = self.ctx()?;
        match &cell {
            Cell::Value(s) => ctx.value(s).map_err(state_err)?.clear(),
            Cell::Bag(s) => ctx.bag(s).map_err(state_err)?.clear(),
            Cell::Set(s) => ctx.set(s).map_err(state_err)?.clear(),
            Cell::OrderedList(s) => ctx.ordered_list(s).map_err(state_err)?.clear(),
            other => with_combining!(other, ctx, |c| c.clear(), return Err(Self::wrong(index))),
        }
        Ok(())
    }

    /// Sets timer `index` (its dynamic tag `tag`) to fire at `micros`.
    fn set_timer(&mut self, index: usize, tag: &str, micros: i64) -> PyResult<()> {
        let family =
            *self.handles.families.get(index).ok_or_else(|| PyValueError::new_err(format!("no timer {index}")))?;
        let ctx = self.ctx()?;
        ctx.timer_family(&family, tag).map_err(state_err)?.set(Timestamp::from_micros(micros)).map_err(state_err)
    }

    /// Clears timer `index` (its dynamic tag `tag`).
    fn clear_timer(&mut self, index: usize, tag: &str) -> PyResult<()> {
        let family =
            *self.handles.families.get(index).ok_or_else(|| PyValueError::new_err(format!("no timer {index}")))?;
        let ctx = self.ctx()?;
        ctx.timer_family(&family, tag).map_err(state_err)?.clear();
        Ok(())
    }
}

fn ordered<'py>(py: Python<'py>, items: Vec<(Timestamp, Held)>) -> PyResult<Bound<'py, PyAny>> {
    let items = items
        .into_iter()
        .map(|(t, v)| (t.as_micros(), v.to_py(py)?).into_bound_py_any(py))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.into_any())
}
