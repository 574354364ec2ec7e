//! `Reshuffle`: redistributes elements among workers, keeping each element's
//! timestamp and window.

use crate::element::Element;
use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::time::Timestamp;
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::group_by_key::GroupByKey;
use crate::transforms::pardo::ParDo;
use crate::window::Window;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::hash::BuildHasher;
use std::marker::PhantomData;

/// The key elements are shuffled by: a random shard and the element's window.
type ShardKey = (u32, Window);

/// Redistributes the elements of a PCollection (Beam's `Reshuffle.viaRandomKey`).
///
/// The contents are unchanged and every element keeps its timestamp and its
/// window; only which worker holds it changes, which breaks fusion (so a
/// fan-out such as a `FlatMap` that multiplies elements is spread over all
/// workers) and checkpoints the data on runners that persist shuffles.
///
/// The expansion, as in Beam: each element gets a random shard key and its
/// timestamp in the value (`AddRandomKeys`), a `GroupByKey` moves it, and
/// `RestoreOriginalTimestamps` emits the values with their own timestamps.
/// The key also holds the element's window, so merging windows (sessions)
/// never merge different elements' windows inside the shuffle.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p.apply(Create::timestamped(vec![("a".to_string(), Timestamp::from_secs(3))]));
/// let moved = xs.apply(Reshuffle::new());
/// assert_that(&moved, contains_in_any_order(vec!["a".to_string()]));
/// p.run().unwrap();
/// ```
#[derive(Debug, Default, Clone, Copy)]
#[must_use = "a transform does nothing until applied"]
pub struct Reshuffle {
    buckets: Option<u32>,
}

impl Reshuffle {
    /// Reshuffles by a random 32-bit key per element, as Beam does.
    pub fn new() -> Self {
        Reshuffle { buckets: None }
    }

    /// Uses only `n` random keys (at least 1): fewer, larger groups, which is
    /// cheaper to shuffle when `n` stays well above the number of workers.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let xs = p.apply(Create::new((0..100u32).collect::<Vec<_>>())).apply(Reshuffle::new().with_num_buckets(4));
    /// assert_that(&xs, contains_in_any_order((0..100u32).collect::<Vec<_>>()));
    /// p.run().unwrap();
    /// ```
    pub fn with_num_buckets(mut self, n: u32) -> Self {
        self.buckets = Some(n.max(1));
        self
    }
}

impl<T: Element> PTransform<PCollection<T>> for Reshuffle {
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "Reshuffle".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<T> {
        input
            .apply_named(
                "AddRandomKeys",
                ParDo::of(AddRandomKeys::<T> { buckets: self.buckets, rng: None, _t: PhantomData }),
            )
            .apply_named("GroupByKey", GroupByKey::<ShardKey, (T, Timestamp)>::new())
            .apply_named("RestoreOriginalTimestamps", ParDo::of(RestoreOriginalTimestamps::<T>(PhantomData)))
    }
}

/// Keys each element by a random shard and its window, keeping its timestamp in the value.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct AddRandomKeys<T> {
    buckets: Option<u32>,
    /// Seeded per instance in `setup`, so clones on different workers differ.
    #[serde(skip)]
    rng: Option<SmallRng>,
    #[serde(skip)]
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for AddRandomKeys<T> {
    fn clone(&self) -> Self {
        AddRandomKeys { buckets: self.buckets, rng: None, _t: PhantomData }
    }
}

impl<T: Element> DoFn for AddRandomKeys<T> {
    type In = T;
    type Out = (ShardKey, (T, Timestamp));
    fn setup(&mut self) -> Result<(), DoFnError> {
        self.rng = Some(SmallRng::seed_from_u64(random_seed()));
        Ok(())
    }
    #[inline]
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError> {
        let rng = self.rng.get_or_insert_with(|| SmallRng::seed_from_u64(random_seed()));
        let shard = match self.buckets {
            Some(n) => rng.random_range(0..n),
            None => rng.random(),
        };
        let (timestamp, window) = (ctx.timestamp(), ctx.window());
        ctx.emit(((shard, window), (x.clone(), timestamp)));
        Ok(())
    }
    fn name(&self) -> String {
        "AddRandomKeys".into()
    }
}

/// Emits every value of a group with its original timestamp (in the group's
/// window, which is the element's own).
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct RestoreOriginalTimestamps<T>(PhantomData<fn() -> T>);

impl<T> Clone for RestoreOriginalTimestamps<T> {
    fn clone(&self) -> Self {
        RestoreOriginalTimestamps(PhantomData)
    }
}

impl<T: Element> DoFn for RestoreOriginalTimestamps<T> {
    type In = (ShardKey, Vec<(T, Timestamp)>);
    type Out = T;
    #[inline]
    fn process(&mut self, (_, values): &Self::In, ctx: &mut ProcessContext<'_, T>) -> Result<(), DoFnError> {
        for (x, timestamp) in values {
            ctx.emit_with_timestamp(x.clone(), *timestamp);
        }
        Ok(())
    }
    fn name(&self) -> String {
        "RestoreOriginalTimestamps".into()
    }
}

/// A fresh random 64-bit seed from the operating system's entropy (through
/// std's `RandomState`, seeded from it once per thread and different on
/// every call). The workspace builds `rand` without its OS-entropy features.
pub(crate) fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_between_calls() {
        assert_ne!(random_seed(), random_seed());
    }

    #[test]
    fn keys_carry_window_and_bucket_and_values_their_timestamp() {
        let mut f = AddRandomKeys::<u8> { buckets: Some(3), rng: None, _t: PhantomData };
        f.setup().unwrap();
        let window = Window::interval(Timestamp::from_secs(0), Timestamp::from_secs(10));
        let mut main = Vec::new();
        let mut metrics = crate::metrics::MetricsContainer::default();
        for i in 0..200u8 {
            let mut ctx = ProcessContext {
                main: &mut main,
                tagged: &mut [],
                tag_keys: &[],
                timestamp: Timestamp::from_secs(i64::from(i % 10)),
                window: &window,
                pane: crate::PaneInfo::NO_FIRING,
                metrics: &mut metrics,
                sides: &[],
                side_keys: &[],
                spill: None,
            };
            f.process(&i, &mut ctx).unwrap();
        }
        assert_eq!(main.len(), 200);
        for (i, wv) in main.iter().enumerate() {
            let ((shard, w), (x, ts)) = &wv.value;
            assert!(*shard < 3 && *w == window && usize::from(*x) == i);
            assert_eq!(*ts, Timestamp::from_secs(i64::from(*x % 10)));
        }
        let shards: std::collections::HashSet<u32> = main.iter().map(|wv| wv.value.0 .0).collect();
        assert_eq!(shards.len(), 3, "200 draws should hit every one of 3 buckets");
    }
}
