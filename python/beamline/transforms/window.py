"""Windows and window functions, with Beam's names: ``FixedWindows``,
``SlidingWindows``, ``Sessions``, ``GlobalWindows``, and ``TimestampedValue``.

A window function here describes the windowing; the Rust runners assign and
merge the windows.
"""

import functools

from beamline.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP, Duration, Timestamp

__all__ = [
    "TimestampCombiner", "WindowFn", "BoundedWindow", "IntervalWindow", "GlobalWindow", "TimestampedValue",
    "GlobalWindows", "FixedWindows", "SlidingWindows", "Sessions", "NonMergingWindowFn",
]

_END_OF_GLOBAL_WINDOW_MICROS = MAX_TIMESTAMP.micros - 86_400 * 1_000_000


class TimestampCombiner:
    """How a grouped output's timestamp is chosen (beamline uses the end of the window)."""

    OUTPUT_AT_EOW = "OUTPUT_AT_EOW"
    OUTPUT_AT_EARLIEST = "OUTPUT_AT_EARLIEST"
    OUTPUT_AT_LATEST = "OUTPUT_AT_LATEST"


@functools.total_ordering
class BoundedWindow:
    """A window of event time."""

    def max_timestamp(self):
        raise NotImplementedError

    def __lt__(self, other):
        return self.max_timestamp() < other.max_timestamp()


class IntervalWindow(BoundedWindow):
    """The half-open interval ``[start, end)``."""

    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start = Timestamp.of(start)
        self.end = Timestamp.of(end)

    @classmethod
    def _of_micros(cls, start, end):
        w = cls.__new__(cls)
        w.start = Timestamp(micros=start)
        w.end = Timestamp(micros=end)
        return w

    def max_timestamp(self):
        return Timestamp(micros=self.end.micros - 1)

    def __eq__(self, other):
        return type(other) is type(self) and self.start == other.start and self.end == other.end

    def __hash__(self):
        return hash((self.start.micros, self.end.micros))

    def __lt__(self, other):
        if isinstance(other, IntervalWindow):
            return (self.end.micros, self.start.micros) < (other.end.micros, other.start.micros)
        return BoundedWindow.__lt__(self, other)

    def __repr__(self):
        return "[%s, %s)" % (float(self.start), float(self.end))

    def __reduce__(self):
        return (IntervalWindow._of_micros, (self.start.micros, self.end.micros))

    def intersects(self, other):
        return other.start < self.end or self.start < other.end

    def union(self, other):
        return IntervalWindow(min(self.start, other.start), max(self.end, other.end))


class GlobalWindow(BoundedWindow):
    """The single window of everything."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def max_timestamp(self):
        return Timestamp(micros=_END_OF_GLOBAL_WINDOW_MICROS)

    def __eq__(self, other):
        return isinstance(other, GlobalWindow)

    def __hash__(self):
        return hash(type(self))

    def __repr__(self):
        return "GlobalWindow"

    def __reduce__(self):
        return (GlobalWindow, ())


def _window_of(spec):
    """A window from the runner's ``None`` (global) or ``(start, end)`` in microseconds."""
    if spec is None:
        return GlobalWindow()
    return IntervalWindow._of_micros(spec[0], spec[1])


class TimestampedValue:
    """A value with an event time: emitted from a DoFn, it moves the element to that time."""

    __slots__ = ("value", "timestamp")

    def __init__(self, value, timestamp):
        self.value = value
        self.timestamp = Timestamp.of(timestamp)

    def __repr__(self):
        return "TimestampedValue(%r, %r)" % (self.value, self.timestamp)

    def __eq__(self, other):
        return isinstance(other, TimestampedValue) and self.value == other.value and self.timestamp == other.timestamp

    def __hash__(self):
        return hash((self.value, self.timestamp))

    def __reduce__(self):
        return (TimestampedValue, (self.value, self.timestamp))


def _micros(d):
    return Duration.of(d).micros


class WindowFn:
    """Assigns windows to elements."""

    def _native(self):
        """``(kind, size, period, offset)`` in microseconds, for the runner."""
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self._native() == other._native()

    def __hash__(self):
        return hash(self._native())


class NonMergingWindowFn(WindowFn):
    """A window function whose windows never merge."""


class GlobalWindows(NonMergingWindowFn):
    """Everything in one window."""

    def _native(self):
        return ("global", 0, 0, 0)

    def __repr__(self):
        return "GlobalWindows()"


class FixedWindows(NonMergingWindowFn):
    """Tumbling windows of ``size`` seconds, shifted by ``offset``."""

    def __init__(self, size, offset=0):
        if _micros(size) <= 0:
            raise ValueError("The size parameter must be strictly positive.")
        self.size = Duration.of(size)
        self.offset = Timestamp.of(offset) if not isinstance(offset, Duration) else Timestamp(micros=offset.micros)

    def _native(self):
        return ("fixed", self.size.micros, 0, self.offset.micros % self.size.micros)


class SlidingWindows(NonMergingWindowFn):
    """Windows of ``size`` seconds, one starting every ``period`` seconds."""

    def __init__(self, size, period, offset=0):
        if _micros(size) <= 0 or _micros(period) <= 0:
            raise ValueError("The size and period parameters must be strictly positive.")
        self.size = Duration.of(size)
        self.period = Duration.of(period)
        self.offset = Timestamp.of(offset) if not isinstance(offset, Duration) else Timestamp(micros=offset.micros)

    def _native(self):
        return ("sliding", self.size.micros, self.period.micros, self.offset.micros % self.period.micros)


class Sessions(WindowFn):
    """Per-key sessions: windows ``[t, t + gap_size)`` merged while they overlap."""

    def __init__(self, gap_size):
        if _micros(gap_size) <= 0:
            raise ValueError("The size parameter must be strictly positive.")
        self.gap_size = Duration.of(gap_size)

    def _native(self):
        return ("sessions", self.gap_size.micros, 0, 0)


__all__ += ["MIN_TIMESTAMP", "MAX_TIMESTAMP", "Timestamp", "Duration"]
