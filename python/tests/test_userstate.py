"""Keyed state and timers (Beam's userstate API) on the Rust engine, on every
runner for bounded input and on direct and timely for TestStreams; the same
expectations run on apache-beam with BEAMLINE_TEST_AGAINST=apache_beam."""

import re

import pytest

from .compat import BEAM, Metrics, MetricsFilter, assert_that, beam, combiners, equal_to, sub, window

userstate = sub("transforms.userstate")
coders = sub("coders")
TimeDomain = userstate.TimeDomain
_ts = sub("testing.test_stream")
TimestampedValue = window.TimestampedValue
Timestamp = sub("utils.timestamp").Timestamp
StateParam, TimerParam = beam.DoFn.StateParam, beam.DoFn.TimerParam


def Stream():
    return _ts.TestStream()


# What timers emit when a TestStream's watermark reaches its end comes after
# Beam's streaming assert_that has checked (Beam's own userstate tests record
# outputs in the DoFn for that reason, "until assert_that works for the cases
# here in streaming mode"); these tests record them the same way.
RECORDED = []


class Record(beam.DoFn):
    def process(self, element):
        RECORDED.append(element)


def recorded(run, build):
    """The elements ``build(p)`` gives once the pipeline ``run()`` makes has run."""
    del RECORDED[:]
    with run() as p:
        build(p) | "Record" >> beam.ParDo(Record())
    return sorted(RECORDED, key=repr)


class RunningCount(beam.DoFn):
    """A running count per key: (key, 1), (key, 2), ..."""

    COUNT = userstate.ReadModifyWriteStateSpec("count", coders.VarIntCoder())

    def process(self, kv, count=StateParam(COUNT)):
        n = (count.read() or 0) + 1
        count.write(n)
        yield kv[0], n


def test_read_modify_write_state_per_key(pipeline):
    with pipeline() as p:
        out = p | beam.Create([("a", 1), ("b", 2), ("a", 3), ("a", 4)]) | beam.ParDo(RunningCount())
        assert_that(out, equal_to([("a", 1), ("a", 2), ("a", 3), ("b", 1)]))


def test_state_is_per_key_and_window(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([("a", 1), ("a", 2), ("a", 11), ("b", 12)])
               | beam.Map(lambda kv: TimestampedValue(kv, kv[1]))
               | beam.WindowInto(window.FixedWindows(10))
               | beam.ParDo(RunningCount()))
        assert_that(out, equal_to([("a", 1), ("a", 2), ("a", 1), ("b", 1)]))


class BufferUntilEndOfWindow(beam.DoFn):
    """Buffers values in a bag; a watermark timer at the window's end emits them
    with the key, the window and the timer's timestamp."""

    BUFFER = userstate.BagStateSpec("buffer", coders.VarIntCoder())
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)

    def process(self, kv, buffer=StateParam(BUFFER), flush=TimerParam(FLUSH), w=beam.DoFn.WindowParam):
        buffer.add(kv[1])
        flush.set(w.max_timestamp())

    @userstate.on_timer(FLUSH)
    def flush(self, key=beam.DoFn.KeyParam, buffer=StateParam(BUFFER), w=beam.DoFn.WindowParam,
              ts=beam.DoFn.TimestampParam):
        # In seconds: Beam's batch runner gives timers millisecond precision.
        yield key, sorted(buffer.read()), (w.start.micros, w.end.micros), ts.micros // 1_000_000
        buffer.clear()


def test_bag_state_and_an_event_time_timer(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([("a", 1), ("a", 2), ("a", 13), ("b", 4)])
               | beam.Map(lambda kv: TimestampedValue(kv, kv[1]))
               | beam.WindowInto(window.FixedWindows(10))
               | beam.ParDo(BufferUntilEndOfWindow()))
        assert_that(out, equal_to([
            ("a", [1, 2], (0, 10_000_000), 9),
            ("a", [13], (10_000_000, 20_000_000), 19),
            ("b", [4], (0, 10_000_000), 9),
        ]))


def test_event_time_timers_fire_as_the_watermark_passes(streaming_pipeline):
    s = (Stream().add_elements([TimestampedValue(("k", 1), 1), TimestampedValue(("k", 2), 2)])
         .advance_watermark_to(15)
         .add_elements([TimestampedValue(("k", 3), 12)])
         .advance_watermark_to_infinity())
    out = recorded(streaming_pipeline,
                   lambda p: p | s | beam.WindowInto(window.FixedWindows(10)) | beam.ParDo(BufferUntilEndOfWindow()))
    assert out == [("k", [1, 2], (0, 10_000_000), 9), ("k", [3], (10_000_000, 20_000_000), 19)]


