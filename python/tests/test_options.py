"""PipelineOptions parsing and runner selection."""

import pytest

from .compat import BEAM, PipelineOptions, SetupOptions, StandardOptions, assert_that, beam, equal_to


def test_runner_flag_and_view_as():
    opts = PipelineOptions(["--runner=DirectRunner", "--save_main_session"])
    assert opts.view_as(StandardOptions).runner == "DirectRunner"
    assert opts.view_as(SetupOptions).save_main_session is True
    assert opts.view_as(StandardOptions).streaming is False


def test_runner_flag_with_a_space():
    assert PipelineOptions(["--runner", "DirectRunner"]).view_as(StandardOptions).runner == "DirectRunner"


def test_view_as_shares_the_values():
    opts = PipelineOptions([])
    opts.view_as(SetupOptions).save_main_session = True
    assert opts.view_as(SetupOptions).save_main_session is True
    assert opts.view_as(StandardOptions).runner is None


def test_keyword_options():
    opts = PipelineOptions([], save_main_session=True)
    assert opts.view_as(SetupOptions).save_main_session is True


def test_custom_options_class():
    class MyOptions(PipelineOptions):
        @classmethod
        def _add_argparse_args(cls, parser):
            parser.add_argument("--input", default="in.txt")
            parser.add_argument("--count", type=int, default=1)

    opts = PipelineOptions(["--count=3"])
    mine = opts.view_as(MyOptions)
    assert (mine.input, mine.count) == ("in.txt", 3)


def test_unknown_flags_are_discarded_and_the_pipeline_runs():
    opts = PipelineOptions(["--runner=DirectRunner", "--no-such-flag=1", "--another"])
    with beam.Pipeline(options=opts) as p:
        assert_that(p | beam.Create([1]), equal_to([1]))


def test_direct_runner_name_runs():
    with beam.Pipeline(runner="DirectRunner") as p:
        assert_that(p | beam.Create([1, 2]) | beam.Map(lambda x: x + 1), equal_to([2, 3]))


def test_bad_runner_names_the_valid_ones():
    with pytest.raises(ValueError) as info:
        beam.Pipeline(options=PipelineOptions(["--runner=NoSuchRunner"]))
    message = str(info.value)
    assert "NoSuchRunner" in message
    if not BEAM:
        for name in ("direct", "rayon", "timely"):
            assert name in message


def test_options_must_be_pipeline_options():
    with pytest.raises(ValueError):
        beam.Pipeline(options=["--runner=DirectRunner"])


def test_get_all_options():
    opts = PipelineOptions(["--runner=DirectRunner"])
    assert opts.get_all_options()["runner"] == "DirectRunner"


@pytest.mark.skipif(BEAM, reason="beamline's runner names")
@pytest.mark.parametrize("name", ["direct", "rayon", "timely", "DirectRunner"])
def test_beamline_runner_names(name):
    p = beam.Pipeline(options=PipelineOptions(["--runner=%s" % name, "--workers=2"]))
    assert_that(p | beam.Create([1, 2]) | beam.CombineGlobally(sum), equal_to([3]))
    result = p.run()
    assert result.runner() == ("direct" if name == "DirectRunner" else name)


@pytest.mark.skipif(BEAM, reason="beamline's flags")
def test_bad_workers_value():
    with pytest.raises(ValueError, match="workers"):
        beam.Pipeline(options=PipelineOptions(["--runner=rayon", "--workers=zero"]))
