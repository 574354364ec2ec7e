//! The streaming benchmark's checks on small inputs: the timely pipeline's
//! windowed counts equal the hand-written count's on 1 and 2 workers, and a
//! short paced run yields one latency per window and worker. No timing is asserted.

use beamline_benchmarks::streaming::{self, LatencySpec, ThroughputSpec};
use std::time::Duration;

#[test]
fn windowed_counts_agree_with_the_hand_written_count() {
    // 350 000 events 1 µs apart: 4 windows of 100 ms, the last one half full.
    let spec = ThroughputSpec { events: 350_000, keys: 1000, window_us: 100_000, spacing_us: 1, early: None };
    let expected = streaming::baseline(&spec);
    assert_eq!((expected.events, expected.outputs), (350_000, 4000));
    assert_eq!(streaming::baseline_threads(&spec, 2), expected);
    assert_eq!(streaming::baseline_threads(&spec, 3), expected);
    for workers in [1, 2] {
        let run = streaming::run_throughput(&spec, workers).unwrap_or_else(|e| panic!("{e}"));
        streaming::verify(&format!("timely-{workers}"), &expected, &run.tally).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_paced_run_measures_every_window_but_the_drained_one() {
    let spec = LatencySpec {
        rate: 200_000.0,
        workers: 2,
        duration: Duration::from_millis(1200),
        keys: 100,
        window: Duration::from_millis(100),
        early: None,
    };
    let run = streaming::run_latency(&spec).unwrap_or_else(|e| panic!("{e}"));
    // 200 000 events/s is 5 µs apart: event time is the wall clock.
    assert_eq!((run.spacing_us, run.window_us), (5, 100_000));
    assert!(run.events > 0);
    assert!(run.windows >= 5, "{} windows", run.windows);
    // One pane per window and worker, whose keys span both workers.
    assert_eq!(run.latencies_ms.len(), 2 * run.windows);
    assert!(run.drained >= 1, "the drain fired no window");
    assert_eq!(run.read_lag_ms.len(), run.windows);
    assert!(run.quantile(0.5).is_some());
}

#[test]
fn early_firings_accumulate_into_the_hand_written_counts() {
    // Event time runs far ahead of the 1 ms early firings: some windows fire
    // early, and every on-time pane holds the window's whole count.
    let spec = ThroughputSpec { early: Some(Duration::from_millis(1)), events: 350_000, ..ThroughputSpec::default() };
    let expected = streaming::baseline(&spec);
    for workers in [1, 2] {
        let run = streaming::run_throughput(&spec, workers).unwrap_or_else(|e| panic!("{e}"));
        streaming::verify(&format!("timely-{workers} early"), &expected, &run.tally).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_paced_run_with_early_firings_measures_them() {
    let spec = LatencySpec {
        rate: 100_000.0,
        workers: 1,
        duration: Duration::from_millis(1000),
        keys: 10,
        window: Duration::from_millis(400),
        early: Some(Duration::from_millis(50)),
    };
    let run = streaming::run_latency(&spec).unwrap_or_else(|e| panic!("{e}"));
    // Windows of 400 ms fire early every 50 ms: several early panes per key.
    assert!(run.early_latencies_ms.len() >= 10, "{} early panes", run.early_latencies_ms.len());
    assert!(run.early_latencies_ms.iter().all(|&l| (0.0..50.0).contains(&l)));
}
