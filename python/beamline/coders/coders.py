"""Beam's coders with Beam's byte encodings: ``VarIntCoder().encode(300)`` is
``b'\\xac\\x02'`` here as in Beam, so data written by one reads in the other.

A coder turns a value into bytes and back. ``encode``/``decode`` work in the
*outer* context (the value is all the bytes); a coder inside another one
(a ``TupleCoder`` component, an ``IterableCoder`` element) writes in the
*nested* context, where variable-length values carry their length. A custom
coder subclasses ``Coder`` and defines ``encode``, ``decode`` and
``is_deterministic``; nested, its bytes are length-prefixed, as in Beam.
"""

import pickle
import struct

__all__ = [
    "Coder", "BytesCoder", "StrUtf8Coder", "VarIntCoder", "FloatCoder", "BooleanCoder", "PickleCoder",
    "CloudpickleCoder", "DillCoder", "FastPrimitivesCoder", "TupleCoder", "IterableCoder", "ListCoder", "NullableCoder",
    "SingletonCoder", "MapCoder", "DeterministicMapCoder", "SinglePrecisionFloatCoder", "ByteCoder", "BigIntegerCoder",
    "DecimalCoder", "TimestampCoder", "TupleSequenceCoder",
]


# Streams.

class _Out:
    __slots__ = ("buf",)

    def __init__(self):
        self.buf = bytearray()

    def byte(self, b):
        self.buf.append(b)

    def var_int64(self, v):
        if v < 0:
            v += 1 << 64
            if v < 0:
                raise OverflowError("%d does not fit a 64-bit VarInt" % (v - (1 << 64)))
        elif v >= 1 << 64:
            raise OverflowError("%d does not fit a 64-bit VarInt" % v)
        while True:
            bits = v & 0x7F
            v >>= 7
            if v:
                self.buf.append(bits | 0x80)
            else:
                self.buf.append(bits)
                return

    def bytes(self, b, nested):
        if nested:
            self.var_int64(len(b))
        self.buf += b

    def bigendian_int32(self, v):
        self.buf += struct.pack(">i", v)

    def bigendian_double(self, v):
        self.buf += struct.pack(">d", v)


