"""Event time as Beam's Python SDK has it: ``Timestamp`` and ``Duration`` in microseconds."""

import datetime
import functools

# The Rust SDK's range (Beam Java's millisecond range, in microseconds).
_MIN_MICROS = -9_223_372_036_854_775
_MAX_MICROS = 9_223_372_036_854_775


def _to_micros(seconds):
    return int(round(seconds * 1_000_000)) if isinstance(seconds, float) else int(seconds) * 1_000_000


def _repr(kind, micros):
    """Beam's ``Timestamp(12)`` / ``Duration(-1.500000)``."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), 1_000_000)
    return "%s(%s%d.%06d)" % (kind, sign, whole, frac) if frac else "%s(%s%d)" % (kind, sign, whole)


@functools.total_ordering
class Timestamp:
    """A point in event time, stored as whole microseconds since the epoch."""

    __slots__ = ("micros",)

    def __init__(self, seconds=0, micros=0):
        if isinstance(seconds, Timestamp):
            self.micros = seconds.micros
        else:
            self.micros = _to_micros(seconds) + int(micros)

    @staticmethod
    def of(seconds):
        """A Timestamp from seconds (int or float) or a Timestamp."""
        if isinstance(seconds, Timestamp):
            return seconds
        if isinstance(seconds, Duration):
            raise TypeError("Can't interpret %r as Timestamp." % (seconds,))
        return Timestamp(seconds)

    @staticmethod
    def from_utc_datetime(dt):
        if dt.tzinfo is None:
            raise ValueError("dt has no timezone info (https://docs.python.org/3/library/datetime.html#aware-and-naive-objects): %s" % dt)
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        delta = dt - epoch
        return Timestamp(micros=(delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)

    @staticmethod
    def now():
        import time

        return Timestamp(micros=time.time_ns() // 1000)

    def seconds(self):
        return self.micros / 1_000_000

    def to_utc_datetime(self):
        return datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=self.micros)

    def to_rfc3339(self):
        return self.to_utc_datetime().isoformat() + "Z"

    def __float__(self):
        return self.micros / 1_000_000

    def __int__(self):
        return self.micros // 1_000_000

    def __repr__(self):
        return _repr("Timestamp", self.micros)

    def __str__(self):
        return repr(self)

    def _other(self, other):
        if isinstance(other, Duration):
            raise TypeError("Cannot compare a Timestamp with a Duration")
        return Timestamp.of(other).micros

    def __eq__(self, other):
        try:
            return self.micros == self._other(other)
        except TypeError:
            return NotImplemented

    def __lt__(self, other):
        return self.micros < self._other(other)

    def __hash__(self):
        return hash(self.micros)

    def __add__(self, other):
        return Timestamp(micros=self.micros + Duration.of(other).micros)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, Timestamp):
            return Duration(micros=self.micros - other.micros)
        return Timestamp(micros=self.micros - Duration.of(other).micros)

    def __mod__(self, other):
        return Duration(micros=self.micros % Duration.of(other).micros)

    def __reduce__(self):
        return (Timestamp, (0, self.micros))


@functools.total_ordering
class Duration:
    """A span of event time in microseconds."""

    __slots__ = ("micros",)

    def __init__(self, seconds=0, micros=0):
        self.micros = _to_micros(seconds) + int(micros)

    @staticmethod
    def of(seconds):
        if isinstance(seconds, Timestamp):
            raise TypeError("Cannot interpret %s as Duration." % seconds)
        if isinstance(seconds, Duration):
            return seconds
        return Duration(seconds)

    def __repr__(self):
        return _repr("Duration", self.micros)

    def __float__(self):
        return self.micros / 1_000_000

    def __eq__(self, other):
        try:
            return self.micros == Duration.of(other).micros
        except TypeError:
            return NotImplemented

    def __lt__(self, other):
        return self.micros < Duration.of(other).micros

    def __hash__(self):
        return hash(self.micros)

    def __neg__(self):
        return Duration(micros=-self.micros)

    def __add__(self, other):
        if isinstance(other, Timestamp):
            return other + self
        return Duration(micros=self.micros + Duration.of(other).micros)

    __radd__ = __add__

    def __sub__(self, other):
        return Duration(micros=self.micros - Duration.of(other).micros)

    def __mul__(self, other):
        return Duration(micros=self.micros * Duration.of(other).micros // 1_000_000)

    __rmul__ = __mul__

    def __mod__(self, other):
        return Duration(micros=self.micros % Duration.of(other).micros)

    def __reduce__(self):
        return (Duration, (0, self.micros))


MIN_TIMESTAMP = Timestamp(micros=_MIN_MICROS)
MAX_TIMESTAMP = Timestamp(micros=_MAX_MICROS)
TIME_GRANULARITY = Duration(micros=1)
