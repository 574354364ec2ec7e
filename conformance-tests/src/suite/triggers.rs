//! Triggers, accumulation modes, allowed lateness and pane info, as
//! transcripts: a TestStream of elements, watermark and clock moves, and the
//! panes each window must give, with their timing, index, non-speculative
//! index and first/last flags.
//!
//! Expected panes follow Beam's Python `TriggerDriver` as apache-beam 2.77's
//! DirectRunner gives them (checked by running the same transcripts on it),
//! with two exceptions, where the Python runner departs from Beam's model
//! and its Java runners: a repeated processing-time early firing fires again
//! for a second pane (Python's DirectRunner folds it into the on-time pane),
//! and a window's only pane with the default trigger and no allowed lateness
//! is the last (`ON_TIME_AND_ONLY_FIRING`, as Python's batch runners and
//! Java say; Python's streaming runner leaves `last` false). Beam's Python
//! runner fails on `Never` and on a count left in a window when it expires;
//! those follow Java: what is left fires as the window's last pane.
//!
//! On bounded input every runner applies Beam's batch rule: each window
//! fires once, at the end, whatever its trigger.

use super::test_stream::{at, dropped, outputs, USES_TEST_STREAM};
use crate::fns::{end_of, secs, strings};
use crate::harness::{cell_dir, Expect, Test};
use beamline::io::{TestStream, WriteToText};
use beamline::plan::capabilities::{MERGING_WINDOWS, TEST_STREAM, UNBOUNDED};
use beamline::prelude::*;
use beamline::{TimestampCombiner, Trigger};
use serde::{Deserialize, Serialize};
use std::time::Duration;

const TRIGGERS: &str = "triggers";
const ACCUMULATING: &str = "accumulating";
const DISCARDING: &str = "discarding";
const ALLOWED_LATENESS: &str = "allowed_lateness";
const PANE_INFO: &str = "pane_info";

