//! Builds one worker's timely dataflow from an execution plan.
//!
//! Every PCollection becomes a timely stream of [`Msg`]s (whole batches) whose
//! timestamps are watermarks: a batch travels at the time its producer's
//! watermark had when it was sent, so a stream's frontier is its PCollection's
//! watermark. Bounded sources send at the minimum time and close their
//! frontier when done; GroupByKey and combine states fire the windows the
//! frontier has passed, and everything left when it is empty.
//!
//! Element-wise steps read their input in place (the pipeline pact, no copy,
//! no encoding). Shuffles route each batch by the fixed key hash to the worker
//! owning the key (`hash % peers`); lifted combines pre-combine each bundle
//! before that. Side inputs are broadcast to every worker and read once complete.

use crate::msg::{route, Msg, Topology};
use crate::stop::Stop;
use crate::Config;
use beamline::batch::BatchCodec;
use beamline::exec::{
    CombinePhase, DoFnInvoker, Executable, GroupState, Outputs, ParDoExec, ReadStatus, SideInputView, UnboundedReader,
};
use beamline::metrics::{MetricResults, MetricsContainer};
use beamline::plan::ExecutionPlan;
use beamline::{Batch, Error, Result, Timestamp, WindowFn, WindowedValue};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::generic::OutputBuilder;
use timely::dataflow::operators::{Capability, Concatenate, Probe};
use timely::dataflow::{ProbeHandle, Scope, Stream};
use timely::progress::frontier::MutableAntichain;

/// Timely time: event time in microseconds, as a watermark.
pub(crate) type Time = i64;
type S<'s> = Stream<'s, Time, Vec<Msg>>;
type Out = OutputBuilder<Time, CapacityContainerBuilder<Vec<Msg>>>;
/// A grouping step's count of dropped late elements, by its label.
pub(crate) type LateCounter = (String, Rc<Cell<i64>>);
/// A DoFn instance, kept where the worker can tear it down at the end of the run.
pub(crate) type InvokerCell = Rc<RefCell<Option<Box<dyn DoFnInvoker>>>>;

/// What the workers of one process share: the first error and the metrics.
#[derive(Default)]
pub(crate) struct Shared {
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
    pub(crate) metrics: Mutex<MetricResults>,
}

impl Shared {
    /// Records a failure; only the first is kept, and every worker stops.
    pub(crate) fn fail(&self, e: Error) {
        if !self.failed.swap(true, Ordering::AcqRel) {
            *self.error.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
        }
    }

    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    pub(crate) fn take_error(&self) -> Option<Error> {
        self.error.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// One worker's view of the run.
pub(crate) struct WorkerCtx {
    pub(crate) plan: Arc<ExecutionPlan>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) topology: Topology,
    pub(crate) index: usize,
    pub(crate) cfg: Config,
    /// Every DoFn instance of this worker, by plan node.
    pub(crate) invokers: Rc<RefCell<Vec<(usize, InvokerCell)>>>,
    /// When unbounded sources stop reading.
    pub(crate) stop: Stop,
    /// Elements each grouping step dropped for arriving too late, by label.
    pub(crate) dropped_late: Rc<RefCell<Vec<LateCounter>>>,
}

impl WorkerCtx {
    /// Adds the worker's own metrics (late drops) to `metrics`.
    pub(crate) fn merge_own_metrics(&self, metrics: &mut MetricResults) {
        for (label, dropped) in self.dropped_late.borrow().iter() {
            if dropped.get() > 0 {
                let mut m = MetricsContainer::default();
                m.inc_counter(DROPPED_LATE, dropped.get());
                metrics.merge(label, m);
            }
        }
    }
}

/// The counter of a GroupByKey (or combine) step: elements dropped because
/// their window had closed longer ago than the allowed lateness.
pub(crate) const DROPPED_LATE: &str = "dropped_due_to_lateness";

fn runner_error(message: impl std::fmt::Display) -> Error {
    Error::Runner { runner: "timely".into(), message: message.to_string() }
}

/// Runs operator logic, turning a panic outside guarded user code (a key's
/// `Hash`, say) into the run's error instead of a hung worker.
fn guarded(shared: &Shared, label: &str, f: impl FnOnce() -> Result<()>) {
    let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(runner_error(format!("step '{label}' panicked: {message}")))
    });
    if let Err(e) = result {
        shared.fail(e);
    }
}

