"""User metrics: counters, distributions, gauges and queries."""

from .compat import Metrics, MetricsFilter, assert_that, beam, equal_to


class Measure(beam.DoFn):
    def __init__(self):
        self.seen = Metrics.counter(self.__class__, "seen")
        self.sizes = Metrics.distribution("ns", "sizes")
        self.last = Metrics.gauge("ns", "last")

    def process(self, element):
        self.seen.inc()
        self.sizes.update(element)
        self.last.set(7)
        Metrics.counter("ns", "total").inc(element)
        yield element


def _run(pipeline):
    p = pipeline()
    out = p | beam.Create([1, 2, 3, 10]) | "Measure" >> beam.ParDo(Measure())
    out | "Again" >> beam.Map(lambda x: Metrics.counter("ns", "total").inc(100) or x)
    assert_that(out, equal_to([1, 2, 3, 10]))
    result = p.run()
    result.wait_until_finish()
    return result


def _one(results):
    assert len(results) == 1, results
    return results[0]


def test_counter_by_name_and_step(pipeline):
    result = _run(pipeline)
    seen = _one(result.metrics().query(MetricsFilter().with_name("seen"))["counters"])
    assert seen.committed == 4
    assert seen.key.step == "Measure"
    assert seen.key.metric.name == "seen"
    totals = result.metrics().query(MetricsFilter().with_name("total"))["counters"]
    assert sorted((c.key.step, c.committed) for c in totals) == [("Again", 400), ("Measure", 16)]
    by_step = result.metrics().query(MetricsFilter().with_name("total").with_step("Again"))["counters"]
    assert _one(by_step).committed == 400


def test_counter_namespace_of_a_class(pipeline):
    result = _run(pipeline)
    seen = _one(result.metrics().query(MetricsFilter().with_namespace(Measure))["counters"])
    assert seen.key.metric.namespace.endswith("Measure")
    assert seen.committed == 4
    ns = result.metrics().query(MetricsFilter().with_namespace("ns"))
    assert sorted(c.key.metric.name for c in ns["counters"]) == ["total", "total"]


def test_distribution(pipeline):
    result = _run(pipeline)
    d = _one(result.metrics().query(MetricsFilter().with_name("sizes"))["distributions"]).committed
    assert (d.count, d.sum, d.min, d.max, d.mean) == (4, 16, 1, 10, 4.0)


def test_gauge(pipeline):
    result = _run(pipeline)
    g = _one(result.metrics().query(MetricsFilter().with_name("last"))["gauges"]).committed
    assert g.value == 7


def test_query_everything(pipeline):
    result = _run(pipeline)
    everything = result.metrics().query()
    assert {"counters", "distributions", "gauges"} <= set(everything)
    user = [c for c in everything["counters"] if c.key.metric.name in ("seen", "total")]
    assert len(user) == 3
