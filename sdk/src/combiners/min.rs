//! `Min`: the smallest input, globally or per key.
//!
//! Also home of what `Min`, `Max` and `Latest` share: the rule that picks an
//! extreme under `PartialOrd`, and the step that unwraps per-key results.

use crate::element::{Element, Key};
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_globally::CombineGlobally;
use crate::transforms::combine_per_key::CombinePerKey;
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::marker::PhantomData;

/// The smallest input, by `PartialOrd`; `None` only for an empty input.
///
/// Beam's numeric `Min` yields a sentinel (`+inf`, `i64::MAX`) for an empty
/// input, which a reader cannot tell from a real value; here the output is
/// an `Option`, as with `Iterator::min`, and works for any ordered type
/// (strings, tuples, timestamps). [`Min::per_key`] unwraps it, since a key
/// always has a value. A value not comparable with itself (a float NaN)
/// wins, as with Java's `Math.min`, so the result never depends on the order
/// in which a runner adds inputs.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p.apply(Create::new(vec![3i64, 1, 2]));
/// assert_that(&xs.apply(Min::globally()), contains_in_any_order(vec![Some(1i64)]));
/// let none = p.apply_named("Empty", Create::new(Vec::<f64>::new())).apply(Min::globally());
/// assert_that(&none, contains_in_any_order(vec![None]));
/// let kv = p.apply_named("Pairs", Create::new(vec![("a".to_string(), 2.5f64), ("a".into(), 0.5), ("b".into(), 7.0)]));
/// assert_that(
///     &kv.apply(Min::per_key()),
///     contains_in_any_order(vec![("a".to_string(), 0.5f64), ("b".to_string(), 7.0)]),
/// );
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Min<T>(PhantomData<fn() -> T>);

impl<T> Clone for Min<T> {
    fn clone(&self) -> Self {
        Min(PhantomData)
    }
}

impl<T> Default for Min<T> {
    fn default() -> Self {
        Min(PhantomData)
    }
}

impl<T: Element + PartialOrd> Min<T> {
    /// The combiner, for `Combine::globally`, `per_key` or `grouped_values`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p
    ///     .apply(Create::new(vec![("k".to_string(), vec!["b".to_string(), "a".into()])]))
    ///     .apply(Combine::grouped_values(Min::new()));
    /// assert_that(&m, contains_in_any_order(vec![("k".to_string(), Some("a".to_string()))]));
    /// p.run().unwrap();
    /// ```
    pub fn new() -> Self {
        Min(PhantomData)
    }

    /// The smallest element per window (`None` for an empty global input).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p.apply(Create::new(vec![2.0f64, -1.5])).apply(Min::globally());
    /// assert_that(&m, contains_in_any_order(vec![Some(-1.5f64)]));
    /// p.run().unwrap();
    /// ```
    pub fn globally() -> CombineGlobally<Min<T>> {
        CombineGlobally::new(Min::new())
    }

    /// The smallest value of each key (per window): `(K, T)` into `(K, T)`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p.apply(Create::new(vec![(1u8, 5i32), (1, 4), (2, 9)])).apply(Min::per_key());
    /// assert_that(&m, contains_in_any_order(vec![(1u8, 4i32), (2, 9)]));
    /// p.run().unwrap();
    /// ```
    pub fn per_key<K: Key>() -> MinPerKey<K, T> {
        MinPerKey(PhantomData)
    }
}

impl<T: Element + PartialOrd> CombineFn for Min<T> {
    type In = T;
    type Acc = Option<T>;
    type Out = Option<T>;
    fn create_accumulator(&self) -> Option<T> {
        None
    }
    #[inline]
    fn add_input(&self, acc: &mut Option<T>, x: &T) {
        if takes_over(acc, x, Ordering::Less) {
            *acc = Some(x.clone());
        }
    }
    fn merge_accumulators(&self, acc: &mut Option<T>, other: Option<T>) {
        if let Some(x) = other {
            if takes_over(acc, &x, Ordering::Less) {
                *acc = Some(x);
            }
        }
    }
    fn extract_output(&self, acc: Option<T>) -> Option<T> {
        acc
    }
    fn name(&self) -> String {
        "Min".into()
    }
}

