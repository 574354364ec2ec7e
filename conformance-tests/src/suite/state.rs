//! Keyed state in a stateful ParDo (Beam's `UsesStatefulParDo`): value, bag,
//! combining, set, map and ordered-list cells; state per key, per window and
//! per step; clearing; many keys and one hot key; stateful steps before and
//! after a GroupByKey and chained; unbounded input with late data; user
//! errors and construction errors.
//!
//! Every expected answer is computed here from the input, never copied from
//! a run. Outputs that depend on the order elements arrive in (which no
//! runner promises) are avoided: what a test emits is a function of the set
//! of a key's elements.

use super::beam::{BAG_STATE, MAP_STATE, ORDERED_LIST_STATE, SET_STATE, STATEFUL_PARDO, TIMERS_IN_PARDO};
use crate::fns::{kvs, reify, secs, sort_group, win, with_window, ModKey};
use crate::harness::{Expect, Test};
use beamline::io::GenerateSequence;
use beamline::plan::capabilities::{METRICS, STATEFUL_PROCESSING, TIMERS, UNBOUNDED};
use beamline::prelude::*;
use beamline::state::{
    BagState, CombiningState, MapState, OrderedListState, SetState, StateSpecs, TimeDomain, Timer, ValueState,
};
use beamline::PipelineResult;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::time::Duration;

/// A test of a stateful ParDo without timers.
fn stateful(name: &str, build: fn(&Pipeline) -> Expect, categories: &[&'static str]) -> Test {
    Test::new(name, build).requires(&[STATEFUL_PROCESSING]).categories(&[STATEFUL_PARDO]).categories(categories)
}

/// A test of a stateful ParDo that declares timers.
fn timed(name: &str, build: fn(&Pipeline) -> Expect, categories: &[&'static str]) -> Test {
    stateful(name, build, categories).requires(&[TIMERS]).categories(&[TIMERS_IN_PARDO])
}

pub(super) fn tests() -> Vec<Test> {
    vec![
        stateful("state_value_running_count_per_key", state_value_running_count_per_key, &[]),
        stateful("state_value_clear_resets_only_its_cell", state_value_clear_resets_only_its_cell, &[]),
        stateful("state_value_first_read_is_empty", state_value_first_read_is_empty, &[]),
        timed("state_bag_flushed_at_end_of_window", state_bag_flushed_at_end_of_window, &[BAG_STATE]),
        timed("state_bag_clear_and_reuse", state_bag_clear_and_reuse, &[BAG_STATE]),
        timed("state_combining_sum", state_combining_sum, &[]),
        timed("state_combining_count_and_max", state_combining_count_and_max, &[]),
        timed("state_combining_accumulators_and_clear", state_combining_accumulators_and_clear, &[]),
        stateful("state_set_add_reports_first_occurrence", state_set_add_reports_first_occurrence, &[SET_STATE]),
        timed("state_set_contains_and_remove", state_set_contains_and_remove, &[SET_STATE]),
        timed("state_map_counts_per_word", state_map_counts_per_word, &[MAP_STATE]),
        timed("state_map_put_get_remove", state_map_put_get_remove, &[MAP_STATE]),
        timed("state_ordered_list_read_range", state_ordered_list_read_range, &[ORDERED_LIST_STATE]),
        timed("state_ordered_list_clear_range", state_ordered_list_clear_range, &[ORDERED_LIST_STATE]),
        timed("state_ordered_list_sorts_by_timestamp", state_ordered_list_sorts_by_timestamp, &[ORDERED_LIST_STATE]),
        timed("state_clear_all_state", state_clear_all_state, &[BAG_STATE, SET_STATE]),
        timed("state_is_per_window_fixed", state_is_per_window_fixed, &[]),
        timed("state_is_per_window_sliding", state_is_per_window_sliding, &[]),
        timed("state_is_per_key_compound_keys", state_is_per_key_compound_keys, &[]),
        timed("state_is_per_step", state_is_per_step, &[]),
        timed("state_many_keys", state_many_keys, &[]),
        timed("state_one_hot_key", state_one_hot_key, &[]),
        timed("state_single_element", state_single_element, &[]),
        timed("state_empty_input_has_no_output", state_empty_input_has_no_output, &[]),
        timed("state_emits_in_process_and_on_timer", state_emits_in_process_and_on_timer, &[]),
        timed("state_bundles_wrap_every_element_and_timer", state_bundles_wrap_every_element_and_timer, &[]),
        stateful("state_outputs_keep_the_elements_pane", state_outputs_keep_the_elements_pane, &[]),
        stateful("state_error_in_process_names_the_label", state_error_in_process_names_the_label, &[]),
        stateful("state_panic_in_process_names_the_label", state_panic_in_process_names_the_label, &[]),
        stateful("state_duplicate_state_name_is_rejected", state_duplicate_state_name_is_rejected, &[]),
        timed("state_state_and_timer_with_one_name_rejected", state_state_and_timer_with_one_name_rejected, &[]),
        timed("state_then_group_by_key", state_then_group_by_key, &[]),
        timed("state_after_group_by_key", state_after_group_by_key, &[]),
        timed("state_two_stateful_steps_chained", state_two_stateful_steps_chained, &[SET_STATE]),
        timed("state_graph_records_the_specs", state_graph_records_the_specs, &[BAG_STATE]),
        timed("state_unbounded_counts_per_window", state_unbounded_counts_per_window, &[]).requires(&[UNBOUNDED]),
        timed("state_unbounded_then_group_by_key", state_unbounded_then_group_by_key, &[]).requires(&[UNBOUNDED]),
        timed("state_unbounded_late_data_dropped_and_counted", state_unbounded_late_data_dropped_and_counted, &[])
            .requires(&[UNBOUNDED, METRICS]),
    ]
}

// ---------------------------------------------------------------- helpers

/// `(key, value)` elements at `t` seconds: `(key, value, t)`.
fn at(p: &Pipeline, xs: &[(&str, i64, i64)]) -> PCollection<(String, i64)> {
    p.apply(Create::timestamped(xs.iter().map(|(k, v, t)| ((k.to_string(), *v), secs(*t))).collect::<Vec<_>>()))
}

fn fixed(size: u64) -> WindowFn {
    WindowFn::fixed(Duration::from_secs(size))
}

/// The start of the fixed window of `size` seconds holding `t` seconds.
fn start_of(t: i64, size: i64) -> i64 {
    t - t.rem_euclid(size)
}

/// Counts and sums each key's values in each window, emitting
/// `(key, count, sum)` from an event-time timer at the end of the window.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "")]
struct CountSum<K> {
    totals: ValueState<(u64, i64)>,
    flush: Timer,
    #[serde(skip)]
    _k: PhantomData<fn() -> K>,
}

impl<K> CountSum<K> {
    fn new() -> Self {
        CountSum { totals: ValueState::default(), flush: Timer::default(), _k: PhantomData }
    }
}

impl<K: Key> StatefulDoFn for CountSum<K> {
    type Key = K;
    type Value = i64;
    type Out = (K, u64, i64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.totals = specs.value("totals");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(&mut self, _: &K, v: &i64, ctx: &mut StateContext<'_, K, (K, u64, i64)>) -> Result<(), DoFnError> {
        let mut t = ctx.value(&self.totals)?;
        let (n, s) = t.read().unwrap_or((0, 0));
        t.write((n + 1, s + v));
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, K, (K, u64, i64)>) -> Result<(), DoFnError> {
        let (n, s) = ctx.value(&self.totals)?.read().unwrap_or((0, 0));
        let k = ctx.key().clone();
        ctx.emit((k, n, s));
        Ok(())
    }
    fn name(&self) -> String {
        "CountSum".into()
    }
}

/// `(key, count, sum)` per key of `(key, value)` pairs, computed in plain Rust.
fn count_sum<K: Ord + Clone>(xs: impl IntoIterator<Item = (K, i64)>) -> Vec<(K, u64, i64)> {
    let mut m: BTreeMap<K, (u64, i64)> = BTreeMap::new();
    for (k, v) in xs {
        let e = m.entry(k).or_default();
        e.0 += 1;
        e.1 += v;
    }
    m.into_iter().map(|(k, (n, s))| (k, n, s)).collect()
}

// ---------------------------------------------------------------- value

/// Emits `(key, how many elements of the key so far)` for every element.
#[derive(Clone, Default, Serialize, Deserialize)]
struct RunningCount {
    count: ValueState<u64>,
}

impl StatefulDoFn for RunningCount {
    type Key = String;
    type Value = i64;
    type Out = (String, u64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.count = specs.value("count");
    }
    fn process(
        &mut self,
        key: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, u64)>,
    ) -> Result<(), DoFnError> {
        let mut c = ctx.value(&self.count)?;
        let n = c.read().unwrap_or(0) + 1;
        c.write(n);
        ctx.emit((key.clone(), n));
        Ok(())
    }
}

/// Whatever order a key's elements come in, the running counts are 1..=n.
fn state_value_running_count_per_key(p: &Pipeline) -> Expect {
    let sizes = [("k0", 1u64), ("k1", 7), ("k2", 50), ("k3", 300)];
    let input: Vec<(String, i64)> =
        sizes.iter().flat_map(|(k, n)| (0..*n as i64).map(move |i| (k.to_string(), i))).collect();
    let counts = p.apply(Create::new(input)).apply_named("RunningCount", StatefulParDo::of(RunningCount::default()));
    let expected: Vec<(String, u64)> =
        sizes.iter().flat_map(|(k, n)| (1..=*n).map(move |i| (k.to_string(), i))).collect();
    assert_that(&counts, contains_in_any_order(expected));
    Expect::success()
}

/// Counts elements in threes: `pending` is cleared after every third
/// element, `batches` never is; emits `(key, batches so far)` per full batch.
#[derive(Clone, Default, Serialize, Deserialize)]
struct InThrees {
    pending: ValueState<u64>,
    batches: ValueState<u64>,
}

impl StatefulDoFn for InThrees {
    type Key = String;
    type Value = i64;
    type Out = (String, u64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.pending = specs.value("pending");
        self.batches = specs.value("batches");
    }
    fn process(
        &mut self,
        key: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, u64)>,
    ) -> Result<(), DoFnError> {
        let mut pending = ctx.value(&self.pending)?;
        let n = pending.get().copied().unwrap_or(0) + 1;
        if n < 3 {
            pending.write(n);
            return Ok(());
        }
        pending.clear();
        let mut batches = ctx.value(&self.batches)?;
        let b = batches.read().unwrap_or(0) + 1;
        batches.write(b);
        ctx.emit((key.clone(), b));
        Ok(())
    }
}

fn state_value_clear_resets_only_its_cell(p: &Pipeline) -> Expect {
    let sizes = [("a", 7i64), ("b", 3), ("c", 2), ("d", 31)];
    let input: Vec<(String, i64)> = sizes.iter().flat_map(|(k, n)| (0..*n).map(move |i| (k.to_string(), i))).collect();
    let out = p.apply(Create::new(input)).apply_named("InThrees", StatefulParDo::of(InThrees::default()));
    let expected: Vec<(String, u64)> =
        sizes.iter().flat_map(|(k, n)| (1..=(*n as u64 / 3)).map(move |b| (k.to_string(), b))).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Emits `(key, whether the cell was empty)` and writes it.
#[derive(Clone, Default, Serialize, Deserialize)]
struct FirstSeen {
    seen: ValueState<bool>,
}

impl StatefulDoFn for FirstSeen {
    type Key = String;
    type Value = i64;
    type Out = (String, bool);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.seen = specs.value("seen");
    }
    fn process(
        &mut self,
        key: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, bool)>,
    ) -> Result<(), DoFnError> {
        let mut seen = ctx.value(&self.seen)?;
        let first = seen.read().is_none();
        seen.write(true);
        ctx.emit((key.clone(), first));
        Ok(())
    }
}

