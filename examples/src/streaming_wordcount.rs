//! The streaming word-count program (`--example streaming_wordcount`): an
//! endless stream of words with event times, counted per fixed window, each
//! window printed when the watermark passes its end.
//!
//! `Events` (`GenerateSequence` at `--rate` per second, event times from the
//! wall clock at start, up to 50 ms out of order) → `ToWords` → `Window` →
//! `CountWords` → `PrintCounts` (and, with `--output`, `FormatCounts` →
//! `WriteCounts`: one set of shards per window). Every step is portable. It runs until
//! stopped (Ctrl-C drains it: every open window fires and prints), for
//! `--max-duration`, or for `--events=N` elements.

use crate::runners;
use beamline::io::{GenerateSequence, WriteToText};
use beamline::prelude::*;
use beamline::{key_hash, Error, PipelineOptions, PipelineResult, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The words of the stream.
pub const WORDS: &[&str] =
    &["stream", "window", "watermark", "event", "time", "pane", "late", "key", "count", "beam", "timely", "frontier"];

/// The streaming word count's own flags.
#[derive(clap::Args, Debug, Clone)]
pub struct StreamingWordCountOptions {
    /// Words generated per second (0: as fast as possible).
    #[arg(long, value_name = "PER_SECOND", default_value_t = 1000.0)]
    pub rate: f64,
    /// Stop after this many words (default: never).
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,
    /// Length of the fixed windows, in seconds.
    #[arg(long = "window-secs", value_name = "SECONDS", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub window_secs: u64,
    /// Event time of the first word, in seconds since the epoch (default: now).
    #[arg(long, value_name = "SECONDS")]
    pub start: Option<i64>,
    /// Also write each window's counts as text shards named
    /// `PREFIX-<window start>-<window end>-SSSSS-of-NNNNN` (late panes add `-pane-N`).
    #[arg(long, value_name = "PREFIX")]
    pub output: Option<String>,
}

/// Turns sequence number `n` into a word (a fixed hash picks it).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::streaming_wordcount::{ToWordFn, WORDS};
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let words = p.apply(Create::new(vec![0u64, 1, 2])).apply(ParDo::of(ToWordFn));
/// assert_that(&words, satisfies(|w: &[String]| match w.iter().all(|w| WORDS.contains(&w.as_str())) {
///     true if w.len() == 3 => Ok(()),
///     _ => Err(format!("{w:?}")),
/// }));
/// p.run().unwrap();
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ToWordFn;

impl DoFn for ToWordFn {
    type In = u64;
    type Out = String;
    fn process(&mut self, n: &u64, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        ctx.emit(WORDS[(key_hash(n) % WORDS.len() as u64) as usize].to_string());
        Ok(())
    }
}

/// Prints each `(word, count)` of a fired window as `[start, end) word: count`
/// on stdout, one line each, and counts them in the metric `printed`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::streaming_wordcount::PrintCountsFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// p.apply(Create::new(vec![("late".to_string(), 2u64)])).apply_named("Print", ParDo::of(PrintCountsFn::default()));
/// assert_eq!(p.run().unwrap().metrics().counter("Print", "printed"), Some(1));
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PrintCountsFn {
    #[serde(skip)]
    printed: i64,
}

impl DoFn for PrintCountsFn {
    type In = (String, u64);
    type Out = ();
    fn process(&mut self, (word, count): &(String, u64), ctx: &mut ProcessContext<'_, ()>) -> Result<(), DoFnError> {
        // One locked write per line, so lines of different workers do not interleave.
        println!("{} {word}: {count}", ctx.window());
        self.printed += 1;
        Ok(())
    }
    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, ()>) -> Result<(), DoFnError> {
        ctx.metrics().inc_counter("printed", std::mem::take(&mut self.printed));
        Ok(())
    }
}

/// Builds the pipeline on `p`: events from `start` on, `spacing` apart in event time.
pub fn build(p: &Pipeline, opts: &StreamingWordCountOptions, start: Timestamp, spacing: Duration) {
    let mut events =
        GenerateSequence::new().rate(opts.rate).event_times(start, spacing).out_of_order(Duration::from_millis(50));
    if let Some(n) = opts.events {
        events = events.count(n);
    }
    let counts = p
        .apply_named("Events", events)
        .apply_named("ToWords", ParDo::of(ToWordFn))
        .apply_named("Window", WindowInto::new(WindowFn::fixed(Duration::from_secs(opts.window_secs))))
        .apply_named("CountWords", Count::per_element());
    let _printed = counts.apply_named("PrintCounts", ParDo::of(PrintCountsFn::default()));
    if let Some(prefix) = &opts.output {
        let _written = crate::format_counts(counts).apply_named("WriteCounts", WriteToText::new(prefix.clone()));
    }
}

/// Parses `args` (program name first), builds and runs the pipeline.
///
/// # Examples
/// ```
/// let result = beamline_examples::streaming_wordcount::run([
///     "streaming_wordcount", "--runner=timely", "--workers=2", "--rate=0", "--events=5000",
/// ]).unwrap();
/// assert!(result.metrics().counter("PrintCounts", "printed").unwrap() > 0);
/// ```
pub fn run<I, T>(args: I) -> Result<PipelineResult>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let runners = runners();
    let (options, opts) = PipelineOptions::parse_from::<StreamingWordCountOptions>(args, &runners)?;
    let p = Pipeline::new(options, runners);
    if p.options().runner == "direct" && opts.events.is_none() {
        return Err(Error::Options(
            "error: the direct runner reads the generator to its end: give '--events=N', or run it on '--runner=timely'"
                .into(),
        ));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let start = opts.start.map_or(Timestamp::from_micros(now.as_micros() as i64), Timestamp::from_secs);
    let spacing = if opts.rate > 0.0 { Duration::from_secs_f64(1.0 / opts.rate) } else { Duration::from_micros(100) };
    build(&p, &opts, start, spacing);
    p.run()
}
