//! `CoGroupByKey`: joins several keyed PCollections by key.
//!
//! The n-way form takes a [`KeyedPCollections`] (Beam Java's
//! `KeyedPCollectionTuple`) and gives a [`CoGbkResult`] per key, read by
//! [`TupleTag`]; a pair of PCollections gives typed `(Vec<V1>, Vec<V2>)`.

use crate::coder::{to_bytes, Coder, SerdeCoder};
use crate::element::{Element, Key};
use crate::error::{DoFnError, Error};
use crate::pipeline::{PCollection, PTransform, PValue, Pipeline};
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::flatten::{ApplyExt, Flatten};
use crate::transforms::group_by_key::GroupByKey;
use crate::transforms::pardo::ParDo;
use crate::transforms::tagged::TupleTag;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// A value of input number `.0`, encoded with postcard.
type UnionValue = (u32, Vec<u8>);

/// Applies the tagging ParDo to one input: given the input's number and the step's label.
type TagValuesFn<K> = Box<dyn FnOnce(u32, &str) -> PCollection<(K, UnionValue)>>;

/// The types a two-way join's helper DoFns are generic over.
type PairTypes<K, V1, V2> = PhantomData<fn() -> (K, V1, V2)>;

/// Groups several keyed PCollections by key, per window (Beam's `CoGroupByKey`).
///
/// Applied to a [`KeyedPCollections`], it gives `(K, CoGbkResult)` for every
/// key present in any input; [`CoGbkResult::get`] returns the values an
/// input has for the key, an empty `Vec` if it has none. Applied to a pair
/// of PCollections `(PCollection<(K, V1)>, PCollection<(K, V2)>)` it gives
/// typed `(K, (Vec<V1>, Vec<V2>))`.
///
/// The expansion is Beam's: each input's values are tagged with the input's
/// number (and, in the n-way form, encoded, as their types differ), the
/// tagged inputs are flattened, grouped by key, and split back per input.
/// The inputs must share their windowing. Order within a `Vec` is unspecified.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let emails = p.apply_named("Emails", Create::new(vec![("amy".to_string(), "amy@example.com".to_string())]));
/// let phones = p.apply_named("Phones", Create::new(vec![("amy".to_string(), 111u32), ("bob".into(), 222)]));
/// let (emails_tag, phones_tag) = (TupleTag::<String>::new("emails"), TupleTag::<u32>::new("phones"));
/// let joined = KeyedPCollections::new()
///     .and(&emails_tag, &emails)
///     .and(&phones_tag, &phones)
///     .apply(CoGroupByKey::new());
/// let rows = joined.apply(ParDo::of(Rows { emails: emails_tag, phones: phones_tag }));
/// assert_that(
///     &rows,
///     contains_in_any_order(vec![
///         ("amy".to_string(), vec!["amy@example.com".to_string()], vec![111u32]),
///         ("bob".to_string(), vec![], vec![222]),
///     ]),
/// );
/// p.run().unwrap();
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Rows { emails: TupleTag<String>, phones: TupleTag<u32> }
/// impl DoFn for Rows {
///     type In = (String, CoGbkResult);
///     type Out = (String, Vec<String>, Vec<u32>);
///     fn process(&mut self, (k, r): &Self::In, ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError> {
///         ctx.emit((k.clone(), r.try_get(&self.emails)?, r.try_get(&self.phones)?));
///         Ok(())
///     }
/// }
/// ```
#[derive(Debug, Default, Clone, Copy)]
#[must_use = "a transform does nothing until applied"]
pub struct CoGroupByKey;

impl CoGroupByKey {
    /// The transform.
    pub fn new() -> Self {
        CoGroupByKey
    }
}

/// Keyed PCollections with the [`TupleTag`] of each, the input of [`CoGroupByKey`].
///
/// All must have the same key type `K` and the same windowing; their value
/// types may differ. Tag names must be unique within one group.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let a = p.apply_named("A", Create::new(vec![(1u8, 'x')]));
/// let b = p.apply_named("B", Create::new(vec![(1u8, 2.5f64)]));
/// let (ta, tb) = (TupleTag::<char>::new("a"), TupleTag::<f64>::new("b"));
/// let group = KeyedPCollections::new().and(&ta, &a).and(&tb, &b);
/// assert_eq!(group.len(), 2);
/// let counts = group
///     .apply(CoGroupByKey::new())
///     .apply(Map::new(move |(k, r): &(u8, CoGbkResult)| (*k, r.get(&ta).len(), r.get(&tb).len())));
/// assert_that(&counts, contains_in_any_order(vec![(1u8, 1usize, 1usize)]));
/// p.run().unwrap();
/// ```
#[must_use = "apply CoGroupByKey to it"]
pub struct KeyedPCollections<K> {
    inputs: Vec<KeyedInput<K>>,
}

