//! `TestStream`: an unbounded source whose elements, watermark and processing
//! time a test scripts, event by event (Beam's `TestStream`).

use crate::batch::Batch;
use crate::element::{Element, WindowedValue};
use crate::error::{Error, Result};
use crate::exec::{Executable, NodeBuilder, ReadStatus, UnboundedReader, UnboundedSource};
use crate::pipeline::{PBegin, PCollection, PTransform, Primitive};
use crate::plan::capabilities;
use crate::time::{duration_micros, Timestamp};
use crate::window::{Window, WindowingStrategy};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One scripted event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "T: Serialize + DeserializeOwned")]
enum Event<T> {
    Elements(Vec<(T, Timestamp)>),
    Watermark(Timestamp),
    ProcessingTime(i64),
}

/// A scripted unbounded source for tests.
///
/// Events are applied in order, each only after the pipeline has finished
/// everything the previous one caused (as Beam requires). Elements added
/// without a timestamp get the current watermark's. The runner's
/// processing-time clock starts at the epoch and moves only by
/// `advance_processing_time`. When the events run out, the watermark goes to
/// the end of time. It runs on the direct runner; other runners refuse it
/// unless they declare the `test_stream` capability.
///
/// # Examples
/// ```
/// use beamline::io::TestStream;
/// use beamline::prelude::*;
/// use std::time::Duration;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let stream = TestStream::new()
///     .add_elements_at(vec![(1i64, Timestamp::from_secs(1)), (2, Timestamp::from_secs(2))])
///     .advance_watermark_to(Timestamp::from_secs(20))
///     // Late: its window [0, 10) closed when the watermark passed 10s.
///     .add_elements_at(vec![(3i64, Timestamp::from_secs(3))])
///     .advance_watermark_to_infinity();
/// let sums = p
///     .apply(stream)
///     .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
///     .apply(Combine::globally(Sum::<i64>::new()).without_defaults());
/// assert_that(&sums, contains_in_any_order(vec![3i64]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
#[derive(Debug, Clone)]
pub struct TestStream<T> {
    events: Vec<Event<T>>,
    watermark: Timestamp,
    problem: Option<String>,
}

impl<T: Element> Default for TestStream<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Element> TestStream<T> {
    /// An empty script.
    pub fn new() -> Self {
        TestStream { events: Vec::new(), watermark: Timestamp::MIN, problem: None }
    }

    /// Adds elements stamped with the current watermark.
    pub fn add_elements(self, values: Vec<T>) -> Self {
        let ts = self.watermark;
        self.add_elements_at(values.into_iter().map(|v| (v, ts)).collect())
    }

    /// Adds elements with their timestamps.
    pub fn add_elements_at(mut self, values: Vec<(T, Timestamp)>) -> Self {
        self.events.push(Event::Elements(values));
        self
    }

    /// Advances the watermark; it must strictly move forward.
    pub fn advance_watermark_to(mut self, to: Timestamp) -> Self {
        if to <= self.watermark {
            self.problem.get_or_insert_with(|| {
                format!("Watermark must strictly-monotonically advance: {to:?} after {:?}", self.watermark)
            });
        }
        self.watermark = to;
        self.events.push(Event::Watermark(to));
        self
    }

    /// Advances the runner's processing-time clock by `by` (which must be positive).
    pub fn advance_processing_time(mut self, by: std::time::Duration) -> Self {
        let micros = duration_micros(by);
        if micros <= 0 {
            self.problem.get_or_insert_with(|| "Must advance processing time by positive amount.".to_string());
        }
        self.events.push(Event::ProcessingTime(micros));
        self
    }

    /// Advances the watermark to the end of time: nothing more will come.
    pub fn advance_watermark_to_infinity(self) -> Self {
        self.advance_watermark_to(Timestamp::MAX)
    }
}

impl<T: Element> PTransform<PBegin> for TestStream<T> {
    type Output = PCollection<T>;

    fn default_label(&self) -> String {
        "TestStream".into()
    }

    fn expand(self, input: PBegin) -> PCollection<T> {
        let p = input.root().clone();
        let label = p.current_label();
        if let Some(problem) = &self.problem {
            p.fail(Error::Construction(format!("'{label}': {problem}")));
        }
        let out = p.new_output::<T>("out", false, WindowingStrategy::default());
        let payload = match crate::graph::to_payload(&self.events) {
            Ok(v) => v,
            Err(e) => {
                p.fail(Error::Construction(format!("'{label}': cannot serialize the TestStream's elements: {e}")));
                serde_json::Value::Null
            }
        };
        let events = Arc::new(self.events);
        let builder: NodeBuilder = Arc::new(move |ctx| {
            let events = if ctx.from_file {
                Arc::new(
                    crate::graph::from_payload::<Vec<Event<T>>>(ctx.payload)
                        .map_err(|e| Error::graph(ctx.label, format!("bad TestStream payload: {e}")))?,
                )
            } else {
                events.clone()
            };
            Ok(Executable::ReadUnbounded(Arc::new(Script { events })))
        });
        let mut read =
            Primitive::read(format!("test_stream:{}", std::any::type_name::<T>()), payload, out.id(), builder);
        read.requirements.push(capabilities::TEST_STREAM.to_string());
        p.set_primitive(read);
        out
    }
}

struct Script<T> {
    events: Arc<Vec<Event<T>>>,
}

impl<T: Element> UnboundedSource for Script<T> {
    fn split(&self, _desired: usize) -> Result<Vec<Box<dyn UnboundedReader>>> {
        // One reader: the script is one sequence of events.
        Ok(vec![Box::new(Player {
            events: self.events.clone(),
            next: 0,
            watermark: Timestamp::MIN,
            clock: Timestamp::from_micros(0),
        })])
    }
}

struct Player<T> {
    events: Arc<Vec<Event<T>>>,
    next: usize,
    watermark: Timestamp,
    clock: Timestamp,
}

impl<T: Element> UnboundedReader for Player<T> {
    fn advance(&mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<ReadStatus> {
        let Some(event) = self.events.get(self.next) else {
            self.watermark = Timestamp::MAX;
            return Ok(ReadStatus::Done);
        };
        self.next += 1;
        match event {
            Event::Elements(values) => {
                let batch: Vec<WindowedValue<T>> = values
                    .iter()
                    .map(|(v, ts)| WindowedValue {
                        value: v.clone(),
                        timestamp: *ts,
                        window: Window::Global,
                        pane: Default::default(),
                    })
                    .collect();
                emit(Batch::new(batch))?;
            }
            Event::Watermark(w) => self.watermark = self.watermark.max(*w),
            Event::ProcessingTime(by) => self.clock = self.clock.plus_micros(*by),
        }
        if self.next >= self.events.len() {
            self.watermark = Timestamp::MAX;
            return Ok(ReadStatus::Done);
        }
        Ok(ReadStatus::More)
    }

    fn watermark(&self) -> Timestamp {
        self.watermark
    }

    fn processing_time(&self) -> Option<Timestamp> {
        Some(self.clock)
    }

    fn one_event_at_a_time(&self) -> bool {
        true
    }
}
