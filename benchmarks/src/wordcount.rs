//! Wordcount: the examples crate's `count_words` pipeline against a
//! hand-written single-threaded count ([`baseline`]) and, for setups with
//! several workers, a hand-written rayon count on as many threads
//! ([`rayon_baseline`]).
//!
//! All read the same corpus file and write `word: count` lines; the
//! pipeline's lines, sorted, must equal the single-threaded baseline's.

use crate::corpus::{self, Corpus, CorpusSpec};
use crate::error::{BenchError, Result};
use crate::harness::{self, Baseline, Goal, Measurement, Workload};
use crate::setup::{linked_runners, RunnerSetup};
use beamline::io::{ReadFromText, WriteToText};
use beamline::prelude::*;
use beamline::Window;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// The name (prefix) of the output files in an output directory.
pub(crate) const OUTPUT: &str = "counts";

/// Which pipeline counts the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The examples crate's wordcount: `ReadFromText` → `count_words`
    /// (`ExtractWords` → `Count::per_element`) → `format_counts` → `WriteToText`.
    /// This is the benchmark.
    Examples,
    /// An experiment showing what combiner lifting in the runner would save:
    /// `ReadFromText` → `ExtractWords` (as the examples) → per-bundle partial
    /// counts ([`PartialCountFn`], what a lifted `Count::per_element` runs
    /// before its shuffle) → `Combine::per_key(Sum)` → `format_counts` → `WriteToText`.
    Lifted,
    /// An experiment showing what combiner lifting fused with the split would save:
    /// `ReadFromText` → one DoFn that splits lines and counts words per bundle
    /// ([`CountWordsInBundleFn`]) → `Combine::per_key(Sum)` → `format_counts` → `WriteToText`.
    Precombined,
}

impl Shape {
    /// `examples` or `precombined`.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Examples => "examples",
            Shape::Lifted => "lifted",
            Shape::Precombined => "precombined",
        }
    }

    /// The shape called `name`.
    pub fn by_name(name: &str) -> Result<Shape> {
        match name {
            "examples" => Ok(Shape::Examples),
            "lifted" => Ok(Shape::Lifted),
            "precombined" => Ok(Shape::Precombined),
            _ => Err(BenchError::Invalid(format!("unknown pipeline '{name}'; known: examples, lifted, precombined"))),
        }
    }
}

/// Wordcount over one corpus file.
#[derive(Debug, Clone)]
pub struct WordCount {
    corpus: Corpus,
    shape: Shape,
    parallel: Vec<usize>,
}

impl WordCount {
    /// Wordcount over `corpus` with the examples' pipeline.
    pub fn new(corpus: Corpus) -> Self {
        WordCount { corpus, shape: Shape::Examples, parallel: Vec::new() }
    }

    /// Wordcount over `corpus` with the given pipeline.
    pub fn with_shape(corpus: Corpus, shape: Shape) -> Self {
        WordCount { corpus, shape, parallel: Vec::new() }
    }

    /// Adds a hand-written rayon count ([`rayon_baseline`]) on each of these
    /// thread counts (see [`RunnerSetup::parallel_threads`]).
    pub fn with_parallel_baselines(mut self, threads: &[usize]) -> Self {
        self.parallel = threads.to_vec();
        self
    }

    /// The corpus.
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }
}

impl Workload for WordCount {
    fn name(&self) -> String {
        match self.shape {
            Shape::Examples => format!("wordcount {}", size_label(self.corpus.spec.bytes)),
            Shape::Lifted | Shape::Precombined => {
                format!("wordcount ({}) {}", self.shape.name(), size_label(self.corpus.spec.bytes))
            }
        }
    }

    fn input_description(&self) -> String {
        let c = &self.corpus;
        format!(
            "{} bytes, {} lines, {} words, {} distinct (vocabulary {}, Zipf s={}, {}–{} words/line, seed {})",
            c.bytes,
            c.lines,
            c.words,
            c.distinct,
            c.spec.vocabulary,
            c.spec.exponent,
            c.spec.min_words_per_line,
            c.spec.max_words_per_line,
            c.spec.seed
        )
    }

    fn items(&self) -> u64 {
        self.corpus.words
    }

