//! `TestStream` (Beam's `UsesTestStream`): scripted elements with their
//! timestamps, watermark advances firing windows (fixed, sessions, global),
//! late data dropped and counted or kept within the allowed lateness, two
//! streams side by side, stateful DoFns driven by the watermark (event-time
//! timers) and by the scripted processing-time clock (processing-time
//! timers, looping ones), construction errors, empty streams, and the
//! refusal of a runner without the `test_stream` capability.
//!
//! Expected answers are worked out by hand from Beam's semantics: each event
//! applies only after the pipeline has finished everything the previous one
//! caused; elements of a window whose end plus allowed lateness the
//! watermark has passed are dropped (`dropped_due_to_lateness`); the
//! processing-time clock starts at the epoch and moves only by
//! `advance_processing_time`; every remaining timer fires at the end.

use super::beam::{
    BAG_STATE, LOOPING_TIMER, PROCESSING_TIME_TIMERS, STATEFUL_PARDO, STRICT_TIMER_ORDERING, TIMERS_IN_PARDO,
};
use crate::fns::{end_of, reify, secs, sort_group, win, with_window};
use crate::harness::{cell_token, Expect, Test};
use beamline::io::TestStream;
use beamline::plan::capabilities::{MERGING_WINDOWS, STATEFUL_PROCESSING, TEST_STREAM, TIMERS, UNBOUNDED};
use beamline::prelude::*;
use beamline::state::{BagState, StateSpecs, TimeDomain, Timer, ValueState};
use beamline::{Error, PipelineOptions, PipelineResult};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{mpsc, Mutex, PoisonError};
use std::time::Duration;

/// Beam's category of tests that use `TestStream`.
pub(super) const USES_TEST_STREAM: &str = "UsesTestStream";

/// A test reading a TestStream.
fn streamed(name: &str, build: fn(&Pipeline) -> Expect, categories: &[&'static str]) -> Test {
    Test::new(name, build).requires(&[TEST_STREAM, UNBOUNDED]).categories(&[USES_TEST_STREAM]).categories(categories)
}

/// A test of a stateful ParDo with timers reading a TestStream.
fn timed(name: &str, build: fn(&Pipeline) -> Expect, categories: &[&'static str]) -> Test {
    streamed(name, build, &[STATEFUL_PARDO, TIMERS_IN_PARDO])
        .requires(&[STATEFUL_PROCESSING, TIMERS])
        .categories(categories)
}

pub(super) fn tests() -> Vec<Test> {
    let pt = PROCESSING_TIME_TIMERS;
    vec![
        streamed("test_stream_elements_keep_their_timestamps", test_stream_elements_keep_their_timestamps, &[]),
        streamed("test_stream_watermark_fires_fixed_windows", test_stream_watermark_fires_fixed_windows, &[]),
        streamed("test_stream_late_data_dropped_and_counted", test_stream_late_data_dropped_and_counted, &[]),
        streamed(
            "test_stream_watermark_at_window_end_makes_its_data_late",
            test_stream_watermark_at_window_end_makes_its_data_late,
            &[],
        ),
        streamed(
            "test_stream_late_data_within_allowed_lateness_is_a_late_pane",
            test_stream_late_data_within_allowed_lateness_is_a_late_pane,
            &[],
        ),
        streamed("test_stream_first_element_late", test_stream_first_element_late, &[]),
        streamed("test_stream_global_window_counts_everything", test_stream_global_window_counts_everything, &[]),
        streamed(
            "test_stream_elements_at_almost_positive_infinity",
            test_stream_elements_at_almost_positive_infinity,
            &[],
        ),
        streamed(
            "test_stream_sessions_merge_across_watermark_advances",
            test_stream_sessions_merge_across_watermark_advances,
            &[],
        )
        .requires(&[MERGING_WINDOWS]),
        streamed("test_stream_two_streams_flattened", test_stream_two_streams_flattened, &[]),
        timed(
            "test_stream_event_time_timer_sums_per_key_at_window_end",
            test_stream_event_time_timer_sums_per_key_at_window_end,
            &[],
        ),
        timed(
            "test_stream_event_time_timer_fires_before_the_next_event",
            test_stream_event_time_timer_fires_before_the_next_event,
            &[],
        ),
        timed(
            "test_stream_event_time_timers_flush_in_timestamp_order",
            test_stream_event_time_timers_flush_in_timestamp_order,
            &[STRICT_TIMER_ORDERING, LOOPING_TIMER, BAG_STATE],
        ),
        timed(
            "test_stream_processing_time_timer_flushes_batches",
            test_stream_processing_time_timer_flushes_batches,
            &[pt, BAG_STATE],
        ),
        timed(
            "test_stream_processing_time_timer_not_reached_fires_at_end",
            test_stream_processing_time_timer_not_reached_fires_at_end,
            &[pt, BAG_STATE],
        ),
        timed(
            "test_stream_processing_time_looping_timer",
            test_stream_processing_time_looping_timer,
            &[pt, LOOPING_TIMER],
        ),
        streamed(
            "test_stream_non_monotonic_watermark_is_rejected",
            test_stream_non_monotonic_watermark_is_rejected,
            &[],
        ),
        streamed("test_stream_repeated_watermark_is_rejected", test_stream_repeated_watermark_is_rejected, &[]),
        streamed(
            "test_stream_zero_processing_time_advance_is_rejected",
            test_stream_zero_processing_time_advance_is_rejected,
            &[],
        ),
        streamed("test_stream_empty_gives_empty_output", test_stream_empty_gives_empty_output, &[]),
        // Runs a TestStream pipeline of its own, with a timeout of its own
        // (a hang would cost the harness's 5 minutes per cell).
        Test::new("test_stream_assert_that_after_several_events", test_stream_assert_that_after_several_events)
            .only_on(&["direct", "timely"])
            .categories(&[USES_TEST_STREAM]),
        // Runs a TestStream pipeline of its own on rayon (which lacks the
        // capability); the test's own pipeline is bounded, so it needs no tag.
        Test::new("test_stream_refused_by_rayon", test_stream_refused_by_rayon)
            .only_on(&["rayon"])
            .categories(&[USES_TEST_STREAM]),
    ]
}

// ---------------------------------------------------------------- helpers

/// Fixed windows of `size` seconds, data at most `lateness` seconds late.
pub(super) fn fixed<T: Element>(size: u64, lateness: u64) -> WindowInto<T> {
    WindowInto::new(WindowFn::fixed(Duration::from_secs(size))).with_allowed_lateness(Duration::from_secs(lateness))
}

/// `(value, seconds)` pairs as timestamped elements.
pub(super) fn at<T: Clone>(xs: &[(T, i64)]) -> Vec<(T, Timestamp)> {
    xs.iter().map(|(v, t)| (v.clone(), secs(*t))).collect()
}

/// `(key, value, seconds)` as timestamped key-value elements.
pub(super) fn kv_at(xs: &[(&str, i64, i64)]) -> Vec<((String, i64), Timestamp)> {
    xs.iter().map(|(k, v, t)| ((k.to_string(), *v), secs(*t))).collect()
}

/// The `dropped_due_to_lateness` counters of step `step` and of the steps
/// inside it (a Combine's GroupByKey, wherever a runner counts them) must add
/// up to `n`.
pub(super) fn dropped(step: &'static str, n: i64) -> impl Fn(&PipelineResult) -> Result<(), String> {
    move |r| {
        let inside = format!("{step}/");
        let got: i64 = r
            .metrics()
            .counters()
            .filter(|(s, name, _)| *name == "dropped_due_to_lateness" && (*s == step || s.starts_with(&inside)))
            .map(|(_, _, v)| v)
            .sum();
        if got == n {
            Ok(())
        } else {
            Err(format!("'{step}' dropped {got} elements as late; expected {n}\n{}", r.metrics()))
        }
    }
}

/// Collected elements (as `Debug` text) by cell token and name.
type Collected = HashMap<(u64, String), Vec<String>>;

/// What the collecting steps saw.
static COLLECTED: Mutex<Option<Collected>> = Mutex::new(None);

/// Records every element it sees in [`COLLECTED`] (a sink: no output).
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "")]
struct Collect<T> {
    token: u64,
    name: String,
    #[serde(skip)]
    _t: PhantomData<fn() -> T>,
}

