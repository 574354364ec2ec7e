//! What the timely runner promises beyond the conformance suite: late data
//! beyond the allowed lateness is dropped and counted, late data within it
//! fires late panes, unbounded runs drain on `--max-duration` and
//! `--until-watermark`, and bad cluster flags get one clear line.

use beamline::io::GenerateSequence;
use beamline::prelude::*;
use beamline::{NoOptions, PipelineOptions, PipelineResult};
use beamline_timely::DROPPED_DUE_TO_LATENESS;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

fn pipeline(flags: &[&str]) -> Pipeline {
    let mut args = vec!["test", "--runner=timely"];
    args.extend_from_slice(flags);
    let (opts, NoOptions {}) = PipelineOptions::parse_from::<NoOptions>(args, &beamline_timely::runners()).unwrap();
    Pipeline::new(opts, beamline_timely::runners())
}

/// Builds and runs a pipeline on another thread, failing the test if it takes
/// more than a minute (an unbounded run that never drains would hang the suite).
fn run_within_a_minute(flags: Vec<String>, build: impl FnOnce(&Pipeline) + Send + 'static) -> PipelineResult {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let p = pipeline(&flags.iter().map(String::as_str).collect::<Vec<_>>());
        build(&p);
        let _ = tx.send(p.run());
    });
    let result = rx.recv_timeout(Duration::from_secs(60)).expect("the run did not end within a minute");
    worker.join().unwrap();
    result.unwrap()
}

/// Counts per one-second window of `events`, then what reached the output
/// (in `total`) and how many panes fired (in `panes`).
fn count_per_window(
    p: &Pipeline,
    events: GenerateSequence,
    lateness: Duration,
    total: &'static AtomicU64,
    panes: &'static AtomicU64,
) {
    let _ = p
        .apply_named("Events", events)
        .apply_named("Window", WindowInto::new(WindowFn::fixed(Duration::from_secs(1))).with_allowed_lateness(lateness))
        .apply_named("Key", Map::new(|_: &u64| ("k".to_string(), 1u64)))
        .apply_named("PerWindow", Combine::per_key(Sum::<u64>::new()))
        .apply_named(
            "Tally",
            Map::new(move |(_, n): &(String, u64)| {
                total.fetch_add(*n, Ordering::Relaxed);
                panes.fetch_add(1, Ordering::Relaxed);
            }),
        );
}

#[test]
fn late_data_beyond_the_allowed_lateness_is_dropped_and_counted() {
    for workers in ["1", "2"] {
        static TOTAL: AtomicU64 = AtomicU64::new(0);
        static PANES: AtomicU64 = AtomicU64::new(0);
        TOTAL.store(0, Ordering::Relaxed);
        // Every 10th element is 30 s late: behind the watermark once it has moved on.
        let events = GenerateSequence::new().count(20_000).late(10, Duration::from_secs(30));
        let result = run_within_a_minute(vec![format!("--workers={workers}")], |p| {
            count_per_window(p, events, Duration::ZERO, &TOTAL, &PANES)
        });
        let dropped = result.metrics().counter("PerWindow", DROPPED_DUE_TO_LATENESS).unwrap_or(0) as u64;
        assert!(dropped > 0, "workers={workers}: nothing dropped");
        assert!(dropped <= 2000, "workers={workers}: {dropped} dropped, only 2000 are late");
        assert_eq!(TOTAL.load(Ordering::Relaxed) + dropped, 20_000, "workers={workers}");
    }
}

