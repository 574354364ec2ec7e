//! Random triggered pipelines: from a seeded RNG, a random window function
//! (fixed, sliding or sessions), trigger (the default, or AfterWatermark with
//! early and late count firings), accumulation mode and allowed lateness,
//! and random timestamped input, some of it late but within the lateness.
//! Each key's values are grouped per window and every pane is collected.
//!
//! Which panes fire depends on how elements are bundled, so runners may
//! differ in the panes; they must agree on what the panes add up to, which a
//! plain-Rust model gives: in discarding mode the panes of a window sum to
//! its values, in accumulating mode its last pane holds them all. A window's
//! pane indexes run from 0 without a gap. A session merged away (by a
//! later element, on time or late) fired panes of a window inside a final
//! session.
//!
//! `random_triggered_pipeline_*` reads a TestStream (direct and timely);
//! `random_triggered_batch_*` reads the same input bounded, on every runner,
//! where Beam's batch rule fires each window once.

use super::test_stream::collect;
use crate::harness::{Expect, Test};
use beamline::io::TestStream;
use beamline::plan::capabilities::{MERGING_WINDOWS, TEST_STREAM, UNBOUNDED};
use beamline::prelude::*;
use beamline::{Trigger, Window};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How many cases each family holds.
const CASES: u64 = 8;
const SEC: i64 = 1_000_000;

pub(super) fn tests() -> Vec<Test> {
    let streamed = (0..CASES).map(|seed| {
        let case = Arc::new(Case::draw(seed));
        let tags = case.requirements();
        Test::new(format!("random_triggered_pipeline_{seed:02}"), move |p| case.build(p, true))
            .requires(&[TEST_STREAM, UNBOUNDED])
            .requires(&tags)
            .categories(&["triggers", "pane_info"])
    });
    let batch = (0..CASES).map(|seed| {
        let case = Arc::new(Case::draw(seed));
        let tags = case.requirements();
        Test::new(format!("random_triggered_batch_{seed:02}"), move |p| case.build(p, false))
            .requires(&tags)
            .categories(&["triggers"])
    });
    streamed.chain(batch).collect()
}

/// A window function, in seconds.
#[derive(Clone, Copy, Debug)]
enum Win {
    Fixed { size: i64 },
    Sliding { size: i64, period: i64 },
    Sessions { gap: i64 },
}

/// A trigger, with its counts.
#[derive(Clone, Copy, Debug)]
enum Trig {
    Default,
    Early { every: u64 },
    EarlyAndLate { every: u64, late: u64 },
    Late { every: u64 },
}

#[derive(Debug)]
struct Case {
    win: Win,
    trig: Trig,
    accumulating: bool,
    /// Allowed lateness in seconds.
    lateness: i64,
    keys: i64,
    /// Steps of the stream: elements `(value, micros)`, then the watermark.
    steps: Vec<(Vec<(i64, i64)>, i64)>,
}

impl Case {
    fn draw(seed: u64) -> Case {
        let mut rng = StdRng::seed_from_u64(0x7219_9e00_u64.wrapping_add(seed));
        let win = match rng.random_range(0..3) {
            0 => Win::Fixed { size: rng.random_range(5..60) },
            1 => {
                let period = rng.random_range(5..30);
                Win::Sliding { size: period * rng.random_range(1..=3), period }
            }
            _ => Win::Sessions { gap: rng.random_range(2..20) },
        };
        let trig = match rng.random_range(0..4) {
            0 => Trig::Default,
            1 => Trig::Early { every: rng.random_range(1..5) },
            2 => Trig::EarlyAndLate { every: rng.random_range(1..5), late: rng.random_range(1..3) },
            _ => Trig::Late { every: rng.random_range(1..3) },
        };
        // Discarding panes of sessions merged away would be lost from the
        // final session's panes: sessions accumulate.
        let accumulating = matches!(win, Win::Sessions { .. }) || rng.random_bool(0.5);
        // A trigger that finishes at the window's end may not allow lateness
        // (Beam refuses it as unsafe).
        let lateness = match trig {
            Trig::Early { .. } => 0,
            _ if rng.random_bool(0.2) => 0,
            _ => rng.random_range(10..60),
        };
        let keys = rng.random_range(1..20);
        let mut watermark = 0;
        let mut steps = Vec::new();
        for _ in 0..rng.random_range(3..9) {
            let n = rng.random_range(0..150);
            let xs = (0..n)
                .map(|_| {
                    let late = lateness > 0 && watermark > 0 && rng.random_bool(0.2);
                    // Late, but never past the allowed lateness: at most half of it behind.
                    let t = if late {
                        rng.random_range((watermark - lateness * SEC / 2).max(0)..watermark)
                    } else {
                        rng.random_range(watermark..watermark + 60 * SEC)
                    };
                    (rng.random_range(0..1000), t)
                })
                .collect();
            watermark += rng.random_range(5..40) * SEC;
            steps.push((xs, watermark));
        }
        Case { win, trig, accumulating, lateness, keys, steps }
    }

