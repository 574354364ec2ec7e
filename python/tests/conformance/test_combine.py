"""combine.rs: Combine (globally, per key, grouped values), Count, sum, per
window and with merging windows."""

import typing

import pytest

from _beam import ON_BEAM, assert_that, beam, combiners, equal_to, is_empty, window
from _common import (MeanFn, SortedConcat, assert_in_window, end_of, fixed, reify, secs, timestamped,
                     timestamped_kvs, win)


def test_combine_globally(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create(range(1, 101)) | beam.CombineGlobally(sum), equal_to([5050]))


def test_combine_globally_default_on_empty_input(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | beam.CombineGlobally(sum), equal_to([0]))
        c = p | "Strings" >> beam.Create([]) | "Concat" >> beam.CombineGlobally(SortedConcat())
        assert_that(c, equal_to([""]), label="ConcatEq")


def test_combine_globally_default_is_at_the_minimum_timestamp(run):
    with run.pipeline() as p:
        s = p | beam.Create([]) | beam.CombineGlobally(sum)
        assert_that(reify(s, ms=True), equal_to([(0, "MIN", "G")]))


def test_combine_globally_without_defaults_on_empty_input(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | beam.CombineGlobally(sum).without_defaults(), is_empty())


def test_combine_globally_without_defaults(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([4, 5]) | beam.CombineGlobally(sum).without_defaults(), equal_to([9]))


def test_combine_globally_accumulator_type(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([1, 2, 3, 4]) | beam.CombineGlobally(MeanFn()), equal_to([2.5]))


def test_combine_globally_output_in_global_window(run):
    # Beam Python's DirectRunner puts a global combine's output at MIN_TIMESTAMP (the Rust case, after
    # Beam Java, expects the end of the global window).
    with run.pipeline() as p:
        s = timestamped(p, [(1, 5)]) | beam.CombineGlobally(sum)
        assert_that(reify(s, ms=True), equal_to([(1, "MIN", "G")]))


def test_combine_globally_per_window(run):
    # Beam refuses a defaulted CombineGlobally on non-global windows: without_defaults() is required.
    with run.pipeline() as p:
        s = fixed(timestamped(p, [(1, 1), (2, 2), (3, 33)]), 10) | beam.CombineGlobally(sum).without_defaults()
        assert_that(reify(s, ms=True), equal_to([(3, end_of(0, 10), win(0, 10)), (3, end_of(30, 40), win(30, 40))]))
        assert_in_window(s, win(10, 20), is_empty(), "W10")


def test_combine_globally_sessions(run):
    with run.pipeline() as p:
        xs = timestamped(p, [(1, 1), (2, 3), (4, 20)]) | beam.WindowInto(window.Sessions(5))
        s = xs | beam.CombineGlobally(sum).without_defaults()
        assert_that(reify(s, ms=True), equal_to([(3, end_of(1, 8), win(1, 8)), (4, end_of(20, 25), win(20, 25))]))


def test_combine_per_key(run):
    with run.pipeline() as p:
        s = p | beam.Create([("a", 1), ("b", 10), ("a", 2), ("a", 3)]) | beam.CombinePerKey(sum)
        assert_that(s, equal_to([("a", 6), ("b", 10)]))


def test_combine_per_key_strings(run):
    with run.pipeline() as p:
        s = p | beam.Create([(1, "z"), (1, "a"), (2, "m"), (1, "q")]) | beam.CombinePerKey(SortedConcat())
        assert_that(s, equal_to([(1, "a,q,z"), (2, "m")]))


def test_combine_per_key_empty_input(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | beam.CombinePerKey(sum), is_empty())


def test_combine_per_key_many_keys(run):
    with run.pipeline() as p:
        s = p | beam.Create([(i % 1000, i) for i in range(50_000)]) | beam.CombinePerKey(sum)
        assert_that(s, equal_to([(k, sum(j * 1000 + k for j in range(50))) for k in range(1000)]))


def test_combine_per_key_per_window(run):
    with run.pipeline() as p:
        xs = fixed(timestamped_kvs(p, [("a", 1, 1), ("a", 2, 8), ("a", 4, 12), ("b", 8, 3)]), 10)
        s = xs | beam.CombinePerKey(sum)
        assert_that(reify(s, ms=True), equal_to([(("a", 3), end_of(0, 10), win(0, 10)),
                                                 (("a", 4), end_of(10, 20), win(10, 20)),
                                                 (("b", 8), end_of(0, 10), win(0, 10))]))


