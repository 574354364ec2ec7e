//! `Sum`: adds numbers.

use crate::element::Element;
use crate::transforms::combine_fn::CombineFn;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;
use std::ops::Add;

/// Sums its inputs; use with `Combine::globally`, `per_key` or `grouped_values`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let s = p.apply(Create::new(vec![1.5f64, 2.5])).apply(Combine::globally(Sum::<f64>::new()));
/// assert_that(&s, contains_in_any_order(vec![4.0f64]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Sum<T>(PhantomData<fn() -> T>);

impl<T> Sum<T> {
    /// The combiner.
    pub fn new() -> Self {
        Sum(PhantomData)
    }
}

impl<T> Default for Sum<T> {
    fn default() -> Self {
        Sum::new()
    }
}

impl<T> Clone for Sum<T> {
    fn clone(&self) -> Self {
        Sum(PhantomData)
    }
}

impl<T: Element + Default + Copy + Add<Output = T>> CombineFn for Sum<T> {
    type In = T;
    type Acc = T;
    type Out = T;
    fn create_accumulator(&self) -> T {
        T::default()
    }
    #[inline]
    fn add_input(&self, acc: &mut T, x: &T) {
        *acc = *acc + *x;
    }
    fn merge_accumulators(&self, acc: &mut T, other: T) {
        *acc = *acc + other;
    }
    fn extract_output(&self, acc: T) -> T {
        acc
    }
    fn name(&self) -> String {
        "Sum".into()
    }
}
