"""``TestStream``: an unbounded source whose elements, watermark and
processing time a test scripts, event by event (Beam's
``apache_beam.testing.test_stream``). The script runs on the Rust
``TestStream`` (direct and timely runners).

One difference from Beam: the Rust engine tracks one watermark per source,
so a TestStream with several output tags gives all of them the lowest of the
tags' scripted watermarks (Beam keeps one per tag). Elements are never late
where Beam would keep them; a tag whose watermark runs ahead of the others'
holds nothing back in Beam that it releases here.
"""

from beamline import coders
from beamline.pvalue import PBegin
from beamline.transforms import window
from beamline.transforms.ptransform import PTransform
from beamline.utils import timestamp
from beamline.utils.timestamp import Duration, Timestamp
from beamline.utils.windowed_value import WindowedValue

__all__ = ["Event", "ElementEvent", "WatermarkEvent", "ProcessingTimeEvent", "TestStream"]


class Event:
    """A scripted event."""


class ElementEvent(Event):
    """Element-producing test stream event."""

    def __init__(self, timestamped_values, tag=None):
        self.timestamped_values = timestamped_values
        self.tag = tag

    def __eq__(self, other):
        if not isinstance(other, ElementEvent):
            return False
        return self.timestamped_values == other.timestamped_values and self.tag == other.tag

    def __hash__(self):
        return hash(self.timestamped_values)

    def __lt__(self, other):
        if not isinstance(other, ElementEvent):
            raise TypeError
        return self.timestamped_values < other.timestamped_values

    def __repr__(self):
        return "ElementEvent: <{}, {}>".format([(e.value, e.timestamp) for e in self.timestamped_values], self.tag)


class WatermarkEvent(Event):
    """Watermark-advancing test stream event."""

    def __init__(self, new_watermark, tag=None):
        self.new_watermark = Timestamp.of(new_watermark)
        self.tag = tag

    def __eq__(self, other):
        if not isinstance(other, WatermarkEvent):
            return False
        return self.new_watermark == other.new_watermark and self.tag == other.tag

    def __hash__(self):
        return hash(str(self.new_watermark) + str(self.tag))

    def __lt__(self, other):
        if not isinstance(other, WatermarkEvent):
            raise TypeError
        return self.new_watermark < other.new_watermark

    def __repr__(self):
        return "WatermarkEvent: <{}, {}>".format(self.new_watermark, self.tag)


class ProcessingTimeEvent(Event):
    """Processing time-advancing test stream event."""

    def __init__(self, advance_by):
        self.advance_by = Duration.of(advance_by)

    def __eq__(self, other):
        if not isinstance(other, ProcessingTimeEvent):
            return False
        return self.advance_by == other.advance_by

    def __hash__(self):
        return hash(self.advance_by)

    def __lt__(self, other):
        if not isinstance(other, ProcessingTimeEvent):
            raise TypeError
        return self.advance_by < other.advance_by

    def __repr__(self):
        return "ProcessingTimeEvent: <{}>".format(self.advance_by)


