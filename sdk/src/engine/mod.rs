//! The engine every runner drives: the model's run-time logic, written once.
//!
//! A runner decides when work runs, on which worker, how watermarks are
//! tracked and where state lives; everything else is here, as Beam's Java
//! runners share `ReduceFnRunner` and `StatefulDoFnRunner`:
//! - [`InvokerPool`] and [`run_bundle`]: DoFn instances, their lifecycle
//!   (setup once, a bundle at a time, teardown at the end) and metrics;
//! - [`SideInputs`]: main input held until its side windows are ready, views
//!   rebuilt only when needed, side windows forgotten once nothing reads them;
//! - [`Precombiner`]: the lifted combine's pre-shuffle phase;
//! - keyed operators ([`crate::exec::KeyedOperator`]): grouping with late-data
//!   dropping and firing by watermark, and stateful ParDos with keyed state,
//!   timers and window expiry, whose pending work is indexed by when it is due;
//! - [`KeyGroups`]: where every key goes, the same for every shuffle;
//! - [`catch_panic`] and [`wall_clock`].

pub(crate) mod grouping;
mod invokers;
pub(crate) mod key_groups;
mod precombine;
mod side_inputs;
pub(crate) mod stateful;
mod timers;
pub(crate) mod trigger_machine;
pub(crate) mod triggered;
pub(crate) mod window_index;

pub use invokers::{run_bundle, InvokerPool};
pub use key_groups::KeyGroups;
pub use precombine::Precombiner;
pub use side_inputs::SideInputs;
pub use triggered::DROPPED_CLOSED;

use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The counter of a keyed step: elements dropped because their window had
/// expired (its end plus the allowed lateness) when they arrived.
pub const DROPPED_LATE: &str = "dropped_due_to_lateness";

/// The processing time now, from the system clock.
///
/// # Examples
/// ```
/// assert!(beamline::engine::wall_clock() > beamline::Timestamp::from_secs(0));
/// ```
pub fn wall_clock() -> Timestamp {
    let micros =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0);
    Timestamp::from_micros(micros)
}

/// Runs engine or runner logic, turning a panic outside guarded user code (a
/// key's `Hash`, say) into an error naming the runner and step.
///
/// # Examples
/// ```
/// let e = beamline::engine::catch_panic("rayon", "Count", || -> beamline::Result<()> { panic!("boom") });
/// assert!(e.unwrap_err().to_string().contains("step 'Count' panicked: boom"));
/// ```
pub fn catch_panic<R>(runner: &str, label: &str, f: impl FnOnce() -> Result<R>) -> Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::Runner { runner: runner.to_string(), message: format!("step '{label}' panicked: {message}") })
    })
}
