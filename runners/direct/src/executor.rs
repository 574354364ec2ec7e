//! The direct runner's scheduler: one thread, bundles moving from producers
//! to consumers' inboxes, and a watermark per PCollection.
//!
//! The loop processes bundles until none is waiting; then it advances the
//! watermarks in topological order (firing windows and timers, which may
//! make more bundles); only when nothing else can happen does it read the
//! next part of a source (one split of a bounded source, one step of each
//! unbounded reader, one event of a TestStream). So every event is applied
//! only after the pipeline finished what the previous one caused, and a
//! step never sees its input watermark pass data still waiting for it.

use crate::Config;
use beamline::engine::{self, InvokerPool, SideInputs};
use beamline::exec::{Executable, KeyedOperator, Outputs, ReadStatus, SourceSplit, UnboundedReader};
use beamline::metrics::MetricResults;
use beamline::plan::ExecutionPlan;
use beamline::{Batch, Error, Result, Timestamp, WindowedValue};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Parts a bounded source is split into: they are read one at a time, when
/// nothing downstream has work, so memory holds about one part in flight
/// (text sources do not split below 1 MiB), and their order can be shuffled.
const SOURCE_SPLITS: usize = 1024;

enum NodeState {
    Impulse { emitted: bool },
    Bounded { splits: Option<Vec<Box<dyn SourceSplit>>> },
    Unbounded { readers: Option<Vec<Box<dyn UnboundedReader>>>, wake: Option<Instant> },
    Flatten,
    ParDo { pool: InvokerPool, sides: Option<Box<SideInputs>> },
    Keyed(Box<dyn KeyedOperator>),
}

/// A batch waiting for a step, with its coder encoding when the coder check
/// made one (shared by every consumer; the immutability check compares with it).
struct Bundle {
    batch: Batch,
    encoded: Option<Arc<Vec<u8>>>,
}

pub(crate) struct Executor {
    plan: ExecutionPlan,
    cfg: Config,
    rng: SmallRng,
    inbox: Vec<VecDeque<Bundle>>,
    state: Vec<NodeState>,
    /// Output watermark of each PCollection.
    watermark: Vec<Timestamp>,
    /// The ParDos reading each PCollection as a side input: (node, side index).
    side_readers: Vec<Vec<(usize, usize)>>,
    metrics: MetricResults,
}

impl Executor {
    pub(crate) fn new(plan: ExecutionPlan, cfg: Config) -> Self {
        let n = plan.nodes.len();
        let np = plan.pcollections.len();
        let mut side_readers = vec![Vec::new(); np];
        let mut state = Vec::with_capacity(n);
        for (i, node) in plan.nodes.iter().enumerate() {
            for (k, &s) in node.side_inputs.iter().enumerate() {
                side_readers[s].push((i, k));
            }
            state.push(match &node.exec {
                Executable::Impulse => NodeState::Impulse { emitted: false },
                Executable::Read(_) => NodeState::Bounded { splits: None },
                Executable::ReadUnbounded(_) => NodeState::Unbounded { readers: None, wake: None },
                Executable::Flatten => NodeState::Flatten,
                Executable::ParDo(exec) => {
                    let sides = (!node.side_inputs.is_empty()).then(|| {
                        let fns = node.side_inputs.iter().map(|&s| plan.pcollections[s].windowing.window_fn).collect();
                        let lateness = plan.pcollections[node.inputs[0]].windowing.allowed_lateness;
                        Box::new(SideInputs::new(exec.clone(), fns, lateness))
                    });
                    NodeState::ParDo { pool: InvokerPool::new(exec.clone()), sides }
                }
                Executable::Keyed(exec) => NodeState::Keyed(exec.operator()),
            });
        }
        Executor {
            rng: SmallRng::seed_from_u64(cfg.seed),
            cfg,
            inbox: (0..n).map(|_| VecDeque::new()).collect(),
            state,
            watermark: vec![Timestamp::MIN; np],
            side_readers,
            metrics: MetricResults::default(),
            plan,
        }
    }

    pub(crate) fn run(mut self) -> Result<MetricResults> {
        let result = self.run_inner();
        // Best-effort teardown of every live DoFn, also after a failure.
        let mut teardown_error = None;
        for (i, s) in self.state.iter_mut().enumerate() {
            let label = &self.plan.nodes[i].label;
            let (torn, metrics) = match s {
                NodeState::ParDo { pool, .. } => (pool.teardown(), pool.take_metrics()),
                NodeState::Keyed(op) => (op.teardown(), op.take_metrics()),
                _ => continue,
            };
            self.metrics.merge(label, metrics);
            if let Err(e) = torn {
                teardown_error.get_or_insert(e);
            }
        }
        result?;
        if let Some(e) = teardown_error {
            return Err(e);
        }
        Ok(self.metrics)
    }

