"""Beam's triggers and accumulation modes. A trigger says when a window's
results come out (early, on time, late); the accumulation mode whether each
pane repeats the earlier ones' elements. The Python classes only describe the
trigger: ``WindowInto`` hands it to the Rust engine (``beamline::Trigger``),
which fires it on every runner."""

import json
from enum import Flag, auto

from beamline.utils.timestamp import Duration

__all__ = ["AccumulationMode", "TriggerFn", "DefaultTrigger", "AfterWatermark", "AfterCount", "AfterProcessingTime",
           "AfterAny", "AfterAll", "AfterEach", "Always", "Repeatedly", "OrFinally", "DataLossReason"]


class AccumulationMode:
    """Whether a pane holds only what arrived since the last firing (DISCARDING)
    or everything so far (ACCUMULATING). Values as Beam's runner API enum."""

    UNSPECIFIED = 0
    DISCARDING = 1
    ACCUMULATING = 2
    RETRACTING = 3


class DataLossReason(Flag):
    """Why a trigger may lose data (Beam's flags)."""

    NO_POTENTIAL_LOSS = 0
    MAY_FINISH = auto()
    CONDITION_NOT_GUARANTEED = auto()


class TriggerFn:
    """A trigger: describes when a window fires; the engine runs it."""

    def _native(self):
        """The Rust ``Trigger``'s serde form."""
        raise NotImplementedError

    def _native_json(self):
        return json.dumps(self._native())

    def may_lose_data(self, windowing):
        """Beam's check, answered by the Rust engine's ``data_loss_reason``."""
        from beamline import _native

        lateness = Duration.of(windowing.allowed_lateness).micros if windowing is not None else 0
        reason = _native.trigger_data_loss(self._native_json(), lateness)
        return DataLossReason.NO_POTENTIAL_LOSS if reason is None else DataLossReason[reason]

    def get_continuation_trigger(self):
        """What this trigger's firings mean after a grouping, as the Rust engine computes it."""
        from beamline import _native

        return _from_native(json.loads(_native.trigger_continuation(self._native_json())))

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self), self._key()))

    def _key(self):
        return ()


class DefaultTrigger(TriggerFn):
    """Fires when the watermark passes the end of the window, then once per late element."""

    def __repr__(self):
        return "DefaultTrigger()"

    def _native(self):
        return "Default"


class AfterProcessingTime(TriggerFn):
    """Fires ``delay`` seconds of processing time after the pane's first element."""

    def __init__(self, delay=0):
        self.delay = delay

    def __repr__(self):
        return "AfterProcessingTime(delay=%d)" % self.delay

    def _key(self):
        return (self.delay,)

    def _native(self):
        return {"AfterProcessingTime": {"delay": Duration.of(self.delay).micros, "align": None}}


class Always(TriggerFn):
    """Fires for every element."""

    def __repr__(self):
        return "Always"

    def _native(self):
        return "Always"


class _Never(TriggerFn):
    """Never fires; the window's contents come out when it expires."""

    def __repr__(self):
        return "Never"

    def _native(self):
        return "Never"


class AfterWatermark(TriggerFn):
    """Fires when the watermark passes the end of the window; ``early`` fires
    repeatedly before that, ``late`` repeatedly after."""

    def __init__(self, early=None, late=None):
        self.early = self._wrap_if_not_repeatedly(early)
        self.late = self._wrap_if_not_repeatedly(late)

    @staticmethod
    def _wrap_if_not_repeatedly(trigger):
        if trigger and not isinstance(trigger, Repeatedly):
            return Repeatedly(trigger)
        return trigger

    def __repr__(self):
        qualifiers = []
        if self.early:
            qualifiers.append("early=%s" % self.early.underlying)
        if self.late:
            qualifiers.append("late=%s" % self.late.underlying)
        return "AfterWatermark(%s)" % ", ".join(qualifiers)

    def _key(self):
        return (self.early, self.late)

    def _native(self):
        return {"AfterWatermark": {"early": self.early.underlying._native() if self.early else None,
                                   "late": self.late.underlying._native() if self.late else None}}


class AfterCount(TriggerFn):
    """Fires once the pane holds ``count`` elements."""

    def __init__(self, count):
        if count < 1:
            raise ValueError("count (%d) must be a positive integer." % count)
        self.count = count

    def __repr__(self):
        return "AfterCount(%s)" % self.count

    def _key(self):
        return (self.count,)

    def _native(self):
        return {"AfterCount": self.count}


class Repeatedly(TriggerFn):
    """Fires whenever ``underlying`` fires, forever."""

    def __init__(self, underlying):
        self.underlying = underlying

    def __repr__(self):
        return "Repeatedly(%s)" % self.underlying

    def _key(self):
        return (self.underlying,)

    def _native(self):
        return {"Repeatedly": self.underlying._native()}


class _ParallelTriggerFn(TriggerFn):
    def __init__(self, *triggers):
        self.triggers = triggers

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(str(t) for t in self.triggers))

    def _key(self):
        return tuple(self.triggers)

    def _native(self):
        return {type(self).__name__: [t._native() for t in self.triggers]}


class AfterAny(_ParallelTriggerFn):
    """Fires when any of its triggers fires; finishes when that one finishes."""


class AfterAll(_ParallelTriggerFn):
    """Fires when all of its triggers have fired."""


class AfterEach(TriggerFn):
    """Runs its triggers one after the other."""

    def __init__(self, *triggers):
        self.triggers = triggers

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(str(t) for t in self.triggers))

    def _key(self):
        return tuple(self.triggers)

    def _native(self):
        return {"AfterEach": [t._native() for t in self.triggers]}


class OrFinally(AfterAny):
    """Fires as ``trigger`` does, and finishes when ``finally_trigger`` fires."""

    def __init__(self, trigger, finally_trigger):
        super().__init__(trigger, finally_trigger)

    def _native(self):
        return {"OrFinally": [self.triggers[0]._native(), self.triggers[1]._native()]}


class _AfterSynchronizedProcessingTime(TriggerFn):
    """A processing-time trigger after a grouping: fires as soon as an element has arrived."""

    def __repr__(self):
        return "_AfterSynchronizedProcessingTime()"

    def _native(self):
        return "AfterSynchronizedProcessingTime"


def _from_native(t):
    """The Python trigger of a Rust ``Trigger``'s serde form."""
    simple = {"Default": DefaultTrigger, "Never": _Never, "Always": Always,
              "AfterSynchronizedProcessingTime": _AfterSynchronizedProcessingTime}
    if isinstance(t, str):
        return simple[t]()
    (kind, arg), = t.items()
    if kind == "AfterWatermark":
        return AfterWatermark(early=_from_native(arg["early"]) if arg["early"] is not None else None,
                              late=_from_native(arg["late"]) if arg["late"] is not None else None)
    if kind == "AfterProcessingTime":
        return AfterProcessingTime(Duration(micros=arg["delay"]).micros / 1_000_000)
    if kind == "AfterCount":
        return AfterCount(arg)
    if kind == "Repeatedly":
        return Repeatedly(_from_native(arg))
    if kind == "OrFinally":
        return OrFinally(_from_native(arg[0]), _from_native(arg[1]))
    return {"AfterAny": AfterAny, "AfterAll": AfterAll, "AfterEach": AfterEach}[kind](*[_from_native(x) for x in arg])
