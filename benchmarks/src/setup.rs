//! Runner setups: which runner, with which flags, a pipeline is measured on.

use crate::error::{BenchError, Result};
use beamline::{PipelineOptions, Runners};
use std::collections::BTreeMap;

/// The runners linked into the benchmarks. A new runner is one more `.with(...)`
/// here plus its setups in [`RunnerSetup::by_name`].
pub fn linked_runners() -> Runners {
    beamline_direct::runners()
}

/// One way to run a pipeline: a runner, its worker count and its flags.
///
/// # Examples
/// ```
/// use beamline_benchmarks::RunnerSetup;
/// let s = RunnerSetup::by_name("direct-unchecked").unwrap();
/// assert_eq!(s.options().runner_flags["direct-coder-check"], "false");
/// assert!(RunnerSetup::by_name("nope").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerSetup {
    /// Short name, used on the command line and in reports.
    pub name: String,
    /// What it is, for the report.
    pub description: String,
    /// The `--runner` value.
    pub runner: String,
    /// The `--workers` value.
    pub workers: Option<usize>,
    /// Runner flags (`direct-coder-check` → `false`).
    pub flags: BTreeMap<String, String>,
}

impl RunnerSetup {
    /// The direct runner as users get it: every check on.
    pub fn direct() -> Self {
        RunnerSetup {
            name: "direct".into(),
            description: "direct runner, default flags (coder check, immutability check, shuffle on)".into(),
            runner: "direct".into(),
            workers: None,
            flags: BTreeMap::new(),
        }
    }

    /// The direct runner with its checks off: shows what the checks cost.
    pub fn direct_unchecked() -> Self {
        let flags =
            [("direct-coder-check", "false"), ("direct-immutability-check", "false"), ("direct-shuffle", "false")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        RunnerSetup {
            name: "direct-unchecked".into(),
            description: "direct runner, --direct-coder-check=false --direct-immutability-check=false \
                          --direct-shuffle=false"
                .into(),
            runner: "direct".into(),
            workers: None,
            flags,
        }
    }

    /// Every known setup, in report order.
    pub fn all() -> Vec<RunnerSetup> {
        vec![Self::direct(), Self::direct_unchecked()]
    }

    /// The setup called `name`, or an error listing the known ones.
    pub fn by_name(name: &str) -> Result<RunnerSetup> {
        Self::all().into_iter().find(|s| s.name == name).ok_or_else(|| {
            let known: Vec<String> = Self::all().into_iter().map(|s| s.name).collect();
            BenchError::Invalid(format!("unknown runner setup '{name}'; known: {}", known.join(", ")))
        })
    }

    /// Pipeline options selecting this setup.
    pub fn options(&self) -> PipelineOptions {
        let mut o = PipelineOptions::for_runner(&self.runner);
        o.workers = self.workers;
        o.runner_flags = self.flags.clone();
        o
    }
}