/// A transcript read from a TestStream.
fn transcript(name: &str, build: fn(&Pipeline) -> Expect, categories: &[&'static str]) -> Test {
    Test::new(name, build)
        .requires(&[TEST_STREAM, UNBOUNDED])
        .categories(&[USES_TEST_STREAM, TRIGGERS, PANE_INFO])
        .categories(categories)
}

pub(super) fn tests() -> Vec<Test> {
    vec![
        transcript("trigger_default_on_time_pane", trigger_default_on_time_pane, &[]),
        transcript("trigger_default_with_late_data", trigger_default_with_late_data, &[ALLOWED_LATENESS, DISCARDING]),
        transcript("trigger_known_late_data", trigger_known_late_data, &[ALLOWED_LATENESS]),
        transcript(
            "trigger_early_count_discarding_then_empty_on_time_pane",
            trigger_early_count_discarding_then_empty_on_time_pane,
            &[DISCARDING],
        ),
        transcript("trigger_early_count_accumulating", trigger_early_count_accumulating, &[ACCUMULATING]),
        transcript(
            "trigger_late_firings_accumulating",
            trigger_late_firings_accumulating,
            &[ACCUMULATING, ALLOWED_LATENESS],
        ),
        transcript("trigger_early_processing_time", trigger_early_processing_time, &[DISCARDING]),
        transcript("trigger_timestamp_combiner_earliest", trigger_timestamp_combiner_earliest, &[DISCARDING]),
        transcript("trigger_timestamp_combiner_latest", trigger_timestamp_combiner_latest, &[DISCARDING]),
        transcript("trigger_combine_accumulating_early", trigger_combine_accumulating_early, &[ACCUMULATING]),
        transcript("trigger_combine_lifted_processing_time", trigger_combine_lifted_processing_time, &[ACCUMULATING]),
        transcript("trigger_repeatedly_after_count", trigger_repeatedly_after_count, &[DISCARDING]),
        transcript(
            "trigger_after_any_count_or_processing_time",
            trigger_after_any_count_or_processing_time,
            &[DISCARDING],
        ),
        transcript(
            "trigger_after_all_count_and_processing_time",
            trigger_after_all_count_and_processing_time,
            &[DISCARDING],
        ),
        transcript("trigger_never_fires_at_expiry", trigger_never_fires_at_expiry, &[DISCARDING]),
        transcript(
            "trigger_garbage_collection_drops_state",
            trigger_garbage_collection_drops_state,
            &[ACCUMULATING, ALLOWED_LATENESS],
        ),
        transcript("trigger_or_finally_closes_the_window", trigger_or_finally_closes_the_window, &[DISCARDING])
            .allowing_unsafe_triggers(),
        transcript("trigger_after_each_runs_in_sequence", trigger_after_each_runs_in_sequence, &[DISCARDING])
            .allowing_unsafe_triggers(),
        transcript(
            "trigger_sessions_early_firings_restart_the_index",
            trigger_sessions_early_firings_restart_the_index,
            &[ACCUMULATING],
        )
        .requires(&[MERGING_WINDOWS]),
        transcript(
            "trigger_sessions_late_element_merges_into_a_late_pane",
            trigger_sessions_late_element_merges_into_a_late_pane,
            &[DISCARDING, ALLOWED_LATENESS],
        )
        .requires(&[MERGING_WINDOWS]),
        transcript("trigger_sessions_merge_their_counts", trigger_sessions_merge_their_counts, &[DISCARDING])
            .requires(&[MERGING_WINDOWS]),
        transcript("trigger_unsafe_trigger_is_rejected", trigger_unsafe_trigger_is_rejected, &[]),
        transcript("trigger_unbounded_global_default_is_rejected", trigger_unbounded_global_default_is_rejected, &[]),
        transcript(
            "trigger_windowed_write_names_files_by_pane",
            trigger_windowed_write_names_files_by_pane,
            &[ALLOWED_LATENESS],
        ),
        Test::new("trigger_needs_an_accumulation_mode", trigger_needs_an_accumulation_mode).categories(&[TRIGGERS]),
        Test::new("trigger_batch_fires_each_window_once", trigger_batch_fires_each_window_once)
            .categories(&[TRIGGERS, PANE_INFO]),
    ]
}

// ---------------------------------------------------------------- helpers

/// A pane as the tests spell it: timing, index, non-speculative index,
/// first, last.
type Pane = (String, u64, i64, bool, bool);

/// A fired group: key, sorted values, timestamp, pane.
type Fired = (String, Vec<i64>, Timestamp, Pane);

fn pane(timing: &str, index: u64, nonspeculative: i64, first: bool, last: bool) -> Pane {
    (timing.to_string(), index, nonspeculative, first, last)
}

fn fired(key: &str, values: &[i64], ts: Timestamp, p: Pane) -> Fired {
    (key.to_string(), values.to_vec(), ts, p)
}

/// Emits each group with its sorted values, timestamp and pane.
#[derive(Clone, Serialize, Deserialize)]
struct ShowPanes;

impl DoFn for ShowPanes {
    type In = (String, Vec<i64>);
    type Out = Fired;
    fn process(&mut self, kv: &(String, Vec<i64>), ctx: &mut ProcessContext<'_, Fired>) -> Result<(), DoFnError> {
        let mut values = kv.1.clone();
        values.sort();
        let p = ctx.pane();
        let shown = (p.timing().name().to_string(), p.index(), p.nonspeculative_index(), p.is_first(), p.is_last());
        let ts = ctx.timestamp();
        ctx.emit((kv.0.clone(), values, ts, shown));
        Ok(())
    }
}

/// Emits each sum as a one-value group, with its timestamp and pane.
#[derive(Clone, Serialize, Deserialize)]
struct ShowSums;

impl DoFn for ShowSums {
    type In = (String, i64);
    type Out = Fired;
    fn process(&mut self, kv: &(String, i64), ctx: &mut ProcessContext<'_, Fired>) -> Result<(), DoFnError> {
        let p = ctx.pane();
        let shown = (p.timing().name().to_string(), p.index(), p.nonspeculative_index(), p.is_first(), p.is_last());
        let ts = ctx.timestamp();
        ctx.emit((kv.0.clone(), vec![kv.1], ts, shown));
        Ok(())
    }
}

/// `(value, seconds)` of key "k".
fn k_at(xs: &[(i64, i64)]) -> Vec<((String, i64), Timestamp)> {
    at(&xs.iter().map(|(v, t)| (("k".to_string(), *v), *t)).collect::<Vec<_>>())
}

/// Fixed 10-second windows, with `lateness` seconds of allowed lateness.
fn tens(lateness: u64) -> WindowInto<(String, i64)> {
    WindowInto::new(WindowFn::fixed(Duration::from_secs(10))).with_allowed_lateness(Duration::from_secs(lateness))
}

/// Groups the stream in `window` (step `GroupByKey`) and shows the panes.
fn panes(p: &Pipeline, s: TestStream<(String, i64)>, window: WindowInto<(String, i64)>) -> PCollection<Fired> {
    p.apply(s).apply(window).apply(GroupByKey::new()).apply(ParDo::of(ShowPanes))
}

/// The last instant of the window `[0, 10)`.
fn end() -> Timestamp {
    end_of(0, 10)
}

// ---------------------------------------------------------------- the default trigger

/// One on-time pane, the only one: no lateness is allowed.
fn trigger_default_on_time_pane(p: &Pipeline) -> Expect {
    let s = TestStream::new().add_elements_at(k_at(&[(1, 1), (2, 2)])).advance_watermark_to(secs(20));
    let out = panes(p, s.advance_watermark_to_infinity(), tens(0));
    let out = outputs(&out, "Out", vec![fired("k", &[1, 2], end(), pane("ON_TIME", 0, 0, true, true))]);
    Expect::success().check(out)
}

/// The on-time pane, then a late pane per late element within the allowed
/// lateness; past it, elements are dropped and counted.
fn trigger_default_with_late_data(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1), (2, 2)]))
        .advance_watermark_to(secs(15))
        .add_elements_at(k_at(&[(3, 3)]))
        .advance_watermark_to(secs(25))
        .add_elements_at(k_at(&[(4, 4)]))
        .advance_watermark_to_infinity();
    let out = panes(p, s, tens(10));
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1, 2], end(), pane("ON_TIME", 0, 0, true, false)),
            fired("k", &[3], end(), pane("LATE", 1, 1, false, false)),
        ],
    );
    Expect::success().check(out).check(dropped("GroupByKey", 1))
}

