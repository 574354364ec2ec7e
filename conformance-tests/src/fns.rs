//! Small portable DoFns and CombineFns the tests share.
//!
//! They derive serde so every pipeline built from them has a portable graph
//! and also runs through the `+graph` round trip.

use beamline::prelude::*;
use beamline::Window;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Emits `(element, timestamp, window)`: makes event time and windows assertable.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct Reify<T>(PhantomData<fn() -> T>);

impl<T: Element> DoFn for Reify<T> {
    type In = T;
    type Out = (T, Timestamp, Window);
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, (T, Timestamp, Window)>) -> Result<(), DoFnError> {
        let (ts, w) = (ctx.timestamp(), ctx.window());
        ctx.emit((x.clone(), ts, w));
        Ok(())
    }
    fn name(&self) -> String {
        "Reify".into()
    }
}

/// `ParDo::of(Reify)`.
pub(crate) fn reify<T: Element>() -> ParDo<Reify<T>> {
    ParDo::of(Reify(PhantomData))
}

/// Emits `(element, window)`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct WithWindow<T>(PhantomData<fn() -> T>);

impl<T: Element> DoFn for WithWindow<T> {
    type In = T;
    type Out = (T, Window);
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, (T, Window)>) -> Result<(), DoFnError> {
        let w = ctx.window();
        ctx.emit((x.clone(), w));
        Ok(())
    }
    fn name(&self) -> String {
        "WithWindow".into()
    }
}

/// `ParDo::of(WithWindow)`.
pub(crate) fn with_window<T: Element>() -> ParDo<WithWindow<T>> {
    ParDo::of(WithWindow(PhantomData))
}

/// Adds `n` to every number.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AddN {
    pub(crate) n: i64,
}

impl DoFn for AddN {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit(x + self.n);
        Ok(())
    }
}

/// Keys a number by its remainder: `x` into `(x mod k, x)`.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct ModKey {
    pub(crate) k: i64,
}

impl DoFn for ModKey {
    type In = i64;
    type Out = (i64, i64);
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, (i64, i64)>) -> Result<(), DoFnError> {
        ctx.emit((x.rem_euclid(self.k), *x));
        Ok(())
    }
}

/// Sorts the values of a group, so grouped output can be compared.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct SortGroup<K, V>(PhantomData<fn() -> (K, V)>);

impl<K: Element, V: Element + Ord> DoFn for SortGroup<K, V> {
    type In = (K, Vec<V>);
    type Out = (K, Vec<V>);
    fn process(&mut self, kv: &(K, Vec<V>), ctx: &mut ProcessContext<'_, (K, Vec<V>)>) -> Result<(), DoFnError> {
        let mut vs = kv.1.clone();
        vs.sort();
        ctx.emit((kv.0.clone(), vs));
        Ok(())
    }
    fn name(&self) -> String {
        "SortGroup".into()
    }
}

/// `ParDo::of(SortGroup)`.
pub(crate) fn sort_group<K: Element, V: Element + Ord>() -> ParDo<SortGroup<K, V>> {
    ParDo::of(SortGroup(PhantomData))
}

/// Emits `per_seed` key-value pairs for each seed `s`: `(key(i), s * per_seed + i)`,
/// where the key is `i mod keys`. Generates large inputs without a large `Create`.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Generate {
    pub(crate) per_seed: u64,
    pub(crate) keys: u64,
}

impl DoFn for Generate {
    type In = u64;
    type Out = (u64, u64);
    fn process(&mut self, s: &u64, ctx: &mut ProcessContext<'_, (u64, u64)>) -> Result<(), DoFnError> {
        for i in 0..self.per_seed {
            ctx.emit((i % self.keys, s * self.per_seed + i));
        }
        Ok(())
    }
}

/// A group's summary: `(key, count, sum, min, max)`.
pub(crate) type GroupSummary = (u64, u64, u64, u64, u64);

/// Summarizes each group of numbers; checks large groups without shipping them to an assertion.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Summarize;

impl DoFn for Summarize {
    type In = (u64, Vec<u64>);
    type Out = GroupSummary;
    fn process(&mut self, kv: &(u64, Vec<u64>), ctx: &mut ProcessContext<'_, GroupSummary>) -> Result<(), DoFnError> {
        let vs = &kv.1;
        let (min, max) = (vs.iter().copied().min().unwrap_or(0), vs.iter().copied().max().unwrap_or(0));
        ctx.emit((kv.0, vs.len() as u64, vs.iter().sum(), min, max));
        Ok(())
    }
}

/// Fails on the element `on`, returning an error with `message`.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct FailOn {
    pub(crate) on: i64,
    pub(crate) message: String,
}

impl DoFn for FailOn {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        if *x == self.on {
            return Err(DoFnError::new(&self.message));
        }
        ctx.emit(*x);
        Ok(())
    }
}

/// Mean of integers, with a `(sum, count)` accumulator: a CombineFn whose
/// accumulator differs from its input and output.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct MeanFn;

impl CombineFn for MeanFn {
    type In = i64;
    type Acc = (i64, i64);
    type Out = f64;
    fn create_accumulator(&self) -> (i64, i64) {
        (0, 0)
    }
    fn add_input(&self, acc: &mut (i64, i64), x: &i64) {
        acc.0 += x;
        acc.1 += 1;
    }
    fn merge_accumulators(&self, acc: &mut (i64, i64), o: (i64, i64)) {
        acc.0 += o.0;
        acc.1 += o.1;
    }
    fn extract_output(&self, acc: (i64, i64)) -> f64 {
        if acc.1 == 0 {
            f64::NAN
        } else {
            acc.0 as f64 / acc.1 as f64
        }
    }
}

/// Concatenates strings in sorted order: an order-insensitive CombineFn over strings.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SortedConcat;

impl CombineFn for SortedConcat {
    type In = String;
    type Acc = Vec<String>;
    type Out = String;
    fn create_accumulator(&self) -> Vec<String> {
        Vec::new()
    }
    fn add_input(&self, acc: &mut Vec<String>, x: &String) {
        acc.push(x.clone());
    }
    fn merge_accumulators(&self, acc: &mut Vec<String>, o: Vec<String>) {
        acc.extend(o);
    }
    fn extract_output(&self, mut acc: Vec<String>) -> String {
        acc.sort();
        acc.join(",")
    }
}

/// Shorthands for timestamps and windows in seconds.
pub(crate) fn secs(s: i64) -> Timestamp {
    Timestamp::from_secs(s)
}

/// The window `[a, b)` in seconds.
pub(crate) fn win(a: i64, b: i64) -> Window {
    Window::interval(Timestamp::from_secs(a), Timestamp::from_secs(b))
}

/// The last instant of `[a, b)` in seconds.
pub(crate) fn end_of(a: i64, b: i64) -> Timestamp {
    win(a, b).max_timestamp()
}

/// Owned strings from literals.
pub(crate) fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// `(String, V)` pairs from literals.
pub(crate) fn kvs<V: Clone>(xs: &[(&str, V)]) -> Vec<(String, V)> {
    xs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}
