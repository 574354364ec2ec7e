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
    assert_eq!(m.setups.len(), beamline_benchmarks::RunnerSetup::defaults().len());
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
