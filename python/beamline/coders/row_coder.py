"""``RowCoder``: a ``typing.NamedTuple`` (or dataclass) by its fields, in
Beam's row encoding (field count, null bitmap, then each non-null field)."""

import dataclasses
import typing

from beamline.coders import coders
from beamline.typehints import typehints

__all__ = ["RowCoder"]


def _fields(t):
    """``[(name, hint)]`` of a NamedTuple or dataclass type, or None."""
    if isinstance(t, type) and issubclass(t, tuple) and hasattr(t, "_fields"):
        hints = typing.get_type_hints(t) if getattr(t, "__annotations__", None) else {}
        return [(f, hints.get(f, typehints.Any)) for f in t._fields]
    if dataclasses.is_dataclass(t) and isinstance(t, type):
        hints = typing.get_type_hints(t)
        return [(f.name, hints.get(f.name, typehints.Any)) for f in dataclasses.fields(t)]
    return None


def _field_coder(hint):
    """``(coder of the non-null value, nullable)``."""
    from beamline.coders.typecoders import registry

    h = typehints.normalize(hint)
    if isinstance(h, typehints.UnionConstraint) and type(None) in h.union_types:
        rest = [t for t in h.union_types if t is not type(None)]
        inner = rest[0] if len(rest) == 1 else typehints.Union[rest]
        return _field_coder(inner)[0], True
    if _fields(h) is not None:
        return RowCoder(h), False
    if isinstance(h, (typehints.ListConstraint, typehints.IterableTypeConstraint, typehints.SequenceTypeConstraint,
                      typehints.CollectionTypeConstraint)):
        return coders.IterableCoder(_field_coder(h.inner_type)[0]), False
    if isinstance(h, typehints.DictConstraint):
        return coders.MapCoder(_field_coder(h.key_type)[0], _field_coder(h.value_type)[0]), False
    if h in (int, float, str, bytes, bool):
        return registry.get_coder(h), False
    raise ValueError("RowCoder cannot encode a field of type %r: use int, float, str, bytes, bool, Optional, "
                     "List, Dict or another NamedTuple" % (hint,))


class RowCoder(coders.Coder):
    """A NamedTuple or dataclass, field by field (Beam's ``beam:coder:row:v1``):
    ``coders.registry.register_coder(Purchase, coders.RowCoder)``."""

    def __init__(self, schema, force_deterministic=False):
        fields = _fields(schema)
        if fields is None:
            raise TypeError("RowCoder takes a typing.NamedTuple or dataclass type (its schema), got %r" % (schema,))
        self.schema = schema
        self._names = [n for n, _ in fields]
        coded = [_field_coder(h) for _, h in fields]
        self.components = [c for c, _ in coded]
        if force_deterministic:
            self.components = [c.as_deterministic_coder(force_deterministic) for c in self.components]
        self._nullable = [n for _, n in coded]
        self.forced_deterministic = bool(force_deterministic)

    def _encode_to(self, value, out, nested):
        n = len(self._names)
        out.var_int64(n)
        attrs = [getattr(value, name) for name in self._names]
        if any(a is None for a in attrs):
            out.var_int64((n + 7) // 8)
            running = 0
            for i, a in enumerate(attrs):
                if i and i % 8 == 0:
                    out.byte(running)
                    running = 0
                running |= (a is None) << (i % 8)
            out.byte(running)
        else:
            out.byte(0)
        for i, a in enumerate(attrs):
            if a is None:
                if not self._nullable[i]:
                    raise ValueError('Attempted to encode null for non-nullable field "%s".' % self._names[i])
                continue
            self.components[i]._encode_to(a, out, True)

    def _decode_from(self, inp, nested):
        nvals = inp.var_int64()
        mask_len = inp.var_int64()
        mask = inp.take(mask_len) if mask_len else b""
        values = []
        for i in range(min(len(self._names), nvals)):
            if mask_len and i >> 3 < mask_len and mask[i >> 3] & (1 << (i & 7)):
                values.append(None)
            else:
                values.append(self.components[i]._decode_from(inp, True))
        values += [None] * (len(self._names) - len(values))
        return self.schema(*values)

    def is_deterministic(self):
        return all(c.is_deterministic() for c in self.components)

    def as_deterministic_coder(self, step_label, error_message=None):
        if self.is_deterministic():
            return self
        return RowCoder(self.schema, error_message or step_label)

    def to_type_hint(self):
        return self.schema

    @classmethod
    def from_type_hint(cls, type_hint, registry):
        return cls(type_hint)

    def __repr__(self):
        return "RowCoder"

    def __eq__(self, other):
        return type(self) is type(other) and self.schema is other.schema

    def __hash__(self):
        return hash((type(self), self.schema))
