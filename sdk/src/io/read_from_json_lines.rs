//! `ReadFromJsonLines`: one serde value per line of JSON-lines files.

use crate::element::Element;
use crate::io::file_source::{expand_read, SourceSpec, DEFAULT_MIN_BUNDLE_SIZE};
use crate::pipeline::{PBegin, PCollection, PTransform};
use std::marker::PhantomData;

/// Reads JSON-lines files (a path or glob, as [`crate::io::ReadFromText`]):
/// each non-blank line is one JSON value deserialized into `T`.
///
/// Blank lines are skipped. A line that is not valid JSON for `T` fails the
/// run with one line naming the step, the file and the line number.
/// Splitting, gzip and UTF-8 rules are those of `ReadFromText`.
///
/// # Examples
/// ```
/// use beamline::io::ReadFromJsonLines;
/// use beamline::prelude::*;
/// #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Sale { item: String, cents: u64 }
///
/// let dir = std::env::temp_dir().join(format!("beamline-doc-read-jsonl-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sales.jsonl");
/// std::fs::write(&path, "{\"item\":\"tea\",\"cents\":250}\n\n{\"item\":\"cake\",\"cents\":400}\n").unwrap();
///
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let sales = p.apply(ReadFromJsonLines::<Sale>::new(path.display().to_string()));
/// assert_that(
///     &sales,
///     contains_in_any_order(vec![
///         Sale { item: "tea".into(), cents: 250 },
///         Sale { item: "cake".into(), cents: 400 },
///     ]),
/// );
/// p.run().unwrap();
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct ReadFromJsonLines<T> {
    spec: SourceSpec,
    _t: PhantomData<fn() -> T>,
}

impl<T: Element> ReadFromJsonLines<T> {
    /// Reads the files matching `pattern` (a path or a glob), expanded when the pipeline runs.
    ///
    /// # Examples
    /// ```
    /// use beamline::io::ReadFromJsonLines;
    /// use beamline::prelude::*;
    /// let p = Pipeline::for_tests("direct", beamline_direct::runners());
    /// let _xs = p.apply(ReadFromJsonLines::<Vec<u32>>::new("/no/such/*.jsonl"));
    /// assert!(p.run().unwrap_err().to_string().starts_with("step 'ReadFromJsonLines': /no/such/*.jsonl: "));
    /// ```
    pub fn new(pattern: impl Into<String>) -> Self {
        ReadFromJsonLines {
            spec: SourceSpec { pattern: pattern.into(), min_bundle_size: DEFAULT_MIN_BUNDLE_SIZE },
            _t: PhantomData,
        }
    }

    /// Sets the smallest byte range a file is split into (default 1 MiB).
    ///
    /// # Examples
    /// ```
    /// let read = beamline::io::ReadFromJsonLines::<u64>::new("in/*.jsonl").with_min_bundle_size(8 << 20);
    /// # let _ = read;
    /// ```
    pub fn with_min_bundle_size(mut self, bytes: u64) -> Self {
        self.spec.min_bundle_size = bytes.max(1);
        self
    }
}

fn parse_json<T: Element>(line: &str) -> std::result::Result<Option<T>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(line)
        .map(Some)
        .map_err(|e| format!("is not valid JSON for {}: {e}", std::any::type_name::<T>()))
}

impl<T: Element> PTransform<PBegin> for ReadFromJsonLines<T> {
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "ReadFromJsonLines".into()
    }
    fn expand(self, input: PBegin) -> PCollection<T> {
        expand_read(input, format!("io:read_json_lines:{}", std::any::type_name::<T>()), self.spec, parse_json::<T>)
    }
}
