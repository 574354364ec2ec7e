//! The streaming benchmark: a fixed-window count per key over
//! [`GenerateSequence`] on the timely runner, for its highest sustained rate
//! (unpaced, against a hand-written loop doing the same counting) and for the
//! latency from the watermark passing a window's end to the window's counts
//! reaching the sink (paced, event time tied to the wall clock).
//!
//! The pipeline is `Events` → `Key` (`n % keys`) → `Window` (fixed) →
//! `Count` (`Count::per_key`) → `Tally`, a sink that sums the counts and
//! notes when each window's counts arrived. The tallies of a run (events,
//! outputs and an order-independent digest of every `(window, key, count)`)
//! are compared with the hand-written count's, so a wrong total voids the
//! benchmark. The sink reports through process-wide state, so runs are
//! serialized by a lock.
//!
//! # Examples
//! ```
//! use beamline_benchmarks::streaming::{self, ThroughputSpec};
//! let spec = ThroughputSpec { events: 50_000, ..ThroughputSpec::default() };
//! let expected = streaming::baseline(&spec);
//! assert_eq!(expected.events, 50_000);
//! let run = streaming::run_throughput(&spec, 2).unwrap();
//! streaming::verify("timely-2", &expected, &run.tally).unwrap();
//! ```

use crate::error::{BenchError, Result};
use crate::stats::{self, Sample};
use beamline::io::GenerateSequence;
use beamline::prelude::*;
use beamline::{NoOptions, PaneTiming, PipelineOptions};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The unpaced count: how many events, their event times, keys and windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThroughputSpec {
    /// Elements generated (`GenerateSequence::count`).
    pub events: u64,
    /// Distinct keys: element `n` has key `n % keys`.
    pub keys: u64,
    /// Window size in event time, in microseconds.
    pub window_us: i64,
    /// Event time between consecutive elements, in microseconds.
    pub spacing_us: i64,
    /// Early firings every this much processing time (aligned to its
    /// multiples), accumulating; `None`: the default trigger.
    pub early: Option<Duration>,
}

impl Default for ThroughputSpec {
    /// 20 M events 1 µs apart from event time 0, 1000 keys, 100 ms windows
    /// (100 000 events and 1000 counts per window, 200 windows).
    fn default() -> Self {
        ThroughputSpec { events: 20_000_000, keys: 1000, window_us: 100_000, spacing_us: 1, early: None }
    }
}

/// What a count produced: checked equal between the pipeline and the baseline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Sum of all counts: the events counted.
    pub events: u64,
    /// `(window, key, count)` outputs.
    pub outputs: u64,
    /// Wrapping sum of a hash of every output: equal digests, equal outputs (almost surely).
    pub digest: u64,
}

impl Tally {
    fn add(&mut self, window_start: i64, key: u64, count: u64) {
        self.events += count;
        self.outputs += 1;
        self.digest = self.digest.wrapping_add(output_hash(window_start, key, count));
    }
}

/// A fixed hash of one output (SplitMix64's finalizer over its fields).
fn output_hash(window_start: i64, key: u64, count: u64) -> u64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    mix(mix(mix(window_start as u64) ^ key) ^ count)
}

/// Fails with a mismatch unless the pipeline's tally equals the baseline's.
///
/// # Examples
/// ```
/// use beamline_benchmarks::streaming::{verify, Tally};
/// let t = Tally { events: 3, outputs: 2, digest: 7 };
/// assert!(verify("timely-1", &t, &t).is_ok());
/// assert!(verify("timely-1", &t, &Tally { events: 2, ..t }).is_err());
/// ```
pub fn verify(setup: &str, expected: &Tally, got: &Tally) -> Result<()> {
    if expected == got {
        return Ok(());
    }
    Err(BenchError::Mismatch {
        workload: "streaming fixed-window count".into(),
        setup: setup.into(),
        detail: format!(
            "expected {} events in {} outputs (digest {:#x}), the sink saw {} events in {} outputs (digest {:#x})",
            expected.events, expected.outputs, expected.digest, got.events, got.outputs, got.digest
        ),
    })
}

