"""Combines with side inputs, in every form (callable and CombineFn; globally,
per key and on grouped values), and ``CombineGlobally(...).as_singleton_view()``.

A callable is applied to partial results too (Beam's CallableWrapperCombineFn),
so the callables here are ones that may be: capped sums and maxima."""

import pytest

from .compat import assert_that, beam, equal_to, pvalue, window


class SumTimes(beam.CombineFn):
    """The sum of the inputs times a factor given as an extra argument."""

    def create_accumulator(self, factor):
        return 0

    def add_input(self, acc, x, factor):
        return acc + x

    def merge_accumulators(self, accs, factor):
        return sum(accs)

    def extract_output(self, acc, factor):
        return acc * factor


def test_combine_globally_callable_with_singleton(pipeline):
    with pipeline() as p:
        cap = p | "Cap" >> beam.Create([5])
        out = (p | beam.Create([1, 2, 3])
               | beam.CombineGlobally(lambda xs, c: min(sum(xs), c), pvalue.AsSingleton(cap)))
        assert_that(out, equal_to([5]))


def test_combine_globally_combine_fn_with_singleton(pipeline):
    with pipeline() as p:
        factor = p | "Factor" >> beam.Create([2])
        out = p | beam.Create([1, 2, 3]) | beam.CombineGlobally(SumTimes(), pvalue.AsSingleton(factor))
        assert_that(out, equal_to([12]))


def test_combine_globally_without_defaults_with_side_inputs(pipeline):
    with pipeline() as p:
        floor = p | "Floor" >> beam.Create([2])
        out = (p | beam.Create([])
               | beam.CombineGlobally(lambda xs, f: max(list(xs) + [f]), pvalue.AsSingleton(floor)).without_defaults())
        assert_that(out, equal_to([]))


def test_combine_per_key_with_iter_and_dict(pipeline):
    with pipeline() as p:
        floors = p | "Floors" >> beam.Create([0, 2])
        names = p | "Names" >> beam.Create([("a", "Ann"), ("b", "Bob")])
        out = (p | beam.Create([("a", 1), ("a", 1), ("b", 3)])
               | beam.CombinePerKey(lambda xs, extra: max(list(xs) + list(extra)), pvalue.AsIter(floors))
               | beam.Map(lambda kv, n: (n[kv[0]], kv[1]), pvalue.AsDict(names)))
        assert_that(out, equal_to([("Ann", 2), ("Bob", 3)]))


def test_combine_per_key_combine_fn_with_keyword_side_input(pipeline):
    with pipeline() as p:
        factor = p | "Factor" >> beam.Create([3])
        out = (p | beam.Create([("a", 1), ("a", 2), ("b", 5)])
               | beam.CombinePerKey(SumTimes(), factor=pvalue.AsSingleton(factor)))
        assert_that(out, equal_to([("a", 9), ("b", 15)]))


def test_combine_values_with_side_input(pipeline):
    with pipeline() as p:
        factor = p | "Factor" >> beam.Create([2])
        out = (p | beam.Create([("a", [1, 2]), ("b", [5])])
               | beam.CombineValues(SumTimes(), pvalue.AsSingleton(factor)))
        assert_that(out, equal_to([("a", 6), ("b", 10)]))


def test_combine_globally_with_side_input_per_window(pipeline):
    with pipeline() as p:
        cap = p | "Cap" >> beam.Create([4])
        out = (p | beam.Create([window.TimestampedValue(1, 1), window.TimestampedValue(2, 2),
                                window.TimestampedValue(5, 65)])
               | beam.WindowInto(window.FixedWindows(60))
               | beam.CombineGlobally(lambda xs, c: min(sum(xs), c), pvalue.AsSingleton(cap)).without_defaults())
        assert_that(out, equal_to([3, 4]))


def test_combine_globally_defaults_need_global_windows_with_side_inputs(pipeline):
    with pytest.raises(ValueError, match="Default values are not yet supported in CombineGlobally"):
        with pipeline() as p:
            factor = p | "Factor" >> beam.Create([10])
            (p | beam.Create([window.TimestampedValue(1, 1)])
             | beam.WindowInto(window.FixedWindows(60))
             | beam.CombineGlobally(lambda xs, f: sum(xs) * f, pvalue.AsSingleton(factor)))


def test_as_singleton_view(pipeline):
    with pipeline() as p:
        total = p | "Numbers" >> beam.Create([1, 2, 3]) | beam.CombineGlobally(sum).as_singleton_view()
        out = p | "Main" >> beam.Create([10, 20]) | beam.Map(lambda x, t: x + t, total)
        assert_that(out, equal_to([16, 26]))


def test_as_singleton_view_of_an_empty_input_reads_the_default(pipeline):
    with pipeline() as p:
        total = p | "Numbers" >> beam.Create([]) | beam.CombineGlobally(sum).as_singleton_view()
        out = p | "Main" >> beam.Create([10]) | beam.Map(lambda x, t: x + t, total)
        assert_that(out, equal_to([10]))
