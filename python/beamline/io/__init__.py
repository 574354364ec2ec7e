"""IO at Beam's module paths: text IO (``from beamline.io import ReadFromText,
WriteToText``), ``filesystems.FileSystems`` and ``fileio``."""

from beamline.io import filesystem, filesystems  # noqa: F401
from beamline.io import fileio  # noqa: F401,E402
from beamline.io.textio import FollowText, ReadAllFromText, ReadFromText, WriteToText
from beamline.io.external.generate_sequence import GenerateSequence

__all__ = ["ReadFromText", "WriteToText", "ReadAllFromText", "FollowText", "GenerateSequence", "filesystems",
           "filesystem"]
