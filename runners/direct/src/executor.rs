//! The direct runner's scheduler: bundles move from producers to consumers'
//! inboxes; a node finishes once its inputs are complete and its inbox empty.

use crate::Config;
use beamline::exec::{CombinePhase, DoFnInvoker, Executable, GroupState, Outputs, SideInputView, SourceSplit};
use beamline::metrics::MetricResults;
use beamline::plan::ExecutionPlan;
use beamline::{Batch, Error, Result, Timestamp, WindowedValue};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// Parts a source is split into: they are read one at a time, when nothing
/// downstream has work, so memory holds about one part in flight (text
/// sources do not split below 1 MiB), and their order can be shuffled.
const SOURCE_SPLITS: usize = 1024;

enum NodeState {
    Idle,
    Source(Vec<Box<dyn SourceSplit>>),
    ParDo { invoker: Box<dyn DoFnInvoker>, sides: Vec<SideInputView> },
    Gbk(Box<dyn GroupState>),
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
    inbox: Vec<Vec<Bundle>>,
    state: Vec<NodeState>,
    finished: Vec<bool>,
    /// Complete contents of PCollections read as side inputs.
    side_contents: Vec<Option<Vec<Batch>>>,
    producer: Vec<usize>,
    metrics: MetricResults,
}

impl Executor {
    pub(crate) fn new(plan: ExecutionPlan, cfg: Config) -> Self {
        let n = plan.nodes.len();
        let np = plan.pcollections.len();
        let mut side_contents: Vec<Option<Vec<Batch>>> = (0..np).map(|_| None).collect();
        let mut producer = vec![usize::MAX; np];
        for (i, node) in plan.nodes.iter().enumerate() {
            for &s in &node.side_inputs {
                side_contents[s] = Some(Vec::new());
            }
            for &o in &node.outputs {
                producer[o] = i;
            }
        }
        Executor {
            rng: SmallRng::seed_from_u64(cfg.seed),
            cfg,
            inbox: (0..n).map(|_| Vec::new()).collect(),
            state: (0..n).map(|_| NodeState::Idle).collect(),
            finished: vec![false; n],
            side_contents,
            producer,
            metrics: MetricResults::default(),
            plan,
        }
    }

    pub(crate) fn run(mut self) -> Result<MetricResults> {
        let result = self.run_inner();
        // Best-effort teardown of every live DoFn, also after a failure.
        let mut teardown_error = None;
        for s in &mut self.state {
            if let NodeState::ParDo { invoker, .. } = s {
                if let Err(e) = invoker.teardown() {
                    teardown_error.get_or_insert(e);
                }
            }
        }
        result?;
        if let Some(e) = teardown_error {
            return Err(e);
        }
        Ok(self.metrics)
    }

    fn run_inner(&mut self) -> Result<()> {
        loop {
            let ready: Vec<usize> =
                (0..self.plan.nodes.len()).filter(|&i| !self.inbox[i].is_empty() && self.sides_complete(i)).collect();
            if !ready.is_empty() {
                let node = if self.cfg.shuffle { ready[self.rng.random_range(0..ready.len())] } else { ready[0] };
                let bundle = if self.cfg.shuffle {
                    let pick = self.rng.random_range(0..self.inbox[node].len());
                    self.inbox[node].swap_remove(pick)
                } else {
                    self.inbox[node].remove(0)
                };
                self.process(node, bundle)?;
                continue;
            }
            // Nothing to process: read the next part of a source.
            if let Some(source) = (0..self.plan.nodes.len()).find(|&i| {
                !self.finished[i]
                    && matches!(self.plan.nodes[i].exec, Executable::Read(_) | Executable::ReadUnbounded(_))
            }) {
                self.read_next(source)?;
                continue;
            }
            // Nothing to read: finish the first node whose inputs are complete.
            let next = (0..self.plan.nodes.len()).find(|&i| {
                !self.finished[i] && self.inputs_complete(i) && self.sides_complete(i) && self.inbox[i].is_empty()
            });
            match next {
                Some(i) => self.finish(i)?,
                None if self.finished.iter().all(|&f| f) => return Ok(()),
                None => {
                    return Err(Error::Runner {
                        runner: "direct".into(),
                        message: "no step can make progress (a cycle through side inputs?)".into(),
                    })
                }
            }
        }
    }

    fn complete(&self, pcoll: usize) -> bool {
        self.producer[pcoll] != usize::MAX && self.finished[self.producer[pcoll]]
    }

    fn inputs_complete(&self, node: usize) -> bool {
        self.plan.nodes[node].inputs.iter().all(|&p| self.complete(p))
    }

    fn sides_complete(&self, node: usize) -> bool {
        self.plan.nodes[node].side_inputs.iter().all(|&p| self.complete(p))
    }

    /// Hands a produced batch to every consumer of `pcoll`.
    fn emit(&mut self, pcoll: usize, mut batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut encoded = None;
        if self.cfg.coder_check {
            let codec = &self.plan.pcollections[pcoll].codec;
            let mut bytes = Vec::new();
            codec.encode(&batch, &mut bytes)?;
            batch = codec.decode(&bytes)?;
            encoded = Some(Arc::new(bytes));
        }
        if let Some(contents) = &mut self.side_contents[pcoll] {
            contents.push(batch.clone());
        }
        let consumers = &self.plan.pcollections[pcoll].consumers;
        if let Some((&last, rest)) = consumers.split_last() {
            for &c in rest {
                self.inbox[c].push(Bundle { batch: batch.clone(), encoded: encoded.clone() });
            }
            self.inbox[last].push(Bundle { batch, encoded });
        }
        Ok(())
    }

