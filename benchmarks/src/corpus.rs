//! A deterministic text corpus: Zipf-distributed synthetic words in lines.
//!
//! The vocabulary is a fixed list of distinct lowercase ASCII words (short
//! ones frequent, as in natural text); each word of the corpus is drawn with
//! probability proportional to `1 / rank^exponent`; lines hold a uniform
//! number of words between two bounds. Everything comes from one seed, so the
//! same spec always gives the same bytes. Files are cached with a small
//! `.meta` file next to them and reused while spec and length still match.

use crate::error::{BenchError, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bumped whenever generation changes, so stale cached files are regenerated.
pub const GENERATOR_VERSION: u32 = 1;

/// What corpus to generate.
///
/// # Examples
/// ```
/// use beamline_benchmarks::corpus::CorpusSpec;
/// let s = CorpusSpec::zipf_mb(16);
/// assert_eq!(s.bytes, 16 << 20);
/// assert_eq!(s.vocabulary, 100_000);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusSpec {
    /// Target size: the file is the longest run of whole lines not above it.
    pub bytes: u64,
    /// Seed of everything random.
    pub seed: u64,
    /// Number of distinct words that can occur.
    pub vocabulary: usize,
    /// Zipf exponent `s` (weight of rank `k` is `1 / k^s`).
    pub exponent: f64,
    /// Fewest words on a line.
    pub min_words_per_line: usize,
    /// Most words on a line.
    pub max_words_per_line: usize,
}

impl CorpusSpec {
    /// The wordcount corpus of about `bytes` bytes: 100k words, exponent 1.0,
    /// 10–15 words a line, seed 42.
    pub fn zipf(bytes: u64) -> Self {
        CorpusSpec {
            bytes,
            seed: 42,
            vocabulary: 100_000,
            exponent: 1.0,
            min_words_per_line: 10,
            max_words_per_line: 15,
        }
    }

    /// [`CorpusSpec::zipf`] of `mb` MiB.
    pub fn zipf_mb(mb: u64) -> Self {
        Self::zipf(mb << 20)
    }

    /// The file name that identifies this spec.
    pub fn file_name(&self) -> String {
        format!(
            "zipf-v{}-s{}-l{}_{}-seed{}-g{}-{}.txt",
            self.vocabulary,
            self.exponent,
            self.min_words_per_line,
            self.max_words_per_line,
            self.seed,
            GENERATOR_VERSION,
            self.bytes
        )
    }

    fn check(&self) -> Result<()> {
        let ok = self.vocabulary > 0
            && self.exponent.is_finite()
            && self.exponent >= 0.0
            && self.min_words_per_line > 0
            && self.min_words_per_line <= self.max_words_per_line;
        if ok {
            Ok(())
        } else {
            Err(BenchError::Invalid(format!("bad corpus spec {self:?}")))
        }
    }
}

/// A generated corpus file and what it holds.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The file.
    pub path: PathBuf,
    /// How it was generated.
    pub spec: CorpusSpec,
    /// Its exact length in bytes.
    pub bytes: u64,
    /// Number of words.
    pub words: u64,
    /// Number of lines.
    pub lines: u64,
    /// Number of distinct words that occur.
    pub distinct: u64,
}

/// The corpus for `spec` in `dir`: reused if a file with the same spec and the
/// recorded length is there, generated (atomically) otherwise.
///
/// # Examples
/// ```
/// use beamline_benchmarks::corpus::{ensure, CorpusSpec};
/// let dir = std::env::temp_dir().join(format!("beamline-corpus-doc-{}", std::process::id()));
/// let a = ensure(&CorpusSpec::zipf(10_000), &dir).unwrap();
/// let b = ensure(&CorpusSpec::zipf(10_000), &dir).unwrap();
/// assert!(a.bytes <= 10_000 && a.bytes > 9_000);
/// assert_eq!((a.words, a.bytes), (b.words, b.bytes));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn ensure(spec: &CorpusSpec, dir: &Path) -> Result<Corpus> {
    spec.check()?;
    std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
    let path = dir.join(spec.file_name());
    let meta = meta_path(&path);
    if let Some(c) = load(spec, &path, &meta) {
        return Ok(c);
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = generate(spec, &tmp).and_then(|c| {
        std::fs::rename(&tmp, &path).map_err(|e| BenchError::io(&path, e))?;
        Ok(Corpus { path: path.clone(), ..c })
    });
    let c = match result {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let text = format!(
        "generator={GENERATOR_VERSION}\nspec={:?}\nbytes={}\nwords={}\nlines={}\ndistinct={}\n",
        spec, c.bytes, c.words, c.lines, c.distinct
    );
    std::fs::write(&meta, text).map_err(|e| BenchError::io(&meta, e))?;
    Ok(c)
}

fn meta_path(path: &Path) -> PathBuf {
    path.with_extension("meta")
}

/// The cached corpus, if its meta file matches the spec and the file's length.
fn load(spec: &CorpusSpec, path: &Path, meta: &Path) -> Option<Corpus> {
    let text = std::fs::read_to_string(meta).ok()?;
    let field = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('='))).map(str::to_string)
    };
    if field("generator")? != GENERATOR_VERSION.to_string() || field("spec")? != format!("{spec:?}") {
        return None;
    }
    let bytes: u64 = field("bytes")?.parse().ok()?;
    if std::fs::metadata(path).ok()?.len() != bytes {
        return None;
    }
    Some(Corpus {
        path: path.to_path_buf(),
        spec: spec.clone(),
        bytes,
        words: field("words")?.parse().ok()?,
        lines: field("lines")?.parse().ok()?,
        distinct: field("distinct")?.parse().ok()?,
    })
}