class SumAndMean(beam.DoFn):
    TOTAL = userstate.CombiningValueStateSpec("total", sum)
    MEAN = userstate.CombiningValueStateSpec("mean", coders.PickleCoder(), combiners.CountCombineFn())
    LARGEST = userstate.CombiningValueStateSpec("largest", combine_fn=lambda xs: max(xs, default=0))
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)

    def process(self, kv, total=StateParam(TOTAL), mean=StateParam(MEAN), largest=StateParam(LARGEST),
                flush=TimerParam(FLUSH), w=beam.DoFn.WindowParam):
        total.add(kv[1])
        mean.add(kv[1])
        largest.add(kv[1])
        flush.set(w.max_timestamp())

    @userstate.on_timer(FLUSH)
    def flush(self, key=beam.DoFn.KeyParam, total=StateParam(TOTAL), mean=StateParam(MEAN),
              largest=StateParam(LARGEST)):
        yield key, total.read(), mean.read(), largest.read()


def test_combining_value_state(pipeline):
    with pipeline() as p:
        out = p | beam.Create([("a", 1), ("a", 2), ("a", 6), ("b", 5)]) | beam.ParDo(SumAndMean())
        assert_that(out, equal_to([("a", 9, 3, 6), ("b", 5, 1, 5)]))


class FirstSeen(beam.DoFn):
    """Emits each value the first time its key sees it."""

    SEEN = userstate.SetStateSpec("seen", coders.StrUtf8Coder())

    def process(self, kv, seen=StateParam(SEEN)):
        if kv[1] not in seen.read():
            seen.add(kv[1])
            yield kv


def test_set_state(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([("a", "x"), ("a", "y"), ("a", "x"), ("b", "x"), ("b", "x")])
               | beam.ParDo(FirstSeen()))
        assert_that(out, equal_to([("a", "x"), ("a", "y"), ("b", "x")]))


class Clearing(beam.DoFn):
    """As Beam's test_clearing_bag_state: a timer at 100 clears the bag before
    the timer at 1000 reads it."""

    BAG = userstate.BagStateSpec("bag_state", coders.StrUtf8Coder())
    EMIT = userstate.TimerSpec("emit_timer", TimeDomain.WATERMARK)
    CLEAR = userstate.TimerSpec("clear_timer", TimeDomain.WATERMARK)

    def process(self, kv, bag=StateParam(BAG), emit=TimerParam(EMIT), clear=TimerParam(CLEAR)):
        bag.add(kv[1])
        clear.set(100)
        emit.set(1000)

    @userstate.on_timer(EMIT)
    def emit_values(self, bag=StateParam(BAG)):
        for value in bag.read():
            yield value
        yield "extra"

    @userstate.on_timer(CLEAR)
    def clear_values(self, bag=StateParam(BAG)):
        bag.clear()


def test_a_timer_clears_state_before_another_reads_it(streaming_pipeline):
    s = Stream().advance_watermark_to(0).add_elements([("key", "value")]).advance_watermark_to(100)
    assert recorded(streaming_pipeline, lambda p: p | s | beam.ParDo(Clearing())) == ["extra"]


class TwoTimersOneFunction(beam.DoFn):
    BAG = userstate.BagStateSpec("bag_state", coders.StrUtf8Coder())
    EMIT = userstate.TimerSpec("emit_timer", TimeDomain.WATERMARK)
    EMIT_TWICE = userstate.TimerSpec("clear_timer", TimeDomain.WATERMARK)

    def process(self, kv, bag=StateParam(BAG), emit=TimerParam(EMIT), twice=TimerParam(EMIT_TWICE)):
        bag.add(kv[1])
        twice.set(100)
        emit.set(1000)

    @userstate.on_timer(EMIT_TWICE)
    @userstate.on_timer(EMIT)
    def emit_values(self, bag=StateParam(BAG)):
        yield from bag.read()


def test_two_timers_one_callback(streaming_pipeline):
    s = Stream().advance_watermark_to(0).add_elements([("key", "value")]).advance_watermark_to(100)
    assert recorded(streaming_pipeline, lambda p: p | s | beam.ParDo(TwoTimersOneFunction())) == ["value", "value"]


class DynamicTimers(beam.DoFn):
    """One timer per tag (Beam's dynamic timers): each value sets the timer
    tagged with it; the callback reads the tag that fired."""

    TIMER = userstate.TimerSpec("timer", TimeDomain.WATERMARK)

    def process(self, kv, timer=TimerParam(TIMER)):
        timer.set(kv[1], dynamic_timer_tag=str(kv[1]))
        if kv[1] == 30:
            timer.clear(dynamic_timer_tag="20")

    @userstate.on_timer(TIMER)
    def fired(self, tag=beam.DoFn.DynamicTimerTagParam, ts=beam.DoFn.TimestampParam, key=beam.DoFn.KeyParam):
        yield key, tag, ts.micros // 1_000_000


