//! Python user code in a ParDo: each invoker unpickles its own copy of the
//! Python invoker (`beamline.transforms.core._DoFnInvoker`) and calls it a
//! batch at a time, under one hold of the GIL per batch.

use crate::errors::user_failure;
use crate::value::{unpickle, Value};
use beamline::exec::{DoFnInvoker, Executable, NodeBuilder, Outputs, ParDoExec, SideInputView};
use beamline::metrics::MetricsContainer;
use beamline::{Batch, Error, Result, Timestamp, Window, WindowFn, WindowedValue};
use beamline::{PaneInfo, PaneTiming};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyTuple, PyType};
use pyo3::{intern, IntoPyObjectExt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// How a side input is read (Beam's `AsSingleton`, `AsIter`, `AsList`, `AsDict`, `AsMultiMap`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SideKind {
    Singleton,
    Iter,
    List,
    Dict,
    MultiMap,
}

/// One side input of a Python ParDo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SideSpec {
    pub(crate) kind: SideKind,
    /// For singletons: the value read in a window without elements.
    #[serde(default)]
    pub(crate) default: Option<Value>,
}

/// What a Python ParDo's graph payload holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PyParDoPayload {
    /// The pickled Python invoker, hex-encoded.
    pub(crate) invoker: String,
    /// Tagged outputs after the main one.
    pub(crate) tags: Vec<String>,
    pub(crate) sides: Vec<SideSpec>,
    /// Whether the DoFn reads element timestamps or windows.
    pub(crate) context: bool,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(text: &str) -> std::result::Result<Vec<u8>, String> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return Err("not hex".into());
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| e.to_string())).collect()
}

/// The builder of every Python ParDo: everything comes from the payload, so
/// a graph read from a file runs the file's code.
pub(crate) fn builder() -> NodeBuilder {
    Arc::new(|ctx| {
        let bad = |e: String| Error::graph(ctx.label, format!("bad Python ParDo payload: {e}"));
        let payload: PyParDoPayload = serde_json::from_value(ctx.payload.clone()).map_err(|e| bad(e.to_string()))?;
        let invoker = unhex(&payload.invoker).map_err(bad)?;
        if ctx.side_inputs.len() != payload.sides.len() || ctx.outputs.len() != 1 + payload.tags.len() {
            return Err(Error::graph(ctx.label, "the graph's outputs or side inputs do not match the payload's"));
        }
        let input_window_fn = ctx.inputs.first().map(|i| i.windowing.window_fn).unwrap_or_default();
        Ok(Executable::ParDo(Arc::new(PyParDoExec(Arc::new(Shared {
            label: ctx.label.to_string(),
            invoker,
            tags: payload.tags,
            side_windows: ctx.side_inputs.iter().map(|s| s.windowing.window_fn).collect(),
            sides: payload.sides,
            context: payload.context,
            input_window_fn,
        })))))
    })
}

struct Shared {
    label: String,
    invoker: Vec<u8>,
    tags: Vec<String>,
    sides: Vec<SideSpec>,
    side_windows: Vec<WindowFn>,
    context: bool,
    input_window_fn: WindowFn,
}

struct PyParDoExec(Arc<Shared>);

/// A prepared side input: one Python object per window.
struct PySide {
    by_window: HashMap<Window, Py<PyAny>>,
    /// What a window without elements reads (`None`: an error, for singletons).
    empty: Option<Py<PyAny>>,
}

impl ParDoExec for PyParDoExec {
    fn instantiate(&self) -> Box<dyn DoFnInvoker> {
        Box::new(PyInvoker { shared: self.0.clone(), obj: None, metrics: MetricsContainer::default() })
    }