/// An element behind the watermark, in a window that never fired, within
/// the allowed lateness: its window's first pane is late.
fn trigger_known_late_data(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .advance_watermark_to(secs(25))
        .add_elements_at(k_at(&[(3, 3)]))
        .advance_watermark_to_infinity();
    let out = panes(p, s, tens(30));
    let out = outputs(&out, "Out", vec![fired("k", &[3], end(), pane("LATE", 0, 0, true, false))]);
    Expect::success().check(out).check(dropped("GroupByKey", 0))
}

// ---------------------------------------------------------------- early and late firings

fn early_count(n: u64) -> Trigger {
    Trigger::after_watermark().with_early_firings(Trigger::after_count(n))
}

/// Discarding: an early pane after two elements empties the window, and the
/// on-time pane still fires, empty, as the last.
fn trigger_early_count_discarding_then_empty_on_time_pane(p: &Pipeline) -> Expect {
    let s = TestStream::new().add_elements_at(k_at(&[(1, 1), (2, 2)])).advance_watermark_to(secs(20));
    let out = panes(p, s.advance_watermark_to_infinity(), tens(0).triggering(early_count(2)).discarding_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1, 2], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[], end(), pane("ON_TIME", 1, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// Sessions with a 10-second gap, `lateness` seconds of allowed lateness.
fn sessions(lateness: u64) -> WindowInto<(String, i64)> {
    WindowInto::new(WindowFn::sessions(Duration::from_secs(10))).with_allowed_lateness(Duration::from_secs(lateness))
}

/// Sessions merge: an early pane per element; the merged session's panes
/// start again from index 0, as in Beam (the index is not carried across a
/// merge into a new window), and the on-time pane holds everything.
fn trigger_sessions_early_firings_restart_the_index(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .add_elements_at(k_at(&[(2, 5)]))
        .advance_watermark_to(secs(30))
        .advance_watermark_to_infinity();
    let out = panes(p, s, sessions(0).triggering(early_count(1)).accumulating_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1], end_of(1, 11), pane("EARLY", 0, -1, true, false)),
            fired("k", &[1, 2], end_of(1, 15), pane("EARLY", 0, -1, true, false)),
            fired("k", &[1, 2], end_of(1, 15), pane("ON_TIME", 1, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// A late element merges into a session that fired on time: the merged
/// session (still behind the watermark) fires a late pane, its first.
fn trigger_sessions_late_element_merges_into_a_late_pane(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .advance_watermark_to(secs(20))
        .add_elements_at(k_at(&[(2, 8)]))
        .add_elements_at(k_at(&[(3, 30)]))
        .advance_watermark_to(secs(100))
        .advance_watermark_to_infinity();
    let t = Trigger::after_watermark().with_late_firings(Trigger::after_count(1));
    let out = panes(p, s, sessions(30).triggering(t).discarding_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1], end_of(1, 11), pane("ON_TIME", 0, 0, true, false)),
            fired("k", &[2], end_of(1, 18), pane("LATE", 0, 0, true, false)),
            fired("k", &[3], end_of(30, 40), pane("ON_TIME", 0, 0, true, false)),
        ],
    );
    Expect::success().check(out)
}

/// Merged sessions add up their trigger's counts: two sessions of one
/// element each merge and fire an early pane at a count of two.
fn trigger_sessions_merge_their_counts(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .add_elements_at(k_at(&[(2, 20)]))
        .add_elements_at(k_at(&[(3, 12)]))
        .advance_watermark_to(secs(100))
        .advance_watermark_to_infinity();
    let out = panes(p, s, sessions(0).triggering(early_count(2)).discarding_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[2, 3], end_of(12, 30), pane("EARLY", 0, -1, true, false)),
            fired("k", &[1], end_of(1, 11), pane("ON_TIME", 0, 0, true, true)),
            fired("k", &[], end_of(12, 30), pane("ON_TIME", 1, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// Accumulating: the on-time pane repeats what the early one held.
fn trigger_early_count_accumulating(p: &Pipeline) -> Expect {
    let s = TestStream::new().add_elements_at(k_at(&[(1, 1), (2, 2)])).advance_watermark_to(secs(20));
    let out =
        panes(p, s.advance_watermark_to_infinity(), tens(0).triggering(early_count(2)).accumulating_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1, 2], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[1, 2], end(), pane("ON_TIME", 1, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// Late firings per element, accumulating: the late pane holds everything.
fn trigger_late_firings_accumulating(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1), (2, 2)]))
        .advance_watermark_to(secs(15))
        .add_elements_at(k_at(&[(3, 3)]))
        .advance_watermark_to(secs(30))
        .advance_watermark_to_infinity();
    let t = Trigger::after_watermark().with_late_firings(Trigger::after_count(1));
    let out = panes(p, s, tens(10).triggering(t).accumulating_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1, 2], end(), pane("ON_TIME", 0, 0, true, false)),
            fired("k", &[1, 2, 3], end(), pane("LATE", 1, 1, false, false)),
        ],
    );
    Expect::success().check(out)
}

