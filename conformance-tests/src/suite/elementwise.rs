//! Element-wise transforms: `Map`, `FlatMap`, `Filter`, `MapTuple`,
//! `WithKeys`, `WithTimestamps` (closures: in-process only, so their graph
//! round trip is "not portable") and `Keys`, `Values`, `KvSwap` (portable).

use crate::fns::{kvs, reify, secs, strings, win};
use crate::harness::{Expect, Test};
use beamline::prelude::*;
use beamline::Error;
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("map", map),
        Test::new("map_changes_type", map_changes_type),
        Test::new("flat_map", flat_map),
        Test::new("filter", filter),
        Test::new("filter_everything_out", filter_everything_out),
        Test::new("map_tuple", map_tuple),
        Test::new("keys", keys),
        Test::new("values", values),
        Test::new("kv_swap", kv_swap),
        Test::new("with_keys", with_keys),
        Test::new("with_timestamps", with_timestamps),
        Test::new("closures_keep_timestamps_and_windows", closures_keep_timestamps_and_windows),
        Test::new("closure_steps_are_not_portable", closure_steps_are_not_portable),
    ]
}

fn map(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i64, 2, 3, -4])).apply(Map::new(|x: &i64| x * x));
    assert_that(&xs, contains_in_any_order(vec![1, 4, 9, 16]));
    Expect::success()
}

fn map_changes_type(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1u32, 22])).apply(Map::new(|x: &u32| (x.to_string(), *x as f64 / 2.0)));
    assert_that(&xs, contains_in_any_order(vec![("1".to_string(), 0.5), ("22".to_string(), 11.0)]));
    Expect::success()
}

fn flat_map(p: &Pipeline) -> Expect {
    let lines = p.apply(Create::new(strings(&["the cat", "", "sat  on the mat", "   "])));
    let words = lines.apply(FlatMap::new(|l: &String| l.split_whitespace().map(String::from).collect::<Vec<_>>()));
    assert_that(&words, contains_in_any_order(strings(&["the", "cat", "sat", "on", "the", "mat"])));
    let none = lines.apply_named("Nothing", FlatMap::new(|_: &String| Vec::<u8>::new()));
    assert_that(&none, is_empty());
    Expect::success()
}

fn filter(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(0..20i64)).apply(Filter::new(|x: &i64| x % 3 == 0));
    assert_that(&xs, contains_in_any_order(vec![0, 3, 6, 9, 12, 15, 18]));
    Expect::success()
}

fn filter_everything_out(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(0..20i64)).apply(Filter::new(|x: &i64| *x > 100));
    assert_that(&xs, is_empty());
    Expect::success()
}

fn map_tuple(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::new(kvs(&[("a", 2usize), ("bc", 3)])))
        .apply(MapTuple::new(|k: &String, n: &usize| k.repeat(*n)));
    assert_that(&xs, contains_in_any_order(strings(&["aa", "bcbcbc"])));
    Expect::success()
}

fn keys(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(kvs(&[("a", 1i32), ("b", 2), ("a", 3)]))).apply(Keys::new());
    assert_that(&xs, contains_in_any_order(strings(&["a", "b", "a"])));
    Expect::success()
}

fn values(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(kvs(&[("a", 1i32), ("b", 2), ("a", 3)]))).apply(Values::new());
    assert_that(&xs, contains_in_any_order(vec![1, 2, 3]));
    Expect::success()
}

fn kv_swap(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(kvs(&[("a", 1i32), ("b", 2)]))).apply(KvSwap::new());
    assert_that(&xs, contains_in_any_order(vec![(1, "a".to_string()), (2, "b".to_string())]));
    Expect::success()
}

fn with_keys(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(strings(&["apple", "fig"]))).apply(WithKeys::new(|s: &String| s.len()));
    assert_that(&xs, contains_in_any_order(vec![(5usize, "apple".to_string()), (3, "fig".to_string())]));
    Expect::success()
}

fn with_timestamps(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::new(vec![3i64, 15, -2]))
        .apply(WithTimestamps::new(|x: &i64| Timestamp::from_secs(*x)))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
    assert_that(
        &xs.apply(reify()),
        contains_in_any_order(vec![(3, secs(3), win(0, 10)), (15, secs(15), win(10, 20)), (-2, secs(-2), win(-10, 0))]),
    );
    Expect::success()
}

fn closures_keep_timestamps_and_windows(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(12))]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
        .apply(Map::new(|x: &i64| x * 10))
        .apply(FlatMap::new(|x: &i64| vec![*x, x + 1]))
        .apply(Filter::new(|x: &i64| x % 2 == 0));
    assert_that(
        &xs.apply(reify()),
        contains_in_any_order(vec![(10, secs(1), win(0, 10)), (20, secs(12), win(10, 20))]),
    );
    Expect::success()
}

/// Dumping the graph of a pipeline with a closure fails, naming the step and
/// the way out; running it in-process works.
fn closure_steps_are_not_portable(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i64])).apply_named("Triple", Map::new(|x: &i64| x * 3));
    assert_that(&xs, contains_in_any_order(vec![3]));
    let check = match p.portable_graph_json() {
        Err(Error::Graph { label, message }) if label == "Triple" && message.contains("DoFn") => Ok(()),
        Err(e) => Err(format!("expected a graph error naming 'Triple' and saying how to fix it, got: {e}")),
        Ok(_) => Err("portable_graph_json succeeded on a pipeline holding a closure".into()),
    };
    Expect::success().and_built(check)
}
