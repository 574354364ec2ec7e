//! `GenerateSequence`: an unbounded source of numbered elements with event
//! times, at a target rate, optionally out of order and late; for tests,
//! examples and benchmarks of streaming pipelines.

use crate::batch::Batch;
use crate::element::WindowedValue;
use crate::error::{Error, Result};
use crate::exec::{Executable, NodeBuilder, ReadStatus, UnboundedReader, UnboundedSource};
use crate::pipeline::{PBegin, PCollection, PTransform, Primitive};
use crate::time::Timestamp;
use crate::window::{Window, WindowingStrategy};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Elements a reader hands over per call.
const BATCH: u64 = 4096;

/// Generates `0, 1, 2, ...` as an unbounded PCollection of `u64`.
///
/// Element `i` has the event time `start + i × spacing`, moved back by up to
/// the out-of-orderness bound (a deterministic jitter from the seed) and, for
/// every `late_every`-th element, by a further `late_by` (late data). The
/// watermark follows Beam's bounded-out-of-orderness policy: the largest event
/// time seen minus the bound, so only the deliberately late elements arrive
/// behind it. With a `rate`, elements are paced in processing time; with a
/// `count`, the source ends (and its watermark reaches the end of time) after
/// that many elements. Everything is deterministic but the pacing.
///
/// # Examples
/// ```
/// use beamline::io::GenerateSequence;
/// use beamline::prelude::*;
/// use std::time::Duration;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let events = p.apply(
///     GenerateSequence::new().count(10).event_times(Timestamp::from_secs(0), Duration::from_secs(1)),
/// );
/// let evens = events.apply(Filter::new(|n: &u64| n % 2 == 0));
/// assert_that(&evens, contains_in_any_order(vec![0u64, 2, 4, 6, 8]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
#[derive(Debug, Clone)]
pub struct GenerateSequence {
    spec: Spec,
}

/// The generator's settings: its payload in the portable graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Spec {
    count: Option<u64>,
    /// Elements per second over all readers; 0: as fast as possible.
    rate: f64,
    start: i64,
    spacing: i64,
    out_of_order: i64,
    late_every: u64,
    late_by: i64,
    seed: u64,
}

impl Default for GenerateSequence {
    fn default() -> Self {
        Self::new()
    }
}

impl GenerateSequence {
    /// Endless, unpaced, in order, one element per millisecond of event time from 0.
    pub fn new() -> Self {
        GenerateSequence {
            spec: Spec {
                count: None,
                rate: 0.0,
                start: 0,
                spacing: 1000,
                out_of_order: 0,
                late_every: 0,
                late_by: 0,
                seed: 0,
            },
        }
    }

    /// Ends after `n` elements.
    pub fn count(mut self, n: u64) -> Self {
        self.spec.count = Some(n);
        self
    }

    /// Paces the elements at `per_second` in processing time (0: unpaced).
    pub fn rate(mut self, per_second: f64) -> Self {
        self.spec.rate = if per_second.is_finite() { per_second.max(0.0) } else { 0.0 };
        self
    }

    /// Element `i`'s event time is `start + i × spacing` (before jitter).
    pub fn event_times(mut self, start: Timestamp, spacing: Duration) -> Self {
        self.spec.start = start.as_micros();
        self.spec.spacing = crate::time::duration_micros(spacing);
        self
    }

    /// Moves each event time back by a deterministic jitter of up to `max`;
    /// the watermark trails the largest event time seen by `max`.
    pub fn out_of_order(mut self, max: Duration) -> Self {
        self.spec.out_of_order = crate::time::duration_micros(max);
        self
    }

    /// Makes every `every`-th element late: its event time moves back by `by`
    /// (beyond the out-of-orderness bound, so behind the watermark).
    pub fn late(mut self, every: u64, by: Duration) -> Self {
        self.spec.late_every = every;
        self.spec.late_by = crate::time::duration_micros(by);
        self
    }

    /// The seed of the jitter.
    pub fn seed(mut self, seed: u64) -> Self {
        self.spec.seed = seed;
        self
    }
}

impl Spec {
    fn event_time(&self, i: u64) -> Timestamp {
        let base = self.start.saturating_add((i as i64).saturating_mul(self.spacing));
        let jitter = match self.out_of_order {
            0 => 0,
            bound => (mix(self.seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) % (bound as u64 + 1)) as i64,
        };
        let late = if self.late_every > 0 && i % self.late_every == self.late_every - 1 { self.late_by } else { 0 };
        Timestamp::from_micros(base.saturating_sub(jitter).saturating_sub(late))
    }
}

/// SplitMix64's finalizer: a fixed, well-spread hash of a number.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl PTransform<PBegin> for GenerateSequence {
    type Output = PCollection<u64>;

    fn default_label(&self) -> String {
        "GenerateSequence".into()
    }

    fn expand(self, input: PBegin) -> PCollection<u64> {
        let p = input.root().clone();
        let out = p.new_output::<u64>("out", false, WindowingStrategy::default());
        let spec = self.spec;
        let payload = crate::graph::to_payload(&spec).unwrap_or_default();
        let builder: NodeBuilder = Arc::new(move |ctx| {
            let spec = if ctx.from_file {
                crate::graph::from_payload::<Spec>(ctx.payload)
                    .map_err(|e| Error::graph(ctx.label, format!("bad GenerateSequence payload: {e}")))?
            } else {
                spec.clone()
            };
            Ok(Executable::ReadUnbounded(Arc::new(Generator { spec: Arc::new(spec), started: Arc::default() })))
        });
        p.set_primitive(Primitive::read("generate_sequence".into(), payload, out.id(), builder));
        out
    }
}