/// Early firings 5 s of processing time after each pane's first element;
/// the on-time pane fires empty.
fn trigger_early_processing_time(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .advance_processing_time(Duration::from_secs(6))
        .add_elements_at(k_at(&[(2, 2)]))
        .advance_processing_time(Duration::from_secs(6))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let t = Trigger::after_watermark().with_early_firings(Trigger::after_processing_time(Duration::from_secs(5)));
    let out = panes(p, s, tens(0).triggering(t).discarding_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[2], end(), pane("EARLY", 1, -1, false, false)),
            fired("k", &[], end(), pane("ON_TIME", 2, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// The earliest timestamp: an early pane keeps the window's hold, so the
/// on-time pane is stamped with the earliest element of the whole window.
fn trigger_timestamp_combiner_earliest(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(5, 5), (3, 3)]))
        .add_elements_at(k_at(&[(8, 8)]))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let w = tens(0).triggering(early_count(2)).discarding_fired_panes();
    let out = panes(p, s, w.with_timestamp_combiner(TimestampCombiner::Earliest));
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[3, 5], secs(3), pane("EARLY", 0, -1, true, false)),
            fired("k", &[8], secs(3), pane("ON_TIME", 1, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// The latest timestamp, per pane as far as the window has got.
fn trigger_timestamp_combiner_latest(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(5, 5), (3, 3)]))
        .add_elements_at(k_at(&[(8, 8)]))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let w = tens(0).triggering(early_count(2)).discarding_fired_panes();
    let out = panes(p, s, w.with_timestamp_combiner(TimestampCombiner::Latest));
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[3, 5], secs(5), pane("EARLY", 0, -1, true, false)),
            fired("k", &[8], secs(8), pane("ON_TIME", 1, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// A combine in accumulating mode keeps its accumulator between panes.
fn trigger_combine_accumulating_early(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .add_elements_at(k_at(&[(2, 2)]))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let sums = p
        .apply(s)
        .apply(tens(0).triggering(early_count(1)).accumulating_fired_panes())
        .apply(Combine::per_key(Sum::<i64>::new()))
        .apply(ParDo::of(ShowSums));
    let out = outputs(
        &sums,
        "Out",
        vec![
            fired("k", &[1], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[3], end(), pane("EARLY", 1, -1, false, false)),
            fired("k", &[3], end(), pane("ON_TIME", 2, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// A combine under a trigger that counts no elements is lifted (combined
/// before the shuffle): its accumulating panes are the same.
fn trigger_combine_lifted_processing_time(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1), (2, 2)]))
        .advance_processing_time(Duration::from_secs(6))
        .add_elements_at(k_at(&[(4, 3)]))
        .advance_processing_time(Duration::from_secs(6))
        .add_elements_at(k_at(&[(8, 4)]))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let t = Trigger::after_watermark().with_early_firings(Trigger::after_processing_time(Duration::from_secs(5)));
    let sums = p
        .apply(s)
        .apply(tens(0).triggering(t).accumulating_fired_panes())
        .apply(Combine::per_key(Sum::<i64>::new()))
        .apply(ParDo::of(ShowSums));
    let out = outputs(
        &sums,
        "Out",
        vec![
            fired("k", &[3], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[7], end(), pane("EARLY", 1, -1, false, false)),
            fired("k", &[15], end(), pane("ON_TIME", 2, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

// ---------------------------------------------------------------- composite triggers

/// Every second element fires; what is left when the window expires fires
/// as its last pane (on time: the window expires at its end).
fn trigger_repeatedly_after_count(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .add_elements_at(k_at(&[(2, 2)]))
        .add_elements_at(k_at(&[(3, 3)]))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let t = Trigger::repeatedly(Trigger::after_count(2));
    let out = panes(p, s, tens(0).triggering(t).discarding_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1, 2], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[3], end(), pane("ON_TIME", 1, 0, false, true)),
        ],
    );
    Expect::success().check(out)
}

/// Fires on three elements or 5 s of processing time, whichever is first.
fn trigger_after_any_count_or_processing_time(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .advance_processing_time(Duration::from_secs(6))
        .add_elements_at(k_at(&[(2, 2)]))
        .add_elements_at(k_at(&[(3, 3)]))
        .add_elements_at(k_at(&[(4, 4)]))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let t = Trigger::repeatedly(Trigger::after_any(vec![
        Trigger::after_count(3),
        Trigger::after_processing_time(Duration::from_secs(5)),
    ]));
    let out = panes(p, s, tens(0).triggering(t).discarding_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[2, 3, 4], end(), pane("EARLY", 1, -1, false, false)),
        ],
    );
    Expect::success().check(out)
}

/// Fires once both two elements have come and 5 s of processing time
/// passed; nothing is left when the window expires.
fn trigger_after_all_count_and_processing_time(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .add_elements_at(k_at(&[(2, 2)]))
        .advance_processing_time(Duration::from_secs(6))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let t = Trigger::repeatedly(Trigger::after_all(vec![
        Trigger::after_count(2),
        Trigger::after_processing_time(Duration::from_secs(5)),
    ]));
    let out = panes(p, s, tens(0).triggering(t).discarding_fired_panes());
    let out = outputs(&out, "Out", vec![fired("k", &[1, 2], end(), pane("EARLY", 0, -1, true, false))]);
    Expect::success().check(out)
}

/// `Never`: the window's contents come out once, when it expires.
fn trigger_never_fires_at_expiry(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .add_elements_at(k_at(&[(2, 2)]))
        .advance_watermark_to(secs(20))
        .advance_watermark_to_infinity();
    let out = panes(p, s, tens(0).triggering(Trigger::Never).discarding_fired_panes());
    let out = outputs(&out, "Out", vec![fired("k", &[1, 2], end(), pane("ON_TIME", 0, 0, true, true))]);
    Expect::success().check(out)
}

/// Once a window expires its state is gone: an accumulating window that
/// fired late keeps nothing for an element after its expiry (dropped).
fn trigger_garbage_collection_drops_state(p: &Pipeline) -> Expect {
    let s = TestStream::new()
        .add_elements_at(k_at(&[(1, 1)]))
        .advance_watermark_to(secs(12))
        .add_elements_at(k_at(&[(2, 2)]))
        .advance_watermark_to(secs(16))
        .add_elements_at(k_at(&[(3, 3)]))
        .add_elements_at(k_at(&[(11, 11)]))
        .advance_watermark_to_infinity();
    let t = Trigger::after_watermark().with_late_firings(Trigger::after_count(1));
    let out = panes(p, s, tens(5).triggering(t).accumulating_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1], end(), pane("ON_TIME", 0, 0, true, false)),
            fired("k", &[1, 2], end(), pane("LATE", 1, 1, false, false)),
            fired("k", &[11], end_of(10, 20), pane("ON_TIME", 0, 0, true, false)),
        ],
    );
    Expect::success().check(out).check(dropped("GroupByKey", 1))
}

