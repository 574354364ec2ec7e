"""pardo.rs: the DoFn lifecycle, timestamps and windows, finish_bundle output,
tagged outputs, and user errors."""

import itertools
import threading

import pytest

from _beam import TimestampedValue, assert_that, beam, combiners, equal_to, is_empty, pvalue, window
from _common import (AddN, FailOn, equal_sorted, assert_in_window, counter, fixed, reify, run_pipeline, secs, timestamped,
                     win)


def test_pardo_portable_dofn(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([1, 2, 3]) | beam.ParDo(AddN(10)), equal_to([11, 12, 13]))


# Per token, the (instance, event) pairs in order.
_LOG = {}
_LOG_LOCK = threading.Lock()
_INSTANCES = itertools.count(1)
_TOKENS = itertools.count(1)


def _log(token, instance, event):
    with _LOG_LOCK:
        _LOG.setdefault(token, []).append((instance, event))


class Lifecycle(beam.DoFn):
    """Checks Beam's lifecycle from inside: setup once, bundles (start, process*, finish), teardown."""

    def __init__(self, token):
        self.token = token
        self.phase = "new"
        self.instance = 0
        self.unreported_setups = 0
        self.processed = beam.metrics.Metrics.counter("Lifecycle", "process")

    def _expect(self, want, what):
        if self.phase != want:
            _log(self.token, self.instance, "violation")
            raise RuntimeError("%s called in phase %s, expected %s" % (what, self.phase, want))

    def setup(self):
        self._expect("new", "setup")
        self.instance = next(_INSTANCES)
        self.phase = "idle"
        self.unreported_setups = 1
        _log(self.token, self.instance, "setup")

    def start_bundle(self):
        self._expect("idle", "start_bundle")
        self.phase = "bundle"
        _log(self.token, self.instance, "start_bundle")

    def process(self, x):
        self._expect("bundle", "process")
        self.processed.inc()
        yield x

    def finish_bundle(self):
        self._expect("bundle", "finish_bundle")
        self.phase = "idle"
        m = beam.metrics.Metrics
        m.counter("Lifecycle", "start_bundle").inc()
        m.counter("Lifecycle", "finish_bundle").inc()
        m.counter("Lifecycle", "setup").inc(self.unreported_setups)
        self.unreported_setups = 0
        _log(self.token, self.instance, "finish_bundle")

    def teardown(self):
        self._expect("idle", "teardown")
        self.phase = "down"
        _log(self.token, self.instance, "teardown")


def _well_formed(events):
    if len(events) < 2 or events[0] != "setup" or events[-1] != "teardown":
        return False
    bundles = events[1:-1]
    return len(bundles) % 2 == 0 and all(bundles[i:i + 2] == ["start_bundle", "finish_bundle"]
                                         for i in range(0, len(bundles), 2))


def test_pardo_lifecycle(run):
    token = next(_TOKENS)
    n = 5000
    p = run.pipeline()
    xs = p | beam.Create(range(n)) | "Lifecycle" >> beam.ParDo(Lifecycle(token))
    assert_that(xs, equal_sorted(range(n)))
    r = run_pipeline(p)
    with _LOG_LOCK:
        events = _LOG.pop(token, [])
    get = lambda name: counter(r, "Lifecycle", name) or 0  # noqa: E731
    assert get("process") == n
    starts, finishes, setups = get("start_bundle"), get("finish_bundle"), get("setup")
    assert starts >= 1 and starts == finishes and 1 <= setups <= starts, (setups, starts, finishes)
    per_instance = {}
    for i, e in events:
        per_instance.setdefault(i, []).append(e)
    used = sum(1 for evs in per_instance.values() if "start_bundle" in evs)
    assert used == setups, (used, setups)
    for i, evs in per_instance.items():
        assert _well_formed(evs), (i, evs)
    assert sum(1 for _, e in events if e == "finish_bundle") == finishes


