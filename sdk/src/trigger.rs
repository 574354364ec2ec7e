//! Triggers and accumulation modes: when a window's results are emitted in
//! processing time, and how successive panes of one window relate (Beam's
//! `Trigger` and `AccumulationMode`). The engine evaluates them
//! (`engine::trigger_machine`); this module is the model a pipeline names.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// When a window fires. The default fires once when the watermark passes
/// the end of the window, then once for every late element within the
/// allowed lateness.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use std::time::Duration;
/// // Early results every 10 s of processing time, the on-time result, then
/// // one result per late element.
/// let t = Trigger::after_watermark()
///     .with_early_firings(Trigger::after_processing_time(Duration::from_secs(10)))
///     .with_late_firings(Trigger::after_count(1));
/// assert_eq!(t.to_string(), "AfterWatermark(early=AfterProcessingTime(delay=10s), late=AfterCount(1))");
/// assert!(Trigger::after_count(3).may_finish());
/// assert!(!Trigger::repeatedly(Trigger::after_count(3)).may_finish());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Trigger {
    /// Beam's default trigger: `Repeatedly(AfterWatermark())`, never finishing.
    #[default]
    Default,
    /// Fires when the watermark passes the end of the window; before that,
    /// repeatedly by `early`; after it, repeatedly by `late`. Without `late`
    /// it finishes at the on-time firing.
    AfterWatermark {
        /// Speculative firings before the end of the window.
        early: Option<Box<Trigger>>,
        /// Firings after the on-time one.
        late: Option<Box<Trigger>>,
    },
    /// Fires once, `delay` of processing time after the first element of
    /// the pane, rounded up to the next `offset + k * period` when aligned.
    AfterProcessingTime {
        /// Microseconds after the pane's first element.
        delay: i64,
        /// `(period, offset)` in microseconds to align the firing time to.
        align: Option<(i64, i64)>,
    },
    /// What a processing-time trigger becomes after a GroupByKey: fires as
    /// soon as an element has arrived (the upstream firing already waited).
    AfterSynchronizedProcessingTime,
    /// Fires once the pane holds at least this many elements.
    AfterCount(u64),
    /// Fires whenever the inner trigger fires; never finishes.
    Repeatedly(Box<Trigger>),
    /// Fires when any of its triggers fires; finishes when that one finishes.
    AfterAny(Vec<Trigger>),
    /// Fires when all of its triggers have fired; finishes then.
    AfterAll(Vec<Trigger>),
    /// Runs its triggers one after the other; finishes with the last.
    AfterEach(Vec<Trigger>),
    /// Fires as the first trigger does, and finishes when the second fires.
    OrFinally(Box<Trigger>, Box<Trigger>),
    /// Never fires; the window's contents come out once, when it expires.
    Never,
    /// Fires for every element.
    Always,
}

impl Trigger {
    /// `AfterWatermark()`: the on-time firing only; add firings with
    /// [`with_early_firings`](Self::with_early_firings) and
    /// [`with_late_firings`](Self::with_late_firings).
    pub fn after_watermark() -> Trigger {
        Trigger::AfterWatermark { early: None, late: None }
    }

    /// This `AfterWatermark` with early firings by `early`, repeatedly
    /// (other triggers are returned as they are).
    pub fn with_early_firings(self, early: Trigger) -> Trigger {
        match self {
            Trigger::AfterWatermark { late, .. } => Trigger::AfterWatermark { early: Some(Box::new(early)), late },
            t => t,
        }
    }

    /// This `AfterWatermark` with late firings by `late`, repeatedly.
    pub fn with_late_firings(self, late: Trigger) -> Trigger {
        match self {
            Trigger::AfterWatermark { early, .. } => Trigger::AfterWatermark { early, late: Some(Box::new(late)) },
            t => t,
        }
    }

    /// Fires `delay` of processing time after the pane's first element.
    pub fn after_processing_time(delay: Duration) -> Trigger {
        Trigger::AfterProcessingTime { delay: micros(delay), align: None }
    }

    /// This `AfterProcessingTime` with its firing time rounded up to the
    /// next `offset + k * period` (Java's `alignedTo`).
    pub fn aligned_to(self, period: Duration, offset: Duration) -> Trigger {
        match self {
            Trigger::AfterProcessingTime { delay, .. } => {
                Trigger::AfterProcessingTime { delay, align: Some((micros(period).max(1), micros(offset))) }
            }
            t => t,
        }
    }