fn state_value_first_read_is_empty(p: &Pipeline) -> Expect {
    let input = kvs(&[("a", 1i64), ("a", 2), ("a", 3), ("a", 4), ("b", 5), ("c", 6), ("c", 7)]);
    let out = p.apply(Create::new(input.clone())).apply_named("FirstSeen", StatefulParDo::of(FirstSeen::default()));
    let mut expected = Vec::new();
    let mut keys = BTreeSet::new();
    for (k, _) in input {
        expected.push((k.clone(), keys.insert(k)));
    }
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- bag

/// Collects a key's values in a bag and emits them, sorted, at the end of the window.
#[derive(Clone, Default, Serialize, Deserialize)]
struct CollectBag {
    values: BagState<i64>,
    flush: Timer,
}

impl StatefulDoFn for CollectBag {
    type Key = String;
    type Value = i64;
    type Out = (String, Vec<i64>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.values = specs.bag("values");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        ctx.bag(&self.values)?.add(*v);
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(
        &mut self,
        _: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        let mut vs = ctx.bag(&self.values)?.read().to_vec();
        vs.sort();
        let k = ctx.key().clone();
        ctx.emit((k, vs));
        Ok(())
    }
}

fn state_bag_flushed_at_end_of_window(p: &Pipeline) -> Expect {
    let input = [("a", 3, 1), ("a", 1, 2), ("b", 7, 4), ("a", 2, 9), ("a", 10, 11), ("b", 8, 15), ("b", -1, 19)];
    let out = at(p, &input)
        .apply(WindowInto::new(fixed(10)))
        .apply_named("CollectBag", StatefulParDo::of(CollectBag::default()))
        .apply(reify());
    let mut groups: BTreeMap<(String, i64), Vec<i64>> = BTreeMap::new();
    for (k, v, t) in input {
        groups.entry((k.to_string(), start_of(t, 10))).or_default().push(v);
    }
    let expected: Vec<_> = groups
        .into_iter()
        .map(|((k, s), mut vs)| {
            vs.sort();
            ((k, vs), win(s, s + 10).max_timestamp(), win(s, s + 10))
        })
        .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Emits `(key, 3)` and empties the bag whenever it holds three values; the
/// timer emits what is left, if anything.
#[derive(Clone, Default, Serialize, Deserialize)]
struct BagOfThree {
    values: BagState<i64>,
    flush: Timer,
}

impl StatefulDoFn for BagOfThree {
    type Key = String;
    type Value = i64;
    type Out = (String, usize);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.values = specs.bag("values");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        key: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, usize)>,
    ) -> Result<(), DoFnError> {
        let mut bag = ctx.bag(&self.values)?;
        bag.add(*v);
        let n = bag.read().len();
        if n == 3 {
            bag.clear();
            ctx.emit((key.clone(), n));
        }
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(
        &mut self,
        _: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, usize)>,
    ) -> Result<(), DoFnError> {
        let bag = ctx.bag(&self.values)?;
        if bag.is_empty() {
            return Ok(());
        }
        let n = bag.read().len();
        let k = ctx.key().clone();
        ctx.emit((k, n));
        Ok(())
    }
}

fn state_bag_clear_and_reuse(p: &Pipeline) -> Expect {
    let sizes = [("a", 7usize), ("b", 3), ("c", 1), ("d", 20)];
    let input: Vec<(String, i64)> =
        sizes.iter().flat_map(|(k, n)| (0..*n as i64).map(move |i| (k.to_string(), i))).collect();
    let out = p.apply(Create::new(input)).apply_named("BagOfThree", StatefulParDo::of(BagOfThree::default()));
    let mut expected = Vec::new();
    for (k, n) in sizes {
        expected.extend(std::iter::repeat_n((k.to_string(), 3usize), n / 3));
        if n % 3 > 0 {
            expected.push((k.to_string(), n % 3));
        }
    }
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- combining

/// A combining handle to be replaced in `declare`.
fn undeclared<C: CombineFn>(c: C) -> CombiningState<C> {
    StateSpecs::default().combining("undeclared", c)
}

/// Sums a key's values in a combining cell; emits the sum at the end of the window.
#[derive(Clone, Serialize, Deserialize)]
struct SumState {
    sum: CombiningState<Sum<i64>>,
    flush: Timer,
}

impl Default for SumState {
    fn default() -> Self {
        SumState { sum: undeclared(Sum::new()), flush: Timer::default() }
    }
}

impl StatefulDoFn for SumState {
    type Key = String;
    type Value = i64;
    type Out = (String, i64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.sum = specs.combining("sum", Sum::new());
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, i64)>,
    ) -> Result<(), DoFnError> {
        ctx.combining(&self.sum)?.add(*v);
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, String, (String, i64)>) -> Result<(), DoFnError> {
        let s = ctx.combining(&self.sum)?.read();
        let k = ctx.key().clone();
        ctx.emit((k, s));
        Ok(())
    }
}

fn state_combining_sum(p: &Pipeline) -> Expect {
    let mut input: Vec<(String, i64)> = (1..=100).map(|i| ("a".to_string(), i)).collect();
    input.extend((-5..5).map(|i| ("b".to_string(), i * 3)));
    input.push(("c".to_string(), -42));
    let out = p.apply(Create::new(input.clone())).apply_named("SumState", StatefulParDo::of(SumState::default()));
    let expected: Vec<(String, i64)> = count_sum(input).into_iter().map(|(k, _, s)| (k, s)).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Counts (`Count`'s CombineFn) and keeps the largest value (`Max`).
#[derive(Clone, Serialize, Deserialize)]
struct CountMax {
    count: CombiningState<CountFn<i64>>,
    max: CombiningState<Max<i64>>,
    flush: Timer,
}

impl Default for CountMax {
    fn default() -> Self {
        CountMax { count: undeclared(CountFn::default()), max: undeclared(Max::new()), flush: Timer::default() }
    }
}

impl StatefulDoFn for CountMax {
    type Key = String;
    type Value = i64;
    type Out = (String, u64, Option<i64>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.count = specs.combining("count", CountFn::default());
        self.max = specs.combining("max", Max::new());
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, u64, Option<i64>)>,
    ) -> Result<(), DoFnError> {
        ctx.combining(&self.count)?.add(*v);
        ctx.combining(&self.max)?.add(*v);
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(
        &mut self,
        _: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, u64, Option<i64>)>,
    ) -> Result<(), DoFnError> {
        let n = ctx.combining(&self.count)?.read();
        let m = ctx.combining(&self.max)?.read();
        let k = ctx.key().clone();
        ctx.emit((k, n, m));
        Ok(())
    }
}

fn state_combining_count_and_max(p: &Pipeline) -> Expect {
    let input: Vec<(String, i64)> = (0..500i64).map(|i| (format!("k{}", i % 7), (i * 7919) % 1000 - 500)).collect();
    let out = p.apply(Create::new(input.clone())).apply_named("CountMax", StatefulParDo::of(CountMax::default()));
    let mut expected: BTreeMap<String, (u64, Option<i64>)> = BTreeMap::new();
    for (k, v) in input {
        let e = expected.entry(k).or_default();
        e.0 += 1;
        e.1 = Some(e.1.map_or(v, |m: i64| m.max(v)));
    }
    assert_that(&out, contains_in_any_order(expected.into_iter().map(|(k, (n, m))| (k, n, m))));
    Expect::success()
}

/// Adds even values as inputs and odd ones as accumulators; the timer emits
/// `[output, accumulator, output after clear, output after clear and add 1]`.
#[derive(Clone, Serialize, Deserialize)]
struct SumByAccumulators {
    sum: CombiningState<Sum<i64>>,
    flush: Timer,
}

impl Default for SumByAccumulators {
    fn default() -> Self {
        SumByAccumulators { sum: undeclared(Sum::new()), flush: Timer::default() }
    }
}

impl StatefulDoFn for SumByAccumulators {
    type Key = String;
    type Value = i64;
    type Out = (String, Vec<i64>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.sum = specs.combining("sum", Sum::new());
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        let mut sum = ctx.combining(&self.sum)?;
        if v % 2 == 0 {
            sum.add(*v);
        } else {
            sum.add_accumulator(*v);
        }
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(
        &mut self,
        _: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        let mut sum = ctx.combining(&self.sum)?;
        let (out, acc) = (sum.read(), sum.read_accumulator());
        sum.clear();
        let cleared = sum.read();
        sum.add(1);
        let again = sum.read();
        let k = ctx.key().clone();
        ctx.emit((k, vec![out, acc, cleared, again]));
        Ok(())
    }
}

fn state_combining_accumulators_and_clear(p: &Pipeline) -> Expect {
    let input: Vec<(String, i64)> = (0..60i64).map(|i| (format!("k{}", i % 3), i * i - 100)).collect();
    let out = p
        .apply(Create::new(input.clone()))
        .apply_named("SumByAccumulators", StatefulParDo::of(SumByAccumulators::default()));
    let expected: Vec<(String, Vec<i64>)> =
        count_sum(input).into_iter().map(|(k, _, s)| (k, vec![s, s, 0, 1])).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- set

/// Emits `(key, value)` the first time the key sees the value.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Dedup {
    seen: SetState<i64>,
}

impl StatefulDoFn for Dedup {
    type Key = String;
    type Value = i64;
    type Out = (String, i64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.seen = specs.set("seen");
    }
    fn process(
        &mut self,
        key: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, i64)>,
    ) -> Result<(), DoFnError> {
        let mut seen = ctx.set(&self.seen)?;
        let known = seen.contains(v);
        let added = seen.add(*v);
        if known == added {
            return Err(DoFnError::new(format!("contains said {known} but add said {added} for {v}")));
        }
        if added {
            ctx.emit((key.clone(), *v));
        }
        Ok(())
    }
}

/// Values repeated: `i mod 13` under key `k{i mod 4}`.
fn with_duplicates() -> Vec<(String, i64)> {
    (0..400i64).map(|i| (format!("k{}", i % 4), (i * 31) % 13)).collect()
}

fn state_set_add_reports_first_occurrence(p: &Pipeline) -> Expect {
    let input = with_duplicates();
    let out = p.apply(Create::new(input.clone())).apply_named("Dedup", StatefulParDo::of(Dedup::default()));
    let distinct: BTreeSet<(String, i64)> = input.into_iter().collect();
    assert_that(&out, contains_in_any_order(distinct));
    Expect::success()
}

/// Toggles each value in a set (removes it if there, else adds it); the
/// timer emits the sorted set and its size: the values seen an odd number of times.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Toggle {
    values: SetState<i64>,
    flush: Timer,
}

impl StatefulDoFn for Toggle {
    type Key = String;
    type Value = i64;
    type Out = (String, Vec<i64>, usize);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.values = specs.set("values");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>, usize)>,
    ) -> Result<(), DoFnError> {
        let mut set = ctx.set(&self.values)?;
        if set.contains(v) {
            set.remove(v);
        } else {
            set.add(*v);
        }
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(
        &mut self,
        _: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>, usize)>,
    ) -> Result<(), DoFnError> {
        let set = ctx.set(&self.values)?;
        let mut vs = set.read();
        vs.sort();
        let n = set.len();
        let k = ctx.key().clone();
        ctx.emit((k, vs, n));
        Ok(())
    }
}

