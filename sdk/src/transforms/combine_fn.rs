//! `CombineFn` and the `Combine` entry points.

use crate::element::{Element, Key};
use crate::transforms::combine_globally::CombineGlobally;
use crate::transforms::combine_per_key::CombinePerKey;
use crate::transforms::combine_values::CombineValues;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An associative, commutative aggregation through an accumulator.
///
/// A runner may add inputs to many accumulators in parallel and merge them
/// in any order (combiner lifting), so `merge_accumulators` must agree with
/// adding the inputs to one accumulator.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Longest;
/// impl CombineFn for Longest {
///     type In = String;
///     type Acc = String;
///     type Out = String;
///     fn create_accumulator(&self) -> String { String::new() }
///     fn add_input(&self, acc: &mut String, s: &String) { if s.len() > acc.len() { *acc = s.clone() } }
///     fn merge_accumulators(&self, acc: &mut String, o: String) { if o.len() > acc.len() { *acc = o } }
///     fn extract_output(&self, acc: String) -> String { acc }
/// }
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let l = p.apply(Create::new(vec!["a".to_string(), "ccc".into(), "bb".into()])).apply(Combine::globally(Longest));
/// assert_that(&l, contains_in_any_order(vec!["ccc".to_string()]));
/// p.run().unwrap();
/// ```
pub trait CombineFn: Clone + Send + Sync + 'static {
    /// Input type.
    type In: Element;
    /// Accumulator type.
    type Acc: Element;
    /// Output type.
    type Out: Element;
    /// A fresh, empty accumulator.
    fn create_accumulator(&self) -> Self::Acc;
    /// Adds one input.
    fn add_input(&self, acc: &mut Self::Acc, input: &Self::In);
    /// Merges `other` into `acc`.
    fn merge_accumulators(&self, acc: &mut Self::Acc, other: Self::Acc);
    /// The result of an accumulator.
    fn extract_output(&self, acc: Self::Acc) -> Self::Out;
    /// Shrinks an accumulator before it is shipped or stored.
    fn compact(&self, acc: Self::Acc) -> Self::Acc {
        acc
    }
    /// The name in default labels.
    fn name(&self) -> String {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base).to_string()
    }
}

/// Entry points of the combine transforms.
#[derive(Debug)]
pub struct Combine;

impl Combine {
    /// Combines all elements (per window) into one value; on empty input in
    /// the global window it yields the output of an empty accumulator.
    pub fn globally<C: CombineFn + Serialize + DeserializeOwned>(c: C) -> CombineGlobally<C> {
        CombineGlobally::new(c)
    }
    /// Combines the values of each key (per window).
    pub fn per_key<K: Key, C: CombineFn + Serialize + DeserializeOwned>(c: C) -> CombinePerKey<K, C> {
        CombinePerKey::new(c)
    }
    /// Combines already grouped values: `(K, Vec<In>)` into `(K, Out)`.
    pub fn grouped_values<K: Element, C: CombineFn + Serialize + DeserializeOwned>(c: C) -> CombineValues<K, C> {
        CombineValues::new(c)
    }
}

/// Runs a CombineFn over a whole group of inputs.
pub(crate) fn combine_all<C: CombineFn>(c: &C, inputs: &[C::In]) -> C::Out {
    let mut acc = c.create_accumulator();
    for i in inputs {
        c.add_input(&mut acc, i);
    }
    c.extract_output(c.compact(acc))
}