    fn prepare_side_input(&self, index: usize, contents: Vec<Batch>) -> Result<SideInputView> {
        let s = &self.0;
        let spec = s.sides.get(index).ok_or_else(|| Error::graph(&s.label, format!("has no side input {index}")))?;
        let mut per_window: HashMap<Window, Vec<Value>> = HashMap::new();
        for b in contents {
            for wv in b.downcast::<Value>()? {
                per_window.entry(wv.window).or_default().push(wv.value);
            }
        }
        let side = Python::attach(|py| -> PyResult<PySide> {
            let mut by_window = HashMap::with_capacity(per_window.len());
            for (w, values) in per_window {
                by_window.insert(w, view(py, &spec.kind, values)?.unbind());
            }
            let empty = match (&spec.kind, &spec.default) {
                (SideKind::Singleton, None) => None,
                (SideKind::Singleton, Some(d)) => Some(d.to_py(py)?.unbind()),
                (kind, _) => Some(view(py, kind, Vec::new())?.unbind()),
            };
            Ok(PySide { by_window, empty })
        })
        .map_err(|e| user_failure(&s.label, format!("<side input {index}>"), e))?;
        Ok(SideInputView::new(Arc::new(side)))
    }

    fn output_count(&self) -> usize {
        1 + self.0.tags.len()
    }
}

/// The Python value a DoFn reads for one window's elements.
fn view<'py>(py: Python<'py>, kind: &SideKind, values: Vec<Value>) -> PyResult<Bound<'py, PyAny>> {
    match kind {
        SideKind::Singleton => match values.as_slice() {
            [v] => v.to_py(py),
            _ => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "PCollection of size {} with more than one element accessed as a singleton view",
                values.len()
            ))),
        },
        SideKind::Iter | SideKind::List => {
            Ok(PyList::new(py, values.iter().map(|v| v.to_py(py)).collect::<PyResult<Vec<_>>>()?)?.into_any())
        }
        SideKind::Dict | SideKind::MultiMap => {
            let d = pyo3::types::PyDict::new(py);
            for v in values {
                let (k, v) = v.into_pair().map_err(|v| {
                    pyo3::exceptions::PyTypeError::new_err(format!(
                        "a dict side input needs key-value pairs, got {v:?}"
                    ))
                })?;
                let (k, v) = (k.to_py(py)?, v.to_py(py)?);
                if *kind == SideKind::Dict {
                    d.set_item(k, v)?;
                } else {
                    match d.get_item(&k)? {
                        Some(list) => list.cast::<PyList>()?.append(v)?,
                        None => d.set_item(k, PyList::new(py, [v])?)?,
                    }
                }
            }
            Ok(d.into_any())
        }
    }
}

struct PyInvoker {
    shared: Arc<Shared>,
    obj: Option<Py<PyAny>>,
    metrics: MetricsContainer,
}

static TAGGED_OUTPUT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMESTAMPED_VALUE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static WINDOWED_VALUE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Where the outputs of one batch collect, per output index.
struct Collected {
    outs: Vec<Vec<WindowedValue<Value>>>,
}