/// A watermark as the SDK's timestamp.
pub(crate) fn event_time(t: Time) -> Timestamp {
    Timestamp::from_micros(t.clamp(Timestamp::MIN.as_micros(), Timestamp::MAX.as_micros()))
}

/// Builds the plan into `scope`; the probe's frontier is empty once every
/// step of every worker is done.
pub(crate) fn build<'s>(scope: Scope<'s, Time>, ctx: &WorkerCtx) -> Result<ProbeHandle<Time>> {
    let plan = &ctx.plan;
    let mut streams: Vec<Option<S<'s>>> = vec![None; plan.pcollections.len()];
    let mut broadcasts: Vec<Option<S<'s>>> = vec![None; plan.pcollections.len()];
    let probe = ProbeHandle::new();
    let input = |streams: &[Option<S<'s>>], p: usize, label: &str| {
        streams[p].clone().ok_or_else(|| runner_error(format!("step '{label}' reads a PCollection not produced yet")))
    };
    for (i, node) in plan.nodes.iter().enumerate() {
        let label = node.label.as_str();
        let outputs: Vec<S<'s>> = match &node.exec {
            Executable::Impulse => {
                let mut emitted = ctx.index != 0;
                vec![source(scope, ctx, label, move |emit| {
                    if !emitted {
                        emitted = true;
                        emit(Batch::new(vec![WindowedValue::in_global(())]))?;
                    }
                    Ok(false)
                })]
            }
            Executable::Read(src) => {
                let parts = ctx.topology.peers * ctx.cfg.splits;
                let mut mine: Vec<_> = src
                    .split(parts)?
                    .into_iter()
                    .enumerate()
                    .filter(|(k, _)| k % ctx.topology.peers == ctx.index)
                    .map(|(_, s)| s)
                    .collect();
                mine.reverse();
                vec![source(scope, ctx, label, move |emit| match mine.pop() {
                    Some(mut split) => {
                        split.read(emit)?;
                        Ok(!mine.is_empty())
                    }
                    None => Ok(false),
                })]
            }
            Executable::ReadUnbounded(src) => {
                let peers = ctx.topology.peers;
                let mine: Vec<_> = src
                    .split(peers)?
                    .into_iter()
                    .enumerate()
                    .filter(|(k, _)| k % peers == ctx.index)
                    .map(|(_, r)| r)
                    .collect();
                vec![unbounded_source(scope, ctx, label, mine)]
            }
            Executable::Flatten => {
                let ins = node.inputs.iter().map(|&p| input(&streams, p, label)).collect::<Result<Vec<_>>>()?;
                vec![scope.concatenate(ins)]
            }
            Executable::ParDo(pardo) => {
                let main = input(&streams, node.inputs[0], label)?;
                let mut sides = Vec::new();
                for &s in &node.side_inputs {
                    if broadcasts[s].is_none() {
                        let codec = plan.pcollections[s].codec.clone();
                        let peers = ctx.topology.peers;
                        let topology = ctx.topology;
                        let stream = input(&streams, s, label)?;
                        broadcasts[s] = Some(shuffle(scope, ctx, label, stream, move |batches, _, send| {
                            for batch in batches {
                                for target in 0..peers {
                                    send(route(target, batch.clone(), &codec, &topology)?);
                                }
                            }
                            Ok(())
                        }));
                    }
                    sides.push(input(&broadcasts, s, label)?);
                }
                par_do(scope, ctx, i, pardo.clone(), main, sides)
            }
            Executable::GroupByKey(g) => {
                let stream = input(&streams, node.inputs[0], label)?;
                let (g2, codec, topology) = (g.clone(), plan.pcollections[node.inputs[0]].codec.clone(), ctx.topology);
                let routed = shuffle(scope, ctx, label, stream, move |batches, _, send| {
                    for batch in batches {
                        for (target, part) in g2.partition(batch, topology.peers)?.into_iter().enumerate() {
                            if !part.is_empty() {
                                send(route(target, part, &codec, &topology)?);
                            }
                        }
                    }
                    Ok(())
                });
                let codec = plan.pcollections[node.inputs[0]].codec.clone();
                vec![group(scope, ctx, i, routed, g.new_state(), codec)]
            }
            Executable::CombinePerKey(c) => {
                let stream = input(&streams, node.inputs[0], label)?;
                let (c2, topology, max_keys) = (c.clone(), ctx.topology, ctx.cfg.precombine_keys);
                let codec = c.accumulator_codec();
                let wire = codec.clone();
                let lateness = plan.pcollections[node.inputs[0]].windowing.allowed_lateness;
                let dropped = late_counter(ctx, label);
                let routed = shuffle(scope, ctx, label, stream, move |batches, watermark, send| {
                    // One bundle: pre-combine it, ship the accumulators by key.
                    let mut table = c2.new_state(CombinePhase::Precombine);
                    let ship = |table: &mut Box<dyn GroupState>, send: &mut dyn FnMut(Msg)| -> Result<()> {
                        let accumulators = table.fire(Timestamp::MAX)?;
                        for (target, part) in c2.partition(accumulators, topology.peers)?.into_iter().enumerate() {
                            if !part.is_empty() {
                                send(route(target, part, &wire, &topology)?);
                            }
                        }
                        Ok(())
                    };
                    for mut batch in batches {
                        // Late input is dropped before it is pre-combined, so
                        // the counter counts elements, not accumulators.
                        if watermark > Timestamp::MIN {
                            let late = batch.extract_windows(&|w| w.max_timestamp().plus_micros(lateness) < watermark);
                            dropped.set(dropped.get() + late.len() as i64);
                        }
                        table.add(batch)?;
                        if table.len() >= max_keys {
                            ship(&mut table, send)?;
                        }
                    }
                    ship(&mut table, send)
                });
                vec![group(scope, ctx, i, routed, c.new_state(CombinePhase::Merge), codec)]
            }
        };
        if outputs.len() != node.outputs.len() {
            return Err(runner_error(format!(
                "step '{label}' built {} outputs, expected {}",
                outputs.len(),
                node.outputs.len()
            )));
        }
        for (&p, s) in node.outputs.iter().zip(outputs) {
            streams[p] = Some(s.probe_with(&probe));
        }
    }
    Ok(probe)
}

