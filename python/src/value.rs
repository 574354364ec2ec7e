//! `Value`: a Python element as Rust data.
//!
//! The common types (None, bool, int, float, str, bytes, and tuples, lists
//! and dicts of them) convert field by field, so they hash, compare and encode
//! the same way in every process (Python's own `hash()` of `str` is salted per
//! process). Everything else travels as its pickle, compared by its bytes.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// A Python element.
#[derive(Clone, Serialize, Deserialize, Default)]
pub(crate) enum Value {
    /// `None`.
    #[default]
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int that fits 64 bits (larger ones are pickled).
    Int(i64),
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
    /// A bytes object.
    Bytes(Vec<u8>),
    /// A tuple (exactly `tuple`; named tuples and other subclasses are pickled).
    Tuple(Vec<Value>),
    /// A list.
    List(Vec<Value>),
    /// A dict, in insertion order.
    Dict(Vec<(Value, Value)>),
    /// Any other object, as its pickle.
    Pickled(Vec<u8>),
}

static PICKLE_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static PICKLE_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static CLOUDPICKLE_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The pickle of `obj` (cloudpickle when plain pickle cannot, as for lambdas).
pub(crate) fn pickle(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let py = obj.py();
    let dumps = PICKLE_DUMPS.import(py, "pickle", "dumps")?;
    let bytes = match dumps.call1((obj, 4)) {
        Ok(b) => b,
        Err(_) => CLOUDPICKLE_DUMPS.import(py, "cloudpickle", "dumps")?.call1((obj,))?,
    };
    Ok(bytes.cast::<PyBytes>()?.as_bytes().to_vec())
}

/// Reads a pickle back.
pub(crate) fn unpickle<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    PICKLE_LOADS.import(py, "pickle", "loads")?.call1((PyBytes::new(py, bytes),))
}

