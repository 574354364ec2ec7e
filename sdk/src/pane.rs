//! Pane info: which firing of a window an element came from (Beam's
//! `PaneInfo`). A trigger may fire a window several times: early
//! (speculative) panes before the watermark passes its end, one on-time
//! pane, late panes after. Each element carries its pane, packed into eight
//! bytes, so a batch carries panes without an allocation per element.

use serde::{Deserialize, Serialize};
use std::fmt;

/// When a pane fired relative to the watermark (Beam's `PaneInfo.Timing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaneTiming {
    /// Before the watermark passed the end of the window (speculative).
    Early,
    /// The first pane once the watermark passed the end of the window.
    OnTime,
    /// After the on-time pane.
    Late,
    /// Not known: elements that never went through a triggered grouping.
    Unknown,
}

impl PaneTiming {
    fn bits(self) -> u64 {
        match self {
            PaneTiming::Early => 0,
            PaneTiming::OnTime => 1,
            PaneTiming::Late => 2,
            PaneTiming::Unknown => 3,
        }
    }

    /// Beam's name for it (`EARLY`, `ON_TIME`, `LATE`, `UNKNOWN`).
    pub fn name(self) -> &'static str {
        match self {
            PaneTiming::Early => "EARLY",
            PaneTiming::OnTime => "ON_TIME",
            PaneTiming::Late => "LATE",
            PaneTiming::Unknown => "UNKNOWN",
        }
    }
}

/// The pane an element belongs to: its timing, whether it is the first
/// and the last pane of its window, its index among the window's panes, and
/// its index among the non-speculative (on-time and late) ones (`-1` for an
/// early pane).
///
/// # Examples
/// ```
/// use beamline::{PaneInfo, PaneTiming};
/// let p = PaneInfo::new(PaneTiming::Late, false, true, 3, 1);
/// assert_eq!((p.timing(), p.is_first(), p.is_last(), p.index(), p.nonspeculative_index()), (PaneTiming::Late, false, true, 3, 1));
/// assert_eq!(PaneInfo::default(), PaneInfo::NO_FIRING);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PaneInfo(u64);

/// Bits of the packed form: timing (2), first (1), last (1), index (30),
/// non-speculative index plus one (30).
const INDEX_BITS: u32 = 30;
const INDEX_MAX: u64 = (1 << INDEX_BITS) - 1;

impl PaneInfo {
    /// The pane of an element no trigger fired (Beam's `NO_FIRING`): timing
    /// unknown, first and last, index 0.
    pub const NO_FIRING: PaneInfo = PaneInfo::pack(3, true, true, 0, 0);
    /// The only pane of a window, fired on time (the default trigger's pane
    /// with no allowed lateness).
    pub const ON_TIME_AND_ONLY_FIRING: PaneInfo = PaneInfo::pack(1, true, true, 0, 0);

    const fn pack(timing: u64, first: bool, last: bool, index: u64, nonspeculative: i64) -> PaneInfo {
        let index = if index > INDEX_MAX { INDEX_MAX } else { index };
        let ns = nonspeculative + 1;
        let ns = if ns < 0 {
            0
        } else if ns as u64 > INDEX_MAX {
            INDEX_MAX
        } else {
            ns as u64
        };
        PaneInfo(timing | (first as u64) << 2 | (last as u64) << 3 | index << 4 | ns << (4 + INDEX_BITS))
    }

    /// A pane (indexes past 2^30 saturate).
    pub fn new(timing: PaneTiming, is_first: bool, is_last: bool, index: u64, nonspeculative_index: i64) -> Self {
        PaneInfo::pack(timing.bits(), is_first, is_last, index, nonspeculative_index)
    }

    /// When it fired.
    pub fn timing(&self) -> PaneTiming {
        match self.0 & 3 {
            0 => PaneTiming::Early,
            1 => PaneTiming::OnTime,
            2 => PaneTiming::Late,
            _ => PaneTiming::Unknown,
        }
    }

    /// Whether it is the window's first pane.
    pub fn is_first(&self) -> bool {
        self.0 & 4 != 0
    }

    /// Whether it is the window's last pane (the trigger finished, or the
    /// window expired).
    pub fn is_last(&self) -> bool {
        self.0 & 8 != 0
    }

    /// Its index among the window's panes, from 0.
    pub fn index(&self) -> u64 {
        (self.0 >> 4) & INDEX_MAX
    }

    /// Its index among the window's on-time and late panes, from 0; `-1`
    /// for an early pane.
    pub fn nonspeculative_index(&self) -> i64 {
        ((self.0 >> (4 + INDEX_BITS)) & INDEX_MAX) as i64 - 1
    }

    /// The packed form (what crosses a process).
    pub fn to_bits(self) -> u64 {
        self.0
    }

    /// From the packed form.
    pub fn from_bits(bits: u64) -> Self {
        PaneInfo(bits)
    }
}

impl Default for PaneInfo {
    fn default() -> Self {
        PaneInfo::NO_FIRING
    }
}

impl fmt::Debug for PaneInfo {
    /// As Beam's Python prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PaneInfo(first: {}, last: {}, timing: {}, index: {}, nonspeculative_index: {})",
            if self.is_first() { "True" } else { "False" },
            if self.is_last() { "True" } else { "False" },
            self.timing().name(),
            self.index(),
            self.nonspeculative_index()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_unpacks_every_field() {
        for timing in [PaneTiming::Early, PaneTiming::OnTime, PaneTiming::Late, PaneTiming::Unknown] {
            for (first, last) in [(false, false), (true, false), (false, true), (true, true)] {
                for (index, ns) in [(0, -1), (0, 0), (7, 3), (INDEX_MAX, INDEX_MAX as i64 - 1)] {
                    let p = PaneInfo::new(timing, first, last, index, ns);
                    assert_eq!(
                        (p.timing(), p.is_first(), p.is_last(), p.index(), p.nonspeculative_index()),
                        (timing, first, last, index, ns)
                    );
                    assert_eq!(PaneInfo::from_bits(p.to_bits()), p);
                }
            }
        }
    }

    #[test]
    fn prints_as_beam_does() {
        assert_eq!(
            format!("{:?}", PaneInfo::NO_FIRING),
            "PaneInfo(first: True, last: True, timing: UNKNOWN, index: 0, nonspeculative_index: 0)"
        );
        assert_eq!(PaneInfo::new(PaneTiming::Early, true, false, 0, -1).nonspeculative_index(), -1);
    }
}
