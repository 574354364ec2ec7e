//! Event time: timestamps are microseconds since the Unix epoch (Beam's precision).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An event-time instant: an `i64` count of microseconds since the epoch.
///
/// # Examples
/// ```
/// use beamline::Timestamp;
/// let t = Timestamp::from_secs(90);
/// assert_eq!(t.as_micros(), 90_000_000);
/// assert!(Timestamp::MIN < t && t < Timestamp::MAX);
/// assert_eq!(t.to_string(), "Timestamp(90)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The smallest timestamp an element may carry (Beam's `MIN_TIMESTAMP`).
    pub const MIN: Timestamp = Timestamp(-9_223_372_036_854_775);
    /// The largest timestamp an element may carry (Beam's `MAX_TIMESTAMP`).
    pub const MAX: Timestamp = Timestamp(9_223_372_036_854_775);
    /// The end of the global window (Beam: one day before `MAX`).
    pub const END_OF_GLOBAL_WINDOW: Timestamp = Timestamp(9_223_372_036_854_775 - 86_400_000_000);

    /// A timestamp from microseconds.
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }
    /// A timestamp from milliseconds.
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis.saturating_mul(1_000))
    }
    /// A timestamp from seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000))
    }
    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    /// This instant plus `micros`, saturating.
    pub const fn plus_micros(self, micros: i64) -> Self {
        Timestamp(self.0.saturating_add(micros))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Timestamp {
    /// Prints as Beam does: seconds, with the fraction only when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self <= Timestamp::MIN {
            return f.write_str("Timestamp(MIN)");
        }
        if *self >= Timestamp::MAX {
            return f.write_str("Timestamp(MAX)");
        }
        let secs = self.0.div_euclid(1_000_000);
        let frac = self.0.rem_euclid(1_000_000);
        if frac == 0 {
            write!(f, "Timestamp({secs})")
        } else {
            let digits = format!("{frac:06}");
            write!(f, "Timestamp({secs}.{})", digits.trim_end_matches('0'))
        }
    }
}

/// Converts a [`std::time::Duration`] to whole microseconds, saturating.
pub(crate) fn duration_micros(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}