/// One input: its tag name, its PCollection, and how to tag its values.
struct KeyedInput<K> {
    tag: String,
    id: String,
    pipeline: Pipeline,
    tag_values: TagValuesFn<K>,
}

impl<K: Key> KeyedPCollections<K> {
    /// An empty group; add inputs with [`KeyedPCollections::and`].
    pub fn new() -> Self {
        KeyedPCollections { inputs: Vec::new() }
    }

    /// Adds `pcoll`, whose values [`CoGbkResult::get`] returns for `tag`.
    pub fn and<V: Element>(mut self, tag: &TupleTag<V>, pcoll: &PCollection<(K, V)>) -> Self {
        let input = pcoll.clone();
        self.inputs.push(KeyedInput {
            tag: tag.name().to_string(),
            id: pcoll.id().to_string(),
            pipeline: pcoll.pipeline().clone(),
            tag_values: Box::new(move |index, label| {
                input.apply_named(label, ParDo::of(EncodeWithIndex::<K, V> { index, _t: PhantomData }))
            }),
        });
        self
    }

    /// How many inputs the group has.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether the group has no input.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}

impl<K: Key> Default for KeyedPCollections<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> PValue for KeyedPCollections<K> {
    fn ids(&self) -> Vec<String> {
        self.inputs.iter().map(|i| i.id.clone()).collect()
    }
    fn pipeline(&self) -> Option<Pipeline> {
        self.inputs.first().map(|i| i.pipeline.clone())
    }
}

impl<K> ApplyExt for KeyedPCollections<K> {}

impl<K: Key> PTransform<KeyedPCollections<K>> for CoGroupByKey {
    type Output = PCollection<(K, CoGbkResult)>;
    fn default_label(&self) -> String {
        "CoGroupByKey".into()
    }
    fn expand(self, input: KeyedPCollections<K>) -> PCollection<(K, CoGbkResult)> {
        let p = input.inputs[0].pipeline.clone();
        let tags: Vec<String> = input.inputs.iter().map(|i| i.tag.clone()).collect();
        for (i, t) in tags.iter().enumerate() {
            if tags[..i].contains(t) {
                p.fail(Error::Construction(format!(
                    "'{}' has two inputs tagged '{t}'; give each input of a CoGroupByKey its own tag name",
                    p.current_label()
                )));
            }
        }
        let tagged: Vec<PCollection<(K, UnionValue)>> = input
            .inputs
            .into_iter()
            .zip(0u32..)
            .map(|(i, index)| (i.tag_values)(index, &format!("Tag({})", i.tag)))
            .collect();
        tagged
            .apply_named("Flatten", Flatten::new())
            .apply_named("GroupByKey", GroupByKey::<K, UnionValue>::new())
            .apply_named("ConstructCoGbkResult", ParDo::of(ConstructResult::<K> { tags, _k: PhantomData }))
    }
}

/// The values each input of a [`CoGroupByKey`] has for one key.
///
/// Values are held encoded (the inputs' types differ) and decoded by
/// [`CoGbkResult::get`] with the type of the input's [`TupleTag`].
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let a = p.apply(Create::new(vec![("k".to_string(), 1i32), ("k".into(), 2)]));
/// let tag = TupleTag::<i32>::new("a");
/// let missing = TupleTag::<i32>::new("nope");
/// let sums = KeyedPCollections::new()
///     .and(&tag, &a)
///     .apply(CoGroupByKey::new())
///     .apply(Map::new(move |(_, r): &(String, CoGbkResult)| {
///         (r.get(&tag).iter().sum::<i32>(), r.try_get(&missing).is_err())
///     }));
/// assert_that(&sums, contains_in_any_order(vec![(3, true)]));
/// p.run().unwrap();
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct CoGbkResult {
    tags: Vec<String>,
    values: Vec<Vec<Vec<u8>>>,
}

impl CoGbkResult {
    /// The values of the input tagged `tag` (empty if it has none for this key).
    ///
    /// # Panics
    /// If no input has this tag, or its values do not decode as `V` (both
    /// programming errors); use [`CoGbkResult::try_get`] to get an error instead.
    pub fn get<V: Element>(&self, tag: &TupleTag<V>) -> Vec<V> {
        self.try_get(tag).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`CoGbkResult::get`], with an error (for `?` in a DoFn) when no
    /// input has this tag or its values do not decode as `V`.
    pub fn try_get<V: Element>(&self, tag: &TupleTag<V>) -> Result<Vec<V>, DoFnError> {
        let i = self.tags.iter().position(|t| t == tag.name()).ok_or_else(|| {
            DoFnError::new(format!(
                "CoGroupByKey has no input tagged '{}' (its tags: {})",
                tag.name(),
                self.tags.join(", ")
            ))
        })?;
        let coder = SerdeCoder::<V>::new();
        self.values[i]
            .iter()
            .map(|bytes| {
                coder.decode(bytes).map_err(|e| {
                    DoFnError::new(format!(
                        "values tagged '{}' do not decode as {}: {e}",
                        tag.name(),
                        std::any::type_name::<V>()
                    ))
                })
            })
            .collect()
    }
}

impl fmt::Debug for CoGbkResult {
    /// Shows how many values each input has (the values are encoded).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (t, vs) in self.tags.iter().zip(&self.values) {
            m.entry(t, &format_args!("{} values", vs.len()));
        }
        m.finish()
    }
}

