//! The standard combiners beyond Count and Sum: Min, Max, Mean, Top, ToList,
//! Latest, Sample; and Reshuffle.

use crate::fns::{end_of, kvs, reify, secs, sort_group, strings, win};
use crate::harness::{Expect, Test};
use beamline::plan::capabilities::{MERGING_WINDOWS, SIDE_INPUTS};
use beamline::prelude::*;
use beamline::{Latest, Max, Mean, Min, Reshuffle, Sample, ToList, Top};
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("min_max_globally", min_max_globally).requires(&[SIDE_INPUTS]),
        Test::new("min_max_globally_empty", min_max_globally_empty).requires(&[SIDE_INPUTS]),
        Test::new("min_max_per_key", min_max_per_key),
        Test::new("min_max_nan_wins", min_max_nan_wins).requires(&[SIDE_INPUTS]),
        Test::new("min_max_per_window", min_max_per_window),
        Test::new("mean_globally", mean_globally).requires(&[SIDE_INPUTS]),
        Test::new("mean_globally_empty_is_nan", mean_globally_empty_is_nan).requires(&[SIDE_INPUTS]),
        Test::new("mean_per_key", mean_per_key),
        Test::new("top_largest_and_smallest", top_largest_and_smallest).requires(&[SIDE_INPUTS]),
        Test::new("top_more_than_there_are", top_more_than_there_are).requires(&[SIDE_INPUTS]),
        Test::new("top_per_key", top_per_key),
        Test::new("top_many_elements", top_many_elements).requires(&[SIDE_INPUTS]),
        Test::new("to_list_globally", to_list_globally).requires(&[SIDE_INPUTS]),
        Test::new("to_list_globally_empty", to_list_globally_empty).requires(&[SIDE_INPUTS]),
        Test::new("to_list_per_key", to_list_per_key),
        Test::new("latest_globally", latest_globally).requires(&[SIDE_INPUTS]),
        Test::new("latest_globally_empty", latest_globally_empty).requires(&[SIDE_INPUTS]),
        Test::new("latest_per_key", latest_per_key),
        Test::new("latest_per_window", latest_per_window),
        Test::new("sample_globally", sample_globally).requires(&[SIDE_INPUTS]),
        Test::new("sample_globally_fewer_than_n", sample_globally_fewer_than_n).requires(&[SIDE_INPUTS]),
        Test::new("sample_per_key", sample_per_key),
        Test::new("reshuffle_keeps_elements_timestamps_and_windows", reshuffle_keeps_elements_timestamps_and_windows),
        Test::new("reshuffle_with_buckets", reshuffle_with_buckets),
        Test::new("reshuffle_empty", reshuffle_empty),
        Test::new("reshuffle_sessions_stay_apart", reshuffle_sessions_stay_apart).requires(&[MERGING_WINDOWS]),
    ]
}

/// Sorts a list, so list outputs compare.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "")]
struct SortList<T>(PhantomData<fn() -> T>);

impl<T: Element + Ord> DoFn for SortList<T> {
    type In = Vec<T>;
    type Out = Vec<T>;
    fn process(&mut self, v: &Vec<T>, ctx: &mut ProcessContext<'_, Vec<T>>) -> Result<(), DoFnError> {
        let mut v = v.clone();
        v.sort();
        ctx.emit(v);
        Ok(())
    }
}

fn sort_list<T: Element + Ord>() -> ParDo<SortList<T>> {
    ParDo::of(SortList(PhantomData))
}

fn min_max_globally(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![5i64, -3, 12, 0]));
    assert_that(&xs.apply(Min::globally()), contains_in_any_order(vec![Some(-3i64)]));
    assert_that(&xs.apply(Max::globally()), contains_in_any_order(vec![Some(12i64)]));
    let words = p.apply_named("Words", Create::new(strings(&["pear", "apple", "zucchini", "fig"])));
    assert_that(&words.apply(Min::globally()), contains_in_any_order(vec![Some("apple".to_string())]));
    assert_that(&words.apply(Max::globally()), contains_in_any_order(vec![Some("zucchini".to_string())]));
    Expect::success()
}

