//! Timely cluster benchmark: what the network costs. The examples' wordcount
//! program on one process of 2 workers (`timely-2`) against two processes of
//! one worker each on loopback (`timely-2p`), same input, same run.
//!
//! `cargo build --release -p beamline-examples --example wordcount`, then
//! `cargo run --release -p beamline-benchmarks --bin timely-bench -- [--size 64 | --bytes N] [--reps 3]
//! [--launches timely-2,timely-2p] [--quick]`
//!
//! Every launch runs the built example binary (so every launch pays process
//! start), is timed from the first spawn until the last process exits, and
//! has its output (all shards of all processes, sorted lines) checked against
//! the hand-written count. Prints a markdown report; writes it to `--results`
//! if given. Wordcount on the in-process setups (`timely-1`, `timely-2`
//! against the hand-written counts) is `wordcount-bench --setups ...,timely-1,timely-2`.

use anyhow::{bail, Context};
use beamline_benchmarks::cluster::{connection_sleeps, default_example_program, Launch};
use beamline_benchmarks::corpus::{self, CorpusSpec};
use beamline_benchmarks::machine::{load_average, Machine};
use beamline_benchmarks::stats::{median, Sample, Summary};
use beamline_benchmarks::wordcount::{self, size_label, WordCount};
use beamline_benchmarks::Workload;
use clap::Parser;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bytes of the quick mode's corpus.
const QUICK_BYTES: u64 = 200 * 1024;

#[derive(Parser, Debug)]
#[command(name = "timely-bench", about = "Wordcount on one timely process vs a timely cluster on loopback")]
struct Args {
    /// Corpus size in MiB.
    #[arg(long, default_value_t = 64)]
    size: u64,
    /// Corpus size in bytes, instead of --size: a tiny corpus shows the fixed cost of starting a cluster.
    #[arg(long, conflicts_with = "size")]
    bytes: Option<u64>,
    /// Repetitions (medians are reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Launches, comma-separated; the first is the reference of the ratios. `timely-N`: one process of N workers;
    /// `timely-Np`: N processes of one worker; `timely-PxW`: P processes of W workers.
    #[arg(long, value_delimiter = ',', default_value = "timely-2,timely-2p")]
    launches: Vec<String>,
    /// Output shards (`--num-shards` of the example program).
    #[arg(long, default_value_t = 2)]
    num_shards: u32,
    /// The built example program [default: target/release/examples/wordcount].
    #[arg(long)]
    example: Option<PathBuf>,
    /// Seconds a launch may run before its processes are killed and the benchmark fails.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Tiny input (200 KiB), one repetition.
    #[arg(long)]
    quick: bool,
    /// Where corpora are generated and cached [default: bench-data/ at the repository root].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Also write the markdown report to this file.
    #[arg(long)]
    results: Option<PathBuf>,
}

/// One launch's samples, one per repetition.
struct Measured {
    launch: Launch,
    samples: Vec<Sample>,
    /// Seconds slept connecting to peers in each repetition ([`connection_sleeps`]).
    sleeps: Vec<usize>,
}

