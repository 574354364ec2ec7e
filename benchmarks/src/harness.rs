//! The harness: time a workload's baseline and pipeline in the same run,
//! repetition after repetition, and check every pipeline output.

use crate::error::{BenchError, Result};
use crate::setup::RunnerSetup;
use crate::stats::{self, median, Sample, Summary};
use std::path::Path;

/// A hand-written program a workload offers as a baseline.
///
/// Every workload has the single-threaded [`Baseline::single_threaded`]; a
/// workload may add parallel ones ([`Baseline::rayon`]). A runner setup is
/// compared with the baseline that uses as many threads as it has workers
/// (the single-threaded one when there is none): see [`Measurement::reference`].
///
/// # Examples
/// ```
/// use beamline_benchmarks::harness::Baseline;
/// assert_eq!(Baseline::single_threaded().name, "baseline");
/// assert_eq!(Baseline::rayon(2).name, "baseline-rayon-2");
/// assert_eq!(Baseline::rayon(2).threads, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// Short name, used on the command line (`--child-variant`) and in reports.
    pub name: String,
    /// What it is, for the report.
    pub description: String,
    /// The threads it runs on.
    pub threads: usize,
}

impl Baseline {
    /// The hand-written single-threaded program: `baseline`.
    pub fn single_threaded() -> Self {
        Baseline { name: "baseline".into(), description: "hand-written, single-threaded".into(), threads: 1 }
    }

    /// A hand-written program on a rayon pool of `threads` threads: `baseline-rayon-N`.
    pub fn rayon(threads: usize) -> Self {
        Baseline {
            name: format!("baseline-rayon-{threads}"),
            description: format!("hand-written, rayon pool of {threads} threads"),
            threads,
        }
    }
}

/// A goal a setup is held to: its median paired time ratio to its reference
/// baseline ([`Measurement::reference`]) at most `max_ratio`.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// The setup's name (`rayon-1`).
    pub setup: String,
    /// The largest allowed pipeline time / baseline time.
    pub max_ratio: f64,
    /// The goal in words, for the report (`at least 0.7× the speed of the hand-written count`).
    pub text: String,
}

/// One benchmark: hand-written baselines and a pipeline doing the same work.
///
/// All write their result under a directory they are given; `verify`
/// compares two results and fails loudly on any difference.
pub trait Workload {
    /// Name in reports (`wordcount 16 MiB`).
    fn name(&self) -> String;
    /// The input in one line, for the report.
    fn input_description(&self) -> String;
    /// Units of work done by one run (words for wordcount).
    fn items(&self) -> u64;
    /// What the units are called (`words`).
    fn unit(&self) -> &'static str;
    /// The hand-written programs, the single-threaded one first (it is what
    /// every other output is verified against).
    fn baselines(&self) -> Vec<Baseline> {
        vec![Baseline::single_threaded()]
    }
    /// Runs the hand-written program `baseline`, writing its output under `out_dir`.
    fn run_baseline(&self, baseline: &Baseline, out_dir: &Path) -> Result<()>;
    /// Runs the pipeline on `setup`, writing its output under `out_dir`.
    fn run_pipeline(&self, setup: &RunnerSetup, out_dir: &Path) -> Result<()>;
    /// Fails unless the output of `variant` (a setup's or a baseline's name) in
    /// `actual_dir` equals the single-threaded baseline's in `baseline_dir`.
    fn verify(&self, variant: &str, baseline_dir: &Path, actual_dir: &Path) -> Result<()>;
    /// True for a what-if pipeline (not what users run): reported, but not held to the project's goals.
    fn is_experiment(&self) -> bool {
        false
    }
    /// The goals the project holds this workload's setups to (none by default).
    fn goals(&self) -> Vec<Goal> {
        Vec::new()
    }
}

/// Measurements of one workload: the baseline and each setup, one sample per repetition.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The workload's name.
    pub workload: String,
    /// Its input.
    pub input: String,
    /// Units of work per run.
    pub items: u64,
    /// What the units are called.
    pub unit: &'static str,
    /// Whether the workload is an experiment ([`Workload::is_experiment`]).
    pub experiment: bool,
    /// Each baseline with its samples, one per repetition; the single-threaded one first.
    pub baselines: Vec<(Baseline, Vec<Sample>)>,
    /// Each setup with its samples, in the same repetition order.
    pub setups: Vec<(RunnerSetup, Vec<Sample>)>,
    /// The goals of the workload ([`Workload::goals`]).
    pub goals: Vec<Goal>,
}

