//! `Flatten`: merges PCollections of one type.

use crate::element::Element;
use crate::graph::urns;
use crate::pipeline::{PCollection, PTransform, PValue, Primitive};

/// Merges several PCollections of the same type into one.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let a = p.apply_named("A", Create::new(vec![1i32]));
/// let b = p.apply_named("B", Create::new(vec![2i32]));
/// let both = vec![a, b].apply(Flatten::new());
/// assert_that(&both, contains_in_any_order(vec![1, 2]));
/// p.run().unwrap();
/// ```
#[derive(Debug, Default, Clone, Copy)]
#[must_use = "a transform does nothing until applied"]
pub struct Flatten;

impl Flatten {
    /// The transform.
    pub fn new() -> Self {
        Flatten
    }
}

impl<T: Element> PTransform<Vec<PCollection<T>>> for Flatten {
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "Flatten".into()
    }
    fn expand(self, input: Vec<PCollection<T>>) -> PCollection<T> {
        let p = input[0].pipeline().clone();
        let bounded = input.iter().all(|c| c.is_bounded());
        let windowing = input[0].windowing();
        if input.iter().any(|c| c.windowing().window_fn != windowing.window_fn) {
            p.fail(crate::Error::Construction(format!(
                "'{}' flattens PCollections with different windowing; apply WindowInto first",
                p.current_label()
            )));
        }
        let out = p.new_output::<T>("out", bounded, windowing);
        p.set_primitive(Primitive {
            urn: urns::FLATTEN,
            function: None,
            payload: serde_json::Value::Null,
            lazy_payload: None,
            inputs: input.ids(),
            side_inputs: Vec::new(),
            outputs: vec![out.id().to_string()],
            requirements: Vec::new(),
            builder: None,
            portable: true,
        });
        out
    }
}

/// `apply` for groups of PCollections (a `Vec` or a tuple).
pub trait ApplyExt: PValue + Sized {
    /// Applies a transform with its default label.
    ///
    /// # Panics
    /// On an empty `Vec`, which belongs to no pipeline.
    fn apply<X: PTransform<Self>>(self, t: X) -> X::Output {
        let p = self.pipeline().expect("apply on an empty group of PCollections: it belongs to no pipeline");
        p.apply_to(None, self, t)
    }
    /// Applies a transform with the given label.
    ///
    /// # Panics
    /// On an empty `Vec`, which belongs to no pipeline.
    fn apply_named<X: PTransform<Self>>(self, label: &str, t: X) -> X::Output {
        let p = self.pipeline().expect("apply on an empty group of PCollections: it belongs to no pipeline");
        p.apply_to(Some(label.to_string()), self, t)
    }
}

impl<T> ApplyExt for Vec<PCollection<T>> {}
impl<A: PValue, B: PValue> ApplyExt for (A, B) {}
impl<A: PValue, B: PValue, C: PValue> ApplyExt for (A, B, C) {}
