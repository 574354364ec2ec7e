"""The core transforms with Beam's names and semantics: ``DoFn`` and
``ParDo``, ``Map``/``FlatMap``/``Filter`` and their tuple forms, ``Create``,
``Impulse``, ``GroupByKey``, ``CoGroupByKey``, the combines, ``Flatten``,
``Partition`` and ``WindowInto``.

Each maps onto a call of the native pipeline. User code travels to the
runners as a pickled invoker (``_DoFnInvoker``, ``_CombineFnInvoker``) that a
runner calls once per batch of elements.
"""

import inspect

import cloudpickle

from beamline.metrics import metric as _metric
from beamline.pvalue import AsIter, AsSideInput, AsSingleton, DoOutputsTuple, PBegin, PCollection, TaggedOutput
from beamline.transforms import window as _window
from beamline.transforms.ptransform import PTransform, label_from_callable
from beamline.utils.timestamp import MIN_TIMESTAMP, Timestamp

__all__ = [
    "DoFn", "ParDo", "Map", "MapTuple", "FlatMap", "FlatMapTuple", "Filter", "Create", "Impulse", "GroupByKey",
    "CoGroupByKey", "CombineFn", "CombineGlobally", "CombinePerKey", "CombineValues", "Flatten", "Partition",
    "PartitionFn", "WindowInto", "Windowing", "CallableWrapperCombineFn",
]


class _DoFnParam:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name

    def __reduce__(self):
        return (getattr, (DoFn, self.name))


class DoFn:
    """Element-wise user code: ``process`` yields outputs; ``setup``,
    ``start_bundle``, ``finish_bundle`` and ``teardown`` as in Beam."""

    ElementParam = _DoFnParam("ElementParam")
    TimestampParam = _DoFnParam("TimestampParam")
    WindowParam = _DoFnParam("WindowParam")
    PaneInfoParam = _DoFnParam("PaneInfoParam")
    SideInputParam = _DoFnParam("SideInputParam")

    def default_label(self):
        return type(self).__name__

    def setup(self):
        pass

    def start_bundle(self):
        pass

    def process(self, element, *args, **kwargs):
        raise NotImplementedError

    def finish_bundle(self):
        pass

    def teardown(self):
        pass

    def with_input_types(self, *a, **k):
        return self

    def with_output_types(self, *a, **k):
        return self


class _CallableWrapperDoFn(DoFn):
    """``ParDo(callable)``, as Beam wraps it: the callable's result is iterated."""

    def __init__(self, fn):
        self._fn = fn
        self.process = fn

    def default_label(self):
        return label_from_callable(self._fn)


def _context_params(fn):
    """The parameters of ``fn`` whose default is a DoFn param: ``[(name, param)]``."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [(name, p.default) for name, p in sig.parameters.items() if isinstance(p.default, _DoFnParam)
            and p.default is not DoFn.ElementParam]


class _DoFnInvoker:
    """What a runner calls: the DoFn's lifecycle, and ``process_batch``."""

    def __init__(self, dofn, args, kwargs, side_slots, label):
        self.dofn = dofn
        self.args = list(args)
        self.kwargs = dict(kwargs)
        self.side_slots = side_slots  # per side input: ("arg", index, kind) or ("kw", name, kind)
        self.label = label
        self.context = _context_params(dofn.process)
        self._metrics = _metric._Container()

    def _bind(self, sides):
        if not self.side_slots:
            return self.args, self.kwargs
        args, kwargs = list(self.args), dict(self.kwargs)
        for (where, at, kind), value in zip(self.side_slots, sides):
            if kind == "multimap":
                value = _MultiMap(value)
            if where == "arg":
                args[at] = value
            else:
                kwargs[at] = value
        return args, kwargs

    def setup(self):
        _metric._set_container(self._metrics)
        self.dofn.setup()

    def start_bundle(self):
        _metric._set_container(self._metrics)
        self.dofn.start_bundle()

    def _call(self, values, ctx, args, kwargs):
        process = self.dofn.process
        outs, counts = [], []
        for i, v in enumerate(values):
            if self.context:
                kw = dict(kwargs)
                for name, param in self.context:
                    kw[name] = _param_value(param, ctx[i])
                r = process(v, *args, **kw)
            else:
                r = process(v, *args, **kwargs)
            if r is None:
                counts.append(0)
            else:
                n = len(outs)
                outs.extend(r)
                counts.append(len(outs) - n)
        return outs, counts

    def process_batch(self, values, ctx, sides):
        _metric._set_container(self._metrics)
        args, kwargs = self._bind(sides)
        return self._call(values, ctx, args, kwargs)

    def finish_bundle(self):
        _metric._set_container(self._metrics)
        r = self.dofn.finish_bundle()
        return [] if r is None else list(r)

    def teardown(self):
        self.dofn.teardown()

    def take_metrics(self):
        return self._metrics.take()