    fn unit(&self) -> &'static str {
        "words"
    }

    fn baselines(&self) -> Vec<Baseline> {
        let mut v = vec![Baseline::single_threaded()];
        v.extend(self.parallel.iter().map(|&t| Baseline::rayon(t)));
        v
    }

    fn run_baseline(&self, b: &Baseline, out_dir: &Path) -> Result<()> {
        if b.threads > 1 {
            rayon_baseline(&self.corpus.path, &out_dir.join(OUTPUT), b.threads)
        } else {
            baseline(&self.corpus.path, &out_dir.join(OUTPUT))
        }
    }

    fn goals(&self) -> Vec<Goal> {
        if self.shape != Shape::Examples {
            return Vec::new();
        }
        // The same goals for every parallel runner: 0.7× the single-threaded
        // count on one worker, 0.9× the rayon count on as many threads.
        let mut goals = Vec::new();
        for runner in ["rayon", "timely"] {
            goals.push(Goal {
                setup: format!("{runner}-1"),
                max_ratio: 1.0 / 0.7,
                text: "at least 0.7× the speed of the single-threaded hand-written count".into(),
            });
            goals.extend(self.parallel.iter().map(|t| Goal {
                setup: format!("{runner}-{t}"),
                max_ratio: 1.0 / 0.9,
                text: format!("at least 0.9× the speed of the hand-written rayon count on {t} threads"),
            }));
        }
        goals
    }

    fn run_pipeline(&self, setup: &RunnerSetup, out_dir: &Path) -> Result<()> {
        match self.shape {
            Shape::Examples => pipeline(&self.corpus.path, &out_dir.join(OUTPUT), setup),
            Shape::Lifted | Shape::Precombined => {
                experiment_pipeline(self.shape, &self.corpus.path, &out_dir.join(OUTPUT), setup)
            }
        }
    }

    fn is_experiment(&self) -> bool {
        self.shape != Shape::Examples
    }

    fn verify(&self, variant: &str, baseline_dir: &Path, pipeline_dir: &Path) -> Result<()> {
        let mismatch = |detail: String| BenchError::Mismatch { workload: self.name(), setup: variant.into(), detail };
        let expected = sorted_lines(baseline_dir)?;
        let actual = sorted_lines(pipeline_dir)?;
        let total: u64 = expected.iter().filter_map(|l| l.rsplit_once(": ")?.1.parse::<u64>().ok()).sum();
        if total != self.corpus.words || expected.len() as u64 != self.corpus.distinct {
            return Err(mismatch(format!(
                "the baseline counted {total} words in {} lines; the corpus has {} words, {} distinct",
                expected.len(),
                self.corpus.words,
                self.corpus.distinct
            )));
        }
        if expected != actual {
            let first =
                expected.iter().zip(&actual).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
            return Err(mismatch(format!(
                "baseline wrote {} lines, pipeline {}; first difference at sorted line {}: baseline {:?}, pipeline {:?}",
                expected.len(),
                actual.len(),
                first + 1,
                expected.get(first),
                actual.get(first)
            )));
        }
        Ok(())
    }
}

/// The hand-written program: read the file, split on ASCII whitespace, count
/// in an FxHashMap of byte slices, write `word: count` lines to `output`.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-baseline-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("in.txt"), "b a\nb\n").unwrap();
/// beamline_benchmarks::wordcount::baseline(&dir.join("in.txt"), &dir.join("out")).unwrap();
/// let mut lines: Vec<String> = std::fs::read_to_string(dir.join("out")).unwrap().lines().map(String::from).collect();
/// lines.sort();
/// assert_eq!(lines, ["a: 1", "b: 2"]);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn baseline(input: &Path, output: &Path) -> Result<()> {
    let bytes = std::fs::read(input).map_err(|e| BenchError::io(input, e))?;
    let mut counts: FxHashMap<&[u8], u64> = FxHashMap::default();
    for word in bytes.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty()) {
        *counts.entry(word).or_insert(0) += 1;
    }
    write_counts(&counts, output)
}

/// The hand-written parallel program: read the file, cut it into byte ranges
/// at line boundaries (8 per thread), count each range on a rayon pool of
/// `threads` threads into per-thread FxHashMaps of byte slices (rayon's
/// `fold`), merge them (`reduce`), write `word: count` lines to `output` as
/// [`baseline`] does.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-rayon-baseline-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("in.txt"), "b a\nb\nc b\n").unwrap();
/// beamline_benchmarks::wordcount::rayon_baseline(&dir.join("in.txt"), &dir.join("out"), 2).unwrap();
/// let mut lines: Vec<String> = std::fs::read_to_string(dir.join("out")).unwrap().lines().map(String::from).collect();
/// lines.sort();
/// assert_eq!(lines, ["a: 1", "b: 3", "c: 1"]);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn rayon_baseline(input: &Path, output: &Path, threads: usize) -> Result<()> {
    let bytes = std::fs::read(input).map_err(|e| BenchError::io(input, e))?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let counts = pool.install(|| {
        line_ranges(&bytes, threads * 8)
            .into_par_iter()
            .fold(FxHashMap::<&[u8], u64>::default, |mut counts, range| {
                for word in bytes[range].split(u8::is_ascii_whitespace).filter(|w| !w.is_empty()) {
                    *counts.entry(word).or_insert(0) += 1;
                }
                counts
            })
            .reduce(FxHashMap::default, |a, b| {
                let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                for (word, n) in small {
                    *big.entry(word).or_insert(0) += n;
                }
                big
            })
    });
    write_counts(&counts, output)
}

