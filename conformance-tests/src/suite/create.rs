//! Roots (`Create`, `Impulse`) and the in-pipeline assertions themselves.

use crate::fns::{reify, secs, strings, win};
use crate::harness::{Expect, Test};
use beamline::coder::Coder;
use beamline::plan::capabilities::SIDE_INPUTS;
use beamline::prelude::*;
use beamline::{Error, Window};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("create_values", create_values),
        Test::new("create_empty", create_empty),
        Test::new("create_unicode_strings", create_unicode_strings),
        Test::new("create_large_elements", create_large_elements),
        Test::new("create_timestamped", create_timestamped),
        Test::new("create_default_timestamp_is_min", create_default_timestamp_is_min),
        Test::new("create_many_elements", create_many_elements).requires(&[SIDE_INPUTS]),
        Test::new("create_floats", create_floats),
        Test::new("create_non_finite_floats", create_non_finite_floats),
        Test::new("create_structs_and_options", create_structs_and_options),
        Test::new("create_wide_integers", create_wide_integers),
        Test::new("create_units", create_units).requires(&[SIDE_INPUTS]),
        Test::new("create_with_custom_coder", create_with_custom_coder),
        Test::new("impulse_emits_one_unit", impulse_emits_one_unit),
        Test::new("assert_that_detects_a_mismatch", assert_that_detects_a_mismatch),
        Test::new("assert_is_empty_detects_elements", assert_is_empty_detects_elements),
        Test::new("assert_that_in_window", assert_that_in_window_selects_the_window),
        Test::new("assert_that_in_window_detects_a_mismatch", assert_that_in_window_detects_a_mismatch),
    ]
}

fn create_values(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![3i64, 1, 2, 2, -7]));
    assert_that(&xs, contains_in_any_order(vec![-7, 1, 2, 2, 3]));
    Expect::success()
}

fn create_empty(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(Vec::<String>::new()));
    assert_that(&xs, is_empty());
    Expect::success()
}

fn unicode_samples() -> Vec<String> {
    let mut v = strings(&[
        "",
        "ascii",
        "héllo wörld",
        "日本語のテキスト",
        "emoji 🦀🚀 and a family 👩‍👩‍👧",
        "Ελληνικά",
        "עברית מימין לשמאל",
        "combining e\u{301} vs é",
        "nul \u{0} inside",
        "tab\tand\nnewline\r\n",
        "\u{feff}byte order mark",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 outside the BMP",
        "quotes \" ' \\ and backslashes",
    ]);
    v.push("ü".repeat(10_000));
    v
}

/// Unicode survives the coders, the graph's JSON, and grouping by it.
fn create_unicode_strings(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(unicode_samples()));
    assert_that(&xs, contains_in_any_order(unicode_samples()));
    let counts = xs.apply(Count::per_element());
    assert_that(&counts, contains_in_any_order(unicode_samples().into_iter().map(|s| (s, 1u64))));
    Expect::success()
}

#[derive(Clone, Serialize, Deserialize)]
struct Lengths;

impl DoFn for Lengths {
    type In = String;
    type Out = (usize, char);
    fn process(&mut self, s: &String, ctx: &mut ProcessContext<'_, (usize, char)>) -> Result<(), DoFnError> {
        ctx.emit((s.len(), s.chars().last().unwrap_or(' ')));
        Ok(())
    }
}

fn large_samples() -> Vec<String> {
    const MB: usize = 1 << 20;
    vec!["a".repeat(4 * MB), format!("{}z", "b".repeat(3 * MB)), "é".repeat(3 * MB)]
}

/// Elements of several MB each.
fn create_large_elements(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(large_samples()));
    assert_that(&xs, contains_in_any_order(large_samples()));
    let lens = xs.apply(ParDo::of(Lengths));
    assert_that(&lens, contains_in_any_order(vec![(4 << 20, 'a'), ((3 << 20) + 1, 'z'), (6 << 20, 'é')]));
    Expect::success()
}