def _param_value(param, ctx):
    if param is DoFn.TimestampParam:
        return Timestamp(micros=ctx[0])
    if param is DoFn.WindowParam:
        return _window._window_of(ctx[1])
    if param is DoFn.PaneInfoParam:
        from beamline.utils.windowed_value import PaneInfo

        return PaneInfo()
    raise ValueError("unsupported DoFn parameter %r" % (param,))


class _CallableInvoker(_DoFnInvoker):
    """``Map``, ``FlatMap``, ``Filter`` and the tuple forms: one list comprehension a batch."""

    def __init__(self, kind, fn, args, kwargs, side_slots, label):
        self.kind = kind
        self.fn = fn
        self.args = list(args)
        self.kwargs = dict(kwargs)
        self.side_slots = side_slots
        self.label = label
        self.context = _context_params(fn)
        self._metrics = _metric._Container()

    def setup(self):
        _metric._set_container(self._metrics)

    def start_bundle(self):
        pass

    def finish_bundle(self):
        return []

    def teardown(self):
        pass

    def process_batch(self, values, ctx, sides):
        _metric._set_container(self._metrics)
        args, kwargs = self._bind(sides)
        fn, kind = self.fn, self.kind
        if self.context:
            def call(i, *vs):
                kw = dict(kwargs)
                for name, param in self.context:
                    kw[name] = _param_value(param, ctx[i])
                return fn(*vs, *args, **kw)
        elif args or kwargs:
            def call(i, *vs):
                return fn(*vs, *args, **kwargs)
        else:
            call = None
        if kind == "map":
            if call is None:
                return [fn(v) for v in values], None
            return [call(i, v) for i, v in enumerate(values)], None
        if kind == "map_tuple":
            if call is None:
                return [fn(*v) for v in values], None
            return [call(i, *v) for i, v in enumerate(values)], None
        if kind == "filter":
            keep = [bool(fn(v) if call is None else call(i, v)) for i, v in enumerate(values)]
            return [v for v, k in zip(values, keep) if k], [1 if k else 0 for k in keep]
        outs, counts = [], []
        for i, v in enumerate(values):
            if kind == "flat_map":
                r = fn(v) if call is None else call(i, v)
            else:
                r = fn(*v) if call is None else call(i, *v)
            if r is None:
                counts.append(0)
                continue
            n = len(outs)
            outs.extend(r)
            counts.append(len(outs) - n)
        return outs, counts


class _MultiMap(dict):
    """An ``AsMultiMap`` view: a key without values reads as ``[]``, as in Beam."""

    def __missing__(self, key):
        return []


def _side_inputs(args, kwargs):
    """Side inputs among the arguments: ``(slots, [(pcollection id, kind, has_default, default)])``."""
    slots, sides = [], []

    def one(where, at, v):
        if isinstance(v, PCollection):
            v = AsIter(v)
        if isinstance(v, AsSideInput):
            has_default, default = v._default()
            slots.append((where, at, v._kind))
            sides.append((v.pvalue._id, v._kind, has_default, default))
            return True
        return False

    for i, a in enumerate(args):
        one("arg", i, a)
    for k, a in kwargs.items():
        one("kw", k, a)
    return slots, sides


def _without_sides(args, kwargs, slots):
    """The arguments with ``None`` where side inputs go (the runner passes their
    contents; the views themselves hold PCollections, which do not pickle)."""
    args, kwargs = list(args), dict(kwargs)
    for where, at, _ in slots:
        if where == "arg":
            args[at] = None
        else:
            kwargs[at] = None
    return args, kwargs


def _pickle(obj, label):
    try:
        return cloudpickle.dumps(obj)
    except Exception as e:  # noqa: BLE001 - reported with the step's label
        raise TypeError("cannot pickle the code of '%s': %s" % (label, e)) from e


