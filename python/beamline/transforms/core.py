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
from beamline.typehints import decorators as _decorators
from beamline.typehints import typehints as _typehints
from beamline.utils.timestamp import MIN_TIMESTAMP, Duration, Timestamp

__all__ = [
    "DoFn", "ParDo", "Map", "MapTuple", "FlatMap", "FlatMapTuple", "Filter", "Create", "Impulse", "GroupByKey",
    "CoGroupByKey", "CombineFn", "CombineGlobally", "CombinePerKey", "CombineValues", "Flatten", "Partition",
    "PartitionFn", "WindowInto", "Windowing", "CallableWrapperCombineFn",
]


class _DoFnParam:
    def __init__(self, name):
        self.name = name
        self.param_id = name

    def __repr__(self):
        return self.name

    def __reduce__(self):
        return (getattr, (DoFn, self.name))


def _blank(cls):
    """An object of ``cls`` whose fields unpickling fills in."""
    return cls.__new__(cls)


class _StateDoFnParam(_DoFnParam):
    """``DoFn.StateParam(spec)``: the state cell of ``spec`` for the key and window."""

    def __init__(self, state_spec):
        from beamline.transforms.userstate import StateSpec

        if not isinstance(state_spec, StateSpec):
            raise ValueError("DoFn.StateParam expected StateSpec object.")
        self.state_spec = state_spec
        self.name = self.param_id = "StateParam(%s)" % state_spec.name

    def __reduce__(self):
        # State first, then the object's fields: a spec's on_timer callback
        # refers back to the params in its defaults (a cycle pickle resolves).
        return (_blank, (type(self),), self.__dict__)


class _TimerDoFnParam(_DoFnParam):
    """``DoFn.TimerParam(spec)``: the timer of ``spec`` for the key and window."""

    def __init__(self, timer_spec):
        from beamline.transforms.userstate import TimerSpec

        if not isinstance(timer_spec, TimerSpec):
            raise ValueError("DoFn.TimerParam expected TimerSpec object.")
        self.timer_spec = timer_spec
        self.name = self.param_id = "TimerParam(%s)" % timer_spec.name

    def __reduce__(self):
        return (_blank, (type(self),), self.__dict__)


class _ContextParam(_DoFnParam):
    """A context manager entered for a DoFn's lifetime or for each bundle, whose
    ``__enter__`` value is passed as the parameter (Beam's context params)."""

    _scope = None

    def __init__(self, context_manager_constructor, args=(), kwargs=None, *, name=None):
        class_name = type(self).__name__.strip("_")
        if (not callable(context_manager_constructor)
                or (hasattr(context_manager_constructor, "__enter__")
                    and len(inspect.signature(context_manager_constructor.__enter__).parameters) == 0)):
            raise TypeError(
                "A context manager constructor (not a fully constructed context manager) must be passed to avoid "
                "issues with one-shot managers. For example, write {class_name}(tempfile.TemporaryDirectory, "
                "args=(...)) rather than {class_name}(tempfile.TemporaryDirectory(...))".format(class_name=class_name))
        super().__init__("%s_%s" % (class_name, name or id(self)))
        self.context_manager_constructor = context_manager_constructor
        self.args = args
        self.kwargs = kwargs or {}

    def create_and_enter(self):
        cm = self.context_manager_constructor(*self.args, **self.kwargs)
        return cm, cm.__enter__()

    def __reduce__(self):
        return object.__reduce__(self)


class _BundleContextParam(_ContextParam):
    """A context manager entered at the start of each bundle and exited at its end."""

    _scope = "bundle"


class _SetupContextParam(_ContextParam):
    """A context manager entered when the DoFn is set up and exited at teardown."""

    _scope = "setup"


class DoFn(_decorators.WithTypeHints):
    """Element-wise user code: ``process`` yields outputs; ``setup``,
    ``start_bundle``, ``finish_bundle`` and ``teardown`` as in Beam."""

    ElementParam = _DoFnParam("ElementParam")
    TimestampParam = _DoFnParam("TimestampParam")
    WindowParam = _DoFnParam("WindowParam")
    PaneInfoParam = _DoFnParam("PaneInfoParam")
    SideInputParam = _DoFnParam("SideInputParam")
    KeyParam = _DoFnParam("KeyParam")
    DynamicTimerTagParam = _DoFnParam("DynamicTimerTagParam")
    StateParam = _StateDoFnParam
    TimerParam = _TimerDoFnParam
    BundleContextParam = _BundleContextParam
    SetupContextParam = _SetupContextParam

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