/// Counts element indexes `first, first + stride, ...` per `(window, key)` in
/// event-time order, handing each window's counts to `emit` once an event
/// time passes its end (and the last window's at the end).
fn count_windows(
    spec: &ThroughputSpec,
    first: u64,
    stride: u64,
    mut emit: impl FnMut(i64, &mut FxHashMap<(i64, u64), u64>),
) {
    let size = spec.window_us;
    let mut counts: FxHashMap<(i64, u64), u64> = FxHashMap::default();
    // The open window and its end; the events are in order, so only one is open.
    let mut open: Option<i64> = None;
    let mut end = i64::MIN;
    let mut i = first;
    while i < spec.events {
        let ts = i as i64 * spec.spacing_us;
        if ts >= end {
            if let Some(w) = open {
                emit(w, &mut counts);
            }
            let w = ts.div_euclid(size) * size;
            open = Some(w);
            end = w + size;
        }
        *counts.entry((end - size, i % spec.keys)).or_insert(0) += 1;
        i += stride;
    }
    if let Some(w) = open {
        emit(w, &mut counts);
    }
}

/// The hand-written count on one thread: the same sequence and event times
/// as the generator, a window per event time, one `FxHashMap` per
/// `(window, key)`, each window emitted when the event time passes its end.
///
/// # Examples
/// ```
/// use beamline_benchmarks::streaming::{baseline, ThroughputSpec};
/// let t = baseline(&ThroughputSpec { events: 250_000, ..ThroughputSpec::default() });
/// // Three windows of 100 000 events, the last one half full; 1000 keys each.
/// assert_eq!((t.events, t.outputs), (250_000, 3000));
/// ```
pub fn baseline(spec: &ThroughputSpec) -> Tally {
    let mut tally = Tally::default();
    count_windows(spec, 0, 1, |_, counts| {
        for ((w, key), n) in counts.drain() {
            tally.add(w, key, n);
        }
    });
    tally
}

/// The hand-written count on `threads` threads: thread `t` counts elements
/// `t, t + threads, ...` (as the generator's readers split the sequence) and
/// sends each closed window's counts to this thread, which merges them and
/// emits a window once every thread has closed it.
///
/// # Examples
/// ```
/// use beamline_benchmarks::streaming::{baseline, baseline_threads, ThroughputSpec};
/// let spec = ThroughputSpec { events: 250_000, ..ThroughputSpec::default() };
/// assert_eq!(baseline_threads(&spec, 2), baseline(&spec));
/// ```
pub fn baseline_threads(spec: &ThroughputSpec, threads: usize) -> Tally {
    let threads = threads.max(1);
    let (tx, rx) = mpsc::channel::<(i64, Vec<((i64, u64), u64)>)>();
    let mut tally = Tally::default();
    std::thread::scope(|s| {
        for t in 0..threads {
            let tx = tx.clone();
            s.spawn(move || {
                count_windows(spec, t as u64, threads as u64, |w, counts| {
                    // The receiver outlives the senders: a send cannot fail.
                    let _ = tx.send((w, counts.drain().collect()));
                });
            });
        }
        drop(tx);
        let mut pending: BTreeMap<i64, (usize, FxHashMap<u64, u64>)> = BTreeMap::new();
        let flush = |w: i64, counts: FxHashMap<u64, u64>, tally: &mut Tally| {
            for (key, n) in counts {
                tally.add(w, key, n);
            }
        };
        for (w, counts) in rx {
            let entry = pending.entry(w).or_default();
            entry.0 += 1;
            for ((_, key), n) in counts {
                *entry.1.entry(key).or_insert(0) += n;
            }
            if entry.0 == threads {
                if let Some((_, counts)) = pending.remove(&w) {
                    flush(w, counts, &mut tally);
                }
            }
        }
        // Windows some thread never saw (none in the benchmark's sizes).
        for (w, (_, counts)) in std::mem::take(&mut pending) {
            flush(w, counts, &mut tally);
        }
    });
    tally
}

