//! Keyed state and timers on the timely runner, against the same work done
//! by `Count::per_key` (lifted) and by a hand-written `FxHashMap` count, in
//! one run:
//! 1. **count per key**: `--events` events over `--keys` keys in the global
//!    window, counted by `Count::per_key()` and by a `StatefulParDo`
//!    (`ValueState<u64>` + one event-time timer per key); the stateful /
//!    lifted time ratio on each worker count (goal: within 2×);
//! 2. **timer-heavy**: `--timer-events` events over `--timer-keys` keys in
//!    `--timer-windows` fixed windows, one timer per key and window; timers
//!    fired per second (per worker) of the stateful count.
//!
//! `cargo run --release -p beamline-benchmarks --bin stateful-bench -- [--reps 5] [--workers 1,2] [--quick]`
//!
//! Every repetition runs the hand-written count and then, on each worker
//! count, the lifted and the stateful pipeline, back to back, each in a fresh
//! child process of this program (`--in-process`: in this one); every output
//! is verified against the hand-written count's. Prints a markdown report and
//! writes it to `--results` (default `benchmarks/RESULTS-stateful.md`, keeping
//! the notes below its marker; `--quick` writes nothing unless given one).

use anyhow::{bail, Context};
use beamline_benchmarks::harness::{self, Executor, InProcess, Measurement, Subprocess, Variant};
use beamline_benchmarks::machine::{load_average, Machine};
use beamline_benchmarks::report::write_keeping_notes;
use beamline_benchmarks::stateful::{self, shape_ratios, CountSpec, StatefulCountBench, GOAL_RATIO};
use beamline_benchmarks::stats::{median, Sample, Summary};
use beamline_benchmarks::units::{count_label, parse_count};
use beamline_benchmarks::Workload;
use clap::Parser;
use std::cell::RefCell;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

// The allocator the example programs use, so the pipeline runs as in a user's program.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "stateful-bench", about = "Keyed state and timers on the timely runner vs Count::per_key")]
struct Args {
    /// Repetitions (medians are reported).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Count per key: events (`2M`, `500K`).
    #[arg(long, default_value = "2M", value_parser = parse)]
    events: u64,
    /// Count per key: distinct keys.
    #[arg(long, default_value = "10K", value_parser = parse)]
    keys: u64,
    /// Timer-heavy: events (default: one per key and window).
    #[arg(long, value_parser = parse)]
    timer_events: Option<u64>,
    /// Timer-heavy: distinct keys.
    #[arg(long, default_value = "100K", value_parser = parse)]
    timer_keys: u64,
    /// Timer-heavy: fixed windows the events are cut into.
    #[arg(long, default_value_t = 10)]
    timer_windows: u64,
    /// Timely worker counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    workers: Vec<usize>,
    /// Tiny sizes, one repetition in this process, outputs checked; writes no results file unless --results is given.
    #[arg(long)]
    quick: bool,
    /// Run every measured run in this process instead of a fresh child process each.
    #[arg(long)]
    in_process: bool,
    /// The markdown results file [default: benchmarks/RESULTS-stateful.md; not written in --quick mode unless given].
    #[arg(long)]
    results: Option<PathBuf>,
    /// Internal: the workload a child process runs (`EVENTS:KEYS:WINDOWS`).
    #[arg(long, hide = true, requires_all = ["child_variant", "child_out"])]
    child_workload: Option<String>,
    /// Internal: run one variant (the baseline or a setup) in this child process.
    #[arg(long, hide = true)]
    child_variant: Option<String>,
    /// Internal: the child's output directory.
    #[arg(long, hide = true)]
    child_out: Option<PathBuf>,
}

fn parse(s: &str) -> Result<u64, String> {
    parse_count(s).map_err(|e| e.to_string())
}

fn child_spec(spec: &CountSpec) -> String {
    format!("{}:{}:{}", spec.events, spec.keys, spec.windows)
}