struct Generator {
    spec: Arc<Spec>,
    /// The pacing clock, shared by every reader of every split of this
    /// source in the process (a runner's workers split it separately).
    started: Arc<OnceLock<Instant>>,
}

impl UnboundedSource for Generator {
    fn split(&self, desired: usize) -> Result<Vec<Box<dyn UnboundedReader>>> {
        let n = desired.max(1) as u64;
        // One clock for every reader: element i is due at start + i / rate,
        // however the runner schedules the readers.
        let started = self.started.clone();
        Ok((0..n)
            .map(|k| {
                Box::new(GeneratorReader {
                    spec: self.spec.clone(),
                    next: k,
                    stride: n,
                    started: started.clone(),
                    max_seen: None,
                }) as Box<dyn UnboundedReader>
            })
            .collect())
    }
}

/// Reads elements `k, k + n, k + 2n, ...` of the sequence.
struct GeneratorReader {
    spec: Arc<Spec>,
    next: u64,
    stride: u64,
    started: Arc<OnceLock<Instant>>,
    max_seen: Option<Timestamp>,
}

impl GeneratorReader {
    fn done(&self) -> bool {
        self.spec.count.is_some_and(|c| self.next >= c)
    }
}

impl UnboundedReader for GeneratorReader {
    fn advance(&mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<ReadStatus> {
        if self.done() {
            return Ok(ReadStatus::Done);
        }
        let started = *self.started.get_or_init(Instant::now);
        // Elements with an index below `due` are due now.
        let due =
            if self.spec.rate > 0.0 { (started.elapsed().as_secs_f64() * self.spec.rate) as u64 + 1 } else { u64::MAX };
        let end = self.spec.count.unwrap_or(u64::MAX).min(due);
        let mut batch = Vec::new();
        while self.next < end && (batch.len() as u64) < BATCH {
            let timestamp = self.spec.event_time(self.next);
            self.max_seen = Some(self.max_seen.map_or(timestamp, |m| m.max(timestamp)));
            batch.push(WindowedValue { value: self.next, timestamp, window: Window::Global, pane: Default::default() });
            self.next = self.next.saturating_add(self.stride);
        }
        if !batch.is_empty() {
            emit(Batch::new(batch))?;
        }
        if self.done() {
            return Ok(ReadStatus::Done);
        }
        if self.next < due {
            return Ok(ReadStatus::More);
        }
        let next_due = Duration::from_secs_f64(self.next as f64 / self.spec.rate);
        Ok(ReadStatus::Idle(next_due.saturating_sub(started.elapsed()).max(Duration::from_micros(100))))
    }

    fn watermark(&self) -> Timestamp {
        if self.done() {
            return Timestamp::MAX;
        }
        match self.max_seen {
            Some(m) => m.plus_micros(-self.spec.out_of_order),
            None => Timestamp::MIN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(reader: &mut dyn UnboundedReader) -> Vec<(u64, i64)> {
        let mut out = Vec::new();
        loop {
            let status = reader
                .advance(&mut |b| {
                    out.extend(b.downcast::<u64>()?.into_iter().map(|v| (v.value, v.timestamp.as_micros())));
                    Ok(())
                })
                .unwrap();
            if status == ReadStatus::Done {
                return out;
            }
        }
    }

    #[test]
    fn readers_partition_the_sequence_and_end_at_the_count() {
        let g = Generator { spec: Arc::new(GenerateSequence::new().count(10).spec), started: Arc::default() };
        let mut all: Vec<u64> = Vec::new();
        for mut r in g.split(3).unwrap() {
            all.extend(read_all(r.as_mut()).into_iter().map(|(v, _)| v));
            assert_eq!(r.watermark(), Timestamp::MAX);
        }
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn only_late_elements_fall_behind_the_watermark() {
        let spec = GenerateSequence::new()
            .count(5000)
            .out_of_order(Duration::from_millis(5))
            .late(100, Duration::from_secs(1))
            .seed(7)
            .spec;
        let mut r =
            Generator { spec: Arc::new(spec.clone()), started: Arc::default() }.split(1).unwrap().pop().unwrap();
        let mut watermark = Timestamp::MIN;
        let (mut late, mut jittered) = (0, 0);
        loop {
            let mut seen = Vec::new();
            let status = r
                .advance(&mut |b| {
                    seen.extend(b.downcast::<u64>()?.into_iter().map(|v| (v.value, v.timestamp)));
                    Ok(())
                })
                .unwrap();
            for (i, ts) in seen {
                if ts < watermark {
                    assert_eq!(i % 100, 99, "element {i} is late but not meant to be");
                    late += 1;
                }
                if ts.as_micros() != i as i64 * 1000 {
                    jittered += 1;
                }
            }
            if status == ReadStatus::Done {
                break;
            }
            watermark = r.watermark();
        }
        assert!(late > 0 && jittered > 1000, "late {late}, jittered {jittered}");
        assert_eq!(
            spec.event_time(3),
            GenerateSequence::new().out_of_order(Duration::from_millis(5)).seed(7).spec.event_time(3)
        );
    }

    #[test]
    fn a_rate_paces_the_elements() {
        let spec = GenerateSequence::new().rate(10.0).spec;
        let mut r = Generator { spec: Arc::new(spec), started: Arc::default() }.split(1).unwrap().pop().unwrap();
        let mut n = 0;
        let status = r
            .advance(&mut |b| {
                n += b.len();
                Ok(())
            })
            .unwrap();
        // At 10 per second only the first element is due at once.
        assert_eq!(n, 1);
        assert!(matches!(status, ReadStatus::Idle(d) if d > Duration::ZERO), "{status:?}");
    }
}