    fn run_inner(&mut self) -> Result<()> {
        // Unbounded sources split first: a TestStream's clock is the
        // processing time from the start.
        for node in 0..self.plan.nodes.len() {
            if let (NodeState::Unbounded { readers: readers @ None, .. }, Executable::ReadUnbounded(source)) =
                (&mut self.state[node], &self.plan.nodes[node].exec)
            {
                *readers = Some(source.split(1)?);
            }
        }
        loop {
            let ready: Vec<usize> = (0..self.plan.nodes.len()).filter(|&i| !self.inbox[i].is_empty()).collect();
            if !ready.is_empty() {
                let node = if self.cfg.shuffle { ready[self.rng.random_range(0..ready.len())] } else { ready[0] };
                let bundle = if self.cfg.shuffle {
                    let pick = self.rng.random_range(0..self.inbox[node].len());
                    self.inbox[node].swap_remove_back(pick)
                } else {
                    self.inbox[node].pop_front()
                };
                if let Some(bundle) = bundle {
                    self.process(node, bundle)?;
                }
                continue;
            }
            // Quiescent: move the watermarks (which may fire windows and timers).
            if self.advance_watermarks()? {
                continue;
            }
            // Nothing moved: read the next part of a source.
            if self.read_next()? {
                continue;
            }
            if self.watermark.iter().all(|&w| w >= Timestamp::MAX) {
                return Ok(());
            }
            // Waiting on idle sources or processing-time timers.
            match self.next_wakeup() {
                Some(at) => {
                    let now = Instant::now();
                    if at > now {
                        std::thread::sleep((at - now).min(Duration::from_millis(100)));
                    }
                }
                None => {
                    return Err(Error::Runner {
                        runner: "direct".into(),
                        message: "no step can make progress (a cycle through side inputs?)".into(),
                    })
                }
            }
        }
    }

    /// The processing time: a TestStream's clock if the pipeline has one, else the wall clock.
    fn now(&self) -> Timestamp {
        let test_clock = self.state.iter().filter_map(|s| match s {
            NodeState::Unbounded { readers: Some(rs), .. } => rs.iter().filter_map(|r| r.processing_time()).max(),
            _ => None,
        });
        test_clock.max().unwrap_or_else(engine::wall_clock)
    }

    fn input_watermark(&self, node: usize) -> Timestamp {
        self.plan.nodes[node].inputs.iter().map(|&p| self.watermark[p]).min().unwrap_or(Timestamp::MAX)
    }

    /// When to look again at idle sources and processing-time timers.
    fn next_wakeup(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut earliest = |at: Instant| next = Some(next.map_or(at, |n: Instant| n.min(at)));
        let now = self.now();
        for s in &self.state {
            match s {
                NodeState::Unbounded { wake: Some(at), .. } => earliest(*at),
                NodeState::Keyed(op) => {
                    if let Some(t) = op.next_wakeup() {
                        let wait = (t.as_micros() - now.as_micros()).clamp(0, 100_000) as u64;
                        earliest(Instant::now() + Duration::from_micros(wait));
                    }
                }
                _ => {}
            }
        }
        next
    }

    /// Hands a produced batch to every reader of `pcoll`, in an order
    /// shuffled from the seed, after its round trip through the coder.
    fn emit(&mut self, pcoll: usize, mut batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.cfg.shuffle {
            batch.shuffle(&mut self.rng);
        }
        let mut encoded = None;
        if self.cfg.coder_check {
            let codec = &self.plan.pcollections[pcoll].codec;
            let mut bytes = Vec::new();
            codec.encode(&batch, &mut bytes)?;
            batch = codec.decode(&bytes)?;
            encoded = Some(Arc::new(bytes));
        }
        for i in 0..self.side_readers[pcoll].len() {
            let (node, k) = self.side_readers[pcoll][i];
            if let NodeState::ParDo { sides: Some(sides), .. } = &mut self.state[node] {
                sides.add_side(k, batch.clone());
            }
        }
        let consumers = &self.plan.pcollections[pcoll].consumers;
        if let Some((&last, rest)) = consumers.split_last() {
            for &c in rest {
                self.inbox[c].push_back(Bundle { batch: batch.clone(), encoded: encoded.clone() });
            }
            self.inbox[last].push_back(Bundle { batch, encoded });
        }
        Ok(())
    }

    fn emit_all(&mut self, node: usize, mut out: Outputs<'_>) -> Result<bool> {
        let outputs = self.plan.nodes[node].outputs.clone();
        let mut any = false;
        for (i, o) in outputs.into_iter().enumerate() {
            for b in out.take(i) {
                any = true;
                self.emit(o, b)?;
            }
        }
        Ok(any)
    }

