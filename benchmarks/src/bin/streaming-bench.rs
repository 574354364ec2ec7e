//! Streaming benchmark of the timely runner: a fixed-window count per key
//! over `GenerateSequence`, in one run,
//! 1. unpaced on 1 and 2 workers against the hand-written count on 1 and 2
//!    threads (events/s = events / wall time, medians of `--reps`), every
//!    run's output checked against the hand-written one's;
//! 2. paced at `--fraction` (½) of each worker count's measured rate for
//!    `--latency-secs`, with event time tied to the wall clock: the latency
//!    from the watermark passing each window's end to its counts reaching the
//!    sink, p50 and p99.
//!
//! `cargo run --release -p beamline-benchmarks --bin streaming-bench -- [--reps 3] [--events 50M] [--quick]`
//!
//! Prints a markdown report and writes it to `--results` (default
//! `benchmarks/RESULTS-streaming.md`; `--quick` writes nothing unless given one).

use anyhow::{bail, Context};
use beamline_benchmarks::machine::{load_average, Machine};
use beamline_benchmarks::stats::{median, Sample, Summary};
use beamline_benchmarks::streaming::{self, quantile, LatencyRun, LatencySpec, Tally, ThroughputSpec};
use beamline_benchmarks::units::{count_label, parse_count};
use clap::Parser;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Events per second each worker should sustain.
const GOAL_RATE_PER_WORKER: f64 = 2e6;
/// The latency goal for p99, in ms.
const GOAL_P99_MS: f64 = 10.0;

#[derive(Parser, Debug)]
#[command(name = "streaming-bench", about = "Fixed-window count on the timely runner: max rate and latency")]
struct Args {
    /// Repetitions of the unpaced runs (medians are reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Events of each unpaced run (`20M`, `500K`).
    #[arg(long, default_value = "50M", value_parser = parse_events)]
    events: u64,
    /// Distinct keys (element n has key n % keys).
    #[arg(long, default_value_t = 1000)]
    keys: u64,
    /// Window size in milliseconds (event time in the unpaced runs, wall-clock time in the paced ones).
    #[arg(long, default_value_t = 100)]
    window_ms: u64,
    /// Timely worker counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    workers: Vec<usize>,
    /// The paced runs' rate as a fraction of the measured maximum.
    #[arg(long, default_value_t = 0.5)]
    fraction: f64,
    /// Seconds each paced run reads (`--max-duration`).
    #[arg(long, default_value_t = 5.0)]
    latency_secs: f64,
    /// 1M events, one repetition, 2 s paced runs; writes no report unless --results is given.
    #[arg(long)]
    quick: bool,
    /// Where to write the markdown report [default: benchmarks/RESULTS-streaming.md].
    #[arg(long)]
    results: Option<PathBuf>,
}

fn parse_events(s: &str) -> Result<u64, String> {
    parse_count(s).map_err(|e| e.to_string())
}

/// One worker count's paced runs.
struct Paced {
    workers: usize,
    /// Events per second: the fraction of the worker count's median unpaced rate.
    rate: f64,
    runs: Vec<LatencyRun>,
}

impl Paced {
    /// The values `f` picks from every run, pooled and sorted.
    fn pooled(&self, f: impl Fn(&LatencyRun) -> &[f64]) -> Vec<f64> {
        let mut all: Vec<f64> = self.runs.iter().flat_map(|r| f(r).iter().copied()).collect();
        all.sort_by(f64::total_cmp);
        all
    }
}

/// One variant's unpaced runs.
struct Unpaced {
    name: String,
    /// Threads or workers.
    parallelism: usize,
    /// Hand-written (the reference of the ratios) or a pipeline.
    baseline: bool,
    samples: Vec<Sample>,
    /// The pipeline's worker threads' run-queue wait in each run, in s (none for the baselines).
    waits: Vec<f64>,
}

