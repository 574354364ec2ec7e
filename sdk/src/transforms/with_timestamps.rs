//! `WithTimestamps`: sets each element's event time from a function.

use crate::element::Element;
use crate::pipeline::{PCollection, PTransform};
use crate::time::Timestamp;
use crate::transforms::map::ClosureFn;
use crate::transforms::pardo::ParDo;
use std::marker::PhantomData;

/// Gives every element the timestamp `f(element)` (its window is unchanged
/// until the next `WindowInto`).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use std::time::Duration;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let per_minute = p
///     .apply(Create::new(vec![10i64, 20, 70]))
///     .apply(WithTimestamps::new(|s: &i64| Timestamp::from_secs(*s)))
///     .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(60))))
///     .apply(Count::globally().without_defaults());
/// assert_that(&per_minute, contains_in_any_order(vec![2u64, 1]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct WithTimestamps<T, F> {
    f: F,
    _t: PhantomData<fn(T)>,
}

impl<T: Element, F: Fn(&T) -> Timestamp + Clone + Send + Sync + 'static> WithTimestamps<T, F> {
    /// Timestamps elements with `f`.
    pub fn new(f: F) -> Self {
        WithTimestamps { f, _t: PhantomData }
    }
}

impl<T: Element, F: Fn(&T) -> Timestamp + Clone + Send + Sync + 'static> PTransform<PCollection<T>>
    for WithTimestamps<T, F>
{
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "WithTimestamps".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<T> {
        let f = ClosureFn::<T, T, F, _>::new(self.f, |f, x, ctx| {
            ctx.emit_with_timestamp(x.clone(), f(x));
            Ok(())
        });
        ParDo::local(f).expand_here(input)
    }
}
