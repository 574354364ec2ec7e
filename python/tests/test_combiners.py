"""Every standard combiner: Count, Mean, Top, Sample, ToList, ToDict, ToSet, Latest."""

import math

from .compat import assert_that, beam, combiners, equal_to, window

KVS = [("a", 1), ("b", 2), ("a", 3), ("a", 5)]


def test_count(pipeline):
    with pipeline() as p:
        xs = p | beam.Create(["x", "y", "x"])
        assert_that(xs | combiners.Count.Globally(), equal_to([3]), label="Globally")
        assert_that(xs | combiners.Count.PerElement(), equal_to([("x", 2), ("y", 1)]), label="PerElement")
        kvs = p | "Kvs" >> beam.Create(KVS)
        assert_that(kvs | combiners.Count.PerKey(), equal_to([("a", 3), ("b", 1)]), label="PerKey")
        empty = p | "Empty" >> beam.Create([])
        assert_that(empty | "CountEmpty" >> combiners.Count.Globally(), equal_to([0]), label="EmptyOk")


def test_count_globally_without_defaults(pipeline):
    with pipeline() as p:
        empty = p | "Empty" >> beam.Create([])
        assert_that(empty | combiners.Count.Globally().without_defaults(), equal_to([]))


def test_mean(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Create([1, 2, 4]) | combiners.Mean.Globally(), equal_to([7 / 3]), label="Globally")
        kvs = p | "Kvs" >> beam.Create(KVS)
        assert_that(kvs | combiners.Mean.PerKey(), equal_to([("a", 3.0), ("b", 2.0)]), label="PerKey")
        empty = p | "Empty" >> beam.Create([])
        assert_that(empty | "MeanEmpty" >> combiners.Mean.Globally() | beam.Map(math.isnan), equal_to([True]),
                    label="EmptyOk")


def test_top(pipeline):
    with pipeline() as p:
        xs = p | beam.Create([5, 1, 4, 2, 3])
        assert_that(xs | combiners.Top.Largest(2), equal_to([[5, 4]]), label="Largest")
        assert_that(xs | combiners.Top.Smallest(2), equal_to([[1, 2]]), label="Smallest")
        assert_that(xs | "Of" >> combiners.Top.Of(3), equal_to([[5, 4, 3]]), label="Of")
        assert_that(xs | "OfKey" >> combiners.Top.Of(2, key=lambda x: -x), equal_to([[1, 2]]), label="OfKey")
        assert_that(xs | "OfRev" >> combiners.Top.Of(2, reverse=True), equal_to([[1, 2]]), label="OfRev")
        kvs = p | "Kvs" >> beam.Create(KVS)
        assert_that(kvs | combiners.Top.LargestPerKey(2), equal_to([("a", [5, 3]), ("b", [2])]), label="LPK")
        assert_that(kvs | combiners.Top.SmallestPerKey(1), equal_to([("a", [1]), ("b", [2])]), label="SPK")
        assert_that(kvs | "PerKey" >> combiners.Top.PerKey(5), equal_to([("a", [5, 3, 1]), ("b", [2])]),
                    label="PK")


def test_top_of_empty(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Create([]) | combiners.Top.Largest(3), equal_to([[]]))


def test_sample(pipeline):
    with pipeline() as p:
        xs = p | beam.Create(range(20))
        sample = xs | combiners.Sample.FixedSizeGlobally(5)
        assert_that(sample | beam.Map(lambda s: (len(s), len(set(s)), all(0 <= x < 20 for x in s))),
                    equal_to([(5, 5, True)]), label="Globally")
        small = p | "Small" >> beam.Create([1, 2]) | "All" >> combiners.Sample.FixedSizeGlobally(5)
        assert_that(small | beam.Map(sorted), equal_to([[1, 2]]), label="Small")
        kvs = p | "Kvs" >> beam.Create(KVS)
        per_key = kvs | combiners.Sample.FixedSizePerKey(2) | beam.MapTuple(
            lambda k, s: (k, len(s), set(s) <= {1, 2, 3, 5}))
        assert_that(per_key, equal_to([("a", 2, True), ("b", 1, True)]), label="PerKey")


def test_to_list_dict_set(pipeline):
    with pipeline() as p:
        xs = p | beam.Create([3, 1, 2, 1])
        assert_that(xs | combiners.ToList() | beam.Map(sorted), equal_to([[1, 1, 2, 3]]), label="List")
        assert_that(xs | combiners.ToSet(), equal_to([{1, 2, 3}]), label="Set")
        kvs = p | "Kvs" >> beam.Create([("a", 1), ("b", 2)])
        assert_that(kvs | combiners.ToDict(), equal_to([{"a": 1, "b": 2}]), label="Dict")
        empty = p | "Empty" >> beam.Create([])
        assert_that(empty | "EmptyList" >> combiners.ToList(), equal_to([[]]), label="EmptyList")
        assert_that(empty | "EmptySet" >> combiners.ToSet(), equal_to([set()]), label="EmptySet")
        assert_that(empty | "EmptyDict" >> combiners.ToDict(), equal_to([{}]), label="EmptyDict")


def test_latest(pipeline):
    with pipeline() as p:
        stamped = (p | beam.Create([("a", 1, 10), ("b", 2, 30), ("a", 3, 20), ("a", 4, 5)])
                   | beam.Map(lambda e: window.TimestampedValue((e[0], e[1]), e[2])))
        assert_that(stamped | combiners.Latest.PerKey(), equal_to([("a", 3), ("b", 2)]), label="PerKey")
        assert_that(stamped | beam.Values() | combiners.Latest.Globally(), equal_to([2]), label="Globally")


def test_combiners_module_alias():
    assert beam.combiners.Count is combiners.Count