fn state_set_contains_and_remove(p: &Pipeline) -> Expect {
    let input = with_duplicates();
    let out = p.apply(Create::new(input.clone())).apply_named("Toggle", StatefulParDo::of(Toggle::default()));
    let mut counts: BTreeMap<String, BTreeMap<i64, u32>> = BTreeMap::new();
    for (k, v) in input {
        *counts.entry(k).or_default().entry(v).or_default() += 1;
    }
    let expected: Vec<(String, Vec<i64>, usize)> = counts
        .into_iter()
        .map(|(k, m)| {
            let odd: Vec<i64> = m.into_iter().filter(|(_, n)| n % 2 == 1).map(|(v, _)| v).collect();
            let n = odd.len();
            (k, odd, n)
        })
        .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- map

/// Counts each word of a key in a map; the timer emits the sorted entries.
#[derive(Clone, Default, Serialize, Deserialize)]
struct WordCounts {
    counts: MapState<String, u64>,
    flush: Timer,
}

impl StatefulDoFn for WordCounts {
    type Key = String;
    type Value = String;
    type Out = (String, Vec<(String, u64)>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.counts = specs.map("counts");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        word: &String,
        ctx: &mut StateContext<'_, String, (String, Vec<(String, u64)>)>,
    ) -> Result<(), DoFnError> {
        *ctx.map(&self.counts)?.get_or_insert_with(word.clone(), || 0) += 1;
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(
        &mut self,
        _: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Vec<(String, u64)>)>,
    ) -> Result<(), DoFnError> {
        let mut entries = ctx.map(&self.counts)?.entries();
        entries.sort();
        let k = ctx.key().clone();
        ctx.emit((k, entries));
        Ok(())
    }
}

fn state_map_counts_per_word(p: &Pipeline) -> Expect {
    let text = "the quick brown fox jumps over the lazy dog the end";
    let mut input = Vec::new();
    for (i, w) in text.split(' ').enumerate() {
        for doc in ["doc1", "doc2"] {
            if doc == "doc1" || i % 2 == 0 {
                input.push((doc.to_string(), w.to_string()));
            }
        }
    }
    let out = p.apply(Create::new(input.clone())).apply_named("WordCounts", StatefulParDo::of(WordCounts::default()));
    let mut expected: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (d, w) in input {
        *expected.entry(d).or_default().entry(w).or_default() += 1;
    }
    assert_that(&out, contains_in_any_order(expected.into_iter().map(|(d, m)| (d, m.into_iter().collect::<Vec<_>>()))));
    Expect::success()
}

/// Keeps the largest value per bucket `v mod 3` (get, put); the timer
/// removes bucket 0 and emits `(key, removed, sorted keys, sorted entries)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Buckets {
    max: MapState<i64, i64>,
    flush: Timer,
}

