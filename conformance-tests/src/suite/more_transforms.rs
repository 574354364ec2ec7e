//! `Distinct`, `Partition` and `CoGroupByKey`.

use crate::fns::{end_of, kvs, reify, secs, strings, win};
use crate::harness::{Expect, Test};
use beamline::plan::capabilities::MULTIPLE_OUTPUTS;
use beamline::prelude::*;
use beamline::{CoGbkResult, Distinct, KeyedPCollections, Partition, PartitionFn};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("distinct", distinct),
        Test::new("distinct_empty", distinct_empty),
        Test::new("distinct_many_duplicates", distinct_many_duplicates),
        Test::new("distinct_per_window", distinct_per_window),
        Test::new("partition_portable", partition_portable).requires(&[MULTIPLE_OUTPUTS]),
        Test::new("partition_closure", partition_closure).requires(&[MULTIPLE_OUTPUTS]),
        Test::new("partition_single", partition_single),
        Test::new("partition_two_sizes_of_one_fn", partition_two_sizes_of_one_fn).requires(&[MULTIPLE_OUTPUTS]),
        Test::new("partition_keeps_timestamps_and_windows", partition_keeps_timestamps_and_windows)
            .requires(&[MULTIPLE_OUTPUTS]),
        Test::new("partition_index_out_of_range_fails", partition_index_out_of_range_fails)
            .requires(&[MULTIPLE_OUTPUTS]),
        Test::new("partition_zero_fails", partition_zero_fails),
        Test::new("cogbk_two_way", cogbk_two_way),
        Test::new("cogbk_three_way", cogbk_three_way),
        Test::new("cogbk_empty_inputs", cogbk_empty_inputs),
        Test::new("cogbk_same_pcollection_twice", cogbk_same_pcollection_twice),
        Test::new("cogbk_per_window", cogbk_per_window),
    ]
}

fn distinct(p: &Pipeline) -> Expect {
    let d = p.apply(Create::new(strings(&["a", "b", "a", "", "b", ""]))).apply(Distinct::new());
    assert_that(&d, contains_in_any_order(strings(&["a", "b", ""])));
    Expect::success()
}

fn distinct_empty(p: &Pipeline) -> Expect {
    let d = p.apply(Create::new(Vec::<u32>::new())).apply(Distinct::new());
    assert_that(&d, is_empty());
    Expect::success()
}

fn distinct_many_duplicates(p: &Pipeline) -> Expect {
    let d = p.apply(Create::new((0..50_000u64).map(|i| (i * 31) % 997))).apply(Distinct::new());
    assert_that(&d, contains_in_any_order(0..997u64));
    Expect::success()
}