def test_dynamic_timers(streaming_pipeline):
    s = (Stream().add_elements([("k", 10), ("k", 20)]).add_elements([("k", 30)])
         .advance_watermark_to(5).advance_watermark_to_infinity())
    assert recorded(streaming_pipeline, lambda p: p | s | beam.ParDo(DynamicTimers())) == [("k", "10", 10),
                                                                                          ("k", "30", 30)]


def test_state_survives_across_watermark_advances(streaming_pipeline):
    s = (Stream().advance_watermark_to(0).add_elements([("a", 1)])
         .advance_watermark_to(10).add_elements([("a", 3)])
         .advance_watermark_to(20).add_elements([("a", 5)]))
    assert recorded(streaming_pipeline, lambda p: p | s | beam.ParDo(RunningCount())) == [("a", 1), ("a", 2), ("a", 3)]


# Beam's validation.

def test_state_param_needs_a_state_spec():
    with pytest.raises(ValueError, match=r"^DoFn\.StateParam expected StateSpec object\.$"):
        beam.DoFn.StateParam(userstate.TimerSpec("t", TimeDomain.WATERMARK))


def test_timer_param_needs_a_timer_spec():
    with pytest.raises(ValueError, match=r"^DoFn\.TimerParam expected TimerSpec object\.$"):
        beam.DoFn.TimerParam(userstate.BagStateSpec("b", coders.VarIntCoder()))


def test_timer_spec_domains():
    assert userstate.TimerSpec("t", TimeDomain.REAL_TIME).name == "ts-t"
    with pytest.raises(ValueError, match=r"^Unsupported TimeDomain: 'DEPENDENT_REAL_TIME'\.$"):
        userstate.TimerSpec("t", TimeDomain.DEPENDENT_REAL_TIME)


def test_combining_state_needs_a_combine_fn():
    with pytest.raises(ValueError, match="^combine_fn must be provided$"):
        userstate.CombiningValueStateSpec("c")


def test_state_spec_checks_its_arguments():
    with pytest.raises(TypeError, match="^name is not a string$"):
        userstate.BagStateSpec(1, coders.VarIntCoder())
    with pytest.raises(TypeError, match="^coder is not of type Coder$"):
        userstate.BagStateSpec("b", int)


def test_on_timer_needs_a_timer_spec():
    with pytest.raises(ValueError, match=r"^@on_timer decorator expected TimerSpec\.$"):
        userstate.on_timer(userstate.BagStateSpec("b", coders.VarIntCoder()))


def test_duplicate_state_names_are_refused():
    class Duplicate(beam.DoFn):
        A = userstate.BagStateSpec("same", coders.VarIntCoder())
        B = userstate.ReadModifyWriteStateSpec("same", coders.VarIntCoder())
        T = userstate.TimerSpec("t", TimeDomain.WATERMARK)

        def process(self, kv, a=StateParam(A), t=TimerParam(T)):
            yield kv

        @userstate.on_timer(T)
        def fired(self, b=StateParam(B)):
            yield 1

    with pytest.raises(ValueError, match=r"^DoFn .* has multiple StateSpecs with the same name: "):
        beam.ParDo(Duplicate())


def test_a_parameter_twice_is_refused():
    class Twice(beam.DoFn):
        A = userstate.BagStateSpec("a", coders.VarIntCoder())

        def process(self, kv, a=StateParam(A), b=StateParam(A)):
            yield kv

    with pytest.raises(ValueError, match=re.escape(
            "has duplicate process method parameters: ['StateParam(a)', 'StateParam(a)'].")):
        beam.ParDo(Twice())


def test_a_timer_without_a_callback_is_refused():
    class NoCallback(beam.DoFn):
        T = userstate.TimerSpec("lonely", TimeDomain.WATERMARK)

        def process(self, kv, t=TimerParam(T)):
            yield kv

    with pytest.raises(ValueError, match=(
            r"^DoFn .* has a TimerSpec without an associated on_timer callback: TimerSpec\(ts-lonely\)\.$")):
        beam.ParDo(NoCallback())


def test_a_second_callback_for_a_timer_is_refused():
    spec = userstate.TimerSpec("t", TimeDomain.WATERMARK)
    userstate.on_timer(spec)(lambda self: None)
    with pytest.raises(ValueError, match=re.escape("Multiple on_timer callbacks registered for TimerSpec(ts-t).")):
        userstate.on_timer(spec)(lambda self: None)