/// The late-data counter of a grouping step (one per step and worker).
fn late_counter(ctx: &WorkerCtx, label: &str) -> Rc<Cell<i64>> {
    let mut counters = ctx.dropped_late.borrow_mut();
    if let Some((_, c)) = counters.iter().find(|(l, _)| l == label) {
        return c.clone();
    }
    let c: Rc<Cell<i64>> = Rc::default();
    counters.push((label.to_string(), c.clone()));
    c
}

/// A source operator: `read(emit)` is called once per activation until it
/// returns false (nothing left), handing batches to `emit`.
fn source<'s>(
    scope: Scope<'s, Time>,
    ctx: &WorkerCtx,
    label: &str,
    mut read: impl FnMut(&mut dyn FnMut(Batch) -> Result<()>) -> Result<bool> + 'static,
) -> S<'s> {
    let mut b = OperatorBuilder::new(label.to_string(), scope);
    let (out, stream) = b.new_output::<Vec<Msg>>();
    let mut out: Out = OutputBuilder::from(out);
    let activator = scope.activator_for(b.operator_info().address);
    let shared = ctx.shared.clone();
    let label = label.to_string();
    b.build(move |mut caps| {
        let mut cap = caps.pop();
        move |_frontiers: &[MutableAntichain<Time>]| {
            if shared.failed() {
                cap = None;
            }
            let Some(c) = cap.as_ref() else { return };
            let mut more = false;
            guarded(&shared, &label, || {
                more = read(&mut |batch| {
                    out.activate().session(c).give(Msg::local(0, batch));
                    Ok(())
                })?;
                Ok(())
            });
            if more && !shared.failed() {
                activator.activate();
            } else {
                cap = None;
            }
        }
    });
    stream
}

