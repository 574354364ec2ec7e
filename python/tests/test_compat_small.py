"""Small compatibilities: context params, ``beam.utils.windowed_value`` as an
attribute, ``GroupBy`` aggregates named ``Result``, ``assert_that(reify_windows=True)``."""

import importlib
import threading

import pytest

from .compat import AGAINST, assert_that, beam, equal_to, window

_testing = importlib.import_module("%s.testing.util" % AGAINST)
TWV = _testing.TestWindowedValue


def test_utils_windowed_value_is_an_attribute():
    utils = importlib.import_module("%s.utils" % AGAINST)
    assert utils.windowed_value.WindowedValue is not None
    assert utils.windowed_value.PANE_INFO_UNKNOWN.is_first


class _Counted:
    """A context manager that records its entries and exits (per process)."""

    lock = threading.Lock()
    events = []

    def __init__(self, tag):
        self.tag = tag

    def __enter__(self):
        with _Counted.lock:
            _Counted.events.append(("enter", self.tag))
        return "ctx-" + self.tag

    def __exit__(self, *exc):
        with _Counted.lock:
            _Counted.events.append(("exit", self.tag))
        return False


def test_setup_context_param_in_map(pipeline):
    def tag(x, ctx=beam.DoFn.SetupContextParam(_Counted, args=("setup",))):
        return (x, ctx)

    with pipeline() as p:
        assert_that(p | beam.Create([1, 2]) | beam.Map(tag), equal_to([(1, "ctx-setup"), (2, "ctx-setup")]))


def test_bundle_context_param_in_dofn(pipeline):
    class Tag(beam.DoFn):
        def process(self, x, ctx=beam.DoFn.BundleContextParam(_Counted, args=("bundle",))):
            yield (x, ctx)

    with pipeline() as p:
        assert_that(p | beam.Create([1, 2]) | beam.ParDo(Tag()), equal_to([(1, "ctx-bundle"), (2, "ctx-bundle")]))


def test_context_param_is_entered_and_exited():
    _Counted.events.clear()

    def tag(x, ctx=beam.DoFn.BundleContextParam(_Counted, args=("b",))):
        return ctx

    with beam.Pipeline() as p:
        p | beam.Create([1]) | beam.Map(tag)
    entered = [e for e in _Counted.events if e == ("enter", "b")]
    exited = [e for e in _Counted.events if e == ("exit", "b")]
    assert entered and len(entered) == len(exited)


def test_context_param_needs_a_constructor():
    with pytest.raises(TypeError, match="A context manager constructor"):
        beam.DoFn.SetupContextParam(_Counted("x"))


def test_group_by_aggregates_are_named_result(pipeline):
    rows = [beam.Row(k="a", v=1), beam.Row(k="a", v=2), beam.Row(k="b", v=5)]
    with pipeline() as p:
        out = (p | beam.Create(rows)
               | beam.GroupBy("k").aggregate_field("v", sum, "total").aggregate_field("v", max, "mx"))
        reprs = out | beam.Map(repr)
        assert_that(reprs, equal_to(["Result(k='a', total=3, mx=2)", "Result(k='b', total=5, mx=5)"]), label="reprs")
        fields = out | beam.Map(lambda r: (r.k, r.total, r.mx, tuple(r), r._asdict()))
        assert_that(fields, equal_to([("a", 3, 2, ("a", 3, 2), {"k": "a", "total": 3, "mx": 2}),
                                      ("b", 5, 5, ("b", 5, 5), {"k": "b", "total": 5, "mx": 5})]), label="fields")


def test_group_by_expression_aggregate_is_named_result(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([beam.Row(k="a", v=1), beam.Row(k="a", v=2)])
               | beam.GroupBy(key=lambda r: r.k).aggregate_field("v", sum, "total")
               | beam.Map(repr))
        assert_that(out, equal_to(["Result(key='a', total=3)"]))


def test_assert_that_reify_windows(pipeline):
    with pipeline() as p:
        pc = (p | beam.Create([window.TimestampedValue(1, 5), window.TimestampedValue(2, 65)])
              | beam.WindowInto(window.FixedWindows(60)))
        assert_that(pc, equal_to([TWV(1, 5, [window.IntervalWindow(0, 60)]),
                                  TWV(2, 65, [window.IntervalWindow(60, 120)])]),
                    reify_windows=True)

        def check(actual):
            got = sorted((v.value, v.timestamp, tuple(v.windows)) for v in actual)
            assert got == [(1, 5, (window.IntervalWindow(0, 60),)), (2, 65, (window.IntervalWindow(60, 120),))], got

        assert_that(pc, check, reify_windows=True, label="check")


def test_assert_that_reify_windows_fails_on_a_wrong_window(pipeline):
    with pytest.raises(Exception, match="Failed assert"):
        with pipeline() as p:
            pc = (p | beam.Create([window.TimestampedValue(1, 5)]) | beam.WindowInto(window.FixedWindows(60)))
            assert_that(pc, equal_to([TWV(1, 5, [window.IntervalWindow(60, 120)])]), reify_windows=True)


def test_equal_to_per_window(pipeline):
    with pipeline() as p:
        pc = (p | beam.Create([window.TimestampedValue(x, x) for x in [1, 2, 61, 62, 63]])
              | beam.WindowInto(window.FixedWindows(60)))
        assert_that(pc, _testing.equal_to_per_window({window.IntervalWindow(0, 60): [1, 2],
                                                      window.IntervalWindow(60, 120): [61, 62, 63]}))


def test_equal_to_per_window_fails_on_a_missing_element(pipeline):
    with pytest.raises(Exception, match="unmatched elements"):
        with pipeline() as p:
            pc = (p | beam.Create([window.TimestampedValue(1, 1)]) | beam.WindowInto(window.FixedWindows(60)))
            assert_that(pc, _testing.equal_to_per_window({window.IntervalWindow(0, 60): [1, 5]}))


def test_contains_in_any_order():
    assert _testing.contains_in_any_order([1, 2, 2]) == [2, 1, 2]
    assert _testing.contains_in_any_order([1, 2]) != [1, 2, 2]
