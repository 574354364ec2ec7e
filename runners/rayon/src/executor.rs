//! The rayon runner's scheduler.
//!
//! A run is a sequence of phases. Each phase is a set of tasks run in
//! parallel: source parts to read, key-group partitions of a keyed step to
//! fire, batches held back until their side inputs were complete. A task is
//! one bundle: every batch it produces is pushed at once through the
//! element-wise steps downstream (a fused stage) until it reaches a barrier:
//! a keyed step, or a ParDo whose side inputs are not complete yet. Between
//! phases the coordinator marks what is complete and starts what became
//! ready. The model's logic (DoFn lifecycles, side inputs, pre-combining,
//! grouping, state and timers) is the SDK's engine; this file only schedules.

use crate::Config;
use beamline::engine::{self, catch_panic, InvokerPool, Precombiner, SideInputs};
use beamline::exec::{DoFnInvoker, Executable, KeyedOperator, Outputs, SideInputView, SourceSplit};
use beamline::metrics::MetricResults;
use beamline::plan::ExecutionPlan;
use beamline::{Batch, Error, Result, Timestamp, WindowedValue};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// The shared run-time state of one plan node.
enum Node {
    /// Impulse, Read and Flatten share nothing.
    Plain,
    ParDo {
        pool: InvokerPool,
        /// The side input views, once every side input is complete.
        views: OnceLock<Vec<SideInputView>>,
        /// Side inputs' contents and the main input that arrived before them.
        sides: Option<Box<Mutex<SideInputs>>>,
    },
    /// A keyed step, per key-group partition: a lifted combine merges
    /// accumulators as they arrive; other steps buffer their input until it is complete.
    Keyed { eager: bool, parts: Vec<Mutex<Partition>> },
}

#[derive(Default)]
struct Partition {
    op: Option<Box<dyn KeyedOperator>>,
    buffered: Vec<Batch>,
}

/// One unit of parallel work; each is run as one bundle.
enum Task {
    Impulse(usize),
    Read(usize, Box<dyn SourceSplit>),
    /// Batches a ParDo held back until its side inputs were complete.
    Pending(usize, Batch),
    /// Fires one partition of a keyed step.
    Fire(usize, usize),
}

