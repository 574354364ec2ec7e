//! The standard combiners (Min, Max, Mean, ToList, Top, Latest, Sample) and
//! transforms (Distinct, Partition, Reshuffle, CoGroupByKey) in pipelines on
//! the direct runner: empty and one-element inputs, many keys, windows, and
//! the portable graph.

use beamline::prelude::*;
use beamline::Error;
use std::path::PathBuf;
use std::time::Duration;

/// A pipeline on the direct runner, shuffling bundles with `seed`.
fn pipeline(seed: u64) -> Pipeline {
    let mut opts = PipelineOptions::for_runner("direct");
    opts.runner_flags.insert("direct-seed".into(), seed.to_string());
    Pipeline::new(opts, beamline_direct::runners())
}

fn secs(s: i64) -> Timestamp {
    Timestamp::from_secs(s)
}

fn window(start: i64, end: i64) -> Window {
    Window::interval(secs(start), secs(end))
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("beamline-standard-transforms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Pairs each element with its timestamp, so assertions can see timestamps.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
struct WithTimestamp<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Clone for WithTimestamp<T> {
    fn clone(&self) -> Self {
        WithTimestamp(std::marker::PhantomData)
    }
}

impl<T: Element> DoFn for WithTimestamp<T> {
    type In = T;
    type Out = (T, Timestamp);
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, (T, Timestamp)>) -> Result<(), DoFnError> {
        let t = ctx.timestamp();
        ctx.emit((x.clone(), t));
        Ok(())
    }
}

fn with_timestamps<T: Element>(pcoll: &PCollection<T>, label: &str) -> PCollection<(T, Timestamp)> {
    pcoll.apply_named(label, ParDo::of(WithTimestamp::<T>(std::marker::PhantomData)))
}

// ---------------------------------------------------------------- combiners

#[test]
fn combiners_on_an_empty_global_input_give_their_empty_result() {
    let p = pipeline(0);
    let nums = p.apply(Create::new(Vec::<i64>::new()));
    assert_that(&nums.apply(Min::globally()), contains_in_any_order(vec![None]));
    assert_that(&nums.apply(Max::globally()), contains_in_any_order(vec![None]));
    assert_that(&nums.apply(Latest::globally()), contains_in_any_order(vec![None]));
    assert_that(&nums.apply(Top::largest(3)), contains_in_any_order(vec![Vec::<i64>::new()]));
    assert_that(&nums.apply(Top::smallest(3)), contains_in_any_order(vec![Vec::<i64>::new()]));
    assert_that(&nums.apply(ToList::globally()), contains_in_any_order(vec![Vec::<i64>::new()]));
    assert_that(&nums.apply(Sample::fixed_size_globally(2)), contains_in_any_order(vec![Vec::<i64>::new()]));
    assert_that(
        &nums.apply(Mean::globally()),
        satisfies(|m: &[f64]| if m.len() == 1 && m[0].is_nan() { Ok(()) } else { Err(format!("{m:?}")) }),
    );
    assert_that(&nums.apply(Distinct::new()), is_empty());
    assert_that(&nums.apply_named("NoDefault", Min::globally().without_defaults()), is_empty());
    let kv = p.apply_named("EmptyPairs", Create::new(Vec::<(String, i64)>::new()));
    assert_that(&kv.apply(Min::per_key()), is_empty());
    assert_that(&kv.apply(Max::per_key()), is_empty());
    assert_that(&kv.apply(Mean::per_key()), is_empty());
    assert_that(&kv.apply(Latest::per_key()), is_empty());
    assert_that(&kv.apply(Top::largest_per_key(2)), is_empty());
    assert_that(&kv.apply(Sample::fixed_size_per_key(2)), is_empty());
    p.run().unwrap();
}

#[test]
fn combiners_on_one_element() {
    let p = pipeline(0);
    let one = p.apply(Create::timestamped(vec![(7i32, secs(4))]));
    assert_that(&one.apply(Min::globally()), contains_in_any_order(vec![Some(7)]));
    assert_that(&one.apply(Max::globally()), contains_in_any_order(vec![Some(7)]));
    assert_that(&one.apply(Mean::globally()), contains_in_any_order(vec![7.0]));
    assert_that(&one.apply(Latest::globally()), contains_in_any_order(vec![Some(7)]));
    assert_that(&one.apply(Top::largest(1)), contains_in_any_order(vec![vec![7]]));
    assert_that(&one.apply(Top::smallest(0)), contains_in_any_order(vec![Vec::<i32>::new()]));
    assert_that(&one.apply(ToList::globally()), contains_in_any_order(vec![vec![7]]));
    assert_that(&one.apply(Sample::fixed_size_globally(1)), contains_in_any_order(vec![vec![7]]));
    assert_that(&one.apply(Distinct::new()), contains_in_any_order(vec![7]));
    p.run().unwrap();
}

#[test]
fn per_key_combiners_on_many_keys_agree_with_a_direct_computation() {
    for seed in 0..3 {
        let p = pipeline(seed);
        let pairs: Vec<(u32, i64)> = (0..3000i64).map(|i| ((i % 97) as u32, (i * 7919) % 1013 - 500)).collect();
        let mut by_key: std::collections::BTreeMap<u32, Vec<i64>> = Default::default();
        for (k, v) in &pairs {
            by_key.entry(*k).or_default().push(*v);
        }
        let kv = p.apply(Create::new(pairs));
        let expect = |f: &dyn Fn(&Vec<i64>) -> i64| by_key.iter().map(|(k, vs)| (*k, f(vs))).collect::<Vec<_>>();
        assert_that(&kv.apply(Min::per_key()), contains_in_any_order(expect(&|vs| *vs.iter().min().unwrap())));
        assert_that(&kv.apply(Max::per_key()), contains_in_any_order(expect(&|vs| *vs.iter().max().unwrap())));
        let means: Vec<(u32, f64)> =
            by_key.iter().map(|(k, vs)| (*k, vs.iter().sum::<i64>() as f64 / vs.len() as f64)).collect();
        assert_that(
            &kv.apply(Mean::per_key()),
            satisfies(move |got: &[(u32, f64)]| {
                let mut got = got.to_vec();
                got.sort_by_key(|(k, _)| *k);
                let close = got.len() == means.len()
                    && got.iter().zip(&means).all(|(a, b)| a.0 == b.0 && (a.1 - b.1).abs() < 1e-9);
                if close {
                    Ok(())
                } else {
                    Err(format!("{got:?}"))
                }
            }),
        );
        let top: Vec<(u32, Vec<i64>)> = by_key
            .iter()
            .map(|(k, vs)| {
                let mut vs = vs.clone();
                vs.sort_by(|a, b| b.cmp(a));
                vs.truncate(3);
                (*k, vs)
            })
            .collect();
        assert_that(&kv.apply(Top::largest_per_key(3)), contains_in_any_order(top));
        let bottom: Vec<(u32, Vec<i64>)> = by_key
            .iter()
            .map(|(k, vs)| {
                let mut vs = vs.clone();
                vs.sort();
                vs.truncate(2);
                (*k, vs)
            })
            .collect();
        assert_that(&kv.apply(Top::smallest_per_key(2)), contains_in_any_order(bottom));
        let members = by_key.clone();
        assert_that(
            &kv.apply(Sample::fixed_size_per_key(5)),
            satisfies(move |got: &[(u32, Vec<i64>)]| {
                if got.len() != members.len() {
                    return Err(format!("{} keys, expected {}", got.len(), members.len()));
                }
                for (k, sample) in got {
                    let mut pool = members[k].clone();
                    if sample.len() != 5.min(pool.len()) {
                        return Err(format!("key {k}: sample of {}", sample.len()));
                    }
                    // Each picked occurrence must come out of the key's values.
                    for x in sample {
                        let i = pool.iter().position(|v| v == x).ok_or(format!("key {k}: {x} not an input"))?;
                        pool.swap_remove(i);
                    }
                }
                Ok(())
            }),
        );
        p.run().unwrap();
    }
}

#[test]
fn latest_picks_the_latest_timestamp_per_key() {
    let p = pipeline(1);
    let kv = p.apply(Create::timestamped(vec![
        (("a".to_string(), 1), secs(10)),
        (("a".to_string(), 2), secs(30)),
        (("a".to_string(), 3), secs(20)),
        (("b".to_string(), 4), secs(-5)),
    ]));
    assert_that(&kv.apply(Latest::per_key()), contains_in_any_order(vec![("a".to_string(), 2), ("b".to_string(), 4)]));
    p.run().unwrap();
}

#[test]
fn combiners_work_per_window() {
    let p = pipeline(2);
    let events = p
        .apply(Create::timestamped(vec![
            (("k".to_string(), 5i64), secs(1)),
            (("k".to_string(), 9), secs(2)),
            (("k".to_string(), 1), secs(3)),
            (("k".to_string(), 4), secs(61)),
            (("j".to_string(), 2), secs(62)),
        ]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(60))));
    let (first, second) = (window(0, 60), window(60, 120));
    let values = events.apply(Values::new());
    let top = values.apply(Top::largest(2));
    assert_that_in_window(&top, first, contains_in_any_order(vec![vec![9i64, 5]]));
    assert_that_in_window(&top, second, contains_in_any_order(vec![vec![4i64, 2]]));
    let counts = values.apply(Count::globally());
    assert_that_in_window(&counts, first, contains_in_any_order(vec![3u64]));
    assert_that_in_window(&counts, second, contains_in_any_order(vec![2u64]));
    let top_per_key = events.apply(Top::smallest_per_key(1));
    assert_that_in_window(&top_per_key, first, contains_in_any_order(vec![("k".to_string(), vec![1i64])]));
    assert_that_in_window(
        &top_per_key,
        second,
        contains_in_any_order(vec![("k".to_string(), vec![4i64]), ("j".to_string(), vec![2])]),
    );
    let latest = values.apply(Latest::globally());
    assert_that_in_window(&latest, first, contains_in_any_order(vec![Some(1i64)]));
    let max = events.apply(Max::per_key());
    assert_that_in_window(&max, first, contains_in_any_order(vec![("k".to_string(), 9i64)]));
    assert_that_in_window(&max, second, contains_in_any_order(vec![("k".to_string(), 4i64), ("j".to_string(), 2)]));
    let mean = values.apply(Mean::globally());
    assert_that_in_window(&mean, first, contains_in_any_order(vec![5.0f64]));
    assert_that_in_window(&mean, second, contains_in_any_order(vec![3.0f64]));
    // No window without elements gets an (empty) result.
    assert_that_in_window(&top, window(120, 180), is_empty());
    p.run().unwrap();
}

