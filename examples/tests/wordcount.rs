//! The example programs, run for real: through their `run` functions and,
//! for the error paths, as processes (the example binaries `cargo test`
//! builds next to this test).

use beamline_examples::{windowed_wordcount, wordcount};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "beamline-examples-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Seeded text with a skewed vocabulary, Unicode words, runs of spaces and
/// tabs, `\r\n` endings, empty lines and no final newline.
fn generated_text(lines: usize, seed: u64) -> String {
    const WORDS: &[&str] = &[
        "the", "of", "and", "beam", "line", "pipeline", "café", "naïve", "日本", "x:", "a-b", "(word)", "Word", "word",
        "WORD", "z", "42", "it's",
    ];
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut text = String::new();
    for i in 0..lines {
        let n = next() % 12;
        for j in 0..n {
            if j > 0 {
                text.push_str([" ", "  ", "\t", " \t "][next() % 4]);
            }
            // Skew: low indexes far more frequent.
            let w = (next() % WORDS.len()).min(next() % WORDS.len());
            text.push_str(WORDS[w]);
            if next() % 50 == 0 {
                text.push_str(&format!("{}", next() % 1000));
            }
        }
        if i + 1 < lines {
            text.push_str(if next() % 7 == 0 { "\r\n" } else { "\n" });
        }
    }
    text
}

fn independent_count(text: &str) -> HashMap<String, u64> {
    let mut m = HashMap::new();
    for w in text.split_whitespace() {
        *m.entry(w.to_string()).or_insert(0) += 1;
    }
    m
}

/// Parses `word: count` lines of every file, failing on a word seen twice.
fn read_counts(files: &[String]) -> HashMap<String, u64> {
    let mut m = HashMap::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let (word, n) = line.rsplit_once(": ").unwrap_or_else(|| panic!("bad output line {line:?}"));
            let prev = m.insert(word.to_string(), n.parse::<u64>().unwrap());
            assert!(prev.is_none(), "{word} appears twice");
        }
    }
    m
}

fn args(list: &[&str]) -> Vec<String> {
    std::iter::once("wordcount").chain(list.iter().copied()).map(String::from).collect()
}

#[test]
fn wordcount_output_equals_an_independent_count() {
    let dir = TempDir::new("wc-count");
    let text = generated_text(20_000, 7);
    let input = dir.path("in.txt");
    std::fs::write(&input, &text).unwrap();
    let prefix = dir.path("out/counts");
    let summary =
        wordcount::run(args(&[&format!("--input={input}"), &format!("--output={prefix}"), "--num-shards=3"])).unwrap();
    assert_eq!(summary.output_files, (0..3).map(|i| format!("{prefix}-0000{i}-of-00003")).collect::<Vec<_>>());
    let expected = independent_count(&text);
    assert_eq!(read_counts(&summary.output_files), expected);
    let words: u64 = expected.values().sum();
    assert_eq!(summary.result.metrics().counter("CountWords/ExtractWords", "words"), Some(words as i64));
    let empty = text.lines().filter(|l| l.trim().is_empty()).count();
    assert_eq!(summary.result.metrics().counter("CountWords/ExtractWords", "empty_lines"), Some(empty as i64));
    let printed = summary.to_string();
    assert!(printed.contains(&format!("{prefix}-00002-of-00003")), "{printed}");
}

#[test]
fn wordcount_reads_a_glob_of_files() {
    let dir = TempDir::new("wc-glob");
    let (a, b) = (generated_text(3000, 1), generated_text(3000, 2));
    std::fs::write(dir.path("part-a.txt"), &a).unwrap();
    std::fs::write(dir.path("part-b.txt"), &b).unwrap();
    std::fs::write(dir.path("other.txt"), "not counted").unwrap();
    let glob = dir.path("part-*.txt");
    let prefix = dir.path("out");
    let summary = wordcount::run(args(&[&format!("--input={glob}"), &format!("--output={prefix}")])).unwrap();
    assert_eq!(read_counts(&summary.output_files), independent_count(&(a + "\n" + &b)));
}

