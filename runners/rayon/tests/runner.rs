//! What the rayon runner promises beyond the conformance suite: combiners are
//! lifted, DoFns are set up once per thread, metrics merge exactly, the first
//! failure stops the run, unbounded input is refused and failed runs leave no
//! output.

use beamline::io::WriteToText;
use beamline::prelude::*;
use beamline::{NoOptions, PipelineOptions};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn runners() -> Runners {
    beamline_direct::runners().with(beamline_rayon::RayonRunner)
}

fn pipeline(flags: &[&str]) -> Pipeline {
    let mut args = vec!["test", "--runner=rayon"];
    args.extend_from_slice(flags);
    let (opts, NoOptions {}) = PipelineOptions::parse_from::<NoOptions>(args, &runners()).unwrap();
    Pipeline::new(opts, runners())
}

/// A fresh scratch directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("beamline-rayon-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static MERGES: AtomicUsize = AtomicUsize::new(0);
static ADDS: AtomicUsize = AtomicUsize::new(0);

/// A sum that counts how it is called.
#[derive(Clone, Serialize, Deserialize)]
struct CountingSum;

impl CombineFn for CountingSum {
    type In = u64;
    type Acc = u64;
    type Out = u64;
    fn create_accumulator(&self) -> u64 {
        0
    }
    fn add_input(&self, acc: &mut u64, x: &u64) {
        ADDS.fetch_add(1, Ordering::Relaxed);
        *acc += x;
    }
    fn merge_accumulators(&self, acc: &mut u64, other: u64) {
        MERGES.fetch_add(1, Ordering::Relaxed);
        *acc += other;
    }
    fn extract_output(&self, acc: u64) -> u64 {
        acc
    }
}

fn sum_per_key(flags: &[&str]) -> (usize, usize) {
    MERGES.store(0, Ordering::SeqCst);
    ADDS.store(0, Ordering::SeqCst);
    let p = pipeline(flags);
    let pairs: Vec<(u64, u64)> = (0..100_000u64).map(|i| (i % 10, i)).collect();
    let expected: Vec<(u64, u64)> = (0..10u64).map(|k| (k, (0..100_000u64).filter(|i| i % 10 == k).sum())).collect();
    let sums = p.apply(Create::new(pairs)).apply(Combine::per_key(CountingSum));
    assert_that(&sums, contains_in_any_order(expected));
    p.run().unwrap();
    (ADDS.load(Ordering::SeqCst), MERGES.load(Ordering::SeqCst))
}

// One test, so the counters are not shared by tests running in parallel.
#[test]
fn combine_per_key_is_lifted_and_merges_accumulators_unless_turned_off() {
    let (adds, merges) = sum_per_key(&["--workers=2"]);
    assert_eq!(adds, 100_000);
    // Ten keys, pre-combined in every bundle: merges follow bundles x keys, not elements.
    assert!(merges > 0 && merges < 10_000, "{merges} merges");

    // A table of at most 3 keys is shipped as it fills: still exact, with more merges.
    let (small_adds, small_merges) = sum_per_key(&["--workers=2", "--rayon-precombine-keys=3"]);
    assert_eq!(small_adds, 100_000);
    assert!(small_merges > merges, "{small_merges} merges with small tables, {merges} without");

    let (adds, merges) = sum_per_key(&["--workers=2", "--rayon-lift-combiners=false"]);
    assert_eq!((adds, merges), (100_000, 0), "unlifted: grouped, then combined once per key");
}

#[test]
fn the_plan_replaces_group_by_key_and_combine_values_by_one_lifted_step() {
    let p = pipeline(&[]);
    let _ =
        p.apply(Create::new(vec![("a".to_string(), 1i64)])).apply_named("Total", Combine::per_key(Sum::<i64>::new()));
    let mut plan = p.plan().unwrap();
    assert!(plan.nodes.iter().any(|n| n.label == "Total/GroupByKey"));
    assert_eq!(plan.lift_combiners(), vec!["Total".to_string()]);
    let labels: Vec<&str> = plan.nodes.iter().map(|n| n.label.as_str()).collect();
    assert!(labels.contains(&"Total") && !labels.iter().any(|l| l.starts_with("Total/")), "{labels:?}");
}

