"""Transforms, at Beam's module paths."""

from beamline.transforms import combiners, stats, timeutil, trigger, userstate, window  # noqa: F401
from beamline.transforms.core import *  # noqa: F401,F403
from beamline.transforms.ptransform import PTransform, ptransform_fn  # noqa: F401
from beamline.transforms.util import *  # noqa: F401,F403
from beamline.transforms.stats import ApproximateQuantiles, ApproximateUnique  # noqa: F401
