//! `ParDo`: the DoFn lifecycle, timestamps and windows in `process`,
//! `finish_bundle` output, tagged outputs, and user errors.

use crate::fns::{reify, secs, win, AddN, FailOn};
use crate::harness::{cell_token, Expect, Test};
use beamline::plan::capabilities::{METRICS, MULTIPLE_OUTPUTS, SIDE_INPUTS};
use beamline::prelude::*;
use beamline::{Error, PipelineResult};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("pardo_portable_dofn", pardo_portable_dofn),
        Test::new("pardo_lifecycle", pardo_lifecycle).requires(&[METRICS]),
        Test::new("pardo_finish_bundle_emits", pardo_finish_bundle_emits).requires(&[METRICS]),
        Test::new("pardo_timestamps_and_windows_in_process", pardo_timestamps_and_windows_in_process),
        Test::new("pardo_emit_with_timestamp", pardo_emit_with_timestamp),
        Test::new("pardo_fan_out", pardo_fan_out).requires(&[SIDE_INPUTS]),
        Test::new("pardo_chain_of_steps", pardo_chain_of_steps),
        Test::new("pardo_tagged_outputs", pardo_tagged_outputs).requires(&[MULTIPLE_OUTPUTS]),
        Test::new("pardo_tagged_output_left_empty", pardo_tagged_output_left_empty).requires(&[MULTIPLE_OUTPUTS]),
        Test::new("pardo_tagged_outputs_keep_windows", pardo_tagged_outputs_keep_windows).requires(&[MULTIPLE_OUTPUTS]),
        Test::new("pardo_same_dofn_different_outputs", pardo_same_dofn_different_outputs).requires(&[MULTIPLE_OUTPUTS]),
        Test::new("pardo_error_names_the_label", pardo_error_names_the_label),
        Test::new("pardo_error_in_composite_names_the_full_label", pardo_error_in_composite_names_the_full_label),
        Test::new("pardo_panic_names_the_label", pardo_panic_names_the_label),
        Test::new("pardo_setup_error_names_the_label", pardo_setup_error_names_the_label),
        Test::new("pardo_finish_bundle_error_names_the_label", pardo_finish_bundle_error_names_the_label),
        Test::new("pardo_error_shortens_the_element", pardo_error_shortens_the_element),
        Test::new("pardo_error_unicode_label", pardo_error_unicode_label),
        Test::new("pardo_long_chain", pardo_long_chain).requires(&[SIDE_INPUTS]),
        Test::new("pardo_wide_fan_out_of_consumers", pardo_wide_fan_out_of_consumers),
    ]
}

fn pardo_portable_dofn(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i64, 2, 3])).apply(ParDo::of(AddN { n: 10 }));
    assert_that(&xs, contains_in_any_order(vec![11, 12, 13]));
    Expect::success()
}

