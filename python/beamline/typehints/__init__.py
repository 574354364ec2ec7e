"""Beam's type hints (``beam.typehints``): the hint types (``KV``, ``List``,
``Tuple``, ``Dict``, ``Iterable``, ``Optional``, ``Any``, ``Union``, ...) and
the ``with_input_types``/``with_output_types`` decorators. A pipeline whose
declared types do not fit fails when it is built, with Beam's message; hints
also choose coders (``beam.coders.registry.get_coder``)."""

from beamline.typehints import decorators, typehints  # noqa: F401
from beamline.typehints.decorators import (  # noqa: F401
    TypeCheckError, WithTypeHints, with_input_types, with_output_types)
from beamline.typehints.typehints import (  # noqa: F401
    Any, Collection, Dict, FrozenSet, Generator, Iterable, Iterator, KV, List, Optional, Sequence, Set, Tuple,
    TypeVariable, Union, WindowedValue)

from beamline.typehints import native_type_compatibility  # noqa: F401,E402