def _iterable_element(hint):
    """``T`` of an ``Iterable[T]``-like return hint; ``None`` for anything else."""
    if hint is None:
        return None
    inner = _typehints.element_type_of(hint)
    return None if inner == _typehints.Any and not isinstance(hint, _typehints.TypeConstraint) else inner


def _with_annotations(hints, element, ret):
    """Decorator hints, completed by annotation hints where the decorators say nothing."""
    input_types = hints.input_types or (((element,), {}) if element is not None else None)
    output_types = hints.output_types
    annotated = False
    if not output_types and ret is not None:
        output_types = ((ret,), {})
        annotated = True
    result = _decorators.IOTypeHints(input_types, output_types)
    result.output_from_annotation = annotated
    return result


def _from_annotation(hints):
    return getattr(hints, "output_from_annotation", False)


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
            and p.default is not DoFn.ElementParam and p.default is not DoFn.SideInputParam
            and not isinstance(p.default, _ContextParam)]


def _side_input_params(fn):
    """When ``fn`` marks parameters with ``DoFn.SideInputParam``, the names the
    extra positional arguments fill, in order (every parameter after the
    element that no other DoFn param fills); else ``None``."""
    try:
        params = list(inspect.signature(fn).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    if not any(p.default is DoFn.SideInputParam for p in params):
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and (p.default is DoFn.SideInputParam or not isinstance(p.default, _DoFnParam))]


def _managed_params(fn):
    """The parameters of ``fn`` whose default is a context param: ``[(name, param)]``."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [(name, p.default) for name, p in sig.parameters.items() if isinstance(p.default, _ContextParam)]


class _ManagedContexts:
    """The entered context managers of one invoker, by scope."""

    def __init__(self, params):
        self.params = params
        self.entered = {}  # scope -> [(name, cm)]
        self.values = {}

    def enter(self, scope):
        entered = []
        for name, param in self.params:
            if param._scope == scope:
                cm, value = param.create_and_enter()
                entered.append((name, cm))
                self.values[name] = value
        self.entered[scope] = entered

    def exit(self, scope):
        for name, cm in reversed(self.entered.pop(scope, [])):
            self.values.pop(name, None)
            cm.__exit__(None, None, None)


class _DoFnInvoker:
    """What a runner calls: the DoFn's lifecycle, and ``process_batch``."""

    def __init__(self, dofn, args, kwargs, side_slots, label):
        self.dofn = dofn
        self.args = list(args)
        self.kwargs = dict(kwargs)
        self.side_slots = side_slots  # per side input: ("arg", index, kind) or ("kw", name, kind)
        self.label = label
        self.context = _context_params(dofn.process)
        self.managed = _managed_params(dofn.process)
        self.side_params = _side_input_params(dofn.process)
        self._metrics = _metric._Container()

    def _bind(self, sides):
        args, kwargs = self._bind_sides(sides)
        if getattr(self, "side_params", None):
            # Positional arguments by name, past the params in between (Beam's SideInputParam).
            kwargs = dict(kwargs)
            for name, value in zip(self.side_params, args):
                kwargs[name] = value
            args = args[len(self.side_params):]
        return args, kwargs

    def _bind_sides(self, sides):
        if not self.side_slots and not self.managed:
            return self.args, self.kwargs
        args, kwargs = list(self.args), dict(self.kwargs)
        if self.managed:
            kwargs.update(self._contexts.values)
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
        if self.managed:
            self._contexts = _ManagedContexts(self.managed)
            self._contexts.enter("setup")
        self.dofn.setup()

    def start_bundle(self):
        _metric._set_container(self._metrics)
        if self.managed:
            self._contexts.enter("bundle")
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
        if self.managed:
            self._contexts.exit("bundle")
        return [] if r is None else list(r)

    def teardown(self):
        self.dofn.teardown()
        if self.managed:
            self._contexts.exit("setup")

    def take_metrics(self):
        return self._metrics.take()


