//! `ToList`: all inputs, gathered into one `Vec`.

use crate::element::Element;
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_globally::CombineGlobally;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Gathers its inputs into a `Vec`, in no particular order.
///
/// The whole list is held in one accumulator: meant for small collections
/// (a window's few results, a test's output).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let all = p
///     .apply(Create::new(vec![3i32, 1, 2]))
///     .apply(ToList::globally())
///     .apply(Map::new(|v: &Vec<i32>| { let mut v = v.clone(); v.sort(); v }));
/// assert_that(&all, contains_in_any_order(vec![vec![1, 2, 3]]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ToList<T>(PhantomData<fn() -> T>);

impl<T> Clone for ToList<T> {
    fn clone(&self) -> Self {
        ToList(PhantomData)
    }
}

impl<T> Default for ToList<T> {
    fn default() -> Self {
        ToList(PhantomData)
    }
}

impl<T: Element> ToList<T> {
    /// The combiner, for `Combine::globally`, `per_key` or `grouped_values`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let l = p.apply(Create::new(vec![("k".to_string(), 7u8)])).apply(Combine::per_key(ToList::new()));
    /// assert_that(&l, contains_in_any_order(vec![("k".to_string(), vec![7u8])]));
    /// p.run().unwrap();
    /// ```
    pub fn new() -> Self {
        ToList(PhantomData)
    }

    /// All elements of each window as one `Vec` (an empty `Vec` for an empty global input).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let l = p.apply(Create::new(Vec::<String>::new())).apply(ToList::globally());
    /// assert_that(&l, contains_in_any_order(vec![Vec::<String>::new()]));
    /// p.run().unwrap();
    /// ```
    pub fn globally() -> CombineGlobally<ToList<T>> {
        CombineGlobally::new(ToList::new())
    }
}

impl<T: Element> CombineFn for ToList<T> {
    type In = T;
    type Acc = Vec<T>;
    type Out = Vec<T>;
    fn create_accumulator(&self) -> Vec<T> {
        Vec::new()
    }
    #[inline]
    fn add_input(&self, acc: &mut Vec<T>, x: &T) {
        acc.push(x.clone());
    }
    fn merge_accumulators(&self, acc: &mut Vec<T>, mut other: Vec<T>) {
        if other.len() > acc.len() {
            std::mem::swap(acc, &mut other);
        }
        acc.append(&mut other);
    }
    fn extract_output(&self, acc: Vec<T>) -> Vec<T> {
        acc
    }
    fn name(&self) -> String {
        "ToList".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::combine_fn::combine_all;

    #[test]
    fn empty_input_is_an_empty_list() {
        assert!(combine_all(&ToList::<u8>::new(), &[]).is_empty());
    }

    #[test]
    fn merging_keeps_every_element() {
        let l = ToList::<i32>::new();
        let mut a = l.create_accumulator();
        l.add_input(&mut a, &1);
        let mut b = l.create_accumulator();
        for x in [2, 3, 3] {
            l.add_input(&mut b, &x);
        }
        l.merge_accumulators(&mut a, b);
        let mut out = l.extract_output(a);
        out.sort();
        assert_eq!(out, vec![1, 2, 3, 3]);
    }
}