impl<T: Element> DoFn for Collect<T> {
    type In = T;
    type Out = ();
    fn process(&mut self, x: &T, _: &mut ProcessContext<'_, ()>) -> Result<(), DoFnError> {
        let mut all = COLLECTED.lock().unwrap_or_else(PoisonError::into_inner);
        all.get_or_insert_with(HashMap::new).entry((self.token, self.name.clone())).or_default().push(format!("{x:?}"));
        Ok(())
    }
    fn name(&self) -> String {
        "Collect".into()
    }
}

/// Collects `pcoll` (step `Collect<name>`); the returned check, added to the
/// test's [`Expect`], says whether it held exactly `expected`, in any order.
///
/// The suite's `assert_that` reads its input as a side input in the global
/// window; on timely, a TestStream of more than one event feeding one never
/// finishes (see `test_stream_assert_that_after_several_events`), so these
/// tests collect their output instead, outside the pipeline.
pub(super) fn outputs<T: Element>(
    pcoll: &PCollection<T>,
    name: &str,
    expected: Vec<T>,
) -> impl Fn(&PipelineResult) -> Result<(), String> + 'static {
    let collected = collect(pcoll, name);
    let mut want: Vec<String> = expected.iter().map(|x| format!("{x:?}")).collect();
    want.sort();
    let name = name.to_string();
    move |_| {
        let got = collected();
        let (mut missing, mut unexpected) = (want.clone(), Vec::new());
        for g in got {
            match missing.iter().position(|w| *w == g) {
                Some(i) => {
                    missing.remove(i);
                }
                None => unexpected.push(g),
            }
        }
        if missing.is_empty() && unexpected.is_empty() {
            Ok(())
        } else {
            unexpected.sort();
            Err(format!("output '{name}': missing {missing:?}; unexpected {unexpected:?}"))
        }
    }
}