fn min_max_globally_empty(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(Vec::<f64>::new()));
    assert_that(&xs.apply(Min::globally()), contains_in_any_order(vec![None]));
    assert_that(&xs.apply(Max::globally()), contains_in_any_order(vec![None]));
    Expect::success()
}

fn min_max_per_key(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(kvs(&[("a", 2.5f64), ("a", 0.5), ("b", 7.0), ("a", 1.0)])));
    assert_that(&xs.apply(Min::per_key()), contains_in_any_order(kvs(&[("a", 0.5f64), ("b", 7.0)])));
    assert_that(&xs.apply(Max::per_key()), contains_in_any_order(kvs(&[("a", 2.5f64), ("b", 7.0)])));
    Expect::success()
}

/// A NaN wins whatever the order inputs are added in (so every runner agrees).
fn min_max_nan_wins(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1.0f64, f64::NAN, -4.0, 0.5]));
    let is_nan = |c: PCollection<Option<f64>>| c.apply(ParDo::of(IsNan));
    assert_that(&is_nan(xs.apply(Min::globally())), contains_in_any_order(vec![true]));
    assert_that(&is_nan(xs.apply(Max::globally())), contains_in_any_order(vec![true]));
    Expect::success()
}

/// Whether a float (or an optional one) is NaN.
#[derive(Clone, Serialize, Deserialize)]
struct IsNan;

impl DoFn for IsNan {
    type In = Option<f64>;
    type Out = bool;
    fn process(&mut self, x: &Option<f64>, ctx: &mut ProcessContext<'_, bool>) -> Result<(), DoFnError> {
        ctx.emit(x.is_some_and(f64::is_nan));
        Ok(())
    }
}

fn fixed10<T: Element>(c: PCollection<T>) -> PCollection<T> {
    c.apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
}

fn min_max_per_window(p: &Pipeline) -> Expect {
    let xs = fixed10(p.apply(Create::timestamped(vec![(3i64, secs(1)), (1, secs(2)), (9, secs(15)), (8, secs(16))])));
    let mins = xs.apply(Min::globally());
    assert_that(
        &mins.apply(reify()),
        contains_in_any_order(vec![(Some(1i64), end_of(0, 10), win(0, 10)), (Some(8), end_of(10, 20), win(10, 20))]),
    );
    assert_that_in_window(&xs.apply(Max::globally()), win(10, 20), contains_in_any_order(vec![Some(9i64)]));
    Expect::success()
}

fn mean_globally(p: &Pipeline) -> Expect {
    assert_that(&p.apply(Create::new(vec![1i64, 2, 6])).apply(Mean::globally()), contains_in_any_order(vec![3.0f64]));
    let floats = p.apply_named("Floats", Create::new(vec![0.5f32, 1.5])).apply_named("MeanFloats", Mean::globally());
    assert_that(&floats, contains_in_any_order(vec![1.0f64]));
    Expect::success()
}

#[derive(Clone, Serialize, Deserialize)]
struct FloatIsNan;

impl DoFn for FloatIsNan {
    type In = f64;
    type Out = bool;
    fn process(&mut self, x: &f64, ctx: &mut ProcessContext<'_, bool>) -> Result<(), DoFnError> {
        ctx.emit(x.is_nan());
        Ok(())
    }
}

fn mean_globally_empty_is_nan(p: &Pipeline) -> Expect {
    let m = p.apply(Create::new(Vec::<i32>::new())).apply(Mean::globally());
    assert_that(&m.apply(ParDo::of(FloatIsNan)), contains_in_any_order(vec![true]));
    Expect::success()
}

