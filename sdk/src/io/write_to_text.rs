//! `WriteToText`: lines into sharded text files, written atomically.

use crate::io::file_sink::{expand_write, ShardSpec};
use crate::pipeline::{PCollection, PTransform};

/// Writes each `String` as one line (followed by `\n`) into sharded files
/// named `prefix + shard name + suffix`, and yields the names of the files
/// written (like Beam's `WriteToText`).
///
/// - Sharding: `with_num_shards(n)` files (default 1, so output is one
///   deterministic file; 0, Beam's "runner's choice", also means 1). Lines
///   are spread over the shards round robin; empty shards are still written.
/// - Names: `with_shard_name_template` uses Beam's syntax: the first run of
///   `S` becomes the zero-padded shard number, the first run of `N` the shard
///   count; the default `-SSSSS-of-NNNNN` gives `out-00000-of-00003`. An empty
///   template (one shard only) names the file `prefix + suffix`.
/// - A suffix ending in `.gz` writes gzip files.
/// - `with_header(line)` starts every shard with that line.
/// - Lines are written in the order they reach the writer (no sorting).
/// - Atomic: shards are written under temporary names in a hidden directory
///   next to the output (`.beamline-temp-<name>`), and a final step renames
///   them all; nothing appears under a final name unless every shard was
///   written. A missing output directory is created. Windowed input is
///   written to the same files, whatever the window.
///
/// The expansion is portable: `AssignShards`, `GroupByShard`,
/// `WriteTempShards`, `DoOnce`, `SeedFinalize`, `CollectTempFiles`,
/// `GatherTempFiles`, `Finalize`.
///
/// # Examples
/// ```
/// use beamline::io::{ReadFromText, WriteToText};
/// use beamline::prelude::*;
/// let dir = std::env::temp_dir().join(format!("beamline-doc-write-text-{}", std::process::id()));
/// let prefix = format!("{}/out", dir.display());
///
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let files = p
///     .apply(Create::new(vec!["a".to_string(), "b".into(), "c".into()]))
///     .apply(WriteToText::new(&prefix).with_num_shards(2).with_suffix(".txt"));
/// assert_that(
///     &files,
///     contains_in_any_order(vec![format!("{prefix}-00000-of-00002.txt"), format!("{prefix}-00001-of-00002.txt")]),
/// );
/// p.run().unwrap();
///
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let lines = p.apply(ReadFromText::new(format!("{prefix}-*-of-00002.txt")));
/// assert_that(&lines, contains_in_any_order(vec!["a".to_string(), "b".into(), "c".into()]));
/// p.run().unwrap();
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "a transform does nothing until applied"]
pub struct WriteToText {
    spec: ShardSpec,
}

impl WriteToText {
    /// Writes files whose names start with `prefix` (a path; its directory
    /// is created if missing).
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToText::new("results/counts");
    /// assert_eq!(w.file_names(), vec!["results/counts-00000-of-00001"]);
    /// ```
    pub fn new(prefix: impl Into<String>) -> Self {
        WriteToText { spec: ShardSpec::new(prefix.into()) }
    }

    /// Sets the number of shards (files); 0 means 1.
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToText::new("/tmp/out").with_num_shards(3);
    /// assert_eq!(w.file_names()[2], "/tmp/out-00002-of-00003");
    /// ```
    pub fn with_num_shards(mut self, n: u32) -> Self {
        self.spec.num_shards = n;
        self
    }

    /// Sets the shard name template (Beam's syntax; default `-SSSSS-of-NNNNN`).
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToText::new("out").with_shard_name_template("").with_suffix(".csv");
    /// assert_eq!(w.file_names(), vec!["out.csv"]);
    /// ```
    pub fn with_shard_name_template(mut self, template: impl Into<String>) -> Self {
        self.spec.template = template.into();
        self
    }

    /// Sets the suffix of every file name (`.txt`; `.gz` compresses).
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToText::new("out").with_suffix(".txt");
    /// assert_eq!(w.file_names(), vec!["out-00000-of-00001.txt"]);
    /// ```
    pub fn with_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.spec.suffix = suffix.into();
        self
    }

    /// Starts every file with `line`.
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToText::new("out").with_header("word,count");
    /// # let _ = w;
    /// ```
    pub fn with_header(mut self, line: impl Into<String>) -> Self {
        self.spec.header = Some(line.into());
        self
    }

    /// The names of the files a successful run writes, in shard order.
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToText::new("out/counts").with_num_shards(2);
    /// assert_eq!(w.file_names(), vec!["out/counts-00000-of-00002", "out/counts-00001-of-00002"]);
    /// ```
    pub fn file_names(&self) -> Vec<String> {
        self.spec.file_names()
    }

    pub(crate) fn into_spec(self) -> ShardSpec {
        self.spec
    }
}

impl PTransform<PCollection<String>> for WriteToText {
    type Output = PCollection<String>;
    fn default_label(&self) -> String {
        "WriteToText".into()
    }
    fn expand(self, input: PCollection<String>) -> PCollection<String> {
        expand_write(input, self.spec)
    }
}
