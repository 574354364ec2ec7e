"""metrics.rs: counters, distributions and gauges reported by DoFns, addressed
by (nested) step labels and read from the PipelineResult."""

from _beam import Metrics, MetricsFilter, assert_that, beam, equal_to
from _common import AddN, run_pipeline


def _query(result, step=None, name=None, kind="counters"):
    f = MetricsFilter()
    if step is not None:
        f = f.with_step(step)
    if name is not None:
        f = f.with_name(name)
    return result.metrics().query(f)[kind]


def _counter(result, step, name):
    found = _query(result, step, name)
    return sum(r.committed for r in found) if found else None


class Measure(beam.DoFn):
    """Reports every kind of metric about the numbers it sees."""

    def __init__(self):
        self.elements = Metrics.counter("Measure", "elements")
        self.odd = Metrics.counter("Measure", "odd")
        self.total = Metrics.counter("Measure", "total")
        self.values = Metrics.distribution("Measure", "values")
        self.constant = Metrics.gauge("Measure", "constant")

    def process(self, x):
        self.elements.inc()
        if x % 2:
            self.odd.inc()
        self.total.inc(x)
        self.values.update(x)
        self.constant.set(42)
        yield x


def _measured(p, xs):
    return p | beam.Create(xs) | "Measure" >> beam.ParDo(Measure())


def _distribution(result, step, name):
    found = _query(result, step, name, "distributions")
    assert len(found) == 1, found
    d = found[0].committed
    return (d.count, d.sum, d.min, d.max)


def test_metrics_counters(run):
    p = run.pipeline()
    assert_that(_measured(p, [1, 2, 3, 4, 5, -6]), equal_to([1, 2, 3, 4, 5, -6]))
    r = run_pipeline(p)
    assert _counter(r, "Measure", "elements") == 6
    assert _counter(r, "Measure", "odd") == 3
    assert _counter(r, "Measure", "total") == 9
    assert _counter(r, "Measure", "never") is None


def test_metrics_distribution(run):
    p = run.pipeline()
    _measured(p, [5, -3, 10, 0])
    assert _distribution(run_pipeline(p), "Measure", "values") == (4, 12, -3, 10)


def test_metrics_gauge(run):
    p = run.pipeline()
    _measured(p, list(range(100)))
    found = _query(run_pipeline(p), "Measure", "constant", "gauges")
    assert [g.committed.value for g in found] == [42]


class PerBundle(beam.DoFn):
    def start_bundle(self):
        self.seen = 0

    def process(self, x):
        self.seen += 1
        yield x

    def finish_bundle(self):
        Metrics.counter("PerBundle", "seen_at_finish").inc(self.seen)
        Metrics.distribution("PerBundle", "bundle_size").update(1)
        self.seen = 0


def test_metrics_from_finish_bundle(run):
    p = run.pipeline()
    p | beam.Create(range(3000)) | "PerBundle" >> beam.ParDo(PerBundle())
    r = run_pipeline(p)
    assert _counter(r, "PerBundle", "seen_at_finish") == 3000
    count, _, _, _ = _distribution(r, "PerBundle", "bundle_size")
    assert count >= 1


class Inner(beam.PTransform):
    def expand(self, xs):
        return xs | "Add" >> beam.ParDo(AddN(1)) | "Measure" >> beam.ParDo(Measure())


class Outer(beam.PTransform):
    def expand(self, xs):
        return xs | "Inner" >> Inner()


def test_metrics_nested_labels(run):
    p = run.pipeline()
    assert_that(p | beam.Create([1, 2]) | "Outer" >> Outer(), equal_to([2, 3]))
    r = run_pipeline(p)
    assert _counter(r, "Outer/Inner/Measure", "elements") == 2
    assert _counter(r, "Inner/Measure", "elements") == 2
    steps = {c.key.step for c in _query(r, name="elements")}
    assert steps == {"Outer/Inner/Measure"}, steps


def test_metrics_same_dofn_two_steps(run):
    p = run.pipeline()
    xs = p | beam.Create([1, 2, 3])
    xs | "First" >> beam.ParDo(Measure())
    xs | beam.ParDo(AddN(1)) | "Second" >> beam.ParDo(Measure())
    r = run_pipeline(p)
    assert _counter(r, "First", "elements") == 3
    assert _counter(r, "Second", "total") == 9
    assert _counter(r, "First", "total") == 6


def test_metrics_many_elements(run):
    p = run.pipeline()
    n = 20_000  # the Rust case's 100 000, cut for the Python run
    _measured(p, list(range(1, n + 1)))
    r = run_pipeline(p)
    assert _counter(r, "Measure", "elements") == n
    assert _counter(r, "Measure", "total") == n * (n + 1) // 2
    count, _, mn, mx = _distribution(r, "Measure", "values")
    assert (count, mn, mx) == (n, 1, n)