fn create_timestamped(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::timestamped(vec![
        ("a".to_string(), secs(5)),
        ("b".to_string(), secs(-3)),
        ("c".to_string(), Timestamp::from_micros(1)),
        ("d".to_string(), Timestamp::MIN),
        ("e".to_string(), Timestamp::END_OF_GLOBAL_WINDOW),
    ]));
    assert_that(
        &xs.apply(reify()),
        contains_in_any_order(vec![
            ("a".to_string(), secs(5), Window::Global),
            ("b".to_string(), secs(-3), Window::Global),
            ("c".to_string(), Timestamp::from_micros(1), Window::Global),
            ("d".to_string(), Timestamp::MIN, Window::Global),
            ("e".to_string(), Timestamp::END_OF_GLOBAL_WINDOW, Window::Global),
        ]),
    );
    Expect::success()
}

fn create_default_timestamp_is_min(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1u8, 2]));
    assert_that(
        &xs.apply(reify()),
        contains_in_any_order(vec![(1u8, Timestamp::MIN, Window::Global), (2, Timestamp::MIN, Window::Global)]),
    );
    Expect::success()
}

/// Enough elements that runners split the source.
fn create_many_elements(p: &Pipeline) -> Expect {
    let n = 100_000i64;
    let xs = p.apply(Create::new(0..n));
    assert_that(&xs.apply(Count::globally()), contains_in_any_order(vec![n as u64]));
    assert_that(&xs.apply(Combine::globally(Sum::<i64>::new())), contains_in_any_order(vec![n * (n - 1) / 2]));
    Expect::success()
}

fn float_samples() -> Vec<f64> {
    vec![
        0.1,
        -0.0,
        1e-300,
        2.2250738585072014e-308,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        1.0 / 3.0,
        123_456_789.123_456_79,
        0.1 + 0.2,
    ]
}

/// Floats keep every bit (through the coders and the graph's JSON).
fn create_floats(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(float_samples()));
    let bits = xs.apply(ParDo::of(Bits));
    assert_that(&bits, contains_in_any_order(float_samples().into_iter().map(f64::to_bits)));
    Expect::success()
}

#[derive(Clone, Serialize, Deserialize)]
struct Bits;

impl DoFn for Bits {
    type In = f64;
    type Out = u64;
    fn process(&mut self, x: &f64, ctx: &mut ProcessContext<'_, u64>) -> Result<(), DoFnError> {
        ctx.emit(x.to_bits());
        Ok(())
    }
}

/// Infinities and NaN are values like any other.
fn create_non_finite_floats(p: &Pipeline) -> Expect {
    let values = vec![f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let xs = p.apply(Create::new(values.clone()));
    let bits = xs.apply(ParDo::of(Bits));
    assert_that(&bits, contains_in_any_order(values.into_iter().map(f64::to_bits)));
    Expect::success()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u32,
    name: Option<String>,
    tags: Vec<String>,
    score: (i8, u128),
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Kind {
    Plain,
    Tuple(i64, bool),
    Struct { x: Option<Box<Kind>> },
}

fn records() -> Vec<Record> {
    vec![
        Record { id: 1, name: None, tags: vec![], score: (-128, u128::from(u64::MAX)), kind: Kind::Plain },
        Record {
            id: 2,
            name: Some("two".into()),
            tags: strings(&["a", "b"]),
            score: (127, 0),
            kind: Kind::Struct { x: Some(Box::new(Kind::Tuple(-1, true))) },
        },
        Record {
            id: 3,
            name: Some(String::new()),
            tags: strings(&[""]),
            score: (0, 1),
            kind: Kind::Struct { x: None },
        },
    ]
}

/// User structs, enums, options and wide integers as elements.
fn create_structs_and_options(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(records()));
    assert_that(&xs, contains_in_any_order(records()));
    Expect::success()
}

/// 128-bit integers beyond the 64-bit range are plain values too.
fn create_wide_integers(p: &Pipeline) -> Expect {
    let values = vec![(u128::MAX, i128::MIN), (u128::from(u64::MAX) + 1, i128::MAX), (0, -1)];
    let xs = p.apply(Create::new(values.clone()));
    assert_that(&xs, contains_in_any_order(values));
    Expect::success()
}

/// Zero-sized elements still count.
fn create_units(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![(), (), ()]));
    assert_that(&xs.apply(Count::globally()), contains_in_any_order(vec![3u64]));
    let nested = p.apply_named("Nested", Create::new(vec![vec![(); 5], vec![]]));
    assert_that(&nested, contains_in_any_order(vec![vec![(); 5], vec![]]));
    Expect::success()
}

