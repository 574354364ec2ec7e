//! `Top`: the n largest or smallest inputs, globally or per key.
//!
//! The accumulator is a binary heap bounded to n elements whose root is the
//! worst element kept, so adding an input costs O(log n) and merging two
//! accumulators O(n log n), whatever the size of the input.

use crate::element::{Element, Key};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_globally::CombineGlobally;
use crate::transforms::combine_per_key::CombinePerKey;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::marker::PhantomData;

/// Entry points for the n largest or smallest elements.
///
/// Elements are compared with `PartialOrd`; a value not comparable with
/// itself (a float NaN) ranks above every other value, as in `f64::total_cmp`.
/// The output is a `Vec` of at most n elements, sorted as Beam sorts it:
/// largest first for `largest`, smallest first for `smallest`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p.apply(Create::new(vec![5i32, 1, 4, 2, 3]));
/// assert_that(&xs.apply(Top::largest(2)), contains_in_any_order(vec![vec![5, 4]]));
/// assert_that(&xs.apply(Top::smallest(3)), contains_in_any_order(vec![vec![1, 2, 3]]));
/// p.run().unwrap();
/// ```
#[derive(Debug)]
pub struct Top;

impl Top {
    /// The `n` largest elements per window, largest first (`[]` for an empty global input).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let t = p.apply(Create::new(vec![0.5f64, 2.5, 1.5])).apply(Top::largest(5));
    /// assert_that(&t, contains_in_any_order(vec![vec![2.5f64, 1.5, 0.5]]));
    /// p.run().unwrap();
    /// ```
    pub fn largest<T: Element + PartialOrd>(n: usize) -> CombineGlobally<TopFn<T>> {
        CombineGlobally::new(TopFn::largest(n))
    }

    /// The `n` smallest elements per window, smallest first (`[]` for an empty global input).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let t = p.apply(Create::new(vec!["b".to_string(), "c".into(), "a".into()])).apply(Top::smallest(2));
    /// assert_that(&t, contains_in_any_order(vec![vec!["a".to_string(), "b".to_string()]]));
    /// p.run().unwrap();
    /// ```
    pub fn smallest<T: Element + PartialOrd>(n: usize) -> CombineGlobally<TopFn<T>> {
        CombineGlobally::new(TopFn::smallest(n))
    }

    /// The `n` largest values of each key (per window), largest first.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let t = p.apply(Create::new(vec![('a', 1u8), ('a', 3), ('a', 2), ('b', 7)])).apply(Top::largest_per_key(2));
    /// assert_that(&t, contains_in_any_order(vec![('a', vec![3u8, 2]), ('b', vec![7])]));
    /// p.run().unwrap();
    /// ```
    pub fn largest_per_key<K: Key, T: Element + PartialOrd>(n: usize) -> CombinePerKey<K, TopFn<T>> {
        CombinePerKey::new(TopFn::largest(n))
    }

    /// The `n` smallest values of each key (per window), smallest first.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let t = p.apply(Create::new(vec![('a', 1u8), ('a', 3), ('a', 2), ('b', 7)])).apply(Top::smallest_per_key(2));
    /// assert_that(&t, contains_in_any_order(vec![('a', vec![1u8, 2]), ('b', vec![7])]));
    /// p.run().unwrap();
    /// ```
    pub fn smallest_per_key<K: Key, T: Element + PartialOrd>(n: usize) -> CombinePerKey<K, TopFn<T>> {
        CombinePerKey::new(TopFn::smallest(n))
    }
}

/// Keeps the `n` largest (or smallest) inputs; the [`CombineFn`] behind [`Top`].
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let t = p
///     .apply(Create::new(vec![("k".to_string(), vec![4i64, 9, 1])]))
///     .apply(Combine::grouped_values(TopFn::largest(2)));
/// assert_that(&t, contains_in_any_order(vec![("k".to_string(), vec![9i64, 4])]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct TopFn<T> {
    n: usize,
    largest: bool,
    #[serde(skip)]
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for TopFn<T> {
    fn clone(&self) -> Self {
        TopFn { n: self.n, largest: self.largest, _t: PhantomData }
    }
}

/// The accumulator of [`TopFn`]: at most n elements, kept as a heap.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "T: Element")]
pub struct TopAccumulator<T> {
    heap: Vec<T>,
}

impl<T: Element + PartialOrd> TopFn<T> {
    /// Keeps the `n` largest inputs; outputs them largest first.
    pub fn largest(n: usize) -> Self {
        TopFn { n, largest: true, _t: PhantomData }
    }

    /// Keeps the `n` smallest inputs; outputs them smallest first.
    pub fn smallest(n: usize) -> Self {
        TopFn { n, largest: false, _t: PhantomData }
    }

    /// `Greater` when `a` is to be kept before `b`.
    #[inline]
    fn rank(&self, a: &T, b: &T) -> Ordering {
        let o = total_order(a, b);
        if self.largest {
            o
        } else {
            o.reverse()
        }
    }

    /// Whether `x` belongs among the kept elements.
    #[inline]
    fn admits(&self, acc: &TopAccumulator<T>, x: &T) -> bool {
        acc.heap.len() < self.n || acc.heap.first().is_some_and(|worst| self.rank(x, worst) == Ordering::Greater)
    }

    /// Inserts an admitted element, evicting the worst one when full.
    fn insert(&self, acc: &mut TopAccumulator<T>, x: T) {
        let below = |a: &T, b: &T| self.rank(a, b) == Ordering::Less;
        if acc.heap.len() < self.n {
            heap_push(&mut acc.heap, x, below);
        } else {
            heap_replace_root(&mut acc.heap, x, below);
        }
    }
}

