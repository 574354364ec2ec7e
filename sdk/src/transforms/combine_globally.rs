//! `CombineGlobally`: one aggregate per window of the whole PCollection.

use crate::error::DoFnError;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::combine_fn::CombineFn;
use crate::transforms::combine_per_key::CombinePerKey;
use crate::transforms::dofn::{DoFn, ProcessContext};
use crate::transforms::flatten::{ApplyExt, Flatten};
use crate::transforms::impulse::Impulse;
use crate::transforms::pardo::ParDo;
use crate::transforms::side_input::ListView;
use crate::transforms::side_input::SideInput;
use crate::transforms::values::Values;
use crate::window::WindowFn;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Combines every element of each window into one value.
///
/// In the global window an empty input yields the combiner's empty result
/// (as Beam does); `without_defaults` turns that off, and it is off for
/// other windowings, where an empty window has no output.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let total = p.apply(Create::new(vec![1i64, 2, 3])).apply(Combine::globally(Sum::<i64>::new()));
/// assert_that(&total, contains_in_any_order(vec![6i64]));
/// let none = p.apply_named("Empty", Create::new(Vec::<i64>::new())).apply_named("SumEmpty", Combine::globally(Sum::<i64>::new()));
/// assert_that(&none, contains_in_any_order(vec![0i64]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct CombineGlobally<C> {
    c: C,
    defaults: bool,
}

impl<C: CombineFn> CombineGlobally<C> {
    pub(crate) fn new(c: C) -> Self {
        CombineGlobally { c, defaults: true }
    }
    /// No output for an empty input.
    pub fn without_defaults(mut self) -> Self {
        self.defaults = false;
        self
    }
}

/// Pairs each element with the unit key.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct KeyWithUnit<T>(PhantomData<fn() -> T>);

impl<T> Clone for KeyWithUnit<T> {
    fn clone(&self) -> Self {
        KeyWithUnit(PhantomData)
    }
}

impl<T: crate::Element> DoFn for KeyWithUnit<T> {
    type In = T;
    type Out = ((), T);
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, ((), T)>) -> Result<(), DoFnError> {
        ctx.emit(((), x.clone()));
        Ok(())
    }
    const MOVES_INPUT: bool = true;
    fn process_owned(&mut self, x: T, ctx: &mut ProcessContext<'_, ((), T)>) -> Result<(), DoFnError> {
        ctx.emit(((), x));
        Ok(())
    }
    fn name(&self) -> String {
        "KeyWithUnit".into()
    }
}

/// Emits the empty result when the combined side input is empty.
#[derive(Serialize, Deserialize)]
#[serde(bound(serialize = "C: Serialize", deserialize = "C: DeserializeOwned"))]
struct InjectDefault<C: CombineFn> {
    c: C,
    side: SideInput<ListView<C::Out>>,
}

impl<C: CombineFn> Clone for InjectDefault<C> {
    fn clone(&self) -> Self {
        InjectDefault { c: self.c.clone(), side: self.side.clone() }
    }
}

impl<C: CombineFn> DoFn for InjectDefault<C> {
    type In = ();
    type Out = C::Out;
    fn process(&mut self, _: &(), ctx: &mut ProcessContext<'_, C::Out>) -> Result<(), DoFnError> {
        if ctx.side_input(&self.side)?.is_empty() {
            let acc = self.c.create_accumulator();
            ctx.emit(self.c.extract_output(acc));
        }
        Ok(())
    }
    fn name(&self) -> String {
        "InjectDefault".into()
    }
}

impl<C: CombineFn + Serialize + DeserializeOwned> PTransform<PCollection<C::In>> for CombineGlobally<C> {
    type Output = PCollection<C::Out>;
    fn default_label(&self) -> String {
        format!("CombineGlobally({})", self.c.name())
    }
    fn expand(self, input: PCollection<C::In>) -> PCollection<C::Out> {
        let global = input.windowing().window_fn == WindowFn::Global;
        let combined = input
            .apply_named("KeyWithUnit", ParDo::of(KeyWithUnit::<C::In>(PhantomData)))
            .apply_named("CombinePerKey", CombinePerKey::<(), C>::new(self.c.clone()))
            .apply_named("Values", Values::new());
        if !(self.defaults && global && input.is_bounded()) {
            return combined;
        }
        let side = combined.as_list();
        let default = input.pipeline().apply_named("DoOnce", Impulse).apply_named(
            "InjectDefault",
            ParDo::of(InjectDefault { c: self.c, side: side.clone() }).with_side_input(&side),
        );
        vec![combined, default].apply_named("Flatten", Flatten::new())
    }
}