// ---------------------------------------------------------------- Distinct

#[test]
fn distinct_removes_duplicates_per_window() {
    let p = pipeline(3);
    let words = p
        .apply(Create::timestamped(vec![
            ("a".to_string(), secs(1)),
            ("a".to_string(), secs(2)),
            ("b".to_string(), secs(3)),
            ("a".to_string(), secs(11)),
            ("a".to_string(), secs(12)),
        ]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
    let d = words.apply(Distinct::new());
    assert_that_in_window(&d, window(0, 10), contains_in_any_order(vec!["a".to_string(), "b".to_string()]));
    assert_that_in_window(&d, window(10, 20), contains_in_any_order(vec!["a".to_string()]));
    assert_that(&d, contains_in_any_order(vec!["a".to_string(), "b".into(), "a".into()]));
    p.run().unwrap();
}

#[test]
fn distinct_on_many_duplicates() {
    let p = pipeline(0);
    let xs = p.apply(Create::new((0..5000u32).map(|i| i % 123).collect::<Vec<_>>()));
    assert_that(&xs.apply(Distinct::new()), contains_in_any_order((0..123u32).collect::<Vec<_>>()));
    p.run().unwrap();
}

// ---------------------------------------------------------------- Partition

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Modulo;

impl PartitionFn<i64> for Modulo {
    fn partition_for(&self, x: &i64, n: usize) -> usize {
        x.rem_euclid(n as i64) as usize
    }
}

#[test]
fn partition_splits_into_n_and_leaves_unused_partitions_empty() {
    let p = pipeline(0);
    let parts = p.apply(Create::new(vec![0i64, 3, 6, -3, 1])).apply(Partition::of(3, Modulo));
    assert_eq!(parts.len(), 3);
    assert_that(&parts[0], contains_in_any_order(vec![0i64, 3, 6, -3]));
    assert_that(&parts[1], contains_in_any_order(vec![1i64]));
    assert_that(&parts[2], is_empty());
    let empty = p.apply_named("Empty", Create::new(Vec::<i64>::new())).apply_named("P2", Partition::of(4, Modulo));
    assert_eq!(empty.len(), 4);
    for (i, part) in empty.iter().enumerate() {
        assert_that(part, is_empty());
        assert!(part.id().starts_with("P2/"), "partition {i} is {}", part.id());
    }
    p.run().unwrap();
}

#[test]
fn one_partition_is_the_whole_input() {
    let p = pipeline(0);
    let parts = p.apply(Create::new(vec![1i64, 2])).apply(Partition::new(1, |_: &i64, _: usize| 0));
    assert_eq!(parts.len(), 1);
    assert_that(&parts[0], contains_in_any_order(vec![1i64, 2]));
    p.run().unwrap();
}

#[test]
fn partition_keeps_timestamps_and_windows() {
    let p = pipeline(0);
    let xs = p
        .apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(15)), (4, secs(16))]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
    let parts = xs.apply(Partition::new(2, |x: &i64, _: usize| (*x % 2) as usize));
    let evens = with_timestamps(&parts[0], "EvensTs");
    assert_that_in_window(&evens, window(10, 20), contains_in_any_order(vec![(2i64, secs(15)), (4, secs(16))]));
    assert_that_in_window(&parts[1], window(0, 10), contains_in_any_order(vec![1i64]));
    p.run().unwrap();
}

