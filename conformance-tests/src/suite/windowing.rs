//! `WindowInto`: fixed (with offset), sliding, sessions, empty windows,
//! boundaries, and going back to the global window.

use crate::fns::{kvs, reify, secs, win, with_window};
use crate::harness::{Expect, Test};
use beamline::plan::capabilities::{MERGING_WINDOWS, SIDE_INPUTS};
use beamline::prelude::*;
use beamline::Window;
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("window_fixed", window_fixed),
        Test::new("window_fixed_with_offset", window_fixed_with_offset),
        Test::new("window_fixed_boundaries", window_fixed_boundaries),
        Test::new("window_fixed_negative_and_extreme_timestamps", window_fixed_negative_and_extreme_timestamps),
        Test::new("window_sliding", window_sliding),
        Test::new("window_sliding_counts", window_sliding_counts),
        Test::new("window_sliding_size_not_a_multiple_of_period", window_sliding_size_not_a_multiple_of_period),
        Test::new("window_sessions", window_sessions).requires(&[MERGING_WINDOWS]),
        Test::new("window_sessions_touching_do_not_merge", window_sessions_touching_do_not_merge)
            .requires(&[MERGING_WINDOWS]),
        Test::new("window_empty_windows_have_no_output", window_empty_windows_have_no_output),
        Test::new("window_back_into_global", window_back_into_global).requires(&[SIDE_INPUTS]),
        Test::new("window_rewindow_grouped_output", window_rewindow_grouped_output),
    ]
}

fn secs_d(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn at(p: &Pipeline, xs: &[(i64, i64)]) -> PCollection<i64> {
    p.apply(Create::timestamped(xs.iter().map(|(v, t)| (*v, secs(*t))).collect::<Vec<_>>()))
}

fn window_fixed(p: &Pipeline) -> Expect {
    let w = at(p, &[(1, 0), (2, 59), (3, 60), (4, 3600)]).apply(WindowInto::new(WindowFn::fixed(secs_d(60))));
    assert_that(
        &w.apply(with_window()),
        contains_in_any_order(vec![(1, win(0, 60)), (2, win(0, 60)), (3, win(60, 120)), (4, win(3600, 3660))]),
    );
    Expect::success()
}

fn window_fixed_with_offset(p: &Pipeline) -> Expect {
    let w = at(p, &[(1, 0), (2, 4), (3, 5), (4, 14), (5, 15)])
        .apply(WindowInto::new(WindowFn::fixed_with_offset(secs_d(10), secs_d(5))));
    assert_that(
        &w.apply(with_window()),
        contains_in_any_order(vec![
            (1, win(-5, 5)),
            (2, win(-5, 5)),
            (3, win(5, 15)),
            (4, win(5, 15)),
            (5, win(15, 25)),
        ]),
    );
    Expect::success()
}

/// Windows are half-open: the end instant belongs to the next window.
fn window_fixed_boundaries(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::timestamped(vec![
            (1i64, Timestamp::from_micros(9_999_999)),
            (2, Timestamp::from_micros(10_000_000)),
            (3, Timestamp::from_micros(-1)),
        ]))
        .apply(WindowInto::new(WindowFn::fixed(secs_d(10))));
    assert_that(
        &xs.apply(with_window()),
        contains_in_any_order(vec![(1, win(0, 10)), (2, win(10, 20)), (3, win(-10, 0))]),
    );
    Expect::success()
}

/// Elements at the minimum timestamp (`Create`'s default) and at the end of
/// the global window still get windows.
fn window_fixed_negative_and_extreme_timestamps(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::timestamped(vec![(1i64, Timestamp::MIN), (2, Timestamp::END_OF_GLOBAL_WINDOW), (3, secs(-25))]))
        .apply(WindowInto::new(WindowFn::fixed(secs_d(10))));
    let size = 10_000_000i64;
    let floor = |t: Timestamp| {
        let s = t.as_micros() - t.as_micros().rem_euclid(size);
        Window::interval(Timestamp::from_micros(s), Timestamp::from_micros(s + size))
    };
    assert_that(
        &xs.apply(with_window()),
        contains_in_any_order(vec![
            (1, floor(Timestamp::MIN)),
            (2, floor(Timestamp::END_OF_GLOBAL_WINDOW)),
            (3, win(-30, -20)),
        ]),
    );
    Expect::success()
}

fn window_sliding(p: &Pipeline) -> Expect {
    let w = at(p, &[(1, 7)]).apply(WindowInto::new(WindowFn::sliding(secs_d(30), secs_d(10))));
    assert_that(
        &w.apply(with_window()),
        contains_in_any_order(vec![(1, win(-20, 10)), (1, win(-10, 20)), (1, win(0, 30))]),
    );
    Expect::success()
}

