//! Timing one run (wall time, process CPU time, peak memory) and summarizing several.

use std::time::{Duration, Instant};

/// What one timed run cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Elapsed wall-clock time.
    pub wall: Duration,
    /// CPU time of the whole process (user + system, all threads), if the OS tells.
    pub cpu: Option<Duration>,
    /// Peak resident memory during the run in bytes, if the OS tells.
    pub peak_rss: Option<u64>,
}

/// Runs `f` and measures it. The peak-memory figure is reset first where the
/// OS allows it (Linux `/proc/self/clear_refs`), so it is this run's peak.
///
/// # Examples
/// ```
/// let (v, s) = beamline_benchmarks::stats::time(|| (0..1000u64).sum::<u64>());
/// assert_eq!(v, 499_500);
/// assert!(s.wall.as_secs() < 10);
/// ```
pub fn time<R>(f: impl FnOnce() -> R) -> (R, Sample) {
    let rss_reset = reset_peak_rss();
    let cpu0 = process_cpu();
    let t0 = Instant::now();
    let r = f();
    let wall = t0.elapsed();
    let cpu = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let peak_rss = if rss_reset { peak_rss() } else { None };
    (r, Sample { wall, cpu, peak_rss })
}

/// The median (mean of the two middle values for an even count); `None` when empty.
///
/// # Examples
/// ```
/// use beamline_benchmarks::stats::median;
/// assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// assert_eq!(median(&[]), None);
/// ```
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Median, minimum and maximum of some samples' wall times, CPU times and peak memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median wall seconds.
    pub median: f64,
    /// Fastest wall seconds.
    pub min: f64,
    /// Slowest wall seconds.
    pub max: f64,
    /// Median CPU seconds, when known.
    pub cpu_median: Option<f64>,
    /// Largest peak RSS in bytes, when known.
    pub peak_rss: Option<u64>,
}

impl Summary {
    /// Summarizes `samples`; `None` when there is none.
    ///
    /// # Examples
    /// ```
    /// use beamline_benchmarks::stats::{Sample, Summary};
    /// use std::time::Duration;
    /// let s = |ms| Sample { wall: Duration::from_millis(ms), cpu: None, peak_rss: None };
    /// let sum = Summary::of(&[s(300), s(100), s(200)]).unwrap();
    /// assert_eq!((sum.median, sum.min, sum.max), (0.2, 0.1, 0.3));
    /// ```
    pub fn of(samples: &[Sample]) -> Option<Summary> {
        let walls: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64()).collect();
        let cpus: Vec<f64> = samples.iter().filter_map(|s| s.cpu.map(|c| c.as_secs_f64())).collect();
        Some(Summary {
            n: samples.len(),
            median: median(&walls)?,
            min: walls.iter().copied().fold(f64::INFINITY, f64::min),
            max: walls.iter().copied().fold(0.0, f64::max),
            cpu_median: if cpus.len() == samples.len() { median(&cpus) } else { None },
            peak_rss: samples.iter().filter_map(|s| s.peak_rss).max(),
        })
    }
}

/// User + system CPU time of this process so far (Linux: `/proc/self/stat`).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // The kernel's USER_HZ is 100 on every Linux architecture Rust targets.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Resets the process's peak RSS ("VmHWM") to its current RSS.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak RSS in bytes (Linux: `VmHWM` in `/proc/self/status`).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