/// One setup compared with the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The setup's times.
    pub pipeline: Summary,
    /// The reference baseline's times.
    pub baseline: Summary,
    /// Index in [`Measurement::baselines`] of the reference baseline.
    pub reference: usize,
    /// Median pipeline wall time over median baseline wall time.
    pub ratio_of_medians: f64,
    /// Median over repetitions of (pipeline time / baseline time of the same
    /// repetition): robust to slow drifts of the machine's load.
    pub median_paired_ratio: f64,
    /// Units per second of the pipeline, from its median time.
    pub pipeline_rate: f64,
    /// Units per second of the baseline, from its median time.
    pub baseline_rate: f64,
}

impl Measurement {
    /// The single-threaded baseline's samples.
    pub fn baseline(&self) -> &[Sample] {
        self.baselines.first().map_or(&[], |(_, s)| s.as_slice())
    }

    /// The index in [`Measurement::baselines`] of the baseline setup `i` is
    /// compared with: the one with as many threads as the setup has workers
    /// (one when it does not say), else the single-threaded one.
    pub fn reference(&self, i: usize) -> usize {
        let threads = self.setups.get(i).and_then(|(s, _)| s.workers).unwrap_or(1);
        self.baselines.iter().position(|(b, _)| b.threads == threads).unwrap_or(0)
    }

    /// The comparison of setup `i` with its reference baseline; `None` without samples.
    pub fn compare(&self, i: usize) -> Option<Comparison> {
        let (_, samples) = self.setups.get(i)?;
        let reference = self.reference(i);
        let base_samples = &self.baselines.get(reference)?.1;
        let pipeline = Summary::of(samples)?;
        let baseline = Summary::of(base_samples)?;
        let paired: Vec<f64> = samples
            .iter()
            .zip(base_samples)
            .map(|(p, b)| p.wall.as_secs_f64() / b.wall.as_secs_f64().max(1e-9))
            .collect();
        Some(Comparison {
            pipeline,
            baseline,
            reference,
            ratio_of_medians: pipeline.median / baseline.median.max(1e-9),
            median_paired_ratio: median(&paired)?,
            pipeline_rate: self.items as f64 / pipeline.median.max(1e-9),
            baseline_rate: self.items as f64 / baseline.median.max(1e-9),
        })
    }
}

/// What one timed run executes: a hand-written baseline or the pipeline on a setup.
#[derive(Debug, Clone, Copy)]
pub enum Variant<'a> {
    /// A hand-written program.
    Baseline(&'a Baseline),
    /// The pipeline on a runner setup.
    Pipeline(&'a RunnerSetup),
}

impl Variant<'_> {
    /// The baseline's or the setup's name (what `--child-variant` takes).
    pub fn name(&self) -> &str {
        match self {
            Variant::Baseline(b) => &b.name,
            Variant::Pipeline(s) => &s.name,
        }
    }

    /// Runs it in this process, untimed.
    pub fn run(&self, workload: &dyn Workload, out_dir: &Path) -> Result<()> {
        match self {
            Variant::Baseline(b) => workload.run_baseline(b, out_dir),
            Variant::Pipeline(s) => workload.run_pipeline(s, out_dir),
        }
    }
}

/// How each timed run is executed.
pub trait Executor {
    /// Runs `variant` of `workload` with its output under `out_dir` and measures it.
    fn run(&self, workload: &dyn Workload, variant: Variant<'_>, out_dir: &Path) -> Result<Sample>;
}

/// Every run in this process, one after the other: quick, but a run inherits
/// the heap the previous ones left (freed memory not returned to the OS makes
/// later runs fault in fewer fresh pages, and the peak-RSS figure includes
/// what earlier runs retained). For tests and quick checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

impl Executor for InProcess {
    fn run(&self, workload: &dyn Workload, variant: Variant<'_>, out_dir: &Path) -> Result<Sample> {
        let (r, sample) = stats::time(|| variant.run(workload, out_dir));
        r.map(|()| sample)
    }
}

/// Every run in a fresh child process: `program args... --child-variant NAME
/// --child-out DIR`. The child rebuilds the same workload from `args`, calls
/// [`child_main`], and reports its sample on stdout; so every run starts from
/// a clean heap, whatever ran before it, as a user's program does.
#[derive(Debug, Clone)]
pub struct Subprocess {
    /// The program to run (usually the benchmark's own executable).
    pub program: std::path::PathBuf,
    /// Arguments that make the child rebuild the same workload.
    pub args: Vec<String>,
}

/// The line prefix a child reports its sample with.
const SAMPLE_PREFIX: &str = "beamline-bench-sample";

impl Executor for Subprocess {
    fn run(&self, workload: &dyn Workload, variant: Variant<'_>, out_dir: &Path) -> Result<Sample> {
        let out = std::process::Command::new(&self.program)
            .args(&self.args)
            .arg("--child-variant")
            .arg(variant.name())
            .arg("--child-out")
            .arg(out_dir)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| BenchError::io(&self.program, e))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().find_map(|l| l.strip_prefix(SAMPLE_PREFIX));
        match (out.status.success(), line.and_then(parse_sample)) {
            (true, Some(sample)) => Ok(sample),
            _ => Err(BenchError::Invalid(format!(
                "{} on {}: the child process failed ({}); its output: {}",
                variant.name(),
                workload.name(),
                out.status,
                stdout.trim()
            ))),
        }
    }
}

