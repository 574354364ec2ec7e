"""GroupByKey and CoGroupByKey."""

import pytest

from .compat import assert_that, beam, equal_to


def _sorted_values(kv):
    k, vs = kv
    return k, sorted(vs)


def test_group_by_key(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([("a", 1), ("b", 2), ("a", 3), (None, 0), ((1, 2), 4)])
               | beam.GroupByKey() | beam.Map(_sorted_values))
        assert_that(out, equal_to([("a", [1, 3]), ("b", [2]), (None, [0]), ((1, 2), [4])]))


def test_group_by_key_values_are_iterable_twice(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([("a", 1), ("a", 2)]) | beam.GroupByKey()
               | beam.MapTuple(lambda k, vs: (k, sum(vs), len(list(vs)))))
        assert_that(out, equal_to([("a", 3, 2)]))


def test_group_by_key_numeric_keys(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([(1, "int"), (1.0, "float"), (2, "two"), (1, "again")])
               | beam.GroupByKey() | beam.MapTuple(lambda k, vs: (type(k).__name__, k, sorted(vs))))
        # Beam groups by the encoded key: 1 and 1.0 are different keys.
        assert_that(out, equal_to([("int", 1, ["again", "int"]), ("float", 1.0, ["float"]), ("int", 2, ["two"])]))


def test_group_by_key_needs_pairs(pipeline):
    with pytest.raises(Exception):
        with pipeline() as p:
            p | beam.Create([1, 2]) | beam.GroupByKey()


def test_group_by_key_empty(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Create([]) | beam.GroupByKey(), equal_to([]))


def test_co_group_by_key_dict(pipeline):
    with pipeline() as p:
        emails = p | "Emails" >> beam.Create([("amy", "a@x"), ("carl", "c@x"), ("amy", "a@y")])
        phones = p | "Phones" >> beam.Create([("amy", "111"), ("julia", "222")])
        out = ({"emails": emails, "phones": phones} | beam.CoGroupByKey()
               | beam.MapTuple(lambda k, g: (k, sorted(g["emails"]), sorted(g["phones"]))))
        assert_that(out, equal_to([("amy", ["a@x", "a@y"], ["111"]), ("carl", ["c@x"], []),
                                   ("julia", [], ["222"])]))


def test_co_group_by_key_tuple_and_list(pipeline):
    with pipeline() as p:
        a = p | "A" >> beam.Create([(1, "a"), (2, "b")])
        b = p | "B" >> beam.Create([(1, "x")])
        t = (a, b) | "Tuple" >> beam.CoGroupByKey() | "SortT" >> beam.MapTuple(
            lambda k, g: (k, [sorted(x) for x in g]))
        lst = [a, b] | "List" >> beam.CoGroupByKey() | "SortL" >> beam.MapTuple(
            lambda k, g: (k, len(g), [sorted(x) for x in g]))
        assert_that(t, equal_to([(1, [["a"], ["x"]]), (2, [["b"], []])]), label="TupleOk")
        assert_that(lst, equal_to([(1, 2, [["a"], ["x"]]), (2, 2, [["b"], []])]), label="ListOk")


def test_co_group_by_key_dict_keys_kept(pipeline):
    with pipeline() as p:
        a = p | "A" >> beam.Create([(1, "a")])
        b = p | "B" >> beam.Create([(1, "b")])
        out = {"left": a, "right": b} | beam.CoGroupByKey() | beam.MapTuple(
            lambda k, g: (k, sorted(g.keys()), {t: list(v) for t, v in g.items()}))
        assert_that(out, equal_to([(1, ["left", "right"], {"left": ["a"], "right": ["b"]})]))
