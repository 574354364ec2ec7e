"""Helpers the ported cases share: reified timestamps and windows as plain
values (seconds), and the Rust suite's small DoFns."""

from _beam import END_OF_GLOBAL, MIN_TIMESTAMP, TimestampedValue, beam, window
from _beam import util as _util


def ts_of(t, ms=False):
    """A timestamp as comparable plain data: 'MIN', 'EOGW' or microseconds (floored to
    milliseconds when ``ms``).

    Beam Python's runner carries timestamps across a GroupByKey at millisecond precision (the
    end of [0, 10) comes out as 9.999 s, not 9.999999 s), so grouped outputs are compared at
    that precision, and the end of the global window is recognized at it."""
    if t == MIN_TIMESTAMP:
        return "MIN"
    if t.micros // 1000 == END_OF_GLOBAL.micros // 1000:
        return "EOGW"
    return t.micros // 1000 * 1000 if ms else t.micros


def win_of(w):
    """A window as plain data: 'G' or (start_micros, end_micros)."""
    if isinstance(w, window.GlobalWindow):
        return "G"
    return (w.start.micros, w.end.micros)


def secs(s):
    return int(s * 1_000_000)


def win(a, b):
    """The window [a, b) in seconds, as win_of gives it."""
    return (secs(a), secs(b))


def _reify(x, t=beam.DoFn.TimestampParam, w=beam.DoFn.WindowParam):
    return (x, ts_of(t), win_of(w))


def _reify_ms(x, t=beam.DoFn.TimestampParam, w=beam.DoFn.WindowParam):
    return (x, ts_of(t, ms=True), win_of(w))


def _with_window(x, w=beam.DoFn.WindowParam):
    return (x, win_of(w))


def reify(pcoll, label="Reify", ms=False):
    """(element, timestamp, window) for every element (timestamps in ms precision when ``ms``)."""
    return pcoll | label >> beam.Map(_reify_ms if ms else _reify)


def with_window(pcoll, label="WithWindow"):
    return pcoll | label >> beam.Map(_with_window)


def timestamped(p, pairs, label="Create"):
    """A PCollection of (value, seconds) pairs at those timestamps (Beam's idiom:
    Create, then a Map emitting TimestampedValue)."""
    return (p | label >> beam.Create(pairs)
            | label + "Stamp" >> beam.Map(lambda vt: TimestampedValue(vt[0], vt[1])))


def fixed(pcoll, size, label="Fixed"):
    return pcoll | label >> beam.WindowInto(window.FixedWindows(size))


def assert_in_window(pcoll, w, matcher, label):
    """assert_that on the elements of one window [a, b) (given as win(a, b))."""
    only = (with_window(pcoll, label + "/WithWindow")
            | label + "/Select" >> beam.Filter(lambda xw, w=w: xw[1] == w)
            | label + "/Strip" >> beam.Map(lambda xw: xw[0]))
    from _beam import assert_that
    assert_that(only, matcher, label=label)


def sort_group(kv):
    return (kv[0], sorted(kv[1]))


class AddN(beam.DoFn):
    def __init__(self, n):
        self.n = n

    def process(self, x):
        yield x + self.n


class FailOn(beam.DoFn):
    def __init__(self, on, message):
        self.on = on
        self.message = message

    def process(self, x):
        if x == self.on:
            raise ValueError(self.message)
        yield x


class MeanFn(beam.CombineFn):
    def create_accumulator(self):
        return (0, 0)

    def add_input(self, acc, x):
        return (acc[0] + x, acc[1] + 1)

    def merge_accumulators(self, accs):
        s, c = 0, 0
        for a in accs:
            s += a[0]
            c += a[1]
        return (s, c)

    def extract_output(self, acc):
        return float("nan") if acc[1] == 0 else acc[0] / acc[1]


class SortedConcat(beam.CombineFn):
    def create_accumulator(self):
        return []

    def add_input(self, acc, x):
        acc.append(x)
        return acc

    def merge_accumulators(self, accs):
        out = []
        for a in accs:
            out.extend(a)
        return out

    def extract_output(self, acc):
        return ",".join(sorted(acc))


def counter(result, namespace, name):
    """A counter's committed value summed over steps (None when not reported)."""
    from _beam import MetricsFilter
    found = result.metrics().query(MetricsFilter().with_namespace(namespace).with_name(name))["counters"]
    if not found:
        return None
    return sum(r.committed for r in found)


def distribution(result, namespace, name):
    from _beam import MetricsFilter
    found = result.metrics().query(MetricsFilter().with_namespace(namespace).with_name(name))["distributions"]
    return [r.committed for r in found]


def gauge(result, namespace, name):
    from _beam import MetricsFilter
    found = result.metrics().query(MetricsFilter().with_namespace(namespace).with_name(name))["gauges"]
    return [r.committed for r in found]


def run_pipeline(p):
    """Runs ``p`` and returns its finished result."""
    result = p.run()
    result.wait_until_finish()
    return result




def end_of(a, b):
    """The last instant of [a, b) in seconds, in milliseconds precision (see ts_of)."""
    return (secs(b) - 1) // 1000 * 1000


class Generate(beam.DoFn):
    """Per seed s: per_seed pairs (i mod keys, s * per_seed + i)."""

    def __init__(self, per_seed, keys):
        self.per_seed = per_seed
        self.keys = keys

    def process(self, s):
        for i in range(self.per_seed):
            yield (i % self.keys, s * self.per_seed + i)


def summarize(kv):
    """(key, count, sum, min, max) of a group."""
    vs = list(kv[1])
    return (kv[0], len(vs), sum(vs), min(vs) if vs else 0, max(vs) if vs else 0)


def timestamped_kvs(p, xs, label="Create"):
    """(k, v) pairs at t seconds, from (k, v, t) triples."""
    return timestamped(p, [((k, v), t) for k, v, t in xs], label)


def equal_sorted(expected):
    """equal_to by sorting, for thousands of elements (beamline's equal_to compares them pairwise, in
    quadratic time)."""
    want = sorted(expected, key=repr)

    def match(actual):
        got = sorted(actual, key=repr)
        if got != want:
            missing = [e for e in want if e not in got][:5]
            unexpected = [a for a in got if a not in want][:5]
            raise _util.BeamAssertException("Failed assert: %d elements expected, got %d; missing %r..., unexpected "
                                           "%r..." % (len(want), len(got), missing, unexpected))
    return match