/// Collects `pcoll` (step `Collect<name>`) outside the pipeline; the
/// returned function takes what was collected (each element's `Debug` form),
/// once the pipeline ran.
pub(super) fn collect<T: Element>(pcoll: &PCollection<T>, name: &str) -> impl Fn() -> Vec<String> + 'static {
    let token = cell_token();
    let _ = pcoll.apply_named(
        &format!("Collect{name}"),
        ParDo::of(Collect::<T> { token, name: name.to_string(), _t: PhantomData }),
    );
    let name = name.to_string();
    move || {
        COLLECTED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .and_then(|all| all.remove(&(token, name.clone())))
            .unwrap_or_default()
    }
}

/// Keys every element with 0.
#[derive(Clone, Serialize, Deserialize)]
struct KeyZero;

impl DoFn for KeyZero {
    type In = i64;
    type Out = (i64, i64);
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, (i64, i64)>) -> Result<(), DoFnError> {
        ctx.emit((0, *x));
        Ok(())
    }
}

/// Windowed sums of a TestStream of numbers, with the window of each sum,
/// through a Combine labelled `Sum`.
fn windowed_sums(p: &Pipeline, s: TestStream<i64>, window: WindowInto<i64>) -> PCollection<(i64, Window)> {
    p.apply(s)
        .apply(window)
        .apply_named("Sum", Combine::globally(Sum::<i64>::new()).without_defaults())
        .apply(with_window())
}

// ---------------------------------------------------------------- elements and windows

/// Elements without a timestamp get the watermark's at the time they are
/// added (the minimum before any advance); explicit ones keep theirs, even
/// behind the watermark in the global window.
fn test_stream_elements_keep_their_timestamps(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements(vec![1i64, 2])
        .add_elements_at(at(&[(3i64, 3), (4, -7)]))
        .advance_watermark_to(secs(10))
        .add_elements(vec![5])
        .add_elements_at(at(&[(6, 100), (7, 1)]))
        .advance_watermark_to_infinity();
    let xs = p.apply(s);
    assert!(!xs.is_bounded());
    let g = Window::Global;
    let out = outputs(
        &xs.apply(reify()),
        "Out",
        vec![
            (1i64, Timestamp::MIN, g),
            (2, Timestamp::MIN, g),
            (3, secs(3), g),
            (4, secs(-7), g),
            (5, secs(10), g),
            (6, secs(100), g),
            (7, secs(1), g),
        ],
    );
    Expect::success().check(out)
}

/// Per-key counts in fixed windows, each window fired as the watermark passes it.
fn test_stream_watermark_fires_fixed_windows(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(at(&[("a".to_string(), 1), ("b".into(), 2), ("a".into(), 3)]))
        .advance_watermark_to(secs(10))
        .add_elements_at(at(&[("a".to_string(), 11), ("a".into(), 15), ("b".into(), 19)]))
        .advance_watermark_to(secs(20))
        .add_elements_at(at(&[("c".to_string(), 25)]))
        .advance_watermark_to_infinity();
    let counts = p.apply(s).apply(fixed(10, 0)).apply(Count::per_element()).apply(with_window());
    let c = |k: &str, n: u64, a: i64| ((k.to_string(), n), win(a, a + 10));
    let out = outputs(&counts, "Out", vec![c("a", 2, 0), c("b", 1, 0), c("a", 2, 10), c("b", 1, 10), c("c", 1, 20)]);
    Expect::success().check(out).check(dropped("CountPerElement", 0))
}

/// Once the watermark passed 20 s, window [0, 10) is closed: its later
/// elements are dropped by the GroupByKey and counted; [20, 30) is still open.
fn test_stream_late_data_dropped_and_counted(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(at(&[(1i64, 1), (2, 2)]))
        .advance_watermark_to(secs(20))
        .add_elements_at(at(&[(3i64, 3), (4, 25)]))
        .add_elements_at(at(&[(5i64, 9)]))
        .advance_watermark_to_infinity();
    let groups = p
        .apply(s)
        .apply(fixed(10, 0))
        .apply(ParDo::of(KeyZero))
        .apply_named("Group", GroupByKey::new())
        .apply(sort_group())
        .apply(with_window());
    let out = outputs(&groups, "Out", vec![((0i64, vec![1i64, 2]), win(0, 10)), ((0, vec![4]), win(20, 30))]);
    Expect::success().check(out).counter("Group", "dropped_due_to_lateness", 2)
}

/// A watermark exactly at a window's end has passed its last instant: an
/// element one microsecond before the end is late, one at the end is not.
fn test_stream_watermark_at_window_end_makes_its_data_late(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(at(&[(1i64, 5)]))
        .advance_watermark_to(secs(10))
        .add_elements_at(vec![(2i64, end_of(0, 10)), (3, secs(10))])
        .advance_watermark_to_infinity();
    let sums = windowed_sums(p, s, fixed(10, 0));
    let out = outputs(&sums, "Out", vec![(1i64, win(0, 10)), (3, win(10, 20))]);
    Expect::success().check(out).check(dropped("Sum", 1))
}

