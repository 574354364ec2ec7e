//! Timers in a stateful ParDo (Beam's `UsesTimersInParDo`): event-time
//! timers on bounded input, resetting and clearing, output timestamps,
//! firing order, looping timers, timer families, processing-time timers,
//! `on_window_expiration` with allowed lateness, timers past the window's
//! expiry, errors in callbacks, and event-time timers on unbounded input
//! (what a timer sees, and the watermark hold of its output timestamp).
//!
//! Expected answers are computed here from the input; what a test emits
//! never depends on the order elements arrive in.

use super::beam::{
    BAG_STATE, LOOPING_TIMER, ON_WINDOW_EXPIRATION, ORDERED_LIST_STATE, PROCESSING_TIME_TIMERS, STATEFUL_PARDO,
    STRICT_TIMER_ORDERING, TIMERS_IN_PARDO, TIMER_MAP,
};
use crate::fns::{kvs, reify, secs, win, with_window, ModKey};
use crate::harness::{Expect, Test};
use beamline::io::GenerateSequence;
use beamline::plan::capabilities::{STATEFUL_PROCESSING, TIMERS, UNBOUNDED};
use beamline::prelude::*;
use beamline::state::{BagState, OrderedListState, StateSpecs, TimeDomain, Timer, TimerFamily, ValueState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A test of a stateful ParDo with timers.
fn timed(name: &str, build: fn(&Pipeline) -> Expect, categories: &[&'static str]) -> Test {
    Test::new(name, build)
        .requires(&[STATEFUL_PROCESSING, TIMERS])
        .categories(&[STATEFUL_PARDO, TIMERS_IN_PARDO])
        .categories(categories)
}

pub(super) fn tests() -> Vec<Test> {
    let pt = PROCESSING_TIME_TIMERS;
    vec![
        timed("timer_event_time_fires_at_end_of_bounded_input", timer_event_time_fires_at_end_of_bounded_input, &[]),
        timed("timer_reset_fires_once_at_the_later_time", timer_reset_fires_once_at_the_later_time, &[]),
        timed("timer_reset_to_an_earlier_time", timer_reset_to_an_earlier_time, &[]),
        timed("timer_reset_by_every_element_fires_once", timer_reset_by_every_element_fires_once, &[]),
        timed("timer_clear_prevents_firing", timer_clear_prevents_firing, &[]),
        timed("timer_cleared_by_an_earlier_timer", timer_cleared_by_an_earlier_timer, &[]),
        timed("timer_output_timestamp_defaults_to_firing_time", timer_output_timestamp_defaults_to_firing_time, &[]),
        timed("timer_with_output_timestamp", timer_with_output_timestamp, &[]),
        timed("timer_output_timestamp_after_firing_is_an_error", timer_output_timestamp_after_firing_is_an_error, &[]),
        timed("timer_per_key_and_window", timer_per_key_and_window, &[]),
        timed("timer_set_in_the_past_fires", timer_set_in_the_past_fires, &[]),
        timed(
            "timer_fires_in_timestamp_order_per_key",
            timer_fires_in_timestamp_order_per_key,
            &[STRICT_TIMER_ORDERING, TIMER_MAP],
        ),
        timed(
            "timer_set_in_callback_fires_in_order",
            timer_set_in_callback_fires_in_order,
            &[LOOPING_TIMER, STRICT_TIMER_ORDERING],
        ),
        timed("timer_looping_stops_after_n", timer_looping_stops_after_n, &[LOOPING_TIMER]),
        timed("timer_family_dynamic_tags", timer_family_dynamic_tags, &[TIMER_MAP]),
        timed("timer_family_clear_one_tag", timer_family_clear_one_tag, &[TIMER_MAP]),
        timed("timer_family_and_plain_timer_told_apart", timer_family_and_plain_timer_told_apart, &[TIMER_MAP]),
        timed("timer_many_keys", timer_many_keys, &[]),
        timed("timer_callback_emits_many_elements", timer_callback_emits_many_elements, &[]),
        timed(
            "timer_processing_time_fires_at_end_of_bounded_input",
            timer_processing_time_fires_at_end_of_bounded_input,
            &[pt],
        ),
        timed("timer_processing_time_output_timestamp", timer_processing_time_output_timestamp, &[pt]),
        timed("timer_processing_time_clear", timer_processing_time_clear, &[pt]),
        timed("timer_event_and_processing_time_in_one_step", timer_event_and_processing_time_in_one_step, &[pt]),
        timed(
            "timer_processing_time_looping_stops_after_n",
            timer_processing_time_looping_stops_after_n,
            &[pt, LOOPING_TIMER],
        ),
        Test::new("timer_on_window_expiration_sees_state", timer_on_window_expiration_sees_state)
            .requires(&[STATEFUL_PROCESSING])
            .categories(&[STATEFUL_PARDO, ON_WINDOW_EXPIRATION, BAG_STATE]),
        timed(
            "timer_on_window_expiration_after_timers",
            timer_on_window_expiration_after_timers,
            &[ON_WINDOW_EXPIRATION],
        ),
        timed("timer_after_window_expiry_is_an_error", timer_after_window_expiry_is_an_error, &[]),
        timed("timer_after_end_of_global_window_is_an_error", timer_after_end_of_global_window_is_an_error, &[]),
        timed("timer_error_in_on_timer_names_the_label", timer_error_in_on_timer_names_the_label, &[]),
        Test::new(
            "timer_panic_in_on_window_expiration_names_the_label",
            timer_panic_in_on_window_expiration_names_the_label,
        )
        .requires(&[STATEFUL_PROCESSING])
        .categories(&[STATEFUL_PARDO, ON_WINDOW_EXPIRATION]),
        timed("timer_duplicate_timer_name_is_rejected", timer_duplicate_timer_name_is_rejected, &[TIMER_MAP]),
        timed(
            "timer_unbounded_sees_every_earlier_element",
            timer_unbounded_sees_every_earlier_element,
            &[ORDERED_LIST_STATE, LOOPING_TIMER],
        )
        .requires(&[UNBOUNDED]),
        timed(
            "timer_unbounded_output_timestamp_holds_watermark",
            timer_unbounded_output_timestamp_holds_watermark,
            &[],
        )
        .requires(&[UNBOUNDED]),
    ]
}

// ---------------------------------------------------------------- helpers

/// `(key, value)` elements at `t` seconds: `(key, value, t)`.
fn at(p: &Pipeline, xs: &[(&str, i64, i64)]) -> PCollection<(String, i64)> {
    p.apply(Create::timestamped(xs.iter().map(|(k, v, t)| ((k.to_string(), *v), secs(*t))).collect::<Vec<_>>()))
}

/// Fixed windows of `size` seconds, data at most `lateness` seconds late.
fn fixed(size: u64, lateness: u64) -> WindowInto<(String, i64)> {
    WindowInto::new(WindowFn::fixed(Duration::from_secs(size))).with_allowed_lateness(Duration::from_secs(lateness))
}

fn start_of(t: i64, size: i64) -> i64 {
    t - t.rem_euclid(size)
}

fn window_start(w: &Window) -> Timestamp {
    match w {
        Window::Interval { start, .. } => *start,
        Window::Global => Timestamp::MIN,
    }
}

/// The whole seconds of a timestamp.
fn whole_secs(t: Timestamp) -> i64 {
    t.as_micros().div_euclid(1_000_000)
}

const SEC: i64 = 1_000_000;

// ---------------------------------------------------------------- event time, bounded

/// Sets `timer` `delay` seconds after each element; emits `(key, firing time)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct FireAfter {
    delay: i64,
    timer: Timer,
}

impl StatefulDoFn for FireAfter {
    type Key = String;
    type Value = i64;
    type Out = (String, Timestamp);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let at = ctx.timestamp().plus_micros(self.delay * SEC);
        ctx.timer(&self.timer)?.set(at)
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        if !t.is(&self.timer) || t.domain() != TimeDomain::EventTime || !t.tag().is_empty() {
            return Err(DoFnError::new(format!("unexpected timer {t:?}")));
        }
        let k = ctx.key().clone();
        ctx.emit((k, t.timestamp()));
        Ok(())
    }
}