/// Serializes runs: the sink reports through the statics below.
static RUN: Mutex<()> = Mutex::new(());
static EVENTS: AtomicU64 = AtomicU64::new(0);
static OUTPUTS: AtomicU64 = AtomicU64::new(0);
static DIGEST: AtomicU64 = AtomicU64::new(0);
/// Per generator reader (`n % readers`, at most [`MAX_READERS`]): the smallest
/// `now - n / rate` over the first element of its `Key` bundles, in wall-clock
/// µs: when that reader's clock started (element `n` is due `n / rate` after
/// it, and never read before).
static ORIGINS: [AtomicI64; MAX_READERS] = [const { AtomicI64::new(i64::MAX) }; MAX_READERS];
/// Readers whose clocks are told apart; more share the last slot.
const MAX_READERS: usize = 64;
/// `(window end in event time µs, wall-clock µs its last count reached the sink)`,
/// one per window per bundle of the sink (a worker's share of a window's counts).
static PANES: Mutex<Vec<(i64, i64)>> = Mutex::new(Vec::new());
/// Early panes that reached the sink, and each one's lateness in µs: its
/// arrival minus the latest multiple of the early-firing period (when an
/// aligned firing was due; valid while that lateness stays under a period).
static EARLY: Mutex<Vec<i64>> = Mutex::new(Vec::new());
/// `(window end in event time µs, wall-clock µs)`: when a worker's `Key` step
/// saw its first element at or past that end (the paced runs only).
static CROSSINGS: Mutex<Vec<(i64, i64)>> = Mutex::new(Vec::new());
/// Nanoseconds the worker threads spent runnable but waiting for a core
/// (from `/proc/thread-self/schedstat`, between the `Key` step's setup and teardown).
static RUN_QUEUE_WAIT_NS: AtomicU64 = AtomicU64::new(0);
/// Bundles the `Key` step processed: events / bundles is the mean bundle the source handed on.
static KEY_BUNDLES: AtomicU64 = AtomicU64::new(0);

fn run_queue_wait() -> Duration {
    Duration::from_nanos(RUN_QUEUE_WAIT_NS.load(Ordering::Relaxed))
}

fn reset_statics() {
    EVENTS.store(0, Ordering::Relaxed);
    OUTPUTS.store(0, Ordering::Relaxed);
    DIGEST.store(0, Ordering::Relaxed);
    for origin in &ORIGINS {
        origin.store(i64::MAX, Ordering::Relaxed);
    }
    KEY_BUNDLES.store(0, Ordering::Relaxed);
    RUN_QUEUE_WAIT_NS.store(0, Ordering::Relaxed);
    CROSSINGS.lock().unwrap_or_else(PoisonError::into_inner).clear();
    PANES.lock().unwrap_or_else(PoisonError::into_inner).clear();
    EARLY.lock().unwrap_or_else(PoisonError::into_inner).clear();
}

/// How long this thread has waited on a run queue so far, in ns (Linux).
fn run_queue_wait_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().nth(1)?.parse().ok()
}

fn wall_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// `n` into `(n % keys, ())`. With a `rate` (a paced run) it also notes when
/// each generator reader's clock started (see [`ORIGINS`]), from the first element of
/// each bundle, and when each window's end was crossed (see [`CROSSINGS`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeyFn {
    keys: u64,
    rate: f64,
    /// Readers the generator is split into (one per worker): reader `k` reads `n ≡ k`.
    readers: u64,
    window_us: i64,
    #[serde(skip)]
    fresh: bool,
    /// The end of the window of the latest element seen.
    #[serde(skip)]
    next_end: Option<i64>,
    /// This worker thread's run-queue wait at setup.
    #[serde(skip)]
    waited_at_setup: Option<u64>,
}

