//! `Combine` (globally, per key, grouped values), `Count`, `Sum`, per window
//! and with merging windows.

use crate::fns::{end_of, kvs, reify, secs, strings, win, MeanFn, SortedConcat};
use crate::harness::{Expect, Test};
use beamline::plan::capabilities::{MERGING_WINDOWS, SIDE_INPUTS};
use beamline::prelude::*;
use beamline::{TimestampCombiner, Window};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("combine_globally", combine_globally).requires(&[SIDE_INPUTS]),
        Test::new("combine_globally_default_on_empty_input", combine_globally_default_on_empty_input)
            .requires(&[SIDE_INPUTS]),
        Test::new(
            "combine_globally_default_is_at_the_minimum_timestamp",
            combine_globally_default_is_at_the_minimum_timestamp,
        )
        .requires(&[SIDE_INPUTS]),
        Test::new("combine_globally_without_defaults_on_empty_input", combine_globally_without_defaults_on_empty_input),
        Test::new("combine_globally_without_defaults", combine_globally_without_defaults),
        Test::new("combine_globally_accumulator_type", combine_globally_accumulator_type).requires(&[SIDE_INPUTS]),
        Test::new("combine_globally_output_in_global_window", combine_globally_output_in_global_window)
            .requires(&[SIDE_INPUTS]),
        Test::new("combine_globally_per_window", combine_globally_per_window),
        Test::new("combine_globally_sessions", combine_globally_sessions).requires(&[MERGING_WINDOWS]),
        Test::new("combine_per_key", combine_per_key),
        Test::new("combine_per_key_strings", combine_per_key_strings),
        Test::new("combine_per_key_empty_input", combine_per_key_empty_input),
        Test::new("combine_per_key_many_keys", combine_per_key_many_keys),
        Test::new("combine_per_key_per_window", combine_per_key_per_window),
        Test::new("combine_per_key_timestamp_earliest", combine_per_key_timestamp_earliest),
        Test::new("combine_per_key_sessions", combine_per_key_sessions).requires(&[MERGING_WINDOWS]),
        Test::new("combine_grouped_values", combine_grouped_values),
        Test::new("count_globally", count_globally).requires(&[SIDE_INPUTS]),
        Test::new("count_globally_empty", count_globally_empty).requires(&[SIDE_INPUTS]),
        Test::new("count_per_key", count_per_key),
        Test::new("count_per_element", count_per_element),
        Test::new("count_per_element_per_window", count_per_element_per_window),
        Test::new("sum_integers_and_floats", sum_integers_and_floats).requires(&[SIDE_INPUTS]),
        Test::new("combine_fn_panic_names_the_label", combine_fn_panic_names_the_label),
    ]
}

fn combine_globally(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(1..=100i64)).apply(Combine::globally(Sum::<i64>::new()));
    assert_that(&s, contains_in_any_order(vec![5050]));
    Expect::success()
}

fn combine_globally_default_on_empty_input(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(Vec::<i64>::new())).apply(Combine::globally(Sum::<i64>::new()));
    assert_that(&s, contains_in_any_order(vec![0]));
    let c = p.apply_named("Strings", Create::new(Vec::<String>::new())).apply(Combine::globally(SortedConcat));
    assert_that(&c, contains_in_any_order(vec![String::new()]));
    Expect::success()
}

/// As in Beam, the default of an empty global combine is at the minimum timestamp.
fn combine_globally_default_is_at_the_minimum_timestamp(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(Vec::<i64>::new())).apply(Combine::globally(Sum::<i64>::new()));
    assert_that(&s.apply(reify()), contains_in_any_order(vec![(0i64, Timestamp::MIN, Window::Global)]));
    Expect::success()
}

fn combine_globally_without_defaults_on_empty_input(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(Vec::<i64>::new())).apply(Combine::globally(Sum::<i64>::new()).without_defaults());
    assert_that(&s, is_empty());
    Expect::success()
}

fn combine_globally_without_defaults(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(vec![4i64, 5])).apply(Combine::globally(Sum::<i64>::new()).without_defaults());
    assert_that(&s, contains_in_any_order(vec![9]));
    Expect::success()
}

/// A CombineFn whose accumulator type differs from its input and output.
fn combine_globally_accumulator_type(p: &Pipeline) -> Expect {
    let m = p.apply(Create::new(vec![1i64, 2, 3, 4])).apply(Combine::globally(MeanFn));
    assert_that(&m, contains_in_any_order(vec![2.5f64]));
    Expect::success()
}