def _param_value(param, ctx):
    if param is DoFn.TimestampParam:
        return Timestamp(micros=ctx[0])
    if param is DoFn.WindowParam:
        return _window._window_of(ctx[1])
    if param is DoFn.PaneInfoParam:
        from beamline.utils.windowed_value import PaneInfo

        first, last, timing, index, nonspeculative = ctx[2]
        return PaneInfo(first, last, timing, index, nonspeculative)
    raise ValueError("unsupported DoFn parameter %r" % (param,))


class _StatefulDoFnInvoker:
    """What the Rust engine's stateful ParDo calls: ``process_keyed`` per
    element and ``fire`` per timer, with a ``StateAccess`` to the key's cells
    for that call, between ``start_bundle`` and ``finish_bundle`` (whose
    outputs name their own windows)."""

    def __init__(self, dofn, args, kwargs, state_names, timer_names, label):
        self.dofn = dofn
        self.args = list(args)
        self.kwargs = dict(kwargs)
        self.state_names = state_names
        self.timer_names = timer_names
        self.label = label
        self._metrics = _metric._Container()

    def setup(self):
        from beamline.transforms.userstate import _RUNTIME, get_dofn_specs

        _metric._set_container(self._metrics)
        states, timers = get_dofn_specs(self.dofn)
        self._state_at = {s.name: (self.state_names.index(s.name), _RUNTIME[s._kind]) for s in states}
        self._timer_at = {t.name: self.timer_names.index(t.name) for t in timers}
        by_name = {t.name: t for t in timers}
        self._process_params = [(n, self._resolver(p)) for n, p in _context_params(self.dofn.process)]
        self._callbacks = []
        for name in self.timer_names:
            callback = getattr(self.dofn, by_name[name]._attached_callback.__name__)
            self._callbacks.append((callback, [(n, self._resolver(p)) for n, p in _context_params(callback)]))
        self.dofn.setup()

    def start_bundle(self):
        _metric._set_container(self._metrics)
        self.dofn.start_bundle()

    def finish_bundle(self):
        _metric._set_container(self._metrics)
        return self._done(self.dofn.finish_bundle())

    def teardown(self):
        self.dofn.teardown()

    def _resolver(self, param):
        """``f(access, key, ts, window, pane, tag)`` giving the value of ``param`` for one call."""
        from beamline.transforms.userstate import RuntimeTimer

        if isinstance(param, _StateDoFnParam):
            index, runtime = self._state_at[param.state_spec.name]
            return lambda access, key, ts, window, pane, tag: runtime(access, index)
        if isinstance(param, _TimerDoFnParam):
            index = self._timer_at[param.timer_spec.name]
            return lambda access, key, ts, window, pane, tag: RuntimeTimer(access, index)
        if param is DoFn.KeyParam:
            return lambda access, key, ts, window, pane, tag: key
        if param is DoFn.TimestampParam:
            return lambda access, key, ts, window, pane, tag: Timestamp(micros=ts)
        if param is DoFn.WindowParam:
            return lambda access, key, ts, window, pane, tag: _window._window_of(window)
        if param is DoFn.DynamicTimerTagParam:
            return lambda access, key, ts, window, pane, tag: tag
        if param is DoFn.PaneInfoParam:
            from beamline.utils.windowed_value import PaneInfo

            return lambda access, key, ts, window, pane, tag: PaneInfo(*pane) if pane is not None else None
        raise ValueError("unsupported DoFn parameter %r in a DoFn with state or timers" % (param,))

    def process_keyed(self, key, value, ts, window, pane, access):
        _metric._set_container(self._metrics)
        kwargs = dict(self.kwargs)
        for name, resolve in self._process_params:
            kwargs[name] = resolve(access, key, ts, window, pane, "")
        r = self.dofn.process((key, value), *self.args, **kwargs)
        return self._done(r)

    def fire(self, index, tag, key, ts, window, access):
        _metric._set_container(self._metrics)
        callback, params = self._callbacks[index]
        kwargs = {name: resolve(access, key, ts, window, None, tag) for name, resolve in params}
        return self._done(callback(**kwargs))

    def _done(self, r):
        """``(outputs, metric updates or None)``: a generator runs to its end
        here, while the state it uses is the call's."""
        outputs = [] if r is None else list(r)
        m = self._metrics
        if m.counters or m.distributions or m.gauges:
            return outputs, m.take()
        return outputs, None


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
        self.managed = _managed_params(fn)
        self._metrics = _metric._Container()

    def setup(self):
        _metric._set_container(self._metrics)
        if self.managed:
            self._contexts = _ManagedContexts(self.managed)
            self._contexts.enter("setup")

    def start_bundle(self):
        if self.managed:
            self._contexts.enter("bundle")

    def finish_bundle(self):
        if self.managed:
            self._contexts.exit("bundle")
        return []

    def teardown(self):
        if self.managed:
            self._contexts.exit("setup")

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
        from beamline.transforms import userstate

        self._stateful = userstate.is_stateful_dofn(fn)
        if self._stateful:
            userstate.validate_stateful_dofn(fn)

    def default_label(self):
        return "ParDo(%s)" % self.fn.default_label()

    def default_type_hints(self):
        if isinstance(self.fn, _CallableWrapperDoFn):
            fn, process = self.fn._fn, self.fn._fn
        else:
            fn, process = self.fn, getattr(type(self.fn), "process", None)
        hints = _decorators.get_type_hints(fn)
        # Annotations (def process(self, element: int) -> Iterable[str]) where no decorator says otherwise.
        element, ret = _decorators.annotation_hints(process, skip_self=not isinstance(self.fn, _CallableWrapperDoFn))
        return _with_annotations(hints, element, _iterable_element(ret))

    def type_check_inputs(self, pvalueish):
        label = self._label_in_pipeline()
        hint = self.get_type_hints().simple_input()
        if hint is None or not isinstance(pvalueish, PCollection) or pvalueish.element_type is None:
            return
        if not _typehints.is_consistent_with(pvalueish.element_type, hint):
            producer = "/".join((pvalueish.producer or "").split("/")[:label.count("/") + 1])
            raise _decorators.TypeCheckError(
                "The transform '%s' requires PCollections of type '%s' but was applied to a PCollection of type "
                "'%s' (produced by the transform '%s'). " % (label, hint, pvalueish.element_type, producer))

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
        if getattr(self, "_stateful", False):
            return self._stateful_apply(pipeline, label, pcoll)
        slots, sides = _side_inputs(self.args, self.kwargs)
        invoker = self._invoker(pipeline._full_label(label), slots)
        tags = self._tags or []
        ids = pipeline._native.pardo(label, pcoll._id, _pickle(invoker, label), tags, sides, bool(invoker.context))
        main = pipeline._pcoll(ids[0], label)
        if self._tags is None:
            return main
        return DoOutputsTuple(self._main_tag, main, {t: pipeline._pcoll(i, label) for t, i in zip(tags, ids[1:])})


