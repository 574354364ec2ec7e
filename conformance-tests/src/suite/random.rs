//! Random pipelines: from a seeded RNG, random timestamped input and a random
//! chain of map / filter / flat_map / group / combine / flatten / window
//! steps (and, in the `random_stateful_pipeline_*` cases, stateful ParDos:
//! a per-key running sum in a value cell, emitted by an end-of-window
//! timer). The expected answer (values, timestamps and windows) comes from a
//! plain-Rust model of the same chain; every runner must give it, and each
//! runner's answer digest (a metric) must equal the direct runner's.

use super::beam::{STATEFUL_PARDO, TIMERS_IN_PARDO};
use crate::fns::{reify, AddN, ModKey};
use crate::harness::{Expect, Test};
use beamline::plan::capabilities::{MERGING_WINDOWS, SIDE_INPUTS, STATEFUL_PROCESSING, TIMERS};
use beamline::prelude::*;
use beamline::state::{StateSpecs, TimeDomain, Timer, ValueState};
use beamline::Window;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How many random pipelines the suite holds.
const CASES: u64 = 24;
/// How many more hold stateful steps.
const STATEFUL_CASES: u64 = 8;
/// Keeps intermediate results small enough for a debug build.
const MAX_ELEMENTS: usize = 30_000;
/// Reduced values stay below this, so sums never overflow.
const MODULUS: i64 = 1_000_003;
const SEC: i64 = 1_000_000;

pub(super) fn tests() -> Vec<Test> {
    let plain = (0..CASES).map(|seed| {
        let case = Arc::new(Case::generate(seed));
        let tags = case.requirements();
        let c = case.clone();
        Test::new(format!("random_pipeline_{seed:02}"), move |p| c.build(p)).requires(&tags)
    });
    let stateful = (0..STATEFUL_CASES).map(|seed| {
        let case = Arc::new(Case::generate_stateful(seed));
        let tags = case.requirements();
        let c = case.clone();
        Test::new(format!("random_stateful_pipeline_{seed:02}"), move |p| c.build(p))
            .requires(&tags)
            .categories(&[STATEFUL_PARDO, TIMERS_IN_PARDO])
    });
    plain.chain(stateful).collect()
}

/// A window function, in seconds.
#[derive(Clone, Copy, Debug)]
enum Win {
    Global,
    Fixed { size: i64, offset: i64 },
    Sliding { size: i64, period: i64 },
    Sessions { gap: i64 },
}

#[derive(Clone, Copy, Debug)]
enum Op {
    /// `v -> (v * mul + add) mod modulo`.
    Map { mul: i64, add: i64, modulo: i64 },
    /// Keeps `v` unless `v mod k == r`.
    Filter { k: i64, r: i64 },
    /// `v -> v, v + 1, ..., v + copies - 1`.
    FlatMap { copies: i64 },
    /// Moves each element `v mod 5` seconds later.
    Delay,
    /// GroupByKey on `v mod keys`, then reduces each group to one number.
    Group { keys: i64 },
    /// Combine::per_key(Sum) on `v mod keys`, then folds the key in.
    CombinePerKey { keys: i64 },
    /// Combine::globally(Sum), reduced modulo [`MODULUS`].
    CombineGlobally,
    /// Flattens the collection with itself shifted by `add`.
    Flatten { add: i64 },
    /// A stateful ParDo keyed by `v mod keys`: a running count and sum per key
    /// and window in a value cell, folded with the key by an end-of-window timer.
    Stateful { keys: i64 },
    /// WindowInto.
    Window(Win),
}

struct Case {
    input: Vec<(i64, i64)>,
    ops: Vec<Op>,
}

/// A window of the model in micros: `None` is the global window.
type Span = Option<(i64, i64)>;
/// An element of the model: value, timestamp (micros), window.
type Elem = (i64, i64, Span);

impl Case {
    /// Input, then element-wise steps, windowing and one or two aggregations
    /// with element-wise steps between them (so windows matter downstream).
    fn generate(seed: u64) -> Case {
        Case::draw(0xbea7_1111_u64.wrapping_add(seed), false)
    }