#[test]
fn a_partition_index_out_of_range_fails_naming_the_step() {
    let p = pipeline(0);
    let _ =
        p.apply(Create::new(vec![1i64, 5])).apply_named("Split", Partition::new(2, |x: &i64, _: usize| *x as usize));
    let err = p.run().unwrap_err();
    match &err {
        Error::UserCode { label, element, message, .. } => {
            assert_eq!(label, "Split/ParDo(Partition)");
            assert_eq!(element, "5");
            assert!(message.contains("returned 5") && message.contains("2 partitions"), "{message}");
        }
        other => panic!("expected a user-code error, got {other}"),
    }
}

#[test]
fn zero_partitions_is_a_construction_error() {
    let p = pipeline(0);
    let parts = p.apply(Create::new(vec![1i64])).apply(Partition::of(0, Modulo));
    assert!(parts.is_empty());
    let err = p.run().unwrap_err().to_string();
    assert!(err.contains("'Partition' asks for 0 partitions"), "{err}");
}

#[test]
fn a_closure_partition_is_not_portable_and_the_error_names_it() {
    let p = pipeline(0);
    let _ = p.apply(Create::new(vec![1i64])).apply(Partition::new(2, |_: &i64, _: usize| 0));
    match p.portable_graph_json().unwrap_err() {
        Error::Graph { label, .. } => assert_eq!(label, "Partition/ParDo(Partition)"),
        other => panic!("expected a graph error, got {other}"),
    }
}