impl Unpaced {
    fn walls(&self) -> Vec<f64> {
        self.samples.iter().map(|s| s.wall.as_secs_f64()).collect()
    }
    fn rate(&self, events: u64) -> f64 {
        events as f64 / median(&self.walls()).unwrap_or(f64::NAN).max(1e-9)
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (events, reps, latency_secs) =
        if args.quick { (1_000_000, 1, 2.0) } else { (args.events, args.reps, args.latency_secs) };
    if reps == 0 || args.workers.is_empty() || args.workers.contains(&0) || args.keys == 0 || args.window_ms == 0 {
        bail!(
            "give at least one repetition, worker counts of at least 1, at least one key and a window of 1 ms or more"
        );
    }
    let valid = args.fraction > 0.0 && args.fraction <= 1.0 && latency_secs > 0.0 && latency_secs.is_finite();
    if !valid {
        bail!("--fraction must be in (0, 1] and --latency-secs positive");
    }
    let machine = Machine::describe();
    let spec =
        ThroughputSpec { events, keys: args.keys, window_us: args.window_ms as i64 * 1000, spacing_us: 1, early: None };
    let mut threads = args.workers.clone();
    threads.sort_unstable();
    threads.dedup();
    let mut variants: Vec<Unpaced> = threads
        .iter()
        .map(|&t| Unpaced {
            name: format!("hand-written-{t}"),
            parallelism: t,
            baseline: true,
            samples: vec![],
            waits: vec![],
        })
        .chain(args.workers.iter().map(|&w| Unpaced {
            name: format!("timely-{w}"),
            parallelism: w,
            baseline: false,
            samples: vec![],
            waits: vec![],
        }))
        .collect();

    // 1. Unpaced: every variant once per repetition, back to back.
    let expected = streaming::baseline(&spec);
    eprintln!(
        "unpaced: {} events, {} keys, {} ms windows: {} outputs expected",
        count_label(events),
        spec.keys,
        args.window_ms,
        expected.outputs
    );
    for rep in 1..=reps {
        for v in &mut variants {
            let (tally, sample): (Tally, Sample) = if v.baseline {
                beamline_benchmarks::stats::time(|| match v.parallelism {
                    1 => streaming::baseline(&spec),
                    t => streaming::baseline_threads(&spec, t),
                })
            } else {
                let run = streaming::run_throughput(&spec, v.parallelism)?;
                v.waits.push(run.run_queue_wait.as_secs_f64());
                (run.tally, run.sample)
            };
            streaming::verify(&v.name, &expected, &tally)?;
            let secs = sample.wall.as_secs_f64();
            eprintln!(
                "  rep {rep}/{reps} {:<16} {secs:>8.3} s  {:>7.2} M events/s  CPU {:.2} s  (total {} verified){}",
                v.name,
                events as f64 / secs.max(1e-9) / 1e6,
                sample.cpu.map_or(f64::NAN, |c| c.as_secs_f64()),
                tally.events,
                v.waits
                    .last()
                    .filter(|_| !v.baseline)
                    .map_or(String::new(), |w| format!("  workers waited {w:.2} s for a core"))
            );
            v.samples.push(sample);
        }
    }

    // 2. Paced at a fraction of each worker count's measured rate, every
    // worker count once per repetition; the panes of all repetitions are pooled.
    let mut paced: Vec<Paced> = args
        .workers
        .iter()
        .map(|&w| {
            let max = variants.iter().find(|v| !v.baseline && v.parallelism == w).map_or(0.0, |v| v.rate(events));
            Paced { workers: w, rate: (max * args.fraction).round(), runs: vec![] }
        })
        .collect();
    // The control: the machine's own wake-up lateness, once per repetition.
    let mut jitter: Vec<Vec<f64>> = Vec::new();
    for rep in 1..=reps {
        for p in &mut paced {
            let lspec = LatencySpec {
                rate: p.rate,
                workers: p.workers,
                duration: Duration::from_secs_f64(latency_secs),
                keys: args.keys,
                window: Duration::from_millis(args.window_ms),
                early: None,
            };
            let run = streaming::run_latency(&lspec).with_context(|| format!("paced run on timely-{}", p.workers))?;
            let q = |xs: &[f64], x| quantile(xs, x).unwrap_or(f64::NAN);
            eprintln!(
                "  rep {rep}/{reps} paced timely-{} at {:.2} M events/s: delivered {:.2} M/s, {} windows, {} panes, \
                 p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (read p50 {:.2} max {:.2}, fire p50 {:.2} max {:.2}), \
                 workers waited {:.0} ms for a core, reader clocks {:.2} ms apart",
                p.workers,
                p.rate / 1e6,
                run.delivered_rate() / 1e6,
                run.windows,
                run.latencies_ms.len(),
                q(&run.latencies_ms, 0.5),
                q(&run.latencies_ms, 0.99),
                q(&run.latencies_ms, 1.0),
                q(&run.read_lag_ms, 0.5),
                q(&run.read_lag_ms, 1.0),
                q(&run.fire_lag_ms, 0.5),
                q(&run.fire_lag_ms, 1.0),
                run.run_queue_wait.as_secs_f64() * 1e3,
                run.clock_skew.as_secs_f64() * 1e3,
            );
            p.runs.push(run);
        }
        let worst = streaming::sleep_jitter(
            Duration::from_secs_f64(latency_secs),
            Duration::from_micros(100),
            Duration::from_millis(args.window_ms),
        );
        let q = |x| quantile(&worst, x).unwrap_or(f64::NAN);
        eprintln!(
            "  rep {rep}/{reps} control: a thread sleeping to a deadline every 100 µs, worst lateness per window: p50 \
             {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            q(0.5),
            q(0.99),
            q(1.0)
        );
        jitter.push(worst);
    }

    let command = format!(
        "cargo run --release -p beamline-benchmarks --bin streaming-bench --{}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>()
    );
    let measured =
        Measured { spec: &spec, reps, variants: &variants, paced: &paced, jitter: &jitter, fraction: args.fraction };
    let text = render(&command, &machine, &measured);
    println!("{text}");
    let results = match (&args.results, args.quick) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS-streaming.md")),
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

/// Everything one invocation measured.
struct Measured<'a> {
    spec: &'a ThroughputSpec,
    reps: usize,
    variants: &'a [Unpaced],
    paced: &'a [Paced],
    /// The control's worst lateness per window, one list per repetition.
    jitter: &'a [Vec<f64>],
    /// The paced runs' fraction of the highest rate.
    fraction: f64,
}

/// The markdown report.
fn render(command: &str, machine: &Machine, measured: &Measured<'_>) -> String {
    let Measured { spec, reps, variants, paced, jitter, fraction } = *measured;
    let mut s = String::new();
    let load = |l: Option<f64>| l.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into());
    let events = spec.events;
    let _ = writeln!(s, "# Streaming: fixed-window count on the timely runner\n");
    let _ = writeln!(
        s,
        "Generated by `{command}` on {}; built from {}. {} ({} cores, {} build, mimalloc), {}; load average (1 min) \
         before / after {} / {}. **The machine has 2 cores and is shared (another engineer compiles in the same \
         workspace): figures are noisy; compare within this run, not across runs.**\n",
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
        "Pipeline: `GenerateSequence` → `Key` (ParDo: `n % {keys}`) → `Window` (`WindowFn::fixed`) → `Count` \
         (`Count::per_key`, lifted by the runner) → `Tally` (a sink ParDo summing the counts). Every run of the \
         pipeline is checked against the hand-written count: events, number of `(window, key, count)` outputs and \
         an order-independent digest of them must be equal, or the benchmark fails.\n",
        keys = spec.keys
    );