    fn process(&mut self, node: usize, Bundle { batch, encoded }: Bundle) -> Result<()> {
        let input_wm = self.input_watermark(node);
        match &mut self.state[node] {
            NodeState::Flatten => {
                let out = self.plan.nodes[node].outputs[0];
                self.emit(out, batch)
            }
            NodeState::Keyed(_) => {
                let now = self.now();
                let NodeState::Keyed(op) = &mut self.state[node] else { return Err(self.broken(node)) };
                let mut out = Outputs::new(op.output_count());
                // What the input watermark made due fires before the bundle
                // is added, so its elements are judged against the windows
                // as they stand at that watermark.
                op.advance(input_wm, now, &mut out)?;
                op.add(batch, input_wm, now, &mut out)?;
                self.emit_all(node, out).map(|_| ())
            }
            NodeState::ParDo { sides: Some(sides), .. } => {
                sides.hold(batch);
                self.run_ready(node, input_wm).map(|_| ())
            }
            NodeState::ParDo { sides: None, .. } => self.run_pardo(node, batch, encoded, &[]),
            _ => Err(self.broken(node)),
        }
    }

    /// Runs the held input of a ParDo whose side windows became ready; true if any ran.
    fn run_ready(&mut self, node: usize, input_wm: Timestamp) -> Result<bool> {
        let NodeState::ParDo { sides: Some(sides), .. } = &mut self.state[node] else { return Ok(false) };
        let Some((views, batches)) = sides.take_ready(input_wm)? else { return Ok(false) };
        let any = !batches.is_empty();
        for b in batches {
            self.run_pardo(node, b, None, &views)?;
        }
        Ok(any)
    }

    /// One bundle through the ParDo, with the immutability check around it.
    fn run_pardo(
        &mut self,
        node: usize,
        bundle: Batch,
        encoded: Option<Arc<Vec<u8>>>,
        views: &[beamline::exec::SideInputView],
    ) -> Result<()> {
        let codec = self.plan.pcollections[self.plan.nodes[node].inputs[0]].codec.clone();
        // Without an encoding from the coder check, fingerprint the input now.
        let before = match (&encoded, self.cfg.immutability_check) {
            (None, true) => Some(codec.fingerprints(&bundle)?),
            _ => None,
        };
        let NodeState::ParDo { pool, .. } = &self.state[node] else { return Err(self.broken(node)) };
        let n = pool.exec().output_count();
        let mut out = Outputs::new(n);
        let mut invoker = pool.take()?;
        let result = (|| {
            invoker.start_bundle()?;
            invoker.process(&bundle, views, &mut out)?;
            invoker.finish_bundle(&mut out)
        })();
        pool.give_back(invoker);
        result?;
        let label = &self.plan.nodes[node].label;
        let changed = match (before, &encoded) {
            _ if !self.cfg.immutability_check => None,
            (Some(before), _) => first_difference(&before, &codec.fingerprints(&bundle)?),
            (None, Some(bytes)) => {
                let mut now = Vec::with_capacity(bytes.len());
                codec.encode(&bundle, &mut now)?;
                if now == **bytes {
                    None
                } else {
                    let original = codec.decode(bytes)?;
                    first_difference(&codec.fingerprints(&original)?, &codec.fingerprints(&bundle)?)
                }
            }
            (None, None) => None,
        };
        if let Some(i) = changed {
            return Err(Error::UserCode {
                label: label.clone(),
                runner: "direct".into(),
                element: bundle.describe(i),
                message: "the DoFn mutated its input element; DoFns must treat inputs as immutable \
                          (clone before changing)"
                    .into(),
            });
        }
        self.emit_all(node, out).map(|_| ())
    }

