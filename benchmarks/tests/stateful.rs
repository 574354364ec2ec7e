//! The stateful benchmark's checks on small inputs: on the timely runner
//! (1 and 2 workers) the `StatefulParDo` count (state + one timer per key and
//! window) and `Count::per_key` produce the same outputs as each other and as
//! the hand-written count, in the global window and in fixed windows; and the
//! benchmark program's quick mode runs. No timing is asserted.

use beamline_benchmarks::stateful::{self, CountSpec, Shape};

#[test]
fn stateful_and_lifted_counts_agree() {
    let specs = [
        CountSpec { events: 30_000, keys: 1_000, windows: 0 },
        // One event per key and window: every element makes new state and a new timer.
        CountSpec { events: 20_000, keys: 2_000, windows: 10 },
        // Windows that do not hold every key, and a last one cut short.
        CountSpec { events: 25_000, keys: 5_000, windows: 7 },
    ];
    for spec in specs {
        let expected = stateful::hand_written(&spec);
        assert_eq!(expected.events, spec.events);
        assert_eq!(expected.outputs, spec.outputs(), "{spec:?}");
        for workers in [1, 2] {
            let run = |shape| {
                stateful::run(&spec, &stateful::setup(shape, workers))
                    .unwrap_or_else(|e| panic!("{spec:?} {shape:?} on {workers} workers: {e}"))
            };
            let (lifted, stateful) = (run(Shape::Lifted), run(Shape::Stateful));
            assert_eq!(stateful, lifted, "{spec:?} on {workers} workers: stateful and lifted outputs differ");
            assert_eq!(lifted, expected, "{spec:?} on {workers} workers: the hand-written count differs");
        }
    }
}

#[test]
fn quick_check_verifies_every_setup() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("beamline-bench-quick-stateful");
    let _ = std::fs::remove_dir_all(&dir);
    let ms = stateful::quick_check(&dir, 20_000, 500, 10_000, 1_000, 10).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ms.len(), 2);
    for m in &ms {
        let names: Vec<&str> = m.setups.iter().map(|(s, _)| s.name.as_str()).collect();
        assert_eq!(names, ["lifted-timely-1", "stateful-timely-1", "lifted-timely-2", "stateful-timely-2"]);
        assert_eq!(stateful::shape_ratios(m).len(), 2);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stateful_bench_quick_mode_reports_both_workloads() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stateful-bench")).arg("--quick").output().unwrap();
    assert!(out.status.success(), "stateful-bench --quick failed: {}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.contains("## count per key: 50K events, 1K keys, global window"), "{report}");
    assert!(report.contains("## timer-heavy: 20K events, 2K keys, 10 fixed windows"), "{report}");
    assert!(report.contains("| stateful-timely-2 |"), "{report}");
}
