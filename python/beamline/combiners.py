"""``beamline.combiners``: the same module as ``beamline.transforms.combiners`` (as in Beam)."""

import sys

from beamline.transforms import combiners as _combiners

sys.modules[__name__] = _combiners
