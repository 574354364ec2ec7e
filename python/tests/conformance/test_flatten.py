"""flatten.rs: Flatten of several, of an empty, of the same PCollection twice,
of windowed PCollections."""

import pytest

from _beam import assert_that, beam, equal_to, is_empty, window
from _common import AddN, fixed, reify, secs, sort_group, timestamped, win


def test_flatten_two(run):
    with run.pipeline() as p:
        a = p | "A" >> beam.Create([1, 2])
        b = p | "B" >> beam.Create([3, 2])
        assert_that((a, b) | beam.Flatten(), equal_to([1, 2, 2, 3]))


def test_flatten_with_an_empty_pcollection(run):
    with run.pipeline() as p:
        a = p | "A" >> beam.Create([1, 2])
        e = p | "Empty" >> beam.Create([])
        assert_that((e, a) | beam.Flatten(), equal_to([1, 2]))


def test_flatten_of_empties(run):
    with run.pipeline() as p:
        assert_that((p | "A" >> beam.Create([]), p | "B" >> beam.Create([])) | beam.Flatten(), is_empty())


def test_flatten_same_pcollection_twice(run):
    with run.pipeline() as p:
        a = p | beam.Create([1, 2])
        both = (a, a) | beam.Flatten()
        assert_that(both, equal_to([1, 1, 2, 2]))
        thrice = (a, both, a) | "Again" >> beam.Flatten()
        assert_that(thrice, equal_to([1, 1, 1, 1, 2, 2, 2, 2]), label="AgainEq")


def test_flatten_one(run):
    with run.pipeline() as p:
        assert_that([p | beam.Create([1, 2])] | beam.Flatten(), equal_to([1, 2]))


def test_flatten_many(run):
    with run.pipeline() as p:
        parts = [p | "Part%d" % i >> beam.Create([i * 100]) | "Add%d" % i >> beam.ParDo(AddN(i)) for i in range(10)]
        assert_that(parts | beam.Flatten(), equal_to([i * 101 for i in range(10)]))


def test_flatten_keeps_timestamps_and_windows(run):
    with run.pipeline() as p:
        a = fixed(timestamped(p, [(1, 1)], "A"), 10, "WA")
        b = fixed(timestamped(p, [(2, 15)], "B"), 10, "WB")
        assert_that(reify((a, b) | beam.Flatten()), equal_to([(1, secs(1), win(0, 10)), (2, secs(15), win(10, 20))]))


def test_flatten_then_group(run):
    with run.pipeline() as p:
        a = p | "A" >> beam.Create([("x", 1), ("y", 2)])
        b = p | "B" >> beam.Create([("x", 3)])
        g = (a, b) | beam.Flatten() | beam.GroupByKey() | beam.Map(sort_group)
        assert_that(g, equal_to([("x", [1, 3]), ("y", [2])]))


def test_flatten_different_windowing_fails(run):
    p = run.pipeline()
    a = p | "A" >> beam.Create([1])
    b = p | "B" >> beam.Create([2]) | beam.WindowInto(window.FixedWindows(10))
    # Beam Python only logs "All input pcollections must have the same window" when the pipeline is
    # built, and its run then fails (decoding the mixed windows); the Rust case wants the construction
    # error. Either fails the pipeline, which is what is checked.
    with pytest.raises(Exception):
        (a, b) | "Mixed" >> beam.Flatten()
        p.run().wait_until_finish()