impl Value {
    /// Converts a Python object.
    pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        if obj.is_exact_instance_of::<PyString>() {
            return Ok(Value::Str(obj.cast::<PyString>()?.to_str()?.to_owned()));
        }
        if obj.is_exact_instance_of::<PyInt>() {
            return match obj.extract::<i64>() {
                Ok(i) => Ok(Value::Int(i)),
                Err(_) => Ok(Value::Pickled(pickle(obj)?)),
            };
        }
        if obj.is_none() {
            return Ok(Value::None);
        }
        if obj.is_exact_instance_of::<PyBool>() {
            return Ok(Value::Bool(obj.extract()?));
        }
        if obj.is_exact_instance_of::<PyFloat>() {
            return Ok(Value::Float(obj.extract()?));
        }
        if obj.is_exact_instance_of::<PyTuple>() {
            let t = obj.cast::<PyTuple>()?;
            return Ok(Value::Tuple(t.iter().map(|x| Value::from_py(&x)).collect::<PyResult<_>>()?));
        }
        if obj.is_exact_instance_of::<PyList>() {
            let l = obj.cast::<PyList>()?;
            return Ok(Value::List(l.iter().map(|x| Value::from_py(&x)).collect::<PyResult<_>>()?));
        }
        if obj.is_exact_instance_of::<PyBytes>() {
            return Ok(Value::Bytes(obj.cast::<PyBytes>()?.as_bytes().to_vec()));
        }
        if obj.is_exact_instance_of::<PyDict>() {
            let d = obj.cast::<PyDict>()?;
            let mut items = Vec::with_capacity(d.len());
            for (k, v) in d.iter() {
                items.push((Value::from_py(&k)?, Value::from_py(&v)?));
            }
            return Ok(Value::Dict(items));
        }
        Ok(Value::Pickled(pickle(obj)?))
    }

    /// The value when every part of `obj` converts field by field (no part
    /// would be pickled); `None` otherwise.
    pub(crate) fn from_py_native(obj: &Bound<'_, PyAny>) -> PyResult<Option<Value>> {
        if obj.is_exact_instance_of::<PyTuple>() {
            let mut items = Vec::new();
            for x in obj.cast::<PyTuple>()?.iter() {
                match Value::from_py_native(&x)? {
                    Some(v) => items.push(v),
                    None => return Ok(None),
                }
            }
            return Ok(Some(Value::Tuple(items)));
        }
        if obj.is_exact_instance_of::<PyList>() {
            let mut items = Vec::new();
            for x in obj.cast::<PyList>()?.iter() {
                match Value::from_py_native(&x)? {
                    Some(v) => items.push(v),
                    None => return Ok(None),
                }
            }
            return Ok(Some(Value::List(items)));
        }
        if obj.is_exact_instance_of::<PyDict>() {
            let mut items = Vec::new();
            for (k, x) in obj.cast::<PyDict>()?.iter() {
                match (Value::from_py_native(&k)?, Value::from_py_native(&x)?) {
                    (Some(k), Some(v)) => items.push((k, v)),
                    _ => return Ok(None),
                }
            }
            return Ok(Some(Value::Dict(items)));
        }
        let plain = obj.is_exact_instance_of::<PyString>()
            || obj.is_none()
            || obj.is_exact_instance_of::<PyBool>()
            || obj.is_exact_instance_of::<PyFloat>()
            || obj.is_exact_instance_of::<PyBytes>()
            || (obj.is_exact_instance_of::<PyInt>() && obj.extract::<i64>().is_ok());
        if plain {
            return Value::from_py(obj).map(Some);
        }
        Ok(None)
    }

    /// The Python object.
    pub(crate) fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self {
            Value::None => py.None().into_bound(py),
            Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
            Value::Int(i) => i.into_pyobject(py)?.into_any(),
            Value::Float(f) => PyFloat::new(py, *f).into_any(),
            Value::Str(s) => PyString::new(py, s).into_any(),
            Value::Bytes(b) => PyBytes::new(py, b).into_any(),
            Value::Tuple(items) => {
                PyTuple::new(py, items.iter().map(|x| x.to_py(py)).collect::<PyResult<Vec<_>>>()?)?.into_any()
            }
            Value::List(items) => {
                PyList::new(py, items.iter().map(|x| x.to_py(py)).collect::<PyResult<Vec<_>>>()?)?.into_any()
            }
            Value::Dict(items) => {
                let d = PyDict::new(py);
                for (k, v) in items {
                    d.set_item(k.to_py(py)?, v.to_py(py)?)?;
                }
                d.into_any()
            }
            Value::Pickled(bytes) => unpickle(py, bytes)?,
        })
    }

    /// The two halves of a key-value pair (a 2-tuple or 2-list), or `None`.
    pub(crate) fn as_pair(&self) -> Option<(&Value, &Value)> {
        match self {
            Value::Tuple(v) | Value::List(v) if v.len() == 2 => Some((&v[0], &v[1])),
            _ => None,
        }
    }

    /// Moves out the two halves of a key-value pair.
    pub(crate) fn into_pair(self) -> Result<(Value, Value), Value> {
        match self {
            Value::Tuple(mut v) | Value::List(mut v) if v.len() == 2 => {
                let b = v.pop().unwrap_or_default();
                let a = v.pop().unwrap_or_default();
                Ok((a, b))
            }
            other => Err(other),
        }
    }

    /// Python's `str()` of the value, when it can be computed without the
    /// interpreter (pickled objects and non-ASCII text inside containers cannot).
    pub(crate) fn py_str(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            other => {
                let mut out = String::new();
                other.write_repr(&mut out).then_some(out)
            }
        }
    }

    /// Python's `repr()`; false when it needs the interpreter.
    fn write_repr(&self, out: &mut String) -> bool {
        use std::fmt::Write;
        match self {
            Value::None => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => return str_repr(s, out),
            Value::Bytes(b) => bytes_repr(b, out),
            Value::Tuple(items) => {
                out.push('(');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if !x.write_repr(out) {
                        return false;
                    }
                }
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Value::List(items) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if !x.write_repr(out) {
                        return false;
                    }
                }
                out.push(']');
            }
            Value::Dict(items) => {
                out.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if !k.write_repr(out) {
                        return false;
                    }
                    out.push_str(": ");
                    if !v.write_repr(out) {
                        return false;
                    }
                }
                out.push('}');
            }
            Value::Pickled(_) => return false,
        }
        true
    }

    /// Python's `str()` of the value, through the interpreter when needed.
    pub(crate) fn to_py_str(&self) -> PyResult<String> {
        match self.py_str() {
            Some(s) => Ok(s),
            None => Python::attach(|py| Ok(self.to_py(py)?.str()?.to_str()?.to_owned())),
        }
    }
}

