//! `Pipeline`, `PCollection` and `PTransform`: building the graph.
//!
//! Applying a transform gives it a unique, nested label; composites expand
//! into sub-transforms that stay visible; primitives record their URN,
//! function key and payload, and register how to rebuild themselves.

use crate::batch::TypedCodec;
use crate::coder::{Coder, SerdeCoder};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::exec::NodeBuilder;
use crate::graph::{urns, PCollectionNode, PipelineGraph, TransformNode, GRAPH_VERSION};
use crate::options::{NoOptions, PipelineOptions};
use crate::plan::{codec_key, ExecutionPlan, Registry};
use crate::runner::{PipelineResult, Runners};
use crate::window::WindowingStrategy;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

/// A pipeline under construction: the graph of applied transforms.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let squares = p.apply(Create::new(vec![1i64, 2, 3])).apply(Map::new(|x: &i64| x * x));
/// assert_that(&squares, contains_in_any_order(vec![1, 4, 9]));
/// p.run().unwrap();
/// ```
#[derive(Clone)]
#[must_use = "a pipeline does nothing until run"]
pub struct Pipeline {
    state: Rc<RefCell<State>>,
}

struct State {
    options: PipelineOptions,
    runners: Runners,
    transforms: Vec<TransformNode>,
    pcollections: Vec<PCollectionNode>,
    registry: Registry,
    closures: HashSet<String>,
    lazy_payloads: HashMap<String, LazyPayload>,
    labels: HashSet<String>,
    derived: HashMap<String, usize>,
    scope: Vec<usize>,
    error: Option<Error>,
}

/// A transform: something applied to an input that yields an output.
///
/// Primitives record themselves through the SDK; user composites implement
/// `expand` by applying other transforms to the input.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// struct Double;
/// impl PTransform<PCollection<i64>> for Double {
///     type Output = PCollection<i64>;
///     fn default_label(&self) -> String { "Double".into() }
///     fn expand(self, input: PCollection<i64>) -> PCollection<i64> {
///         input.apply(Map::new(|x: &i64| x * 2))
///     }
/// }
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let out = p.apply(Create::new(vec![1i64, 2])).apply(Double);
/// assert_that(&out, contains_in_any_order(vec![2, 4]));
/// p.run().unwrap();
/// ```
pub trait PTransform<In: PValue> {
    /// What applying it yields.
    type Output: PValue;
    /// The label used when the user gives none.
    fn default_label(&self) -> String;
    /// Builds the transform's sub-graph on `input`.
    fn expand(self, input: In) -> Self::Output;
}

/// Something transforms take or give: PCollections, groups of them, or the pipeline root.
pub trait PValue {
    /// Ids of the PCollections it holds.
    fn ids(&self) -> Vec<String>;
    /// The pipeline it belongs to.
    fn pipeline(&self) -> Option<Pipeline>;
}

/// The input of root transforms such as `Create` and `Impulse`.
#[derive(Clone)]
pub struct PBegin(pub(crate) Pipeline);

impl PValue for PBegin {
    fn ids(&self) -> Vec<String> {
        Vec::new()
    }
    fn pipeline(&self) -> Option<Pipeline> {
        Some(self.0.clone())
    }
}

impl PBegin {
    /// The pipeline.
    pub fn root(&self) -> &Pipeline {
        &self.0
    }
}

impl PValue for () {
    fn ids(&self) -> Vec<String> {
        Vec::new()
    }
    fn pipeline(&self) -> Option<Pipeline> {
        None
    }
}

