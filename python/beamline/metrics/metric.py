"""``Metrics.counter/distribution/gauge`` inside DoFns, and ``result.metrics().query(...)``.

A DoFn's updates collect in its invoker's container (one per runner thread)
and reach the Rust runner after each bundle, which merges them per step.
"""

import threading
import time

__all__ = ["Metrics", "MetricsFilter", "MetricResults", "MetricResult", "MetricKey", "MetricName", "DistributionResult",
           "GaugeResult"]

_SEP = "\x1f"
_state = threading.local()


class _Container:
    """A DoFn invoker's metric updates since they were last taken."""

    def __init__(self):
        self.counters = {}
        self.distributions = {}
        self.gauges = {}

    def take(self):
        taken = (list(self.counters.items()), list(self.distributions.items()), list(self.gauges.items()))
        self.counters, self.distributions, self.gauges = {}, {}, {}
        return taken


def _set_container(container):
    _state.container = container


def _container():
    c = getattr(_state, "container", None)
    if c is None:
        c = _state.container = _Container()
    return c


class MetricName:
    def __init__(self, namespace, name):
        if not namespace or not name:
            raise ValueError("Metric namespace and name must be non-empty")
        self.namespace = namespace
        self.name = name

    def __eq__(self, other):
        return isinstance(other, MetricName) and (self.namespace, self.name) == (other.namespace, other.name)

    def __hash__(self):
        return hash((self.namespace, self.name))

    def __repr__(self):
        return "MetricName(namespace=%s, name=%s)" % (self.namespace, self.name)

    def _key(self):
        return self.namespace + _SEP + self.name


def _namespace(namespace):
    if isinstance(namespace, type):
        return "%s.%s" % (namespace.__module__, namespace.__name__)
    if not isinstance(namespace, str):
        raise ValueError("Metric namespace must be a string or a class, got %r" % (namespace,))
    return namespace


class Counter:
    def __init__(self, metric_name):
        self.metric_name = metric_name
        self._key = metric_name._key()

    def inc(self, n=1):
        c = _container().counters
        c[self._key] = c.get(self._key, 0) + int(n)

    def dec(self, n=1):
        self.inc(-n)

    def __repr__(self):
        return "Counter(%r)" % self.metric_name


class Distribution:
    def __init__(self, metric_name):
        self.metric_name = metric_name
        self._key = metric_name._key()

    def update(self, value):
        _container().distributions.setdefault(self._key, []).append(int(value))


class Gauge:
    def __init__(self, metric_name):
        self.metric_name = metric_name
        self._key = metric_name._key()

    def set(self, value):
        _container().gauges[self._key] = int(value)


class Metrics:
    """Creates metrics: ``Metrics.counter(self.__class__, 'words').inc()``."""

    @staticmethod
    def counter(namespace, name):
        return Counter(MetricName(_namespace(namespace), name))

    @staticmethod
    def distribution(namespace, name):
        return Distribution(MetricName(_namespace(namespace), name))

    @staticmethod
    def gauge(namespace, name):
        return Gauge(MetricName(_namespace(namespace), name))


class MetricKey:
    def __init__(self, step, metric, labels=None):
        self.step = step
        self.metric = metric
        self.labels = labels or {}

    def __eq__(self, other):
        return isinstance(other, MetricKey) and (self.step, self.metric) == (other.step, other.metric)

    def __hash__(self):
        return hash((self.step, self.metric))

    def __repr__(self):
        return "MetricKey(step=%s, metric=%s, labels=%s)" % (self.step, self.metric, self.labels)


class MetricResult:
    def __init__(self, key, committed, attempted):
        self.key = key
        self.committed = committed
        self.attempted = attempted

    @property
    def result(self):
        return self.committed if self.committed is not None else self.attempted

    def __repr__(self):
        return "MetricResult(key=%s, committed=%s, attempted=%s)" % (self.key, self.committed, self.attempted)


class DistributionResult:
    def __init__(self, count, total, minimum, maximum):
        self.count = count
        self.sum = total
        self.min = minimum
        self.max = maximum

    @property
    def mean(self):
        return None if self.count == 0 else self.sum / self.count

    def __eq__(self, other):
        return isinstance(other, DistributionResult) and (self.count, self.sum, self.min, self.max) == (
            other.count, other.sum, other.min, other.max)

    def __repr__(self):
        return "DistributionResult(sum=%s, count=%s, min=%s, max=%s, mean=%s)" % (
            self.sum, self.count, self.min, self.max, self.mean)


class GaugeResult:
    def __init__(self, value, timestamp=None):
        self.value = value
        self.timestamp = timestamp if timestamp is not None else int(time.time() * 1000)

    def __eq__(self, other):
        return isinstance(other, GaugeResult) and self.value == other.value

    def __repr__(self):
        return "GaugeResult(value=%s, timestamp=%s)" % (self.value, self.timestamp)


class MetricsFilter:
    """Selects metrics by name, namespace and step."""

    def __init__(self):
        self.names = set()
        self.namespaces = set()
        self.steps = set()

    def with_name(self, name):
        return self.with_names([name])

    def with_names(self, names):
        self.names.update(names)
        return self

    def with_namespace(self, namespace):
        return self.with_namespaces([namespace])

    def with_namespaces(self, namespaces):
        self.namespaces.update(_namespace(n) for n in namespaces)
        return self

    def with_step(self, step):
        return self.with_steps([step])

    def with_steps(self, steps):
        self.steps.update(steps)
        return self

    def _matches(self, key):
        if self.names and key.metric.name not in self.names:
            return False
        if self.namespaces and key.metric.namespace not in self.namespaces:
            return False
        if self.steps and not any(
                key.step == s or key.step.endswith("/" + s) or key.step.startswith(s + "/") or ("/" + s + "/") in key.step
                for s in self.steps):
            return False
        return True


class MetricResults:
    """The metrics of a finished run."""

    COUNTERS = "counters"
    DISTRIBUTIONS = "distributions"
    GAUGES = "gauges"

    def __init__(self, counters, distributions, gauges):
        self._counters = counters
        self._distributions = distributions
        self._gauges = gauges

    @classmethod
    def from_native(cls, native):
        def key(step, name):
            ns, _, n = name.partition(_SEP)
            if not n:
                ns, n = "beamline", name
            return MetricKey(step, MetricName(ns, n))

        counters = [MetricResult(key(s, n), v, v) for s, n, v in native.counters()]
        dists = []
        for s, n, count, total, lo, hi in native.distributions():
            d = DistributionResult(count, total, lo, hi)
            dists.append(MetricResult(key(s, n), d, d))
        gauges = [MetricResult(key(s, n), GaugeResult(v), GaugeResult(v)) for s, n, v in native.gauges()]
        return cls(counters, dists, gauges)

    def query(self, filter=None):  # noqa: A002 - Beam's parameter name
        f = filter or MetricsFilter()
        return {
            self.COUNTERS: [r for r in self._counters if f._matches(r.key)],
            self.DISTRIBUTIONS: [r for r in self._distributions if f._matches(r.key)],
            self.GAUGES: [r for r in self._gauges if f._matches(r.key)],
        }