type BucketsOut = (String, Option<i64>, Vec<i64>, Vec<(i64, i64)>);

impl StatefulDoFn for Buckets {
    type Key = String;
    type Value = i64;
    type Out = BucketsOut;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.max = specs.map("max");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, BucketsOut>,
    ) -> Result<(), DoFnError> {
        let mut map = ctx.map(&self.max)?;
        let bucket = v.rem_euclid(3);
        let best = map.get(&bucket).copied().map_or(*v, |m| m.max(*v));
        map.put(bucket, best);
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, String, BucketsOut>) -> Result<(), DoFnError> {
        let mut map = ctx.map(&self.max)?;
        let removed = map.remove(&0);
        if map.get(&0).is_some() {
            return Err(DoFnError::new("bucket 0 is still there after remove"));
        }
        let mut keys = map.keys();
        keys.sort();
        let mut entries = map.entries();
        entries.sort();
        let k = ctx.key().clone();
        ctx.emit((k, removed, keys, entries));
        Ok(())
    }
}

fn state_map_put_get_remove(p: &Pipeline) -> Expect {
    let input = kvs(&[("a", 1i64), ("a", 4), ("a", 9), ("a", 2), ("a", 3), ("b", 5), ("b", 11), ("c", 6)]);
    let out = p.apply(Create::new(input.clone())).apply_named("Buckets", StatefulParDo::of(Buckets::default()));
    let mut maps: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for (k, v) in input {
        let m = maps.entry(k).or_default().entry(v.rem_euclid(3)).or_insert(v);
        *m = (*m).max(v);
    }
    let expected: Vec<BucketsOut> = maps
        .into_iter()
        .map(|(k, mut m)| {
            let removed = m.remove(&0);
            (k, removed, m.keys().copied().collect(), m.into_iter().collect())
        })
        .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- ordered list

/// Adds each value at the element's timestamp; at the end of the window
/// emits `(key, values in [from, to), every entry)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Ranged {
    from: i64,
    to: i64,
    /// Clears `[from, to)` first instead of reading it.
    clear: bool,
    list: OrderedListState<i64>,
    flush: Timer,
}

type RangedOut = (String, Vec<i64>, Vec<(Timestamp, i64)>);

impl StatefulDoFn for Ranged {
    type Key = String;
    type Value = i64;
    type Out = RangedOut;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.list = specs.ordered_list("list");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(&mut self, _: &String, v: &i64, ctx: &mut StateContext<'_, String, RangedOut>) -> Result<(), DoFnError> {
        let ts = ctx.timestamp();
        ctx.ordered_list(&self.list)?.add(ts, *v);
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, String, RangedOut>) -> Result<(), DoFnError> {
        let (from, to) = (secs(self.from), secs(self.to));
        let mut list = ctx.ordered_list(&self.list)?;
        if !list.read_range(to, from).is_empty() {
            return Err(DoFnError::new("an empty range read entries"));
        }
        let range: Vec<i64> = if self.clear {
            list.clear_range(from, to);
            list.clear_range(to, from);
            Vec::new()
        } else {
            list.read_range(from, to).into_iter().map(|(_, v)| v).collect()
        };
        let all = list.read();
        let k = ctx.key().clone();
        ctx.emit((k, range, all));
        Ok(())
    }
}

/// Elements `(key, value, t)`, each key's timestamps distinct, on the
/// boundaries of `[2, 5)` too.
const RANGED_INPUT: [(&str, i64, i64); 9] = [
    ("a", 10, 1),
    ("a", 20, 2),
    ("a", 30, 3),
    ("a", 40, 5),
    ("a", 50, 4),
    ("a", 60, 0),
    ("b", 70, 2),
    ("b", 80, 9),
    ("c", 90, 7),
];

fn ranged_expected(clear: bool) -> Vec<RangedOut> {
    let mut per_key: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for (k, v, t) in RANGED_INPUT {
        per_key.entry(k.to_string()).or_default().insert(t, v);
    }
    per_key
        .into_iter()
        .map(|(k, m)| {
            let in_range = |t: &i64| (2..5).contains(t);
            let range =
                if clear { Vec::new() } else { m.iter().filter(|(t, _)| in_range(t)).map(|(_, v)| *v).collect() };
            let all = m.iter().filter(|(t, _)| !clear || !in_range(t)).map(|(t, v)| (secs(*t), *v)).collect();
            (k, range, all)
        })
        .collect()
}