    // Unpaced.
    let _ = writeln!(s, "## Highest sustained rate (unpaced)\n");
    let _ = writeln!(
        s,
        "`GenerateSequence::new().rate(0).count({}).event_times(0, 1 µs)`: {} windows of {} ms event time, {} \
         keys, run with `--runner=timely --workers=N`. Time = wall time of `Pipeline::run` (worker start to the \
         last window's output, in this process). The hand-written count does the same work in a loop (generate \
         `n` and its event time, `(window, n % keys)` into an `FxHashMap`, emit a window's counts when the \
         event time passes its end); `hand-written-2` splits the sequence over 2 threads as the generator's \
         readers do and merges each window's counts on a third. Rate = events / median wall time over {reps} \
         repetitions; **vs hand-written-1** and **vs hand-written-N** are the pipeline's rate as a fraction of \
         the hand-written one's on 1 and on N threads (1.00 = as fast). CPU is the process's user+system time; **cores busy** = CPU / wall; **workers' run-queue wait** = \
         time the timely worker threads were runnable but had no core (Linux `/proc/thread-self/schedstat`, \
         summed over workers): the share of the run the machine's other load took.\n",
        count_label(events),
        (events as i64 * spec.spacing_us).div_euclid(spec.window_us) + 1,
        spec.window_us / 1000,
        spec.keys,
    );
    let _ = writeln!(
        s,
        "| variant | median s | min s | max s | events/s | per worker/thread | vs hand-written-1 | vs hand-written-N | \
         CPU s | cores busy | workers' run-queue wait s |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let hand = |t: usize| variants.iter().find(|v| v.baseline && v.parallelism == t);
    let m = |r: f64| format!("{:.2} M", r / 1e6);
    for v in variants {
        let Some(sum) = Summary::of(&v.samples) else { continue };
        let rate = v.rate(events);
        let vs = |t: usize| hand(t).map_or("–".into(), |h| format!("{:.2}", rate / h.rate(events)));
        let _ = writeln!(
            s,
            "| {} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} | {} | {} | {} |",
            v.name,
            sum.median,
            sum.min,
            sum.max,
            m(rate),
            m(rate / v.parallelism as f64),
            if v.baseline && v.parallelism == 1 { "1.00".into() } else { vs(1) },
            if v.baseline { "–".into() } else { vs(v.parallelism) },
            sum.cpu_median.map_or("?".into(), |c| format!("{c:.2}")),
            sum.cpu_median.map_or("?".into(), |c| format!("{:.2}", c / sum.median.max(1e-9))),
            median(&v.waits).map_or("–".into(), |w| format!("{w:.2}")),
        );
    }
    let _ = writeln!(s, "\nEvery run's wall seconds, in repetition order:\n");
    for v in variants {
        let runs: Vec<String> = v.walls().iter().map(|w| format!("{w:.3}")).collect();
        let _ = writeln!(s, "- {}: {}", v.name, runs.join(", "));
    }

    // Paced.
    let window_ms = spec.window_us / 1000;
    let runs_per_count = paced.first().map_or(0, |p| p.runs.len());
    let windows_per_run = paced
        .first()
        .and_then(|p| p.runs.first())
        .map_or(0.0, |r| r.spec.duration.as_secs_f64() / r.spec.window.as_secs_f64().max(1e-9))
        .round();
    let _ = writeln!(s, "\n## Latency at {:.0}% of the highest rate\n", fraction * 100.0);
    let _ = writeln!(
        s,
        "`GenerateSequence::new().rate(R).event_times(now, spacing).out_of_order(0)` with R = {:.0}% of the \
         median unpaced rate of the same worker count, run with `--max-duration`. Event time follows the wall \
         clock: element n is due n / R after the generator's clock starts, and its event time is start + n × \
         spacing (spacing = 1 / R rounded to whole µs, at least 1 µs — the generator's resolution — so above \
         1 M events/s event time runs *scale* times faster than the wall clock, and the windows are *scale* × \
         {} ms of event time so that they last {} ms of wall time). With no out-of-orderness the watermark passes \
         a window's end when the first element at or past it is read, which is no earlier than its due time. \
         **Latency** of a pane (one worker's share of a window's counts) = wall time its last count reached the \
         sink − due time of the first element at or past the window's end. Each generator reader's clock start is \
         estimated in the `Key` step (smallest `now − n / R` over the first element of each of its bundles); \
         due times are on the earliest reader's clock, and **start-up** (from building the pipeline to that) is \
         left out. **clock skew** = how much later the last reader's clock started than the first's: every \
         worker splits the source itself, so each worker's reader paces on a clock of its own, started at its \
         first read, and a late one keeps the watermark that far behind for the whole run. **run-queue wait** = time the worker \
         threads were runnable without a core; **steal** = CPU time the hypervisor took from the machine (both \
         cores, 10 ms ticks). The last window, fired by the drain at \
         shutdown, is left out. **delivered** = events counted / (run time − start-up): about R if the runner \
         kept up. Each worker count runs {} times for {} s (about {} windows a run) and the verdict is on the \
         panes of all runs pooled; with so few windows p99 is in effect one of the largest few pane latencies.\n",
        fraction * 100.0,
        window_ms,
        window_ms,
        runs_per_count,
        paced.first().and_then(|p| p.runs.first()).map_or(0.0, |r| r.spec.duration.as_secs_f64()),
        windows_per_run,
    );
    let _ = writeln!(
        s,
        "| setup | run | target rate | delivered | spacing µs | scale | windows | panes | start-up ms | clock skew ms | p50 ms | \
         p99 ms | max ms | min ms | largest (window #) | events per `Key` bundle | run-queue wait ms | steal ms |"
    );
    let _ = writeln!(
        s,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"
    );
    let ms = |xs: &[f64], x: f64| quantile(xs, x).map_or("–".into(), |v| format!("{v:.2}"));
    for p in paced {
        for (k, r) in p.runs.iter().enumerate() {
            let _ = writeln!(
                s,
                "| timely-{} | {} | {}/s | {}/s ({:.0}%) | {} | {:.2} | {} | {} | {:.1} | {:.2} | {} | {} | {} | {} | {} | {:.0} | {:.0} | {} |",
                p.workers,
                k + 1,
                m(p.rate),
                m(r.delivered_rate()),
                r.delivered_rate() / p.rate.max(1e-9) * 100.0,
                r.spacing_us,
                r.scale,
                r.windows,
                r.latencies_ms.len(),
                r.startup.as_secs_f64() * 1e3,
                r.clock_skew.as_secs_f64() * 1e3,
                ms(&r.latencies_ms, 0.5),
                ms(&r.latencies_ms, 0.99),
                ms(&r.latencies_ms, 1.0),
                ms(&r.latencies_ms, 0.0),
                r.worst.iter().map(|(w, l)| format!("{l:.2} (#{w})")).collect::<Vec<_>>().join(", "),
                r.events as f64 / r.key_bundles.max(1) as f64,
                r.run_queue_wait.as_secs_f64() * 1e3,
                r.steal.map_or("?".into(), |d| d.as_millis().to_string()),
            );
        }
        let all = p.pooled(|r| &r.latencies_ms);
        let _ = writeln!(
            s,
            "| **timely-{}** | **all {}** | | | | | {} | {} | | | **{}** | **{}** | {} | {} | | | | |",
            p.workers,
            p.runs.len(),
            p.runs.iter().map(|r| r.windows).sum::<usize>(),
            all.len(),
            ms(&all, 0.5),
            ms(&all, 0.99),
            ms(&all, 1.0),
            ms(&all, 0.0),
        );
    }
    let _ = writeln!(
        s,
        "\nWhere the latency goes, over all runs: **read** = from the due time to the `Key` step of the last \
         worker seeing an element at or past the window's end (per window: source scheduling and reading); \
         **fire** = from that to the pane's last count in the sink (per pane: watermark propagation, the \
         combine firing, the sink).\n"
    );
    let _ =
        writeln!(s, "| setup | read p50 ms | read p99 ms | read max ms | fire p50 ms | fire p99 ms | fire max ms |");
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for p in paced {
        let (read, fire) = (p.pooled(|r| &r.read_lag_ms), p.pooled(|r| &r.fire_lag_ms));
        let _ = writeln!(
            s,
            "| timely-{} | {} | {} | {} | {} | {} | {} |",
            p.workers,
            ms(&read, 0.5),
            ms(&read, 0.99),
            ms(&read, 1.0),
            ms(&fire, 0.5),
            ms(&fire, 0.99),
            ms(&fire, 1.0),
        );
    }
    let _ = writeln!(
        s,
        "\n**Control** (no pipeline): the machine's own wake-up lateness. A thread sleeps to a deadline every \
         100 µs (the shortest idle wait of the runner's source) for the same time as a paced run; the value per \
         window is its worst lateness in that window, one per window like the panes. Pane latencies in the range \
         of these are the machine's, not the runner's.\n"
    );
    let _ = writeln!(s, "| control | windows | p50 ms | p99 ms | max ms |");
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: |");
    for (k, worst) in jitter.iter().enumerate() {
        let _ = writeln!(
            s,
            "| run {} | {} | {} | {} | {} |",
            k + 1,
            worst.len(),
            ms(worst, 0.5),
            ms(worst, 0.99),
            ms(worst, 1.0)
        );
    }
    let mut all: Vec<f64> = jitter.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    let _ = writeln!(
        s,
        "| **all {}** | {} | **{}** | **{}** | {} |",
        jitter.len(),
        all.len(),
        ms(&all, 0.5),
        ms(&all, 0.99),
        ms(&all, 1.0)
    );
    let _ = writeln!(
        s,
        "\n**events per `Key` bundle** = events / bundles the first ParDo processed: about what one source \
         activation read (a reader call hands over what is due, at most 4096 elements; an idle source is \
         re-activated after the generator's hint, at least 100 µs). For scale, 4096 elements are {}.\n",
        paced
            .iter()
            .map(|p| format!("{:.2} ms of timely-{}'s paced stream", 4096.0 / p.rate.max(1e-9) * 1e3, p.workers))
            .collect::<Vec<_>>()
            .join(" and ")
    );

    // Verdicts.
    let _ = writeln!(s, "## Verdicts\n");
    let _ = writeln!(s, "| goal | setup | measured | verdict |");
    let _ = writeln!(s, "| --- | --- | ---: | --- |");
    for v in variants.iter().filter(|v| !v.baseline) {
        let per_worker = v.rate(events) / v.parallelism as f64;
        let _ = writeln!(
            s,
            "| at least {} events/s per worker | {} | {} events/s per worker | {} |",
            m(GOAL_RATE_PER_WORKER),
            v.name,
            m(per_worker),
            verdict(per_worker >= GOAL_RATE_PER_WORKER)
        );
    }
    for p in paced {
        let all = p.pooled(|r| &r.latencies_ms);
        let p99 = quantile(&all, 0.99).unwrap_or(f64::INFINITY);
        let _ = writeln!(
            s,
            "| p99 latency under {GOAL_P99_MS:.0} ms at {:.0}% of the highest rate | timely-{} | {p99:.2} ms over {} \
             panes (per run: {}) | {} |",
            fraction * 100.0,
            p.workers,
            all.len(),
            p.runs.iter().map(|r| ms(&r.latencies_ms, 0.99)).collect::<Vec<_>>().join(", "),
            verdict(p99 < GOAL_P99_MS)
        );
    }
    s
}
