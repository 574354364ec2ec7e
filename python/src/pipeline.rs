//! The native pipeline the Python layer builds: one method per primitive or
//! built-in, each applied under the label the Python layer gives, returning
//! the ids of the output PCollections (every one holds [`Value`]s).

use crate::builtins::{
    BatchElementsFn, FromCoGroup, FromGroup, FromKv, FromText, FromU64, Op, TagValue, ToKv, ToKvList, ToText, ValueOp,
};
use crate::combine::{CountFn, ExtremeFn, MeanFn, PyCombineFn, SumFn};
use crate::errors::{clear_user_exception, NativeError, NativeResult};
use crate::pyfn::{self, PyParDoPayload, SideKind, SideSpec};
use crate::stateful::{PyStatefulFn, StateArg, TimerArg};
use crate::value::Value;
use beamline::io::{FollowText, GenerateSequence, ReadFromText, TestStream, WriteToText};
use beamline::prelude::*;
use beamline::{
    Error, ExecutableParDo, Job, NoOptions, PValue, PipelineOptions, PipelineResult, Timestamp, TimestampCombiner,
};
use pyo3::prelude::*;
use std::sync::Mutex;

/// A state cell as Python describes it: name, kind, built-in combiner, pickled CombineFn invoker.
type StateTuple = (String, String, Option<String>, Option<Vec<u8>>);

/// Every runner the module links.
pub(crate) fn runners() -> Runners {
    beamline_direct::runners().with(beamline_rayon::RayonRunner).with(beamline_timely::TimelyRunner)
}

/// The SDK pipeline, confined to the object that owns it.
struct Owned(Pipeline);

// SAFETY: a `Pipeline` is an `Rc` graph whose every clone lives inside this
// value (methods clone it only for the duration of a call, and hand Python
// nothing but ids), and every access goes through the `Mutex` below. Moving
// the whole graph to another thread (the garbage collector may free it on a
// runner thread) therefore never shares an `Rc` between threads.
unsafe impl Send for Owned {}

/// A pipeline under construction (`beamline._native.Pipeline`).
#[pyclass(module = "beamline._native", name = "Pipeline")]
pub(crate) struct NativePipeline {
    inner: Mutex<Option<Owned>>,
    /// Whether an unbounded source was applied (its run drains on SIGINT).
    unbounded: std::sync::atomic::AtomicBool,
}

/// How a combine step combines.
enum Combiner {
    Sum,
    Min,
    Max,
    Count,
    Mean,
    Python(PyCombineFn),
}

impl NativePipeline {
    fn with<R>(&self, f: impl FnOnce(&Pipeline) -> Result<R, Error>) -> NativeResult<R> {
        let guard = self.inner.lock().map_err(|_| Error::Construction("the pipeline is poisoned".into()))?;
        let p = guard.as_ref().ok_or_else(|| Error::Construction("the pipeline has already run".into()))?;
        let r = f(&p.0)?;
        if let Some(e) = p.0.construction_error() {
            return Err(NativeError(Error::Construction(e)));
        }
        Ok(r)
    }

    fn input(p: &Pipeline, id: &str) -> Result<PCollection<Value>, Error> {
        p.pcollection::<Value>(id).ok_or_else(|| Error::Construction(format!("unknown PCollection '{id}'")))
    }

    /// A combine step: a composite named `label` on `input` whose parts `build` applies.
    fn combine(
        &self,
        label: &str,
        input: &str,
        name: Option<&str>,
        invoker: Option<Vec<u8>>,
        build: impl FnOnce(PCollection<Value>, Combiner) -> PCollection<Value>,
    ) -> NativeResult<String> {
        self.with(|p| {
            let input = Self::input(p, input)?;
            let full = p.begin_composite(label, input.ids())?;
            let out = build(input, Self::combiner(&full, name, invoker)?);
            p.end_composite(out.ids());
            Ok(out.id().to_string())
        })
    }