/// Fires per element until the third, then closes the window: a fourth
/// element is dropped and counted.
fn trigger_or_finally_closes_the_window(p: &Pipeline) -> Expect {
    let mut s = TestStream::new();
    for i in 1..=4 {
        s = s.add_elements_at(k_at(&[(i, i)]));
    }
    let s = s.advance_watermark_to(secs(20)).advance_watermark_to_infinity();
    let t = Trigger::repeatedly(Trigger::after_count(1)).or_finally(Trigger::after_count(3));
    let out = panes(p, s, tens(0).triggering(t).discarding_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[2], end(), pane("EARLY", 1, -1, false, false)),
            fired("k", &[3], end(), pane("EARLY", 2, -1, false, true)),
        ],
    );
    Expect::success().check(out).counter("GroupByKey", beamline::engine::DROPPED_CLOSED, 1)
}

/// Two elements, then one, then the window is closed.
fn trigger_after_each_runs_in_sequence(p: &Pipeline) -> Expect {
    let mut s = TestStream::new();
    for i in 1..=4 {
        s = s.add_elements_at(k_at(&[(i, i)]));
    }
    let s = s.advance_watermark_to(secs(20)).advance_watermark_to_infinity();
    let t = Trigger::after_each(vec![Trigger::after_count(2), Trigger::after_count(1)]);
    let out = panes(p, s, tens(0).triggering(t).discarding_fired_panes());
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1, 2], end(), pane("EARLY", 0, -1, true, false)),
            fired("k", &[3], end(), pane("EARLY", 1, -1, false, true)),
        ],
    );
    Expect::success().check(out).counter("GroupByKey", beamline::engine::DROPPED_CLOSED, 1)
}