/// An unbounded source: each activation advances every reader once, sends
/// what they read at the current watermark, then moves the watermark (the
/// operator's capability) to the smallest of the readers'. It closes when
/// every reader is done or the run is told to stop (a drain).
fn unbounded_source<'s>(
    scope: Scope<'s, Time>,
    ctx: &WorkerCtx,
    label: &str,
    mut readers: Vec<Box<dyn UnboundedReader>>,
) -> S<'s> {
    let mut b = OperatorBuilder::new(label.to_string(), scope);
    let (out, stream) = b.new_output::<Vec<Msg>>();
    let mut out: Out = OutputBuilder::from(out);
    let activator = scope.activator_for(b.operator_info().address);
    let (shared, stop) = (ctx.shared.clone(), ctx.stop);
    let label = label.to_string();
    b.build(move |mut caps| {
        let mut cap = caps.pop();
        move |_frontiers: &[MutableAntichain<Time>]| {
            let Some(c) = cap.as_mut() else { return };
            let (mut more, mut idle) = (false, Duration::from_millis(100));
            guarded(&shared, &label, || {
                for reader in readers.iter_mut().filter(|r| r.watermark() < Timestamp::MAX) {
                    let status = reader.advance(&mut |batch| {
                        out.activate().session(&*c).give(Msg::local(0, batch));
                        Ok(())
                    })?;
                    match status {
                        ReadStatus::More => more = true,
                        ReadStatus::Idle(d) => idle = idle.min(d),
                        ReadStatus::Done => {}
                    }
                }
                Ok(())
            });
            let watermark = readers.iter().map(|r| r.watermark()).min().unwrap_or(Timestamp::MAX);
            if shared.failed() || watermark >= Timestamp::MAX || stop.should_stop(watermark) {
                cap = None;
                return;
            }
            if watermark.as_micros() > *c.time() {
                c.downgrade(&watermark.as_micros());
            }
            // Come back at once while there is more; otherwise when the
            // readers expect more, and often enough to notice a stop.
            if more {
                activator.activate();
            } else {
                activator.activate_after(idle);
            }
        }
    });
    stream
}

/// A routing operator: for each bundle (the batches of one timestamp), `send`
/// hands messages, each bound for `msg.target`, to the exchange that follows.
fn shuffle<'s>(
    scope: Scope<'s, Time>,
    ctx: &WorkerCtx,
    label: &str,
    stream: S<'s>,
    mut bundle: impl FnMut(Vec<Batch>, Timestamp, &mut dyn FnMut(Msg)) -> Result<()> + 'static,
) -> S<'s> {
    let mut b = OperatorBuilder::new(format!("{label}/Route"), scope);
    let mut input = b.new_input(stream, Pipeline);
    let (out, routed) = b.new_output::<Vec<Msg>>();
    let mut out: Out = OutputBuilder::from(out);
    let shared = ctx.shared.clone();
    let label = label.to_string();
    b.build(move |_caps| {
        move |_frontiers: &[MutableAntichain<Time>]| {
            input.for_each_stamp(|cap, data| {
                // The watermark the batches were sent at: what their lateness is judged by.
                let watermark = cap.least().map_or(Timestamp::MIN, |&t| event_time(t));
                let msgs: Vec<Msg> = data.flat_map(|d| d.drain(..)).collect();
                if shared.failed() {
                    return;
                }
                guarded(&shared, &label, || {
                    let batches = msgs.into_iter().map(|m| m.into_local()).collect::<Result<Vec<_>>>()?;
                    let mut out = out.activate();
                    let mut session = out.session(&cap);
                    bundle(batches, watermark, &mut |m| session.give(m))
                });
            });
        }
    });
    routed.exchange_by_target()
}

