//! `ParDo`: applies a [`DoFn`] to every element; the element-wise primitive.

use crate::batch::Batch;
use crate::element::{Element, WindowedValue};
use crate::error::{shorten, DoFnError, Error, Result};
use crate::exec::{DoFnInvoker, Executable, NodeBuilder, Outputs, ParDoExec, SideInputView};
use crate::graph::urns;
use crate::metrics::MetricsContainer;
use crate::pane::PaneInfo;
use crate::pipeline::{PCollection, PTransform, Primitive};
use crate::plan::capabilities;
use crate::time::Timestamp;
use crate::transforms::dofn::{DoFn, FinishBundleContext, ProcessContext, OUTPUT_BATCH};
use crate::transforms::side_input::{SideInput, SidePreparer, ViewKind};
use crate::transforms::tagged::{TaggedOutputs, TupleTag};
use crate::window::Window;
use crate::window::WindowFn;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Applies a [`DoFn`] to each element.
///
/// `ParDo::of` takes a DoFn that serde can serialize, so the step is portable;
/// `ParDo::local` takes any DoFn (one holding closures, say) for in-process runs.
/// See [`DoFn`] for a full example.
#[must_use = "a transform does nothing until applied"]
pub struct ParDo<D: DoFn> {
    f: D,
    codec: Option<PayloadCodec<D>>,
    sides: Vec<(String, Arc<dyn SidePreparer>)>,
}

struct PayloadCodec<D> {
    to: fn(&D) -> std::result::Result<serde_json::Value, String>,
    from: fn(&serde_json::Value) -> std::result::Result<D, String>,
}

impl<D: DoFn> ParDo<D> {
    /// A portable ParDo: the DoFn travels in the graph as JSON.
    pub fn of(f: D) -> Self
    where
        D: Serialize + DeserializeOwned,
    {
        ParDo {
            f,
            codec: Some(PayloadCodec { to: crate::graph::to_payload, from: crate::graph::from_payload }),
            sides: Vec::new(),
        }
    }

    /// An in-process ParDo: any DoFn, but the graph cannot be dumped.
    pub fn local(f: D) -> Self {
        ParDo { f, codec: None, sides: Vec::new() }
    }

    /// Makes the transform being expanded this ParDo (for library
    /// transforms such as `Map` that are a ParDo under another name).
    pub(crate) fn expand_here(self, input: PCollection<D::In>) -> PCollection<D::Out> {
        expand(self, Vec::new(), input).main
    }

    /// Gives the DoFn a side input, read with [`ProcessContext::side_input`].
    pub fn with_side_input<V: ViewKind>(mut self, side: &SideInput<V>) -> Self {
        self.sides.push((side.id.clone(), side.preparer()));
        self
    }

    /// Declares a tagged output; the result then holds every output.
    pub fn with_output<T: Element>(self, tag: &TupleTag<T>) -> ParDoWithOutputs<D> {
        ParDoWithOutputs { pardo: self, tags: Vec::new() }.with_output(tag)
    }
}

/// A ParDo with tagged outputs; see [`TupleTag`].
#[must_use = "a transform does nothing until applied"]
pub struct ParDoWithOutputs<D: DoFn> {
    pardo: ParDo<D>,
    tags: Vec<TagSpec>,
}

struct TagSpec {
    name: String,
    type_name: &'static str,
    empty: fn() -> Batch,
    output: fn(&crate::Pipeline, &str, bool, crate::WindowingStrategy) -> String,
}

impl<D: DoFn> ParDoWithOutputs<D> {
    /// Declares another tagged output.
    pub fn with_output<T: Element>(mut self, tag: &TupleTag<T>) -> Self {
        self.tags.push(TagSpec {
            name: tag.name.clone(),
            type_name: std::any::type_name::<T>(),
            empty: || Batch::new::<T>(Vec::new()),
            output: |p, name, bounded, w| p.new_output::<T>(name, bounded, w).id().to_string(),
        });
        self
    }
}

impl<D: DoFn> PTransform<PCollection<D::In>> for ParDo<D> {
    type Output = PCollection<D::Out>;
    fn default_label(&self) -> String {
        format!("ParDo({})", self.f.name())
    }
    fn expand(self, input: PCollection<D::In>) -> PCollection<D::Out> {
        expand(self, Vec::new(), input).main
    }
}

