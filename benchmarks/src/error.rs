//! The benchmarks' error type.

use std::path::{Path, PathBuf};

/// What can go wrong while preparing, running or checking a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The pipeline failed.
    #[error("pipeline on '{setup}' failed: {source}")]
    Pipeline {
        /// The runner setup it ran on.
        setup: String,
        /// The pipeline's error.
        source: beamline::Error,
    },
    /// The pipeline's output differs from the baseline's: the benchmark is void.
    #[error("OUTPUT MISMATCH in {workload} on '{setup}': {detail}")]
    Mismatch {
        /// The workload.
        workload: String,
        /// The runner setup.
        setup: String,
        /// What differs.
        detail: String,
    },
    /// A launch of the example program (one process or a cluster) failed or hung.
    #[error("{launch} failed: {detail}")]
    Launch {
        /// The launch's name (`timely-2p`).
        launch: String,
        /// What went wrong, with the processes' stderr.
        detail: String,
    },
    /// A hand-written parallel baseline could not start its threads.
    #[error("cannot start the baseline's threads: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    /// A bad argument (size, setup name, ...).
    #[error("{0}")]
    Invalid(String),
}

impl BenchError {
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        BenchError::Io { path: path.as_ref().to_path_buf(), source }
    }
}

/// Results of the benchmark library.
pub type Result<T> = std::result::Result<T, BenchError>;