/// Per cell token, the `(instance, event)` pairs in order.
type EventLog = HashMap<u64, Vec<(u64, &'static str)>>;
static LIFECYCLE: Mutex<Option<EventLog>> = Mutex::new(None);
static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

fn log_event(token: u64, instance: u64, event: &'static str) {
    if let Ok(mut g) = LIFECYCLE.lock() {
        g.get_or_insert_with(HashMap::new).entry(token).or_default().push((instance, event));
    }
}

fn take_events(token: u64) -> Vec<(u64, &'static str)> {
    LIFECYCLE.lock().ok().and_then(|mut g| g.as_mut().and_then(|m| m.remove(&token))).unwrap_or_default()
}

#[derive(Clone, Copy, PartialEq, Debug, Default)]
enum Phase {
    #[default]
    New,
    Idle,
    InBundle,
    TornDown,
}

/// Checks Beam's lifecycle from inside: setup once, then bundles
/// (start, process*, finish), then teardown; reports through metrics and
/// through a process-wide log read after the run.
#[derive(Serialize, Deserialize)]
struct Lifecycle {
    token: u64,
    #[serde(skip)]
    instance: u64,
    #[serde(skip)]
    phase: Phase,
    #[serde(skip)]
    unreported_setups: i64,
}

/// A clone is a fresh instance (as a deserialized DoFn is in Beam): it must be set up.
impl Clone for Lifecycle {
    fn clone(&self) -> Self {
        Lifecycle { token: self.token, instance: 0, phase: Phase::New, unreported_setups: 0 }
    }
}

impl Lifecycle {
    fn expect_phase(&self, want: Phase, what: &'static str) -> Result<(), DoFnError> {
        if self.phase != want {
            log_event(self.token, self.instance, "violation");
            return Err(DoFnError::new(format!("{what} called in phase {:?}, expected {want:?}", self.phase)));
        }
        Ok(())
    }
}

impl DoFn for Lifecycle {
    type In = i64;
    type Out = i64;
    fn setup(&mut self) -> Result<(), DoFnError> {
        self.expect_phase(Phase::New, "setup")?;
        self.instance = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed);
        self.phase = Phase::Idle;
        self.unreported_setups = 1;
        log_event(self.token, self.instance, "setup");
        Ok(())
    }
    fn start_bundle(&mut self) -> Result<(), DoFnError> {
        self.expect_phase(Phase::Idle, "start_bundle")?;
        self.phase = Phase::InBundle;
        log_event(self.token, self.instance, "start_bundle");
        Ok(())
    }
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        self.expect_phase(Phase::InBundle, "process")?;
        ctx.metrics().inc_counter("process", 1);
        ctx.emit(*x);
        Ok(())
    }
    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, i64>) -> Result<(), DoFnError> {
        self.expect_phase(Phase::InBundle, "finish_bundle")?;
        self.phase = Phase::Idle;
        ctx.metrics().inc_counter("start_bundle", 1);
        ctx.metrics().inc_counter("finish_bundle", 1);
        ctx.metrics().inc_counter("setup", std::mem::take(&mut self.unreported_setups));
        log_event(self.token, self.instance, "finish_bundle");
        Ok(())
    }
    fn teardown(&mut self) -> Result<(), DoFnError> {
        self.expect_phase(Phase::Idle, "teardown")?;
        self.phase = Phase::TornDown;
        log_event(self.token, self.instance, "teardown");
        Ok(())
    }
}

fn check_lifecycle(token: u64, r: &PipelineResult, n: i64) -> Result<(), String> {
    let m = r.metrics();
    let get = |name: &str| m.counter("Lifecycle", name).unwrap_or(0);
    let events = take_events(token);
    if get("process") != n {
        return Err(format!("process ran {} times for {n} elements", get("process")));
    }
    let (starts, finishes, setups) = (get("start_bundle"), get("finish_bundle"), get("setup"));
    if starts < 1 || starts != finishes || setups < 1 || setups > starts {
        return Err(format!("metrics: {setups} setups, {starts} start_bundle, {finishes} finish_bundle"));
    }
    let mut per_instance: HashMap<u64, Vec<&str>> = HashMap::new();
    for (i, e) in &events {
        per_instance.entry(*i).or_default().push(e);
    }
    // An instance may be set up and never get a bundle; one that got a
    // bundle reported its setup through the metrics.
    let used = per_instance.values().filter(|evs| evs.contains(&"start_bundle")).count() as i64;
    if used != setups {
        return Err(format!("{used} instances processed bundles, the metrics report {setups} setups"));
    }
    for (i, evs) in &per_instance {
        if !well_formed(evs) {
            return Err(format!(
                "instance {i}: lifecycle {evs:?}; expected setup, (start_bundle, finish_bundle)*, teardown"
            ));
        }
    }
    let bundles = events.iter().filter(|(_, e)| *e == "finish_bundle").count() as i64;
    if bundles != finishes {
        return Err(format!("{bundles} bundles logged, the metrics report {finishes}"));
    }
    Ok(())
}

/// `setup (start_bundle finish_bundle)* teardown`.
fn well_formed(events: &[&str]) -> bool {
    let Some((&"setup", rest)) = events.split_first() else { return false };
    let Some((&"teardown", bundles)) = rest.split_last() else { return false };
    bundles.len() % 2 == 0 && bundles.chunks(2).all(|c| c == ["start_bundle", "finish_bundle"])
}

fn pardo_lifecycle(p: &Pipeline) -> Expect {
    let token = cell_token();
    let n = 5000i64;
    let xs = p
        .apply(Create::new(0..n))
        .apply_named("Lifecycle", ParDo::of(Lifecycle { token, instance: 0, phase: Phase::New, unreported_setups: 0 }));
    assert_that(&xs, contains_in_any_order(0..n));
    Expect::success().check(move |r| check_lifecycle(token, r, n))
}

