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

    /// The instant as `YYYY-MM-DDTHH:MM:SSZ` in UTC (sub-second digits dropped).
    ///
    /// # Examples
    /// ```
    /// use beamline::Timestamp;
    /// assert_eq!(Timestamp::from_secs(0).to_utc_string(), "1970-01-01T00:00:00Z");
    /// assert_eq!(Timestamp::from_secs(951_782_400 + 86_399).to_utc_string(), "2000-02-29T23:59:59Z");
    /// assert_eq!(Timestamp::from_secs(-1).to_utc_string(), "1969-12-31T23:59:59Z");
    /// ```
    pub fn to_utc_string(self) -> String {
        let secs = self.0.div_euclid(1_000_000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
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
