//! `Keys`: the keys of key-value pairs.

use crate::element::Element;
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Takes the key of each `(K, V)`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let ks = p.apply(Create::new(vec![("a".to_string(), 1i32)])).apply(Keys::new());
/// assert_that(&ks, contains_in_any_order(vec!["a".to_string()]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
#[must_use = "a transform does nothing until applied"]
pub struct Keys<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> Clone for Keys<K, V> {
    fn clone(&self) -> Self {
        Keys(PhantomData)
    }
}

impl<K: Element, V: Element> Keys<K, V> {
    /// The transform.
    pub fn new() -> Self {
        Keys(PhantomData)
    }
}

impl<K: Element, V: Element> Default for Keys<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Element, V: Element> DoFn for Keys<K, V> {
    type In = (K, V);
    type Out = K;
    fn process(&mut self, kv: &(K, V), ctx: &mut ProcessContext<'_, K>) -> Result<(), DoFnError> {
        ctx.emit(kv.0.clone());
        Ok(())
    }
    const MOVES_INPUT: bool = true;
    fn process_owned(&mut self, kv: (K, V), ctx: &mut ProcessContext<'_, K>) -> Result<(), DoFnError> {
        ctx.emit(kv.0);
        Ok(())
    }
}

impl<K: Element, V: Element> PTransform<PCollection<(K, V)>> for Keys<K, V> {
    type Output = PCollection<K>;
    fn default_label(&self) -> String {
        "Keys".into()
    }
    fn expand(self, input: PCollection<(K, V)>) -> PCollection<K> {
        ParDo::of(self).expand_here(input)
    }
}