#[test]
fn wordcount_agrees_with_tr_sort_uniq() {
    let dir = TempDir::new("wc-shell");
    // ASCII, single spaces, no leading blanks: the text `tr -s ' \n' '\n'` splits the same way.
    let text: String = generated_text(2000, 3)
        .lines()
        .map(|l| l.split_whitespace().filter(|w| w.is_ascii()).collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let input = dir.path("in.txt");
    std::fs::write(&input, &text).unwrap();
    let shell =
        Command::new("sh").arg("-c").arg(format!("tr -s ' \\n' '\\n' < '{input}' | LC_ALL=C sort | uniq -c")).output();
    let Ok(out) = shell else {
        eprintln!("skipped: no sh");
        return;
    };
    assert!(out.status.success());
    let mut expected = HashMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let (n, w) = line.trim_start().split_once(' ').unwrap();
        expected.insert(w.to_string(), n.parse::<u64>().unwrap());
    }
    let summary = wordcount::run(args(&[&format!("--input={input}"), &format!("--output={}", dir.path("o"))])).unwrap();
    assert_eq!(read_counts(&summary.output_files), expected);
}

#[test]
fn dump_graph_then_graph_gives_the_same_output() {
    let dir = TempDir::new("wc-graph");
    let text = generated_text(5000, 11);
    let input = dir.path("in.txt");
    std::fs::write(&input, &text).unwrap();
    let graph = dir.path("wordcount.json");
    let direct =
        wordcount::run(args(&[&format!("--input={input}"), &format!("--output={}", dir.path("a/c"))])).unwrap();

    let via = dir.path("b/c");
    let dumped = wordcount::run(args(&[
        &format!("--input={input}"),
        &format!("--output={via}"),
        &format!("--dump-graph={graph}"),
    ]))
    .unwrap();
    assert_eq!(dumped.result.dumped_graph(), Some(Path::new(&graph)));
    assert!(dumped.output_files.is_empty());
    assert!(!Path::new(&dir.path("b")).exists(), "--dump-graph must not run the pipeline");

    let from_file =
        wordcount::run(args(&[&format!("--input={input}"), &format!("--output={via}"), &format!("--graph={graph}")]))
            .unwrap();
    assert_eq!(from_file.output_files, vec![format!("{via}-00000-of-00001")]);
    assert_eq!(read_counts(&from_file.output_files), read_counts(&direct.output_files));
    assert_eq!(read_counts(&direct.output_files), independent_count(&text));
}

#[test]
fn a_bad_flag_is_one_line_naming_it() {
    let e = wordcount::run(args(&["--inptu=x.txt"])).unwrap_err().to_string();
    assert!(e.starts_with("error: unknown flag '--inptu'; valid flags: "), "{e}");
    assert!(e.contains("--input") && !e.contains('\n'), "{e}");
    let e = wordcount::run(args(&["--num-shards=many"])).unwrap_err().to_string();
    assert!(e.contains("'--num-shards") && !e.contains('\n'), "{e}");
}

#[test]
fn a_missing_input_is_one_line_naming_the_file_and_writes_nothing() {
    let dir = TempDir::new("wc-missing");
    let input = dir.path("no-such-file.txt");
    let out = dir.path("out/counts");
    let e = wordcount::run(args(&[&format!("--input={input}"), &format!("--output={out}")])).unwrap_err().to_string();
    assert_eq!(e, format!("step 'ReadLines': {input}: no file matches this path or pattern"));
    assert!(!Path::new(&dir.path("out")).exists());
}

