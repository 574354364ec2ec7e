//! Windows, window functions and windowing strategies.
//!
//! Windows are half-open `[start, end)` intervals of event time, or the single
//! global window. A [`WindowFn`] assigns windows to timestamps; sessions merge.

use crate::time::{duration_micros, Timestamp};
use crate::trigger::{AccumulationMode, Trigger};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A window an element belongs to.
///
/// # Examples
/// ```
/// use beamline::{Timestamp, Window};
/// let w = Window::interval(Timestamp::from_secs(0), Timestamp::from_secs(60));
/// assert_eq!(w.max_timestamp(), Timestamp::from_micros(59_999_999));
/// assert_eq!(w.to_string(), "[0.0, 60.0)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Window {
    /// The one window of the global windowing.
    Global,
    /// The interval `[start, end)`.
    Interval {
        /// Inclusive start.
        start: Timestamp,
        /// Exclusive end.
        end: Timestamp,
    },
}

impl Window {
    /// The window `[start, end)`.
    pub fn interval(start: Timestamp, end: Timestamp) -> Self {
        Window::Interval { start, end }
    }

    /// The last timestamp inside the window.
    pub fn max_timestamp(&self) -> Timestamp {
        match self {
            Window::Global => Timestamp::END_OF_GLOBAL_WINDOW,
            Window::Interval { end, .. } => end.plus_micros(-1),
        }
    }

    /// The smallest window containing both `self` and `other` (for merging sessions).
    fn span(&self, other: &Window) -> Window {
        match (self, other) {
            (Window::Interval { start: s1, end: e1 }, Window::Interval { start: s2, end: e2 }) => {
                Window::Interval { start: (*s1).min(*s2), end: (*e1).max(*e2) }
            }
            _ => Window::Global,
        }
    }

    fn intersects(&self, other: &Window) -> bool {
        match (self, other) {
            (Window::Interval { start: s1, end: e1 }, Window::Interval { start: s2, end: e2 }) => s1 < e2 && s2 < e1,
            _ => true,
        }
    }
}

impl fmt::Display for Window {
    /// Prints as Beam prints windows: `GlobalWindow` or `[start, end)` in seconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Global => f.write_str("GlobalWindow"),
            Window::Interval { start, end } => {
                write!(f, "[{}, {})", secs(*start), secs(*end))
            }
        }
    }
}

impl fmt::Debug for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn secs(t: Timestamp) -> String {
    let micros = t.as_micros();
    let whole = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    if frac == 0 {
        format!("{whole}.0")
    } else {
        format!("{whole}.{}", format!("{frac:06}").trim_end_matches('0'))
    }
}

/// How elements are assigned to windows.
///
/// # Examples
/// ```
/// use beamline::{Timestamp, Window, WindowFn};
/// use std::time::Duration;
/// let fixed = WindowFn::fixed(Duration::from_secs(10));
/// assert_eq!(
///     fixed.assign(Timestamp::from_secs(12)),
///     vec![Window::interval(Timestamp::from_secs(10), Timestamp::from_secs(20))]
/// );
/// let sliding = WindowFn::sliding(Duration::from_secs(10), Duration::from_secs(5));
/// assert_eq!(sliding.assign(Timestamp::from_secs(12)).len(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowFn {
    /// Everything in one window.
    #[default]
    Global,
    /// Tumbling windows `[offset + k·size, offset + (k+1)·size)`, in microseconds.
    Fixed {
        /// Window length.
        size: i64,
        /// Shift of the window grid.
        offset: i64,
    },
    /// Overlapping windows of `size`, one starting every `period`, in microseconds.
    Sliding {
        /// Window length.
        size: i64,
        /// Distance between window starts.
        period: i64,
        /// Shift of the window grid.
        offset: i64,
    },
    /// Per-key sessions: windows `[t, t + gap)` that merge when they overlap.
    Sessions {
        /// The gap, in microseconds.
        gap: i64,
    },
}

impl WindowFn {
    /// The global window.
    pub fn global() -> Self {
        WindowFn::Global
    }
    /// Fixed windows of `size`.
    pub fn fixed(size: Duration) -> Self {
        WindowFn::Fixed { size: duration_micros(size).max(1), offset: 0 }
    }
    /// Fixed windows of `size` whose grid is shifted by `offset`.
    pub fn fixed_with_offset(size: Duration, offset: Duration) -> Self {
        let size = duration_micros(size).max(1);
        WindowFn::Fixed { size, offset: duration_micros(offset).rem_euclid(size) }
    }
    /// Sliding windows of `size`, starting every `period`.
    pub fn sliding(size: Duration, period: Duration) -> Self {
        let period = duration_micros(period).max(1);
        WindowFn::Sliding { size: duration_micros(size).max(1), period, offset: 0 }
    }
    /// Session windows with the given inactivity `gap`.
    pub fn sessions(gap: Duration) -> Self {
        WindowFn::Sessions { gap: duration_micros(gap).max(1) }
    }

