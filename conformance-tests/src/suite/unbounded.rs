//! Unbounded input: `GenerateSequence` (a source that ends after a count, so
//! every runner's answer can be compared with the direct runner's), windows
//! firing as its watermark passes, out-of-order and late data.

use crate::fns::{win, with_window, ModKey};
use crate::harness::{Expect, Test};
use beamline::io::GenerateSequence;
use beamline::plan::capabilities::{SIDE_INPUTS, UNBOUNDED};
use beamline::prelude::*;
use beamline::Singleton;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("unbounded_generator_emits_the_sequence", unbounded_generator_emits_the_sequence),
        Test::new("unbounded_fixed_window_counts_per_key", unbounded_fixed_window_counts_per_key),
        Test::new("unbounded_out_of_order_data_all_counted", unbounded_out_of_order_data_all_counted),
        Test::new(
            "unbounded_late_data_within_allowed_lateness_is_kept",
            unbounded_late_data_within_allowed_lateness_is_kept,
        ),
        Test::new("unbounded_flatten_with_bounded", unbounded_flatten_with_bounded),
        Test::new("unbounded_chained_windowed_aggregations", unbounded_chained_windowed_aggregations),
        Test::new("unbounded_side_input_per_window", unbounded_side_input_per_window).requires(&[SIDE_INPUTS]),
    ]
    .into_iter()
    .map(|t| t.requires(&[UNBOUNDED]))
    .collect()
}

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

fn events(p: &Pipeline, g: GenerateSequence) -> PCollection<i64> {
    p.apply_named("Events", g).apply_named("ToI64", ParDo::of(ToI64))
}

fn unbounded_generator_emits_the_sequence(p: &Pipeline) -> Expect {
    let xs = events(p, GenerateSequence::new().count(2000));
    assert!(!xs.is_bounded());
    assert_that(&xs, contains_in_any_order((0..2000).collect::<Vec<i64>>()));
    Expect::success()
}

/// Event time `i` ms: windows of a second hold 1000 elements each.
fn unbounded_fixed_window_counts_per_key(p: &Pipeline) -> Expect {
    let counts = events(p, GenerateSequence::new().count(3000))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(1))))
        .apply(ParDo::of(ModKey { k: 3 }))
        .apply(Count::per_key())
        .apply(with_window());
    let mut expected = BTreeMap::new();
    for i in 0..3000i64 {
        *expected.entry((i % 3, i / 1000)).or_insert(0u64) += 1;
    }
    let expected: Vec<_> = expected.into_iter().map(|((k, w), n)| ((k, n), win(w, w + 1))).collect();
    assert_that(&counts, contains_in_any_order(expected));
    Expect::success()
}

/// The total over every window is everything generated, however out of order.
fn total(p: &Pipeline, g: GenerateSequence, window: WindowInto<i64>) -> PCollection<u64> {
    events(p, g)
        .apply(window)
        .apply(ParDo::of(ModKey { k: 1 }))
        .apply(Count::per_key())
        .apply(Values::new())
        // The global window's one pane, when the input ends: Beam refuses an
        // unbounded global-window grouping with the default trigger.
        .apply_named(
            "Global",
            WindowInto::new(WindowFn::global()).triggering(Trigger::after_watermark()).discarding_fired_panes(),
        )
        .apply_named("Total", Combine::globally(Sum::<u64>::new()))
}

fn unbounded_out_of_order_data_all_counted(p: &Pipeline) -> Expect {
    let g = GenerateSequence::new().count(5000).out_of_order(Duration::from_millis(300)).seed(9);
    let t = total(p, g, WindowInto::new(WindowFn::fixed(Duration::from_secs(1))));
    assert_that(&t, contains_in_any_order(vec![5000u64]));
    Expect::success()
}

fn unbounded_late_data_within_allowed_lateness_is_kept(p: &Pipeline) -> Expect {
    let g = GenerateSequence::new().count(5000).late(7, Duration::from_secs(2)).seed(3);
    let window =
        WindowInto::new(WindowFn::fixed(Duration::from_secs(1))).with_allowed_lateness(Duration::from_secs(3600));
    assert_that(&total(p, g, window), contains_in_any_order(vec![5000u64]));
    Expect::success()
}

fn unbounded_flatten_with_bounded(p: &Pipeline) -> Expect {
    let generated = events(p, GenerateSequence::new().count(100));
    let created = p.apply_named("Created", Create::new(vec![-1i64, -2]));
    let all = vec![generated, created].apply(Flatten::new());
    assert!(!all.is_bounded());
    assert_that(&all, contains_in_any_order((-2..100).collect::<Vec<i64>>()));
    Expect::success()
}

/// A windowed aggregation of a windowed aggregation: the first one's panes
/// are on time for the second (regression: they were dropped as late).
fn unbounded_chained_windowed_aggregations(p: &Pipeline) -> Expect {
    let keys_per_window = events(p, GenerateSequence::new().count(3000))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(1))))
        .apply(ParDo::of(ModKey { k: 3 }))
        .apply_named("PerKey", Count::per_key())
        .apply(Keys::new())
        .apply_named("One", ParDo::of(ModKey { k: 1 }))
        .apply_named("KeysPerWindow", Count::per_key())
        .apply(with_window());
    assert_that(
        &keys_per_window,
        contains_in_any_order((0..3).map(|w| ((0i64, 3u64), win(w, w + 1))).collect::<Vec<_>>()),
    );
    Expect::success()
}

/// Pairs every 1000th element with the side input of its window.
#[derive(Clone, Serialize, Deserialize)]
struct PairWithCount {
    side: SideInput<Singleton<u64>>,
}

impl DoFn for PairWithCount {
    type In = i64;
    type Out = (i64, u64);
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, (i64, u64)>) -> Result<(), DoFnError> {
        if x % 1000 == 0 {
            let n = ctx.side_input(&self.side)?;
            ctx.emit((*x, *n));
        }
        Ok(())
    }
}

/// An unbounded side input is read per window once its watermark has passed
/// the window: each window's count is complete (all 1000), never partial.
fn unbounded_side_input_per_window(p: &Pipeline) -> Expect {
    let second = || WindowInto::new(WindowFn::fixed(Duration::from_secs(1)));
    let main = events(p, GenerateSequence::new().count(3000)).apply_named("MainWindow", second());
    let counts = p
        .apply_named("SideEvents", GenerateSequence::new().count(3000).rate(20_000.0))
        .apply_named("SideToI64", ParDo::of(ToI64))
        .apply_named("SideWindow", second())
        .apply_named("SideKey", ParDo::of(ModKey { k: 1 }))
        .apply_named("SideCount", Count::per_key())
        .apply(Values::new())
        .as_singleton_or(0);
    let paired = main.apply_named("Pair", ParDo::of(PairWithCount { side: counts.clone() }).with_side_input(&counts));
    assert_that(&paired, contains_in_any_order(vec![(0i64, 1000u64), (1000, 1000), (2000, 1000)]));
    Expect::success()
}