    /// A case whose aggregations may be stateful ParDos (at least one is).
    fn generate_stateful(seed: u64) -> Case {
        (0..)
            .map(|attempt| Case::draw(0x57a7_e000_u64.wrapping_add(seed * 1000 + attempt), true))
            .find(|c| c.ops.iter().any(|op| matches!(op, Op::Stateful { .. })))
            .unwrap_or_else(|| Case { input: Vec::new(), ops: Vec::new() })
    }

    fn draw(rng_seed: u64, stateful: bool) -> Case {
        let mut rng = StdRng::seed_from_u64(rng_seed);
        let n = rng.random_range(0..2000);
        let input: Vec<(i64, i64)> =
            (0..n).map(|_| (rng.random_range(0..1000), rng.random_range(0..300 * SEC))).collect();
        let mut g = Gen { rng, ops: Vec::new(), size: input.len(), aggregated: false, stateful, win: Win::Global };
        g.element_wise(1, 3);
        if g.rng.random_bool(0.7) {
            g.window();
        }
        g.element_wise(0, 2);
        if g.rng.random_bool(0.9) {
            g.aggregate();
        }
        g.element_wise(0, 2);
        if g.rng.random_bool(0.5) {
            if g.rng.random_bool(0.6) {
                g.window();
            }
            g.aggregate();
            g.element_wise(0, 1);
        }
        Case { input, ops: g.ops }
    }