// ---------------------------------------------------------------- construction

/// A trigger that may finish is refused when the pipeline is built, with
/// Beam's message.
fn trigger_unsafe_trigger_is_rejected(p: &Pipeline) -> Expect {
    let s = TestStream::new().add_elements_at(k_at(&[(1, 1)])).advance_watermark_to_infinity();
    let _ = panes(p, s, tens(0).triggering(Trigger::after_count(2)).discarding_fired_panes());
    Expect::construction_error(
        "'GroupByKey': Unsafe trigger: `AfterCount(2)` may lose data. Reason: MAY_FINISH. This can be overriden with \
         the --allow-unsafe-triggers flag.",
    )
}

/// An unbounded grouping in the global window with the default trigger
/// would never fire: refused, as Beam refuses it.
fn trigger_unbounded_global_default_is_rejected(p: &Pipeline) -> Expect {
    let s = TestStream::new().add_elements_at(k_at(&[(1, 1)])).advance_watermark_to_infinity();
    let _ = p.apply(s).apply(GroupByKey::new());
    Expect::construction_error(
        "'GroupByKey': GroupByKey cannot be applied to an unbounded PCollection with global windowing and a default \
         trigger",
    )
}

/// A trigger without an accumulation mode is refused.
fn trigger_needs_an_accumulation_mode(p: &Pipeline) -> Expect {
    let _ = p
        .apply(Create::new(strings(&["a"])))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))).triggering(early_count(1)));
    Expect::construction_error("a trigger needs an accumulation mode")
}

