//! CombinePerKey: `Combine::per_key(Sum)` over generated `(u64, u64)` pairs
//! against a hand-written FxHashMap fold.
//!
//! The pairs are never materialized: the pipeline `Create`s chunk indexes and
//! a named DoFn ([`GeneratePairsFn`]) emits each chunk's pairs from
//! [`pair`] (splitmix64 of the element index); the hand-written programs
//! generate exactly the same pairs the same way. Both end with one line, the
//! [`Digest`] of the per-key sums (number of keys, total, and an
//! order-independent hash of every `(key, sum)`), which must be equal.

use crate::error::{BenchError, Result};
use crate::harness::{self, Baseline, Goal, Measurement, Workload};
use crate::setup::{linked_runners, RunnerSetup};
use crate::units::count_label;
use beamline::io::WriteToText;
use beamline::prelude::*;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Elements generated per chunk index.
pub const CHUNK: u64 = 10_000;

/// The name (prefix) of the output files.
const OUTPUT: &str = "digest";

/// splitmix64: a fast, well-mixed 64-bit hash of `x`.
///
/// # Examples
/// ```
/// use beamline_benchmarks::combine::splitmix64;
/// assert_eq!(splitmix64(0), 0xe220a8397b1dcdaf);
/// assert_ne!(splitmix64(1), splitmix64(2));
/// ```
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `i`th pair for `keys` distinct keys: `h = splitmix64(i)`, key `h % keys`,
/// value the top 24 bits of `h` (so 50 M of them sum without overflow).
///
/// # Examples
/// ```
/// let (k, v) = beamline_benchmarks::combine::pair(7, 1000);
/// assert!(k < 1000 && v < 1 << 24);
/// ```
#[inline]
pub fn pair(i: u64, keys: u64) -> (u64, u64) {
    let h = splitmix64(i);
    (h % keys, h >> 40)
}

/// Emits the pairs of a chunk: for chunk `c`, [`pair`]`(i, keys)` for every
/// `i` in `c * CHUNK .. min((c + 1) * CHUNK, pairs)`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_benchmarks::combine::{pair, GeneratePairsFn};
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let pairs = p.apply(Create::new(vec![0u64])).apply(ParDo::of(GeneratePairsFn::new(3, 10)));
/// assert_that(&pairs, contains_in_any_order((0..3).map(|i| pair(i, 10)).collect::<Vec<_>>()));
/// p.run().unwrap();
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GeneratePairsFn {
    pairs: u64,
    keys: u64,
}

impl GeneratePairsFn {
    /// `pairs` pairs in all, over `keys` distinct keys.
    pub fn new(pairs: u64, keys: u64) -> Self {
        GeneratePairsFn { pairs, keys }
    }
}

impl DoFn for GeneratePairsFn {
    type In = u64;
    type Out = (u64, u64);
    #[inline]
    fn process(&mut self, chunk: &u64, ctx: &mut ProcessContext<'_, (u64, u64)>) -> std::result::Result<(), DoFnError> {
        let start = chunk * CHUNK;
        for i in start..(start + CHUNK).min(self.pairs) {
            ctx.emit(pair(i, self.keys));
        }
        Ok(())
    }
}

/// An order-independent digest of `(key, sum)` pairs: how many, the total of
/// the sums, and the wrapping sum of a hash of each pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// Number of pairs (distinct keys).
    pub keys: u64,
    /// Sum of all values (wrapping).
    pub total: u64,
    /// Sum of `splitmix64(key ^ splitmix64(value))` (wrapping).
    pub mix: u64,
}

impl Digest {
    /// Adds one `(key, sum)`.
    #[inline]
    pub fn add(&mut self, key: u64, value: u64) {
        self.keys += 1;
        self.total = self.total.wrapping_add(value);
        self.mix = self.mix.wrapping_add(splitmix64(key ^ splitmix64(value)));
    }

    /// Merges another digest in.
    pub fn merge(&mut self, o: Digest) {
        self.keys += o.keys;
        self.total = self.total.wrapping_add(o.total);
        self.mix = self.mix.wrapping_add(o.mix);
    }