#[test]
fn combines_over_session_windows_are_not_lifted_and_still_merge_windows() {
    let p = pipeline(&["--workers=2"]);
    let events: Vec<((String, i64), Timestamp)> =
        [0, 5, 30, 100, 104].iter().map(|&s| (("k".to_string(), 1i64), Timestamp::from_secs(s))).collect();
    let counts = p
        .apply(Create::timestamped(events))
        .apply(WindowInto::new(WindowFn::sessions(Duration::from_secs(10))))
        .apply_named("PerSession", Combine::per_key(Sum::<i64>::new()));
    assert_that(&counts, contains_in_any_order(vec![("k".to_string(), 2i64), ("k".into(), 1), ("k".into(), 2)]));
    let mut plan = p.plan().unwrap();
    assert!(plan.lift_combiners().is_empty());
    p.run().unwrap();
}

static SETUPS: AtomicUsize = AtomicUsize::new(0);
static TEARDOWNS: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Serialize, Deserialize)]
struct CountLifecycle;

impl DoFn for CountLifecycle {
    type In = u64;
    type Out = u64;
    fn setup(&mut self) -> Result<(), DoFnError> {
        SETUPS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn process(&mut self, x: &u64, ctx: &mut ProcessContext<'_, u64>) -> Result<(), DoFnError> {
        ctx.metrics().inc_counter("seen", 1);
        ctx.metrics().update_distribution("value", *x as i64);
        ctx.metrics().set_gauge("last", 7);
        ctx.emit(*x);
        Ok(())
    }
    fn teardown(&mut self) -> Result<(), DoFnError> {
        TEARDOWNS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn dofns_are_set_up_at_most_once_per_thread_and_metrics_merge_exactly() {
    let p = pipeline(&["--workers=3"]);
    let n = 200_000u64;
    let out = p.apply(Create::new((0..n).collect::<Vec<_>>())).apply_named("Observe", ParDo::of(CountLifecycle));
    assert_that(&out.apply(Count::globally()), contains_in_any_order(vec![n]));
    let result = p.run().unwrap();
    let m = result.metrics();
    assert_eq!(m.counter("Observe", "seen"), Some(n as i64));
    let d = m.distribution("Observe", "value").unwrap();
    assert_eq!((d.count, d.sum, d.min, d.max), (n as i64, (0..n as i64).sum(), 0, n as i64 - 1));
    assert_eq!(m.gauge("Observe", "last"), Some(7));
    let setups = SETUPS.load(Ordering::SeqCst);
    assert!((1..=3).contains(&setups), "{setups} setups for 3 threads");
    assert_eq!(TEARDOWNS.load(Ordering::SeqCst), setups);
}

static PROCESSED: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Serialize, Deserialize)]
struct FailOn(u64);

impl DoFn for FailOn {
    type In = u64;
    type Out = u64;
    fn process(&mut self, x: &u64, ctx: &mut ProcessContext<'_, u64>) -> Result<(), DoFnError> {
        PROCESSED.fetch_add(1, Ordering::Relaxed);
        if *x == self.0 {
            return Err(DoFnError::new(format!("cannot take {x}")));
        }
        ctx.emit(*x);
        Ok(())
    }
}

#[test]
fn the_first_failure_stops_the_run_and_names_step_runner_and_element() {
    let dir = TempDir::new("fail");
    let prefix = dir.0.join("out").display().to_string();
    let p = pipeline(&["--workers=2"]);
    let n = 2_000_000u64;
    let _ = p
        .apply(Create::new((0..n).collect::<Vec<_>>()))
        .apply_named("Picky", ParDo::of(FailOn(3)))
        .apply(Map::new(|x: &u64| x.to_string()))
        .apply(WriteToText::new(&prefix));
    let e = p.run().unwrap_err().to_string();
    assert!(e.contains("step 'Picky' failed on runner 'rayon' processing 3: cannot take 3"), "{e}");
    let processed = PROCESSED.load(Ordering::Relaxed);
    assert!(processed < n as usize / 2, "kept going after the failure: {processed} of {n} processed");
    let left: Vec<_> = std::fs::read_dir(&dir.0).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "output left behind: {left:?}");
}