/// Buffers a bundle's elements and emits them from `finish_bundle`, each
/// with the timestamp `x` seconds and its 10-second window.
#[derive(Clone, Default, Serialize, Deserialize)]
struct EmitAtFinish {
    #[serde(skip)]
    buffer: Vec<i64>,
}

impl DoFn for EmitAtFinish {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, _: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        self.buffer.push(*x);
        Ok(())
    }
    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, i64>) -> Result<(), DoFnError> {
        for x in self.buffer.drain(..) {
            ctx.metrics().inc_counter("emitted", 1);
            let start = x.div_euclid(10) * 10;
            ctx.emit(x, secs(x), win(start, start + 10));
        }
        Ok(())
    }
}

fn pardo_finish_bundle_emits(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(0..1000i64)).apply_named("EmitAtFinish", ParDo::of(EmitAtFinish::default()));
    let expected = (0..1000i64).map(|x| {
        let start = x.div_euclid(10) * 10;
        (x, secs(x), win(start, start + 10))
    });
    assert_that(&xs.apply(reify()), contains_in_any_order(expected));
    Expect::success().counter("EmitAtFinish", "emitted", 1000)
}

fn pardo_timestamps_and_windows_in_process(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::timestamped(vec![("a".to_string(), secs(3)), ("b".into(), secs(17)), ("c".into(), secs(-4))]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
    assert_that(
        &xs.apply(reify()),
        contains_in_any_order(vec![
            ("a".to_string(), secs(3), win(0, 10)),
            ("b".to_string(), secs(17), win(10, 20)),
            ("c".to_string(), secs(-4), win(-10, 0)),
        ]),
    );
    Expect::success()
}

/// Moves each element `shift` seconds later.
#[derive(Clone, Serialize, Deserialize)]
struct Retime {
    shift: i64,
}

impl DoFn for Retime {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        let ts = ctx.timestamp().plus_micros(self.shift * 1_000_000);
        ctx.emit_with_timestamp(*x, ts);
        Ok(())
    }
}

fn pardo_emit_with_timestamp(p: &Pipeline) -> Expect {
    let xs = p
        .apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(8))]))
        .apply(ParDo::of(Retime { shift: 5 }))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
    assert_that(&xs.apply(reify()), contains_in_any_order(vec![(1, secs(6), win(0, 10)), (2, secs(13), win(10, 20))]));
    Expect::success()
}

/// Emits `n` copies of each element.
#[derive(Clone, Serialize, Deserialize)]
struct Repeat {
    n: u32,
}

impl DoFn for Repeat {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        for _ in 0..self.n {
            ctx.emit(*x);
        }
        Ok(())
    }
}

fn pardo_fan_out(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(0..100i64)).apply(ParDo::of(Repeat { n: 1000 }));
    assert_that(&xs.apply(Count::globally()), contains_in_any_order(vec![100_000u64]));
    assert_that(&xs.apply(Count::per_element()), contains_in_any_order((0..100i64).map(|x| (x, 1000u64))));
    Expect::success()
}

fn pardo_chain_of_steps(p: &Pipeline) -> Expect {
    let mut xs = p.apply(Create::new(vec![0i64, 100]));
    for i in 0..20 {
        xs = xs.apply_named(&format!("Step{i}"), ParDo::of(AddN { n: i }));
    }
    assert_that(&xs, contains_in_any_order(vec![190i64, 290]));
    Expect::success()
}

/// Odd numbers to the main output, even ones to `evens`, multiples of 3 also
/// as text to `threes`.
#[derive(Clone, Serialize, Deserialize)]
struct Route {
    evens: TupleTag<i64>,
    threes: TupleTag<String>,
}

impl DoFn for Route {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        if x % 3 == 0 {
            ctx.output(&self.threes, format!("three:{x}"))?;
        }
        if x % 2 == 0 {
            ctx.output(&self.evens, *x)
        } else {
            ctx.emit(*x);
            Ok(())
        }
    }
}

fn route() -> (Route, TupleTag<i64>, TupleTag<String>) {
    let (evens, threes) = (TupleTag::<i64>::new("evens"), TupleTag::<String>::new("threes"));
    (Route { evens: evens.clone(), threes: threes.clone() }, evens, threes)
}

