//! From graph to runnable plan: resolves functions and coders through a
//! [`Registry`], orders the primitives, and checks runner capabilities.

use crate::batch::BatchCodec;
use crate::error::{Error, Result};
use crate::exec::{BuildContext, Executable, NodeBuilder};
use crate::graph::{urns, PipelineGraph};
use crate::window::WindowingStrategy;
use std::collections::HashMap;
use std::sync::Arc;

/// Capabilities a step may require and a runner may declare.
pub mod capabilities {
    /// ParDo side inputs.
    pub const SIDE_INPUTS: &str = "side_inputs";
    /// Merging windows (sessions).
    pub const MERGING_WINDOWS: &str = "merging_windows";
    /// Tagged (multiple) outputs.
    pub const MULTIPLE_OUTPUTS: &str = "multiple_outputs";
    /// Metrics from user code.
    pub const METRICS: &str = "metrics";
    /// Unbounded PCollections.
    pub const UNBOUNDED: &str = "unbounded";
    /// Per-key state in DoFns.
    pub const STATEFUL_PROCESSING: &str = "stateful_processing";
    /// Event- and processing-time timers.
    pub const TIMERS: &str = "timers";
    /// TestStream.
    pub const TEST_STREAM: &str = "test_stream";
    /// Everything the SDK knows of.
    pub const ALL: &[&str] =
        &[SIDE_INPUTS, MERGING_WINDOWS, MULTIPLE_OUTPUTS, METRICS, UNBOUNDED, STATEFUL_PROCESSING, TIMERS, TEST_STREAM];
}

/// Builds the codec of a PCollection, given the producing step's label.
pub type CodecBuilder = Arc<dyn Fn(&str) -> Arc<dyn BatchCodec> + Send + Sync>;

/// Name-keyed constructors of executable nodes and codecs.
///
/// Building a pipeline in code registers what it uses; a program that reads a
/// graph file rebuilds each node from the function key the file names.
#[derive(Default, Clone)]
pub struct Registry {
    nodes: HashMap<String, NodeBuilder>,
    by_label: HashMap<String, NodeBuilder>,
    codecs: HashMap<String, CodecBuilder>,
}

