//! `WriteToJsonLines`: serde values as JSON lines in sharded files, written atomically.

use crate::element::Element;
use crate::error::DoFnError;
use crate::io::file_sink::expand_write;
use crate::io::write_to_text::WriteToText;
use crate::pipeline::{PCollection, PTransform};
use crate::transforms::{DoFn, ParDo, ProcessContext};
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Writes each element as one line of JSON, with the sharding, naming and
/// atomicity of [`WriteToText`], and yields the names of the files written.
///
/// The expansion is `ToJson` followed by the steps of `WriteToText`.
///
/// # Examples
/// ```
/// use beamline::io::{ReadFromJsonLines, WriteToJsonLines};
/// use beamline::prelude::*;
/// let dir = std::env::temp_dir().join(format!("beamline-doc-write-jsonl-{}", std::process::id()));
/// let prefix = format!("{}/pairs", dir.display());
///
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let files = p
///     .apply(Create::new(vec![("a".to_string(), 1u32), ("b".into(), 2)]))
///     .apply(WriteToJsonLines::new(&prefix).with_suffix(".jsonl"));
/// assert_that(&files, contains_in_any_order(vec![format!("{prefix}-00000-of-00001.jsonl")]));
/// p.run().unwrap();
///
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let back = p.apply(ReadFromJsonLines::<(String, u32)>::new(format!("{prefix}*.jsonl")));
/// assert_that(&back, contains_in_any_order(vec![("a".to_string(), 1u32), ("b".into(), 2)]));
/// p.run().unwrap();
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct WriteToJsonLines<T> {
    text: WriteToText,
    _t: PhantomData<fn(T)>,
}

impl<T: Element> WriteToJsonLines<T> {
    /// Writes files whose names start with `prefix` (its directory is created if missing).
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToJsonLines::<(String, u64)>::new("results/pairs");
    /// assert_eq!(w.file_names(), vec!["results/pairs-00000-of-00001"]);
    /// ```
    pub fn new(prefix: impl Into<String>) -> Self {
        WriteToJsonLines { text: WriteToText::new(prefix), _t: PhantomData }
    }

    /// Sets the number of shards (files); 0 means 1.
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToJsonLines::<u8>::new("out").with_num_shards(2);
    /// assert_eq!(w.file_names().len(), 2);
    /// ```
    pub fn with_num_shards(mut self, n: u32) -> Self {
        self.text = self.text.with_num_shards(n);
        self
    }

    /// Sets the shard name template (Beam's syntax; default `-SSSSS-of-NNNNN`).
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToJsonLines::<u8>::new("out").with_shard_name_template("_SS");
    /// assert_eq!(w.file_names(), vec!["out_00"]);
    /// ```
    pub fn with_shard_name_template(mut self, template: impl Into<String>) -> Self {
        self.text = self.text.with_shard_name_template(template);
        self
    }

    /// Sets the suffix of every file name (`.jsonl`; `.gz` compresses).
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToJsonLines::<u8>::new("out").with_suffix(".jsonl");
    /// assert_eq!(w.file_names(), vec!["out-00000-of-00001.jsonl"]);
    /// ```
    pub fn with_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.text = self.text.with_suffix(suffix);
        self
    }

    /// The names of the files a successful run writes, in shard order.
    ///
    /// # Examples
    /// ```
    /// let w = beamline::io::WriteToJsonLines::<u8>::new("o");
    /// assert_eq!(w.file_names(), vec!["o-00000-of-00001"]);
    /// ```
    pub fn file_names(&self) -> Vec<String> {
        self.text.file_names()
    }
}

/// Serializes each element to one line of JSON.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct ToJsonFn<T>(PhantomData<fn() -> T>);

impl<T> Clone for ToJsonFn<T> {
    fn clone(&self) -> Self {
        ToJsonFn(PhantomData)
    }
}

impl<T: Element> DoFn for ToJsonFn<T> {
    type In = T;
    type Out = String;
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        ctx.emit(serde_json::to_string(x)?);
        Ok(())
    }
    fn name(&self) -> String {
        "ToJson".into()
    }
}

impl<T: Element> PTransform<PCollection<T>> for WriteToJsonLines<T> {
    type Output = PCollection<String>;
    fn default_label(&self) -> String {
        "WriteToJsonLines".into()
    }
    fn expand(self, input: PCollection<T>) -> PCollection<String> {
        let lines = input.apply_named("ToJson", ParDo::of(ToJsonFn::<T>(PhantomData)));
        expand_write(lines, self.text.into_spec())
    }
}