fn parse_child_spec(s: &str) -> anyhow::Result<CountSpec> {
    let parts: Vec<&str> = s.split(':').collect();
    let [events, keys, windows] = parts.as_slice() else { bail!("bad --child-workload '{s}'") };
    Ok(CountSpec { events: events.parse()?, keys: keys.parse()?, windows: windows.parse()? })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let (Some(spec), Some(variant), Some(out)) = (&args.child_workload, &args.child_variant, &args.child_out) {
        let w = StatefulCountBench::new(parse_child_spec(spec)?)?;
        let setups: Vec<_> = stateful::setup_by_name(variant).into_iter().collect();
        harness::child_main(&w, &setups, variant, out)?;
        return Ok(());
    }
    if args.reps == 0 || args.workers.is_empty() || args.workers.contains(&0) || args.timer_windows == 0 {
        bail!("give at least one repetition, worker counts of at least 1 and at least one timer window");
    }
    let machine = Machine::describe();
    if machine.profile != "release" {
        eprintln!("warning: built without optimizations; build with --release to measure");
    }
    let (count, timers, reps) = if args.quick {
        (
            CountSpec { events: 50_000, keys: 1_000, windows: 0 },
            CountSpec { events: 20_000, keys: 2_000, windows: 10 },
            1,
        )
    } else {
        let timer_events = args.timer_events.unwrap_or(args.timer_keys * args.timer_windows);
        (
            CountSpec { events: args.events, keys: args.keys, windows: 0 },
            CountSpec { events: timer_events, keys: args.timer_keys, windows: args.timer_windows },
            args.reps,
        )
    };
    let setups = stateful::setups(&args.workers);
    let scratch = std::env::temp_dir().join(format!("beamline-stateful-bench-{}", std::process::id()));
    let program = std::env::current_exe().context("finding this program to start child processes")?;
    let in_process = args.quick || args.in_process;
    let isolation = if in_process { "every run in this process" } else { "every run in a fresh child process" };
    let mut measurements = Vec::new();
    for spec in [count, timers] {
        let w = StatefulCountBench::new(spec)?;
        eprintln!("{}: {} outputs expected", w.name(), spec.outputs());
        let child = Subprocess { program: program.clone(), args: vec!["--child-workload".into(), child_spec(&spec)] };
        let inner: &dyn Executor = if in_process { &InProcess } else { &child };
        let watched = Watched { inner, others: RefCell::default() };
        let m = harness::measure(&w, &setups, reps, &scratch, &watched)?;
        measurements.push(Measured { spec, m, others: watched.others.into_inner() });
    }
    let _ = std::fs::remove_dir_all(&scratch);

    let command = format!(
        "cargo run --release -p beamline-benchmarks --bin stateful-bench --{}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>()
    );
    let text = render(&command, &machine, isolation, &measurements);
    println!("{text}");
    let results = match (&args.results, args.quick) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS-stateful.md")),
        (None, true) => None,
    };
    if let Some(path) = results {
        write_keeping_notes(&path, &text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// One workload's measurement, with how busy the rest of the machine was during each run.
struct Measured {
    spec: CountSpec,
    m: Measurement,
    /// `(variant, cores)`: the CPU the machine spent outside the measured run
    /// during it, per second of the run (another program's load), one per run.
    others: Vec<(String, f64)>,
}

/// Runs each measured run through `inner` and notes how busy the rest of the
/// machine was meanwhile: the machine's busy time (`/proc/stat`) minus the
/// run's own CPU time, over its wall time.
struct Watched<'a> {
    inner: &'a dyn Executor,
    others: RefCell<Vec<(String, f64)>>,
}

impl Executor for Watched<'_> {
    fn run(
        &self,
        workload: &dyn Workload,
        variant: Variant<'_>,
        out_dir: &Path,
    ) -> beamline_benchmarks::Result<Sample> {
        let before = machine_busy();
        let sample = self.inner.run(workload, variant, out_dir)?;
        if let (Some(a), Some(b), Some(cpu)) = (before, machine_busy(), sample.cpu) {
            let others = (b.saturating_sub(a).as_secs_f64() - cpu.as_secs_f64()) / sample.wall.as_secs_f64().max(1e-9);
            self.others.borrow_mut().push((variant.name().to_string(), others.max(0.0)));
        }
        Ok(sample)
    }
}