/// With 30 s of allowed lateness, an element of [0, 10) arriving at
/// watermark 20 s is kept: it fires a late pane of its own (panes discard
/// what fired before, Beam's default). Once the watermark passed 40 s the
/// window has expired and its data is dropped.
fn test_stream_late_data_within_allowed_lateness_is_a_late_pane(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(at(&[(1i64, 1), (2, 2)]))
        .advance_watermark_to(secs(20))
        .add_elements_at(at(&[(3i64, 3)]))
        .advance_watermark_to(secs(50))
        .add_elements_at(at(&[(4i64, 4), (5, 45)]))
        .advance_watermark_to_infinity();
    let sums = windowed_sums(p, s, fixed(10, 30));
    let out = outputs(&sums, "Out", vec![(3i64, win(0, 10)), (3, win(0, 10)), (5, win(40, 50))]);
    Expect::success().check(out).check(dropped("Sum", 1))
}

/// Beam's `TestStreamTest.testFirstElementLate`: the very first element is
/// already past its window's allowed lateness (at watermark 0); the on-time
/// one after it is grouped alone.
fn test_stream_first_element_late(p: &Pipeline) -> Expect {
    let late_at = secs(-1000);
    let s = TestStream::new()
        .advance_watermark_to(secs(0))
        .add_elements_at(vec![((1i64, "late".to_string()), late_at)])
        .add_elements_at(vec![((1i64, "onTime".to_string()), Timestamp::from_millis(100))])
        .advance_watermark_to_infinity();
    let window = WindowInto::new(WindowFn::fixed(Duration::from_millis(1000)))
        .with_allowed_lateness(Duration::from_millis(5000));
    let groups = p.apply(s).apply(window).apply_named("Group", GroupByKey::new()).apply(sort_group());
    let out = outputs(&groups.apply(with_window()), "Out", vec![((1i64, vec!["onTime".to_string()]), win(0, 1))]);
    Expect::success().check(out).counter("Group", "dropped_due_to_lateness", 1)
}

/// The global window never closes before the end: elements behind the
/// watermark are on time, and the count covers every element.
fn test_stream_global_window_counts_everything(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements(vec![1i64, 2, 3])
        .advance_watermark_to(secs(10))
        .add_elements_at(at(&[(4i64, 5)]))
        .advance_watermark_to(secs(1000))
        .add_elements(vec![5, 6])
        .add_elements_at(vec![(7, Timestamp::MIN)])
        .advance_watermark_to_infinity();
    // Beam refuses a grouping of an unbounded input in the global window with
    // the default trigger (it would never fire before the input ends); an
    // explicit on-time trigger fires once, at the end.
    let on_time = WindowInto::new(WindowFn::Global).triggering(Trigger::after_watermark()).discarding_fired_panes();
    let xs = p.apply(s).apply(on_time);
    let out = outputs(&xs.apply_named("Count", Count::globally()), "Out", vec![7u64]);
    let out2 = outputs(&xs.apply_named("Sum", Combine::globally(Sum::<i64>::new())), "Out2", vec![28i64]);
    Expect::success().check(out).check(out2).check(dropped("Count", 0))
}

/// Beam's `TestStreamTest.testElementsAtAlmostPositiveInfinity`: elements at
/// the end of the global window, in 6-hour windows, are grouped when the
/// watermark goes to infinity.
fn test_stream_elements_at_almost_positive_infinity(p: &Pipeline) -> Expect {
    let end = Timestamp::END_OF_GLOBAL_WINDOW;
    let s = TestStream::new()
        .add_elements_at(vec![((1i64, "foo".to_string()), end), ((1, "bar".to_string()), end)])
        .advance_watermark_to_infinity();
    let groups = p
        .apply(s)
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(6 * 3600))))
        .apply_named("Group", GroupByKey::new())
        .apply(sort_group());
    let out = outputs(&groups, "Out", vec![(1i64, vec!["bar".to_string(), "foo".to_string()])]);
    Expect::success().check(out)
}

/// Sessions (gap 10 s) grow across watermark advances until the watermark
/// passes their end; an element whose own session window has already
/// expired is dropped even though it would have merged into a fired session.
fn test_stream_sessions_merge_across_watermark_advances(p: &Pipeline) -> Expect {
    let e = |xs: &[(&str, i64)]| at(&xs.iter().map(|(k, t)| (k.to_string(), *t)).collect::<Vec<_>>());
    let s = TestStream::new()
        .add_elements_at(e(&[("a", 1)]))
        .advance_watermark_to(secs(5))
        .add_elements_at(e(&[("a", 8)])) // [1, 11) + [8, 18)
        .advance_watermark_to(secs(17))
        .add_elements_at(e(&[("a", 16)])) // + [16, 26): [1, 26), still open at 17 s
        .advance_watermark_to(secs(30)) // fires [1, 26)
        .add_elements_at(e(&[("a", 12)])) // [12, 22) expired at 22 s: dropped
        .add_elements_at(e(&[("a", 40), ("b", 42)]))
        .advance_watermark_to(secs(45))
        .add_elements_at(e(&[("a", 48)])) // [40, 50) + [48, 58)
        .advance_watermark_to_infinity();
    let counts = p
        .apply(s)
        .apply(WindowInto::new(WindowFn::sessions(Duration::from_secs(10))))
        .apply_named("Count", Count::per_element())
        .apply(with_window());
    let out = outputs(
        &counts,
        "Out",
        vec![
            (("a".to_string(), 3u64), win(1, 26)),
            (("a".to_string(), 2), win(40, 58)),
            (("b".to_string(), 1), win(42, 52)),
        ],
    );
    Expect::success().check(out).check(dropped("Count", 1))
}

