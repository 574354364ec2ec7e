//! `FlatMap`: zero or more outputs per input, from a closure.

use crate::element::Element;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::map::ClosureFn;
use crate::transforms::pardo::ParDo;
use std::marker::PhantomData;

/// Applies a function returning an iterable to every element and emits its items.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let words = p
///     .apply(Create::new(vec!["a b".to_string(), "c".into()]))
///     .apply(FlatMap::new(|l: &String| l.split(' ').map(String::from).collect::<Vec<_>>()));
/// assert_that(&words, contains_in_any_order(vec!["a".to_string(), "b".into(), "c".into()]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct FlatMap<I, O, F> {
    f: F,
    _t: PhantomData<fn(I) -> O>,
}

impl<I, O, It, F> FlatMap<I, O, F>
where
    I: Element,
    O: Element,
    It: IntoIterator<Item = O>,
    F: Fn(&I) -> It + Clone + Send + Sync + 'static,
{
    /// Flat-maps with `f`.
    pub fn new(f: F) -> Self {
        FlatMap { f, _t: PhantomData }
    }
}

impl<I, O, It, F> PTransform<PCollection<I>> for FlatMap<I, O, F>
where
    I: Element,
    O: Element,
    It: IntoIterator<Item = O>,
    F: Fn(&I) -> It + Clone + Send + Sync + 'static,
{
    type Output = PCollection<O>;
    fn default_label(&self) -> String {
        "FlatMap".into()
    }
    fn expand(self, input: PCollection<I>) -> PCollection<O> {
        let f = ClosureFn::<I, O, F, _>::new(self.f, |f, x, ctx| {
            for o in f(x) {
                ctx.emit(o);
            }
            Ok(())
        });
        ParDo::local(f).expand_here(input)
    }
}