    /// The capabilities the chain needs (the harness checks them against the graph).
    fn requirements(&self) -> Vec<&'static str> {
        let mut tags = Vec::new();
        let mut win = Win::Global;
        for op in &self.ops {
            match op {
                Op::Window(w) => win = *w,
                Op::Group { .. } | Op::CombinePerKey { .. } | Op::CombineGlobally
                    if matches!(win, Win::Sessions { .. }) =>
                {
                    tags.push(MERGING_WINDOWS)
                }
                _ => {}
            }
            if matches!(op, Op::CombineGlobally) && matches!(win, Win::Global) {
                tags.push(SIDE_INPUTS);
            }
            if matches!(op, Op::Stateful { .. }) {
                tags.extend([STATEFUL_PROCESSING, TIMERS]);
            }
        }
        tags.sort();
        tags.dedup();
        tags
    }

    fn build(&self, p: &Pipeline) -> Expect {
        let input = self.input.iter().map(|(v, t)| (*v, Timestamp::from_micros(*t)));
        let mut pc = p.apply(Create::timestamped(input.collect::<Vec<_>>()));
        for (i, op) in self.ops.iter().enumerate() {
            let l = |name: &str| format!("{i}:{name}");
            pc = match *op {
                Op::Map { mul, add, modulo } => pc.apply_named(&l("Map"), ParDo::of(Affine { mul, add, modulo })),
                Op::Filter { k, r } => pc.apply_named(&l("Filter"), ParDo::of(DropRemainder { k, r })),
                Op::FlatMap { copies } => pc.apply_named(&l("FlatMap"), ParDo::of(Spread { copies })),
                Op::Delay => pc.apply_named(&l("Delay"), ParDo::of(Delay)),
                Op::Group { keys } => pc
                    .apply_named(&l("Key"), ParDo::of(ModKey { k: keys }))
                    .apply_named(&l("Group"), GroupByKey::new())
                    .apply_named(&l("Reduce"), ParDo::of(Reduce)),
                Op::CombinePerKey { keys } => pc
                    .apply_named(&l("Key"), ParDo::of(ModKey { k: keys }))
                    .apply_named(&l("SumPerKey"), Combine::per_key(Sum::<i64>::new()))
                    .apply_named(&l("Fold"), ParDo::of(Fold)),
                Op::CombineGlobally => pc
                    .apply_named(&l("Sum"), Combine::globally(Sum::<i64>::new()))
                    .apply_named(&l("Mod"), ParDo::of(Affine { mul: 1, add: 0, modulo: MODULUS })),
                Op::Stateful { keys } => pc
                    .apply_named(&l("Key"), ParDo::of(ModKey { k: keys }))
                    .apply_named(&l("Stateful"), StatefulParDo::of(RunningSum::default())),
                Op::Flatten { add } => {
                    let shifted = pc.apply_named(&l("Shift"), ParDo::of(AddN { n: add }));
                    vec![pc, shifted].apply_named(&l("Flatten"), Flatten::new())
                }
                Op::Window(w) => pc.apply_named(&l("Window"), WindowInto::new(window_fn(w))),
            };
        }
        let out = pc.apply_named("Reify", reify());
        assert_that(&out, contains_in_any_order(self.expected()));
        let _ = out.apply_named("Digest", ParDo::of(Digest));
        Expect::success().fingerprint(|r| {
            let m = r.metrics();
            let get = |n: &str| m.counter("Digest", n);
            Some(format!("{}/{}/{}", get("count")?, get("lo")?, get("hi")?))
        })
    }

    /// The answer, computed by plain Rust.
    fn expected(&self) -> Vec<(i64, Timestamp, Window)> {
        let mut xs: Vec<Elem> = self.input.iter().map(|(v, t)| (*v, *t, None)).collect();
        let mut win = Win::Global;
        for op in &self.ops {
            xs = match *op {
                Op::Map { mul, add, modulo } => {
                    xs.into_iter().map(|(v, t, w)| ((v * mul + add).rem_euclid(modulo), t, w)).collect()
                }
                Op::Filter { k, r } => xs.into_iter().filter(|(v, _, _)| v.rem_euclid(k) != r).collect(),
                Op::FlatMap { copies } => {
                    xs.into_iter().flat_map(|(v, t, w)| (0..copies).map(move |i| (v + i, t, w))).collect()
                }
                Op::Delay => xs.into_iter().map(|(v, t, w)| (v, t + v.rem_euclid(5) * SEC, w)).collect(),
                Op::Group { keys } => group(&xs, keys, win, reduce),
                Op::CombinePerKey { keys } => {
                    group(&xs, keys, win, |k, vs| (k * 7 + vs.iter().sum::<i64>()).rem_euclid(MODULUS))
                }
                // State per key and window, flushed at the end of the window:
                // a group's answer, at the group's timestamp.
                Op::Stateful { keys } => {
                    group(&xs, keys, win, |k, vs| running_sum(k, vs.iter().sum(), vs.len() as i64))
                }
                Op::CombineGlobally => {
                    let global = matches!(win, Win::Global);
                    if xs.is_empty() && global {
                        vec![(0, Timestamp::MIN.as_micros(), None)]
                    } else {
                        group(&xs, 1, win, |_, vs| vs.iter().sum::<i64>().rem_euclid(MODULUS))
                    }
                }
                Op::Flatten { add } => {
                    let shifted: Vec<Elem> = xs.iter().map(|(v, t, w)| (v + add, *t, *w)).collect();
                    xs.into_iter().chain(shifted).collect()
                }
                Op::Window(w) => {
                    win = w;
                    xs.into_iter().flat_map(|(v, t, _)| assign(w, t).into_iter().map(move |w| (v, t, w))).collect()
                }
            };
        }
        xs.into_iter()
            .map(|(v, t, w)| {
                let window = match w {
                    None => Window::Global,
                    Some((s, e)) => Window::interval(Timestamp::from_micros(s), Timestamp::from_micros(e)),
                };
                (v, Timestamp::from_micros(t), window)
            })
            .collect()
    }
}

/// Draws a chain step by step, keeping intermediate sizes bounded.
struct Gen {
    rng: StdRng,
    ops: Vec<Op>,
    size: usize,
    aggregated: bool,
    /// Whether aggregations may be stateful ParDos.
    stateful: bool,
    /// The window function in force.
    win: Win,
}

impl Gen {
    fn push(&mut self, op: Op) {
        let grows = match op {
            Op::FlatMap { copies } => copies as usize,
            Op::Flatten { .. } => 2,
            Op::Window(Win::Sliding { size, period }) => (size / period) as usize,
            _ => 1,
        };
        if self.size.saturating_mul(grows) > MAX_ELEMENTS {
            return;
        }
        self.size *= grows;
        self.aggregated |=
            matches!(op, Op::Group { .. } | Op::CombinePerKey { .. } | Op::CombineGlobally | Op::Stateful { .. });
        if let Op::Window(w) = op {
            self.win = w;
        }
        self.ops.push(op);
    }

