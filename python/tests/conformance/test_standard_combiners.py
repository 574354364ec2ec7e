"""standard_combiners.rs: min and max (Python's builtins), Mean, Top, ToList,
Latest, Sample; and Reshuffle."""

import math

import pytest

from _beam import assert_that, beam, combiners, equal_to, window
from _common import assert_in_window, equal_sorted, end_of, fixed, reify, secs, sort_group, timestamped, win


def test_min_max_globally(run):
    with run.pipeline() as p:
        xs = p | beam.Create([5, -3, 12, 0])
        assert_that(xs | "Min" >> beam.CombineGlobally(min), equal_to([-3]), label="MinEq")
        assert_that(xs | "Max" >> beam.CombineGlobally(max), equal_to([12]), label="MaxEq")
        words = p | "Words" >> beam.Create(["pear", "apple", "zucchini", "fig"])
        assert_that(words | "MinW" >> beam.CombineGlobally(min), equal_to(["apple"]), label="MinWEq")
        assert_that(words | "MaxW" >> beam.CombineGlobally(max), equal_to(["zucchini"]), label="MaxWEq")


def test_min_max_globally_empty(run):
    # Beam Python has no Min/Max combiners: CombineGlobally(min) on no input calls min([]), which
    # fails the run (the Rust case expects None).
    p = run.pipeline()
    p | beam.Create([]) | "Min" >> beam.CombineGlobally(min)
    with pytest.raises(Exception, match="empty"):
        p.run().wait_until_finish()


def test_min_max_per_key(run):
    with run.pipeline() as p:
        xs = p | beam.Create([("a", 2.5), ("a", 0.5), ("b", 7.0), ("a", 1.0)])
        assert_that(xs | "Min" >> beam.CombinePerKey(min), equal_to([("a", 0.5), ("b", 7.0)]), label="MinEq")
        assert_that(xs | "Max" >> beam.CombinePerKey(max), equal_to([("a", 2.5), ("b", 7.0)]), label="MaxEq")


def test_min_max_per_window(run):
    with run.pipeline() as p:
        xs = fixed(timestamped(p, [(3, 1), (1, 2), (9, 15), (8, 16)]), 10)
        mins = xs | "Min" >> beam.CombineGlobally(min).without_defaults()
        assert_that(reify(mins, ms=True), equal_to([(1, end_of(0, 10), win(0, 10)), (8, end_of(10, 20), win(10, 20))]))
        maxs = xs | "Max" >> beam.CombineGlobally(max).without_defaults()
        assert_in_window(maxs, win(10, 20), equal_to([9]), "MaxW10")


def test_mean_globally(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([1, 2, 6]) | combiners.Mean.Globally(), equal_to([3.0]))
        floats = p | "Floats" >> beam.Create([0.5, 1.5]) | "MeanFloats" >> combiners.Mean.Globally()
        assert_that(floats, equal_to([1.0]), label="FloatsEq")


def test_mean_globally_empty_is_nan(run):
    with run.pipeline() as p:
        m = p | beam.Create([]) | combiners.Mean.Globally()
        assert_that(m | beam.Map(math.isnan), equal_to([True]))


def test_mean_per_key(run):
    with run.pipeline() as p:
        xs = p | beam.Create([(1, 1), (1, 4), (2, -3), (1, 1)])
        assert_that(xs | combiners.Mean.PerKey(), equal_to([(1, 2.0), (2, -3.0)]))


def test_top_largest_and_smallest(run):
    with run.pipeline() as p:
        xs = p | beam.Create([5, 1, 4, 2, 3, 5])
        assert_that(xs | combiners.Top.Largest(3), equal_to([[5, 5, 4]]), label="LargestEq")
        assert_that(xs | combiners.Top.Smallest(2), equal_to([[1, 2]]), label="SmallestEq")


def test_top_more_than_there_are(run):
    with run.pipeline() as p:
        xs = p | beam.Create(["b", "c", "a"])
        assert_that(xs | combiners.Top.Smallest(10), equal_to([["a", "b", "c"]]), label="SmallestEq")
        none = p | "Empty" >> beam.Create([]) | "TopEmpty" >> combiners.Top.Largest(3)
        assert_that(none, equal_to([[]]), label="EmptyEq")


def test_top_per_key(run):
    with run.pipeline() as p:
        xs = p | beam.Create([("a", 1), ("a", 3), ("a", 2), ("b", 7), ("a", 9)])
        assert_that(xs | combiners.Top.LargestPerKey(2), equal_to([("a", [9, 3]), ("b", [7])]), label="L")
        assert_that(xs | combiners.Top.SmallestPerKey(2), equal_to([("a", [1, 2]), ("b", [7])]), label="S")


