//! `Values`: the values of key-value pairs.

use crate::element::Element;
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Takes the value of each `(K, V)`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let vs = p.apply(Create::new(vec![("a".to_string(), 1i32)])).apply(Values::new());
/// assert_that(&vs, contains_in_any_order(vec![1i32]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
#[must_use = "a transform does nothing until applied"]
pub struct Values<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> Clone for Values<K, V> {
    fn clone(&self) -> Self {
        Values(PhantomData)
    }
}

impl<K: Element, V: Element> Values<K, V> {
    /// The transform.
    pub fn new() -> Self {
        Values(PhantomData)
    }
}

impl<K: Element, V: Element> Default for Values<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Element, V: Element> DoFn for Values<K, V> {
    type In = (K, V);
    type Out = V;
    fn process(&mut self, kv: &(K, V), ctx: &mut ProcessContext<'_, V>) -> Result<(), DoFnError> {
        ctx.emit(kv.1.clone());
        Ok(())
    }
    const MOVES_INPUT: bool = true;
    fn process_owned(&mut self, kv: (K, V), ctx: &mut ProcessContext<'_, V>) -> Result<(), DoFnError> {
        ctx.emit(kv.1);
        Ok(())
    }
}

impl<K: Element, V: Element> PTransform<PCollection<(K, V)>> for Values<K, V> {
    type Output = PCollection<V>;
    fn default_label(&self) -> String {
        "Values".into()
    }
    fn expand(self, input: PCollection<(K, V)>) -> PCollection<V> {
        ParDo::of(self).expand_here(input)
    }
}