trait ExchangeByTarget<'s> {
    fn exchange_by_target(self) -> S<'s>;
}

impl<'s> ExchangeByTarget<'s> for S<'s> {
    /// A no-op operator whose input is exchanged by each message's target.
    fn exchange_by_target(self) -> S<'s> {
        let scope = self.scope();
        let mut b = OperatorBuilder::new("Exchange".to_string(), scope);
        let mut input = b.new_input(self, Exchange::new(|m: &Msg| m.target));
        let (out, stream) = b.new_output::<Vec<Msg>>();
        let mut out: Out = OutputBuilder::from(out);
        b.build(move |_caps| {
            move |_frontiers: &[MutableAntichain<Time>]| {
                input.for_each(|cap, data| {
                    out.activate().session(&cap).give_container(data);
                });
            }
        });
        stream
    }
}

impl Msg {
    /// The batch of a message that never left its process (pipelined edges).
    fn into_local(self) -> Result<Batch> {
        match self.payload {
            crate::msg::Payload::Local(b) => Ok(b),
            crate::msg::Payload::Encoded(_) => Err(runner_error("an encoded batch on a pipelined edge")),
        }
    }
}

/// A grouping operator after an exchange: adds what arrives to `state` and
/// fires the windows the input frontier (the watermark) has passed.
fn group<'s>(
    scope: Scope<'s, Time>,
    ctx: &WorkerCtx,
    node: usize,
    routed: S<'s>,
    mut state: Box<dyn GroupState>,
    codec: Arc<dyn BatchCodec>,
) -> S<'s> {
    let label = ctx.plan.nodes[node].label.as_str();
    let lateness = ctx.plan.pcollections[ctx.plan.nodes[node].inputs[0]].windowing.allowed_lateness;
    let dropped = late_counter(ctx, label);
    let mut b = OperatorBuilder::new(label.to_string(), scope);
    let mut input = b.new_input(routed, Pipeline);
    let (out, stream) = b.new_output::<Vec<Msg>>();
    let mut out: Out = OutputBuilder::from(out);
    let shared = ctx.shared.clone();
    let label = label.to_string();
    b.build(move |mut caps| {
        let mut cap = caps.pop();
        move |frontiers: &[MutableAntichain<Time>]| {
            let mut arrived = Vec::new();
            input.for_each(|cap, data| {
                let sent_at = cap.least().map_or(Timestamp::MIN, |&t| event_time(t));
                arrived.extend(data.drain(..).map(|m| (sent_at, m)));
            });
            if shared.failed() {
                cap = None;
                return;
            }
            let Some(c) = cap.as_mut() else { return };
            let mut done = false;
            guarded(&shared, &label, || {
                // Late data: an element whose window had closed longer than the
                // allowed lateness before the watermark it was sent at is
                // dropped. (This step fires at most at that watermark, so what
                // it keeps never reopens a window closed for good.)
                for (sent_at, m) in arrived {
                    let mut batch = m.into_batch(codec.as_ref())?;
                    if sent_at > Timestamp::MIN {
                        let late = batch.extract_windows(&|w| w.max_timestamp().plus_micros(lateness) < sent_at);
                        dropped.set(dropped.get() + late.len() as i64);
                    }
                    state.add(batch)?;
                }
                let (watermark, next) = match frontiers[0].frontier().first() {
                    None => (Timestamp::MAX, None),
                    Some(&t) if t > *c.time() => (event_time(t), Some(t)),
                    Some(_) => return Ok(()),
                };
                // The panes fired are sent at the watermark of the previous
                // firing, which is at or before the end of their windows (a
                // watermark hold): downstream they are on time, not late.
                let fired = state.fire(watermark)?;
                if !fired.is_empty() {
                    out.activate().session(&*c).give(Msg::local(0, fired));
                }
                match next {
                    Some(t) => c.downgrade(&t),
                    None => done = true,
                }
                Ok(())
            });
            if done || shared.failed() {
                cap = None;
            }
        }
    });
    stream
}

