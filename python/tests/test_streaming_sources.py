"""Unbounded sources and streaming runs: PeriodicImpulse (also on
apache-beam), beamline's GenerateSequence and FollowText, windowed writes of
unbounded input, and a streaming pipeline that runs until SIGINT and drains,
in one process and as a --processes cluster."""

import glob
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from .compat import BEAM, assert_that, beam, equal_to, sub, window

periodicsequence = sub("transforms.periodicsequence")
PeriodicImpulse = periodicsequence.PeriodicImpulse

beamline_only = pytest.mark.skipif(BEAM, reason="a beamline source (Beam's GenerateSequence is a Java "
                                                "cross-language transform; Beam has no FollowText)")


class WindowStart(beam.DoFn):
    def process(self, x, w=beam.DoFn.WindowParam):
        yield x, round(float(w.start), 3)


def test_periodic_impulse_emits_its_event_times(streaming_pipeline):
    with streaming_pipeline() as p:
        xs = p | PeriodicImpulse(start_timestamp=100, stop_timestamp=100.5, fire_interval=0.1)
        assert_that(xs | beam.Map(lambda t: round(t, 3)), equal_to([100.0, 100.1, 100.2, 100.3, 100.4]))


def test_periodic_impulse_with_data_and_windowing(streaming_pipeline):
    with pytest.warns(UserWarning, match="the data sequence will be repeated"):
        impulse = PeriodicImpulse(start_timestamp=100, stop_timestamp=100.3, fire_interval=0.1, data=["a", "b"],
                                  apply_windowing=True)
    with streaming_pipeline() as p:
        xs = p | impulse
        assert_that(xs | beam.ParDo(WindowStart()), equal_to([("a", 100.0), ("b", 100.1), ("a", 100.2)]))


def test_periodic_impulse_over_data_ends_after_it(streaming_pipeline):
    Timestamp = sub("utils.timestamp").Timestamp
    with streaming_pipeline() as p:
        xs = p | PeriodicImpulse(start_timestamp=100, fire_interval=0.1,
                                 data=[(Timestamp(5), "x"), (Timestamp(1), "y")])
        assert_that(xs | beam.Map(lambda v, ts=beam.DoFn.TimestampParam: (v, ts.micros)),
                    equal_to([("x", 5_000_000), ("y", 1_000_000)]))


def test_periodic_impulse_needs_enough_pre_timestamped_data():
    Timestamp = sub("utils.timestamp").Timestamp
    with pytest.raises(ValueError, match="Please either provide more data or decrease `stop_timestamp`."):
        PeriodicImpulse(start_timestamp=100, stop_timestamp=101, fire_interval=0.1, data=[(Timestamp(5), "x")])


@beamline_only
def test_generate_sequence_with_an_offset_and_event_times(streaming_pipeline):
    from beamline.io import GenerateSequence

    with streaming_pipeline() as p:
        xs = p | GenerateSequence(start=5, stop=25, timestamp_spacing=1)
        assert not xs.is_bounded
        sums = (xs | beam.WindowInto(window.FixedWindows(10)) | beam.Map(lambda x: ("k", x))
                | beam.CombinePerKey(sum) | beam.MapTuple(lambda k, v: v))
        # Element 5 + i at i seconds: [5..14] in [0, 10), [15..24] in [10, 20).
        assert_that(sums, equal_to([sum(range(5, 15)), sum(range(15, 25))]))


@beamline_only
def test_generate_sequence_refuses_what_it_cannot_bound():
    from beamline.io import GenerateSequence

    with pytest.raises(NotImplementedError, match="max_read_time"):
        GenerateSequence(0, max_read_time=1000)
    assert GenerateSequence(0, elements_per_period=10, max_read_time=500)._args["count"] == 5


