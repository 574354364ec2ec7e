//! The direct runner's scheduler: bundles move from producers to consumers'
//! inboxes; a node finishes once its inputs are complete and its inbox empty.

use crate::Config;
use beamline::exec::{DoFnInvoker, Executable, GroupState, Outputs, SideInputView};
use beamline::metrics::MetricResults;
use beamline::plan::ExecutionPlan;
use beamline::{Batch, Error, Result, Timestamp, WindowedValue};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Bundles a source is split into (so that bundle order can be shuffled).
const SOURCE_SPLITS: usize = 4;

enum NodeState {
    Idle,
    ParDo { invoker: Box<dyn DoFnInvoker>, sides: Vec<SideInputView> },
    Gbk(Box<dyn GroupState>),
}

pub(crate) struct Executor {
    plan: ExecutionPlan,
    cfg: Config,
    rng: SmallRng,
    inbox: Vec<Vec<Batch>>,
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
            // Nothing to process: finish the first node whose inputs are complete.
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
        if self.cfg.coder_check {
            let codec = &self.plan.pcollections[pcoll].codec;
            let mut bytes = Vec::new();
            codec.encode(&batch, &mut bytes)?;
            batch = codec.decode(&bytes)?;
        }
        if let Some(contents) = &mut self.side_contents[pcoll] {
            contents.push(batch.clone());
        }
        let consumers = &self.plan.pcollections[pcoll].consumers;
        if let Some((&last, rest)) = consumers.split_last() {
            for &c in rest {
                self.inbox[c].push(batch.clone());
            }
            self.inbox[last].push(batch);
        }
        Ok(())
    }

    fn process(&mut self, node: usize, mut bundle: Batch) -> Result<()> {
        let exec = self.plan.nodes[node].exec.clone();
        match exec {
            Executable::Flatten => {
                let out = self.plan.nodes[node].outputs[0];
                self.emit(out, bundle)
            }
            Executable::GroupByKey(g) => {
                if let NodeState::Idle = self.state[node] {
                    self.state[node] = NodeState::Gbk(g.new_state());
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
                if self.cfg.shuffle {
                    bundle.shuffle(&mut self.rng);
                }
                let codec = self.plan.pcollections[self.plan.nodes[node].inputs[0]].codec.clone();
                let before = if self.cfg.immutability_check { Some(codec.fingerprints(&bundle)?) } else { None };
                let mut out = Outputs::new(pardo.output_count());
                let NodeState::ParDo { invoker, sides } = &mut self.state[node] else {
                    return Err(self.broken(node));
                };
                invoker.start_bundle()?;
                invoker.process(&bundle, sides, &mut out)?;
                invoker.finish_bundle(&mut out)?;
                let label = &self.plan.nodes[node].label;
                self.metrics.merge(label, invoker.take_metrics());
                if let Some(before) = before {
                    let after = codec.fingerprints(&bundle)?;
                    if let Some(i) = before.iter().zip(&after).position(|(a, b)| a != b) {
                        return Err(Error::UserCode {
                            label: label.clone(),
                            runner: "direct".into(),
                            element: bundle.describe(i),
                            message: "the DoFn mutated its input element; DoFns must treat inputs as immutable \
                                      (clone before changing)"
                                .into(),
                        });
                    }
                }
                let outputs = self.plan.nodes[node].outputs.clone();
                for (i, o) in outputs.into_iter().enumerate() {
                    for b in out.take(i) {
                        self.emit(o, b)?;
                    }
                }
                Ok(())
            }
            Executable::Impulse | Executable::Read(_) => Err(self.broken(node)),
        }
    }

    fn finish(&mut self, node: usize) -> Result<()> {
        let exec = self.plan.nodes[node].exec.clone();
        let outputs = self.plan.nodes[node].outputs.clone();
        match exec {
            Executable::Impulse => {
                self.emit(outputs[0], Batch::new(vec![WindowedValue::in_global(())]))?;
            }
            Executable::Read(source) => {
                for mut split in source.split(SOURCE_SPLITS)? {
                    let mut batches = Vec::new();
                    split.read(&mut |b| {
                        batches.push(b);
                        Ok(())
                    })?;
                    for b in batches {
                        self.emit(outputs[0], b)?;
                    }
                }
            }
            Executable::GroupByKey(_) => {
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

    fn broken(&self, node: usize) -> Error {
        Error::Runner {
            runner: "direct".into(),
            message: format!("step '{}' in an impossible state", self.plan.nodes[node].label),
        }
    }
}
