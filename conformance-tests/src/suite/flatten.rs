//! `Flatten`: of several, of an empty, of the same PCollection twice, of
//! windowed PCollections.

use crate::fns::{kvs, reify, secs, sort_group, win, AddN};
use crate::harness::{Expect, Test};
use beamline::prelude::*;
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("flatten_two", flatten_two),
        Test::new("flatten_with_an_empty_pcollection", flatten_with_an_empty_pcollection),
        Test::new("flatten_of_empties", flatten_of_empties),
        Test::new("flatten_same_pcollection_twice", flatten_same_pcollection_twice),
        Test::new("flatten_one", flatten_one),
        Test::new("flatten_many", flatten_many),
        Test::new("flatten_keeps_timestamps_and_windows", flatten_keeps_timestamps_and_windows),
        Test::new("flatten_then_group", flatten_then_group),
        Test::new("flatten_different_windowing_fails", flatten_different_windowing_fails),
    ]
}

fn flatten_two(p: &Pipeline) -> Expect {
    let a = p.apply_named("A", Create::new(vec![1i64, 2]));
    let b = p.apply_named("B", Create::new(vec![3i64, 2]));
    assert_that(&vec![a, b].apply(Flatten::new()), contains_in_any_order(vec![1, 2, 2, 3]));
    Expect::success()
}

fn flatten_with_an_empty_pcollection(p: &Pipeline) -> Expect {
    let a = p.apply_named("A", Create::new(vec![1i64, 2]));
    let e = p.apply_named("Empty", Create::new(Vec::<i64>::new()));
    assert_that(&vec![e, a].apply(Flatten::new()), contains_in_any_order(vec![1, 2]));
    Expect::success()
}

fn flatten_of_empties(p: &Pipeline) -> Expect {
    let a = p.apply_named("A", Create::new(Vec::<String>::new()));
    let b = p.apply_named("B", Create::new(Vec::<String>::new()));
    assert_that(&vec![a, b].apply(Flatten::new()), is_empty());
    Expect::success()
}

fn flatten_same_pcollection_twice(p: &Pipeline) -> Expect {
    let a = p.apply(Create::new(vec![1i64, 2]));
    let both = vec![a.clone(), a.clone()].apply(Flatten::new());
    assert_that(&both, contains_in_any_order(vec![1, 1, 2, 2]));
    let thrice = vec![a.clone(), both, a].apply_named("Again", Flatten::new());
    assert_that(&thrice, contains_in_any_order(vec![1, 1, 1, 1, 2, 2, 2, 2]));
    Expect::success()
}

fn flatten_one(p: &Pipeline) -> Expect {
    let a = p.apply(Create::new(vec![1i64, 2]));
    assert_that(&vec![a].apply(Flatten::new()), contains_in_any_order(vec![1, 2]));
    Expect::success()
}

fn flatten_many(p: &Pipeline) -> Expect {
    let parts: Vec<PCollection<i64>> = (0..10i64)
        .map(|i| {
            p.apply_named(&format!("Part{i}"), Create::new(vec![i * 100]))
                .apply_named(&format!("Add{i}"), ParDo::of(AddN { n: i }))
        })
        .collect();
    assert_that(&parts.apply(Flatten::new()), contains_in_any_order((0..10i64).map(|i| i * 101)));
    Expect::success()
}

fn flatten_keeps_timestamps_and_windows(p: &Pipeline) -> Expect {
    let fixed = || WindowInto::new(WindowFn::fixed(Duration::from_secs(10)));
    let a = p.apply_named("A", Create::timestamped(vec![(1i64, secs(1))])).apply_named("WA", fixed());
    let b = p.apply_named("B", Create::timestamped(vec![(2i64, secs(15))])).apply_named("WB", fixed());
    let all = vec![a, b].apply(Flatten::new());
    assert_that(&all.apply(reify()), contains_in_any_order(vec![(1, secs(1), win(0, 10)), (2, secs(15), win(10, 20))]));
    Expect::success()
}

fn flatten_then_group(p: &Pipeline) -> Expect {
    let a = p.apply_named("A", Create::new(kvs(&[("x", 1i64), ("y", 2)])));
    let b = p.apply_named("B", Create::new(kvs(&[("x", 3i64)])));
    let g = vec![a, b].apply(Flatten::new()).apply(GroupByKey::new()).apply(sort_group());
    assert_that(&g, contains_in_any_order(kvs(&[("x", vec![1i64, 3]), ("y", vec![2])])));
    Expect::success()
}

fn flatten_different_windowing_fails(p: &Pipeline) -> Expect {
    let a = p.apply_named("A", Create::new(vec![1i64]));
    let b =
        p.apply_named("B", Create::new(vec![2i64])).apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
    let _ = vec![a, b].apply_named("Mixed", Flatten::new());
    Expect::construction_error("'Mixed' flattens PCollections with different windowing")
}
