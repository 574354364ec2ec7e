//! Keyed state and timers on the timely runner: a per-key count written as a
//! [`StatefulParDo`] (a `ValueState<u64>` counter and one event-time timer
//! per key and window, set to the window's end, that emits `(key, count)`
//! when it fires) against the same count as `Count::per_key` (a combine the
//! runner lifts), with a hand-written `FxHashMap` count for context.
//!
//! The input is [`GenerateSequence`] (unpaced, `count(events)`, element `n`
//! at event time `n` µs) keyed `n % keys` with a unit value; with
//! [`CountSpec::windows`] > 0 it is cut into that many fixed windows of
//! `events / windows` µs (each window holds every key when it has at least
//! `keys` events), else it stays in the global window. Either pipeline ends
//! in `Tally`, a sink ParDo summing the counts and hashing every
//! `(window, key, count)`; the run's [`Tally`] is written to a file and must
//! equal the hand-written count's. The sink reports through process-wide
//! state, so runs in one process are serialized by a lock.
//!
//! Both pipeline shapes run as [`Workload`] setups named
//! `lifted-timely-N` and `stateful-timely-N` ([`setup`]), so the harness
//! interleaves them repetition by repetition and runs each in a fresh child
//! process.
//!
//! # Examples
//! ```
//! use beamline_benchmarks::stateful::{self, CountSpec, Shape};
//! let spec = CountSpec { events: 20_000, keys: 100, windows: 4 };
//! let expected = stateful::hand_written(&spec);
//! assert_eq!((expected.events, expected.outputs), (20_000, 400));
//! for shape in [Shape::Lifted, Shape::Stateful] {
//!     let got = stateful::run(&spec, &stateful::setup(shape, 2)).unwrap();
//!     assert_eq!(got, expected);
//! }
//! ```

use crate::combine::{splitmix64, verify_lines, write_line};
use crate::error::{BenchError, Result};
use crate::harness::{self, Measurement, Workload};
use crate::setup::{linked_runners, RunnerSetup};
use crate::stats::Summary;
use crate::units::count_label;
use beamline::io::GenerateSequence;
use beamline::prelude::*;
use beamline::state::{StateSpecs, Timer, ValueState};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The name of the output file.
const OUTPUT: &str = "tally";

/// The largest stateful / lifted time ratio the project asks of the per-key count.
pub const GOAL_RATIO: f64 = 2.0;

/// The input: how many events, keys and windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountSpec {
    /// Elements generated: element `n` has key `n % keys` and event time `n` µs.
    pub events: u64,
    /// Distinct keys.
    pub keys: u64,
    /// Fixed windows the events are cut into (`events / windows` µs each,
    /// rounded up); 0: no windowing (the global window).
    pub windows: u64,
}

impl CountSpec {
    /// The fixed windows' size in µs; `None` for the global window.
    ///
    /// # Examples
    /// ```
    /// use beamline_benchmarks::stateful::CountSpec;
    /// assert_eq!(CountSpec { events: 1_000_000, keys: 10, windows: 10 }.window_us(), Some(100_000));
    /// assert_eq!(CountSpec { events: 10, keys: 10, windows: 0 }.window_us(), None);
    /// ```
    pub fn window_us(&self) -> Option<i64> {
        (self.windows > 0).then(|| self.events.div_ceil(self.windows).max(1) as i64)
    }

    /// The `(window, key, count)` outputs of the count: the timers the
    /// stateful pipeline fires (one per key and window).
    ///
    /// # Examples
    /// ```
    /// use beamline_benchmarks::stateful::CountSpec;
    /// assert_eq!(CountSpec { events: 1_000_000, keys: 100_000, windows: 10 }.outputs(), 1_000_000);
    /// assert_eq!(CountSpec { events: 2_000_000, keys: 10_000, windows: 0 }.outputs(), 10_000);
    /// assert_eq!(CountSpec { events: 5, keys: 10, windows: 0 }.outputs(), 5);
    /// ```
    pub fn outputs(&self) -> u64 {
        match self.window_us() {
            None => self.events.min(self.keys),
            Some(w) => {
                let w = w as u64;
                // A window of `len` consecutive indexes holds min(len, keys) keys.
                (0..self.events.div_ceil(w)).map(|i| (self.events - i * w).min(w).min(self.keys)).sum()
            }
        }
    }

