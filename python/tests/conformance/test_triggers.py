"""triggers.rs: the cases on bounded input (the TestStream transcripts are
ported in tests/test_triggers.py, on the runners that run unbounded input)."""

import pytest

from _beam import _m, assert_that, beam, equal_to, window
from _common import timestamped_kvs

trigger = _m("transforms.trigger")


def test_trigger_needs_an_accumulation_mode(run):
    # Beam Python refuses it when WindowInto is built (Rust: when applied).
    with pytest.raises(ValueError, match="^accumulation_mode must be provided for non-trivial triggers$"):
        beam.WindowInto(window.FixedWindows(10), trigger=trigger.AfterWatermark(early=trigger.AfterCount(1)))


def test_trigger_batch_fires_each_window_once(run):
    # Bounded input: each window fires once, at the end, whatever the trigger.
    # The pane's timing is not compared: Beam Python's batch runner calls
    # this pane EARLY (its trigger fired on the count before the watermark
    # moved), beamline calls it ON_TIME, as the Rust case and Beam's Java
    # runners do.
    with run.pipeline() as p:
        out = (timestamped_kvs(p, [("k", 1, 1), ("k", 2, 2), ("k", 3, 13)])
               | beam.WindowInto(window.FixedWindows(10), trigger=trigger.Repeatedly(trigger.AfterCount(1)),
                                 accumulation_mode=trigger.AccumulationMode.DISCARDING)
               | beam.GroupByKey()
               | beam.Map(lambda kv, pane=beam.DoFn.PaneInfoParam: (
                   kv[0], sorted(kv[1]), pane.index, pane.is_first)))
        assert_that(out, equal_to([("k", [1, 2], 0, True), ("k", [3], 0, True)]))