/// Tags each value of input `index`: `(K, V)` into `(K, (index, bytes))`.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct EncodeWithIndex<K, V> {
    index: u32,
    #[serde(skip)]
    _t: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for EncodeWithIndex<K, V> {
    fn clone(&self) -> Self {
        EncodeWithIndex { index: self.index, _t: PhantomData }
    }
}

impl<K: Element, V: Element> DoFn for EncodeWithIndex<K, V> {
    type In = (K, V);
    type Out = (K, UnionValue);
    #[inline]
    fn process(&mut self, (k, v): &(K, V), ctx: &mut ProcessContext<'_, (K, UnionValue)>) -> Result<(), DoFnError> {
        let bytes = to_bytes(v).map_err(|e| DoFnError::new(format!("cannot encode the value: {e}")))?;
        ctx.emit((k.clone(), (self.index, bytes)));
        Ok(())
    }
    fn name(&self) -> String {
        "MakeUnionTable".into()
    }
}

/// Splits a key's tagged values into one list per input.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct ConstructResult<K> {
    tags: Vec<String>,
    #[serde(skip)]
    _k: PhantomData<fn() -> K>,
}

impl<K> Clone for ConstructResult<K> {
    fn clone(&self) -> Self {
        ConstructResult { tags: self.tags.clone(), _k: PhantomData }
    }
}

impl<K: Element> DoFn for ConstructResult<K> {
    type In = (K, Vec<UnionValue>);
    type Out = (K, CoGbkResult);
    fn process(&mut self, (k, vs): &Self::In, ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError> {
        let mut values: Vec<Vec<Vec<u8>>> = vec![Vec::new(); self.tags.len()];
        for (index, bytes) in vs {
            let slot = values.get_mut(*index as usize).ok_or_else(|| {
                DoFnError::new(format!("a value is tagged with input {index}, but there are {}", self.tags.len()))
            })?;
            slot.push(bytes.clone());
        }
        ctx.emit((k.clone(), CoGbkResult { tags: self.tags.clone(), values }));
        Ok(())
    }
    fn name(&self) -> String {
        "ConstructCoGbkResult".into()
    }
}

/// A value of the first or the second input of a typed two-way join.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum EitherInput<A, B> {
    First(A),
    Second(B),
}

impl<K: Key, V1: Element, V2: Element> PTransform<(PCollection<(K, V1)>, PCollection<(K, V2)>)> for CoGroupByKey {
    type Output = PCollection<(K, (Vec<V1>, Vec<V2>))>;
    fn default_label(&self) -> String {
        "CoGroupByKey".into()
    }
    fn expand(self, (first, second): (PCollection<(K, V1)>, PCollection<(K, V2)>)) -> Self::Output {
        let first = first.apply_named("Tag(0)", ParDo::of(TagFirst::<K, V1, V2>(PhantomData)));
        let second = second.apply_named("Tag(1)", ParDo::of(TagSecond::<K, V1, V2>(PhantomData)));
        vec![first, second]
            .apply_named("Flatten", Flatten::new())
            .apply_named("GroupByKey", GroupByKey::<K, EitherInput<V1, V2>>::new())
            .apply_named("ConstructCoGbkResult", ParDo::of(SplitPair::<K, V1, V2>(PhantomData)))
    }
}

