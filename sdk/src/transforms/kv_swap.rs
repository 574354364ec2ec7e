//! `KvSwap`: `(K, V)` becomes `(V, K)`.

use crate::element::Element;
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Swaps key and value of each pair.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let s = p.apply(Create::new(vec![("a".to_string(), 1i32)])).apply(KvSwap::new());
/// assert_that(&s, contains_in_any_order(vec![(1i32, "a".to_string())]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
#[must_use = "a transform does nothing until applied"]
pub struct KvSwap<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> Clone for KvSwap<K, V> {
    fn clone(&self) -> Self {
        KvSwap(PhantomData)
    }
}

impl<K: Element, V: Element> KvSwap<K, V> {
    /// The transform.
    pub fn new() -> Self {
        KvSwap(PhantomData)
    }
}

impl<K: Element, V: Element> Default for KvSwap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Element, V: Element> DoFn for KvSwap<K, V> {
    type In = (K, V);
    type Out = (V, K);
    fn process(&mut self, kv: &(K, V), ctx: &mut ProcessContext<'_, (V, K)>) -> Result<(), DoFnError> {
        ctx.emit((kv.1.clone(), kv.0.clone()));
        Ok(())
    }
    const MOVES_INPUT: bool = true;
    fn process_owned(&mut self, (k, v): (K, V), ctx: &mut ProcessContext<'_, (V, K)>) -> Result<(), DoFnError> {
        ctx.emit((v, k));
        Ok(())
    }
}

impl<K: Element, V: Element> PTransform<PCollection<(K, V)>> for KvSwap<K, V> {
    type Output = PCollection<(V, K)>;
    fn default_label(&self) -> String {
        "KvSwap".into()
    }
    fn expand(self, input: PCollection<(K, V)>) -> PCollection<(V, K)> {
        ParDo::of(self).expand_here(input)
    }
}
