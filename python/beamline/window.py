"""``beamline.window``: the same module as ``beamline.transforms.window`` (as in Beam)."""

import sys

from beamline.transforms import window as _window

sys.modules[__name__] = _window
