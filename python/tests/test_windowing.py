"""WindowInto with fixed, sliding, session and global windows; timestamps and
how windows and timestamps print."""

import pytest

from .compat import BEAM, assert_that, beam, equal_to, sub, timestamp, window


def _stamped(p, pairs, label="Stamp"):
    return (p | "Create" + label >> beam.Create(pairs)
            | label >> beam.MapTuple(lambda v, t: window.TimestampedValue(v, t)))


class WithWindow(beam.DoFn):
    def process(self, element, w=beam.DoFn.WindowParam):
        yield (element, float(w.start), float(w.end))


def test_fixed_windows_count(pipeline):
    with pipeline() as p:
        out = (_stamped(p, [("a", 1), ("a", 2), ("b", 5), ("a", 12), ("a", 61)])
               | beam.WindowInto(window.FixedWindows(10))
               | beam.combiners.Count.PerElement()
               | beam.ParDo(WithWindow()))
        assert_that(out, equal_to([(("a", 2), 0.0, 10.0), (("b", 1), 0.0, 10.0), (("a", 1), 10.0, 20.0),
                                   (("a", 1), 60.0, 70.0)]))


def test_fixed_windows_with_offset(pipeline):
    with pipeline() as p:
        out = (_stamped(p, [(("x", 4), 4), (("x", 6), 6)])
               | beam.WindowInto(window.FixedWindows(10, offset=5))
               | beam.GroupByKey() | beam.ParDo(WithWindow()))
        assert_that(out, equal_to([(("x", [4]), -5.0, 5.0), (("x", [6]), 5.0, 15.0)]))


def test_sliding_windows(pipeline):
    with pipeline() as p:
        out = (_stamped(p, [(1, 3), (1, 7)])
               | beam.WindowInto(window.SlidingWindows(10, 5))
               | beam.CombineGlobally(sum).without_defaults()
               | beam.ParDo(WithWindow()))
        assert_that(out, equal_to([(1, -5.0, 5.0), (2, 0.0, 10.0), (1, 5.0, 15.0)]))


def test_sessions(pipeline):
    with pipeline() as p:
        out = (_stamped(p, [(("u", 1), 1), (("u", 5), 5), (("u", 30), 30), (("v", 2), 2), (("u", 33), 33)])
               | beam.WindowInto(window.Sessions(10))
               | beam.GroupByKey()
               | beam.MapTuple(lambda k, vs: (k, sorted(vs)))
               | beam.ParDo(WithWindow()))
        assert_that(out, equal_to([(("u", [1, 5]), 1.0, 15.0), (("u", [30, 33]), 30.0, 43.0),
                                   (("v", [2]), 2.0, 12.0)]))


def test_global_windows_after_fixed(pipeline):
    with pipeline() as p:
        out = (_stamped(p, [(("a", 1), 1), (("a", 15), 15)])
               | "Fixed" >> beam.WindowInto(window.FixedWindows(10))
               | "Global" >> beam.WindowInto(window.GlobalWindows())
               | beam.GroupByKey() | beam.MapTuple(lambda k, vs: (k, sorted(vs))))
        assert_that(out, equal_to([("a", [1, 15])]))


def test_timestamps_of_grouped_output_and_reprs(pipeline):
    class Show(beam.DoFn):
        def process(self, element, ts=beam.DoFn.TimestampParam, w=beam.DoFn.WindowParam):
            yield "%r %s %r %s" % (ts, ts, w, w)

    with pipeline() as p:
        out = (_stamped(p, [(("a", 1), 1.5)]) | beam.WindowInto(window.FixedWindows(10))
               | beam.GroupByKey() | beam.ParDo(Show()))
        assert_that(out, equal_to(["Timestamp(9.999000) Timestamp(9.999000) [0.0, 10.0) [0.0, 10.0)"]))


def test_timestamped_value_keeps_fractional_seconds(pipeline):
    with pipeline() as p:
        out = (_stamped(p, [("a", 1.25), ("b", -3)])
               | beam.Map(lambda x, t=beam.DoFn.TimestampParam: (x, t.micros, repr(t))))
        assert_that(out, equal_to([("a", 1250000, "Timestamp(1.250000)"), ("b", -3000000, "Timestamp(-3)")]))


def test_window_and_timestamp_reprs():
    assert repr(window.IntervalWindow(0, 10)) == "[0.0, 10.0)"
    assert repr(window.GlobalWindow()) == "GlobalWindow"
    assert repr(timestamp.Timestamp(5)) == "Timestamp(5)"
    assert repr(timestamp.Timestamp(micros=1500000)) == "Timestamp(1.500000)"
    assert str(timestamp.Duration(2)) == "Duration(2)"
    tv = window.TimestampedValue("v", 3)
    assert (tv.value, tv.timestamp) == ("v", timestamp.Timestamp(3))
    assert window.IntervalWindow(0, 10).max_timestamp() == timestamp.Timestamp(micros=9999999)
    assert timestamp.Timestamp(3) + timestamp.Duration(2) == timestamp.Timestamp(5)
    assert timestamp.Timestamp(3) - timestamp.Timestamp(1) == timestamp.Duration(2)


def test_bad_window_sizes():
    with pytest.raises(ValueError):
        window.FixedWindows(0)
    with pytest.raises((ValueError, ZeroDivisionError)):
        window.SlidingWindows(10, 0)
    with pytest.raises(ValueError):
        window.Sessions(-1)


def test_a_triggered_window_into_runs(pipeline):
    # Once a gap (NotImplementedError): the trigger now runs in the Rust engine.
    trigger = sub("transforms.trigger")
    with pipeline() as p:
        xs = p | beam.Create([1])
        assert_that(xs | beam.WindowInto(window.FixedWindows(10), trigger=trigger.AfterCount(1),
                                         accumulation_mode=trigger.AccumulationMode.DISCARDING), equal_to([1]))
