//! `ReadFromText`: the lines of text files, as a splittable Read primitive.

use crate::io::file_source::{expand_read, SourceSpec, DEFAULT_MIN_BUNDLE_SIZE};
use crate::pipeline::{PBegin, PCollection, PTransform};

/// Reads the lines of the files a path or glob matches, as `String`s.
///
/// - The pattern is expanded when the pipeline runs (`data/*.txt`,
///   `logs/**/*.gz`; like a shell, `*` skips hidden names). A pattern that
///   matches no file fails the run with one line naming the step and the
///   pattern.
/// - Files ending in `.gz` are decompressed.
/// - One element per line, without its terminator (`\n` or `\r\n`; a lone
///   `\r` stays in the line); a last line without a newline counts; an empty
///   file has no lines. Elements are in the global window at the minimum
///   timestamp.
/// - Text must be UTF-8: an invalid line fails the run with an error naming
///   the file and the line number (no silent replacement characters).
/// - Uncompressed files split into byte ranges cut at line boundaries (a
///   range owns the lines that start in it), so a parallel runner reads one
///   big file with many threads; each gzip file is one split.
///
/// The step is portable: its payload is the pattern.
///
/// # Examples
/// ```
/// use beamline::io::ReadFromText;
/// use beamline::prelude::*;
/// let dir = std::env::temp_dir().join(format!("beamline-doc-read-text-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.txt"), "hello world\nbye\n").unwrap();
/// std::fs::write(dir.join("b.txt"), "last line, no newline").unwrap();
///
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let lines = p.apply(ReadFromText::new(format!("{}/*.txt", dir.display())));
/// assert_that(
///     &lines,
///     contains_in_any_order(vec!["hello world".to_string(), "bye".into(), "last line, no newline".into()]),
/// );
/// p.run().unwrap();
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "a transform does nothing until applied"]
pub struct ReadFromText {
    spec: SourceSpec,
}

impl ReadFromText {
    /// Reads the files matching `pattern` (a path or a glob), expanded when the pipeline runs.
    ///
    /// # Examples
    /// ```
    /// use beamline::io::ReadFromText;
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let _lines = p.apply_named("ReadLogs", ReadFromText::new("/no/such/dir/*.log"));
    /// let err = p.run().unwrap_err();
    /// assert_eq!(err.to_string(), "step 'ReadLogs': /no/such/dir/*.log: no file matches this path or pattern");
    /// ```
    pub fn new(pattern: impl Into<String>) -> Self {
        ReadFromText { spec: SourceSpec { pattern: pattern.into(), min_bundle_size: DEFAULT_MIN_BUNDLE_SIZE } }
    }

    /// Sets the smallest byte range a file is split into (default 1 MiB), as
    /// Beam's `min_bundle_size`; smaller files are read whole.
    ///
    /// # Examples
    /// ```
    /// use beamline::io::ReadFromText;
    /// let read = ReadFromText::new("data/*.txt").with_min_bundle_size(64 << 20);
    /// # let _ = read;
    /// ```
    pub fn with_min_bundle_size(mut self, bytes: u64) -> Self {
        self.spec.min_bundle_size = bytes.max(1);
        self
    }
}

fn parse_text(line: &str) -> std::result::Result<Option<String>, String> {
    Ok(Some(line.to_owned()))
}

impl PTransform<PBegin> for ReadFromText {
    type Output = PCollection<String>;
    fn default_label(&self) -> String {
        "ReadFromText".into()
    }
    fn expand(self, input: PBegin) -> PCollection<String> {
        expand_read(input, "io:read_text".into(), self.spec, parse_text)
    }
}
