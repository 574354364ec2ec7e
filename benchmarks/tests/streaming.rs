//! The streaming benchmark's checks on small inputs: the timely pipeline's
//! windowed counts equal the hand-written count's on 1 and 2 workers, and a
//! short paced run yields one latency per window and worker. No timing is asserted.

use beamline_benchmarks::streaming::{self, LatencySpec, ThroughputSpec};
use std::time::Duration;

#[test]
fn windowed_counts_agree_with_the_hand_written_count() {
    // 350 000 events 1 µs apart: 4 windows of 100 ms, the last one half full.
    let spec = ThroughputSpec { events: 350_000, keys: 1000, window_us: 100_000, spacing_us: 1 };
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
