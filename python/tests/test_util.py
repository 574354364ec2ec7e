"""Flatten, Partition, Reshuffle, Distinct, Keys, Values, KvSwap, WithKeys,
ToString and Regex."""

import pytest

from .compat import assert_that, beam, equal_to, is_empty


def test_flatten(pipeline):
    with pipeline() as p:
        a = p | "A" >> beam.Create([1, 2])
        b = p | "B" >> beam.Create([3])
        c = p | "C" >> beam.Create([])
        assert_that((a, b, c) | beam.Flatten(), equal_to([1, 2, 3]), label="Tuple")
        assert_that([a, a] | "Twice" >> beam.Flatten(), equal_to([1, 2, 1, 2]), label="Twice")


def test_flatten_of_nothing(pipeline):
    with pipeline() as p:
        assert_that(() | beam.Flatten(pipeline=p), is_empty())


def test_partition(pipeline):
    with pipeline() as p:
        parts = p | beam.Create(range(10)) | beam.Partition(lambda x, n: x % n, 3)
        assert_that(parts[0], equal_to([0, 3, 6, 9]), label="P0")
        assert_that(parts[1], equal_to([1, 4, 7]), label="P1")
        assert_that(parts[2], equal_to([2, 5, 8]), label="P2")


def test_partition_unpacked_with_args_and_partition_fn(pipeline):
    class ByThreshold(beam.PartitionFn):
        def partition_for(self, element, num_partitions, threshold):
            return 0 if element < threshold else 1

    with pipeline() as p:
        low, high = p | beam.Create([1, 5, 10]) | beam.Partition(ByThreshold(), 2, 5)
        assert_that(low, equal_to([1]), label="Low")
        assert_that(high, equal_to([5, 10]), label="High")


def test_partition_out_of_bounds_fails(pipeline):
    with pytest.raises(ValueError, match="out-of-bounds"):
        with pipeline() as p:
            p | beam.Create([1]) | beam.Partition(lambda x, n: 5, 2)


def test_reshuffle(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Create(range(50)) | beam.Reshuffle(), equal_to(list(range(50))))


def test_distinct(pipeline):
    with pipeline() as p:
        xs = p | beam.Create([1, 2, 1, "a", "a", (1, 2), (1, 2), None, None])
        assert_that(xs | beam.Distinct(), equal_to([1, 2, "a", (1, 2), None]))


def test_keys_values_kv_swap(pipeline):
    with pipeline() as p:
        kvs = p | beam.Create([("a", 1), ("b", 2)])
        assert_that(kvs | beam.Keys(), equal_to(["a", "b"]), label="Keys")
        assert_that(kvs | beam.Values(), equal_to([1, 2]), label="Values")
        assert_that(kvs | beam.KvSwap(), equal_to([(1, "a"), (2, "b")]), label="Swap")


def test_with_keys(pipeline):
    with pipeline() as p:
        xs = p | beam.Create(["ab", "c"])
        assert_that(xs | "Const" >> beam.WithKeys(0), equal_to([(0, "ab"), (0, "c")]), label="Const")
        assert_that(xs | "Fn" >> beam.WithKeys(len), equal_to([(2, "ab"), (1, "c")]), label="Fn")


def test_to_string(pipeline):
    with pipeline() as p:
        xs = p | beam.Create([1, "a", (1, "b"), [2.5, None]])
        assert_that(xs | beam.ToString.Element(), equal_to(["1", "a", "(1, 'b')", "[2.5, None]"]), label="Elem")
        kvs = p | "Kvs" >> beam.Create([("a", 1), (2, "b"), ("x", "y", 3)])
        assert_that(kvs | "Comma" >> beam.ToString.Kvs(), equal_to(["a,1", "2,b", "x,y,3"]), label="Kvs")
        assert_that(kvs | "Tab" >> beam.ToString.Kvs("\t"), equal_to(["a\t1", "2\tb", "x\ty\t3"]), label="Tab")
        its = p | "Its" >> beam.Create([[1, 2], ("x", "y"), []])
        assert_that(its | beam.ToString.Iterables(), equal_to(["1,2", "x,y", ""]), label="Its")
        assert_that(its | "Semi" >> beam.ToString.Iterables(";"), equal_to(["1;2", "x;y", ""]), label="Semi")


def test_regex(pipeline):
    with pipeline() as p:
        xs = p | beam.Create(["a1 b22", "c333", "none"])
        R = beam.Regex
        assert_that(xs | "M" >> R.matches(r"([a-z])(\d+)"), equal_to(["a1", "c333"]), label="matches")
        assert_that(xs | "MG" >> R.matches(r"([a-z])(\d+)", 2), equal_to(["1", "333"]), label="matches_g")
        assert_that(xs | "AM" >> R.all_matches(r"([a-z])(\d+)"),
                    equal_to([["a1", "a", "1"], ["c333", "c", "333"]]), label="all_matches")
        assert_that(xs | "MKV" >> R.matches_kv(r"([a-z])(\d+)", 1, 2),
                    equal_to([("a", "1"), ("c", "333")]), label="matches_kv")
        assert_that(xs | "F" >> R.find(r"\d+"), equal_to(["1", "333"]), label="find")
        # find_all gives one list per element, ALL gives (match, first group) pairs.
        assert_that(xs | "FA" >> R.find_all(r"\d+"), equal_to([["1", "22"], ["333"], []]), label="find_all")
        assert_that(xs | "FAN" >> R.find_all(r"\d*", outputEmpty=False), equal_to([["1", "22"], ["333"], []]),
                    label="find_all_nonempty")
        assert_that(xs | "FAG" >> R.find_all(r"([a-z])(\d+)", R.ALL),
                    equal_to([[("a1", "a"), ("b22", "b")], [("c333", "c")], []]), label="find_all_all")
        assert_that(xs | "FKV" >> R.find_kv(r"([a-z])(\d+)", 1, 2),
                    equal_to([("a", "1"), ("b", "22"), ("c", "333")]), label="find_kv")
        assert_that(xs | "RA" >> R.replace_all(r"\d", "#"), equal_to(["a# b##", "c###", "none"]), label="repl_all")
        assert_that(xs | "RF" >> R.replace_first(r"\d", "#"), equal_to(["a# b22", "c#33", "none"]),
                    label="repl_first")
        # split gives one list per element.
        assert_that(xs | "S" >> R.split(r"\d"), equal_to([["a", " b"], ["c"], ["none"]]), label="split")
        assert_that(xs | "SE" >> R.split(r"\d", outputEmpty=True),
                    equal_to([["a", " b", "", ""], ["c", "", "", ""], ["none"]]), label="split_empty")