    fn check(&self) -> Result<()> {
        if self.events == 0 || self.keys == 0 {
            return Err(BenchError::Invalid("events and keys must be at least 1".into()));
        }
        Ok(())
    }
}

/// What a count produced: compared between the pipelines and the hand-written count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Sum of all counts: the events counted.
    pub events: u64,
    /// `(window, key, count)` outputs.
    pub outputs: u64,
    /// Wrapping sum of a hash of every output (equal digests, equal outputs, almost surely).
    pub digest: u64,
}

impl Tally {
    /// Adds one output; `window` is its window's start in µs ([`GLOBAL`] for the global window).
    #[inline]
    pub fn add(&mut self, window: i64, key: u64, count: u64) {
        self.events += count;
        self.outputs += 1;
        self.digest = self.digest.wrapping_add(splitmix64(splitmix64(splitmix64(window as u64) ^ key) ^ count));
    }

    /// The output line: `events=… outputs=… digest=…`.
    ///
    /// # Examples
    /// ```
    /// let mut t = beamline_benchmarks::stateful::Tally::default();
    /// t.add(0, 1, 2);
    /// assert!(t.line().starts_with("events=2 outputs=1 digest="));
    /// ```
    pub fn line(&self) -> String {
        format!("events={} outputs={} digest={:016x}", self.events, self.outputs, self.digest)
    }
}

/// The window start [`Tally::add`] is given for the global window.
pub const GLOBAL: i64 = i64::MIN;

/// The hand-written count on one thread: the same elements in the same order
/// (`n % keys`, window `n / window_us`), counted in one `FxHashMap<u64, u64>`
/// per window, each window's counts tallied when the next window starts.
///
/// # Examples
/// ```
/// use beamline_benchmarks::stateful::{hand_written, CountSpec};
/// let t = hand_written(&CountSpec { events: 1000, keys: 10, windows: 0 });
/// assert_eq!((t.events, t.outputs), (1000, 10));
/// ```
pub fn hand_written(spec: &CountSpec) -> Tally {
    let mut tally = Tally::default();
    let mut counts: FxHashMap<u64, u64> = FxHashMap::default();
    let mut flush = |window: i64, counts: &mut FxHashMap<u64, u64>| {
        for (key, n) in counts.drain() {
            tally.add(window, key, n);
        }
    };
    match spec.window_us() {
        None => {
            for n in 0..spec.events {
                *counts.entry(n % spec.keys).or_insert(0) += 1;
            }
            flush(GLOBAL, &mut counts);
        }
        Some(size) => {
            let mut open = 0i64;
            let mut end = size;
            for n in 0..spec.events {
                let ts = n as i64;
                if ts >= end {
                    flush(open, &mut counts);
                    open = ts.div_euclid(size) * size;
                    end = open + size;
                }
                *counts.entry(n % spec.keys).or_insert(0) += 1;
            }
            flush(open, &mut counts);
        }
    }
    tally
}

/// How the pipeline counts per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `Count::per_key()`: a combine, lifted by the runner (pre-combined before the shuffle).
    Lifted,
    /// `StatefulParDo::of(`[`CountFn`]`)`: a `ValueState<u64>` per key and window and one event-time timer.
    Stateful,
}

impl Shape {
    /// `lifted` or `stateful`: the prefix of its setups' names.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Lifted => "lifted",
            Shape::Stateful => "stateful",
        }
    }

    /// What the pipeline counts with, for reports.
    pub fn description(self) -> &'static str {
        match self {
            Shape::Lifted => "`Count::per_key()` (lifted combine)",
            Shape::Stateful => "`StatefulParDo` (`ValueState<u64>` + one event-time timer per key and window)",
        }
    }
}

/// The timely runner in one process on `workers` threads counting with
/// `shape`: `lifted-timely-N` or `stateful-timely-N`.
///
/// # Examples
/// ```
/// use beamline_benchmarks::stateful::{setup, setup_by_name, Shape};
/// let s = setup(Shape::Stateful, 2);
/// assert_eq!((s.name.as_str(), s.runner.as_str(), s.workers), ("stateful-timely-2", "timely", Some(2)));
/// assert_eq!(setup_by_name("lifted-timely-1").unwrap(), setup(Shape::Lifted, 1));
/// assert!(setup_by_name("timely-1").is_err());
/// ```
pub fn setup(shape: Shape, workers: usize) -> RunnerSetup {
    let mut s = RunnerSetup::timely(workers);
    s.name = format!("{}-{}", shape.name(), s.name);
    s.description = format!("{}, timely runner, one process, --workers={workers}", shape.description());
    s
}

