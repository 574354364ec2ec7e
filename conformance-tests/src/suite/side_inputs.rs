//! Side inputs: singleton (with and without default), list, map, multimap,
//! and side inputs matched to the main input's window.

use crate::fns::{secs, win};
use crate::harness::{Expect, Test};
use beamline::plan::capabilities::SIDE_INPUTS;
use beamline::prelude::*;
use beamline::{ListView, MapView, MultiMapView, Singleton};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    [
        Test::new("side_input_singleton", side_input_singleton),
        Test::new("side_input_singleton_with_default", side_input_singleton_with_default),
        Test::new("side_input_singleton_default_unused", side_input_singleton_default_unused),
        Test::new("side_input_singleton_empty_fails", side_input_singleton_empty_fails),
        Test::new("side_input_singleton_of_two_fails", side_input_singleton_of_two_fails),
        Test::new("side_input_singleton_computed", side_input_singleton_computed),
        Test::new("side_input_list", side_input_list),
        Test::new("side_input_list_empty", side_input_list_empty),
        Test::new("side_input_map", side_input_map),
        Test::new("side_input_map_duplicate_key_fails", side_input_map_duplicate_key_fails),
        Test::new("side_input_multimap", side_input_multimap),
        Test::new("side_input_two_sides", side_input_two_sides),
        Test::new("side_input_fixed_windows", side_input_fixed_windows),
        Test::new("side_input_list_fixed_windows", side_input_list_fixed_windows),
        Test::new("side_input_global_side_windowed_main", side_input_global_side_windowed_main),
        Test::new("side_input_empty_main", side_input_empty_main),
        Test::new("side_input_sliding_side_window_mapping", side_input_sliding_side_window_mapping),
        Test::new("side_input_large_list_and_map", side_input_large_list_and_map),
        Test::new("side_input_defaults_differ_per_step", side_input_defaults_differ_per_step),
    ]
    .into_iter()
    .map(|t| t.requires(&[SIDE_INPUTS]))
    .collect()
}

/// Adds the singleton side input to each element.
#[derive(Clone, Serialize, Deserialize)]
struct AddSide {
    side: SideInput<Singleton<i64>>,
}

impl DoFn for AddSide {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        let s = ctx.side_input(&self.side)?;
        ctx.emit(x + s);
        Ok(())
    }
}

fn add_side(main: &PCollection<i64>, side: SideInput<Singleton<i64>>) -> PCollection<i64> {
    main.apply_named("AddSide", ParDo::of(AddSide { side: side.clone() }).with_side_input(&side))
}

fn side_input_singleton(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64, 2, 3]));
    let side = p.apply_named("Side", Create::new(vec![10i64]));
    assert_that(&add_side(&main, side.as_singleton()), contains_in_any_order(vec![11, 12, 13]));
    Expect::success()
}

fn side_input_singleton_with_default(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64, 2]));
    let side = p.apply_named("Side", Create::new(Vec::<i64>::new()));
    assert_that(&add_side(&main, side.as_singleton_or(100)), contains_in_any_order(vec![101, 102]));
    Expect::success()
}

fn side_input_singleton_default_unused(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64, 2]));
    let side = p.apply_named("Side", Create::new(vec![5i64]));
    assert_that(&add_side(&main, side.as_singleton_or(100)), contains_in_any_order(vec![6, 7]));
    Expect::success()
}

fn side_input_singleton_empty_fails(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64]));
    let side = p.apply_named("Side", Create::new(Vec::<i64>::new()));
    let _ = add_side(&main, side.as_singleton());
    Expect::user_error("AddSide", "is empty")
}

fn side_input_singleton_of_two_fails(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64]));
    let side = p.apply_named("Side", Create::new(vec![1i64, 2]));
    let _ = add_side(&main, side.as_singleton());
    Expect::user_error("AddSide", "holds 2 elements")
}

/// The side input is computed by the pipeline: steps reading it wait for it.
fn side_input_singleton_computed(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64, 2]));
    let total = p.apply_named("Side", Create::new(1..=100i64)).apply(Combine::globally(Sum::<i64>::new()));
    assert_that(&add_side(&main, total.as_singleton()), contains_in_any_order(vec![5051, 5052]));
    Expect::success()
}

/// Emits `(x, sum of the list, length of the list)`.
#[derive(Clone, Serialize, Deserialize)]
struct ReadList {
    side: SideInput<ListView<i64>>,
}

impl DoFn for ReadList {
    type In = i64;
    type Out = (i64, i64, usize);
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, (i64, i64, usize)>) -> Result<(), DoFnError> {
        let list = ctx.side_input(&self.side)?;
        ctx.emit((*x, list.iter().sum(), list.len()));
        Ok(())
    }
}

fn read_list(main: &PCollection<i64>, side: &PCollection<i64>) -> PCollection<(i64, i64, usize)> {
    let side = side.as_list();
    main.apply_named("ReadList", ParDo::of(ReadList { side: side.clone() }).with_side_input(&side))
}