impl DoFn for KeyFn {
    type In = u64;
    type Out = (u64, ());
    fn setup(&mut self) -> std::result::Result<(), DoFnError> {
        self.waited_at_setup = run_queue_wait_ns();
        Ok(())
    }
    fn teardown(&mut self) -> std::result::Result<(), DoFnError> {
        if let (Some(before), Some(after)) = (self.waited_at_setup, run_queue_wait_ns()) {
            RUN_QUEUE_WAIT_NS.fetch_add(after.saturating_sub(before), Ordering::Relaxed);
        }
        Ok(())
    }
    fn start_bundle(&mut self) -> std::result::Result<(), DoFnError> {
        self.fresh = self.rate > 0.0;
        KEY_BUNDLES.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    #[inline]
    fn process(&mut self, n: &u64, ctx: &mut ProcessContext<'_, (u64, ())>) -> std::result::Result<(), DoFnError> {
        if self.rate > 0.0 {
            self.watch(*n, ctx.timestamp().as_micros());
        }
        ctx.emit((n % self.keys, ()));
        Ok(())
    }
}

impl KeyFn {
    /// The paced run's clocks: the generator's start, from the first element
    /// of a bundle; the crossing of a window's end, from every element.
    fn watch(&mut self, n: u64, ts: i64) {
        let crossed = self.next_end.is_some_and(|end| ts >= end);
        if !(self.fresh || crossed || self.next_end.is_none()) {
            return;
        }
        let now = wall_micros();
        if self.fresh {
            self.fresh = false;
            let reader = ((n % self.readers.max(1)) as usize).min(MAX_READERS - 1);
            ORIGINS[reader].fetch_min(now - (n as f64 * 1e6 / self.rate) as i64, Ordering::Relaxed);
        }
        let mut end = self.next_end.unwrap_or((ts.div_euclid(self.window_us) + 1) * self.window_us);
        if crossed {
            let mut crossings = CROSSINGS.lock().unwrap_or_else(PoisonError::into_inner);
            while ts >= end {
                crossings.push((end, now));
                end += self.window_us;
            }
        }
        self.next_end = Some(end);
    }
}

/// The sink: sums the counts and notes, per window, when its last count of
/// the bundle arrived.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct TallyFn {
    /// The early-firing period in µs (0: no early firings).
    early_us: i64,
    #[serde(skip)]
    tally: Tally,
    #[serde(skip)]
    panes: Vec<(i64, i64)>,
    #[serde(skip)]
    early: Vec<i64>,
}

impl DoFn for TallyFn {
    type In = (u64, u64);
    type Out = ();
    fn process(
        &mut self,
        (key, n): &(u64, u64),
        ctx: &mut ProcessContext<'_, ()>,
    ) -> std::result::Result<(), DoFnError> {
        let Window::Interval { start, end } = ctx.window() else {
            return Err(DoFnError::new("a count outside a fixed window"));
        };
        let now = wall_micros();
        if ctx.pane().timing() == PaneTiming::Early {
            // Accumulating: the on-time pane holds the whole count.
            self.early.push(now.rem_euclid(self.early_us.max(1)));
            return Ok(());
        }
        self.tally.add(start.as_micros(), *key, *n);
        let end = end.as_micros();
        match self.panes.iter_mut().find(|(e, _)| *e == end) {
            Some(pane) => pane.1 = now,
            None => self.panes.push((end, now)),
        }
        Ok(())
    }
    fn finish_bundle(&mut self, _ctx: &mut FinishBundleContext<'_, ()>) -> std::result::Result<(), DoFnError> {
        let t = std::mem::take(&mut self.tally);
        EVENTS.fetch_add(t.events, Ordering::Relaxed);
        OUTPUTS.fetch_add(t.outputs, Ordering::Relaxed);
        DIGEST.fetch_add(t.digest, Ordering::Relaxed);
        PANES.lock().unwrap_or_else(PoisonError::into_inner).append(&mut self.panes);
        EARLY.lock().unwrap_or_else(PoisonError::into_inner).append(&mut self.early);
        Ok(())
    }
}