#[test]
fn a_malformed_graph_is_one_line_naming_the_node() {
    let dir = TempDir::new("wc-badgraph");
    let graph = dir.path("g.json");
    let out = format!("--output={}", dir.path("c"));
    wordcount::run(args(&[&out, &format!("--dump-graph={graph}")])).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&graph).unwrap()).unwrap();
    let node = value["transforms"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["label"] == "CountWords/ExtractWords")
        .unwrap();
    node["urn"] = "beamline:transform:bogus:v1".into();
    let bad = dir.path("bad.json");
    std::fs::write(&bad, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    let e = wordcount::run(args(&[&out, &format!("--graph={bad}")])).unwrap_err().to_string();
    assert!(e.starts_with("graph: node 'CountWords/ExtractWords': unknown URN 'beamline:transform:bogus:v1'"), "{e}");
    assert!(!e.contains('\n'), "{e}");

    let truncated = dir.path("truncated.json");
    std::fs::write(&truncated, &std::fs::read_to_string(&graph).unwrap()[..200]).unwrap();
    let e = wordcount::run(args(&[&out, &format!("--graph={truncated}")])).unwrap_err().to_string();
    assert!(e.starts_with("graph: node '<graph>': malformed JSON") && e.contains("truncated.json"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    assert!(!Path::new(&dir.path("c-00000-of-00001")).exists());
}

#[test]
fn windowed_wordcount_counts_per_window() {
    let dir = TempDir::new("wc-windowed");
    let text = generated_text(3000, 5);
    let input = dir.path("in.txt");
    std::fs::write(&input, &text).unwrap();
    let summary = windowed_wordcount::run([
        "windowed_wordcount".to_string(),
        format!("--input={input}"),
        format!("--output={}", dir.path("w")),
        "--window-minutes=15".to_string(),
        "--num-shards=2".to_string(),
    ])
    .unwrap();
    let mut totals: HashMap<String, u64> = HashMap::new();
    let mut windows = std::collections::BTreeSet::new();
    for f in &summary.output_files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let (window, rest) = line.split_once(") ").unwrap();
            let (word, n) = rest.rsplit_once(": ").unwrap();
            *totals.entry(word.to_string()).or_insert(0) += n.parse::<u64>().unwrap();
            windows.insert(window.to_string() + ")");
        }
    }
    assert_eq!(totals, independent_count(&text));
    // Two hours of made-up event time in 15-minute windows.
    assert_eq!(windows.len(), 8, "{windows:?}");
    assert!(windows.contains("[2024-01-01T00:00:00Z, 2024-01-01T00:15:00Z)"), "{windows:?}");
    assert!(windows.contains("[2024-01-01T01:45:00Z, 2024-01-01T02:00:00Z)"), "{windows:?}");
}

/// Every line of every file, sorted: what "byte-identical sorted output" compares.
fn sorted_lines(files: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = files
        .iter()
        .flat_map(|f| std::fs::read_to_string(f).unwrap().lines().map(String::from).collect::<Vec<_>>())
        .collect();
    lines.sort();
    lines
}

#[test]
fn wordcount_on_rayon_gives_the_direct_runners_lines_and_metrics() {
    wordcount_gives_the_direct_runners_lines_and_metrics("rayon");
}

#[test]
fn wordcount_on_timely_gives_the_direct_runners_lines_and_metrics() {
    wordcount_gives_the_direct_runners_lines_and_metrics("timely");
}

fn wordcount_gives_the_direct_runners_lines_and_metrics(runner: &str) {
    let dir = TempDir::new(&format!("wc-{runner}"));
    let text = generated_text(30_000, 3);
    let input = dir.path("in.txt");
    std::fs::write(&input, &text).unwrap();
    let run = |name: &str, flags: &[&str]| {
        let mut a = vec![format!("--input={input}"), format!("--output={}", dir.path(name)), "--num-shards=3".into()];
        a.extend(flags.iter().map(|f| f.to_string()));
        wordcount::run(args(&a.iter().map(String::as_str).collect::<Vec<_>>())).unwrap()
    };
    let direct = run("direct/c", &[]);
    let expected = sorted_lines(&direct.output_files);
    assert_eq!(read_counts(&direct.output_files), independent_count(&text));
    for workers in ["1", "2", "4"] {
        let flags = [format!("--runner={runner}"), format!("--workers={workers}")];
        let parallel = run(&format!("{runner}{workers}/c"), &[&flags[0], &flags[1]]);
        assert_eq!(parallel.result.runner(), runner);
        assert_eq!(sorted_lines(&parallel.output_files), expected, "workers={workers}");
        for name in ["words", "empty_lines"] {
            let counter =
                |s: &beamline_examples::RunSummary| s.result.metrics().counter("CountWords/ExtractWords", name);
            assert_eq!(counter(&parallel), counter(&direct), "{name}, workers={workers}");
        }
    }
}

#[test]
fn windowed_wordcount_on_rayon_and_timely_gives_the_direct_runners_lines() {
    let dir = TempDir::new("wc-windowed-parallel");
    let input = dir.path("in.txt");
    std::fs::write(&input, generated_text(5000, 9)).unwrap();
    let run = |name: &str, runner: &str| {
        windowed_wordcount::run([
            "windowed_wordcount".to_string(),
            format!("--input={input}"),
            format!("--output={}", dir.path(name)),
            format!("--runner={runner}"),
            "--workers=2".to_string(),
        ])
        .unwrap()
    };
    let direct = run("d", "direct");
    assert!(!direct.output_files.is_empty());
    for runner in ["rayon", "timely"] {
        let parallel = run(runner, runner);
        assert_eq!(sorted_lines(&parallel.output_files), sorted_lines(&direct.output_files), "{runner}");
    }
}

