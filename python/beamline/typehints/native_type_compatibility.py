"""Conversion of ``typing`` hints (``typing.Tuple[int, str]``, ``list[int]``) to Beam's."""

from beamline.typehints.typehints import normalize

__all__ = ["convert_to_beam_type"]


def convert_to_beam_type(typ):
    """Beam's hint for ``typ`` (a ``typing`` hint, a built-in generic or a class)."""
    return normalize(typ)
