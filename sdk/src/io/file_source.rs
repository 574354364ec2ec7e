//! The splittable source behind `ReadFromText` and `ReadFromJsonLines`: the
//! lines of every file a path or glob matches.
//!
//! Splitting follows Hadoop's and Beam's rule: an uncompressed file is cut
//! into byte ranges, and a range owns exactly the lines that *start* inside
//! it (it reads past its end to finish its last line, and skips the partial
//! line it starts in). Gzip files cannot be cut and are one split each.

use crate::batch::Batch;
use crate::element::{Element, WindowedValue};
use crate::error::{Error, Result};
use crate::exec::{BoundedSource, Executable, NodeBuilder, SourceSplit};
use crate::pipeline::{PBegin, PCollection, Primitive};
use crate::window::WindowingStrategy;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Lines per emitted batch: big enough to amortize per-batch work, small
/// enough that the batches of the steps downstream stay out of the
/// allocator's huge-allocation path (which maps and zeroes fresh pages).
pub(crate) const LINES_PER_BATCH: usize = 1024;
/// Bytes of line text after which a batch is emitted even if it has fewer lines.
const BYTES_PER_BATCH: usize = 1 << 20;
/// Read buffer size.
const READ_BUFFER: usize = 1 << 20;
/// Default smallest byte range worth a split of its own.
pub(crate) const DEFAULT_MIN_BUNDLE_SIZE: u64 = 1 << 20;

/// Turns one line (without its terminator) into an element; `Ok(None)`
/// skips the line, `Err` is a message completing "line N ...".
pub(crate) type ParseLine<T> = fn(&str) -> std::result::Result<Option<T>, String>;

/// What a file source reads: the payload of its graph node.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SourceSpec {
    /// A file path or a glob.
    pub(crate) pattern: String,
    /// Smallest byte range split off on its own.
    pub(crate) min_bundle_size: u64,
}

/// Makes the transform being expanded a Read of the lines matched by `spec`.
pub(crate) fn expand_read<T: Element>(
    input: PBegin,
    function: String,
    spec: SourceSpec,
    parse: ParseLine<T>,
) -> PCollection<T> {
    let p = input.root().clone();
    let out = p.new_output::<T>("out", true, WindowingStrategy::default());
    let payload = match serde_json::to_value(&spec) {
        Ok(v) => v,
        Err(e) => {
            p.fail(Error::Construction(format!("'{}': cannot serialize the source: {e}", p.current_label())));
            serde_json::Value::Null
        }
    };
    let builder: NodeBuilder = Arc::new(move |ctx| {
        let spec: SourceSpec = serde_json::from_value(ctx.payload.clone())
            .map_err(|e| Error::graph(ctx.label, format!("bad file source payload: {e}")))?;
        Ok(Executable::Read(Arc::new(LineSource { label: ctx.label.to_string(), spec, parse })))
    });
    p.set_primitive(Primitive::read(function, payload, out.id(), builder));
    out
}

/// The lines of every file matching a pattern, parsed into `T`.
pub(crate) struct LineSource<T> {
    pub(crate) label: String,
    pub(crate) spec: SourceSpec,
    pub(crate) parse: ParseLine<T>,
}

fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