/// A (possibly very large, possibly unbounded) collection of elements of type `T`.
#[must_use]
pub struct PCollection<T> {
    pipeline: Pipeline,
    id: Rc<str>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for PCollection<T> {
    fn clone(&self) -> Self {
        PCollection { pipeline: self.pipeline.clone(), id: self.id.clone(), _t: PhantomData }
    }
}

impl<T> PCollection<T> {
    pub(crate) fn from_id(pipeline: &Pipeline, id: &str) -> Self {
        PCollection { pipeline: pipeline.clone(), id: id.into(), _t: PhantomData }
    }
    pub(crate) fn pipeline_handle(&self) -> Option<Pipeline> {
        Some(self.pipeline.clone())
    }
}

impl<T> PValue for PCollection<T> {
    fn ids(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    fn pipeline(&self) -> Option<Pipeline> {
        Some(self.pipeline.clone())
    }
}

impl<T> PValue for Vec<PCollection<T>> {
    fn ids(&self) -> Vec<String> {
        self.iter().map(|p| p.id.to_string()).collect()
    }
    fn pipeline(&self) -> Option<Pipeline> {
        self.first().map(|p| p.pipeline.clone())
    }
}

macro_rules! tuple_pvalue {
    ($($name:ident),+) => {
        impl<$($name: PValue),+> PValue for ($($name,)+) {
            #[allow(non_snake_case)]
            fn ids(&self) -> Vec<String> {
                let ($($name,)+) = self;
                let mut v = Vec::new();
                $(v.extend($name.ids());)+
                v
            }
            #[allow(non_snake_case)]
            fn pipeline(&self) -> Option<Pipeline> {
                let ($($name,)+) = self;
                None$(.or_else(|| $name.pipeline()))+
            }
        }
    };
}
tuple_pvalue!(A, B);
tuple_pvalue!(A, B, C);
tuple_pvalue!(A, B, C, D);

impl<T: Element> PCollection<T> {
    /// Applies a transform with its default label.
    pub fn apply<X: PTransform<Self>>(&self, t: X) -> X::Output {
        self.pipeline.apply_to(None, self.clone(), t)
    }
    /// Applies a transform with the given label.
    pub fn apply_named<X: PTransform<Self>>(&self, label: &str, t: X) -> X::Output {
        self.pipeline.apply_to(Some(label.to_string()), self.clone(), t)
    }
    /// The pipeline this collection belongs to.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }
    /// Its id in the graph.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// How it is windowed.
    pub fn windowing(&self) -> WindowingStrategy {
        self.pipeline.pcollection_node(&self.id).map(|n| n.windowing).unwrap_or_default()
    }
    /// Whether it is finite.
    pub fn is_bounded(&self) -> bool {
        self.pipeline.pcollection_node(&self.id).map(|n| n.bounded).unwrap_or(true)
    }
    /// Gives the collection its own coder instead of the serde default.
    ///
    /// # Examples
    /// ```
    /// use beamline::coder::Coder;
    /// use beamline::prelude::*;
    /// /// Encodes a u32 as 4 big-endian bytes.
    /// struct FixedU32;
    /// impl Coder<u32> for FixedU32 {
    ///     fn encode(&self, v: &u32, out: &mut Vec<u8>) -> Result<(), String> {
    ///         out.extend_from_slice(&v.to_be_bytes());
    ///         Ok(())
    ///     }
    ///     fn decode(&self, b: &[u8]) -> Result<u32, String> {
    ///         Ok(u32::from_be_bytes(b.try_into().map_err(|_| format!("expected 4 bytes, got {}", b.len()))?))
    ///     }
    ///     fn name(&self) -> String {
    ///         "example:coder:fixed_u32:v1".into()
    ///     }
    /// }
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let xs = p.apply(Create::new(vec![1u32, 70000]));
    /// xs.set_coder(FixedU32);
    /// assert_that(&xs.apply(Map::new(|x: &u32| x + 1)), contains_in_any_order(vec![2u32, 70001]));
    /// assert!(p.graph().pcollections.iter().any(|c| c.coder == "example:coder:fixed_u32:v1"));
    /// p.run().unwrap();
    /// ```
    pub fn set_coder(&self, coder: impl Coder<T>) {
        let coder = Arc::new(coder);
        let name = coder.name();
        let mut s = self.pipeline.state.borrow_mut();
        s.registry.add_codec(codec_key(std::any::type_name::<T>(), &name), codec_builder(coder));
        if let Some(n) = s.pcollections.iter_mut().find(|n| *n.id == *self.id) {
            n.coder = name;
        }
    }
}

fn codec_builder<T: Element, C: Coder<T>>(coder: Arc<C>) -> crate::plan::CodecBuilder {
    Arc::new(move |label: &str| {
        Arc::new(TypedCodec { coder: coder.clone(), label: label.to_string(), _t: PhantomData })
    })
}

/// A payload computed only when the graph is written.
pub(crate) type LazyPayload = Arc<dyn Fn() -> std::result::Result<serde_json::Value, String> + Send + Sync>;

/// What a primitive records about itself when it expands.
pub(crate) struct Primitive {
    pub(crate) urn: &'static str,
    /// Registry key; `None` for Impulse and Flatten.
    pub(crate) function: Option<String>,
    pub(crate) payload: serde_json::Value,
    /// Replaces `payload` when the graph is written (for large payloads).
    pub(crate) lazy_payload: Option<LazyPayload>,
    pub(crate) inputs: Vec<String>,
    pub(crate) side_inputs: Vec<String>,
    pub(crate) outputs: Vec<String>,
    pub(crate) requirements: Vec<String>,
    pub(crate) builder: Option<NodeBuilder>,
    /// False when the step holds a Rust closure.
    pub(crate) portable: bool,
}

impl Primitive {
    /// A portable Read of a bounded source into `output`, rebuilt by `builder`.
    pub(crate) fn read(function: String, payload: serde_json::Value, output: &str, builder: NodeBuilder) -> Self {
        Primitive {
            urn: urns::READ,
            function: Some(function),
            payload,
            lazy_payload: None,
            inputs: Vec::new(),
            side_inputs: Vec::new(),
            outputs: vec![output.to_string()],
            requirements: Vec::new(),
            builder: Some(builder),
            portable: true,
        }
    }
}

impl Pipeline {
    /// A pipeline with explicit options, run on one of `runners`.
    pub fn new(options: PipelineOptions, runners: Runners) -> Self {
        Pipeline {
            state: Rc::new(RefCell::new(State {
                options,
                runners,
                transforms: Vec::new(),
                pcollections: Vec::new(),
                registry: Registry::default(),
                closures: HashSet::new(),
                lazy_payloads: HashMap::new(),
                labels: HashSet::new(),
                derived: HashMap::new(),
                scope: Vec::new(),
                error: None,
            })),
        }
    }

