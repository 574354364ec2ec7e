//! `Latest`: the element with the latest event time, globally or per key.
//!
//! As in Beam, a composite: a ParDo pairs every element with its timestamp
//! (`ctx.timestamp()`), then [`LatestFn`] keeps the pair with the greatest one.

use crate::combiners::min::UnwrapValues;
use crate::element::{Element, Key};
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::time::Timestamp;
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_globally::CombineGlobally;
use crate::transforms::combine_per_key::CombinePerKey;
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Entry points for the latest element by event time.
///
/// Among elements with the same, latest timestamp one is chosen arbitrarily
/// (as in Beam). Globally the output is an `Option`: `None` for an empty
/// input in the global window (Beam outputs null there); per key the value
/// itself.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p.apply(Create::timestamped(vec![
///     ("old".to_string(), Timestamp::from_secs(1)),
///     ("new".to_string(), Timestamp::from_secs(9)),
///     ("mid".to_string(), Timestamp::from_secs(5)),
/// ]));
/// assert_that(&xs.apply(Latest::globally()), contains_in_any_order(vec![Some("new".to_string())]));
/// p.run().unwrap();
/// ```
#[derive(Debug)]
pub struct Latest;

impl Latest {
    /// The latest element of each window (`None` for an empty global input).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let l = p
    ///     .apply(Create::timestamped(vec![(1u8, Timestamp::from_secs(3)), (2, Timestamp::from_secs(2))]))
    ///     .apply(Latest::globally());
    /// assert_that(&l, contains_in_any_order(vec![Some(1u8)]));
    /// p.run().unwrap();
    /// ```
    pub fn globally<T: Element>() -> LatestGlobally<T> {
        LatestGlobally(PhantomData)
    }

    /// The latest value of each key (per window): `(K, V)` into `(K, V)`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let l = p
    ///     .apply(Create::timestamped(vec![
    ///         (('a', 1i32), Timestamp::from_secs(2)),
    ///         (('a', 2), Timestamp::from_secs(1)),
    ///         (('b', 3), Timestamp::from_secs(0)),
    ///     ]))
    ///     .apply(Latest::per_key());
    /// assert_that(&l, contains_in_any_order(vec![('a', 1i32), ('b', 3)]));
    /// p.run().unwrap();
    /// ```
    pub fn per_key<K: Key, V: Element>() -> LatestPerKey<K, V> {
        LatestPerKey(PhantomData)
    }
}

/// Keeps the `(value, timestamp)` input with the greatest timestamp; the
/// [`CombineFn`] behind [`Latest`], for inputs whose timestamps are reified.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let l = p
///     .apply(Create::new(vec![("x".to_string(), Timestamp::from_secs(2)), ("y".to_string(), Timestamp::from_secs(1))]))
///     .apply(Combine::globally(LatestFn::new()));
/// assert_that(&l, contains_in_any_order(vec![Some("x".to_string())]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct LatestFn<T>(PhantomData<fn() -> T>);

impl<T> Clone for LatestFn<T> {
    fn clone(&self) -> Self {
        LatestFn(PhantomData)
    }
}

impl<T> Default for LatestFn<T> {
    fn default() -> Self {
        LatestFn(PhantomData)
    }
}

impl<T: Element> LatestFn<T> {
    /// The combiner.
    pub fn new() -> Self {
        LatestFn(PhantomData)
    }
}

impl<T: Element> CombineFn for LatestFn<T> {
    type In = (T, Timestamp);
    type Acc = Option<(T, Timestamp)>;
    type Out = Option<T>;
    fn create_accumulator(&self) -> Option<(T, Timestamp)> {
        None
    }
    #[inline]
    fn add_input(&self, acc: &mut Option<(T, Timestamp)>, x: &(T, Timestamp)) {
        if acc.as_ref().is_none_or(|(_, t)| x.1 > *t) {
            *acc = Some(x.clone());
        }
    }
    fn merge_accumulators(&self, acc: &mut Option<(T, Timestamp)>, other: Option<(T, Timestamp)>) {
        if let Some(x) = other {
            if acc.as_ref().is_none_or(|(_, t)| x.1 > *t) {
                *acc = Some(x);
            }
        }
    }
    fn extract_output(&self, acc: Option<(T, Timestamp)>) -> Option<T> {
        acc.map(|(x, _)| x)
    }
    fn name(&self) -> String {
        "Latest".into()
    }
}

