//! The runner-agnostic conformance suite.
//!
//! Every test is written once, as a function that builds a pipeline and says
//! what its run must give, and is tagged with the capabilities it needs
//! (`beamline::plan::capabilities`), in the spirit of Beam's ValidatesRunner
//! categories; tests of Beam features with such a category also carry its
//! name (`UsesStatefulParDo`, `UsesTimersInParDo`, `UsesBagState`, ...), shown
//! per test and summed up per category in `MATRIX.md`. The harness runs each test on every runner of [`runners`], at
//! parallelism 1 and [`PARALLELISM`], and once more through the portable graph
//! (dump to JSON, rebuild with `--graph`, run), then prints the matrix and
//! rewrites `conformance-tests/MATRIX.md`.
//!
//! Run it with `cargo test -p beamline-conformance-tests` (a `harness = false`
//! test target); a substring argument keeps the tests whose name contains it:
//! `cargo test -p beamline-conformance-tests -- side_input`.
//!
//! # Examples
//! ```
//! let names = beamline_conformance_tests::runners().names();
//! assert!(names.contains(&"direct"));
//! ```

mod fns;
mod harness;
mod suite;

use beamline::plan::ExecutionPlan;
use beamline::runner::RunnerFlag;
use beamline::{PipelineOptions, PipelineResult, Result, Runner, Runners};
use std::sync::Arc;

pub use harness::run_cli;

/// The parallelism ("N") every test also runs at, besides 1.
pub const PARALLELISM: usize = 4;

/// Every runner the suite runs on, each with the capabilities it declares.
///
/// Adding a runner is one line here (and the crate in `Cargo.toml`).
///
/// # Examples
/// ```
/// let r = beamline_conformance_tests::runners();
/// assert!(r.get("direct").is_ok());
/// ```
pub fn runners() -> Runners {
    link([beamline_direct::runners(), beamline_rayon::runners(), beamline_timely::runners()])
}

/// Puts the runners of several crates into one [`Runners`].
fn link<const N: usize>(groups: [Runners; N]) -> Runners {
    let mut all = Runners::new();
    for group in groups {
        for r in group.iter() {
            all = all.with(Linked(r.clone()));
        }
    }
    all
}

/// A runner taken from another [`Runners`]: delegates everything.
struct Linked(Arc<dyn Runner>);

impl Runner for Linked {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn capabilities(&self) -> &[&'static str] {
        self.0.capabilities()
    }
    fn flags(&self) -> Vec<RunnerFlag> {
        self.0.flags()
    }
    fn run(&self, plan: ExecutionPlan, options: &PipelineOptions) -> Result<PipelineResult> {
        self.0.run(plan, options)
    }
}
