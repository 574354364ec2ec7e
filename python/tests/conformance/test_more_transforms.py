"""more_transforms.rs: Distinct, Partition and CoGroupByKey."""

import math

import pytest

from _beam import assert_that, beam, equal_to, is_empty
from _common import end_of, fixed, reify, secs, timestamped, timestamped_kvs, win


def test_distinct(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create(["a", "b", "a", "", "b", ""]) | beam.Distinct(), equal_to(["a", "b", ""]))


def test_distinct_empty(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | beam.Distinct(), is_empty())


def test_distinct_many_duplicates(run):
    with run.pipeline() as p:
        d = p | beam.Create([(i * 31) % 997 for i in range(50_000)]) | beam.Distinct()
        assert_that(d, equal_to(list(range(997))))


def test_distinct_per_window(run):
    with run.pipeline() as p:
        d = fixed(timestamped(p, [("x", 1), ("x", 2), ("x", 12)]), 10) | beam.Distinct()
        assert_that(reify(d, ms=True), equal_to([("x", end_of(0, 10), win(0, 10)), ("x", end_of(10, 20), win(10, 20))]))


class ByRemainder(beam.PartitionFn):
    def partition_for(self, x, n):
        return x % n


def test_partition_portable(run):
    with run.pipeline() as p:
        parts = p | beam.Create(range(10)) | beam.Partition(ByRemainder(), 3)
        assert_that(parts[0], equal_to([0, 3, 6, 9]), label="P0")
        assert_that(parts[1], equal_to([1, 4, 7]), label="P1")
        assert_that(parts[2], equal_to([2, 5, 8]), label="P2")


def test_partition_closure(run):
    with run.pipeline() as p:
        parts = p | beam.Create(["a", "bbb", "cc"]) | beam.Partition(lambda s, n: int(len(s) > 1), 2)
        assert_that(parts[0], equal_to(["a"]), label="P0")
        assert_that(parts[1], equal_to(["bbb", "cc"]), label="P1")


def test_partition_single(run):
    with run.pipeline() as p:
        parts = p | beam.Create([1, -2]) | beam.Partition(ByRemainder(), 1)
        assert len(list(parts)) == 1
        assert_that(parts[0], equal_to([1, -2]))


def test_partition_two_sizes_of_one_fn(run):
    with run.pipeline() as p:
        xs = p | beam.Create(range(6))
        two = xs | "Two" >> beam.Partition(ByRemainder(), 2)
        three = xs | "Three" >> beam.Partition(ByRemainder(), 3)
        assert_that(two[1], equal_to([1, 3, 5]), label="TwoEq")
        assert_that(three[2], equal_to([2, 5]), label="ThreeEq")


def test_partition_keeps_timestamps_and_windows(run):
    with run.pipeline() as p:
        parts = fixed(timestamped(p, [(1, 1), (2, 12)]), 10) | beam.Partition(ByRemainder(), 2)
        assert_that(reify(parts[0], "R0"), equal_to([(2, secs(12), win(10, 20))]), label="P0")
        assert_that(reify(parts[1], "R1"), equal_to([(1, secs(1), win(0, 10))]), label="P1")


class OutOfRange(beam.PartitionFn):
    def partition_for(self, x, n):
        return n


def test_partition_index_out_of_range_fails(run):
    p = run.pipeline()
    p | beam.Create([1]) | "Split" >> beam.Partition(OutOfRange(), 2)
    with pytest.raises(Exception) as info:
        p.run().wait_until_finish()
    assert "Split" in str(info.value), str(info.value)[:2000]


def test_partition_zero_fails(run):
    p = run.pipeline()
    with pytest.raises(Exception):
        p | beam.Create([1]) | "Split" >> beam.Partition(ByRemainder(), 0)
        p.run().wait_until_finish()


def _sort_join(kv):
    k, (a, b) = kv
    return (k, (sorted(a), sorted(b)))


def test_cogbk_two_way(run):
    with run.pipeline() as p:
        a = p | "A" >> beam.Create([("x", 1), ("y", 2), ("x", 3)])
        b = p | "B" >> beam.Create([("x", "p"), ("z", "q")])
        j = (a, b) | beam.CoGroupByKey() | beam.Map(_sort_join)
        assert_that(j, equal_to([("x", ([1, 3], ["p"])), ("y", ([2], [])), ("z", ([], ["q"]))]))


def _three_way(p, names, ages, scores):
    inputs = {"names": p | "Names" >> beam.Create(names), "ages": p | "Ages" >> beam.Create(ages),
              "scores": p | "Scores" >> beam.Create(scores)}
    return inputs | beam.CoGroupByKey() | beam.Map(
        lambda kv: (kv[0], sorted(kv[1]["names"]), sorted(kv[1]["ages"]), len(list(kv[1]["scores"]))))


def test_cogbk_three_way(run):
    with run.pipeline() as p:
        rows = _three_way(p, [(1, "amy"), (2, "bob"), (1, "amelia")], [(1, 30), (3, 41)],
                          [(2, 0.5), (2, 1.5), (3, math.nan)])
        assert_that(rows, equal_to([(1, ["amelia", "amy"], [30], 0), (2, ["bob"], [], 2), (3, [], [41], 1)]))


def test_cogbk_empty_inputs(run):
    with run.pipeline() as p:
        assert_that(_three_way(p, [], [(7, 1)], []), equal_to([(7, [], [1], 0)]))


def test_cogbk_same_pcollection_twice(run):
    with run.pipeline() as p:
        a = p | beam.Create([("x", 1), ("x", 2)])
        j = (a, a | beam.Map(lambda kv: (kv[0], str(kv[1])))) | beam.CoGroupByKey() | beam.Map(_sort_join)
        assert_that(j, equal_to([("x", ([1, 2], ["1", "2"]))]))


def test_cogbk_per_window(run):
    with run.pipeline() as p:
        a = fixed(timestamped_kvs(p, [("x", 1, 1), ("x", 2, 11)], "A"), 10, "WA")
        b = fixed(timestamped_kvs(p, [("x", "p", 5)], "B"), 10, "WB")
        j = (a, b) | beam.CoGroupByKey() | beam.Map(_sort_join)
        assert_that(reify(j, ms=True), equal_to([(("x", ([1], ["p"])), end_of(0, 10), win(0, 10)),
                                                 (("x", ([2], [])), end_of(10, 20), win(10, 20))]))