    fn requirements(&self) -> Vec<&'static str> {
        match self.win {
            Win::Sessions { .. } => vec![MERGING_WINDOWS],
            _ => Vec::new(),
        }
    }

    fn window_into(&self) -> WindowInto<(i64, i64)> {
        let s = |x: i64| Duration::from_secs(x as u64);
        let window_fn = match self.win {
            Win::Fixed { size } => WindowFn::fixed(s(size)),
            Win::Sliding { size, period } => WindowFn::sliding(s(size), s(period)),
            Win::Sessions { gap } => WindowFn::sessions(s(gap)),
        };
        let trigger = match self.trig {
            Trig::Default => Trigger::Default,
            Trig::Early { every } => Trigger::after_watermark().with_early_firings(Trigger::after_count(every)),
            Trig::EarlyAndLate { every, late } => Trigger::after_watermark()
                .with_early_firings(Trigger::after_count(every))
                .with_late_firings(Trigger::after_count(late)),
            Trig::Late { every } => Trigger::after_watermark().with_late_firings(Trigger::after_count(every)),
        };
        let w = WindowInto::new(window_fn).with_allowed_lateness(s(self.lateness)).triggering(trigger);
        if self.accumulating {
            w.accumulating_fired_panes()
        } else {
            w.discarding_fired_panes()
        }
    }

    fn build(&self, p: &Pipeline, streamed: bool) -> Expect {
        let keyed = |(v, t): &(i64, i64)| ((v.rem_euclid(self.keys), *v), Timestamp::from_micros(*t));
        let input = if streamed {
            let mut s = TestStream::new();
            for (xs, watermark) in &self.steps {
                s = s
                    .add_elements_at(xs.iter().map(keyed).collect())
                    .advance_watermark_to(Timestamp::from_micros(*watermark));
            }
            p.apply_named("Input", s.advance_watermark_to_infinity())
        } else {
            let all: Vec<_> = self.steps.iter().flat_map(|(xs, _)| xs.iter().map(keyed)).collect();
            p.apply_named("Input", Create::timestamped(all))
        };
        let panes = input
            .apply_named("Window", self.window_into())
            .apply_named("Group", GroupByKey::new())
            .apply_named("Show", ParDo::of(ShowPane));
        let collected = collect(&panes, "Panes");
        let want = self.expected();
        let (accumulating, merging) = (self.accumulating, matches!(self.win, Win::Sessions { .. }));
        Expect::success().check(move |_| {
            let got: Vec<Pane> = collected().iter().map(|s| parse(s)).collect::<Result<_, _>>()?;
            check(&want, &got, accumulating, merging)
        })
    }

    /// Each key's and final window's `(sum, count)`.
    fn expected(&self) -> BTreeMap<(i64, i64, i64), (i64, i64)> {
        let mut per_key: BTreeMap<i64, Vec<(Span, i64)>> = BTreeMap::new();
        for (v, t) in self.steps.iter().flat_map(|(xs, _)| xs) {
            for w in self.assign(*t) {
                per_key.entry(v.rem_euclid(self.keys)).or_default().push((w, *v));
            }
        }
        let mut out = BTreeMap::new();
        for (k, mut items) in per_key {
            items.sort();
            let mut windows: Vec<(Span, Vec<i64>)> = Vec::new();
            for ((s, e), v) in items {
                match windows.last_mut() {
                    Some(((ms, me), vs)) if s == *ms && e == *me => vs.push(v),
                    Some(((_, me), vs)) if matches!(self.win, Win::Sessions { .. }) && s < *me => {
                        *me = (*me).max(e);
                        vs.push(v);
                    }
                    _ => windows.push(((s, e), vec![v])),
                }
            }
            for ((s, e), vs) in windows {
                out.insert((k, s, e), (vs.iter().sum(), vs.len() as i64));
            }
        }
        out
    }

    /// The windows (start, end in micros) of a timestamp.
    fn assign(&self, t: i64) -> Vec<Span> {
        match self.win {
            Win::Fixed { size } => {
                let start = t.div_euclid(size * SEC) * size * SEC;
                vec![(start, start + size * SEC)]
            }
            Win::Sliding { size, period } => {
                let last = t.div_euclid(period * SEC) * period * SEC;
                (0..size / period).map(|i| last - i * period * SEC).map(|s| (s, s + size * SEC)).collect()
            }
            Win::Sessions { gap } => vec![(t, t + gap * SEC)],
        }
    }
}