class TestStream(PTransform):
    """Test stream that generates events on an unbounded PCollection of elements.

    Each event emits elements, advances the watermark or advances the
    processing time. Applying it gives one PCollection if only the default
    output or only one output tag is used, else a dict of tag to PCollection.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, coder=coders.FastPrimitivesCoder(), events=None, output_tags=None, endpoint=None):
        super().__init__()
        assert coder is not None
        self.coder = coder
        self.watermarks = {None: timestamp.MIN_TIMESTAMP}
        self.output_tags = set(output_tags) if output_tags else set()
        self._events = [] if events is None else list(events)
        self._endpoint = endpoint
        event_tags = set(e.tag for e in self._events if isinstance(e, (WatermarkEvent, ElementEvent)))
        assert event_tags.issubset(self.output_tags), "{} is not a subset of {}".format(event_tags, output_tags)
        assert not (self._events and self._endpoint), "Only either events or an endpoint can be given at once."
        if endpoint is not None:
            raise NotImplementedError("beamline's TestStream plays its own events; a TestStreamService endpoint "
                                      "is not supported")

    def default_label(self):
        return "TestStream"

    def get_windowing(self, unused_inputs):
        from beamline.transforms.core import Windowing

        return Windowing(window.GlobalWindows())

    def _add(self, event):
        if isinstance(event, ElementEvent):
            for tv in event.timestamped_values:
                assert tv.timestamp < timestamp.MAX_TIMESTAMP, (
                    "Element timestamp must be before timestamp.MAX_TIMESTAMP.")
        elif isinstance(event, WatermarkEvent):
            if event.tag not in self.watermarks:
                self.watermarks[event.tag] = timestamp.MIN_TIMESTAMP
            assert event.new_watermark > self.watermarks[event.tag], "Watermark must strictly-monotonically advance."
            self.watermarks[event.tag] = event.new_watermark
        elif isinstance(event, ProcessingTimeEvent):
            assert event.advance_by > 0, "Must advance processing time by positive amount."
        else:
            raise ValueError("Unknown event: %s" % event)
        self._events.append(event)

    def add_elements(self, elements, tag=None, event_timestamp=None):
        """Adds elements: ``TimestampedValue``s and ``WindowedValue``s at their
        timestamps, other values at ``event_timestamp`` or the tag's current watermark."""
        self.output_tags.add(tag)
        timestamped_values = []
        if tag not in self.watermarks:
            self.watermarks[tag] = timestamp.MIN_TIMESTAMP
        for element in elements:
            if isinstance(element, window.TimestampedValue):
                timestamped_values.append(element)
            elif isinstance(element, WindowedValue):
                timestamped_values.append(window.TimestampedValue(element.value, element.timestamp))
            else:
                if event_timestamp is None:
                    event_timestamp = self.watermarks[tag]
                timestamped_values.append(window.TimestampedValue(element, event_timestamp))
        self._add(ElementEvent(timestamped_values, tag))
        return self

    def advance_watermark_to(self, new_watermark, tag=None):
        """Advances the watermark (seconds or a ``Timestamp``); it must strictly increase."""
        self.output_tags.add(tag)
        self._add(WatermarkEvent(new_watermark, tag))
        return self

    def advance_watermark_to_infinity(self, tag=None):
        """Advance the watermark to the end of time, completing this TestStream."""
        self.advance_watermark_to(timestamp.MAX_TIMESTAMP, tag)
        return self

    def advance_processing_time(self, advance_by):
        """Advances the processing-time clock by ``advance_by`` seconds (positive)."""
        self._add(ProcessingTimeEvent(advance_by))
        return self

    def _native_events(self, tags):
        """The script for the Rust TestStream: one watermark, the lowest of the tags'."""
        index = {t: i for i, t in enumerate(tags)}
        marks = {t: timestamp.MIN_TIMESTAMP for t in tags}
        current = timestamp.MIN_TIMESTAMP
        events = []
        for e in self._events:
            if isinstance(e, ElementEvent):
                if len(tags) > 1:
                    items = [((index[e.tag], tv.value), tv.timestamp.micros) for tv in e.timestamped_values]
                else:
                    items = [(tv.value, tv.timestamp.micros) for tv in e.timestamped_values]
                events.append(("elements", items))
            elif isinstance(e, WatermarkEvent):
                marks[e.tag] = e.new_watermark
                lowest = min(marks.values())
                if lowest > current:
                    current = lowest
                    events.append(("watermark", lowest.micros))
            else:
                events.append(("processing_time", e.advance_by.micros))
        return events

    def _native_apply(self, pipeline, label, pbegin):
        if not isinstance(pbegin, PBegin):
            raise TypeError("TestStream is a root transform: apply it to the pipeline, got %r" % (pbegin,))
        if not self.output_tags:
            self.output_tags = {None}
        tags = sorted(self.output_tags, key=lambda t: (t is not None, str(t)))
        ids = pipeline._native.test_stream(label, self._native_events(tags), len(tags))
        if len(tags) == 1:
            return pipeline._pcoll(ids[0], label)
        return {tag: pipeline._pcoll(i, label) for tag, i in zip(tags, ids)}
