"""windowing.rs: WindowInto fixed (with offset), sliding, sessions, empty
windows, boundaries, and going back to the global window."""

from _beam import END_OF_GLOBAL, MIN_TIMESTAMP, TimestampedValue, assert_that, beam, combiners, equal_to, is_empty
from _beam import timestamp, window
from _common import assert_in_window, reify, secs, timestamped, win, with_window


def _at(p, xs):
    return timestamped(p, xs)


def _at_micros(p, xs):
    return (p | beam.Create(xs)
            | beam.Map(lambda vt: TimestampedValue(vt[0], timestamp.Timestamp(micros=vt[1]))))


def test_window_fixed(run):
    with run.pipeline() as p:
        w = _at(p, [(1, 0), (2, 59), (3, 60), (4, 3600)]) | beam.WindowInto(window.FixedWindows(60))
        assert_that(with_window(w), equal_to([(1, win(0, 60)), (2, win(0, 60)), (3, win(60, 120)),
                                              (4, win(3600, 3660))]))


def test_window_fixed_with_offset(run):
    with run.pipeline() as p:
        w = _at(p, [(1, 0), (2, 4), (3, 5), (4, 14), (5, 15)]) | beam.WindowInto(window.FixedWindows(10, offset=5))
        assert_that(with_window(w), equal_to([(1, win(-5, 5)), (2, win(-5, 5)), (3, win(5, 15)), (4, win(5, 15)),
                                              (5, win(15, 25))]))


def test_window_fixed_boundaries(run):
    with run.pipeline() as p:
        xs = _at_micros(p, [(1, 9_999_999), (2, 10_000_000), (3, -1)]) | beam.WindowInto(window.FixedWindows(10))
        assert_that(with_window(xs), equal_to([(1, win(0, 10)), (2, win(10, 20)), (3, win(-10, 0))]))


def test_window_fixed_negative_and_extreme_timestamps(run):
    size = 10_000_000

    def floor(t):
        s = t.micros - t.micros % size
        return (s, s + size)

    with run.pipeline() as p:
        xs = _at_micros(p, [(1, MIN_TIMESTAMP.micros), (2, END_OF_GLOBAL.micros), (3, secs(-25))])
        xs = xs | beam.WindowInto(window.FixedWindows(10))
        assert_that(with_window(xs), equal_to([(1, floor(MIN_TIMESTAMP)), (2, floor(END_OF_GLOBAL)),
                                               (3, win(-30, -20))]))


def test_window_sliding(run):
    with run.pipeline() as p:
        w = _at(p, [(1, 7)]) | beam.WindowInto(window.SlidingWindows(30, 10))
        assert_that(with_window(w), equal_to([(1, win(-20, 10)), (1, win(-10, 20)), (1, win(0, 30))]))


def test_window_sliding_size_not_a_multiple_of_period(run):
    with run.pipeline() as p:
        w = _at(p, [(1, 7)]) | beam.WindowInto(window.SlidingWindows(10, 3))
        assert_that(with_window(w), equal_to([(1, win(0, 10)), (1, win(3, 13)), (1, win(6, 16))]))


def test_window_sliding_counts(run):
    with run.pipeline() as p:
        w = _at(p, [("a", 2), ("a", 6), ("b", 6)]) | beam.WindowInto(window.SlidingWindows(10, 5))
        n = w | combiners.Count.PerElement()
        assert_in_window(n, win(-5, 5), equal_to([("a", 1)]), "W-5")
        assert_in_window(n, win(0, 10), equal_to([("a", 2), ("b", 1)]), "W0")
        assert_in_window(n, win(5, 15), equal_to([("a", 1), ("b", 1)]), "W5")


def test_window_sessions(run):
    with run.pipeline() as p:
        w = _at(p, [("u1", 0), ("u1", 5), ("u1", 100), ("u2", 3)]) | beam.WindowInto(window.Sessions(10))
        n = w | combiners.Count.PerElement()
        assert_that(with_window(n), equal_to([(("u1", 2), win(0, 15)), (("u1", 1), win(100, 110)),
                                              (("u2", 1), win(3, 13))]))


def test_window_sessions_touching_do_not_merge(run):
    with run.pipeline() as p:
        w = _at(p, [("k", 1), ("k", 4)]) | beam.WindowInto(window.Sessions(3))
        n = w | combiners.Count.PerElement()
        assert_that(with_window(n), equal_to([(("k", 1), win(1, 4)), (("k", 1), win(4, 7))]))


def test_window_empty_windows_have_no_output(run):
    with run.pipeline() as p:
        w = _at(p, [(1, 1), (2, 45)]) | beam.WindowInto(window.FixedWindows(10))
        n = w | beam.CombineGlobally(sum).without_defaults()
        assert_that(with_window(n), equal_to([(1, win(0, 10)), (2, win(40, 50))]))
        for a, b in [(10, 20), (20, 30), (30, 40)]:
            assert_in_window(n, win(a, b), is_empty(), "W%d" % a)


def test_window_back_into_global(run):
    with run.pipeline() as p:
        w = (_at(p, [(1, 1), (2, 45)]) | "Fixed" >> beam.WindowInto(window.FixedWindows(10))
             | "Global" >> beam.WindowInto(window.GlobalWindows()))
        assert_that(reify(w), equal_to([(1, secs(1), "G"), (2, secs(45), "G")]))
        assert_that(w | beam.CombineGlobally(sum), equal_to([3]), label="SumEq")


def test_window_rewindow_grouped_output(run):
    with run.pipeline() as p:
        sums = (_at(p, [(1, 1), (2, 15), (3, 25), (4, 65)]) | "Small" >> beam.WindowInto(window.FixedWindows(10))
                | "SumSmall" >> beam.CombineGlobally(sum).without_defaults()
                | "Large" >> beam.WindowInto(window.FixedWindows(60))
                | "SumLarge" >> beam.CombineGlobally(sum).without_defaults())
        assert_that(with_window(sums), equal_to([(6, win(0, 60)), (4, win(60, 120))]))