    /// A pipeline for tests and examples on the named runner.
    pub fn for_tests(runner: &str, runners: Runners) -> Self {
        Pipeline::new(PipelineOptions::for_runner(runner), runners)
    }

    /// A pipeline whose options come from the process's command line.
    pub fn from_args(runners: Runners) -> Result<Self> {
        Pipeline::from_args_with::<NoOptions>(runners).map(|(p, _)| p)
    }

    /// Like [`Pipeline::from_args`], also parsing the user's options `U`.
    pub fn from_args_with<U: clap::Args + clap::FromArgMatches>(runners: Runners) -> Result<(Self, U)> {
        let (opts, user) = PipelineOptions::parse_from::<U>(std::env::args_os(), &runners)?;
        Ok((Pipeline::new(opts, runners), user))
    }

    /// The options.
    pub fn options(&self) -> PipelineOptions {
        self.state.borrow().options.clone()
    }

    /// Applies a root transform (such as `Create`) with its default label.
    pub fn apply<X: PTransform<PBegin>>(&self, t: X) -> X::Output {
        self.apply_to(None, PBegin(self.clone()), t)
    }

    /// Applies a root transform with the given label.
    pub fn apply_named<X: PTransform<PBegin>>(&self, label: &str, t: X) -> X::Output {
        self.apply_to(Some(label.to_string()), PBegin(self.clone()), t)
    }

    /// Applies `t` to `input` under `label` (the default label when `None`).
    pub fn apply_to<I: PValue, X: PTransform<I>>(&self, label: Option<String>, input: I, t: X) -> X::Output {
        if let Some(other) = input.pipeline() {
            if !Rc::ptr_eq(&other.state, &self.state) {
                self.fail(Error::Construction(format!(
                    "'{}' is applied to a PCollection of another pipeline",
                    label.clone().unwrap_or_else(|| t.default_label())
                )));
            }
        }
        let explicit = label.is_some();
        let base = label.unwrap_or_else(|| t.default_label());
        let idx = self.open(&base, explicit, input.ids());
        let out = t.expand(input);
        let mut s = self.state.borrow_mut();
        s.scope.pop();
        let node = &mut s.transforms[idx];
        if node.urn == urns::COMPOSITE || node.urn == urns::COMBINE_PER_KEY {
            node.outputs = out.ids();
        }
        out
    }

