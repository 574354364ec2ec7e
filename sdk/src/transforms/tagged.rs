//! Tagged (multiple) outputs of a ParDo.

use crate::element::Element;
use crate::pipeline::{PCollection, PValue, Pipeline};
use std::marker::PhantomData;

/// Names an extra output of a ParDo and its element type.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// #[derive(Clone)]
/// struct Route { odd: TupleTag<i64> }
/// impl DoFn for Route {
///     type In = i64;
///     type Out = i64;
///     fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
///         if x % 2 == 0 { ctx.emit(*x); Ok(()) } else { ctx.output(&self.odd, *x) }
///     }
/// }
/// let odd = TupleTag::<i64>::new("odd");
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let out = p.apply(Create::new(vec![1i64, 2, 3])).apply(ParDo::local(Route { odd: odd.clone() }).with_output(&odd));
/// assert_that(&out.main(), contains_in_any_order(vec![2]));
/// assert_that(&out.get(&odd), contains_in_any_order(vec![1, 3]));
/// p.run().unwrap();
/// ```
pub struct TupleTag<T> {
    pub(crate) name: String,
    /// The name's fixed hash: what a DoFn's output is found by, per element.
    pub(crate) key: u64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for TupleTag<T> {
    fn clone(&self) -> Self {
        TupleTag { name: self.name.clone(), key: self.key, _t: PhantomData }
    }
}

impl<T> std::fmt::Debug for TupleTag<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TupleTag({})", self.name)
    }
}

impl<T> TupleTag<T> {
    /// A new tag; the name (unique within one ParDo) becomes part of the output's id.
    pub fn new(name: &str) -> Self {
        TupleTag { name: name.to_string(), key: crate::key_hash(name), _t: PhantomData }
    }
    /// The tag's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

// A tag is only its name, whatever `T` is.
impl<T> serde::Serialize for TupleTag<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.name.serialize(s)
    }
}
impl<'de, T> serde::Deserialize<'de> for TupleTag<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(TupleTag { key: crate::key_hash(name.as_str()), name, _t: PhantomData })
    }
}

/// The outputs of a ParDo with tagged outputs.
pub struct TaggedOutputs<O> {
    pub(crate) main: PCollection<O>,
    pub(crate) tagged: Vec<(String, String)>,
}

impl<O: Element> TaggedOutputs<O> {
    /// The main output.
    pub fn main(&self) -> PCollection<O> {
        self.main.clone()
    }
    /// The output of `tag`.
    ///
    /// # Panics
    /// If `tag` was not declared on this ParDo (a programming error).
    pub fn get<T: Element>(&self, tag: &TupleTag<T>) -> PCollection<T> {
        let (_, id) = self
            .tagged
            .iter()
            .find(|(name, _)| *name == tag.name)
            .unwrap_or_else(|| panic!("tag '{}' was not declared with with_output on this ParDo", tag.name));
        PCollection::from_id(self.main.pipeline(), id)
    }
}

impl<O> PValue for TaggedOutputs<O> {
    fn ids(&self) -> Vec<String> {
        let mut v = self.main.ids();
        v.extend(self.tagged.iter().map(|(_, id)| id.clone()));
        v
    }
    fn pipeline(&self) -> Option<Pipeline> {
        self.main.pipeline_handle()
    }
}
