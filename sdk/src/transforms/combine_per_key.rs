//! `CombinePerKey`: a per-key aggregation, lifted by runners that can.

use crate::element::Key;
use crate::graph::urns;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_values::CombineValues;
use crate::transforms::group_by_key::GroupByKey;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;

/// Combines the values of each key (per window) with a [`CombineFn`].
///
/// A composite of `GroupByKey` and `CombineValues`, marked with its own URN
/// (`beamline:transform:combine_per_key:v1`) so a runner may replace it by
/// pre-combining before the shuffle.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let s = p
///     .apply(Create::new(vec![("a".to_string(), 1i64), ("a".into(), 2), ("b".into(), 5)]))
///     .apply(Combine::per_key(Sum::<i64>::new()));
/// assert_that(&s, contains_in_any_order(vec![("a".to_string(), 3i64), ("b".to_string(), 5)]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct CombinePerKey<K, C> {
    c: C,
    _k: PhantomData<fn() -> K>,
}

impl<K: Key, C: CombineFn> CombinePerKey<K, C> {
    pub(crate) fn new(c: C) -> Self {
        CombinePerKey { c, _k: PhantomData }
    }
}

impl<K: Key, C: CombineFn + Serialize + DeserializeOwned> PTransform<PCollection<(K, C::In)>> for CombinePerKey<K, C> {
    type Output = PCollection<(K, C::Out)>;
    fn default_label(&self) -> String {
        format!("CombinePerKey({})", self.c.name())
    }
    fn expand(self, input: PCollection<(K, C::In)>) -> PCollection<(K, C::Out)> {
        let payload = crate::graph::to_payload(&self.c).unwrap_or_default();
        input.pipeline().mark_composite(
            urns::COMBINE_PER_KEY,
            Some(format!("combine:{}", std::any::type_name::<(K, C)>())),
            payload,
        );
        input.apply(GroupByKey::<K, C::In>::new()).apply_named("Combine", CombineValues::<K, C>::new(self.c))
    }
}
