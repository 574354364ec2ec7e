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
//! no encoding). Keyed steps route each batch by key group to the worker
//! owning it (contiguous ranges of groups per worker); lifted combines
//! pre-combine each bundle before that. Side inputs are broadcast to every
//! worker. The model's logic (DoFn lifecycles, side-input readiness,
//! pre-combining, grouping, state and timers) is the SDK's engine: this file
//! maps it onto timely's operators, frontiers and capabilities.

use crate::msg::{route, Msg, Topology};
use crate::stop::Stop;
use crate::Config;
use beamline::batch::BatchCodec;
use beamline::engine::{self, catch_panic, run_bundle, InvokerPool, Precombiner, SideInputs};
use beamline::exec::{Executable, KeyedOperator, Outputs, ParDoExec, ReadStatus, UnboundedReader};
use beamline::metrics::MetricResults;
use beamline::plan::ExecutionPlan;
use beamline::{Batch, Error, Result, Timestamp, WindowedValue};
use std::cell::RefCell;
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

use crate::time::sent_at;
pub(crate) use crate::time::Time;
type S<'s> = Stream<'s, Time, Vec<Msg>>;
type Out = OutputBuilder<Time, CapacityContainerBuilder<Vec<Msg>>>;
/// A keyed operator, kept where the worker can tear it down at the end of the run.
pub(crate) type KeyedCell = Rc<RefCell<Option<Box<dyn KeyedOperator>>>>;

/// What a worker tears down and takes metrics from when the run ends.
pub(crate) enum Finisher {
    /// A ParDo's instances.
    Pool(Arc<InvokerPool>),
    /// A keyed step's operator.
    Keyed(KeyedCell),
    /// Late input a lifted combine dropped before pre-combining it.
    DroppedLate(Rc<std::cell::Cell<i64>>),
}

/// What the workers of one process share: the first error and the metrics.
#[derive(Default)]
pub(crate) struct Shared {
    failed: AtomicBool,
    /// A TestStream's processing-time clock, in microseconds, once it has one.
    test_clock: std::sync::atomic::AtomicI64,
    has_test_clock: AtomicBool,
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

    /// The processing time: a TestStream's clock if the pipeline has one, else the wall clock.
    pub(crate) fn now(&self) -> Timestamp {
        if self.has_test_clock.load(Ordering::Acquire) {
            Timestamp::from_micros(self.test_clock.load(Ordering::Acquire))
        } else {
            engine::wall_clock()
        }
    }