fn timer_event_time_fires_at_end_of_bounded_input(p: &Pipeline) -> Expect {
    let input = [("a", 0, 1), ("b", 0, 5), ("c", 0, -20), ("d", 0, 1000)];
    let out = at(p, &input).apply_named("FireAfter", StatefulParDo::of(FireAfter { delay: 3, ..Default::default() }));
    let expected: Vec<_> =
        input.iter().map(|(k, _, t)| ((k.to_string(), secs(t + 3)), secs(t + 3), Window::Global)).collect();
    assert_that(&out.apply(reify()), contains_in_any_order(expected));
    Expect::success()
}

/// Sets one timer at each of `times` (seconds) in turn, for every element;
/// emits `(key, firing time)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Resets {
    times: Vec<i64>,
    timer: Timer,
}

impl StatefulDoFn for Resets {
    type Key = String;
    type Value = i64;
    type Out = (String, Timestamp);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        for t in &self.times {
            ctx.timer(&self.timer)?.set(secs(*t))?;
        }
        Ok(())
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let k = ctx.key().clone();
        ctx.emit((k, t.timestamp()));
        Ok(())
    }
}

fn resets(p: &Pipeline, times: &[i64]) -> PCollection<(String, Timestamp)> {
    let input = kvs(&[("a", 1i64), ("a", 2), ("a", 3), ("b", 4)]);
    p.apply(Create::new(input))
        .apply_named("Resets", StatefulParDo::of(Resets { times: times.to_vec(), ..Default::default() }))
}

fn timer_reset_fires_once_at_the_later_time(p: &Pipeline) -> Expect {
    let out = resets(p, &[3, 8]);
    assert_that(&out, contains_in_any_order(vec![("a".to_string(), secs(8)), ("b".to_string(), secs(8))]));
    Expect::success()
}

fn timer_reset_to_an_earlier_time(p: &Pipeline) -> Expect {
    let out = resets(p, &[8, 3]);
    assert_that(&out, contains_in_any_order(vec![("a".to_string(), secs(3)), ("b".to_string(), secs(3))]));
    Expect::success()
}

/// The n-th element of a key sets the timer to n seconds: it fires once,
/// at the key's count.
#[derive(Clone, Default, Serialize, Deserialize)]
struct SetToCount {
    count: ValueState<i64>,
    timer: Timer,
}

impl StatefulDoFn for SetToCount {
    type Key = String;
    type Value = i64;
    type Out = (String, Timestamp);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.count = specs.value("count");
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let mut c = ctx.value(&self.count)?;
        let n = c.read().unwrap_or(0) + 1;
        c.write(n);
        ctx.timer(&self.timer)?.set(secs(n))
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let k = ctx.key().clone();
        ctx.emit((k, t.timestamp()));
        Ok(())
    }
}

fn timer_reset_by_every_element_fires_once(p: &Pipeline) -> Expect {
    let sizes = [("a", 1i64), ("b", 2), ("c", 17), ("d", 400)];
    let input: Vec<(String, i64)> = sizes.iter().flat_map(|(k, n)| (0..*n).map(move |i| (k.to_string(), i))).collect();
    let out = p.apply(Create::new(input)).apply_named("SetToCount", StatefulParDo::of(SetToCount::default()));
    assert_that(&out, contains_in_any_order(sizes.iter().map(|(k, n)| (k.to_string(), secs(*n)))));
    Expect::success()
}

/// Keys starting `clear` set the timer at 5 s and clear it; keys starting
/// `reset` set it at 5 s, clear it and set it at 7 s; others set it at 5 s.
#[derive(Clone, Default, Serialize, Deserialize)]
struct MaybeClear {
    timer: Timer,
}

impl StatefulDoFn for MaybeClear {
    type Key = String;
    type Value = i64;
    type Out = (String, Timestamp);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        key: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let mut timer = ctx.timer(&self.timer)?;
        timer.set(secs(5))?;
        if key.starts_with("clear") || key.starts_with("reset") {
            timer.clear();
        }
        if key.starts_with("reset") {
            timer.set(secs(7))?;
        }
        Ok(())
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let k = ctx.key().clone();
        ctx.emit((k, t.timestamp()));
        Ok(())
    }
}

fn timer_clear_prevents_firing(p: &Pipeline) -> Expect {
    let input = kvs(&[("keep1", 0i64), ("clear1", 0), ("clear1", 1), ("keep2", 0), ("clear2", 0), ("reset1", 0)]);
    let out = p.apply(Create::new(input)).apply_named("MaybeClear", StatefulParDo::of(MaybeClear::default()));
    assert_that(
        &out,
        contains_in_any_order(vec![
            ("keep1".to_string(), secs(5)),
            ("keep2".to_string(), secs(5)),
            ("reset1".to_string(), secs(7)),
        ]),
    );
    Expect::success()
}

