"""CombineGlobally, CombinePerKey, CombineValues and CombineFn classes."""

import math

import pytest

from .compat import assert_that, beam, equal_to, window


class AverageFn(beam.CombineFn):
    def create_accumulator(self):
        return (0.0, 0)

    def add_input(self, acc, x):
        return acc[0] + x, acc[1] + 1

    def merge_accumulators(self, accs):
        sums, counts = zip(*accs)
        return sum(sums), sum(counts)

    def extract_output(self, acc):
        return acc[0] / acc[1] if acc[1] else float("nan")


@pytest.mark.parametrize("fn,expected", [(sum, 10), (min, 1), (max, 4)])
def test_combine_globally_builtins(pipeline, fn, expected):
    with pipeline() as p:
        assert_that(p | beam.Create([3, 1, 4, 2]) | beam.CombineGlobally(fn), equal_to([expected]))


def test_combine_globally_floats_and_mixed(pipeline):
    with pipeline() as p:
        xs = p | beam.Create([1, 2.5, True])
        assert_that(xs | "Sum" >> beam.CombineGlobally(sum), equal_to([4.5]), label="SumOk")
        assert_that(xs | "Max" >> beam.CombineGlobally(max), equal_to([2.5]), label="MaxOk")
        strs = p | "Strs" >> beam.Create(["pear", "apple", "fig"])
        assert_that(strs | "MinStr" >> beam.CombineGlobally(min), equal_to(["apple"]), label="MinStr")


def test_combine_globally_lambda_over_iterable(pipeline):
    with pipeline() as p:
        xs = p | beam.Create(range(1, 30))
        # Beam re-applies the function to partial results: it must be associative.
        assert_that(xs | "Sum" >> beam.CombineGlobally(lambda vs: sum(vs)), equal_to([435]), label="SumOk")
        assert_that(xs | "Max" >> beam.CombineGlobally(lambda vs: max(vs, default=0)), equal_to([29]), label="MaxOk")


def test_combine_globally_combine_fn(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Create([1, 2, 3, 6]) | beam.CombineGlobally(AverageFn()), equal_to([3.0]))


def test_combine_globally_empty_input_gives_the_default(pipeline):
    with pipeline() as p:
        empty = p | beam.Create([])
        assert_that(empty | "Sum" >> beam.CombineGlobally(sum), equal_to([0]), label="SumOk")
        assert_that(empty | "Avg" >> beam.CombineGlobally(AverageFn())
                    | beam.Map(math.isnan), equal_to([True]), label="AvgOk")
        assert_that(empty | "List" >> beam.CombineGlobally(lambda vs: sorted(vs)), equal_to([[]]), label="ListOk")


def test_combine_globally_without_defaults(pipeline):
    with pipeline() as p:
        empty = p | beam.Create([])
        assert_that(empty | beam.CombineGlobally(sum).without_defaults(), equal_to([]))


def test_combine_globally_in_windows_without_defaults(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([1, 2, 11, 30])
               | beam.Map(lambda x: window.TimestampedValue(x, x))
               | beam.WindowInto(window.FixedWindows(10))
               | beam.CombineGlobally(sum).without_defaults())
        assert_that(out, equal_to([3, 11, 30]))


@pytest.mark.parametrize("fn,expected", [(sum, [("a", 4), ("b", 2)]), (min, [("a", 1), ("b", 2)]),
                                         (max, [("a", 3), ("b", 2)])])
def test_combine_per_key_builtins(pipeline, fn, expected):
    with pipeline() as p:
        out = p | beam.Create([("a", 1), ("b", 2), ("a", 3)]) | beam.CombinePerKey(fn)
        assert_that(out, equal_to(expected))


def test_combine_per_key_lambda_and_combine_fn(pipeline):
    with pipeline() as p:
        kvs = p | beam.Create([("a", 1), ("b", 2), ("a", 3), ("a", 8)])
        assert_that(kvs | "Lambda" >> beam.CombinePerKey(lambda vs: max(vs)),
                    equal_to([("a", 8), ("b", 2)]), label="LambdaOk")
        assert_that(kvs | "Avg" >> beam.CombinePerKey(AverageFn()),
                    equal_to([("a", 4.0), ("b", 2.0)]), label="AvgOk")


def test_combine_per_key_many_values(pipeline):
    with pipeline() as p:
        kvs = p | beam.Create([(i % 3, i) for i in range(2000)])
        out = kvs | beam.CombinePerKey(lambda vs: sum(vs))
        assert_that(out, equal_to([(k, sum(i for i in range(2000) if i % 3 == k)) for k in range(3)]))


def test_combine_fn_with_extra_args(pipeline):
    with pipeline() as p:
        out = p | beam.Create([1, 2, 3]) | beam.CombineGlobally(lambda vs, floor: max(list(vs) + [floor]), 10)
        assert_that(out, equal_to([10]))


def test_combine_values(pipeline):
    with pipeline() as p:
        groups = p | beam.Create([("a", [1, 2, 3]), ("b", [4]), ("c", [5, 6])])
        assert_that(groups | "Sum" >> beam.CombineValues(sum),
                    equal_to([("a", 6), ("b", 4), ("c", 11)]), label="SumOk")
        assert_that(groups | "Avg" >> beam.CombineValues(AverageFn()),
                    equal_to([("a", 2.0), ("b", 4.0), ("c", 5.5)]), label="AvgOk")
        assert_that(groups | "Lambda" >> beam.CombineValues(lambda vs: max(vs)),
                    equal_to([("a", 3), ("b", 4), ("c", 6)]), label="LambdaOk")


def test_combine_values_after_group_by_key(pipeline):
    with pipeline() as p:
        out = p | beam.Create([("a", 1), ("a", 2), ("b", 5)]) | beam.GroupByKey() | beam.CombineValues(max)
        assert_that(out, equal_to([("a", 2), ("b", 5)]))


def test_combine_fn_setup_is_called(pipeline):
    class Joined(beam.CombineFn):
        def setup(self):
            self.sep = "+"

        def create_accumulator(self):
            return []

        def add_input(self, acc, x):
            return acc + [x]

        def merge_accumulators(self, accs):
            return [x for a in accs for x in a]

        def extract_output(self, acc):
            return self.sep.join(sorted(acc))

    with pipeline() as p:
        assert_that(p | beam.Create(["b", "a"]) | beam.CombineGlobally(Joined()), equal_to(["a+b"]))
