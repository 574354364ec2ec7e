//! Records, for the benchmark report, the compiler's version and the
//! repository revision the measured code was built from.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(Command::new(rustc).arg("--version")).unwrap_or_else(|| "rustc (unknown version)".into());
    println!("cargo:rustc-env=BEAMLINE_BENCH_RUSTC={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");

    // The crates whose code a benchmark measures; a change to any of them
    // (or a new commit) re-runs this script.
    let measured = ["sdk", "runners", "examples", "benchmarks"];
    for dir in measured {
        println!("cargo:rerun-if-changed=../{dir}");
    }
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs");
    let head = output(Command::new("git").args(["rev-parse", "--short", "HEAD"]));
    let mut status = Command::new("git");
    status
        .args(["status", "--porcelain", "--untracked-files=no", "--"])
        .args(measured.map(|d| format!("../{d}")))
        .arg(":(exclude)../benchmarks/RESULTS.md");
    let revision = match (head, output(&mut status)) {
        (Some(head), Some(s)) if s.is_empty() => format!("commit {head}"),
        (Some(head), Some(_)) => format!("commit {head} with uncommitted changes in sdk/runners/examples/benchmarks"),
        _ => "an unknown revision".into(),
    };
    println!("cargo:rustc-env=BEAMLINE_BENCH_REVISION={revision}");
}

fn output(cmd: &mut Command) -> Option<String> {
    let o = cmd.output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&o.stdout).trim().to_string())
}