    fn element_wise(&mut self, min: usize, max: usize) {
        for _ in 0..self.rng.random_range(min..=max) {
            let r = &mut self.rng;
            let op = match r.random_range(0..5) {
                0 => Op::Map {
                    mul: r.random_range(1..50),
                    add: r.random_range(0..1000),
                    modulo: r.random_range(50..5000),
                },
                1 => Op::Filter { k: r.random_range(2..6), r: r.random_range(0..2) },
                2 => Op::FlatMap { copies: if r.random_bool(0.1) { 0 } else { r.random_range(1..=3) } },
                3 if !self.aggregated => Op::Delay,
                _ => Op::Flatten { add: r.random_range(1..100) },
            };
            self.push(op);
        }
    }

    fn window(&mut self) {
        let r = &mut self.rng;
        let w = match r.random_range(0..7) {
            0 => Win::Global,
            1 | 2 => {
                let size = r.random_range(1..90);
                Win::Fixed { size, offset: r.random_range(0..size) }
            }
            3 | 4 => {
                let period = r.random_range(1..40);
                Win::Sliding { size: period * r.random_range(1..=3), period }
            }
            _ => Win::Sessions { gap: r.random_range(1..30) },
        };
        self.push(Op::Window(w));
    }

    fn aggregate(&mut self) {
        let r = &mut self.rng;
        let mut op = match r.random_range(0..5) {
            0 | 1 => Op::Group { keys: r.random_range(1..200) },
            2 | 3 => Op::CombinePerKey { keys: r.random_range(1..200) },
            _ => Op::CombineGlobally,
        };
        // State is per window, and windows that merge (sessions) have none
        // here, as on most of Beam's runners.
        if self.stateful && !matches!(self.win, Win::Sessions { .. }) && self.rng.random_bool(0.7) {
            op = Op::Stateful { keys: self.rng.random_range(1..200) };
        }
        self.push(op);
    }
}

fn window_fn(w: Win) -> WindowFn {
    let d = |s: i64| Duration::from_secs(s as u64);
    match w {
        Win::Global => WindowFn::global(),
        Win::Fixed { size, offset } => WindowFn::fixed_with_offset(d(size), d(offset)),
        Win::Sliding { size, period } => WindowFn::sliding(d(size), d(period)),
        Win::Sessions { gap } => WindowFn::sessions(d(gap)),
    }
}

/// The windows of an element at `t` (micros).
fn assign(w: Win, t: i64) -> Vec<Span> {
    match w {
        Win::Global => vec![None],
        Win::Fixed { size, offset } => {
            let (size, offset) = (size * SEC, offset * SEC);
            let start = t - (t - offset).rem_euclid(size);
            vec![Some((start, start + size))]
        }
        Win::Sliding { size, period } => {
            let (size, period) = (size * SEC, period * SEC);
            let mut start = t - t.rem_euclid(period);
            let mut out = Vec::new();
            while start > t - size {
                out.push(Some((start, start + size)));
                start -= period;
            }
            out
        }
        Win::Sessions { gap } => vec![Some((t, t + gap * SEC))],
    }
}