class _In:
    __slots__ = ("data", "pos")

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def byte(self):
        if self.pos >= len(self.data):
            raise ValueError("unexpected end of encoded data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def var_int64(self):
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
            if shift > 70:
                raise ValueError("VarLong too long")
        result &= (1 << 64) - 1
        return result - (1 << 64) if result >= 1 << 63 else result

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("unexpected end of encoded data")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def bytes(self, nested):
        if nested:
            return self.take(self.var_int64())
        return self.take(len(self.data) - self.pos)

    def bigendian_int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def bigendian_double(self):
        return struct.unpack(">d", self.take(8))[0]

    def at_end(self):
        return self.pos >= len(self.data)


class _Impl:
    """What Beam's ``coder.get_impl()`` gives: nested and outer encodings."""

    def __init__(self, coder):
        self._coder = coder

    def encode(self, value):
        return self._coder.encode(value)

    def decode(self, encoded):
        return self._coder.decode(encoded)

    def encode_nested(self, value):
        out = _Out()
        self._coder._encode_to(value, out, True)
        return bytes(out.buf)

    def decode_nested(self, encoded):
        return self._coder._decode_from(_In(encoded), True)

    def estimate_size(self, value, nested=False):
        out = _Out()
        self._coder._encode_to(value, out, nested)
        return len(out.buf)


class Coder:
    """Base class of coders: ``encode(value) -> bytes``, ``decode(bytes)``,
    ``is_deterministic()`` (whether equal values always give equal bytes, as a
    grouping key needs)."""

    def encode(self, value):
        out = _Out()
        self._encode_to(value, out, False)
        return bytes(out.buf)

    def decode(self, encoded):
        inp = _In(encoded)
        value = self._decode_from(inp, False)
        return value

    # The nested/outer machinery. A subclass that defines only encode/decode
    # (any user coder) is length-prefixed when nested, as Beam's callback coders are.
    def _encode_to(self, value, out, nested):
        if type(self).encode is Coder.encode:
            raise NotImplementedError("%s must define encode" % type(self).__name__)
        out.bytes(self.encode(value), nested)

    def _decode_from(self, inp, nested):
        if type(self).decode is Coder.decode:
            raise NotImplementedError("%s must define decode" % type(self).__name__)
        return self.decode(inp.bytes(nested))

    def is_deterministic(self):
        """Whether this coder always encodes equal values to equal bytes."""
        return False

    def as_deterministic_coder(self, step_label, error_message=None):
        """This coder if deterministic; else a ValueError, as Beam raises."""
        if self.is_deterministic():
            return self
        raise ValueError(error_message or "%s cannot be made deterministic for '%s'." % (self, step_label))

    def estimate_size(self, value):
        return len(self.encode(value))

    def get_impl(self):
        return _Impl(self)

    def is_kv_coder(self):
        return False

    def key_coder(self):
        if self.is_kv_coder():
            raise NotImplementedError("key_coder: %s" % self)
        raise ValueError("Not a KV coder: %s." % self)

    def value_coder(self):
        if self.is_kv_coder():
            raise NotImplementedError("value_coder: %s" % self)
        raise ValueError("Not a KV coder: %s." % self)

    def _get_component_coders(self):
        return []

    @classmethod
    def from_type_hint(cls, unused_typehint, unused_registry):
        return cls()

    def to_type_hint(self):
        raise NotImplementedError("BEAM-2717: %s.to_type_hint" % type(self).__name__)

    def __repr__(self):
        return type(self).__name__

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(type(self))


class BytesCoder(Coder):
    """``bytes`` as themselves (length-prefixed when nested)."""

    def _encode_to(self, value, out, nested):
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError("BytesCoder encodes bytes, got %r of type %s" % (value, type(value).__name__))
        out.bytes(value, nested)

    def _decode_from(self, inp, nested):
        return inp.bytes(nested)

    def is_deterministic(self):
        return True

    def to_type_hint(self):
        return bytes


class StrUtf8Coder(Coder):
    """``str`` as UTF-8 (length-prefixed when nested)."""

    def _encode_to(self, value, out, nested):
        out.bytes(value.encode("utf-8"), nested)

    def _decode_from(self, inp, nested):
        return inp.bytes(nested).decode("utf-8")

    def is_deterministic(self):
        return True

    def to_type_hint(self):
        return str


class VarIntCoder(Coder):
    """A 64-bit ``int`` as a variable-length integer (negative values take 10 bytes)."""

    def _encode_to(self, value, out, nested):
        out.var_int64(value)

    def _decode_from(self, inp, nested):
        return inp.var_int64()

    def is_deterministic(self):
        return True

    def to_type_hint(self):
        return int


class FloatCoder(Coder):
    """A ``float`` as a big-endian IEEE-754 double."""

    def _encode_to(self, value, out, nested):
        out.bigendian_double(value)

    def _decode_from(self, inp, nested):
        return inp.bigendian_double()

    def is_deterministic(self):
        return True

    def to_type_hint(self):
        return float


class BooleanCoder(Coder):
    """A ``bool`` as one byte."""

    def _encode_to(self, value, out, nested):
        out.byte(1 if value else 0)

    def _decode_from(self, inp, nested):
        b = inp.byte()
        if b not in (0, 1):
            raise ValueError("Expected 0 or 1, got %d" % b)
        return b == 1

    def is_deterministic(self):
        return True

    def to_type_hint(self):
        return bool


class SingletonCoder(Coder):
    """Always the same value, in no bytes."""

    def __init__(self, value):
        self._value = value

    def _encode_to(self, value, out, nested):
        pass

    def _decode_from(self, inp, nested):
        return self._value

    def is_deterministic(self):
        return True

    def __hash__(self):
        return hash(type(self))


class PickleCoder(Coder):
    """Any picklable value, as its pickle (not deterministic)."""

    def encode(self, value):
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    def decode(self, encoded):
        return pickle.loads(encoded)

    def as_deterministic_coder(self, step_label, error_message=None):
        return FastPrimitivesCoder(self, requires_deterministic=step_label)

    def to_type_hint(self):
        from beamline.typehints import Any

        return Any


class CloudpickleCoder(PickleCoder):
    """Any value cloudpickle can serialize (lambdas, local classes)."""

    def encode(self, value):
        import cloudpickle

        return cloudpickle.dumps(value, pickle.HIGHEST_PROTOCOL)


DillCoder = CloudpickleCoder

# FastPrimitivesCoder's type tags (Beam's coder_impl).
_NONE, _INT, _FLOAT, _BYTES, _UNICODE, _LIST, _TUPLE, _DICT, _SET, _BOOL, _UNKNOWN = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xFF


class FastPrimitivesCoder(Coder):
    """Beam's default coder: None, bool, int, float, bytes, str, and lists,
    tuples, dicts and sets of them with a type tag each; anything else through
    ``fallback_coder`` (pickle)."""

    def __init__(self, fallback_coder=None, requires_deterministic=None):
        self._fallback_coder = fallback_coder or PickleCoder()
        self._requires_deterministic = requires_deterministic

    def _encode_to(self, value, out, nested):
        t = type(value)
        if value is None:
            out.byte(_NONE)
        elif t is int:
            if -(1 << 63) <= value < (1 << 63):
                out.byte(_INT)
                out.var_int64(value)
            else:
                out.byte(_UNKNOWN)
                self._fallback_coder._encode_to(value, out, nested)
        elif t is float:
            out.byte(_FLOAT)
            out.bigendian_double(value)
        elif t is bytes:
            out.byte(_BYTES)
            out.bytes(value, nested)
        elif t is str:
            out.byte(_UNICODE)
            out.bytes(value.encode("utf-8"), nested)
        elif t is list or t is tuple:
            out.byte(_LIST if t is list else _TUPLE)
            out.var_int64(len(value))
            for e in value:
                self._encode_to(e, out, True)
        elif t is bool:
            out.byte(_BOOL)
            out.byte(1 if value else 0)
        elif t is dict:
            out.byte(_DICT)
            out.var_int64(len(value))
            items = value.items()
            if self._requires_deterministic is not None:
                try:
                    items = sorted(items)
                except Exception as e:
                    raise TypeError("Unable to deterministically order keys of dict for '%s'"
                                    % self._requires_deterministic) from e
            for k, v in items:
                self._encode_to(k, out, True)
                self._encode_to(v, out, True)
        elif t is set:
            out.byte(_SET)
            out.var_int64(len(value))
            items = value
            if self._requires_deterministic is not None:
                try:
                    items = sorted(items)
                except Exception as e:
                    raise TypeError("Unable to deterministically order element of set for '%s'"
                                    % self._requires_deterministic) from e
            for e in items:
                self._encode_to(e, out, True)
        elif self._requires_deterministic is not None:
            raise TypeError("Unable to deterministically encode '%s' of type '%s', please provide a type hint for the "
                            "input of '%s'" % (value, t, self._requires_deterministic))
        else:
            out.byte(_UNKNOWN)
            self._fallback_coder._encode_to(value, out, nested)

    def _decode_from(self, inp, nested):
        t = inp.byte()
        if t == _NONE:
            return None
        if t == _INT:
            return inp.var_int64()
        if t == _FLOAT:
            return inp.bigendian_double()
        if t == _BYTES:
            return inp.bytes(nested)
        if t == _UNICODE:
            return inp.bytes(nested).decode("utf-8")
        if t in (_LIST, _TUPLE, _SET):
            items = [self._decode_from(inp, True) for _ in range(inp.var_int64())]
            return items if t == _LIST else tuple(items) if t == _TUPLE else set(items)
        if t == _DICT:
            d = {}
            for _ in range(inp.var_int64()):
                k = self._decode_from(inp, True)
                d[k] = self._decode_from(inp, True)
            return d
        if t == _BOOL:
            return bool(inp.byte())
        if t == _UNKNOWN:
            return self._fallback_coder._decode_from(inp, nested)
        raise ValueError("Unknown type tag %x" % t)

    def is_deterministic(self):
        return self._requires_deterministic is not None

    def as_deterministic_coder(self, step_label, error_message=None):
        if self.is_deterministic():
            return self
        return FastPrimitivesCoder(self._fallback_coder, requires_deterministic=step_label)

    def to_type_hint(self):
        from beamline.typehints import Any

        return Any

    def __repr__(self):
        return "FastPrimitivesCoder"

    def __eq__(self, other):
        return type(self) is type(other) and self._fallback_coder == other._fallback_coder

    def __hash__(self):
        return hash(type(self))


class TupleCoder(Coder):
    """A fixed-length tuple, component by component (all nested but the last)."""

    def __init__(self, components):
        self._coders = tuple(components)
        if not all(isinstance(c, Coder) for c in self._coders):
            raise TypeError("TupleCoder takes coders, got %r" % (components,))

    def _encode_to(self, value, out, nested):
        if len(value) != len(self._coders):
            raise ValueError("%s expects %d components, got %r" % (self, len(self._coders), value))
        last = len(self._coders) - 1
        for i, (c, v) in enumerate(zip(self._coders, value)):
            c._encode_to(v, out, nested or i < last)

    def _decode_from(self, inp, nested):
        last = len(self._coders) - 1
        return tuple(c._decode_from(inp, nested or i < last) for i, c in enumerate(self._coders))

    def is_deterministic(self):
        return all(c.is_deterministic() for c in self._coders)

    def as_deterministic_coder(self, step_label, error_message=None):
        if self.is_deterministic():
            return self
        return TupleCoder([c.as_deterministic_coder(step_label, error_message) for c in self._coders])

    @classmethod
    def from_type_hint(cls, typehint, registry):
        return cls([registry.get_coder(t) for t in typehint.tuple_types])

    def to_type_hint(self):
        from beamline import typehints

        return typehints.Tuple[tuple(c.to_type_hint() for c in self._coders)]

    def coders(self):
        return self._coders

    def _get_component_coders(self):
        return list(self._coders)

    def is_kv_coder(self):
        return len(self._coders) == 2

    def key_coder(self):
        if len(self._coders) != 2:
            raise ValueError("TupleCoder does not have exactly 2 components.")
        return self._coders[0]

    def value_coder(self):
        if len(self._coders) != 2:
            raise ValueError("TupleCoder does not have exactly 2 components.")
        return self._coders[1]

    def __repr__(self):
        return "TupleCoder[%s]" % ", ".join(str(c) for c in self._coders)

    def __eq__(self, other):
        return type(self) is type(other) and self._coders == other._coders

    def __hash__(self):
        return hash(self._coders)


class IterableCoder(Coder):
    """An iterable: a big-endian 4-byte count, then each element nested. Decodes to a list."""

    _hint = "Iterable"

    def __init__(self, elem_coder):
        self._elem_coder = elem_coder

    def _encode_to(self, value, out, nested):
        if not hasattr(value, "__len__"):
            value = list(value)
        out.bigendian_int32(len(value))
        for e in value:
            self._elem_coder._encode_to(e, out, True)

    def _decode_from(self, inp, nested):
        n = inp.bigendian_int32()
        if n >= 0:
            return [self._elem_coder._decode_from(inp, True) for _ in range(n)]
        # Beam's form for iterables of unknown length: counted blocks, then 0.
        items = []
        while True:
            count = inp.var_int64()
            if count == 0:
                return items
            items.extend(self._elem_coder._decode_from(inp, True) for _ in range(count))

    def is_deterministic(self):
        return self._elem_coder.is_deterministic()

    def as_deterministic_coder(self, step_label, error_message=None):
        if self.is_deterministic():
            return self
        return type(self)(self._elem_coder.as_deterministic_coder(step_label, error_message))

    @classmethod
    def from_type_hint(cls, typehint, registry):
        return cls(registry.get_coder(typehint.inner_type))

    def to_type_hint(self):
        from beamline import typehints

        return getattr(typehints, self._hint)[self._elem_coder.to_type_hint()]

    def _get_component_coders(self):
        return [self._elem_coder]

    def __repr__(self):
        return "%s[%r]" % (type(self).__name__, self._elem_coder)

    def __eq__(self, other):
        return type(self) is type(other) and self._elem_coder == other._elem_coder

    def __hash__(self):
        return hash((type(self), self._elem_coder))


class ListCoder(IterableCoder):
    """A list, encoded as ``IterableCoder`` encodes it."""

    _hint = "List"


class NullableCoder(Coder):
    """``None`` as one 0 byte, any other value as 1 and the value's encoding."""

    def __init__(self, value_coder):
        self._value_coder = value_coder

    def _encode_to(self, value, out, nested):
        if value is None:
            out.byte(0)
        else:
            out.byte(1)
            self._value_coder._encode_to(value, out, nested)

    def _decode_from(self, inp, nested):
        b = inp.byte()
        if b == 0:
            return None
        if b == 1:
            return self._value_coder._decode_from(inp, nested)
        raise ValueError("Encountered unexpected value for null indicator: '%s'" % b)

    def is_deterministic(self):
        return self._value_coder.is_deterministic()

    def as_deterministic_coder(self, step_label, error_message=None):
        if self.is_deterministic():
            return self
        return NullableCoder(self._value_coder.as_deterministic_coder(step_label, error_message))

    @classmethod
    def from_type_hint(cls, typehint, registry):
        from beamline import typehints

        inner = [t for t in typehint.union_types if t is not type(None)]
        return cls(registry.get_coder(inner[0] if len(inner) == 1 else typehints.Union[tuple(inner)]))

    def to_type_hint(self):
        from beamline import typehints

        return typehints.Optional[self._value_coder.to_type_hint()]

    def _get_component_coders(self):
        return [self._value_coder]

    def __repr__(self):
        return "NullableCoder[%r]" % (self._value_coder,)

    def __eq__(self, other):
        return type(self) is type(other) and self._value_coder == other._value_coder

    def __hash__(self):
        return hash((type(self), self._value_coder))


class MapCoder(Coder):
    """A dict: a big-endian 4-byte count, then each key and value nested (not deterministic)."""

    def __init__(self, key_coder, value_coder):
        self._key_coder = key_coder
        self._value_coder = value_coder

    def _encode_to(self, value, out, nested):
        out.bigendian_int32(len(value))
        for k, v in value.items():
            self._key_coder._encode_to(k, out, True)
            self._value_coder._encode_to(v, out, True)

    def _decode_from(self, inp, nested):
        d = {}
        for _ in range(inp.bigendian_int32()):
            k = self._key_coder._decode_from(inp, True)
            d[k] = self._value_coder._decode_from(inp, True)
        return d

    @classmethod
    def from_type_hint(cls, typehint, registry):
        return cls(registry.get_coder(typehint.key_type), registry.get_coder(typehint.value_type))

    def as_deterministic_coder(self, step_label, error_message=None):
        return DeterministicMapCoder(self._key_coder.as_deterministic_coder(step_label, error_message),
                                     self._value_coder.as_deterministic_coder(step_label, error_message))

    def to_type_hint(self):
        from beamline import typehints

        return typehints.Dict[self._key_coder.to_type_hint(), self._value_coder.to_type_hint()]

    def _get_component_coders(self):
        return [self._key_coder, self._value_coder]

    def __repr__(self):
        return "MapCoder[%r, %r]" % (self._key_coder, self._value_coder)

    def __eq__(self, other):
        return (type(self) is type(other) and self._key_coder == other._key_coder
                and self._value_coder == other._value_coder)

    def __hash__(self):
        return hash((type(self), self._key_coder, self._value_coder))


class DeterministicMapCoder(MapCoder):
    """A dict with its items in the order of their encoded keys (so equal dicts encode equally)."""

    def _encode_to(self, value, out, nested):
        items = []
        for k, v in value.items():
            key_out = _Out()
            self._key_coder._encode_to(k, key_out, True)
            items.append((bytes(key_out.buf), v))
        items.sort(key=lambda kv: kv[0])
        out.bigendian_int32(len(items))
        for key_bytes, v in items:
            out.buf += key_bytes
            self._value_coder._encode_to(v, out, True)

    def is_deterministic(self):
        return True

    def __repr__(self):
        return "DeterministicMapCoder[%r, %r]" % (self._key_coder, self._value_coder)


class SinglePrecisionFloatCoder(Coder):
    """A ``float`` as a big-endian IEEE-754 single (rounded to 32 bits)."""

    def _encode_to(self, value, out, nested):
        out.buf += struct.pack(">f", value)

    def _decode_from(self, inp, nested):
        return struct.unpack(">f", inp.take(4))[0]

    def is_deterministic(self):
        return True

    def to_type_hint(self):
        return float


class ByteCoder(Coder):
    """An int in [0, 256) as one byte."""

    def _encode_to(self, value, out, nested):
        out.byte(value)

    def _decode_from(self, inp, nested):
        return inp.byte()

    def is_deterministic(self):
        return True

    def to_type_hint(self):
        return int


def _big_int_bytes(value):
    """The shortest big-endian two's complement bytes of ``value``."""
    n = (value + (value < 0)).bit_length() // 8 + 1
    return value.to_bytes(n, "big", signed=True)


class BigIntegerCoder(Coder):
    """An int of any size, as its big-endian two's complement bytes (length-prefixed when nested)."""

    def _encode_to(self, value, out, nested):
        out.bytes(_big_int_bytes(value), nested)

    def _decode_from(self, inp, nested):
        return int.from_bytes(inp.bytes(nested), "big", signed=True)

    def is_deterministic(self):
        return True

    def to_type_hint(self):
        return int


class DecimalCoder(Coder):
    """A ``decimal.Decimal``: its scale as a VarInt, then its unscaled value as ``BigIntegerCoder`` writes it."""

    def _encode_to(self, value, out, nested):
        sign, digits, exponent = value.as_tuple()
        unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        scale = -exponent
        if scale < 0:
            unscaled *= 10 ** (-scale)
            scale = 0
        out.var_int64(scale)
        out.bytes(_big_int_bytes(unscaled), nested)

    def _decode_from(self, inp, nested):
        import decimal

        scale = inp.var_int64()
        unscaled = int.from_bytes(inp.bytes(nested), "big", signed=True)
        return decimal.Decimal(unscaled).scaleb(-scale)

    def is_deterministic(self):
        return True


class TimestampCoder(Coder):
    """A ``Timestamp`` at millisecond precision: big-endian 64 bits, sign bit flipped (Beam's)."""

    def _encode_to(self, value, out, nested):
        millis = value.micros // 1000
        out.buf += struct.pack(">Q", (millis + (1 << 63)) & ((1 << 64) - 1))

    def _decode_from(self, inp, nested):
        from beamline.utils.timestamp import Timestamp

        millis = struct.unpack(">Q", inp.take(8))[0] - (1 << 63)
        return Timestamp(micros=millis * 1000)

    def is_deterministic(self):
        return True


class TupleSequenceCoder(Coder):
    """A tuple of any length, encoded as ``IterableCoder`` encodes it; decodes to a tuple."""

    def __init__(self, elem_coder):
        self._elem_coder = elem_coder
        self._iterable = IterableCoder(elem_coder)

    def _encode_to(self, value, out, nested):
        self._iterable._encode_to(value, out, nested)

    def _decode_from(self, inp, nested):
        return tuple(self._iterable._decode_from(inp, nested))

    def is_deterministic(self):
        return self._elem_coder.is_deterministic()

    def __repr__(self):
        return "TupleSequenceCoder[%r]" % (self._elem_coder,)

    def __eq__(self, other):
        return type(self) is type(other) and self._elem_coder == other._elem_coder

    def __hash__(self):
        return hash((type(self), self._elem_coder))