/// The setup [`setup`] names `name`.
pub fn setup_by_name(name: &str) -> Result<RunnerSetup> {
    let bad = || BenchError::Invalid(format!("unknown setup '{name}'; expected lifted-timely-N or stateful-timely-N"));
    let (shape, rest) = match name.split_once('-') {
        Some(("lifted", rest)) => (Shape::Lifted, rest),
        Some(("stateful", rest)) => (Shape::Stateful, rest),
        _ => return Err(bad()),
    };
    let workers: usize =
        rest.strip_prefix("timely-").and_then(|w| w.parse().ok()).filter(|&w| w > 0).ok_or_else(bad)?;
    Ok(setup(shape, workers))
}

/// The shape a setup of [`setup`] counts with.
fn shape_of(setup: &RunnerSetup) -> Result<Shape> {
    match setup.name.split_once('-') {
        Some(("lifted", _)) => Ok(Shape::Lifted),
        Some(("stateful", _)) => Ok(Shape::Stateful),
        _ => Err(BenchError::Invalid(format!("setup '{}' says neither lifted nor stateful", setup.name))),
    }
}

/// The stateful count: a `ValueState<u64>` counter per key and window, and
/// one event-time timer set to the window's end at every element; when it
/// fires it emits `(key, count)`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CountFn {
    count: ValueState<u64>,
    flush: Timer,
}

impl StatefulDoFn for CountFn {
    type Key = u64;
    type Value = ();
    type Out = (u64, u64);

    fn declare(&mut self, specs: &mut StateSpecs) {
        self.count = specs.value("count");
        self.flush = specs.timer("flush", TimeDomain::EventTime);
    }

    #[inline]
    fn process(
        &mut self,
        _key: &u64,
        _value: &(),
        ctx: &mut StateContext<'_, u64, (u64, u64)>,
    ) -> std::result::Result<(), DoFnError> {
        let mut count = ctx.value(&self.count)?;
        let n = count.read().unwrap_or(0) + 1;
        count.write(n);
        let end = ctx.window().max_timestamp();
        ctx.timer(&self.flush)?.set(end)
    }

    fn on_timer(
        &mut self,
        _timer: &FiredTimer,
        ctx: &mut StateContext<'_, u64, (u64, u64)>,
    ) -> std::result::Result<(), DoFnError> {
        let n = ctx.value(&self.count)?.read().unwrap_or(0);
        let key = *ctx.key();
        ctx.emit((key, n));
        Ok(())
    }
}

/// `n` into `(n % keys, ())`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeyFn {
    keys: u64,
}

impl DoFn for KeyFn {
    type In = u64;
    type Out = (u64, ());
    #[inline]
    fn process(&mut self, n: &u64, ctx: &mut ProcessContext<'_, (u64, ())>) -> std::result::Result<(), DoFnError> {
        ctx.emit((n % self.keys, ()));
        Ok(())
    }
}

/// Serializes runs in one process: the sink reports through the statics below.
static RUN: Mutex<()> = Mutex::new(());
static EVENTS: AtomicU64 = AtomicU64::new(0);
static OUTPUTS: AtomicU64 = AtomicU64::new(0);
static DIGEST: AtomicU64 = AtomicU64::new(0);

/// The sink: tallies the `(key, count)` outputs with their windows and adds
/// each bundle's tally to the statics.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct TallyFn {
    #[serde(skip)]
    tally: Tally,
}

impl DoFn for TallyFn {
    type In = (u64, u64);
    type Out = ();
    #[inline]
    fn process(
        &mut self,
        (key, n): &(u64, u64),
        ctx: &mut ProcessContext<'_, ()>,
    ) -> std::result::Result<(), DoFnError> {
        let window = match ctx.window() {
            Window::Global => GLOBAL,
            Window::Interval { start, .. } => start.as_micros(),
        };
        self.tally.add(window, *key, *n);
        Ok(())
    }
    fn finish_bundle(&mut self, _ctx: &mut FinishBundleContext<'_, ()>) -> std::result::Result<(), DoFnError> {
        let t = std::mem::take(&mut self.tally);
        EVENTS.fetch_add(t.events, Ordering::Relaxed);
        OUTPUTS.fetch_add(t.outputs, Ordering::Relaxed);
        DIGEST.fetch_add(t.digest, Ordering::Relaxed);
        Ok(())
    }
}

