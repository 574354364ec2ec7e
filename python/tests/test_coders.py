"""``beam.coders``: Beam's byte encodings, the registry, custom coders used
where elements are encoded, and the refusal of a non-deterministic key coder."""

import re
import typing

import pytest

from .compat import assert_that, beam, equal_to

coders = beam.coders
typehints = beam.typehints


# Encodings, as Apache Beam writes them.
@pytest.mark.parametrize("coder, value, encoded", [
    (coders.VarIntCoder(), 0, b"\x00"),
    (coders.VarIntCoder(), 300, b"\xac\x02"),
    (coders.VarIntCoder(), -1, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    (coders.StrUtf8Coder(), "h\u00e9llo", b"h\xc3\xa9llo"),
    (coders.BytesCoder(), b"ab", b"ab"),
    (coders.FloatCoder(), 1.5, b"?\xf8\x00\x00\x00\x00\x00\x00"),
    (coders.BooleanCoder(), True, b"\x01"),
    (coders.BooleanCoder(), False, b"\x00"),
    (coders.TupleCoder([coders.VarIntCoder(), coders.StrUtf8Coder()]), (1, "ab"), b"\x01ab"),
    (coders.TupleCoder([coders.StrUtf8Coder(), coders.StrUtf8Coder()]), ("a", "bc"), b"\x01abc"),
    (coders.IterableCoder(coders.VarIntCoder()), [1, 2], b"\x00\x00\x00\x02\x01\x02"),
    (coders.ListCoder(coders.StrUtf8Coder()), ["a", "bc"], b"\x00\x00\x00\x02\x01a\x02bc"),
    (coders.NullableCoder(coders.VarIntCoder()), None, b"\x00"),
    (coders.NullableCoder(coders.VarIntCoder()), 5, b"\x01\x05"),
    (coders.FastPrimitivesCoder(), None, b"\x00"),
    (coders.FastPrimitivesCoder(), 5, b"\x01\x05"),
    (coders.FastPrimitivesCoder(), "ab", b"\x04ab"),
    (coders.FastPrimitivesCoder(), (1, "a"), b"\x06\x02\x01\x01\x04\x01a"),
    (coders.FastPrimitivesCoder(), [1, 2.5], b"\x05\x02\x01\x01\x02@\x04\x00\x00\x00\x00\x00\x00"),
    (coders.FastPrimitivesCoder(), {"a": 1}, b"\x07\x01\x04\x01a\x01\x01"),
    (coders.FastPrimitivesCoder(), True, b"\t\x01"),
    (coders.FastPrimitivesCoder(), b"x", b"\x03x"),
    (coders.PickleCoder(), 5, b"\x80\x05K\x05."),
], ids=lambda x: repr(x)[:40])
def test_encodings_are_beams(coder, value, encoded):
    assert coder.encode(value) == encoded
    assert coder.decode(encoded) == value


def test_large_ints_fall_back_to_pickle_in_fast_primitives():
    c = coders.FastPrimitivesCoder()
    assert c.encode(2 ** 70)[:1] == b"\xff"
    assert c.decode(c.encode(2 ** 70)) == 2 ** 70


def test_determinism():
    assert coders.VarIntCoder().is_deterministic()
    assert coders.StrUtf8Coder().is_deterministic()
    assert coders.TupleCoder([coders.VarIntCoder(), coders.BytesCoder()]).is_deterministic()
    assert not coders.PickleCoder().is_deterministic()
    assert not coders.FastPrimitivesCoder().is_deterministic()
    assert not coders.TupleCoder([coders.VarIntCoder(), coders.PickleCoder()]).is_deterministic()
    # Beam's default coder has a deterministic form for GroupByKey keys.
    assert coders.FastPrimitivesCoder().as_deterministic_coder("step").is_deterministic()


def test_coder_reprs_and_equality():
    assert repr(coders.VarIntCoder()) == "VarIntCoder"
    assert repr(coders.TupleCoder([coders.VarIntCoder(), coders.StrUtf8Coder()])) == \
        "TupleCoder[VarIntCoder, StrUtf8Coder]"
    assert repr(coders.IterableCoder(coders.VarIntCoder())) == "IterableCoder[VarIntCoder]"
    assert repr(coders.NullableCoder(coders.VarIntCoder())) == "NullableCoder[VarIntCoder]"
    assert coders.VarIntCoder() == coders.VarIntCoder()
    assert coders.VarIntCoder() != coders.StrUtf8Coder()
    kv = coders.TupleCoder([coders.StrUtf8Coder(), coders.VarIntCoder()])
    assert kv.is_kv_coder() and kv.key_coder() == coders.StrUtf8Coder() and kv.value_coder() == coders.VarIntCoder()


@pytest.mark.parametrize("hint, coder", [
    (int, "VarIntCoder"), (str, "StrUtf8Coder"), (float, "FloatCoder"), (bytes, "BytesCoder"),
    (bool, "BooleanCoder"), (object, "FastPrimitivesCoder"),
    (typehints.Tuple[int, str], "TupleCoder[VarIntCoder, StrUtf8Coder]"),
    (typehints.KV[str, float], "TupleCoder[StrUtf8Coder, FloatCoder]"),
    (typehints.List[int], "ListCoder[VarIntCoder]"),
    (typehints.Iterable[int], "IterableCoder[VarIntCoder]"),
    (typehints.Optional[int], "NullableCoder[VarIntCoder]"),
    (typehints.Dict[str, int], "MapCoder[StrUtf8Coder, VarIntCoder]"),
    (typehints.Any, "FastPrimitivesCoder"),
    (typehints.Union[int, str], "FastPrimitivesCoder"),
])
def test_registry_chooses_coders_from_type_hints(hint, coder):
    assert repr(coders.registry.get_coder(hint)) == coder


def test_register_coder_takes_a_class():
    with pytest.raises(TypeError, match="Coder registration requires a coder class object"):
        coders.registry.register_coder(Point, PointCoder())


class Purchase(typing.NamedTuple):
    item: str
    price: float
    qty: typing.Optional[int]
    tags: typing.List[str]


def test_row_coder_encodes_as_beam():
    coders.registry.register_coder(Purchase, coders.RowCoder)
    c = coders.registry.get_coder(Purchase)
    assert c.is_deterministic()
    cases = [
        (Purchase("apple", 1.5, 3, ["a"]), b"\x04\x00\x05apple?\xf8\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x01\x01a"),
        (Purchase("pear", 2.0, None, []), b"\x04\x01\x04\x04pear@\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
    ]
    for value, encoded in cases:
        assert c.encode(value) == encoded
        decoded = c.decode(encoded)
        assert decoded == value and type(decoded) is Purchase
    assert repr(coders.registry.get_coder(typehints.KV[str, Purchase])) == "TupleCoder[StrUtf8Coder, RowCoder]"


# A custom coder, used wherever elements are encoded.

class Point:
    """A value that refuses pickle: it can only travel through PointCoder."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):
        return "Point(%r, %r)" % (self.x, self.y)

    def __reduce__(self):
        raise TypeError("Point must be encoded by PointCoder, not pickled")


class PointCoder(coders.Coder):
    def encode(self, p):
        return ("%d,%d" % (p.x, p.y)).encode("ascii")

    def decode(self, b):
        x, y = b.decode("ascii").split(",")
        return Point(int(x), int(y))

    def is_deterministic(self):
        return True


class UnorderedPoint:
    def __init__(self, x):
        self.x = x


class UnorderedPointCoder(coders.Coder):
    def encode(self, p):
        return str(p.x).encode()

    def decode(self, b):
        return UnorderedPoint(int(b))

    def is_deterministic(self):
        return False


coders.registry.register_coder(Point, PointCoder)
coders.registry.register_coder(UnorderedPoint, UnorderedPointCoder)


def test_custom_coder_round_trips_and_nests():
    assert coders.registry.get_coder(Point) == PointCoder()
    c = coders.TupleCoder([PointCoder(), coders.VarIntCoder()])
    # A custom coder inside another one is length-prefixed, as in Beam.
    assert c.encode((Point(1, 2), 7)) == b"\x031,2\x07"
    assert c.decode(b"\x031,2\x07") == (Point(1, 2), 7)


def test_custom_coder_encodes_elements_through_a_shuffle(pipeline):
    # Point refuses pickle, so the pipeline only runs if PointCoder carries it.
    with pipeline() as p:
        points = (p
                  | beam.Create([Point(1, 2), Point(3, 4), Point(1, 5)]).with_output_types(Point)
                  | "Key" >> beam.Map(lambda pt: (pt.x, pt)).with_output_types(typehints.KV[int, Point])
                  | beam.GroupByKey()
                  | beam.MapTuple(lambda x, pts: (x, sorted(pt.y for pt in pts))))
        assert_that(points, equal_to([(1, [2, 5]), (3, [4])]))


def test_custom_coder_for_keys(pipeline):
    with pipeline() as p:
        counts = (p
                  | beam.Create([Point(1, 2), Point(1, 2), Point(3, 4)]).with_output_types(Point)
                  | beam.Map(lambda pt: (pt, 1)).with_output_types(typehints.KV[Point, int])
                  | beam.CombinePerKey(sum)
                  | beam.MapTuple(lambda pt, n: ((pt.x, pt.y), n)))
        assert_that(counts, equal_to([((1, 2), 2), ((3, 4), 1)]))


def test_non_deterministic_key_coder_is_refused(pipeline):
    with pytest.raises(ValueError, match=r"UnorderedPointCoder cannot be made deterministic for 'Group'"):
        with pipeline() as p:
            (p
             | beam.Create([1, 2])
             | beam.Map(lambda x: (UnorderedPoint(x), x)).with_output_types(typehints.KV[UnorderedPoint, int])
             | "Group" >> beam.GroupByKey())


def test_non_deterministic_value_coder_is_accepted(pipeline):
    with pipeline() as p:
        out = (p
               | beam.Create([1, 2])
               | beam.Map(lambda x: ("k", UnorderedPoint(x))).with_output_types(typehints.KV[str, UnorderedPoint])
               | beam.GroupByKey()
               | beam.MapTuple(lambda k, ps: (k, sorted(pt.x for pt in ps))))
        assert_that(out, equal_to([("k", [1, 2])]))


@pytest.mark.parametrize("grouping, step", [
    (lambda pc: pc | "C" >> beam.CombinePerKey(sum), "C/GroupByKey"),
    (lambda pc: (pc, pc | "Again" >> beam.Map(lambda kv: kv).with_output_types(typehints.KV[UnorderedPoint, int]))
     | "J" >> beam.CoGroupByKey(), "J/CoGroupByKeyImpl/GroupByKey"),
    (lambda pc: pc | "K" >> beam.Keys().with_output_types(UnorderedPoint) | "N" >> beam.combiners.Count.PerElement(),
     "N/CombinePerKey(CountCombineFn)/GroupByKey"),
    (lambda pc: pc | "K" >> beam.Keys().with_output_types(UnorderedPoint) | "D" >> beam.Distinct(), "D/Group/GroupByKey"),
], ids=["CombinePerKey", "CoGroupByKey", "Count.PerElement", "Distinct"])
def test_every_grouping_refuses_a_non_deterministic_key_coder(pipeline, grouping, step):
    with pytest.raises(ValueError, match=re.escape("UnorderedPointCoder cannot be made deterministic for '%s'." % step)):
        with pipeline() as p:
            grouping(p
                     | beam.Create([1, 2])
                     | beam.Map(lambda x: (UnorderedPoint(x), x)).with_output_types(typehints.KV[UnorderedPoint, int]))


def test_dict_key_coder_has_a_deterministic_form(pipeline):
    c = coders.registry.get_coder(typehints.Dict[str, int]).as_deterministic_coder("step")
    assert c.is_deterministic()
    assert c.encode({"b": 1, "a": 2}) == c.encode({"a": 2, "b": 1})
    assert c.decode(c.encode({"b": 1, "a": 2})) == {"a": 2, "b": 1}
    with pipeline() as p:
        out = (p
               | beam.Create([1, 2])
               | beam.Map(lambda x: ({"k": x % 1}, x)).with_output_types(typehints.KV[typehints.Dict[str, int], int])
               | beam.GroupByKey()
               | beam.MapTuple(lambda k, vs: (sorted(k.items()), sorted(vs))))
        assert_that(out, equal_to([([("k", 0)], [1, 2])]))


def test_more_standard_coders_encode_as_beam():
    import decimal

    from .compat import timestamp

    Timestamp = timestamp.Timestamp
    cases = [
        (coders.SinglePrecisionFloatCoder(), 1.5, b"?\xc0\x00\x00", 1.5),
        (coders.ByteCoder(), 7, b"\x07", 7),
        (coders.BigIntegerCoder(), 2 ** 70, b"@" + b"\x00" * 8, 2 ** 70),
        (coders.BigIntegerCoder(), -5, b"\xfb", -5),
        (coders.BigIntegerCoder(), 255, b"\x00\xff", 255),
        (coders.DecimalCoder(), decimal.Decimal("1.25"), b"\x02}", decimal.Decimal("1.25")),
        (coders.DecimalCoder(), decimal.Decimal("-100"), b"\x00\x9c", decimal.Decimal("-100")),
        # Milliseconds, the sign bit flipped: 1500 microseconds read back as 1000.
        (coders.TimestampCoder(), Timestamp(micros=1500), b"\x80" + b"\x00" * 6 + b"\x01", Timestamp(micros=1000)),
        (coders.TimestampCoder(), Timestamp(micros=-1), b"\x7f" + b"\xff" * 7, Timestamp(micros=-1000)),
        (coders.TupleSequenceCoder(coders.VarIntCoder()), (1, 2, 3), b"\x00\x00\x00\x03\x01\x02\x03", (1, 2, 3)),
    ]
    for coder, value, encoded, decoded in cases:
        assert coder.encode(value) == encoded, coder
        assert coder.decode(encoded) == decoded, coder
        assert coder.is_deterministic()
    # Nested, a BigInteger is length-prefixed.
    assert coders.TupleCoder([coders.BigIntegerCoder(), coders.VarIntCoder()]).encode((255, 1)) == b"\x02\x00\xff\x01"