#[test]
fn windowed_wordcount_rejects_a_zero_window() {
    let e = windowed_wordcount::run(["windowed_wordcount", "--window-minutes=0"]).unwrap_err().to_string();
    assert!(e.contains("'--window-minutes") && !e.contains('\n'), "{e}");
}

/// The example binary `cargo test` built next to this test, if any.
fn example_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let debug_dir = exe.parent()?.parent()?;
    let path = debug_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    path.is_file().then_some(path)
}

#[test]
fn the_wordcount_process_fails_with_one_stderr_line_and_exit_code_1() {
    let Some(bin) = example_binary("wordcount") else {
        eprintln!("skipped: build the example first (cargo build -p beamline-examples --example wordcount)");
        return;
    };
    let dir = TempDir::new("wc-process");
    let bad_graph = dir.path("bad.json");
    std::fs::write(&bad_graph, "{\"version\": \"beamline:graph:v1\", \"transforms\": [{\"label\": \"X\", \"urn\": \"nope\"}], \"pcollections\": []}").unwrap();
    let out = format!("--output={}", dir.path("c"));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--inptu=x".into()], "error: unknown flag '--inptu'"),
        (vec![format!("--input={}", dir.path("missing.txt")), out.clone()], "error: step 'ReadLines': "),
        (vec![format!("--graph={bad_graph}"), out.clone()], "error: graph: node 'X': unknown URN 'nope'"),
    ];
    for (flags, start) in cases {
        let o = Command::new(&bin).args(&flags).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{flags:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{flags:?}: {stderr}");
        assert!(stderr.starts_with(start), "{flags:?}: {stderr}");
        assert!(o.stdout.is_empty(), "{flags:?}");
    }
    assert!(!Path::new(&dir.path("c-00000-of-00001")).exists());

    let input = dir.path("in.txt");
    std::fs::write(&input, "a b a\n").unwrap();
    let o = Command::new(&bin).args([format!("--input={input}"), out]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("wrote 1 file(s):"));
    assert_eq!(std::fs::read_to_string(dir.path("c-00000-of-00001")).unwrap().lines().count(), 2);
}

#[test]
fn the_minimal_and_windowed_processes_run() {
    for name in ["minimal_wordcount", "windowed_wordcount"] {
        let Some(bin) = example_binary(name) else {
            eprintln!("skipped: {name} not built");
            continue;
        };
        let dir = TempDir::new(name);
        let mut cmd = Command::new(&bin);
        if name == "windowed_wordcount" {
            cmd.arg(format!("--output={}", dir.path("c")));
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("-00000-of-00001"), "{name}");
    }
}