/// Runs the count of `spec` on `setup` (one of [`setup`]'s) and returns what reached the sink.
pub fn run(spec: &CountSpec, setup: &RunnerSetup) -> Result<Tally> {
    spec.check()?;
    let shape = shape_of(setup)?;
    let _serial = RUN.lock().unwrap_or_else(PoisonError::into_inner);
    for s in [&EVENTS, &OUTPUTS, &DIGEST] {
        s.store(0, Ordering::Relaxed);
    }
    let mut options = setup.options();
    // The global-window workload groups a finite unbounded sequence, which
    // fires once when the watermark reaches the end; Beam refuses such a
    // GroupByKey unless told to allow it, and so do we.
    options.allow_unsafe_triggers = spec.window_us().is_none();
    let p = Pipeline::new(options, linked_runners());
    let events = GenerateSequence::new()
        .rate(0.0)
        .count(spec.events)
        .event_times(Timestamp::from_micros(0), Duration::from_micros(1));
    let mut keyed = p.apply_named("Events", events).apply_named("Key", ParDo::of(KeyFn { keys: spec.keys }));
    if let Some(size) = spec.window_us() {
        keyed = keyed.apply_named("Window", WindowInto::new(WindowFn::fixed(Duration::from_micros(size as u64))));
    }
    let counts = match shape {
        Shape::Lifted => keyed.apply_named("Count", Count::per_key::<u64, ()>()),
        Shape::Stateful => keyed.apply_named("Count", StatefulParDo::of(CountFn::default())),
    };
    let _ = counts.apply_named("Tally", ParDo::of(TallyFn::default()));
    p.run().map_err(|source| BenchError::Pipeline { setup: setup.name.clone(), source })?;
    Ok(Tally {
        events: EVENTS.load(Ordering::Relaxed),
        outputs: OUTPUTS.load(Ordering::Relaxed),
        digest: DIGEST.load(Ordering::Relaxed),
    })
}

/// The per-key count of [`CountSpec`] as a harness workload: the hand-written
/// count as the baseline, [`setup`]'s setups as the pipelines.
#[derive(Debug, Clone)]
pub struct StatefulCountBench {
    spec: CountSpec,
}

impl StatefulCountBench {
    /// The count of `spec`.
    pub fn new(spec: CountSpec) -> Result<Self> {
        spec.check()?;
        Ok(StatefulCountBench { spec })
    }

    /// Its input.
    pub fn spec(&self) -> CountSpec {
        self.spec
    }
}

impl Workload for StatefulCountBench {
    fn name(&self) -> String {
        let s = &self.spec;
        match s.windows {
            0 => {
                format!("count per key: {} events, {} keys, global window", count_label(s.events), count_label(s.keys))
            }
            w => format!(
                "timer-heavy: {} events, {} keys, {w} fixed windows",
                count_label(s.events),
                count_label(s.keys)
            ),
        }
    }

    fn input_description(&self) -> String {
        let s = &self.spec;
        let windows = match s.window_us() {
            None => "no windowing (the global window: one timer per key, fired at the end of input)".to_string(),
            Some(w) => format!(
                "`WindowInto(fixed({w} µs))`: {} windows, one timer per key and window ({} timers)",
                s.windows,
                s.outputs()
            ),
        };
        format!(
            "`GenerateSequence::new().rate(0).count({}).event_times(0, 1 µs)` → `(n % {}, ())` → {windows} → \
             count per key → a sink tallying the {} `(window, key, count)` outputs",
            s.events,
            s.keys,
            s.outputs()
        )
    }

    fn items(&self) -> u64 {
        self.spec.events
    }

    fn unit(&self) -> &'static str {
        "events"
    }

    fn run_baseline(&self, _b: &harness::Baseline, out_dir: &Path) -> Result<()> {
        write_line(&out_dir.join(OUTPUT), &hand_written(&self.spec).line())
    }

    fn run_pipeline(&self, setup: &RunnerSetup, out_dir: &Path) -> Result<()> {
        write_line(&out_dir.join(OUTPUT), &run(&self.spec, setup)?.line())
    }

    fn verify(&self, variant: &str, baseline_dir: &Path, actual_dir: &Path) -> Result<()> {
        verify_lines(&self.name(), variant, baseline_dir, actual_dir)
    }
}

