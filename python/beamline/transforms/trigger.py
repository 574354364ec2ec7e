"""Beam's trigger names, so that pipelines using them import. beamline fires
each window once, when the watermark passes its end: ``WindowInto`` with a
trigger or an accumulation mode raises NotImplementedError."""

__all__ = ["AccumulationMode", "TriggerFn", "DefaultTrigger", "AfterWatermark", "AfterCount", "AfterProcessingTime",
           "AfterAny", "AfterAll", "AfterEach", "Always", "Repeatedly", "OrFinally"]


class AccumulationMode:
    DISCARDING = 1
    ACCUMULATING = 2


class TriggerFn:
    """A trigger (accepted by name; WindowInto refuses to run it)."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(repr(a) for a in self.args))


class DefaultTrigger(TriggerFn):
    pass


class AfterWatermark(TriggerFn):
    pass


class AfterCount(TriggerFn):
    pass


class AfterProcessingTime(TriggerFn):
    pass


class AfterAny(TriggerFn):
    pass


class AfterAll(TriggerFn):
    pass


class AfterEach(TriggerFn):
    pass


class Always(TriggerFn):
    pass


class Repeatedly(TriggerFn):
    pass


class OrFinally(TriggerFn):
    pass