/// CPU time every core of the machine has spent busy so far (user, nice,
/// system, irq, softirq and steal in `/proc/stat`, 10 ms ticks); `None` where unknown.
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).map_while(|f| f.parse().ok()).collect();
    let ticks: u64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| fields.get(i)).sum();
    // USER_HZ is 100 on every Linux architecture Rust targets.
    Some(Duration::from_millis(ticks * 10))
}

fn verdict(met: bool) -> &'static str {
    if met {
        "**met**"
    } else {
        "**NOT met**"
    }
}

/// The markdown report.
fn render(command: &str, machine: &Machine, isolation: &str, measurements: &[Measured]) -> String {
    let mut s = String::new();
    let load = |l: Option<f64>| l.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into());
    let _ = writeln!(s, "# Keyed state and timers on the timely runner\n");
    let _ = writeln!(
        s,
        "Generated by `{command}` on {}; built from {}. {} ({} cores, {} memory, {}, {} build, mimalloc), {}; load \
         average (1 min) before / after {} / {}. **The machine is shared (another engineer compiles in the same \
         workspace): figures are noisy; compare within this run, not across runs.**\n",
        machine.date,
        env!("BEAMLINE_BENCH_REVISION"),
        machine.cpu,
        machine.cores,
        machine.memory.map_or("?".into(), |b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)),
        machine.kernel,
        machine.profile,
        machine.rustc,
        load(machine.load),
        load(load_average())
    );
    let _ = writeln!(
        s,
        "The same events are counted per key three ways: by a hand-written loop (one `FxHashMap<u64, u64>` per \
         window, single-threaded, for context), by `Count::per_key()` (a combine the timely runner lifts: \
         pre-combined per bundle before the shuffle) and by a `StatefulParDo` whose DoFn keeps a \
         `ValueState<u64>` counter per key and window and sets one event-time timer to the window's max \
         timestamp at every element; when the timer fires it emits `(key, count)`. Both pipelines run with \
         `--runner=timely --workers=N` (one process) and end in the same sink, which tallies the `(window, key, \
         count)` outputs: events, number of outputs and an order-independent digest must equal the hand-written \
         count's, or the benchmark fails. Each repetition runs the hand-written count and then, per worker count, \
         the lifted and the stateful pipeline, back to back ({isolation}). Time = wall time of the whole run \
         (pipeline construction, `Pipeline::run`, writing the tally). **stateful / lifted** = median stateful \
         time / median lifted time of the same worker count; **paired** = median over repetitions of that ratio \
         within one repetition (cancels slow drifts of the machine's load); **stateful / lifted, CPU** = the same \
         ratio of median CPU times (the work done, which another program taking a core changes less than the \
         wall time). CPU = the process's user+system time, all threads; **cores busy** = CPU / wall; peak RSS = \
         its high-water mark during the run. The goal (stateful within 2× of lifted) is judged on the paired \
         wall-time ratio.\n"
    );
    let machine_cores = machine.cores;
    for Measured { spec, m, others } in measurements {
        let timer_heavy = spec.windows > 0;
        let _ = writeln!(s, "## {}\n", m.workload);
        let _ = writeln!(s, "Input: {}.\n", m.input);
        let _ = writeln!(
            s,
            "| variant | runs | median s | min s | max s | events/s | per worker | {}CPU s | cores busy | other load, \
             cores | peak RSS MiB | vs hand-written |",
            if timer_heavy { "timers/s | timers/s per worker | " } else { "" }
        );
        let _ = writeln!(
            s,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | {}---: | ---: | ---: | ---: | ---: |",
            if timer_heavy { "---: | ---: | " } else { "" }
        );
        let rate = |per_sec: f64| {
            if per_sec >= 1e6 {
                format!("{:.2} M", per_sec / 1e6)
            } else {
                format!("{:.0} K", per_sec / 1e3)
            }
        };
        let load_of = |name: &str| {
            let v: Vec<f64> = others.iter().filter(|(n, _)| n == name).map(|(_, c)| *c).collect();
            median(&v).map_or("?".into(), |c| format!("{c:.2}"))
        };
        let mut row = |name: &str, variant: &str, workers: usize, sum: &Summary, vs: String, stateful: bool| {
            let timers = if !timer_heavy {
                String::new()
            } else if stateful {
                let t = spec.outputs() as f64 / sum.median.max(1e-9);
                format!("{} | {} | ", rate(t), rate(t / workers as f64))
            } else {
                "– | – | ".into()
            };
            let _ = writeln!(
                s,
                "| {name} | {} | {:.3} | {:.3} | {:.3} | {} | {} | {timers}{} | {} | {} | {} | {vs} |",
                sum.n,
                sum.median,
                sum.min,
                sum.max,
                rate(m.items as f64 / sum.median.max(1e-9)),
                rate(m.items as f64 / sum.median.max(1e-9) / workers as f64),
                sum.cpu_median.map_or("?".into(), |c| format!("{c:.2}")),
                sum.cpu_median.map_or("?".into(), |c| format!("{:.2}", c / sum.median.max(1e-9))),
                load_of(variant),
                sum.peak_rss.map_or("?".into(), |b| format!("{:.0}", b as f64 / 1048576.0)),
            );
        };
        for (b, samples) in &m.baselines {
            if let Some(sum) = Summary::of(samples) {
                row(&format!("hand-written ({})", b.name), &b.name, b.threads, &sum, "1.00".into(), false);
            }
        }
        for (i, (setup, samples)) in m.setups.iter().enumerate() {
            let Some(sum) = Summary::of(samples) else { continue };
            let vs = m.compare(i).map_or("–".into(), |c| format!("{:.1}×", c.median_paired_ratio));
            row(&setup.name, &setup.name, setup.workers.unwrap_or(1), &sum, vs, setup.name.starts_with("stateful"));
        }
        let _ = writeln!(
            s,
            "\n**other load** = CPU the rest of the machine used during the run (`/proc/stat` busy time − the run's \
             own CPU time), per second of the run, median over repetitions (10 ms ticks: rough for the short runs); \
             the machine has {machine_cores} cores, so other load above {} means a 2-worker run did not have two \
             cores to itself. **vs hand-written** = paired ratio to the single-threaded hand-written count.\n",
            machine_cores.saturating_sub(2)
        );
        let _ = writeln!(
            s,
            "| workers | lifted median s | stateful median s | stateful / lifted | paired | lifted CPU s | stateful CPU \
             s | stateful / lifted, CPU |{}",
            if timer_heavy {
                " timers fired | stateful timers/s per worker | stateful timers per CPU-second |"
            } else {
                " goal (paired) | verdict |"
            }
        );
        let _ = writeln!(
            s,
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | {}",
            if timer_heavy { "---: | ---: | ---: |" } else { "--- | --- |" }
        );
        let opt = |x: Option<f64>, unit: &str| x.map_or("?".into(), |v| format!("{v:.2}{unit}"));
        for r in shape_ratios(m) {
            let tail = if timer_heavy {
                format!(
                    "{} | {} | {} |",
                    count_label(spec.outputs()),
                    rate(spec.outputs() as f64 / r.stateful.max(1e-9) / r.workers as f64),
                    r.stateful_cpu.map_or("?".into(), |c| rate(spec.outputs() as f64 / c.max(1e-9)))
                )
            } else {
                format!("within {GOAL_RATIO:.0}× | {} |", verdict(r.median_paired_ratio <= GOAL_RATIO))
            };
            let _ = writeln!(
                s,
                "| {} | {:.3} | {:.3} | {:.2}× | {:.2}× | {} | {} | {} | {tail}",
                r.workers,
                r.lifted,
                r.stateful,
                r.ratio_of_medians,
                r.median_paired_ratio,
                opt(r.lifted_cpu, ""),
                opt(r.stateful_cpu, ""),
                opt(r.cpu_ratio(), "×"),
            );
        }
        let _ = writeln!(s, "\nEvery run's wall seconds, in repetition order:\n");
        let runs = |v: &[beamline_benchmarks::stats::Sample]| {
            v.iter().map(|x| format!("{:.3}", x.wall.as_secs_f64())).collect::<Vec<_>>().join(", ")
        };
        for (b, v) in &m.baselines {
            let _ = writeln!(s, "- hand-written ({}): {}", b.name, runs(v));
        }
        for (setup, v) in &m.setups {
            let _ = writeln!(s, "- {}: {}", setup.name, runs(v));
        }
        s.push('\n');
    }
    s
}
