//! Rayon runner benchmarks: CombinePerKey and chains of Maps against hand-written programs, same run.
//!
//! `cargo run --release -p beamline-benchmarks --bin rayon-bench -- [--workloads combine,map-chain]
//! [--pairs 10M,50M] [--keys 1K,100K,5M] [--elements 100M] [--steps 0,1,5,10] [--reps 3] [--quick]`
//!
//! Every repetition of every baseline and setup runs in a fresh child process
//! of this program; every output is verified. Prints a markdown report and
//! writes it to `benchmarks/RESULTS-rayon.md` (wordcount on the rayon runner
//! is in `RESULTS.md`, from `wordcount-bench --setups ...,rayon-1,rayon-2`).

use anyhow::{bail, Context};
use beamline_benchmarks::combine::{self, CombinePerKeyBench};
use beamline_benchmarks::harness::{self, Executor, InProcess, Subprocess};
use beamline_benchmarks::machine::{load_average, Machine};
use beamline_benchmarks::map_chain::{self, MapChain};
use beamline_benchmarks::report::{self, Report};
use beamline_benchmarks::units::parse_count;
use beamline_benchmarks::{RunnerSetup, Workload};
use clap::Parser;
use std::path::PathBuf;

// The allocator the example programs use, so the pipeline runs as in a user's program.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "rayon-bench", about = "CombinePerKey and Map chains on the rayon runner vs hand-written programs")]
struct Args {
    /// Workloads, comma-separated: `combine` (CombinePerKey(Sum) over generated pairs), `map-chain`.
    #[arg(long, value_delimiter = ',', default_value = "combine,map-chain")]
    workloads: Vec<String>,
    /// Combine: pair counts (`10M`, `50M`), comma-separated; each is run with every key count.
    #[arg(long, value_delimiter = ',', default_value = "10M,50M")]
    pairs: Vec<String>,
    /// Combine: distinct key counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1K,100K,5M")]
    keys: Vec<String>,
    /// Combine: runner setups. A setup with N > 1 workers is compared with a hand-written rayon fold on N threads.
    #[arg(long, value_delimiter = ',', default_value = "rayon-1,rayon-2,rayon-2-unlifted")]
    combine_setups: Vec<String>,
    /// Map chain: number of elements.
    #[arg(long, default_value = "100M")]
    elements: String,
    /// Map chain: numbers of Map steps, comma-separated (0 is needed for the per-step cost).
    #[arg(long, value_delimiter = ',', default_value = "0,1,5,10")]
    steps: Vec<usize>,
    /// Map chain: runner setups.
    #[arg(long, value_delimiter = ',', default_value = "rayon-1,rayon-2")]
    map_setups: Vec<String>,
    /// Repetitions (medians are reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Tiny sizes, one repetition in this process, outputs checked; writes no results file unless --results is given.
    #[arg(long)]
    quick: bool,
    /// Run every measured run in this process instead of a fresh child process each.
    #[arg(long)]
    in_process: bool,
    /// The markdown results file [default: benchmarks/RESULTS-rayon.md; not written in --quick mode unless given].
    #[arg(long)]
    results: Option<PathBuf>,
    /// Do not write a results file.
    #[arg(long)]
    no_results: bool,
    /// Internal: the workload a child process runs (`combine:PAIRS:KEYS` or `map-chain:ELEMENTS:STEPS`).
    #[arg(long, hide = true, requires_all = ["child_variant", "child_out"])]
    child_workload: Option<String>,
    /// Internal: run one variant (a baseline or a setup) in this child process.
    #[arg(long, hide = true)]
    child_variant: Option<String>,
    /// Internal: the child's output directory.
    #[arg(long, hide = true)]
    child_out: Option<PathBuf>,
}

fn setups(names: &[String]) -> anyhow::Result<Vec<RunnerSetup>> {
    Ok(names.iter().map(|n| RunnerSetup::by_name(n)).collect::<Result<Vec<_>, _>>()?)
}