impl<D: DoFn> PTransform<PCollection<D::In>> for ParDoWithOutputs<D> {
    type Output = TaggedOutputs<D::Out>;
    fn default_label(&self) -> String {
        self.pardo.default_label()
    }
    fn expand(self, input: PCollection<D::In>) -> TaggedOutputs<D::Out> {
        expand(self.pardo, self.tags, input)
    }
}

fn expand<D: DoFn>(pd: ParDo<D>, tags: Vec<TagSpec>, input: PCollection<D::In>) -> TaggedOutputs<D::Out> {
    let p = input.pipeline().clone();
    let label = p.current_label();
    let (bounded, windowing) = (input.is_bounded(), input.windowing());
    let main = p.new_output::<D::Out>("out", bounded, windowing.clone());
    let mut names = std::collections::HashSet::new();
    let mut tagged = Vec::new();
    for t in &tags {
        if t.name == "out" || !names.insert(t.name.clone()) {
            p.fail(Error::Construction(format!(
                "'{label}' declares the output tag '{}' twice (or uses the reserved name 'out')",
                t.name
            )));
        }
        tagged.push((t.name.clone(), (t.output)(&p, &t.name, bounded, windowing.clone())));
    }
    // The function key names the DoFn and the shape of the step (output and
    // side-input types), so a graph read from a file finds the builder of a
    // step of the same shape; parameters travel in the payload.
    let mut function = format!("pardo:{}", std::any::type_name::<D>());
    if !tags.is_empty() || !pd.sides.is_empty() {
        let outs: Vec<&str> = tags.iter().map(|t| t.type_name).collect();
        let sides: Vec<&str> = pd.sides.iter().map(|(_, p)| p.view_name()).collect();
        function = format!("{function}|outputs=[{}]|side_inputs=[{}]", outs.join(", "), sides.join(", "));
    }
    let payload = match &pd.codec {
        Some(c) => (c.to)(&pd.f).and_then(|do_fn| {
            let mut payload = serde_json::json!({ "do_fn": do_fn });
            if !pd.sides.is_empty() {
                let defaults = pd.sides.iter().map(|(_, p)| p.default_payload()).collect::<Result<Vec<_>, _>>()?;
                payload["side_input_defaults"] = serde_json::Value::Array(defaults);
            }
            Ok(payload)
        }),
        None => Ok(serde_json::Value::Null),
    };
    let (payload, portable) = match (payload, pd.codec.is_some()) {
        (Ok(v), portable) => (v, portable),
        (Err(e), _) => {
            p.fail(Error::Construction(format!("'{label}': cannot serialize the DoFn: {e}")));
            (serde_json::Value::Null, false)
        }
    };
    if !portable {
        function = format!("local:{label}");
    }
    let mut requirements = Vec::new();
    if !pd.sides.is_empty() {
        requirements.push(capabilities::SIDE_INPUTS.to_string());
    }
    if !tags.is_empty() {
        requirements.push(capabilities::MULTIPLE_OUTPUTS.to_string());
    }
    let side_ids: Vec<String> = pd.sides.iter().map(|(id, _)| id.clone()).collect();
    let preparers: Vec<Arc<dyn SidePreparer>> = pd.sides.iter().map(|(_, p)| p.clone()).collect();
    let empties: Vec<fn() -> Batch> = tags.iter().map(|t| t.empty).collect();
    let from = pd.codec.as_ref().map(|c| c.from);
    let f = pd.f;
    let builder: NodeBuilder = Arc::new(move |ctx| {
        let bad = |e: String| Error::graph(ctx.label, format!("bad DoFn payload: {e}"));
        let (f, preparers) = match (ctx.from_file, from) {
            (true, Some(from)) => {
                let f = from(&ctx.payload["do_fn"]).map_err(bad)?;
                let defaults = ctx.payload.get("side_input_defaults").and_then(|d| d.as_array());
                let preparers = preparers
                    .iter()
                    .enumerate()
                    .map(|(i, p)| p.with_default(defaults.and_then(|d| d.get(i)).unwrap_or(&serde_json::Value::Null)))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(bad)?;
                (f, preparers)
            }
            _ => (f.clone(), preparers.clone()),
        };
        let prefix = format!("{}.", ctx.label);
        let tag_names: Vec<String> =
            ctx.outputs.iter().skip(1).map(|o| o.id.strip_prefix(&prefix).unwrap_or(&o.id).to_string()).collect();
        if tag_names.len() != empties.len() || ctx.side_inputs.len() != preparers.len() {
            return Err(Error::graph(ctx.label, "the graph's outputs or side inputs do not match the DoFn's"));
        }
        let tag_keys: Vec<u64> = tag_names.iter().map(|n| crate::key_hash(n.as_str())).collect();
        let side_keys: Vec<u64> = ctx.side_inputs.iter().map(|s| crate::key_hash(s.id.as_str())).collect();
        for keys in [&tag_keys, &side_keys] {
            if keys.iter().collect::<std::collections::HashSet<_>>().len() != keys.len() {
                return Err(Error::graph(ctx.label, "two output tags (or side inputs) hash alike; rename one"));
            }
        }
        let shared = Arc::new(Shared {
            label: ctx.label.to_string(),
            tag_keys,
            tag_names,
            empties: empties.clone(),
            side_keys,
            preparers,
            side_windows: ctx.side_inputs.iter().map(|s| s.windowing.window_fn).collect(),
        });
        Ok(Executable::ParDo(Arc::new(ParDoExecImpl { f, shared })))
    });
    let mut outputs = vec![main.id().to_string()];
    outputs.extend(tagged.iter().map(|(_, id)| id.clone()));
    p.set_primitive(Primitive {
        urn: urns::PAR_DO,
        function: Some(function),
        payload,
        lazy_payload: None,
        inputs: vec![input.id().to_string()],
        side_inputs: side_ids,
        outputs,
        requirements,
        builder: Some(builder),
        portable,
    });
    TaggedOutputs { main, tagged }
}