fn state_ordered_list_read_range(p: &Pipeline) -> Expect {
    let ranged = Ranged { from: 2, to: 5, clear: false, ..Default::default() };
    let out = at(p, &RANGED_INPUT).apply_named("Ranged", StatefulParDo::of(ranged));
    assert_that(&out, contains_in_any_order(ranged_expected(false)));
    Expect::success()
}

fn state_ordered_list_clear_range(p: &Pipeline) -> Expect {
    let ranged = Ranged { from: 2, to: 5, clear: true, ..Default::default() };
    let out = at(p, &RANGED_INPUT).apply_named("Ranged", StatefulParDo::of(ranged));
    assert_that(&out, contains_in_any_order(ranged_expected(true)));
    Expect::success()
}

/// Adds each value `v` at `v` seconds (not the element's timestamp); the
/// timer emits the values in list order.
#[derive(Clone, Default, Serialize, Deserialize)]
struct SortByValue {
    list: OrderedListState<i64>,
    flush: Timer,
}

impl StatefulDoFn for SortByValue {
    type Key = String;
    type Value = i64;
    type Out = (String, Vec<i64>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.list = specs.ordered_list("list");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        ctx.ordered_list(&self.list)?.add(secs(*v), *v);
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(
        &mut self,
        _: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        let list = ctx.ordered_list(&self.list)?;
        let entries = list.read();
        if entries.iter().any(|(t, v)| *t != secs(*v)) {
            return Err(DoFnError::new("an entry lost its timestamp"));
        }
        let vs = entries.into_iter().map(|(_, v)| v).collect();
        let k = ctx.key().clone();
        ctx.emit((k, vs));
        Ok(())
    }
}

fn state_ordered_list_sorts_by_timestamp(p: &Pipeline) -> Expect {
    // 0..500 permuted (7 is coprime to 500), values distinct per key.
    let input: Vec<(String, i64)> = (0..500i64).map(|i| (format!("k{}", i % 2), (i * 7) % 500 - 250)).collect();
    let out = p.apply(Create::new(input.clone())).apply_named("SortByValue", StatefulParDo::of(SortByValue::default()));
    let mut expected: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (k, v) in input {
        expected.entry(k).or_default().push(v);
    }
    for vs in expected.values_mut() {
        vs.sort();
    }
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- clear_all_state

/// Fills a value, a bag and a set; a timer at 5 s reports and clears all
/// state, a timer at 9 s reports again (after adding one value to the bag).
#[derive(Clone, Default, Serialize, Deserialize)]
struct ClearAll {
    count: ValueState<u64>,
    bag: BagState<i64>,
    set: SetState<i64>,
    reset: Timer,
    report: Timer,
}

/// `(key, when, count, bag size, set size)`.
type ClearAllOut = (String, String, u64, usize, usize);

impl ClearAll {
    fn report(&self, when: &str, ctx: &mut StateContext<'_, String, ClearAllOut>) -> Result<(), DoFnError> {
        let n = ctx.value(&self.count)?.read().unwrap_or(0);
        let b = ctx.bag(&self.bag)?.read().len();
        let s = ctx.set(&self.set)?.len();
        let k = ctx.key().clone();
        ctx.emit((k, when.to_string(), n, b, s));
        Ok(())
    }
}

impl StatefulDoFn for ClearAll {
    type Key = String;
    type Value = i64;
    type Out = ClearAllOut;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.count = specs.value("count");
        self.bag = specs.bag("bag");
        self.set = specs.set("set");
        self.reset = specs.timer("reset", TimeDomain::EventTime);
        self.report = specs.timer("report", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, ClearAllOut>,
    ) -> Result<(), DoFnError> {
        let mut c = ctx.value(&self.count)?;
        let n = c.read().unwrap_or(0);
        c.write(n + 1);
        ctx.bag(&self.bag)?.add(*v);
        ctx.set(&self.set)?.add(v % 2);
        ctx.timer(&self.reset)?.set(secs(5))?;
        ctx.timer(&self.report)?.set(secs(9))
    }
    fn on_timer(
        &mut self,
        timer: &FiredTimer,
        ctx: &mut StateContext<'_, String, ClearAllOut>,
    ) -> Result<(), DoFnError> {
        if timer.is(&self.reset) {
            self.report("before", ctx)?;
            ctx.clear_all_state();
        } else if timer.is(&self.report) {
            ctx.bag(&self.bag)?.add(1);
            self.report("after", ctx)?;
        }
        Ok(())
    }
}

fn state_clear_all_state(p: &Pipeline) -> Expect {
    let input = [("a", 1, 0), ("a", 2, 1), ("a", 3, 2), ("b", 4, 3)];
    let out = at(p, &input).apply_named("ClearAll", StatefulParDo::of(ClearAll::default()));
    let s = |x: &str| x.to_string();
    assert_that(
        &out,
        contains_in_any_order(vec![
            (s("a"), s("before"), 3u64, 3usize, 2usize),
            (s("a"), s("after"), 0, 1, 0),
            (s("b"), s("before"), 1, 1, 1),
            (s("b"), s("after"), 0, 1, 0),
        ]),
    );
    Expect::success()
}

// ---------------------------------------------------------------- isolation

const WINDOWED_INPUT: [(&str, i64, i64); 9] = [
    ("a", 1, 1),
    ("a", 2, 5),
    ("a", 3, 12),
    ("b", 4, 15),
    ("a", 5, 25),
    ("b", 6, -3),
    ("b", 7, 19),
    ("a", 8, 29),
    ("b", 9, 10),
];

/// `((key, count, sum), end of window, window)` per key and window, given
/// the windows of each timestamp.
fn per_window_expected(windows: impl Fn(i64) -> Vec<(i64, i64)>) -> Vec<((String, u64, i64), Timestamp, Window)> {
    let mut groups: BTreeMap<((i64, i64), String), Vec<i64>> = BTreeMap::new();
    for (k, v, t) in WINDOWED_INPUT {
        for w in windows(t) {
            groups.entry((w, k.to_string())).or_default().push(v);
        }
    }
    groups
        .into_iter()
        .map(|(((s, e), k), vs)| {
            let w = win(s, e);
            ((k, vs.len() as u64, vs.iter().sum()), w.max_timestamp(), w)
        })
        .collect()
}

fn state_is_per_window_fixed(p: &Pipeline) -> Expect {
    let out = at(p, &WINDOWED_INPUT)
        .apply(WindowInto::new(fixed(10)))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<String>::new()))
        .apply(reify());
    let expected = per_window_expected(|t| {
        let s = start_of(t, 10);
        vec![(s, s + 10)]
    });
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

fn state_is_per_window_sliding(p: &Pipeline) -> Expect {
    let out = at(p, &WINDOWED_INPUT)
        .apply(WindowInto::new(WindowFn::sliding(Duration::from_secs(10), Duration::from_secs(5))))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<String>::new()))
        .apply(reify());
    let expected = per_window_expected(|t| {
        let s = start_of(t, 5);
        vec![(s - 5, s + 5), (s, s + 10)]
    });
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Keys that share parts (`("a", 1)` and `("a", 2)`) are different keys.
fn state_is_per_key_compound_keys(p: &Pipeline) -> Expect {
    let input: Vec<((String, i64), i64)> =
        (0..90i64).map(|i| ((["a", "b", "ab"][(i % 3) as usize].to_string(), i % 2), i)).collect();
    let out = p
        .apply(Create::new(input.clone()))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<(String, i64)>::new()));
    assert_that(&out, contains_in_any_order(count_sum(input)));
    Expect::success()
}