/// The setups of both shapes on each worker count, lifted first.
pub fn setups(workers: &[usize]) -> Vec<RunnerSetup> {
    workers.iter().flat_map(|&w| [setup(Shape::Lifted, w), setup(Shape::Stateful, w)]).collect()
}

/// One worker count's stateful run against its lifted run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapeRatio {
    /// Timely workers.
    pub workers: usize,
    /// Median wall seconds of the lifted count.
    pub lifted: f64,
    /// Median wall seconds of the stateful count.
    pub stateful: f64,
    /// Median stateful seconds / median lifted seconds.
    pub ratio_of_medians: f64,
    /// Median over repetitions of (stateful / lifted of the same repetition).
    pub median_paired_ratio: f64,
    /// Median CPU seconds (the process's user + system time) of the lifted count, when known.
    pub lifted_cpu: Option<f64>,
    /// Median CPU seconds of the stateful count, when known.
    pub stateful_cpu: Option<f64>,
}

impl ShapeRatio {
    /// Median stateful CPU time / median lifted CPU time: the ratio of the
    /// work done, which the machine's other load changes less than the wall
    /// times. `None` when unknown or when the lifted run took under 50 ms of
    /// CPU (the OS counts CPU time in 10 ms ticks).
    pub fn cpu_ratio(&self) -> Option<f64> {
        let lifted = self.lifted_cpu.filter(|&c| c >= 0.05)?;
        Some(self.stateful_cpu? / lifted)
    }
}

/// The stateful / lifted ratio of every worker count measured with both shapes.
///
/// # Examples
/// ```
/// use beamline_benchmarks::stateful::{quick_check, shape_ratios};
/// let dir = std::env::temp_dir().join(format!("beamline-stateful-doc-{}", std::process::id()));
/// let ms = quick_check(&dir, 10_000, 100, 1_000, 50, 4).unwrap();
/// let r = shape_ratios(&ms[0]);
/// assert_eq!(r.iter().map(|r| r.workers).collect::<Vec<_>>(), vec![1, 2]);
/// assert!(r[0].median_paired_ratio > 0.0);
/// let _ = std::fs::remove_dir_all(&dir);
/// ```
pub fn shape_ratios(m: &Measurement) -> Vec<ShapeRatio> {
    let find = |shape: Shape, w: usize| {
        m.setups.iter().find(|(s, _)| s.workers == Some(w) && shape_of(s).ok() == Some(shape)).map(|(_, v)| v)
    };
    let mut workers: Vec<usize> = m.setups.iter().filter_map(|(s, _)| s.workers).collect();
    workers.dedup();
    workers
        .into_iter()
        .filter_map(|w| {
            let (lifted, stateful) = (find(Shape::Lifted, w)?, find(Shape::Stateful, w)?);
            let (l, s) = (Summary::of(lifted)?, Summary::of(stateful)?);
            let paired: Vec<f64> = stateful
                .iter()
                .zip(lifted)
                .map(|(s, l)| s.wall.as_secs_f64() / l.wall.as_secs_f64().max(1e-9))
                .collect();
            Some(ShapeRatio {
                workers: w,
                lifted: l.median,
                stateful: s.median,
                ratio_of_medians: s.median / l.median.max(1e-9),
                median_paired_ratio: crate::stats::median(&paired)?,
                lifted_cpu: l.cpu_median,
                stateful_cpu: s.cpu_median,
            })
        })
        .collect()
}

/// The quick check: the count per key (`count_events` events over
/// `count_keys` keys, global window) and the timer-heavy count
/// (`timer_events` over `timer_keys` keys in `windows` fixed windows), one
/// repetition in this process, lifted and stateful on `timely-1` and
/// `timely-2`, every output verified against the hand-written count (so the
/// stateful and lifted outputs agree); no timing asserted.
pub fn quick_check(
    dir: &Path,
    count_events: u64,
    count_keys: u64,
    timer_events: u64,
    timer_keys: u64,
    windows: u64,
) -> Result<Vec<Measurement>> {
    let specs = [
        CountSpec { events: count_events, keys: count_keys, windows: 0 },
        CountSpec { events: timer_events, keys: timer_keys, windows },
    ];
    specs
        .iter()
        .map(|&spec| {
            let w = StatefulCountBench::new(spec)?;
            harness::measure(&w, &setups(&[1, 2]), 1, &dir.join("scratch"), &harness::InProcess)
        })
        .collect()
}