def _stateful_apply(self, pipeline, label, pcoll):
    """A DoFn with state or timers: the Rust engine's stateful ParDo over ``(k, v)`` pairs."""
    from beamline.transforms import userstate

    full = pipeline._full_label(label)
    et = pcoll.element_type
    if et is not None and et != _typehints.Any and not _typehints.is_consistent_with(et, _typehints.Tuple[_K, _V]):
        raise ValueError("Input elements to the transform %s with stateful DoFn must be key-value pairs." % full)
    slots, _ = _side_inputs(self.args, self.kwargs)
    if slots:
        raise NotImplementedError("'%s': side inputs of a DoFn with state or timers are not supported yet" % full)
    states, timers = userstate.get_dofn_specs(self.fn)
    states = sorted(states, key=lambda s: s.name)
    timers = sorted(timers, key=lambda t: t.name)
    invoker = _StatefulDoFnInvoker(self.fn, self.args, self.kwargs, [s.name for s in states],
                                   [t.name for t in timers], full)
    tags = self._tags or []
    ids = pipeline._native.stateful_pardo(
        label, pcoll._id, _pickle(invoker, label), [s._native(full) for s in states],
        [(t.name, userstate.TimeDomain._native(t.time_domain)) for t in timers], tags)
    main = pipeline._pcoll(ids[0], label)
    if self._tags is None:
        return main
    return DoOutputsTuple(self._main_tag, main, {t: pipeline._pcoll(i, label) for t, i in zip(tags, ids[1:])})


