//! The lifted combine's pre-shuffle phase, driven the same on every runner.

use crate::batch::Batch;
use crate::engine::grouping::drop_late;
use crate::error::Result;
use crate::exec::{GroupState, KeyedExec};
use crate::time::Timestamp;
use std::sync::Arc;

/// One bundle's pre-combine table of a lifted combine: adds inputs (late
/// ones dropped first, so the late counter counts elements), and ships its
/// accumulators, split by key group, when it grows past `max_keys` groups
/// and at the end of the bundle.
///
/// # Examples
/// ```
/// use beamline::engine::Precombiner;
/// use beamline::exec::Executable;
/// use beamline::prelude::*;
/// use beamline::{Batch, Timestamp, WindowedValue};
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let _ = p.apply(Create::new(vec![("a".to_string(), 1i64)])).apply(Combine::per_key(Sum::<i64>::new()));
/// let mut plan = p.plan().unwrap();
/// plan.lift_combiners();
/// let keyed = plan.nodes.iter().find_map(|n| match &n.exec {
///     Executable::Keyed(k) => Some(k.clone()),
///     _ => None,
/// });
/// let lateness = 0;
/// let mut pre = Precombiner::new(&keyed.unwrap(), lateness, 1000).expect("a lifted combine");
/// let input = vec![WindowedValue::in_global(("a".to_string(), 2i64)), WindowedValue::in_global(("a".to_string(), 3))];
/// let mut shipped = 0;
/// pre.add(Batch::new(input), Timestamp::MIN, 1, &mut |_, b| { shipped += b.len(); Ok(()) }).unwrap();
/// pre.flush(1, &mut |_, b| { shipped += b.len(); Ok(()) }).unwrap();
/// assert_eq!(shipped, 1, "one accumulator for the key");
/// ```
pub struct Precombiner {
    exec: Arc<dyn KeyedExec>,
    table: Option<Box<dyn GroupState>>,
    lateness: i64,
    max_keys: usize,
    dropped: i64,
}

impl std::fmt::Debug for Precombiner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Precombiner").field("max_keys", &self.max_keys).finish()
    }
}

impl Precombiner {
    /// The pre-combine of `exec`, if it has one (a lifted combine).
    pub fn new(exec: &Arc<dyn KeyedExec>, allowed_lateness: i64, max_keys: usize) -> Option<Self> {
        let table = exec.precombine()?;
        Some(Precombiner { exec: exec.clone(), table: Some(table), lateness: allowed_lateness, max_keys, dropped: 0 })
    }

    /// Adds input sent at `watermark`; ships to `ship(part, accumulators)`
    /// (parts of `parts`) when the table is full.
    pub fn add(
        &mut self,
        mut batch: Batch,
        watermark: Timestamp,
        parts: usize,
        ship: &mut dyn FnMut(usize, Batch) -> Result<()>,
    ) -> Result<()> {
        drop_late(&mut batch, watermark, self.lateness, &mut self.dropped);
        let full = match &mut self.table {
            Some(table) => {
                table.add(batch)?;
                table.len() >= self.max_keys
            }
            None => false,
        };
        if full {
            self.flush(parts, ship)?;
        }
        Ok(())
    }

    /// Ships every accumulator.
    pub fn flush(&mut self, parts: usize, ship: &mut dyn FnMut(usize, Batch) -> Result<()>) -> Result<()> {
        let Some(table) = &mut self.table else { return Ok(()) };
        if table.is_empty() {
            return Ok(());
        }
        let accumulators = table.fire(Timestamp::MAX)?;
        for (part, b) in self.exec.partition(accumulators, parts)?.into_iter().enumerate() {
            if !b.is_empty() {
                ship(part, b)?;
            }
        }
        Ok(())
    }

    /// Elements dropped as late since the last call.
    pub fn take_dropped(&mut self) -> i64 {
        std::mem::take(&mut self.dropped)
    }
}