struct Shared {
    label: String,
    tag_names: Vec<String>,
    /// Hashes of the tag names and side input ids: what outputs and side
    /// inputs are found by per element (an integer compare, no string compare).
    tag_keys: Vec<u64>,
    empties: Vec<fn() -> Batch>,
    side_keys: Vec<u64>,
    preparers: Vec<Arc<dyn SidePreparer>>,
    side_windows: Vec<WindowFn>,
}

struct ParDoExecImpl<D> {
    f: D,
    shared: Arc<Shared>,
}

impl<D: DoFn> ParDoExec for ParDoExecImpl<D> {
    fn instantiate(&self) -> Box<dyn DoFnInvoker> {
        Box::new(Invoker { f: self.f.clone(), shared: self.shared.clone(), metrics: MetricsContainer::default() })
    }
    fn prepare_side_input(&self, index: usize, contents: Vec<Batch>) -> Result<SideInputView> {
        let s = &self.shared;
        match (s.preparers.get(index), s.side_windows.get(index)) {
            (Some(p), Some(w)) => p.prepare(&s.label, *w, contents),
            _ => Err(Error::graph(&s.label, format!("has no side input {index}"))),
        }
    }
    fn output_count(&self) -> usize {
        1 + self.shared.tag_names.len()
    }
}

struct Invoker<D> {
    f: D,
    shared: Arc<Shared>,
    metrics: MetricsContainer,
}

/// The error for a failure of user code on `element` (or in a lifecycle method).
pub(crate) fn user_error(label: &str, element: String, message: String) -> Error {
    Error::UserCode { label: label.to_string(), runner: String::new(), element, message }
}

/// Runs user code, turning a panic into an error message.
pub(crate) fn guard<R>(f: impl FnOnce() -> std::result::Result<R, DoFnError>) -> std::result::Result<R, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic_message(panic.as_ref())),
    }
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}

fn describe<T: Element>(e: &WindowedValue<T>) -> String {
    shorten(&format!("{:?}", e.value))
}