pub(crate) struct Executor<'p> {
    plan: &'p ExecutionPlan,
    cfg: Config,
    nodes: Vec<Node>,
    /// The ParDos reading each PCollection as a side input: (node, side index).
    side_readers: Vec<Vec<(usize, usize)>>,
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
        let mut side_readers = vec![Vec::new(); np];
        let mut producer = vec![None; np];
        for (i, node) in plan.nodes.iter().enumerate() {
            for (k, &s) in node.side_inputs.iter().enumerate() {
                side_readers[s].push((i, k));
            }
            for &o in &node.outputs {
                producer[o] = Some(i);
            }
        }
        let nodes = plan
            .nodes
            .iter()
            .map(|n| match &n.exec {
                Executable::ParDo(exec) => Node::ParDo {
                    pool: InvokerPool::new(exec.clone()),
                    views: OnceLock::new(),
                    sides: (!n.side_inputs.is_empty()).then(|| {
                        let fns = n.side_inputs.iter().map(|&s| plan.pcollections[s].windowing.window_fn).collect();
                        Box::new(Mutex::new(SideInputs::new(exec.clone(), fns, 0)))
                    }),
                },
                Executable::Keyed(exec) => Node::Keyed {
                    eager: exec.precombine().is_some(),
                    parts: (0..cfg.partitions).map(|_| Mutex::default()).collect(),
                },
                Executable::Impulse | Executable::Read(_) | Executable::ReadUnbounded(_) | Executable::Flatten => {
                    Node::Plain
                }
            })
            .collect();
        Executor {
            plan,
            cfg,
            nodes,
            side_readers,
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
        let mut metrics = std::mem::take(&mut *lock(&self.metrics));
        for (i, node) in self.nodes.iter().enumerate() {
            let label = &self.plan.nodes[i].label;
            match node {
                Node::ParDo { pool, .. } => {
                    if let Err(e) = pool.teardown() {
                        teardown_error.get_or_insert(e);
                    }
                    metrics.merge(label, pool.take_metrics());
                }
                Node::Keyed { parts, .. } => {
                    // Partitions left unfired by a failure.
                    for part in parts {
                        if let Some(mut op) = lock(part).op.take() {
                            if let Err(e) = op.teardown() {
                                teardown_error.get_or_insert(e);
                            }
                        }
                    }
                }
                Node::Plain => {}
            }
        }
        result?;
        if let Some(e) = teardown_error {
            return Err(e);
        }
        Ok(metrics)
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
                (Executable::Impulse | Executable::Read(_) | Executable::Keyed(_), _) => self.started[i],
                (Executable::ParDo(_), Node::ParDo { views, sides, .. }) => {
                    inputs && sides.as_ref().is_none_or(|s| views.get().is_some() && !lock(s).has_held())
                }
                _ => inputs,
            };
        }
    }

    /// The tasks of the next phase: sources not read yet, keyed steps whose
    /// input is complete, ParDos whose side inputs just became complete.
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
                (Executable::Keyed(_), Node::Keyed { parts, .. }) => {
                    if n.inputs.iter().all(|&p| self.pcollection_complete(p)) {
                        tasks.extend((0..parts.len()).map(|part| Task::Fire(i, part)));
                        self.started[i] = true;
                    }
                }
                (Executable::ParDo(_), Node::ParDo { views, sides: Some(sides), .. }) => {
                    let ready = n.side_inputs.iter().all(|&p| self.pcollection_complete(p));
                    if views.get().is_some() || !ready {
                        continue;
                    }
                    let mut sides = lock(sides);
                    for k in 0..n.side_inputs.len() {
                        sides.set_watermark(k, Timestamp::MAX);
                    }
                    let held = sides.take_ready(Timestamp::MIN)?.map(|(_, held)| held).unwrap_or_default();
                    let _ = views.set(sides.final_views().unwrap_or_default().to_vec());
                    progressed = true;
                    tasks.extend(held.into_iter().map(|b| Task::Pending(i, b)));
                }
                (Executable::ParDo(_), Node::ParDo { .. }) | (Executable::Flatten, _) => {}
                _ => return Err(broken(&n.label)),
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
        let result = catch_panic("rayon", "<task>", || bundle.run(task).and_then(|()| bundle.finish()));
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
    precombine: Vec<Option<Precombiner>>,
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
            Task::Fire(i, part) => self.fire(i, part),
        }
    }

    /// Fires one partition of a keyed step: everything it holds, then every
    /// window and timer (the input is complete: the watermark is at its end).
    fn fire(&mut self, node: usize, part: usize) -> Result<()> {
        let ex = self.ex;
        let n = &ex.plan.nodes[node];
        let (Executable::Keyed(exec), Node::Keyed { parts, .. }) = (&n.exec, &ex.nodes[node]) else {
            return Err(broken(&n.label));
        };
        let Partition { op, buffered } = std::mem::take(&mut *lock(&parts[part]));
        if op.is_none() && buffered.is_empty() {
            return Ok(());
        }
        let mut op = op.unwrap_or_else(|| exec.operator());
        let ports = op.output_count();
        let result = (|| {
            let mut sink = |i: usize, b: Batch| match n.outputs.get(i) {
                Some(&o) => self.emit(o, b),
                None => Err(broken(&n.label)),
            };
            for b in buffered {
                op.add(b, Timestamp::MIN, engine::wall_clock(), &mut Outputs::streaming(ports, &mut sink))?;
            }
            op.advance(Timestamp::MAX, Timestamp::MAX, &mut Outputs::streaming(ports, &mut sink))
        })();
        let torn = op.teardown();
        lock(&ex.metrics).merge(&n.label, op.take_metrics());
        result.and(torn)
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
        for &(node, k) in &ex.side_readers[pcoll] {
            if let Node::ParDo { sides: Some(sides), .. } = &ex.nodes[node] {
                lock(sides).add_side(k, batch.clone());
            }
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
            (Executable::ParDo(_), Node::ParDo { views, sides, .. }) => {
                if let (Some(sides), None) = (sides, views.get()) {
                    lock(sides).hold(batch);
                    return Ok(());
                }
                self.process(node, batch)
            }
            (Executable::Keyed(exec), Node::Keyed { eager, parts }) => {
                let lateness = ex.plan.pcollections[n.inputs[0]].windowing.allowed_lateness;
                if self.precombine[node].is_none() {
                    self.precombine[node] = Precombiner::new(exec, lateness, ex.cfg.precombine_keys);
                }
                let mut ship = |part: usize, b: Batch| -> Result<()> {
                    let mut p = lock(&parts[part]);
                    if *eager {
                        // Accumulators merge on arrival (a merge never emits).
                        let op = p.op.get_or_insert_with(|| exec.operator());
                        op.add(b, Timestamp::MIN, Timestamp::MIN, &mut Outputs::new(0))
                    } else {
                        p.buffered.push(b);
                        Ok(())
                    }
                };
                match &mut self.precombine[node] {
                    Some(pre) => pre.add(batch, Timestamp::MIN, parts.len(), &mut ship),
                    None => {
                        for (part, b) in exec.partition(batch, parts.len())?.into_iter().enumerate() {
                            if !b.is_empty() {
                                ship(part, b)?;
                            }
                        }
                        Ok(())
                    }
                }
            }
            _ => Err(broken(&n.label)),
        }
    }

    /// Runs a ParDo over one batch, starting its bundle first if needed.
    fn process(&mut self, node: usize, batch: Batch) -> Result<()> {
        let ex = self.ex;
        let n = &ex.plan.nodes[node];
        let Node::ParDo { pool, views, .. } = &ex.nodes[node] else {
            return Err(broken(&n.label));
        };
        if self.invokers[node].is_none() {
            self.invokers[node].insert(pool.take()?).start_bundle()?;
        }
        // Out of its slot while it runs: its output streams on to later steps,
        // which borrow the bundle (a DAG never comes back to this step).
        let Some(mut invoker) = self.invokers[node].take() else { return Err(broken(&n.label)) };
        let mut sink = |i: usize, b: Batch| match n.outputs.get(i) {
            Some(&o) => self.emit(o, b),
            None => Err(broken(&n.label)),
        };
        let mut out = Outputs::streaming(n.outputs.len(), &mut sink);
        // The batch is this step's own (the last reader got it, the others a copy).
        let result = invoker.process_owned(batch, views.get().map_or(&[], Vec::as_slice), &mut out);
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
            if let Some(mut pre) = self.precombine[node].take() {
                let (Executable::Keyed(exec), Node::Keyed { parts, .. }) = (&n.exec, &ex.nodes[node]) else {
                    return Err(broken(&n.label));
                };
                pre.flush(parts.len(), &mut |part, b| {
                    let mut p = lock(&parts[part]);
                    let op = p.op.get_or_insert_with(|| exec.operator());
                    op.add(b, Timestamp::MIN, Timestamp::MIN, &mut Outputs::new(0))
                })?;
            }
        }
        Ok(())
    }

    /// Gives every invoker back to its pool (also after a failure, so it is
    /// torn down at the end).
    fn release(&mut self) {
        let ex = self.ex;
        let unfinished = self.invokers.iter_mut().enumerate().filter_map(|(i, inv)| inv.take().map(|inv| (i, inv)));
        let all: Vec<_> = self.finished.drain(..).chain(unfinished).collect();
        for (node, invoker) in all {
            if let Node::ParDo { pool, .. } = &ex.nodes[node] {
                pool.give_back(invoker);
            }
        }
    }
}