/// Sets `victim` at 8 s for every key, and `canceller` at 2 s for keys
/// starting `cancel`; `canceller` clears `victim`. Emits `(key, which fired)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Canceller {
    canceller: Timer,
    victim: Timer,
}

impl StatefulDoFn for Canceller {
    type Key = String;
    type Value = i64;
    type Out = (String, String);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.canceller = specs.timer("canceller", TimeDomain::EventTime);
        self.victim = specs.timer("victim", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        key: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, String)>,
    ) -> Result<(), DoFnError> {
        ctx.timer(&self.victim)?.set(secs(8))?;
        if key.starts_with("cancel") {
            ctx.timer(&self.canceller)?.set(secs(2))?;
        }
        Ok(())
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, String)>,
    ) -> Result<(), DoFnError> {
        let which = if t.is(&self.canceller) {
            ctx.timer(&self.victim)?.clear();
            "canceller"
        } else if t.is(&self.victim) {
            "victim"
        } else {
            return Err(DoFnError::new(format!("unexpected timer {t:?}")));
        };
        let k = ctx.key().clone();
        ctx.emit((k, which.to_string()));
        Ok(())
    }
}

fn timer_cleared_by_an_earlier_timer(p: &Pipeline) -> Expect {
    let input = kvs(&[("cancel1", 0i64), ("keep", 0), ("cancel2", 1), ("cancel2", 2)]);
    let out = p.apply(Create::new(input)).apply_named("Canceller", StatefulParDo::of(Canceller::default()));
    let s = |x: &str| x.to_string();
    assert_that(
        &out,
        contains_in_any_order(vec![
            (s("cancel1"), s("canceller")),
            (s("cancel2"), s("canceller")),
            (s("keep"), s("victim")),
        ]),
    );
    Expect::success()
}

/// Sets the timer at `fire` seconds (with output timestamp `output` seconds,
/// if given); the timer emits the key.
#[derive(Clone, Default, Serialize, Deserialize)]
struct SetAt {
    fire: i64,
    output: Option<i64>,
    timer: Timer,
}

impl StatefulDoFn for SetAt {
    type Key = String;
    type Value = i64;
    type Out = String;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(&mut self, _: &String, _: &i64, ctx: &mut StateContext<'_, String, String>) -> Result<(), DoFnError> {
        let mut timer = ctx.timer(&self.timer)?;
        match self.output {
            None => timer.set(secs(self.fire)),
            Some(o) => timer.set_with_output_timestamp(secs(self.fire), secs(o)),
        }
    }
    fn on_timer(&mut self, t: &FiredTimer, ctx: &mut StateContext<'_, String, String>) -> Result<(), DoFnError> {
        if t.timestamp() != secs(self.fire) {
            return Err(DoFnError::new(format!("the timer set for {} fired as {:?}", self.fire, t.timestamp())));
        }
        let k = ctx.key().clone();
        ctx.emit(k);
        Ok(())
    }
}

fn set_at(p: &Pipeline, fire: i64, output: Option<i64>) -> PCollection<(String, Timestamp, Window)> {
    at(p, &[("a", 0, 1), ("b", 0, 2), ("b", 0, 3)])
        .apply(fixed(10, 0))
        .apply_named("SetTimer", StatefulParDo::of(SetAt { fire, output, ..Default::default() }))
        .apply(reify())
}

fn timer_output_timestamp_defaults_to_firing_time(p: &Pipeline) -> Expect {
    let out = set_at(p, 7, None);
    let expected = ["a", "b"].map(|k| (k.to_string(), secs(7), win(0, 10)));
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// The output timestamp lies between the elements' (1 to 3 s) and the firing time.
fn timer_with_output_timestamp(p: &Pipeline) -> Expect {
    let out = set_at(p, 9, Some(4));
    let expected = ["a", "b"].map(|k| (k.to_string(), secs(4), win(0, 10)));
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

fn timer_output_timestamp_after_firing_is_an_error(p: &Pipeline) -> Expect {
    let _ = set_at(p, 5, Some(6));
    Expect::user_error("SetTimer", "is after its firing time")
}

/// Sets the timer 5 s into the element's window; emits `(key, firing time)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct MidWindow {
    timer: Timer,
}

impl StatefulDoFn for MidWindow {
    type Key = String;
    type Value = i64;
    type Out = (String, Timestamp);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let at = window_start(&ctx.window()).plus_micros(5 * SEC);
        ctx.timer(&self.timer)?.set(at)
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let k = ctx.key().clone();
        ctx.emit((k, t.timestamp()));
        Ok(())
    }
}

/// One timer, set for a key in three windows, fires three times, each in its window.
fn timer_per_key_and_window(p: &Pipeline) -> Expect {
    let input = [("a", 0, 1), ("a", 0, 8), ("a", 0, 12), ("a", 0, 25), ("b", 0, 13), ("b", 0, 14), ("a", 0, 29)];
    let out = at(p, &input).apply(fixed(10, 0)).apply_named("MidWindow", StatefulParDo::of(MidWindow::default()));
    let windows: BTreeSet<(String, i64)> = input.iter().map(|(k, _, t)| (k.to_string(), start_of(*t, 10))).collect();
    let expected: Vec<_> = windows.into_iter().map(|(k, s)| ((k, secs(s + 5)), secs(s + 5), win(s, s + 10))).collect();
    assert_that(&out.apply(reify()), contains_in_any_order(expected));
    Expect::success()
}

/// A timer set before the element's timestamp (and before the watermark) still fires.
fn timer_set_in_the_past_fires(p: &Pipeline) -> Expect {
    let out = at(p, &[("a", 0, 50), ("b", 0, 3)])
        .apply_named("SetTimer", StatefulParDo::of(SetAt { fire: 10, output: None, ..Default::default() }))
        .apply(reify());
    let expected = ["a", "b"].map(|k| (k.to_string(), secs(10), Window::Global));
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- order and looping

/// Sets the family timer tagged `v` at `v` seconds for each value `v`, and
/// `report` at 10 000 s; records the firing times in order and emits them
/// from `report`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct RecordOrder {
    fired: ValueState<Vec<i64>>,
    at: TimerFamily,
    report: Timer,
}

