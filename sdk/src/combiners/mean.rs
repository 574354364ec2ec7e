//! `Mean`: the arithmetic mean of numbers, as an `f64`.

use crate::element::{Element, Key};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_globally::CombineGlobally;
use crate::transforms::combine_per_key::CombinePerKey;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// A number [`Mean`] can average: converts itself to `f64`.
///
/// Implemented for every primitive integer and float type; 64- and 128-bit
/// integers beyond 2^53 lose precision, as they do in Beam's `Mean`.
///
/// # Examples
/// ```
/// use beamline::ToF64;
/// assert_eq!(7u8.to_f64(), 7.0);
/// assert_eq!((-2i64).to_f64(), -2.0);
/// ```
pub trait ToF64 {
    /// The value as an `f64`.
    fn to_f64(&self) -> f64;
}

macro_rules! to_f64 {
    ($($t:ty),*) => {
        $(impl ToF64 for $t {
            #[inline]
            fn to_f64(&self) -> f64 {
                *self as f64
            }
        })*
    };
}
to_f64!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

/// The mean of numeric inputs, as an `f64`; the accumulator is `(sum, count)`.
///
/// An empty input gives NaN (0/0), as in Beam. Remember that NaN is not
/// equal to itself when checking results.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let m = p.apply(Create::new(vec![1i64, 2, 6])).apply(Mean::globally());
/// assert_that(&m, contains_in_any_order(vec![3.0f64]));
/// let kv = p.apply_named("Pairs", Create::new(vec![("a".to_string(), 1.0f32), ("a".into(), 2.0), ("b".into(), 5.0)]));
/// assert_that(&kv.apply(Mean::per_key()), contains_in_any_order(vec![("a".to_string(), 1.5f64), ("b".to_string(), 5.0)]));
/// p.run().unwrap();
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Mean<T>(PhantomData<fn() -> T>);

impl<T> Clone for Mean<T> {
    fn clone(&self) -> Self {
        Mean(PhantomData)
    }
}

impl<T> Default for Mean<T> {
    fn default() -> Self {
        Mean(PhantomData)
    }
}

impl<T: Element + ToF64> Mean<T> {
    /// The combiner, for `Combine::globally`, `per_key` or `grouped_values`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p.apply(Create::new(vec![("k".to_string(), vec![1u32, 2])])).apply(Combine::grouped_values(Mean::new()));
    /// assert_that(&m, contains_in_any_order(vec![("k".to_string(), 1.5f64)]));
    /// p.run().unwrap();
    /// ```
    pub fn new() -> Self {
        Mean(PhantomData)
    }

    /// The mean of all elements per window (NaN for an empty global input).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p.apply(Create::new(Vec::<i32>::new())).apply(Mean::globally());
    /// assert_that(&m, satisfies(|xs: &[f64]| if xs.len() == 1 && xs[0].is_nan() { Ok(()) } else { Err(format!("{xs:?}")) }));
    /// p.run().unwrap();
    /// ```
    pub fn globally() -> CombineGlobally<Mean<T>> {
        CombineGlobally::new(Mean::new())
    }

    /// The mean of each key's values (per window): `(K, T)` into `(K, f64)`.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let m = p.apply(Create::new(vec![(1u8, 1i64), (1, 4)])).apply(Mean::per_key());
    /// assert_that(&m, contains_in_any_order(vec![(1u8, 2.5f64)]));
    /// p.run().unwrap();
    /// ```
    pub fn per_key<K: Key>() -> CombinePerKey<K, Mean<T>> {
        CombinePerKey::new(Mean::new())
    }
}

impl<T: Element + ToF64> CombineFn for Mean<T> {
    type In = T;
    type Acc = (f64, u64);
    type Out = f64;
    fn create_accumulator(&self) -> (f64, u64) {
        (0.0, 0)
    }
    #[inline]
    fn add_input(&self, acc: &mut (f64, u64), x: &T) {
        acc.0 += x.to_f64();
        acc.1 += 1;
    }
    fn merge_accumulators(&self, acc: &mut (f64, u64), other: (f64, u64)) {
        acc.0 += other.0;
        acc.1 += other.1;
    }
    fn extract_output(&self, (sum, count): (f64, u64)) -> f64 {
        if count == 0 {
            f64::NAN
        } else {
            sum / count as f64
        }
    }
    fn name(&self) -> String {
        "Mean".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::combine_fn::combine_all;

    #[test]
    fn empty_input_is_nan() {
        assert!(combine_all(&Mean::<i32>::new(), &[]).is_nan());
    }

    #[test]
    fn one_element_is_its_own_mean() {
        assert_eq!(combine_all(&Mean::<u64>::new(), &[42]), 42.0);
    }

    #[test]
    fn merged_accumulators_weigh_by_count() {
        let m = Mean::<i32>::new();
        let mut a = m.create_accumulator();
        m.add_input(&mut a, &10);
        let mut b = m.create_accumulator();
        for x in [1, 1, 1] {
            m.add_input(&mut b, &x);
        }
        m.merge_accumulators(&mut a, b);
        m.merge_accumulators(&mut a, m.create_accumulator());
        assert_eq!(m.extract_output(a), 13.0 / 4.0);
    }

    #[test]
    fn negative_and_float_inputs() {
        assert_eq!(combine_all(&Mean::<f32>::new(), &[-1.5, 0.5]), -0.5);
        assert_eq!(combine_all(&Mean::<i8>::new(), &[-128, 127]), -0.5);
    }
}