def test_combine_per_key_timestamp_earliest(run):
    with run.pipeline() as p:
        xs = timestamped_kvs(p, [("a", 1, 6), ("a", 2, 4)]) | beam.WindowInto(
            window.FixedWindows(10), timestamp_combiner=window.TimestampCombiner.OUTPUT_AT_EARLIEST)
        assert_that(reify(xs | beam.CombinePerKey(sum), ms=True), equal_to([(("a", 3), secs(4), win(0, 10))]))


def test_combine_per_key_sessions(run):
    with run.pipeline() as p:
        xs = timestamped_kvs(p, [("a", 1, 1), ("a", 2, 4), ("a", 4, 30), ("b", 8, 2)]) | beam.WindowInto(
            window.Sessions(5))
        assert_that(reify(xs | beam.CombinePerKey(sum), ms=True),
                    equal_to([(("a", 3), end_of(1, 9), win(1, 9)), (("a", 4), end_of(30, 35), win(30, 35)),
                              (("b", 8), end_of(2, 7), win(2, 7))]))


def test_combine_grouped_values(run):
    with run.pipeline() as p:
        # The type hint spares Beam's type inference the empty list (it fails on the union otherwise).
        s = (p | beam.Create([("a", [1, 2, 3]), ("b", []), ("c", [-5])]).with_output_types(
            typing.Tuple[str, typing.List[int]]) | beam.CombineValues(sum))
        assert_that(s, equal_to([("a", 6), ("b", 0), ("c", -5)]))


def test_count_globally(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create(["a", "b", "a"]) | combiners.Count.Globally(), equal_to([3]))


def test_count_globally_empty(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | combiners.Count.Globally(), equal_to([0]))


def test_count_per_key(run):
    with run.pipeline() as p:
        n = p | beam.Create([("a", 1), ("b", 1), ("a", 1), ("a", 7)]) | combiners.Count.PerKey()
        assert_that(n, equal_to([("a", 3), ("b", 1)]))


def test_count_per_element(run):
    with run.pipeline() as p:
        n = p | beam.Create(["x", "y", "x", "", "x"]) | combiners.Count.PerElement()
        assert_that(n, equal_to([("x", 3), ("y", 1), ("", 1)]))


def test_count_per_element_per_window(run):
    with run.pipeline() as p:
        n = fixed(timestamped(p, [("x", 1), ("x", 2), ("x", 11)]), 10) | combiners.Count.PerElement()
        assert_in_window(n, win(0, 10), equal_to([("x", 2)]), "W0")
        assert_in_window(n, win(10, 20), equal_to([("x", 1)]), "W10")


def test_sum_integers_and_floats(run):
    with run.pipeline() as p:
        i = p | "Ints" >> beam.Create([2**31 - 1 - 10, 5, 5]) | "SumInts" >> beam.CombineGlobally(sum)
        assert_that(i, equal_to([2**31 - 1]), label="IntsEq")
        f = p | "Floats" >> beam.Create([0.5, 0.25, 0.125]) | "SumFloats" >> beam.CombineGlobally(sum)
        assert_that(f, equal_to([0.875]), label="FloatsEq")
        u = p | "PerKey" >> beam.Create([("k", 1), ("k", 2)]) | "SumPerKey" >> beam.CombinePerKey(sum)
        assert_that(u, equal_to([("k", 3)]), label="PerKeyEq")


class Unlucky(beam.CombineFn):
    def create_accumulator(self):
        return 0

    def add_input(self, acc, x):
        if x == 13:
            raise AssertionError("unlucky input %d" % x)
        return acc + x

    def merge_accumulators(self, accs):
        return sum(accs)

    def extract_output(self, acc):
        return acc


def test_combine_fn_panic_names_the_label(run):
    p = run.pipeline()
    p | beam.Create([(1, 12), (1, 13)]) | "Tally" >> beam.CombinePerKey(Unlucky())
    with pytest.raises(Exception) as info:
        p.run().wait_until_finish()
    text = str(info.value)
    assert "unlucky input 13" in text, text[:2000]
    # Beam's DirectRunner lifts the combiner into the producer's fused stage and names that step
    # ('Create/Map(decode)'); beamline names the combine's own label.
    assert ON_BEAM or "Tally" in text, text[:2000]
