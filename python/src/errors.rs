//! The one place Rust errors become Python exceptions.
//!
//! A Python exception raised by user code on a runner thread is kept (the
//! first one of a run) and raised again from `run()` as itself, with its
//! traceback; the Python layer adds the step label as Beam does.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::Mutex;

create_exception!(_native, PipelineError, PyException, "A pipeline failed to build or to run.");

/// The first user exception of the running pipeline, with its step label.
static USER_EXCEPTION: Mutex<Option<(String, Py<PyAny>)>> = Mutex::new(None);

/// Forgets an exception kept from an earlier run.
pub(crate) fn clear_user_exception() {
    if let Ok(mut slot) = USER_EXCEPTION.lock() {
        *slot = None;
    }
}

/// Turns a Python exception in user code into the runner's error (naming the
/// step and the element), keeping the exception to raise again later.
pub(crate) fn user_failure(label: &str, element: String, err: PyErr) -> beamline::Error {
    let message = Python::attach(|py| {
        let text = err.value(py).str().map(|s| s.to_string()).unwrap_or_default();
        let name = err.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
        if let Ok(mut slot) = USER_EXCEPTION.lock() {
            if slot.is_none() {
                *slot = Some((label.to_string(), err.into_value(py).into_any()));
            }
        }
        format!("{name}: {text}")
    });
    beamline::Error::UserCode { label: label.to_string(), runner: String::new(), element, message }
}

/// A beamline error on its way to Python.
pub(crate) struct NativeError(pub(crate) beamline::Error);

impl From<beamline::Error> for NativeError {
    fn from(e: beamline::Error) -> Self {
        NativeError(e)
    }
}

impl From<NativeError> for PyErr {
    fn from(NativeError(e): NativeError) -> PyErr {
        use beamline::Error;
        if let Error::UserCode { label, .. } = &e {
            let kept = USER_EXCEPTION.lock().ok().and_then(|mut s| s.take());
            if let Some((kept_label, exc)) = kept {
                return Python::attach(|py| {
                    let exc = exc.into_bound(py);
                    // Read by the Python layer, which adds the label as Beam does.
                    let _ = exc.setattr("_beamline_label", if kept_label.is_empty() { label } else { &kept_label });
                    PyErr::from_value(exc)
                });
            }
        }
        let text = e.to_string();
        match e {
            Error::Options(_) | Error::Help(_) => PyValueError::new_err(text),
            Error::Construction(_) => PyRuntimeError::new_err(text),
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                PyFileNotFoundError::new_err(text)
            }
            Error::Io { .. } => PyOSError::new_err(text),
            _ => PipelineError::new_err(text),
        }
    }
}

/// Result alias for the native module's functions.
pub(crate) type NativeResult<T> = std::result::Result<T, NativeError>;
