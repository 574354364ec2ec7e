//! Triggers on the timely runner: the streaming fixed-window count per key
//! (see `streaming-bench`) with early firings every `--early-ms` of
//! processing time (aligned to its multiples, accumulating) against the same
//! count with the default trigger, in one run:
//! 1. unpaced on each worker count, the two pipelines back to back in every
//!    repetition: the early-firing count's throughput as a fraction of the
//!    default trigger's (goal: at least 0.8×). Every run's on-time panes are
//!    checked against the hand-written count;
//! 2. paced at `--fraction` (½) of the early-firing count's measured rate,
//!    event time tied to the wall clock: each early pane's latency from the
//!    processing time its firing was due (the latest multiple of the period)
//!    to the sink, p50 and p99 (goal: p99 under 10 ms).
//!
//! `cargo run --release -p beamline-benchmarks --bin trigger-bench -- [--reps 3] [--events 20M] [--quick]`
//!
//! Prints a markdown report and writes it to `--results` (default
//! `benchmarks/RESULTS-triggers.md`; `--quick` writes nothing unless given one).

use anyhow::{bail, Context};
use beamline_benchmarks::machine::{load_average, Machine};
use beamline_benchmarks::stats::median;
use beamline_benchmarks::streaming::{self, quantile, LatencySpec, ThroughputSpec};
use beamline_benchmarks::units::{count_label, parse_count};
use clap::Parser;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The early-firing count's throughput goal, as a fraction of the default trigger's.
const GOAL_RATIO: f64 = 0.8;
/// The early panes' p99 latency goal, in ms.
const GOAL_P99_MS: f64 = 10.0;

#[derive(Parser, Debug)]
#[command(name = "trigger-bench", about = "Early firings against the default trigger on the timely runner")]
struct Args {
    /// Repetitions of the unpaced runs (medians are reported) and of the paced ones (pooled).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Events of each unpaced run (`20M`, `500K`).
    #[arg(long, default_value = "20M", value_parser = parse_events)]
    events: u64,
    /// Distinct keys (element n has key n % keys).
    #[arg(long, default_value_t = 1000)]
    keys: u64,
    /// Window size in milliseconds (event time in the unpaced runs, wall-clock time in the paced ones).
    #[arg(long, default_value_t = 1000)]
    window_ms: u64,
    /// The early firings' period in milliseconds of processing time.
    #[arg(long, default_value_t = 100)]
    early_ms: u64,
    /// Timely worker counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    workers: Vec<usize>,
    /// The paced runs' rate as a fraction of the early-firing count's measured rate.
    #[arg(long, default_value_t = 0.5)]
    fraction: f64,
    /// Seconds each paced run reads.
    #[arg(long, default_value_t = 5.0)]
    latency_secs: f64,
    /// 1M events, one repetition, 2 s paced runs; writes no report unless --results is given.
    #[arg(long)]
    quick: bool,
    /// Where to write the markdown report [default: benchmarks/RESULTS-triggers.md].
    #[arg(long)]
    results: Option<PathBuf>,
}

fn parse_events(s: &str) -> Result<u64, String> {
    parse_count(s).map_err(|e| e.to_string())
}

/// One worker count's figures.
#[derive(Default)]
struct PerWorkers {
    workers: usize,
    default_walls: Vec<f64>,
    early_walls: Vec<f64>,
    early_panes: Vec<usize>,
    /// The paced runs' rate (events/s) and pooled early-pane latencies (ms, sorted).
    paced_rate: f64,
    delivered: Vec<f64>,
    latencies_ms: Vec<f64>,
}

