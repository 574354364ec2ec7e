//! DoFn instances: a pool per step, with their lifecycle and metrics.

use crate::batch::Batch;
use crate::error::Result;
use crate::exec::{DoFnInvoker, Outputs, ParDoExec, SideInputView};
use crate::metrics::MetricsContainer;
use std::sync::{Arc, Mutex, PoisonError};

/// The set-up instances of one ParDo that are not in use: a bundle takes
/// one (set up on first use) and gives it back; at the end of the run every
/// instance is torn down, and its metrics are kept until taken.
///
/// # Examples
/// ```
/// use beamline::engine::InvokerPool;
/// use beamline::exec::Executable;
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let _ = p.apply(Create::new(vec![1i64])).apply(Map::new(|x: &i64| x + 1));
/// let plan = p.plan().unwrap();
/// let pardo = plan.nodes.iter().find_map(|n| match &n.exec {
///     Executable::ParDo(e) => Some(e.clone()),
///     _ => None,
/// });
/// let pool = InvokerPool::new(pardo.unwrap());
/// let invoker = pool.take().unwrap();
/// pool.give_back(invoker);
/// pool.teardown().unwrap();
/// ```
pub struct InvokerPool {
    exec: Arc<dyn ParDoExec>,
    idle: Mutex<Vec<Box<dyn DoFnInvoker>>>,
    metrics: Mutex<MetricsContainer>,
}

impl std::fmt::Debug for InvokerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvokerPool")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InvokerPool {
    /// An empty pool for the ParDo `exec`.
    pub fn new(exec: Arc<dyn ParDoExec>) -> Self {
        InvokerPool { exec, idle: Mutex::default(), metrics: Mutex::default() }
    }

    /// The ParDo it makes instances of.
    pub fn exec(&self) -> &Arc<dyn ParDoExec> {
        &self.exec
    }

    /// An idle instance, or a new one, set up.
    pub fn take(&self) -> Result<Box<dyn DoFnInvoker>> {
        if let Some(invoker) = lock(&self.idle).pop() {
            return Ok(invoker);
        }
        let mut invoker = self.exec.instantiate();
        invoker.setup()?;
        Ok(invoker)
    }

    /// Returns an instance (its bundle finished, or failed). It keeps its
    /// metrics until it is torn down, so a bundle costs no merge.
    pub fn give_back(&self, invoker: Box<dyn DoFnInvoker>) {
        lock(&self.idle).push(invoker);
    }

    /// The metrics of the instances torn down since the last call.
    pub fn take_metrics(&self) -> MetricsContainer {
        std::mem::take(&mut *lock(&self.metrics))
    }

    /// Tears down every idle instance; the first failure is returned after
    /// all were tried.
    pub fn teardown(&self) -> Result<()> {
        let mut first = None;
        for mut invoker in lock(&self.idle).drain(..) {
            if let Err(e) = invoker.teardown() {
                first.get_or_insert(e);
            }
            let m = invoker.take_metrics();
            if !m.is_empty() {
                lock(&self.metrics).merge(m);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// Runs `batches` as one bundle through an instance of the pool: start,
/// process (output streams to `sink(output index, batch)` as it fills),
/// finish; the instance goes back to the pool, also after a failure.
pub fn run_bundle(
    pool: &InvokerPool,
    batches: impl IntoIterator<Item = Batch>,
    sides: &[SideInputView],
    sink: &mut dyn FnMut(usize, Batch) -> Result<()>,
) -> Result<()> {
    let mut invoker = pool.take()?;
    let n = pool.exec.output_count();
    let result = (|| {
        invoker.start_bundle()?;
        for batch in batches {
            invoker.process_owned(batch, sides, &mut Outputs::streaming(n, sink))?;
        }
        invoker.finish_bundle(&mut Outputs::streaming(n, sink))
    })();
    pool.give_back(invoker);
    result
}