/// Like Beam: the global combine's output sits at the end of the global window.
fn combine_globally_output_in_global_window(p: &Pipeline) -> Expect {
    let s = p.apply(Create::timestamped(vec![(1i64, secs(5))])).apply(Combine::globally(Sum::<i64>::new()));
    assert_that(&s.apply(reify()), contains_in_any_order(vec![(1, Timestamp::END_OF_GLOBAL_WINDOW, Window::Global)]));
    Expect::success()
}

fn fixed10<T: Element>(c: PCollection<T>) -> PCollection<T> {
    c.apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
}

/// One output per non-empty window, none for empty windows (no default).
fn combine_globally_per_window(p: &Pipeline) -> Expect {
    let xs = fixed10(p.apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(2)), (3, secs(33))])));
    let s = xs.apply(Combine::globally(Sum::<i64>::new()));
    assert_that(
        &s.apply(reify()),
        contains_in_any_order(vec![(3, end_of(0, 10), win(0, 10)), (3, end_of(30, 40), win(30, 40))]),
    );
    assert_that_in_window(&s, win(10, 20), is_empty());
    Expect::success()
}

fn combine_globally_sessions(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(3)), (4, secs(20))]))
        .apply(WindowInto::new(WindowFn::sessions(Duration::from_secs(5))));
    let s = xs.apply(Combine::globally(Sum::<i64>::new()));
    assert_that(
        &s.apply(reify()),
        contains_in_any_order(vec![(3, end_of(1, 8), win(1, 8)), (4, end_of(20, 25), win(20, 25))]),
    );
    Expect::success()
}

fn combine_per_key(p: &Pipeline) -> Expect {
    let s = p
        .apply(Create::new(kvs(&[("a", 1i64), ("b", 10), ("a", 2), ("a", 3)])))
        .apply(Combine::per_key(Sum::<i64>::new()));
    assert_that(&s, contains_in_any_order(kvs(&[("a", 6i64), ("b", 10)])));
    Expect::success()
}

fn combine_per_key_strings(p: &Pipeline) -> Expect {
    let s = p
        .apply(Create::new(vec![(1u8, "z".to_string()), (1, "a".into()), (2, "m".into()), (1, "q".into())]))
        .apply(Combine::per_key(SortedConcat));
    assert_that(&s, contains_in_any_order(vec![(1u8, "a,q,z".to_string()), (2, "m".to_string())]));
    Expect::success()
}

fn combine_per_key_empty_input(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(Vec::<(String, i64)>::new())).apply(Combine::per_key(Sum::<i64>::new()));
    assert_that(&s, is_empty());
    Expect::success()
}

fn combine_per_key_many_keys(p: &Pipeline) -> Expect {
    let data: Vec<(u32, i64)> = (0..50_000i64).map(|i| ((i % 1000) as u32, i)).collect();
    let s = p.apply(Create::new(data)).apply(Combine::per_key(Sum::<i64>::new()));
    let expected = (0..1000i64).map(|k| (k as u32, (0..50).map(|j| j * 1000 + k).sum::<i64>()));
    assert_that(&s, contains_in_any_order(expected));
    Expect::success()
}

fn combine_per_key_per_window(p: &Pipeline) -> Expect {
    let xs = fixed10(p.apply(Create::timestamped(vec![
        (("a".to_string(), 1i64), secs(1)),
        (("a".to_string(), 2), secs(8)),
        (("a".to_string(), 4), secs(12)),
        (("b".to_string(), 8), secs(3)),
    ])));
    let s = xs.apply(Combine::per_key(Sum::<i64>::new()));
    assert_that(
        &s.apply(reify()),
        contains_in_any_order(vec![
            (("a".to_string(), 3i64), end_of(0, 10), win(0, 10)),
            (("a".to_string(), 4), end_of(10, 20), win(10, 20)),
            (("b".to_string(), 8), end_of(0, 10), win(0, 10)),
        ]),
    );
    Expect::success()
}

fn combine_per_key_timestamp_earliest(p: &Pipeline) -> Expect {
    let xs =
        p.apply(Create::timestamped(vec![(("a".to_string(), 1i64), secs(6)), (("a".to_string(), 2), secs(4))])).apply(
            WindowInto::new(WindowFn::fixed(Duration::from_secs(10)))
                .with_timestamp_combiner(TimestampCombiner::Earliest),
        );
    let s = xs.apply(Combine::per_key(Sum::<i64>::new()));
    assert_that(&s.apply(reify()), contains_in_any_order(vec![(("a".to_string(), 3i64), secs(4), win(0, 10))]));
    Expect::success()
}