def test_stateful_detection():
    assert userstate.is_stateful_dofn(RunningCount())
    assert not userstate.is_stateful_dofn(beam.DoFn())
    states, timers = userstate.get_dofn_specs(BufferUntilEndOfWindow())
    assert {s.name for s in states} == {"buffer"} and {t.name for t in timers} == {"ts-flush"}


class OrderedBuffer(beam.DoFn):
    """Keeps values by timestamp; at the window's end reads them in order and
    by range, then clears a range."""

    LIST = userstate.OrderedListStateSpec("list", coders.PickleCoder())
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)

    def process(self, kv, items=StateParam(LIST), flush=TimerParam(FLUSH), ts=beam.DoFn.TimestampParam,
                w=beam.DoFn.WindowParam):
        items.add((ts, kv[1]))
        flush.set(w.max_timestamp())

    @userstate.on_timer(FLUSH)
    def flush(self, items=StateParam(LIST)):
        everything = [v for _, v in items.read()]
        middle = [v for _, v in items.read_range(Timestamp(2), Timestamp(4))]
        items.clear_range(Timestamp(0), Timestamp(3))
        rest = [v for _, v in items.read()]
        yield everything, middle, rest


def test_ordered_list_state(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([("k", "c", 3), ("k", "a", 1), ("k", "d", 4), ("k", "b", 2)])
               | beam.Map(lambda kvt: TimestampedValue((kvt[0], kvt[1]), kvt[2]))
               | beam.WindowInto(window.FixedWindows(10))
               | beam.ParDo(OrderedBuffer()))
        assert_that(out, equal_to([(["a", "b", "c", "d"], ["b", "c"], ["c", "d"])]))


class GenerateRecords(beam.DoFn):
    """Beam's test_generate_sequence_with_realtime_timer: a processing-time
    timer, set on absolute times of the TestStream's clock, emits three values."""

    EMIT_TIMER = userstate.TimerSpec("emit_timer", TimeDomain.REAL_TIME)
    COUNT_STATE = userstate.CombiningValueStateSpec("count_state", coders.VarIntCoder(), combiners.CountCombineFn())

    def __init__(self, frequency, total_records):
        self.total_records = total_records
        self.frequency = frequency

    def process(self, element, emit_timer=TimerParam(EMIT_TIMER)):
        emit_timer.set(self.frequency)
        yield element[1]

    @userstate.on_timer(EMIT_TIMER)
    def emit_values(self, emit_timer=TimerParam(EMIT_TIMER), count_state=StateParam(COUNT_STATE)):
        count = count_state.read() or 0
        if self.total_records == count:
            return
        count_state.add(1)
        emit_timer.set(count + 1 + self.frequency)
        yield "value"


def test_processing_time_timers_follow_the_test_stream_clock(streaming_pipeline):
    s = (Stream().advance_watermark_to(0).add_elements([("key", 0)])
         .advance_processing_time(1).add_elements([("key", 1)])
         .advance_processing_time(1).add_elements([("key", 2)])
         .advance_processing_time(1).add_elements([("key", 3)]))
    out = recorded(streaming_pipeline, lambda p: p | s | beam.ParDo(GenerateRecords(1, 3)))
    assert out == sorted([0, "value", 1, "value", 2, "value", 3], key=repr)


class CountingWithMetrics(beam.DoFn):
    """Metrics from process and from a timer callback of a stateful DoFn."""

    SEEN = userstate.BagStateSpec("seen", coders.VarIntCoder())
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)

    def process(self, kv, seen=StateParam(SEEN), flush=TimerParam(FLUSH), w=beam.DoFn.WindowParam):
        Metrics.counter("state", "elements").inc()
        Metrics.distribution("state", "values").update(kv[1])
        seen.add(kv[1])
        flush.set(w.max_timestamp())

    @userstate.on_timer(FLUSH)
    def flush(self, seen=StateParam(SEEN)):
        Metrics.counter("state", "flushes").inc()
        yield sum(seen.read())


def test_metrics_of_a_stateful_dofn(pipeline):
    p = pipeline()
    out = p | beam.Create([("a", 1), ("a", 2), ("b", 5)]) | "Count" >> beam.ParDo(CountingWithMetrics())
    assert_that(out, equal_to([3, 5]))
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(MetricsFilter())["counters"]
                if c.key.metric.namespace == "state"}
    assert counters == {"elements": 3, "flushes": 2}
    (values,) = result.metrics().query(MetricsFilter().with_name("values"))["distributions"]
    assert (values.committed.count, values.committed.sum, values.committed.max) == (3, 8, 5)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))


