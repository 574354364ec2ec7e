//! Combiners on Python values: `sum`, `min`, `max`, `Count` and `Mean` in
//! Rust (lifted before the shuffle, no GIL), and any Python `CombineFn`,
//! whose inputs collect in Rust and reach Python 512 at a time.

use crate::errors::user_failure;
use crate::value::{unpickle, Value};
use beamline::CombineFn;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

/// A user failure inside a combine: the SDK turns the panic into an error
/// naming the step (and the exception is kept for Python).
fn fail(label: &str, what: &str, e: PyErr) -> ! {
    let err = user_failure(label, format!("<{what}>"), e);
    std::panic::panic_any(err.to_string())
}

fn type_error(message: String) -> ! {
    std::panic::panic_any(format!("TypeError: {message}"))
}

/// Python's `a + b` for numbers.
fn add(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            x.checked_add(*y).map(Value::Int).unwrap_or(Value::Float(*x as f64 + *y as f64))
        }
        (Value::Bool(x), y) => add(&Value::Int(*x as i64), y),
        (x, Value::Bool(y)) => add(x, &Value::Int(*y as i64)),
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => Value::Float(*x as f64 + y),
        (Value::Float(x), Value::Float(y)) => Value::Float(x + y),
        (x, y) => type_error(format!("unsupported operand type(s) for +: {x:?} and {y:?}")),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(*b as i64 as f64),
        _ => None,
    }
}

/// Python's ordering of two values (`None` where Python raises TypeError).
pub(crate) fn py_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bytes(x), Value::Bytes(y)) => Some(x.cmp(y)),
        (Value::Tuple(x), Value::Tuple(y)) | (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                if p == q {
                    continue;
                }
                match py_cmp(p, q) {
                    Some(Ordering::Equal) => {}
                    other => return other,
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        (x, y) => as_f64(x)?.partial_cmp(&as_f64(y)?),
    }
}

/// `CombineGlobally(sum)` / `CombinePerKey(sum)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SumFn;

impl CombineFn for SumFn {
    type In = Value;
    type Acc = Value;
    type Out = Value;
    fn create_accumulator(&self) -> Value {
        Value::Int(0)
    }
    fn add_input(&self, acc: &mut Value, input: &Value) {
        *acc = add(acc, input);
    }
    fn merge_accumulators(&self, acc: &mut Value, other: Value) {
        *acc = add(acc, &other);
    }
    fn extract_output(&self, acc: Value) -> Value {
        acc
    }
}

/// `min` and `max`: the first of the smallest (largest) inputs, as Python's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ExtremeFn {
    pub(crate) largest: bool,
}

impl ExtremeFn {
    fn better(&self, new: &Value, old: &Value) -> bool {
        let want = if self.largest { Ordering::Greater } else { Ordering::Less };
        match py_cmp(new, old) {
            Some(o) => o == want,
            None => type_error(format!("'<' not supported between {new:?} and {old:?}")),
        }
    }
}

impl CombineFn for ExtremeFn {
    type In = Value;
    type Acc = Option<Value>;
    type Out = Value;
    fn create_accumulator(&self) -> Option<Value> {
        None
    }
    fn add_input(&self, acc: &mut Option<Value>, input: &Value) {
        match acc {
            Some(old) if !self.better(input, old) => {}
            _ => *acc = Some(input.clone()),
        }
    }
    fn merge_accumulators(&self, acc: &mut Option<Value>, other: Option<Value>) {
        if let Some(o) = other {
            self.add_input(acc, &o);
        }
    }
    fn extract_output(&self, acc: Option<Value>) -> Value {
        match acc {
            Some(v) => v,
            None => std::panic::panic_any(format!(
                "ValueError: {}() arg is an empty sequence",
                if self.largest { "max" } else { "min" }
            )),
        }
    }
}

/// `Count.Globally`, `Count.PerKey`, `Count.PerElement`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CountFn;

impl CombineFn for CountFn {
    type In = Value;
    type Acc = i64;
    type Out = Value;
    fn create_accumulator(&self) -> i64 {
        0
    }
    fn add_input(&self, acc: &mut i64, _: &Value) {
        *acc += 1;
    }
    fn merge_accumulators(&self, acc: &mut i64, other: i64) {
        *acc += other;
    }
    fn extract_output(&self, acc: i64) -> Value {
        Value::Int(acc)
    }
}

/// `Mean.Globally`, `Mean.PerKey`: a float, NaN for no input (as Beam's).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct MeanFn;

impl CombineFn for MeanFn {
    type In = Value;
    type Acc = (Value, i64);
    type Out = Value;
    fn create_accumulator(&self) -> (Value, i64) {
        (Value::Int(0), 0)
    }
    fn add_input(&self, acc: &mut (Value, i64), input: &Value) {
        acc.0 = add(&acc.0, input);
        acc.1 += 1;
    }
    fn merge_accumulators(&self, acc: &mut (Value, i64), other: (Value, i64)) {
        acc.0 = add(&acc.0, &other.0);
        acc.1 += other.1;
    }
    fn extract_output(&self, (sum, n): (Value, i64)) -> Value {
        match n {
            0 => Value::Float(f64::NAN),
            n => Value::Float(as_f64(&sum).unwrap_or(f64::NAN) / n as f64),
        }
    }
}

