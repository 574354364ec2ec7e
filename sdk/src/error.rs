//! The error type of the SDK and of every runner.
//!
//! One enum, so a user matches on what went wrong; every variant that concerns
//! a step names its label, and user-code failures name the runner and the
//! element (shortened) as well.

use std::fmt;

/// Result alias used across beamline.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building, serializing or running a pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pipeline was built wrongly (duplicate label, foreign PCollection, ...).
    #[error("pipeline construction: {0}")]
    Construction(String),
    /// `--help` was given: the text to print (to stdout, then exit 0).
    #[error("{0}")]
    Help(String),
    /// A command-line flag was unknown or malformed.
    #[error("{0}")]
    Options(String),
    /// User code (a DoFn, CombineFn, closure) failed or panicked.
    #[error("step '{label}' failed on runner '{runner}' processing {element}: {message}")]
    UserCode {
        /// Label of the failing step.
        label: String,
        /// Name of the runner that ran it.
        runner: String,
        /// The element being processed, shortened.
        element: String,
        /// The user's error message or panic payload.
        message: String,
    },
    /// An element could not be encoded or decoded with its coder.
    #[error("coder of '{label}': {message}")]
    Coder {
        /// Label of the PCollection's producing step.
        label: String,
        /// What failed.
        message: String,
    },
    /// The portable graph is malformed, names an unknown URN or function, or
    /// holds a step that cannot be serialized.
    #[error("graph: node '{label}': {message}")]
    Graph {
        /// Label of the offending node (or "<graph>" for the whole file).
        label: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A runner lacks a capability the pipeline needs.
    #[error("runner '{runner}' cannot run step '{label}': it lacks the capability '{capability}'")]
    Unsupported {
        /// The runner's name.
        runner: String,
        /// The step that needs the capability.
        label: String,
        /// The missing capability.
        capability: String,
    },
    /// A runner for bounded input was given a pipeline with unbounded input.
    #[error(
        "runner '{runner}' runs bounded pipelines only, but step '{label}' produces an unbounded PCollection; \
         run it on a runner for unbounded input (--runner=timely)"
    )]
    Unbounded {
        /// The runner's name.
        runner: String,
        /// The step producing the unbounded PCollection (its source).
        label: String,
    },
    /// Reading or writing a file failed.
    #[error("step '{label}': {path}: {source}")]
    Io {
        /// Label of the IO step.
        label: String,
        /// The file or pattern involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A runner-internal failure (a broken invariant; please report it).
    #[error("runner '{runner}': {message}")]
    Runner {
        /// The runner's name.
        runner: String,
        /// What broke.
        message: String,
    },
}

impl Error {
    /// Shorthand for a [`Error::Graph`] error.
    pub fn graph(label: impl Into<String>, message: impl fmt::Display) -> Self {
        Error::Graph { label: label.into(), message: message.to_string() }
    }

    /// Shorthand for a [`Error::Io`] error.
    pub fn io(label: impl Into<String>, path: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { label: label.into(), path: path.into(), source }
    }

    /// Fills in the runner's name on errors raised below the runner.
    pub fn with_runner(mut self, name: &str) -> Self {
        if let Error::UserCode { runner, .. } = &mut self {
            if runner.is_empty() {
                *runner = name.to_string();
            }
        }
        self
    }
}

/// An error returned from user code: a DoFn, a CombineFn or a closure.
///
/// Every `std::error::Error` converts into it, so `?` works in user code.
///
/// # Examples
/// ```
/// use beamline::DoFnError;
/// let e = DoFnError::new("bad record");
/// assert_eq!(e.to_string(), "bad record");
/// let e: DoFnError = "x".parse::<i32>().unwrap_err().into();
/// assert!(e.to_string().contains("invalid digit"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoFnError(String);

impl DoFnError {
    /// Creates an error from a message.
    pub fn new(message: impl fmt::Display) -> Self {
        DoFnError(message.to_string())
    }
}

impl fmt::Display for DoFnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for DoFnError {
    fn from(e: E) -> Self {
        DoFnError(e.to_string())
    }
}

/// Shortens an element's debug text for error messages.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}… ({} chars)", text.chars().count())
    }
}
