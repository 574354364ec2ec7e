//! `ExecutableParDo`: a ParDo whose executable a language binding builds from
//! its payload, so user code in another language runs on every runner.

use crate::element::Element;
use crate::exec::NodeBuilder;
use crate::graph::urns;
use crate::pipeline::{PCollection, PTransform, Primitive};
use crate::plan::capabilities;
use std::marker::PhantomData;

/// A ParDo given as a function key, a payload and the [`NodeBuilder`] that
/// makes its [`crate::exec::ParDoExec`]; every output holds `Out`.
///
/// A graph file names the function key: a program that registers the same
/// key (by building the same pipeline) rebuilds the step from the payload.
///
/// # Examples
/// ```
/// use beamline::exec::{DoFnInvoker, Executable, Outputs, ParDoExec, SideInputView};
/// use beamline::metrics::MetricsContainer;
/// use beamline::prelude::*;
/// use beamline::{Batch, WindowedValue};
/// use std::sync::Arc;
///
/// /// Adds the payload's `add` to every element, a batch at a time.
/// struct AddExec(i64);
/// struct AddInvoker(i64);
/// impl ParDoExec for AddExec {
///     fn instantiate(&self) -> Box<dyn DoFnInvoker> { Box::new(AddInvoker(self.0)) }
///     fn prepare_side_input(&self, _: usize, _: Vec<Batch>) -> beamline::Result<SideInputView> {
///         unreachable!("no side inputs")
///     }
///     fn output_count(&self) -> usize { 1 }
/// }
/// impl DoFnInvoker for AddInvoker {
///     fn setup(&mut self) -> beamline::Result<()> { Ok(()) }
///     fn start_bundle(&mut self) -> beamline::Result<()> { Ok(()) }
///     fn process(&mut self, input: &Batch, _: &[SideInputView], out: &mut Outputs<'_>) -> beamline::Result<()> {
///         let xs = input.downcast_ref::<i64>()?;
///         out.push(0, Batch::new(xs.iter().map(|x| x.with_value(x.value + self.0)).collect::<Vec<WindowedValue<i64>>>()))
///     }
///     fn finish_bundle(&mut self, _: &mut Outputs<'_>) -> beamline::Result<()> { Ok(()) }
///     fn teardown(&mut self) -> beamline::Result<()> { Ok(()) }
///     fn take_metrics(&mut self) -> MetricsContainer { MetricsContainer::default() }
/// }
///
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let builder: beamline::exec::NodeBuilder = Arc::new(|ctx| {
///     let add = ctx.payload["add"].as_i64().unwrap_or(0);
///     Ok(Executable::ParDo(Arc::new(AddExec(add))))
/// });
/// let outs = p
///     .apply(Create::new(vec![1i64, 2]))
///     .apply(ExecutableParDo::<i64, i64>::new("example:add", serde_json::json!({"add": 10}), builder));
/// assert_that(&outs[0], contains_in_any_order(vec![11i64, 12]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct ExecutableParDo<In, Out> {
    function: String,
    payload: serde_json::Value,
    builder: NodeBuilder,
    side_inputs: Vec<String>,
    tags: Vec<String>,
    _t: PhantomData<fn(In) -> Out>,
}

impl<In, Out> ExecutableParDo<In, Out> {
    /// A ParDo with one output, rebuilt by `builder` under `function`.
    pub fn new(function: impl Into<String>, payload: serde_json::Value, builder: NodeBuilder) -> Self {
        ExecutableParDo {
            function: function.into(),
            payload,
            builder,
            side_inputs: Vec::new(),
            tags: Vec::new(),
            _t: PhantomData,
        }
    }
    /// Reads these PCollections (by graph id) as side inputs, in this order.
    pub fn with_side_inputs(mut self, ids: Vec<String>) -> Self {
        self.side_inputs = ids;
        self
    }
    /// Adds tagged outputs after the main one, in this order.
    pub fn with_tags(mut self, tags: Vec<String>) -> Self {
        self.tags = tags;
        self
    }
}

impl<In: Element, Out: Element> PTransform<PCollection<In>> for ExecutableParDo<In, Out> {
    type Output = Vec<PCollection<Out>>;
    fn default_label(&self) -> String {
        format!("ParDo({})", self.function)
    }
    fn expand(self, input: PCollection<In>) -> Vec<PCollection<Out>> {
        let p = input.pipeline().clone();
        let (bounded, windowing) = (input.is_bounded(), input.windowing());
        let mut outs = vec![p.new_output::<Out>("out", bounded, windowing.clone())];
        for t in &self.tags {
            // Prefixed: a tag may be called "out" too.
            outs.push(p.new_output::<Out>(&format!("tag_{t}"), bounded, windowing.clone()));
        }
        let mut requirements = Vec::new();
        if !self.side_inputs.is_empty() {
            requirements.push(capabilities::SIDE_INPUTS.to_string());
        }
        if !self.tags.is_empty() {
            requirements.push(capabilities::MULTIPLE_OUTPUTS.to_string());
        }
        p.set_primitive(Primitive {
            urn: urns::PAR_DO,
            function: Some(self.function),
            payload: self.payload,
            lazy_payload: None,
            inputs: vec![input.id().to_string()],
            side_inputs: self.side_inputs,
            outputs: outs.iter().map(|o| o.id().to_string()).collect(),
            requirements,
            builder: Some(self.builder),
            portable: true,
        });
        outs
    }
}
