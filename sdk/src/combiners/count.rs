//! `Count`: how many elements, globally, per key, or per distinct element.

use crate::element::{Element, Key};
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_globally::CombineGlobally;
use crate::transforms::combine_per_key::CombinePerKey;
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Counts inputs; the [`CombineFn`] behind [`Count`].
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct CountFn<T>(PhantomData<fn() -> T>);

impl<T> Clone for CountFn<T> {
    fn clone(&self) -> Self {
        CountFn(PhantomData)
    }
}

impl<T> Default for CountFn<T> {
    fn default() -> Self {
        CountFn(PhantomData)
    }
}

impl<T: Element> CombineFn for CountFn<T> {
    type In = T;
    type Acc = u64;
    type Out = u64;
    fn create_accumulator(&self) -> u64 {
        0
    }
    #[inline]
    fn add_input(&self, acc: &mut u64, _: &T) {
        *acc += 1;
    }
    fn merge_accumulators(&self, acc: &mut u64, other: u64) {
        *acc += other;
    }
    fn extract_output(&self, acc: u64) -> u64 {
        acc
    }
    fn name(&self) -> String {
        "Count".into()
    }
}

/// Entry points for counting.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let words = p.apply(Create::new(vec!["a".to_string(), "b".into(), "a".into()]));
/// assert_that(&words.apply(Count::globally()), contains_in_any_order(vec![3u64]));
/// assert_that(
///     &words.apply(Count::per_element()),
///     contains_in_any_order(vec![("a".to_string(), 2u64), ("b".to_string(), 1)]),
/// );
/// p.run().unwrap();
/// ```
#[derive(Debug)]
pub struct Count;

impl Count {
    /// The number of elements (per window; 0 for an empty global input).
    pub fn globally<T: Element>() -> CombineGlobally<CountFn<T>> {
        CombineGlobally::new(CountFn::default())
    }
    /// The number of values of each key.
    pub fn per_key<K: Key, V: Element>() -> CombinePerKey<K, CountFn<V>> {
        CombinePerKey::new(CountFn::default())
    }
    /// The number of occurrences of each distinct element.
    pub fn per_element<T: Key>() -> CountPerElement<T> {
        CountPerElement(PhantomData)
    }
}

/// Counts occurrences of each distinct element: `T` into `(T, u64)`.
#[must_use = "a transform does nothing until applied"]
pub struct CountPerElement<T>(PhantomData<fn() -> T>);

/// Pairs each element with `()` (the keying step of counting and `Distinct`).
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct PairWithUnit<T>(pub(crate) PhantomData<fn() -> T>);

impl<T> Clone for PairWithUnit<T> {
    fn clone(&self) -> Self {
        PairWithUnit(PhantomData)
    }
}

impl<T: Element> DoFn for PairWithUnit<T> {
    type In = T;
    type Out = (T, ());
    #[inline]
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, (T, ())>) -> Result<(), DoFnError> {
        ctx.emit((x.clone(), ()));
        Ok(())
    }
    const MOVES_INPUT: bool = true;
    fn process_owned(&mut self, x: T, ctx: &mut ProcessContext<'_, (T, ())>) -> Result<(), DoFnError> {
        ctx.emit((x, ()));
        Ok(())
    }
    fn name(&self) -> String {
        "PairWithUnit".into()
    }
}

impl<T: Key> PTransform<PCollection<T>> for CountPerElement<T> {
    type Output = PCollection<(T, u64)>;
    fn default_label(&self) -> String {
        "CountPerElement".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<(T, u64)> {
        input
            .apply_named("PairWithUnit", ParDo::of(PairWithUnit::<T>(PhantomData)))
            .apply_named("CountPerKey", Count::per_key::<T, ()>())
    }
}