    fn combiner(label: &str, name: Option<&str>, invoker: Option<Vec<u8>>) -> Result<Combiner, Error> {
        Ok(match (name, invoker) {
            (_, Some(bytes)) => Combiner::Python(PyCombineFn::new(label.to_string(), bytes)),
            (Some("sum"), None) => Combiner::Sum,
            (Some("min"), None) => Combiner::Min,
            (Some("max"), None) => Combiner::Max,
            (Some("count"), None) => Combiner::Count,
            (Some("mean"), None) => Combiner::Mean,
            (other, None) => {
                return Err(Error::Construction(format!("'{label}': unknown built-in combiner {other:?}")))
            }
        })
    }
}

/// Applies `$apply` with the combine function the `Combiner` names.
macro_rules! with_combiner {
    ($c:expr, |$f:ident| $apply:expr) => {
        match $c {
            Combiner::Sum => {
                let $f = SumFn;
                $apply
            }
            Combiner::Min => {
                let $f = ExtremeFn { largest: false };
                $apply
            }
            Combiner::Max => {
                let $f = ExtremeFn { largest: true };
                $apply
            }
            Combiner::Count => {
                let $f = CountFn;
                $apply
            }
            Combiner::Mean => {
                let $f = MeanFn;
                $apply
            }
            Combiner::Python(py) => {
                let $f = py;
                $apply
            }
        }
    };
}