/// The smallest value of each key; see [`Min::per_key`].
#[must_use = "a transform does nothing until applied"]
pub struct MinPerKey<K, T>(PhantomData<fn() -> (K, T)>);

impl<K: Key, T: Element + PartialOrd> PTransform<PCollection<(K, T)>> for MinPerKey<K, T> {
    type Output = PCollection<(K, T)>;
    fn default_label(&self) -> String {
        "MinPerKey".into()
    }
    fn expand(self, input: PCollection<(K, T)>) -> PCollection<(K, T)> {
        input
            .apply_named("CombinePerKey", CombinePerKey::<K, Min<T>>::new(Min::new()))
            .apply_named("Unwrap", ParDo::of(UnwrapValues::<K, T>::new()))
    }
}

/// Whether `x` replaces the current extreme `acc`, looking for `want`
/// (`Less` for a minimum, `Greater` for a maximum).
///
/// A value not comparable with itself (NaN) takes over and is never
/// replaced, so the result does not depend on the order of the inputs.
#[inline]
pub(crate) fn takes_over<T: PartialOrd>(acc: &Option<T>, x: &T, want: Ordering) -> bool {
    match acc {
        None => true,
        Some(cur) if unordered(cur) => false,
        Some(cur) => unordered(x) || x.partial_cmp(cur) == Some(want),
    }
}

/// Whether `x` is not comparable with itself (a float NaN, or holds one).
#[inline]
pub(crate) fn unordered<T: PartialOrd>(x: &T) -> bool {
    x.partial_cmp(x).is_none()
}

/// Turns the `(K, Some(v))` of a per-key combine into `(K, v)`.
///
/// A key always has a value, so `None` never reaches it; it would be dropped.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct UnwrapValues<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> UnwrapValues<K, V> {
    pub(crate) fn new() -> Self {
        UnwrapValues(PhantomData)
    }
}

impl<K, V> Clone for UnwrapValues<K, V> {
    fn clone(&self) -> Self {
        UnwrapValues(PhantomData)
    }
}

impl<K: Element, V: Element> DoFn for UnwrapValues<K, V> {
    type In = (K, Option<V>);
    type Out = (K, V);
    #[inline]
    fn process(&mut self, kv: &(K, Option<V>), ctx: &mut ProcessContext<'_, (K, V)>) -> Result<(), DoFnError> {
        if let (k, Some(v)) = kv {
            ctx.emit((k.clone(), v.clone()));
        }
        Ok(())
    }
    fn name(&self) -> String {
        "UnwrapValues".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn min_of<T: Element + PartialOrd>(xs: &[T]) -> Option<T> {
        crate::transforms::combine_fn::combine_all(&Min::<T>::new(), xs)
    }

    #[test]
    fn empty_input_has_no_minimum() {
        assert_eq!(min_of::<i64>(&[]), None);
    }

    #[test]
    fn one_element_is_the_minimum() {
        assert_eq!(min_of(&["x".to_string()]), Some("x".to_string()));
    }

    #[test]
    fn merging_partial_minimums_agrees_with_one_accumulator() {
        let m = Min::<i32>::new();
        let mut a = m.create_accumulator();
        for x in [5, 3, 8] {
            m.add_input(&mut a, &x);
        }
        let mut b = m.create_accumulator();
        m.add_input(&mut b, &-2);
        m.merge_accumulators(&mut a, b);
        m.merge_accumulators(&mut a, m.create_accumulator());
        assert_eq!(m.extract_output(a), Some(-2));
    }

    #[test]
    fn nan_wins_whatever_the_input_order() {
        assert!(min_of(&[1.0f64, f64::NAN, -3.0]).is_some_and(f64::is_nan));
        assert!(min_of(&[f64::NAN, 1.0f64]).is_some_and(f64::is_nan));
        assert!(min_of(&[1.0f64, -3.0, f64::NAN]).is_some_and(f64::is_nan));
    }

    #[test]
    fn infinities_are_ordinary_values() {
        assert_eq!(min_of(&[f64::INFINITY, 2.0, f64::NEG_INFINITY]), Some(f64::NEG_INFINITY));
    }
}
