//! Runners as the SDK sees them: a name, capabilities, flags, and `run`.
//!
//! The SDK never depends on a runner crate; a program links the runners it
//! wants and hands them to [`crate::Pipeline::from_args`] as [`Runners`].

use crate::error::{Error, Result};
use crate::metrics::MetricResults;
use crate::options::PipelineOptions;
use crate::plan::ExecutionPlan;
use std::path::PathBuf;
use std::sync::Arc;

/// A runner-specific command-line flag (`--<name>=VALUE`).
#[derive(Clone, Debug)]
pub struct RunnerFlag {
    /// The flag without dashes, starting with the runner's name (`direct-seed`).
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// The value used when the flag is absent.
    pub default: &'static str,
}

/// Executes plans.
pub trait Runner: Send + Sync {
    /// The name `--runner` selects it by.
    fn name(&self) -> &'static str;
    /// What it supports (see [`crate::plan::capabilities`]).
    fn capabilities(&self) -> &[&'static str];
    /// Its own flags.
    fn flags(&self) -> Vec<RunnerFlag> {
        Vec::new()
    }
    /// Runs a plan to completion.
    fn run(&self, plan: ExecutionPlan, options: &PipelineOptions) -> Result<PipelineResult>;
}

/// The runners linked into a program.
#[derive(Clone, Default)]
pub struct Runners {
    list: Vec<Arc<dyn Runner>>,
}

impl Runners {
    /// No runner yet.
    pub fn new() -> Self {
        Runners::default()
    }
    /// Adds a runner.
    #[must_use]
    pub fn with(mut self, runner: impl Runner + 'static) -> Self {
        self.list.push(Arc::new(runner));
        self
    }
    /// The runner called `name`, or an error listing the linked ones.
    pub fn get(&self, name: &str) -> Result<Arc<dyn Runner>> {
        self.list.iter().find(|r| r.name() == name).cloned().ok_or_else(|| {
            Error::Options(format!(
                "error: unknown runner '{name}' for '--runner'; linked runners: {}",
                self.names().join(", ")
            ))
        })
    }
    /// Names of the linked runners.
    pub fn names(&self) -> Vec<&'static str> {
        self.list.iter().map(|r| r.name()).collect()
    }
    /// Every linked runner.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Runner>> {
        self.list.iter()
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, Default)]
pub struct PipelineResult {
    runner: String,
    metrics: MetricResults,
    graph_written: Option<PathBuf>,
}

impl PipelineResult {
    /// The result of a completed run.
    pub fn new(runner: &str, metrics: MetricResults) -> Self {
        PipelineResult { runner: runner.to_string(), metrics, graph_written: None }
    }
    pub(crate) fn graph_written(path: PathBuf) -> Self {
        PipelineResult { graph_written: Some(path), ..Default::default() }
    }
    /// The runner that ran the pipeline (empty when only the graph was written).
    pub fn runner(&self) -> &str {
        &self.runner
    }
    /// Metrics of the run.
    pub fn metrics(&self) -> &MetricResults {
        &self.metrics
    }
    /// Where `--dump-graph` wrote the graph, if the run only did that.
    pub fn dumped_graph(&self) -> Option<&std::path::Path> {
        self.graph_written.as_deref()
    }
}