    /// The output line: `keys=3 total=12 mix=…`.
    ///
    /// # Examples
    /// ```
    /// let mut d = beamline_benchmarks::combine::Digest::default();
    /// d.add(1, 2);
    /// assert!(d.line().starts_with("keys=1 total=2 mix="));
    /// ```
    pub fn line(&self) -> String {
        format!("keys={} total={} mix={:016x}", self.keys, self.total, self.mix)
    }
}

/// [`Digest`] as a `CombineFn` over `(key, sum)` pairs.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_benchmarks::combine::{Digest, DigestFn};
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let d = p.apply(Create::new(vec![(1u64, 2u64), (3, 4)])).apply(Combine::globally(DigestFn));
/// let mut expected = Digest::default();
/// expected.add(3, 4);
/// expected.add(1, 2);
/// assert_that(&d, contains_in_any_order(vec![expected]));
/// p.run().unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct DigestFn;

impl CombineFn for DigestFn {
    type In = (u64, u64);
    type Acc = Digest;
    type Out = Digest;
    fn create_accumulator(&self) -> Digest {
        Digest::default()
    }
    #[inline]
    fn add_input(&self, acc: &mut Digest, (k, v): &(u64, u64)) {
        acc.add(*k, *v);
    }
    fn merge_accumulators(&self, acc: &mut Digest, other: Digest) {
        acc.merge(other);
    }
    fn extract_output(&self, acc: Digest) -> Digest {
        acc
    }
}

/// `Combine::per_key(Sum::<u64>)` over `pairs` generated pairs with `keys` distinct keys.
#[derive(Debug, Clone)]
pub struct CombinePerKeyBench {
    pairs: u64,
    keys: u64,
    parallel: Vec<usize>,
}

impl CombinePerKeyBench {
    /// `pairs` pairs over `keys` distinct keys; hand-written rayon folds on
    /// each of the `parallel` thread counts besides the single-threaded one.
    pub fn new(pairs: u64, keys: u64, parallel: &[usize]) -> Result<Self> {
        if keys == 0 || pairs == 0 {
            return Err(BenchError::Invalid("pairs and keys must be at least 1".into()));
        }
        Ok(CombinePerKeyBench { pairs, keys, parallel: parallel.to_vec() })
    }

    fn chunks(&self) -> u64 {
        self.pairs.div_ceil(CHUNK)
    }
}

impl Workload for CombinePerKeyBench {
    fn name(&self) -> String {
        format!("combine {} pairs, {} keys", count_label(self.pairs), count_label(self.keys))
    }

    fn input_description(&self) -> String {
        format!(
            "{} (u64, u64) pairs generated in the pipeline ({} Create'd chunk indexes × {CHUNK} pairs, \
             splitmix64 of the index; key = hash % {}, value = hash >> 40), summed per key",
            self.pairs,
            self.chunks(),
            self.keys
        )
    }

    fn items(&self) -> u64 {
        self.pairs
    }

    fn unit(&self) -> &'static str {
        "pairs"
    }

    fn baselines(&self) -> Vec<Baseline> {
        let mut v = vec![Baseline::single_threaded()];
        v.extend(self.parallel.iter().map(|&t| Baseline::rayon(t)));
        v
    }

    fn run_baseline(&self, b: &Baseline, out_dir: &Path) -> Result<()> {
        let digest =
            if b.threads > 1 { rayon_fold(self.pairs, self.keys, b.threads)? } else { fold(self.pairs, self.keys) };
        write_line(&out_dir.join(OUTPUT), &digest.line())
    }

    fn run_pipeline(&self, setup: &RunnerSetup, out_dir: &Path) -> Result<()> {
        let p = Pipeline::new(setup.options(), linked_runners());
        let _files = p
            .apply_named("Chunks", Create::new(0..self.chunks()))
            .apply_named("GeneratePairs", ParDo::of(GeneratePairsFn::new(self.pairs, self.keys)))
            .apply_named("SumPerKey", Combine::per_key(Sum::<u64>::new()))
            .apply_named("Digest", Combine::globally(DigestFn))
            .apply_named("Format", Map::new(|d: &Digest| d.line()))
            .apply_named("WriteDigest", WriteToText::new(out_dir.join(OUTPUT).display().to_string()));
        p.run().map_err(|source| BenchError::Pipeline { setup: setup.name.clone(), source })?;
        Ok(())
    }

    fn verify(&self, variant: &str, baseline_dir: &Path, actual_dir: &Path) -> Result<()> {
        verify_lines(&self.name(), variant, baseline_dir, actual_dir)
    }

    fn goals(&self) -> Vec<Goal> {
        let mut goals = vec![Goal {
            setup: "rayon-1".into(),
            max_ratio: 1.5,
            text: "within 1.5× per element of the single-threaded hand-written fold".into(),
        }];
        goals.extend(self.parallel.iter().map(|t| Goal {
            setup: format!("rayon-{t}"),
            max_ratio: 1.5,
            text: format!("within 1.5× per element of the hand-written rayon fold on {t} threads"),
        }));
        goals
    }
}

