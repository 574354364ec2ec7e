"""``WindowedValue``: a value with its timestamp and windows (what ``finish_bundle`` emits)."""

from beamline.utils.timestamp import Timestamp


class PaneInfoTiming:
    """When a pane fired relative to its window's end."""

    EARLY = 0
    ON_TIME = 1
    LATE = 2
    UNKNOWN = 3

    @classmethod
    def to_string(cls, value):
        return {0: "EARLY", 1: "ON_TIME", 2: "LATE", 3: "UNKNOWN"}.get(value, str(value))


class PaneInfo:
    """The pane of a window an element belongs to."""

    def __init__(self, is_first=True, is_last=True, timing=PaneInfoTiming.UNKNOWN, index=0, nonspeculative_index=0):
        self.is_first = is_first
        self.is_last = is_last
        self.timing = timing
        self.index = index
        self.nonspeculative_index = nonspeculative_index

    def __eq__(self, other):
        return isinstance(other, PaneInfo) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def _key(self):
        return (self.is_first, self.is_last, self.timing, self.index, self.nonspeculative_index)

    def __repr__(self):
        return "PaneInfo(first: %r, last: %r, timing: %s, index: %d, nonspeculative_index: %d)" % (
            self.is_first, self.is_last, PaneInfoTiming.to_string(self.timing), self.index, self.nonspeculative_index)

    def __reduce__(self):
        return (PaneInfo, self._key())


# The pane of an element that no trigger fired (Beam's constant).
PANE_INFO_UNKNOWN = PaneInfo(True, True, PaneInfoTiming.UNKNOWN, 0, 0)


class WindowedValue:
    """A value, its event time and the windows it is in."""

    __slots__ = ("value", "timestamp", "windows", "pane_info")

    def __init__(self, value, timestamp, windows, pane_info=None):
        self.value = value
        self.timestamp = Timestamp.of(timestamp)
        self.windows = tuple(windows)
        self.pane_info = pane_info

    def __repr__(self):
        return "(%s, %s, %s, %s)" % (repr(self.value), self.timestamp, self.windows, self.pane_info)

    def __eq__(self, other):
        return (isinstance(other, WindowedValue) and self.value == other.value
                and self.timestamp == other.timestamp and self.windows == other.windows)

    def __hash__(self):
        return hash((self.timestamp, self.windows))

    def with_value(self, new_value):
        return WindowedValue(new_value, self.timestamp, self.windows, self.pane_info)
