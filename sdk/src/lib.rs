#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]

pub mod batch;
pub mod coder;
pub(crate) mod combiners;
mod element;
pub mod engine;
mod error;
pub mod exec;
pub mod graph;
pub mod io;
pub mod metrics;
pub mod options;
mod pane;
mod pipeline;
pub mod plan;
pub mod runner;
pub mod state;
pub mod testing;
mod time;
mod transforms;
mod trigger;
pub mod window;

pub use batch::Batch;
pub use combiners::*;
pub use element::{key_hash, Element, Key, WindowedValue};
pub use engine::KeyGroups;
pub use error::{DoFnError, Error, Result};
pub use options::{NoOptions, PipelineOptions};
pub use pane::{PaneInfo, PaneTiming};
pub use pipeline::{Job, PBegin, PCollection, PTransform, PValue, Pipeline};
pub use runner::{PipelineResult, Runner, Runners};
pub use time::Timestamp;
pub use transforms::*;
pub use trigger::{AccumulationMode, Trigger};
pub use window::{TimestampCombiner, Window, WindowFn, WindowingStrategy};

/// Everything a pipeline author needs, in one `use`.
pub mod prelude {
    pub use crate::combiners::*;
    pub use crate::state::{FiredTimer, TimeDomain};
    pub use crate::testing::{assert_that, assert_that_in_window, contains_in_any_order, is_empty, satisfies};
    pub use crate::transforms::*;
    pub use crate::{
        AccumulationMode, DoFnError, Element, Key, PCollection, PTransform, PaneInfo, PaneTiming, Pipeline,
        PipelineOptions, Runners, Timestamp, Trigger, Window, WindowFn,
    };
}

/// Runs a program's main body and turns an error into one line on stderr
/// and exit code 1 (`--help` prints to stdout and exits 0).
///
/// # Examples
/// ```
/// let code = beamline::exit_on_error(Ok(()));
/// assert_eq!(code, std::process::ExitCode::SUCCESS);
/// ```
pub fn exit_on_error(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(Error::Help(text)) => {
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            let text = e.to_string();
            if text.starts_with("error:") {
                eprintln!("{text}");
            } else {
                eprintln!("error: {text}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