    fn open(&self, base: &str, explicit: bool, inputs: Vec<String>) -> usize {
        let mut s = self.state.borrow_mut();
        let prefix = s.scope.last().map(|&i| format!("{}/", s.transforms[i].label)).unwrap_or_default();
        let mut label = format!("{prefix}{base}");
        if s.labels.contains(&label) {
            if explicit {
                let msg = format!("duplicate label '{label}': give each applied transform a unique label");
                if s.error.is_none() {
                    s.error = Some(Error::Construction(msg));
                }
            }
            let mut n = s.derived.get(&label).copied().unwrap_or(1);
            let candidate = loop {
                n += 1;
                let candidate = format!("{label}{n}");
                if !s.labels.contains(&candidate) {
                    break candidate;
                }
            };
            s.derived.insert(label, n);
            label = candidate;
        }
        s.labels.insert(label.clone());
        let idx = s.transforms.len();
        if let Some(&parent) = s.scope.last() {
            s.transforms[parent].subtransforms.push(label.clone());
        }
        s.transforms.push(TransformNode {
            label,
            urn: urns::COMPOSITE.to_string(),
            function: None,
            payload: serde_json::Value::Null,
            inputs,
            side_inputs: Vec::new(),
            outputs: Vec::new(),
            subtransforms: Vec::new(),
            requirements: Vec::new(),
        });
        s.scope.push(idx);
        idx
    }

    /// Records the first construction error; `run` reports it.
    pub(crate) fn fail(&self, e: Error) {
        let mut s = self.state.borrow_mut();
        if s.error.is_none() {
            s.error = Some(e);
        }
    }

    /// The label of the transform being expanded.
    pub(crate) fn current_label(&self) -> String {
        let s = self.state.borrow();
        s.scope.last().map(|&i| s.transforms[i].label.clone()).unwrap_or_default()
    }

    /// Marks the transform being expanded as a composite with the given URN
    /// (so runners may replace it, as with combiner lifting).
    pub(crate) fn mark_composite(
        &self,
        urn: &str,
        function: Option<String>,
        payload: serde_json::Value,
        builder: Option<NodeBuilder>,
    ) {
        let mut s = self.state.borrow_mut();
        if let Some(&i) = s.scope.last() {
            let label = s.transforms[i].label.clone();
            if let (Some(b), Some(key)) = (builder, &function) {
                s.registry.add_node(key.clone(), b.clone());
                s.registry.add_step(label, b);
            }
            let n = &mut s.transforms[i];
            n.urn = urn.to_string();
            n.function = function;
            n.payload = payload;
        }
    }

    /// Creates an output PCollection of the transform being expanded.
    pub(crate) fn new_output<T: Element>(
        &self,
        name: &str,
        bounded: bool,
        windowing: WindowingStrategy,
    ) -> PCollection<T> {
        let mut s = self.state.borrow_mut();
        let producer = s.scope.last().map(|&i| s.transforms[i].label.clone()).unwrap_or_default();
        let id = format!("{producer}.{name}");
        let coder = Arc::new(SerdeCoder::<T>::new());
        let coder_name = coder.name();
        s.registry.add_codec(codec_key(std::any::type_name::<T>(), &coder_name), codec_builder(coder));
        s.pcollections.push(PCollectionNode {
            id: id.clone(),
            producer,
            element_type: std::any::type_name::<T>().to_string(),
            coder: coder_name,
            bounded,
            windowing,
        });
        drop(s);
        PCollection { pipeline: self.clone(), id: id.into(), _t: PhantomData }
    }