/// Two TestStreams side by side (Beam's `testMultipleStreams`): one of
/// strings read on its own, and two of numbers flattened, summed per window.
fn test_stream_two_streams_flattened(p: &Pipeline) -> Expect {
    let words = p.apply_named(
        "Words",
        TestStream::new().add_elements(vec!["foo".to_string(), "bar".to_string()]).advance_watermark_to_infinity(),
    );
    let out = outputs(&words, "Out", vec!["foo".to_string(), "bar".to_string()]);
    let a = TestStream::new()
        .add_elements_at(at(&[(1i64, 1), (2, 12)]))
        .advance_watermark_to(secs(10))
        .add_elements_at(at(&[(3i64, 15)]))
        .advance_watermark_to_infinity();
    let b = TestStream::new()
        .add_elements_at(at(&[(10i64, 2)]))
        .advance_watermark_to(secs(20))
        .add_elements_at(at(&[(20i64, 25)]))
        .advance_watermark_to(secs(30))
        .advance_watermark_to_infinity();
    let both = vec![p.apply_named("A", a), p.apply_named("B", b)].apply(Flatten::new());
    assert!(!both.is_bounded());
    let sums = both
        .apply(fixed(10, 0))
        .apply_named("Sum", Combine::globally(Sum::<i64>::new()).without_defaults())
        .apply(with_window());
    let out2 = outputs(&sums, "Out2", vec![(11i64, win(0, 10)), (5, win(10, 20)), (20, win(20, 30))]);
    Expect::success().check(out).check(out2).check(dropped("Sum", 0))
}

// ---------------------------------------------------------------- event-time timers

/// Sums each key's values and emits the sum from an event-time timer at the
/// end of the window.
#[derive(Clone, Default, Serialize, Deserialize)]
struct SumAtWindowEnd {
    sum: ValueState<i64>,
    flush: Timer,
}

impl StatefulDoFn for SumAtWindowEnd {
    type Key = String;
    type Value = i64;
    type Out = (String, i64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.sum = specs.value("sum");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, i64)>,
    ) -> Result<(), DoFnError> {
        let mut sum = ctx.value(&self.sum)?;
        let s = sum.read().unwrap_or(0) + v;
        sum.write(s);
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, String, (String, i64)>) -> Result<(), DoFnError> {
        let s = ctx.value(&self.sum)?.read().unwrap_or(0);
        let k = ctx.key().clone();
        ctx.emit((k, s));
        Ok(())
    }
}

/// Per-key sums per fixed window, emitted at the window's end (stamped with
/// it); an element of a window the watermark has closed is dropped by the
/// stateful step and counted.
fn test_stream_event_time_timer_sums_per_key_at_window_end(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(kv_at(&[("a", 1, 1), ("b", 2, 2), ("a", 3, 3)]))
        .advance_watermark_to(secs(5))
        .add_elements_at(kv_at(&[("a", 4, 7)]))
        .advance_watermark_to(secs(15)) // fires [0, 10)
        .add_elements_at(kv_at(&[("a", 5, 12), ("a", 100, 4)])) // 100 is late
        .add_elements_at(kv_at(&[("b", 6, 19)]))
        .advance_watermark_to_infinity();
    let sums =
        p.apply(s).apply(fixed(10, 0)).apply_named("Sums", StatefulParDo::of(SumAtWindowEnd::default())).apply(reify());
    let e = |k: &str, s: i64, a: i64| ((k.to_string(), s), end_of(a, a + 10), win(a, a + 10));
    let out = outputs(&sums, "Out", vec![e("a", 8, 0), e("b", 2, 0), e("a", 5, 10), e("b", 6, 10)]);
    Expect::success().check(out).counter("Sums", "dropped_due_to_lateness", 1)
}

/// Emits what it sees: each element says whether the event-time timer that
/// the element 37 set (1 s after its timestamp) has fired yet.
#[derive(Clone, Default, Serialize, Deserialize)]
struct FiredYet {
    fired: ValueState<bool>,
    timer: Timer,
}

impl StatefulDoFn for FiredYet {
    type Key = String;
    type Value = i64;
    type Out = String;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.fired = specs.value("fired");
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(&mut self, _: &String, v: &i64, ctx: &mut StateContext<'_, String, String>) -> Result<(), DoFnError> {
        if *v == 37 {
            ctx.emit("37".to_string());
            let at = ctx.timestamp().plus_micros(1_000_000);
            return ctx.timer(&self.timer)?.set(at);
        }
        let fired = ctx.value(&self.fired)?.read().unwrap_or(false);
        ctx.emit(format!("{v} fired={fired}"));
        Ok(())
    }
    fn on_timer(&mut self, t: &FiredTimer, ctx: &mut StateContext<'_, String, String>) -> Result<(), DoFnError> {
        ctx.value(&self.fired)?.write(true);
        ctx.emit(format!("timer at {:?}", t.timestamp()));
        Ok(())
    }
}