fn window_sliding_size_not_a_multiple_of_period(p: &Pipeline) -> Expect {
    let w = at(p, &[(1, 7)]).apply(WindowInto::new(WindowFn::sliding(secs_d(10), secs_d(3))));
    assert_that(
        &w.apply(with_window()),
        contains_in_any_order(vec![(1, win(0, 10)), (1, win(3, 13)), (1, win(6, 16))]),
    );
    Expect::success()
}

fn window_sliding_counts(p: &Pipeline) -> Expect {
    let w = p
        .apply(Create::timestamped(vec![("a".to_string(), secs(2)), ("a".into(), secs(6)), ("b".into(), secs(6))]))
        .apply(WindowInto::new(WindowFn::sliding(secs_d(10), secs_d(5))));
    let n = w.apply(Count::per_element());
    assert_that_in_window(&n, win(-5, 5), contains_in_any_order(kvs(&[("a", 1u64)])));
    assert_that_in_window(&n, win(0, 10), contains_in_any_order(kvs(&[("a", 2u64), ("b", 1)])));
    assert_that_in_window(&n, win(5, 15), contains_in_any_order(kvs(&[("a", 1u64), ("b", 1)])));
    Expect::success()
}

fn window_sessions(p: &Pipeline) -> Expect {
    let w = p
        .apply(Create::timestamped(vec![
            ("u1".to_string(), secs(0)),
            ("u1".into(), secs(5)),
            ("u1".into(), secs(100)),
            ("u2".into(), secs(3)),
        ]))
        .apply(WindowInto::new(WindowFn::sessions(secs_d(10))));
    let n = w.apply(Count::per_element());
    assert_that(
        &n.apply(with_window()),
        contains_in_any_order(vec![
            (("u1".to_string(), 2u64), win(0, 15)),
            (("u1".to_string(), 1), win(100, 110)),
            (("u2".to_string(), 1), win(3, 13)),
        ]),
    );
    Expect::success()
}

fn window_sessions_touching_do_not_merge(p: &Pipeline) -> Expect {
    let w = p
        .apply(Create::timestamped(vec![("k".to_string(), secs(1)), ("k".into(), secs(4))]))
        .apply(WindowInto::new(WindowFn::sessions(secs_d(3))));
    let n = w.apply(Count::per_element());
    assert_that(
        &n.apply(with_window()),
        contains_in_any_order(vec![(("k".to_string(), 1u64), win(1, 4)), (("k".to_string(), 1), win(4, 7))]),
    );
    Expect::success()
}

fn window_empty_windows_have_no_output(p: &Pipeline) -> Expect {
    let w = at(p, &[(1, 1), (2, 45)]).apply(WindowInto::new(WindowFn::fixed(secs_d(10))));
    let n = w.apply(Combine::globally(Sum::<i64>::new()));
    assert_that(&n.apply(with_window()), contains_in_any_order(vec![(1, win(0, 10)), (2, win(40, 50))]));
    for (a, b) in [(10, 20), (20, 30), (30, 40)] {
        assert_that_in_window(&n, win(a, b), is_empty());
    }
    Expect::success()
}

/// Back in the global window everything groups together again (keeping timestamps).
fn window_back_into_global(p: &Pipeline) -> Expect {
    let w = at(p, &[(1, 1), (2, 45)])
        .apply_named("Fixed", WindowInto::new(WindowFn::fixed(secs_d(10))))
        .apply_named("Global", WindowInto::new(WindowFn::global()));
    assert_that(
        &w.apply(reify()),
        contains_in_any_order(vec![(1, secs(1), Window::Global), (2, secs(45), Window::Global)]),
    );
    assert_that(&w.apply(Combine::globally(Sum::<i64>::new())), contains_in_any_order(vec![3]));
    Expect::success()
}

/// Grouped output (at the end of its window) re-windowed into larger windows.
fn window_rewindow_grouped_output(p: &Pipeline) -> Expect {
    let sums = at(p, &[(1, 1), (2, 15), (3, 25), (4, 65)])
        .apply_named("Small", WindowInto::new(WindowFn::fixed(secs_d(10))))
        .apply_named("SumSmall", Combine::globally(Sum::<i64>::new()))
        .apply_named("Large", WindowInto::new(WindowFn::fixed(secs_d(60))))
        .apply_named("SumLarge", Combine::globally(Sum::<i64>::new()));
    assert_that(&sums.apply(with_window()), contains_in_any_order(vec![(6, win(0, 60)), (4, win(60, 120))]));
    Expect::success()
}
