"""Keyed state and timers of a DoFn (Beam's ``apache_beam.transforms.userstate``).

A DoFn declares its cells with ``DoFn.StateParam(spec)`` and its timers with
``DoFn.TimerParam(spec)`` and ``@on_timer(spec)``; applied to ``(key, value)``
pairs, it runs on the Rust engine's keyed state (``beamline::state``): the
cells live in the engine, per key and window, and the runtime objects below
read and write them during the call that received them."""

import types

from beamline.coders.coders import Coder
from beamline.transforms.timeutil import TimeDomain
from beamline.utils.timestamp import Timestamp

__all__ = ["StateSpec", "ReadModifyWriteStateSpec", "BagStateSpec", "SetStateSpec", "CombiningValueStateSpec",
           "OrderedListStateSpec", "TimerSpec", "on_timer", "get_dofn_specs", "is_stateful_dofn",
           "validate_stateful_dofn", "BaseTimer", "RuntimeTimer", "RuntimeState", "ReadModifyWriteRuntimeState",
           "AccumulatingRuntimeState", "BagRuntimeState", "SetRuntimeState", "CombiningValueRuntimeState",
           "OrderedListRuntimeState", "TimeDomain"]


class StateSpec:
    """Specification for a user DoFn state cell."""

    _kind = None

    def __init__(self, name, coder):
        if not isinstance(name, str):
            raise TypeError("name is not a string")
        if not isinstance(coder, Coder):
            raise TypeError("coder is not of type Coder")
        self.name = name
        self.coder = coder

    def __repr__(self):
        return "%s(%s)" % (self.__class__.__name__, self.name)

    def _native(self, label):
        """``(name, kind, built-in combiner, pickled CombineFn invoker)`` for the engine."""
        return (self.name, self._kind, None, None)


class ReadModifyWriteStateSpec(StateSpec):
    """A value cell: read, written, cleared."""

    _kind = "value"


class BagStateSpec(StateSpec):
    """A bag: values added, read back in any order."""

    _kind = "bag"


class SetStateSpec(StateSpec):
    """A set of distinct values."""

    _kind = "set"


class CombiningValueStateSpec(StateSpec):
    """A cell holding a ``CombineFn``'s accumulator: ``CombiningValueStateSpec(name, combine_fn)``
    or ``CombiningValueStateSpec(name, coder, combine_fn)``."""

    _kind = "combining"

    def __init__(self, name, coder=None, combine_fn=None):
        from beamline.transforms.core import CombineFn

        if combine_fn is None:
            if coder is None:
                raise ValueError("combine_fn must be provided")
            coder, combine_fn = None, coder
        self._fn = combine_fn
        self.combine_fn = CombineFn.maybe_from_callable(combine_fn)
        if coder is None:
            from beamline.coders.coders import PickleCoder

            coder = PickleCoder()
        super().__init__(name, coder)

    def _native(self, label):
        from beamline.transforms.core import _combiner

        name, invoker = _combiner(self._fn, (), {}, label)
        return (self.name, self._kind, name, invoker)


class OrderedListStateSpec(StateSpec):
    """Values kept in timestamp order, read by range: ``add((timestamp, value))``."""

    _kind = "ordered_list"


class TimerSpec:
    """Specification for a user stateful DoFn timer."""

    prefix = "ts-"

    def __init__(self, name, time_domain):
        self.name = self.prefix + name
        if time_domain not in (TimeDomain.WATERMARK, TimeDomain.REAL_TIME):
            raise ValueError("Unsupported TimeDomain: %r." % (time_domain,))
        self.time_domain = time_domain
        self._attached_callback = None

    def __repr__(self):
        return "%s(%s)" % (self.__class__.__name__, self.name)


def on_timer(timer_spec):
    """Decorates the method called when the timer of ``timer_spec`` fires."""
    if not isinstance(timer_spec, TimerSpec):
        raise ValueError("@on_timer decorator expected TimerSpec.")

    def _inner(method):
        if not callable(method):
            raise ValueError("@on_timer decorator expected callable.")
        if timer_spec._attached_callback:
            raise ValueError("Multiple on_timer callbacks registered for %r." % timer_spec)
        timer_spec._attached_callback = method
        return method

    return _inner


def _method_params(method):
    """The DoFn params among ``method``'s parameter defaults."""
    import inspect

    from beamline.transforms.core import _DoFnParam

    try:
        sig = inspect.signature(method)
    except (TypeError, ValueError):
        return []
    return [p.default for p in sig.parameters.values() if isinstance(p.default, _DoFnParam)]


