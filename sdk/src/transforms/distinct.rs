//! `Distinct`: each distinct element once per window.

use crate::combiners::count::PairWithUnit;
use crate::element::Key;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_per_key::CombinePerKey;
use crate::transforms::keys::Keys;
use crate::transforms::pardo::ParDo;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Removes duplicates: each distinct element once per window.
///
/// As in Beam, a composite: elements become keys (paired with `()`), a
/// per-key combine that keeps nothing (lifted by runners that pre-combine,
/// so duplicates vanish before the shuffle), then `Keys`. Outputs carry the
/// timestamp a `GroupByKey` gives (by default the end of their window).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let d = p.apply(Create::new(vec!["a".to_string(), "b".into(), "a".into()])).apply(Distinct::new());
/// assert_that(&d, contains_in_any_order(vec!["a".to_string(), "b".to_string()]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct Distinct<T>(PhantomData<fn() -> T>);

impl<T: Key> Distinct<T> {
    /// The transform.
    pub fn new() -> Self {
        Distinct(PhantomData)
    }
}

impl<T: Key> Default for Distinct<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Key> PTransform<PCollection<T>> for Distinct<T> {
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "Distinct".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<T> {
        input
            .apply_named("PairWithUnit", ParDo::of(PairWithUnit::<T>(PhantomData)))
            .apply_named("CombinePerKey", CombinePerKey::<T, KeepNothing>::new(KeepNothing))
            .apply_named("Keys", Keys::new())
    }
}

/// Combines a key's `()` values into `()`: only the key survives.
#[derive(Clone, Serialize, Deserialize)]
struct KeepNothing;

impl CombineFn for KeepNothing {
    type In = ();
    type Acc = ();
    type Out = ();
    fn create_accumulator(&self) {}
    #[inline]
    fn add_input(&self, _: &mut (), _: &()) {}
    fn merge_accumulators(&self, _: &mut (), _: ()) {}
    fn extract_output(&self, _: ()) {}
    fn name(&self) -> String {
        "KeepNothing".into()
    }
}