    /// Fires once the pane holds `n` elements; `n` must be at least 1.
    pub fn after_count(n: u64) -> Trigger {
        Trigger::AfterCount(n)
    }

    /// Fires whenever `t` fires, forever.
    pub fn repeatedly(t: Trigger) -> Trigger {
        Trigger::Repeatedly(Box::new(t))
    }

    /// Fires when any of `ts` fires.
    pub fn after_any(ts: Vec<Trigger>) -> Trigger {
        Trigger::AfterAny(ts)
    }

    /// Fires when every one of `ts` has fired.
    pub fn after_all(ts: Vec<Trigger>) -> Trigger {
        Trigger::AfterAll(ts)
    }

    /// Runs `ts` in sequence.
    pub fn after_each(ts: Vec<Trigger>) -> Trigger {
        Trigger::AfterEach(ts)
    }

    /// Fires as this trigger does until `until` fires, then finishes.
    pub fn or_finally(self, until: Trigger) -> Trigger {
        Trigger::OrFinally(Box::new(self), Box::new(until))
    }

    /// Whether this trigger can finish, closing its window before it
    /// expires: elements that arrive for it later are dropped.
    pub fn may_finish(&self) -> bool {
        match self {
            Trigger::Default | Trigger::Never | Trigger::Always | Trigger::Repeatedly(_) => false,
            Trigger::AfterWatermark { late, .. } => late.is_none(),
            Trigger::AfterProcessingTime { .. } | Trigger::AfterSynchronizedProcessingTime | Trigger::AfterCount(_) => {
                true
            }
            Trigger::AfterAny(ts) => ts.iter().any(Trigger::may_finish),
            Trigger::AfterAll(ts) | Trigger::AfterEach(ts) => ts.iter().all(Trigger::may_finish),
            Trigger::OrFinally(..) => true,
        }
    }

    /// Whether any part of it counts elements (`AfterCount`, `Always`): a
    /// combine under such a trigger cannot be lifted, since combining
    /// before the shuffle changes what it counts.
    ///
    /// ```
    /// use beamline::Trigger;
    /// use std::time::Duration;
    /// let early = Trigger::after_processing_time(Duration::from_millis(100));
    /// assert!(!Trigger::after_watermark().with_early_firings(early).counts_elements());
    /// assert!(Trigger::after_watermark().with_late_firings(Trigger::after_count(1)).counts_elements());
    /// ```
    pub fn counts_elements(&self) -> bool {
        match self {
            Trigger::AfterCount(_) | Trigger::Always => true,
            Trigger::Default
            | Trigger::Never
            | Trigger::AfterProcessingTime { .. }
            | Trigger::AfterSynchronizedProcessingTime => false,
            Trigger::AfterWatermark { early, late } => early.iter().chain(late).any(|t| t.counts_elements()),
            Trigger::Repeatedly(t) => t.counts_elements(),
            Trigger::OrFinally(a, b) => a.counts_elements() || b.counts_elements(),
            Trigger::AfterAny(ts) | Trigger::AfterAll(ts) | Trigger::AfterEach(ts) => {
                ts.iter().any(Trigger::counts_elements)
            }
        }
    }