class EmitAtFinish(beam.DoFn):
    """Buffers a bundle and emits it from finish_bundle at x seconds, in its 10-second window."""

    def start_bundle(self):
        self.buffer = []

    def process(self, x):
        self.buffer.append(x)

    def finish_bundle(self):
        from _beam import _m
        WindowedValue = _m("utils.windowed_value").WindowedValue
        for x in self.buffer:
            beam.metrics.Metrics.counter("EmitAtFinish", "emitted").inc()
            start = (x // 10) * 10
            yield WindowedValue(x, x, [window.IntervalWindow(start, start + 10)])
        self.buffer = []


def test_pardo_finish_bundle_emits(run):
    p = run.pipeline()
    xs = p | beam.Create(range(1000)) | "EmitAtFinish" >> beam.ParDo(EmitAtFinish())
    assert_that(reify(xs), equal_to([(x, secs(x), win(x // 10 * 10, x // 10 * 10 + 10)) for x in range(1000)]))
    r = run_pipeline(p)
    assert counter(r, "EmitAtFinish", "emitted") == 1000


def test_pardo_timestamps_and_windows_in_process(run):
    with run.pipeline() as p:
        xs = fixed(timestamped(p, [("a", 3), ("b", 17), ("c", -4)]), 10)
        assert_that(reify(xs), equal_to([("a", secs(3), win(0, 10)), ("b", secs(17), win(10, 20)),
                                         ("c", secs(-4), win(-10, 0))]))


class Retime(beam.DoFn):
    def __init__(self, shift):
        self.shift = shift

    def process(self, x, t=beam.DoFn.TimestampParam):
        yield TimestampedValue(x, t + self.shift)


def test_pardo_emit_with_timestamp(run):
    with run.pipeline() as p:
        xs = fixed(timestamped(p, [(1, 1), (2, 8)]) | beam.ParDo(Retime(5)), 10)
        assert_that(reify(xs), equal_to([(1, secs(6), win(0, 10)), (2, secs(13), win(10, 20))]))


class Repeat(beam.DoFn):
    def __init__(self, n):
        self.n = n

    def process(self, x):
        for _ in range(self.n):
            yield x


def test_pardo_fan_out(run):
    with run.pipeline() as p:
        xs = p | beam.Create(range(100)) | beam.ParDo(Repeat(1000))
        assert_that(xs | combiners.Count.Globally(), equal_to([100_000]), label="AssertCount")
        assert_that(xs | combiners.Count.PerElement(), equal_to([(x, 1000) for x in range(100)]), label="AssertPerElement")


def test_pardo_chain_of_steps(run):
    with run.pipeline() as p:
        xs = p | beam.Create([0, 100])
        for i in range(20):
            xs = xs | "Step%d" % i >> beam.ParDo(AddN(i))
        assert_that(xs, equal_to([190, 290]))


class Route(beam.DoFn):
    """Odd numbers to the main output, even ones to 'evens', multiples of 3 also as text to 'threes'."""

    def process(self, x):
        if x % 3 == 0:
            yield pvalue.TaggedOutput("threes", "three:%d" % x)
        if x % 2 == 0:
            yield pvalue.TaggedOutput("evens", x)
        else:
            yield x


def test_pardo_tagged_outputs(run):
    with run.pipeline() as p:
        out = p | beam.Create(range(1, 10)) | beam.ParDo(Route()).with_outputs("evens", "threes", main="main")
        assert_that(out.main, equal_to([1, 3, 5, 7, 9]), label="Main")
        assert_that(out.evens, equal_to([2, 4, 6, 8]), label="Evens")
        assert_that(out["threes"], equal_to(["three:3", "three:6", "three:9"]), label="Threes")


def test_pardo_tagged_output_left_empty(run):
    with run.pipeline() as p:
        out = p | beam.Create([1, 5, 7]) | beam.ParDo(Route()).with_outputs("evens", "threes", main="main")
        assert_that(out.main, equal_to([1, 5, 7]), label="Main")
        assert_that(out.evens, is_empty(), label="Evens")
        assert_that(out.threes, is_empty(), label="Threes")


def test_pardo_tagged_outputs_keep_windows(run):
    with run.pipeline() as p:
        xs = fixed(timestamped(p, [(1, 1), (2, 12), (3, 25)]), 10)
        out = xs | beam.ParDo(Route()).with_outputs("evens", "threes", main="main")
        assert_that(reify(out.main), equal_to([(1, secs(1), win(0, 10)), (3, secs(25), win(20, 30))]), label="Main")
        assert_that(reify(out.evens, "ReifyEvens"), equal_to([(2, secs(12), win(10, 20))]), label="Evens")
        assert_in_window(out.threes, win(20, 30), equal_to(["three:3"]), "Threes")


class Splitter(beam.DoFn):
    """Sends x to the tag t(x mod number of tags)."""

    def __init__(self, n):
        self.n = n

    def process(self, x):
        yield pvalue.TaggedOutput("t%d" % (x % self.n), x)


def _split(xs, label, n):
    out = xs | label >> beam.ParDo(Splitter(n)).with_outputs(*["t%d" % i for i in range(n)])
    return [out["t%d" % i] for i in range(n)]


def test_pardo_same_dofn_different_outputs(run):
    with run.pipeline() as p:
        xs = p | beam.Create(range(6))
        one = _split(xs, "One", 1)
        three = _split(xs, "Three", 3)
        assert_that(one[0], equal_to(list(range(6))), label="OneEq")
        assert_that(three[1], equal_to([1, 4]), label="ThreeEq")


def _fails(run, build, label, message):
    """The run fails with an error naming ``label`` and carrying ``message``."""
    p = run.pipeline()
    build(p)
    with pytest.raises(Exception) as info:
        p.run().wait_until_finish()
    text = str(info.value)
    assert message in text and label in text, text[:2000]
    return text


def test_pardo_error_names_the_label(run):
    # Beam Python's error names the step and the message, not the element (the Rust case also checks that).
    _fails(run, lambda p: p | beam.Create(range(1, 6)) | "Explode" >> beam.ParDo(FailOn(3, "kaboom on three")),
           "Explode", "kaboom on three")


class Outer(beam.PTransform):
    def expand(self, xs):
        return xs | "Fine" >> beam.ParDo(AddN(1)) | "Inner" >> beam.ParDo(FailOn(2, "bad two"))


def test_pardo_error_in_composite_names_the_full_label(run):
    _fails(run, lambda p: p | beam.Create([1]) | "Outer" >> Outer(), "Outer/Inner", "bad two")


class PanicOn(beam.DoFn):
    def __init__(self, on):
        self.on = on

    def process(self, x):
        if x == self.on:
            raise AssertionError("deliberate panic on %d" % x)
        yield x


def test_pardo_panic_names_the_label(run):
    _fails(run, lambda p: p | beam.Create(range(1, 6)) | "Panicky" >> beam.ParDo(PanicOn(4)),
           "Panicky", "deliberate panic on 4")


class FailIn(beam.DoFn):
    def __init__(self, in_setup):
        self.in_setup = in_setup

    def setup(self):
        if self.in_setup:
            raise RuntimeError("cannot connect in setup")

    def process(self, x):
        yield x

    def finish_bundle(self):
        if not self.in_setup:
            raise RuntimeError("cannot flush in finish_bundle")


def test_pardo_setup_error_names_the_label(run):
    _fails(run, lambda p: p | beam.Create([1]) | "Connect" >> beam.ParDo(FailIn(True)),
           "Connect", "cannot connect in setup")


def test_pardo_finish_bundle_error_names_the_label(run):
    _fails(run, lambda p: p | beam.Create([1]) | "Flush" >> beam.ParDo(FailIn(False)),
           "Flush", "cannot flush in finish_bundle")


class RejectText(beam.DoFn):
    def process(self, s):
        raise ValueError("rejected")


def test_pardo_error_shortens_the_element(run):
    # Beam's message does not show the element at all; what carries over: a 100 000-character
    # element does not flood the message.
    text = _fails(run, lambda p: p | beam.Create(["x" * 100_000]) | "Reject" >> beam.ParDo(RejectText()),
                  "Reject", "rejected")
    assert len(text) < 5000, len(text)


def test_pardo_error_unicode_label(run):
    _fails(run, lambda p: p | beam.Create([1, 2]) | "Schritt/步骤 ✓" >> beam.ParDo(FailOn(2, "nein")),
           "Schritt/步骤 ✓", "nein")


def test_pardo_long_chain(run):
    n = 1_000  # the Rust case's 10 000, cut to keep the Python run short
    with run.pipeline() as p:
        xs = p | beam.Create(range(n))
        for i in range(200):
            xs = xs | "Add%d" % i >> beam.ParDo(AddN(1))
        assert_that(xs | beam.CombineGlobally(sum), equal_to([n * (n - 1) // 2 + 200 * n]))


def test_pardo_wide_fan_out_of_consumers(run):
    with run.pipeline() as p:
        xs = p | beam.Create([0, 1000])
        outs = [xs | "Add%d" % i >> beam.ParDo(AddN(i)) for i in range(50)]
        assert_that(outs | beam.Flatten(), equal_to([v for i in range(50) for v in (i, 1000 + i)]))