impl StatefulDoFn for RecordOrder {
    type Key = String;
    type Value = i64;
    type Out = (String, Vec<i64>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.fired = specs.value("fired");
        self.at = specs.timer_family("at", TimeDomain::EventTime);
        self.report = specs.timer("report", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        ctx.timer_family(&self.at, &v.to_string())?.set(secs(*v))?;
        ctx.timer(&self.report)?.set(secs(10_000))
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        let mut fired = ctx.value(&self.fired)?;
        let mut log = fired.read().unwrap_or_default();
        if t.is_in(&self.at) {
            let s = whole_secs(t.timestamp());
            if t.tag() != s.to_string() {
                return Err(DoFnError::new(format!("the timer tagged {} fired at {s} s", t.tag())));
            }
            log.push(s);
            fired.write(log);
            Ok(())
        } else {
            let k = ctx.key().clone();
            ctx.emit((k, log));
            Ok(())
        }
    }
}

fn timer_fires_in_timestamp_order_per_key(p: &Pipeline) -> Expect {
    // Per key 100 distinct seconds in 0..1000, in a scrambled order.
    let input: Vec<(String, i64)> = (0..400i64).map(|i| (format!("k{}", i % 4), (i * 389) % 1000)).collect();
    let out = p.apply(Create::new(input.clone())).apply_named("RecordOrder", StatefulParDo::of(RecordOrder::default()));
    let mut expected: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (k, v) in input {
        expected.entry(k).or_default().insert(v);
    }
    assert_that(
        &out,
        contains_in_any_order(expected.into_iter().map(|(k, vs)| (k, vs.into_iter().collect::<Vec<_>>()))),
    );
    Expect::success()
}

/// `looping` fires at 1 s and sets itself 2 s later until 13 s; `fixed`
/// fires at 10 s; `report` at 100 s emits the log of firings.
#[derive(Clone, Default, Serialize, Deserialize)]
struct LoopAndFixed {
    log: ValueState<Vec<String>>,
    looping: Timer,
    fixed: Timer,
    report: Timer,
}

impl StatefulDoFn for LoopAndFixed {
    type Key = String;
    type Value = i64;
    type Out = (String, Vec<String>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.log = specs.value("log");
        self.looping = specs.timer("looping", TimeDomain::EventTime);
        self.fixed = specs.timer("fixed", TimeDomain::EventTime);
        self.report = specs.timer("report", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, Vec<String>)>,
    ) -> Result<(), DoFnError> {
        ctx.timer(&self.looping)?.set(secs(1))?;
        ctx.timer(&self.fixed)?.set(secs(10))?;
        ctx.timer(&self.report)?.set(secs(100))
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Vec<String>)>,
    ) -> Result<(), DoFnError> {
        let s = whole_secs(t.timestamp());
        let mut log = ctx.value(&self.log)?.read().unwrap_or_default();
        if t.is(&self.report) {
            let k = ctx.key().clone();
            ctx.emit((k, log));
            return Ok(());
        }
        if t.is(&self.looping) {
            log.push(format!("loop{s}"));
            if s < 13 {
                ctx.timer(&self.looping)?.set(secs(s + 2))?;
            }
        } else {
            log.push(format!("fixed{s}"));
        }
        ctx.value(&self.log)?.write(log);
        Ok(())
    }
}

/// A timer set in a callback fires in timestamp order with the timers
/// already set (Beam's strict timer ordering).
fn timer_set_in_callback_fires_in_order(p: &Pipeline) -> Expect {
    let input = kvs(&[("a", 0i64), ("b", 0), ("b", 1)]);
    let out = p.apply(Create::new(input)).apply_named("LoopAndFixed", StatefulParDo::of(LoopAndFixed::default()));
    let log: Vec<String> = [1, 3, 5, 7, 9]
        .iter()
        .map(|s| format!("loop{s}"))
        .chain(["fixed10".to_string()])
        .chain([11, 13].iter().map(|s| format!("loop{s}")))
        .collect();
    assert_that(&out, contains_in_any_order(vec![("a".to_string(), log.clone()), ("b".to_string(), log)]));
    Expect::success()
}

/// Each key's one element `(key, n)` starts a timer 1 s after it (in
/// processing time: an hour from now) that emits `(key, i)` on its i-th
/// firing and sets itself 1 s after its firing time, n times.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Ticker {
    processing: bool,
    limit: ValueState<i64>,
    ticks: ValueState<i64>,
    tick: Timer,
}

impl StatefulDoFn for Ticker {
    type Key = String;
    type Value = i64;
    type Out = (String, i64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.limit = specs.value("limit");
        self.ticks = specs.value("ticks");
        let domain = if self.processing { TimeDomain::ProcessingTime } else { TimeDomain::EventTime };
        self.tick = specs.timer("tick", domain);
    }
    fn process(
        &mut self,
        _: &String,
        n: &i64,
        ctx: &mut StateContext<'_, String, (String, i64)>,
    ) -> Result<(), DoFnError> {
        ctx.value(&self.limit)?.write(*n);
        if self.processing {
            return ctx.timer(&self.tick)?.set_relative(Duration::from_secs(3600));
        }
        let at = ctx.timestamp().plus_micros(SEC);
        ctx.timer(&self.tick)?.set(at)
    }
    fn on_timer(&mut self, t: &FiredTimer, ctx: &mut StateContext<'_, String, (String, i64)>) -> Result<(), DoFnError> {
        let limit = ctx.value(&self.limit)?.read().unwrap_or(0);
        let mut ticks = ctx.value(&self.ticks)?;
        let i = ticks.read().unwrap_or(0) + 1;
        ticks.write(i);
        let k = ctx.key().clone();
        ctx.emit((k, i));
        if i < limit {
            ctx.timer(&self.tick)?.set(t.timestamp().plus_micros(SEC))?;
        }
        Ok(())
    }
}