    /// Why this trigger may lose data with `allowed_lateness` (Beam's
    /// `may_lose_data`), or `None` if it cannot: a trigger that finishes
    /// drops what arrives for its window afterwards.
    pub fn data_loss_reason(&self, allowed_lateness: i64) -> Option<&'static str> {
        self.may_lose_data(allowed_lateness).then_some("MAY_FINISH")
    }

    /// Beam's Python `may_lose_data`, rule by rule: `AfterWatermark` only
    /// when late data is allowed and it has no late firings; composites as
    /// their parts (any for `AfterAny` and `OrFinally`, all for `AfterAll`
    /// and `AfterEach`).
    fn may_lose_data(&self, lateness: i64) -> bool {
        match self {
            Trigger::Default | Trigger::Never | Trigger::Always | Trigger::Repeatedly(_) => false,
            Trigger::AfterWatermark { late, .. } => lateness != 0 && late.is_none(),
            Trigger::AfterProcessingTime { .. } | Trigger::AfterSynchronizedProcessingTime | Trigger::AfterCount(_) => {
                true
            }
            Trigger::AfterAny(ts) => ts.iter().any(|t| t.may_lose_data(lateness)),
            Trigger::OrFinally(t, u) => t.may_lose_data(lateness) || u.may_lose_data(lateness),
            Trigger::AfterAll(ts) | Trigger::AfterEach(ts) => ts.iter().all(|t| t.may_lose_data(lateness)),
        }
    }

    /// The trigger of a GroupByKey's output: what the same firings mean one
    /// step downstream (Beam's continuation trigger).
    pub fn continuation(&self) -> Trigger {
        let all = |ts: &[Trigger]| ts.iter().map(Trigger::continuation).collect();
        match self {
            Trigger::Default => Trigger::Default,
            Trigger::AfterWatermark { early, late } => Trigger::AfterWatermark {
                early: early.as_ref().map(|t| Box::new(t.continuation())),
                late: late.as_ref().map(|t| Box::new(t.continuation())),
            },
            Trigger::AfterProcessingTime { .. } | Trigger::AfterSynchronizedProcessingTime => {
                Trigger::AfterSynchronizedProcessingTime
            }
            Trigger::AfterCount(_) => Trigger::AfterCount(1),
            Trigger::Repeatedly(t) => Trigger::Repeatedly(Box::new(t.continuation())),
            Trigger::AfterAny(ts) => Trigger::AfterAny(all(ts)),
            Trigger::AfterAll(ts) => Trigger::AfterAll(all(ts)),
            // As Beam's Java and Python SDKs: downstream, any step may fire.
            Trigger::AfterEach(ts) => Trigger::Repeatedly(Box::new(Trigger::AfterAny(all(ts)))),
            Trigger::OrFinally(t, u) => Trigger::OrFinally(Box::new(t.continuation()), Box::new(u.continuation())),
            Trigger::Never => Trigger::Never,
            Trigger::Always => Trigger::Always,
        }
    }

    /// A construction error for a malformed trigger (`AfterCount(0)`, an
    /// empty composite), with Beam's message where Beam has one.
    pub fn validate(&self) -> std::result::Result<(), String> {
        match self {
            Trigger::AfterCount(0) => Err("count (0) must be a positive integer.".into()),
            Trigger::AfterAny(ts) | Trigger::AfterAll(ts) | Trigger::AfterEach(ts) if ts.is_empty() => {
                Err(format!("{self} needs at least one trigger"))
            }
            Trigger::AfterProcessingTime { delay, .. } if *delay < 0 => Err(format!("{self}: negative delay")),
            Trigger::AfterAny(ts) | Trigger::AfterAll(ts) | Trigger::AfterEach(ts) => {
                ts.iter().try_for_each(Trigger::validate)
            }
            Trigger::AfterWatermark { early, late } => early.iter().chain(late.iter()).try_for_each(|t| t.validate()),
            Trigger::Repeatedly(t) => t.validate(),
            Trigger::OrFinally(t, u) => t.validate().and_then(|()| u.validate()),
            _ => Ok(()),
        }
    }

    /// The firing time of an `AfterProcessingTime` whose pane's first
    /// element came at `now`.
    pub(crate) fn processing_due(delay: i64, align: Option<(i64, i64)>, now: Timestamp) -> Timestamp {
        let t = now.as_micros().saturating_add(delay);
        let t = match align {
            Some((period, offset)) => {
                let k = (t - offset).div_euclid(period);
                let at = offset + k * period;
                if at < t {
                    at.saturating_add(period)
                } else {
                    at
                }
            }
            None => t,
        };
        Timestamp::from_micros(t)
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Beam's names, as its Python SDK prints them.
impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, ts: &[Trigger]| {
            let inner: Vec<String> = ts.iter().map(ToString::to_string).collect();
            write!(f, "{name}({})", inner.join(", "))
        };
        match self {
            Trigger::Default => write!(f, "DefaultTrigger()"),
            Trigger::AfterWatermark { early, late } => {
                let mut q = Vec::new();
                if let Some(e) = early {
                    q.push(format!("early={e}"));
                }
                if let Some(l) = late {
                    q.push(format!("late={l}"));
                }
                write!(f, "AfterWatermark({})", q.join(", "))
            }
            Trigger::AfterProcessingTime { delay, align } => {
                write!(f, "AfterProcessingTime(delay={})", seconds(*delay))?;
                if let Some((period, offset)) = align {
                    write!(f, ".aligned_to({}, {})", seconds(*period), seconds(*offset))?;
                }
                Ok(())
            }
            Trigger::AfterSynchronizedProcessingTime => write!(f, "AfterSynchronizedProcessingTime()"),
            Trigger::AfterCount(n) => write!(f, "AfterCount({n})"),
            Trigger::Repeatedly(t) => write!(f, "Repeatedly({t})"),
            Trigger::AfterAny(ts) => list(f, "AfterAny", ts),
            Trigger::AfterAll(ts) => list(f, "AfterAll", ts),
            Trigger::AfterEach(ts) => list(f, "AfterEach", ts),
            Trigger::OrFinally(t, u) => write!(f, "OrFinally({t}, {u})"),
            Trigger::Never => write!(f, "Never"),
            Trigger::Always => write!(f, "Always"),
        }
    }
}

