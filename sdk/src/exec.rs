//! The runner contract: type-erased executable nodes.
//!
//! The SDK lowers every primitive to an [`Executable`], built where element
//! types are still known. Runners schedule, partition and move [`Batch`]es
//! between them without knowing any `T`. The traits here are all a runner
//! needs: sources that split, DoFn invokers that process whole batches, and
//! group-by-key state that fires when the watermark passes a window.

use crate::batch::{Batch, BatchCodec};
use crate::error::Result;
use crate::graph::PCollectionNode;
use crate::metrics::MetricsContainer;
use crate::time::Timestamp;
use std::any::Any;
use std::sync::Arc;

/// A primitive, ready to run.
///
/// Runners match on these few shapes only: a new keyed primitive (a
/// grouping, a lifted combine, a stateful ParDo) is one more [`KeyedExec`],
/// not one more variant every runner must learn.
#[derive(Clone)]
pub enum Executable {
    /// Emits a single `()` element in the global window.
    Impulse,
    /// Reads a bounded source.
    Read(Arc<dyn BoundedSource>),
    /// Reads an unbounded source: readers that report a watermark.
    ReadUnbounded(Arc<dyn UnboundedSource>),
    /// Element-wise processing (ParDo, and WindowInto, which re-windows elements).
    ParDo(Arc<dyn ParDoExec>),
    /// Concatenates its inputs.
    Flatten,
    /// A step over keyed input: the runner routes every element to the
    /// worker owning its key group, where one [`KeyedOperator`] per worker
    /// processes it and is driven by the input watermark (GroupByKey, a lifted
    /// `CombinePerKey`, a stateful ParDo).
    Keyed(Arc<dyn KeyedExec>),
}

impl std::fmt::Debug for Executable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Executable::Impulse => "Impulse",
            Executable::Read(_) => "Read",
            Executable::ReadUnbounded(_) => "ReadUnbounded",
            Executable::ParDo(_) => "ParDo",
            Executable::Flatten => "Flatten",
            Executable::Keyed(_) => "Keyed",
        })
    }
}

/// A finite source that can split itself into parts read independently.
pub trait BoundedSource: Send + Sync {
    /// Splits into about `desired` parts (at least one).
    fn split(&self, desired: usize) -> Result<Vec<Box<dyn SourceSplit>>>;
}

/// One part of a bounded source.
pub trait SourceSplit: Send {
    /// Reads the part, handing batches to `emit`.
    fn read(&mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<()>;
}

/// A source that may never end: split into readers, each reading what is
/// available now and telling how far event time has come (its watermark).
pub trait UnboundedSource: Send + Sync {
    /// Splits into about `desired` readers (at least one).
    fn split(&self, desired: usize) -> Result<Vec<Box<dyn UnboundedReader>>>;
}

/// What an [`UnboundedReader`] asks of the runner after reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatus {
    /// More is available now: call again soon.
    More,
    /// Nothing more is available before this long has passed.
    Idle(std::time::Duration),
    /// The reader has read everything it ever will.
    Done,
}

/// One part of an unbounded source.
pub trait UnboundedReader: Send {
    /// Reads what is available now, a bounded amount at a time, handing batches to `emit`.
    fn advance(&mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<ReadStatus>;
    /// Elements read later have event times at or after this (late elements
    /// excepted); [`Timestamp::MAX`] once done.
    fn watermark(&self) -> Timestamp;
    /// For a reader that drives the runner's processing-time clock (a
    /// TestStream): the processing time it has advanced to. Runners then use
    /// it instead of the wall clock.
    fn processing_time(&self) -> Option<Timestamp> {
        None
    }
    /// Whether each `advance` may run only once the pipeline has finished
    /// everything the previous one caused (a TestStream, as Beam requires).
    fn one_event_at_a_time(&self) -> bool {
        false
    }
}

/// Reads an unbounded reader to its end as one bounded part (waiting while it
/// is idle): how a runner that does not track watermarks reads a source that ends.
pub fn read_to_end(reader: Box<dyn UnboundedReader>) -> Box<dyn SourceSplit> {
    struct ToEnd(Box<dyn UnboundedReader>);
    impl SourceSplit for ToEnd {
        fn read(&mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<()> {
            loop {
                match self.0.advance(emit)? {
                    ReadStatus::More => {}
                    ReadStatus::Idle(d) => std::thread::sleep(d),
                    ReadStatus::Done => return Ok(()),
                }
            }
        }
    }
    Box::new(ToEnd(reader))
}

/// A ParDo's executable: makes DoFn invokers and prepares side inputs.
pub trait ParDoExec: Send + Sync {
    /// A fresh invoker (a clone of the user's DoFn, not yet set up).
    fn instantiate(&self) -> Box<dyn DoFnInvoker>;
    /// Turns the complete contents of side input `index` into its view, once;
    /// the view is shared read-only by every invoker.
    fn prepare_side_input(&self, index: usize, contents: Vec<Batch>) -> Result<SideInputView>;
    /// Number of outputs (main first, then tagged outputs in declaration order).
    fn output_count(&self) -> usize;
}

/// A prepared side input (its type is known only to the ParDo that reads it).
#[derive(Clone)]
pub struct SideInputView(pub(crate) Arc<dyn Any + Send + Sync>);

impl SideInputView {
    /// Wraps a prepared view (for a [`ParDoExec`] written outside the SDK).
    pub fn new(view: Arc<dyn Any + Send + Sync>) -> Self {
        SideInputView(view)
    }
    /// The view, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

/// Where an invoker's output goes: buffered per output index, or handed to a
/// runner's sink as soon as a batch is full (a streaming fused stage, so a DoFn
/// that emits many elements per input never holds them all at once).
#[derive(Default)]
pub struct Outputs<'s> {
    batches: Vec<Vec<Batch>>,
    sink: Option<&'s mut dyn FnMut(usize, Batch) -> Result<()>>,
}

impl std::fmt::Debug for Outputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs").field("batches", &self.batches).field("streaming", &self.sink.is_some()).finish()
    }
}