/// A timely pipeline with `workers` worker threads and the extra runner `flags`.
fn timely_pipeline(workers: usize, flags: &[String]) -> Result<Pipeline> {
    let setup = format!("timely-{workers}");
    let mut args = vec!["streaming-bench".to_string(), "--runner=timely".into(), format!("--workers={workers}")];
    args.extend_from_slice(flags);
    let runners = beamline_timely::runners();
    let (options, NoOptions {}) = PipelineOptions::parse_from::<NoOptions>(args, &runners)
        .map_err(|source| BenchError::Pipeline { setup, source })?;
    Ok(Pipeline::new(options, runners))
}

/// `Events` → `Key` → `Window` → `Count` → `Tally` on `p`; with `early`,
/// the window fires early every `early` of processing time (aligned to its
/// multiples) and accumulates.
fn build(
    p: &Pipeline,
    events: GenerateSequence,
    keys: u64,
    window_us: i64,
    (rate, readers): (f64, usize),
    early: Option<Duration>,
) {
    let mut window = WindowInto::new(WindowFn::fixed(Duration::from_micros(window_us.max(1) as u64)));
    if let Some(period) = early {
        let every = Trigger::after_processing_time(Duration::ZERO).aligned_to(period, Duration::ZERO);
        window = window.triggering(Trigger::after_watermark().with_early_firings(every)).accumulating_fired_panes();
    }
    let early_us = early.map_or(0, |d| d.as_micros() as i64);
    let _ = p
        .apply_named("Events", events)
        .apply_named(
            "Key",
            ParDo::of(KeyFn {
                keys,
                rate,
                readers: readers as u64,
                window_us,
                fresh: false,
                next_end: None,
                waited_at_setup: None,
            }),
        )
        .apply_named("Window", window)
        .apply_named("Count", Count::per_key::<u64, ()>())
        .apply_named("Tally", ParDo::of(TallyFn { early_us, ..TallyFn::default() }));
}

/// What an unpaced run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThroughputRun {
    /// What reached the sink.
    pub tally: Tally,
    /// Wall and CPU time of `Pipeline::run`.
    pub sample: Sample,
    /// Time the worker threads spent runnable but waiting for a core (Linux
    /// schedstat; zero where unknown): how much the machine's other load took.
    pub run_queue_wait: Duration,
    /// Early panes that reached the sink (with [`ThroughputSpec::early`]).
    pub early_panes: usize,
}

/// Runs the count over the unpaced generator (`spec.events` elements) on
/// `workers` timely workers: what reached the sink, the time of
/// `Pipeline::run` (worker start to the last window's output) and how long
/// the workers waited for a core.
///
/// # Examples
/// ```
/// use beamline_benchmarks::streaming::{run_throughput, ThroughputSpec};
/// let spec = ThroughputSpec { events: 10_000, ..ThroughputSpec::default() };
/// let run = run_throughput(&spec, 1).unwrap();
/// assert_eq!((run.tally.events, run.tally.outputs), (10_000, 1000));
/// assert!(run.sample.wall.as_secs() < 60);
/// ```
pub fn run_throughput(spec: &ThroughputSpec, workers: usize) -> Result<ThroughputRun> {
    let _serial = RUN.lock().unwrap_or_else(PoisonError::into_inner);
    reset_statics();
    let p = timely_pipeline(workers, &[])?;
    let events = GenerateSequence::new()
        .rate(0.0)
        .count(spec.events)
        .event_times(Timestamp::from_micros(0), Duration::from_micros(spec.spacing_us as u64));
    build(&p, events, spec.keys, spec.window_us, (0.0, workers), spec.early);
    let (result, sample) = stats::time(|| p.run());
    result.map_err(|source| BenchError::Pipeline { setup: format!("timely-{workers}"), source })?;
    let tally = Tally {
        events: EVENTS.load(Ordering::Relaxed),
        outputs: OUTPUTS.load(Ordering::Relaxed),
        digest: DIGEST.load(Ordering::Relaxed),
    };
    let early_panes = EARLY.lock().unwrap_or_else(PoisonError::into_inner).len();
    Ok(ThroughputRun { tally, sample, run_queue_wait: run_queue_wait(), early_panes })
}

