//! Runs every test on every runner and variant, and reports the matrix.
//!
//! A cell is one test on one runner in one variant (parallelism 1, N, or N
//! through the portable graph). Each cell builds its own pipeline on its own
//! thread, so a hung runner fails the cell (after a timeout) instead of the
//! whole suite.

use crate::suite;
use beamline::graph::PipelineGraph;
use beamline::plan::capabilities;
use beamline::{Error, Pipeline, PipelineOptions, PipelineResult, Runner, Runners};
use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one cell may take before it counts as hung.
const CELL_TIMEOUT: Duration = Duration::from_secs(300);

/// Builds a test's pipeline and says what running it must give.
pub(crate) type BuildFn = Arc<dyn Fn(&Pipeline) -> Expect + Send + Sync>;

/// Beam's ValidatesRunner categories a test may be tagged with (the names of
/// Beam's JUnit categories, e.g. `org.apache.beam.sdk.testing.UsesStatefulParDo`).
pub(crate) const CATEGORIES: &[&str] = &[
    "UsesStatefulParDo",
    "UsesTimersInParDo",
    "UsesTestStream",
    "UsesBagState",
    "UsesSetState",
    "UsesMapState",
    "UsesOrderedListState",
    "UsesOnWindowExpiration",
    "UsesProcessingTimeTimers",
    "UsesLoopingTimer",
    "UsesStrictTimerOrdering",
    "UsesTimerMap",
    // The trigger suite's own tags (Beam's Python suite marks these by file).
    "triggers",
    "accumulating",
    "discarding",
    "allowed_lateness",
    "pane_info",
];

/// One conformance test: a name, the capabilities it needs, the pipeline.
pub(crate) struct Test {
    pub(crate) name: String,
    requires: Vec<&'static str>,
    categories: Vec<&'static str>,
    only_on: Option<Vec<&'static str>>,
    allow_unsafe_triggers: bool,
    build: BuildFn,
}

