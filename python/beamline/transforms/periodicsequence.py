"""``PeriodicImpulse``: an unbounded source of elements at a fixed interval of
processing time (Beam's ``apache_beam.transforms.periodicsequence``), on the
Rust ``GenerateSequence`` paced at one element per interval.

One difference from Beam: the Rust source paces its elements from the moment
the pipeline starts, so a ``start_timestamp`` in the past does not make the
elements up to now come at once, as Beam's does; their event times and values
are Beam's.
"""

import enum
import math
import warnings

from beamline.transforms import window
from beamline.transforms.core import Map, WindowInto
from beamline.transforms.ptransform import PTransform
from beamline.utils.timestamp import MAX_TIMESTAMP, Duration, Timestamp

__all__ = ["PeriodicImpulse", "RebaseMode"]


class RebaseMode(enum.Enum):
    """Controls how the start and stop timestamps are rebased to execution time."""

    REBASE_NONE = 0
    REBASE_ALL = 1
    REBASE_START = 2


class _Generate(PTransform):
    """The Rust ``GenerateSequence``: ints ``0, 1, ...`` at ``start + i * spacing``."""

    def __init__(self, count, rate, start_micros, spacing_micros):
        super().__init__()
        self._args = (count, rate, start_micros, spacing_micros)

    def _native_apply(self, pipeline, label, pbegin):
        count, rate, start, spacing = self._args
        return pipeline._pcoll(pipeline._native.generate_sequence(label, count, rate, start, spacing), label)


class PeriodicImpulse(PTransform):
    """Emits an element every ``fire_interval`` seconds from ``start_timestamp``
    until (excluding) ``stop_timestamp``: the event time in seconds as a float,
    or the values of ``data`` (repeated), or ``data``'s ``(Timestamp, value)``
    pairs at their timestamps. ``apply_windowing`` puts each element in a
    fixed window of the interval."""

    def __init__(self, start_timestamp=None, stop_timestamp=MAX_TIMESTAMP, fire_interval=360.0,
                 apply_windowing=False, data=None, rebase=RebaseMode.REBASE_NONE):
        super().__init__()
        self.start_ts = Timestamp.now() if start_timestamp is None else start_timestamp
        self.stop_ts = stop_timestamp
        self.interval = fire_interval
        self.apply_windowing = apply_windowing
        self.data = data
        self.rebase = rebase
        if Duration.of(fire_interval).micros <= 0:
            raise ValueError("fire_interval must be positive, got %r" % (fire_interval,))
        if data is not None and len(data) == 0:
            raise ValueError("data must not be empty")
        if self.data:
            self._validate_and_adjust_duration()

    def _validate_and_adjust_duration(self):
        """Beam's: an endless impulse over data ends after the data; too little
        pre-timestamped data is an error, too few plain values repeat (with a warning)."""
        data_duration = (len(self.data) - 1) * Duration.of(self.interval)
        is_pre_timestamped = isinstance(self.data[0], tuple) and isinstance(self.data[0][0], Timestamp)
        start_ts = Timestamp.of(self.start_ts)
        stop_ts = Timestamp.of(self.stop_ts)
        if stop_ts == MAX_TIMESTAMP:
            self.stop_ts = start_ts + data_duration + Duration.of(self.interval)
            stop_ts = self.stop_ts
        impulse_duration = stop_ts - start_ts
        if data_duration + Duration.of(self.interval) < impulse_duration:
            message = ("The number of elements in the provided pre-timestamped data sequence is not enough to span "
                       "the full impulse duration. Expected duration: %s, actual data duration: %s."
                       % (impulse_duration, data_duration))
            if is_pre_timestamped:
                raise ValueError("%s Please either provide more data or decrease `stop_timestamp`." % message)
            warnings.warn("%s As a result, the data sequence will be repeated to generate elements for the entire "
                          "duration." % message)

    def _bounds(self):
        start, stop = Timestamp.of(self.start_ts), Timestamp.of(self.stop_ts)
        if self.rebase == RebaseMode.REBASE_ALL:
            duration = stop - start
            start = Timestamp.now()
            stop = start + duration if stop < MAX_TIMESTAMP else stop
        elif self.rebase == RebaseMode.REBASE_START:
            start = Timestamp.now()
        return start, stop

    def expand(self, pbegin):
        start, stop = self._bounds()
        interval = Duration.of(self.interval).micros
        count = None if stop >= MAX_TIMESTAMP else max(0, math.ceil((stop.micros - start.micros) / interval))
        data = self.data
        pre_timestamped = (data is not None and isinstance(data[0], tuple) and len(data[0]) == 2
                           and isinstance(data[0][0], Timestamp))
        start_micros = start.micros
        numbers = pbegin | "GenSequence" >> _Generate(count, 1_000_000 / interval, start_micros, interval)
        if data is None:
            result = numbers | "MapToTimestamped" >> Map(lambda i: (start_micros + i * interval) / 1_000_000)
        elif pre_timestamped:
            result = numbers | "MapToTimestamped" >> Map(
                lambda i: window.TimestampedValue(data[i % len(data)][1], data[i % len(data)][0]))
        else:
            result = numbers | "MapToTimestamped" >> Map(lambda i: data[i % len(data)])
        if self.apply_windowing:
            result = result | "ApplyWindowing" >> WindowInto(window.FixedWindows(self.interval))
        return result