/// The hand-written fold: every pair into one `FxHashMap<u64, u64>`, summing; then the digest.
///
/// # Examples
/// ```
/// use beamline_benchmarks::combine::{fold, rayon_fold};
/// let d = fold(100_000, 1000);
/// assert_eq!(d.keys, 1000);
/// assert_eq!(rayon_fold(100_000, 1000, 2).unwrap(), d);
/// ```
pub fn fold(pairs: u64, keys: u64) -> Digest {
    let mut sums: FxHashMap<u64, u64> = FxHashMap::default();
    for i in 0..pairs {
        let (k, v) = pair(i, keys);
        *sums.entry(k).or_insert(0) += v;
    }
    digest(&sums)
}

/// The hand-written parallel fold on a rayon pool of `threads` threads: the
/// chunks in parallel, one `FxHashMap<u64, u64>` per rayon fold (per thread,
/// roughly), merged at the end (`reduce`, the smaller map into the larger); then the digest.
pub fn rayon_fold(pairs: u64, keys: u64, threads: usize) -> Result<Digest> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let sums = pool.install(|| {
        (0..pairs.div_ceil(CHUNK))
            .into_par_iter()
            .fold(FxHashMap::<u64, u64>::default, |mut sums, chunk| {
                let start = chunk * CHUNK;
                for i in start..(start + CHUNK).min(pairs) {
                    let (k, v) = pair(i, keys);
                    *sums.entry(k).or_insert(0) += v;
                }
                sums
            })
            .reduce(FxHashMap::default, |a, b| {
                let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                for (k, v) in small {
                    *big.entry(k).or_insert(0) += v;
                }
                big
            })
    });
    Ok(digest(&sums))
}

fn digest(sums: &FxHashMap<u64, u64>) -> Digest {
    let mut d = Digest::default();
    for (&k, &v) in sums {
        d.add(k, v);
    }
    d
}

/// Writes one line (and a newline) to `path`.
pub(crate) fn write_line(path: &Path, line: &str) -> Result<()> {
    std::fs::write(path, format!("{line}\n")).map_err(|e| BenchError::io(path, e))
}

/// Fails unless the lines of the output files (`digest*`/`sum*`: any file not
/// hidden) of the two directories are equal.
pub(crate) fn verify_lines(workload: &str, variant: &str, expected_dir: &Path, actual_dir: &Path) -> Result<()> {
    let expected = read_lines(expected_dir)?;
    let actual = read_lines(actual_dir)?;
    if expected.is_empty() || expected != actual {
        return Err(BenchError::Mismatch {
            workload: workload.into(),
            setup: variant.into(),
            detail: format!("baseline wrote {expected:?}, {variant} wrote {actual:?}"),
        });
    }
    Ok(())
}

