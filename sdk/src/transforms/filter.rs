//! `Filter`: keeps the elements a predicate accepts.

use crate::element::Element;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::map::ClosureFn;
use crate::transforms::pardo::ParDo;
use std::marker::PhantomData;

/// Keeps the elements for which the predicate is true.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let even = p.apply(Create::new(vec![1i64, 2, 3, 4])).apply(Filter::new(|x: &i64| x % 2 == 0));
/// assert_that(&even, contains_in_any_order(vec![2, 4]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct Filter<T, F> {
    f: F,
    _t: PhantomData<fn(T)>,
}

impl<T: Element, F: Fn(&T) -> bool + Clone + Send + Sync + 'static> Filter<T, F> {
    /// Filters with `f`.
    pub fn new(f: F) -> Self {
        Filter { f, _t: PhantomData }
    }
}

impl<T: Element, F: Fn(&T) -> bool + Clone + Send + Sync + 'static> PTransform<PCollection<T>> for Filter<T, F> {
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "Filter".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<T> {
        let f = ClosureFn::<T, T, F, _>::new(self.f, |f, x, ctx| {
            if f(x) {
                ctx.emit(x.clone());
            }
            Ok(())
        });
        ParDo::local(f).expand_here(input)
    }
}
