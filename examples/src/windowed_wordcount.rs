//! The windowed word-count program (`--example windowed_wordcount`): gives
//! each line an event time, cuts time into fixed windows, and counts words
//! per window.
//!
//! Text files carry no event times, so (as Beam's `WindowedWordCount` does)
//! the pipeline makes them up: each line gets a timestamp within two hours
//! from 2024-01-01T00:00:00Z, derived from a hash of the line so runs are
//! reproducible. Output lines read `[window start, window end) word: count`.
//!
//! `ReadLines` → `AddTimestamps` → `Window` → `CountWords/…` →
//! `FormatWindowedCounts` → `WriteCounts`; every step is portable.

use crate::summary::RunSummary;
use crate::{count_words, default_output, existing, format_count, runners, SAMPLE_TEXT};
use beamline::io::{ReadFromText, WriteToText};
use beamline::prelude::*;
use beamline::{key_hash, PipelineOptions, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Start of the made-up event times: 2024-01-01T00:00:00Z.
///
/// # Examples
/// ```
/// assert_eq!(beamline_examples::windowed_wordcount::START.as_micros(), 1_704_067_200_000_000);
/// ```
pub const START: Timestamp = Timestamp::from_secs(1_704_067_200);
/// Length of the made-up event-time range: two hours.
///
/// # Examples
/// ```
/// assert_eq!(beamline_examples::windowed_wordcount::SPAN.as_secs(), 7200);
/// ```
pub const SPAN: Duration = Duration::from_secs(2 * 3600);

/// The windowed word count's own flags.
///
/// # Examples
/// ```
/// use beamline::PipelineOptions;
/// use beamline_examples::windowed_wordcount::WindowedWordCountOptions;
/// let (_, o) = PipelineOptions::parse_from::<WindowedWordCountOptions>(
///     ["windowed_wordcount", "--window-minutes=30"],
///     &beamline_examples::runners(),
/// )
/// .unwrap();
/// assert_eq!(o.window_minutes, 30);
/// ```
#[derive(clap::Args, Debug, Clone)]
pub struct WindowedWordCountOptions {
    /// Text file or glob to read [default: the sample text in examples/data]
    #[arg(long, value_name = "FILE_OR_GLOB")]
    pub input: Option<String>,
    /// Prefix of the output files [default: <temp dir>/beamline-windowed-wordcount/counts]
    #[arg(long, value_name = "PREFIX")]
    pub output: Option<String>,
    /// Length of the fixed windows, in minutes
    #[arg(long = "window-minutes", value_name = "MINUTES", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub window_minutes: u64,
    /// Number of output files
    #[arg(long = "num-shards", value_name = "N", default_value_t = 1)]
    pub num_shards: u32,
}

impl Default for WindowedWordCountOptions {
    fn default() -> Self {
        WindowedWordCountOptions { input: None, output: None, window_minutes: 10, num_shards: 1 }
    }
}

/// Gives each line an event time in `[start, start + span)` derived from a
/// hash of the line.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::windowed_wordcount::AddTimestampFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let stamped = p
///     .apply(Create::new(vec!["a line".to_string()]))
///     .apply(ParDo::of(AddTimestampFn::new(Timestamp::from_secs(0), std::time::Duration::from_secs(60))))
///     .apply(WindowInto::new(WindowFn::fixed(std::time::Duration::from_secs(60))));
/// assert_that_in_window(
///     &stamped,
///     Window::interval(Timestamp::from_secs(0), Timestamp::from_secs(60)),
///     contains_in_any_order(vec!["a line".to_string()]),
/// );
/// p.run().unwrap();
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AddTimestampFn {
    start_micros: i64,
    span_micros: i64,
}

impl AddTimestampFn {
    /// Timestamps within `[start, start + span)`.
    ///
    /// # Examples
    /// ```
    /// use beamline_examples::windowed_wordcount::{AddTimestampFn, SPAN, START};
    /// let _f = AddTimestampFn::new(START, SPAN);
    /// ```
    pub fn new(start: Timestamp, span: Duration) -> Self {
        let span_micros = i64::try_from(span.as_micros()).unwrap_or(i64::MAX).max(1);
        AddTimestampFn { start_micros: start.as_micros(), span_micros }
    }
}

impl DoFn for AddTimestampFn {
    type In = String;
    type Out = String;
    fn process(&mut self, line: &String, ctx: &mut ProcessContext<'_, String>) -> std::result::Result<(), DoFnError> {
        let offset = (key_hash(line) % self.span_micros.max(1) as u64) as i64;
        ctx.emit_with_timestamp(line.clone(), Timestamp::from_micros(self.start_micros.saturating_add(offset)));
        Ok(())
    }
}

/// Formats `(word, count)` with its window: `[start, end) word: count`,
/// times in UTC (ISO 8601).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::windowed_wordcount::FormatWindowedCountsFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let lines = p
///     .apply(Create::timestamped(vec![(("a".to_string(), 2u64), Timestamp::from_secs(30))]))
///     .apply(WindowInto::new(WindowFn::fixed(std::time::Duration::from_secs(60))))
///     .apply(ParDo::of(FormatWindowedCountsFn));
/// assert_that(&lines, contains_in_any_order(vec!["[1970-01-01T00:00:00Z, 1970-01-01T00:01:00Z) a: 2".to_string()]));
/// p.run().unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct FormatWindowedCountsFn;

impl DoFn for FormatWindowedCountsFn {
    type In = (String, u64);
    type Out = String;
    fn process(
        &mut self,
        wc: &(String, u64),
        ctx: &mut ProcessContext<'_, String>,
    ) -> std::result::Result<(), DoFnError> {
        let window = match ctx.window() {
            Window::Interval { start, end } => format!("[{}, {})", start.to_utc_string(), end.to_utc_string()),
            w => w.to_string(),
        };
        ctx.emit(format!("{window} {}", format_count(&wc.0, wc.1)));
        Ok(())
    }
}

/// Parses `args` (program name first) and runs the windowed word count.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-doc-windowed-{}", std::process::id()));
/// let summary = beamline_examples::windowed_wordcount::run([
///     "windowed_wordcount".to_string(),
///     format!("--output={}/counts", dir.display()),
/// ])
/// .unwrap();
/// let text = std::fs::read_to_string(&summary.output_files[0]).unwrap();
/// assert!(text.lines().all(|l| l.starts_with("[2024-01-01T")));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn run<I, S>(args: I) -> Result<RunSummary>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let runners = runners();
    let (options, opts) = PipelineOptions::parse_from::<WindowedWordCountOptions>(args, &runners)?;
    run_pipeline(Pipeline::new(options, runners), opts)
}

