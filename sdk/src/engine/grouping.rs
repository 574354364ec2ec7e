//! Keyed, windowed grouping as a keyed operator: late data dropped by the
//! allowed lateness, windows fired as the watermark passes them.

use crate::batch::Batch;
use crate::engine::DROPPED_LATE;
use crate::error::Result;
use crate::exec::{GroupState, KeyedOperator, Outputs};
use crate::metrics::MetricsContainer;
use crate::time::Timestamp;

/// A GroupByKey's (or a lifted combine's merge phase's) operator over its
/// [`GroupState`].
pub(crate) struct Grouping {
    state: Box<dyn GroupState>,
    lateness: i64,
    dropped: i64,
    fired_to: Timestamp,
}

impl Grouping {
    pub(crate) fn new(state: Box<dyn GroupState>, allowed_lateness: i64) -> Self {
        Grouping { state, lateness: allowed_lateness, dropped: 0, fired_to: Timestamp::MIN }
    }
}

/// Drops (and counts into `dropped`) the elements of windows that had expired
/// when the watermark was `watermark`.
pub(crate) fn drop_late(batch: &mut Batch, watermark: Timestamp, lateness: i64, dropped: &mut i64) {
    if watermark > Timestamp::MIN {
        let late = batch.extract_windows(&|w| w.max_timestamp().plus_micros(lateness) < watermark);
        *dropped += late.len() as i64;
    }
}

impl KeyedOperator for Grouping {
    fn add(&mut self, mut batch: Batch, watermark: Timestamp, _now: Timestamp, _out: &mut Outputs<'_>) -> Result<()> {
        // What this step keeps never reopens a window it fired for good: it
        // fires at most at the watermark the input was sent at.
        drop_late(&mut batch, watermark, self.lateness, &mut self.dropped);
        self.state.add(batch)
    }

    fn advance(&mut self, watermark: Timestamp, _now: Timestamp, out: &mut Outputs<'_>) -> Result<()> {
        if watermark <= self.fired_to {
            return Ok(());
        }
        self.fired_to = watermark;
        let fired = self.state.fire(watermark)?;
        out.push(0, fired)
    }

    fn take_metrics(&mut self) -> MetricsContainer {
        let mut m = MetricsContainer::default();
        if self.dropped > 0 {
            m.inc_counter(DROPPED_LATE, std::mem::take(&mut self.dropped));
        }
        m
    }
}