/// The paced run: `rate` events per second on `workers` workers for `duration`
/// (`--max-duration`), windows of `window` wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySpec {
    /// Events per second, over all workers.
    pub rate: f64,
    /// Timely worker threads.
    pub workers: usize,
    /// How long the run reads before it drains.
    pub duration: Duration,
    /// Distinct keys.
    pub keys: u64,
    /// Window size in wall-clock time (in event time it is scaled, see [`LatencyRun::scale`]).
    pub window: Duration,
    /// Early firings every this much processing time (aligned), accumulating.
    pub early: Option<Duration>,
}

/// What the paced run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyRun {
    /// The run's settings.
    pub spec: LatencySpec,
    /// Event time between elements in µs: `1e6 / rate` rounded, at least 1
    /// (the generator's spacing is whole microseconds).
    pub spacing_us: i64,
    /// Event seconds per wall-clock second (`spacing × rate`): 1 when the rate
    /// divides a million, more above a million events per second.
    pub scale: f64,
    /// Window size in event time, µs: `window × scale`.
    pub window_us: i64,
    /// Events that reached the sink (counted).
    pub events: u64,
    /// Wall time of `Pipeline::run`.
    pub wall: Duration,
    /// From the event time of element 0 (wall clock when the pipeline was
    /// built) to the generator's clock starting (its first reader's):
    /// worker start-up, left out of the latencies.
    pub startup: Duration,
    /// How much later the last reader's pacing clock started than the first's.
    /// Each worker splits the source on its own, so each worker's readers get
    /// a clock of their own, started at their first read: a reader that starts
    /// later stays that far behind its due times all run, and so does the
    /// watermark (the latencies are measured against the first clock).
    pub clock_skew: Duration,
    /// Latency of every pane in ms, sorted: when its window's last count of a
    /// sink bundle arrived, minus when the generator was due to emit the first
    /// element at or past the window's end (the watermark passes the end as
    /// that element is read). Panes of the last window (fired by the drain) are left out.
    pub latencies_ms: Vec<f64>,
    /// The first part of the latency, per window in ms, sorted: from the due
    /// time above to the `Key` step of the last worker seeing an element at
    /// or past the window's end (source scheduling and reading).
    pub read_lag_ms: Vec<f64>,
    /// The second part, per pane in ms, sorted: from that crossing to the
    /// pane's last count reaching the sink (watermark propagation, firing,
    /// the sink).
    pub fire_lag_ms: Vec<f64>,
    /// Windows the latencies cover.
    pub windows: usize,
    /// Panes left out: the last window's, fired by the drain at shutdown.
    pub drained: usize,
    /// The largest pane latencies in ms (at most 3, largest first), each with
    /// its window's number in the run (1: the first window).
    pub worst: Vec<(usize, f64)>,
    /// Bundles the `Key` step processed (`events / key_bundles`: elements per bundle).
    pub key_bundles: u64,
    /// Time the worker threads spent runnable but waiting for a core (Linux
    /// schedstat; zero where unknown).
    pub run_queue_wait: Duration,
    /// Early panes' latencies in ms, sorted (with [`LatencySpec::early`]):
    /// from when the aligned processing-time firing was due (the latest
    /// multiple of the period before the pane arrived) to the pane reaching
    /// the sink.
    pub early_latencies_ms: Vec<f64>,
    /// CPU time the hypervisor took from this (virtual) machine during the
    /// run, over all its cores (`steal` in `/proc/stat`, in 10 ms ticks), if known.
    pub steal: Option<Duration>,
}

impl LatencyRun {
    /// The events per second the generator achieved over the reading time
    /// (`duration` minus start-up): near `spec.rate` when the runner keeps up.
    pub fn delivered_rate(&self) -> f64 {
        self.events as f64 / self.spec.duration.saturating_sub(self.startup).as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile (0..=1) of the latencies in ms, nearest rank; `None` when there are none.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        quantile(&self.latencies_ms, q)
    }
}