class ParDo(PTransform):
    """Applies a ``DoFn`` to every element; ``.with_outputs(...)`` for tagged outputs."""

    def __init__(self, fn, *args, **kwargs):
        super().__init__()
        if isinstance(fn, type) and issubclass(fn, DoFn):
            raise ValueError("Use %s() not %s." % (fn.__name__, fn.__name__))
        if not isinstance(fn, DoFn):
            if not callable(fn):
                raise TypeError("ParDo must be called with a DoFn instance, got %r" % (fn,))
            fn = _CallableWrapperDoFn(fn)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self._tags = None
        self._main_tag = None

    def default_label(self):
        return "ParDo(%s)" % self.fn.default_label()

    def with_outputs(self, *tags, main=None, allow_unknown_tags=None):
        self._tags = list(tags)
        self._main_tag = main
        return self

    def _invoker(self, label, slots):
        args, kwargs = _without_sides(self.args, self.kwargs, slots)
        return _DoFnInvoker(self.fn, args, kwargs, slots, label)

    def _native_apply(self, pipeline, label, pcoll):
        if not isinstance(pcoll, PCollection):
            raise TypeError("%s must be applied to a PCollection, got %r" % (label, pcoll))
        slots, sides = _side_inputs(self.args, self.kwargs)
        invoker = self._invoker(pipeline._full_label(label), slots)
        tags = self._tags or []
        ids = pipeline._native.pardo(label, pcoll._id, _pickle(invoker, label), tags, sides, bool(invoker.context))
        main = pipeline._pcoll(ids[0], label)
        if self._tags is None:
            return main
        return DoOutputsTuple(self._main_tag, main, {t: pipeline._pcoll(i, label) for t, i in zip(tags, ids[1:])})


class _CallableParDo(ParDo):
    _kind = None
    _name = None

    def __init__(self, fn, *args, **kwargs):
        PTransform.__init__(self)
        if not callable(fn):
            raise TypeError("%s can only be used with callable objects. Received %r instead." % (self._name, fn))
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self._tags = None
        self._main_tag = None

    def default_label(self):
        return "%s(%s)" % (self._name, label_from_callable(self.fn))

    def _invoker(self, label, slots):
        args, kwargs = _without_sides(self.args, self.kwargs, slots)
        return _CallableInvoker(self._kind, self.fn, args, kwargs, slots, label)

    def _builtin(self):
        return None

    def _native_apply(self, pipeline, label, pcoll):
        op = None if (self.args or self.kwargs or self._tags is not None) else self._builtin()
        if op is not None and isinstance(pcoll, PCollection):
            return pipeline._pcoll(pipeline._native.builtin(label, pcoll._id, op), label)
        return ParDo._native_apply(self, pipeline, label, pcoll)


class Map(_CallableParDo):
    """``Map(fn)``: one output per element."""

    _kind = "map"
    _name = "Map"

    def _builtin(self):
        return "str" if self.fn is str else None


class MapTuple(_CallableParDo):
    """``MapTuple(fn)``: ``fn(*element)``."""

    _kind = "map_tuple"
    _name = "MapTuple"


class FlatMap(_CallableParDo):
    """``FlatMap(fn)``: every item of ``fn(element)``."""

    _kind = "flat_map"
    _name = "FlatMap"

    def __init__(self, fn=lambda x: x, *args, **kwargs):
        super().__init__(fn, *args, **kwargs)

    def _builtin(self):
        return "split" if self.fn is str.split else None


class FlatMapTuple(_CallableParDo):
    """``FlatMapTuple(fn)``: every item of ``fn(*element)``."""

    _kind = "flat_map_tuple"
    _name = "FlatMapTuple"


class Filter(_CallableParDo):
    """``Filter(fn)``: the elements for which ``fn`` is true."""

    _kind = "filter"
    _name = "Filter"