fn mean_per_key(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![(1u8, 1i64), (1, 4), (2, -3), (1, 1)]));
    assert_that(&xs.apply(Mean::per_key()), contains_in_any_order(vec![(1u8, 2.0f64), (2, -3.0)]));
    Expect::success()
}

fn top_largest_and_smallest(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![5i32, 1, 4, 2, 3, 5]));
    assert_that(&xs.apply(Top::largest(3)), contains_in_any_order(vec![vec![5, 5, 4]]));
    assert_that(&xs.apply(Top::smallest(2)), contains_in_any_order(vec![vec![1, 2]]));
    Expect::success()
}

fn top_more_than_there_are(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(strings(&["b", "c", "a"])));
    assert_that(&xs.apply(Top::smallest(10)), contains_in_any_order(vec![strings(&["a", "b", "c"])]));
    let none = p.apply_named("Empty", Create::new(Vec::<i32>::new())).apply_named("TopEmpty", Top::largest(3));
    assert_that(&none, contains_in_any_order(vec![Vec::<i32>::new()]));
    Expect::success()
}

fn top_per_key(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![('a', 1u8), ('a', 3), ('a', 2), ('b', 7), ('a', 9)]));
    assert_that(&xs.apply(Top::largest_per_key(2)), contains_in_any_order(vec![('a', vec![9u8, 3]), ('b', vec![7])]));
    assert_that(&xs.apply(Top::smallest_per_key(2)), contains_in_any_order(vec![('a', vec![1u8, 2]), ('b', vec![7])]));
    Expect::success()
}

fn top_many_elements(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new((0..50_000i64).map(|i| (i * 7919) % 50_000)));
    assert_that(
        &xs.apply(Top::largest(5)),
        contains_in_any_order(vec![vec![49_999i64, 49_998, 49_997, 49_996, 49_995]]),
    );
    Expect::success()
}

fn to_list_globally(p: &Pipeline) -> Expect {
    let l = p.apply(Create::new(vec![3i32, 1, 2, 1])).apply(ToList::globally()).apply(sort_list());
    assert_that(&l, contains_in_any_order(vec![vec![1, 1, 2, 3]]));
    Expect::success()
}

fn to_list_globally_empty(p: &Pipeline) -> Expect {
    let l = p.apply(Create::new(Vec::<String>::new())).apply(ToList::globally());
    assert_that(&l, contains_in_any_order(vec![Vec::<String>::new()]));
    Expect::success()
}

fn to_list_per_key(p: &Pipeline) -> Expect {
    let l = p
        .apply(Create::new(kvs(&[("k", 7u8), ("j", 1), ("k", 3)])))
        .apply(Combine::per_key(ToList::new()))
        .apply(sort_group());
    assert_that(&l, contains_in_any_order(kvs(&[("k", vec![3u8, 7]), ("j", vec![1])])));
    Expect::success()
}

fn latest_globally(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::timestamped(vec![
        ("old".to_string(), secs(1)),
        ("new".to_string(), secs(9)),
        ("mid".to_string(), secs(5)),
    ]));
    assert_that(&xs.apply(Latest::globally()), contains_in_any_order(vec![Some("new".to_string())]));
    Expect::success()
}

fn latest_globally_empty(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(Vec::<u8>::new()));
    assert_that(&xs.apply(Latest::globally()), contains_in_any_order(vec![None]));
    Expect::success()
}

fn latest_per_key(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::timestamped(vec![
        (('a', 1i32), secs(2)),
        (('a', 2), secs(1)),
        (('b', 3), secs(0)),
        (('b', 4), secs(-5)),
    ]));
    assert_that(&xs.apply(Latest::per_key()), contains_in_any_order(vec![('a', 1i32), ('b', 3)]));
    Expect::success()
}