fn combine_per_key_sessions(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::timestamped(vec![
            (("a".to_string(), 1i64), secs(1)),
            (("a".to_string(), 2), secs(4)),
            (("a".to_string(), 4), secs(30)),
            (("b".to_string(), 8), secs(2)),
        ]))
        .apply(WindowInto::new(WindowFn::sessions(Duration::from_secs(5))));
    let s = xs.apply(Combine::per_key(Sum::<i64>::new()));
    assert_that(
        &s.apply(reify()),
        contains_in_any_order(vec![
            (("a".to_string(), 3i64), end_of(1, 9), win(1, 9)),
            (("a".to_string(), 4), end_of(30, 35), win(30, 35)),
            (("b".to_string(), 8), end_of(2, 7), win(2, 7)),
        ]),
    );
    Expect::success()
}

fn combine_grouped_values(p: &Pipeline) -> Expect {
    let s = p
        .apply(Create::new(vec![("a".to_string(), vec![1i64, 2, 3]), ("b".into(), vec![]), ("c".into(), vec![-5])]))
        .apply(Combine::grouped_values(Sum::<i64>::new()));
    assert_that(&s, contains_in_any_order(kvs(&[("a", 6i64), ("b", 0), ("c", -5)])));
    Expect::success()
}

fn count_globally(p: &Pipeline) -> Expect {
    let n = p.apply(Create::new(strings(&["a", "b", "a"]))).apply(Count::globally());
    assert_that(&n, contains_in_any_order(vec![3u64]));
    Expect::success()
}

fn count_globally_empty(p: &Pipeline) -> Expect {
    let n = p.apply(Create::new(Vec::<u8>::new())).apply(Count::globally());
    assert_that(&n, contains_in_any_order(vec![0u64]));
    Expect::success()
}

fn count_per_key(p: &Pipeline) -> Expect {
    let n = p.apply(Create::new(kvs(&[("a", 1i64), ("b", 1), ("a", 1), ("a", 7)]))).apply(Count::per_key());
    assert_that(&n, contains_in_any_order(kvs(&[("a", 3u64), ("b", 1)])));
    Expect::success()
}

fn count_per_element(p: &Pipeline) -> Expect {
    let n = p.apply(Create::new(strings(&["x", "y", "x", "", "x"]))).apply(Count::per_element());
    assert_that(&n, contains_in_any_order(kvs(&[("x", 3u64), ("y", 1), ("", 1)])));
    Expect::success()
}

fn count_per_element_per_window(p: &Pipeline) -> Expect {
    let xs = fixed10(p.apply(Create::timestamped(vec![
        ("x".to_string(), secs(1)),
        ("x".to_string(), secs(2)),
        ("x".to_string(), secs(11)),
    ])));
    let n = xs.apply(Count::per_element());
    assert_that_in_window(&n, win(0, 10), contains_in_any_order(kvs(&[("x", 2u64)])));
    assert_that_in_window(&n, win(10, 20), contains_in_any_order(kvs(&[("x", 1u64)])));
    Expect::success()
}

fn sum_integers_and_floats(p: &Pipeline) -> Expect {
    let i = p.apply_named("Ints", Create::new(vec![i32::MAX - 10, 5, 5])).apply(Combine::globally(Sum::<i32>::new()));
    assert_that(&i, contains_in_any_order(vec![i32::MAX]));
    let f = p.apply_named("Floats", Create::new(vec![0.5f64, 0.25, 0.125])).apply(Combine::globally(Sum::<f64>::new()));
    assert_that(&f, contains_in_any_order(vec![0.875f64]));
    let u = p
        .apply_named("PerKey", Create::new(vec![("k".to_string(), 1u64), ("k".into(), 2)]))
        .apply(Combine::per_key(Sum::<u64>::new()));
    assert_that(&u, contains_in_any_order(vec![("k".to_string(), 3u64)]));
    Expect::success()
}

/// Panics when it adds the input 13.
#[derive(Clone, Serialize, Deserialize)]
struct Unlucky;

impl CombineFn for Unlucky {
    type In = i64;
    type Acc = i64;
    type Out = i64;
    fn create_accumulator(&self) -> i64 {
        0
    }
    fn add_input(&self, acc: &mut i64, x: &i64) {
        assert!(*x != 13, "unlucky input {x}");
        *acc += x;
    }
    fn merge_accumulators(&self, acc: &mut i64, o: i64) {
        *acc += o;
    }
    fn extract_output(&self, acc: i64) -> i64 {
        acc
    }
}

/// A panic inside a CombineFn fails the run with the combine's label.
fn combine_fn_panic_names_the_label(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(vec![(1u8, 12i64), (1, 13)])).apply_named("Tally", Combine::per_key(Unlucky));
    Expect::error(|e| match e {
        beamline::Error::UserCode { label, message, .. }
            if label.starts_with("Tally") && message.contains("unlucky input 13") =>
        {
            Ok(())
        }
        other => Err(format!("expected a failure of a step of 'Tally' saying 'unlucky input 13', got: {other}")),
    })
}
