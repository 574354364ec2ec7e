"""TestStream: scripted elements, watermarks and processing time, on the
runners that run unbounded input (direct, timely), checked against
apache-beam's DirectRunner with BEAMLINE_TEST_AGAINST=apache_beam."""

import pytest

from .compat import assert_that, beam, equal_to, sub, window

_ts = sub("testing.test_stream")
ElementEvent, WatermarkEvent, ProcessingTimeEvent = _ts.ElementEvent, _ts.WatermarkEvent, _ts.ProcessingTimeEvent
TimestampedValue = window.TimestampedValue
Timestamp = sub("utils.timestamp").Timestamp
trigger = sub("transforms.trigger")


def Stream(**kwargs):
    return _ts.TestStream(**kwargs)


class Reify(beam.DoFn):
    def process(self, e, ts=beam.DoFn.TimestampParam):
        yield (e, ts.micros // 1_000_000)


def test_events_are_recorded_as_beam_records_them():
    s = (Stream().advance_watermark_to(10).add_elements(["a", TimestampedValue("b", 3)])
         .advance_processing_time(5).advance_watermark_to_infinity())
    assert s._events == [
        WatermarkEvent(10),
        ElementEvent([TimestampedValue("a", 10), TimestampedValue("b", 3)]),
        ProcessingTimeEvent(5),
        WatermarkEvent(sub("utils.timestamp").MAX_TIMESTAMP),
    ]


def test_the_watermark_must_advance():
    s = Stream().advance_watermark_to(10)
    with pytest.raises(AssertionError, match=r"^Watermark must strictly-monotonically advance\."):
        s.advance_watermark_to(10)


def test_processing_time_must_advance():
    with pytest.raises(AssertionError, match=r"^Must advance processing time by positive amount\."):
        Stream().advance_processing_time(0)


def test_elements_take_the_watermark_or_their_timestamps(streaming_pipeline):
    s = (Stream().advance_watermark_to(10).add_elements(["a", "b"])
         .advance_watermark_to(20).add_elements(["c", TimestampedValue("d", 25)])
         .add_elements(["e"], event_timestamp=30)
         .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        out = p | s | beam.ParDo(Reify())
        assert_that(out, equal_to([("a", 10), ("b", 10), ("c", 20), ("d", 25), ("e", 30)]))


def test_basic_windowed_counts_with_late_data_dropped(streaming_pipeline):
    s = (Stream().advance_watermark_to(10).add_elements(["a", "b", "c"])
         .advance_watermark_to(20).add_elements(["d"]).add_elements(["e"])
         .advance_processing_time(10)
         .advance_watermark_to(300)
         .add_elements([TimestampedValue("late", 12)])
         .add_elements([TimestampedValue("last", 310)])
         .advance_watermark_to_infinity())

    with streaming_pipeline() as p:
        counts = (p | s
                  | beam.WindowInto(window.FixedWindows(15))
                  | beam.Map(lambda x: ("k", x))
                  | beam.GroupByKey()
                  | beam.MapTuple(lambda k, vs: sorted(vs)))
        # 'late' is behind the watermark, past its window's end: dropped.
        assert_that(counts, equal_to([["a", "b", "c"], ["d", "e"], ["last"]]))


def test_multiple_output_tags(streaming_pipeline):
    s = (Stream()
         .add_elements([TimestampedValue("a", 1)], tag="letters")
         .add_elements([TimestampedValue(1, 2)], tag="numbers")
         .advance_watermark_to(10, tag="letters")
         .advance_watermark_to(10, tag="numbers")
         .add_elements([TimestampedValue("b", 12)], tag="letters")
         .advance_watermark_to_infinity(tag="letters")
         .advance_watermark_to_infinity(tag="numbers"))
    with streaming_pipeline() as p:
        outs = p | s
        assert sorted(outs) == ["letters", "numbers"]
        assert_that(outs["letters"] | "L" >> beam.ParDo(Reify()), equal_to([("a", 1), ("b", 12)]), label="letters")
        assert_that(outs["numbers"] | "N" >> beam.ParDo(Reify()), equal_to([(1, 2)]), label="numbers")


def test_processing_time_drives_a_processing_time_trigger(streaming_pipeline):
    s = (Stream().add_elements([TimestampedValue(("k", 1), 1)])
         .advance_processing_time(30)
         .add_elements([TimestampedValue(("k", 2), 2)])
         .advance_processing_time(30)
         .advance_watermark_to_infinity())
    with streaming_pipeline("--allow_unsafe_triggers") as p:
        sums = (p | s
                | beam.WindowInto(window.GlobalWindows(),
                                  trigger=trigger.Repeatedly(trigger.AfterProcessingTime(10)),
                                  accumulation_mode=trigger.AccumulationMode.DISCARDING)
                | beam.CombinePerKey(sum))
        assert_that(sums, equal_to([("k", 1), ("k", 2)]))
