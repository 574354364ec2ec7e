//! The rayon runner's scheduler.
//!
//! A run is a sequence of phases. Each phase is a set of tasks run in
//! parallel: source parts to read, shuffle partitions to fire, batches held
//! back until their side inputs were complete. A task is one bundle: every
//! batch it produces is pushed at once through the element-wise steps
//! downstream (a fused stage) until it reaches a barrier: a shuffle, or a
//! ParDo whose side inputs are not complete yet. Between phases the
//! coordinator marks what is complete and starts what became ready.

use crate::Config;
use beamline::exec::{CombinePhase, DoFnInvoker, Executable, GroupState, Outputs, SideInputView, SourceSplit};
use beamline::metrics::MetricResults;
use beamline::plan::ExecutionPlan;
use beamline::{Batch, Error, Result, Timestamp, WindowedValue};
use rayon::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// The shared run-time state of one plan node.
enum Node {
    /// Impulse, Read and Flatten share nothing.
    Plain,
    ParDo {
        /// Set-up invokers not in use: a bundle takes one, and gives it back.
        idle: Mutex<Vec<Box<dyn DoFnInvoker>>>,
        /// The side input views, once every side input is complete.
        sides: OnceLock<Vec<SideInputView>>,
        /// Main input that arrived before the side inputs were complete.
        pending: Mutex<Vec<Batch>>,
    },
    /// A GroupByKey's input, per partition of the key hash.
    Gbk(Vec<Mutex<Vec<Batch>>>),
    /// A lifted combine's merged accumulators, per partition of the key hash.
    Combine(Vec<Mutex<Option<Box<dyn GroupState>>>>),
}

/// One unit of parallel work; each is run as one bundle.
enum Task {
    Impulse(usize),
    Read(usize, Box<dyn SourceSplit>),
    /// Batches a ParDo held back until its side inputs were complete.
    Pending(usize, Batch),
    /// Fires one partition of a GroupByKey or of a lifted combine.
    Fire(usize, usize),
}

pub(crate) struct Executor<'p> {
    plan: &'p ExecutionPlan,
    cfg: Config,
    nodes: Vec<Node>,
    /// The contents of PCollections read as side inputs.
    side_contents: Vec<Option<Mutex<Vec<Batch>>>>,
    producer: Vec<Option<usize>>,
    /// Coordinator state: sources split (and fired shuffles) ...
    started: Vec<bool>,
    /// ... and nodes whose output is complete.
    complete: Vec<bool>,
    /// Set by the first failure; every task stops at its next batch.
    failed: AtomicBool,
    first_error: Mutex<Option<Error>>,
    metrics: Mutex<MetricResults>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn broken(label: &str) -> Error {
    Error::Runner { runner: "rayon".into(), message: format!("step '{label}' in an impossible state") }
}

fn cancelled() -> Error {
    Error::Runner { runner: "rayon".into(), message: "cancelled: another step failed".into() }
}

impl<'p> Executor<'p> {
    pub(crate) fn new(plan: &'p ExecutionPlan, cfg: Config) -> Self {
        let np = plan.pcollections.len();
        let mut side_contents: Vec<Option<Mutex<Vec<Batch>>>> = (0..np).map(|_| None).collect();
        let mut producer = vec![None; np];
        for (i, node) in plan.nodes.iter().enumerate() {
            for &s in &node.side_inputs {
                side_contents[s] = Some(Mutex::default());
            }
            for &o in &node.outputs {
                producer[o] = Some(i);
            }
        }
        let nodes = plan
            .nodes
            .iter()
            .map(|n| match &n.exec {
                Executable::ParDo(_) => {
                    Node::ParDo { idle: Mutex::default(), sides: OnceLock::new(), pending: Mutex::default() }
                }
                Executable::GroupByKey(_) => Node::Gbk((0..cfg.partitions).map(|_| Mutex::default()).collect()),
                Executable::CombinePerKey(_) => Node::Combine((0..cfg.partitions).map(|_| Mutex::new(None)).collect()),
                Executable::Impulse | Executable::Read(_) | Executable::ReadUnbounded(_) | Executable::Flatten => {
                    Node::Plain
                }
            })
            .collect();
        Executor {
            plan,
            cfg,
            nodes,
            side_contents,
            producer,
            started: vec![false; plan.nodes.len()],
            complete: vec![false; plan.nodes.len()],
            failed: AtomicBool::new(false),
            first_error: Mutex::new(None),
            metrics: Mutex::default(),
        }
    }