/// A looping processing-time timer on bounded input: it fires at the end of
/// the input, and so does every timer it sets, until it stops by itself.
fn timer_processing_time_looping_stops_after_n(p: &Pipeline) -> Expect {
    let input = kvs(&[("a", 3i64), ("b", 1), ("c", 20)]);
    let out = p
        .apply(Create::new(input.clone()))
        .apply_named("Ticker", StatefulParDo::of(Ticker { processing: true, ..Default::default() }));
    let expected: Vec<(String, i64)> = input.iter().flat_map(|(k, n)| (1..=*n).map(move |i| (k.clone(), i))).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

fn timer_looping_stops_after_n(p: &Pipeline) -> Expect {
    let input = [("a", 3, 0), ("b", 10, 100), ("c", 1, -7), ("d", 500, 5)];
    let out = at(p, &input).apply_named("Ticker", StatefulParDo::of(Ticker::default())).apply(reify());
    let expected: Vec<_> = input
        .iter()
        .flat_map(|(k, n, t)| (1..=*n).map(move |i| ((k.to_string(), i), secs(t + i), Window::Global)))
        .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- families

/// Sets the family timer tagged `t{v mod 3}` at `10 × (v mod 3) + 1` seconds;
/// emits `(key, tag, firing time)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct TagPerBucket {
    family: TimerFamily,
}

impl StatefulDoFn for TagPerBucket {
    type Key = String;
    type Value = i64;
    type Out = (String, String, Timestamp);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.family = specs.timer_family("family", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let b = v.rem_euclid(3);
        ctx.timer_family(&self.family, &format!("t{b}"))?.set(secs(10 * b + 1))
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        if !t.is_in(&self.family) {
            return Err(DoFnError::new(format!("unexpected timer {t:?}")));
        }
        let k = ctx.key().clone();
        ctx.emit((k, t.tag().to_string(), t.timestamp()));
        Ok(())
    }
}

fn timer_family_dynamic_tags(p: &Pipeline) -> Expect {
    let input = kvs(&[("a", 0i64), ("a", 3), ("a", 4), ("a", 7), ("a", 10), ("b", 2), ("b", 5), ("c", 9)]);
    let out =
        p.apply(Create::new(input.clone())).apply_named("TagPerBucket", StatefulParDo::of(TagPerBucket::default()));
    let buckets: BTreeSet<(String, i64)> = input.into_iter().map(|(k, v)| (k, v.rem_euclid(3))).collect();
    let expected: Vec<_> = buckets.into_iter().map(|(k, b)| (k, format!("t{b}"), secs(10 * b + 1))).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Sets the family timers `x`, `y`, `z` at 1, 2 and 3 s, then clears `y`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct ClearOneTag {
    family: TimerFamily,
}

impl StatefulDoFn for ClearOneTag {
    type Key = String;
    type Value = i64;
    type Out = (String, String, Timestamp);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.family = specs.timer_family("family", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        for (tag, s) in [("x", 1), ("y", 2), ("z", 3)] {
            ctx.timer_family(&self.family, tag)?.set(secs(s))?;
        }
        ctx.timer_family(&self.family, "y")?.clear();
        Ok(())
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, String, Timestamp)>,
    ) -> Result<(), DoFnError> {
        let k = ctx.key().clone();
        ctx.emit((k, t.tag().to_string(), t.timestamp()));
        Ok(())
    }
}

fn timer_family_clear_one_tag(p: &Pipeline) -> Expect {
    let out = p
        .apply(Create::new(kvs(&[("a", 0i64), ("b", 0), ("b", 1)])))
        .apply_named("ClearOneTag", StatefulParDo::of(ClearOneTag::default()));
    let expected: Vec<_> = ["a", "b"]
        .iter()
        .flat_map(|k| [(k.to_string(), "x".to_string(), secs(1)), (k.to_string(), "z".to_string(), secs(3))])
        .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// A plain timer named `plain` and a family whose timers are tagged `plain`
/// and `other`: three different timers.
#[derive(Clone, Default, Serialize, Deserialize)]
struct PlainAndFamily {
    plain: Timer,
    family: TimerFamily,
}

type PlainAndFamilyOut = (String, String, String, Timestamp);

impl StatefulDoFn for PlainAndFamily {
    type Key = String;
    type Value = i64;
    type Out = PlainAndFamilyOut;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.plain = specs.timer("plain", TimeDomain::EventTime);
        self.family = specs.timer_family("family", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, PlainAndFamilyOut>,
    ) -> Result<(), DoFnError> {
        ctx.timer(&self.plain)?.set(secs(2))?;
        ctx.timer_family(&self.family, "plain")?.set(secs(3))?;
        ctx.timer_family(&self.family, "other")?.set(secs(4))
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, PlainAndFamilyOut>,
    ) -> Result<(), DoFnError> {
        let which = match (t.is(&self.plain), t.is_in(&self.family)) {
            (true, false) => "timer",
            (false, true) => "family",
            _ => return Err(DoFnError::new(format!("timer {t:?} is both or neither"))),
        };
        let k = ctx.key().clone();
        ctx.emit((k, which.to_string(), t.tag().to_string(), t.timestamp()));
        Ok(())
    }
}

fn timer_family_and_plain_timer_told_apart(p: &Pipeline) -> Expect {
    let out = p
        .apply(Create::new(kvs(&[("a", 0i64)])))
        .apply_named("PlainAndFamily", StatefulParDo::of(PlainAndFamily::default()));
    let s = |x: &str| x.to_string();
    assert_that(
        &out,
        contains_in_any_order(vec![
            (s("a"), s("timer"), s(""), secs(2)),
            (s("a"), s("family"), s("plain"), secs(3)),
            (s("a"), s("family"), s("other"), secs(4)),
        ]),
    );
    Expect::success()
}

fn timer_many_keys(p: &Pipeline) -> Expect {
    let input: Vec<(String, i64, i64)> = (0..1000i64).map(|k| (format!("key{k}"), 0, k % 60)).collect();
    let refs: Vec<(&str, i64, i64)> = input.iter().map(|(k, v, t)| (k.as_str(), *v, *t)).collect();
    let out = at(p, &refs).apply_named("FireAfter", StatefulParDo::of(FireAfter { delay: 1, ..Default::default() }));
    let expected: Vec<_> = input.iter().map(|(k, _, t)| (k.clone(), secs(t + 1))).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// The timer emits `(key, i)` for every `i` below the element's value.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Burst {
    n: ValueState<i64>,
    timer: Timer,
}

impl StatefulDoFn for Burst {
    type Key = String;
    type Value = i64;
    type Out = (String, i64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.n = specs.value("n");
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, i64)>,
    ) -> Result<(), DoFnError> {
        ctx.value(&self.n)?.write(*v);
        ctx.timer(&self.timer)?.set(secs(1))
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, String, (String, i64)>) -> Result<(), DoFnError> {
        let n = ctx.value(&self.n)?.read().unwrap_or(0);
        let k = ctx.key().clone();
        for i in 0..n {
            ctx.emit((k.clone(), i));
        }
        Ok(())
    }
}

fn timer_callback_emits_many_elements(p: &Pipeline) -> Expect {
    let sizes = [("a", 5000i64), ("b", 7000), ("c", 1)];
    let out = p
        .apply(Create::new(sizes.iter().map(|(k, n)| (k.to_string(), *n))))
        .apply_named("Burst", StatefulParDo::of(Burst::default()));
    let expected: Vec<(String, i64)> =
        sizes.iter().flat_map(|(k, n)| (0..*n).map(move |i| (k.to_string(), i))).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- processing time

/// Counts a key's elements and sets a processing-time timer an hour from
/// now (each element resets it); the timer emits `(key, count, domain)`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct InAnHour {
    /// Keys starting with this clear the timer after setting it.
    clear_prefix: String,
    count: ValueState<u64>,
    timer: Timer,
}

type InAnHourOut = (String, u64, String);

impl StatefulDoFn for InAnHour {
    type Key = String;
    type Value = i64;
    type Out = InAnHourOut;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.count = specs.value("count");
        self.timer = specs.timer("timer", TimeDomain::ProcessingTime);
    }
    fn process(
        &mut self,
        key: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, InAnHourOut>,
    ) -> Result<(), DoFnError> {
        let mut c = ctx.value(&self.count)?;
        let n = c.read().unwrap_or(0);
        c.write(n + 1);
        let mut timer = ctx.timer(&self.timer)?;
        timer.set_relative(Duration::from_secs(3600))?;
        if !self.clear_prefix.is_empty() && key.starts_with(&self.clear_prefix) {
            timer.clear();
        }
        Ok(())
    }
    fn on_timer(&mut self, t: &FiredTimer, ctx: &mut StateContext<'_, String, InAnHourOut>) -> Result<(), DoFnError> {
        let n = ctx.value(&self.count)?.read().unwrap_or(0);
        let k = ctx.key().clone();
        ctx.emit((k, n, format!("{:?}", t.domain())));
        Ok(())
    }
}