/// A Python object an accumulator holds: shared by reference, pickled only
/// when it is encoded (to cross a process).
pub(crate) struct PyObj(pub(crate) Py<PyAny>);

impl Clone for PyObj {
    fn clone(&self) -> Self {
        Python::attach(|py| PyObj(self.0.clone_ref(py)))
    }
}

impl std::fmt::Debug for PyObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<Python accumulator>")
    }
}

impl Serialize for PyObj {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = Python::attach(|py| crate::value::pickle(self.0.bind(py))).map_err(serde::ser::Error::custom)?;
        s.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for PyObj {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes: Vec<u8> = serde_bytes_vec(d)?;
        Python::attach(|py| unpickle(py, &bytes).map(|o| PyObj(o.unbind()))).map_err(serde::de::Error::custom)
    }
}

fn serde_bytes_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("pickle bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::new();
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
    d.deserialize_bytes(V)
}

/// A Python CombineFn's accumulator: the Python accumulator (once created)
/// and the inputs not yet added to it.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub(crate) struct PyAcc {
    acc: Option<PyObj>,
    pending: Vec<Value>,
}

/// Inputs collected before one call into Python.
const PENDING: usize = 512;

/// A Python `CombineFn`, through `beamline.transforms.core._CombineFnInvoker`.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct PyCombineFn {
    pub(crate) label: String,
    /// The pickled invoker.
    pub(crate) invoker: Vec<u8>,
    #[serde(skip)]
    obj: Arc<OnceLock<Py<PyAny>>>,
}

impl PyCombineFn {
    pub(crate) fn new(label: String, invoker: Vec<u8>) -> Self {
        PyCombineFn { label, invoker, obj: Arc::new(OnceLock::new()) }
    }

    fn with<R>(&self, what: &str, f: impl FnOnce(Python<'_>, &Bound<'_, PyAny>) -> PyResult<R>) -> R {
        Python::attach(|py| {
            let obj = match self.obj.get() {
                Some(o) => o,
                None => {
                    let o = unpickle(py, &self.invoker).unwrap_or_else(|e| fail(&self.label, what, e));
                    let _ = self.obj.set(o.unbind());
                    self.obj.get().unwrap_or_else(|| unreachable!("set above"))
                }
            };
            f(py, obj.bind(py)).unwrap_or_else(|e| fail(&self.label, what, e))
        })
    }

    /// Adds the pending inputs to the Python accumulator.
    fn flush(&self, acc: &mut PyAcc) {
        if acc.pending.is_empty() && acc.acc.is_some() {
            return;
        }
        let pending = std::mem::take(&mut acc.pending);
        let current = acc.acc.take();
        let new = self.with("add_input", |py, obj| {
            let inputs = PyList::new(py, pending.iter().map(|v| v.to_py(py)).collect::<PyResult<Vec<_>>>()?)?;
            let current = current.map(|c| c.0.into_bound(py).into_any()).unwrap_or_else(|| py.None().into_bound(py));
            Ok(obj.call_method1(intern!(py, "add_inputs"), (current, inputs))?.unbind())
        });
        acc.acc = Some(PyObj(new));
    }
}

impl CombineFn for PyCombineFn {
    type In = Value;
    type Acc = PyAcc;
    type Out = Value;
    fn create_accumulator(&self) -> PyAcc {
        PyAcc::default()
    }
    fn add_input(&self, acc: &mut PyAcc, input: &Value) {
        acc.pending.push(input.clone());
        if acc.pending.len() >= PENDING {
            self.flush(acc);
        }
    }
    fn merge_accumulators(&self, acc: &mut PyAcc, mut other: PyAcc) {
        self.flush(acc);
        self.flush(&mut other);
        let (a, b) = (acc.acc.take(), other.acc.take());
        let merged = self.with("merge_accumulators", |py, obj| {
            let accs = PyList::new(py, [a, b].into_iter().flatten().map(|o| o.0.into_bound(py)))?;
            Ok(obj.call_method1(intern!(py, "merge_accumulators"), (accs,))?.unbind())
        });
        acc.acc = Some(PyObj(merged));
    }
    fn extract_output(&self, mut acc: PyAcc) -> Value {
        self.flush(&mut acc);
        let a = acc.acc.take();
        self.with("extract_output", |py, obj| {
            let a = a.map(|o| o.0.into_bound(py)).unwrap_or_else(|| py.None().into_bound(py));
            Value::from_py(&obj.call_method1(intern!(py, "extract_output"), (a,))?)
        })
    }
    fn compact(&self, mut acc: PyAcc) -> PyAcc {
        self.flush(&mut acc);
        acc
    }
    fn name(&self) -> String {
        "PythonCombineFn".into()
    }
}