    /// Runs the plan to the end, then tears down every DoFn (also after a failure).
    pub(crate) fn run(mut self) -> Result<MetricResults> {
        let result = self.run_phases();
        let mut teardown_error = None;
        for node in &self.nodes {
            if let Node::ParDo { idle, .. } = node {
                for mut invoker in lock(idle).drain(..) {
                    if let Err(e) = invoker.teardown() {
                        teardown_error.get_or_insert(e);
                    }
                }
            }
        }
        result?;
        if let Some(e) = teardown_error {
            return Err(e);
        }
        Ok(self.metrics.into_inner().unwrap_or_else(PoisonError::into_inner))
    }

    fn run_phases(&mut self) -> Result<()> {
        loop {
            self.mark_complete();
            if self.complete.iter().all(|&c| c) {
                return Ok(());
            }
            let (tasks, progressed) = self.next_tasks()?;
            if tasks.is_empty() {
                if progressed {
                    continue; // Side inputs became ready for a ParDo without pending input.
                }
                return Err(Error::Runner {
                    runner: "rayon".into(),
                    message: "no step can make progress (a cycle through side inputs?)".into(),
                });
            }
            let this = &*self;
            // `try_for_each` stops handing out tasks at the first error; running
            // tasks see `failed` at their next batch.
            let _ = tasks.into_par_iter().try_for_each(|task| this.run_task(task));
            if let Some(e) = lock(&self.first_error).take() {
                return Err(e);
            }
        }
    }

    fn pcollection_complete(&self, pcoll: usize) -> bool {
        self.producer[pcoll].is_some_and(|p| self.complete[p])
    }

    /// Marks, in topological order, the nodes whose output is now complete.
    fn mark_complete(&mut self) {
        for i in 0..self.plan.nodes.len() {
            let n = &self.plan.nodes[i];
            let inputs = n.inputs.iter().all(|&p| self.pcollection_complete(p));
            self.complete[i] = match (&n.exec, &self.nodes[i]) {
                (Executable::Impulse | Executable::Read(_), _) => self.started[i],
                (Executable::GroupByKey(_) | Executable::CombinePerKey(_), _) => self.started[i],
                (Executable::ParDo(_), Node::ParDo { sides, pending, .. }) => {
                    inputs && (n.side_inputs.is_empty() || sides.get().is_some()) && lock(pending).is_empty()
                }
                _ => inputs,
            };
        }
    }

    /// The tasks of the next phase: sources not read yet, shuffles whose input
    /// is complete, ParDos whose side inputs just became complete.
    /// Also tells whether anything became ready (side inputs with no input to process).
    fn next_tasks(&mut self) -> Result<(Vec<Task>, bool)> {
        let mut tasks = Vec::new();
        let mut progressed = false;
        for i in 0..self.plan.nodes.len() {
            if self.complete[i] || self.started[i] {
                continue;
            }
            let n = &self.plan.nodes[i];
            match (&n.exec, &self.nodes[i]) {
                (Executable::Impulse, _) => {
                    tasks.push(Task::Impulse(i));
                    self.started[i] = true;
                }
                // Rejected before the run (the runner lacks the capability).
                (Executable::ReadUnbounded(_), _) => return Err(broken(&n.label)),
                (Executable::Read(source), _) => {
                    tasks.extend(source.split(self.cfg.splits)?.into_iter().map(|s| Task::Read(i, s)));
                    self.started[i] = true;
                }
                (Executable::GroupByKey(_) | Executable::CombinePerKey(_), _) => {
                    if n.inputs.iter().all(|&p| self.pcollection_complete(p)) {
                        tasks.extend((0..self.cfg.partitions).map(|part| Task::Fire(i, part)));
                        self.started[i] = true;
                    }
                }
                (Executable::ParDo(pardo), Node::ParDo { sides, pending, .. }) => {
                    let ready = n.side_inputs.iter().all(|&p| self.pcollection_complete(p));
                    if n.side_inputs.is_empty() || sides.get().is_some() || !ready {
                        continue;
                    }
                    let mut views = Vec::with_capacity(n.side_inputs.len());
                    for (k, &s) in n.side_inputs.iter().enumerate() {
                        let contents = self.side_contents[s].as_ref().map(|c| lock(c).clone()).unwrap_or_default();
                        views.push(pardo.prepare_side_input(k, contents)?);
                    }
                    let _ = sides.set(views);
                    progressed = true;
                    tasks.extend(lock(pending).drain(..).map(|b| Task::Pending(i, b)));
                }
                (Executable::ParDo(_), _) => return Err(broken(&n.label)),
                (Executable::Flatten, _) => {}
            }
        }
        Ok((tasks, progressed))
    }