/// Once per window, at the end of the window.
fn distinct_per_window(p: &Pipeline) -> Expect {
    let d = p
        .apply(Create::timestamped(vec![("x".to_string(), secs(1)), ("x".into(), secs(2)), ("x".into(), secs(12))]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
        .apply(Distinct::new());
    assert_that(
        &d.apply(reify()),
        contains_in_any_order(vec![
            ("x".to_string(), end_of(0, 10), win(0, 10)),
            ("x".into(), end_of(10, 20), win(10, 20)),
        ]),
    );
    Expect::success()
}

/// Partition `x mod n`.
#[derive(Clone, Serialize, Deserialize)]
struct ByRemainder;

impl PartitionFn<i64> for ByRemainder {
    fn partition_for(&self, x: &i64, n: usize) -> usize {
        x.rem_euclid(n as i64) as usize
    }
}

fn partition_portable(p: &Pipeline) -> Expect {
    let parts = p.apply(Create::new(0..10i64)).apply(Partition::of(3, ByRemainder));
    assert_that(&parts[0], contains_in_any_order(vec![0, 3, 6, 9]));
    assert_that(&parts[1], contains_in_any_order(vec![1, 4, 7]));
    assert_that(&parts[2], contains_in_any_order(vec![2, 5, 8]));
    Expect::success()
}

fn partition_closure(p: &Pipeline) -> Expect {
    let parts = p
        .apply(Create::new(strings(&["a", "bbb", "cc"])))
        .apply(Partition::new(2, |s: &String, _: usize| usize::from(s.len() > 1)));
    assert_that(&parts[0], contains_in_any_order(strings(&["a"])));
    assert_that(&parts[1], contains_in_any_order(strings(&["bbb", "cc"])));
    Expect::success()
}

fn partition_single(p: &Pipeline) -> Expect {
    let parts = p.apply(Create::new(vec![1i64, -2])).apply(Partition::of(1, ByRemainder));
    assert_that(&parts[0], contains_in_any_order(vec![1, -2]));
    Expect::success().and_built(if parts.len() == 1 {
        Ok(())
    } else {
        Err(format!("{} partitions, expected 1", parts.len()))
    })
}

/// Two partitions by the same function into different numbers of parts.
fn partition_two_sizes_of_one_fn(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(0..6i64));
    let two = xs.apply_named("Two", Partition::of(2, ByRemainder));
    let three = xs.apply_named("Three", Partition::of(3, ByRemainder));
    assert_that(&two[1], contains_in_any_order(vec![1, 3, 5]));
    assert_that(&three[2], contains_in_any_order(vec![2, 5]));
    Expect::success()
}

fn partition_keeps_timestamps_and_windows(p: &Pipeline) -> Expect {
    let parts = p
        .apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(12))]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
        .apply(Partition::of(2, ByRemainder));
    assert_that(&parts[0].apply(reify()), contains_in_any_order(vec![(2, secs(12), win(10, 20))]));
    assert_that(&parts[1].apply(reify()), contains_in_any_order(vec![(1, secs(1), win(0, 10))]));
    Expect::success()
}

/// Sends everything one past the last partition.
#[derive(Clone, Serialize, Deserialize)]
struct OutOfRange;

impl PartitionFn<i64> for OutOfRange {
    fn partition_for(&self, _: &i64, n: usize) -> usize {
        n
    }
}

fn partition_index_out_of_range_fails(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(vec![1i64])).apply_named("Split", Partition::of(2, OutOfRange));
    Expect::error(|e| match e {
        beamline::Error::UserCode { label, .. } if label.starts_with("Split") => Ok(()),
        other => Err(format!("expected a failure of step 'Split', got: {other}")),
    })
}

fn partition_zero_fails(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(vec![1i64])).apply_named("Split", Partition::of(0, ByRemainder));
    Expect::construction_error("'Split' asks for 0 partitions")
}

/// Sorts both sides of a typed join.
#[derive(Clone, Serialize, Deserialize)]
struct SortJoin;

type Joined = (String, (Vec<i64>, Vec<String>));

impl DoFn for SortJoin {
    type In = Joined;
    type Out = Joined;
    fn process(&mut self, (k, (a, b)): &Joined, ctx: &mut ProcessContext<'_, Joined>) -> Result<(), DoFnError> {
        let (mut a, mut b) = (a.clone(), b.clone());
        a.sort();
        b.sort();
        ctx.emit((k.clone(), (a, b)));
        Ok(())
    }
}

fn joined(k: &str, a: &[i64], b: &[&str]) -> Joined {
    (k.to_string(), (a.to_vec(), strings(b)))
}

fn cogbk_two_way(p: &Pipeline) -> Expect {
    let a = p.apply_named("A", Create::new(kvs(&[("x", 1i64), ("y", 2), ("x", 3)])));
    let b = p.apply_named("B", Create::new(kvs(&[("x", "p".to_string()), ("z", "q".to_string())])));
    let j = (a, b).apply(CoGroupByKey::new()).apply(ParDo::of(SortJoin));
    assert_that(
        &j,
        contains_in_any_order(vec![joined("x", &[1, 3], &["p"]), joined("y", &[2], &[]), joined("z", &[], &["q"])]),
    );
    Expect::success()
}

/// Reads three inputs of different types from a [`CoGbkResult`].
#[derive(Clone, Serialize, Deserialize)]
struct Rows {
    names: TupleTag<String>,
    ages: TupleTag<u8>,
    scores: TupleTag<f64>,
}

type Row = (u32, Vec<String>, Vec<u8>, usize);