fn pardo_tagged_outputs(p: &Pipeline) -> Expect {
    let (f, evens, threes) = route();
    let out = p.apply(Create::new(1..=9i64)).apply(ParDo::of(f).with_output(&evens).with_output(&threes));
    assert_that(&out.main(), contains_in_any_order(vec![1, 3, 5, 7, 9]));
    assert_that(&out.get(&evens), contains_in_any_order(vec![2, 4, 6, 8]));
    assert_that(
        &out.get(&threes),
        contains_in_any_order(vec!["three:3".to_string(), "three:6".into(), "three:9".into()]),
    );
    Expect::success()
}

fn pardo_tagged_output_left_empty(p: &Pipeline) -> Expect {
    let (f, evens, threes) = route();
    let out = p.apply(Create::new(vec![1i64, 5, 7])).apply(ParDo::of(f).with_output(&evens).with_output(&threes));
    assert_that(&out.main(), contains_in_any_order(vec![1, 5, 7]));
    assert_that(&out.get(&evens), is_empty());
    assert_that(&out.get(&threes), is_empty());
    Expect::success()
}

fn pardo_tagged_outputs_keep_windows(p: &Pipeline) -> Expect {
    let (f, evens, threes) = route();
    let out = p
        .apply(Create::timestamped(vec![(1i64, secs(1)), (2, secs(12)), (3, secs(25))]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
        .apply(ParDo::of(f).with_output(&evens).with_output(&threes));
    assert_that(
        &out.main().apply(reify()),
        contains_in_any_order(vec![(1, secs(1), win(0, 10)), (3, secs(25), win(20, 30))]),
    );
    assert_that(&out.get(&evens).apply(reify()), contains_in_any_order(vec![(2, secs(12), win(10, 20))]));
    assert_that_in_window(&out.get(&threes), win(20, 30), contains_in_any_order(vec!["three:3".to_string()]));
    Expect::success()
}

/// Sends `x` to the tag `x mod (number of tags)`.
#[derive(Clone, Serialize, Deserialize)]
struct Splitter {
    tags: Vec<TupleTag<i64>>,
}

impl DoFn for Splitter {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        match self.tags.get(x.rem_euclid(self.tags.len().max(1) as i64) as usize) {
            Some(tag) => ctx.output(tag, *x),
            None => {
                ctx.emit(*x);
                Ok(())
            }
        }
    }
}

fn split(xs: &PCollection<i64>, label: &str, n: usize) -> Vec<PCollection<i64>> {
    let tags: Vec<TupleTag<i64>> = (0..n).map(|i| TupleTag::new(&format!("t{i}"))).collect();
    let mut pardo = ParDo::of(Splitter { tags: tags.clone() }).with_output(&tags[0]);
    for t in &tags[1..] {
        pardo = pardo.with_output(t);
    }
    let out = xs.apply_named(label, pardo);
    tags.iter().map(|t| out.get(t)).collect()
}

/// One DoFn type applied twice with different numbers of tagged outputs.
fn pardo_same_dofn_different_outputs(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(0..6i64));
    let one = split(&xs, "One", 1);
    let three = split(&xs, "Three", 3);
    assert_that(&one[0], contains_in_any_order(0..6i64));
    assert_that(&three[1], contains_in_any_order(vec![1, 4]));
    Expect::success()
}

fn pardo_error_names_the_label(p: &Pipeline) -> Expect {
    let _ = p
        .apply(Create::new(1..=5i64))
        .apply_named("Explode", ParDo::of(FailOn { on: 3, message: "kaboom on three".into() }));
    Expect::user_error("Explode", "kaboom on three").and_error(|e| match e {
        Error::UserCode { element, .. } if element == "3" => Ok(()),
        other => Err(format!("expected the error to show the element 3: {other}")),
    })
}

/// A composite holding a failing step.
struct Outer;

impl PTransform<PCollection<i64>> for Outer {
    type Output = PCollection<i64>;
    fn default_label(&self) -> String {
        "Outer".into()
    }
    fn expand(self, input: PCollection<i64>) -> PCollection<i64> {
        input
            .apply_named("Fine", ParDo::of(AddN { n: 1 }))
            .apply_named("Inner", ParDo::of(FailOn { on: 2, message: "bad two".into() }))
    }
}