/// The workload a `--child-workload` spec names.
fn workload(spec: &str, combine_setups: &[RunnerSetup]) -> anyhow::Result<Box<dyn Workload>> {
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        ["combine", pairs, keys] => Ok(Box::new(CombinePerKeyBench::new(
            pairs.parse()?,
            keys.parse()?,
            &RunnerSetup::parallel_threads(combine_setups),
        )?)),
        ["map-chain", elements, steps] => Ok(Box::new(MapChain::new(elements.parse()?, steps.parse()?)?)),
        _ => bail!("bad --child-workload '{spec}'"),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let combine_setups = setups(&args.combine_setups)?;
    let map_setups = setups(&args.map_setups)?;
    if let (Some(spec), Some(variant), Some(out)) = (&args.child_workload, &args.child_variant, &args.child_out) {
        harness::child_main(workload(spec, &combine_setups)?.as_ref(), &RunnerSetup::all(), variant, out)?;
        return Ok(());
    }
    for w in &args.workloads {
        if w != "combine" && w != "map-chain" {
            bail!("unknown workload '{w}'; known: combine, map-chain");
        }
    }
    let machine = Machine::describe();
    if machine.profile != "release" {
        eprintln!("warning: built without optimizations; build with --release to measure");
    }
    let (pairs, keys, elements, reps) = if args.quick {
        (vec![20_000, 30_000], vec![10, 1_000], 25_000, 1)
    } else {
        let counts = |v: &[String]| v.iter().map(|s| parse_count(s)).collect::<Result<Vec<_>, _>>();
        (counts(&args.pairs)?, counts(&args.keys)?, parse_count(&args.elements)?, args.reps)
    };
    let scratch = std::env::temp_dir().join(format!("beamline-rayon-bench-{}", std::process::id()));
    let program = std::env::current_exe().context("finding this program to start child processes")?;
    let child = |spec: String| Subprocess {
        program: program.clone(),
        args: vec!["--child-workload".into(), spec, "--combine-setups".into(), args.combine_setups.join(",")],
    };
    let in_process = args.quick || args.in_process;
    let mut measurements = Vec::new();
    let mut combines = Vec::new();
    if args.workloads.iter().any(|w| w == "combine") {
        let parallel = RunnerSetup::parallel_threads(&combine_setups);
        for &p in &pairs {
            for &k in &keys {
                combines.push((p, k));
                let w = CombinePerKeyBench::new(p, k, &parallel)?;
                let sub = child(format!("combine:{p}:{k}"));
                let executor: &dyn Executor = if in_process { &InProcess } else { &sub };
                measurements.push(harness::measure(&w, &combine_setups, reps, &scratch, executor)?);
            }
        }
    }
    let mut chains = Vec::new();
    if args.workloads.iter().any(|w| w == "map-chain") {
        for &k in &args.steps {
            let w = MapChain::new(elements, k)?;
            let sub = child(format!("map-chain:{elements}:{k}"));
            let executor: &dyn Executor = if in_process { &InProcess } else { &sub };
            chains.push(harness::measure(&w, &map_setups, reps, &scratch, executor)?);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let rows: Vec<(u64, u64, &_)> = combines.iter().zip(&measurements).map(|(&(p, k), m)| (p, k, m)).collect();
    let mut sections = combine::memory_growth_section(&rows);
    sections.push_str(&map_chain::per_step_section(&chains, &args.steps));
    measurements.extend(chains);
    let command = format!(
        "cargo run --release -p beamline-benchmarks --bin rayon-bench --{}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>()
    );
    let mut text = report::render(&Report {
        title: "Rayon runner benchmark results: CombinePerKey and Map chains",
        command,
        machine: &machine,
        revision: env!("BEAMLINE_BENCH_REVISION").to_string(),
        allocator: "mimalloc (as the example programs)",
        isolation: if in_process { "in process" } else { "a fresh child process per run" },
        load_after: load_average(),
        measurements: &measurements,
    });
    // The memory growth and per-step costs go with the summaries, before the per-workload details.
    let details = measurements.first().and_then(|m| text.find(&format!("\n## {}\n", m.workload)));
    text.insert_str(details.map_or(text.len(), |i| i + 1), &sections);
    println!("{text}");
    let results = match (&args.results, args.quick || args.no_results) {
        (Some(p), _) if !args.no_results => Some(p.clone()),
        (None, false) => Some(root.join("benchmarks").join("RESULTS-rayon.md")),
        _ => None,
    };
    if let Some(path) = results {
        report::write_keeping_notes(&path, &text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