/// A window's start and end, in micros.
type Span = (i64, i64);

/// A fired pane: key, window start and end, sum and count of its values,
/// index, timing.
type Pane = (i64, i64, i64, i64, i64, u64, String);

fn parse(s: &str) -> Result<Pane, String> {
    let f: Vec<&str> = s.trim_matches('"').split('|').collect();
    let n = |i: usize| f.get(i).and_then(|x| x.parse::<i64>().ok()).ok_or_else(|| format!("bad pane {s}"));
    Ok((n(0)?, n(1)?, n(2)?, n(3)?, n(4)?, n(5)? as u64, f.get(6).unwrap_or(&"").to_string()))
}

/// Whether the panes `got` add up to `want`.
fn check(
    want: &BTreeMap<(i64, i64, i64), (i64, i64)>,
    got: &[Pane],
    accumulating: bool,
    merging: bool,
) -> Result<(), String> {
    let mut per_window: BTreeMap<(i64, i64, i64), Vec<&Pane>> = BTreeMap::new();
    for p in got {
        per_window.entry((p.0, p.1, p.2)).or_default().push(p);
    }
    for (w, panes) in &mut per_window {
        panes.sort_by_key(|p| p.5);
        if panes.iter().enumerate().any(|(i, p)| p.5 != i as u64) {
            let indexes: Vec<u64> = panes.iter().map(|p| p.5).collect();
            return Err(format!("window {w:?}: pane indexes {indexes:?} do not run from 0 without a gap"));
        }
        if !want.contains_key(w) {
            let inside = want.keys().any(|(k, s, e)| *k == w.0 && *s <= w.1 && w.2 <= *e);
            if !(merging && inside) {
                return Err(format!("unexpected window {w:?} with panes {panes:?}"));
            }
        }
    }
    for (w, total) in want {
        let panes = per_window.get(w).ok_or_else(|| format!("window {w:?} (sum and count {total:?}) never fired"))?;
        let got = if accumulating {
            panes.last().map(|p| (p.3, p.4)).unwrap_or_default()
        } else {
            panes.iter().fold((0, 0), |(s, c), p| (s + p.3, c + p.4))
        };
        if got != *total {
            return Err(format!("window {w:?}: panes {panes:?} give {got:?}, expected {total:?}"));
        }
    }
    Ok(())
}

/// Shows a group's pane as `key|start|end|sum|count|index|timing`.
#[derive(Clone, Serialize, Deserialize)]
struct ShowPane;

impl DoFn for ShowPane {
    type In = (i64, Vec<i64>);
    type Out = String;
    fn process(&mut self, kv: &(i64, Vec<i64>), ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        let (start, end) = match ctx.window() {
            Window::Interval { start, end } => (start.as_micros(), end.as_micros()),
            Window::Global => (i64::MIN, i64::MAX),
        };
        let p = ctx.pane();
        let sum: i64 = kv.1.iter().sum();
        let shown = format!("{}|{start}|{end}|{sum}|{}|{}|{}", kv.0, kv.1.len(), p.index(), p.timing().name());
        ctx.emit(shown);
        Ok(())
    }
}