/// About `parts` byte ranges covering `bytes`, each ending just after a `\n` (or at the end).
fn line_ranges(bytes: &[u8], parts: usize) -> Vec<std::ops::Range<usize>> {
    let step = bytes.len().div_ceil(parts.max(1)).max(1);
    let mut ranges = Vec::with_capacity(parts);
    let mut start = 0;
    while start < bytes.len() {
        let cut = (start + step).min(bytes.len());
        let end = bytes[cut..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| cut + i + 1);
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Writes `word: count` lines, in the map's order.
fn write_counts(counts: &FxHashMap<&[u8], u64>, output: &Path) -> Result<()> {
    let mut out = Vec::with_capacity(counts.len() * 16);
    for (word, count) in counts {
        out.extend_from_slice(word);
        // Writing to a Vec cannot fail.
        let _ = writeln!(out, ": {count}");
    }
    std::fs::write(output, out).map_err(|e| BenchError::io(output, e))
}

/// The pipeline, as the examples' wordcount program builds it:
/// `ReadLines` ([`ReadFromText`]) → [`beamline_examples::count_words`] →
/// [`beamline_examples::format_counts`] (`word: count`) → `WriteCounts`
/// ([`WriteToText`], one shard), run on the runner `setup` names.
pub fn pipeline(input: &Path, output_prefix: &Path, setup: &RunnerSetup) -> Result<()> {
    let p = Pipeline::new(setup.options(), linked_runners());
    let lines = p.apply_named("ReadLines", ReadFromText::new(input.display().to_string()));
    let counts = beamline_examples::count_words(lines);
    let _files = beamline_examples::format_counts(counts)
        .apply_named("WriteCounts", WriteToText::new(output_prefix.display().to_string()));
    p.run().map_err(|source| BenchError::Pipeline { setup: setup.name.clone(), source })?;
    Ok(())
}

/// The [`Shape::Lifted`] and [`Shape::Precombined`] experiments: the same
/// input and output as [`pipeline`], but only per-bundle partial counts go
/// through `Combine::per_key(Sum)`. ([`Shape::Examples`] runs [`pipeline`].)
pub fn experiment_pipeline(shape: Shape, input: &Path, output_prefix: &Path, setup: &RunnerSetup) -> Result<()> {
    let p = Pipeline::new(setup.options(), linked_runners());
    let lines = p.apply_named("ReadLines", ReadFromText::new(input.display().to_string()));
    let partial = match shape {
        Shape::Precombined => lines.apply_named("CountInBundle", ParDo::of(CountWordsInBundleFn::default())),
        _ => lines
            .apply_named("ExtractWords", ParDo::of(beamline_examples::ExtractWordsFn::default()))
            .apply_named("PartialCount", ParDo::of(PartialCountFn::default())),
    };
    let counts = partial.apply_named("SumPerWord", Combine::per_key(Sum::<u64>::new()));
    let _files = beamline_examples::format_counts(counts)
        .apply_named("WriteCounts", WriteToText::new(output_prefix.display().to_string()));
    p.run().map_err(|source| BenchError::Pipeline { setup: setup.name.clone(), source })?;
    Ok(())
}

/// Counts the words of a bundle in a map that `finish_bundle` emits as
/// `(word, partial count)`: the pre-shuffle half of a lifted
/// `Count::per_element`. For globally windowed input.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_benchmarks::wordcount::PartialCountFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let counts = p
///     .apply(Create::new(vec!["a".to_string(), "b".into(), "a".into()]))
///     .apply(ParDo::of(PartialCountFn::default()))
///     .apply(Combine::per_key(Sum::<u64>::new()));
/// assert_that(&counts, contains_in_any_order(vec![("a".to_string(), 2u64), ("b".to_string(), 1)]));
/// p.run().unwrap();
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PartialCountFn {
    #[serde(skip)]
    counts: FxHashMap<String, u64>,
}

impl DoFn for PartialCountFn {
    type In = String;
    type Out = (String, u64);
    fn process(
        &mut self,
        word: &String,
        _ctx: &mut ProcessContext<'_, (String, u64)>,
    ) -> std::result::Result<(), DoFnError> {
        match self.counts.get_mut(word.as_str()) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(word.clone(), 1);
            }
        }
        Ok(())
    }
    fn finish_bundle(
        &mut self,
        ctx: &mut FinishBundleContext<'_, (String, u64)>,
    ) -> std::result::Result<(), DoFnError> {
        emit_partial_counts(&mut self.counts, ctx);
        Ok(())
    }
}

