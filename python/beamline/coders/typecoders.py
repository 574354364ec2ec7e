"""``coders.registry``: which coder encodes which type. ``register_coder(Xyz,
XyzCoder)`` makes every beamline runner encode ``Xyz`` values with
``XyzCoder`` wherever they leave Python: between processes, in shuffles and
in the direct runner's encoding check (the coder's ``encode`` is used in
place of pickle, its ``decode`` when the value comes back). A type hint
naming ``Xyz`` (``with_output_types``) picks the coder for a PCollection, as
in Beam, and a GroupByKey refuses a key coder that is not deterministic."""

import copyreg
import threading

from beamline.coders import coders
from beamline.typehints import typehints

__all__ = ["registry", "CoderRegistry"]


class _Encoding(threading.local):
    def __init__(self):
        self.active = set()


_encoding = _Encoding()


def _decode_registered(coder, data):
    return coder.decode(data)


def _reducer(coder):
    """A pickle reducer for a registered type: its coder's bytes, decoded by the coder."""

    def reduce(obj):
        t = type(obj)
        if t in _encoding.active:
            # The coder itself pickles the value (PickleCoder and the like): the default pickle.
            return obj.__reduce_ex__(4)
        _encoding.active.add(t)
        try:
            data = coder.encode(obj)
        finally:
            _encoding.active.discard(t)
        return (_decode_registered, (coder, data))

    return reduce


class CoderRegistry:
    """Coders by type hint: the built-in types, composites of them, custom types."""

    def __init__(self, fallback_coder=None):
        self._coders = {}
        self.custom_types = []
        self._fallback_coder = fallback_coder
        self.register_standard_coders(fallback_coder)

    def register_standard_coders(self, fallback_coder):
        self._coders[int] = coders.VarIntCoder
        self._coders[float] = coders.FloatCoder
        self._coders[bytes] = coders.BytesCoder
        self._coders[bool] = coders.BooleanCoder
        self._coders[str] = coders.StrUtf8Coder
        self._coders[typehints.TupleConstraint] = coders.TupleCoder
        self._coders[typehints.DictConstraint] = coders.MapCoder
        self._fallback_coder = fallback_coder

    def register_fallback_coder(self, fallback_coder):
        self._fallback_coder = fallback_coder

    def register_coder(self, typehint_type, typehint_coder_class):
        """Encodes values of ``typehint_type`` with ``typehint_coder_class``."""
        if not isinstance(typehint_coder_class, type):
            raise TypeError("Coder registration requires a coder class object. Received %r instead."
                            % typehint_coder_class)
        if typehint_type not in self.custom_types:
            self.custom_types.append(typehint_type)
        self._coders[typehint_type] = typehint_coder_class
        if isinstance(typehint_type, type) and typehint_type not in (int, float, bytes, bool, str, type(None), tuple,
                                                                     list, dict, set, frozenset):
            coder = typehint_coder_class.from_type_hint(typehint_type, self)
            if isinstance(coder, (coders.PickleCoder, coders.FastPrimitivesCoder)):
                copyreg.dispatch_table.pop(typehint_type, None)
            else:
                copyreg.dispatch_table[typehint_type] = _reducer(coder)

    def register_row(self, typehint_type):
        """Encodes a NamedTuple or dataclass type with ``RowCoder``."""
        from beamline.coders.row_coder import RowCoder

        self.register_coder(typehint_type, RowCoder)
        return typehint_type

    def get_coder(self, typehint):
        """The coder of values of type ``typehint``."""
        hint = typehints.normalize(typehint)
        key = type(hint) if isinstance(hint, typehints.TypeConstraint) else hint
        try:
            coder = self._coders.get(key)
        except TypeError:
            coder = None
        if coder is not None:
            return coder.from_type_hint(hint, self)
        if isinstance(hint, typehints.IterableTypeConstraint):
            return coders.IterableCoder.from_type_hint(hint, self)
        if isinstance(hint, typehints.ListConstraint):
            return coders.ListCoder.from_type_hint(hint, self)
        if isinstance(hint, typehints.UnionConstraint) and type(None) in hint.union_types:
            return coders.NullableCoder.from_type_hint(hint, self)
        if self._fallback_coder is not None:
            return self._fallback_coder.from_type_hint(hint, self)
        return coders.FastPrimitivesCoder()

    def verify_deterministic(self, key_coder, op_name, silent=True):
        if not key_coder.is_deterministic():
            error_msg = ('The key coder "%s" for %s is not deterministic. This may result in incorrect pipeline '
                         'output. This can be fixed by adding a type hint to the operation preceding the GroupByKey '
                         'step, and for custom key classes, by writing a deterministic custom Coder. Please see the '
                         'documentation for more details.' % (key_coder, op_name))
            return key_coder.as_deterministic_coder(op_name, error_msg)
        return key_coder

    def get_custom_type_coder_tuples(self, types=None):
        return [(t, self._coders[t]) for t in self.custom_types if types is None or t in types]

    def load_custom_type_coder_tuples(self, type_coder):
        for t, c in type_coder:
            self.register_coder(t, c)


registry = CoderRegistry()