/// A hosts file for `n` processes on free loopback ports.
fn hosts_file(dir: &TempDir, n: usize) -> String {
    let listeners: Vec<_> = (0..n).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let text: String = listeners.iter().map(|l| format!("{}\n", l.local_addr().unwrap())).collect();
    drop(listeners);
    let path = dir.path("hosts");
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts `bin` with `args`, stdout and stderr piped.
fn spawn(bin: &Path, args: &[String]) -> std::process::Child {
    Command::new(bin)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Starts process `i` of a timely cluster of `n` running `bin` with `args`.
fn cluster_process(bin: &Path, hosts: &str, n: usize, i: usize, args: &[String]) -> std::process::Child {
    let mut all = vec![
        "--runner=timely".to_string(),
        format!("--processes={n}"),
        format!("--process-index={i}"),
        format!("--hosts={hosts}"),
    ];
    all.extend_from_slice(args);
    spawn(bin, &all)
}

/// A child's whole stderr, once it has exited.
fn stderr_of(child: &mut std::process::Child) -> String {
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    stderr
}

/// Waits for a child, killing it (and failing) after `secs` seconds.
fn wait_at_most(child: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed().as_secs() >= secs {
            let _ = child.kill();
            panic!("process still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn wordcount_on_a_two_process_timely_cluster_gives_the_direct_runners_lines() {
    let Some(bin) = example_binary("wordcount") else {
        eprintln!("skipped: the wordcount example binary is not built");
        return;
    };
    let dir = TempDir::new("wc-cluster");
    let text = generated_text(20_000, 5);
    let input = dir.path("in.txt");
    std::fs::write(&input, &text).unwrap();
    let direct =
        wordcount::run(args(&[&format!("--input={input}"), &format!("--output={}", dir.path("direct/c"))])).unwrap();
    let hosts = hosts_file(&dir, 2);
    let args = [
        format!("--input={input}"),
        format!("--output={}", dir.path("cluster/c")),
        "--num-shards=3".into(),
        "--workers=2".into(),
    ];
    let mut children: Vec<_> = (0..2).map(|i| cluster_process(&bin, &hosts, 2, i, &args)).collect();
    let words = direct.result.metrics().counter("CountWords/ExtractWords", "words").unwrap();
    for (i, child) in children.iter_mut().enumerate() {
        let lines = lines_of(child);
        let status = wait_at_most(child, 120);
        let stderr = stderr_of(child);
        assert!(status.success(), "process {i}: {stderr}");
        // Each process reports the whole cluster's metrics.
        let stdout: Vec<String> = lines.iter().collect();
        let expected = format!("counter CountWords/ExtractWords words: {words}");
        assert!(stdout.contains(&expected), "process {i}: {stdout:?}");
    }
    // One set of shards, as if one process had written it.
    let mut files: Vec<String> =
        std::fs::read_dir(dir.path("cluster")).unwrap().map(|e| e.unwrap().path().display().to_string()).collect();
    files.sort();
    let names: Vec<String> =
        files.iter().map(|f| Path::new(f).file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["c-00000-of-00003", "c-00001-of-00003", "c-00002-of-00003"]);
    assert_eq!(sorted_lines(&files), sorted_lines(&direct.output_files));
}

#[test]
fn a_process_that_fails_ends_its_cluster_instead_of_hanging() {
    let Some(bin) = example_binary("wordcount") else {
        eprintln!("skipped: the wordcount example binary is not built");
        return;
    };
    let dir = TempDir::new("wc-cluster-fail");
    let input = dir.path("in.txt");
    std::fs::write(&input, generated_text(20_000, 5)).unwrap();
    // Process 1 cannot write its shards: their directory is a file.
    let blocker = dir.path("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let hosts = hosts_file(&dir, 2);
    let outputs = [dir.path("ok/c"), format!("{blocker}/c")];
    let mut children: Vec<_> = (0..2)
        .map(|i| {
            let args = [format!("--input={input}"), format!("--output={}", outputs[i]), "--num-shards=4".into()];
            cluster_process(&bin, &hosts, 2, i, &args)
        })
        .collect();
    let statuses: Vec<_> = children.iter_mut().map(|c| wait_at_most(c, 60)).collect();
    let stderrs: Vec<String> = children.iter_mut().map(stderr_of).collect();
    assert!(statuses.iter().all(|s| !s.success()), "both processes fail: {stderrs:?}");
    assert!(stderrs[1].contains("not-a-dir"), "process 1 names the path it cannot write: {}", stderrs[1]);
    assert!(stderrs[0].contains("lost process 1"), "process 0 names the lost process: {}", stderrs[0]);
}

/// Sends SIGINT (or SIGKILL) to a child through `kill`.
fn signal(child: &std::process::Child, name: &str) -> bool {
    Command::new("kill").args([format!("-{name}"), child.id().to_string()]).status().is_ok_and(|s| s.success())
}

/// Reads a child's stdout lines on a thread, so the test can wait for output.
fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn streaming_wordcount_runs_until_sigint_then_drains_and_exits_0() {
    let Some(bin) = example_binary("streaming_wordcount") else {
        eprintln!("skipped: the streaming_wordcount example binary is not built");
        return;
    };
    let args = ["--runner=timely", "--workers=2", "--rate=20000", "--window-secs=1"].map(String::from);
    let mut child = spawn(&bin, &args);
    let lines = lines_of(&mut child);
    // Runs until stopped: windows print as they fire, then Ctrl-C.
    let first = lines.recv_timeout(std::time::Duration::from_secs(60)).expect("no window fired within a minute");
    assert!(first.starts_with('[') && first.contains(") "), "{first}");
    assert!(child.try_wait().unwrap().is_none(), "stopped by itself");
    assert!(signal(&child, "INT"));
    let status = wait_at_most(&mut child, 60);
    let stderr = stderr_of(&mut child);
    assert!(status.success(), "{status:?}: {stderr}");
    // The drain printed the windows still open; the total printed is reported.
    let printed: usize = stderr
        .trim()
        .strip_prefix("drained: printed ")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    let rest: Vec<String> = lines.iter().collect();
    assert_eq!(printed, rest.len() + 1);
}

#[test]
fn killing_one_process_of_a_timely_cluster_ends_the_other_with_an_error() {
    let Some(bin) = example_binary("streaming_wordcount") else {
        eprintln!("skipped: the streaming_wordcount example binary is not built");
        return;
    };
    let dir = TempDir::new("cluster-kill");
    let hosts = hosts_file(&dir, 2);
    let args = ["--workers=1".to_string(), "--rate=5000".into()];
    let mut children: Vec<_> = (0..2).map(|i| cluster_process(&bin, &hosts, 2, i, &args)).collect();
    // Both run (a window fired on process 0), then process 1 dies.
    let lines = lines_of(&mut children[0]);
    let _ = lines_of(&mut children[1]);
    let first =
        lines.recv_timeout(std::time::Duration::from_secs(60)).expect("the cluster printed nothing within a minute");
    assert!(first.starts_with('['), "{first}");
    assert!(signal(&children[1], "KILL"));
    let _ = children[1].wait();
    let status = wait_at_most(&mut children[0], 20);
    let stderr = stderr_of(&mut children[0]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lost process 1 of the cluster"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// The files under `dir` whose name starts with `prefix`, and their sorted lines.
fn files_and_lines(dir: &str, prefix: &str) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    let paths: Vec<String> = names.iter().map(|n| format!("{dir}/{n}")).collect();
    (names, sorted_lines(&paths))
}

#[test]
fn streaming_wordcount_writes_one_set_of_shards_per_window_as_the_direct_runner_does() {
    let dir = TempDir::new("streaming-files");
    let run = |runner: &str| {
        beamline_examples::streaming_wordcount::run([
            "streaming_wordcount".to_string(),
            format!("--runner={runner}"),
            "--workers=2".into(),
            "--rate=0".into(),
            "--events=20000".into(),
            "--start=1767225600".into(),
            format!("--output={}", dir.path(&format!("{runner}/counts"))),
        ])
        .unwrap()
    };
    run("direct");
    run("timely");
    let (direct_names, direct_lines) = files_and_lines(&dir.path("direct"), "counts-");
    let (timely_names, timely_lines) = files_and_lines(&dir.path("timely"), "counts-");
    // 20 000 events 100 µs apart from 2026-01-01, up to 50 ms out of order:
    // two one-second windows, and the second before for the first few.
    assert_eq!(
        direct_names,
        [
            "counts-2025-12-31T23:59:59Z-2026-01-01T00:00:00Z-00000-of-00001",
            "counts-2026-01-01T00:00:00Z-2026-01-01T00:00:01Z-00000-of-00001",
            "counts-2026-01-01T00:00:01Z-2026-01-01T00:00:02Z-00000-of-00001"
        ]
    );
    assert_eq!(timely_names, direct_names);
    assert_eq!(timely_lines, direct_lines);
    let total: u64 = direct_lines.iter().map(|l| l.rsplit(": ").next().unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(total, 20_000);
}

#[test]
fn a_cluster_process_whose_peer_never_comes_fails_after_the_connect_timeout() {
    let Some(bin) = example_binary("wordcount") else {
        eprintln!("skipped: the wordcount example binary is not built");
        return;
    };
    let dir = TempDir::new("cluster-alone");
    let hosts = hosts_file(&dir, 2);
    let args = ["--timely-connect-timeout=1s".to_string(), format!("--output={}", dir.path("out/c"))];
    let mut child = cluster_process(&bin, &hosts, 2, 0, &args);
    let status = wait_at_most(&mut child, 60);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("process 1 of the cluster") && stderr.contains("did not connect within"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!Path::new(&dir.path("out")).exists(), "output written");
}