/// A total preorder from `PartialOrd`: values not comparable with themselves
/// (NaN) are equal to each other and above all others; other incomparable
/// pairs are equal.
#[inline]
fn total_order<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    a.partial_cmp(b).unwrap_or_else(|| crate::combiners::min::unordered(a).cmp(&crate::combiners::min::unordered(b)))
}

impl<T: Element + PartialOrd> CombineFn for TopFn<T> {
    type In = T;
    type Acc = TopAccumulator<T>;
    type Out = Vec<T>;
    fn create_accumulator(&self) -> TopAccumulator<T> {
        TopAccumulator { heap: Vec::new() }
    }
    #[inline]
    fn add_input(&self, acc: &mut TopAccumulator<T>, x: &T) {
        if self.admits(acc, x) {
            self.insert(acc, x.clone());
        }
    }
    fn merge_accumulators(&self, acc: &mut TopAccumulator<T>, mut other: TopAccumulator<T>) {
        if other.heap.len() > acc.heap.len() {
            std::mem::swap(acc, &mut other);
        }
        for x in other.heap {
            if self.admits(acc, &x) {
                self.insert(acc, x);
            }
        }
    }
    fn extract_output(&self, acc: TopAccumulator<T>) -> Vec<T> {
        let mut v = acc.heap;
        v.sort_by(|a, b| self.rank(b, a));
        v
    }
    fn name(&self) -> String {
        if self.largest {
            format!("Largest({})", self.n)
        } else {
            format!("Smallest({})", self.n)
        }
    }
}

/// Pushes `x` onto a binary heap whose root is the minimum under `less`.
pub(crate) fn heap_push<T>(heap: &mut Vec<T>, x: T, less: impl Fn(&T, &T) -> bool) {
    heap.push(x);
    let mut i = heap.len() - 1;
    while i > 0 {
        let parent = (i - 1) / 2;
        if !less(&heap[i], &heap[parent]) {
            break;
        }
        heap.swap(i, parent);
        i = parent;
    }
}

/// Replaces the root (the minimum under `less`) of a non-empty heap by `x`.
pub(crate) fn heap_replace_root<T>(heap: &mut [T], x: T, less: impl Fn(&T, &T) -> bool) {
    let Some(root) = heap.first_mut() else { return };
    *root = x;
    let mut i = 0;
    loop {
        let left = 2 * i + 1;
        if left >= heap.len() {
            break;
        }
        let right = left + 1;
        let child = if right < heap.len() && less(&heap[right], &heap[left]) { right } else { left };
        if !less(&heap[child], &heap[i]) {
            break;
        }
        heap.swap(i, child);
        i = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::combine_fn::combine_all;

    #[test]
    fn empty_input_gives_an_empty_list() {
        assert!(combine_all(&TopFn::<i32>::largest(3), &[]).is_empty());
    }

    #[test]
    fn zero_keeps_nothing() {
        assert!(combine_all(&TopFn::largest(0), &[1, 2, 3]).is_empty());
        assert!(combine_all(&TopFn::smallest(0), &[1, 2, 3]).is_empty());
    }

    #[test]
    fn fewer_inputs_than_n_are_all_kept_sorted() {
        assert_eq!(combine_all(&TopFn::largest(10), &[2, 9, 4]), vec![9, 4, 2]);
        assert_eq!(combine_all(&TopFn::smallest(10), &[2, 9, 4]), vec![2, 4, 9]);
    }

    #[test]
    fn matches_a_full_sort_on_many_inputs() {
        // A fixed pseudo-random sequence with repeats.
        let xs: Vec<i64> = (0..2000i64).map(|i| (i * 7919 + 13) % 1009 - 500).collect();
        let mut sorted = xs.clone();
        sorted.sort();
        for n in [1, 2, 7, 100] {
            let smallest: Vec<i64> = sorted.iter().take(n).copied().collect();
            let largest: Vec<i64> = sorted.iter().rev().take(n).copied().collect();
            assert_eq!(combine_all(&TopFn::smallest(n), &xs), smallest);
            assert_eq!(combine_all(&TopFn::largest(n), &xs), largest);
        }
    }

    #[test]
    fn merging_bounded_accumulators_agrees_with_one_accumulator() {
        let t = TopFn::<i32>::largest(3);
        let parts: [&[i32]; 4] = [&[1, 50, 3], &[], &[7, 8, 9, 10, 2], &[49]];
        let mut total = t.create_accumulator();
        for part in parts {
            let mut acc = t.create_accumulator();
            for x in part {
                t.add_input(&mut acc, x);
            }
            assert!(acc.heap.len() <= 3);
            t.merge_accumulators(&mut total, acc);
        }
        assert_eq!(t.extract_output(total), vec![50, 49, 10]);
    }

    #[test]
    fn nan_ranks_above_every_number() {
        let xs = [1.0f64, f64::NAN, 3.0, f64::INFINITY];
        let largest = combine_all(&TopFn::largest(2), &xs);
        assert!(largest[0].is_nan() && largest[1] == f64::INFINITY, "{largest:?}");
        assert_eq!(combine_all(&TopFn::smallest(2), &xs), vec![1.0, 3.0]);
    }

    #[test]
    fn names_say_which_end_and_how_many() {
        assert_eq!(TopFn::<u8>::largest(3).name(), "Largest(3)");
        assert_eq!(TopFn::<u8>::smallest(1).name(), "Smallest(1)");
    }
}
