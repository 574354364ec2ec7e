"""``GenerateSequence``: Beam's cross-language generator of integers, here
on beamline's own Rust ``GenerateSequence`` (no Java expansion service).

Beam's arguments: ``start``, ``stop`` (exclusive; endless when ``None``),
``elements_per_period`` (elements per second), ``max_read_time``
(milliseconds; with a rate, it bounds the count). beamline's own, by
keyword: ``timestamp_spacing`` (seconds of event time between elements,
default 0.001, from ``timestamp_start`` seconds), ``out_of_order`` (seconds of
bounded out-of-orderness), ``late_every``/``late_by`` (every n-th element that
much behind the watermark), ``seed``. Element ``start + i`` has event time
``timestamp_start + i * timestamp_spacing`` (Java's generator stamps
elements with the processing time instead).
"""

from beamline.transforms.ptransform import PTransform
from beamline.utils.timestamp import Duration, Timestamp

__all__ = ["GenerateSequence"]


class GenerateSequence(PTransform):
    """Integers from ``start`` (to ``stop``, exclusive), as an unbounded PCollection."""

    URN = "beam:external:java:generate_sequence:v1"

    def __init__(self, start=0, stop=None, elements_per_period=None, max_read_time=None, expansion_service=None, *,
                 timestamp_start=0, timestamp_spacing=0.001, out_of_order=0, late_every=0, late_by=0, seed=0):
        super().__init__()
        if stop is not None and stop < start:
            raise ValueError("stop (%r) must not be below start (%r)" % (stop, start))
        count = None if stop is None else stop - start
        rate = float(elements_per_period or 0)
        if max_read_time is not None:
            if not rate:
                raise NotImplementedError("beamline's GenerateSequence bounds max_read_time through the rate: give "
                                          "elements_per_period too (or stop the pipeline with --max-duration)")
            by_time = int(rate * max_read_time / 1000)
            count = by_time if count is None else min(count, by_time)
        self.start = start
        self._args = dict(count=count, rate=rate, start=Timestamp.of(timestamp_start).micros,
                          spacing=Duration.of(timestamp_spacing).micros, out_of_order=Duration.of(out_of_order).micros,
                          late_every=late_every, late_by=Duration.of(late_by).micros, seed=seed)

    def default_label(self):
        return "GenerateSequence"

    def expand(self, pbegin):
        from beamline.transforms.core import Map

        numbers = pbegin | "Generate" >> _Numbers(self._args)
        if self.start == 0:
            return numbers
        offset = self.start
        return numbers | "Offset" >> Map(lambda i: i + offset)


class _Numbers(PTransform):
    """The Rust ``GenerateSequence``."""

    def __init__(self, args):
        super().__init__()
        self._args = args

    def _native_apply(self, pipeline, label, pbegin):
        return pipeline._pcoll(pipeline._native.generate_sequence(label, **self._args), label)