    /// Runs one task as one bundle; records the first failure.
    fn run_task(&self, task: Task) -> std::result::Result<(), ()> {
        let mut bundle = Bundle::new(self);
        // User code's panics are caught where it is called; this catches the
        // rest (a key type whose Hash panics, say) so one task cannot bring the
        // process down.
        let result = catch_unwind(AssertUnwindSafe(|| bundle.run(task).and_then(|()| bundle.finish()))).unwrap_or_else(
            |panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(Error::Runner { runner: "rayon".into(), message: format!("a task panicked: {message}") })
            },
        );
        bundle.release();
        result.map_err(|e| {
            // Only the first failure is reported; later ones are mostly cancellations.
            if !self.failed.swap(true, Ordering::AcqRel) {
                *lock(&self.first_error) = Some(e);
            }
        })
    }
}

/// One bundle on one thread: the invokers it started and its pre-combine tables.
struct Bundle<'e, 'p> {
    ex: &'e Executor<'p>,
    invokers: Vec<Option<Box<dyn DoFnInvoker>>>,
    /// Invokers whose bundle is finished, to give back.
    finished: Vec<(usize, Box<dyn DoFnInvoker>)>,
    precombine: Vec<Option<Box<dyn GroupState>>>,
}

impl<'e, 'p> Bundle<'e, 'p> {
    fn new(ex: &'e Executor<'p>) -> Self {
        let n = ex.plan.nodes.len();
        Bundle {
            ex,
            invokers: (0..n).map(|_| None).collect(),
            finished: Vec::new(),
            precombine: (0..n).map(|_| None).collect(),
        }
    }

    fn run(&mut self, task: Task) -> Result<()> {
        let ex = self.ex;
        match task {
            Task::Impulse(i) => self.emit(ex.plan.nodes[i].outputs[0], Batch::new(vec![WindowedValue::in_global(())])),
            Task::Read(i, mut split) => {
                let out = ex.plan.nodes[i].outputs[0];
                split.read(&mut |batch| self.emit(out, batch))
            }
            Task::Pending(i, batch) => self.process(i, batch),
            Task::Fire(i, part) => {
                let n = &ex.plan.nodes[i];
                let fired = match (&n.exec, &ex.nodes[i]) {
                    (Executable::GroupByKey(g), Node::Gbk(parts)) => {
                        let batches = std::mem::take(&mut *lock(&parts[part]));
                        if batches.is_empty() {
                            return Ok(());
                        }
                        let mut state = g.new_state();
                        for b in batches {
                            state.add(b)?;
                        }
                        state.fire(Timestamp::MAX)?
                    }
                    (Executable::CombinePerKey(_), Node::Combine(parts)) => {
                        let Some(mut state) = lock(&parts[part]).take() else { return Ok(()) };
                        state.fire(Timestamp::MAX)?
                    }
                    _ => return Err(broken(&n.label)),
                };
                self.emit(n.outputs[0], fired)
            }
        }
    }

    /// Hands a batch of `pcoll` to every reader; the last one gets it without a copy.
    fn emit(&mut self, pcoll: usize, batch: Batch) -> Result<()> {
        if self.ex.failed.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        if batch.is_empty() {
            return Ok(());
        }
        let ex = self.ex;
        if let Some(side) = &ex.side_contents[pcoll] {
            lock(side).push(batch.clone());
        }
        if let Some((&last, rest)) = ex.plan.pcollections[pcoll].consumers.split_last() {
            for &c in rest {
                self.deliver(c, batch.clone())?;
            }
            self.deliver(last, batch)?;
        }
        Ok(())
    }

    fn deliver(&mut self, node: usize, batch: Batch) -> Result<()> {
        let ex = self.ex;
        let n = &ex.plan.nodes[node];
        match (&n.exec, &ex.nodes[node]) {
            (Executable::Flatten, _) => self.emit(n.outputs[0], batch),
            (Executable::ParDo(_), Node::ParDo { sides, pending, .. }) => {
                if !n.side_inputs.is_empty() && sides.get().is_none() {
                    lock(pending).push(batch);
                    return Ok(());
                }
                self.process(node, batch)
            }
            (Executable::GroupByKey(g), Node::Gbk(parts)) => {
                for (part, b) in g.partition(batch, parts.len())?.into_iter().enumerate() {
                    if !b.is_empty() {
                        lock(&parts[part]).push(b);
                    }
                }
                Ok(())
            }
            (Executable::CombinePerKey(c), Node::Combine(_)) => {
                let table = self.precombine[node].get_or_insert_with(|| c.new_state(CombinePhase::Precombine));
                table.add(batch)?;
                if table.len() >= ex.cfg.precombine_keys {
                    // Little reduction in this bundle: ship what we have, keep the table small.
                    if let Some(full) = self.precombine[node].take() {
                        self.ship_accumulators(node, full)?;
                    }
                }
                Ok(())
            }
            _ => Err(broken(&n.label)),
        }
    }