    /// Turns the transform being expanded into the given primitive.
    pub(crate) fn set_primitive(&self, prim: Primitive) {
        let mut s = self.state.borrow_mut();
        let Some(&i) = s.scope.last() else { return };
        let label = s.transforms[i].label.clone();
        if s.transforms[i].urn != urns::COMPOSITE || !s.transforms[i].subtransforms.is_empty() {
            drop(s);
            self.fail(Error::Construction(format!("'{label}' mixes a primitive with other transforms")));
            return;
        }
        if let Some(b) = prim.builder {
            if let (Some(key), true) = (&prim.function, prim.portable) {
                s.registry.add_node(key.clone(), b.clone());
            }
            s.registry.add_step(label.clone(), b);
        }
        if !prim.portable {
            s.closures.insert(label.clone());
        }
        if let Some(lazy) = prim.lazy_payload {
            s.lazy_payloads.insert(label.clone(), lazy);
        }
        let n = &mut s.transforms[i];
        n.urn = prim.urn.to_string();
        n.function = prim.function;
        n.payload = prim.payload;
        n.inputs = prim.inputs;
        n.side_inputs = prim.side_inputs;
        n.outputs = prim.outputs;
        n.requirements = prim.requirements;
    }

    fn pcollection_node(&self, id: &str) -> Option<PCollectionNode> {
        self.state.borrow().pcollections.iter().find(|n| n.id == id).cloned()
    }

    /// The portable graph of everything applied so far.
    pub fn graph(&self) -> PipelineGraph {
        self.graph_with_payloads().unwrap_or_else(|_| self.graph_in_process())
    }

    /// The graph without the payloads that are computed only for writing it
    /// (builders of an in-process run use the state they captured).
    fn graph_in_process(&self) -> PipelineGraph {
        let s = self.state.borrow();
        PipelineGraph {
            version: GRAPH_VERSION.to_string(),
            transforms: s.transforms.clone(),
            pcollections: s.pcollections.clone(),
        }
    }

    fn graph_with_payloads(&self) -> Result<PipelineGraph> {
        let mut g = self.graph_in_process();
        let s = self.state.borrow();
        for t in &mut g.transforms {
            if let Some(lazy) = s.lazy_payloads.get(&t.label) {
                t.payload = lazy().map_err(|e| Error::graph(&t.label, format!("cannot serialize the payload: {e}")))?;
            }
        }
        Ok(g)
    }

    /// The graph as JSON, failing if a step holds a Rust closure.
    pub fn portable_graph_json(&self) -> Result<String> {
        let s = self.state.borrow();
        if let Some(e) = &s.error {
            return Err(match e {
                Error::Construction(m) => Error::Construction(m.clone()),
                other => Error::Construction(other.to_string()),
            });
        }
        if let Some(t) = s.transforms.iter().find(|t| s.closures.contains(&t.label)) {
            return Err(Error::graph(
                &t.label,
                "holds a Rust closure, which cannot be serialized; to make the step portable, move the \
                 logic into a named type that implements DoFn (or CombineFn) and derives Serialize and \
                 Deserialize, and apply it with ParDo::of (or Combine)",
            ));
        }
        drop(s);
        self.graph_with_payloads()?.to_json()
    }

    /// The plan runners execute: from the code's graph, or the `--graph` file.
    pub fn plan(&self) -> Result<ExecutionPlan> {
        let s = self.state.borrow();
        if let Some(e) = &s.error {
            return Err(Error::Construction(match e {
                Error::Construction(m) => m.clone(),
                other => other.to_string(),
            }));
        }
        let registry = s.registry.clone();
        let graph_path = s.options.graph.clone();
        drop(s);
        match graph_path {
            Some(path) => {
                let text =
                    std::fs::read_to_string(&path).map_err(|e| Error::io("--graph", path.display().to_string(), e))?;
                let graph = PipelineGraph::from_json(&text).map_err(|e| match e {
                    Error::Graph { label, message } => {
                        Error::graph(label, format!("{message} (in {})", path.display()))
                    }
                    other => other,
                })?;
                ExecutionPlan::build(graph, &registry, true)
            }
            None => ExecutionPlan::build(self.graph_in_process(), &registry, false),
        }
    }

    /// Runs the pipeline on the runner named by `--runner` and waits for it.
    ///
    /// With `--dump-graph=PATH` it only writes the graph (atomically) and
    /// returns a result whose [`PipelineResult::dumped_graph`] is set.
    pub fn run(self) -> Result<PipelineResult> {
        self.into_job()?.run()
    }

