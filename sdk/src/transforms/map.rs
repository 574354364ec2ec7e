//! `Map`: one output per input, from a closure.

use crate::element::Element;
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use std::marker::PhantomData;

/// Applies a function to every element.
///
/// Closures run in-process; for a portable step write a [`DoFn`] and use [`ParDo::of`].
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let lens = p.apply(Create::new(vec!["ab".to_string(), "c".into()])).apply(Map::new(|s: &String| s.len()));
/// assert_that(&lens, contains_in_any_order(vec![2usize, 1]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct Map<I, O, F> {
    f: F,
    _t: PhantomData<fn(I) -> O>,
}

impl<I: Element, O: Element, F: Fn(&I) -> O + Clone + Send + Sync + 'static> Map<I, O, F> {
    /// Maps with `f`.
    pub fn new(f: F) -> Self {
        Map { f, _t: PhantomData }
    }
}

/// A DoFn calling a closure once per element; `name` is the default label.
pub(crate) struct ClosureFn<I, O, F, C> {
    f: F,
    /// What the step does with `f`: a closure type of its own, so the call is
    /// static and inlines into the loop over a batch.
    call: C,
    _t: PhantomData<fn(&I) -> O>,
}

impl<I: Element, O: Element, F, C> ClosureFn<I, O, F, C>
where
    C: Fn(&F, &I, &mut ProcessContext<'_, O>) -> Result<(), DoFnError>,
{
    pub(crate) fn new(f: F, call: C) -> Self {
        ClosureFn { f, call, _t: PhantomData }
    }
}

impl<I, O, F: Clone, C: Clone> Clone for ClosureFn<I, O, F, C> {
    fn clone(&self) -> Self {
        ClosureFn { f: self.f.clone(), call: self.call.clone(), _t: PhantomData }
    }
}

impl<I: Element, O: Element, F: Clone + Send + Sync + 'static, C> DoFn for ClosureFn<I, O, F, C>
where
    C: Fn(&F, &I, &mut ProcessContext<'_, O>) -> Result<(), DoFnError> + Clone + Send + Sync + 'static,
{
    type In = I;
    type Out = O;
    #[inline]
    fn process(&mut self, element: &I, ctx: &mut ProcessContext<'_, O>) -> Result<(), DoFnError> {
        (self.call)(&self.f, element, ctx)
    }
}

impl<I: Element, O: Element, F: Fn(&I) -> O + Clone + Send + Sync + 'static> PTransform<PCollection<I>>
    for Map<I, O, F>
{
    type Output = PCollection<O>;
    fn default_label(&self) -> String {
        "Map".into()
    }
    fn expand(self, input: PCollection<I>) -> PCollection<O> {
        let f = ClosureFn::<I, O, F, _>::new(self.f, |f, x, ctx| {
            ctx.emit(f(x));
            Ok(())
        });
        ParDo::local(f).expand_here(input)
    }
}
