//! `Max`: the largest input, globally or per key.

use crate::combiners::min::{takes_over, UnwrapValues};
use crate::element::{Element, Key};
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_globally::CombineGlobally;
use crate::transforms::combine_per_key::CombinePerKey;
use crate::transforms::pardo::ParDo;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::marker::PhantomData;

/// The largest input, by `PartialOrd`; `None` only for an empty input.
///
/// The mirror of [`crate::Min`], with the same choices: an `Option` output
/// instead of Beam's `-inf` sentinel for an empty input, [`Max::per_key`]
/// unwrapped, and a NaN input wins (as with Java's `Math.max`).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p.apply(Create::new(vec!["pear".to_string(), "apple".into(), "zucchini".into()]));
/// assert_that(&xs.apply(Max::globally()), contains_in_any_order(vec![Some("zucchini".to_string())]));
/// let kv = p.apply_named("Pairs", Create::new(vec![("a".to_string(), 1u32), ("a".into(), 4), ("b".into(), 2)]));
/// assert_that(&kv.apply(Max::per_key()), contains_in_any_order(vec![("a".to_string(), 4u32), ("b".to_string(), 2)]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Max<T>(PhantomData<fn() -> T>);

impl<T> Clone for Max<T> {
    fn clone(&self) -> Self {
        Max(PhantomData)
    }
}

impl<T> Default for Max<T> {
    fn default() -> Self {
        Max(PhantomData)
    }
}

impl<T: Element + PartialOrd> Max<T> {
    /// The combiner, for `Combine::globally`, `per_key` or `grouped_values`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p.apply(Create::new(vec![('x', 1i8), ('x', 3)])).apply(Combine::per_key(Max::new()));
    /// assert_that(&m, contains_in_any_order(vec![('x', Some(3i8))]));
    /// p.run().unwrap();
    /// ```
    pub fn new() -> Self {
        Max(PhantomData)
    }

    /// The largest element per window (`None` for an empty global input).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p.apply(Create::new(vec![2.0f64, -1.5])).apply(Max::globally());
    /// assert_that(&m, contains_in_any_order(vec![Some(2.0f64)]));
    /// p.run().unwrap();
    /// ```
    pub fn globally() -> CombineGlobally<Max<T>> {
        CombineGlobally::new(Max::new())
    }

    /// The largest value of each key (per window): `(K, T)` into `(K, T)`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p.apply(Create::new(vec![(1u8, 5i32), (1, 4), (2, 9)])).apply(Max::per_key());
    /// assert_that(&m, contains_in_any_order(vec![(1u8, 5i32), (2, 9)]));
    /// p.run().unwrap();
    /// ```
    pub fn per_key<K: Key>() -> MaxPerKey<K, T> {
        MaxPerKey(PhantomData)
    }
}

impl<T: Element + PartialOrd> CombineFn for Max<T> {
    type In = T;
    type Acc = Option<T>;
    type Out = Option<T>;
    fn create_accumulator(&self) -> Option<T> {
        None
    }
    #[inline]
    fn add_input(&self, acc: &mut Option<T>, x: &T) {
        if takes_over(acc, x, Ordering::Greater) {
            *acc = Some(x.clone());
        }
    }
    fn merge_accumulators(&self, acc: &mut Option<T>, other: Option<T>) {
        if let Some(x) = other {
            if takes_over(acc, &x, Ordering::Greater) {
                *acc = Some(x);
            }
        }
    }
    fn extract_output(&self, acc: Option<T>) -> Option<T> {
        acc
    }
    fn name(&self) -> String {
        "Max".into()
    }
}

/// The largest value of each key; see [`Max::per_key`].
#[must_use = "a transform does nothing until applied"]
pub struct MaxPerKey<K, T>(PhantomData<fn() -> (K, T)>);

impl<K: Key, T: Element + PartialOrd> PTransform<PCollection<(K, T)>> for MaxPerKey<K, T> {
    type Output = PCollection<(K, T)>;
    fn default_label(&self) -> String {
        "MaxPerKey".into()
    }
    fn expand(self, input: PCollection<(K, T)>) -> PCollection<(K, T)> {
        input
            .apply_named("CombinePerKey", CombinePerKey::<K, Max<T>>::new(Max::new()))
            .apply_named("Unwrap", ParDo::of(UnwrapValues::<K, T>::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_of<T: Element + PartialOrd>(xs: &[T]) -> Option<T> {
        crate::transforms::combine_fn::combine_all(&Max::<T>::new(), xs)
    }

    #[test]
    fn empty_input_has_no_maximum() {
        assert_eq!(max_of::<u8>(&[]), None);
    }

    #[test]
    fn one_element_is_the_maximum() {
        assert_eq!(max_of(&[(1, "a".to_string())]), Some((1, "a".to_string())));
    }

    #[test]
    fn merging_partial_maximums_agrees_with_one_accumulator() {
        let m = Max::<i32>::new();
        let mut a = m.create_accumulator();
        m.add_input(&mut a, &5);
        let mut b = m.create_accumulator();
        for x in [9, -1] {
            m.add_input(&mut b, &x);
        }
        let mut empty = m.create_accumulator();
        m.merge_accumulators(&mut empty, a);
        m.merge_accumulators(&mut empty, b);
        assert_eq!(m.extract_output(empty), Some(9));
    }

    #[test]
    fn nan_wins_whatever_the_input_order() {
        assert!(max_of(&[1.0f32, f32::NAN, 3.0]).is_some_and(f32::is_nan));
        assert!(max_of(&[3.0f32, 1.0, f32::NAN]).is_some_and(f32::is_nan));
    }
}
