//! `beamline._native`: the Rust half of beamline's Python SDK.
//!
//! The Python package (`python/beamline/`) gives Apache Beam's API; it builds
//! the pipeline through [`pipeline::NativePipeline`], one call per primitive
//! or built-in, and runs it on the Rust runners with the GIL released. Python
//! elements travel as [`value::Value`]; Python callables as pickled invokers
//! that runners call a batch at a time.
#![deny(missing_docs)]

mod builtins;
mod combine;
mod errors;
mod pipeline;
mod pyfn;
mod stateful;
mod threadstate;
mod value;

use pyo3::prelude::*;

// Elements, batches and shuffles allocate in Rust; Python's own objects are
// unaffected (it keeps its allocator).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The runners linked into the module.
#[pyfunction]
fn runner_names() -> Vec<&'static str> {
    pipeline::runners().names()
}

/// Every flag the runners understand, without dashes (`workers`, `rayon-...`).
#[pyfunction]
fn known_flags() -> Vec<String> {
    let mut flags: Vec<String> =
        ["runner", "workers", "dump-graph", "graph", "allow-unsafe-triggers"].iter().map(|s| s.to_string()).collect();
    for r in pipeline::runners().iter() {
        flags.extend(r.flags().into_iter().map(|f| f.name.to_string()));
    }
    flags
}

/// Python's `str()` of a value as beamline's Rust steps compute it (for tests).
#[pyfunction]
fn format_value(v: &Bound<'_, PyAny>) -> PyResult<String> {
    value::Value::from_py(v)?.to_py_str()
}

/// The fixed hash beamline routes a key by, in every process.
#[pyfunction]
fn key_hash(v: &Bound<'_, PyAny>) -> PyResult<u64> {
    Ok(beamline::key_hash(&value::Value::from_py(v)?))
}

/// Why the trigger (its serde JSON) may lose data with `allowed_lateness`
/// microseconds of lateness (Beam's `may_lose_data`), or `None`.
#[pyfunction]
fn trigger_data_loss(trigger: &str, allowed_lateness: i64) -> PyResult<Option<&'static str>> {
    let t = pipeline::parse_trigger(trigger).map_err(pyo3::exceptions::PyValueError::new_err)?;
    Ok(t.data_loss_reason(allowed_lateness))
}

/// The continuation of the trigger (its serde JSON): what its firings mean
/// after a grouping (Beam's `get_continuation_trigger`), as JSON.
#[pyfunction]
fn trigger_continuation(trigger: &str) -> PyResult<String> {
    let t = pipeline::parse_trigger(trigger).map_err(pyo3::exceptions::PyValueError::new_err)?;
    serde_json::to_string(&t.continuation()).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<pipeline::NativePipeline>()?;
    m.add_class::<pipeline::NativeRunResult>()?;
    m.add_class::<stateful::StateAccess>()?;
    m.add("PipelineError", m.py().get_type::<errors::PipelineError>())?;
    m.add_function(wrap_pyfunction!(runner_names, m)?)?;
    m.add_function(wrap_pyfunction!(known_flags, m)?)?;
    m.add_function(wrap_pyfunction!(format_value, m)?)?;
    m.add_function(wrap_pyfunction!(key_hash, m)?)?;
    m.add_function(wrap_pyfunction!(trigger_data_loss, m)?)?;
    m.add_function(wrap_pyfunction!(trigger_continuation, m)?)?;
    Ok(())
}