fn side_input_list(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64, 2]));
    let side = p.apply_named("Side", Create::new(vec![10i64, 20, 30, 30]));
    assert_that(&read_list(&main, &side), contains_in_any_order(vec![(1, 90, 4), (2, 90, 4)]));
    Expect::success()
}

fn side_input_list_empty(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64]));
    let side = p.apply_named("Side", Create::new(Vec::<i64>::new()));
    assert_that(&read_list(&main, &side), contains_in_any_order(vec![(1, 0, 0)]));
    Expect::success()
}

/// Looks each key up in a map side input.
#[derive(Clone, Serialize, Deserialize)]
struct Lookup {
    side: SideInput<MapView<String, i64>>,
}

impl DoFn for Lookup {
    type In = String;
    type Out = (String, Option<i64>);
    fn process(&mut self, k: &String, ctx: &mut ProcessContext<'_, (String, Option<i64>)>) -> Result<(), DoFnError> {
        let v = ctx.side_input(&self.side)?.get(k).copied();
        ctx.emit((k.clone(), v));
        Ok(())
    }
}

fn lookup(p: &Pipeline, side: Vec<(String, i64)>) -> PCollection<(String, Option<i64>)> {
    let main = p.apply_named("Main", Create::new(vec!["a".to_string(), "b".into(), "zz".into()]));
    let side = p.apply_named("Side", Create::new(side)).as_map();
    main.apply_named("Lookup", ParDo::of(Lookup { side: side.clone() }).with_side_input(&side))
}

fn side_input_map(p: &Pipeline) -> Expect {
    let out = lookup(p, vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 3)]);
    assert_that(
        &out,
        contains_in_any_order(vec![("a".to_string(), Some(1)), ("b".into(), Some(2)), ("zz".into(), None)]),
    );
    Expect::success()
}

fn side_input_map_duplicate_key_fails(p: &Pipeline) -> Expect {
    let _ = lookup(p, vec![("a".into(), 1), ("a".into(), 2)]);
    Expect::user_error("Lookup", "twice")
}

/// Looks each key up in a multimap side input; values sorted.
#[derive(Clone, Serialize, Deserialize)]
struct LookupAll {
    side: SideInput<MultiMapView<String, i64>>,
}

impl DoFn for LookupAll {
    type In = String;
    type Out = (String, Vec<i64>);
    fn process(&mut self, k: &String, ctx: &mut ProcessContext<'_, (String, Vec<i64>)>) -> Result<(), DoFnError> {
        let mut vs = ctx.side_input(&self.side)?.get(k).cloned().unwrap_or_default();
        vs.sort();
        ctx.emit((k.clone(), vs));
        Ok(())
    }
}

fn side_input_multimap(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec!["a".to_string(), "b".into(), "zz".into()]));
    let side = p
        .apply_named(
            "Side",
            Create::new(vec![("a".to_string(), 3i64), ("a".into(), 1), ("b".into(), 2), ("a".into(), 3)]),
        )
        .as_multimap();
    let out = main.apply_named("LookupAll", ParDo::of(LookupAll { side: side.clone() }).with_side_input(&side));
    assert_that(
        &out,
        contains_in_any_order(vec![("a".to_string(), vec![1, 3, 3]), ("b".into(), vec![2]), ("zz".into(), vec![])]),
    );
    Expect::success()
}

/// Reads two side inputs at once.
#[derive(Clone, Serialize, Deserialize)]
struct TwoSides {
    offset: SideInput<Singleton<i64>>,
    factors: SideInput<ListView<i64>>,
}

impl DoFn for TwoSides {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        let offset = *ctx.side_input(&self.offset)?;
        for f in ctx.side_input(&self.factors)? {
            ctx.emit(x * f + offset);
        }
        Ok(())
    }
}

fn side_input_two_sides(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64, 2]));
    let offset = p.apply_named("Offset", Create::new(vec![1000i64])).as_singleton();
    let factors = p.apply_named("Factors", Create::new(vec![1i64, 10])).as_list();
    let out = main.apply(
        ParDo::of(TwoSides { offset: offset.clone(), factors: factors.clone() })
            .with_side_input(&offset)
            .with_side_input(&factors),
    );
    assert_that(&out, contains_in_any_order(vec![1001, 1010, 1002, 1020]));
    Expect::success()
}

/// Emits `(x, side)` for a windowed singleton side input.
#[derive(Clone, Serialize, Deserialize)]
struct PairSide {
    side: SideInput<Singleton<i64>>,
}

impl DoFn for PairSide {
    type In = i64;
    type Out = (i64, i64);
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, (i64, i64)>) -> Result<(), DoFnError> {
        let s = *ctx.side_input(&self.side)?;
        ctx.emit((*x, s));
        Ok(())
    }
}

fn fixed10<T: Element>(c: PCollection<T>) -> PCollection<T> {
    c.apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
}