/// Wraps the values of the first input.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct TagFirst<K, V1, V2>(PairTypes<K, V1, V2>);

impl<K, V1, V2> Clone for TagFirst<K, V1, V2> {
    fn clone(&self) -> Self {
        TagFirst(PhantomData)
    }
}

impl<K: Element, V1: Element, V2: Element> DoFn for TagFirst<K, V1, V2> {
    type In = (K, V1);
    type Out = (K, EitherInput<V1, V2>);
    #[inline]
    fn process(&mut self, (k, v): &(K, V1), ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError> {
        ctx.emit((k.clone(), EitherInput::First(v.clone())));
        Ok(())
    }
    fn name(&self) -> String {
        "MakeUnionTable".into()
    }
}

/// Wraps the values of the second input.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct TagSecond<K, V1, V2>(PairTypes<K, V1, V2>);

impl<K, V1, V2> Clone for TagSecond<K, V1, V2> {
    fn clone(&self) -> Self {
        TagSecond(PhantomData)
    }
}

impl<K: Element, V1: Element, V2: Element> DoFn for TagSecond<K, V1, V2> {
    type In = (K, V2);
    type Out = (K, EitherInput<V1, V2>);
    #[inline]
    fn process(&mut self, (k, v): &(K, V2), ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError> {
        ctx.emit((k.clone(), EitherInput::Second(v.clone())));
        Ok(())
    }
    fn name(&self) -> String {
        "MakeUnionTable".into()
    }
}

/// Splits a key's wrapped values into the two inputs' lists.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct SplitPair<K, V1, V2>(PairTypes<K, V1, V2>);

impl<K, V1, V2> Clone for SplitPair<K, V1, V2> {
    fn clone(&self) -> Self {
        SplitPair(PhantomData)
    }
}

impl<K: Element, V1: Element, V2: Element> DoFn for SplitPair<K, V1, V2> {
    type In = (K, Vec<EitherInput<V1, V2>>);
    type Out = (K, (Vec<V1>, Vec<V2>));
    fn process(&mut self, (k, vs): &Self::In, ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError> {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for v in vs {
            match v {
                EitherInput::First(x) => a.push(x.clone()),
                EitherInput::Second(x) => b.push(x.clone()),
            }
        }
        ctx.emit((k.clone(), (a, b)));
        Ok(())
    }
    fn name(&self) -> String {
        "ConstructCoGbkResult".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> CoGbkResult {
        CoGbkResult {
            tags: vec!["a".into(), "b".into()],
            values: vec![vec![to_bytes(&7i32).unwrap(), to_bytes(&8i32).unwrap()], vec![]],
        }
    }

    #[test]
    fn get_decodes_with_the_tags_type() {
        assert_eq!(result().get(&TupleTag::<i32>::new("a")), vec![7, 8]);
        assert_eq!(result().get(&TupleTag::<String>::new("b")), Vec::<String>::new());
    }

    #[test]
    fn an_unknown_tag_is_an_error_listing_the_tags() {
        let e = result().try_get(&TupleTag::<i32>::new("c")).unwrap_err().to_string();
        assert!(e.contains("no input tagged 'c'") && e.contains("a, b"), "{e}");
    }

    #[test]
    fn a_wrong_type_is_an_error_naming_the_tag() {
        let e = result().try_get(&TupleTag::<String>::new("a")).unwrap_err().to_string();
        assert!(e.contains("tagged 'a'") && e.contains("String"), "{e}");
    }

    #[test]
    fn debug_shows_counts_per_tag() {
        assert_eq!(format!("{:?}", result()), r#"{"a": 2 values, "b": 0 values}"#);
    }

    #[test]
    fn round_trips_through_its_coder() {
        let c = SerdeCoder::<CoGbkResult>::new();
        let mut buf = Vec::new();
        c.encode(&result(), &mut buf).unwrap();
        assert_eq!(c.decode(&buf).unwrap().get(&TupleTag::<i32>::new("a")), vec![7, 8]);
    }
}