impl Test {
    /// A test that needs no capability beyond the core model.
    pub(crate) fn new(name: impl Into<String>, build: impl Fn(&Pipeline) -> Expect + Send + Sync + 'static) -> Self {
        Test {
            name: name.into(),
            requires: Vec::new(),
            categories: Vec::new(),
            only_on: None,
            allow_unsafe_triggers: false,
            build: Arc::new(build),
        }
    }
    /// Tags the test with the capabilities it needs (see `beamline::plan::capabilities`).
    pub(crate) fn requires(mut self, caps: &[&'static str]) -> Self {
        self.requires.extend_from_slice(caps);
        self
    }
    /// Tags the test with Beam's ValidatesRunner categories (see [`CATEGORIES`]),
    /// shown in `MATRIX.md`.
    pub(crate) fn categories(mut self, categories: &[&'static str]) -> Self {
        for c in categories {
            assert!(CATEGORIES.contains(c), "test '{}': unknown Beam category '{c}'", self.name);
            if !self.categories.contains(c) {
                self.categories.push(c);
            }
        }
        self
    }
    /// Runs the test with `--allow-unsafe-triggers` (triggers that finish).
    pub(crate) fn allowing_unsafe_triggers(mut self) -> Self {
        self.allow_unsafe_triggers = true;
        self
    }
    /// Runs the test only on the named runners (checks of one runner's own behaviour).
    pub(crate) fn only_on(mut self, runners: &[&'static str]) -> Self {
        self.only_on = Some(runners.to_vec());
        self
    }
}

type ResultCheck = Box<dyn Fn(&PipelineResult) -> Result<(), String>>;
type ErrorCheck = Box<dyn Fn(&Error) -> Result<(), String>>;
type Fingerprint = Box<dyn Fn(&PipelineResult) -> Option<String>>;

/// What a run must give: success (with checks on its result) or a given error.
pub(crate) struct Expect {
    failure: Option<ErrorCheck>,
    checks: Vec<ResultCheck>,
    fingerprint: Option<Fingerprint>,
    problems: Vec<String>,
}

impl Expect {
    /// The run succeeds (the in-pipeline assertions hold).
    pub(crate) fn success() -> Self {
        Expect { failure: None, checks: Vec::new(), fingerprint: None, problems: Vec::new() }
    }

    /// The run fails with an error that `check` accepts.
    pub(crate) fn error(check: impl Fn(&Error) -> Result<(), String> + 'static) -> Self {
        Expect { failure: Some(Box::new(check)), ..Expect::success() }
    }

    /// The run fails in user code of step `label`, with a message containing `message`.
    pub(crate) fn user_error(label: &str, message: &str) -> Self {
        let (label, message) = (label.to_string(), message.to_string());
        Expect::error(move |e| match e {
            Error::UserCode { label: l, message: m, runner, .. } => {
                if *l != label {
                    return Err(format!("expected a failure of step '{label}', got one of '{l}': {e}"));
                }
                if !m.contains(&message) {
                    return Err(format!("expected the message to contain {message:?}: {e}"));
                }
                if runner.is_empty() {
                    return Err(format!("the error does not name the runner: {e}"));
                }
                Ok(())
            }
            other => Err(format!("expected a user-code error of step '{label}', got: {other}")),
        })
    }

    /// Building the pipeline fails with a construction error containing `part`.
    pub(crate) fn construction_error(part: &str) -> Self {
        let part = part.to_string();
        Expect::error(move |e| match e {
            Error::Construction(m) if m.contains(&part) => Ok(()),
            other => Err(format!("expected a construction error containing {part:?}, got: {other}")),
        })
    }

    /// Adds a check of the expected error.
    pub(crate) fn and_error(mut self, f: impl Fn(&Error) -> Result<(), String> + 'static) -> Self {
        let first = self.failure.take();
        self.failure = Some(Box::new(move |e| {
            if let Some(first) = &first {
                first(e)?;
            }
            f(e)
        }));
        self
    }

    /// Adds a check of the successful run's result (metrics).
    pub(crate) fn check(mut self, f: impl Fn(&PipelineResult) -> Result<(), String> + 'static) -> Self {
        self.checks.push(Box::new(f));
        self
    }

    /// The run's counter `name` of step `step` must equal `value`.
    pub(crate) fn counter(self, step: &str, name: &str, value: i64) -> Self {
        let (step, name) = (step.to_string(), name.to_string());
        self.check(move |r| match r.metrics().counter(&step, &name) {
            Some(v) if v == value => Ok(()),
            other => Err(format!("counter '{name}' of '{step}': expected {value}, got {other:?}")),
        })
    }

    /// A summary of the answer that must be the same on every runner as on the
    /// direct runner (`None` when the runner did not report it).
    pub(crate) fn fingerprint(mut self, f: impl Fn(&PipelineResult) -> Option<String> + 'static) -> Self {
        self.fingerprint = Some(Box::new(f));
        self
    }

    /// Records a check made while building (on the graph, say).
    pub(crate) fn and_built(mut self, check: Result<(), String>) -> Self {
        if let Err(m) = check {
            self.problems.push(m);
        }
        self
    }

    fn evaluate(&self, result: beamline::Result<PipelineResult>) -> (Result<(), String>, Option<String>) {
        if let Some(m) = self.problems.first() {
            return (Err(m.clone()), None);
        }
        match (result, &self.failure) {
            (Ok(r), None) => {
                for c in &self.checks {
                    if let Err(m) = c(&r) {
                        return (Err(m), None);
                    }
                }
                (Ok(()), self.fingerprint.as_ref().and_then(|f| f(&r)))
            }
            (Err(e), None) => (Err(e.to_string()), None),
            (Ok(_), Some(_)) => (Err("the run succeeded; expected it to fail".to_string()), None),
            (Err(e), Some(check)) => (check(&e), None),
        }
    }
}

thread_local! {
    static CELL: Cell<u64> = const { Cell::new(0) };
}
static NEXT_CELL: AtomicU64 = AtomicU64::new(1);

/// A number unique to the running cell, the same for both builds of a graph
/// round trip: DoFns carry it to report to process-global test state.
pub(crate) fn cell_token() -> u64 {
    CELL.with(|c| c.get())
}

/// A scratch directory for the running cell (not created), removed by the
/// harness when the cell ends; the same for both builds of a round trip.
pub(crate) fn cell_dir() -> PathBuf {
    std::env::temp_dir().join(format!("beamline-conformance-{}-{}", std::process::id(), cell_token()))
}

/// How a test is run on a runner.
#[derive(Clone, Copy, Debug)]
struct Variant {
    workers: usize,
    round_trip: bool,
}

const VARIANTS: [Variant; 4] = [
    Variant { workers: 1, round_trip: false },
    Variant { workers: 2, round_trip: false },
    Variant { workers: crate::PARALLELISM, round_trip: false },
    Variant { workers: crate::PARALLELISM, round_trip: true },
];

/// Runners that run on one thread whatever `--workers` says: they get one
/// column at parallelism 1 and one through the graph, not three runs of the
/// same single thread counted as parallel columns.
const SINGLE_THREADED: &[&str] = &["direct"];

/// The variants `runner` is run in.
fn variants(runner: &str) -> Vec<Variant> {
    if SINGLE_THREADED.contains(&runner) {
        vec![Variant { workers: 1, round_trip: false }, Variant { workers: 1, round_trip: true }]
    } else {
        VARIANTS.to_vec()
    }
}

impl Variant {
    fn name(&self) -> String {
        if self.round_trip {
            format!("{}+graph", self.workers)
        } else {
            self.workers.to_string()
        }
    }
}

/// The outcome of one cell.
#[derive(Clone, Debug)]
enum Status {
    Pass,
    Fail(String),
    /// The runner lacks a capability the test needs.
    Unsupported(String),
    /// The pipeline holds a Rust closure, so it has no portable graph.
    NotPortable,
    /// The test checks another runner's own behaviour.
    NotApplicable,
}

impl Status {
    fn short(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail(_) => "FAIL",
            Status::Unsupported(_) => "unsupported",
            Status::NotPortable => "n/p",
            Status::NotApplicable => "-",
        }
    }
}

struct Column {
    runner: Arc<dyn Runner>,
    variant: Variant,
}

impl Column {
    fn name(&self) -> String {
        format!("{}/{}", self.runner.name(), self.variant.name())
    }
}

/// Command-line settings, parsed like libtest's.
#[derive(Default)]
struct Args {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
    ignored_only: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Args {
    let mut a = Args::default();
    let mut it = args.into_iter().skip(1);
    // Flags of libtest that take a value, ignored here.
    let with_value = ["--test-threads", "--color", "--format", "--logfile", "-Z", "--shuffle-seed", "--report-time"];
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--exact" => a.exact = true,
            "--list" => a.list = true,
            "--ignored" => a.ignored_only = true,
            "--skip" => a.skip.extend(it.next()),
            s if with_value.contains(&s) => {
                it.next();
            }
            s if s.starts_with('-') => {}
            _ => a.filters.push(arg),
        }
    }
    a
}

impl Args {
    fn keeps(&self, name: &str) -> bool {
        let hit = |f: &String| if self.exact { name == f } else { name.contains(f.as_str()) };
        (self.filters.is_empty() || self.filters.iter().any(hit))
            && !self.skip.iter().any(|s| name.contains(s.as_str()))
    }
    fn unfiltered(&self) -> bool {
        self.filters.is_empty() && self.skip.is_empty() && !self.ignored_only
    }
}

/// Runs the suite with the process's arguments; the `main` of the test target.
///
/// Prints a line per test, the matrix, the failures, the time taken and, as
/// the last line, `N passed, N failed, N skipped` (cells). An unfiltered run
/// also rewrites `MATRIX.md`. Fails (exit code 1) if any cell failed.
pub fn run_cli() -> ExitCode {
    let args = parse_args(std::env::args());
    let tests: Vec<Test> = suite::all().into_iter().filter(|t| args.keeps(&t.name) && !args.ignored_only).collect();
    if args.list {
        for t in &tests {
            println!("{}: test", t.name);
        }
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    install_panic_hook();
    let runners = crate::runners();
    let columns: Vec<Column> = runners
        .iter()
        .flat_map(|r| variants(r.name()).into_iter().map(move |v| Column { runner: r.clone(), variant: v }))
        .collect();
    println!("running {} conformance tests on {} (runner/parallelism[+graph])", tests.len(), names(&columns));
    let mut rows = Vec::new();
    for t in &tests {
        let t0 = Instant::now();
        let mut cells = Vec::new();
        let mut prints = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let (status, print) = run_cell(t, &runners, c, seed(&t.name, i));
            cells.push(status);
            prints.push(print);
        }
        check_fingerprints(&columns, &mut cells, &prints);
        let failed = cells.iter().any(|c| matches!(c, Status::Fail(_)));
        let shown: Vec<&str> = cells.iter().map(Status::short).collect();
        println!(
            "test {} ... {} [{}] {} ms",
            t.name,
            if failed { "FAILED" } else { "ok" },
            shown.join(" "),
            t0.elapsed().as_millis()
        );
        rows.push(Row { name: t.name.clone(), requires: t.requires.clone(), categories: t.categories.clone(), cells });
    }
    let report = Report { columns: columns.iter().map(Column::name).collect(), rows };
    println!();
    print!("{}", report.text_table());
    let failures = report.failures();
    if !failures.is_empty() {
        println!("\nfailures:");
        for (test, col, msg) in &failures {
            println!("  {test} on {col}: {msg}");
        }
    }
    if args.unfiltered() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("MATRIX.md");
        match write_atomically(&path, report.markdown().as_bytes()) {
            Ok(()) => println!("\nwrote {}", path.display()),
            Err(e) => println!("\ncould not write {}: {e}", path.display()),
        }
    }
    let (pass, fail, skip) = report.counts();
    println!("\n{} tests, {} cells in {:.1} s", report.rows.len(), pass + fail + skip, started.elapsed().as_secs_f64());
    println!("{pass} passed, {fail} failed, {skip} skipped");
    if fail > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn names(columns: &[Column]) -> String {
    columns.iter().map(Column::name).collect::<Vec<_>>().join(", ")
}

/// A seed per test and column, so each run shuffles differently but reproducibly.
fn seed(test: &str, column: usize) -> u64 {
    beamline::key_hash(&(test, column as u64)) % 1_000_000
}

/// Fails cells whose answer differs from the direct runner's (first cell).
fn check_fingerprints(columns: &[Column], cells: &mut [Status], prints: &[Option<String>]) {
    let reference = columns
        .iter()
        .zip(prints)
        .find(|(c, p)| c.runner.name() == "direct" && p.is_some())
        .and_then(|(c, p)| p.clone().map(|p| (c.name(), p)));
    let Some((ref_col, ref_print)) = reference else { return };
    for (cell, p) in cells.iter_mut().zip(prints) {
        if let (Status::Pass, Some(p)) = (&*cell, p) {
            if *p != ref_print {
                *cell = Status::Fail(format!("answer {p} differs from {ref_col}'s {ref_print}"));
            }
        }
    }
}

/// Runs one test on one column, on a thread of its own.
fn run_cell(test: &Test, runners: &Runners, column: &Column, seed: u64) -> (Status, Option<String>) {
    let runner = &column.runner;
    if let Some(only) = &test.only_on {
        if !only.contains(&runner.name()) {
            return (Status::NotApplicable, None);
        }
    }
    if let Some(missing) = test.requires.iter().find(|c| !runner.capabilities().contains(c)) {
        return (Status::Unsupported(format!("lacks '{missing}'")), None);
    }
    let mut options = PipelineOptions::for_runner(runner.name());
    options.workers = Some(column.variant.workers);
    options.allow_unsafe_triggers = test.allow_unsafe_triggers;
    let seed_flag = format!("{}-seed", runner.name());
    if runner.flags().iter().any(|f| f.name == seed_flag) {
        options.runner_flags.insert(seed_flag, seed.to_string());
    }
    let (tx, rx) = mpsc::channel();
    let build = test.build.clone();
    let requires = test.requires.clone();
    let caps: Vec<&'static str> = runner.capabilities().to_vec();
    let runners = runners.clone();
    let round_trip = column.variant.round_trip;
    let spawned = std::thread::Builder::new().name(format!("{}@{}", test.name, column.name())).spawn(move || {
        CELL.with(|c| c.set(NEXT_CELL.fetch_add(1, Ordering::Relaxed)));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cell_body(&build, &requires, &caps, options, runners, round_trip)
        }));
        let _ = std::fs::remove_dir_all(cell_dir());
        let outcome =
            outcome.unwrap_or_else(|p| (Status::Fail(format!("the test panicked: {}", panic_text(p.as_ref()))), None));
        let _ = tx.send(outcome);
    });
    if let Err(e) = spawned {
        return (Status::Fail(format!("cannot start a thread: {e}")), None);
    }
    match rx.recv_timeout(CELL_TIMEOUT) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            (Status::Fail(format!("timed out after {} s", CELL_TIMEOUT.as_secs())), None)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => (Status::Fail("the cell's thread died".into()), None),
    }
}

