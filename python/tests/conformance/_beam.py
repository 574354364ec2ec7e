"""The SDK under test: beamline, or apache_beam when ``BEAMLINE_TEST_AGAINST=apache_beam``
(to check the expectations against Beam itself, on its DirectRunner)."""

import importlib
import os

AGAINST = os.environ.get("BEAMLINE_TEST_AGAINST", "")
if AGAINST not in ("", "beamline", "apache_beam"):
    raise ValueError("BEAMLINE_TEST_AGAINST must be apache_beam (or unset), got %r" % AGAINST)
ON_BEAM = AGAINST == "apache_beam"
_ROOT = "apache_beam" if ON_BEAM else "beamline"


def _m(name):
    return importlib.import_module(_ROOT + ("." + name if name else ""))


beam = _m("")
window = _m("transforms.window")
pvalue = _m("pvalue")
combiners = _m("transforms.combiners")
util = _m("testing.util")
PipelineOptions = _m("options.pipeline_options").PipelineOptions
timestamp = _m("utils.timestamp")
Metrics = _m("metrics").Metrics
MetricsFilter = _m("metrics").MetricsFilter
io = _m("io")

assert_that = util.assert_that
equal_to = util.equal_to
is_empty = util.is_empty
MIN_TIMESTAMP = timestamp.MIN_TIMESTAMP
END_OF_GLOBAL = window.GlobalWindow().max_timestamp()
TimestampedValue = window.TimestampedValue

# The columns every ported case runs on: (column, flags).
if ON_BEAM:
    COLUMNS = [("beam-direct", ["--runner=DirectRunner"])]
else:
    COLUMNS = [
        ("py-direct/1", ["--runner=direct", "--workers=1"]),
        ("py-rayon/1", ["--runner=rayon", "--workers=1"]),
        ("py-rayon/2", ["--runner=rayon", "--workers=2"]),
        ("py-timely/1", ["--runner=timely", "--workers=1"]),
        ("py-timely/2", ["--runner=timely", "--workers=2"]),
    ]