/// Groups by `v mod keys` and window (merging sessions per key), reducing
/// each group with `f`; outputs sit at the end of their window.
fn group(xs: &[Elem], keys: i64, win: Win, f: impl Fn(i64, &[i64]) -> i64) -> Vec<Elem> {
    let mut per_key: BTreeMap<i64, Vec<(Span, i64)>> = BTreeMap::new();
    for (v, _, w) in xs {
        per_key.entry(v.rem_euclid(keys)).or_default().push((*w, *v));
    }
    let mut out = Vec::new();
    for (k, mut items) in per_key {
        if matches!(win, Win::Sessions { .. }) {
            items.sort_by_key(|(w, _)| *w);
            let mut merged: Vec<((i64, i64), Vec<i64>)> = Vec::new();
            for (w, v) in items {
                let (s, e) = w.unwrap_or((i64::MIN, i64::MAX));
                match merged.last_mut() {
                    Some(((ms, me), vs)) if s < *me && *ms < e => {
                        *me = (*me).max(e);
                        vs.push(v);
                    }
                    _ => merged.push(((s, e), vec![v])),
                }
            }
            for (w, vs) in merged {
                out.push((f(k, &vs), w.1 - 1, Some(w)));
            }
        } else {
            let mut by_window: BTreeMap<Span, Vec<i64>> = BTreeMap::new();
            for (w, v) in items {
                by_window.entry(w).or_default().push(v);
            }
            for (w, vs) in by_window {
                let ts = match w {
                    None => Timestamp::END_OF_GLOBAL_WINDOW.as_micros(),
                    Some((_, e)) => e - 1,
                };
                out.push((f(k, &vs), ts, w));
            }
        }
    }
    out
}

/// What the stateful step emits for a key with `count` values summing to `sum`.
fn running_sum(k: i64, sum: i64, count: i64) -> i64 {
    (k * 11 + sum * 5 + count).rem_euclid(MODULUS)
}

/// A running count and sum per key and window in a value cell; a timer at the
/// end of the window emits [`running_sum`].
#[derive(Clone, Default, Serialize, Deserialize)]
struct RunningSum {
    acc: ValueState<(i64, i64)>,
    flush: Timer,
}

impl StatefulDoFn for RunningSum {
    type Key = i64;
    type Value = i64;
    type Out = i64;
    fn declare(&mut self, specs: &mut StateSpecs) {
        self.acc = specs.value("acc");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }
    fn process(&mut self, _: &i64, v: &i64, ctx: &mut StateContext<'_, i64, i64>) -> Result<(), DoFnError> {
        let mut acc = ctx.value(&self.acc)?;
        let (sum, count) = acc.read().unwrap_or((0, 0));
        acc.write((sum + v, count + 1));
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }
    fn on_timer(&mut self, _: &FiredTimer, ctx: &mut StateContext<'_, i64, i64>) -> Result<(), DoFnError> {
        let (sum, count) = ctx.value(&self.acc)?.read().unwrap_or((0, 0));
        let k = *ctx.key();
        ctx.emit(running_sum(k, sum, count));
        Ok(())
    }
}

fn reduce(k: i64, vs: &[i64]) -> i64 {
    (k * 7 + vs.iter().sum::<i64>() * 3 + vs.len() as i64).rem_euclid(MODULUS)
}

/// `v -> (v * mul + add) mod modulo`.
#[derive(Clone, Serialize, Deserialize)]
struct Affine {
    mul: i64,
    add: i64,
    modulo: i64,
}

