//! The direct runner: beamline's reference semantics, single-threaded.
//!
//! It runs every primitive on bounded input and checks what users get
//! wrong, each check on by default and switchable off by a flag:
//! - `--direct-coder-check`: every element produced round-trips through its
//!   PCollection's coder (catches types that do not serialize faithfully);
//! - `--direct-immutability-check`: a DoFn's input is encoded again after
//!   `process` and compared with its encoding from before (the coder check's,
//!   or fingerprints taken just before); any change (through interior
//!   mutability) is an error;
//! - `--direct-seed`: bundles, and the elements within each bundle, are
//!   processed in an order shuffled from this seed (catches dependence on
//!   order); `--direct-shuffle=false` keeps arrival order.
//!
//! It is the event-time reference: it keeps a watermark per PCollection,
//! reads unbounded sources a step at a time as they advance, drops late data
//! by the allowed lateness, and fires windows and timers as the watermark
//! passes them. A TestStream drives its processing-time clock.
//!
//! # Examples
//! ```
//! use beamline::prelude::*;
//! let p = Pipeline::for_tests("direct", beamline_direct::runners());
//! let n = p.apply(Create::new(vec![1i64, 2, 3])).apply(Count::globally());
//! assert_that(&n, contains_in_any_order(vec![3u64]));
//! p.run().unwrap();
//! ```
#![deny(missing_docs)]

mod executor;

use beamline::plan::{capabilities, ExecutionPlan};
use beamline::runner::RunnerFlag;
use beamline::{PipelineOptions, PipelineResult, Result, Runner, Runners};

/// The reference runner, selected by `--runner=direct` (the default).
#[derive(Debug, Default, Clone, Copy)]
pub struct DirectRunner;

/// The runners this crate provides: just the direct runner.
pub fn runners() -> Runners {
    Runners::new().with(DirectRunner)
}

/// The direct runner's settings, from its flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) seed: u64,
    pub(crate) coder_check: bool,
    pub(crate) immutability_check: bool,
    pub(crate) shuffle: bool,
}

impl Runner for DirectRunner {
    fn name(&self) -> &'static str {
        "direct"
    }

    fn capabilities(&self) -> &[&'static str] {
        &[
            capabilities::SIDE_INPUTS,
            capabilities::MERGING_WINDOWS,
            capabilities::MULTIPLE_OUTPUTS,
            capabilities::METRICS,
            capabilities::UNBOUNDED,
            capabilities::STATEFUL_PROCESSING,
            capabilities::TIMERS,
            capabilities::TEST_STREAM,
        ]
    }

    fn flags(&self) -> Vec<RunnerFlag> {
        vec![
            RunnerFlag { name: "direct-seed", help: "Seed of the shuffled bundle and element order", default: "0" },
            RunnerFlag {
                name: "direct-shuffle",
                help: "Shuffle the order of bundles, and of elements within each bundle (true|false)",
                default: "true",
            },
            RunnerFlag {
                name: "direct-coder-check",
                help: "Round-trip every element through its coder (true|false)",
                default: "true",
            },
            RunnerFlag {
                name: "direct-immutability-check",
                help: "Fail when a DoFn changes its input (true|false)",
                default: "true",
            },
        ]
    }

    fn run(&self, plan: ExecutionPlan, options: &PipelineOptions) -> Result<PipelineResult> {
        let config = Config {
            seed: options.runner_flag("direct-seed", 0u64)?,
            shuffle: options.runner_flag("direct-shuffle", true)?,
            coder_check: options.runner_flag("direct-coder-check", true)?,
            immutability_check: options.runner_flag("direct-immutability-check", true)?,
        };
        let metrics = executor::Executor::new(plan, config).run().map_err(|e| e.with_runner("direct"))?;
        Ok(PipelineResult::new("direct", metrics))
    }
}