ParDo._stateful_apply = _stateful_apply


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

    def default_type_hints(self):
        hints = _decorators.get_type_hints(self.fn)
        element, ret = _decorators.annotation_hints(self.fn)
        if self._kind in ("flat_map", "flat_map_tuple"):
            ret = _iterable_element(ret)
        elif self._kind == "filter":
            ret = None
        hints = _with_annotations(hints, element, ret)
        if self._kind in ("flat_map", "flat_map_tuple") and hints.output_types and not _from_annotation(hints):
            # A FlatMap's function gives iterables: the elements are their items.
            element = _typehints.element_type_of(hints.simple_output())
            hints = _decorators.IOTypeHints(hints.input_types, ((element,), {}))
        if self._kind in ("map_tuple", "flat_map_tuple") and hints.input_types:
            # The hints are of the unpacked arguments, not of the element.
            hints = _decorators.IOTypeHints(None, hints.output_types)
        return hints

    def infer_output_type(self, input_type):
        if self._kind == "filter":
            return input_type
        if self._kind == "map" and isinstance(self.fn, type):
            return self.fn
        return _typehints.Any

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

    def infer_output_type(self, unused_input_type):
        return _typehints.union_of_instances(
            v.value if isinstance(v, _window.TimestampedValue) else v for v in self.values)

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


def _check_key_coder(step, pcoll, key_type=None):
    """Refuses, as Beam does, a grouping whose key coder is not deterministic
    (a ValueError naming the grouping step, Beam's own label for it)."""
    from beamline.coders import registry

    if not registry.custom_types:
        return  # the standard coders all have deterministic forms
    if key_type is None:
        key_type, _ = _typehints.key_value_types(getattr(pcoll, "element_type", None) or _typehints.Any)
    registry.get_coder(key_type).as_deterministic_coder(step)


def _check_grouping(pipeline, label, pcoll):
    """Beam's checks of a grouping's windowing, decided by the Rust engine
    (``--allow_unsafe_triggers`` lifts them): an unbounded input in the global
    window with the default trigger, and a trigger that may lose data."""
    problem = pipeline._native.grouping_problem(pcoll._id)
    if problem is None:
        return
    if problem == "unbounded_global_default":
        raise ValueError("GroupByKey cannot be applied to an unbounded PCollection with global windowing and a "
                         "default trigger")
    trigger = pcoll.windowing.triggerfn if pcoll.windowing is not None else None
    raise ValueError("{}: Unsafe trigger: `{}` may lose data. Reason: {}. This can be overriden with the "
                     "--allow_unsafe_triggers flag.".format(label, trigger, problem))


class GroupByKey(PTransform):
    """``(k, v)`` pairs into ``(k, [v, ...])`` per key and window (in Rust)."""

    def type_check_inputs(self, pvalueish):
        label = self._label_in_pipeline()
        et = getattr(pvalueish, "element_type", None)
        if et is not None and not _typehints.is_consistent_with(et, _typehints.Tuple[_K, _V]):
            raise _decorators.TypeCheckError("Input type hint violation at %s: expected %s, got %s"
                                             % (label, _typehints.Tuple[_K, _V], et))

    def _check_key_coder(self, full_label, pcoll):
        _check_key_coder(full_label, pcoll)

    def infer_output_type(self, input_type):
        k, v = _typehints.key_value_types(input_type)
        return _typehints.KV[k, _typehints.Iterable[v]]

    def _native_apply(self, pipeline, label, pcoll):
        self._check_key_coder(pipeline._full_label(label), pcoll)
        _check_grouping(pipeline, label, pcoll)
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
        for pc in (inputs.values() if isinstance(inputs, dict) else inputs):
            _check_key_coder(pipeline._full_label(label) + "/CoGroupByKeyImpl/GroupByKey", pc)
            _check_grouping(pipeline, "GroupByKey", pc)
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

    def infer_output_type(self, inputs):
        if isinstance(inputs, dict):
            inputs = list(inputs.values())
        if not isinstance(inputs, (tuple, list)) or not inputs:
            return _typehints.Any
        types = [pc.element_type for pc in inputs if isinstance(pc, PCollection)]
        if len(types) != len(inputs) or any(t is None for t in types):
            return _typehints.Any
        return _typehints.Union[types]

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
    """A windowing strategy: the WindowFn, the trigger, the accumulation mode,
    the timestamp combiner and the allowed lateness (seconds)."""

    def __init__(self, windowfn, triggerfn=None, accumulation_mode=None, timestamp_combiner=None, allowed_lateness=0):
        from beamline.transforms.trigger import AccumulationMode, DefaultTrigger

        if triggerfn is None:
            triggerfn = DefaultTrigger()
        if accumulation_mode is None:
            if triggerfn == DefaultTrigger():
                accumulation_mode = AccumulationMode.DISCARDING
            else:
                raise ValueError("accumulation_mode must be provided for non-trivial triggers")
        self.windowfn = windowfn
        self.triggerfn = triggerfn
        self.accumulation_mode = accumulation_mode
        self.allowed_lateness = Duration.of(allowed_lateness)
        self.timestamp_combiner = timestamp_combiner or _window.TimestampCombiner.OUTPUT_AT_EOW

    def __repr__(self):
        return "Windowing(%s, %s, %s, %s, %s)" % (self.windowfn, self.triggerfn, self.accumulation_mode,
                                                 self.timestamp_combiner, self.allowed_lateness)

    def is_default(self):
        from beamline.transforms.trigger import AccumulationMode, DefaultTrigger

        return (isinstance(self.windowfn, _window.GlobalWindows) and self.triggerfn == DefaultTrigger()
                and self.accumulation_mode == AccumulationMode.DISCARDING and self.allowed_lateness.micros == 0)