impl DoFn for Affine {
    type In = i64;
    type Out = i64;
    fn process(&mut self, v: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit((v * self.mul + self.add).rem_euclid(self.modulo));
        Ok(())
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct DropRemainder {
    k: i64,
    r: i64,
}

impl DoFn for DropRemainder {
    type In = i64;
    type Out = i64;
    fn process(&mut self, v: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        if v.rem_euclid(self.k) != self.r {
            ctx.emit(*v);
        }
        Ok(())
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Spread {
    copies: i64,
}

impl DoFn for Spread {
    type In = i64;
    type Out = i64;
    fn process(&mut self, v: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        for i in 0..self.copies {
            ctx.emit(v + i);
        }
        Ok(())
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Delay;

impl DoFn for Delay {
    type In = i64;
    type Out = i64;
    fn process(&mut self, v: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        let ts = ctx.timestamp().plus_micros(v.rem_euclid(5) * SEC);
        ctx.emit_with_timestamp(*v, ts);
        Ok(())
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Reduce;

impl DoFn for Reduce {
    type In = (i64, Vec<i64>);
    type Out = i64;
    fn process(&mut self, kv: &(i64, Vec<i64>), ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit(reduce(kv.0, &kv.1));
        Ok(())
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Fold;

impl DoFn for Fold {
    type In = (i64, i64);
    type Out = i64;
    fn process(&mut self, kv: &(i64, i64), ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit((kv.0 * 7 + kv.1).rem_euclid(MODULUS));
        Ok(())
    }
}

/// An order-independent digest of the answer, reported as counters.
#[derive(Clone, Serialize, Deserialize)]
struct Digest;

impl DoFn for Digest {
    type In = (i64, Timestamp, Window);
    type Out = ();
    fn process(&mut self, e: &(i64, Timestamp, Window), ctx: &mut ProcessContext<'_, ()>) -> Result<(), DoFnError> {
        let h = beamline::key_hash(e);
        let m = ctx.metrics();
        m.inc_counter("count", 1);
        m.inc_counter("lo", (h & 0xffff) as i64);
        m.inc_counter("hi", ((h >> 16) & 0xffff) as i64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds give chains worth running: every kind of step, sessions
    /// under an aggregation, and mostly non-empty answers.
    #[test]
    fn the_cases_cover_every_kind_of_step() {
        let cases: Vec<Case> = (0..CASES).map(Case::generate).collect();
        let ops: Vec<Op> = cases.iter().flat_map(|c| c.ops.iter().copied()).collect();
        let kinds: [fn(&Op) -> bool; 12] = [
            |o| matches!(o, Op::Map { .. }),
            |o| matches!(o, Op::Filter { .. }),
            |o| matches!(o, Op::FlatMap { .. }),
            |o| matches!(o, Op::Delay),
            |o| matches!(o, Op::Group { .. }),
            |o| matches!(o, Op::CombinePerKey { .. }),
            |o| matches!(o, Op::CombineGlobally),
            |o| matches!(o, Op::Flatten { .. }),
            |o| matches!(o, Op::Window(Win::Global)),
            |o| matches!(o, Op::Window(Win::Fixed { .. })),
            |o| matches!(o, Op::Window(Win::Sliding { .. })),
            |o| matches!(o, Op::Window(Win::Sessions { .. })),
        ];
        for (i, kind) in kinds.iter().enumerate() {
            assert!(ops.iter().any(kind), "no random pipeline has a step of kind {i}");
        }
        assert!(cases.iter().any(|c| c.requirements().contains(&MERGING_WINDOWS)));
        let non_empty = cases.iter().filter(|c| !c.expected().is_empty()).count();
        assert!(non_empty * 4 >= cases.len() * 3, "only {non_empty} of {} answers are non-empty", cases.len());
        assert!(!ops.iter().any(|o| matches!(o, Op::Stateful { .. })), "a plain random pipeline has a stateful step");
    }

    /// Every stateful case has a stateful step, none after sessions; they
    /// cover several windowings and mostly give non-empty answers.
    #[test]
    fn the_stateful_cases_have_stateful_steps() {
        let cases: Vec<Case> = (0..STATEFUL_CASES).map(Case::generate_stateful).collect();
        let mut windows = std::collections::BTreeSet::new();
        for c in &cases {
            assert!(c.ops.iter().any(|o| matches!(o, Op::Stateful { .. })));
            assert!(c.requirements().contains(&STATEFUL_PROCESSING) && c.requirements().contains(&TIMERS));
            let mut win = "global";
            for op in &c.ops {
                match op {
                    Op::Window(Win::Global) => win = "global",
                    Op::Window(Win::Fixed { .. }) => win = "fixed",
                    Op::Window(Win::Sliding { .. }) => win = "sliding",
                    Op::Window(Win::Sessions { .. }) => win = "sessions",
                    Op::Stateful { .. } => {
                        assert_ne!(win, "sessions", "a stateful step after sessions");
                        windows.insert(win);
                    }
                    _ => {}
                }
            }
        }
        assert!(windows.len() >= 2, "the stateful steps only see {windows:?} windows");
        let non_empty = cases.iter().filter(|c| !c.expected().is_empty()).count();
        assert!(non_empty * 4 >= cases.len() * 3, "only {non_empty} of {} answers are non-empty", cases.len());
    }
}
