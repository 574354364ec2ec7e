//! `GroupByKey`: many keys, one huge key, empty input, per window (fixed,
//! sliding, merging sessions) and the output timestamps.

use crate::fns::{end_of, kvs, reify, secs, sort_group, win, Generate, GroupSummary, Summarize};
use crate::harness::{Expect, Test};
use beamline::plan::capabilities::MERGING_WINDOWS;
use beamline::prelude::*;
use beamline::{TimestampCombiner, Window};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("gbk_basic", gbk_basic),
        Test::new("gbk_many_keys", gbk_many_keys),
        Test::new("gbk_one_key_a_million_values", gbk_one_key_a_million_values),
        Test::new("gbk_empty_input", gbk_empty_input),
        Test::new("gbk_large_values", gbk_large_values),
        Test::new("gbk_sessions_twice", gbk_sessions_twice).requires(&[MERGING_WINDOWS]),
        Test::new("gbk_composite_keys", gbk_composite_keys),
        Test::new("gbk_twice", gbk_twice),
        Test::new("gbk_fixed_windows", gbk_fixed_windows),
        Test::new("gbk_sliding_windows", gbk_sliding_windows),
        Test::new("gbk_sessions_merge", gbk_sessions_merge).requires(&[MERGING_WINDOWS]),
        Test::new("gbk_sessions_chain_merge", gbk_sessions_chain_merge).requires(&[MERGING_WINDOWS]),
        Test::new("gbk_timestamp_end_of_window", gbk_timestamp_end_of_window),
        Test::new("gbk_timestamp_earliest", gbk_timestamp_earliest),
        Test::new("gbk_timestamp_latest", gbk_timestamp_latest),
        Test::new("gbk_timestamp_global_window", gbk_timestamp_global_window),
        Test::new("gbk_sessions_timestamp_earliest", gbk_sessions_timestamp_earliest).requires(&[MERGING_WINDOWS]),
    ]
}

fn gbk_basic(p: &Pipeline) -> Expect {
    let g = p
        .apply(Create::new(kvs(&[("a", 1i64), ("b", 2), ("a", 3), ("c", 4), ("a", 3)])))
        .apply(GroupByKey::new())
        .apply(sort_group());
    assert_that(&g, contains_in_any_order(kvs(&[("a", vec![1i64, 3, 3]), ("b", vec![2]), ("c", vec![4])])));
    Expect::success()
}

/// `seeds` Create elements, each expanded by [`Generate`] into `per_seed` pairs.
fn generated(p: &Pipeline, seeds: u64, per_seed: u64, keys: u64) -> PCollection<(u64, u64)> {
    p.apply(Create::new(0..seeds)).apply(ParDo::of(Generate { per_seed, keys }))
}

fn gbk_many_keys(p: &Pipeline) -> Expect {
    let (seeds, keys) = (5u64, 20_000u64);
    let g = generated(p, seeds, keys, keys).apply(GroupByKey::new()).apply(ParDo::of(Summarize));
    // Key k holds s * keys + k for every seed s.
    let expected: Vec<GroupSummary> = (0..keys)
        .map(|k| (k, seeds, seeds * k + keys * (seeds * (seeds - 1) / 2), k, (seeds - 1) * keys + k))
        .collect();
    assert_that(&g, contains_in_any_order(expected));
    Expect::success()
}

fn gbk_one_key_a_million_values(p: &Pipeline) -> Expect {
    let n = 1_000_000u64;
    let g = generated(p, 16, n / 16, 1).apply(GroupByKey::new()).apply(ParDo::of(Summarize));
    assert_that(&g, contains_in_any_order(vec![(0u64, n, n * (n - 1) / 2, 0, n - 1)]));
    Expect::success()
}

fn gbk_empty_input(p: &Pipeline) -> Expect {
    let g = p.apply(Create::new(Vec::<(String, i64)>::new())).apply(GroupByKey::new());
    assert_that(&g, is_empty());
    Expect::success()
}

/// Values of several MB each, grouped under one key.
fn gbk_large_values(p: &Pipeline) -> Expect {
    const MB: usize = 1 << 20;
    let values = vec!["a".repeat(3 * MB), "b".repeat(4 * MB), String::new()];
    let g = p
        .apply(Create::new(values.into_iter().map(|v| ("k".to_string(), v)).collect::<Vec<_>>()))
        .apply(GroupByKey::new())
        .apply(ParDo::of(Sizes));
    assert_that(&g, contains_in_any_order(vec![("k".to_string(), vec![0usize, 3 * MB, 4 * MB])]));
    Expect::success()
}

/// `(k, [text])` into `(k, sorted sizes)`.
#[derive(Clone, Serialize, Deserialize)]
struct Sizes;

impl DoFn for Sizes {
    type In = (String, Vec<String>);
    type Out = (String, Vec<usize>);
    fn process(
        &mut self,
        kv: &(String, Vec<String>),
        ctx: &mut ProcessContext<'_, (String, Vec<usize>)>,
    ) -> Result<(), DoFnError> {
        let mut sizes: Vec<usize> = kv.1.iter().map(String::len).collect();
        sizes.sort();
        ctx.emit((kv.0.clone(), sizes));
        Ok(())
    }
}