fn seconds(micros: i64) -> String {
    if micros % 1_000_000 == 0 {
        format!("{}s", micros / 1_000_000)
    } else {
        format!("{}s", micros as f64 / 1e6)
    }
}

/// How the panes of one window relate.
///
/// # Examples
/// ```
/// use beamline::AccumulationMode;
/// assert_eq!(AccumulationMode::default(), AccumulationMode::Discarding);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccumulationMode {
    /// Each pane holds only what arrived since the previous one.
    #[default]
    Discarding,
    /// Each pane holds everything of the window so far.
    Accumulating,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_processing_time_rounds_up_to_the_period() {
        let s = |x: i64| Timestamp::from_micros(x * 1_000_000);
        let due = |now: i64, delay: i64, align| Trigger::processing_due(delay * 1_000_000, align, s(now));
        assert_eq!(due(12, 0, Some((10_000_000, 0))), s(20));
        assert_eq!(due(20, 0, Some((10_000_000, 0))), s(20));
        assert_eq!(due(12, 5, Some((10_000_000, 3_000_000))), s(23));
        assert_eq!(due(12, 5, None), s(17));
    }

    #[test]
    fn continuations_follow_beam() {
        let t = Trigger::after_watermark()
            .with_early_firings(Trigger::after_processing_time(Duration::from_secs(5)))
            .with_late_firings(Trigger::after_count(3));
        assert_eq!(
            t.continuation(),
            Trigger::after_watermark()
                .with_early_firings(Trigger::AfterSynchronizedProcessingTime)
                .with_late_firings(Trigger::after_count(1))
        );
    }

    #[test]
    fn after_each_continues_as_repeatedly_after_any() {
        // Beam's Python and Java SDKs: after a grouping, any step may fire, forever.
        let t = Trigger::after_each(vec![Trigger::after_count(2), Trigger::after_count(5)]);
        assert_eq!(
            t.continuation(),
            Trigger::repeatedly(Trigger::after_any(vec![Trigger::after_count(1), Trigger::after_count(1)]))
        );
    }

    #[test]
    fn data_loss_as_beam_judges_it() {
        assert_eq!(Trigger::after_watermark().data_loss_reason(0), None);
        assert_eq!(Trigger::after_watermark().data_loss_reason(10), Some("MAY_FINISH"));
        assert_eq!(Trigger::after_count(2).data_loss_reason(0), Some("MAY_FINISH"));
        assert_eq!(Trigger::repeatedly(Trigger::after_count(2)).data_loss_reason(0), None);
        assert_eq!(Trigger::Default.data_loss_reason(5), None);
        assert!(Trigger::after_count(0).validate().is_err());
        assert_eq!(Trigger::after_any(vec![Trigger::after_watermark()]).data_loss_reason(0), None);
        assert_eq!(Trigger::after_all(vec![Trigger::after_count(1), Trigger::Never]).data_loss_reason(0), None);
        assert_eq!(Trigger::Never.or_finally(Trigger::after_count(1)).data_loss_reason(0), Some("MAY_FINISH"));
    }
}