/// On bounded input a processing-time timer fires when the input ends
/// (as on Beam's batch runners), once, however often it was reset.
fn timer_processing_time_fires_at_end_of_bounded_input(p: &Pipeline) -> Expect {
    let sizes = [("a", 1u64), ("b", 5), ("c", 100)];
    let input: Vec<(String, i64)> =
        sizes.iter().flat_map(|(k, n)| (0..*n as i64).map(move |i| (k.to_string(), i))).collect();
    let out = p.apply(Create::new(input)).apply_named("InAnHour", StatefulParDo::of(InAnHour::default()));
    let pt = format!("{:?}", TimeDomain::ProcessingTime);
    assert_that(&out, contains_in_any_order(sizes.iter().map(|(k, n)| (k.to_string(), *n, pt.clone()))));
    Expect::success()
}

/// A processing-time timer's output is stamped with the timestamp of the
/// element that set it, in its window.
fn timer_processing_time_output_timestamp(p: &Pipeline) -> Expect {
    let input = [("a", 0, 3), ("b", 0, 14)];
    let out = at(p, &input)
        .apply(fixed(10, 0))
        .apply_named("InAnHour", StatefulParDo::of(InAnHour::default()))
        .apply(reify());
    let pt = format!("{:?}", TimeDomain::ProcessingTime);
    let expected: Vec<_> = input
        .iter()
        .map(|(k, _, t)| {
            let s = start_of(*t, 10);
            ((k.to_string(), 1u64, pt.clone()), secs(*t), win(s, s + 10))
        })
        .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

fn timer_processing_time_clear(p: &Pipeline) -> Expect {
    let input = kvs(&[("keep", 0i64), ("clear", 0), ("clear", 1), ("keep", 2)]);
    let f = InAnHour { clear_prefix: "clear".into(), ..Default::default() };
    let out = p.apply(Create::new(input)).apply_named("InAnHour", StatefulParDo::of(f));
    let pt = format!("{:?}", TimeDomain::ProcessingTime);
    assert_that(&out, contains_in_any_order(vec![("keep".to_string(), 2u64, pt)]));
    Expect::success()
}

/// An event-time and a processing-time timer in one step: each fires once
/// and says its domain.
#[derive(Clone, Default, Serialize, Deserialize)]
struct BothDomains {
    event: Timer,
    processing: Timer,
}

impl StatefulDoFn for BothDomains {
    type Key = String;
    type Value = i64;
    type Out = (String, String, String);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.event = specs.timer("event", TimeDomain::EventTime);
        self.processing = specs.timer("processing", TimeDomain::ProcessingTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, String, String)>,
    ) -> Result<(), DoFnError> {
        ctx.timer(&self.event)?.set(secs(5))?;
        ctx.timer(&self.processing)?.set_relative(Duration::from_secs(60))
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, String, String)>,
    ) -> Result<(), DoFnError> {
        let name = if t.is(&self.event) { "event" } else { "processing" };
        let k = ctx.key().clone();
        ctx.emit((k, name.to_string(), format!("{:?}", t.domain())));
        Ok(())
    }
}