    /// Everything [`Pipeline::run`] does before running: the plan built and
    /// checked against the runner (or, with `--dump-graph`, the graph written).
    /// A [`Job`] is `Send`, so a language binding can run it on another thread.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// assert_that(&p.apply(Create::new(vec![1u8])), contains_in_any_order(vec![1u8]));
    /// let job = p.into_job().unwrap();
    /// let result = std::thread::spawn(move || job.run()).join().unwrap().unwrap();
    /// assert_eq!(result.runner(), "direct");
    /// ```
    pub fn into_job(self) -> Result<Job> {
        let opts = self.options();
        if let Some(path) = &opts.dump_graph {
            let json = self.portable_graph_json()?;
            crate::io::write_atomically(&path.display().to_string(), "--dump-graph", json.as_bytes())?;
            return Ok(Job(JobKind::Dumped(path.clone())));
        }
        let runner = self.state.borrow().runners.get(&opts.runner)?;
        let plan = self.plan()?;
        plan.check_capabilities(runner.name(), runner.capabilities())?;
        Ok(Job(JobKind::Run { runner, plan: Box::new(plan), options: opts }))
    }

    /// Opens a composite named `label` (unique in its scope, or an error) on
    /// `inputs`: transforms applied until [`Pipeline::end_composite`] are its
    /// parts. For language bindings, whose composites expand outside Rust.
    /// Returns the full, nested label.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// assert_eq!(p.begin_composite("Outer", vec![]).unwrap(), "Outer");
    /// let xs = p.apply_named("Make", Create::new(vec![1u8]));
    /// p.end_composite(vec![xs.id().to_string()]);
    /// assert!(p.begin_composite("Outer", vec![]).is_err());
    /// assert!(p.graph().transforms.iter().any(|t| t.label == "Outer/Make"));
    /// ```
    pub fn begin_composite(&self, label: &str, inputs: Vec<String>) -> Result<String> {
        let full = {
            let s = self.state.borrow();
            let prefix = s.scope.last().map(|&i| format!("{}/", s.transforms[i].label)).unwrap_or_default();
            format!("{prefix}{label}")
        };
        if self.state.borrow().labels.contains(&full) {
            return Err(Error::Construction(format!(
                "a transform with label '{full}' already exists in the pipeline; give each applied transform a unique label"
            )));
        }
        let idx = self.open(label, true, inputs);
        Ok(self.state.borrow().transforms[idx].label.clone())
    }

    /// Closes the composite opened last, recording its outputs.
    pub fn end_composite(&self, outputs: Vec<String>) {
        let mut s = self.state.borrow_mut();
        if let Some(idx) = s.scope.pop() {
            s.transforms[idx].outputs = outputs;
        }
    }

    /// The PCollection with graph id `id`, if it exists and holds `T`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let xs = p.apply(Create::new(vec![1u8]));
    /// assert!(p.pcollection::<u8>(xs.id()).is_some());
    /// assert!(p.pcollection::<String>(xs.id()).is_none());
    /// ```
    pub fn pcollection<T: Element>(&self, id: &str) -> Option<PCollection<T>> {
        let node = self.pcollection_node(id)?;
        (node.element_type == std::any::type_name::<T>()).then(|| PCollection::from_id(self, id))
    }

    /// The first construction error recorded so far, as text.
    pub fn construction_error(&self) -> Option<String> {
        self.state.borrow().error.as_ref().map(|e| e.to_string())
    }
}

/// A pipeline ready to run: see [`Pipeline::into_job`].
#[must_use = "a job does nothing until run"]
pub struct Job(JobKind);

enum JobKind {
    Dumped(std::path::PathBuf),
    Run { runner: Arc<dyn crate::Runner>, plan: Box<ExecutionPlan>, options: PipelineOptions },
}

impl Job {
    /// Runs the plan on its runner and waits for it.
    pub fn run(self) -> Result<PipelineResult> {
        match self.0 {
            JobKind::Dumped(path) => Ok(PipelineResult::graph_written(path)),
            JobKind::Run { runner, plan, options } => {
                runner.run(*plan, &options).map_err(|e| e.with_runner(runner.name()))
            }
        }
    }
}