/// Builds the windowed word count on `p` (a new pipeline) and runs it.
///
/// # Examples
/// ```
/// use beamline::Pipeline;
/// use beamline_examples::windowed_wordcount::{run_pipeline, WindowedWordCountOptions};
/// let dir = std::env::temp_dir().join(format!("beamline-doc-windowed-p-{}", std::process::id()));
/// let p = Pipeline::for_tests("direct", beamline_examples::runners());
/// let opts = WindowedWordCountOptions { output: Some(format!("{}/c", dir.display())), ..Default::default() };
/// assert_eq!(run_pipeline(p, opts).unwrap().output_files.len(), 1);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn run_pipeline(p: Pipeline, opts: WindowedWordCountOptions) -> Result<RunSummary> {
    let input = opts.input.unwrap_or_else(|| SAMPLE_TEXT.to_string());
    let output = opts.output.unwrap_or_else(|| default_output("beamline-windowed-wordcount"));
    let write = WriteToText::new(output).with_num_shards(opts.num_shards);
    let files = write.file_names();
    let window = Duration::from_secs(opts.window_minutes.saturating_mul(60));
    let windowed = p
        .apply_named("ReadLines", ReadFromText::new(&input))
        .apply_named("AddTimestamps", ParDo::of(AddTimestampFn::new(START, SPAN)))
        .apply_named("Window", WindowInto::new(WindowFn::fixed(window)));
    let _written = count_words(windowed)
        .apply_named("FormatWindowedCounts", ParDo::of(FormatWindowedCountsFn))
        .apply_named("WriteCounts", write);
    let result = p.run()?;
    let output_files = if result.dumped_graph().is_some() { Vec::new() } else { existing(files) };
    Ok(RunSummary { input, output_files, result })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(START.to_utc_string(), "2024-01-01T00:00:00Z");
    }
}
