//! The rayon runner: bounded pipelines on every core of one machine.
//!
//! Selected with `--runner=rayon`; `--workers=N` sets the number of threads
//! (default: every core). The plan runs in phases separated by the barriers
//! of the model (a GroupByKey needs its whole input; a side input must be
//! complete before it is read):
//! - **fused stages**: a batch read from a source or fired by a shuffle is
//!   pushed through every element-wise step downstream of it in one pass on
//!   the same thread, Flatten included (it forwards, never copies);
//! - **parallel sources**: each source is split (text files by byte ranges cut
//!   at line boundaries, `Create` by chunks) and the parts are read in parallel;
//! - **parallel shuffle**: GroupByKey partitions its input by the fixed key hash
//!   ([`beamline::key_hash`]); each partition is then grouped in parallel;
//! - **combiner lifting**: a `CombinePerKey` (and so `Combine::globally`, Count,
//!   Sum, ...) pre-combines inside each bundle and merges accumulators per
//!   partition as they arrive, so memory follows the number of distinct keys;
//! - side inputs are built once and shared read-only by every thread; metrics
//!   from every thread merge exactly.
//!
//! The first failure in user code stops the run: other threads stop at their
//! next batch, and the error names the step, the runner and the element.
//! Unbounded input is rejected before anything runs.
//!
//! # Examples
//! ```
//! use beamline::prelude::*;
//! let p = Pipeline::for_tests("rayon", beamline_rayon::runners());
//! let words = p.apply(Create::new(vec!["a".to_string(), "b".into(), "a".into()]));
//! let counts = words.apply(Count::per_element());
//! assert_that(&counts, contains_in_any_order(vec![("a".to_string(), 2u64), ("b".to_string(), 1)]));
//! p.run().unwrap();
//! ```
#![deny(missing_docs)]

mod executor;

use beamline::plan::{capabilities, ExecutionPlan};
use beamline::runner::RunnerFlag;
use beamline::{Error, PipelineOptions, PipelineResult, Result, Runner, Runners};

/// The parallel batch runner, selected by `--runner=rayon`.
#[derive(Debug, Default, Clone, Copy)]
pub struct RayonRunner;

/// The runners this crate provides: just the rayon runner.
///
/// # Examples
/// ```
/// let runners = beamline_direct::runners().with(beamline_rayon::RayonRunner);
/// assert_eq!(runners.names(), vec!["direct", "rayon"]);
/// assert_eq!(beamline_rayon::runners().names(), vec!["rayon"]);
/// ```
pub fn runners() -> Runners {
    Runners::new().with(RayonRunner)
}

/// The rayon runner's settings, from its flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    /// Partitions of each shuffle.
    pub(crate) partitions: usize,
    /// Parts each source is split into.
    pub(crate) splits: usize,
    /// Whether CombinePerKey is lifted.
    pub(crate) lift: bool,
    /// Keys a bundle's pre-combine table holds before it is shipped.
    pub(crate) precombine_keys: usize,
}

impl Runner for RayonRunner {
    fn name(&self) -> &'static str {
        "rayon"
    }

    fn capabilities(&self) -> &[&'static str] {
        &[
            capabilities::SIDE_INPUTS,
            capabilities::MERGING_WINDOWS,
            capabilities::MULTIPLE_OUTPUTS,
            capabilities::METRICS,
            capabilities::STATEFUL_PROCESSING,
            capabilities::TIMERS,
        ]
    }

    fn flags(&self) -> Vec<RunnerFlag> {
        vec![
            RunnerFlag {
                name: "rayon-lift-combiners",
                help: "Pre-combine CombinePerKey inside each bundle before the shuffle (true|false)",
                default: "true",
            },
            RunnerFlag {
                name: "rayon-precombine-keys",
                help: "Keys a bundle pre-combines before shipping its accumulators (bounds memory and keeps the table in cache)",
                default: "1048576",
            },
            RunnerFlag {
                name: "rayon-splits-per-worker",
                help: "Parts each source is split into, per worker (more balance load, fewer cost less)",
                default: "8",
            },
            RunnerFlag {
                name: "rayon-partitions-per-worker",
                help: "Partitions of each GroupByKey shuffle, per worker",
                default: "4",
            },
        ]
    }

    fn run(&self, mut plan: ExecutionPlan, options: &PipelineOptions) -> Result<PipelineResult> {
        let workers = options.workers_or_every_core();
        let at_least_one = |flag: &str, default: usize| options.positive_runner_flag(flag, default);
        let config = Config {
            partitions: workers * at_least_one("rayon-partitions-per-worker", 4)?,
            splits: workers * at_least_one("rayon-splits-per-worker", 8)?,
            lift: options.runner_flag("rayon-lift-combiners", true)?,
            precombine_keys: at_least_one("rayon-precombine-keys", 1 << 20)?,
        };
        plan.check_capabilities(self.name(), self.capabilities())?;
        if config.lift {
            plan.lift_combiners();
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("beamline-rayon-{i}"))
            .build()
            .map_err(|e| Error::Runner { runner: "rayon".into(), message: format!("cannot start threads: {e}") })?;
        let metrics =
            pool.install(|| executor::Executor::new(&plan, config).run()).map_err(|e| e.with_runner("rayon"))?;
        Ok(PipelineResult::new("rayon", metrics))
    }
}