// ---------------------------------------------------------------- Reshuffle

#[test]
fn reshuffle_keeps_elements_timestamps_and_fixed_windows() {
    for seed in 0..3 {
        let p = pipeline(seed);
        let input: Vec<(u32, Timestamp)> = (0..500u32).map(|i| (i, secs(i64::from(i % 37)))).collect();
        let xs = p
            .apply(Create::timestamped(input.clone()))
            .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
        let moved = xs.apply(Reshuffle::new());
        let moved_ts = with_timestamps(&moved, "Ts");
        assert_that(&moved_ts, contains_in_any_order(input.clone()));
        let in_first: Vec<(u32, Timestamp)> = input.iter().copied().filter(|(_, t)| *t < secs(10)).collect();
        assert_that_in_window(&moved_ts, window(0, 10), contains_in_any_order(in_first));
        let bucketed = with_timestamps(&xs.apply_named("Bucketed", Reshuffle::new().with_num_buckets(3)), "BucketedTs");
        assert_that(&bucketed, contains_in_any_order(input));
        assert_eq!(moved.windowing(), xs.windowing());
        p.run().unwrap();
    }
}

#[test]
fn reshuffle_keeps_each_copy_of_a_sliding_window_element() {
    let p = pipeline(0);
    let xs = p
        .apply(Create::timestamped(vec![("e".to_string(), secs(7))]))
        .apply(WindowInto::new(WindowFn::sliding(Duration::from_secs(10), Duration::from_secs(5))));
    let moved = with_timestamps(&xs.apply(Reshuffle::new()), "Ts");
    assert_that(&moved, contains_in_any_order(vec![("e".to_string(), secs(7)), ("e".to_string(), secs(7))]));
    assert_that_in_window(&moved, window(0, 10), contains_in_any_order(vec![("e".to_string(), secs(7))]));
    assert_that_in_window(&moved, window(5, 15), contains_in_any_order(vec![("e".to_string(), secs(7))]));
    p.run().unwrap();
}

