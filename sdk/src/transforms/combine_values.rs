//! `CombineValues`: combines the values of already grouped pairs.

use crate::element::Element;
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::combine_fn::{combine_all, CombineFn};
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Turns `(K, Vec<In>)` into `(K, Out)` with a [`CombineFn`] (Beam's `CombineValues`).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let s = p
///     .apply(Create::new(vec![("a".to_string(), vec![1i64, 2, 3])]))
///     .apply(Combine::grouped_values(Sum::<i64>::new()));
/// assert_that(&s, contains_in_any_order(vec![("a".to_string(), 6i64)]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound(serialize = "C: Serialize", deserialize = "C: DeserializeOwned"))]
#[must_use = "a transform does nothing until applied"]
pub struct CombineValues<K, C> {
    c: C,
    #[serde(skip)]
    _k: PhantomData<fn() -> K>,
}

impl<K, C: Clone> Clone for CombineValues<K, C> {
    fn clone(&self) -> Self {
        CombineValues { c: self.c.clone(), _k: PhantomData }
    }
}

impl<K: Element, C: CombineFn> CombineValues<K, C> {
    pub(crate) fn new(c: C) -> Self {
        CombineValues { c, _k: PhantomData }
    }
}

impl<K: Element, C: CombineFn> DoFn for CombineValues<K, C> {
    type In = (K, Vec<C::In>);
    type Out = (K, C::Out);
    fn process(&mut self, kv: &(K, Vec<C::In>), ctx: &mut ProcessContext<'_, (K, C::Out)>) -> Result<(), DoFnError> {
        ctx.emit((kv.0.clone(), combine_all(&self.c, &kv.1)));
        Ok(())
    }
    fn name(&self) -> String {
        format!("CombineValues({})", self.c.name())
    }
}

impl<K: Element, C: CombineFn + Serialize + DeserializeOwned> PTransform<PCollection<(K, Vec<C::In>)>>
    for CombineValues<K, C>
{
    type Output = PCollection<(K, C::Out)>;
    fn default_label(&self) -> String {
        format!("CombineValues({})", self.c.name())
    }
    fn expand(self, input: PCollection<(K, Vec<C::In>)>) -> PCollection<(K, C::Out)> {
        ParDo::of(self).expand_here(input)
    }
}