fn timer_event_and_processing_time_in_one_step(p: &Pipeline) -> Expect {
    let out = p
        .apply(Create::new(kvs(&[("a", 0i64), ("b", 0)])))
        .apply_named("BothDomains", StatefulParDo::of(BothDomains::default()));
    let (et, pt) = (format!("{:?}", TimeDomain::EventTime), format!("{:?}", TimeDomain::ProcessingTime));
    let expected: Vec<_> = ["a", "b"]
        .iter()
        .flat_map(|k| {
            [(k.to_string(), "event".to_string(), et.clone()), (k.to_string(), "processing".to_string(), pt.clone())]
        })
        .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

// ---------------------------------------------------------------- window expiration

/// Collects a key's values; `on_window_expiration` emits them sorted (or
/// panics, if `panic`).
#[derive(Clone, Default, Serialize, Deserialize)]
struct ExpireBag {
    panic: bool,
    values: BagState<i64>,
}

impl StatefulDoFn for ExpireBag {
    type Key = String;
    type Value = i64;
    type Out = (String, Vec<i64>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.values = specs.bag("values");
    }
    fn process(
        &mut self,
        _: &String,
        v: &i64,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        ctx.bag(&self.values)?.add(*v);
        Ok(())
    }
    fn on_window_expiration(
        &mut self,
        ctx: &mut StateContext<'_, String, (String, Vec<i64>)>,
    ) -> Result<(), DoFnError> {
        assert!(!self.panic, "expiration exploded for {}", ctx.key());
        let mut vs = ctx.bag(&self.values)?.read().to_vec();
        vs.sort();
        let k = ctx.key().clone();
        ctx.emit((k, vs));
        Ok(())
    }
}

const EXPIRING_INPUT: [(&str, i64, i64); 7] =
    [("a", 5, 1), ("a", 3, 4), ("b", 9, 2), ("a", 1, 13), ("b", 2, 11), ("b", 4, 18), ("c", 7, 35)];

/// Once per key and window, with the window's state, stamped with the end
/// of the window.
fn timer_on_window_expiration_sees_state(p: &Pipeline) -> Expect {
    let out = at(p, &EXPIRING_INPUT)
        .apply(fixed(10, 60))
        .apply_named("ExpireBag", StatefulParDo::of(ExpireBag::default()))
        .apply(reify());
    let mut groups: BTreeMap<(String, i64), Vec<i64>> = BTreeMap::new();
    for (k, v, t) in EXPIRING_INPUT {
        groups.entry((k.to_string(), start_of(t, 10))).or_default().push(v);
    }
    let expected: Vec<_> = groups
        .into_iter()
        .map(|((k, s), mut vs)| {
            vs.sort();
            ((k, vs), win(s, s + 10).max_timestamp(), win(s, s + 10))
        })
        .collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

fn timer_panic_in_on_window_expiration_names_the_label(p: &Pipeline) -> Expect {
    let _ = at(p, &EXPIRING_INPUT)
        .apply(fixed(10, 60))
        .apply_named("ExpireBag", StatefulParDo::of(ExpireBag { panic: true, ..Default::default() }));
    Expect::user_error("ExpireBag", "expiration exploded for")
}

/// Logs its timers: `end` at the end of the window and `late` at its expiry
/// (the end plus the allowed lateness of 30 s, the latest allowed); the
/// expiration emits the log.
#[derive(Clone, Default, Serialize, Deserialize)]
struct ExpiryLog {
    log: ValueState<Vec<String>>,
    end: Timer,
    late: Timer,
}

impl StatefulDoFn for ExpiryLog {
    type Key = String;
    type Value = i64;
    type Out = (String, Vec<String>);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.log = specs.value("log");
        self.end = specs.timer("end", TimeDomain::EventTime);
        self.late = specs.timer("late", TimeDomain::EventTime);
    }
    fn process(
        &mut self,
        _: &String,
        _: &i64,
        ctx: &mut StateContext<'_, String, (String, Vec<String>)>,
    ) -> Result<(), DoFnError> {
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.end)?.set(end)?;
        ctx.timer(&self.late)?.set(end.plus_micros(30 * SEC))
    }
    fn on_timer(
        &mut self,
        t: &FiredTimer,
        ctx: &mut StateContext<'_, String, (String, Vec<String>)>,
    ) -> Result<(), DoFnError> {
        let mut log = ctx.value(&self.log)?;
        let mut entries = log.read().unwrap_or_default();
        entries.push(if t.is(&self.end) { "end" } else { "late" }.to_string());
        log.write(entries);
        Ok(())
    }
    fn on_window_expiration(
        &mut self,
        ctx: &mut StateContext<'_, String, (String, Vec<String>)>,
    ) -> Result<(), DoFnError> {
        let mut entries = ctx.value(&self.log)?.read().unwrap_or_default();
        entries.push("expired".into());
        let k = ctx.key().clone();
        ctx.emit((k, entries));
        Ok(())
    }
}

fn timer_on_window_expiration_after_timers(p: &Pipeline) -> Expect {
    let out = at(p, &EXPIRING_INPUT)
        .apply(fixed(10, 30))
        .apply_named("ExpiryLog", StatefulParDo::of(ExpiryLog::default()))
        .apply(with_window());
    let windows: BTreeSet<(String, i64)> =
        EXPIRING_INPUT.iter().map(|(k, _, t)| (k.to_string(), start_of(*t, 10))).collect();
    let log: Vec<String> = ["end", "late", "expired"].map(String::from).to_vec();
    let expected: Vec<_> = windows.into_iter().map(|(k, s)| ((k, log.clone()), win(s, s + 10))).collect();
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Sets a timer `beyond` microseconds after the window's end plus
/// `lateness` seconds (or at the end of time, in the global window).
#[derive(Clone, Default, Serialize, Deserialize)]
struct SetBeyond {
    lateness: i64,
    beyond: i64,
    timer: Timer,
}

impl StatefulDoFn for SetBeyond {
    type Key = String;
    type Value = i64;
    type Out = String;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(&mut self, key: &String, _: &i64, ctx: &mut StateContext<'_, String, String>) -> Result<(), DoFnError> {
        let at = match ctx.window() {
            Window::Global => Timestamp::MAX,
            w => w.max_timestamp().plus_micros(self.lateness * SEC + self.beyond),
        };
        ctx.timer(&self.timer)?.set(at)?;
        ctx.emit(key.clone());
        Ok(())
    }
}

fn timer_after_window_expiry_is_an_error(p: &Pipeline) -> Expect {
    let _ = at(p, &[("a", 0, 3)])
        .apply(fixed(10, 5))
        .apply_named("SetTimer", StatefulParDo::of(SetBeyond { lateness: 5, beyond: 1, ..Default::default() }));
    Expect::user_error("SetTimer", "after the expiration of its window")
}

fn timer_after_end_of_global_window_is_an_error(p: &Pipeline) -> Expect {
    let _ = at(p, &[("a", 0, 3)]).apply_named("SetTimer", StatefulParDo::of(SetBeyond::default()));
    Expect::user_error("SetTimer", "after the expiration of its window")
}

// ---------------------------------------------------------------- errors

/// The timer fails for the key `fail_for`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct FailInTimer {
    fail_for: String,
    timer: Timer,
}

impl StatefulDoFn for FailInTimer {
    type Key = String;
    type Value = i64;
    type Out = String;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.timer = specs.timer("timer", TimeDomain::EventTime);
    }
    fn process(&mut self, _: &String, _: &i64, ctx: &mut StateContext<'_, String, String>) -> Result<(), DoFnError> {
        ctx.timer(&self.timer)?.set(secs(1))
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, String, String>) -> Result<(), DoFnError> {
        let k = ctx.key().clone();
        if k == self.fail_for {
            return Err(DoFnError::new(format!("timer failed for {k}")));
        }
        ctx.emit(k);
        Ok(())
    }
}

fn timer_error_in_on_timer_names_the_label(p: &Pipeline) -> Expect {
    let _ = p
        .apply(Create::new(kvs(&[("a", 0i64), ("b", 0), ("c", 0)])))
        .apply_named("Flush", StatefulParDo::of(FailInTimer { fail_for: "b".into(), ..Default::default() }));
    Expect::user_error("Flush", "timer failed for b")
}

/// Declares a timer and a timer family both named `t`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct SameTimerName {
    timer: Timer,
    family: TimerFamily,
}