    /// Runs a ParDo over one batch, starting its bundle first if needed.
    fn process(&mut self, node: usize, batch: Batch) -> Result<()> {
        let ex = self.ex;
        let n = &ex.plan.nodes[node];
        let (Executable::ParDo(pardo), Node::ParDo { idle, sides, .. }) = (&n.exec, &ex.nodes[node]) else {
            return Err(broken(&n.label));
        };
        if self.invokers[node].is_none() {
            let pooled = lock(idle).pop();
            let invoker = match pooled {
                Some(invoker) => invoker,
                None => {
                    let mut invoker = pardo.instantiate();
                    invoker.setup()?;
                    invoker
                }
            };
            self.invokers[node].insert(invoker).start_bundle()?;
        }
        // Out of its slot while it runs: its output streams on to later steps,
        // which borrow the bundle (a DAG never comes back to this step).
        let Some(mut invoker) = self.invokers[node].take() else { return Err(broken(&n.label)) };
        let mut sink = |i: usize, b: Batch| match n.outputs.get(i) {
            Some(&o) => self.emit(o, b),
            None => Err(broken(&n.label)),
        };
        let mut out = Outputs::streaming(pardo.output_count(), &mut sink);
        // The batch is this step's own (the last reader got it, the others a copy).
        let result = invoker.process_owned(batch, sides.get().map_or(&[], Vec::as_slice), &mut out);
        self.invokers[node] = Some(invoker);
        result
    }

    /// Finishes the bundle in topological order, so what `finish_bundle` emits
    /// reaches steps not finished yet; then ships the pre-combined accumulators.
    fn finish(&mut self) -> Result<()> {
        let ex = self.ex;
        for node in 0..ex.plan.nodes.len() {
            let n = &ex.plan.nodes[node];
            if let Some(mut invoker) = self.invokers[node].take() {
                let mut out = Outputs::new(n.outputs.len());
                let result = invoker.finish_bundle(&mut out);
                self.finished.push((node, invoker));
                result?;
                for (i, &o) in n.outputs.iter().enumerate() {
                    for b in out.take(i) {
                        self.emit(o, b)?;
                    }
                }
            }
            if let Some(table) = self.precombine[node].take() {
                self.ship_accumulators(node, table)?;
            }
        }
        Ok(())
    }

    /// Fires a pre-combine table and merges its accumulators into the
    /// partitions of the shuffle.
    fn ship_accumulators(&mut self, node: usize, mut table: Box<dyn GroupState>) -> Result<()> {
        let ex = self.ex;
        let n = &ex.plan.nodes[node];
        let (Executable::CombinePerKey(c), Node::Combine(parts)) = (&n.exec, &ex.nodes[node]) else {
            return Err(broken(&n.label));
        };
        let accumulators = table.fire(Timestamp::MAX)?;
        for (part, b) in c.partition(accumulators, parts.len())?.into_iter().enumerate() {
            if !b.is_empty() {
                lock(&parts[part]).get_or_insert_with(|| c.new_state(CombinePhase::Merge)).add(b)?;
            }
        }
        Ok(())
    }

    /// Gives every invoker back to its pool (also after a failure, so it is
    /// torn down at the end) and folds its metrics into the run's.
    fn release(&mut self) {
        let ex = self.ex;
        let unfinished = self.invokers.iter_mut().enumerate().filter_map(|(i, inv)| inv.take().map(|inv| (i, inv)));
        let all: Vec<_> = self.finished.drain(..).chain(unfinished).collect();
        if all.is_empty() {
            return;
        }
        let mut metrics = lock(&ex.metrics);
        for (node, mut invoker) in all {
            metrics.merge(&ex.plan.nodes[node].label, invoker.take_metrics());
            if let Node::ParDo { idle, .. } = &ex.nodes[node] {
                lock(idle).push(invoker);
            }
        }
    }
}