/// The vocabulary: `n` distinct lowercase words, rank 0 first. Lengths grow
/// slowly with rank (2–5 letters for the most frequent, about 10–13 for the rarest).
///
/// # Examples
/// ```
/// let v = beamline_benchmarks::corpus::vocabulary(1000, 7);
/// assert_eq!(v.len(), 1000);
/// assert!(v.iter().all(|w| w.bytes().all(|b| b.is_ascii_lowercase())));
/// assert_eq!(v, beamline_benchmarks::corpus::vocabulary(1000, 7));
/// ```
pub fn vocabulary(n: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x766f_6361_6275_6c61);
    let mut seen = HashSet::with_capacity(n);
    let mut words = Vec::with_capacity(n);
    while words.len() < n {
        let rank = words.len() as u64;
        let len = 2 + (rank + 1).ilog2() as usize / 2 + rng.random_range(0..4usize);
        let w: String = (0..len).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect();
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// Samples ranks `0..n` with probability proportional to `1 / (rank + 1)^s`
/// by binary search in the cumulative weights.
///
/// # Examples
/// ```
/// use rand::SeedableRng;
/// let z = beamline_benchmarks::corpus::Zipf::new(100, 1.0);
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let draws: Vec<usize> = (0..10_000).map(|_| z.sample(&mut rng)).collect();
/// let zeros = draws.iter().filter(|&&r| r == 0).count();
/// let ones = draws.iter().filter(|&&r| r == 1).count();
/// assert!(zeros > ones && ones > 0 && draws.iter().all(|&r| r < 100));
/// ```
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n >= 1` ranks with exponent `s`.
    pub fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n.max(1))
            .map(|k| {
                total += (k as f64).powf(-s);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    /// A rank.
    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        let total = self.cumulative[self.cumulative.len() - 1];
        let u = rng.random::<f64>() * total;
        self.cumulative.partition_point(|&c| c <= u).min(self.cumulative.len() - 1)
    }
}

fn generate(spec: &CorpusSpec, tmp: &Path) -> Result<Corpus> {
    let words = vocabulary(spec.vocabulary, spec.seed);
    let zipf = Zipf::new(spec.vocabulary, spec.exponent);
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let file = std::fs::File::create(tmp).map_err(|e| BenchError::io(tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut seen = vec![false; spec.vocabulary];
    let (mut bytes, mut nwords, mut lines) = (0u64, 0u64, 0u64);
    let mut line = Vec::with_capacity(256);
    let mut ranks = Vec::with_capacity(spec.max_words_per_line);
    loop {
        line.clear();
        ranks.clear();
        let n = rng.random_range(spec.min_words_per_line..=spec.max_words_per_line);
        for i in 0..n {
            let r = zipf.sample(&mut rng);
            if i > 0 {
                line.push(b' ');
            }
            line.extend_from_slice(words[r].as_bytes());
            ranks.push(r);
        }
        line.push(b'\n');
        if bytes + line.len() as u64 > spec.bytes {
            break;
        }
        out.write_all(&line).map_err(|e| BenchError::io(tmp, e))?;
        bytes += line.len() as u64;
        nwords += n as u64;
        lines += 1;
        for &r in &ranks {
            seen[r] = true;
        }
    }
    out.flush().map_err(|e| BenchError::io(tmp, e))?;
    let distinct = seen.iter().filter(|&&s| s).count() as u64;
    Ok(Corpus { path: tmp.to_path_buf(), spec: spec.clone(), bytes, words: nwords, lines, distinct })
}