    fn set_test_clock(&self, t: Timestamp) {
        self.test_clock.fetch_max(t.as_micros(), Ordering::AcqRel);
        self.has_test_clock.store(true, Ordering::Release);
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
    /// What to tear down at the end of the run, by plan node.
    pub(crate) finishers: Rc<RefCell<Vec<(usize, Finisher)>>>,
    /// When unbounded sources stop reading.
    pub(crate) stop: Stop,
}

impl WorkerCtx {
    /// Tears down every DoFn and keyed operator of this worker and adds
    /// their metrics to `metrics`; returns the first teardown failure.
    pub(crate) fn finish(&self, metrics: &mut MetricResults) -> Result<()> {
        let mut first = None;
        for (node, f) in self.finishers.borrow_mut().drain(..) {
            let label = &self.plan.nodes[node].label;
            let torn = match f {
                Finisher::Pool(pool) => {
                    let torn = pool.teardown();
                    metrics.merge(label, pool.take_metrics());
                    torn
                }
                Finisher::Keyed(cell) => match cell.borrow_mut().take() {
                    Some(mut op) => {
                        let torn = op.teardown();
                        metrics.merge(label, op.take_metrics());
                        torn
                    }
                    None => Ok(()),
                },
                Finisher::DroppedLate(n) => {
                    if n.get() > 0 {
                        let mut m = beamline::metrics::MetricsContainer::default();
                        m.inc_counter(engine::DROPPED_LATE, n.get());
                        metrics.merge(label, m);
                    }
                    Ok(())
                }
            };
            if let Err(e) = torn {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

fn runner_error(message: impl std::fmt::Display) -> Error {
    Error::Runner { runner: "timely".into(), message: message.to_string() }
}

/// Runs operator logic, turning a panic outside guarded user code (a key's
/// `Hash`, say) into the run's error instead of a hung worker.
fn guarded(shared: &Shared, label: &str, f: impl FnOnce() -> Result<()>) {
    if let Err(e) = catch_panic("timely", label, f) {
        shared.fail(e);
    }
}

/// The watermark of a frontier: the least over its times; `MAX` once it is empty.
fn frontier_watermark(f: &MutableAntichain<Time>) -> Timestamp {
    Time::meet(f.frontier().iter()).map_or(Timestamp::MAX, |t| t.watermark())
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
                vec![unbounded_source(scope, ctx, label, mine, probe.clone())]
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
            Executable::Keyed(exec) => {
                let stream = input(&streams, node.inputs[0], label)?;
                let in_codec = plan.pcollections[node.inputs[0]].codec.clone();
                let wire = exec.shuffle_codec().unwrap_or(in_codec);
                let lateness = plan.pcollections[node.inputs[0]].windowing.allowed_lateness;
                let dropped: Rc<std::cell::Cell<i64>> = Rc::default();
                ctx.finishers.borrow_mut().push((i, Finisher::DroppedLate(dropped.clone())));
                let (exec2, codec, topology, max_keys) =
                    (exec.clone(), wire.clone(), ctx.topology, ctx.cfg.precombine_keys);
                let routed = shuffle(scope, ctx, label, stream, move |batches, watermark, send| {
                    // One bundle: pre-combined (a lifted combine), then routed by key group.
                    let mut ship = |target: usize, part: Batch| -> Result<()> {
                        send(route(target, part, &codec, &topology)?);
                        Ok(())
                    };
                    match Precombiner::new(&exec2, lateness, max_keys) {
                        Some(mut pre) => {
                            for batch in batches {
                                pre.add(batch, watermark, topology.peers, &mut ship)?;
                            }
                            pre.flush(topology.peers, &mut ship)?;
                            dropped.set(dropped.get() + pre.take_dropped());
                        }
                        None => {
                            for batch in batches {
                                for (target, part) in exec2.partition(batch, topology.peers)?.into_iter().enumerate() {
                                    if !part.is_empty() {
                                        ship(target, part)?;
                                    }
                                }
                            }
                        }
                    }
                    Ok(())
                });
                vec![keyed(scope, ctx, i, routed, exec.operator(), wire)?]
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
    probe: ProbeHandle<Time>,
) -> S<'s> {
    let mut b = OperatorBuilder::new(label.to_string(), scope);
    let (out, stream) = b.new_output::<Vec<Msg>>();
    let mut out: Out = OutputBuilder::from(out);
    let activator = scope.activator_for(b.operator_info().address);
    let (shared, stop) = (ctx.shared.clone(), ctx.stop);
    let label = label.to_string();
    let paced = readers.iter().any(|r| r.one_event_at_a_time());
    // A TestStream's clock is the processing time from the start.
    if let Some(t) = readers.iter().filter_map(|r| r.processing_time()).max() {
        ctx.shared.set_test_clock(t);
    }
    b.build(move |mut caps| {
        let mut cap = caps.pop();
        move |_frontiers: &[MutableAntichain<Time>]| {
            let Some(c) = cap.as_mut() else { return };
            let (mut more, mut idle) = (false, Duration::from_millis(100));
            // A TestStream applies its next event only once the dataflow has
            // finished everything its previous one caused: everything before
            // the step this source moved to after it.
            let step = c.time().step();
            if paced && probe.with_frontier(|f| f.iter().any(|t| t.step() < step)) {
                activator.activate_after(Duration::from_millis(1));
                return;
            }
            guarded(&shared, &label, || {
                for reader in readers.iter_mut().filter(|r| r.watermark() < Timestamp::MAX) {
                    let status = reader.advance(&mut |batch| {
                        out.activate().session(&*c).give(Msg::local(0, batch));
                        Ok(())
                    })?;
                    if let Some(t) = reader.processing_time() {
                        shared.set_test_clock(t);
                    }
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
            // A TestStream moves one step on after each event: the probe
            // passes that step once what the event caused is done.
            let next = Time::new(watermark, if paced { step + 1 } else { step }).join(c.time());
            if next != *c.time() {
                c.downgrade(&next);
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
                let watermark = sent_at(&cap).map_or(Timestamp::MIN, |t| t.watermark());
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

/// A keyed step after its exchange: hands what arrives to the engine's
/// operator with the watermark it was sent at, and advances it with the
/// input frontier and the clock. Output goes out at the capability it holds:
/// the previous frontier (a watermark hold, so fired panes are on time
/// downstream), never later than the operator's own hold (timers' output
/// timestamps).
fn keyed<'s>(
    scope: Scope<'s, Time>,
    ctx: &WorkerCtx,
    node: usize,
    routed: S<'s>,
    op: Box<dyn KeyedOperator>,
    codec: Arc<dyn BatchCodec>,
) -> Result<S<'s>> {
    let label = ctx.plan.nodes[node].label.clone();
    if op.output_count() != 1 {
        return Err(runner_error(format!("step '{label}': keyed steps with several outputs are not supported")));
    }
    let cell: KeyedCell = Rc::new(RefCell::new(Some(op)));
    ctx.finishers.borrow_mut().push((node, Finisher::Keyed(cell.clone())));
    let mut b = OperatorBuilder::new(label.clone(), scope);
    let mut input = b.new_input(routed, Pipeline);
    let (out, stream) = b.new_output::<Vec<Msg>>();
    let mut out: Out = OutputBuilder::from(out);
    let activator = scope.activator_for(b.operator_info().address);
    let shared = ctx.shared.clone();
    b.build(move |mut caps| {
        let mut cap = caps.pop();
        move |frontiers: &[MutableAntichain<Time>]| {
            let mut arrived = Vec::new();
            input.for_each(|cap, data| {
                let sent_at = sent_at(&cap).map_or(Timestamp::MIN, |t| t.watermark());
                arrived.extend(data.drain(..).map(|m| (sent_at, m)));
            });
            if shared.failed() {
                cap = None;
                return;
            }
            let Some(c) = cap.as_mut() else { return };
            let mut done = false;
            guarded(&shared, &label, || {
                let mut slot = cell.borrow_mut();
                let Some(op) = slot.as_mut() else { return Ok(()) };
                let mut sink = |_port: usize, batch: Batch| -> Result<()> {
                    out.activate().session(&*c).give(Msg::local(0, batch));
                    Ok(())
                };
                // The frontier is at most the time of every batch that arrived
                // in this activation: what it made due fires first, so an
                // element is judged against the windows as they stand at the
                // input watermark it arrived behind (its own sender's may be
                // ahead of another's).
                let frontier = Time::meet(frontiers[0].frontier().iter());
                let watermark = frontier.map_or(Timestamp::MAX, |t| t.watermark());
                if !arrived.is_empty() {
                    op.advance(watermark, shared.now(), &mut Outputs::streaming(1, &mut sink))?;
                }
                for (sent_at, m) in arrived {
                    let now = shared.now();
                    op.add(m.into_batch(codec.as_ref())?, sent_at, now, &mut Outputs::streaming(1, &mut sink))?;
                }
                let now = shared.now();
                op.advance(watermark, now, &mut Outputs::streaming(1, &mut sink))?;
                match (frontier, op.hold()) {
                    (None, None) => done = true,
                    (f, hold) => {
                        // The frontier's step, but its watermark held back by timers.
                        let f = f.unwrap_or(Time::new(Timestamp::MAX, c.time().step()));
                        let next = f.held_at(hold).join(c.time());
                        if next != *c.time() {
                            c.downgrade(&next);
                        }
                    }
                }
                if let Some(at) = op.next_wakeup() {
                    let wait = (at.as_micros() - now.as_micros()).clamp(0, 100_000) as u64;
                    activator.activate_after(Duration::from_micros(wait));
                }
                Ok(())
            });
            if done || shared.failed() {
                cap = None;
            }
        }
    });
    Ok(stream)
}

/// A ParDo: runs each bundle (the batches of one timestamp in one
/// activation) through an instance from the step's pool. With side inputs,
/// main input waits in the engine's [`SideInputs`] until the side windows it
/// reads are complete, holding a capability no later than the input
/// frontier and the held elements' timestamps.
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
    let pool = Arc::new(InvokerPool::new(pardo.clone()));
    ctx.finishers.borrow_mut().push((node, Finisher::Pool(pool.clone())));
    let mut side_state = (!side_codecs.is_empty()).then(|| {
        let fns = plan_node.side_inputs.iter().map(|&s| ctx.plan.pcollections[s].windowing.window_fn).collect();
        let lateness = ctx.plan.pcollections[plan_node.inputs[0]].windowing.allowed_lateness;
        SideInputs::new(pardo.clone(), fns, lateness)
    });
    // While main input is held: capabilities (one per output) to emit it at.
    let mut held_caps: Vec<Capability<Time>> = Vec::new();
    let shared = ctx.shared.clone();
    let ports = plan_node.outputs.len();
    b.build(move |_caps| {
        move |frontiers: &[MutableAntichain<Time>]| {
            let mut arrived: Vec<(Vec<Capability<Time>>, Vec<Msg>)> = Vec::new();
            main_in.for_each_stamp(|cap, data| {
                let caps =
                    sent_at(&cap).map_or_else(Vec::new, |t| (0..ports).map(|port| cap.delayed(&t, port)).collect());
                arrived.push((caps, data.flat_map(|d| d.drain(..)).collect()));
            });
            let mut side_arrived: Vec<(usize, Msg)> = Vec::new();
            for (k, side) in side_ins.iter_mut().enumerate() {
                side.for_each(|_cap, data| side_arrived.extend(data.drain(..).map(|m| (k, m))));
            }
            if shared.failed() {
                held_caps.clear();
                return;
            }
            guarded(&shared, &label, || {
                let Some(sides) = side_state.as_mut() else {
                    for (caps, msgs) in arrived {
                        let batches = msgs.into_iter().map(Msg::into_local).collect::<Result<Vec<_>>>()?;
                        emit_bundle(&pool, batches, &[], &mut outs, &caps, &label)?;
                    }
                    return Ok(());
                };
                for (caps, msgs) in arrived {
                    if held_caps.is_empty() {
                        held_caps = caps;
                    }
                    for m in msgs {
                        sides.hold(m.into_local()?);
                    }
                }
                for (k, m) in side_arrived {
                    sides.add_side(k, m.into_batch(side_codecs[k].as_ref())?);
                }
                for (k, f) in frontiers[1..].iter().enumerate() {
                    sides.set_watermark(k, frontier_watermark(f));
                }
                let main_frontier = Time::meet(frontiers[0].frontier().iter());
                let main_watermark = main_frontier.map_or(Timestamp::MAX, |t| t.watermark());
                if let Some((views, ready)) = sides.take_ready(main_watermark)? {
                    emit_bundle(&pool, ready, &views, &mut outs, &held_caps, &label)?;
                }
                if !sides.has_held() {
                    held_caps.clear();
                } else if let Some(h) = sides.held_min_timestamp() {
                    // The output watermark waits for held input, no longer.
                    // Its step follows the frontier, so a TestStream goes on.
                    let f = main_frontier.unwrap_or(Time::new(Timestamp::MAX, u32::MAX));
                    for c in held_caps.iter_mut() {
                        let next = f.held_at(Some(h)).join(c.time());
                        if next != *c.time() {
                            c.downgrade(&next);
                        }
                    }
                }
                Ok(())
            });
        }
    });
    streams
}

/// One bundle through the step's instances; output goes out at `caps`.
fn emit_bundle(
    pool: &InvokerPool,
    batches: Vec<Batch>,
    views: &[beamline::exec::SideInputView],
    outs: &mut [Out],
    caps: &[Capability<Time>],
    label: &str,
) -> Result<()> {
    if batches.is_empty() {
        return Ok(());
    }
    let mut sink = |port: usize, batch: Batch| -> Result<()> {
        match (outs.get_mut(port), caps.get(port)) {
            (Some(out), Some(cap)) => {
                out.activate().session(cap).give(Msg::local(0, batch));
                Ok(())
            }
            _ => Err(runner_error(format!("step '{label}' emitted to output {port}, which it does not have"))),
        }
    };
    run_bundle(pool, batches, views, &mut sink)
}