/// Each main element reads the side value of its own window (or the default).
fn side_input_fixed_windows(p: &Pipeline) -> Expect {
    let main =
        fixed10(p.apply_named("Main", Create::timestamped(vec![(1i64, secs(1)), (11, secs(11)), (21, secs(21))])));
    let side = fixed10(p.apply_named("Side", Create::timestamped(vec![(100i64, secs(9)), (200, secs(10))])))
        .as_singleton_or(0);
    let out = main.apply(ParDo::of(PairSide { side: side.clone() }).with_side_input(&side));
    assert_that(&out, contains_in_any_order(vec![(1, 100), (11, 200), (21, 0)]));
    assert_that_in_window(&out, win(10, 20), contains_in_any_order(vec![(11, 200)]));
    Expect::success()
}

fn side_input_list_fixed_windows(p: &Pipeline) -> Expect {
    let main = fixed10(p.apply_named("Main", Create::timestamped(vec![(1i64, secs(5)), (2, secs(15)), (3, secs(25))])));
    let side = fixed10(p.apply_named(
        "Side",
        Create::timestamped(vec![(10i64, secs(0)), (20, secs(9)), (30, secs(12)), (40, secs(99))]),
    ));
    assert_that(&read_list(&main, &side), contains_in_any_order(vec![(1, 30, 2), (2, 30, 1), (3, 0, 0)]));
    Expect::success()
}

/// A side input in the global window is seen by main elements of every window.
fn side_input_global_side_windowed_main(p: &Pipeline) -> Expect {
    let main = fixed10(p.apply_named("Main", Create::timestamped(vec![(1i64, secs(1)), (2, secs(55))])));
    let side = p.apply_named("Side", Create::new(vec![7i64])).as_singleton();
    let out = main.apply(ParDo::of(PairSide { side: side.clone() }).with_side_input(&side));
    assert_that(&out, contains_in_any_order(vec![(1, 7), (2, 7)]));
    Expect::success()
}

fn side_input_empty_main(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(Vec::<i64>::new()));
    let side = p.apply_named("Side", Create::new(vec![1i64]));
    assert_that(&add_side(&main, side.as_singleton()), is_empty());
    Expect::success()
}

/// A sliding-windowed side input is read in the window that holds the end of
/// the main element's window and starts first: the last of the windows
/// `assign` gives, as in Beam Python's `default_window_mapping_fn`
/// (`assign(max_timestamp)[-1]`). Beam Java picks the one that starts last.
fn side_input_sliding_side_window_mapping(p: &Pipeline) -> Expect {
    // The main element lies in [5, 10); its last instant is in [0, 10) and [5, 15).
    let main = p
        .apply_named("Main", Create::timestamped(vec![(1i64, secs(7))]))
        .apply_named("MainWindows", WindowInto::new(WindowFn::fixed(Duration::from_secs(5))));
    let side = p.apply_named("Side", Create::timestamped(vec![(10i64, secs(2)), (20, secs(12))])).apply_named(
        "SideWindows",
        WindowInto::new(WindowFn::sliding(Duration::from_secs(10), Duration::from_secs(5))),
    );
    // [0, 10) holds only 10; [5, 15) holds only 20.
    assert_that(&read_list(&main, &side), contains_in_any_order(vec![(1, 10, 1)]));
    Expect::success()
}

/// Looks every main element up in a big map and sums a big list.
#[derive(Clone, Serialize, Deserialize)]
struct BigSides {
    list: SideInput<ListView<i64>>,
    map: SideInput<MapView<i64, i64>>,
}

impl DoFn for BigSides {
    type In = i64;
    type Out = (i64, i64, Option<i64>);
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, (i64, i64, Option<i64>)>) -> Result<(), DoFnError> {
        let total = ctx.side_input(&self.list)?.iter().sum();
        let found = ctx.side_input(&self.map)?.get(x).copied();
        ctx.emit((*x, total, found));
        Ok(())
    }
}

fn side_input_large_list_and_map(p: &Pipeline) -> Expect {
    let n = 100_000i64;
    let main = p.apply_named("Main", Create::new((0..1000i64).map(|i| i * 150)));
    let list = p.apply_named("List", Create::new(0..n)).as_list();
    let map = p.apply_named("Map", Create::new((0..n).map(|i| (i, -i)))).as_map();
    let out = main.apply(
        ParDo::of(BigSides { list: list.clone(), map: map.clone() }).with_side_input(&list).with_side_input(&map),
    );
    let total = n * (n - 1) / 2;
    let expected = (0..1000i64).map(|i| i * 150).map(|x| (x, total, (x < n).then_some(-x)));
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Two steps of the same DoFn type, each with its own default for an empty
/// side input: each reads its own default, also when rebuilt from the graph.
fn side_input_defaults_differ_per_step(p: &Pipeline) -> Expect {
    let main = p.apply_named("Main", Create::new(vec![1i64]));
    let empty = p.apply_named("Empty", Create::new(Vec::<i64>::new()));
    let side_a = empty.as_singleton_or(100);
    let side_b = empty.as_singleton_or(5);
    let a = main.apply_named("AddA", ParDo::of(AddSide { side: side_a.clone() }).with_side_input(&side_a));
    let b = main.apply_named("AddB", ParDo::of(AddSide { side: side_b.clone() }).with_side_input(&side_b));
    assert_that(&a, contains_in_any_order(vec![101]));
    assert_that(&b, contains_in_any_order(vec![6]));
    Expect::success()
}
