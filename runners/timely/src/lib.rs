//! The timely runner: pipelines on timely-dataflow, on threads and on
//! clusters of processes.
//!
//! Selected with `--runner=timely`; `--workers=N` sets the worker threads of
//! each process (default: every core). Each worker builds the same dataflow
//! from the plan:
//! - a PCollection is a timely stream of whole batches, and its watermark is
//!   the stream's frontier: bounded sources send at the minimum time and close
//!   their frontier when done, so GroupByKey and combines fire windows as the
//!   frontier passes their end, and everything at the end;
//! - element-wise steps read their input in place, batch by batch;
//! - GroupByKey routes each batch by the fixed key hash ([`beamline::key_hash`])
//!   to the worker owning the key; a `CombinePerKey` is lifted: each bundle
//!   pre-combines, and only accumulators cross the exchange;
//! - side inputs are broadcast to every worker and read once complete;
//! - nothing is serialized inside a process; a batch bound for another
//!   process is encoded with its PCollection's coder.
//!
//! The first failure stops every worker of the process, and names the step,
//! the runner and the element.
//!
//! # Examples
//! ```
//! use beamline::prelude::*;
//! let p = Pipeline::for_tests("timely", beamline_timely::runners());
//! let words = p.apply(Create::new(vec!["a".to_string(), "b".into(), "a".into()]));
//! let counts = words.apply(Count::per_element());
//! assert_that(&counts, contains_in_any_order(vec![("a".to_string(), 2u64), ("b".to_string(), 1)]));
//! p.run().unwrap();
//! ```
#![deny(missing_docs)]

mod cluster;
mod dataflow;
mod msg;
mod stop;
mod time;

/// The counter each GroupByKey (and lifted combine) step reports for elements
/// dropped because their window closed longer ago than the allowed lateness.
pub const DROPPED_DUE_TO_LATENESS: &str = beamline::engine::DROPPED_LATE;

use beamline::metrics::MetricResults;
use beamline::plan::{capabilities, ExecutionPlan};
use beamline::runner::RunnerFlag;
use beamline::{Error, PipelineOptions, PipelineResult, Result, Runner, Runners};
use cluster::Cluster;
use dataflow::{Shared, WorkerCtx};
use msg::Topology;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use stop::Stop;

/// The timely-dataflow runner, selected by `--runner=timely`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TimelyRunner;

/// The runners this crate provides: just the timely runner.
///
/// # Examples
/// ```
/// assert_eq!(beamline_timely::runners().names(), vec!["timely"]);
/// ```
pub fn runners() -> Runners {
    Runners::new().with(TimelyRunner)
}

/// The timely runner's settings, from its flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    /// Parts each source is split into, per worker.
    pub(crate) splits: usize,
    /// Keys a bundle's pre-combine table holds before it is shipped.
    pub(crate) precombine_keys: usize,
}