impl PerWorkers {
    fn ratio(&self) -> f64 {
        let (d, e) = (median(&self.default_walls), median(&self.early_walls));
        d.zip(e).map_or(f64::NAN, |(d, e)| d / e.max(1e-9))
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (events, reps, latency_secs) =
        if args.quick { (1_000_000, 1, 2.0) } else { (args.events, args.reps, args.latency_secs) };
    let valid_counts = reps > 0 && !args.workers.is_empty() && !args.workers.contains(&0) && args.keys > 0;
    if !valid_counts || args.window_ms == 0 || args.early_ms == 0 {
        bail!("give at least one repetition, worker counts and keys of at least 1, and windows and periods of 1 ms or more");
    }
    if !(args.fraction > 0.0 && args.fraction <= 1.0 && latency_secs > 0.0 && latency_secs.is_finite()) {
        bail!("--fraction must be in (0, 1] and --latency-secs positive");
    }
    let machine = Machine::describe();
    let early = Duration::from_millis(args.early_ms);
    let default_spec =
        ThroughputSpec { events, keys: args.keys, window_us: args.window_ms as i64 * 1000, spacing_us: 1, early: None };
    let early_spec = ThroughputSpec { early: Some(early), ..default_spec };
    let expected = streaming::baseline(&default_spec);
    let mut figures: Vec<PerWorkers> =
        args.workers.iter().map(|&workers| PerWorkers { workers, ..PerWorkers::default() }).collect();

    // 1. Unpaced: the default trigger and the early firings back to back.
    for rep in 1..=reps {
        for f in &mut figures {
            for (name, spec) in [("default", &default_spec), ("early", &early_spec)] {
                let setup = format!("timely-{} {name}", f.workers);
                let run = streaming::run_throughput(spec, f.workers).with_context(|| setup.clone())?;
                streaming::verify(&setup, &expected, &run.tally)?;
                let secs = run.sample.wall.as_secs_f64();
                eprintln!(
                    "  rep {rep}/{reps} {setup:<18} {secs:>7.3} s  {:>6.2} M events/s  {} early panes",
                    events as f64 / secs.max(1e-9) / 1e6,
                    run.early_panes
                );
                if spec.early.is_some() {
                    f.early_walls.push(secs);
                    f.early_panes.push(run.early_panes);
                } else {
                    f.default_walls.push(secs);
                }
            }
        }
    }

    // 2. Paced at a fraction of the early-firing count's rate.
    for f in &mut figures {
        let rate = events as f64 / median(&f.early_walls).unwrap_or(f64::NAN).max(1e-9);
        f.paced_rate = (rate * args.fraction).round();
        for rep in 1..=reps {
            let spec = LatencySpec {
                rate: f.paced_rate,
                workers: f.workers,
                duration: Duration::from_secs_f64(latency_secs),
                keys: args.keys,
                window: Duration::from_millis(args.window_ms),
                early: Some(early),
            };
            let run = streaming::run_latency(&spec).with_context(|| format!("paced run on timely-{}", f.workers))?;
            let q = |x| quantile(&run.early_latencies_ms, x).unwrap_or(f64::NAN);
            eprintln!(
                "  rep {rep}/{reps} paced timely-{} at {:.2} M events/s: delivered {:.2} M/s, {} early panes, p50 \
                 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                f.workers,
                f.paced_rate / 1e6,
                run.delivered_rate() / 1e6,
                run.early_latencies_ms.len(),
                q(0.5),
                q(0.99),
                q(1.0)
            );
            f.delivered.push(run.delivered_rate());
            f.latencies_ms.extend(run.early_latencies_ms);
        }
        f.latencies_ms.sort_by(f64::total_cmp);
    }

    let command = format!(
        "cargo run --release -p beamline-benchmarks --bin trigger-bench --{}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>()
    );
    let text = render(&command, &machine, &args, events, reps, &figures);
    println!("{text}");
    let results = match (&args.results, args.quick) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS-triggers.md")),
        (None, true) => None,
    };
    if let Some(path) = results {
        std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met {
        "**met**"
    } else {
        "**NOT met**"
    }
}

/// The markdown report.
fn render(command: &str, machine: &Machine, args: &Args, events: u64, reps: usize, figures: &[PerWorkers]) -> String {
    let mut s = String::new();
    let load = |l: Option<f64>| l.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into());
    let _ = writeln!(s, "# Triggers: early firings against the default trigger on the timely runner\n");
    let _ = writeln!(
        s,
        "Generated by `{command}` on {}; built from {}. {} ({} cores, {} build, mimalloc), {}; load average (1 min) \
         before / after {} / {}. **The machine is small and shared: compare within this run, not across runs.**\n",
        machine.date,
        env!("BEAMLINE_BENCH_REVISION"),
        machine.cpu,
        machine.cores,
        machine.profile,
        machine.rustc,
        load(machine.load),
        load(load_average())
    );
    let _ = writeln!(
        s,
        "Pipeline (as `streaming-bench`): `GenerateSequence` → `Key` (`n % {keys}`) → `Window` (fixed, {w} ms) → \
         `Count` (`Count::per_key`) → `Tally`. **default**: the default trigger (the engine's fast path, lifted \
         combine). **early**: `AfterWatermark().with_early_firings(AfterProcessingTime(0).aligned_to({e} ms))`, \
         accumulating (the triggered grouping, unlifted). The sink counts early panes apart; the on-time panes of \
         every run are checked against the hand-written count (events, outputs and their digest), or the \
         benchmark fails.\n",
        keys = args.keys,
        w = args.window_ms,
        e = args.early_ms
    );
    let _ = writeln!(s, "## Throughput (unpaced, {} events, {reps} repetitions, medians)\n", count_label(events));
    let _ = writeln!(
        s,
        "| workers | default (s) | early (s) | default M events/s | early M events/s | early panes (median) | early / \
         default throughput | goal ≥ {GOAL_RATIO} |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---|");
    for f in figures {
        let (d, e) = (median(&f.default_walls).unwrap_or(f64::NAN), median(&f.early_walls).unwrap_or(f64::NAN));
        let panes: Vec<f64> = f.early_panes.iter().map(|&p| p as f64).collect();
        let _ = writeln!(
            s,
            "| {} | {d:.3} | {e:.3} | {:.2} | {:.2} | {:.0} | {:.2} | {} |",
            f.workers,
            events as f64 / d / 1e6,
            events as f64 / e / 1e6,
            median(&panes).unwrap_or(f64::NAN),
            f.ratio(),
            verdict(f.ratio() >= GOAL_RATIO)
        );
    }
    let _ = writeln!(s, "\nEvery run's wall time (s):\n");
    for f in figures {
        let _ = writeln!(s, "- timely-{} default: {:.3?}; early: {:.3?}", f.workers, f.default_walls, f.early_walls);
    }
    let _ = writeln!(
        s,
        "\n## Early panes' latency (paced at {} of the early count's rate, {reps} × {} s pooled)\n",
        args.fraction,
        if args.quick { 2.0 } else { args.latency_secs }
    );
    let _ = writeln!(
        s,
        "Latency of an early pane = when it reached the sink minus the latest multiple of {e} ms of the wall \
         clock before it: when its aligned firing was due. This holds while a pane is less than {e} ms late \
         (a later one would be counted as early by a period); the maximum below shows it stayed so.\n",
        e = args.early_ms
    );
    let _ = writeln!(
        s,
        "| workers | rate (M events/s) | delivered (M/s) | early panes | p50 (ms) | p99 (ms) | max (ms) | goal p99 < \
         {GOAL_P99_MS} ms |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---|");
    for f in figures {
        let q = |x| quantile(&f.latencies_ms, x).unwrap_or(f64::NAN);
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {:.2} | {} |",
            f.workers,
            f.paced_rate / 1e6,
            median(&f.delivered).unwrap_or(f64::NAN) / 1e6,
            f.latencies_ms.len(),
            q(0.5),
            q(0.99),
            q(1.0),
            verdict(q(0.99) < GOAL_P99_MS)
        );
    }
    s
}