#[pymethods]
impl NativePipeline {
    /// A pipeline with beamline's flags (`--runner`, `--workers`, ...) from `args`.
    #[new]
    fn new(args: Vec<String>) -> NativeResult<Self> {
        let runners = runners();
        let argv = std::iter::once("beamline".to_string()).chain(args);
        let (options, NoOptions {}) = PipelineOptions::parse_from::<NoOptions>(argv, &runners)?;
        Ok(NativePipeline {
            inner: Mutex::new(Some(Owned(Pipeline::new(options, runners)))),
            unbounded: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The runner the pipeline will run on.
    fn runner(&self) -> NativeResult<String> {
        self.with(|p| Ok(p.options().runner))
    }

    /// Opens a composite; returns its full label.
    fn begin(&self, label: &str, inputs: Vec<String>) -> NativeResult<String> {
        self.with(|p| p.begin_composite(label, inputs))
    }

    /// Closes the composite opened last.
    fn end(&self, outputs: Vec<String>) -> NativeResult<()> {
        self.with(|p| {
            p.end_composite(outputs);
            Ok(())
        })
    }

    /// `Create`: the values, at the given timestamps (microseconds) if any.
    #[pyo3(signature = (label, values, timestamps=None))]
    fn create(&self, label: &str, values: Vec<Bound<'_, PyAny>>, timestamps: Option<Vec<i64>>) -> NativeResult<String> {
        let values = values.iter().map(Value::from_py).collect::<PyResult<Vec<_>>>().map_err(py_construction(label))?;
        self.with(|p| {
            let out = match timestamps {
                Some(ts) => p.apply_named(
                    label,
                    Create::timestamped(values.into_iter().zip(ts.into_iter().map(Timestamp::from_micros))),
                ),
                None => p.apply_named(label, Create::new(values)),
            };
            Ok(out.id().to_string())
        })
    }

    /// `ReadFromText`: lines of the files matching `pattern`.
    fn read_text(&self, label: &str, pattern: &str) -> NativeResult<String> {
        self.with(|p| {
            p.begin_composite(label, vec![])?;
            let lines = p.apply_named("Read", ReadFromText::new(pattern));
            let out = lines.apply_named("Decode", ParDo::of(FromText));
            p.end_composite(out.ids());
            Ok(out.id().to_string())
        })
    }

    /// `GenerateSequence`: the unbounded sequence `0, 1, 2, ...` as ints,
    /// element `i` at `start + i * spacing` (microseconds), `count` of them
    /// (endless when `None`), `rate` per second (0: unpaced), with the Rust
    /// source's out-of-orderness, late data and seed.
    #[pyo3(signature = (label, count=None, rate=0.0, start=0, spacing=1000, out_of_order=0, late_every=0, late_by=0, seed=0))]
    #[allow(clippy::too_many_arguments)]
    fn generate_sequence(
        &self,
        label: &str,
        count: Option<u64>,
        rate: f64,
        start: i64,
        spacing: i64,
        out_of_order: i64,
        late_every: u64,
        late_by: i64,
        seed: u64,
    ) -> NativeResult<String> {
        let micros = |m: i64| std::time::Duration::from_micros(m.max(0) as u64);
        let mut source = GenerateSequence::new()
            .event_times(Timestamp::from_micros(start), micros(spacing))
            .out_of_order(micros(out_of_order))
            .seed(seed);
        if let Some(n) = count {
            source = source.count(n);
        }
        if rate > 0.0 {
            source = source.rate(rate);
        }
        if late_every > 0 {
            source = source.late(late_every, micros(late_by));
        }
        self.unbounded.store(true, std::sync::atomic::Ordering::Relaxed);
        self.with(|p| {
            p.begin_composite(label, vec![])?;
            let numbers = p.apply_named("Generate", source);
            let out = numbers.apply_named("ToInt", ParDo::of(FromU64));
            p.end_composite(out.ids());
            Ok(out.id().to_string())
        })
    }

    /// `FollowText`: the lines of the files matching `pattern`, and the lines
    /// appended to them later (an unbounded source); durations in microseconds.
    #[pyo3(signature = (label, pattern, poll_interval=100_000, idle_timeout=1_000_000, out_of_order=0))]
    fn follow_text(
        &self,
        label: &str,
        pattern: &str,
        poll_interval: i64,
        idle_timeout: i64,
        out_of_order: i64,
    ) -> NativeResult<String> {
        let micros = |m: i64| std::time::Duration::from_micros(m.max(0) as u64);
        let source = FollowText::new(pattern)
            .poll_interval(micros(poll_interval))
            .idle_timeout(micros(idle_timeout))
            .out_of_order(micros(out_of_order));
        self.unbounded.store(true, std::sync::atomic::Ordering::Relaxed);
        self.with(|p| {
            p.begin_composite(label, vec![])?;
            let lines = p.apply_named("Follow", source);
            let out = lines.apply_named("Decode", ParDo::of(FromText));
            p.end_composite(out.ids());
            Ok(out.id().to_string())
        })
    }

    /// `WriteToText`: `str(element)` per line into shards named after `prefix`.
    #[pyo3(signature = (label, input, prefix, suffix, num_shards, shard_name_template=None, header=None))]
    #[allow(clippy::too_many_arguments)]
    fn write_text(
        &self,
        label: &str,
        input: &str,
        prefix: &str,
        suffix: &str,
        num_shards: u32,
        shard_name_template: Option<String>,
        header: Option<String>,
    ) -> NativeResult<String> {
        self.with(|p| {
            let input = Self::input(p, input)?;
            p.begin_composite(label, input.ids())?;
            let lines = input.apply_named("Format", ParDo::of(ToText));
            let mut write = WriteToText::new(prefix).with_suffix(suffix);
            if num_shards > 0 {
                write = write.with_num_shards(num_shards);
            }
            if let Some(t) = shard_name_template {
                write = write.with_shard_name_template(t);
            }
            if let Some(h) = header {
                write = write.with_header(h);
            }
            let names = lines.apply_named("Write", write);
            let out = names.apply_named("Names", ParDo::of(FromText));
            p.end_composite(out.ids());
            Ok(out.id().to_string())
        })
    }

    /// A ParDo of Python code: the pickled invoker, its tagged outputs, its
    /// side inputs as `(id, kind, has_default, default)`; returns the main and tagged outputs.
    #[pyo3(signature = (label, input, invoker, tags, sides, context))]
    fn pardo(
        &self,
        label: &str,
        input: &str,
        invoker: &[u8],
        tags: Vec<String>,
        sides: Vec<(String, String, bool, Bound<'_, PyAny>)>,
        context: bool,
    ) -> NativeResult<Vec<String>> {
        let mut specs = Vec::with_capacity(sides.len());
        let mut side_ids = Vec::with_capacity(sides.len());
        for (id, kind, has_default, default) in sides {
            let kind = match kind.as_str() {
                "singleton" => SideKind::Singleton,
                "iter" => SideKind::Iter,
                "list" => SideKind::List,
                "dict" => SideKind::Dict,
                "multimap" => SideKind::MultiMap,
                other => {
                    return Err(NativeError(Error::Construction(format!(
                        "'{label}': unknown side input kind '{other}'"
                    ))))
                }
            };
            let default =
                if has_default { Some(Value::from_py(&default).map_err(py_construction(label))?) } else { None };
            specs.push(SideSpec { kind, default });
            side_ids.push(id);
        }
        let payload = PyParDoPayload { invoker: pyfn::hex(invoker), tags: tags.clone(), sides: specs, context };
        let payload = serde_json::to_value(&payload).map_err(|e| Error::Construction(e.to_string()))?;
        self.with(|p| {
            let input = Self::input(p, input)?;
            let outs = input.apply_named(
                label,
                ExecutableParDo::<Value, Value>::new("beamline:python:pardo:v1", payload, pyfn::builder())
                    .with_side_inputs(side_ids)
                    .with_tags(tags),
            );
            Ok(outs.iter().map(|o| o.id().to_string()).collect())
        })
    }

    /// A ParDo of a Python DoFn with state and timers over `(k, v)` pairs:
    /// the pickled invoker, its state cells as `(name, kind, built-in
    /// combiner, pickled CombineFn invoker)` and its timers as `(name, domain)`.
    /// With `tags`, returns the main output and one per tag.
    #[pyo3(signature = (label, input, invoker, states, timers, tags=Vec::new()))]
    fn stateful_pardo(
        &self,
        label: &str,
        input: &str,
        invoker: &[u8],
        states: Vec<StateTuple>,
        timers: Vec<(String, String)>,
        tags: Vec<String>,
    ) -> NativeResult<Vec<String>> {
        let states = states
            .into_iter()
            .map(|(name, kind, combiner, invoker)| StateArg {
                name,
                kind,
                combiner,
                invoker: invoker.map(|b| pyfn::hex(&b)),
            })
            .collect();
        let timers = timers.into_iter().map(|(name, domain)| TimerArg { name, domain }).collect();
        self.with(|p| {
            let input = Self::input(p, input)?;
            let full = p.begin_composite(label, input.ids())?;
            let kvs = input.apply_named("ToKv", ParDo::of(ToKv { what: "a stateful ParDo".into() }));
            let n = tags.len();
            let f = PyStatefulFn::new(full, pyfn::hex(invoker), states, timers, tags);
            let out = kvs.apply_named("Stateful", StatefulParDo::of(f));
            let outs: Vec<String> = if n == 0 {
                vec![out.id().to_string()]
            } else {
                (0..=n)
                    .map(|i| {
                        let op = ValueOp { op: Op::Untag { index: i as i64 } };
                        out.apply_named(&format!("Output[{i}]"), ParDo::of(op)).id().to_string()
                    })
                    .collect()
            };
            p.end_composite(outs.clone());
            Ok(outs)
        })
    }

    /// A built-in element-wise step (`split`, `str`, `str_kv`, `keys`, `values`, `kv_swap`).
    fn builtin(&self, label: &str, input: &str, op: &str) -> NativeResult<String> {
        let op = match op {
            "split" => Op::Split,
            "str" => Op::Str,
            "str_kv" => Op::StrKv,
            "keys" => Op::Keys,
            "values" => Op::Values,
            "kv_swap" => Op::KvSwap,
            "pair_with_none" => Op::PairWithNone,
            other => return Err(NativeError(Error::Construction(format!("'{label}': unknown built-in '{other}'")))),
        };
        self.with(|p| Ok(Self::input(p, input)?.apply_named(label, ParDo::of(ValueOp { op })).id().to_string()))
    }

    /// `GroupIntoBatches(size)` on bounded input: the GroupByKey, then each
    /// group cut into `(k, [at most size values])` batches, all in Rust.
    fn group_into_batches(&self, label: &str, input: &str, size: u64) -> NativeResult<String> {
        if size == 0 {
            return Err(NativeError(Error::Construction(format!("'{label}': batch_size must be a positive value"))));
        }
        self.with(|p| {
            let input = Self::input(p, input)?;
            p.begin_composite(label, input.ids())?;
            let kvs = input.apply_named("ToKv", ParDo::of(ToKv { what: "GroupIntoBatches".into() }));
            let grouped = kvs.apply_named("GroupByKey", GroupByKey::<Value, Value>::new());
            let groups = grouped.apply_named("FromGroup", ParDo::of(FromGroup));
            let out = groups.apply_named("Batch", ParDo::of(ValueOp { op: Op::Batch { size } }));
            p.end_composite(out.ids());
            Ok(out.id().to_string())
        })
    }

    /// `BatchElements`: elements into lists of `min..=max` elements of one window.
    fn batch_elements(&self, label: &str, input: &str, min: u64, max: u64) -> NativeResult<String> {
        if min == 0 || min > max {
            return Err(NativeError(Error::Construction(format!(
                "'{label}': batch sizes must satisfy 1 <= min ({min}) <= max ({max})"
            ))));
        }
        self.with(|p| {
            Ok(Self::input(p, input)?.apply_named(label, ParDo::of(BatchElementsFn::new(min, max))).id().to_string())
        })
    }

    /// `GroupByKey`: `(k, v)` pairs into `(k, [v, ...])` per window.
    fn group_by_key(&self, label: &str, input: &str) -> NativeResult<String> {
        self.with(|p| {
            let input = Self::input(p, input)?;
            p.begin_composite(label, input.ids())?;
            let kvs = input.apply_named("ToKv", ParDo::of(ToKv { what: "GroupByKey".into() }));
            let grouped = kvs.apply_named("GroupByKey", GroupByKey::<Value, Value>::new());
            let out = grouped.apply_named("FromGroup", ParDo::of(FromGroup));
            p.end_composite(out.ids());
            Ok(out.id().to_string())
        })
    }

    /// `CoGroupByKey` of several `(k, v)` inputs; `tags` for a dict input.
    #[pyo3(signature = (label, inputs, tags=None))]
    fn co_group_by_key(&self, label: &str, inputs: Vec<String>, tags: Option<Vec<String>>) -> NativeResult<String> {
        self.with(|p| {
            let inputs = inputs.iter().map(|id| Self::input(p, id)).collect::<Result<Vec<_>, _>>()?;
            p.begin_composite(label, inputs.iter().flat_map(|i| i.ids()).collect())?;
            let n = inputs.len();
            let tagged: Vec<PCollection<(Value, Value)>> = inputs
                .iter()
                .enumerate()
                .map(|(i, c)| c.apply_named(&format!("Tag[{i}]"), ParDo::of(TagValue { index: i as i64 })))
                .collect();
            let flat = tagged.apply_named("Flatten", Flatten::new());
            let grouped = flat.apply_named("GroupByKey", GroupByKey::<Value, Value>::new());
            let out = grouped.apply_named("FromCoGroup", ParDo::of(FromCoGroup { inputs: n, tags }));
            p.end_composite(out.ids());
            Ok(out.id().to_string())
        })
    }

    /// `CombinePerKey` with a built-in (`name`) or a pickled Python invoker.
    #[pyo3(signature = (label, input, name=None, invoker=None))]
    fn combine_per_key(
        &self,
        label: &str,
        input: &str,
        name: Option<&str>,
        invoker: Option<Vec<u8>>,
    ) -> NativeResult<String> {
        self.combine(label, input, name, invoker, |input, combiner| {
            let kvs = input.apply_named("ToKv", ParDo::of(ToKv { what: "CombinePerKey".into() }));
            with_combiner!(combiner, |f| kvs
                .apply_named("Combine", Combine::per_key::<Value, _>(f))
                .apply_named("FromKv", ParDo::of(FromKv)))
        })
    }

    /// `CombineGlobally`; with `defaults`, an empty global window yields the empty combine.
    #[pyo3(signature = (label, input, defaults, name=None, invoker=None))]
    fn combine_globally(
        &self,
        label: &str,
        input: &str,
        defaults: bool,
        name: Option<&str>,
        invoker: Option<Vec<u8>>,
    ) -> NativeResult<String> {
        self.combine(label, input, name, invoker, |input, combiner| {
            with_combiner!(combiner, |f| {
                let c = Combine::globally(f);
                input.apply_named("Combine", if defaults { c } else { c.without_defaults() })
            })
            .apply_named("Restamp", ParDo::of(ValueOp { op: Op::Restamp }))
        })
    }

    /// `CombineValues`: `(k, iterable)` into `(k, combined)`.
    #[pyo3(signature = (label, input, name=None, invoker=None))]
    fn combine_values(
        &self,
        label: &str,
        input: &str,
        name: Option<&str>,
        invoker: Option<Vec<u8>>,
    ) -> NativeResult<String> {
        self.combine(label, input, name, invoker, |input, combiner| {
            let kvs = input.apply_named("ToKv", ParDo::of(ToKvList));
            with_combiner!(combiner, |f| kvs
                .apply_named("Combine", Combine::grouped_values::<Value, _>(f))
                .apply_named("FromKv", ParDo::of(FromKv)))
        })
    }

    /// `Flatten`.
    fn flatten(&self, label: &str, inputs: Vec<String>) -> NativeResult<String> {
        self.with(|p| {
            let inputs = inputs.iter().map(|id| Self::input(p, id)).collect::<Result<Vec<_>, _>>()?;
            if inputs.is_empty() {
                let empty: PCollection<Value> = p.apply_named(label, Create::new(Vec::<Value>::new()));
                return Ok(empty.id().to_string());
            }
            Ok(inputs.apply_named(label, Flatten::new()).id().to_string())
        })
    }

    /// `WindowInto`: `kind` is global, fixed, sliding or sessions; sizes in
    /// microseconds; `timestamp_combiner` is end_of_window, earliest or latest;
    /// `trigger` is a [`Trigger`] as JSON (its serde form), `accumulation`
    /// discarding or accumulating, `allowed_lateness` in microseconds.
    #[pyo3(signature = (label, input, kind, size=0, period=0, offset=0, timestamp_combiner="end_of_window",
                        trigger=None, accumulation=None, allowed_lateness=0))]
    #[allow(clippy::too_many_arguments)]
    fn window_into(
        &self,
        label: &str,
        input: &str,
        kind: &str,
        size: i64,
        period: i64,
        offset: i64,
        timestamp_combiner: &str,
        trigger: Option<&str>,
        accumulation: Option<&str>,
        allowed_lateness: i64,
    ) -> NativeResult<String> {
        let bad = |m: String| NativeError(Error::Construction(format!("'{label}': {m}")));
        let combiner = match timestamp_combiner {
            "end_of_window" => TimestampCombiner::EndOfWindow,
            "earliest" => TimestampCombiner::Earliest,
            "latest" => TimestampCombiner::Latest,
            other => return Err(bad(format!("unknown timestamp combiner '{other}'"))),
        };
        let window_fn = match kind {
            "global" => WindowFn::Global,
            "fixed" => WindowFn::Fixed { size, offset },
            "sliding" => WindowFn::Sliding { size, period, offset },
            "sessions" => WindowFn::Sessions { gap: size },
            other => return Err(bad(format!("unknown window kind '{other}'"))),
        };
        window_fn.validate().map_err(bad)?;
        let mut transform = WindowInto::<Value>::new(window_fn)
            .with_timestamp_combiner(combiner)
            .with_allowed_lateness(std::time::Duration::from_micros(allowed_lateness.max(0) as u64));
        if let Some(json) = trigger {
            transform = transform.triggering(parse_trigger(json).map_err(bad)?);
        }
        transform = match accumulation {
            None => transform,
            Some("discarding") => transform.discarding_fired_panes(),
            Some("accumulating") => transform.accumulating_fired_panes(),
            Some(other) => return Err(bad(format!("unknown accumulation mode '{other}'"))),
        };
        self.with(|p| Ok(Self::input(p, input)?.apply_named(label, transform).id().to_string()))
    }

    /// Why a grouping of `input` is refused, or `None`: `"unbounded_global_default"`
    /// for an unbounded input in the global window with the default trigger, or
    /// the reason its trigger may lose data (`"MAY_FINISH"`). `--allow-unsafe-triggers`
    /// lifts both. The Python layer raises Beam's `ValueError` for it.
    fn grouping_problem(&self, input: &str) -> NativeResult<Option<String>> {
        self.with(|p| {
            let input = Self::input(p, input)?;
            if p.options().allow_unsafe_triggers {
                return Ok(None);
            }
            let w = input.windowing();
            if !input.is_bounded() && w.window_fn == WindowFn::Global && w.trigger == Trigger::Default {
                return Ok(Some("unbounded_global_default".to_string()));
            }
            Ok(w.trigger.data_loss_reason(w.allowed_lateness).map(str::to_string))
        })
    }

    /// Whether the PCollection is bounded.
    fn is_bounded(&self, input: &str) -> NativeResult<bool> {
        self.with(|p| Ok(Self::input(p, input)?.is_bounded()))
    }

    /// `TestStream`: the scripted events, each `("elements", [(value, timestamp)])`,
    /// `("watermark", micros)` or `("processing_time", micros)`; with several
    /// `outputs`, element values are `(output index, value)` pairs and the
    /// result has one PCollection per output.
    fn test_stream(
        &self,
        label: &str,
        events: Vec<(String, Bound<'_, PyAny>)>,
        outputs: usize,
    ) -> NativeResult<Vec<String>> {
        let bad = |m: String| NativeError(Error::Construction(format!("'{label}': {m}")));
        let mut stream = TestStream::<Value>::new();
        for (kind, arg) in events {
            stream = match kind.as_str() {
                "elements" => {
                    let items: Vec<(Bound<'_, PyAny>, i64)> = arg.extract().map_err(|e: PyErr| bad(e.to_string()))?;
                    let mut values = Vec::with_capacity(items.len());
                    for (v, ts) in items {
                        values.push((Value::from_py(&v).map_err(|e| bad(e.to_string()))?, Timestamp::from_micros(ts)));
                    }
                    stream.add_elements_at(values)
                }
                "watermark" => {
                    let micros: i64 = arg.extract().map_err(|e: PyErr| bad(e.to_string()))?;
                    if micros == Timestamp::MAX.as_micros() {
                        stream.advance_watermark_to_infinity()
                    } else {
                        stream.advance_watermark_to(Timestamp::from_micros(micros))
                    }
                }
                "processing_time" => {
                    let micros: i64 = arg.extract().map_err(|e: PyErr| bad(e.to_string()))?;
                    let by = u64::try_from(micros)
                        .map_err(|_| bad("Must advance processing time by positive amount.".into()))?;
                    stream.advance_processing_time(std::time::Duration::from_micros(by))
                }
                other => return Err(bad(format!("unknown TestStream event '{other}'"))),
            };
        }
        self.unbounded.store(true, std::sync::atomic::Ordering::Relaxed);
        self.with(|p| {
            if outputs <= 1 {
                return Ok(vec![p.apply_named(label, stream).id().to_string()]);
            }
            p.begin_composite(label, vec![])?;
            let tagged = p.apply_named("Events", stream);
            let outs: Vec<String> = (0..outputs)
                .map(|i| {
                    let op = ValueOp { op: Op::Untag { index: i as i64 } };
                    tagged.apply_named(&format!("Output[{i}]"), ParDo::of(op)).id().to_string()
                })
                .collect();
            p.end_composite(outs.clone());
            Ok(outs)
        })
    }

    /// `Reshuffle`.
    fn reshuffle(&self, label: &str, input: &str) -> NativeResult<String> {
        self.with(|p| Ok(Self::input(p, input)?.apply_named(label, Reshuffle::new()).id().to_string()))
    }

    /// `Distinct`.
    fn distinct(&self, label: &str, input: &str) -> NativeResult<String> {
        self.with(|p| Ok(Self::input(p, input)?.apply_named(label, Distinct::<Value>::new()).id().to_string()))
    }

    /// The portable graph as JSON.
    fn graph_json(&self) -> NativeResult<String> {
        self.with(|p| p.portable_graph_json())
    }

    /// Runs the pipeline with the GIL released; a user exception is raised as itself.
    fn run(&self, py: Python<'_>) -> NativeResult<NativeRunResult> {
        let owned = {
            let mut guard = self.inner.lock().map_err(|_| Error::Construction("the pipeline is poisoned".into()))?;
            guard.take().ok_or_else(|| Error::Construction("the pipeline has already run".into()))?
        };
        clear_user_exception();
        let job: Job = owned.0.into_job()?;
        let result: Result<PipelineResult, Error> = py.detach(move || job.run());
        if self.unbounded.load(std::sync::atomic::Ordering::Relaxed) {
            // SIGINT drained the run (the runner's handler); Python's own
            // handler, which the runner's passes it on to, has only noted it:
            // run it now and drop the KeyboardInterrupt, the drain was the answer.
            if let Err(e) = py.check_signals() {
                if !e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                    return Err(NativeError(Error::Runner { runner: String::new(), message: e.to_string() }));
                }
            }
        }
        Ok(NativeRunResult { result: result? })
    }
}

/// A trigger from its JSON (serde) form, validated.
pub(crate) fn parse_trigger(json: &str) -> Result<Trigger, String> {
    let t: Trigger = serde_json::from_str(json).map_err(|e| format!("bad trigger {json}: {e}"))?;
    t.validate()?;
    Ok(t)
}

fn py_construction(label: &str) -> impl Fn(PyErr) -> NativeError + '_ {
    move |e| NativeError(Error::Construction(format!("'{label}': {e}")))
}

/// A finished run (`beamline._native.RunResult`).
#[pyclass(module = "beamline._native", name = "RunResult", frozen)]
pub(crate) struct NativeRunResult {
    result: PipelineResult,
}

#[pymethods]
impl NativeRunResult {
    /// The runner that ran the pipeline (empty when only the graph was written).
    fn runner(&self) -> String {
        self.result.runner().to_string()
    }
    /// Counters as `(step, name, value)`.
    fn counters(&self) -> Vec<(String, String, i64)> {
        self.result.metrics().counters().map(|(s, n, v)| (s.to_string(), n.to_string(), v)).collect()
    }
    /// Distributions as `(step, name, count, sum, min, max)`.
    fn distributions(&self) -> Vec<(String, String, i64, i64, i64, i64)> {
        self.result
            .metrics()
            .distributions()
            .map(|(s, n, d)| (s.to_string(), n.to_string(), d.count, d.sum, d.min, d.max))
            .collect()
    }
    /// Gauges as `(step, name, value)`.
    fn gauges(&self) -> Vec<(String, String, i64)> {
        self.result.metrics().gauges().map(|(s, n, v)| (s.to_string(), n.to_string(), v)).collect()
    }
}