impl Runner for TimelyRunner {
    fn name(&self) -> &'static str {
        "timely"
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
            RunnerFlag {
                name: "timely-lift-combiners",
                help: "Pre-combine CombinePerKey inside each bundle before the exchange (true|false)",
                default: "true",
            },
            RunnerFlag {
                name: "timely-precombine-keys",
                help: "Keys a bundle pre-combines before shipping its accumulators",
                default: "1048576",
            },
            RunnerFlag {
                name: "processes",
                help: "Processes in the cluster, each running this same program with --workers threads",
                default: "1",
            },
            RunnerFlag {
                name: "process-index",
                help: "This process's index in the cluster, from 0 to --processes - 1",
                default: "0",
            },
            RunnerFlag {
                name: "hosts",
                help: "A file listing one host:port per line, one line per process, in process-index order",
                default: "",
            },
            RunnerFlag {
                name: "timely-connect-timeout",
                help: "How long a cluster's processes wait for each other to connect (60s, 5m)",
                default: "60s",
            },
            RunnerFlag {
                name: "max-duration",
                help: "Stop an unbounded pipeline after this long (30s, 5m, 2h), draining it: every open window fires",
                default: "",
            },
            RunnerFlag {
                name: "until-watermark",
                help: "Stop an unbounded pipeline once its sources' watermark reaches this event time (seconds since the epoch)",
                default: "",
            },
            RunnerFlag {
                name: "timely-splits-per-worker",
                help: "Parts each source is split into, per worker (each part is read in one go: more parts, less memory)",
                default: "32",
            },
        ]
    }

    fn run(&self, mut plan: ExecutionPlan, options: &PipelineOptions) -> Result<PipelineResult> {
        let workers = options.workers_or_every_core();
        let at_least_one = |flag: &str, default: usize| options.positive_runner_flag(flag, default);
        let cfg = Config {
            splits: at_least_one("timely-splits-per-worker", 32)?,
            precombine_keys: at_least_one("timely-precombine-keys", 1 << 20)?,
        };
        plan.check_capabilities(self.name(), self.capabilities())?;
        if options.runner_flag("timely-lift-combiners", true)? {
            plan.lift_combiners();
        }
        let cluster = Cluster::from_options(options)?;
        let stop = Stop::from_options(options)?;
        if plan.pcollections.iter().any(|p| !p.bounded) {
            stop::install_signal_handlers()?;
        }
        let topology = Topology { threads: workers, process: cluster.index, peers: workers * cluster.processes };
        let communication = if workers == 1 {
            timely::CommunicationConfig::Thread
        } else {
            timely::CommunicationConfig::Process(workers)
        };
        let config = timely::Config { communication, worker: timely::WorkerConfig::default() };
        let plan = Arc::new(plan);
        let shared = Arc::new(Shared::default());
        let worker_shared = shared.clone();
        let work = move |worker: &mut timely::worker::Worker| {
            run_worker(worker, plan.clone(), worker_shared.clone(), topology, cfg, stop);
        };
        let guards = if cluster.processes > 1 {
            cluster::watch_for_lost_processes();
            cluster.execute(workers, work)?
        } else {
            timely::execute(config, work).map_err(|e| Error::Runner {
                runner: "timely".into(),
                message: format!("cannot start the workers: {e}"),
            })?
        };
        let mut panicked = None;
        // Joining also joins the network threads, which panic when a peer is lost.
        match catch_unwind(AssertUnwindSafe(|| guards.join())) {
            Ok(joined) => {
                for result in joined {
                    if let Err(e) = result {
                        panicked.get_or_insert(e);
                    }
                }
            }
            Err(_) => panicked = Some("the network threads failed".to_string()),
        }
        if let Some(e) = shared.take_error() {
            return Err(e.with_runner("timely"));
        }
        if let Some(e) = panicked {
            let message = match cluster::lost_process() {
                Some(lost) => format!(
                    "lost process {lost} of the cluster ({}): its connection closed; stopping",
                    cluster.addresses.get(lost).map_or("?", String::as_str)
                ),
                None => format!("a worker panicked: {e}"),
            };
            return Err(Error::Runner { runner: "timely".into(), message });
        }
        let metrics = std::mem::take(&mut *shared.metrics.lock().unwrap_or_else(PoisonError::into_inner));
        Ok(PipelineResult::new("timely", metrics))
    }
}

/// One worker: builds the dataflow, steps it until every worker is done (or
/// one failed), then tears down its DoFns and hands in their metrics.
fn run_worker(
    worker: &mut timely::worker::Worker,
    plan: Arc<ExecutionPlan>,
    shared: Arc<Shared>,
    topology: Topology,
    cfg: Config,
    stop: Stop,
) {
    let ctx = WorkerCtx {
        plan,
        shared: shared.clone(),
        topology,
        index: worker.index(),
        cfg,
        finishers: Rc::new(RefCell::new(Vec::new())),
        stop,
    };
    let probe = worker.dataflow::<dataflow::Time, _, _>(|scope| dataflow::build(scope, &ctx));
    // A lost peer poisons this worker's queues, and the next step panics:
    // catch it so the DoFns still tear down, then let it go on to the runner.
    let stepped = catch_unwind(AssertUnwindSafe(|| match probe {
        Ok(probe) => {
            // Every step of every worker has finished once the probe is done:
            // only then may DoFns tear down (file sinks remove unrenamed shards there).
            while !shared.failed() && !probe.done() {
                worker.step_or_park(Some(Duration::from_millis(20)));
            }
        }
        Err(e) => shared.fail(e),
    }));
    let mut metrics = MetricResults::default();
    if let Err(e) = ctx.finish(&mut metrics) {
        shared.fail(e);
    }
    if let Err(panic) = stepped {
        std::panic::resume_unwind(panic);
    }
    let processes = topology.peers / topology.threads;
    if processes > 1 && !shared.failed() {
        // Every process reports the whole cluster's metrics.
        metrics = cluster::gather_metrics(worker, metrics, topology.threads, processes);
    }
    if processes == 1 || worker.index() % topology.threads == 0 {
        shared.metrics.lock().unwrap_or_else(PoisonError::into_inner).merge_results(metrics);
    }
    // Timely steps a worker until its dataflows complete; after a failure
    // they never will, so they are dropped.
    if shared.failed() {
        for id in worker.installed_dataflows() {
            worker.drop_dataflow(id);
        }
        if processes > 1 {
            cluster::close_connections();
        }
    }
}
