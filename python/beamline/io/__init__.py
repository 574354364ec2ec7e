"""Text IO, at Beam's module path: ``from beamline.io import ReadFromText, WriteToText``."""

from beamline.io.textio import ReadFromText, WriteToText

__all__ = ["ReadFromText", "WriteToText"]