impl StatefulDoFn for SameTimerName {
    type Key = String;
    type Value = i64;
    type Out = i64;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.timer = specs.timer("t", TimeDomain::EventTime);
        self.family = specs.timer_family("t", TimeDomain::ProcessingTime);
    }
    fn process(&mut self, _: &String, v: &i64, ctx: &mut StateContext<'_, String, i64>) -> Result<(), DoFnError> {
        ctx.emit(*v);
        Ok(())
    }
}

fn timer_duplicate_timer_name_is_rejected(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(kvs(&[("a", 0i64)]))).apply_named("Twice", StatefulParDo::of(SameTimerName::default()));
    Expect::construction_error("more than once")
}

// ---------------------------------------------------------------- unbounded

/// `u64` to `i64`.
#[derive(Clone, Serialize, Deserialize)]
struct ToI64;

impl DoFn for ToI64 {
    type In = u64;
    type Out = i64;
    fn process(&mut self, x: &u64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit(*x as i64);
        Ok(())
    }
}

/// `n` generated numbers (event time `i` ms, paced) in windows of a second,
/// keyed by `i mod 3`.
fn generated(p: &Pipeline, n: u64) -> PCollection<(i64, i64)> {
    p.apply_named("Events", GenerateSequence::new().count(n).rate(30_000.0))
        .apply_named("ToI64", ParDo::of(ToI64))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(1))))
        .apply(ParDo::of(ModKey { k: 3 }))
}

/// Keeps each element in an ordered list at its timestamp; a looping timer
/// fires every 250 ms of the window (from 249 ms on) and emits
/// `(key, firing time, elements at or before it)`: once the watermark has
/// passed a time, every element up to it has arrived.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Checkpoints {
    seen: OrderedListState<i64>,
    started: ValueState<bool>,
    tick: Timer,
}

type CheckpointsOut = (i64, Timestamp, usize);

impl StatefulDoFn for Checkpoints {
    type Key = i64;
    type Value = i64;
    type Out = CheckpointsOut;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.seen = specs.ordered_list("seen");
        self.started = specs.value("started");
        self.tick = specs.timer("tick", TimeDomain::EventTime);
    }
    fn process(&mut self, _: &i64, v: &i64, ctx: &mut StateContext<'_, i64, CheckpointsOut>) -> Result<(), DoFnError> {
        let ts = ctx.timestamp();
        ctx.ordered_list(&self.seen)?.add(ts, *v);
        let mut started = ctx.value(&self.started)?;
        if started.read().is_none() {
            started.write(true);
            let first = window_start(&ctx.window()).plus_micros(249_000);
            ctx.timer(&self.tick)?.set(first)?;
        }
        Ok(())
    }
    fn on_timer(&mut self, t: &FiredTimer, ctx: &mut StateContext<'_, i64, CheckpointsOut>) -> Result<(), DoFnError> {
        let at = t.timestamp();
        let from = window_start(&ctx.window());
        let n = ctx.ordered_list(&self.seen)?.read_range(from, at.plus_micros(1)).len();
        let k = *ctx.key();
        ctx.emit((k, at, n));
        let next = at.plus_micros(250_000);
        if next <= ctx.window().max_timestamp() {
            ctx.timer(&self.tick)?.set(next)?;
        }
        Ok(())
    }
}

fn timer_unbounded_sees_every_earlier_element(p: &Pipeline) -> Expect {
    let n = 3000i64;
    let out = generated(p, n as u64).apply_named("Checkpoints", StatefulParDo::of(Checkpoints::default()));
    let mut expected = Vec::new();
    for k in 0..3i64 {
        for w in 0..n / 1000 {
            for q in [249, 499, 749, 999] {
                let last = w * 1000 + q;
                let count = (w * 1000..=last).filter(|i| i % 3 == k).count();
                expected.push((k, Timestamp::from_millis(last), count));
            }
        }
    }
    assert_that(&out, contains_in_any_order(expected));
    Expect::success()
}

/// Counts a key's elements; a timer at the end of the window emits
/// `(key, count)` stamped with the latest element's timestamp (each element
/// resets the timer, its output timestamp never before the element's).
#[derive(Clone, Default, Serialize, Deserialize)]
struct CountAtLatest {
    seen: ValueState<(u64, Timestamp)>,
    flush: Timer,
}

impl StatefulDoFn for CountAtLatest {
    type Key = i64;
    type Value = i64;
    type Out = (i64, u64);
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.seen = specs.value("seen");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(&mut self, _: &i64, _: &i64, ctx: &mut StateContext<'_, i64, (i64, u64)>) -> Result<(), DoFnError> {
        let ts = ctx.timestamp();
        let mut seen = ctx.value(&self.seen)?;
        let (n, latest) = seen.read().unwrap_or((0, Timestamp::MIN));
        let latest = latest.max(ts);
        seen.write((n + 1, latest));
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set_with_output_timestamp(end, latest)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, i64, (i64, u64)>) -> Result<(), DoFnError> {
        let n = ctx.value(&self.seen)?.read().map_or(0, |s| s.0);
        let k = *ctx.key();
        ctx.emit((k, n));
        Ok(())
    }
}

/// `(key, n)` to `(0, n)`.
#[derive(Clone, Serialize, Deserialize)]
struct UnderZero;

impl DoFn for UnderZero {
    type In = (i64, u64);
    type Out = (i64, u64);
    fn process(&mut self, x: &(i64, u64), ctx: &mut ProcessContext<'_, (i64, u64)>) -> Result<(), DoFnError> {
        ctx.emit((0, x.1));
        Ok(())
    }
}

/// A timer's output timestamp (here before the end of the window) holds
/// the watermark: what it emits when the window ends is on time for a
/// GroupByKey (a combine) downstream, none of it dropped.
fn timer_unbounded_output_timestamp_holds_watermark(p: &Pipeline) -> Expect {
    let counts = generated(p, 3000).apply_named("CountAtLatest", StatefulParDo::of(CountAtLatest::default()));
    let mut expected = Vec::new();
    for k in 0..3i64 {
        for w in 0..3i64 {
            let mine: Vec<i64> = (w * 1000..(w + 1) * 1000).filter(|i| i % 3 == k).collect();
            let latest = mine.iter().max().copied().unwrap_or_default();
            expected.push(((k, mine.len() as u64), Timestamp::from_millis(latest), win(w, w + 1)));
        }
    }
    assert_that(&counts.apply(reify()), contains_in_any_order(expected));
    let totals = counts.apply(ParDo::of(UnderZero)).apply(Combine::per_key(Sum::<u64>::new())).apply(with_window());
    assert_that(&totals, contains_in_any_order((0..3).map(|w| ((0i64, 1000u64), win(w, w + 1)))));
    Expect::success()
}