/// Regression guard: keying the shuffle by a random shard alone would let a
/// session GroupByKey merge the windows of unrelated elements sharing a shard.
#[test]
fn reshuffle_does_not_merge_session_windows_of_different_keys() {
    for seed in 0..3 {
        let p = pipeline(seed);
        let events = p
            .apply(Create::timestamped(vec![
                (("a".to_string(), 1u32), secs(0)),
                (("b".to_string(), 2u32), secs(0)),
                (("b".to_string(), 3u32), secs(5)),
            ]))
            .apply(WindowInto::new(WindowFn::sessions(Duration::from_secs(10))));
        let sessions = events
            .apply(Reshuffle::new().with_num_buckets(1))
            .apply(Count::per_key())
            .apply(ParDo::of(WithTimestamp::<(String, u64)>(std::marker::PhantomData)));
        assert_that_in_window(
            &sessions,
            window(0, 10),
            contains_in_any_order(vec![(("a".to_string(), 1u64), secs(10).plus_micros(-1))]),
        );
        assert_that_in_window(
            &sessions,
            window(0, 15),
            contains_in_any_order(vec![(("b".to_string(), 2u64), secs(15).plus_micros(-1))]),
        );
        p.run().unwrap();
    }
}

#[test]
fn reshuffle_of_an_empty_input_is_empty() {
    let p = pipeline(0);
    let xs = p.apply(Create::new(Vec::<String>::new())).apply(Reshuffle::new());
    assert_that(&xs, is_empty());
    p.run().unwrap();
}

// ---------------------------------------------------------------- CoGroupByKey

/// Reads a CoGbkResult into sorted, typed lists.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct ReadThree {
    a: TupleTag<i32>,
    b: TupleTag<String>,
    c: TupleTag<()>,
}

impl DoFn for ReadThree {
    type In = (u32, CoGbkResult);
    type Out = (u32, Vec<i32>, Vec<String>, usize);
    fn process(&mut self, (k, r): &Self::In, ctx: &mut ProcessContext<'_, Self::Out>) -> Result<(), DoFnError> {
        let mut a = r.try_get(&self.a)?;
        a.sort();
        let mut b = r.try_get(&self.b)?;
        b.sort();
        ctx.emit((*k, a, b, r.try_get(&self.c)?.len()));
        Ok(())
    }
}

fn three_tags() -> (TupleTag<i32>, TupleTag<String>, TupleTag<()>) {
    (TupleTag::new("a"), TupleTag::new("b"), TupleTag::new("c"))
}

#[test]
fn cogroup_three_inputs_with_missing_keys_and_many_keys() {
    let p = pipeline(1);
    let (ta, tb, tc) = three_tags();
    let a = p.apply_named("A", Create::new((0..200u32).map(|k| (k, k as i32)).chain([(0, -1)]).collect::<Vec<_>>()));
    let b = p.apply_named("B", Create::new((100..300u32).map(|k| (k, format!("s{k}"))).collect::<Vec<_>>()));
    let c = p.apply_named("C", Create::new(Vec::<(u32, ())>::new()));
    let rows = KeyedPCollections::new()
        .and(&ta, &a)
        .and(&tb, &b)
        .and(&tc, &c)
        .apply(CoGroupByKey::new())
        .apply(ParDo::of(ReadThree { a: ta, b: tb, c: tc }));
    let expected: Vec<(u32, Vec<i32>, Vec<String>, usize)> = (0..300u32)
        .map(|k| {
            let mut av = if k < 200 { vec![k as i32] } else { vec![] };
            if k == 0 {
                av.insert(0, -1);
            }
            let bv = if k >= 100 { vec![format!("s{k}")] } else { vec![] };
            (k, av, bv, 0)
        })
        .collect();
    assert_that(&rows, contains_in_any_order(expected));
    p.run().unwrap();
}

