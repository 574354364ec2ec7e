"""Create, Impulse, Map, FlatMap, Filter, MapTuple, FlatMapTuple."""

import pytest

from .compat import assert_that, beam, equal_to, is_empty


def test_create_and_map(pipeline):
    with pipeline() as p:
        out = p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * 10)
        assert_that(out, equal_to([10, 20, 30]))


def test_create_dict_gives_items(pipeline):
    with pipeline() as p:
        out = p | beam.Create({"a": 1, "b": 2})
        assert_that(out, equal_to([("a", 1), ("b", 2)]))


def test_create_empty(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Create([]), is_empty())


def test_create_of_a_string_is_refused():
    with pytest.raises(TypeError):
        beam.Create("abc")


def test_impulse(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Impulse(), equal_to([b""]))


def test_flatmap_str_split_and_lambda(pipeline):
    with pipeline() as p:
        lines = p | beam.Create(["a b  c", "", " d\te\n"])
        words = lines | "Split" >> beam.FlatMap(str.split)
        chars = lines | "Chars" >> beam.FlatMap(lambda s: [c for c in s if c.isalpha()])
        assert_that(words, equal_to(["a", "b", "c", "d", "e"]), label="Words")
        assert_that(chars, equal_to(list("abcde")), label="CharsOk")


def test_flatmap_generator_and_none(pipeline):
    def gen(x):
        if x % 2:
            yield x
            yield -x

    def nothing(x):
        return None

    with pipeline() as p:
        xs = p | beam.Create([1, 2, 3])
        assert_that(xs | "Gen" >> beam.FlatMap(gen), equal_to([1, -1, 3, -3]), label="GenOk")
        assert_that(xs | "None" >> beam.FlatMap(nothing), is_empty(), label="NoneOk")


def test_flatmap_without_function_flattens(pipeline):
    with pipeline() as p:
        out = p | beam.Create([[1, 2], [], [3]]) | beam.FlatMap()
        assert_that(out, equal_to([1, 2, 3]))


def test_filter(pipeline):
    with pipeline() as p:
        out = p | beam.Create(range(10)) | beam.Filter(lambda x: x % 3 == 0)
        assert_that(out, equal_to([0, 3, 6, 9]))


def test_filter_with_extra_args(pipeline):
    with pipeline() as p:
        out = p | beam.Create(range(10)) | beam.Filter(lambda x, lo, hi=0: lo <= x < hi, 3, hi=6)
        assert_that(out, equal_to([3, 4, 5]))


def test_map_with_args_and_kwargs(pipeline):
    with pipeline() as p:
        out = p | beam.Create([1, 2]) | beam.Map(lambda x, a, b=0: x * a + b, 10, b=5)
        assert_that(out, equal_to([15, 25]))


def test_map_str_and_builtin_callables(pipeline):
    with pipeline() as p:
        xs = p | beam.Create([1, 2.5, None, "s", (1, "a"), [True], {"k": b"v"}])
        assert_that(xs | "Str" >> beam.Map(str),
                    equal_to(["1", "2.5", "None", "s", "(1, 'a')", "[True]", "{'k': b'v'}"]), label="StrOk")
        assert_that(xs | "Repr" >> beam.Map(repr),
                    equal_to(["1", "2.5", "None", "'s'", "(1, 'a')", "[True]", "{'k': b'v'}"]), label="ReprOk")


def test_map_tuple_and_flat_map_tuple(pipeline):
    with pipeline() as p:
        kvs = p | beam.Create([("a", 1), ("b", 2)])
        assert_that(kvs | beam.MapTuple(lambda k, v: k * v), equal_to(["a", "bb"]), label="MapTupleOk")
        assert_that(kvs | beam.FlatMapTuple(lambda k, v: [k] * v), equal_to(["a", "b", "b"]), label="FlatOk")
        assert_that(kvs | "Args" >> beam.MapTuple(lambda k, v, s="": "%s%s%d" % (k, s, v), s="="),
                    equal_to(["a=1", "b=2"]), label="ArgsOk")


class Point:
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return isinstance(other, Point) and other.x == self.x

    def __hash__(self):
        return hash(self.x)


def test_values_of_every_type_round_trip(pipeline):
    values = [None, True, False, 0, -7, 2 ** 70, 1.5, float("inf"), "", "é✓", b"\x00\xff", (), (1,), [1, [2]],
              {"a": (1, 2)}, {1, 2}, frozenset([3]), Point(3)]
    with pipeline() as p:
        out = p | beam.Create(values) | beam.Map(lambda v: v)
        assert_that(out, equal_to(values))


def test_bool_and_int_keep_their_types(pipeline):
    with pipeline() as p:
        out = p | beam.Create([True, 1, 1.0, "1"]) | beam.Map(lambda v: type(v).__name__)
        assert_that(out, equal_to(["bool", "int", "float", "str"]))


def test_map_requires_a_callable():
    with pytest.raises(TypeError):
        beam.Map(3)


def test_chained_transforms(pipeline):
    with pipeline() as p:
        both = "Inc" >> beam.Map(lambda x: x + 1) | "Double" >> beam.Map(lambda x: x * 2)
        assert_that(p | beam.Create([1, 2]) | both, equal_to([4, 6]))
