//! `WithKeys`: pairs each element with a key computed from it.

use crate::element::Element;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::map::ClosureFn;
use crate::transforms::pardo::ParDo;
use std::marker::PhantomData;

/// Turns each `v` into `(f(&v), v)`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let kv = p.apply(Create::new(vec!["apple".to_string()])).apply(WithKeys::new(|s: &String| s.len()));
/// assert_that(&kv, contains_in_any_order(vec![(5usize, "apple".to_string())]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct WithKeys<K, V, F> {
    f: F,
    _t: PhantomData<fn(V) -> K>,
}

impl<K: Element, V: Element, F: Fn(&V) -> K + Clone + Send + Sync + 'static> WithKeys<K, V, F> {
    /// Keys with `f`.
    pub fn new(f: F) -> Self {
        WithKeys { f, _t: PhantomData }
    }
}

impl<K: Element, V: Element, F: Fn(&V) -> K + Clone + Send + Sync + 'static> PTransform<PCollection<V>>
    for WithKeys<K, V, F>
{
    type Output = PCollection<(K, V)>;
    fn default_label(&self) -> String {
        "WithKeys".into()
    }
    fn expand(self, input: PCollection<V>) -> PCollection<(K, V)> {
        let f = ClosureFn::<V, (K, V), F, _>::new(self.f, |f, v, ctx| {
            ctx.emit((f(v), v.clone()));
            Ok(())
        });
        ParDo::local(f).expand_here(input)
    }
}