fn pardo_error_in_composite_names_the_full_label(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(vec![1i64])).apply(Outer);
    Expect::user_error("Outer/Inner", "bad two")
}

#[derive(Clone, Serialize, Deserialize)]
struct PanicOn {
    on: i64,
}

impl DoFn for PanicOn {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        assert!(*x != self.on, "deliberate panic on {x}");
        ctx.emit(*x);
        Ok(())
    }
}

fn pardo_panic_names_the_label(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(1..=5i64)).apply_named("Panicky", ParDo::of(PanicOn { on: 4 }));
    Expect::user_error("Panicky", "deliberate panic on 4")
}

/// Fails in `setup` or `finish_bundle`.
#[derive(Clone, Serialize, Deserialize)]
struct FailIn {
    setup: bool,
}

impl DoFn for FailIn {
    type In = i64;
    type Out = i64;
    fn setup(&mut self) -> Result<(), DoFnError> {
        if self.setup {
            return Err(DoFnError::new("cannot connect in setup"));
        }
        Ok(())
    }
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit(*x);
        Ok(())
    }
    fn finish_bundle(&mut self, _: &mut FinishBundleContext<'_, i64>) -> Result<(), DoFnError> {
        if !self.setup {
            return Err(DoFnError::new("cannot flush in finish_bundle"));
        }
        Ok(())
    }
}

fn pardo_setup_error_names_the_label(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(vec![1i64])).apply_named("Connect", ParDo::of(FailIn { setup: true }));
    Expect::user_error("Connect", "cannot connect in setup")
}

fn pardo_finish_bundle_error_names_the_label(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(vec![1i64])).apply_named("Flush", ParDo::of(FailIn { setup: false }));
    Expect::user_error("Flush", "cannot flush in finish_bundle")
}

/// Fails on every string, showing it.
#[derive(Clone, Serialize, Deserialize)]
struct RejectText;

impl DoFn for RejectText {
    type In = String;
    type Out = String;
    fn process(&mut self, _: &String, _: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        Err(DoFnError::new("rejected"))
    }
}

/// The element in an error is shortened: a 100 000-character element does
/// not flood the message.
fn pardo_error_shortens_the_element(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(vec!["x".repeat(100_000)])).apply_named("Reject", ParDo::of(RejectText));
    Expect::user_error("Reject", "rejected").and_error(|e| match e {
        Error::UserCode { element, .. } if element.starts_with("\"xxx") && element.chars().count() < 1000 => Ok(()),
        Error::UserCode { element, .. } => Err(format!(
            "the element is shown as {} characters: {}…",
            element.chars().count(),
            &element[..element.len().min(60)]
        )),
        other => Err(other.to_string()),
    })
}

fn pardo_error_unicode_label(p: &Pipeline) -> Expect {
    let _ = p
        .apply(Create::new(vec![1i64, 2]))
        .apply_named("Schritt/步骤 ✓", ParDo::of(FailOn { on: 2, message: "nein".into() }));
    Expect::user_error("Schritt/步骤 ✓", "nein")
}

/// Two hundred element-wise steps in a row (a runner may fuse them).
fn pardo_long_chain(p: &Pipeline) -> Expect {
    let n = 10_000i64;
    let mut xs = p.apply(Create::new(0..n));
    for i in 0..200 {
        xs = xs.apply_named(&format!("Add{i}"), ParDo::of(AddN { n: 1 }));
    }
    assert_that(
        &xs.apply(Combine::globally(Sum::<i64>::new())),
        contains_in_any_order(vec![n * (n - 1) / 2 + 200 * n]),
    );
    Expect::success()
}

/// One PCollection read by fifty steps.
fn pardo_wide_fan_out_of_consumers(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![0i64, 1000]));
    let outs: Vec<PCollection<i64>> =
        (0..50).map(|i| xs.apply_named(&format!("Add{i}"), ParDo::of(AddN { n: i }))).collect();
    let expected: Vec<i64> = (0..50).flat_map(|i| [i, 1000 + i]).collect();
    assert_that(&outs.apply(Flatten::new()), contains_in_any_order(expected));
    Expect::success()
}
