"""What the tests import: beamline, or Apache Beam itself with
``BEAMLINE_TEST_AGAINST=apache_beam`` (to check that every expectation is what
Beam really gives). Both packages have the same module paths."""

import importlib
import os

AGAINST = os.environ.get("BEAMLINE_TEST_AGAINST", "beamline")
if AGAINST not in ("beamline", "apache_beam"):
    raise RuntimeError("BEAMLINE_TEST_AGAINST must be beamline or apache_beam, not %r" % AGAINST)
BEAM = AGAINST == "apache_beam"


def sub(path):
    """The submodule ``path`` (``"transforms.window"``) of the package under test."""
    return importlib.import_module("%s.%s" % (AGAINST, path))


beam = importlib.import_module(AGAINST)
window = sub("transforms.window")
combiners = sub("transforms.combiners")
pvalue = sub("pvalue")
timestamp = sub("utils.timestamp")
windowed_value = sub("utils.windowed_value")
pipeline_options = sub("options.pipeline_options")
PipelineOptions = pipeline_options.PipelineOptions
StandardOptions = pipeline_options.StandardOptions
SetupOptions = pipeline_options.SetupOptions
Metrics = sub("metrics").Metrics
MetricsFilter = sub("metrics.metric").MetricsFilter
ReadFromText = sub("io").ReadFromText
WriteToText = sub("io").WriteToText
_testing = sub("testing.util")
assert_that = _testing.assert_that
equal_to = _testing.equal_to
is_empty = _testing.is_empty
TestPipeline = sub("testing.test_pipeline").TestPipeline