/// The body of a child process started by [`Subprocess`]: runs `variant` (by
/// name: one of the workload's baselines or a setup of `setups`) and prints its sample on stdout.
pub fn child_main(workload: &dyn Workload, setups: &[RunnerSetup], variant: &str, out_dir: &Path) -> Result<()> {
    let baselines = workload.baselines();
    let v = match baselines.iter().find(|b| b.name == variant) {
        Some(b) => Variant::Baseline(b),
        None => Variant::Pipeline(
            setups
                .iter()
                .find(|s| s.name == variant)
                .ok_or_else(|| BenchError::Invalid(format!("unknown variant '{variant}' for the child process")))?,
        ),
    };
    let s = InProcess.run(workload, v, out_dir)?;
    println!(
        "{SAMPLE_PREFIX} wall_ns={} cpu_ns={} peak_rss={}",
        s.wall.as_nanos(),
        s.cpu.map(|c| c.as_nanos().to_string()).unwrap_or_default(),
        s.peak_rss.map(|b| b.to_string()).unwrap_or_default()
    );
    Ok(())
}

fn parse_sample(line: &str) -> Option<Sample> {
    let field =
        |name: &str| line.split_whitespace().find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')));
    let nanos = |v: &str| v.parse::<u64>().ok().map(std::time::Duration::from_nanos);
    Some(Sample {
        wall: nanos(field("wall_ns")?)?,
        cpu: field("cpu_ns").and_then(nanos),
        peak_rss: field("peak_rss").and_then(|v| v.parse().ok()),
    })
}

/// Runs `reps` repetitions of the workload: in each, every baseline and then
/// every setup, back to back, each run by `executor`; after each run but the
/// first (untimed) its output is verified against the single-threaded baseline's. Outputs live
/// under `scratch`, which is emptied of them at the end. Progress goes to stderr.
pub fn measure(
    workload: &dyn Workload,
    setups: &[RunnerSetup],
    reps: usize,
    scratch: &Path,
    executor: &dyn Executor,
) -> Result<Measurement> {
    if reps == 0 {
        return Err(BenchError::Invalid("--reps must be at least 1".into()));
    }
    let mut m = Measurement {
        workload: workload.name(),
        input: workload.input_description(),
        items: workload.items(),
        unit: workload.unit(),
        experiment: workload.is_experiment(),
        baselines: workload.baselines().into_iter().map(|b| (b, Vec::new())).collect(),
        setups: setups.iter().map(|s| (s.clone(), Vec::new())).collect(),
        goals: workload.goals(),
    };
    let base_dir = scratch.join("baseline");
    let progress = |rep: usize, what: &str, s: &Sample, note: &str| {
        let secs = s.wall.as_secs_f64();
        let rate = workload.items() as f64 / secs.max(1e-9);
        eprintln!(
            "  {} rep {rep}/{reps} {what:<18} {secs:>8.3} s  {rate:>12.0} {}/s{note}",
            workload.name(),
            workload.unit()
        );
    };
    for rep in 1..=reps {
        for (i, (baseline, samples)) in m.baselines.iter_mut().enumerate() {
            let dir = if i == 0 { base_dir.clone() } else { scratch.join(&baseline.name) };
            fresh_dir(&dir)?;
            let sample = executor.run(workload, Variant::Baseline(baseline), &dir)?;
            if i > 0 {
                workload.verify(&baseline.name, &base_dir, &dir)?;
                remove_dir(&dir)?;
            }
            progress(rep, &baseline.name, &sample, if i > 0 { "  (output verified)" } else { "" });
            samples.push(sample);
        }
        for (setup, samples) in &mut m.setups {
            let dir = scratch.join(&setup.name);
            fresh_dir(&dir)?;
            let sample = executor.run(workload, Variant::Pipeline(setup), &dir)?;
            workload.verify(&setup.name, &base_dir, &dir)?;
            progress(rep, &setup.name, &sample, "  (output verified)");
            samples.push(sample);
            remove_dir(&dir)?;
        }
    }
    remove_dir(&base_dir)?;
    Ok(m)
}

fn fresh_dir(dir: &Path) -> Result<()> {
    remove_dir(dir)?;
    std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir, e))
}

fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BenchError::io(dir, e)),
    }
}