impl DoFn for Rows {
    type In = (u32, CoGbkResult);
    type Out = Row;
    fn process(&mut self, (k, r): &(u32, CoGbkResult), ctx: &mut ProcessContext<'_, Row>) -> Result<(), DoFnError> {
        let mut names = r.try_get(&self.names)?;
        names.sort();
        let mut ages = r.try_get(&self.ages)?;
        ages.sort();
        ctx.emit((*k, names, ages, r.try_get(&self.scores)?.len()));
        Ok(())
    }
}

fn three_way(
    p: &Pipeline,
    names: Vec<(u32, String)>,
    ages: Vec<(u32, u8)>,
    scores: Vec<(u32, f64)>,
) -> PCollection<Row> {
    let (tn, ta, ts) = (TupleTag::<String>::new("names"), TupleTag::<u8>::new("ages"), TupleTag::<f64>::new("scores"));
    let names = p.apply_named("Names", Create::new(names));
    let ages = p.apply_named("Ages", Create::new(ages));
    let scores = p.apply_named("Scores", Create::new(scores));
    KeyedPCollections::new()
        .and(&tn, &names)
        .and(&ta, &ages)
        .and(&ts, &scores)
        .apply(CoGroupByKey::new())
        .apply(ParDo::of(Rows { names: tn, ages: ta, scores: ts }))
}

fn cogbk_three_way(p: &Pipeline) -> Expect {
    let rows = three_way(
        p,
        vec![(1, "amy".into()), (2, "bob".into()), (1, "amelia".into())],
        vec![(1, 30), (3, 41)],
        vec![(2, 0.5), (2, 1.5), (3, f64::NAN)],
    );
    assert_that(
        &rows,
        contains_in_any_order(vec![
            (1u32, strings(&["amelia", "amy"]), vec![30u8], 0usize),
            (2, strings(&["bob"]), vec![], 2),
            (3, vec![], vec![41], 1),
        ]),
    );
    Expect::success()
}

fn cogbk_empty_inputs(p: &Pipeline) -> Expect {
    let rows = three_way(p, vec![], vec![(7, 1)], vec![]);
    assert_that(&rows, contains_in_any_order(vec![(7u32, vec![], vec![1u8], 0usize)]));
    Expect::success()
}

/// The same PCollection under two tags: each tag sees all its values.
fn cogbk_same_pcollection_twice(p: &Pipeline) -> Expect {
    let a = p.apply(Create::new(kvs(&[("x", 1i64), ("x", 2)])));
    let j = (a.clone(), a.apply(ParDo::of(Label))).apply(CoGroupByKey::new()).apply(ParDo::of(SortJoin));
    assert_that(&j, contains_in_any_order(vec![joined("x", &[1, 2], &["1", "2"])]));
    Expect::success()
}

/// `(k, v)` into `(k, v as text)`.
#[derive(Clone, Serialize, Deserialize)]
struct Label;

impl DoFn for Label {
    type In = (String, i64);
    type Out = (String, String);
    fn process(
        &mut self,
        (k, v): &(String, i64),
        ctx: &mut ProcessContext<'_, (String, String)>,
    ) -> Result<(), DoFnError> {
        ctx.emit((k.clone(), v.to_string()));
        Ok(())
    }
}

fn fixed<T: Element>() -> WindowInto<T> {
    WindowInto::new(WindowFn::fixed(Duration::from_secs(10)))
}

fn cogbk_per_window(p: &Pipeline) -> Expect {
    let a = p
        .apply_named(
            "A",
            Create::timestamped(vec![(("x".to_string(), 1i64), secs(1)), (("x".to_string(), 2), secs(11))]),
        )
        .apply_named("WA", fixed());
    let b = p
        .apply_named("B", Create::timestamped(vec![(("x".to_string(), "p".to_string()), secs(5))]))
        .apply_named("WB", fixed());
    let j = (a, b).apply(CoGroupByKey::new()).apply(ParDo::of(SortJoin));
    assert_that(
        &j.apply(reify()),
        contains_in_any_order(vec![
            (joined("x", &[1], &["p"]), end_of(0, 10), win(0, 10)),
            (joined("x", &[2], &[]), end_of(10, 20), win(10, 20)),
        ]),
    );
    Expect::success()
}