fn latest_per_window(p: &Pipeline) -> Expect {
    let xs = fixed10(p.apply(Create::timestamped(vec![(1u8, secs(1)), (2, secs(8)), (3, secs(11)), (4, secs(12))])));
    let l = xs.apply(Latest::globally());
    assert_that_in_window(&l, win(0, 10), contains_in_any_order(vec![Some(2u8)]));
    assert_that_in_window(&l, win(10, 20), contains_in_any_order(vec![Some(4u8)]));
    Expect::success()
}

/// `(size, every element in [lo, hi), no occurrence repeated)` of a sample of distinct numbers.
#[derive(Clone, Serialize, Deserialize)]
struct CheckSample {
    lo: i64,
    hi: i64,
}

impl DoFn for CheckSample {
    type In = Vec<i64>;
    type Out = (usize, bool, bool);
    fn process(&mut self, v: &Vec<i64>, ctx: &mut ProcessContext<'_, (usize, bool, bool)>) -> Result<(), DoFnError> {
        let mut sorted = v.clone();
        sorted.sort();
        sorted.dedup();
        ctx.emit((v.len(), v.iter().all(|x| (self.lo..self.hi).contains(x)), sorted.len() == v.len()));
        Ok(())
    }
}

fn sample_globally(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(0..1000i64)).apply(Sample::fixed_size_globally(7));
    assert_that(
        &s.apply(ParDo::of(CheckSample { lo: 0, hi: 1000 })),
        contains_in_any_order(vec![(7usize, true, true)]),
    );
    Expect::success()
}

fn sample_globally_fewer_than_n(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(vec![4i64, 2, 9])).apply(Sample::fixed_size_globally(10)).apply(sort_list());
    assert_that(&s, contains_in_any_order(vec![vec![2i64, 4, 9]]));
    Expect::success()
}

/// `(key, size of its sample)`.
#[derive(Clone, Serialize, Deserialize)]
struct SampleSize;

impl DoFn for SampleSize {
    type In = (char, Vec<u8>);
    type Out = (char, usize);
    fn process(&mut self, kv: &(char, Vec<u8>), ctx: &mut ProcessContext<'_, (char, usize)>) -> Result<(), DoFnError> {
        ctx.emit((kv.0, kv.1.len()));
        Ok(())
    }
}

fn sample_per_key(p: &Pipeline) -> Expect {
    let s = p.apply(Create::new(vec![('a', 1u8), ('a', 2), ('a', 3), ('b', 9)])).apply(Sample::fixed_size_per_key(2));
    assert_that(&s.apply(ParDo::of(SampleSize)), contains_in_any_order(vec![('a', 2usize), ('b', 1)]));
    Expect::success()
}

fn reshuffle_keeps_elements_timestamps_and_windows(p: &Pipeline) -> Expect {
    let xs = fixed10(p.apply(Create::timestamped((0..500i64).map(|i| (i, secs(i % 40))))));
    let moved = xs.apply(Reshuffle::new());
    let expected: Vec<_> = (0..500i64)
        .map(|i| {
            let t = i % 40;
            (i, secs(t), win(t / 10 * 10, t / 10 * 10 + 10))
        })
        .collect();
    assert_that(&moved.apply(reify()), contains_in_any_order(expected));
    Expect::success()
}

fn reshuffle_with_buckets(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(0..10_000u32)).apply(Reshuffle::new().with_num_buckets(3));
    assert_that(&xs, contains_in_any_order(0..10_000u32));
    Expect::success()
}

fn reshuffle_empty(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(Vec::<String>::new())).apply(Reshuffle::new());
    assert_that(&xs, is_empty());
    Expect::success()
}

/// Elements in overlapping session windows keep their own windows through the shuffle.
fn reshuffle_sessions_stay_apart(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(3))]))
        .apply(WindowInto::new(WindowFn::sessions(Duration::from_secs(5))))
        .apply(Reshuffle::new().with_num_buckets(1));
    assert_that(&xs.apply(reify()), contains_in_any_order(vec![(1, secs(1), win(1, 6)), (2, secs(3), win(3, 8))]));
    Expect::success()
}
