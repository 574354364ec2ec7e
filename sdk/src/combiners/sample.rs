//! `Sample`: a uniform random sample of fixed size, globally or per key.
//!
//! Reservoir sampling by random priorities (as Beam's `Sample.fixedSize`
//! does with `Top` over random keys): every input draws an independent
//! uniform 64-bit priority and the accumulator keeps the n inputs with the
//! highest priorities in a bounded heap. Keeping the top n of a union is the
//! top n of the tops, so accumulators merge exactly and the sample stays
//! uniform however a runner splits and merges the input.

use crate::combiners::top::{heap_push, heap_replace_root};
use crate::element::{Element, Key};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_globally::CombineGlobally;
use crate::transforms::combine_per_key::CombinePerKey;
use crate::transforms::reshuffle::random_seed;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Entry points for fixed-size uniform samples.
///
/// Each output holds `min(n, size of the input)` distinct input elements
/// (distinct occurrences: a repeated value may appear as often as it
/// occurs), chosen uniformly at random without replacement, in random
/// order. Samples differ from run to run.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let s = p.apply(Create::new((0..100i32).collect::<Vec<_>>())).apply(Sample::fixed_size_globally(5));
/// assert_that(&s, satisfies(|out: &[Vec<i32>]| match out {
///     [one] if one.len() == 5 && one.iter().all(|x| (0..100).contains(x)) => Ok(()),
///     other => Err(format!("{other:?}")),
/// }));
/// p.run().unwrap();
/// ```
#[derive(Debug)]
pub struct Sample;

impl Sample {
    /// `n` elements of each window, uniformly chosen (`[]` for an empty global input).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let s = p.apply(Create::new(vec!["a".to_string(), "b".into()])).apply(Sample::fixed_size_globally(3));
    /// let sorted = s.apply(Map::new(|v: &Vec<String>| { let mut v = v.clone(); v.sort(); v }));
    /// assert_that(&sorted, contains_in_any_order(vec![vec!["a".to_string(), "b".to_string()]]));
    /// p.run().unwrap();
    /// ```
    pub fn fixed_size_globally<T: Element>(n: usize) -> CombineGlobally<SampleFn<T>> {
        CombineGlobally::new(SampleFn::new(n))
    }

    /// `n` values of each key (per window), uniformly chosen.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let s = p
    ///     .apply(Create::new(vec![('a', 1u8), ('a', 2), ('a', 3), ('b', 9)]))
    ///     .apply(Sample::fixed_size_per_key(2))
    ///     .apply(Map::new(|(k, v): &(char, Vec<u8>)| (*k, v.len())));
    /// assert_that(&s, contains_in_any_order(vec![('a', 2usize), ('b', 1)]));
    /// p.run().unwrap();
    /// ```
    pub fn fixed_size_per_key<K: Key, V: Element>(n: usize) -> CombinePerKey<K, SampleFn<V>> {
        CombinePerKey::new(SampleFn::new(n))
    }
}

/// Keeps a uniform sample of `n` inputs; the [`CombineFn`] behind [`Sample`].
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let s = p
///     .apply(Create::new(vec![("k".to_string(), vec![1i64, 2, 3, 4])]))
///     .apply(Combine::grouped_values(SampleFn::new(2)))
///     .apply(Map::new(|(_, v): &(String, Vec<i64>)| v.len()));
/// assert_that(&s, contains_in_any_order(vec![2usize]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SampleFn<T> {
    n: usize,
    #[serde(skip)]
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for SampleFn<T> {
    fn clone(&self) -> Self {
        SampleFn { n: self.n, _t: PhantomData }
    }
}

/// The accumulator of [`SampleFn`]: its random state and at most n
/// `(priority, element)` pairs, kept as a heap.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "T: Element")]
pub struct SampleAccumulator<T> {
    state: u64,
    heap: Vec<(u64, T)>,
}

impl<T: Element> SampleFn<T> {
    /// Samples `n` inputs.
    pub fn new(n: usize) -> Self {
        SampleFn { n, _t: PhantomData }
    }

    fn insert(&self, acc: &mut SampleAccumulator<T>, priority: u64, x: impl FnOnce() -> T) {
        let below = |a: &(u64, T), b: &(u64, T)| a.0 < b.0;
        if acc.heap.len() < self.n {
            heap_push(&mut acc.heap, (priority, x()), below);
        } else if acc.heap.first().is_some_and(|(lowest, _)| priority > *lowest) {
            heap_replace_root(&mut acc.heap, (priority, x()), below);
        }
    }
}