/// One DoFn type in two steps, the second reading the first's input and
/// more: each step has its own state.
fn state_is_per_step(p: &Pipeline) -> Expect {
    let input = kvs(&[("a", 1i64), ("a", 2), ("b", 3)]);
    let xs = p.apply_named("Input", Create::new(input.clone()));
    let again = p.apply_named("Again", Create::new(input.clone()));
    let once = xs.apply_named("Once", StatefulParDo::of(CountSum::<String>::new()));
    let twice =
        vec![xs, again].apply(Flatten::new()).apply_named("Twice", StatefulParDo::of(CountSum::<String>::new()));
    let expected = count_sum(input);
    assert_that(&once, contains_in_any_order(expected.clone()));
    assert_that(&twice, contains_in_any_order(expected.into_iter().map(|(k, n, s)| (k, 2 * n, 2 * s))));
    Expect::success()
}

fn state_many_keys(p: &Pipeline) -> Expect {
    let input: Vec<(u64, i64)> = (0..5000i64).map(|i| ((i % 1000) as u64, i)).collect();
    let out = p.apply(Create::new(input)).apply_named("CountSum", StatefulParDo::of(CountSum::<u64>::new()));
    // Key k holds k, k + 1000, ..., k + 4000.
    let expected: Vec<(u64, u64, i64)> = (0..1000i64).map(|k| (k as u64, 5, 5 * k + 10_000)).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// One key with many elements (spread over bundles and workers by the
/// input, gathered by the key).
fn state_one_hot_key(p: &Pipeline) -> Expect {
    let n = 20_000i64;
    let out = p
        .apply(Create::new((0..n).map(|i| ("hot".to_string(), i))))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<String>::new()));
    assert_that(&out, contains_in_any_order(vec![("hot".to_string(), n as u64, n * (n - 1) / 2)]));
    Expect::success()
}

fn state_single_element(p: &Pipeline) -> Expect {
    let out = at(p, &[("only", 42, 7)]).apply_named("CountSum", StatefulParDo::of(CountSum::<String>::new()));
    assert_that(
        &out.apply(reify()),
        contains_in_any_order(vec![(
            ("only".to_string(), 1u64, 42i64),
            Timestamp::END_OF_GLOBAL_WINDOW,
            Window::Global,
        )]),
    );
    Expect::success()
}

fn state_empty_input_has_no_output(p: &Pipeline) -> Expect {
    let out = p
        .apply(Create::new(Vec::<(String, i64)>::new()))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<String>::new()));
    assert_that(&out, is_empty());
    Expect::success()
}

/// Emits `(key, "element", v)` from `process` and `(key, "total", sum)` from
/// the end-of-window timer.
#[derive(Clone, Default, Serialize, Deserialize)]
struct EchoAndTotal {
    sum: ValueState<i64>,
    flush: Timer,
}

type EchoOut = (String, String, i64);

impl StatefulDoFn for EchoAndTotal {
    type Key = String;
    type Value = i64;
    type Out = EchoOut;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.sum = specs.value("sum");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(&mut self, key: &String, v: &i64, ctx: &mut StateContext<'_, String, EchoOut>) -> Result<(), DoFnError> {
        let mut sum = ctx.value(&self.sum)?;
        let s = sum.read().unwrap_or(0);
        sum.write(s + v);
        ctx.emit((key.clone(), "element".into(), *v));
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, String, EchoOut>) -> Result<(), DoFnError> {
        let s = ctx.value(&self.sum)?.read().unwrap_or(0);
        let k = ctx.key().clone();
        ctx.emit((k, "total".into(), s));
        Ok(())
    }
}

fn state_emits_in_process_and_on_timer(p: &Pipeline) -> Expect {
    let input = [("a", 1, 1), ("a", 2, 3), ("b", 5, 4), ("a", 4, 12)];
    let out = at(p, &input)
        .apply(WindowInto::new(fixed(10)))
        .apply_named("EchoAndTotal", StatefulParDo::of(EchoAndTotal::default()))
        .apply(reify());
    let mut expected = Vec::new();
    let mut totals: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for (k, v, t) in input {
        let s = start_of(t, 10);
        expected.push(((k.to_string(), "element".to_string(), v), secs(t), win(s, s + 10)));
        *totals.entry((k.to_string(), s)).or_default() += v;
    }
    for ((k, s), total) in totals {
        expected.push(((k, "total".to_string(), total), win(s, s + 10).max_timestamp(), win(s, s + 10)));
    }
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Counts, per bundle, the elements and timers it was called for, and emits
/// the count from `finish_bundle` (in the global window, at the start of
/// time); fails if a call comes outside a bundle or bundles nest.
#[derive(Clone, Default, Serialize, Deserialize)]
struct BundleCalls {
    flush: Timer,
    #[serde(skip)]
    open: bool,
    #[serde(skip)]
    calls: i64,
}

impl BundleCalls {
    fn called(&mut self, what: &str) -> Result<(), DoFnError> {
        if !self.open {
            return Err(DoFnError::new(format!("{what} outside a bundle")));
        }
        self.calls += 1;
        Ok(())
    }
}

impl StatefulDoFn for BundleCalls {
    type Key = String;
    type Value = i64;
    type Out = i64;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn start_bundle(&mut self) -> Result<(), DoFnError> {
        if self.open {
            return Err(DoFnError::new("start_bundle inside a bundle"));
        }
        (self.open, self.calls) = (true, 0);
        Ok(())
    }
    fn process(&mut self, _: &String, _: &i64, ctx: &mut StateContext<'_, String, i64>) -> Result<(), DoFnError> {
        self.called("process")?;
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, _: &mut StateContext<'_, String, i64>) -> Result<(), DoFnError> {
        self.called("on_timer")
    }
    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, i64>) -> Result<(), DoFnError> {
        if !self.open {
            return Err(DoFnError::new("finish_bundle outside a bundle"));
        }
        self.open = false;
        ctx.emit(self.calls, Timestamp::MIN, Window::Global);
        Ok(())
    }
}

fn state_bundles_wrap_every_element_and_timer(p: &Pipeline) -> Expect {
    let input = [("a", 1, 1), ("a", 2, 3), ("b", 5, 4), ("a", 4, 12), ("c", 7, 25)];
    let out = at(p, &input)
        .apply(WindowInto::new(fixed(10)))
        .apply_named("BundleCalls", StatefulParDo::of(BundleCalls::default()))
        .apply(reify());
    // Every element, and one timer per key and window: a[0,10), b[0,10), a[10,20), c[20,30).
    let calls = input.len() as i64 + 4;
    assert_that(
        &out,
        satisfies(move |outs: &[(i64, Timestamp, Window)]| {
            if let Some(o) = outs.iter().find(|(n, ts, w)| *n < 1 || *ts != Timestamp::MIN || *w != Window::Global) {
                return Err(format!(
                    "a bundle's count is not a positive count at the start of the global window: {o:?}"
                ));
            }
            let total: i64 = outs.iter().map(|(n, ..)| n).sum();
            if total != calls {
                return Err(format!("the bundles counted {total} calls, not {calls}: {outs:?}"));
            }
            Ok(())
        }),
    );
    Expect::success()
}

/// Shows the pane each element arrived in, and emits in it:
/// `key|timing|index|first|last|nonspeculative index`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct ShowElementPane {
    seen: ValueState<u64>,
}

impl StatefulDoFn for ShowElementPane {
    type Key = String;
    type Value = Vec<i64>;
    type Out = String;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.seen = specs.value("seen");
    }
    fn process(
        &mut self,
        key: &String,
        _: &Vec<i64>,
        ctx: &mut StateContext<'_, String, String>,
    ) -> Result<(), DoFnError> {
        let mut seen = ctx.value(&self.seen)?;
        let n = seen.read().unwrap_or(0);
        seen.write(n + 1);
        let p = ctx.pane();
        let shown = format!(
            "{key}|{}|{}|{}|{}|{}",
            p.timing().name(),
            p.index(),
            p.is_first(),
            p.is_last(),
            p.nonspeculative_index()
        );
        ctx.emit(shown);
        Ok(())
    }
}

