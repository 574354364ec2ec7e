//! `Partition`: splits a PCollection into a fixed number of PCollections.

use crate::element::Element;
use crate::error::{DoFnError, Error};
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::pardo::ParDo;
use crate::transforms::tagged::TupleTag;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Chooses the partition of an element: an index below `num_partitions`.
///
/// Closures `Fn(&T, usize) -> usize` implement it (for [`Partition::new`]);
/// a named type that also derives `Serialize` and `Deserialize` makes a
/// portable step (for [`Partition::of`]).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct ByLength;
/// impl PartitionFn<String> for ByLength {
///     fn partition_for(&self, s: &String, num_partitions: usize) -> usize {
///         s.len().min(num_partitions - 1)
///     }
/// }
/// assert_eq!(ByLength.partition_for(&"abc".to_string(), 2), 1);
/// ```
pub trait PartitionFn<T>: Clone + Send + Sync + 'static {
    /// The partition of `element`, in `0..num_partitions`.
    fn partition_for(&self, element: &T, num_partitions: usize) -> usize;
}

impl<T, F: Fn(&T, usize) -> usize + Clone + Send + Sync + 'static> PartitionFn<T> for F {
    #[inline]
    fn partition_for(&self, element: &T, num_partitions: usize) -> usize {
        self(element, num_partitions)
    }
}

/// Splits a PCollection into `n` PCollections by a [`PartitionFn`].
///
/// The result is a `Vec` of length `n`; element `i` holds the elements the
/// function sent to partition `i`, with their timestamps and windows. The
/// expansion is one ParDo with `n - 1` tagged outputs. An index of `n` or
/// more fails the run with an error naming the step; `n == 0` is a
/// construction error.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let parts = p
///     .apply(Create::new(vec![1i64, 2, 3, 4, 5]))
///     .apply(Partition::new(3, |x: &i64, n: usize| (*x as usize) % n));
/// assert_that(&parts[0], contains_in_any_order(vec![3i64]));
/// assert_that(&parts[1], contains_in_any_order(vec![1i64, 4]));
/// assert_that(&parts[2], contains_in_any_order(vec![2i64, 5]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct Partition<T: Element, F: PartitionFn<T>> {
    n: usize,
    f: F,
    to_pardo: ToParDo<T, F>,
}

impl<T: Element, F: Fn(&T, usize) -> usize + Clone + Send + Sync + 'static> Partition<T, F> {
    /// Partitions with a closure; the step runs in-process only (it cannot
    /// be serialized to the portable graph).
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let parts = p
    ///     .apply(Create::new(vec!["a".to_string(), "bbb".into()]))
    ///     .apply(Partition::new(2, |s: &String, _n: usize| usize::from(s.len() > 1)));
    /// assert_that(&parts[1], contains_in_any_order(vec!["bbb".to_string()]));
    /// p.run().unwrap();
    /// ```
    pub fn new(n: usize, f: F) -> Self {
        Partition { n, f, to_pardo: ParDo::local }
    }
}

impl<T: Element, F: PartitionFn<T> + Serialize + DeserializeOwned> Partition<T, F> {
    /// Partitions with a named, serializable [`PartitionFn`]: a portable step.
    ///
    /// # Examples
    /// ```
    /// use beamline::prelude::*;
    /// #[derive(Clone, serde::Serialize, serde::Deserialize)]
    /// struct Percentile;
    /// impl PartitionFn<u32> for Percentile {
    ///     fn partition_for(&self, score: &u32, n: usize) -> usize {
    ///         (*score as usize * n / 100).min(n - 1)
    ///     }
    /// }
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let parts = p.apply(Create::new(vec![5u32, 55, 99])).apply(Partition::of(2, Percentile));
    /// assert_that(&parts[0], contains_in_any_order(vec![5u32]));
    /// assert_that(&parts[1], contains_in_any_order(vec![55u32, 99]));
    /// assert!(p.portable_graph_json().is_ok());
    /// p.run().unwrap();
    /// ```
    pub fn of(n: usize, f: F) -> Self {
        Partition { n, f, to_pardo: ParDo::of }
    }
}

impl<T: Element, F: PartitionFn<T>> PTransform<PCollection<T>> for Partition<T, F> {
    type Output = Vec<PCollection<T>>;
    fn default_label(&self) -> String {
        "Partition".into()
    }
    fn expand(self, input: PCollection<T>) -> Vec<PCollection<T>> {
        let p = input.pipeline().clone();
        if self.n == 0 {
            p.fail(Error::Construction(format!(
                "'{}' asks for 0 partitions; give Partition at least one",
                p.current_label()
            )));
            return Vec::new();
        }
        let tags: Vec<TupleTag<T>> = (1..self.n).map(|i| TupleTag::new(&format!("out{i}"))).collect();
        let pardo = (self.to_pardo)(PartitionDoFn { f: self.f, n: self.n, tags: tags.clone() });
        let Some((first, rest)) = tags.split_first() else {
            return vec![input.apply_named("ParDo(Partition)", pardo)];
        };
        let pardo = rest.iter().fold(pardo.with_output(first), |pd, tag| pd.with_output(tag));
        let outs = input.apply_named("ParDo(Partition)", pardo);
        std::iter::once(outs.main()).chain(tags.iter().map(|t| outs.get(t))).collect()
    }
}

/// `ParDo::of` (portable) or `ParDo::local` (closures).
type ToParDo<T, F> = fn(PartitionDoFn<T, F>) -> ParDo<PartitionDoFn<T, F>>;

/// Routes each element to the main output (partition 0) or tag `i - 1`.
#[derive(Serialize, Deserialize)]
#[serde(bound(serialize = "F: Serialize", deserialize = "F: DeserializeOwned"))]
struct PartitionDoFn<T, F> {
    f: F,
    n: usize,
    tags: Vec<TupleTag<T>>,
}

impl<T, F: Clone> Clone for PartitionDoFn<T, F> {
    fn clone(&self) -> Self {
        PartitionDoFn { f: self.f.clone(), n: self.n, tags: self.tags.clone() }
    }
}

impl<T: Element, F: PartitionFn<T>> DoFn for PartitionDoFn<T, F> {
    type In = T;
    type Out = T;
    #[inline]
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, T>) -> Result<(), DoFnError> {
        match self.f.partition_for(x, self.n) {
            0 => {
                ctx.emit(x.clone());
                Ok(())
            }
            i => match self.tags.get(i - 1) {
                Some(tag) => ctx.output(tag, x.clone()),
                None => Err(DoFnError::new(format!(
                    "the partition function returned {i}, but there are {} partitions (0..{})",
                    self.n, self.n
                ))),
            },
        }
    }
    fn name(&self) -> String {
        "Partition".into()
    }
}
