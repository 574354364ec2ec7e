//! The quick benchmark check: on a tiny corpus, every runner setup's
//! wordcount output equals the hand-written program's. No timing is asserted.

use beamline_benchmarks::wordcount::quick_check;

#[test]
fn wordcount_outputs_agree_on_a_small_corpus() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("beamline-bench-quick");
    let _ = std::fs::remove_dir_all(&dir);
    let ms = quick_check(&dir, 200 * 1024).unwrap_or_else(|e| panic!("{e}"));
    let m = &ms[0];
    assert!(m.items > 20_000, "corpus too small: {} words", m.items);
    assert_eq!(m.setups.len(), beamline_benchmarks::RunnerSetup::defaults().len() + 4);
    assert!(m.setups.iter().any(|(s, _)| s.name == "timely-2"), "the timely runner is checked too");
    assert_eq!(m.baselines.len(), 2, "the single-threaded and the rayon hand-written counts");
    assert!(m.setups.iter().all(|(_, samples)| samples.len() == 1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn experimental_wordcount_pipelines_agree_on_a_small_corpus() {
    use beamline_benchmarks::corpus::{ensure, CorpusSpec};
    use beamline_benchmarks::harness::{measure, InProcess};
    use beamline_benchmarks::wordcount::{Shape, WordCount};
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("beamline-bench-quick-precombined");
    let _ = std::fs::remove_dir_all(&dir);
    let corpus = ensure(&CorpusSpec::zipf(100 * 1024), &dir).unwrap_or_else(|e| panic!("{e}"));
    let setups = beamline_benchmarks::RunnerSetup::defaults();
    for shape in [Shape::Lifted, Shape::Precombined] {
        let wc = WordCount::with_shape(corpus.clone(), shape);
        measure(&wc, &setups, 1, &dir.join("scratch"), &InProcess).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn combine_per_key_outputs_agree_on_small_inputs() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("beamline-bench-quick-combine");
    let _ = std::fs::remove_dir_all(&dir);
    let ms = beamline_benchmarks::combine::quick_check(&dir, 30_000, &[10, 1_000]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ms.len(), 2);
    for m in &ms {
        assert_eq!(m.baselines.len(), 2, "the hand-written fold on 1 and 2 threads");
        assert!(m.setups.iter().any(|(s, _)| s.name == "rayon-2-unlifted"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn map_chain_outputs_agree_on_small_inputs() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("beamline-bench-quick-map-chain");
    let _ = std::fs::remove_dir_all(&dir);
    let steps = [0, 1, 5];
    let ms = beamline_benchmarks::map_chain::quick_check(&dir, 25_000, &steps).unwrap_or_else(|e| panic!("{e}"));
    let section = beamline_benchmarks::map_chain::per_step_section(&ms, &steps);
    assert!(section.contains("| rayon-1 |") && section.contains("| baseline |"), "{section}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs a benchmark program in its `--quick` mode and returns its report.
fn quick_mode(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program).arg("--quick").args(args).output().unwrap();
    assert!(out.status.success(), "{program} --quick failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn rayon_bench_quick_mode_checks_every_workload() {
    let report = quick_mode(env!("CARGO_BIN_EXE_rayon-bench"), &[]);
    assert!(report.contains("## combine 30K pairs, 1K keys"), "{report}");
    assert!(report.contains("## Map chains: nanoseconds per element per step"), "{report}");
    assert!(report.contains("## Goals"), "{report}");
    assert!(report.contains("## Combine: does peak memory grow with the number of pairs?"), "{report}");
}

#[test]
fn wordcount_bench_quick_mode_compares_rayon_with_the_rayon_baseline() {
    let report = quick_mode(env!("CARGO_BIN_EXE_wordcount-bench"), &["--setups", "direct,rayon-1,rayon-2"]);
    assert!(report.contains("| rayon-2 |") && report.contains("baseline-rayon-2"), "{report}");
}

#[test]
fn wordcount_bench_quick_mode_holds_timely_to_the_same_goals_as_rayon() {
    let report = quick_mode(env!("CARGO_BIN_EXE_wordcount-bench"), &["--setups", "timely-1,timely-2"]);
    assert!(report.contains("| timely-1 | baseline |"), "{report}");
    assert!(report.contains("| timely-2 | baseline-rayon-2 |"), "{report}");
}

#[test]
fn timely_bench_quick_mode_checks_a_two_process_cluster() {
    // The cluster runs the examples' wordcount binary, which this package's tests do not build.
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let Some(example) =
        ["release", "debug"].map(|p| target.join(p).join("examples/wordcount")).into_iter().find(|p| p.is_file())
    else {
        eprintln!(
            "skipped: build the wordcount example (cargo build --release -p beamline-examples --example wordcount)"
        );
        return;
    };
    let example = example.display().to_string();
    let report = quick_mode(env!("CARGO_BIN_EXE_timely-bench"), &["--example", &example, "--timeout", "120"]);
    assert!(report.contains("| timely-2 | 1 × 2 |") && report.contains("| timely-2p | 2 × 1 |"), "{report}");
}