impl<'s> Outputs<'s> {
    /// Buffers for `n` outputs.
    pub fn new(n: usize) -> Self {
        Outputs { batches: (0..n).map(|_| Vec::new()).collect(), sink: None }
    }
    /// `n` outputs whose batches go straight to `sink(output index, batch)`.
    pub fn streaming(n: usize, sink: &'s mut dyn FnMut(usize, Batch) -> Result<()>) -> Self {
        Outputs { batches: (0..n).map(|_| Vec::new()).collect(), sink: Some(sink) }
    }
    /// Whether batches go to a sink as they are pushed.
    pub fn is_streaming(&self) -> bool {
        self.sink.is_some()
    }
    /// Adds a batch to output `index` (empty batches are dropped); a
    /// streaming sink's error comes back here.
    pub fn push(&mut self, index: usize, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        match &mut self.sink {
            Some(sink) => sink(index, batch),
            None => {
                if let Some(b) = self.batches.get_mut(index) {
                    b.push(batch);
                }
                Ok(())
            }
        }
    }
    /// Takes everything buffered for output `index`.
    pub fn take(&mut self, index: usize) -> Vec<Batch> {
        self.batches.get_mut(index).map(std::mem::take).unwrap_or_default()
    }
    /// Number of outputs.
    pub fn len(&self) -> usize {
        self.batches.len()
    }
    /// Whether there is no output.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}

/// One live instance of a DoFn, driven through its lifecycle by a runner.
///
/// Errors from user code come back as [`crate::Error::UserCode`] naming the
/// step and the element; panics in user code are caught and reported the same way.
pub trait DoFnInvoker: Send {
    /// Calls the DoFn's `setup`.
    fn setup(&mut self) -> Result<()>;
    /// Calls `start_bundle`.
    fn start_bundle(&mut self) -> Result<()>;
    /// Processes every element of `input`.
    fn process(&mut self, input: &Batch, sides: &[SideInputView], out: &mut Outputs<'_>) -> Result<()>;
    /// Processes every element of `input`, which the runner gives up: a DoFn
    /// that moves its input (see [`crate::DoFn::MOVES_INPUT`]) takes the
    /// elements by value. The default calls `process`.
    fn process_owned(&mut self, input: Batch, sides: &[SideInputView], out: &mut Outputs<'_>) -> Result<()> {
        self.process(&input, sides, out)
    }
    /// Calls `finish_bundle`, which may emit.
    fn finish_bundle(&mut self, out: &mut Outputs<'_>) -> Result<()>;
    /// Calls `teardown`. Runners call it once the run has ended (after a
    /// failure too), never while other steps of the run may still work with
    /// what this instance produced (file sinks clean up their temporary files here).
    fn teardown(&mut self) -> Result<()>;
    /// Takes the metrics recorded since the last call.
    fn take_metrics(&mut self) -> MetricsContainer;
}

/// A keyed step's executable (see [`Executable::Keyed`]).
pub trait KeyedExec: Send + Sync {
    /// Fresh operator for the key groups one worker owns.
    fn operator(&self) -> Box<dyn KeyedOperator>;
    /// Splits a batch of what crosses the shuffle into `parts` batches by key
    /// group: part `i` holds the keys whose group [`crate::KeyGroups`] gives to worker `i`.
    fn partition(&self, batch: Batch, parts: usize) -> Result<Vec<Batch>>;
    /// A lifted combine's pre-shuffle phase: a table that adds `(K, In)`
    /// inputs and fires `(K, Acc)` accumulators, which are then shuffled
    /// instead of the inputs. `None` for steps that shuffle their input as is.
    fn precombine(&self) -> Option<Box<dyn GroupState>> {
        None
    }
    /// Encodes what crosses the shuffle when it is not the input itself
    /// (a lifted combine's accumulators); `None`: the input's codec.
    fn shuffle_codec(&self) -> Option<Arc<dyn BatchCodec>> {
        None
    }
}

/// One worker's part of a keyed step: its groups, accumulators or keyed state
/// and timers, for the key groups routed to it.
///
/// The runner hands it input with the watermark the input was sent at (what
/// lateness is judged by), and tells it when the input watermark or the
/// processing-time clock advances; it emits what became due. Its output
/// watermark is the input watermark held back by [`KeyedOperator::hold`].
pub trait KeyedOperator: Send {
    /// Adds input sent while the watermark was `watermark` and the
    /// processing time is `now`; elements of windows expired by then (past
    /// the allowed lateness) are dropped and counted. A stateful ParDo emits
    /// as it processes. Windows fire only by [`advance`](Self::advance):
    /// the runner advances the operator to its input watermark first (the
    /// watermark one sender saw may be ahead of the step's input watermark).
    fn add(&mut self, batch: Batch, watermark: Timestamp, now: Timestamp, out: &mut Outputs<'_>) -> Result<()>;
    /// The input watermark is now `watermark` and the processing time `now`:
    /// fires the windows and timers that became due, in timestamp order.
    fn advance(&mut self, watermark: Timestamp, now: Timestamp, out: &mut Outputs<'_>) -> Result<()>;
    /// The earliest timestamp it may still emit at, beyond what the input
    /// watermark allows (a timer's output timestamp): the output watermark
    /// waits for it.
    fn hold(&self) -> Option<Timestamp> {
        None
    }
    /// When the next processing-time timer is due, if one is set.
    fn next_wakeup(&self) -> Option<Timestamp> {
        None
    }
    /// Number of outputs.
    fn output_count(&self) -> usize {
        1
    }
    /// Calls user code's `teardown`, once the run has ended.
    fn teardown(&mut self) -> Result<()> {
        Ok(())
    }
    /// Takes the metrics recorded since the last call (late drops included).
    fn take_metrics(&mut self) -> MetricsContainer;
}

/// Buffered elements of a grouping or a combine phase, per key and window.
pub trait GroupState: Send {
    /// Adds elements.
    fn add(&mut self, batch: Batch) -> Result<()>;
    /// Emits the groups of every window whose end the watermark has passed
    /// (after merging windows, for sessions) and forgets them; windows are
    /// indexed by their end, so a firing that finds nothing due costs nothing.
    fn fire(&mut self, watermark: Timestamp) -> Result<Batch>;
    /// How many groups (keys in windows) it holds: a runner flushes a
    /// pre-combine table that grows too large.
    fn len(&self) -> usize;
    /// Whether it holds nothing.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The phase of a lifted combine a [`GroupState`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CombinePhase {
    /// Adds `(K, In)` inputs to one accumulator per key and window; fires
    /// `(K, Acc)` accumulators (compacted), to be shuffled.
    Precombine,
    /// Merges `(K, Acc)` accumulators; fires `(K, Out)`.
    Merge,
    /// Adds `(K, In)` inputs; fires `(K, Out)` (no shuffle in between).
    Full,
}

/// What a node builder gets from the graph.
#[derive(Debug)]
pub struct BuildContext<'a> {
    /// The step's label.
    pub label: &'a str,
    /// The step's payload.
    pub payload: &'a serde_json::Value,
    /// Main inputs.
    pub inputs: Vec<&'a PCollectionNode>,
    /// Side inputs.
    pub side_inputs: Vec<&'a PCollectionNode>,
    /// Outputs.
    pub outputs: Vec<&'a PCollectionNode>,
    /// True when the graph came from a file: builders must then use the
    /// payload, not state captured when the pipeline was built in code.
    pub from_file: bool,
}

/// Rebuilds an executable node from its graph entry.
pub type NodeBuilder = Arc<dyn Fn(&BuildContext<'_>) -> Result<Executable> + Send + Sync>;