/// Like Beam's `ParDoTest.testEventTimeTimerUnbounded`: an event-time timer
/// fires once the watermark passes it, before the next event applies, and
/// not before.
fn test_stream_event_time_timer_fires_before_the_next_event(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .advance_watermark_to(secs(0))
        .add_elements(vec![("hello".to_string(), 37i64)]) // at 0 s: timer at 1 s
        .add_elements(vec![("hello".to_string(), 1)])
        .advance_watermark_to(secs(1)) // at the timer: it may fire now or at the next advance
        .advance_watermark_to(secs(2)) // past it: it has fired before the next event
        .add_elements(vec![("hello".to_string(), 2)])
        .advance_watermark_to_infinity();
    let out = p.apply(s).apply_named("FiredYet", StatefulParDo::of(FiredYet::default()));
    let strings = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let timer = format!("timer at {:?}", secs(1));
    let out = outputs(&out, "Out", strings(&["37", "1 fired=false", &timer, "2 fired=true"]));
    Expect::success().check(out)
}

/// A value with its timestamp.
type Stamped = (Timestamp, i64);

/// Beam's `ParDoTest.testEventTimeTimerOrdering`: buffers elements in a bag
/// and keeps one event-time timer at the smallest buffered timestamp; each
/// firing flushes what is due, in timestamp order, and resets the timer to
/// the next smallest (often already behind the watermark). Timers must fire
/// in order, so the output sequence is the elements in timestamp order.
#[derive(Clone, Default, Serialize, Deserialize)]
struct OrderedFlush {
    buffer: BagState<Stamped>,
    min: ValueState<Timestamp>,
    last: ValueState<Timestamp>,
    seq: ValueState<i64>,
    timer: Timer,
}

impl StatefulDoFn for OrderedFlush {
    type Key = String;
    type Value = i64;
    type Out = (i64, i64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.buffer = specs.bag("buffer");
        self.min = specs.value("min");
        self.last = specs.value("last");
        self.seq = specs.value("seq");
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (i64, i64)>,
    ) -> Result<(), DoFnError> {
        let ts = ctx.timestamp();
        ctx.bag(&self.buffer)?.add((ts, *v));
        let mut min = ctx.value(&self.min)?;
        let m = min.read().map_or(ts, |m| m.min(ts));
        min.write(m);
        ctx.timer(&self.timer)?.set(m)
    }
    fn on_timer(&mut self, t: &FiredTimer, ctx: &mut StateContext<'_, String, (i64, i64)>) -> Result<(), DoFnError> {
        let now = t.timestamp();
        let mut last = ctx.value(&self.last)?;
        if let Some(l) = last.read() {
            if l > now {
                return Err(DoFnError::new(format!("timer for {now:?} fired after the one for {l:?}")));
            }
        }
        last.write(now);
        let mut buffer = ctx.bag(&self.buffer)?;
        let (mut due, keep): (Vec<Stamped>, Vec<Stamped>) = buffer.read().iter().partition(|(ts, _)| *ts <= now);
        buffer.clear();
        for x in &keep {
            buffer.add(*x);
        }
        due.sort();
        let mut seq = ctx.value(&self.seq)?;
        let mut n = seq.read().unwrap_or(0);
        let mut out = Vec::new();
        for (_, v) in due {
            out.push((n, v));
            n += 1;
        }
        seq.write(n);
        for x in out {
            ctx.emit(x);
        }
        match keep.iter().map(|(ts, _)| *ts).min() {
            Some(next) => {
                ctx.value(&self.min)?.write(next);
                ctx.timer(&self.timer)?.set(next)
            }
            None => {
                ctx.value(&self.min)?.clear();
                Ok(())
            }
        }
    }
}

fn test_stream_event_time_timers_flush_in_timestamp_order(p: &Pipeline) -> Expect {
    let n = 100i64;
    let base = 1_500_000_000i64;
    let mut s = TestStream::new().advance_watermark_to(secs(0));
    for chunk in 0..n / 10 {
        // Each group of ten arrives in reverse order, then the watermark
        // passes all of them.
        let group: Vec<_> =
            (chunk * 10..chunk * 10 + 10).rev().map(|i| (("dummy".to_string(), i), secs(base + i))).collect();
        s = s.add_elements_at(group).advance_watermark_to(secs(base + chunk * 10 + 10));
    }
    let out =
        p.apply(s.advance_watermark_to_infinity()).apply_named("Flush", StatefulParDo::of(OrderedFlush::default()));
    let out = outputs(&out, "Out", (0..n).map(|i| (i, i)).collect::<Vec<_>>());
    Expect::success().check(out)
}

// ---------------------------------------------------------------- processing-time timers

/// Buffers elements in a bag; the first element of a batch sets a
/// processing-time timer `delay_secs` later (relative to the clock), which
/// flushes the batch as `(batch index, firing time, sorted values)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct BufferAndFlush {
    delay_secs: u64,
    buffer: BagState<i64>,
    armed: ValueState<bool>,
    batch: ValueState<i64>,
    flush: Timer,
}