def test_top_many_elements(run):
    with run.pipeline() as p:
        xs = p | beam.Create([(i * 7919) % 50_000 for i in range(50_000)])
        assert_that(xs | combiners.Top.Largest(5), equal_to([[49_999, 49_998, 49_997, 49_996, 49_995]]))


def test_to_list_globally(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([3, 1, 2, 1]) | combiners.ToList() | beam.Map(sorted), equal_to([[1, 1, 2, 3]]))


def test_to_list_globally_empty(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | combiners.ToList(), equal_to([[]]))


def test_to_list_per_key(run):
    with run.pipeline() as p:
        lists = (p | beam.Create([("k", 7), ("j", 1), ("k", 3)]) | beam.CombinePerKey(combiners.ToListCombineFn())
                 | beam.Map(sort_group))
        assert_that(lists, equal_to([("k", [3, 7]), ("j", [1])]))


def test_latest_globally(run):
    with run.pipeline() as p:
        xs = timestamped(p, [("old", 1), ("new", 9), ("mid", 5)])
        assert_that(xs | combiners.Latest.Globally(), equal_to(["new"]))


def test_latest_globally_empty(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | combiners.Latest.Globally(), equal_to([None]))


def test_latest_per_key(run):
    with run.pipeline() as p:
        xs = timestamped(p, [(("a", 1), 2), (("a", 2), 1), (("b", 3), 0), (("b", 4), -5)])
        assert_that(xs | combiners.Latest.PerKey(), equal_to([("a", 1), ("b", 3)]))


def test_latest_per_window(run):
    with run.pipeline() as p:
        xs = fixed(timestamped(p, [(1, 1), (2, 8), (3, 11), (4, 12)]), 10)
        # Beam's Latest.Globally refuses non-global windows (its CombineGlobally has defaults), so the
        # latest of each window is taken per one key.
        latest = (xs | beam.Map(lambda x: (None, x)) | combiners.Latest.PerKey() | beam.Values())
        assert_in_window(latest, win(0, 10), equal_to([2]), "W0")
        assert_in_window(latest, win(10, 20), equal_to([4]), "W10")


def _check_sample(lo, hi):
    return lambda v: (len(v), all(lo <= x < hi for x in v), len(set(v)) == len(v))


def test_sample_globally(run):
    with run.pipeline() as p:
        s = p | beam.Create(range(1000)) | combiners.Sample.FixedSizeGlobally(7)
        assert_that(s | beam.Map(_check_sample(0, 1000)), equal_to([(7, True, True)]))


def test_sample_globally_fewer_than_n(run):
    with run.pipeline() as p:
        s = p | beam.Create([4, 2, 9]) | combiners.Sample.FixedSizeGlobally(10) | beam.Map(sorted)
        assert_that(s, equal_to([[2, 4, 9]]))


def test_sample_per_key(run):
    with run.pipeline() as p:
        s = p | beam.Create([("a", 1), ("a", 2), ("a", 3), ("b", 9)]) | combiners.Sample.FixedSizePerKey(2)
        assert_that(s | beam.Map(lambda kv: (kv[0], len(kv[1]))), equal_to([("a", 2), ("b", 1)]))


def test_reshuffle_keeps_elements_timestamps_and_windows(run):
    with run.pipeline() as p:
        xs = fixed(timestamped(p, [(i, i % 40) for i in range(500)]), 10)
        moved = xs | beam.Reshuffle()
        expected = [(i, secs(i % 40), win(i % 40 // 10 * 10, i % 40 // 10 * 10 + 10)) for i in range(500)]
        assert_that(reify(moved, ms=True), equal_to(expected))


def test_reshuffle_with_buckets(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create(range(10_000)) | beam.Reshuffle(num_buckets=3), equal_sorted(range(10_000)))


def test_reshuffle_empty(run):
    from _beam import is_empty
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | beam.Reshuffle(), is_empty())


def test_reshuffle_sessions_stay_apart(run):
    with run.pipeline() as p:
        xs = timestamped(p, [(1, 1), (2, 3)]) | beam.WindowInto(window.Sessions(5)) | beam.Reshuffle(num_buckets=1)
        assert_that(reify(xs, ms=True), equal_to([(1, secs(1), win(1, 6)), (2, secs(3), win(3, 8))]))
