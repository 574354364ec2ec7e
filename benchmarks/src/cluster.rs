//! Timely clusters of processes: the examples' `wordcount` program started as
//! one process or as several on loopback, timed from spawn until every
//! process has exited.
//!
//! A [`Launch`] says how many processes and how many workers each; both the
//! one-process and the cluster launches run the same built example binary, so
//! both pay process start and the comparison isolates what crossing processes
//! (loopback TCP, encoding batches with their coders) costs.

use crate::error::{BenchError, Result};
use crate::stats::Sample;
use crate::wordcount::OUTPUT;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the example program is started: `processes` processes of `workers` worker threads each.
///
/// # Examples
/// ```
/// use beamline_benchmarks::cluster::Launch;
/// let l = Launch::by_name("timely-2p").unwrap();
/// assert_eq!((l.processes, l.workers), (2, 1));
/// assert_eq!(Launch::by_name("timely-2").unwrap(), Launch::one_process(2));
/// assert_eq!(Launch::by_name("timely-2x2").unwrap().name, "timely-2x2");
/// assert!(Launch::by_name("rayon-2").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// Short name: `timely-N` (one process, N workers), `timely-Np` (N processes
    /// of one worker), `timely-PxW` (P processes of W workers).
    pub name: String,
    /// Processes started.
    pub processes: usize,
    /// Worker threads per process (`--workers`).
    pub workers: usize,
}

impl Launch {
    /// One process with `workers` worker threads: `timely-N`.
    pub fn one_process(workers: usize) -> Self {
        Launch { name: format!("timely-{workers}"), processes: 1, workers }
    }

    /// `processes` processes on loopback with `workers` threads each:
    /// `timely-Np` for one worker each, else `timely-PxW`.
    pub fn cluster(processes: usize, workers: usize) -> Self {
        let name = if workers == 1 { format!("timely-{processes}p") } else { format!("timely-{processes}x{workers}") };
        Launch { name, processes, workers }
    }

    /// The launch called `name` (`timely-2`, `timely-2p`, `timely-2x2`).
    pub fn by_name(name: &str) -> Result<Self> {
        let bad = || {
            BenchError::Invalid(format!(
                "unknown launch '{name}'; expected timely-N (one process of N workers), timely-Np (N processes of \
                 one worker) or timely-PxW (P processes of W workers)"
            ))
        };
        let spec = name.strip_prefix("timely-").ok_or_else(bad)?;
        let count = |s: &str| s.parse::<usize>().ok().filter(|&n| n >= 1).ok_or_else(bad);
        if let Some(p) = spec.strip_suffix('p') {
            Ok(Self::cluster(count(p)?, 1))
        } else if let Some((p, w)) = spec.split_once('x') {
            Ok(Self::cluster(count(p)?, count(w)?))
        } else {
            Ok(Self::one_process(count(spec)?))
        }
    }

    /// Total worker threads over all processes.
    pub fn total_workers(&self) -> usize {
        self.processes * self.workers
    }

    /// The command-line flags of process `index`: the example's wordcount
    /// flags plus the timely runner's (`--processes`, `--process-index` and
    /// `--hosts` only for a cluster).
    ///
    /// # Examples
    /// ```
    /// use beamline_benchmarks::cluster::Launch;
    /// use std::path::Path;
    /// let args = Launch::cluster(2, 1).args(1, Some(Path::new("h")), Path::new("in"), Path::new("out/c"), 2);
    /// assert!(args.contains(&"--process-index=1".to_string()) && args.contains(&"--hosts=h".to_string()));
    /// assert!(!Launch::one_process(2).args(0, None, Path::new("in"), Path::new("o"), 2).iter().any(|a| a.starts_with("--processes")));
    /// ```
    pub fn args(&self, index: usize, hosts: Option<&Path>, input: &Path, output: &Path, shards: u32) -> Vec<String> {
        let mut args = vec![
            "--runner=timely".to_string(),
            format!("--workers={}", self.workers),
            format!("--input={}", input.display()),
            format!("--output={}", output.display()),
            format!("--num-shards={shards}"),
        ];
        if self.processes > 1 {
            args.push(format!("--processes={}", self.processes));
            args.push(format!("--process-index={index}"));
            if let Some(h) = hosts {
                args.push(format!("--hosts={}", h.display()));
            }
        }
        args
    }