/// The panes of a GroupByKey reach a stateful step after it, and its outputs
/// stay in them: on bounded input each window fires once, on time.
fn state_outputs_keep_the_elements_pane(p: &Pipeline) -> Expect {
    let input = [("a", 1, 1), ("a", 2, 3), ("b", 5, 4), ("a", 4, 12)];
    let out = at(p, &input)
        .apply(WindowInto::new(fixed(10)))
        .apply(GroupByKey::new())
        .apply_named("ShowElementPane", StatefulParDo::of(ShowElementPane::default()))
        .apply(ParDo::of(ShowOutputPane));
    let shown = |k: &str| format!("{k}|ON_TIME|0|true|true|0");
    let expected = vec![
        (shown("a"), shown("a")), // [0, 10)
        (shown("b"), shown("b")),
        (shown("a"), shown("a")), // [10, 20)
    ];
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Pairs an element with the pane it is in, shown as the stateful step shows it.
#[derive(Clone, Serialize, Deserialize)]
struct ShowOutputPane;

impl DoFn for ShowOutputPane {
    type In = String;
    type Out = (String, String);
    fn process(&mut self, x: &String, ctx: &mut ProcessContext<'_, (String, String)>) -> Result<(), DoFnError> {
        let p = ctx.pane();
        let key = x.split('|').next().unwrap_or_default();
        let shown = format!(
            "{key}|{}|{}|{}|{}|{}",
            p.timing().name(),
            p.index(),
            p.is_first(),
            p.is_last(),
            p.nonspeculative_index()
        );
        ctx.emit((x.clone(), shown));
        Ok(())
    }
}

// ---------------------------------------------------------------- errors

/// Fails (or panics) on the value `on`, after writing state.
#[derive(Clone, Default, Serialize, Deserialize)]
struct FailingStateful {
    on: i64,
    panic: bool,
    count: ValueState<u64>,
}

impl StatefulDoFn for FailingStateful {
    type Key = String;
    type Value = i64;
    type Out = i64;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.count = specs.value("count");
    }
    fn process(&mut self, _: &String, v: &i64, ctx: &mut StateContext<'_, String, i64>) -> Result<(), DoFnError> {
        let mut c = ctx.value(&self.count)?;
        let n = c.read().unwrap_or(0);
        c.write(n + 1);
        if *v == self.on {
            assert!(!self.panic, "stateful panic on {v}");
            return Err(DoFnError::new(format!("stateful failure on {v}")));
        }
        ctx.emit(*v);
        Ok(())
    }
}

fn state_error_in_process_names_the_label(p: &Pipeline) -> Expect {
    let f = FailingStateful { on: 3, panic: false, ..Default::default() };
    let _ = p.apply(Create::new(kvs(&[("a", 1i64), ("b", 3), ("a", 5)]))).apply_named("Stateful", StatefulParDo::of(f));
    Expect::user_error("Stateful", "stateful failure on 3")
}

fn state_panic_in_process_names_the_label(p: &Pipeline) -> Expect {
    let f = FailingStateful { on: 5, panic: true, ..Default::default() };
    let _ = p.apply(Create::new(kvs(&[("a", 1i64), ("b", 3), ("a", 5)]))).apply_named("Stateful", StatefulParDo::of(f));
    Expect::user_error("Stateful", "stateful panic on 5")
}

/// Declares the name `x` twice: two value cells, or a value cell and a timer.
#[derive(Clone, Default, Serialize, Deserialize)]
struct DeclaresTwice {
    with_timer: bool,
    first: ValueState<u64>,
    second: ValueState<u64>,
    timer: Timer,
}

impl StatefulDoFn for DeclaresTwice {
    type Key = String;
    type Value = i64;
    type Out = i64;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.first = specs.value("x");
        if self.with_timer {
            self.timer = specs.timer("x", TimeDomain::EventTime);
        } else {
            self.second = specs.value("x");
        }
    }
    fn process(&mut self, _: &String, v: &i64, ctx: &mut StateContext<'_, String, i64>) -> Result<(), DoFnError> {
        ctx.emit(*v);
        Ok(())
    }
}

fn state_duplicate_state_name_is_rejected(p: &Pipeline) -> Expect {
    let _ = p
        .apply(Create::new(kvs(&[("a", 1i64)])))
        .apply_named("Twice", StatefulParDo::of(DeclaresTwice { with_timer: false, ..Default::default() }));
    Expect::construction_error("more than once").and_error(|e| {
        let m = e.to_string();
        if m.contains("Twice") && m.contains("'x'") {
            Ok(())
        } else {
            Err(format!("expected the error to name the step and the name 'x': {m}"))
        }
    })
}

fn state_state_and_timer_with_one_name_rejected(p: &Pipeline) -> Expect {
    let _ = p
        .apply(Create::new(kvs(&[("a", 1i64)])))
        .apply_named("Twice", StatefulParDo::of(DeclaresTwice { with_timer: true, ..Default::default() }));
    Expect::construction_error("more than once")
}

// ---------------------------------------------------------------- with other transforms

/// `(key, count, sum)` to `(count, key)`.
#[derive(Clone, Serialize, Deserialize)]
struct CountToKey;

impl DoFn for CountToKey {
    type In = (String, u64, i64);
    type Out = (u64, String);
    fn process(
        &mut self,
        x: &(String, u64, i64),
        ctx: &mut ProcessContext<'_, (u64, String)>,
    ) -> Result<(), DoFnError> {
        ctx.emit((x.1, x.0.clone()));
        Ok(())
    }
}

/// The keys with each count, grouped after the stateful step.
fn state_then_group_by_key(p: &Pipeline) -> Expect {
    let sizes = [("a", 2i64), ("b", 1), ("c", 2), ("d", 3), ("e", 1), ("f", 2)];
    let input: Vec<(String, i64)> = sizes.iter().flat_map(|(k, n)| (0..*n).map(move |i| (k.to_string(), i))).collect();
    let grouped = p
        .apply(Create::new(input))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<String>::new()))
        .apply(ParDo::of(CountToKey))
        .apply(GroupByKey::new())
        .apply(sort_group());
    let mut expected: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (k, n) in sizes {
        expected.entry(n as u64).or_default().push(k.to_string());
    }
    assert_that(&grouped, contains_in_any_order(expected));
    Expect::success()
}

/// Counts a key's groups, their elements and their sum: after a
/// GroupByKey each key and window has one group.
#[derive(Clone, Default, Serialize, Deserialize)]
struct GroupStats {
    totals: ValueState<(u64, u64, i64)>,
    flush: Timer,
}

type GroupStatsOut = (String, u64, u64, i64);

impl StatefulDoFn for GroupStats {
    type Key = String;
    type Value = Vec<i64>;
    type Out = GroupStatsOut;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.totals = specs.value("totals");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        vs: &Vec<i64>,
        ctx: &mut StateContext<'_, String, GroupStatsOut>,
    ) -> Result<(), DoFnError> {
        let mut t = ctx.value(&self.totals)?;
        let (g, n, s) = t.read().unwrap_or_default();
        t.write((g + 1, n + vs.len() as u64, s + vs.iter().sum::<i64>()));
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, String, GroupStatsOut>) -> Result<(), DoFnError> {
        let (g, n, s) = ctx.value(&self.totals)?.read().unwrap_or_default();
        let k = ctx.key().clone();
        ctx.emit((k, g, n, s));
        Ok(())
    }
}