impl PyInvoker {
    fn call<'py>(&self, py: Python<'py>, what: &str) -> Result<Bound<'py, PyAny>> {
        let obj = self.obj.as_ref().ok_or_else(|| Error::Runner {
            runner: String::new(),
            message: format!("'{}': {what} before setup", self.shared.label),
        })?;
        obj.bind(py).call_method0(what).map_err(|e| user_failure(&self.shared.label, format!("<{what}>"), e))
    }

    /// Routes one object a DoFn produced for `input` to its output.
    #[inline]
    fn emit(
        &self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        input: (Timestamp, &Window, PaneInfo),
        index: usize,
        c: &mut Collected,
    ) -> PyResult<()> {
        if is_plain(obj) {
            c.outs[index].push(WindowedValue {
                value: Value::from_py(obj)?,
                timestamp: input.0,
                window: *input.1,
                pane: input.2,
            });
            return Ok(());
        }
        self.emit_special(py, obj, input, index, c)
    }

    /// [`PyInvoker::emit`] for an object that may be a `TaggedOutput`,
    /// `TimestampedValue` or `WindowedValue`.
    fn emit_special(
        &self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        input: (Timestamp, &Window, PaneInfo),
        index: usize,
        c: &mut Collected,
    ) -> PyResult<()> {
        let ty = obj.get_type();
        if ty.is(TAGGED_OUTPUT.import(py, "beamline.pvalue", "TaggedOutput")?) {
            let tag: String = obj.getattr(intern!(py, "tag"))?.extract()?;
            let at = self.shared.tags.iter().position(|t| *t == tag).ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "'{}' emits to the undeclared output tag '{tag}'; declare it with .with_outputs('{tag}', ...)",
                    self.shared.label
                ))
            })?;
            return self.emit(py, &obj.getattr(intern!(py, "value"))?, input, at + 1, c);
        }
        if ty.is(TIMESTAMPED_VALUE.import(py, "beamline.transforms.window", "TimestampedValue")?) {
            let (value, ts) = value_and_timestamp(obj)?;
            for window in self.shared.input_window_fn.assign(ts) {
                c.outs[index].push(WindowedValue { value: value.clone(), timestamp: ts, window, pane: input.2 });
            }
            return Ok(());
        }
        if ty.is(WINDOWED_VALUE.import(py, "beamline.utils.windowed_value", "WindowedValue")?) {
            let (value, ts) = value_and_timestamp(obj)?;
            for w in obj.getattr(intern!(py, "windows"))?.try_iter()? {
                let window = window_from_py(&w?)?;
                c.outs[index].push(WindowedValue { value: value.clone(), timestamp: ts, window, pane: input.2 });
            }
            return Ok(());
        }
        c.outs[index].push(WindowedValue {
            value: Value::from_py(obj)?,
            timestamp: input.0,
            window: *input.1,
            pane: input.2,
        });
        Ok(())
    }

    /// The side-input arguments for an element in `window`.
    fn side_args<'py>(
        &self,
        py: Python<'py>,
        sides: &[SideInputView],
        window: &Window,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let mut args = Vec::with_capacity(sides.len());
        for (i, s) in sides.iter().enumerate() {
            let side = s
                .downcast_ref::<PySide>()
                .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("side input of another kind"))?;
            let w = self.shared.side_windows[i].side_input_window(window);
            match side.by_window.get(&w).or(side.empty.as_ref()) {
                Some(v) => args.push(v.bind(py).clone()),
                None => {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "PCollection of size 0 with no default value accessed as a singleton view (side input {i}, window {w})"
                    )))
                }
            }
        }
        PyTuple::new(py, args)
    }
}

/// The `value` and `timestamp` of a `TimestampedValue` or `WindowedValue`.
fn value_and_timestamp(obj: &Bound<'_, PyAny>) -> PyResult<(Value, Timestamp)> {
    let py = obj.py();
    let value = Value::from_py(&obj.getattr(intern!(py, "value"))?)?;
    let micros = obj.getattr(intern!(py, "timestamp"))?.getattr(intern!(py, "micros"))?.extract()?;
    Ok((value, Timestamp::from_micros(micros)))
}

/// Whether `obj` is of a built-in type that is never a special output.
fn is_plain(obj: &Bound<'_, PyAny>) -> bool {
    use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString};
    obj.is_exact_instance_of::<PyString>()
        || obj.is_exact_instance_of::<PyTuple>()
        || obj.is_exact_instance_of::<PyInt>()
        || obj.is_none()
        || obj.is_exact_instance_of::<PyFloat>()
        || obj.is_exact_instance_of::<PyList>()
        || obj.is_exact_instance_of::<PyDict>()
        || obj.is_exact_instance_of::<PyBytes>()
        || obj.is_exact_instance_of::<PyBool>()
}

/// Python's cyclic garbage collector paused for one batch: converting and
/// calling a batch makes many short-lived containers, and a collection every
/// few hundred of them cost a tenth of a callable pipeline's time. Cycles made
/// meanwhile are collected after the batch.
struct GcPause<'py>(Option<Bound<'py, PyAny>>);

