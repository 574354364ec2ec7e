//! `MapTuple`: `Map` over key-value pairs with the key and value as two arguments.

use crate::element::Element;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::map::ClosureFn;
use crate::transforms::pardo::ParDo;
use std::marker::PhantomData;

/// Applies `f(&k, &v)` to each `(K, V)` (Beam's `MapTuple`).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let s = p.apply(Create::new(vec![("a".to_string(), 2usize)])).apply(MapTuple::new(|k: &String, n: &usize| k.repeat(*n)));
/// assert_that(&s, contains_in_any_order(vec!["aa".to_string()]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct MapTuple<K, V, O, F> {
    f: F,
    _t: PhantomData<fn(K, V) -> O>,
}

impl<K: Element, V: Element, O: Element, F: Fn(&K, &V) -> O + Clone + Send + Sync + 'static> MapTuple<K, V, O, F> {
    /// Maps with `f`.
    pub fn new(f: F) -> Self {
        MapTuple { f, _t: PhantomData }
    }
}

impl<K: Element, V: Element, O: Element, F: Fn(&K, &V) -> O + Clone + Send + Sync + 'static>
    PTransform<PCollection<(K, V)>> for MapTuple<K, V, O, F>
{
    type Output = PCollection<O>;
    fn default_label(&self) -> String {
        "MapTuple".into()
    }
    fn expand(self, input: PCollection<(K, V)>) -> PCollection<O> {
        let f = ClosureFn::<(K, V), O, F, _>::new(self.f, |f, (k, v), ctx| {
            ctx.emit(f(k, v));
            Ok(())
        });
        ParDo::local(f).expand_here(input)
    }
}