    /// Moves every output watermark forward in topological order, firing
    /// what became due. A step that emitted keeps its output watermark this
    /// round, so its consumers see what it emitted before the watermark
    /// passes it. True if anything changed.
    fn advance_watermarks(&mut self) -> Result<bool> {
        let now = self.now();
        let mut changed = false;
        for node in 0..self.plan.nodes.len() {
            let input_wm = self.input_watermark(node);
            let mut emitted = false;
            let out_wm = match &mut self.state[node] {
                NodeState::Impulse { emitted } => {
                    if *emitted {
                        Timestamp::MAX
                    } else {
                        Timestamp::MIN
                    }
                }
                NodeState::Bounded { splits } => match splits {
                    Some(s) if s.is_empty() => Timestamp::MAX,
                    _ => Timestamp::MIN,
                },
                NodeState::Unbounded { readers, .. } => match readers {
                    Some(rs) => rs.iter().map(|r| r.watermark()).min().unwrap_or(Timestamp::MAX),
                    None => Timestamp::MIN,
                },
                NodeState::Flatten => input_wm,
                NodeState::ParDo { sides, .. } => {
                    let mut hold = None;
                    if let Some(sides) = sides {
                        for (k, &s) in self.plan.nodes[node].side_inputs.iter().enumerate() {
                            sides.set_watermark(k, self.watermark[s]);
                        }
                        if sides.has_held() {
                            emitted = self.run_ready(node, input_wm)?;
                        }
                        if let NodeState::ParDo { sides: Some(sides), .. } = &self.state[node] {
                            hold = sides.held_min_timestamp();
                        }
                    }
                    hold.map_or(input_wm, |h| input_wm.min(h))
                }
                NodeState::Keyed(op) => {
                    let mut out = Outputs::new(op.output_count());
                    op.advance(input_wm, now, &mut out)?;
                    let hold = op.hold();
                    emitted = self.emit_all(node, out)?;
                    hold.map_or(input_wm, |h| input_wm.min(h))
                }
            };
            if emitted {
                changed = true;
                continue;
            }
            for i in 0..self.plan.nodes[node].outputs.len() {
                let o = self.plan.nodes[node].outputs[i];
                if out_wm > self.watermark[o] {
                    self.watermark[o] = out_wm;
                    changed = true;
                }
            }
        }
        Ok(changed)
    }

    /// Reads the next part of a source; false if no source has anything to read now.
    fn read_next(&mut self) -> Result<bool> {
        let mut sources: Vec<usize> = (0..self.plan.nodes.len())
            .filter(|&i| match &self.state[i] {
                NodeState::Impulse { emitted } => !emitted,
                NodeState::Bounded { splits } => splits.as_ref().is_none_or(|s| !s.is_empty()),
                NodeState::Unbounded { readers, wake } => {
                    wake.is_none_or(|at| at <= Instant::now())
                        && readers.as_ref().is_none_or(|rs| rs.iter().any(|r| r.watermark() < Timestamp::MAX))
                }
                _ => false,
            })
            .collect();
        if sources.is_empty() {
            return Ok(false);
        }
        let node =
            if self.cfg.shuffle { sources.swap_remove(self.rng.random_range(0..sources.len())) } else { sources[0] };
        let out = self.plan.nodes[node].outputs[0];
        let mut batches = Vec::new();
        let exec = self.plan.nodes[node].exec.clone();
        match (&mut self.state[node], &exec) {
            (NodeState::Impulse { emitted }, _) => {
                *emitted = true;
                batches.push(Batch::new(vec![WindowedValue::in_global(())]));
            }
            (NodeState::Bounded { splits }, Executable::Read(source)) => {
                let splits = match splits {
                    Some(s) => s,
                    None => splits.insert(source.split(SOURCE_SPLITS)?),
                };
                if !splits.is_empty() {
                    let mut split = if self.cfg.shuffle {
                        splits.swap_remove(self.rng.random_range(0..splits.len()))
                    } else {
                        splits.remove(0)
                    };
                    split.read(&mut |b| {
                        batches.push(b);
                        Ok(())
                    })?;
                }
            }
            (NodeState::Unbounded { readers, wake }, Executable::ReadUnbounded(source)) => {
                let readers = match readers {
                    Some(r) => r,
                    None => readers.insert(source.split(1)?),
                };
                let mut idle: Option<Duration> = None;
                let mut any_more = false;
                for r in readers.iter_mut().filter(|r| r.watermark() < Timestamp::MAX) {
                    match r.advance(&mut |b| {
                        batches.push(b);
                        Ok(())
                    })? {
                        ReadStatus::More => any_more = true,
                        ReadStatus::Idle(d) => idle = Some(idle.map_or(d, |i| i.min(d))),
                        ReadStatus::Done => {}
                    }
                    if r.one_event_at_a_time() {
                        break;
                    }
                }
                *wake = match (any_more, idle) {
                    (false, Some(d)) if batches.is_empty() => Some(Instant::now() + d),
                    _ => None,
                };
            }
            _ => return Err(self.broken(node)),
        }
        for b in batches {
            self.emit(out, b)?;
        }
        Ok(true)
    }

    fn broken(&self, node: usize) -> Error {
        Error::Runner {
            runner: "direct".into(),
            message: format!("step '{}' in an impossible state", self.plan.nodes[node].label),
        }
    }
}

/// Index of the first element whose fingerprint changed.
fn first_difference(before: &[u64], after: &[u64]) -> Option<usize> {
    before.iter().zip(after).position(|(a, b)| a != b).or((before.len() != after.len()).then_some(0))
}