impl Registry {
    /// Registers a node builder under `key`.
    pub fn add_node(&mut self, key: String, b: NodeBuilder) {
        self.nodes.insert(key, b);
    }
    /// Registers the builder of one step built in code (used unless the graph came from a file).
    pub fn add_step(&mut self, label: String, b: NodeBuilder) {
        self.by_label.insert(label, b);
    }
    /// Registers a codec builder under `key` (`element type|coder`).
    pub fn add_codec(&mut self, key: String, b: CodecBuilder) {
        self.codecs.entry(key).or_insert(b);
    }
    /// Adds every entry of `other` that `self` lacks.
    pub fn extend(&mut self, other: &Registry) {
        for (k, v) in &other.nodes {
            self.nodes.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &other.codecs {
            self.codecs.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

/// The key of a codec in the [`Registry`].
pub(crate) fn codec_key(element_type: &str, coder: &str) -> String {
    format!("{element_type}|{coder}")
}

/// A PCollection as a runner sees it.
#[derive(Clone)]
pub struct PlanPCollection {
    /// Its graph id.
    pub id: String,
    /// Encodes and decodes its batches.
    pub codec: Arc<dyn BatchCodec>,
    /// Whether it is finite.
    pub bounded: bool,
    /// Its windowing.
    pub windowing: WindowingStrategy,
    /// Indexes of the plan nodes reading it as a main input.
    pub consumers: Vec<usize>,
}

/// A primitive step as a runner sees it.
#[derive(Clone, Debug)]
pub struct PlanNode {
    /// Its label.
    pub label: String,
    /// Its URN.
    pub urn: String,
    /// What to run.
    pub exec: Executable,
    /// Main inputs (indexes into [`ExecutionPlan::pcollections`]).
    pub inputs: Vec<usize>,
    /// Side inputs.
    pub side_inputs: Vec<usize>,
    /// Outputs.
    pub outputs: Vec<usize>,
    /// Capabilities it needs.
    pub requirements: Vec<String>,
}

/// A graph with every primitive built, in topological order.
#[derive(Clone)]
pub struct ExecutionPlan {
    /// The graph it was built from.
    pub graph: PipelineGraph,
    /// Primitives; producers come before consumers.
    pub nodes: Vec<PlanNode>,
    /// PCollections.
    pub pcollections: Vec<PlanPCollection>,
    /// CombinePerKey composites that [`ExecutionPlan::lift_combiners`] may lift.
    liftable: Vec<Liftable>,
}

/// A CombinePerKey composite with its lifted executable.
#[derive(Clone)]
struct Liftable {
    label: String,
    exec: Executable,
    subtransforms: Vec<String>,
}

impl ExecutionPlan {
    /// Builds every primitive of `graph` from `registry`.
    pub fn build(graph: PipelineGraph, registry: &Registry, from_file: bool) -> Result<Self> {
        graph.validate()?;
        let index: HashMap<&str, usize> =
            graph.pcollections.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
        let mut pcollections = Vec::with_capacity(graph.pcollections.len());
        for p in &graph.pcollections {
            let key = codec_key(&p.element_type, &p.coder);
            let codec = registry.codecs.get(&key).ok_or_else(|| {
                Error::graph(
                    &p.producer,
                    format!(
                        "no codec for element type '{}' with coder '{}' in this program; \
                         rebuild the graph with the program that wrote it",
                        p.element_type, p.coder
                    ),
                )
            })?;
            pcollections.push(PlanPCollection {
                id: p.id.clone(),
                codec: codec(&p.producer),
                bounded: p.bounded,
                windowing: p.windowing.clone(),
                consumers: Vec::new(),
            });
        }
        let mut nodes = Vec::new();
        for t in graph.transforms.iter().filter(|t| t.is_primitive()) {
            let ids = |v: &[String]| v.iter().map(|id| index[id.as_str()]).collect::<Vec<_>>();
            let ctx = BuildContext {
                label: &t.label,
                payload: &t.payload,
                inputs: t.inputs.iter().map(|i| &graph.pcollections[index[i.as_str()]]).collect(),
                side_inputs: t.side_inputs.iter().map(|i| &graph.pcollections[index[i.as_str()]]).collect(),
                outputs: t.outputs.iter().map(|i| &graph.pcollections[index[i.as_str()]]).collect(),
                from_file,
            };
            let expected_inputs = match t.urn.as_str() {
                urns::IMPULSE | urns::READ => Some(0),
                urns::FLATTEN => None,
                _ => Some(1),
            };
            if let Some(n) = expected_inputs {
                if t.inputs.len() != n {
                    return Err(Error::graph(
                        &t.label,
                        format!("{} takes {n} main input(s), the graph gives {}", t.urn, t.inputs.len()),
                    ));
                }
            }
            let exec = match t.urn.as_str() {
                urns::IMPULSE => Executable::Impulse,
                urns::FLATTEN => Executable::Flatten,
                _ => {
                    let key = t.function.as_deref().ok_or_else(|| Error::graph(&t.label, "names no function"))?;
                    let local = if from_file { None } else { registry.by_label.get(&t.label) };
                    let builder = local.or_else(|| registry.nodes.get(key)).ok_or_else(|| {
                        Error::graph(
                            &t.label,
                            format!(
                                "function '{key}' is not registered in this program; link the crate \
                                 that defines it and use it (or register it with beamline::registry)"
                            ),
                        )
                    })?;
                    builder(&ctx)?
                }
            };
            if t.outputs.len() != 1 && !matches!(exec, Executable::ParDo(_)) {
                return Err(Error::graph(
                    &t.label,
                    format!("{} has one output, the graph gives {}", t.urn, t.outputs.len()),
                ));
            }
            if let Executable::ParDo(p) = &exec {
                if p.output_count() != t.outputs.len() {
                    return Err(Error::graph(
                        &t.label,
                        format!("the DoFn has {} output(s), the graph gives {}", p.output_count(), t.outputs.len()),
                    ));
                }
            }
            nodes.push(PlanNode {
                label: t.label.clone(),
                urn: t.urn.clone(),
                exec,
                inputs: ids(&t.inputs),
                side_inputs: ids(&t.side_inputs),
                outputs: ids(&t.outputs),
                requirements: t.requirements.clone(),
            });
        }
        let mut liftable = Vec::new();
        for t in graph.transforms.iter().filter(|t| t.urn == urns::COMBINE_PER_KEY) {
            let local = if from_file { None } else { registry.by_label.get(&t.label) };
            let Some(builder) = local.or_else(|| t.function.as_ref().and_then(|k| registry.nodes.get(k))) else {
                continue; // Runs unlifted, as its GroupByKey and CombineValues.
            };
            let ctx = BuildContext {
                label: &t.label,
                payload: &t.payload,
                inputs: t.inputs.iter().map(|i| &graph.pcollections[index[i.as_str()]]).collect(),
                side_inputs: Vec::new(),
                outputs: t.outputs.iter().map(|i| &graph.pcollections[index[i.as_str()]]).collect(),
                from_file,
            };
            let exec = builder(&ctx)?;
            liftable.push(Liftable { label: t.label.clone(), exec, subtransforms: t.subtransforms.clone() });
        }
        let nodes = topo_sort(nodes, pcollections.len())?;
        let mut plan = ExecutionPlan { graph, nodes, pcollections, liftable };
        plan.link_consumers();
        Ok(plan)
    }

    fn link_consumers(&mut self) {
        for p in &mut self.pcollections {
            p.consumers.clear();
        }
        for (i, n) in self.nodes.iter().enumerate() {
            for &p in &n.inputs {
                self.pcollections[p].consumers.push(i);
            }
        }
    }

    /// Replaces each `CombinePerKey` (a GroupByKey followed by CombineValues)
    /// by one [`Executable::Keyed`] node with a pre-combine phase, so the runner can pre-combine
    /// before its shuffle. Combines over merging windows stay as they are.
    /// Returns the labels of the lifted combines.
    pub fn lift_combiners(&mut self) -> Vec<String> {
        let mut lifted = Vec::new();
        for l in std::mem::take(&mut self.liftable) {
            let [gbk_label, values_label] = l.subtransforms.as_slice() else { continue };
            let find = |label: &str| self.nodes.iter().position(|n| n.label == label);
            let (Some(gbk), Some(values)) = (find(gbk_label), find(values_label)) else { continue };
            let (g, v) = (&self.nodes[gbk], &self.nodes[values]);
            let grouped = g.outputs[0];
            let only_reader = v.inputs == [grouped]
                && self.pcollections[grouped].consumers == [values]
                && !self.nodes.iter().any(|n| n.side_inputs.contains(&grouped));
            let input = g.inputs[0];
            if g.urn != urns::GROUP_BY_KEY
                || !only_reader
                || v.outputs.len() != 1
                || self.pcollections[input].windowing.window_fn.is_merging()
            {
                continue;
            }
            let mut requirements = g.requirements.clone();
            requirements.extend(v.requirements.iter().cloned());
            let node = PlanNode {
                label: l.label.clone(),
                urn: urns::COMBINE_PER_KEY.to_string(),
                exec: l.exec,
                inputs: vec![input],
                side_inputs: Vec::new(),
                outputs: v.outputs.clone(),
                requirements,
            };
            // The GroupByKey comes before CombineValues in topological order, and
            // every reader of the combine's output after it: the lifted node takes
            // CombineValues' place.
            self.nodes[values] = node;
            self.nodes.remove(gbk);
            self.link_consumers();
            lifted.push(l.label);
        }
        lifted
    }

    /// Fails if a step needs a capability that `capabilities` lacks, naming both.
    pub fn check_capabilities(&self, runner: &str, capabilities: &[&str]) -> Result<()> {
        for n in &self.nodes {
            for r in &n.requirements {
                if !capabilities.contains(&r.as_str()) {
                    return Err(Error::Unsupported {
                        runner: runner.into(),
                        label: n.label.clone(),
                        capability: r.clone(),
                    });
                }
            }
        }
        for (i, p) in self.pcollections.iter().enumerate() {
            if !p.bounded && !capabilities.contains(&capabilities::UNBOUNDED) {
                let producer =
                    self.nodes.iter().find(|n| n.outputs.contains(&i)).map(|n| n.label.clone()).unwrap_or_default();
                return Err(Error::Unbounded { runner: runner.into(), label: producer });
            }
        }
        Ok(())
    }
}

fn topo_sort(nodes: Vec<PlanNode>, n_pcolls: usize) -> Result<Vec<PlanNode>> {
    let mut producer = vec![None; n_pcolls];
    for (i, n) in nodes.iter().enumerate() {
        for &o in &n.outputs {
            if let Some(prev) = producer[o].replace(i) {
                let prev: usize = prev;
                return Err(Error::graph(
                    &n.label,
                    format!("writes a PCollection that '{}' writes too", nodes[prev].label),
                ));
            }
        }
    }
    let mut order = Vec::with_capacity(nodes.len());
    let mut state = vec![0u8; nodes.len()]; // 0 new, 1 visiting, 2 done
    fn visit(
        i: usize,
        nodes: &[PlanNode],
        producer: &[Option<usize>],
        state: &mut [u8],
        order: &mut Vec<usize>,
    ) -> Result<()> {
        match state[i] {
            2 => return Ok(()),
            1 => return Err(Error::graph(&nodes[i].label, "is part of a cycle")),
            _ => {}
        }
        state[i] = 1;
        for &p in nodes[i].inputs.iter().chain(&nodes[i].side_inputs) {
            match producer[p] {
                Some(j) => visit(j, nodes, producer, state, order)?,
                None => return Err(Error::graph(&nodes[i].label, "reads a PCollection that no step produces")),
            }
        }
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..nodes.len() {
        visit(i, &nodes, &producer, &mut state, &mut order)?;
    }
    let mut slots: Vec<Option<PlanNode>> = nodes.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}