class Create(PTransform):
    """The given values as a PCollection (a dict gives its items)."""

    def __init__(self, values, reshuffle=True):
        super().__init__()
        if isinstance(values, (str, bytes)):
            raise TypeError("PTransform Create: Refusing to treat string as an iterable. (string=%r)" % (values,))
        if isinstance(values, dict):
            values = values.items()
        self.values = list(values)

    def default_label(self):
        return "Create"

    def _native_apply(self, pipeline, label, pbegin):
        if not isinstance(pbegin, PBegin):
            raise TypeError("Create is a root transform: apply it to the pipeline, not to %r" % (pbegin,))
        if any(isinstance(v, _window.TimestampedValue) for v in self.values):
            # Beam gives a TimestampedValue's value at its timestamp.
            values = [v.value if isinstance(v, _window.TimestampedValue) else v for v in self.values]
            stamps = [v.timestamp.micros if isinstance(v, _window.TimestampedValue) else MIN_TIMESTAMP.micros
                      for v in self.values]
            return pipeline._pcoll(pipeline._native.create(label, values, stamps), label)
        return pipeline._pcoll(pipeline._native.create(label, self.values), label)


class Impulse(PTransform):
    """A single empty ``bytes`` element in the global window."""

    def _native_apply(self, pipeline, label, pbegin):
        return pipeline._pcoll(pipeline._native.create(label, [b""]), label)


class GroupByKey(PTransform):
    """``(k, v)`` pairs into ``(k, [v, ...])`` per key and window (in Rust)."""

    def _native_apply(self, pipeline, label, pcoll):
        return pipeline._pcoll(pipeline._native.group_by_key(label, pcoll._id), label)


class CoGroupByKey(PTransform):
    """Groups several PCollections of pairs by key: a dict gives ``(k, {tag: [...]})``,
    a tuple or list gives ``(k, ([...], [...]))``."""

    def __init__(self, pipeline=None):
        super().__init__()
        self._pipeline = pipeline

    def _native_apply(self, pipeline, label, inputs):
        if isinstance(inputs, dict):
            tags = [str(t) for t in inputs]
            ids = [pc._id for pc in inputs.values()]
        elif isinstance(inputs, (tuple, list)):
            tags = None
            ids = [pc._id for pc in inputs]
        else:
            raise TypeError("CoGroupByKey takes a dict, tuple or list of PCollections, got %r" % (inputs,))
        return pipeline._pcoll(pipeline._native.co_group_by_key(label, ids, tags), label)


class Flatten(PTransform):
    """Merges PCollections: ``(a, b) | Flatten()``."""

    def __init__(self, pipeline=None, **kwargs):
        super().__init__()
        self._pipeline = pipeline

    def _native_apply(self, pipeline, label, inputs):
        if isinstance(inputs, PCollection):
            inputs = [inputs]
        if isinstance(inputs, dict):
            inputs = list(inputs.values())
        if isinstance(inputs, PBegin):
            inputs = []
        return pipeline._pcoll(pipeline._native.flatten(label, [pc._id for pc in inputs]), label)

    def __ror__(self, left, label=None):
        if isinstance(left, (tuple, list)) and not left and self._pipeline is not None:
            return self._pipeline.apply(self, [], label)
        return super().__ror__(left, label)


class PartitionFn:
    """Chooses a partition: ``partition_for(element, num_partitions, *args)``."""

    def partition_for(self, element, num_partitions, *args, **kwargs):
        raise NotImplementedError

    def default_label(self):
        return type(self).__name__


class _PartitionDoFn(DoFn):
    def __init__(self, fn, n):
        self.fn = fn
        self.n = n

    def process(self, element, *args, **kwargs):
        if isinstance(self.fn, PartitionFn):
            i = self.fn.partition_for(element, self.n, *args, **kwargs)
        else:
            i = self.fn(element, self.n, *args, **kwargs)
        if not 0 <= i < self.n:
            raise ValueError("PartitionFn specified out-of-bounds partition index: %d not in [0, %d)" % (i, self.n))
        yield TaggedOutput(str(i), element)


class Partition(PTransform):
    """Splits a PCollection into ``n`` by ``fn(element, n, *args)``."""

    def __init__(self, fn, n, *args, **kwargs):
        super().__init__()
        self.fn = fn
        self.n = n
        self.args = args
        self.kwargs = kwargs

    def default_label(self):
        return "Partition(%s)" % label_from_callable(self.fn)

    def expand(self, pcoll):
        return pcoll | ParDo(_PartitionDoFn(self.fn, self.n), *self.args, **self.kwargs).with_outputs(
            *[str(i) for i in range(self.n)])


class Windowing:
    def __init__(self, windowfn, triggerfn=None, accumulation_mode=None, timestamp_combiner=None, allowed_lateness=0):
        self.windowfn = windowfn