/// The `q`-quantile (0..=1) of sorted values, nearest rank; `None` when empty.
///
/// # Examples
/// ```
/// use beamline_benchmarks::streaming::quantile;
/// let xs: Vec<f64> = (1..=100).map(f64::from).collect();
/// assert_eq!(quantile(&xs, 0.5), Some(50.0));
/// assert_eq!(quantile(&xs, 0.99), Some(99.0));
/// assert_eq!(quantile(&[], 0.5), None);
/// ```
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Runs the count over a paced generator whose event times follow the wall
/// clock (from now, `spacing` apart, in order) until `--max-duration`, and
/// measures each window's latency (see [`LatencyRun::latencies_ms`]).
///
/// # Examples
/// ```
/// use beamline_benchmarks::streaming::{run_latency, LatencySpec};
/// use std::time::Duration;
/// let spec = LatencySpec {
///     rate: 100_000.0,
///     workers: 1,
///     duration: Duration::from_millis(400),
///     keys: 10,
///     window: Duration::from_millis(50),
///     early: None,
/// };
/// let run = run_latency(&spec).unwrap();
/// assert!(run.windows >= 3 && run.quantile(0.99).is_some());
/// ```
pub fn run_latency(spec: &LatencySpec) -> Result<LatencyRun> {
    let _serial = RUN.lock().unwrap_or_else(PoisonError::into_inner);
    reset_statics();
    if !(spec.rate > 0.0 && spec.rate.is_finite()) {
        return Err(BenchError::Invalid(format!("the paced run needs a positive rate, not {}", spec.rate)));
    }
    let p = timely_pipeline(spec.workers, &[format!("--max-duration={}ms", spec.duration.as_millis())])?;
    let spacing_us = ((1e6 / spec.rate).round() as i64).max(1);
    let scale = spacing_us as f64 * spec.rate / 1e6;
    let window_us = ((spec.window.as_micros() as f64 * scale).round() as i64).max(1);
    let steal_before = steal_time();
    let start = wall_micros();
    let events = GenerateSequence::new()
        .rate(spec.rate)
        .event_times(Timestamp::from_micros(start), Duration::from_micros(spacing_us as u64))
        .out_of_order(Duration::ZERO);
    build(&p, events, spec.keys, window_us, (spec.rate, spec.workers), spec.early);
    let (result, sample) = stats::time(|| p.run());
    result.map_err(|source| BenchError::Pipeline { setup: format!("timely-{}", spec.workers), source })?;
    let origins: Vec<i64> = ORIGINS.iter().map(|o| o.load(Ordering::Relaxed)).filter(|&o| o != i64::MAX).collect();
    let (Some(&origin), Some(&latest)) = (origins.iter().min(), origins.iter().max()) else {
        return Err(BenchError::Invalid(format!("timely-{}: the paced run read no element", spec.workers)));
    };
    let panes = std::mem::take(&mut *PANES.lock().unwrap_or_else(PoisonError::into_inner));
    let last = panes.iter().map(|&(end, _)| end).max().unwrap_or(i64::MIN);
    let kept: Vec<&(i64, i64)> = panes.iter().filter(|&&(end, _)| end != last).collect();
    let mut ends: Vec<i64> = kept.iter().map(|&&(end, _)| end).collect();
    ends.sort_unstable();
    ends.dedup();
    // When the first element at or past a window's end was due, in wall-clock µs.
    let due = |end: i64| {
        let first_after = (end - start + spacing_us - 1).div_euclid(spacing_us).max(0);
        origin as f64 + first_after as f64 * 1e6 / spec.rate
    };
    // (window number, latency ms) of every pane.
    let mut by_pane: Vec<(usize, f64)> = kept
        .iter()
        .map(|&&(end, arrived)| (ends.partition_point(|&e| e < end) + 1, (arrived as f64 - due(end)) / 1e3))
        .collect();
    by_pane.sort_by(|a, b| b.1.total_cmp(&a.1));
    // When the last worker crossed each window's end.
    let mut crossed: BTreeMap<i64, i64> = BTreeMap::new();
    for (end, at) in std::mem::take(&mut *CROSSINGS.lock().unwrap_or_else(PoisonError::into_inner)) {
        let c = crossed.entry(end).or_insert(at);
        *c = (*c).max(at);
    }
    let mut read_lag_ms: Vec<f64> =
        ends.iter().filter_map(|end| crossed.get(end).map(|&at| (at as f64 - due(*end)) / 1e3)).collect();
    read_lag_ms.sort_by(f64::total_cmp);
    let mut fire_lag_ms: Vec<f64> =
        kept.iter().filter_map(|&&(end, arrived)| crossed.get(&end).map(|&at| (arrived - at) as f64 / 1e3)).collect();
    fire_lag_ms.sort_by(f64::total_cmp);
    let worst = by_pane.iter().take(3).copied().collect();
    let mut latencies_ms: Vec<f64> = by_pane.iter().map(|&(_, l)| l).collect();
    latencies_ms.sort_by(f64::total_cmp);
    let mut early_latencies_ms: Vec<f64> = std::mem::take(&mut *EARLY.lock().unwrap_or_else(PoisonError::into_inner))
        .into_iter()
        .map(|us| us as f64 / 1e3)
        .collect();
    early_latencies_ms.sort_by(f64::total_cmp);
    Ok(LatencyRun {
        spec: *spec,
        spacing_us,
        scale,
        window_us,
        events: EVENTS.load(Ordering::Relaxed),
        wall: sample.wall,
        startup: Duration::from_micros(origin.saturating_sub(start).max(0) as u64),
        clock_skew: Duration::from_micros((latest - origin) as u64),
        latencies_ms,
        read_lag_ms,
        fire_lag_ms,
        windows: ends.len(),
        drained: panes.len() - kept.len(),
        worst,
        key_bundles: KEY_BUNDLES.load(Ordering::Relaxed),
        run_queue_wait: run_queue_wait(),
        early_latencies_ms,
        steal: steal_before.zip(steal_time()).map(|(a, b)| b.saturating_sub(a)),
    })
}

