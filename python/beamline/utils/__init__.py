"""Beam's utility modules: timestamps and windowed values (``beam.utils.windowed_value``
is an attribute after ``import beam.utils``, as in Beam)."""

from beamline.utils import sharded_key, timestamp, windowed_value  # noqa: F401