/// The sorted lines of every non-hidden file of `dir`.
fn read_lines(dir: &Path) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| BenchError::io(dir, e))? {
        let entry = entry.map_err(|e| BenchError::io(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') || !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| BenchError::io(&path, e))?;
        lines.extend(text.lines().map(str::to_string));
    }
    lines.sort_unstable();
    Ok(lines)
}

/// The quick check: `pairs` pairs over each of `keys`, one repetition in this
/// process on `rayon-1`, `rayon-2` and `rayon-2-unlifted` (and the direct
/// runner), with the hand-written fold on 1 and 2 threads; outputs compared,
/// no timing asserted.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-combine-doc-{}", std::process::id()));
/// let ms = beamline_benchmarks::combine::quick_check(&dir, 30_000, &[10]).unwrap();
/// assert_eq!(ms.len(), 1);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn quick_check(dir: &Path, pairs: u64, keys: &[u64]) -> Result<Vec<Measurement>> {
    let setups =
        vec![RunnerSetup::direct(), RunnerSetup::rayon(1), RunnerSetup::rayon(2), RunnerSetup::rayon_unlifted(2)];
    let parallel = RunnerSetup::parallel_threads(&setups);
    keys.iter()
        .map(|&k| {
            let w = CombinePerKeyBench::new(pairs, k, &parallel)?;
            harness::measure(&w, &setups, 1, &dir.join("scratch"), &harness::InProcess)
        })
        .collect()
}

/// The markdown section asking whether peak memory grows with the number of
/// pairs at a fixed key count: for every key count measured at two or more
/// pair counts (`rows` holds `(pairs, keys, measurement)`), each variant's peak
/// RSS at the fewest and the most pairs, and their ratio. Empty when no key
/// count was measured twice.
///
/// # Examples
/// ```
/// assert_eq!(beamline_benchmarks::combine::memory_growth_section(&[]), "");
/// ```
pub fn memory_growth_section(rows: &[(u64, u64, &Measurement)]) -> String {
    use std::fmt::Write;
    let mut keys: Vec<u64> = rows.iter().map(|r| r.1).collect();
    keys.sort_unstable();
    keys.dedup();
    let peak = |samples: &[crate::stats::Sample]| crate::stats::Summary::of(samples).and_then(|s| s.peak_rss);
    let mut lines = Vec::new();
    for k in keys {
        let mut at_k: Vec<&(u64, u64, &Measurement)> = rows.iter().filter(|r| r.1 == k).collect();
        at_k.sort_by_key(|r| r.0);
        let (Some(small), Some(large)) = (at_k.first(), at_k.last()) else { continue };
        if small.0 == large.0 {
            continue;
        }
        let variants = small
            .2
            .baselines
            .iter()
            .map(|(b, s)| (&b.name, s))
            .chain(small.2.setups.iter().map(|(st, s)| (&st.name, s)));
        for (name, samples) in variants {
            let other = large
                .2
                .baselines
                .iter()
                .find(|(b, _)| &b.name == name)
                .map(|(_, s)| s)
                .or_else(|| large.2.setups.iter().find(|(st, _)| &st.name == name).map(|(_, s)| s));
            let (Some(a), Some(b)) = (peak(samples), other.and_then(|s| peak(s))) else { continue };
            let growth = b as f64 / a.max(1) as f64;
            let verdict = if growth <= 1.25 { "flat" } else { "**grows**" };
            lines.push(format!(
                "| {} | {name} | {:.0} MiB | {:.0} MiB | {growth:.2}× | {verdict} |",
                count_label(k),
                a as f64 / 1048576.0,
                b as f64 / 1048576.0
            ));
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    let (p0, p1) = {
        let mut ps: Vec<u64> = rows.iter().map(|r| r.0).collect();
        ps.sort_unstable();
        (ps[0], ps[ps.len() - 1])
    };
    let mut s = String::new();
    let _ = writeln!(s, "## Combine: does peak memory grow with the number of pairs?\n");
    let _ = writeln!(
        s,
        "Peak RSS at {} and at {} pairs for the same key count; the goal is that it follows the number of \
         keys, not of pairs (\"flat\": at most 1.25× growth).\n",
        count_label(p0),
        count_label(p1)
    );
    let _ = writeln!(s, "| keys | variant | peak RSS, fewer pairs | peak RSS, more pairs | growth | |");
    let _ = writeln!(s, "| --- | --- | ---: | ---: | ---: | --- |");
    for l in lines {
        let _ = writeln!(s, "{l}");
    }
    s.push('\n');
    s
}