impl BufferAndFlush {
    fn new(delay_secs: u64) -> Self {
        BufferAndFlush { delay_secs, ..Default::default() }
    }
}

type Flushed = (i64, Timestamp, Vec<i64>);

impl StatefulDoFn for BufferAndFlush {
    type Key = String;
    type Value = i64;
    type Out = Flushed;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.buffer = specs.bag("buffer");
        self.armed = specs.value("armed");
        self.batch = specs.value("batch");
        self.flush = specs.timer("flush", TimeDomain::ProcessingTime);
    }
    fn process(&mut self, _: &String, v: &i64, ctx: &mut StateContext<'_, String, Flushed>) -> Result<(), DoFnError> {
        ctx.bag(&self.buffer)?.add(*v);
        let mut armed = ctx.value(&self.armed)?;
        if !armed.read().unwrap_or(false) {
            armed.write(true);
            ctx.timer(&self.flush)?.set_relative(Duration::from_secs(self.delay_secs))?;
        }
        Ok(())
    }
    fn on_timer(&mut self, t: &FiredTimer, ctx: &mut StateContext<'_, String, Flushed>) -> Result<(), DoFnError> {
        let mut buffer = ctx.bag(&self.buffer)?;
        let mut values = buffer.read().to_vec();
        buffer.clear();
        values.sort();
        ctx.value(&self.armed)?.clear();
        let mut batch = ctx.value(&self.batch)?;
        let n = batch.read().unwrap_or(0);
        batch.write(n + 1);
        ctx.emit((n, t.timestamp(), values));
        Ok(())
    }
}

fn keyed(values: &[i64]) -> Vec<(String, i64)> {
    values.iter().map(|v| ("k".to_string(), *v)).collect()
}

/// The clock starts at the epoch: [1, 2] arm the timer for 5 s; after 3 s
/// it has not fired (3 joins the batch); after 6 s it has, before [4, 5]
/// arrive, which arm it for 6 + 5 = 11 s, reached at 12 s; 6 arms it for
/// 17 s, not reached at 13 s (7 joins), so that batch flushes at the end.
fn test_stream_processing_time_timer_flushes_batches(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements(keyed(&[1, 2]))
        .advance_processing_time(Duration::from_secs(3))
        .add_elements(keyed(&[3]))
        .advance_processing_time(Duration::from_secs(3))
        .add_elements(keyed(&[4, 5]))
        .advance_processing_time(Duration::from_secs(6))
        .add_elements(keyed(&[6]))
        .advance_processing_time(Duration::from_secs(1))
        .add_elements(keyed(&[7]))
        .advance_watermark_to_infinity();
    let out = p.apply(s).apply_named("Buffer", StatefulParDo::of(BufferAndFlush::new(5)));
    let out = outputs(
        &out,
        "Out",
        vec![(0i64, secs(5), vec![1i64, 2, 3]), (1, secs(11), vec![4, 5]), (2, secs(17), vec![6, 7])],
    );
    Expect::success().check(out)
}

/// A processing-time timer 10 s out is not reached by 9 s of clock, nor by
/// the watermark (event time) moving far ahead: it fires only at the end,
/// with every element in its batch.
fn test_stream_processing_time_timer_not_reached_fires_at_end(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements(keyed(&[1]))
        .advance_processing_time(Duration::from_secs(4))
        .advance_watermark_to(secs(100))
        .add_elements(keyed(&[2]))
        .advance_processing_time(Duration::from_secs(5))
        .add_elements(keyed(&[3]))
        .advance_watermark_to_infinity();
    let out = p.apply(s).apply_named("Buffer", StatefulParDo::of(BufferAndFlush::new(10)));
    let out = outputs(&out, "Out", vec![(0i64, secs(10), vec![1i64, 2, 3])]);
    Expect::success().check(out)
}

/// A processing-time timer that sets itself again, 1 s after the clock's
/// time when it fires, three times in all.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Ticker {
    ticks: ValueState<i64>,
    tick: Timer,
}