/// Encodes a `u32` as 4 big-endian bytes.
struct FixedU32;

impl Coder<u32> for FixedU32 {
    fn encode(&self, v: &u32, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    fn decode(&self, b: &[u8]) -> Result<u32, String> {
        Ok(u32::from_be_bytes(b.try_into().map_err(|_| format!("expected 4 bytes, got {}", b.len()))?))
    }
    fn name(&self) -> String {
        "conformance:coder:fixed_u32:v1".into()
    }
}

/// A PCollection with its own coder: used by the runner, named in the graph,
/// and found again when the graph is read back.
fn create_with_custom_coder(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1u32, 70_000, u32::MAX]));
    xs.set_coder(FixedU32);
    assert_that(&xs, contains_in_any_order(vec![1u32, 70_000, u32::MAX]));
    let named = p.graph().pcollections.iter().any(|c| c.coder == "conformance:coder:fixed_u32:v1");
    Expect::success().and_built(if named { Ok(()) } else { Err("the graph does not name the custom coder".into()) })
}

fn impulse_emits_one_unit(p: &Pipeline) -> Expect {
    let one = p.apply(Impulse).apply(reify());
    assert_that(&one, contains_in_any_order(vec![((), Timestamp::MIN, Window::Global)]));
    Expect::success()
}

/// A runner must fail the run when an assertion does not hold.
fn assert_that_detects_a_mismatch(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i32, 2]));
    assert_that(&xs, contains_in_any_order(vec![2, 3]));
    assertion_failure("missing: [3]; unexpected: [1]")
}

fn assert_is_empty_detects_elements(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec!["x".to_string()]));
    assert_that(&xs, is_empty());
    assertion_failure("expected an empty PCollection, got 1 elements")
}

fn windowed(p: &Pipeline) -> PCollection<i64> {
    p.apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(9)), (3, secs(10)), (4, secs(35))]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
}

fn assert_that_in_window_selects_the_window(p: &Pipeline) -> Expect {
    let xs = windowed(p);
    assert_that_in_window(&xs, win(0, 10), contains_in_any_order(vec![1, 2]));
    assert_that_in_window(&xs, win(10, 20), contains_in_any_order(vec![3]));
    assert_that_in_window(&xs, win(20, 30), is_empty());
    assert_that_in_window(&xs, win(30, 40), contains_in_any_order(vec![4]));
    assert_that(&xs, contains_in_any_order(vec![1, 2, 3, 4]));
    Expect::success()
}

fn assert_that_in_window_detects_a_mismatch(p: &Pipeline) -> Expect {
    let xs = windowed(p);
    assert_that_in_window(&xs, win(0, 10), contains_in_any_order(vec![1, 2, 3]));
    assertion_failure("in window [0.0, 10.0): expected 3 elements in any order, got 2")
}

/// The run fails in an assertion step with a message containing `part`.
fn assertion_failure(part: &str) -> Expect {
    let part = part.to_string();
    Expect::error(move |e| match e {
        Error::UserCode { label, message, .. } if label.contains("AssertThat") && message.contains(&part) => Ok(()),
        other => Err(format!("expected an assertion failure containing {part:?}, got: {other}")),
    })
}