@beamline_only
def test_windowed_write_of_unbounded_input(streaming_pipeline, tmp_path):
    from beamline.io import GenerateSequence

    prefix = str(tmp_path / "counts")
    with streaming_pipeline() as p:
        (p | GenerateSequence(0, 30, timestamp_spacing=1) | beam.WindowInto(window.FixedWindows(10))
         | beam.Map(lambda x: ("k", 1)) | beam.CombinePerKey(sum) | beam.MapTuple(lambda k, n: n)
         | beam.io.WriteToText(prefix))
    files = sorted(os.path.basename(f) for f in glob.glob(prefix + "*"))
    # One file per window, named by it.
    assert files == ["counts-1970-01-01T00:00:%02dZ-1970-01-01T00:00:%02dZ-00000-of-00001" % (s, s + 10)
                     for s in (0, 10, 20)]
    assert [(tmp_path / f).read_text() for f in files] == ["10\n"] * 3


@beamline_only
def test_follow_text_reads_lines_already_there_and_appended(tmp_path):
    from beamline.io import FollowText

    (tmp_path / "a.log").write_text("one\ntwo\n")
    script = tmp_path / "follow.py"
    out = tmp_path / "out"
    script.write_text(textwrap.dedent("""
        import sys
        import beamline as beam
        from beamline.io import FollowText
        from beamline.transforms import window
        with beam.Pipeline(argv=sys.argv[3:]) as p:
            (p | FollowText(sys.argv[1], poll_interval=0.05) | beam.Map(str.upper)
             | beam.WindowInto(window.FixedWindows(60)) | beam.io.WriteToText(sys.argv[2]))
    """))
    del FollowText
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "*.log"), str(out),
                             "--runner=timely", "--max-duration=3s"])
    time.sleep(1)
    with open(tmp_path / "a.log", "a") as f:
        f.write("three\n")
    (tmp_path / "b.log").write_text("four\n")
    assert proc.wait(timeout=60) == 0
    lines = [line for f in glob.glob(str(out) + "*") for line in pathlib.Path(f).read_text().split()]
    assert sorted(lines) == ["FOUR", "ONE", "THREE", "TWO"]


_ENDLESS = """
import sys
import beamline as beam
from beamline.io import GenerateSequence
from beamline.transforms import window
with beam.Pipeline(argv=sys.argv[2:]) as p:
    (p | GenerateSequence(0, elements_per_period=500, timestamp_spacing=0.01)
     | beam.WindowInto(window.FixedWindows(1))
     | beam.Map(lambda x: ("k", 1)) | beam.CombinePerKey(sum) | beam.MapTuple(lambda k, n: n)
     | beam.io.WriteToText(sys.argv[1]))
print("drained")
"""


@beamline_only
@pytest.mark.parametrize("flags", [["--workers=2"], ["--processes=2", "--workers=1"]], ids=["threads", "processes"])
def test_a_streaming_pipeline_runs_until_sigint_and_drains(tmp_path, flags):
    script = tmp_path / "endless.py"
    script.write_text(_ENDLESS)
    prefix = str(tmp_path / "counts")
    proc = subprocess.Popen([sys.executable, str(script), prefix, "--runner=timely"] + flags,
                            stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while len(glob.glob(prefix + "*")) < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None, "an endless pipeline stopped by itself"
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "drained" in stdout
    files = glob.glob(prefix + "*")
    counts = [int(pathlib.Path(f).read_text()) for f in files]
    # Each window holds 100 elements (0.01 s apart); the windows the drain
    # closed early hold fewer. Every window before the drain is complete.
    assert len(files) >= 2 and all(0 < n <= 100 for n in counts)
    assert sorted(counts)[-1] == 100


def test_streaming_is_a_standard_option():
    from .compat import PipelineOptions, StandardOptions

    assert PipelineOptions(["--streaming"]).view_as(StandardOptions).streaming is True
    assert PipelineOptions([]).view_as(StandardOptions).streaming is False
    options = PipelineOptions([])
    options.view_as(StandardOptions).streaming = True  # as Beam's leader_board sets it
    assert options.view_as(StandardOptions).streaming is True


@beamline_only
def test_streaming_flag_runs_bounded_pipelines_too(streaming_pipeline):
    # beamline decides streaming by the sources' boundedness: --streaming changes nothing.
    with streaming_pipeline("--streaming") as p:
        assert_that(p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * 2), equal_to([2, 4, 6]))