fn has_glob_meta(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// The files a path or glob names, sorted, with their sizes.
pub(crate) fn expand_pattern(label: &str, pattern: &str) -> Result<Vec<(PathBuf, u64)>> {
    let literal = Path::new(pattern);
    let paths: Vec<PathBuf> = match std::fs::metadata(literal) {
        Ok(m) if m.is_file() => vec![literal.to_path_buf()],
        Ok(m) if m.is_dir() => {
            return Err(Error::io(
                label,
                pattern,
                io::Error::other("is a directory; to read the files in it, use a glob such as DIR/*"),
            ))
        }
        Err(e) if e.kind() != io::ErrorKind::NotFound && !has_glob_meta(pattern) => {
            return Err(Error::io(label, pattern, e))
        }
        _ if !has_glob_meta(pattern) => Vec::new(),
        _ => {
            // Like a shell, `*` does not match hidden names (so a glob never
            // picks up a writer's hidden temp directory).
            let options = glob::MatchOptions { require_literal_leading_dot: true, ..Default::default() };
            let entries = glob::glob_with(pattern, options).map_err(|e| {
                Error::io(label, pattern, io::Error::new(io::ErrorKind::InvalidInput, format!("bad glob: {e}")))
            })?;
            let mut paths = Vec::new();
            for entry in entries {
                let path = entry.map_err(|e| Error::io(label, e.path().display().to_string(), e.into()))?;
                if path.is_file() {
                    paths.push(path);
                }
            }
            paths.sort();
            paths
        }
    };
    if paths.is_empty() {
        return Err(Error::io(
            label,
            pattern,
            io::Error::new(io::ErrorKind::NotFound, "no file matches this path or pattern"),
        ));
    }
    paths
        .into_iter()
        .map(|p| {
            let len = std::fs::metadata(&p).map_err(|e| Error::io(label, p.display().to_string(), e))?.len();
            Ok((p, len))
        })
        .collect()
}

impl<T: Element> LineSource<T> {
    /// The splits as plain values (the trait wraps them in boxes).
    pub(crate) fn ranges(&self, desired: usize) -> Result<Vec<LineRange<T>>> {
        let files = expand_pattern(&self.label, &self.spec.pattern)?;
        let plain: u64 = files.iter().filter(|(p, _)| !is_gzip(p)).map(|(_, len)| len).sum();
        let target = plain.div_ceil(desired.max(1) as u64).max(self.spec.min_bundle_size).max(1);
        let mut out = Vec::new();
        for (path, len) in files {
            let path: Arc<Path> = path.into();
            let gzip = is_gzip(&path);
            let parts = if gzip { 1 } else { len.div_ceil(target).max(1) };
            for i in 0..parts {
                let start = len * i / parts;
                let end = if i + 1 == parts { u64::MAX } else { len * (i + 1) / parts };
                out.push(LineRange {
                    label: self.label.clone(),
                    path: path.clone(),
                    gzip,
                    start,
                    end,
                    parse: self.parse,
                });
            }
        }
        Ok(out)
    }
}

impl<T: Element> BoundedSource for LineSource<T> {
    fn split(&self, desired: usize) -> Result<Vec<Box<dyn SourceSplit>>> {
        Ok(self.ranges(desired)?.into_iter().map(|r| Box::new(r) as Box<dyn SourceSplit>).collect())
    }
}

/// The lines starting in `[start, end)` of one file (all lines of a gzip file).
pub(crate) struct LineRange<T> {
    label: String,
    path: Arc<Path>,
    gzip: bool,
    start: u64,
    end: u64,
    parse: ParseLine<T>,
}

impl<T: Element> LineRange<T> {
    fn io_error(&self, e: io::Error) -> Error {
        Error::io(&self.label, self.path.display().to_string(), e)
    }

    /// An error about the line starting at byte `offset` (number `line` when known).
    fn line_error(&self, offset: u64, line: Option<u64>, message: String) -> Error {
        let line = line.or_else(|| self.line_number_at(offset));
        let what = match line {
            Some(n) => format!("line {n} {message}"),
            None => format!("the line at byte {offset} {message}"),
        };
        self.io_error(io::Error::new(io::ErrorKind::InvalidData, what))
    }

    /// The 1-based number of the line starting at byte `offset` (counts the
    /// newlines before it; only on the error path).
    fn line_number_at(&self, offset: u64) -> Option<u64> {
        let mut file = File::open(&self.path).ok()?.take(offset);
        let mut buf = vec![0u8; 1 << 16];
        let mut lines = 1u64;
        loop {
            let n = file.read(&mut buf).ok()?;
            if n == 0 {
                return Some(lines);
            }
            lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }

    fn read_lines<R: BufRead>(
        &self,
        mut reader: R,
        mut pos: u64,
        mut line_no: Option<u64>,
        emit: &mut dyn FnMut(Batch) -> Result<()>,
    ) -> Result<()> {
        let mut buf: Vec<u8> = Vec::with_capacity(256);
        let mut batch: Vec<WindowedValue<T>> = Vec::with_capacity(LINES_PER_BATCH);
        let mut batch_bytes = 0usize;
        while pos < self.end {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(|e| self.io_error(e))?;
            if n == 0 {
                break;
            }
            let line_start = pos;
            pos += n as u64;
            let mut text = &buf[..];
            if let Some(t) = text.strip_suffix(b"\n") {
                text = t.strip_suffix(b"\r").unwrap_or(t);
            }
            let text = std::str::from_utf8(text)
                .map_err(|e| self.line_error(line_start, line_no, format!("is not valid UTF-8 ({e})")))?;
            match (self.parse)(text) {
                Ok(Some(v)) => {
                    batch_bytes += text.len();
                    batch.push(WindowedValue::in_global(v));
                }
                Ok(None) => {}
                Err(m) => return Err(self.line_error(line_start, line_no, m)),
            }
            line_no = line_no.map(|l| l + 1);
            if batch.len() >= LINES_PER_BATCH || batch_bytes >= BYTES_PER_BATCH {
                emit(Batch::new(std::mem::replace(&mut batch, Vec::with_capacity(LINES_PER_BATCH))))?;
                batch_bytes = 0;
            }
        }
        if !batch.is_empty() {
            emit(Batch::new(batch))?;
        }
        Ok(())
    }
}

impl<T: Element> SourceSplit for LineRange<T> {
    fn read(&mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<()> {
        let mut file = File::open(&self.path).map_err(|e| self.io_error(e))?;
        if self.gzip {
            let reader = BufReader::with_capacity(READ_BUFFER, flate2::read::MultiGzDecoder::new(file));
            return self.read_lines(reader, 0, Some(1), emit);
        }
        if self.start == 0 {
            return self.read_lines(BufReader::with_capacity(READ_BUFFER, file), 0, Some(1), emit);
        }
        // Skip the line that started before this range: it belongs to the
        // previous one. Starting one byte early keeps a line that begins
        // exactly at `start`.
        file.seek(SeekFrom::Start(self.start - 1)).map_err(|e| self.io_error(e))?;
        let mut reader = BufReader::with_capacity(READ_BUFFER, file);
        let mut skipped = Vec::new();
        let n = reader.read_until(b'\n', &mut skipped).map_err(|e| self.io_error(e))?;
        self.read_lines(reader, self.start - 1 + n as u64, None, emit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh, empty directory under the system temp dir, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "beamline-io-test-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        pub(crate) fn path(&self, name: &str) -> String {
            self.0.join(name).display().to_string()
        }
        pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> String {
            let p = self.path(name);
            std::fs::write(&p, bytes).unwrap();
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn text_source(pattern: &str, min_bundle_size: u64) -> LineSource<String> {
        LineSource {
            label: "Read".into(),
            spec: SourceSpec { pattern: pattern.into(), min_bundle_size },
            parse: |s| Ok(Some(s.to_string())),
        }
    }

    fn read_all(source: &LineSource<String>, desired: usize) -> Result<(usize, Vec<String>)> {
        let ranges = source.ranges(desired)?;
        let n = ranges.len();
        let mut lines = Vec::new();
        for mut r in ranges {
            r.read(&mut |b| {
                lines.extend(b.downcast::<String>()?.into_iter().map(|v| v.value));
                Ok(())
            })?;
        }
        Ok((n, lines))
    }

    #[test]
    fn byte_range_splits_give_every_line_exactly_once() {
        let dir = TempDir::new("splits");
        // Lines of varied length, empty lines, \r\n endings and no final newline.
        let mut text = String::new();
        let mut expected = Vec::new();
        for i in 0..2000 {
            let line = match i % 7 {
                0 => String::new(),
                1 => "x".repeat(i % 97),
                _ => format!("line {i} {}", "ab ".repeat(i % 13)),
            };
            text.push_str(&line);
            text.push_str(if i % 5 == 0 { "\r\n" } else { "\n" });
            expected.push(line);
        }
        text.push_str("last line without newline");
        expected.push("last line without newline".into());
        let path = dir.write("big.txt", text.as_bytes());
        let source = text_source(&path, 1);
        for desired in [1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 100, 257, 1000, 5000, text.len(), text.len() + 10] {
            let (n, lines) = read_all(&source, desired).unwrap();
            assert!(n <= desired && n >= desired.min(text.len()) / 2, "{desired} splits asked, {n} made");
            assert_eq!(lines, expected, "with {desired} splits");
        }
    }

    #[test]
    fn every_cut_point_between_two_splits() {
        let dir = TempDir::new("cuts");
        let text = "ab\ncd\n\nefg\r\nh";
        let path = dir.write("f.txt", text.as_bytes());
        let expected: Vec<String> = ["ab", "cd", "", "efg", "h"].iter().map(|s| s.to_string()).collect();
        for cut in 0..=text.len() as u64 {
            let mut lines = Vec::new();
            for (start, end) in [(0, cut), (cut, u64::MAX)] {
                let mut r = LineRange::<String> {
                    label: "Read".into(),
                    path: Path::new(&path).into(),
                    gzip: false,
                    start,
                    end,
                    parse: |s| Ok(Some(s.to_string())),
                };
                r.read(&mut |b| {
                    lines.extend(b.downcast::<String>()?.into_iter().map(|v| v.value));
                    Ok(())
                })
                .unwrap();
            }
            assert_eq!(lines, expected, "cut at byte {cut}");
        }
    }

    #[test]
    fn batches_hold_a_few_thousand_lines() {
        let dir = TempDir::new("batches");
        let text: String = (0..10_000).map(|i| format!("{i}\n")).collect();
        let path = dir.write("f.txt", text.as_bytes());
        let mut sizes = Vec::new();
        for mut r in text_source(&path, DEFAULT_MIN_BUNDLE_SIZE).ranges(1).unwrap() {
            r.read(&mut |b| {
                sizes.push(b.len());
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(sizes, [vec![1024; 9], vec![784]].concat());
    }

    #[test]
    fn small_files_are_not_split_below_the_min_bundle_size() {
        let dir = TempDir::new("minbundle");
        let path = dir.write("f.txt", b"a\nb\nc\n");
        assert_eq!(text_source(&path, DEFAULT_MIN_BUNDLE_SIZE).ranges(8).unwrap().len(), 1);
        assert_eq!(text_source(&path, 2).ranges(8).unwrap().len(), 3);
    }

    #[test]
    fn missing_file_and_empty_glob_name_the_pattern() {
        let dir = TempDir::new("missing");
        for pattern in [dir.path("nope.txt"), dir.path("*.nope")] {
            let e = text_source(&pattern, 1).ranges(1).err().unwrap();
            assert_eq!(e.to_string(), format!("step 'Read': {pattern}: no file matches this path or pattern"));
        }
        let e = text_source(&dir.0.display().to_string(), 1).ranges(1).err().unwrap();
        assert!(e.to_string().contains("is a directory"), "{e}");
    }

    #[test]
    fn bad_utf8_names_file_and_line_even_mid_file() {
        let dir = TempDir::new("utf8");
        let mut bytes = Vec::new();
        for i in 0..100 {
            bytes.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        bytes.extend_from_slice(b"bad \xff byte\nok\n");
        let path = dir.write("f.txt", &bytes);
        for desired in [1, 3, 10] {
            let e = read_all(&text_source(&path, 1), desired).unwrap_err().to_string();
            assert!(e.starts_with(&format!("step 'Read': {path}: line 101 is not valid UTF-8")), "{e}");
        }
    }
}