/// Bounded input: Beam's batch rule, each window fires once at the end,
/// whatever the trigger.
fn trigger_batch_fires_each_window_once(p: &Pipeline) -> Expect {
    let input = p.apply(Create::timestamped(k_at(&[(1, 1), (2, 2), (3, 13)])));
    let t = Trigger::repeatedly(Trigger::after_count(1));
    let out = input
        .apply(tens(0).triggering(t).discarding_fired_panes())
        .apply(GroupByKey::new())
        .apply(ParDo::of(ShowPanes));
    let out = outputs(
        &out,
        "Out",
        vec![
            fired("k", &[1, 2], end(), pane("ON_TIME", 0, 0, true, true)),
            fired("k", &[3], end_of(10, 20), pane("ON_TIME", 0, 0, true, true)),
        ],
    );
    Expect::success().check(out)
}

// ---------------------------------------------------------------- windowed writes

/// An unbounded write puts each pane of a window in files of its own, named
/// by the window and, for panes after the first, the pane's index.
fn trigger_windowed_write_names_files_by_pane(p: &Pipeline) -> Expect {
    let lines = |xs: &[(&str, i64)]| at(&xs.iter().map(|(l, t)| (l.to_string(), *t)).collect::<Vec<_>>());
    let s = TestStream::new()
        .add_elements_at(lines(&[("a", 1), ("b", 2)]))
        .advance_watermark_to(secs(15))
        .add_elements_at(lines(&[("c", 3)]))
        .advance_watermark_to_infinity();
    let dir = cell_dir();
    let prefix = dir.join("out").to_string_lossy().into_owned();
    let window =
        WindowInto::new(WindowFn::fixed(Duration::from_secs(10))).with_allowed_lateness(Duration::from_secs(10));
    let _ = p.apply(s).apply(window).apply(WriteToText::new(prefix.clone()).with_num_shards(1));
    Expect::success().check(move |_| {
        let base = format!("{prefix}-1970-01-01T00:00:00Z-1970-01-01T00:00:10Z");
        let read = |name: &str| {
            let mut lines: Vec<String> = std::fs::read_to_string(name)
                .map_err(|e| format!("{name}: {e}"))?
                .lines()
                .map(str::to_string)
                .collect();
            lines.sort();
            Ok::<_, String>(lines)
        };
        let on_time = read(&format!("{base}-00000-of-00001"))?;
        let late = read(&format!("{base}-pane-1-00000-of-00001"))?;
        if on_time != ["a", "b"] || late != ["c"] {
            return Err(format!("on-time pane's file holds {on_time:?}, the late pane's {late:?}"));
        }
        Ok(())
    })
}
