//! Wordcount benchmark: the beamline pipeline against a hand-written count.
//!
//! `cargo run --release -p beamline-benchmarks --bin wordcount-bench -- [--sizes 16,64,256] [--reps 3] [--quick]`
//!
//! Generates (or reuses) the Zipf corpora under `bench-data/`, runs every
//! repetition of baseline and pipeline back to back, each in a fresh child
//! process of this program, verifies every pipeline output, prints a markdown
//! report and writes it to `benchmarks/RESULTS.md` (or `--results FILE`: the
//! timely runner's figures are in `benchmarks/RESULTS-timely.md`, from
//! `--setups direct,rayon-1,rayon-2,timely-1,timely-2 --results benchmarks/RESULTS-timely.md`).

use anyhow::Context;
use beamline_benchmarks::corpus::{self, CorpusSpec};
use beamline_benchmarks::harness::{self, Executor, InProcess, Subprocess};
use beamline_benchmarks::machine::{load_average, Machine};
use beamline_benchmarks::report::{self, Report};
use beamline_benchmarks::wordcount::{Shape, WordCount};
use beamline_benchmarks::RunnerSetup;
use clap::Parser;
use std::path::PathBuf;

// The allocator the example programs use, so the pipeline runs as in a user's program.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Bytes of the quick mode's corpus.
const QUICK_BYTES: u64 = 200 * 1024;

#[derive(Parser, Debug)]
#[command(name = "wordcount-bench", about = "Wordcount: beamline pipeline vs a hand-written program, same run")]
struct Args {
    /// Corpus sizes in MiB, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,64,256")]
    sizes: Vec<u64>,
    /// Repetitions per size (medians are reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Tiny input (200 KiB), one repetition in this process, outputs checked; writes no results file unless
    /// --results is given.
    #[arg(long)]
    quick: bool,
    /// Runner setups to measure, comma-separated (direct, direct-unchecked, direct-only-coder-check,
    /// direct-only-immutability-check, direct-only-shuffle, rayon-1, rayon-2, rayon-4, rayon-1-unlifted,
    /// rayon-2-unlifted, timely-1, timely-2, timely-4). A setup with N > 1 workers is compared with a
    /// hand-written rayon count on N threads. (A multi-process timely cluster: the `timely-bench` program.)
    #[arg(long, value_delimiter = ',', default_value = "direct,direct-unchecked")]
    setups: Vec<String>,
    /// Pipelines, comma-separated: `examples` (the examples crate's wordcount: the benchmark); experiments:
    /// `lifted` (ExtractWords, then per-bundle partial counts, then Combine::per_key(Sum)), `precombined` (split
    /// and per-bundle counts in one DoFn, then Combine::per_key(Sum)).
    #[arg(long, value_delimiter = ',', default_value = "examples")]
    pipeline: Vec<String>,
    /// Run every measured run in this process instead of a fresh child process each.
    #[arg(long)]
    in_process: bool,
    /// Where corpora are generated and cached [default: bench-data/ at the repository root].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The markdown results file [default: benchmarks/RESULTS.md; not written in --quick mode unless given].
    #[arg(long)]
    results: Option<PathBuf>,
    /// Do not write a results file.
    #[arg(long)]
    no_results: bool,
    /// Only generate (or check) the corpora, measure nothing.
    #[arg(long)]
    prepare_only: bool,
    /// Internal: run one variant (baseline or a setup) in this child process.
    #[arg(long, hide = true, requires_all = ["child_out", "child_bytes"])]
    child_variant: Option<String>,
    /// Internal: the child's output directory.
    #[arg(long, hide = true)]
    child_out: Option<PathBuf>,
    /// Internal: the child's corpus size in bytes.
    #[arg(long, hide = true)]
    child_bytes: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let data_dir = args.data_dir.clone().unwrap_or_else(|| root.join("bench-data"));
    let shapes = args.pipeline.iter().map(|n| Shape::by_name(n)).collect::<Result<Vec<_>, _>>()?;
    let setups = args.setups.iter().map(|n| RunnerSetup::by_name(n)).collect::<Result<Vec<_>, _>>()?;
    let parallel = RunnerSetup::parallel_threads(&setups);
    if let (Some(variant), Some(out), Some(bytes)) = (&args.child_variant, &args.child_out, args.child_bytes) {
        let c = corpus::ensure(&CorpusSpec::zipf(bytes), &data_dir)?;
        let shape = shapes.first().copied().unwrap_or(Shape::Examples);
        let wc = WordCount::with_shape(c, shape).with_parallel_baselines(&parallel);
        harness::child_main(&wc, &RunnerSetup::all(), variant, out)?;
        return Ok(());
    }
    let machine = Machine::describe();
    if machine.profile != "release" {
        eprintln!("warning: built without optimizations; build with --release to measure");
    }
    let (specs, reps) = if args.quick {
        (vec![CorpusSpec::zipf(QUICK_BYTES)], 1)
    } else {
        (args.sizes.iter().map(|&mb| CorpusSpec::zipf_mb(mb)).collect(), args.reps)
    };
    let scratch = data_dir.join(format!("scratch-{}", std::process::id()));
    let program = std::env::current_exe().context("finding this program to start child processes")?;
    let mut measurements = Vec::new();
    for spec in &specs {
        eprintln!("corpus {} ...", spec.file_name());
        let (c, sample) = beamline_benchmarks::stats::time(|| corpus::ensure(spec, &data_dir));
        let c = c.with_context(|| format!("preparing the corpus in {}", data_dir.display()))?;
        eprintln!("  ready in {:.1} s: {} words, {} distinct", sample.wall.as_secs_f64(), c.words, c.distinct);
        if args.prepare_only {
            continue;
        }
        for &shape in &shapes {
            let child = Subprocess {
                program: program.clone(),
                args: vec![
                    "--data-dir".into(),
                    data_dir.display().to_string(),
                    "--child-bytes".into(),
                    spec.bytes.to_string(),
                    "--pipeline".into(),
                    shape.name().into(),
                    "--setups".into(),
                    args.setups.join(","),
                ],
            };
            let executor: &dyn Executor = if args.quick || args.in_process { &InProcess } else { &child };
            let wc = WordCount::with_shape(c.clone(), shape).with_parallel_baselines(&parallel);
            measurements.push(harness::measure(&wc, &setups, reps, &scratch, executor)?);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if args.prepare_only {
        return Ok(());
    }
    let command = format!(
        "cargo run --release -p beamline-benchmarks --bin wordcount-bench --{}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>()
    );
    let text = report::render(&Report {
        title: "Benchmark results",
        command,
        machine: &machine,
        revision: env!("BEAMLINE_BENCH_REVISION").to_string(),
        allocator: "mimalloc (as the example programs)",
        isolation: if args.quick || args.in_process { "in process" } else { "a fresh child process per run" },
        load_after: load_average(),
        measurements: &measurements,
    });
    println!("{text}");
    let results = match (&args.results, args.quick || args.no_results) {
        (Some(p), _) if !args.no_results => Some(p.clone()),
        (None, false) => Some(root.join("benchmarks").join("RESULTS.md")),
        _ => None,
    };
    if let Some(path) = results {
        report::write_keeping_notes(&path, &text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