impl<'py> GcPause<'py> {
    fn new(py: Python<'py>) -> PyResult<Self> {
        static GC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let gc = GC.get_or_try_init(py, || py.import("gc").map(|m| m.into_any().unbind()))?.bind(py).clone();
        if gc.call_method0(intern!(py, "isenabled"))?.is_truthy()? {
            gc.call_method0(intern!(py, "disable"))?;
            Ok(GcPause(Some(gc)))
        } else {
            Ok(GcPause(None))
        }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(gc) = &self.0 {
            let _ = gc.call_method0(intern!(gc.py(), "enable"));
        }
    }
}

/// A Python window object as a Rust window.
pub(crate) fn window_from_py(w: &Bound<'_, PyAny>) -> PyResult<Window> {
    let py = w.py();
    if w.hasattr(intern!(py, "start"))? {
        let start = w.getattr(intern!(py, "start"))?.getattr(intern!(py, "micros"))?.extract()?;
        let end = w.getattr(intern!(py, "end"))?.getattr(intern!(py, "micros"))?.extract()?;
        Ok(Window::interval(Timestamp::from_micros(start), Timestamp::from_micros(end)))
    } else {
        Ok(Window::Global)
    }
}

/// A window as the Python invoker's context reads it: `(start, end)` in
/// microseconds, or `None` for the global window.
fn window_to_py<'py>(py: Python<'py>, w: &Window) -> PyResult<Bound<'py, PyAny>> {
    match w {
        Window::Global => Ok(py.None().into_bound(py)),
        Window::Interval { start, end } => (start.as_micros(), end.as_micros()).into_bound_py_any(py),
    }
}

/// A pane as the Python invoker's context reads it: `(is_first, is_last,
/// timing, index, nonspeculative_index)`, timing as Beam's `PaneInfoTiming`.
pub(crate) fn pane_to_py(p: PaneInfo) -> (bool, bool, u8, u64, i64) {
    let timing = match p.timing() {
        PaneTiming::Early => 0,
        PaneTiming::OnTime => 1,
        PaneTiming::Late => 2,
        PaneTiming::Unknown => 3,
    };
    (p.is_first(), p.is_last(), timing, p.index(), p.nonspeculative_index())
}

impl DoFnInvoker for PyInvoker {
    fn setup(&mut self) -> Result<()> {
        let label = &self.shared.label;
        let obj = Python::attach(|py| -> PyResult<Py<PyAny>> {
            let obj = unpickle(py, &self.shared.invoker)?;
            obj.call_method0(intern!(py, "setup"))?;
            Ok(obj.unbind())
        })
        .map_err(|e| user_failure(label, "<setup>".into(), e))?;
        self.obj = Some(obj);
        Ok(())
    }

    fn start_bundle(&mut self) -> Result<()> {
        Python::attach(|py| self.call(py, "start_bundle").map(drop))
    }

