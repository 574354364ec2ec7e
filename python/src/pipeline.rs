//! The native pipeline the Python layer builds: one method per primitive or
//! built-in, each applied under the label the Python layer gives, returning
//! the ids of the output PCollections (every one holds [`Value`]s).

use crate::builtins::{FromCoGroup, FromGroup, FromKv, FromText, Op, TagValue, ToKv, ToKvList, ToText, ValueOp};
use crate::combine::{CountFn, ExtremeFn, MeanFn, PyCombineFn, SumFn};
use crate::errors::{clear_user_exception, NativeError, NativeResult};
use crate::pyfn::{self, PyParDoPayload, SideKind, SideSpec};
use crate::value::Value;
use beamline::io::{ReadFromText, WriteToText};
use beamline::prelude::*;
use beamline::{
    Error, ExecutableParDo, Job, NoOptions, PValue, PipelineOptions, PipelineResult, Timestamp, TimestampCombiner,
};
use pyo3::prelude::*;
use std::sync::Mutex;

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
        Ok(NativePipeline { inner: Mutex::new(Some(Owned(Pipeline::new(options, runners)))) })
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
    /// microseconds; `timestamp_combiner` is end_of_window, earliest or latest.
    #[pyo3(signature = (label, input, kind, size=0, period=0, offset=0, timestamp_combiner="end_of_window"))]
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
    ) -> NativeResult<String> {
        let combiner = match timestamp_combiner {
            "end_of_window" => TimestampCombiner::EndOfWindow,
            "earliest" => TimestampCombiner::Earliest,
            "latest" => TimestampCombiner::Latest,
            other => {
                return Err(NativeError(Error::Construction(format!(
                    "'{label}': unknown timestamp combiner '{other}'"
                ))))
            }
        };
        let window_fn = match kind {
            "global" => WindowFn::Global,
            "fixed" => WindowFn::Fixed { size, offset },
            "sliding" => WindowFn::Sliding { size, period, offset },
            "sessions" => WindowFn::Sessions { gap: size },
            other => return Err(NativeError(Error::Construction(format!("'{label}': unknown window kind '{other}'")))),
        };
        if let Err(m) = window_fn.validate() {
            return Err(NativeError(Error::Construction(format!("'{label}': {m}"))));
        }
        self.with(|p| {
            Ok(Self::input(p, input)?
                .apply_named(label, WindowInto::<Value>::new(window_fn).with_timestamp_combiner(combiner))
                .id()
                .to_string())
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
        Ok(NativeRunResult { result: result? })
    }
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