class LastPoint(beam.DoFn):
    """Python objects in a value cell and a bag."""

    LAST = userstate.ReadModifyWriteStateSpec("last", coders.PickleCoder())
    ALL = userstate.BagStateSpec("all", coders.PickleCoder())

    def process(self, kv, last=StateParam(LAST), points=StateParam(ALL)):
        previous = last.read()
        last.write(Point(kv[1], -kv[1]))
        points.add(Point(kv[1], 0))
        yield kv[0], previous is None or isinstance(previous, Point), len(list(points.read()))


def test_python_objects_in_state(pipeline):
    with pipeline() as p:
        out = p | beam.Create([("a", 1), ("a", 2), ("b", 3)]) | beam.ParDo(LastPoint())
        assert_that(out, equal_to([("a", True, 1), ("a", True, 2), ("b", True, 1)]))


@pytest.mark.skipif(BEAM, reason="beamline keeps Python objects in state as themselves (Beam encodes them with the "
                                 "spec's coder)")
def test_state_keeps_python_objects_unpickled(pipeline):
    import threading

    class KeepLock(beam.DoFn):
        LOCK = userstate.ReadModifyWriteStateSpec("lock", coders.PickleCoder())

        def process(self, kv, lock=StateParam(LOCK)):
            held = lock.read()
            if held is None:
                lock.write(threading.Lock())  # cannot be pickled
            yield kv[0], held is not None and hasattr(held, "acquire")

    with pipeline() as p:
        out = p | beam.Create([("a", 1), ("a", 2)]) | beam.ParDo(KeepLock())
        assert_that(out, equal_to([("a", False), ("a", True)]))


class SplitByCount(beam.DoFn):
    """Tagged outputs from a stateful DoFn: each key's first element to 'first', the rest to the main output."""

    SEEN = userstate.ReadModifyWriteStateSpec("seen", coders.BooleanCoder())

    def process(self, kv, seen=StateParam(SEEN)):
        if seen.read():
            yield kv
        else:
            seen.write(True)
            yield beam.pvalue.TaggedOutput("first", kv[0])


def test_tagged_outputs_of_a_stateful_dofn(pipeline):
    with pipeline() as p:
        outs = (p | beam.Create([("a", 1), ("a", 2), ("b", 3), ("a", 4)])
                | beam.ParDo(SplitByCount()).with_outputs("first", main="rest"))
        assert_that(outs.first, equal_to(["a", "b"]), label="first")
        assert_that(outs.rest | beam.Map(lambda kv: kv[0]), equal_to(["a", "a"]), label="rest")


class CallsPerBundle(beam.DoFn):
    """Counts the elements of each bundle and emits the count from
    ``finish_bundle``, in the global window (outputs there name their own)."""

    SEEN = userstate.BagStateSpec("seen", coders.VarIntCoder())

    def start_bundle(self):
        self.calls = 0

    def process(self, kv, seen=StateParam(SEEN)):
        seen.add(kv[1])
        self.calls += 1
        return []

    def finish_bundle(self):
        yield sub("utils.windowed_value").WindowedValue(self.calls, 0, [window.GlobalWindow()])


def test_bundle_methods_of_a_stateful_dofn(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([("a", 1), ("a", 2), ("b", 3), ("c", 4)]) | beam.ParDo(CallsPerBundle())
               | beam.CombineGlobally(sum))
        assert_that(out, equal_to([4]))


class PaneOfElement(beam.DoFn):
    """Shows the pane each element of a stateful DoFn arrived in."""

    SEEN = userstate.ReadModifyWriteStateSpec("seen", coders.VarIntCoder())

    def process(self, kv, seen=StateParam(SEEN), pane=beam.DoFn.PaneInfoParam):
        seen.write((seen.read() or 0) + 1)
        timing = sub("utils.windowed_value").PaneInfoTiming.to_string(pane.timing)
        # (Not is_last: on bounded input Beam Python's GroupByKey says False, beamline's True, as Beam Java.)
        yield kv[0], timing, pane.is_first, pane.index


def test_a_stateful_dofn_sees_the_pane_of_its_element(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([("a", 1), ("a", 2), ("b", 3), ("a", 12)])
               | beam.Map(lambda kv: TimestampedValue(kv, kv[1]))
               | beam.WindowInto(window.FixedWindows(10))
               | beam.GroupByKey()
               | beam.ParDo(PaneOfElement()))
        assert_that(out, equal_to([("a", "ON_TIME", True, 0), ("b", "ON_TIME", True, 0), ("a", "ON_TIME", True, 0)]))