    fn process(&mut self, input: &Batch, sides: &[SideInputView], out: &mut Outputs<'_>) -> Result<()> {
        let elems = input.downcast_ref::<Value>()?;
        if elems.is_empty() {
            return Ok(());
        }
        let shared = &*self.shared;
        let mut c = Collected { outs: (0..1 + shared.tags.len()).map(|_| Vec::new()).collect() };
        let mut failed_at = 0usize;
        crate::threadstate::keep();
        Python::attach(|py| -> PyResult<()> {
            let obj = match &self.obj {
                Some(o) => o.bind(py),
                None => return Err(pyo3::exceptions::PyRuntimeError::new_err("process before setup")),
            };
            let _paused = GcPause::new(py)?;
            let mut start = 0;
            while start < elems.len() {
                // A run of elements that read the same side-input windows.
                let end = if sides.is_empty() {
                    elems.len()
                } else {
                    let same = |a: &Window, b: &Window| {
                        shared.side_windows.iter().all(|f| f.side_input_window(a) == f.side_input_window(b))
                    };
                    start + elems[start..].iter().take_while(|e| same(&e.window, &elems[start].window)).count()
                };
                failed_at = start;
                let chunk = &elems[start..end];
                let values = PyList::new(py, chunk.iter().map(|e| e.value.to_py(py)).collect::<PyResult<Vec<_>>>()?)?;
                let ctx = if shared.context {
                    let items = chunk
                        .iter()
                        .map(|e| {
                            (e.timestamp.as_micros(), window_to_py(py, &e.window)?, pane_to_py(e.pane))
                                .into_bound_py_any(py)
                        })
                        .collect::<PyResult<Vec<_>>>()?;
                    PyList::new(py, items)?.into_any()
                } else {
                    py.None().into_bound(py)
                };
                let side_args = self.side_args(py, sides, &chunk[0].window)?;
                let r = obj.call_method1(intern!(py, "process_batch"), (values, ctx, side_args))?;
                let (outputs, counts): (Bound<'_, PyList>, Option<Vec<usize>>) = r.extract()?;
                match counts {
                    None => {
                        for (o, e) in outputs.iter().zip(chunk) {
                            self.emit(py, &o, (e.timestamp, &e.window, e.pane), 0, &mut c)?;
                        }
                    }
                    Some(counts) => {
                        let mut it = outputs.iter();
                        for (n, e) in counts.into_iter().zip(chunk) {
                            for o in it.by_ref().take(n) {
                                self.emit(py, &o, (e.timestamp, &e.window, e.pane), 0, &mut c)?;
                            }
                        }
                    }
                }
                start = end;
            }
            Ok(())
        })
        .map_err(|e| user_failure(&shared.label, input.describe(failed_at), e))?;
        for (i, b) in c.outs.into_iter().enumerate() {
            out.push(i, Batch::new(b))?;
        }
        Ok(())
    }

    fn finish_bundle(&mut self, out: &mut Outputs<'_>) -> Result<()> {
        let shared = &*self.shared;
        let mut c = Collected { outs: (0..1 + shared.tags.len()).map(|_| Vec::new()).collect() };
        Python::attach(|py| -> Result<()> {
            let outputs = self.call(py, "finish_bundle")?;
            let each = |outputs: Bound<'_, PyAny>, c: &mut Collected| -> PyResult<()> {
                for o in outputs.try_iter()? {
                    self.emit(py, &o?, (Timestamp::MIN, &Window::Global, PaneInfo::NO_FIRING), 0, c)?;
                }
                Ok(())
            };
            each(outputs, &mut c).map_err(|e| user_failure(&shared.label, "<finish_bundle>".into(), e))
        })?;
        for (i, b) in c.outs.into_iter().enumerate() {
            out.push(i, Batch::new(b))?;
        }
        Ok(())
    }

    fn teardown(&mut self) -> Result<()> {
        // A runner may take the metrics after teardown (timely does): keep them first.
        self.collect_metrics();
        let Some(obj) = self.obj.take() else { return Ok(()) };
        Python::attach(|py| {
            let r = obj.bind(py).call_method0(intern!(py, "teardown"));
            drop(obj);
            r.map(drop)
        })
        .map_err(|e| user_failure(&self.shared.label, "<teardown>".into(), e))
    }

    fn take_metrics(&mut self) -> MetricsContainer {
        self.collect_metrics();
        std::mem::take(&mut self.metrics)
    }
}

impl PyInvoker {
    /// Moves the Python invoker's metric updates into `self.metrics`.
    fn collect_metrics(&mut self) {
        if let Some(obj) = &self.obj {
            let taken = Python::attach(|py| -> PyResult<_> {
                let r = obj.bind(py).call_method0(intern!(py, "take_metrics"))?;
                r.extract::<(Vec<(String, i64)>, Vec<(String, Vec<i64>)>, Vec<(String, i64)>)>()
            });
            if let Ok((counters, dists, gauges)) = taken {
                for (name, n) in counters {
                    self.metrics.inc_counter(&name, n);
                }
                for (name, values) in dists {
                    for v in values {
                        self.metrics.update_distribution(&name, v);
                    }
                }
                for (name, v) in gauges {
                    self.metrics.set_gauge(&name, v);
                }
            }
        }
    }
}