/// `(k, vs)` into `("all", len(vs))`.
#[derive(Clone, Serialize, Deserialize)]
struct Regroup;

impl DoFn for Regroup {
    type In = (String, Vec<i64>);
    type Out = (String, usize);
    fn process(
        &mut self,
        kv: &(String, Vec<i64>),
        ctx: &mut ProcessContext<'_, (String, usize)>,
    ) -> Result<(), DoFnError> {
        ctx.emit(("all".into(), kv.1.len()));
        Ok(())
    }
}

/// Sessions already merged per key merge again when regrouped under one key.
fn gbk_sessions_twice(p: &Pipeline) -> Expect {
    let g = timestamped_kvs(p, &[("a", 1, 1), ("a", 2, 2), ("b", 3, 4), ("c", 4, 20)])
        .apply(WindowInto::new(sessions(3)))
        .apply_named("PerKey", GroupByKey::new())
        .apply(ParDo::of(Regroup))
        .apply_named("All", GroupByKey::new())
        .apply(sort_group());
    // a: [1, 5); b: [4, 7) -> together [1, 7); c: [20, 23).
    assert_that(
        &g.apply(reify()),
        contains_in_any_order(vec![
            (("all".to_string(), vec![1usize, 2]), end_of(1, 7), win(1, 7)),
            (("all".to_string(), vec![1]), end_of(20, 23), win(20, 23)),
        ]),
    );
    Expect::success()
}

/// Keys of several shapes: tuples, options, unicode, bytes.
fn gbk_composite_keys(p: &Pipeline) -> Expect {
    type K = (Option<String>, Vec<u8>, i8);
    let k1: K = (None, vec![], -1);
    let k2: K = (Some("ключ🔑".into()), vec![0, 255], 0);
    let k3: K = (Some(String::new()), vec![0], 0);
    let g = p
        .apply(Create::new(vec![
            (k1.clone(), 1u32),
            (k2.clone(), 2),
            (k1.clone(), 3),
            (k3.clone(), 4),
            (k2.clone(), 5),
        ]))
        .apply(GroupByKey::new())
        .apply(sort_group());
    assert_that(&g, contains_in_any_order(vec![(k1, vec![1, 3]), (k2, vec![2, 5]), (k3, vec![4])]));
    Expect::success()
}

/// `(k, vs)` into `(len(vs), k)`.
#[derive(Clone, Serialize, Deserialize)]
struct SizeKey;

impl DoFn for SizeKey {
    type In = (String, Vec<i64>);
    type Out = (usize, String);
    fn process(
        &mut self,
        kv: &(String, Vec<i64>),
        ctx: &mut ProcessContext<'_, (usize, String)>,
    ) -> Result<(), DoFnError> {
        ctx.emit((kv.1.len(), kv.0.clone()));
        Ok(())
    }
}

fn gbk_twice(p: &Pipeline) -> Expect {
    let g = p
        .apply(Create::new(kvs(&[("a", 1i64), ("b", 2), ("a", 3), ("c", 4), ("d", 5), ("d", 6)])))
        .apply_named("First", GroupByKey::new())
        .apply(ParDo::of(SizeKey))
        .apply_named("Second", GroupByKey::new())
        .apply(sort_group());
    assert_that(
        &g,
        contains_in_any_order(vec![(1usize, vec!["b".to_string(), "c".into()]), (2, vec!["a".into(), "d".into()])]),
    );
    Expect::success()
}

fn timestamped_kvs(p: &Pipeline, xs: &[(&str, i64, i64)]) -> PCollection<(String, i64)> {
    p.apply(Create::timestamped(xs.iter().map(|(k, v, t)| ((k.to_string(), *v), secs(*t))).collect::<Vec<_>>()))
}

fn gbk_fixed_windows(p: &Pipeline) -> Expect {
    let g = timestamped_kvs(p, &[("a", 1, 1), ("a", 2, 9), ("a", 3, 10), ("b", 4, 5), ("b", 5, 25)])
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
        .apply(GroupByKey::new())
        .apply(sort_group());
    assert_that(
        &g.apply(reify()),
        contains_in_any_order(vec![
            (("a".to_string(), vec![1i64, 2]), end_of(0, 10), win(0, 10)),
            (("a".to_string(), vec![3]), end_of(10, 20), win(10, 20)),
            (("b".to_string(), vec![4]), end_of(0, 10), win(0, 10)),
            (("b".to_string(), vec![5]), end_of(20, 30), win(20, 30)),
        ]),
    );
    Expect::success()
}

fn gbk_sliding_windows(p: &Pipeline) -> Expect {
    // Windows of 10 s every 5 s: t=7 is in [0,10) and [5,15); t=12 in [5,15) and [10,20).
    let g = timestamped_kvs(p, &[("a", 1, 7), ("a", 2, 12)])
        .apply(WindowInto::new(WindowFn::sliding(Duration::from_secs(10), Duration::from_secs(5))))
        .apply(GroupByKey::new())
        .apply(sort_group());
    assert_that(
        &g.apply(reify()),
        contains_in_any_order(vec![
            (("a".to_string(), vec![1i64]), end_of(0, 10), win(0, 10)),
            (("a".to_string(), vec![1, 2]), end_of(5, 15), win(5, 15)),
            (("a".to_string(), vec![2]), end_of(10, 20), win(10, 20)),
        ]),
    );
    Expect::success()
}