class WindowInto(PTransform):
    """Re-windows elements by their timestamps (``FixedWindows(60)``, ``Sessions(600)``, ...),
    with a trigger, accumulation mode and allowed lateness run by the Rust engine."""

    def __init__(self, windowfn, trigger=None, accumulation_mode=None, timestamp_combiner=None, allowed_lateness=0):
        super().__init__()
        if isinstance(windowfn, Windowing):
            windowing = windowfn
            windowfn = windowing.windowfn
            trigger = trigger or windowing.triggerfn
            accumulation_mode = accumulation_mode or windowing.accumulation_mode
            timestamp_combiner = timestamp_combiner or windowing.timestamp_combiner
        if not isinstance(windowfn, _window.WindowFn):
            raise TypeError("WindowInto takes a WindowFn (FixedWindows, SlidingWindows, Sessions, GlobalWindows), got %r"
                            % (windowfn,))
        from beamline.transforms.trigger import AccumulationMode, TriggerFn

        if trigger is not None and not isinstance(trigger, TriggerFn):
            raise TypeError("trigger must be a TriggerFn (AfterWatermark, AfterCount, ...), got %r" % (trigger,))
        combiners = {None: "end_of_window", _window.TimestampCombiner.OUTPUT_AT_EOW: "end_of_window",
                     _window.TimestampCombiner.OUTPUT_AT_EARLIEST: "earliest",
                     _window.TimestampCombiner.OUTPUT_AT_LATEST: "latest"}
        if timestamp_combiner not in combiners:
            raise ValueError("unknown timestamp combiner %r; use a TimestampCombiner" % (timestamp_combiner,))
        self._timestamp_combiner = combiners[timestamp_combiner]
        self.windowing = Windowing(windowfn, trigger, accumulation_mode, timestamp_combiner, allowed_lateness)
        self._trigger_set = trigger is not None
        modes = {AccumulationMode.DISCARDING: "discarding", AccumulationMode.ACCUMULATING: "accumulating"}
        if self.windowing.accumulation_mode not in modes:
            raise ValueError("beamline supports the accumulation modes DISCARDING and ACCUMULATING, got %r"
                             % (self.windowing.accumulation_mode,))
        self._accumulation = modes[self.windowing.accumulation_mode]

    def default_label(self):
        return "WindowInto(%s)" % type(self.windowing.windowfn).__name__

    def infer_output_type(self, input_type):
        return input_type

    def _native_apply(self, pipeline, label, pcoll):
        kind, size, period, offset = self.windowing.windowfn._native()
        w = self.windowing
        out = pipeline._native.window_into(label, pcoll._id, kind, size, period, offset, self._timestamp_combiner,
                                           w.triggerfn._native_json(), self._accumulation, w.allowed_lateness.micros)
        result = pipeline._pcoll(out, label)
        result.windowing = self.windowing
        return result


# Combines.

class CombineFn(_decorators.WithTypeHints):
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


_K = _typehints.TypeVariable("K")
_V = _typehints.TypeVariable("V")

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

    def _has_side_inputs(self):
        return any(isinstance(a, (AsSideInput, PCollection)) for a in list(self.args) + list(self.kwargs.values()))