/// A ParDo: runs each bundle (the batches of one timestamp in one activation)
/// through one DoFn instance; holds input back until its side inputs are complete.
fn par_do<'s>(
    scope: Scope<'s, Time>,
    ctx: &WorkerCtx,
    node: usize,
    pardo: Arc<dyn ParDoExec>,
    main: S<'s>,
    sides: Vec<S<'s>>,
) -> Vec<S<'s>> {
    let plan_node = &ctx.plan.nodes[node];
    let label = plan_node.label.clone();
    let mut b = OperatorBuilder::new(label.clone(), scope);
    let mut main_in = b.new_input(main, Pipeline);
    let mut side_ins: Vec<_> = sides.into_iter().map(|s| b.new_input(s, Pipeline)).collect();
    let (mut outs, streams): (Vec<Out>, Vec<S<'s>>) = (0..plan_node.outputs.len())
        .map(|_| {
            let (o, s) = b.new_output::<Vec<Msg>>();
            (OutputBuilder::from(o), s)
        })
        .unzip();
    let side_codecs: Vec<Arc<dyn BatchCodec>> =
        plan_node.side_inputs.iter().map(|&s| ctx.plan.pcollections[s].codec.clone()).collect();
    // How long after a main window's end a side input's window for it can still
    // be open: none can be read before its side input is complete for it.
    let side_reach: Option<i64> = plan_node
        .side_inputs
        .iter()
        .map(|&s| match ctx.plan.pcollections[s].windowing.window_fn {
            WindowFn::Fixed { size, .. } | WindowFn::Sliding { size, .. } => Some(size),
            // Global (and merging) side windows are complete only at the end.
            WindowFn::Global | WindowFn::Sessions { .. } => None,
        })
        .try_fold(0i64, |reach, r| r.map(|r| reach.max(r)));
    let cell: InvokerCell = Rc::default();
    ctx.invokers.borrow_mut().push((node, cell.clone()));
    let shared = ctx.shared.clone();
    let mut side_contents: Vec<Vec<Batch>> = vec![Vec::new(); side_codecs.len()];
    let mut views: Option<Vec<SideInputView>> = side_codecs.is_empty().then(Vec::new);
    let mut complete = side_codecs.is_empty();
    // The side inputs' watermark when `views` were prepared.
    let mut views_at = Timestamp::MIN;
    let mut held: Vec<(Vec<Capability<Time>>, Vec<Batch>)> = Vec::new();
    let ports = plan_node.outputs.len();
    b.build(move |_caps| {
        move |frontiers: &[MutableAntichain<Time>]| {
            let mut arrived: Vec<(Vec<Capability<Time>>, Vec<Msg>)> = Vec::new();
            main_in.for_each_stamp(|cap, data| {
                let caps = (0..ports).filter_map(|port| cap.retain_least(port)).collect();
                arrived.push((caps, data.flat_map(|d| d.drain(..)).collect()));
            });
            let mut side_arrived: Vec<(usize, Msg)> = Vec::new();
            for (k, side) in side_ins.iter_mut().enumerate() {
                side.for_each(|_cap, data| side_arrived.extend(data.drain(..).map(|m| (k, m))));
            }
            if shared.failed() {
                held.clear();
                return;
            }
            guarded(&shared, &label, || {
                for (caps, msgs) in arrived {
                    held.push((caps, msgs.into_iter().map(Msg::into_local).collect::<Result<_>>()?));
                }
                let side_news = !side_arrived.is_empty();
                for (k, m) in side_arrived {
                    side_contents[k].push(m.into_batch(side_codecs[k].as_ref())?);
                }
                let side_watermark = frontiers[1..]
                    .iter()
                    .map(|f| f.frontier().first().map_or(Timestamp::MAX, |&t| event_time(t)))
                    .min()
                    .unwrap_or(Timestamp::MAX);
                if !complete && side_watermark >= Timestamp::MAX {
                    // Every side input is complete: the final views, once.
                    let mut prepared = Vec::with_capacity(side_contents.len());
                    for (k, contents) in side_contents.iter_mut().enumerate() {
                        prepared.push(pardo.prepare_side_input(k, std::mem::take(contents))?);
                    }
                    views = Some(prepared);
                    complete = true;
                }
                if complete {
                    let Some(views) = views.as_ref() else { return Ok(()) };
                    for (caps, batches) in held.drain(..) {
                        run_bundle(&cell, pardo.as_ref(), views, &mut outs, &caps, batches, &label)?;
                    }
                    return Ok(());
                }
                // Unbounded side inputs: a main element is processed once the
                // side inputs' watermark has passed every side window it may read.
                let Some(reach) = side_reach else { return Ok(()) };
                if held.is_empty() || side_watermark <= Timestamp::MIN {
                    return Ok(());
                }
                if views.is_none() || (side_news || side_watermark > views_at) {
                    let mut prepared = Vec::with_capacity(side_contents.len());
                    for (k, contents) in side_contents.iter().enumerate() {
                        prepared.push(pardo.prepare_side_input(k, contents.clone())?);
                    }
                    views = Some(prepared);
                    views_at = side_watermark;
                }
                let Some(views) = views.as_ref() else { return Ok(()) };
                let ready = |w: &beamline::Window| w.max_timestamp().plus_micros(reach) < side_watermark;
                for (caps, batches) in held.iter_mut() {
                    let now: Vec<Batch> =
                        batches.iter_mut().map(|b| b.extract_windows(&ready)).filter(|b| !b.is_empty()).collect();
                    batches.retain(|b| !b.is_empty());
                    if !now.is_empty() {
                        run_bundle(&cell, pardo.as_ref(), views, &mut outs, caps, now, &label)?;
                    }
                }
                held.retain(|(_, batches)| !batches.is_empty());
                Ok(())
            });
        }
    });
    streams
}

/// One bundle through the DoFn: set up on first use, start, process every
/// batch (output streams on as it is emitted), finish.
fn run_bundle(
    cell: &InvokerCell,
    pardo: &dyn ParDoExec,
    views: &[SideInputView],
    outs: &mut [Out],
    caps: &[Capability<Time>],
    batches: Vec<Batch>,
    label: &str,
) -> Result<()> {
    let mut slot = cell.borrow_mut();
    let invoker = match slot.as_mut() {
        Some(invoker) => invoker,
        None => {
            let mut invoker = pardo.instantiate();
            invoker.setup()?;
            slot.insert(invoker)
        }
    };
    invoker.start_bundle()?;
    let mut sink = |port: usize, batch: Batch| -> Result<()> {
        match (outs.get_mut(port), caps.get(port)) {
            (Some(out), Some(cap)) => {
                out.activate().session(cap).give(Msg::local(0, batch));
                Ok(())
            }
            _ => Err(runner_error(format!("step '{label}' emitted to output {port}, which it does not have"))),
        }
    };
    for batch in batches {
        invoker.process_owned(batch, views, &mut Outputs::streaming(caps.len(), &mut sink))?;
    }
    invoker.finish_bundle(&mut Outputs::streaming(caps.len(), &mut sink))
}