#[test]
fn cogroup_of_empty_inputs_is_empty() {
    let p = pipeline(0);
    let (ta, tb, _) = three_tags();
    let a = p.apply_named("A", Create::new(Vec::<(u32, i32)>::new()));
    let b = p.apply_named("B", Create::new(Vec::<(u32, String)>::new()));
    let joined = KeyedPCollections::new().and(&ta, &a).and(&tb, &b).apply(CoGroupByKey::new());
    assert_that(&joined.apply(Keys::new()), is_empty());
    let pair = (a, b).apply_named("Pair", CoGroupByKey::new());
    assert_that(&pair, is_empty());
    p.run().unwrap();
}

#[test]
fn cogroup_of_a_pair_is_typed() {
    let p = pipeline(2);
    let emails = p.apply_named(
        "Emails",
        Create::new([("amy", "a@x"), ("amy", "amy@y"), ("carl", "c@x")].map(|(k, v)| (k.to_string(), v.to_string()))),
    );
    let phones = p.apply_named("Phones", Create::new(vec![("amy".to_string(), 1u32), ("bob".into(), 2)]));
    let joined = (emails, phones).apply(CoGroupByKey::new()).apply(Map::new(
        |(k, (e, ph)): &(String, (Vec<String>, Vec<u32>))| {
            let mut e = e.clone();
            e.sort();
            (k.clone(), e, ph.clone())
        },
    ));
    assert_that(
        &joined,
        contains_in_any_order(vec![
            ("amy".to_string(), vec!["a@x".to_string(), "amy@y".into()], vec![1u32]),
            ("bob".to_string(), vec![], vec![2]),
            ("carl".to_string(), vec!["c@x".to_string()], vec![]),
        ]),
    );
    p.run().unwrap();
}

#[test]
fn cogroup_groups_per_window() {
    let p = pipeline(0);
    let fixed = WindowFn::fixed(Duration::from_secs(10));
    let a = p
        .apply_named("A", Create::timestamped(vec![((1u8, 'x'), secs(1)), ((1, 'y'), secs(11))]))
        .apply_named("WA", WindowInto::new(fixed));
    let b = p
        .apply_named("B", Create::timestamped(vec![((1u8, 10i64), secs(12))]))
        .apply_named("WB", WindowInto::new(fixed));
    let joined = (a, b).apply(CoGroupByKey::new());
    assert_that_in_window(&joined, window(0, 10), contains_in_any_order(vec![(1u8, (vec!['x'], vec![]))]));
    assert_that_in_window(&joined, window(10, 20), contains_in_any_order(vec![(1u8, (vec!['y'], vec![10i64]))]));
    p.run().unwrap();
}

#[test]
fn cogroup_rejects_duplicate_tags_and_mixed_windowing() {
    let p = pipeline(0);
    let a = p.apply_named("A", Create::new(vec![(1u8, 1i32)]));
    let same = TupleTag::<i32>::new("dup");
    let _ = KeyedPCollections::new().and(&same, &a).and(&same, &a).apply_named("Dup", CoGroupByKey::new());
    let err = p.run().unwrap_err().to_string();
    assert!(err.contains("'Dup' has two inputs tagged 'dup'"), "{err}");

    let p = pipeline(0);
    let a = p.apply_named("A", Create::new(vec![(1u8, 1i32)]));
    let b = p
        .apply_named("B", Create::new(vec![(1u8, 2i32)]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(5))));
    let _ = (a, b).apply(CoGroupByKey::new());
    let err = p.run().unwrap_err().to_string();
    assert!(err.contains("different windowing"), "{err}");
}

// ---------------------------------------------------------------- the portable graph

/// The length of a list (a portable step, so the graph can be dumped).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Len;

impl DoFn for Len {
    type In = Vec<i64>;
    type Out = usize;
    fn process(&mut self, v: &Vec<i64>, ctx: &mut ProcessContext<'_, usize>) -> Result<(), DoFnError> {
        ctx.emit(v.len());
        Ok(())
    }
}