class WindowInto(PTransform):
    """Re-windows elements by their timestamps (``FixedWindows(60)``, ``Sessions(600)``, ...)."""

    def __init__(self, windowfn, trigger=None, accumulation_mode=None, timestamp_combiner=None, allowed_lateness=0):
        super().__init__()
        if isinstance(windowfn, Windowing):
            windowfn = windowfn.windowfn
        if not isinstance(windowfn, _window.WindowFn):
            raise TypeError("WindowInto takes a WindowFn (FixedWindows, SlidingWindows, Sessions, GlobalWindows), got %r"
                            % (windowfn,))
        from beamline.transforms.trigger import DefaultTrigger

        if (trigger is not None and not isinstance(trigger, DefaultTrigger)) or accumulation_mode is not None:
            raise NotImplementedError(
                "beamline fires each window once, when the watermark passes its end; triggers and accumulation modes "
                "are not supported yet")
        combiners = {None: "end_of_window", _window.TimestampCombiner.OUTPUT_AT_EOW: "end_of_window",
                     _window.TimestampCombiner.OUTPUT_AT_EARLIEST: "earliest",
                     _window.TimestampCombiner.OUTPUT_AT_LATEST: "latest"}
        if timestamp_combiner not in combiners:
            raise ValueError("unknown timestamp combiner %r; use a TimestampCombiner" % (timestamp_combiner,))
        self._timestamp_combiner = combiners[timestamp_combiner]
        self.windowing = Windowing(windowfn)

    def default_label(self):
        return "WindowInto(%s)" % type(self.windowing.windowfn).__name__

    def _native_apply(self, pipeline, label, pcoll):
        kind, size, period, offset = self.windowing.windowfn._native()
        out = pipeline._native.window_into(label, pcoll._id, kind, size, period, offset, self._timestamp_combiner)
        return pipeline._pcoll(out, label)


# Combines.

class CombineFn:
    """An associative, commutative aggregation through an accumulator."""

    def default_label(self):
        return type(self).__name__

    def setup(self, *args, **kwargs):
        pass

    def teardown(self, *args, **kwargs):
        pass

    def create_accumulator(self, *args, **kwargs):
        raise NotImplementedError

    def add_input(self, mutable_accumulator, element, *args, **kwargs):
        raise NotImplementedError

    def add_inputs(self, mutable_accumulator, elements, *args, **kwargs):
        for e in elements:
            mutable_accumulator = self.add_input(mutable_accumulator, e, *args, **kwargs)
        return mutable_accumulator

    def merge_accumulators(self, accumulators, *args, **kwargs):
        raise NotImplementedError

    def compact(self, accumulator, *args, **kwargs):
        return accumulator

    def extract_output(self, accumulator, *args, **kwargs):
        raise NotImplementedError

    def apply(self, elements, *args, **kwargs):
        acc = self.create_accumulator(*args, **kwargs)
        acc = self.add_inputs(acc, elements, *args, **kwargs)
        return self.extract_output(acc, *args, **kwargs)

    def for_input_type(self, input_type):
        return self

    def with_common_input_type(self, input_type):
        return self

    @staticmethod
    def from_callable(fn):
        return CallableWrapperCombineFn(fn)

    @staticmethod
    def maybe_from_callable(fn, has_side_inputs=False):
        if isinstance(fn, CombineFn):
            return fn
        if callable(fn):
            return CallableWrapperCombineFn(fn)
        raise TypeError("Expected a CombineFn or callable, got %r" % (fn,))


class CallableWrapperCombineFn(CombineFn):
    """A function of an iterable as a CombineFn: inputs buffer and are reduced by the function."""

    _BUFFER_SIZE = 10

    def __init__(self, fn, buffer_size=_BUFFER_SIZE):
        if not callable(fn):
            raise TypeError("Expected a callable object instead of: %r" % fn)
        self._fn = fn
        self._buffer_size = buffer_size

    def default_label(self):
        return "CallableWrapperCombineFn(%s)" % label_from_callable(self._fn)

    def create_accumulator(self, *args, **kwargs):
        return []

    def add_input(self, accumulator, element, *args, **kwargs):
        accumulator.append(element)
        if len(accumulator) > self._buffer_size:
            accumulator = [self._fn(accumulator, *args, **kwargs)]
        return accumulator

    def add_inputs(self, accumulator, elements, *args, **kwargs):
        accumulator.extend(elements)
        if len(accumulator) > self._buffer_size:
            accumulator = [self._fn(accumulator, *args, **kwargs)]
        return accumulator

    def merge_accumulators(self, accumulators, *args, **kwargs):
        merged = [x for a in accumulators for x in a]
        if len(merged) > self._buffer_size:
            merged = [self._fn(merged, *args, **kwargs)]
        return merged

    def compact(self, accumulator, *args, **kwargs):
        return [self._fn(accumulator, *args, **kwargs)] if len(accumulator) > 1 else accumulator

    def extract_output(self, accumulator, *args, **kwargs):
        return self._fn(accumulator, *args, **kwargs)


