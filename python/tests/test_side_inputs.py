"""Side inputs of every view kind, defaults, and side inputs in windows."""

import pytest

from .compat import assert_that, beam, equal_to, pvalue, window


def test_as_singleton(pipeline):
    with pipeline() as p:
        total = p | "Side" >> beam.Create([1, 2, 3]) | beam.CombineGlobally(sum)
        out = p | beam.Create([10, 20]) | beam.Map(lambda x, t: x / t, pvalue.AsSingleton(total))
        assert_that(out, equal_to([10 / 6, 20 / 6]))


def test_as_singleton_default_value(pipeline):
    with pipeline() as p:
        empty = p | "Empty" >> beam.Create([])
        out = p | beam.Create([1]) | beam.Map(lambda x, s: (x, s), pvalue.AsSingleton(empty, default_value="dflt"))
        assert_that(out, equal_to([(1, "dflt")]))


def test_as_singleton_default_none(pipeline):
    with pipeline() as p:
        empty = p | "Empty" >> beam.Create([])
        out = p | beam.Create([1]) | beam.Map(lambda x, s: (x, s), pvalue.AsSingleton(empty, default_value=None))
        assert_that(out, equal_to([(1, None)]))


def test_as_singleton_of_several_elements_fails(pipeline):
    with pytest.raises(Exception, match="singleton"):
        with pipeline() as p:
            side = p | "Side" >> beam.Create([1, 2])
            p | beam.Create([1]) | beam.Map(lambda x, s: x, pvalue.AsSingleton(side))


def test_as_iter_and_as_list(pipeline):
    with pipeline() as p:
        side = p | "Side" >> beam.Create([3, 1, 2])
        main = p | beam.Create(["a", "b"])
        it = main | "Iter" >> beam.Map(lambda x, s: (x, sorted(s)), pvalue.AsIter(side))
        ls = main | "List" >> beam.Map(lambda x, s: (x, type(s).__name__, sorted(s)), pvalue.AsList(side))
        assert_that(it, equal_to([("a", [1, 2, 3]), ("b", [1, 2, 3])]), label="IterOk")
        assert_that(ls, equal_to([("a", "list", [1, 2, 3]), ("b", "list", [1, 2, 3])]), label="ListOk")


def test_empty_iter_list_dict(pipeline):
    with pipeline() as p:
        empty = p | "Empty" >> beam.Create([])
        out = p | beam.Create([0]) | beam.Map(
            lambda x, i, l, d, m: (list(i), l, dict(d), list(m["missing"])),
            pvalue.AsIter(empty), pvalue.AsList(empty), pvalue.AsDict(empty), pvalue.AsMultiMap(empty))
        assert_that(out, equal_to([([], [], {}, [])]))


def test_as_dict_and_as_multimap(pipeline):
    with pipeline() as p:
        side = p | "Side" >> beam.Create([("a", 1), ("b", 2), ("a", 3)])
        unique = p | "Unique" >> beam.Create([("a", 1), ("b", 2)])
        main = p | beam.Create(["a", "b", "c"])
        d = main | "Dict" >> beam.Map(lambda k, d: (k, d.get(k)), pvalue.AsDict(unique))
        m = main | "Multi" >> beam.Map(lambda k, m: (k, sorted(m[k])), pvalue.AsMultiMap(side))
        assert_that(d, equal_to([("a", 1), ("b", 2), ("c", None)]), label="DictOk")
        assert_that(m, equal_to([("a", [1, 3]), ("b", [2]), ("c", [])]), label="MultiOk")


def test_side_input_as_keyword_and_in_a_dofn(pipeline):
    class Scale(beam.DoFn):
        def process(self, element, factor, offset=0):
            yield element * factor + offset

    with pipeline() as p:
        factor = p | "Factor" >> beam.Create([10])
        offset = p | "Offset" >> beam.Create([1])
        out = p | beam.Create([1, 2]) | beam.ParDo(
            Scale(), pvalue.AsSingleton(factor), offset=pvalue.AsSingleton(offset))
        assert_that(out, equal_to([11, 21]))


def test_pcollection_as_side_input_is_iterable(pipeline):
    with pipeline() as p:
        side = p | "Side" >> beam.Create([1, 2])
        out = p | beam.Create([0]) | beam.Map(lambda x, s: sorted(s), pvalue.AsList(side))
        assert_that(out, equal_to([[1, 2]]))


def _stamp(x):
    return window.TimestampedValue(x, x)


def test_side_inputs_in_windows(pipeline):
    with pipeline() as p:
        side = (p | "Side" >> beam.Create([1, 2, 11, 12, 13])
                | "StampSide" >> beam.Map(_stamp)
                | "WindowSide" >> beam.WindowInto(window.FixedWindows(10)))
        main = (p | beam.Create([5, 15, 25])
                | "StampMain" >> beam.Map(_stamp)
                | "WindowMain" >> beam.WindowInto(window.FixedWindows(10)))
        sums = main | "Sum" >> beam.Map(lambda x, s: (x, sum(s)), pvalue.AsList(side))
        counts = (main | "Single" >> beam.Map(lambda x, c: (x, c), pvalue.AsSingleton(
            side | beam.combiners.Count.Globally().without_defaults(), default_value=0)))
        assert_that(sums, equal_to([(5, 3), (15, 36), (25, 0)]), label="SumOk")
        assert_that(counts, equal_to([(5, 2), (15, 3), (25, 0)]), label="CountOk")


def test_global_side_input_for_windowed_main(pipeline):
    with pipeline() as p:
        side = p | "Side" >> beam.Create([100])
        main = (p | beam.Create([5, 15]) | "Stamp" >> beam.Map(_stamp)
                | beam.WindowInto(window.FixedWindows(10)))
        out = main | beam.Map(lambda x, s: x + s, pvalue.AsSingleton(side))
        assert_that(out, equal_to([105, 115]))