/// Python's `repr()` of a float: the shortest digits that read back, fixed
/// notation for exponents in [-4, 16), scientific (`1e+16`) otherwise.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{f:e}"); // shortest round-trip digits: "-1.2345e-7"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        };
        format!("{sign}{body}")
    } else {
        let frac = &digits[1..];
        let m = if frac.is_empty() { digits[..1].to_string() } else { format!("{}.{}", &digits[..1], frac) };
        format!("{sign}{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// Python's `repr()` of ASCII text; false for other text (its printability
/// rules are the interpreter's).
fn str_repr(s: &str, out: &mut String) -> bool {
    if !s.is_ascii() {
        return false;
    }
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    true
}

fn bytes_repr(b: &[u8], out: &mut String) {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') { '"' } else { '\'' };
    out.push('b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c as char == quote => {
                out.push('\\');
                out.push(c as char);
            }
            c if !(0x20..0x7f).contains(&c) => out.push_str(&format!("\\x{c:02x}")),
            c => out.push(c as char),
        }
    }
    out.push(quote);
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        if self.write_repr(&mut out) {
            f.write_str(&out)
        } else {
            match self {
                Value::Pickled(b) => write!(f, "<pickled object, {} bytes>", b.len()),
                Value::Str(s) => write!(f, "{s:?}"),
                _ => f.write_str("<object>"),
            }
        }
    }
}

/// Equality as Beam's grouping sees it (keys compare by their encoding): the
/// same kind and value, so `1`, `1.0` and `True` are three keys; containers
/// element by element; pickled objects by their bytes.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (Str(a), Str(b)) => a == b,
            (Bytes(a), Bytes(b)) | (Pickled(a), Pickled(b)) => a == b,
            (Tuple(a), Tuple(b)) | (List(a), List(b)) => a == b,
            (Dict(a), Dict(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v == v2))
            }
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            Value::Bool(b) => {
                8u8.hash(h);
                b.hash(h)
            }
            Value::Int(i) => {
                0u8.hash(h);
                i.hash(h)
            }
            Value::Float(f) => {
                9u8.hash(h);
                if f.is_nan() { f64::NAN.to_bits() } else { f.to_bits() }.hash(h)
            }
            Value::None => 1u8.hash(h),
            Value::Str(s) => {
                2u8.hash(h);
                s.hash(h)
            }
            Value::Bytes(b) => {
                3u8.hash(h);
                b.hash(h)
            }
            Value::Tuple(v) => {
                4u8.hash(h);
                v.hash(h)
            }
            Value::List(v) => {
                5u8.hash(h);
                v.hash(h)
            }
            // Order-independent, as dict equality is.
            Value::Dict(items) => {
                6u8.hash(h);
                items.len().hash(h);
            }
            Value::Pickled(b) => {
                7u8.hash(h);
                b.hash(h)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_does() {
        for (f, s) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123.456, "123.456"),
            (1e100, "1e+100"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(float_repr(f), s, "{f}");
        }
    }

    #[test]
    fn reprs_match_python() {
        let v = Value::Tuple(vec![Value::Str("it's".into()), Value::Int(3), Value::None, Value::Bool(true)]);
        assert_eq!(v.py_str().unwrap(), "(\"it's\", 3, None, True)");
        assert_eq!(Value::Tuple(vec![Value::Int(1)]).py_str().unwrap(), "(1,)");
        assert_eq!(Value::Bytes(b"a'\x00".to_vec()).py_str().unwrap(), "b\"a'\\x00\"");
        assert!(Value::List(vec![Value::Str("é".into())]).py_str().is_none());
        assert_eq!(Value::Str("é".into()).py_str().unwrap(), "é");
    }

    #[test]
    fn numbers_of_different_kinds_are_different_keys() {
        // Beam groups by the encoded key: 1, 1.0 and True are three keys.
        let h = |v: &Value| beamline::key_hash(v);
        assert_ne!(Value::Int(1), Value::Float(1.0));
        assert_ne!(Value::Bool(true), Value::Int(1));
        assert_ne!(Value::Str("1".into()), Value::Int(1));
        assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
        assert_eq!(h(&Value::Float(2.5)), h(&Value::Float(2.5)));
        assert_ne!(h(&Value::Int(1)), h(&Value::Float(1.0)));
    }
}