class _CombineFnInvoker:
    """What the Rust combine calls, with whole lists of inputs."""

    def __init__(self, fn, args, kwargs):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self._set_up = False

    def _ready(self):
        if not self._set_up:
            self.fn.setup(*self.args, **self.kwargs)
            self._set_up = True
        return self.fn

    def add_inputs(self, acc, inputs):
        fn = self._ready()
        if acc is None:
            acc = fn.create_accumulator(*self.args, **self.kwargs)
        return fn.add_inputs(acc, inputs, *self.args, **self.kwargs)

    def merge_accumulators(self, accs):
        return self._ready().merge_accumulators(accs, *self.args, **self.kwargs)

    def extract_output(self, acc):
        fn = self._ready()
        if acc is None:
            acc = fn.create_accumulator(*self.args, **self.kwargs)
        return fn.extract_output(acc, *self.args, **self.kwargs)


_BUILTIN_COMBINERS = {sum: "sum", min: "min", max: "max"}


def _combiner(fn, args, kwargs, label):
    """``(name, pickled invoker)``: a built-in name for what Rust combines itself."""
    if not (args or kwargs):
        try:
            name = _BUILTIN_COMBINERS.get(fn)
        except TypeError:
            name = None
        if name is None:
            name = getattr(fn, "_beamline_builtin", None)
        if name is not None:
            return name, None
    if any(isinstance(a, AsSideInput) for a in list(args) + list(kwargs.values())):
        raise NotImplementedError("'%s': side inputs of combines are not supported yet" % label)
    fn = CombineFn.maybe_from_callable(fn)
    return None, _pickle(_CombineFnInvoker(fn, args, kwargs), label)


def _combine_label(kind, fn):
    if isinstance(fn, CombineFn):
        return "%s(%s)" % (kind, fn.default_label())
    return "%s(%s)" % (kind, label_from_callable(fn))


class _Combine(PTransform):
    """A combine of ``fn`` (a CombineFn or a callable) with extra arguments."""

    def __init__(self, fn, *args, **kwargs):
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs

    def default_label(self):
        return _combine_label(type(self).__name__, self.fn)

    def _combiner(self, label):
        return _combiner(self.fn, self.args, self.kwargs, label)


class CombineGlobally(_Combine):
    """Combines all elements of each window into one value."""

    def __init__(self, fn, *args, **kwargs):
        super().__init__(fn, *args, **kwargs)
        self._defaults = True

    def without_defaults(self):
        self._defaults = False
        return self

    def with_defaults(self, has_defaults=True):
        self._defaults = has_defaults
        return self

    def as_singleton_view(self):
        raise NotImplementedError("CombineGlobally(...).as_singleton_view() is not supported yet; "
                                  "use AsSingleton(pcoll | CombineGlobally(...))")

    def _native_apply(self, pipeline, label, pcoll):
        name, invoker = self._combiner(label)
        out = pipeline._native.combine_globally(label, pcoll._id, self._defaults, name, invoker)
        return pipeline._pcoll(out, label)


class CombinePerKey(_Combine):
    """Combines the values of each key and window (lifted before the shuffle)."""

    def _native_apply(self, pipeline, label, pcoll):
        name, invoker = self._combiner(label)
        return pipeline._pcoll(pipeline._native.combine_per_key(label, pcoll._id, name, invoker), label)


class CombineValues(_Combine):
    """Combines the iterable of each ``(k, values)`` pair."""

    def _native_apply(self, pipeline, label, pcoll):
        name, invoker = self._combiner(label)
        return pipeline._pcoll(pipeline._native.combine_values(label, pcoll._id, name, invoker), label)

