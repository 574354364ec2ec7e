"""Beam's coders (``from beam import coders``): the standard coders with Beam's
byte encodings, ``RowCoder``, custom ``Coder`` subclasses, and
``coders.registry`` to choose the coder of a type."""

from beamline.coders import coders, row_coder, typecoders  # noqa: F401
from beamline.coders.coders import *  # noqa: F401,F403
from beamline.coders.row_coder import RowCoder  # noqa: F401
from beamline.coders.typecoders import registry  # noqa: F401