/// Every library transform of this file in one pipeline, with assertions.
fn everything(p: &Pipeline) {
    let (ta, tb, tc) = three_tags();
    let nums = p.apply(Create::timestamped(vec![(3i64, secs(3)), (1, secs(1)), (2, secs(2)), (2, secs(4))]));
    assert_that(&nums.apply(Min::globally()), contains_in_any_order(vec![Some(1i64)]));
    assert_that(&nums.apply(Max::globally()), contains_in_any_order(vec![Some(3i64)]));
    assert_that(&nums.apply(Mean::globally()), contains_in_any_order(vec![2.0]));
    assert_that(&nums.apply(Top::largest(2)), contains_in_any_order(vec![vec![3i64, 2]]));
    assert_that(&nums.apply(Latest::globally()), contains_in_any_order(vec![Some(2i64)]));
    assert_that(&nums.apply(Distinct::new()), contains_in_any_order(vec![1i64, 2, 3]));
    assert_that(&nums.apply(Reshuffle::new()), contains_in_any_order(vec![1i64, 2, 2, 3]));
    let sizes = nums.apply(Sample::fixed_size_globally(2)).apply(ParDo::of(Len));
    assert_that(&sizes, contains_in_any_order(vec![2usize]));
    let all = nums.apply(ToList::globally()).apply_named("AllLen", ParDo::of(Len));
    assert_that(&all, contains_in_any_order(vec![4usize]));
    let parts = nums.apply(Partition::of(2, Modulo));
    assert_that(&parts[1], contains_in_any_order(vec![1i64, 3]));
    let kv = p.apply_named("Pairs", Create::new(vec![(1u32, 5i32), (2, 6)]));
    let kv_s = p.apply_named("Strings", Create::new(vec![(2u32, "x".to_string())]));
    let kv_c = p.apply_named("Units", Create::new(vec![(3u32, ())]));
    let rows = KeyedPCollections::new()
        .and(&ta, &kv)
        .and(&tb, &kv_s)
        .and(&tc, &kv_c)
        .apply(CoGroupByKey::new())
        .apply(ParDo::of(ReadThree { a: ta, b: tb, c: tc }));
    assert_that(
        &rows,
        contains_in_any_order(vec![
            (1u32, vec![5], vec![], 0),
            (2, vec![6], vec!["x".to_string()], 0),
            (3, vec![], vec![], 1),
        ]),
    );
    let pair = (kv.clone(), kv_s).apply_named("Pair", CoGroupByKey::new());
    assert_that(&pair, contains_in_any_order(vec![(1u32, (vec![5], vec![])), (2, (vec![6], vec!["x".to_string()]))]));
    assert_that(&kv.apply(Min::per_key()), contains_in_any_order(vec![(1u32, 5i32), (2, 6)]));
    assert_that(&kv.apply(Latest::per_key()), contains_in_any_order(vec![(1u32, 5i32), (2, 6)]));
}

#[test]
fn every_transform_is_portable_and_runs_again_from_its_dumped_graph() {
    let path = temp_path("everything.json");
    let mut opts = PipelineOptions::for_runner("direct");
    opts.dump_graph = Some(path.clone());
    let p = Pipeline::new(opts, beamline_direct::runners());
    everything(&p);
    let r = p.run().unwrap();
    assert_eq!(r.dumped_graph(), Some(path.as_path()));

    let mut opts = PipelineOptions::for_runner("direct");
    opts.graph = Some(path.clone());
    let p = Pipeline::new(opts, beamline_direct::runners());
    everything(&p);
    p.run().unwrap();
}

#[test]
fn composites_keep_their_sub_steps_visible() {
    let p = pipeline(0);
    everything(&p);
    let labels: Vec<String> = p.graph().transforms.iter().map(|t| t.label.clone()).collect();
    for want in [
        "CombineGlobally(Min)",
        "MinPerKey/CombinePerKey",
        "MinPerKey/Unwrap",
        "LatestGlobally/ReifyTimestamps",
        "Distinct/CombinePerKey",
        "Reshuffle/AddRandomKeys",
        "Reshuffle/GroupByKey",
        "Reshuffle/RestoreOriginalTimestamps",
        "Partition/ParDo(Partition)",
        "CoGroupByKey/Tag(a)",
        "CoGroupByKey/Flatten",
        "CoGroupByKey/GroupByKey",
        "CoGroupByKey/ConstructCoGbkResult",
        "Pair/Tag(0)",
        "CombineGlobally(Largest(2))",
    ] {
        assert!(labels.iter().any(|l| l == want), "no step '{want}' in {labels:?}");
    }
    p.run().unwrap();
}
