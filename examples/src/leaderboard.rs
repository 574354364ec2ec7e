//! The streaming leaderboard (`--example leaderboard`): per-team scores in
//! fixed event-time windows, with early results every few seconds of
//! processing time, the on-time result when the watermark passes the end of
//! a window, and a late result for every late event, in accumulating mode
//! (each pane holds the window's whole score so far). Beam's `LeaderBoard`
//! example, on beamline's triggers.
//!
//! `Events` (`GenerateSequence`; every `--late-every`-th event is sent
//! `--late-by` seconds back in event time, after the watermark has passed it)
//! → `ToScores` → `Window` (the trigger) → `SumScores` → `PrintPanes` (and,
//! with `--output`, `FormatPanes` → `WritePanes`: one set of files per
//! window and pane).

use crate::runners;
use beamline::io::{GenerateSequence, WriteToText};
use beamline::prelude::*;
use beamline::{key_hash, Error, PipelineOptions, PipelineResult, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The teams.
pub const TEAMS: &[&str] = &["red", "blue", "green", "gold"];

/// The leaderboard's own flags.
#[derive(clap::Args, Debug, Clone)]
pub struct LeaderboardOptions {
    /// Events generated per second (0: as fast as possible).
    #[arg(long, value_name = "PER_SECOND", default_value_t = 200.0)]
    pub rate: f64,
    /// Stop after this many events (default: never).
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,
    /// Length of the fixed windows, in seconds.
    #[arg(long = "window-secs", value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub window_secs: u64,
    /// Early results every this many seconds of processing time.
    #[arg(long = "early-secs", value_name = "SECONDS", default_value_t = 2.0)]
    pub early_secs: f64,
    /// Every N-th event is late (0: none).
    #[arg(long = "late-every", value_name = "N", default_value_t = 50)]
    pub late_every: u64,
    /// How far back in event time a late event is sent, in seconds.
    #[arg(long = "late-by", value_name = "SECONDS", default_value_t = 15)]
    pub late_by: u64,
    /// How late data may come and still count, in seconds.
    #[arg(long = "allowed-lateness", value_name = "SECONDS", default_value_t = 60)]
    pub allowed_lateness: u64,
    /// Event time of the first event, in seconds since the epoch (default: now).
    #[arg(long, value_name = "SECONDS")]
    pub start: Option<i64>,
    /// Also write every pane as `team,window start,score,timing,index` lines,
    /// one set of files per window and pane under PREFIX.
    #[arg(long, value_name = "PREFIX")]
    pub output: Option<String>,
}

/// An event's team and points, from its sequence number (a fixed hash).
///
/// # Examples
/// ```
/// let (team, points) = beamline_examples::leaderboard::score_of(7);
/// assert!(beamline_examples::leaderboard::TEAMS.contains(&team) && (1..=10).contains(&points));
/// ```
pub fn score_of(n: u64) -> (&'static str, i64) {
    let h = key_hash(&n);
    (TEAMS[(h % TEAMS.len() as u64) as usize], (h / 7 % 10) as i64 + 1)
}

/// Turns sequence number `n` into `(team, points)`; every `late_every`-th
/// event moves `late_by` back in event time.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::leaderboard::ToScoresFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let scores = p.apply(Create::new(vec![0u64, 1])).apply(ParDo::of(ToScoresFn { late_every: 0, late_by_secs: 0 }));
/// assert_that(&scores, satisfies(|s: &[(String, i64)]| if s.len() == 2 { Ok(()) } else { Err(format!("{s:?}")) }));
/// p.run().unwrap();
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ToScoresFn {
    /// Every N-th event is late (0: none).
    pub late_every: u64,
    /// How far back a late event goes, in seconds.
    pub late_by_secs: u64,
}

impl DoFn for ToScoresFn {
    type In = u64;
    type Out = (String, i64);
    fn process(&mut self, n: &u64, ctx: &mut ProcessContext<'_, (String, i64)>) -> Result<(), DoFnError> {
        let (team, points) = score_of(*n);
        if self.late_every > 0 && n % self.late_every == self.late_every - 1 {
            let late = ctx.timestamp().plus_micros(-(self.late_by_secs as i64) * 1_000_000);
            ctx.emit_with_timestamp((team.to_string(), points), late);
        } else {
            ctx.emit((team.to_string(), points));
        }
        Ok(())
    }
}

/// Prints each pane as `[start, end) team: score (TIMING #index)` and counts
/// panes by timing in the metrics `early`, `on_time` and `late`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::leaderboard::PrintPanesFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// p.apply(Create::new(vec![("red".to_string(), 3i64)])).apply_named("Print", ParDo::of(PrintPanesFn));
/// // Outside a triggered grouping an element's pane timing is unknown.
/// assert_eq!(p.run().unwrap().metrics().counter("Print", "unknown"), Some(1));
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PrintPanesFn;

impl DoFn for PrintPanesFn {
    type In = (String, i64);
    type Out = ();
    fn process(&mut self, (team, score): &(String, i64), ctx: &mut ProcessContext<'_, ()>) -> Result<(), DoFnError> {
        let pane = ctx.pane();
        println!("{} {team}: {score} ({} #{})", ctx.window(), pane.timing().name(), pane.index());
        let metric = match pane.timing() {
            PaneTiming::Early => "early",
            PaneTiming::OnTime => "on_time",
            PaneTiming::Late => "late",
            PaneTiming::Unknown => "unknown",
        };
        ctx.metrics().inc_counter(metric, 1);
        Ok(())
    }
}

/// Formats a pane as `team,window start (µs),score,timing,index`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FormatPanesFn;

impl DoFn for FormatPanesFn {
    type In = (String, i64);
    type Out = String;
    fn process(
        &mut self,
        (team, score): &(String, i64),
        ctx: &mut ProcessContext<'_, String>,
    ) -> Result<(), DoFnError> {
        let start = match ctx.window() {
            Window::Interval { start, .. } => start.as_micros(),
            Window::Global => 0,
        };
        let pane = ctx.pane();
        ctx.emit(format!("{team},{start},{score},{},{}", pane.timing().name(), pane.index()));
        Ok(())
    }
}

/// The leaderboard's trigger: early firings every `early` of processing
/// time, the on-time firing, a late firing per late element.
///
/// # Examples
/// ```
/// let t = beamline_examples::leaderboard::trigger(std::time::Duration::from_secs(2));
/// assert_eq!(t.to_string(), "AfterWatermark(early=AfterProcessingTime(delay=2s), late=AfterCount(1))");
/// ```
pub fn trigger(early: Duration) -> Trigger {
    Trigger::after_watermark()
        .with_early_firings(Trigger::after_processing_time(early))
        .with_late_firings(Trigger::after_count(1))
}

/// Builds the pipeline on `p`: events from `start` on, `spacing` apart in event time.
pub fn build(p: &Pipeline, opts: &LeaderboardOptions, start: Timestamp, spacing: Duration) {
    let mut events = GenerateSequence::new().rate(opts.rate).event_times(start, spacing);
    if let Some(n) = opts.events {
        events = events.count(n);
    }
    let window = WindowInto::new(WindowFn::fixed(Duration::from_secs(opts.window_secs)))
        .triggering(trigger(Duration::from_secs_f64(opts.early_secs.max(0.001))))
        .accumulating_fired_panes()
        .with_allowed_lateness(Duration::from_secs(opts.allowed_lateness));
    let scores = p
        .apply_named("Events", events)
        .apply_named("ToScores", ParDo::of(ToScoresFn { late_every: opts.late_every, late_by_secs: opts.late_by }))
        .apply_named("Window", window)
        .apply_named("SumScores", Combine::per_key(Sum::<i64>::new()));
    let _printed = scores.apply_named("PrintPanes", ParDo::of(PrintPanesFn));
    if let Some(prefix) = &opts.output {
        let _written = scores
            .apply_named("FormatPanes", ParDo::of(FormatPanesFn))
            .apply_named("WritePanes", WriteToText::new(prefix.clone()).with_num_shards(1));
    }
}

/// Parses `args` (program name first), builds and runs the pipeline.
///
/// # Examples
/// ```
/// // Paced (2 s), so the watermark keeps close to the events and every 50th
/// // event, sent a second back, arrives after its window fired on time.
/// let result = beamline_examples::leaderboard::run([
///     "leaderboard", "--runner=timely", "--workers=2", "--rate=1000", "--events=2000", "--start=0",
///     "--window-secs=1", "--late-by=1", "--allowed-lateness=10",
/// ]).unwrap();
/// let m = result.metrics();
/// assert!(m.counter("PrintPanes", "on_time").unwrap() > 0 && m.counter("PrintPanes", "late").unwrap() > 0);
/// ```
pub fn run<I, T>(args: I) -> Result<PipelineResult>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let runners = runners();
    let (options, opts) = PipelineOptions::parse_from::<LeaderboardOptions>(args, &runners)?;
    let p = Pipeline::new(options, runners);
    if p.options().runner == "direct" && opts.events.is_none() {
        return Err(Error::Options(
            "error: the direct runner reads the generator to its end: give '--events=N', or run it on '--runner=timely'"
                .into(),
        ));
    }
    if p.options().runner == "rayon" {
        return Err(Error::Options(
            "error: the leaderboard reads an endless stream: run it on '--runner=timely' or '--runner=direct'".into(),
        ));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let start = opts.start.map_or(Timestamp::from_micros(now.as_micros() as i64), Timestamp::from_secs);
    let spacing = if opts.rate > 0.0 { Duration::from_secs_f64(1.0 / opts.rate) } else { Duration::from_millis(10) };
    build(&p, &opts, start, spacing);
    p.run()
}
