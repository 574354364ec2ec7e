"""Labels ('Label' >> t, nested composites, duplicates), PTransform
subclasses and @ptransform_fn."""

import pytest

from .compat import Metrics, MetricsFilter, assert_that, beam, equal_to


class CountWords(beam.PTransform):
    def __init__(self, min_length=1):
        super().__init__()
        self.min_length = min_length

    def expand(self, pcoll):
        n = self.min_length
        return (pcoll
                | "Split" >> beam.FlatMap(str.split)
                | "Keep" >> beam.Filter(lambda w: len(w) >= n)
                | "Count" >> beam.combiners.Count.PerElement())


@beam.ptransform_fn
def Scale(pcoll, factor):
    return pcoll | "Times" >> beam.Map(lambda x: x * factor)


def test_ptransform_subclass(pipeline):
    with pipeline() as p:
        out = p | beam.Create(["a bb a", "ccc bb"]) | CountWords(2)
        assert_that(out, equal_to([("bb", 2), ("ccc", 1)]))


def test_ptransform_fn(pipeline):
    with pipeline() as p:
        xs = p | beam.Create([1, 2])
        assert_that(xs | "Ten" >> Scale(10), equal_to([10, 20]), label="Ten")
        assert_that(xs | Scale(3), equal_to([3, 6]), label="Three")


def test_duplicate_label_raises():
    p = beam.Pipeline()
    xs = p | beam.Create([1])
    xs | "Same" >> beam.Map(lambda x: x)
    with pytest.raises(RuntimeError, match="Same"):
        xs | "Same" >> beam.Map(lambda x: x)


def test_duplicate_default_label_raises():
    p = beam.Pipeline()
    xs = p | beam.Create([1])

    def f(x):
        return x

    xs | beam.Map(f)
    with pytest.raises(RuntimeError):
        xs | beam.Map(f)


def test_same_label_in_different_composites(pipeline):
    with pipeline() as p:
        xs = p | beam.Create(["a b"])
        assert_that(xs | "One" >> CountWords(), equal_to([("a", 1), ("b", 1)]), label="One")
        assert_that(xs | "Two" >> CountWords(), equal_to([("a", 1), ("b", 1)]), label="Two")


class Inner(beam.PTransform):
    def expand(self, pcoll):
        def count(x):
            Metrics.counter("labels", "n").inc()
            return x

        return pcoll | "Step" >> beam.Map(count)


class Outer(beam.PTransform):
    def expand(self, pcoll):
        return pcoll | "In" >> Inner()


def test_nested_composite_labels_in_metrics(pipeline):
    p = pipeline()
    p | beam.Create([1, 2]) | "Out" >> Outer()
    result = p.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name("n"))["counters"]
    assert [(c.key.step, c.committed) for c in counters] == [("Out/In/Step", 2)]


def test_default_labels():
    assert beam.Map(str).label == "Map(str)"
    assert beam.GroupByKey().label == "GroupByKey"
    assert beam.CombinePerKey(sum).label == "CombinePerKey(sum)"
    assert CountWords().label == "CountWords"
    assert ("Named" >> beam.Map(str)).label == "Named"


class _NoSuperInit(beam.PTransform):
    def __init__(self, n):  # does not call PTransform.__init__, as Beam allows
        self.n = n

    def expand(self, pcoll):
        return pcoll | beam.Map(lambda x: x * self.n)


def test_composite_without_super_init(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Create([1, 2]) | _NoSuperInit(3), equal_to([3, 6]))