#[test]
fn late_data_within_the_allowed_lateness_fires_late_panes() {
    for workers in ["1", "2"] {
        static TOTAL: AtomicU64 = AtomicU64::new(0);
        static PANES: AtomicU64 = AtomicU64::new(0);
        TOTAL.store(0, Ordering::Relaxed);
        PANES.store(0, Ordering::Relaxed);
        let events = GenerateSequence::new().count(20_000).late(10, Duration::from_secs(30));
        let result = run_within_a_minute(vec![format!("--workers={workers}")], |p| {
            count_per_window(p, events, Duration::from_secs(3600), &TOTAL, &PANES)
        });
        assert_eq!(result.metrics().counter("PerWindow", DROPPED_DUE_TO_LATENESS), None, "workers={workers}");
        assert_eq!(TOTAL.load(Ordering::Relaxed), 20_000, "workers={workers}");
        // 20 s of event time in one-second windows, some fired again for late data.
        assert!(PANES.load(Ordering::Relaxed) > 20, "workers={workers}: {} panes", PANES.load(Ordering::Relaxed));
    }
}

#[test]
fn max_duration_drains_an_endless_source_and_fires_its_windows() {
    static TOTAL: AtomicU64 = AtomicU64::new(0);
    static PANES: AtomicU64 = AtomicU64::new(0);
    let flags = vec!["--workers=2".to_string(), "--max-duration=500ms".to_string()];
    run_within_a_minute(flags, |p| {
        count_per_window(p, GenerateSequence::new().rate(20_000.0), Duration::ZERO, &TOTAL, &PANES)
    });
    assert!(TOTAL.load(Ordering::Relaxed) > 0, "the drain fired no window");
}

#[test]
fn until_watermark_stops_the_sources_at_an_event_time() {
    static TOTAL: AtomicU64 = AtomicU64::new(0);
    static PANES: AtomicU64 = AtomicU64::new(0);
    // Unpaced, one element per millisecond of event time from 0; stop once the watermark reaches 5 s.
    let flags = vec!["--workers=1".to_string(), "--until-watermark=5".to_string()];
    run_within_a_minute(flags, |p| count_per_window(p, GenerateSequence::new(), Duration::ZERO, &TOTAL, &PANES));
    let total = TOTAL.load(Ordering::Relaxed);
    // Everything before 5 s is read; reading stops within a batch (4096 elements) after it.
    assert!((5000..5000 + 4096).contains(&total), "{total} elements");
}

#[test]
fn bad_cluster_and_stop_flags_get_one_line() {
    let cases: [(&[&str], &str); 5] = [
        (&["--processes=2"], "'--processes=2' needs '--hosts=FILE'"),
        (&["--processes=2", "--process-index=2", "--hosts=/dev/null"], "'--process-index=2' is out of range"),
        (&["--processes=2", "--hosts=/nonexistent/hosts"], "cannot read /nonexistent/hosts"),
        (&["--processes=2", "--hosts=/dev/null"], "lists 0 addresses"),
        (&["--max-duration=soon"], "'--max-duration'"),
    ];
    for (flags, expected) in cases {
        let p = pipeline(flags);
        let _ = p.apply(Create::new(vec![1u8]));
        let e = p.run().unwrap_err().to_string();
        assert!(e.contains(expected) && !e.contains('\n'), "{flags:?}: {e}");
    }
}

#[test]
fn follow_text_reads_appended_lines_and_new_files_until_stopped() {
    static LINES: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!("beamline-timely-follow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.log"), "one\ntwo\n").unwrap();
    let pattern = format!("{}/*.log", dir.display());
    let writer = {
        let dir = dir.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            let mut a = std::fs::OpenOptions::new().append(true).open(dir.join("a.log")).unwrap();
            std::io::Write::write_all(&mut a, b"three\n").unwrap();
            std::fs::write(dir.join("b.log"), "four\nfive\n").unwrap();
        })
    };
    let flags = vec!["--workers=2".to_string(), "--max-duration=2s".to_string()];
    run_within_a_minute(flags, move |p| {
        let source = beamline::io::FollowText::new(pattern).poll_interval(Duration::from_millis(20));
        let _ = p.apply(source).apply(Map::new(|_: &String| {
            LINES.fetch_add(1, Ordering::Relaxed);
        }));
    });
    writer.join().unwrap();
    assert_eq!(LINES.load(Ordering::Relaxed), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}