    fn process(&mut self, node: usize, Bundle { batch: bundle, encoded }: Bundle) -> Result<()> {
        let exec = self.plan.nodes[node].exec.clone();
        match exec {
            Executable::Flatten => {
                let out = self.plan.nodes[node].outputs[0];
                self.emit(out, bundle)
            }
            Executable::GroupByKey(_) | Executable::CombinePerKey(_) => {
                if let NodeState::Idle = self.state[node] {
                    self.state[node] = NodeState::Gbk(match &exec {
                        Executable::CombinePerKey(c) => c.new_state(CombinePhase::Full),
                        Executable::GroupByKey(g) => g.new_state(),
                        _ => return Err(self.broken(node)),
                    });
                }
                match &mut self.state[node] {
                    NodeState::Gbk(s) => s.add(bundle),
                    _ => Err(self.broken(node)),
                }
            }
            Executable::ParDo(pardo) => {
                if let NodeState::Idle = self.state[node] {
                    let mut sides = Vec::new();
                    for (i, &s) in self.plan.nodes[node].side_inputs.iter().enumerate() {
                        let contents = self.side_contents[s].clone().unwrap_or_default();
                        sides.push(pardo.prepare_side_input(i, contents)?);
                    }
                    let mut invoker = pardo.instantiate();
                    invoker.setup()?;
                    self.state[node] = NodeState::ParDo { invoker, sides };
                }
                let codec = self.plan.pcollections[self.plan.nodes[node].inputs[0]].codec.clone();
                // Without an encoding from the coder check, fingerprint the input now.
                let before = match (&encoded, self.cfg.immutability_check) {
                    (None, true) => Some(codec.fingerprints(&bundle)?),
                    _ => None,
                };
                let mut out = Outputs::new(pardo.output_count());
                let NodeState::ParDo { invoker, sides } = &mut self.state[node] else {
                    return Err(self.broken(node));
                };
                invoker.start_bundle()?;
                invoker.process(&bundle, sides, &mut out)?;
                invoker.finish_bundle(&mut out)?;
                let label = &self.plan.nodes[node].label;
                self.metrics.merge(label, invoker.take_metrics());
                let changed = match (before, &encoded) {
                    _ if !self.cfg.immutability_check => None,
                    (Some(before), _) => Self::first_difference(&before, &codec.fingerprints(&bundle)?),
                    (None, Some(bytes)) => {
                        let mut now = Vec::with_capacity(bytes.len());
                        codec.encode(&bundle, &mut now)?;
                        if now == **bytes {
                            None
                        } else {
                            let original = codec.decode(bytes)?;
                            Self::first_difference(&codec.fingerprints(&original)?, &codec.fingerprints(&bundle)?)
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
                let outputs = self.plan.nodes[node].outputs.clone();
                for (i, o) in outputs.into_iter().enumerate() {
                    for b in out.take(i) {
                        self.emit(o, b)?;
                    }
                }
                Ok(())
            }
            Executable::Impulse | Executable::Read(_) | Executable::ReadUnbounded(_) => Err(self.broken(node)),
        }
    }

    /// Reads one part of a source (splitting it first); finishes the source
    /// after its last part.
    fn read_next(&mut self, node: usize) -> Result<()> {
        if let NodeState::Idle = &self.state[node] {
            let splits = match &self.plan.nodes[node].exec {
                Executable::Read(source) => source.split(SOURCE_SPLITS)?,
                // The reference runner reads an unbounded source to its end
                // (every element on time); it runs until stopped if it never ends.
                Executable::ReadUnbounded(source) => {
                    source.split(SOURCE_SPLITS)?.into_iter().map(beamline::exec::read_to_end).collect()
                }
                _ => return Err(self.broken(node)),
            };
            self.state[node] = NodeState::Source(splits);
        }
        let NodeState::Source(splits) = &mut self.state[node] else {
            return Err(self.broken(node));
        };
        let Some(mut split) = (match splits.len() {
            0 => None,
            n if self.cfg.shuffle => Some(splits.swap_remove(self.rng.random_range(0..n))),
            _ => Some(splits.remove(0)),
        }) else {
            return self.finish(node);
        };
        let mut batches = Vec::new();
        split.read(&mut |b| {
            batches.push(b);
            Ok(())
        })?;
        let out = self.plan.nodes[node].outputs[0];
        for b in batches {
            self.emit(out, b)?;
        }
        Ok(())
    }

    fn finish(&mut self, node: usize) -> Result<()> {
        let exec = self.plan.nodes[node].exec.clone();
        let outputs = self.plan.nodes[node].outputs.clone();
        match exec {
            Executable::Impulse => {
                self.emit(outputs[0], Batch::new(vec![WindowedValue::in_global(())]))?;
            }
            Executable::Read(_) | Executable::ReadUnbounded(_) => {}
            Executable::GroupByKey(_) | Executable::CombinePerKey(_) => {
                if let NodeState::Gbk(s) = &mut self.state[node] {
                    let fired = s.fire(Timestamp::MAX)?;
                    self.emit(outputs[0], fired)?;
                }
            }
            Executable::ParDo(_) | Executable::Flatten => {}
        }
        self.finished[node] = true;
        Ok(())
    }

    /// Index of the first element whose fingerprint changed.
    fn first_difference(before: &[u64], after: &[u64]) -> Option<usize> {
        before.iter().zip(after).position(|(a, b)| a != b).or((before.len() != after.len()).then_some(0))
    }

    fn broken(&self, node: usize) -> Error {
        Error::Runner {
            runner: "direct".into(),
            message: format!("step '{}' in an impossible state", self.plan.nodes[node].label),
        }
    }
}