    /// Checks parameters a deserialized graph (or a language binding) could have broken.
    ///
    /// # Examples
    /// ```
    /// use beamline::WindowFn;
    /// assert!(WindowFn::Fixed { size: 0, offset: 0 }.validate().is_err());
    /// assert!(WindowFn::Fixed { size: 10, offset: 0 }.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            WindowFn::Fixed { size, .. } if size <= 0 => Err(format!("fixed window size must be positive, got {size}")),
            WindowFn::Sliding { size, period, .. } if size <= 0 || period <= 0 => {
                Err(format!("sliding window size and period must be positive, got {size} and {period}"))
            }
            WindowFn::Sessions { gap } if gap <= 0 => Err(format!("session gap must be positive, got {gap}")),
            _ => Ok(()),
        }
    }

    /// The windows an element with timestamp `ts` belongs to.
    pub fn assign(&self, ts: Timestamp) -> Vec<Window> {
        let t = ts.as_micros();
        match *self {
            WindowFn::Global => vec![Window::Global],
            WindowFn::Fixed { size, offset } => {
                let start = t - (t - offset).rem_euclid(size);
                vec![Window::interval(
                    Timestamp::from_micros(start),
                    Timestamp::from_micros(start.saturating_add(size)),
                )]
            }
            WindowFn::Sliding { size, period, offset } => {
                let last_start = t - (t - offset).rem_euclid(period);
                let mut out = Vec::new();
                let mut start = last_start;
                while start > t - size {
                    out.push(Window::interval(
                        Timestamp::from_micros(start),
                        Timestamp::from_micros(start.saturating_add(size)),
                    ));
                    start -= period;
                }
                out
            }
            WindowFn::Sessions { gap } => {
                vec![Window::interval(ts, ts.plus_micros(gap))]
            }
        }
    }

    /// Whether windows of this function merge (sessions do).
    pub fn is_merging(&self) -> bool {
        matches!(self, WindowFn::Sessions { .. })
    }

    /// Merges overlapping windows; returns, for each input window, the index of
    /// its merged window, and the merged windows.
    pub fn merge(&self, windows: &[Window]) -> (Vec<usize>, Vec<Window>) {
        if !self.is_merging() {
            let mut merged: Vec<Window> = windows.to_vec();
            merged.sort();
            merged.dedup();
            let idx = windows.iter().map(|w| merged.binary_search(w).unwrap_or(0)).collect();
            return (idx, merged);
        }
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| windows[i]);
        let mut merged: Vec<Window> = Vec::new();
        let mut idx = vec![0; windows.len()];
        for i in order {
            let w = windows[i];
            match merged.last_mut() {
                Some(last) if last.intersects(&w) => *last = last.span(&w),
                _ => merged.push(w),
            }
            idx[i] = merged.len() - 1;
        }
        (idx, merged)
    }

    /// The window of a side input (windowed by `self`) that a main-input
    /// element in `main` reads: the one holding the main window's last instant.
    pub fn side_input_window(&self, main: &Window) -> Window {
        match self {
            WindowFn::Global => Window::Global,
            WindowFn::Sessions { .. } => *main,
            _ => self.assign(main.max_timestamp()).into_iter().last().unwrap_or(Window::Global),
        }
    }
}

/// Which timestamp a grouped or combined output gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimestampCombiner {
    /// The window's last instant (Beam's default).
    #[default]
    EndOfWindow,
    /// The earliest input timestamp.
    Earliest,
    /// The latest input timestamp.
    Latest,
}

impl TimestampCombiner {
    /// Combines two timestamps.
    pub fn combine(&self, a: Timestamp, b: Timestamp) -> Timestamp {
        match self {
            TimestampCombiner::Earliest => a.min(b),
            TimestampCombiner::Latest | TimestampCombiner::EndOfWindow => a.max(b),
        }
    }
}

/// How a PCollection is windowed: the window function and what goes with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WindowingStrategy {
    /// Assigns windows.
    pub window_fn: WindowFn,
    /// Timestamps of grouped outputs.
    pub timestamp_combiner: TimestampCombiner,
    /// How late (in microseconds past the window's end) data is still accepted.
    pub allowed_lateness: i64,
    /// When windows fire.
    #[serde(default)]
    pub trigger: Trigger,
    /// How the panes of one window relate.
    #[serde(default)]
    pub accumulation_mode: AccumulationMode,
}

impl WindowingStrategy {
    /// Whether a grouping fires each window once, when the watermark passes
    /// it, with nothing late to label (the engine's fast path): the
    /// default trigger with no allowed lateness, or a bounded input (Beam's
    /// batch rule: everything fires once, at the end).
    pub fn fires_once(&self, bounded: bool) -> bool {
        bounded || (self.trigger == Trigger::Default && self.allowed_lateness == 0)
    }
}