impl<T: Element> CombineFn for SampleFn<T> {
    type In = T;
    type Acc = SampleAccumulator<T>;
    type Out = Vec<T>;
    fn create_accumulator(&self) -> SampleAccumulator<T> {
        SampleAccumulator { state: random_seed(), heap: Vec::new() }
    }
    #[inline]
    fn add_input(&self, acc: &mut SampleAccumulator<T>, x: &T) {
        let priority = splitmix64(&mut acc.state);
        self.insert(acc, priority, || x.clone());
    }
    fn merge_accumulators(&self, acc: &mut SampleAccumulator<T>, other: SampleAccumulator<T>) {
        acc.state ^= other.state.rotate_left(32);
        for (priority, x) in other.heap {
            self.insert(acc, priority, || x);
        }
    }
    fn extract_output(&self, acc: SampleAccumulator<T>) -> Vec<T> {
        let mut v = acc.heap;
        v.sort_unstable_by_key(|(priority, _)| std::cmp::Reverse(*priority));
        v.into_iter().map(|(_, x)| x).collect()
    }
    fn name(&self) -> String {
        format!("FixedSizeSample({})", self.n)
    }
}

/// The SplitMix64 generator: one well-mixed 64-bit output per step, with a
/// state small enough to travel in a serialized accumulator.
#[inline]
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::combine_fn::combine_all;

    #[test]
    fn empty_input_gives_an_empty_sample() {
        assert!(combine_all(&SampleFn::<u8>::new(4), &[]).is_empty());
        assert!(combine_all(&SampleFn::new(0), &[1, 2]).is_empty());
    }

    #[test]
    fn small_inputs_are_sampled_whole() {
        let mut s = combine_all(&SampleFn::new(5), &[3, 1, 2]);
        s.sort();
        assert_eq!(s, vec![1, 2, 3]);
    }

    #[test]
    fn samples_distinct_occurrences_of_the_input() {
        let xs: Vec<u32> = (0..1000).collect();
        let mut s = combine_all(&SampleFn::new(10), &xs);
        assert_eq!(s.len(), 10);
        s.sort();
        s.dedup();
        assert_eq!(s.len(), 10, "an occurrence was picked twice");
        assert!(s.iter().all(|x| *x < 1000));
    }

    #[test]
    fn merged_accumulators_stay_bounded_and_keep_the_highest_priorities() {
        let f = SampleFn::<u32>::new(3);
        let mut total = f.create_accumulator();
        let mut all = Vec::new();
        for part in 0..5u32 {
            let mut acc = f.create_accumulator();
            for x in part * 10..part * 10 + 10 {
                f.add_input(&mut acc, &x);
            }
            all.extend(acc.heap.iter().map(|(p, _)| *p));
            f.merge_accumulators(&mut total, acc);
            assert!(total.heap.len() <= 3);
        }
        all.sort_unstable_by_key(|p| std::cmp::Reverse(*p));
        let mut kept: Vec<u64> = total.heap.iter().map(|(p, _)| *p).collect();
        kept.sort_unstable_by_key(|p| std::cmp::Reverse(*p));
        assert_eq!(kept, all[..3].to_vec());
    }

    #[test]
    fn every_element_is_about_equally_likely() {
        // 4000 samples of 1 out of 4: each value expected 1000 times
        // (standard deviation about 27); a biased heap or merge is far off.
        let f = SampleFn::<u8>::new(1);
        let mut hits = [0u32; 4];
        for trial in 0..4000 {
            let mut acc = f.create_accumulator();
            if trial % 2 == 0 {
                for x in 0..4u8 {
                    f.add_input(&mut acc, &x);
                }
            } else {
                let mut other = f.create_accumulator();
                f.add_input(&mut acc, &0);
                f.add_input(&mut acc, &1);
                f.add_input(&mut other, &2);
                f.add_input(&mut other, &3);
                f.merge_accumulators(&mut acc, other);
            }
            for x in f.extract_output(acc) {
                hits[x as usize] += 1;
            }
        }
        assert!(hits.iter().all(|h| (800..1200).contains(h)), "{hits:?}");
    }

    #[test]
    fn accumulators_draw_different_priorities() {
        let f = SampleFn::<u8>::new(1);
        let (mut a, mut b) = (f.create_accumulator(), f.create_accumulator());
        f.add_input(&mut a, &0);
        f.add_input(&mut b, &0);
        assert_ne!(a.heap[0].0, b.heap[0].0);
    }
}
