//! Timely time: an event-time watermark and a TestStream step, ordered as a
//! product (both coordinates), not lexicographically.
//!
//! A frontier then says two things at once: the watermark (the least
//! watermark over its elements) and how far every step has got (the least
//! step). A TestStream applies its next event once no work is left at an
//! earlier step; a watermark hold (a timer's output timestamp, input waiting
//! for a side input) keeps the watermark back without keeping the step back,
//! so it never stalls a TestStream. (With a lexicographic order it would: the
//! hold sorts before every later step.)

use beamline::Timestamp;
use serde::{Deserialize, Serialize};
use timely::dataflow::operators::InputCapability;
use timely::order::PartialOrder;
use timely::progress::timestamp::{PathSummary, Refines};
use timely::progress::Timestamp as TimelyTimestamp;

/// A point in timely time: `watermark` in microseconds of event time, and
/// `step`, the number of TestStream events applied before it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Time {
    watermark: i64,
    step: u32,
}

impl Time {
    /// The time of `watermark` at `step`.
    pub(crate) fn new(watermark: Timestamp, step: u32) -> Time {
        Time { watermark: watermark.as_micros(), step }
    }

    /// The watermark as the SDK's timestamp.
    pub(crate) fn watermark(&self) -> Timestamp {
        Timestamp::from_micros(self.watermark.clamp(Timestamp::MIN.as_micros(), Timestamp::MAX.as_micros()))
    }

    pub(crate) fn step(&self) -> u32 {
        self.step
    }

    /// The least time no earlier than both (the join, coordinate by coordinate).
    pub(crate) fn join(&self, other: &Time) -> Time {
        Time { watermark: self.watermark.max(other.watermark), step: self.step.max(other.step) }
    }

    /// The greatest time no later than every time of `times` (the meet);
    /// `None` for none.
    pub(crate) fn meet<'a>(times: impl IntoIterator<Item = &'a Time>) -> Option<Time> {
        times
            .into_iter()
            .copied()
            .reduce(|a, b| Time { watermark: a.watermark.min(b.watermark), step: a.step.min(b.step) })
    }

    /// This time with its watermark held back to `hold`, if that is earlier.
    pub(crate) fn held_at(&self, hold: Option<Timestamp>) -> Time {
        match hold {
            Some(h) => Time { watermark: self.watermark.min(h.as_micros()), step: self.step },
            None => *self,
        }
    }
}

/// The time a message was sent at. Every sender here gives one capability
/// per session, so a stamp has one element; `None` for a message sent
/// under no capability.
pub(crate) fn sent_at(cap: &InputCapability<Time>) -> Option<Time> {
    cap.stamp().into_iter().next().copied()
}

impl PartialOrder for Time {
    fn less_equal(&self, other: &Self) -> bool {
        self.watermark <= other.watermark && self.step <= other.step
    }
}

impl TimelyTimestamp for Time {
    type Summary = Unchanged;
    fn minimum() -> Self {
        Time { watermark: i64::MIN, step: 0 }
    }
}

impl Refines<()> for Time {
    fn to_inner(_: ()) -> Time {
        Time::minimum()
    }
    fn to_outer(self) {}
    fn summarize(_: Unchanged) {}
}

/// The only path summary: no operator here moves a time forward on its own
/// (the dataflow has no loops).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Unchanged;

impl PartialOrder for Unchanged {
    fn less_equal(&self, _: &Self) -> bool {
        true
    }
}

impl PathSummary<Time> for Unchanged {
    fn results_in(&self, src: &Time) -> Option<Time> {
        Some(*src)
    }
    fn followed_by(&self, _: &Self) -> Option<Self> {
        Some(Unchanged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(w: i64, s: u32) -> Time {
        Time { watermark: w, step: s }
    }

    #[test]
    fn a_hold_does_not_hold_back_the_step() {
        // A capability held at an early watermark but the current step is
        // not "less than" a later watermark at an earlier step.
        assert!(!t(5, 3).less_equal(&t(100, 2)));
        assert!(t(5, 2).less_equal(&t(100, 2)));
        assert_eq!(Time::meet(&[t(5, 3), t(100, 2)]), Some(t(5, 2)));
        assert_eq!(t(100, 3).held_at(Some(Timestamp::from_micros(5))), t(5, 3));
        assert_eq!(t(5, 3).join(&t(100, 2)), t(100, 3));
    }

    #[test]
    fn the_watermark_is_clamped_to_the_sdk_range() {
        assert_eq!(Time::minimum().watermark(), Timestamp::MIN);
        assert_eq!(t(i64::MAX, 0).watermark(), Timestamp::MAX);
    }
}
