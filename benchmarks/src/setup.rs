//! Runner setups: which runner, with which flags, a pipeline is measured on.

use crate::error::{BenchError, Result};
use beamline::{PipelineOptions, Runners};
use std::collections::BTreeMap;

/// The runners linked into the benchmarks. A new runner is one more `.with(...)`
/// here plus its setups in [`RunnerSetup::by_name`].
///
/// # Examples
/// ```
/// assert_eq!(beamline_benchmarks::linked_runners().names(), vec!["direct", "rayon", "timely"]);
/// ```
pub fn linked_runners() -> Runners {
    beamline_direct::runners().with(beamline_rayon::RayonRunner).with(beamline_timely::TimelyRunner)
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
        Self::direct_checks("direct-unchecked", false, false, false)
    }

    /// The direct runner with the given checks on and the others off
    /// (`--direct-coder-check`, `--direct-immutability-check`, `--direct-shuffle`).
    pub fn direct_checks(name: &str, coder: bool, immutability: bool, shuffle: bool) -> Self {
        let values =
            [("direct-coder-check", coder), ("direct-immutability-check", immutability), ("direct-shuffle", shuffle)];
        let flags: BTreeMap<String, String> = values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let description = format!(
            "direct runner, {}",
            values.iter().map(|(k, v)| format!("--{k}={v}")).collect::<Vec<_>>().join(" ")
        );
        RunnerSetup { name: name.into(), description, runner: "direct".into(), workers: None, flags }
    }

    /// The rayon runner on `workers` threads, default flags (combiner lifting on): `rayon-N`.
    ///
    /// # Examples
    /// ```
    /// use beamline_benchmarks::RunnerSetup;
    /// let s = RunnerSetup::rayon(2);
    /// assert_eq!((s.name.as_str(), s.workers), ("rayon-2", Some(2)));
    /// assert_eq!(RunnerSetup::by_name("rayon-2-unlifted").unwrap().flags["rayon-lift-combiners"], "false");
    /// ```
    pub fn rayon(workers: usize) -> Self {
        RunnerSetup {
            name: format!("rayon-{workers}"),
            description: format!("rayon runner, --workers={workers}, default flags (combiner lifting on)"),
            runner: "rayon".into(),
            workers: Some(workers),
            flags: BTreeMap::new(),
        }
    }

    /// The rayon runner on `workers` threads without combiner lifting
    /// (`--rayon-lift-combiners=false`): shows what lifting buys. `rayon-N-unlifted`.
    pub fn rayon_unlifted(workers: usize) -> Self {
        let mut s = Self::rayon(workers);
        s.name.push_str("-unlifted");
        s.description = format!("rayon runner, --workers={workers} --rayon-lift-combiners=false");
        s.flags.insert("rayon-lift-combiners".into(), "false".into());
        s
    }

    /// The timely runner in one process on `workers` threads, default flags
    /// (combiner lifting on): `timely-N`.
    ///
    /// # Examples
    /// ```
    /// use beamline_benchmarks::RunnerSetup;
    /// let s = RunnerSetup::by_name("timely-2").unwrap();
    /// assert_eq!((s.runner.as_str(), s.workers), ("timely", Some(2)));
    /// assert_eq!(s.options().workers, Some(2));
    /// ```
    pub fn timely(workers: usize) -> Self {
        RunnerSetup {
            name: format!("timely-{workers}"),
            description: format!(
                "timely runner, one process, --workers={workers}, default flags (combiner lifting on)"
            ),
            runner: "timely".into(),
            workers: Some(workers),
            flags: BTreeMap::new(),
        }
    }

    /// The setups measured by default: the direct runner with its checks on and off.
    pub fn defaults() -> Vec<RunnerSetup> {
        vec![Self::direct(), Self::direct_unchecked()]
    }

    /// Every known setup: the defaults, then the direct runner with one check on
    /// at a time (`direct-only-coder-check`, `direct-only-immutability-check`,
    /// `direct-only-shuffle`), to attribute the checks' cost; then the rayon
    /// runner on 1, 2 and 4 threads (`rayon-1`, `rayon-2`, `rayon-4`), and
    /// without combiner lifting (`rayon-1-unlifted`, `rayon-2-unlifted`); then
    /// the timely runner in one process on 1, 2 and 4 threads (`timely-1`,
    /// `timely-2`, `timely-4`). (A timely cluster of several processes is
    /// measured by the `timely-bench` program, not here.)
    pub fn all() -> Vec<RunnerSetup> {
        let mut v = Self::defaults();
        v.push(Self::direct_checks("direct-only-coder-check", true, false, false));
        v.push(Self::direct_checks("direct-only-immutability-check", false, true, false));
        v.push(Self::direct_checks("direct-only-shuffle", false, false, true));
        v.extend([1, 2, 4].map(Self::rayon));
        v.extend([1, 2].map(Self::rayon_unlifted));
        v.extend([1, 2, 4].map(Self::timely));
        v
    }

    /// The setup called `name`, or an error listing the known ones.
    pub fn by_name(name: &str) -> Result<RunnerSetup> {
        Self::all().into_iter().find(|s| s.name == name).ok_or_else(|| {
            let known: Vec<String> = Self::all().into_iter().map(|s| s.name).collect();
            BenchError::Invalid(format!("unknown runner setup '{name}'; known: {}", known.join(", ")))
        })
    }

    /// The distinct worker counts above one among `setups`: the thread counts
    /// of the hand-written parallel baselines they are compared with.
    ///
    /// # Examples
    /// ```
    /// use beamline_benchmarks::RunnerSetup;
    /// let s = [RunnerSetup::direct(), RunnerSetup::rayon(1), RunnerSetup::rayon(2), RunnerSetup::rayon_unlifted(2)];
    /// assert_eq!(RunnerSetup::parallel_threads(&s), vec![2]);
    /// ```
    pub fn parallel_threads(setups: &[RunnerSetup]) -> Vec<usize> {
        let mut v: Vec<usize> = setups.iter().filter_map(|s| s.workers).filter(|&w| w > 1).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Pipeline options selecting this setup.
    pub fn options(&self) -> PipelineOptions {
        let mut o = PipelineOptions::for_runner(&self.runner);
        o.workers = self.workers;
        o.runner_flags = self.flags.clone();
        o
    }
}