/// The latest element of each window; see [`Latest::globally`].
#[must_use = "a transform does nothing until applied"]
pub struct LatestGlobally<T>(PhantomData<fn() -> T>);

impl<T: Element> PTransform<PCollection<T>> for LatestGlobally<T> {
    type Output = PCollection<Option<T>>;
    fn default_label(&self) -> String {
        "LatestGlobally".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<Option<T>> {
        input
            .apply_named("ReifyTimestamps", ParDo::of(ReifyTimestamps::<T>(PhantomData)))
            .apply_named("CombineGlobally", CombineGlobally::new(LatestFn::<T>::new()))
    }
}

/// The latest value of each key; see [`Latest::per_key`].
#[must_use = "a transform does nothing until applied"]
pub struct LatestPerKey<K, V>(PhantomData<fn() -> (K, V)>);

impl<K: Key, V: Element> PTransform<PCollection<(K, V)>> for LatestPerKey<K, V> {
    type Output = PCollection<(K, V)>;
    fn default_label(&self) -> String {
        "LatestPerKey".into()
    }
    fn expand(self, input: PCollection<(K, V)>) -> PCollection<(K, V)> {
        input
            .apply_named("ReifyTimestamps", ParDo::of(ReifyValueTimestamps::<K, V>(PhantomData)))
            .apply_named("CombinePerKey", CombinePerKey::<K, LatestFn<V>>::new(LatestFn::new()))
            .apply_named("Unwrap", ParDo::of(UnwrapValues::<K, V>::new()))
    }
}

/// Pairs each element with its timestamp.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct ReifyTimestamps<T>(PhantomData<fn() -> T>);

impl<T> Clone for ReifyTimestamps<T> {
    fn clone(&self) -> Self {
        ReifyTimestamps(PhantomData)
    }
}

impl<T: Element> DoFn for ReifyTimestamps<T> {
    type In = T;
    type Out = (T, Timestamp);
    #[inline]
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, (T, Timestamp)>) -> Result<(), DoFnError> {
        let t = ctx.timestamp();
        ctx.emit((x.clone(), t));
        Ok(())
    }
    fn name(&self) -> String {
        "ReifyTimestamps".into()
    }
}

/// Pairs each value of a `(K, V)` with the element's timestamp.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct ReifyValueTimestamps<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> Clone for ReifyValueTimestamps<K, V> {
    fn clone(&self) -> Self {
        ReifyValueTimestamps(PhantomData)
    }
}

impl<K: Element, V: Element> DoFn for ReifyValueTimestamps<K, V> {
    type In = (K, V);
    type Out = (K, (V, Timestamp));
    #[inline]
    fn process(&mut self, (k, v): &(K, V), ctx: &mut ProcessContext<'_, (K, (V, Timestamp))>) -> Result<(), DoFnError> {
        let t = ctx.timestamp();
        ctx.emit((k.clone(), (v.clone(), t)));
        Ok(())
    }
    fn name(&self) -> String {
        "ReifyTimestamps".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::combine_fn::combine_all;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    #[test]
    fn empty_input_has_no_latest() {
        assert_eq!(combine_all(&LatestFn::<u8>::new(), &[]), None);
    }

    #[test]
    fn one_element_is_the_latest() {
        assert_eq!(combine_all(&LatestFn::new(), &[('a', at(0))]), Some('a'));
    }

    #[test]
    fn the_greatest_timestamp_wins_in_any_order_and_across_merges() {
        let f = LatestFn::<i32>::new();
        assert_eq!(combine_all(&f, &[(1, at(5)), (2, at(-3)), (3, at(9)), (4, at(7))]), Some(3));
        let mut a = f.create_accumulator();
        f.add_input(&mut a, &(1, at(5)));
        let mut b = f.create_accumulator();
        f.add_input(&mut b, &(2, at(6)));
        f.merge_accumulators(&mut a, f.create_accumulator());
        f.merge_accumulators(&mut a, b);
        assert_eq!(f.extract_output(a), Some(2));
    }

    #[test]
    fn minimum_timestamp_elements_still_count() {
        assert_eq!(combine_all(&LatestFn::new(), &[(7u8, Timestamp::MIN)]), Some(7u8));
    }
}