/// CPU time the hypervisor has taken from this machine so far, over all its
/// cores (the `steal` column of `/proc/stat`, in 10 ms ticks); `None` where unknown.
///
/// # Examples
/// ```
/// let _ = beamline_benchmarks::streaming::steal_time();
/// ```
pub fn steal_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: u64 = stat.lines().next()?.split_whitespace().nth(8)?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture Rust targets.
    Some(Duration::from_millis(ticks * 10))
}

/// The machine's own scheduling noise, for comparison with the pipeline's
/// latencies: this thread sleeps to a deadline every `period` for `duration`
/// and notes how late it woke. Returns the worst lateness in each `window`
/// of the run, in ms, sorted (one value per window, like the panes).
///
/// # Examples
/// ```
/// use beamline_benchmarks::streaming::sleep_jitter;
/// use std::time::Duration;
/// let worst = sleep_jitter(Duration::from_millis(300), Duration::from_micros(100), Duration::from_millis(100));
/// assert_eq!(worst.len(), 3);
/// assert!(worst.iter().all(|&ms| ms >= 0.0));
/// ```
pub fn sleep_jitter(duration: Duration, period: Duration, window: Duration) -> Vec<f64> {
    let period = period.max(Duration::from_micros(1));
    let windows = (duration.as_secs_f64() / window.as_secs_f64().max(1e-9)).round().max(1.0) as usize;
    let mut worst = vec![0.0f64; windows];
    let start = std::time::Instant::now();
    let mut due = start;
    loop {
        due += period;
        let offset = due - start;
        if offset >= duration {
            break;
        }
        let now = std::time::Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let late = due.elapsed().as_secs_f64() * 1e3;
        let w = ((offset.as_secs_f64() / window.as_secs_f64().max(1e-9)) as usize).min(windows - 1);
        worst[w] = worst[w].max(late);
    }
    worst.sort_by(f64::total_cmp);
    worst
}
