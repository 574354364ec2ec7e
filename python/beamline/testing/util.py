"""``assert_that`` with ``equal_to``, ``is_empty``, ``is_not_empty``: checks that run
inside the pipeline, on every runner, as in Beam."""

from beamline.transforms import window
from beamline.transforms.core import Create, CoGroupByKey, Map, WindowInto
from beamline.transforms.ptransform import PTransform

__all__ = ["assert_that", "equal_to", "is_empty", "is_not_empty", "BeamAssertException", "matches_all"]


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


def equal_to(expected, equals_fn=None):
    """Matches when the actual elements equal ``expected`` in any order."""
    expected = list(expected)

    def _equal(actual):
        actual = list(actual)
        if equals_fn is None:
            ok = _unordered_equal(expected, actual)
        else:
            remaining = list(expected)
            ok = len(actual) == len(expected)
            for a in actual:
                for i, e in enumerate(remaining):
                    if equals_fn(e, a):
                        del remaining[i]
                        break
                else:
                    ok = False
        if not ok:
            unexpected = [a for a in actual if a not in expected]
            missing = [e for e in expected if e not in actual]
            msg = "Failed assert: %r == %r" % (expected, actual)
            if unexpected:
                msg += ", unexpected elements %r" % (unexpected,)
            if missing:
                msg += ", missing elements %r" % (missing,)
            raise BeamAssertException(msg)

    return _equal


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
    def __init__(self, matcher, use_global_window):
        super().__init__()
        self._matcher = matcher
        self._global = use_global_window

    def expand(self, pcoll):
        matcher = self._matcher
        if self._global:
            pcoll = pcoll | "WindowIntoGlobal" >> WindowInto(window.GlobalWindows())
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
    if reify_windows:
        raise NotImplementedError("assert_that(reify_windows=True) is not supported yet")
    # As Beam's: tests need not keep assertion labels unique.
    used = actual.pipeline._labels
    if label in used:
        i = 2
        while "%s_%d" % (label, i) in used:
            i += 1
        label = "%s_%d" % (label, i)
    return actual | label >> _AssertThat(matcher, use_global_window)
