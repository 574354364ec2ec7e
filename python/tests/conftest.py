"""Every test that takes the ``pipeline`` fixture runs once per runner: direct,
rayon and timely at 1 and 2 workers (as bytewax's conftest runs each test on
several worker setups). With ``BEAMLINE_TEST_AGAINST=apache_beam`` the same
tests run on Apache Beam's DirectRunner instead, which checks the expectations."""

import shlex

import pytest

from .compat import BEAM, PipelineOptions, TestPipeline, beam

if BEAM:
    RUNNERS = {"beam-direct": ["--runner=DirectRunner"]}
else:
    RUNNERS = {
        "direct": ["--runner=direct"],
        "rayon-1": ["--runner=rayon", "--workers=1"],
        "rayon-2": ["--runner=rayon", "--workers=2"],
        "timely-1": ["--runner=timely", "--workers=1"],
        "timely-2": ["--runner=timely", "--workers=2"],
    }


@pytest.fixture(params=list(RUNNERS), ids=list(RUNNERS))
def runner_args(request, monkeypatch):
    """The flags of the runner under test (also in ``BEAMLINE_TEST_PIPELINE_ARGS``)."""
    args = RUNNERS[request.param]
    monkeypatch.setenv("BEAMLINE_TEST_PIPELINE_ARGS", shlex.join(args))
    return list(args)


@pytest.fixture
def pipeline(runner_args):
    """Builds a pipeline on the runner under test: ``with pipeline() as p:``,
    ``pipeline("--flag=x")`` for extra flags."""

    def make(*extra):
        if BEAM:
            return beam.Pipeline(options=PipelineOptions(runner_args + list(extra)))
        if not extra:
            return TestPipeline()  # reads BEAMLINE_TEST_PIPELINE_ARGS
        return TestPipeline(additional_pipeline_args=list(extra))

    return make


# Unbounded input (TestStream, streaming sources): the runners that run it.
# rayon runs bounded pipelines only and refuses these.
STREAMING = {name: args for name, args in RUNNERS.items() if not name.startswith("rayon")}


@pytest.fixture(params=list(STREAMING), ids=list(STREAMING))
def streaming_args(request, monkeypatch):
    """The flags of a runner that runs unbounded pipelines."""
    args = STREAMING[request.param] + (["--streaming"] if BEAM else [])
    monkeypatch.setenv("BEAMLINE_TEST_PIPELINE_ARGS", shlex.join(args))
    return list(args)


@pytest.fixture
def streaming_pipeline(streaming_args):
    """``pipeline`` for unbounded input: direct and timely (Beam's DirectRunner with ``--streaming``)."""

    def make(*extra):
        if BEAM:
            return beam.Pipeline(options=PipelineOptions(streaming_args + list(extra)))
        if not extra:
            return TestPipeline()
        return TestPipeline(additional_pipeline_args=list(extra))

    return make