#[test]
fn unbounded_input_is_refused_naming_its_source_and_the_timely_runner() {
    let dir = TempDir::new("unbounded");
    let graph = dir.0.join("graph.json");
    let build = |flags: &[&str]| {
        let p = pipeline(flags);
        let _ = p.apply_named("Events", Create::new(vec![1u64, 2])).apply(Count::globally());
        p
    };
    build(&[&format!("--dump-graph={}", graph.display())]).run().unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&graph).unwrap()).unwrap();
    for p in json["pcollections"].as_array_mut().unwrap() {
        if p["producer"] == "Events" {
            p["bounded"] = false.into();
        }
    }
    std::fs::write(&graph, json.to_string()).unwrap();
    let e = build(&[&format!("--graph={}", graph.display())]).run().unwrap_err().to_string();
    assert!(
        e.contains("runner 'rayon' runs bounded pipelines only")
            && e.contains("step 'Events' produces an unbounded PCollection")
            && e.contains("--runner=timely"),
        "{e}"
    );
}

#[test]
fn flags_of_zero_are_refused() {
    let e = pipeline(&["--rayon-splits-per-worker=0"]);
    let _ = e.apply(Create::new(vec![1u8]));
    let msg = e.run().unwrap_err().to_string();
    assert!(msg.contains("'--rayon-splits-per-worker' must be at least 1"), "{msg}");
}

/// Takes its input by value, and fails on one element.
#[derive(Clone, Serialize, Deserialize)]
struct MoveOrFail;

impl DoFn for MoveOrFail {
    type In = String;
    type Out = String;
    fn process(&mut self, s: &String, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        self.process_owned(s.clone(), ctx)
    }
    const MOVES_INPUT: bool = true;
    fn process_owned(&mut self, s: String, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        if s == "bad" {
            return Err(DoFnError::new("no bad strings"));
        }
        ctx.emit(s);
        Ok(())
    }
}

#[test]
fn dofns_that_move_their_input_get_it_by_value_and_their_failures_name_the_position() {
    let ok = pipeline(&["--workers=2"]);
    let words = ["a", "b", "c"].map(String::from).to_vec();
    let moved = ok.apply(Create::new(words.clone())).apply_named("Move", ParDo::of(MoveOrFail));
    // Two readers: one gets a copy, the last the batch itself.
    assert_that(&moved, contains_in_any_order(words.clone()));
    assert_that(&moved.apply(Count::globally()), contains_in_any_order(vec![3u64]));
    ok.run().unwrap();

    let failing = pipeline(&["--workers=2"]);
    let _ = failing.apply(Create::new(vec!["x".to_string(), "bad".into()])).apply_named("Move", ParDo::of(MoveOrFail));
    let e = failing.run().unwrap_err().to_string();
    assert!(
        e.contains("step 'Move' failed on runner 'rayon' processing <element 1 of the batch>: no bad strings"),
        "{e}"
    );
}

/// A key whose `Hash` panics for one value: not user code the SDK calls
/// under a guard, but it must not bring the process down either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FragileKey(u8);

impl std::hash::Hash for FragileKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        assert!(self.0 != 13, "unlucky key");
        self.0.hash(h);
    }
}