/// Splits lines into words (as `ExtractWordsFn`) and counts them in a map
/// that `finish_bundle` emits as `(word, partial count)` pairs: one String per
/// distinct word of a bundle instead of one per word. For globally windowed
/// input (what `ReadFromText` gives).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_benchmarks::wordcount::CountWordsInBundleFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let counts = p
///     .apply(Create::new(vec!["a b a".to_string()]))
///     .apply(ParDo::of(CountWordsInBundleFn::default()))
///     .apply(Combine::per_key(Sum::<u64>::new()));
/// assert_that(&counts, contains_in_any_order(vec![("a".to_string(), 2u64), ("b".to_string(), 1)]));
/// p.run().unwrap();
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CountWordsInBundleFn {
    #[serde(skip)]
    counts: FxHashMap<String, u64>,
}

impl DoFn for CountWordsInBundleFn {
    type In = String;
    type Out = (String, u64);
    fn process(
        &mut self,
        line: &String,
        _ctx: &mut ProcessContext<'_, (String, u64)>,
    ) -> std::result::Result<(), DoFnError> {
        for word in line.split_whitespace() {
            match self.counts.get_mut(word) {
                Some(c) => *c += 1,
                None => {
                    self.counts.insert(word.to_string(), 1);
                }
            }
        }
        Ok(())
    }
    fn finish_bundle(
        &mut self,
        ctx: &mut FinishBundleContext<'_, (String, u64)>,
    ) -> std::result::Result<(), DoFnError> {
        emit_partial_counts(&mut self.counts, ctx);
        Ok(())
    }
}

/// Emits a bundle's partial counts (globally windowed input) and empties the map.
fn emit_partial_counts(counts: &mut FxHashMap<String, u64>, ctx: &mut FinishBundleContext<'_, (String, u64)>) {
    for (word, count) in counts.drain() {
        ctx.emit((word, count), Timestamp::MIN, Window::Global);
    }
}

/// Every line of every output file in `dir` (files named `counts*`), sorted.
fn sorted_lines(dir: &Path) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| BenchError::io(dir, e))?;
    let mut files = 0;
    for entry in entries {
        let entry = entry.map_err(|e| BenchError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with(OUTPUT) || name.contains(".beamline-tmp-") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).map_err(|e| BenchError::io(entry.path(), e))?;
        lines.extend(text.lines().map(str::to_string));
        files += 1;
    }
    if files == 0 {
        return Err(BenchError::Invalid(format!("no output file '{OUTPUT}*' in {}", dir.display())));
    }
    lines.sort_unstable();
    Ok(lines)
}

/// `16 MiB`, `200 KiB`, `1234 B`.
pub fn size_label(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// The quick check: a corpus of about `bytes` bytes in `dir`, one repetition
/// in this process on the default setups plus `rayon-1`, `rayon-2`,
/// `timely-1` and `timely-2` (with the hand-written rayon count on 2
/// threads), outputs compared. No timing is asserted; the measurement is returned.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-quick-doc-{}", std::process::id()));
/// let m = beamline_benchmarks::wordcount::quick_check(&dir, 20_000).unwrap();
/// assert_eq!(m.len(), 1);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn quick_check(dir: &Path, bytes: u64) -> Result<Vec<Measurement>> {
    let corpus = corpus::ensure(&CorpusSpec::zipf(bytes), dir)?;
    let mut setups = RunnerSetup::defaults();
    setups.extend([RunnerSetup::rayon(1), RunnerSetup::rayon(2), RunnerSetup::timely(1), RunnerSetup::timely(2)]);
    let wc = WordCount::new(corpus).with_parallel_baselines(&RunnerSetup::parallel_threads(&setups));
    let m = harness::measure(&wc, &setups, 1, &dir.join("scratch"), &harness::InProcess)?;
    Ok(vec![m])
}