impl Measured {
    /// Wall seconds of each repetition minus the seconds slept connecting.
    fn working(&self) -> Vec<f64> {
        self.samples.iter().zip(&self.sleeps).map(|(s, &z)| s.wall.as_secs_f64() - z as f64).collect()
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let data_dir = args.data_dir.clone().unwrap_or_else(|| root.join("bench-data"));
    let launches = args.launches.iter().map(|n| Launch::by_name(n)).collect::<Result<Vec<_>, _>>()?;
    if launches.is_empty() || args.reps == 0 {
        bail!("give at least one launch and one repetition");
    }
    let program = args.example.clone().unwrap_or_else(default_example_program);
    if !program.is_file() {
        bail!(
            "the example program {} is not built: run `cargo build --release -p beamline-examples --example \
             wordcount` (or give --example PATH)",
            program.display()
        );
    }
    let machine = Machine::describe();
    let (spec, reps) = match (args.quick, args.bytes) {
        (true, _) => (CorpusSpec::zipf(QUICK_BYTES), 1),
        (false, Some(bytes)) => (CorpusSpec::zipf(bytes), args.reps),
        (false, None) => (CorpusSpec::zipf_mb(args.size), args.reps),
    };
    let corpus =
        corpus::ensure(&spec, &data_dir).with_context(|| format!("preparing the corpus in {}", data_dir.display()))?;
    let wc = WordCount::new(corpus.clone());
    let scratch = data_dir.join(format!("scratch-timely-{}", std::process::id()));
    let base_dir = scratch.join("baseline");
    std::fs::create_dir_all(&base_dir).with_context(|| format!("creating {}", base_dir.display()))?;
    // The reference output every launch is checked against (untimed).
    wordcount::baseline(&corpus.path, &base_dir.join("counts"))?;
    let timeout = Duration::from_secs(args.timeout);
    let mut measured: Vec<Measured> =
        launches.into_iter().map(|launch| Measured { launch, samples: vec![], sleeps: vec![] }).collect();
    for rep in 1..=reps {
        for m in &mut measured {
            let dir = scratch.join(&m.launch.name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            let sample = m.launch.run(&program, &corpus.path, &dir, args.num_shards, timeout)?;
            wc.verify(&m.launch.name, &base_dir, &dir)?;
            let sleeps = connection_sleeps(&dir, m.launch.processes);
            let secs = sample.wall.as_secs_f64();
            eprintln!(
                "  {} rep {rep}/{reps} {:<12} {secs:>8.3} s  {:>12.0} words/s  {sleeps} s connecting  (output verified)",
                wc.name(),
                m.launch.name,
                corpus.words as f64 / secs.max(1e-9)
            );
            m.samples.push(sample);
            m.sleeps.push(sleeps);
            std::fs::remove_dir_all(&dir)?;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let command = format!(
        "cargo run --release -p beamline-benchmarks --bin timely-bench --{}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>()
    );
    let text = render(&command, &machine, &program, &wc, args.num_shards, &measured);
    println!("{text}");
    if let Some(path) = &args.results {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The markdown report: machine, method, one table, every run's time.
fn render(
    command: &str,
    machine: &Machine,
    program: &Path,
    wc: &WordCount,
    shards: u32,
    measured: &[Measured],
) -> String {
    let mut s = String::new();
    let c = wc.corpus();
    let load = |l: Option<f64>| l.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into());
    let _ = writeln!(s, "## Timely: one process vs a cluster on loopback\n");
    let _ = writeln!(
        s,
        "Generated by `{command}` on {}; built from {}. {} ({} cores), load average (1 min) before / after {} / {}.\n",
        machine.date,
        env!("BEAMLINE_BENCH_REVISION"),
        machine.cpu,
        machine.cores,
        load(machine.load),
        load(load_average())
    );
    let _ = writeln!(
        s,
        "Wordcount on {} ({} words, {} distinct), `{}` with `--runner=timely --num-shards={shards}`. Every \
         launch starts the example program (one process, or one per cluster member with `--processes`, \
         `--process-index` and a hosts file of free `127.0.0.1` ports) and is timed from the first spawn until \
         the last process exits; its shards, sorted, must equal the hand-written count's lines. \
         **paired** = median over repetitions of (launch time / `{}` time in the same repetition). CPU is the \
         user+system time of all the launch's processes. **connecting** = seconds a process of the launch \
         slept in timely_communication's connection set-up (it polls for peers once a second and says so on \
         stdout), the most of any process: 0 while the runner makes the connections itself; **working** = \
         wall − connecting, and its paired ratio.\n",
        size_label(c.spec.bytes),
        c.words,
        c.distinct,
        program.display(),
        measured.first().map_or("", |m| m.launch.name.as_str())
    );
    let _ = writeln!(
        s,
        "| launch | processes × workers | median s | min s | max s | rate | CPU s | ratio | paired | connecting s \
         | working s | working paired |"
    );
    let _ = writeln!(s, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let paired = |a: &[f64], b: &[f64]| {
        let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y.max(1e-9)).collect();
        median(&ratios).unwrap_or(f64::NAN)
    };
    let walls = |m: &Measured| m.samples.iter().map(|x| x.wall.as_secs_f64()).collect::<Vec<f64>>();
    let Some(reference) = measured.first() else { return s };
    let reference_median = median(&walls(reference)).unwrap_or(f64::NAN);
    for m in measured {
        let Some(sum) = Summary::of(&m.samples) else { continue };
        let sleeps: Vec<f64> = m.sleeps.iter().map(|&z| z as f64).collect();
        let _ = writeln!(
            s,
            "| {} | {} × {} | {:.3} | {:.3} | {:.3} | {:.2} M words/s | {} | {:.2}× | {:.2}× | {:.0} | {:.3} | {:.2}× |",
            m.launch.name,
            m.launch.processes,
            m.launch.workers,
            sum.median,
            sum.min,
            sum.max,
            c.words as f64 / sum.median.max(1e-9) / 1e6,
            sum.cpu_median.map(|x| format!("{x:.2}")).unwrap_or_else(|| "?".into()),
            sum.median / reference_median.max(1e-9),
            paired(&walls(m), &walls(reference)),
            median(&sleeps).unwrap_or(f64::NAN),
            median(&m.working()).unwrap_or(f64::NAN),
            paired(&m.working(), &reference.working()),
        );
    }
    let _ = writeln!(s, "\nEvery run's wall seconds (seconds connecting), in repetition order:\n");
    for m in measured {
        let runs: Vec<String> =
            m.samples.iter().zip(&m.sleeps).map(|(x, z)| format!("{:.3} ({z})", x.wall.as_secs_f64())).collect();
        let _ = writeln!(s, "- {}: {}", m.launch.name, runs.join(", "));
    }
    s
}