#[test]
fn a_panic_outside_user_code_guards_is_an_error_not_a_crash() {
    let p = pipeline(&["--workers=2"]);
    let pairs: Vec<(FragileKey, u8)> = (0..20u8).map(|i| (FragileKey(i), i)).collect();
    let _ = p.apply(Create::new(pairs)).apply(GroupByKey::new());
    let e = p.run().unwrap_err().to_string();
    assert!(e.contains("runner 'rayon'") && e.contains("unlucky key"), "{e}");
}

/// Emits `n` elements per input, every third also to a tagged output.
#[derive(Clone)]
struct FanOut {
    n: u64,
    thirds: TupleTag<u64>,
}

impl DoFn for FanOut {
    type In = u64;
    type Out = u64;
    fn process(&mut self, x: &u64, ctx: &mut ProcessContext<'_, u64>) -> Result<(), DoFnError> {
        for i in x * self.n..(x + 1) * self.n {
            EMITTED.fetch_add(1, Ordering::Relaxed);
            ctx.emit(i);
            if i % 3 == 0 {
                ctx.output(&self.thirds, i)?;
            }
        }
        Ok(())
    }
}

static SEEN_AFTER_FANOUT: AtomicUsize = AtomicUsize::new(0);
static EMITTED: AtomicUsize = AtomicUsize::new(0);
/// How many elements FanOut had emitted when FailAt saw its first one.
static EMITTED_WHEN_SEEN: AtomicUsize = AtomicUsize::new(usize::MAX);

#[derive(Clone, Serialize, Deserialize)]
struct FailAt(u64);

impl DoFn for FailAt {
    type In = u64;
    type Out = u64;
    fn process(&mut self, x: &u64, ctx: &mut ProcessContext<'_, u64>) -> Result<(), DoFnError> {
        if SEEN_AFTER_FANOUT.fetch_add(1, Ordering::SeqCst) == 0 {
            EMITTED_WHEN_SEEN.store(EMITTED.load(Ordering::SeqCst), Ordering::SeqCst);
        }
        if *x == self.0 {
            return Err(DoFnError::new("stop here"));
        }
        ctx.emit(*x);
        Ok(())
    }
}

#[test]
fn a_large_fan_out_streams_through_the_stage_and_a_later_failure_is_the_later_steps() {
    let thirds = TupleTag::<u64>::new("thirds");
    let fan = |p: &Pipeline, n: u64| {
        p.apply(Create::new(vec![0u64, 1]))
            .apply_named("FanOut", ParDo::local(FanOut { n, thirds: thirds.clone() }).with_output(&thirds))
    };
    let p = pipeline(&["--workers=2"]);
    let out = fan(&p, 300_000);
    assert_that(&out.main().apply(Count::globally()), contains_in_any_order(vec![600_000u64]));
    assert_that(&out.get(&thirds).apply(Count::globally()), contains_in_any_order(vec![200_000u64]));
    assert_that(
        &out.main().apply(Combine::globally(Sum::<u64>::new())),
        contains_in_any_order(vec![(0..600_000).sum()]),
    );
    p.run().unwrap();

    // One input fans out to a million elements; the next step gets the first
    // batch while FanOut is still running, and its failure ends the run.
    let p = pipeline(&["--workers=1"]);
    EMITTED.store(0, Ordering::SeqCst);
    let _ = p
        .apply(Create::new(vec![0u64]))
        .apply_named("FanOut", ParDo::local(FanOut { n: 1_000_000, thirds: thirds.clone() }).with_output(&thirds))
        .main()
        .apply_named("Picky", ParDo::of(FailAt(10)));
    let e = p.run().unwrap_err().to_string();
    assert!(e.starts_with("step 'Picky' failed on runner 'rayon' processing 10: stop here"), "{e}");
    assert_eq!(SEEN_AFTER_FANOUT.load(Ordering::Relaxed), 11);
    let emitted = EMITTED_WHEN_SEEN.load(Ordering::SeqCst);
    assert!(emitted <= 1024, "FanOut had emitted {emitted} elements before the next step saw one: not streamed");
}