fn state_after_group_by_key(p: &Pipeline) -> Expect {
    let out = at(p, &WINDOWED_INPUT)
        .apply(WindowInto::new(fixed(10)))
        .apply(GroupByKey::new())
        .apply_named("GroupStats", StatefulParDo::of(GroupStats::default()))
        .apply(with_window());
    let expected: Vec<(GroupStatsOut, Window)> = per_window_expected(|t| {
        let s = start_of(t, 10);
        vec![(s, s + 10)]
    })
    .into_iter()
    .map(|((k, n, s), _, w)| ((k, 1, n, s), w))
    .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Dedup, then count and sum the distinct values: two stateful steps in a row.
fn state_two_stateful_steps_chained(p: &Pipeline) -> Expect {
    let input = with_duplicates();
    let out = p
        .apply(Create::new(input.clone()))
        .apply_named("Dedup", StatefulParDo::of(Dedup::default()))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<String>::new()));
    let distinct: BTreeSet<(String, i64)> = input.into_iter().collect();
    assert_that(&out, contains_in_any_order(count_sum(distinct)));
    Expect::success()
}

/// The portable graph lists the state cells and timers with their kinds,
/// and the step asks for stateful processing and timers.
fn state_graph_records_the_specs(p: &Pipeline) -> Expect {
    let out =
        p.apply(Create::new(kvs(&[("a", 1i64)]))).apply_named("CollectBag", StatefulParDo::of(CollectBag::default()));
    assert_that(&out, contains_in_any_order(vec![("a".to_string(), vec![1i64])]));
    let graph = p.graph();
    let check = match graph.transforms.iter().find(|t| t.label == "CollectBag") {
        None => Err("the graph has no step 'CollectBag'".to_string()),
        Some(t) => {
            let states = &t.payload["state_specs"];
            let timers = &t.payload["timer_specs"];
            let reqs: BTreeSet<&str> = t.requirements.iter().map(String::as_str).collect();
            if states[0]["name"] != "values" || states[0]["kind"] != "bag" || states.as_array().map(Vec::len) != Some(1)
            {
                Err(format!("state specs: {states}"))
            } else if timers[0]["name"] != "flush"
                || timers[0]["domain"] != "event_time"
                || timers[0]["family"] != false
                || timers.as_array().map(Vec::len) != Some(1)
            {
                Err(format!("timer specs: {timers}"))
            } else if !reqs.contains(STATEFUL_PROCESSING) || !reqs.contains(TIMERS) {
                Err(format!("requirements: {reqs:?}"))
            } else {
                Ok(())
            }
        }
    };
    Expect::success().and_built(check)
}

// ---------------------------------------------------------------- unbounded

/// `u64` to `i64`.
#[derive(Clone, Serialize, Deserialize)]
struct ToI64;

impl DoFn for ToI64 {
    type In = u64;
    type Out = i64;
    fn process(&mut self, x: &u64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit(*x as i64);
        Ok(())
    }
}

/// `n` generated numbers (event time `i` ms) in windows of a second, keyed by `i mod 3`.
fn generated(p: &Pipeline, g: GenerateSequence) -> PCollection<(i64, i64)> {
    p.apply_named("Events", g)
        .apply_named("ToI64", ParDo::of(ToI64))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(1))))
        .apply(ParDo::of(ModKey { k: 3 }))
}

/// `((key, count, sum), window)` of `i mod 3` over `i` in `xs`, windows of a second.
fn per_second(xs: impl IntoIterator<Item = i64>) -> Vec<((i64, u64, i64), Window)> {
    let mut m: BTreeMap<(i64, i64), (u64, i64)> = BTreeMap::new();
    for i in xs {
        let e = m.entry((i % 3, i.div_euclid(1000))).or_default();
        e.0 += 1;
        e.1 += i;
    }
    m.into_iter().map(|((k, w), (n, s))| ((k, n, s), win(w, w + 1))).collect()
}

fn state_unbounded_counts_per_window(p: &Pipeline) -> Expect {
    let counts = generated(p, GenerateSequence::new().count(3000))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<i64>::new()))
        .apply(with_window());
    assert_that(&counts, contains_in_any_order(per_second(0..3000)));
    Expect::success()
}

/// `(key, count, sum)` to `(0, count)`.
#[derive(Clone, Serialize, Deserialize)]
struct CountUnderZero;

impl DoFn for CountUnderZero {
    type In = (i64, u64, i64);
    type Out = (i64, u64);
    fn process(&mut self, x: &(i64, u64, i64), ctx: &mut ProcessContext<'_, (i64, u64)>) -> Result<(), DoFnError> {
        ctx.emit((0, x.1));
        Ok(())
    }
}

/// What the end-of-window timers emit is on time for a GroupByKey (a
/// combine) downstream in the same windows: the timers hold the watermark.
fn state_unbounded_then_group_by_key(p: &Pipeline) -> Expect {
    let totals = generated(p, GenerateSequence::new().count(3000).rate(30_000.0))
        .apply_named("CountSum", StatefulParDo::of(CountSum::<i64>::new()))
        .apply(ParDo::of(CountUnderZero))
        .apply(Combine::per_key(Sum::<u64>::new()))
        .apply(with_window());
    assert_that(&totals, contains_in_any_order((0..3).map(|w| ((0i64, 1000u64), win(w, w + 1)))));
    Expect::success()
}

/// Passes on the outputs of windows at or after 0; counts the elements the
/// outputs of earlier windows stand for (counter `late_kept`).
#[derive(Clone, Serialize, Deserialize)]
struct SplitLate;

impl DoFn for SplitLate {
    type In = (i64, u64, i64);
    type Out = (i64, u64, i64);
    fn process(&mut self, x: &(i64, u64, i64), ctx: &mut ProcessContext<'_, (i64, u64, i64)>) -> Result<(), DoFnError> {
        if ctx.window().max_timestamp() < Timestamp::from_micros(0) {
            ctx.metrics().inc_counter("late_kept", x.1 as i64);
        } else {
            ctx.emit(*x);
        }
        Ok(())
    }
}

/// Every 10th element is an hour late. Which of them arrive after the
/// watermark passed their window depends on the runner's pace, but each is
/// either counted in its (past) window or dropped and counted in
/// `dropped_due_to_lateness`, never both, never neither; the on-time
/// elements are all counted in their windows. The source is paced over
/// about 150 ms, so the watermark moves on while it reads: some late
/// elements must be dropped.
fn state_unbounded_late_data_dropped_and_counted(p: &Pipeline) -> Expect {
    let n = 3000i64;
    let g = GenerateSequence::new().count(n as u64).rate(20_000.0).late(10, Duration::from_secs(3600));
    let on_time = generated(p, g)
        .apply_named("CountSum", StatefulParDo::of(CountSum::<i64>::new()))
        .apply_named("SplitLate", ParDo::of(SplitLate))
        .apply(with_window());
    assert_that(&on_time, contains_in_any_order(per_second((0..n).filter(|i| i % 10 != 9))));
    let late = n / 10;
    Expect::success().check(move |r: &PipelineResult| {
        let m = r.metrics();
        let dropped = m.counter("CountSum", "dropped_due_to_lateness").unwrap_or(0);
        let kept = m.counter("SplitLate", "late_kept").unwrap_or(0);
        if dropped + kept != late {
            Err(format!("of {late} late elements {dropped} were dropped and {kept} counted"))
        } else if dropped == 0 {
            Err(format!("none of the {late} late elements was dropped"))
        } else {
            Ok(())
        }
    })
}
