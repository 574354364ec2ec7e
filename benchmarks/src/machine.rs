//! The machine a benchmark ran on, for the report.

use std::time::{SystemTime, UNIX_EPOCH};

/// CPU, cores, memory, OS, compiler, build profile, date and load.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// CPU model (`model name` in `/proc/cpuinfo`).
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Total memory in bytes.
    pub memory: Option<u64>,
    /// Kernel release.
    pub kernel: String,
    /// The compiler that built this program.
    pub rustc: String,
    /// `release` or `debug` (debug-assertions on).
    pub profile: &'static str,
    /// UTC date and time, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// The 1-minute load average when described.
    pub load: Option<f64>,
}

impl Machine {
    /// Describes the current machine.
    ///
    /// # Examples
    /// ```
    /// let m = beamline_benchmarks::machine::Machine::describe();
    /// assert!(m.cores >= 1);
    /// assert!(m.rustc.starts_with("rustc"));
    /// ```
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024);
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            memory,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| format!("Linux {}", s.trim()))
                .unwrap_or_else(|_| std::env::consts::OS.to_string()),
            rustc: env!("BEAMLINE_BENCH_RUSTC").to_string(),
            profile: if cfg!(debug_assertions) { "debug" } else { "release" },
            date: utc_now(),
            load: load_average(),
        }
    }
}

/// The 1-minute load average (Linux `/proc/loadavg`).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    utc_minutes(secs as i64)
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the epoch.
fn utc_minutes(secs: i64) -> String {
    // `YYYY-MM-DDTHH:MM:SSZ`
    let iso = beamline::Timestamp::from_secs(secs).to_utc_string();
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

#[cfg(test)]
mod tests {
    use super::utc_minutes;

    #[test]
    fn dates() {
        assert_eq!(utc_minutes(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minutes(19_782 * 86_400 + 3_660), "2024-02-29 01:01 UTC");
        assert_eq!(utc_minutes(20_454 * 86_400), "2026-01-01 00:00 UTC");
    }
}
