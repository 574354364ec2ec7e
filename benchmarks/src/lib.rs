//! Benchmarks: beamline pipelines against hand-written programs doing the same work.
