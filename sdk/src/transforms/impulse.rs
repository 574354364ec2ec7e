//! `Impulse`: the root primitive emitting one `()` element.

use crate::graph::urns;
use crate::pipeline::{PBegin, PCollection, PTransform, Primitive};
use crate::window::WindowingStrategy;

/// Emits a single `()` in the global window; the seed of Beam's sources.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let one = p.apply(Impulse).apply(Map::new(|_: &()| 1u8));
/// assert_that(&one, contains_in_any_order(vec![1u8]));
/// p.run().unwrap();
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use = "a transform does nothing until applied"]
pub struct Impulse;

impl PTransform<PBegin> for Impulse {
    type Output = PCollection<()>;
    fn default_label(&self) -> String {
        "Impulse".into()
    }
    fn expand(self, input: PBegin) -> PCollection<()> {
        let p = input.root();
        let out = p.new_output::<()>("out", true, WindowingStrategy::default());
        p.set_primitive(Primitive {
            urn: urns::IMPULSE,
            function: None,
            payload: serde_json::Value::Null,
            lazy_payload: None,
            inputs: Vec::new(),
            side_inputs: Vec::new(),
            outputs: vec![out.id().to_string()],
            requirements: Vec::new(),
            builder: None,
            portable: true,
        });
        out
    }
}