fn sessions(gap: u64) -> WindowFn {
    WindowFn::sessions(Duration::from_secs(gap))
}

/// Sessions merge per key, never across keys.
fn gbk_sessions_merge(p: &Pipeline) -> Expect {
    let g = timestamped_kvs(p, &[("a", 1, 1), ("a", 2, 2), ("a", 3, 4), ("a", 4, 20), ("b", 5, 3), ("b", 6, 30)])
        .apply(WindowInto::new(sessions(3)))
        .apply(GroupByKey::new())
        .apply(sort_group());
    assert_that(
        &g.apply(reify()),
        contains_in_any_order(vec![
            (("a".to_string(), vec![1i64, 2, 3]), end_of(1, 7), win(1, 7)),
            (("a".to_string(), vec![4]), end_of(20, 23), win(20, 23)),
            (("b".to_string(), vec![5]), end_of(3, 6), win(3, 6)),
            (("b".to_string(), vec![6]), end_of(30, 33), win(30, 33)),
        ]),
    );
    Expect::success()
}

/// Out-of-order elements whose sessions only merge through later ones
/// (sessions that merely touch, `[1, 4)` and `[4, 7)`, do not merge).
fn gbk_sessions_chain_merge(p: &Pipeline) -> Expect {
    let times = [10, 1, 7, 4, 13, 30, 16];
    let data: Vec<(&str, i64, i64)> = times.iter().map(|t| ("k", *t, *t)).collect();
    let g = timestamped_kvs(p, &data).apply(WindowInto::new(sessions(4))).apply(GroupByKey::new()).apply(sort_group());
    assert_that(
        &g.apply(reify()),
        contains_in_any_order(vec![
            (("k".to_string(), vec![1i64, 4, 7, 10, 13, 16]), end_of(1, 20), win(1, 20)),
            (("k".to_string(), vec![30]), end_of(30, 34), win(30, 34)),
        ]),
    );
    Expect::success()
}

fn grouped_timestamps(
    p: &Pipeline,
    combiner: TimestampCombiner,
) -> PCollection<((String, Vec<i64>), Timestamp, Window)> {
    timestamped_kvs(p, &[("a", 1, 3), ("a", 2, 7), ("a", 3, 5), ("b", 4, 12)])
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))).with_timestamp_combiner(combiner))
        .apply(GroupByKey::new())
        .apply(sort_group())
        .apply(reify())
}

fn gbk_timestamp_end_of_window(p: &Pipeline) -> Expect {
    assert_that(
        &grouped_timestamps(p, TimestampCombiner::EndOfWindow),
        contains_in_any_order(vec![
            (("a".to_string(), vec![1i64, 2, 3]), end_of(0, 10), win(0, 10)),
            (("b".to_string(), vec![4]), end_of(10, 20), win(10, 20)),
        ]),
    );
    Expect::success()
}

fn gbk_timestamp_earliest(p: &Pipeline) -> Expect {
    assert_that(
        &grouped_timestamps(p, TimestampCombiner::Earliest),
        contains_in_any_order(vec![
            (("a".to_string(), vec![1i64, 2, 3]), secs(3), win(0, 10)),
            (("b".to_string(), vec![4]), secs(12), win(10, 20)),
        ]),
    );
    Expect::success()
}

fn gbk_timestamp_latest(p: &Pipeline) -> Expect {
    assert_that(
        &grouped_timestamps(p, TimestampCombiner::Latest),
        contains_in_any_order(vec![
            (("a".to_string(), vec![1i64, 2, 3]), secs(7), win(0, 10)),
            (("b".to_string(), vec![4]), secs(12), win(10, 20)),
        ]),
    );
    Expect::success()
}

/// In the global window, grouped output is at the end of the global window.
fn gbk_timestamp_global_window(p: &Pipeline) -> Expect {
    let g =
        timestamped_kvs(p, &[("a", 1, 3), ("a", 2, 70)]).apply(GroupByKey::new()).apply(sort_group()).apply(reify());
    assert_that(
        &g,
        contains_in_any_order(vec![(
            ("a".to_string(), vec![1i64, 2]),
            Timestamp::END_OF_GLOBAL_WINDOW,
            Window::Global,
        )]),
    );
    Expect::success()
}

fn gbk_sessions_timestamp_earliest(p: &Pipeline) -> Expect {
    let g = timestamped_kvs(p, &[("a", 1, 5), ("a", 2, 3), ("a", 3, 7)])
        .apply(WindowInto::new(sessions(3)).with_timestamp_combiner(TimestampCombiner::Earliest))
        .apply(GroupByKey::new())
        .apply(sort_group())
        .apply(reify());
    assert_that(&g, contains_in_any_order(vec![(("a".to_string(), vec![1i64, 2, 3]), secs(3), win(3, 10))]));
    Expect::success()
}
