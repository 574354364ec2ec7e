"""test_stream.rs: the cases with a name of their own (the transcripts of
triggers.rs and the state and timer cases are covered by tests/test_triggers.py,
tests/test_userstate.py and tests/test_test_stream.py)."""

import pytest

from _beam import ON_BEAM, TimestampedValue, _m, assert_that, beam, equal_to

TestStream = _m("testing.test_stream").TestStream
TestStream.__test__ = False


def _stream_pipeline(run):
    # Beam's DirectRunner runs a TestStream in streaming mode.
    return run.pipeline(["--streaming"] if ON_BEAM else [])


def test_test_stream_assert_that_after_several_events(run):
    def build(p):
        s = (TestStream().add_elements([TimestampedValue(1, 3)]).add_elements([TimestampedValue(2, 4)])
             .advance_watermark_to_infinity())
        assert_that(p | s, equal_to([1, 2]))

    if run.column.startswith("py-rayon"):
        with pytest.raises(Exception, match="lacks the capability 'test_stream'"):
            with _stream_pipeline(run) as p:
                build(p)
        return
    with _stream_pipeline(run) as p:
        build(p)


def test_test_stream_refused_by_rayon(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([1]), equal_to([1]))
    if not run.column.startswith("py-rayon"):
        return  # the runners with the capability run it (the case above)
    with pytest.raises(Exception, match=r"runner 'rayon' cannot run step 'TestStream': it lacks the capability "
                                        r"'test_stream'"):
        with run.pipeline() as p:
            assert_that(p | TestStream().add_elements([1]).advance_watermark_to_infinity(), equal_to([1]))