impl StatefulDoFn for Ticker {
    type Key = String;
    type Value = i64;
    type Out = (i64, Timestamp);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.ticks = specs.value("ticks");
        self.tick = specs.timer("tick", TimeDomain::ProcessingTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (i64, Timestamp)>,
    ) -> Result<(), DoFnError> {
        if *v == 0 {
            ctx.timer(&self.tick)?.set_relative(Duration::from_secs(1))?;
        }
        Ok(())
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (i64, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let mut ticks = ctx.value(&self.ticks)?;
        let n = ticks.read().unwrap_or(0) + 1;
        ticks.write(n);
        ctx.emit((n, t.timestamp()));
        if n < 3 {
            ctx.timer(&self.tick)?.set_relative(Duration::from_secs(1))?;
        }
        Ok(())
    }
}

/// Set at clock 0 for 1 s; the clock jumps to 5 s (fires, resets for 6 s),
/// to 10 s (fires, resets for 11 s), to 15 s (fires, stops).
fn test_stream_processing_time_looping_timer(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements(keyed(&[0]))
        .advance_processing_time(Duration::from_secs(5))
        .advance_processing_time(Duration::from_secs(5))
        .advance_processing_time(Duration::from_secs(5))
        .add_elements(keyed(&[1]))
        .advance_watermark_to_infinity();
    let out = p.apply(s).apply_named("Ticker", StatefulParDo::of(Ticker::default()));
    let out = outputs(&out, "Out", vec![(1i64, secs(1)), (2, secs(6)), (3, secs(11))]);
    Expect::success().check(out)
}

// ---------------------------------------------------------------- construction, edge cases

fn test_stream_non_monotonic_watermark_is_rejected(p: &Pipeline) -> Expect {
    let s = TestStream::new().add_elements(vec![1i64]).advance_watermark_to(secs(10)).advance_watermark_to(secs(5));
    let xs = p.apply(s.advance_watermark_to_infinity());
    assert_that(&xs, contains_in_any_order(vec![1i64]));
    Expect::construction_error("Watermark must strictly-monotonically advance")
}

fn test_stream_repeated_watermark_is_rejected(p: &Pipeline) -> Expect {
    let s = TestStream::new().advance_watermark_to(secs(10)).add_elements(vec![1i64]).advance_watermark_to(secs(10));
    let xs = p.apply(s.advance_watermark_to_infinity());
    assert_that(&xs, contains_in_any_order(vec![1i64]));
    Expect::construction_error("Watermark must strictly-monotonically advance")
}

fn test_stream_zero_processing_time_advance_is_rejected(p: &Pipeline) -> Expect {
    let s = TestStream::new().add_elements(vec![1i64]).advance_processing_time(Duration::ZERO);
    let xs = p.apply(s.advance_watermark_to_infinity());
    assert_that(&xs, contains_in_any_order(vec![1i64]));
    Expect::construction_error("Must advance processing time by positive amount.")
}

/// A stream that only ends (and one with no events at all) gives nothing,
/// even through windowing and grouping.
fn test_stream_empty_gives_empty_output(p: &Pipeline) -> Expect {
    let ended = p.apply_named("Ended", TestStream::<i64>::new().advance_watermark_to_infinity());
    assert!(!ended.is_bounded());
    let out = outputs(&ended, "Out", Vec::new());
    let sums = ended.apply(fixed(10, 0)).apply_named("Sum", Combine::globally(Sum::<i64>::new()).without_defaults());
    let out2 = outputs(&sums, "Out2", Vec::new());
    let nothing = p.apply_named("Nothing", TestStream::<String>::new());
    let out3 = outputs(&nothing.apply(fixed(10, 0)).apply(Count::per_element()), "Out3", Vec::new());
    Expect::success().check(out).check(out2).check(out3)
}

/// rayon lacks the `test_stream` capability: running a TestStream pipeline
/// on it fails with `Unsupported`, naming the step and the capability. The
/// harness would skip a cell whose own pipeline needs the capability, so the
/// TestStream pipeline is a second one, run from the check.
fn test_stream_refused_by_rayon(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i64]));
    assert_that(&xs, contains_in_any_order(vec![1i64]));
    let options = PipelineOptions { graph: None, ..p.options() };
    Expect::success().check(move |_| {
        let q = Pipeline::new(options.clone(), crate::runners());
        let ys = q.apply(TestStream::new().add_elements(vec![1i64]).advance_watermark_to_infinity());
        assert_that(&ys, contains_in_any_order(vec![1i64]));
        match q.run() {
            Err(Error::Unsupported { capability, label, runner })
                if capability == TEST_STREAM && label == "TestStream" && runner == options.runner =>
            {
                Ok(())
            }
            Err(e) => Err(format!("expected rayon to refuse step 'TestStream' for lacking 'test_stream', got: {e}")),
            Ok(_) => Err("rayon ran a TestStream, though it lacks the capability 'test_stream'".into()),
        }
    })
}

/// A TestStream of two events read by `assert_that` (a ParDo on an Impulse
/// with the stream as a side input in the global window, as Beam's `PAssert`
/// does): the run must finish, with the assertion holding. The pipeline runs
/// on a thread of its own, given a minute.
fn test_stream_assert_that_after_several_events(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i64]));
    assert_that(&xs, contains_in_any_order(vec![1i64]));
    let options = PipelineOptions { graph: None, ..p.options() };
    Expect::success().check(move |_| {
        let (tx, rx) = mpsc::channel();
        let options = options.clone();
        std::thread::spawn(move || {
            let q = Pipeline::new(options, crate::runners());
            let s = TestStream::new()
                .add_elements_at(at(&[(1i64, 3)]))
                .add_elements_at(at(&[(2i64, 4)]))
                .advance_watermark_to_infinity();
            assert_that(&q.apply(s), contains_in_any_order(vec![1i64, 2]));
            let _ = tx.send(q.run().map(|_| ()).map_err(|e| e.to_string()));
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(result) => result,
            Err(_) => Err("a TestStream of two events read by assert_that: the run did not end within 60 s".into()),
        }
    })
}
