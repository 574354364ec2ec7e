"""``TestPipeline``: a Pipeline for tests, its runner from ``BEAMLINE_TEST_PIPELINE_ARGS``
(space-separated flags, e.g. ``--runner=rayon --workers=2``) or ``--test-pipeline-options``."""

import os
import shlex

from beamline.options.pipeline_options import PipelineOptions
from beamline.pipeline import Pipeline

__all__ = ["TestPipeline"]


class TestPipeline(Pipeline):
    """A pipeline that runs on leaving ``with`` (and asserts with ``assert_that``)."""

    __test__ = False  # not a pytest test class

    def __init__(self, runner=None, options=None, argv=None, is_integration_test=False, blocking=True,
                 additional_pipeline_args=None, display_data=None):
        if options is None:
            flags = shlex.split(os.environ.get("BEAMLINE_TEST_PIPELINE_ARGS", ""))
            flags += list(additional_pipeline_args or [])
            options = PipelineOptions(flags)
        super().__init__(runner=runner, options=options)

    def get_option(self, name):
        return getattr(self.options, name, None)
