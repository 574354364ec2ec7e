"""``assert_that`` with ``equal_to``, ``is_empty``, ``is_not_empty``: checks that run
inside the pipeline, on every runner, as in Beam; ``open_shards`` reads the
shards a pipeline wrote as one file."""

import glob
import io
import tempfile
import typing

from beamline.transforms import window
from beamline.transforms.core import Create, CoGroupByKey, DoFn, Map, ParDo, WindowInto
from beamline.transforms.ptransform import PTransform
from beamline.utils.windowed_value import PANE_INFO_UNKNOWN, PaneInfo

__all__ = ["assert_that", "equal_to", "is_empty", "is_not_empty", "BeamAssertException", "matches_all",
           "open_shards", "TestWindowedValue", "row_namedtuple_equals_fn", "equal_to_per_window",
           "contains_in_any_order"]


class TestWindowedValue(typing.NamedTuple):
    """An element with its timestamp, windows and pane, as ``assert_that(reify_windows=True)`` gives it."""

    value: typing.Any
    timestamp: typing.Any
    windows: list
    pane_info: PaneInfo = PANE_INFO_UNKNOWN


TestWindowedValue.__test__ = False  # not a pytest test class


def open_shards(glob_pattern, mode="rt", encoding="utf-8"):
    """One file with the contents of every file matching ``glob_pattern`` (as Beam's)."""
    if "b" in mode:
        encoding = None
    with tempfile.NamedTemporaryFile(delete=False) as out_file:
        for shard in glob.glob(glob_pattern):
            with open(shard, "rb") as in_file:
                out_file.write(in_file.read())
        concatenated_file_name = out_file.name
    return io.open(concatenated_file_name, mode, encoding=encoding)


class _ReifyTimestampWindow(DoFn):
    def process(self, element, timestamp=DoFn.TimestampParam, window=DoFn.WindowParam,
                pane_info=DoFn.PaneInfoParam):
        return [TestWindowedValue(element, timestamp, [window], pane_info)]


class BeamAssertException(Exception):
    """An in-pipeline assertion failed."""


def _unordered_equal(expected, actual):
    expected = list(expected)
    actual = list(actual)
    if len(expected) != len(actual):
        return False
    remaining = list(expected)
    for a in actual:
        for i, e in enumerate(remaining):
            if a == e:
                del remaining[i]
                break
        else:
            return False
    return True


def _is_named_tuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, "_fields") and hasattr(obj, "_asdict")


def row_namedtuple_equals_fn(expected, actual, fallback_equals_fn=None):
    """Equality that treats Rows and named tuples with the same fields as equal (Beam's default for ``equal_to``)."""
    from beamline.pvalue import Row

    if fallback_equals_fn is None:
        fallback_equals_fn = lambda e, a: e == a  # noqa: E731
    if type(expected) is not Row and not _is_named_tuple(expected):
        return fallback_equals_fn(expected, actual)
    if type(actual) is not Row and not _is_named_tuple(actual):
        return fallback_equals_fn(expected, actual)
    expected_dict = expected._asdict()
    actual_dict = actual._asdict()
    if len(expected_dict) != len(actual_dict):
        return False
    for k, v in expected_dict.items():
        if k not in actual_dict or not row_namedtuple_equals_fn(v, actual_dict[k]):
            return False
    return True


def equal_to(expected, equals_fn=None):
    """Matches when the actual elements equal ``expected`` in any order (Rows
    and named tuples with the same fields compare equal, as in Beam)."""
    expected = list(expected)

    def _equal(actual, equals_fn=equals_fn):
        actual = list(actual)
        if equals_fn is None:
            equals_fn = row_namedtuple_equals_fn
            if _unordered_equal(expected, actual):
                return
        remaining = list(expected)
        unexpected = []
        for a in actual:
            for i, e in enumerate(remaining):
                if equals_fn(e, a):
                    del remaining[i]
                    break
            else:
                unexpected.append(a)
        if unexpected or remaining:
            msg = "Failed assert: %r == %r" % (expected, actual)
            if unexpected:
                msg += ", unexpected elements %r" % (unexpected,)
            if remaining:
                msg += ", missing elements %r" % (remaining,)
            raise BeamAssertException(msg)

    return _equal