    /// Runs the launch: writes a hosts file of free loopback ports (for a
    /// cluster), starts every process of `program` counting `input` into
    /// `out_dir` (files `counts-*`; each process's stdout and stderr in
    /// `process-I.stdout` / `.stderr`), and waits for all of them. Measures
    /// wall time from the first spawn until the last exit, and the processes'
    /// CPU time (user + system, all of them). Fails if a process fails, or
    /// kills them all and fails if they are not done within `timeout`.
    pub fn run(&self, program: &Path, input: &Path, out_dir: &Path, shards: u32, timeout: Duration) -> Result<Sample> {
        let hosts = if self.processes > 1 {
            let path = out_dir.join("hosts");
            let text: String =
                free_loopback_ports(self.processes)?.iter().map(|p| format!("127.0.0.1:{p}\n")).collect();
            std::fs::write(&path, text).map_err(|e| BenchError::io(&path, e))?;
            Some(path)
        } else {
            None
        };
        let output = out_dir.join(OUTPUT);
        let log = |i: usize, stream: &str| out_dir.join(format!("process-{i}.{stream}"));
        let cpu0 = children_cpu();
        let start = Instant::now();
        let mut children = Vec::with_capacity(self.processes);
        for i in 0..self.processes {
            let spawned = (|| -> std::io::Result<Child> {
                Command::new(program)
                    .args(self.args(i, hosts.as_deref(), input, &output, shards))
                    .stdin(Stdio::null())
                    .stdout(std::fs::File::create(log(i, "stdout"))?)
                    .stderr(std::fs::File::create(log(i, "stderr"))?)
                    .spawn()
            })();
            match spawned {
                Ok(c) => children.push(c),
                Err(e) => {
                    kill_all(&mut children);
                    return Err(BenchError::io(program, e));
                }
            }
        }
        let mut running: Vec<Option<Child>> = children.into_iter().map(Some).collect();
        let mut failure: Option<String> = None;
        while running.iter().any(Option::is_some) {
            for (i, slot) in running.iter_mut().enumerate() {
                let Some(child) = slot else { continue };
                match child.try_wait() {
                    Ok(Some(status)) => {
                        if !status.success() && failure.is_none() {
                            failure = Some(format!("process {i} exited with {status}"));
                        }
                        *slot = None;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        failure.get_or_insert(format!("cannot wait for process {i}: {e}"));
                        *slot = None;
                    }
                }
            }
            if failure.is_none() && start.elapsed() > timeout {
                failure = Some(format!("still running after {} s; killed", timeout.as_secs()));
            }
            if failure.is_some() {
                // A failed peer can leave the others waiting on its connection: stop them.
                let mut rest: Vec<Child> = running.iter_mut().filter_map(Option::take).collect();
                kill_all(&mut rest);
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let wall = start.elapsed();
        if let Some(what) = failure {
            let stderr: Vec<String> = (0..self.processes)
                .map(|i| {
                    let text = std::fs::read_to_string(log(i, "stderr")).unwrap_or_default();
                    format!("process {i} stderr: {:?}", text.trim())
                })
                .collect();
            return Err(BenchError::Launch {
                launch: self.name.clone(),
                detail: format!("{what}; {}", stderr.join("; ")),
            });
        }
        let cpu = match (cpu0, children_cpu()) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        Ok(Sample { wall, cpu, peak_rss: None })
    }
}

/// The seconds the processes of the launch that ran in `out_dir` slept while
/// connecting, the most of any process: timely's own connection set-up
/// (timely_communication 0.32) polls for its peers' connections once a second
/// and retries a refused connection a second later, printing a line on the
/// program's stdout each time (`awaiting connections ...`,
/// `... error connecting to worker ...; retrying`). The runner has made the
/// connections itself since commit 5880004 (polling every 20–50 ms, printing
/// nothing), so this is 0 unless that set-up comes back; always 0 for a
/// one-process launch.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-sleeps-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("process-0.stdout"), "awaiting connections (at 0/1)\nread x\n").unwrap();
/// std::fs::write(dir.join("process-1.stdout"), "").unwrap();
/// assert_eq!(beamline_benchmarks::cluster::connection_sleeps(&dir, 2), 1);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn connection_sleeps(out_dir: &Path, processes: usize) -> usize {
    (0..processes)
        .map(|i| {
            let text = std::fs::read_to_string(out_dir.join(format!("process-{i}.stdout"))).unwrap_or_default();
            text.lines().filter(|l| l.starts_with("awaiting connections") || l.contains("; retrying")).count()
        })
        .max()
        .unwrap_or(0)
}

fn kill_all(children: &mut [Child]) {
    for c in children.iter_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// `n` distinct loopback ports that were free a moment ago: bound to
/// `127.0.0.1:0` together, then released for the processes to listen on.
///
/// # Examples
/// ```
/// let ports = beamline_benchmarks::cluster::free_loopback_ports(2).unwrap();
/// assert_eq!(ports.len(), 2);
/// assert_ne!(ports[0], ports[1]);
/// ```
pub fn free_loopback_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| BenchError::io("127.0.0.1:0", e))?;
    listeners.iter().map(|l| l.local_addr().map(|a| a.port()).map_err(|e| BenchError::io("127.0.0.1:0", e))).collect()
}

/// The example program in the workspace's release build:
/// `target/release/examples/wordcount` (under `CARGO_TARGET_DIR` if set when
/// the benchmarks were built).
pub fn default_example_program() -> PathBuf {
    let target = option_env!("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("target"));
    target.join("release").join("examples").join("wordcount")
}

/// User + system CPU time of this process's waited-for children so far
/// (Linux: `cutime` and `cstime` in `/proc/self/stat`).
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; cutime and cstime are fields 16 and 17.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(13);
    let cutime: u64 = fields.next()?.parse().ok()?;
    let cstime: u64 = fields.next()?.parse().ok()?;
    // The kernel's USER_HZ is 100 on every Linux architecture Rust targets.
    Some(Duration::from_millis((cutime + cstime) * 10))
}