class _CombineGroupedValuesFn(DoFn):
    """``(k, values)`` into ``(k, combined)`` with a CombineFn whose extra
    arguments (side inputs among them) come resolved, as Beam passes them to
    every CombineFn method."""

    def __init__(self, fn):
        self.fn = fn
        self._set_up = False

    def process(self, element, *args, **kwargs):
        fn = self.fn
        if not self._set_up:
            fn.setup(*args, **kwargs)
            self._set_up = True
        key, values = element
        acc = fn.add_inputs(fn.create_accumulator(*args, **kwargs), values, *args, **kwargs)
        yield (key, fn.extract_output(fn.compact(acc, *args, **kwargs), *args, **kwargs))

    def teardown(self):
        if self._set_up:
            self.fn.teardown()


def _inject_default(_, combined, fn, *args, **kwargs):
    if combined:
        if len(combined) != 1:
            raise ValueError("CombineGlobally gave %d values in the global window" % len(combined))
        return combined[0]
    return fn.apply([], *args, **kwargs)


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
        """The combined value as a side input (``AsSingleton``), with the
        combine of no elements as its default."""
        self._as_view = True
        return self

    _as_view = False

    def _native_apply(self, pipeline, label, pcoll):
        if self._as_view or self._has_side_inputs():
            return NotImplemented  # a composite: see expand
        _check_grouping(pipeline, "GroupByKey", pcoll)
        name, invoker = self._combiner(label)
        out = pipeline._native.combine_globally(label, pcoll._id, self._defaults, name, invoker)
        return pipeline._pcoll(out, label)

    def expand(self, pcoll):
        from beamline.pvalue import AsList

        fn = CombineFn.maybe_from_callable(self.fn)
        args, kwargs = self.args, self.kwargs
        combined = (pcoll
                    | "KeyWithVoid" >> Map(lambda v: (None, v))
                    | "CombinePerKey" >> CombinePerKey(fn, *args, **kwargs)
                    | "UnKey" >> Map(lambda kv: kv[1]))
        if self._as_view:
            if self._defaults:
                try:
                    fn.setup(*args, **kwargs)
                    default = fn.apply([], *args, **kwargs)
                finally:
                    fn.teardown(*args, **kwargs)
            else:
                default = AsSingleton._NO_DEFAULT
            return AsSingleton(combined, default_value=default)
        if not self._defaults:
            return combined
        windowfn = pcoll.windowing.windowfn if pcoll.windowing is not None else None
        if windowfn is not None and not isinstance(windowfn, _window.GlobalWindows):
            raise ValueError(
                "Default values are not yet supported in CombineGlobally() if the output  PCollection is not "
                "windowed by GlobalWindows. Instead, use CombineGlobally().without_defaults() to output an empty "
                "PCollection if the input PCollection is empty, or CombineGlobally().as_singleton_view() to get "
                "the default output of the CombineFn if the input PCollection is empty.")
        return (pcoll.pipeline
                | "DoOnce" >> Create([None])
                | "InjectDefault" >> Map(_inject_default, AsList(combined), fn, *args, **kwargs))


class CombinePerKey(_Combine):
    """Combines the values of each key and window (lifted before the shuffle)."""

    def _native_apply(self, pipeline, label, pcoll):
        if self._has_side_inputs():
            return NotImplemented  # a composite: see expand
        _check_key_coder(pipeline._full_label(label) + "/GroupByKey", pcoll)
        _check_grouping(pipeline, "GroupByKey", pcoll)
        name, invoker = self._combiner(label)
        return pipeline._pcoll(pipeline._native.combine_per_key(label, pcoll._id, name, invoker), label)

    def expand(self, pcoll):
        fn = CombineFn.maybe_from_callable(self.fn)
        return (pcoll
                | "GroupByKey" >> GroupByKey()
                | "Combine" >> ParDo(_CombineGroupedValuesFn(fn), *self.args, **self.kwargs))


class CombineValues(_Combine):
    """Combines the iterable of each ``(k, values)`` pair."""

    def _native_apply(self, pipeline, label, pcoll):
        if self._has_side_inputs():
            return NotImplemented  # a composite: see expand
        name, invoker = self._combiner(label)
        return pipeline._pcoll(pipeline._native.combine_values(label, pcoll._id, name, invoker), label)

    def expand(self, pcoll):
        fn = CombineFn.maybe_from_callable(self.fn)
        return pcoll | "Combine" >> ParDo(_CombineGroupedValuesFn(fn), *self.args, **self.kwargs)