fn cell_body(
    build: &BuildFn,
    requires: &[&'static str],
    caps: &[&'static str],
    options: PipelineOptions,
    runners: Runners,
    round_trip: bool,
) -> (Status, Option<String>) {
    let p = Pipeline::new(options.clone(), runners.clone());
    let expect = build(&p);
    let graph = p.graph();
    if let Err(m) = check_tags(&graph, requires) {
        return (Status::Fail(m), None);
    }
    if let Some(missing) = graph_requirements(&graph).into_iter().find(|c| !caps.contains(&c.as_str())) {
        return (Status::Unsupported(format!("lacks '{missing}'")), None);
    }
    if !round_trip {
        return finish(expect.evaluate(p.run()));
    }
    let json = match p.portable_graph_json() {
        Ok(json) => json,
        Err(Error::Graph { message, .. }) if message.contains("Rust closure") => return (Status::NotPortable, None),
        Err(e) => return finish(expect.evaluate(Err(e))),
    };
    let path = cell_dir().with_extension("json");
    if let Err(e) = std::fs::write(&path, json) {
        return (Status::Fail(format!("cannot write {}: {e}", path.display())), None);
    }
    let mut options = options;
    options.graph = Some(path.clone());
    let again = Pipeline::new(options, runners);
    let expect_again = build(&again).and_built(expect.problems.first().cloned().map_or(Ok(()), Err));
    let result = again.run();
    let _ = std::fs::remove_file(&path);
    finish(expect_again.evaluate(result))
}

fn finish((r, print): (Result<(), String>, Option<String>)) -> (Status, Option<String>) {
    match r {
        Ok(()) => (Status::Pass, print),
        Err(m) => (Status::Fail(m), None),
    }
}

/// Whether a label lies inside an in-pipeline assertion, whose needs the
/// suite itself brings (a side input).
fn in_assertion(label: &str) -> bool {
    label.split('/').any(|seg| seg.starts_with("AssertThat"))
}

/// Every capability the graph asks for (assertions included).
fn graph_requirements(graph: &PipelineGraph) -> BTreeSet<String> {
    let mut caps: BTreeSet<String> = graph.transforms.iter().flat_map(|t| t.requirements.iter().cloned()).collect();
    if graph.pcollections.iter().any(|p| !p.bounded) {
        caps.insert(capabilities::UNBOUNDED.to_string());
    }
    caps
}

/// Fails when the pipeline (outside its assertions) needs a capability the
/// test is not tagged with: the tags must tell the truth.
fn check_tags(graph: &PipelineGraph, requires: &[&'static str]) -> Result<(), String> {
    for t in graph.transforms.iter().filter(|t| !in_assertion(&t.label)) {
        if let Some(r) = t.requirements.iter().find(|r| !requires.contains(&r.as_str())) {
            return Err(format!("step '{}' needs the capability '{r}', which the test is not tagged with", t.label));
        }
    }
    if graph.pcollections.iter().any(|p| !p.bounded) && !requires.contains(&capabilities::UNBOUNDED) {
        return Err("the pipeline is unbounded but the test is not tagged 'unbounded'".into());
    }
    Ok(())
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Panics inside user code are expected in some tests (and reported through
/// the run's error); keep them off the terminal, but remember the last one.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let text = format!("{info}");
        if std::env::var_os("BEAMLINE_CONFORMANCE_PANICS").is_some() {
            eprintln!("{text}");
        }
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(text);
        }
    }));
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    let payload = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    match LAST_PANIC.lock().ok().and_then(|l| l.clone()) {
        Some(where_) => format!("{payload} ({where_})"),
        None => payload,
    }
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("md.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// One test's results: its tags and one cell per column.
struct Row {
    name: String,
    requires: Vec<&'static str>,
    categories: Vec<&'static str>,
    cells: Vec<Status>,
}

/// The results: one row per test, one cell per column.
struct Report {
    columns: Vec<String>,
    rows: Vec<Row>,
}

impl Report {
    fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for s in self.rows.iter().flat_map(|r| &r.cells) {
            match s {
                Status::Pass => c.0 += 1,
                Status::Fail(_) => c.1 += 1,
                _ => c.2 += 1,
            }
        }
        c
    }

    fn failures(&self) -> Vec<(String, String, String)> {
        let mut v = Vec::new();
        for row in &self.rows {
            for (col, s) in self.columns.iter().zip(&row.cells) {
                if let Status::Fail(m) = s {
                    v.push((row.name.clone(), col.clone(), m.clone()));
                }
            }
        }
        v
    }

    fn text_table(&self) -> String {
        let w = self.rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
        let mut out = format!("{:w$}", "test");
        for c in &self.columns {
            let _ = write!(out, "  {c:>14}");
        }
        out.push('\n');
        for row in &self.rows {
            let _ = write!(out, "{:w$}", row.name);
            for s in &row.cells {
                let _ = write!(out, "  {:>14}", s.short());
            }
            out.push('\n');
        }
        out
    }

    /// Per Beam category: how many tests it has, and their cells per runner.
    fn categories_section(&self) -> String {
        let mut out = String::new();
        let used: Vec<&str> =
            CATEGORIES.iter().copied().filter(|c| self.rows.iter().any(|r| r.categories.contains(c))).collect();
        if used.is_empty() {
            return out;
        }
        out.push_str("\n## Beam ValidatesRunner categories\n\n");
        let runners: Vec<&str> = {
            let mut v: Vec<&str> = self.columns.iter().map(|c| c.split('/').next().unwrap_or(c)).collect();
            v.dedup();
            v
        };
        for category in used {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.categories.contains(&category)).collect();
            let mut parts = Vec::new();
            for runner in &runners {
                let (mut p, mut f, mut s) = (0, 0, 0);
                for row in &rows {
                    for (col, cell) in self.columns.iter().zip(&row.cells) {
                        if col.split('/').next() != Some(runner) {
                            continue;
                        }
                        match cell {
                            Status::Pass => p += 1,
                            Status::Fail(_) => f += 1,
                            _ => s += 1,
                        }
                    }
                }
                parts.push(format!("`{runner}` {p} passed, {f} failed, {s} skipped"));
            }
            let _ = writeln!(out, "- `{category}` ({} tests): {}", rows.len(), parts.join("; "));
        }
        out
    }

    fn markdown(&self) -> String {
        let (pass, fail, skip) = self.counts();
        let mut out = String::from(
            "# Conformance matrix\n\n\
             Generated by `cargo test -p beamline-conformance-tests` (an unfiltered run rewrites this file).\n\
             Columns are `runner/parallelism`; `+graph` runs the pipeline rebuilt from its portable graph\n\
             (JSON written, then read back with `--graph`). The direct runner is single-threaded: it has\n\
             one column at parallelism 1 and one through the graph.\n\n\
             Legend: `pass`; `FAIL`; `unsupported` — the runner lacks a capability the test needs;\n\
             `n/p` — not portable: the pipeline holds a Rust closure (`Map`, `Filter`, ...), so it has no\n\
             graph to round-trip; `-` — a check of another runner's own behaviour.\n\
             Columns `py-<runner>/<workers>` are the same cases written with Beam's Python API\n\
             (`python/tests/conformance`, results in `python-results.json`, rewritten by an unfiltered\n\
             pytest run); `n/a` — the case has no Python form (reasons below).\n\n",
        );
        let py = PythonResults::read();
        let _ = writeln!(out, "**{pass} passed, {fail} failed, {skip} skipped** ({} tests)\n", self.rows.len());
        let mut per_runner: HashMap<&str, (usize, usize, usize)> = HashMap::new();
        for (i, col) in self.columns.iter().enumerate() {
            let runner = col.split('/').next().unwrap_or(col);
            let e = per_runner.entry(runner).or_default();
            for row in &self.rows {
                match &row.cells[i] {
                    Status::Pass => e.0 += 1,
                    Status::Fail(_) => e.1 += 1,
                    _ => e.2 += 1,
                }
            }
        }
        let mut runners: Vec<_> = per_runner.into_iter().collect();
        runners.sort();
        for (r, (p, f, s)) in runners {
            let _ = writeln!(out, "- `{r}`: {p} passed, {f} failed, {s} skipped");
        }
        for c in &py.columns {
            let count = |want: &str| self.rows.iter().filter(|row| py.cell(&row.name, c) == want).count();
            let _ = writeln!(
                out,
                "- `{c}`: {} passed, {} failed, {} n/a, {} not ported",
                count("pass"),
                count("**FAIL**"),
                count("n/a"),
                count("not ported")
            );
        }
        out.push_str("\n| test | needs | categories |");
        for c in self.columns.iter().chain(&py.columns) {
            let _ = write!(out, " {c} |");
        }
        out.push_str("\n| --- | --- | --- |");
        for _ in self.columns.iter().chain(&py.columns) {
            out.push_str(" --- |");
        }
        out.push('\n');
        for row in &self.rows {
            let _ = write!(out, "| `{}` | {} | {} |", row.name, row.requires.join(", "), row.categories.join(", "));
            for s in &row.cells {
                let shown = match s {
                    Status::Fail(_) => "**FAIL**",
                    other => other.short(),
                };
                let _ = write!(out, " {shown} |");
            }
            for c in &py.columns {
                let _ = write!(out, " {} |", py.cell(&row.name, c));
            }
            out.push('\n');
        }
        out.push_str(&self.categories_section());
        if !py.reasons.is_empty() {
            out.push_str("\n## Python: cases with no Python form\n\n");
            for (name, why) in &py.reasons {
                let _ = writeln!(out, "- `{name}`: {}", why.replace('|', "\\|"));
            }
        }
        let failures = self.failures();
        if !failures.is_empty() {
            out.push_str("\n## Failures\n\n");
            for (test, col, msg) in failures {
                let msg: String = msg.chars().take(600).collect();
                let _ = writeln!(out, "- `{test}` on `{col}`: {}", msg.replace('\n', " ").replace('|', "\\|"));
            }
        }
        let unsupported: Vec<String> = self
            .rows
            .iter()
            .flat_map(|row| {
                self.columns.iter().zip(&row.cells).filter_map(move |(col, s)| match s {
                    Status::Unsupported(m) => Some(format!("- `{}` on `{col}`: {m}", row.name)),
                    _ => None,
                })
            })
            .collect();
        if !unsupported.is_empty() {
            out.push_str("\n## Unsupported\n\n");
            out.push_str(&unsupported.join("\n"));
            out.push('\n');
        }
        out
    }
}

/// The Python ports' results, as extra matrix columns (written by an
/// unfiltered run of `python/tests/conformance`).
#[derive(serde::Deserialize, Default)]
struct PythonResults {
    columns: Vec<String>,
    results: HashMap<String, HashMap<String, String>>,
    #[serde(default)]
    reasons: std::collections::BTreeMap<String, String>,
}

impl PythonResults {
    fn read() -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python-results.json");
        std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
    }

    fn cell(&self, case: &str, column: &str) -> &'static str {
        match self.results.get(case).and_then(|r| r.get(column)).map(String::as_str) {
            Some("pass") => "pass",
            Some("FAIL") => "**FAIL**",
            Some("n/a") => "n/a",
            _ => "not ported",
        }
    }
}