impl<D: DoFn> Invoker<D> {
    /// Calls `call` on every element with its context and hands the outputs to
    /// `out` (as they fill, when it streams). A failure of this step names the
    /// element through `describe(position)`; a failure downstream is passed on.
    fn run<E, W: std::borrow::Borrow<Window>>(
        &mut self,
        elems: impl Iterator<Item = (Timestamp, W, PaneInfo, E)>,
        len: usize,
        sides: &[SideInputView],
        out: &mut Outputs<'_>,
        describe: impl Fn(usize) -> String,
        mut call: impl FnMut(&mut D, E, &mut ProcessContext<'_, D::Out>) -> std::result::Result<(), DoFnError>,
    ) -> Result<()> {
        let shared = &*self.shared;
        let streaming = out.is_streaming();
        let mut main: Vec<WindowedValue<D::Out>> =
            Vec::with_capacity(if streaming { len.min(OUTPUT_BATCH) } else { len });
        let mut tagged: Vec<Batch> = shared.empties.iter().map(|e| e()).collect();
        let mut at = 0usize;
        // A failure downstream of a streamed batch: later batches are dropped,
        // and the step stops after the element that caused it.
        let downstream: RefCell<Option<Error>> = RefCell::new(None);
        let mut sink = |i: usize, b: Batch| {
            let mut failed = downstream.borrow_mut();
            if failed.is_none() {
                if let Err(e) = out.push(i, b) {
                    *failed = Some(e);
                }
            }
        };
        let f = &mut self.f;
        let metrics = &mut self.metrics;
        let result = guard(|| {
            for (i, (timestamp, window, pane, value)) in elems.enumerate() {
                at = i;
                let mut ctx = ProcessContext {
                    main: &mut main,
                    tagged: &mut tagged,
                    tag_keys: &shared.tag_keys,
                    timestamp,
                    window: window.borrow(),
                    pane,
                    metrics,
                    sides,
                    side_keys: &shared.side_keys,
                    spill: if streaming { Some(&mut sink) } else { None },
                };
                call(f, value, &mut ctx)?;
                if downstream.borrow().is_some() {
                    return Err(DoFnError::new("a later step failed"));
                }
            }
            Ok(())
        });
        if let Some(e) = downstream.into_inner() {
            return Err(e);
        }
        result.map_err(|m| user_error(&shared.label, describe(at), m))?;
        out.push(0, Batch::new(main))?;
        for (i, b) in tagged.into_iter().enumerate() {
            out.push(i + 1, b)?;
        }
        Ok(())
    }

    fn lifecycle(&mut self, what: &str, f: impl FnOnce(&mut D) -> std::result::Result<(), DoFnError>) -> Result<()> {
        let fnref = &mut self.f;
        guard(|| f(fnref)).map_err(|m| user_error(&self.shared.label, format!("<{what}>"), m))
    }
}

impl<D: DoFn> DoFnInvoker for Invoker<D> {
    fn setup(&mut self) -> Result<()> {
        self.lifecycle("setup", |f| f.setup())
    }
    fn start_bundle(&mut self) -> Result<()> {
        self.lifecycle("start_bundle", |f| f.start_bundle())
    }
    fn process(&mut self, input: &Batch, sides: &[SideInputView], out: &mut Outputs<'_>) -> Result<()> {
        let elems: &Vec<WindowedValue<D::In>> = input.downcast_ref()?;
        let each = elems.iter().map(|e| (e.timestamp, &e.window, e.pane, &e.value));
        let describe = |at: usize| elems.get(at).map(describe).unwrap_or_default();
        self.run(each, elems.len(), sides, out, describe, |f, v, ctx| f.process(v, ctx))
    }
    fn process_owned(&mut self, input: Batch, sides: &[SideInputView], out: &mut Outputs<'_>) -> Result<()> {
        if !D::MOVES_INPUT {
            return self.process(&input, sides, out);
        }
        let elems: Vec<WindowedValue<D::In>> = input.downcast()?;
        let n = elems.len();
        let each = elems.into_iter().map(|e| (e.timestamp, e.window, e.pane, e.value));
        let describe = |at: usize| format!("<element {at} of the batch>");
        self.run(each, n, sides, out, describe, |f, v, ctx| f.process_owned(v, ctx))
    }
    fn finish_bundle(&mut self, out: &mut Outputs<'_>) -> Result<()> {
        let mut main = Vec::new();
        let f = &mut self.f;
        let metrics = &mut self.metrics;
        guard(|| f.finish_bundle(&mut FinishBundleContext { main: &mut main, metrics }))
            .map_err(|m| user_error(&self.shared.label, "<finish_bundle>".into(), m))?;
        out.push(0, Batch::new(main))
    }
    fn teardown(&mut self) -> Result<()> {
        self.lifecycle("teardown", |f| f.teardown())
    }
    fn take_metrics(&mut self) -> MetricsContainer {
        std::mem::take(&mut self.metrics)
    }
}