def get_dofn_specs(dofn):
    """The state and timer specs of a DoFn, from the params of its methods."""
    from beamline.transforms.core import _StateDoFnParam, _TimerDoFnParam

    all_state_specs = set()
    all_timer_specs = set()
    for method_name in dir(dofn):
        method = getattr(dofn, method_name, None)
        if not isinstance(method, types.MethodType):
            continue
        params = _method_params(method)
        param_ids = [d.param_id for d in params]
        if len(param_ids) != len(set(param_ids)):
            raise ValueError("DoFn %r has duplicate %s method parameters: %s." % (dofn, method_name, param_ids))
        for d in params:
            if isinstance(d, _StateDoFnParam):
                all_state_specs.add(d.state_spec)
            elif isinstance(d, _TimerDoFnParam):
                all_timer_specs.add(d.timer_spec)
    return all_state_specs, all_timer_specs


def is_stateful_dofn(dofn):
    """Whether a DoFn uses state or timers."""
    all_state_specs, all_timer_specs = get_dofn_specs(dofn)
    return bool(all_state_specs or all_timer_specs)


def validate_stateful_dofn(dofn):
    """Beam's checks: unique names, and a callback for every timer."""
    all_state_specs, all_timer_specs = get_dofn_specs(dofn)
    if len(all_state_specs) != len(set(s.name for s in all_state_specs)):
        raise ValueError("DoFn %r has multiple StateSpecs with the same name: %s." % (dofn, all_state_specs))
    if len(all_timer_specs) != len(set(s.name for s in all_timer_specs)):
        raise ValueError("DoFn %r has multiple TimerSpecs with the same name: %s." % (dofn, all_timer_specs))
    for timer_spec in all_timer_specs:
        if not timer_spec._attached_callback:
            raise ValueError(("DoFn %r has a TimerSpec without an associated on_timer "
                              "callback: %s.") % (dofn, timer_spec))
        method_name = timer_spec._attached_callback.__name__
        if timer_spec._attached_callback != getattr(getattr(dofn, method_name, None), "__func__", None):
            raise ValueError(("The on_timer callback for %s is not the specified .%s method "
                              "for DoFn %r (perhaps it was overwritten?).") % (timer_spec, method_name, dofn))


# Runtime objects: what a DoFn's StateParam and TimerParam read as during a call.

class BaseTimer:
    def clear(self, dynamic_timer_tag=""):
        raise NotImplementedError

    def set(self, timestamp, dynamic_timer_tag=""):
        raise NotImplementedError


class RuntimeTimer(BaseTimer):
    """A timer of the key and window being processed."""

    def __init__(self, access=None, index=None):
        self._access = access
        self._index = index

    def clear(self, dynamic_timer_tag=""):
        self._access.clear_timer(self._index, dynamic_timer_tag)

    def set(self, timestamp, dynamic_timer_tag=""):
        self._access.set_timer(self._index, dynamic_timer_tag, Timestamp.of(timestamp).micros)


class RuntimeState:
    def __init__(self, access=None, index=None):
        self._access = access
        self._index = index

    def prefetch(self):
        pass

    def finalize(self):
        pass


class ReadModifyWriteRuntimeState(RuntimeState):
    def read(self):
        return self._access.read(self._index)

    def write(self, value):
        self._access.write(self._index, value)

    def clear(self):
        self._access.clear(self._index)

    def commit(self):
        pass


class AccumulatingRuntimeState(RuntimeState):
    def read(self):
        return self._access.read(self._index)

    def add(self, value):
        self._access.add(self._index, value)

    def clear(self):
        self._access.clear(self._index)

    def commit(self):
        pass


class BagRuntimeState(AccumulatingRuntimeState):
    """A bag's values (``read()`` gives them as an iterable)."""


class SetRuntimeState(AccumulatingRuntimeState):
    """A set's values (``read()`` gives a set)."""

    def read(self):
        return set(self._access.read(self._index))


class CombiningValueRuntimeState(AccumulatingRuntimeState):
    """A combining cell (``read()`` gives the combined value)."""


class OrderedListRuntimeState(AccumulatingRuntimeState):
    """Values by timestamp: ``add((timestamp, value))``, ``read()``, ``read_range(lo, hi)``."""

    def read(self):
        return [(Timestamp(micros=t), v) for t, v in self._access.read(self._index)]

    def add(self, value):
        ts, v = value
        self._access.add_ordered(self._index, Timestamp.of(ts).micros, v)

    def read_range(self, min_timestamp, limit_timestamp):
        return [(Timestamp(micros=t), v) for t, v in self._access.read_range(
            self._index, Timestamp.of(min_timestamp).micros, Timestamp.of(limit_timestamp).micros)]

    def clear_range(self, min_timestamp, limit_timestamp):
        self._access.clear_range(self._index, Timestamp.of(min_timestamp).micros,
                                 Timestamp.of(limit_timestamp).micros)


_RUNTIME = {"value": ReadModifyWriteRuntimeState, "bag": BagRuntimeState, "set": SetRuntimeState,
            "combining": CombiningValueRuntimeState, "ordered_list": OrderedListRuntimeState}