def contains_in_any_order(iterable):
    """An object equal to any iterable with the same items, counted, in any order."""
    import collections

    class InAnyOrder:
        def __init__(self, items):
            self._counter = collections.Counter(items)

        def __eq__(self, other):
            return self._counter == collections.Counter(other)

        def __hash__(self):
            return hash(tuple(sorted(self._counter.items(), key=repr)))

        def __repr__(self):
            return "InAnyOrder(%s)" % self._counter

    return InAnyOrder(iterable)


class _EqualToPerWindowMatcher:
    def __init__(self, expected_window_to_elements):
        self._expected_window_to_elements = expected_window_to_elements

    def __call__(self, value):
        expected = {w: list(vs) for w, vs in self._expected_window_to_elements.items()}
        for windowed_value in value:
            if not isinstance(windowed_value, TestWindowedValue):
                raise BeamAssertException(
                    "Failed assert: Received element {} is not of type TestWindowedValue. Did you forget to set "
                    "reify_windows=True on the assertion?".format(windowed_value))
            actual, window_key = windowed_value.value, windowed_value.windows[0]
            if window_key not in expected:
                raise BeamAssertException("Failed assert: window {} not found in any expected windows {}".format(
                    window_key, list(expected.keys())))
            try:
                expected[window_key].remove(actual)
            except ValueError:
                raise BeamAssertException("Failed assert: element {} not found in window {}:{}".format(
                    actual, window_key, expected[window_key])) from None
        for win, rest in expected.items():
            if rest:
                raise BeamAssertException("Failed assert: unmatched elements {} in window {}".format(rest, win))


def equal_to_per_window(expected_window_to_elements):
    """Matches each window's elements: ``{window: [elements]}`` (``assert_that`` reifies the windows)."""
    return _EqualToPerWindowMatcher(expected_window_to_elements)


def is_empty():
    def _empty(actual):
        actual = list(actual)
        if actual:
            raise BeamAssertException("Failed assert: [] == %r" % actual)

    return _empty


def is_not_empty():
    def _nonempty(actual):
        if not list(actual):
            raise BeamAssertException("Failed assert: pcol is empty")

    return _nonempty


def matches_all(expected):
    return equal_to(expected)


class _AssertThat(PTransform):
    def __init__(self, matcher, use_global_window, reify_windows=False):
        super().__init__()
        self._matcher = matcher
        self._global = use_global_window
        self._reify = reify_windows

    def expand(self, pcoll):
        matcher = self._matcher
        if self._reify:
            pcoll = pcoll | "ReifyTimestampWindow" >> ParDo(_ReifyTimestampWindow())
        if self._global:
            pcoll = pcoll | "WindowIntoGlobal" >> WindowInto(window.GlobalWindows())
        if not self._global:
            raise NotImplementedError("assert_that(use_global_window=False) is not supported yet")
        if not pcoll.is_bounded:
            # Unbounded input: a grouping in the global window would be refused
            # (Beam marks its own bounded instead); read it as a side input,
            # complete once the watermark passes the end of the global window.
            from beamline.pvalue import AsList

            return (pcoll.pipeline | "Singleton" >> Create([None])
                    | "Match" >> Map(lambda _, actual: matcher(actual), AsList(pcoll)))
        keyed_actual = pcoll | "ToVoidKey" >> Map(lambda v: (None, v))
        keyed_singleton = pcoll.pipeline | "Singleton" >> Create([(None, None)])
        if not self._global:
            raise NotImplementedError("assert_that(use_global_window=False) is not supported yet")

        def match(kv):
            _, (_, actual) = kv
            matcher(actual)

        return ((keyed_singleton, keyed_actual) | "Group" >> CoGroupByKey()
                | "Unkey" >> Map(lambda kv: kv) | "Match" >> Map(match))


def assert_that(actual, matcher, label="assert_that", reify_windows=False, use_global_window=True):
    """Checks ``actual``'s elements with ``matcher`` when the pipeline runs."""
    if isinstance(matcher, _EqualToPerWindowMatcher):
        reify_windows = True
        use_global_window = True
    # As Beam's: tests need not keep assertion labels unique.
    used = actual.pipeline._labels
    if label in used:
        i = 2
        while "%s_%d" % (label, i) in used:
            i += 1
        label = "%s_%d" % (label, i)
    return actual | label >> _AssertThat(matcher, use_global_window, reify_windows)
